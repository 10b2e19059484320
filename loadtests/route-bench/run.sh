#!/usr/bin/env bash
# Route engine benchmark on New York (MTA subway, all five boroughs' buses, MTA Bus Co, LIRR,
# Metro-North): 1,000 random station pairs leaving between 07:00 and 09:00 on 2026-10-14 (a
# Wednesday), one thread, depart-at, 1-hour range and arrive-by; prints p50 / p95 / p99 and
# memory.
#
#   loadtests/route-bench/run.sh [GTFS_DIR] [SNAPSHOT]
#
# GTFS_DIR holds the sub-feed zips (../shared/data/nyc/fetch.sh writes them; default
# /work/nyc-gtfs). The snapshot (default /work/nyc-snapshot/nyc.snapshot, never committed) is
# imported on first run. queries.csv beside this script is the fixed query list (seed
# 20261014); `route-bench generate` rewrites it.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
gtfs="${1:-/work/nyc-gtfs}"
snapshot="${2:-/work/nyc-snapshot/nyc.snapshot}"
feeds=(subway bus_bx bus_bk bus_m bus_qns bus_si bus_busco lirr mnr)

cd "$repo"
cargo build --release -p norikae-route --bin route-bench
bench="${CARGO_TARGET_DIR:-$repo/target}/release/route-bench"

if [[ ! -f "$snapshot" ]]; then
  mkdir -p "$(dirname "$snapshot")"
  args=()
  for feed in "${feeds[@]}"; do args+=("$feed=$gtfs/$feed.zip"); done
  "$bench" import "$snapshot" "${args[@]}"
fi
if [[ ! -f "$here/queries.csv" ]]; then
  "$bench" generate "$snapshot" "$here/queries.csv" 1000 20261014 2026-10-14 07:00 09:00
fi

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "gtfs: $gtfs ($(cd "$gtfs" && ls -l --time-style=+%F "${feeds[@]/%/.zip}" | awk '{printf "%s %s %s; ", $7, $5, $6}'))"
"$bench" run "$snapshot" "$here/queries.csv"
