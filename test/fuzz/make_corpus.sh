#!/usr/bin/env bash
#
# test/fuzz/make_corpus.sh — (re)generate the committed seed corpus of the fuzz
# targets, test/fuzz/corpus/<target>/, with test/fuzz/make_corpus.c built
# against the current core (so byte-form seeds follow the current formats).
# Run it after changing a byte format; commit what changes.  The seeds are a
# few small files per target; what the fuzzer finds on top of them stays in
# test/fuzz/build/corpus/ (not committed).
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.."
mkdir -p test/fuzz/build
cc=${CC:-cc}
"$cc" -std=c11 -O1 -g -Wall -Wextra -Isrc/core -o test/fuzz/build/make_corpus \
	test/fuzz/make_corpus.c src/core/*.c -lm
rm -rf test/fuzz/corpus
test/fuzz/build/make_corpus test/fuzz/corpus
for d in test/fuzz/corpus/*/; do
	printf '%-28s %3d files %6d bytes\n' "$(basename "$d")" "$(find "$d" -type f | wc -l)" \
		"$(cat "$d"/* | wc -c)"
done
