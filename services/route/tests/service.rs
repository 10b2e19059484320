//! The route service in-process on port 0, over HTTP: readiness after the snapshot loads,
//! journeys with fares and cursors, departure boards, error answers, and a snapshot swap.

mod common;

use std::path::Path;
use std::time::Duration;

use norikae_route::{Config, QuerySettings, TimetableSettings, TripBased};
use norikae_wire::route as wire;
use serde_json::Value;

struct Service {
    base: String,
    client: reqwest::Client,
}

impl Service {
    async fn start(snapshot: &Path) -> Self {
        Self::start_with(snapshot, QuerySettings::default()).await
    }

    async fn start_with(snapshot: &Path, query: QuerySettings) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        let port = listener.local_addr().expect("address").port();
        let config = Config {
            http: norikae_runtime::HttpSettings::for_port(port),
            timetable: TimetableSettings {
                snapshot: snapshot.to_path_buf(),
                reload_interval_secs: 1,
            },
            query,
            ..Config::default()
        };
        tokio::spawn(norikae_route::run(config, listener, std::future::pending()));
        let service =
            Self { base: format!("http://127.0.0.1:{port}"), client: reqwest::Client::new() };
        assert_eq!(service.status("/health/live").await, 200, "live at once");
        for _ in 0..600 {
            if service.status("/health/ready").await == 200 {
                return service;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("not ready within 60 s");
    }

    async fn status(&self, path: &str) -> u16 {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request")
            .status()
            .as_u16()
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let response =
            self.client.get(format!("{}{path}", self.base)).send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("json body"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_journeys_departures_and_errors_over_http() {
    let directory = tempfile::tempdir().expect("temp dir");
    let snapshot = directory.path().join("timetable.snapshot");
    let timetable = common::timetable();
    norikae_timetable::snapshot::write(&timetable, &snapshot).expect("snapshot written");
    let service = Service::start(&snapshot).await;

    // Meinohama → Hakata (Kuko line, no change), a 1-hour page from 08:00.
    let (status, body) =
        service.get("/journeys?from=fukuoka:1&to=fukuoka:11&date=2019-06-05&time=08:00").await;
    assert_eq!(status, 200, "{body}");
    let page: wire::JourneysResponse = serde_json::from_value(body).expect("journeys response");
    assert!(
        page.journeys.len() >= 6,
        "the Kuko line runs every few minutes: {}",
        page.journeys.len()
    );
    let first = &page.journeys[0];
    assert_eq!(first.transfers, 0);
    assert!(
        first.departure.starts_with("2019-06-05T08:") && first.departure.ends_with("+09:00"),
        "{}",
        first.departure
    );
    let wire::Leg::Transit(ride) = &first.legs[0] else {
        panic!("first leg is a ride: {:?}", first.legs[0])
    };
    assert_eq!(ride.from.station_id, "fukuoka:1");
    assert_eq!(ride.to.station_id, "fukuoka:11");
    assert_eq!(ride.route.mode, "subway");
    assert!(ride.stops.len() >= 11, "Meinohama to Hakata passes 11 stations");
    let fare = first.fare.as_ref().expect("Fukuoka has fares");
    assert_eq!(fare.currency, "JPY");
    assert!(fare.total >= 200.0, "{fare:?}");

    // The next page continues where this one ends.
    let later = page.later.expect("later cursor");
    let (status, body) =
        service.get(&format!("/journeys?from=fukuoka:1&to=fukuoka:11&cursor={later}")).await;
    assert_eq!(status, 200, "{body}");
    let next: wire::JourneysResponse = serde_json::from_value(body).expect("journeys response");
    assert!(
        next.journeys
            .iter()
            .all(|journey| journey.departure.as_str() >= "2019-06-05T09:00:00+09:00")
    );
    assert!(next.journeys.iter().all(|journey| !page.journeys.contains(journey)));

    // Arrive-by and a change between lines (Meinohama → Tenjin-minami walks at Tenjin).
    let (status, body) = service
        .get("/journeys?from=fukuoka:1&to=fukuoka:35&date=2019-06-05&time=09:00&arrive_by=true")
        .await;
    assert_eq!(status, 200, "{body}");
    let arrive_by: wire::JourneysResponse =
        serde_json::from_value(body).expect("journeys response");
    let best = arrive_by.journeys.last().expect("a journey");
    assert!(best.arrival.as_str() <= "2019-06-05T09:00:00+09:00");
    assert!(
        best.legs.iter().any(|leg| matches!(leg, wire::Leg::Walk(_))),
        "changes by walking: {best:?}"
    );

    // Arrive-by pages: the arrivals of the hour before 09:00, then the next hour through
    // `later`, then back through that page's `earlier`: the first page again, journey for
    // journey, without `arrive_by` on the cursor requests (the cursor keeps it).
    let first = arrive_by;
    let window = first.window.clone().expect("an arrive-by page has a window");
    assert_eq!(
        (window.start.as_str(), window.end.as_str()),
        ("2019-06-05T08:00:00+09:00", "2019-06-05T09:00:00+09:00")
    );
    assert!(first.journeys.len() >= 5, "the subway runs every few minutes: {first:?}");
    assert!(first.journeys.iter().all(|journey| {
        journey.arrival.as_str() > "2019-06-05T08:00:00+09:00"
            && journey.arrival.as_str() <= "2019-06-05T09:00:00+09:00"
    }));
    let departures: Vec<&str> = first.journeys.iter().map(|j| j.departure.as_str()).collect();
    assert!(departures.is_sorted(), "by departure: {departures:?}");
    let page_of = |cursor: &str| format!("/journeys?from=fukuoka:1&to=fukuoka:35&cursor={cursor}");
    let (status, body) = service.get(&page_of(first.later.as_deref().expect("later"))).await;
    assert_eq!(status, 200, "{body}");
    let second: wire::JourneysResponse = serde_json::from_value(body).expect("journeys response");
    assert!(!second.journeys.is_empty());
    assert!(
        second.journeys.iter().all(|journey| {
            journey.arrival.as_str() > "2019-06-05T09:00:00+09:00"
                && journey.arrival.as_str() <= "2019-06-05T10:00:00+09:00"
        }),
        "the next hour's arrivals: {second:?}"
    );
    let (status, body) = service.get(&page_of(second.earlier.as_deref().expect("earlier"))).await;
    assert_eq!(status, 200, "{body}");
    let back: wire::JourneysResponse = serde_json::from_value(body).expect("journeys response");
    assert_eq!(back.journeys, first.journeys, "earlier after later is the first page");
    assert_eq!(back.window, first.window);
    // window=0: the plain arrive-by set, without cursors.
    let (status, body) = service
        .get("/journeys?from=fukuoka:1&to=fukuoka:35&date=2019-06-05&time=09:00&arrive_by=true&window=0")
        .await;
    assert_eq!(status, 200, "{body}");
    let plain: wire::JourneysResponse = serde_json::from_value(body).expect("journeys response");
    assert!(plain.later.is_none() && plain.earlier.is_none() && plain.window.is_none());
    let latest = plain.journeys.iter().map(|journey| &journey.departure).max();
    assert_eq!(
        latest,
        first.journeys.iter().map(|journey| &journey.departure).max(),
        "the page holds the latest departure that arrives by 09:00"
    );

    // Departure board of Tenjin.
    let (status, body) =
        service.get("/stations/fukuoka:8/departures?date=2019-06-05&time=08:00&limit=3").await;
    assert_eq!(status, 200, "{body}");
    let board: wire::DeparturesResponse =
        serde_json::from_value(body).expect("departures response");
    assert_eq!(board.groups.len(), 2, "Kuko line both ways: {board:?}");
    assert!(
        board.groups.iter().all(|group| group.departures.len() == 3 && !group.headsign.is_empty())
    );

    // Errors.
    let (status, body) =
        service.get("/journeys?from=fukuoka:nope&to=fukuoka:11&date=2019-06-05&time=08:00").await;
    assert_eq!(
        (status, body["code"].as_str(), body["field"].as_str()),
        (404, Some("unknown_station"), Some("from"))
    );
    let (status, body) =
        service.get("/journeys?from=fukuoka:1&to=fukuoka:11&date=2030-01-01&time=08:00").await;
    assert_eq!((status, body["code"].as_str()), (400, Some("date_out_of_range")));
    assert!(body["detail"].as_str().is_some_and(|detail| detail.contains("2025-10-25")), "{body}");
    let (status, body) = service.get("/journeys?from=fukuoka:1&to=fukuoka:11&time=8h").await;
    assert_eq!((status, body["field"].as_str()), (400, Some("time")));
    let (status, _) = service.get("/stations/nowhere/departures").await;
    assert_eq!(status, 404);

    // A newer snapshot (Fukuoka only) is picked up while the service keeps answering.
    let fukuoka_only = norikae_timetable::import(
        &[norikae_timetable::FeedInput::new(
            "fukuoka",
            norikae_timetable::bundled::repo_feeds_dir()
                .join("fukuoka_subway/FukuokaCitySubway-20190316.zip"),
        )],
        &norikae_timetable::ImportOptions::default(),
        &norikae_timetable::NoProgress,
    )
    .expect("import")
    .0;
    let staged = directory.path().join("staged.snapshot");
    norikae_timetable::snapshot::write(&fukuoka_only, &staged).expect("snapshot written");
    std::fs::rename(&staged, &snapshot).expect("swap snapshot");
    let mut swapped = false;
    for _ in 0..300 {
        let (status, _) = service
            .get("/journeys?from=fukuoka:1&to=fukuoka:11&date=2019-06-05&time=08:00&window=0")
            .await;
        assert_eq!(status, 200, "answers during the swap");
        let (status, body) =
            service.get("/stations/ryobi:18_1/departures?date=2025-06-04&time=08:00").await;
        if status == 404 {
            assert_eq!(body["code"].as_str(), Some("unknown_station"));
            swapped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(swapped, "the Fukuoka-only snapshot was not picked up");

    // A cursor from before the switch is stale: its pages may no longer exist.
    let (status, body) =
        service.get(&format!("/journeys?from=fukuoka:1&to=fukuoka:11&cursor={later}")).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_cursor")), "stale cursor");
}

/// Issue 23: between 天神南 and 天神 walking (480 s) beats every ride, so the first journey
/// is on foot: one walk leg with its distance and duration, no vehicle, no transfer, no fare.
/// Waits for the engine to offer walk-only journeys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walking_is_the_first_journey_when_it_is_the_fastest() {
    let directory = tempfile::tempdir().expect("temp dir");
    let snapshot = directory.path().join("timetable.snapshot");
    norikae_timetable::snapshot::write(&common::timetable(), &snapshot).expect("snapshot written");
    let service = Service::start(&snapshot).await;

    let (status, body) = service
        .get("/journeys?from=fukuoka:35&to=fukuoka:8&date=2019-10-16&time=14:23:58&window=0")
        .await;
    assert_eq!(status, 200, "{body}");
    let page: wire::JourneysResponse =
        serde_json::from_value(body.clone()).expect("journeys response");
    let first = page.journeys.first().expect("a journey");
    let [wire::Leg::Walk(walk)] = first.legs.as_slice() else {
        panic!("the first journey is one walk: {first:?}")
    };
    assert_eq!((first.vehicles, first.transfers), (0, 0), "on foot: {first:?}");
    let raw = &body["journeys"][0];
    assert_eq!(raw.get("fare"), None, "no fare member on foot (not 0, not null): {raw}");
    let (wire::Place::Stop(from), wire::Place::Stop(to)) = (&walk.from, &walk.to) else {
        panic!("from a stop to a stop: {walk:?}")
    };
    assert_eq!((from.station_id.as_str(), to.station_id.as_str()), ("fukuoka:35", "fukuoka:8"));
    assert_eq!(first.departure, "2019-10-16T14:23:58+09:00", "leaves at once");
    assert_eq!(i64::from(walk.duration_secs), first.duration_secs, "{first:?}");
    assert_eq!(walk.duration_secs, 480, "the walking link takes 8 minutes: {walk:?}");
    // The stops are 421.6 m apart as the crow flies; nobody walks faster than 1.5 m/s.
    assert!((421..=720).contains(&walk.distance_m), "a walk's distance: {walk:?}");
    // Any other journey rides, and its counts agree with its legs.
    for journey in &page.journeys[1..] {
        let rides = journey.legs.iter().filter(|leg| matches!(leg, wire::Leg::Transit(_))).count();
        assert!(journey.vehicles >= 1, "one walk-only journey at most: {journey:?}");
        assert_eq!(journey.vehicles as usize, rides, "{journey:?}");
        assert_eq!(journey.transfers, journey.vehicles - 1, "{journey:?}");
        assert!(journey.arrival >= first.arrival, "walking arrives first: {journey:?}");
    }
}

/// Depart-at searches (`window=0`) with the default options use Trip-Based routing when its
/// transfers are built (here by the first search, `on_demand`), and the same journeys come
/// back with it off; `/status` says which days are built and how many searches used them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn depart_at_searches_use_trip_based_routing_when_configured() {
    let directory = tempfile::tempdir().expect("temp dir");
    let snapshot = directory.path().join("timetable.snapshot");
    norikae_timetable::snapshot::write(&common::timetable(), &snapshot).expect("snapshot written");
    let query = "/journeys?from=fukuoka:1&to=fukuoka:11&date=2019-06-05&time=08:00&window=0";
    let mut answers = Vec::new();
    for mode in [TripBased::OnDemand, TripBased::Off] {
        let settings = QuerySettings { trip_based: mode, ..QuerySettings::default() };
        let service = Service::start_with(&snapshot, settings).await;
        let (status, body) = service.get(query).await;
        assert_eq!(status, 200, "{body}");
        let page: wire::JourneysResponse = serde_json::from_value(body).expect("journeys response");
        assert!(!page.journeys.is_empty(), "{mode:?}: Meinohama → Hakata has journeys");
        answers.push(serde_json::to_value(&page.journeys).expect("journeys serialise"));
        let (status, body) = service.get("/status").await;
        assert_eq!(status, 200, "{body}");
        let searches = body["trip_based"]["searches"].as_u64().expect("searches");
        let days = body["trip_based"]["days"].as_array().expect("days").len();
        match mode {
            TripBased::OnDemand => {
                assert_eq!(searches, 1, "{body}");
                assert_eq!(days, 3, "the days before, of and after 2019-06-05: {body}");
            }
            _ => assert_eq!((searches, days), (0, 0), "{body}"),
        }
    }
    assert_eq!(answers[0], answers[1], "Trip-Based and RAPTOR give the same journeys");
}

/// A cursor key the cursor tests configure (and sign their forgeries with).
const CURSOR_KEY: &str = "the route tests' cursor key, 32 bytes or more";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_only_page_the_request_they_were_issued_for() {
    use norikae_route::cursor::{Binding, CursorSigner, Page};
    use norikae_route::engine::{Options, Place};

    let directory = tempfile::tempdir().expect("temp dir");
    let snapshot = directory.path().join("timetable.snapshot");
    let timetable = common::timetable();
    norikae_timetable::snapshot::write(&timetable, &snapshot).expect("snapshot written");
    let settings = QuerySettings {
        cursor_keys: norikae_route::CursorKeys::new([CURSOR_KEY]),
        ..QuerySettings::default()
    };
    let max_window_secs = settings.max_window_secs;
    let service = Service::start_with(&snapshot, settings).await;
    let rejected = |status: u16, body: &Value, case: &str| {
        assert_eq!(status, 400, "{case}: {body}");
        assert_eq!(body["code"], "invalid_cursor", "{case}: {body}");
        assert_eq!(body["field"], "cursor", "{case}: {body}");
    };

    let (status, body) =
        service.get("/journeys?from=fukuoka:1&to=fukuoka:11&date=2019-06-05&time=08:00").await;
    assert_eq!(status, 200, "{body}");
    let page: wire::JourneysResponse = serde_json::from_value(body).expect("journeys response");
    let later = page.later.expect("later cursor");
    assert!(
        later.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'),
        "URL-safe: {later}"
    );

    // A good cursor pages (and pages again).
    let (status, body) =
        service.get(&format!("/journeys?from=fukuoka:1&to=fukuoka:11&cursor={later}")).await;
    assert_eq!(status, 200, "{body}");
    let next: wire::JourneysResponse = serde_json::from_value(body).expect("journeys response");
    let earlier = next.earlier.expect("earlier cursor");
    let (status, body) =
        service.get(&format!("/journeys?from=fukuoka:1&to=fukuoka:11&cursor={earlier}")).await;
    assert_eq!(status, 200, "{body}");
    let again: wire::JourneysResponse = serde_json::from_value(body).expect("journeys response");
    assert_eq!(again.journeys, page.journeys, "earlier of later is the first page");

    // Tampered: one character changed, anywhere.
    for position in [0, later.len() / 2, later.len() - 2] {
        let mut tampered = later.clone().into_bytes();
        tampered[position] = if tampered[position] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ascii");
        let (status, body) =
            service.get(&format!("/journeys?from=fukuoka:1&to=fukuoka:11&cursor={tampered}")).await;
        rejected(status, &body, "tampered");
    }

    // Another request: other places, other options.
    for other in [
        "from=fukuoka:1&to=fukuoka:35",
        "from=fukuoka:2&to=fukuoka:11",
        "from=fukuoka:1&to=fukuoka:11&max_transfers=1",
        "from=fukuoka:1&to=fukuoka:11&wheelchair=true",
        "from=fukuoka:1&to=fukuoka:11&via=fukuoka:8",
    ] {
        let (status, body) = service.get(&format!("/journeys?{other}&cursor={later}")).await;
        rejected(status, &body, other);
    }

    // Forged with this request's binding: a huge window signed with a wrong key, and values
    // that overflow signed with the right one (a leaked key lifts no limit).
    let (_, status_body) = service.get("/status").await;
    let hash = status_body["hash"].as_str().expect("a hash");
    let place = |id: &str| Place::Station(timetable.station_by_id(id).expect("a station"));
    let binding = Binding::new(place("fukuoka:1"), place("fukuoka:11"), &Options::default(), hash);
    let date = chrono::NaiveDate::from_ymd_opt(2019, 6, 5).expect("a date");
    let right = CursorSigner::new(&norikae_route::CursorKeys::new([CURSOR_KEY]));
    let good = right.encode(&Page { date, time_secs: 9 * 3600, window_secs: 3600 }, &binding);
    assert_eq!(good, later, "the test binds as the service does");
    let wrong = CursorSigner::new(&norikae_route::CursorKeys::new([
        "a key the service does not know, 32 bytes",
    ]));
    let huge = Page { date, time_secs: 0, window_secs: 30 * 86_400 };
    let forgeries = [
        ("huge window, wrong key", wrong.encode(&huge, &binding)),
        ("huge window, right key", right.encode(&huge, &binding)),
        (
            "window above the limit",
            right.encode(&Page { window_secs: max_window_secs + 1, ..huge }, &binding),
        ),
        (
            "overflowing time and window",
            right.encode(&Page { date, time_secs: u32::MAX, window_secs: u32::MAX }, &binding),
        ),
        (
            "overflowing time",
            right.encode(&Page { date, time_secs: u32::MAX - 10, window_secs: 3600 }, &binding),
        ),
    ];
    for (case, forged) in forgeries {
        let (status, body) =
            service.get(&format!("/journeys?from=fukuoka:1&to=fukuoka:11&cursor={forged}")).await;
        rejected(status, &body, case);
    }
    // And the old unsigned format.
    let unsigned = "eyJkIjoiMjAxOS0wNi0wNSIsInQiOjAsInciOjQwMDAwMDAwMDB9";
    let (status, body) =
        service.get(&format!("/journeys?from=fukuoka:1&to=fukuoka:11&cursor={unsigned}")).await;
    rejected(status, &body, "unsigned");
}

/// The heaviest kind of request the limits allow, on the bundled feeds' busiest bus stations: a
/// 6-hour page via a station (each journey to it continued by a search of its own), as many
/// transfers as allowed (0.7 s of one core alone in a debug build).
const WORST_CASE: &str = "/journeys?from=ryobi:38_1&to=ryobi:40_1&via=ryobi:21_1&date=2025-06-04&time=06:00&window=21600&max_transfers=8";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worst_case_requests_leave_room_for_a_plain_one() {
    let directory = tempfile::tempdir().expect("temp dir");
    let snapshot = directory.path().join("timetable.snapshot");
    norikae_timetable::snapshot::write(&common::timetable(), &snapshot).expect("snapshot written");
    // Scaled down: a timeout well under the second the plain request gets, and more slots
    // than cores, as a busy service has while it waits on memory.
    let settings = QuerySettings {
        max_concurrent: 4,
        timeout_ms: 400,
        trip_based: TripBased::Off,
        ..QuerySettings::default()
    };
    let service = std::sync::Arc::new(Service::start_with(&snapshot, settings).await);
    let code = |body: &Value| body["code"].as_str().unwrap_or_default().to_owned();

    // Builds the day tables.
    let started = std::time::Instant::now();
    let (status, body) = service.get(WORST_CASE).await;
    eprintln!("a worst-case request alone: {status} {} in {:?}", code(&body), started.elapsed());
    // Real time: the query timeout cuts real CPU work on the blocking pool, over real sockets.
    tokio::time::sleep(Duration::from_millis(1_500)).await;

    let worst: Vec<_> = (0..50)
        .map(|_| {
            let service = std::sync::Arc::clone(&service);
            tokio::spawn(async move { service.get(WORST_CASE).await })
        })
        .collect();
    // Let them take the slots and queue for them (the plain request queues behind those
    // waiting until they time out: half the timeout from now).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    let (status, body) = service
        .get("/journeys?from=ryobi:38_1&to=ryobi:40_1&date=2025-06-04&time=08:00&window=0")
        .await;
    let plain = started.elapsed();
    eprintln!("a plain depart-at request among 50 worst-case ones: {status} in {plain:?}");
    assert_eq!((status, code(&body).as_str()), (200, ""));
    assert!(!body["journeys"].as_array().expect("journeys").is_empty(), "a journey");
    assert!(plain < Duration::from_secs(1), "the plain request waited {plain:?}");
    for request in worst {
        let (status, body) = request.await.expect("the request task");
        assert!(status == 200 || code(&body) == "query_timeout", "{status} {}", code(&body));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exclusion_lists_and_via_searches_are_bounded() {
    let directory = tempfile::tempdir().expect("temp dir");
    let snapshot = directory.path().join("timetable.snapshot");
    norikae_timetable::snapshot::write(&common::timetable(), &snapshot).expect("snapshot written");
    let settings =
        QuerySettings { max_exclusions: 1, max_via_heads: 4, ..QuerySettings::default() };
    let service = Service::start_with(&snapshot, settings).await;
    let journeys = "/journeys?from=fukuoka:1&to=fukuoka:11&date=2019-06-05&time=08:00";

    // Repeats count once.
    let (status, body) = service.get(&format!("{journeys}&exclude_modes=bus,bus,%20bus")).await;
    assert_eq!(status, 200, "{}", body["code"]);
    let (status, body) = service.get(&format!("{journeys}&exclude_modes=bus,tram")).await;
    assert_eq!(status, 400);
    assert_eq!(
        (body["code"].as_str(), body["field"].as_str()),
        (Some("invalid_parameter"), Some("exclude_modes"))
    );

    // A page via a station continues from a few journeys at most.
    let (status, body) = service.get(&format!("{journeys}&via=fukuoka:8&window=300")).await;
    assert_eq!(status, 200, "{}", body["detail"]);
    let (status, body) = service.get(&format!("{journeys}&via=fukuoka:8&window=3600")).await;
    assert_eq!(status, 400);
    assert_eq!(
        (body["code"].as_str(), body["field"].as_str()),
        (Some("invalid_parameter"), Some("via"))
    );
}
