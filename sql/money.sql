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
