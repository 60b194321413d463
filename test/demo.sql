-- test/demo.sql — a short tour of attrib on a generated B2B CRM.
-- Run by test/demo.sh (after CREATE EXTENSION attrib); by hand:
--   psql -X -f test/demo.sql
\set QUIET on
\set ON_ERROR_STOP on
\pset footer off
\pset null ''
SET client_min_messages = warning;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET jit = off;

\echo '== attrib demo: a generated B2B CRM (test/gen/generate.sql, scale 1), as of 2025-07-01'
\set scale 1
\ir gen/generate.sql
-- open pipeline is measured as of a fixed day, so the tour is the same every run
SELECT attrib.set_setting('as_of', '2025-07-01 00:00+00') \gset
SELECT (SELECT count(*) FROM attrib.accounts) AS accounts,
	   (SELECT count(*) FROM attrib.contacts) AS contacts,
	   (SELECT count(*) FROM attrib.opportunities WHERE is_won) AS won,
	   (SELECT count(*) FROM attrib.opportunities WHERE NOT is_won AND closed_at IS NOT NULL) AS lost,
	   (SELECT count(*) FROM attrib.opportunities WHERE closed_at IS NULL) AS open,
	   (SELECT count(*) FROM attrib.touches) AS touches,
	   (SELECT count(*) FROM attrib.stage_events) AS stage_events,
	   (SELECT count(*) FROM attrib.campaigns) AS campaigns;

-- the data-driven models are opt-in: enable Markov (order 2) and Shapley
INSERT INTO attrib.model_config (name, base_model, options) VALUES
	('markov', 'markov', '{"order": 2}'), ('shapley', 'shapley', '{}');
\echo '== SELECT attrib.refresh(): every journey, every enabled model''s credits'
SELECT opportunities AS journeys, credit_rows FROM attrib.refresh();

\echo '== Won revenue by channel under seven models (attrib.revenue_by_channel, USD)'
SELECT channel,
	   round(sum(won_revenue) FILTER (WHERE model = 'first_touch')) AS first_touch,
	   round(sum(won_revenue) FILTER (WHERE model = 'last_touch')) AS last_touch,
	   round(sum(won_revenue) FILTER (WHERE model = 'linear')) AS linear,
	   round(sum(won_revenue) FILTER (WHERE model = 'w_shaped')) AS w_shaped,
	   round(sum(won_revenue) FILTER (WHERE model = 'time_decay')) AS time_decay,
	   round(sum(won_revenue) FILTER (WHERE model = 'markov')) AS markov,
	   round(sum(won_revenue) FILTER (WHERE model = 'shapley')) AS shapley
FROM attrib.revenue_by_channel
GROUP BY channel
ORDER BY sum(won_revenue) FILTER (WHERE model = 'linear') DESC NULLS LAST, channel;

\echo '== Why the data-driven models credit what they do (attrib.data_driven_channels)'
SELECT channel, journeys, conversions,
	   round(max(effect) FILTER (WHERE model = 'markov')::numeric, 4) AS markov_removal_effect,
	   round(max(share) FILTER (WHERE model = 'markov')::numeric, 4) AS markov_share,
	   round(max(share) FILTER (WHERE model = 'shapley')::numeric, 4) AS shapley_share
FROM attrib.data_driven_channels
GROUP BY channel, journeys, conversions
ORDER BY markov_share DESC NULLS LAST, channel;

\echo '== Top campaigns by ROI, W-shaped model (attrib.campaign_roi)'
SELECT campaign_name AS campaign, channel, round(cost) AS cost, round(won_revenue) AS won_revenue,
	   round(roi, 2) AS roi
FROM attrib.campaign_roi
WHERE model = 'w_shaped' AND cost > 0
ORDER BY roi DESC NULLS LAST, campaign_id
LIMIT 8;

-- the first won deal (by id) with 7 to 10 touches and a lead-creation touch
SELECT j.account_id AS demo_account, j.opportunity_id AS demo_opportunity,
	   format('%s (%s), opportunity %s: won %s %s, created %s, closed %s', a.name, a.segment,
			  j.opportunity_id, j.amount, j.currency, j.created_at::date, j.closed_at::date) AS demo_title
FROM attrib.journey_cache j JOIN attrib.accounts a ON a.account_id = j.account_id
WHERE j.status = 'won' AND attrib.journey_length(j.journey) BETWEEN 7 AND 10
  AND EXISTS (SELECT 1 FROM attrib.touches(j.journey) t WHERE 'LC' = ANY (t.positions))
ORDER BY j.opportunity_id LIMIT 1 \gset
\echo '== One account''s journey with its milestones (attrib.journeys)'
\echo '  ' :demo_title
SELECT touch_index AS "#", occurred_at::date AS day, channel, activity, contact_id AS contact,
	   owner, array_to_string(positions, ' ') AS milestones
FROM attrib.journeys
WHERE account_id = :'demo_account' AND opportunity_id = :'demo_opportunity'
ORDER BY touch_index;

\echo '== Time to conversion, days (attrib.time_to_conversion_percentiles)'
SELECT value AS segment, measure, opportunities AS n, p25, p50, p75, p90
FROM attrib.time_to_conversion_percentiles
WHERE dimension IN ('all', 'segment')
ORDER BY dimension, array_position(ARRAY['SMB', 'Mid-Market', 'Enterprise'], value),
		 array_position(ARRAY['first_touch_to_lead', 'lead_to_opportunity', 'opportunity_to_won',
							  'first_touch_to_won'], measure);

\echo '== Revivals: accounts silent for 60+ days that came back (attrib.revivals), by reviving channel'
SELECT channel, count(*) AS revivals, count(DISTINCT account_id) AS accounts,
	   count(*) FILTER (WHERE opportunity_followed) AS opportunity_within_90d,
	   round(avg(days_silent)) AS avg_days_silent
FROM attrib.revivals
GROUP BY channel
ORDER BY revivals DESC, channel
LIMIT 8;

\echo '== Historical win rate by opportunity stage (attrib.stage_win_rates)'
SELECT stage, closed_opportunities AS closed, won_opportunities AS won, win_rate
FROM attrib.stage_win_rates
ORDER BY array_position(ARRAY['Discovery', 'Demo', 'Proposal', 'Negotiation', 'Closed Won', 'Closed Lost'], stage);

\echo '== Forecast: open pipeline by channel weighted by stage win rate, linear model (attrib.forecast)'
SELECT channel, opportunities AS open_opps, round(pipeline) AS pipeline,
	   round(weighted_pipeline) AS weighted
FROM attrib.forecast
WHERE model = 'linear'
ORDER BY weighted_pipeline DESC, channel;
