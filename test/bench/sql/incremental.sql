-- (6) incremental refresh after 1% of the accounts with opportunities gained or
-- lost touches (see change.sql, run before and not timed).
SELECT attrib.refresh_incremental();
