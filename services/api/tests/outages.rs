//! When things break: an engine down, slow, failing or garbled (fake engines on port 0), a
//! dropped connection retried once, and the database cut and restored through a TCP proxy.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use common::{
    Api, Engines, PgDatabase, Proxy, api_config, check_documented, engines, openapi, sqlite_url,
};
use http::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A fake engine: slow, failing, garbled and overloaded answers on the search engine's paths.
async fn fake_engine() -> String {
    let router = Router::new()
        .route(
            "/stations",
            get(|| async {
                // Real time, over a real socket: the api's 300 ms call timeout fires first, so
                // the test waits that long, never these 5 s.
                tokio::time::sleep(Duration::from_secs(5)).await;
                "too late"
            }),
        )
        .route("/stations/nearby", get(|| async { ([("content-type", "application/json")], "{\"results\": oops") }))
        .route("/stations/{id}", get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "panic") }))
        .route(
            "/stations/{id}/departures",
            get(|| async {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [("retry-after", "7"), ("content-type", "application/problem+json")],
                    json!({"type": "urn:norikae:problem:not_ready", "title": "Service Unavailable", "status": 503, "detail": "loading", "code": "not_ready"}).to_string(),
                )
            }),
        )
        .route(
            "/journeys",
            get(|| async {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [("content-type", "application/problem+json")],
                    json!({"type": "urn:norikae:problem:query_timeout", "title": "Service Unavailable", "status": 503, "detail": "slow", "code": "query_timeout"}).to_string(),
                )
            }),
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://127.0.0.1:{port}")
}

/// A port nothing listens on.
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("address").port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_failures_become_502_503_504() {
    let document = openapi();
    let directory = tempfile::tempdir().expect("temp dir");
    let fake = fake_engine().await;
    let route_down = format!("http://127.0.0.1:{}", closed_port().await);
    let mut config = api_config(
        &Engines { search_url: fake.clone(), route_url: route_down },
        sqlite_url(&directory),
        true,
    );
    config.upstream.timeout_ms = 300;
    let api = Api::start(config).await;

    let down = api.get("/v1/journeys?from=fukuoka:1&to=fukuoka:8").await;
    assert_eq!(
        (down.status, down.body["code"].as_str()),
        (503, Some("upstream_unavailable")),
        "{}",
        down.body
    );
    assert!(down.header("retry-after").is_some());
    check_documented(&document, "get", "/v1/journeys", &down);

    let started = Instant::now();
    let slow = api.get("/v1/stations?q=tenjin").await;
    assert_eq!(
        (slow.status, slow.body["code"].as_str()),
        (504, Some("upstream_timeout")),
        "{}",
        slow.body
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "answered at the call timeout: {:?}",
        started.elapsed()
    );

    let garbled = api.get("/v1/stations/nearby?lat=33.59&lon=130.4").await;
    assert_eq!(
        (garbled.status, garbled.body["code"].as_str()),
        (502, Some("upstream_error")),
        "{}",
        garbled.body
    );
    let crashed = api.get("/v1/stations/fukuoka:8").await;
    assert_eq!((crashed.status, crashed.body["code"].as_str()), (502, Some("upstream_error")));
    assert!(!crashed.body.to_string().contains("panic"), "the engine's body is not shown");

    // The fake serves search paths only; point route at it too for its 503 answers.
    api.stop().await;
    let mut config = api_config(
        &Engines { search_url: fake.clone(), route_url: fake },
        sqlite_url(&directory),
        true,
    );
    config.upstream.timeout_ms = 300;
    let api = Api::start(config).await;
    let loading = api.get("/v1/stations/fukuoka:8/departures").await;
    assert_eq!(
        (loading.status, loading.body["code"].as_str()),
        (503, Some("upstream_unavailable"))
    );
    assert_eq!(loading.header("retry-after"), Some("7"), "the engine's Retry-After is passed on");
    check_documented(&document, "get", "/v1/stations/{id}/departures", &loading);
    let engine_timeout = api.get("/v1/journeys?from=fukuoka:1&to=fukuoka:8").await;
    assert_eq!(
        (engine_timeout.status, engine_timeout.body["code"].as_str()),
        (504, Some("upstream_timeout"))
    );
    check_documented(&document, "get", "/v1/journeys", &engine_timeout);
    api.stop().await;
}

/// What a scripted engine does with one connection.
#[derive(Clone, Copy)]
enum Reply {
    /// Reads the request and closes the connection without an answer.
    Drop,
    /// Answers like nginx when its target is gone: 502 with an HTML page.
    BalancerBadGateway,
    /// Answers station `fukuoka:8`.
    Station,
}

/// A search engine on port 0 that gives its `n`-th connection `replies[n]` (the last reply
/// for every later one) and counts its connections; returns its URL and the count.
async fn scripted_engine(replies: &'static [Reply]) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { continue };
            let number = counted.fetch_add(1, Ordering::SeqCst);
            let reply = replies[number.min(replies.len() - 1)];
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer).await;
                let (status, content_type, body) = match reply {
                    Reply::Drop => return,
                    Reply::BalancerBadGateway => (
                        "502 Bad Gateway",
                        "text/html",
                        "<html><body>502 Bad Gateway</body></html>".to_owned(),
                    ),
                    Reply::Station => ("200 OK", "application/json", json!({"id": "fukuoka:8", "name": "天神", "label": "", "lat": 33.59, "lon": 130.4, "lines": [], "agencies": [], "stops": []}).to_string()),
                };
                let answer = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    (format!("http://127.0.0.1:{port}"), connections)
}

/// The api with `search_url` as its search engine (route, polled for its status, is down):
/// asks for one station and checks it got it with two engine calls.
async fn station_after_retry(search_url: String, connections: &AtomicUsize, what: &str) {
    let directory = tempfile::tempdir().expect("temp dir");
    let route_down = format!("http://127.0.0.1:{}", closed_port().await);
    let api = Api::start(api_config(
        &Engines { search_url, route_url: route_down },
        sqlite_url(&directory),
        true,
    ))
    .await;
    assert_eq!(connections.load(Ordering::SeqCst), 0);
    let answer = api.get("/v1/stations/fukuoka:8").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["name"], "天神");
    assert_eq!(connections.load(Ordering::SeqCst), 2, "{what} and its one retry");
    api.stop().await;
}

/// An engine whose first connection is dropped before it answers: the GET is sent once more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_is_retried_once() {
    let (url, connections) = scripted_engine(&[Reply::Drop, Reply::Station]).await;
    station_after_retry(url, &connections, "the dropped call").await;
}

/// A 502 made by a balancer between the api and an engine (not the engine's own problem
/// answer) is retried once: the balancer picks a target again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_balancer_bad_gateway_is_retried_once() {
    let (url, connections) = scripted_engine(&[Reply::BalancerBadGateway, Reply::Station]).await;
    station_after_retry(url, &connections, "the balancer's 502").await;
}

/// PostgreSQL behind a proxy that is cut and restored: known keys keep working for search
/// and journeys, what needs the database answers 503 at once, the pool reconnects, and the
/// usage counted meanwhile is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_down_and_back() {
    let document = openapi();
    let database = PgDatabase::create().await;
    let direct = norikae_api::store::Db::open(&norikae_api::DatabaseSettings {
        url: database.url(),
        ..Default::default()
    })
    .expect("db");
    direct.migrate().await.expect("migrations");
    let proxy = Proxy::start("127.0.0.1:5432").await;
    let api = Api::start(api_config(&engines(), database.url_via(proxy.port), false)).await;
    let new_key = |name: &str, admin: bool| {
        let new = norikae_api::keys::NewKey {
            name: name.to_owned(),
            rate: norikae_api::keys::Rate::parse("100/s").expect("rate"),
            burst: None,
            daily_quota: Some(1_000),
            admin,
        };
        let direct = direct.clone();
        async move { norikae_api::keys::create_key(&direct, &new).await.expect("key").1 }
    };
    let key = new_key("app", true).await;
    let journeys = "/v1/journeys?from=fukuoka:1&to=fukuoka:8&date=2019-06-05&time=08:00";
    let mut admitted = 0;
    assert_eq!(api.get_with_key(journeys, &key).await.status, 200);
    admitted += 1;

    proxy.cut();
    for path in [
        journeys,
        "/v1/stations?q=tenjin",
        "/v1/stations/fukuoka:8/departures?date=2019-06-05&time=08:00",
        "/v1/alerts",
        "/v1/status",
    ] {
        let answer = api.get_with_key(path, &key).await;
        assert_eq!(answer.status, 200, "{path} works without the database: {}", answer.body);
        admitted += 1;
    }
    let alert = json!({"translations": {"ja": {"header": "運休"}}, "informed": [{"station_id": "fukuoka:8"}]});
    let started = Instant::now();
    let refused = api
        .send(
            api.client
                .post(format!("{}/v1/admin/alerts", api.base))
                .header("x-api-key", &key)
                .json(&alert),
        )
        .await;
    admitted += 1;
    assert_eq!(
        (refused.status, refused.body["code"].as_str()),
        (503, Some("database_unavailable")),
        "{}",
        refused.body
    );
    assert!(refused.header("retry-after").is_some());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "answered quickly: {:?}",
        started.elapsed()
    );
    check_documented(&document, "post", "/v1/admin/alerts", &refused);
    let listing = api.get_with_key("/v1/alerts?active=false", &key).await;
    admitted += 1;
    assert_eq!(listing.status, 503);
    // A key the api has never seen cannot be checked meanwhile.
    let unseen = new_key("unseen", false).await;
    let unchecked = api.get_with_key(journeys, &unseen).await;
    assert_eq!(
        (unchecked.status, unchecked.body["code"].as_str()),
        (503, Some("database_unavailable"))
    );
    // A few failed flushes (real time: they fail on a real socket through the proxy).
    tokio::time::sleep(Duration::from_millis(500)).await;

    proxy.restore();
    let mut created = None;
    for _ in 0..100 {
        let answer = api
            .send(
                api.client
                    .post(format!("{}/v1/admin/alerts", api.base))
                    .header("x-api-key", &key)
                    .json(&alert),
            )
            .await;
        admitted += 1;
        if answer.status == 201 {
            created = Some(answer);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let created = created.expect("the pool reconnects once the database is back");
    assert_eq!(created.body["informed"][0]["station_id"], "fukuoka:8");
    assert_eq!(api.get_with_key(journeys, &unseen).await.status, 200, "new keys are checked again");

    // Every admitted request of the key was counted, the outage's too.
    api.stop().await;
    let today = chrono::Utc::now().date_naive();
    let records = norikae_api::keys::list_keys(&direct).await.expect("keys");
    let key_id = &records.iter().find(|record| record.name == "app").expect("app key").id;
    let usage = norikae_api::store::usage::on_day(&direct, today).await.expect("usage");
    assert_eq!(usage.get(key_id).copied(), Some(admitted), "no usage lost");
    direct.close().await;
    database.drop().await;
}
