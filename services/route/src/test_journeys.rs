//! Hand-built journeys on the bundled Fukuoka feed, for the unit tests of what consumes the
//! engine's results (rendering, fares): they hold whatever the search finds.

use std::sync::{Arc, OnceLock};

use chrono::NaiveDate;
use norikae_timetable::{PatternIdx, StopIdx, Timetable, TripIdx};

use crate::engine::query::local_unix;
use crate::engine::{Engine, Journey, Leg, WalkEnd};

/// The engine on the bundled feeds, built once per test binary.
pub fn engine() -> Arc<Engine> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| Arc::new(Engine::new(Arc::new(crate::engine::tests::bundled_timetable()))))
        .clone()
}

/// Issue 23's query: 2019-10-16 14:23:58 (Fukuoka), from 天神南 to 天神.
pub fn query_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2019, 10, 16).expect("a date")
}

pub const QUERY_TIME_SECS: u32 = 14 * 3600 + 23 * 60 + 58;
pub const TENJIN_MINAMI: &str = "fukuoka:35";
pub const TENJIN: &str = "fukuoka:8";

/// The first stop of a station.
pub fn stop_of(timetable: &Timetable, station_id: &str) -> StopIdx {
    let station = timetable.station_by_id(station_id).expect("a bundled station");
    timetable.stations[station.idx()].stops[0]
}

/// A journey of one walk, leaving at the query's time.
pub fn on_foot(
    timetable: &Timetable,
    from: WalkEnd,
    to: WalkEnd,
    duration_secs: u32,
    distance_m: u32,
) -> Journey {
    let departure = local_unix(timetable, query_date(), QUERY_TIME_SECS);
    let arrival = departure + i64::from(duration_secs);
    Journey {
        legs: vec![Leg::Walk { from, to, departure, arrival, duration_secs, distance_m }],
        departure,
        arrival,
        transfers: 0,
    }
}

/// 天神南 → 天神 on foot, along the import's walking link: 480 s, 506 m (walking beats every
/// ride there).
pub fn tenjin_on_foot(timetable: &Timetable) -> Journey {
    let from = WalkEnd::Stop(stop_of(timetable, TENJIN_MINAMI));
    let to = WalkEnd::Stop(stop_of(timetable, TENJIN));
    on_foot(timetable, from, to, 480, 506)
}

/// One ride from 天神 to the next stop, on the first trip of a pattern through 天神 that
/// runs on the query's date, after the query's time.
pub fn ride_from_tenjin(timetable: &Timetable) -> Journey {
    let day = timetable.day_index(query_date()).expect("the query's date is in the timetable");
    let day_start = timetable.service_day_start(query_date()).timestamp();
    let tenjin = stop_of(timetable, TENJIN);
    let (pattern, board_position, trip) = timetable
        .patterns_at_stop(tenjin)
        .iter()
        .filter(|at| (at.position as usize) + 1 < timetable.pattern_stops(at.pattern).len())
        .find_map(|at| {
            let position = at.position as usize;
            first_trip_after(timetable, at.pattern, position, day)
                .map(|trip| (at.pattern, position, trip))
        })
        .expect("a trip leaves 天神 that afternoon");
    let times = timetable.stop_times_of_trip(trip);
    let departure = day_start + i64::from(times[board_position].departure);
    let arrival = day_start + i64::from(times[board_position + 1].arrival);
    Journey {
        legs: vec![Leg::Transit {
            trip,
            pattern,
            board_position,
            alight_position: board_position + 1,
            service_day: day,
            departure,
            arrival,
            added: None,
        }],
        departure,
        arrival,
        transfers: 0,
    }
}

fn first_trip_after(
    timetable: &Timetable,
    pattern: PatternIdx,
    position: usize,
    day: u32,
) -> Option<TripIdx> {
    timetable.patterns[pattern.idx()].trips.clone().map(TripIdx).find(|&trip| {
        timetable.trip_runs(trip, day)
            && timetable.stop_times_of_trip(trip)[position].departure >= QUERY_TIME_SECS
    })
}
