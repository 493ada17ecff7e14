-- Who an endpoint's answers speak for (issue #10). EndpointRole:
-- 'resolver' is the inventory's own subscription, registered with the
-- store's API key: its answer to an order.created says what became of the
-- order, and that resolves it. 'observer' is anyone else's registration:
-- signed, retried and logged deliveries, answers that decide nothing.
--
-- A column added rather than 0002 edited: a database that ran 0002 keeps
-- its checksum. Endpoints registered before roles existed become
-- observers — the safe reading, since any of them may be a stranger's;
-- the inventory registers at every start, which claims its own back.
ALTER TABLE webhook_endpoints
    ADD COLUMN role TEXT NOT NULL DEFAULT 'observer' CHECK (role IN ('resolver', 'observer'));
