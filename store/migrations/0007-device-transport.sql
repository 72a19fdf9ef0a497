-- Schema 7: the transports a device may use (sipregctl device --transport):
-- udp, tcp, tls, or any. A device limited to TLS is refused on the others
-- and never sent anything over them.
ALTER TABLE device ADD COLUMN transport TEXT NOT NULL DEFAULT 'any'
	CHECK (transport IN ('udp', 'tcp', 'tls', 'any'));
