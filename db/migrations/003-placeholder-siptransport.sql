-- PLACEHOLDER, not for main: version 3 belongs to another branch. It exists
-- only so this branch (which adds 004) builds and opens databases on its own.
-- Drop this file when merging; the real 003 takes its place.
SELECT 1;
