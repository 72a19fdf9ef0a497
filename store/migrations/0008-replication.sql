-- Schema 8: two nodes. A phone's own feature changes (DND, call forward)
-- can be made on either node; each such row records when (milliseconds)
-- and on which node it last changed, so the later write wins.
ALTER TABLE device ADD COLUMN changed_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE device ADD COLUMN changed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE feature ADD COLUMN changed_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE feature ADD COLUMN changed_by TEXT NOT NULL DEFAULT '';

-- On the primary: the changes made here, numbered, for a backup that was
-- away (SQLite session changesets).
CREATE TABLE ha_journal (
	seq INTEGER PRIMARY KEY,
	at INTEGER NOT NULL, -- milliseconds
	data BLOB NOT NULL
) STRICT;

-- On a backup: the changes made here (phones' features, call records)
-- not yet taken by the primary.
-- AUTOINCREMENT: an id is never given again once the primary took it.
CREATE TABLE ha_outbox (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	at INTEGER NOT NULL,
	data BLOB NOT NULL
) STRICT;

-- Call records listed newest first by when they ended (they are written
-- then), so those a backup made (numbered below zero) take their place.
CREATE INDEX cdr_ended ON cdr (ended_at);
