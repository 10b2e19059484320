//! Render tests of the pages against a stand-in API that answers what a test sets up: the
//! error pages (API down, slow, refusing, out-of-range dates, rate limits, broken answers)
//! and the results page's details (alerts on legs, fares, platforms, line colours). Each
//! page must be a real page in the user's language, never a stack trace or a blank page.

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

/// A stand-in `/v1`: fixed answers per path.
#[derive(Clone, Default)]
struct Answers {
    journeys: Option<(u16, Value)>,
    status: Option<Value>,
    raw_journeys: Option<&'static str>,
    retry_after: Option<u64>,
}

fn station(id: &str, name: &str, reading: &str) -> Value {
    json!({"id": id, "name": name, "reading": reading, "label": "地下鉄", "lat": 33.59, "lon": 130.40, "lines": ["空港線"], "agencies": ["福岡市地下鉄"], "stops": [id]})
}

fn reply(status: u16, body: &Value, retry_after: Option<u64>) -> Response {
    let status = StatusCode::from_u16(status).expect("status");
    let mut response = (status, axum::Json(body.clone())).into_response();
    if !status.is_success() {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    }
    if let Some(secs) = retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

async fn start_api(answers: Answers) -> String {
    let answers = Arc::new(answers);
    let journeys = {
        let answers = answers.clone();
        move || {
            let answers = answers.clone();
            async move {
                if let Some(raw) = answers.raw_journeys {
                    return (StatusCode::OK, raw).into_response();
                }
                let (status, body) = answers.journeys.clone().expect("journeys answer set up");
                reply(status, &body, answers.retry_after)
            }
        }
    };
    let status = {
        let answers = answers.clone();
        move || async move {
            match &answers.status {
                Some(body) => reply(200, body, None),
                None => {
                    reply(503, &json!({"status": 503, "code": "not_ready", "detail": "x"}), None)
                }
            }
        }
    };
    let router = Router::new()
        .route(
            "/v1/stations/{id}",
            get(|axum::extract::Path(id): axum::extract::Path<String>| async move {
                match id.as_str() {
                    "fukuoka:8" => reply(200, &station("fukuoka:8", "天神", "てんじん"), None),
                    "fukuoka:1" => reply(200, &station("fukuoka:1", "姪浜", "めいのはま"), None),
                    _ => reply(
                        404,
                        &json!({"status": 404, "code": "unknown_station", "detail": "no station"}),
                        None,
                    ),
                }
            }),
        )
        .route("/v1/journeys", get(journeys))
        .route(
            "/v1/trips/{id}",
            get(|axum::extract::Path(id): axum::extract::Path<String>| async move {
                match id.as_str() {
                    "fukuoka:t1" => reply(200, &kuko_trip(), None),
                    _ => reply(
                        404,
                        &json!({"status": 404, "code": "unknown_trip", "detail": "internal detail"}),
                        None,
                    ),
                }
            }),
        )
        .route("/v1/status", get(status));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://127.0.0.1:{port}")
}

/// The api's run of trip `fukuoka:t1`: 姪浜 → 西新 → 天神, past midnight at the end.
fn kuko_trip() -> Value {
    let call = |id: &str,
                name: &str,
                arrival: Option<&str>,
                departure: Option<&str>,
                pickup: bool| {
        json!({"stop": {"id": format!("{id}_1"), "name": name, "station_id": id, "platform": "1",
                        "lat": 33.58, "lon": 130.36},
               "station_name": name, "arrival": arrival, "departure": departure,
               "pickup": pickup, "drop_off": true})
    };
    json!({
        "trip_id": "fukuoka:t1", "service_date": "2019-06-05", "headsign": "天神",
        "route": {"id": "fukuoka:1", "short_name": "空港線", "long_name": "", "color": "F5A200",
                  "text_color": "FFFFFF", "mode": "subway", "agency_id": "fukuoka:a",
                  "agency_name": "福岡市地下鉄"},
        "wheelchair": "unknown", "geometry": "",
        "stops": [
            call("fukuoka:1", "姪浜", None, Some("2019-06-05T23:50:00+09:00"), true),
            call("fukuoka:3", "西新", Some("2019-06-05T23:55:00+09:00"), Some("2019-06-05T23:55:30+09:00"), true),
            call("fukuoka:8", "天神", Some("2019-06-06T00:02:00+09:00"), None, false),
        ],
        "alerts": [],
    })
}

async fn start_app(api_url: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let mut config = norikae_app::Config {
        http: norikae_runtime::HttpSettings::for_port(port),
        ..norikae_app::Config::default()
    };
    config.upstream.api_url = api_url.to_owned();
    config.upstream.timeout_ms = 2_000;
    config.limits.per_client =
        norikae_runtime::ClientRate { requests: 10_000, per_secs: 1, burst: 10_000 };
    tokio::spawn(norikae_app::run(config, listener, std::future::pending()));
    format!("http://127.0.0.1:{port}")
}

async fn page(app: &str, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("{app}{path}")).await.expect("request");
    let status = response.status().as_u16();
    let content_type = response.headers()[header::CONTENT_TYPE].to_str().expect("type").to_owned();
    let html = response.text().await.expect("body");
    assert!(content_type.starts_with("text/html"), "{path}: {content_type}");
    assert!(
        html.starts_with("<!doctype html>") && html.contains("</html>"),
        "a whole page for {path}: {html}"
    );
    for leak in [
        "panicked",
        "reqwest",
        "hyper",
        "stack backtrace",
        "error sending request",
        "internal detail",
    ] {
        assert!(!html.contains(leak), "{path} leaks `{leak}`: {html}");
    }
    (status, html)
}

const SEARCH: &str = "/search?from_id=fukuoka:8&to_id=fukuoka:1&date=2019-06-05&time=08:00";

fn problem(status: u16, code: &str, field: Option<&str>) -> (u16, Value) {
    (
        status,
        json!({"type": format!("urn:norikae:problem:{code}"), "title": "x", "status": status, "detail": "internal detail", "code": code, "field": field}),
    )
}

#[tokio::test]
async fn an_unreachable_api_is_explained_not_shown() {
    // A port nobody listens on.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let api = format!("http://{}", closed.local_addr().expect("address"));
    drop(closed);
    let app = start_app(&api).await;

    let (status, html) = page(&app, &format!("{SEARCH}&lang=ja")).await;
    assert_eq!(status, 503);
    assert!(html.contains("経路検索サービスに接続できません"), "{html}");
    let (status, html) = page(&app, "/stations/fukuoka:8?lang=en").await;
    assert_eq!(status, 503);
    assert!(html.contains("The journey planner cannot be reached right now"), "{html}");
    assert!(html.contains("Try again"));
    // The form itself still works (without the timetable's periods).
    let (status, html) = page(&app, "/?lang=en").await;
    assert_eq!(status, 200);
    assert!(html.contains("Plan a journey"));
    let response = reqwest::get(format!("{app}/suggest?q=ten&lang=en")).await.expect("request");
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.expect("json");
    assert!(body["error"].as_str().expect("message").contains("cannot be reached"));
}

#[tokio::test]
async fn api_errors_become_messages_in_the_page_language() {
    let feeds = json!({"timetable": {"feeds": [
        {"name": "fukuoka", "start_date": "2019-03-16", "end_date": "2020-03-31"},
        {"name": "ryobi", "start_date": "2025-03-16", "end_date": "2025-10-25"}]}});
    // (the API's answer, its Retry-After, page language, expected status, expected message)
    type Case<'a> = ((u16, Value), Option<u64>, &'a str, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            problem(400, "date_out_of_range", Some("date")),
            None,
            "en",
            400,
            "2019-06-05 is outside the timetable.",
        ),
        (
            problem(400, "date_out_of_range", Some("date")),
            None,
            "ja",
            400,
            "福岡市地下鉄: 2019-03-16 〜 2020-03-31",
        ),
        (problem(503, "not_ready", None), Some(5), "en", 503, "The timetable is still loading"),
        (problem(503, "query_timeout", None), Some(5), "ja", 503, "応答に時間がかかっています"),
        (problem(429, "rate_limited", None), Some(12), "en", 429, "Please wait 12 seconds"),
        (
            problem(401, "missing_key", None),
            None,
            "en",
            502,
            "not allowed to use the journey planner",
        ),
        (problem(500, "internal", None), None, "ja", 502, "予期しないエラーが発生しました"),
        (
            problem(502, "upstream_unavailable", None),
            None,
            "en",
            503,
            "cannot be reached right now",
        ),
        (
            problem(400, "invalid_parameter", Some("time")),
            None,
            "en",
            400,
            "Please enter the time like 08:30.",
        ),
    ];
    for (answer, retry_after, lang, expected_status, expected_text) in cases {
        let code = answer.1["code"].clone();
        let api = start_api(Answers {
            journeys: Some(answer),
            status: Some(feeds.clone()),
            retry_after,
            ..Answers::default()
        })
        .await;
        let app = start_app(&api).await;
        let (status, html) = page(&app, &format!("{SEARCH}&lang={lang}")).await;
        assert_eq!(status, expected_status, "{code}: {html}");
        assert!(
            html.contains(expected_text),
            "{code} in {lang}: expected `{expected_text}` in {html}"
        );
        assert!(html.contains(&format!("<html lang=\"{lang}\">")));
        // The search stays in view to change it.
        assert!(html.contains("天神") && html.contains("姪浜"));
    }
}

#[tokio::test]
async fn an_unreadable_answer_and_an_unknown_station_are_explained() {
    let api =
        start_api(Answers { raw_journeys: Some("<html>proxy error</html>"), ..Answers::default() })
            .await;
    let app = start_app(&api).await;
    let (status, html) = page(&app, &format!("{SEARCH}&lang=en")).await;
    assert_eq!(status, 502);
    assert!(html.contains("An unexpected error occurred"), "{html}");
    assert!(!html.contains("proxy error"));

    let (status, html) = page(&app, "/search?from_id=nope:1&to_id=fukuoka:1&lang=en").await;
    assert_eq!(status, 404, "{html}");
    assert!(html.contains("We could not find that station"), "{html}");
}

#[tokio::test]
async fn results_show_alerts_on_legs_fares_platforms_and_colours() {
    let stop = |id: &str, name: &str, platform: &str| json!({"id": id, "name": name, "station_id": id.split('_').next().unwrap_or(id), "platform": platform, "lat": 33.5, "lon": 130.4});
    let alert = json!({"id": "a1", "cause": "technical_problem", "effect": "significant_delays",
        "header": "空港線 遅延", "description": "信号故障のため遅れています", "url": "javascript:alert(1)",
        "translations": {}, "active_periods": [], "informed": [{"route_id": "fukuoka:1"}],
        "created_at": "2019-06-05T00:00:00Z", "updated_at": "2019-06-05T00:00:00Z", "ended_at": null});
    let journeys = json!({
        "journeys": [{
            "departure": "2019-06-05T08:03:00+09:00", "arrival": "2019-06-05T08:40:00+09:00",
            "duration_secs": 2220, "transfers": 1,
            "fare": {"total": 300.0, "currency": "JPY", "parts": []},
            "legs": [
                {"type": "transit", "trip_id": "fukuoka:t1", "headsign": "姪浜",
                 "route": {"id": "fukuoka:1", "short_name": "空港線", "long_name": "", "color": "F5A200", "text_color": "FFFFFF", "mode": "subway", "agency_id": "fukuoka:a", "agency_name": "福岡市地下鉄"},
                 "service_date": "2019-06-05", "from": stop("fukuoka:8", "天神", "2"), "to": stop("fukuoka:3", "西新", "1"),
                 "departure": "2019-06-05T08:03:00+09:00", "arrival": "2019-06-05T08:10:00+09:00", "duration_secs": 420,
                 "stops": [{"stop": stop("fukuoka:8", "天神", "2")}, {"stop": stop("fukuoka:7", "赤坂", "")}, {"stop": stop("fukuoka:3", "西新", "1")}],
                 "alerts": [alert]},
                {"type": "walk", "from": {"kind": "stop", "id": "fukuoka:3", "name": "西新", "station_id": "fukuoka:3", "lat": 0.0, "lon": 0.0},
                 "to": {"kind": "stop", "id": "x:9", "name": "西新バス停", "station_id": "x:9", "lat": 0.0, "lon": 0.0},
                 "departure": "2019-06-05T08:10:00+09:00", "arrival": "2019-06-05T08:14:00+09:00", "duration_secs": 240, "distance_m": 280},
                {"type": "transit", "trip_id": "x:t2", "headsign": "",
                 "route": {"id": "x:r", "short_name": "", "long_name": "西新線", "color": "not-a-colour", "mode": "bus", "agency_id": "x:a", "agency_name": "バス"},
                 "service_date": "2019-06-05", "from": stop("x:9", "西新バス停", ""), "to": stop("x:10", "姪浜駅南口", ""),
                 "departure": "2019-06-05T08:20:00+09:00", "arrival": "2019-06-05T08:40:00+09:00", "duration_secs": 1200,
                 "stops": [{"stop": stop("x:9", "西新バス停", "")}, {"stop": stop("x:10", "姪浜駅南口", "")}], "alerts": []}
            ]
        }],
        "window": {"start": "2019-06-05T08:00:00+09:00", "end": "2019-06-05T09:00:00+09:00"},
        "earlier": "E1", "later": "L1",
        "alerts": [alert]
    });
    let api = start_api(Answers { journeys: Some((200, journeys)), ..Answers::default() }).await;
    let app = start_app(&api).await;
    let (status, html) = page(&app, &format!("{SEARCH}&lang=en")).await;
    assert_eq!(status, 200, "{html}");
    for expected in [
        "Service alerts",
        "空港線 遅延",
        "信号故障のため遅れています",
        "¥300",
        "1 transfer",
        "37 min",
        "Platform 2",
        "towards 姪浜",
        "2 stops",
        "Walk 4 min (280 m)",
        "background-color:#f5a200;color:#000000",
        "background-color:#445566;color:#ffffff",
        "西新線",
        "Journeys leaving 08:00–09:00",
        "aria-label=\"Service alert on this ride\"",
        "<time class=\"departure\">08:03</time>",
    ] {
        assert!(html.contains(expected), "`{expected}` missing from {html}");
    }
    assert!(!html.contains("javascript:alert"), "unsafe alert links are dropped");
    let unescaped = slashes(&html).replace("&amp;", "&");
    assert!(
        unescaped.contains("href=\"/trips/fukuoka:t1?date=2019-06-05&from=fukuoka%3A8&to=fukuoka%3A3\" data-trip-link"),
        "each ride links its trip's run: {unescaped}"
    );
    let later = html
        .split("data-later")
        .next()
        .and_then(|before| before.rsplit("href=\"").next())
        .expect("later link");
    assert!(later.contains("cursor=L1") && later.contains("from_id=fukuoka%3A8"), "{later}");
}

/// The cards of a results page, in order (each from its `data-journey` to the next).
fn cards(html: &str) -> Vec<&str> {
    html.split("data-journey ").skip(1).collect()
}

#[tokio::test]
async fn a_journey_on_foot_shows_the_walk_without_transfers_or_fare() {
    let stop = |id: &str, name: &str| json!({"id": format!("{id}_1"), "name": name, "station_id": id, "lat": 33.59, "lon": 130.40});
    let place = |id: &str, name: &str| {
        let mut place = stop(id, name);
        place["kind"] = json!("stop");
        place
    };
    let journeys = json!({
        "journeys": [
            {"departure": "2019-06-05T08:00:00+09:00", "arrival": "2019-06-05T08:08:00+09:00",
             "duration_secs": 480, "vehicles": 0, "transfers": 0,
             "legs": [{"type": "walk", "from": place("fukuoka:35", "天神南"), "to": place("fukuoka:8", "天神"),
                       "departure": "2019-06-05T08:00:00+09:00", "arrival": "2019-06-05T08:08:00+09:00",
                       "duration_secs": 480, "distance_m": 600}]},
            {"departure": "2019-06-05T08:03:00+09:00", "arrival": "2019-06-05T08:12:00+09:00",
             "duration_secs": 540, "vehicles": 1, "transfers": 0,
             "fare": {"total": 210.0, "currency": "JPY", "parts": []},
             "legs": [{"type": "transit", "trip_id": "fukuoka:t1", "headsign": "天神",
                       "route": {"id": "fukuoka:3", "short_name": "七隈線", "long_name": "", "color": "009157", "mode": "subway", "agency_id": "fukuoka:a", "agency_name": "福岡市地下鉄"},
                       "service_date": "2019-06-05", "from": stop("fukuoka:35", "天神南"), "to": stop("fukuoka:8", "天神"),
                       "departure": "2019-06-05T08:03:00+09:00", "arrival": "2019-06-05T08:12:00+09:00", "duration_secs": 540,
                       "stops": [{"stop": stop("fukuoka:35", "天神南")}, {"stop": stop("fukuoka:8", "天神")}], "alerts": []}]}
        ],
        "alerts": []
    });
    let api = start_api(Answers { journeys: Some((200, journeys)), ..Answers::default() }).await;
    let app = start_app(&api).await;
    // (language, the walk, the ride's transfers, the ride's fare, the card labels not on foot)
    let cases = [
        ("en", "Walk 8 min (600 m)", "Direct", "¥210", ["Transfers", "Fare"]),
        ("ja", "徒歩8分（600 m）", "乗換なし", "210円", ["乗換", "運賃"]),
    ];
    for (lang, walk, direct, fare, labels) in cases {
        let (status, html) = page(&app, &format!("{SEARCH}&lang={lang}")).await;
        assert_eq!(status, 200, "{html}");
        let [on_foot, ride] = cards(&html)[..] else { panic!("two journeys: {html}") };
        assert!(on_foot.contains("data-on-foot"), "{on_foot}");
        assert!(on_foot.contains(walk), "`{walk}` in {on_foot}");
        assert!(on_foot.contains("<time class=\"departure\">08:00</time>"), "{on_foot}");
        // No transfer row (so no "Direct", no "-1 transfers"), no fare row (so no "¥0").
        for absent in labels.iter().chain(&[direct, "transfers", "¥0", "0円"]) {
            assert!(!on_foot.contains(absent), "no `{absent}` on foot: {on_foot}");
        }
        assert!(!ride.contains("data-on-foot"), "{ride}");
        for present in labels.iter().chain(&[direct, fare]) {
            assert!(ride.contains(present), "`{present}` in the ride: {ride}");
        }
    }
}

#[tokio::test]
async fn no_journeys_names_the_feeds_that_do_not_run_that_day() {
    let feeds = json!({"timetable": {"feeds": [
        {"name": "fukuoka", "start_date": "2019-03-16", "end_date": "2020-03-31"},
        {"name": "ryobi", "start_date": "2025-03-16", "end_date": "2025-10-25"}]}});
    let api = start_api(Answers {
        journeys: Some((200, json!({"journeys": []}))),
        status: Some(feeds),
        ..Answers::default()
    })
    .await;
    let app = start_app(&api).await;
    let (status, html) = page(&app, &format!("{SEARCH}&lang=ja")).await;
    assert_eq!(status, 200);
    assert!(html.contains("条件に合う経路が見つかりませんでした"), "{html}");
    assert!(html.contains("両備バス: 2025-03-16 〜 2025-10-25"), "{html}");
    assert!(!html.contains("福岡市地下鉄: 2019"), "the subway runs that day: {html}");
}

/// `html` with the entities minijinja writes for `/` turned back into slashes.
fn slashes(html: &str) -> String {
    html.replace("&#x2f;", "/").replace("&#x2F;", "/")
}

#[tokio::test]
async fn behind_https_the_language_cookie_is_secure_and_hsts_is_sent() {
    let api = start_api(Answers::default()).await;
    let app = start_app(&api).await;
    let client = reqwest::Client::new();
    let https = client
        .get(format!("{app}/?lang=en"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .expect("request");
    let cookie = https.headers()[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("lang=en;") && cookie.contains("; Secure"), "{cookie}");
    assert_eq!(https.headers()[header::STRICT_TRANSPORT_SECURITY], "max-age=31536000");

    // An asset and an error page over HTTPS carry HSTS as well.
    for path in ["/static/app.css", "/nowhere"] {
        let answer = client
            .get(format!("{app}{path}"))
            .header("x-forwarded-proto", "https")
            .send()
            .await
            .expect("request");
        assert!(answer.headers().contains_key(header::STRICT_TRANSPORT_SECURITY), "{path}");
    }

    // Plain HTTP (a local run): no HSTS, and a cookie the browser keeps without TLS.
    let plain = client.get(format!("{app}/?lang=en")).send().await.expect("request");
    let cookie = plain.headers()[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(!cookie.contains("Secure"), "{cookie}");
    assert!(!plain.headers().contains_key(header::STRICT_TRANSPORT_SECURITY));
}

#[tokio::test]
async fn a_path_starting_with_two_slashes_links_nowhere_off_site() {
    let api = start_api(Answers::default()).await;
    let app = start_app(&api).await;
    for path in ["//evil.example/login", "/\\evil.example/login", "///evil.example"] {
        let (status, html) = page(&app, path).await;
        assert_eq!(status, 404, "{path}");
        let html = slashes(&html);
        // The language switch echoes the path: it must stay a path on this site.
        assert!(html.contains("href=\"/evil.example"), "{path}: {html}");
        for off_site in ["href=\"//", "href=\"/\\", "href=\"\\"] {
            assert!(!html.contains(off_site), "{path} links off site: {html}");
        }
    }
}

#[tokio::test]
async fn a_dot_segment_station_id_is_unknown_without_reaching_another_api_path() {
    let api = start_api(Answers::default()).await;
    let app = start_app(&api).await;
    // Sent raw: reqwest (like a browser) would itself resolve `%2E%2E` before sending.
    for path in ["/stations/%2E%2E", "/stations/%2e", "/stations/.."] {
        let (status, html) = raw_get(&app, &format!("{path}?lang=en")).await;
        assert_eq!(status, 404, "{path}: {html}");
        assert!(html.contains("We could not find that station"), "{path}: {html}");
    }
}

/// A GET with `path` exactly as given, over a plain TCP connection.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trip_page_lists_every_stop_with_its_times_and_marks_the_ride() {
    let api = start_api(Answers::default()).await;
    let app = start_app(&api).await;
    let (status, html) =
        page(&app, "/trips/fukuoka:t1?date=2019-06-05&from=fukuoka:1&to=fukuoka:3&lang=en").await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(html.matches("data-trip-stop>").count(), 3, "{html}");
    for expected in [
        "空港線",
        "towards 天神",
        "Runs on 2019-06-05",
        "23:50",
        "23:55",
        "00:02",
        "(next day)",
        "Platform 1",
    ] {
        assert!(html.contains(expected), "`{expected}` missing from {html}");
    }
    assert_eq!(html.matches("trip-stop ridden").count(), 2, "姪浜 to 西新 is the ride: {html}");
    assert!(!html.contains("<time>23:55</time> arr."), "one time where arrival and departure meet");
    let (status, html) = page(&app, "/trips/fukuoka:nope?date=2019-06-05").await;
    assert_eq!(status, 404, "{html}");
    assert!(html.contains("この便は見つからないか"), "{html}");
}

#[tokio::test]
async fn results_show_what_the_realtime_feeds_say_about_each_ride() {
    let stop = |id: &str, name: &str, platform: &str| json!({"id": id, "name": name, "station_id": id.split('_').next().unwrap_or(id), "platform": platform, "lat": 33.5, "lon": 130.4});
    let route = json!({"id": "fukuoka:1", "short_name": "空港線", "long_name": "", "mode": "subway", "agency_id": "fukuoka:a", "agency_name": "福岡市地下鉄"});
    let ride = |trip: &str, from: Value, to: Value, times: (&str, &str), realtime: Value| {
        json!({"type": "transit", "trip_id": trip, "headsign": "姪浜", "route": route,
               "service_date": "2019-06-05", "from": from, "to": to,
               "departure": times.0, "arrival": times.1, "duration_secs": 420,
               "stops": [], "alerts": [], "realtime": realtime})
    };
    let late = json!({"expected_departure": "2019-06-05T08:07:00+09:00",
        "expected_arrival": "2019-06-05T08:14:00+09:00", "departure_delay_secs": 240,
        "arrival_delay_secs": 240, "cancelled": false, "skips_boarding": false,
        "skips_alighting": false,
        "departure_platform": stop("fukuoka:8_3", "天神", "3")});
    let cancelled = json!({"expected_departure": "2019-06-05T08:20:00+09:00",
        "expected_arrival": "2019-06-05T08:30:00+09:00", "departure_delay_secs": 0,
        "arrival_delay_secs": 0, "cancelled": true, "skips_boarding": false,
        "skips_alighting": false});
    let journeys = json!({
        "journeys": [
            {"departure": "2019-06-05T08:03:00+09:00", "arrival": "2019-06-05T08:10:00+09:00",
             "duration_secs": 420, "transfers": 0,
             "legs": [ride("fukuoka:t1", stop("fukuoka:8_2", "天神", "2"), stop("fukuoka:3_1", "西新", "1"),
                           ("2019-06-05T08:03:00+09:00", "2019-06-05T08:10:00+09:00"), late)]},
            {"departure": "2019-06-05T08:20:00+09:00", "arrival": "2019-06-05T08:27:00+09:00",
             "duration_secs": 420, "transfers": 0,
             "legs": [ride("fukuoka:t2", stop("fukuoka:8_2", "天神", "2"), stop("fukuoka:3_1", "西新", "1"),
                           ("2019-06-05T08:20:00+09:00", "2019-06-05T08:27:00+09:00"), cancelled)]}
        ],
        "window": {"start": "2019-06-05T08:00:00+09:00", "end": "2019-06-05T09:00:00+09:00"},
        "alerts": []
    });
    let api = start_api(Answers { journeys: Some((200, journeys)), ..Answers::default() }).await;
    let app = start_app(&api).await;
    let (status, html) = page(&app, SEARCH).await;
    assert_eq!(status, 200, "{html}");
    for expected in ["4分遅れ（08:07発）", "4分遅れ（08:14着）", "のりば変更: 3", "運休"]
    {
        assert!(html.contains(expected), "{expected} missing from the results:\n{html}");
    }
    let (_, html) = page(&app, &format!("{SEARCH}&lang=en")).await;
    for expected in ["4 min late (leaves 08:07)", "Platform changed: 3", "Cancelled"] {
        assert!(html.contains(expected), "{expected} missing from the results:\n{html}");
    }
}
