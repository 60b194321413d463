-- (5) Shapley fit over every stored journey (converted = won).
-- (The info is taken once: (f(x)).* would call it once per output column.)
SELECT (i).* FROM (SELECT attrib.shapley_info(attrib.shapley_fit(journey, status = 'won')) AS i FROM attrib.journey_cache OFFSET 0) x;
