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
	credits_stale pg_catalog.bool NOT NULL DEFAULT false,
	stale_models pg_catalog.text[]
);
INSERT INTO @extschema@.refresh_state (journeys_stale, credits_stale)
SELECT o.journeys_stale, o.credits_stale FROM @extschema@.refresh_state_0_1_0 o;
DROP TABLE @extschema@.refresh_state_0_1_0;
COMMENT ON TABLE @extschema@.refresh_state IS 'What an incremental refresh must redo beyond the queued accounts, one row per changing transaction: every journey (settings, rates changed), every credit (channels changed, model_config truncated), or the credits of the models whose attrib.model_config rows changed.';
COMMENT ON COLUMN @extschema@.refresh_state.xid IS 'The transaction that made the change.';
COMMENT ON COLUMN @extschema@.refresh_state.journeys_stale IS 'Every journey must be rebuilt.';
COMMENT ON COLUMN @extschema@.refresh_state.credits_stale IS 'Every credit must be recomputed from the stored journeys.';
COMMENT ON COLUMN @extschema@.refresh_state.stale_models IS 'Models whose attrib.model_config row was added, changed or deleted: their credits must be recomputed from the stored journeys (NULL: none).';

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

-- Refresh performance (issue 5): journeys built with joins instead of an OR
-- EXISTS sub-plan (linear at 10^7), unattributed rows written in the credits
-- pass, incremental work proportional to the change.  refresh_scope returns
-- (n_journeys, n_credits), refresh_data_driven the credit rows it wrote, and
-- refresh_log_row takes them: new result types, so drop and create.
DROP FUNCTION @extschema@.refresh_scope(pg_catalog.text[], pg_catalog.bool, pg_catalog.timestamptz);
DROP FUNCTION @extschema@.refresh_log_row(pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.int8);
DROP FUNCTION @extschema@.refresh_data_driven();

-- Credits stored one row per (opportunity, model), as arrays (issue 5): the
-- table credit_cache of 0.1.0 becomes a view of the new table credit_store.  Its
-- rows move into credit_store.  The extension's views that read it (touch_credits
-- and the reports over it) are dropped and created again from their own
-- definitions, with their options, comments and grants.  The table's grants are
-- given on the new view and on credit_store (the views run with the reader's
-- rights), and its row-level security policies are created on credit_store (an
-- expression that does not fit credit_store stops the update).  A view of the
-- user's on any of them stops the update with its name: drop it, update, and
-- create it again.
-- (After the DROP FUNCTIONs above: 0.1.0's refresh_log_row depends on the table.)
-- Credits are stored one row per (opportunity, model), the credited touches'
-- values as arrays in journey order: a refresh writes (and indexes) one row per
-- journey and model instead of one per touch and model, which was most of its
-- cost.  attrib.credit_cache shows them one row per credited touch.
CREATE TABLE @extschema@.credit_store (
	account_id pg_catalog.text NOT NULL,
	opportunity_id pg_catalog.text NOT NULL,
	model pg_catalog.text NOT NULL,
	touch_index pg_catalog.int4[] NOT NULL,
	touch_id pg_catalog.text[] NOT NULL,
	weight pg_catalog.float8[] NOT NULL,
	credit pg_catalog.numeric[] NOT NULL,
	credit_reporting pg_catalog.numeric[] NOT NULL,
	PRIMARY KEY (account_id, opportunity_id, model)
);
COMMENT ON TABLE @extschema@.credit_store IS 'Credits as of the last refresh, one row per opportunity and enabled model: the touches that earned some, in journey order, as parallel arrays (read them through attrib.credit_cache). touch_index {0} (touch_id {NULL}) books an amount no touch could take as unattributed.';
COMMENT ON COLUMN @extschema@.credit_store.account_id IS 'Account.';
COMMENT ON COLUMN @extschema@.credit_store.opportunity_id IS 'Opportunity.';
COMMENT ON COLUMN @extschema@.credit_store.model IS 'Model name (attrib.model_registry).';
COMMENT ON COLUMN @extschema@.credit_store.touch_index IS 'Positions of the credited touches in the journey (1-based), ascending; {0} for the unattributed amount.';
COMMENT ON COLUMN @extschema@.credit_store.touch_id IS 'The credited touches ({NULL} for unattributed).';
COMMENT ON COLUMN @extschema@.credit_store.weight IS 'Their weights under the model.';
COMMENT ON COLUMN @extschema@.credit_store.credit IS 'Their credits in the opportunity''s currency.';
COMMENT ON COLUMN @extschema@.credit_store.credit_reporting IS 'Their credits in the reporting currency (an exact split of the converted amount).';

CREATE FUNCTION @extschema@.credit_arrays(
	journey @extschema@.journey, names pg_catalog.text[], models pg_catalog.text[],
	options pg_catalog.jsonb[], amount pg_catalog.numeric, scale pg_catalog.int4,
	reporting_amount pg_catalog.numeric, reporting_scale pg_catalog.int4,
	OUT model pg_catalog.text, OUT touch_index pg_catalog.int4[], OUT touch_id pg_catalog.text[],
	OUT weight pg_catalog.float8[], OUT credit pg_catalog.numeric[],
	OUT credit_reporting pg_catalog.numeric[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'attrib_credit_arrays'
LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION @extschema@.credit_arrays(@extschema@.journey, pg_catalog.text[], pg_catalog.text[], pg_catalog.jsonb[], pg_catalog.numeric, pg_catalog.int4, pg_catalog.numeric, pg_catalog.int4) IS
'The credits of attrib.credit_split, one row per model that credits some touch: the credited touches'' positions, ids, weights and both credits as arrays in journey order. What attrib.refresh() stores in attrib.credit_store.';
COMMENT ON FUNCTION @extschema@.credit_split(@extschema@.journey, pg_catalog.text[], pg_catalog.text[], pg_catalog.jsonb[], pg_catalog.numeric, pg_catalog.int4, pg_catalog.numeric, pg_catalog.int4) IS
'For each model (names[i] runs base model models[i] with options[i]), the touches that earn credit, with the amount split exactly twice: in its own currency and converted to the reporting currency. The journey is decoded once for all models. attrib.credit_arrays gives the same credits one row per model (what attrib.refresh() stores).';

DO $upgrade$
DECLARE
	ext pg_catalog.oid := (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname = 'attrib');
	cc pg_catalog.oid := '@extschema@.credit_cache'::pg_catalog.regclass;
	views pg_catalog.jsonb;
	v pg_catalog.jsonb;
	k pg_catalog.text;
	g record;
	foreign_views pg_catalog.text;
	table_grants pg_catalog.jsonb;
	policies pg_catalog.jsonb;
	rls pg_catalog.bool;
	force_rls pg_catalog.bool;
BEGIN
	-- every view that reads credit_cache, directly or through another view, with
	-- its depth (created again shallowest first), and whether it is the extension's
	CREATE TEMP TABLE attrib_upgrade_dep AS
	WITH RECURSIVE dep(oid, depth) AS (
		SELECT r.ev_class, 1
		FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
		WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
		  AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
		  AND d.refobjid = cc AND r.ev_class <> d.refobjid
		UNION ALL
		SELECT r.ev_class, dep.depth + 1
		FROM dep JOIN pg_catalog.pg_depend d ON d.refobjid = dep.oid
			AND d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
			AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
		JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
		WHERE r.ev_class <> dep.oid)
	SELECT dep.oid, max(dep.depth) AS depth,
		   EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
				   WHERE e.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND e.objid = dep.oid
					 AND e.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
					 AND e.refobjid = ext AND e.deptype = 'e') AS member
	FROM dep GROUP BY dep.oid;
	SELECT pg_catalog.string_agg(d.oid::pg_catalog.regclass::pg_catalog.text, ', ' ORDER BY 1)
	INTO foreign_views FROM attrib_upgrade_dep d WHERE NOT d.member;
	IF foreign_views IS NOT NULL THEN
		RAISE EXCEPTION 'cannot update attrib: % read% attrib.credit_cache, which becomes a view',
			foreign_views, CASE WHEN foreign_views LIKE '%,%' THEN '' ELSE 's' END
			USING ERRCODE = 'dependent_objects_still_exist',
				  DETAIL = 'The update drops attrib''s views over the stored credits and creates them again.',
				  HINT = 'Save the definition (pg_get_viewdef), drop the view, run ALTER EXTENSION attrib UPDATE, and create it again.';
	END IF;

	-- the table's grants and row-level security, to carry over
	SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
			'privilege', x.privilege_type,
			'grantee', CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE x.grantee::pg_catalog.regrole::pg_catalog.text END,
			'grantable', x.is_grantable))
	INTO table_grants
	FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) x
	WHERE c.oid = cc AND x.grantee <> c.relowner AND x.privilege_type = 'SELECT';
	SELECT c.relrowsecurity, c.relforcerowsecurity INTO rls, force_rls FROM pg_catalog.pg_class c WHERE c.oid = cc;
	SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
			'name', p.polname,
			'permissive', p.polpermissive,
			'cmd', CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
								 WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
			'roles', (SELECT pg_catalog.string_agg(CASE WHEN r = 0 THEN 'PUBLIC'
														ELSE r::pg_catalog.regrole::pg_catalog.text END, ', ')
					  FROM pg_catalog.unnest(p.polroles) r),
			'using', pg_catalog.pg_get_expr(p.polqual, p.polrelid),
			'check', pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)))
	INTO policies
	FROM pg_catalog.pg_policy p WHERE p.polrelid = cc;

	INSERT INTO @extschema@.credit_store
	SELECT c.account_id, c.opportunity_id, c.model,
		   pg_catalog.array_agg(c.touch_index ORDER BY c.touch_index),
		   pg_catalog.array_agg(c.touch_id ORDER BY c.touch_index),
		   pg_catalog.array_agg(c.weight ORDER BY c.touch_index),
		   pg_catalog.array_agg(c.credit ORDER BY c.touch_index),
		   pg_catalog.array_agg(c.credit_reporting ORDER BY c.touch_index)
	FROM @extschema@.credit_cache c
	GROUP BY c.account_id, c.opportunity_id, c.model
	ORDER BY c.account_id, c.opportunity_id, c.model;

	SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
			'name', pg_catalog.format('%I.%I', n.nspname, c.relname),
			'def', pg_catalog.pg_get_viewdef(c.oid),
			'options', coalesce(pg_catalog.array_to_string(c.reloptions, ', '), ''),
			'comment', pg_catalog.obj_description(c.oid, 'pg_class'),
			'columns', (SELECT pg_catalog.jsonb_object_agg(a.attname, pg_catalog.col_description(c.oid, a.attnum))
						FROM pg_catalog.pg_attribute a
						WHERE a.attrelid = c.oid AND a.attnum > 0
						  AND pg_catalog.col_description(c.oid, a.attnum) IS NOT NULL),
			'grants', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
							'privilege', x.privilege_type,
							'grantee', CASE WHEN x.grantee = 0 THEN 'PUBLIC'
											ELSE x.grantee::pg_catalog.regrole::pg_catalog.text END,
							'grantable', x.is_grantable))
					   FROM pg_catalog.aclexplode(c.relacl) x WHERE x.grantee <> c.relowner))
			ORDER BY d.depth, c.relname), '[]')
	INTO views
	FROM attrib_upgrade_dep d
	JOIN pg_catalog.pg_class c ON c.oid = d.oid
	JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace;
	IF pg_catalog.jsonb_array_length(views) > 0 THEN
		EXECUTE 'DROP VIEW ' || (SELECT pg_catalog.string_agg(x ->> 'name', ', ')
								 FROM pg_catalog.jsonb_array_elements(views) x);
	END IF;
	DROP TABLE @extschema@.credit_cache;
	DROP TABLE attrib_upgrade_dep;
	CREATE VIEW @extschema@.credit_cache WITH (security_invoker = true) AS
	SELECT s.account_id, s.opportunity_id, s.model, pg_catalog.unnest(s.touch_index) AS touch_index,
		   pg_catalog.unnest(s.touch_id) AS touch_id, pg_catalog.unnest(s.weight) AS weight,
		   pg_catalog.unnest(s.credit) AS credit, pg_catalog.unnest(s.credit_reporting) AS credit_reporting
	FROM @extschema@.credit_store s;
	FOR g IN SELECT * FROM pg_catalog.jsonb_to_recordset(coalesce(table_grants, '[]'))
				 AS y(privilege pg_catalog.text, grantee pg_catalog.text, grantable pg_catalog.bool)
	LOOP
		EXECUTE pg_catalog.format('GRANT SELECT ON @extschema@.credit_cache, @extschema@.credit_store TO %s%s',
								  g.grantee, CASE WHEN g.grantable THEN ' WITH GRANT OPTION' ELSE '' END);
	END LOOP;
	FOR g IN SELECT * FROM pg_catalog.jsonb_to_recordset(coalesce(policies, '[]'))
				 AS y(name pg_catalog.text, permissive pg_catalog.bool, cmd pg_catalog.text,
					  roles pg_catalog.text, "using" pg_catalog.text, "check" pg_catalog.text)
	LOOP
		BEGIN
			EXECUTE pg_catalog.format('CREATE POLICY %I ON @extschema@.credit_store AS %s FOR %s TO %s%s%s',
				g.name, CASE WHEN g.permissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END, g.cmd, g.roles,
				CASE WHEN g."using" IS NOT NULL THEN ' USING (' || g."using" || ')' ELSE '' END,
				CASE WHEN g."check" IS NOT NULL THEN ' WITH CHECK (' || g."check" || ')' ELSE '' END);
		EXCEPTION WHEN OTHERS THEN
			RAISE EXCEPTION 'cannot carry row-level security policy % of attrib.credit_cache over to attrib.credit_store: %',
				g.name, SQLERRM
				USING ERRCODE = 'invalid_object_definition',
					  HINT = 'credit_store has account_id, opportunity_id and model; the other columns are arrays. Drop the policy, update, and create it on attrib.credit_store.';
		END;
	END LOOP;
	IF rls THEN
		ALTER TABLE @extschema@.credit_store ENABLE ROW LEVEL SECURITY;
	END IF;
	IF force_rls THEN
		ALTER TABLE @extschema@.credit_store FORCE ROW LEVEL SECURITY;
	END IF;
	FOR v IN SELECT x FROM pg_catalog.jsonb_array_elements(views) x
	LOOP
		EXECUTE pg_catalog.format('CREATE VIEW %s %s AS %s', v ->> 'name',
			CASE WHEN v ->> 'options' <> '' THEN 'WITH (' || (v ->> 'options') || ')' ELSE '' END,
			v ->> 'def');
		IF v ->> 'comment' IS NOT NULL THEN
			EXECUTE pg_catalog.format('COMMENT ON VIEW %s IS %L', v ->> 'name', v ->> 'comment');
		END IF;
		FOR k IN SELECT pg_catalog.jsonb_object_keys(coalesce(NULLIF(v -> 'columns', 'null'), '{}'))
		LOOP
			EXECUTE pg_catalog.format('COMMENT ON COLUMN %s.%I IS %L', v ->> 'name', k, v -> 'columns' ->> k);
		END LOOP;
		FOR g IN SELECT * FROM pg_catalog.jsonb_to_recordset(coalesce(NULLIF(v -> 'grants', 'null'), '[]'))
					 AS y(privilege pg_catalog.text, grantee pg_catalog.text, grantable pg_catalog.bool)
		LOOP
			EXECUTE pg_catalog.format('GRANT %s ON %s TO %s%s', g.privilege, v ->> 'name', g.grantee,
									  CASE WHEN g.grantable THEN ' WITH GRANT OPTION' ELSE '' END);
		END LOOP;
	END LOOP;
END $upgrade$;
COMMENT ON VIEW @extschema@.credit_cache IS 'Credits of every touch that earned some, per enabled model, as of the last refresh (attrib.credit_store, one row per credited touch). touch_index 0 (touch_id NULL) books an amount no touch could take (no touch in the window) as unattributed.';
COMMENT ON COLUMN @extschema@.credit_cache.account_id IS 'Account.';
COMMENT ON COLUMN @extschema@.credit_cache.opportunity_id IS 'Opportunity.';
COMMENT ON COLUMN @extschema@.credit_cache.model IS 'Model name (attrib.model_registry).';
COMMENT ON COLUMN @extschema@.credit_cache.touch_index IS 'Position of the touch in the journey (1-based); 0 for the unattributed remainder.';
COMMENT ON COLUMN @extschema@.credit_cache.touch_id IS 'The touch (NULL for unattributed).';
COMMENT ON COLUMN @extschema@.credit_cache.weight IS 'The touch''s weight under the model.';
COMMENT ON COLUMN @extschema@.credit_cache.credit IS 'Credit in the opportunity''s currency.';
COMMENT ON COLUMN @extschema@.credit_cache.credit_reporting IS 'Credit in the reporting currency (an exact split of the converted amount).';

-- touch_credits reads credit_store (each row's journey and opportunity looked up by
-- key, its arrays unnested in the select list) and touch_credits_wide pivots the
-- credits per touch before joining the journey, forecast reads the credit_store
-- rows of open opportunities only: same columns and rows, plans that do not loop
-- over an account's touches for every credit or sort every credit row
CREATE OR REPLACE VIEW @extschema@.touch_credits WITH (security_invoker = true) AS
SELECT c.account_id, c.opportunity_id, c.status, c.model, r.additive,
	   c.touch_index, c.touch_id, t.occurred_at,
	   coalesce(t.channel, '(unattributed)') AS channel, ch.channel_group,
	   t.campaign_id, t.contact_id, t.touch_type, t.activity, t.owner AS touch_owner,
	   c.opportunity_owner, c.weight,
	   c.credit, c.currency, c.credit_reporting, s.reporting_currency,
	   c.opportunity_created_at, c.opportunity_closed_at
FROM (
	-- each stored row's journey and opportunity looked up by key (OFFSET 0: as
	-- a join on both key columns PostgreSQL would multiply their selectivities,
	-- plan for about one row in all, and loop over every touch of an account
	-- for each credit), then its arrays unnested in the select list (no
	-- tuplestore per row, as a function in FROM would need)
	SELECT c.account_id, c.opportunity_id, c.model, j.status, j.currency,
		   j.created_at AS opportunity_created_at, j.closed_at AS opportunity_closed_at,
		   o.owner AS opportunity_owner,
		   pg_catalog.unnest(c.touch_index) AS touch_index, pg_catalog.unnest(c.touch_id) AS touch_id,
		   pg_catalog.unnest(c.weight) AS weight, pg_catalog.unnest(c.credit) AS credit,
		   pg_catalog.unnest(c.credit_reporting) AS credit_reporting
	FROM @extschema@.credit_store c
	CROSS JOIN LATERAL (SELECT j.status, j.currency, j.created_at, j.closed_at
						FROM @extschema@.journey_cache j
						WHERE j.account_id = c.account_id AND j.opportunity_id = c.opportunity_id
						OFFSET 0) j
	CROSS JOIN LATERAL (SELECT o.owner FROM @extschema@.src_opportunities o
						WHERE o.account_id = c.account_id AND o.opportunity_id = c.opportunity_id
						OFFSET 0) o) c
JOIN @extschema@.model_registry r ON r.name = c.model
LEFT JOIN @extschema@.src_touches t ON t.account_id = c.account_id AND t.touch_id = c.touch_id
LEFT JOIN @extschema@.src_channels ch ON ch.channel = t.channel
CROSS JOIN @extschema@.effective_settings s
WHERE c.touch_index = 0 OR t.touch_id IS NOT NULL;
CREATE OR REPLACE VIEW @extschema@.touch_credits_wide WITH (security_invoker = true) AS
SELECT jn.account_id, jn.opportunity_id, jn.status, jn.touch_index, jn.touch_id, jn.occurred_at,
	   jn.channel, jn.campaign_id, jn.positions,
	   w.first_touch, w.last_touch, w.lead_creation, w.opportunity_creation, w.last_non_direct,
	   w.first_non_direct, w.linear, w.position_based, w.j_shaped, w.inverse_j, w.u_shaped,
	   w.w_shaped, w.full_path, w.custom, w.time_decay, w.influence,
	   w.other_models
FROM @extschema@.journeys jn
-- the credits are pivoted per touch first (one group per credited touch), then
-- joined to the journey's touch: grouping the joined rows by every column of
-- the journey instead sorted all credit rows by nine columns
LEFT JOIN (
	SELECT c.account_id, c.opportunity_id, c.touch_index,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'first_touch'))::pg_catalog.numeric, 4) AS first_touch,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'last_touch'))::pg_catalog.numeric, 4) AS last_touch,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'lead_creation'))::pg_catalog.numeric, 4) AS lead_creation,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'opportunity_creation'))::pg_catalog.numeric, 4) AS opportunity_creation,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'last_non_direct'))::pg_catalog.numeric, 4) AS last_non_direct,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'first_non_direct'))::pg_catalog.numeric, 4) AS first_non_direct,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'linear'))::pg_catalog.numeric, 4) AS linear,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'position_based'))::pg_catalog.numeric, 4) AS position_based,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'j_shaped'))::pg_catalog.numeric, 4) AS j_shaped,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'inverse_j'))::pg_catalog.numeric, 4) AS inverse_j,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'u_shaped'))::pg_catalog.numeric, 4) AS u_shaped,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'w_shaped'))::pg_catalog.numeric, 4) AS w_shaped,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'full_path'))::pg_catalog.numeric, 4) AS full_path,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'custom'))::pg_catalog.numeric, 4) AS custom,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'time_decay'))::pg_catalog.numeric, 4) AS time_decay,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'influence'))::pg_catalog.numeric, 4) AS influence,
		   pg_catalog.jsonb_object_agg(c.model, round((100 * c.weight)::pg_catalog.numeric, 4))
			   FILTER (WHERE c.model NOT IN (SELECT m.name FROM @extschema@.models() m)) AS other_models
	FROM @extschema@.credit_cache c
	GROUP BY c.account_id, c.opportunity_id, c.touch_index) w
	ON w.account_id = jn.account_id AND w.opportunity_id = jn.opportunity_id AND w.touch_index = jn.touch_index;
CREATE OR REPLACE VIEW @extschema@.forecast WITH (security_invoker = true) AS
SELECT c.model, c.channel,
	   pg_catalog.count(*) AS opportunities,
	   pg_catalog.sum(c.pipeline) AS pipeline,
	   pg_catalog.round(coalesce(pg_catalog.sum(c.pipeline * w.won_opportunities / w.closed_opportunities), 0),
						@extschema@.currency_scale(es.reporting_currency)) AS weighted_pipeline,
	   pg_catalog.round(coalesce(pg_catalog.sum(c.pipeline) FILTER (WHERE w.stage IS NULL), 0),
						@extschema@.currency_scale(es.reporting_currency)) AS unrated_pipeline,
	   es.reporting_currency
FROM (
	-- one row per open opportunity, model and channel
	SELECT cc.account_id, cc.opportunity_id, cc.model,
		   CASE WHEN cc.touch_index = 0 THEN '(unattributed)' ELSE t.channel END AS channel,
		   pg_catalog.sum(cc.credit_reporting) AS pipeline
	FROM (	-- the credits of open opportunities only (credit_store rows by key, unnested)
		SELECT s.account_id, s.opportunity_id, s.model,
			   pg_catalog.unnest(s.touch_index) AS touch_index, pg_catalog.unnest(s.touch_id) AS touch_id,
			   pg_catalog.unnest(s.credit_reporting) AS credit_reporting
		FROM @extschema@.journey_cache j
		JOIN @extschema@.credit_store s
			ON s.account_id = j.account_id AND s.opportunity_id = j.opportunity_id
		WHERE j.status = 'open'
		  AND s.model IN (SELECT r.name FROM @extschema@.model_registry r WHERE r.additive)) cc
	LEFT JOIN @extschema@.src_touches t
		ON t.account_id = cc.account_id AND t.touch_id = cc.touch_id
	WHERE cc.touch_index = 0 OR t.touch_id IS NOT NULL
	GROUP BY cc.account_id, cc.opportunity_id, cc.model, 4) c
JOIN @extschema@.src_opportunities o
	ON o.account_id = c.account_id AND o.opportunity_id = c.opportunity_id
LEFT JOIN @extschema@.stage_win_rates w ON w.stage = o.stage
CROSS JOIN (SELECT e.reporting_currency FROM @extschema@.effective_settings e LIMIT 1) es
GROUP BY c.model, c.channel, es.reporting_currency;

CREATE OR REPLACE FUNCTION @extschema@.refresh_scope(accounts pg_catalog.text[], journeys pg_catalog.bool,
	t_as_of pg_catalog.timestamptz, models pg_catalog.text[] DEFAULT NULL,
	OUT n_journeys pg_catalog.int8, OUT n_credits pg_catalog.int8)
RETURNS record
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_custom_plan AS $$
DECLARE
	s record;
	bad record;
	own_touches pg_catalog.bool;
BEGIN
	n_journeys := 0;
	SELECT * INTO s FROM @extschema@.effective_settings;
	own_touches := NOT EXISTS (SELECT 1 FROM @extschema@.source_map m
							   WHERE m.entity IN ('touches', 'opportunity_contact_roles'));
	IF journeys THEN
	DELETE FROM @extschema@.journey_cache j
	WHERE accounts IS NULL OR j.account_id = ANY (accounts);
	INSERT INTO @extschema@.journey_cache
	WITH opp AS (
		SELECT o.account_id, o.opportunity_id, o.amount, o.currency, o.created_at, o.closed_at,
			   CASE WHEN o.closed_at IS NULL THEN 'open' WHEN o.is_won THEN 'won' ELSE 'lost' END AS status,
			   CASE WHEN s.lookback IS NULL THEN NULL
					ELSE o.created_at - pg_catalog.date_part('epoch', s.lookback) * interval '1 second' END AS window_start,
			   coalesce(o.closed_at, t_as_of) AS window_end
		FROM @extschema@.src_opportunities o
		WHERE accounts IS NULL OR o.account_id = ANY (accounts)
	),
	-- In-scope contacts of each opportunity, for the contact scopes.  In the
	-- account scope every contact of the account is in scope of each of its
	-- opportunities: the lead and the contacts' stage events below are then
	-- taken once per account (not once per opportunity and contact, which
	-- sorted 10^5 rows and more at 10^6 touches) and given to its opportunities.
	scope AS (
		SELECT DISTINCT r.account_id, r.opportunity_id, r.contact_id
		FROM opp o JOIN @extschema@.src_opportunity_contact_roles r
			ON r.account_id = o.account_id AND r.opportunity_id = o.opportunity_id
		WHERE s.contact_scope = 'contact_roles' OR (s.contact_scope = 'primary_contact' AND r.is_primary)
	),
	account_contacts AS (	-- account scope: the contacts of the accounts refreshed
		SELECT c.account_id, c.contact_id, c.lead_created_at
		FROM @extschema@.src_contacts c
		WHERE s.contact_scope = 'account' AND (accounts IS NULL OR c.account_id = ANY (accounts))
	),
	-- The journey: touches in the window (account scope: all of the account's).
	-- On attrib's own tables, one index range scan per opportunity
	-- (touches_account_time, or touches_contact for the contact scopes) and an
	-- aggregate per opportunity: no sort or hash of every touch row.  (The
	-- window is applied again by with_context; here it only bounds the scan.)
	-- A mapped touches or contact-roles source may have no such index (a scan
	-- per opportunity would be quadratic), so it gets the window join grouped
	-- by opportunity.  own_touches is a constant of this call: the branch not
	-- taken is a false one-time filter, never run.
	jt AS (
		SELECT o.account_id, o.opportunity_id, g.journey
		FROM opp o
		CROSS JOIN LATERAL (
			SELECT @extschema@.journey_agg(x.touch_id, x.occurred_at, x.channel) AS journey
			FROM (SELECT t.touch_id, t.occurred_at, t.channel
				  FROM @extschema@.src_touches t
				  WHERE s.contact_scope = 'account' AND t.account_id = o.account_id
					AND t.occurred_at BETWEEN coalesce(o.window_start, '-infinity') AND o.window_end
				  UNION ALL
				  SELECT t.touch_id, t.occurred_at, t.channel
				  FROM @extschema@.src_opportunity_contact_roles r
				  JOIN @extschema@.src_touches t ON t.account_id = r.account_id AND t.contact_id = r.contact_id
				  WHERE s.contact_scope <> 'account'
					AND r.account_id = o.account_id AND r.opportunity_id = o.opportunity_id
					AND (s.contact_scope = 'contact_roles' OR (s.contact_scope = 'primary_contact' AND r.is_primary))
					AND t.occurred_at BETWEEN coalesce(o.window_start, '-infinity') AND o.window_end) x
		) g
		WHERE own_touches
		UNION ALL
		SELECT x.account_id, x.opportunity_id,
			   @extschema@.journey_agg(x.touch_id, x.occurred_at, x.channel) AS journey
		FROM (SELECT o.account_id, o.opportunity_id, o.window_start, o.window_end,
					 t.touch_id, t.occurred_at, t.channel
			  FROM opp o JOIN @extschema@.src_touches t ON t.account_id = o.account_id
			  WHERE s.contact_scope = 'account'
			  UNION ALL
			  SELECT o.account_id, o.opportunity_id, o.window_start, o.window_end,
					 t.touch_id, t.occurred_at, t.channel
			  FROM opp o
			  JOIN scope sc ON sc.account_id = o.account_id AND sc.opportunity_id = o.opportunity_id
			  JOIN @extschema@.src_touches t ON t.account_id = sc.account_id AND t.contact_id = sc.contact_id
			  WHERE s.contact_scope <> 'account') x
		WHERE NOT own_touches
		  AND x.occurred_at <= x.window_end
		  AND (x.window_start IS NULL OR x.occurred_at >= x.window_start)
		GROUP BY x.account_id, x.opportunity_id
	),
	lead AS (
		SELECT o.account_id, o.opportunity_id, a.lead_created_at
		FROM opp o
		JOIN (SELECT ac.account_id, min(ac.lead_created_at) AS lead_created_at
			  FROM account_contacts ac GROUP BY ac.account_id) a ON a.account_id = o.account_id
		UNION ALL
		SELECT sc.account_id, sc.opportunity_id, min(c.lead_created_at) AS lead_created_at
		FROM scope sc JOIN @extschema@.src_contacts c
			ON c.account_id = sc.account_id AND c.contact_id = sc.contact_id
		GROUP BY sc.account_id, sc.opportunity_id
	),
	stage_first AS (	-- first event of each stage: the opportunity's, or an in-scope contact's
		SELECT x.account_id, x.opportunity_id, x.stage, min(x.occurred_at) AS entered_at
		FROM (SELECT o.account_id, o.opportunity_id, e.stage, e.occurred_at
			  FROM opp o JOIN @extschema@.src_stage_events e
				ON e.account_id = o.account_id AND e.opportunity_id = o.opportunity_id
			  UNION ALL
			  SELECT o.account_id, o.opportunity_id, a.stage, a.occurred_at
			  FROM opp o
			  JOIN (SELECT e.account_id, e.stage, min(e.occurred_at) AS occurred_at
					FROM (SELECT DISTINCT ac.account_id, ac.contact_id FROM account_contacts ac) ac
					JOIN @extschema@.src_stage_events e
						ON e.account_id = ac.account_id AND e.contact_id = ac.contact_id
					GROUP BY e.account_id, e.stage) a ON a.account_id = o.account_id
			  UNION ALL
			  SELECT sc.account_id, sc.opportunity_id, e.stage, e.occurred_at
			  FROM scope sc JOIN @extschema@.src_stage_events e
				ON e.account_id = sc.account_id AND e.contact_id = sc.contact_id) x
		GROUP BY x.account_id, x.opportunity_id, x.stage
	),
	stages AS (
		SELECT account_id, opportunity_id, array_agg(stage ORDER BY stage) AS names,
			   array_agg(entered_at ORDER BY stage) AS times
		FROM stage_first GROUP BY account_id, opportunity_id
	),
	rated AS (
		SELECT o.*, round(o.amount, @extschema@.currency_scale(o.currency)) AS amount_minor,
			   CASE WHEN o.currency = s.reporting_currency THEN 1::pg_catalog.numeric
					ELSE (SELECT x.rate FROM @extschema@.src_exchange_rates x
						  WHERE x.currency = o.currency
							AND x.valid_from <= (CASE WHEN o.status = 'open' THEN o.created_at
													  ELSE o.closed_at END AT TIME ZONE 'UTC')::pg_catalog.date
						  ORDER BY x.valid_from DESC LIMIT 1) END AS rate
		FROM opp o
	)
	SELECT o.account_id, o.opportunity_id, o.status, o.amount_minor, o.currency,
		   coalesce(round(o.amount_minor * o.rate, @extschema@.currency_scale(s.reporting_currency)), 'NaN'),
		   o.created_at, o.closed_at, l.lead_created_at,
		   @extschema@.with_context(coalesce(jt.journey, '{"touches":[]}'::@extschema@.journey),
				o.status, o.created_at, o.closed_at, l.lead_created_at,
				CASE WHEN o.status = 'open' THEN t_as_of END, s.lookback, st.names, st.times)
	FROM rated o
	LEFT JOIN jt ON jt.account_id = o.account_id AND jt.opportunity_id = o.opportunity_id
	LEFT JOIN lead l ON l.account_id = o.account_id AND l.opportunity_id = o.opportunity_id
	LEFT JOIN stages st ON st.account_id = o.account_id AND st.opportunity_id = o.opportunity_id
	ORDER BY o.account_id, o.opportunity_id;		-- stored in key order (see the credits below)
	GET DIAGNOSTICS n_journeys = ROW_COUNT;

	DELETE FROM @extschema@.account_journey_cache a
	WHERE accounts IS NULL OR a.account_id = ANY (accounts);
	INSERT INTO @extschema@.account_journey_cache
	SELECT t.account_id, @extschema@.journey_agg(t.touch_id, t.occurred_at, t.channel)
	FROM @extschema@.src_touches t
	WHERE (accounts IS NULL OR t.account_id = ANY (accounts))
	  AND NOT EXISTS (SELECT 1 FROM @extschema@.src_opportunities o WHERE o.account_id = t.account_id)
	  AND t.occurred_at <= t_as_of
	  AND (s.lookback IS NULL
		   OR t.occurred_at >= t_as_of - pg_catalog.date_part('epoch', s.lookback) * interval '1 second')
	GROUP BY t.account_id;

	SELECT j.account_id, j.opportunity_id, j.currency, j.created_at, j.closed_at, j.status INTO bad
	FROM @extschema@.journey_cache j
	WHERE j.amount_reporting = 'NaN' AND (accounts IS NULL OR j.account_id = ANY (accounts)) LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'no exchange rate from % to % on %', bad.currency, s.reporting_currency,
			pg_catalog.to_char(CASE WHEN bad.status = 'open' THEN bad.created_at ELSE bad.closed_at END AT TIME ZONE 'UTC', 'YYYY-MM-DD')
			USING ERRCODE = 'no_data_found',
				  DETAIL = format('Opportunity %s of account %s needs it.', bad.opportunity_id, bad.account_id),
				  HINT = 'Add a row to attrib.exchange_rates with valid_from on or before that date.';
	END IF;
	END IF;

	-- (a full refresh deletes row by row, not TRUNCATE: readers must keep the old rows)
	DELETE FROM @extschema@.credit_store c
	WHERE (accounts IS NULL OR c.account_id = ANY (accounts))
	  AND (models IS NULL OR c.model = ANY (models));
	-- Every enabled rule-based model's credits, journey by journey in key order, so
	-- the primary key is filled in order: one row per journey and model.  An
	-- additive model that credits no touch of a journey books its amount
	-- unattributed (touch_index {0}), so totals keep every cent: the full join
	-- adds a row for each additive model credit_arrays returned nothing for.
	-- n_credits counts credit_cache rows (credited touches), as before.
	WITH ins AS (
	INSERT INTO @extschema@.credit_store
	WITH r AS (
		SELECT pg_catalog.array_agg(m.name ORDER BY m.name) AS names,
			   pg_catalog.array_agg(m.base_model ORDER BY m.name) AS models,
			   pg_catalog.array_agg(pg_catalog.jsonb_build_object('direct_channels', s.direct_channels || coalesce(
					(SELECT pg_catalog.array_agg(ch.channel) FROM @extschema@.src_channels ch WHERE ch.is_direct), '{}'))
				   || m.options ORDER BY m.name) AS options,
			   pg_catalog.array_agg(m.name ORDER BY m.name) FILTER (WHERE m.additive) AS additive
		FROM @extschema@.model_registry m
		WHERE m.enabled AND NOT m.data_driven AND (models IS NULL OR m.name = ANY (models))
	)
	SELECT j.account_id, j.opportunity_id, c.model, c.touch_index, c.touch_id, c.weight,
		   c.credit, c.credit_reporting
	FROM @extschema@.journey_cache j
	CROSS JOIN LATERAL (
		SELECT coalesce(k.model, u.name) AS model,
			   coalesce(k.touch_index, '{0}') AS touch_index,
			   coalesce(k.touch_id, '{NULL}') AS touch_id, coalesce(k.weight, '{1}') AS weight,
			   coalesce(k.credit, ARRAY[j.amount]) AS credit,
			   coalesce(k.credit_reporting, ARRAY[j.amount_reporting]) AS credit_reporting
		FROM @extschema@.credit_arrays(j.journey, (SELECT r.names FROM r), (SELECT r.models FROM r),
				(SELECT r.options FROM r), j.amount, @extschema@.currency_scale(j.currency),
				j.amount_reporting, @extschema@.currency_scale(s.reporting_currency)) k
		FULL JOIN pg_catalog.unnest((SELECT r.additive FROM r)) u(name) ON u.name = k.model
	) c
	WHERE (SELECT r.names FROM r) IS NOT NULL
	  AND (accounts IS NULL OR j.account_id = ANY (accounts))
	ORDER BY j.account_id, j.opportunity_id
	RETURNING pg_catalog.cardinality(touch_index) AS n)
	SELECT coalesce(pg_catalog.sum(ins.n), 0) INTO n_credits FROM ins;
END $$;
COMMENT ON FUNCTION @extschema@.refresh_scope(pg_catalog.text[], pg_catalog.bool, pg_catalog.timestamptz, pg_catalog.text[]) IS
'The work of a refresh for some accounts (NULL: all): rebuild their journeys from the sources (when journeys is true) and their credits from the stored journeys, of every rule-based model or only of models (NULL: all). Called by attrib.refresh() and attrib.refresh_incremental(); returns the journeys rebuilt and the credit rows written.';


CREATE OR REPLACE FUNCTION @extschema@.refresh_log_row(started pg_catalog.timestamptz, t_as_of pg_catalog.timestamptz,
	n_opps pg_catalog.int8, n_credits pg_catalog.int8)
RETURNS @extschema@.refresh_log
LANGUAGE sql SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	INSERT INTO @extschema@.refresh_log
	VALUES (pg_catalog.now(), t_as_of, n_opps, n_credits, pg_catalog.clock_timestamp() - started)
	ON CONFLICT (refreshed_at) DO UPDATE
		SET as_of = EXCLUDED.as_of, opportunities = EXCLUDED.opportunities,
			credit_rows = EXCLUDED.credit_rows, duration = EXCLUDED.duration
	RETURNING *;
END;
COMMENT ON FUNCTION @extschema@.refresh_log_row(pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.int8, pg_catalog.int8) IS
'Records a refresh in attrib.refresh_log and returns the row.';

CREATE OR REPLACE FUNCTION @extschema@.refresh_data_driven()
RETURNS pg_catalog.int8
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r record;
	s record;
	fit pg_catalog.text;
	stale pg_catalog.text[];
	n pg_catalog.int8;
	n_credits pg_catalog.int8 := 0;
BEGIN
	SELECT * INTO s FROM @extschema@.effective_settings;
	-- The credit rows of data-driven models are replaced.  Only the models this
	-- function fitted last time (fitted_models) can have any, and the enabled ones
	-- will: with none of either (the default), credit_store is not read at all.
	-- (A model that stopped or started being data-driven changed its model_config
	-- row: the refresh deleted that model's credits first.)
	stale := ARRAY(SELECT m.name FROM @extschema@.model_registry m
				   WHERE m.data_driven
					 AND (m.enabled OR m.name IN (SELECT f.model FROM @extschema@.fitted_models f)));
	DELETE FROM @extschema@.fitted_models;
	IF pg_catalog.cardinality(stale) > 0 THEN
		DELETE FROM @extschema@.credit_store c WHERE c.model = ANY (stale);
	END IF;
	FOR r IN SELECT m.name, m.base_model, m.options - 'order' AS options,
					coalesce((m.options ->> 'order')::pg_catalog.int4, 1) AS k
			 FROM @extschema@.model_registry m
			 WHERE m.enabled AND m.data_driven ORDER BY m.name
	LOOP
		-- base_model is markov or shapley (checked when registered): the column of
		-- fitted_models and the fit aggregate are named after it
		fit := CASE r.base_model WHEN 'markov' THEN '@extschema@.markov_fit(x.journey, x.converted, $2)'
								 ELSE '@extschema@.shapley_fit(x.journey, x.converted)' END;
		-- converting: won; not converting: lost, and accounts without an opportunity
		EXECUTE format($q$
			INSERT INTO @extschema@.fitted_models (model, %I, fitted_at)
			SELECT $1, %s, pg_catalog.now()
			FROM (SELECT j.journey, j.status = 'won' AS converted FROM @extschema@.journey_cache j
				  WHERE j.status IN ('won', 'lost')
				  UNION ALL
				  SELECT a.journey, false FROM @extschema@.account_journey_cache a) x$q$,
			r.base_model, fit)
			USING r.name, r.k;
		-- one credit_store row per journey (its credited touches as arrays, in
		-- journey order); n counts the credited touches (credit_cache rows)
		EXECUTE format($q$
			WITH ins AS (
			INSERT INTO @extschema@.credit_store
			SELECT j.account_id, j.opportunity_id, $1, c.*
			FROM @extschema@.journey_cache j
			CROSS JOIN (SELECT f.%1$I AS fitted FROM @extschema@.fitted_models f WHERE f.model = $1) f
			CROSS JOIN LATERAL (
				SELECT pg_catalog.array_agg(a.touch_index ORDER BY a.touch_index),
					   pg_catalog.array_agg(a.touch_id ORDER BY a.touch_index),
					   pg_catalog.array_agg(a.weight ORDER BY a.touch_index),
					   pg_catalog.array_agg(a.credit ORDER BY a.touch_index),
					   pg_catalog.array_agg(b.credit ORDER BY a.touch_index)
				FROM @extschema@.credits(j.journey, f.fitted, j.amount, $2,
										 @extschema@.currency_scale(j.currency)) a
				JOIN @extschema@.credits(j.journey, f.fitted, j.amount_reporting, $2,
										 @extschema@.currency_scale($3)) b
					ON b.touch_index = a.touch_index
				WHERE a.weight > 0
				HAVING pg_catalog.count(*) > 0) c
			RETURNING pg_catalog.cardinality(touch_index) AS n)
			SELECT coalesce(pg_catalog.sum(ins.n), 0) FROM ins$q$, r.base_model)
			INTO n
			USING r.name, r.options, s.reporting_currency;
		n_credits := n_credits + n;
		-- what no touch could take is booked unattributed, so totals keep every cent
		INSERT INTO @extschema@.credit_store
		SELECT j.account_id, j.opportunity_id, r.name, '{0}', '{NULL}', '{1}',
			   ARRAY[j.amount], ARRAY[j.amount_reporting]
		FROM @extschema@.journey_cache j
		WHERE NOT EXISTS (SELECT 1 FROM @extschema@.credit_store c
						  WHERE c.account_id = j.account_id AND c.opportunity_id = j.opportunity_id
							AND c.model = r.name);
		GET DIAGNOSTICS n = ROW_COUNT;
		n_credits := n_credits + n;
	END LOOP;
	RETURN n_credits;
END $$;
COMMENT ON FUNCTION @extschema@.refresh_data_driven() IS
'Fits every enabled data-driven model over the stored journeys (won: converting; lost and accounts without an opportunity: not; open: left out) and stores every opportunity''s credits (won, open and lost) under it; returns the credit rows written. Called by attrib.refresh() and attrib.refresh_incremental().';


CREATE OR REPLACE FUNCTION @extschema@.refresh()
RETURNS @extschema@.refresh_log
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	started pg_catalog.timestamptz := pg_catalog.clock_timestamp();
	t_as_of pg_catalog.timestamptz := @extschema@.refresh_begin();
	r record;
BEGIN
	DELETE FROM @extschema@.refresh_queue;
	DELETE FROM @extschema@.refresh_state;
	r := @extschema@.refresh_scope(NULL, true, t_as_of);
	RETURN @extschema@.refresh_log_row(started, t_as_of, r.n_journeys,
		r.n_credits + @extschema@.refresh_data_driven());
END $$;
COMMENT ON FUNCTION @extschema@.refresh() IS
'Rebuilds every opportunity''s journey and every enabled model''s credits from the sources, in the caller''s transaction: readers see the old results until commit and are never blocked; refreshes run one at a time.';

CREATE OR REPLACE FUNCTION @extschema@.refresh_incremental()
RETURNS @extschema@.refresh_log
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	started pg_catalog.timestamptz := pg_catalog.clock_timestamp();
	t_as_of pg_catalog.timestamptz := @extschema@.refresh_begin();
	st record;
	r record;
	changed pg_catalog.text[];
	n pg_catalog.int8 := 0;
	n_credits pg_catalog.int8 := 0;
BEGIN
	-- the marks of committed changes (the statement's snapshot); a change
	-- committing later keeps its mark for the next refresh
	WITH taken AS (DELETE FROM @extschema@.refresh_state RETURNING journeys_stale, credits_stale, stale_models)
	SELECT pg_catalog.bool_or(journeys_stale) AS journeys_stale, pg_catalog.bool_or(credits_stale) AS credits_stale,
		   (SELECT pg_catalog.array_agg(DISTINCT m) FROM taken t2, pg_catalog.unnest(t2.stale_models) m) AS stale_models
	INTO st FROM taken;
	IF coalesce(st.journeys_stale, false) THEN
		DELETE FROM @extschema@.refresh_queue;
		r := @extschema@.refresh_scope(NULL, true, t_as_of);
		RETURN @extschema@.refresh_log_row(started, t_as_of, r.n_journeys,
			r.n_credits + @extschema@.refresh_data_driven());
	END IF;
	-- the queued accounts, taken out of the queue: a write after this point
	-- queues its account again for the next refresh
	WITH taken AS (DELETE FROM @extschema@.refresh_queue RETURNING account_id)
	SELECT pg_catalog.array_agg(DISTINCT account_id) INTO changed FROM taken;
	IF changed IS NOT NULL THEN
		r := @extschema@.refresh_scope(changed, true, t_as_of);
		n := r.n_journeys;
		n_credits := r.n_credits;
	END IF;
	IF coalesce(st.credits_stale, false) THEN
		r := @extschema@.refresh_scope(NULL, false, t_as_of);
		n_credits := r.n_credits;		-- every rule-based credit, rewritten
	ELSIF st.stale_models IS NOT NULL THEN
		-- the changed models' credits, every journey's (the rebuilt accounts' again)
		r := @extschema@.refresh_scope(NULL, false, t_as_of, st.stale_models);
		n_credits := n_credits + r.n_credits;
	END IF;
	-- data-driven models are fitted over every journey: a changed journey, every
	-- credit stale, or a changed data-driven model (now or when last fitted)
	-- refits them; a changed rule-based model alone leaves their fits as they are
	IF changed IS NOT NULL OR coalesce(st.credits_stale, false)
	   OR EXISTS (SELECT 1 FROM @extschema@.model_registry m
				  WHERE m.data_driven AND m.name = ANY (st.stale_models))
	   OR EXISTS (SELECT 1 FROM @extschema@.fitted_models f WHERE f.model = ANY (st.stale_models)) THEN
		n_credits := n_credits + @extschema@.refresh_data_driven();
	END IF;
	RETURN @extschema@.refresh_log_row(started, t_as_of, n, n_credits);
END $$;
COMMENT ON FUNCTION @extschema@.refresh_incremental() IS
'Rebuilds only what changed since the last refresh: the journeys and credits of the accounts whose CRM rows changed, the credits of the models whose attrib.model_config rows changed, every credit when channels changed, everything when settings or rates changed. The data-driven models are refitted over every stored journey when a journey, every credit or a data-driven model changed. Results equal a full refresh (open opportunities of untouched accounts keep the as-of time of their last rebuild).';

COMMENT ON TABLE @extschema@.refresh_log IS 'One row per refresh (attrib.refresh() or attrib.refresh_incremental()): when, the as-of time used, and how much it rebuilt.';
COMMENT ON COLUMN @extschema@.refresh_log.refreshed_at IS 'Transaction time of the refresh.';
COMMENT ON COLUMN @extschema@.refresh_log.as_of IS 'As-of time of open opportunities.';
COMMENT ON COLUMN @extschema@.refresh_log.opportunities IS 'Journeys it rebuilt: every opportunity''s for a full refresh, those of the changed accounts for an incremental one.';
COMMENT ON COLUMN @extschema@.refresh_log.credit_rows IS 'Credit rows it wrote: every row of attrib.credit_cache for a full refresh; for an incremental one, those of the rebuilt accounts, those of the models whose attrib.model_config rows changed (every rule-based one when channels changed; a changed model''s rows of rebuilt accounts count twice) and every data-driven model''s when they were refitted.';
COMMENT ON COLUMN @extschema@.refresh_log.duration IS 'Wall-clock time the refresh took.';

-- schedule_refresh gains incremental (schedules attrib.refresh_incremental()).
DROP FUNCTION @extschema@.schedule_refresh(pg_catalog.text);
CREATE FUNCTION @extschema@.schedule_refresh(schedule pg_catalog.text DEFAULT '0 * * * *',
	incremental pg_catalog.bool DEFAULT false)
RETURNS pg_catalog.int8
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	job pg_catalog.int8;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
		RAISE EXCEPTION 'pg_cron is not installed in this database'
			USING ERRCODE = 'feature_not_supported',
				  HINT = 'Install pg_cron (shared_preload_libraries = ''pg_cron'', then CREATE EXTENSION pg_cron), or run SELECT attrib.refresh() from your own scheduler.';
	END IF;
	IF incremental IS NULL THEN
		RAISE EXCEPTION 'incremental must be true or false, not NULL'
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = 'Pass false for a full refresh, true for attrib.refresh_incremental().';
	END IF;
	EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
		USING CASE WHEN incremental THEN 'attrib-refresh-incremental' ELSE 'attrib-refresh' END, schedule,
			  CASE WHEN incremental THEN 'SELECT @extschema@.refresh_incremental()'
				   ELSE 'SELECT @extschema@.refresh()' END;
	RETURN job;
END $$;
COMMENT ON FUNCTION @extschema@.schedule_refresh(pg_catalog.text, pg_catalog.bool) IS
'Schedules attrib.refresh() with pg_cron under the job name attrib-refresh (cron syntax; default hourly), or with incremental => true attrib.refresh_incremental() under attrib-refresh-incremental (both can be scheduled, e.g. a nightly full refresh and an incremental one every few minutes); scheduling again replaces that job''s schedule. An error if pg_cron is not installed.';

-- a changed model_config row makes only that model's credits stale
CREATE OR REPLACE FUNCTION @extschema@.track_models() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	names pg_catalog.text[];
BEGIN
	IF TG_OP = 'INSERT' THEN
		SELECT pg_catalog.array_agg(DISTINCT n.name) INTO names FROM new_rows n;
	ELSIF TG_OP = 'DELETE' THEN
		SELECT pg_catalog.array_agg(DISTINCT o.name) INTO names FROM old_rows o;
	ELSE		-- the rows that really changed: an UPDATE that set the same values marks nothing
		SELECT pg_catalog.array_agg(DISTINCT x.name) INTO names
		FROM ((SELECT * FROM new_rows EXCEPT SELECT * FROM old_rows)
			  UNION ALL (SELECT * FROM old_rows EXCEPT SELECT * FROM new_rows)) x;
	END IF;
	IF names IS NOT NULL THEN
		INSERT INTO @extschema@.refresh_state AS r (stale_models) VALUES (names)
		ON CONFLICT (xid) DO UPDATE
			SET stale_models = ARRAY(SELECT DISTINCT m
									 FROM pg_catalog.unnest(r.stale_models || EXCLUDED.stale_models) m
									 ORDER BY m);
	END IF;
	RETURN NULL;
END $$;
COMMENT ON FUNCTION @extschema@.track_models() IS 'Trigger: marks the credits of the models whose attrib.model_config rows changed stale for incremental refresh.';
DROP TRIGGER track_stale ON @extschema@.model_config;
CREATE TRIGGER track_stale AFTER TRUNCATE ON @extschema@.model_config
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_stale('credits');
CREATE TRIGGER track_insert AFTER INSERT ON @extschema@.model_config REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_models();
CREATE TRIGGER track_update AFTER UPDATE ON @extschema@.model_config REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_models();
CREATE TRIGGER track_delete AFTER DELETE ON @extschema@.model_config REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_models();
