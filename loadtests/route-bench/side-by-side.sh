#!/usr/bin/env bash
# Norikae's engine and ferrobus (PyPI 0.2.1, a Rust RAPTOR) on the same New York data and the
# same queries, in one run, with the ratio of their times (issue #29: absolute times drift
# between machines, ratios much less).
#
#   loadtests/route-bench/side-by-side.sh [GTFS_DIR] [SNAPSHOT] [LIMIT]
#
# GTFS_DIR (default /work/nyc-gtfs) holds the nine sub-feed zips written by
# ../shared/data/nyc/fetch.sh; SNAPSHOT as in run.sh (imported when missing); LIMIT runs only the
# first queries of queries.csv (default: all 1,000). ferrobus goes into a virtualenv
# (FERROBUS_VENV, default ~/.cache/norikae/ferrobus-venv) from PyPI.
#
# What is compared: Norikae's depart-at search (the whole Pareto set over arrival time and
# transfers, Trip-Based routing as the route service runs it) against ferrobus's `find_route`
# (earliest arrival only) from the same station to the same station at the same time; see
# ferrobus/bench.py for how ferrobus gets its walking network. Ratio = ferrobus / Norikae.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
gtfs="${1:-/work/nyc-gtfs}"
snapshot="${2:-/work/nyc-snapshot/nyc.snapshot}"
limit="${3:-0}"
venv="${FERROBUS_VENV:-$HOME/.cache/norikae/ferrobus-venv}"
work="${FERROBUS_WORK:-$(dirname "$snapshot")/ferrobus}"
feeds=(subway bus_bx bus_bk bus_m bus_qns bus_si bus_busco lirr mnr)

cd "$repo"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q ferrobus==0.2.1 osmium==4.3.2

cargo build --release -p norikae-route --bin route-bench
bench="${CARGO_TARGET_DIR:-$repo/target}/release/route-bench"
if [[ ! -f "$snapshot" ]]; then
  mkdir -p "$(dirname "$snapshot")"
  args=()
  for feed in "${feeds[@]}"; do args+=("$feed=$gtfs/$feed.zip"); done
  "$bench" import "$snapshot" "${args[@]}"
fi

queries="$here/queries.csv"
if [[ "$limit" -gt 0 ]]; then
  queries=$(mktemp --suffix=.csv)
  trap 'rm -f "$queries"' EXIT
  head -n "$((limit + 1))" "$here/queries.csv" >"$queries"
fi

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== Norikae (route-bench, depart-at)"
ours=$(mktemp)
ROUTE_BENCH_ONLY=depart-at "$bench" run "$snapshot" "$queries" >"$ours"
cat "$ours"
norikae=$(grep 'depart-at:' "$ours")
rm -f "$ours"
echo "== ferrobus 0.2.1 (find_route, earliest arrival)"
summary=$(mktemp --suffix=.json)
"$venv/bin/python" "$here/ferrobus/bench.py" "$gtfs" "$queries" "$work" --json "$summary" 2>&1 \
  | grep -v "^Skipping optional GTFS file"
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$norikae" "$summary" <<'PY'
import json, re, sys
line, summary = sys.argv[1], json.load(open(sys.argv[2]))
ours = {key: float(value) for key, value in re.findall(r"(p50|p95|p99) ([0-9.]+) ms", line)}
print("== ratio (ferrobus time / Norikae time; over 1 means Norikae is faster)")
for key in ("p50", "p95", "p99"):
    theirs = summary[f"{key}_ms"]
    print(f"  {key}: Norikae {ours[key]:.2f} ms, ferrobus {theirs:.2f} ms: {theirs / ours[key]:.1f}x")
PY
rm -f "$summary"
