#!/usr/bin/env bash
# Station search benchmark: index build time, in-process as-you-type latency (p50/p99 over
# every prefix of every station name), and requests per second over HTTP.
#
#   loadtests/search-bench/run.sh                 # the bundled feeds (Okayama + Fukuoka)
#   loadtests/search-bench/run.sh /work/nyc-gtfs  # a folder of GTFS zips (New York MTA)
#
# Extra flags go to the benchmark: --max-queries N (default 200000), --seconds S (10),
# --connections C (16). Client and server run on the same machine and share its cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
feeds="${1:-bundled}"
shift || true
cargo run --release -p norikae-search --example search_bench -- --feeds "$feeds" "$@"
