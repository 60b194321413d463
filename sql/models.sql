-- models: every rule-based model of SPEC §3 on worked cases.
-- Every expected array below is worked out by hand in the comment above it.

-- J5: t1 paid_search 1 Jan, t2 email 2 Jan, t3 webinar 3 Jan, t4 email 4 Jan,
-- t5 direct 5 Jan; won; lead created 3 Jan (LC = t3), opportunity created
-- 4 Jan (OC = t4), closed 6 Jan (CW = t5).
CREATE TABLE j5 AS
SELECT attrib.with_context(attrib.journey_agg(touch_id, occurred_at, channel),
	status => 'won', created_at => '2024-01-04 00:00+00', closed_at => '2024-01-06 00:00+00',
	lead_created_at => '2024-01-03 00:00+00') AS j
FROM touch5;

-- the timeline with its milestones
SELECT touch_index, touch_id, channel, positions FROM attrib.touches((SELECT j FROM j5));

CREATE TABLE expected (model text, options jsonb, credits numeric[]);
INSERT INTO expected VALUES
	('first_touch', '{}', '{1000.00,0,0,0,0}'),
	('last_touch', '{}', '{0,0,0,0,1000.00}'),
	('lead_creation', '{}', '{0,0,1000.00,0,0}'),
	('opportunity_creation', '{}', '{0,0,0,1000.00,0}'),
	-- t5 is direct: the last non-direct touch is t4
	('last_non_direct', '{}', '{0,0,0,1000.00,0}'),
	('first_non_direct', '{}', '{1000.00,0,0,0,0}'),
	('linear', '{}', '{200.00,200.00,200.00,200.00,200.00}'),
	-- 400 | 200/3 = 66.666.. three times: 66.66 each + 2 cents to the earliest | 400
	('position_based', '{}', '{400.00,66.67,66.67,66.66,400.00}'),
	('j_shaped', '{}', '{200.00,66.67,66.67,66.66,600.00}'),
	('inverse_j', '{}', '{600.00,66.67,66.67,66.66,200.00}'),
	-- U: touches up to LC (t3) count: FT 40%, middle t2 20%, LC 40%
	('u_shaped', '{}', '{400.00,200.00,400.00,0,0}'),
	-- W: touches up to OC (t4): FT 30%, middle t2 10%, LC 30%, OC 30%
	('w_shaped', '{}', '{300.00,100.00,300.00,300.00,0}'),
	-- full path: FT, LC, OC, CW 22.5% each, middle t2 10%
	('full_path', '{}', '{225.00,100.00,225.00,225.00,225.00}'),
	('custom', '{"weights": {"FT": 0.5, "CW": 0.5}}', '{500.00,0,0,0,500.00}'),
	-- a custom W variant: FT 20, LC 20, OC 50, middle 10 (touches t2 and t5 share it)
	('custom', '{"weights": {"FT": 0.2, "LC": 0.2, "OC": 0.5, "middle": 0.1}}',
		'{200.00,50.00,200.00,500.00,50.00}'),
	-- time decay, half-life 7 days, ages to close 5,4,3,2,1 days:
	-- 2^(-5/7) .. 2^(-1/7) normalized = .162470 .179381 .198053 .218668 .241429,
	-- i.e. 162.4698.. 179.3807.. 198.0526.. 218.6680.. 241.4289..: floors sum to
	-- 999.97, the 3 cents go to the largest remainders t1 (.98), t2 (.81), t5 (.89)
	('time_decay', '{}', '{162.47,179.38,198.05,218.67,241.43}'),
	-- half-life 1 day, not normalized: 1000 * 2^-5, 2^-4, 2^-3, 2^-2, 2^-1
	('time_decay', '{"half_life": 1, "normalize": false}', '{31.25,62.50,125.00,250.00,500.00}'),
	('influence', '{}', '{1000.00,1000.00,1000.00,1000.00,1000.00}'),
	-- without the emails: t1, t3, t5 share 1/3 each: 333.33 + 1 cent to t1
	('linear', '{"exclude_channels": ["email"]}', '{333.34,0,333.33,0,333.33}');

SELECT e.model, e.options::text,
	   array_agg(c.credit ORDER BY c.touch_index) AS credits,
	   array_agg(c.credit ORDER BY c.touch_index) = e.credits AS as_expected
FROM expected e, j5, attrib.credits(j5.j, e.model, 1000.00::numeric(12,2), e.options) c
GROUP BY e.model, e.options, e.credits
ORDER BY e.model, e.options::text;

-- weights of additive models sum to 1, influence weights are all 1
SELECT m.name, m.additive,
	   round(sum(c.weight)::numeric, 12) AS weight_sum
FROM attrib.models() m, j5,
	 attrib.credits(j5.j, m.name, 1000,
		CASE m.name WHEN 'custom' THEN '{"weights": {"FT": 1}}'::jsonb ELSE '{}' END) c
GROUP BY m.name, m.additive ORDER BY m.name;

-- the positions credits reports are those of the prepared journey
SELECT touch_id, positions, weight, credit
FROM j5, attrib.credits(j5.j, 'w_shaped', 1000.00::numeric(12,2));

-- one touch always gets 100%
SELECT m.name, array_agg(c.credit) AS credits
FROM attrib.models() m,
	 attrib.credits('{"touches":[["a","2024-01-01T00:00:00Z","x"]]}', m.name, 10.00,
		CASE m.name WHEN 'custom' THEN '{"weights": {"LC": 0.5, "OC": 0.5}}'::jsonb ELSE '{}' END) c
GROUP BY m.name ORDER BY m.name;

-- two touches: position_based and u_shaped (lead at the second touch) split 50/50
SELECT c.touch_id, c.credit
FROM attrib.credits(attrib.with_context(
	'{"touches":[["a","2024-01-01T00:00:00Z","x"],["b","2024-01-02T00:00:00Z","y"]]}',
	'won', lead_created_at => '2024-01-02T00:00:00Z'), 'u_shaped', 10.00) c;
SELECT c.touch_id, c.credit
FROM attrib.credits('{"touches":[["a","2024-01-01T00:00:00Z","x"],["b","2024-01-02T00:00:00Z","y"]]}',
	'position_based', 10.00) c;

-- W-shaped with {FT+LC}, {OC}: 66.67% / 33.33%  (SPEC §3 rule 3)
SELECT c.touch_id, c.positions, round(c.weight::numeric, 6) AS weight, c.credit
FROM attrib.credits(attrib.with_context(
	'{"touches":[["a","2024-01-01T00:00:00Z","x"],["b","2024-01-03T00:00:00Z","y"]]}',
	'won', created_at => '2024-01-03T00:00:00Z', lead_created_at => '2024-01-01T00:00:00Z',
	closed_at => '2024-01-05T00:00:00Z'), 'w_shaped', 100.00) c;

-- absent LC (lead created before the first touch): U-shaped counts every touch,
-- FT takes LC's 40%: 80 | 5 | 5 | 5 | 5
SELECT array_agg(c.credit ORDER BY c.touch_index) AS u_shaped_absent_lc
FROM attrib.credits((SELECT attrib.with_context(attrib.journey_agg(touch_id, occurred_at, channel),
	'won', lead_created_at => '2023-12-01 00:00+00') FROM touch5), 'u_shaped', 100.00) c;

-- open opportunity: CW is pending on the latest touch c.  a holds FT+LC (45%),
-- b OC (22.5%), c CW (22.5%); no middle touch, so its 10% spreads 2.5% over each
-- of the 4 present positions: a 50% = 45.00, b 25% = 22.50, c 25% = 22.50 of 90
SELECT c.touch_id, c.positions, c.credit
FROM attrib.credits(attrib.with_context(
	'{"touches":[["a","2024-01-01T00:00:00Z","x"],["b","2024-01-02T00:00:00Z","y"],["c","2024-01-03T00:00:00Z","z"]]}',
	'open', created_at => '2024-01-02T00:00:00Z', lead_created_at => '2024-01-01T00:00:00Z',
	as_of => '2024-01-03T00:00:00Z'), 'full_path', 90.00) c;

-- all-direct journey: last_non_direct falls back to the last touch
SELECT c.touch_id, c.credit
FROM attrib.credits('{"touches":[["a","2024-01-01T00:00:00Z","Direct"],["b","2024-01-02T00:00:00Z","direct"]]}',
	'last_non_direct', 10.00) c;

-- ties in occurred_at are broken by touch_id bytewise: "t10" < "t9"
SELECT c.touch_index, c.touch_id, c.credit
FROM attrib.credits('{"touches":[["t9","2024-01-01T00:00:00Z","x"],["t10","2024-01-01T00:00:00Z","y"]]}',
	'first_touch', 10.00) c;

-- the window: touches before created_at - lookback and after close never count
SELECT array_agg(touch_id ORDER BY touch_index) AS in_window
FROM attrib.touches(attrib.with_context(
	'{"touches":[["old","2023-01-01T00:00:00Z","x"],["in","2024-01-02T00:00:00Z","y"],["late","2024-02-01T00:00:00Z","z"]]}',
	'won', created_at => '2024-01-10T00:00:00Z', closed_at => '2024-01-20T00:00:00Z',
	lookback => '90 days'));

-- stage milestones for the custom model: MQL at noon 1 Jan -> a; SQL 3 Jan -> c;
-- LT c: a 25, b 0 (no middle weight), c 50 + 25 = 75
SELECT c.touch_id, c.positions, c.credit
FROM attrib.credits(attrib.with_context(
	'{"touches":[["a","2024-01-01T00:00:00Z","x"],["b","2024-01-02T00:00:00Z","y"],["c","2024-01-03T00:00:00Z","z"]]}',
	'won', closed_at => '2024-01-04T00:00:00Z',
	stage_names => '{MQL,SQL}', stage_times => '{2024-01-01 12:00+00,2024-01-03 00:00+00}'),
	'custom', 100.00, '{"weights": {"stage:MQL": 0.25, "stage:SQL": 0.5, "LT": 0.25}}') c;

-- the model catalog
SELECT name, family, additive, options FROM attrib.models();
