//! Queries: where from and to, when, which kind of search, which options. The searches that
//! answer them are [`super::plan`]'s; these types depend on nothing else in the engine but
//! its [`super::types`].

use chrono::NaiveDate;
use norikae_timetable::{AgencyIdx, Mode, RouteIdx, StationIdx, StopIdx, Timetable};

use super::types::Frame;
pub use super::types::haversine_m;

/// Radius around coordinates within which stops are walked to (and from).
pub const DEFAULT_COORDINATE_RADIUS_M: u32 = 800;
/// Longest journey a search follows past its start time: labels later than this are dropped.
pub(crate) const MAX_JOURNEY_SECS: u32 = 36 * 3600;

/// An origin or destination.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Place {
    /// Any stop of the station.
    Station(StationIdx),
    Stop(StopIdx),
    /// Walk to (or from) the stops within the coordinate radius.
    Coordinates {
        lat: f64,
        lon: f64,
    },
}

/// The kind of search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchKind {
    /// The Pareto set (arrival, transfers) for leaving at the time.
    DepartAt,
    /// The Pareto set (departure, transfers) for arriving by the time.
    ArriveBy,
    /// Every Pareto-optimal (departure, arrival, transfers) journey leaving in
    /// `[time, time + window_secs)`.
    Range { window_secs: u32 },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub max_transfers: u8,
    /// Extra time at each transfer, on top of the stop's own minimum transfer time.
    pub min_transfer_secs: u32,
    /// Longest single walk (walking link, or walk to/from coordinates).
    pub max_walk_m: u32,
    /// Only wheelchair-accessible trips and stops.
    pub wheelchair: bool,
    pub exclude_routes: Vec<RouteIdx>,
    pub exclude_agencies: Vec<AgencyIdx>,
    pub exclude_modes: Vec<Mode>,
    /// The journey passes through this station (gets off and on again there).
    pub via: Option<StationIdx>,
    pub coordinate_radius_m: u32,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_transfers: 5,
            min_transfer_secs: 0,
            max_walk_m: 2_000,
            wheelchair: false,
            exclude_routes: Vec::new(),
            exclude_agencies: Vec::new(),
            exclude_modes: Vec::new(),
            via: None,
            coordinate_radius_m: DEFAULT_COORDINATE_RADIUS_M,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub from: Place,
    pub to: Place,
    /// The day the time refers to, in the feed's time zone.
    pub date: NaiveDate,
    /// Local wall-clock seconds after midnight of `date` (may pass 24 h).
    pub time_secs: u32,
    pub kind: SearchKind,
    pub options: Options,
}

/// Unix time of local wall-clock `time_secs` after midnight of `date` in the network's zone.
pub fn local_unix(timetable: &Timetable, date: NaiveDate, time_secs: u32) -> i64 {
    Frame::local_unix(timetable, date, time_secs)
}
