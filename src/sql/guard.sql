-- attrib install script: assembled by the Makefile from the parts in src/sql; edit those.

\echo Use "CREATE EXTENSION attrib" to load this file. \quit

-- The schema must be the installer's and empty.  CREATE EXTENSION uses an
-- existing schema named attrib as it is: if another role owns it, that role
-- could later drop and replace attrib's functions and views (a schema's owner
-- may drop anything in it), which then run with the rights of whoever calls
-- them; objects already in it could capture unqualified calls made while this
-- script runs.  Everything below is qualified: this block itself runs with the
-- schema on the search_path.
DO $guard$
DECLARE
	nsp pg_catalog.oid := '@extschema@'::pg_catalog.regnamespace;
	owner pg_catalog.oid;
	found pg_catalog.text;
BEGIN
	SELECT n.nspowner INTO owner FROM pg_catalog.pg_namespace n
	WHERE n.oid OPERATOR(pg_catalog.=) nsp;
	IF owner OPERATOR(pg_catalog.<>) (SELECT r.oid FROM pg_catalog.pg_roles r
									  WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER)
	   AND NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) owner) THEN
		RAISE EXCEPTION 'schema "%" belongs to role "%"', '@extschema@', owner::pg_catalog.regrole
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'attrib installs into its fixed schema; a schema owned by another, unprivileged role would let that role replace attrib''s objects.',
				  HINT = 'Drop the schema, or give it to the installing role (ALTER SCHEMA ... OWNER TO), before CREATE EXTENSION attrib.';
	END IF;
	SELECT o.what INTO found FROM (
		SELECT pg_catalog.format('relation %s', c.oid::pg_catalog.regclass) AS what
		FROM pg_catalog.pg_class c WHERE c.relnamespace OPERATOR(pg_catalog.=) nsp
		UNION ALL SELECT pg_catalog.format('function %s', p.oid::pg_catalog.regprocedure)
		FROM pg_catalog.pg_proc p WHERE p.pronamespace OPERATOR(pg_catalog.=) nsp
		UNION ALL SELECT pg_catalog.format('type %s', t.oid::pg_catalog.regtype)
		FROM pg_catalog.pg_type t WHERE t.typnamespace OPERATOR(pg_catalog.=) nsp
		UNION ALL SELECT pg_catalog.format('operator %s', o.oid::pg_catalog.regoperator)
		FROM pg_catalog.pg_operator o WHERE o.oprnamespace OPERATOR(pg_catalog.=) nsp
		UNION ALL SELECT pg_catalog.format('collation %s', l.collname)
		FROM pg_catalog.pg_collation l WHERE l.collnamespace OPERATOR(pg_catalog.=) nsp
		UNION ALL SELECT pg_catalog.format('conversion %s', v.conname)
		FROM pg_catalog.pg_conversion v WHERE v.connamespace OPERATOR(pg_catalog.=) nsp
		UNION ALL SELECT pg_catalog.format('text search configuration %s', s.cfgname)
		FROM pg_catalog.pg_ts_config s WHERE s.cfgnamespace OPERATOR(pg_catalog.=) nsp
	) o LIMIT 1;
	IF found IS NOT NULL THEN
		RAISE EXCEPTION 'schema "%" already contains objects', '@extschema@'
			USING ERRCODE = 'duplicate_object',
				  DETAIL = pg_catalog.format('For example %s.', found),
				  HINT = 'attrib needs its schema to itself: drop or move those objects, or the schema, first.';
	END IF;
END
$guard$;
