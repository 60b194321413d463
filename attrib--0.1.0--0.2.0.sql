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

-- change marks keyed by transaction: the functions that write and take them
CREATE OR REPLACE FUNCTION @extschema@.track_accounts() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		INSERT INTO @extschema@.refresh_queue (account_id) SELECT DISTINCT n.account_id FROM new_rows n
		ON CONFLICT DO NOTHING;
	END IF;
	IF TG_OP IN ('DELETE', 'UPDATE') THEN
		INSERT INTO @extschema@.refresh_queue (account_id) SELECT DISTINCT o.account_id FROM old_rows o
		ON CONFLICT DO NOTHING;
	END IF;
	RETURN NULL;
END $$;
COMMENT ON FUNCTION @extschema@.track_accounts() IS 'Trigger: queues the accounts of changed CRM rows for incremental refresh.';

CREATE OR REPLACE FUNCTION @extschema@.track_stale() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	INSERT INTO @extschema@.refresh_state AS r (journeys_stale, credits_stale)
	VALUES (TG_ARGV[0] = 'journeys', TG_ARGV[0] = 'credits')
	ON CONFLICT (xid) DO UPDATE
		SET journeys_stale = r.journeys_stale OR EXCLUDED.journeys_stale,
			credits_stale = r.credits_stale OR EXCLUDED.credits_stale;
	RETURN NULL;
END $$;
COMMENT ON FUNCTION @extschema@.track_stale() IS 'Trigger: marks every journey or every credit stale for incremental refresh.';

CREATE OR REPLACE FUNCTION @extschema@.refresh_begin()
RETURNS pg_catalog.timestamptz
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	m record;
	rel pg_catalog.regclass;
BEGIN
	PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('attrib.refresh'));
	-- Re-apply a mapping only where it is not in force: after a restore the
	-- src_* view reads attrib's own table again, and a column attrib knows may
	-- have been added to the mapped relation since.  Re-creating a view that is
	-- in force would take an ACCESS EXCLUSIVE lock on it until the refresh
	-- commits, blocking every reader of the reports for the whole refresh.
	FOR m IN SELECT * FROM @extschema@.source_map LOOP
		rel := m.relation::pg_catalog.regclass;
		IF EXISTS (
			SELECT 1 FROM pg_attribute a
			WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
			  AND EXISTS (SELECT 1 FROM pg_attribute b
						  WHERE b.attrelid = format('@extschema@.%I', m.entity)::pg_catalog.regclass
							AND b.attname = a.attname AND b.attnum > 0 AND NOT b.attisdropped)
			  AND NOT EXISTS (SELECT 1 FROM pg_depend d JOIN pg_rewrite w ON w.oid = d.objid
							  WHERE d.classid = 'pg_rewrite'::pg_catalog.regclass
								AND w.ev_class = format('@extschema@.%I', 'src_' || m.entity)::pg_catalog.regclass
								AND d.refclassid = 'pg_class'::pg_catalog.regclass
								AND d.refobjid = rel AND d.refobjsubid = a.attnum)) THEN
			PERFORM @extschema@.map_source(m.entity, rel);
		END IF;
	END LOOP;
	RETURN coalesce((SELECT s.as_of FROM @extschema@.effective_settings s), pg_catalog.now());
END $$;
COMMENT ON FUNCTION @extschema@.refresh_begin() IS
'Starts a refresh: takes the refresh lock (refreshes run one at a time; readers are never blocked), re-applies mapped sources that are not in force (e.g. after a restore), and returns the as-of time to use.';

CREATE OR REPLACE FUNCTION @extschema@.refresh_incremental()
RETURNS @extschema@.refresh_log
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	started pg_catalog.timestamptz := pg_catalog.clock_timestamp();
	t_as_of pg_catalog.timestamptz := @extschema@.refresh_begin();
	st record;
	changed pg_catalog.text[];
	n pg_catalog.int8 := 0;
BEGIN
	-- the marks of committed changes (the statement's snapshot); a change
	-- committing later keeps its mark for the next refresh
	WITH taken AS (DELETE FROM @extschema@.refresh_state RETURNING journeys_stale, credits_stale)
	SELECT pg_catalog.bool_or(journeys_stale) AS journeys_stale, pg_catalog.bool_or(credits_stale) AS credits_stale
	INTO st FROM taken;
	IF coalesce(st.journeys_stale, false) THEN
		DELETE FROM @extschema@.refresh_queue;
		n := @extschema@.refresh_scope(NULL, true, t_as_of);
		PERFORM @extschema@.refresh_data_driven();
		RETURN @extschema@.refresh_log_row(started, t_as_of, n);
	END IF;
	-- the queued accounts, taken out of the queue: a write after this point
	-- queues its account again for the next refresh
	WITH taken AS (DELETE FROM @extschema@.refresh_queue RETURNING account_id)
	SELECT pg_catalog.array_agg(DISTINCT account_id) INTO changed FROM taken;
	IF changed IS NOT NULL THEN
		n := @extschema@.refresh_scope(changed, true, t_as_of);
	END IF;
	IF coalesce(st.credits_stale, false) THEN
		PERFORM @extschema@.refresh_scope(NULL, false, t_as_of);
	END IF;
	-- data-driven models are fitted over every journey: any change refits them
	IF changed IS NOT NULL OR coalesce(st.credits_stale, false) THEN
		PERFORM @extschema@.refresh_data_driven();
	END IF;
	RETURN @extschema@.refresh_log_row(started, t_as_of, n);
END $$;
COMMENT ON FUNCTION @extschema@.refresh_incremental() IS
'Rebuilds only what changed since the last refresh: the journeys and credits of the accounts whose CRM rows changed, every credit when the model registry changed, everything when settings, rates or channels changed. The data-driven models are refitted over every stored journey whenever anything changed. Results equal a full refresh (open opportunities of untouched accounts keep the as-of time of their last rebuild).';

-- journey_agg: a transition-space estimate (SSPACE) so the planner can hash
-- journeys by opportunity; an aggregate's SSPACE cannot be altered, so it is
-- dropped and created again (nothing in the extension depends on it)
DROP AGGREGATE @extschema@.journey_agg(pg_catalog.text, pg_catalog.timestamptz, pg_catalog.text);
CREATE AGGREGATE @extschema@.journey_agg(touch_id pg_catalog.text,
	occurred_at pg_catalog.timestamptz, channel pg_catalog.text) (
	SFUNC = @extschema@.journey_agg_trans,
	STYPE = pg_catalog.internal,
	-- the state of a typical journey (about 30 touches: touch array, id and
	-- channel pools, channel hash), about 2.9 kB per group as measured in a
	-- HashAggregate of the benchmark at 10^6 touches; without it the planner
	-- assumes 8 kB per group and hashes even fewer groups
	SSPACE = 2560,
	COMBINEFUNC = @extschema@.journey_agg_combine,
	SERIALFUNC = @extschema@.journey_agg_serialize,
	DESERIALFUNC = @extschema@.journey_agg_deserialize,
	FINALFUNC = @extschema@.journey_agg_final,
	FINALFUNC_MODIFY = READ_ONLY,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.journey_agg(pg_catalog.text, pg_catalog.timestamptz, pg_catalog.text) IS
'Builds a journey from touch rows in any order (no ORDER BY needed): ordered by (occurred_at, touch_id); a touch id may appear once. Parallel safe.';
