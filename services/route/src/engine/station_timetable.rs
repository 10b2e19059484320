//! A station's timetable (時刻表) for one line and direction: every departure of one service
//! day, as a printed timetable lists them (for [`super::Engine::station_timetable`]).

use chrono::NaiveDate;
use norikae_timetable::{RouteIdx, ServiceSecs, StationIdx, StopIdx, Timetable, TripIdx};

use super::service_kind::ServiceKind;
use crate::error::{Error, Result};

/// One departure of the line from the station.
#[derive(Clone, Debug, PartialEq)]
pub struct TimetableDeparture {
    pub trip: TripIdx,
    pub stop: StopIdx,
    /// Seconds of the service day (past 24 h for trips after midnight).
    pub secs: ServiceSecs,
    /// Unix time.
    pub unix: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StationTimetable {
    pub station: StationIdx,
    pub route: RouteIdx,
    pub direction_id: Option<u8>,
    pub date: NaiveDate,
    pub service: ServiceKind,
    pub holiday_name: Option<&'static str>,
    /// Sorted by time, one per trip (its first departure from the station).
    pub departures: Vec<TimetableDeparture>,
}

/// The directions (`direction_id`, `None` where the feed gives none) in which `route` leaves
/// a stop of `station` on some day of the timetable, sorted.
pub fn directions_at(tt: &Timetable, station: StationIdx, route: RouteIdx) -> Vec<Option<u8>> {
    let mut directions = Vec::new();
    for_each_pickup(tt, station, route, |trip, _, _| {
        let direction = tt.trips[trip.idx()].direction_id;
        if !directions.contains(&direction) {
            directions.push(direction);
        }
    });
    directions.sort_by_key(|direction| direction.map_or(u16::MAX, u16::from));
    directions
}

/// Every departure of `route` in `direction` from a stop of `station` on the service day
/// `date`. `direction: None` picks the line's one direction there; a line leaving the
/// station in several needs it (an error naming `direction` lists them).
pub fn build(
    tt: &Timetable,
    station: StationIdx,
    route: RouteIdx,
    direction: Option<u8>,
    date: NaiveDate,
) -> Result<StationTimetable> {
    let available = directions_at(tt, station, route);
    let route_id = &tt.routes[route.idx()].id;
    let station_id = &tt.stations[station.idx()].id;
    if available.is_empty() {
        return Err(Error::InvalidParameter {
            field: "route",
            reason: format!("line `{route_id}` does not leave station `{station_id}`"),
        });
    }
    let listed = || {
        available
            .iter()
            .map(|direction| direction.map_or("none".to_owned(), |id| id.to_string()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let direction_id = match direction {
        Some(asked) if available.contains(&Some(asked)) => Some(asked),
        Some(asked) => {
            return Err(Error::InvalidParameter {
                field: "direction",
                reason: format!(
                    "line `{route_id}` does not leave `{station_id}` in direction {asked} (its \
                     directions there: {})",
                    listed()
                ),
            });
        }
        None if available.len() == 1 => available[0],
        None => {
            return Err(Error::InvalidParameter {
                field: "direction",
                reason: format!(
                    "line `{route_id}` leaves `{station_id}` in several directions: {}",
                    listed()
                ),
            });
        }
    };
    // Checked after the line and direction, which would be wrong on any date.
    let day = tt.day_index(date).ok_or_else(|| Error::DateOutOfRange {
        date,
        first: tt.meta.first_date,
        last: tt.date_of_day(tt.meta.num_days.saturating_sub(1)),
    })?;
    let day_start = tt.service_day_start(date).timestamp();
    let mut departures: Vec<TimetableDeparture> = Vec::new();
    for_each_pickup(tt, station, route, |trip, stop, secs| {
        if tt.trips[trip.idx()].direction_id != direction_id || !tt.trip_runs(trip, day) {
            return;
        }
        departures.push(TimetableDeparture { trip, stop, secs, unix: day_start + i64::from(secs) });
    });
    // A trip calling at two stops of the station is listed once, at its first departure.
    departures.sort_by_key(|departure| (departure.trip, departure.secs));
    departures.dedup_by_key(|departure| departure.trip);
    departures.sort_by_key(|departure| (departure.secs, departure.trip));
    let agency = &tt.agencies[tt.routes[route.idx()].agency.idx()];
    let (service, holiday_name) = ServiceKind::of_services(
        tt,
        departures.iter().map(|departure| tt.trip_services[departure.trip.idx()]),
        date,
        agency.timezone == "Asia/Tokyo",
    );
    Ok(StationTimetable { station, route, direction_id, date, service, holiday_name, departures })
}

/// Calls `visit(trip, stop, departure)` for every trip of `route` that passengers may board
/// at a stop of `station` and ride on from (not at its last stop).
fn for_each_pickup(
    tt: &Timetable,
    station: StationIdx,
    route: RouteIdx,
    mut visit: impl FnMut(TripIdx, StopIdx, ServiceSecs),
) {
    for &stop in &tt.stations[station.idx()].stops {
        for at_stop in tt.patterns_at_stop(stop) {
            let pattern = &tt.patterns[at_stop.pattern.idx()];
            let position = at_stop.position as usize;
            if pattern.route != route
                || position + 1 >= pattern.num_stops()
                || !tt.pattern_stop_rules(at_stop.pattern)[position].pickup()
            {
                continue;
            }
            for (trip_in_pattern, trip) in pattern.trips.clone().enumerate() {
                let times = tt.trip_stop_times(at_stop.pattern, trip_in_pattern);
                visit(TripIdx(trip), stop, times[position].departure);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;

    fn timetable() -> &'static Timetable {
        static TIMETABLE: OnceLock<Timetable> = OnceLock::new();
        TIMETABLE.get_or_init(crate::engine::tests::bundled_timetable)
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
    }

    /// Brute force over the stop times: every trip of the line in the direction that runs on
    /// the date and stops at Tenjin with a stop after it.
    fn brute_force(
        tt: &Timetable,
        station: StationIdx,
        route: RouteIdx,
        direction: u8,
        on: NaiveDate,
    ) -> Vec<ServiceSecs> {
        let day = tt.day_index(on).expect("in range");
        let mut times = Vec::new();
        for trip in 0..tt.trips.len() {
            let data = &tt.trips[trip];
            if data.route != route
                || data.direction_id != Some(direction)
                || !tt.trip_runs(TripIdx::from(trip), day)
            {
                continue;
            }
            let stops = tt.pattern_stops(data.pattern);
            let stop_times = tt.stop_times_of_trip(TripIdx::from(trip));
            if let Some(position) = stops[..stops.len() - 1]
                .iter()
                .position(|stop| tt.stops[stop.idx()].station == station)
            {
                times.push(stop_times[position].departure);
            }
        }
        times.sort_unstable();
        times
    }

    #[test]
    fn tenjin_toward_the_airport_lists_the_whole_service_day() {
        let tt = timetable();
        let tenjin = tt.station_by_id("fukuoka:8").expect("Tenjin");
        let kuko = tt.route_by_id("fukuoka:空港線").expect("Kuko line");
        assert_eq!(directions_at(tt, tenjin, kuko), [Some(0), Some(1)]);
        for (on, kind) in [
            ("2019-06-05", ServiceKind::Weekday),
            // The subway runs one timetable on Saturdays, Sundays and holidays (土日祝).
            ("2019-06-08", ServiceKind::SaturdayAndHoliday),
            ("2019-06-09", ServiceKind::SaturdayAndHoliday),
            ("2019-07-15", ServiceKind::SaturdayAndHoliday),
        ] {
            let timetable = build(tt, tenjin, kuko, Some(0), date(on)).expect("a timetable");
            assert_eq!(timetable.service, kind, "{on}");
            let secs: Vec<ServiceSecs> =
                timetable.departures.iter().map(|departure| departure.secs).collect();
            assert_eq!(secs, brute_force(tt, tenjin, kuko, 0, date(on)), "{on}");
            assert!(secs.len() > 100, "{on}: {} departures", secs.len());
            assert!(secs[0] < 6 * 3600, "the first train leaves before six: {}", secs[0]);
            assert!(*secs.last().expect("departures") >= 24 * 3600, "the last one after midnight");
        }
        let weekday = build(tt, tenjin, kuko, Some(0), date("2019-06-05")).expect("weekday");
        let sunday = build(tt, tenjin, kuko, Some(0), date("2019-06-09")).expect("sunday");
        assert!(weekday.departures.len() > sunday.departures.len(), "fewer trains on Sundays");
    }

    #[test]
    fn the_day_is_named_by_the_services_that_run_it() {
        let tt = timetable();
        let tenjin = tt.station_by_id("fukuoka:8").expect("Tenjin");
        let kuko = tt.route_by_id("fukuoka:空港線").expect("Kuko line");
        // The feed runs its weekday service on this substitute holiday (it was published
        // before the holiday moved): the timetable is the weekday one, the holiday named.
        let substitute = build(tt, tenjin, kuko, Some(0), date("2020-02-24")).expect("a day");
        assert_eq!(substitute.service, ServiceKind::Weekday);
        assert_eq!(substitute.holiday_name, Some("振替休日"));
        let weekday = build(tt, tenjin, kuko, Some(0), date("2020-02-25")).expect("a day");
        assert_eq!(substitute.departures.len(), weekday.departures.len());
        // A holiday on which the Saturday-and-holiday service runs.
        let marine_day = build(tt, tenjin, kuko, Some(0), date("2019-07-15")).expect("a day");
        assert_eq!(marine_day.service, ServiceKind::SaturdayAndHoliday);
        assert_eq!(marine_day.holiday_name, Some("海の日"));
    }

    #[test]
    fn a_line_in_two_directions_needs_one_and_an_unserved_station_is_refused() {
        let tt = timetable();
        let tenjin = tt.station_by_id("fukuoka:8").expect("Tenjin");
        let kuko = tt.route_by_id("fukuoka:空港線").expect("Kuko line");
        let on = date("2019-06-05");
        let error = build(tt, tenjin, kuko, None, on).expect_err("two directions");
        assert_eq!(error.field(), Some("direction"), "{error}");
        let error = build(tt, tenjin, kuko, Some(7), on).expect_err("no direction 7");
        assert_eq!(error.field(), Some("direction"), "{error}");
        let okayama = tt.station_by_id("okaden:18_10").expect("Okayama");
        let error = build(tt, okayama, kuko, Some(0), on).expect_err("not in Okayama");
        assert_eq!(error.field(), Some("route"), "{error}");
        let error = build(tt, tenjin, kuko, Some(0), date("1999-01-01")).expect_err("range");
        assert_eq!(error.field(), Some("date"), "{error}");
    }

    #[test]
    fn the_subways_weekday_service_stops_on_exactly_the_derived_national_holidays() {
        use chrono::Datelike;
        let tt = timetable();
        let weekday_trip = tt
            .trips
            .iter()
            .position(|trip| trip.id.starts_with("fukuoka:") && trip.id.contains("平日"))
            .expect("a weekday trip");
        let service = tt.trip_services[weekday_trip];
        let feed = tt.feeds.iter().find(|feed| feed.name == "fukuoka").expect("fukuoka");
        let mut disagreements = Vec::new();
        let mut holidays = 0;
        let mut date = feed.first_date;
        while date <= feed.last_date {
            let is_weekday = date.weekday().number_from_monday() <= 5;
            let day = tt.day_index(date).expect("in range");
            let holiday = super::super::service_kind::national_holiday(date).is_some();
            holidays += usize::from(holiday && is_weekday);
            if is_weekday && tt.service_runs(service, day) == holiday {
                disagreements.push(date.to_string());
            }
            date = date.succ_opt().expect("a next day");
        }
        // The feed (published March 2019) misses one: 2020-02-24, the first substitute
        // holiday for the Emperor's Birthday on its new date (Sunday 2020-02-23).
        assert_eq!(disagreements, ["2020-02-24"]);
        assert!(holidays >= 15, "{holidays}");
    }
}
