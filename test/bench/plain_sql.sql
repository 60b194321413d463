-- test/bench/plain_sql.sql — the rule-based models in plain SQL, without attrib.
--
-- What a competent analyst writes when the CRM lives in PostgreSQL and there is
-- no attribution engine: touches joined to opportunities within the window,
-- window functions over each journey for the milestones, per-touch weights by
-- SPEC §3 for every rule-based model (custom excluded), and money by SPEC §4:
-- largest remainder to the minor unit, remainder ties to the earlier touch.
-- It reads only the CRM tables (attrib.opportunities, touches, contacts,
-- channels) and the settings row; no attrib function is called.
--
--   psql -X -f test/bench/plain_sql.sql       creates the view bench.plain_credits
--   SELECT sum(credit), count(*) FROM bench.plain_credits;
--
-- One row per (opportunity, model, touch in the window), like attrib.credits():
-- account_id, opportunity_id, model, touch_index, touch_id, weight, credit.
--
-- Same journeys as attrib.refresh() with contact_scope 'account': every touch
-- of the account from created_at - lookback (the interval's epoch seconds, as
-- refresh converts it) to closed_at, or to the settings' as_of while open;
-- LC from the earliest lead_created_at of the account's contacts.
--
-- How the work is laid out (each level keeps the sort of the level below, so
-- there is one sort per journey and one per (journey, model) for the money):
--   1. one sort by (opportunity, occurred_at, touch_id): position i, length n,
--      the LC / OC holders as "touches at or before the milestone" counts, the
--      first / last non-direct touch from running counts, the journey's end;
--   2. time decay 2^(-age / 7 days), ages relative to the youngest touch (the
--      normalized weights are the same and nothing underflows), normalized by
--      the journey's sum, summed in journey order;
--   3. single-touch models, linear and influence need no remainder ranking:
--      their credits are closed forms; positional models and time decay are
--      split with exact integer numerators over one denominator per journey,
--      floor + largest remainder ranked by a window.
--
-- Positional weights are exact rationals: shares in thousandths; with np
-- present positions, nm middle touches (counted touches holding no position)
-- and A the absent shares (plus the middle share when nm = 0), a touch gets
--   (sum over its positions of (share * np + A)) * max(nm, 1)  [+ middle * np if middle]
-- out of 1000 * np * max(nm, 1).  Time-decay weights are float8 (the model is
-- irrational); each double is converted to its exact decimal value (float8send
-- bits: mantissa * 5^k * 10^-k) so the split is exact for the doubles computed.

CREATE SCHEMA IF NOT EXISTS bench;

CREATE OR REPLACE VIEW bench.plain_credits AS
WITH settings AS (
	SELECT coalesce(s.as_of, now()) AS as_of, s.lookback, s.direct_channels
	FROM attrib.effective_settings s
),
direct AS (			-- compared case-insensitively
	SELECT lower(d) AS channel FROM settings, unnest(settings.direct_channels) d
	UNION
	SELECT lower(c.channel) FROM attrib.channels c WHERE c.is_direct
),
lead AS (
	SELECT c.account_id, min(c.lead_created_at) AS lead_created_at
	FROM attrib.contacts c GROUP BY c.account_id
),
opp AS (
	SELECT o.account_id, o.opportunity_id, o.created_at,
		   o.closed_at IS NULL OR o.is_won AS has_cw,		-- won, or open (CW pending)
		   o.created_at - date_part('epoch', s.lookback) * interval '1 second' AS window_start,
		   coalesce(o.closed_at, s.as_of) AS window_end,
		   l.lead_created_at,
		   m.minor,
		   round(o.amount, m.minor) AS amount,
		   trunc(round(o.amount, m.minor) * 10::numeric ^ m.minor) AS units	-- minor units
	FROM attrib.opportunities o
	CROSS JOIN settings s
	LEFT JOIN lead l ON l.account_id = o.account_id
	CROSS JOIN LATERAL (SELECT CASE
		WHEN o.currency IN ('BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG',
							'RWF', 'UGX', 'UYI', 'VND', 'VUV', 'XAF', 'XOF', 'XPF') THEN 0
		WHEN o.currency IN ('BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND') THEN 3
		WHEN o.currency IN ('CLF', 'UYW') THEN 4
		ELSE 2 END AS minor) m
),
jt AS (
	SELECT o.*, t.touch_id, t.occurred_at,
		   lower(t.channel) NOT IN (SELECT d.channel FROM direct d) AS non_direct
	FROM opp o
	JOIN attrib.touches t ON t.account_id = o.account_id
	WHERE t.occurred_at <= o.window_end
	  AND (o.window_start IS NULL OR t.occurred_at >= o.window_start)
),
-- 1. positions and milestones
l1 AS (
	SELECT jt.*,
		   row_number() OVER run AS i,
		   count(*) OVER whole AS n,
		   count(*) FILTER (WHERE jt.occurred_at <= jt.lead_created_at) OVER whole AS lc,	-- 0: absent
		   count(*) FILTER (WHERE jt.occurred_at <= jt.created_at) OVER whole AS oc,
		   count(*) FILTER (WHERE jt.non_direct) OVER run AS nd_seen,
		   count(*) FILTER (WHERE jt.non_direct) OVER whole AS nd_total,
		   max(jt.occurred_at) OVER whole AS last_at
	FROM jt
	WINDOW ord AS (PARTITION BY jt.account_id, jt.opportunity_id
				   ORDER BY jt.occurred_at, jt.touch_id COLLATE "C"),
		   run AS (ord ROWS UNBOUNDED PRECEDING),
		   whole AS (ord ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
),
-- 2. time decay (half-life 7 days = 604800000000 us), summed in journey order
l2 AS (
	SELECT l1.*, td.pw,
		   sum(td.pw) OVER (PARTITION BY l1.account_id, l1.opportunity_id
							ORDER BY l1.occurred_at, l1.touch_id COLLATE "C"
							ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS pw_sum
	FROM l1
	CROSS JOIN LATERAL (SELECT power(2::float8,
		-(((extract(epoch FROM l1.last_at) - extract(epoch FROM l1.occurred_at)) * 1000000)::float8
		  / 604800000000::float8)) AS pw) td
),
l3 AS (
	SELECT l2.*, w.td_w,
		   -- the exact decimal value of the double td_w: mantissa * 2^-k = mantissa * 5^k * 10^-k
		   (trunc(((w.bits & 4503599627370495) + CASE WHEN w.ex > 0 THEN 4503599627370496 ELSE 0 END)::numeric
				  * 5::numeric ^ (1075 - greatest(w.ex, 1)))::text
			|| 'e-' || (1075 - greatest(w.ex, 1)))::numeric AS td_exact
	FROM l2
	CROSS JOIN LATERAL (SELECT l2.pw / l2.pw_sum AS td_w OFFSET 0) w0
	CROSS JOIN LATERAL (SELECT w0.td_w, b.bits, (b.bits >> 52) & 2047 AS ex
		FROM (SELECT ('x' || encode(float8send(w0.td_w), 'hex'))::bit(64)::int8 AS bits) b) w
),
base AS MATERIALIZED (		-- one row per touch, only what the models need
	SELECT l3.account_id, l3.opportunity_id, l3.touch_id, l3.i, l3.n, l3.lc, l3.oc,
		   l3.non_direct, l3.nd_seen, l3.nd_total, l3.minor, l3.amount, l3.units,
		   l3.td_w, l3.td_exact, pb.*, pu.*, pw.*, pf.*,
		   sum(l3.td_exact) OVER (PARTITION BY l3.account_id, l3.opportunity_id) AS td_exact_sum
	FROM l3
	-- per journey, for each positional model: present positions np, middle
	-- touches nm and the absent shares a (thousandths) spread over the present
	CROSS JOIN LATERAL (SELECT greatest(l3.n - 2, 0) AS b_nm) pb		-- index-positional: FT, LT
	CROSS JOIN LATERAL (SELECT u.*, CASE WHEN u.u_lc THEN 0 ELSE 400 END
									+ CASE WHEN u.u_nm = 0 THEN 200 ELSE 0 END AS u_a
		FROM (SELECT c.u_c, c.u_lc, 1 + c.u_lc::int AS u_np,
					 c.u_c - 1 - (c.u_lc AND l3.lc <> 1)::int AS u_nm
			  FROM (SELECT CASE WHEN l3.lc > 0 THEN l3.lc ELSE l3.n END AS u_c, l3.lc > 0 AS u_lc) c) u) pu
	CROSS JOIN LATERAL (SELECT w.*, CASE WHEN w.w_lc THEN 0 ELSE 300 END + CASE WHEN w.w_oc THEN 0 ELSE 300 END
									+ CASE WHEN w.w_nm = 0 THEN 100 ELSE 0 END AS w_a
		FROM (SELECT c.w_c, c.w_lc, c.w_oc, 1 + c.w_lc::int + c.w_oc::int AS w_np,
					 c.w_c - 1 - (c.w_lc AND l3.lc <> 1)::int
					 - (c.w_oc AND l3.oc <> 1 AND NOT (c.w_lc AND l3.lc = l3.oc))::int AS w_nm
			  FROM (SELECT x.w_c, l3.lc > 0 AND l3.lc <= x.w_c AS w_lc, l3.oc > 0 AS w_oc
					FROM (SELECT CASE WHEN l3.oc > 0 THEN l3.oc ELSE l3.n END AS w_c) x) c) w) pw
	CROSS JOIN LATERAL (SELECT f.*, CASE WHEN f.f_lc THEN 0 ELSE 225 END + CASE WHEN f.f_oc THEN 0 ELSE 225 END
									+ CASE WHEN f.f_cw THEN 0 ELSE 225 END
									+ CASE WHEN f.f_nm = 0 THEN 100 ELSE 0 END AS f_a
		FROM (SELECT c.f_lc, c.f_oc, c.f_cw, 1 + c.f_lc::int + c.f_oc::int + c.f_cw::int AS f_np,
					 l3.n - 1 - (c.f_lc AND l3.lc <> 1)::int
					 - (c.f_oc AND l3.oc <> 1 AND NOT (c.f_lc AND l3.lc = l3.oc))::int
					 - (c.f_cw AND l3.n <> 1 AND NOT (c.f_lc AND l3.lc = l3.n)
						AND NOT (c.f_oc AND l3.oc = l3.n))::int AS f_nm
			  FROM (SELECT l3.lc > 0 AS f_lc, l3.oc > 0 AS f_oc, l3.has_cw AS f_cw) c) f) pf
),
-- 3a. closed forms: single-touch models, linear, influence
closed AS (
	SELECT b.account_id, b.opportunity_id, m.model, b.i AS touch_index, b.touch_id,
		   CASE m.model WHEN 'linear' THEN 1.0 / b.n
						WHEN 'influence' THEN 1.0
						ELSE pk.picked::int END::float8 AS weight,
		   CASE m.model
				WHEN 'linear' THEN round(sign(b.units)
					* (div(abs(b.units), b.n) + CASE WHEN b.i <= mod(abs(b.units), b.n) THEN 1 ELSE 0 END)
					/ 10::numeric ^ b.minor, b.minor)
				WHEN 'influence' THEN b.amount
				ELSE CASE WHEN pk.picked THEN b.amount ELSE 0 END END AS credit
	FROM base b
	CROSS JOIN (VALUES ('first_touch'), ('last_touch'), ('lead_creation'), ('opportunity_creation'),
					   ('last_non_direct'), ('first_non_direct'), ('linear'), ('influence')) m(model)
	CROSS JOIN LATERAL (SELECT CASE m.model
		WHEN 'first_touch' THEN b.i = 1
		WHEN 'last_touch' THEN b.i = b.n
		WHEN 'lead_creation' THEN b.i = CASE WHEN b.lc > 0 THEN b.lc ELSE 1 END
		WHEN 'opportunity_creation' THEN b.i = CASE WHEN b.oc > 0 THEN b.oc ELSE 1 END
		WHEN 'last_non_direct' THEN CASE WHEN b.nd_total > 0 THEN b.non_direct AND b.nd_seen = b.nd_total
										 ELSE b.i = b.n END
		WHEN 'first_non_direct' THEN CASE WHEN b.nd_total > 0 THEN b.non_direct AND b.nd_seen = 1
										  ELSE b.i = 1 END END AS picked) pk
),
-- 3b. positional models (SPEC §3 shared rules) and time decay as numerator /
-- denominator: a touch gets (sum over the positions it holds of
-- (share * np + a)) * max(nm, 1), plus middle * np when it holds none, out of
-- 1000 * np * max(nm, 1); touches past the cut get 0
shares AS (
	SELECT b.account_id, b.opportunity_id, m.model, b.i, b.touch_id, b.units, b.minor,
		   CASE m.model
			WHEN 'time_decay' THEN b.td_exact
			WHEN 'position_based' THEN
				CASE WHEN b.i = 1 OR b.i = b.n
					 THEN ((b.i = 1)::int * (800 + (b.b_nm = 0)::int * 200)
						   + (b.i = b.n)::int * (800 + (b.b_nm = 0)::int * 200)) * greatest(b.b_nm, 1)
					 ELSE 400 END
			WHEN 'j_shaped' THEN
				CASE WHEN b.i = 1 OR b.i = b.n
					 THEN ((b.i = 1)::int * (400 + (b.b_nm = 0)::int * 200)
						   + (b.i = b.n)::int * (1200 + (b.b_nm = 0)::int * 200)) * greatest(b.b_nm, 1)
					 ELSE 400 END
			WHEN 'inverse_j' THEN
				CASE WHEN b.i = 1 OR b.i = b.n
					 THEN ((b.i = 1)::int * (1200 + (b.b_nm = 0)::int * 200)
						   + (b.i = b.n)::int * (400 + (b.b_nm = 0)::int * 200)) * greatest(b.b_nm, 1)
					 ELSE 400 END
			WHEN 'u_shaped' THEN
				CASE WHEN b.i > b.u_c THEN 0
					 WHEN b.i = 1 OR (b.u_lc AND b.i = b.lc)
					 THEN ((b.i = 1)::int + (b.u_lc AND b.i = b.lc)::int) * (400 * b.u_np + b.u_a) * greatest(b.u_nm, 1)
					 ELSE 200 * b.u_np END
			WHEN 'w_shaped' THEN
				CASE WHEN b.i > b.w_c THEN 0
					 WHEN b.i = 1 OR (b.w_lc AND b.i = b.lc) OR (b.w_oc AND b.i = b.oc)
					 THEN ((b.i = 1)::int + (b.w_lc AND b.i = b.lc)::int + (b.w_oc AND b.i = b.oc)::int)
						  * (300 * b.w_np + b.w_a) * greatest(b.w_nm, 1)
					 ELSE 100 * b.w_np END
			WHEN 'full_path' THEN
				CASE WHEN b.i = 1 OR (b.f_lc AND b.i = b.lc) OR (b.f_oc AND b.i = b.oc) OR (b.f_cw AND b.i = b.n)
					 THEN ((b.i = 1)::int + (b.f_lc AND b.i = b.lc)::int + (b.f_oc AND b.i = b.oc)::int
						   + (b.f_cw AND b.i = b.n)::int) * (225 * b.f_np + b.f_a) * greatest(b.f_nm, 1)
					 ELSE 100 * b.f_np END
		   END::numeric AS num,
		   CASE m.model
			WHEN 'time_decay' THEN b.td_exact_sum
			WHEN 'u_shaped' THEN 1000 * b.u_np * greatest(b.u_nm, 1)
			WHEN 'w_shaped' THEN 1000 * b.w_np * greatest(b.w_nm, 1)
			WHEN 'full_path' THEN 1000 * b.f_np * greatest(b.f_nm, 1)
			ELSE 2000 * greatest(b.b_nm, 1) END::numeric AS den,
		   CASE WHEN m.model = 'time_decay' THEN b.td_w END AS td_w
	FROM base b
	CROSS JOIN (VALUES ('position_based'), ('j_shaped'), ('inverse_j'), ('u_shaped'), ('w_shaped'),
					   ('full_path'), ('time_decay')) m(model)
),
parts AS (
	SELECT s.account_id, s.opportunity_id, s.model, s.i, s.touch_id, s.units, s.minor,
		   coalesce(s.td_w, (s.num / s.den)::float8) AS weight,
		   div(abs(s.units) * s.num, s.den) AS fl, mod(abs(s.units) * s.num, s.den) AS rem
	FROM shares s
	OFFSET 0		-- computed once per row, not once per use
),
split AS (
	SELECT p.account_id, p.opportunity_id, p.model, p.i AS touch_index, p.touch_id, p.weight,
		   round(sign(p.units) * (p.fl + CASE WHEN row_number() OVER w
					<= abs(p.units) - sum(p.fl) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
				THEN 1 ELSE 0 END) / 10::numeric ^ p.minor, p.minor) AS credit
	FROM parts p
	WINDOW w AS (PARTITION BY p.account_id, p.opportunity_id, p.model ORDER BY p.rem DESC, p.i)
)
SELECT * FROM closed
UNION ALL
SELECT * FROM split;

COMMENT ON VIEW bench.plain_credits IS
'The rule-based models (no custom) in plain SQL without attrib: per opportunity, model and touch in the window, the weight and the credit (largest remainder to the minor unit, ties to the earlier touch). See test/bench/plain_sql.sql.';
