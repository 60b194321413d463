# shellcheck shell=bash
#
# tscript.sh — small helpers for attrib's test/t_*.sh scripts.
#
# The scripts run against a cluster whose environment test/run.sh exports
# (PGHOST, PGPORT, PGUSER=postgres); run one by hand with
#   source test/lib/pgcluster.sh && pg_start && bash test/t_NAME.sh; pg_stop
#
#   ts_init NAME        checks the environment, sets ts_root, ts_tmp (removed on exit)
#   ts_db NAME          creates a scratch database NAME (dropped on exit)
#   ts_sql DB SQL       runs SQL (ON_ERROR_STOP), prints unaligned tuples
#   ts_file DB FILE     runs a psql script file
#   ts_check DESC GOT WANT   compares two strings, counts a failure when they differ
#   ts_ok DESC / ts_fail DESC
#   ts_done             prints the tally; exit status 0 only if nothing failed

ts_failures=0
ts_checks=0
ts_dbs=()

ts_cleanup() {
	local db
	for db in "${ts_dbs[@]}"; do
		psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 ||
			echo "warning: could not drop database $db"
	done
	[[ -n ${ts_tmp:-} ]] && rm -rf "$ts_tmp"
}

ts_init() {
	ts_name=$1
	if [[ -z ${PGHOST:-} || -z ${PGPORT:-} ]]; then
		echo "$ts_name: PGHOST/PGPORT not set; run it from test/run.sh or after pg_start" >&2
		exit 1
	fi
	export PGUSER=${PGUSER:-postgres}
	# shellcheck disable=SC2034  # used by the scripts
	ts_root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
	ts_bindir=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
	[[ -x $ts_bindir/pg_dump ]] || ts_bindir=/usr/lib/postgresql/15/bin
	ts_tmp=$(mktemp -d "${TMPDIR:-/tmp}/attrib-$ts_name.XXXXXX")
	trap ts_cleanup EXIT
}

ts_db() {
	local db=$1
	psql -X -q -d postgres -v ON_ERROR_STOP=1 \
		-c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" -c "CREATE DATABASE \"$db\"" || {
		echo "FAIL cannot create database $db"
		exit 1
	}
	ts_dbs+=("$db")
}

ts_sql() {
	psql -X -q -v ON_ERROR_STOP=1 -At -d "$1" -c "$2"
}

ts_file() {
	psql -X -q -v ON_ERROR_STOP=1 -At -d "$1" -f "$2"
}

ts_ok() {
	ts_checks=$((ts_checks + 1))
	echo "ok   $1"
}

ts_fail() {
	ts_checks=$((ts_checks + 1))
	ts_failures=$((ts_failures + 1))
	echo "FAIL $1"
}

ts_check() {
	if [[ $2 == "$3" ]]; then
		ts_ok "$1"
	else
		ts_fail "$1: got [$2], want [$3]"
	fi
}

ts_done() {
	echo "$ts_name: $((ts_checks - ts_failures)) of $ts_checks checks passed"
	((ts_failures == 0))
	exit $?
}
