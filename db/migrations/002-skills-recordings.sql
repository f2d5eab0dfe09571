-- Version 2: skills, recordings, three new queue settings, and hashed
-- control-socket passwords. Run once by store_open, in one transaction.

-- NULL takes the default of acd/qconf.c, like the other queue columns.
-- wait_estimate holds qconf's text for the setting (qconf_get / qconf_set).
ALTER TABLE queues ADD COLUMN lang TEXT;
ALTER TABLE queues ADD COLUMN wait_estimate TEXT;
ALTER TABLE queues ADD COLUMN service_level INTEGER CHECK (service_level >= 0);

-- Control-socket password: "pbkdf2-sha256$ITER$SALTHEX$HASHHEX" (core/pwhash.h).
-- '' = none (e.g. a database from version 1): that member cannot `auth` until
-- an admin sets one (member.set LOGIN control_password=..).
ALTER TABLE members ADD COLUMN password_hash TEXT NOT NULL DEFAULT '';

-- Skills are global; the integer key keeps creation order (skill.list).
CREATE TABLE skills (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	match_all  INTEGER NOT NULL CHECK (match_all IN (0, 1))
);

-- One rule per row, "FIELD OP VALUE" split; position keeps the given order.
CREATE TABLE skill_rules (
	skill_id  INTEGER NOT NULL REFERENCES skills(id) ON DELETE CASCADE,
	position  INTEGER NOT NULL,
	field     TEXT NOT NULL CHECK (field IN ('caller_number', 'caller_name', 'callee_number',
	                                         'callee_name')),
	op        TEXT NOT NULL CHECK (op IN ('starts_with', 'matches')),
	value     TEXT NOT NULL,
	PRIMARY KEY (skill_id, position)
);

CREATE TABLE member_skills (
	member_id  INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
	skill_id   INTEGER NOT NULL REFERENCES skills(id) ON DELETE CASCADE,
	PRIMARY KEY (member_id, skill_id)
);
CREATE INDEX member_skills_skill ON member_skills(skill_id);

-- Call recordings and voicemail messages. Like the journal, queue and member
-- are names and there are no foreign keys: the files outlive what made them.
-- `run` is the store's start time (unix ms), as in the journal; times are
-- unix ms. A row stays 'recording' until the file is closed; rows a stopped
-- daemon left 'recording' are marked 'failed' at the next start.
CREATE TABLE recordings (
	id           INTEGER PRIMARY KEY,
	kind         TEXT NOT NULL CHECK (kind IN ('call', 'voicemail')),
	call         INTEGER,
	run          INTEGER NOT NULL,
	queue        TEXT,
	member       TEXT,
	path         TEXT NOT NULL,
	started_ms   INTEGER NOT NULL,
	duration_ms  INTEGER NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
	status       TEXT NOT NULL DEFAULT 'recording'
	             CHECK (status IN ('recording', 'done', 'failed')),
	error        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX recordings_queue ON recordings(queue, started_ms);
CREATE INDEX recordings_member ON recordings(member, started_ms);
