-- journey building alone (for the parallel comparison): journey_agg per
-- opportunity over its window (one range scan of touches_account_time each, as
-- attrib.refresh builds them on attrib's own tables), consumed by count and
-- journey_length.
WITH s AS (SELECT coalesce(e.as_of, now()) AS as_of, e.lookback FROM attrib.effective_settings e),
opp AS (
	SELECT o.account_id, o.opportunity_id,
		   coalesce(o.created_at - date_part('epoch', s.lookback) * interval '1 second', '-infinity') AS window_start,
		   coalesce(o.closed_at, s.as_of) AS window_end
	FROM attrib.opportunities o CROSS JOIN s
)
SELECT count(*) AS journeys, sum(attrib.journey_length(g.journey)) AS touches
FROM opp o
CROSS JOIN LATERAL (
	SELECT attrib.journey_agg(t.touch_id, t.occurred_at, t.channel) AS journey
	FROM attrib.touches t
	WHERE t.account_id = o.account_id AND t.occurred_at BETWEEN o.window_start AND o.window_end
) g
WHERE g.journey IS NOT NULL;
