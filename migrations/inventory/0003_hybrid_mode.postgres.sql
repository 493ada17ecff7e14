-- The fourth mode, `hybrid`, adds words to two CHECK lists. PostgreSQL
-- only (SQLite's twin, 0002_hybrid_mode.sqlite.sql, must rebuild the
-- tables instead): here a CHECK is swapped in place, under the name
-- PostgreSQL gives an inline CHECK, `<table>_<column>_check`.
ALTER TABLE applied_orders DROP CONSTRAINT applied_orders_channel_check;
ALTER TABLE applied_orders ADD CONSTRAINT applied_orders_channel_check
    CHECK (channel IN ('webhook', 'api', 'poll', 'hybrid'));
ALTER TABLE messages DROP CONSTRAINT messages_channel_check;
ALTER TABLE messages ADD CONSTRAINT messages_channel_check
    CHECK (channel IN ('webhook', 'api', 'void', 'feed', 'ack', 'subscribe',
                       'notify', 'fetch', 'reconcile'));
