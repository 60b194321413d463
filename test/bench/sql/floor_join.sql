-- floor, informational: the journey rows — touches joined to opportunities within the window
-- (contact_scope account, lookback and as_of from the settings, as attrib.refresh
-- reads them) — grouped by opportunity with count(*) and a trivial aggregate over
-- touch_id, occurred_at and channel, so every row is really read.
WITH s AS (SELECT coalesce(e.as_of, now()) AS as_of, e.lookback FROM attrib.effective_settings e),
opp AS (
	SELECT o.account_id, o.opportunity_id,
		   o.created_at - date_part('epoch', s.lookback) * interval '1 second' AS window_start,
		   coalesce(o.closed_at, s.as_of) AS window_end
	FROM attrib.opportunities o CROSS JOIN s
)
SELECT count(*) AS journeys, sum(g.n) AS touches, max(g.last_at) AS last_at, sum(g.bytes) AS bytes
FROM (
	SELECT o.account_id, o.opportunity_id, count(*) AS n, max(t.occurred_at) AS last_at,
		   sum(octet_length(t.touch_id) + octet_length(t.channel)) AS bytes
	FROM opp o
	JOIN attrib.touches t ON t.account_id = o.account_id
	WHERE t.occurred_at <= o.window_end
	  AND (o.window_start IS NULL OR t.occurred_at >= o.window_start)
	GROUP BY o.account_id, o.opportunity_id
) g;
