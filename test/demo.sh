#!/usr/bin/env bash
#
# test/demo.sh — see attrib work in a minute: installs what is missing, builds
# and installs the extension, starts a throwaway cluster, creates the
# extension, runs test/demo.sql through psql and stops the cluster again.
#
#   bash test/demo.sh          (from any directory; as root on Debian 12)

set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$root"
# shellcheck source-path=SCRIPTDIR/..
source test/lib/pgcluster.sh

log=$(mktemp "${TMPDIR:-/tmp}/attrib-demo.XXXXXX")
trap 'pg_cleanup; rm -f "$log"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pg_ensure_packages

if ! { make -j2 && make install; } >"$log" 2>&1; then
	tail -n 60 "$log" >&2
	echo "demo: building attrib failed (output above)" >&2
	exit 1
fi

# shellcheck disable=SC2119  # no extra postgresql.conf lines
pg_start

psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION attrib' >"$log" 2>&1 || {
	cat "$log" >&2
	echo "demo: CREATE EXTENSION attrib failed" >&2
	exit 1
}

if [[ ! -f test/demo.sql ]]; then
	echo "demo: test/demo.sql is not written yet; the extension is installed and" \
		"CREATE EXTENSION attrib worked."
	exit 0
fi

status=0
psql -X -f test/demo.sql || status=$?
exit "$status"
