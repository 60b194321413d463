-- (4b) recompute every credit from the stored journeys only (what a changed model
-- or setting costs once journeys are stored): reads journey_cache, no touch row.
SELECT attrib.refresh_scope(NULL, false, now());
