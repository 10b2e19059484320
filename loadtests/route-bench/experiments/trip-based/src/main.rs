//! Trip-Based routing (Witt, 2015) on a route-bench snapshot, measured: the trip-to-trip
//! transfers of one service day (generated from the snapshot's walking links and each stop's
//! minimum transfer time, then reduced: a transfer stays only if it improves the arrival, by
//! vehicle, at some stop over staying on the trip and the transfers kept from its later
//! stops), then the earliest arrival per number of trips for every query of a route-bench
//! query list, one thread.
//!
//! ```sh
//! cd loadtests/route-bench/experiments/trip-based
//! CARGO_TARGET_DIR=/work/target-tb cargo run --release -- SNAPSHOT DATE QUERIES [DUMP]
//! ```
//!
//! `THREADS=n` (default 2) sets the preprocessing's threads. `DUMP` gets one line per query:
//! origin, destination and the earliest arrival (seconds of the service day) with at most
//! 1..=6 trips. Simplified against the route engine, which it does not replace: one service
//! day (no trips of the day before past midnight), no walking-only journeys, default options
//! only, the walking links taken as symmetric for the walks to the destination, no lower
//! bounds. The query's cost per transfer read is what it is meant to show. `LINKS_OUT=file`
//! counts the walking links the kept transfers use and writes them there. `MODE=csa` runs the connection scan of
//! [`csa`] on the same day and queries instead (no preprocessing). `BOUNDS=alt` prunes with
//! landmark lower bounds (computed in each query's time), `BOUNDS=1` with exact ones (computed
//! outside it); `PRUNE=1` also skips hopeless transfers before queueing them.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use norikae_timetable::{StopIdx, Timetable};

mod csa;

const INF: u32 = u32::MAX;

/// The trips running on one service day, as Trip-Based routing reads them.
struct Day {
    /// Per pattern, its first running trip ("instance") and how many.
    pattern_first: Vec<u32>,
    pattern_count: Vec<u32>,
    /// Per instance, its pattern and its first stop event.
    instance_pattern: Vec<u32>,
    instance_first_event: Vec<u32>,
    /// Per stop event (instance-major), the arrival.
    arrival: Vec<u32>,
    /// Per pattern, the start of its departures, stop-major (position `j`, instance `u` at
    /// `j * count + u`), for the binary search of the earliest trip.
    pattern_departures: Vec<u32>,
    departures: Vec<u32>,
}

impl Day {
    fn build(tt: &Timetable, day: u32) -> Self {
        let mut this = Self {
            pattern_first: Vec::new(),
            pattern_count: Vec::new(),
            instance_pattern: Vec::new(),
            instance_first_event: Vec::new(),
            arrival: Vec::new(),
            pattern_departures: Vec::new(),
            departures: Vec::new(),
        };
        for (index, pattern) in tt.patterns.iter().enumerate() {
            let num_stops = pattern.num_stops();
            let times = &tt.stop_times[pattern.stop_times_start as usize..];
            let running: Vec<usize> = (0..pattern.num_trips())
                .filter(|&trip| {
                    let trip = pattern.trips.start as usize + trip;
                    tt.service_runs(tt.trip_services[trip], day)
                })
                .collect();
            this.pattern_first.push(this.instance_pattern.len() as u32);
            this.pattern_count.push(running.len() as u32);
            for &trip in &running {
                this.instance_pattern.push(index as u32);
                this.instance_first_event.push(this.arrival.len() as u32);
                this.arrival.extend((0..num_stops).map(|i| times[trip * num_stops + i].arrival));
            }
            this.pattern_departures.push(this.departures.len() as u32);
            for position in 0..num_stops {
                this.departures.extend(
                    running.iter().map(|&trip| times[trip * num_stops + position].departure),
                );
            }
        }
        this
    }

    /// The first instance of `pattern` leaving its `position` at or after `ready`.
    fn earliest(&self, pattern: usize, position: usize, ready: u32) -> Option<usize> {
        let count = self.pattern_count[pattern] as usize;
        let start = self.pattern_departures[pattern] as usize + position * count;
        let departures = &self.departures[start..start + count];
        let index = departures.partition_point(|&departure| departure < ready);
        (index < count).then(|| self.pattern_first[pattern] as usize + index)
    }
}

impl Day {
    /// The trips a traveller ready at `stop` at `ready` can board there: per pattern serving
    /// it (with pickup, not at its last stop), the earliest, as (pattern, position, instance).
    fn boardings<'a>(
        &'a self,
        tt: &'a Timetable,
        stop: StopIdx,
        ready: u32,
    ) -> impl Iterator<Item = (usize, usize, usize)> + 'a {
        tt.patterns_at_stop(stop).iter().filter_map(move |at_stop| {
            let pattern = at_stop.pattern.idx();
            let position = at_stop.position as usize;
            let (stops, rules) = pattern_slices(tt, pattern);
            if position + 1 >= stops.len() || !rules[position].pickup() {
                return None;
            }
            Some((pattern, position, self.earliest(pattern, position, ready)?))
        })
    }
}

/// A pattern's stops and rules.
fn pattern_slices(tt: &Timetable, pattern: usize) -> (&[StopIdx], &[norikae_timetable::StopRules]) {
    let range = &tt.patterns[pattern].stops;
    let range = range.start as usize..range.end as usize;
    (&tt.pattern_stops[range.clone()], &tt.pattern_stop_rules[range])
}

/// Per stop, the earliest arrival by vehicle and on foot a trip's traveller has so far.
struct Reach {
    vehicle: Vec<u32>,
    foot: Vec<u32>,
    touched: Vec<StopIdx>,
}

impl Reach {
    fn touch(&mut self, stop: StopIdx) {
        if self.vehicle[stop.idx()] == INF && self.foot[stop.idx()] == INF {
            self.touched.push(stop);
        }
    }

    /// Arriving at `stop` by vehicle at `time`: whether that improves anything (the walks
    /// from there can only improve if the vehicle arrival does).
    fn arrive(&mut self, tt: &Timetable, stop: StopIdx, time: u32) -> bool {
        if time >= self.vehicle[stop.idx()] {
            return false;
        }
        self.touch(stop);
        self.vehicle[stop.idx()] = time;
        for footpath in tt.footpaths(stop) {
            let walked = time + footpath.duration_secs;
            if walked < self.foot[footpath.to.idx()] {
                self.touch(footpath.to);
                self.foot[footpath.to.idx()] = walked;
            }
        }
        true
    }

    fn clear(&mut self) {
        for stop in self.touched.drain(..) {
            self.vehicle[stop.idx()] = INF;
            self.foot[stop.idx()] = INF;
        }
    }
}

/// Counts of one preprocessing thread, and the transfers it kept: (stop event, its
/// transfers as (instance, position)).
#[derive(Default)]
struct Kept {
    candidates: u64,
    steps: u64,
    transfers: Vec<(u32, Vec<(u32, u16)>)>,
}

/// Transfers of the instances `first, first + step, ...`, reduced.
fn transfers(tt: &Timetable, day: &Day, first: usize, step: usize) -> Kept {
    let mut kept = Kept::default();
    let mut reach = Reach {
        vehicle: vec![INF; tt.stops.len()],
        foot: vec![INF; tt.stops.len()],
        touched: Vec::new(),
    };
    for instance in (first..day.instance_pattern.len()).step_by(step) {
        let pattern = day.instance_pattern[instance] as usize;
        let (stops, rules) = pattern_slices(tt, pattern);
        let event = day.instance_first_event[instance] as usize;
        let later_of_pattern = instance as u32 - day.pattern_first[pattern];
        // From the last stop back: what the trip and the transfers from later stops reach is
        // available at every earlier stop.
        for i in (1..stops.len()).rev() {
            if !rules[i].drop_off() {
                continue;
            }
            let arrival = day.arrival[event + i];
            let stop = stops[i];
            reach.arrive(tt, stop, arrival);
            let mut list = Vec::new();
            let own = std::iter::once((stop, arrival + tt.min_transfer_secs[stop.idx()]));
            let walks =
                tt.footpaths(stop).iter().map(|link| (link.to, arrival + link.duration_secs));
            for (at, ready) in own.chain(walks) {
                for (target, j, boarded) in day.boardings(tt, at, ready) {
                    // The same trip or a later one of the pattern further on: staying on is
                    // never worse.
                    let local = boarded as u32 - day.pattern_first[target];
                    if target == pattern && j > i && local >= later_of_pattern {
                        continue;
                    }
                    kept.candidates += 1;
                    let (target_stops, target_rules) = pattern_slices(tt, target);
                    let boarded_event = day.instance_first_event[boarded] as usize;
                    let mut improves = false;
                    for k in j + 1..target_stops.len() {
                        kept.steps += 1;
                        if target_rules[k].drop_off()
                            && reach.arrive(tt, target_stops[k], day.arrival[boarded_event + k])
                        {
                            improves = true;
                        }
                    }
                    if improves {
                        list.push((boarded as u32, j as u16));
                    }
                }
            }
            if !list.is_empty() {
                kept.transfers.push(((event + i) as u32, list));
            }
        }
        reach.clear();
    }
    kept
}

/// The transfers of every stop event: `to[offsets[e]..offsets[e + 1]]`.
struct Transfers {
    offsets: Vec<u32>,
    to: Vec<(u32, u16)>,
    /// With `PRUNE=1`, beside each transfer: the departure of the trip it boards and the stop,
    /// so that a transfer whose departure plus the stop's bound reaches the best arrival is
    /// skipped before it is queued (empty otherwise).
    boarding: Vec<(u32, u32)>,
}

fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    sorted[((sorted.len() as f64 * fraction) as usize).min(sorted.len() - 1)]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [snapshot, date, queries, rest @ ..] = args.as_slice() else {
        eprintln!("usage: trip-based-experiment SNAPSHOT DATE QUERIES [DUMP]");
        std::process::exit(2);
    };
    let tt = norikae_timetable::snapshot::load(Path::new(snapshot)).expect("snapshot");
    let date = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("date YYYY-MM-DD");
    let day_number = tt.day_index(date).expect("the date is in the timetable");
    let started = Instant::now();
    let day = Day::build(&tt, day_number);
    println!(
        "day {date}: {} running trips, {} stop events, built in {:.2} s",
        day.instance_pattern.len(),
        day.arrival.len(),
        started.elapsed().as_secs_f64()
    );
    // MODE=csa: the connection scan of `csa.rs` instead of Trip-Based.
    if std::env::var("MODE").as_deref() == Ok("csa") {
        csa::run(&tt, &day, queries, rest.first().map(String::as_str));
        return;
    }
    let threads: usize =
        std::env::var("THREADS").ok().and_then(|threads| threads.parse().ok()).unwrap_or(2);
    let started = Instant::now();
    let parts: Vec<Kept> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|first| {
                let (tt, day) = (&tt, &day);
                scope.spawn(move || transfers(tt, day, first, threads))
            })
            .collect();
        workers.into_iter().map(|worker| worker.join().expect("worker")).collect()
    });
    let mut offsets = vec![0u32; day.arrival.len() + 1];
    for part in &parts {
        for (event, list) in &part.transfers {
            offsets[*event as usize + 1] = list.len() as u32;
        }
    }
    for event in 0..day.arrival.len() {
        offsets[event + 1] += offsets[event];
    }
    let mut to = vec![(0u32, 0u16); offsets[day.arrival.len()] as usize];
    for part in &parts {
        for (event, list) in &part.transfers {
            let start = offsets[*event as usize] as usize;
            to[start..start + list.len()].copy_from_slice(list);
        }
    }
    let candidates: u64 = parts.iter().map(|part| part.candidates).sum();
    let steps: u64 = parts.iter().map(|part| part.steps).sum();
    println!(
        "transfers: {candidates} candidates, {} kept ({} MiB), {steps} reduction steps, {:.1} s with {threads} threads",
        to.len(),
        (to.len() * std::mem::size_of::<(u32, u16)>() + offsets.len() * 4) >> 20,
        started.elapsed().as_secs_f64()
    );
    let boarding = if std::env::var("PRUNE").is_ok_and(|value| value == "1") {
        to.iter()
            .map(|&(instance, position)| {
                let pattern = day.instance_pattern[instance as usize] as usize;
                let count = day.pattern_count[pattern] as usize;
                let local = instance as usize - day.pattern_first[pattern] as usize;
                let start = day.pattern_departures[pattern] as usize;
                let departure = day.departures[start + usize::from(position) * count + local];
                let (stops, _) = pattern_slices(&tt, pattern);
                (departure, stops[usize::from(position)].0)
            })
            .collect()
    } else {
        Vec::new()
    };
    let transfers = Transfers { offsets, to, boarding };
    // LINKS_OUT=file: count the walking links the kept transfers use and write them there.
    if let Ok(path) = std::env::var("LINKS_OUT") {
        count_links(&tt, &day, &transfers, &path);
    }
    run_queries(&tt, &day, &transfers, queries, rest.first().map(String::as_str));
}

/// Answers every query of `queries` (route-bench's CSV: from, to, date, time) and prints the
/// query times.
fn run_queries(
    tt: &Timetable,
    day: &Day,
    transfers: &Transfers,
    queries: &str,
    dump: Option<&str>,
) {
    let mut search = Search {
        reached: vec![u16::MAX; day.instance_pattern.len()],
        reached_list: Vec::new(),
        egress: vec![INF; tt.stops.len()],
        egress_list: Vec::new(),
        queue: Vec::new(),
        transfers_read: 0,
        bound: vec![0; tt.stops.len()],
    };
    // BOUNDS=1: exact lower bounds (a Dijkstra backwards from the destination over the
    // shortest rides and the walks), computed before each query's clock starts: the most any
    // goal direction could give.
    let mode = std::env::var("BOUNDS").unwrap_or_default();
    let rides = (mode == "1").then(|| Rides::build(tt, day));
    // BOUNDS=alt: landmark bounds (ALT), computed inside the query's time, as the engine does.
    let landmarks = (mode == "alt").then(|| Landmarks::build(tt, &Rides::build(tt, day)));
    let mut bound_secs = 0.0;
    let times = time_queries(tt, queries, dump, |origin, destination, departure, started| {
        if let Some(rides) = &rides {
            rides.bounds(destination, &mut search.bound);
            bound_secs += started.elapsed().as_secs_f64();
            *started = Instant::now();
        }
        if let Some(landmarks) = &landmarks {
            landmarks.bounds(destination, &mut search.bound);
        }
        search.run(tt, day, transfers, origin, destination, departure)
    });
    if rides.is_some() {
        let per_query = bound_secs * 1000.0 / times.len() as f64;
        println!("exact bounds (not in the query times): {per_query:.2} ms per query");
    }
    let reads = search.transfers_read as f64 / times.len() as f64;
    print_times("earliest arrival per number of trips (1-6)", &times);
    println!("{reads:.0} transfers read per query");
}

/// Answers every query of `queries` (route-bench's CSV: from, to, date, time) with `answer`
/// (origin stops, destination stops, departure, and the query's start, which it may move on
/// past work not to be timed), writes the answers to `dump` and returns each query's time in
/// milliseconds.
fn time_queries(
    tt: &Timetable,
    queries: &str,
    dump: Option<&str>,
    mut answer: impl FnMut(&[StopIdx], &[StopIdx], u32, &mut Instant) -> [u32; 6],
) -> Vec<f64> {
    let text = std::fs::read_to_string(queries).expect("queries");
    let mut times = Vec::new();
    let mut out = String::new();
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let station = |id: &str| {
            let station = tt.index.station(tt, id).expect("a station of the snapshot");
            tt.stations[station.idx()].stops.as_slice()
        };
        let clock: Vec<u32> =
            fields[3].split(':').map(|part| part.parse().expect("HH:MM:SS")).collect();
        let departure = clock[0] * 3600 + clock[1] * 60 + clock[2];
        let mut started = Instant::now();
        let arrivals = answer(station(fields[0]), station(fields[1]), departure, &mut started);
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        let arrivals: Vec<String> = arrivals.iter().map(u32::to_string).collect();
        writeln!(out, "{} {} {}", fields[0], fields[1], arrivals.join(" ")).expect("string");
    }
    if let Some(path) = dump {
        std::fs::write(path, out).expect("dump");
    }
    times
}

/// Prints the percentiles and mean of query `times` (milliseconds).
fn print_times(what: &str, times: &[f64]) {
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    println!(
        "{} queries, {what}: p50 {:.2} ms  p95 {:.2} ms  p99 {:.2} ms  mean {mean:.2} ms",
        sorted.len(),
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.95),
        percentile(&sorted, 0.99),
    );
}

/// A query's state, reused.
struct Search {
    /// Per instance, the first position reached (`u16::MAX`: none).
    reached: Vec<u16>,
    reached_list: Vec<u32>,
    /// Per stop, the walk from there to the destination (after a vehicle).
    egress: Vec<u32>,
    egress_list: Vec<u32>,
    /// Trip segments (instance, from position, end), round after round.
    queue: Vec<(u32, u16, u16)>,
    transfers_read: u64,
    /// Per stop, a lower bound on the time to the destination (0 everywhere without bounds).
    bound: Vec<u32>,
}

impl Search {
    /// Queues `instance` from `position` unless it is already reached there, and marks the
    /// pattern's later instances reached (they never overtake it).
    fn enqueue(&mut self, tt: &Timetable, day: &Day, instance: usize, position: u16) {
        let reached = self.reached[instance];
        if position >= reached {
            return;
        }
        let pattern = day.instance_pattern[instance] as usize;
        // Up to the stop the earlier segment boarded at, which it does not alight at (the
        // engine's correctness tests found this segment stopping one stop short).
        let end =
            if reached == u16::MAX { tt.patterns[pattern].num_stops() as u16 } else { reached + 1 };
        self.queue.push((instance as u32, position, end));
        let last = (day.pattern_first[pattern] + day.pattern_count[pattern]) as usize;
        for later in instance..last {
            if self.reached[later] <= position {
                break;
            }
            if self.reached[later] == u16::MAX {
                self.reached_list.push(later as u32);
            }
            self.reached[later] = position;
        }
    }

    /// The earliest arrival with at most 1..=6 trips (`u32::MAX`: none).
    fn run(
        &mut self,
        tt: &Timetable,
        day: &Day,
        transfers: &Transfers,
        origin: &[StopIdx],
        destination: &[StopIdx],
        departure: u32,
    ) -> [u32; 6] {
        for &stop in destination {
            self.set_egress(stop, 0);
            for link in tt.footpaths(stop) {
                self.set_egress(link.to, link.duration_secs);
            }
        }
        self.queue.clear();
        let walks = origin.iter().flat_map(|&stop| {
            std::iter::once((stop, departure)).chain(
                tt.footpaths(stop)
                    .iter()
                    .map(move |link| (link.to, departure + link.duration_secs)),
            )
        });
        for (stop, ready) in walks {
            for (_, position, instance) in day.boardings(tt, stop, ready) {
                self.enqueue(tt, day, instance, position as u16);
            }
        }
        let mut best = INF;
        let mut per_round = [INF; 6];
        let mut start = 0;
        for round in 0..6 {
            let end = self.queue.len();
            if start == end {
                per_round[round..].fill(best);
                break;
            }
            // The round's arrivals at the destination first, so they prune its transfers.
            for &(instance, from, until) in &self.queue[start..end] {
                let pattern = day.instance_pattern[instance as usize] as usize;
                let (stops, rules) = pattern_slices(tt, pattern);
                let event = day.instance_first_event[instance as usize] as usize;
                let (first, until) = (usize::from(from) + 1, usize::from(until));
                let arrivals = &day.arrival[event + first..event + until];
                let alightings = stops[first..until].iter().zip(&rules[first..until]);
                for ((&stop, rule), &arrival) in alightings.zip(arrivals) {
                    if arrival.saturating_add(self.bound[stop.idx()]) >= best {
                        break;
                    }
                    let egress = self.egress[stop.idx()];
                    if egress != INF && rule.drop_off() {
                        best = best.min(arrival + egress);
                    }
                }
            }
            per_round[round] = best;
            if round == 5 {
                break;
            }
            for segment in start..end {
                let (instance, from, until) = self.queue[segment];
                let event = day.instance_first_event[instance as usize] as usize;
                let pattern = day.instance_pattern[instance as usize] as usize;
                let (stops, _) = pattern_slices(tt, pattern);
                let (first, until) = (usize::from(from) + 1, usize::from(until));
                for (k, stop) in stops.iter().enumerate().take(until).skip(first) {
                    if day.arrival[event + k].saturating_add(self.bound[stop.idx()]) >= best {
                        break;
                    }
                    let range = transfers.offsets[event + k] as usize
                        ..transfers.offsets[event + k + 1] as usize;
                    self.transfers_read += range.len() as u64;
                    for index in range {
                        if let Some(&(departure, stop)) = transfers.boarding.get(index)
                            && departure.saturating_add(self.bound[stop as usize]) >= best
                        {
                            continue;
                        }
                        let (to, position) = transfers.to[index];
                        self.enqueue(tt, day, to as usize, position);
                    }
                }
            }
            start = end;
        }
        for instance in self.reached_list.drain(..) {
            self.reached[instance as usize] = u16::MAX;
        }
        for stop in self.egress_list.drain(..) {
            self.egress[stop as usize] = INF;
        }
        per_round
    }

    fn set_egress(&mut self, stop: StopIdx, secs: u32) {
        if self.egress[stop.idx()] == INF {
            self.egress_list.push(stop.0);
        }
        self.egress[stop.idx()] = self.egress[stop.idx()].min(secs);
    }
}

/// How many walking links the kept transfers use: per stop (a link from one stop to another)
/// and per pattern stop where the traveller alights (the engine's alighting links).
fn count_links(tt: &Timetable, day: &Day, transfers: &Transfers, path: &str) {
    let mut per_stop = Vec::new();
    let mut per_pattern_stop = Vec::new();
    for (instance, &pattern) in day.instance_pattern.iter().enumerate() {
        let pattern = pattern as usize;
        let (stops, _) = pattern_slices(tt, pattern);
        let first_event = day.instance_first_event[instance] as usize;
        for (position, &from) in stops.iter().enumerate() {
            let event = first_event + position;
            let range = transfers.offsets[event] as usize..transfers.offsets[event + 1] as usize;
            for &(to, to_position) in &transfers.to[range] {
                let (to_stops, _) = pattern_slices(tt, day.instance_pattern[to as usize] as usize);
                let to = to_stops[usize::from(to_position)];
                if to == from {
                    continue;
                }
                per_stop.push(u64::from(from.0) << 32 | u64::from(to.0));
                let pattern_stop = tt.patterns[pattern].stops.start as usize + position;
                per_pattern_stop.push((pattern_stop as u64) << 32 | u64::from(to.0));
            }
        }
    }
    for list in [&mut per_stop, &mut per_pattern_stop] {
        list.sort_unstable();
        list.dedup();
    }
    // The pattern-stop links (pattern stop << 32 | stop, little-endian u64, sorted), for an
    // engine build that walks only those after alighting.
    let bytes: Vec<u8> = per_pattern_stop.iter().flat_map(|link| link.to_le_bytes()).collect();
    std::fs::write(path, bytes).expect("LINKS_OUT");
    println!(
        "walking links the kept transfers use: {} from stop to stop (of {}), {} from pattern stops",
        per_stop.len(),
        tt.footpaths.len(),
        per_pattern_stop.len()
    );
}

/// The shortest ride between consecutive stops of each pattern that day, for lower bounds.
struct Rides {
    /// Per stop, the (previous stop, shortest ride) edges into it, and the reverse walks.
    into: Vec<Vec<(u32, u32)>>,
}

impl Rides {
    fn build(tt: &Timetable, day: &Day) -> Self {
        let mut into = vec![Vec::new(); tt.stops.len()];
        for (pattern, &count) in day.pattern_count.iter().enumerate() {
            if count == 0 {
                continue;
            }
            let (stops, _) = pattern_slices(tt, pattern);
            let first = day.pattern_first[pattern] as usize;
            let departures = &day.departures[day.pattern_departures[pattern] as usize..];
            for i in 0..stops.len() - 1 {
                let ride = (0..count as usize)
                    .map(|local| {
                        let event = day.instance_first_event[first + local] as usize;
                        day.arrival[event + i + 1]
                            .saturating_sub(departures[i * count as usize + local])
                    })
                    .min()
                    .unwrap_or(0);
                into[stops[i + 1].idx()].push((stops[i].0, ride));
            }
        }
        for (from, _) in tt.stops.iter().enumerate() {
            for link in tt.footpaths(StopIdx(from as u32)) {
                into[link.to.idx()].push((from as u32, link.duration_secs));
            }
        }
        Self { into }
    }

    /// Fills `bound` with the shortest time from every stop to one of `destination`'s stops.
    fn bounds(&self, destination: &[StopIdx], bound: &mut [u32]) {
        dijkstra(&self.into, destination.iter().map(|stop| stop.0), bound);
    }

    /// The same edges the other way: per stop, (next stop, time).
    fn reversed(&self) -> Vec<Vec<(u32, u32)>> {
        let mut out = vec![Vec::new(); self.into.len()];
        for (to, edges) in self.into.iter().enumerate() {
            for &(from, secs) in edges {
                out[from as usize].push((to as u32, secs));
            }
        }
        out
    }
}

/// Shortest times over `edges` (per stop, (neighbour, time)) from any of `sources`.
fn dijkstra(edges: &[Vec<(u32, u32)>], sources: impl Iterator<Item = u32>, distance: &mut [u32]) {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    distance.fill(INF);
    let mut heap = BinaryHeap::new();
    for stop in sources {
        distance[stop as usize] = 0;
        heap.push(Reverse((0u32, stop)));
    }
    while let Some(Reverse((time, stop))) = heap.pop() {
        if time > distance[stop as usize] {
            continue;
        }
        for &(next, secs) in &edges[stop as usize] {
            let through = time + secs;
            if through < distance[next as usize] {
                distance[next as usize] = through;
                heap.push(Reverse((through, next)));
            }
        }
    }
}

/// Landmark (ALT) lower bounds: per landmark, every stop's shortest time to and from it.
struct Landmarks {
    /// `to[l][s]`: from stop `s` to landmark `l`; `from[l][s]`: from `l` to `s`.
    to: Vec<Vec<u32>>,
    from: Vec<Vec<u32>>,
}

impl Landmarks {
    /// Sixteen landmarks, each the stop farthest from the centre in its angular sector.
    fn build(tt: &Timetable, rides: &Rides) -> Self {
        const COUNT: usize = 16;
        let stops = &tt.stops;
        let lat = stops.iter().map(|stop| stop.lat).sum::<f64>() / stops.len() as f64;
        let lon = stops.iter().map(|stop| stop.lon).sum::<f64>() / stops.len() as f64;
        let scale = lat.to_radians().cos();
        let mut farthest: Vec<Option<(f64, usize)>> = vec![None; COUNT];
        for (index, stop) in stops.iter().enumerate() {
            let (y, x) = (stop.lat - lat, (stop.lon - lon) * scale);
            let angle = y.atan2(x) + std::f64::consts::PI;
            let sector = ((angle / std::f64::consts::TAU * COUNT as f64) as usize).min(COUNT - 1);
            let distance = x * x + y * y;
            if farthest[sector].is_none_or(|(best, _)| distance > best) {
                farthest[sector] = Some((distance, index));
            }
        }
        let out = rides.reversed();
        let (mut to, mut from) = (Vec::new(), Vec::new());
        for (_, landmark) in farthest.into_iter().flatten() {
            let mut distance = vec![INF; stops.len()];
            dijkstra(&rides.into, std::iter::once(landmark as u32), &mut distance);
            to.push(distance.clone());
            dijkstra(&out, std::iter::once(landmark as u32), &mut distance);
            from.push(distance);
        }
        Self { to, from }
    }

    /// Fills `bound` with a lower bound on the time from every stop to `destination`.
    fn bounds(&self, destination: &[StopIdx], bound: &mut [u32]) {
        bound.fill(0);
        for (to, from) in self.to.iter().zip(&self.from) {
            // d(s, T) >= d(s, L) - max d(t, L), and >= min d(L, t) - d(L, s).
            let to_landmark = destination.iter().map(|stop| to[stop.idx()]).max().unwrap_or(INF);
            let from_landmark = destination.iter().map(|stop| from[stop.idx()]).min().unwrap_or(0);
            for ((bound, &to), &from) in bound.iter_mut().zip(to).zip(from) {
                let mut best = *bound;
                if to != INF && to_landmark != INF {
                    best = best.max(to.saturating_sub(to_landmark));
                }
                if from_landmark != INF && from != INF {
                    best = best.max(from_landmark.saturating_sub(from));
                }
                *bound = best;
            }
        }
    }
}
