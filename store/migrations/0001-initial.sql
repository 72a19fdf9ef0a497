-- Schema 1: users, devices and their lines, and the tables later features fill.

CREATE TABLE meta (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

-- Device models and how many lines (directory numbers) each can carry.
CREATE TABLE model (
	name TEXT PRIMARY KEY,
	lines INTEGER NOT NULL CHECK (lines BETWEEN 1 AND 64),
	vendor TEXT NOT NULL,
	-- 1 for Cisco phones that register line 1 only and expect the server to bind the rest
	cucm_mode INTEGER NOT NULL DEFAULT 0 CHECK (cucm_mode IN (0, 1))
) STRICT;

INSERT INTO model (name, lines, vendor, cucm_mode) VALUES
	('cisco-7905', 1, 'cisco', 0),
	('cisco-7911', 1, 'cisco', 1),
	('cisco-7912', 1, 'cisco', 0),
	('cisco-7940', 2, 'cisco', 0),
	('cisco-7960', 6, 'cisco', 0),
	('cisco-7941', 2, 'cisco', 1),
	('cisco-7961', 6, 'cisco', 1),
	('cisco-7942', 2, 'cisco', 1),
	('cisco-7962', 6, 'cisco', 1),
	('cisco-7945', 2, 'cisco', 1),
	('cisco-7965', 6, 'cisco', 1),
	('cisco-7970', 8, 'cisco', 1),
	('cisco-7971', 8, 'cisco', 1),
	('cisco-7975', 8, 'cisco', 1),
	('cisco-7811', 1, 'cisco', 1),
	('cisco-7821', 2, 'cisco', 1),
	('cisco-7841', 4, 'cisco', 1),
	('cisco-7861', 16, 'cisco', 1),
	('cisco-8841', 5, 'cisco', 1),
	('cisco-8845', 5, 'cisco', 1),
	('cisco-8851', 5, 'cisco', 1),
	('cisco-8861', 5, 'cisco', 1),
	('cisco-8865', 5, 'cisco', 1),
	('cisco-8961', 5, 'cisco', 1),
	('cisco-9951', 5, 'cisco', 1),
	('cisco-9971', 6, 'cisco', 1),
	('third-party-basic', 1, 'other', 0),
	('third-party-advanced', 8, 'other', 0);

-- A digest user: HA1 for verification and the password encrypted at rest.
CREATE TABLE user (
	name TEXT PRIMARY KEY,
	ha1_md5 TEXT NOT NULL,
	ha1_sha256 TEXT NOT NULL,
	secret BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

-- A phone. Its digest user identifies it: one digest user per device.
CREATE TABLE device (
	name TEXT PRIMARY KEY,
	model TEXT NOT NULL REFERENCES model (name),
	digest_user TEXT NOT NULL UNIQUE REFERENCES user (name),
	auth TEXT NOT NULL DEFAULT 'verify' CHECK (auth IN ('verify', 'identify')),
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

-- A directory number on a device; the DN is the SIP user of the line's AOR.
CREATE TABLE line (
	dn TEXT PRIMARY KEY,
	device TEXT NOT NULL REFERENCES device (name) ON DELETE CASCADE,
	idx INTEGER NOT NULL CHECK (idx >= 1),
	display TEXT,
	label TEXT,
	created_at INTEGER NOT NULL,
	UNIQUE (device, idx)
) STRICT;

CREATE TRIGGER line_index_insert BEFORE INSERT ON line
WHEN NEW.idx > (SELECT m.lines FROM device d JOIN model m ON m.name = d.model
		WHERE d.name = NEW.device)
BEGIN
	SELECT RAISE(ABORT, 'line index beyond the model''s line count');
END;

CREATE TRIGGER line_index_update BEFORE UPDATE OF idx, device ON line
WHEN NEW.idx > (SELECT m.lines FROM device d JOIN model m ON m.name = d.model
		WHERE d.name = NEW.device)
BEGIN
	SELECT RAISE(ABORT, 'line index beyond the model''s line count');
END;

CREATE TRIGGER device_model_update BEFORE UPDATE OF model ON device
WHEN (SELECT max(idx) FROM line WHERE device = NEW.name) >
	(SELECT lines FROM model WHERE name = NEW.model)
BEGIN
	SELECT RAISE(ABORT, 'line index beyond the model''s line count');
END;

-- Registrations, written behind from memory.
CREATE TABLE binding (
	dn TEXT NOT NULL REFERENCES line (dn) ON DELETE CASCADE,
	device TEXT NOT NULL,
	contact TEXT NOT NULL,
	received TEXT,
	transport TEXT,
	instance TEXT,
	user_agent TEXT,
	call_id TEXT NOT NULL,
	cseq INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (dn, contact)
) STRICT, WITHOUT ROWID;

CREATE INDEX binding_expires ON binding (expires_at);
CREATE INDEX binding_device ON binding (device);

-- Upstream registrars and providers.
CREATE TABLE trunk (
	name TEXT PRIMARY KEY,
	registrar TEXT NOT NULL,
	proxy TEXT,
	username TEXT,
	auth_user TEXT,
	secret BLOB,
	realm TEXT,
	transport TEXT NOT NULL DEFAULT 'udp',
	expires INTEGER NOT NULL DEFAULT 3600,
	do_register INTEGER NOT NULL DEFAULT 1,
	created_at INTEGER NOT NULL
) STRICT;

-- Per-line features: call forwarding and hunt login.
CREATE TABLE feature (
	dn TEXT PRIMARY KEY REFERENCES line (dn) ON DELETE CASCADE,
	cfwd_all TEXT,
	cfwd_busy TEXT,
	cfwd_noanswer TEXT,
	noanswer_timeout INTEGER,
	hunt_login INTEGER NOT NULL DEFAULT 1
) STRICT;

-- One row per call.
CREATE TABLE cdr (
	id INTEGER PRIMARY KEY,
	started_at INTEGER NOT NULL,
	answered_at INTEGER,
	ended_at INTEGER,
	caller TEXT,
	callee TEXT,
	result TEXT,
	duration INTEGER
) STRICT;
