//! Imports of the bundled real feeds (`data/feeds`), together and separately, asserting facts
//! a traveller would check against the published timetables.

use std::sync::OnceLock;

use norikae_timetable::{
    FeedInput, ImportOptions, NoProgress, StopIdx, Timetable, bundled, import,
};

fn all_feeds() -> &'static Timetable {
    static TIMETABLE: OnceLock<Timetable> = OnceLock::new();
    TIMETABLE.get_or_init(|| {
        bundled::import_feeds(&bundled::repo_feeds_dir()).expect("bundled feeds import")
    })
}

fn stop(timetable: &Timetable, id: &str) -> StopIdx {
    timetable.stop_by_id(id).unwrap_or_else(|| panic!("stop {id} exists"))
}

#[test]
fn okayama_station_is_one_station_across_the_three_bus_feeds() {
    let timetable = all_feeds();
    let shared = stop(timetable, "ryobi:18_1");
    assert_eq!(timetable.stop_by_id("okaden:18_1"), Some(shared), "okaden's 18_1 is the same stop");
    assert_eq!(
        timetable.stop_by_id("chutetsu:18_1"),
        Some(shared),
        "chutetsu's 18_1 is the same stop"
    );
    let record = &timetable.stops[shared.idx()];
    assert_eq!(record.id, "ryobi:18_1");
    assert_eq!(record.aliases, vec!["okaden:18_1".to_owned(), "chutetsu:18_1".to_owned()]);
    assert_eq!(record.feeds.len(), 3);

    let station = &timetable.stations[record.station.idx()];
    assert_eq!(station.name.default, "岡山駅");
    // The platform stops only one feed has (ryobi's 18_9, okaden's 18_10) are in it too.
    for member in ["ryobi:18_9", "okaden:18_10", "ryobi:18_2", "ryobi:18_8"] {
        assert_eq!(
            timetable.stops[stop(timetable, member).idx()].station,
            record.station,
            "{member} is part of 岡山駅"
        );
    }
    assert!(
        station.stops.len() >= 10,
        "岡山駅 has its many platform stops: {}",
        station.stops.len()
    );
    let agencies: Vec<&str> = station
        .agencies
        .iter()
        .map(|agency| timetable.agencies[agency.idx()].name.default.as_str())
        .collect();
    for operator in ["両備バス", "岡山電気軌道(バス)", "中鉄バス株式会社"] {
        assert!(agencies.contains(&operator), "{operator} serves 岡山駅: {agencies:?}");
    }
    assert!(!station.routes.is_empty());
    assert!(station.departures_per_day > 500, "岡山駅 is busy: {}", station.departures_per_day);
    // Only one station is called 岡山駅.
    assert_eq!(
        timetable.stations.iter().filter(|candidate| candidate.name.default == "岡山駅").count(),
        1
    );
}

#[test]
fn tenjin_to_tenjin_minami_walk_is_480_seconds() {
    let timetable = all_feeds();
    let tenjin = timetable.station_by_id("fukuoka:8").expect("天神");
    let tenjin_minami = timetable.station_by_id("fukuoka:35").expect("天神南");
    assert_eq!(timetable.stations[tenjin.idx()].name.default, "天神");
    assert_eq!(timetable.stations[tenjin_minami.idx()].name.default, "天神南");
    for from in &timetable.stations[tenjin.idx()].stops {
        for to in &timetable.stations[tenjin_minami.idx()].stops {
            let link = timetable.footpaths(*from).iter().find(|footpath| footpath.to == *to);
            assert_eq!(
                link.map(|footpath| footpath.duration_secs),
                Some(480),
                "{} → {}",
                timetable.stops[from.idx()].id,
                timetable.stops[to.idx()].id
            );
            let back = timetable.footpaths(*to).iter().find(|footpath| footpath.to == *from);
            assert_eq!(back.map(|footpath| footpath.duration_secs), Some(480));
        }
    }
}

#[test]
fn a_fukuoka_airport_line_trip_runs_past_midnight() {
    let timetable = all_feeds();
    let trip = timetable
        .trip_by_id("fukuoka:空港線平日空港線平日福岡空港288")
        .expect("the late airport-line trip");
    let times = timetable.stop_times_of_trip(trip);
    let at_tenjin = timetable
        .pattern_stops(timetable.trips[trip.idx()].pattern)
        .iter()
        .position(|stop| timetable.stops[stop.idx()].id == "fukuoka:8_1")
        .expect("the trip calls at 天神");
    assert_eq!(times[at_tenjin].departure, 24 * 3600 + 4 * 60, "leaves 天神 at 24:04:00");
    assert!(times.last().expect("stop times").arrival > 24 * 3600);
    // Single-digit hours (`5:39:00`) are read as 05:39.
    let earliest = timetable
        .trips
        .iter()
        .enumerate()
        .filter(|(_, trip)| trip.id.starts_with("fukuoka:"))
        .map(|(position, _)| timetable.stop_times_of_trip(position.into())[0].departure)
        .min();
    assert_eq!(
        earliest,
        Some(5 * 3600 + 30 * 60).min(earliest),
        "first departures are around 5:30"
    );
    assert!(earliest.is_some_and(|secs| (5 * 3600..6 * 3600).contains(&secs)));
}

#[test]
fn readings_in_katakana_and_hiragana_are_both_kept() {
    let timetable = all_feeds();
    let okayama = &timetable.stations[timetable.station_by_id("ryobi:18_1").expect("岡山駅").idx()];
    assert_eq!(okayama.reading.as_deref(), Some("オカヤマエキ"));
    assert_eq!(okayama.name.get("en"), "Okayama Sta.");
    let tenjin = &timetable.stations[timetable.station_by_id("fukuoka:8").expect("天神").idx()];
    assert_eq!(tenjin.reading.as_deref(), Some("てんじん"));
    assert_eq!(tenjin.name.get("en"), "Tenjin");
}

#[test]
fn feeds_keep_their_counts_dates_and_time_zone() {
    let timetable = all_feeds();
    assert_eq!(timetable.meta.timezone, "Asia/Tokyo");
    let names: Vec<&str> = timetable.feeds.iter().map(|feed| feed.name.as_str()).collect();
    assert_eq!(names, ["ryobi", "okaden", "chutetsu", "fukuoka"]);
    let ryobi = &timetable.feeds[0];
    assert_eq!(ryobi.counts.stops, 1876);
    assert_eq!(ryobi.counts.routes, 172);
    assert_eq!(ryobi.counts.trips, 1687);
    assert_eq!(ryobi.counts.stop_times, 48_303);
    let fukuoka = &timetable.feeds[3];
    assert_eq!(fukuoka.counts.trips, 1953);
    assert_eq!(fukuoka.counts.stop_times, 22_785);
    assert_eq!(fukuoka.first_date.to_string(), "2019-03-16");
    assert_eq!(fukuoka.last_date.to_string(), "2020-03-31");
    assert_eq!(timetable.meta.first_date.to_string(), "2019-03-16");
    // Fukuoka's subway lines keep their colours and mode.
    let airport_line =
        &timetable.routes[timetable.route_by_id("fukuoka:空港線").expect("空港線").idx()];
    assert_eq!(airport_line.color.as_deref(), Some("F7931D"));
    assert_eq!(airport_line.mode.as_str(), "subway");
    // Fares are kept.
    assert!(
        timetable.fares.attributes.iter().any(|fare| fare.id == "fukuoka:1_to_2"
            && fare.price == 200.0
            && fare.currency == "JPY")
    );
}

#[test]
fn patterns_never_overtake_and_trips_are_sorted() {
    let timetable = all_feeds();
    for (position, pattern) in timetable.patterns.iter().enumerate() {
        for trip in 1..pattern.num_trips() {
            let earlier = timetable.trip_stop_times(position.into(), trip - 1);
            let later = timetable.trip_stop_times(position.into(), trip);
            for (a, b) in earlier.iter().zip(later) {
                assert!(
                    a.departure <= b.departure && a.arrival <= b.arrival,
                    "pattern {position} trips {} and {trip}",
                    trip - 1
                );
            }
        }
        for trip in pattern.trips.clone() {
            assert_eq!(timetable.trips[trip as usize].pattern.idx(), position);
        }
    }
    // The stop → pattern index points back at the stop.
    for stop in 0..timetable.stops.len() {
        for entry in timetable.patterns_at_stop(stop.into()) {
            assert_eq!(timetable.pattern_stops(entry.pattern)[entry.position as usize].idx(), stop);
        }
    }
}

#[test]
fn each_feed_imports_on_its_own() {
    for (name, path) in bundled::FEEDS {
        let input = FeedInput::new(name, bundled::repo_feeds_dir().join(path));
        let (timetable, _) = import(&[input], &ImportOptions::default(), &NoProgress).expect(name);
        assert_eq!(timetable.feeds.len(), 1);
        assert!(timetable.trips.len() > 100, "{name}");
        let first_stop = &timetable.stops[0];
        assert!(first_stop.id.starts_with(&format!("{name}:")), "{}", first_stop.id);
        assert!(first_stop.aliases.is_empty());
    }
}
