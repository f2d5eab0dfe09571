-- Version 7: reserved for a branch merged alongside the callbacks (008);
-- this placeholder keeps the numbering without gaps until then.
SELECT 1;
