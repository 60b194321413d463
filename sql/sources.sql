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
