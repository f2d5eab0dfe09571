-- Version 9: callback_mode (agent-first | customer-first), qconf's text;
-- NULL takes the default (agent-first).
ALTER TABLE queues ADD COLUMN callback_mode TEXT;
