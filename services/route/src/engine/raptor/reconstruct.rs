//! Journeys from RAPTOR labels: from the target's label of a round back along the parents
//! (vehicle, walk, vehicle, ...) to a seed.

use norikae_timetable::{PatternIdx, Timetable};

use super::day_tables::timetable_trip;
use super::labels::{LabelKind, RaptorScratch, WalkParent};
use crate::engine::journey::{Journey, Leg, SeedWalk, WalkEnd, apply_trip_rules_to_walks};
use crate::engine::types::{Direction, INF};

/// What the labels know about one round's journey to the target.
pub(crate) struct Reconstruction<'a> {
    pub direction: Direction,
    pub base_unix: i64,
    pub day_offsets: [u32; 3],
    pub days: [Option<u32>; 3],
    pub seeds: &'a [SeedWalk],
    /// Walks between a target stop and the target place (coordinates), by stop.
    pub target_walks: &'a [SeedWalk],
    /// The day tables searched (their expected times on realtime days).
    pub day_trips: [Option<&'a super::day_tables::DayTrips>; 3],
}

/// Rebuilds the journey that reaches the target in `round`.
pub(crate) fn reconstruct(
    tt: &Timetable,
    scratch: &RaptorScratch,
    round: usize,
    context: &Reconstruction<'_>,
) -> Option<Journey> {
    let target = scratch.target[round];
    if target.key == INF {
        return None;
    }
    // Legs in search order (forward: from the destination back; backward: from the origin on).
    let mut legs = Vec::new();
    let target_stop = target.final_walk.map_or(target.stop, |walk| walk.to);
    if let Some(walk) = context.target_walks.iter().find(|walk| walk.stop == target_stop)
        && walk.duration_secs > 0
    {
        legs.push(walk_leg(
            WalkEnd::Stop(walk.stop),
            walk.place,
            walk.duration_secs,
            walk.distance_m,
            context.direction,
        ));
    }
    if let Some(walk) = target.final_walk {
        legs.push(walk_leg(
            WalkEnd::Stop(target.stop),
            WalkEnd::Stop(walk.to),
            walk.duration_secs,
            walk.distance_m,
            context.direction,
        ));
    }
    let (mut round, mut stop, mut kind) = (round, target.stop, target.kind);
    loop {
        let value = scratch.label(round, stop, kind);
        if value == INF {
            return None;
        }
        // The lowest round with the same label set it (round 0's walk labels are seeds,
        // which later rounds do not inherit).
        let lowest = if kind == LabelKind::Walk && round > 0 { 1 } else { 0 };
        while round > lowest && scratch.label(round - 1, stop, kind) == value {
            round -= 1;
        }
        match kind {
            LabelKind::Transit => {
                if round == 0 {
                    return None;
                }
                let parent = scratch.transit_parent(round, stop);
                let pattern = PatternIdx(parent.pattern);
                let pattern_data = &tt.patterns[pattern.idx()];
                let trip = timetable_trip(pattern_data, parent.trip_in_pattern);
                let slot = parent.day_slot as usize;
                let added = context.day_trips[slot]
                    .and_then(|day| day.added_trip(pattern_data, parent.trip_in_pattern))
                    .cloned();
                // The times searched: on a realtime day the expected ones.
                let times = context.day_trips[slot]
                    .and_then(|day| {
                        day.live_times(pattern, parent.trip_in_pattern, pattern_data.num_stops())
                    })
                    .unwrap_or_else(|| {
                        tt.trip_stop_times(pattern, parent.trip_in_pattern as usize)
                    });
                let offset = i64::from(context.day_offsets[slot]);
                let (board_position, alight_position) = match context.direction {
                    Direction::Forward => {
                        (parent.board_position as usize, parent.alight_position as usize)
                    }
                    Direction::Backward => {
                        (parent.alight_position as usize, parent.board_position as usize)
                    }
                };
                legs.push(Leg::Transit {
                    trip,
                    pattern,
                    board_position,
                    alight_position,
                    service_day: context.days[slot]?,
                    departure: context.base_unix
                        + offset
                        + i64::from(times[board_position].departure),
                    arrival: context.base_unix + offset + i64::from(times[alight_position].arrival),
                    added,
                });
                let stops = tt.pattern_stops(pattern);
                stop = stops[parent.board_position as usize];
                round -= 1;
                kind = if parent.from_walk { LabelKind::Walk } else { LabelKind::Transit };
            }
            LabelKind::Walk => match scratch.walk_parent(round, stop) {
                WalkParent::Seed => {
                    if round != 0 {
                        return None;
                    }
                    if let Some(seed) = context.seeds.iter().find(|seed| seed.stop == stop)
                        && seed.duration_secs > 0
                    {
                        legs.push(walk_leg(
                            WalkEnd::Stop(stop),
                            seed.place,
                            seed.duration_secs,
                            seed.distance_m,
                            context.direction.reversed(),
                        ));
                    }
                    break;
                }
                WalkParent::Footpath { from, duration_secs, distance_m } => {
                    legs.push(walk_leg(
                        WalkEnd::Stop(stop),
                        WalkEnd::Stop(from),
                        duration_secs,
                        distance_m,
                        context.direction.reversed(),
                    ));
                    stop = from;
                    kind = LabelKind::Transit;
                }
            },
        }
    }
    if context.direction == Direction::Forward {
        legs.reverse();
    }
    apply_trip_rules_to_walks(tt, &mut legs);
    Journey::from_legs(legs)
}

/// A walk between `near` (the stop the search holds) and `far`; `outward` is the direction in
/// which the traveller walks from `near` to `far` (forward) or from `far` to `near` (backward).
fn walk_leg(
    near: WalkEnd,
    far: WalkEnd,
    duration_secs: u32,
    distance_m: u32,
    outward: Direction,
) -> Leg {
    let (from, to) = match outward {
        Direction::Forward => (near, far),
        Direction::Backward => (far, near),
    };
    Leg::Walk { from, to, departure: 0, arrival: 0, duration_secs, distance_m }
}
