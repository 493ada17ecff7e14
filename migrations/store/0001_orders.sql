-- The store: catalog, orders, the order feed's sequence, idempotency keys,
-- API keys it accepts, the log of every HTTP exchange with the inventory,
-- and the voids it still owes the inventory (api mode compensation).
-- Portable SQL: this one file runs on SQLite and on PostgreSQL (see
-- platform::db for the rules it keeps). Every enumerated column has a CHECK
-- listing exactly the words of its enum (contract::vocabulary and
-- store::vocabulary; a test in store::vocabulary keeps the two in step).

CREATE TABLE products (
    sku         TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    price_cents BIGINT NOT NULL CHECK (price_cents >= 0),
    position    BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One row whose lock orders commits: see store::integration::poll.
CREATE TABLE feed_sequence (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    last_value BIGINT NOT NULL
);
INSERT INTO feed_sequence (id, last_value) VALUES (1, 0);

CREATE TABLE orders (
    id             TEXT PRIMARY KEY,
    feed_seq       BIGINT NOT NULL UNIQUE,
    status         TEXT NOT NULL
                   CHECK (status IN ('pending', 'confirmed', 'rejected', 'backordered')),
    mode           TEXT NOT NULL CHECK (mode IN ('webhook', 'api', 'poll')),
    customer_name  TEXT NOT NULL,
    customer_email TEXT NOT NULL,
    total_cents    BIGINT NOT NULL CHECK (total_cents >= 0),
    status_reason  TEXT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    resolved_at    BIGINT
);
CREATE INDEX orders_by_created_at ON orders (created_at);
CREATE INDEX orders_by_status ON orders (status, mode);

CREATE TABLE order_lines (
    order_id         TEXT NOT NULL REFERENCES orders (id),
    line_no          BIGINT NOT NULL,
    sku              TEXT NOT NULL,
    name             TEXT NOT NULL,
    quantity         BIGINT NOT NULL CHECK (quantity > 0),
    unit_price_cents BIGINT NOT NULL CHECK (unit_price_cents >= 0),
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE idempotency_keys (
    idempotency_key TEXT PRIMARY KEY,
    request_hash    TEXT NOT NULL,
    order_id        TEXT NOT NULL REFERENCES orders (id),
    created_at      BIGINT NOT NULL
);

CREATE TABLE api_keys (
    key_hash   TEXT PRIMARY KEY,
    label      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Every HTTP message between the services that concerns orders, as the
-- store saw it: what it sent (webhooks, api calls, voids) and what it
-- received (feed reads, acknowledgements). The order timeline is built
-- from here.
CREATE TABLE exchanges (
    id               TEXT PRIMARY KEY,
    channel          TEXT NOT NULL
                     CHECK (channel IN ('webhook', 'api', 'void', 'feed', 'ack', 'subscribe')),
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
CREATE INDEX exchanges_by_started_at ON exchanges (started_at);
CREATE INDEX exchanges_by_delivery ON exchanges (delivery_id);

CREATE TABLE exchange_orders (
    exchange_id TEXT NOT NULL REFERENCES exchanges (id),
    order_id    TEXT NOT NULL,
    PRIMARY KEY (exchange_id, order_id)
);
CREATE INDEX exchange_orders_by_order ON exchange_orders (order_id);

CREATE TABLE pending_voids (
    order_id        TEXT PRIMARY KEY REFERENCES orders (id),
    state           TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    completed_at    BIGINT
);
CREATE INDEX pending_voids_due ON pending_voids (state, next_attempt_at);
