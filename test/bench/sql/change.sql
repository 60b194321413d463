-- Untimed preparation of (6): 1% of the accounts that have opportunities (a fixed,
-- deterministic choice) change their touches: half gain one touch a day before
-- the creation of their latest opportunity (inside its window), half lose their
-- latest touch.  The triggers queue these accounts for refresh_incremental().
-- psql variable :run makes the new touch ids unique per run.
CREATE TEMP TABLE chosen AS
SELECT a.account_id, row_number() OVER (ORDER BY md5(a.account_id)) % 2 = 0 AS gains
FROM (SELECT DISTINCT o.account_id FROM attrib.opportunities o) a
ORDER BY md5(a.account_id)
LIMIT (SELECT greatest(2, round(count(DISTINCT o.account_id) * 0.01)) FROM attrib.opportunities o);

INSERT INTO attrib.touches (account_id, touch_id, occurred_at, channel, touch_type, activity)
SELECT c.account_id, 'TBENCH-' || :'run' || '-' || c.account_id,
	   (SELECT max(o.created_at) FROM attrib.opportunities o WHERE o.account_id = c.account_id) - interval '1 day',
	   'email', 'marketing', 'email_click'
FROM chosen c WHERE c.gains;

DELETE FROM attrib.touches t
USING (SELECT DISTINCT ON (t2.account_id) t2.account_id, t2.touch_id
	   FROM attrib.touches t2 JOIN chosen c ON c.account_id = t2.account_id AND NOT c.gains
	   ORDER BY t2.account_id, t2.occurred_at DESC, t2.touch_id DESC) d
WHERE t.account_id = d.account_id AND t.touch_id = d.touch_id;
