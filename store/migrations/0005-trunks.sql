-- Schema 5: what trunks need beyond schema 1's table, their DIDs and the dial plan.

-- The number calls go out with when the calling line has no DID on the
-- trunk (NULL: the trunk's user); the line inbound calls without a DID
-- match ring (NULL: refused); the trunk emergency calls take.
ALTER TABLE trunk ADD COLUMN caller_id TEXT;
ALTER TABLE trunk ADD COLUMN default_dn TEXT;
ALTER TABLE trunk ADD COLUMN emergency INTEGER NOT NULL DEFAULT 0 CHECK (emergency IN (0, 1));
-- The user part of the Contact registered upstream: the trunk user and a
-- random token, so that a request to it names this trunk.
ALTER TABLE trunk ADD COLUMN contact_user TEXT;

-- Numbers a trunk delivers, each to a line (dn NULL: the trunk's default line).
CREATE TABLE trunk_did (
	number TEXT PRIMARY KEY,
	trunk TEXT NOT NULL REFERENCES trunk (name) ON DELETE CASCADE,
	dn TEXT
) STRICT;

-- The dial plan: numbers matching a pattern go to a trunk (or are refused
-- when trunk is NULL), lowest priority first.
CREATE TABLE route (
	id INTEGER PRIMARY KEY,
	pattern TEXT NOT NULL,
	trunk TEXT REFERENCES trunk (name) ON DELETE CASCADE,
	strip INTEGER NOT NULL DEFAULT 0,
	prepend TEXT NOT NULL DEFAULT '',
	priority INTEGER NOT NULL DEFAULT 100,
	allow_restricted INTEGER NOT NULL DEFAULT 0 CHECK (allow_restricted IN (0, 1)),
	created_at INTEGER NOT NULL
) STRICT;
