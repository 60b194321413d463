#!/usr/bin/env bash
#
# test/fuzz/run.sh — build and run the core's libFuzzer targets (the long fuzz
# suite; test/t_fuzz.sh is its short CI run).
#
#   bash test/fuzz/run.sh [SECONDS_PER_TARGET [TARGET...]]     (default 300 s, all)
#
# Every test/fuzz/fuzz_*.c is a target: built with clang
# -fsanitize=fuzzer,address,undefined (UBSan not recoverable) against every
# src/core/*.c into a directory of its own under test/fuzz/build/ (gitignored),
# then run for the given time, FUZZ_JOBS targets at a time (default: the number
# of CPUs), on its working corpus test/fuzz/build/corpus/<target>/ (kept
# between runs and shared by concurrent runs) seeded from the
# committed test/fuzz/corpus/<target>/, with test/fuzz/<target>.dict as its
# dictionary when there is one.  A new target needs nothing but its .c file
# and a few seeds (add them to make_corpus.c, run make_corpus.sh).
#
# The data-driven models' fitted values have fuzz_markov_decode.c and
# fuzz_shapley_decode.c (the byte forms: round trips, merging, the channel
# tables, weights and exact splits of small journeys; fuzz_dd.h) and
# fuzz_model_text.c (both text parsers).
#
# Prints one line per target (executions, seconds, executions per second,
# corpus units, result) and writes them to test/fuzz/build/summary.txt.  A
# crash, sanitizer report, failed check, timeout or out-of-memory leaves the
# input in test/fuzz/build/artifacts/<target>-crash-... and keeps the run's
# binaries; the report names the command that reproduces it, e.g.
#   test/fuzz/build/run.XXXXXX/<target> test/fuzz/build/artifacts/<target>-crash-...
# Exit status 0 when every target ran clean, 1 otherwise.
#
# Environment: FUZZ_JOBS, FUZZ_MAX_LEN (libFuzzer -max_len, default 4096),
# FUZZ_EXTRA (more libFuzzer flags), CC (default clang).

set -uo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd) || exit 1
cd "$root" || exit 1

secs=${1:-300}
shift $(($# > 0 ? 1 : 0))
if ! [[ $secs =~ ^[0-9]+$ ]] || ((secs < 1)); then
	echo "usage: test/fuzz/run.sh [SECONDS_PER_TARGET [TARGET...]]" >&2
	exit 2
fi

# Binaries, objects and logs go to a directory of this run, so runs in the same
# working tree (several engineers, or test/run.sh next to a long run) never
# overwrite each other's binaries; the working corpus and the artifacts are
# shared.  The run directory is removed after a clean run and kept otherwise.
top=test/fuzz/build
mkdir -p "$top/corpus" "$top/artifacts"
build=$(mktemp -d "$top/run.XXXXXX") || exit 1
mkdir -p "$build/obj"

if (($# > 0)); then
	targets=("$@")
else
	shopt -s nullglob
	targets=()
	for f in test/fuzz/fuzz_*.c; do
		targets+=("$(basename "$f" .c)")
	done
	shopt -u nullglob
fi
if ((${#targets[@]} == 0)); then
	echo "fuzz: no targets" >&2
	exit 1
fi

cc=${CC:-clang}
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "fuzz: $cc not found (apt-get install clang)" >&2
	exit 1
fi
san=(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
cflags=(-std=c11 -g -O1 -Wall -Wextra -Isrc/core "${san[@]}")

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# clang 14's ASan shadow layout breaks with the 32-bit mmap randomisation that
# newer kernels allow; run sanitized binaries without ASLR there (as unit/run.sh).
run_prefix=()
if [[ $(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0) -gt 28 ]] &&
	setarch "$(uname -m)" -R true 2>/dev/null; then
	run_prefix=(setarch "$(uname -m)" -R)
fi

# libFuzzer's runtime comes with clang on Debian 12, in libclang-rt-14-dev
# elsewhere: install it once if a trivial fuzzer does not link.
probe=$build/libfuzzer-probe
if ! printf 'int LLVMFuzzerTestOneInput(const char *d, long n) { (void) d; return (int) n * 0; }\n' |
	"$cc" -x c -fsanitize=fuzzer -o "$probe" - >/dev/null 2>&1; then
	if ((EUID == 0)) && command -v apt-get >/dev/null 2>&1; then
		echo "fuzz: libFuzzer does not link; apt-get install -y libclang-rt-14-dev"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q libclang-rt-14-dev >"$build/apt.log" 2>&1 ||
			{ apt-get update -q >>"$build/apt.log" 2>&1 &&
				DEBIAN_FRONTEND=noninteractive apt-get install -y -q libclang-rt-14-dev >>"$build/apt.log" 2>&1; }
	fi
	if ! printf 'int LLVMFuzzerTestOneInput(const char *d, long n) { (void) d; return (int) n * 0; }\n' |
		"$cc" -x c -fsanitize=fuzzer -o "$probe" - >/dev/null 2>&1; then
		echo "fuzz: $cc cannot link -fsanitize=fuzzer (install libclang-rt-14-dev)" >&2
		exit 1
	fi
fi
rm -f "$probe"

# --- build: the core once (fuzzer-no-link), then each target -----------------
echo "fuzz: building ${#targets[@]} targets with $($cc --version | head -n 1)"
log=$build/build.log
: >"$log"
objs=()
for src in src/core/*.c; do
	obj=$build/obj/$(basename "$src" .c).o
	if ! "$cc" "${cflags[@]}" -fsanitize=fuzzer-no-link -c -o "$obj" "$src" >>"$log" 2>&1; then
		echo "fuzz: FAILED to compile $src" >&2
		tail -n 40 "$log" >&2
		exit 1
	fi
	objs+=("$obj")
done
for t in "${targets[@]}"; do
	if [[ ! -f test/fuzz/$t.c ]]; then
		echo "fuzz: no target test/fuzz/$t.c" >&2
		exit 1
	fi
	if ! "$cc" "${cflags[@]}" -fsanitize=fuzzer -o "$build/$t" "test/fuzz/$t.c" "${objs[@]}" -lm \
		>>"$log" 2>&1; then
		echo "fuzz: FAILED to build $t" >&2
		tail -n 40 "$log" >&2
		exit 1
	fi
done

# --- run -------------------------------------------------------------------------
# run_one TARGET: writes $build/<target>.log and $build/<target>.result
run_one() {
	local t=$1 dict=() rc start end execs units
	mkdir -p "$top/corpus/$t"
	[[ -f test/fuzz/$t.dict ]] && dict=("-dict=test/fuzz/$t.dict")
	start=$(date +%s)
	# shellcheck disable=SC2086  # FUZZ_EXTRA is a list of flags
	"${run_prefix[@]}" "$build/$t" -max_total_time="$secs" -print_final_stats=1 \
		-timeout=30 -rss_limit_mb=2048 -max_len="${FUZZ_MAX_LEN:-4096}" \
		-artifact_prefix="$top/artifacts/$t-" "${dict[@]}" ${FUZZ_EXTRA:-} \
		"$top/corpus/$t" "test/fuzz/corpus/$t" >"$build/$t.log" 2>&1
	rc=$?
	end=$(date +%s)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/$t.log" | tail -n 1)
	units=$(find "$top/corpus/$t" -type f | wc -l)
	printf '%s %s %s %s %s\n' "$t" "${execs:-0}" "$((end - start))" "$units" "$rc" >"$build/$t.result"
}

jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
((jobs >= 1)) || jobs=1
echo "fuzz: running each target for $secs s, $jobs at a time"
running=0
for t in "${targets[@]}"; do
	if ((running >= jobs)); then
		wait -n
		running=$((running - 1))
	fi
	run_one "$t" &
	running=$((running + 1))
done
wait

bad_re='ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|FUZZ CHECK FAILED'
failed=0
total=0
bad=()
summary=$(printf '%-22s %12s %7s %9s %7s  %s' target executions seconds "exec/s" units result)
for t in "${targets[@]}"; do
	if ! read -r _ execs took units rc <"$build/$t.result" 2>/dev/null; then
		execs=0 took=0 units=0 rc=missing
	fi
	total=$((total + execs))
	result=ok
	if [[ $rc != 0 ]] || grep -qE "$bad_re" "$build/$t.log"; then
		result="FAILED (exit $rc)"
		failed=$((failed + 1))
		bad+=("$t")
	fi
	summary+=$'\n'$(printf '%-22s %12s %7s %9s %7s  %s' "$t" "$execs" "$took" \
		"$((took > 0 ? execs / took : execs))" "$units" "$result")
done
summary+=$'\n'$(printf '%-22s %12s' total "$total")
printf '%s\n' "$summary" | tee "$build/summary.txt"
cp "$build/summary.txt" "$top/summary.txt"
for t in "${bad[@]}"; do
	echo
	echo "--- $t: the report ($build/$t.log)"
	grep -nE -A 30 "$bad_re|==[0-9]+==ERROR" "$build/$t.log" | head -n 60
	grep -o "Test unit written to .*" "$build/$t.log" | sed "s|Test unit written to |reproduce: $build/$t |"
done
if ((failed > 0)); then
	echo "fuzz: $failed of ${#targets[@]} targets FAILED (binaries and logs kept in $build)"
	exit 1
fi
rm -rf "$build"
echo "fuzz: ${#targets[@]} targets, $total executions, no crash"
exit 0
