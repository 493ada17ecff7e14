-- The inventory: stock, every movement of it, the record of each order
-- applied (the idempotency table shared by every channel), the webhook
-- inbox, API keys it accepts, the message log, its subscription to the
-- store's webhooks, and the poller's state.

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
    reason        TEXT NOT NULL,
    order_id      TEXT,
    at            BIGINT NOT NULL
);
CREATE INDEX stock_movements_by_order ON stock_movements (order_id);
CREATE INDEX stock_movements_by_at ON stock_movements (at);

-- One row per order id, whichever channel brought it first. Its primary key
-- is what makes "apply at most once" true across api, webhook and poll.
CREATE TABLE applied_orders (
    order_id         TEXT PRIMARY KEY,
    channel          TEXT NOT NULL,
    outcome          TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    items            TEXT NOT NULL,
    answer_status    BIGINT NOT NULL,
    answer           TEXT NOT NULL,
    order_created_at BIGINT,
    applied_at       BIGINT NOT NULL,
    voided_at        BIGINT
);
CREATE INDEX applied_orders_by_applied_at ON applied_orders (applied_at);

CREATE TABLE webhook_inbox (
    webhook_id  TEXT PRIMARY KEY,
    event_type  TEXT NOT NULL,
    order_id    TEXT,
    outcome     TEXT,
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

-- What crossed the wire, as the inventory saw it: requests it received
-- (direction 'in') and requests it made (direction 'out': polls, acks).
CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    direction       TEXT NOT NULL,
    channel         TEXT NOT NULL,
    method          TEXT NOT NULL,
    url             TEXT NOT NULL,
    request_headers TEXT NOT NULL,
    request_body    TEXT NOT NULL,
    response_status BIGINT,
    response_body   TEXT,
    error           TEXT,
    verdict         TEXT NOT NULL,
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
    paused      BIGINT NOT NULL DEFAULT 0,
    interval_ms BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
