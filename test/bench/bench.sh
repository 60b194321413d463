#!/usr/bin/env bash
#
# test/bench/bench.sh — attrib's benchmark (issue 5): the floor, attrib's credits,
# the same models in plain SQL, full / stored / incremental refresh, the
# data-driven fits, parallel speed-ups and peak backend memory, at several scales
# of the deterministic CRM generator, on a throwaway server with stated settings.
#
#   bash test/bench/bench.sh                  scales 10 120 1230 (about 10^5, 10^6, 10^7 touches)
#   bash test/bench/bench.sh 10 120           chosen scales (test/gen/generate.sql's scale)
#   BENCH_QUICK=1 bash test/bench/bench.sh    scales 2 and 12, a few minutes
#
# Knobs (environment):
#   BENCH_RUNS=3        timed runs per step, after one untimed warm-up; the median is reported
#   BENCH_WARMUP=0      no warm-up run (e.g. for a single run at 10^7 touches)
#   BENCH_RUNS_PARALLEL=N  the parallel comparisons (steps named *_p0 and *_p2: journey
#                       building, the fits, starting workers) get N timed runs after a
#                       warm-up whatever BENCH_RUNS and BENCH_WARMUP say (they are short:
#                       at 10^7 a single cold run compares a cold read with a warm one)
#   BENCH_OUT=FILE      markdown results (default test/bench/results.md; quick mode: in the work dir)
#   BENCH_SKIP=a,b      steps to leave out (names as in the table, e.g. plain,attrib_split;
#                       incremental_check: the comparison of incremental and full refresh;
#                       cancel: cancelling a full refresh 2 s in and half-way through)
#   BENCH_MERGE=DIR     also report the measurements kept (BENCH_KEEP=1) in an earlier work dir
#   BENCH_REF=HEAD      build a clean export of that commit instead of the working tree
#   BENCH_NO_BUILD=1    use the system's installed extension (pinned: the functions point at a
#                       private copy of attrib.so); by default the extension is built and
#                       installed into a private copy of the PostgreSQL installation in the
#                       work dir, so nothing outside it changes and nobody's install disturbs it
#   BENCH_PERF=0        no perf profile of the attrib step (default: at the largest scale, if perf exists)
#   BENCH_KEEP=1        keep the work directory (plans, raw measurements, perf data)
#   BENCH_CONF="a=b;c=d"  postgresql.conf lines replacing the default settings below
#   BENCH_HUGE_PAGES=0  no huge pages for the server's shared memory (default: as root, the
#                       script allows enough surplus 2 MB pages for shared_buffers, sets
#                       huge_pages = try and takes the allowance back at the end)
#
# Every timed run is one statement in a fresh connection (so VmHWM is the step's
# peak); wall time is psql's \timing, CPU time is the backend's plus that of the
# parallel workers it used (see probe.sh); memory is the backend's.  Ratios are
# computed from the medians, for wall time (what the targets speak of) and for CPU
# time (less sensitive to other jobs on a shared machine); both are printed.

set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
cd "$root"
# shellcheck source-path=SCRIPTDIR/../..
source test/lib/pgcluster.sh
bench=$root/test/bench

if (($# > 0)); then
	scales=("$@")
elif [[ ${BENCH_QUICK:-0} == 1 ]]; then
	scales=(2 12)
else
	scales=(10 120 1230)
fi
runs=${BENCH_RUNS:-3}
first_run=1
[[ ${BENCH_WARMUP:-1} == 0 ]] || first_run=0
skip=",${BENCH_SKIP:-},"

# Server settings (printed and written to the results).  pgcluster.sh adds
# fsync = off, synchronous_commit = off, full_page_writes = off (throwaway
# server); autovacuum is off so that it never runs during a timed step (the
# script VACUUMs and ANALYZEs itself).
if [[ -n ${BENCH_CONF:-} ]]; then
	IFS=';' read -ra conf <<<"$BENCH_CONF"
else
	conf=("shared_buffers = 2GB" "work_mem = 64MB" "maintenance_work_mem = 512MB"
		"max_parallel_workers_per_gather = 2" "max_worker_processes = 8" "max_parallel_workers = 8"
		"jit = off" "effective_cache_size = 8GB" "random_page_cost = 1.1"
		"max_wal_size = 20GB" "checkpoint_timeout = 30min" "autovacuum = off")
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/attrib-bench.XXXXXX")
chmod 755 "$work"
if [[ ${BENCH_QUICK:-0} == 1 && -z ${BENCH_OUT:-} ]]; then
	out_md=$work/results.md
else
	out_md=${BENCH_OUT:-$bench/results.md}
fi
raw=$work/runs.tsv		# scale step run wall_ms cpu_ms hwm_kb anon_peak_kb rss_anon_kb rss_shmem_kb rss_file_kb
meta=$work/meta.tsv		# scale key value
: >"$raw"
: >"$meta"

added_huge=0
cleanup() {
	pg_cleanup || true
	if ((added_huge > 0)); then
		echo $(($(cat /proc/sys/vm/nr_overcommit_hugepages) - added_huge)) \
			>/proc/sys/vm/nr_overcommit_hugepages 2>/dev/null || true
	fi
	if [[ ${BENCH_KEEP:-0} == 1 ]]; then
		echo "bench: kept $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

say() { printf '%s\n' "$*" >&2; }
metaput() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$meta"; }

pg_ensure_packages
git_head=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git_dirty=$(git status --porcelain -- src sql Makefile 2>/dev/null | wc -l)
if [[ -n ${BENCH_REF:-} ]]; then
	# a clean export of one commit, without anyone's uncommitted work
	mkdir "$work/src"
	git archive "$BENCH_REF" | tar -x -C "$work/src"
	git_head="$(git rev-parse --short "$BENCH_REF") (clean export of $BENCH_REF)"
	git_dirty=0
	build_dir=$work/src
else
	build_dir=$root
fi
if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
	# Install into a private copy of the PostgreSQL installation (about 50 MB;
	# the server finds its share and lib directories relative to its binary), so
	# that neither this run nor other engineers' installs on a shared machine
	# change what the other measures.
	sys_cfg=$(command -v pg_config)
	libroot=$(dirname "$("$sys_cfg" --bindir)")
	shareroot=$("$sys_cfg" --sharedir)
	priv=$work/pg
	mkdir -p "$priv$(dirname "$libroot")" "$priv$(dirname "$shareroot")"
	cp -a "$libroot" "$priv$libroot"
	cp -a "$shareroot" "$priv$shareroot"
	if ! { make -C "$build_dir" -j2 PG_CONFIG="$sys_cfg" &&
		make -C "$build_dir" install PG_CONFIG="$priv$libroot/bin/pg_config"; } >"$work/build.log" 2>&1; then
		tail -n 40 "$work/build.log" >&2
		say "bench: building attrib failed"
		exit 1
	fi
	# pgcluster.sh takes the server's binaries from this function: the copy's
	_attrib_pg_paths() {
		_ATTRIB_PG_CONFIG=$priv$libroot/bin/pg_config
		_ATTRIB_PG_BINDIR=$priv$libroot/bin
		export PG_CONFIG=$_ATTRIB_PG_CONFIG
		case ":$PATH:" in
		*":$_ATTRIB_PG_BINDIR:"*) ;;
		*) export PATH="$_ATTRIB_PG_BINDIR:$PATH" ;;
		esac
	}
fi

psqlq() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# measure SCALE STEP SQLFILE [SETFILE] [PRE_FN] [POST_FN]
# One untimed warm-up, then $runs timed runs, each in a fresh connection.
# PRE_FN / POST_FN (shell functions) run before / after every run, untimed.
measure() {
	local scale=$1 step=$2 sql=$3 set=${4:-} pre=${5:-} post=${6:-}
	local r script output wall line n_runs=$runs n_first=$first_run
	# the parallel comparisons (steps *_p0, *_p2) may get their own protocol
	if [[ -n ${BENCH_RUNS_PARALLEL:-} && $step == *_p[02] ]]; then
		n_runs=$BENCH_RUNS_PARALLEL
		n_first=0
	fi
	if [[ $skip == *",$step,"* ]]; then
		say "  $step: skipped"
		return 0
	fi
	script=$work/run.sql
	# psql script: the probe (a shell run by \!, reading $BENCH_PROBE_SH from the
	# environment) around the timed statement
	# shellcheck disable=SC2016
	{
		printf '%s\n' 'SELECT pg_backend_pid() AS bpid \gset' '\setenv BPID :bpid'
		[[ -z $set ]] || cat "$set"
		printf '%s\n' '\! bash "$BENCH_PROBE_SH" start' '\timing on'
		cat "$sql"
		printf '%s\n' '\timing off' '\! bash "$BENCH_PROBE_SH" stop'
	} >"$script"
	for ((r = n_first; r <= n_runs; r++)); do
		[[ -z $pre ]] || "$pre" "$r"
		export BENCH_PROBE=$work/probe
		if ! output=$(psqlq -v run="$scale-$step-$r" -f "$script" 2>&1); then
			printf '%s\n' "$output" | tail -n 20 >&2
			say "  $step: FAILED (run $r)"
			metaput "$scale" "failed:$step" "$(printf '%s' "$output" | grep -m1 ERROR || echo error)"
			return 0
		fi
		[[ -z $post ]] || "$post" "$r"
		wall=$(printf '%s\n' "$output" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 1)
		line=$(cat "$BENCH_PROBE.out")
		if ((r > 0)); then
			printf '%s\t%s\t%s\t%s\t%s\n' "$scale" "$step" "$r" "$wall" "${line// /$'\t'}" >>"$raw"
		fi
		printf '%s\n' "$output" | grep -v '^Time: ' >"$work/last-$step.out"
	done
	"$BENCH_PYTHON" - "$raw" "$scale" "$step" <<'EOF' >&2
import statistics, sys
raw, scale, step = sys.argv[1:4]
rows = [l.rstrip('\n').split('\t') for l in open(raw)]
rows = [r for r in rows if r[0] == scale and r[1] == step]
wall = statistics.median(float(r[3]) for r in rows)
cpu = statistics.median(float(r[4]) for r in rows)
priv = max(max(int(r[6]), int(r[5]) - int(r[8]) - int(r[9])) for r in rows) / 1024
print('  %-20s wall %10.1f ms   cpu %10.1f ms   peak private %7.1f MB' % (step, wall, cpu, priv))
EOF
}

vacuum_caches() { psqlq -c 'VACUUM attrib.journey_cache, attrib.credit_store' >/dev/null; }
vacuum_credits() { psqlq -c 'VACUUM attrib.credit_store' >/dev/null; }
change_touches() { psqlq -v run="$cur_scale-$1" -f "$bench/sql/change.sql" >/dev/null; }
# one custom model's weights, different in every run (the model is added before the step)
change_model() {
	psqlq -c "UPDATE attrib.model_config SET options = jsonb_build_object('weights',
		jsonb_build_object('FT', 0.2, 'LC', 0.11 + 0.01 * $1, 'OC', 0.4, 'middle', 0.29 - 0.01 * $1))
		WHERE name = 'bench_custom'" >/dev/null
}

# workers the planner gives a statement under a settings file
workers_planned() {
	{
		[[ -z ${2:-} ]] || cat "$2"
		echo 'EXPLAIN (COSTS OFF)'
		cat "$1"
	} | psqlq -f - 2>/dev/null | sed -n 's/.*Workers Planned: \([0-9]*\).*/\1/p' | sort -n | tail -n 1
}

# a digest of the stored results (journeys and credits) for the incremental check
digest_sql="SELECT (SELECT count(*) || '/' || sum(hashtext(account_id || '/' || opportunity_id || '/' ||
	encode(attrib.journey_send(journey), 'hex'))::numeric) FROM attrib.journey_cache) || ' ' ||
	(SELECT count(*) || '/' || sum(credit) || '/' || sum(hashtext(account_id || '/' || opportunity_id || '/' || model
	|| '/' || touch_index || '/' || coalesce(touch_id, '') || '/' || weight || '/' || credit || '/' || credit_reporting)::numeric)
	FROM attrib.credit_cache)"

# cancel_check SCALE: a full refresh is cancelled (pg_cancel_backend) 2 s after
# it starts (building journeys) and half-way through (writing credits); records
# how long the backend took to stop and whether the stored credits survived.
cancel_check() {
	local scale=$1 delay bpid t0 t1 pid before after half msg kept seen=''
	if [[ $skip == *",cancel,"* ]]; then
		return 0
	fi
	half=$(awk -v s="$scale" '$1 == s && $2 == "refresh" { t += $4; n++ } END { if (n) printf "%d", t / n / 2000 }' "$raw")
	before=$(psqlq -At -c 'SELECT count(*) FROM attrib.credit_cache')
	for delay in 2 "${half:-0}"; do
		[[ $delay -ge 2 && " $seen " != *" $delay "* ]] || continue	# 2 s in, then half-way if later
		seen+=" $delay"
		psql -X -q -c 'SELECT attrib.refresh() /* bench cancel */' >/dev/null 2>"$work/cancel.err" &
		pid=$!
		sleep "$delay"
		bpid=$(psqlq -At -c "SELECT pid FROM pg_stat_activity WHERE query LIKE '%bench cancel%'
			AND backend_type = 'client backend' AND state = 'active' AND pid <> pg_backend_pid() LIMIT 1")
		if [[ -z $bpid ]]; then
			wait "$pid" || true
			metaput "$scale" "cancel:after ${delay} s" "the refresh had ended"
			continue
		fi
		t0=$(date +%s%N)
		psqlq -At -c "SELECT pg_cancel_backend($bpid)" >/dev/null
		wait "$pid" || true
		t1=$(date +%s%N)
		after=$(psqlq -At -c 'SELECT count(*) FROM attrib.credit_cache')
		msg=$(grep -m 1 -o 'canceling statement due to user request' "$work/cancel.err" || true)
		[[ $after == "$before" ]] && kept="all $after" || kept="NO ($before before, $after after)"
		metaput "$scale" "cancel:after ${delay} s" "stopped in $(((t1 - t0) / 1000000)) ms (${msg:-no cancel error?}); credit rows kept: $kept"
	done
	psqlq -c 'VACUUM attrib.journey_cache, attrib.credit_store, attrib.account_journey_cache'
}

export BENCH_PROBE_SH=$bench/probe.sh
# a plain interpreter: version-manager shims cost a fraction of a second per call
BENCH_PYTHON=$(command -v /usr/bin/python3 || command -v python3)
export BENCH_PYTHON

say "bench: scales ${scales[*]}, $runs runs$( ((first_run == 0)) && echo ' after a warm-up'); work dir $work"
say "bench: settings: ${conf[*]}"
last_scale=${scales[${#scales[@]} - 1]}

# Huge pages: every timed run is a fresh connection, and with 4 kB pages a new
# backend (or parallel worker) first takes a page fault for each page of the
# shared buffers it touches -- about 0.4 s per 10^6 touches read, paid by every
# step in proportion to the data it reads, and by each worker again.  With 2 MB
# pages that cost goes away.  Needs root: the pages are allowed as surplus
# (vm.nr_overcommit_hugepages), which the kernel takes back when the server's
# shared memory goes away; the allowance is taken back at exit.
huge_pages=off
sb_mb=$(printf '%s\n' "${conf[@]}" | sed -n 's/^ *shared_buffers *= *\([0-9]*\) *\([MG]\)B.*/\1 \2/p' |
	awk '{ print ($2 == "G") ? $1 * 1024 : $1 }')
if [[ ${BENCH_HUGE_PAGES:-1} != 0 && -n $sb_mb && -w /proc/sys/vm/nr_overcommit_hugepages ]] &&
	grep -q '^Hugepagesize: *2048 kB' /proc/meminfo; then
	added_huge=$((sb_mb * 11 / 20 + 64))
	if echo $(($(cat /proc/sys/vm/nr_overcommit_hugepages) + added_huge)) \
		>/proc/sys/vm/nr_overcommit_hugepages; then
		conf+=("huge_pages = try")
	else
		added_huge=0
	fi
fi

# One server for every scale (the generator empties attrib's tables each time);
# the extension is created once.
ATTRIB_PG_CRON=0 pg_start "${conf[@]}"
PM_PID=$(head -n 1 "$ATTRIB_PGDATA/postmaster.pid")
export PM_PID
if grep -q 'KernelPageSize: *2048 kB' "/proc/$PM_PID/smaps" 2>/dev/null; then
	huge_pages="on (2 MB pages)"
fi
say "bench: huge pages for shared memory: $huge_pages"
psqlq -c 'CREATE EXTENSION attrib'
# for the no-op parallel step: a small table that gets 2 workers however few its pages
psqlq -c 'CREATE TABLE public.bench_noop AS SELECT i FROM generate_series(1, 1000) i' \
	-c 'ALTER TABLE public.bench_noop SET (parallel_workers = 2)' -c 'VACUUM ANALYZE public.bench_noop'
if [[ ${BENCH_NO_BUILD:-0} == 1 ]]; then
	# the system's installation: point the functions at a private copy of
	# attrib.so, so that an install by someone else during the run changes nothing
	cp "$(pg_config --pkglibdir)/attrib.so" "$work/attrib.so"
	chmod 755 "$work/attrib.so"
	psqlq -c "UPDATE pg_catalog.pg_proc SET probin = '$work/attrib.so' WHERE probin = '\$libdir/attrib'"
	so_md5=$(md5sum "$work/attrib.so" | cut -c1-12)
else
	so_md5=$(md5sum "$(pg_config --pkglibdir)/attrib.so" | cut -c1-12)
fi

for cur_scale in "${scales[@]}"; do
	say "bench: scale $cur_scale"
	metaput "$cur_scale" load_before "$(cut -d' ' -f1-3 /proc/loadavg)"
	metaput "$cur_scale" protocol "$runs timed run(s) per step$( ((first_run == 0)) && echo ', after an untimed warm-up' || echo ', no warm-up')${BENCH_RUNS_PARALLEL:+ (the parallel comparisons, steps with no worker or 2 workers: $BENCH_RUNS_PARALLEL timed runs after a warm-up)}${BENCH_SKIP:+; skipped: $BENCH_SKIP}"
	metaput "$cur_scale" settings "${conf[*]}"
	t0=$(date +%s.%N)
	psqlq -v scale="$cur_scale" -f test/gen/generate.sql
	t1=$(date +%s.%N)
	metaput "$cur_scale" generate_s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
	psqlq -f "$bench/plain_sql.sql" 2>/dev/null
	psqlq -c 'VACUUM ANALYZE'
	psqlq -At -F $'\t' -c "SELECT 'accounts', count(*) FROM attrib.accounts
		UNION ALL SELECT 'contacts', count(*) FROM attrib.contacts
		UNION ALL SELECT 'opportunities', count(*) FROM attrib.opportunities
		UNION ALL SELECT 'touches', count(*) FROM attrib.touches
		UNION ALL SELECT 'touches_mb', pg_total_relation_size('attrib.touches') / 1048576" |
		while IFS=$'\t' read -r k v; do metaput "$cur_scale" "$k" "$v"; done
	psqlq -At -F $'\t' -f "$bench/sql/floor.sql" | {
		IFS=$'\t' read -r j n _ _
		metaput "$cur_scale" journeys "$j"
		metaput "$cur_scale" journey_touches "$n"
	}
	metaput "$cur_scale" server_version "$(psqlq -At -c 'SHOW server_version')"

	# plans of the main statements, for the record
	for s in floor floor_join attrib_credits plain; do
		{
			echo "== $s"
			{
				echo 'EXPLAIN (COSTS OFF)'
				cat "$bench/sql/$s.sql"
			} | psqlq -f - 2>&1 | cut -c1-220
		} >>"$work/plans-$cur_scale.txt"
	done

	measure "$cur_scale" floor "$bench/sql/floor.sql"
	measure "$cur_scale" floor_join "$bench/sql/floor_join.sql"
	measure "$cur_scale" journeys "$bench/sql/journeys.sql"
	measure "$cur_scale" attrib "$bench/sql/attrib_credits.sql"
	if [[ -n $(psqlq -At -c "SELECT to_regprocedure('attrib.credit_split(attrib.journey,text[],text[],jsonb[],numeric,integer,numeric,integer)')") ]]; then
		measure "$cur_scale" attrib_split "$bench/sql/attrib_credit_split.sql"
	fi
	if [[ -n $(psqlq -At -c "SELECT to_regproc('attrib.credit_arrays')") ]]; then
		measure "$cur_scale" attrib_arrays "$bench/sql/attrib_credit_arrays.sql"
	fi
	measure "$cur_scale" plain "$bench/sql/plain.sql"
	measure "$cur_scale" journey_build_p0 "$bench/sql/journey_build.sql" "$bench/sql/serial.set"
	measure "$cur_scale" journey_build_p2 "$bench/sql/journey_build.sql" "$bench/sql/parallel2.set"
	metaput "$cur_scale" workers:journey_build_p2 "$(workers_planned "$bench/sql/journey_build.sql" "$bench/sql/parallel2.set")"
	for s in floor attrib plain; do
		f=$bench/sql/$s.sql
		[[ $s != attrib ]] || f=$bench/sql/attrib_credits.sql
		metaput "$cur_scale" "workers:$s" "$(workers_planned "$f")"
	done

	measure "$cur_scale" refresh "$bench/sql/refresh.sql" "" "" vacuum_caches
	psqlq -c 'ANALYZE attrib.journey_cache, attrib.credit_store'
	metaput "$cur_scale" credit_rows "$(psqlq -At -c 'SELECT count(*) FROM attrib.credit_cache')"
	metaput "$cur_scale" cache_mb "$(psqlq -At -c "SELECT (pg_total_relation_size('attrib.journey_cache') + pg_total_relation_size('attrib.credit_store')) / 1048576")"
	cancel_check "$cur_scale"
	measure "$cur_scale" recompute "$bench/sql/recompute.sql" "" "" vacuum_credits
	measure "$cur_scale" stored_credits "$bench/sql/stored_credits.sql"
	if [[ -n $(psqlq -At -c "SELECT to_regproc('attrib.credit_arrays')") ]]; then
		measure "$cur_scale" stored_arrays "$bench/sql/stored_arrays.sql"
	fi
	measure "$cur_scale" report_channel "$bench/sql/report_channel.sql"
	measure "$cur_scale" report_wide "$bench/sql/report_wide.sql"

	measure "$cur_scale" noop_p0 "$bench/sql/parallel_noop.sql" "$bench/sql/serial.set"
	measure "$cur_scale" noop_p2 "$bench/sql/parallel_noop.sql" "$bench/sql/parallel2.set"
	metaput "$cur_scale" workers:noop_p2 "$(workers_planned "$bench/sql/parallel_noop.sql" "$bench/sql/parallel2.set")"
	for s in markov1 markov3 shapley; do
		measure "$cur_scale" "${s}_p0" "$bench/sql/$s.sql" "$bench/sql/serial.set"
		measure "$cur_scale" "${s}_p2" "$bench/sql/$s.sql" "$bench/sql/parallel2.set"
		metaput "$cur_scale" "workers:${s}_p2" "$(workers_planned "$bench/sql/$s.sql" "$bench/sql/parallel2.set")"
		measure "$cur_scale" "${s}_solve" "$bench/sql/${s}_solve.sql"
	done

	metaput "$cur_scale" changed_accounts "$(psqlq -At -c "SELECT greatest(2, round(count(DISTINCT account_id) * 0.01)) FROM attrib.opportunities")"
	measure "$cur_scale" incremental "$bench/sql/incremental.sql" "" change_touches
	if [[ $skip != *",incremental,"* && $skip != *",incremental_check,"* ]]; then
		d_inc=$(psqlq -At -c "$digest_sql")
		psqlq -c 'SELECT attrib.refresh()' >/dev/null
		d_full=$(psqlq -At -c "$digest_sql")
		if [[ $d_inc == "$d_full" ]]; then
			metaput "$cur_scale" incremental_equals_full yes
		else
			metaput "$cur_scale" incremental_equals_full "NO ($d_inc vs $d_full)"
		fi
	fi

	# a changed custom model: added (untimed), changed before each run, removed after
	if [[ $skip != *",model_change,"* ]]; then
		psqlq -c "INSERT INTO attrib.model_config (name, base_model, options) VALUES ('bench_custom', 'custom',
			'{\"weights\": {\"FT\": 0.2, \"LC\": 0.1, \"OC\": 0.4, \"middle\": 0.3}}')" \
			-c 'SELECT attrib.refresh_incremental()' >/dev/null
		measure "$cur_scale" model_change "$bench/sql/model_change.sql" "" change_model
		psqlq -c "DELETE FROM attrib.model_config WHERE name = 'bench_custom'" \
			-c 'SELECT attrib.refresh_incremental()' >/dev/null
	fi

	# where the time goes: EXPLAIN ANALYZE of the attrib step, and a perf profile
	{
		echo 'EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)'
		cat "$bench/sql/attrib_credits.sql"
	} | psqlq -f - 2>&1 | cut -c1-200 >"$work/explain-attrib-$cur_scale.txt" || true
	if [[ $cur_scale == "$last_scale" && ${BENCH_PERF:-1} != 0 ]] && command -v perf >/dev/null 2>&1; then
		{
			echo 'SELECT pg_backend_pid() AS bpid \gset'
			echo '\setenv BPID :bpid'
			echo "\\! perf record -F 499 -g -p \$BPID -o '$work/perf-attrib.data' >/dev/null 2>&1 & echo \$! > '$work/perf.pid'; sleep 1"
			cat "$bench/sql/attrib_credits.sql"
			echo "\\! kill -INT \$(cat '$work/perf.pid'); sleep 2"
		} >"$work/perf.sql"
		if psqlq -f "$work/perf.sql" >/dev/null 2>&1; then
			perf report -i "$work/perf-attrib.data" --no-children --sort dso,symbol -g none 2>/dev/null |
				grep -v '^#' | grep '%' | head -n 30 >"$work/perf-attrib.txt" || true
		fi
	fi

	metaput "$cur_scale" load_after "$(cut -d' ' -f1-3 /proc/loadavg)"
done
pg_stop

"$BENCH_PYTHON" "$bench/report.py" --raw "$raw" --meta "$meta" --work "$work" --out "$out_md" \
	--runs "$runs" --git "$git_head" --git-dirty "$git_dirty" --so "$so_md5" \
	--conf "$(printf '%s\n' "${conf[@]}")" --scales "${scales[*]}" --huge-pages "$huge_pages" --warmup "${BENCH_WARMUP:-1}" \
	--merge "${BENCH_MERGE:-}"
cat "$out_md"
say "bench: results in $out_md"
