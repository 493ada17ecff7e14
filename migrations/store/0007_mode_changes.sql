-- When the integration mode changed, and to what: the store's mode over
-- time, so the compare page can tell which mode a poll was made under.
-- The inventory's poller reads the feed whatever the store's mode (it
-- cannot know it); a poll made while the store was in webhook mode is not
-- a cost of polling, and must not be charged to poll-mode orders. The
-- `settings` row says only what the mode is now.
--
-- Portable SQL: this one file runs on SQLite and on PostgreSQL. One row
-- per millisecond: two switches within the same one keep the later (the
-- one in effect). The current mode, if one was ever stored, is seeded as
-- starting when it was set; before that the history is unknown and is read
-- as the default mode (webhook), so older idle polls are charged to no one.
CREATE TABLE mode_changes (
    changed_at BIGINT PRIMARY KEY,
    mode       TEXT NOT NULL CHECK (mode IN ('webhook', 'api', 'poll', 'hybrid'))
);
INSERT INTO mode_changes (changed_at, mode)
    SELECT updated_at, value FROM settings WHERE key = 'integration_mode';
