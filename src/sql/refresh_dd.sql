
-- ------------------------------------------------------------------
-- refresh_dd.sql — the data-driven models in the reports.  Each refresh fits
-- every enabled markov / shapley registry model over the stored journeys —
-- converting: won opportunities; non-converting: lost opportunities and
-- accounts whose touches led to no opportunity; open opportunities are left
-- out — keeps the fit in attrib.fitted_models, and stores the credits of every
-- opportunity (won, open and lost) under it.
-- ------------------------------------------------------------------

CREATE TABLE @extschema@.fitted_models (
	model pg_catalog.text PRIMARY KEY,
	markov @extschema@.markov_model,
	shapley @extschema@.shapley_model,
	fitted_at pg_catalog.timestamptz NOT NULL
);
COMMENT ON TABLE @extschema@.fitted_models IS 'The data-driven models as fitted by the last refresh (one of markov / shapley set per row).';
COMMENT ON COLUMN @extschema@.fitted_models.model IS 'Registry name of the model.';
COMMENT ON COLUMN @extschema@.fitted_models.markov IS 'The fitted Markov chain (markov models).';
COMMENT ON COLUMN @extschema@.fitted_models.shapley IS 'The fitted coalition statistics (shapley models).';
COMMENT ON COLUMN @extschema@.fitted_models.fitted_at IS 'Transaction time of the refresh that fitted it.';

CREATE VIEW @extschema@.data_driven_channels WITH (security_invoker = true) AS
SELECT f.model, c.channel, c.journeys, c.conversions, c.removal_effect AS effect, c.share
FROM @extschema@.fitted_models f CROSS JOIN LATERAL @extschema@.markov_channels(f.markov) c
WHERE f.markov IS NOT NULL
UNION ALL
SELECT f.model, c.channel, c.journeys, c.conversions, c.shapley_value, c.share
FROM @extschema@.fitted_models f CROSS JOIN LATERAL @extschema@.shapley_channels(f.shapley) c
WHERE f.shapley IS NOT NULL;
COMMENT ON VIEW @extschema@.data_driven_channels IS 'Why the data-driven models credit what they do: per fitted model and channel, the journeys and conversions seen, the removal effect (markov) or Shapley value (shapley), and the normalized share.';
COMMENT ON COLUMN @extschema@.data_driven_channels.model IS 'Registry name of the model.';
COMMENT ON COLUMN @extschema@.data_driven_channels.channel IS 'Channel.';
COMMENT ON COLUMN @extschema@.data_driven_channels.journeys IS 'Journeys that touched the channel.';
COMMENT ON COLUMN @extschema@.data_driven_channels.conversions IS 'Of those, the converting ones.';
COMMENT ON COLUMN @extschema@.data_driven_channels.effect IS 'Removal effect (markov) or Shapley value summed over converting journeys (shapley).';
COMMENT ON COLUMN @extschema@.data_driven_channels.share IS 'The channel''s normalized share.';

CREATE FUNCTION @extschema@.refresh_data_driven()
RETURNS pg_catalog.int8
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r record;
	s record;
	fit pg_catalog.text;
	stale pg_catalog.text[];
	n pg_catalog.int8;
	n_credits pg_catalog.int8 := 0;
BEGIN
	SELECT * INTO s FROM @extschema@.effective_settings;
	-- The credit rows of data-driven models are replaced.  Only the models this
	-- function fitted last time (fitted_models) can have any, and the enabled ones
	-- will: with none of either (the default), credit_store is not read at all.
	-- (A model that stopped or started being data-driven changed its model_config
	-- row: the refresh deleted that model's credits first.)
	stale := ARRAY(SELECT m.name FROM @extschema@.model_registry m
				   WHERE m.data_driven
					 AND (m.enabled OR m.name IN (SELECT f.model FROM @extschema@.fitted_models f)));
	DELETE FROM @extschema@.fitted_models;
	IF pg_catalog.cardinality(stale) > 0 THEN
		DELETE FROM @extschema@.credit_store c WHERE c.model = ANY (stale);
	END IF;
	FOR r IN SELECT m.name, m.base_model, m.options - 'order' AS options,
					coalesce((m.options ->> 'order')::pg_catalog.int4, 1) AS k
			 FROM @extschema@.model_registry m
			 WHERE m.enabled AND m.data_driven ORDER BY m.name
	LOOP
		-- base_model is markov or shapley (checked when registered): the column of
		-- fitted_models and the fit aggregate are named after it
		fit := CASE r.base_model WHEN 'markov' THEN '@extschema@.markov_fit(x.journey, x.converted, $2)'
								 ELSE '@extschema@.shapley_fit(x.journey, x.converted)' END;
		-- converting: won; not converting: lost, and accounts without an opportunity
		EXECUTE format($q$
			INSERT INTO @extschema@.fitted_models (model, %I, fitted_at)
			SELECT $1, %s, pg_catalog.now()
			FROM (SELECT j.journey, j.status = 'won' AS converted FROM @extschema@.journey_cache j
				  WHERE j.status IN ('won', 'lost')
				  UNION ALL
				  SELECT a.journey, false FROM @extschema@.account_journey_cache a) x$q$,
			r.base_model, fit)
			USING r.name, r.k;
		-- one credit_store row per journey (its credited touches as arrays, in
		-- journey order); n counts the credited touches (credit_cache rows)
		EXECUTE format($q$
			WITH ins AS (
			INSERT INTO @extschema@.credit_store
			SELECT j.account_id, j.opportunity_id, $1, c.*
			FROM @extschema@.journey_cache j
			CROSS JOIN (SELECT f.%1$I AS fitted FROM @extschema@.fitted_models f WHERE f.model = $1) f
			CROSS JOIN LATERAL (
				SELECT pg_catalog.array_agg(a.touch_index ORDER BY a.touch_index),
					   pg_catalog.array_agg(a.touch_id ORDER BY a.touch_index),
					   pg_catalog.array_agg(a.weight ORDER BY a.touch_index),
					   pg_catalog.array_agg(a.credit ORDER BY a.touch_index),
					   pg_catalog.array_agg(b.credit ORDER BY a.touch_index)
				FROM @extschema@.credits(j.journey, f.fitted, j.amount, $2,
										 @extschema@.currency_scale(j.currency)) a
				JOIN @extschema@.credits(j.journey, f.fitted, j.amount_reporting, $2,
										 @extschema@.currency_scale($3)) b
					ON b.touch_index = a.touch_index
				WHERE a.weight > 0
				HAVING pg_catalog.count(*) > 0) c
			RETURNING pg_catalog.cardinality(touch_index) AS n)
			SELECT coalesce(pg_catalog.sum(ins.n), 0) FROM ins$q$, r.base_model)
			INTO n
			USING r.name, r.options, s.reporting_currency;
		n_credits := n_credits + n;
		-- what no touch could take is booked unattributed, so totals keep every cent
		INSERT INTO @extschema@.credit_store
		SELECT j.account_id, j.opportunity_id, r.name, '{0}', '{NULL}', '{1}',
			   ARRAY[j.amount], ARRAY[j.amount_reporting]
		FROM @extschema@.journey_cache j
		WHERE NOT EXISTS (SELECT 1 FROM @extschema@.credit_store c
						  WHERE c.account_id = j.account_id AND c.opportunity_id = j.opportunity_id
							AND c.model = r.name);
		GET DIAGNOSTICS n = ROW_COUNT;
		n_credits := n_credits + n;
	END LOOP;
	RETURN n_credits;
END $$;
COMMENT ON FUNCTION @extschema@.refresh_data_driven() IS
'Fits every enabled data-driven model over the stored journeys (won: converting; lost and accounts without an opportunity: not; open: left out) and stores every opportunity''s credits (won, open and lost) under it; returns the credit rows written. Called by attrib.refresh() and attrib.refresh_incremental().';
