#!/usr/bin/env bash
#
# t_cron.sh — attrib.schedule_refresh() with and without pg_cron.
#
# pg_cron runs its jobs in one database (cron.database_name, 'postgres' in the
# test cluster, test/lib/pgcluster.sh), so this runs there: it creates the
# extensions it needs and drops what it created.  Asserts:
#   - without pg_cron, schedule_refresh raises feature_not_supported (0A000) with
#     the documented message and a hint, and schedules nothing;
#   - with pg_cron: it returns a job id; cron.job has that job, named
#     attrib-refresh, with the schedule, the command SELECT attrib.refresh(), this
#     database and user, active; scheduling again updates the same job (one job,
#     new schedule); the default schedule is hourly; a bad schedule is an error;
#     incremental => true schedules SELECT attrib.refresh_incremental() as a
#     second job, attrib-refresh-incremental, leaving the full one alone; NULL
#     is an error (22004);
#   - ATTRIB_CRON_WAIT=1 also waits (at most 75 s) for the job to run once:
#     cron.job_run_details says succeeded and refresh_log gained a row.
# Without pg_cron preloaded only the first part runs.
set -uo pipefail
# shellcheck source=lib/tscript.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib/tscript.sh"
ts_init cron

DB=postgres
had_attrib=$(ts_sql "$DB" "SELECT count(*) FROM pg_extension WHERE extname = 'attrib'")
had_cron=$(ts_sql "$DB" "SELECT count(*) FROM pg_extension WHERE extname = 'pg_cron'")
orig_cron=$had_cron
preloaded=$(ts_sql "$DB" "SELECT current_setting('shared_preload_libraries') ~ 'pg_cron'")
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup_cron() {
	if [[ $preloaded == t ]]; then
		psql -X -q -d "$DB" -c "SELECT cron.unschedule(jobid) FROM cron.job
			WHERE jobname IN ('attrib-refresh', 'attrib-refresh-incremental')" \
			>/dev/null 2>&1
	fi
	if [[ $orig_cron == 1 ]]; then # leave it as we found it
		psql -X -q -d "$DB" -c "CREATE EXTENSION IF NOT EXISTS pg_cron" >/dev/null 2>&1
	else
		psql -X -q -d "$DB" -c "DROP EXTENSION IF EXISTS pg_cron" >/dev/null 2>&1
	fi
	[[ $had_attrib == 0 ]] && psql -X -q -d "$DB" -c "DROP EXTENSION IF EXISTS attrib" >/dev/null 2>&1
}
trap 'cleanup_cron; ts_cleanup' EXIT

if [[ $had_attrib == 0 ]]; then
	ts_sql "$DB" "CREATE EXTENSION attrib" || {
		ts_fail "CREATE EXTENSION attrib in $DB"
		ts_done
	}
fi

# --- without pg_cron ------------------------------------------------------------------
if [[ $had_cron == 1 ]]; then
	# the error case needs pg_cron absent: set it aside for a moment (our jobs only)
	ts_sql "$DB" "SELECT count(*) FROM cron.job WHERE jobname NOT IN ('attrib-refresh', 'attrib-refresh-incremental')" |
		grep -qx 0 || {
		echo "pg_cron in $DB has other jobs; not dropping it"
		ts_fail "cannot test the no-pg_cron error here"
		ts_done
	}
	ts_sql "$DB" "DROP EXTENSION pg_cron" || ts_fail "drop pg_cron"
	had_cron=0
fi
got=$(ts_sql "$DB" "DO \$\$ BEGIN
		PERFORM attrib.schedule_refresh('* * * * *');
		RAISE NOTICE 'no error';
	EXCEPTION WHEN OTHERS THEN
		DECLARE st text; msg text; hint text;
		BEGIN
			GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
			RAISE NOTICE '%|%|%', st, msg, hint ~ 'CREATE EXTENSION pg_cron';
		END;
	END \$\$" 2>&1 | sed 's/^NOTICE: *//')
ts_check "without pg_cron: feature_not_supported, the documented message and a hint" \
	"$got" "0A000|pg_cron is not installed in this database|t"

if [[ $preloaded != t ]]; then
	echo "pg_cron is not in shared_preload_libraries: skipping the scheduling checks"
	ts_done
fi

# --- with pg_cron -----------------------------------------------------------------------
ts_sql "$DB" "CREATE EXTENSION pg_cron" || {
	ts_fail "CREATE EXTENSION pg_cron"
	ts_done
}
job=$(ts_sql "$DB" "SELECT attrib.schedule_refresh('* * * * *')")
if [[ $job =~ ^[0-9]+$ ]]; then ts_ok "schedule_refresh returns a job id ($job)"; else ts_fail "schedule_refresh returned [$job]"; fi
ts_check "cron.job has it: name, schedule, command, database, user, active" \
	"$(ts_sql "$DB" "SELECT jobname || '|' || schedule || '|' || command || '|' || database || '|' || username || '|' || active
		FROM cron.job WHERE jobid = ${job:-0}")" \
	"attrib-refresh|* * * * *|SELECT attrib.refresh()|$DB|$(ts_sql "$DB" "SELECT current_user")|true"

job2=$(ts_sql "$DB" "SELECT attrib.schedule_refresh('*/15 * * * *')")
ts_check "scheduling again updates the same job" \
	"$job2 $(ts_sql "$DB" "SELECT count(*) || ' ' || max(schedule) FROM cron.job WHERE jobname = 'attrib-refresh'")" \
	"$job 1 */15 * * * *"
ts_sql "$DB" "SELECT attrib.schedule_refresh()" >/dev/null
ts_check "the default schedule is hourly" \
	"$(ts_sql "$DB" "SELECT schedule FROM cron.job WHERE jobname = 'attrib-refresh'")" "0 * * * *"
if ts_sql "$DB" "SELECT attrib.schedule_refresh('every now and then')" >/dev/null 2>"$ts_tmp/bad.err"; then
	ts_fail "a bad schedule is accepted"
else
	ts_ok "a bad schedule is an error: $(head -n 1 "$ts_tmp/bad.err")"
fi
ts_check "the bad schedule left the job alone" \
	"$(ts_sql "$DB" "SELECT count(*) || ' ' || max(schedule) FROM cron.job WHERE jobname = 'attrib-refresh'")" "1 0 * * * *"

inc=$(ts_sql "$DB" "SELECT attrib.schedule_refresh('*/5 * * * *', incremental => true)")
ts_check "incremental => true: a second job running refresh_incremental()" \
	"$(ts_sql "$DB" "SELECT jobname || '|' || schedule || '|' || command || '|' || active || '|' || (jobid <> ${job:-0})
		FROM cron.job WHERE jobid = ${inc:-0}")" \
	"attrib-refresh-incremental|*/5 * * * *|SELECT attrib.refresh_incremental()|true|true"
ts_check "the full refresh's job is unchanged beside it" \
	"$(ts_sql "$DB" "SELECT string_agg(jobname || ' ' || schedule, ', ' ORDER BY jobname) FROM cron.job")" \
	"attrib-refresh 0 * * * *, attrib-refresh-incremental */5 * * * *"
ts_check "scheduling the incremental job again updates it" \
	"$(ts_sql "$DB" "SELECT attrib.schedule_refresh('*/10 * * * *', true) = ${inc:-0}") $(ts_sql "$DB" \
		"SELECT count(*) || ' ' || max(schedule) FROM cron.job WHERE jobname = 'attrib-refresh-incremental'")" \
	"t 1 */10 * * * *"
ts_check "incremental => NULL: null_value_not_allowed" \
	"$(ts_sql "$DB" "DO \$\$ BEGIN PERFORM attrib.schedule_refresh('* * * * *', NULL);
		EXCEPTION WHEN OTHERS THEN RAISE NOTICE '%', SQLSTATE; END \$\$" 2>&1 | sed 's/^NOTICE: *//')" "22004"
ts_sql "$DB" "SELECT cron.unschedule('attrib-refresh-incremental')" >/dev/null

# --- optionally, the job runs -------------------------------------------------------------
if [[ ${ATTRIB_CRON_WAIT:-0} == 1 ]]; then
	ts_sql "$DB" "
		INSERT INTO attrib.accounts (account_id) VALUES ('cron-acc');
		INSERT INTO attrib.opportunities (account_id, opportunity_id, amount, created_at, closed_at, is_won)
			VALUES ('cron-acc', 'cron-o', 100, '2024-01-10', '2024-02-01', true);
		INSERT INTO attrib.touches (account_id, touch_id, occurred_at, channel)
			VALUES ('cron-acc', 'cron-t', '2024-01-05', 'email');
		SELECT attrib.schedule_refresh('* * * * *');" >/dev/null
	before=$(ts_sql "$DB" "SELECT count(*) FROM attrib.refresh_log")
	status=""
	for ((i = 0; i < 75; i++)); do
		status=$(ts_sql "$DB" "SELECT status FROM cron.job_run_details WHERE jobid = $job
			AND status IN ('succeeded', 'failed') ORDER BY runid DESC LIMIT 1")
		[[ -n $status ]] && break
		sleep 1
	done
	ts_check "the job ran within $i s and succeeded" "$status" "succeeded"
	ts_check "it refreshed: refresh_log gained a row, the opportunity is stored" \
		"$(ts_sql "$DB" "SELECT (SELECT count(*) FROM attrib.refresh_log) > $before, (SELECT count(*) FROM attrib.journey_cache)")" \
		"t|1"
fi

ts_done
