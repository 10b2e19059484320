#!/usr/bin/env bash
# Journeys per second through the route service alone (issue 29): starts a release route
# service on the New York snapshot, has it build the Trip-Based transfers of the queries' days
# (as it does in production for today) and waits for them, then runs the goose load test
# (`norikae-load --queries`) with each number of users in turn and prints req/s and
# p50/p95/p99 per step, with the machine's load average before each.
#
#   loadtests/route-bench/throughput.sh [SNAPSHOT]
#
# Environment: CARGO_TARGET_DIR (where release/norikae-route and release/norikae-load are;
# build them with `cargo build --release -p norikae-route --bin norikae-route -p
# norikae-load`), USERS (default "2 4 8 16 32"), STEP_SECS (default 30), WINDOW (default 0:
# depart-at; 3600: 1-hour range), PORT (default 18383), KEEP_LOG=1 (keep the service's log).
#
# The queries are on 2026-10-14, and the service builds the transfers of today in the
# background; so it runs with Trip-Based transfers built on demand instead, and one query on
# that date (answered 503 after the query timeout, while the build goes on) starts the build
# of its three service days. From then on every query reads built days, as in production.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
snapshot=${1:-/work/nyc-snapshot/nyc.snapshot}
target=${CARGO_TARGET_DIR:-$root/target}
route_bin=$target/release/norikae-route
load_bin=$target/release/norikae-load
users=${USERS:-2 4 8 16 32}
step_secs=${STEP_SECS:-30}
window=${WINDOW:-0}
port=${PORT:-18383}
queries=$here/queries.csv

for binary in "$route_bin" "$load_bin"; do
    [[ -x $binary ]] || { echo "missing $binary: build it first (see the header)" >&2; exit 1; }
done
[[ -r $snapshot ]] || { echo "missing snapshot $snapshot" >&2; exit 1; }

log=$(mktemp /tmp/norikae-throughput.XXXXXX.log)
route_pid=
stop() {
    if [[ -n $route_pid ]]; then
        kill "$route_pid" 2>/dev/null || true
        wait "$route_pid" 2>/dev/null || true
    fi
    if [[ ${KEEP_LOG:-0} == 1 ]]; then echo "service log: $log"; else rm -f "$log"; fi
}
trap stop EXIT

NORIKAE_LOG__FORMAT=json \
    NORIKAE_ROUTE__HTTP__PORT=$port \
    NORIKAE_ROUTE__TIMETABLE__SNAPSHOT=$snapshot \
    NORIKAE_ROUTE__QUERY__TRIP_BASED=on_demand \
    "$route_bin" >"$log" 2>&1 &
route_pid=$!
base=http://127.0.0.1:$port
echo "route service pid $route_pid on $base, snapshot $snapshot"

started=$(date +%s)
alive() {
    kill -0 "$route_pid" 2>/dev/null || { echo "the route service exited:" >&2; tail -20 "$log" >&2; exit 1; }
    (( $(date +%s) - started < 1800 )) || { echo "$1 took over 30 min" >&2; exit 1; }
}
until curl -sf "$base/health/ready" >/dev/null 2>&1; do alive "loading"; sleep 1; done

# The three service days a query on the queries' date reads.
date=$(sed -n 2p "$queries" | cut -d, -f3)
days=$(for offset in -1 0 1; do date -u -d "$date $offset day" +'"%F"'; done | paste -sd,)
first=$(sed -n 2p "$queries")
curl -s -o /dev/null "$base/journeys?from=${first%%,*}&to=$(cut -d, -f2 <<<"$first")&date=$date&time=08:00&window=0" || true
until curl -sf "$base/status" | grep -qF "\"days\":[$days]"; do alive "building the transfers"; sleep 5; done
echo "Trip-Based transfers of $days built after $(( $(date +%s) - started )) s"

summary=()
for count in $users; do
    load_before=$(uptime)
    echo "== $count users, $step_secs s; uptime: $load_before"
    output=$("$load_bin" --queries "$queries" --route-url "$base" --window "$window" \
        -u "$count" -t "${step_secs}s" 2>&1)
    sed -n '/== Norikae load summary/,$p' <<<"$output"
    line=$(grep -E '^route journeys ' <<<"$output" || echo "route journeys: no summary")
    summary+=("$(printf '%5s  %s  | %s' "$count" "$line" "${load_before#*load average: }")")
done

echo
echo "== journeys through the route service (window=$window), $step_secs s per step"
printf '%5s  %-22s %9s %9s %8s %8s %8s %8s %8s  | %s\n' \
    users request count req/s "p50 ms" "p95 ms" "p99 ms" "max ms" errors "load average before"
printf '%s\n' "${summary[@]}"
