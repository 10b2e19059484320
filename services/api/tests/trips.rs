//! `/v1/trips/{id}` end to end on the bundled feeds: a journey leg's and a departure's
//! `trip_id` and `service_date` call the run of the trip, its geometry starts and ends at its
//! stops, and bad ids and dates get problems naming them, all as the OpenAPI document says.

mod common;

use common::{Api, api_config, check_documented, engines, openapi, sqlite_url};
use norikae_wire::polyline;
use serde_json::Value;

fn segment(id: &str) -> String {
    norikae_runtime::path::encode_path_segment(id).expect("a trip id is a path segment")
}

/// Metres between two points (equirectangular: fine for a few metres).
fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
    let dy = (a.0 - b.0) * 111_132.0;
    let dx = (a.1 - b.1) * 111_320.0 * a.0.to_radians().cos();
    (dx * dx + dy * dy).sqrt()
}

fn position(stop: &Value) -> (f64, f64) {
    (stop["lat"].as_f64().expect("lat"), stop["lon"].as_f64().expect("lon"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leg_and_a_departure_name_the_run_of_their_trip() {
    let document = openapi();
    let directory = tempfile::tempdir().expect("temp dir");
    let api = Api::start(api_config(&engines(), sqlite_url(&directory), true)).await;

    // Meinohama → Tenjin: the ride's geometry runs from the boarding to the alighting stop.
    let journeys =
        api.get("/v1/journeys?from=fukuoka:1&to=fukuoka:8&date=2019-06-05&time=08:00").await;
    assert_eq!(journeys.status, 200, "{}", journeys.body);
    check_documented(&document, "get", "/v1/journeys", &journeys);
    let leg = &journeys.body["journeys"][0]["legs"][0];
    assert_eq!(leg["type"], "transit", "{leg}");
    let path = polyline::decode(leg["geometry"].as_str().expect("geometry")).expect("a polyline");
    assert!(path.len() > 2, "the subway's shape between 13 stations: {path:?}");
    assert!(metres(path[0], position(&leg["from"])) < 2.0, "{path:?} {}", leg["from"]);
    assert!(metres(path[path.len() - 1], position(&leg["to"])) < 2.0, "{path:?} {}", leg["to"]);

    let trip_id = leg["trip_id"].as_str().expect("trip id");
    let service_date = leg["service_date"].as_str().expect("service date");
    assert_eq!(service_date, "2019-06-05");
    let trip = api.get(&format!("/v1/trips/{}?date={service_date}", segment(trip_id))).await;
    assert_eq!(trip.status, 200, "{}", trip.body);
    check_documented(&document, "get", "/v1/trips/{id}", &trip);
    assert_eq!(trip.body["trip_id"], trip_id);
    assert_eq!(trip.body["service_date"], service_date);
    assert_eq!(trip.body["route"]["id"], leg["route"]["id"]);
    assert!(trip.body["alerts"].is_array());
    let stops = trip.body["stops"].as_array().expect("stops");
    let station_ids: Vec<&str> =
        stops.iter().filter_map(|stop| stop["stop"]["station_id"].as_str()).collect();
    let boarding = station_ids.iter().position(|id| *id == "fukuoka:1").expect("calls at 姪浜");
    let alighting = station_ids.iter().position(|id| *id == "fukuoka:8").expect("calls at 天神");
    assert!(boarding < alighting, "{station_ids:?}");
    // The run's times are the leg's where they meet.
    assert_eq!(stops[boarding]["departure"], leg["departure"], "{}", stops[boarding]);
    assert_eq!(stops[alighting]["arrival"], leg["arrival"], "{}", stops[alighting]);
    assert!(stops[0].get("arrival").is_none() && stops[stops.len() - 1].get("departure").is_none());
    assert!(
        stops.iter().all(|stop| stop["pickup"].is_boolean() && stop["station_name"].is_string())
    );
    let whole =
        polyline::decode(trip.body["geometry"].as_str().expect("geometry")).expect("polyline");
    assert!(metres(whole[0], position(&stops[0]["stop"])) < 2.0);
    assert!(metres(whole[whole.len() - 1], position(&stops[stops.len() - 1]["stop"])) < 2.0);

    // A departure of Tenjin's board names its run the same way.
    let board =
        api.get("/v1/stations/fukuoka:8/departures?date=2019-06-05&time=23:50&limit=2").await;
    assert_eq!(board.status, 200, "{}", board.body);
    check_documented(&document, "get", "/v1/stations/{id}/departures", &board);
    let departure = &board.body["groups"][0]["departures"][0];
    let date = departure["service_date"].as_str().expect("service date");
    let run = api
        .get(&format!(
            "/v1/trips/{}?date={date}",
            segment(departure["trip_id"].as_str().expect("id"))
        ))
        .await;
    assert_eq!(run.status, 200, "{}", run.body);
    let calls_at_tenjin = run.body["stops"].as_array().expect("stops").iter().any(|stop| {
        stop["departure"] == departure["departure"] && stop["stop"]["station_id"] == "fukuoka:8"
    });
    assert!(calls_at_tenjin, "{}", run.body);

    // Problems: unknown trip, a date the trip does not run, malformed date and id.
    let unknown = api.get("/v1/trips/fukuoka:no-such-trip?date=2019-06-05").await;
    check_documented(&document, "get", "/v1/trips/{id}", &unknown);
    assert_eq!((unknown.status, unknown.body["code"].as_str()), (404, Some("unknown_trip")));
    let not_running = api.get(&format!("/v1/trips/{}?date=2031-01-01", segment(trip_id))).await;
    check_documented(&document, "get", "/v1/trips/{id}", &not_running);
    assert_eq!(
        (not_running.status, not_running.body["code"].as_str(), not_running.body["field"].as_str()),
        (404, Some("trip_not_running"), Some("date")),
        "{}",
        not_running.body
    );
    let bad_date = api.get(&format!("/v1/trips/{}?date=5th", segment(trip_id))).await;
    check_documented(&document, "get", "/v1/trips/{id}", &bad_date);
    assert_eq!((bad_date.status, bad_date.body["field"].as_str()), (400, Some("date")));
    let bad_id = api.get("/v1/trips/no-feed-prefix?date=2019-06-05").await;
    check_documented(&document, "get", "/v1/trips/{id}", &bad_id);
    assert_eq!(
        (bad_id.status, bad_id.body["code"].as_str(), bad_id.body["field"].as_str()),
        (400, Some("invalid_parameter"), Some("id"))
    );

    api.stop().await;
}

#[test]
fn the_trip_operation_documents_its_parameters_and_an_example() {
    let document = openapi();
    let operation = &document["paths"]["/v1/trips/{id}"]["get"];
    let parameters = operation["parameters"].as_array().expect("parameters");
    let named = |name: &str| {
        parameters.iter().find(|parameter| parameter["name"] == name).cloned().unwrap_or_default()
    };
    assert_eq!(named("id")["in"], "path");
    assert!(named("id")["schema"]["pattern"].is_string(), "{}", named("id"));
    assert!(named("id")["example"].is_string() || named("id")["schema"]["example"].is_string());
    assert!(named("date")["schema"]["pattern"].is_string(), "{}", named("date"));
    for status in ["200", "400", "404"] {
        assert!(operation["responses"][status].is_object(), "{status} documented");
    }
}
