-- attrib upgrade script 0.1.0 -> 0.2.0, run by ALTER EXTENSION attrib UPDATE.
--
-- Hand-written and tracked.  It holds, as statements on an installed 0.1.0, every
-- change made to src/sql/*.sql since release 0.1.0 (commit f8fe079): whoever
-- changes src/sql adds the matching statement here.  test/t_upgrade.sh installs
-- 0.1.0, updates, and compares the catalog with a fresh install of 0.2.0; when
-- they differ it names the objects and shows both sides.
--
-- Same rules as the install script: everything qualified (@extschema@.x,
-- pg_catalog.y).  CREATE OR REPLACE is right here (and only here): the object
-- exists and is a member of the extension, and PostgreSQL refuses to replace one
-- that is not.  Recreate a view or an aggregate with DROP + CREATE, then restore
-- its comments and grants; add columns with ALTER TABLE at the end of a table
-- only if src/sql puts them there too (column order is compared).

\echo Use "ALTER EXTENSION attrib UPDATE TO '0.2.0'" to load this file. \quit

-- days_between: exact over the whole timestamp range.  0.1.0 computed
-- to_at - from_at, which PostgreSQL 15 does not check for overflow, so instants
-- more than ~292,000 years apart gave a wrapped, negative number of days.  Now
-- each instant is measured from PostgreSQL's own epoch (2000-01-01 UTC, where the
-- stored value is 0), so neither subtraction can overflow.
CREATE OR REPLACE FUNCTION @extschema@.days_between(from_at pg_catalog.timestamptz, to_at pg_catalog.timestamptz)
RETURNS pg_catalog.numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN pg_catalog.round((EXTRACT(epoch FROM to_at - '2000-01-01 00:00:00+00'::pg_catalog.timestamptz)
	- EXTRACT(epoch FROM from_at - '2000-01-01 00:00:00+00'::pg_catalog.timestamptz)) / 86400, 2);
COMMENT ON FUNCTION @extschema@.days_between(pg_catalog.timestamptz, pg_catalog.timestamptz) IS
'Elapsed time from from_at to to_at in days of 24 hours (independent of the time zone and of daylight saving), rounded to 2 decimals; negative when to_at is earlier; NULL when either is NULL. Exact over the whole timestamp range.';

-- refresh_queue and refresh_state keyed by the writing transaction as well
-- (isolation specs, specs/): a CRM write never waits for a refresh, and a write
-- committing while a refresh runs keeps its mark.  The queued accounts and stale
-- marks of 0.1.0 are kept (under the updating transaction's id).
ALTER TABLE @extschema@.refresh_queue
	ADD COLUMN xid pg_catalog.xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id();
ALTER TABLE @extschema@.refresh_queue DROP CONSTRAINT refresh_queue_pkey;
ALTER TABLE @extschema@.refresh_queue ADD PRIMARY KEY (account_id, xid);
COMMENT ON TABLE @extschema@.refresh_queue IS 'Accounts whose CRM rows changed since the last refresh, once per writing transaction: attrib.refresh_incremental() rebuilds exactly these.';
COMMENT ON COLUMN @extschema@.refresh_queue.xid IS 'The transaction that queued it.';

-- refresh_state's key column comes first: re-create the table, keeping its marks
ALTER TABLE @extschema@.refresh_state RENAME TO refresh_state_0_1_0;
ALTER INDEX @extschema@.refresh_state_pkey RENAME TO refresh_state_0_1_0_pkey;
CREATE TABLE @extschema@.refresh_state (
	xid pg_catalog.xid8 PRIMARY KEY DEFAULT pg_catalog.pg_current_xact_id(),
	journeys_stale pg_catalog.bool NOT NULL DEFAULT false,
	credits_stale pg_catalog.bool NOT NULL DEFAULT false
);
INSERT INTO @extschema@.refresh_state (journeys_stale, credits_stale)
SELECT o.journeys_stale, o.credits_stale FROM @extschema@.refresh_state_0_1_0 o;
DROP TABLE @extschema@.refresh_state_0_1_0;
COMMENT ON TABLE @extschema@.refresh_state IS 'What an incremental refresh must redo beyond the queued accounts, one row per changing transaction: every journey (settings, rates or channels changed), or every credit (the model registry changed).';
COMMENT ON COLUMN @extschema@.refresh_state.xid IS 'The transaction that made the change.';
COMMENT ON COLUMN @extschema@.refresh_state.journeys_stale IS 'Every journey must be rebuilt.';
COMMENT ON COLUMN @extschema@.refresh_state.credits_stale IS 'Every credit must be recomputed from the stored journeys.';
