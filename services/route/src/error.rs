//! The route service's one error type, with a stable code and HTTP status per variant.

use chrono::NaiveDate;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unknown station or stop `{id}`")]
    UnknownStation { id: String, field: &'static str },
    #[error("unknown trip `{id}`")]
    UnknownTrip { id: String },
    #[error("trip `{id}` does not run on {date} (the timetable covers {first} to {last})")]
    TripNotRunning { id: String, date: NaiveDate, first: NaiveDate, last: NaiveDate },
    #[error("unknown line `{id}`")]
    UnknownRoute { id: String, field: &'static str },
    #[error("date {date} is outside the timetable, which covers {first} to {last}")]
    DateOutOfRange { date: NaiveDate, first: NaiveDate, last: NaiveDate },
    #[error("query parameter `{field}` is required: {expected}")]
    MissingParameter { field: &'static str, expected: &'static str },
    #[error("invalid `{field}`: {reason}")]
    InvalidParameter { field: &'static str, reason: String },
    #[error("invalid `cursor`: {reason}")]
    InvalidCursor { reason: &'static str },
    #[error("no stop within {radius_m} m of the coordinates given as `{field}`")]
    NoStopNearby { field: &'static str, radius_m: u32 },
    #[error("the timetable is not loaded yet")]
    NotLoaded,
    #[error("the query took longer than {secs} s")]
    Timeout { secs: u64 },
    #[error("the query passed its deadline and was stopped")]
    Stopped,
}

impl Error {
    /// Stable machine-readable code of the error (the problem+json `code` member).
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownStation { .. } => "unknown_station",
            Self::UnknownTrip { .. } => "unknown_trip",
            Self::TripNotRunning { .. } => "trip_not_running",
            Self::UnknownRoute { .. } => "unknown_route",
            Self::DateOutOfRange { .. } => "date_out_of_range",
            Self::MissingParameter { .. } => "missing_parameter",
            Self::InvalidParameter { .. } => "invalid_parameter",
            Self::InvalidCursor { .. } => "invalid_cursor",
            Self::NoStopNearby { .. } => "no_stop_nearby",
            Self::NotLoaded => "not_ready",
            Self::Timeout { .. } | Self::Stopped => "query_timeout",
        }
    }

    /// The request parameter at fault, if any.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::UnknownStation { field, .. }
            | Self::UnknownRoute { field, .. }
            | Self::MissingParameter { field, .. }
            | Self::InvalidParameter { field, .. }
            | Self::NoStopNearby { field, .. } => Some(field),
            Self::DateOutOfRange { .. } | Self::TripNotRunning { .. } => Some("date"),
            Self::UnknownTrip { .. } => Some("id"),
            Self::InvalidCursor { .. } => Some("cursor"),
            Self::NotLoaded | Self::Timeout { .. } | Self::Stopped => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
