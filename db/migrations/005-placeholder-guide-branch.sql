-- Placeholder for version 5, taken by another branch (this branch was given 006).
-- Drop this file when that branch's 005-*.sql is merged.
SELECT 1;
