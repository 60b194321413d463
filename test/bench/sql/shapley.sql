-- (5) Shapley fit over every stored journey (converted = won).
SELECT (attrib.shapley_info(attrib.shapley_fit(journey, status = 'won'))).* FROM attrib.journey_cache;
