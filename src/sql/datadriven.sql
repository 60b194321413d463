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
