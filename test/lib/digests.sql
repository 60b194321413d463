-- digests.sql — one line per relation of the attrib extension: "kind relation<TAB>rows md5",
-- the md5 of the relation's rows as text in sorted order.  For comparing two databases
-- (dump/restore) or two roles (row-level security).  Run with psql -At; the optional
-- psql variable extra names more relations, space separated.
--   relations: the tables attrib registers with pg_extension_config_dump, the stored
--   results (journey_cache with its journeys as text, the credits in credit_cache) and every other view.
\if :{?extra}
\else
\set extra ''
\endif
CREATE TEMP TABLE digest_rels AS
SELECT 'table' AS kind, 'attrib.' || quote_ident(c.relname) AS rel
FROM pg_extension e, unnest(e.extconfig) cfg(oid) JOIN pg_class c ON c.oid = cfg.oid
WHERE e.extname = 'attrib'
UNION ALL SELECT 'table', x FROM unnest(string_to_array(:'extra', ' ')) x WHERE x <> ''
UNION ALL SELECT 'table', 'attrib.credit_cache'	-- the stored credits (a view of credit_store since 0.2.0)
UNION ALL
SELECT 'view', 'attrib.' || quote_ident(c.relname)
FROM pg_depend d JOIN pg_class c ON c.oid = d.objid AND d.classid = 'pg_class'::regclass
WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'attrib')
  AND c.relkind IN ('v', 'm') AND c.relname <> 'credit_cache';
CREATE FUNCTION pg_temp.digest(rel text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE r text;
BEGIN
	EXECUTE format($q$SELECT count(*) || ' ' || md5(coalesce(string_agg(x::text, E'\n' ORDER BY x::text), '')) FROM %s x$q$, rel)
	INTO r;
	RETURN r;
END $f$;
SELECT kind || ' ' || rel || E'\t' || pg_temp.digest(rel) FROM digest_rels
UNION ALL
SELECT E'table attrib.journey_cache\t' || count(*) || ' ' || md5(coalesce(string_agg(x, E'\n' ORDER BY x), ''))
FROM (SELECT (account_id, opportunity_id, status, amount, currency, amount_reporting, created_at,
			  closed_at, lead_created_at, journey::text)::text AS x FROM attrib.journey_cache) s
ORDER BY 1;
