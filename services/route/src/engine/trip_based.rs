//! Trip-Based routing (Witt, "Trip-Based Public Transit Routing", 2015) for forward searches
//! (depart-at and range) with the default options.
//!
//! RAPTOR spends most of a query searching, at every stop a round reaches, for the earliest
//! trip of every pattern serving it. Trip-Based routing does those searches ahead, once per
//! service day: for every stop event (a running trip at one of its stops), the trips a
//! traveller alighting there can change to (at the same stop after its minimum transfer time,
//! or over a walking link), each the earliest of its pattern; then only the transfers that
//! improve the arrival, by vehicle, at some stop over staying on the trip (and over the
//! transfers kept from its later stops) are kept. A query then follows trip segments round by
//! round (a round is one more trip), marking each trip reached from the earliest position, so
//! that no trip is ridden twice, and answers with the earliest arrival per number of trips:
//! the same Pareto set over (arrival, transfers) as RAPTOR, with the same landmark lower
//! bounds pruning segments that cannot beat the arrival already found. A range search runs
//! the departures of its window latest first and keeps the trips reached, per number of
//! trips, from one departure to the next (a profile search, as rRAPTOR keeps its labels).
//!
//! The transfers of a day go from its trips to those of the same day and of the days before
//! and after it (trips past midnight), so a query on a date reads the three days RAPTOR reads.
//! Building a day takes New York about 25 s of two cores and 175 MB, which is why days are
//! built off the query path ([`Engine::prepare_trip_based`]) while RAPTOR answers; searches
//! with any other option (slack, walking limit, wheelchair, exclusions) and arrive-by
//! searches stay on RAPTOR, since the transfers are computed for the default rules, forward.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use norikae_timetable::{PatternAtStop, PatternIdx, StopIdx, Timetable, TripIdx};

use super::Engine;
use super::journey::{Journey, Leg, SeedWalk, WalkEnd};
use super::query::Frame;

const INF: u32 = u32::MAX;
/// No parent segment (a segment boarded at the origin).
const ROOT: u32 = u32::MAX;

/// A transfer target in 32 bits: the day relative to the transfer's own (2 bits: before, same,
/// after), the running trip of that day (20 bits) and the position in its pattern (10 bits),
/// so that targets sort by day, trip, then position.
const INSTANCE_BITS: u32 = 20;
const POSITION_BITS: u32 = 10;
const MAX_INSTANCES: usize = 1 << INSTANCE_BITS;
const MAX_PATTERN_STOPS: usize = 1 << POSITION_BITS;

fn pack(day: usize, instance: u32, position: usize) -> u32 {
    (day as u32) << (INSTANCE_BITS + POSITION_BITS) | instance << POSITION_BITS | position as u32
}

/// `(day, instance, position)`; `day` 0 is the day before the transfer's, 1 its own, 2 after.
fn unpack(packed: u32) -> (usize, u32, u16) {
    let day = (packed >> (INSTANCE_BITS + POSITION_BITS)) as usize;
    let instance = (packed >> POSITION_BITS) & ((1 << INSTANCE_BITS) - 1);
    (day, instance, (packed & ((1 << POSITION_BITS) - 1)) as u16)
}

/// The trips running on one service day ("instances"), pattern by pattern in the pattern's
/// trip order, with their times in seconds of that service day.
pub(crate) struct TripDay {
    /// Per pattern, its first instance and how many it has.
    pattern_first: Vec<u32>,
    pattern_count: Vec<u32>,
    /// Per instance: its pattern, its trip within the pattern and its first stop event.
    instance_pattern: Vec<u32>,
    instance_trip: Vec<u32>,
    instance_event: Vec<u32>,
    /// Per stop event (instance-major), the arrival.
    arrival: Vec<u32>,
    /// Per pattern, where its departures start, stop-major (position `j`, instance `u` of the
    /// pattern at `j * count + u`), for the earliest-trip search.
    pattern_departures: Vec<u32>,
    departures: Vec<u32>,
}

impl TripDay {
    /// The day's instances; `None` when they do not fit the packed transfers (over a million
    /// running trips, or a pattern of over 1,024 stops).
    fn build(tt: &Timetable, day: u32) -> Option<Self> {
        let mut this = Self {
            pattern_first: Vec::with_capacity(tt.patterns.len()),
            pattern_count: Vec::with_capacity(tt.patterns.len()),
            instance_pattern: Vec::new(),
            instance_trip: Vec::new(),
            instance_event: Vec::new(),
            arrival: Vec::new(),
            pattern_departures: Vec::with_capacity(tt.patterns.len()),
            departures: Vec::new(),
        };
        let mut running = Vec::new();
        for (index, pattern) in tt.patterns.iter().enumerate() {
            let num_stops = pattern.num_stops();
            if num_stops > MAX_PATTERN_STOPS {
                return None;
            }
            let times = &tt.stop_times[pattern.stop_times_start as usize..];
            running.clear();
            running.extend((0..pattern.num_trips()).filter(|&trip| {
                tt.service_runs(tt.trip_services[pattern.trips.start as usize + trip], day)
            }));
            this.pattern_first.push(this.instance_pattern.len() as u32);
            this.pattern_count.push(running.len() as u32);
            for &trip in &running {
                this.instance_pattern.push(index as u32);
                this.instance_trip.push(trip as u32);
                this.instance_event.push(this.arrival.len() as u32);
                this.arrival.extend((0..num_stops).map(|i| times[trip * num_stops + i].arrival));
            }
            this.pattern_departures.push(this.departures.len() as u32);
            for position in 0..num_stops {
                this.departures.extend(
                    running.iter().map(|&trip| times[trip * num_stops + position].departure),
                );
            }
        }
        (this.instance_pattern.len() <= MAX_INSTANCES).then_some(this)
    }

    fn instances(&self) -> usize {
        self.instance_pattern.len()
    }

    fn bytes(&self) -> usize {
        4 * (self.pattern_first.len()
            + self.pattern_count.len()
            + self.instance_pattern.len()
            + self.instance_trip.len()
            + self.instance_event.len()
            + self.arrival.len()
            + self.pattern_departures.len()
            + self.departures.len())
    }
}

/// Three consecutive service days as one time line: `offset[i]` is the start of day `i`
/// relative to the time line's zero (a missing day has no trips).
#[derive(Clone, Copy)]
struct Days<'a> {
    day: [Option<&'a TripDay>; 3],
    offset: [i64; 3],
}

impl Days<'_> {
    /// The earliest instance of `pattern` leaving `position` at or after `ready` on any of
    /// the days, as `(day, instance, departure)` (times on the time line).
    fn earliest(&self, pattern: usize, position: usize, ready: i64) -> Option<(usize, u32, i64)> {
        let mut best: Option<(usize, u32, i64)> = None;
        for (slot, day) in self.day.iter().enumerate() {
            let Some(day) = day else { continue };
            let count = day.pattern_count[pattern] as usize;
            if count == 0 {
                continue;
            }
            let start = day.pattern_departures[pattern] as usize + position * count;
            let departures = &day.departures[start..start + count];
            let offset = self.offset[slot];
            // Two reads rule most days out: the day's last departure there is too early, or
            // its first is no earlier than the best found on another day.
            if i64::from(departures[count - 1]) + offset < ready
                || best.is_some_and(|(_, _, best)| i64::from(departures[0]) + offset >= best)
            {
                continue;
            }
            let threshold = (ready - offset).max(0) as u32;
            let index = departures.partition_point(|&departure| departure < threshold);
            let departure = i64::from(departures[index]) + offset;
            if best.is_none_or(|(_, _, best)| departure < best) {
                best = Some((slot, day.pattern_first[pattern] + index as u32, departure));
            }
        }
        best
    }

    fn arrival(&self, slot: usize, event: usize) -> i64 {
        self.day[slot].map_or(i64::MAX, |day| i64::from(day.arrival[event]) + self.offset[slot])
    }
}

/// One service day's trips and their reduced transfers: those of stop event `e` are
/// `targets[offsets[e]..offsets[e + 1]]`, packed (see [`pack`]).
pub(crate) struct DayTransfers {
    trips: TripDay,
    offsets: Vec<u32>,
    targets: Vec<u32>,
}

impl DayTransfers {
    /// The transfers of `day`'s trips, with `threads` threads; `None` when the day's trips do
    /// not fit the packed layout (or a worker failed).
    /// `rule_stops`: the stops where transfers.txt rules naming trips or routes start.
    fn build(tt: &Timetable, rule_stops: &[bool], day: u32, threads: usize) -> Option<Self> {
        let date = tt.date_of_day(day);
        let start = |date: NaiveDate| tt.service_day_start(date).timestamp();
        let own = TripDay::build(tt, day)?;
        let before = day.checked_sub(1).and_then(|before| TripDay::build(tt, before));
        let after = (day + 1 < tt.meta.num_days).then(|| TripDay::build(tt, day + 1)).flatten();
        let offset = |other: Option<NaiveDate>| other.map_or(0, |other| start(other) - start(date));
        let days = Days {
            day: [before.as_ref(), Some(&own), after.as_ref()],
            offset: [offset(date.pred_opt()), 0, offset(date.succ_opt())],
        };
        let next = AtomicUsize::new(0);
        // A worker that panicked leaves its blocks out: the day is not built (RAPTOR answers)
        // rather than built with other events' transfers.
        let parts: Option<Vec<Vec<Block>>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads.max(1))
                .map(|_| scope.spawn(|| generate(tt, rule_stops, &days, &next)))
                .collect();
            workers.into_iter().map(|worker| worker.join().ok()).collect()
        });
        let mut blocks: Vec<Block> = parts?.into_iter().flatten().collect();
        blocks.sort_unstable_by_key(|block| block.first_instance);
        let events = own.arrival.len();
        let mut offsets = Vec::with_capacity(events + 1);
        offsets.push(0u32);
        let total: usize = blocks.iter().map(|block| block.targets.len()).sum();
        let mut targets = Vec::with_capacity(total);
        for block in blocks {
            for count in block.counts {
                let last = *offsets.last().unwrap_or(&0);
                offsets.push(last + count);
            }
            targets.extend_from_slice(&block.targets);
        }
        (offsets.len() == events + 1).then_some(Self { trips: own, offsets, targets })
    }

    fn transfers(&self, event: usize) -> &[u32] {
        &self.targets[self.offsets[event] as usize..self.offsets[event + 1] as usize]
    }

    /// How many transfers the day keeps.
    pub(crate) fn len(&self) -> usize {
        self.targets.len()
    }

    /// Memory the day takes.
    pub(crate) fn bytes(&self) -> usize {
        self.trips.bytes() + 4 * (self.offsets.len() + self.targets.len())
    }
}

/// Transfers of a run of instances: per stop event, how many, and the targets in event order.
#[derive(Default)]
struct Block {
    first_instance: usize,
    counts: Vec<u32>,
    targets: Vec<u32>,
}

/// How many segments behind the newest one a round scans for the destination.
const SCAN_LAG: usize = 2;

/// Instances handed to a worker at a time.
const BLOCK: usize = 64;

/// Generates and reduces the transfers of the blocks of instances of `days`' own day (slot 1)
/// this worker takes from `next`; at `rule_stops`, under the rules naming trips or routes.
fn generate(
    tt: &Timetable,
    rule_stops: &[bool],
    days: &Days<'_>,
    next: &AtomicUsize,
) -> Vec<Block> {
    let Some(own) = days.day[1] else { return Vec::new() };
    let mut blocks = Vec::new();
    // Per stop, the earliest arrival by vehicle the traveller of the instance has so far:
    // walks and changes follow from it, so a transfer that improves none is never needed.
    let mut reach = vec![INF; tt.stops.len()];
    let mut touched: Vec<u32> = Vec::new();
    let mut lists: Vec<Vec<u32>> = Vec::new();
    let mut candidates: Vec<u32> = Vec::new();
    loop {
        let first = next.fetch_add(BLOCK, Ordering::Relaxed);
        if first >= own.instances() {
            break;
        }
        let last = (first + BLOCK).min(own.instances());
        let mut block = Block { first_instance: first, ..Block::default() };
        for instance in first..last {
            let pattern = own.instance_pattern[instance] as usize;
            let pattern_idx = PatternIdx(pattern as u32);
            let (stops, rules) =
                (tt.pattern_stops(pattern_idx), tt.pattern_stop_rules(pattern_idx));
            let event = own.instance_event[instance] as usize;
            lists.resize_with(lists.len().max(stops.len()), Vec::new);
            let mut arrive = |stop: StopIdx, time: i64| {
                let time = time.clamp(0, i64::from(INF - 1)) as u32;
                let slot = &mut reach[stop.idx()];
                if time >= *slot {
                    return false;
                }
                if *slot == INF {
                    touched.push(stop.0);
                }
                *slot = time;
                true
            };
            // From the last stop back: what the trip and the transfers kept from its later
            // stops reach is available at every earlier stop.
            for i in (1..stops.len()).rev() {
                let list = &mut lists[i];
                list.clear();
                if !rules[i].drop_off() {
                    continue;
                }
                let arrival = i64::from(own.arrival[event + i]);
                let stop = stops[i];
                arrive(stop, arrival);
                let change =
                    std::iter::once((stop, arrival + i64::from(tt.min_transfer_secs[stop.idx()])));
                let walks = tt
                    .footpaths(stop)
                    .iter()
                    .map(|link| (link.to, arrival + i64::from(link.duration_secs)));
                // The trips the traveller can change to, each the earliest of its pattern at
                // that stop; a trip boarded at two stops is tried from the earlier one first,
                // so that the later boarding, which reaches nothing more, is dropped.
                candidates.clear();
                if rule_stops[stop.idx()] {
                    let trip =
                        TripIdx(tt.patterns[pattern].trips.start + own.instance_trip[instance]);
                    let leaving = Change { trip, stop, arrival, pattern, position: i, instance };
                    rule_candidates(tt, days, &leaving, &mut candidates);
                } else {
                    for (at, ready) in change.chain(walks) {
                        for at_stop in tt.patterns_at_stop(at) {
                            let Some((target, j)) = boarding_position(tt, at_stop) else {
                                continue;
                            };
                            let Some((slot, boarded, _)) = days.earliest(target, j, ready) else {
                                continue;
                            };
                            if !stays_on((pattern, i, instance), (target, j, slot, boarded)) {
                                candidates.push(pack(slot, boarded, j));
                            }
                        }
                    }
                }
                // Packed, they sort by day, trip, then position.
                candidates.sort_unstable();
                candidates.dedup();
                for &candidate in candidates.iter() {
                    let (slot, boarded, j) = unpack(candidate);
                    let Some(day) = days.day[slot] else { continue };
                    let j = usize::from(j);
                    let target = PatternIdx(day.instance_pattern[boarded as usize]);
                    let target_stops = tt.pattern_stops(target);
                    let target_rules = tt.pattern_stop_rules(target);
                    let boarded_event = day.instance_event[boarded as usize] as usize;
                    let mut improves = false;
                    for k in j + 1..target_stops.len() {
                        if target_rules[k].drop_off()
                            && arrive(target_stops[k], days.arrival(slot, boarded_event + k))
                        {
                            improves = true;
                        }
                    }
                    if improves {
                        list.push(candidate);
                    }
                }
            }
            block.counts.push(0);
            for list in &lists[1..stops.len()] {
                block.counts.push(list.len() as u32);
                block.targets.extend_from_slice(list);
            }
            for stop in touched.drain(..) {
                reach[stop as usize] = INF;
            }
        }
        blocks.push(block);
    }
    blocks
}

/// Where a traveller may board the pattern of `at_stop`: `(pattern, position)`, unless the
/// stop is the pattern's last or lets nobody on there.
fn boarding_position(tt: &Timetable, at_stop: &PatternAtStop) -> Option<(usize, usize)> {
    let position = at_stop.position as usize;
    let rules = tt.pattern_stop_rules(at_stop.pattern);
    (position + 1 < rules.len() && rules[position].pickup())
        .then_some((at_stop.pattern.idx(), position))
}

/// Whether boarding instance `boarded` (day `slot`) of `target` at `j` is staying on the
/// instance left (`pattern`, position `i`, own day's `instance`) or a later one of its pattern
/// further on: never better than staying on board.
fn stays_on(
    (pattern, i, instance): (usize, usize, usize),
    (target, j, slot, boarded): (usize, usize, usize, u32),
) -> bool {
    slot == 1 && target == pattern && j > i && boarded as usize >= instance
}

/// A traveller leaving `trip` (instance `instance` of the own day, of pattern `pattern`) at
/// `stop`, position `position`, arriving at `arrival` (seconds of the own day).
struct Change {
    trip: TripIdx,
    stop: StopIdx,
    arrival: i64,
    pattern: usize,
    position: usize,
    instance: usize,
}

/// The transfers of `change` where transfers.txt rules naming trips or routes may apply:
/// per pattern at the stop itself, at the stops its walking links reach and at those its
/// rules lead to, the earliest trip the traveller may board under the most specific rule for
/// that pair of trips (or else the stop's minimum transfer time or the walk), tried trip by
/// trip (such stops are few).
fn rule_candidates(tt: &Timetable, days: &Days<'_>, change: &Change, candidates: &mut Vec<u32>) {
    // Where the traveller may board, and what the stop rules need to get there (`None`: only a
    // rule may allow it).
    let own_secs = tt.min_transfer_secs[change.stop.idx()];
    let mut places: Vec<(StopIdx, Option<u32>)> = vec![(
        change.stop,
        (own_secs < norikae_timetable::FORBIDDEN_TRANSFER_SECS).then_some(own_secs),
    )];
    places.extend(tt.footpaths(change.stop).iter().map(|link| (link.to, Some(link.duration_secs))));
    places.extend(tt.transfer_rules_from(change.stop).iter().map(|rule| (rule.to_stop, None)));
    places.sort_by_key(|&(stop, secs)| (stop, secs.is_none(), secs));
    places.dedup_by_key(|&mut (stop, _)| stop);
    for (at, stop_rule_secs) in places {
        for at_stop in tt.patterns_at_stop(at) {
            let Some((target, j)) = boarding_position(tt, at_stop) else { continue };
            let trips_start = tt.patterns[target].trips.start;
            let mut best: Option<(usize, u32, i64)> = None;
            for (slot, day) in days.day.iter().enumerate() {
                let Some(day) = day else { continue };
                let count = day.pattern_count[target] as usize;
                let start = day.pattern_departures[target] as usize + j * count;
                for (index, &departure) in day.departures[start..start + count].iter().enumerate() {
                    let departure = i64::from(departure) + days.offset[slot];
                    if departure < change.arrival {
                        continue;
                    }
                    if best.is_some_and(|(_, _, best)| departure >= best) {
                        break;
                    }
                    let instance = day.pattern_first[target] + index as u32;
                    let trip = TripIdx(trips_start + day.instance_trip[instance as usize]);
                    let needed = match tt.trip_transfer_rule(change.trip, change.stop, trip, at) {
                        Some(rule) => rule,
                        None => stop_rule_secs,
                    };
                    if needed.is_some_and(|secs| change.arrival + i64::from(secs) <= departure) {
                        best = Some((slot, instance, departure));
                        break;
                    }
                }
            }
            let Some((slot, boarded, _)) = best else { continue };
            let left = (change.pattern, change.position, change.instance);
            if !stays_on(left, (target, j, slot, boarded)) {
                candidates.push(pack(slot, boarded, j));
            }
        }
    }
}

/// One service day's transfers, once built.
#[derive(Clone)]
enum Built {
    Transfers(Arc<DayTransfers>),
    /// The day's trips do not fit the packed layout (or its build failed): RAPTOR answers on
    /// it.
    Unfit,
}

/// The transfers of the service days built so far, and whether and how a search gets them.
#[derive(Default)]
pub(crate) struct Cache {
    /// Per service day: its transfers and when they were last used (a counter).
    days: Mutex<HashMap<u32, (Built, u64)>>,
    uses: AtomicUsize,
    /// One build at a time (each uses the threads it is given).
    building: Mutex<()>,
    /// Searches build missing days themselves (small feeds and tests) instead of leaving
    /// them to RAPTOR until [`Engine::prepare_trip_based`] has built them.
    on_demand: AtomicBool,
    /// Searches answered by Trip-Based routing.
    searches: AtomicU64,
}

impl Cache {
    /// Days kept: a query needs three, and the next date's third is built before midnight.
    const CAPACITY: usize = 4;

    /// The day's transfers, if built (`None`: not yet).
    fn get(&self, day: u32) -> Option<Built> {
        let mut days = self.days.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = self.uses.fetch_add(1, Ordering::Relaxed) as u64;
        let entry = days.get_mut(&day)?;
        entry.1 = now;
        Some(entry.0.clone())
    }

    fn insert(&self, day: u32, built: Built) {
        let mut days = self.days.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = self.uses.fetch_add(1, Ordering::Relaxed) as u64;
        if !days.contains_key(&day) && days.len() >= Self::CAPACITY {
            let oldest = days.iter().min_by_key(|(_, (_, used))| *used).map(|(day, _)| *day);
            if let Some(oldest) = oldest {
                days.remove(&oldest);
            }
        }
        days.insert(day, (built, now));
    }
}

/// What [`Engine::prepare_trip_based`] did for one day.
#[derive(Clone, Debug)]
pub struct PreparedDay {
    pub date: NaiveDate,
    /// Transfers kept (`None`: the day's trips do not fit, RAPTOR answers on it).
    pub transfers: Option<usize>,
    pub bytes: usize,
    pub secs: f64,
}

impl Engine {
    /// Builds the transfers of the service days a query on `date` reads (the days before, of
    /// and after it) that are not built yet, with `threads` threads; from then on depart-at
    /// and range searches with the default options on that date use Trip-Based routing.
    /// Returns what was built (nothing for days built before, or outside the timetable).
    pub fn prepare_trip_based(&self, date: NaiveDate, threads: usize) -> Vec<PreparedDay> {
        let Ok(frame) = Frame::new(&self.timetable, date) else { return Vec::new() };
        frame
            .days
            .day
            .into_iter()
            .flatten()
            .filter_map(|day| self.prepare_day(day, threads))
            .collect()
    }

    /// Builds the transfers of service day `day` unless they are built.
    fn prepare_day(&self, day: u32, threads: usize) -> Option<PreparedDay> {
        let _building =
            self.trip_based.building.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.trip_based.get(day).is_some() {
            return None;
        }
        let started = std::time::Instant::now();
        let rule_stops = &self.rule_boarding_stops[super::raptor::Direction::Backward];
        let transfers =
            DayTransfers::build(&self.timetable, rule_stops, day, threads).map(Arc::new);
        let prepared = PreparedDay {
            date: self.timetable.date_of_day(day),
            transfers: transfers.as_ref().map(|day| day.len()),
            bytes: transfers.as_ref().map_or(0, |day| day.bytes()),
            secs: started.elapsed().as_secs_f64(),
        };
        self.trip_based.insert(day, transfers.map_or(Built::Unfit, Built::Transfers));
        Some(prepared)
    }

    /// Lets forward searches build the transfers they miss themselves (for small feeds and
    /// tests: New York takes 25 s per day), instead of leaving those dates to RAPTOR.
    pub fn build_trip_based_on_demand(&self, on: bool) {
        self.trip_based.on_demand.store(on, Ordering::Relaxed);
    }

    /// The service days whose transfers are built (those whose trips do not fit the layout
    /// left out), in order.
    pub fn trip_based_dates(&self) -> Vec<NaiveDate> {
        let days = self.trip_based.days.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut dates: Vec<NaiveDate> = days
            .iter()
            .filter(|(_, (built, _))| matches!(built, Built::Transfers(_)))
            .map(|(&day, _)| self.timetable.date_of_day(day))
            .collect();
        dates.sort_unstable();
        dates
    }

    /// How many searches Trip-Based routing has answered.
    pub fn trip_based_searches(&self) -> u64 {
        self.trip_based.searches.load(Ordering::Relaxed)
    }

    /// The transfers of the frame's three days, if all are built.
    pub(crate) fn trip_based_days(&self, frame: &Frame) -> Option<[Option<Arc<DayTransfers>>; 3]> {
        let mut days: [Option<Arc<DayTransfers>>; 3] = [None, None, None];
        for (slot, day) in frame.days.day.iter().enumerate() {
            let Some(day) = *day else { continue };
            let built = match self.trip_based.get(day) {
                Some(built) => built,
                None if self.trip_based.on_demand.load(Ordering::Relaxed) => {
                    self.prepare_day(day, 1);
                    self.trip_based.get(day)?
                }
                None => return None,
            };
            let Built::Transfers(transfers) = built else { return None };
            days[slot] = Some(transfers);
        }
        Some(days)
    }

    /// A search by Trip-Based routing. Depart-at: the journeys with the earliest arrival for
    /// each number of trips up to `max_trips` that arrive earlier than with fewer, leaving
    /// the seeds at `start` (seconds after the frame's zero). Range: the same for every
    /// departure in `departures` (leaving times with the seed to leave from, latest first),
    /// each journey kept only if it arrives earlier than every one with as many trips or
    /// fewer leaving later (from the window's end on): a profile search, in which a trip
    /// reached with some number of trips is not followed again for an earlier departure.
    /// Journeys arrive within `horizon_secs` of their departure. `goals` are the target
    /// stops with the walk from each to the place; the scratch's lower bounds must be filled
    /// for them.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn search_trip_based(
        &self,
        days: &[Option<Arc<DayTransfers>>; 3],
        frame: &Frame,
        seeds: &[SeedWalk],
        goals: &[SeedWalk],
        departures: Departures<'_>,
        horizon_secs: u32,
        max_trips: usize,
        scratch: &mut super::Scratch,
    ) -> crate::error::Result<Vec<Journey>> {
        let tt = &*self.timetable;
        let limits = scratch.limits;
        self.trip_based.searches.fetch_add(1, Ordering::Relaxed);
        let search = &mut scratch.trip_based;
        let bound = &scratch.lower_bound;
        let view = View::new(days, frame);
        let profile = matches!(departures, Departures::Range { .. });
        search.prepare(tt, &view, if profile { max_trips } else { 1 });
        for goal in goals {
            search.set_egress(goal.stop, goal.duration_secs, goal.stop);
            for link in self.footpaths(super::raptor::Direction::Backward, goal.stop) {
                search.set_egress(link.to, link.duration_secs + goal.duration_secs, goal.stop);
            }
        }
        let mut best = vec![INF; max_trips];
        let mut journeys = Vec::new();
        // One iteration: the seeds (all, or `only`, as (time, seed index)) leaving at `time`.
        let mut iterate = |time: u32, only: Option<&[(u32, u32)]>, report: bool| {
            let horizon = time.saturating_add(horizon_secs);
            for best in &mut best {
                *best = (*best).min(horizon);
            }
            search.queue.clear();
            for (seed_index, seed) in seeds.iter().enumerate() {
                if only
                    .is_some_and(|only| !only.iter().any(|&(_, seed)| seed as usize == seed_index))
                {
                    continue;
                }
                let ready = i64::from(time + seed.duration_secs);
                for at_stop in tt.patterns_at_stop(seed.stop) {
                    let position = at_stop.position as usize;
                    let rules = tt.pattern_stop_rules(at_stop.pattern);
                    if position + 1 >= rules.len() || !rules[position].pickup() {
                        continue;
                    }
                    if let Some((slot, instance, _)) =
                        view.days.earliest(at_stop.pattern.idx(), position, ready)
                    {
                        let target = Target { slot, instance, position: position as u16 };
                        search.enqueue(tt, &view, 0, target, ROOT, seed_index as u32);
                    }
                }
            }
            let found = search.run(tt, &view, bound, &mut best);
            if report {
                for (segment, position) in found.into_iter().flatten() {
                    if let Some(journey) =
                        search.journey(self, &view, frame, seeds, goals, segment, position)
                    {
                        journeys.push(journey);
                    }
                }
            }
        };
        let mut searched = Ok(());
        match departures {
            Departures::At(start) => iterate(start, None, true),
            Departures::Range { end, departures } => {
                iterate(end, None, false);
                // Between departures, a search past its deadline stops.
                for group in departures.chunk_by(|a, b| a.0 == b.0) {
                    searched = limits.check();
                    if searched.is_err() {
                        break;
                    }
                    iterate(group[0].0, Some(group), true);
                }
            }
        }
        search.clear();
        searched.map(|()| journeys)
    }
}

/// When a Trip-Based search leaves.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Departures<'a> {
    /// At this time (seconds after the frame's zero).
    At(u32),
    /// At each of `departures` (time, index of the seed leaving then; latest first), after
    /// the window's `end`, which only sets the arrivals to beat.
    Range { end: u32, departures: &'a [(u32, u32)] },
}

/// Where a transfer (or a boarding at the origin) gets on: a slot's instance at a position.
#[derive(Clone, Copy, Debug)]
struct Target {
    slot: usize,
    instance: u32,
    position: u16,
}

/// The frame's three days as a query reads them.
struct View<'a> {
    transfers: [Option<&'a DayTransfers>; 3],
    days: Days<'a>,
    /// Where each slot's instances start in the query's per-instance arrays.
    base: [u32; 3],
}

impl<'a> View<'a> {
    fn new(days: &'a [Option<Arc<DayTransfers>>; 3], frame: &Frame) -> Self {
        let transfers = [days[0].as_deref(), days[1].as_deref(), days[2].as_deref()];
        let trips = transfers.map(|day| day.map(|day| &day.trips));
        let mut base = [0u32; 3];
        let mut next = 0u32;
        for slot in 0..3 {
            base[slot] = next;
            next += trips[slot].map_or(0, |day| day.instances() as u32);
        }
        Self {
            transfers,
            days: Days { day: trips, offset: frame.days.offset.map(i64::from) },
            base,
        }
    }

    fn instances(&self) -> usize {
        (0..3).map(|slot| self.days.day[slot].map_or(0, TripDay::instances)).sum()
    }
}

/// A trip boarded at position `from` and ridden to the stops before `until` (the stop where an
/// earlier segment of the same trip was boarded is the last one this segment alights at).
#[derive(Clone, Copy, Debug)]
struct Segment {
    slot: u8,
    instance: u32,
    /// The instance's pattern and first stop event, read once when it is queued.
    pattern: u32,
    event: u32,
    from: u16,
    until: u16,
    /// The segment the traveller changed from (`ROOT`: boarded at a seed).
    parent: u32,
    /// Where the traveller got off the parent, or, for a root, the seed's index.
    origin: u32,
}

/// A Trip-Based query's buffers, reused from query to query.
#[derive(Default)]
pub(crate) struct Search {
    /// Per level and instance of the query's days (`level * instances + instance`), the
    /// first position reached with at most `level + 1` trips (`u16::MAX`: none). Depart-at
    /// searches use one level for all rounds (a later round never reaches a trip earlier);
    /// range searches one per round, kept from departure to departure.
    reached: Vec<u16>,
    instances: usize,
    levels: usize,
    /// Instances with a position reached at some level, to clean up.
    reached_list: Vec<u32>,
    /// Per stop, the time from arriving there by vehicle to the destination, and the target
    /// stop walked to (`INF`: none).
    egress: Vec<u32>,
    egress_goal: Vec<u32>,
    egress_list: Vec<u32>,
    /// Segments, round after round.
    queue: Vec<Segment>,
}

impl Search {
    fn prepare(&mut self, tt: &Timetable, view: &View<'_>, levels: usize) {
        self.instances = view.instances();
        self.levels = levels;
        if self.reached.len() < self.instances * levels {
            self.reached.resize(self.instances * levels, u16::MAX);
        }
        if self.egress.len() != tt.stops.len() {
            self.egress = vec![INF; tt.stops.len()];
            self.egress_goal = vec![INF; tt.stops.len()];
        }
        self.queue.clear();
    }

    fn clear(&mut self) {
        for instance in self.reached_list.drain(..) {
            for level in 0..self.levels {
                self.reached[level * self.instances + instance as usize] = u16::MAX;
            }
        }
        for stop in self.egress_list.drain(..) {
            self.egress[stop as usize] = INF;
            self.egress_goal[stop as usize] = INF;
        }
        self.queue.clear();
    }

    fn set_egress(&mut self, stop: StopIdx, secs: u32, goal: StopIdx) {
        let slot = &mut self.egress[stop.idx()];
        if *slot == INF {
            self.egress_list.push(stop.0);
        }
        if secs < *slot {
            *slot = secs;
            self.egress_goal[stop.idx()] = goal.0;
        }
    }

    /// Whether the target trip is reached at its position or before with the trips of
    /// `level` (or fewer): a transfer there leads nowhere new.
    #[inline]
    fn reached_before(&self, view: &View<'_>, level: usize, target: Target) -> bool {
        let global = (view.base[target.slot] + target.instance) as usize;
        target.position >= self.reached[level.min(self.levels - 1) * self.instances + global]
    }

    /// Queues the target trip from its position for the round of `level` unless it is
    /// reached there already (with as many trips or fewer), and marks the pattern's later
    /// instances of that day reached (they never overtake it). Returns whether it queued.
    #[inline(never)]
    fn enqueue(
        &mut self,
        tt: &Timetable,
        view: &View<'_>,
        level: usize,
        target: Target,
        parent: u32,
        origin: u32,
    ) -> bool {
        if self.reached_before(view, level, target) {
            return false;
        }
        let level = level.min(self.levels - 1);
        let Target { slot, instance, position } = target;
        let global = (view.base[slot] + instance) as usize;
        let reached = self.reached[level * self.instances + global];
        let Some(day) = view.days.day[slot] else { return false };
        let pattern = day.instance_pattern[instance as usize];
        // The stops up to the one reached before (where the traveller boarded then, so the
        // earlier segment does not alight there).
        let until = if reached == u16::MAX {
            tt.patterns[pattern as usize].num_stops() as u16
        } else {
            reached + 1
        };
        self.queue.push(Segment {
            slot: slot as u8,
            instance,
            pattern,
            event: day.instance_event[instance as usize],
            from: position,
            until,
            parent,
            origin,
        });
        let pattern = pattern as usize;
        let last = view.base[slot] as usize
            + (day.pattern_first[pattern] + day.pattern_count[pattern]) as usize;
        for level in level..self.levels {
            let row = level * self.instances;
            for later in global..last {
                let slot = &mut self.reached[row + later];
                if *slot <= position {
                    break;
                }
                // Every level from this one on is marked, the last one too: an instance is
                // listed the first time that one is.
                if *slot == u16::MAX && level + 1 == self.levels {
                    self.reached_list.push(later as u32);
                }
                *slot = position;
            }
        }
        true
    }

    /// Where segment `index`, of round `round`, arrives at the destination earlier than
    /// `best[round]`: updates it and `found[round]`.
    #[inline]
    fn scan_target(
        &self,
        tt: &Timetable,
        view: &View<'_>,
        bound: &[u32],
        index: usize,
        best: &mut u32,
        found: &mut Option<(u32, u16)>,
    ) {
        let segment = self.queue[index];
        let slot = usize::from(segment.slot);
        let Some(day) = view.days.day[slot] else { return };
        let offset = view.days.offset[slot] as u32;
        let pattern = PatternIdx(segment.pattern);
        let (stops, rules) = (tt.pattern_stops(pattern), tt.pattern_stop_rules(pattern));
        let event = segment.event as usize;
        for k in usize::from(segment.from) + 1..usize::from(segment.until) {
            let stop = stops[k].idx();
            let arrival = day.arrival[event + k] + offset;
            if arrival.saturating_add(bound[stop]) >= *best {
                break;
            }
            let egress = self.egress[stop];
            if egress != INF && rules[k].drop_off() && arrival + egress < *best {
                *best = arrival + egress;
                *found = Some((index as u32, k as u16));
            }
        }
    }

    /// The rounds: per number of trips, the segment and position where the traveller alights
    /// for an arrival earlier than `best` (per number of trips, updated). Each segment is
    /// scanned for the destination when it is queued, so that the arrival it gives prunes
    /// the rest of the transfers that queue the round.
    fn run(
        &mut self,
        tt: &Timetable,
        view: &View<'_>,
        bound: &[u32],
        best: &mut [u32],
    ) -> Vec<Option<(u32, u16)>> {
        let max_trips = best.len();
        let mut found = vec![None; max_trips];
        // Where a segment's first alighting is in its day's arrivals and transfer offsets
        // (loaded ahead of the segment: each is usually a cache miss).
        let first_alighting =
            |segment: &Segment| segment.event as usize + usize::from(segment.from) + 1;
        for index in 0..self.queue.len() {
            if let Some(ahead) = self.queue.get(index + 2)
                && let Some(day) = view.days.day[usize::from(ahead.slot)]
            {
                super::raptor::hint::prefetch(&day.arrival[first_alighting(ahead)]);
            }
            self.scan_target(tt, view, bound, index, &mut best[0], &mut found[0]);
        }
        let mut start = 0;
        for round in 0..max_trips - 1 {
            let end = self.queue.len();
            if start == end {
                break;
            }
            // A transfer adds a trip: the journey must beat those with one trip more too,
            // and (an arrival with more trips must beat those with fewer) this round's.
            let next = round + 1;
            best[next] = best[next].min(best[round]);
            let mut scanned = end;
            for index in start..end {
                let segment = self.queue[index];
                // Two segments on, where its transfers start; one on, its first transfers
                // (their start loaded by then).
                if let Some(ahead) = self.queue.get(index + 2)
                    && let Some(transfers) = view.transfers[usize::from(ahead.slot)]
                {
                    super::raptor::hint::prefetch(&transfers.offsets[first_alighting(ahead)]);
                }
                if let Some(ahead) = self.queue.get(index + 1)
                    && let Some(transfers) = view.transfers[usize::from(ahead.slot)]
                    && let Some(first) =
                        transfers.targets.get(transfers.offsets[first_alighting(ahead)] as usize)
                {
                    super::raptor::hint::prefetch(first);
                }
                let slot = usize::from(segment.slot);
                let (Some(day), Some(transfers)) = (view.days.day[slot], view.transfers[slot])
                else {
                    continue;
                };
                let offset = view.days.offset[slot] as u32;
                let stops = tt.pattern_stops(PatternIdx(segment.pattern));
                let event = segment.event as usize;
                for k in usize::from(segment.from) + 1..usize::from(segment.until) {
                    let arrival = day.arrival[event + k] + offset;
                    if arrival.saturating_add(bound[stops[k].idx()]) >= best[next] {
                        break;
                    }
                    for &packed in transfers.transfers(event + k) {
                        let (relative, instance, position) = unpack(packed);
                        // The day relative to this one, as a slot of the query's frame.
                        let to_slot = slot + relative;
                        if !(1..=3).contains(&to_slot) || view.days.day[to_slot - 1].is_none() {
                            continue;
                        }
                        let to = Target { slot: to_slot - 1, instance, position };
                        if self.reached_before(view, next, to)
                            || !self.enqueue(tt, view, next, to, index as u32, k as u32)
                        {
                            continue;
                        }
                        // Scanned a few segments behind the newest, whose first arrival is
                        // loaded meanwhile.
                        let queued = self.queue[self.queue.len() - 1];
                        if let Some(day) = view.days.day[usize::from(queued.slot)] {
                            super::raptor::hint::prefetch(&day.arrival[first_alighting(&queued)]);
                        }
                        while scanned + SCAN_LAG < self.queue.len() {
                            let (best, found) = (&mut best[next], &mut found[next]);
                            self.scan_target(tt, view, bound, scanned, best, found);
                            scanned += 1;
                        }
                    }
                }
            }
            for index in scanned..self.queue.len() {
                self.scan_target(tt, view, bound, index, &mut best[next], &mut found[next]);
            }
            start = end;
        }
        found
    }

    /// The journey that alights from `segment` at `position` and goes on to the destination.
    #[allow(clippy::too_many_arguments)]
    fn journey(
        &self,
        engine: &Engine,
        view: &View<'_>,
        frame: &Frame,
        seeds: &[SeedWalk],
        goals: &[SeedWalk],
        segment: u32,
        position: u16,
    ) -> Option<Journey> {
        let tt = &*engine.timetable;
        // A walk between two trips: its walking link, or where only a rule naming trips joins
        // the stops, the straight line (the rule's time is set below).
        let walk = |from: StopIdx, to: StopIdx| -> Option<Leg> {
            let (duration_secs, distance_m) =
                match tt.footpaths(from).iter().find(|link| link.to == to) {
                    Some(link) => (link.duration_secs, link.distance_m),
                    None if tt.transfer_rules_from(from).iter().any(|rule| rule.to_stop == to) => {
                        let (a, b) = (&tt.stops[from.idx()], &tt.stops[to.idx()]);
                        let meters = super::query::haversine_m(a.lat, a.lon, b.lat, b.lon) * 1.2;
                        (0, meters.round() as u32)
                    }
                    None => return None,
                };
            Some(Leg::Walk {
                from: WalkEnd::Stop(from),
                to: WalkEnd::Stop(to),
                departure: 0,
                arrival: 0,
                duration_secs,
                distance_m,
            })
        };
        // Legs from the destination back.
        let mut legs = Vec::new();
        let (mut index, mut alight) = (segment, usize::from(position));
        let mut next_stop: Option<StopIdx> = None;
        loop {
            let segment = self.queue[index as usize];
            let slot = usize::from(segment.slot);
            let day = view.days.day[slot]?;
            let pattern = PatternIdx(segment.pattern);
            let stops = tt.pattern_stops(pattern);
            let alight_stop = stops[alight];
            match next_stop {
                None => {
                    let goal = StopIdx(self.egress_goal[alight_stop.idx()]);
                    if let Some(place) = goals.iter().find(|walk| walk.stop == goal)
                        && place.duration_secs > 0
                    {
                        legs.push(Leg::Walk {
                            from: WalkEnd::Stop(goal),
                            to: place.place,
                            departure: 0,
                            arrival: 0,
                            duration_secs: place.duration_secs,
                            distance_m: place.distance_m,
                        });
                    }
                    if goal != alight_stop {
                        legs.push(walk(alight_stop, goal)?);
                    }
                }
                Some(next) if next != alight_stop => legs.push(walk(alight_stop, next)?),
                Some(_) => {}
            }
            let trip_in_pattern = day.instance_trip[segment.instance as usize];
            let times = tt.trip_stop_times(pattern, trip_in_pattern as usize);
            let board = usize::from(segment.from);
            let offset = frame.base_unix + view.days.offset[slot];
            legs.push(Leg::Transit {
                trip: TripIdx(tt.patterns[pattern.idx()].trips.start + trip_in_pattern),
                pattern,
                board_position: board,
                alight_position: alight,
                service_day: frame.days.day[slot]?,
                departure: offset + i64::from(times[board].departure),
                arrival: offset + i64::from(times[alight].arrival),
            });
            let board_stop = stops[board];
            if segment.parent == ROOT {
                let seed = seeds.get(segment.origin as usize)?;
                if seed.duration_secs > 0 {
                    legs.push(Leg::Walk {
                        from: seed.place,
                        to: WalkEnd::Stop(board_stop),
                        departure: 0,
                        arrival: 0,
                        duration_secs: seed.duration_secs,
                        distance_m: seed.distance_m,
                    });
                }
                break;
            }
            next_stop = Some(board_stop);
            index = segment.parent;
            alight = segment.origin as usize;
        }
        legs.reverse();
        super::journey::apply_trip_rules_to_walks(tt, &mut legs);
        Journey::from_legs(legs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_targets_round_trip() {
        for (day, instance, position) in
            [(0, 0, 0), (1, 12_345, 17), (2, MAX_INSTANCES as u32 - 1, 1_023)]
        {
            assert_eq!(unpack(pack(day, instance, position)), (day, instance, position as u16));
        }
    }
}
