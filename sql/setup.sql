-- setup: the extension, and helpers the other suites share
SET client_min_messages = warning;
CREATE EXTENSION attrib;
RESET client_min_messages;

-- the extension lives in its fixed schema
SELECT extname, extversion, nspname
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE extname = 'attrib';

-- try(sql): run a statement and report its SQLSTATE, message, detail and hint
CREATE FUNCTION try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	st text; msg text; det text; hnt text;
BEGIN
	EXECUTE sql;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
		det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
	RETURN st || ': ' || msg
		|| CASE WHEN det <> '' THEN E'\n  DETAIL: ' || det ELSE '' END
		|| CASE WHEN hnt <> '' THEN E'\n  HINT: ' || hnt ELSE '' END;
END $$;

-- the worked journey of SPEC §3: five touches on 1..5 January 2024
CREATE TABLE touch5 (touch_id text, occurred_at timestamptz, channel text);
INSERT INTO touch5 VALUES
	('t1', '2024-01-01 00:00+00', 'paid_search'),
	('t2', '2024-01-02 00:00+00', 'email'),
	('t3', '2024-01-03 00:00+00', 'webinar'),
	('t4', '2024-01-04 00:00+00', 'email'),
	('t5', '2024-01-05 00:00+00', 'direct');

-- every user-visible object of the extension has a comment
SELECT pg_describe_object(classid, objid, 0) AS object
FROM pg_depend d
WHERE d.refclassid = 'pg_extension'::regclass
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'attrib')
  AND d.deptype = 'e'
  AND obj_description(objid, (SELECT relname FROM pg_class WHERE oid = classid)) IS NULL
ORDER BY 1;

-- and so has every column of its tables and views
SELECT c.relname, a.attname
FROM pg_depend d
JOIN pg_class c ON c.oid = d.objid AND d.classid = 'pg_class'::regclass
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE d.refclassid = 'pg_extension'::regclass
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'attrib')
  AND d.deptype = 'e' AND c.relkind IN ('r', 'v', 'm')
  AND c.relname NOT LIKE 'src\_%'
  AND col_description(c.oid, a.attnum) IS NULL
ORDER BY 1, 2;
