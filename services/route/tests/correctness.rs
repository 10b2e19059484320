//! Correctness of the engine on the real bundled feeds, against the connection-scan reference
//! in `common`: same earliest arrival on 500 random queries per feed; every journey valid and
//! none dominated; depart-at journeys found again arrive-by; pages list every journey once.

mod common;

use std::sync::Arc;

use chrono::NaiveDate;
use norikae_realtime::Overlay;
use norikae_realtime::overlay::{StopRealtime, TripKey, TripRealtime};
use norikae_route::engine::{
    Engine, Journey, Leg, Options, Place, Request, Scratch, SearchKind, WalkEnd,
};
use norikae_timetable::{StationIdx, StopIdx, Timetable, TripIdx};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const FEEDS: [&str; 4] = ["ryobi", "okaden", "chutetsu", "fukuoka"];
const QUERIES_PER_FEED: usize = 500;
/// Enough transfers that the Pareto set's fastest journey is the earliest arrival.
const MANY_TRANSFERS: u8 = 12;

fn engine() -> Engine {
    Engine::new(common::timetable())
}

/// An engine whose depart-at and range searches with the default rules use Trip-Based
/// routing (the transfers of each day built by the first search that reads it).
fn trip_based_engine() -> Engine {
    let engine = engine();
    engine.build_trip_based_on_demand(true);
    engine
}

/// Runs `check` on a Trip-Based engine and makes sure more than `searches` of its searches
/// used Trip-Based routing (so that the check covered it).
fn with_trip_based(check: fn(&Engine), searches: u64) {
    let engine = trip_based_engine();
    check(&engine);
    assert!(engine.trip_based_searches() > searches, "few searches used Trip-Based routing");
}

fn request(
    from: StationIdx,
    to: StationIdx,
    date: NaiveDate,
    time_secs: u32,
    kind: SearchKind,
    options: Options,
) -> Request {
    Request { from: Place::Station(from), to: Place::Station(to), date, time_secs, kind, options }
}

fn many_transfers() -> Options {
    Options { max_transfers: MANY_TRANSFERS, ..Options::default() }
}

/// The stop a leg starts and ends at.
fn leg_stops(tt: &Timetable, leg: &Leg) -> (Option<StopIdx>, Option<StopIdx>) {
    let stop_of = |end: &WalkEnd| match end {
        WalkEnd::Stop(stop) => Some(*stop),
        WalkEnd::Place { .. } => None,
    };
    match leg {
        Leg::Transit { pattern, board_position, alight_position, .. } => {
            let stops = tt.pattern_stops(*pattern);
            (Some(stops[*board_position]), Some(stops[*alight_position]))
        }
        Leg::Walk { from, to, .. } => (stop_of(from), stop_of(to)),
    }
}

/// Checks every rule a journey must keep; returns what is wrong.
fn check_journey(
    tt: &Timetable,
    journey: &Journey,
    from: StationIdx,
    to: StationIdx,
    slack: i64,
) -> Result<(), String> {
    let legs = &journey.legs;
    if legs.is_empty() {
        return Err("no legs".into());
    }
    let transits = legs.iter().filter(|leg| leg.is_transit()).count() as u32;
    if journey.transfers != transits.saturating_sub(1) || journey.vehicles() != transits {
        return Err(format!("{} transit legs but {} transfers", transits, journey.transfers));
    }
    if transits == 0 && legs.len() != 1 {
        return Err(format!("a journey without a vehicle in {} legs", legs.len()));
    }
    if journey.departure != legs[0].departure() || journey.arrival != legs[legs.len() - 1].arrival()
    {
        return Err("journey times differ from its legs".into());
    }
    for leg in legs {
        match leg {
            Leg::Transit {
                trip,
                pattern,
                board_position,
                alight_position,
                service_day,
                departure,
                arrival,
                added: _,
            } => {
                if !tt.trip_runs(*trip, *service_day) {
                    return Err(format!(
                        "trip {} does not run on day {service_day}",
                        tt.trips[trip.idx()].id
                    ));
                }
                if tt.trips[trip.idx()].pattern != *pattern || board_position >= alight_position {
                    return Err("leg rides its trip backwards or on another pattern".into());
                }
                let rules = tt.pattern_stop_rules(*pattern);
                if !rules[*board_position].pickup() || !rules[*alight_position].drop_off() {
                    return Err("boards or alights where the trip does not allow it".into());
                }
                let start = common::day_start(tt, tt.date_of_day(*service_day));
                let times = tt.stop_times_of_trip(*trip);
                if *departure != start + i64::from(times[*board_position].departure)
                    || *arrival != start + i64::from(times[*alight_position].arrival)
                {
                    return Err("leg times are not the trip's times".into());
                }
            }
            Leg::Walk { from, to, departure, arrival, duration_secs, .. } => {
                if arrival - departure != i64::from(*duration_secs) {
                    return Err("walk times do not match its duration".into());
                }
                let (WalkEnd::Stop(from), WalkEnd::Stop(to)) = (from, to) else {
                    return Err("walk to coordinates in a station query".into());
                };
                let link = tt.footpaths(*from).iter().find(|footpath| footpath.to == *to);
                if link.is_none_or(|link| link.duration_secs != *duration_secs) {
                    return Err(format!(
                        "no walking link of {duration_secs} s from {from:?} to {to:?}"
                    ));
                }
            }
        }
    }
    for pair in legs.windows(2) {
        let (_, end) = leg_stops(tt, &pair[0]);
        let (start, _) = leg_stops(tt, &pair[1]);
        if end != start {
            return Err("consecutive legs do not meet".into());
        }
        if pair[1].departure() < pair[0].arrival() {
            return Err("a leg leaves before the previous one arrives".into());
        }
    }
    // Transfers: vehicle → vehicle at one stop needs the stop's minimum plus slack; vehicle →
    // walk → vehicle needs the walk plus slack.
    for (index, leg) in legs.iter().enumerate().skip(1) {
        if !leg.is_transit() {
            continue;
        }
        let previous = &legs[index - 1];
        let before_transit = legs[..index].iter().any(Leg::is_transit);
        if !before_transit {
            continue;
        }
        let needed = match previous {
            Leg::Transit { .. } => {
                let (_, stop) = leg_stops(tt, previous);
                previous.arrival()
                    + i64::from(tt.min_transfer_secs[stop.map_or(0, StopIdx::idx)])
                    + slack
            }
            Leg::Walk { .. } => previous.arrival() + slack,
        };
        if leg.departure() < needed {
            return Err(format!(
                "transfer too short: leaves {} s before allowed",
                needed - leg.departure()
            ));
        }
    }
    let (first, _) = leg_stops(tt, &legs[0]);
    let (_, last) = leg_stops(tt, &legs[legs.len() - 1]);
    let in_station = |stop: Option<StopIdx>, station: StationIdx| {
        stop.is_some_and(|stop| tt.stations[station.idx()].stops.contains(&stop))
    };
    if !in_station(first, from) || !in_station(last, to) {
        return Err("journey does not start at the origin and end at the destination".into());
    }
    Ok(())
}

fn check_pareto(journeys: &[Journey]) -> Result<(), String> {
    for (index, journey) in journeys.iter().enumerate() {
        for (other_index, other) in journeys.iter().enumerate() {
            if index != other_index && other.weakly_dominates(journey) {
                return Err(format!(
                    "journey {index} ({}→{}, {} transfers) dominated by {other_index} ({}→{}, {})",
                    journey.departure,
                    journey.arrival,
                    journey.transfers,
                    other.departure,
                    other.arrival,
                    other.transfers
                ));
            }
        }
    }
    Ok(())
}

fn random_queries(
    tt: &Timetable,
    feed_name: &str,
    count: usize,
    seed: u64,
) -> Vec<(StationIdx, StationIdx, u32)> {
    let stations = common::stations_of_feed(tt, common::feed(tt, feed_name));
    assert!(stations.len() > 10, "{feed_name} has {} stations", stations.len());
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            loop {
                let from = stations[rng.random_range(0..stations.len())];
                let to = stations[rng.random_range(0..stations.len())];
                if from != to {
                    break (from, to, rng.random_range(5 * 3600..22 * 3600));
                }
            }
        })
        .collect()
}

#[test]
fn earliest_arrival_matches_the_reference_and_journeys_are_valid() {
    check_earliest_arrivals(&engine());
}

#[test]
fn earliest_arrival_matches_the_reference_with_trip_based_routing() {
    with_trip_based(check_earliest_arrivals, 100);
}

fn check_earliest_arrivals(engine: &Engine) {
    let tt = common::timetable();
    let mut scratch = Scratch::new(&tt);
    for (feed_index, feed_name) in FEEDS.iter().enumerate() {
        let date = common::test_date(feed_name);
        let reference = common::Reference::new(Arc::clone(&tt), date);
        let mut found = 0;
        for (query, &(from, to, time)) in
            random_queries(&tt, feed_name, QUERIES_PER_FEED, 7 + feed_index as u64)
                .iter()
                .enumerate()
        {
            let slack = if query % 5 == 0 { 120 } else { 0 };
            let options = Options { min_transfer_secs: slack, ..many_transfers() };
            let at = norikae_route::engine::query::local_unix(&tt, date, time);
            let expected = reference.earliest_arrival(from, to, at, i64::from(slack));
            let journeys = engine
                .search(&request(from, to, date, time, SearchKind::DepartAt, options), &mut scratch)
                .expect("query runs");
            let earliest = journeys.iter().map(|journey| journey.arrival).min();
            assert_eq!(
                earliest,
                expected,
                "{feed_name} query {query}: {} → {} at {time} s (slack {slack})",
                tt.stations[from.idx()].id,
                tt.stations[to.idx()].id
            );
            for journey in &journeys {
                if let Err(problem) = check_journey(&tt, journey, from, to, i64::from(slack)) {
                    panic!("{feed_name} query {query}: invalid journey: {problem}\n{journey:#?}");
                }
                assert!(journey.departure >= at, "journey leaves before the query time");
            }
            check_pareto(&journeys)
                .unwrap_or_else(|problem| panic!("{feed_name} query {query}: {problem}"));
            found += usize::from(!journeys.is_empty());
        }
        assert!(found > QUERIES_PER_FEED / 10, "{feed_name}: only {found} queries found a journey");
        eprintln!(
            "{feed_name}: {found} of {QUERIES_PER_FEED} queries have journeys, all match the reference"
        );
    }
}

/// The Pareto set over (arrival, transfers) is exact: for every number of vehicles up to the
/// limit, its fastest journey with at most that many matches the reference's earliest
/// arrival with at most that many (pruning by round, by lower bound and by the trips still
/// needed must lose no journey).
#[test]
fn pareto_sets_match_the_reference_for_every_transfer_count() {
    check_pareto_sets(&engine());
}

#[test]
fn pareto_sets_match_the_reference_with_trip_based_routing() {
    with_trip_based(check_pareto_sets, 100);
}

fn check_pareto_sets(engine: &Engine) {
    let tt = common::timetable();
    let mut scratch = Scratch::new(&tt);
    let mut fronts_with_several = 0;
    for (feed_index, feed_name) in FEEDS.iter().enumerate() {
        let date = common::test_date(feed_name);
        let reference = common::Reference::new(Arc::clone(&tt), date);
        for (query, &(from, to, time)) in
            random_queries(&tt, feed_name, 150, 500 + feed_index as u64).iter().enumerate()
        {
            let slack = if query % 4 == 0 { 90 } else { 0 };
            let max_transfers = [5, 2, 1, 3][query % 4];
            let options = Options { min_transfer_secs: slack, max_transfers, ..Options::default() };
            let at = norikae_route::engine::query::local_unix(&tt, date, time);
            let expected = reference.earliest_arrival_by_trips(
                from,
                to,
                at,
                i64::from(slack),
                usize::from(max_transfers) + 1,
            );
            let journeys = engine
                .search(&request(from, to, date, time, SearchKind::DepartAt, options), &mut scratch)
                .expect("query runs");
            let found = fastest_by_transfers(&journeys, u32::from(max_transfers));
            assert_eq!(
                found,
                expected,
                "{feed_name} query {query}: {} → {} at {time} s (slack {slack}, at most \
                 {max_transfers} transfers): fastest per vehicle count",
                tt.stations[from.idx()].id,
                tt.stations[to.idx()].id
            );
            fronts_with_several += usize::from(journeys.len() > 1);
        }
    }
    assert!(fronts_with_several > 20, "only {fronts_with_several} Pareto sets with two journeys");
}

#[test]
fn depart_at_journeys_are_found_again_arrive_by() {
    check_found_again_arrive_by(&engine());
}

#[test]
fn trip_based_journeys_are_found_again_arrive_by() {
    with_trip_based(check_found_again_arrive_by, 100);
}

fn check_found_again_arrive_by(engine: &Engine) {
    let tt = common::timetable();
    let mut scratch = Scratch::new(&tt);
    let mut checked = 0;
    for (feed_index, feed_name) in FEEDS.iter().enumerate() {
        let date = common::test_date(feed_name);
        let midnight = norikae_route::engine::query::local_unix(&tt, date, 0);
        for &(from, to, time) in &random_queries(&tt, feed_name, 60, 100 + feed_index as u64) {
            let options = Options { max_transfers: 4, ..Options::default() };
            let outward = engine
                .search(
                    &request(from, to, date, time, SearchKind::DepartAt, options.clone()),
                    &mut scratch,
                )
                .expect("depart-at runs");
            for journey in &outward {
                let arrive_time = (journey.arrival - midnight) as u32;
                let backward = engine
                    .search(
                        &request(
                            from,
                            to,
                            date,
                            arrive_time,
                            SearchKind::ArriveBy,
                            options.clone(),
                        ),
                        &mut scratch,
                    )
                    .expect("arrive-by runs");
                for candidate in &backward {
                    check_journey(&tt, candidate, from, to, 0)
                        .unwrap_or_else(|problem| panic!("arrive-by: {problem}"));
                    assert!(candidate.arrival <= journey.arrival, "arrive-by journey arrives late");
                }
                check_pareto(&backward).unwrap_or_else(|problem| panic!("arrive-by: {problem}"));
                assert!(
                    backward.iter().any(|candidate| candidate.departure >= journey.departure
                        && candidate.transfers <= journey.transfers),
                    "{feed_name}: depart-at journey {journey:#?} not matched arrive-by: {backward:#?}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "only {checked} journeys checked");
}

#[test]
fn pages_over_a_day_list_every_journey_once() {
    check_pages(&engine());
}

#[test]
fn trip_based_pages_over_a_day_list_every_journey_once() {
    with_trip_based(check_pages, 10);
}

fn check_pages(engine: &Engine) {
    let tt = common::timetable();
    let mut scratch = Scratch::new(&tt);
    let mut pages_with_journeys = 0;
    for (feed_index, feed_name) in FEEDS.iter().enumerate() {
        let date = common::test_date(feed_name);
        for &(from, to, _) in &random_queries(&tt, feed_name, 6, 300 + feed_index as u64) {
            let options = Options { max_transfers: 3, ..Options::default() };
            let (day_start, day_end) = (5 * 3600, 24 * 3600);
            let whole = engine
                .search(
                    &request(
                        from,
                        to,
                        date,
                        day_start,
                        SearchKind::Range { window_secs: day_end - day_start },
                        options.clone(),
                    ),
                    &mut scratch,
                )
                .expect("range runs");
            check_pareto(&whole).unwrap_or_else(|problem| panic!("whole day: {problem}"));
            let key = |journey: &Journey| (journey.departure, journey.arrival, journey.transfers);
            // Forward through the day with "later" cursors, then back with "earlier" ones.
            let mut forward = Vec::new();
            let mut page =
                norikae_route::cursor::Page { date, time_secs: day_start, window_secs: 3600 };
            let mut pages = Vec::new();
            while pages.len() < 19 {
                pages.push(page);
                page = page.later().expect("the next page fits");
            }
            let mut backward = Vec::new();
            for (direction, list) in [(0, &mut forward), (1, &mut backward)] {
                let order: Vec<_> = if direction == 0 {
                    pages.clone()
                } else {
                    pages.iter().rev().copied().collect()
                };
                for page in order {
                    let journeys = engine
                        .search(
                            &request(
                                from,
                                to,
                                page.date,
                                page.time_secs,
                                SearchKind::Range { window_secs: page.window_secs },
                                options.clone(),
                            ),
                            &mut scratch,
                        )
                        .expect("page runs");
                    pages_with_journeys += usize::from(!journeys.is_empty());
                    for journey in &journeys {
                        check_journey(&tt, journey, from, to, 0)
                            .unwrap_or_else(|problem| panic!("page: {problem}"));
                    }
                    list.extend(journeys.iter().map(key));
                }
            }
            let mut expected: Vec<_> = whole.iter().map(key).collect();
            expected.sort_unstable();
            for list in [&mut forward, &mut backward] {
                let count = list.len();
                list.sort_unstable();
                list.dedup();
                assert_eq!(list.len(), count, "{feed_name}: a journey is on two pages");
                assert_eq!(*list, expected, "{feed_name}: pages differ from the whole day");
            }
        }
    }
    assert!(pages_with_journeys > 20, "only {pages_with_journeys} pages had journeys");
}

#[test]
fn options_via_exclusions_and_coordinates_shape_the_journeys() {
    let tt = common::timetable();
    let engine = engine();
    let mut scratch = Scratch::new(&tt);
    let date = common::test_date("fukuoka");
    let station = |id: &str| tt.station_by_id(id).expect("fukuoka station");
    let (meinohama, hakata, tenjin_minami) =
        (station("fukuoka:1"), station("fukuoka:11"), station("fukuoka:35"));
    let time = 8 * 3600;

    // Via Hakata: Meinohama → Tenjin-minami passes through Hakata, getting off there.
    let via = Options { via: Some(hakata), ..Options::default() };
    let journeys = engine
        .search(
            &request(meinohama, tenjin_minami, date, time, SearchKind::DepartAt, via),
            &mut scratch,
        )
        .expect("via runs");
    assert!(!journeys.is_empty(), "a journey via Hakata exists");
    let direct = engine
        .search(
            &request(
                meinohama,
                tenjin_minami,
                date,
                time,
                SearchKind::DepartAt,
                Options::default(),
            ),
            &mut scratch,
        )
        .expect("runs");
    for journey in &journeys {
        check_journey(&tt, journey, meinohama, tenjin_minami, 0)
            .unwrap_or_else(|problem| panic!("via: {problem}"));
        let stops_at_hakata = journey.legs.iter().any(|leg| {
            let (_, end) = leg_stops(&tt, leg);
            end.is_some_and(|stop| tt.stops[stop.idx()].station == hakata)
        });
        assert!(stops_at_hakata, "via journey does not get off at Hakata: {journey:#?}");
        let fastest = direct.iter().map(|journey| journey.arrival).min().expect("direct journey");
        assert!(journey.arrival > fastest, "going via Hakata is a detour");
    }

    // Excluding the subway leaves nothing in Fukuoka; excluding a route avoids it.
    let no_subway =
        Options { exclude_modes: vec![norikae_timetable::Mode::Subway], ..Options::default() };
    let none = engine
        .search(
            &request(meinohama, hakata, date, time, SearchKind::DepartAt, no_subway),
            &mut scratch,
        )
        .expect("runs");
    assert!(none.is_empty(), "no journey without the subway");
    let Leg::Transit { trip, .. } = &direct[0].legs[0] else { panic!("first leg rides") };
    let avoided = tt.trips[trip.idx()].route;
    let exclude = Options { exclude_routes: vec![avoided], ..Options::default() };
    let around = engine
        .search(
            &request(meinohama, tenjin_minami, date, time, SearchKind::DepartAt, exclude),
            &mut scratch,
        )
        .expect("runs");
    assert!(around.iter().flat_map(|journey| &journey.legs).all(|leg| match leg {
        Leg::Transit { trip, .. } => tt.trips[trip.idx()].route != avoided,
        Leg::Walk { .. } => true,
    }));

    // From coordinates 150 m north of Meinohama: the journey starts with a walk from there.
    let origin = &tt.stations[meinohama.idx()];
    let (lat, lon) = (origin.lat + 0.00135, origin.lon);
    let request = Request {
        from: Place::Coordinates { lat, lon },
        to: Place::Station(hakata),
        date,
        time_secs: time,
        kind: SearchKind::DepartAt,
        options: Options::default(),
    };
    let journeys = engine.search(&request, &mut scratch).expect("runs");
    let first = journeys.first().expect("a journey from the coordinates");
    match &first.legs[0] {
        Leg::Walk { from: WalkEnd::Place { .. }, distance_m, duration_secs, .. } => {
            assert!((150..400).contains(distance_m), "walk of {distance_m} m");
            assert!(*duration_secs > 100);
        }
        other => panic!("first leg is not a walk from the coordinates: {other:?}"),
    }
}

/// A Pareto set to compare between engines: arrival and transfers, by arrival (a depart-at
/// journey may leave at another time for the same arrival, ties being met in another
/// order, which changes the order by departure); a range's is over the departure too.
fn pareto_summary(kind: SearchKind, journeys: &[Journey]) -> Vec<(Option<i64>, i64, u32)> {
    let range = matches!(kind, SearchKind::Range { .. });
    let mut summary: Vec<_> = journeys
        .iter()
        .map(|journey| (range.then_some(journey.departure), journey.arrival, journey.transfers))
        .collect();
    summary.sort_unstable();
    summary
}

/// The earliest arrival of `journeys` with at most `transfers` transfers, for each number
/// up to `max_transfers` (walking all the way counts as none).
fn fastest_by_transfers(journeys: &[Journey], max_transfers: u32) -> Vec<Option<i64>> {
    (0..=max_transfers)
        .map(|transfers| {
            journeys
                .iter()
                .filter(|journey| journey.transfers <= transfers)
                .map(|journey| journey.arrival)
                .min()
        })
        .collect()
}

/// Trip-Based routing finds the same Pareto sets as RAPTOR (arrival and transfers of every
/// journey) for the default options, between stations and from and to coordinates, and
/// leaves the searches with other options to RAPTOR.
#[test]
fn trip_based_routing_answers_as_raptor() {
    let tt = common::timetable();
    let raptor = engine();
    let trip_based = trip_based_engine();
    let mut scratch = Scratch::new(&tt);
    let mut compared = 0;
    for (feed_index, feed_name) in FEEDS.iter().enumerate() {
        let date = common::test_date(feed_name);
        for (query, &(from, to, time)) in
            random_queries(&tt, feed_name, 200, 900 + feed_index as u64).iter().enumerate()
        {
            let mut request =
                request(from, to, date, time, SearchKind::DepartAt, Options::default());
            if query % 3 == 1 {
                // From coordinates a little off the station's first stop.
                let stop = &tt.stops[tt.stations[from.idx()].stops[0].idx()];
                request.from = Place::Coordinates { lat: stop.lat + 0.001, lon: stop.lon };
            }
            if query % 3 == 2 {
                let stop = &tt.stops[tt.stations[to.idx()].stops[0].idx()];
                request.to = Place::Coordinates { lat: stop.lat, lon: stop.lon - 0.001 };
            }
            // Every fourth a 1-hour range.
            if query % 4 == 3 {
                request.kind = SearchKind::Range { window_secs: 3600 };
            }
            let summary = |journeys: &[Journey]| pareto_summary(request.kind, journeys);
            let expected = raptor.search(&request, &mut scratch);
            let before = trip_based.trip_based_searches();
            let found = trip_based.search(&request, &mut scratch);
            assert_eq!(trip_based.trip_based_searches(), before + 1, "{feed_name} query {query}");
            match (expected, found) {
                (Ok(expected), Ok(found)) => {
                    assert_eq!(
                        summary(&found),
                        summary(&expected),
                        "{feed_name} query {query}: {request:?}\nTrip-Based: {found:#?}\nRAPTOR: {expected:#?}"
                    );
                    for journey in &found {
                        if let Place::Station(from) = request.from
                            && let Place::Station(to) = request.to
                        {
                            check_journey(&tt, journey, from, to, 0).unwrap_or_else(|problem| {
                                panic!("{feed_name} query {query}: {problem}")
                            });
                        }
                    }
                    compared += usize::from(!expected.is_empty());
                }
                (expected, found) => assert_eq!(
                    expected.map(|journeys| summary(&journeys)).map_err(|error| error.to_string()),
                    found.map(|journeys| summary(&journeys)).map_err(|error| error.to_string()),
                ),
            }
        }
        // Options the transfers were not computed for stay on RAPTOR.
        let (from, to, time) = random_queries(&tt, feed_name, 1, 1)[0];
        let before = trip_based.trip_based_searches();
        for options in [
            Options { min_transfer_secs: 60, ..Options::default() },
            Options { wheelchair: true, ..Options::default() },
            Options { max_walk_m: 100, ..Options::default() },
        ] {
            let request = request(from, to, date, time, SearchKind::DepartAt, options);
            trip_based.search(&request, &mut scratch).expect("runs");
        }
        assert_eq!(trip_based.trip_based_searches(), before, "{feed_name}: options on RAPTOR");
    }
    assert!(compared > 300, "only {compared} queries with journeys compared");
}

/// Preparing a date in the background (as the route service does for today) builds the day
/// before it only for its trips still running on that date: searches on the date, early in
/// the morning too (on the day before's trips past midnight), use Trip-Based routing and
/// answer as RAPTOR; a search on the day before stays on RAPTOR until that date is prepared
/// in turn, which builds the day in full.
#[test]
fn the_day_before_a_prepared_date_has_the_transfers_of_its_trips_past_midnight() {
    let tt = common::timetable();
    let raptor = engine();
    let mut scratch = Scratch::new(&tt);
    for (feed_index, feed_name) in FEEDS.iter().enumerate() {
        let date = common::test_date(feed_name);
        let day_before = date.pred_opt().expect("a date");
        let background = engine();
        let prepared = background.prepare_trip_based(date, 2);
        let froms: Vec<_> = prepared.iter().map(|day| (day.date, day.boardable_from)).collect();
        assert_eq!(
            froms,
            [(day_before, Some(86_400)), (date, None), (date.succ_opt().expect("a date"), None)],
            "{feed_name}"
        );
        let queries = random_queries(&tt, feed_name, 30, 1_700 + feed_index as u64);
        let mut compare = |date: NaiveDate, trip_based: bool| {
            for (query, &(from, to, time)) in queries.iter().enumerate() {
                // Every other just after midnight.
                let time = if query % 2 == 0 { time } else { 300 };
                let request =
                    request(from, to, date, time, SearchKind::DepartAt, Options::default());
                let searches = background.trip_based_searches();
                let found = background.search(&request, &mut scratch).expect("runs");
                let used = background.trip_based_searches() - searches;
                assert_eq!(used, u64::from(trip_based), "{feed_name} {date} query {query}");
                let expected = raptor.search(&request, &mut scratch).expect("runs");
                assert_eq!(
                    pareto_summary(request.kind, &found),
                    pareto_summary(request.kind, &expected),
                    "{feed_name} {date} query {query}: {request:?}"
                );
            }
        };
        compare(date, true);
        compare(day_before, false);
        let prepared = background.prepare_trip_based(day_before, 2);
        assert!(
            prepared.iter().any(|day| day.date == day_before && day.boardable_from.is_none()),
            "{feed_name}: the day before built in full"
        );
        compare(day_before, true);
        compare(date, true);
    }
}

/// The service day of `date` and `feed_name`'s trips running on it at some time between
/// 10:00 and 14:00.
fn trips_running_at_midday(
    tt: &Timetable,
    feed_name: &str,
    date: NaiveDate,
) -> (u32, Vec<TripIdx>) {
    let day = tt.day_index(date).expect("the test date is in the timetable");
    let prefix = format!("{feed_name}:");
    let trips = (0..tt.trips.len())
        .map(TripIdx::from)
        .filter(|&trip| {
            let times = tt.stop_times_of_trip(trip);
            tt.trips[trip.idx()].id.starts_with(&prefix)
                && tt.trip_runs(trip, day)
                && times[0].departure <= 14 * 3600
                && times[times.len() - 1].arrival >= 10 * 3600
        })
        .collect();
    (day, trips)
}

/// A random realtime overlay of `feed_name`'s trips on `date` that run between 10:00 and
/// 14:00: one in twenty cancelled, over half late (or up to two minutes early) from a random
/// stop on, by a delay that holds to the end (never leaving a stop before arriving nor
/// arriving before leaving the stop before), so that many overtake others of their pattern.
fn random_overlay(tt: &Timetable, feed_name: &str, date: NaiveDate, seed: u64) -> Overlay {
    let (day, trips) = trips_running_at_midday(tt, feed_name, date);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut changed = Vec::new();
    for trip in trips {
        let times = tt.stop_times_of_trip(trip);
        let key = TripKey { trip, day };
        let draw: f64 = rng.random();
        if draw < 0.05 {
            changed.push((key, TripRealtime { cancelled: true, ..TripRealtime::default() }));
            continue;
        }
        if draw > 0.6 {
            continue;
        }
        let from = rng.random_range(0..times.len());
        let delay: i64 = rng.random_range(-120..=1200);
        let mut previous_departure = 0i64;
        let stops = times
            .iter()
            .enumerate()
            .map(|(position, time)| {
                let shift = if position >= from { delay } else { 0 };
                let arrival = (i64::from(time.arrival) + shift).max(previous_departure).max(0);
                let departure = (i64::from(time.departure) + shift).max(arrival);
                previous_departure = departure;
                StopRealtime {
                    arrival: arrival as u32,
                    departure: departure as u32,
                    flags: StopRealtime::PREDICTED,
                }
            })
            .collect();
        changed.push((key, TripRealtime { stops, ..TripRealtime::default() }));
    }
    Overlay::from_trips(tt, changed)
}

/// The simulator's overlay for `feed_name` (`norikae realtime-sim`): every trip running
/// between 10:00 and 14:00 on `date` late from a random stop on, partly made up two stops
/// later, and one cancelled.
fn simulated_overlay(tt: &Timetable, feed_name: &str, date: NaiveDate, seed: u64) -> Arc<Overlay> {
    use prost::Message as _;
    let now = common::day_start(tt, date) + 10 * 3600;
    let options = norikae_realtime::sim::SimOptions {
        seed,
        date,
        from_secs: 10 * 3600,
        to_secs: 14 * 3600,
        delayed_share: 1.0,
        max_delay_secs: 900,
        delays: norikae_realtime::sim::Delays::Uniform,
        cancel_one: true,
        now,
    };
    let message = norikae_realtime::sim::feed_message(tt, feed_name, &options).encode_to_vec();
    let realtime = norikae_realtime::Realtime::new(usize::MAX, u64::MAX);
    realtime.apply(feed_name, feed_name, &message, tt, now).expect("the simulated feed applies");
    realtime.overlay()
}

/// On a realtime overlay that delays, cancels and reorders trips, Trip-Based routing (its
/// days built from the timetable's, regenerating only the trips the overlay can reach)
/// finds the same Pareto sets as RAPTOR on the same overlay, on the expected times.
#[test]
fn trip_based_routing_answers_as_raptor_on_a_realtime_overlay() {
    trip_based_routing_answers_as_raptor_on(
        |tt, feed_name, date, seed| Arc::new(random_overlay(tt, feed_name, date, seed)),
        4100,
    );
}

/// Every trip running between 10:00 and 14:00 late by 10 to 40 minutes from a random stop
/// on: long waits at one stop, as a vehicle held there.
fn held_overlay(tt: &Timetable, feed_name: &str, date: NaiveDate, seed: u64) -> Arc<Overlay> {
    let (day, trips) = trips_running_at_midday(tt, feed_name, date);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut changed = Vec::new();
    for trip in trips {
        let times = tt.stop_times_of_trip(trip);
        let from = rng.random_range(0..times.len());
        let delay: u32 = rng.random_range(600..=2400);
        let stops = times
            .iter()
            .enumerate()
            .map(|(position, time)| {
                let shift = if position >= from { delay } else { 0 };
                let arrival = if position == from { time.arrival } else { time.arrival + shift };
                StopRealtime {
                    arrival,
                    departure: time.departure + shift,
                    flags: StopRealtime::PREDICTED,
                }
            })
            .collect();
        changed.push((TripKey { trip, day }, TripRealtime { stops, ..TripRealtime::default() }));
    }
    Arc::new(Overlay::from_trips(tt, changed))
}

/// The same with trips held at a stop: RAPTOR left out walks there that only looked needless
/// on the timetable's times (this failed before it walked every link on such overlays).
#[test]
fn trip_based_routing_answers_as_raptor_on_held_trips() {
    trip_based_routing_answers_as_raptor_on(held_overlay, 4300);
}

/// The same on the simulator's overlays.
#[test]
fn trip_based_routing_answers_as_raptor_on_the_simulators_overlay() {
    trip_based_routing_answers_as_raptor_on(simulated_overlay, 4200);
}

fn trip_based_routing_answers_as_raptor_on(
    overlay_of: fn(&Timetable, &str, NaiveDate, u64) -> Arc<Overlay>,
    seed: u64,
) {
    let tt = common::timetable();
    let raptor = engine();
    let trip_based = trip_based_engine();
    let mut scratch = Scratch::new(&tt);
    let (mut compared, mut moved) = (0, 0);
    for (feed_index, feed_name) in FEEDS.iter().enumerate() {
        let date = common::test_date(feed_name);
        let overlay = overlay_of(&tt, feed_name, date, seed + feed_index as u64);
        let report =
            trip_based.prepare_trip_based_live(&overlay, 2).expect("the overlay changes trips");
        assert_eq!((report.days, report.unfit_days), (3, 0), "{feed_name}: {report:?}");
        assert!(
            report.regenerated > 0 && report.kept > 0,
            "{feed_name}: trips regenerated and kept: {report:?}"
        );
        moved += report.moved;
        let reference = common::Reference::with_overlay(Arc::clone(&tt), date, Some(&overlay));
        // The expected times of a trip on its service day, Unix time.
        let expected = |trip: TripIdx, day: u32, position: usize| {
            let start = common::day_start(&tt, tt.date_of_day(day));
            let time = match overlay.trip(trip, day) {
                Some(realtime) => {
                    let stop = realtime.stops[position];
                    (stop.departure, stop.arrival)
                }
                None => {
                    let time = tt.stop_times_of_trip(trip)[position];
                    (time.departure, time.arrival)
                }
            };
            (start + i64::from(time.0), start + i64::from(time.1))
        };
        for (query, &(from, to, time)) in
            random_queries(&tt, feed_name, 150, 1900 + feed_index as u64).iter().enumerate()
        {
            let kind = if query % 4 == 3 {
                SearchKind::Range { window_secs: 3600 }
            } else {
                SearchKind::DepartAt
            };
            let request = request(from, to, date, time, kind, Options::default());
            let raptor_found = raptor.search_live(&request, &mut scratch, &overlay);
            let before = trip_based.trip_based_searches();
            let found = trip_based.search_live(&request, &mut scratch, &overlay);
            assert_eq!(trip_based.trip_based_searches(), before + 1, "{feed_name} query {query}");
            let (raptor_found, found) = (raptor_found.expect("runs"), found.expect("runs"));
            assert_eq!(
                pareto_summary(kind, &found),
                pareto_summary(kind, &raptor_found),
                "{feed_name} query {query}: {request:?}\nTrip-Based: {found:#?}\nRAPTOR: {raptor_found:#?}"
            );
            for leg in found.iter().flat_map(|journey| &journey.legs) {
                if let Leg::Transit { trip, service_day, board_position, alight_position, .. } = leg
                {
                    assert!(!overlay.is_cancelled(*trip, *service_day), "rides a cancelled trip");
                    let (departure, _) = expected(*trip, *service_day, *board_position);
                    let (_, arrival) = expected(*trip, *service_day, *alight_position);
                    assert_eq!((leg.departure(), leg.arrival()), (departure, arrival), "{leg:?}");
                }
            }
            // Both against the reference on the same expected times: the earliest arrival
            // for each number of vehicles.
            if kind == SearchKind::DepartAt {
                let at = norikae_route::engine::query::local_unix(&tt, date, time);
                let expected = reference.earliest_arrival_by_trips(from, to, at, 0, 6);
                let fastest = |journeys: &[Journey]| fastest_by_transfers(journeys, 5);
                assert_eq!(fastest(&found), expected, "{feed_name} query {query}: Trip-Based");
                assert_eq!(fastest(&raptor_found), expected, "{feed_name} query {query}: RAPTOR");
            }
            compared += usize::from(!found.is_empty());
        }
        // The day before the overlay's is built only for the trips a search on the overlay's
        // date can board: a search on it runs RAPTOR.
        let (from, to, time) = random_queries(&tt, feed_name, 1, 7)[0];
        let before_date = date.pred_opt().expect("a date");
        let request =
            request(from, to, before_date, time, SearchKind::DepartAt, Options::default());
        let searches = trip_based.trip_based_searches();
        let found = trip_based.search_live(&request, &mut scratch, &overlay).expect("runs");
        assert_eq!(trip_based.trip_based_searches(), searches, "{feed_name}: the day before");
        let expected = raptor.search_live(&request, &mut scratch, &overlay).expect("runs");
        assert_eq!(
            pareto_summary(SearchKind::DepartAt, &found),
            pareto_summary(SearchKind::DepartAt, &expected)
        );
    }
    assert!(compared > 300, "only {compared} queries with journeys compared");
    assert!(moved > 20, "only {moved} trips overtaking others");
}

#[test]
fn a_warmed_up_engine_answers_as_a_cold_one() {
    let tt = common::timetable();
    let date = common::test_date("okaden");
    let warm = engine();
    assert_eq!(warm.cached_days(), 0);
    assert_eq!(warm.warm_up(date), 3, "the days before, of and after the date");
    assert_eq!(warm.cached_days(), 3);
    let far = NaiveDate::from_ymd_opt(1990, 1, 1).expect("valid date");
    assert_eq!(warm.warm_up(far), 0, "a date outside the timetable has no day tables");
    let cold = engine();
    let mut scratch = Scratch::new(&tt);
    let summary = |journeys: &[Journey]| {
        journeys
            .iter()
            .map(|journey| (journey.departure, journey.arrival, journey.transfers))
            .collect::<Vec<_>>()
    };
    let mut answered = 0;
    for &(from, to, time) in &random_queries(&tt, "okaden", 40, 7) {
        for kind in [SearchKind::DepartAt, SearchKind::ArriveBy] {
            let query = request(from, to, date, time, kind, Options::default());
            let warm_answer = warm.search(&query, &mut scratch).expect("warm engine answers");
            let cold_answer = cold.search(&query, &mut scratch).expect("cold engine answers");
            assert_eq!(summary(&warm_answer), summary(&cold_answer), "{kind:?} at {time}");
            answered += usize::from(!warm_answer.is_empty());
        }
    }
    assert!(answered > 20, "only {answered} queries had journeys");
    assert_eq!(warm.cached_days(), 3, "the queries read only the warmed days");
}

/// The case (bundled Fukuoka, 2019-10-16 14:23:58): 天神南 → 天神 is 480 s on foot
/// (transfers.txt links them), which beats riding; every kind of search offers the walk, with
/// RAPTOR and with Trip-Based routing, and no ride that walking beats is left.
#[test]
fn walking_is_offered_when_it_is_the_answer() {
    let tt = common::timetable();
    for engine in [engine(), trip_based_engine()] {
        let mut scratch = Scratch::new(&tt);
        let date = NaiveDate::from_ymd_opt(2019, 10, 16).expect("date");
        let station = |id: &str| tt.station_by_id(id).expect("fukuoka station");
        let (tenjin_minami, tenjin) = (station("fukuoka:35"), station("fukuoka:8"));
        let time = 14 * 3600 + 23 * 60 + 58;
        let at = norikae_route::engine::query::local_unix(&tt, date, time);
        let walk_only = |journey: &Journey| journey.vehicles() == 0;
        let kinds =
            [SearchKind::DepartAt, SearchKind::ArriveBy, SearchKind::Range { window_secs: 3600 }];
        for kind in kinds {
            let journeys = engine
                .search(
                    &request(tenjin_minami, tenjin, date, time, kind, many_transfers()),
                    &mut scratch,
                )
                .expect("query runs");
            let walks: Vec<&Journey> =
                journeys.iter().filter(|journey| walk_only(journey)).collect();
            let walk =
                walks.first().unwrap_or_else(|| panic!("{kind:?}: no walk in {journeys:#?}"));
            let Leg::Walk { duration_secs, distance_m, .. } = walk.legs[0] else {
                panic!("{kind:?}: a walk-only journey rides");
            };
            assert_eq!(duration_secs, 480, "{kind:?}: the transfers.txt walk");
            assert!(distance_m > 0);
            assert_eq!(walk.transfers, 0);
            match kind {
                SearchKind::ArriveBy => assert_eq!(walk.arrival, at),
                _ => assert_eq!(walk.departure, at),
            }
            for journey in &journeys {
                check_journey(&tt, journey, tenjin_minami, tenjin, 0)
                    .unwrap_or_else(|problem| panic!("{kind:?}: {problem}: {journey:#?}"));
                // No ride that walking beats: leaving at the query's time (depart-at),
                // arriving by it (arrive-by), or leaving with the ride (range).
                let beaten = match kind {
                    SearchKind::DepartAt => at + 480 <= journey.arrival,
                    SearchKind::ArriveBy => journey.departure <= at - 480,
                    SearchKind::Range { .. } => journey.departure + 480 <= journey.arrival,
                };
                assert!(walk_only(journey) || !beaten, "{kind:?}: walking beats {journey:#?}");
            }
            check_pareto(&journeys).unwrap_or_else(|problem| panic!("{kind:?}: {problem}"));
        }
        // Via 中洲川端 (fukuoka:9): ride there and back, or walk one way and ride the other;
        // never a journey that reaches 天神 and leaves it again.
        let via = Options { via: Some(station("fukuoka:9")), ..many_transfers() };
        let journeys = engine
            .search(
                &request(tenjin_minami, tenjin, date, time, SearchKind::DepartAt, via),
                &mut scratch,
            )
            .expect("via runs");
        assert!(!journeys.is_empty(), "a journey via 中洲川端");
        for journey in &journeys {
            check_journey(&tt, journey, tenjin_minami, tenjin, 0)
                .unwrap_or_else(|problem| panic!("via: {problem}: {journey:#?}"));
        }
    }
}
