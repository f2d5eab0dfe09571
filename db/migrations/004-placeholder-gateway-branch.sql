-- Placeholder for version 4, taken by another branch (issue 9 was given 005).
-- Drop this file when that branch's 004-*.sql is merged.
SELECT 1;
