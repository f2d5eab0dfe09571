-- Version 5: outbound gateways (SIP providers), managed with the gateway.*
-- control verbs and applied at once, without a restart.
--
-- The password is kept as given: answering a provider's digest challenge needs
-- either the secret or HA1 = MD5(username:realm:password), and the realm is
-- only known from the challenge (the provider may change it), so HA1 cannot
-- be computed in advance. Protect the database file accordingly.
CREATE TABLE gateways (
	name       TEXT PRIMARY KEY,
	uri        TEXT NOT NULL,                   -- sip:HOST[:PORT][;transport=..]
	username   TEXT NOT NULL DEFAULT '',
	password   TEXT NOT NULL DEFAULT '',
	realm      TEXT NOT NULL DEFAULT '',        -- '' = whatever the challenge names
	register   INTEGER NOT NULL DEFAULT 0 CHECK (register IN (0, 1)),
	expires    INTEGER NOT NULL DEFAULT 3600 CHECK (expires > 0),
	from_user  TEXT NOT NULL DEFAULT ''         -- '' = username
);
