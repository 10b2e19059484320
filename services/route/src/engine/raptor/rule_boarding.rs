//! Boarding under the transfers.txt rules that name trips or routes (see
//! [`norikae_timetable::TransferRule`]), for RAPTOR scans at the stops such rules reach.
//!
//! A stop's labels hold its best arrival only, while these rules depend on which vehicle the
//! traveller left: a timed transfer (0 s) from one trip, a change forbidden from another. At a
//! stop where a rule may apply, the scan asks here instead of its usual earliest-trip search:
//! each running trip of the pattern is tried against the vehicle behind the stop's vehicle
//! label (a change at the stop) and behind its walk label (a walk from where a vehicle was
//! left), with the most specific rule for that pair of trips or else the stop's minimum
//! transfer time or the walk. Every boarding it returns is allowed by the rules; a later
//! arrival by another vehicle that a rule would favour is not seen (the labels keep one
//! arrival per stop), which Trip-Based routing, built per stop event, does see.

use norikae_timetable::{FORBIDDEN_TRANSFER_SECS, Pattern, StopIdx, Timetable, TripIdx};

use super::day_tables::{SlotTrips, timetable_trip};
use super::labels::{LabelKind, RaptorScratch, WalkParent};
use crate::engine::types::{Direction, INF};

/// A label a traveller may board from, and the vehicle behind it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Source {
    /// The key at the stop where the vehicle was left (forward: its arrival there).
    vehicle_key: u32,
    trip: TripIdx,
    /// Where that vehicle was left (the boarding stop itself, or where a walk began).
    stop: StopIdx,
    /// Time the stop rules give the change: the stop's minimum transfer time, or the walk.
    default_secs: u32,
    from_walk: bool,
}

/// The vehicle behind the label `kind` of `stop` in `round`, if the label has one (not a
/// seed): `(trip, stop where it was left, key there)`.
fn vehicle_of(
    timetable: &Timetable,
    scratch: &RaptorScratch,
    round: usize,
    stop: StopIdx,
    kind: LabelKind,
) -> Option<(TripIdx, StopIdx, u32)> {
    let value = scratch.label(round, stop, kind);
    if value == INF || round == 0 {
        return None;
    }
    // The lowest round with the same value set it (labels are carried to later rounds).
    let mut set_in = round;
    while set_in > 1 && scratch.label(set_in - 1, stop, kind) == value {
        set_in -= 1;
    }
    match kind {
        LabelKind::Transit => {
            let parent = scratch.transit_parent(set_in, stop);
            let pattern = &timetable.patterns[parent.pattern as usize];
            Some((timetable_trip(pattern, parent.trip_in_pattern), stop, value))
        }
        LabelKind::Walk => match scratch.walk_parent(set_in, stop) {
            WalkParent::Seed => None,
            WalkParent::Footpath { from, .. } => {
                vehicle_of(timetable, scratch, set_in, from, LabelKind::Transit)
            }
        },
    }
}

/// The labels of `round` at `stop` a boarding may start from, with their vehicles; `None`
/// when neither has a vehicle (seeds board as usual).
pub(crate) fn sources(
    timetable: &Timetable,
    scratch: &RaptorScratch,
    round: usize,
    stop: StopIdx,
) -> Option<[Option<Source>; 2]> {
    let transit = vehicle_of(timetable, scratch, round, stop, LabelKind::Transit).map(
        |(trip, left_at, key)| Source {
            vehicle_key: key,
            trip,
            stop: left_at,
            default_secs: timetable.min_transfer_secs[stop.idx()],
            from_walk: false,
        },
    );
    let walk_key = scratch.label(round, stop, LabelKind::Walk);
    let walk =
        vehicle_of(timetable, scratch, round, stop, LabelKind::Walk).map(|(trip, left_at, key)| {
            Source {
                vehicle_key: key,
                trip,
                stop: left_at,
                default_secs: walk_key - key,
                from_walk: true,
            }
        });
    (transit.is_some() || walk.is_some()).then_some([transit, walk])
}

/// The lowest key at which any of `sources` lets the traveller board at all (a timed
/// transfer may allow a change in 0 s): for pruning before the trips are tried.
pub(crate) fn earliest_ready(sources: &[Option<Source>; 2], slack: u32) -> u32 {
    sources
        .iter()
        .flatten()
        .map(|source| source.vehicle_key.saturating_add(slack))
        .min()
        .unwrap_or(INF)
}

/// The first trip of the pattern (over the three days' `slots`, in key order) that one of
/// `sources` may board at `stop` (scan position `scan_position`), before `better_than`:
/// `(day_slot, running_index, board_key, from_walk)`. `pattern` turns a trip of the pattern
/// into its [`TripIdx`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn next_trip(
    timetable: &Timetable,
    direction: Direction,
    sources: &[Option<Source>; 2],
    slots: &[SlotTrips<'_>; 3],
    (stop, scan_position, pattern): (StopIdx, usize, &Pattern),
    slack: u32,
    better_than: u32,
    accessible_trips: Option<&[bool]>,
) -> Option<(u8, u32, u32, bool)> {
    let mut best: Option<(u8, u32, u32, bool)> = None;
    let mut best_key = better_than;
    for (slot, trips) in slots.iter().enumerate() {
        let count = trips.running.len();
        let departures = trips.departures.get(scan_position * count..(scan_position + 1) * count);
        for (index, &departure) in departures.into_iter().flatten().enumerate() {
            let key = departure + trips.offset;
            if key >= best_key {
                break;
            }
            let trip_in_pattern = trips.running[index];
            // Added trips (numbered past the pattern's own) are not known to be accessible.
            if accessible_trips.is_some_and(|accessible| {
                !accessible.get(trip_in_pattern as usize).copied().unwrap_or(false)
            }) || trips.live.is_some_and(|live| live.skips(index, scan_position))
            {
                continue;
            }
            let trip = timetable_trip(pattern, trip_in_pattern);
            let allowed_from = sources.iter().flatten().find(|source| {
                let rule = match direction {
                    Direction::Forward => {
                        timetable.trip_transfer_rule(source.trip, source.stop, trip, stop)
                    }
                    Direction::Backward => {
                        timetable.trip_transfer_rule(trip, stop, source.trip, source.stop)
                    }
                };
                let needed = match rule {
                    Some(Some(secs)) => secs,
                    Some(None) => return false,
                    None if source.default_secs >= FORBIDDEN_TRANSFER_SECS => return false,
                    None => source.default_secs,
                };
                source.vehicle_key.saturating_add(needed).saturating_add(slack) <= key
            });
            if let Some(source) = allowed_from {
                best = Some((slot as u8, index as u32, key, source.from_walk));
                best_key = key;
                break;
            }
        }
    }
    best
}
