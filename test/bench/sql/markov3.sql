-- (5) Markov fit, order 3, over every stored journey (converted = won).
SELECT (attrib.markov_info(attrib.markov_fit(journey, status = 'won', 3))).* FROM attrib.journey_cache;
