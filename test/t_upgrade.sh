#!/usr/bin/env bash
#
# t_upgrade.sh — upgrading attrib: ALTER EXTENSION UPDATE from every released
# version gives exactly a fresh install of the current one, and the current shared
# library runs every released version's SQL.
#
#   1. Released install scripts are frozen: each attrib--X.Y.Z.sql other than the
#      current (assembled) version has its sha256 recorded below and must match it;
#      the installed copies are the repository's (run `make install` first).
#   2. For every released version V: database upg_V gets CREATE EXTENSION attrib
#      VERSION 'V' and ALTER EXTENSION attrib UPDATE; database fresh gets CREATE
#      EXTENSION attrib.  Their catalogs, described by test/lib/catalog.sql (every
#      function, aggregate, type, table, column, constraint, index, trigger, view,
#      comment, grant, dependency, extension membership, config table, and the rows
#      the scripts insert), must be identical.  On failure it names the objects that
#      differ and prints the diff: mirror the missing change of src/sql in the
#      upgrade script (attrib--V--W.sql).  As a sign the comparison sees what the
#      update does, it also lists what the update changed (V before vs. after).
#   3. The new attrib.so with V's SQL: database old_V gets CREATE EXTENSION attrib
#      VERSION 'V' (no update), a generated CRM (test/gen/generate.sql, scale 1), a
#      refresh with every model (also markov, shapley, custom, raw time decay),
#      credits() of every model called directly, data-driven fits, reports and an
#      incremental refresh: credits sum to the amounts, and the stored results and
#      every view equal those of the fresh install after the same workload.
#   4. pg_dump of the updated database restores into a fresh one with the same
#      catalog and rows.
#
# Run alone: source test/lib/pgcluster.sh && pg_start && bash test/t_upgrade.sh; pg_stop
# ATTRIB_UPGRADE_CATALOG_ONLY=1 runs only 1 and 2 (~20 s; for fixing an upgrade script).
set -uo pipefail
# shellcheck source=lib/tscript.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib/tscript.sh"
ts_init upgrade

# The sha256 of every released install script.  A release adds its line (and
# freezes its script: see docs/reliability.md, "Upgrades"); no line ever changes.
declare -A frozen_sha256=(
	[0.1.0]=dbc3527f7f0aff9932b8a808ae420107622ff0029619f8e87819f13b02bdefb0
)

# Relations (as test/lib/digests.sql names them) whose contents may differ between
# an old version's SQL and the current one after the same workload, because a
# release changed results on purpose; each with its reason.  Empty so far.
declare -A results_may_differ=()

current=$(sed -n "s/^default_version *= *'\(.*\)'.*/\1/p" "$ts_root/attrib.control")
[[ -n $current ]] || {
	ts_fail "default_version in attrib.control"
	ts_done
}
extdir=$("${PG_CONFIG:-pg_config}" --sharedir)/extension
echo "current version $current; installed scripts in $extdir"
SECONDS=0

# --- 1. frozen scripts -----------------------------------------------------------
released=()
for f in "$ts_root"/attrib--*.sql; do
	v=${f##*/attrib--}
	v=${v%.sql}
	[[ $v == *--* || $v == "$current" ]] && continue
	released+=("$v")
done
mapfile -t released < <(printf '%s\n' "${released[@]}" | sort -V)
if ((${#released[@]} == 0)); then
	ts_fail "no released install script attrib--X.Y.Z.sql in $ts_root"
	ts_done
fi
for v in "${!frozen_sha256[@]}"; do
	[[ -f $ts_root/attrib--$v.sql ]] || ts_fail "released install script attrib--$v.sql is missing"
done
for v in "${released[@]}"; do
	got=$(sha256sum "$ts_root/attrib--$v.sql" | cut -d' ' -f1)
	if [[ -z ${frozen_sha256[$v]:-} ]]; then
		ts_fail "attrib--$v.sql has no sha256 in t_upgrade.sh (a new release: add [$v]=$got)"
	elif [[ $got != "${frozen_sha256[$v]}" ]]; then
		ts_fail "attrib--$v.sql changed (sha256 $got, released ${frozen_sha256[$v]}): released scripts never change; put the change in the upgrade script"
	else
		ts_ok "attrib--$v.sql is the released script (sha256 ${got:0:12}...)"
	fi
done
for f in "$ts_root"/attrib--*.sql; do
	if cmp -s "$f" "$extdir/${f##*/}"; then
		ts_ok "installed ${f##*/} is the repository's"
	else
		ts_fail "installed ${f##*/} differs from the repository's (make install?)"
	fi
done

# --- helpers ----------------------------------------------------------------------
# describe DB FILE: the catalog description of attrib in DB
describe() {
	psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -f "$ts_root/test/lib/catalog.sql" >"$2" 2>"$2.err" || {
		cat "$2.err"
		return 1
	}
}

# differing_objects FILE_A FILE_B: the objects whose lines differ, one a line
differing_objects() {
	diff "$1" "$2" | sed -n 's/^[<>] //p' | cut -f1 | sort -u
}

# compare_catalogs DESC FILE_A LABEL_A FILE_B LABEL_B HINT
compare_catalogs() {
	local objs n
	if cmp -s "$2" "$4"; then
		ts_ok "$1: identical ($(wc -l <"$2") catalog lines)"
		return 0
	fi
	objs=$(differing_objects "$2" "$4")
	n=$(printf '%s\n' "$objs" | grep -c .)
	ts_fail "$1: $n objects differ"
	echo "  objects that differ:"
	printf '%s\n' "$objs" | sed 's/^/    /'
	echo "  their lines (- $3, + $5; OBJECT<TAB>PROPERTY<TAB>VALUE):"
	diff -U0 --label "$3" --label "$5" "$2" "$4" | grep -v '^@@' | head -n 400 | sed 's/^/    /'
	echo "  $6"
}

fresh=attrib_upg_fresh_$$
ts_db "$fresh"
ts_sql "$fresh" "CREATE EXTENSION attrib" >/dev/null || {
	ts_fail "CREATE EXTENSION attrib"
	ts_done
}
describe "$fresh" "$ts_tmp/fresh.cat" || {
	ts_fail "describing the fresh install"
	ts_done
}
# the description must cover the extension, or comparing it proves nothing
objects_with() { awk -F'\t' -v p="$1" -v k="$2" '$2 == p && index($1, k " ") == 1 { print $1 }' "$ts_tmp/fresh.cat" | sort -u | grep -c .; }
nf=$(objects_with kind function)
na=$(objects_with "aggregate sfunc" function)
nt=$(objects_with input type)
ntab=$(objects_with persistence table)
ncol=$(awk -F'\t' '$2 == "position" { print $1 }' "$ts_tmp/fresh.cat" | sort -u | grep -c .)
nv=$(objects_with "view definition" view)
ni=$(objects_with index index)
ntr=$(objects_with definition trigger)
ncon=$(objects_with definition constraint)
if ((nf >= 50 && na >= 3 && nt >= 6 && ntab >= 15 && ncol >= 200 && nv >= 25 && ni >= 15 && ntr >= 5 && ncon >= 30)); then
	ts_ok "the description covers $nf functions ($na aggregates), $nt types, $ntab tables, $nv views, $ncol columns, $ni indexes, $ncon constraints, $ntr triggers ($(wc -l <"$ts_tmp/fresh.cat") lines)"
else
	ts_fail "the description is too thin: $nf functions ($na aggregates), $nt types, $ntab tables, $nv views, $ncol columns, $ni indexes, $ncon constraints, $ntr triggers"
fi

echo "($SECONDS s)"
# --- 2. every released version, updated, equals a fresh install -------------------
for v in "${released[@]}"; do
	db=attrib_upg_${v//./_}_$$
	ts_db "$db"
	path=$(ts_sql "$db" "SELECT path FROM pg_extension_update_paths('attrib') WHERE source = '$v' AND target = '$current'")
	if [[ -n $path ]]; then
		scripts=$(
			prev=""
			for s in ${path//--/ }; do
				[[ -n $prev ]] && printf 'attrib--%s--%s.sql ' "$prev" "$s"
				prev=$s
			done
		)
		scripts=${scripts% }
		ts_ok "update path $path: $scripts"
	else
		ts_fail "no update path from $v to $current (attrib--$v--$current.sql missing?)"
		continue
	fi
	if ! ts_sql "$db" "CREATE EXTENSION attrib VERSION '$v'" >/dev/null; then
		ts_fail "CREATE EXTENSION attrib VERSION '$v'"
		continue
	fi
	describe "$db" "$ts_tmp/$v.before.cat" || ts_fail "describing $v"
	if ! ts_sql "$db" "ALTER EXTENSION attrib UPDATE" >/dev/null; then
		ts_fail "ALTER EXTENSION attrib UPDATE from $v"
		continue
	fi
	ts_check "version after the update from $v" \
		"$(ts_sql "$db" "SELECT extversion FROM pg_extension WHERE extname = 'attrib'")" "$current"
	describe "$db" "$ts_tmp/$v.after.cat" || ts_fail "describing $v updated"
	compare_catalogs "$v + ALTER EXTENSION UPDATE vs. CREATE EXTENSION ($current)" \
		"$ts_tmp/$v.after.cat" "updated from $v" "$ts_tmp/fresh.cat" "fresh $current" \
		"Fix: every change to src/sql/*.sql needs its statement in the upgrade script ($scripts); make install, rerun (ATTRIB_UPGRADE_CATALOG_ONLY=1 for speed)."
	# what the update changed: proof that the comparison sees the script's work
	changed=$(differing_objects <(grep -v $'^extension attrib\tversion\t' "$ts_tmp/$v.before.cat") \
		<(grep -v $'^extension attrib\tversion\t' "$ts_tmp/$v.after.cat"))
	statements=$(for s in $scripts; do
		grep -v -e '^[[:space:]]*--' -e '^[[:space:]]*$' -e '^\\echo' "$ts_root/$s"
	done | grep -c .)
	if [[ -n $changed ]]; then
		ts_ok "the update from $v changes $(printf '%s\n' "$changed" | grep -c .) objects: $(printf '%s\n' "$changed" | paste -sd';' | cut -c1-300)"
	elif ((statements > 0)); then
		ts_fail "the update scripts from $v hold $statements statement lines but the catalog description sees no change"
	else
		ts_ok "the update from $v changes no object (C-only release)"
	fi
	updated_db=${updated_db:-$db}
done

echo "($SECONDS s)"
if [[ ${ATTRIB_UPGRADE_CATALOG_ONLY:-0} == 1 ]]; then
	echo "ATTRIB_UPGRADE_CATALOG_ONLY=1: the workload on old SQL and the dump are skipped"
	ts_done
fi
# --- 3. the new library runs each released version's SQL -----------------------------
smoke=$ts_tmp/smoke.sql
cat >"$smoke" <<'EOF'
INSERT INTO attrib.model_config (name, base_model, options) VALUES
	('markov', 'markov', '{"order": 2}'), ('shapley', 'shapley', '{}'),
	('w_custom', 'custom', '{"weights": {"FT": 0.2, "LC": 0.2, "OC": 0.5, "middle": 0.1}}'),
	('time_decay_raw', 'time_decay', '{"normalize": false}');
SELECT 'refresh', (opportunities > 100)::text FROM attrib.refresh();
SELECT 'models credited = models enabled',
	   ((SELECT count(DISTINCT model) FROM attrib.credit_cache)
		= (SELECT count(*) FROM attrib.model_registry WHERE enabled))::text;
-- stored credits of additive models sum to the amounts, in both currencies
SELECT 'stored additive credits off', count(*)::text FROM (
	SELECT j.opportunity_id, r.name
	FROM attrib.journey_cache j CROSS JOIN attrib.model_registry r
	JOIN attrib.credit_cache c ON c.opportunity_id = j.opportunity_id AND c.account_id = j.account_id
		AND c.model = r.name
	WHERE r.enabled AND r.additive
	GROUP BY j.opportunity_id, r.name, j.amount, j.amount_reporting
	HAVING sum(c.credit) <> j.amount OR sum(c.credit_reporting) <> j.amount_reporting) x;
-- credits() of every built-in model, called directly on every stored journey
SELECT 'direct credits off (' || m.name || ')', (
	SELECT count(*) FROM (
		SELECT j.opportunity_id
		FROM attrib.journey_cache j
		CROSS JOIN LATERAL attrib.credits(j.journey, m.name, j.amount,
			CASE WHEN m.name = 'custom' THEN '{"weights": {"FT": 0.3, "LC": 0.3, "OC": 0.3, "middle": 0.1}}'
				 ELSE '{}' END::jsonb) c
		GROUP BY j.opportunity_id, j.amount
		HAVING m.additive AND sum(c.credit) <> j.amount
			OR NOT m.additive AND max(abs(c.credit)) > abs(j.amount)) x)::text
FROM attrib.models() m;
SELECT 'models', count(*)::text FROM attrib.models();
-- data-driven fits over the stored journeys, and their credits
WITH f AS (SELECT attrib.markov_fit(journey, status = 'won', 2) AS mk,
				  attrib.shapley_fit(journey, status = 'won') AS sh
		   FROM attrib.journey_cache WHERE status <> 'open')
SELECT 'fitted credits off', count(*)::text FROM (
	SELECT j.opportunity_id FROM attrib.journey_cache j, f,
		LATERAL (SELECT sum(c.credit) AS s FROM attrib.credits(j.journey, f.mk, j.amount) c) a,
		LATERAL (SELECT sum(c.credit) AS s FROM attrib.credits(j.journey, f.sh, j.amount) c) b
	WHERE attrib.journey_length(j.journey) > 0 AND (a.s <> j.amount OR b.s <> j.amount)) x;
SELECT 'fitted channels', (count(*) > 0)::text FROM attrib.data_driven_channels;
-- reports: won revenue by channel adds up, per additive model
SELECT 'revenue_by_channel off', count(*)::text FROM (
	SELECT v.model FROM attrib.revenue_by_channel v
	JOIN attrib.model_registry r ON r.name = v.model AND r.additive
	GROUP BY v.model
	HAVING sum(v.won_revenue) <> (SELECT sum(amount_reporting) FROM attrib.journey_cache WHERE status = 'won')) x;
-- an incremental refresh after a change
UPDATE attrib.touches SET channel = 'webinar'
WHERE (account_id, touch_id) = (SELECT account_id, touch_id FROM attrib.touches ORDER BY 1, 2 LIMIT 1);
SELECT 'refresh_incremental', 'ok' FROM attrib.refresh_incremental();
EOF
nmodels=$(ts_sql "$fresh" "SELECT count(*) FROM attrib.models()")
want=$(
	printf 'refresh\ttrue\nmodels credited = models enabled\ttrue\nstored additive credits off\t0\n'
	ts_sql "$fresh" "SELECT 'direct credits off (' || name || ')' || E'\t0' FROM attrib.models()"
	printf 'models\t%s\nfitted credits off\t0\nfitted channels\ttrue\nrevenue_by_channel off\t0\nrefresh_incremental\tok\n' "$nmodels"
)

# workload DB LABEL: the generated CRM and the smoke workload in DB; its digests
workload() {
	local db=$1 label=$2 got
	if ! psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v scale=1 -f "$ts_root/test/gen/generate.sql" >"$ts_tmp/gen.$db.log" 2>&1; then
		tail -n 20 "$ts_tmp/gen.$db.log"
		ts_fail "$label: generator"
		return 1
	fi
	if ! got=$(psql -X -q -At -F $'\t' -v ON_ERROR_STOP=1 -d "$db" -f "$smoke" 2>&1); then
		printf '%s\n' "$got" | tail -n 20
		ts_fail "$label: the workload failed (a crash shows as a lost connection)"
		return 1
	fi
	ts_check "$label: refresh, credits of every model sum to the amounts, fits, reports, incremental refresh" "$got" "$want"
	psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -f "$ts_root/test/lib/digests.sql" >"$ts_tmp/$db.digests" ||
		ts_fail "$label: digests"
}

workload "$fresh" "fresh $current"
for v in "${released[@]}"; do
	db=attrib_old_${v//./_}_$$
	ts_db "$db"
	if ! ts_sql "$db" "CREATE EXTENSION attrib VERSION '$v'" >/dev/null; then
		ts_fail "CREATE EXTENSION attrib VERSION '$v' with the current attrib.so"
		continue
	fi
	workload "$db" "$v's SQL with the current attrib.so" || continue
	ndiff=0
	while IFS=$'\t' read -r rel d; do
		f=$(awk -F'\t' -v r="$rel" '$1 == r { print $2 }' "$ts_tmp/$fresh.digests")
		if [[ $d != "$f" && -z ${results_may_differ[$rel]:-} ]]; then
			ts_fail "$rel differs between $v's SQL and $current's after the same workload ($d vs. $f)"
			ndiff=$((ndiff + 1))
		fi
	done <"$ts_tmp/$db.digests"
	((ndiff == 0)) &&
		ts_ok "$v's SQL gives the same stored results and views as $current ($(wc -l <"$ts_tmp/$db.digests") relations)"
done

echo "($SECONDS s)"
# --- 3b. updating a database in use: data, grants, row-level security, user views ----
# Each old_V database holds V's results after the workload.  A role whose name needs
# quoting gets the README's BI grants, a policy on the stored credits hides one
# account from it, and a view of the user's reads a report.  The update must stop
# with the user's view named (nothing changed); once it is dropped, the update must
# keep every stored credit, the role's rights on the credits and the reports, and
# the policy (now on credit_store).
bi="BI-Reader $$"
for v in "${released[@]}"; do
	db=attrib_old_${v//./_}_$$
	[[ $(ts_sql "$db" "SELECT extversion FROM pg_extension WHERE extname = 'attrib'") == "$v" ]] || continue
	hidden=$(ts_sql "$db" "SELECT min(account_id) FROM attrib.credit_cache")
	ts_sql "$db" "CREATE ROLE \"$bi\";
		GRANT USAGE ON SCHEMA attrib TO \"$bi\"; GRANT SELECT ON ALL TABLES IN SCHEMA attrib TO \"$bi\";
		ALTER TABLE attrib.credit_cache ENABLE ROW LEVEL SECURITY;
		CREATE POLICY hide_one ON attrib.credit_cache FOR SELECT TO \"$bi\" USING (account_id <> '$hidden');
		CREATE VIEW public.my_report AS SELECT model, sum(won_revenue) AS won FROM attrib.revenue_by_channel GROUP BY model" \
		>/dev/null || ts_fail "$v: grants, policy and a user's view"
	as_bi="SET ROLE \"$bi\"; SELECT count(*) || ' ' || count(*) FILTER (WHERE account_id = '$hidden') FROM attrib.credit_cache"
	sums="SELECT count(*) || ' ' || sum(credit) || ' ' || sum(credit_reporting) || ' ' || md5(string_agg(c::text, ',' ORDER BY c::text)) FROM attrib.credit_cache c"
	before_bi=$(ts_sql "$db" "$as_bi")
	before=$(ts_sql "$db" "$sums")
	err=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "ALTER EXTENSION attrib UPDATE" 2>&1)
	if [[ $err == *"public.my_report"*"credit_cache"* ]] &&
		[[ $(ts_sql "$db" "SELECT extversion FROM pg_extension WHERE extname = 'attrib'") == "$v" ]]; then
		ts_ok "$v in use: a user's view over the reports stops the update, named (${err%%$'\n'*})"
	else
		ts_fail "$v in use: the update with a user's view over the reports: $err"
	fi
	ts_sql "$db" "DROP VIEW public.my_report" >/dev/null
	if ts_sql "$db" "ALTER EXTENSION attrib UPDATE" >/dev/null; then
		ts_check "$v in use: every stored credit kept by the update" "$(ts_sql "$db" "$sums")" "$before"
		ts_check "$v in use: the quoted role still reads the credits, minus the hidden account" \
			"$(ts_sql "$db" "$as_bi")" "$before_bi"
		ts_check "$v in use: ... and the reports over them" \
			"$(ts_sql "$db" "SET ROLE \"$bi\"; SELECT count(*) > 0 FROM attrib.revenue_by_channel")" "t"
		ts_check "$v in use: the policy and row-level security are on credit_store" \
			"$(ts_sql "$db" "SELECT relrowsecurity || ' ' || (SELECT string_agg(policyname || ':' || array_to_string(roles, ','), ' ')
				FROM pg_policies WHERE schemaname = 'attrib' AND tablename = 'credit_store')
				FROM pg_class WHERE oid = 'attrib.credit_store'::regclass")" "true hide_one:$bi"
		[[ ${before_bi#* } == 0 && ${before_bi%% *} -gt 0 ]] || ts_fail "$v in use: the policy hid nothing to begin with ($before_bi)"
	else
		ts_fail "$v in use: ALTER EXTENSION attrib UPDATE after the user's view was dropped"
	fi
	ts_sql "$db" "DROP OWNED BY \"$bi\"; DROP ROLE \"$bi\"" >/dev/null || ts_fail "$v in use: dropping the role"
done

echo "($SECONDS s)"
# --- 4. a dump of an updated database restores ------------------------------------
if [[ -n ${updated_db:-} ]]; then
	ts_sql "$updated_db" "
	SELECT attrib.set_setting('lookback', '400 days');
	INSERT INTO attrib.model_config (name, base_model, options) VALUES ('td30', 'time_decay', '{\"half_life\": 30}');
	INSERT INTO attrib.accounts (account_id, name) VALUES ('a1', 'Account 1');
	INSERT INTO attrib.touches (account_id, touch_id, occurred_at, channel) VALUES ('a1', 't1', '2024-01-01', 'email');" \
		>/dev/null || ts_fail "user data in the updated database"
	restored=attrib_upg_restored_$$
	ts_db "$restored"
	if "$ts_bindir/pg_dump" -Fc -d "$updated_db" -f "$ts_tmp/updated.dump" 2>"$ts_tmp/dump.err" &&
		"$ts_bindir/pg_restore" --exit-on-error -d "$restored" "$ts_tmp/updated.dump" 2>"$ts_tmp/restore.err"; then
		describe "$updated_db" "$ts_tmp/updated.cat" && describe "$restored" "$ts_tmp/restored.cat" &&
			compare_catalogs "pg_dump of the updated database, restored" \
				"$ts_tmp/updated.cat" "updated" "$ts_tmp/restored.cat" "restored" \
				"pg_restore runs CREATE EXTENSION (the current version) and reloads the config tables."
	else
		cat "$ts_tmp/dump.err" "$ts_tmp/restore.err"
		ts_fail "pg_dump / pg_restore of the updated database"
	fi
fi

echo "($SECONDS s)"
ts_done
