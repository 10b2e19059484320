//! The round loop: each round scans every pattern that serves a stop improved in the round
//! before, from its first marked position, boarding the earliest trip it can (the day tables'
//! departures), then walks from the stops a vehicle improved. Free functions over the
//! [`Network`], the query's [`Rules`] and the search's [`RaptorScratch`].

use norikae_timetable::{
    Pattern, PatternAtStop, PatternIdx, StopIdx, StopRules, StopTime, Timetable,
};

use super::day_tables::{MIRROR_DAY, SlotTrips};
use super::labels::{
    LabelKind, Labels, RaptorScratch, Ride, TargetLabel, TransitParent, WalkParent,
};
use super::{Rules, Seed, rule_boarding};
use crate::engine::network::Network;
use crate::engine::prefetch::prefetch;
use crate::engine::types::{Direction, INF, MIRROR};
use crate::engine::walk_links::{WalkLink, WalkLinks};

/// Plain slices of the timetable columns the inner loops read, taken once per iteration
/// (dereferencing a mapped column checks its bounds and alignment every time).
pub(crate) struct View<'a> {
    patterns: &'a [Pattern],
    pattern_stops: &'a [StopIdx],
    pattern_stop_rules: &'a [StopRules],
    stop_times: &'a [StopTime],
    stop_pattern_offsets: &'a [u32],
    patterns_at_stop: &'a [PatternAtStop],
    /// Walking links in search direction (backward: reversed).
    walk_links: &'a WalkLinks,
    /// The walking links a traveller may need for boarding (forward: see
    /// [`crate::engine::walk_pruning`]; backward: all).
    boarding_links: &'a WalkLinks,
    /// Per pattern stop, the boarding links a traveller alighting there may need (forward
    /// only: see [`crate::engine::walk_pruning`]).
    alighting_links: Option<&'a WalkLinks>,
    min_transfer_secs: &'a [u32],
}

impl<'a> View<'a> {
    pub(crate) fn new(network: &'a Network, direction: Direction) -> Self {
        let tt: &'a Timetable = &network.timetable;
        let (walk_links, boarding_links, alighting_links) = match direction {
            Direction::Forward => (
                &network.forward_walk_links,
                &network.boarding_walk_links,
                Some(&network.alighting_walk_links),
            ),
            Direction::Backward => {
                (&network.backward_walk_links, &network.backward_walk_links, None)
            }
        };
        Self {
            patterns: &tt.patterns,
            pattern_stops: &tt.pattern_stops,
            pattern_stop_rules: &tt.pattern_stop_rules,
            stop_times: &tt.stop_times,
            stop_pattern_offsets: &tt.stop_pattern_offsets,
            patterns_at_stop: &tt.patterns_at_stop,
            walk_links,
            boarding_links,
            alighting_links,
            min_transfer_secs: &tt.min_transfer_secs,
        }
    }

    #[inline]
    fn patterns_at_stop(&self, stop: StopIdx) -> &'a [PatternAtStop] {
        let start = self.stop_pattern_offsets[stop.idx()] as usize;
        let end = self.stop_pattern_offsets[stop.idx() + 1] as usize;
        &self.patterns_at_stop[start..end]
    }
}

/// A trip on a service day, as the scan rides it.
#[derive(Clone, Copy)]
struct Boarded {
    trip_in_pattern: u32,
    /// Index of the trip among its day's running trips (forward scans).
    running_index: u32,
    day_slot: u8,
    board_position: u16,
    from_walk: bool,
    /// First stop time of the trip within its pattern's stop times.
    stop_times_start: usize,
    offset: u32,
}

/// Runs one iteration (one departure time) over the labels already in `scratch`: seeds
/// the walk labels of round 0, then runs the rounds. Targets improved by this iteration
/// have `improved` set.
pub(crate) fn run_iteration(
    network: &Network,
    rules: &Rules<'_>,
    seeds: &[Seed],
    scratch: &mut RaptorScratch,
) {
    let view = View::new(network, rules.direction);
    for target in &mut scratch.target {
        target.improved = false;
    }
    scratch.clear_marks();
    scratch.iteration_start = seeds.iter().map(|seed| seed.key).min().unwrap_or(INF);
    for seed in seeds {
        let flat = scratch.flat(0, seed.stop);
        if seed.key < scratch.labels[flat].walk {
            scratch.touch(seed.stop);
            scratch.labels[flat].walk = seed.key;
            scratch.walk_parent[flat] = WalkParent::Seed;
            scratch.mark(seed.stop);
        }
    }
    for round in 1..=rules.max_trips {
        // Past the deadline the labels stay unfinished: the query layer sees the deadline
        // passed too and answers with an error, never with these labels.
        if rules.limits.past_deadline() {
            break;
        }
        std::mem::swap(&mut scratch.marked_previous, &mut scratch.marked_current);
        std::mem::swap(&mut scratch.marked_previous_list, &mut scratch.marked_current_list);
        if scratch.marked_previous_list.is_empty() {
            break;
        }
        carry_labels(round, scratch);
        scratch.further = [INF; 3];
        for trips in 1..3 {
            scratch.further[trips] = if round + trips > rules.max_trips {
                0
            } else {
                scratch.further[trips - 1].min(scratch.target[round + trips].key)
            };
        }
        queue_patterns(&view, rules, round, scratch);
        // The patterns reaching the target first: they settle this round's best arrival
        // there, which then prunes the other scans (the order of scans within a round
        // changes no label a later round reads, only what the bound cuts).
        let mut queued = std::mem::take(&mut scratch.queued_patterns);
        let mut later = std::mem::take(&mut scratch.queued_later);
        queued.retain(|&pattern| {
            let first = scratch.pattern_to_target[pattern.idx()];
            if !first {
                later.push(pattern);
            }
            first
        });
        queued.append(&mut later);
        scratch.queued_later = later;
        for (index, &pattern) in queued.iter().enumerate() {
            if let Some(&next) = queued.get(index + 1) {
                prefetch_scan(&view, rules, next, scratch);
            }
            let start = scratch.pattern_start[pattern.idx()];
            scratch.pattern_start[pattern.idx()] = INF;
            let last = scratch.pattern_last[pattern.idx()];
            scan_pattern(
                network,
                &view,
                rules,
                round,
                pattern,
                start as usize..=last as usize,
                scratch,
            );
        }
        scratch.queued_patterns = queued;
        scratch.queued_patterns.clear();
        relax_footpaths(network, &view, rules, round, scratch);
        for stop in scratch.marked_previous_list.drain(..) {
            scratch.marked_previous[stop.idx()] = false;
        }
    }
}

/// Starts loading what the scan of the queued `pattern` reads first (its first boarding
/// stop and the last departure of the query's day there, the first one the boarding test
/// reads), so that those loads overlap the scan before it.
#[inline]
fn prefetch_scan(view: &View<'_>, rules: &Rules<'_>, pattern: PatternIdx, scratch: &RaptorScratch) {
    if rules.direction != Direction::Forward {
        return;
    }
    let start = scratch.pattern_start[pattern.idx()] as usize;
    let num_stops = view.patterns[pattern.idx()].num_stops();
    let first = view.patterns[pattern.idx()].stops.start as usize + start;
    prefetch(&view.pattern_stops[first]);
    prefetch(&view.pattern_stop_rules[first]);
    if let Some(day) = rules.day_trips[1] {
        let (running, departures, _) = day.block(pattern, num_stops);
        let count = running.len();
        if count > 0 {
            prefetch(&departures[start * count + count - 1]);
        }
    }
}

/// A lower bound on the time from `stop` to the target (0 when bounds are off).
#[inline]
fn lower_bound(scratch: &RaptorScratch, stop: StopIdx) -> u32 {
    scratch.lower_bound[stop.idx()]
}

/// Sets how many more trips each stop needs at least to reach the target stops (see
/// [`RaptorScratch::ready_trips`]), after the target stops and the walks to them are set
/// ([`RaptorScratch::set_vehicle_egress`]); an over-approximation (pickup rules and filters are
/// ignored), so pruning with it stays exact. Backward searches mirror it: their target is
/// where the traveller starts, "before" on a pattern is later in time, and walking to the
/// target is walking from it.
pub(crate) fn classify_stops(network: &Network, direction: Direction, scratch: &mut RaptorScratch) {
    for pattern in scratch.pattern_to_target_list.drain(..) {
        scratch.pattern_to_target[pattern.idx()] = false;
    }
    scratch.ready_trips.fill(2);
    scratch.arrival_trips.fill(1);
    let tt = &*network.timetable;
    let mut reached_patterns = Vec::new();
    // The position of a pattern stop in the search's scan order.
    let scan_position = |pattern: PatternIdx, position: u32| {
        direction.scan_order(tt.patterns[pattern.idx()].num_stops(), position as usize) as u32
    };
    let mut mark_reach = |stop: StopIdx, scratch: &mut RaptorScratch| {
        scratch.arrival_trips[stop.idx()] = 0;
        for at_stop in tt.patterns_at_stop(stop) {
            let reach = &mut scratch.pattern_reach[at_stop.pattern.idx()];
            if *reach == 0 {
                reached_patterns.push(at_stop.pattern);
            }
            *reach = (*reach).max(scan_position(at_stop.pattern, at_stop.position));
        }
    };
    for index in 0..scratch.egress_list.len() {
        let target = scratch.egress_list[index];
        scratch.ready_trips[target.idx()] = 0;
    }
    // The target stops and the stops walking to one.
    for index in 0..scratch.vehicle_egress_list.len() {
        mark_reach(scratch.vehicle_egress_list[index], scratch);
    }
    for pattern in reached_patterns {
        if scratch.pattern_to_target[pattern.idx()] {
            continue;
        }
        scratch.pattern_to_target[pattern.idx()] = true;
        scratch.pattern_to_target_list.push(pattern);
        let reach = std::mem::take(&mut scratch.pattern_reach[pattern.idx()]) as usize;
        let stops = tt.pattern_stops(pattern);
        let before = match direction {
            Direction::Forward => &stops[..reach],
            Direction::Backward => &stops[stops.len() - reach..],
        };
        for &stop in before {
            let trips = &mut scratch.ready_trips[stop.idx()];
            *trips = (*trips).min(1);
        }
    }
}

/// Round `round` starts from the target of `round - 1` (at most `k` trips includes fewer;
/// stop labels are carried as they are set, see [`RaptorScratch::propagate`]). Round 0's walk
/// labels (the seeds) are never carried: a journey rides at least one vehicle, so a later
/// walk into a stop the origin walks to must stay possible.
fn carry_labels(round: usize, scratch: &mut RaptorScratch) {
    let previous_target = scratch.target[round - 1];
    let target = &mut scratch.target[round];
    if previous_target.key < target.key {
        *target = TargetLabel { improved: false, ..previous_target };
    }
}

fn queue_patterns(view: &View<'_>, rules: &Rules<'_>, round: usize, scratch: &mut RaptorScratch) {
    for position in 0..scratch.marked_previous_list.len() {
        let stop = scratch.marked_previous_list[position];
        // The stops a few places on are scattered over the stop tables: start loading what
        // their turn reads (in two steps: their patterns' place is known once the offsets
        // are in), so that the loads overlap this stop's work instead of following it.
        if let Some(&ahead) = scratch.marked_previous_list.get(position + 8) {
            prefetch(&view.stop_pattern_offsets[ahead.idx()]);
            prefetch(&scratch.labels[scratch.flat(round - 1, ahead)]);
            prefetch(&scratch.lower_bound[ahead.idx()]);
        }
        if let Some(&ahead) = scratch.marked_previous_list.get(position + 4) {
            let start = view.stop_pattern_offsets[ahead.idx()] as usize;
            if let Some(at_stop) = view.patterns_at_stop.get(start) {
                prefetch(at_stop);
            }
        }
        // A stop the bound rules out (the target improved since it was marked) starts
        // no scan; boarding there would be skipped anyway.
        let flat = scratch.flat(round - 1, stop);
        let labels = scratch.labels[flat];
        let earliest = labels.transit.min(labels.walk);
        let needed = scratch.ready_trips[stop.idx()].saturating_sub(1);
        if earliest.saturating_add(lower_bound(scratch, stop)) >= scratch.threshold(round, needed) {
            continue;
        }
        for at_stop in view.patterns_at_stop(stop) {
            let pattern = at_stop.pattern;
            if let Some(allowed) = rules.allowed_patterns
                && !allowed[pattern.idx()]
            {
                continue;
            }
            let num_stops = view.patterns[pattern.idx()].num_stops();
            let scan_position =
                rules.direction.scan_order(num_stops, at_stop.position as usize) as u32;
            let start = &mut scratch.pattern_start[pattern.idx()];
            let last = &mut scratch.pattern_last[pattern.idx()];
            if *start == INF {
                scratch.queued_patterns.push(pattern);
                *last = scan_position;
            }
            *start = (*start).min(scan_position);
            *last = (*last).max(scan_position);
        }
    }
}

/// The time a traveller with label `(round, stop)` can board, in key space, and whether it
/// comes from the walk label.
#[inline]
fn ready_key(
    view: &View<'_>,
    rules: &Rules<'_>,
    round: usize,
    stop: StopIdx,
    scratch: &RaptorScratch,
) -> (u32, bool) {
    let flat = scratch.flat(round, stop);
    let Labels { transit, walk } = scratch.labels[flat];
    let via_transit =
        if transit == INF { INF } else { transit + view.min_transfer_secs[stop.idx()] };
    let slack = if round >= 1 { rules.slack_secs } else { 0 };
    if walk <= via_transit {
        (walk.saturating_add(slack), true)
    } else {
        (via_transit.saturating_add(slack), false)
    }
}

#[allow(clippy::too_many_lines)]
fn scan_pattern(
    network: &Network,
    view: &View<'_>,
    rules: &Rules<'_>,
    round: usize,
    pattern_idx: PatternIdx,
    boarding_positions: std::ops::RangeInclusive<usize>,
    scratch: &mut RaptorScratch,
) {
    let pattern = &view.patterns[pattern_idx.idx()];
    let num_stops = pattern.num_stops();
    let stop_range = pattern.stops.start as usize..pattern.stops.end as usize;
    let stops = &view.pattern_stops[stop_range.clone()];
    let stop_rules = &view.pattern_stop_rules[stop_range];
    let stop_times: &[StopTime] = &view.stop_times[pattern.stop_times_start as usize..];
    let forward = rules.direction == Direction::Forward;
    let mut slots = [SlotTrips::default(); 3];
    for (slot, trips) in slots.iter_mut().enumerate() {
        if let Some(day) = rules.day_trips[slot] {
            let offset = rules.days.offset[slot];
            let ((running, departures, (earliest, latest)), offset) = if forward {
                (day.block(pattern_idx, num_stops), offset)
            } else {
                // A backward key is `MIRROR - (arrival + offset)`, that is the mirrored
                // arrival plus this.
                (
                    day.mirrored_block(&network.timetable, pattern_idx, num_stops),
                    MIRROR - MIRROR_DAY - offset,
                )
            };
            *trips = SlotTrips { offset, running, departures, earliest, latest };
        }
    }
    // No slot's trips can matter: none leaves after the iteration starts (its earliest
    // label) or arrives before the round's target (a trip's arrivals come after its
    // first departure), for instance a weekend or night pattern in a morning search.
    // Skipping the scan outright saves walking its stops to the last boarding position.
    let start = scratch.iteration_start;
    let target = scratch.target[round].key;
    if slots.iter().all(|trips| {
        trips.running.is_empty()
            || trips.latest.saturating_add(trips.offset) < start
            || trips.earliest.saturating_add(trips.offset) >= target
    }) {
        return;
    }
    // Wheelchair searches: which of the pattern's trips are accessible.
    let accessible_trips = rules.wheelchair.then(|| {
        &network.trip_accessible[pattern.trips.start as usize..pattern.trips.end as usize]
    });
    let mut boarded: Option<Boarded> = None;
    let (start, last_boarding) = boarding_positions.into_inner();
    for scan_position in start..num_stops {
        if boarded.is_none() && scan_position > last_boarding {
            // Nothing ridden, and no stop ahead to board at.
            break;
        }
        let position = rules.direction.scan_order(num_stops, scan_position);
        let stop = stops[position];
        let stop_rule = stop_rules[position];
        if let Some(trip) = boarded {
            let time = stop_times[trip.stop_times_start + position];
            let can_alight = if forward { stop_rule.drop_off() } else { stop_rule.pickup() };
            if can_alight && (!rules.wheelchair || network.stop_accessible[stop.idx()]) {
                let key = if forward {
                    time.arrival + trip.offset
                } else {
                    MIRROR - (time.departure + trip.offset)
                };
                let flat = scratch.flat(round, stop);
                if key < scratch.labels[flat].transit
                    && key.saturating_add(lower_bound(scratch, stop)) >= scratch.target[round].key
                {
                    // Along one trip, time plus the (consistent) lower bound never
                    // decreases: no later stop of this trip can beat the target either.
                    boarded = None;
                } else if key < scratch.labels[flat].transit
                    && (scratch.arrival_trips[stop.idx()] == 0
                        || key.saturating_add(lower_bound(scratch, stop))
                            < scratch.threshold(round, scratch.arrival_trips[stop.idx()]))
                {
                    scratch.touch(stop);
                    scratch.labels[flat].transit = key;
                    RaptorScratch::propagate(
                        &mut scratch.labels,
                        LabelKind::Transit,
                        scratch.num_stops,
                        flat,
                        round,
                        rules.max_trips,
                        key,
                    );
                    scratch.transit_parent[flat] = TransitParent {
                        pattern: pattern_idx.0,
                        trip_in_pattern: trip.trip_in_pattern,
                        board_position: trip.board_position,
                        alight_position: position as u16,
                        day_slot: trip.day_slot,
                        from_walk: trip.from_walk,
                    };
                    if !scratch.transit_improved[stop.idx()] {
                        scratch.transit_improved[stop.idx()] = true;
                        scratch.transit_improved_list.push(stop);
                    }
                    scratch.mark(stop);
                    let egress = scratch.vehicle_egress[stop.idx()];
                    if egress != INF {
                        let arrival = key.saturating_add(egress);
                        if arrival < scratch.target[round].key {
                            let final_walk = (egress < scratch.egress[stop.idx()])
                                .then(|| scratch.final_walk[stop.idx()]);
                            scratch.target[round] = TargetLabel {
                                key: arrival,
                                stop,
                                kind: LabelKind::Transit,
                                final_walk,
                                improved: true,
                            };
                        }
                    }
                }
            }
        }
        if !scratch.marked_previous[stop.idx()] {
            continue;
        }
        let can_board = if forward { stop_rule.pickup() } else { stop_rule.drop_off() };
        if !can_board || (rules.wheelchair && !network.stop_accessible[stop.idx()]) {
            continue;
        }
        let (mut ready, mut from_walk) = ready_key(view, rules, round - 1, stop, scratch);
        // Rules naming trips or routes may apply here: which trips the traveller may board
        // depends on the vehicle left (see `rule_boarding`).
        let rule_sources = (round >= 2 && network.rule_boarding_stops[rules.direction][stop.idx()])
            .then(|| rule_boarding::sources(&network.timetable, scratch, round - 1, stop))
            .flatten();
        if let Some(sources) = &rule_sources {
            ready = ready.min(rule_boarding::earliest_ready(sources, rules.slack_secs));
        }
        let needed = scratch.ready_trips[stop.idx()].saturating_sub(1);
        if ready.saturating_add(lower_bound(scratch, stop)) >= scratch.threshold(round, needed) {
            continue;
        }
        let current_board_key = boarded.map_or(INF, |trip| {
            let time = stop_times[trip.stop_times_start + position];
            if forward {
                time.departure + trip.offset
            } else {
                MIRROR - (time.arrival + trip.offset)
            }
        });
        if ready > current_board_key {
            continue;
        }
        let current = boarded.map(|trip| (trip.day_slot, trip.running_index));
        let next = match &rule_sources {
            None => next_trip(
                &slots,
                forward,
                (stop_times, num_stops),
                scan_position,
                position,
                ready,
                current,
                current_board_key,
                accessible_trips,
            ),
            Some(sources) => rule_boarding::next_trip(
                &network.timetable,
                rules.direction,
                sources,
                &slots,
                (stop, scan_position, pattern.trips.start),
                rules.slack_secs,
                current_board_key,
                accessible_trips,
            )
            .map(|(day_slot, running_index, board_key, walked)| {
                from_walk = walked;
                (day_slot, running_index, board_key)
            }),
        };
        let Some((day_slot, running_index, board_key)) = next else {
            continue;
        };
        debug_assert!(board_key >= ready);
        let trip_in_pattern = slots[day_slot as usize].running[running_index as usize];
        if forward {
            let ride_slot = round * scratch.pattern_start.len() + pattern_idx.idx();
            let ride = if rules.remember_rides { scratch.ridden[ride_slot] } else { Ride::NONE };
            // Trips of a pattern never overtake: a later trip of that day is no better.
            if ride.trip_in_pattern <= trip_in_pattern
                && ride.day_slot == day_slot
                && usize::from(ride.position) <= position
            {
                // This trip or an earlier one of its day was ridden from here or before in
                // this round (an earlier iteration): nothing to gain, and it beats the trip
                // ridden now.
                boarded = None;
                continue;
            }
            if rules.remember_rides {
                if ride.trip_in_pattern == u32::MAX {
                    scratch.ridden_list.push(ride_slot);
                }
                scratch.ridden[ride_slot] =
                    Ride { trip_in_pattern, position: position as u16, day_slot };
            }
        }
        boarded = Some(Boarded {
            trip_in_pattern,
            running_index,
            day_slot,
            board_position: position as u16,
            from_walk,
            stop_times_start: trip_in_pattern as usize * num_stops,
            offset: rules.days.offset[day_slot as usize],
        });
    }
}

/// The first trip (over the three service days' `slots`, in key space: forward the
/// earliest departure, backward the latest arrival) the traveller ready at `ready` boards
/// at `scan_position` (the pattern's `position`), if it is better than `better_than` (the
/// trip ridden now, `current` = its slot and running index: only trips before it in its
/// day's order can be better, so that day is searched below it, usually one comparison).
/// `stop_times`: the pattern's stop times and stop count, to read the trip before the
/// ridden one next to the ridden one's times, which the scan has just read.
/// Returns `(day_slot, running_index, board_key)`.
#[inline]
#[allow(clippy::too_many_arguments)]
fn next_trip(
    slots: &[SlotTrips<'_>; 3],
    forward: bool,
    (stop_times, num_stops): (&[StopTime], usize),
    scan_position: usize,
    position: usize,
    ready: u32,
    current: Option<(u8, u32)>,
    better_than: u32,
    accessible_trips: Option<&[bool]>,
) -> Option<(u8, u32, u32)> {
    let mut best = None;
    let mut best_key = better_than;
    for (slot, trips) in slots.iter().enumerate() {
        let count = trips.running.len();
        let limit = match current {
            Some((current_slot, index)) if usize::from(current_slot) == slot => index as usize,
            _ => count,
        };
        let threshold = ready.saturating_sub(trips.offset);
        // The day's span rules most days out without reading its departures here.
        if limit == 0 || trips.latest < threshold || trips.earliest + trips.offset >= best_key {
            continue;
        }
        let departures = &trips.departures[scan_position * count..scan_position * count + limit];
        // Cheap exit before any search: no trip that day is late enough (each load here
        // is usually a cache miss, so the first one decides as much as it can). Riding a
        // later trip of this day, the trip before it is usually the pattern's trip just
        // before, whose stop times lie next to the ridden trip's (read by the scan anyway).
        let last = if limit < count {
            let time = stop_times[trips.running[limit - 1] as usize * num_stops + position];
            if forward { time.departure } else { MIRROR_DAY - time.arrival }
        } else {
            departures[limit - 1]
        };
        if last < threshold {
            continue;
        }
        let mut index = if limit < count {
            // Riding a later trip of this day: the answer is just below it, so gallop
            // down from there instead of searching the whole day.
            first_at_least(departures, threshold)
        } else {
            let first = departures[0];
            if first + trips.offset >= best_key {
                continue;
            }
            if first >= threshold {
                0
            } else {
                departures.partition_point(|&departure| departure < threshold)
            }
        };
        while index < limit {
            let key = departures[index] + trips.offset;
            if key >= best_key {
                break;
            }
            if accessible_trips.is_none_or(|accessible| accessible[trips.running[index] as usize]) {
                best = Some((slot as u8, index as u32, key));
                best_key = key;
                break;
            }
            index += 1;
        }
    }
    best
}

fn relax_footpaths(
    network: &Network,
    view: &View<'_>,
    rules: &Rules<'_>,
    round: usize,
    scratch: &mut RaptorScratch,
) {
    let improved = std::mem::take(&mut scratch.transit_improved_list);
    let round_start = scratch.flat(round, StopIdx(0));
    for (index, &from) in improved.iter().enumerate() {
        // As in `queue_patterns`: the stop a few places on, loaded while this one walks.
        if let Some(&ahead) = improved.get(index + 4) {
            prefetch(&scratch.labels[round_start + ahead.idx()]);
            prefetch(&scratch.transit_parent[round_start + ahead.idx()]);
            prefetch(&scratch.lower_bound[ahead.idx()]);
        }
        scratch.transit_improved[from.idx()] = false;
        let arrival = scratch.labels[round_start + from.idx()].transit;
        if rules.wheelchair && !network.stop_accessible[from.idx()] {
            continue;
        }
        // The target may have improved since this label was set; the bound is consistent
        // (a walking link is an edge of its graph), so no link from here can help then.
        if arrival.saturating_add(lower_bound(scratch, from))
            >= scratch.threshold(round, scratch.arrival_trips[from.idx()])
        {
            continue;
        }
        // Walks that only lead to boarding skip the links whose patterns are caught as
        // early with less walking, and (when no walking limit needs the distances) those
        // the vehicle that brought the traveller here serves as well by riding on; walks
        // that may end the journey (or, for a wheelchair user, need an accessible stop)
        // take every link.
        let (walk_links, slot) = if rules.wheelchair || scratch.arrival_trips[from.idx()] == 0 {
            (view.walk_links, from.idx())
        } else if let Some(alighting) = view.alighting_links
            && rules.max_walk_m >= view.walk_links.longest_m
        {
            let parent = scratch.transit_parent[round_start + from.idx()];
            let pattern = &view.patterns[parent.pattern as usize];
            (alighting, pattern.stops.start as usize + usize::from(parent.alight_position))
        } else {
            (view.boarding_links, from.idx())
        };
        let range = walk_links.range(slot);
        let first_link = range.start;
        if walk_links.packed.is_empty() {
            let links = walk_links.links[range].iter().copied();
            relax_links(
                network,
                view,
                rules,
                round,
                from,
                arrival,
                (walk_links, first_link),
                links,
                scratch,
            );
        } else {
            let links = walk_links.packed[range].iter().map(|&link| WalkLinks::unpack(link));
            relax_links(
                network,
                view,
                rules,
                round,
                from,
                arrival,
                (walk_links, first_link),
                links,
                scratch,
            );
        }
    }
    scratch.transit_improved_list = improved;
    scratch.transit_improved_list.clear();
}

/// Relaxes the walking links (`links`, the first at `first_link`) of `from`, reached by
/// vehicle at `arrival` in `round`.
#[allow(clippy::too_many_arguments)]
#[inline]
fn relax_links(
    network: &Network,
    view: &View<'_>,
    rules: &Rules<'_>,
    round: usize,
    from: StopIdx,
    arrival: u32,
    (walk_links, first_link): (&WalkLinks, usize),
    links: impl Iterator<Item = WalkLink>,
    scratch: &mut RaptorScratch,
) {
    let round_start = scratch.flat(round, StopIdx(0));
    let distances_m = &walk_links.distances_m;
    let check_distance = rules.max_walk_m < walk_links.longest_m;
    let min_transfer_secs = view.min_transfer_secs;
    // Only this loop improves the round's target (walking to a target stop).
    let mut target_key = scratch.target[round].key;
    for (index, link) in links.enumerate() {
        let key = arrival + link.duration_secs;
        if key >= target_key {
            // Links are sorted by duration: the rest arrive no earlier.
            break;
        }
        if check_distance && distances_m[first_link + index] > rules.max_walk_m {
            continue;
        }
        let to = link.to;
        if rules.wheelchair && !network.stop_accessible[to.idx()] {
            continue;
        }
        let flat = round_start + to.idx();
        let labels = scratch.labels[flat];
        if key >= labels.walk
            || key >= labels.transit.saturating_add(min_transfer_secs[to.idx()])
            || key.saturating_add(lower_bound(scratch, to))
                >= scratch.threshold(round, scratch.ready_trips[to.idx()])
        {
            continue;
        }
        scratch.touch(to);
        scratch.labels[flat].walk = key;
        RaptorScratch::propagate(
            &mut scratch.labels,
            LabelKind::Walk,
            scratch.num_stops,
            flat,
            round,
            rules.max_trips,
            key,
        );
        scratch.walk_parent[flat] = WalkParent::Footpath {
            from,
            duration_secs: link.duration_secs,
            distance_m: distances_m[first_link + index],
        };
        scratch.mark(to);
        let egress = scratch.egress[to.idx()];
        if egress != INF {
            let arrival_at_target = key.saturating_add(egress);
            if arrival_at_target < target_key {
                target_key = arrival_at_target;
                scratch.target[round] = TargetLabel {
                    key: arrival_at_target,
                    stop: to,
                    kind: LabelKind::Walk,
                    final_walk: None,
                    improved: true,
                };
            }
        }
    }
}

/// The first index of `sorted` (ascending, its last element at least `threshold`) holding at
/// least `threshold`, searched from the end: exponential steps down, then a binary search.
#[inline]
fn first_at_least(sorted: &[u32], threshold: u32) -> usize {
    debug_assert!(sorted.last().is_some_and(|&last| last >= threshold));
    // `sorted[high] >= threshold` throughout; the answer is in `low..=high`.
    let mut high = sorted.len() - 1;
    let mut step = 1;
    let low = loop {
        if high < step {
            break 0;
        }
        let probe = high - step;
        if sorted[probe] < threshold {
            break probe + 1;
        }
        high = probe;
        step *= 2;
    };
    low + sorted[low..high].partition_point(|&value| value < threshold)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn galloping_search_finds_the_first_late_enough_value() {
        let sorted = [10, 20, 20, 30, 40, 50, 60, 70, 80, 90];
        for threshold in 0..=90 {
            let expected = sorted.partition_point(|&value| value < threshold);
            assert_eq!(first_at_least(&sorted, threshold), expected, "threshold {threshold}");
        }
    }
}
