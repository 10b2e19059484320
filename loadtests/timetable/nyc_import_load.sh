#!/usr/bin/env bash
# Import/load benchmark of the timetable on New York MTA GTFS (all sub-feeds written by
# ../shared/data/nyc/fetch.sh): import time and peak RSS, snapshot size, snapshot load time
# and RSS after load. Targets (2-core machine): import <= 30 s, peak RSS <= 4 GiB,
# load <= 0.5 s, resident after load <= 1.5 GiB.
#
# Usage: loadtests/timetable/nyc_import_load.sh [NYC_GTFS_DIR] [OUT_DIR]
#   NYC_GTFS_DIR defaults to $NYC_GTFS or ../nyc-gtfs; OUT_DIR to a temporary folder.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
nyc=${1:-${NYC_GTFS:-$repo/../nyc-gtfs}}
out=${2:-$(mktemp -d)}
mkdir -p "$out"
feeds=(subway bus_bx bus_bk bus_m bus_qns bus_si bus_busco lirr mnr)
args=()
for feed in "${feeds[@]}"; do
    zip="$nyc/$feed.zip"
    [[ -f $zip ]] || { echo "missing $zip (run ../shared/data/nyc/fetch.sh $nyc)" >&2; exit 1; }
    args+=("$feed=$zip")
done

echo "== building (release)"
(cd "$repo" && cargo build --release -q -p norikae-cli --bin norikae)
bin=${CARGO_TARGET_DIR:-$repo/target}/release/norikae

echo "== data: ${#feeds[@]} New York MTA sub-feeds from $nyc ($(du -ch "$nyc"/*.zip | tail -1 | cut -f1) zipped)"
echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB RAM"
echo "== import"
/usr/bin/time -v -o "$out/import.time" "$bin" import --quiet --out "$out" "${args[@]}" | tee "$out/import.log"
import_secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {split($2, t, ":"); if (length(t) == 3) print t[1]*3600 + t[2]*60 + t[3]; else print t[1]*60 + t[2]}' "$out/import.time")
import_peak_kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out/import.time")
snapshot_bytes=$(stat -c %s "$out/timetable.snapshot")

echo "== load (3 runs, page cache warm after the import)"
for run in 1 2 3; do
    "$bin" snapshot-info "$out" | grep '^load:' | sed "s/^/run $run: /"
done
last=$("$bin" snapshot-info "$out" | grep '^load:')
load_secs=$(sed -E 's/^load: ([0-9.]+) s.*/\1/' <<<"$last")
rss_after_mib=$(sed -E 's/.*after load ([0-9]+) MiB.*/\1/' <<<"$last")

echo
echo "== results (New York MTA, ${#feeds[@]} sub-feeds)"
check() { awk -v value="$2" -v limit="$3" 'BEGIN { exit !(value <= limit) }' && echo "ok  " || echo "OVER"; }
printf '%s import time        %8.2f s    (target <= 30 s)\n' "$(check x "$import_secs" 30)" "$import_secs"
printf '%s import peak RSS    %8.0f MiB  (target <= 4096 MiB)\n' "$(check x $((import_peak_kib / 1024)) 4096)" $((import_peak_kib / 1024))
printf '     snapshot size      %8.1f MiB\n' "$(awk -v bytes="$snapshot_bytes" 'BEGIN { print bytes / 1048576 }')"
printf '%s load time          %8.3f s    (target <= 0.5 s)\n' "$(check x "$load_secs" 0.5)" "$load_secs"
printf '%s RSS after load     %8.0f MiB  (target <= 1536 MiB)\n' "$(check x "$rss_after_mib" 1536)" "$rss_after_mib"
echo "snapshot: $out/timetable.snapshot"
