-- (4d) every rule-based credit recomputed from the stored journeys only
-- (journey_cache, no touch row) the way refresh computes them before writing
-- credit_store (credit_arrays, all models in one call per journey), consumed by
-- an aggregate (credits and bytes of both credit arrays, as (2c)) instead of
-- being written: the compute part of (4b).
WITH s AS (
	SELECT array_agg(x) AS names, array_agg(x) AS models,
		   array_agg(jsonb_build_object('direct_channels', e.direct_channels || coalesce(
			   (SELECT array_agg(c.channel) FROM attrib.channels c WHERE c.is_direct), '{}'))) AS options,
		   e.reporting_currency
	FROM attrib.effective_settings e,
		 unnest('{first_touch,last_touch,lead_creation,opportunity_creation,last_non_direct,first_non_direct,linear,position_based,j_shaped,inverse_j,u_shaped,w_shaped,full_path,time_decay,influence}'::text[]) x
	GROUP BY e.reporting_currency
)
SELECT sum(cardinality(c.credit)) AS credit_rows,
	   sum(pg_column_size(c.credit) + pg_column_size(c.credit_reporting)) AS credit_bytes
FROM attrib.journey_cache j
CROSS JOIN s
CROSS JOIN LATERAL attrib.credit_arrays(j.journey, s.names, s.models, s.options,
		j.amount, attrib.currency_scale(j.currency), j.amount_reporting,
		attrib.currency_scale(s.reporting_currency)) c;
