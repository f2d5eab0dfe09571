-- callq schema, version 1. store_open runs this on an empty database inside
-- one transaction and then sets PRAGMA user_version = 1; later changes go in
-- db/migrations/NNN-name.sql, never here.
--
-- Queue columns left NULL take the defaults of acd/qconf.c (qconf_defaults),
-- so the defaults live in one place. Rows keep their creation order through
-- the integer primary keys; the engine is loaded in that order.

CREATE TABLE queues (
	id                INTEGER PRIMARY KEY,
	name              TEXT NOT NULL UNIQUE,
	number            TEXT NOT NULL UNIQUE,
	strategy          TEXT CHECK (strategy IN ('round-robin', 'most-idle', 'least-calls',
	                                           'least-offers', 'skills-strict', 'skills-loose')),
	call_limit        INTEGER CHECK (call_limit >= 0),
	timeout           INTEGER CHECK (timeout BETWEEN 1 AND 7200),
	connect_timeout   INTEGER CHECK (connect_timeout >= 0),
	recovery          INTEGER CHECK (recovery >= 0),
	recovery_extend   INTEGER CHECK (recovery_extend >= 0),
	recovery_multi    INTEGER CHECK (recovery_multi IN (0, 1)),
	timeout_if_empty  INTEGER CHECK (timeout_if_empty IN (0, 1)),
	force_away        INTEGER CHECK (force_away IN (0, 1)),
	record            INTEGER CHECK (record IN (0, 1)),
	show_agents       INTEGER CHECK (show_agents IN (0, 1)),
	paused            INTEGER CHECK (paused IN (0, 1)),
	-- By name, not a foreign key: deleting the target must not delete this queue.
	escalation_queue  TEXT,
	escalation_dest   TEXT,
	zero_out          TEXT,
	hold              TEXT
);

-- sip_ha1 = MD5 hex of "login:callq:password" (the realm is always "callq").
CREATE TABLE members (
	id       INTEGER PRIMARY KEY,
	login    TEXT NOT NULL UNIQUE,
	name     TEXT NOT NULL DEFAULT '',
	role     TEXT NOT NULL CHECK (role IN ('agent', 'manager', 'admin')),
	sip_ha1  TEXT NOT NULL DEFAULT '',
	record   INTEGER NOT NULL DEFAULT 0 CHECK (record IN (0, 1))
);

-- active = 0: the member is paused in this queue.
CREATE TABLE queue_members (
	queue_id    INTEGER NOT NULL REFERENCES queues(id) ON DELETE CASCADE,
	member_id   INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
	is_manager  INTEGER NOT NULL DEFAULT 0 CHECK (is_manager IN (0, 1)),
	active      INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
	PRIMARY KEY (queue_id, member_id)
);
CREATE INDEX queue_members_member ON queue_members(member_id);

-- Global agent state; a member without a row is logged out.
CREATE TABLE member_state (
	member_id    INTEGER PRIMARY KEY REFERENCES members(id) ON DELETE CASCADE,
	logged_in    INTEGER NOT NULL DEFAULT 0 CHECK (logged_in IN (0, 1)),
	ready        INTEGER NOT NULL DEFAULT 0 CHECK (ready IN (0, 1)),
	away_reason  TEXT NOT NULL DEFAULT ''
);

CREATE TABLE feature_codes (
	code    TEXT PRIMARY KEY,
	action  TEXT NOT NULL CHECK (action IN ('login', 'logout', 'away', 'ready', 'pause', 'resume',
	                                        'extend', 'listen', 'whisper', 'barge'))
);

-- Source networks whose INVITEs to a queue number need no digest auth.
CREATE TABLE trunk_acl (
	cidr  TEXT PRIMARY KEY
);

CREATE TABLE registrations (
	member_id     INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
	contact       TEXT NOT NULL,
	expires_unix  INTEGER NOT NULL,
	PRIMARY KEY (member_id, contact)
);

-- One row per engine event. Queues and members are kept by name because
-- engine ids do not survive a restart; `run` (the store's start time, unix ms)
-- tells apart the call ids of different runs. No foreign keys: history stays
-- when a queue or member is deleted.
CREATE TABLE journal (
	id      INTEGER PRIMARY KEY,
	t_ms    INTEGER NOT NULL,
	run     INTEGER NOT NULL,
	event   TEXT NOT NULL,
	call    INTEGER,
	queue   TEXT,
	member  TEXT,
	value   INTEGER,
	reason  TEXT
);
CREATE INDEX journal_t ON journal(t_ms);
