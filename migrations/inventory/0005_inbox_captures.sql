-- The capture inbox (`/inbox/{name}`): whatever a learner points at it,
-- kept as it arrived so a signature can be checked against the very bytes
-- that were signed. A bounded number is kept per inbox and in all; the
-- oldest go first (inventory::instruments::inbox).

CREATE TABLE inbox_captures (
    id          TEXT PRIMARY KEY,
    inbox       TEXT NOT NULL,
    method      TEXT NOT NULL,
    url         TEXT NOT NULL,
    -- JSON: [[name, value], …] in the order they arrived
    headers     TEXT NOT NULL,
    -- The body's bytes, base64: a body need not be UTF-8, and the signature
    -- covers the bytes, not a decoding of them.
    body_base64 TEXT NOT NULL,
    body_bytes  BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX inbox_captures_by_inbox ON inbox_captures (inbox, received_at);
CREATE INDEX inbox_captures_by_received_at ON inbox_captures (received_at);
