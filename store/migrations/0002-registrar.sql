-- Schema 2: per-device digest policy and server-made bindings.

-- Digest algorithms offered to the device: md5, sha256 or both (SHA-256 first);
-- NULL takes [registrar] digest_algs from the configuration.
ALTER TABLE device ADD COLUMN digest_algs TEXT
	CHECK (digest_algs IS NULL OR digest_algs IN ('md5', 'sha256', 'both'));

-- qop: 'auth' requires qop=auth in the response; 'optional' also accepts the
-- RFC 2069 form without qop.
ALTER TABLE device ADD COLUMN qop TEXT NOT NULL DEFAULT 'optional'
	CHECK (qop IN ('auth', 'optional'));

-- 1 for a line bound by the server on behalf of line 1 (Cisco bulk registration).
ALTER TABLE binding ADD COLUMN derived INTEGER NOT NULL DEFAULT 0;
