#!/usr/bin/env bash
#
# test/t_install_security.sh — attrib cannot be made to run someone else's code,
# and every function carries the labels we reviewed.
#
#   bash test/t_install_security.sh            (test/run.sh runs it)
#   bash test/t_install_security.sh --labels   print the catalog's labels in the
#                                              format of test/function_labels.txt
#
# 1. An unprivileged role (attrib_mallory) fills a schema `hostile` with
#    look-alikes of what SQL code calls unqualified: functions with the same
#    signature as pg_catalog's (lower, now, round, hashtext, date_part, ...)
#    and with better-matching ones (lower(varchar), count(text),
#    array_agg(text), jsonb_build_object(text, text[]), concat(text, text)),
#    and operators (= <> || ~ + - ->> on text, text[], timestamptz, jsonb).
#    Each one records a marker row before doing the real thing.  A positive
#    control shows a naive unqualified call does trip one.
# 2. CREATE EXTENSION attrib runs with search_path = hostile, public, pg_catalog
#    (pg_catalog explicitly last): no marker; every object in the schema is
#    the extension's.  So do CREATE EXTENSION attrib VERSION of every released
#    version and ALTER EXTENSION attrib UPDATE (the upgrade scripts).
# 3. With the same search_path, every public function, aggregate, view,
#    trigger and the refreshes are exercised on a small generated CRM: no
#    marker (views and SQL-standard bodies bind at creation; plpgsql and
#    string-bodied SQL functions pin search_path).
# 4. The catalog: every function of the extension has exactly the labels of
#    test/function_labels.txt (volatility, strictness, parallel safety,
#    security, settings; reviewed); no SECURITY DEFINER; every plpgsql function
#    and every SQL function with a string body sets search_path; every view
#    is security_invoker; the extension is not trusted.
# 5. A schema `attrib` prepared by the unprivileged role (with a look-alike in
#    it, then empty) is refused by CREATE EXTENSION (42501 / 42710) and
#    accepted once the installer owns it and it is empty.
#
# Scratch databases and the role are dropped at the end.  Exit 0/1.

set -uo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd) || exit 1
cd "$root" || exit 1
# shellcheck source-path=SCRIPTDIR/..
source test/lib/tscript.sh

role=attrib_mallory
db=attrib_install_security
db2=attrib_install_security_schema

labels_sql="
SELECT pg_catalog.concat_ws(' | ', p.oid::pg_catalog.regprocedure::pg_catalog.text,
	CASE p.prokind WHEN 'f' THEN 'function' WHEN 'a' THEN 'aggregate'
		WHEN 'p' THEN 'procedure' ELSE 'window' END,
	l.lanname,
	CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable' ELSE 'volatile' END,
	CASE WHEN p.proisstrict THEN 'strict' ELSE 'called_on_null' END,
	CASE p.proparallel WHEN 's' THEN 'parallel_safe' WHEN 'r' THEN 'parallel_restricted'
		ELSE 'parallel_unsafe' END,
	CASE WHEN p.prosecdef THEN 'security_definer' ELSE 'security_invoker' END,
	coalesce(pg_catalog.array_to_string(p.proconfig, ','), '-'))
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
	AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'attrib'
JOIN pg_catalog.pg_language l ON l.oid = p.prolang
ORDER BY 1"

ts_init install_security
cleanup_all() {
	ts_cleanup
	psql -X -q -d postgres -c "DROP ROLE IF EXISTS $role" >/dev/null 2>&1 ||
		echo "warning: could not drop role $role"
}
trap cleanup_all EXIT

if [[ ${1:-} == --labels ]]; then
	ts_db "$db"
	ts_sql "$db" "SET client_min_messages = warning; CREATE EXTENSION attrib" >/dev/null || exit 1
	ts_sql "$db" "$labels_sql"
	exit $?
fi

psql -X -q -d postgres -v ON_ERROR_STOP=1 >/dev/null <<SQL || { echo "FAIL cannot create role $role"; exit 1; }
SET client_min_messages = warning;
DROP DATABASE IF EXISTS $db WITH (FORCE);
DROP DATABASE IF EXISTS $db2 WITH (FORCE);
DROP ROLE IF EXISTS $role;
CREATE ROLE $role NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
SQL
ts_db "$db"
ts_db "$db2"
ts_sql postgres "GRANT CREATE ON DATABASE $db TO $role; GRANT CREATE ON DATABASE $db2 TO $role" ||
	exit 1

# --- 1. the hostile schema --------------------------------------------------------
hostile=$ts_tmp/hostile.sql
cat >"$hostile" <<'SQL'
SET ROLE attrib_mallory;
CREATE SCHEMA hostile;
CREATE TABLE hostile.marker (what text, by_role text DEFAULT current_user,
	at timestamptz DEFAULT clock_timestamp());
GRANT USAGE ON SCHEMA hostile TO PUBLIC;
GRANT SELECT, INSERT ON hostile.marker TO PUBLIC;
CREATE FUNCTION hostile.trip(what text) RETURNS void LANGUAGE sql
AS $$ INSERT INTO hostile.marker (what) VALUES (what) $$;

-- look-alike FUNCTIONS: each records a marker, then does the real thing.
-- lk(name, args, return type, real call) writes one.
CREATE FUNCTION hostile.lk(fn text, args text, ret text, body text) RETURNS void
LANGUAGE plpgsql AS $lk$
BEGIN
	EXECUTE format('CREATE FUNCTION hostile.%s(%s) RETURNS %s LANGUAGE plpgsql AS %L',
		fn, args, ret,
		format(CASE WHEN ret = 'void' THEN 'BEGIN PERFORM hostile.trip(%L); PERFORM %s; END'
					ELSE 'BEGIN PERFORM hostile.trip(%L); RETURN %s; END' END,
			   fn || '(' || args || ')', body));
END $lk$;
SELECT hostile.lk('lower', 'text', 'text', 'pg_catalog.lower($1)');
SELECT hostile.lk('lower', 'varchar', 'text', 'pg_catalog.lower($1)');
SELECT hostile.lk('upper', 'text', 'text', 'pg_catalog.upper($1)');
SELECT hostile.lk('length', 'text', 'int', 'pg_catalog.length($1)');
SELECT hostile.lk('left', 'text, int', 'text', 'pg_catalog.left($1, $2)');
SELECT hostile.lk('btrim', 'text', 'text', 'pg_catalog.btrim($1)');
SELECT hostile.lk('format', 'text', 'text', 'pg_catalog.format($1)');
SELECT hostile.lk('format', 'text, text', 'text', 'pg_catalog.format($1, $2)');
SELECT hostile.lk('concat', 'text, text', 'text', 'pg_catalog.concat($1, $2)');
SELECT hostile.lk('replace', 'text, text, text', 'text', 'pg_catalog.replace($1, $2, $3)');
SELECT hostile.lk('md5', 'text', 'text', 'pg_catalog.md5($1)');
SELECT hostile.lk('now', '', 'timestamptz', 'pg_catalog.now()');
SELECT hostile.lk('clock_timestamp', '', 'timestamptz', 'pg_catalog.clock_timestamp()');
SELECT hostile.lk('current_setting', 'text', 'text', 'pg_catalog.current_setting($1)');
SELECT hostile.lk('round', 'numeric', 'numeric', 'pg_catalog.round($1)');
SELECT hostile.lk('round', 'numeric, int', 'numeric', 'pg_catalog.round($1, $2)');
SELECT hostile.lk('round', 'double precision', 'double precision', 'pg_catalog.round($1)');
SELECT hostile.lk('abs', 'numeric', 'numeric', 'pg_catalog.abs($1)');
SELECT hostile.lk('hashtext', 'text', 'int', 'pg_catalog.hashtext($1)');
SELECT hostile.lk('date_part', 'text, interval', 'double precision', 'pg_catalog.date_part($1, $2)');
SELECT hostile.lk('date_part', 'text, timestamptz', 'double precision', 'pg_catalog.date_part($1, $2)');
SELECT hostile.lk('date_trunc', 'text, timestamptz', 'timestamptz', 'pg_catalog.date_trunc($1, $2)');
SELECT hostile.lk('isfinite', 'timestamptz', 'boolean', 'pg_catalog.isfinite($1)');
SELECT hostile.lk('array_position', 'text[], text', 'int', 'pg_catalog.array_position($1, $2)');
SELECT hostile.lk('array_length', 'text[], int', 'int', 'pg_catalog.array_length($1, $2)');
SELECT hostile.lk('array_to_string', 'text[], text', 'text', 'pg_catalog.array_to_string($1, $2)');
SELECT hostile.lk('jsonb_build_object', 'text, text[]', 'jsonb', 'pg_catalog.jsonb_build_object($1, $2)');
SELECT hostile.lk('jsonb_build_object', 'text, text', 'jsonb', 'pg_catalog.jsonb_build_object($1, $2)');
SELECT hostile.lk('to_jsonb', 'text', 'jsonb', 'pg_catalog.to_jsonb($1)');
SELECT hostile.lk('pg_advisory_xact_lock', 'bigint', 'void', 'pg_catalog.pg_advisory_xact_lock($1)');
SELECT hostile.lk('pg_advisory_xact_lock', 'int', 'void', 'pg_catalog.pg_advisory_xact_lock($1)');
SELECT hostile.lk('pg_extension_config_dump', 'regclass, text', 'void',
	'pg_catalog.pg_extension_config_dump($1, $2)');
CREATE FUNCTION hostile.unnest(text[]) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN PERFORM hostile.trip('unnest(text[])'); RETURN QUERY SELECT pg_catalog.unnest($1); END $$;

-- look-alike AGGREGATES: count(text) and array_agg(text) beat pg_catalog's
-- count("any") and array_agg(anynonarray) for text input
CREATE FUNCTION hostile.agg_count(int8, text) RETURNS int8 LANGUAGE plpgsql AS $$
BEGIN PERFORM hostile.trip('count(text)'); RETURN $1 OPERATOR(pg_catalog.+) 1; END $$;
CREATE AGGREGATE hostile.count(text) (SFUNC = hostile.agg_count, STYPE = int8, INITCOND = '0');
CREATE FUNCTION hostile.agg_text(text[], text) RETURNS text[] LANGUAGE plpgsql AS $$
BEGIN PERFORM hostile.trip('array_agg(text)'); RETURN pg_catalog.array_append($1, $2); END $$;
CREATE AGGREGATE hostile.array_agg(text) (SFUNC = hostile.agg_text, STYPE = text[], INITCOND = '{}');
CREATE FUNCTION hostile.agg_ts(timestamptz[], timestamptz) RETURNS timestamptz[] LANGUAGE plpgsql AS $$
BEGIN PERFORM hostile.trip('array_agg(timestamptz)'); RETURN pg_catalog.array_append($1, $2); END $$;
CREATE AGGREGATE hostile.array_agg(timestamptz) (SFUNC = hostile.agg_ts, STYPE = timestamptz[], INITCOND = '{}');
CREATE FUNCTION hostile.agg_sum(numeric, numeric) RETURNS numeric LANGUAGE plpgsql AS $$
BEGIN PERFORM hostile.trip('sum(numeric)');
	RETURN coalesce($1, 0) OPERATOR(pg_catalog.+) coalesce($2, 0); END $$;
CREATE AGGREGATE hostile.sum(numeric) (SFUNC = hostile.agg_sum, STYPE = numeric);
CREATE FUNCTION hostile.agg_min(timestamptz, timestamptz) RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN PERFORM hostile.trip('min(timestamptz)'); RETURN pg_catalog.least($1, $2); END $$;
CREATE AGGREGATE hostile.min(timestamptz) (SFUNC = hostile.agg_min, STYPE = timestamptz);
CREATE FUNCTION hostile.agg_joa(jsonb, text, numeric) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN PERFORM hostile.trip('jsonb_object_agg(text, numeric)');
	RETURN coalesce($1, '{}') OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object($2, $3); END $$;
CREATE AGGREGATE hostile.jsonb_object_agg(text, numeric) (SFUNC = hostile.agg_joa, STYPE = jsonb);

-- look-alike OPERATORS
CREATE FUNCTION hostile.op(kind text, l anyelement, r anyelement) RETURNS void LANGUAGE sql
AS $$ SELECT hostile.trip(kind) $$;
CREATE FUNCTION hostile.eq_text(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM hostile.trip('=(text,text)'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR hostile.= (LEFTARG = text, RIGHTARG = text, FUNCTION = hostile.eq_text);
CREATE FUNCTION hostile.ne_text(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM hostile.trip('<>(text,text)'); RETURN $1 OPERATOR(pg_catalog.<>) $2; END $$;
CREATE OPERATOR hostile.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = hostile.ne_text);
CREATE FUNCTION hostile.eq_bpchar(bpchar, bpchar) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM hostile.trip('=(bpchar,bpchar)'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR hostile.= (LEFTARG = bpchar, RIGHTARG = bpchar, FUNCTION = hostile.eq_bpchar);
CREATE FUNCTION hostile.eq_text_vc(text, varchar) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM hostile.trip('=(text,varchar)'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR hostile.= (LEFTARG = text, RIGHTARG = varchar, FUNCTION = hostile.eq_text_vc);
CREATE FUNCTION hostile.cat_text(text, text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM hostile.trip('||(text,text)'); RETURN $1 OPERATOR(pg_catalog.||) $2; END $$;
CREATE OPERATOR hostile.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = hostile.cat_text);
CREATE FUNCTION hostile.cat_arr(text[], text[]) RETURNS text[] LANGUAGE plpgsql AS $$
BEGIN PERFORM hostile.trip('||(text[],text[])'); RETURN $1 OPERATOR(pg_catalog.||) $2; END $$;
CREATE OPERATOR hostile.|| (LEFTARG = text[], RIGHTARG = text[], FUNCTION = hostile.cat_arr);
CREATE FUNCTION hostile.re_text(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM hostile.trip('~(text,text)'); RETURN $1 OPERATOR(pg_catalog.~) $2; END $$;
CREATE OPERATOR hostile.~ (LEFTARG = text, RIGHTARG = text, FUNCTION = hostile.re_text);
CREATE FUNCTION hostile.ts_plus(timestamptz, interval) RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN PERFORM hostile.trip('+(timestamptz,interval)'); RETURN $1 OPERATOR(pg_catalog.+) $2; END $$;
CREATE OPERATOR hostile.+ (LEFTARG = timestamptz, RIGHTARG = interval, FUNCTION = hostile.ts_plus);
CREATE FUNCTION hostile.ts_minus(timestamptz, timestamptz) RETURNS interval LANGUAGE plpgsql AS $$
BEGIN PERFORM hostile.trip('-(timestamptz,timestamptz)'); RETURN $1 OPERATOR(pg_catalog.-) $2; END $$;
CREATE OPERATOR hostile.- (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = hostile.ts_minus);
CREATE FUNCTION hostile.ts_lt(timestamptz, timestamptz) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM hostile.trip('<(timestamptz,timestamptz)'); RETURN $1 OPERATOR(pg_catalog.<) $2; END $$;
CREATE OPERATOR hostile.< (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = hostile.ts_lt);
CREATE FUNCTION hostile.jget(jsonb, text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM hostile.trip('->>(jsonb,text)'); RETURN $1 OPERATOR(pg_catalog.->>) $2; END $$;
CREATE OPERATOR hostile.->> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = hostile.jget);
CREATE FUNCTION hostile.num_eq(numeric, numeric) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM hostile.trip('=(numeric,numeric)'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR hostile.= (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = hostile.num_eq);
DROP FUNCTION hostile.op(text, anyelement, anyelement);
DROP FUNCTION hostile.lk(text, text, text, text);
RESET ROLE;
SQL
if psql -X -q -o /dev/null -v ON_ERROR_STOP=1 -d "$db" -f "$hostile" >"$ts_tmp/hostile.log" 2>&1 &&
	psql -X -q -o /dev/null -v ON_ERROR_STOP=1 -d "$db2" -f "$hostile" >>"$ts_tmp/hostile.log" 2>&1; then
	ts_ok "the unprivileged role made $(ts_sql "$db" "SELECT count(*) FROM pg_proc WHERE pronamespace = 'hostile'::regnamespace") look-alike functions and $(ts_sql "$db" "SELECT count(*) FROM pg_operator WHERE oprnamespace = 'hostile'::regnamespace") operators"
else
	cat "$ts_tmp/hostile.log"
	ts_fail "creating the hostile schema"
	ts_done
fi

hostile_path="SET search_path = hostile, public, pg_catalog;"
markers() {
	ts_sql "$1" "SELECT pg_catalog.count(*) || ':' || coalesce(pg_catalog.string_agg(DISTINCT what, ', '), '')
				 FROM hostile.marker"
}

# positive control: an unqualified call with that search_path is captured
ts_sql "$db" "$hostile_path SELECT lower('X'::varchar), now() IS NOT NULL" >/dev/null
ts_check "control: a naive unqualified call runs the look-alikes" "$(markers "$db")" \
	"2:lower(varchar), now()"
ts_sql "$db" "TRUNCATE hostile.marker"

# --- 2. CREATE EXTENSION under the hostile search_path ------------------------------
if out=$(ts_sql "$db" "$hostile_path SET client_min_messages = warning; CREATE EXTENSION attrib" 2>&1); then
	ts_ok "CREATE EXTENSION attrib with search_path = hostile, public, pg_catalog"
else
	ts_fail "CREATE EXTENSION attrib under a hostile search_path: $out"
	ts_done
fi
ts_check "the install ran none of the look-alikes" "$(markers "$db")" "0:"
ts_check "every object in schema attrib belongs to the extension" "$(ts_sql "$db" "
	SELECT pg_catalog.count(*) FROM (
		SELECT 'pg_class'::regclass AS cls, oid FROM pg_class WHERE relnamespace = 'attrib'::regnamespace
			AND relkind NOT IN ('i', 't', 'S')
		UNION ALL SELECT 'pg_proc'::regclass, oid FROM pg_proc WHERE pronamespace = 'attrib'::regnamespace
		UNION ALL SELECT 'pg_type'::regclass, oid FROM pg_type WHERE typnamespace = 'attrib'::regnamespace
			AND typrelid = 0 AND typelem = 0
		UNION ALL SELECT 'pg_operator'::regclass, oid FROM pg_operator WHERE oprnamespace = 'attrib'::regnamespace
	) o
	WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = o.cls AND d.objid = o.oid
					  AND d.deptype = 'e'
					  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'attrib'))")" 0

# ... and so do the upgrade scripts: every released version, installed and updated to
# the current one under the hostile search_path (then the current version is in place
# again for the entry points below)
current=$(sed -n "s/^default_version *= *'\(.*\)'.*/\1/p" attrib.control)
for f in attrib--*.sql; do
	v=${f#attrib--}
	v=${v%.sql}
	[[ $v == *--* || $v == "$current" ]] && continue
	if out=$(ts_sql "$db" "$hostile_path SET client_min_messages = warning; DROP EXTENSION attrib;
			CREATE EXTENSION attrib VERSION '$v'; ALTER EXTENSION attrib UPDATE;
			SELECT extversion FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'attrib'" 2>&1) &&
		[[ $out == "$current" ]]; then
		ts_ok "CREATE EXTENSION attrib VERSION '$v' + ALTER EXTENSION attrib UPDATE under the hostile search_path"
	else
		ts_fail "$v + ALTER EXTENSION attrib UPDATE under a hostile search_path: $out"
		ts_done
	fi
	ts_check "installing $v and updating ran none of the look-alikes" "$(markers "$db")" "0:"
done

# --- 3. every entry point, still under the hostile search_path ----------------------
scale=${ATTRIB_SECURITY_SCALE:-0.05}
if psql -X -q -v ON_ERROR_STOP=1 -v scale="$scale" -d "$db" -f test/gen/generate.sql \
	>"$ts_tmp/gen.log" 2>&1; then
	ts_ok "a generated CRM (scale $scale) loaded with the normal search_path"
else
	tail -n 20 "$ts_tmp/gen.log"
	ts_fail "loading the CRM"
fi
ts_sql "$db" "TRUNCATE hostile.marker"

# The calls below are written so that they themselves need no operator or
# unqualified function: only what attrib does inside can trip a marker.
views=$(ts_sql "$db" "SELECT c.oid::regclass FROM pg_class c WHERE c.relnamespace = 'attrib'::regnamespace
	AND c.relkind = 'v' ORDER BY 1")
{
	echo "$hostile_path"
	echo "SET client_min_messages = warning;"
	cat <<'SQL'
CREATE TEMP TABLE j1 AS SELECT attrib.journey_agg(t, o::timestamptz, c) AS j
	FROM (VALUES ('t1', '2024-01-01 00:00+00', 'paid_search'), ('t2', '2024-01-02 00:00+00', 'email'),
				 ('t3', '2024-01-03 00:00+00', 'direct')) v(t, o, c);
CREATE TEMP TABLE j2 AS SELECT attrib.with_context(j, 'won', '2024-01-02', '2024-01-05', '2024-01-01',
	NULL, '30 days', '{MQL}', '{2024-01-02}') AS j FROM j1;
SELECT j::text, attrib.journey_length(j), attrib.journey_from_bytea(attrib.journey_send(j))::text FROM j2;
SELECT ('{"touches":[["a","2024-01-01T00:00:00Z","x"]]}'::attrib.journey)::text;
SELECT * FROM j2, attrib.touches(j2.j);
SELECT * FROM attrib.models();
SELECT attrib.check_model('time_decay', '{"half_life": "36 hours", "exclude_channels": ["direct"]}');
SELECT * FROM j2, attrib.credits(j2.j, 'w_shaped', 1000.00);
SELECT * FROM j2, attrib.credits(j2.j, 'custom', 100, '{"weights": {"FT": 0.5, "stage:MQL": 0.5}}', 3);
SELECT * FROM j2, attrib.credits(j2.j, 'time_decay', 100, '{"normalize": false}');
SELECT * FROM j2, attrib.credits(j2.j, 'last_non_direct', 100, '{"direct_channels": ["Direct"]}');
SELECT * FROM j2, attrib.credits(j2.j, 'influence', 100);
SELECT attrib.split_amount(100, '{1,2,3}'), attrib.split_amount(-7, '{1,1}', 0);
SELECT attrib.currency_scale('JPY'), attrib.currency_scale('KWD');
SELECT attrib.days_between('2024-01-01 00:00+00', '2024-03-01 12:00+00');
SELECT * FROM attrib.refresh();
SELECT attrib.set_setting('lookback', '200 days');
SELECT attrib.set_setting('direct_channels', '{direct,Organic}');
INSERT INTO attrib.model_config (name, base_model, options) VALUES ('td30', 'time_decay', '{"half_life": 30}');
SELECT attrib.map_source('channels', 'attrib.channels');
SELECT attrib.map_source('channels', NULL);
SELECT * FROM attrib.refresh();
SELECT attrib.mark_changed(ARRAY(SELECT account_id FROM attrib.accounts LIMIT 3));
INSERT INTO attrib.touches (account_id, touch_id, occurred_at, channel)
	SELECT account_id, 'hostile-test-touch', '2025-06-01 00:00+00', 'email' FROM attrib.accounts LIMIT 1;
SELECT * FROM attrib.refresh_incremental();
CREATE TEMP TABLE fit AS SELECT attrib.markov_fit(journey, true) AS m, attrib.markov_fit(journey, true, 2) AS m2,
	attrib.shapley_fit(journey, true) AS s FROM attrib.journey_cache;
SELECT attrib.markov_merge(m)::text, attrib.shapley_merge(s)::text FROM fit;
SELECT * FROM fit, attrib.markov_info(fit.m);
SELECT * FROM fit, attrib.markov_channels(fit.m2);
SELECT * FROM fit, attrib.shapley_info(fit.s);
SELECT * FROM fit, attrib.shapley_channels(fit.s);
SELECT attrib.markov_model_from_bytea(attrib.markov_model_send(m))::text,
	   attrib.shapley_model_from_bytea(attrib.shapley_model_send(s))::text,
	   (m::text)::attrib.markov_model::text, (s::text)::attrib.shapley_model::text FROM fit;
SELECT * FROM fit, j2, attrib.credits(j2.j, fit.m, 100);
SELECT * FROM fit, j2, attrib.credits(j2.j, fit.s, 100);
SQL
	if ts_sql "$db" "SELECT 1 FROM pg_proc WHERE proname = 'refresh_data_driven' AND pronamespace = 'attrib'::regnamespace" |
		grep -q 1; then
		echo "SELECT * FROM attrib.refresh_data_driven();"
	fi
	for v in $views; do
		echo "SELECT * FROM $v;"
	done
	# pg_cron is not installed in this database: a clean error, nothing run
	echo "DO \$\$ BEGIN PERFORM attrib.schedule_refresh('*/5 * * * *');"
	echo "  EXCEPTION WHEN feature_not_supported THEN NULL; END \$\$;"
} >"$ts_tmp/battery.sql"
if psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$ts_tmp/battery.sql" >"$ts_tmp/battery.log" 2>&1; then
	ts_ok "every entry point ran under the hostile search_path ($(grep -c '^SELECT\|^INSERT\|^CREATE\|^DO' "$ts_tmp/battery.sql") statements, $(wc -w <<<"$views") views)"
else
	tail -n 20 "$ts_tmp/battery.log"
	ts_fail "the entry points under the hostile search_path"
fi
ts_check "no entry point ran a look-alike" "$(markers "$db")" "0:"
ts_check "... and the refreshes stored journeys and credits" "$(ts_sql "$db" "
	SELECT (SELECT count(*) FROM attrib.journey_cache) > 0 AND (SELECT count(*) FROM attrib.credit_cache) > 0")" t

# --- 4. the catalog -------------------------------------------------------------------
ts_sql "$db" "$labels_sql" >"$ts_tmp/labels.txt"
grep -v '^#' test/function_labels.txt | sed '/^[[:space:]]*$/d' >"$ts_tmp/reviewed.txt"
if diff -u "$ts_tmp/reviewed.txt" "$ts_tmp/labels.txt" >"$ts_tmp/labels.diff"; then
	ts_ok "all $(wc -l <"$ts_tmp/labels.txt") functions have the reviewed labels of test/function_labels.txt"
else
	sed 's/^/    /' "$ts_tmp/labels.diff"
	ts_fail "function labels differ from test/function_labels.txt (- reviewed, + catalog): review the change, then update the file (bash test/t_install_security.sh --labels)"
fi
ts_check "no SECURITY DEFINER function" "$(ts_sql "$db" "
	SELECT coalesce(string_agg(p.oid::regprocedure::text, ', '), '') FROM pg_proc p
	JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
	JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'attrib'
	WHERE p.prosecdef AND NOT coalesce(p.proconfig::text LIKE '%search_path=%', false)")" ""
ts_check "every plpgsql function, and every SQL function with a string body, pins search_path" "$(ts_sql "$db" "
	SELECT coalesce(string_agg(p.oid::regprocedure::text, ', '), '') FROM pg_proc p
	JOIN pg_language l ON l.oid = p.prolang
	JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
	JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'attrib'
	WHERE (l.lanname = 'plpgsql' OR (l.lanname = 'sql' AND p.prosqlbody IS NULL))
	  AND NOT coalesce(p.proconfig::text LIKE '%search_path=%', false)")" ""
ts_check "every view runs with the caller's rights (security_invoker)" "$(ts_sql "$db" "
	SELECT coalesce(string_agg(c.oid::regclass::text, ', '), '') FROM pg_class c
	WHERE c.relnamespace = 'attrib'::regnamespace AND c.relkind = 'v'
	  AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false)")" ""
ts_check "the extension is not trusted" "$(ts_sql "$db" "
	SELECT trusted FROM pg_available_extension_versions WHERE name = 'attrib'
	AND version = (SELECT extversion FROM pg_extension WHERE extname = 'attrib')")" "f"

# --- 5. a schema prepared by the unprivileged role -------------------------------------
prep=$(ts_sql "$db2" "SET ROLE $role; CREATE SCHEMA attrib;
	CREATE FUNCTION attrib.lower(varchar) RETURNS text LANGUAGE sql AS 'SELECT hostile.trip(''attrib.lower''); SELECT ''x''::text';
	RESET ROLE" 2>&1)
[[ -z $prep ]] || echo "$prep"
out=$(ts_sql "$db2" "SET client_min_messages = warning; CREATE EXTENSION attrib" 2>&1)
ts_check "CREATE EXTENSION refuses a schema attrib owned by the unprivileged role" \
	"$(grep -o 'schema "attrib" belongs to role "attrib_mallory"' <<<"$out")" \
	'schema "attrib" belongs to role "attrib_mallory"'
ts_sql "$db2" "ALTER SCHEMA attrib OWNER TO CURRENT_USER" >/dev/null
out=$(ts_sql "$db2" "SET client_min_messages = warning; CREATE EXTENSION attrib" 2>&1)
ts_check "... and one that already holds a look-alike" \
	"$(grep -o 'schema "attrib" already contains objects' <<<"$out")" 'schema "attrib" already contains objects'
ts_sql "$db2" "DROP FUNCTION attrib.lower(varchar)" >/dev/null
out=$(ts_sql "$db2" "SET client_min_messages = warning; CREATE EXTENSION attrib; SELECT extname FROM pg_extension WHERE extname = 'attrib'" 2>&1)
ts_check "... and accepts it once the installer owns it and it is empty" "$out" "attrib"
ts_check "the refused installs ran none of the look-alikes" "$(markers "$db2")" "0:"

ts_done
