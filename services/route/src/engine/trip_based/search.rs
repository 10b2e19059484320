//! A Trip-Based query: trip segments round by round over the built days' transfers, each
//! trip reached from its earliest position once (per number of trips in a range's profile),
//! segments cut by the landmark bounds, and the journeys rebuilt from the segments' parents.

use std::sync::Arc;

use norikae_timetable::{PatternIdx, StopIdx, Timetable, TripIdx};

use super::days::{Days, TripDay, unpack};
use super::transfers::DayTransfers;
use crate::engine::journey::{Journey, Leg, SeedWalk, WalkEnd, apply_trip_rules_to_walks};
use crate::engine::network::Network;
use crate::engine::prefetch::prefetch;
use crate::engine::types::{Direction, Frame, INF, SearchLimits, haversine_m};
use crate::error::Result;

/// No parent segment (a segment boarded at the origin).
const ROOT: u32 = u32::MAX;

/// How many segments behind the newest one a round scans for the destination.
const SCAN_LAG: usize = 2;

/// A search by Trip-Based routing. Depart-at: the journeys with the earliest arrival for
/// each number of trips up to `max_trips` that arrive earlier than with fewer, leaving
/// the seeds at `start` (seconds after the frame's zero). Range: the same for every
/// departure in `departures` (leaving times with the seed to leave from, latest first),
/// each journey kept only if it arrives earlier than every one with as many trips or
/// fewer leaving later (from the window's end on): a profile search, in which a trip
/// reached with some number of trips is not followed again for an earlier departure.
/// Journeys arrive within `horizon_secs` of their departure. `goals` are the target
/// stops with the walk from each to the place; `bound` holds the lower bounds
/// for them (see [`crate::engine::raptor::labels::RaptorScratch::lower_bound`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn search(
    network: &Network,
    days: &[Option<Arc<DayTransfers>>; 3],
    frame: &Frame,
    seeds: &[SeedWalk],
    goals: &[SeedWalk],
    departures: Departures<'_>,
    horizon_secs: u32,
    max_trips: usize,
    (search, bound, limits): (&mut Search, &[u32], &SearchLimits),
) -> Result<Vec<Journey>> {
    let tt = &*network.timetable;
    let view = View::new(days, frame);
    let profile = matches!(departures, Departures::Range { .. });
    search.prepare(tt, &view, if profile { max_trips } else { 1 });
    for goal in goals {
        search.set_egress(goal.stop, goal.duration_secs, goal.stop);
        for link in network.footpaths(Direction::Backward, goal.stop) {
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
            if only.is_some_and(|only| !only.iter().any(|&(_, seed)| seed as usize == seed_index)) {
                continue;
            }
            let ready = i64::from(time + seed.duration_secs);
            for at_stop in tt.patterns_at_stop(seed.stop) {
                let position = at_stop.position as usize;
                let rules = tt.pattern_stop_rules(at_stop.pattern);
                if position + 1 >= rules.len() || !rules[position].pickup() {
                    continue;
                }
                let pattern = at_stop.pattern.idx();
                view.days.for_each_earliest(pattern, position, ready, |slot, instance| {
                    let target = Target { slot, instance, position: position as u16 };
                    search.enqueue(tt, &view, 0, target, ROOT, seed_index as u32);
                });
            }
        }
        let found = search.run(tt, &view, bound, &mut best);
        if report {
            for (segment, position) in found.into_iter().flatten() {
                if let Some(journey) =
                    search.journey(tt, &view, frame, seeds, goals, segment, position)
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
        let trips = transfers.map(|day| day.map(|day| &*day.trips));
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
    /// reached there already (with as many trips or fewer), and marks its group's later
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
        let group = day.group(instance as usize);
        let base = view.base[slot] as usize;
        let last = base + (day.pattern_first[group] + day.pattern_count[group]) as usize;
        // On a realtime day the pattern's other groups are left unmarked: those of their trips
        // that run behind this one lead nowhere new either, but finding them cost more than
        // the segments it saved (see the route bench README, December 8).
        self.mark(level, global..last, position);
        true
    }

    /// Marks the instances `instances` (global numbers: the rest of a group, in order)
    /// reached at `position` from the round of `level` on, up to the first reached there
    /// already (the ones after it are too).
    #[inline]
    fn mark(&mut self, level: usize, instances: std::ops::Range<usize>, position: u16) {
        for level in level..self.levels {
            let row = level * self.instances;
            for later in instances.clone() {
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
                prefetch(&day.arrival[first_alighting(ahead)]);
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
                    && let Some(offset) = transfers.offset(first_alighting(ahead))
                {
                    prefetch(offset);
                }
                if let Some(ahead) = self.queue.get(index + 1)
                    && let Some(transfers) = view.transfers[usize::from(ahead.slot)]
                    && let Some(first) = transfers.first_target(first_alighting(ahead))
                {
                    prefetch(first);
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
                            prefetch(&day.arrival[first_alighting(&queued)]);
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
        tt: &Timetable,
        view: &View<'_>,
        frame: &Frame,
        seeds: &[SeedWalk],
        goals: &[SeedWalk],
        segment: u32,
        position: u16,
    ) -> Option<Journey> {
        // A walk between two trips: its walking link, or where only a rule naming trips joins
        // the stops, the straight line (the rule's time is set below).
        let walk = |from: StopIdx, to: StopIdx| -> Option<Leg> {
            let (duration_secs, distance_m) =
                match tt.footpaths(from).iter().find(|link| link.to == to) {
                    Some(link) => (link.duration_secs, link.distance_m),
                    None if tt.transfer_rules_from(from).iter().any(|rule| rule.to_stop == to) => {
                        let (a, b) = (&tt.stops[from.idx()], &tt.stops[to.idx()]);
                        let meters = haversine_m(a.lat, a.lon, b.lat, b.lon) * 1.2;
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
            let board = usize::from(segment.from);
            // The day's times: a realtime day's are the expected ones.
            let (departure, arrival) = day.times(segment.instance as usize, board, alight);
            let offset = frame.base_unix + view.days.offset[slot];
            legs.push(Leg::Transit {
                trip: TripIdx(tt.patterns[pattern.idx()].trips.start + trip_in_pattern),
                pattern,
                board_position: board,
                alight_position: alight,
                service_day: frame.days.day[slot]?,
                departure: offset + i64::from(departure),
                arrival: offset + i64::from(arrival),
                added: None,
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
        apply_trip_rules_to_walks(tt, &mut legs);
        Journey::from_legs(legs)
    }
}
