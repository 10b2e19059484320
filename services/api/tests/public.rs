//! End to end, in open access on SQLite: search, route and api in-process on the bundled
//! feeds, called as a client would, every answer checked against the OpenAPI document.

mod common;

use std::sync::{Arc, Mutex};

use common::{Api, Engines, api_config, check_documented, engines, openapi, sqlite_url};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_endpoints_answer_as_documented() {
    let document = openapi();
    assert_eq!(
        document["openapi"].as_str().map(|version| &version[..3]),
        Some("3.1"),
        "OpenAPI 3.1"
    );
    let directory = tempfile::tempdir().expect("temp dir");
    let api = Api::start(api_config(&engines(), sqlite_url(&directory), true)).await;

    // Station search, in English by Accept-Language, with ETag and a 304 on a repeat.
    let search = api
        .send(
            api.client
                .get(format!("{}/v1/stations?q=tenjin&limit=5", api.base))
                .header("accept-language", "en-US,en;q=0.9"),
        )
        .await;
    assert_eq!(search.status, 200, "{}", search.body);
    check_documented(&document, "get", "/v1/stations", &search);
    let first = &search.body["results"][0];
    assert_eq!(first["id"], "fukuoka:8", "{}", search.body);
    assert_eq!(first["name"], "Tenjin", "names in English: {first}");
    let etag = search.header("etag").expect("ETag on station data").to_owned();
    assert!(search.header("cache-control").is_some_and(|value| value.contains("max-age")));
    let repeat = api
        .send(
            api.client
                .get(format!("{}/v1/stations?q=tenjin&limit=5", api.base))
                .header("accept-language", "en-US,en;q=0.9")
                .header("if-none-match", &etag),
        )
        .await;
    assert_eq!(repeat.status, 304);
    assert_eq!(repeat.header("etag"), Some(etag.as_str()));
    // lang= wins over Accept-Language, and another language is another ETag.
    let japanese = api
        .send(
            api.client
                .get(format!("{}/v1/stations?q=tenjin&limit=5&lang=ja", api.base))
                .header("accept-language", "en")
                .header("if-none-match", &etag),
        )
        .await;
    assert_eq!(japanese.status, 200);
    assert_eq!(japanese.body["results"][0]["name"], "天神");

    let nearby = api.get("/v1/stations/nearby?lat=33.5911&lon=130.3989&radius_m=800").await;
    assert_eq!(nearby.status, 200, "{}", nearby.body);
    check_documented(&document, "get", "/v1/stations/nearby", &nearby);
    assert!(nearby.body["results"].as_array().is_some_and(|results| !results.is_empty()));

    let station = api.get("/v1/stations/okaden:18_10").await;
    assert_eq!(station.status, 200, "{}", station.body);
    check_documented(&document, "get", "/v1/stations/{id}", &station);
    assert_eq!(station.body["name"], "岡山駅");
    assert!(station.body["stops"].as_array().is_some_and(|stops| !stops.is_empty()));

    let board =
        api.get("/v1/stations/fukuoka:8/departures?date=2019-06-05&time=08:00&limit=3").await;
    assert_eq!(board.status, 200, "{}", board.body);
    check_documented(&document, "get", "/v1/stations/{id}/departures", &board);
    assert!(board.body["groups"].as_array().is_some_and(|groups| !groups.is_empty()));
    assert!(board.body["alerts"].is_array() && board.body["groups"][0]["alerts"].is_array());

    // Journeys Meinohama → Tenjin, then the next page through the cursor.
    let journeys =
        api.get("/v1/journeys?from=fukuoka:1&to=fukuoka:8&date=2019-06-05&time=08:00").await;
    assert_eq!(journeys.status, 200, "{}", journeys.body);
    check_documented(&document, "get", "/v1/journeys", &journeys);
    let list = journeys.body["journeys"].as_array().expect("journeys");
    assert!(list.len() >= 6, "the Kuko line runs every few minutes: {}", list.len());
    let leg = &list[0]["legs"][0];
    assert_eq!(leg["type"], "transit");
    assert!(leg["alerts"].is_array(), "transit legs carry alerts: {leg}");
    assert!(journeys.body["alerts"].is_array());
    let later = journeys.body["later"].as_str().expect("later cursor");
    let next = api.get(&format!("/v1/journeys?from=fukuoka:1&to=fukuoka:8&cursor={later}")).await;
    assert_eq!(next.status, 200, "{}", next.body);
    check_documented(&document, "get", "/v1/journeys", &next);
    assert!(next.body["journeys"][0]["departure"].as_str() > list[0]["departure"].as_str());

    // From coordinates (near Tenjin) to a station.
    let from_point = api
        .get("/v1/journeys?from=33.5911,130.3989&to=fukuoka:1&date=2019-06-05&time=09:00&window=0")
        .await;
    assert_eq!(from_point.status, 200, "{}", from_point.body);
    check_documented(&document, "get", "/v1/journeys", &from_point);

    let alerts = api.get("/v1/alerts").await;
    assert_eq!(alerts.status, 200, "{}", alerts.body);
    check_documented(&document, "get", "/v1/alerts", &alerts);

    // The status: the route engine's timetable and its recorded version.
    let mut status = api.get("/v1/status").await;
    for _ in 0..50 {
        if status.body["timetable"]["activated_at"].is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        status = api.get("/v1/status").await;
    }
    assert_eq!(status.status, 200, "{}", status.body);
    check_documented(&document, "get", "/v1/status", &status);
    let timetable = &status.body["timetable"];
    let feeds: Vec<&str> = timetable["feeds"]
        .as_array()
        .expect("feeds")
        .iter()
        .filter_map(|feed| feed["name"].as_str())
        .collect();
    for feed in ["ryobi", "okaden", "chutetsu", "fukuoka"] {
        assert!(feeds.contains(&feed), "{feeds:?}");
    }
    let fukuoka = timetable["feeds"]
        .as_array()
        .expect("feeds")
        .iter()
        .find(|feed| feed["name"] == "fukuoka")
        .expect("fukuoka");
    assert_eq!(fukuoka["start_date"], "2019-03-16");
    assert!(timetable["stations"].as_u64().is_some_and(|count| count > 100));
    assert!(timetable["activated_at"].is_string(), "the version was recorded: {timetable}");
    let versions = status.body["versions"].as_array().expect("versions");
    assert_eq!(versions.len(), 1, "one version however often it is polled: {versions:?}");
    assert_eq!(versions[0]["hash"], timetable["hash"]);

    let served = api.get("/v1/openapi.json").await;
    assert_eq!(served.status, 200);
    assert_eq!(served.body, document, "the served document is the one generated from the code");
    let docs = api.client.get(format!("{}/v1/docs", api.base)).send().await.expect("docs");
    assert_eq!(docs.status(), 200);
    let page = docs.text().await.expect("docs page");
    assert!(
        page.contains("<html") && page.contains("Norikae API"),
        "the docs page embeds the document"
    );

    api.stop().await;
}

/// Issue 23: walking 天神南 → 天神 (480 s) beats every ride, so the first journey is on foot:
/// passed through with `vehicles: 0`, no transfer, no fare and no alerts, as documented.
/// Waits for the route engine to offer walk-only journeys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journey_on_foot_is_passed_through_as_documented() {
    let document = openapi();
    let directory = tempfile::tempdir().expect("temp dir");
    let api = Api::start(api_config(&engines(), sqlite_url(&directory), true)).await;

    let answer = api
        .get("/v1/journeys?from=fukuoka:35&to=fukuoka:8&date=2019-10-16&time=14:23:58&window=0")
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    check_documented(&document, "get", "/v1/journeys", &answer);
    let first = &answer.body["journeys"][0];
    assert_eq!((&first["vehicles"], &first["transfers"]), (&0.into(), &0.into()), "{first}");
    assert_eq!(first.get("fare"), None, "no fare on foot (not 0, not null): {first}");
    let legs = first["legs"].as_array().expect("legs");
    assert_eq!(legs.len(), 1, "one walk: {first}");
    let walk = &legs[0];
    assert_eq!(walk["type"], "walk", "{walk}");
    assert_eq!(
        (&walk["from"]["station_id"], &walk["to"]["station_id"]),
        (&"fukuoka:35".into(), &"fukuoka:8".into())
    );
    assert_eq!(walk["duration_secs"], 480, "{walk}");
    // The stops are 421.6 m apart as the crow flies; nobody walks faster than 1.5 m/s.
    let distance_m = walk["distance_m"].as_u64().expect("a distance");
    assert!((421..=720).contains(&distance_m), "a walk's distance: {walk}");
    assert_eq!(walk.get("alerts"), None, "walk legs carry no alerts: {walk}");

    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_answered_with_problems_naming_the_field() {
    let document = openapi();
    let directory = tempfile::tempdir().expect("temp dir");
    let api = Api::start(api_config(&engines(), sqlite_url(&directory), true)).await;

    // (path, template, status, code, field)
    let cases: &[(&str, &str, u16, &str, Option<&str>)] = &[
        ("/v1/journeys?to=fukuoka:8", "/v1/journeys", 400, "missing_parameter", Some("from")),
        (
            "/v1/journeys?from=fukuoka:1&to=fukuoka:8&max_transfers=lots",
            "/v1/journeys",
            400,
            "invalid_parameter",
            Some("max_transfers"),
        ),
        (
            "/v1/journeys?from=fukuoka:1&to=fukuoka:8&max_transfers=99",
            "/v1/journeys",
            400,
            "invalid_parameter",
            Some("max_transfers"),
        ),
        (
            "/v1/journeys?from=nowhere:1&to=fukuoka:8&date=2019-06-05",
            "/v1/journeys",
            404,
            "unknown_station",
            Some("from"),
        ),
        (
            "/v1/journeys?from=fukuoka:1&to=fukuoka:8&date=2031-01-01&time=08:00",
            "/v1/journeys",
            400,
            "date_out_of_range",
            Some("date"),
        ),
        (
            "/v1/journeys?from=fukuoka:1&to=fukuoka:8&date=June&time=08:00",
            "/v1/journeys",
            400,
            "invalid_parameter",
            Some("date"),
        ),
        (
            "/v1/journeys?from=fukuoka:1&to=fukuoka:8&window=99999999",
            "/v1/journeys",
            400,
            "invalid_parameter",
            Some("window"),
        ),
        (
            "/v1/journeys?from=fukuoka:1&to=fukuoka:8&cursor=garbage!",
            "/v1/journeys",
            400,
            "invalid_cursor",
            Some("cursor"),
        ),
        (
            "/v1/journeys?from=95,200&to=fukuoka:8",
            "/v1/journeys",
            400,
            "invalid_parameter",
            Some("from"),
        ),
        ("/v1/stations?q=", "/v1/stations", 400, "empty_query", Some("q")),
        ("/v1/stations", "/v1/stations", 400, "missing_parameter", Some("q")),
        (
            "/v1/stations?q=tenjin&limit=100000",
            "/v1/stations",
            400,
            "invalid_parameter",
            Some("limit"),
        ),
        (
            "/v1/stations?q=tenjin&limit=99999999999999",
            "/v1/stations",
            400,
            "invalid_parameter",
            Some("limit"),
        ),
        (
            "/v1/stations?q=tenjin&near=north",
            "/v1/stations",
            400,
            "invalid_parameter",
            Some("near"),
        ),
        (
            "/v1/stations?q=tenjin&lang=%E6%97%A5%E6%9C%AC",
            "/v1/stations",
            400,
            "invalid_parameter",
            Some("lang"),
        ),
        (
            "/v1/stations/nearby?lat=north&lon=130",
            "/v1/stations/nearby",
            400,
            "invalid_parameter",
            Some("lat"),
        ),
        (
            "/v1/stations/nearby?lat=33.59&lon=130.4&radius_m=1000000",
            "/v1/stations/nearby",
            400,
            "invalid_parameter",
            Some("radius_m"),
        ),
        ("/v1/stations/nowhere:1", "/v1/stations/{id}", 404, "unknown_station", None),
        // Found by Schemathesis (loadtests/fuzz): a bad `lang` or a path segment that is not
        // UTF-8 on an operation that did not list 400 (or answered it as plain text).
        (
            "/v1/stations/fukuoka:8?lang=%C3%8D%2F",
            "/v1/stations/{id}",
            400,
            "invalid_parameter",
            Some("lang"),
        ),
        ("/v1/stations/%FF", "/v1/stations/{id}", 400, "invalid_parameter", Some("id")),
        (
            "/v1/stations/%FF/departures",
            "/v1/stations/{id}/departures",
            400,
            "invalid_parameter",
            Some("id"),
        ),
        (
            "/v1/stations/nowhere:1/departures?date=2019-06-05",
            "/v1/stations/{id}/departures",
            404,
            "unknown_station",
            Some("id"),
        ),
        (
            "/v1/stations/fukuoka:8/departures?date=2019-06-05&limit=5000",
            "/v1/stations/{id}/departures",
            400,
            "invalid_parameter",
            Some("limit"),
        ),
        (
            "/v1/stations/fukuoka:8/departures?date=1999-01-01",
            "/v1/stations/{id}/departures",
            400,
            "date_out_of_range",
            Some("date"),
        ),
        (
            "/v1/stations/fukuoka:8/departures?time=25h",
            "/v1/stations/{id}/departures",
            400,
            "invalid_parameter",
            Some("time"),
        ),
        ("/v1/alerts?active=sometimes", "/v1/alerts", 400, "invalid_parameter", Some("active")),
    ];
    for (path, template, status, code, field) in cases {
        let answer = api.get(path).await;
        assert_eq!(answer.status, *status, "{path}: {}", answer.body);
        assert_eq!(answer.body["code"], *code, "{path}: {}", answer.body);
        assert_eq!(answer.body["field"].as_str(), *field, "{path}: {}", answer.body);
        assert_eq!(answer.header("content-type"), Some("application/problem+json"), "{path}");
        check_documented(&document, "get", template, &answer);
    }
    api.stop().await;
}

/// An engine stand-in on port 0 that records the path (and query) of every call and answers
/// 404 `unknown_station`.
async fn recording_engine() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorder = seen.clone();
    let router = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let recorder = recorder.clone();
        async move {
            // The api's own polls (status, realtime alerts) are not forwarded requests.
            if uri.path() != "/status" && uri.path() != "/realtime/alerts" {
                recorder.lock().unwrap().push(uri.to_string());
            }
            norikae_runtime::Problem::not_found("unknown_station", "no such station")
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, seen)
}

#[tokio::test]
async fn dot_segments_in_a_station_id_cannot_reach_another_engine_path() {
    let (url, seen) = recording_engine().await;
    let engines = Engines { search_url: url.clone(), route_url: url };
    let directory = tempfile::tempdir().expect("temp dir");
    let api = Api::start(api_config(&engines, sqlite_url(&directory), true)).await;

    // `..` as the id, plainly and percent-encoded: 404 at the edge, no engine call at all
    // (forwarded, `/stations/../departures` would be `/departures` on the engine). Sent raw:
    // reqwest, like a browser, would resolve the dots before sending.
    for path in [
        "/v1/stations/%2E%2E/departures",
        "/v1/stations/%2e%2e",
        "/v1/stations/../departures",
        "/v1/stations/%2E/departures",
    ] {
        let (status, answer) = raw_get(&api.base, path).await;
        assert_eq!(status, 404, "{path}: {answer}");
        assert!(answer.contains(r#""code":"unknown_station""#), "{path}: {answer}");
    }
    assert_eq!(*seen.lock().unwrap(), Vec::<String>::new(), "an engine was called");

    // Slashes and dots inside an id stay inside its one segment.
    let (status, answer) = raw_get(&api.base, "/v1/stations/x:..%2F..%2Fstatus/departures").await;
    assert_eq!(status, 404, "{answer}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].starts_with("/stations/x:..%2F..%2Fstatus/departures"), "{seen:?}");
    api.stop().await;
}

/// A GET with `path` exactly as given, over a plain TCP connection: status and whole answer.
async fn raw_get(base: &str, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.split(' ').nth(1).and_then(|code| code.parse().ok()).expect("status");
    (status, answer)
}
