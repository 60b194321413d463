#!/usr/bin/env bash
#
# test/bench/check_plain_sql.sh — the benchmark's plain SQL (plain_sql.sql) must
# give exactly attrib's credits: for each scale of the CRM generator (default 1)
# it runs attrib.refresh() and the plain SQL and compares the credit of every
# (opportunity, model, touch) — credit_cache keeps only touches with weight > 0,
# a missing row counts as 0 — and the weights (to 1e-12).  Prints one line per
# model; exit status 1 if any credit differs, with the differing journeys shown.
#
#   bash test/bench/check_plain_sql.sh            scale 1 (about 10^4 touches)
#   bash test/bench/check_plain_sql.sh 1 10       more scales
#   BENCH_NO_BUILD=1 ...                          use the installed extension as is

set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
cd "$root"
# shellcheck source-path=SCRIPTDIR/../..
source test/lib/pgcluster.sh

scales=("$@")
((${#scales[@]} > 0)) || scales=(1)

log=$(mktemp "${TMPDIR:-/tmp}/attrib-check-plain.XXXXXX")
trap 'pg_cleanup; rm -f "$log"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pg_ensure_packages
if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
	if ! { make -j2 && make install; } >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		echo "check_plain_sql: building attrib failed" >&2
		exit 1
	fi
fi
# shellcheck disable=SC2119
ATTRIB_PG_CRON=0 pg_start "work_mem = 64MB" "jit = off"

psqlq() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
psqlq -c 'CREATE EXTENSION attrib'
psqlq -f test/bench/plain_sql.sql 2>/dev/null

status=0
for scale in "${scales[@]}"; do
	psqlq -v scale="$scale" -f test/gen/generate.sql
	psqlq -c 'SELECT attrib.refresh()' >/dev/null
	echo "scale $scale: $(psqlq -At -c "SELECT count(*) || ' touches, ' || (SELECT count(*) FROM attrib.opportunities) || ' opportunities' FROM attrib.touches")"
	psqlq <<'EOF'
CREATE TEMP TABLE cmp AS
WITH a AS (
	SELECT account_id, opportunity_id, model, touch_index, touch_id, weight, credit
	FROM attrib.credit_cache WHERE touch_index > 0
)
SELECT account_id, opportunity_id, model, touch_id,
	   coalesce(a.touch_index, p.touch_index) AS touch_index,
	   a.touch_id IS NOT NULL AS in_attrib, p.touch_id IS NOT NULL AS in_plain,
	   coalesce(a.weight, 0) AS a_weight, coalesce(p.weight, 0) AS p_weight,
	   coalesce(a.credit, 0) AS a_credit, coalesce(p.credit, 0) AS p_credit
FROM a FULL JOIN bench.plain_credits p USING (account_id, opportunity_id, model, touch_id);

SELECT model, count(*) FILTER (WHERE in_plain) AS touches,
	   count(*) FILTER (WHERE in_attrib) AS credited_by_attrib,
	   count(*) FILTER (WHERE NOT in_plain) AS only_in_attrib,
	   count(*) FILTER (WHERE a_credit <> p_credit) AS credit_diffs,
	   count(*) FILTER (WHERE abs(a_weight - p_weight) > 1e-12) AS weight_diffs,
	   CASE WHEN count(*) FILTER (WHERE a_credit <> p_credit OR NOT in_plain
								  OR abs(a_weight - p_weight) > 1e-12) = 0
			THEN 'same' ELSE 'DIFFERENT' END AS result
FROM cmp GROUP BY model ORDER BY model;
EOF
	bad=$(psqlq -At <<'EOF'
SELECT count(*)
FROM (SELECT account_id, opportunity_id, model, touch_id, weight, credit
	  FROM attrib.credit_cache WHERE touch_index > 0) a
FULL JOIN bench.plain_credits p USING (account_id, opportunity_id, model, touch_id)
WHERE p.touch_id IS NULL OR coalesce(a.credit, 0) <> coalesce(p.credit, 0)
   OR abs(coalesce(a.weight, 0) - coalesce(p.weight, 0)) > 1e-12;
EOF
)
	if [[ $bad != 0 ]]; then
		status=1
		echo "scale $scale: $bad (opportunity, model, touch) rows differ; the journeys concerned:"
		psqlq <<'EOF'
WITH d AS (
	SELECT account_id, opportunity_id, model, touch_id, coalesce(a.credit, 0) AS a_credit,
		   coalesce(p.credit, 0) AS p_credit
	FROM (SELECT account_id, opportunity_id, model, touch_id, weight, credit
		  FROM attrib.credit_cache WHERE touch_index > 0) a
	FULL JOIN bench.plain_credits p USING (account_id, opportunity_id, model, touch_id)
	WHERE p.touch_id IS NULL OR coalesce(a.credit, 0) <> coalesce(p.credit, 0)
	   OR abs(coalesce(a.weight, 0) - coalesce(p.weight, 0)) > 1e-12
)
-- every touch of each differing (opportunity, model): weight × amount in minor
-- units shows the remainders the largest-remainder rule ranks
SELECT p.opportunity_id AS opportunity, p.model, j.amount, p.touch_index AS i, p.touch_id,
	   round(p.weight::numeric, 12) AS weight,
	   round(p.weight::numeric * j.amount * 10::numeric ^ attrib.currency_scale(j.currency), 6) AS share_units,
	   coalesce(c.credit, 0) AS attrib_credit, p.credit AS plain_credit,
	   CASE WHEN coalesce(c.credit, 0) <> p.credit THEN '<--' ELSE '' END AS diff
FROM (SELECT DISTINCT account_id, opportunity_id, model FROM d) k
JOIN bench.plain_credits p USING (account_id, opportunity_id, model)
JOIN attrib.journey_cache j USING (account_id, opportunity_id)
LEFT JOIN attrib.credit_cache c USING (account_id, opportunity_id, model, touch_id)
ORDER BY p.opportunity_id, p.model, p.touch_index;
EOF
	fi
done
if ((status == 0)); then
	echo "check_plain_sql: the plain SQL gives attrib's credits exactly (scales ${scales[*]})"
else
	cat <<'EOF'
check_plain_sql: credits differ.  The plain SQL splits the exact rational weights of
SPEC §3 (integer numerators over one denominator per journey); where the exact
remainders of several touches tie, SPEC §4 gives the extra minor units to the
earlier touches.  A difference where share_units show such a tie means attrib broke
the tie by the binary rounding of its double weights instead.
EOF
fi
exit "$status"
