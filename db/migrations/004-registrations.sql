-- Version 4: a registration keeps how its REGISTER came, so a phone behind
-- NAT, on TCP or behind an edge proxy is reached the same way after a restart
-- (src/sip/route.h). src '' = unknown (rows from before: the Contact is used).
ALTER TABLE registrations ADD COLUMN src TEXT NOT NULL DEFAULT '';
ALTER TABLE registrations ADD COLUMN src_port INTEGER NOT NULL DEFAULT 0
	CHECK (src_port BETWEEN 0 AND 65535);
ALTER TABLE registrations ADD COLUMN transport TEXT NOT NULL DEFAULT 'udp'
	CHECK (transport IN ('udp', 'tcp', 'tls'));
-- Path header values (RFC 3327), "<sip:p1;lr>,<sip:p2;lr>"; '' = none.
ALTER TABLE registrations ADD COLUMN path TEXT NOT NULL DEFAULT '';
-- RFC 5626: +sip.instance and reg-id; '' and 0 = none.
ALTER TABLE registrations ADD COLUMN instance TEXT NOT NULL DEFAULT '';
ALTER TABLE registrations ADD COLUMN reg_id INTEGER NOT NULL DEFAULT 0 CHECK (reg_id >= 0);

-- Expired rows go; callqd prunes them at start and on each REGISTER.
DELETE FROM registrations WHERE expires_unix <= CAST(strftime('%s', 'now') AS INTEGER);
CREATE INDEX registrations_expires ON registrations(expires_unix);
