-- no-transaction
-- The fourth mode, `hybrid`, adds words to two CHECK lists:
-- applied_orders.channel (an order first applied through a hybrid
-- notification or the reconciliation) and messages.channel (`notify`,
-- `fetch`, `reconcile`).
--
-- SQLite only (PostgreSQL's twin is 0003_hybrid_mode.postgres.sql, the same
-- version: each backend sees only its own; numbered 0002 before a merge
-- collided with 0002_inbox_captures, which broke every SQLite start; the
-- suffix tells platform::db which backend runs which): SQLite cannot alter
-- a CHECK, so each table is rebuilt — renamed aside, created again,
-- copied, the old copy dropped — with foreign keys off (switchable only
-- outside a transaction, hence the explicit BEGIN/COMMIT).
PRAGMA foreign_keys = OFF;
PRAGMA legacy_alter_table = ON;
BEGIN;

ALTER TABLE applied_orders RENAME TO applied_orders_before_hybrid;
CREATE TABLE applied_orders (
    order_id         TEXT PRIMARY KEY,
    channel          TEXT NOT NULL CHECK (channel IN ('webhook', 'api', 'poll', 'hybrid')),
    outcome          TEXT NOT NULL CHECK (outcome IN ('applied', 'backordered', 'rejected', 'voided')),
    request_hash     TEXT NOT NULL,
    items            TEXT NOT NULL,
    answer_status    BIGINT NOT NULL,
    answer           TEXT NOT NULL,
    order_created_at BIGINT,
    applied_at       BIGINT NOT NULL,
    voided_at        BIGINT
);
INSERT INTO applied_orders SELECT * FROM applied_orders_before_hybrid;
DROP TABLE applied_orders_before_hybrid;
CREATE INDEX applied_orders_by_applied_at ON applied_orders (applied_at);

ALTER TABLE messages RENAME TO messages_before_hybrid;
CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    initiator       TEXT NOT NULL CHECK (initiator IN ('store', 'inventory')),
    channel         TEXT NOT NULL CHECK (channel IN ('webhook', 'api', 'void', 'feed', 'ack', 'subscribe',
                        'notify', 'fetch', 'reconcile')),
    method          TEXT NOT NULL,
    url             TEXT NOT NULL,
    request_headers TEXT NOT NULL,
    request_body    TEXT NOT NULL,
    response_status BIGINT,
    response_body   TEXT,
    error           TEXT,
    verdict         TEXT NOT NULL CHECK (verdict IN ('applied', 'backordered', 'rejected', 'voided',
                        'duplicate', 'refused', 'verified', 'empty', 'nothing_new', 'acknowledged',
                        'subscribed', 'failed')),
    verdict_detail  TEXT,
    order_id        TEXT,
    latency_ms      BIGINT NOT NULL,
    at              BIGINT NOT NULL
);
INSERT INTO messages SELECT * FROM messages_before_hybrid;
DROP TABLE messages_before_hybrid;
CREATE INDEX messages_by_at ON messages (at);
CREATE INDEX messages_by_channel ON messages (channel, verdict);

COMMIT;
PRAGMA legacy_alter_table = OFF;
PRAGMA foreign_keys = ON;
