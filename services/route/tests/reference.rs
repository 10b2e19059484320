//! The engines against the independent GTFS reference (`common::gtfs_reference`): on the
//! bundled feeds (random station-to-station depart-at queries) and on the transfer-rules
//! fixture (every pair of stations at several times), the earliest arrival with at most k
//! vehicles (0: walking alone) is the reference's for every k, every journey keeps the
//! feed's rules, and none visits a station twice; once with RAPTOR and once with Trip-Based
//! routing. The reference itself is held to the fixture's hand-worked answers
//! (`tests/fixtures/rules/README.md`).

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use chrono::NaiveDate;
use common::gtfs_reference::{ArrivalsByVehicles, FeedFiles, GtfsReference, ReferenceDay};
use norikae_route::engine::{Engine, Journey, Options, Place, Request, Scratch, SearchKind};
use norikae_timetable::{
    FeedInput, ImportOptions, ImportReport, NoProgress, StationIdx, Timetable,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const BUNDLED_FEEDS: [&str; 4] = ["ryobi", "okaden", "chutetsu", "fukuoka"];
/// Random queries per bundled feed; `NORIKAE_REFERENCE_QUERIES` sets another number (to
/// hunt for rare disagreements).
const QUERIES_PER_FEED: usize = 400;
/// Enough transfers that no earliest arrival needs more.
const MAX_TRANSFERS: u8 = 12;
const MAX_VEHICLES: usize = MAX_TRANSFERS as usize + 1;
/// The fixture's weekday (the Tuesday before is a holiday).
const FIXTURE_DATE: (i32, u32, u32) = (2026, 6, 3);
/// Query times on the fixture.
const FIXTURE_TIMES: [&str; 9] = [
    "00:10:00", "07:20:00", "07:45:00", "07:55:00", "08:25:00", "08:50:00", "09:55:00", "10:55:00",
    "12:00:00",
];
/// Failures shown in full per kind (all are counted).
const EXAMPLES_PER_KIND: usize = 5;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules")
}

fn fixture_date() -> NaiveDate {
    let (year, month, day) = FIXTURE_DATE;
    NaiveDate::from_ymd_opt(year, month, day).expect("valid date")
}

fn secs(clock: &str) -> u32 {
    let parts: Vec<u32> = clock.split(':').map(|part| part.parse().expect("a number")).collect();
    parts[0] * 3600 + parts[1] * 60 + parts[2]
}

/// The fixture imported as feed `rules`, with the import's report.
fn fixture() -> &'static (Arc<Timetable>, ImportReport) {
    static FIXTURE: OnceLock<(Arc<Timetable>, ImportReport)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let feeds = [FeedInput::new("rules", fixture_dir())];
        let (timetable, report) =
            norikae_timetable::import(&feeds, &ImportOptions::default(), &NoProgress)
                .expect("the fixture imports");
        (Arc::new(timetable), report)
    })
}

fn fixture_reference() -> &'static GtfsReference {
    static REFERENCE: OnceLock<GtfsReference> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        let feeds = [FeedFiles::new("rules", &fixture_dir())];
        GtfsReference::new(Arc::clone(&fixture().0), &feeds)
    })
}

fn bundled_reference() -> &'static GtfsReference {
    static REFERENCE: OnceLock<GtfsReference> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        use norikae_timetable::bundled;
        let started = Instant::now();
        let feeds: Vec<FeedFiles> = bundled::FEEDS
            .iter()
            .map(|(name, path)| FeedFiles::new(name, &bundled::repo_feeds_dir().join(path)))
            .collect();
        let reference = GtfsReference::new(common::timetable(), &feeds);
        eprintln!("bundled reference read in {:.1} s", started.elapsed().as_secs_f64());
        for note in &reference.notes {
            eprintln!("  reference: {note}");
        }
        reference
    })
}

fn queries_per_feed() -> usize {
    std::env::var("NORIKAE_REFERENCE_QUERIES")
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(QUERIES_PER_FEED)
}

fn station(tt: &Timetable, id: &str) -> StationIdx {
    tt.station_by_id(id).unwrap_or_else(|| panic!("no station {id}"))
}

/// Unix time of local `clock` on `date`.
fn unix(tt: &Timetable, date: NaiveDate, clock: &str) -> i64 {
    local_unix(tt, date, secs(clock))
}

/// Unix time of `secs_after_midnight` local time on `date` (the networks under test keep no
/// daylight saving time, so every local time exists once).
fn local_unix(tt: &Timetable, date: NaiveDate, secs_after_midnight: u32) -> i64 {
    use chrono::TimeZone;
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight");
    let local = tt.tz.from_local_datetime(&midnight).single().expect("one local midnight");
    local.timestamp() + i64::from(secs_after_midnight)
}

/// A query on the fixture and its earliest arrivals with at most 0, 1, 2 and 3 vehicles:
/// `(from, to, date, time, arrivals)`, stops by their id in the fixture.
type HandWorked<'a> = (&'a str, &'a str, NaiveDate, &'a str, [Option<&'a str>; 4]);

#[test]
fn the_reference_gives_the_hand_worked_fixture_answers() {
    let reference = fixture_reference();
    let tt = &**reference.timetable();
    let wednesday = fixture_date();
    let thursday = wednesday.succ_opt().expect("a date");
    // (from, to, date, time, earliest arrival with at most 0, 1, 2, 3 vehicles); the README
    // beside the fixture works each out.
    let cases: [HandWorked<'_>; 20] = [
        ("west", "south", wednesday, "07:55:00", [None, None, Some("08:12:00"), Some("08:12:00")]),
        ("west", "north", wednesday, "07:55:00", [None, None, Some("08:16:00"), Some("08:16:00")]),
        ("north", "south", wednesday, "07:45:00", [None, None, Some("08:10:00"), Some("08:10:00")]),
        ("west", "far", wednesday, "07:55:00", [None, None, Some("08:19:00"), Some("08:19:00")]),
        ("west", "far", wednesday, "08:25:00", [None, None, Some("08:54:00"), Some("08:54:00")]),
        ("west", "south", wednesday, "08:25:00", [None, None, Some("08:40:00"), Some("08:40:00")]),
        ("west", "quay", wednesday, "07:55:00", [None, None, Some("09:05:00"), Some("08:22:00")]),
        (
            "east",
            "harbour",
            wednesday,
            "08:50:00",
            [None, None, Some("09:46:00"), Some("09:46:00")],
        ),
        (
            "junction",
            "hill",
            wednesday,
            "09:55:00",
            [None, None, Some("10:12:00"), Some("10:12:00")],
        ),
        ("depot", "lake", wednesday, "10:55:00", [None, None, Some("11:42:30"), Some("11:42:30")]),
        ("central", "market", wednesday, "12:00:00", [Some("12:06:19"); 4]),
        (
            "market",
            "east_gate",
            wednesday,
            "07:35:00",
            [Some("07:40:54"), Some("07:38:00"), Some("07:38:00"), Some("07:38:00")],
        ),
        ("east_gate", "east", wednesday, "09:00:00", [Some("09:05:01"); 4]),
        ("east", "east_gate", wednesday, "09:00:00", [None; 4]),
        ("south", "tower", wednesday, "12:00:00", [Some("12:04:00"); 4]),
        ("tower", "south", wednesday, "12:00:00", [None; 4]),
        (
            "central",
            "north",
            wednesday,
            "00:10:00",
            [None, Some("01:06:00"), Some("01:06:00"), Some("01:06:00")],
        ),
        (
            "central",
            "north",
            thursday,
            "00:10:00",
            [None, Some("00:36:00"), Some("00:36:00"), Some("00:36:00")],
        ),
        (
            "north",
            "east_gate",
            wednesday,
            "07:20:00",
            [None, Some("07:38:00"), Some("07:38:00"), Some("07:38:00")],
        ),
        (
            "west",
            "market",
            wednesday,
            "07:55:00",
            [None, Some("08:21:19"), Some("08:21:19"), Some("08:21:19")],
        ),
    ];
    let mut wrong = Vec::new();
    for (from, to, date, time, expected) in cases {
        let day = reference.day(date);
        let at = unix(tt, date, time);
        let from_station = station(tt, &format!("rules:{from}"));
        let to_station = station(tt, &format!("rules:{to}"));
        let found = day.earliest_arrival_by_vehicles(from_station, to_station, at, 3);
        let expected: Vec<Option<i64>> =
            expected.iter().map(|clock| clock.map(|clock| unix(tt, date, clock))).collect();
        if found != expected {
            wrong.push(format!(
                "{from} → {to} on {date} at {time}: expected {}, found {}",
                clocks(reference, &expected),
                clocks(reference, &found)
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "the reference differs from the hand-worked answers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_fixture_import_warns_about_rules_naming_unknown_trips_and_routes() {
    let (_, report) = fixture();
    let examples: Vec<&String> =
        report.warnings.iter().flat_map(|(_, kind)| kind.examples.iter()).collect();
    for (line, unknown) in [(8, "ghost_trip"), (14, "ghost_route")] {
        let place = format!("transfers.txt:{line}");
        assert!(
            examples.iter().any(|example| example.contains(&place) && example.contains(unknown)),
            "no warning names {unknown} at {place}; warnings: {examples:#?}"
        );
    }
}

#[test]
fn raptor_matches_the_gtfs_reference_on_the_bundled_feeds() {
    let engine = Engine::new(common::timetable());
    compare_on_bundled_feeds(&engine);
}

#[test]
fn trip_based_routing_matches_the_gtfs_reference_on_the_bundled_feeds() {
    let engine = Engine::new(common::timetable());
    engine.build_trip_based_on_demand(true);
    compare_on_bundled_feeds(&engine);
    assert!(engine.trip_based_searches() > 1000, "few searches used Trip-Based routing");
}

#[test]
fn raptor_matches_the_gtfs_reference_on_the_rules_fixture() {
    let engine = Engine::new(Arc::clone(&fixture().0));
    compare_on_fixture(&engine);
}

#[test]
fn trip_based_routing_matches_the_gtfs_reference_on_the_rules_fixture() {
    let engine = Engine::new(Arc::clone(&fixture().0));
    engine.build_trip_based_on_demand(true);
    compare_on_fixture(&engine);
    assert!(engine.trip_based_searches() > 1000, "few searches used Trip-Based routing");
}

fn compare_on_bundled_feeds(engine: &Engine) {
    let reference = bundled_reference();
    let tt = &**reference.timetable();
    let mut report = Report::default();
    let mut scratch = Scratch::new(tt);
    let started = Instant::now();
    for (feed_index, feed_name) in BUNDLED_FEEDS.iter().enumerate() {
        let date = common::test_date(feed_name);
        let day = reference.day(date);
        let stations = common::stations_of_feed(tt, common::feed(tt, feed_name));
        let mut rng = StdRng::seed_from_u64(2300 + feed_index as u64);
        for _ in 0..queries_per_feed() {
            let (from, to) = loop {
                let from = stations[rng.random_range(0..stations.len())];
                let to = stations[rng.random_range(0..stations.len())];
                if from != to {
                    break (from, to);
                }
            };
            let time = rng.random_range(5 * 3600..22 * 3600);
            compare_query((engine, &mut scratch), &day, feed_name, (from, to), time, &mut report);
        }
    }
    report.finish("bundled feeds", started);
}

fn compare_on_fixture(engine: &Engine) {
    let reference = fixture_reference();
    let tt = &**reference.timetable();
    let day = reference.day(fixture_date());
    let mut report = Report::default();
    let mut scratch = Scratch::new(tt);
    let started = Instant::now();
    let stations: Vec<StationIdx> = (0..tt.stations.len())
        .map(StationIdx::from)
        .filter(|s| !tt.stations[s.idx()].stops.is_empty())
        .collect();
    for &from in &stations {
        for &to in &stations {
            if from == to {
                continue;
            }
            for time in FIXTURE_TIMES {
                let engine = (engine, &mut scratch);
                compare_query(engine, &day, "rules", (from, to), secs(time), &mut report);
            }
        }
    }
    report.finish("rules fixture", started);
}

/// Failures by kind, each with a few shown in full.
#[derive(Default)]
struct Report {
    /// Queries compared so far (the current one is number `queries`).
    queries: usize,
    answered: usize,
    engine_secs: f64,
    reference_secs: f64,
    /// Per kind: the queries that failed so, the last of them, and a few in full.
    failures: BTreeMap<String, Failures>,
}

#[derive(Default)]
struct Failures {
    queries: usize,
    last_query: usize,
    examples: Vec<String>,
}

impl Report {
    /// Counts the current query under `kind` (once however many of its journeys fail so).
    fn fail(&mut self, kind: &str, details: impl FnOnce() -> String) {
        let entry = self.failures.entry(kind.to_owned()).or_default();
        if entry.queries > 0 && entry.last_query == self.queries {
            return;
        }
        entry.queries += 1;
        entry.last_query = self.queries;
        if entry.examples.len() < EXAMPLES_PER_KIND {
            entry.examples.push(details());
        }
    }

    fn finish(self, what: &str, started: Instant) {
        let elapsed = started.elapsed().as_secs_f64();
        eprintln!(
            "{what}: {} queries ({} answered) in {elapsed:.1} s (engine {:.1} s, reference \
             {:.1} s); failures: {}",
            self.queries,
            self.answered,
            self.engine_secs,
            self.reference_secs,
            self.failures
                .iter()
                .map(|(kind, failures)| format!("{kind}: {}", failures.queries))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if self.failures.is_empty() {
            return;
        }
        let mut text = format!("{what}: the engine disagrees with the GTFS reference\n");
        for (kind, failures) in &self.failures {
            let _ = writeln!(text, "\n== {kind}: {} queries", failures.queries);
            for example in &failures.examples {
                let _ = writeln!(text, "{example}");
            }
        }
        panic!("{text}");
    }
}

/// Earliest arrival with at most k vehicles for each k, from journeys with at least
/// `min_vehicles`.
fn arrivals_of(journeys: &[Journey], min_vehicles: usize) -> Vec<Option<i64>> {
    let vehicles = |journey: &Journey| journey.legs.iter().filter(|leg| leg.is_transit()).count();
    (0..=MAX_VEHICLES)
        .map(|most| {
            journeys
                .iter()
                .filter(|journey| (min_vehicles..=most).contains(&vehicles(journey)))
                .map(|journey| journey.arrival)
                .min()
        })
        .collect()
}

/// Why the engine's earliest arrivals (`found`, by vehicles) differ from the reference's.
fn mismatch_kind(
    journeys: &[Journey],
    found: &[Option<i64>],
    expected: &ArrivalsByVehicles,
) -> &'static str {
    let with_rides = arrivals_of(journeys, 1);
    if expected.walk_only.is_some()
        && found[0].is_none()
        && with_rides[1..] == expected.with_vehicles[..]
    {
        return "walking alone is the answer: no walk-only journey";
    }
    let later = found.iter().zip(expected.combined()).any(|pair| match pair {
        (Some(found), Some(expected)) => *found > expected,
        (None, Some(_)) => true,
        _ => false,
    });
    if later {
        "arrives later than the reference with as many vehicles"
    } else {
        "arrives earlier than the reference allows"
    }
}

fn clocks(reference: &GtfsReference, arrivals: &[Option<i64>]) -> String {
    let times: Vec<String> = arrivals
        .iter()
        .map(|arrival| arrival.map_or_else(|| "-".to_owned(), |time| reference.clock(time)))
        .collect();
    format!("[{}]", times.join(", "))
}

fn compare_query(
    (engine, scratch): (&Engine, &mut Scratch),
    day: &ReferenceDay<'_>,
    feed_name: &str,
    (from, to): (StationIdx, StationIdx),
    time: u32,
    report: &mut Report,
) {
    let reference = day.reference();
    let request = Request {
        from: Place::Station(from),
        to: Place::Station(to),
        date: day.date,
        time_secs: time,
        kind: SearchKind::DepartAt,
        options: Options {
            max_transfers: MAX_TRANSFERS,
            max_walk_m: 100_000,
            ..Options::default()
        },
    };
    let started = Instant::now();
    let journeys = engine.search(&request, scratch).expect("the query runs");
    report.engine_secs += started.elapsed().as_secs_f64();
    report.queries += 1;
    report.answered += usize::from(!journeys.is_empty());
    let at = local_unix(reference.timetable(), day.date, time);
    let started = Instant::now();
    let expected: ArrivalsByVehicles = day.arrivals_by_vehicles(from, to, at, MAX_VEHICLES);
    report.reference_secs += started.elapsed().as_secs_f64();
    let found = arrivals_of(&journeys, 0);
    let query = || {
        let mut text = format!(
            "  {feed_name}: {} → {} on {} at {}\n    reference {}\n    engine    {}\n",
            reference.station_name(from),
            reference.station_name(to),
            day.date,
            reference.clock(at),
            clocks(reference, &expected.combined()),
            clocks(reference, &found),
        );
        for journey in &journeys {
            text.push_str(&reference.describe(journey));
        }
        text
    };
    if found != expected.combined() {
        report.fail(mismatch_kind(&journeys, &found, &expected), query);
    }
    for journey in &journeys {
        if let Err(problem) = reference.validate(journey) {
            let kind = problem.split(':').next().unwrap_or("invalid").to_owned();
            report.fail(&format!("invalid journey: {kind}"), || format!("{problem}\n{}", query()));
        }
        if journey.departure < at {
            report.fail("leaves before the query time", query);
        }
        if let Some(station) = reference.visits_a_station_twice(journey) {
            // Told apart: a journey the reference beats with no more vehicles (walking
            // alone, often), and one whose arrival is the earliest its vehicle count allows.
            let rides = journey.legs.iter().filter(|leg| leg.is_transit()).count();
            let beaten = expected.combined()[rides].is_some_and(|best| best < journey.arrival);
            let kind = if beaten {
                "visits a station twice (the reference arrives earlier with no more vehicles)"
            } else {
                "visits a station twice (as early as the reference with as many vehicles)"
            };
            report
                .fail(kind, || format!("  {} twice\n{}", reference.station_name(station), query()));
        }
        let (start, end) = reference.journey_ends(journey);
        if start != Some(from) || end != Some(to) {
            report.fail("does not go from the origin to the destination", query);
        }
    }
}
