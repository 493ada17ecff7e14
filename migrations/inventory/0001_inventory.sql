-- The inventory: stock, every movement of it, the record of each order
-- applied (the idempotency table shared by every channel), the webhook
-- inbox, API keys it accepts, the message log, its subscription to the
-- store's webhooks, and the poller's state.
--
-- Every column that holds one of a fixed set of words has a CHECK listing
-- exactly the words of its Rust enum (contract::vocabulary, or the enum
-- named beside it), so a typo in either is refused at the first insert.

CREATE TABLE stock (
    sku        TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    on_hand    BIGINT NOT NULL CHECK (on_hand >= 0),
    position   BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);

CREATE TABLE stock_movements (
    id            TEXT PRIMARY KEY,
    sku           TEXT NOT NULL,
    delta         BIGINT NOT NULL,
    on_hand_after BIGINT NOT NULL,
    -- inventory::stock::MovementReason
    reason        TEXT NOT NULL CHECK (reason IN ('order', 'void', 'restock')),
    order_id      TEXT,
    at            BIGINT NOT NULL
);
CREATE INDEX stock_movements_by_order ON stock_movements (order_id);
CREATE INDEX stock_movements_by_at ON stock_movements (at);

-- One row per order id, whichever channel brought it first. Its primary key
-- is what makes "apply at most once" true across api, webhook and poll.
CREATE TABLE applied_orders (
    order_id         TEXT PRIMARY KEY,
    -- IntegrationMode: the mode whose channel brought it first ('api' for
    -- a tombstone: a void is the api channel's compensation).
    channel          TEXT NOT NULL CHECK (channel IN ('webhook', 'api', 'poll')),
    -- ApplyOutcome
    outcome          TEXT NOT NULL CHECK (outcome IN ('applied', 'backordered', 'rejected', 'voided')),
    request_hash     TEXT NOT NULL,
    items            TEXT NOT NULL,
    answer_status    BIGINT NOT NULL,
    answer           TEXT NOT NULL,
    order_created_at BIGINT,
    applied_at       BIGINT NOT NULL,
    voided_at        BIGINT
);
CREATE INDEX applied_orders_by_applied_at ON applied_orders (applied_at);

-- Webhook messages received, by the sender's `webhook-id`. The event type
-- is the sender's word, unchecked: an unknown type is acknowledged and
-- remembered like any other.
CREATE TABLE webhook_inbox (
    webhook_id  TEXT PRIMARY KEY,
    event_type  TEXT NOT NULL,
    order_id    TEXT,
    -- ApplyOutcome (none for a ping or an unknown type)
    outcome     TEXT CHECK (outcome IN ('applied', 'backordered', 'rejected', 'voided')),
    received_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    key_hash   TEXT NOT NULL UNIQUE,
    label      TEXT NOT NULL,
    hint       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- What crossed the wire, as the inventory saw it: requests the store made
-- of it (initiator 'store') and requests it made of the store (initiator
-- 'inventory': polls, acks, its subscription), each with its verdict — the
-- kind in one column, the words for a person in the next.
CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    -- Party
    initiator       TEXT NOT NULL CHECK (initiator IN ('store', 'inventory')),
    -- Channel
    channel         TEXT NOT NULL CHECK (channel IN ('webhook', 'api', 'void', 'feed', 'ack', 'subscribe')),
    method          TEXT NOT NULL,
    url             TEXT NOT NULL,
    request_headers TEXT NOT NULL,
    request_body    TEXT NOT NULL,
    response_status BIGINT,
    response_body   TEXT,
    error           TEXT,
    -- VerdictKind
    verdict         TEXT NOT NULL CHECK (verdict IN ('applied', 'backordered', 'rejected', 'voided',
                        'duplicate', 'refused', 'verified', 'empty', 'nothing_new', 'acknowledged',
                        'subscribed', 'failed')),
    verdict_detail  TEXT,
    order_id        TEXT,
    latency_ms      BIGINT NOT NULL,
    at              BIGINT NOT NULL
);
CREATE INDEX messages_by_at ON messages (at);
CREATE INDEX messages_by_channel ON messages (channel, verdict);

-- The secrets the inventory verifies webhooks with (more than one while
-- the store rotates), and where it is subscribed.
CREATE TABLE webhook_secrets (
    secret      TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL,
    store_url   TEXT NOT NULL,
    added_at    BIGINT NOT NULL
);

CREATE TABLE poller_state (
    id          BIGINT PRIMARY KEY CHECK (id = 1),
    cursor      TEXT NOT NULL DEFAULT '',
    paused      BIGINT NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    interval_ms BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
