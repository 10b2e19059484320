//! The access log and the ECS identity on every JSON log line. Its own test binary: it
//! installs a global subscriber that captures what the server logs.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{get, put};
use norikae_runtime::telemetry::{EcsIdentity, json_subscriber};
use support::{fast_settings, get_on, spawn, test_router};
use tokio::net::TcpStream;
use tracing_subscriber::EnvFilter;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// A stand-in for the ECS task metadata endpoint (v4) and IMDSv2.
async fn fake_metadata_server() -> String {
    let app = Router::new()
        .route(
            "/v4/abc",
            get(|| async {
                axum::Json(serde_json::json!({
                    "DockerId": "cafe0123456789",
                    "Name": "route",
                    "Labels": { "com.amazonaws.ecs.cluster": "norikae-prod" }
                }))
            }),
        )
        .route(
            "/v4/abc/task",
            get(|| async {
                axum::Json(serde_json::json!({
                    "Cluster": "arn:aws:ecs:ap-northeast-1:123456789012:cluster/norikae-prod",
                    "TaskARN": "arn:aws:ecs:ap-northeast-1:123456789012:task/norikae-prod/0f1e2d",
                    "AvailabilityZone": "ap-northeast-1a",
                    "LaunchType": "EC2"
                }))
            }),
        )
        .route("/latest/api/token", put(|| async { "token-123" }))
        .route(
            "/latest/meta-data/instance-id",
            get(|headers: http::HeaderMap| async move {
                match headers.get("x-aws-ec2-metadata-token") {
                    Some(token) if token == "token-123" => Ok("i-0abc123def4567890"),
                    _ => Err(http::StatusCode::UNAUTHORIZED),
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

#[tokio::test]
async fn every_line_carries_the_ecs_identity_and_each_request_gets_an_access_line() {
    let base = fake_metadata_server().await;
    let identity = EcsIdentity::fetch(&format!("{base}/v4/abc"), &base).await.expect("metadata");
    assert_eq!(identity.instance_id.as_deref(), Some("i-0abc123def4567890"));
    assert_eq!(identity.container_id.as_deref(), Some("cafe0123456789"));

    let captured = Captured::default();
    let subscriber =
        json_subscriber("route", Some(identity), captured.clone(), EnvFilter::new("info"));
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let running = spawn(fast_settings(), test_router()).await;
    let mut connection = TcpStream::connect(running.address).await.unwrap();
    let response = get_on(
        &mut connection,
        "/fast?x=1",
        &[("X-Request-Id", "req-7"), ("X-Forwarded-For", "203.0.113.9, 10.0.0.2")],
    )
    .await
    .unwrap();
    assert_eq!(response.status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> =
        text.lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect();
    assert!(!lines.is_empty());
    for line in &lines {
        // The process is "route"; lines written by a server name that server (here "test"),
        // so the all-in-one process still tells its services apart.
        assert!(["route", "test"].contains(&line["service"].as_str().unwrap()), "{line}");
        assert_eq!(line["ecs"]["instance_id"], "i-0abc123def4567890", "{line}");
        assert_eq!(line["ecs"]["availability_zone"], "ap-northeast-1a", "{line}");
        assert!(line["ecs"]["task_arn"].as_str().unwrap().ends_with("task/norikae-prod/0f1e2d"));
    }
    let access = lines
        .iter()
        .find(|line| line["target"] == "access")
        .unwrap_or_else(|| panic!("no access line in {text}"));
    assert_eq!(access["service"], "test");
    assert_eq!(access["method"], "GET");
    assert_eq!(access["path"], "/fast");
    assert_eq!(access["status"], 200);
    assert_eq!(access["bytes"], 4);
    assert_eq!(access["request_id"], "req-7");
    assert_eq!(access["client"], "203.0.113.9");
    assert!(access["latency_ms"].as_f64().is_some());
    assert!(
        lines.iter().any(|line| line["message"] == "http settings"),
        "start-up logs the values"
    );
}
