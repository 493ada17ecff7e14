-- Push: webhook endpoints, their signing secrets, and the transactional
-- outbox (one message per event, one delivery per subscribed endpoint).

CREATE TABLE webhook_endpoints (
    id              TEXT PRIMARY KEY,
    url             TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    -- `*` (every event type) or a comma-separated list of event types.
    event_types     TEXT NOT NULL CHECK (event_types <> ''),
    format          TEXT NOT NULL DEFAULT 'json' CHECK (format IN ('json', 'xml')),
    enabled         BIGINT NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    disabled_reason TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    deleted_at      BIGINT
);
-- One live endpoint per URL: registering a URL again finds the first.
CREATE UNIQUE INDEX webhook_endpoints_live_url ON webhook_endpoints (url) WHERE deleted_at IS NULL;

-- The store signs, so it must keep secrets readable (they cannot be hashed
-- like API keys). During a rotation an endpoint has two: the old one gets
-- an expiry and both sign until then.
CREATE TABLE webhook_secrets (
    id          TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id),
    secret      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT
);
CREATE INDEX webhook_secrets_by_endpoint ON webhook_secrets (endpoint_id);

CREATE TABLE webhook_messages (
    id         TEXT PRIMARY KEY,
    event_type TEXT NOT NULL CHECK (event_type IN ('order.created', 'ping')),
    order_id   TEXT,
    payload    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_messages_by_order ON webhook_messages (order_id);

CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    message_id       TEXT NOT NULL REFERENCES webhook_messages (id),
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints (id),
    order_id         TEXT,
    event_type       TEXT NOT NULL CHECK (event_type IN ('order.created', 'ping')),
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
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_by_order ON webhook_deliveries (order_id);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id);
