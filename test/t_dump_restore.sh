#!/usr/bin/env bash
#
# t_dump_restore.sh — pg_dump keeps what a user loaded into attrib, and a restore
# into a fresh database gives the same reports after one refresh.
#
# Database A: CREATE EXTENSION attrib, a CRM (test/gen/generate.sql at a small
# scale when it exists, else a hand-made one), non-default settings, registered
# and disabled models, one source mapped to a CRM table; refresh.  (ATTRIB_DUMP_FIXTURE=own
# forces the hand-made CRM; ATTRIB_DUMP_SCALE sets the generator scale.)  pg_dump -Fc A,
# pg_restore into a new database B, refresh in B.  Asserts:
#   - every table attrib registers for dumping has the same rows in A and B
#     (md5 of the ordered rows, and the row count), settings and model_config too;
#   - the CRM's own mapped table is restored and the mapping (source_map) too;
#   - B's stored results are empty until refresh (derived data is not dumped);
#   - after refresh, journey_cache and credit_cache are identical, and so is
#     every view of the extension (reports, lifecycle views, src_* views).
set -uo pipefail
# shellcheck source=lib/tscript.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib/tscript.sh"
ts_init dump_restore

A=attrib_dump_a_$$
B=attrib_dump_b_$$
ts_db "$A"
ts_sql "$A" "CREATE EXTENSION attrib" || exit 1

# --- a CRM in A -------------------------------------------------------------------
if [[ ${ATTRIB_DUMP_FIXTURE:-gen} != own && -f $ts_root/test/gen/generate.sql ]]; then
	echo "fixture: test/gen/generate.sql scale ${ATTRIB_DUMP_SCALE:-0.2}"
	psql -X -q -v ON_ERROR_STOP=1 -d "$A" -v scale="${ATTRIB_DUMP_SCALE:-0.2}" \
		-f "$ts_root/test/gen/generate.sql" >"$ts_tmp/gen.log" 2>&1 || {
		tail -20 "$ts_tmp/gen.log"
		ts_fail "generator loads"
		ts_done
	}
else
	echo "fixture: hand-made"
	ts_sql "$A" "
	INSERT INTO attrib.channels VALUES ('paid_search', 'paid', false), ('direct', 'direct', true),
		('webinar', 'events', false), ('email', 'owned', false);
	INSERT INTO attrib.campaigns VALUES ('cmp_ps', 'Search', 'paid_search', 500, 'USD', '2024-01-01'),
		('cmp_web', 'Webinars', 'webinar', 1000, 'EUR', '2024-01-01');
	INSERT INTO attrib.accounts (account_id, name, segment)
		SELECT 'acc' || i, 'Account ' || i, (ARRAY['SMB','Mid-Market','Enterprise'])[1 + i % 3]
		FROM generate_series(1, 30) i;
	INSERT INTO attrib.contacts (account_id, contact_id, lead_created_at)
		SELECT 'acc' || i, 'acc' || i || '-c' || k, timestamptz '2024-01-01' + (i * 3 + k) * interval '1 day'
		FROM generate_series(1, 30) i, generate_series(1, 3) k;
	INSERT INTO attrib.opportunities (account_id, opportunity_id, amount, currency, created_at, closed_at, is_won, stage)
		SELECT 'acc' || i, 'acc' || i || '-o', 1000 + i * 37.11, CASE WHEN i % 4 = 0 THEN 'EUR' ELSE 'USD' END,
			   timestamptz '2024-03-01' + i * interval '1 day',
			   CASE WHEN i % 5 = 0 THEN NULL ELSE timestamptz '2024-05-01' + i * interval '1 day' END,
			   i % 5 NOT IN (0, 3), CASE WHEN i % 5 = 0 THEN 'Proposal' END
		FROM generate_series(1, 30) i;
	INSERT INTO attrib.opportunity_contact_roles
		SELECT 'acc' || i, 'acc' || i || '-o', 'acc' || i || '-c' || k, 'Role', k = 1
		FROM generate_series(1, 30) i, generate_series(1, 2) k;
	INSERT INTO attrib.stage_events
		SELECT 'acc' || i, 'e' || i, 'acc' || i || '-o', NULL, 'SQL', timestamptz '2024-03-10' + i * interval '1 day'
		FROM generate_series(1, 30) i;
	INSERT INTO attrib.touches (account_id, touch_id, occurred_at, channel, campaign_id, contact_id)
		SELECT 'acc' || i, 't' || i || '-' || n, timestamptz '2024-01-01' + (i + n * 7) * interval '1 day',
			   (ARRAY['paid_search','direct','webinar','email'])[1 + (i + n) % 4],
			   CASE (i + n) % 4 WHEN 0 THEN 'cmp_ps' WHEN 2 THEN 'cmp_web' END,
			   CASE WHEN n % 5 = 0 THEN NULL ELSE 'acc' || i || '-c' || (1 + n % 3) END
		FROM generate_series(1, 30) i, generate_series(1, 3 + i % 9) n;
	INSERT INTO attrib.exchange_rates VALUES ('EUR', '2023-01-01', 1.08), ('EUR', '2024-04-01', 1.0731);
	SELECT attrib.set_setting('as_of', '2024-08-01 00:00+00');" >/dev/null || exit 1
fi

# settings, models and a mapped source, all of which a dump must keep
ts_sql "$A" "
SELECT attrib.set_setting('lookback', '400 days');
SELECT attrib.set_setting('cold_after', '45');
SELECT attrib.set_setting('direct_channels', '{direct,Direct}');
INSERT INTO attrib.model_config (name, base_model, options) VALUES
	('w_sales', 'custom', '{\"weights\": {\"FT\": 0.2, \"LC\": 0.2, \"OC\": 0.5, \"middle\": 0.1}}'),
	('time_decay_30d', 'time_decay', '{\"half_life\": 30}');
INSERT INTO attrib.model_config VALUES ('j_shaped', 'j_shaped', '{}', false);
CREATE SCHEMA crm;
CREATE TABLE crm.campaign_costs AS
	SELECT campaign_id, name, channel, round(coalesce(cost, 0) * 1.5, 2) AS cost, currency, started_at
	FROM attrib.campaigns;
SELECT attrib.map_source('campaigns', 'crm.campaign_costs');
SELECT opportunities FROM attrib.refresh();" >/dev/null || {
	ts_fail "settings, models and mapping in A"
	ts_done
}

# --- dump and restore -------------------------------------------------------------
if "$ts_bindir/pg_dump" -Fc -d "$A" -f "$ts_tmp/a.dump" 2>"$ts_tmp/dump.err"; then
	ts_ok "pg_dump -Fc"
else
	cat "$ts_tmp/dump.err"
	ts_fail "pg_dump -Fc"
	ts_done
fi
ts_db "$B"
if "$ts_bindir/pg_restore" --exit-on-error -d "$B" "$ts_tmp/a.dump" 2>"$ts_tmp/restore.err"; then
	ts_ok "pg_restore into a fresh database"
else
	cat "$ts_tmp/restore.err"
	ts_fail "pg_restore into a fresh database"
	ts_done
fi
[[ -s $ts_tmp/restore.err ]] && { echo "pg_restore said:"; cat "$ts_tmp/restore.err"; }

# derived results are not dumped: empty until the first refresh
ts_check "B's stored results are empty before refresh" \
	"$(ts_sql "$B" "SELECT (SELECT count(*) FROM attrib.journey_cache) + (SELECT count(*) FROM attrib.credit_cache)")" "0"
ts_sql "$B" "SELECT opportunities FROM attrib.refresh()" >/dev/null || ts_fail "refresh in B"

# --- compare ------------------------------------------------------------------------
# One psql call per database prints "kind relation<TAB>rows md5" for every relation
# compared (test/lib/digests.sql): the tables attrib registers with
# pg_extension_config_dump, the CRM's own table, the stored results, every view.
psql -X -q -v ON_ERROR_STOP=1 -At -d "$A" -v extra=crm.campaign_costs -f "$ts_root/test/lib/digests.sql" \
	>"$ts_tmp/a.digests" || ts_fail "digests of A"
psql -X -q -v ON_ERROR_STOP=1 -At -d "$B" -v extra=crm.campaign_costs -f "$ts_root/test/lib/digests.sql" \
	>"$ts_tmp/b.digests" || ts_fail "digests of B"
ntables=$(grep -c '^table attrib\.' "$ts_tmp/a.digests")
nviews=$(grep -c '^view ' "$ts_tmp/a.digests")
if ((ntables >= 13 && nviews >= 20)); then
	ts_ok "comparing $ntables attrib tables and $nviews views"
else
	ts_fail "too few relations to compare: $ntables tables, $nviews views"
fi
while IFS=$'\t' read -r rel da; do
	db=$(awk -F'\t' -v r="$rel" '$1 == r { print $2 }' "$ts_tmp/b.digests")
	ts_check "$rel identical in A and B (${da%% *} rows)" "$db" "$da"
done <"$ts_tmp/a.digests"
# the CRM tables came through non-empty, and the reports have something in them
for rel in table\ attrib.{accounts,contacts,opportunities,opportunity_contact_roles,stage_events,touches,campaigns,channels,exchange_rates,settings,model_config,source_map,credit_cache,journey_cache} \
	view\ attrib.{touch_credits,journeys,touch_credits_wide,revenue_by_channel,campaign_roi,model_comparison,influenced_revenue_by_channel}; do
	n=$(awk -F'\t' -v r="$rel" '$1 == r { split($2, a, " "); print a[1] }' "$ts_tmp/b.digests")
	if [[ ${n:-0} -gt 0 ]]; then ts_ok "$rel has rows in B ($n)"; else ts_fail "$rel is empty in B"; fi
done

ts_check "settings, models and mapping restored" \
	"$(ts_sql "$B" "SELECT (SELECT lookback || ' ' || cold_after || ' ' || direct_channels::text FROM attrib.effective_settings)
		|| ' | ' || (SELECT string_agg(name || ':' || enabled, ',' ORDER BY name) FROM attrib.model_registry
					 WHERE name IN ('w_sales', 'time_decay_30d', 'j_shaped'))
		|| ' | ' || (SELECT relation FROM attrib.source_map WHERE entity = 'campaigns')
		|| ' ' || (pg_get_viewdef('attrib.src_campaigns') LIKE '%crm.campaign_costs%')::text")" \
	"400 days 45 {direct,Direct} | j_shaped:false,time_decay_30d:true,w_sales:true | crm.campaign_costs true"

ts_done
