-- Markov order 3: fit and the channel table (removal effects solved exactly).
SELECT count(*), sum(share) FROM attrib.markov_channels(
	(SELECT attrib.markov_fit(journey, status = 'won', 3) FROM attrib.journey_cache));
