#!/usr/bin/env bash
#
# t_rls.sh — row-level security on the CRM tables hides rows in every report.
#
# Two databases get the same hand-made CRM: FULL has a third account, "secret";
# BASE does not.  In FULL, row-level security is enabled on every account-keyed
# table (accounts, contacts, opportunities, opportunity_contact_roles,
# stage_events, touches, and the stored journey_cache and credit_store), and
# roles get the grants the README gives a BI role (USAGE on the schema, SELECT
# on all its tables and views):
#   bi_limited  a policy hides the secret account in every one of those tables:
#               every view of the extension (and every table) read as bi_limited
#               in FULL equals what the superuser reads in BASE — as if the account
#               did not exist — and no view row mentions it;
#   bi_opps     only attrib.opportunities hides the secret account's deals: every
#               credit report (touch_credits, journeys, touch_credits_wide,
#               revenue_by_*, model_comparison, campaign_roi,
#               influenced_revenue_by_channel) equals BASE's;
#   bi_touch    only attrib.touches hides the secret account's touches: no view
#               shows one of those touches (ids sec-t*, channel secret_channel);
#   bi_views    USAGE and SELECT on the views only, none on the tables: every view
#               raises a permission error (42501), never returns data;
#   bi_nothing  no grant at all: 42501 too.
# Data-driven models (fitted over every journey) are disabled in both databases:
# their stored credits legitimately depend on journeys a role cannot see.
# Note: the stored results (journey_cache, credit_store) are tables the README's
# grants let a BI role read directly; bi_limited's policies cover them too, which
# is what a deployment with row-level security must do.  (credit_cache is a
# security_invoker view of credit_store: credit_store's policies apply to it.)
set -uo pipefail
# shellcheck source=lib/tscript.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib/tscript.sh"
ts_init rls

FULL=attrib_rls_full_$$
BASE=attrib_rls_base_$$
sfx=_$$
roles=("bi_limited$sfx" "bi_opps$sfx" "bi_touch$sfx" "bi_views$sfx" "bi_nothing$sfx")
drop_roles() {
	local r
	for r in "${roles[@]}"; do
		psql -X -q -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1
	done
}
trap 'ts_cleanup; drop_roles' EXIT

# --- the CRM (psql variable with_secret: add the secret account) --------------------------
cat >"$ts_tmp/fixture.sql" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION attrib;
INSERT INTO attrib.channels VALUES ('paid_search', 'paid', false), ('webinar', 'events', false),
	('email', 'owned', false), ('direct', 'direct', true), ('sales_call', 'sales', false),
	('secret_channel', 'paid', false);
INSERT INTO attrib.campaigns VALUES ('cmp_ps', 'Search', 'paid_search', 500, 'USD', '2024-01-01'),
	('cmp_web', 'Webinars', 'webinar', 1000, 'EUR', '2024-01-01'),
	('cmp_secret', 'Secret', 'secret_channel', 200, 'USD', '2024-01-01');
INSERT INTO attrib.exchange_rates VALUES ('EUR', '2023-01-01', 1.10), ('EUR', '2024-04-01', 1.0731);
SELECT attrib.set_setting('as_of', '2024-09-01 00:00+00');
INSERT INTO attrib.model_config (name, base_model, options) VALUES
	('w_sales', 'custom', '{"weights": {"FT": 0.2, "LC": 0.2, "OC": 0.5, "middle": 0.1}}');
-- models fitted over all journeys are not per-opportunity: off (see the header)
INSERT INTO attrib.model_config (name, base_model, options, enabled)
SELECT name, name, '{}', false FROM attrib.models()
WHERE family NOT IN ('single-touch', 'even', 'index-positional', 'milestone-positional', 'time', 'influence');

CREATE TEMP TABLE acc (account_id text, segment text, cur text, chans text[], tprefix text);
INSERT INTO acc VALUES
	('acme', 'Enterprise', 'USD', '{paid_search,webinar,email,direct,sales_call}', 'acme-t'),
	('globex', 'SMB', 'EUR', '{webinar,email,paid_search,sales_call,direct}', 'globex-t');
\if :with_secret
INSERT INTO acc VALUES ('secret', 'Enterprise', 'USD', '{secret_channel}', 'sec-t');
\endif
INSERT INTO attrib.accounts (account_id, name, segment, owner)
	SELECT account_id, initcap(account_id), segment, 'rep_' || account_id FROM acc;
INSERT INTO attrib.contacts (account_id, contact_id, lead_created_at)
	SELECT account_id, account_id || '-c' || k, timestamptz '2024-01-10' + k * interval '9 days'
	FROM acc, generate_series(1, 3) k;
INSERT INTO attrib.opportunities (account_id, opportunity_id, amount, currency, created_at, closed_at, is_won, stage, owner)
	SELECT account_id, account_id || '-o' || k, 1000 * k + 0.37 * k, cur,
		   timestamptz '2024-03-01' + k * interval '20 days',
		   CASE k WHEN 3 THEN NULL ELSE timestamptz '2024-05-01' + k * interval '25 days' END,
		   k = 1, CASE k WHEN 1 THEN 'Closed Won' WHEN 2 THEN 'Closed Lost' ELSE 'Proposal' END,
		   'rep_' || account_id
	FROM acc, generate_series(1, 3) k;
INSERT INTO attrib.opportunity_contact_roles
	SELECT account_id, account_id || '-o' || k, account_id || '-c' || c, 'Buyer', c = 1
	FROM acc, generate_series(1, 3) k, generate_series(1, 2) c;
INSERT INTO attrib.stage_events
	SELECT account_id, account_id || '-e' || k || s.n, account_id || '-o' || k, NULL, s.stage,
		   timestamptz '2024-03-02' + k * interval '20 days' + s.n * interval '3 days'
	FROM acc, generate_series(1, 3) k, (VALUES (1, 'Discovery'), (2, 'Demo'), (3, 'Proposal')) s(n, stage);
INSERT INTO attrib.stage_events
	SELECT account_id, account_id || '-m' || c, NULL, account_id || '-c' || c, 'MQL',
		   timestamptz '2024-01-20' + c * interval '5 days'
	FROM acc, generate_series(1, 3) c;
INSERT INTO attrib.touches (account_id, touch_id, occurred_at, channel, campaign_id, contact_id, touch_type, owner)
	SELECT account_id, tprefix || n, timestamptz '2024-01-03' + n * interval '6 days 5 hours',
		   chans[1 + n % cardinality(chans)],
		   CASE chans[1 + n % cardinality(chans)] WHEN 'paid_search' THEN 'cmp_ps' WHEN 'webinar' THEN 'cmp_web'
				WHEN 'secret_channel' THEN 'cmp_secret' END,
		   CASE WHEN n % 4 = 0 THEN NULL ELSE account_id || '-c' || (1 + n % 3) END,
		   CASE WHEN chans[1 + n % cardinality(chans)] = 'sales_call' THEN 'sales' ELSE 'marketing' END,
		   CASE WHEN chans[1 + n % cardinality(chans)] = 'sales_call' THEN 'rep_' || account_id END
	FROM acc, generate_series(1, 30) n;
-- the cold spell and revival: a gap of more than 60 days, then touches again
INSERT INTO attrib.touches (account_id, touch_id, occurred_at, channel, campaign_id)
	SELECT account_id, tprefix || 'late' || n, timestamptz '2024-10-20' + n * interval '2 days',
		   chans[1], NULL FROM acc, generate_series(1, 2) n;
SELECT opportunities FROM attrib.refresh();
SQL

ts_db "$FULL"
ts_db "$BASE"
psql -X -q -v ON_ERROR_STOP=1 -d "$FULL" -v with_secret=1 -f "$ts_tmp/fixture.sql" >/dev/null || {
	ts_fail "fixture (with the secret account)"
	ts_done
}
psql -X -q -v ON_ERROR_STOP=1 -d "$BASE" -v with_secret=0 -f "$ts_tmp/fixture.sql" >/dev/null || {
	ts_fail "fixture (without it)"
	ts_done
}

# --- roles, grants and policies in FULL -----------------------------------------------------
drop_roles
{
	for r in "${roles[@]}"; do echo "CREATE ROLE $r NOLOGIN;"; done
	# the README's BI grants
	for r in bi_limited$sfx bi_opps$sfx bi_touch$sfx; do
		echo "GRANT USAGE ON SCHEMA attrib TO $r; GRANT SELECT ON ALL TABLES IN SCHEMA attrib TO $r;"
	done
	# views only, no table
	echo "GRANT USAGE ON SCHEMA attrib TO bi_views$sfx;"
	echo "DO \$\$ DECLARE v text; BEGIN
		FOR v IN SELECT quote_ident(relname) FROM pg_class WHERE relnamespace = 'attrib'::regnamespace AND relkind = 'v' LOOP
			EXECUTE format('GRANT SELECT ON attrib.%s TO bi_views$sfx', v);
		END LOOP; END \$\$;"
	for t in accounts contacts opportunities opportunity_contact_roles stage_events touches journey_cache credit_store; do
		echo "ALTER TABLE attrib.$t ENABLE ROW LEVEL SECURITY;"
		echo "CREATE POLICY hide_secret ON attrib.$t FOR SELECT TO bi_limited$sfx USING (account_id <> 'secret');"
		if [[ $t == opportunities ]]; then
			echo "CREATE POLICY opps ON attrib.$t FOR SELECT TO bi_opps$sfx USING (account_id <> 'secret');"
		else
			echo "CREATE POLICY opps ON attrib.$t FOR SELECT TO bi_opps$sfx USING (true);"
		fi
		if [[ $t == touches ]]; then
			echo "CREATE POLICY touch ON attrib.$t FOR SELECT TO bi_touch$sfx USING (account_id <> 'secret');"
		else
			echo "CREATE POLICY touch ON attrib.$t FOR SELECT TO bi_touch$sfx USING (true);"
		fi
	done
	# try(sql) for the permission checks: the SQLSTATE, or ok and the row count
	echo "CREATE FUNCTION public.rls_try(sql text) RETURNS text LANGUAGE plpgsql AS \$f\$
		DECLARE n bigint; BEGIN EXECUTE 'SELECT count(*) FROM (' || sql || ') x' INTO n; RETURN 'ok ' || n;
		EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE; END \$f\$;"
} >"$ts_tmp/security.sql"
ts_file "$FULL" "$ts_tmp/security.sql" >/dev/null || {
	ts_fail "roles, grants and policies"
	ts_done
}

digests() { # digests DB [ROLE]
	{
		[[ -n ${2:-} ]] && echo "SET ROLE $2;"
		cat "$ts_root/test/lib/digests.sql"
	} >"$ts_tmp/dg.sql"
	psql -X -q -v ON_ERROR_STOP=1 -At -d "$1" -f "$ts_tmp/dg.sql"
}
digests "$BASE" >"$ts_tmp/base" || ts_fail "digests of BASE"
digests "$FULL" >"$ts_tmp/full" || ts_fail "digests of FULL"
digests "$FULL" "bi_limited$sfx" >"$ts_tmp/limited" || ts_fail "digests as bi_limited"
digests "$FULL" "bi_opps$sfx" >"$ts_tmp/opps" || ts_fail "digests as bi_opps"
lookup() { awk -F'\t' -v r="$2" '$1 == r { print $2 }' "$1"; }

# sanity: the secret account shows in FULL's reports for the superuser
for rel in "view attrib.revenue_by_channel" "view attrib.touch_credits" "view attrib.campaign_roi"; do
	if [[ $(lookup "$ts_tmp/full" "$rel") != "$(lookup "$ts_tmp/base" "$rel")" ]]; then
		ts_ok "the secret account changes $rel for the superuser"
	else
		ts_fail "the secret account does not change $rel: the test proves nothing"
	fi
done

# bi_limited: every table and view as if the account did not exist
nrel=$(wc -l <"$ts_tmp/base")
if ((nrel >= 30)); then ts_ok "comparing $nrel relations"; else ts_fail "only $nrel relations to compare"; fi
while IFS=$'\t' read -r rel want; do
	ts_check "bi_limited: $rel as without the account (${want%% *} rows)" "$(lookup "$ts_tmp/limited" "$rel")" "$want"
done <"$ts_tmp/base"

# bi_opps: the credit reports as without the account
for v in touch_credits journeys touch_credits_wide revenue_by_channel revenue_by_campaign revenue_by_account \
	revenue_by_contact revenue_by_owner revenue_by_month model_comparison campaign_roi influenced_revenue_by_channel; do
	ts_check "bi_opps (RLS on opportunities only): attrib.$v as without the account" \
		"$(lookup "$ts_tmp/opps" "view attrib.$v")" "$(lookup "$ts_tmp/base" "view attrib.$v")"
done

# no view row mentions a hidden row: each view's rows as text, searched for patterns
leaks() { # leaks ROLE SKIP_REGEX PATTERN...: "view:count" for each view with a match
	local role=$1 skip=$2 v p cond=""
	shift 2
	for p in "$@"; do cond+="${cond:+ OR }x::text LIKE '%$p%'"; done
	{
		echo "SET ROLE $role;"
		while read -r v; do
			[[ $v =~ $skip ]] && continue
			echo "SELECT '$v:' || count(*) FROM attrib.$v x WHERE $cond HAVING count(*) > 0;"
		done <"$ts_tmp/views"
	} >"$ts_tmp/leaks.sql"
	ts_file "$FULL" "$ts_tmp/leaks.sql" | tr '\n' ' ' | sed 's/ $//'
}
ts_sql "$FULL" "SELECT relname FROM pg_class WHERE relnamespace = 'attrib'::regnamespace AND relkind = 'v' ORDER BY 1" \
	>"$ts_tmp/views"
# the account's ids: secret, secret-o1, secret-c1, secret-e11, secret-m1 and touches sec-t1...
ids=("(secret," ",secret," ",secret)" "secret-" "sec-t")
ts_check "bi_limited: no view row mentions the secret account" "$(leaks "bi_limited$sfx" '^$' "${ids[@]}")" ""
# campaigns and channels are not account data: campaign_roi and src_campaigns/src_channels
# list the secret campaign and channel for everyone (and so does BASE).  credit_cache is
# the stored credits (credit_store) row by row, touch ids included, like the
# journey_cache table: a policy on touches alone does not hide them there (bi_limited's
# policies on the stored tables do, above)
ts_check "bi_touch (RLS on touches only): no report view shows a hidden touch or its channel" \
	"$(leaks "bi_touch$sfx" '^(campaign_roi|src_campaigns|src_channels|credit_cache)$' sec-t secret_channel)" ""
ts_check "bi_touch: credit_cache shows the stored touch ids (its policy is on credit_store)" \
	"$(leaks "bi_touch$sfx" '^$' sec-t | grep -o 'credit_cache:' | head -1)" "credit_cache:"
ts_check "superuser: the secret account's touches do show (sanity)" \
	"$(leaks postgres '^$' sec-t | grep -o 'touch_credits:' | head -1)" "touch_credits:"

# a role without rights on the inputs gets a permission error, never data
for r in bi_views$sfx bi_nothing$sfx; do
	got=$(ts_sql "$FULL" "SET ROLE $r; SELECT string_agg(v || '=' || public.rls_try('SELECT * FROM attrib.' || v), ' ' ORDER BY v)
		FROM (SELECT quote_ident(relname) AS v FROM pg_class WHERE relnamespace = 'attrib'::regnamespace AND relkind = 'v') s")
	nviews=$(wc -l <"$ts_tmp/views")
	nerr=$(grep -o '=42501' <<<"$got" | wc -l)
	if [[ $nerr == "$nviews" ]]; then
		ts_ok "$r: all $nviews views raise 42501 (insufficient privilege)"
	else
		ts_fail "$r: not every view raises 42501: $(tr ' ' '\n' <<<"$got" | grep -v '=42501' | tr '\n' ' ')"
	fi
done

ts_done
