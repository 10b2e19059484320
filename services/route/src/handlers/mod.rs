//! HTTP handlers of the route service. Each parses its parameters (errors name the field),
//! runs the query through [`AppState::query`] (off the async runtime, limited and timed) and
//! renders JSON.

pub mod departures;
pub mod journeys;
pub mod realtime;
pub mod routes;
pub mod status;
pub mod timetable;
pub mod trips;

use axum::Router;
use axum::routing::{get, post};
use chrono::{NaiveDate, Timelike};
use norikae_runtime::Problem;
use norikae_timetable::{StationIdx, Timetable};

use crate::AppState;
use crate::error::Error;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/journeys", get(journeys::journeys))
        .route("/stations/{id}/departures", get(departures::departures))
        .route("/trips/{id}", get(trips::trip))
        .route("/stations/{id}/timetable", get(timetable::timetable))
        .route("/routes", get(routes::list))
        .route("/routes/{id}", get(routes::detail))
        .route("/status", get(status::status))
        .route("/realtime/{feed}", post(realtime::push))
        .route("/realtime/alerts", get(realtime::alerts))
}

/// Seconds a client should wait before retrying a timed-out or not-yet-ready query.
const RETRY_AFTER_SECS: u64 = 5;

/// The problem+json answer for an error.
pub fn problem(error: Error) -> Problem {
    let detail = error.to_string();
    let problem = match &error {
        Error::UnknownStation { .. }
        | Error::UnknownTrip { .. }
        | Error::TripNotRunning { .. }
        | Error::UnknownRoute { .. } => Problem::not_found(error.code(), detail),
        Error::DateOutOfRange { .. }
        | Error::MissingParameter { .. }
        | Error::InvalidParameter { .. }
        | Error::InvalidCursor { .. }
        | Error::NoStopNearby { .. } => Problem::bad_request(error.code(), detail),
        Error::NotLoaded | Error::Timeout { .. } | Error::Stopped => {
            Problem::unavailable(error.code(), detail, RETRY_AFTER_SECS)
        }
    };
    match error.field() {
        Some(field) => problem.with_field(field),
        None => problem,
    }
}

/// `YYYY-MM-DD`, or today in the network's time zone.
pub(crate) fn parse_date(timetable: &Timetable, date: Option<&str>) -> Result<NaiveDate, Error> {
    match date {
        Some(text) => NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
            Error::InvalidParameter {
                field: "date",
                reason: format!("`{text}` is not a date like 2025-06-02"),
            }
        }),
        None => Ok(chrono::Utc::now().with_timezone(&timetable.tz).date_naive()),
    }
}

/// `HH:MM` or `HH:MM:SS` (hours up to 47 for the small hours of the next day), or now.
pub(crate) fn parse_time(timetable: &Timetable, time: Option<&str>) -> Result<u32, Error> {
    let Some(text) = time else {
        let now = chrono::Utc::now().with_timezone(&timetable.tz).time();
        return Ok(now.num_seconds_from_midnight());
    };
    let invalid = || Error::InvalidParameter {
        field: "time",
        reason: format!("`{text}` is not a time like 08:30"),
    };
    let parts: Vec<&str> = text.trim().split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return Err(invalid());
    }
    let mut numbers = [0u32; 3];
    for (slot, part) in parts.iter().enumerate() {
        numbers[slot] = part.parse().map_err(|_| invalid())?;
    }
    let [hours, minutes, seconds] = numbers;
    if hours > 47 || minutes > 59 || seconds > 59 {
        return Err(invalid());
    }
    Ok(hours * 3600 + minutes * 60 + seconds)
}

/// A station by id (a stop id finds its station).
pub(crate) fn resolve_station(
    timetable: &Timetable,
    id: &str,
    field: &'static str,
) -> Result<StationIdx, Error> {
    timetable
        .station_by_id(id)
        .or_else(|| timetable.stop_by_id(id).map(|stop| timetable.stops[stop.idx()].station))
        .ok_or_else(|| Error::UnknownStation { id: id.to_owned(), field })
}

/// A line by id.
pub(crate) fn resolve_route(
    timetable: &Timetable,
    id: &str,
    field: &'static str,
) -> Result<norikae_timetable::RouteIdx, Error> {
    timetable.route_by_id(id.trim()).ok_or_else(|| Error::UnknownRoute { id: id.to_owned(), field })
}
