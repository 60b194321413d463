-- test/lib/catalog.sql — a normalized, OID-free description of everything the
-- extension attrib puts in a database, one property per line:
--
--   OBJECT <TAB> PROPERTY <TAB> VALUE
--
-- sorted, so two databases can be compared with diff (test/t_upgrade.sh compares
-- ALTER EXTENSION UPDATE against a fresh CREATE EXTENSION).  Multi-line values
-- (function and view definitions) give one line per source line, each carrying
-- the object and property, so a diff shows exactly which line of which object
-- changed.  OBJECT is pg_describe_object()'s text.
--
-- Covered: the extension row (version, config tables and their conditions);
-- every object that is a member (pg_depend 'e'), every object in the schema
-- attrib, and what hangs off them: functions (pg_get_functiondef, labels, cost,
-- rows, settings, ACL, owner), aggregates (the whole pg_aggregate row), types
-- (I/O functions, storage, alignment, ...), relations (kind, options, ACL, RLS
-- flags, persistence, access method), columns (position among live columns,
-- type, NOT NULL, default, identity, generated, collation, storage,
-- compression, statistics target, options, ACL), constraints
-- (pg_get_constraintdef), indexes (pg_get_indexdef), triggers
-- (pg_get_triggerdef, enabled), rules, policies, views (pg_get_viewdef),
-- sequences, casts and operators on attrib's types, extended statistics, event
-- triggers; comments on all of them and on every column; pg_depend rows of each;
-- pg_init_privs; default ACLs; the schema's owner, ACL and comment; and the rows
-- of every table of the extension (count and md5, as the install script leaves
-- them).
--
--   psql -X -At -q -d DB -f test/lib/catalog.sql

SET client_min_messages = warning;
-- a fixed rendering of values: numbers, times and identifiers in one form
SET search_path = pg_catalog, pg_temp;
SET extra_float_digits = 3;
SET DateStyle = 'ISO, YMD';
SET TimeZone = 'UTC';
SET IntervalStyle = postgres;

CREATE TEMP TABLE cat (obj text, prop text, val text);

-- the objects described: members of the extension, everything in its schema,
-- and the constraints, triggers, rules, policies, casts and operators on them
CREATE TEMP TABLE objs AS
WITH ext AS (SELECT e.oid, e.extnamespace AS nsp FROM pg_extension e WHERE e.extname = 'attrib'),
rels AS (SELECT c.oid FROM pg_class c, ext WHERE c.relnamespace = ext.nsp),
typs AS (SELECT t.oid FROM pg_type t, ext WHERE t.typnamespace = ext.nsp)
SELECT DISTINCT classid, objid FROM (
	SELECT d.classid, d.objid FROM pg_depend d, ext
	WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
	UNION ALL SELECT 'pg_class'::regclass, oid FROM rels
	UNION ALL SELECT 'pg_type'::regclass, oid FROM typs
	UNION ALL SELECT 'pg_proc'::regclass, p.oid FROM pg_proc p, ext WHERE p.pronamespace = ext.nsp
	UNION ALL SELECT 'pg_operator'::regclass, o.oid FROM pg_operator o, ext WHERE o.oprnamespace = ext.nsp
	UNION ALL SELECT 'pg_opclass'::regclass, o.oid FROM pg_opclass o, ext WHERE o.opcnamespace = ext.nsp
	UNION ALL SELECT 'pg_opfamily'::regclass, o.oid FROM pg_opfamily o, ext WHERE o.opfnamespace = ext.nsp
	UNION ALL SELECT 'pg_collation'::regclass, o.oid FROM pg_collation o, ext WHERE o.collnamespace = ext.nsp
	UNION ALL SELECT 'pg_statistic_ext'::regclass, s.oid FROM pg_statistic_ext s, ext WHERE s.stxnamespace = ext.nsp
	UNION ALL SELECT 'pg_constraint'::regclass, k.oid FROM pg_constraint k
	WHERE k.conrelid IN (SELECT oid FROM rels) OR k.contypid IN (SELECT oid FROM typs)
	UNION ALL SELECT 'pg_trigger'::regclass, g.oid FROM pg_trigger g
	WHERE g.tgrelid IN (SELECT oid FROM rels) AND NOT g.tgisinternal
	UNION ALL SELECT 'pg_rewrite'::regclass, r.oid FROM pg_rewrite r WHERE r.ev_class IN (SELECT oid FROM rels)
	UNION ALL SELECT 'pg_policy'::regclass, p.oid FROM pg_policy p WHERE p.polrelid IN (SELECT oid FROM rels)
	UNION ALL SELECT 'pg_cast'::regclass, c.oid FROM pg_cast c
	WHERE c.castsource IN (SELECT oid FROM typs) OR c.casttarget IN (SELECT oid FROM typs)
	UNION ALL SELECT 'pg_operator'::regclass, o.oid FROM pg_operator o
	WHERE o.oprleft IN (SELECT oid FROM typs) OR o.oprright IN (SELECT oid FROM typs)
) o;
ALTER TABLE objs ADD COLUMN name text;
UPDATE objs SET name = pg_describe_object(classid, objid, 0);

-- ------------------------------------------------------------------
-- the extension, its schema, default ACLs
-- ------------------------------------------------------------------
INSERT INTO cat
SELECT 'extension attrib', p.prop, p.val
FROM pg_extension e
CROSS JOIN LATERAL (VALUES
	('version', e.extversion),
	('relocatable', e.extrelocatable::text),
	('schema', e.extnamespace::regnamespace::text),
	('owner', e.extowner::regrole::text),
	('config tables (pg_extension_config_dump)', (
		SELECT string_agg(c.t || coalesce(' WHERE-condition ' || nullif(c.cond, ''), ''), E'\n' ORDER BY c.t)
		FROM unnest(e.extconfig::regclass[]::text[], e.extcondition) AS c(t, cond)))
) AS p(prop, val)
WHERE e.extname = 'attrib';

INSERT INTO cat
SELECT 'schema ' || n.nspname, p.prop, p.val
FROM pg_namespace n JOIN pg_extension e ON e.extnamespace = n.oid AND e.extname = 'attrib'
CROSS JOIN LATERAL (VALUES
	('owner', n.nspowner::regrole::text),
	('acl', n.nspacl::text),
	('comment', obj_description(n.oid, 'pg_namespace')),
	('initprivs', (SELECT string_agg(i.privtype::text || ' ' || i.initprivs::text, ', ')
				   FROM pg_init_privs i WHERE i.classoid = 'pg_namespace'::regclass AND i.objoid = n.oid)),
	('extension dependency', (SELECT string_agg(d.deptype::text, '') FROM pg_depend d
							  WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid
								AND d.refclassid = 'pg_extension'::regclass))
) AS p(prop, val);

INSERT INTO cat
SELECT 'default ACL ' || coalesce(d.defaclnamespace::regnamespace::text, 'global') || ' '
	   || d.defaclrole::regrole::text || ' ' || d.defaclobjtype::text, 'acl', d.defaclacl::text
FROM pg_default_acl d;

-- ------------------------------------------------------------------
-- every object: membership, comment, dependencies, initial privileges
-- ------------------------------------------------------------------
INSERT INTO cat
SELECT o.name, 'member of the extension',
	   CASE WHEN EXISTS (SELECT FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
						 WHERE d.classid = o.classid AND d.objid = o.objid AND d.objsubid = 0
						   AND d.refclassid = 'pg_extension'::regclass AND e.extname = 'attrib'
						   AND d.deptype = 'e')
			THEN 'yes' ELSE 'no' END
FROM objs o;

INSERT INTO cat
SELECT o.name, 'comment', d.description
FROM objs o JOIN pg_description d ON d.classoid = o.classid AND d.objoid = o.objid AND d.objsubid = 0;

-- pg_depend rows of each object (and of its columns), except the toast table's
INSERT INTO cat
SELECT o.name, 'depends (' || d.deptype::text || ')',
	   coalesce(nullif(pg_describe_object(d.classid, d.objid, d.objsubid), o.name) || ' -> ', '')
	   || pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid)
FROM objs o JOIN pg_depend d ON d.classid = o.classid AND d.objid = o.objid
WHERE NOT (d.refclassid = 'pg_class'::regclass
		   AND d.refobjid IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'pg_toast'::regnamespace));

INSERT INTO cat
SELECT o.name, 'initprivs' || CASE WHEN i.objsubid <> 0 THEN ' column ' || i.objsubid ELSE '' END,
	   i.privtype::text || ' ' || i.initprivs::text
FROM objs o JOIN pg_init_privs i ON i.classoid = o.classid AND i.objoid = o.objid;

-- ------------------------------------------------------------------
-- functions, procedures and aggregates
-- ------------------------------------------------------------------
INSERT INTO cat
SELECT o.name, p.prop, p.val
FROM objs o JOIN pg_proc f ON o.classid = 'pg_proc'::regclass AND f.oid = o.objid
CROSS JOIN LATERAL (VALUES
	('kind', f.prokind::text),
	('arguments', pg_get_function_arguments(f.oid)),
	('result', pg_get_function_result(f.oid)),
	('language', (SELECT l.lanname::text FROM pg_language l WHERE l.oid = f.prolang)),
	('volatility', f.provolatile::text),
	('parallel', f.proparallel::text),
	('strict', f.proisstrict::text),
	('security definer', f.prosecdef::text),
	('leakproof', f.proleakproof::text),
	('returns set', f.proretset::text),
	('cost', f.procost::text),
	('rows', f.prorows::text),
	('support', f.prosupport::regprocedure::text),
	('config', f.proconfig::text),
	('acl', f.proacl::text),
	('owner', f.proowner::regrole::text),
	('definition', CASE WHEN f.prokind <> 'a' THEN pg_get_functiondef(f.oid) END)
) AS p(prop, val);

INSERT INTO cat
SELECT o.name, 'aggregate ' || p.prop, p.val
FROM objs o JOIN pg_aggregate a ON o.classid = 'pg_proc'::regclass AND a.aggfnoid = o.objid
CROSS JOIN LATERAL (VALUES
	('kind', a.aggkind::text),
	('direct args', a.aggnumdirectargs::text),
	('sfunc', a.aggtransfn::regprocedure::text),
	('stype', a.aggtranstype::regtype::text),
	('sspace', a.aggtransspace::text),
	('initcond', a.agginitval),
	('finalfunc', nullif(a.aggfinalfn, 0)::regprocedure::text),
	('finalfunc extra', a.aggfinalextra::text),
	('finalfunc modify', a.aggfinalmodify::text),
	('combinefunc', nullif(a.aggcombinefn, 0)::regprocedure::text),
	('serialfunc', nullif(a.aggserialfn, 0)::regprocedure::text),
	('deserialfunc', nullif(a.aggdeserialfn, 0)::regprocedure::text),
	('msfunc', nullif(a.aggmtransfn, 0)::regprocedure::text),
	('minvfunc', nullif(a.aggminvtransfn, 0)::regprocedure::text),
	('mstype', nullif(a.aggmtranstype, 0)::regtype::text),
	('msspace', a.aggmtransspace::text),
	('minitcond', a.aggminitval),
	('mfinalfunc', nullif(a.aggmfinalfn, 0)::regprocedure::text),
	('mfinalfunc extra', a.aggmfinalextra::text),
	('mfinalfunc modify', a.aggmfinalmodify::text),
	('sortop', nullif(a.aggsortop, 0)::regoperator::text)
) AS p(prop, val);

-- ------------------------------------------------------------------
-- types
-- ------------------------------------------------------------------
INSERT INTO cat
SELECT o.name, p.prop, p.val
FROM objs o JOIN pg_type t ON o.classid = 'pg_type'::regclass AND t.oid = o.objid
CROSS JOIN LATERAL (VALUES
	('type', t.typtype::text),
	('length', t.typlen::text),
	('by value', t.typbyval::text),
	('category', t.typcategory::text),
	('preferred', t.typispreferred::text),
	('defined', t.typisdefined::text),
	('delimiter', t.typdelim::text),
	('relation', nullif(t.typrelid, 0)::regclass::text),
	('subscript', nullif(t.typsubscript, 0)::regprocedure::text),
	('element', nullif(t.typelem, 0)::regtype::text),
	('array type', nullif(t.typarray, 0)::regtype::text),
	('input', nullif(t.typinput, 0)::regprocedure::text),
	('output', nullif(t.typoutput, 0)::regprocedure::text),
	('receive', nullif(t.typreceive, 0)::regprocedure::text),
	('send', nullif(t.typsend, 0)::regprocedure::text),
	('typmod in', nullif(t.typmodin, 0)::regprocedure::text),
	('typmod out', nullif(t.typmodout, 0)::regprocedure::text),
	('analyze', nullif(t.typanalyze, 0)::regprocedure::text),
	('alignment', t.typalign::text),
	('storage', t.typstorage::text),
	('not null', t.typnotnull::text),
	('base type', nullif(t.typbasetype, 0)::regtype::text),
	('typmod', t.typtypmod::text),
	('dimensions', t.typndims::text),
	('collation', nullif(t.typcollation, 0)::regcollation::text),
	('default', t.typdefault),
	('acl', t.typacl::text),
	('owner', t.typowner::regrole::text)
) AS p(prop, val);

-- ------------------------------------------------------------------
-- relations: tables, views, indexes, sequences, composite types
-- ------------------------------------------------------------------
INSERT INTO cat
SELECT o.name, p.prop, p.val
FROM objs o JOIN pg_class c ON o.classid = 'pg_class'::regclass AND c.oid = o.objid
CROSS JOIN LATERAL (VALUES
	('kind', c.relkind::text),
	('persistence', c.relpersistence::text),
	('access method', (SELECT a.amname::text FROM pg_am a WHERE a.oid = c.relam)),
	('options', c.reloptions::text),
	('acl', c.relacl::text),
	('owner', c.relowner::regrole::text),
	('row level security', c.relrowsecurity::text),
	('force row level security', c.relforcerowsecurity::text),
	('replica identity', c.relreplident::text),
	('partitioned by', CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END),
	('partition bound', pg_get_expr(c.relpartbound, c.oid)),
	('tablespace', nullif(c.reltablespace, 0)::text),
	('index', CASE WHEN c.relkind IN ('i', 'I') THEN pg_get_indexdef(c.oid) END),
	('view definition', CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END)
) AS p(prop, val);

-- columns, by their position among the live columns (dropped ones leave holes
-- in attnum that change nothing a user sees)
INSERT INTO cat
SELECT o.name || ' column ' || a.attname, p.prop, p.val
FROM objs o JOIN pg_class c ON o.classid = 'pg_class'::regclass AND c.oid = o.objid
JOIN (SELECT a.*, row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum) AS pos
	  FROM pg_attribute a WHERE a.attnum > 0 AND NOT a.attisdropped) a ON a.attrelid = c.oid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
CROSS JOIN LATERAL (VALUES
	('position', a.pos::text),
	('type', format_type(a.atttypid, a.atttypmod)),
	('not null', a.attnotnull::text),
	('default', pg_get_expr(d.adbin, d.adrelid)),
	('identity', nullif(a.attidentity, '')::text),
	('generated', nullif(a.attgenerated, '')::text),
	('collation', nullif(a.attcollation, 0)::regcollation::text),
	('storage', a.attstorage::text),
	('compression', nullif(a.attcompression, '')::text),
	('statistics target', a.attstattarget::text),
	-- (this server build records an internal pg_attver=N in every column's
	-- options, different per database: left out)
	('options', (SELECT array_agg(x ORDER BY x)::text FROM unnest(a.attoptions) x
				 WHERE x NOT LIKE 'pg\_attver=%')),
	('fdw options', a.attfdwoptions::text),
	('acl', a.attacl::text),
	('comment', col_description(c.oid, a.attnum)),
	('initprivs', (SELECT string_agg(i.privtype::text || ' ' || i.initprivs::text, ', ')
				   FROM pg_init_privs i WHERE i.classoid = 'pg_class'::regclass AND i.objoid = c.oid
					 AND i.objsubid = a.attnum))
) AS p(prop, val)
WHERE c.relkind <> 'S';

INSERT INTO cat
SELECT o.name, 'sequence ' || p.prop, p.val
FROM objs o JOIN pg_sequence s ON o.classid = 'pg_class'::regclass AND s.seqrelid = o.objid
CROSS JOIN LATERAL (VALUES
	('type', s.seqtypid::regtype::text), ('start', s.seqstart::text), ('increment', s.seqincrement::text),
	('max', s.seqmax::text), ('min', s.seqmin::text), ('cache', s.seqcache::text), ('cycle', s.seqcycle::text)
) AS p(prop, val);

-- the rows each table of the extension holds (what the scripts inserted)
DO $rows$
DECLARE
	r record;
	n bigint;
	h text;
BEGIN
	FOR r IN SELECT o.name, c.oid::regclass AS rel FROM objs o
			 JOIN pg_class c ON o.classid = 'pg_class'::regclass AND c.oid = o.objid
			 WHERE c.relkind IN ('r', 'p')
	LOOP
		-- the change marks of incremental refresh are keyed by the writing
		-- transaction's id: what they mean is the set of accounts queued and
		-- whether anything is stale, whichever transactions wrote them.  Credits
		-- are stale when every credit is or some models' are (stale_models, a
		-- column 0.1.0 lacks): reloading model_config in a restore marks its
		-- models, where 0.1.0's trigger marked every credit.
		IF r.name = 'table attrib.refresh_queue' THEN
			SELECT count(DISTINCT account_id), md5(coalesce(string_agg(DISTINCT account_id, E'\n'), ''))
			INTO n, h FROM attrib.refresh_queue;
		ELSIF r.name = 'table attrib.refresh_state' THEN
			SELECT (count(*) > 0)::int, md5(coalesce(bool_or(s.journeys_stale), false)::text || ' ' ||
									  coalesce(bool_or(s.credits_stale
											   OR jsonb_typeof(to_jsonb(s) -> 'stale_models') = 'array'), false)::text)
			INTO n, h FROM attrib.refresh_state s;
		ELSE
			EXECUTE format('SELECT count(*), md5(coalesce(string_agg(t::text, E''\n'' ORDER BY t::text), '''')) FROM %s t',
						   r.rel) INTO n, h;
		END IF;
		INSERT INTO cat VALUES (r.name, 'rows', n || ' md5 ' || h);
	END LOOP;
END
$rows$;

-- ------------------------------------------------------------------
-- constraints, triggers, rules, policies, casts, operators, statistics,
-- event triggers
-- ------------------------------------------------------------------
INSERT INTO cat
SELECT o.name, p.prop, p.val
FROM objs o JOIN pg_constraint k ON o.classid = 'pg_constraint'::regclass AND k.oid = o.objid
CROSS JOIN LATERAL (VALUES
	('definition', pg_get_constraintdef(k.oid)),
	('type', k.contype::text),
	('deferrable', k.condeferrable::text),
	('deferred', k.condeferred::text),
	('validated', k.convalidated::text),
	('no inherit', k.connoinherit::text),
	('index', nullif(k.conindid, 0)::regclass::text)
) AS p(prop, val);

INSERT INTO cat
SELECT o.name, p.prop, p.val
FROM objs o JOIN pg_trigger g ON o.classid = 'pg_trigger'::regclass AND g.oid = o.objid
CROSS JOIN LATERAL (VALUES
	('definition', pg_get_triggerdef(g.oid)),
	('enabled', g.tgenabled::text)
) AS p(prop, val);

INSERT INTO cat
SELECT o.name, p.prop, p.val
FROM objs o JOIN pg_rewrite r ON o.classid = 'pg_rewrite'::regclass AND r.oid = o.objid
CROSS JOIN LATERAL (VALUES
	('definition', CASE WHEN r.rulename <> '_RETURN' THEN pg_get_ruledef(r.oid) END),
	('enabled', r.ev_enabled::text)
) AS p(prop, val);

INSERT INTO cat
SELECT o.name, p.prop, p.val
FROM objs o JOIN pg_policy y ON o.classid = 'pg_policy'::regclass AND y.oid = o.objid
CROSS JOIN LATERAL (VALUES
	('command', y.polcmd::text),
	('permissive', y.polpermissive::text),
	('roles', (SELECT string_agg(CASE WHEN r = 0 THEN 'public' ELSE r::regrole::text END, ',' ORDER BY 1)
			   FROM unnest(y.polroles) r)),
	('using', pg_get_expr(y.polqual, y.polrelid)),
	('with check', pg_get_expr(y.polwithcheck, y.polrelid))
) AS p(prop, val);

INSERT INTO cat
SELECT o.name, p.prop, p.val
FROM objs o JOIN pg_cast k ON o.classid = 'pg_cast'::regclass AND k.oid = o.objid
CROSS JOIN LATERAL (VALUES
	('function', nullif(k.castfunc, 0)::regprocedure::text),
	('context', k.castcontext::text),
	('method', k.castmethod::text)
) AS p(prop, val);

INSERT INTO cat
SELECT o.name, p.prop, p.val
FROM objs o JOIN pg_operator op ON o.classid = 'pg_operator'::regclass AND op.oid = o.objid
CROSS JOIN LATERAL (VALUES
	('kind', op.oprkind::text),
	('result', op.oprresult::regtype::text),
	('function', nullif(op.oprcode, 0)::regprocedure::text),
	('commutator', nullif(op.oprcom, 0)::regoperator::text),
	('negator', nullif(op.oprnegate, 0)::regoperator::text),
	('restrict', nullif(op.oprrest, 0)::regprocedure::text),
	('join', nullif(op.oprjoin, 0)::regprocedure::text),
	('merges', op.oprcanmerge::text),
	('hashes', op.oprcanhash::text),
	('owner', op.oprowner::regrole::text)
) AS p(prop, val);

INSERT INTO cat
SELECT o.name, 'member ' || m.amopstrategy, m.amoplefttype::regtype || ' ' || m.amoprighttype::regtype
	   || ' ' || m.amopopr::regoperator || ' ' || m.amoppurpose::text
FROM objs o JOIN pg_amop m ON o.classid = 'pg_opfamily'::regclass AND m.amopfamily = o.objid;
INSERT INTO cat
SELECT o.name, 'support ' || m.amprocnum, m.amproclefttype::regtype || ' ' || m.amprocrighttype::regtype
	   || ' ' || m.amproc::regprocedure
FROM objs o JOIN pg_amproc m ON o.classid = 'pg_opfamily'::regclass AND m.amprocfamily = o.objid;
INSERT INTO cat
SELECT o.name, 'opclass', (SELECT a.amname FROM pg_am a WHERE a.oid = c.opcmethod) || ' for '
	   || c.opcintype::regtype || ' family ' || pg_describe_object('pg_opfamily'::regclass, c.opcfamily, 0)
	   || ' default ' || c.opcdefault || coalesce(' storage ' || nullif(c.opckeytype, 0)::regtype, '')
FROM objs o JOIN pg_opclass c ON o.classid = 'pg_opclass'::regclass AND c.oid = o.objid;

INSERT INTO cat
SELECT o.name, 'definition', pg_get_statisticsobjdef(s.oid)
FROM objs o JOIN pg_statistic_ext s ON o.classid = 'pg_statistic_ext'::regclass AND s.oid = o.objid;

INSERT INTO cat
SELECT o.name, p.prop, p.val
FROM objs o JOIN pg_event_trigger t ON o.classid = 'pg_event_trigger'::regclass AND t.oid = o.objid
CROSS JOIN LATERAL (VALUES
	('event', t.evtevent::text), ('function', t.evtfoid::regprocedure::text),
	('enabled', t.evtenabled::text), ('tags', t.evttags::text)
) AS p(prop, val);

-- ------------------------------------------------------------------
-- the description: one line per property (and per line of a multi-line value)
-- ------------------------------------------------------------------
SELECT c.obj || E'\t' || c.prop || E'\t' || l.line
FROM cat c
CROSS JOIN LATERAL regexp_split_to_table(coalesce(c.val, '<null>'), E'\n') WITH ORDINALITY AS l(line, n)
WHERE c.val IS NOT NULL OR c.prop IN ('comment', 'acl')
ORDER BY c.obj, c.prop, c.val, l.n;
