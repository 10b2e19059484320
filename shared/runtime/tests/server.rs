//! The runtime's promises, tested against a real server on port 0 with scaled-down timeouts.
//! Real time, not tokio's paused clock: paused time would jump past the timeouts whenever a
//! socket's bytes are not yet readable, and hyper's timers would fire on the jump.

mod support;

use std::time::{Duration, Instant};

use norikae_runtime::{HttpSettings, Server};
use support::{closed_by_server, fast_settings, get, get_on, request_on, spawn, test_router};
use tokio::net::TcpStream;

#[tokio::test]
async fn idle_keep_alive_outlives_the_balancer_timeout_and_is_closed_after_its_own() {
    let running = spawn(fast_settings(), test_router()).await;
    let mut connection = TcpStream::connect(running.address).await.unwrap();
    assert_eq!(get_on(&mut connection, "/fast", &[]).await.unwrap().status, 200);

    // Idle past the balancer's 1 s: the balancer may reuse it, so it must still work.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let reused = get_on(&mut connection, "/fast", &[]).await.expect("connection still open");
    assert_eq!(reused.status, 200);

    // Idle past the service's own 2 s: the server closes it.
    let started = Instant::now();
    assert!(closed_by_server(&mut connection, Duration::from_secs(4)).await);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(1800), "closed too early: {waited:?}");

    let metrics = get(running.address, "/metrics").await.unwrap().body;
    assert!(metrics.contains("norikae_http_connections_closed_idle_total 1"), "{metrics}");
}

#[tokio::test]
async fn start_up_refuses_inverted_or_inconsistent_timeouts() {
    let inverted =
        HttpSettings { idle_timeout_secs: 50, lb_idle_timeout_secs: 60, ..fast_settings() };
    let error = Server::new("test", inverted).err().expect("refused").to_string();
    assert!(error.contains("idle_timeout_secs (50 s)") && error.contains("(60 s)"), "{error}");

    let too_long = HttpSettings {
        drain_delay_secs: 3,
        shutdown_timeout_secs: 2,
        stop_timeout_secs: 5,
        ..fast_settings()
    };
    let error = Server::new("test", too_long).err().expect("refused").to_string();
    assert!(error.contains("stop_timeout_secs (5 s)"), "{error}");
}

#[tokio::test]
async fn shutdown_drains_then_finishes_in_flight_requests_with_connection_close() {
    let mut running = spawn(fast_settings(), test_router()).await;
    let address = running.address;

    // A slow request in flight and an idle keep-alive connection when the signal arrives.
    let mut idle = TcpStream::connect(address).await.unwrap();
    assert_eq!(get_on(&mut idle, "/fast", &[]).await.unwrap().status, 200);
    let slow = tokio::spawn(async move { get(address, "/slow").await });
    tokio::time::sleep(Duration::from_millis(100)).await;

    let signalled = Instant::now();
    running.shut_down();
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Draining: not ready, yet requests are still served (and told to close).
    let ready = get(address, "/health/ready").await.unwrap();
    assert_eq!(ready.status, 503);
    assert!(ready.body.contains("draining"), "{}", ready.body);
    let during_drain = get(address, "/fast").await.unwrap();
    assert_eq!(during_drain.status, 200);
    assert_eq!(during_drain.header("connection"), Some("close"));
    assert_eq!(get(address, "/health/live").await.unwrap().status, 200);

    // After the drain delay the idle connection is closed and new connections are refused.
    assert!(closed_by_server(&mut idle, Duration::from_millis(1500)).await);
    assert!(signalled.elapsed() >= Duration::from_millis(900), "closed before the drain delay");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(TcpStream::connect(address).await.is_err(), "listener still open after the drain");

    // The slow request finished, told its client to close, and the server is gone in time.
    let slow = slow.await.unwrap().expect("slow request completed");
    assert_eq!(slow.status, 200);
    assert_eq!(slow.body, "slow");
    assert_eq!(slow.header("connection"), Some("close"));
    tokio::time::timeout(Duration::from_secs(3), &mut running.task)
        .await
        .expect("server stopped within drain + shutdown timeout")
        .unwrap()
        .unwrap();
    assert!(signalled.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn work_still_running_at_the_shutdown_timeout_is_cut() {
    let mut running = spawn(fast_settings(), test_router()).await;
    let address = running.address;
    let stuck = tokio::spawn(async move { get(address, "/stuck").await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let signalled = Instant::now();
    running.shut_down();
    tokio::time::timeout(Duration::from_secs(5), &mut running.task)
        .await
        .expect("server gave up on the stuck request")
        .unwrap()
        .unwrap();
    let stopped_after = signalled.elapsed();
    // drain (1 s) + shutdown timeout (2 s)
    assert!(stopped_after >= Duration::from_millis(2900), "{stopped_after:?}");
    assert!(stopped_after < Duration::from_secs(4), "{stopped_after:?}");
    assert!(stuck.await.unwrap().is_err(), "the stuck request must not get a response");
}

#[tokio::test]
async fn health_reports_loading_until_data_is_loaded() {
    let running = spawn(fast_settings(), test_router()).await;
    running.readiness.set_loaded(false);
    let loading = get(running.address, "/health/ready").await.unwrap();
    assert_eq!(loading.status, 503);
    assert!(loading.body.contains("loading"));
    assert_eq!(get(running.address, "/health/live").await.unwrap().status, 200);
    running.readiness.set_loaded(true);
    assert_eq!(get(running.address, "/health/ready").await.unwrap().status, 200);
}

#[tokio::test]
async fn request_ids_are_taken_from_the_caller_or_the_balancer_or_made() {
    let running = spawn(fast_settings(), test_router()).await;
    let mut connection = TcpStream::connect(running.address).await.unwrap();
    let given = get_on(&mut connection, "/fast", &[("X-Request-Id", "req-42")]).await.unwrap();
    assert_eq!(given.header("x-request-id"), Some("req-42"));
    let trace = "Root=1-67891233-abcdef012345678912345678";
    let from_alb = get_on(&mut connection, "/fast", &[("X-Amzn-Trace-Id", trace)]).await.unwrap();
    assert_eq!(from_alb.header("x-request-id"), Some(trace));
    let made = get_on(&mut connection, "/fast", &[]).await.unwrap();
    assert_eq!(made.header("x-request-id").map(str::len), Some(36), "a UUID");
}

#[tokio::test]
async fn metrics_count_requests_by_route_method_and_status() {
    let running = spawn(fast_settings(), test_router()).await;
    for _ in 0..3 {
        assert_eq!(get(running.address, "/fast").await.unwrap().status, 200);
    }
    assert_eq!(get(running.address, "/nowhere").await.unwrap().status, 404);
    let metrics = get(running.address, "/metrics").await.unwrap().body;
    assert!(
        metrics
            .contains(r#"norikae_http_requests_total{route="/fast",method="GET",status="200"} 3"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"norikae_http_requests_total{route="unmatched",method="GET",status="404"} 1"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains("norikae_http_request_duration_seconds_bucket"), "{metrics}");
    assert!(metrics.contains("norikae_http_connections_open"), "{metrics}");
    assert!(metrics.contains("norikae_service_ready 1"), "{metrics}");
    assert!(metrics.contains("norikae_http_draining 0"), "{metrics}");
}

#[tokio::test]
async fn saturation_sheds_load_with_retry_after_and_health_still_answers() {
    let settings = HttpSettings { max_in_flight: 1, ..fast_settings() };
    let running = spawn(settings, test_router()).await;
    let address = running.address;
    let slow = tokio::spawn(async move { get(address, "/slow").await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let shed = get(address, "/fast").await.unwrap();
    assert_eq!(shed.status, 503);
    assert_eq!(shed.header("retry-after"), Some("1"));
    assert_eq!(shed.header("content-type"), Some("application/problem+json"));
    assert!(shed.body.contains(r#""code":"overloaded""#), "{}", shed.body);
    assert_eq!(get(address, "/health/ready").await.unwrap().status, 200);
    assert_eq!(slow.await.unwrap().unwrap().status, 200);
}

#[tokio::test]
async fn requests_past_the_timeout_get_503() {
    let settings = HttpSettings { request_timeout_secs: 1, ..fast_settings() };
    let running = spawn(settings, test_router()).await;
    let started = Instant::now();
    let response = get(running.address, "/stuck").await.unwrap();
    assert_eq!(response.status, 503);
    assert!(response.body.contains(r#""code":"timeout""#), "{}", response.body);
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// The value of an unlabelled gauge in a `/metrics` text.
fn gauge(metrics: &str, name: &str) -> i64 {
    let line = metrics
        .lines()
        .find(|line| line.split(' ').next() == Some(name))
        .unwrap_or_else(|| panic!("{name} missing in {metrics}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_panicking_handler_gets_500_problem_json_and_releases_its_gauges() {
    let running = spawn(fast_settings(), test_router()).await;
    let mut connection = TcpStream::connect(running.address).await.unwrap();
    let panicked = get_on(&mut connection, "/panic", &[]).await.expect("an answer, not a reset");
    assert_eq!(panicked.status, 500);
    assert_eq!(panicked.header("content-type"), Some("application/problem+json"));
    assert!(panicked.body.contains(r#""code":"internal""#), "{}", panicked.body);
    assert!(!panicked.body.contains("secret"), "the panic message leaked: {}", panicked.body);

    // The same connection serves the next request, and nothing is left counted in flight.
    assert_eq!(get_on(&mut connection, "/fast", &[]).await.unwrap().status, 200);
    let metrics = get_on(&mut connection, "/metrics", &[]).await.unwrap().body;
    // Only the scrape itself is in flight.
    assert_eq!(gauge(&metrics, "norikae_http_requests_in_flight"), 1, "{metrics}");
    assert!(
        metrics
            .contains(r#"norikae_http_requests_total{route="/panic",method="GET",status="500"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn requests_abandoned_by_their_client_leave_the_gauges() {
    let running = spawn(fast_settings(), test_router()).await;
    let mut abandoned = TcpStream::connect(running.address).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut abandoned, b"GET /stuck HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let busy = get(running.address, "/metrics").await.unwrap().body;
    // The stuck request and the scrape itself.
    assert_eq!(gauge(&busy, "norikae_http_requests_in_flight"), 2, "{busy}");
    drop(abandoned);

    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let metrics = get(running.address, "/metrics").await.unwrap().body;
        // What is left is the scrape's own request and connection.
        let released = gauge(&metrics, "norikae_http_requests_in_flight") == 1
            && gauge(&metrics, "norikae_http_connections_open") == 1;
        if released {
            break;
        }
        assert!(Instant::now() < deadline, "gauges not released: {metrics}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn made_up_methods_share_one_metric_label() {
    let running = spawn(fast_settings(), test_router()).await;
    let mut connection = TcpStream::connect(running.address).await.unwrap();
    for method in ["BREW", "PROPFIND", "X-RANDOM-1", "X-RANDOM-2", "DELETE"] {
        let response = request_on(&mut connection, method, "/fast", &[]).await.unwrap();
        assert_eq!(response.status, 200, "{method}");
    }
    let metrics = get_on(&mut connection, "/metrics", &[]).await.unwrap().body;
    assert!(
        metrics.contains(
            r#"norikae_http_requests_total{route="/fast",method="OTHER",status="200"} 4"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"norikae_http_requests_total{route="/fast",method="DELETE",status="200"} 1"#
        ),
        "{metrics}"
    );
    for made_up in ["BREW", "PROPFIND", "X-RANDOM"] {
        assert!(!metrics.contains(made_up), "{made_up} became a label: {metrics}");
    }
}
