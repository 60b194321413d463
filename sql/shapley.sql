-- shapley: exact Shapley-value attribution (SPEC §3 "Data-driven")
--
-- Hand-worked examples (the arithmetic is in the comments), an independent
-- brute force written here in SQL with exact numerics (the textbook
-- subset formula over v computed straight from the journeys), combine
-- correctness in forced parallel plans, bad input, limits and scale.
\pset null '(null)'
-- JIT would compile every generic plan of the reference functions below
SET jit = off;

-- a journey from a path of channel names: touch i at 2024-01-01 + i days
CREATE OR REPLACE FUNCTION pj(p text) RETURNS attrib.journey LANGUAGE sql IMMUTABLE AS $$
	SELECT coalesce(attrib.journey_agg('t' || i, timestamptz '2024-01-01 00:00+00' + i * interval '1 day', c),
					'{"touches":[]}'::attrib.journey)
	FROM unnest(string_to_array(p, ' ')) WITH ORDINALITY u(c, i) $$;

-- ------------------------------------------------------------------
-- Example 1: two channels
--   {A}: 4 journeys, 1 converted  -> v(A) = 1/4
--   {B}: 2 journeys, 1 converted  -> v(B) = 1/2
--   {A,B}: 2 journeys, 2 converted -> v(AB) = 1;   v(empty) = 0 (never observed)
-- N = {A,B}: phi_A = 1/2 (v(A) - 0) + 1/2 (v(AB) - v(B)) = 1/8 + 1/4 = 3/8
--            phi_B = 1/2 (v(B) - 0) + 1/2 (v(AB) - v(A)) = 1/4 + 3/8 = 5/8
-- Channel table, over converting journeys: {A} x1: A 1/4; {B} x1: B 1/2;
--   {A,B} x2: A 3/4, B 5/4.  A = 1, B = 7/4; shares 4/11 and 7/11.
--   Journeys touching A: 4 + 2 = 6 (3 converted); B: 2 + 2 = 4 (3 converted).
-- ------------------------------------------------------------------
CREATE TABLE sh1 (path text, converted bool, times int);
INSERT INTO sh1 VALUES ('A', true, 1), ('A', false, 3), ('B', true, 1), ('B', false, 1),
	('A B', true, 1), ('B A B', true, 1);
CREATE TABLE sh1_model AS
SELECT attrib.shapley_fit(pj(path), converted) AS m FROM sh1, generate_series(1, times);

SELECT m FROM sh1_model;
SELECT i.* FROM sh1_model, attrib.shapley_info(m) i;
SELECT channel, journeys, conversions, round(shapley_value::numeric, 12) AS shapley_value,
	   round(share::numeric, 12) AS share
FROM sh1_model, attrib.shapley_channels(m) ORDER BY channel;

-- credits of A B A: A's 3/8 split over its two touches (3/16 each), B 5/8
SELECT c.touch_index, c.channel, c.positions, round(c.weight::numeric, 12) AS weight, c.credit
FROM sh1_model, attrib.credits(pj('A B A'), m, 100) c;
-- C never seen: N = {A, C}, only {A} observed: phi_A = 1/2 v(A) + 1/2 (0 - 0) = 1/8,
-- phi_C = 1/2 (0 - 0) + 1/2 (0 - v(A)) = -1/8 -> 0; A gets 100%
SELECT c.channel, round(c.weight::numeric, 12) AS weight, c.credit FROM sh1_model, attrib.credits(pj('C A'), m, 10) c;
-- nothing seen: last touch; options as for every model
SELECT c.channel, c.weight, c.credit FROM sh1_model, attrib.credits(pj('C D'), m, 10) c;
SELECT c.channel, round(c.weight::numeric, 12) AS weight, c.credit
FROM sh1_model, attrib.credits(pj('A B B'), m, 16, '{"collapse_repeats": true}') c;
SELECT c.channel, c.weight, c.credit
FROM sh1_model, attrib.credits(pj('A B A'), m, 16, '{"exclude_channels": ["B"]}') c;

-- ------------------------------------------------------------------
-- Example 2: three channels, n = 3: w(0) = 1/3, w(1) = 1/6, w(2) = 1/3
--   v(A) = 1/2, v(B) = 1/4, v(C) = 0, v(AB) = 1/2, v(AC) = 3/4, v(BC) = 1/4, v(ABC) = 1
-- phi_A = 1/3 (1/2) + 1/6 (1/2 - 1/4) + 1/6 (3/4 - 0) + 1/3 (1 - 1/4) = 1/6 + 1/24 + 1/8 + 1/4 = 7/12
-- phi_B = 1/3 (1/4) + 1/6 (1/2 - 1/2) + 1/6 (1/4 - 0) + 1/3 (1 - 3/4) = 1/12 + 0 + 1/24 + 1/12 = 5/24
-- phi_C = 1/3 (0) + 1/6 (3/4 - 1/2) + 1/6 (1/4 - 1/4) + 1/3 (1 - 1/2) = 1/24 + 0 + 1/6 = 5/24
-- Credits of A B C C on 48: A 48 * 7/12 = 28, B 48 * 5/24 = 10, C 10 split: 5 and 5.
-- ------------------------------------------------------------------
CREATE TABLE sh2 (path text, converted bool, times int);
INSERT INTO sh2 VALUES ('A', true, 1), ('A', false, 1), ('B', true, 1), ('B', false, 3), ('C', false, 1),
	('A B', true, 1), ('B A', false, 1), ('A C', true, 3), ('C A C', false, 1),
	('B C', true, 1), ('C B', false, 3), ('A B C', true, 1);
CREATE TABLE sh2_model AS
SELECT attrib.shapley_fit(pj(path), converted) AS m FROM sh2, generate_series(1, times);
SELECT m FROM sh2_model;
SELECT c.channel, round(c.weight::numeric, 12) AS weight, c.credit
FROM sh2_model, attrib.credits(pj('A B C C'), m, 48) c;

-- ------------------------------------------------------------------
-- Example 3: a negative value is clamped
--   v(A) = 1/2 (2 journeys, 1 converted), v(AB) = 1/4 (4, 1), {B} never observed.
--   N = {A,B}: phi_A = 1/2 (1/2) + 1/2 (1/4 - 0) = 3/8, phi_B = 1/2 (0) + 1/2 (1/4 - 1/2) = -1/8.
--   B A: B 0, A 100%.  Table: {A} x1: A 1/2; {A,B} x1: A 3/8, B -1/8 -> A 7/8, B -1/8;
--   shares 1 and 0.
-- ------------------------------------------------------------------
CREATE TABLE sh3_model AS
SELECT attrib.shapley_fit(pj(p), c) AS m
FROM (VALUES ('A', true), ('A', false), ('A B', true), ('B A', false), ('B A', false), ('A B', false)) v(p, c);
SELECT channel, journeys, conversions, round(shapley_value::numeric, 12) AS shapley_value,
	   round(share::numeric, 12) AS share
FROM sh3_model, attrib.shapley_channels(m) ORDER BY channel;
SELECT c.channel, c.weight, c.credit FROM sh3_model, attrib.credits(pj('B A'), m, 10) c;

-- ------------------------------------------------------------------
-- Example 4: journeys without touches (NULL journeys count as such) make
-- v(empty) = 1/2 (2 journeys, 1 converted); v(A) = 1, v(B) = 0, v(AB) = 1.
--   N = {A,B}: phi_A = 1/2 (1 - 1/2) + 1/2 (1 - 0) = 3/4, phi_B = 1/2 (0 - 1/2) + 1/2 (1 - 1) = -1/4
--   (they sum to v(AB) - v(empty) = 1/2).  Table: {A} x1: A = 1 - 1/2 = 1/2;
--   {A,B} x1: A 3/4, B -1/4 -> A 5/4, B -1/4.  N = {B}: phi_B = -1/2, last touch.
-- ------------------------------------------------------------------
CREATE TABLE sh4_model AS
SELECT attrib.shapley_fit(j, c) AS m
FROM (VALUES (NULL, true), (pj(''), false), (pj('A'), true), (pj('B'), false), (pj('A B'), true)) v(j, c);
SELECT m FROM sh4_model;
SELECT channel, round(shapley_value::numeric, 12) AS shapley_value, round(share::numeric, 12) AS share
FROM sh4_model, attrib.shapley_channels(m) ORDER BY channel;
SELECT c.channel, c.weight, c.credit FROM sh4_model, attrib.credits(pj('B B'), m, 10) c;

-- text and binary forms round-trip exactly; text in any order is canonicalized
SELECT m::text::attrib.shapley_model::text = m::text AS text_round_trip,
	   attrib.shapley_model_from_bytea(attrib.shapley_model_send(m))::text = m::text AS binary_round_trip
FROM sh2_model;
SELECT '{"coalitions":[[["B","A"],2,2],[[],1,0],[["A"],4,1]],"type":"shapley","version":1,"journeys":7,"conversions":3}'::attrib.shapley_model;

-- ------------------------------------------------------------------
-- Independent check: the textbook formula
--   phi_i = sum over S in N \ {i} of |S|! (n - |S| - 1)! / n! (v(S + i) - v(S))
-- over every subset, in exact numerics, with v counted straight from the
-- journeys (not from the fit).
-- ------------------------------------------------------------------
SELECT setseed(0.125);
CREATE TABLE sh_paths AS
SELECT id, p AS path,
	   coalesce(random() < 0.25 OR 'B' = ANY(p) AND random() < 0.5 OR p[1] = 'E', false) AS converted
FROM (SELECT id, ARRAY(SELECT (ARRAY['A', 'B', 'C', 'D', 'E'])[1 + floor(random() * 5)::int]
					   FROM generate_series(1, floor(random() * (2 + id % 5))::int) g
					   WHERE id > 0) AS p
	  FROM generate_series(1, 300) id) s;
-- each journey's set of unique channels, sorted
CREATE TABLE sh_sets AS
SELECT id, ARRAY(SELECT x FROM (SELECT DISTINCT x FROM unnest(path) x) d ORDER BY x COLLATE "C") AS s, converted
FROM sh_paths;
CREATE TABLE sh_v AS
SELECT s, count(*) FILTER (WHERE converted)::numeric / count(*) AS v FROM sh_sets GROUP BY s;
SELECT count(*) AS journeys, count(*) FILTER (WHERE converted) AS conversions,
	   count(*) FILTER (WHERE s = '{}') AS without_touches, (SELECT count(*) FROM sh_v) AS channel_sets
FROM sh_sets;

CREATE FUNCTION sh_ref_phi(n_set text[]) RETURNS TABLE (channel text, phi numeric) LANGUAGE sql AS $$
	WITH subsets AS (
		SELECT ARRAY(SELECT n_set[b + 1] FROM generate_series(0, cardinality(n_set) - 1) b
					 WHERE m & (1 << b) <> 0 ORDER BY 1) AS s
		FROM generate_series(0, (1 << cardinality(n_set)) - 1) m)
	SELECT i, sum(factorial(cardinality(s)) * factorial(cardinality(n_set) - cardinality(s) - 1)
				  / factorial(cardinality(n_set))
				  * (coalesce((SELECT v FROM sh_v WHERE sh_v.s = ARRAY(SELECT x FROM unnest(subsets.s || i) x
																	   ORDER BY x COLLATE "C")), 0)
					 - coalesce((SELECT v FROM sh_v WHERE sh_v.s = subsets.s), 0)))
	FROM unnest(n_set) i, subsets
	WHERE NOT i = ANY(s)
	GROUP BY i $$;

-- the reference values of every channel set that converted
CREATE TABLE sh_phi AS
SELECT x.s, p.channel, p.phi FROM (SELECT DISTINCT s FROM sh_sets WHERE converted) x, sh_ref_phi(x.s) p;
-- the values of one set, and of every set: they sum to v(N) - v(empty) (efficiency)
SELECT s, channel, round(phi, 12) AS phi FROM sh_phi WHERE s = '{A,B,C,D}' ORDER BY channel;
SELECT count(*) AS converting_sets,
	   count(*) FILTER (WHERE abs(total - ((SELECT v FROM sh_v WHERE sh_v.s = t.s)
										   - coalesce((SELECT v FROM sh_v WHERE sh_v.s = '{}'), 0))) < 1e-15) AS efficient
FROM (SELECT s, sum(phi) AS total FROM sh_phi GROUP BY s) t;

CREATE TABLE sh_model AS SELECT attrib.shapley_fit(pj(array_to_string(path, ' ')), converted) AS m FROM sh_paths;
-- the channel table: the value summed over converting journeys
SELECT count(*) AS channels,
	   count(*) FILTER (WHERE abs(t.shapley_value - r.value) < 1e-12) AS values_agree,
	   count(*) FILTER (WHERE t.journeys = r.journeys AND t.conversions = r.conversions) AS counts_agree,
	   count(DISTINCT round(r.value, 6)) AS distinct_values
FROM sh_model, attrib.shapley_channels(m) t
JOIN (SELECT c.channel, sum(p.phi) AS value,
			 (SELECT count(*) FROM sh_sets x WHERE c.channel = ANY(x.s)) AS journeys,
			 (SELECT count(*) FROM sh_sets x WHERE c.channel = ANY(x.s) AND x.converted) AS conversions
	  FROM (VALUES ('A'), ('B'), ('C'), ('D'), ('E')) c(channel)
	  LEFT JOIN (sh_sets x JOIN sh_phi p ON p.s = x.s) ON x.converted AND p.channel = c.channel
	  GROUP BY c.channel) r ON r.channel = t.channel;
-- credits: every touch of every converting journey, against the clamped
-- reference values split over the channel's touches (all 0: last touch)
CREATE TABLE sh_expect AS
WITH touch AS (
	SELECT j.id, x.s, t.i, t.ch, count(*) OVER (PARTITION BY j.id, t.ch) AS n,
		   t.i = cardinality(j.path) AS is_last
	FROM sh_paths j JOIN sh_sets x USING (id), unnest(j.path) WITH ORDINALITY t(ch, i) WHERE j.converted),
raw AS (
	SELECT t.id, t.i, greatest(coalesce(p.phi, 0), 0) / t.n AS w, t.is_last
	FROM touch t LEFT JOIN sh_phi p ON p.s = t.s AND p.channel = t.ch)
SELECT id, i, CASE WHEN sum(w) OVER (PARTITION BY id) > 0 THEN w / sum(w) OVER (PARTITION BY id)
				   WHEN is_last THEN 1 ELSE 0 END AS weight
FROM raw;
SELECT count(*) AS touches, count(*) FILTER (WHERE abs(c.weight - e.weight) < 1e-12) AS weights_agree,
	   count(DISTINCT c.id) AS journeys, count(*) FILTER (WHERE e.weight = 1) AS single_touch_or_fallback
FROM sh_expect e
JOIN (SELECT j.id, c.touch_index, c.weight
	  FROM sh_paths j, sh_model, attrib.credits(pj(array_to_string(j.path, ' ')), m, 100) c
	  WHERE j.converted) c ON c.id = e.id AND c.touch_index = e.i;

-- ------------------------------------------------------------------
-- Combine: one fit == parts merged == forced parallel
-- ------------------------------------------------------------------
SELECT setseed(0.5);
CREATE TABLE sh_par AS
SELECT o, o % 61 AS account,
	   attrib.journey_agg('t' || o || '_' || i, timestamptz '2024-01-01 00:00+00' + i * interval '1 hour',
						  'ch' || floor(random() * 15)::int) AS j,
	   random() < 0.3 AS converted
FROM generate_series(1, 3000) o, generate_series(1, 1 + o % 7) i
GROUP BY o;
ANALYZE sh_par;
SET max_parallel_workers_per_gather = 0;
CREATE TABLE sh_serial AS SELECT attrib.shapley_fit(j, converted)::text AS m FROM sh_par;
CREATE FUNCTION sh_plan_has(q text, what text) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE r record; found bool := false;
BEGIN
	FOR r IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		found := found OR r."QUERY PLAN" LIKE '%' || what || '%';
	END LOOP;
	RETURN found;
END $$;
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = off;
SELECT sh_plan_has($$SELECT attrib.shapley_fit(j, converted) FROM sh_par$$, 'Partial Aggregate') AS fit_plan_is_partial;
SELECT (SELECT attrib.shapley_fit(j, converted)::text FROM sh_par) = m AS parallel_equals_serial,
	   (SELECT attrib.shapley_merge(p)::text
		FROM (SELECT attrib.shapley_fit(j, converted) AS p FROM sh_par GROUP BY account) g) = m AS accounts_merged_equal,
	   (SELECT attrib.shapley_merge(p ORDER BY account DESC)::text
		FROM (SELECT account, attrib.shapley_fit(j, converted) AS p FROM sh_par GROUP BY account) g) = m AS any_merge_order_equal
FROM sh_serial;
CREATE TABLE sh_par_model AS SELECT attrib.shapley_fit(j, converted) AS m FROM sh_par;
SELECT sh_plan_has($$SELECT sum(c.credit) FROM sh_par, sh_par_model, attrib.credits(j, m, 1000) c$$, 'Parallel') AS credits_parallel;
SELECT sum(c.credit) AS total, count(*) AS touches FROM sh_par, sh_par_model, attrib.credits(j, m, 1000) c;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET parallel_leader_participation;
SELECT sum(c.credit) AS total, count(*) AS touches FROM sh_par, sh_par_model, attrib.credits(j, m, 1000) c;

-- ------------------------------------------------------------------
-- Bad input and limits
-- ------------------------------------------------------------------
SELECT try($$SELECT attrib.shapley_fit(pj(path), NULL) FROM sh1$$);
SELECT try($$SELECT * FROM attrib.credits(pj('A'), NULL::attrib.shapley_model, 100)$$);
SELECT try($$SELECT * FROM sh1_model, attrib.credits(pj('A'), m, 100, '{"direct_channels": ["A"]}')$$);
SELECT try($$SELECT * FROM sh1_model, attrib.credits(pj('A'), m, NULL)$$);
SELECT try($$SELECT 'nonsense'::attrib.shapley_model$$);
SELECT try($$SELECT '{"type":"shapley","version":1,"journeys":1,"conversions":2,"coalitions":[[["a"],1,2]]}'::attrib.shapley_model$$);
SELECT try($$SELECT '{"type":"shapley","version":1,"journeys":2,"conversions":0,"coalitions":[[["a"],1,0],[["a"],1,0]]}'::attrib.shapley_model$$);
SELECT try($$SELECT '{"type":"shapley","version":1,"journeys":1,"conversions":0,"coalitions":[[["a","a"],1,0]]}'::attrib.shapley_model$$);
SELECT try($$SELECT '{"type":"shapley","version":1,"journeys":3,"conversions":0,"coalitions":[[["a"],1,0]]}'::attrib.shapley_model$$);
CREATE FUNCTION sh_recv_status(b bytea) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	PERFORM attrib.shapley_model_from_bytea(b);
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END $$;
CREATE TABLE sh_bin AS SELECT attrib.shapley_model_send(m) AS b FROM sh2_model;
SELECT sh_recv_status(b) AS intact FROM sh_bin;
SELECT sh_recv_status(substr(b, 1, n)) AS status, count(*) AS truncations
FROM sh_bin, generate_series(0, length(b) - 1) n GROUP BY 1;
SELECT sh_recv_status(set_bit(b, n, 1 - get_bit(b, n))) AS status, count(*) AS bit_flips
FROM sh_bin, generate_series(0, 8 * length(b) - 1) n GROUP BY 1;
SELECT try($$SELECT attrib.shapley_model_from_bytea(attrib.markov_model_send(attrib.markov_fit(pj('A'), true)))$$);

-- at most 1000 unique channels in one journey: 1001 is a clear error, 1000 works
-- (one observed set of all 1000 with v = 1: each channel's value is 1/1000)
CREATE FUNCTION sh_wide_journey(n int, prefix text) RETURNS attrib.journey LANGUAGE sql AS $$
	SELECT attrib.journey_agg('t' || i, timestamptz '2024-01-01 00:00+00' + i * interval '1 minute', prefix || i)
	FROM generate_series(1, n) i $$;
SELECT try($$SELECT attrib.shapley_fit(sh_wide_journey(1001, 'c'), true)$$);
CREATE TABLE sh_wide AS SELECT attrib.shapley_fit(sh_wide_journey(1000, 'c'), true) AS m;
SELECT count(*) AS channels, min(shapley_value) = max(shapley_value) AS symmetric,
	   round(max(shapley_value)::numeric, 15) AS value, round(sum(share)::numeric, 12) AS total_share
FROM sh_wide, attrib.shapley_channels(m);
SELECT try($$SELECT * FROM sh_wide, attrib.credits(sh_wide_journey(1001, 'x'), m, 100)$$);

-- scale: 100 channels; a long fit can be cancelled
SELECT setseed(0.875);
CREATE TABLE sh_scale AS
SELECT o, attrib.journey_agg('t' || o || '_' || i, timestamptz '2024-01-01 00:00+00' + i * interval '1 hour',
							 'ch' || floor(random() * 100)::int) AS j,
	   random() < 0.3 AS converted
FROM generate_series(1, 10000) o, generate_series(1, 2 + o % 15) i
GROUP BY o;
CREATE TABLE sh_scale_model AS SELECT attrib.shapley_fit(j, converted) AS m FROM sh_scale;
SELECT i.journeys, i.channels, i.channel_sets > 9000 AS mostly_distinct_sets FROM sh_scale_model, attrib.shapley_info(m) i;
SELECT count(*) AS channels, round(sum(share)::numeric, 9) AS total_share FROM sh_scale_model, attrib.shapley_channels(m);
CREATE TABLE sh_long AS
SELECT attrib.journey_agg('t' || i, timestamptz '2024-01-01 00:00+00' + i * interval '1 second',
						  'ch' || (i * 7919 % 1000)) AS j
FROM generate_series(1::bigint, 300000) i;
SET statement_timeout = '100ms';
SELECT attrib.shapley_fit(j, true) FROM sh_long, generate_series(1, 200);
RESET statement_timeout;

DROP TABLE sh_scale, sh_scale_model, sh_long, sh_par, sh_par_model;
