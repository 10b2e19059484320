#!/usr/bin/env python3
"""Times ferrobus (PyPI, a Rust RAPTOR with Python bindings) on route-bench's queries, for the
side-by-side run of loadtests/route-bench/side-by-side.sh.

    bench.py GTFS_DIR QUERIES_CSV WORK_DIR [--limit N] [--max-transfers K] [--json OUT]

GTFS_DIR holds the New York sub-feed zips (../shared/data/nyc/fetch.sh); WORK_DIR receives the
unzipped feeds and the street network ferrobus needs. ferrobus builds its walking graph from an
OpenStreetMap PBF, which cannot be downloaded here, so this script writes one that gives
ferrobus the same walking model as Norikae's import (shared/timetable/src/import/walking.rs):
a node at every stop and a footway between every two stops less than 400 m apart in a straight
line. ferrobus then connects each stop to its node and finds transfers over those footways
(up to --max-walk-secs, 900 s as Norikae's closure).

Each query (from,to,date,time: Norikae station ids FEED:ID) becomes two ferrobus transit points
at the stations' coordinates, made before the clock starts; only `find_route` (earliest
arrival, one criterion) is timed. Prints p50 / p95 / p99 / mean in milliseconds and, with
--json, writes them with the per-query times.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import math
import statistics
import sys
import time
import zipfile
from pathlib import Path

FEEDS = ["subway", "bus_bx", "bus_bk", "bus_m", "bus_qns", "bus_si", "bus_busco", "lirr", "mnr"]
LINK_METERS = 400.0
EARTH_RADIUS_M = 6_371_000.0


def meters(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def trim_fields(source: io.TextIOBase, path: Path) -> None:
    """Copies a GTFS table with the spaces around fields removed: the MTA's bus stops.txt
    writes `  40.872562` and ferrobus's CSV reader refuses such a float (Norikae's importer
    trims, as most GTFS consumers do). Nothing else changes."""
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        for row in csv.reader(source):
            writer.writerow([field.strip() for field in row])


def unzip_feeds(gtfs_dir: Path, work: Path) -> list[Path]:
    dirs = []
    for feed in FEEDS:
        archive = gtfs_dir / f"{feed}.zip"
        if not archive.exists():
            sys.exit(f"bench.py: {archive} is missing (run ../shared/data/nyc/fetch.sh {gtfs_dir})")
        target = work / "gtfs" / feed
        marker = target / ".unzipped"
        if not marker.exists() or marker.stat().st_mtime < archive.stat().st_mtime:
            target.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(archive) as zipped:
                for name in zipped.namelist():
                    if name.endswith(".txt"):
                        with zipped.open(name) as member:
                            trim_fields(io.TextIOWrapper(member, encoding="utf-8-sig", newline=""),
                                        target / Path(name).name)
            calendar = target / "calendar.txt"
            if not calendar.exists():
                # GTFS lets a feed date all its services in calendar_dates.txt (LIRR, Metro-North
                # do); ferrobus insists on the file, so it gets one with no service in it.
                calendar.write_text("service_id,monday,tuesday,wednesday,thursday,friday,saturday,"
                                    "sunday,start_date,end_date\n")
            marker.touch()
        dirs.append(target)
    return dirs


def read_stops(dirs: list[Path]) -> dict[str, tuple[float, float]]:
    """Every stop and station as FEED:ID -> (lat, lon)."""
    stops: dict[str, tuple[float, float]] = {}
    for directory in dirs:
        with open(directory / "stops.txt", encoding="utf-8-sig", newline="") as file:
            for row in csv.DictReader(file):
                try:
                    position = (float(row["stop_lat"]), float(row["stop_lon"]))
                except (KeyError, ValueError):
                    continue
                stops[f"{directory.name}:{row['stop_id']}"] = position
    return stops


def write_street_network(stops: dict[str, tuple[float, float]], path: Path) -> tuple[int, int]:
    """A node per distinct stop position and a footway between positions < 400 m apart."""
    import osmium  # PyPI osmium (pyosmium)

    positions = sorted(set(stops.values()))
    cell = 0.005  # degrees: about 555 m of latitude, more than a link
    grid: dict[tuple[int, int], list[int]] = {}
    for index, (lat, lon) in enumerate(positions):
        grid.setdefault((int(lat // cell), int(lon // cell)), []).append(index)
    links = []
    for index, (lat, lon) in enumerate(positions):
        row, column = int(lat // cell), int(lon // cell)
        for d_row in (-1, 0, 1):
            for d_column in (-1, 0, 1):
                for other in grid.get((row + d_row, column + d_column), ()):
                    if other > index and meters(positions[index], positions[other]) < LINK_METERS:
                        links.append((index, other))
    if path.exists():
        path.unlink()
    # ferrobus keeps the largest connected part of the street network only, where real streets
    # connect everything. So every other part (a stop with no neighbour within 400 m, Staten
    # Island, the far railway stations) is joined to the largest by a way through a node 11 km
    # to the north: a walk of over 6 hours, never taken within the 900 s walking limit, so no
    # stop gains a transfer that Norikae does not have.
    parent = list(range(len(positions)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    for a, b in links:
        parent[root(a)] = root(b)
    parts: dict[int, int] = {}
    for index in range(len(positions)):
        parts.setdefault(root(index), index)
    sizes: dict[int, int] = {}
    for index in range(len(positions)):
        sizes[root(index)] = sizes.get(root(index), 0) + 1
    largest = max(sizes, key=sizes.__getitem__)
    detour_degrees = 0.1  # about 11 km of latitude
    node_ids = len(positions)
    with osmium.SimpleWriter(str(path)) as writer:
        for index, (lat, lon) in enumerate(positions):
            writer.add_node(osmium.osm.mutable.Node(id=index + 1, location=(lon, lat)))
        bridges = []
        for part_root, member in parts.items():
            if part_root == largest:
                continue
            node_ids += 1
            lat, lon = positions[member]
            writer.add_node(
                osmium.osm.mutable.Node(id=node_ids, location=(lon, lat + detour_degrees))
            )
            bridges.append([member + 1, node_ids, parts[largest] + 1])
        for way_id, (a, b) in enumerate(links, start=1):
            writer.add_way(
                osmium.osm.mutable.Way(id=way_id, nodes=[a + 1, b + 1], tags={"highway": "footway"})
            )
        for way_id, nodes in enumerate(bridges, start=len(links) + 1):
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=nodes, tags={"highway": "footway"}))
    return len(positions), len(links)


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile, as route-bench prints it."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, math.ceil(fraction * len(sorted_values)) - 1))
    return sorted_values[rank]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("gtfs_dir", type=Path)
    parser.add_argument("queries", type=Path)
    parser.add_argument("work_dir", type=Path)
    parser.add_argument("--limit", type=int, default=0, help="only the first N queries")
    parser.add_argument("--max-transfers", type=int, default=4)
    parser.add_argument("--max-walk-secs", type=int, default=900)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import ferrobus

    args.work_dir.mkdir(parents=True, exist_ok=True)
    dirs = unzip_feeds(args.gtfs_dir, args.work_dir)
    stops = read_stops(dirs)
    with open(args.queries, newline="") as file:
        queries = list(csv.DictReader(file))
    if args.limit:
        queries = queries[: args.limit]
    dates = {row["date"] for row in queries}
    if len(dates) != 1:
        sys.exit(f"bench.py: the queries span {len(dates)} dates; ferrobus models one")
    date = dt.date.fromisoformat(dates.pop())

    osm = args.work_dir / "stops-footways.osm.pbf"
    begin = time.perf_counter()
    nodes, ways = write_street_network(stops, osm)
    print(f"ferrobus street network: {nodes} stop nodes, {ways} footways < {LINK_METERS:.0f} m "
          f"({time.perf_counter() - begin:.1f} s)", flush=True)
    begin = time.perf_counter()
    model = ferrobus.create_transit_model(str(osm), [str(d) for d in dirs], date, args.max_walk_secs)
    print(f"ferrobus model for {date}: {time.perf_counter() - begin:.1f} s", flush=True)

    points: dict[str, object] = {}
    unplaced = 0
    millis: list[float] = []
    answered = 0
    for row in queries:
        ends = []
        for station in (row["from"], row["to"]):
            if station not in points:
                lat, lon = stops[station]
                try:
                    points[station] = ferrobus.create_transit_point(lat, lon, model, args.max_walk_secs)
                except (ValueError, RuntimeError):
                    points[station] = None
            ends.append(points[station])
        if ends[0] is None or ends[1] is None:
            unplaced += 1
            continue
        hours, minutes, seconds = map(int, row["time"].split(":"))
        departure = hours * 3600 + minutes * 60 + seconds
        begin = time.perf_counter()
        found = ferrobus.find_route(model, ends[0], ends[1], departure, args.max_transfers)
        millis.append((time.perf_counter() - begin) * 1e3)
        answered += found is not None
    times = sorted(millis)
    summary = {
        "queries": len(queries),
        "timed": len(millis),
        "answered": answered,
        "unplaced": unplaced,
        "p50_ms": percentile(times, 0.50),
        "p95_ms": percentile(times, 0.95),
        "p99_ms": percentile(times, 0.99),
        "mean_ms": statistics.fmean(times) if times else float("nan"),
    }
    print(
        f"  ferrobus: p50 {summary['p50_ms']:.2f} ms  p95 {summary['p95_ms']:.2f} ms  "
        f"p99 {summary['p99_ms']:.2f} ms  mean {summary['mean_ms']:.2f} ms  "
        f"({answered} of {len(millis)} with a route; {unplaced} queries without a transit point; "
        f"earliest arrival, max {args.max_transfers} transfers)"
    )
    if args.json:
        args.json.write_text(json.dumps({**summary, "millis": millis}))


if __name__ == "__main__":
    main()
