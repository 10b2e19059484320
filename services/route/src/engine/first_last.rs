//! The first and the last journey of a service day (始発 / 終電), each by two searches over
//! the engine's own (for [`super::Engine::first_journey`] and [`super::Engine::last_journey`]).
//!
//! A service day of journeys runs from [`DAY_CHANGE_SECS`] (03:00) of its date to the same
//! hour of the next day (27:00), the hour Japanese operators change the day at: trips past
//! midnight of the day before (24:xx, 25:xx) belong to the day before. Only journeys that
//! ride (at least one vehicle) count; walking all the way is no first or last train.
//!
//! - **First**: a depart-at search from 03:00 gives the earliest arrival; an arrive-by search
//!   to that arrival then gives the latest departure that still makes it (so the answer does
//!   not wait at the origin for nothing).
//! - **Last**: an arrive-by search to 27:00 gives the latest departure that still arrives
//!   within the day; a depart-at search from that departure then gives its earliest arrival.

use super::journey::Journey;
use super::query::{Request, SearchKind, local_unix};
use crate::error::Result;
use norikae_timetable::Timetable;

/// Seconds after midnight at which one service day of journeys ends and the next begins.
pub const DAY_CHANGE_SECS: u32 = 3 * 3600;

fn rides(journey: &Journey) -> bool {
    journey.legs.iter().any(super::journey::Leg::is_transit)
}

/// Local seconds after midnight of `request.date` of a Unix time (at least 0).
fn local_secs(tt: &Timetable, request: &Request, unix: i64) -> u32 {
    let midnight = local_unix(tt, request.date, 0);
    u32::try_from(unix - midnight).unwrap_or(0)
}

/// The earliest journey of the service day `request.date` (its time and kind are ignored).
pub fn first(
    tt: &Timetable,
    request: &Request,
    mut search: impl FnMut(&Request) -> Result<Vec<Journey>>,
) -> Result<Option<Journey>> {
    let day_begins = local_unix(tt, request.date, DAY_CHANGE_SECS);
    let day_ends = local_unix(tt, request.date, 24 * 3600 + DAY_CHANGE_SECS);
    let depart_at =
        Request { time_secs: DAY_CHANGE_SECS, kind: SearchKind::DepartAt, ..request.clone() };
    let earliest = search(&depart_at)?
        .into_iter()
        .filter(|journey| rides(journey) && journey.arrival <= day_ends)
        .min_by_key(|journey| (journey.arrival, journey.transfers, -journey.departure));
    let Some(earliest) = earliest else { return Ok(None) };
    let arrive_by = Request {
        time_secs: local_secs(tt, request, earliest.arrival),
        kind: SearchKind::ArriveBy,
        ..request.clone()
    };
    let latest_leaving = search(&arrive_by)?
        .into_iter()
        .filter(|journey| {
            rides(journey) && journey.departure >= day_begins && journey.arrival <= earliest.arrival
        })
        .max_by_key(|journey| (journey.departure, -journey.arrival, -i64::from(journey.transfers)));
    Ok(Some(match latest_leaving {
        Some(journey) if journey.departure >= earliest.departure => journey,
        _ => earliest,
    }))
}

/// The latest journey of the service day `request.date` that arrives within it.
pub fn last(
    tt: &Timetable,
    request: &Request,
    mut search: impl FnMut(&Request) -> Result<Vec<Journey>>,
) -> Result<Option<Journey>> {
    let day_begins = local_unix(tt, request.date, DAY_CHANGE_SECS);
    let day_ends = local_unix(tt, request.date, 24 * 3600 + DAY_CHANGE_SECS);
    let arrive_by = Request {
        time_secs: 24 * 3600 + DAY_CHANGE_SECS,
        kind: SearchKind::ArriveBy,
        ..request.clone()
    };
    let latest = search(&arrive_by)?
        .into_iter()
        .filter(|journey| {
            rides(journey) && journey.departure >= day_begins && journey.arrival <= day_ends
        })
        .max_by_key(|journey| (journey.departure, -journey.arrival, -i64::from(journey.transfers)));
    let Some(latest) = latest else { return Ok(None) };
    let depart_at = Request {
        time_secs: local_secs(tt, request, latest.departure),
        kind: SearchKind::DepartAt,
        ..request.clone()
    };
    let earliest_arriving = search(&depart_at)?
        .into_iter()
        .filter(|journey| {
            rides(journey) && journey.departure >= latest.departure && journey.arrival <= day_ends
        })
        .max_by_key(|journey| (journey.departure, -journey.arrival, -i64::from(journey.transfers)));
    Ok(Some(match earliest_arriving {
        Some(journey) if journey.arrival <= latest.arrival => journey,
        _ => latest,
    }))
}
