-- (6b) incremental refresh after one custom model's weights changed (a
-- model_config row, changed untimed before each run): only that model's
-- credits are recomputed, from the stored journeys; compare the recompute of
-- every model (4b).
SELECT attrib.refresh_incremental();
