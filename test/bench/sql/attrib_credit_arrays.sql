-- (2c) attrib, one call per journey for all models, one row per model: the same
-- journeys as (2), credited by attrib.credit_arrays (what refresh stores in
-- credit_store: the touches with weight > 0 as arrays, each amount split twice,
-- in the deal and in the reporting currency).  The aggregate counts the credits
-- and the bytes of both credit arrays (summing every numeric element again,
-- through unnest, would cost about as much as computing them).
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
SELECT sum(cardinality(c.credit)) AS credit_rows,
	   sum(pg_column_size(c.credit) + pg_column_size(c.credit_reporting)) AS credit_bytes
FROM jc
CROSS JOIN (SELECT array_agg(x) AS names, array_agg(x) AS models,
				   array_agg(jsonb_build_object('direct_channels', e.direct_channels || coalesce(
					   (SELECT array_agg(ch.channel) FROM attrib.channels ch WHERE ch.is_direct), '{}'))) AS options
			FROM attrib.effective_settings e,
				 unnest('{first_touch,last_touch,lead_creation,opportunity_creation,last_non_direct,first_non_direct,linear,position_based,j_shaped,inverse_j,u_shaped,w_shaped,full_path,time_decay,influence}'::text[]) x) m
CROSS JOIN LATERAL attrib.credit_arrays(jc.journey, m.names, m.models, m.options,
										jc.amount, jc.minor, jc.amount, jc.minor) c;
