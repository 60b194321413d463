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
