-- The fourth mode, `hybrid`, adds words to four CHECK lists. PostgreSQL
-- only (SQLite's twin, 0005_hybrid_mode.sqlite.sql, must rebuild the
-- tables instead): here a CHECK is swapped in place. An inline CHECK is
-- named `<table>_<column>_check` by PostgreSQL, which is the name dropped.
ALTER TABLE orders DROP CONSTRAINT orders_mode_check;
ALTER TABLE orders ADD CONSTRAINT orders_mode_check
    CHECK (mode IN ('webhook', 'api', 'poll', 'hybrid'));
ALTER TABLE exchanges DROP CONSTRAINT exchanges_channel_check;
ALTER TABLE exchanges ADD CONSTRAINT exchanges_channel_check
    CHECK (channel IN ('webhook', 'api', 'void', 'feed', 'ack', 'subscribe',
                       'notify', 'fetch', 'reconcile'));
ALTER TABLE webhook_messages DROP CONSTRAINT webhook_messages_event_type_check;
ALTER TABLE webhook_messages ADD CONSTRAINT webhook_messages_event_type_check
    CHECK (event_type IN ('order.created', 'order.notice', 'ping'));
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_event_type_check;
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_event_type_check
    CHECK (event_type IN ('order.created', 'order.notice', 'ping'));
