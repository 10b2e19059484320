//! The access log and the ECS identity on every JSON log line. Its own test binary: it
//! installs a global subscriber that captures what the server logs.

mod support;

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{get, put};
use norikae_runtime::telemetry::{EcsIdentity, IdentitySources, json_subscriber};
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

/// A stand-in for the ECS task metadata endpoint (v4) and IMDSv2, with the launch type
/// given and a count of the requests IMDS got.
struct FakeMetadata {
    base: String,
    imds_requests: Arc<AtomicUsize>,
}

async fn fake_metadata_server(launch_type: &'static str) -> FakeMetadata {
    let imds_requests = Arc::new(AtomicUsize::new(0));
    let counted = imds_requests.clone();
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
            get(move || async move {
                axum::Json(serde_json::json!({
                    "Cluster": "arn:aws:ecs:ap-northeast-1:123456789012:cluster/norikae-prod",
                    "TaskARN": "arn:aws:ecs:ap-northeast-1:123456789012:task/norikae-prod/0f1e2d",
                    "AvailabilityZone": "ap-northeast-1a",
                    "LaunchType": launch_type
                }))
            }),
        )
        .route(
            "/latest/api/token",
            put(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                async { "token-123" }
            }),
        )
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
    FakeMetadata { base: format!("http://{address}"), imds_requests }
}

/// An IMDS address where nothing answers, as `ECS_AWSVPC_BLOCK_IMDS=true` leaves it.
async fn blocked_imds() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}")
}

/// The container metadata file as the agent writes it once the container runs.
const CONTAINER_METADATA_READY: &str = r#"{
    "Cluster": "norikae-prod",
    "ContainerInstanceARN": "arn:aws:ecs:ap-northeast-1:123456789012:container-instance/norikae-prod/5d6e7f",
    "TaskARN": "arn:aws:ecs:ap-northeast-1:123456789012:task/norikae-prod/0f1e2d",
    "ContainerName": "route",
    "MetadataFileStatus": "READY",
    "AvailabilityZone": "ap-northeast-1a"
}"#;

fn write_file(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn sources(metadata: &FakeMetadata, imds_url: String) -> IdentitySources {
    IdentitySources {
        task_metadata_uri: format!("{}/v4/abc", metadata.base),
        container_metadata_file: None,
        instance_id_file: None,
        imds_url,
    }
}

#[tokio::test]
async fn with_imds_blocked_the_instance_comes_from_the_metadata_file_and_the_host_file() {
    let metadata = fake_metadata_server("EC2").await;
    let dir = tempfile::tempdir().unwrap();
    let ecs_file = write_file(&dir, "ecs-container-metadata.json", CONTAINER_METADATA_READY);
    // What the instance's user data writes (from IMDS on the host), with its newline.
    let id_file = write_file(&dir, "instance-id", "i-0fedcba9876543210\n");
    let blocked = IdentitySources {
        container_metadata_file: Some(ecs_file.clone()),
        instance_id_file: Some(id_file),
        ..sources(&metadata, blocked_imds().await)
    };
    let reading = EcsIdentity::read(&blocked).await.expect("task metadata");
    assert_eq!(reading.identity.instance_id.as_deref(), Some("i-0fedcba9876543210"));
    assert!(
        reading
            .identity
            .container_instance_arn
            .as_deref()
            .unwrap()
            .ends_with("/norikae-prod/5d6e7f"),
        "{reading:?}"
    );
    assert!(reading.missing.is_empty(), "{reading:?}");

    // The file wins even where IMDS answers: it is not asked at all.
    let with_imds = IdentitySources { imds_url: metadata.base.clone(), ..blocked.clone() };
    let reading = EcsIdentity::read(&with_imds).await.expect("task metadata");
    assert_eq!(reading.identity.instance_id.as_deref(), Some("i-0fedcba9876543210"));
    assert_eq!(metadata.imds_requests.load(Ordering::SeqCst), 0);

    // Without the file and with IMDS blocked: no instance id, and a warning saying what to set.
    let unnamed = IdentitySources { instance_id_file: None, ..blocked.clone() };
    let reading = EcsIdentity::read(&unnamed).await.expect("task metadata");
    assert_eq!(reading.identity.instance_id, None);
    assert!(reading.identity.container_instance_arn.is_some());
    assert!(
        reading.missing.iter().any(|why| why.contains("NORIKAE_LOG__INSTANCE_ID_FILE")),
        "{reading:?}"
    );

    // A file holding something else is refused, naming the variable and the file.
    let wrong = write_file(&dir, "wrong", "<html>403 Forbidden</html>");
    let garbled = IdentitySources { instance_id_file: Some(wrong), ..blocked.clone() };
    let reading = EcsIdentity::read(&garbled).await.expect("task metadata");
    assert_eq!(reading.identity.instance_id, None);
    assert!(
        reading
            .missing
            .iter()
            .any(|why| why.contains("NORIKAE_LOG__INSTANCE_ID_FILE") && why.contains("wrong")),
        "{reading:?}"
    );
}

#[tokio::test]
async fn the_container_instance_is_waited_for_while_the_agent_writes_the_file() {
    let metadata = fake_metadata_server("EC2").await;
    let dir = tempfile::tempdir().unwrap();
    // First the agent's partial file, without the container instance; the full one 300 ms on.
    // Real time: the reader's 1 s file wait runs beside real HTTP calls to the fake metadata
    // server, whose 500 ms timeouts a paused clock would fire while the calls are in flight.
    let ecs_file = write_file(&dir, "ecs.json", r#"{"MetadataFileStatus": "NOT_READY"}"#);
    let later = ecs_file.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        std::fs::write(later, CONTAINER_METADATA_READY).unwrap();
    });
    let reading = EcsIdentity::read(&IdentitySources {
        container_metadata_file: Some(ecs_file.clone()),
        ..sources(&metadata, metadata.base.clone())
    })
    .await
    .expect("task metadata");
    assert!(reading.identity.container_instance_arn.is_some(), "{reading:?}");
    assert_eq!(reading.identity.instance_id.as_deref(), Some("i-0abc123def4567890"), "IMDSv2");

    // A file that never gets there: given up after about a second, and said why.
    std::fs::write(&ecs_file, r#"{"MetadataFileStatus": "NOT_READY"}"#).unwrap();
    let started = std::time::Instant::now();
    let reading = EcsIdentity::read(&IdentitySources {
        container_metadata_file: Some(ecs_file),
        ..sources(&metadata, metadata.base.clone())
    })
    .await
    .expect("task metadata");
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    assert_eq!(reading.identity.container_instance_arn, None);
    assert!(
        reading
            .missing
            .iter()
            .any(|why| why.contains("ECS_CONTAINER_METADATA_FILE") && why.contains("NOT_READY")),
        "{reading:?}"
    );
}

#[tokio::test]
async fn on_fargate_no_instance_is_looked_for() {
    let metadata = fake_metadata_server("FARGATE").await;
    let reading = EcsIdentity::read(&IdentitySources {
        instance_id_file: Some(PathBuf::from("/nonexistent/instance-id")),
        ..sources(&metadata, metadata.base.clone())
    })
    .await
    .expect("task metadata");
    assert_eq!(reading.identity.launch_type.as_deref(), Some("FARGATE"));
    assert_eq!(
        (reading.identity.instance_id, reading.identity.container_instance_arn),
        (None, None)
    );
    assert!(reading.missing.is_empty(), "{:?}", reading.missing);
    assert_eq!(metadata.imds_requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn every_line_carries_the_ecs_identity_and_each_request_gets_an_access_line() {
    let metadata = fake_metadata_server("EC2").await;
    let dir = tempfile::tempdir().unwrap();
    let reading = EcsIdentity::read(&IdentitySources {
        container_metadata_file: Some(write_file(&dir, "ecs.json", CONTAINER_METADATA_READY)),
        instance_id_file: Some(write_file(&dir, "instance-id", "i-0abc123def4567890")),
        ..sources(&metadata, blocked_imds().await)
    })
    .await
    .expect("metadata");
    let identity = reading.identity;
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
    // The access line may be written just after the client has the response: wait for it.
    let is_access = |line: &str| {
        serde_json::from_str::<serde_json::Value>(line).is_ok_and(|line| line["target"] == "access")
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let text = loop {
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        if text.lines().any(is_access) || std::time::Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    };
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
        let container_instance = line["ecs"]["container_instance_arn"].as_str().unwrap_or_default();
        assert!(container_instance.ends_with("container-instance/norikae-prod/5d6e7f"), "{line}");
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
