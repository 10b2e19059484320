#!/usr/bin/env python3
"""Bakes a realtime overlay's expected times into GTFS feeds, as a timetable of their own.

    bake-overlay.py OVERLAY_CSV GTFS_DIR OUT_DIR FEED...

OVERLAY_CSV is what `ROUTE_BENCH_OVERLAY_CSV=file route-bench run ...` writes (trip_id as
`FEED:trip_id`, the stop's index in the trip, expected arrival and departure in seconds of the
service day). Each GTFS_DIR/FEED.zip is copied to OUT_DIR/FEED.zip with those trips' stop times
replaced (every other file as it is). Imported by `route-bench import`, the baked feeds let the
timetable's Trip-Based search run on the overlay's times, to tell what the realtime network
costs by itself from what searching it on an overlay costs (route-bench README, issue 28).
A trip that runs on several days gets the overlay's times on all of them; the queries' day is
the one that counts.
"""

import csv
import io
import sys
import zipfile
from collections import defaultdict


def hms(secs: int) -> str:
    return f"{secs // 3600:02}:{secs // 60 % 60:02}:{secs % 60:02}"


def main() -> None:
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    overlay_csv, gtfs_dir, out_dir, feeds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    # Per feed, per trip: the expected (arrival, departure) by index.
    times: dict[str, dict[str, dict[int, tuple[int, int]]]] = defaultdict(dict)
    with open(overlay_csv, newline="") as file:
        for row in csv.DictReader(file):
            feed, trip = row["trip_id"].split(":", 1)
            per_trip = times[feed].setdefault(trip, {})
            per_trip[int(row["index"])] = (int(row["arrival"]), int(row["departure"]))
    for feed in feeds:
        baked = times.get(feed, {})
        source = zipfile.ZipFile(f"{gtfs_dir}/{feed}.zip")
        with zipfile.ZipFile(f"{out_dir}/{feed}.zip", "w", zipfile.ZIP_DEFLATED) as out:
            for info in source.infolist():
                data = source.read(info.filename)
                if info.filename == "stop_times.txt":
                    data = bake_stop_times(data, baked)
                out.writestr(info.filename, data)
        print(f"{feed}: {len(baked)} trips baked", file=sys.stderr)


def bake_stop_times(data: bytes, baked: dict[str, dict[int, tuple[int, int]]]) -> bytes:
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    header = next(reader)
    column = {name: index for index, name in enumerate(header)}
    trip_col, seq_col = column["trip_id"], column["stop_sequence"]
    arrival_col, departure_col = column["arrival_time"], column["departure_time"]
    rows = list(reader)
    # A trip's stops in stop_sequence order give each row its index in the trip.
    by_trip: dict[str, list[int]] = defaultdict(list)
    for number, row in enumerate(rows):
        if row[trip_col] in baked:
            by_trip[row[trip_col]].append(number)
    for trip, numbers in by_trip.items():
        numbers.sort(key=lambda number: int(rows[number][seq_col]))
        for index, number in enumerate(numbers):
            if index in baked[trip]:
                arrival, departure = baked[trip][index]
                rows[number][arrival_col] = hms(arrival)
                rows[number][departure_col] = hms(departure)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


if __name__ == "__main__":
    main()
