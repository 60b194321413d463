#!/usr/bin/env bash
#
# test/t_parallel_regress.sh — the whole pg_regress schedule again, with every
# query that can run in a parallel worker forced to (force_parallel_mode =
# regress) and parallel plans made free, compared against the same expected
# files: identical results, no "parallel worker" errors, so every PARALLEL SAFE
# label in the extension holds.
#
#   bash test/t_parallel_regress.sh   (test/run.sh runs it against its cluster;
#                                      alone, it starts a throwaway one)
#
# The settings go in through PGOPTIONS, so they are the session defaults of
# every connection pg_regress makes (RESET ALL in a suite returns to them):
#   force_parallel_mode=regress parallel_tuple_cost=0 parallel_setup_cost=10
#   min_parallel_table_scan_size=0 min_parallel_index_scan_size=0
#   max_parallel_workers_per_gather=2
# parallel_setup_cost is 10, not 0 (ATTRIB_PARALLEL_SETUP_COST overrides it):
# at 0 the planner puts Gather nodes on the inner side of nested loops in the
# report views, so every outer row starts two workers again; the reports suite
# then runs for more than 25 minutes instead of 6 seconds.  At 10 those plans
# stay rare while partial aggregation and parallel scans are still chosen
# everywhere else, and force_parallel_mode=regress still runs every
# parallel-safe query in a worker.  (sql/parallel.sql itself runs with the
# setup cost at 0.)  A probe then checks the mode was really in force: a
# PARALLEL SAFE function reporting pg_backend_pid() must run in another
# process (a worker).  The database, attrib_parallel_regress, is dropped at
# the end.  Suites must not print plans (they assert plan properties as
# booleans), so the expected files need no special casing.  About 2 minutes.
#
# Exit status 0 on success, 1 on failure.

set -uo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd) || exit 1
cd "$root" || exit 1
# shellcheck source-path=SCRIPTDIR/..
source test/lib/pgcluster.sh
# shellcheck source-path=SCRIPTDIR/..
source test/lib/regress.sh

say() { printf 't_parallel_regress: %s\n' "$*"; }
die() {
	printf 't_parallel_regress: FAIL: %s\n' "$*" >&2
	exit 1
}

db=attrib_parallel_regress
tmp=$(mktemp -d "${TMPDIR:-/tmp}/attrib-parallel.XXXXXX") || die "mktemp"
cleanup() {
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
	pg_cleanup >/dev/null 2>&1
	if [[ ${ATTRIB_PG_KEEP:-0} == 1 ]]; then
		echo "t_parallel_regress: kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

pg_ensure_packages >/dev/null || die "packages missing"
if [[ -z ${PGHOST:-} || -z ${PGPORT:-} ]] || ! pg_isready -q -d postgres 2>/dev/null; then
	say "no server in the environment: starting a throwaway cluster"
	pg_start || die "cluster start"
fi

opts="-c force_parallel_mode=regress -c parallel_setup_cost=${ATTRIB_PARALLEL_SETUP_COST:-10} -c parallel_tuple_cost=0"
opts+=" -c min_parallel_table_scan_size=0 -c min_parallel_index_scan_size=0"
opts+=" -c max_parallel_workers_per_gather=2"

start=$(date +%s)
PGOPTIONS="${PGOPTIONS:+$PGOPTIONS }$opts" attrib_regress "$db" "$tmp/out" >"$tmp/regress.log" 2>&1
rc=$?
cat "$tmp/regress.log"
say "schedule ran in $(($(date +%s) - start)) s with: $opts"

status=0
if ((rc != 0)); then
	failed=$(attrib_regress_failures "$tmp/regress.log" | tr '\n' ' ')
	[[ -s $tmp/out/regression.diffs ]] && head -n 400 "$tmp/out/regression.diffs" >&2
	echo "t_parallel_regress: FAIL: results differ under forced parallelism${failed:+: $failed}" >&2
	status=1
fi

# The probe: with the options in force, a parallel-safe query runs in a worker.
# (A function in pg_temp would be parallel restricted, so it goes in public.)
probe=$(PGOPTIONS="$opts" psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" 2>&1 <<'SQL'
CREATE FUNCTION public.probe_pid() RETURNS int LANGUAGE sql PARALLEL SAFE
	AS 'SELECT pg_catalog.pg_backend_pid()';
SELECT current_setting('force_parallel_mode');
SELECT pg_backend_pid() AS leader \gset
SELECT public.probe_pid() <> :leader AS ran_in_a_worker;
SQL
)
if [[ $probe != $'regress\nt' ]]; then
	printf '%s\n' "$probe" >&2
	echo "t_parallel_regress: FAIL: the probe did not run in a parallel worker" >&2
	status=1
fi
if ((status == 0)); then
	say "PASS: $(wc -w <<<"${ATTRIB_REGRESS_ONLY:-$(attrib_regress_list)}") suites identical under force_parallel_mode=regress; probe ran in a worker"
fi
exit "$status"
