-- (1) floor: the journey rows — touches joined to opportunities within the window
-- (contact_scope account, lookback and as_of from the settings, as attrib.refresh
-- reads them) — grouped by opportunity with count(*) and a trivial aggregate over
-- touch_id, occurred_at and channel, so every row is really read.  Read the
-- fastest way we know: one range scan of touches_account_time per opportunity
-- (the window join grouped by opportunity, floor_join.sql, is about 1.7x
-- slower at 10^6 touches).
WITH s AS (SELECT coalesce(e.as_of, now()) AS as_of, e.lookback FROM attrib.effective_settings e),
opp AS (
	SELECT o.account_id, o.opportunity_id,
		   coalesce(o.created_at - date_part('epoch', s.lookback) * interval '1 second', '-infinity') AS window_start,
		   coalesce(o.closed_at, s.as_of) AS window_end
	FROM attrib.opportunities o CROSS JOIN s
)
SELECT count(*) AS journeys, sum(g.n) AS touches, max(g.last_at) AS last_at, sum(g.bytes) AS bytes
FROM opp o
CROSS JOIN LATERAL (
	SELECT count(*) AS n, max(t.occurred_at) AS last_at,
		   sum(octet_length(t.touch_id) + octet_length(t.channel)) AS bytes
	FROM attrib.touches t
	WHERE t.account_id = o.account_id AND t.occurred_at BETWEEN o.window_start AND o.window_end
) g
WHERE g.n > 0;
