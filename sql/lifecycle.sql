-- lifecycle: time to conversion, funnel, revivals, stage win rates and the
-- forecast on a hand-made CRM whose every number is worked out below.
-- Everything runs in one transaction that is rolled back, so other suites'
-- rows neither disturb this one nor are disturbed by it.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET client_min_messages = warning;
BEGIN;
DELETE FROM attrib.credit_store;
DELETE FROM attrib.journey_cache;
DELETE FROM attrib.accounts;		-- cascades to contacts, opportunities, roles, events, touches
DELETE FROM attrib.campaigns;
DELETE FROM attrib.exchange_rates;
DELETE FROM attrib.settings;
DELETE FROM attrib.model_config;

-- as_of 2024-07-01, lookback 365 days (default), account scope (default),
-- cold_after 60 (default), revival_window 52
SELECT attrib.set_setting('as_of', '2024-07-01 00:00+00');
SELECT attrib.set_setting('revival_window', '52');
-- only first_touch, last_touch, linear (and the non-additive influence) run
INSERT INTO attrib.model_config (name, base_model, enabled)
SELECT name, name, false FROM attrib.models()
WHERE name NOT IN ('first_touch', 'last_touch', 'linear', 'influence', 'custom');

INSERT INTO attrib.campaigns (campaign_id, name, channel, cost) VALUES ('cmp_ref', 'Partner referrals', 'referral', 100);
INSERT INTO attrib.accounts (account_id, name, segment) VALUES
	('A1', 'Alpha', 'SMB'), ('A2', 'Beta', 'Enterprise'), ('A3', 'Gamma', 'SMB'), ('A4', 'Delta', 'Mid-Market');
INSERT INTO attrib.contacts (account_id, contact_id, lead_created_at) VALUES
	('A1', 'c1', '2024-01-10 00:00+00'),
	('A1', 'c2', '2024-01-05 12:00+00'),
	('A2', 'd1', '2023-12-01 00:00+00'),	-- lead before A2's first touch
	('A2', 'd2', NULL),
	('A3', 'e1', NULL);
INSERT INTO attrib.opportunities (account_id, opportunity_id, amount, created_at, closed_at, is_won, stage) VALUES
	('A1', 'o1', 1000.00, '2024-02-01 00:00+00', '2024-03-02 00:00+00', true, 'Closed Won'),
	('A1', 'o2', 500.00, '2024-06-01 00:00+00', NULL, false, 'Proposal'),
	('A2', 'o3', 2000.00, '2024-03-01 00:00+00', '2024-04-15 12:00+00', true, 'Closed Won'),
	('A2', 'o5', 300.00, '2024-05-01 00:00+00', NULL, false, 'Qualification'),
	('A3', 'o4', 800.00, '2024-01-15 00:00+00', '2024-02-15 00:00+00', false, 'Closed Lost'),
	('A3', 'o6', 400.00, '2024-03-01 00:00+00', '2024-05-01 00:00+00', false, 'Closed Lost');
INSERT INTO attrib.stage_events (account_id, event_id, opportunity_id, contact_id, stage, occurred_at) VALUES
	('A1', 'ev-c1-1', NULL, 'c1', 'MQL', '2024-01-10 00:00+00'),
	('A1', 'ev-c1-2', NULL, 'c1', 'SQL', '2024-01-25 00:00+00'),
	('A1', 'ev-c2-1', NULL, 'c2', 'MQL', '2024-01-06 00:00+00'),
	('A1', 'ev-o1-1', 'o1', NULL, 'Discovery', '2024-02-01 00:00+00'),
	('A1', 'ev-o1-2', 'o1', NULL, 'Proposal', '2024-02-10 00:00+00'),
	('A1', 'ev-o1-3', 'o1', NULL, 'Negotiation', '2024-02-20 00:00+00'),
	('A1', 'ev-o1-4', 'o1', NULL, 'Closed Won', '2024-03-02 00:00+00'),
	('A1', 'ev-o2-1', 'o2', NULL, 'Discovery', '2024-06-01 00:00+00'),
	('A1', 'ev-o2-2', 'o2', NULL, 'Proposal', '2024-06-15 00:00+00'),
	('A2', 'ev-d1-1', NULL, 'd1', 'MQL', '2023-12-02 00:00+00'),
	('A2', 'ev-d1-2', NULL, 'd1', 'SAL', '2024-01-15 00:00+00'),
	('A2', 'ev-o3-1', 'o3', NULL, 'Discovery', '2024-03-01 00:00+00'),
	('A2', 'ev-o3-2', 'o3', NULL, 'Proposal', '2024-03-20 00:00+00'),
	('A2', 'ev-o3-3', 'o3', NULL, 'Closed Won', '2024-04-15 12:00+00'),
	('A2', 'ev-o5-1', 'o5', NULL, 'Qualification', '2024-05-01 00:00+00'),
	('A3', 'ev-o4-1', 'o4', NULL, 'Discovery', '2024-01-15 00:00+00'),
	('A3', 'ev-o4-2', 'o4', NULL, 'Proposal', '2024-01-25 00:00+00'),
	('A3', 'ev-o4-3', 'o4', NULL, 'Negotiation', '2024-02-05 00:00+00'),
	('A3', 'ev-o4-4', 'o4', NULL, 'Closed Lost', '2024-02-15 00:00+00'),
	('A3', 'ev-o6-1', 'o6', NULL, 'Discovery', '2024-03-01 00:00+00'),
	('A3', 'ev-o6-2', 'o6', NULL, 'Discovery', '2024-03-05 00:00+00'),	-- re-entered
	('A3', 'ev-o6-3', 'o6', NULL, 'Closed Lost', '2024-05-01 00:00+00'),
	('A3', 'ev-e1-1', NULL, 'e1', 'Recycled', '2024-05-01 00:00+00');	-- same time as ev-o6-3
INSERT INTO attrib.touches (account_id, touch_id, occurred_at, channel, campaign_id, contact_id) VALUES
	('A1', 't101', '2023-12-01 00:00+00', 'paid_search', NULL, 'c1'),
	('A1', 't102', '2024-01-05 00:00+00', 'email', NULL, 'c2'),
	('A1', 't103', '2024-01-20 00:00+00', 'webinar', NULL, 'c1'),
	('A1', 't104', '2024-04-10 00:00+00', 'email', NULL, 'c1'),
	('A1', 't105', '2024-05-20 00:00+00', 'direct', NULL, NULL),
	('A1', 't106', '2024-06-10 00:00+00', 'sales_call', NULL, 'c1'),
	('A2', 't201', '2024-01-10 00:00+00', 'event', NULL, 'd1'),
	('A2', 't202', '2024-02-20 06:00+00', 'paid_social', NULL, 'd2'),
	('A2', 't203', '2024-03-10 00:00+00', 'demo', NULL, 'd1'),
	('A2', 't204', '2024-05-05 00:00+00', 'webinar', NULL, NULL),
	('A3', 't301', '2023-10-01 00:00+00', 'organic_search', NULL, 'e1'),
	('A3', 't302', '2024-01-01 00:00+00', 'referral', 'cmp_ref', 'e1'),
	('A3', 't303', '2024-03-01 00:00+00', 'sales_email', NULL, 'e1'),
	('A3', 't304', '2024-04-29 23:00+00', 'email', NULL, 'e1'),
	('A4', 't401', '2024-01-01 00:00+00', 'display', NULL, NULL),
	('A4', 't402', '2024-04-01 00:00+00', 'display', NULL, NULL);
SELECT opportunities FROM attrib.refresh();

-- ---------------------------------------------------------------------------
-- time_to_conversion
--   journeys (window: created - 365 days .. close, or as_of for open):
--     o1 {t101, t102, t103} (t104.. after close); o2 {t101 .. t106};
--     o3 {t201, t202, t203} (t204 after close); o5 {t201 .. t204};
--     o4 {t301, t302}; o6 {t301 .. t304}
--   lead: A1 min(c1 01-10, c2 01-05 12:00) = 2024-01-05 12:00; A2 d1 2023-12-01;
--     A3 none
--   o1: FT t101 2023-12-01 paid_search
--       FT -> lead 2023-12-01 -> 2024-01-05 12:00 = 31 + 4.5 = 35.50
--       lead -> opp 2024-01-05 12:00 -> 02-01 = 26.50
--       opp -> won 02-01 -> 03-02 (29-day February) = 30.00
--       FT -> won 2023-12-01 -> 2024-03-02 = 31 + 31 + 29 + 1 = 92.00
--   o2 (open): FT t101, 35.50; lead -> opp 01-05 12:00 -> 06-01
--       = 26.5 + 29 + 31 + 30 + 31 = 147.50; won steps NULL
--   o3: FT t201 2024-01-10 event; the lead (2023-12-01) came first: NULL
--       lead -> opp 2023-12-01 -> 2024-03-01 = 31 + 31 + 29 = 91.00
--       opp -> won 03-01 -> 04-15 12:00 = 31 + 14.5 = 45.50
--       FT -> won 01-10 -> 04-15 12:00 = 31 + 29 + 31 + 5.5 = 96.50
--   o5 (open): FT t201; FT -> lead NULL; lead -> opp 2023-12-01 -> 2024-05-01
--       = 31 + 31 + 29 + 31 + 30 = 152.00
--   o4, o6 (lost, no lead): FT t301 2023-10-01 organic_search, every step NULL
-- ---------------------------------------------------------------------------
SELECT account_id, opportunity_id, status, segment, first_touch_at, first_touch_channel,
	   lead_created_at, created_at, closed_at
FROM attrib.time_to_conversion ORDER BY opportunity_id;
SELECT opportunity_id, days_first_touch_to_lead, days_lead_to_opportunity,
	   days_opportunity_to_won, days_first_touch_to_won
FROM attrib.time_to_conversion ORDER BY opportunity_id;

-- ---------------------------------------------------------------------------
-- time_to_conversion_percentiles (percentile_cont: position p * (n - 1))
--   all, first_touch_to_lead {35.5, 35.5}: every percentile 35.50, avg 35.50
--   all, lead_to_opportunity sorted {26.5, 91, 147.5, 152}, n 4, avg 417 / 4 = 104.25
--     p25 pos 0.75: 26.5 + 0.75 * 64.5 = 74.875 -> 74.88
--     p50 pos 1.5:  91 + 0.5 * 56.5 = 119.25
--     p75 pos 2.25: 147.5 + 0.25 * 4.5 = 148.625 -> 148.63
--     p90 pos 2.7:  147.5 + 0.7 * 4.5 = 150.65
--   all, opportunity_to_won {30, 45.5}: avg 37.75; p25 30 + 0.25 * 15.5 = 33.875 -> 33.88;
--     p50 37.75; p75 41.625 -> 41.63; p90 30 + 0.9 * 15.5 = 43.95
--   all, first_touch_to_won {92, 96.5}: avg 94.25; p25 93.125 -> 93.13; p50 94.25;
--     p75 95.375 -> 95.38; p90 92 + 0.9 * 4.5 = 96.05
--   first_touch_channel paid_search = segment SMB (o1, o2; o4 and o6 have no measure):
--     first_touch_to_lead {35.5, 35.5}; lead_to_opportunity {26.5, 147.5}: avg 87,
--     p25 26.5 + 0.25 * 121 = 56.75, p50 87, p75 117.25, p90 26.5 + 108.9 = 135.40;
--     opportunity_to_won {30}; first_touch_to_won {92}
--   first_touch_channel event = segment Enterprise (o3, o5): lead_to_opportunity {91, 152}:
--     avg 121.5, p25 91 + 15.25 = 106.25, p50 121.5, p75 136.75, p90 91 + 54.9 = 145.90;
--     opportunity_to_won {45.5}; first_touch_to_won {96.5}
--   organic_search has no measure at all: no rows
-- ---------------------------------------------------------------------------
SELECT * FROM attrib.time_to_conversion_percentiles ORDER BY dimension, value, measure;

-- ---------------------------------------------------------------------------
-- funnel_history: per subject (opportunity, else contact), next event's time
--   c1 MQL 01-10 -> SQL 01-25: 15.00;  c2 MQL: latest;  d1 MQL 12-02 -> SAL 01-15: 44.00
--   o1 Discovery 02-01 -> Proposal 02-10: 9.00 -> Negotiation 02-20: 10.00
--      -> Closed Won 03-02: 11.00 (29-day February)
--   o2 Discovery 06-01 -> Proposal 06-15: 14.00
--   o3 Discovery 03-01 -> Proposal 03-20: 19.00 -> Closed Won 04-15 12:00: 26.50
--   o4 Discovery 01-15 -> Proposal 01-25: 10.00 -> Negotiation 02-05: 11.00
--      -> Closed Lost 02-15: 10.00
--   o6 Discovery 03-01 -> Discovery (re-entered) 03-05: 4.00 -> Closed Lost 05-01:
--      26 + 31 = 57.00
-- ---------------------------------------------------------------------------
SELECT account_id, subject_type, coalesce(opportunity_id, contact_id) AS subject, stage,
	   entered_at, exited_at, next_stage, days_in_stage
FROM attrib.funnel_history ORDER BY account_id, subject_type, subject, entered_at, event_id;

-- ---------------------------------------------------------------------------
-- account_funnel: the latest event's stage
--   A1: latest ev-o2-2 Proposal 2024-06-15; stages MQL SQL Discovery Proposal
--       Negotiation "Closed Won" = 6, passed 5; 9 events
--   A2: latest ev-o5-1 Qualification 2024-05-01; MQL SAL Discovery Proposal
--       "Closed Won" Qualification = 6, passed 5; 6 events
--   A3: ev-o6-3 and ev-e1-1 both at 2024-05-01: 'ev-o6-3' > 'ev-e1-1' bytewise, so
--       Closed Lost; Discovery Proposal Negotiation "Closed Lost" Recycled = 5, passed 4;
--       8 events
--   A4: no events: NULL stage, 0, 0
-- ---------------------------------------------------------------------------
SELECT account_id, name, segment, current_stage, entered_at, subject_type, opportunity_id,
	   contact_id, event_id, stages_passed, events
FROM attrib.account_funnel ORDER BY account_id;

-- ---------------------------------------------------------------------------
-- revivals (cold_after 60, revival_window 52): gaps between consecutive touches
--   A1: t101 -> t102 35 d, t102 -> t103 15 d, t103 01-20 -> t104 04-10 = 11 + 29 + 31 + 10
--       = 81 d: revival; o2 created 06-01 = 21 + 31 = 52 d after t104: inclusive, follows;
--       t104 -> t105 40 d, t105 -> t106 21 d
--   A2: 41.25, 18.75, 56 d: none
--   A3: t301 10-01 -> t302 01-01 = 92 d: revival, o4 14 d later follows (o6 at 60 d does not);
--       t302 -> t303 03-01 = 31 + 29 = 60.00 d: revival (>= cold_after), o6 created the
--       same instant follows; t303 -> t304 04-29 23:00 = 59.96 d: not cold
--   A4: t401 01-01 -> t402 04-01 = 91 d: revival, no opportunity
-- ---------------------------------------------------------------------------
SELECT * FROM attrib.revivals ORDER BY account_id, occurred_at;
-- one day less of window: o2 (52 days after t104) no longer follows
SELECT attrib.set_setting('revival_window', '51');
SELECT account_id, touch_id, opportunity_followed, followed_by_opportunity_id
FROM attrib.revivals ORDER BY account_id, occurred_at;
-- cold after 61 days: only the 81, 92 and 91 day silences remain
SELECT attrib.set_setting('cold_after', '61');
SELECT account_id, touch_id, days_silent FROM attrib.revivals ORDER BY account_id, occurred_at;

-- ---------------------------------------------------------------------------
-- stage_win_rates: closed opportunities o1 (won), o3 (won), o4 (lost), o6 (lost);
-- open o2 and o5 do not count, contact events neither
--   Discovery   o1 o3 o4 o6 (o6 twice, counted once): 4 closed, 2 won, 0.5000
--   Proposal    o1 o3 o4: 3, 2, 0.6667
--   Negotiation o1 o4: 2, 1, 0.5000
--   Closed Won  o1 o3: 2, 2, 1.0000;  Closed Lost o4 o6: 2, 0, 0.0000
-- ---------------------------------------------------------------------------
SELECT * FROM attrib.stage_win_rates ORDER BY stage COLLATE "C";

-- ---------------------------------------------------------------------------
-- forecast: open o2 (500.00, stage Proposal: win rate 2/3) and o5 (300.00, stage
-- Qualification: no history, unrated, weighs 0)
--   o2 journey t101 paid_search, t102 email, t103 webinar, t104 email, t105 direct,
--      t106 sales_call; linear 500 / 6 = 83.33 each, the 2 cents left go to t101, t102:
--      paid_search 83.34, email 83.34 + 83.33 = 166.67, webinar, direct, sales_call 83.33
--   o5 journey t201 event, t202 paid_social, t203 demo, t204 webinar; linear 75.00 each
--   first_touch: paid_search 500.00, weighted 500 * 2/3 = 333.33, unrated 0.00;
--     event 300.00, weighted 0.00, unrated 300.00
--   last_touch:  sales_call 500.00, 333.33, 0.00;  webinar 300.00, 0.00, 300.00
--   linear: paid_search 83.34 -> 55.56; email 166.67 -> 111.11; direct 83.33 -> 55.55;
--     sales_call 83.33 -> 55.55; webinar 83.33 + 75.00 = 158.33 over 2 opportunities,
--     weighted 55.55, unrated 75.00; event, paid_social, demo 75.00, weighted 0.00, unrated 75.00;
--     the others unrated 0.00
--   influence is not additive: absent.
--   Totals per model: pipeline 800.00, unrated 300.00; weighted 500 * 2/3 = 333.33 for
--   first_touch and last_touch, but linear's channels are rounded one by one:
--   55.56 + 111.11 + 55.55 * 3 = 333.32
-- ---------------------------------------------------------------------------
SELECT * FROM attrib.forecast ORDER BY model, channel;
SELECT model, sum(pipeline) AS pipeline, sum(weighted_pipeline) AS weighted,
	   sum(unrated_pipeline) AS unrated
FROM attrib.forecast GROUP BY model ORDER BY model;

-- ---------------------------------------------------------------------------
-- row-level security: a reader who may not see opportunity o2 loses it everywhere:
--   time_to_conversion: 5 opportunities, none o2
--   forecast: only o5 is left, 300.00 per model, weighted 0.00 (unrated)
--   funnel_history: A1 has 9 - 2 = 7 events; its current stage falls back to
--   ev-o1-4 Closed Won (2024-03-02)
-- ---------------------------------------------------------------------------
CREATE ROLE regress_lifecycle_reader;
GRANT USAGE ON SCHEMA attrib TO regress_lifecycle_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA attrib TO regress_lifecycle_reader;
ALTER TABLE attrib.opportunities ENABLE ROW LEVEL SECURITY;
CREATE POLICY regress_hide_o2 ON attrib.opportunities USING (opportunity_id <> 'o2');
SET ROLE regress_lifecycle_reader;
SELECT count(*) AS opportunities, count(*) FILTER (WHERE opportunity_id = 'o2') AS o2
FROM attrib.time_to_conversion;
SELECT model, sum(pipeline) AS pipeline, sum(weighted_pipeline) AS weighted
FROM attrib.forecast GROUP BY model ORDER BY model;
SELECT count(*) AS events FROM attrib.funnel_history WHERE account_id = 'A1';
SELECT account_id, current_stage, event_id FROM attrib.account_funnel WHERE account_id = 'A1';
RESET ROLE;

ROLLBACK;
RESET client_min_messages;
RESET TimeZone;
RESET DateStyle;
