-- Shapley: fit and the channel table (exact Shapley values).
SELECT count(*), sum(share) FROM attrib.shapley_channels(
	(SELECT attrib.shapley_fit(journey, status = 'won') FROM attrib.journey_cache));
