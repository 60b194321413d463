-- (2b) attrib, one call per journey for all models: the same journeys as (2),
-- credited by attrib.credit_split (what refresh stores: only touches with
-- weight > 0 are returned, and each amount is split twice, in the deal and in
-- the reporting currency).
WITH jc AS MATERIALIZED (
	SELECT attrib.with_context(attrib.journey_agg(t.touch_id, t.occurred_at, t.channel),
			   CASE WHEN o.closed_at IS NULL THEN 'open' WHEN o.is_won THEN 'won' ELSE 'lost' END,
			   o.created_at, o.closed_at, l.lead_created_at,
			   CASE WHEN o.closed_at IS NULL THEN s.as_of END, s.lookback) AS journey,
		   o.amount, attrib.currency_scale(o.currency) AS minor
	FROM attrib.opportunities o
	CROSS JOIN (SELECT coalesce(e.as_of, now()) AS as_of, e.lookback FROM attrib.effective_settings e) s
	JOIN attrib.touches t ON t.account_id = o.account_id
	LEFT JOIN (SELECT c.account_id, min(c.lead_created_at) AS lead_created_at
			   FROM attrib.contacts c GROUP BY c.account_id) l ON l.account_id = o.account_id
	WHERE t.occurred_at <= coalesce(o.closed_at, s.as_of)
	  AND (s.lookback IS NULL OR t.occurred_at >= o.created_at - date_part('epoch', s.lookback) * interval '1 second')
	GROUP BY o.account_id, o.opportunity_id, l.lead_created_at, s.as_of, s.lookback
)
SELECT sum(c.credit) AS credit, count(*) AS credit_rows
FROM jc
CROSS JOIN (SELECT array_agg(x) AS names, array_agg(x) AS models,
				   array_agg(jsonb_build_object('direct_channels', e.direct_channels || coalesce(
					   (SELECT array_agg(ch.channel) FROM attrib.channels ch WHERE ch.is_direct), '{}'))) AS options
			FROM attrib.effective_settings e,
				 unnest('{first_touch,last_touch,lead_creation,opportunity_creation,last_non_direct,first_non_direct,linear,position_based,j_shaped,inverse_j,u_shaped,w_shaped,full_path,time_decay,influence}'::text[]) x) m
CROSS JOIN LATERAL attrib.credit_split(jc.journey, m.names, m.models, m.options,
										jc.amount, jc.minor, jc.amount, jc.minor) c;
