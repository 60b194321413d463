-- (9) a report as a BI tool reads it: revenue by channel under every additive
-- model (every stored credit joined to its touch, channel and opportunity).
SELECT count(*) AS rows, sum(won_revenue) AS won, sum(pipeline) AS pipeline
FROM attrib.revenue_by_channel;
