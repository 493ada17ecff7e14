-- Long polling switched at run time: how long the store may hold each of
-- the poller's empty reads (0: not long polling). `POLL_WAIT`, when set,
-- is written here at every start; the poller page changes it after that.
-- (The reconciliation never long-polls; its table has the column so that
-- both readers' state is read the same way.)
ALTER TABLE poller_state ADD COLUMN wait_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE reconciler_state ADD COLUMN wait_ms BIGINT NOT NULL DEFAULT 0;
