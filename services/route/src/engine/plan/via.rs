//! Via searches: how a journey to the via station and one on from it meet (the stops where
//! they end and start) and are joined under the transfer limit and the rules naming trips.

use norikae_timetable::{StopIdx, Timetable};

use crate::engine::journey::{Journey, Leg, WalkEnd};
use crate::engine::query::Options;
use crate::engine::scratch::Scratch;
use crate::error::{Error, Result};

/// A via search continues from at most [`super::SearchLimits::max_via_heads`] journeys.
pub(super) fn check_via_heads(heads: usize, scratch: &Scratch) -> Result<()> {
    let most = scratch.limits.max_via_heads;
    if heads > most {
        return Err(Error::InvalidParameter {
            field: "via",
            reason: format!(
                "{heads} journeys reach the via station, more than the {most} a search follows; ask for a shorter `window`"
            ),
        });
    }
    Ok(())
}

/// The stop a journey ends at, if it ends at a stop.
pub(super) fn last_stop(timetable: &Timetable, journey: &Journey) -> Option<StopIdx> {
    match journey.legs.last()? {
        Leg::Transit { pattern, alight_position, .. } => {
            Some(timetable.pattern_stops(*pattern)[*alight_position])
        }
        Leg::Walk { to: WalkEnd::Stop(stop), .. } => Some(*stop),
        Leg::Walk { .. } => None,
    }
}

/// The stop a journey starts at, if it starts at a stop.
pub(super) fn first_stop(timetable: &Timetable, journey: &Journey) -> Option<StopIdx> {
    match journey.legs.first()? {
        Leg::Transit { pattern, board_position, .. } => {
            Some(timetable.pattern_stops(*pattern)[*board_position])
        }
        Leg::Walk { from: WalkEnd::Stop(stop), .. } => Some(*stop),
        Leg::Walk { .. } => None,
    }
}

/// `head` then `tail`, if together they stay within the transfer limit and the change between
/// them keeps the rules naming their trips (the tail was searched from the via stop's own
/// minimum transfer time, which such a rule may forbid or lengthen).
pub(super) fn join(
    timetable: &Timetable,
    head: Journey,
    tail: &Journey,
    options: &Options,
) -> Option<Journey> {
    let vehicles = head.vehicles() + tail.vehicles();
    if vehicles > u32::from(options.max_transfers) + 1 {
        return None;
    }
    if let (
        Some(Leg::Transit { trip: from_trip, arrival, .. }),
        Some(Leg::Transit { trip: to_trip, departure, .. }),
        Some(from_stop),
        Some(to_stop),
    ) = (
        head.legs.last(),
        tail.legs.first(),
        last_stop(timetable, &head),
        first_stop(timetable, tail),
    ) {
        let needed = timetable.change_secs(*from_trip, from_stop, *to_trip, to_stop)?;
        if arrival + i64::from(needed) + i64::from(options.min_transfer_secs) > *departure {
            return None;
        }
    }
    let mut legs = head.legs;
    legs.extend(tail.legs.iter().cloned());
    Some(Journey {
        departure: head.departure,
        arrival: tail.arrival,
        transfers: vehicles.saturating_sub(1),
        legs,
    })
}
