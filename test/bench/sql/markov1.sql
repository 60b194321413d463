-- (5) Markov fit, order 1, over every stored journey (converted = won).
SELECT (attrib.markov_info(attrib.markov_fit(journey, status = 'won'))).* FROM attrib.journey_cache;
