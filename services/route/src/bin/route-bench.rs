//! route-bench: times the route engine in one thread on a snapshot (see
//! `loadtests/route-bench/run.sh`).
//!
//! ```text
//! route-bench import   <snapshot> <name=gtfs.zip>...        import feeds into a snapshot
//! route-bench generate <snapshot> <queries.csv> <count> <seed> <date> <from HH:MM> <to HH:MM>
//! route-bench run      <snapshot> <queries.csv>
//! ```
//!
//! `run` answers every query three times, depart-at (the Pareto set for the time), a 1-hour
//! range, and arrive-by (arriving by an hour after the query's time), and prints p50 / p95 /
//! p99 query times, how many queries found journeys, and the process's memory (RSS now and
//! peak).
//!
//! Tuning knobs (environment): `ROUTE_BENCH_LIMIT=n` times only the first n queries;
//! `ROUTE_BENCH_DUMP=file` writes every answer (departure, arrival, transfers or `walk`) to compare two
//! engine versions; `ROUTE_BENCH_ONLY=depart-at` (or `range`, `arrive-by`) runs one kind of search;
//! `ROUTE_BENCH_MAX_TRANSFERS=n` overrides the transfer limit;
//! `ROUTE_BENCH_MAX_WALK_SECS=s` (import) overrides the walking closure;
//! `ROUTE_BENCH_SLOWEST=n` lists the n slowest queries of each kind (stations, time, answers);
//! `ROUTE_BENCH_TRIP_BASED=0` leaves out the Trip-Based transfers (every search on RAPTOR);
//! `ROUTE_BENCH_REALTIME=delays` (or `cancel`: one trip per feed cancelled too) applies a
//! simulated GTFS-Realtime feed per feed (every trip running around the queries' times late
//! by its own 1–15 minutes; `typical`: by an exponential delay of mean 150 s, at most 15
//! minutes; see `norikae_realtime::sim`), prints how long each took one after the other and
//! how long all of them took as one batch (decoded and built in parallel, one merge), builds the
//! overlay's Trip-Based days (`ROUTE_BENCH_LIVE_TRIP_BASED=0`: not, so that the searches on
//! its days run RAPTOR) and searches with that overlay, timing each query on the timetable
//! alone too, right before or after (`ROUTE_BENCH_INTERLEAVE=0`: not);
//! `ROUTE_BENCH_OVERLAY_CSV=file` writes the overlay's expected times (for
//! `experiments/bake-overlay.py`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use norikae_route::engine::{Engine, Options, Place, Request, Scratch, SearchKind};
use norikae_timetable::{FeedInput, ImportOptions, NoProgress, StationIdx, Timetable};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("import") if args.len() >= 3 => import(Path::new(&args[1]), &args[2..]),
        Some("generate") if args.len() == 8 => generate(&args[1..]),
        Some("run") if args.len() == 3 => run(Path::new(&args[1]), Path::new(&args[2])),
        _ => bail!("usage: route-bench import|generate|run … (see the source's docs)"),
    }
}

fn import(snapshot: &Path, feeds: &[String]) -> anyhow::Result<()> {
    let inputs = feeds.iter().map(|feed| FeedInput::parse(feed)).collect::<Result<Vec<_>, _>>()?;
    let started = Instant::now();
    let mut options = ImportOptions::default();
    // ROUTE_BENCH_MAX_WALK_SECS overrides the walking closure (to measure its cost).
    if let Some(secs) =
        std::env::var("ROUTE_BENCH_MAX_WALK_SECS").ok().and_then(|secs| secs.parse().ok())
    {
        options.walking.max_walk_secs = secs;
    }
    // ROUTE_BENCH_NO_SHAPES=1 leaves shapes.txt out (to measure what the shapes cost).
    options.skip_shapes = std::env::var("ROUTE_BENCH_NO_SHAPES").is_ok_and(|value| value == "1");
    let (timetable, report) =
        norikae_timetable::import_to_file(&inputs, &options, snapshot, &NoProgress)
            .with_context(|| format!("importing into {}", snapshot.display()))?;
    println!(
        "imported {} feeds: {} stops, {} stations, {} patterns, {} trips, {} stop times, {} walking links in {:.1} s",
        inputs.len(),
        timetable.stops.len(),
        timetable.stations.len(),
        timetable.patterns.len(),
        timetable.trips.len(),
        timetable.stop_times.len(),
        timetable.footpaths.len(),
        started.elapsed().as_secs_f64()
    );
    let shaped = timetable
        .trip_shape_cuts
        .iter()
        .filter(|cut| **cut != norikae_timetable::NO_SHAPE_CUT)
        .count();
    let snapshot_bytes = std::fs::metadata(snapshot).map(|metadata| metadata.len()).unwrap_or(0);
    println!(
        "shapes: {} stored in {:.1} MiB, {} cuts ({:.1} MiB of stop segments), {shaped} of {} trips follow one; snapshot {:.1} MiB",
        timetable.num_shapes(),
        timetable.shape_points.len() as f64 / 1048576.0,
        timetable.shape_cuts.len(),
        (timetable.stop_segments.len() * 4) as f64 / 1048576.0,
        timetable.trips.len(),
        snapshot_bytes as f64 / 1048576.0,
    );
    let rules = &report.transfer_rules;
    println!(
        "transfer rules: {} naming trips ({} in-seat), {} routes, {} stops, {} stations, {} without effect; {} kept per trip or route",
        rules.trip,
        rules.in_seat,
        rules.route,
        rules.stop,
        rules.station,
        rules.without_effect,
        timetable.transfer_rules.len()
    );
    for (kind, entry) in report.warnings.iter().filter(|(kind, _)| kind.contains("transfer")) {
        println!("  warning {kind}: {} (e.g. {:?})", entry.count, entry.examples.first());
    }
    Ok(())
}

fn load(snapshot: &Path) -> anyhow::Result<Arc<Timetable>> {
    let timetable = norikae_timetable::snapshot::load(snapshot)
        .with_context(|| format!("loading {}", snapshot.display()))?;
    Ok(Arc::new(timetable))
}

fn parse_hhmm(text: &str) -> anyhow::Result<u32> {
    let (hours, minutes) = text.split_once(':').context("time must be HH:MM")?;
    Ok(hours.parse::<u32>()? * 3600 + minutes.parse::<u32>()? * 60)
}

/// A deterministic generator (splitmix64), so the query list depends only on the seed.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut value = self.0;
        value = (value ^ (value >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        value = (value ^ (value >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        value ^ (value >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

fn generate(args: &[String]) -> anyhow::Result<()> {
    let timetable = load(Path::new(&args[0]))?;
    let out = PathBuf::from(&args[1]);
    let count: usize = args[2].parse().context("count")?;
    let seed: u64 = args[3].parse().context("seed")?;
    let date = NaiveDate::parse_from_str(&args[4], "%Y-%m-%d").context("date")?;
    let (start, end) = (parse_hhmm(&args[5])?, parse_hhmm(&args[6])?);
    let stations: Vec<StationIdx> = (0..timetable.stations.len())
        .map(StationIdx::from)
        .filter(|station| timetable.stations[station.idx()].departures_per_day > 0)
        .collect();
    let mut random = SplitMix(seed);
    let mut csv = String::from("from,to,date,time\n");
    for _ in 0..count {
        let (from, to) = loop {
            let from = stations[random.below(stations.len() as u64) as usize];
            let to = stations[random.below(stations.len() as u64) as usize];
            if from != to {
                break (from, to);
            }
        };
        let time = start + random.below(u64::from(end - start)) as u32;
        writeln!(
            csv,
            "{},{},{date},{:02}:{:02}:{:02}",
            timetable.stations[from.idx()].id,
            timetable.stations[to.idx()].id,
            time / 3600,
            time / 60 % 60,
            time % 60
        )?;
    }
    std::fs::write(&out, csv).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "wrote {count} queries (seed {seed}, {date} {} to {}) to {}",
        args[5],
        args[6],
        out.display()
    );
    Ok(())
}

struct Query {
    from: StationIdx,
    to: StationIdx,
    date: NaiveDate,
    time_secs: u32,
}

fn read_queries(timetable: &Timetable, path: &Path) -> anyhow::Result<Vec<Query>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut queries = Vec::new();
    for (line_number, line) in text.lines().enumerate().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let context = || format!("{}:{}", path.display(), line_number + 1);
        if fields.len() != 4 {
            bail!("{}: expected from,to,date,time", context());
        }
        let station = |id: &str| {
            timetable
                .station_by_id(id)
                .with_context(|| format!("{}: unknown station {id}", context()))
        };
        let time: Vec<u32> =
            fields[3].split(':').map(str::parse).collect::<Result<_, _>>().with_context(context)?;
        queries.push(Query {
            from: station(fields[0])?,
            to: station(fields[1])?,
            date: NaiveDate::parse_from_str(fields[2], "%Y-%m-%d").with_context(context)?,
            time_secs: time.first().copied().unwrap_or(0) * 3600
                + time.get(1).copied().unwrap_or(0) * 60
                + time.get(2).copied().unwrap_or(0),
        });
    }
    Ok(queries)
}

fn percentile(sorted_micros: &[f64], fraction: f64) -> f64 {
    let position = ((sorted_micros.len() as f64 - 1.0) * fraction).round() as usize;
    sorted_micros[position.min(sorted_micros.len() - 1)]
}

/// The CPU time this process has used (user and system), in seconds (Linux; zero
/// elsewhere): fields 14 and 15 of `/proc/self/stat`, in clock ticks of 1/100 s.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name, in parentheses, may hold spaces: count fields after it.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map_or_else(Vec::new, |(_, rest)| rest.split_whitespace().collect());
    let ticks = |index: usize| fields.get(index).and_then(|ticks| ticks.parse::<u64>().ok());
    // Field 3 (state) is the first after the name, so fields 14 and 15 are at 11 and 12.
    (ticks(11).unwrap_or(0) + ticks(12).unwrap_or(0)) as f64 / 100.0
}

/// (RSS now, peak RSS) in MiB.
fn memory_mib() -> (f64, f64) {
    let (rss, peak) = norikae_timetable::memory::usage();
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    (mib(rss), mib(peak))
}

/// (anonymous, file-backed) resident memory in MiB.
fn memory_parts_mib() -> (f64, f64) {
    let (anonymous, file) = norikae_timetable::memory::resident_parts();
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    (mib(anonymous), mib(file))
}

fn run(snapshot: &Path, queries_path: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let timetable = load(snapshot)?;
    let load_secs = started.elapsed().as_secs_f64();
    let engine_started = Instant::now();
    let engine = Engine::new(Arc::clone(&timetable));
    let engine_secs = engine_started.elapsed().as_secs_f64();
    let (all_links, boarding_links, alighting_links) = engine.walking_link_counts();
    let mut queries = read_queries(&timetable, queries_path)?;
    // ROUTE_BENCH_LIMIT=n times only the first n queries (quick runs while tuning).
    if let Some(limit) =
        std::env::var("ROUTE_BENCH_LIMIT").ok().and_then(|limit| limit.parse::<usize>().ok())
    {
        queries.truncate(limit);
    }
    println!(
        "data: {} ({} feeds: {}), {} stops, {} stations, {} patterns, {} trips, {} stop times, {} walking links; loaded in {load_secs:.2} s, engine tables (landmarks, reverse links, fares) built in {engine_secs:.2} s; walking links kept for boarding {boarding_links} of {all_links}, per pattern stop for alighting {alighting_links}",
        snapshot.display(),
        timetable.feeds.len(),
        timetable.feeds.iter().map(|feed| feed.name.as_str()).collect::<Vec<_>>().join(","),
        timetable.stops.len(),
        timetable.stations.len(),
        timetable.patterns.len(),
        timetable.trips.len(),
        timetable.stop_times.len(),
        timetable.footpaths.len(),
    );
    // As the route service does after loading a snapshot: the day tables of the queries' date
    // are built before the first query (the service builds today's).
    let warm_started = Instant::now();
    let warmed: usize = queries
        .iter()
        .map(|query| query.date)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|date| engine.warm_up(date))
        .sum();
    println!(
        "day tables (both directions) of {warmed} service days built in {:.2} s before the first query",
        warm_started.elapsed().as_secs_f64()
    );
    // The Trip-Based transfers of the service days the queries read, as the route service
    // builds them in the background (ROUTE_BENCH_TRIP_BASED=0: none, all on RAPTOR).
    if std::env::var("ROUTE_BENCH_TRIP_BASED").as_deref() != Ok("0") {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let (rss_before, _) = memory_mib();
        let (anonymous_before, file_before) = memory_parts_mib();
        let dates: std::collections::BTreeSet<_> = queries.iter().map(|query| query.date).collect();
        for date in dates {
            let (wall_started, cpu_started) = (Instant::now(), cpu_secs());
            let days = engine.prepare_trip_based(date, threads);
            // CPU time besides wall-clock time: on a shared machine it varies less.
            println!(
                "trip-based transfers of {} service days for {date}: {:.1} s, {:.1} s of CPU (the process's user and system time)",
                days.len(),
                wall_started.elapsed().as_secs_f64(),
                cpu_secs() - cpu_started,
            );
            for day in days {
                let trips = day.boardable_from.map_or_else(String::new, |from| {
                    let from =
                        norikae_realtime::overlay::format_hms(u32::try_from(from).unwrap_or(0));
                    format!(" (the trips leaving somewhere from {from} on)")
                });
                println!(
                    "trip-based transfers of {}{trips}: {} kept, {:.0} MiB, built in {:.1} s with {threads} threads",
                    day.date,
                    day.transfers.map_or_else(
                        || "none (too many trips)".to_owned(),
                        |count| count.to_string()
                    ),
                    day.bytes as f64 / f64::from(1 << 20),
                    day.secs,
                );
            }
        }
        let (rss, peak) = memory_mib();
        let (anonymous, file) = memory_parts_mib();
        println!(
            "memory with the trip-based transfers built: RSS {rss:.0} MiB ({rss_before:.0} MiB before), peak RSS {peak:.0} MiB; anonymous {anonymous:.0} MiB ({anonymous_before:.0} before), file pages {file:.0} MiB ({file_before:.0} before)"
        );
    }
    let overlay = realtime_overlay(&timetable, &queries)?;
    if let Ok(path) = std::env::var("ROUTE_BENCH_OVERLAY_CSV") {
        write_overlay_times(&timetable, &overlay, Path::new(&path))?;
    }
    // The overlay's Trip-Based days, as the route service builds them after each overlay
    // (ROUTE_BENCH_LIVE_TRIP_BASED=0: none, searches on the overlay's days on RAPTOR).
    if overlay.num_trips() > 0
        && (std::env::var("ROUTE_BENCH_TRIP_BASED").as_deref() == Ok("0")
            || std::env::var("ROUTE_BENCH_LIVE_TRIP_BASED").as_deref() == Ok("0"))
    {
        let started = Instant::now();
        engine.prepare_realtime_searches(&overlay);
        println!(
            "day tables and lower bounds for the realtime overlay (where its trips ride faster than the timetable's): {:.2} s",
            started.elapsed().as_secs_f64()
        );
    } else if overlay.num_trips() > 0 {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let (wall_started, cpu_started) = (Instant::now(), cpu_secs());
        if let Some(report) = engine.prepare_trip_based_live(&overlay, threads) {
            let (rss, peak) = memory_mib();
            println!(
                "trip-based days of the realtime overlay: {:.2} s, {:.2} s of CPU with {threads} threads; {} days ({} left to RAPTOR), {} trips regenerated, {} kept, {} moved to further groups, {} cancelled; {} transfers, {:.0} MiB; RSS {rss:.0} MiB, peak {peak:.0} MiB",
                wall_started.elapsed().as_secs_f64(),
                cpu_secs() - cpu_started,
                report.days,
                report.unfit_days,
                report.regenerated,
                report.kept,
                report.moved,
                report.cancelled,
                report.transfers,
                report.bytes as f64 / f64::from(1 << 20),
            );
            for (date, regenerated, kept) in &report.per_day {
                println!("  {date}: {regenerated} trips regenerated, {kept} kept");
            }
            if let Some((low, high)) = report.span {
                let local = |unix: i64| {
                    chrono::DateTime::from_timestamp(unix, 0)
                        .map(|time| time.with_timezone(&timetable.tz).to_string())
                        .unwrap_or_default()
                };
                println!("  what the overlay changes spans {} to {}", local(low), local(high));
            }
        }
    }
    println!("queries: {} from {}, one thread", queries.len(), queries_path.display());
    let mut scratch = Scratch::new(&timetable);
    // ROUTE_BENCH_DUMP=file writes every answer (departure, arrival, transfers) there, so two
    // versions of the engine can be compared.
    let mut dump = std::env::var("ROUTE_BENCH_DUMP").ok().map(|_| String::new());
    let mut options = Options::default();
    // ROUTE_BENCH_MAX_TRANSFERS overrides the default transfer limit (to measure its cost).
    if let Some(limit) =
        std::env::var("ROUTE_BENCH_MAX_TRANSFERS").ok().and_then(|limit| limit.parse().ok())
    {
        options.max_transfers = limit;
    }
    // ROUTE_BENCH_SLOWEST=n lists the n slowest queries of each kind.
    let slowest_count: usize =
        std::env::var("ROUTE_BENCH_SLOWEST").ok().and_then(|count| count.parse().ok()).unwrap_or(0);
    // With an overlay, each query is timed on the timetable alone too (ROUTE_BENCH_INTERLEAVE=0:
    // not).
    let no_overlay = Arc::new(norikae_realtime::Overlay::default());
    let interleave =
        overlay.num_trips() > 0 && std::env::var("ROUTE_BENCH_INTERLEAVE").as_deref() != Ok("0");
    // Arrive-by queries ask to arrive an hour after the query's time (08:00-10:00).
    for (label, kind, shift_secs) in [
        ("depart-at", SearchKind::DepartAt, 0),
        ("range 1h", SearchKind::Range { window_secs: 3600 }, 0),
        ("arrive-by", SearchKind::ArriveBy, 3600),
    ] {
        // ROUTE_BENCH_ONLY=depart-at (or range, arrive-by) runs one kind of search (for profiles).
        if std::env::var("ROUTE_BENCH_ONLY").is_ok_and(|only| !label.starts_with(only.as_str())) {
            continue;
        }
        let mut micros = Vec::with_capacity(queries.len());
        let mut timetable_micros = Vec::with_capacity(queries.len());
        let mut slowest: Vec<(f64, String)> = Vec::new();
        let (mut answered, mut journeys) = (0usize, 0usize);
        for query in &queries {
            let request = Request {
                from: Place::Station(query.from),
                to: Place::Station(query.to),
                date: query.date,
                time_secs: query.time_secs + shift_secs,
                kind,
                options: options.clone(),
            };
            // With an overlay, the same query on the timetable alone too, just before or just
            // after it (in turn, so that neither gains from the caches the other warmed): the
            // two see the same machine, which on a shared one varies more between runs than
            // the overlay costs.
            let on_timetable_first = interleave && timetable_micros.len() % 2 == 0;
            let mut time_on_timetable = |scratch: &mut Scratch| -> anyhow::Result<()> {
                let begin = Instant::now();
                engine.search_live(&request, scratch, &no_overlay)?;
                timetable_micros.push(begin.elapsed().as_secs_f64() * 1e6);
                Ok(())
            };
            if on_timetable_first {
                time_on_timetable(&mut scratch)?;
            }
            let begin = Instant::now();
            let found = engine.search_live(&request, &mut scratch, &overlay)?;
            let elapsed = begin.elapsed().as_secs_f64() * 1e6;
            micros.push(elapsed);
            if interleave && !on_timetable_first {
                time_on_timetable(&mut scratch)?;
            }
            if slowest_count > 0 {
                let from = &timetable.stations[query.from.idx()];
                let to = &timetable.stations[query.to.idx()];
                let mut line = format!(
                    "{:>8.2} ms  {} -> {} at {:02}:{:02}:",
                    elapsed / 1e3,
                    from.name.default,
                    to.name.default,
                    query.time_secs / 3600,
                    query.time_secs / 60 % 60
                );
                for journey in &found {
                    let minutes = (journey.arrival - journey.departure) / 60;
                    write!(line, " {minutes} min/{} transfers;", journey.transfers)?;
                }
                slowest.push((elapsed, line));
            }
            answered += usize::from(!found.is_empty());
            if let Some(dump) = dump.as_mut() {
                write!(dump, "{label} {} {} {}:", query.from.0, query.to.0, query.time_secs)?;
                for journey in &found {
                    write!(dump, " {}-{}/", journey.departure, journey.arrival)?;
                    if journey.vehicles() == 0 {
                        dump.push_str("walk");
                    } else {
                        write!(dump, "{}", journey.transfers)?;
                    }
                }
                dump.push('\n');
            }
            journeys += found.len();
        }
        let mean = micros.iter().sum::<f64>() / micros.len() as f64;
        micros.sort_by(f64::total_cmp);
        println!(
            "{label:>10}: p50 {:.2} ms  p95 {:.2} ms  p99 {:.2} ms  mean {:.2} ms  max {:.2} ms  ({answered} of {} with journeys, {journeys} journeys)",
            percentile(&micros, 0.50) / 1e3,
            percentile(&micros, 0.95) / 1e3,
            percentile(&micros, 0.99) / 1e3,
            mean / 1e3,
            micros.last().copied().unwrap_or(0.0) / 1e3,
            queries.len(),
        );
        if !timetable_micros.is_empty() {
            timetable_micros.sort_by(f64::total_cmp);
            let (p50, p99) = (percentile(&micros, 0.50), percentile(&micros, 0.99));
            let (timetable_p50, timetable_p99) =
                (percentile(&timetable_micros, 0.50), percentile(&timetable_micros, 0.99));
            println!(
                "{label:>10} on the timetable, interleaved: p50 {:.2} ms  p95 {:.2} ms  p99 {:.2} ms; the overlay's against it: p50 {:+.1} %, p99 {:+.1} %",
                timetable_p50 / 1e3,
                percentile(&timetable_micros, 0.95) / 1e3,
                timetable_p99 / 1e3,
                (p50 / timetable_p50 - 1.0) * 100.0,
                (p99 / timetable_p99 - 1.0) * 100.0,
            );
        }
        slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (_, line) in slowest.iter().take(slowest_count) {
            println!("    {line}");
        }
    }
    if let (Some(dump), Ok(path)) = (dump, std::env::var("ROUTE_BENCH_DUMP")) {
        std::fs::write(&path, dump).with_context(|| format!("writing {path}"))?;
    }
    let (rss, peak) = memory_mib();
    println!(
        "memory: RSS {rss:.0} MiB, peak RSS {peak:.0} MiB (snapshot file mapped, engine tables, scratch)"
    );
    Ok(())
}

/// `ROUTE_BENCH_OVERLAY_CSV=file`: the overlay's expected times (`trip_id,index,arrival,
/// departure`, seconds of the service day, one row per stop of each trip it gives times), for
/// `experiments/bake-overlay.py` to write them into the feeds as a timetable of their own.
fn write_overlay_times(
    timetable: &Timetable,
    overlay: &norikae_realtime::Overlay,
    path: &Path,
) -> anyhow::Result<()> {
    let mut out = String::from("trip_id,index,arrival,departure\n");
    for (key, trip) in overlay.trips() {
        if trip.cancelled {
            continue;
        }
        let id = &timetable.trips[key.trip.idx()].id;
        for (index, stop) in trip.stops.iter().enumerate() {
            writeln!(out, "{id},{index},{},{}", stop.arrival, stop.departure)?;
        }
    }
    std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// With `ROUTE_BENCH_REALTIME`, the overlay of a simulated TripUpdates feed per feed (every
/// trip running from an hour before the first query's time to two hours after the last one
/// late; `cancel`: one cancelled per feed; `typical`: late as on a working day), each apply
/// timed; else an empty overlay.
fn realtime_overlay(
    timetable: &Timetable,
    queries: &[Query],
) -> anyhow::Result<Arc<norikae_realtime::Overlay>> {
    use prost::Message;
    let mode = std::env::var("ROUTE_BENCH_REALTIME").unwrap_or_default();
    let realtime = norikae_realtime::Realtime::new(usize::MAX, u64::MAX);
    if mode.is_empty() || mode == "0" {
        return Ok(realtime.overlay());
    }
    let Some(date) = queries.first().map(|query| query.date) else {
        return Ok(realtime.overlay());
    };
    let first = queries.iter().map(|query| query.time_secs).min().unwrap_or(0);
    let last = queries.iter().map(|query| query.time_secs).max().unwrap_or(0);
    let now = timetable.service_day_start(date).timestamp() + i64::from(first);
    let options = norikae_realtime::sim::SimOptions {
        seed: 1,
        date,
        from_secs: first.saturating_sub(3600),
        to_secs: last + 2 * 3600,
        delayed_share: 1.0,
        max_delay_secs: 900,
        // `typical`: most trips a minute or two late, a few up to 15 minutes (mean 150 s);
        // `delays` and `cancel`: each its own 1–15 minutes (a network in disarray).
        delays: if mode == "typical" {
            norikae_realtime::sim::Delays::Exponential { mean_secs: 150 }
        } else {
            norikae_realtime::sim::Delays::Uniform
        },
        cancel_one: mode == "cancel",
        now,
    };
    let (mut total_micros, mut total_bytes) = (0u64, 0usize);
    let messages: Vec<(&str, Vec<u8>)> = timetable
        .feeds
        .iter()
        .map(|feed| {
            let message = norikae_realtime::sim::feed_message(timetable, &feed.name, &options);
            (feed.name.as_str(), message.encode_to_vec())
        })
        .collect();
    for (feed, bytes) in &messages {
        let started = Instant::now();
        let report = realtime.apply(feed, feed, bytes, timetable, now)?;
        let micros = started.elapsed().as_micros() as u64;
        total_micros += micros;
        total_bytes += bytes.len();
        println!(
            "realtime {}: {} KiB, {} trip updates ({} trips updated so far), decode + overlay of every feed so far in {:.1} ms",
            feed,
            bytes.len() >> 10,
            report.stats.trip_updates,
            report.stats.trips_updated,
            micros as f64 / 1e3,
        );
    }
    let started = Instant::now();
    let stats = realtime.refresh(timetable, now);
    println!(
        "realtime overlay of all feeds ({} KiB): {} trips updated, {} cancelled, {} unknown; refreshed (nothing stale: the same overlay) in {:.1} ms (applying each feed: {:.1} ms in all)",
        total_bytes >> 10,
        stats.trips_updated,
        stats.trips_cancelled,
        stats.unknown_trips,
        started.elapsed().as_secs_f64() * 1e3,
        total_micros as f64 / 1e3,
    );
    // The whole city as one poll round delivers it: every message in one batch.
    let batched = norikae_realtime::Realtime::new(usize::MAX, u64::MAX);
    let batch: Vec<norikae_realtime::Message<'_>> = messages
        .iter()
        .map(|(feed, bytes)| norikae_realtime::Message { source: feed, feed, bytes })
        .collect();
    // The first batch fills empty stores (every page fresh); the next poll round replaces
    // every source's entities, as a running service does every `poll_secs`.
    let mut batch_millis = [0.0; 2];
    for (round, millis) in batch_millis.iter_mut().enumerate() {
        let started = Instant::now();
        let results = batched.apply_batch(&batch, timetable, now + round as i64);
        *millis = started.elapsed().as_secs_f64() * 1e3;
        for result in results {
            result?;
        }
    }
    let batch_stats = batched.overlay().stats;
    println!(
        "realtime batch of all {} feeds ({} KiB) in one apply: {:.1} ms, the next round {:.1} ms ({} cores); {} trips updated, same overlay as one by one: {}",
        messages.len(),
        total_bytes >> 10,
        batch_millis[0],
        batch_millis[1],
        std::thread::available_parallelism().map_or(1, usize::from),
        batch_stats.trips_updated,
        batch_stats == stats && batched.overlay().num_trips() == realtime.overlay().num_trips(),
    );
    Ok(batched.overlay())
}
