//! The scan of one pattern in a round: along its stops in scan order, alighting from the trip
//! ridden (a transit label where it improves one, the round's target where a stop reaches
//! it) and, at each marked stop, boarding the earliest trip of the three service days the
//! traveller catches there (the day tables' departures; [`super::rule_boarding`] where
//! transfers.txt rules name trips).

use norikae_timetable::{PatternIdx, StopIdx, StopTime};

use super::day_tables::{MIRROR_DAY, SlotTrips};
use super::labels::{
    LabelKind, Labels, RaptorScratch, Ride, TargetLabel, TransitParent, lower_bound,
};
use super::view::View;
use super::{Rules, rule_boarding};
use crate::engine::network::Network;
use crate::engine::types::{Direction, INF, MIRROR};

/// A trip on a service day, as the scan rides it.
#[derive(Clone, Copy)]
struct Boarded<'a> {
    trip_in_pattern: u32,
    /// Index of the trip among its day's running trips (forward scans).
    running_index: u32,
    day_slot: u8,
    board_position: u16,
    from_walk: bool,
    /// The trip's times by position (the timetable's, or on a realtime day the expected
    /// ones) and the stops it skips (empty: none).
    times: &'a [StopTime],
    skipped: &'a [bool],
    offset: u32,
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

pub(super) fn scan_pattern(
    network: &Network,
    view: &View<'_>,
    rules: &Rules<'_>,
    round: usize,
    pattern_idx: PatternIdx,
    boarding_positions: std::ops::RangeInclusive<usize>,
    scratch: &mut RaptorScratch,
) {
    // On realtime days a pattern's trips may come in several groups that never overtake
    // within themselves (see `DayTrips::groups`): each is scanned as a pattern of its own.
    let groups = rules.day_trips.iter().flatten().map(|day| day.groups(pattern_idx)).max();
    for group in 0..groups.unwrap_or(1) {
        scan_group(
            network,
            view,
            rules,
            round,
            pattern_idx,
            group,
            boarding_positions.clone(),
            scratch,
        );
    }
}

#[allow(clippy::too_many_lines, clippy::too_many_arguments)]
fn scan_group(
    network: &Network,
    view: &View<'_>,
    rules: &Rules<'_>,
    round: usize,
    pattern_idx: PatternIdx,
    group: usize,
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
            if group >= day.groups(pattern_idx) {
                continue;
            }
            let offset = rules.days.offset[slot];
            let ((running, departures, (earliest, latest), live), offset) = if forward {
                (day.block(pattern_idx, num_stops, group), offset)
            } else {
                // A backward key is `MIRROR - (arrival + offset)`, that is the mirrored
                // arrival plus this.
                (
                    day.mirrored_block(&network.timetable, pattern_idx, num_stops, group),
                    MIRROR - MIRROR_DAY - offset,
                )
            };
            *trips = SlotTrips { offset, running, departures, earliest, latest, live };
        }
    }
    // Trips of a realtime day are ordered by expected times, not by their position in the
    // pattern, which the rides remembered across iterations compare: not remembered then.
    let remember_rides = rules.remember_rides && slots.iter().all(|trips| trips.live.is_none());
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
            let time = trip.times[position];
            let can_alight = if forward { stop_rule.drop_off() } else { stop_rule.pickup() }
                && !trip.skipped.get(position).copied().unwrap_or(false);
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
            let time = trip.times[position];
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
                (stop, scan_position, pattern),
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
            let ride = if remember_rides { scratch.ridden[ride_slot] } else { Ride::NONE };
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
            if remember_rides {
                if ride.trip_in_pattern == u32::MAX {
                    scratch.ridden_list.push(ride_slot);
                }
                scratch.ridden[ride_slot] =
                    Ride { trip_in_pattern, position: position as u16, day_slot };
            }
        }
        let (times, skipped) = match slots[day_slot as usize].live {
            Some(live) => live.row(running_index as usize),
            None => (&stop_times[trip_in_pattern as usize * num_stops..], &[][..]),
        };
        boarded = Some(Boarded {
            trip_in_pattern,
            running_index,
            day_slot,
            board_position: position as u16,
            from_walk,
            times,
            skipped,
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
        let last = if limit < count && trips.live.is_none() {
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
            // Added trips (numbered past the pattern's own) are not known to be accessible.
            if accessible_trips.is_none_or(|accessible| {
                accessible.get(trips.running[index] as usize).copied().unwrap_or(false)
            }) && trips.live.is_none_or(|live| !live.skips(index, scan_position))
            {
                best = Some((slot as u8, index as u32, key));
                best_key = key;
                break;
            }
            index += 1;
        }
    }
    best
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
