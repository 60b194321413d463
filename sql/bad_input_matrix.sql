-- bad_input_matrix: every public function and aggregate against NULLs, empty
-- input, huge and tiny values, NaN, infinities, wrong-length and corrupt
-- serialized values, unknown models and options, invalid weights and TOASTed
-- (compressed and external) inputs.  Every case is a clear SQLSTATE error or a
-- documented result, never a crash (t_asan_regress.sh runs this under ASan and
-- UBSan).  try() is in sql/setup.sql.
\pset null '(null)'
\pset format unaligned
SET client_min_messages = warning;

-- one line per case: label => try()'s SQLSTATE and message (or ok)
CREATE FUNCTION matrix(cases text[][]) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	i int;
BEGIN
	FOR i IN 1 .. array_length(cases, 1) LOOP
		RETURN NEXT cases[i][1] || ' => ' || try(cases[i][2]);
	END LOOP;
END $$;

CREATE TABLE mj AS SELECT attrib.with_context(attrib.journey_agg(touch_id, occurred_at, channel),
	'won', created_at => '2024-01-03 00:00+00', closed_at => '2024-01-06 00:00+00',
	lead_created_at => '2024-01-02 00:00+00', stage_names => '{MQL}',
	stage_times => '{2024-01-02 00:00+00}') AS j FROM touch5;
CREATE TABLE mb AS SELECT attrib.journey_send(j) AS b FROM mj;

-- ------------------------------------------------------------------
-- credits(journey, model, amount, options, scale)
-- ------------------------------------------------------------------
SELECT * FROM matrix(ARRAY[
	['NULL model', $$SELECT * FROM mj, attrib.credits(j, NULL, 100)$$],
	['empty model', $$SELECT * FROM mj, attrib.credits(j, '', 100)$$],
	['unknown model', $$SELECT * FROM mj, attrib.credits(j, 'no_such_model', 100)$$],
	['model in capitals', $$SELECT * FROM mj, attrib.credits(j, 'LINEAR', 100)$$],
	['model with spaces', $$SELECT * FROM mj, attrib.credits(j, ' linear', 100)$$],
	['100 kB model name', $$SELECT * FROM mj, attrib.credits(j, repeat('x', 100000), 100)$$],
	['NULL amount', $$SELECT * FROM mj, attrib.credits(j, 'linear', NULL)$$],
	['NaN amount', $$SELECT * FROM mj, attrib.credits(j, 'linear', 'NaN')$$],
	['+Infinity amount', $$SELECT * FROM mj, attrib.credits(j, 'linear', 'Infinity')$$],
	['-Infinity amount', $$SELECT * FROM mj, attrib.credits(j, 'linear', '-Infinity')$$],
	['scale -1', $$SELECT * FROM mj, attrib.credits(j, 'linear', 100, '{}', -1)$$],
	['scale 1001', $$SELECT * FROM mj, attrib.credits(j, 'linear', 100, '{}', 1001)$$],
	['scale 2^31-1', $$SELECT * FROM mj, attrib.credits(j, 'linear', 100, '{}', 2147483647)$$],
	['options not an object', $$SELECT * FROM mj, attrib.credits(j, 'linear', 100, '[1]')$$],
	['options a string', $$SELECT * FROM mj, attrib.credits(j, 'linear', 100, '"x"')$$],
	['options a number', $$SELECT * FROM mj, attrib.credits(j, 'linear', 100, '1')$$],
	['unknown option', $$SELECT * FROM mj, attrib.credits(j, 'linear', 100, '{"bogus": 1}')$$],
	['option of another model', $$SELECT * FROM mj, attrib.credits(j, 'linear', 100, '{"weights": {"FT": 1}}')$$],
	['exclude_channels not an array', $$SELECT * FROM mj, attrib.credits(j, 'linear', 100, '{"exclude_channels": "email"}')$$],
	['exclude_channels with a number', $$SELECT * FROM mj, attrib.credits(j, 'linear', 100, '{"exclude_channels": ["email", 3]}')$$],
	['exclude_channels with ""', $$SELECT * FROM mj, attrib.credits(j, 'linear', 100, '{"exclude_channels": [""]}')$$],
	['collapse_repeats not boolean', $$SELECT * FROM mj, attrib.credits(j, 'linear', 100, '{"collapse_repeats": "yes"}')$$],
	['direct_channels null', $$SELECT * FROM mj, attrib.credits(j, 'last_non_direct', 100, '{"direct_channels": null}')$$],
	['half_life 0', $$SELECT * FROM mj, attrib.credits(j, 'time_decay', 100, '{"half_life": 0}')$$],
	['half_life -0', $$SELECT * FROM mj, attrib.credits(j, 'time_decay', 100, '{"half_life": -0}')$$],
	['half_life 1e309', $$SELECT * FROM mj, attrib.credits(j, 'time_decay', 100, '{"half_life": 1e309}')$$],
	['half_life 1e10 days', $$SELECT * FROM mj, attrib.credits(j, 'time_decay', 100, '{"half_life": 1e10}')$$],
	['half_life "NaN days"', $$SELECT * FROM mj, attrib.credits(j, 'time_decay', 100, '{"half_life": "NaN days"}')$$],
	['half_life "inf days"', $$SELECT * FROM mj, attrib.credits(j, 'time_decay', 100, '{"half_life": "inf days"}')$$],
	['half_life "3 fortnights"', $$SELECT * FROM mj, attrib.credits(j, 'time_decay', 100, '{"half_life": "3 fortnights"}')$$],
	['half_life true', $$SELECT * FROM mj, attrib.credits(j, 'time_decay', 100, '{"half_life": true}')$$],
	['normalize 1', $$SELECT * FROM mj, attrib.credits(j, 'time_decay', 100, '{"normalize": 1}')$$],
	['custom without weights', $$SELECT * FROM mj, attrib.credits(j, 'custom', 100)$$],
	['custom weights {}', $$SELECT * FROM mj, attrib.credits(j, 'custom', 100, '{"weights": {}}')$$],
	['custom weights an array', $$SELECT * FROM mj, attrib.credits(j, 'custom', 100, '{"weights": [1]}')$$],
	['custom weight negative', $$SELECT * FROM mj, attrib.credits(j, 'custom', 100, '{"weights": {"FT": 1.5, "LT": -0.5}}')$$],
	['custom weight a string', $$SELECT * FROM mj, attrib.credits(j, 'custom', 100, '{"weights": {"FT": "1"}}')$$],
	['custom weight 1e400', $$SELECT * FROM mj, attrib.credits(j, 'custom', 100, '{"weights": {"FT": 1e400}}')$$],
	['custom weights sum 1.000001', $$SELECT * FROM mj, attrib.credits(j, 'custom', 100, '{"weights": {"FT": 0.500001, "LT": 0.5}}')$$],
	['custom weights all 0', $$SELECT * FROM mj, attrib.credits(j, 'custom', 100, '{"weights": {"FT": 0, "LT": 0}}')$$],
	['custom position twice (case)', $$SELECT * FROM mj, attrib.credits(j, 'custom', 100, '{"weights": {"FT": 0.5, "ft": 0.5}}')$$],
	['custom unknown position', $$SELECT * FROM mj, attrib.credits(j, 'custom', 100, '{"weights": {"XX": 1}}')$$],
	['custom "stage:" without name', $$SELECT * FROM mj, attrib.credits(j, 'custom', 100, '{"weights": {"stage:": 1}}')$$],
	['options nested 100 deep', $$SELECT * FROM mj, attrib.credits(j, 'linear', 100, ('{"x": ' || repeat('[', 100) || repeat(']', 100) || '}')::jsonb)$$],
	['option given twice (jsonb keeps the last)', $$SELECT * FROM mj, attrib.credits(j, 'linear', 100, '{"collapse_repeats": true, "collapse_repeats": false}')$$]
]);

-- documented results: a NULL journey gives no rows; an empty journey gives no
-- rows; tiny, negative, huge and many-decimal amounts split exactly; NULL
-- options are the defaults; a zero custom weight is not part of the model
SELECT count(*) AS null_journey_rows FROM attrib.credits(NULL, 'linear', 100);
SELECT count(*) AS empty_journey_rows FROM attrib.credits('{"touches":[]}', 'linear', 100);
SELECT string_agg(credit::text, ' ' ORDER BY touch_index) AS tiny FROM mj, attrib.credits(j, 'linear', 0.01);
SELECT string_agg(credit::text, ' ' ORDER BY touch_index) AS negative_zero FROM mj, attrib.credits(j, 'linear', -0.00);
SELECT string_agg(credit::text, ' ' ORDER BY touch_index) AS half_cents_round FROM mj, attrib.credits(j, 'linear', 0.005);
SELECT sum(credit) = 1e100 AS exact_1e100, min(credit) > 0 AS all_positive
FROM mj, attrib.credits(j, 'w_shaped', 1e100);
SELECT sum(credit) = -(10::numeric ^ 1000 - 1) / (10::numeric ^ 1000) AS exact_1000_decimals
FROM mj, attrib.credits(j, 'position_based', -(10::numeric ^ 1000 - 1) / (10::numeric ^ 1000), scale => 1000);
SELECT sum(credit) = repeat('9', 100000)::numeric AS exact_100000_digits
FROM mj, attrib.credits(j, 'time_decay', repeat('9', 100000)::numeric, scale => 0);
SELECT count(*) AS null_options_rows, sum(credit) AS null_options_sum FROM mj, attrib.credits(j, 'linear', 100, NULL);
SELECT string_agg(credit::text, ' ' ORDER BY touch_index) AS raw_time_decay_tiny_half_life
FROM mj, attrib.credits(j, 'time_decay', 100, '{"half_life": "1 second", "normalize": false}');

-- ------------------------------------------------------------------
-- split_amount(amount, weights, scale)
-- ------------------------------------------------------------------
SELECT * FROM matrix(ARRAY[
	['NULL amount', $$SELECT attrib.split_amount(NULL, '{1}')$$],
	['NULL weights', $$SELECT attrib.split_amount(1, NULL)$$],
	['empty weights', $$SELECT attrib.split_amount(1, '{}')$$],
	['NULL weight', $$SELECT attrib.split_amount(1, '{1,NULL}')$$],
	['NaN weight', $$SELECT attrib.split_amount(1, '{NaN,1}')$$],
	['Infinity weight', $$SELECT attrib.split_amount(1, '{Infinity,1}')$$],
	['-Infinity weight', $$SELECT attrib.split_amount(1, '{1,-Infinity}')$$],
	['negative weight', $$SELECT attrib.split_amount(1, '{2,-1}')$$],
	['all weights 0', $$SELECT attrib.split_amount(1, '{0,0,-0}')$$],
	['NaN amount', $$SELECT attrib.split_amount('NaN', '{1}')$$],
	['Infinity amount', $$SELECT attrib.split_amount('Infinity', '{1}')$$],
	['scale -1', $$SELECT attrib.split_amount(1, '{1}', -1)$$],
	['scale 1001', $$SELECT attrib.split_amount(1, '{1}', 1001)$$]
]);
-- documented: a 2-D array is read in row-major order; subnormal, huge and
-- 100,000 weights split exactly; -0 is a zero weight
SELECT attrib.split_amount(10, '{{1,2},{3,4}}') AS two_d;
SELECT attrib.split_amount(1, '{5e-324, 1}', 2) AS subnormal, attrib.split_amount(1, '{1e308, 1e308}') AS huge;
SELECT attrib.split_amount(1, '{-0, 1}') AS minus_zero;
SELECT cardinality(p) AS parts, (SELECT sum(x) FROM unnest(p) x) AS total
FROM (SELECT attrib.split_amount(1234.56, array_agg(1.0 / i)::float8[]) AS p FROM generate_series(1, 100000) i) s;

-- ------------------------------------------------------------------
-- journey_agg(touch_id, occurred_at, channel)
-- ------------------------------------------------------------------
SELECT * FROM matrix(ARRAY[
	['NULL id', $$SELECT attrib.journey_agg(NULL, '2024-01-01', 'x')$$],
	['NULL time', $$SELECT attrib.journey_agg('a', NULL, 'x')$$],
	['NULL channel', $$SELECT attrib.journey_agg('a', '2024-01-01', NULL)$$],
	['empty id', $$SELECT attrib.journey_agg('', '2024-01-01', 'x')$$],
	['empty channel', $$SELECT attrib.journey_agg('a', '2024-01-01', '')$$],
	['1025-byte id', $$SELECT attrib.journey_agg(repeat('i', 1025), '2024-01-01', 'x')$$],
	['1025-byte channel', $$SELECT attrib.journey_agg('a', '2024-01-01', repeat('c', 1025))$$],
	['infinity', $$SELECT attrib.journey_agg('a', 'infinity', 'x')$$],
	['-infinity', $$SELECT attrib.journey_agg('a', '-infinity', 'x')$$],
	['duplicate id', $$SELECT attrib.journey_agg(t, '2024-01-01', 'x') FROM (VALUES ('a'), ('b'), ('a')) v(t)$$],
	['duplicate id in parallel halves',
	 $$SELECT attrib.journey_agg('t' || (i % 5000), '2024-01-01'::timestamptz + i * interval '1 s', 'x') FROM generate_series(1, 5001) i$$]
]);
-- documented: no rows give NULL; the extreme times of timestamptz are fine;
-- 1024-byte ids and channels are the limit
SELECT attrib.journey_agg(touch_id, occurred_at, channel) IS NULL AS no_rows FROM touch5 WHERE false;
SELECT attrib.journey_agg(t, o::timestamptz, 'x')::text AS extremes
FROM (VALUES ('a', '4713-11-24 00:00:00+00 BC'), ('b', '294276-12-31 23:59:59.999999+00')) v(t, o);
SELECT attrib.journey_length(attrib.journey_agg(repeat('i', 1024), '2024-01-01', repeat('c', 1024))) AS longest_names;

-- ------------------------------------------------------------------
-- with_context(journey, status, created_at, closed_at, lead_created_at,
--              as_of, lookback, stage_names, stage_times)
-- ------------------------------------------------------------------
SELECT * FROM matrix(ARRAY[
	['NULL status', $$SELECT attrib.with_context(j, NULL) FROM mj$$],
	['empty status', $$SELECT attrib.with_context(j, '') FROM mj$$],
	['status in capitals', $$SELECT attrib.with_context(j, 'WON') FROM mj$$],
	['created_at infinity', $$SELECT attrib.with_context(j, 'won', created_at => 'infinity') FROM mj$$],
	['closed_at -infinity', $$SELECT attrib.with_context(j, 'won', closed_at => '-infinity') FROM mj$$],
	['lead_created_at infinity', $$SELECT attrib.with_context(j, 'won', lead_created_at => 'infinity') FROM mj$$],
	['as_of infinity', $$SELECT attrib.with_context(j, 'open', as_of => 'infinity') FROM mj$$],
	['lookback -1 microsecond', $$SELECT attrib.with_context(j, 'won', lookback => '-1 microsecond') FROM mj$$],
	['lookback -178000000 years', $$SELECT attrib.with_context(j, 'won', lookback => '-178000000 years') FROM mj$$],
	['stage_names without times', $$SELECT attrib.with_context(j, 'won', stage_names => '{MQL}') FROM mj$$],
	['stage_times without names', $$SELECT attrib.with_context(j, 'won', stage_times => '{2024-01-01}') FROM mj$$],
	['stage arrays of different length', $$SELECT attrib.with_context(j, 'won', stage_names => '{A,B}', stage_times => '{2024-01-01}') FROM mj$$],
	['NULL stage name', $$SELECT attrib.with_context(j, 'won', stage_names => '{A,NULL}', stage_times => '{2024-01-01,2024-01-02}') FROM mj$$],
	['NULL stage time', $$SELECT attrib.with_context(j, 'won', stage_names => '{A}', stage_times => '{NULL}') FROM mj$$],
	['empty stage name', $$SELECT attrib.with_context(j, 'won', stage_names => '{""}', stage_times => '{2024-01-01}') FROM mj$$],
	['1025-byte stage name', $$SELECT attrib.with_context(j, 'won', stage_names => ARRAY[repeat('s', 1025)], stage_times => '{2024-01-01}') FROM mj$$],
	['stage time infinity', $$SELECT attrib.with_context(j, 'won', stage_names => '{A}', stage_times => '{infinity}') FROM mj$$],
	['25 stages', $$SELECT attrib.with_context(j, 'won', stage_names => (SELECT array_agg('s' || i) FROM generate_series(1, 25) i), stage_times => (SELECT array_agg('2024-01-01'::timestamptz) FROM generate_series(1, 25))) FROM mj$$]
]);
-- documented: a NULL journey gives NULL; a huge lookback ('2147483647 days',
-- '178000000 years') is no limit; a 2-D stage array is read row-major; a
-- stage given twice keeps the earlier time
SELECT attrib.with_context(NULL, 'won') IS NULL AS null_journey;
SELECT attrib.journey_length(attrib.with_context(j, 'won', created_at => '2024-01-03', lookback => '2147483647 days')) AS huge_days,
	   attrib.journey_length(attrib.with_context(j, 'won', created_at => '2024-01-03', lookback => '178000000 years')) AS huge_years,
	   attrib.journey_length(attrib.with_context(j, 'won', created_at => '2024-01-03', lookback => '0')) AS zero
FROM mj;
SELECT attrib.with_context('{"touches":[]}', 'won', stage_names => '{{A,B},{C,D}}',
	stage_times => '{{2024-01-01,2024-01-02},{2024-01-03,2024-01-04}}')::text AS two_d_stages;
SELECT attrib.with_context('{"touches":[]}', 'won', stage_names => '{A,A}',
	stage_times => '{2024-01-05,2024-01-01}')::text AS stage_twice;

-- ------------------------------------------------------------------
-- the journey type: text input, binary input (journey_from_bytea, which
-- validates exactly as journey_recv), journey_length, touches
-- ------------------------------------------------------------------
SELECT * FROM matrix(ARRAY[
	['empty text', $$SELECT ''::attrib.journey$$],
	['whitespace', $$SELECT '   '::attrib.journey$$],
	['JSON null', $$SELECT 'null'::attrib.journey$$],
	['no touches key', $$SELECT '{}'::attrib.journey$$],
	['touches not an array', $$SELECT '{"touches": {}}'::attrib.journey$$],
	['touch of 2 elements', $$SELECT '{"touches":[["a","2024-01-01T00:00:00Z"]]}'::attrib.journey$$],
	['touch id a number', $$SELECT '{"touches":[[1,"2024-01-01T00:00:00Z","x"]]}'::attrib.journey$$],
	['time without zone', $$SELECT '{"touches":[["a","2024-01-01T00:00:00","x"]]}'::attrib.journey$$],
	['time infinity', $$SELECT '{"touches":[["a","infinity","x"]]}'::attrib.journey$$],
	['time 2024-02-30', $$SELECT '{"touches":[["a","2024-02-30T00:00:00Z","x"]]}'::attrib.journey$$],
	['time year 294277', $$SELECT '{"touches":[["a","294277-01-01T00:00:00Z","x"]]}'::attrib.journey$$],
	['time before 4714 BC', $$SELECT '{"touches":[["a","-4713-11-23T23:59:59Z","x"]]}'::attrib.journey$$],
	['bad escape', $$SELECT E'{"touches":[["\\q","2024-01-01T00:00:00Z","x"]]}'::attrib.journey$$],
	['lone surrogate', $$SELECT E'{"touches":[["\\ud800","2024-01-01T00:00:00Z","x"]]}'::attrib.journey$$],
	['\u0000 in an id', $$SELECT E'{"touches":[["a\\u0000b","2024-01-01T00:00:00Z","x"]]}'::attrib.journey$$],
	['trailing garbage', $$SELECT '{"touches":[]} x'::attrib.journey$$],
	['nested 10000 deep', $$SELECT ('{"touches":' || repeat('[', 10000) || repeat(']', 10000) || '}')::attrib.journey$$],
	['unknown status', $$SELECT '{"touches":[],"context":{"status":"pending"}}'::attrib.journey$$],
	['context without status', $$SELECT '{"touches":[],"context":{"created_at":"2024-01-01T00:00:00Z"}}'::attrib.journey$$],
	['stages not an object', $$SELECT '{"touches":[],"context":{"status":"won","stages":["MQL"]}}'::attrib.journey$$],
	['NULL bytea', $$SELECT attrib.journey_from_bytea(NULL) IS NULL$$],
	['empty bytea', $$SELECT attrib.journey_from_bytea('\x')$$],
	['11 bytes', $$SELECT attrib.journey_from_bytea('\x0100000000000000000000')$$],
	['version 2', $$SELECT attrib.journey_from_bytea(set_byte(b, 0, 2)) FROM mb$$],
	['unknown flag', $$SELECT attrib.journey_from_bytea(set_byte(b, 1, 3)) FROM mb$$],
	['touch count 2^32-1', $$SELECT attrib.journey_from_bytea(overlay(b placing '\xffffffff' from 5)) FROM mb$$],
	['one byte short', $$SELECT attrib.journey_from_bytea(substr(b, 1, length(b) - 1)) FROM mb$$],
	['one byte more', $$SELECT attrib.journey_from_bytea(b || '\x00') FROM mb$$],
	['1 MB of zeros', $$SELECT attrib.journey_from_bytea(decode(repeat('00', 1000000), 'hex'))$$],
	['a partial aggregate state', $$SELECT attrib.journey_from_bytea('\xb10000000000000000')$$]
]);
SELECT attrib.journey_length('{"touches":[]}') AS empty_length,
	   (SELECT count(*) FROM attrib.touches('{"touches":[]}')) AS empty_touches,
	   attrib.journey_length(NULL) IS NULL AS null_length,
	   (SELECT count(*) FROM attrib.touches(NULL)) AS null_touches;

-- ------------------------------------------------------------------
-- aggregate support functions called directly (the data-driven aggregates'
-- transition functions take SQL types, so SQL can reach them: 0A000),
-- check_model, models, currency_scale, days_between
-- ------------------------------------------------------------------
SELECT * FROM matrix(ARRAY[
	['journey_agg_deserialize outside an aggregate', $$SELECT attrib.journey_agg_deserialize('\xb1', NULL)$$],
	['journey_agg_final outside an aggregate', $$SELECT attrib.journey_agg_final(NULL)$$],
	['markov_fit_trans outside an aggregate', $$SELECT attrib.markov_fit_trans(NULL, NULL, true)$$],
	['markov_fit_trans (order) outside an aggregate', $$SELECT attrib.markov_fit_trans(NULL, NULL, true, 2)$$],
	['markov_merge_trans outside an aggregate', $$SELECT attrib.markov_merge_trans(NULL, NULL)$$],
	['shapley_fit_trans outside an aggregate', $$SELECT attrib.shapley_fit_trans(NULL, NULL, true)$$],
	['shapley_merge_trans outside an aggregate', $$SELECT attrib.shapley_merge_trans(NULL, NULL)$$],
	['check_model NULL model', $$SELECT attrib.check_model(NULL, '{}')$$],
	['check_model unknown', $$SELECT attrib.check_model('nope', '{}')$$],
	['check_model bad options', $$SELECT attrib.check_model('time_decay', '{"half_life": -1}')$$],
	['currency_scale NULL', $$SELECT attrib.currency_scale(NULL) IS NULL$$]
]);
SELECT attrib.check_model('linear', NULL) AS null_options_ok,
	   attrib.currency_scale('') AS empty_currency, attrib.currency_scale('jpy') AS lower_case_jpy,
	   attrib.days_between(NULL, now()) IS NULL AS days_null,
	   attrib.days_between('0001-01-01 00:00:00+00', '9999-12-31 00:00:00+00') AS days_0001_9999,
	   attrib.days_between('4713-01-01 00:00:00+00 BC', '294276-12-31 00:00:00+00') AS days_full_range,
	   attrib.days_between('294276-12-31 00:00:00+00', '4713-01-01 00:00:00+00 BC') AS days_full_range_back,
	   (SELECT count(*) FROM attrib.models()) AS models;

-- ------------------------------------------------------------------
-- data-driven models: fitting, merging, decoding, crediting
-- ------------------------------------------------------------------
CREATE TABLE mfit AS SELECT attrib.markov_fit(j, true) AS m, attrib.shapley_fit(j, true) AS s FROM mj;
SELECT * FROM matrix(ARRAY[
	['markov_fit order 0', $$SELECT attrib.markov_fit(j, true, 0) FROM mj$$],
	['markov_fit order 5', $$SELECT attrib.markov_fit(j, true, 5) FROM mj$$],
	['markov_fit order NULL', $$SELECT attrib.markov_fit(j, true, NULL) FROM mj$$],
	['markov_fit converted NULL', $$SELECT attrib.markov_fit(j, NULL) FROM mj$$],
	['shapley_fit converted NULL', $$SELECT attrib.shapley_fit(j, NULL) FROM mj$$],
	['markov_merge of orders 1 and 2', $$SELECT attrib.markov_merge(m) FROM (SELECT attrib.markov_fit(j, true, k) AS m FROM mj, generate_series(1, 2) k) x$$],
	['markov text empty', $$SELECT ''::attrib.markov_model$$],
	['markov text {}', $$SELECT '{}'::attrib.markov_model$$],
	['shapley text []', $$SELECT '[]'::attrib.shapley_model$$],
	['markov bytes empty', $$SELECT attrib.markov_model_from_bytea('\x')$$],
	['markov bytes truncated', $$SELECT attrib.markov_model_from_bytea(substr(attrib.markov_model_send(m), 1, 10)) FROM mfit$$],
	['shapley bytes truncated', $$SELECT attrib.shapley_model_from_bytea(substr(attrib.shapley_model_send(s), 1, 10)) FROM mfit$$],
	['markov bytes + 1', $$SELECT attrib.markov_model_from_bytea(attrib.markov_model_send(m) || '\x00') FROM mfit$$],
	['shapley bytes of a journey', $$SELECT attrib.shapley_model_from_bytea(b) FROM mb$$],
	['credits with a NULL markov model', $$SELECT * FROM mj, attrib.credits(j, NULL::attrib.markov_model, 100)$$],
	['credits with a NULL shapley model', $$SELECT * FROM mj, attrib.credits(j, NULL::attrib.shapley_model, 100)$$],
	['markov credits, NaN amount', $$SELECT * FROM mj, mfit, attrib.credits(j, m, 'NaN')$$],
	['shapley credits, unknown option', $$SELECT * FROM mj, mfit, attrib.credits(j, s, 100, '{"bogus": 1}')$$]
]);
-- documented: fits of no rows are NULL; a model fitted elsewhere credits a
-- journey whose channels it never saw with zero weights
SELECT attrib.markov_fit(j, true) IS NULL AS markov_no_rows, attrib.shapley_fit(j, true) IS NULL AS shapley_no_rows
FROM mj WHERE false;
SELECT count(*) AS rows, sum(credit) AS total
FROM mfit, attrib.credits('{"touches":[["z","2024-01-01T00:00:00Z","never_seen"]]}', m, 100);

-- ------------------------------------------------------------------
-- TOASTed inputs: a 50,000-touch journey stored compressed and stored
-- external (out of line, uncompressed), an external 100,000-channel options
-- document, an external 100,000-digit amount, and an external fitted model
-- ------------------------------------------------------------------
CREATE TABLE toasted (kind text, j attrib.journey);
INSERT INTO toasted (kind, j)
SELECT 'compressed', attrib.journey_agg('touch-' || lpad(i::text, 8, '0'),
	'2024-01-01'::timestamptz + i * interval '1 minute', 'channel_' || (i % 3))
FROM generate_series(1, 50000) i;
CREATE TABLE toasted_ext (kind text, j attrib.journey, opts jsonb, amount numeric, m attrib.markov_model);
ALTER TABLE toasted_ext ALTER COLUMN j SET STORAGE EXTERNAL;
ALTER TABLE toasted_ext ALTER COLUMN opts SET STORAGE EXTERNAL;
ALTER TABLE toasted_ext ALTER COLUMN amount SET STORAGE EXTERNAL;
ALTER TABLE toasted_ext ALTER COLUMN m SET STORAGE EXTERNAL;
-- fresh (uncompressed) values, so EXTERNAL stores them out of line as they are
INSERT INTO toasted_ext SELECT 'external', attrib.journey_from_bytea(attrib.journey_send(j)),
	jsonb_build_object('exclude_channels', (SELECT jsonb_agg('x' || i) FROM generate_series(1, 100000) i) || '["channel_0"]'),
	repeat('7', 100000)::numeric,
	(SELECT attrib.markov_fit(jj, true, 2) FROM (SELECT attrib.journey_agg('t' || i,
		'2024-01-01'::timestamptz + i * interval '1 hour', 'channel_' || (i * 7 % 41)) AS jj
		FROM generate_series(1, 2000) i) g)
FROM toasted;
SELECT kind, pg_column_compression(j) AS compression, pg_column_size(j) AS stored_bytes, octet_length(j::text) AS text_bytes,
	   attrib.journey_length(j) AS touches
FROM (SELECT kind, j FROM toasted UNION ALL SELECT kind, j FROM toasted_ext) t ORDER BY 1;
SELECT pg_column_compression(opts) AS opts_compression, pg_column_size(opts) > 2000 AS opts_out_of_line,
	   pg_column_compression(amount) AS amount_compression, pg_column_size(amount) > 2000 AS amount_out_of_line,
	   pg_column_compression(m) AS model_compression, pg_column_size(m) > 2000 AS model_out_of_line
FROM toasted_ext;
SELECT t.kind, count(*) AS rows, sum(c.credit) = 1000 AS sums, count(*) FILTER (WHERE c.weight > 0) AS credited
FROM (SELECT kind, j FROM toasted UNION ALL SELECT kind, j FROM toasted_ext) t,
	 attrib.credits(t.j, 'w_shaped', 1000) c GROUP BY 1 ORDER BY 1;
SELECT count(*) FILTER (WHERE c.weight > 0) AS credited_after_exclusion, sum(c.credit) AS total
FROM toasted_ext e, attrib.credits(e.j, 'linear', 1000, e.opts) c;
SELECT count(*) AS rows, sum(c.credit) = e.amount AS exact_external_amount
FROM toasted_ext e, mj, attrib.credits(mj.j, 'linear', e.amount, e.opts, 0) c GROUP BY e.amount;
SELECT count(*) AS touches_rows FROM toasted_ext, attrib.touches(j);
SELECT attrib.journey_length(attrib.with_context(j, 'won', created_at => '2024-01-20', closed_at => '2024-01-25',
	lookback => '1 day')) AS windowed FROM toasted_ext;
SELECT attrib.journey_length(attrib.journey_from_bytea(attrib.journey_send(j))) AS binary_round_trip,
	   length(j::text) AS text_length FROM toasted_ext;
SELECT (SELECT count(*) FROM attrib.markov_channels(m)) AS markov_channels,
	   (SELECT count(*) FROM toasted_ext e, attrib.credits(e.j, e.m, 100) c) AS markov_rows
FROM toasted_ext;
SELECT try($$SELECT attrib.check_model('linear', opts) FROM toasted_ext$$) AS big_options;
SELECT try($$SELECT * FROM toasted_ext, attrib.credits(j, repeat('m', 100000) || 'odel', 1)$$) AS huge_model_name;
RESET client_min_messages;
