
-- ------------------------------------------------------------------
-- refresh.sql — sources, the stored journeys and credits, and refresh.
--
-- Reports read the CRM through the src_* views: by default they select from
-- attrib's own tables; attrib.map_source() points one at a relation the CRM
-- already has.  attrib.refresh() builds every opportunity's journey from the
-- sources in one statement (one snapshot), then every enabled model's credits
-- from those journeys, inside the caller's transaction: readers keep seeing the
-- previous results until it commits and are never blocked.
-- ------------------------------------------------------------------

CREATE FUNCTION @extschema@.currency_scale(currency pg_catalog.bpchar)
RETURNS pg_catalog.int4
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE WHEN currency IN ('BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG',
							  'RWF', 'UGX', 'UYI', 'VND', 'VUV', 'XAF', 'XOF', 'XPF') THEN 0
			WHEN currency IN ('BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND') THEN 3
			WHEN currency IN ('CLF', 'UYW') THEN 4
			ELSE 2 END;
COMMENT ON FUNCTION @extschema@.currency_scale(pg_catalog.bpchar) IS
'Decimals of the ISO 4217 minor unit (JPY 0, KWD 3, most 2): the scale credits are split at.';

CREATE FUNCTION @extschema@.credit_split(
	journey @extschema@.journey, names pg_catalog.text[], models pg_catalog.text[],
	options pg_catalog.jsonb[], amount pg_catalog.numeric, scale pg_catalog.int4,
	reporting_amount pg_catalog.numeric, reporting_scale pg_catalog.int4,
	OUT model pg_catalog.text, OUT touch_index pg_catalog.int4, OUT touch_id pg_catalog.text,
	OUT weight pg_catalog.float8, OUT credit pg_catalog.numeric,
	OUT credit_reporting pg_catalog.numeric)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'attrib_credit_split'
LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 100;
COMMENT ON FUNCTION @extschema@.credit_split(@extschema@.journey, pg_catalog.text[], pg_catalog.text[], pg_catalog.jsonb[], pg_catalog.numeric, pg_catalog.int4, pg_catalog.numeric, pg_catalog.int4) IS
'For each model (names[i] runs base model models[i] with options[i]), the touches that earn credit, with the amount split exactly twice: in its own currency and converted to the reporting currency. The journey is decoded once for all models. attrib.credit_arrays gives the same credits one row per model (what attrib.refresh() stores).';

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

-- ------------------------------------------------------------------
-- Sources
-- ------------------------------------------------------------------

CREATE VIEW @extschema@.src_accounts WITH (security_invoker = true) AS SELECT * FROM @extschema@.accounts;
CREATE VIEW @extschema@.src_contacts WITH (security_invoker = true) AS SELECT * FROM @extschema@.contacts;
CREATE VIEW @extschema@.src_opportunities WITH (security_invoker = true) AS SELECT * FROM @extschema@.opportunities;
CREATE VIEW @extschema@.src_opportunity_contact_roles WITH (security_invoker = true) AS SELECT * FROM @extschema@.opportunity_contact_roles;
CREATE VIEW @extschema@.src_stage_events WITH (security_invoker = true) AS SELECT * FROM @extschema@.stage_events;
CREATE VIEW @extschema@.src_touches WITH (security_invoker = true) AS SELECT * FROM @extschema@.touches;
CREATE VIEW @extschema@.src_campaigns WITH (security_invoker = true) AS SELECT * FROM @extschema@.campaigns;
CREATE VIEW @extschema@.src_channels WITH (security_invoker = true) AS SELECT * FROM @extschema@.channels;
CREATE VIEW @extschema@.src_exchange_rates WITH (security_invoker = true) AS SELECT * FROM @extschema@.exchange_rates;
COMMENT ON VIEW @extschema@.src_accounts IS 'Source of accounts for refresh and reports: attrib.accounts, or the relation given to attrib.map_source(''accounts'', ...).';
COMMENT ON VIEW @extschema@.src_contacts IS 'Source of contacts (see attrib.map_source).';
COMMENT ON VIEW @extschema@.src_opportunities IS 'Source of opportunities (see attrib.map_source).';
COMMENT ON VIEW @extschema@.src_opportunity_contact_roles IS 'Source of opportunity contact roles (see attrib.map_source).';
COMMENT ON VIEW @extschema@.src_stage_events IS 'Source of stage events (see attrib.map_source).';
COMMENT ON VIEW @extschema@.src_touches IS 'Source of touches (see attrib.map_source).';
COMMENT ON VIEW @extschema@.src_campaigns IS 'Source of campaigns (see attrib.map_source).';
COMMENT ON VIEW @extschema@.src_channels IS 'Source of channels (see attrib.map_source).';
COMMENT ON VIEW @extschema@.src_exchange_rates IS 'Source of exchange rates (see attrib.map_source).';

CREATE TABLE @extschema@.source_map (
	entity pg_catalog.text PRIMARY KEY,
	relation pg_catalog.text NOT NULL
);
COMMENT ON TABLE @extschema@.source_map IS 'Which CRM relation each src_* view reads, as set by attrib.map_source(); re-applied by attrib.refresh() (e.g. after a restore).';
COMMENT ON COLUMN @extschema@.source_map.entity IS 'accounts, contacts, opportunities, opportunity_contact_roles, stage_events, touches, campaigns, channels or exchange_rates.';
COMMENT ON COLUMN @extschema@.source_map.relation IS 'The relation (table or view) read instead of attrib''s own table.';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.source_map', '');

CREATE FUNCTION @extschema@.map_source(entity pg_catalog.text, relation pg_catalog.regclass)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	target pg_catalog.regclass;
	cols pg_catalog.text := '';
	r record;
BEGIN
	IF entity IS NULL OR entity NOT IN ('accounts', 'contacts', 'opportunities', 'opportunity_contact_roles',
									   'stage_events', 'touches', 'campaigns', 'channels', 'exchange_rates') THEN
		RAISE EXCEPTION 'unknown source entity "%"', entity
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Entities: accounts, contacts, opportunities, opportunity_contact_roles, stage_events, touches, campaigns, channels, exchange_rates.';
	END IF;
	target := format('@extschema@.%I', entity)::pg_catalog.regclass;
	IF relation IS NULL THEN
		relation := target;		-- back to attrib's own table
	END IF;
	FOR r IN
		SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS typ, a.attnotnull,
			   pg_get_expr(d.adbin, d.adrelid) AS dflt
		FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum
	LOOP
		IF EXISTS (SELECT 1 FROM pg_attribute b WHERE b.attrelid = relation AND b.attname = r.attname
				   AND b.attnum > 0 AND NOT b.attisdropped) THEN
			cols := cols || format('%I::%s AS %I, ', r.attname, r.typ, r.attname);
		ELSIF r.dflt IS NOT NULL THEN
			cols := cols || format('%s::%s AS %I, ', r.dflt, r.typ, r.attname);
		ELSIF r.attnotnull THEN
			RAISE EXCEPTION 'relation % has no column "%" needed for %', relation, r.attname, entity
				USING ERRCODE = 'undefined_column',
					  HINT = 'Map it through a view that names the column, e.g. SELECT hs_id AS ' || r.attname || ' ...';
		ELSE
			cols := cols || format('NULL::%s AS %I, ', r.typ, r.attname);
		END IF;
	END LOOP;
	EXECUTE format('CREATE OR REPLACE VIEW @extschema@.%I WITH (security_invoker = true) AS SELECT %s FROM %s',
				   'src_' || entity, left(cols, -2), relation);
	IF relation = target THEN
		DELETE FROM @extschema@.source_map m WHERE m.entity = map_source.entity;
	ELSE
		INSERT INTO @extschema@.source_map VALUES (entity, relation::pg_catalog.text)
		ON CONFLICT ON CONSTRAINT source_map_pkey DO UPDATE SET relation = EXCLUDED.relation;
	END IF;
END $$;
COMMENT ON FUNCTION @extschema@.map_source(pg_catalog.text, pg_catalog.regclass) IS
'Points a source (e.g. ''touches'') at a relation the CRM already has, without copying: its columns are matched by name and cast to attrib''s types; missing optional columns read as NULL. NULL maps back to attrib''s own table.';

-- ------------------------------------------------------------------
-- Stored results
-- ------------------------------------------------------------------

CREATE TABLE @extschema@.journey_cache (
	account_id pg_catalog.text NOT NULL,
	opportunity_id pg_catalog.text NOT NULL,
	status pg_catalog.text NOT NULL CHECK (status IN ('won', 'open', 'lost')),
	amount pg_catalog.numeric NOT NULL,
	currency pg_catalog.bpchar(3) NOT NULL,
	amount_reporting pg_catalog.numeric NOT NULL,
	created_at pg_catalog.timestamptz NOT NULL,
	closed_at pg_catalog.timestamptz,
	lead_created_at pg_catalog.timestamptz,
	journey @extschema@.journey NOT NULL,
	PRIMARY KEY (account_id, opportunity_id)
);
COMMENT ON TABLE @extschema@.journey_cache IS 'Every opportunity''s journey with its context, as of the last attrib.refresh().';
COMMENT ON COLUMN @extschema@.journey_cache.account_id IS 'Account.';
COMMENT ON COLUMN @extschema@.journey_cache.opportunity_id IS 'Opportunity.';
COMMENT ON COLUMN @extschema@.journey_cache.status IS 'won, open or lost.';
COMMENT ON COLUMN @extschema@.journey_cache.amount IS 'Amount in the opportunity''s currency, rounded to its minor unit.';
COMMENT ON COLUMN @extschema@.journey_cache.currency IS 'Currency of amount.';
COMMENT ON COLUMN @extschema@.journey_cache.amount_reporting IS 'Amount in the reporting currency (rate at close for closed, at creation for open).';
COMMENT ON COLUMN @extschema@.journey_cache.created_at IS 'Opportunity creation.';
COMMENT ON COLUMN @extschema@.journey_cache.closed_at IS 'Opportunity close (NULL when open).';
COMMENT ON COLUMN @extschema@.journey_cache.lead_created_at IS 'Earliest lead creation of the in-scope contacts.';
COMMENT ON COLUMN @extschema@.journey_cache.journey IS 'The journey in its window, with context.';

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

-- (the arrays are unnested in the select list: as functions in FROM each row would
-- fill five tuplestores, which made reading every credit three times slower)
CREATE VIEW @extschema@.credit_cache WITH (security_invoker = true) AS
SELECT s.account_id, s.opportunity_id, s.model, pg_catalog.unnest(s.touch_index) AS touch_index,
	   pg_catalog.unnest(s.touch_id) AS touch_id, pg_catalog.unnest(s.weight) AS weight,
	   pg_catalog.unnest(s.credit) AS credit, pg_catalog.unnest(s.credit_reporting) AS credit_reporting
FROM @extschema@.credit_store s;
COMMENT ON VIEW @extschema@.credit_cache IS 'Credits of every touch that earned some, per enabled model, as of the last refresh (attrib.credit_store, one row per credited touch). touch_index 0 (touch_id NULL) books an amount no touch could take (no touch in the window) as unattributed.';
COMMENT ON COLUMN @extschema@.credit_cache.account_id IS 'Account.';
COMMENT ON COLUMN @extschema@.credit_cache.opportunity_id IS 'Opportunity.';
COMMENT ON COLUMN @extschema@.credit_cache.model IS 'Model name (attrib.model_registry).';
COMMENT ON COLUMN @extschema@.credit_cache.touch_index IS 'Position of the touch in the journey (1-based); 0 for the unattributed remainder.';
COMMENT ON COLUMN @extschema@.credit_cache.touch_id IS 'The touch (NULL for unattributed).';
COMMENT ON COLUMN @extschema@.credit_cache.weight IS 'The touch''s weight under the model.';
COMMENT ON COLUMN @extschema@.credit_cache.credit IS 'Credit in the opportunity''s currency.';
COMMENT ON COLUMN @extschema@.credit_cache.credit_reporting IS 'Credit in the reporting currency (an exact split of the converted amount).';

CREATE TABLE @extschema@.account_journey_cache (
	account_id pg_catalog.text PRIMARY KEY,
	journey @extschema@.journey NOT NULL
);
COMMENT ON TABLE @extschema@.account_journey_cache IS 'Journeys of accounts that have touches but no opportunity (touches from as_of - lookback to as_of): the non-converting paths the data-driven models are also fitted on.';
COMMENT ON COLUMN @extschema@.account_journey_cache.account_id IS 'Account without an opportunity.';
COMMENT ON COLUMN @extschema@.account_journey_cache.journey IS 'Its touches in the window, without context.';

CREATE TABLE @extschema@.refresh_log (
	refreshed_at pg_catalog.timestamptz PRIMARY KEY,
	as_of pg_catalog.timestamptz NOT NULL,
	opportunities pg_catalog.int8 NOT NULL,
	credit_rows pg_catalog.int8 NOT NULL,
	duration pg_catalog.interval NOT NULL
);
COMMENT ON TABLE @extschema@.refresh_log IS 'One row per refresh (attrib.refresh() or attrib.refresh_incremental()): when, the as-of time used, and how much it rebuilt.';
COMMENT ON COLUMN @extschema@.refresh_log.refreshed_at IS 'Transaction time of the refresh.';
COMMENT ON COLUMN @extschema@.refresh_log.as_of IS 'As-of time of open opportunities.';
COMMENT ON COLUMN @extschema@.refresh_log.opportunities IS 'Journeys it rebuilt: every opportunity''s for a full refresh, those of the changed accounts for an incremental one.';
COMMENT ON COLUMN @extschema@.refresh_log.credit_rows IS 'Credit rows it wrote: every row of attrib.credit_cache for a full refresh; for an incremental one, those of the rebuilt accounts, those of the models whose attrib.model_config rows changed (every rule-based one when channels changed; a changed model''s rows of rebuilt accounts count twice) and every data-driven model''s when they were refitted.';
COMMENT ON COLUMN @extschema@.refresh_log.duration IS 'Wall-clock time the refresh took.';

-- ------------------------------------------------------------------
-- Refresh
-- ------------------------------------------------------------------

-- Every statement below is restricted to the accounts by
-- "accounts IS NULL OR x.account_id = ANY (accounts)".  The function is planned
-- with its arguments' values (plan_cache_mode = force_custom_plan), so that
-- folds to nothing for a full refresh and to an index condition on account_id
-- for an incremental one: the work stays proportional to the accounts rebuilt.
-- (A generic plan would read every row of every table for a few accounts.)
-- The contact scope selects one branch of each UNION ALL by a constant
-- condition, so each branch is a plain join (never an OR with a subquery,
-- which PostgreSQL cannot turn into a join).
CREATE FUNCTION @extschema@.refresh_scope(accounts pg_catalog.text[], journeys pg_catalog.bool,
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

-- ------------------------------------------------------------------
-- Change tracking for incremental refresh.  Statement-level triggers on
-- attrib's CRM tables queue the accounts whose rows changed; changes to
-- settings or rates make every journey stale, changes to channels every
-- credit, and changes to attrib.model_config the credits of the models named
-- in the changed rows (old and new names).  (Mapped sources are not tracked: call
-- attrib.mark_changed() or run a full refresh.)
--
-- Both tables are keyed by the writing transaction's id as well, so a writer
-- only ever conflicts with its own rows, and a refresh only ever deletes rows
-- of transactions that committed before it looked: a write never waits for a
-- refresh (nor a refresh for a write, so no deadlock when a transaction both
-- writes and refreshes), and a write committing while a refresh runs keeps its
-- mark for the next one.  (With one row per account, a refresh deleting an
-- account's row made a concurrent write of that account wait until the refresh
-- committed, and a write whose row already existed was taken out of the queue
-- by a refresh that could not see it yet: a lost update.  See the isolation
-- specs in specs/.)
-- ------------------------------------------------------------------

CREATE TABLE @extschema@.refresh_queue (
	account_id pg_catalog.text NOT NULL,
	xid pg_catalog.xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
	PRIMARY KEY (account_id, xid)
);
COMMENT ON TABLE @extschema@.refresh_queue IS 'Accounts whose CRM rows changed since the last refresh, once per writing transaction: attrib.refresh_incremental() rebuilds exactly these.';
COMMENT ON COLUMN @extschema@.refresh_queue.account_id IS 'Account to rebuild.';
COMMENT ON COLUMN @extschema@.refresh_queue.xid IS 'The transaction that queued it.';

CREATE TABLE @extschema@.refresh_state (
	xid pg_catalog.xid8 PRIMARY KEY DEFAULT pg_catalog.pg_current_xact_id(),
	journeys_stale pg_catalog.bool NOT NULL DEFAULT false,
	credits_stale pg_catalog.bool NOT NULL DEFAULT false,
	stale_models pg_catalog.text[]
);
COMMENT ON TABLE @extschema@.refresh_state IS 'What an incremental refresh must redo beyond the queued accounts, one row per changing transaction: every journey (settings, rates changed), every credit (channels changed, model_config truncated), or the credits of the models whose attrib.model_config rows changed.';
COMMENT ON COLUMN @extschema@.refresh_state.xid IS 'The transaction that made the change.';
COMMENT ON COLUMN @extschema@.refresh_state.journeys_stale IS 'Every journey must be rebuilt.';
COMMENT ON COLUMN @extschema@.refresh_state.credits_stale IS 'Every credit must be recomputed from the stored journeys.';
COMMENT ON COLUMN @extschema@.refresh_state.stale_models IS 'Models whose attrib.model_config row was added, changed or deleted: their credits must be recomputed from the stored journeys (NULL: none).';

CREATE FUNCTION @extschema@.mark_changed(accounts pg_catalog.text[])
RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	INSERT INTO @extschema@.refresh_queue (account_id)
	SELECT DISTINCT a FROM pg_catalog.unnest(accounts) a WHERE a IS NOT NULL
	ON CONFLICT DO NOTHING;
END;
COMMENT ON FUNCTION @extschema@.mark_changed(pg_catalog.text[]) IS
'Queues accounts for the next attrib.refresh_incremental() (the triggers do this for attrib''s own tables; call it when a mapped source changes).';

CREATE FUNCTION @extschema@.track_accounts() RETURNS trigger
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

CREATE FUNCTION @extschema@.track_stale() RETURNS trigger
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

CREATE FUNCTION @extschema@.track_models() RETURNS trigger
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

CREATE TRIGGER track_insert AFTER INSERT ON @extschema@.touches REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_accounts();
CREATE TRIGGER track_update AFTER UPDATE ON @extschema@.touches REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_accounts();
CREATE TRIGGER track_delete AFTER DELETE ON @extschema@.touches REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_accounts();
CREATE TRIGGER track_insert AFTER INSERT ON @extschema@.contacts REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_accounts();
CREATE TRIGGER track_update AFTER UPDATE ON @extschema@.contacts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_accounts();
CREATE TRIGGER track_delete AFTER DELETE ON @extschema@.contacts REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_accounts();
CREATE TRIGGER track_insert AFTER INSERT ON @extschema@.opportunities REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_accounts();
CREATE TRIGGER track_update AFTER UPDATE ON @extschema@.opportunities REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_accounts();
CREATE TRIGGER track_delete AFTER DELETE ON @extschema@.opportunities REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_accounts();
CREATE TRIGGER track_insert AFTER INSERT ON @extschema@.opportunity_contact_roles REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_accounts();
CREATE TRIGGER track_update AFTER UPDATE ON @extschema@.opportunity_contact_roles REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_accounts();
CREATE TRIGGER track_delete AFTER DELETE ON @extschema@.opportunity_contact_roles REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_accounts();
CREATE TRIGGER track_insert AFTER INSERT ON @extschema@.stage_events REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_accounts();
CREATE TRIGGER track_update AFTER UPDATE ON @extschema@.stage_events REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_accounts();
CREATE TRIGGER track_delete AFTER DELETE ON @extschema@.stage_events REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_accounts();
CREATE TRIGGER track_stale AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.settings
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_stale('journeys');
CREATE TRIGGER track_stale AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.exchange_rates
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_stale('journeys');
CREATE TRIGGER track_stale AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.channels
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_stale('credits');
CREATE TRIGGER track_stale AFTER TRUNCATE ON @extschema@.model_config
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_stale('credits');
CREATE TRIGGER track_insert AFTER INSERT ON @extschema@.model_config REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_models();
CREATE TRIGGER track_update AFTER UPDATE ON @extschema@.model_config REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_models();
CREATE TRIGGER track_delete AFTER DELETE ON @extschema@.model_config REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_models();
CREATE TRIGGER track_stale AFTER TRUNCATE ON @extschema@.touches
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_stale('journeys');
CREATE TRIGGER track_stale AFTER TRUNCATE ON @extschema@.contacts
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_stale('journeys');
CREATE TRIGGER track_stale AFTER TRUNCATE ON @extschema@.opportunities
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_stale('journeys');
CREATE TRIGGER track_stale AFTER TRUNCATE ON @extschema@.opportunity_contact_roles
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_stale('journeys');
CREATE TRIGGER track_stale AFTER TRUNCATE ON @extschema@.stage_events
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_stale('journeys');

-- ------------------------------------------------------------------
-- Refresh entry points
-- ------------------------------------------------------------------

CREATE FUNCTION @extschema@.refresh_log_row(started pg_catalog.timestamptz, t_as_of pg_catalog.timestamptz,
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

-- begin a refresh: one at a time (readers are never blocked), mapped sources re-applied
CREATE FUNCTION @extschema@.refresh_begin()
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

CREATE FUNCTION @extschema@.refresh()
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

CREATE FUNCTION @extschema@.refresh_incremental()
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
