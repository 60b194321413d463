#!/usr/bin/env bash
#
# test/t_fuzz.sh — the short run of the fuzz suite for CI (test/run.sh runs it):
# every libFuzzer target of test/fuzz/ for ATTRIB_FUZZ_SECONDS seconds
# (default 20), two at a time, from the committed seed corpus plus what earlier
# runs found.  Fails on any crash, sanitizer report, failed property check,
# timeout or out-of-memory; the input is kept in test/fuzz/build/artifacts/.
# The long run is `bash test/fuzz/run.sh [seconds-per-target]` (default 300).
set -uo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd) || exit 1
exec bash "$root/test/fuzz/run.sh" "${ATTRIB_FUZZ_SECONDS:-20}"
