
-- ------------------------------------------------------------------
-- reports.sql — the attribution reports of SPEC §5 over the stored credits.
--
-- Every view runs with the querying user's rights (security_invoker) and joins
-- the src_* views, so row-level security on the CRM tables hides the rows it
-- hides there.  Money columns are in the reporting currency.  Additive totals
-- never include non-additive models (influence, raw time decay); the amount no
-- touch could take is the channel '(unattributed)', so totals keep every cent.
-- ------------------------------------------------------------------

CREATE VIEW @extschema@.touch_credits WITH (security_invoker = true) AS
SELECT c.account_id, c.opportunity_id, c.status, c.model, r.additive,
	   c.touch_index, c.touch_id, t.occurred_at,
	   coalesce(t.channel, '(unattributed)') AS channel, ch.channel_group,
	   t.campaign_id, t.contact_id, t.touch_type, t.activity, t.owner AS touch_owner,
	   c.opportunity_owner, c.weight,
	   c.credit, c.currency, c.credit_reporting, s.reporting_currency,
	   c.opportunity_created_at, c.opportunity_closed_at
FROM (
	-- each stored row's journey and opportunity looked up by key (OFFSET 0: as
	-- a join on both key columns PostgreSQL would multiply their selectivities,
	-- plan for about one row in all, and loop over every touch of an account
	-- for each credit), then its arrays unnested in the select list (no
	-- tuplestore per row, as a function in FROM would need)
	SELECT c.account_id, c.opportunity_id, c.model, j.status, j.currency,
		   j.created_at AS opportunity_created_at, j.closed_at AS opportunity_closed_at,
		   o.owner AS opportunity_owner,
		   pg_catalog.unnest(c.touch_index) AS touch_index, pg_catalog.unnest(c.touch_id) AS touch_id,
		   pg_catalog.unnest(c.weight) AS weight, pg_catalog.unnest(c.credit) AS credit,
		   pg_catalog.unnest(c.credit_reporting) AS credit_reporting
	FROM @extschema@.credit_store c
	CROSS JOIN LATERAL (SELECT j.status, j.currency, j.created_at, j.closed_at
						FROM @extschema@.journey_cache j
						WHERE j.account_id = c.account_id AND j.opportunity_id = c.opportunity_id
						OFFSET 0) j
	CROSS JOIN LATERAL (SELECT o.owner FROM @extschema@.src_opportunities o
						WHERE o.account_id = c.account_id AND o.opportunity_id = c.opportunity_id
						OFFSET 0) o) c
JOIN @extschema@.model_registry r ON r.name = c.model
LEFT JOIN @extschema@.src_touches t ON t.account_id = c.account_id AND t.touch_id = c.touch_id
LEFT JOIN @extschema@.src_channels ch ON ch.channel = t.channel
CROSS JOIN @extschema@.effective_settings s
WHERE c.touch_index = 0 OR t.touch_id IS NOT NULL;
COMMENT ON VIEW @extschema@.touch_credits IS 'Per touch credit in long form: one row per (opportunity, model, touch that earned credit), as of the last refresh.';
COMMENT ON COLUMN @extschema@.touch_credits.account_id IS 'Account.';
COMMENT ON COLUMN @extschema@.touch_credits.opportunity_id IS 'Opportunity.';
COMMENT ON COLUMN @extschema@.touch_credits.status IS 'won, open or lost.';
COMMENT ON COLUMN @extschema@.touch_credits.model IS 'Model name.';
COMMENT ON COLUMN @extschema@.touch_credits.additive IS 'Whether the model''s credits add up to the amount (false: influence, raw time decay).';
COMMENT ON COLUMN @extschema@.touch_credits.touch_index IS 'Position in the journey (1-based); 0 for the unattributed remainder.';
COMMENT ON COLUMN @extschema@.touch_credits.touch_id IS 'The touch (NULL when unattributed).';
COMMENT ON COLUMN @extschema@.touch_credits.occurred_at IS 'When the touch happened.';
COMMENT ON COLUMN @extschema@.touch_credits.channel IS 'Channel of the touch, or (unattributed).';
COMMENT ON COLUMN @extschema@.touch_credits.channel_group IS 'Group of the channel (attrib.channels).';
COMMENT ON COLUMN @extschema@.touch_credits.campaign_id IS 'Campaign of the touch.';
COMMENT ON COLUMN @extschema@.touch_credits.contact_id IS 'Contact touched (NULL for account-level touches).';
COMMENT ON COLUMN @extschema@.touch_credits.touch_type IS 'marketing or sales.';
COMMENT ON COLUMN @extschema@.touch_credits.activity IS 'Activity of the touch.';
COMMENT ON COLUMN @extschema@.touch_credits.touch_owner IS 'Sales rep who made the touch.';
COMMENT ON COLUMN @extschema@.touch_credits.opportunity_owner IS 'Owner of the opportunity.';
COMMENT ON COLUMN @extschema@.touch_credits.weight IS 'Weight of the touch under the model.';
COMMENT ON COLUMN @extschema@.touch_credits.credit IS 'Credit in the opportunity''s currency.';
COMMENT ON COLUMN @extschema@.touch_credits.currency IS 'The opportunity''s currency.';
COMMENT ON COLUMN @extschema@.touch_credits.credit_reporting IS 'Credit in the reporting currency.';
COMMENT ON COLUMN @extschema@.touch_credits.reporting_currency IS 'The reporting currency.';
COMMENT ON COLUMN @extschema@.touch_credits.opportunity_created_at IS 'When the opportunity was created.';
COMMENT ON COLUMN @extschema@.touch_credits.opportunity_closed_at IS 'When it closed (NULL when open).';

CREATE VIEW @extschema@.journeys WITH (security_invoker = true) AS
SELECT j.account_id, j.opportunity_id, j.status, t.touch_index, t.touch_id, t.occurred_at,
	   t.channel, st.campaign_id, st.contact_id, st.touch_type, st.activity, st.owner,
	   t.positions,
	   round((pg_catalog.date_part('epoch', t.occurred_at - pg_catalog.lag(t.occurred_at)
			OVER (PARTITION BY j.account_id, j.opportunity_id ORDER BY t.touch_index)) / 86400)::pg_catalog.numeric, 2)
		   AS days_since_previous,
	   round((pg_catalog.date_part('epoch', coalesce(j.closed_at, r.as_of) - t.occurred_at) / 86400)::pg_catalog.numeric, 2)
		   AS days_before_end
FROM @extschema@.journey_cache j
JOIN @extschema@.src_opportunities o ON o.account_id = j.account_id AND o.opportunity_id = j.opportunity_id
CROSS JOIN LATERAL @extschema@.touches(j.journey) t
-- an inner join: a touch the querying user cannot see in the source (row-level
-- security) is not shown, as in touch_credits
JOIN @extschema@.src_touches st ON st.account_id = j.account_id AND st.touch_id = t.touch_id
LEFT JOIN LATERAL (SELECT l.as_of FROM @extschema@.refresh_log l ORDER BY l.refreshed_at DESC LIMIT 1) r ON true;
COMMENT ON VIEW @extschema@.journeys IS 'Each opportunity''s ordered touches with the milestone positions they hold (FT, LC, OC, CW, LT, stage:NAME): the timeline a rep reads before a call. Touches the querying user cannot see in the touches source (row-level security) are left out.';
COMMENT ON COLUMN @extschema@.journeys.account_id IS 'Account.';
COMMENT ON COLUMN @extschema@.journeys.opportunity_id IS 'Opportunity.';
COMMENT ON COLUMN @extschema@.journeys.status IS 'won, open or lost.';
COMMENT ON COLUMN @extschema@.journeys.touch_index IS 'Position in the journey (1-based).';
COMMENT ON COLUMN @extschema@.journeys.touch_id IS 'The touch.';
COMMENT ON COLUMN @extschema@.journeys.occurred_at IS 'When it happened.';
COMMENT ON COLUMN @extschema@.journeys.channel IS 'Channel.';
COMMENT ON COLUMN @extschema@.journeys.campaign_id IS 'Campaign.';
COMMENT ON COLUMN @extschema@.journeys.contact_id IS 'Contact touched (NULL: the account).';
COMMENT ON COLUMN @extschema@.journeys.touch_type IS 'marketing or sales.';
COMMENT ON COLUMN @extschema@.journeys.activity IS 'Activity.';
COMMENT ON COLUMN @extschema@.journeys.owner IS 'Sales rep who made the touch.';
COMMENT ON COLUMN @extschema@.journeys.positions IS 'Milestones the touch holds.';
COMMENT ON COLUMN @extschema@.journeys.days_since_previous IS 'Days since the previous touch of the journey.';
COMMENT ON COLUMN @extschema@.journeys.days_before_end IS 'Days from the touch to the close (or to the as-of time when open).';

CREATE VIEW @extschema@.touch_credits_wide WITH (security_invoker = true) AS
SELECT jn.account_id, jn.opportunity_id, jn.status, jn.touch_index, jn.touch_id, jn.occurred_at,
	   jn.channel, jn.campaign_id, jn.positions,
	   w.first_touch, w.last_touch, w.lead_creation, w.opportunity_creation, w.last_non_direct,
	   w.first_non_direct, w.linear, w.position_based, w.j_shaped, w.inverse_j, w.u_shaped,
	   w.w_shaped, w.full_path, w.custom, w.time_decay, w.influence,
	   w.other_models
FROM @extschema@.journeys jn
-- the credits are pivoted per touch first (one group per credited touch), then
-- joined to the journey's touch: grouping the joined rows by every column of
-- the journey instead sorted all credit rows by nine columns
LEFT JOIN (
	SELECT c.account_id, c.opportunity_id, c.touch_index,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'first_touch'))::pg_catalog.numeric, 4) AS first_touch,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'last_touch'))::pg_catalog.numeric, 4) AS last_touch,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'lead_creation'))::pg_catalog.numeric, 4) AS lead_creation,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'opportunity_creation'))::pg_catalog.numeric, 4) AS opportunity_creation,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'last_non_direct'))::pg_catalog.numeric, 4) AS last_non_direct,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'first_non_direct'))::pg_catalog.numeric, 4) AS first_non_direct,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'linear'))::pg_catalog.numeric, 4) AS linear,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'position_based'))::pg_catalog.numeric, 4) AS position_based,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'j_shaped'))::pg_catalog.numeric, 4) AS j_shaped,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'inverse_j'))::pg_catalog.numeric, 4) AS inverse_j,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'u_shaped'))::pg_catalog.numeric, 4) AS u_shaped,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'w_shaped'))::pg_catalog.numeric, 4) AS w_shaped,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'full_path'))::pg_catalog.numeric, 4) AS full_path,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'custom'))::pg_catalog.numeric, 4) AS custom,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'time_decay'))::pg_catalog.numeric, 4) AS time_decay,
		   round((100 * max(c.weight) FILTER (WHERE c.model = 'influence'))::pg_catalog.numeric, 4) AS influence,
		   pg_catalog.jsonb_object_agg(c.model, round((100 * c.weight)::pg_catalog.numeric, 4))
			   FILTER (WHERE c.model NOT IN (SELECT m.name FROM @extschema@.models() m)) AS other_models
	FROM @extschema@.credit_cache c
	GROUP BY c.account_id, c.opportunity_id, c.touch_index) w
	ON w.account_id = jn.account_id AND w.opportunity_id = jn.opportunity_id AND w.touch_index = jn.touch_index;
COMMENT ON VIEW @extschema@.touch_credits_wide IS 'Per touch credit, one percentage column per built-in model (the Marketo Measure shape); NULL where a model is disabled or gave the touch nothing; registered models in other_models.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.account_id IS 'Account.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.opportunity_id IS 'Opportunity.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.status IS 'won, open or lost.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.touch_index IS 'Position in the journey.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.touch_id IS 'The touch.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.occurred_at IS 'When it happened.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.channel IS 'Channel.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.campaign_id IS 'Campaign.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.positions IS 'Milestones the touch holds.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.first_touch IS 'Percent of the amount under first_touch.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.last_touch IS 'Percent under last_touch.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.lead_creation IS 'Percent under lead_creation.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.opportunity_creation IS 'Percent under opportunity_creation.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.last_non_direct IS 'Percent under last_non_direct.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.first_non_direct IS 'Percent under first_non_direct.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.linear IS 'Percent under linear.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.position_based IS 'Percent under position_based.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.j_shaped IS 'Percent under j_shaped.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.inverse_j IS 'Percent under inverse_j.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.u_shaped IS 'Percent under u_shaped.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.w_shaped IS 'Percent under w_shaped.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.full_path IS 'Percent under full_path.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.custom IS 'Percent under the built-in custom model (when configured).';
COMMENT ON COLUMN @extschema@.touch_credits_wide.time_decay IS 'Percent under time_decay.';
COMMENT ON COLUMN @extschema@.touch_credits_wide.influence IS 'Percent under influence (100 for every touch: non-additive).';
COMMENT ON COLUMN @extschema@.touch_credits_wide.other_models IS 'Percent under each registered model, by name.';

-- ------------------------------------------------------------------
-- Rollups: won revenue and open pipeline per model and dimension
-- ------------------------------------------------------------------

CREATE VIEW @extschema@.revenue_by_channel WITH (security_invoker = true) AS
SELECT model, channel, channel_group,
	   coalesce(sum(credit_reporting) FILTER (WHERE status = 'won'), 0) AS won_revenue,
	   coalesce(sum(credit_reporting) FILTER (WHERE status = 'open'), 0) AS pipeline,
	   count(DISTINCT (account_id, opportunity_id)) FILTER (WHERE status = 'won') AS won_opportunities,
	   count(DISTINCT (account_id, opportunity_id)) FILTER (WHERE status = 'open') AS open_opportunities,
	   reporting_currency
FROM @extschema@.touch_credits WHERE additive
GROUP BY model, channel, channel_group, reporting_currency;

CREATE VIEW @extschema@.revenue_by_campaign WITH (security_invoker = true) AS
SELECT c.model, c.campaign_id, cp.name AS campaign_name, c.channel,
	   coalesce(sum(c.credit_reporting) FILTER (WHERE c.status = 'won'), 0) AS won_revenue,
	   coalesce(sum(c.credit_reporting) FILTER (WHERE c.status = 'open'), 0) AS pipeline,
	   count(DISTINCT (c.account_id, c.opportunity_id)) FILTER (WHERE c.status = 'won') AS won_opportunities,
	   count(DISTINCT (c.account_id, c.opportunity_id)) FILTER (WHERE c.status = 'open') AS open_opportunities,
	   c.reporting_currency
FROM @extschema@.touch_credits c
LEFT JOIN @extschema@.src_campaigns cp ON cp.campaign_id = c.campaign_id
WHERE c.additive
GROUP BY c.model, c.campaign_id, cp.name, c.channel, c.reporting_currency;

CREATE VIEW @extschema@.revenue_by_account WITH (security_invoker = true) AS
SELECT c.model, c.account_id, a.name AS account_name, a.segment,
	   coalesce(sum(c.credit_reporting) FILTER (WHERE c.status = 'won'), 0) AS won_revenue,
	   coalesce(sum(c.credit_reporting) FILTER (WHERE c.status = 'open'), 0) AS pipeline,
	   count(DISTINCT c.opportunity_id) FILTER (WHERE c.status = 'won') AS won_opportunities,
	   count(DISTINCT c.opportunity_id) FILTER (WHERE c.status = 'open') AS open_opportunities,
	   c.reporting_currency
FROM @extschema@.touch_credits c
LEFT JOIN @extschema@.src_accounts a ON a.account_id = c.account_id
WHERE c.additive
GROUP BY c.model, c.account_id, a.name, a.segment, c.reporting_currency;

CREATE VIEW @extschema@.revenue_by_contact WITH (security_invoker = true) AS
SELECT model, account_id, contact_id,
	   coalesce(sum(credit_reporting) FILTER (WHERE status = 'won'), 0) AS won_revenue,
	   coalesce(sum(credit_reporting) FILTER (WHERE status = 'open'), 0) AS pipeline,
	   count(DISTINCT opportunity_id) FILTER (WHERE status = 'won') AS won_opportunities,
	   count(DISTINCT opportunity_id) FILTER (WHERE status = 'open') AS open_opportunities,
	   reporting_currency
FROM @extschema@.touch_credits WHERE additive
GROUP BY model, account_id, contact_id, reporting_currency;

CREATE VIEW @extschema@.revenue_by_owner WITH (security_invoker = true) AS
SELECT model, touch_owner AS owner,
	   coalesce(sum(credit_reporting) FILTER (WHERE status = 'won'), 0) AS won_revenue,
	   coalesce(sum(credit_reporting) FILTER (WHERE status = 'open'), 0) AS pipeline,
	   count(DISTINCT (account_id, opportunity_id)) FILTER (WHERE status = 'won') AS won_opportunities,
	   count(DISTINCT (account_id, opportunity_id)) FILTER (WHERE status = 'open') AS open_opportunities,
	   reporting_currency
FROM @extschema@.touch_credits WHERE additive
GROUP BY model, touch_owner, reporting_currency;

CREATE VIEW @extschema@.revenue_by_month WITH (security_invoker = true) AS
SELECT model,
	   pg_catalog.date_trunc('month', coalesce(opportunity_closed_at, opportunity_created_at) AT TIME ZONE 'UTC')::pg_catalog.date AS month,
	   coalesce(sum(credit_reporting) FILTER (WHERE status = 'won'), 0) AS won_revenue,
	   coalesce(sum(credit_reporting) FILTER (WHERE status = 'open'), 0) AS pipeline,
	   count(DISTINCT (account_id, opportunity_id)) FILTER (WHERE status = 'won') AS won_opportunities,
	   count(DISTINCT (account_id, opportunity_id)) FILTER (WHERE status = 'open') AS open_opportunities,
	   reporting_currency
FROM @extschema@.touch_credits WHERE additive
GROUP BY 1, 2, reporting_currency;

COMMENT ON VIEW @extschema@.revenue_by_channel IS 'Won revenue and open pipeline credited to each channel, per additive model, in the reporting currency; (unattributed) holds what no touch could take.';
COMMENT ON VIEW @extschema@.revenue_by_campaign IS 'Won revenue and open pipeline credited to each campaign (NULL: touches without a campaign), per additive model.';
COMMENT ON VIEW @extschema@.revenue_by_account IS 'Won revenue and open pipeline per account, per additive model.';
COMMENT ON VIEW @extschema@.revenue_by_contact IS 'Won revenue and open pipeline credited to the touches of each contact (contact_id NULL: account-level touches and unattributed), per additive model.';
COMMENT ON VIEW @extschema@.revenue_by_owner IS 'Won revenue and open pipeline credited to the touches each sales rep made (owner NULL: touches without an owner), per additive model.';
COMMENT ON VIEW @extschema@.revenue_by_month IS 'Won revenue by month of close and open pipeline by month of creation (UTC), per additive model.';
COMMENT ON COLUMN @extschema@.revenue_by_channel.model IS 'Model.';
COMMENT ON COLUMN @extschema@.revenue_by_channel.channel IS 'Channel, or (unattributed).';
COMMENT ON COLUMN @extschema@.revenue_by_channel.channel_group IS 'Channel group.';
COMMENT ON COLUMN @extschema@.revenue_by_channel.won_revenue IS 'Credited revenue of won opportunities.';
COMMENT ON COLUMN @extschema@.revenue_by_channel.pipeline IS 'Credited amount of open opportunities.';
COMMENT ON COLUMN @extschema@.revenue_by_channel.won_opportunities IS 'Won opportunities with credit here.';
COMMENT ON COLUMN @extschema@.revenue_by_channel.open_opportunities IS 'Open opportunities with credit here.';
COMMENT ON COLUMN @extschema@.revenue_by_channel.reporting_currency IS 'Currency of the money columns.';
COMMENT ON COLUMN @extschema@.revenue_by_campaign.model IS 'Model.';
COMMENT ON COLUMN @extschema@.revenue_by_campaign.campaign_id IS 'Campaign (NULL: none).';
COMMENT ON COLUMN @extschema@.revenue_by_campaign.campaign_name IS 'Campaign name.';
COMMENT ON COLUMN @extschema@.revenue_by_campaign.channel IS 'Channel of the credited touches.';
COMMENT ON COLUMN @extschema@.revenue_by_campaign.won_revenue IS 'Credited revenue of won opportunities.';
COMMENT ON COLUMN @extschema@.revenue_by_campaign.pipeline IS 'Credited amount of open opportunities.';
COMMENT ON COLUMN @extschema@.revenue_by_campaign.won_opportunities IS 'Won opportunities with credit here.';
COMMENT ON COLUMN @extschema@.revenue_by_campaign.open_opportunities IS 'Open opportunities with credit here.';
COMMENT ON COLUMN @extschema@.revenue_by_campaign.reporting_currency IS 'Currency of the money columns.';
COMMENT ON COLUMN @extschema@.revenue_by_account.model IS 'Model.';
COMMENT ON COLUMN @extschema@.revenue_by_account.account_id IS 'Account.';
COMMENT ON COLUMN @extschema@.revenue_by_account.account_name IS 'Account name.';
COMMENT ON COLUMN @extschema@.revenue_by_account.segment IS 'Account segment.';
COMMENT ON COLUMN @extschema@.revenue_by_account.won_revenue IS 'Won revenue of the account (all of it lands on its own touches or unattributed).';
COMMENT ON COLUMN @extschema@.revenue_by_account.pipeline IS 'Open pipeline of the account.';
COMMENT ON COLUMN @extschema@.revenue_by_account.won_opportunities IS 'Won opportunities.';
COMMENT ON COLUMN @extschema@.revenue_by_account.open_opportunities IS 'Open opportunities.';
COMMENT ON COLUMN @extschema@.revenue_by_account.reporting_currency IS 'Currency of the money columns.';
COMMENT ON COLUMN @extschema@.revenue_by_contact.model IS 'Model.';
COMMENT ON COLUMN @extschema@.revenue_by_contact.account_id IS 'Account.';
COMMENT ON COLUMN @extschema@.revenue_by_contact.contact_id IS 'Contact (NULL: account-level touches and unattributed).';
COMMENT ON COLUMN @extschema@.revenue_by_contact.won_revenue IS 'Credited revenue of won opportunities.';
COMMENT ON COLUMN @extschema@.revenue_by_contact.pipeline IS 'Credited amount of open opportunities.';
COMMENT ON COLUMN @extschema@.revenue_by_contact.won_opportunities IS 'Won opportunities with credit here.';
COMMENT ON COLUMN @extschema@.revenue_by_contact.open_opportunities IS 'Open opportunities with credit here.';
COMMENT ON COLUMN @extschema@.revenue_by_contact.reporting_currency IS 'Currency of the money columns.';
COMMENT ON COLUMN @extschema@.revenue_by_owner.model IS 'Model.';
COMMENT ON COLUMN @extschema@.revenue_by_owner.owner IS 'Sales rep who made the credited touches (NULL: none).';
COMMENT ON COLUMN @extschema@.revenue_by_owner.won_revenue IS 'Credited revenue of won opportunities.';
COMMENT ON COLUMN @extschema@.revenue_by_owner.pipeline IS 'Credited amount of open opportunities.';
COMMENT ON COLUMN @extschema@.revenue_by_owner.won_opportunities IS 'Won opportunities with credit here.';
COMMENT ON COLUMN @extschema@.revenue_by_owner.open_opportunities IS 'Open opportunities with credit here.';
COMMENT ON COLUMN @extschema@.revenue_by_owner.reporting_currency IS 'Currency of the money columns.';
COMMENT ON COLUMN @extschema@.revenue_by_month.model IS 'Model.';
COMMENT ON COLUMN @extschema@.revenue_by_month.month IS 'First day of the month (close month when closed, creation month when open).';
COMMENT ON COLUMN @extschema@.revenue_by_month.won_revenue IS 'Credited revenue of opportunities won that month.';
COMMENT ON COLUMN @extschema@.revenue_by_month.pipeline IS 'Credited amount of open opportunities created that month.';
COMMENT ON COLUMN @extschema@.revenue_by_month.won_opportunities IS 'Won opportunities.';
COMMENT ON COLUMN @extschema@.revenue_by_month.open_opportunities IS 'Open opportunities.';
COMMENT ON COLUMN @extschema@.revenue_by_month.reporting_currency IS 'Currency of the money columns.';

CREATE VIEW @extschema@.model_comparison WITH (security_invoker = true) AS
SELECT model, channel, won_revenue,
	   round(won_revenue / NULLIF(sum(won_revenue) OVER (PARTITION BY model), 0), 6) AS won_share,
	   pipeline,
	   round(pipeline / NULLIF(sum(pipeline) OVER (PARTITION BY model), 0), 6) AS pipeline_share,
	   reporting_currency
FROM @extschema@.revenue_by_channel;
COMMENT ON VIEW @extschema@.model_comparison IS 'Channel x model: each additive model''s won revenue and pipeline per channel with the channel''s share of that model''s total.';
COMMENT ON COLUMN @extschema@.model_comparison.model IS 'Model.';
COMMENT ON COLUMN @extschema@.model_comparison.channel IS 'Channel.';
COMMENT ON COLUMN @extschema@.model_comparison.won_revenue IS 'Won revenue credited to the channel.';
COMMENT ON COLUMN @extschema@.model_comparison.won_share IS 'Share of the model''s won revenue (0..1).';
COMMENT ON COLUMN @extschema@.model_comparison.pipeline IS 'Open pipeline credited to the channel.';
COMMENT ON COLUMN @extschema@.model_comparison.pipeline_share IS 'Share of the model''s pipeline (0..1).';
COMMENT ON COLUMN @extschema@.model_comparison.reporting_currency IS 'Currency of the money columns.';

CREATE VIEW @extschema@.campaign_roi WITH (security_invoker = true) AS
WITH cost AS (
	SELECT cp.campaign_id, cp.name, cp.channel, cp.cost,
		   CASE WHEN cp.cost IS NULL THEN NULL
				WHEN cp.currency IS NULL OR cp.currency = s.reporting_currency THEN cp.cost
				ELSE round(cp.cost * (SELECT x.rate FROM @extschema@.src_exchange_rates x
									  WHERE x.currency = cp.currency
										AND (cp.started_at IS NULL
											 OR x.valid_from <= (cp.started_at AT TIME ZONE 'UTC')::pg_catalog.date)
									  ORDER BY x.valid_from DESC LIMIT 1),
						   @extschema@.currency_scale(s.reporting_currency)) END AS cost_reporting,
		   s.reporting_currency
	FROM @extschema@.src_campaigns cp CROSS JOIN @extschema@.effective_settings s
)
SELECT m.name AS model, c.campaign_id, c.name AS campaign_name, c.channel, c.cost_reporting AS cost,
	   coalesce(r.won_revenue, 0) AS won_revenue, coalesce(r.pipeline, 0) AS pipeline,
	   round((coalesce(r.won_revenue, 0) - c.cost_reporting) / NULLIF(c.cost_reporting, 0), 4) AS roi,
	   round(coalesce(r.won_revenue, 0) / NULLIF(c.cost_reporting, 0), 4) AS revenue_per_cost,
	   c.reporting_currency
FROM cost c
CROSS JOIN (SELECT name FROM @extschema@.model_registry WHERE enabled AND additive) m
LEFT JOIN (SELECT model, campaign_id, sum(won_revenue) AS won_revenue, sum(pipeline) AS pipeline
		   FROM @extschema@.revenue_by_campaign GROUP BY model, campaign_id) r
	ON r.model = m.name AND r.campaign_id = c.campaign_id;
COMMENT ON VIEW @extschema@.campaign_roi IS 'Campaign ROI per additive model: attributed won revenue and pipeline against the campaign''s cost (converted to the reporting currency at the rate in force when it started).';
COMMENT ON COLUMN @extschema@.campaign_roi.model IS 'Model.';
COMMENT ON COLUMN @extschema@.campaign_roi.campaign_id IS 'Campaign.';
COMMENT ON COLUMN @extschema@.campaign_roi.campaign_name IS 'Campaign name.';
COMMENT ON COLUMN @extschema@.campaign_roi.channel IS 'The campaign''s channel.';
COMMENT ON COLUMN @extschema@.campaign_roi.cost IS 'Cost in the reporting currency (NULL: unknown, or no rate).';
COMMENT ON COLUMN @extschema@.campaign_roi.won_revenue IS 'Won revenue credited to the campaign.';
COMMENT ON COLUMN @extschema@.campaign_roi.pipeline IS 'Open pipeline credited to the campaign.';
COMMENT ON COLUMN @extschema@.campaign_roi.roi IS '(won_revenue - cost) / cost; NULL without a cost.';
COMMENT ON COLUMN @extschema@.campaign_roi.revenue_per_cost IS 'won_revenue / cost (ROAS); NULL without a cost.';
COMMENT ON COLUMN @extschema@.campaign_roi.reporting_currency IS 'Currency of the money columns.';

CREATE VIEW @extschema@.influenced_revenue_by_channel WITH (security_invoker = true) AS
SELECT x.channel,
	   coalesce(sum(x.amount_reporting) FILTER (WHERE x.status = 'won'), 0) AS influenced_won_revenue,
	   coalesce(sum(x.amount_reporting) FILTER (WHERE x.status = 'open'), 0) AS influenced_pipeline,
	   count(*) FILTER (WHERE x.status = 'won') AS won_opportunities,
	   count(*) FILTER (WHERE x.status = 'open') AS open_opportunities,
	   s.reporting_currency
FROM (SELECT DISTINCT j.account_id, j.opportunity_id, j.status, j.amount_reporting, t.channel
	  FROM @extschema@.journey_cache j
	  JOIN @extschema@.src_opportunities o ON o.account_id = j.account_id AND o.opportunity_id = j.opportunity_id
	  CROSS JOIN LATERAL @extschema@.touches(j.journey) t
	  -- only touches the querying user can see in the source (row-level security)
	  JOIN @extschema@.src_touches st ON st.account_id = j.account_id AND st.touch_id = t.touch_id) x
CROSS JOIN @extschema@.effective_settings s
GROUP BY x.channel, s.reporting_currency;
COMMENT ON VIEW @extschema@.influenced_revenue_by_channel IS 'Influenced revenue (non-additive): the full amount of every opportunity with at least one touch in the channel, each opportunity counted once per channel. Never sum it across channels.';
COMMENT ON COLUMN @extschema@.influenced_revenue_by_channel.channel IS 'Channel.';
COMMENT ON COLUMN @extschema@.influenced_revenue_by_channel.influenced_won_revenue IS 'Sum of the amounts of won opportunities the channel touched.';
COMMENT ON COLUMN @extschema@.influenced_revenue_by_channel.influenced_pipeline IS 'Sum of the amounts of open opportunities the channel touched.';
COMMENT ON COLUMN @extschema@.influenced_revenue_by_channel.won_opportunities IS 'Won opportunities the channel touched.';
COMMENT ON COLUMN @extschema@.influenced_revenue_by_channel.open_opportunities IS 'Open opportunities the channel touched.';
COMMENT ON COLUMN @extschema@.influenced_revenue_by_channel.reporting_currency IS 'Currency of the money columns.';
