-- Placeholder for version 3, taken by another branch (issue 9 was given 005).
-- Drop this file when that branch's 003-*.sql is merged.
SELECT 1;
