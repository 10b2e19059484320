//! The first and last journeys of a service day (始発 / 終電) against a brute-force check
//! over the independent GTFS reference (`common::gtfs_reference`) on every bundled feed:
//!
//! - first: its arrival is the reference's earliest arrival (with at least one vehicle)
//!   leaving at or after 03:00, and no later departure still makes that arrival;
//! - last: its departure is the latest second from which the reference still arrives by
//!   27:00 (found by bisection over the day: the earliest arrival never decreases with the
//!   departure), and its arrival is the reference's from then.

mod common;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use common::gtfs_reference::{FeedFiles, GtfsReference, ReferenceDay};
use norikae_route::engine::first_last::DAY_CHANGE_SECS;
use norikae_route::engine::{Engine, Journey, Options, Place, Request, Scratch, SearchKind};
use norikae_timetable::{StationIdx, Timetable};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const BUNDLED_FEEDS: [&str; 4] = ["ryobi", "okaden", "chutetsu", "fukuoka"];
/// Station pairs per feed.
const PAIRS_PER_FEED: usize = 8;
const MAX_TRANSFERS: u8 = 5;
const MAX_VEHICLES: usize = MAX_TRANSFERS as usize + 1;

fn bundled_reference() -> &'static GtfsReference {
    static REFERENCE: OnceLock<GtfsReference> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        use norikae_timetable::bundled;
        let feeds: Vec<FeedFiles> = bundled::FEEDS
            .iter()
            .map(|(name, path)| FeedFiles::new(name, &bundled::repo_feeds_dir().join(path)))
            .collect();
        GtfsReference::new(common::timetable(), &feeds)
    })
}

fn local_unix(tt: &Timetable, date: NaiveDate, secs_after_midnight: u32) -> i64 {
    use chrono::TimeZone;
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight");
    let local = tt.tz.from_local_datetime(&midnight).single().expect("one local midnight");
    local.timestamp() + i64::from(secs_after_midnight)
}

/// The reference's earliest arrival riding at least one vehicle, leaving at or after `at`.
fn earliest_ride(day: &ReferenceDay<'_>, from: StationIdx, to: StationIdx, at: i64) -> Option<i64> {
    day.arrivals_by_vehicles(from, to, at, MAX_VEHICLES).with_vehicles.into_iter().flatten().min()
}

fn request(from: StationIdx, to: StationIdx, date: NaiveDate) -> Request {
    Request {
        from: Place::Station(from),
        to: Place::Station(to),
        date,
        time_secs: 12 * 3600,
        kind: SearchKind::DepartAt,
        options: Options { max_transfers: MAX_TRANSFERS, ..Options::default() },
    }
}

/// Station pairs of `feed` that some journey joins at midday (so most have a first and last
/// journey), drawn with a fixed seed.
fn pairs(
    engine: &Engine,
    scratch: &mut Scratch,
    feed: &str,
    date: NaiveDate,
) -> Vec<(StationIdx, StationIdx)> {
    let tt = &**engine.timetable();
    let stations = common::stations_of_feed(tt, common::feed(tt, feed));
    let mut rng = StdRng::seed_from_u64(27);
    let mut found = Vec::new();
    for _ in 0..400 {
        if found.len() == PAIRS_PER_FEED {
            break;
        }
        let from = stations[rng.random_range(0..stations.len())];
        let to = stations[rng.random_range(0..stations.len())];
        if from == to {
            continue;
        }
        let journeys = engine.search(&request(from, to, date), scratch).expect("a search");
        if journeys.iter().any(|journey| journey.legs.iter().any(|leg| leg.is_transit())) {
            found.push((from, to));
        }
    }
    found
}

fn describe(reference: &GtfsReference, journey: Option<&Journey>) -> String {
    journey.map_or_else(|| "none".to_owned(), |journey| reference.describe(journey))
}

#[test]
fn first_and_last_journeys_match_a_brute_force_scan_on_the_bundled_feeds() {
    let reference = bundled_reference();
    let tt = &**reference.timetable();
    let engine = Engine::new(common::timetable());
    let mut scratch = Scratch::new(tt);
    let mut checked = (0, 0);
    let mut engine_time = (Duration::ZERO, Duration::ZERO);
    let mut wrong = Vec::new();
    for feed in BUNDLED_FEEDS {
        let date = common::test_date(feed);
        let day = reference.day(date);
        let begins = local_unix(tt, date, DAY_CHANGE_SECS);
        let ends = local_unix(tt, date, 24 * 3600 + DAY_CHANGE_SECS);
        for (from, to) in pairs(&engine, &mut scratch, feed, date) {
            let name = format!(
                "{feed} {} → {} on {date}",
                reference.station_name(from),
                reference.station_name(to)
            );
            let request = request(from, to, date);

            // 始発.
            let started = Instant::now();
            let first = engine.first_journey(&request, &mut scratch).expect("first runs");
            engine_time.0 += started.elapsed();
            let expected_arrival = earliest_ride(&day, from, to, begins).filter(|at| *at <= ends);
            match (&first, expected_arrival) {
                (None, None) => {}
                (Some(journey), Some(arrival)) => {
                    checked.0 += 1;
                    if let Err(error) = reference.validate(journey) {
                        wrong.push(format!("{name}: first breaks the rules: {error}"));
                    }
                    if journey.arrival != arrival {
                        wrong.push(format!(
                            "{name}: first arrives {} but the earliest arrival is {}: {}",
                            reference.clock(journey.arrival),
                            reference.clock(arrival),
                            describe(reference, first.as_ref())
                        ));
                    } else if earliest_ride(&day, from, to, journey.departure + 1)
                        .is_some_and(|later| later <= arrival)
                    {
                        wrong.push(format!(
                            "{name}: first leaves {} though a later departure arrives as early",
                            reference.clock(journey.departure)
                        ));
                    }
                }
                (found, expected) => wrong.push(format!(
                    "{name}: first is {} but the reference's earliest arrival is {:?}",
                    describe(reference, found.as_ref()),
                    expected.map(|at| reference.clock(at))
                )),
            }

            // 終電: bisection for the latest departure still arriving by the day's end.
            let started = Instant::now();
            let last = engine.last_journey(&request, &mut scratch).expect("last runs");
            engine_time.1 += started.elapsed();
            let arrives_in_time =
                |at: i64| earliest_ride(&day, from, to, at).is_some_and(|arrival| arrival <= ends);
            let latest_departure = arrives_in_time(begins).then(|| {
                let (mut good, mut bad) = (begins, ends + 1);
                while bad - good > 1 {
                    let middle = good + (bad - good) / 2;
                    if arrives_in_time(middle) {
                        good = middle;
                    } else {
                        bad = middle;
                    }
                }
                good
            });
            match (&last, latest_departure) {
                (None, None) => {}
                (Some(journey), Some(departure)) => {
                    checked.1 += 1;
                    if let Err(error) = reference.validate(journey) {
                        wrong.push(format!("{name}: last breaks the rules: {error}"));
                    }
                    let arrival = earliest_ride(&day, from, to, departure);
                    if journey.departure != departure || Some(journey.arrival) != arrival {
                        wrong.push(format!(
                            "{name}: last is {} but the latest departure arriving by 27:00 is {} \
                             (arriving {:?})",
                            describe(reference, last.as_ref()),
                            reference.clock(departure),
                            arrival.map(|at| reference.clock(at))
                        ));
                    }
                }
                (found, expected) => wrong.push(format!(
                    "{name}: last is {} but the reference's latest departure is {:?}",
                    describe(reference, found.as_ref()),
                    expected.map(|at| reference.clock(at))
                )),
            }
        }
    }
    eprintln!("first journeys checked: {}, last journeys checked: {}", checked.0, checked.1);
    let queries = (BUNDLED_FEEDS.len() * PAIRS_PER_FEED) as f64;
    eprintln!(
        "engine time per query (this build's profile): first {:.1} ms, last {:.1} ms",
        engine_time.0.as_secs_f64() * 1000.0 / queries,
        engine_time.1.as_secs_f64() * 1000.0 / queries
    );
    assert!(wrong.is_empty(), "{} wrong:\n{}", wrong.len(), wrong.join("\n"));
    assert!(checked.0 >= 20 && checked.1 >= 20, "too few pairs with journeys: {checked:?}");
}

#[test]
fn the_last_subway_from_tenjin_leaves_after_midnight_and_the_first_before_six() {
    let engine = Engine::new(common::timetable());
    let tt = &**engine.timetable();
    let mut scratch = Scratch::new(tt);
    let tenjin = tt.station_by_id("fukuoka:8").expect("Tenjin");
    let meinohama = tt.station_by_id("fukuoka:1").expect("Meinohama");
    let date = common::test_date("fukuoka");
    let request = request(tenjin, meinohama, date);
    let last = engine.last_journey(&request, &mut scratch).expect("runs").expect("a last train");
    let midnight = local_unix(tt, date, 24 * 3600);
    assert!(last.departure >= midnight, "the Kuko line's last train leaves after midnight");
    let first = engine.first_journey(&request, &mut scratch).expect("runs").expect("a first train");
    assert!(first.departure < local_unix(tt, date, 6 * 3600), "the first train leaves before six");
    assert!(first.departure >= local_unix(tt, date, DAY_CHANGE_SECS));
}
