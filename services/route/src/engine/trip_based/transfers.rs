//! The Trip-Based tables of one service day: its running trips ("instances") and, for every
//! stop event, the reduced transfers to trips of the same day and the days around it
//! (generated on worker threads, then reduced as in Witt 2015).

use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::NaiveDate;
use norikae_timetable::{PatternAtStop, PatternIdx, StopIdx, Timetable, TripIdx};

use crate::engine::types::INF;

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
pub(super) fn unpack(packed: u32) -> (usize, u32, u16) {
    let day = (packed >> (INSTANCE_BITS + POSITION_BITS)) as usize;
    let instance = (packed >> POSITION_BITS) & ((1 << INSTANCE_BITS) - 1);
    (day, instance, (packed & ((1 << POSITION_BITS) - 1)) as u16)
}

/// The trips running on one service day ("instances"), pattern by pattern in the pattern's
/// trip order, with their times in seconds of that service day.
pub(crate) struct TripDay {
    /// Per pattern, its first instance and how many it has.
    pub(super) pattern_first: Vec<u32>,
    pub(super) pattern_count: Vec<u32>,
    /// Per instance: its pattern, its trip within the pattern and its first stop event.
    pub(super) instance_pattern: Vec<u32>,
    pub(super) instance_trip: Vec<u32>,
    pub(super) instance_event: Vec<u32>,
    /// Per stop event (instance-major), the arrival.
    pub(super) arrival: Vec<u32>,
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

    pub(super) fn instances(&self) -> usize {
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
pub(super) struct Days<'a> {
    pub(super) day: [Option<&'a TripDay>; 3],
    pub(super) offset: [i64; 3],
}

impl Days<'_> {
    /// The earliest instance of `pattern` leaving `position` at or after `ready` on any of
    /// the days, as `(day, instance, departure)` (times on the time line).
    pub(super) fn earliest(
        &self,
        pattern: usize,
        position: usize,
        ready: i64,
    ) -> Option<(usize, u32, i64)> {
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
    pub(super) trips: TripDay,
    pub(super) offsets: Vec<u32>,
    pub(super) targets: Vec<u32>,
}

impl DayTransfers {
    /// The transfers of `day`'s trips, with `threads` threads; `None` when the day's trips do
    /// not fit the packed layout (or a worker failed).
    /// `rule_stops`: the stops where transfers.txt rules naming trips or routes start.
    pub(super) fn build(
        tt: &Timetable,
        rule_stops: &[bool],
        day: u32,
        threads: usize,
    ) -> Option<Self> {
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

    pub(super) fn transfers(&self, event: usize) -> &[u32] {
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
