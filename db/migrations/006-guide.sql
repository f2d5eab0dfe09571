-- Version 6: what the product guide asks for beyond earlier versions.
-- NULL queue columns take the defaults of acd/qconf.c, like the others.

-- More numbers (DIDs) into one queue, "N1,N2" (qconf's text), and the
-- priority widening step in seconds (0: every level at once).
ALTER TABLE queues ADD COLUMN dids TEXT;
ALTER TABLE queues ADD COLUMN priority_step INTEGER CHECK (priority_step BETWEEN 0 AND 3600);

-- A member's priority level in a queue: 1 (best) .. 9.
ALTER TABLE queue_members ADD COLUMN priority INTEGER NOT NULL DEFAULT 1
	CHECK (priority BETWEEN 1 AND 9);

-- When the member's session began (unix ms), so its duration survives a
-- restart; NULL while logged out.
ALTER TABLE member_state ADD COLUMN login_unix_ms INTEGER;

-- The Members tab counts a member's answers and misses in the journal over
-- its session.
CREATE INDEX journal_member ON journal(member, t_ms);

-- The wait announcement's last answered waits per queue are read back from
-- the journal at start.
CREATE INDEX journal_queue_event ON journal(queue, event);
