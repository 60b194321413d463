-- sources: loading from a Salesforce-shaped CRM by idempotent upsert, and reading a
-- HubSpot-shaped CRM in place through attrib.map_source (the README's two examples)
SET client_min_messages = warning;
-- a clean slate: earlier suites leave CRM rows, settings and models behind
TRUNCATE attrib.accounts, attrib.contacts, attrib.opportunities, attrib.opportunity_contact_roles,
	attrib.stage_events, attrib.touches, attrib.campaigns, attrib.channels, attrib.exchange_rates;
DELETE FROM attrib.model_config;
DELETE FROM attrib.settings;

-- Salesforce-shaped tables (Bizible touchpoints as the touches)
CREATE SCHEMA sf;
CREATE TABLE sf.account (id text PRIMARY KEY, name text, industry text);
CREATE TABLE sf.contact (id text PRIMARY KEY, accountid text, email text, createddate timestamptz);
CREATE TABLE sf.opportunity (id text PRIMARY KEY, accountid text, amount numeric(18,2), currencyisocode text,
	createddate timestamptz, closedate timestamptz, iswon boolean, isclosed boolean, stagename text, ownerid text);
CREATE TABLE sf.touchpoint (id text PRIMARY KEY, accountid text, contactid text, touchpoint_date timestamptz,
	channel text, campaignid text, touchpoint_type text);
INSERT INTO sf.account VALUES ('001A', 'Acme', 'Software');
INSERT INTO sf.contact VALUES ('003A', '001A', 'ann@acme.test', '2024-02-02 00:00+00');
INSERT INTO sf.opportunity VALUES ('006A', '001A', 900.00, 'USD', '2024-02-10 00:00+00', '2024-03-01 00:00+00',
	true, true, 'Closed Won', '005R');
INSERT INTO sf.touchpoint VALUES
	('T1', '001A', '003A', '2024-02-01 00:00+00', 'paid_search', NULL, 'Web Visit'),
	('T2', '001A', '003A', '2024-02-05 00:00+00', 'email', NULL, 'Email'),
	('T3', '001A', NULL, '2024-02-20 00:00+00', 'event', NULL, 'Event');

-- README example 1: an idempotent upsert by id (run it after every sync)
INSERT INTO attrib.accounts (account_id, name, industry)
SELECT id, name, industry FROM sf.account
ON CONFLICT (account_id) DO UPDATE SET name = EXCLUDED.name, industry = EXCLUDED.industry;
INSERT INTO attrib.contacts (account_id, contact_id, email, lead_created_at)
SELECT accountid, id, email, createddate FROM sf.contact
ON CONFLICT (account_id, contact_id) DO UPDATE SET email = EXCLUDED.email, lead_created_at = EXCLUDED.lead_created_at;
INSERT INTO attrib.opportunities (account_id, opportunity_id, amount, currency, created_at, closed_at, is_won, stage, owner)
SELECT accountid, id, amount, currencyisocode, createddate, CASE WHEN isclosed THEN closedate END, iswon, stagename, ownerid
FROM sf.opportunity
ON CONFLICT (account_id, opportunity_id) DO UPDATE SET amount = EXCLUDED.amount, currency = EXCLUDED.currency,
	closed_at = EXCLUDED.closed_at, is_won = EXCLUDED.is_won, stage = EXCLUDED.stage, owner = EXCLUDED.owner;
INSERT INTO attrib.touches (account_id, touch_id, occurred_at, channel, campaign_id, contact_id, activity)
SELECT accountid, id, touchpoint_date, channel, campaignid, contactid, touchpoint_type FROM sf.touchpoint
ON CONFLICT (account_id, touch_id) DO UPDATE SET occurred_at = EXCLUDED.occurred_at, channel = EXCLUDED.channel,
	campaign_id = EXCLUDED.campaign_id, contact_id = EXCLUDED.contact_id, activity = EXCLUDED.activity;
RESET client_min_messages;

SELECT opportunities FROM attrib.refresh();
-- touches T1 1 Feb, T2 5 Feb, T3 20 Feb; lead created 2 Feb -> LC is T1 (the last
-- touch at or before it); opportunity created 10 Feb -> OC is T2; closed won 1 Mar ->
-- CW is T3: FT+LC T1, OC T2, CW+LT T3
SELECT touch_id, positions FROM attrib.journeys WHERE opportunity_id = '006A' ORDER BY touch_index;
-- linear: 300.00 each; W-shaped: FT+LC T1 60% + middle spread, OC T2 30%, T3 past the
-- cut (OC): FT .3 + LC .3, OC .3, no middle -> .1 spread over 3 present positions:
-- T1 .3+.3+2(.1/3) = 2/3 -> 600.00, T2 .3+.1/3 = 1/3 -> 300.00, T3 0
SELECT model, touch_id, credit FROM attrib.touch_credits
WHERE opportunity_id = '006A' AND model IN ('linear', 'w_shaped') ORDER BY model, touch_index;
-- a second sync with a changed amount updates in place
UPDATE sf.opportunity SET amount = 1200.00;
INSERT INTO attrib.opportunities (account_id, opportunity_id, amount, currency, created_at, closed_at, is_won, stage, owner)
SELECT accountid, id, amount, currencyisocode, createddate, CASE WHEN isclosed THEN closedate END, iswon, stagename, ownerid
FROM sf.opportunity
ON CONFLICT (account_id, opportunity_id) DO UPDATE SET amount = EXCLUDED.amount;
SELECT opportunities FROM attrib.refresh_incremental();
SELECT sum(credit) FROM attrib.touch_credits WHERE opportunity_id = '006A' AND model = 'linear';

-- HubSpot-shaped tables, read in place
CREATE SCHEMA hs;
CREATE TABLE hs.companies (company_id bigint PRIMARY KEY, name text);
CREATE TABLE hs.deals (deal_id bigint PRIMARY KEY, company_id bigint, amount numeric, createdate timestamptz,
	closedate timestamptz, dealstage text);
CREATE TABLE hs.engagements (engagement_id bigint PRIMARY KEY, company_id bigint, occurred timestamptz,
	source text, type text);
INSERT INTO hs.companies VALUES (1, 'Globex');
INSERT INTO hs.deals VALUES (77, 1, 500, '2024-05-01 00:00+00', NULL, 'appointmentscheduled');
INSERT INTO hs.engagements VALUES
	(10, 1, '2024-04-01 00:00+00', 'organic_search', 'web_visit'),
	(11, 1, '2024-04-15 00:00+00', 'paid_social', 'ad_click');

-- README example 2: views that name attrib's columns, then map_source
CREATE VIEW hs.attrib_accounts AS SELECT company_id::text AS account_id, name FROM hs.companies;
CREATE VIEW hs.attrib_opportunities AS
SELECT company_id::text AS account_id, deal_id::text AS opportunity_id, amount, 'USD' AS currency,
	   createdate AS created_at, closedate AS closed_at, dealstage = 'closedwon' AS is_won, dealstage AS stage
FROM hs.deals;
CREATE VIEW hs.attrib_touches AS
SELECT company_id::text AS account_id, engagement_id::text AS touch_id, occurred AS occurred_at,
	   source AS channel, type AS activity
FROM hs.engagements;
SELECT attrib.map_source('accounts', 'hs.attrib_accounts');
SELECT attrib.map_source('opportunities', 'hs.attrib_opportunities');
SELECT attrib.map_source('touches', 'hs.attrib_touches');
SELECT try($$SELECT attrib.map_source('touches', 'hs.companies')$$);
SELECT try($$SELECT attrib.map_source('deals', 'hs.deals')$$);
SELECT entity, relation FROM attrib.source_map ORDER BY entity;

SELECT opportunities FROM attrib.refresh();
-- the open deal 77 (500, as_of not set: now) gets its two engagements: linear 250 each;
-- the Salesforce rows are no longer read
SELECT opportunity_id, status, touch_id, channel, credit FROM attrib.touch_credits WHERE model = 'linear'
ORDER BY opportunity_id, touch_index;
-- touch_type, missing in the view, reads as its default
SELECT DISTINCT touch_type FROM attrib.src_touches;

-- back to attrib's own tables
SELECT attrib.map_source('accounts', NULL), attrib.map_source('opportunities', NULL),
	   attrib.map_source('touches', NULL);
SELECT count(*) AS mapped FROM attrib.source_map;
SELECT opportunities FROM attrib.refresh();
DELETE FROM attrib.touches; DELETE FROM attrib.opportunities; DELETE FROM attrib.contacts; DELETE FROM attrib.accounts;
SELECT opportunities FROM attrib.refresh();

-- On attrib's own tables, refresh builds each journey with a range scan per
-- opportunity; with a mapped touches or contact-roles source, with a join
-- grouped by opportunity.  Both must give the same journeys and credits under
-- every contact scope, with and without a lookback.
-- Accounts a1..a4, one opportunity each (a1, a3 won 2024-06-01 .. 2024-09-01;
-- a2, a4 open from 2024-06-01), contacts c1..c3, roles c1 (primary) and c2;
-- touches t1..t30 on 2023-01-01 + 25 i days, by contact c(i % 4), account-level
-- when i % 4 = 0; a1 also has c1 touches exactly on its window's ends
-- (2023-06-02 with the 365-day lookback, and 2024-09-01).  a5's opportunity
-- closed in 2020, before all its touches: an empty journey.  By hand:
-- lookback 365 days (window from 2023-06-02): won i = 7..24, open i = 7..30;
--   account 2 * 18 + 2 * 24 + 2 = 86, contact_roles (i % 4 in 1, 2)
--   2 * 8 + 2 * 12 + 2 = 42, primary_contact (i % 4 = 1) 2 * 4 + 2 * 6 + 2 = 22;
-- no lookback: won i = 1..24, open i = 1..30;
--   account 2 * 24 + 2 * 30 + 2 = 110, contact_roles 2 * 12 + 2 * 16 + 2 = 58,
--   primary_contact 2 * 6 + 2 * 8 + 2 = 30.
INSERT INTO attrib.accounts (account_id) SELECT 'a' || a FROM generate_series(1, 5) a;
INSERT INTO attrib.contacts (account_id, contact_id, lead_created_at)
SELECT 'a' || a, 'c' || c, timestamptz '2023-03-01' + c * interval '30 days'
FROM generate_series(1, 5) a, generate_series(1, 3) c;
INSERT INTO attrib.opportunities (account_id, opportunity_id, amount, created_at, closed_at, is_won)
SELECT 'a' || a, 'o1', 1000 * a, timestamptz '2024-06-01', CASE WHEN a % 2 = 1 THEN timestamptz '2024-09-01' END, a % 2 = 1
FROM generate_series(1, 4) a
UNION ALL SELECT 'a5', 'o1', 500, timestamptz '2020-01-01', timestamptz '2020-02-01', true;
INSERT INTO attrib.opportunity_contact_roles (account_id, opportunity_id, contact_id, is_primary)
SELECT 'a' || a, 'o1', 'c' || c, c = 1 FROM generate_series(1, 5) a, generate_series(1, 2) c;
INSERT INTO attrib.touches (account_id, touch_id, occurred_at, channel, contact_id)
SELECT 'a' || a, 't' || i, timestamptz '2023-01-01' + i * interval '25 days',
	   (ARRAY['email', 'paid_search', 'webinar', 'direct'])[1 + (i + a) % 4], nullif('c' || i % 4, 'c0')
FROM generate_series(1, 5) a, generate_series(1, 30) i
UNION ALL VALUES ('a1', 'start', timestamptz '2023-06-02', 'event', 'c1'),
				 ('a1', 'end', timestamptz '2024-09-01', 'event', 'c1');
CREATE VIEW hs.touches_again AS SELECT * FROM attrib.touches;
CREATE VIEW hs.roles_again AS SELECT * FROM attrib.opportunity_contact_roles;
CREATE TEMP TABLE scope_check (scope text, lookback interval, mapped text, account_id text,
							   opportunity_id text, journey text, credits text);
CREATE FUNCTION pg_temp.scope_pass(sc text, lb interval, mapped text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM attrib.settings;
	INSERT INTO attrib.settings (contact_scope, lookback) VALUES (sc, lb);
	PERFORM attrib.map_source('touches', CASE WHEN mapped = 'touches' THEN 'hs.touches_again'::regclass END);
	PERFORM attrib.map_source('opportunity_contact_roles',
							  CASE WHEN mapped = 'roles' THEN 'hs.roles_again'::regclass END);
	PERFORM attrib.refresh();
	INSERT INTO scope_check
	SELECT sc, lb, mapped, j.account_id, j.opportunity_id, j.journey::text,
		   (SELECT string_agg(c.model || ':' || c.touch_index || ':' || c.credit, ',' ORDER BY c.model, c.touch_index)
			FROM attrib.credit_cache c WHERE c.account_id = j.account_id AND c.opportunity_id = j.opportunity_id)
	FROM attrib.journey_cache j;
END $$;
SELECT count(*) AS passes FROM (
	SELECT pg_temp.scope_pass(sc, lb, m)
	FROM unnest('{account,contact_roles,primary_contact}'::text[]) sc,
		 unnest(ARRAY[interval '365 days', NULL]) lb, unnest('{own,touches,roles}'::text[]) m) x;
WITH o AS (SELECT * FROM scope_check WHERE mapped = 'own'),
	 m AS (SELECT * FROM scope_check WHERE mapped <> 'own')
SELECT o.scope, o.lookback, m.mapped, count(*) AS journeys,
	   sum(attrib.journey_length(o.journey::attrib.journey)) AS touches_own,
	   sum(attrib.journey_length(m.journey::attrib.journey)) AS touches_mapped,
	   count(*) FILTER (WHERE o.journey IS DISTINCT FROM m.journey) AS journeys_differ,
	   count(*) FILTER (WHERE o.credits IS DISTINCT FROM m.credits) AS credits_differ
FROM o FULL JOIN m ON m.scope = o.scope AND m.lookback IS NOT DISTINCT FROM o.lookback
	AND m.account_id = o.account_id AND m.opportunity_id = o.opportunity_id
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT count(*) AS empty_journeys FROM scope_check WHERE account_id = 'a5' AND attrib.journey_length(journey::attrib.journey) = 0;
SELECT attrib.map_source('touches', NULL), attrib.map_source('opportunity_contact_roles', NULL);
DELETE FROM attrib.settings;
DELETE FROM attrib.touches; DELETE FROM attrib.opportunities; DELETE FROM attrib.contacts; DELETE FROM attrib.accounts;
