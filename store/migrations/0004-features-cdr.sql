-- Schema 4: do not disturb per device, and what a call record needs.

-- Do not disturb covers every line of the device (as on a Cisco phone).
ALTER TABLE device ADD COLUMN dnd INTEGER NOT NULL DEFAULT 0 CHECK (dnd IN (0, 1));

-- The device that placed the call, and the line that finally took it
-- (differs from callee when the call was forwarded).
ALTER TABLE cdr ADD COLUMN caller_device TEXT;
ALTER TABLE cdr ADD COLUMN target TEXT;
ALTER TABLE cdr ADD COLUMN forwarded TEXT; -- reason of the last forward, NULL if none

CREATE INDEX cdr_started ON cdr (started_at);
