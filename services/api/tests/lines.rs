//! Lines, timetables, first and last trains and the journeys' order end to end (issue 27):
//! search, route and api in-process on the bundled feeds, every answer (problems included)
//! checked against the OpenAPI document, and the document's constraints on the new
//! parameters checked too.

mod common;

use common::{Api, api_config, check_documented, engines, openapi, sqlite_url};
use serde_json::Value;

const KUKO: &str = "fukuoka:%E7%A9%BA%E6%B8%AF%E7%B7%9A";

/// The documented parameter `name` of `get path`.
fn parameter<'a>(document: &'a Value, path: &str, name: &str) -> &'a Value {
    document["paths"][path]["get"]["parameters"]
        .as_array()
        .and_then(|list| list.iter().find(|parameter| parameter["name"] == name))
        .unwrap_or_else(|| panic!("{path} documents no parameter {name}"))
}

/// The schema of a parameter, through `oneOf`/`anyOf` of an optional value or a `$ref`.
fn schema_of<'a>(document: &'a Value, parameter: &'a Value) -> &'a Value {
    let schema = &parameter["schema"];
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or_default();
        return &document["components"]["schemas"][name];
    }
    schema
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_timetables_first_and_last_trains_answer_as_documented() {
    let document = openapi();
    let directory = tempfile::tempdir().expect("temp dir");
    let api = Api::start(api_config(&engines(), sqlite_url(&directory), true)).await;

    // The document: constraints and examples on the new parameters and operations.
    let limit = schema_of(&document, parameter(&document, "/v1/routes", "limit"));
    assert_eq!((limit["minimum"].as_u64(), limit["maximum"].as_u64()), (Some(1), Some(500)));
    let mode = schema_of(&document, parameter(&document, "/v1/routes", "mode"));
    let modes = mode["enum"].as_array().expect("the modes as an enum for code generators");
    assert!(modes.iter().any(|mode| mode == "subway") && modes.len() == 13, "{mode}");
    let direction =
        schema_of(&document, parameter(&document, "/v1/stations/{id}/timetable", "direction"));
    assert_eq!((direction["minimum"].as_u64(), direction["maximum"].as_u64()), (Some(0), Some(1)));
    let sort = parameter(&document, "/v1/journeys", "sort");
    let sort_text = sort.to_string();
    for value in ["fastest", "fewest_transfers", "cheapest"] {
        assert!(sort_text.contains(value), "sort lists {value}: {sort}");
    }
    for (path, name) in [
        ("/v1/routes", "station"),
        ("/v1/stations/{id}/timetable", "route"),
        ("/v1/journeys", "first"),
        ("/v1/journeys", "last"),
    ] {
        let documented = parameter(&document, path, name);
        assert!(
            documented.get("example").is_some() || documented["schema"].get("example").is_some(),
            "{path} {name} has an example: {documented}"
        );
    }
    for path in ["/v1/routes", "/v1/stations/{id}/timetable"] {
        let ok = &document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"];
        assert!(ok.get("example").is_some(), "{path} has an example answer");
    }

    // Lines: filters, paging, one line.
    let subway = api.get("/v1/routes?mode=subway&lang=ja").await;
    assert_eq!(subway.status, 200, "{}", subway.body);
    check_documented(&document, "get", "/v1/routes", &subway);
    let lines = subway.body["routes"].as_array().expect("routes");
    assert_eq!(lines.len(), 3, "Fukuoka's three subway lines: {}", subway.body);
    assert!(lines.iter().all(|line| line["mode"] == "subway"));
    assert_eq!(subway.body["total"], 3);
    assert!(subway.body.get("next_offset").is_none(), "one page: {}", subway.body);
    assert!(subway.header("etag").is_some());

    let all = api.get("/v1/routes?limit=500").await;
    let total = all.body["total"].as_u64().expect("total");
    assert!(total > 300, "the bundled feeds have hundreds of lines: {total}");
    let first_page = api.get("/v1/routes?limit=2").await;
    check_documented(&document, "get", "/v1/routes", &first_page);
    assert_eq!(first_page.body["next_offset"], 2);
    let second_page = api.get("/v1/routes?limit=2&offset=2").await;
    assert_eq!(second_page.body["routes"][0], all.body["routes"][2], "pages follow on");

    let at_tenjin = api.get("/v1/routes?station=fukuoka:8").await;
    assert_eq!(at_tenjin.status, 200, "{}", at_tenjin.body);
    assert_eq!(at_tenjin.body["routes"][0]["id"], "fukuoka:空港線");
    assert_eq!(at_tenjin.body["routes"][0]["color"], "F7931D", "{}", at_tenjin.body);

    for (query, field, status) in [
        ("limit=0", "limit", 400),
        ("limit=501", "limit", 400),
        ("limit=x", "limit", 400),
        ("mode=plane", "mode", 400),
        ("agency=nowhere:1", "agency", 400),
        ("station=nowhere:1", "station", 404),
    ] {
        let refused = api.get(&format!("/v1/routes?{query}")).await;
        assert_eq!(refused.status, status, "{query}: {}", refused.body);
        assert_eq!(refused.body["field"], field, "{query}: {}", refused.body);
        check_documented(&document, "get", "/v1/routes", &refused);
    }

    let kuko = api.get(&format!("/v1/routes/{KUKO}?lang=en")).await;
    assert_eq!(kuko.status, 200, "{}", kuko.body);
    check_documented(&document, "get", "/v1/routes/{id}", &kuko);
    let directions = kuko.body["directions"].as_array().expect("directions");
    assert_eq!(directions.len(), 2, "{}", kuko.body);
    assert_eq!(
        (&directions[0]["direction_id"], &directions[1]["direction_id"]),
        (&0.into(), &1.into())
    );
    let stops = directions[0]["stops"].as_array().expect("stops");
    assert_eq!(stops.first().map(|stop| &stop["name"]), Some(&"Meinohama".into()), "{}", kuko.body);
    assert_eq!(
        stops.last().map(|stop| &stop["name"]),
        Some(&"Fukuokakuko(Airport)".into()),
        "{}",
        kuko.body
    );
    assert_eq!(directions[0]["stops_from"], "most_trips");
    let unknown = api.get("/v1/routes/nowhere:1").await;
    assert_eq!((unknown.status, unknown.body["code"].as_str()), (404, Some("unknown_route")));
    check_documented(&document, "get", "/v1/routes/{id}", &unknown);

    // Timetables: a weekday, a national holiday, and what is refused.
    let path = |query: &str| format!("/v1/stations/fukuoka:8/timetable?route={KUKO}&{query}");
    let weekday = api.get(&path("direction=0&date=2019-06-05")).await;
    assert_eq!(weekday.status, 200, "{}", weekday.body);
    check_documented(&document, "get", "/v1/stations/{id}/timetable", &weekday);
    assert_eq!(weekday.body["service_day"], "weekday");
    let hours: Vec<u64> = weekday.body["hours"]
        .as_array()
        .expect("hours")
        .iter()
        .filter_map(|hour| hour["hour"].as_u64())
        .collect();
    assert!(hours.windows(2).all(|pair| pair[0] < pair[1]), "{hours:?}");
    assert!(hours.first().is_some_and(|hour| *hour <= 6), "{hours:?}");
    assert!(hours.last().is_some_and(|hour| *hour >= 24), "past midnight as 24 o'clock: {hours:?}");
    let counted: usize = weekday.body["hours"]
        .as_array()
        .expect("hours")
        .iter()
        .map(|hour| hour["departures"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(Some(counted as u64), weekday.body["departures"].as_u64());
    let holiday = api.get(&path("direction=0&date=2019-07-15")).await;
    assert_eq!(holiday.status, 200, "{}", holiday.body);
    assert_eq!(
        (holiday.body["service_day"].as_str(), holiday.body["holiday_name"].as_str()),
        (Some("saturday_and_holiday"), Some("海の日")),
        "the subway runs one timetable on Saturdays, Sundays and holidays"
    );
    assert!(holiday.body["departures"].as_u64() < weekday.body["departures"].as_u64());
    let saturday = api.get(&path("direction=1&date=2019-06-08")).await;
    assert_eq!(saturday.body["service_day"], "saturday_and_holiday", "{}", saturday.body);
    // A substitute holiday on which the feed runs its weekday service is a weekday.
    let substitute = api.get(&path("direction=0&date=2020-02-24")).await;
    assert_eq!(
        (substitute.body["service_day"].as_str(), substitute.body["holiday_name"].as_str()),
        (Some("weekday"), Some("振替休日")),
        "{}",
        substitute.body
    );

    for (query, field, status) in [
        ("date=2019-06-05", "direction", 400),
        ("direction=5&date=2019-06-05", "direction", 400),
        ("direction=x", "direction", 400),
        ("direction=0&date=1999-01-01", "date", 400),
        ("direction=0&date=June", "date", 400),
    ] {
        let refused = api.get(&path(query)).await;
        assert_eq!(refused.status, status, "{query}: {}", refused.body);
        assert_eq!(refused.body["field"], field, "{query}: {}", refused.body);
        check_documented(&document, "get", "/v1/stations/{id}/timetable", &refused);
    }
    let no_route = api.get("/v1/stations/fukuoka:8/timetable?direction=0").await;
    assert_eq!((no_route.status, no_route.body["field"].as_str()), (400, Some("route")));
    let elsewhere = api.get(&format!("/v1/stations/okaden:18_10/timetable?route={KUKO}")).await;
    assert_eq!((elsewhere.status, elsewhere.body["field"].as_str()), (400, Some("route")));
    let unknown_line = api.get("/v1/stations/fukuoka:8/timetable?route=nowhere:1").await;
    assert_eq!(
        (unknown_line.status, unknown_line.body["code"].as_str()),
        (404, Some("unknown_route"))
    );
    check_documented(&document, "get", "/v1/stations/{id}/timetable", &unknown_line);
    let unknown_station = api.get(&format!("/v1/stations/nowhere:1/timetable?route={KUKO}")).await;
    assert_eq!(unknown_station.status, 404, "{}", unknown_station.body);
    check_documented(&document, "get", "/v1/stations/{id}/timetable", &unknown_station);

    // 始発 and 終電 Meinohama → Tenjin.
    let trip = "/v1/journeys?from=fukuoka:1&to=fukuoka:8&date=2019-06-05";
    let first = api.get(&format!("{trip}&first=true")).await;
    assert_eq!(first.status, 200, "{}", first.body);
    check_documented(&document, "get", "/v1/journeys", &first);
    let last = api.get(&format!("{trip}&last=true")).await;
    assert_eq!(last.status, 200, "{}", last.body);
    check_documented(&document, "get", "/v1/journeys", &last);
    let (first, last) = (&first.body["journeys"], &last.body["journeys"]);
    assert_eq!((first.as_array().map(Vec::len), last.as_array().map(Vec::len)), (Some(1), Some(1)));
    let first_departure = first[0]["departure"].as_str().expect("departure");
    let last_departure = last[0]["departure"].as_str().expect("departure");
    assert!(first_departure.starts_with("2019-06-05T05:"), "{first_departure}");
    assert!(last_departure.starts_with("2019-06-06T00:"), "after midnight: {last_departure}");
    for (query, field) in [
        ("first=true&last=true", "last"),
        ("first=true&arrive_by=true", "arrive_by"),
        ("last=yes", "last"),
        ("sort=slowest", "sort"),
    ] {
        let refused = api.get(&format!("{trip}&{query}")).await;
        assert_eq!(refused.status, 400, "{query}: {}", refused.body);
        assert_eq!(refused.body["field"], field, "{query}: {}", refused.body);
        check_documented(&document, "get", "/v1/journeys", &refused);
    }

    // 早 / 楽 / 安 over the same Pareto set: 橋本 → 貝塚 across three subway lines, with fares.
    let across =
        "/v1/journeys?from=fukuoka:20&to=fukuoka:19&date=2019-06-05&time=08:00&window=7200";
    let by_departure = api.get(across).await;
    assert_eq!(by_departure.status, 200, "{}", by_departure.body);
    let count = by_departure.body["journeys"].as_array().map_or(0, Vec::len);
    assert!(count >= 3, "journeys to order: {}", by_departure.body);
    for (sort, key) in [("fastest", "duration_secs"), ("fewest_transfers", "transfers")] {
        let sorted = api.get(&format!("{across}&sort={sort}")).await;
        assert_eq!(sorted.status, 200, "{}", sorted.body);
        check_documented(&document, "get", "/v1/journeys", &sorted);
        let keys: Vec<i64> = sorted.body["journeys"]
            .as_array()
            .expect("journeys")
            .iter()
            .filter_map(|journey| journey[key].as_i64())
            .collect();
        assert_eq!(keys.len(), count, "the same journeys, reordered");
        assert!(keys.windows(2).all(|pair| pair[0] <= pair[1]), "{sort}: {keys:?}");
    }
    let cheapest = api.get(&format!("{across}&sort=cheapest")).await;
    let fares: Vec<f64> = cheapest.body["journeys"]
        .as_array()
        .expect("journeys")
        .iter()
        .map(|journey| journey["fare"]["total"].as_f64().unwrap_or(f64::INFINITY))
        .collect();
    assert_eq!(fares.len(), count);
    assert!(fares.windows(2).all(|pair| pair[0] <= pair[1]), "cheapest first: {fares:?}");
    assert!(fares.iter().any(|fare| fare.is_finite()), "fares present: {}", cheapest.body);

    api.stop().await;
}
