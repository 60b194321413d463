-- (4c) every rule-based credit recomputed from the stored journeys only
-- (journey_cache, no touch row), consumed by an aggregate instead of being
-- written: the compute part of (4b), with the same calls as (2).
WITH s AS (
	SELECT jsonb_build_object('direct_channels', e.direct_channels || coalesce(
			   (SELECT array_agg(c.channel) FROM attrib.channels c WHERE c.is_direct), '{}')) AS options
	FROM attrib.effective_settings e
)
SELECT sum(c.credit) AS credit, count(*) AS credit_rows
FROM attrib.journey_cache j
CROSS JOIN s
CROSS JOIN unnest('{first_touch,last_touch,lead_creation,opportunity_creation,last_non_direct,first_non_direct,linear,position_based,j_shaped,inverse_j,u_shaped,w_shaped,full_path,time_decay,influence}'::text[]) m(model)
CROSS JOIN LATERAL attrib.credits(j.journey, m.model, j.amount, s.options, attrib.currency_scale(j.currency)) c;
