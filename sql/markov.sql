-- markov: Markov-chain attribution of order 1..4 (SPEC §3 "Data-driven")
--
-- Hand-worked examples (the arithmetic is in the comments), an independent
-- exact solver written here in SQL, combine correctness in forced parallel
-- plans for every order, bad input, and scale with cancellation.
\pset null '(null)'
-- JIT would compile every generic plan of the reference functions below
SET jit = off;

-- a journey from a path of channel names: touch i at 2024-01-01 + i days
CREATE OR REPLACE FUNCTION pj(p text) RETURNS attrib.journey LANGUAGE sql IMMUTABLE AS $$
	SELECT coalesce(attrib.journey_agg('t' || i, timestamptz '2024-01-01 00:00+00' + i * interval '1 day', c),
					'{"touches":[]}'::attrib.journey)
	FROM unnest(string_to_array(p, ' ')) WITH ORDINALITY u(c, i) $$;

-- ------------------------------------------------------------------
-- Example 1, order 1
--   J1: A B -> conversion   J2: A -> null   J3: B -> conversion   J4: B A -> null
-- Transitions: start->A 2, start->B 2, A->B 1, A->null 2, B->A 1, B->conv 2.
--   x_A = 1/3 x_B, x_B = 2/3 + 1/3 x_A  =>  x_B = 3/4, x_A = 1/4
--   P = 1/2 (1/4) + 1/2 (3/4) = 1/2 = 2 conversions / 4 journeys
--   without A: x_B = 2/3, P = 1/3, RE(A) = 1 - (1/3)/(1/2) = 1/3
--   without B: x_A = 0,   P = 0,   RE(B) = 1
--   shares: A (1/3)/(4/3) = 1/4, B 3/4
-- ------------------------------------------------------------------
CREATE TABLE mk1 (id int, path text, converted bool);
INSERT INTO mk1 VALUES (1, 'A B', true), (2, 'A', false), (3, 'B', true), (4, 'B A', false);
CREATE TABLE mk1_model AS SELECT attrib.markov_fit(pj(path), converted) AS m FROM mk1;

-- the fitted counts, as listed above (text form is canonical JSON)
SELECT m FROM mk1_model;
SELECT i.* FROM mk1_model, attrib.markov_info(m) i;
SELECT channel, journeys, conversions, round(removal_effect::numeric, 12) AS removal_effect,
	   round(share::numeric, 12) AS share
FROM mk1_model, attrib.markov_channels(m) ORDER BY channel;

-- credits of B A B: weights 3/4, 1/4, 3/4 normalized by 7/4 -> 3/7, 1/7, 3/7;
-- 100 * 3/7 = 42.857..., 100/7 = 14.285...: floors 42.85 + 14.28 + 42.85 = 99.98,
-- the two cents go to the largest remainders (.714 twice): 42.86, 14.28, 42.86
SELECT c.touch_index, c.channel, c.positions, round(c.weight::numeric, 12) AS weight, c.credit
FROM mk1_model, attrib.credits(pj('B A B'), m, 100) c;
-- a channel the model never saw gets 0 (C A: A 100%); none seen: last touch
SELECT c.channel, c.weight, c.credit FROM mk1_model, attrib.credits(pj('C A'), m, 10) c;
SELECT c.channel, c.weight, c.credit FROM mk1_model, attrib.credits(pj('C D'), m, 10) c;
-- options: exclude_channels, collapse_repeats (A B B -> A B: 1/4, 3/4, 0)
SELECT c.channel, c.weight, c.credit FROM mk1_model, attrib.credits(pj('B B A'), m, 10, '{"exclude_channels": ["B"]}') c;
SELECT c.channel, round(c.weight::numeric, 12) AS weight, c.credit
FROM mk1_model, attrib.credits(pj('A B B'), m, 10, '{"collapse_repeats": true}') c;
-- the money split is exact at the amount's scale (numeric(12,0): whole units)
SELECT sum(c.credit) AS total, count(*) AS touches
FROM mk1_model, attrib.credits(pj('B A B A B'), m, 1000::numeric(12,0)) c;
-- no journey: nothing to credit
SELECT count(*) FROM mk1_model, attrib.credits(NULL::attrib.journey, m, 10) c;

-- self-loops: J1 = A A B adds A->A and changes nothing else that leaves A,
-- so removal effects and shares are those above
SELECT channel, round(removal_effect::numeric, 12) AS removal_effect, round(share::numeric, 12) AS share
FROM attrib.markov_channels((SELECT attrib.markov_fit(pj(p), c)
							 FROM (VALUES ('A A B', true), ('A', false), ('B', true), ('B A', false)) v(p, c)))
ORDER BY channel;

-- a journey without touches (NULL or empty) is start -> conversion/null: it
-- raises P to 3/5 and scales every removal effect alike (A 2/9, B 2/3), the shares stay
SELECT channel, round(removal_effect::numeric, 12) AS removal_effect, round(share::numeric, 12) AS share
FROM attrib.markov_channels((SELECT attrib.markov_fit(j, c)
							 FROM (SELECT pj(path) AS j, converted AS c FROM mk1
								   UNION ALL SELECT NULL, true) v))
ORDER BY channel;

-- ------------------------------------------------------------------
-- Example 2, orders 1 and 2
--   J1: A B -> conversion   J2: C B -> null   J3: A -> null
-- Order 1: x_B = 1/2, x_A = 1/4, x_C = 1/2, P = 2/3 (1/4) + 1/3 (1/2) = 1/3;
--   without A: 1/6 (RE 1/2); without B: 0 (RE 1); without C: 1/6 (RE 1/2);
--   shares 1/4, 1/2, 1/4.
-- Order 2: states (A) (C) (A,B) (C,B); x(A,B) = 1, x(C,B) = 0, x(A) = 1/2, x(C) = 0;
--   without A: 0 (RE 1); without B: 0 (RE 1); without C: 1/3 (RE 0); shares 1/2, 1/2, 0.
-- ------------------------------------------------------------------
CREATE TABLE mk2 (path text, converted bool);
INSERT INTO mk2 VALUES ('A B', true), ('C B', false), ('A', false);
SELECT k AS "order", channel, round(removal_effect::numeric, 12) AS removal_effect,
	   round(share::numeric, 12) AS share
FROM generate_series(1, 2) k,
	 attrib.markov_channels((SELECT attrib.markov_fit(pj(path), converted, k) FROM mk2))
ORDER BY k, channel;

-- ------------------------------------------------------------------
-- Example 3, orders 1 and 3
--   J1: A B C D -> conversion   J2: A B C -> null   J3: D -> null
-- Order 1: x_D = 1/2, x_C = x_B = x_A = 1/4, P = 1/3; without A, B or C only
--   start->D converts: P = 1/6, RE 1/2 each; without D: 0, RE 1; shares 1/5 x3, 2/5.
-- Order 3: states (A) (A,B) (A,B,C) (B,C,D) (D); the one converting path needs
--   every channel: RE 1 each, shares 1/4.
-- ------------------------------------------------------------------
CREATE TABLE mk3 (path text, converted bool);
INSERT INTO mk3 VALUES ('A B C D', true), ('A B C', false), ('D', false);
SELECT k AS "order", channel, round(removal_effect::numeric, 12) AS removal_effect,
	   round(share::numeric, 12) AS share
FROM (VALUES (1), (3)) o(k),
	 attrib.markov_channels((SELECT attrib.markov_fit(pj(path), converted, k) FROM mk3))
ORDER BY k, channel;
SELECT i."order", i.states, i.transitions
FROM (VALUES (1), (3)) o(k), attrib.markov_info((SELECT attrib.markov_fit(pj(path), converted, k) FROM mk3)) i;

-- order 4: the states near the start of a path are its prefixes, then full 4-tuples
SELECT attrib.markov_fit(pj(p), c, 4)
FROM (VALUES ('A B C D E', true), ('E', false)) v(p, c);

-- text and binary forms round-trip exactly
SELECT m::text::attrib.markov_model::text = m::text AS text_round_trip,
	   attrib.markov_model_from_bytea(attrib.markov_model_send(m))::text = m::text AS binary_round_trip
FROM mk1_model;
-- text input in any order is put in canonical order
SELECT '{"order":1,"type":"markov","version":1,"journeys":1,"conversions":1,
		 "transitions":[[["b"],"conversion",1],[["a"],["b"],1],["start",["a"],1]],
		 "channels":[["b",1,1],["a",1,1]]}'::attrib.markov_model;

-- ------------------------------------------------------------------
-- Independent check: an exact rational solve written here, building the
-- chain straight from the paths (not from the fit), by fraction-free
-- Gauss-Jordan elimination on integer counts.
-- ------------------------------------------------------------------
SELECT setseed(0.25);
CREATE TABLE ref_paths AS
SELECT id, p AS path,
	   -- conversion depends on the path, so channels matter unequally
	   (random() < 0.2 OR (cardinality(p) > 1 AND p[2] = 'B') OR p[cardinality(p)] = 'D') AS converted
FROM (SELECT id, ARRAY(SELECT (ARRAY['A', 'B', 'C', 'D'])[1 + floor(random() * 4)::int]
					   FROM generate_series(1, 1 + floor(random() * (3 + id % 3))::int) g
					   WHERE id > 0) AS p
	  FROM generate_series(1, 14) id) s;
SELECT count(*) AS journeys, sum(cardinality(path)) AS touches, count(*) FILTER (WHERE converted) AS conversions
FROM ref_paths;

-- state i of a path in a chain of order k: its last min(i, k) channels
CREATE FUNCTION ref_state(p text[], i int, k int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT array_to_string(p[greatest(1, i - k + 1):i], '>') $$;

-- exact P(conversion) as {numerator, denominator} over the journeys of src
-- (path text[], converted bool), states holding `removed` sent to null
CREATE FUNCTION ref_p(src regclass, k int, removed text) RETURNS numeric[] LANGUAGE plpgsql AS $$
DECLARE
	fs text[]; ts text[]; cs numeric[];
	st text[];
	n int;
	a numeric[];
	prev numeric := 1;
	piv numeric;
	i int; j int; q int; e int;
	tmp numeric;
BEGIN
	EXECUTE format($q$
		WITH steps AS (
			SELECT CASE WHEN g.n = 0 THEN '^' ELSE ref_state(path, g.n, %2$s) END AS f,
				   CASE WHEN g.n = cardinality(path) THEN CASE WHEN converted THEN '$conv' ELSE '$null' END
						ELSE ref_state(path, g.n + 1, %2$s) END AS t
			FROM %1$s, generate_series(0, cardinality(path)) g(n)),
		tr AS (SELECT f, t, count(*)::numeric AS c FROM steps GROUP BY f, t)
		SELECT array_agg(f), array_agg(t), array_agg(c) FROM tr$q$, src, k) INTO fs, ts, cs;
	-- transient states still alive: '^' (start) first
	st := ARRAY['^'] || ARRAY(SELECT DISTINCT f FROM unnest(fs) f
							  WHERE f <> '^' AND NOT coalesce(removed = ANY(string_to_array(f, '>')), false)
							  ORDER BY f);
	n := cardinality(st);
	a := array_fill(0::numeric, ARRAY[n, n + 1]);
	-- row s: out(s) x_s - sum_t count(s,t) x_t = count(s, conversion)
	FOR e IN 1 .. cardinality(fs) LOOP
		i := array_position(st, fs[e]);
		CONTINUE WHEN i IS NULL;
		a[i][i] := a[i][i] + cs[e];
		IF ts[e] = '$conv' THEN
			a[i][n + 1] := a[i][n + 1] + cs[e];
		ELSE
			j := array_position(st, ts[e]);
			IF j IS NOT NULL THEN
				a[i][j] := a[i][j] - cs[e];
			END IF;
		END IF;
	END LOOP;
	-- fraction-free Gauss-Jordan: every division below is exact (checked)
	FOR q IN 1 .. n LOOP
		IF a[q][q] = 0 THEN
			FOR i IN q + 1 .. n LOOP
				IF a[i][q] <> 0 THEN
					FOR j IN 1 .. n + 1 LOOP
						tmp := a[q][j]; a[q][j] := a[i][j]; a[i][j] := tmp;
					END LOOP;
					EXIT;
				END IF;
			END LOOP;
		END IF;
		piv := a[q][q];
		FOR i IN 1 .. n LOOP
			CONTINUE WHEN i = q;
			FOR j IN 1 .. n + 1 LOOP
				CONTINUE WHEN j = q;
				tmp := piv * a[i][j] - a[i][q] * a[q][j];
				IF mod(tmp, prev) <> 0 THEN
					RAISE EXCEPTION 'inexact division';
				END IF;
				a[i][j] := div(tmp, prev);
			END LOOP;
			a[i][q] := 0;
		END LOOP;
		prev := piv;
	END LOOP;
	RETURN ARRAY[a[1][n + 1], a[1][1]];
END $$;

-- the reference reproduces example 1 by hand: P = 1/2, without A 1/3, without B 0
CREATE FUNCTION frac(p numeric[]) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN p[1] = 0 THEN '0' ELSE div(p[1], gcd(p[1], p[2]))::text || '/' || div(p[2], gcd(p[1], p[2]))::text END $$;
CREATE VIEW mk1_paths AS SELECT string_to_array(path, ' ') AS path, converted FROM mk1;
SELECT frac(ref_p('mk1_paths', 1, NULL)) AS p, frac(ref_p('mk1_paths', 1, 'A')) AS p_without_a,
	   frac(ref_p('mk1_paths', 1, 'B')) AS p_without_b;

-- the full chain gives P = conversions / journeys exactly, for every order
SELECT k AS "order",
	   (SELECT p[1] * count(*) = p[2] * count(*) FILTER (WHERE converted) FROM ref_paths) AS p_is_conversion_rate
FROM generate_series(1, 4) k, LATERAL (SELECT ref_p('ref_paths', k, NULL) AS p) s;

-- removal effects: exact vs attrib.markov_channels, every channel, orders 1..4
CREATE TABLE ref_re AS
SELECT k, ch AS channel,
	   1 - (pc[1] * full_p[2]) / (pc[2] * full_p[1]) AS exact_re
FROM generate_series(1, 4) k,
	 LATERAL (SELECT ref_p('ref_paths', k, NULL) AS full_p) f,
	 unnest(ARRAY['A', 'B', 'C', 'D']) ch,
	 LATERAL (SELECT ref_p('ref_paths', k, ch) AS pc) c;
SELECT r.k AS "order", count(*) AS channels,
	   count(*) FILTER (WHERE abs(m.removal_effect - r.exact_re) < 1e-12) AS agree,
	   bool_and(abs(m.share * sum_exact - r.exact_re) < 1e-12) AS shares_agree,
	   count(DISTINCT round(r.exact_re, 9)) > 1 AS channels_differ
FROM ref_re r
JOIN LATERAL attrib.markov_channels((SELECT attrib.markov_fit(pj(array_to_string(path, ' ')), converted, r.k)
									FROM ref_paths)) m ON m.channel = r.channel
JOIN (SELECT k, sum(exact_re) AS sum_exact FROM ref_re GROUP BY k) s ON s.k = r.k
GROUP BY r.k ORDER BY r.k;

-- ------------------------------------------------------------------
-- Combine: one fit == parts merged == forced parallel, for orders 1..4
-- ------------------------------------------------------------------
SELECT setseed(0.5);
CREATE TABLE mk_par AS
SELECT o, o % 97 AS account,
	   attrib.journey_agg('t' || o || '_' || i, timestamptz '2024-01-01 00:00+00' + i * interval '1 hour',
						  'ch' || floor(random() * 12)::int) AS j,
	   random() < 0.3 AS converted
FROM generate_series(1, 1500) o, generate_series(1, 1 + o % 9) i
GROUP BY o;
ANALYZE mk_par;

SET max_parallel_workers_per_gather = 0;
CREATE TABLE mk_serial AS
SELECT k, attrib.markov_fit(j, converted, k)::text AS m FROM generate_series(1, 4) k, mk_par GROUP BY k;

CREATE FUNCTION mk_plan_has(q text, what text) RETURNS bool LANGUAGE plpgsql AS $$
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
SELECT mk_plan_has($$SELECT attrib.markov_fit(j, converted, 3) FROM mk_par$$, 'Partial Aggregate') AS fit_plan_is_partial;
SELECT mk_plan_has($$SELECT attrib.markov_merge(m) FROM (SELECT attrib.markov_fit(j, converted, 2) AS m FROM mk_par GROUP BY account) s$$,
				'Partial') AS merge_plan_is_partial;
SELECT s.k AS "order",
	   (SELECT attrib.markov_fit(j, converted, s.k)::text FROM mk_par) = s.m AS parallel_equals_serial,
	   (SELECT attrib.markov_merge(p)::text
		FROM (SELECT attrib.markov_fit(j, converted, s.k) AS p FROM mk_par GROUP BY account) g) = s.m AS accounts_merged_equal,
	   (SELECT attrib.markov_merge(p ORDER BY account DESC)::text
		FROM (SELECT account, attrib.markov_fit(j, converted, s.k) AS p FROM mk_par GROUP BY account) g) = s.m AS any_merge_order_equal
FROM mk_serial s ORDER BY s.k;
-- credits computed in parallel workers equal the serial ones
CREATE TABLE mk_par_model AS SELECT attrib.markov_fit(j, converted, 2) AS m FROM mk_par;
SELECT mk_plan_has($$SELECT sum(c.credit) FROM mk_par, mk_par_model, attrib.credits(j, m, 1000) c$$, 'Parallel') AS credits_parallel;
SELECT sum(c.credit) AS total, count(*) AS touches, count(DISTINCT c.weight) > 10 AS weights_vary
FROM mk_par, mk_par_model, attrib.credits(j, m, 1000) c;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET parallel_leader_participation;
SELECT sum(c.credit) AS total, count(*) AS touches FROM mk_par, mk_par_model, attrib.credits(j, m, 1000) c;
-- every journey's credits sum to its amount exactly
SELECT count(*) AS journeys
FROM (SELECT o, sum(c.credit) AS s FROM mk_par, mk_par_model, attrib.credits(j, m, 123.45) c GROUP BY o) t
WHERE s <> 123.45;

-- ------------------------------------------------------------------
-- Bad input
-- ------------------------------------------------------------------
SELECT try($$SELECT attrib.markov_fit(pj(path), converted, 0) FROM mk1$$);
SELECT try($$SELECT attrib.markov_fit(pj(path), converted, 5) FROM mk1$$);
SELECT try($$SELECT attrib.markov_fit(pj(path), converted, NULL) FROM mk1$$);
SELECT try($$SELECT attrib.markov_fit(pj(path), converted, id % 2 + 1) FROM mk1$$);
SELECT try($$SELECT attrib.markov_fit(pj(path), NULL) FROM mk1$$);
SELECT try($$SELECT attrib.markov_merge(m) FROM (SELECT attrib.markov_fit(pj(path), converted, 1) m FROM mk1
										  UNION ALL SELECT attrib.markov_fit(pj(path), converted, 2) FROM mk1) s$$);
SELECT try($$SELECT * FROM attrib.credits(pj('A'), NULL::attrib.markov_model, 100)$$);
SELECT try($$SELECT * FROM mk1_model, attrib.credits(pj('A'), m, 100, '{"half_life": 7}')$$);
SELECT try($$SELECT * FROM mk1_model, attrib.credits(pj('A'), m, 100, '{"order": 2}')$$);
SELECT try($$SELECT * FROM mk1_model, attrib.credits(pj('A'), m, NULL)$$);
SELECT try($$SELECT * FROM mk1_model, attrib.credits(pj('A'), m, 'NaN')$$);
-- a NULL model argument to the merge is skipped; no rows give NULL
SELECT attrib.markov_merge(m) IS NULL AS empty_merge FROM mk1_model WHERE false;
SELECT attrib.markov_merge(m)::text = (SELECT m::text FROM mk1_model) AS nulls_skipped
FROM (SELECT m FROM mk1_model UNION ALL SELECT NULL) s;
-- corrupt text values
SELECT try($$SELECT 'nonsense'::attrib.markov_model$$);
SELECT try($$SELECT '{"type":"markov"}'::attrib.markov_model$$);
SELECT try($$SELECT '{"type":"markov","version":1,"order":9,"journeys":1,"conversions":0,"channels":[],"transitions":[["start","null",1]]}'::attrib.markov_model$$);
SELECT try($$SELECT '{"type":"markov","version":1,"order":1,"journeys":1,"conversions":1,"channels":[["a",1,1]],"transitions":[["start",["a"],1],[["a"],"conversion",1],[["a"],"null",1]]}'::attrib.markov_model$$);
SELECT try($$SELECT '{"type":"markov","version":1,"order":2,"journeys":1,"conversions":0,"channels":[["a",1,0],["b",1,0],["c",1,0]],"transitions":[["start",["a"],1],[["a"],["b","c"],1],[["b","c"],"null",1]]}'::attrib.markov_model$$);
SELECT try($$SELECT '{"type":"markov","version":1,"order":1,"journeys":2,"conversions":0,"channels":[],"transitions":[["start","null",1]]}'::attrib.markov_model$$);
SELECT try($$SELECT '{"type":"markov","version":1,"order":1,"journeys":1,"conversions":0,"channels":[],"transitions":[["start",["x"],1]]}'::attrib.markov_model$$);
-- corrupt binary values: every truncation and every single-bit flip is rejected
CREATE FUNCTION mk_recv_status(b bytea) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	PERFORM attrib.markov_model_from_bytea(b);
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END $$;
CREATE TABLE mk_bin AS SELECT attrib.markov_model_send(attrib.markov_fit(pj(path), converted, 2)) AS b FROM mk1;
SELECT mk_recv_status(b) AS intact FROM mk_bin;
SELECT mk_recv_status(substr(b, 1, n)) AS status, count(*) AS truncations
FROM mk_bin, generate_series(0, length(b) - 1) n GROUP BY 1;
SELECT mk_recv_status(set_bit(b, n, 1 - get_bit(b, n))) AS status, count(*) AS bit_flips
FROM mk_bin, generate_series(0, 8 * length(b) - 1) n GROUP BY 1;
SELECT try($$SELECT attrib.markov_model_from_bytea('\x4d01010000000000')$$);
SELECT try($$SELECT attrib.markov_model_from_bytea(overlay(b placing '\x05' from 3)) FROM mk_bin$$);
-- a Shapley model is not a Markov model
SELECT try($$SELECT attrib.markov_model_from_bytea(attrib.shapley_model_send(attrib.shapley_fit(pj(path), converted))) FROM mk1$$);

-- ------------------------------------------------------------------
-- Scale: 100 channels, order 3, fits in memory; long work can be cancelled
-- ------------------------------------------------------------------
SELECT setseed(0.75);
CREATE TABLE mk_scale AS
SELECT o, attrib.journey_agg('t' || o || '_' || i, timestamptz '2024-01-01 00:00+00' + i * interval '1 hour',
							 'ch' || floor(random() * 100)::int) AS j,
	   random() < 0.3 AS converted
FROM generate_series(1, 10000) o, generate_series(1, 2 + o % 15) i
GROUP BY o;
CREATE TABLE mk_scale_model AS SELECT attrib.markov_fit(j, converted, 3) AS m FROM mk_scale;
SELECT i."order", i.journeys, i.channels, i.states > 50000 AS many_states,
	   pg_column_size(m) < 16 * 1024 * 1024 AS under_16mb
FROM mk_scale_model, attrib.markov_info(m) i;
SELECT count(*) AS channels, round(sum(share)::numeric, 9) AS total_share,
	   bool_and(removal_effect BETWEEN 0 AND 1) AS effects_in_range
FROM mk_scale_model, attrib.markov_channels(m);
-- statement_timeout cancels the fit (one long journey: the cancel lands inside
-- the core's loop) and the solve
CREATE TABLE mk_long AS
SELECT attrib.journey_agg('t' || i, timestamptz '2024-01-01 00:00+00' + i * interval '1 second',
						  'ch' || (i * 7919 % 100)) AS j
FROM generate_series(1::bigint, 300000) i;
SET statement_timeout = '100ms';
SELECT attrib.markov_fit(j, true, 4) FROM mk_long, generate_series(1, 20);
SELECT count(*) FROM mk_scale_model, attrib.markov_channels(m);
RESET statement_timeout;

-- the big tables are not needed by later suites
DROP TABLE mk_long, mk_scale, mk_scale_model, mk_par, mk_par_model;
