#!/usr/bin/env bash
#
# t_refresh_concurrency.sh — attrib.refresh() while the CRM sync is writing.
#
# In a scratch database with a small CRM (200 accounts), four sessions run at once:
#   writer     300 short transactions inserting touches, and every 10th a new
#              opportunity (won, lost or open, some in EUR), some on new accounts;
#   refresher  attrib.refresh() 8 times;  refresher2  attrib.refresh() 4 times
#              (concurrent refreshes queue on the advisory lock);
#   reader     REPEATABLE READ transactions, until the refreshers are done, each
#              reading the stored results twice (with a pause between): in every
#              read the credits of every opportunity sum exactly to its amount
#              (and to its converted amount) under every additive model, and both
#              reads of one transaction see the same refresh.
# Writer and reader run with lock_timeout = 2s: a refresh must not block them.
# Then asserts: no session saw an error, every refresh succeeded, the reader saw
# more than one refresh; after a final refresh every opportunity is stored, each
# journey has exactly the touches of its window (recounted in plain SQL) and the
# per-opportunity sums are exact.
set -uo pipefail
# shellcheck source=lib/tscript.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib/tscript.sh"
ts_init refresh_concurrency

DB=attrib_conc_$$
ts_db "$DB"
ts_sql "$DB" "
CREATE EXTENSION attrib;
INSERT INTO attrib.exchange_rates VALUES ('EUR', '2023-01-01', 1.0837), ('EUR', '2024-03-01', 1.0913);
SELECT attrib.set_setting('as_of', '2024-12-31 00:00+00');
INSERT INTO attrib.model_config (name, base_model, options) VALUES
	('w_sales', 'custom', '{\"weights\": {\"FT\": 0.2, \"LC\": 0.2, \"OC\": 0.5, \"middle\": 0.1}}');
INSERT INTO attrib.accounts (account_id, name) SELECT 'a' || i, 'Account ' || i FROM generate_series(1, 200) i;
INSERT INTO attrib.contacts (account_id, contact_id, lead_created_at)
	SELECT 'a' || i, 'a' || i || 'c' || k, timestamptz '2024-01-01' + ((i * 7 + k * 13) % 90) * interval '1 day'
	FROM generate_series(1, 200) i, generate_series(1, 3) k;
INSERT INTO attrib.opportunities (account_id, opportunity_id, amount, currency, created_at, closed_at, is_won)
	SELECT 'a' || i, 'a' || i || 'o0', round(1000 + i * 13.37, 2), CASE WHEN i % 5 = 0 THEN 'EUR' ELSE 'USD' END,
		   timestamptz '2024-04-01' + (i % 30) * interval '1 day',
		   CASE WHEN i % 7 = 0 THEN NULL ELSE timestamptz '2024-07-01' + (i % 60) * interval '1 day' END,
		   i % 7 <> 0 AND i % 4 <> 0
	FROM generate_series(1, 200) i;
INSERT INTO attrib.touches (account_id, touch_id, occurred_at, channel, contact_id)
	SELECT 'a' || i, 'a' || i || 't' || n, timestamptz '2024-01-01' + ((i * 31 + n * 17) % 330) * interval '1 day',
		   (ARRAY['paid_search','email','webinar','direct','organic','event'])[1 + (i + n) % 6],
		   CASE WHEN n % 4 = 0 THEN NULL ELSE 'a' || i || 'c' || (1 + n % 3) END
	FROM generate_series(1, 200) i, generate_series(1, 8) n;
SELECT opportunities FROM attrib.refresh();" >/dev/null || {
	ts_fail "fixture"
	ts_done
}

# --- the session scripts -------------------------------------------------------------
# (plain bash, no subshells: forks are slow on a loaded machine)
channels=(paid_social demo sales_call email)
{
	echo "SET lock_timeout = '2s';"
	for ((w = 1; w <= 300; w++)); do
		acc=a$((1 + (w * 37) % 200))
		echo "BEGIN;"
		echo "INSERT INTO attrib.touches (account_id, touch_id, occurred_at, channel, contact_id) VALUES
			('$acc', 'w$w', timestamptz '2024-01-01' + $(((w * 13) % 360)) * interval '1 day' + $w * interval '1 minute',
			 '${channels[w % 4]}', '${acc}c$((1 + w % 3))');"
		if ((w % 10 == 0)); then
			if ((w % 30 == 0)); then # a new account with its first opportunity and a touch
				acc=n$w
				echo "INSERT INTO attrib.accounts (account_id, name) VALUES ('$acc', 'New $w');"
				echo "INSERT INTO attrib.touches (account_id, touch_id, occurred_at, channel) VALUES
					('$acc', 'w${w}b', '2024-05-0$((1 + w % 9)) 00:00+00', 'webinar');"
			fi
			cur=USD closed="'2024-09-$((10 + w % 19)) 00:00+00'" won=true
			((w % 20 == 0)) && cur=EUR
			((w % 40 == 0)) && closed=NULL
			((w % 40 == 0 || w % 50 == 0)) && won=false
			echo "INSERT INTO attrib.opportunities (account_id, opportunity_id, amount, currency, created_at, closed_at, is_won) VALUES
				('$acc', 'o$w', $((w * 7)).$((w % 100)), '$cur', '2024-05-15 00:00+00', $closed, $won);"
		fi
		echo "COMMIT;"
		((w % 5 == 0)) && echo "SELECT pg_sleep(0.01);"
	done
	echo "SELECT 'writer done';"
} >"$ts_tmp/writer.sql"

refresher_sql() {
	local n=$1 pause=$2 i
	for ((i = 1; i <= n; i++)); do
		echo "SELECT 'refreshed ' || opportunities FROM attrib.refresh();"
		echo "SELECT pg_sleep($pause);"
	done
}
refresher_sql 8 0.3 >"$ts_tmp/refresher.sql"
refresher_sql 4 0.5 >"$ts_tmp/refresher2.sql"

# one reader transaction: two reads of the stored results in one snapshot
cat >"$ts_tmp/read.sql" <<'SQL'
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT 'read ' || count(*) FILTER (WHERE c.s IS DISTINCT FROM j.amount
							OR c.sr IS DISTINCT FROM j.amount_reporting) || ' '
	   || count(*) || ' ' || count(DISTINCT (j.account_id, j.opportunity_id)) || ' '
	   || (SELECT coalesce(max(refreshed_at)::text, 'none') FROM attrib.refresh_log)
FROM attrib.journey_cache j
CROSS JOIN (SELECT name FROM attrib.model_registry WHERE enabled AND additive) m
LEFT JOIN (SELECT account_id, opportunity_id, model, sum(credit) AS s, sum(credit_reporting) AS sr
		   FROM attrib.credit_cache GROUP BY 1, 2, 3) c
	ON c.account_id = j.account_id AND c.opportunity_id = j.opportunity_id AND c.model = m.name;
SELECT pg_sleep(0.05);
SELECT 'read ' || count(*) FILTER (WHERE c.s IS DISTINCT FROM j.amount
							OR c.sr IS DISTINCT FROM j.amount_reporting) || ' '
	   || count(*) || ' ' || count(DISTINCT (j.account_id, j.opportunity_id)) || ' '
	   || (SELECT coalesce(max(refreshed_at)::text, 'none') FROM attrib.refresh_log)
FROM attrib.journey_cache j
CROSS JOIN (SELECT name FROM attrib.model_registry WHERE enabled AND additive) m
LEFT JOIN (SELECT account_id, opportunity_id, model, sum(credit) AS s, sum(credit_reporting) AS sr
		   FROM attrib.credit_cache GROUP BY 1, 2, 3) c
	ON c.account_id = j.account_id AND c.opportunity_id = j.opportunity_id AND c.model = m.name;
COMMIT;
SQL
{
	echo "SET lock_timeout = '2s';"
	for ((i = 0; i < 5; i++)); do cat "$ts_tmp/read.sql"; done
} >"$ts_tmp/reader.sql"

run() { # run NAME FILE: a psql session in the background, its output in NAME.out
	psql -X -q -v ON_ERROR_STOP=1 -At -d "$DB" -f "$2" >"$ts_tmp/$1.out" 2>"$ts_tmp/$1.err" &
}

# --- go ---------------------------------------------------------------------------
start=$SECONDS
run writer "$ts_tmp/writer.sql"
pid_writer=$!
run refresher "$ts_tmp/refresher.sql"
pid_refresher=$!
sleep 0.2
run refresher2 "$ts_tmp/refresher2.sql"
pid_refresher2=$!
: >"$ts_tmp/reader.all"
: >"$ts_tmp/reader.errs"
reader_rc=0
batches=0
while kill -0 "$pid_refresher" 2>/dev/null || kill -0 "$pid_refresher2" 2>/dev/null ||
	kill -0 "$pid_writer" 2>/dev/null || ((batches < 3)); do
	psql -X -q -v ON_ERROR_STOP=1 -At -d "$DB" -f "$ts_tmp/reader.sql" >>"$ts_tmp/reader.all" 2>>"$ts_tmp/reader.errs" ||
		reader_rc=1
	batches=$((batches + 1))
	((SECONDS - start > 60)) && break
done
wait "$pid_writer"
writer_rc=$?
wait "$pid_refresher"
refresher_rc=$?
wait "$pid_refresher2"
refresher2_rc=$?
echo "sessions took $((SECONDS - start)) s; $batches reader batches"

for s in writer refresher refresher2; do
	if [[ -s $ts_tmp/$s.err ]]; then
		sed 's/^/    /' "$ts_tmp/$s.err" | head -20
		ts_fail "$s session printed errors"
	else
		ts_ok "$s session printed no error"
	fi
done
ts_check "writer finished all 300 transactions" "$writer_rc $(tail -n 1 "$ts_tmp/writer.out")" "0 writer done"
ts_check "refresher: all 8 refreshes succeeded" "$refresher_rc $(grep -c '^refreshed ' "$ts_tmp/refresher.out")" "0 8"
ts_check "refresher2: all 4 refreshes succeeded" "$refresher2_rc $(grep -c '^refreshed ' "$ts_tmp/refresher2.out")" "0 4"
if [[ -s $ts_tmp/reader.errs || $reader_rc != 0 ]]; then
	sed 's/^/    /' "$ts_tmp/reader.errs" | head -20
	ts_fail "reader sessions printed errors (exit $reader_rc)"
else
	ts_ok "reader sessions printed no error (never blocked past lock_timeout)"
fi

# reads: "read BAD CHECKED OPPS REFRESHED_AT", two per transaction
reads=$(grep -c '^read ' "$ts_tmp/reader.all")
bad=$(awk '$1 == "read" && $2 != 0' "$ts_tmp/reader.all" | wc -l)
empty=$(awk '$1 == "read" && $3 == 0' "$ts_tmp/reader.all" | wc -l)
ts_check "every read ($reads) sees exact sums for every opportunity and model" "$bad $empty" "0 0"
split=$(awk '$1 == "read" { n++; if (n % 2 == 1) prev = $0; else if ($0 != prev) print }' "$ts_tmp/reader.all" | wc -l)
ts_check "both reads of each REPEATABLE READ transaction see the same refresh" "$split" "0"
states=$(awk '$1 == "read" { print $5, $6 }' "$ts_tmp/reader.all" | sort -u | wc -l)
if ((states >= 2)); then
	ts_ok "the reader saw $states different refreshes"
else
	ts_fail "the reader saw only $states refresh(es): no overlap with the refreshes"
fi

# --- after a final refresh -------------------------------------------------------------
ts_sql "$DB" "SELECT attrib.refresh()" >/dev/null || ts_fail "final refresh"
ts_check "every opportunity is stored (200 + 30 written)" \
	"$(ts_sql "$DB" "SELECT (SELECT count(*) FROM attrib.opportunities) || ' ' || (SELECT count(*) FROM attrib.journey_cache)")" \
	"230 230"
ts_check "every written touch is in the database" \
	"$(ts_sql "$DB" "SELECT count(*) FROM attrib.touches WHERE touch_id LIKE 'w%'")" "310"
# journeys recounted in plain SQL: account scope, 365 days lookback, as_of 2024-12-31
ts_check "each journey has exactly the touches of its window" \
	"$(ts_sql "$DB" "
	SELECT count(*) FROM attrib.journey_cache j
	JOIN (SELECT o.account_id, o.opportunity_id, count(t.touch_id) AS n
		  FROM attrib.opportunities o
		  LEFT JOIN attrib.touches t ON t.account_id = o.account_id
			   AND t.occurred_at >= o.created_at - interval '365 days'
			   AND t.occurred_at <= coalesce(o.closed_at, '2024-12-31 00:00+00')
		  GROUP BY 1, 2) x USING (account_id, opportunity_id)
	WHERE attrib.journey_length(j.journey) <> x.n")" "0"
ts_check "per-opportunity sums exact under every additive model (both currencies)" \
	"$(ts_sql "$DB" "
	SELECT count(*) FILTER (WHERE c.s IS DISTINCT FROM j.amount OR c.sr IS DISTINCT FROM j.amount_reporting)
		   || ' ' || (count(*) = 230 * count(DISTINCT m.name) AND count(DISTINCT m.name) >= 14)
	FROM attrib.journey_cache j
	CROSS JOIN (SELECT name FROM attrib.model_registry WHERE enabled AND additive) m
	LEFT JOIN (SELECT account_id, opportunity_id, model, sum(credit) AS s, sum(credit_reporting) AS sr
			   FROM attrib.credit_cache GROUP BY 1, 2, 3) c
		ON c.account_id = j.account_id AND c.opportunity_id = j.opportunity_id AND c.model = m.name")" "0 true"
ts_check "amounts converted at the right rate (EUR at close, or creation when open)" \
	"$(ts_sql "$DB" "
	SELECT count(*) FROM attrib.journey_cache j
	WHERE j.amount_reporting <> CASE WHEN j.currency = 'USD' THEN j.amount
		ELSE round(j.amount * CASE WHEN coalesce(j.closed_at, j.created_at) >= '2024-03-01' THEN 1.0913 ELSE 1.0837 END, 2) END")" "0"
ts_check "refresh_log has one row per refresh (1 + 8 + 4 + 1)" \
	"$(ts_sql "$DB" "SELECT count(*) FROM attrib.refresh_log")" "14"

ts_done
