-- Placeholder for version 4, taken by another branch (this branch was given 006).
-- Drop this file when that branch's 004-*.sql is merged.
SELECT 1;
