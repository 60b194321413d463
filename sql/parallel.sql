-- parallel: journey_agg runs as a real partial aggregate and equals a serial run
CREATE TABLE par_touch AS
SELECT 'o' || (i % 500) AS opp, 't' || i AS touch_id,
	   timestamptz '2024-01-01 00:00+00' + ((i::int8 * 104729) % 50000) * interval '1 minute' AS occurred_at,
	   'ch' || ((i * 13) % 11) AS channel
FROM generate_series(1, 60000) i;
ANALYZE par_touch;

-- serial reference
SET max_parallel_workers_per_gather = 0;
CREATE TABLE par_serial AS
SELECT opp, attrib.journey_agg(touch_id, occurred_at, channel)::text AS j FROM par_touch GROUP BY opp;
CREATE TABLE par_serial_all AS
SELECT attrib.journey_agg(touch_id, occurred_at, channel)::text AS j FROM par_touch WHERE opp IN ('o1', 'o2', 'o3');

-- force a parallel, partial plan
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = off;

CREATE FUNCTION plan_has(q text, what text) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE r record; found bool := false;
BEGIN
	FOR r IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		found := found OR r."QUERY PLAN" LIKE '%' || what || '%';
	END LOOP;
	RETURN found;
END $$;

SELECT plan_has($$SELECT opp, attrib.journey_agg(touch_id, occurred_at, channel) FROM par_touch GROUP BY opp$$,
				'Partial') AS grouped_plan_is_partial;
SELECT plan_has($$SELECT attrib.journey_agg(touch_id, occurred_at, channel) FROM par_touch WHERE opp IN ('o1', 'o2', 'o3')$$,
				'Partial Aggregate') AS plain_plan_is_partial;

SELECT count(*) AS journeys,
	   count(*) FILTER (WHERE p.j = s.j) AS equal_to_serial
FROM (SELECT opp, attrib.journey_agg(touch_id, occurred_at, channel)::text AS j FROM par_touch GROUP BY opp) p
JOIN par_serial s USING (opp);

SELECT (SELECT attrib.journey_agg(touch_id, occurred_at, channel)::text FROM par_touch WHERE opp IN ('o1', 'o2', 'o3'))
	   = (SELECT j FROM par_serial_all) AS one_group_equal;

-- credits computed in parallel workers equal the serial ones
CREATE TABLE par_j AS SELECT opp, j::attrib.journey AS j FROM par_serial;
ANALYZE par_j;
SELECT plan_has($$SELECT sum(c.credit) FROM par_j, attrib.credits(j, 'w_shaped', 1000) c$$, 'Parallel') AS credits_parallel;
SELECT sum(c.credit) AS total, count(*) AS rows FROM par_j, attrib.credits(j, 'position_based', 1000) c;
RESET ALL;
SELECT sum(c.credit) AS total, count(*) AS rows FROM par_j, attrib.credits(j, 'position_based', 1000) c;
