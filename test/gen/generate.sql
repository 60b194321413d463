-- test/gen/generate.sql — a deterministic B2B CRM for attrib's demo, tests and
-- benchmarks.  Not part of the extension.
--
--   psql -X -v scale=1 -f test/gen/generate.sql        (after CREATE EXTENSION attrib)
--
-- scale 1 is about 200 accounts and 10^4 touches; touches grow linearly (scale
-- 1000: about 200 000 accounts and 10^7 touches).  It EMPTIES attrib's CRM
-- tables (and the stored journeys and credits) and fills them again with
-- set-based INSERT ... SELECT statements, no row-by-row loops.
--
-- Deterministic: every "random" choice is a hash of a row's numeric key and a
-- salt (hashint8extended), never random(), so the same scale gives the same
-- rows on every run, whatever the plan or the parallelism.  All times are
-- whole minutes in 2023-01-01 .. 2025-06-30 (UTC); the settings' as_of is set
-- to 2025-07-01 so open pipeline does not depend on the day the demo runs.
--
-- The story the data tells:
--   * 12 channels (paid_search ... demo; direct is_direct), campaigns per paid
--     or owned channel, each live for one slice of the time range, with costs;
--   * accounts in three segments (SMB, Mid-Market, Enterprise) and eight
--     industries, some billing in EUR or GBP (monthly exchange_rates rows);
--   * each account has a buying committee of 2..10 contacts, most with a lead
--     date (a few imported before any touch: lead before first touch);
--   * an account is active in 1..3 episodes separated by silences of more
--     than 60 days (it goes cold, then comes back); some go cold at the end;
--   * in an episode an opportunity may be created (sometimes a second one,
--     an expansion); it closes won or lost after a segment-sized cycle, or is
--     still open on 2025-07-01; it passes Discovery, Demo, Proposal,
--     Negotiation and ends in Closed Won / Closed Lost; contacts pass MQL, SAL,
--     SQL; each opportunity has contact roles with exactly one primary;
--   * touches per account are heavy-tailed (a few accounts have hundreds);
--     the channel mix depends on the account's persona (inbound, paid, events,
--     outbound) and turns to sales calls, sales emails and demos once an
--     opportunity is open; sales touches have an owner; some touches are
--     account-level (contact_id NULL); win rates differ by persona, so
--     data-driven models have something to find.

\if :{?scale}
\else
\set scale 1
\endif

SET client_min_messages = warning;
SELECT r.rolsuper AS g_superuser FROM pg_catalog.pg_roles r WHERE r.rolname = current_user \gset
BEGIN;
-- compiling expressions costs more than it saves at small scales
SET LOCAL jit = off;
\if :g_superuser
-- A superuser loads without firing the foreign-key triggers (half the time at
-- large scales); every foreign key is then checked set-based before COMMIT.
-- Keys and CHECK constraints are enforced as always.
SET LOCAL session_replication_role = replica;
\endif

TRUNCATE attrib.journey_cache, attrib.touches, attrib.stage_events,
	attrib.opportunity_contact_roles, attrib.opportunities, attrib.contacts, attrib.accounts,
	attrib.campaigns, attrib.channels, attrib.exchange_rates;
-- the stored credits: credit_store (0.2.0), or the credit_cache table of 0.1.0
SELECT 'TRUNCATE ' || coalesce(pg_catalog.to_regclass('attrib.credit_store'), 'attrib.credit_cache'::regclass)
\gexec

-- u(key, salt): a uniform number in [0, 1) from the key and a salt
CREATE FUNCTION pg_temp.u(k pg_catalog.int8, salt pg_catalog.int4) RETURNS pg_catalog.float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (pg_catalog.hashint8extended(k, salt) & 4503599627370495)::pg_catalog.float8
			 / 4503599627370496::pg_catalog.float8 $$;

-- minutes from 2023-01-01 00:00 UTC; 1313280 is 2025-07-01 00:00 UTC (912 days)
CREATE TEMP TABLE g_param AS
SELECT greatest(1, pg_catalog.round(200 * (:scale)::numeric))::int AS n_acc,
	   greatest(2, pg_catalog.round(4 * pg_catalog.sqrt((:scale)::numeric)))::int AS n_camp,
	   least(96, greatest(4, pg_catalog.round(6 * pg_catalog.sqrt((:scale)::numeric))))::int AS n_reps,
	   (:scale)::numeric AS scale,
	   1313280::int8 AS end_min,
	   timestamptz '2023-01-01 00:00:00+00' AS base;

CREATE FUNCTION pg_temp.at(m pg_catalog.int8) RETURNS pg_catalog.timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT timestamptz '2023-01-01 00:00:00+00' + m * interval '1 minute' $$;

CREATE FUNCTION pg_temp.rep(r pg_catalog.int4) RETURNS pg_catalog.text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (ARRAY['Dana', 'Luis', 'Priya', 'Tom', 'Mei', 'Jonas', 'Aisha', 'Ravi', 'Sofia',
					'Ken', 'Olga', 'Marc'])[1 + r % 12]
			 || ' ' || (ARRAY['Kim', 'Ortega', 'Shah', 'Becker', 'Chen', 'Novak', 'Diallo', 'Rossi'])[1 + (r / 12) % 8] $$;

-- ---------------------------------------------------------------------------
-- Channels, campaigns, exchange rates
-- ---------------------------------------------------------------------------

CREATE TEMP TABLE g_chan (idx int PRIMARY KEY, channel text, channel_group text, is_direct bool,
						  activities text[], spend numeric, account_level float8);
INSERT INTO g_chan VALUES
	(1, 'paid_search', 'paid', false, '{ad_click,ad_click,web_visit}', 60000, 0),
	(2, 'paid_social', 'paid', false, '{ad_click,ad_view,web_visit}', 40000, 0.3),
	(3, 'organic_search', 'organic', false, '{web_visit,web_visit,form_fill}', NULL, 0.3),
	(4, 'email', 'owned', false, '{email_open,email_open,email_click}', 8000, 0),
	(5, 'webinar', 'owned', false, '{form_fill,event}', 25000, 0),
	(6, 'event', 'events', false, '{event,event,meeting}', 90000, 0),
	(7, 'display', 'paid', false, '{ad_view,ad_view,ad_click}', 30000, 0.5),
	(8, 'referral', 'organic', false, '{web_visit,form_fill}', 10000, 0),
	(9, 'direct', 'direct', true, '{web_visit,web_visit,form_fill}', NULL, 0.3),
	(10, 'sales_call', 'sales', false, '{call}', NULL, 0),
	(11, 'sales_email', 'sales', false, '{email}', NULL, 0),
	(12, 'demo', 'sales', false, '{demo,meeting}', NULL, 0);

INSERT INTO attrib.channels (channel, channel_group, is_direct)
SELECT channel, channel_group, is_direct FROM g_chan ORDER BY idx;

-- each campaign channel runs n_camp campaigns, one after the other
INSERT INTO attrib.campaigns (campaign_id, name, channel, cost, currency, started_at)
SELECT 'cmp_' || c.channel || '_' || pg_catalog.lpad((k + 1)::text, 3, '0'),
	   pg_catalog.initcap(pg_catalog.replace(c.channel, '_', ' ')) || ' '
		   || pg_catalog.to_char(pg_temp.at(k * p.end_min / p.n_camp) AT TIME ZONE 'UTC', 'YYYY-MM'),
	   c.channel,
	   CASE WHEN pg_temp.u(c.idx * 100000 + k, 1) < 0.08 THEN NULL
			ELSE pg_catalog.round(c.spend * p.scale / p.n_camp * (0.5 + pg_temp.u(c.idx * 100000 + k, 2))::numeric, -2) END,
	   'USD',
	   pg_temp.at(k * p.end_min / p.n_camp)
FROM g_chan c CROSS JOIN g_param p CROSS JOIN LATERAL pg_catalog.generate_series(0, p.n_camp - 1) k
WHERE c.spend IS NOT NULL;

-- monthly rates into USD, December 2022 .. July 2025
INSERT INTO attrib.exchange_rates (currency, valid_from, rate)
SELECT cur, pg_catalog.make_date(2022 + (11 + m) / 12, (11 + m) % 12 + 1, 1),
	   pg_catalog.round((lo + span * pg_temp.u(m, salt))::numeric, 4)
FROM pg_catalog.generate_series(0, 31) m
CROSS JOIN (VALUES ('EUR', 1.05, 0.07, 101), ('GBP', 1.21, 0.08, 102)) r(cur, lo, span, salt);

-- ---------------------------------------------------------------------------
-- Accounts and their active episodes
-- ---------------------------------------------------------------------------

CREATE TEMP TABLE g_acc AS
SELECT i, 'A' || pg_catalog.lpad(i::text, 7, '0') AS account_id, seg, persona, cur, start_min,
	   least(e0, greatest(1, ((p.end_min - start_min) / (200 * 1440))::int)) AS n_ep,
	   0.32 + 0.2 * pg_temp.u(i, 9) AS gap_frac,
	   pg_temp.u(i, 10) < 0.2 AS churned,
	   CASE seg WHEN 'SMB' THEN 2 + pg_catalog.floor(3 * pg_temp.u(i, 11))::int
			WHEN 'Mid-Market' THEN 3 + pg_catalog.floor(4 * pg_temp.u(i, 11))::int
			ELSE 5 + pg_catalog.floor(6 * pg_temp.u(i, 11))::int END AS n_c,
	   least(1500, greatest(3, pg_catalog.floor(
		   14 * CASE seg WHEN 'SMB' THEN 0.6 WHEN 'Mid-Market' THEN 1.0 ELSE 2.0 END
			  * (0.7 + 0.3 * e0)
			  / pg_catalog.power(pg_temp.u(i, 12) + 1e-9, 1 / 1.6))))::int AS n_t,
	   pg_catalog.floor(pg_temp.u(i, 5) * p.n_reps)::int AS owner_rep,
	   (ARRAY['Northwind', 'Contoso', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Vandelay', 'Stark',
			  'Wayne', 'Acme', 'Soylent', 'Tyrell', 'Cyberdyne', 'Wonka', 'Gringotts', 'Oscorp',
			  'Massive', 'Aperture', 'Black Mesa', 'Monarch'])[1 + pg_catalog.floor(pg_temp.u(i, 13) * 20)::int]
		   || ' ' || (ARRAY['Labs', 'Systems', 'Group', 'Analytics', 'Logistics', 'Health', 'Capital',
							'Foods', 'Energy', 'Robotics'])[1 + pg_catalog.floor(pg_temp.u(i, 14) * 10)::int]
		   AS name,
	   (ARRAY['Software', 'Manufacturing', 'Healthcare', 'Financial Services', 'Retail', 'Logistics',
			  'Education', 'Energy'])[1 + pg_catalog.floor(pg_temp.u(i, 2) * 8)::int] AS industry
FROM g_param p
CROSS JOIN LATERAL pg_catalog.generate_series(1, p.n_acc) i
CROSS JOIN LATERAL (SELECT
	CASE WHEN pg_temp.u(i, 1) < 0.5 THEN 'SMB' WHEN pg_temp.u(i, 1) < 0.85 THEN 'Mid-Market' ELSE 'Enterprise' END AS seg,
	pg_catalog.floor(pg_temp.u(i, 3) * 4)::int AS persona,
	CASE WHEN pg_temp.u(i, 4) < 0.15 THEN 'EUR' WHEN pg_temp.u(i, 4) < 0.23 THEN 'GBP' ELSE 'USD' END AS cur,
	pg_catalog.floor(pg_temp.u(i, 6) * 820)::int8 * 1440 + pg_catalog.floor(pg_temp.u(i, 7) * 1440)::int8 AS start_min,
	CASE WHEN pg_temp.u(i, 8) < 0.45 THEN 1 WHEN pg_temp.u(i, 8) < 0.8 THEN 2 ELSE 3 END AS e0) r;
ALTER TABLE g_acc ADD PRIMARY KEY (i);
ANALYZE g_acc;

INSERT INTO attrib.accounts (account_id, name, segment, industry, owner, created_at)
SELECT account_id, name, seg, industry, pg_temp.rep(owner_rep), pg_temp.at(start_min)
FROM g_acc ORDER BY i;

-- episode e of an account: [ep_start, ep_start + ep_len); silences between
-- episodes last gap_frac (>= 0.32) of a slot of >= 200 days: more than 60 days
CREATE TEMP TABLE g_ep AS
SELECT a.i, e, a.start_min + pg_catalog.floor(e * slot)::int8 AS ep_start,
	   CASE WHEN e = a.n_ep - 1 AND NOT a.churned
			THEN p.end_min - (a.start_min + pg_catalog.floor(e * slot)::int8)
			ELSE pg_catalog.floor(slot * (1 - a.gap_frac))::int8 END AS ep_len
FROM g_acc a CROSS JOIN g_param p
CROSS JOIN LATERAL (SELECT (p.end_min - a.start_min)::float8 / a.n_ep AS slot) s
CROSS JOIN LATERAL pg_catalog.generate_series(0, a.n_ep - 1) e;
ALTER TABLE g_ep ADD PRIMARY KEY (i, e);
ANALYZE g_ep;

-- ---------------------------------------------------------------------------
-- Opportunities: up to two per episode (new business, then an expansion)
-- ---------------------------------------------------------------------------

CREATE TEMP TABLE g_opp AS
WITH new_business AS (
	SELECT a.i, ep.e, 0 AS s, (a.i * 4 + ep.e) * 2 AS ok,
		   ep.ep_start + pg_catalog.floor(ep.ep_len * (0.3 + 0.4 * pg_temp.u(a.i * 4 + ep.e, 22)))::int8 AS created_min
	FROM g_acc a JOIN g_ep ep ON ep.i = a.i CROSS JOIN g_param p
	WHERE pg_temp.u(a.i * 4 + ep.e, 21)
		  < CASE a.seg WHEN 'SMB' THEN 0.5 WHEN 'Mid-Market' THEN 0.6 ELSE 0.7 END
			+ CASE WHEN ep.e > 0 THEN 0.1 ELSE 0 END
			+ CASE WHEN ep.ep_start + ep.ep_len = p.end_min THEN 0.15 ELSE 0 END
),
both_slots AS (
	SELECT * FROM new_business
	UNION ALL
	SELECT f.i, f.e, 1, f.ok + 1,
		   f.created_min + pg_catalog.floor((20 + 60 * pg_temp.u(f.ok, 23)) * 1440)::int8
	FROM new_business f JOIN g_acc a ON a.i = f.i
	WHERE a.seg <> 'SMB' AND pg_temp.u(f.ok, 24) < 0.25
),
sized AS (
	SELECT b.*, a.account_id, a.name AS account_name, a.seg, a.persona, a.cur, a.owner_rep, p.end_min,
		   pg_catalog.floor(1440 * CASE a.seg WHEN 'SMB' THEN 15 + 45 * pg_temp.u(b.ok, 31)
									   WHEN 'Mid-Market' THEN 30 + 90 * pg_temp.u(b.ok, 31)
									   ELSE 60 + 180 * pg_temp.u(b.ok, 31) END)::int8 AS cycle_min
	FROM both_slots b JOIN g_acc a ON a.i = b.i CROSS JOIN g_param p
	WHERE b.created_min <= p.end_min - 2 * 1440
),
fated AS (
	SELECT z.*,
		   CASE WHEN z.created_min + z.cycle_min >= z.end_min THEN 'open'
				WHEN pg_temp.u(z.ok, 32) < (ARRAY[0.35, 0.22, 0.45, 0.28])[z.persona + 1]
					 + CASE z.seg WHEN 'SMB' THEN 0.05 WHEN 'Enterprise' THEN -0.05 ELSE 0 END
					 + CASE WHEN z.s = 1 THEN 0.15 ELSE 0 END THEN 'won'
				ELSE 'lost' END AS status
	FROM sized z
)
SELECT f.*,
	   'O' || pg_catalog.lpad(f.i::text, 7, '0') || '-' || (f.e * 2 + f.s + 1) AS opportunity_id,
	   CASE WHEN f.status = 'open' THEN NULL ELSE f.created_min + f.cycle_min END AS closed_min,
	   CASE f.status WHEN 'won' THEN 4
					 WHEN 'lost' THEN 1 + pg_catalog.floor(4 * pg_temp.u(f.ok, 35))::int
					 ELSE least(4, 1 + ((f.end_min - 1 - f.created_min) * 4 / f.cycle_min)::int) END AS n_stages,
	   (pg_catalog.round((CASE f.seg WHEN 'SMB' THEN 5000 + 20000 * pg_temp.u(f.ok, 33)
									 WHEN 'Mid-Market' THEN 20000 + 60000 * pg_temp.u(f.ok, 33)
									 ELSE 80000 + 320000 * pg_temp.u(f.ok, 33) END
						  * CASE WHEN f.s = 1 THEN 0.4 ELSE 1 END / 10)::numeric) * 10
		- CASE WHEN pg_temp.u(f.ok, 34) < 0.15 THEN 0.01 ELSE 0 END)::numeric(12, 2) AS amount,
	   CASE WHEN pg_temp.u(f.ok, 36) < 0.85 THEN f.owner_rep
			ELSE pg_catalog.floor(pg_temp.u(f.ok, 37) * p.n_reps)::int END AS opp_rep
FROM fated f CROSS JOIN g_param p;
ALTER TABLE g_opp ADD PRIMARY KEY (i, e, s);
ANALYZE g_opp;

INSERT INTO attrib.opportunities (account_id, opportunity_id, name, amount, currency, created_at,
								  closed_at, is_won, stage, owner)
SELECT account_id, opportunity_id,
	   account_name || CASE s WHEN 0 THEN ' - New Business' ELSE ' - Expansion' END,
	   amount, cur, pg_temp.at(created_min), pg_temp.at(closed_min), status = 'won',
	   CASE status WHEN 'won' THEN 'Closed Won' WHEN 'lost' THEN 'Closed Lost'
				   ELSE (ARRAY['Discovery', 'Demo', 'Proposal', 'Negotiation'])[n_stages] END,
	   pg_temp.rep(opp_rep)
FROM g_opp ORDER BY i, e, s;

-- ---------------------------------------------------------------------------
-- Contacts (the buying committee) and contact roles
-- ---------------------------------------------------------------------------

CREATE TEMP TABLE g_contact AS
SELECT a.i, j, a.i * 16 + j AS ck,
	   'C' || pg_catalog.lpad(a.i::text, 7, '0') || '-' || pg_catalog.lpad(j::text, 2, '0') AS contact_id,
	   a.account_id, a.name AS account_name,
	   CASE WHEN pg_temp.u(a.i * 16 + j, 41) < 0.12 THEN NULL
			WHEN pg_temp.u(a.i * 16 + j, 41) < 0.20    -- imported before any touch
			THEN greatest(0, a.start_min - pg_catalog.floor((10 + 110 * pg_temp.u(a.i * 16 + j, 42)) * 1440)::int8)
			-- a lead of an episode with a deal: 5 to 90 days before the deal
			WHEN o.created_min IS NOT NULL
			THEN greatest(ep.ep_start, o.created_min - pg_catalog.floor((5 + 85 * pg_temp.u(a.i * 16 + j, 44)) * 1440)::int8)
			ELSE ep.ep_start + pg_catalog.floor(ep.ep_len * (0.05 + 0.4 * pg_temp.u(a.i * 16 + j, 44)))::int8
	   END AS lead_min
FROM g_acc a
CROSS JOIN LATERAL pg_catalog.generate_series(1, a.n_c) j
JOIN g_ep ep ON ep.i = a.i
			AND ep.e = least(a.n_ep - 1, pg_catalog.floor(pg_temp.u(a.i * 16 + j, 43) * a.n_ep)::int)
LEFT JOIN g_opp o ON o.i = ep.i AND o.e = ep.e AND o.s = 0;
ANALYZE g_contact;

INSERT INTO attrib.contacts (account_id, contact_id, email, title, lead_created_at)
SELECT c.account_id, c.contact_id,
	   pg_catalog.lower(f.fname || '.' || l.lname) || '@'
		   || pg_catalog.lower(pg_catalog.regexp_replace(c.account_name, '[^A-Za-z]', '', 'g')) || '.example',
	   (ARRAY['VP Marketing', 'Head of Growth', 'CFO', 'IT Director', 'Data Engineer', 'Operations Manager',
			  'CEO', 'Procurement Lead', 'Sales Director', 'Analyst'])[1 + pg_catalog.floor(pg_temp.u(c.ck, 48) * 10)::int],
	   pg_temp.at(c.lead_min)
FROM g_contact c
CROSS JOIN LATERAL (SELECT (ARRAY['alex', 'sam', 'maria', 'john', 'lena', 'omar', 'yuki', 'eva', 'noah', 'ines',
								  'paul', 'zoe'])[1 + pg_catalog.floor(pg_temp.u(c.ck, 49) * 12)::int] AS fname) f
CROSS JOIN LATERAL (SELECT (ARRAY['smith', 'garcia', 'muller', 'tanaka', 'dubois', 'kowalski', 'silva', 'jensen'])
							   [1 + pg_catalog.floor(pg_temp.u(c.ck, 50) * 8)::int] || c.j AS lname) l
ORDER BY c.i, c.j;

INSERT INTO attrib.opportunity_contact_roles (account_id, opportunity_id, contact_id, role, is_primary)
SELECT o.account_id, o.opportunity_id, c.contact_id,
	   CASE WHEN c.j = pr.j THEN 'Champion'
			ELSE (ARRAY['Decision Maker', 'Economic Buyer', 'Influencer', 'Technical Buyer', 'End User'])
					 [1 + pg_catalog.floor(pg_temp.u(o.ok * 16 + c.j, 53) * 5)::int] END,
	   c.j = pr.j
FROM g_opp o
JOIN g_acc a ON a.i = o.i
CROSS JOIN LATERAL (SELECT 1 + pg_catalog.floor(pg_temp.u(o.ok, 52) * least(a.n_c, 3))::int AS j) pr
JOIN g_contact c ON c.i = o.i
WHERE c.j = pr.j OR pg_temp.u(o.ok * 16 + c.j, 51) < 0.55
ORDER BY o.i, o.e, o.s, c.j;

-- ---------------------------------------------------------------------------
-- Stage events: contacts MQL -> SAL -> SQL; opportunities Discovery ->
-- Demo -> Proposal -> Negotiation -> Closed Won / Closed Lost
-- ---------------------------------------------------------------------------

INSERT INTO attrib.stage_events (account_id, event_id, opportunity_id, contact_id, stage, occurred_at)
SELECT c.account_id, 'E' || c.contact_id || '-' || st.stage, NULL, c.contact_id, st.stage, pg_temp.at(st.at_min)
FROM g_contact c
CROSS JOIN LATERAL (SELECT c.lead_min + pg_catalog.floor(3 * 1440 * pg_temp.u(c.ck, 45))::int8 AS mql) m
CROSS JOIN LATERAL (SELECT m.mql + pg_catalog.floor((1 + 9 * pg_temp.u(c.ck, 46)) * 1440)::int8 AS sal) s
CROSS JOIN LATERAL (SELECT s.sal + pg_catalog.floor((1 + 13 * pg_temp.u(c.ck, 47)) * 1440)::int8 AS sql) q
CROSS JOIN LATERAL (VALUES ('MQL', m.mql, true),
						   ('SAL', s.sal, pg_temp.u(c.ck, 54) < 0.6),
						   ('SQL', q.sql, pg_temp.u(c.ck, 54) < 0.6 * 0.65)) st(stage, at_min, reached)
CROSS JOIN g_param p
WHERE c.lead_min IS NOT NULL AND st.reached AND st.at_min < p.end_min
UNION ALL
SELECT o.account_id, 'E' || o.opportunity_id || '-' || k, o.opportunity_id, NULL,
	   (ARRAY['Discovery', 'Demo', 'Proposal', 'Negotiation'])[k],
	   pg_temp.at(least(p.end_min - 1, o.created_min
				  + pg_catalog.floor(o.cycle_min * (k - 1 + CASE WHEN k > 1 THEN 0.6 * pg_temp.u(o.ok * 8 + k, 38) - 0.3 ELSE 0 END)
									 / CASE WHEN o.status = 'lost' THEN o.n_stages ELSE 4 END)::int8))
FROM g_opp o CROSS JOIN g_param p CROSS JOIN LATERAL pg_catalog.generate_series(1, o.n_stages) k
UNION ALL
SELECT o.account_id, 'E' || o.opportunity_id || '-5', o.opportunity_id, NULL,
	   CASE o.status WHEN 'won' THEN 'Closed Won' ELSE 'Closed Lost' END, pg_temp.at(o.closed_min)
FROM g_opp o WHERE o.status <> 'open';

-- ---------------------------------------------------------------------------
-- Touches
-- ---------------------------------------------------------------------------

-- channel mix: lower bounds of each channel's slice of [0, 1), per persona
-- (0 inbound, 1 paid, 2 events/ABM, 3 outbound) and phase (0 before an
-- opportunity is open, 1 while it is); channels in g_chan.idx order
CREATE TEMP TABLE g_mix AS
SELECT persona, phase, pg_catalog.array_agg(lo ORDER BY idx) AS lower
FROM (
	SELECT v.persona, v.phase, x.idx,
		   (pg_catalog.sum(x.w) OVER (PARTITION BY v.persona, v.phase ORDER BY x.idx) - x.w)::float8
			   / pg_catalog.sum(x.w) OVER (PARTITION BY v.persona, v.phase) AS lo
	FROM (VALUES (0, 0, '{8,4,25,18,6,3,4,8,16,2,5,1}'::int[]),
				 (1, 0, '{25,18,8,10,4,2,15,3,10,1,3,1}'),
				 (2, 0, '{6,6,8,18,16,14,10,4,8,3,5,2}'),
				 (3, 0, '{5,5,8,10,4,3,4,3,8,20,26,4}'),
				 (0, 1, '{3,2,4,12,5,3,3,2,10,22,24,10}'),
				 (1, 1, '{3,2,4,12,5,3,3,2,10,22,24,10}'),
				 (2, 1, '{3,2,4,12,5,3,3,2,10,22,24,10}'),
				 (3, 1, '{3,2,4,12,5,3,3,2,10,22,24,10}')) v(persona, phase, ws)
	CROSS JOIN LATERAL pg_catalog.unnest(v.ws) WITH ORDINALITY x(w, idx)) s
GROUP BY persona, phase;

INSERT INTO attrib.touches (account_id, touch_id, occurred_at, channel, campaign_id, contact_id,
							touch_type, activity, owner)
SELECT a.account_id,
	   'T' || pg_catalog.lpad(a.i::text, 7, '0') || '-' || pg_catalog.lpad(t.k::text, 4, '0'),
	   pg_temp.at(t.t_min),
	   ch.channel,
	   CASE WHEN ch.spend IS NOT NULL AND pg_temp.u(t.tk, 66) < 0.9
			THEN 'cmp_' || ch.channel || '_'
				 || pg_catalog.lpad((least(p.n_camp - 1, t.t_min * p.n_camp / p.end_min) + 1)::text, 3, '0') END,
	   CASE WHEN pg_temp.u(t.tk, 64) < ch.account_level THEN NULL
			ELSE 'C' || pg_catalog.lpad(a.i::text, 7, '0') || '-'
				 || pg_catalog.lpad((1 + pg_catalog.floor(a.n_c * pg_catalog.power(pg_temp.u(t.tk, 65), 2))::int)::text, 2, '0') END,
	   CASE WHEN ch.idx >= 10 THEN 'sales' ELSE 'marketing' END,
	   ch.activities[1 + pg_catalog.floor(pg_temp.u(t.tk, 67) * pg_catalog.cardinality(ch.activities))::int],
	   CASE WHEN ch.idx < 10 THEN NULL
			WHEN pg_temp.u(t.tk, 68) < 0.85 THEN pg_temp.rep(a.owner_rep)
			ELSE pg_temp.rep(pg_catalog.floor(pg_temp.u(t.tk, 69) * p.n_reps)::int) END
FROM g_acc a
CROSS JOIN g_param p
CROSS JOIN LATERAL (
	SELECT k, a.i * 2048 + k AS tk,
		   least(a.n_ep - 1, pg_catalog.floor(pg_temp.u(a.i * 2048 + k, 61) * a.n_ep)::int) AS e
	FROM pg_catalog.generate_series(1, a.n_t) k) te
JOIN g_ep ep ON ep.i = a.i AND ep.e = te.e
CROSS JOIN LATERAL (SELECT te.k, te.tk,
						   ep.ep_start + pg_catalog.floor(ep.ep_len * pg_temp.u(te.tk, 62))::int8 AS t_min) t
LEFT JOIN g_opp o ON o.i = a.i AND o.e = te.e AND o.s = 0
JOIN g_mix mx ON mx.persona = a.persona
			 AND mx.phase = CASE WHEN t.t_min >= o.created_min
									  AND t.t_min <= coalesce(o.closed_min, p.end_min) THEN 1 ELSE 0 END
JOIN g_chan ch ON ch.idx = pg_catalog.width_bucket(pg_temp.u(t.tk, 63), mx.lower);

-- a fixed "now" for open pipeline
INSERT INTO attrib.settings (singleton, as_of) VALUES (true, '2025-07-01 00:00:00+00')
ON CONFLICT (singleton) DO UPDATE SET as_of = EXCLUDED.as_of;

DROP TABLE g_param, g_chan, g_acc, g_ep, g_opp, g_contact, g_mix;

-- every foreign key holds (the triggers may not have checked them)
DO $$
DECLARE
	bad pg_catalog.text;
BEGIN
	SELECT fk INTO bad FROM (
		SELECT 'contacts -> accounts' AS fk WHERE EXISTS (
			SELECT 1 FROM attrib.contacts c
			WHERE NOT EXISTS (SELECT 1 FROM attrib.accounts a WHERE a.account_id = c.account_id))
		UNION ALL
		SELECT 'opportunities -> accounts' WHERE EXISTS (
			SELECT 1 FROM attrib.opportunities o
			WHERE NOT EXISTS (SELECT 1 FROM attrib.accounts a WHERE a.account_id = o.account_id))
		UNION ALL
		SELECT 'opportunity_contact_roles -> opportunities, contacts' WHERE EXISTS (
			SELECT 1 FROM attrib.opportunity_contact_roles r
			WHERE NOT EXISTS (SELECT 1 FROM attrib.opportunities o
							  WHERE o.account_id = r.account_id AND o.opportunity_id = r.opportunity_id)
			   OR NOT EXISTS (SELECT 1 FROM attrib.contacts c
							  WHERE c.account_id = r.account_id AND c.contact_id = r.contact_id))
		UNION ALL
		SELECT 'stage_events -> accounts, opportunities, contacts' WHERE EXISTS (
			SELECT 1 FROM attrib.stage_events e
			WHERE NOT EXISTS (SELECT 1 FROM attrib.accounts a WHERE a.account_id = e.account_id)
			   OR (e.opportunity_id IS NOT NULL AND NOT EXISTS (
					SELECT 1 FROM attrib.opportunities o
					WHERE o.account_id = e.account_id AND o.opportunity_id = e.opportunity_id))
			   OR (e.contact_id IS NOT NULL AND NOT EXISTS (
					SELECT 1 FROM attrib.contacts c
					WHERE c.account_id = e.account_id AND c.contact_id = e.contact_id)))
		UNION ALL
		SELECT 'touches -> accounts, contacts, campaigns' WHERE EXISTS (
			SELECT 1 FROM attrib.touches t
			WHERE NOT EXISTS (SELECT 1 FROM attrib.accounts a WHERE a.account_id = t.account_id)
			   OR (t.contact_id IS NOT NULL AND NOT EXISTS (
					SELECT 1 FROM attrib.contacts c
					WHERE c.account_id = t.account_id AND c.contact_id = t.contact_id))
			   OR (t.campaign_id IS NOT NULL AND NOT EXISTS (
					SELECT 1 FROM attrib.campaigns m WHERE m.campaign_id = t.campaign_id)))) v
	LIMIT 1;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'generator bug: foreign key % violated', bad;
	END IF;
END $$;
COMMIT;

ANALYZE attrib.channels, attrib.campaigns, attrib.exchange_rates, attrib.accounts, attrib.contacts,
	attrib.opportunities, attrib.opportunity_contact_roles, attrib.stage_events, attrib.touches;
RESET client_min_messages;
