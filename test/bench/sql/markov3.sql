-- (5) Markov fit, order 3, over every stored journey (converted = won).
-- (The info is taken once: (f(x)).* would call it once per output column.)
SELECT (i).* FROM (SELECT attrib.markov_info(attrib.markov_fit(journey, status = 'won', 3)) AS i FROM attrib.journey_cache OFFSET 0) x;
