-- journeys only: journey_agg + with_context for every opportunity with touches
-- in its window, exactly as (2) builds them before crediting.
WITH s AS (SELECT coalesce(e.as_of, now()) AS as_of, e.lookback FROM attrib.effective_settings e),
opp AS (
	SELECT o.account_id, o.opportunity_id, o.amount, o.currency, o.created_at, o.closed_at,
		   CASE WHEN o.closed_at IS NULL THEN 'open' WHEN o.is_won THEN 'won' ELSE 'lost' END AS status,
		   CASE WHEN o.closed_at IS NULL THEN s.as_of END AS open_as_of, s.lookback,
		   coalesce(o.created_at - date_part('epoch', s.lookback) * interval '1 second', '-infinity') AS window_start,
		   coalesce(o.closed_at, s.as_of) AS window_end
	FROM attrib.opportunities o CROSS JOIN s
),
jc AS (
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
SELECT count(*) AS journeys, sum(attrib.journey_length(jc.journey)) AS touches FROM jc;
