//! Departure boards: the next departures from a station's stops, grouped by line and
//! direction (for [`super::Engine::departures`]).

use chrono::NaiveDate;
use norikae_realtime::Overlay;
use norikae_timetable::{PatternIdx, RouteIdx, StationIdx, StopIdx, Timetable, TripIdx};

use super::types::Frame;
use crate::error::Result;

/// Departures later than this after the requested time are not listed.
const HORIZON_SECS: u32 = 24 * 3600;

/// With realtime data, trips timetabled this long before the requested time are looked at
/// too: one of them may be late enough to leave after it.
const REALTIME_LOOKBACK_SECS: u32 = 2 * 3600;

/// One departure of a trip from a stop of the station.
#[derive(Clone, Debug, PartialEq)]
pub struct Departure {
    pub trip: TripIdx,
    pub pattern: PatternIdx,
    pub stop: StopIdx,
    /// Position of `stop` in the pattern.
    pub position: usize,
    /// Service day (day number) the trip runs on.
    pub service_day: u32,
    /// Unix time, as timetabled.
    pub departure: i64,
    /// What the realtime feeds say about it.
    pub realtime: Option<LiveDeparture>,
}

/// A departure by the realtime feeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiveDeparture {
    /// Unix time.
    pub expected: i64,
    pub cancelled: bool,
    /// Passes without stopping.
    pub skipped: bool,
    /// The stop (platform of the same station) it now leaves from, if changed.
    pub assigned_stop: Option<StopIdx>,
}

impl Departure {
    /// When it leaves: expected where the feeds say, else timetabled.
    pub fn effective(&self) -> i64 {
        self.realtime.map_or(self.departure, |live| live.expected)
    }
}

/// The departures of one line in one direction.
#[derive(Clone, Debug, PartialEq)]
pub struct DepartureGroup {
    pub route: RouteIdx,
    /// GTFS direction_id where the feed gives it.
    pub direction_id: Option<u8>,
    /// Headsign of the group's first departure (departures carry their own).
    pub headsign: String,
    pub departures: Vec<Departure>,
}

/// The next departures from `station` at or after local `time_secs` on `date`: at most
/// `limit` per line and direction, groups ordered by their first departure. With an
/// `overlay` (for this timetable), departures carry their expected times and are listed
/// and ordered by them; cancelled ones stay, flagged.
pub(crate) fn board(
    tt: &Timetable,
    station: StationIdx,
    date: NaiveDate,
    time_secs: u32,
    limit: usize,
    overlay: Option<&Overlay>,
) -> Result<Vec<DepartureGroup>> {
    let overlay = overlay.filter(|overlay| overlay.fits(tt) && overlay.num_trips() > 0);
    let frame = Frame::new(tt, date)?;
    let at = Frame::local_unix(tt, date, time_secs);
    let start = frame.time(at);
    let end = start + HORIZON_SECS;
    let lookback = if overlay.is_some() { REALTIME_LOOKBACK_SECS } else { 0 };
    let mut found = Vec::new();
    for &stop in &tt.stations[station.idx()].stops {
        for at_stop in tt.patterns_at_stop(stop) {
            let pattern_idx = at_stop.pattern;
            let pattern = &tt.patterns[pattern_idx.idx()];
            let position = at_stop.position as usize;
            let num_stops = pattern.num_stops();
            if position + 1 >= num_stops || !tt.pattern_stop_rules(pattern_idx)[position].pickup() {
                continue;
            }
            let times = &tt.stop_times[pattern.stop_times_start as usize..];
            for slot in 0..3 {
                let Some(day) = frame.days.day[slot] else { continue };
                let offset = frame.days.offset[slot];
                let threshold = start.saturating_sub(offset).saturating_sub(lookback);
                let first = times
                    .chunks(num_stops)
                    .take(pattern.num_trips())
                    .position(|trip_times| trip_times[position].departure >= threshold);
                let Some(first) = first else { continue };
                let mut taken = 0;
                for trip_in_pattern in first..pattern.num_trips() {
                    let departure =
                        times[trip_in_pattern * num_stops + position].departure + offset;
                    if departure >= end || taken >= limit {
                        break;
                    }
                    let trip = TripIdx(pattern.trips.start + trip_in_pattern as u32);
                    if !tt.trip_runs(trip, day) {
                        continue;
                    }
                    let day_origin = frame.base_unix + i64::from(offset);
                    let realtime = overlay.and_then(|overlay| {
                        let live = overlay.trip(trip, day)?;
                        let expected = live
                            .stops
                            .get(position)
                            .map_or(i64::from(departure - offset), |stop| {
                                i64::from(stop.departure)
                            });
                        Some(LiveDeparture {
                            expected: day_origin + expected,
                            cancelled: live.cancelled,
                            skipped: live.stops.get(position).is_some_and(|stop| stop.skipped()),
                            assigned_stop: live.assigned_stop(position),
                        })
                    });
                    let listed = Departure {
                        trip,
                        pattern: pattern_idx,
                        stop,
                        position,
                        service_day: day,
                        departure: frame.base_unix + i64::from(departure),
                        realtime,
                    };
                    if listed.effective() < frame.base_unix + i64::from(start) {
                        continue;
                    }
                    taken += 1;
                    found.push(listed);
                }
            }
        }
    }
    found.sort_by_key(|departure| (departure.effective(), departure.trip));
    let mut groups: Vec<DepartureGroup> = Vec::new();
    for departure in found {
        let trip = &tt.trips[departure.trip.idx()];
        let headsign = headsign(tt, departure.trip);
        let group = groups.iter_mut().find(|group| {
            group.route == trip.route
                && match trip.direction_id {
                    Some(direction) => group.direction_id == Some(direction),
                    None => group.direction_id.is_none() && group.headsign == headsign,
                }
        });
        match group {
            Some(group) => {
                if group.departures.len() < limit {
                    group.departures.push(departure);
                }
            }
            None => groups.push(DepartureGroup {
                route: trip.route,
                direction_id: trip.direction_id,
                headsign,
                departures: vec![departure],
            }),
        }
    }
    Ok(groups)
}

/// A trip's headsign, or the name of its last stop when the feed gives none.
pub(crate) fn headsign(tt: &Timetable, trip: TripIdx) -> String {
    let trip_data = &tt.trips[trip.idx()];
    if !trip_data.headsign.default.is_empty() {
        return trip_data.headsign.default.clone();
    }
    tt.pattern_stops(trip_data.pattern)
        .last()
        .map(|stop| tt.stops[stop.idx()].name.default.clone())
        .unwrap_or_default()
}
