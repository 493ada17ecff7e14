-- no-transaction
-- The fourth mode, `hybrid` (a thin `order.notice` webhook, the order
-- fetched by API, a reconciliation read of the feed), adds words to four
-- CHECK lists: orders.mode, exchanges.channel and the event_type of
-- webhook_messages and webhook_deliveries.
--
-- SQLite only (PostgreSQL's twin is 0006_hybrid_mode.postgres.sql; the
-- suffix tells platform::db which backend runs which): SQLite cannot alter
-- a CHECK, so each table is rebuilt — renamed aside, created again with
-- the longer list, copied, and the old copy dropped. Foreign keys must be
-- off for that (and can only be switched outside a transaction, hence no
-- migration transaction and the explicit BEGIN/COMMIT), and
-- legacy_alter_table on, so that renaming a parent aside does not drag its
-- children's REFERENCES along with it.
PRAGMA foreign_keys = OFF;
PRAGMA legacy_alter_table = ON;
BEGIN;

ALTER TABLE orders RENAME TO orders_before_hybrid;
CREATE TABLE orders (
    id             TEXT PRIMARY KEY,
    feed_seq       BIGINT NOT NULL UNIQUE,
    status         TEXT NOT NULL
                   CHECK (status IN ('pending', 'confirmed', 'rejected', 'backordered')),
    mode           TEXT NOT NULL CHECK (mode IN ('webhook', 'api', 'poll', 'hybrid')),
    customer_name  TEXT NOT NULL,
    customer_email TEXT NOT NULL,
    total_cents    BIGINT NOT NULL CHECK (total_cents >= 0),
    status_reason  TEXT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    resolved_at    BIGINT
);
INSERT INTO orders SELECT * FROM orders_before_hybrid;
DROP TABLE orders_before_hybrid;
CREATE INDEX orders_by_created_at ON orders (created_at);
CREATE INDEX orders_by_status ON orders (status, mode);

ALTER TABLE exchanges RENAME TO exchanges_before_hybrid;
CREATE TABLE exchanges (
    id               TEXT PRIMARY KEY,
    channel          TEXT NOT NULL
                     CHECK (channel IN ('webhook', 'api', 'void', 'feed', 'ack', 'subscribe',
                                        'notify', 'fetch', 'reconcile')),
    initiator        TEXT NOT NULL CHECK (initiator IN ('store', 'inventory')),
    method           TEXT NOT NULL,
    url              TEXT NOT NULL,
    request_headers  TEXT NOT NULL,
    request_body     TEXT NOT NULL,
    response_status  BIGINT,
    response_headers TEXT,
    response_body    TEXT,
    error            TEXT,
    latency_ms       BIGINT NOT NULL,
    started_at       BIGINT NOT NULL,
    delivery_id      TEXT,
    attempt_no       BIGINT,
    trigger_kind     TEXT CHECK (trigger_kind IN ('scheduled', 'manual'))
);
INSERT INTO exchanges SELECT * FROM exchanges_before_hybrid;
DROP TABLE exchanges_before_hybrid;
CREATE INDEX exchanges_by_started_at ON exchanges (started_at);
CREATE INDEX exchanges_by_delivery ON exchanges (delivery_id);

ALTER TABLE webhook_messages RENAME TO webhook_messages_before_hybrid;
CREATE TABLE webhook_messages (
    id         TEXT PRIMARY KEY,
    event_type TEXT NOT NULL CHECK (event_type IN ('order.created', 'order.notice', 'ping')),
    order_id   TEXT,
    payload    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
INSERT INTO webhook_messages SELECT * FROM webhook_messages_before_hybrid;
DROP TABLE webhook_messages_before_hybrid;
CREATE INDEX webhook_messages_by_order ON webhook_messages (order_id);

ALTER TABLE webhook_deliveries RENAME TO webhook_deliveries_before_hybrid;
CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    message_id       TEXT NOT NULL REFERENCES webhook_messages (id),
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints (id),
    order_id         TEXT,
    event_type       TEXT NOT NULL CHECK (event_type IN ('order.created', 'order.notice', 'ping')),
    state            TEXT NOT NULL
                     CHECK (state IN ('pending', 'succeeded', 'failed', 'cancelled')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    failures         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    next_trigger     TEXT NOT NULL DEFAULT 'scheduled'
                     CHECK (next_trigger IN ('scheduled', 'manual')),
    lease_owner      TEXT,
    lease_expires_at BIGINT,
    last_status      BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    completed_at     BIGINT
);
INSERT INTO webhook_deliveries SELECT * FROM webhook_deliveries_before_hybrid;
DROP TABLE webhook_deliveries_before_hybrid;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_by_order ON webhook_deliveries (order_id);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id);

COMMIT;
PRAGMA legacy_alter_table = OFF;
PRAGMA foreign_keys = ON;
