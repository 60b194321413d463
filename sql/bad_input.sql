-- bad_input: every bad input is a clear error with its SQLSTATE (SPEC §6)
\pset null '(null)'

-- unknown model, option, bad option values
SELECT try($$SELECT * FROM attrib.credits((SELECT attrib.journey_agg(touch_id, occurred_at, channel) FROM touch5), 'Linear', 100)$$);
SELECT try($$SELECT * FROM attrib.credits((SELECT attrib.journey_agg(touch_id, occurred_at, channel) FROM touch5), 'linear', 100, '{"half_life": 3}')$$);
SELECT try($$SELECT * FROM attrib.credits((SELECT attrib.journey_agg(touch_id, occurred_at, channel) FROM touch5), 'linear', 100, '{"exclude": ["x"]}')$$);
SELECT try($$SELECT * FROM attrib.credits((SELECT attrib.journey_agg(touch_id, occurred_at, channel) FROM touch5), 'time_decay', 100, '{"half_life": 0}')$$);
SELECT try($$SELECT * FROM attrib.credits((SELECT attrib.journey_agg(touch_id, occurred_at, channel) FROM touch5), 'time_decay', 100, '{"half_life": -2}')$$);
SELECT try($$SELECT * FROM attrib.credits((SELECT attrib.journey_agg(touch_id, occurred_at, channel) FROM touch5), 'custom', 100)$$);
SELECT try($$SELECT * FROM attrib.credits((SELECT attrib.journey_agg(touch_id, occurred_at, channel) FROM touch5), 'custom', 100, '{"weights": {"FT": 0.5, "LT": 0.4}}')$$);
SELECT try($$SELECT * FROM attrib.credits((SELECT attrib.journey_agg(touch_id, occurred_at, channel) FROM touch5), 'custom', 100, '{"weights": {"FT": 1.2, "LT": -0.2}}')$$);
SELECT try($$SELECT * FROM attrib.credits((SELECT attrib.journey_agg(touch_id, occurred_at, channel) FROM touch5), 'custom', 100, '{"weights": {"XY": 1}}')$$);
SELECT try($$SELECT * FROM attrib.credits((SELECT attrib.journey_agg(touch_id, occurred_at, channel) FROM touch5), 'linear', 100, '[1, 2]')$$);

-- NULL where a value is required; NaN and infinite amounts
SELECT try($$SELECT * FROM attrib.credits((SELECT attrib.journey_agg(touch_id, occurred_at, channel) FROM touch5), NULL, 100)$$);
SELECT try($$SELECT * FROM attrib.credits((SELECT attrib.journey_agg(touch_id, occurred_at, channel) FROM touch5), 'linear', NULL)$$);
SELECT try($$SELECT * FROM attrib.credits((SELECT attrib.journey_agg(touch_id, occurred_at, channel) FROM touch5), 'linear', 'NaN')$$);
SELECT try($$SELECT * FROM attrib.credits((SELECT attrib.journey_agg(touch_id, occurred_at, channel) FROM touch5), 'linear', 'Infinity')$$);
SELECT try($$SELECT * FROM attrib.credits((SELECT attrib.journey_agg(touch_id, occurred_at, channel) FROM touch5), 'linear', 100, scale => -1)$$);
-- a NULL journey (an opportunity without touches) credits nothing
SELECT count(*) FROM attrib.credits(NULL, 'linear', 100);
SELECT try($$SELECT attrib.split_amount(10, '{1,-1}')$$);
SELECT try($$SELECT attrib.split_amount(10, '{0,0}')$$);
SELECT try($$SELECT attrib.split_amount(10, '{1,NaN}')$$);
SELECT try($$SELECT attrib.split_amount(10, '{1,NULL}')$$);
SELECT try($$SELECT attrib.split_amount(10, '{}')$$);

-- the aggregate: NULLs, infinite times, empty ids, duplicates
SELECT try($$SELECT attrib.journey_agg(NULL, now(), 'x')$$);
SELECT try($$SELECT attrib.journey_agg('a', NULL, 'x')$$);
SELECT try($$SELECT attrib.journey_agg('a', now(), NULL)$$);
SELECT try($$SELECT attrib.journey_agg('a', 'infinity', 'x')$$);
SELECT try($$SELECT attrib.journey_agg('', now(), 'x')$$);
SELECT try($$SELECT attrib.journey_agg(id, '2024-01-01', 'x') FROM (VALUES ('a'), ('a')) v(id)$$);
SELECT try($$SELECT attrib.journey_agg('a', now(), repeat('x', 2000))$$);

-- context
SELECT try($$SELECT attrib.with_context('{"touches":[]}', 'closed')$$);
SELECT try($$SELECT attrib.with_context('{"touches":[]}', NULL)$$);
SELECT try($$SELECT attrib.with_context('{"touches":[]}', 'won', lookback => '-1 day')$$);
SELECT try($$SELECT attrib.with_context('{"touches":[]}', 'won', closed_at => 'infinity')$$);
SELECT try($$SELECT attrib.with_context('{"touches":[]}', 'won', stage_names => '{MQL}')$$);
SELECT try($$SELECT attrib.with_context('{"touches":[]}', 'won', stage_names => '{MQL,SQL}', stage_times => '{2024-01-01}')$$);

-- corrupt text journeys are rejected
SELECT try($$SELECT 'not json'::attrib.journey$$);
SELECT try($$SELECT '{"touches":[["a","2024-13-01T00:00:00Z","x"]]}'::attrib.journey$$);
SELECT try($$SELECT '{"touches":[["a","2024-01-01T00:00:00Z"]]}'::attrib.journey$$);
SELECT try($$SELECT '{"touches":[["a","2024-01-01T00:00:00Z","x"]], "extra": 1}'::attrib.journey$$);
SELECT try($$SELECT '{"touches":[["a","2024-01-01T00:00:00Z","x"],["a","2024-01-02T00:00:00Z","y"]]}'::attrib.journey$$);
SELECT try($$SELECT '{"touches":[], "context": {"status": "maybe"}}'::attrib.journey$$);

-- corrupt binary journeys are rejected: every truncation and byte flips of a real one
CREATE TABLE jbin AS SELECT attrib.journey_send(attrib.with_context(attrib.journey_agg(touch_id, occurred_at, channel),
	'won', created_at => '2024-01-04 00:00+00', stage_names => '{MQL}', stage_times => '{2024-01-02 00:00+00}')) AS b FROM touch5;
CREATE FUNCTION recv_status(b bytea) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	-- journey_from_bytea validates exactly as journey_recv (COPY BINARY, drivers) does
	PERFORM attrib.journey_from_bytea(b);
	RETURN 'ok';
EXCEPTION WHEN data_corrupted THEN RETURN 'corrupt';
END $$;
SELECT count(*) AS truncations, count(*) FILTER (WHERE recv_status(substr(b, 1, n)) = 'corrupt') AS rejected
FROM jbin, generate_series(0, length(b) - 1) n;
SELECT recv_status(b) AS untouched FROM jbin;
SELECT recv_status(b || '\x00'::bytea) AS trailing_byte FROM jbin;
-- flip each byte: either still a valid journey, or rejected; never a crash
SELECT count(*) AS flips, count(*) FILTER (WHERE s IN ('ok', 'corrupt')) AS handled
FROM (SELECT recv_status(set_byte(b, n, get_byte(b, n) # 255)) AS s
	  FROM jbin, generate_series(0, length(b) - 1) n) f;
