
-- ------------------------------------------------------------------
-- lifecycle.sql — the SPEC §5 reports that need no credits (time to
-- conversion, the funnel, revivals, stage win rates) and the stage-weighted
-- forecast.  They read the CRM only through the src_* views, the stored
-- journeys (journey_cache) and effective_settings, run with the querying
-- user's rights (security_invoker), and group per (account_id,
-- opportunity_id) or per account first, so the same SQL distributes by
-- account on Citus.  Decisions are written down in docs/reports-lifecycle.md.
-- ------------------------------------------------------------------

-- Each instant is measured from PostgreSQL's own epoch (2000-01-01 UTC, where
-- the stored value is 0), so neither subtraction can overflow: to_at - from_at
-- itself wraps around (PostgreSQL 15 does not check) for instants more than
-- ~292,000 years apart.  EXTRACT(epoch FROM interval) is exact numeric.
CREATE FUNCTION @extschema@.days_between(from_at pg_catalog.timestamptz, to_at pg_catalog.timestamptz)
RETURNS pg_catalog.numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN pg_catalog.round((EXTRACT(epoch FROM to_at - '2000-01-01 00:00:00+00'::pg_catalog.timestamptz)
	- EXTRACT(epoch FROM from_at - '2000-01-01 00:00:00+00'::pg_catalog.timestamptz)) / 86400, 2);
COMMENT ON FUNCTION @extschema@.days_between(pg_catalog.timestamptz, pg_catalog.timestamptz) IS
'Elapsed time from from_at to to_at in days of 24 hours (independent of the time zone and of daylight saving), rounded to 2 decimals; negative when to_at is earlier; NULL when either is NULL. Exact over the whole timestamp range.';

-- ------------------------------------------------------------------
-- Time to conversion
-- ------------------------------------------------------------------

CREATE VIEW @extschema@.time_to_conversion WITH (security_invoker = true) AS
SELECT j.account_id, j.opportunity_id, j.status, a.segment,
	   ft.occurred_at AS first_touch_at, ft.channel AS first_touch_channel,
	   j.lead_created_at, j.created_at, j.closed_at,
	   CASE WHEN d.ft_lead >= 0 THEN d.ft_lead END AS days_first_touch_to_lead,
	   CASE WHEN d.lead_opp >= 0 THEN d.lead_opp END AS days_lead_to_opportunity,
	   CASE WHEN j.status = 'won' AND d.opp_close >= 0 THEN d.opp_close END AS days_opportunity_to_won,
	   CASE WHEN j.status = 'won' AND d.ft_close >= 0 THEN d.ft_close END AS days_first_touch_to_won
FROM @extschema@.journey_cache j
JOIN @extschema@.src_opportunities o
	ON o.account_id = j.account_id AND o.opportunity_id = j.opportunity_id
LEFT JOIN @extschema@.src_accounts a ON a.account_id = j.account_id
LEFT JOIN LATERAL (
	SELECT t.occurred_at, t.channel
	FROM @extschema@.touches(j.journey) t
	WHERE 'FT' = ANY (t.positions)
	  -- only if the querying user can see it in the source (row-level security)
	  AND EXISTS (SELECT 1 FROM @extschema@.src_touches st
				  WHERE st.account_id = j.account_id AND st.touch_id = t.touch_id)
	ORDER BY t.touch_index
	LIMIT 1) ft ON true
CROSS JOIN LATERAL (
	SELECT @extschema@.days_between(ft.occurred_at, j.lead_created_at) AS ft_lead,
		   @extschema@.days_between(j.lead_created_at, j.created_at) AS lead_opp,
		   @extschema@.days_between(j.created_at, j.closed_at) AS opp_close,
		   @extschema@.days_between(ft.occurred_at, j.closed_at) AS ft_close) d;
COMMENT ON VIEW @extschema@.time_to_conversion IS
'Per opportunity (as of the last attrib.refresh()): first touch of its journey, lead creation, opportunity creation and close, and the days between them. A step whose end comes before its start (e.g. the lead was created before the first touch in the window) is NULL, not negative; the timestamps are kept so it can be seen.';
COMMENT ON COLUMN @extschema@.time_to_conversion.account_id IS 'Account of the opportunity.';
COMMENT ON COLUMN @extschema@.time_to_conversion.opportunity_id IS 'The opportunity.';
COMMENT ON COLUMN @extschema@.time_to_conversion.status IS 'won, open or lost (at the last refresh).';
COMMENT ON COLUMN @extschema@.time_to_conversion.segment IS 'Segment of the account (NULL if unknown or the account is not visible).';
COMMENT ON COLUMN @extschema@.time_to_conversion.first_touch_at IS 'When the first touch of the journey (position FT, within the lookback window) happened; NULL when the journey has no touch, or the querying user cannot see it (row-level security).';
COMMENT ON COLUMN @extschema@.time_to_conversion.first_touch_channel IS 'Channel of the first touch of the journey.';
COMMENT ON COLUMN @extschema@.time_to_conversion.lead_created_at IS 'Earliest lead creation of the opportunity''s in-scope contacts.';
COMMENT ON COLUMN @extschema@.time_to_conversion.created_at IS 'When the opportunity was created.';
COMMENT ON COLUMN @extschema@.time_to_conversion.closed_at IS 'When it closed, won or lost (NULL while open); only a won close ends the *_to_won steps.';
COMMENT ON COLUMN @extschema@.time_to_conversion.days_first_touch_to_lead IS 'Days from the first touch to lead creation; NULL when either is missing or the lead came first.';
COMMENT ON COLUMN @extschema@.time_to_conversion.days_lead_to_opportunity IS 'Days from lead creation to opportunity creation; NULL when there is no lead date or the lead came after the opportunity.';
COMMENT ON COLUMN @extschema@.time_to_conversion.days_opportunity_to_won IS 'Days from opportunity creation to close, for won opportunities only (NULL otherwise).';
COMMENT ON COLUMN @extschema@.time_to_conversion.days_first_touch_to_won IS 'Days from the first touch to close, for won opportunities with a touch (NULL otherwise).';

CREATE VIEW @extschema@.time_to_conversion_percentiles WITH (security_invoker = true) AS
SELECT g.dimension, g.value, m.measure,
	   pg_catalog.count(*) AS opportunities,
	   pg_catalog.round(pg_catalog.avg(m.days), 2) AS avg_days,
	   pg_catalog.round(pg_catalog.percentile_cont(0.25) WITHIN GROUP (ORDER BY m.days::pg_catalog.float8)::pg_catalog.numeric, 2) AS p25,
	   pg_catalog.round(pg_catalog.percentile_cont(0.50) WITHIN GROUP (ORDER BY m.days::pg_catalog.float8)::pg_catalog.numeric, 2) AS p50,
	   pg_catalog.round(pg_catalog.percentile_cont(0.75) WITHIN GROUP (ORDER BY m.days::pg_catalog.float8)::pg_catalog.numeric, 2) AS p75,
	   pg_catalog.round(pg_catalog.percentile_cont(0.90) WITHIN GROUP (ORDER BY m.days::pg_catalog.float8)::pg_catalog.numeric, 2) AS p90
FROM @extschema@.time_to_conversion c
CROSS JOIN LATERAL (VALUES ('all', 'all'),
						   ('first_touch_channel', c.first_touch_channel),
						   ('segment', c.segment)) g(dimension, value)
CROSS JOIN LATERAL (VALUES ('first_touch_to_lead', c.days_first_touch_to_lead),
						   ('lead_to_opportunity', c.days_lead_to_opportunity),
						   ('opportunity_to_won', c.days_opportunity_to_won),
						   ('first_touch_to_won', c.days_first_touch_to_won)) m(measure, days)
WHERE m.days IS NOT NULL
GROUP BY g.dimension, g.value, m.measure;
COMMENT ON VIEW @extschema@.time_to_conversion_percentiles IS
'Distribution of attrib.time_to_conversion''s day measures (continuous percentiles, percentile_cont) overall and by first-touch channel and by segment. Each opportunity with the measure counts once: the lead and opportunity steps over every opportunity (won, lost, open), the *_to_won steps over won opportunities.';
COMMENT ON COLUMN @extschema@.time_to_conversion_percentiles.dimension IS 'all, first_touch_channel or segment.';
COMMENT ON COLUMN @extschema@.time_to_conversion_percentiles.value IS 'The channel or segment (all for the overall row; NULL: no first touch or no segment).';
COMMENT ON COLUMN @extschema@.time_to_conversion_percentiles.measure IS 'first_touch_to_lead, lead_to_opportunity, opportunity_to_won or first_touch_to_won.';
COMMENT ON COLUMN @extschema@.time_to_conversion_percentiles.opportunities IS 'Opportunities with the measure (NULL steps are left out).';
COMMENT ON COLUMN @extschema@.time_to_conversion_percentiles.avg_days IS 'Mean days, 2 decimals.';
COMMENT ON COLUMN @extschema@.time_to_conversion_percentiles.p25 IS '25th percentile in days (interpolated), 2 decimals.';
COMMENT ON COLUMN @extschema@.time_to_conversion_percentiles.p50 IS 'Median in days (interpolated), 2 decimals.';
COMMENT ON COLUMN @extschema@.time_to_conversion_percentiles.p75 IS '75th percentile in days (interpolated), 2 decimals.';
COMMENT ON COLUMN @extschema@.time_to_conversion_percentiles.p90 IS '90th percentile in days (interpolated), 2 decimals.';

-- ------------------------------------------------------------------
-- Funnel
-- ------------------------------------------------------------------

CREATE VIEW @extschema@.funnel_history WITH (security_invoker = true) AS
SELECT e.account_id, e.event_id,
	   CASE WHEN e.opportunity_id IS NOT NULL THEN 'opportunity' ELSE 'contact' END AS subject_type,
	   e.opportunity_id, e.contact_id, e.stage,
	   e.occurred_at AS entered_at,
	   pg_catalog.lead(e.occurred_at) OVER w AS exited_at,
	   pg_catalog.lead(e.stage) OVER w AS next_stage,
	   @extschema@.days_between(e.occurred_at, pg_catalog.lead(e.occurred_at) OVER w) AS days_in_stage
FROM @extschema@.src_stage_events e
WHERE EXISTS (SELECT 1 FROM @extschema@.src_accounts a WHERE a.account_id = e.account_id)
  AND (e.opportunity_id IS NULL
	   OR EXISTS (SELECT 1 FROM @extschema@.src_opportunities o
				  WHERE o.account_id = e.account_id AND o.opportunity_id = e.opportunity_id))
  AND (e.contact_id IS NULL
	   OR EXISTS (SELECT 1 FROM @extschema@.src_contacts c
				  WHERE c.account_id = e.account_id AND c.contact_id = e.contact_id))
WINDOW w AS (PARTITION BY e.account_id, e.opportunity_id,
					   CASE WHEN e.opportunity_id IS NULL THEN e.contact_id END
			 ORDER BY e.occurred_at, e.event_id COLLATE pg_catalog."C");
COMMENT ON VIEW @extschema@.funnel_history IS
'Every stage event of every account (its contacts'' and its opportunities''), with when the subject left the stage: the next stage event of the same subject (the opportunity if the event names one, else the contact), in (occurred_at, event_id) order. Events of opportunities, contacts or accounts the user cannot see are left out.';
COMMENT ON COLUMN @extschema@.funnel_history.account_id IS 'The account.';
COMMENT ON COLUMN @extschema@.funnel_history.event_id IS 'The stage event.';
COMMENT ON COLUMN @extschema@.funnel_history.subject_type IS 'opportunity when the event names an opportunity, else contact.';
COMMENT ON COLUMN @extschema@.funnel_history.opportunity_id IS 'The opportunity that entered the stage (NULL for a contact''s event).';
COMMENT ON COLUMN @extschema@.funnel_history.contact_id IS 'The contact named by the event, if any.';
COMMENT ON COLUMN @extschema@.funnel_history.stage IS 'Stage entered, e.g. MQL.';
COMMENT ON COLUMN @extschema@.funnel_history.entered_at IS 'When the stage was entered.';
COMMENT ON COLUMN @extschema@.funnel_history.exited_at IS 'When the same subject entered its next stage; NULL while this is its latest stage.';
COMMENT ON COLUMN @extschema@.funnel_history.next_stage IS 'The stage entered next by the same subject (NULL for the latest).';
COMMENT ON COLUMN @extschema@.funnel_history.days_in_stage IS 'Days from entered_at to exited_at (2 decimals); NULL for the latest stage.';

CREATE VIEW @extschema@.account_funnel WITH (security_invoker = true) AS
SELECT a.account_id, a.name, a.segment,
	   cur.stage AS current_stage, cur.entered_at, cur.subject_type,
	   cur.opportunity_id, cur.contact_id, cur.event_id,
	   coalesce(n.stages_passed, 0) AS stages_passed,
	   coalesce(n.events, 0) AS events
FROM @extschema@.src_accounts a
LEFT JOIN (
	SELECT DISTINCT ON (h.account_id) h.account_id, h.stage, h.entered_at, h.subject_type,
		   h.opportunity_id, h.contact_id, h.event_id
	FROM @extschema@.funnel_history h
	ORDER BY h.account_id, h.entered_at DESC, h.event_id COLLATE pg_catalog."C" DESC) cur
	ON cur.account_id = a.account_id
LEFT JOIN (
	SELECT h.account_id, pg_catalog.count(DISTINCT h.stage) - 1 AS stages_passed,
		   pg_catalog.count(*) AS events
	FROM @extschema@.funnel_history h
	GROUP BY h.account_id) n
	ON n.account_id = a.account_id;
COMMENT ON VIEW @extschema@.account_funnel IS
'Each account''s current funnel stage: the stage of its latest stage event (of any of its contacts or opportunities; at equal times the greatest event_id, bytewise, is the later), with the number of other stages it has passed. Accounts without stage events have a NULL stage.';
COMMENT ON COLUMN @extschema@.account_funnel.account_id IS 'The account.';
COMMENT ON COLUMN @extschema@.account_funnel.name IS 'Account name.';
COMMENT ON COLUMN @extschema@.account_funnel.segment IS 'Account segment.';
COMMENT ON COLUMN @extschema@.account_funnel.current_stage IS 'Stage of the account''s latest stage event; NULL when it has none.';
COMMENT ON COLUMN @extschema@.account_funnel.entered_at IS 'When the current stage was entered.';
COMMENT ON COLUMN @extschema@.account_funnel.subject_type IS 'Whether an opportunity or a contact entered the current stage.';
COMMENT ON COLUMN @extschema@.account_funnel.opportunity_id IS 'The opportunity that entered the current stage, if it was one.';
COMMENT ON COLUMN @extschema@.account_funnel.contact_id IS 'The contact named by the current stage''s event, if any.';
COMMENT ON COLUMN @extschema@.account_funnel.event_id IS 'The stage event that set the current stage.';
COMMENT ON COLUMN @extschema@.account_funnel.stages_passed IS 'Distinct stages the account has entered other than the current one (0 without events).';
COMMENT ON COLUMN @extschema@.account_funnel.events IS 'Stage events of the account.';

-- ------------------------------------------------------------------
-- Revivals
-- ------------------------------------------------------------------

CREATE VIEW @extschema@.revivals WITH (security_invoker = true) AS
SELECT t.account_id, t.touch_id, t.occurred_at, t.channel, t.campaign_id, t.contact_id,
	   t.previous_touch_at,
	   @extschema@.days_between(t.previous_touch_at, t.occurred_at) AS days_silent,
	   f.opportunity_id IS NOT NULL AS opportunity_followed,
	   f.opportunity_id AS followed_by_opportunity_id,
	   f.created_at AS followed_by_created_at
FROM (
	SELECT s.account_id, s.touch_id, s.occurred_at, s.channel, s.campaign_id, s.contact_id,
		   pg_catalog.lag(s.occurred_at) OVER (PARTITION BY s.account_id
											   ORDER BY s.occurred_at, s.touch_id COLLATE pg_catalog."C")
			   AS previous_touch_at
	FROM @extschema@.src_touches s) t
LEFT JOIN LATERAL (
	SELECT o.opportunity_id, o.created_at
	FROM @extschema@.src_opportunities o
	WHERE o.account_id = t.account_id
	  AND o.created_at >= t.occurred_at
	  AND o.created_at <= t.occurred_at
			+ (SELECT es.revival_window FROM @extschema@.effective_settings es) * interval '24 hours'
	ORDER BY o.created_at, o.opportunity_id COLLATE pg_catalog."C"
	LIMIT 1) f ON true
WHERE t.occurred_at - t.previous_touch_at
	  >= (SELECT es.cold_after FROM @extschema@.effective_settings es) * interval '24 hours';
COMMENT ON VIEW @extschema@.revivals IS
'Every touch that ends a silence of at least cold_after days (effective_settings; days of 24 hours) in its account''s touches, ordered by (occurred_at, touch_id): the account had gone cold and became active again. An account can revive several times; its first touch ever is not a revival. An opportunity follows when one of the account''s opportunities was created from the reviving touch to revival_window days after it, inclusive.';
COMMENT ON COLUMN @extschema@.revivals.account_id IS 'The account that revived.';
COMMENT ON COLUMN @extschema@.revivals.touch_id IS 'The reviving touch.';
COMMENT ON COLUMN @extschema@.revivals.occurred_at IS 'When the reviving touch happened.';
COMMENT ON COLUMN @extschema@.revivals.channel IS 'Channel of the reviving touch.';
COMMENT ON COLUMN @extschema@.revivals.campaign_id IS 'Campaign of the reviving touch, if any.';
COMMENT ON COLUMN @extschema@.revivals.contact_id IS 'Contact of the reviving touch (NULL for an account-level touch).';
COMMENT ON COLUMN @extschema@.revivals.previous_touch_at IS 'The account''s previous touch before the silence.';
COMMENT ON COLUMN @extschema@.revivals.days_silent IS 'Days between the previous touch and the reviving touch (2 decimals).';
COMMENT ON COLUMN @extschema@.revivals.opportunity_followed IS 'True when an opportunity of the account was created within revival_window days after the reviving touch (inclusive).';
COMMENT ON COLUMN @extschema@.revivals.followed_by_opportunity_id IS 'The first such opportunity (by created_at, then opportunity_id bytewise); NULL when none followed.';
COMMENT ON COLUMN @extschema@.revivals.followed_by_created_at IS 'When that opportunity was created.';

-- ------------------------------------------------------------------
-- Stage win rates and the forecast
-- ------------------------------------------------------------------

CREATE VIEW @extschema@.stage_win_rates WITH (security_invoker = true) AS
SELECT p.stage,
	   pg_catalog.count(*) AS closed_opportunities,
	   pg_catalog.count(*) FILTER (WHERE p.is_won) AS won_opportunities,
	   pg_catalog.count(*) FILTER (WHERE NOT p.is_won) AS lost_opportunities,
	   pg_catalog.round(pg_catalog.count(*) FILTER (WHERE p.is_won)::pg_catalog.numeric
						/ pg_catalog.count(*), 4) AS win_rate
FROM (
	SELECT e.account_id, e.opportunity_id, e.stage, o.is_won
	FROM @extschema@.src_stage_events e
	JOIN @extschema@.src_opportunities o
		ON o.account_id = e.account_id AND o.opportunity_id = e.opportunity_id
	WHERE o.closed_at IS NOT NULL
	GROUP BY e.account_id, e.opportunity_id, e.stage, o.is_won) p
GROUP BY p.stage;
COMMENT ON VIEW @extschema@.stage_win_rates IS
'Historical win rate of each opportunity stage: of the closed opportunities that ever entered the stage (a stage event naming the opportunity), how many were won. Each opportunity counts once per stage.';
COMMENT ON COLUMN @extschema@.stage_win_rates.stage IS 'Stage name.';
COMMENT ON COLUMN @extschema@.stage_win_rates.closed_opportunities IS 'Closed (won or lost) opportunities that entered the stage.';
COMMENT ON COLUMN @extschema@.stage_win_rates.won_opportunities IS 'Of those, the won ones.';
COMMENT ON COLUMN @extschema@.stage_win_rates.lost_opportunities IS 'Of those, the lost ones.';
COMMENT ON COLUMN @extschema@.stage_win_rates.win_rate IS 'won_opportunities / closed_opportunities, rounded to 4 decimals for display (the forecast uses the exact ratio).';

CREATE VIEW @extschema@.forecast WITH (security_invoker = true) AS
SELECT c.model, c.channel,
	   pg_catalog.count(*) AS opportunities,
	   pg_catalog.sum(c.pipeline) AS pipeline,
	   pg_catalog.round(coalesce(pg_catalog.sum(c.pipeline * w.won_opportunities / w.closed_opportunities), 0),
						@extschema@.currency_scale(es.reporting_currency)) AS weighted_pipeline,
	   pg_catalog.round(coalesce(pg_catalog.sum(c.pipeline) FILTER (WHERE w.stage IS NULL), 0),
						@extschema@.currency_scale(es.reporting_currency)) AS unrated_pipeline,
	   es.reporting_currency
FROM (
	-- one row per open opportunity, model and channel
	SELECT cc.account_id, cc.opportunity_id, cc.model,
		   CASE WHEN cc.touch_index = 0 THEN '(unattributed)' ELSE t.channel END AS channel,
		   pg_catalog.sum(cc.credit_reporting) AS pipeline
	FROM (	-- the credits of open opportunities only (credit_store rows by key, unnested)
		SELECT s.account_id, s.opportunity_id, s.model,
			   pg_catalog.unnest(s.touch_index) AS touch_index, pg_catalog.unnest(s.touch_id) AS touch_id,
			   pg_catalog.unnest(s.credit_reporting) AS credit_reporting
		FROM @extschema@.journey_cache j
		JOIN @extschema@.credit_store s
			ON s.account_id = j.account_id AND s.opportunity_id = j.opportunity_id
		WHERE j.status = 'open'
		  AND s.model IN (SELECT r.name FROM @extschema@.model_registry r WHERE r.additive)) cc
	LEFT JOIN @extschema@.src_touches t
		ON t.account_id = cc.account_id AND t.touch_id = cc.touch_id
	WHERE cc.touch_index = 0 OR t.touch_id IS NOT NULL
	GROUP BY cc.account_id, cc.opportunity_id, cc.model, 4) c
JOIN @extschema@.src_opportunities o
	ON o.account_id = c.account_id AND o.opportunity_id = c.opportunity_id
LEFT JOIN @extschema@.stage_win_rates w ON w.stage = o.stage
CROSS JOIN (SELECT e.reporting_currency FROM @extschema@.effective_settings e LIMIT 1) es
GROUP BY c.model, c.channel, es.reporting_currency;
COMMENT ON VIEW @extschema@.forecast IS
'Open pipeline (open at the last refresh) by model and channel, in the reporting currency, and the same weighted by the historical win rate (attrib.stage_win_rates) of each opportunity''s current stage (opportunities.stage). Additive models only. An opportunity whose stage has no closed history has no win rate: it adds 0 to weighted_pipeline and its amount is shown in unrated_pipeline. Credits with no touch are the channel (unattributed).';
COMMENT ON COLUMN @extschema@.forecast.model IS 'Model name (additive models of attrib.model_registry).';
COMMENT ON COLUMN @extschema@.forecast.channel IS 'Channel of the credited touch; (unattributed) for pipeline no touch could take.';
COMMENT ON COLUMN @extschema@.forecast.opportunities IS 'Open opportunities with credit in the channel (each counts once).';
COMMENT ON COLUMN @extschema@.forecast.pipeline IS 'Sum of the channel''s credits of open opportunities, reporting currency.';
COMMENT ON COLUMN @extschema@.forecast.weighted_pipeline IS 'Sum of credit x win rate of the opportunity''s current stage (exact ratio), rounded to the reporting currency''s minor unit; stages without history count 0.';
COMMENT ON COLUMN @extschema@.forecast.unrated_pipeline IS 'Part of pipeline whose opportunity''s stage has no win-rate history (not in weighted_pipeline).';
COMMENT ON COLUMN @extschema@.forecast.reporting_currency IS 'The reporting currency of the money columns.';
