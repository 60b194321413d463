#!/usr/bin/env bash
#
# test/run.sh — attrib's one test command, for newcomers and CI alike.
#
#   bash test/run.sh          (from any directory; as root on Debian 12)
#
# It does all its own set-up:
#   1. installs missing packages (PostgreSQL 15 server + headers, pg_cron,
#      gcc, clang, python3) through test/lib/pgcluster.sh
#   2. make clean; make -j2 PG_CFLAGS="-Wall -Wextra -Werror"; make install
#   3. the core's unit tests (test/unit/run.sh: gcc -Werror and clang ASan/UBSan)
#   4. a throwaway cluster (server as the postgres user, socket in a temp dir)
#      and `make installcheck` — the pg_regress suites in sql/ + expected/,
#      then the isolation specs in specs/ + expected/ (pg_isolation_regress)
#   5. every test/sql_*.sh and test/t_*.sh against that cluster (exit 0 = pass)
#   6. stops the cluster
# and ends with one line "N passed, M failed", counting unit test programs,
# regression suites and scripts; a failed step (packages, build, cluster)
# counts as one failure.  Exit status is 0 only if nothing failed.
#
# ATTRIB_PG_KEEP=1 keeps the cluster directory (server log) after the run.

set -uo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd) || exit 1
cd "$root" || exit 1
# shellcheck source-path=SCRIPTDIR/..
source test/lib/pgcluster.sh

passed=0
failed=0
work=$(mktemp -d "${TMPDIR:-/tmp}/attrib-test.XXXXXX") || exit 1

section() {
	printf '\n== %s\n' "$*"
}

pass() {
	passed=$((passed + 1))
	echo "PASS $1"
}

# fail NAME [LOGFILE [LINES]] — count a failure and show the end of its log.
fail() {
	failed=$((failed + 1))
	echo "FAIL $1"
	if [[ -n ${2:-} && -s ${2:-} ]]; then
		tail -n "${3:-60}" "$2" | sed 's/^/    /'
	fi
}

finish() {
	trap - EXIT INT TERM HUP
	if ((${#_ATTRIB_PG_DIRS[@]} > 0)) && ! pg_cleanup; then
		fail "cluster stop"
	fi
	rm -rf "$work"
	echo
	echo "$passed passed, $failed failed"
	((failed == 0)) || exit 1
	exit 0
}

# The test script running now, if any; run in the background and waited for,
# so that a signal reaches our trap at once instead of after the script.
child=""

# shellcheck disable=SC2317  # called from the traps below
on_signal() {
	if [[ -n $child ]]; then
		kill -TERM "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	echo
	fail "interrupted by SIG$1"
	finish
}

trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP
trap 'pg_cleanup; rm -rf "$work"' EXIT

# --- 1. packages -------------------------------------------------------------
section "packages"
if ! pg_ensure_packages; then
	fail "packages (apt-get install)"
	finish
fi
echo "using $("$PG_CONFIG" --version) ($PG_CONFIG)"

# --- 2. build ------------------------------------------------------------------
section "build"
built=0
log=$work/build.log
if make clean >"$log" 2>&1 &&
	make -j2 PG_CFLAGS="-Wall -Wextra -Werror" >>"$log" 2>&1 &&
	make install >>"$log" 2>&1; then
	built=1
	echo "built and installed attrib"
else
	fail "build (make; make install)" "$log" 100
fi

# --- 3. unit tests -------------------------------------------------------------
section "unit tests"
totals=$work/unit.totals
bash test/unit/run.sh "$totals"
unit_rc=$?
if read -r up uf <"$totals" 2>/dev/null && [[ $up =~ ^[0-9]+$ && $uf =~ ^[0-9]+$ ]]; then
	passed=$((passed + up))
	failed=$((failed + uf))
	if ((unit_rc != 0 && uf == 0)); then
		fail "unit runner (exit status $unit_rc)"
	fi
else
	fail "unit runner (exit status $unit_rc, no totals)"
fi

if ((built == 0)); then
	section "regression suites and scripts"
	echo "skipped: the extension did not build"
	finish
fi

# --- 4. regression suites ------------------------------------------------------
section "cluster"
# shellcheck disable=SC2119  # no extra postgresql.conf lines
if ! pg_start; then
	fail "cluster start"
	finish
fi
echo "PostgreSQL on port $PGPORT, socket directory $PGHOST"

section "regression suites (make installcheck)"
log=$work/regress.log
make installcheck 2>&1 | tee "$log"
regress_rc=${PIPESTATUS[0]}
# make stops at the first failing test program: when the regression suites
# failed, the isolation specs (which run after them) are run on their own.
if ((regress_rc != 0)) && ! grep -q '^+++ isolation' "$log"; then
	make installcheck REGRESS= 2>&1 | tee -a "$log"
fi

# pg_regress 15 (and pg_isolation_regress) prints one line per suite or spec:
#   "test setup                        ... ok           12 ms"     (serial)
#   "     models                       ... FAILED       30 ms"     (parallel group)
#   results are "ok", "FAILED", "FAILED (test process exited ...)" or
#   "failed (ignored)"; pg_regress counts an ignored failure as success.
# pg_regress 16+ prints TAP instead ("ok 1 - setup", "not ok 2 - models"),
# which is recognised too.
rp=0
rf=0
failed_suites=()
re_pg15='^(test |     )[[:space:]]*([^[:space:]]+)[[:space:]]+\.\.\.[[:space:]]+(ok|FAILED|failed \(ignored\))'
re_tap='^(not )?ok [0-9]+[[:space:]]+[-+][[:space:]]+([^[:space:]]+)'
while IFS= read -r line; do
	if [[ $line =~ $re_pg15 ]]; then
		if [[ ${BASH_REMATCH[3]} == FAILED ]]; then
			rf=$((rf + 1))
			failed_suites+=("${BASH_REMATCH[2]}")
		else
			rp=$((rp + 1))
		fi
	elif [[ $line =~ $re_tap ]]; then
		if [[ -n ${BASH_REMATCH[1]} ]]; then
			rf=$((rf + 1))
			failed_suites+=("${BASH_REMATCH[2]}")
		else
			rp=$((rp + 1))
		fi
	fi
done <"$log"
passed=$((passed + rp))
failed=$((failed + rf))
echo "regression suites: $rp passed, $rf failed${failed_suites[*]:+ (${failed_suites[*]})}"
if ((regress_rc != 0 && rf == 0)); then
	fail "make installcheck (exit status $regress_rc)"
fi
if ((regress_rc != 0)); then
	# pg_regress names its diff file (regression.diffs in the output
	# directory; output_iso/ for the isolation specs).
	mapfile -t diffs < <(sed -n 's/^file "\(.*regression\.diffs\)".*/\1/p' "$log")
	if ((${#diffs[@]} == 0)); then
		for f in results/regression.diffs regression.diffs output_iso/regression.diffs; do
			[[ -f $f ]] && diffs+=("$f")
		done
	fi
	for f in "${diffs[@]}"; do
		if [[ -s $f ]]; then
			echo "--- $f (first 200 lines)"
			head -n 200 "$f"
			echo "---"
		fi
	done
fi

# --- 5. extra test scripts -------------------------------------------------------
shopt -s nullglob
scripts=(test/sql_*.sh test/t_*.sh)
shopt -u nullglob
if ((${#scripts[@]} > 0)); then
	section "test scripts"
	export ATTRIB_ROOT=$root
	for s in "${scripts[@]}"; do
		log=$work/$(basename "$s").log
		timeout "${ATTRIB_SCRIPT_TIMEOUT:-1800}" bash "$s" </dev/null >"$log" 2>&1 &
		child=$!
		wait "$child"
		rc=$?
		child=""
		if ((rc == 0)); then
			pass "$s"
		else
			fail "$s (exit status $rc)" "$log" 80
		fi
	done
fi

# A backend that crashed shows in the server log even if no test noticed.
crashes=$(grep -E 'terminated by signal|PANIC:|TRAP:' "$ATTRIB_PGLOG" 2>/dev/null | head -n 20)
if [[ -n $crashes ]]; then
	printf '%s\n' "$crashes" >"$work/crashes.log"
	fail "server log shows a crash" "$work/crashes.log" 20
fi

# --- 6. stop ---------------------------------------------------------------------
section "stop"
if pg_stop; then
	echo "cluster stopped"
else
	fail "cluster stop"
fi

finish
