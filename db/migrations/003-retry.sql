-- Version 3: the retry policy. After a miss the agent rests this many seconds,
-- by reason, before any queue offers it a call again (acd/engine.h). NULL takes
-- the default of acd/qconf.c (5, 5, 30), like the other queue columns.
ALTER TABLE queues ADD COLUMN retry_rejected INTEGER CHECK (retry_rejected BETWEEN 1 AND 3600);
ALTER TABLE queues ADD COLUMN retry_timeout INTEGER CHECK (retry_timeout BETWEEN 1 AND 3600);
ALTER TABLE queues ADD COLUMN retry_unreachable INTEGER
	CHECK (retry_unreachable BETWEEN 1 AND 3600);
