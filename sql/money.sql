-- money: the largest-remainder split is exact to the cent (SPEC §4)

-- 0.01 over three touches: the cent goes to the earliest
SELECT attrib.split_amount(0.01, '{1,1,1}');
-- 0.03 over 7 touches
SELECT attrib.split_amount(0.03, '{1,1,1,1,1,1,1}');
-- 100.00 over 3: 33.34, 33.33, 33.33
SELECT attrib.split_amount(100.00, '{1,1,1}');
-- 99999999999.99 over 7: 9999999999999 cents / 7 = 1428571428571 r 2
SELECT attrib.split_amount(99999999999.99, '{1,1,1,1,1,1,1}');
-- a refund keeps its sign: -10.00 over 3 = -3.34, -3.33, -3.33
SELECT attrib.split_amount(-10.00, '{1,1,1}');
-- more decimals than the scale: rounded half away from zero first
-- (10.005 -> 10.01 at scale 2; split 1:1 -> 5.01, 5.00)
SELECT attrib.split_amount(10.005, '{1,1}');
SELECT attrib.split_amount(-10.005, '{1,1}');
-- the scale: explicit, or the declared scale of the amount, else 2
SELECT attrib.split_amount(1000, '{1,1,1}', scale => 0);     -- JPY: 334, 333, 333
SELECT attrib.split_amount(1.000::numeric(10,3), '{1,1,1}'); -- 0.334, 0.333, 0.333
SELECT attrib.split_amount(1, '{1,1,1}');                    -- 0.34, 0.33, 0.33
-- weights need not be normalized: 1:3 of 10.00 -> 2.50, 7.50
SELECT attrib.split_amount(10.00, '{1,3}');
-- a zero weight gets nothing
SELECT attrib.split_amount(0.05, '{0,1,0,1}');
-- a 40-digit amount splits exactly, equal weights equally: 1234567890123456789012345678901234567890.12
-- is 123456789012345678901234567890123456789012 cents = 7 * 17636684144620811271604938270017636684144 + 4,
-- so four parts of ...841.45 and three of ...841.44
SELECT a, (SELECT sum(x) FROM unnest(attrib.split_amount(a, '{1,1,1,1,1,1,1}')) x) = a AS exact,
	   attrib.split_amount(a, '{1,1,1,1,1,1,1}') AS parts
FROM (VALUES (1234567890123456789012345678901234567890.12::numeric)) v(a);

-- thousands of generated journeys with awkward amounts: credits sum to the amount
-- exactly under every additive model, and no weight is negative
CREATE TABLE gen_touch AS
SELECT 'o' || (i % 997) AS opp, 't' || i AS touch_id,
	   timestamptz '2024-01-01 00:00+00' + ((i * 7919) % 100000) * interval '1 minute' AS occurred_at,
	   (ARRAY['paid_search','email','direct','webinar','organic','event','Direct'])[1 + (i * 31) % 7] AS channel
FROM generate_series(1, 12000) i;
CREATE TABLE gen_journey AS
SELECT opp,
	   attrib.with_context(attrib.journey_agg(touch_id, occurred_at, channel), 'won',
		   created_at => '2024-01-20 00:00+00', closed_at => '2024-03-01 00:00+00',
		   lead_created_at => '2024-01-10 00:00+00') AS j,
	   (ARRAY[0.01, 0.03, 99999999999.99, 1.00, 12345.67, 0.07, -19.99])[1 + (substr(opp, 2)::int % 7)]::numeric(14,2) AS amount
FROM gen_touch GROUP BY opp;

SELECT count(*) AS journeys, sum(attrib.journey_length(j)) AS touches FROM gen_journey;

WITH c AS (
	SELECT g.opp, m.name, g.amount, sum(c.credit) AS credited, min(c.weight) AS min_weight,
		   max(scale(c.credit)) AS max_scale
	FROM gen_journey g, attrib.models() m,
		 attrib.credits(g.j, m.name, g.amount,
			CASE m.name WHEN 'custom' THEN '{"weights": {"FT": 0.1, "LC": 0.2, "OC": 0.3, "LT": 0.15, "middle": 0.25}}'::jsonb
						WHEN 'time_decay' THEN '{"half_life": 3}'::jsonb ELSE '{}' END) c
	WHERE m.additive
	GROUP BY g.opp, m.name, g.amount)
SELECT name, count(*) AS journeys,
	   count(*) FILTER (WHERE credited <> amount) AS inexact,
	   count(*) FILTER (WHERE min_weight < 0) AS negative,
	   max(max_scale) AS scale
FROM c GROUP BY name ORDER BY name;

-- influence credits every touch the full amount
SELECT count(*) FILTER (WHERE c.credit <> g.amount) AS not_full
FROM gen_journey g, attrib.credits(g.j, 'influence', g.amount) c;

-- SPEC §4: remainder ties go to the earlier touch, also when the shares are not
-- binary fractions (0.4 : 0.2/3 is not an exact ratio in floating point).
-- Five touches, 20 619.99 = 2 061 999 cents.
-- position_based: t1, t5 get 0.4 × 2 061 999 = 824 799.6 cents, t2..t4 get
-- 0.2/3 × 2 061 999 = 137 466.6; the floors sum to 2 061 996, so the 3 leftover
-- cents go to the earliest three of five equal .6 remainders: t1, t2, t3
--   → 8248.00, 1374.67, 1374.67, 1374.66, 8247.99.
-- inverse_j: 0.6 → 1 237 199.4 (t1), 137 466.6 (t2..t4), 0.2 → 412 399.8 (t5);
-- the 3 cents go to t5 (.8), then t2 and t3 (.6, earlier first)
--   → 12371.99, 1374.67, 1374.67, 1374.66, 4124.00.
-- custom with the weights of position_based gives position_based's credits.
CREATE TABLE tie5 AS
SELECT attrib.journey_agg(id, at, ch) AS j
FROM (VALUES ('t1', timestamptz '2024-01-01 00:00+00', 'a'), ('t2', '2024-01-02 00:00+00', 'b'),
			 ('t3', '2024-01-03 00:00+00', 'c'), ('t4', '2024-01-04 00:00+00', 'd'),
			 ('t5', '2024-01-05 00:00+00', 'e')) v(id, at, ch);
SELECT m.model, array_agg(c.credit ORDER BY c.touch_index) AS credits,
	   sum(c.credit) AS total
FROM tie5,
	 (VALUES ('position_based', '{}'::jsonb), ('inverse_j', '{}'),
			 ('custom', '{"weights": {"FT": 0.4, "LT": 0.4, "middle": 0.2}}')) m(model, options),
	 attrib.credits(tie5.j, m.model, 20619.99, m.options) c
GROUP BY m.model ORDER BY m.model;

-- Credits are written as numeric values directly (credits.c, num_digits_of):
-- each must be byte for byte what numeric_in makes of its text (image equality,
-- *=, on a one-field row), at every scale 0..18, both signs, zero, values with
-- zero base-10000 digits inside, at the ends and around the decimal point, and
-- the largest int64 values.  The control row shows *= sees a changed dscale.
CREATE TYPE num_box AS (x numeric);
CREATE TYPE numeric_arr_box AS (x numeric[]);
CREATE TABLE num_cases AS
SELECT sc, round(v / power(10::numeric, sc), sc) AS amt
FROM generate_series(0, 18) sc,
	 unnest(ARRAY[0, 1, -1, 7, 10, 10000, 100000000, 123450000, 100010001, 999999999,
				  9223372036854775807, -9223372036854775807, 1000000000000000000,
				  4611686018427387904, 5000000000000000001,
				  -100000000000000000000]::numeric[]) v;	-- beyond int64: numeric_in's path
WITH c AS (
	SELECT n.sc, n.amt, w.k, s.i, s.x
	FROM num_cases n,
		 (VALUES (1, '{1}'::float8[]), (2, '{1,1,1}'), (3, '{0.7,0.2,0.1,1e-12}')) w(k, w),
		 unnest(attrib.split_amount(n.amt, w.w, n.sc)) WITH ORDINALITY s(x, i)
)
SELECT count(*) AS credits, count(DISTINCT sc) AS scales,
	   count(*) FILTER (WHERE x = 0) > 0 AND count(*) FILTER (WHERE x < 0) > 0 AS both_signs_and_zero,
	   count(*) FILTER (WHERE NOT (ROW(x)::num_box *= ROW(x::text::numeric)::num_box)) AS image_differs,
	   count(*) FILTER (WHERE scale(x) <> sc) AS wrong_scale,
	   -- the values, independently: one weight gets the amount (same text), and
	   -- three equal weights get amt / 3 rounded down in minor units, plus one
	   -- unit for the first touches while the remainder lasts (compared in minor
	   -- units: multiplying numerics is exact, dividing rounds)
	   count(*) FILTER (WHERE k = 1 AND x::text <> amt::text) AS single_differs,
	   count(*) FILTER (WHERE k = 2 AND x * power(10::numeric, sc) <> sign(amt) * (trunc(abs(amt) * power(10::numeric, sc) / 3)
			+ CASE WHEN i <= mod(abs(amt) * power(10::numeric, sc), 3) THEN 1 ELSE 0 END))
		   AS thirds_differ,
	   count(*) FILTER (WHERE NOT (ROW(x)::num_box *= ROW(round(x, sc + 1))::num_box)) = count(*)
		   AS control_differs_everywhere
FROM c;
-- and the credit arrays refresh stores (built in place): identical to arrays of
-- numeric_in's values, with both credits of every row summing to the amounts
SELECT count(*) AS rows, count(DISTINCT n.sc) AS scales,
	   count(*) FILTER (WHERE NOT (ROW(k.credit)::numeric_arr_box *= ROW(ARRAY(SELECT x::text::numeric FROM unnest(k.credit) x))::numeric_arr_box)) AS credit_differs,
	   count(*) FILTER (WHERE NOT (ROW(k.credit_reporting)::numeric_arr_box *= ROW(ARRAY(SELECT x::text::numeric FROM unnest(k.credit_reporting) x))::numeric_arr_box)) AS reporting_differs,
	   count(*) FILTER (WHERE (SELECT sum(x) FROM unnest(k.credit) x) <> n.amt
						   OR (SELECT sum(x) FROM unnest(k.credit_reporting) x) <> -n.amt) AS sums_differ
FROM num_cases n, tie5,
	 attrib.credit_arrays(tie5.j, '{lin,pb}', '{linear,position_based}', '{"{}","{}"}',
						  n.amt, n.sc, -n.amt, n.sc) k;
