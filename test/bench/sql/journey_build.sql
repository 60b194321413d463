-- journey building alone (for the parallel comparison): journey_agg grouped by
-- opportunity over the window join, consumed by count and journey_length.
WITH s AS (SELECT coalesce(e.as_of, now()) AS as_of, e.lookback FROM attrib.effective_settings e),
opp AS (
	SELECT o.account_id, o.opportunity_id,
		   o.created_at - date_part('epoch', s.lookback) * interval '1 second' AS window_start,
		   coalesce(o.closed_at, s.as_of) AS window_end
	FROM attrib.opportunities o CROSS JOIN s
)
SELECT count(*) AS journeys, sum(attrib.journey_length(g.journey)) AS touches
FROM (
	SELECT o.account_id, o.opportunity_id, attrib.journey_agg(t.touch_id, t.occurred_at, t.channel) AS journey
	FROM opp o JOIN attrib.touches t ON t.account_id = o.account_id
	WHERE t.occurred_at <= o.window_end AND (o.window_start IS NULL OR t.occurred_at >= o.window_start)
	GROUP BY o.account_id, o.opportunity_id
) g;
