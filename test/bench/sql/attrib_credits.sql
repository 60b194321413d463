-- (2) attrib: journeys (journey_agg + with_context per opportunity, with the same window,
-- LC and direct channels as attrib.refresh) and every touch's credit under each
-- rule-based model (attrib.credits per model via LATERAL), consumed by an
-- outer aggregate.  The journeys are built once (MATERIALIZED; the planner may
-- build them with parallel workers), then credited by each of the 15 models.
WITH s AS (SELECT coalesce(e.as_of, now()) AS as_of, e.lookback FROM attrib.effective_settings e),
opp AS (
	SELECT o.account_id, o.opportunity_id, o.amount, o.currency, o.created_at, o.closed_at,
		   CASE WHEN o.closed_at IS NULL THEN 'open' WHEN o.is_won THEN 'won' ELSE 'lost' END AS status,
		   CASE WHEN o.closed_at IS NULL THEN s.as_of END AS open_as_of, s.lookback,
		   coalesce(o.created_at - date_part('epoch', s.lookback) * interval '1 second', '-infinity') AS window_start,
		   coalesce(o.closed_at, s.as_of) AS window_end
	FROM attrib.opportunities o CROSS JOIN s
),
jc AS MATERIALIZED (
	SELECT attrib.with_context(g.journey, o.status, o.created_at, o.closed_at, l.lead_created_at,
							   o.open_as_of, o.lookback) AS journey,
		   o.amount, attrib.currency_scale(o.currency) AS minor
	FROM opp o
	CROSS JOIN LATERAL (
		SELECT attrib.journey_agg(t.touch_id, t.occurred_at, t.channel) AS journey
		FROM attrib.touches t
		WHERE t.account_id = o.account_id AND t.occurred_at BETWEEN o.window_start AND o.window_end
	) g
	LEFT JOIN (SELECT c.account_id, min(c.lead_created_at) AS lead_created_at
			   FROM attrib.contacts c GROUP BY c.account_id) l ON l.account_id = o.account_id
	WHERE g.journey IS NOT NULL
)
SELECT sum(c.credit) AS credit, count(*) AS credit_rows
FROM jc
CROSS JOIN (SELECT jsonb_build_object('direct_channels', e.direct_channels || coalesce(
			   (SELECT array_agg(ch.channel) FROM attrib.channels ch WHERE ch.is_direct), '{}')) AS options
			FROM attrib.effective_settings e) s
CROSS JOIN unnest('{first_touch,last_touch,lead_creation,opportunity_creation,last_non_direct,first_non_direct,linear,position_based,j_shaped,inverse_j,u_shaped,w_shaped,full_path,time_decay,influence}'::text[]) m(model)
CROSS JOIN LATERAL attrib.credits(jc.journey, m.model, jc.amount, s.options, jc.minor) c;
