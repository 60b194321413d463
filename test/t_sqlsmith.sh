#!/usr/bin/env bash
#
# test/t_sqlsmith.sh — random SQL (sqlsmith) against a database with attrib and
# a generated CRM, as an unprivileged role: no backend may crash, and no error
# raised by attrib's C code may be an internal error (XX000).
#
#   bash test/t_sqlsmith.sh              short run (test/run.sh): 1000 queries, ~1.5-2 min
#   bash test/t_sqlsmith.sh --long [N]   N queries (default 20000, ~20 min), chunks of 2500
#   bash test/t_sqlsmith.sh --self-test  only check the log scanners on made-up lines
#
# Alone, it starts a throwaway cluster; test/run.sh runs it against its own.
# Knobs: ATTRIB_SQLSMITH_QUERIES=N (N queries; 10000 or more are run in long
# chunks), ATTRIB_SQLSMITH_SEED (default 1; chunk k runs with seed + k, all
# printed, so a run can be repeated), ATTRIB_SQLSMITH_SCALE (generator scale,
# default 1), ATTRIB_PG_KEEP=1 keeps a throwaway cluster's log and this
# script's files (sqlsmith's output per chunk, the log window, errors.tsv).
#
# Set-up: a scratch database with CREATE EXTENSION attrib, test/gen/generate.sql
# at scale 1, the Markov, Shapley and a custom model enabled and attrib.refresh()
# run; a table smith_seed.cases of edge-case arguments (journeys empty, long,
# with extreme times or a context; model names valid, unknown, odd; options,
# amounts, scales, weights, currencies, corrupt serialized journeys, fitted
# models) so that sqlsmith, which otherwise passes mostly NULL constants to
# functions of extension types, has real values to feed attrib's functions;
# and a role (LOGIN, not superuser) with the README's BI grants (USAGE on the
# schema, SELECT on every table and view) plus EXECUTE on every function,
# statement_timeout 1 s, log_error_verbosity verbose (SQLSTATE and source
# location of each error in the server log) and track_functions all.
#
# sqlsmith (--exclude-catalog: FROM items are attrib's tables and views and the
# seed table) runs in chunks of two kinds, three "focus" chunks to one "wide":
#   focus  the role's search_path starts with a schema whose view pg_proc
#          shadows the catalog's for sqlsmith's (unqualified) schema queries:
#          attrib's functions and aggregates, set-returning ones included (so
#          credits() and touches() are called in select lists), without the
#          refresh and settings functions an unprivileged role may not run,
#          plus ~170 common non-polymorphic built-ins that make text, numeric,
#          jsonb, bytea, time and array arguments;
#   wide   the whole catalog of functions (every attrib function among ~3000).
#
# Afterwards, on the part of the server log written during the run:
#   * fail on "terminated by signal", "was terminated by exception", a server
#     process that "exited with exit code", PANIC, TRAP (assertion) or a crash
#     restart, and unless the server still answers;
#   * fail on an XX000 error whose LOCATION is one of attrib's C files;
#   * print the errors by SQLSTATE, the ones raised by attrib (by its C code,
#     or inside one of its SQL functions), and any other XX000 (PostgreSQL's
#     own, reported, not failed);
#   * fail if sqlsmith stopped early, or if no attrib function was called
#     (pg_stat_user_functions), which would mean the test tests nothing.
# The scanners check themselves on made-up log lines first (--self-test), so a
# crash line the check would miss fails every run, not none.

set -uo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd) || exit 1
cd "$root" || exit 1

say() { printf 't_sqlsmith: %s\n' "$*"; }
die() {
	printf 't_sqlsmith: FAIL: %s\n' "$*" >&2
	exit 1
}

# --- log scanners ------------------------------------------------------------------

# ss_crash_lines — the lines of a server log (stdin) that show a crashed or
# aborted process.
ss_crash_lines() {
	grep -a -E '\] LOG:  .*\(PID [0-9]+\) (was terminated by (signal|exception)|exited with exit code ([2-9]|[1-9][0-9]))|\] PANIC:  |^TRAP: |\] LOG:  (terminating any other active server processes|all server processes terminated)'
}

# ss_errors C_FILES — one line per ERROR of a server log (stdin) written with
# log_error_verbosity = verbose: SQLSTATE <tab> origin <tab> location <tab>
# message, origin being "attrib-c" (LOCATION in one of C_FILES, a
# space-separated list of base names), "attrib-sql" (CONTEXT names an attrib.
# function) or "postgres".
ss_errors() {
	awk -v cfiles="$1" '
	function flush() {
		if (code != "") {
			origin = "postgres"
			file = loc
			sub(/.*, /, "", file)
			sub(/:[0-9]+$/, "", file)
			if (file in ours)
				origin = "attrib-c"
			else if (ctx)
				origin = "attrib-sql"
			printf "%s\t%s\t%s\t%s\n", code, origin, loc, msg
		}
		code = ""; msg = ""; loc = ""; ctx = 0; inctx = 0
	}
	BEGIN {
		n = split(cfiles, f, " ")
		for (i = 1; i <= n; i++)
			ours[f[i]] = 1
	}
	/^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] / {
		inctx = 0
		if (match($0, /\] [A-Z]+:  /)) {
			kind = substr($0, RSTART + 2, RLENGTH - 5)
			rest = substr($0, RSTART + RLENGTH)
			if (kind == "ERROR") {
				flush()
				code = substr(rest, 1, 5)
				msg = substr(rest, 8)
				sub(/ at character [0-9]+$/, "", msg)
			} else if (kind == "CONTEXT") {
				inctx = 1
				if (rest ~ /function attrib\./)
					ctx = 1
			} else if (kind == "LOCATION") {
				loc = rest
			} else if (kind != "DETAIL" && kind != "HINT" && kind != "QUERY" && kind != "STATEMENT") {
				flush()
			}
		}
		next
	}
	inctx && /function attrib\./ { ctx = 1 }
	END { flush() }'
}

ss_self_test() {
	local bad good errs n
	bad=$(
		cat <<'LOG'
2026-11-27 16:00:00.000 UTC [100] LOG:  server process (PID 4242) was terminated by signal 11: Segmentation fault
2026-11-27 16:00:00.000 UTC [100] LOG:  server process (PID 4243) exited with exit code 2
2026-11-27 16:00:00.000 UTC [100] LOG:  server process (PID 4244) was terminated by exception 0xC0000005
2026-11-27 16:00:00.000 UTC [4245] PANIC:  could not write to file "pg_wal/xlogtemp.4245": No space left on device
TRAP: FailedAssertion("j->n > 0", File: "journey.c", Line: 42, PID: 4246)
2026-11-27 16:00:00.000 UTC [100] LOG:  terminating any other active server processes
2026-11-27 16:00:00.000 UTC [100] LOG:  all server processes terminated; reinitializing
2026-11-27 16:00:00.000 UTC [100] LOG:  background worker "parallel worker" (PID 4247) was terminated by signal 6: Aborted
LOG
	)
	good=$(
		cat <<'LOG'
2026-11-27 16:00:00.000 UTC [4250] ERROR:  57014: canceling statement due to statement timeout
2026-11-27 16:00:00.000 UTC [4250] FATAL:  57P01: terminating connection due to administrator command
2026-11-27 16:00:00.000 UTC [4250] LOG:  statement: select 'terminated by signal' is null
2026-11-27 16:00:00.000 UTC [4250] ERROR:  XX001: corrupt journey: bad header
2026-11-27 16:00:00.000 UTC [4250] STATEMENT:  select 'server process (PID 1) was terminated by signal 11'
2026-11-27 16:00:00.000 UTC [100] LOG:  background worker "parallel worker" (PID 4251) exited with exit code 1
LOG
	)
	n=$(printf '%s\n' "$bad" | ss_crash_lines | wc -l)
	[[ $n == 8 ]] || die "self-test: the crash scanner found $n of 8 made-up crash lines"
	n=$(printf '%s\n' "$good" | ss_crash_lines | wc -l)
	[[ $n == 0 ]] || die "self-test: the crash scanner flagged $n benign lines"
	errs=$(
		ss_errors "credits.c journey_type.c" <<'LOG'
2026-11-27 16:00:00.000 UTC [4250] ERROR:  XX000: unexpected core status 99
2026-11-27 16:00:00.000 UTC [4250] LOCATION:  credits_srf, credits.c:321
2026-11-27 16:00:00.000 UTC [4250] STATEMENT:  select * from attrib.credits(j, 'linear', 1)
	  from t
2026-11-27 16:00:00.000 UTC [4250] ERROR:  22023: unknown model "x" at character 12
2026-11-27 16:00:00.000 UTC [4250] HINT:  Known models: linear.
2026-11-27 16:00:00.000 UTC [4250] LOCATION:  at_raise, journey_type.c:10
2026-11-27 16:00:00.000 UTC [4250] ERROR:  P0001: not allowed
2026-11-27 16:00:00.000 UTC [4250] CONTEXT:  SQL statement "SELECT 1"
	PL/pgSQL function attrib.refresh() line 4 at RAISE
2026-11-27 16:00:00.000 UTC [4250] LOCATION:  exec_stmt_raise, pl_exec.c:3888
2026-11-27 16:00:00.000 UTC [4250] LOG:  checkpoint starting: time
2026-11-27 16:00:00.000 UTC [4250] ERROR:  XX000: cache lookup failed for type 0
2026-11-27 16:00:00.000 UTC [4250] LOCATION:  format_type_extended, format_type.c:134
LOG
	)
	[[ $errs == $'XX000\tattrib-c\tcredits_srf, credits.c:321\tunexpected core status 99\n22023\tattrib-c\tat_raise, journey_type.c:10\tunknown model "x"\nP0001\tattrib-sql\texec_stmt_raise, pl_exec.c:3888\tnot allowed\nXX000\tpostgres\tformat_type_extended, format_type.c:134\tcache lookup failed for type 0' ]] ||
		die "self-test: the error scanner gave:"$'\n'"$errs"
}

# --- arguments ------------------------------------------------------------------------

queries=${ATTRIB_SQLSMITH_QUERIES:-1000}
chunk=2500
case ${1:-} in
--long)
	queries=${2:-20000}
	[[ $queries =~ ^[0-9]+$ && $queries -gt 0 ]] || die "--long N: N must be a positive number"
	;;
--self-test)
	ss_self_test
	say "self-test: the log scanners catch every made-up crash and classify errors"
	exit 0
	;;
'') ;;
*) die "usage: bash test/t_sqlsmith.sh [--long [N] | --self-test]" ;;
esac
seed=${ATTRIB_SQLSMITH_SEED:-1}
scale=${ATTRIB_SQLSMITH_SCALE:-1}
[[ $seed =~ ^[0-9]+$ ]] || die "ATTRIB_SQLSMITH_SEED must be a number"

ss_self_test

# --- cluster, database, role ----------------------------------------------------------

# shellcheck source-path=SCRIPTDIR/..
source test/lib/pgcluster.sh
pg_ensure_packages >/dev/null || die "packages missing"
command -v sqlsmith >/dev/null || die "no sqlsmith"
if [[ -z ${PGHOST:-} || -z ${PGPORT:-} ]] || ! pg_isready -q -d postgres 2>/dev/null; then
	say "no server in the environment: starting a throwaway cluster"
	# shellcheck disable=SC2119  # no extra postgresql.conf lines
	pg_start || die "cluster start"
fi
export PGUSER=${PGUSER:-postgres}
log=${ATTRIB_PGLOG:-}
[[ -n $log && -r $log ]] || die "no readable server log (ATTRIB_PGLOG); run from test/run.sh or after pg_start"

db=attrib_sqlsmith_$$
role=attrib_smith_$$
tmp=$(mktemp -d "${TMPDIR:-/tmp}/attrib-sqlsmith.XXXXXX") || die "mktemp"
# shellcheck disable=SC2317  # called from the trap
cleanup() {
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
	psql -X -q -d postgres -c "DROP ROLE IF EXISTS $role" >/dev/null 2>&1
	pg_cleanup >/dev/null 2>&1
	if [[ ${ATTRIB_PG_KEEP:-0} == 1 ]]; then
		echo "t_sqlsmith: kept $tmp (sqlsmith output, the log window, errors.tsv)" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

sql() { psql -X -q -v ON_ERROR_STOP=1 -At -d "$db" "$@"; }

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db" || die "create database"
sql -c "CREATE EXTENSION attrib" || die "CREATE EXTENSION attrib"
sql -v scale="$scale" -f test/gen/generate.sql >"$tmp/gen.log" 2>&1 || {
	cat "$tmp/gen.log" >&2
	die "test/gen/generate.sql"
}
sql >"$tmp/setup.log" 2>&1 <<SQL || {
SET client_min_messages = warning;
INSERT INTO attrib.model_config (name, base_model, options) VALUES
	('markov', 'markov', '{"order": 2}'), ('shapley', 'shapley', '{}'),
	('w_sales', 'custom', '{"weights": {"FT": 0.2, "LC": 0.2, "OC": 0.5, "middle": 0.1}}');
SELECT attrib.refresh();

-- edge-case arguments for sqlsmith to pick columns from
CREATE SCHEMA smith_seed;
CREATE TABLE smith_seed.cases AS
WITH pick AS (
	SELECT (SELECT journey FROM attrib.journey_cache ORDER BY attrib.journey_length(journey) DESC, opportunity_id LIMIT 1) AS longest,
		   (SELECT journey FROM attrib.journey_cache WHERE status = 'won' ORDER BY opportunity_id LIMIT 1) AS won,
		   (SELECT journey FROM attrib.journey_cache WHERE attrib.journey_length(journey) = 1 ORDER BY opportunity_id LIMIT 1) AS single,
		   (SELECT attrib.journey_agg(id, t, ch) FROM (VALUES ('a', timestamptz '294276-12-31 23:59:00+00', 'email'),
				('b', timestamptz '4713-01-01 00:00:00+00 BC', 'direct'), ('c', timestamptz '2024-02-29 12:00+00', 'Email'),
				('d', timestamptz '2024-02-29 12:00+00', repeat('x', 300))) v(id, t, ch)) AS extreme,
		   (SELECT markov FROM attrib.fitted_models WHERE markov IS NOT NULL LIMIT 1) AS mm,
		   (SELECT shapley FROM attrib.fitted_models WHERE shapley IS NOT NULL LIMIT 1) AS sm
), v AS (
	SELECT i, p.*, attrib.with_context(p.won, 'won', '2023-01-01 00:00+00', '2025-01-01 00:00+00',
		'2022-12-01 00:00+00', NULL, '30 days', '{MQL,SQL}', '{2023-02-01 00:00+00,2023-03-01 00:00+00}') AS ctx
	FROM generate_series(0, 59) i, pick p
)
SELECT i,
	(ARRAY[longest, won, single, extreme, ctx, '{"touches":[]}', NULL, won])[1 + i % 8] AS j,
	(ARRAY['linear', 'first_touch', 'last_non_direct', 'time_decay', 'w_shaped', 'custom', 'influence',
		'markov', 'shapley', 'w_sales', '', 'no_such_model', 'LINEAR', repeat('m', 300), NULL])[1 + i % 15] AS model,
	(ARRAY['{}', NULL, '{"half_life": 0}', '{"half_life": "7 days"}', '{"weights": {"FT": 0.4, "LT": 0.4, "middle": 0.2}}',
		'{"exclude_channels": ["email"]}', '[1]', '{"collapse_repeats": true}', '{"order": 3}', '{"half_life": 1e309}',
		'{"weights": {"FT": -1, "LT": 2}}'])[1 + i % 11]::jsonb AS options,
	(ARRAY[100, 0, -1, 'NaN', 1e20, 0.01, 123456789012345678901234567890.123, NULL, 'Infinity'])[1 + i % 9]::numeric AS amount,
	(ARRAY[2, 0, -1, 1000, 1001, NULL, 2147483647])[1 + i % 7]::int4 AS scale,
	(ARRAY['{1}', '{0.5,0.5}', '{}', '{NaN}', '{-1,2}', '{Infinity}', '{0,0}', NULL, '{1e-300,1}', '{0.2,0.3,0.5}', '{NULL,1}'])[1 + i % 11]::float8[] AS weights,
	(ARRAY['2024-01-01 00:00+00', 'infinity', '-infinity', '4713-01-01 00:00+00 BC', '294276-12-31 23:00+00', NULL])[1 + i % 6]::timestamptz AS at,
	(ARRAY['30 days', '-1 day', '2147483647 days', '178000000 years', NULL, '0'])[1 + i % 6]::interval AS lookback,
	(ARRAY['{MQL,SQL}', '{}', '{NULL}', NULL, '{email,direct}'])[1 + i % 5]::text[] AS names,
	(ARRAY['USD', 'EUR', 'JPY', 'XXX', '', NULL, 'usd'])[1 + i % 7]::char(3) AS currency,
	(ARRAY[attrib.journey_send(won), substring(attrib.journey_send(won) FROM 1 FOR 7), '\x'::bytea,
		overlay(attrib.journey_send(won) PLACING '\xff'::bytea FROM 5), attrib.markov_model_send(mm),
		attrib.shapley_model_send(sm), NULL])[1 + i % 7] AS raw,
	(ARRAY[mm, NULL])[1 + i % 2] AS mm,
	(ARRAY[sm, NULL])[1 + i % 3 / 2] AS sm,
	(ARRAY[true, false, NULL])[1 + i % 3] AS flag
FROM v;

-- the shadow catalog of the focus chunks (see the header)
CREATE SCHEMA smith_focus;
CREATE VIEW smith_focus.pg_proc AS
SELECT (p.oid::int8 + (copy - 1) * 100000000)::oid AS oid, p.proname, p.pronamespace, p.prokind,
	p.prorettype, p.proargtypes, p.proretset AND p.pronamespace <> 'attrib'::regnamespace AS proretset
FROM pg_catalog.pg_proc p,
	generate_series(1, CASE WHEN p.pronamespace = 'attrib'::regnamespace THEN 8 ELSE 1 END) copy
WHERE (p.pronamespace = 'attrib'::regnamespace
	AND p.proname !~ '^(refresh|schedule_refresh|set_setting|mark_changed|map_source|models$)')
   OR (p.pronamespace = 'pg_catalog'::regnamespace
	AND NOT EXISTS (SELECT FROM unnest(p.proargtypes || p.prorettype) t
		JOIN pg_type y ON y.oid = t WHERE y.typtype = 'p')
	AND p.proname = ANY (ARRAY[
	'lower', 'upper', 'substr', 'left', 'right', 'concat', 'concat_ws', 'repeat', 'replace',
	'md5', 'btrim', 'length', 'lpad', 'rpad', 'split_part', 'format', 'initcap', 'to_char', 'textcat',
	'round', 'trunc', 'abs', 'ceil', 'floor', 'mod', 'power', 'scale', 'numeric', 'float8', 'int4',
	'int8', 'text', 'bpchar', 'random', 'numeric_add', 'numeric_mul', 'float8div',
	'to_jsonb', 'jsonb_build_object', 'jsonb_build_array', 'jsonb_object', 'jsonb_set',
	'jsonb_insert', 'jsonb_strip_nulls', 'jsonb_extract_path', 'jsonb_typeof', 'jsonb_concat',
	'jsonb_object_field', 'jsonb_array_element', 'jsonb_delete',
	'now', 'date_trunc', 'make_interval', 'make_timestamptz', 'to_timestamp', 'justify_interval',
	'age', 'timestamptz', 'interval', 'timestamptz_pl_interval', 'timestamptz_mi_interval',
	'interval_mul', 'isfinite', 'string_to_array', 'array_length', 'cardinality',
	'decode', 'encode', 'convert_to', 'set_byte', 'get_byte', 'overlay', 'substring', 'byteacat',
	'sha256', 'bytea',
	'count', 'sum', 'min', 'max', 'avg', 'string_agg', 'jsonb_agg', 'jsonb_object_agg',
	'bool_and', 'bool_or']::name[]));

CREATE ROLE $role LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
GRANT USAGE ON SCHEMA attrib, smith_seed, smith_focus TO $role;
GRANT SELECT ON ALL TABLES IN SCHEMA attrib, smith_seed, smith_focus TO $role;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA attrib TO $role;
ALTER ROLE $role SET statement_timeout = '1s';
ALTER ROLE $role SET idle_in_transaction_session_timeout = '10s';
ALTER ROLE $role SET log_error_verbosity = verbose;
ALTER ROLE $role SET track_functions = 'all';
SELECT pg_stat_reset();
SQL
	cat "$tmp/setup.log" >&2
	die "set-up"
}
cases=$(sql -c "SELECT count(*) FILTER (WHERE j IS NOT NULL) || ' journeys, ' || count(*) FILTER (WHERE mm IS NOT NULL) || ' Markov models' FROM smith_seed.cases")
say "database $db: generated CRM (scale $scale), $(sql -c 'SELECT count(*) FROM attrib.journey_cache') journeys, seed table with $cases; role $role"

# --- sqlsmith ------------------------------------------------------------------------------

target="host=$PGHOST port=$PGPORT dbname=$db user=$role"
focus_target="$target options='-c search_path=smith_focus,pg_catalog'"
log_start=$(stat -c %s "$log") || die "stat $log"
started=$(date +%s)
total=0
k=0
left=$queries
status=0
while ((left > 0)); do
	# short run: 3/4 focus, 1/4 wide; long run: chunks of 2500, focus, focus, focus, wide
	if ((queries < 4 * chunk)); then
		n=$((k == 0 ? (queries * 3 + 3) / 4 : left))
		kind=$([[ $k == 0 ]] && echo focus || echo wide)
	else
		n=$((left < chunk ? left : chunk))
		kind=$( ((k % 4 == 3)) && echo wide || echo focus)
	fi
	((n > 0)) || break
	s=$((seed + k))
	t=$([[ $kind == focus ]] && echo "$focus_target" || echo "$target")
	out=$tmp/chunk$k.out
	c0=$(date +%s)
	timeout $((n / 2 + 300)) sqlsmith --target="$t" --seed="$s" --max-queries="$n" \
		--exclude-catalog --verbose >"$out" 2>&1 </dev/null
	rc=$?
	got=$(grep -a -o '^queries: [0-9]*' "$out" | tail -n 1 | cut -d' ' -f2)
	rate=$(grep -a -o '^error rate: [0-9.]*' "$out" | tail -n 1 | cut -d' ' -f3)
	say "chunk $k ($kind, seed $s): ${got:-0} of $n queries in $(($(date +%s) - c0)) s, error rate ${rate:-?}, exit status $rc"
	if ((rc != 0)) || [[ ${got:-0} != "$n" ]]; then
		tail -n 20 "$out" | sed 's/^/    /' >&2
		say "FAIL: sqlsmith stopped early (chunk $k)"
		status=1
	fi
	total=$((total + ${got:-0}))
	left=$((left - n))
	k=$((k + 1))
	((status == 0)) || break
done
elapsed=$(($(date +%s) - started))
say "sqlsmith: $total queries in $elapsed s (seeds $seed..$((seed + k - 1)))"

# --- verdict ---------------------------------------------------------------------------------

if ! pg_isready -q -d postgres || [[ $(psql -X -At -d "$db" -c "SELECT 1" 2>/dev/null) != 1 ]]; then
	say "FAIL: the server does not answer after the run"
	status=1
fi
sleep 1 # the last backend's function statistics
calls=$(sql -c "SELECT count(*) || ' ' || coalesce(sum(calls), 0) FROM pg_stat_user_functions WHERE schemaname = 'attrib' AND calls > 0")
read -r nfun ncalls <<<"$calls"
nall=$(sql -c "SELECT count(*) FROM pg_proc WHERE pronamespace = 'attrib'::regnamespace")
say "attrib functions called: $nfun of $nall, $ncalls calls (pg_stat_user_functions, without aggregate support functions)"
if [[ ${nfun:-0} == 0 ]]; then
	say "FAIL: sqlsmith called no attrib function"
	status=1
fi

tail -c +$((log_start + 1)) "$log" >"$tmp/window.log"
say "server log during the run: $(wc -c <"$tmp/window.log") bytes"
crashes=$(ss_crash_lines <"$tmp/window.log")
if [[ -n $crashes ]]; then
	say "FAIL: the server log shows crashes:"
	printf '%s\n' "$crashes" | head -n 20 | sed 's/^/    /'
	grep -a -A3 'terminated by signal' "$tmp/window.log" | head -n 40 | cut -c1-400 | sed 's/^/    /'
	status=1
else
	say "crashes: 0 (no backend terminated by a signal, no PANIC, TRAP or crash restart)"
fi

cfiles=$(cd src && echo ./*.c core/*.c | tr ' ' '\n' | sed 's|.*/||' | tr '\n' ' ')
ss_errors "$cfiles" <"$tmp/window.log" >"$tmp/errors.tsv"
say "errors: $(wc -l <"$tmp/errors.tsv") ($(cut -f1 "$tmp/errors.tsv" | sort | uniq -c | sort -rn | awk '{ print $1 " x " $2 }' | paste -s -d, - | sed 's/,/, /g'))"
if awk -F'\t' '$2 != "postgres"' "$tmp/errors.tsv" | grep -q .; then
	say "errors raised by attrib (its C code, or inside its SQL functions), by count:"
	awk -F'\t' '$2 != "postgres" { print $1 "  " $2 "  " $4 "  (" $3 ")" }' "$tmp/errors.tsv" |
		sed -E 's/"[^"]{40,}"/"..."/g' | sort | uniq -c | sort -rn | head -n 25 | cut -c1-220 | sed 's/^/    /'
fi
internal=$(awk -F'\t' '$1 == "XX000" && $2 == "attrib-c"' "$tmp/errors.tsv")
if [[ -n $internal ]]; then
	say "FAIL: internal errors (XX000) raised by attrib's C code:"
	printf '%s\n' "$internal" | sort | uniq -c | head -n 20 | sed 's/^/    /'
	grep -a -A6 'ERROR:  XX000' "$tmp/window.log" | head -n 60 | cut -c1-400 | sed 's/^/    /'
	status=1
fi
other=$(awk -F'\t' '$1 == "XX000" && $2 != "attrib-c"' "$tmp/errors.tsv")
if [[ -n $other ]]; then
	say "note: internal errors (XX000) raised by PostgreSQL itself (not failed):"
	printf '%s\n' "$other" | sort | uniq -c | head -n 10 | sed 's/^/    /'
fi

if ((status == 0)); then
	say "PASS: $total queries, 0 crashes, no internal error from attrib"
else
	say "FAIL (seeds $seed..$((seed + k - 1)); ATTRIB_SQLSMITH_SEED=$seed repeats the run)"
fi
exit "$status"
