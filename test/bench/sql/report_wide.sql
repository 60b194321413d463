-- (9) the per-touch model comparison (Marketo Measure's shape): every journey
-- touch with one percentage column per model.
SELECT count(*) AS touches, sum(linear) AS linear, sum(w_shaped) AS w_shaped,
	   count(other_models) AS with_other_models
FROM attrib.touch_credits_wide;
