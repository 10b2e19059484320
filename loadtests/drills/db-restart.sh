#!/usr/bin/env bash
# Database restart drill: the api on PostgreSQL (a fresh database, created and dropped here),
# with keys required. Under load, PostgreSQL is stopped and started again
# (`pg_ctlcluster <version> <cluster> stop -m fast` / `start`). Expected:
#   - journeys and station search (with a key) keep answering: 0 failures;
#   - admin alert writes fail while the database is down and succeed again after it is back
#     (and a key created after the restart is accepted: key calls recover);
#   - every alert write that was answered 2xx is there afterwards: nothing lost.
# PostgreSQL: DRILL_PG_CLUSTER (default main) of DRILL_PG_VERSION (default the first in
# /etc/postgresql), on 127.0.0.1 at that cluster's port; trust auth as user postgres, as CI.
# Usage: loadtests/drills/db-restart.sh   (DRILL_SHORT=1 for CI, DRILL_PROFILE=debug)
DRILL_NAME=db-restart
source "$(dirname "$0")/lib.sh"

ensure_snapshot
ROUTE=$(bin norikae-route norikae-route)
SEARCH=$(bin norikae-search norikae-search)
API=$(bin norikae-api norikae-api)
NORIKAE=$(bin norikae norikae-cli)
DRILL=$(bin norikae-drill norikae-load)
if [[ $DRILL_SHORT == 1 ]]; then rate=40 down=4; else rate=${DRILL_RATE:-150} down=15; fi

PG_VERSION=${DRILL_PG_VERSION:-$(ls /etc/postgresql | head -n1)}
PG_CLUSTER=${DRILL_PG_CLUSTER:-main}
PG_PORT=$(pg_lsclusters -h | awk -v version="$PG_VERSION" -v cluster="$PG_CLUSTER" '$1 == version && $2 == cluster { print $3 }')
[[ -n $PG_PORT ]] || { say "no PostgreSQL cluster $PG_VERSION/$PG_CLUSTER (pg_lsclusters)"; exit 2; }
pg() { psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
pg_up() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; }
pg_start() { pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" start; }
pg_stop() { pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" stop -m fast; }
pg_up || { say "PostgreSQL $PG_VERSION/$PG_CLUSTER is not answering on 127.0.0.1:$PG_PORT"; exit 2; }

DB=norikae_drill_$$
pg -c "CREATE DATABASE $DB"
DB_URL="postgres://postgres@127.0.0.1:$PG_PORT/$DB"
# Whatever happens, PostgreSQL is left running and the drill's database dropped.
before_stop() { pg_up || pg_start; }
after_stop() {
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
}

new_key() {
  NORIKAE_DATABASE__URL="$DB_URL" RUST_LOG=warn "$NORIKAE" keys create "$@" | tail -n1
}
admin_key=$(new_key --name drill-admin --admin --rate 1000/s)
reader_key=$(new_key --name drill-reader --rate 10000/s)

SEARCH_PORT=$(free_port)
ROUTE_PORT=$(free_port)
API_PORT=$(free_port)
API_URL="http://127.0.0.1:$API_PORT/v1"
start search "${SERVICE_ENV[@]}" NORIKAE_HTTP__PORT="$SEARCH_PORT" "$SEARCH"
start route "${SERVICE_ENV[@]}" NORIKAE_HTTP__PORT="$ROUTE_PORT" "$ROUTE"
wait_ready "http://127.0.0.1:$SEARCH_PORT/health/ready" 120
wait_ready "http://127.0.0.1:$ROUTE_PORT/health/ready" 120
start api "${SERVICE_ENV[@]}" NORIKAE_HTTP__PORT="$API_PORT" NORIKAE_AUTH__OPEN_ACCESS=false \
  NORIKAE_DATABASE__URL="$DB_URL" \
  NORIKAE_UPSTREAM__SEARCH_URL="http://127.0.0.1:$SEARCH_PORT" \
  NORIKAE_UPSTREAM__ROUTE_URL="http://127.0.0.1:$ROUTE_PORT" "$API"
wait_ready "http://127.0.0.1:$API_PORT/health/ready" 60

say "load: $rate journeys and station searches per second with a key, 5 alert writes per second with an admin key"
start reads "$DRILL" load --base "$API_URL" --header "X-Api-Key: $reader_key" --kinds journeys,stations \
  --rate "$rate" --duration 300 --stop-file "$WORK/stop" --failures "$WORK/reads-failures.log"
start writes "$DRILL" alerts --base "$API_URL" --header "X-Api-Key: $admin_key" --rate 5 --duration 300 \
  --stop-file "$WORK/stop" --acknowledged "$WORK/acknowledged.txt" --failures "$WORK/writes-failures.log"
sleep 3
acknowledged_before=$(wc -l <"$WORK/acknowledged.txt")
stop_ms=$(unix_ms)
pg_stop
say "PostgreSQL $PG_VERSION/$PG_CLUSTER stopped at $stop_ms ($acknowledged_before alerts written so far); down for ${down}s"
sleep "$down"
pg_start
for _ in $(seq 1 300); do pg_up && break; sleep 0.1; done
back_ms=$(unix_ms)
acknowledged_at_restart=$(wc -l <"$WORK/acknowledged.txt")
say "PostgreSQL started again at $back_ms"
sleep 5
# Key calls recover: a key created now is accepted by the running api.
late_key=$(new_key --name drill-after-restart --rate 100/s)
late_status=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Api-Key: $late_key" "$API_URL/stations?q=tenjin")
sleep 1
touch "$WORK/stop"
finish reads 30
finish writes 30
cp "$WORK/reads.log" "$WORK/reads.out"
cp "$WORK/writes.log" "$WORK/writes.out"
acknowledged_after=$(wc -l <"$WORK/acknowledged.txt")
"$DRILL" verify-alerts --base "$API_URL" --header "X-Api-Key: $admin_key" \
  --acknowledged "$WORK/acknowledged.txt" >"$WORK/verify.out" 2>&1 || true

reads=$(figure "$WORK/reads.out" requests)
reads_failed=$(figure "$WORK/reads.out" failed)
reads_failures=$(figure "$WORK/reads.out" failures)
writes=$(figure "$WORK/writes.out" requests)
writes_failed=$(figure "$WORK/writes.out" failed)
writes_failures=$(figure "$WORK/writes.out" failures)
missing=$(figure "$WORK/verify.out" missing)
# Writes that failed later than 3 s after PostgreSQL was back.
late_write_failures=$(awk -v back="$back_ms" '$1 + 0 > back + 3000' "$WORK/writes-failures.log" 2>/dev/null | wc -l)
say "reads: $reads requests, $reads_failed failed ($reads_failures)"
say "alert writes: $writes sent, $acknowledged_after acknowledged, $writes_failed failed ($writes_failures), $late_write_failures failed more than 3 s after the restart"
say "after the restart: a new key got HTTP $late_status; verify: $(tr '\n' ' ' <"$WORK/verify.out")"

check "journeys and station search kept answering ($reads_failed of $reads failed)" test "${reads_failed:-1}" -eq 0 -a "${reads:-0}" -gt 0
check "alert writes went through before the stop ($acknowledged_before)" test "$acknowledged_before" -gt 0
check "alert writes recovered after the restart ($acknowledged_at_restart -> $acknowledged_after acknowledged, $late_write_failures failed later than 3 s after)" \
  test "$acknowledged_after" -gt "$acknowledged_at_restart" -a "$late_write_failures" -eq 0
check "a key created after the restart is accepted (HTTP $late_status)" test "$late_status" = 200
check "every acknowledged alert is there afterwards (missing: ${missing:-?} of $acknowledged_after)" test "${missing:-1}" -eq 0
verdict "db-restart: reads $reads_failed/$reads failed; writes $acknowledged_after acknowledged, ${missing:-?} lost; PostgreSQL down ${down}s"
