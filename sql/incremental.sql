-- incremental: attrib.refresh_incremental() rebuilds only what changed, and its
-- results equal a full refresh exactly
\set ECHO none
SET client_min_messages = warning;
\set scale 1
\o /dev/null
\i test/gen/generate.sql
\o
RESET client_min_messages;
\set ECHO all

CREATE FUNCTION results_digest() RETURNS text LANGUAGE sql AS $$
	SELECT md5(string_agg(x, E'\n' ORDER BY x)) FROM (
		SELECT format('%s|%s|%s|%s|%s|%s', account_id, opportunity_id, status, amount, amount_reporting, journey) AS x
		FROM attrib.journey_cache
		UNION ALL
		SELECT format('%s|%s|%s|%s|%s|%s|%s|%s', account_id, opportunity_id, model, touch_index, touch_id,
					  weight, credit, credit_reporting)
		FROM attrib.credit_cache) d
$$;

SELECT opportunities > 200 AS full_refresh FROM attrib.refresh();
SELECT count(*) AS queued_after_full FROM attrib.refresh_queue;

-- nothing changed: nothing rebuilt, same results
CREATE TABLE d0 AS SELECT results_digest() AS d;
SELECT opportunities AS rebuilt FROM attrib.refresh_incremental();
SELECT results_digest() = (SELECT d FROM d0) AS unchanged;

-- about 1% of the CRM changes: new touches on two accounts, a deleted touch on a
-- third, a changed amount on a fourth, a new contact role on a fifth
INSERT INTO attrib.touches (account_id, touch_id, occurred_at, channel, touch_type)
SELECT account_id, 'new-' || account_id || '-' || i, timestamptz '2024-06-01 00:00+00' + i * interval '3 days',
	   (ARRAY['webinar', 'paid_search', 'email'])[1 + i % 3], 'marketing'
FROM (SELECT DISTINCT account_id FROM attrib.opportunities ORDER BY account_id LIMIT 2) a,
	 generate_series(1, 4) i;
DELETE FROM attrib.touches WHERE (account_id, touch_id) =
	(SELECT account_id, touch_id FROM attrib.touches
	 WHERE account_id = (SELECT DISTINCT account_id FROM attrib.opportunities ORDER BY account_id OFFSET 2 LIMIT 1)
	 ORDER BY occurred_at DESC, touch_id LIMIT 1);
UPDATE attrib.opportunities SET amount = amount + 1234.56
WHERE (account_id, opportunity_id) = (SELECT account_id, opportunity_id FROM attrib.opportunities
	 WHERE account_id = (SELECT DISTINCT account_id FROM attrib.opportunities ORDER BY account_id OFFSET 3 LIMIT 1)
	 ORDER BY opportunity_id LIMIT 1);
INSERT INTO attrib.opportunity_contact_roles (account_id, opportunity_id, contact_id, role)
SELECT o.account_id, o.opportunity_id, c.contact_id, 'Influencer'
FROM attrib.opportunities o JOIN attrib.contacts c USING (account_id)
WHERE o.account_id = (SELECT DISTINCT account_id FROM attrib.opportunities ORDER BY account_id OFFSET 4 LIMIT 1)
  AND NOT EXISTS (SELECT 1 FROM attrib.opportunity_contact_roles r
				  WHERE r.account_id = o.account_id AND r.opportunity_id = o.opportunity_id AND r.contact_id = c.contact_id)
ORDER BY o.opportunity_id, c.contact_id LIMIT 1;
SELECT count(*) AS queued FROM attrib.refresh_queue;

SELECT opportunities AS rebuilt, opportunities < 20 AS only_the_changed FROM attrib.refresh_incremental();
SELECT results_digest() <> (SELECT d FROM d0) AS results_moved;
CREATE TABLE d1 AS SELECT results_digest() AS d;
SELECT opportunities > 200 AS full_refresh FROM attrib.refresh();
SELECT results_digest() = (SELECT d FROM d1) AS incremental_equals_full;

-- a new model: only its credits are computed, from the stored journeys; the
-- other models' rows are not rewritten (same ctid)
INSERT INTO attrib.model_config (name, base_model, options) VALUES ('time_decay_30d', 'time_decay', '{"half_life": 30}');
SELECT credits_stale, stale_models FROM attrib.refresh_state;
CREATE TABLE kept AS SELECT account_id, opportunity_id, model, ctid AS at FROM attrib.credit_store;
CREATE TABLE r2 AS SELECT * FROM attrib.refresh_incremental();
SELECT opportunities AS rebuilt_journeys,
	   credit_rows = (SELECT count(*) FROM attrib.credit_cache WHERE model = 'time_decay_30d') AS wrote_only_its_rows
FROM r2;
SELECT count(*) = (SELECT count(*) FROM kept) AS others_all_kept, count(*) FILTER (WHERE k.at <> c.ctid) AS others_rewritten
FROM kept k JOIN attrib.credit_store c USING (account_id, opportunity_id, model);
CREATE TABLE d2 AS SELECT results_digest() AS d;
SELECT count(DISTINCT model) AS models FROM attrib.credit_cache;
SELECT opportunities > 200 AS full_refresh FROM attrib.refresh();
SELECT results_digest() = (SELECT d FROM d2) AS incremental_equals_full;

-- renamed and changed: the old and the new name are stale
UPDATE attrib.model_config SET name = 'time_decay_45d', options = '{"half_life": 45}' WHERE name = 'time_decay_30d';
SELECT credits_stale, (SELECT array_agg(m ORDER BY m) FROM unnest(stale_models) m) AS stale_models FROM attrib.refresh_state;
SELECT opportunities AS rebuilt_journeys FROM attrib.refresh_incremental();
SELECT count(*) FILTER (WHERE model = 'time_decay_30d') AS old_rows, count(*) FILTER (WHERE model = 'time_decay_45d') > 0 AS new_rows
FROM attrib.credit_cache;
CREATE TABLE d2b AS SELECT results_digest() AS d;
SELECT opportunities > 200 AS full_refresh FROM attrib.refresh();
SELECT results_digest() = (SELECT d FROM d2b) AS incremental_equals_full;

-- deleted: its credits go
DELETE FROM attrib.model_config WHERE name = 'time_decay_45d';
SELECT stale_models FROM attrib.refresh_state;
SELECT credit_rows FROM attrib.refresh_incremental();
SELECT count(*) AS its_rows FROM attrib.credit_cache WHERE model = 'time_decay_45d';
CREATE TABLE d2c AS SELECT results_digest() AS d;
SELECT opportunities > 200 AS full_refresh FROM attrib.refresh();
SELECT results_digest() = (SELECT d FROM d2c) AS incremental_equals_full;
-- several changes in one transaction: one mark with every name; an UPDATE that
-- sets the same values marks nothing
BEGIN;
INSERT INTO attrib.model_config (name, base_model, options) VALUES ('time_decay_30d', 'time_decay', '{"half_life": 30}');
UPDATE attrib.model_config SET enabled = enabled;
INSERT INTO attrib.model_config (name, base_model, options, enabled) VALUES ('linear', 'linear', '{}', false);
COMMIT;
SELECT credits_stale, stale_models FROM attrib.refresh_state;
UPDATE attrib.model_config SET enabled = enabled;
SELECT count(*) AS marks_after_a_no_op FROM attrib.refresh_state;
SELECT opportunities AS rebuilt_journeys FROM attrib.refresh_incremental();
SELECT count(*) FILTER (WHERE model = 'linear') AS linear_rows, count(*) FILTER (WHERE model = 'time_decay_30d') > 0 AS added_rows
FROM attrib.credit_cache;
CREATE TABLE d2d AS SELECT results_digest() AS d;
SELECT opportunities > 200 AS full_refresh FROM attrib.refresh();
SELECT results_digest() = (SELECT d FROM d2d) AS incremental_equals_full;
-- TRUNCATE marks every credit (no transition table); the built-in linear is back
TRUNCATE attrib.model_config;
SELECT credits_stale, stale_models FROM attrib.refresh_state;
INSERT INTO attrib.model_config (name, base_model, options) VALUES ('time_decay_30d', 'time_decay', '{"half_life": 30}');
SELECT opportunities AS rebuilt_journeys FROM attrib.refresh_incremental();
SELECT count(*) FILTER (WHERE model = 'linear') > 0 AS linear_rows FROM attrib.credit_cache;
CREATE TABLE d2e AS SELECT results_digest() AS d;
SELECT opportunities > 200 AS full_refresh FROM attrib.refresh();
SELECT results_digest() = (SELECT d FROM d2e) AS incremental_equals_full;

-- a changed setting rebuilds every journey
SELECT attrib.set_setting('lookback', '90 days');
SELECT journeys_stale FROM attrib.refresh_state;
SELECT opportunities > 200 AS rebuilt_all FROM attrib.refresh_incremental();
CREATE TABLE d3 AS SELECT results_digest() AS d;
SELECT opportunities > 200 AS full_refresh FROM attrib.refresh();
SELECT results_digest() = (SELECT d FROM d3) AS incremental_equals_full;

-- the data-driven models, once enabled, are fitted over the stored journeys
-- (won: converting; lost and accounts without opportunities: not; open: out)
INSERT INTO attrib.model_config (name, base_model, options) VALUES
	('markov', 'markov', '{"order": 2}'), ('shapley', 'shapley', '{}');
SELECT try($$INSERT INTO attrib.model_config VALUES ('markov_9', 'markov', '{"order": 9}')$$);
SELECT try($$INSERT INTO attrib.model_config VALUES ('shapley_x', 'shapley', '{"order": 2}')$$);
SELECT opportunities > 200 AS full_refresh FROM attrib.refresh();
-- accounts with touches in the last 90 days (the lookback set above) before as_of and no opportunity
SELECT count(*) > 0 AS some, count(*) = (SELECT count(DISTINCT t.account_id) FROM attrib.touches t
		WHERE NOT EXISTS (SELECT 1 FROM attrib.opportunities o WHERE o.account_id = t.account_id)
		  AND t.occurred_at BETWEEN timestamptz '2025-07-01 00:00+00' - interval '90 days'
								AND timestamptz '2025-07-01 00:00+00') AS as_counted_directly
FROM attrib.account_journey_cache;
-- the stored fits equal fits computed directly from the same journeys
SELECT f.markov::text = (SELECT attrib.markov_fit(x.journey, x.converted, 2)::text
						 FROM (SELECT journey, status = 'won' AS converted FROM attrib.journey_cache
							   WHERE status <> 'open'
							   UNION ALL SELECT journey, false FROM attrib.account_journey_cache) x) AS markov_fit_equal
FROM attrib.fitted_models f WHERE f.model = 'markov';
SELECT f.shapley::text = (SELECT attrib.shapley_fit(x.journey, x.converted)::text
						  FROM (SELECT journey, status = 'won' AS converted FROM attrib.journey_cache
								WHERE status <> 'open'
								UNION ALL SELECT journey, false FROM attrib.account_journey_cache) x) AS shapley_fit_equal
FROM attrib.fitted_models f WHERE f.model = 'shapley';
-- the stored credits equal attrib.credits under the stored fit
SELECT count(*) AS markov_rows_differing
FROM (SELECT j.account_id, j.opportunity_id, c.touch_index, c.credit
	  FROM attrib.journey_cache j, attrib.fitted_models f,
		   attrib.credits(j.journey, f.markov, j.amount, scale => attrib.currency_scale(j.currency)) c
	  WHERE f.model = 'markov' AND c.weight > 0
	  EXCEPT
	  SELECT account_id, opportunity_id, touch_index, credit FROM attrib.credit_cache
	  WHERE model = 'markov' AND touch_index > 0) d;
-- every opportunity's data-driven credits sum to its amount, in both currencies
SELECT c.model, count(*) AS opportunities,
	   count(*) FILTER (WHERE c.s <> j.amount OR c.r <> j.amount_reporting) AS inexact
FROM (SELECT account_id, opportunity_id, model, sum(credit) AS s, sum(credit_reporting) AS r
	  FROM attrib.credit_cache WHERE model IN ('markov', 'shapley')
	  GROUP BY 1, 2, 3) c
JOIN attrib.journey_cache j USING (account_id, opportunity_id)
GROUP BY c.model ORDER BY c.model;
SELECT model, count(*) > 5 AS channels, round(sum(share)::numeric, 9) AS shares FROM attrib.data_driven_channels GROUP BY model ORDER BY model;

-- a changed rule-based model leaves the fits and the data-driven credits as they are
CREATE TABLE dd_kept AS SELECT f.model, f.fitted_at FROM attrib.fitted_models f;
CREATE TABLE dd_rows AS SELECT account_id, opportunity_id, model, ctid AS at
FROM attrib.credit_store WHERE model IN ('markov', 'shapley');
UPDATE attrib.model_config SET options = '{"half_life": 20}' WHERE name = 'time_decay_30d';
SELECT opportunities AS rebuilt_journeys FROM attrib.refresh_incremental();
SELECT (SELECT count(*) FROM dd_kept k JOIN attrib.fitted_models f USING (model, fitted_at)) AS fits_kept,
	   (SELECT count(*) FROM dd_kept) AS fits,
	   (SELECT count(*) FILTER (WHERE c.ctid <> k.at) FROM dd_rows k
		JOIN attrib.credit_store c USING (account_id, opportunity_id, model)) AS dd_rows_rewritten;
CREATE TABLE d3b AS SELECT results_digest() AS d;
SELECT opportunities > 200 AS full_refresh FROM attrib.refresh();
SELECT results_digest() = (SELECT d FROM d3b) AS incremental_equals_full;
-- a changed data-driven model refits them
UPDATE attrib.model_config SET options = '{"order": 1}' WHERE name = 'markov';
SELECT stale_models FROM attrib.refresh_state;
SELECT opportunities AS rebuilt_journeys FROM attrib.refresh_incremental();
SELECT (attrib.markov_info(f.markov))."order" AS markov_order_now FROM attrib.fitted_models f WHERE f.model = 'markov';
CREATE TABLE d3c AS SELECT results_digest() AS d;
SELECT opportunities > 200 AS full_refresh FROM attrib.refresh();
SELECT results_digest() = (SELECT d FROM d3c) AS incremental_equals_full;

-- a changed touch refits them; incremental still equals full
UPDATE attrib.touches SET channel = 'event'
WHERE (account_id, touch_id) = (SELECT account_id, touch_id FROM attrib.touches ORDER BY account_id, touch_id LIMIT 1);
SELECT opportunities < 20 AS only_the_changed FROM attrib.refresh_incremental();
CREATE TABLE d4 AS SELECT results_digest() AS d, (SELECT string_agg(coalesce(markov::text, shapley::text), ',' ORDER BY model) FROM attrib.fitted_models) AS f;
SELECT opportunities > 200 AS full_refresh FROM attrib.refresh();
SELECT results_digest() = (SELECT d FROM d4) AS incremental_equals_full,
	   (SELECT string_agg(coalesce(markov::text, shapley::text), ',' ORDER BY model) FROM attrib.fitted_models) = (SELECT f FROM d4) AS same_fits;
