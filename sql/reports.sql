-- reports: a hand-made CRM (four accounts), one refresh, and the report views.
-- Every number below is computed by hand in the comment beside its query
-- (SPEC §1 journeys, §2 milestones, §4 money, §5 reports).  Times are UTC.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';

-- ------------------------------------------------------------------
-- The fixture
--
-- acme (USD): three contacts and an account-level touch; two won opportunities
--   that share their early touches.  c1 became a lead on 2024-01-05, c2 on
--   2024-01-20, c3 never.
--     a01 01-02 paid_search cmp_ps   c1     a06 02-10 sales_call  c2 (rep_ann)
--     a02 01-05 webinar     cmp_web  c1     a07 03-01 direct      c1
--     a03 01-10 organic              c3     a08 03-10 paid_social c3
--     a04 01-15 event       cmp_evt  (acct) a09 04-01 demo        c2 (rep_bob)
--     a05 02-01 email       cmp_email c2    a10 05-01 email cmp_email c1
--   acme-o1 1000.00 USD created 02-01, won 03-01; roles c1 (primary), c2
--   acme-o2  600.00 USD created 03-15, won 04-15; roles c2 (primary), c3
-- globex (EUR): one contact, lead since 2023-12-01 (before any touch: no LC)
--     b01 01-15 display  b02 02-10 paid_search cmp_ps  b03 02-20 webinar cmp_web
--     b04 03-20 email cmp_email  b05 04-20 demo (rep_bob)  b06 05-10 email
--   globex-o3 1999.99 EUR created 03-01, won 04-01
--   globex-o4  500.00 EUR created 04-10, open (as_of is fixed at 2024-05-01)
-- initech (USD): initech-o5 800.00 created 02-10, lost 03-10;
--     d01 02-01 paid_search cmp_ps (i1 became a lead at that instant), d02 02-15 event cmp_evt
-- hooli (USD): hooli-o6 300.00 created 06-01, won 06-30; no touches at all.
-- EUR rates: 1.10 from 2024-01-01, 1.0837 from 03-25, 1.07 from 04-05, 1.20 from 04-15.
-- Models: cw_heavy = custom FT .15, LC .15, OC .15, CW .45, middle .10; j_shaped disabled.
-- ------------------------------------------------------------------
INSERT INTO attrib.channels VALUES
	('paid_search', 'paid', false), ('paid_social', 'paid', false), ('display', 'paid', false),
	('webinar', 'events', false), ('event', 'events', false), ('email', 'owned', false),
	('organic', 'organic', false), ('direct', 'direct', true),
	('sales_call', 'sales', false), ('demo', 'sales', false);
INSERT INTO attrib.campaigns VALUES
	('cmp_ps', 'Search Q1', 'paid_search', 500.00, 'USD', '2024-01-01 00:00+00'),
	('cmp_web', 'Webinar Series', 'webinar', 1000.00, 'EUR', '2024-01-01 00:00+00'),
	('cmp_evt', 'Trade Show', 'event', NULL, NULL, '2024-01-10 00:00+00'),
	('cmp_email', 'Nurture', 'email', 100.00, NULL, NULL);
INSERT INTO attrib.accounts VALUES
	('acme', 'Acme', 'Enterprise', 'Manufacturing', 'rep_ann', '2023-06-01 00:00+00'),
	('globex', 'Globex', 'Mid-Market', 'Energy', 'rep_bob', '2023-06-01 00:00+00'),
	('initech', 'Initech', 'SMB', 'Software', 'rep_ann', '2023-06-01 00:00+00'),
	('hooli', 'Hooli', 'SMB', 'Internet', 'rep_bob', '2023-06-01 00:00+00');
INSERT INTO attrib.contacts VALUES
	('acme', 'c1', 'c1@acme.example', 'CTO', '2024-01-05 00:00+00'),
	('acme', 'c2', 'c2@acme.example', 'VP Ops', '2024-01-20 00:00+00'),
	('acme', 'c3', 'c3@acme.example', 'Engineer', NULL),
	('globex', 'g1', 'g1@globex.example', 'CFO', '2023-12-01 00:00+00'),
	('initech', 'i1', 'i1@initech.example', 'CEO', '2024-02-01 00:00+00');
INSERT INTO attrib.opportunities VALUES
	('acme', 'acme-o1', 'Acme platform', 1000.00, 'USD', '2024-02-01 00:00+00', '2024-03-01 00:00+00', true, 'Closed Won', 'rep_ann'),
	('acme', 'acme-o2', 'Acme expansion', 600.00, 'USD', '2024-03-15 00:00+00', '2024-04-15 00:00+00', true, 'Closed Won', 'rep_bob'),
	('globex', 'globex-o3', 'Globex EU', 1999.99, 'EUR', '2024-03-01 00:00+00', '2024-04-01 00:00+00', true, 'Closed Won', 'rep_bob'),
	('globex', 'globex-o4', 'Globex add-on', 500.00, 'EUR', '2024-04-10 00:00+00', NULL, false, 'Proposal', 'rep_bob'),
	('initech', 'initech-o5', 'Initech pilot', 800.00, 'USD', '2024-02-10 00:00+00', '2024-03-10 00:00+00', false, 'Closed Lost', 'rep_ann'),
	('hooli', 'hooli-o6', 'Hooli renewal', 300.00, 'USD', '2024-06-01 00:00+00', '2024-06-30 00:00+00', true, 'Closed Won', 'rep_bob');
INSERT INTO attrib.opportunity_contact_roles VALUES
	('acme', 'acme-o1', 'c1', 'Decision Maker', true),
	('acme', 'acme-o1', 'c2', 'Champion', false),
	('acme', 'acme-o2', 'c2', 'Decision Maker', true),
	('acme', 'acme-o2', 'c3', 'User', false),
	('globex', 'globex-o3', 'g1', 'Decision Maker', true),
	('globex', 'globex-o4', 'g1', 'Decision Maker', true),
	('initech', 'initech-o5', 'i1', 'Decision Maker', true);
INSERT INTO attrib.touches VALUES
	('acme', 'a01', '2024-01-02 00:00+00', 'paid_search', 'cmp_ps', 'c1', 'marketing', 'ad_click', NULL),
	('acme', 'a02', '2024-01-05 00:00+00', 'webinar', 'cmp_web', 'c1', 'marketing', 'event', NULL),
	('acme', 'a03', '2024-01-10 00:00+00', 'organic', NULL, 'c3', 'marketing', 'web_visit', NULL),
	('acme', 'a04', '2024-01-15 00:00+00', 'event', 'cmp_evt', NULL, 'marketing', 'event', NULL),
	('acme', 'a05', '2024-02-01 00:00+00', 'email', 'cmp_email', 'c2', 'marketing', 'email_click', NULL),
	('acme', 'a06', '2024-02-10 00:00+00', 'sales_call', NULL, 'c2', 'sales', 'call', 'rep_ann'),
	('acme', 'a07', '2024-03-01 00:00+00', 'direct', NULL, 'c1', 'marketing', 'web_visit', NULL),
	('acme', 'a08', '2024-03-10 00:00+00', 'paid_social', NULL, 'c3', 'marketing', 'ad_click', NULL),
	('acme', 'a09', '2024-04-01 00:00+00', 'demo', NULL, 'c2', 'sales', 'demo', 'rep_bob'),
	('acme', 'a10', '2024-05-01 00:00+00', 'email', 'cmp_email', 'c1', 'marketing', 'email_open', NULL),
	('globex', 'b01', '2024-01-15 00:00+00', 'display', NULL, 'g1', 'marketing', 'ad_click', NULL),
	('globex', 'b02', '2024-02-10 00:00+00', 'paid_search', 'cmp_ps', 'g1', 'marketing', 'ad_click', NULL),
	('globex', 'b03', '2024-02-20 00:00+00', 'webinar', 'cmp_web', 'g1', 'marketing', 'event', NULL),
	('globex', 'b04', '2024-03-20 00:00+00', 'email', 'cmp_email', 'g1', 'marketing', 'email_click', NULL),
	('globex', 'b05', '2024-04-20 00:00+00', 'demo', NULL, 'g1', 'sales', 'demo', 'rep_bob'),
	('globex', 'b06', '2024-05-10 00:00+00', 'email', NULL, 'g1', 'marketing', 'email_open', NULL),
	('initech', 'd01', '2024-02-01 00:00+00', 'paid_search', 'cmp_ps', 'i1', 'marketing', 'ad_click', NULL),
	('initech', 'd02', '2024-02-15 00:00+00', 'event', 'cmp_evt', 'i1', 'marketing', 'event', NULL);
INSERT INTO attrib.exchange_rates VALUES
	('EUR', '2024-01-01', 1.10), ('EUR', '2024-03-25', 1.0837),
	('EUR', '2024-04-05', 1.07), ('EUR', '2024-04-15', 1.20);
SELECT attrib.set_setting('as_of', '2024-05-01 00:00+00');
INSERT INTO attrib.model_config (name, base_model, options) VALUES
	('cw_heavy', 'custom', '{"weights": {"FT": 0.15, "LC": 0.15, "OC": 0.15, "CW": 0.45, "middle": 0.1}}');
INSERT INTO attrib.model_config VALUES ('j_shaped', 'j_shaped', '{}', false);

-- the registry: cw_heavy added, j_shaped off, influence non-additive
SELECT name, base_model, enabled, builtin, additive FROM attrib.model_registry
WHERE name IN ('cw_heavy', 'j_shaped', 'linear', 'influence', 'custom') ORDER BY name;
SELECT contact_scope, lookback, as_of, reporting_currency FROM attrib.effective_settings;

-- six opportunities stored
SELECT opportunities FROM attrib.refresh();

-- ------------------------------------------------------------------
-- Journeys
-- ------------------------------------------------------------------

-- status and money: o3 won, converted at the rate on its close date 2024-04-01:
--   1.0837 (from 03-25; 04-05's 1.07 is later): 1999.99 * 1.0837 = 2167.389163 -> 2167.39
-- o4 open, converted at its creation date 2024-04-10: 1.07 (from 04-05; not 04-15's 1.20,
--   nor the as_of date's): 500.00 * 1.07 = 535.00
-- lead_created_at: earliest of the in-scope contacts (account scope: every contact):
--   acme min(01-05, 01-20, NULL) = 01-05; globex 2023-12-01; initech 02-01; hooli none
SELECT account_id, opportunity_id, status, amount, currency, amount_reporting,
	   created_at::date, closed_at::date, lead_created_at::date
FROM attrib.journey_cache ORDER BY account_id, opportunity_id;

-- the timelines (account scope, lookback 365 days, as_of 2024-05-01):
-- acme-o1 window 2023-02-01 .. 2024-03-01: a01..a07 (a07 at the close instant counts;
--   a08, a09, a10 are after the close).  FT a01; LC = last touch <= 01-05 = a02;
--   OC = last <= 02-01 = a05 (same instant); CW = last <= 03-01 = a07 = LT.
-- acme-o2 shares a01..a07 and adds a08, a09 (a10 on 05-01 is after its 04-15 close):
--   FT a01, LC a02, OC = last <= 03-15 = a08, CW = LT = a09.
-- globex-o3: b01..b04 (b05, b06 after the close); the lead (2023-12-01) precedes the
--   first touch, so LC is absent; OC = last <= 03-01 = b03; CW = LT = b04.
-- globex-o4 (open): window ends at as_of 05-01: b01..b05 (b06 on 05-10 is later);
--   OC = last <= 04-10 = b04; CW is pending: the latest touch, b05 = LT; no LC.
-- initech-o5 (lost): d01 is FT, LC (lead at the same instant) and OC (last <= 02-10);
--   d02 LT; no CW for a lost deal.  hooli-o6: no touches, no rows.
-- days_since_previous: a02-a01 = 3, a03-a02 = 5, a04-a03 = 5, a05-a04 = 17, a06-a05 = 9,
--   a07-a06 = 20 (Feb 2024 has 29 days), a08-a07 = 9, a09-a08 = 22; b02-b01 = 26, b03-b02 = 10,
--   b04-b03 = 29, b05-b04 = 31; d02-d01 = 14.
-- days_before_end: to the close, or as_of for the open o4: o1 a01 01-02 -> 03-01 = 29+29 = 59;
--   o4 b01 01-15 -> 05-01 = 17 (to 02-01) + 29 + 31 + 30 = 107, b05 04-20 -> 05-01 = 11
SELECT opportunity_id, status, touch_index, touch_id, occurred_at::date, channel, contact_id,
	   positions, days_since_previous, days_before_end
FROM attrib.journeys ORDER BY account_id, opportunity_id, touch_index;

-- ------------------------------------------------------------------
-- Per touch credits
-- ------------------------------------------------------------------

-- the wide form (percent of the amount), acme-o1 (7 touches):
--   first_touch a01; last_touch a07; lead_creation a02 (LC)
--   linear 100/7 = 14.2857 each
--   position_based: first 40, last 40, middle 20/5 = 4 each for a02..a06
--   j_shaped is disabled: NULL everywhere
--   w_shaped counts up to OC (a05): a01 FT 30, a02 LC 30, a05 OC 30, middle a03, a04
--     10/2 = 5 each; a06, a07 past the cut get nothing (NULL)
--   full_path counts up to CW (a07): FT, LC, OC, CW 22.5 each; middle a03, a04, a06 10/3 = 3.3333
--   cw_heavy (custom, every touch counts): FT 15, LC 15, OC 15, CW 45, middle 10/3 = 3.3333
SELECT touch_index AS i, touch_id, positions, first_touch, last_touch, lead_creation, linear,
	   position_based, j_shaped, w_shaped, full_path, other_models
FROM attrib.touch_credits_wide WHERE opportunity_id = 'acme-o1' ORDER BY touch_index;

-- acme-o2 (9 touches): linear 100/9 = 11.1111; position_based middle 20/7 = 2.8571;
--   w_shaped up to OC a08: FT a01 30, LC a02 30, OC a08 30, middle a03..a07 10/5 = 2; a09 NULL
--   full_path: FT a01, LC a02, OC a08, CW a09 22.5 each, middle a03..a07 2 each
--   cw_heavy: a01 15, a02 15, a08 15, a09 45, middle a03..a07 10/5 = 2 each
SELECT touch_index AS i, touch_id, positions, first_touch, last_touch, lead_creation, linear,
	   position_based, w_shaped, full_path, other_models
FROM attrib.touch_credits_wide WHERE opportunity_id = 'acme-o2' ORDER BY touch_index;

-- money, acme-o1 = 1000.00 = 100000 cents:
--   linear 100000/7 = 14285 r 5: the five extra cents go to the earliest touches:
--     a01..a05 142.86, a06, a07 142.85 (5*142.86 + 2*142.85 = 714.30 + 285.70 = 1000.00)
--   full_path: 22500 cents to each of a01, a02, a05, a07; the middle 10000/3 = 3333 r 1:
--     a03 33.34, a04 33.33, a06 33.33
--   cw_heavy: a01, a02, a05 150.00, a07 450.00, middle as full_path: 33.34, 33.33, 33.33
-- acme-o2 = 600.00: linear 60000/9 = 6666 r 6: a01..a06 66.67, a07..a09 66.66
--   (6*66.67 + 3*66.66 = 400.02 + 199.98); w_shaped 180, 180, 5 * 12, 180;
--   full_path 135 * 4 + 5 * 12; cw_heavy 90, 90, 5 * 12, a08 90, a09 270
-- USD deals: credit_reporting = credit
SELECT opportunity_id, model, string_agg(touch_id || ' ' || credit, ', ' ORDER BY touch_index) AS credits,
	   sum(credit) AS total, bool_and(credit = credit_reporting) AS same_in_usd
FROM attrib.touch_credits
WHERE account_id = 'acme' AND model IN ('linear', 'w_shaped', 'full_path', 'cw_heavy')
GROUP BY opportunity_id, model ORDER BY opportunity_id, model;

-- currency: globex-o3 1999.99 EUR = 199999 cents, 2167.39 USD = 216739 cents, split apart
--   linear: 199999/4 = 49999 r 3 -> 500.00, 500.00, 500.00, 499.99 EUR;
--           216739/4 = 54184 r 3 -> 541.85, 541.85, 541.85, 541.84 USD
--   w_shaped (up to OC b03; LC absent, its 30 spread over FT and OC): b01 45%, b02 10%, b03 45%
--     EUR 89999.55 / 19999.9 / 89999.55 cents: floors 199997, 2 left: b02 (.9), b01 (.55, earlier
--       of the tie) -> 900.00, 200.00, 899.99
--     USD 97532.55 / 21673.9 / 97532.55: floors 216737, 2 left -> 975.33, 216.74, 975.32
--   full_path (LC absent, 22.5 over FT, OC, CW = 7.5 each): b01, b03, b04 30%, b02 10%
--     EUR 59999.7 x3 and 19999.9: floors 199996, 3 left: b02, then b01, b03 -> 600.00, 200.00, 600.00, 599.99
--     USD 65021.7 x3 and 21673.9: floors 216736, 3 left -> 650.22, 216.74, 650.22, 650.21
--   cw_heavy (LC absent, its .15 over FT, OC, CW = .05 each): b01 20%, b02 10%, b03 20%, b04 50%
--     EUR 39999.8, 19999.9, 39999.8, 99999.5: floors 199996, 3 left: b02, b01, b03
--       -> 400.00, 200.00, 400.00, 999.99
--     USD 43347.8, 21673.9, 43347.8, 108369.5: floors 216736 -> 433.48, 216.74, 433.48, 1083.69
-- globex-o4 open, 500.00 EUR / 535.00 USD: linear 100.00 / 107.00 each;
--   w_shaped (up to OC b04, no LC): b01 45%, b02 5%, b03 5%, b04 45% -> EUR 225, 25, 25, 225;
--     USD 240.75, 26.75, 26.75, 240.75
--   full_path: pending CW b05 counts: b01, b04, b05 30%, b02, b03 5%
--     -> EUR 150, 25, 25, 150, 150; USD 160.50, 26.75, 26.75, 160.50, 160.50
--   cw_heavy: b01 20%, b02, b03 5%, b04 20%, b05 50% -> EUR 100, 25, 25, 100, 250;
--     USD 107.00, 26.75, 26.75, 107.00, 267.50
SELECT opportunity_id, model, string_agg(touch_id || ' ' || credit || ' ' || currency || ' = '
	   || credit_reporting || ' ' || reporting_currency, ', ' ORDER BY touch_index) AS credits,
	   sum(credit) AS total, sum(credit_reporting) AS total_usd
FROM attrib.touch_credits
WHERE account_id = 'globex' AND model IN ('linear', 'w_shaped', 'full_path', 'cw_heavy')
GROUP BY opportunity_id, model ORDER BY opportunity_id, model;

-- the lost deal is credited too (touch_credits keeps it, status lost), 800.00:
--   first_touch d01; last_touch d02; linear 400, 400; w_shaped counts up to OC = d01: 800;
--   full_path: no CW, every touch counts; d01 holds FT, LC, OC (67.5) plus CW's absent 22.5
--   = 90%, d02 middle 10%: 720, 80; cw_heavy likewise (.45 + .45 absent CW) 720, 80
-- the untouched deal: one unattributed row per additive model, weight 1, 300.00
SELECT opportunity_id, status, model, touch_id, channel, round(weight::numeric, 4) AS weight, credit
FROM attrib.touch_credits
WHERE account_id IN ('initech', 'hooli')
  AND model IN ('first_touch', 'last_touch', 'linear', 'w_shaped', 'full_path', 'cw_heavy')
ORDER BY opportunity_id, model, touch_index;
-- and no model (additive or not) books hooli-o6 anywhere but unattributed; influence skips it
SELECT count(*) FILTER (WHERE touch_index <> 0) AS touched_rows,
	   count(*) FILTER (WHERE model = 'influence') AS influence_rows,
	   bool_and(channel = '(unattributed)' AND credit = 300.00) AS all_unattributed
FROM attrib.touch_credits WHERE opportunity_id = 'hooli-o6';

-- ------------------------------------------------------------------
-- Revenue and pipeline by channel (won: o1, o2, o3, o6; open: o4; o5 lost is never counted)
-- total won = 1000.00 + 600.00 + 2167.39 + 300.00 = 4067.39 USD; pipeline = 535.00
-- ------------------------------------------------------------------

-- first_touch: paid_search = a01 of o1 and o2 = 1000 + 600 = 1600.00 (2 won; d01 of the lost o5
--   adds nothing); display = b01 of o3 2167.39 won, of o4 535.00 pipeline;
--   (unattributed) = o6 300.00.  1600 + 2167.39 + 300 = 4067.39
-- last_touch: direct a07 1000.00; demo a09 600.00 won + b05 535.00 pipeline; email b04 2167.39;
--   event: d02 is only the lost deal's: 0, 0; (unattributed) 300.00
-- lead_creation: webinar a02 of o1 and o2 = 1600.00; o3, o4 have no LC -> FT b01 display
--   2167.39 / 535.00; paid_search d01 lost 0; (unattributed) 300.00
-- linear (USD, from the credits above):
--   paid_search a01 142.86 + 66.67 + b02 541.85 = 751.38 (3 won), pipeline b02 107.00
--   webinar     a02 142.86 + 66.67 + b03 541.85 = 751.38, pipeline 107.00
--   email       a05 142.86 + 66.67 + b04 541.84 = 751.37, pipeline 107.00 (a10 is after every close)
--   organic a03 142.86 + 66.67 = 209.53; event a04 142.86 + 66.67 = 209.53 (+ lost d02)
--   sales_call a06 142.85 + 66.67 = 209.52; direct a07 142.85 + 66.66 = 209.51
--   paid_social a08 66.66; demo a09 66.66, pipeline b05 107.00; display b01 541.85, pipeline 107.00
--   (unattributed) 300.00
--   sum: 751.38*2 + 751.37 + 209.53*2 + 209.52 + 209.51 + 66.66*2 + 541.85 + 300 = 4067.39;
--   pipeline 5 * 107.00 = 535.00
-- w_shaped: paid_search 300 + 180 + 216.74 = 696.74, pipeline 26.75; webinar 300 + 180 + 975.32
--   = 1455.32, pipeline 26.75; organic 50 + 12 = 62; event 50 + 12 = 62; email 300 + 12 = 312,
--   pipeline 240.75; sales_call 12; direct 12; paid_social 180; display 975.33, pipeline 240.75;
--   (unattributed) 300.  Sum 4067.39; pipeline 26.75*2 + 240.75*2 = 535.00 (demo b05 is past OC)
-- full_path: paid_search 225 + 135 + 216.74 = 576.74; webinar 225 + 135 + 650.22 = 1010.22;
--   organic 33.34 + 12 = 45.34; event 33.33 + 12 = 45.33; email 225 + 12 + 650.21 = 887.21;
--   sales_call 33.33 + 12 = 45.33; direct 225 + 12 = 237; paid_social 135; demo 135;
--   display 650.22; (unattributed) 300.  Sum 4067.39.
--   Pipeline: display 160.50, paid_search 26.75, webinar 26.75, email 160.50, demo 160.50 = 535.00
-- cw_heavy: paid_search 150 + 90 + 216.74 = 456.74; webinar 150 + 90 + 433.48 = 673.48;
--   organic 33.34 + 12 = 45.34; event 33.33 + 12 = 45.33; email 150 + 12 + 1083.69 = 1245.69;
--   sales_call 33.33 + 12 = 45.33; direct 450 + 12 = 462; paid_social 90; demo 270;
--   display 433.48; (unattributed) 300.  Sum 4067.39.
--   Pipeline: display 107, paid_search 26.75, webinar 26.75, email 107, demo 267.50 = 535.00
SELECT model, channel, channel_group, won_revenue, pipeline, won_opportunities AS won, open_opportunities AS open
FROM attrib.revenue_by_channel
WHERE model IN ('first_touch', 'last_touch', 'lead_creation', 'linear', 'w_shaped', 'full_path', 'cw_heavy')
ORDER BY model, channel;

-- influence and the disabled j_shaped are in no additive report
SELECT (SELECT count(*) FROM attrib.revenue_by_channel WHERE model IN ('influence', 'j_shaped')) AS by_channel,
	   (SELECT count(*) FROM attrib.revenue_by_campaign WHERE model IN ('influence', 'j_shaped')) AS by_campaign,
	   (SELECT count(*) FROM attrib.revenue_by_account WHERE model IN ('influence', 'j_shaped')) AS by_account,
	   (SELECT count(*) FROM attrib.revenue_by_contact WHERE model IN ('influence', 'j_shaped')) AS by_contact,
	   (SELECT count(*) FROM attrib.revenue_by_owner WHERE model IN ('influence', 'j_shaped')) AS by_owner,
	   (SELECT count(*) FROM attrib.revenue_by_month WHERE model IN ('influence', 'j_shaped')) AS by_month,
	   (SELECT count(*) FROM attrib.model_comparison WHERE model IN ('influence', 'j_shaped')) AS comparison,
	   (SELECT count(*) FROM attrib.campaign_roi WHERE model IN ('influence', 'j_shaped')) AS roi,
	   (SELECT count(*) FROM attrib.credit_cache WHERE model = 'j_shaped') AS j_shaped_credits;
-- influence credits every touch with the full amount and is marked non-additive:
--   o1 7 touches * 1000.00, o2 9 * 600.00, o3 4 * 2167.39, o4 5 * 535.00, o5 2 * 800.00
SELECT opportunity_id, count(*) AS touches, min(credit_reporting) AS each_credit,
	   bool_and(NOT additive) AS non_additive, bool_and(weight = 1) AS full_weight
FROM attrib.touch_credits WHERE model = 'influence' GROUP BY opportunity_id ORDER BY opportunity_id;

-- ------------------------------------------------------------------
-- The other rollups (linear)
-- ------------------------------------------------------------------

-- by account: acme 1000 + 600 = 1600.00 (2 won); globex 2167.39 won, 535.00 pipeline;
--   hooli 300.00; initech only lost: 0, 0 with no won or open deal
SELECT account_id, account_name, segment, won_revenue, pipeline, won_opportunities AS won,
	   open_opportunities AS open, reporting_currency
FROM attrib.revenue_by_account WHERE model = 'linear' ORDER BY account_id;
-- an account's totals do not depend on the model: every additive model agrees
SELECT account_id, count(DISTINCT (won_revenue, pipeline)) AS distinct_totals, min(won_revenue) AS won_revenue
FROM attrib.revenue_by_account GROUP BY account_id ORDER BY account_id;

-- by campaign (linear):
--   cmp_ps: a01 142.86 + 66.67, b02 541.85 = 751.38 (o1, o2, o3), pipeline b02 107.00 (o4)
--   cmp_web: a02 142.86 + 66.67, b03 541.85 = 751.38, pipeline 107.00
--   cmp_evt: a04 142.86 + 66.67 = 209.53 (d02 is the lost deal's)
--   cmp_email: a05 142.86 + 66.67, b04 541.84 = 751.37, pipeline 107.00
--   no campaign, by channel: demo 66.66 + pipeline 107.00; direct 209.51; display 541.85 +
--   pipeline 107.00; organic 209.53; paid_social 66.66; sales_call 209.52; (unattributed) 300.00
SELECT campaign_id, campaign_name, channel, won_revenue, pipeline, won_opportunities AS won,
	   open_opportunities AS open
FROM attrib.revenue_by_campaign WHERE model = 'linear' ORDER BY campaign_id, channel;

-- by contact (linear): c1 = a01 + a02 + a07 = (142.86 + 142.86 + 142.85) + (66.67 + 66.67 + 66.66)
--   = 428.57 + 200.00 = 628.57; c2 = a05 + a06 + a09 = (142.86 + 142.85) + (66.67 + 66.67 + 66.66)
--   = 285.71 + 200.00 = 485.71; c3 = a03 + a08 = 142.86 + (66.67 + 66.66) = 276.19;
--   acme's account-level a04 (contact NULL) = 142.86 + 66.67 = 209.53; 628.57 + 485.71 + 276.19
--   + 209.53 = 1600.00.  g1 2167.39 / 535.00; hooli's unattributed 300.00; i1 lost: 0
SELECT account_id, contact_id, won_revenue, pipeline, won_opportunities AS won, open_opportunities AS open
FROM attrib.revenue_by_contact WHERE model = 'linear' ORDER BY account_id, contact_id;

-- by owner (the rep who made the touch, linear): rep_ann a06 = 142.85 + 66.67 = 209.52 (2 won);
--   rep_bob a09 66.66 (1 won) and b05 107.00 pipeline; no owner: 4067.39 - 209.52 - 66.66
--   = 3791.21 won (o1, o2, o3, o6), 535.00 - 107.00 = 428.00 pipeline
SELECT owner, won_revenue, pipeline, won_opportunities AS won, open_opportunities AS open
FROM attrib.revenue_by_owner WHERE model = 'linear' ORDER BY owner;

-- by month (close month for closed deals, creation month for open ones):
--   2024-03: o1 1000.00 (the lost o5 also closed in March: 0); 2024-04: o2 600.00 + o3 2167.39
--   = 2767.39 won, o4 created in April 535.00 pipeline; 2024-06: o6 300.00
SELECT month, won_revenue, pipeline, won_opportunities AS won, open_opportunities AS open
FROM attrib.revenue_by_month WHERE model = 'linear' ORDER BY month;

-- ------------------------------------------------------------------
-- Model comparison, campaign ROI, influenced revenue
-- ------------------------------------------------------------------

-- shares of each model's 4067.39 won and 535.00 pipeline (6 decimals):
--   first_touch: paid_search 1600/4067.39 = 0.3933726.. -> 0.393373; display 2167.39/4067.39
--     = 0.5328699.. -> 0.532870, pipeline 535/535 = 1; (unattributed) 300/4067.39 = 0.0737573.. -> 0.073757
--   linear: 751.38/4067.39 = 0.1847327.. -> 0.184733 (paid_search, webinar); email 751.37/4067.39
--     = 0.1847302.. -> 0.184730; organic, event 209.53/4067.39 = 0.0515146.. -> 0.051515;
--     sales_call 209.52/4067.39 = 0.0515121.. -> 0.051512; direct 209.51/4067.39 = 0.0515096..
--     -> 0.051510; paid_social, demo 66.66/4067.39 = 0.0163888.. -> 0.016389; display 541.85/4067.39
--     = 0.1332181.. -> 0.133218; (unattributed) 0.073757.  Pipeline 107/535 = 0.2 for display,
--     paid_search, webinar, email, demo, 0 for the rest
SELECT model, channel, won_revenue, won_share, pipeline, pipeline_share
FROM attrib.model_comparison WHERE model IN ('first_touch', 'linear') ORDER BY model, channel;
-- each model's shares add up to 1 (to rounding); its won revenue to 4067.39
SELECT count(*) AS models, bool_and(abs(s - 1) < 0.0001) AS shares_sum_to_1,
	   bool_and(w = 4067.39) AS won_is_total
FROM (SELECT model, sum(won_share) AS s, sum(won_revenue) AS w FROM attrib.model_comparison GROUP BY model) x
WHERE model IN ('first_touch', 'linear', 'w_shaped', 'full_path', 'cw_heavy');

-- campaign ROI (cost in USD; cmp_web costs 1000 EUR from 2024-01-01 at 1.10 = 1100.00):
--   linear: cmp_ps (751.38 - 500)/500 = 0.50276 -> 0.5028, 751.38/500 = 1.50276 -> 1.5028;
--     cmp_web (751.38 - 1100)/1100 = -0.3169272.. -> -0.3169, 751.38/1100 = 0.6830727.. -> 0.6831;
--     cmp_evt no cost: NULL; cmp_email (751.37 - 100)/100 = 6.5137, 751.37/100 = 7.5137
--   first_touch: cmp_ps 1600 won: (1600 - 500)/500 = 2.2, 3.2; cmp_web and cmp_email earned
--     nothing: roi (0 - cost)/cost = -1, 0; cmp_evt NULL
SELECT model, campaign_id, campaign_name, channel, cost, won_revenue, pipeline, roi, revenue_per_cost
FROM attrib.campaign_roi WHERE model IN ('first_touch', 'linear') ORDER BY model, campaign_id;
-- every enabled additive model has a row per campaign; the disabled and non-additive ones none
SELECT bool_and(n = 4) AS four_campaigns_each, bool_or(model = 'cw_heavy') AS has_cw_heavy,
	   bool_or(model IN ('j_shaped', 'influence')) AS has_excluded
FROM (SELECT model, count(*) AS n FROM attrib.campaign_roi GROUP BY model) x;

-- influenced revenue: each deal once per channel it touched, the full amount
--   o1 1000 (paid_search webinar organic event email sales_call direct), o2 600 (the same and
--   paid_social demo), o3 2167.39 (display paid_search webinar email), o4 open 535 (display
--   paid_search webinar email demo), o5 lost (paid_search event): never counted; o6 no touch
--   paid_search, webinar, email: 1000 + 600 + 2167.39 = 3767.39 (3 won), pipeline 535.00
--   organic, sales_call, direct: 1000 + 600 = 1600.00; event 1600.00 (o5 lost not counted)
--   paid_social 600.00; demo 600.00 + pipeline 535.00; display 2167.39 + pipeline 535.00
SELECT channel, influenced_won_revenue, influenced_pipeline, won_opportunities AS won,
	   open_opportunities AS open, reporting_currency
FROM attrib.influenced_revenue_by_channel ORDER BY channel;
-- non-additive: summed over channels it is 3*3767.39 + 4*1600 + 2*600 + 2167.39 = 21069.56,
-- not the 4067.39 won
SELECT sum(influenced_won_revenue) AS not_a_total FROM attrib.influenced_revenue_by_channel;

-- ------------------------------------------------------------------
-- Pending CW moves as touches arrive (open deal); a touch after a close changes nothing
-- ------------------------------------------------------------------
BEGIN;
INSERT INTO attrib.touches VALUES
	('globex', 'b07', '2024-04-25 00:00+00', 'webinar', 'cmp_web', 'g1', 'marketing', 'event', NULL);
SELECT opportunities FROM attrib.refresh();
-- o4 gains b07 (04-25 <= as_of 05-01), which now holds the pending CW and LT; o3 closed on
-- 04-01 and keeps its four touches.  o4 last_touch: b07 webinar 535.00
SELECT opportunity_id, string_agg(touch_id || coalesce(' ' || nullif(positions::text, '{}'), ''), ', '
	   ORDER BY touch_index) AS timeline
FROM attrib.journeys WHERE account_id = 'globex' GROUP BY opportunity_id ORDER BY opportunity_id;
SELECT opportunity_id, touch_id, channel, credit_reporting FROM attrib.touch_credits
WHERE account_id = 'globex' AND model = 'last_touch' ORDER BY opportunity_id;
ROLLBACK;

-- ------------------------------------------------------------------
-- Contact scope: contact_roles, then primary_contact
-- ------------------------------------------------------------------
SELECT attrib.set_setting('contact_scope', 'contact_roles');
SELECT opportunities FROM attrib.refresh();
-- acme-o1 (roles c1, c2): a01, a02 (c1), a05, a06 (c2), a07 (c1); c3's a03 and the
--   account-level a04 drop out.  Lead = min(c1 01-05, c2 01-20) = 01-05: LC a02; OC a05; CW a07
-- acme-o2 (roles c2, c3): a03 (c3), a05, a06 (c2), a08 (c3), a09 (c2).  Lead = min(c2 01-20,
--   c3 none) = 01-20: LC = last touch <= 01-20 = a03 (not a02 any more), which is also FT now;
--   OC a08; CW a09
-- globex and initech: their one contact has the roles, nothing changes
SELECT opportunity_id, string_agg(touch_id || coalesce(' ' || nullif(positions::text, '{}'), ''), ', '
	   ORDER BY touch_index) AS timeline
FROM attrib.journeys GROUP BY opportunity_id ORDER BY opportunity_id;
SELECT opportunity_id, lead_created_at::date FROM attrib.journey_cache WHERE account_id = 'acme' ORDER BY 1;
-- first_touch: o1 a01 paid_search 1000.00; o2 a03 organic 600.00; o3 display 2167.39, o4 display
--   535.00; o6 unattributed 300.00
-- lead_creation: o1 a02 webinar 1000.00; o2 a03 organic 600.00; o3, o4 FT display (no LC)
-- linear: o1 1000/5 = 200.00 each (a01 paid_search, a02 webinar, a05 email, a06 sales_call,
--   a07 direct); o2 600/5 = 120.00 each (a03 organic, a05 email, a06 sales_call,
--   a08 paid_social, a09 demo); o3, o4 as before
--   paid_search 200 + 541.85 = 741.85; webinar 200 + 541.85 = 741.85; email 200 + 120 + 541.84
--   = 861.84; sales_call 200 + 120 = 320.00; direct 200.00; organic, paid_social, demo 120.00;
--   display 541.85; event only the lost d02: 0; (unattributed) 300.00.
--   Sum 741.85*2 + 861.84 + 320 + 200 + 3*120 + 541.85 + 300 = 4067.39
SELECT model, channel, won_revenue, pipeline, won_opportunities AS won, open_opportunities AS open
FROM attrib.revenue_by_channel WHERE model IN ('first_touch', 'lead_creation', 'linear')
ORDER BY model, channel;

SELECT attrib.set_setting('contact_scope', 'primary_contact');
SELECT opportunities FROM attrib.refresh();
-- acme-o1 primary c1: a01, a02, a07; lead c1 01-05: LC a02; OC = last <= 02-01 = a02 too;
--   CW = LT = a07
-- acme-o2 primary c2: a05, a06, a09; lead c2 01-20 precedes a05: no LC; OC = last <= 03-15
--   = a06; CW = LT = a09
SELECT opportunity_id, string_agg(touch_id || coalesce(' ' || nullif(positions::text, '{}'), ''), ', '
	   ORDER BY touch_index) AS timeline
FROM attrib.journeys WHERE account_id = 'acme' GROUP BY opportunity_id ORDER BY opportunity_id;

-- ------------------------------------------------------------------
-- Lookback: 30 days before creation (account scope again)
-- ------------------------------------------------------------------
SELECT attrib.set_setting('contact_scope', 'account');
SELECT attrib.set_setting('lookback', '30 days');
SELECT opportunities FROM attrib.refresh();
-- acme-o1 from 02-01 - 30 days = 01-02 00:00: a01 sits exactly on the edge and counts:
--   unchanged, a01..a07
-- acme-o2 from 03-15 - 30 days = 02-14: a07, a08, a09; c1's lead (01-05) precedes a07: no LC;
--   FT a07, OC a08, CW = LT a09
-- globex-o3 from 01-31: b01 (01-15) is cut: b02 FT, b03 OC, b04 CW LT
-- globex-o4 from 03-11: b04 FT and OC (last <= 04-10), b05 pending CW, LT
-- initech-o5 from 01-11: unchanged
SELECT opportunity_id, string_agg(touch_id || coalesce(' ' || nullif(positions::text, '{}'), ''), ', '
	   ORDER BY touch_index) AS timeline
FROM attrib.journeys GROUP BY opportunity_id ORDER BY opportunity_id;
-- first_touch: o1 a01 paid_search 1000 + o3 b02 paid_search 2167.39 = 3167.39 (2 won);
--   o2 a07 direct 600.00; o4 b04 email 535.00 pipeline; o6 unattributed 300.00
SELECT channel, won_revenue, pipeline, won_opportunities AS won, open_opportunities AS open
FROM attrib.revenue_by_channel WHERE model = 'first_touch' ORDER BY channel;
SELECT attrib.set_setting('lookback', '365 days');
SELECT opportunities FROM attrib.refresh();

-- ------------------------------------------------------------------
-- A missing exchange rate stops the refresh, naming it; the stored results stay
-- ------------------------------------------------------------------
CREATE TEMP TABLE before_fail AS SELECT count(*) AS n FROM attrib.credit_cache;
INSERT INTO attrib.opportunities VALUES
	('hooli', 'hooli-o7', 'Hooli UK', 100.00, 'GBP', '2024-06-01 00:00+00', NULL, false, 'Discovery', 'rep_bob');
SELECT try('SELECT attrib.refresh()');
-- a rate dated after the creation does not help an open deal (rate at creation)
INSERT INTO attrib.exchange_rates VALUES ('GBP', '2024-06-02', 1.25);
SELECT try('SELECT attrib.refresh()');
SELECT (SELECT n FROM before_fail) = count(*) AS cache_kept,
	   count(*) FILTER (WHERE opportunity_id = 'hooli-o7') AS o7_rows
FROM attrib.credit_cache;
DELETE FROM attrib.opportunities WHERE opportunity_id = 'hooli-o7';
DELETE FROM attrib.exchange_rates WHERE currency = 'GBP';

-- ------------------------------------------------------------------
-- Invalid settings and model rows are rejected when written
-- ------------------------------------------------------------------
SELECT try($$SELECT attrib.set_setting('contact_scope', 'everyone')$$);
SELECT try($$SELECT attrib.set_setting('lookback', '-1 day')$$);
SELECT try($$SELECT attrib.set_setting('lookback', 'soon')$$);
SELECT try($$SELECT attrib.set_setting('as_of', 'infinity')$$);
SELECT try($$SELECT attrib.set_setting('reporting_currency', 'usd')$$);
SELECT try($$SELECT attrib.set_setting('reporting_currency', 'EURO')$$);
SELECT try($$SELECT attrib.set_setting('cold_after', '0')$$);
SELECT try($$SELECT attrib.set_setting('revival_window', '-5')$$);
SELECT try($$SELECT attrib.set_setting('direct_channels', '{direct,NULL}')$$);
SELECT try($$SELECT attrib.set_setting('colour', 'blue')$$);
SELECT try($$UPDATE attrib.settings SET contact_scope = 'nobody'$$);
SELECT try($$INSERT INTO attrib.settings (singleton) VALUES (false)$$);
-- the settings are unchanged
SELECT contact_scope, lookback, as_of, reporting_currency, cold_after, revival_window, direct_channels
FROM attrib.effective_settings;

SELECT try($$INSERT INTO attrib.model_config VALUES ('mystery', 'no_such_model', '{}')$$);
SELECT try($$INSERT INTO attrib.model_config VALUES ('linear', 'w_shaped', '{}')$$);
SELECT try($$INSERT INTO attrib.model_config VALUES ('Bad Name', 'linear', '{}')$$);
SELECT try($$INSERT INTO attrib.model_config VALUES ('lopsided', 'custom', '{"weights": {"FT": 0.5, "LC": 0.6}}')$$);
SELECT try($$INSERT INTO attrib.model_config VALUES ('negative', 'custom', '{"weights": {"FT": 1.5, "LC": -0.5}}')$$);
SELECT try($$INSERT INTO attrib.model_config VALUES ('td0', 'time_decay', '{"half_life": 0}')$$);
SELECT try($$INSERT INTO attrib.model_config VALUES ('lin_hl', 'linear', '{"half_life": 3}')$$);
SELECT try($$INSERT INTO attrib.model_config VALUES ('typo', 'linear', '{"exclude_channel": ["direct"]}')$$);
SELECT try($$UPDATE attrib.model_config SET options = '{"weights": {"FT": 2}}' WHERE name = 'cw_heavy'$$);
-- the registry is unchanged
SELECT name, base_model, options, enabled FROM attrib.model_config ORDER BY name;

-- ------------------------------------------------------------------
-- Invariants (back to the defaults of this fixture: account scope, 365 days)
-- ------------------------------------------------------------------

-- every enabled additive model credits every opportunity exactly, in its currency and in
-- the reporting currency (the unattributed row included); no weight is negative
SELECT count(DISTINCT r.name) >= 14 AS models_checked,
	   count(*) = 6 * count(DISTINCT r.name) AS every_opportunity,
	   count(*) FILTER (WHERE c.credited IS DISTINCT FROM j.amount) AS inexact,
	   count(*) FILTER (WHERE c.credited_reporting IS DISTINCT FROM j.amount_reporting) AS inexact_reporting,
	   count(*) FILTER (WHERE c.min_weight < 0) AS negative,
	   count(*) FILTER (WHERE abs(c.weights - 1) > 1e-9) AS weights_not_1
FROM attrib.journey_cache j
CROSS JOIN attrib.model_registry r
LEFT JOIN LATERAL (SELECT sum(x.credit) AS credited, sum(x.credit_reporting) AS credited_reporting,
						  min(x.weight) AS min_weight, sum(x.weight) AS weights
				   FROM attrib.credit_cache x
				   WHERE x.account_id = j.account_id AND x.opportunity_id = j.opportunity_id
					 AND x.model = r.name) c ON true
WHERE r.enabled AND r.additive;
-- (the failures, if any)
SELECT j.opportunity_id, c.model, j.amount, sum(c.credit), j.amount_reporting, sum(c.credit_reporting)
FROM attrib.journey_cache j JOIN attrib.credit_cache c USING (account_id, opportunity_id)
JOIN attrib.model_registry r ON r.name = c.model AND r.additive
GROUP BY j.opportunity_id, c.model, j.amount, j.amount_reporting
HAVING sum(c.credit) <> j.amount OR sum(c.credit_reporting) <> j.amount_reporting;

-- for every additive model the channel totals are the won revenue and the pipeline:
-- won 1000.00 + 600.00 + 2167.39 + 300.00 = 4067.39, open 535.00
SELECT sum(amount_reporting) FILTER (WHERE status = 'won') AS won,
	   sum(amount_reporting) FILTER (WHERE status = 'open') AS pipeline
FROM attrib.journey_cache;
SELECT count(*) >= 14 AS models,
	   bool_and(won = 4067.39) AS won_total, bool_and(pipeline = 535.00) AS pipeline_total
FROM (SELECT model, sum(won_revenue) AS won, sum(pipeline) AS pipeline
	  FROM attrib.revenue_by_channel GROUP BY model) x;
SELECT model, sum(won_revenue), sum(pipeline) FROM attrib.revenue_by_channel
GROUP BY model HAVING sum(won_revenue) <> 4067.39 OR sum(pipeline) <> 535.00;
-- and so are the totals of every other additive rollup (month, account, contact, owner, campaign)
SELECT v, count(*) >= 14 AS models, bool_and(won = 4067.39 AND pipeline = 535.00) AS totals
FROM (SELECT 'by_campaign' AS v, model, sum(won_revenue) AS won, sum(pipeline) AS pipeline FROM attrib.revenue_by_campaign GROUP BY model
	  UNION ALL SELECT 'by_account', model, sum(won_revenue), sum(pipeline) FROM attrib.revenue_by_account GROUP BY model
	  UNION ALL SELECT 'by_contact', model, sum(won_revenue), sum(pipeline) FROM attrib.revenue_by_contact GROUP BY model
	  UNION ALL SELECT 'by_owner', model, sum(won_revenue), sum(pipeline) FROM attrib.revenue_by_owner GROUP BY model
	  UNION ALL SELECT 'by_month', model, sum(won_revenue), sum(pipeline) FROM attrib.revenue_by_month GROUP BY model) x
GROUP BY v ORDER BY v;

-- refresh twice: identical journeys and credits
CREATE TEMP TABLE credits_1 AS SELECT * FROM attrib.credit_cache;
CREATE TEMP TABLE journeys_1 AS SELECT account_id, opportunity_id, status, amount, currency,
	amount_reporting, created_at, closed_at, lead_created_at, journey::text AS journey FROM attrib.journey_cache;
SELECT opportunities FROM attrib.refresh();
SELECT (SELECT count(*) FROM credits_1) > 0 AS credits,
	   (SELECT count(*) FROM credits_1) = (SELECT count(*) FROM attrib.credit_cache) AS same_count,
	   NOT EXISTS (SELECT * FROM credits_1 EXCEPT SELECT * FROM attrib.credit_cache)
	   AND NOT EXISTS (SELECT * FROM attrib.credit_cache EXCEPT SELECT * FROM credits_1) AS same_credits,
	   NOT EXISTS (SELECT * FROM journeys_1 EXCEPT SELECT account_id, opportunity_id, status, amount, currency,
			amount_reporting, created_at, closed_at, lead_created_at, journey::text FROM attrib.journey_cache)
	   AND (SELECT count(*) FROM journeys_1) = (SELECT count(*) FROM attrib.journey_cache) AS same_journeys;
-- the ordered dumps agree byte for byte
SELECT (SELECT md5(string_agg(c::text, E'\n' ORDER BY account_id, opportunity_id, model, touch_index)) FROM credits_1 c)
	 = (SELECT md5(string_agg(c::text, E'\n' ORDER BY account_id, opportunity_id, model, touch_index)) FROM attrib.credit_cache c)
	   AS same_dump;

-- credit_arrays (what refresh stores) gives exactly credit_split's rows, one row
-- per model, the touches in ascending position; the stored credit_store rows
-- are those arrays (plus the unattributed {0} rows of additive models)
CREATE TEMP TABLE ms AS
SELECT array_agg(m ORDER BY m) AS names, array_agg(m ORDER BY m) AS models,
	   array_agg('{}'::jsonb) AS options
FROM unnest('{first_touch,last_touch,linear,position_based,w_shaped,time_decay,influence}'::text[]) m;
CREATE TEMP TABLE by_split AS
SELECT j.opportunity_id, k.model, k.touch_index, k.touch_id, k.weight, k.credit, k.credit_reporting
FROM attrib.journey_cache j, ms,
	 attrib.credit_split(j.journey, ms.names, ms.models, ms.options, j.amount, 2, j.amount_reporting, 2) k;
CREATE TEMP TABLE by_arrays AS
SELECT j.opportunity_id, k.*
FROM attrib.journey_cache j, ms,
	 attrib.credit_arrays(j.journey, ms.names, ms.models, ms.options, j.amount, 2, j.amount_reporting, 2) k;
-- (the credited touches counted a third way, through attrib.credits per model)
SELECT (SELECT count(*) FROM by_split) > 0 AS some_credits,
	   (SELECT count(*) FROM by_split) = (SELECT count(*) FROM attrib.journey_cache j, ms, unnest(ms.models) m,
											 attrib.credits(j.journey, m, j.amount) c WHERE c.weight > 0)
		   AS split_rows_as_credits,
	   (SELECT count(*) FROM by_split) = (SELECT sum(cardinality(touch_index)) FROM by_arrays)
		   AS array_elements_as_split,
	   (SELECT count(*) FROM by_arrays WHERE cardinality(touch_index) = 0
		  OR cardinality(touch_id) <> cardinality(touch_index) OR cardinality(weight) <> cardinality(touch_index)
		  OR cardinality(credit) <> cardinality(touch_index)
		  OR cardinality(credit_reporting) <> cardinality(touch_index)) AS ragged,
	   (SELECT count(*) FROM by_arrays a
		WHERE touch_index <> ARRAY(SELECT x FROM unnest(a.touch_index) x ORDER BY x)) AS unordered,
	   (SELECT count(*) FROM (SELECT opportunity_id, model FROM by_arrays
							  GROUP BY 1, 2 HAVING count(*) > 1) d) AS duplicate_models;
SELECT count(*) AS differing FROM (
	(SELECT * FROM by_split
	 EXCEPT ALL
	 SELECT a.opportunity_id, a.model, u.* FROM by_arrays a,
		ROWS FROM (unnest(a.touch_index), unnest(a.touch_id), unnest(a.weight), unnest(a.credit),
				   unnest(a.credit_reporting)) u)
	UNION ALL
	(SELECT a.opportunity_id, a.model, u.* FROM by_arrays a,
		ROWS FROM (unnest(a.touch_index), unnest(a.touch_id), unnest(a.weight), unnest(a.credit),
				   unnest(a.credit_reporting)) u
	 EXCEPT ALL
	 SELECT * FROM by_split)) d;
-- the stored rows: every enabled rule-based model of every journey, as credit_arrays
-- gives it at the stored scales, or {0} with the whole amount when an additive model
-- credits nothing (a non-additive one then has no row); both counted again through
-- attrib.credits
CREATE TEMP TABLE model_opts AS
SELECT r.name, r.base_model, r.additive,
	   jsonb_build_object('direct_channels', (SELECT e.direct_channels FROM attrib.effective_settings e)
			|| coalesce((SELECT array_agg(ch.channel) FROM attrib.channels ch WHERE ch.is_direct), '{}'))
		|| r.options AS options
FROM attrib.model_registry r WHERE r.enabled AND NOT r.data_driven;
SELECT count(*) = (SELECT count(*) FROM attrib.journey_cache j2, model_opts o
				   WHERE o.additive OR EXISTS (SELECT 1 FROM attrib.credits(j2.journey, o.base_model, j2.amount, o.options) c
											   WHERE c.weight > 0))
		   AS one_row_per_journey_and_model,
	   count(*) FILTER (WHERE s.touch_index = '{0}' AND s.touch_id = '{NULL}' AND s.weight = '{1}'
						AND s.credit = ARRAY[j.amount] AND s.credit_reporting = ARRAY[j.amount_reporting])
		 = (SELECT count(*) FROM attrib.journey_cache j2, model_opts o
			WHERE o.additive AND NOT EXISTS (SELECT 1 FROM attrib.credits(j2.journey, o.base_model, j2.amount, o.options) c
											 WHERE c.weight > 0)) AS unattributed_as_credits,
	   count(*) FILTER (WHERE s.touch_index <> '{0}' AND NOT EXISTS (
			SELECT 1 FROM attrib.credit_arrays(j.journey, ARRAY[s.model], ARRAY[r.base_model],
					ARRAY[jsonb_build_object('direct_channels', (SELECT e.direct_channels FROM attrib.effective_settings e)
							|| coalesce((SELECT array_agg(ch.channel) FROM attrib.channels ch WHERE ch.is_direct), '{}'))
						  || r.options],
					j.amount, attrib.currency_scale(j.currency),
					j.amount_reporting, attrib.currency_scale((SELECT e.reporting_currency FROM attrib.effective_settings e))) k
			WHERE (k.touch_index, k.touch_id, k.weight, k.credit, k.credit_reporting)
				= (s.touch_index, s.touch_id, s.weight, s.credit, s.credit_reporting))) AS not_as_computed
FROM attrib.credit_store s
JOIN attrib.journey_cache j USING (account_id, opportunity_id)
JOIN attrib.model_registry r ON r.name = s.model AND NOT r.data_driven;
-- a model set that changes from row to row is read afresh for each row (both
-- functions once reused the previous row's set when the new arguments landed
-- at the same address: the credits of another model, silently)
WITH o AS (SELECT * FROM model_opts)
SELECT count(*) = (SELECT count(*) FROM attrib.credit_store WHERE touch_index <> '{0}')
		   AND count(*) > 0 AS every_credited_row,
	   count(*) FILTER (WHERE k.model IS DISTINCT FROM s.model
						OR k.touch_index IS DISTINCT FROM s.touch_index) AS arrays_wrong,
	   count(*) FILTER (WHERE (SELECT array_agg(x.touch_index ORDER BY x.touch_index)
							   FROM attrib.credit_split(j.journey, ARRAY[s.model], ARRAY[o.base_model],
									ARRAY[o.options], j.amount, 2, j.amount_reporting, 2) x
							   WHERE x.model = s.model) IS DISTINCT FROM s.touch_index) AS split_wrong
FROM attrib.credit_store s
JOIN attrib.journey_cache j USING (account_id, opportunity_id)
JOIN o ON o.name = s.model
LEFT JOIN LATERAL attrib.credit_arrays(j.journey, ARRAY[s.model], ARRAY[o.base_model], ARRAY[o.options],
									   j.amount, 2, j.amount_reporting, 2) k ON true
WHERE s.touch_index <> '{0}';
-- a NULL journey gives no row; the arrays must agree
SELECT count(*) AS rows_for_null FROM ms, attrib.credit_arrays(NULL, ms.names, ms.models, ms.options, 1, 2, 1, 2);
SELECT try($$SELECT * FROM attrib.credit_arrays('{"touches":[]}', '{a,b}', '{linear}', '{}', 1, 2, 1, 2)$$);

-- clean up for later suites
DELETE FROM attrib.model_config;
DELETE FROM attrib.settings;
DELETE FROM attrib.accounts;
DELETE FROM attrib.exchange_rates;
DELETE FROM attrib.campaigns;
DELETE FROM attrib.channels;
SELECT opportunities FROM attrib.refresh();
RESET TimeZone;
RESET DateStyle;
RESET IntervalStyle;
