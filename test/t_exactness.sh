#!/usr/bin/env bash
#
# test/t_exactness.sh — exactness at scale (issue 6): over every generated
# journey and every additive model, credits sum to the amount exactly, in the
# deal currency at its scale and in the reporting currency, every weight is in
# [0, 1], and every credit has the amount's sign (or is 0).
#
#   bash test/t_exactness.sh [--scale N] [--keep]     (test/run.sh: scale 1)
#   ATTRIB_EXACT_SCALE=120 bash test/t_exactness.sh   (about 10^6 touches)
#
# It generates the CRM with test/gen/generate.sql at the scale (1: about 10^4
# touches, 120: about 10^6), registers option variants next to the built-in
# models — custom weights (with a stage), exclude_channels, collapse_repeats,
# both, time_decay half lives (days and "36 hours"), custom direct_channels,
# Markov of orders 1 and 3 and Shapley (with exclude_channels) fitted over
# the data, plus one non-additive model that must be left out — and runs
# attrib.refresh().  Then, for every stored journey and every enabled additive
# model of attrib.model_registry:
#
#   A  stored: the credits refresh stored (attrib.credit_split, and credits()
#      for the data-driven models) sum to the amount and to the reporting
#      amount exactly, for every (journey, model), none missing;
#   B  direct: attrib.credits() called again on the stored journey, once with
#      the amount at its currency's scale and once with the reporting amount
#      at the reporting scale: one row per touch, sums exact when a touch is
#      credited, all 0 when none is (refresh books that unattributed), weights
#      sum to 1 (1e-9);
#   C  awkward amounts: each journey's weights under each model re-split with
#      attrib.split_amount over 0.01, 0.07, 99999999999.99, -19.99, 7 (scale
#      0), 0.005 (scale 3) and a 39-digit negative at scale 9; and credits()
#      once more per (journey, model) with one of those amounts (by journey),
#      so the credits() path sees every one of them too.
#
# Per row: weight finite and in [0, 1], credit at the expected scale, of the
# amount's sign or 0, and 0 when the weight is 0.  Sums are numeric, so exact.
# Every (journey, model) result goes to a temporary table (memory stays
# bounded: each credits() call is one journey), which is summed up; offenders,
# if any, are listed.  Prints the number of journeys, touches, models,
# (journey, model) pairs and credit rows checked, and the time of each step.
#
# The scratch database attrib_exactness is dropped at the end unless --keep.
# Exit 0/1.

set -uo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd) || exit 1
cd "$root" || exit 1

scale=${ATTRIB_EXACT_SCALE:-1}
keep=0
while (($# > 0)); do
	case $1 in
	--scale) scale=${2:-}; shift 2 ;;
	--scale=*) scale=${1#--scale=}; shift ;;
	--keep) keep=1; shift ;;
	*) echo "usage: test/t_exactness.sh [--scale N] [--keep]" >&2; exit 2 ;;
	esac
done
if ! [[ $scale =~ ^[0-9]+$ ]] || ((scale < 1)); then
	echo "t_exactness: --scale takes a positive integer" >&2
	exit 2
fi

# shellcheck source-path=SCRIPTDIR/..
source test/lib/tscript.sh
ts_init exactness
db=attrib_exactness
ts_db "$db"
# JIT-compiling these statements (with attrib's bitcode inlined) costs seconds
# per statement at small scales and saves nothing measurable at large ones.
# work_mem as in test/bench: with the default 4 MB the refresh's journey
# statement re-reads a spilled sub-plan per row at 10^6 touches and does not
# finish in reasonable time (the refresh finding of test/bench/results.md,
# which shows at 10^7 with 64 MB); ATTRIB_EXACT_WORK_MEM overrides it.
export PGOPTIONS="${PGOPTIONS:-} -c jit=off -c work_mem=${ATTRIB_EXACT_WORK_MEM:-64MB}"
if ((keep)); then
	ts_dbs=()		# keep the database for inspection
	echo "keeping database $db"
fi

now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
t_all=$(now)

# --- the data ----------------------------------------------------------------------
t0=$(now)
if ! psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "SET client_min_messages = warning" \
	-c "CREATE EXTENSION attrib" >"$ts_tmp/setup.log" 2>&1 ||
	! psql -X -q -v ON_ERROR_STOP=1 -v scale="$scale" -d "$db" -f test/gen/generate.sql \
		>>"$ts_tmp/setup.log" 2>&1; then
	cat "$ts_tmp/setup.log"
	ts_fail "generating the CRM at scale $scale"
	ts_done
fi
echo "generated scale $scale in $(took "$t0") s"

# option variants of the rule-based models, and the data-driven ones
if ! ts_sql "$db" "INSERT INTO attrib.model_config (name, base_model, options) VALUES
	('markov', 'markov', '{}'),
	('markov_o3', 'markov', '{\"order\": 3, \"collapse_repeats\": true}'),
	('shapley', 'shapley', '{}'),
	('shapley_excl', 'shapley', '{\"exclude_channels\": [\"direct\", \"sales_email\"]}'),
	('custom_stages', 'custom',
	 '{\"weights\": {\"FT\": 0.25, \"LC\": 0.2, \"OC\": 0.2, \"stage:SQL\": 0.1, \"middle\": 0.25}}'),
	('custom_ends', 'custom', '{\"weights\": {\"FT\": 0.5, \"LT\": 0.5}}'),
	('linear_excl', 'linear', '{\"exclude_channels\": [\"direct\", \"paid_search\", \"sales_call\"]}'),
	('w_shaped_collapse', 'w_shaped', '{\"collapse_repeats\": true}'),
	('u_shaped_both', 'u_shaped', '{\"collapse_repeats\": true, \"exclude_channels\": [\"email\"]}'),
	('time_decay_3d', 'time_decay', '{\"half_life\": 3}'),
	('time_decay_36h', 'time_decay', '{\"half_life\": \"36 hours\", \"collapse_repeats\": true}'),
	('time_decay_raw', 'time_decay', '{\"half_life\": 7, \"normalize\": false}'),
	('lnd_direct', 'last_non_direct', '{\"direct_channels\": [\"direct\", \"organic_search\", \"referral\"]}')" \
	>"$ts_tmp/models.log" 2>&1; then
	cat "$ts_tmp/models.log"
	ts_fail "registering the model variants"
	ts_done
fi

t0=$(now)
if ! refresh=$(ts_sql "$db" "SELECT opportunities || ' ' || credit_rows FROM attrib.refresh()" 2>&1); then
	echo "$refresh"
	ts_fail "attrib.refresh() at scale $scale"
	ts_done
fi
echo "refresh: $refresh (journeys, credit rows) in $(took "$t0") s"

read -r journeys touches models dd <<<"$(ts_sql "$db" "SELECT
	(SELECT count(*) FROM attrib.journey_cache),
	(SELECT coalesce(sum(attrib.journey_length(journey)), 0) FROM attrib.journey_cache),
	(SELECT count(*) FROM attrib.model_registry WHERE enabled AND additive),
	(SELECT count(*) FROM attrib.model_registry WHERE enabled AND additive AND data_driven)" |
	tr '|' ' ')"
echo "checking $journeys journeys ($touches touches in their windows) under $models additive models ($dd data-driven)"
ts_check "the registry has the variants and the fitted models" \
	"$(ts_sql "$db" "SELECT count(*) FILTER (WHERE additive) || ' ' || count(*) FILTER (WHERE NOT additive)
		|| ' ' || (SELECT count(*) FROM attrib.fitted_models)
		FROM attrib.model_registry WHERE enabled")" "26 2 4"
if ((journeys == 0)); then
	ts_fail "no journey to check"
	ts_done
fi

# --- A: what refresh stored ------------------------------------------------------------
t0=$(now)
a=$(ts_sql "$db" "
WITH s AS (SELECT attrib.currency_scale(e.reporting_currency) AS rscale FROM attrib.effective_settings e),
m AS (SELECT r.name FROM attrib.model_registry r WHERE r.enabled AND r.additive),
g AS (
	SELECT c.account_id, c.opportunity_id, c.model, count(*) AS n,
		   sum(c.credit) AS total, sum(c.credit_reporting) AS rtotal, sum(c.weight) AS wsum,
		   bool_or(c.touch_index = 0) AS unattributed,
		   count(*) FILTER (WHERE NOT (c.weight >= 0 AND c.weight <= 1) OR c.weight = 'NaN'
				OR scale(c.credit) <> j.sc
				OR scale(c.credit_reporting) <> s.rscale
				OR sign(c.credit) NOT IN (0, sign(j.amount))
				OR sign(c.credit_reporting) NOT IN (0, sign(j.amount_reporting))
				OR (c.touch_index = 0 AND (c.credit <> j.amount OR c.credit_reporting <> j.amount_reporting))
				OR (c.weight = 0 AND (c.credit <> 0 OR c.credit_reporting <> 0))) AS bad
	FROM attrib.credit_cache c
	JOIN m ON m.name = c.model
	JOIN (SELECT jc.*, attrib.currency_scale(jc.currency) AS sc FROM attrib.journey_cache jc) j
		USING (account_id, opportunity_id)
	CROSS JOIN s
	GROUP BY 1, 2, 3)
SELECT count(*) || ' ' || coalesce(sum(g.n), 0)
	|| ' ' || count(*) FILTER (WHERE g.n IS NULL)
	|| ' ' || count(*) FILTER (WHERE g.total <> j.amount OR g.rtotal <> j.amount_reporting)
	|| ' ' || count(*) FILTER (WHERE NOT g.unattributed AND abs(g.wsum - 1) > 1e-9)
	|| ' ' || coalesce(sum(g.bad), 0)
	|| ' ' || count(*) FILTER (WHERE g.unattributed)
	|| ' ' || (SELECT count(*) FROM attrib.credit_cache c
			   WHERE c.model NOT IN (SELECT name FROM m)
				 AND c.model NOT IN (SELECT name FROM attrib.model_registry WHERE enabled))
FROM attrib.journey_cache j
CROSS JOIN m
LEFT JOIN g ON g.account_id = j.account_id AND g.opportunity_id = j.opportunity_id AND g.model = m.name" 2>&1)
read -r a_pairs a_rows a_missing a_sum a_wsum a_bad a_unattr a_stray <<<"$a"
echo "A stored: $a_pairs (journey, model) pairs, $a_rows credit rows ($a_unattr pairs unattributed) in $(took "$t0") s"
ts_check "A: every (journey, additive model) has stored credits" "${a_missing:-$a}" 0
ts_check "A: stored credits sum to the amount and the reporting amount exactly" "${a_sum:-?}" 0
ts_check "A: stored weights sum to 1" "${a_wsum:-?}" 0
ts_check "A: every stored row in range, at its scale, of the amount's sign" "${a_bad:-?}" 0
ts_check "A: no credits of models that are not enabled" "${a_stray:-?}" 0
ts_check "A: pairs = journeys x additive models" "${a_pairs:-?}" "$((journeys * models))"

# --- B and C: credits() again, awkward amounts -------------------------------------------
# check_family LABEL MODEL_FILTER CREDITS_PREFIX OPTIONS
#   per (journey, model): credits() with the amount, with the reporting amount and with one
#   awkward amount; split_amount of the weights over every awkward amount.  Results go to
#   the temporary table res (one row per pair).
awkward="(VALUES (1, 0.01::numeric, 2), (2, 0.07, 2), (3, 99999999999.99, 2), (4, -19.99, 2),
	(5, 7, 0), (6, 0.005, 3), (7, -123456789012345678901234567890.123456789, 9))"
family_sql() {
	local label=$1 filter=$2 call=$3 opts=$4
	cat <<SQL
INSERT INTO res
WITH s AS (SELECT attrib.currency_scale(e.reporting_currency) AS rscale,
				  e.direct_channels || coalesce((SELECT array_agg(ch.channel) FROM attrib.src_channels ch
												 WHERE ch.is_direct), '{}') AS direct
		   FROM attrib.effective_settings e),
m AS (SELECT r.name, r.base_model, $opts AS opts
	  FROM attrib.model_registry r, s WHERE r.enabled AND r.additive AND $filter),
a AS (SELECT * FROM $awkward a(k, amt, sc))
SELECT '$label', j.opportunity_id, m.name, attrib.journey_length(j.journey),
	   x.n, x.wsum, x.total = j.amount, x.bad,
	   y.n, y.total = j.amount_reporting, y.bad + y.wdiff,
	   z.n, z.total = za.amt, z.bad,
	   coalesce(t.parts, 0), coalesce(t.bad, 0),
	   coalesce(x.total, 0) = 0 AND coalesce(y.total, 0) = 0 AND coalesce(z.total, 0) = 0
FROM (SELECT jc.*, attrib.currency_scale(jc.currency) AS sc FROM attrib.journey_cache jc) j
CROSS JOIN m
CROSS JOIN s
LEFT JOIN attrib.fitted_models f ON f.model = m.name
CROSS JOIN LATERAL (
	SELECT count(*) AS n, sum(c.credit) AS total, sum(c.weight) AS wsum,
		   count(*) FILTER (WHERE NOT (c.weight >= 0 AND c.weight <= 1) OR c.weight = 'NaN'
				OR scale(c.credit) <> j.sc
				OR sign(c.credit) NOT IN (0, sign(j.amount))
				OR (c.weight = 0 AND c.credit <> 0)) AS bad,
		   array_agg(c.weight ORDER BY c.touch_index) AS w
	FROM $call, j.amount, m.opts, j.sc) c) x
CROSS JOIN LATERAL (
	SELECT count(*) AS n, sum(c.credit) AS total,
		   count(*) FILTER (WHERE scale(c.credit) <> s.rscale
				OR sign(c.credit) NOT IN (0, sign(j.amount_reporting))
				OR (c.weight = 0 AND c.credit <> 0)) AS bad,
		   count(*) FILTER (WHERE c.weight IS DISTINCT FROM x.w[c.touch_index]) AS wdiff
	FROM $call, j.amount_reporting, m.opts, s.rscale) c) y
CROSS JOIN LATERAL (
	SELECT a.amt, a.sc FROM a WHERE a.k = 1 + mod(abs(hashtext(j.opportunity_id)::int8), 7)) za
CROSS JOIN LATERAL (
	SELECT count(*) AS n, sum(c.credit) AS total,
		   count(*) FILTER (WHERE scale(c.credit) <> za.sc
				OR sign(c.credit) NOT IN (0, sign(za.amt))
				OR (c.weight = 0 AND c.credit <> 0)) AS bad
	FROM $call, za.amt, m.opts, za.sc) c) z
LEFT JOIN LATERAL (
	SELECT sum(p.n) AS parts,
		   count(*) FILTER (WHERE p.total <> a.amt) + sum(p.bad) AS bad
	FROM a
	CROSS JOIN LATERAL (
		SELECT count(*) AS n, sum(u.p) AS total,
			   count(*) FILTER (WHERE scale(u.p) <> a.sc OR sign(u.p) NOT IN (0, sign(a.amt))
					OR (x.w[u.i] = 0 AND u.p <> 0)) AS bad
		FROM unnest(CASE WHEN x.wsum > 0 THEN attrib.split_amount(a.amt, x.w, a.sc) END)
			 WITH ORDINALITY u(p, i)) p
	WHERE x.wsum > 0) t ON true;
SQL
}

ts_sql "$db" "DROP TABLE IF EXISTS res" >/dev/null 2>&1
if ! ts_sql "$db" "CREATE UNLOGGED TABLE res (family text, opportunity_id text, model text, len int,
	n bigint, wsum float8, sum_ok bool, bad bigint,
	rn bigint, rsum_ok bool, rbad bigint,
	an bigint, asum_ok bool, abad bigint,
	parts bigint, pbad bigint, zero_ok bool)" >"$ts_tmp/res.log" 2>&1; then
	cat "$ts_tmp/res.log"
	ts_fail "creating the result table"
	ts_done
fi

# One statement per data-driven model: credits() keeps one solved model per call
# site, so a statement alternating between two fitted models would solve again
# for every journey.
families=(rule)
while read -r name base; do
	[[ -n $name ]] && families+=("$base:$name")
done < <(ts_sql "$db" "SELECT name, base_model FROM attrib.model_registry
	WHERE enabled AND additive AND data_driven ORDER BY name" | tr '|' ' ')
for fam in "${families[@]}"; do
	case $fam in
	rule) sql=$(family_sql rule "NOT r.data_driven" "attrib.credits(j.journey, m.base_model" \
		"pg_catalog.jsonb_build_object('direct_channels', s.direct) || r.options") ;;
	markov:*) sql=$(family_sql "$fam" "r.name = '${fam#*:}'" "attrib.credits(j.journey, f.markov" \
		"r.options - 'order'") ;;
	shapley:*) sql=$(family_sql "$fam" "r.name = '${fam#*:}'" "attrib.credits(j.journey, f.shapley" \
		"r.options") ;;
	esac
	t0=$(now)
	if ! ts_sql "$db" "$sql" >"$ts_tmp/family.log" 2>&1; then
		cat "$ts_tmp/family.log"
		ts_fail "B/C: checking $fam"
		continue
	fi
	echo "B/C $fam: $(ts_sql "$db" "SELECT count(*) || ' pairs, ' || sum(n + rn + an + parts)
		|| ' credits' FROM res WHERE family = '$fam'") in $(took "$t0") s"
done

read -r b_pairs b_rows b_count b_sum b_wsum b_unattr b_bad c_rows c_sum c_bad c_parts c_pbad <<<"$(ts_sql "$db" "
SELECT count(*), sum(n + rn),
	count(*) FILTER (WHERE n <> len OR rn <> len OR an <> len),
	count(*) FILTER (WHERE wsum > 0 AND NOT (sum_ok AND rsum_ok)),
	count(*) FILTER (WHERE wsum > 0 AND abs(wsum - 1) > 1e-9),
	count(*) FILTER (WHERE coalesce(wsum, 0) = 0),
	sum(bad + rbad),
	sum(an), count(*) FILTER (WHERE wsum > 0 AND NOT asum_ok), sum(abad),
	sum(parts), sum(pbad) + count(*) FILTER (WHERE coalesce(wsum, 0) = 0 AND NOT zero_ok)
FROM res" | tr '|' ' ')"
echo "B direct: $b_pairs pairs, $b_rows credit rows ($b_unattr pairs with no touch credited)"
echo "C awkward: $c_rows credit rows from credits(), $c_parts parts from split_amount"
ts_check "B: pairs = journeys x additive models" "${b_pairs:-?}" "$((journeys * models))"
ts_check "B: one credit row per touch" "${b_count:-?}" 0
ts_check "B: credits() sums to the amount and the reporting amount exactly" "${b_sum:-?}" 0
ts_check "B: weights sum to 1" "${b_wsum:-?}" 0
ts_check "B: every row in range, at its scale, of the amount's sign; same weights in both currencies" \
	"${b_bad:-?}" 0
ts_check "C: credits() of the awkward amounts sum exactly" "${c_sum:-?}" 0
ts_check "C: every awkward credit at its scale, of its sign" "${c_bad:-?}" 0
ts_check "C: split_amount of every weight vector over every awkward amount is exact; uncredited journeys get 0" \
	"${c_pbad:-?}" 0
ts_check "B/A: refresh books exactly the uncredited pairs unattributed" "${b_unattr:-?}" "${a_unattr:-?}"

bad_pairs=$(ts_sql "$db" "SELECT family || ' ' || opportunity_id || ' ' || model || ' len ' || len
	|| ' wsum ' || coalesce(wsum::text, '-') || ' sums ' || sum_ok || '/' || rsum_ok || '/' || asum_ok
	|| ' bad ' || bad || '/' || rbad || '/' || abad || '/' || pbad
	FROM res WHERE n <> len OR rn <> len OR an <> len OR (wsum > 0 AND NOT (sum_ok AND rsum_ok AND asum_ok))
	   OR bad + rbad + abad + pbad > 0 OR (coalesce(wsum, 0) = 0 AND NOT zero_ok) OR (wsum > 0 AND abs(wsum - 1) > 1e-9) LIMIT 10")
if [[ -n $bad_pairs ]]; then
	echo "offending (journey, model) pairs (first 10):"
	printf '%s\n' "$bad_pairs" | sed 's/^/  /'
fi

total=$((${a_rows:-0} + ${b_rows:-0} + ${c_rows:-0} + ${c_parts:-0}))
echo "exactness at scale $scale: $journeys journeys, $touches touches, $models additive models," \
	"$total credits checked, $(took "$t_all") s"
ts_done
