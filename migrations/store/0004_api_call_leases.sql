-- api mode: every call to the inventory's /update_inventory under way,
-- leased to the store process making it (`platform::lease`), which renews
-- the lease while it waits for the answer, however slow the inventory.
-- The abandoned-order sweep rejects (and voids) a pending api order only
-- once its call's lease has run out — the process deciding it is gone — so
-- a crashed store's orders are settled within seconds, and a live one's
-- never behind its back. The row is written with the order and deleted
-- with its answer.
CREATE TABLE api_calls (
    order_id         TEXT PRIMARY KEY REFERENCES orders (id),
    lease_owner      TEXT NOT NULL,
    lease_expires_at BIGINT NOT NULL,
    started_at       BIGINT NOT NULL
);
CREATE INDEX api_calls_by_expiry ON api_calls (lease_expires_at);
