-- journeys only: journey_agg + with_context for every opportunity with touches
-- in its window, exactly as (2) builds them before crediting.
WITH jc AS (
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
SELECT count(*) AS journeys, sum(attrib.journey_length(jc.journey)) AS touches FROM jc;
