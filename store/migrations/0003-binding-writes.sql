-- Schema 3: cheaper binding writes.

-- Every refresh of a registration rewrites expires_at; an index on it costs
-- an index update per registration and serves only the purge at start-up,
-- which scans the table once.
DROP INDEX binding_expires;
