#!/usr/bin/env bash
#
# test/unit/run.sh — build and run the core's standalone unit tests.
#
# Every test/unit/test_*.c is compiled together with every src/core/*.c, twice:
#   test/unit/build/<name>       gcc   -std=c11 -O1 -g -Wall -Wextra -Werror
#   test/unit/build/<name>-asan  clang -std=c11 -O1 -g with ASan + UBSan
# and each binary is run; test/unit/money_ref.py (if present) then checks
# build/test_money against a Python reference.  One PASS/FAIL line per program.
#
# Usage: test/unit/run.sh [TOTALS_FILE]
#   TOTALS_FILE, if given, receives one line "PASSED FAILED" (two integers).
# Exit status: 0 if everything passed, 1 otherwise.
# Extra compiler flags for both builds may be given in UNIT_CFLAGS.

set -uo pipefail

totals_file=${1:-}
if [[ -n $totals_file && $totals_file != /* ]]; then
	totals_file=$PWD/$totals_file
fi

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." || exit 1
build=test/unit/build
mkdir -p "$build"

passed=0
failed=0

finish() {
	echo "unit: $passed passed, $failed failed"
	if [[ -n $totals_file ]]; then
		echo "$passed $failed" >"$totals_file"
	fi
	((failed == 0))
	exit $?
}

pass() {
	passed=$((passed + 1))
	echo "PASS $1"
}

# fail NAME LOGFILE — report, and show the end of what the step printed.
fail() {
	failed=$((failed + 1))
	echo "FAIL $1"
	if [[ -s ${2:-} ]]; then
		tail -n 60 "$2" | sed 's/^/    /'
	fi
}

shopt -s nullglob
tests=(test/unit/test_*.c)
core=(src/core/*.c)
shopt -u nullglob

if ((${#tests[@]} == 0)); then
	echo "unit: no test/unit/test_*.c yet"
	finish
fi

read -ra extra <<<"${UNIT_CFLAGS:-}"
common=(-std=c11 -O1 -g -Isrc/core -Itest/unit "${extra[@]}")
gcc_flags=(-Wall -Wextra -Werror)
asan_flags=("-fsanitize=address,undefined" -fno-omit-frame-pointer -fno-sanitize-recover=all)

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# clang 14's ASan shadow layout breaks with the 32-bit mmap randomisation that
# newer kernels allow; run sanitized binaries without ASLR there.
asan_run=()
if [[ $(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0) -gt 28 ]] &&
	setarch "$(uname -m)" -R true 2>/dev/null; then
	asan_run=(setarch "$(uname -m)" -R)
fi

TIMEOUT=${UNIT_TIMEOUT:-300}

# build_and_run LABEL COMPILER OUTPUT TEST_SOURCE FLAGS... -- RUN_PREFIX...
build_and_run() {
	local label=$1 cc=$2 out=$3 src=$4 log=$3.log
	shift 4
	local -a flags=() prefix=()
	while (($# > 0)) && [[ $1 != -- ]]; do
		flags+=("$1")
		shift
	done
	(($# > 0)) && shift
	prefix=("$@")

	if ! command -v "$cc" >/dev/null 2>&1; then
		echo "$cc not found" >"$log"
		fail "$label" "$log"
		return
	fi
	rm -f "$out"
	if ! "$cc" "${common[@]}" "${flags[@]}" -o "$out" "$src" "${core[@]}" -lm >"$log" 2>&1; then
		fail "$label (build)" "$log"
		return
	fi
	if timeout --foreground "$TIMEOUT" "${prefix[@]}" "./$out" >>"$log" 2>&1; then
		pass "$label"
	else
		fail "$label" "$log"
	fi
}

for src in "${tests[@]}"; do
	name=$(basename "$src" .c)
	build_and_run "unit/$name (gcc)" gcc "$build/$name" "$src" "${gcc_flags[@]}" --
	build_and_run "unit/$name (clang asan+ubsan)" clang "$build/$name-asan" "$src" \
		"${asan_flags[@]}" -- "${asan_run[@]}"
done

if [[ -f test/unit/money_ref.py ]]; then
	log=$build/money_ref.log
	if [[ ! -x $build/test_money ]]; then
		echo "$build/test_money was not built" >"$log"
		fail "unit/money_ref.py" "$log"
	elif timeout --foreground "$TIMEOUT" python3 test/unit/money_ref.py "$build/test_money" >"$log" 2>&1; then
		pass "unit/money_ref.py"
	else
		fail "unit/money_ref.py" "$log"
	fi
fi

finish
