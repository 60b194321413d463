-- journey_io: text and binary forms of attrib.journey

-- the aggregate orders touches itself; text output is canonical JSON in UTC
SET timezone = 'America/New_York';
SELECT attrib.journey_agg(touch_id, occurred_at, channel) FROM touch5;
-- an aggregate over no rows gives NULL
SELECT attrib.journey_agg(touch_id, occurred_at, channel) IS NULL AS no_rows_no_journey FROM touch5 WHERE false;
RESET timezone;

-- input in any order, with offsets, comes back canonical
SELECT '{"touches":[["b","2024-01-01T01:00:00+01:00","y"],["a","2024-01-01 00:00:00.5Z","x"]]}'::attrib.journey;

-- text round trip with context and stages
SELECT j::text = (j::text::attrib.journey)::text AS text_round_trip, j
FROM (SELECT attrib.with_context(attrib.journey_agg(touch_id, occurred_at, channel), 'won',
	created_at => '2024-01-04 00:00+00', closed_at => '2024-01-06 00:00+00',
	lead_created_at => '2024-01-03 00:00+00',
	stage_names => '{MQL,SQL}', stage_times => '{2024-01-02 00:00+00,2024-01-04 00:00+00}') AS j
	FROM touch5) s;

-- binary round trip through send/recv (COPY BINARY)
CREATE TABLE jio (id int, j attrib.journey);
INSERT INTO jio SELECT 1, attrib.with_context(attrib.journey_agg(touch_id, occurred_at, channel), 'open',
	as_of => '2024-01-04 12:00+00') FROM touch5;
INSERT INTO jio VALUES (2, '{"touches":[]}');
INSERT INTO jio VALUES (3, '{"touches":[["quote\"d\\id","2024-01-01T00:00:00Z","ünïcode"]]}');
\set jfile '/tmp/attrib_jio_' :PORT '.bin'
COPY jio TO :'jfile' WITH (FORMAT binary);
CREATE TABLE jio2 (LIKE jio);
COPY jio2 FROM :'jfile' WITH (FORMAT binary);
SELECT a.id, a.j::text = b.j::text AS binary_round_trip, attrib.journey_length(b.j) AS touches
FROM jio a JOIN jio2 b USING (id) ORDER BY id;
SELECT j FROM jio2 WHERE id = 3;
-- the open journey was cut at as_of: t5 (5 Jan) is outside
SELECT touch_id, positions FROM jio2, attrib.touches(j) WHERE id = 1;

-- a large journey (TOASTed, compressed) survives storage
INSERT INTO jio SELECT 4, attrib.journey_agg('touch-' || i, timestamptz '2024-01-01' + i * interval '1 second', 'channel-' || (i % 5))
FROM generate_series(1, 50000) i;
SELECT attrib.journey_length(j), pg_column_size(j) < 50000 * 20 AS compressed FROM jio WHERE id = 4;
SELECT sum(credit) FROM jio, attrib.credits(j, 'linear', 1000000.00) WHERE id = 4;
