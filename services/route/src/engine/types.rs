//! The words every layer of the engine speaks: search directions and the key space, the three
//! service days of a query ([`Frame`]), and the limits a caller puts on a search. Depends on
//! nothing else in the engine.

use chrono::{NaiveDate, TimeZone};
use norikae_timetable::{Timetable, service_day_start};

use crate::error::{Error, Result};

/// "No label".
pub(crate) const INF: u32 = u32::MAX;
/// Keys of backward searches are `MIRROR - time`; larger than any time of three service days.
pub(crate) const MIRROR: u32 = 1 << 30;

/// The three service days a query looks at: the day before (trips past midnight), the day,
/// and the day after (journeys crossing midnight).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ServiceDays {
    /// Day number (into the service bitsets) of each slot, `None` outside the timetable.
    pub day: [Option<u32>; 3],
    /// Start of each slot's service day, in seconds after the start of slot 0.
    pub offset: [u32; 3],
}

/// Which way a search runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Depart at a time, earliest arrival.
    Forward,
    /// Arrive by a time, latest departure.
    Backward,
}

impl Direction {
    /// Position `index` of a pattern of `num_stops` stops in this direction's scan order (a
    /// backward scan starts at the last stop); the same mapping turns a scan position back
    /// into a pattern position.
    #[inline]
    pub(crate) fn scan_order(self, num_stops: usize, index: usize) -> usize {
        match self {
            Self::Forward => index,
            Self::Backward => num_stops - 1 - index,
        }
    }

    pub(crate) fn reversed(self) -> Self {
        match self {
            Self::Forward => Self::Backward,
            Self::Backward => Self::Forward,
        }
    }

    /// A time (seconds after the start of slot 0) as a key of this direction.
    pub(crate) fn key(self, time: u32) -> u32 {
        match self {
            Self::Forward => time,
            Self::Backward => MIRROR - time,
        }
    }
}

/// The time frame of one query: the three service days around its date.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Frame {
    pub days: ServiceDays,
    /// Unix time of the start of slot 0 (the service day before the query's date).
    pub base_unix: i64,
}

impl Frame {
    pub(crate) fn new(timetable: &Timetable, date: NaiveDate) -> Result<Self> {
        if timetable.day_index(date).is_none() {
            let first = timetable.meta.first_date;
            let last = timetable.date_of_day(timetable.meta.num_days.saturating_sub(1));
            return Err(Error::DateOutOfRange { date, first, last });
        }
        let tz = timetable.tz;
        let start_of = |date: NaiveDate| service_day_start(tz, date).timestamp();
        let previous = date.pred_opt().unwrap_or(date);
        let next = date.succ_opt().unwrap_or(date);
        let base_unix = start_of(previous);
        let offset = |date: NaiveDate| (start_of(date) - base_unix).max(0) as u32;
        Ok(Self {
            days: ServiceDays {
                day: [
                    timetable.day_index(previous),
                    timetable.day_index(date),
                    timetable.day_index(next),
                ],
                offset: [0, offset(date), offset(next)],
            },
            base_unix,
        })
    }

    /// Unix time of local wall-clock `time_secs` after midnight of `date`.
    pub(crate) fn local_unix(timetable: &Timetable, date: NaiveDate, time_secs: u32) -> i64 {
        let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
        let local = midnight + chrono::Duration::seconds(i64::from(time_secs));
        let tz = timetable.tz;
        tz.from_local_datetime(&local)
            .earliest()
            .or_else(|| tz.from_local_datetime(&(local + chrono::Duration::hours(1))).earliest())
            .map_or_else(|| tz.from_utc_datetime(&local).timestamp(), |time| time.timestamp())
    }

    /// A Unix time as seconds after the start of slot 0 (clamped to the frame).
    pub(crate) fn time(&self, unix: i64) -> u32 {
        (unix - self.base_unix).clamp(0, i64::from(MIRROR / 2)) as u32
    }
}

/// Great-circle distance in metres.
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let half_dphi = (phi2 - phi1) / 2.0;
    let half_dlambda = (lon2 - lon1).to_radians() / 2.0;
    let a = half_dphi.sin().powi(2) + phi1.cos() * phi2.cos() * half_dlambda.sin().powi(2);
    2.0 * 6_371_008.8 * a.sqrt().asin()
}

/// Bounds on the work of one query, set by whoever runs it ([`super::Scratch::set_limits`]): a search
/// past its deadline stops (between RAPTOR rounds, between the departures of a range, between
/// the journeys a via search continues) with [`crate::Error::Stopped`].
#[derive(Clone, Copy, Debug)]
pub struct SearchLimits {
    /// When the answer is no longer wanted (`None`: never).
    pub deadline: Option<std::time::Instant>,
    /// Most journeys to a via station a search continues from.
    pub max_via_heads: usize,
}

impl Default for SearchLimits {
    fn default() -> Self {
        Self { deadline: None, max_via_heads: usize::MAX }
    }
}

impl SearchLimits {
    pub(crate) fn past_deadline(&self) -> bool {
        self.deadline.is_some_and(|deadline| std::time::Instant::now() >= deadline)
    }

    /// `Err(Stopped)` once past the deadline.
    pub(crate) fn check(&self) -> crate::error::Result<()> {
        if self.past_deadline() { Err(crate::Error::Stopped) } else { Ok(()) }
    }
}
