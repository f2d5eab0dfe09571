-- Version 8: callbacks (a waiting caller hangs up and is called back at its
-- place in line). Queue settings are qconf's text; NULL takes the default.
ALTER TABLE queues ADD COLUMN callback_gateway TEXT;
ALTER TABLE queues ADD COLUMN callback_key TEXT;
ALTER TABLE queues ADD COLUMN callback_wait TEXT;
ALTER TABLE queues ADD COLUMN callback_retries TEXT;
ALTER TABLE queues ADD COLUMN callback_retry_delay TEXT;
ALTER TABLE queues ADD COLUMN callback_hours TEXT;
ALTER TABLE queues ADD COLUMN callback_outside TEXT;

-- Pending callbacks, so a restart keeps them in their places: `position`
-- orders one queue's callbacks as its line did; entered_unix_ms is the
-- caller's first entry; attempts the dials so far.
CREATE TABLE callbacks (
	queue_id INTEGER NOT NULL REFERENCES queues(id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	number TEXT NOT NULL,
	caller_number TEXT NOT NULL DEFAULT '',
	caller_name TEXT NOT NULL DEFAULT '',
	callee_number TEXT NOT NULL DEFAULT '',
	entered_unix_ms INTEGER NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (queue_id, position)
);
