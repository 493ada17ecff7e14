-- hybrid mode's reconciliation: its own cursor into the store's feed
-- (read for hybrid orders only, on a slow timer), apart from the poller's,
-- so that neither mode's reading moves the other's place.
CREATE TABLE reconciler_state (
    id          BIGINT PRIMARY KEY CHECK (id = 1),
    cursor      TEXT NOT NULL DEFAULT '',
    paused      BIGINT NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    interval_ms BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
