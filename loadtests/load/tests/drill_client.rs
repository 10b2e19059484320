//! The drills judge services by what `norikae-drill` counts, so its counting is tested here
//! against a small server that fails a known share of requests.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

#[derive(Clone, Default)]
struct Counts {
    served: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
}

/// Every third request answers 502, the others a small JSON body.
async fn answer(State(counts): State<Counts>) -> (StatusCode, &'static str) {
    let number = counts.served.fetch_add(1, Ordering::SeqCst) + 1;
    if number % 3 == 0 {
        counts.failed.fetch_add(1, Ordering::SeqCst);
        return (StatusCode::BAD_GATEWAY, "bad gateway");
    }
    (StatusCode::OK, r#"{"results":[],"journeys":[],"groups":[]}"#)
}

fn figure(output: &str, key: &str) -> String {
    output
        .split_whitespace()
        .find_map(|pair| pair.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key}= in {output}"))
        .to_owned()
}

async fn spawn_server() -> (String, Counts) {
    let counts = Counts::default();
    let router = Router::new()
        .route("/stations", get(answer))
        .route("/journeys", get(answer))
        .route("/stations/{id}/departures", get(answer))
        .with_state(counts.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (base, counts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_counts_every_request_and_logs_each_failure() {
    let (base, counts) = spawn_server().await;
    let scratch = tempfile::tempdir().unwrap();
    let failures = scratch.path().join("failures.log");
    let binary = env!("CARGO_BIN_EXE_norikae-drill");
    let args: Vec<String> = [
        "load",
        "--search-url",
        &base,
        "--route-url",
        &base,
        "--rate",
        "200",
        "--duration",
        "1",
        "--failures",
        failures.to_str().unwrap(),
    ]
    .map(str::to_owned)
    .to_vec();
    let output =
        tokio::task::spawn_blocking(move || Command::new(binary).args(args).output().unwrap())
            .await
            .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();

    let served = counts.served.load(Ordering::SeqCst);
    let failed = counts.failed.load(Ordering::SeqCst);
    assert!(served >= 100, "only {served} requests in 1 s at 200/s:\n{stdout}");
    assert_eq!(figure(&stdout, "requests"), served.to_string(), "{stdout}");
    assert_eq!(figure(&stdout, "failed"), failed.to_string(), "{stdout}");
    assert_eq!(figure(&stdout, "ok"), (served - failed).to_string(), "{stdout}");
    assert_eq!(figure(&stdout, "failures"), format!("status_502={failed}"), "{stdout}");

    let log = std::fs::read_to_string(&failures).unwrap();
    assert_eq!(log.lines().count() as u64, failed);
    for line in log.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let (start, end): (u128, u128) = (fields[0].parse().unwrap(), fields[1].parse().unwrap());
        assert!(start <= end, "{line}");
        assert_eq!(fields[2], "status_502", "{line}");
        assert!(fields[3].starts_with(&base), "{line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_refused_is_counted_as_connect() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let binary = env!("CARGO_BIN_EXE_norikae-drill");
    let url = format!("http://127.0.0.1:{port}/health/live");
    let output = tokio::task::spawn_blocking(move || {
        let args =
            ["keepalive", "--url", &url, "--connections", "2", "--rounds", "1", "--gaps-ms", "10"];
        Command::new(binary).args(args).output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert_eq!(figure(&stdout, "requests"), "4", "{stdout}");
    assert_eq!(figure(&stdout, "failures"), "connect=4", "{stdout}");
}
