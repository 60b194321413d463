-- attrib install script: assembled by the Makefile from the parts in src/sql; edit those.

\echo Use "CREATE EXTENSION attrib" to load this file. \quit

-- The schema must be the installer's and empty.  CREATE EXTENSION uses an
-- existing schema named attrib as it is: if another role owns it, that role
-- could later drop and replace attrib's functions and views (a schema's owner
-- may drop anything in it), which then run with the rights of whoever calls
-- them; objects already in it could capture unqualified calls made while this
-- script runs.  Everything below is qualified: this block itself runs with the
-- schema on the search_path.
DO $guard$
DECLARE
	nsp pg_catalog.oid := '@extschema@'::pg_catalog.regnamespace;
	owner pg_catalog.oid;
	found pg_catalog.text;
BEGIN
	SELECT n.nspowner INTO owner FROM pg_catalog.pg_namespace n
	WHERE n.oid OPERATOR(pg_catalog.=) nsp;
	IF owner OPERATOR(pg_catalog.<>) (SELECT r.oid FROM pg_catalog.pg_roles r
									  WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER)
	   AND NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) owner) THEN
		RAISE EXCEPTION 'schema "%" belongs to role "%"', '@extschema@', owner::pg_catalog.regrole
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'attrib installs into its fixed schema; a schema owned by another, unprivileged role would let that role replace attrib''s objects.',
				  HINT = 'Drop the schema, or give it to the installing role (ALTER SCHEMA ... OWNER TO), before CREATE EXTENSION attrib.';
	END IF;
	SELECT o.what INTO found FROM (
		SELECT pg_catalog.format('relation %s', c.oid::pg_catalog.regclass) AS what
		FROM pg_catalog.pg_class c WHERE c.relnamespace OPERATOR(pg_catalog.=) nsp
		UNION ALL SELECT pg_catalog.format('function %s', p.oid::pg_catalog.regprocedure)
		FROM pg_catalog.pg_proc p WHERE p.pronamespace OPERATOR(pg_catalog.=) nsp
		UNION ALL SELECT pg_catalog.format('type %s', t.oid::pg_catalog.regtype)
		FROM pg_catalog.pg_type t WHERE t.typnamespace OPERATOR(pg_catalog.=) nsp
		UNION ALL SELECT pg_catalog.format('operator %s', o.oid::pg_catalog.regoperator)
		FROM pg_catalog.pg_operator o WHERE o.oprnamespace OPERATOR(pg_catalog.=) nsp
		UNION ALL SELECT pg_catalog.format('collation %s', l.collname)
		FROM pg_catalog.pg_collation l WHERE l.collnamespace OPERATOR(pg_catalog.=) nsp
		UNION ALL SELECT pg_catalog.format('conversion %s', v.conname)
		FROM pg_catalog.pg_conversion v WHERE v.connamespace OPERATOR(pg_catalog.=) nsp
		UNION ALL SELECT pg_catalog.format('text search configuration %s', s.cfgname)
		FROM pg_catalog.pg_ts_config s WHERE s.cfgnamespace OPERATOR(pg_catalog.=) nsp
	) o LIMIT 1;
	IF found IS NOT NULL THEN
		RAISE EXCEPTION 'schema "%" already contains objects', '@extschema@'
			USING ERRCODE = 'duplicate_object',
				  DETAIL = pg_catalog.format('For example %s.', found),
				  HINT = 'attrib needs its schema to itself: drop or move those objects, or the schema, first.';
	END IF;
END
$guard$;
-- engine.sql — the journey type and aggregate, rule-based models, exact money.
-- Part of the install script (see the Makefile: src/sql/*.sql in order).

-- ------------------------------------------------------------------
-- The journey type
-- ------------------------------------------------------------------

CREATE TYPE @extschema@.journey;

CREATE FUNCTION @extschema@.journey_in(pg_catalog.cstring)
RETURNS @extschema@.journey
AS 'MODULE_PATHNAME', 'attrib_journey_in'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.journey_out(@extschema@.journey)
RETURNS pg_catalog.cstring
AS 'MODULE_PATHNAME', 'attrib_journey_out'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.journey_recv(pg_catalog.internal)
RETURNS @extschema@.journey
AS 'MODULE_PATHNAME', 'attrib_journey_recv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.journey_send(@extschema@.journey)
RETURNS pg_catalog.bytea
AS 'MODULE_PATHNAME', 'attrib_journey_send'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.journey (
	INPUT = @extschema@.journey_in,
	OUTPUT = @extschema@.journey_out,
	RECEIVE = @extschema@.journey_recv,
	SEND = @extschema@.journey_send,
	INTERNALLENGTH = VARIABLE,
	STORAGE = extended,
	ALIGNMENT = int4
);

COMMENT ON TYPE @extschema@.journey IS
'An opportunity''s touches ordered by (occurred_at, touch_id), with optional opportunity context (status, creation, close, lead creation, as-of and stage times). Text form is JSON with UTC times.';
COMMENT ON FUNCTION @extschema@.journey_in(pg_catalog.cstring) IS 'Text input of attrib.journey (JSON; validated and put in canonical order).';
COMMENT ON FUNCTION @extschema@.journey_out(@extschema@.journey) IS 'Text output of attrib.journey (canonical JSON, UTC times).';
COMMENT ON FUNCTION @extschema@.journey_recv(pg_catalog.internal) IS 'Binary input of attrib.journey (every byte validated).';
COMMENT ON FUNCTION @extschema@.journey_send(@extschema@.journey) IS 'Binary output of attrib.journey (the versioned storage bytes).';

-- ------------------------------------------------------------------
-- Building journeys
-- ------------------------------------------------------------------

CREATE FUNCTION @extschema@.journey_agg_trans(pg_catalog.internal, pg_catalog.text,
	pg_catalog.timestamptz, pg_catalog.text)
RETURNS pg_catalog.internal
AS 'MODULE_PATHNAME', 'attrib_journey_agg_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION @extschema@.journey_agg_combine(pg_catalog.internal, pg_catalog.internal)
RETURNS pg_catalog.internal
AS 'MODULE_PATHNAME', 'attrib_journey_agg_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION @extschema@.journey_agg_serialize(pg_catalog.internal)
RETURNS pg_catalog.bytea
AS 'MODULE_PATHNAME', 'attrib_journey_agg_serialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.journey_agg_deserialize(pg_catalog.bytea, pg_catalog.internal)
RETURNS pg_catalog.internal
AS 'MODULE_PATHNAME', 'attrib_journey_agg_deserialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.journey_agg_final(pg_catalog.internal)
RETURNS @extschema@.journey
AS 'MODULE_PATHNAME', 'attrib_journey_agg_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE @extschema@.journey_agg(touch_id pg_catalog.text,
	occurred_at pg_catalog.timestamptz, channel pg_catalog.text) (
	SFUNC = @extschema@.journey_agg_trans,
	STYPE = pg_catalog.internal,
	COMBINEFUNC = @extschema@.journey_agg_combine,
	SERIALFUNC = @extschema@.journey_agg_serialize,
	DESERIALFUNC = @extschema@.journey_agg_deserialize,
	FINALFUNC = @extschema@.journey_agg_final,
	FINALFUNC_MODIFY = READ_ONLY,
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE @extschema@.journey_agg(pg_catalog.text, pg_catalog.timestamptz, pg_catalog.text) IS
'Builds a journey from touch rows in any order (no ORDER BY needed): ordered by (occurred_at, touch_id); a touch id may appear once. Parallel safe.';
COMMENT ON FUNCTION @extschema@.journey_agg_trans(pg_catalog.internal, pg_catalog.text, pg_catalog.timestamptz, pg_catalog.text) IS 'Transition function of attrib.journey_agg.';
COMMENT ON FUNCTION @extschema@.journey_agg_combine(pg_catalog.internal, pg_catalog.internal) IS 'Combine function of attrib.journey_agg (merges partial states).';
COMMENT ON FUNCTION @extschema@.journey_agg_serialize(pg_catalog.internal) IS 'Serializes a partial attrib.journey_agg state (versioned bytes).';
COMMENT ON FUNCTION @extschema@.journey_agg_deserialize(pg_catalog.bytea, pg_catalog.internal) IS 'Deserializes and validates a partial attrib.journey_agg state.';
COMMENT ON FUNCTION @extschema@.journey_agg_final(pg_catalog.internal) IS 'Final function of attrib.journey_agg: sorts and checks the touches.';

CREATE FUNCTION @extschema@.with_context(
	journey @extschema@.journey,
	status pg_catalog.text,
	created_at pg_catalog.timestamptz DEFAULT NULL,
	closed_at pg_catalog.timestamptz DEFAULT NULL,
	lead_created_at pg_catalog.timestamptz DEFAULT NULL,
	as_of pg_catalog.timestamptz DEFAULT NULL,
	lookback pg_catalog.interval DEFAULT '365 days',
	stage_names pg_catalog.text[] DEFAULT NULL,
	stage_times pg_catalog.timestamptz[] DEFAULT NULL)
RETURNS @extschema@.journey
AS 'MODULE_PATHNAME', 'attrib_with_context'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.with_context(@extschema@.journey, pg_catalog.text, pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.interval, pg_catalog.text[], pg_catalog.timestamptz[]) IS
'Attaches an opportunity''s context (status won/open/lost, created_at, closed_at, lead_created_at, as_of, stage times) and cuts the journey to its window: from created_at - lookback (NULL: no limit; months count 30 days, years 365.25) to closed_at, or as_of when open.';

CREATE FUNCTION @extschema@.journey_length(@extschema@.journey)
RETURNS pg_catalog.int4
AS 'MODULE_PATHNAME', 'attrib_journey_length'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.journey_length(@extschema@.journey) IS 'Number of touches in a journey.';

CREATE FUNCTION @extschema@.touches(journey @extschema@.journey,
	OUT touch_index pg_catalog.int4, OUT touch_id pg_catalog.text,
	OUT occurred_at pg_catalog.timestamptz, OUT channel pg_catalog.text,
	OUT positions pg_catalog.text[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'attrib_touches'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;

COMMENT ON FUNCTION @extschema@.touches(@extschema@.journey) IS
'The journey''s touches in order, each with the milestone positions it holds (FT, LC, OC, CW, LT, stage:NAME).';

-- ------------------------------------------------------------------
-- Models and credits
-- ------------------------------------------------------------------

CREATE FUNCTION @extschema@.models(OUT name pg_catalog.text, OUT family pg_catalog.text,
	OUT additive pg_catalog.bool, OUT options pg_catalog.text[],
	OUT definition pg_catalog.text, OUT source pg_catalog.text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'attrib_models'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 16;

COMMENT ON FUNCTION @extschema@.models() IS
'The attribution models: name, family, whether credits add up to the amount, the options each takes, its definition and where the definition comes from.';

CREATE FUNCTION @extschema@.credits(
	journey @extschema@.journey,
	model pg_catalog.text,
	amount pg_catalog.numeric,
	options pg_catalog.jsonb DEFAULT '{}',
	scale pg_catalog.int4 DEFAULT NULL,
	OUT touch_index pg_catalog.int4, OUT touch_id pg_catalog.text,
	OUT occurred_at pg_catalog.timestamptz, OUT channel pg_catalog.text,
	OUT positions pg_catalog.text[], OUT weight pg_catalog.float8,
	OUT credit pg_catalog.numeric)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'attrib_credits'
LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 20;

COMMENT ON FUNCTION @extschema@.credits(@extschema@.journey, pg_catalog.text, pg_catalog.numeric, pg_catalog.jsonb, pg_catalog.int4) IS
'Each touch of the journey with its weight and credit under a model. Credits of additive models sum to the amount exactly (largest remainder at the amount''s scale: the scale argument, else the declared numeric scale, else 2). Options: exclude_channels, collapse_repeats, direct_channels, half_life, normalize, weights.';

CREATE FUNCTION @extschema@.split_amount(amount pg_catalog.numeric,
	weights pg_catalog.float8[], scale pg_catalog.int4 DEFAULT NULL)
RETURNS pg_catalog.numeric[]
AS 'MODULE_PATHNAME', 'attrib_split_amount'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.split_amount(pg_catalog.numeric, pg_catalog.float8[], pg_catalog.int4) IS
'Splits an amount in proportion to weights by the largest-remainder method: the parts sum to the amount exactly at its scale; remainder ties go to the earlier weight.';

CREATE FUNCTION @extschema@.journey_from_bytea(pg_catalog.bytea)
RETURNS @extschema@.journey
AS 'MODULE_PATHNAME', 'attrib_journey_from_bytea'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.journey_from_bytea(pg_catalog.bytea) IS
'A journey from its binary form (as attrib.journey_send returns it); every byte is validated and anything corrupt is rejected.';

-- ------------------------------------------------------------------
-- crm.sql — the CRM data model: attrib's own tables, settings and the model
-- registry.  Every table keyed per account carries account_id in its primary
-- key so the same schema distributes by account on Citus.  These tables are
-- registered with pg_extension_config_dump: pg_dump keeps their rows.
-- ------------------------------------------------------------------

CREATE TABLE @extschema@.channels (
	channel pg_catalog.text PRIMARY KEY CHECK (channel <> ''),
	channel_group pg_catalog.text,
	is_direct pg_catalog.bool NOT NULL DEFAULT false
);
COMMENT ON TABLE @extschema@.channels IS 'Marketing and sales channels (optional: a touch''s channel need not be listed here). is_direct marks channels the *_non_direct models skip, in addition to the direct_channels setting.';
COMMENT ON COLUMN @extschema@.channels.channel IS 'Channel name as it appears on touches, e.g. paid_search.';
COMMENT ON COLUMN @extschema@.channels.channel_group IS 'Optional grouping for reports, e.g. paid, organic, sales.';
COMMENT ON COLUMN @extschema@.channels.is_direct IS 'True for direct / unattributable traffic.';

CREATE TABLE @extschema@.campaigns (
	campaign_id pg_catalog.text PRIMARY KEY CHECK (campaign_id <> ''),
	name pg_catalog.text,
	channel pg_catalog.text,
	cost pg_catalog.numeric CHECK (cost IS NULL OR (cost >= 0 AND cost <> 'NaN')),
	currency pg_catalog.bpchar(3) CHECK (currency IS NULL OR currency ~ '^[A-Z]{3}$'),
	started_at pg_catalog.timestamptz
);
COMMENT ON TABLE @extschema@.campaigns IS 'Campaigns with their channel and optional cost (for ROI).';
COMMENT ON COLUMN @extschema@.campaigns.campaign_id IS 'CRM campaign id (text).';
COMMENT ON COLUMN @extschema@.campaigns.name IS 'Campaign name.';
COMMENT ON COLUMN @extschema@.campaigns.channel IS 'The campaign''s channel.';
COMMENT ON COLUMN @extschema@.campaigns.cost IS 'Total cost of the campaign, in its currency (NULL: unknown).';
COMMENT ON COLUMN @extschema@.campaigns.currency IS 'ISO 4217 currency of the cost; NULL means the reporting currency.';
COMMENT ON COLUMN @extschema@.campaigns.started_at IS 'When the campaign started (informational).';

CREATE TABLE @extschema@.accounts (
	account_id pg_catalog.text PRIMARY KEY CHECK (account_id <> ''),
	name pg_catalog.text,
	segment pg_catalog.text,
	industry pg_catalog.text,
	owner pg_catalog.text,
	created_at pg_catalog.timestamptz
);
COMMENT ON TABLE @extschema@.accounts IS 'Companies (CRM accounts). The distribution key on Citus.';
COMMENT ON COLUMN @extschema@.accounts.account_id IS 'CRM account id (text, e.g. a Salesforce 18-character id or a HubSpot company id).';
COMMENT ON COLUMN @extschema@.accounts.name IS 'Account name.';
COMMENT ON COLUMN @extschema@.accounts.segment IS 'Segment for reports (e.g. SMB, Mid-Market, Enterprise).';
COMMENT ON COLUMN @extschema@.accounts.industry IS 'Industry for reports.';
COMMENT ON COLUMN @extschema@.accounts.owner IS 'Account owner (sales rep).';
COMMENT ON COLUMN @extschema@.accounts.created_at IS 'When the account was created in the CRM.';

CREATE TABLE @extschema@.contacts (
	account_id pg_catalog.text NOT NULL REFERENCES @extschema@.accounts ON DELETE CASCADE,
	contact_id pg_catalog.text NOT NULL CHECK (contact_id <> ''),
	email pg_catalog.text,
	title pg_catalog.text,
	lead_created_at pg_catalog.timestamptz,
	PRIMARY KEY (account_id, contact_id)
);
COMMENT ON TABLE @extschema@.contacts IS 'People at accounts; lead_created_at feeds the lead-creation (LC) milestone.';
COMMENT ON COLUMN @extschema@.contacts.account_id IS 'The contact''s account.';
COMMENT ON COLUMN @extschema@.contacts.contact_id IS 'CRM contact / lead id (text).';
COMMENT ON COLUMN @extschema@.contacts.email IS 'Email address (informational).';
COMMENT ON COLUMN @extschema@.contacts.title IS 'Job title (informational).';
COMMENT ON COLUMN @extschema@.contacts.lead_created_at IS 'When the person became a lead; NULL if unknown.';

CREATE TABLE @extschema@.opportunities (
	account_id pg_catalog.text NOT NULL REFERENCES @extschema@.accounts ON DELETE CASCADE,
	opportunity_id pg_catalog.text NOT NULL CHECK (opportunity_id <> ''),
	name pg_catalog.text,
	amount pg_catalog.numeric NOT NULL CHECK (amount <> 'NaN'),
	currency pg_catalog.bpchar(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
	created_at pg_catalog.timestamptz NOT NULL,
	closed_at pg_catalog.timestamptz,
	is_won pg_catalog.bool NOT NULL DEFAULT false,
	stage pg_catalog.text,
	owner pg_catalog.text,
	PRIMARY KEY (account_id, opportunity_id),
	CHECK (closed_at IS NULL OR closed_at >= created_at),
	CHECK (NOT is_won OR closed_at IS NOT NULL)
);
COMMENT ON TABLE @extschema@.opportunities IS 'Deals on accounts. Open: closed_at IS NULL; won: is_won; lost: closed and not won.';
COMMENT ON COLUMN @extschema@.opportunities.account_id IS 'The opportunity''s account.';
COMMENT ON COLUMN @extschema@.opportunities.opportunity_id IS 'CRM opportunity / deal id (text).';
COMMENT ON COLUMN @extschema@.opportunities.name IS 'Opportunity name.';
COMMENT ON COLUMN @extschema@.opportunities.amount IS 'Deal amount in its currency; credited to the minor unit of the currency.';
COMMENT ON COLUMN @extschema@.opportunities.currency IS 'ISO 4217 currency code of the amount.';
COMMENT ON COLUMN @extschema@.opportunities.created_at IS 'When the opportunity was created (the OC milestone; the lookback window starts before it).';
COMMENT ON COLUMN @extschema@.opportunities.closed_at IS 'When it closed (won or lost); NULL while open.';
COMMENT ON COLUMN @extschema@.opportunities.is_won IS 'True when closed won.';
COMMENT ON COLUMN @extschema@.opportunities.stage IS 'Current CRM stage (used by the forecast).';
COMMENT ON COLUMN @extschema@.opportunities.owner IS 'Opportunity owner (sales rep).';

CREATE TABLE @extschema@.opportunity_contact_roles (
	account_id pg_catalog.text NOT NULL,
	opportunity_id pg_catalog.text NOT NULL,
	contact_id pg_catalog.text NOT NULL,
	role pg_catalog.text,
	is_primary pg_catalog.bool NOT NULL DEFAULT false,
	PRIMARY KEY (account_id, opportunity_id, contact_id),
	FOREIGN KEY (account_id, opportunity_id) REFERENCES @extschema@.opportunities ON DELETE CASCADE,
	FOREIGN KEY (account_id, contact_id) REFERENCES @extschema@.contacts ON DELETE CASCADE
);
COMMENT ON TABLE @extschema@.opportunity_contact_roles IS 'The buying committee: contacts with a role on an opportunity.';
COMMENT ON COLUMN @extschema@.opportunity_contact_roles.account_id IS 'Account of the opportunity and the contact.';
COMMENT ON COLUMN @extschema@.opportunity_contact_roles.opportunity_id IS 'The opportunity.';
COMMENT ON COLUMN @extschema@.opportunity_contact_roles.contact_id IS 'The contact.';
COMMENT ON COLUMN @extschema@.opportunity_contact_roles.role IS 'Role, e.g. Decision Maker, Champion.';
COMMENT ON COLUMN @extschema@.opportunity_contact_roles.is_primary IS 'The primary contact (primary_contact scope).';

CREATE TABLE @extschema@.stage_events (
	account_id pg_catalog.text NOT NULL REFERENCES @extschema@.accounts ON DELETE CASCADE,
	event_id pg_catalog.text NOT NULL CHECK (event_id <> ''),
	opportunity_id pg_catalog.text,
	contact_id pg_catalog.text,
	stage pg_catalog.text NOT NULL CHECK (stage <> ''),
	occurred_at pg_catalog.timestamptz NOT NULL,
	PRIMARY KEY (account_id, event_id),
	FOREIGN KEY (account_id, opportunity_id) REFERENCES @extschema@.opportunities ON DELETE CASCADE,
	FOREIGN KEY (account_id, contact_id) REFERENCES @extschema@.contacts ON DELETE CASCADE,
	CHECK (opportunity_id IS NOT NULL OR contact_id IS NOT NULL)
);
COMMENT ON TABLE @extschema@.stage_events IS 'A contact or an opportunity entering a funnel stage (MQL, SAL, SQL, ...): stage:NAME milestones and the funnel.';
COMMENT ON COLUMN @extschema@.stage_events.account_id IS 'Account of the opportunity or contact.';
COMMENT ON COLUMN @extschema@.stage_events.event_id IS 'Id of the event (text).';
COMMENT ON COLUMN @extschema@.stage_events.opportunity_id IS 'The opportunity that entered the stage, or NULL.';
COMMENT ON COLUMN @extschema@.stage_events.contact_id IS 'The contact that entered the stage, or NULL.';
COMMENT ON COLUMN @extschema@.stage_events.stage IS 'Stage name, e.g. MQL.';
COMMENT ON COLUMN @extschema@.stage_events.occurred_at IS 'When the stage was entered.';

CREATE TABLE @extschema@.touches (
	account_id pg_catalog.text NOT NULL REFERENCES @extschema@.accounts ON DELETE CASCADE,
	touch_id pg_catalog.text NOT NULL CHECK (touch_id <> ''),
	occurred_at pg_catalog.timestamptz NOT NULL CHECK (pg_catalog.isfinite(occurred_at)),
	channel pg_catalog.text NOT NULL CHECK (channel <> ''),
	campaign_id pg_catalog.text REFERENCES @extschema@.campaigns ON DELETE SET NULL,
	contact_id pg_catalog.text,
	touch_type pg_catalog.text NOT NULL DEFAULT 'marketing' CHECK (touch_type IN ('marketing', 'sales')),
	activity pg_catalog.text,
	owner pg_catalog.text,
	PRIMARY KEY (account_id, touch_id),
	FOREIGN KEY (account_id, contact_id) REFERENCES @extschema@.contacts ON DELETE CASCADE
);
COMMENT ON TABLE @extschema@.touches IS 'Every recorded interaction, marketing or sales, of a contact or (contact_id NULL) of the account as a whole.';
COMMENT ON COLUMN @extschema@.touches.account_id IS 'The account the touch belongs to.';
COMMENT ON COLUMN @extschema@.touches.touch_id IS 'CRM id of the touch (text); breaks ties in time, bytewise.';
COMMENT ON COLUMN @extschema@.touches.occurred_at IS 'When the touch happened.';
COMMENT ON COLUMN @extschema@.touches.channel IS 'Channel (never NULL), e.g. paid_search, email, sales_call.';
COMMENT ON COLUMN @extschema@.touches.campaign_id IS 'Campaign, if any.';
COMMENT ON COLUMN @extschema@.touches.contact_id IS 'The contact touched; NULL for an account-level touch.';
COMMENT ON COLUMN @extschema@.touches.touch_type IS 'marketing or sales.';
COMMENT ON COLUMN @extschema@.touches.activity IS 'ad_click, web_visit, form_fill, email_open, email_click, call, meeting, demo, event, ...';
COMMENT ON COLUMN @extschema@.touches.owner IS 'Sales rep who made the touch, if any.';

CREATE INDEX touches_account_time ON @extschema@.touches (account_id, occurred_at);
CREATE INDEX touches_contact ON @extschema@.touches (account_id, contact_id);
CREATE INDEX stage_events_opportunity ON @extschema@.stage_events (account_id, opportunity_id);
CREATE INDEX stage_events_contact ON @extschema@.stage_events (account_id, contact_id);

CREATE TABLE @extschema@.exchange_rates (
	currency pg_catalog.bpchar(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
	valid_from pg_catalog.date NOT NULL,
	rate pg_catalog.numeric NOT NULL CHECK (rate > 0 AND rate <> 'NaN' AND rate <> 'Infinity'),
	PRIMARY KEY (currency, valid_from)
);
COMMENT ON TABLE @extschema@.exchange_rates IS 'Dated exchange rates: one unit of currency is worth rate units of the reporting currency from valid_from on.';
COMMENT ON COLUMN @extschema@.exchange_rates.currency IS 'ISO 4217 code converted from.';
COMMENT ON COLUMN @extschema@.exchange_rates.valid_from IS 'First day the rate applies (UTC date).';
COMMENT ON COLUMN @extschema@.exchange_rates.rate IS 'Units of the reporting currency per unit of currency.';

-- ------------------------------------------------------------------
-- Settings: one optional row; absent values take their defaults.
-- ------------------------------------------------------------------

CREATE TABLE @extschema@.settings (
	singleton pg_catalog.bool PRIMARY KEY DEFAULT true CHECK (singleton),
	contact_scope pg_catalog.text NOT NULL DEFAULT 'account'
		CHECK (contact_scope IN ('account', 'contact_roles', 'primary_contact')),
	lookback pg_catalog.interval DEFAULT '365 days'
		CHECK (lookback IS NULL OR lookback >= '0'::pg_catalog.interval),
	as_of pg_catalog.timestamptz CHECK (as_of IS NULL OR pg_catalog.isfinite(as_of)),
	reporting_currency pg_catalog.bpchar(3) NOT NULL DEFAULT 'USD'
		CHECK (reporting_currency ~ '^[A-Z]{3}$'),
	cold_after pg_catalog.int4 NOT NULL DEFAULT 60 CHECK (cold_after > 0),
	revival_window pg_catalog.int4 NOT NULL DEFAULT 90 CHECK (revival_window > 0),
	direct_channels pg_catalog.text[] NOT NULL DEFAULT '{direct}'
		CHECK (pg_catalog.array_position(direct_channels, NULL) IS NULL)
);
COMMENT ON TABLE @extschema@.settings IS 'attrib''s settings: at most one row; without one every setting has its default. Change with attrib.set_setting() or UPDATE.';
COMMENT ON COLUMN @extschema@.settings.singleton IS 'Always true: the table holds at most one row.';
COMMENT ON COLUMN @extschema@.settings.contact_scope IS 'Whose touches make an opportunity''s journey: account (every contact of the account plus account-level touches), contact_roles (contacts with a role on the opportunity) or primary_contact.';
COMMENT ON COLUMN @extschema@.settings.lookback IS 'How far before the opportunity''s creation touches count (NULL: no limit). Months count 30 days, years 365.25.';
COMMENT ON COLUMN @extschema@.settings.as_of IS 'The "now" of open opportunities (NULL: the time of the refresh).';
COMMENT ON COLUMN @extschema@.settings.reporting_currency IS 'ISO 4217 currency every report converts to.';
COMMENT ON COLUMN @extschema@.settings.cold_after IS 'Days without a touch after which an account is cold (revivals report).';
COMMENT ON COLUMN @extschema@.settings.revival_window IS 'Days after a reviving touch in which an opportunity counts as following it.';
COMMENT ON COLUMN @extschema@.settings.direct_channels IS 'Channels treated as direct by last_non_direct / first_non_direct (compared case-insensitively).';

-- ------------------------------------------------------------------
-- The model registry: built-in models are on unless a row disables them;
-- custom models are rows naming a base model and its options.
-- ------------------------------------------------------------------

CREATE TABLE @extschema@.model_config (
	name pg_catalog.text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]*$'),
	base_model pg_catalog.text NOT NULL,
	options pg_catalog.jsonb NOT NULL DEFAULT '{}',
	enabled pg_catalog.bool NOT NULL DEFAULT true
);
COMMENT ON TABLE @extschema@.model_config IS 'User model registry: a row named like a built-in model overrides it (e.g. disables it); other rows add models (a base model with options). Validated when written.';
COMMENT ON COLUMN @extschema@.model_config.name IS 'Model name used in reports (lower case identifier).';
COMMENT ON COLUMN @extschema@.model_config.base_model IS 'A model of attrib.models(), e.g. w_shaped or time_decay.';
COMMENT ON COLUMN @extschema@.model_config.options IS 'Options of the base model, e.g. {"half_life": 30}.';
COMMENT ON COLUMN @extschema@.model_config.enabled IS 'Whether reports compute the model.';

CREATE FUNCTION @extschema@.check_model(base_model pg_catalog.text, options pg_catalog.jsonb)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'attrib_check_model'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.check_model(pg_catalog.text, pg_catalog.jsonb) IS
'True when the model exists and takes the options; otherwise raises the error credits() would raise.';

CREATE FUNCTION @extschema@.model_config_check() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	k pg_catalog.text;
BEGIN
	IF NEW.base_model NOT IN (SELECT m.name FROM @extschema@.models() m)
	   AND NEW.base_model NOT IN ('markov', 'shapley') THEN
		RAISE EXCEPTION 'unknown base model "%" for model "%"', NEW.base_model, NEW.name
			USING ERRCODE = 'undefined_object',
				  HINT = 'SELECT name FROM attrib.models() lists the base models; markov and shapley are the data-driven ones.';
	END IF;
	IF (NEW.name IN (SELECT m.name FROM @extschema@.models() m) OR NEW.name IN ('markov', 'shapley'))
	   AND NEW.base_model <> NEW.name THEN
		RAISE EXCEPTION 'model "%" is built in and can only be based on itself', NEW.name
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Give your variant its own name, e.g. ' || NEW.name || '_custom.';
	END IF;
	IF NEW.base_model IN ('markov', 'shapley') THEN
		-- data-driven models: order (markov, 1..4) and the journey preparation options
		IF pg_catalog.jsonb_typeof(NEW.options) <> 'object' THEN
			RAISE EXCEPTION 'model options must be a JSON object'
				USING ERRCODE = 'invalid_parameter_value', HINT = 'For example {"order": 2}.';
		END IF;
		FOR k IN SELECT pg_catalog.jsonb_object_keys(NEW.options) LOOP
			IF k NOT IN ('exclude_channels', 'collapse_repeats')
			   AND NOT (k = 'order' AND NEW.base_model = 'markov') THEN
				RAISE EXCEPTION 'unknown option "%" for base model "%"', k, NEW.base_model
					USING ERRCODE = 'invalid_parameter_value',
						  HINT = CASE NEW.base_model WHEN 'markov' THEN 'markov takes order, exclude_channels and collapse_repeats.'
								 ELSE 'shapley takes exclude_channels and collapse_repeats.' END;
			END IF;
		END LOOP;
		IF NEW.options ? 'order' AND (pg_catalog.jsonb_typeof(NEW.options -> 'order') <> 'number'
			OR (NEW.options ->> 'order')::pg_catalog.numeric NOT IN (1, 2, 3, 4)) THEN
			RAISE EXCEPTION 'invalid Markov order %', NEW.options -> 'order'
				USING ERRCODE = 'invalid_parameter_value', HINT = 'The order is 1, 2, 3 or 4.';
		END IF;
		PERFORM @extschema@.check_model('linear', NEW.options - 'order');
	ELSE
		PERFORM @extschema@.check_model(NEW.base_model, NEW.options);
	END IF;
	RETURN NEW;
END $$;
COMMENT ON FUNCTION @extschema@.model_config_check() IS 'Trigger: rejects unknown base models and invalid options when a model is registered.';

CREATE TRIGGER model_config_check BEFORE INSERT OR UPDATE ON @extschema@.model_config
	FOR EACH ROW EXECUTE FUNCTION @extschema@.model_config_check();

CREATE VIEW @extschema@.model_registry WITH (security_invoker = true) AS
WITH catalog AS (
	SELECT m.name, m.additive, false AS data_driven FROM @extschema@.models() m
	UNION ALL
	VALUES ('markov', true, true), ('shapley', true, true)
)
SELECT b.name, b.name AS base_model, coalesce(c.options, '{}'::pg_catalog.jsonb) AS options,
	   coalesce(c.enabled, b.name <> 'custom' AND NOT b.data_driven) AS enabled, true AS builtin,
	   b.additive AND coalesce((c.options ->> 'normalize')::pg_catalog.bool, true) AS additive,
	   b.data_driven
FROM catalog b
LEFT JOIN @extschema@.model_config c ON c.name = b.name
UNION ALL
SELECT c.name, c.base_model, c.options, c.enabled, false,
	   b.additive AND coalesce((c.options ->> 'normalize')::pg_catalog.bool, true),
	   b.data_driven
FROM @extschema@.model_config c
JOIN catalog b ON b.name = c.base_model
WHERE c.name NOT IN (SELECT x.name FROM catalog x);
COMMENT ON VIEW @extschema@.model_registry IS 'Every model reports can compute: the built-ins (enabled by default except the bare custom model and the data-driven markov and shapley, which are enabled by a model_config row) and the registered ones.';
COMMENT ON COLUMN @extschema@.model_registry.name IS 'Model name as reports show it.';
COMMENT ON COLUMN @extschema@.model_registry.base_model IS 'The engine model it runs.';
COMMENT ON COLUMN @extschema@.model_registry.options IS 'Options passed to the engine.';
COMMENT ON COLUMN @extschema@.model_registry.enabled IS 'Whether refresh computes it.';
COMMENT ON COLUMN @extschema@.model_registry.builtin IS 'True for a built-in model.';
COMMENT ON COLUMN @extschema@.model_registry.additive IS 'False for influence (and raw time decay): never summed into totals.';
COMMENT ON COLUMN @extschema@.model_registry.data_driven IS 'True for markov and shapley: fitted over every stored journey by each refresh.';

CREATE VIEW @extschema@.effective_settings WITH (security_invoker = true) AS
SELECT coalesce(s.contact_scope, 'account') AS contact_scope,
	   CASE WHEN s.singleton IS NULL THEN '365 days'::pg_catalog.interval ELSE s.lookback END AS lookback,
	   s.as_of,
	   coalesce(s.reporting_currency, 'USD') AS reporting_currency,
	   coalesce(s.cold_after, 60) AS cold_after,
	   coalesce(s.revival_window, 90) AS revival_window,
	   coalesce(s.direct_channels, '{direct}') AS direct_channels
FROM (SELECT true AS k) one
LEFT JOIN @extschema@.settings s ON s.singleton;
COMMENT ON VIEW @extschema@.effective_settings IS 'The settings in force: the settings row, or the defaults.';
COMMENT ON COLUMN @extschema@.effective_settings.contact_scope IS 'account, contact_roles or primary_contact.';
COMMENT ON COLUMN @extschema@.effective_settings.lookback IS 'Lookback before opportunity creation (NULL: none).';
COMMENT ON COLUMN @extschema@.effective_settings.as_of IS 'As-of time for open opportunities (NULL: refresh time).';
COMMENT ON COLUMN @extschema@.effective_settings.reporting_currency IS 'Reporting currency.';
COMMENT ON COLUMN @extschema@.effective_settings.cold_after IS 'Days of silence that make an account cold.';
COMMENT ON COLUMN @extschema@.effective_settings.revival_window IS 'Days after a revival in which an opportunity counts.';
COMMENT ON COLUMN @extschema@.effective_settings.direct_channels IS 'Channels treated as direct.';

CREATE FUNCTION @extschema@.set_setting(name pg_catalog.text, value pg_catalog.text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF name NOT IN ('contact_scope', 'lookback', 'as_of', 'reporting_currency', 'cold_after',
					'revival_window', 'direct_channels') THEN
		RAISE EXCEPTION 'unknown setting "%"', name
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Settings: contact_scope, lookback, as_of, reporting_currency, cold_after, revival_window, direct_channels.';
	END IF;
	INSERT INTO @extschema@.settings (singleton) VALUES (true) ON CONFLICT (singleton) DO NOTHING;
	EXECUTE format('UPDATE @extschema@.settings SET %I = $1::%s WHERE singleton', name,
		CASE name WHEN 'lookback' THEN 'interval' WHEN 'as_of' THEN 'timestamptz'
				  WHEN 'cold_after' THEN 'int4' WHEN 'revival_window' THEN 'int4'
				  WHEN 'direct_channels' THEN 'text[]' WHEN 'reporting_currency' THEN 'bpchar'
				  ELSE 'text' END)
		USING value;
END $$;
COMMENT ON FUNCTION @extschema@.set_setting(pg_catalog.text, pg_catalog.text) IS
'Sets one setting by name from its text form, e.g. attrib.set_setting(''lookback'', ''180 days''); invalid values are rejected.';

SELECT pg_catalog.pg_extension_config_dump('@extschema@.channels', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.campaigns', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.accounts', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.contacts', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.opportunities', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.opportunity_contact_roles', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.stage_events', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.touches', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.exchange_rates', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.settings', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.model_config', '');

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
'For each model (names[i] runs base model models[i] with options[i]), the touches that earn credit, with the amount split exactly twice: in its own currency and converted to the reporting currency. The journey is decoded once for all models. Used by attrib.refresh().';

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

CREATE TABLE @extschema@.credit_cache (
	account_id pg_catalog.text NOT NULL,
	opportunity_id pg_catalog.text NOT NULL,
	model pg_catalog.text NOT NULL,
	touch_index pg_catalog.int4 NOT NULL,
	touch_id pg_catalog.text,
	weight pg_catalog.float8 NOT NULL,
	credit pg_catalog.numeric NOT NULL,
	credit_reporting pg_catalog.numeric NOT NULL,
	PRIMARY KEY (account_id, opportunity_id, model, touch_index)
);
COMMENT ON TABLE @extschema@.credit_cache IS 'Credits of every touch that earned some, per enabled model, as of the last refresh. touch_index 0 (touch_id NULL) books an amount no touch could take (no touch in the window) as unattributed.';
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
COMMENT ON TABLE @extschema@.refresh_log IS 'One row per attrib.refresh(): when, the as-of time used, and how much it stored.';
COMMENT ON COLUMN @extschema@.refresh_log.refreshed_at IS 'Transaction time of the refresh.';
COMMENT ON COLUMN @extschema@.refresh_log.as_of IS 'As-of time of open opportunities.';
COMMENT ON COLUMN @extschema@.refresh_log.opportunities IS 'Journeys stored.';
COMMENT ON COLUMN @extschema@.refresh_log.credit_rows IS 'Credit rows stored.';
COMMENT ON COLUMN @extschema@.refresh_log.duration IS 'Wall-clock time the refresh took.';

-- ------------------------------------------------------------------
-- Refresh
-- ------------------------------------------------------------------

CREATE FUNCTION @extschema@.refresh_scope(accounts pg_catalog.text[], journeys pg_catalog.bool,
	t_as_of pg_catalog.timestamptz)
RETURNS pg_catalog.int8
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	s record;
	bad record;
	n_opps pg_catalog.int8 := 0;
BEGIN
	SELECT * INTO s FROM @extschema@.effective_settings;
	IF journeys THEN
	DELETE FROM @extschema@.journey_cache j
	WHERE accounts IS NULL OR j.account_id IN (SELECT pg_catalog.unnest(accounts));
	INSERT INTO @extschema@.journey_cache
	WITH opp AS (
		SELECT o.account_id, o.opportunity_id, o.amount, o.currency, o.created_at, o.closed_at,
			   CASE WHEN o.closed_at IS NULL THEN 'open' WHEN o.is_won THEN 'won' ELSE 'lost' END AS status,
			   CASE WHEN s.lookback IS NULL THEN NULL
					ELSE o.created_at - pg_catalog.date_part('epoch', s.lookback) * interval '1 second' END AS window_start,
			   coalesce(o.closed_at, t_as_of) AS window_end
		FROM @extschema@.src_opportunities o
		WHERE accounts IS NULL OR o.account_id IN (SELECT pg_catalog.unnest(accounts))
	),
	scope AS (			-- in-scope contacts of each opportunity
		SELECT o.account_id, o.opportunity_id, c.contact_id
		FROM opp o JOIN @extschema@.src_contacts c ON c.account_id = o.account_id
		WHERE s.contact_scope = 'account'
		UNION
		SELECT r.account_id, r.opportunity_id, r.contact_id
		FROM @extschema@.src_opportunity_contact_roles r
		WHERE s.contact_scope = 'contact_roles' OR (s.contact_scope = 'primary_contact' AND r.is_primary)
	),
	jt AS (
		SELECT o.account_id, o.opportunity_id,
			   @extschema@.journey_agg(t.touch_id, t.occurred_at, t.channel) AS journey
		FROM opp o
		JOIN @extschema@.src_touches t ON t.account_id = o.account_id
		WHERE t.occurred_at <= o.window_end
		  AND (o.window_start IS NULL OR t.occurred_at >= o.window_start)
		  AND (s.contact_scope = 'account'
			   OR EXISTS (SELECT 1 FROM scope sc
						  WHERE sc.account_id = o.account_id AND sc.opportunity_id = o.opportunity_id
							AND sc.contact_id = t.contact_id))
		GROUP BY o.account_id, o.opportunity_id
	),
	lead AS (
		SELECT sc.account_id, sc.opportunity_id, min(c.lead_created_at) AS lead_created_at
		FROM scope sc JOIN @extschema@.src_contacts c
			ON c.account_id = sc.account_id AND c.contact_id = sc.contact_id
		GROUP BY sc.account_id, sc.opportunity_id
	),
	stage_first AS (
		SELECT o.account_id, o.opportunity_id, e.stage, min(e.occurred_at) AS entered_at
		FROM opp o JOIN @extschema@.src_stage_events e ON e.account_id = o.account_id
		WHERE e.opportunity_id = o.opportunity_id
		   OR EXISTS (SELECT 1 FROM scope sc
					  WHERE sc.account_id = o.account_id AND sc.opportunity_id = o.opportunity_id
						AND sc.contact_id = e.contact_id)
		GROUP BY o.account_id, o.opportunity_id, e.stage
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
	LEFT JOIN stages st ON st.account_id = o.account_id AND st.opportunity_id = o.opportunity_id;
	GET DIAGNOSTICS n_opps = ROW_COUNT;

	DELETE FROM @extschema@.account_journey_cache a
	WHERE accounts IS NULL OR a.account_id IN (SELECT pg_catalog.unnest(accounts));
	INSERT INTO @extschema@.account_journey_cache
	SELECT t.account_id, @extschema@.journey_agg(t.touch_id, t.occurred_at, t.channel)
	FROM @extschema@.src_touches t
	WHERE (accounts IS NULL OR t.account_id IN (SELECT pg_catalog.unnest(accounts)))
	  AND NOT EXISTS (SELECT 1 FROM @extschema@.src_opportunities o WHERE o.account_id = t.account_id)
	  AND t.occurred_at <= t_as_of
	  AND (s.lookback IS NULL
		   OR t.occurred_at >= t_as_of - pg_catalog.date_part('epoch', s.lookback) * interval '1 second')
	GROUP BY t.account_id;

	SELECT j.account_id, j.opportunity_id, j.currency, j.created_at, j.closed_at, j.status INTO bad
	FROM @extschema@.journey_cache j WHERE j.amount_reporting = 'NaN' LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'no exchange rate from % to % on %', bad.currency, s.reporting_currency,
			pg_catalog.to_char(CASE WHEN bad.status = 'open' THEN bad.created_at ELSE bad.closed_at END AT TIME ZONE 'UTC', 'YYYY-MM-DD')
			USING ERRCODE = 'no_data_found',
				  DETAIL = format('Opportunity %s of account %s needs it.', bad.opportunity_id, bad.account_id),
				  HINT = 'Add a row to attrib.exchange_rates with valid_from on or before that date.';
	END IF;
	END IF;

	DELETE FROM @extschema@.credit_cache c
	WHERE accounts IS NULL OR c.account_id IN (SELECT pg_catalog.unnest(accounts));
	INSERT INTO @extschema@.credit_cache
	WITH r AS (
		SELECT pg_catalog.array_agg(m.name ORDER BY m.name) AS names,
			   pg_catalog.array_agg(m.base_model ORDER BY m.name) AS models,
			   pg_catalog.array_agg(pg_catalog.jsonb_build_object('direct_channels', s.direct_channels || coalesce(
					(SELECT pg_catalog.array_agg(ch.channel) FROM @extschema@.src_channels ch WHERE ch.is_direct), '{}'))
				   || m.options ORDER BY m.name) AS options
		FROM @extschema@.model_registry m WHERE m.enabled AND NOT m.data_driven
	)
	SELECT j.account_id, j.opportunity_id, c.model, c.touch_index, c.touch_id, c.weight,
		   c.credit, c.credit_reporting
	FROM @extschema@.journey_cache j
	CROSS JOIN r
	CROSS JOIN LATERAL @extschema@.credit_split(j.journey, r.names, r.models, r.options,
		j.amount, @extschema@.currency_scale(j.currency),
		j.amount_reporting, @extschema@.currency_scale(s.reporting_currency)) c
	WHERE r.names IS NOT NULL
	  AND (accounts IS NULL OR j.account_id IN (SELECT pg_catalog.unnest(accounts)));
	-- what no touch could take is booked unattributed, so totals keep every cent
	INSERT INTO @extschema@.credit_cache
	SELECT j.account_id, j.opportunity_id, r.name, 0, NULL, 1, j.amount, j.amount_reporting
	FROM @extschema@.journey_cache j
	CROSS JOIN (SELECT * FROM @extschema@.model_registry WHERE enabled AND additive AND NOT data_driven) r
	WHERE (accounts IS NULL OR j.account_id IN (SELECT pg_catalog.unnest(accounts)))
	  AND NOT EXISTS (SELECT 1 FROM @extschema@.credit_cache c
					  WHERE c.account_id = j.account_id AND c.opportunity_id = j.opportunity_id
						AND c.model = r.name);
	RETURN n_opps;
END $$;
COMMENT ON FUNCTION @extschema@.refresh_scope(pg_catalog.text[], pg_catalog.bool, pg_catalog.timestamptz) IS
'The work of a refresh for some accounts (NULL: all): rebuild their journeys from the sources (when journeys is true) and their credits from the stored journeys. Called by attrib.refresh() and attrib.refresh_incremental(); returns the journeys rebuilt.';

-- ------------------------------------------------------------------
-- Change tracking for incremental refresh.  Statement-level triggers on
-- attrib's CRM tables queue the accounts whose rows changed; changes to
-- settings, rates or channels make every journey stale; changes to the model
-- registry make every credit stale.  (Mapped sources are not tracked: call
-- attrib.mark_changed() or run a full refresh.)
-- ------------------------------------------------------------------

CREATE TABLE @extschema@.refresh_queue (
	account_id pg_catalog.text PRIMARY KEY
);
COMMENT ON TABLE @extschema@.refresh_queue IS 'Accounts whose CRM rows changed since the last refresh: attrib.refresh_incremental() rebuilds exactly these.';
COMMENT ON COLUMN @extschema@.refresh_queue.account_id IS 'Account to rebuild.';

CREATE TABLE @extschema@.refresh_state (
	singleton pg_catalog.bool PRIMARY KEY DEFAULT true CHECK (singleton),
	journeys_stale pg_catalog.bool NOT NULL DEFAULT false,
	credits_stale pg_catalog.bool NOT NULL DEFAULT false
);
COMMENT ON TABLE @extschema@.refresh_state IS 'What an incremental refresh must redo beyond the queued accounts: every journey (settings, rates or channels changed), or every credit (the model registry changed).';
COMMENT ON COLUMN @extschema@.refresh_state.singleton IS 'Always true: one row at most.';
COMMENT ON COLUMN @extschema@.refresh_state.journeys_stale IS 'Every journey must be rebuilt.';
COMMENT ON COLUMN @extschema@.refresh_state.credits_stale IS 'Every credit must be recomputed from the stored journeys.';

CREATE FUNCTION @extschema@.mark_changed(accounts pg_catalog.text[])
RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	INSERT INTO @extschema@.refresh_queue
	SELECT DISTINCT a FROM pg_catalog.unnest(accounts) a WHERE a IS NOT NULL
	ON CONFLICT DO NOTHING;
END;
COMMENT ON FUNCTION @extschema@.mark_changed(pg_catalog.text[]) IS
'Queues accounts for the next attrib.refresh_incremental() (the triggers do this for attrib''s own tables; call it when a mapped source changes).';

CREATE FUNCTION @extschema@.track_accounts() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		INSERT INTO @extschema@.refresh_queue SELECT DISTINCT n.account_id FROM new_rows n
		ON CONFLICT DO NOTHING;
	END IF;
	IF TG_OP IN ('DELETE', 'UPDATE') THEN
		INSERT INTO @extschema@.refresh_queue SELECT DISTINCT o.account_id FROM old_rows o
		ON CONFLICT DO NOTHING;
	END IF;
	RETURN NULL;
END $$;
COMMENT ON FUNCTION @extschema@.track_accounts() IS 'Trigger: queues the accounts of changed CRM rows for incremental refresh.';

CREATE FUNCTION @extschema@.track_stale() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	INSERT INTO @extschema@.refresh_state AS r (singleton, journeys_stale, credits_stale)
	VALUES (true, TG_ARGV[0] = 'journeys', TG_ARGV[0] = 'credits')
	ON CONFLICT (singleton) DO UPDATE
		SET journeys_stale = r.journeys_stale OR EXCLUDED.journeys_stale,
			credits_stale = r.credits_stale OR EXCLUDED.credits_stale;
	RETURN NULL;
END $$;
COMMENT ON FUNCTION @extschema@.track_stale() IS 'Trigger: marks every journey or every credit stale for incremental refresh.';

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
CREATE TRIGGER track_stale AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.model_config
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_stale('credits');
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
	n_opps pg_catalog.int8)
RETURNS @extschema@.refresh_log
LANGUAGE sql SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	INSERT INTO @extschema@.refresh_log
	VALUES (pg_catalog.now(), t_as_of, n_opps, (SELECT count(*) FROM @extschema@.credit_cache),
			pg_catalog.clock_timestamp() - started)
	ON CONFLICT (refreshed_at) DO UPDATE
		SET as_of = EXCLUDED.as_of, opportunities = EXCLUDED.opportunities,
			credit_rows = EXCLUDED.credit_rows, duration = EXCLUDED.duration
	RETURNING *;
END;
COMMENT ON FUNCTION @extschema@.refresh_log_row(pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.int8) IS
'Records a refresh in attrib.refresh_log and returns the row.';

-- begin a refresh: one at a time (readers are never blocked), mapped sources re-applied
CREATE FUNCTION @extschema@.refresh_begin()
RETURNS pg_catalog.timestamptz
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	m record;
BEGIN
	PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('attrib.refresh'));
	FOR m IN SELECT * FROM @extschema@.source_map LOOP
		PERFORM @extschema@.map_source(m.entity, m.relation::pg_catalog.regclass);
	END LOOP;
	RETURN coalesce((SELECT s.as_of FROM @extschema@.effective_settings s), pg_catalog.now());
END $$;
COMMENT ON FUNCTION @extschema@.refresh_begin() IS
'Starts a refresh: takes the refresh lock (refreshes run one at a time; readers are never blocked), re-applies mapped sources, and returns the as-of time to use.';

CREATE FUNCTION @extschema@.refresh()
RETURNS @extschema@.refresh_log
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	started pg_catalog.timestamptz := pg_catalog.clock_timestamp();
	t_as_of pg_catalog.timestamptz := @extschema@.refresh_begin();
	n pg_catalog.int8;
BEGIN
	DELETE FROM @extschema@.refresh_queue;
	DELETE FROM @extschema@.refresh_state;
	n := @extschema@.refresh_scope(NULL, true, t_as_of);
	PERFORM @extschema@.refresh_data_driven();
	RETURN @extschema@.refresh_log_row(started, t_as_of, n);
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
	changed pg_catalog.text[];
	n pg_catalog.int8 := 0;
BEGIN
	DELETE FROM @extschema@.refresh_state RETURNING * INTO st;
	IF coalesce(st.journeys_stale, false) THEN
		DELETE FROM @extschema@.refresh_queue;
		n := @extschema@.refresh_scope(NULL, true, t_as_of);
		PERFORM @extschema@.refresh_data_driven();
		RETURN @extschema@.refresh_log_row(started, t_as_of, n);
	END IF;
	-- the queued accounts, taken out of the queue: a write after this point
	-- queues its account again for the next refresh
	WITH taken AS (DELETE FROM @extschema@.refresh_queue RETURNING account_id)
	SELECT pg_catalog.array_agg(account_id) INTO changed FROM taken;
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

CREATE FUNCTION @extschema@.schedule_refresh(schedule pg_catalog.text DEFAULT '0 * * * *')
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
	EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
		USING 'attrib-refresh', schedule, 'SELECT @extschema@.refresh()';
	RETURN job;
END $$;
COMMENT ON FUNCTION @extschema@.schedule_refresh(pg_catalog.text) IS
'Schedules attrib.refresh() with pg_cron under the job name attrib-refresh (cron syntax; default hourly); an error if pg_cron is not installed.';

-- ------------------------------------------------------------------
-- reports.sql — the attribution reports of SPEC §5 over the stored credits.
--
-- Every view runs with the querying user's rights (security_invoker) and joins
-- the src_* views, so row-level security on the CRM tables hides the rows it
-- hides there.  Money columns are in the reporting currency.  Additive totals
-- never include non-additive models (influence, raw time decay); the amount no
-- touch could take is the channel '(unattributed)', so totals keep every cent.
-- ------------------------------------------------------------------

CREATE VIEW @extschema@.touch_credits WITH (security_invoker = true) AS
SELECT c.account_id, c.opportunity_id, j.status, c.model, r.additive,
	   c.touch_index, c.touch_id, t.occurred_at,
	   coalesce(t.channel, '(unattributed)') AS channel, ch.channel_group,
	   t.campaign_id, t.contact_id, t.touch_type, t.activity, t.owner AS touch_owner,
	   o.owner AS opportunity_owner, c.weight,
	   c.credit, j.currency, c.credit_reporting, s.reporting_currency,
	   j.created_at AS opportunity_created_at, j.closed_at AS opportunity_closed_at
FROM @extschema@.credit_cache c
JOIN @extschema@.journey_cache j ON j.account_id = c.account_id AND j.opportunity_id = c.opportunity_id
JOIN @extschema@.src_opportunities o ON o.account_id = c.account_id AND o.opportunity_id = c.opportunity_id
JOIN @extschema@.model_registry r ON r.name = c.model
LEFT JOIN @extschema@.src_touches t ON t.account_id = c.account_id AND t.touch_id = c.touch_id
LEFT JOIN @extschema@.src_channels ch ON ch.channel = t.channel
CROSS JOIN @extschema@.effective_settings s
WHERE c.touch_index = 0 OR t.touch_id IS NOT NULL;
COMMENT ON VIEW @extschema@.touch_credits IS 'Per touch credit in long form: one row per (opportunity, model, touch that earned credit), as of the last refresh.';
COMMENT ON COLUMN @extschema@.touch_credits.account_id IS 'Account.';
COMMENT ON COLUMN @extschema@.touch_credits.opportunity_id IS 'Opportunity.';
COMMENT ON COLUMN @extschema@.touch_credits.status IS 'won, open or lost.';
COMMENT ON COLUMN @extschema@.touch_credits.model IS 'Model name.';
COMMENT ON COLUMN @extschema@.touch_credits.additive IS 'Whether the model''s credits add up to the amount (false: influence, raw time decay).';
COMMENT ON COLUMN @extschema@.touch_credits.touch_index IS 'Position in the journey (1-based); 0 for the unattributed remainder.';
COMMENT ON COLUMN @extschema@.touch_credits.touch_id IS 'The touch (NULL when unattributed).';
COMMENT ON COLUMN @extschema@.touch_credits.occurred_at IS 'When the touch happened.';
COMMENT ON COLUMN @extschema@.touch_credits.channel IS 'Channel of the touch, or (unattributed).';
COMMENT ON COLUMN @extschema@.touch_credits.channel_group IS 'Group of the channel (attrib.channels).';
COMMENT ON COLUMN @extschema@.touch_credits.campaign_id IS 'Campaign of the touch.';
COMMENT ON COLUMN @extschema@.touch_credits.contact_id IS 'Contact touched (NULL for account-level touches).';
COMMENT ON COLUMN @extschema@.touch_credits.touch_type IS 'marketing or sales.';
COMMENT ON COLUMN @extschema@.touch_credits.activity IS 'Activity of the touch.';
COMMENT ON COLUMN @extschema@.touch_credits.touch_owner IS 'Sales rep who made the touch.';
COMMENT ON COLUMN @extschema@.touch_credits.opportunity_owner IS 'Owner of the opportunity.';
COMMENT ON COLUMN @extschema@.touch_credits.weight IS 'Weight of the touch under the model.';
COMMENT ON COLUMN @extschema@.touch_credits.credit IS 'Credit in the opportunity''s currency.';
COMMENT ON COLUMN @extschema@.touch_credits.currency IS 'The opportunity''s currency.';
COMMENT ON COLUMN @extschema@.touch_credits.credit_reporting IS 'Credit in the reporting currency.';
COMMENT ON COLUMN @extschema@.touch_credits.reporting_currency IS 'The reporting currency.';
COMMENT ON COLUMN @extschema@.touch_credits.opportunity_created_at IS 'When the opportunity was created.';
COMMENT ON COLUMN @extschema@.touch_credits.opportunity_closed_at IS 'When it closed (NULL when open).';

CREATE VIEW @extschema@.journeys WITH (security_invoker = true) AS
SELECT j.account_id, j.opportunity_id, j.status, t.touch_index, t.touch_id, t.occurred_at,
	   t.channel, st.campaign_id, st.contact_id, st.touch_type, st.activity, st.owner,
	   t.positions,
	   round((pg_catalog.date_part('epoch', t.occurred_at - pg_catalog.lag(t.occurred_at)
			OVER (PARTITION BY j.account_id, j.opportunity_id ORDER BY t.touch_index)) / 86400)::pg_catalog.numeric, 2)
		   AS days_since_previous,
	   round((pg_catalog.date_part('epoch', coalesce(j.closed_at, r.as_of) - t.occurred_at) / 86400)::pg_catalog.numeric, 2)
		   AS days_before_end
FROM @extschema@.journey_cache j
JOIN @extschema@.src_opportunities o ON o.account_id = j.account_id AND o.opportunity_id = j.opportunity_id
CROSS JOIN LATERAL @extschema@.touches(j.journey) t
-- an inner join: a touch the querying user cannot see in the source (row-level
-- security) is not shown, as in touch_credits
JOIN @extschema@.src_touches st ON st.account_id = j.account_id AND st.touch_id = t.touch_id
LEFT JOIN LATERAL (SELECT l.as_of FROM @extschema@.refresh_log l ORDER BY l.refreshed_at DESC LIMIT 1) r ON true;
COMMENT ON VIEW @extschema@.journeys IS 'Each opportunity''s ordered touches with the milestone positions they hold (FT, LC, OC, CW, LT, stage:NAME): the timeline a rep reads before a call. Touches the querying user cannot see in the touches source (row-level security) are left out.';
COMMENT ON COLUMN @extschema@.journeys.account_id IS 'Account.';
COMMENT ON COLUMN @extschema@.journeys.opportunity_id IS 'Opportunity.';
COMMENT ON COLUMN @extschema@.journeys.status IS 'won, open or lost.';
COMMENT ON COLUMN @extschema@.journeys.touch_index IS 'Position in the journey (1-based).';
COMMENT ON COLUMN @extschema@.journeys.touch_id IS 'The touch.';
COMMENT ON COLUMN @extschema@.journeys.occurred_at IS 'When it happened.';
COMMENT ON COLUMN @extschema@.journeys.channel IS 'Channel.';
COMMENT ON COLUMN @extschema@.journeys.campaign_id IS 'Campaign.';
COMMENT ON COLUMN @extschema@.journeys.contact_id IS 'Contact touched (NULL: the account).';
COMMENT ON COLUMN @extschema@.journeys.touch_type IS 'marketing or sales.';
COMMENT ON COLUMN @extschema@.journeys.activity IS 'Activity.';
COMMENT ON COLUMN @extschema@.journeys.owner IS 'Sales rep who made the touch.';
COMMENT ON COLUMN @extschema@.journeys.positions IS 'Milestones the touch holds.';
COMMENT ON COLUMN @extschema@.journeys.days_since_previous IS 'Days since the previous touch of the journey.';
COMMENT ON COLUMN @extschema@.journeys.days_before_end IS 'Days from the touch to the close (or to the as-of time when open).';

CREATE VIEW @extschema@.touch_credits_wide WITH (security_invoker = true) AS
SELECT jn.account_id, jn.opportunity_id, jn.status, jn.touch_index, jn.touch_id, jn.occurred_at,
	   jn.channel, jn.campaign_id, jn.positions,
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
		   FILTER (WHERE c.model IS NOT NULL AND c.model NOT IN (SELECT m.name FROM @extschema@.models() m))
		   AS other_models
FROM @extschema@.journeys jn
LEFT JOIN @extschema@.credit_cache c
	ON c.account_id = jn.account_id AND c.opportunity_id = jn.opportunity_id AND c.touch_index = jn.touch_index
GROUP BY jn.account_id, jn.opportunity_id, jn.status, jn.touch_index, jn.touch_id, jn.occurred_at,
		 jn.channel, jn.campaign_id, jn.positions;
COMMENT ON VIEW @extschema@.touch_credits_wide IS 'Per touch credit, one percentage column per built-in model (the Marketo Measure shape); NULL where a model is disabled or gave the touch nothing; registered models in other_models.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.account_id IS 'Account.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.opportunity_id IS 'Opportunity.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.status IS 'won, open or lost.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.touch_index IS 'Position in the journey.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.touch_id IS 'The touch.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.occurred_at IS 'When it happened.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.channel IS 'Channel.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.campaign_id IS 'Campaign.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.positions IS 'Milestones the touch holds.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.first_touch IS 'Percent of the amount under first_touch.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.last_touch IS 'Percent under last_touch.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.lead_creation IS 'Percent under lead_creation.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.opportunity_creation IS 'Percent under opportunity_creation.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.last_non_direct IS 'Percent under last_non_direct.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.first_non_direct IS 'Percent under first_non_direct.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.linear IS 'Percent under linear.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.position_based IS 'Percent under position_based.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.j_shaped IS 'Percent under j_shaped.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.inverse_j IS 'Percent under inverse_j.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.u_shaped IS 'Percent under u_shaped.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.w_shaped IS 'Percent under w_shaped.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.full_path IS 'Percent under full_path.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.custom IS 'Percent under the built-in custom model (when configured).';
COMMENT ON COLUMN @extschema@.touch_credits_wide.time_decay IS 'Percent under time_decay.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.influence IS 'Percent under influence (100 for every touch: non-additive).';
COMMENT ON COLUMN @extschema@.touch_credits_wide.other_models IS 'Percent under each registered model, by name.';

-- ------------------------------------------------------------------
-- Rollups: won revenue and open pipeline per model and dimension
-- ------------------------------------------------------------------

CREATE VIEW @extschema@.revenue_by_channel WITH (security_invoker = true) AS
SELECT model, channel, channel_group,
	   coalesce(sum(credit_reporting) FILTER (WHERE status = 'won'), 0) AS won_revenue,
	   coalesce(sum(credit_reporting) FILTER (WHERE status = 'open'), 0) AS pipeline,
	   count(DISTINCT (account_id, opportunity_id)) FILTER (WHERE status = 'won') AS won_opportunities,
	   count(DISTINCT (account_id, opportunity_id)) FILTER (WHERE status = 'open') AS open_opportunities,
	   reporting_currency
FROM @extschema@.touch_credits WHERE additive
GROUP BY model, channel, channel_group, reporting_currency;

CREATE VIEW @extschema@.revenue_by_campaign WITH (security_invoker = true) AS
SELECT c.model, c.campaign_id, cp.name AS campaign_name, c.channel,
	   coalesce(sum(c.credit_reporting) FILTER (WHERE c.status = 'won'), 0) AS won_revenue,
	   coalesce(sum(c.credit_reporting) FILTER (WHERE c.status = 'open'), 0) AS pipeline,
	   count(DISTINCT (c.account_id, c.opportunity_id)) FILTER (WHERE c.status = 'won') AS won_opportunities,
	   count(DISTINCT (c.account_id, c.opportunity_id)) FILTER (WHERE c.status = 'open') AS open_opportunities,
	   c.reporting_currency
FROM @extschema@.touch_credits c
LEFT JOIN @extschema@.src_campaigns cp ON cp.campaign_id = c.campaign_id
WHERE c.additive
GROUP BY c.model, c.campaign_id, cp.name, c.channel, c.reporting_currency;

CREATE VIEW @extschema@.revenue_by_account WITH (security_invoker = true) AS
SELECT c.model, c.account_id, a.name AS account_name, a.segment,
	   coalesce(sum(c.credit_reporting) FILTER (WHERE c.status = 'won'), 0) AS won_revenue,
	   coalesce(sum(c.credit_reporting) FILTER (WHERE c.status = 'open'), 0) AS pipeline,
	   count(DISTINCT c.opportunity_id) FILTER (WHERE c.status = 'won') AS won_opportunities,
	   count(DISTINCT c.opportunity_id) FILTER (WHERE c.status = 'open') AS open_opportunities,
	   c.reporting_currency
FROM @extschema@.touch_credits c
LEFT JOIN @extschema@.src_accounts a ON a.account_id = c.account_id
WHERE c.additive
GROUP BY c.model, c.account_id, a.name, a.segment, c.reporting_currency;

CREATE VIEW @extschema@.revenue_by_contact WITH (security_invoker = true) AS
SELECT model, account_id, contact_id,
	   coalesce(sum(credit_reporting) FILTER (WHERE status = 'won'), 0) AS won_revenue,
	   coalesce(sum(credit_reporting) FILTER (WHERE status = 'open'), 0) AS pipeline,
	   count(DISTINCT opportunity_id) FILTER (WHERE status = 'won') AS won_opportunities,
	   count(DISTINCT opportunity_id) FILTER (WHERE status = 'open') AS open_opportunities,
	   reporting_currency
FROM @extschema@.touch_credits WHERE additive
GROUP BY model, account_id, contact_id, reporting_currency;

CREATE VIEW @extschema@.revenue_by_owner WITH (security_invoker = true) AS
SELECT model, touch_owner AS owner,
	   coalesce(sum(credit_reporting) FILTER (WHERE status = 'won'), 0) AS won_revenue,
	   coalesce(sum(credit_reporting) FILTER (WHERE status = 'open'), 0) AS pipeline,
	   count(DISTINCT (account_id, opportunity_id)) FILTER (WHERE status = 'won') AS won_opportunities,
	   count(DISTINCT (account_id, opportunity_id)) FILTER (WHERE status = 'open') AS open_opportunities,
	   reporting_currency
FROM @extschema@.touch_credits WHERE additive
GROUP BY model, touch_owner, reporting_currency;

CREATE VIEW @extschema@.revenue_by_month WITH (security_invoker = true) AS
SELECT model,
	   pg_catalog.date_trunc('month', coalesce(opportunity_closed_at, opportunity_created_at) AT TIME ZONE 'UTC')::pg_catalog.date AS month,
	   coalesce(sum(credit_reporting) FILTER (WHERE status = 'won'), 0) AS won_revenue,
	   coalesce(sum(credit_reporting) FILTER (WHERE status = 'open'), 0) AS pipeline,
	   count(DISTINCT (account_id, opportunity_id)) FILTER (WHERE status = 'won') AS won_opportunities,
	   count(DISTINCT (account_id, opportunity_id)) FILTER (WHERE status = 'open') AS open_opportunities,
	   reporting_currency
FROM @extschema@.touch_credits WHERE additive
GROUP BY 1, 2, reporting_currency;

COMMENT ON VIEW @extschema@.revenue_by_channel IS 'Won revenue and open pipeline credited to each channel, per additive model, in the reporting currency; (unattributed) holds what no touch could take.';
COMMENT ON VIEW @extschema@.revenue_by_campaign IS 'Won revenue and open pipeline credited to each campaign (NULL: touches without a campaign), per additive model.';
COMMENT ON VIEW @extschema@.revenue_by_account IS 'Won revenue and open pipeline per account, per additive model.';
COMMENT ON VIEW @extschema@.revenue_by_contact IS 'Won revenue and open pipeline credited to the touches of each contact (contact_id NULL: account-level touches and unattributed), per additive model.';
COMMENT ON VIEW @extschema@.revenue_by_owner IS 'Won revenue and open pipeline credited to the touches each sales rep made (owner NULL: touches without an owner), per additive model.';
COMMENT ON VIEW @extschema@.revenue_by_month IS 'Won revenue by month of close and open pipeline by month of creation (UTC), per additive model.';
COMMENT ON COLUMN @extschema@.revenue_by_channel.model IS 'Model.';
COMMENT ON COLUMN @extschema@.revenue_by_channel.channel IS 'Channel, or (unattributed).';
COMMENT ON COLUMN @extschema@.revenue_by_channel.channel_group IS 'Channel group.';
COMMENT ON COLUMN @extschema@.revenue_by_channel.won_revenue IS 'Credited revenue of won opportunities.';
COMMENT ON COLUMN @extschema@.revenue_by_channel.pipeline IS 'Credited amount of open opportunities.';
COMMENT ON COLUMN @extschema@.revenue_by_channel.won_opportunities IS 'Won opportunities with credit here.';
COMMENT ON COLUMN @extschema@.revenue_by_channel.open_opportunities IS 'Open opportunities with credit here.';
COMMENT ON COLUMN @extschema@.revenue_by_channel.reporting_currency IS 'Currency of the money columns.';
COMMENT ON COLUMN @extschema@.revenue_by_campaign.model IS 'Model.';
COMMENT ON COLUMN @extschema@.revenue_by_campaign.campaign_id IS 'Campaign (NULL: none).';
COMMENT ON COLUMN @extschema@.revenue_by_campaign.campaign_name IS 'Campaign name.';
COMMENT ON COLUMN @extschema@.revenue_by_campaign.channel IS 'Channel of the credited touches.';
COMMENT ON COLUMN @extschema@.revenue_by_campaign.won_revenue IS 'Credited revenue of won opportunities.';
COMMENT ON COLUMN @extschema@.revenue_by_campaign.pipeline IS 'Credited amount of open opportunities.';
COMMENT ON COLUMN @extschema@.revenue_by_campaign.won_opportunities IS 'Won opportunities with credit here.';
COMMENT ON COLUMN @extschema@.revenue_by_campaign.open_opportunities IS 'Open opportunities with credit here.';
COMMENT ON COLUMN @extschema@.revenue_by_campaign.reporting_currency IS 'Currency of the money columns.';
COMMENT ON COLUMN @extschema@.revenue_by_account.model IS 'Model.';
COMMENT ON COLUMN @extschema@.revenue_by_account.account_id IS 'Account.';
COMMENT ON COLUMN @extschema@.revenue_by_account.account_name IS 'Account name.';
COMMENT ON COLUMN @extschema@.revenue_by_account.segment IS 'Account segment.';
COMMENT ON COLUMN @extschema@.revenue_by_account.won_revenue IS 'Won revenue of the account (all of it lands on its own touches or unattributed).';
COMMENT ON COLUMN @extschema@.revenue_by_account.pipeline IS 'Open pipeline of the account.';
COMMENT ON COLUMN @extschema@.revenue_by_account.won_opportunities IS 'Won opportunities.';
COMMENT ON COLUMN @extschema@.revenue_by_account.open_opportunities IS 'Open opportunities.';
COMMENT ON COLUMN @extschema@.revenue_by_account.reporting_currency IS 'Currency of the money columns.';
COMMENT ON COLUMN @extschema@.revenue_by_contact.model IS 'Model.';
COMMENT ON COLUMN @extschema@.revenue_by_contact.account_id IS 'Account.';
COMMENT ON COLUMN @extschema@.revenue_by_contact.contact_id IS 'Contact (NULL: account-level touches and unattributed).';
COMMENT ON COLUMN @extschema@.revenue_by_contact.won_revenue IS 'Credited revenue of won opportunities.';
COMMENT ON COLUMN @extschema@.revenue_by_contact.pipeline IS 'Credited amount of open opportunities.';
COMMENT ON COLUMN @extschema@.revenue_by_contact.won_opportunities IS 'Won opportunities with credit here.';
COMMENT ON COLUMN @extschema@.revenue_by_contact.open_opportunities IS 'Open opportunities with credit here.';
COMMENT ON COLUMN @extschema@.revenue_by_contact.reporting_currency IS 'Currency of the money columns.';
COMMENT ON COLUMN @extschema@.revenue_by_owner.model IS 'Model.';
COMMENT ON COLUMN @extschema@.revenue_by_owner.owner IS 'Sales rep who made the credited touches (NULL: none).';
COMMENT ON COLUMN @extschema@.revenue_by_owner.won_revenue IS 'Credited revenue of won opportunities.';
COMMENT ON COLUMN @extschema@.revenue_by_owner.pipeline IS 'Credited amount of open opportunities.';
COMMENT ON COLUMN @extschema@.revenue_by_owner.won_opportunities IS 'Won opportunities with credit here.';
COMMENT ON COLUMN @extschema@.revenue_by_owner.open_opportunities IS 'Open opportunities with credit here.';
COMMENT ON COLUMN @extschema@.revenue_by_owner.reporting_currency IS 'Currency of the money columns.';
COMMENT ON COLUMN @extschema@.revenue_by_month.model IS 'Model.';
COMMENT ON COLUMN @extschema@.revenue_by_month.month IS 'First day of the month (close month when closed, creation month when open).';
COMMENT ON COLUMN @extschema@.revenue_by_month.won_revenue IS 'Credited revenue of opportunities won that month.';
COMMENT ON COLUMN @extschema@.revenue_by_month.pipeline IS 'Credited amount of open opportunities created that month.';
COMMENT ON COLUMN @extschema@.revenue_by_month.won_opportunities IS 'Won opportunities.';
COMMENT ON COLUMN @extschema@.revenue_by_month.open_opportunities IS 'Open opportunities.';
COMMENT ON COLUMN @extschema@.revenue_by_month.reporting_currency IS 'Currency of the money columns.';

CREATE VIEW @extschema@.model_comparison WITH (security_invoker = true) AS
SELECT model, channel, won_revenue,
	   round(won_revenue / NULLIF(sum(won_revenue) OVER (PARTITION BY model), 0), 6) AS won_share,
	   pipeline,
	   round(pipeline / NULLIF(sum(pipeline) OVER (PARTITION BY model), 0), 6) AS pipeline_share,
	   reporting_currency
FROM @extschema@.revenue_by_channel;
COMMENT ON VIEW @extschema@.model_comparison IS 'Channel x model: each additive model''s won revenue and pipeline per channel with the channel''s share of that model''s total.';
COMMENT ON COLUMN @extschema@.model_comparison.model IS 'Model.';
COMMENT ON COLUMN @extschema@.model_comparison.channel IS 'Channel.';
COMMENT ON COLUMN @extschema@.model_comparison.won_revenue IS 'Won revenue credited to the channel.';
COMMENT ON COLUMN @extschema@.model_comparison.won_share IS 'Share of the model''s won revenue (0..1).';
COMMENT ON COLUMN @extschema@.model_comparison.pipeline IS 'Open pipeline credited to the channel.';
COMMENT ON COLUMN @extschema@.model_comparison.pipeline_share IS 'Share of the model''s pipeline (0..1).';
COMMENT ON COLUMN @extschema@.model_comparison.reporting_currency IS 'Currency of the money columns.';

CREATE VIEW @extschema@.campaign_roi WITH (security_invoker = true) AS
WITH cost AS (
	SELECT cp.campaign_id, cp.name, cp.channel, cp.cost,
		   CASE WHEN cp.cost IS NULL THEN NULL
				WHEN cp.currency IS NULL OR cp.currency = s.reporting_currency THEN cp.cost
				ELSE round(cp.cost * (SELECT x.rate FROM @extschema@.src_exchange_rates x
									  WHERE x.currency = cp.currency
										AND (cp.started_at IS NULL
											 OR x.valid_from <= (cp.started_at AT TIME ZONE 'UTC')::pg_catalog.date)
									  ORDER BY x.valid_from DESC LIMIT 1),
						   @extschema@.currency_scale(s.reporting_currency)) END AS cost_reporting,
		   s.reporting_currency
	FROM @extschema@.src_campaigns cp CROSS JOIN @extschema@.effective_settings s
)
SELECT m.name AS model, c.campaign_id, c.name AS campaign_name, c.channel, c.cost_reporting AS cost,
	   coalesce(r.won_revenue, 0) AS won_revenue, coalesce(r.pipeline, 0) AS pipeline,
	   round((coalesce(r.won_revenue, 0) - c.cost_reporting) / NULLIF(c.cost_reporting, 0), 4) AS roi,
	   round(coalesce(r.won_revenue, 0) / NULLIF(c.cost_reporting, 0), 4) AS revenue_per_cost,
	   c.reporting_currency
FROM cost c
CROSS JOIN (SELECT name FROM @extschema@.model_registry WHERE enabled AND additive) m
LEFT JOIN (SELECT model, campaign_id, sum(won_revenue) AS won_revenue, sum(pipeline) AS pipeline
		   FROM @extschema@.revenue_by_campaign GROUP BY model, campaign_id) r
	ON r.model = m.name AND r.campaign_id = c.campaign_id;
COMMENT ON VIEW @extschema@.campaign_roi IS 'Campaign ROI per additive model: attributed won revenue and pipeline against the campaign''s cost (converted to the reporting currency at the rate in force when it started).';
COMMENT ON COLUMN @extschema@.campaign_roi.model IS 'Model.';
COMMENT ON COLUMN @extschema@.campaign_roi.campaign_id IS 'Campaign.';
COMMENT ON COLUMN @extschema@.campaign_roi.campaign_name IS 'Campaign name.';
COMMENT ON COLUMN @extschema@.campaign_roi.channel IS 'The campaign''s channel.';
COMMENT ON COLUMN @extschema@.campaign_roi.cost IS 'Cost in the reporting currency (NULL: unknown, or no rate).';
COMMENT ON COLUMN @extschema@.campaign_roi.won_revenue IS 'Won revenue credited to the campaign.';
COMMENT ON COLUMN @extschema@.campaign_roi.pipeline IS 'Open pipeline credited to the campaign.';
COMMENT ON COLUMN @extschema@.campaign_roi.roi IS '(won_revenue - cost) / cost; NULL without a cost.';
COMMENT ON COLUMN @extschema@.campaign_roi.revenue_per_cost IS 'won_revenue / cost (ROAS); NULL without a cost.';
COMMENT ON COLUMN @extschema@.campaign_roi.reporting_currency IS 'Currency of the money columns.';

CREATE VIEW @extschema@.influenced_revenue_by_channel WITH (security_invoker = true) AS
SELECT x.channel,
	   coalesce(sum(x.amount_reporting) FILTER (WHERE x.status = 'won'), 0) AS influenced_won_revenue,
	   coalesce(sum(x.amount_reporting) FILTER (WHERE x.status = 'open'), 0) AS influenced_pipeline,
	   count(*) FILTER (WHERE x.status = 'won') AS won_opportunities,
	   count(*) FILTER (WHERE x.status = 'open') AS open_opportunities,
	   s.reporting_currency
FROM (SELECT DISTINCT j.account_id, j.opportunity_id, j.status, j.amount_reporting, t.channel
	  FROM @extschema@.journey_cache j
	  JOIN @extschema@.src_opportunities o ON o.account_id = j.account_id AND o.opportunity_id = j.opportunity_id
	  CROSS JOIN LATERAL @extschema@.touches(j.journey) t
	  -- only touches the querying user can see in the source (row-level security)
	  JOIN @extschema@.src_touches st ON st.account_id = j.account_id AND st.touch_id = t.touch_id) x
CROSS JOIN @extschema@.effective_settings s
GROUP BY x.channel, s.reporting_currency;
COMMENT ON VIEW @extschema@.influenced_revenue_by_channel IS 'Influenced revenue (non-additive): the full amount of every opportunity with at least one touch in the channel, each opportunity counted once per channel. Never sum it across channels.';
COMMENT ON COLUMN @extschema@.influenced_revenue_by_channel.channel IS 'Channel.';
COMMENT ON COLUMN @extschema@.influenced_revenue_by_channel.influenced_won_revenue IS 'Sum of the amounts of won opportunities the channel touched.';
COMMENT ON COLUMN @extschema@.influenced_revenue_by_channel.influenced_pipeline IS 'Sum of the amounts of open opportunities the channel touched.';
COMMENT ON COLUMN @extschema@.influenced_revenue_by_channel.won_opportunities IS 'Won opportunities the channel touched.';
COMMENT ON COLUMN @extschema@.influenced_revenue_by_channel.open_opportunities IS 'Open opportunities the channel touched.';
COMMENT ON COLUMN @extschema@.influenced_revenue_by_channel.reporting_currency IS 'Currency of the money columns.';

-- ------------------------------------------------------------------
-- lifecycle.sql — the SPEC §5 reports that need no credits (time to
-- conversion, the funnel, revivals, stage win rates) and the stage-weighted
-- forecast.  They read the CRM only through the src_* views, the stored
-- journeys (journey_cache) and effective_settings, run with the querying
-- user's rights (security_invoker), and group per (account_id,
-- opportunity_id) or per account first, so the same SQL distributes by
-- account on Citus.  Decisions are written down in docs/reports-lifecycle.md.
-- ------------------------------------------------------------------

CREATE FUNCTION @extschema@.days_between(from_at pg_catalog.timestamptz, to_at pg_catalog.timestamptz)
RETURNS pg_catalog.numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN pg_catalog.round(EXTRACT(epoch FROM to_at - from_at) / 86400, 2);
COMMENT ON FUNCTION @extschema@.days_between(pg_catalog.timestamptz, pg_catalog.timestamptz) IS
'Elapsed time from from_at to to_at in days of 24 hours (independent of the time zone and of daylight saving), rounded to 2 decimals; negative when to_at is earlier; NULL when either is NULL.';

-- ------------------------------------------------------------------
-- Time to conversion
-- ------------------------------------------------------------------

CREATE VIEW @extschema@.time_to_conversion WITH (security_invoker = true) AS
SELECT j.account_id, j.opportunity_id, j.status, a.segment,
	   ft.occurred_at AS first_touch_at, ft.channel AS first_touch_channel,
	   j.lead_created_at, j.created_at, j.closed_at,
	   CASE WHEN d.ft_lead >= 0 THEN d.ft_lead END AS days_first_touch_to_lead,
	   CASE WHEN d.lead_opp >= 0 THEN d.lead_opp END AS days_lead_to_opportunity,
	   CASE WHEN j.status = 'won' AND d.opp_close >= 0 THEN d.opp_close END AS days_opportunity_to_won,
	   CASE WHEN j.status = 'won' AND d.ft_close >= 0 THEN d.ft_close END AS days_first_touch_to_won
FROM @extschema@.journey_cache j
JOIN @extschema@.src_opportunities o
	ON o.account_id = j.account_id AND o.opportunity_id = j.opportunity_id
LEFT JOIN @extschema@.src_accounts a ON a.account_id = j.account_id
LEFT JOIN LATERAL (
	SELECT t.occurred_at, t.channel
	FROM @extschema@.touches(j.journey) t
	WHERE 'FT' = ANY (t.positions)
	  -- only if the querying user can see it in the source (row-level security)
	  AND EXISTS (SELECT 1 FROM @extschema@.src_touches st
				  WHERE st.account_id = j.account_id AND st.touch_id = t.touch_id)
	ORDER BY t.touch_index
	LIMIT 1) ft ON true
CROSS JOIN LATERAL (
	SELECT @extschema@.days_between(ft.occurred_at, j.lead_created_at) AS ft_lead,
		   @extschema@.days_between(j.lead_created_at, j.created_at) AS lead_opp,
		   @extschema@.days_between(j.created_at, j.closed_at) AS opp_close,
		   @extschema@.days_between(ft.occurred_at, j.closed_at) AS ft_close) d;
COMMENT ON VIEW @extschema@.time_to_conversion IS
'Per opportunity (as of the last attrib.refresh()): first touch of its journey, lead creation, opportunity creation and close, and the days between them. A step whose end comes before its start (e.g. the lead was created before the first touch in the window) is NULL, not negative; the timestamps are kept so it can be seen.';
COMMENT ON COLUMN @extschema@.time_to_conversion.account_id IS 'Account of the opportunity.';
COMMENT ON COLUMN @extschema@.time_to_conversion.opportunity_id IS 'The opportunity.';
COMMENT ON COLUMN @extschema@.time_to_conversion.status IS 'won, open or lost (at the last refresh).';
COMMENT ON COLUMN @extschema@.time_to_conversion.segment IS 'Segment of the account (NULL if unknown or the account is not visible).';
COMMENT ON COLUMN @extschema@.time_to_conversion.first_touch_at IS 'When the first touch of the journey (position FT, within the lookback window) happened; NULL when the journey has no touch, or the querying user cannot see it (row-level security).';
COMMENT ON COLUMN @extschema@.time_to_conversion.first_touch_channel IS 'Channel of the first touch of the journey.';
COMMENT ON COLUMN @extschema@.time_to_conversion.lead_created_at IS 'Earliest lead creation of the opportunity''s in-scope contacts.';
COMMENT ON COLUMN @extschema@.time_to_conversion.created_at IS 'When the opportunity was created.';
COMMENT ON COLUMN @extschema@.time_to_conversion.closed_at IS 'When it closed, won or lost (NULL while open); only a won close ends the *_to_won steps.';
COMMENT ON COLUMN @extschema@.time_to_conversion.days_first_touch_to_lead IS 'Days from the first touch to lead creation; NULL when either is missing or the lead came first.';
COMMENT ON COLUMN @extschema@.time_to_conversion.days_lead_to_opportunity IS 'Days from lead creation to opportunity creation; NULL when there is no lead date or the lead came after the opportunity.';
COMMENT ON COLUMN @extschema@.time_to_conversion.days_opportunity_to_won IS 'Days from opportunity creation to close, for won opportunities only (NULL otherwise).';
COMMENT ON COLUMN @extschema@.time_to_conversion.days_first_touch_to_won IS 'Days from the first touch to close, for won opportunities with a touch (NULL otherwise).';

CREATE VIEW @extschema@.time_to_conversion_percentiles WITH (security_invoker = true) AS
SELECT g.dimension, g.value, m.measure,
	   pg_catalog.count(*) AS opportunities,
	   pg_catalog.round(pg_catalog.avg(m.days), 2) AS avg_days,
	   pg_catalog.round(pg_catalog.percentile_cont(0.25) WITHIN GROUP (ORDER BY m.days::pg_catalog.float8)::pg_catalog.numeric, 2) AS p25,
	   pg_catalog.round(pg_catalog.percentile_cont(0.50) WITHIN GROUP (ORDER BY m.days::pg_catalog.float8)::pg_catalog.numeric, 2) AS p50,
	   pg_catalog.round(pg_catalog.percentile_cont(0.75) WITHIN GROUP (ORDER BY m.days::pg_catalog.float8)::pg_catalog.numeric, 2) AS p75,
	   pg_catalog.round(pg_catalog.percentile_cont(0.90) WITHIN GROUP (ORDER BY m.days::pg_catalog.float8)::pg_catalog.numeric, 2) AS p90
FROM @extschema@.time_to_conversion c
CROSS JOIN LATERAL (VALUES ('all', 'all'),
						   ('first_touch_channel', c.first_touch_channel),
						   ('segment', c.segment)) g(dimension, value)
CROSS JOIN LATERAL (VALUES ('first_touch_to_lead', c.days_first_touch_to_lead),
						   ('lead_to_opportunity', c.days_lead_to_opportunity),
						   ('opportunity_to_won', c.days_opportunity_to_won),
						   ('first_touch_to_won', c.days_first_touch_to_won)) m(measure, days)
WHERE m.days IS NOT NULL
GROUP BY g.dimension, g.value, m.measure;
COMMENT ON VIEW @extschema@.time_to_conversion_percentiles IS
'Distribution of attrib.time_to_conversion''s day measures (continuous percentiles, percentile_cont) overall and by first-touch channel and by segment. Each opportunity with the measure counts once: the lead and opportunity steps over every opportunity (won, lost, open), the *_to_won steps over won opportunities.';
COMMENT ON COLUMN @extschema@.time_to_conversion_percentiles.dimension IS 'all, first_touch_channel or segment.';
COMMENT ON COLUMN @extschema@.time_to_conversion_percentiles.value IS 'The channel or segment (all for the overall row; NULL: no first touch or no segment).';
COMMENT ON COLUMN @extschema@.time_to_conversion_percentiles.measure IS 'first_touch_to_lead, lead_to_opportunity, opportunity_to_won or first_touch_to_won.';
COMMENT ON COLUMN @extschema@.time_to_conversion_percentiles.opportunities IS 'Opportunities with the measure (NULL steps are left out).';
COMMENT ON COLUMN @extschema@.time_to_conversion_percentiles.avg_days IS 'Mean days, 2 decimals.';
COMMENT ON COLUMN @extschema@.time_to_conversion_percentiles.p25 IS '25th percentile in days (interpolated), 2 decimals.';
COMMENT ON COLUMN @extschema@.time_to_conversion_percentiles.p50 IS 'Median in days (interpolated), 2 decimals.';
COMMENT ON COLUMN @extschema@.time_to_conversion_percentiles.p75 IS '75th percentile in days (interpolated), 2 decimals.';
COMMENT ON COLUMN @extschema@.time_to_conversion_percentiles.p90 IS '90th percentile in days (interpolated), 2 decimals.';

-- ------------------------------------------------------------------
-- Funnel
-- ------------------------------------------------------------------

CREATE VIEW @extschema@.funnel_history WITH (security_invoker = true) AS
SELECT e.account_id, e.event_id,
	   CASE WHEN e.opportunity_id IS NOT NULL THEN 'opportunity' ELSE 'contact' END AS subject_type,
	   e.opportunity_id, e.contact_id, e.stage,
	   e.occurred_at AS entered_at,
	   pg_catalog.lead(e.occurred_at) OVER w AS exited_at,
	   pg_catalog.lead(e.stage) OVER w AS next_stage,
	   @extschema@.days_between(e.occurred_at, pg_catalog.lead(e.occurred_at) OVER w) AS days_in_stage
FROM @extschema@.src_stage_events e
WHERE EXISTS (SELECT 1 FROM @extschema@.src_accounts a WHERE a.account_id = e.account_id)
  AND (e.opportunity_id IS NULL
	   OR EXISTS (SELECT 1 FROM @extschema@.src_opportunities o
				  WHERE o.account_id = e.account_id AND o.opportunity_id = e.opportunity_id))
  AND (e.contact_id IS NULL
	   OR EXISTS (SELECT 1 FROM @extschema@.src_contacts c
				  WHERE c.account_id = e.account_id AND c.contact_id = e.contact_id))
WINDOW w AS (PARTITION BY e.account_id, e.opportunity_id,
					   CASE WHEN e.opportunity_id IS NULL THEN e.contact_id END
			 ORDER BY e.occurred_at, e.event_id COLLATE pg_catalog."C");
COMMENT ON VIEW @extschema@.funnel_history IS
'Every stage event of every account (its contacts'' and its opportunities''), with when the subject left the stage: the next stage event of the same subject (the opportunity if the event names one, else the contact), in (occurred_at, event_id) order. Events of opportunities, contacts or accounts the user cannot see are left out.';
COMMENT ON COLUMN @extschema@.funnel_history.account_id IS 'The account.';
COMMENT ON COLUMN @extschema@.funnel_history.event_id IS 'The stage event.';
COMMENT ON COLUMN @extschema@.funnel_history.subject_type IS 'opportunity when the event names an opportunity, else contact.';
COMMENT ON COLUMN @extschema@.funnel_history.opportunity_id IS 'The opportunity that entered the stage (NULL for a contact''s event).';
COMMENT ON COLUMN @extschema@.funnel_history.contact_id IS 'The contact named by the event, if any.';
COMMENT ON COLUMN @extschema@.funnel_history.stage IS 'Stage entered, e.g. MQL.';
COMMENT ON COLUMN @extschema@.funnel_history.entered_at IS 'When the stage was entered.';
COMMENT ON COLUMN @extschema@.funnel_history.exited_at IS 'When the same subject entered its next stage; NULL while this is its latest stage.';
COMMENT ON COLUMN @extschema@.funnel_history.next_stage IS 'The stage entered next by the same subject (NULL for the latest).';
COMMENT ON COLUMN @extschema@.funnel_history.days_in_stage IS 'Days from entered_at to exited_at (2 decimals); NULL for the latest stage.';

CREATE VIEW @extschema@.account_funnel WITH (security_invoker = true) AS
SELECT a.account_id, a.name, a.segment,
	   cur.stage AS current_stage, cur.entered_at, cur.subject_type,
	   cur.opportunity_id, cur.contact_id, cur.event_id,
	   coalesce(n.stages_passed, 0) AS stages_passed,
	   coalesce(n.events, 0) AS events
FROM @extschema@.src_accounts a
LEFT JOIN (
	SELECT DISTINCT ON (h.account_id) h.account_id, h.stage, h.entered_at, h.subject_type,
		   h.opportunity_id, h.contact_id, h.event_id
	FROM @extschema@.funnel_history h
	ORDER BY h.account_id, h.entered_at DESC, h.event_id COLLATE pg_catalog."C" DESC) cur
	ON cur.account_id = a.account_id
LEFT JOIN (
	SELECT h.account_id, pg_catalog.count(DISTINCT h.stage) - 1 AS stages_passed,
		   pg_catalog.count(*) AS events
	FROM @extschema@.funnel_history h
	GROUP BY h.account_id) n
	ON n.account_id = a.account_id;
COMMENT ON VIEW @extschema@.account_funnel IS
'Each account''s current funnel stage: the stage of its latest stage event (of any of its contacts or opportunities; at equal times the greatest event_id, bytewise, is the later), with the number of other stages it has passed. Accounts without stage events have a NULL stage.';
COMMENT ON COLUMN @extschema@.account_funnel.account_id IS 'The account.';
COMMENT ON COLUMN @extschema@.account_funnel.name IS 'Account name.';
COMMENT ON COLUMN @extschema@.account_funnel.segment IS 'Account segment.';
COMMENT ON COLUMN @extschema@.account_funnel.current_stage IS 'Stage of the account''s latest stage event; NULL when it has none.';
COMMENT ON COLUMN @extschema@.account_funnel.entered_at IS 'When the current stage was entered.';
COMMENT ON COLUMN @extschema@.account_funnel.subject_type IS 'Whether an opportunity or a contact entered the current stage.';
COMMENT ON COLUMN @extschema@.account_funnel.opportunity_id IS 'The opportunity that entered the current stage, if it was one.';
COMMENT ON COLUMN @extschema@.account_funnel.contact_id IS 'The contact named by the current stage''s event, if any.';
COMMENT ON COLUMN @extschema@.account_funnel.event_id IS 'The stage event that set the current stage.';
COMMENT ON COLUMN @extschema@.account_funnel.stages_passed IS 'Distinct stages the account has entered other than the current one (0 without events).';
COMMENT ON COLUMN @extschema@.account_funnel.events IS 'Stage events of the account.';

-- ------------------------------------------------------------------
-- Revivals
-- ------------------------------------------------------------------

CREATE VIEW @extschema@.revivals WITH (security_invoker = true) AS
SELECT t.account_id, t.touch_id, t.occurred_at, t.channel, t.campaign_id, t.contact_id,
	   t.previous_touch_at,
	   @extschema@.days_between(t.previous_touch_at, t.occurred_at) AS days_silent,
	   f.opportunity_id IS NOT NULL AS opportunity_followed,
	   f.opportunity_id AS followed_by_opportunity_id,
	   f.created_at AS followed_by_created_at
FROM (
	SELECT s.account_id, s.touch_id, s.occurred_at, s.channel, s.campaign_id, s.contact_id,
		   pg_catalog.lag(s.occurred_at) OVER (PARTITION BY s.account_id
											   ORDER BY s.occurred_at, s.touch_id COLLATE pg_catalog."C")
			   AS previous_touch_at
	FROM @extschema@.src_touches s) t
LEFT JOIN LATERAL (
	SELECT o.opportunity_id, o.created_at
	FROM @extschema@.src_opportunities o
	WHERE o.account_id = t.account_id
	  AND o.created_at >= t.occurred_at
	  AND o.created_at <= t.occurred_at
			+ (SELECT es.revival_window FROM @extschema@.effective_settings es) * interval '24 hours'
	ORDER BY o.created_at, o.opportunity_id COLLATE pg_catalog."C"
	LIMIT 1) f ON true
WHERE t.occurred_at - t.previous_touch_at
	  >= (SELECT es.cold_after FROM @extschema@.effective_settings es) * interval '24 hours';
COMMENT ON VIEW @extschema@.revivals IS
'Every touch that ends a silence of at least cold_after days (effective_settings; days of 24 hours) in its account''s touches, ordered by (occurred_at, touch_id): the account had gone cold and became active again. An account can revive several times; its first touch ever is not a revival. An opportunity follows when one of the account''s opportunities was created from the reviving touch to revival_window days after it, inclusive.';
COMMENT ON COLUMN @extschema@.revivals.account_id IS 'The account that revived.';
COMMENT ON COLUMN @extschema@.revivals.touch_id IS 'The reviving touch.';
COMMENT ON COLUMN @extschema@.revivals.occurred_at IS 'When the reviving touch happened.';
COMMENT ON COLUMN @extschema@.revivals.channel IS 'Channel of the reviving touch.';
COMMENT ON COLUMN @extschema@.revivals.campaign_id IS 'Campaign of the reviving touch, if any.';
COMMENT ON COLUMN @extschema@.revivals.contact_id IS 'Contact of the reviving touch (NULL for an account-level touch).';
COMMENT ON COLUMN @extschema@.revivals.previous_touch_at IS 'The account''s previous touch before the silence.';
COMMENT ON COLUMN @extschema@.revivals.days_silent IS 'Days between the previous touch and the reviving touch (2 decimals).';
COMMENT ON COLUMN @extschema@.revivals.opportunity_followed IS 'True when an opportunity of the account was created within revival_window days after the reviving touch (inclusive).';
COMMENT ON COLUMN @extschema@.revivals.followed_by_opportunity_id IS 'The first such opportunity (by created_at, then opportunity_id bytewise); NULL when none followed.';
COMMENT ON COLUMN @extschema@.revivals.followed_by_created_at IS 'When that opportunity was created.';

-- ------------------------------------------------------------------
-- Stage win rates and the forecast
-- ------------------------------------------------------------------

CREATE VIEW @extschema@.stage_win_rates WITH (security_invoker = true) AS
SELECT p.stage,
	   pg_catalog.count(*) AS closed_opportunities,
	   pg_catalog.count(*) FILTER (WHERE p.is_won) AS won_opportunities,
	   pg_catalog.count(*) FILTER (WHERE NOT p.is_won) AS lost_opportunities,
	   pg_catalog.round(pg_catalog.count(*) FILTER (WHERE p.is_won)::pg_catalog.numeric
						/ pg_catalog.count(*), 4) AS win_rate
FROM (
	SELECT e.account_id, e.opportunity_id, e.stage, o.is_won
	FROM @extschema@.src_stage_events e
	JOIN @extschema@.src_opportunities o
		ON o.account_id = e.account_id AND o.opportunity_id = e.opportunity_id
	WHERE o.closed_at IS NOT NULL
	GROUP BY e.account_id, e.opportunity_id, e.stage, o.is_won) p
GROUP BY p.stage;
COMMENT ON VIEW @extschema@.stage_win_rates IS
'Historical win rate of each opportunity stage: of the closed opportunities that ever entered the stage (a stage event naming the opportunity), how many were won. Each opportunity counts once per stage.';
COMMENT ON COLUMN @extschema@.stage_win_rates.stage IS 'Stage name.';
COMMENT ON COLUMN @extschema@.stage_win_rates.closed_opportunities IS 'Closed (won or lost) opportunities that entered the stage.';
COMMENT ON COLUMN @extschema@.stage_win_rates.won_opportunities IS 'Of those, the won ones.';
COMMENT ON COLUMN @extschema@.stage_win_rates.lost_opportunities IS 'Of those, the lost ones.';
COMMENT ON COLUMN @extschema@.stage_win_rates.win_rate IS 'won_opportunities / closed_opportunities, rounded to 4 decimals for display (the forecast uses the exact ratio).';

CREATE VIEW @extschema@.forecast WITH (security_invoker = true) AS
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
	FROM @extschema@.credit_cache cc
	JOIN @extschema@.journey_cache j
		ON j.account_id = cc.account_id AND j.opportunity_id = cc.opportunity_id
	LEFT JOIN @extschema@.src_touches t
		ON t.account_id = cc.account_id AND t.touch_id = cc.touch_id
	WHERE j.status = 'open'
	  AND (cc.touch_index = 0 OR t.touch_id IS NOT NULL)
	  AND cc.model IN (SELECT r.name FROM @extschema@.model_registry r WHERE r.additive)
	GROUP BY cc.account_id, cc.opportunity_id, cc.model, 4) c
JOIN @extschema@.src_opportunities o
	ON o.account_id = c.account_id AND o.opportunity_id = c.opportunity_id
LEFT JOIN @extschema@.stage_win_rates w ON w.stage = o.stage
CROSS JOIN (SELECT e.reporting_currency FROM @extschema@.effective_settings e LIMIT 1) es
GROUP BY c.model, c.channel, es.reporting_currency;
COMMENT ON VIEW @extschema@.forecast IS
'Open pipeline (open at the last refresh) by model and channel, in the reporting currency, and the same weighted by the historical win rate (attrib.stage_win_rates) of each opportunity''s current stage (opportunities.stage). Additive models only. An opportunity whose stage has no closed history has no win rate: it adds 0 to weighted_pipeline and its amount is shown in unrated_pipeline. Credits with no touch are the channel (unattributed).';
COMMENT ON COLUMN @extschema@.forecast.model IS 'Model name (additive models of attrib.model_registry).';
COMMENT ON COLUMN @extschema@.forecast.channel IS 'Channel of the credited touch; (unattributed) for pipeline no touch could take.';
COMMENT ON COLUMN @extschema@.forecast.opportunities IS 'Open opportunities with credit in the channel (each counts once).';
COMMENT ON COLUMN @extschema@.forecast.pipeline IS 'Sum of the channel''s credits of open opportunities, reporting currency.';
COMMENT ON COLUMN @extschema@.forecast.weighted_pipeline IS 'Sum of credit x win rate of the opportunity''s current stage (exact ratio), rounded to the reporting currency''s minor unit; stages without history count 0.';
COMMENT ON COLUMN @extschema@.forecast.unrated_pipeline IS 'Part of pipeline whose opportunity''s stage has no win-rate history (not in weighted_pipeline).';
COMMENT ON COLUMN @extschema@.forecast.reporting_currency IS 'The reporting currency of the money columns.';
-- ------------------------------------------------------------------
-- datadriven.sql — data-driven attribution (SPEC §3 "Data-driven"): exact
-- Markov chains of order 1..4 and exact Shapley values.
--
-- A fit is a value of a real type (attrib.markov_model, attrib.shapley_model)
-- holding counts; the fit aggregates are parallel safe and their state is
-- that same type, so partial fits combine on parallel workers and, having
-- text and binary I/O, on distributed workers too.  Fits of parts (e.g. one
-- per account) merge with attrib.markov_merge / attrib.shapley_merge into
-- exactly the fit of the whole.  The channel tables and credits solve a model
-- when they use it; credits solve it once per query for any number of journeys.
-- ------------------------------------------------------------------

-- ------------------------------------------------------------------
-- Markov
-- ------------------------------------------------------------------

CREATE TYPE @extschema@.markov_model;

CREATE FUNCTION @extschema@.markov_model_in(pg_catalog.cstring)
RETURNS @extschema@.markov_model
AS 'MODULE_PATHNAME', 'attrib_markov_model_in'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.markov_model_out(@extschema@.markov_model)
RETURNS pg_catalog.cstring
AS 'MODULE_PATHNAME', 'attrib_markov_model_out'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.markov_model_recv(pg_catalog.internal)
RETURNS @extschema@.markov_model
AS 'MODULE_PATHNAME', 'attrib_markov_model_recv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.markov_model_send(@extschema@.markov_model)
RETURNS pg_catalog.bytea
AS 'MODULE_PATHNAME', 'attrib_markov_model_send'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.markov_model (
	INPUT = @extschema@.markov_model_in,
	OUTPUT = @extschema@.markov_model_out,
	RECEIVE = @extschema@.markov_model_recv,
	SEND = @extschema@.markov_model_send,
	INTERNALLENGTH = VARIABLE,
	STORAGE = extended,
	ALIGNMENT = int4
);

COMMENT ON TYPE @extschema@.markov_model IS
'A fitted Markov chain of order 1 to 4: transition counts between start, channel states, conversion and null, with journeys and conversions per channel. Fits merge by adding counts. Text form is canonical JSON.';
COMMENT ON FUNCTION @extschema@.markov_model_in(pg_catalog.cstring) IS 'Text input of attrib.markov_model (JSON; validated, put in canonical order).';
COMMENT ON FUNCTION @extschema@.markov_model_out(@extschema@.markov_model) IS 'Text output of attrib.markov_model (canonical JSON).';
COMMENT ON FUNCTION @extschema@.markov_model_recv(pg_catalog.internal) IS 'Binary input of attrib.markov_model (every byte validated).';
COMMENT ON FUNCTION @extschema@.markov_model_send(@extschema@.markov_model) IS 'Binary output of attrib.markov_model (the versioned storage bytes).';

CREATE FUNCTION @extschema@.markov_model_from_bytea(pg_catalog.bytea)
RETURNS @extschema@.markov_model
AS 'MODULE_PATHNAME', 'attrib_markov_model_from_bytea'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.markov_model_from_bytea(pg_catalog.bytea) IS
'A Markov model from its binary form (as attrib.markov_model_send returns it); every byte is validated and anything corrupt is rejected.';

CREATE FUNCTION @extschema@.markov_fit_trans(@extschema@.markov_model,
	@extschema@.journey, pg_catalog.bool)
RETURNS @extschema@.markov_model
AS 'MODULE_PATHNAME', 'attrib_markov_fit_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION @extschema@.markov_fit_trans(@extschema@.markov_model,
	@extschema@.journey, pg_catalog.bool, pg_catalog.int4)
RETURNS @extschema@.markov_model
AS 'MODULE_PATHNAME', 'attrib_markov_fit_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION @extschema@.markov_merge_trans(@extschema@.markov_model,
	@extschema@.markov_model)
RETURNS @extschema@.markov_model
AS 'MODULE_PATHNAME', 'attrib_markov_merge_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.markov_fit_trans(@extschema@.markov_model, @extschema@.journey, pg_catalog.bool) IS 'Transition function of attrib.markov_fit (order 1).';
COMMENT ON FUNCTION @extschema@.markov_fit_trans(@extschema@.markov_model, @extschema@.journey, pg_catalog.bool, pg_catalog.int4) IS 'Transition function of attrib.markov_fit with an order.';
COMMENT ON FUNCTION @extschema@.markov_merge_trans(@extschema@.markov_model, @extschema@.markov_model) IS 'Adds two Markov fits of one order: the combine function of attrib.markov_fit, the transition function of attrib.markov_merge.';

CREATE AGGREGATE @extschema@.markov_fit(journey @extschema@.journey,
	converted pg_catalog.bool) (
	SFUNC = @extschema@.markov_fit_trans,
	STYPE = @extschema@.markov_model,
	COMBINEFUNC = @extschema@.markov_merge_trans,
	PARALLEL = SAFE
);

CREATE AGGREGATE @extschema@.markov_fit(journey @extschema@.journey,
	converted pg_catalog.bool, "order" pg_catalog.int4) (
	SFUNC = @extschema@.markov_fit_trans,
	STYPE = @extschema@.markov_model,
	COMBINEFUNC = @extschema@.markov_merge_trans,
	PARALLEL = SAFE
);

CREATE AGGREGATE @extschema@.markov_merge(model @extschema@.markov_model) (
	SFUNC = @extschema@.markov_merge_trans,
	STYPE = @extschema@.markov_model,
	COMBINEFUNC = @extschema@.markov_merge_trans,
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE @extschema@.markov_fit(@extschema@.journey, pg_catalog.bool) IS
'Fits a first-order Markov chain over journeys and whether each converted (NULL journey: no touches; NULL converted is an error). Parallel safe; the result is independent of row order.';
COMMENT ON AGGREGATE @extschema@.markov_fit(@extschema@.journey, pg_catalog.bool, pg_catalog.int4) IS
'Fits a Markov chain of the given order (1 to 4; states are the last k channels, shorter prefixes near the start of a path) over journeys and whether each converted. Parallel safe.';
COMMENT ON AGGREGATE @extschema@.markov_merge(@extschema@.markov_model) IS
'Merges Markov fits of one order (e.g. one per account) into the fit of all their journeys; NULLs are skipped, different orders are an error.';

CREATE FUNCTION @extschema@.markov_channels(model @extschema@.markov_model,
	OUT channel pg_catalog.text, OUT journeys pg_catalog.int8,
	OUT conversions pg_catalog.int8, OUT removal_effect pg_catalog.float8,
	OUT share pg_catalog.float8)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'attrib_markov_channels'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;

COMMENT ON FUNCTION @extschema@.markov_channels(@extschema@.markov_model) IS
'The channel table of a Markov model: journeys and conversions touching each channel, its removal effect 1 - P(conversion without it) / P(conversion) solved exactly, and its share (removal effect over the sum of removal effects).';

CREATE FUNCTION @extschema@.markov_info(model @extschema@.markov_model,
	OUT "order" pg_catalog.int4, OUT journeys pg_catalog.int8,
	OUT conversions pg_catalog.int8, OUT channels pg_catalog.int4,
	OUT states pg_catalog.int4, OUT transitions pg_catalog.int4,
	OUT conversion_rate pg_catalog.float8)
RETURNS record
AS 'MODULE_PATHNAME', 'attrib_markov_info'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.markov_info(@extschema@.markov_model) IS
'Size of a Markov model: order, journeys, conversions, channels, transient states, distinct transitions, and P(conversion) = conversions / journeys.';

CREATE FUNCTION @extschema@.credits(
	journey @extschema@.journey,
	model @extschema@.markov_model,
	amount pg_catalog.numeric,
	options pg_catalog.jsonb DEFAULT '{}',
	scale pg_catalog.int4 DEFAULT NULL,
	OUT touch_index pg_catalog.int4, OUT touch_id pg_catalog.text,
	OUT occurred_at pg_catalog.timestamptz, OUT channel pg_catalog.text,
	OUT positions pg_catalog.text[], OUT weight pg_catalog.float8,
	OUT credit pg_catalog.numeric)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'attrib_markov_credits'
LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 20;

COMMENT ON FUNCTION @extschema@.credits(@extschema@.journey, @extschema@.markov_model, pg_catalog.numeric, pg_catalog.jsonb, pg_catalog.int4) IS
'Each touch of the journey with its weight and credit under a fitted Markov model: its channel''s share normalized within the journey (channels the model never saw get 0; all 0: the last touch gets 100%). Credits sum to the amount exactly. Options: exclude_channels, collapse_repeats.';

-- ------------------------------------------------------------------
-- Shapley
-- ------------------------------------------------------------------

CREATE TYPE @extschema@.shapley_model;

CREATE FUNCTION @extschema@.shapley_model_in(pg_catalog.cstring)
RETURNS @extschema@.shapley_model
AS 'MODULE_PATHNAME', 'attrib_shapley_model_in'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.shapley_model_out(@extschema@.shapley_model)
RETURNS pg_catalog.cstring
AS 'MODULE_PATHNAME', 'attrib_shapley_model_out'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.shapley_model_recv(pg_catalog.internal)
RETURNS @extschema@.shapley_model
AS 'MODULE_PATHNAME', 'attrib_shapley_model_recv'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.shapley_model_send(@extschema@.shapley_model)
RETURNS pg_catalog.bytea
AS 'MODULE_PATHNAME', 'attrib_shapley_model_send'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.shapley_model (
	INPUT = @extschema@.shapley_model_in,
	OUTPUT = @extschema@.shapley_model_out,
	RECEIVE = @extschema@.shapley_model_recv,
	SEND = @extschema@.shapley_model_send,
	INTERNALLENGTH = VARIABLE,
	STORAGE = extended,
	ALIGNMENT = int4
);

COMMENT ON TYPE @extschema@.shapley_model IS
'A fitted Shapley model: for every exact set of channels seen in a journey, the number of such journeys and of those that converted. Fits merge by adding counts. Text form is canonical JSON.';
COMMENT ON FUNCTION @extschema@.shapley_model_in(pg_catalog.cstring) IS 'Text input of attrib.shapley_model (JSON; validated, put in canonical order).';
COMMENT ON FUNCTION @extschema@.shapley_model_out(@extschema@.shapley_model) IS 'Text output of attrib.shapley_model (canonical JSON).';
COMMENT ON FUNCTION @extschema@.shapley_model_recv(pg_catalog.internal) IS 'Binary input of attrib.shapley_model (every byte validated).';
COMMENT ON FUNCTION @extschema@.shapley_model_send(@extschema@.shapley_model) IS 'Binary output of attrib.shapley_model (the versioned storage bytes).';

CREATE FUNCTION @extschema@.shapley_model_from_bytea(pg_catalog.bytea)
RETURNS @extschema@.shapley_model
AS 'MODULE_PATHNAME', 'attrib_shapley_model_from_bytea'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.shapley_model_from_bytea(pg_catalog.bytea) IS
'A Shapley model from its binary form (as attrib.shapley_model_send returns it); every byte is validated and anything corrupt is rejected.';

CREATE FUNCTION @extschema@.shapley_fit_trans(@extschema@.shapley_model,
	@extschema@.journey, pg_catalog.bool)
RETURNS @extschema@.shapley_model
AS 'MODULE_PATHNAME', 'attrib_shapley_fit_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION @extschema@.shapley_merge_trans(@extschema@.shapley_model,
	@extschema@.shapley_model)
RETURNS @extschema@.shapley_model
AS 'MODULE_PATHNAME', 'attrib_shapley_merge_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.shapley_fit_trans(@extschema@.shapley_model, @extschema@.journey, pg_catalog.bool) IS 'Transition function of attrib.shapley_fit.';
COMMENT ON FUNCTION @extschema@.shapley_merge_trans(@extschema@.shapley_model, @extschema@.shapley_model) IS 'Adds two Shapley fits: the combine function of attrib.shapley_fit, the transition function of attrib.shapley_merge.';

CREATE AGGREGATE @extschema@.shapley_fit(journey @extschema@.journey,
	converted pg_catalog.bool) (
	SFUNC = @extschema@.shapley_fit_trans,
	STYPE = @extschema@.shapley_model,
	COMBINEFUNC = @extschema@.shapley_merge_trans,
	PARALLEL = SAFE
);

CREATE AGGREGATE @extschema@.shapley_merge(model @extschema@.shapley_model) (
	SFUNC = @extschema@.shapley_merge_trans,
	STYPE = @extschema@.shapley_model,
	COMBINEFUNC = @extschema@.shapley_merge_trans,
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE @extschema@.shapley_fit(@extschema@.journey, pg_catalog.bool) IS
'Fits a Shapley model over journeys and whether each converted: journeys and conversions per exact set of unique channels (at most 1000 per journey). NULL journey: no touches; NULL converted is an error. Parallel safe.';
COMMENT ON AGGREGATE @extschema@.shapley_merge(@extschema@.shapley_model) IS
'Merges Shapley fits (e.g. one per account) into the fit of all their journeys; NULLs are skipped.';

CREATE FUNCTION @extschema@.shapley_channels(model @extschema@.shapley_model,
	OUT channel pg_catalog.text, OUT journeys pg_catalog.int8,
	OUT conversions pg_catalog.int8, OUT shapley_value pg_catalog.float8,
	OUT share pg_catalog.float8)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'attrib_shapley_channels'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;

COMMENT ON FUNCTION @extschema@.shapley_channels(@extschema@.shapley_model) IS
'The channel table of a Shapley model: journeys and conversions touching each channel, its exact Shapley value summed over converting journeys (v(S) = conversion rate of journeys whose channel set is exactly S), and its share (negative sums count as 0).';

CREATE FUNCTION @extschema@.shapley_info(model @extschema@.shapley_model,
	OUT journeys pg_catalog.int8, OUT conversions pg_catalog.int8,
	OUT channels pg_catalog.int4, OUT channel_sets pg_catalog.int4)
RETURNS record
AS 'MODULE_PATHNAME', 'attrib_shapley_info'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.shapley_info(@extschema@.shapley_model) IS
'Size of a Shapley model: journeys, conversions, channels and distinct channel sets.';

CREATE FUNCTION @extschema@.credits(
	journey @extschema@.journey,
	model @extschema@.shapley_model,
	amount pg_catalog.numeric,
	options pg_catalog.jsonb DEFAULT '{}',
	scale pg_catalog.int4 DEFAULT NULL,
	OUT touch_index pg_catalog.int4, OUT touch_id pg_catalog.text,
	OUT occurred_at pg_catalog.timestamptz, OUT channel pg_catalog.text,
	OUT positions pg_catalog.text[], OUT weight pg_catalog.float8,
	OUT credit pg_catalog.numeric)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'attrib_shapley_credits'
LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 20;

COMMENT ON FUNCTION @extschema@.credits(@extschema@.journey, @extschema@.shapley_model, pg_catalog.numeric, pg_catalog.jsonb, pg_catalog.int4) IS
'Each touch of the journey with its weight and credit under a fitted Shapley model: the exact Shapley value of its channel over the journey''s unique channels, negative values as 0, split equally among the channel''s touches and normalized (all 0: the last touch gets 100%). Credits sum to the amount exactly. Options: exclude_channels, collapse_repeats.';

-- ------------------------------------------------------------------
-- refresh_dd.sql — the data-driven models in the reports.  Each refresh fits
-- every enabled markov / shapley registry model over the stored journeys —
-- converting: won opportunities; non-converting: lost opportunities and
-- accounts whose touches led to no opportunity; open opportunities are left
-- out — keeps the fit in attrib.fitted_models, and stores the credits of every
-- opportunity (won, open and lost) under it.
-- ------------------------------------------------------------------

CREATE TABLE @extschema@.fitted_models (
	model pg_catalog.text PRIMARY KEY,
	markov @extschema@.markov_model,
	shapley @extschema@.shapley_model,
	fitted_at pg_catalog.timestamptz NOT NULL
);
COMMENT ON TABLE @extschema@.fitted_models IS 'The data-driven models as fitted by the last refresh (one of markov / shapley set per row).';
COMMENT ON COLUMN @extschema@.fitted_models.model IS 'Registry name of the model.';
COMMENT ON COLUMN @extschema@.fitted_models.markov IS 'The fitted Markov chain (markov models).';
COMMENT ON COLUMN @extschema@.fitted_models.shapley IS 'The fitted coalition statistics (shapley models).';
COMMENT ON COLUMN @extschema@.fitted_models.fitted_at IS 'Transaction time of the refresh that fitted it.';

CREATE VIEW @extschema@.data_driven_channels WITH (security_invoker = true) AS
SELECT f.model, c.channel, c.journeys, c.conversions, c.removal_effect AS effect, c.share
FROM @extschema@.fitted_models f CROSS JOIN LATERAL @extschema@.markov_channels(f.markov) c
WHERE f.markov IS NOT NULL
UNION ALL
SELECT f.model, c.channel, c.journeys, c.conversions, c.shapley_value, c.share
FROM @extschema@.fitted_models f CROSS JOIN LATERAL @extschema@.shapley_channels(f.shapley) c
WHERE f.shapley IS NOT NULL;
COMMENT ON VIEW @extschema@.data_driven_channels IS 'Why the data-driven models credit what they do: per fitted model and channel, the journeys and conversions seen, the removal effect (markov) or Shapley value (shapley), and the normalized share.';
COMMENT ON COLUMN @extschema@.data_driven_channels.model IS 'Registry name of the model.';
COMMENT ON COLUMN @extschema@.data_driven_channels.channel IS 'Channel.';
COMMENT ON COLUMN @extschema@.data_driven_channels.journeys IS 'Journeys that touched the channel.';
COMMENT ON COLUMN @extschema@.data_driven_channels.conversions IS 'Of those, the converting ones.';
COMMENT ON COLUMN @extschema@.data_driven_channels.effect IS 'Removal effect (markov) or Shapley value summed over converting journeys (shapley).';
COMMENT ON COLUMN @extschema@.data_driven_channels.share IS 'The channel''s normalized share.';

CREATE FUNCTION @extschema@.refresh_data_driven()
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r record;
	s record;
	fit pg_catalog.text;
BEGIN
	SELECT * INTO s FROM @extschema@.effective_settings;
	DELETE FROM @extschema@.fitted_models;
	DELETE FROM @extschema@.credit_cache c
	WHERE c.model IN (SELECT m.name FROM @extschema@.model_registry m WHERE m.data_driven);
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
		EXECUTE format($q$
			INSERT INTO @extschema@.credit_cache
			SELECT j.account_id, j.opportunity_id, $1, c.touch_index, c.touch_id, c.weight,
				   c.credit, c.credit_reporting
			FROM @extschema@.journey_cache j
			CROSS JOIN (SELECT f.%1$I AS fitted FROM @extschema@.fitted_models f WHERE f.model = $1) f
			CROSS JOIN LATERAL (
				SELECT a.touch_index, a.touch_id, a.weight, a.credit, b.credit AS credit_reporting
				FROM @extschema@.credits(j.journey, f.fitted, j.amount, $2,
										 @extschema@.currency_scale(j.currency)) a
				JOIN @extschema@.credits(j.journey, f.fitted, j.amount_reporting, $2,
										 @extschema@.currency_scale($3)) b
					ON b.touch_index = a.touch_index
				WHERE a.weight > 0) c$q$, r.base_model)
			USING r.name, r.options, s.reporting_currency;
		-- what no touch could take is booked unattributed, so totals keep every cent
		INSERT INTO @extschema@.credit_cache
		SELECT j.account_id, j.opportunity_id, r.name, 0, NULL, 1, j.amount, j.amount_reporting
		FROM @extschema@.journey_cache j
		WHERE NOT EXISTS (SELECT 1 FROM @extschema@.credit_cache c
						  WHERE c.account_id = j.account_id AND c.opportunity_id = j.opportunity_id
							AND c.model = r.name);
	END LOOP;
END $$;
COMMENT ON FUNCTION @extschema@.refresh_data_driven() IS
'Fits every enabled data-driven model over the stored journeys (won: converting; lost and accounts without an opportunity: not; open: left out) and stores every opportunity''s credits (won, open and lost) under it. Called by attrib.refresh() and attrib.refresh_incremental().';
