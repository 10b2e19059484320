//! `norikae-ops` against moto's ECS/EC2 server (PyPI `moto[server]`), started here on
//! 127.0.0.1 with a free port, one server per test.
//!
//! moto neither throttles nor ever reports an agent as disconnected, so the tests put a small
//! fault-injecting proxy between the tool and moto: it answers `ThrottlingException` to the
//! first N calls of chosen operations, and marks chosen EC2 instances' agents disconnected or
//! IMPAIRED in DescribeContainerInstances answers. It also fixes one moto incompatibility:
//! moto sends a task's containers' `cpu`/`memory` as numbers where ECS sends strings (the SDK
//! refuses the numbers), so every client, the tests' own included, goes through a proxy.
//! Everything else is moto's real behaviour.
//! moto also does not run a service scheduler, so the drain test plays it: once the instance
//! is DRAINING it stops the tasks there and starts replacements on another instance.
//!
//! The waits are in real time: moto is another process, answering over real sockets, so
//! tokio's paused clock would run past its answers.
//!
//! Without `moto_server` on PATH the tests skip with a message, except in CI (`CI=true`),
//! where they fail.

use std::collections::{HashMap, HashSet};
use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_ecs::Client;
use aws_sdk_ecs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_ecs::types::ContainerDefinition;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use norikae_ops::agent_check::{AgentCheckOptions, agent_check};
use norikae_ops::backoff::Backoff;
use norikae_ops::drain::{DrainOptions, drain};
use norikae_ops::inventory::instances_with_tasks;
use norikae_ops::{Ecs, OpsError};
use serde_json::Value;

const REGION: &str = "us-east-1";
const CLUSTER: &str = "norikae";
const TARGET_PREFIX: &str = "AmazonEC2ContainerServiceV20141113.";

// ---------------------------------------------------------------------------------------------
// moto server

struct Moto {
    child: Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free port for a moto server, never one handed to another test of this run: the port is
/// free only until moto binds it, and two tests given the same one would share one server (the
/// second moto fails to bind, the first answers both) until the first test stops it.
fn free_port() -> u16 {
    static HANDED_OUT: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    loop {
        let listener = StdTcpListener::bind("127.0.0.1:0").expect("bind a free port on 127.0.0.1");
        let port = listener.local_addr().expect("local addr").port();
        if !handed_out.contains(&port) {
            handed_out.push(port);
            return port;
        }
    }
}

/// Where `moto_server` may be: `MOTO_SERVER`, then PATH, then the venv `ecs/check.sh` makes.
fn moto_candidates() -> Vec<String> {
    let mut candidates = Vec::new();
    if let Ok(explicit) = std::env::var("MOTO_SERVER") {
        candidates.push(explicit);
    }
    candidates.push("moto_server".to_owned());
    let venv = std::env::var("NORIKAE_CI_VENV").ok().or_else(|| {
        std::env::var("HOME").ok().map(|home| format!("{home}/.cache/norikae/ci-venv"))
    });
    if let Some(venv) = venv {
        candidates.push(format!("{venv}/bin/moto_server"));
    }
    candidates
}

/// Starts moto, or returns None (skip) when it is not installed and this is not CI.
async fn start_moto() -> Option<Moto> {
    let port = free_port();
    let mut failures = Vec::new();
    let mut started = None;
    for binary in moto_candidates() {
        let spawned = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        match spawned {
            Ok(child) => {
                started = Some(child);
                break;
            }
            Err(error) => failures.push(format!("{binary}: {error}")),
        }
    }
    let Some(child) = started else {
        let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        let tried = failures.join("; ");
        assert!(!in_ci, "moto_server is required in CI (bash ecs/check.sh installs it): {tried}");
        eprintln!("SKIPPED: moto_server not found ({tried}); pip install 'moto[server]' to run");
        return None;
    };
    let moto = Moto { child, url: format!("http://127.0.0.1:{port}") };
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut moto = moto;
    loop {
        // Our server, not another one on the port: ours must still run.
        let exited = moto.child.try_wait().expect("moto_server's state");
        assert!(exited.is_none(), "moto_server on {} exited: {exited:?}", moto.url);
        if http.get(format!("{}/moto-api/", moto.url)).send().await.is_ok() {
            return Some(moto);
        }
        assert!(
            Instant::now() < deadline,
            "moto_server did not answer on {} within 30 s",
            moto.url
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn client_for(endpoint: &str) -> Client {
    let config = aws_sdk_ecs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        // One attempt: the tool's own back-off, not the SDK's retry, is what the tests observe.
        .retry_config(aws_sdk_ecs::config::retry::RetryConfig::standard().with_max_attempts(1))
        .build();
    Client::from_conf(config)
}

/// Starts an EC2 instance in moto through the EC2 query API (no EC2 SDK needed).
async fn run_ec2_instance(moto: &Moto) -> String {
    let form = [
        ("Action", "RunInstances"),
        ("Version", "2016-11-15"),
        ("ImageId", "ami-12c6146b"),
        ("InstanceType", "c7i.large"),
        ("MinCount", "1"),
        ("MaxCount", "1"),
    ];
    let body = form.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let answer = reqwest::Client::new()
        .post(format!("{}/", moto.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ec2/aws4_request, \
             SignedHeaders=host, Signature=0",
        )
        .body(body)
        .send()
        .await
        .expect("RunInstances reaches moto")
        .text()
        .await
        .expect("RunInstances answer");
    let start = answer.find("<instanceId>").expect("instanceId in RunInstances answer")
        + "<instanceId>".len();
    let end = start + answer[start..].find('<').expect("end of instanceId");
    answer[start..end].to_owned()
}

/// A cluster with `instances` registered EC2 instances; returns (ec2 id, container ARN) pairs.
async fn cluster_with_instances(
    moto: &Moto,
    client: &Client,
    count: usize,
) -> Vec<(String, String)> {
    client.create_cluster().cluster_name(CLUSTER).send().await.expect("CreateCluster");
    let mut registered = Vec::new();
    for _ in 0..count {
        let ec2_id = run_ec2_instance(moto).await;
        let document = serde_json::json!({ "instanceId": ec2_id, "region": REGION }).to_string();
        let output = client
            .register_container_instance()
            .cluster(CLUSTER)
            .instance_identity_document(document)
            .send()
            .await
            .expect("RegisterContainerInstance");
        let arn = output
            .container_instance()
            .and_then(|ci| ci.container_instance_arn())
            .expect("container instance arn")
            .to_owned();
        registered.push((ec2_id, arn));
    }
    // Containers without `cpu`/`memory`: moto answers them as numbers where ECS (and so the
    // SDK) has strings; `memoryReservation` is what moto needs for placement.
    client
        .register_task_definition()
        .family("route")
        .container_definitions(
            ContainerDefinition::builder()
                .name("route")
                .image("norikae:route")
                .memory_reservation(512)
                .build(),
        )
        .container_definitions(
            ContainerDefinition::builder()
                .name("log-router")
                .image("fluent-bit")
                .memory_reservation(64)
                .build(),
        )
        .send()
        .await
        .expect("RegisterTaskDefinition");
    registered
}

/// Starts `count` route tasks on one container instance; returns their ARNs.
async fn start_tasks(client: &Client, container_instance_arn: &str, count: usize) -> Vec<String> {
    let mut arns = Vec::new();
    for _ in 0..count {
        let output = client
            .start_task()
            .cluster(CLUSTER)
            .task_definition("route")
            .container_instances(container_instance_arn)
            .group("service:route")
            .send()
            .await
            .expect("StartTask");
        arns.extend(output.tasks().iter().filter_map(|t| t.task_arn()).map(str::to_owned));
    }
    arns
}

async fn instance_status(client: &Client, container_instance_arn: &str) -> (String, i32) {
    let output = client
        .describe_container_instances()
        .cluster(CLUSTER)
        .container_instances(container_instance_arn)
        .send()
        .await
        .expect("DescribeContainerInstances");
    let instance = &output.container_instances()[0];
    (instance.status().unwrap_or_default().to_owned(), instance.running_tasks_count())
}

// ---------------------------------------------------------------------------------------------
// fault-injecting proxy

#[derive(Default)]
struct Faults {
    /// Operation name → how many more calls to answer with ThrottlingException.
    throttle: HashMap<String, u32>,
    /// Operation name → calls throttled so far.
    throttled: HashMap<String, u32>,
    /// EC2 ids whose agent shows as disconnected.
    disconnected: HashSet<String>,
    /// EC2 ids whose instance health shows as IMPAIRED.
    impaired: HashSet<String>,
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    http: reqwest::Client,
    faults: Arc<Mutex<Faults>>,
}

async fn start_proxy(moto: &Moto) -> (String, Arc<Mutex<Faults>>) {
    let faults = Arc::new(Mutex::new(Faults::default()));
    let proxy =
        Proxy { upstream: moto.url.clone(), http: reqwest::Client::new(), faults: faults.clone() };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
    let address: SocketAddr = listener.local_addr().expect("proxy addr");
    let router = axum::Router::new().fallback(forward).with_state(proxy);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (format!("http://{address}"), faults)
}

async fn forward(
    axum::extract::State(proxy): axum::extract::State<Proxy>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let operation = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|target| target.strip_prefix(TARGET_PREFIX))
        .unwrap_or_default()
        .to_owned();
    {
        let mut faults = proxy.faults.lock().expect("faults lock");
        let remaining = faults.throttle.get(&operation).copied().unwrap_or(0);
        if remaining > 0 {
            faults.throttle.insert(operation.clone(), remaining - 1);
            *faults.throttled.entry(operation.clone()).or_default() += 1;
            let body = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
            return (
                StatusCode::BAD_REQUEST,
                [("content-type", "application/x-amz-json-1.1")],
                body,
            )
                .into_response();
        }
    }
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = proxy.http.request(method, format!("{}{path}", proxy.upstream));
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let answer = match request.body(body).send().await {
        Ok(answer) => answer,
        Err(error) => return (StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
    };
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let content_type = answer
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/x-amz-json-1.1")
        .to_owned();
    let bytes = answer.bytes().await.unwrap_or_default();
    let Ok(mut document) = serde_json::from_slice::<Value>(&bytes) else {
        return (status, [("content-type", content_type)], bytes).into_response();
    };
    stringify_container_numbers(&mut document);
    if operation == "DescribeContainerInstances" && status.is_success() {
        rewrite_agent_health(&proxy.faults, &mut document);
    }
    let bytes = serde_json::to_vec(&document).unwrap_or_else(|_| bytes.to_vec());
    (status, [("content-type", content_type)], bytes).into_response()
}

/// moto answers a task's containers' `cpu` and `memory` as JSON numbers where ECS (and the
/// SDK's deserializer) has strings; turn them into strings, as ECS sends them.
fn stringify_container_numbers(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(containers)) = map.get_mut("containers") {
                for container in containers.iter_mut().filter_map(Value::as_object_mut) {
                    for key in ["cpu", "memory", "memoryReservation"] {
                        if let Some(Value::Number(number)) = container.get(key) {
                            let text = number.to_string();
                            container.insert(key.to_owned(), Value::String(text));
                        }
                    }
                }
            }
            map.values_mut().for_each(stringify_container_numbers);
        }
        Value::Array(items) => items.iter_mut().for_each(stringify_container_numbers),
        _ => {}
    }
}

fn rewrite_agent_health(faults: &Mutex<Faults>, document: &mut Value) {
    let Ok(faults) = faults.lock() else { return };
    let Some(instances) = document.get_mut("containerInstances").and_then(Value::as_array_mut)
    else {
        return;
    };
    for instance in instances {
        let Some(ec2_id) = instance.get("ec2InstanceId").and_then(Value::as_str) else { continue };
        let ec2_id = ec2_id.to_owned();
        if faults.disconnected.contains(&ec2_id) {
            instance["agentConnected"] = Value::Bool(false);
        }
        let overall = if faults.impaired.contains(&ec2_id) { "IMPAIRED" } else { "OK" };
        instance["healthStatus"] = serde_json::json!({ "overallStatus": overall, "details": [] });
    }
}

// ---------------------------------------------------------------------------------------------
// tests

/// Runs the real `norikae-ops` binary against `endpoint` (asynchronously: the proxy it talks
/// to runs on this test's runtime).
async fn run_ops(endpoint: &str, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_norikae-ops"))
        .args(["--cluster", CLUSTER, "--region", REGION, "--endpoint-url", endpoint])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .await
        .expect("run norikae-ops")
}

#[tokio::test]
async fn instances_maps_ec2_instances_to_tasks_and_containers() {
    let Some(moto) = start_moto().await else { return };
    let (moto_url, _) = start_proxy(&moto).await;
    let client = client_for(&moto_url);
    let registered = cluster_with_instances(&moto, &client, 2).await;
    let (ec2_a, arn_a) = &registered[0];
    let (ec2_b, arn_b) = &registered[1];
    let tasks_a = start_tasks(&client, arn_a, 2).await;
    let tasks_b = start_tasks(&client, arn_b, 1).await;

    // Through the real binary, as an operator runs it.
    let output = run_ops(&moto_url, &["--json", "instances"]).await;
    assert!(
        output.status.success(),
        "instances failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reports: Value = serde_json::from_slice(&output.stdout).expect("instances --json is json");
    let reports = reports.as_array().expect("a list of instances");
    assert_eq!(reports.len(), 2);

    for (ec2_id, arn, task_arns) in [(ec2_a, arn_a, &tasks_a), (ec2_b, arn_b, &tasks_b)] {
        let report = reports
            .iter()
            .find(|r| r["ec2_instance_id"] == ec2_id.as_str())
            .unwrap_or_else(|| panic!("{ec2_id} missing from {reports:?}"));
        assert_eq!(report["container_instance_arn"], arn.as_str());
        assert_eq!(report["status"], "ACTIVE");
        assert_eq!(report["agent_connected"], true);
        assert_eq!(report["running_tasks_count"], task_arns.len());
        let listed: HashSet<&str> = report["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .filter_map(|t| t["task_arn"].as_str())
            .collect();
        let expected: HashSet<&str> = task_arns.iter().map(String::as_str).collect();
        assert_eq!(listed, expected, "tasks on {ec2_id}");
        for task in report["tasks"].as_array().expect("tasks") {
            let names: Vec<&str> = task["containers"]
                .as_array()
                .expect("containers")
                .iter()
                .filter_map(|c| c["name"].as_str())
                .collect();
            assert!(names.contains(&"route"), "route container in {task}");
        }
    }

    // The text form names each EC2 instance and its containers too.
    let text = run_ops(&moto_url, &["instances"]).await;
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(ec2_a.as_str()) && text.contains(ec2_b.as_str()), "{text}");
    assert!(text.contains("container route"), "{text}");
}

#[tokio::test]
async fn drain_waits_for_tasks_to_move_and_backs_off_when_throttled() {
    let Some(moto) = start_moto().await else { return };
    // Setup, the fake scheduler and the assertions talk to moto through a proxy without faults.
    let (moto_url, _) = start_proxy(&moto).await;
    let direct = client_for(&moto_url);
    let registered = cluster_with_instances(&moto, &direct, 2).await;
    let (ec2_a, arn_a) = registered[0].clone();
    let (_, arn_b) = registered[1].clone();
    let tasks_a = start_tasks(&direct, &arn_a, 2).await;
    start_tasks(&direct, &arn_b, 1).await;

    let (proxy_url, faults) = start_proxy(&moto).await;
    {
        let mut faults = faults.lock().expect("faults");
        faults.throttle.insert("UpdateContainerInstancesState".to_owned(), 2);
        faults.throttle.insert("DescribeContainerInstances".to_owned(), 3);
    }

    // The service scheduler's part: once A is DRAINING, replace its tasks on B.
    let scheduler = {
        let direct = direct.clone();
        let (arn_a, arn_b, tasks_a) = (arn_a.clone(), arn_b.clone(), tasks_a.clone());
        tokio::spawn(async move {
            let deadline = Instant::now() + Duration::from_secs(30);
            while instance_status(&direct, &arn_a).await.0 != "DRAINING" {
                assert!(Instant::now() < deadline, "instance never set to DRAINING");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            tokio::time::sleep(Duration::from_millis(400)).await;
            for task in &tasks_a {
                start_tasks(&direct, &arn_b, 1).await;
                direct
                    .stop_task()
                    .cluster(CLUSTER)
                    .task(task)
                    .reason("instance draining")
                    .send()
                    .await
                    .expect("StopTask");
            }
        })
    };

    let backoff = Backoff {
        base: Duration::from_millis(40),
        cap: Duration::from_millis(400),
        max_retries: 5,
    };
    let ecs = Ecs::new(client_for(&proxy_url), CLUSTER, backoff);
    let options = DrainOptions {
        poll_interval: Duration::from_millis(100),
        timeout: Duration::from_secs(20),
        no_wait: false,
    };
    let started = Instant::now();
    let report = drain(&ecs, std::slice::from_ref(&ec2_a), options).await.expect("drain succeeds");
    scheduler.await.expect("scheduler task");

    // It backed off on every throttled call and still finished.
    let throttled = faults.lock().expect("faults").throttled.clone();
    assert_eq!(throttled.get("UpdateContainerInstancesState"), Some(&2));
    assert_eq!(throttled.get("DescribeContainerInstances"), Some(&3));
    assert_eq!(report.throttled_calls, 5);
    // Five back-offs of at least half their ceiling: 20 + 40 + 20 + 40 + 80 ms at the least.
    assert!(started.elapsed() >= Duration::from_millis(200), "{:?}", started.elapsed());

    // It waited for the tasks to move rather than returning at once.
    assert!(report.polls >= 2, "polls: {}", report.polls);
    assert!(report.waited_millis >= 400, "waited {} ms", report.waited_millis);
    assert_eq!(report.instances.len(), 1);
    assert_eq!(report.instances[0].ec2_instance_id.as_deref(), Some(ec2_a.as_str()));
    let before: HashSet<&String> = report.instances[0].tasks_before.iter().collect();
    assert_eq!(before, tasks_a.iter().collect::<HashSet<_>>());
    assert_eq!(instance_status(&direct, &arn_a).await, ("DRAINING".to_owned(), 0));
    assert_eq!(instance_status(&direct, &arn_b).await, ("ACTIVE".to_owned(), 3));

    // The mapping now shows every route task on B.
    let mapping =
        instances_with_tasks(&Ecs::new(direct.clone(), CLUSTER, backoff)).await.expect("mapping");
    let on_b = mapping.iter().find(|i| i.container_instance_arn == arn_b).expect("B listed");
    assert_eq!(on_b.tasks.len(), 3);
}

#[tokio::test]
async fn drain_gives_up_when_tasks_never_move_or_throttling_never_ends() {
    let Some(moto) = start_moto().await else { return };
    // Setup, the fake scheduler and the assertions talk to moto through a proxy without faults.
    let (moto_url, _) = start_proxy(&moto).await;
    let direct = client_for(&moto_url);
    let registered = cluster_with_instances(&moto, &direct, 2).await;
    let (ec2_a, arn_a) = registered[0].clone();
    start_tasks(&direct, &arn_a, 1).await;
    let backoff =
        Backoff { base: Duration::from_millis(10), cap: Duration::from_millis(50), max_retries: 3 };

    // Nobody moves the task: the wait ends with a timeout naming the instance.
    let ecs = Ecs::new(direct.clone(), CLUSTER, backoff);
    let options = DrainOptions {
        poll_interval: Duration::from_millis(100),
        timeout: Duration::from_millis(500),
        no_wait: false,
    };
    let error =
        drain(&ecs, std::slice::from_ref(&ec2_a), options).await.expect_err("drain must time out");
    match &error {
        OpsError::DrainTimeout { remaining_tasks, instances, .. } => {
            assert_eq!(*remaining_tasks, 1);
            assert!(instances.contains(ec2_a.as_str()), "{error}");
        }
        other => panic!("expected a drain timeout, got {other}"),
    }

    // An instance the cluster does not have is named in the error.
    let error = drain(&ecs, &["i-0000000000000dead".to_owned()], options)
        .await
        .expect_err("unknown instance");
    assert_eq!(error.code(), "unknown_instance");
    assert!(error.to_string().contains("i-0000000000000dead"));

    // Throttling that outlasts the back-off budget fails with a throttling error.
    let (proxy_url, faults) = start_proxy(&moto).await;
    faults.lock().expect("faults").throttle.insert("ListContainerInstances".to_owned(), 100);
    let ecs = Ecs::new(client_for(&proxy_url), CLUSTER, backoff);
    let error =
        drain(&ecs, std::slice::from_ref(&ec2_a), options).await.expect_err("throttled out");
    assert!(
        matches!(error, OpsError::Throttled { operation: "ListContainerInstances", retries: 3 }),
        "{error}"
    );
    assert_eq!(faults.lock().expect("faults").throttled.get("ListContainerInstances"), Some(&4));
}

#[tokio::test]
async fn agent_check_drains_disconnected_and_impaired_instances() {
    let Some(moto) = start_moto().await else { return };
    // Setup, the fake scheduler and the assertions talk to moto through a proxy without faults.
    let (moto_url, _) = start_proxy(&moto).await;
    let direct = client_for(&moto_url);
    let registered = cluster_with_instances(&moto, &direct, 4).await;
    for (_, arn) in &registered {
        start_tasks(&direct, arn, 1).await;
    }
    let (proxy_url, faults) = start_proxy(&moto).await;
    let (disconnected, impaired) = (registered[0].0.clone(), registered[1].0.clone());
    {
        let mut faults = faults.lock().expect("faults");
        faults.disconnected.insert(disconnected.clone());
        faults.impaired.insert(impaired.clone());
    }
    // A dry run finds both and changes nothing.
    let output = run_ops(&proxy_url, &["--json", "agent-check", "--dry-run"]).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).expect("json report");
    let unhealthy: HashSet<&str> = report["unhealthy"]
        .as_array()
        .expect("unhealthy")
        .iter()
        .filter_map(|i| i["ec2_instance_id"].as_str())
        .collect();
    assert_eq!(unhealthy, HashSet::from([disconnected.as_str(), impaired.as_str()]));
    assert_eq!(report["drained"].as_array().map(Vec::len), Some(0));
    for (_, arn) in &registered {
        assert_eq!(instance_status(&direct, arn).await.0, "ACTIVE");
    }

    // With --emf the run's metrics follow as one embedded-metric-format line, which CloudWatch
    // Logs turns into the metrics ecs/cluster.yaml alarms on.
    let output = run_ops(&proxy_url, &["agent-check", "--dry-run", "--emf"]).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let emf: Value = serde_json::from_str(stdout.lines().last().expect("an emf line"))
        .unwrap_or_else(|error| panic!("last line is not json ({error}): {stdout}"));
    assert_eq!(emf["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Norikae/Ops");
    assert_eq!(emf["Cluster"], CLUSTER);
    assert_eq!(emf["ActiveInstances"], 4);
    assert_eq!(emf["UnhealthyAgents"], 2);
    assert_eq!(emf["DrainedInstances"], 0);
    assert_eq!(emf["SkippedInstances"], 2);

    // A real run drains exactly those two (half of four: within --max-fraction 0.5).
    let output = run_ops(&proxy_url, &["--json", "agent-check"]).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).expect("json report");
    let drained: HashSet<&str> =
        report["drained"].as_array().expect("drained").iter().filter_map(Value::as_str).collect();
    assert_eq!(drained, HashSet::from([disconnected.as_str(), impaired.as_str()]));
    assert_eq!(instance_status(&direct, &registered[0].1).await.0, "DRAINING");
    assert_eq!(instance_status(&direct, &registered[1].1).await.0, "DRAINING");
    assert_eq!(instance_status(&direct, &registered[2].1).await.0, "ACTIVE");
    assert_eq!(instance_status(&direct, &registered[3].1).await.0, "ACTIVE");

    // The next scheduled run leaves the DRAINING ones alone and, with every agent now
    // disconnected, drains no more than its budget (1 of the 2 remaining ACTIVE).
    {
        let mut faults = faults.lock().expect("faults");
        faults.disconnected.insert(registered[2].0.clone());
        faults.disconnected.insert(registered[3].0.clone());
    }
    let ecs = Ecs::new(client_for(&proxy_url), CLUSTER, Backoff::default());
    let options = AgentCheckOptions {
        dry_run: false,
        max_fraction: 0.5,
        drain: DrainOptions { no_wait: true, ..DrainOptions::default() },
    };
    let report = agent_check(&ecs, options).await.expect("agent check");
    assert_eq!(report.active_instances, 2);
    assert_eq!(report.unhealthy.len(), 2);
    assert_eq!(report.drained.len(), 1);
    assert_eq!(report.skipped.len(), 1);
    let still_active = [&registered[2].1, &registered[3].1];
    let mut statuses = Vec::new();
    for arn in still_active {
        statuses.push(instance_status(&direct, arn).await.0);
    }
    statuses.sort();
    assert_eq!(statuses, ["ACTIVE", "DRAINING"]);
}

/// The primary deployment of `service`: (id, created at in epoch seconds).
async fn primary_deployment(client: &Client, service: &str) -> (String, i64) {
    let output = client
        .describe_services()
        .cluster(CLUSTER)
        .services(service)
        .send()
        .await
        .expect("DescribeServices");
    let service = output.services().first().expect("the service");
    let deployment = service
        .deployments()
        .iter()
        .find(|deployment| deployment.status() == Some("PRIMARY"))
        .expect("a primary deployment");
    (
        deployment.id().expect("deployment id").to_owned(),
        deployment.created_at().expect("deployment created_at").secs(),
    )
}

#[tokio::test]
async fn redeploy_rolls_the_service_unless_it_already_deployed_after_the_rotation() {
    let Some(moto) = start_moto().await else { return };
    let (moto_url, _) = start_proxy(&moto).await;
    let client = client_for(&moto_url);
    cluster_with_instances(&moto, &client, 1).await;
    client
        .create_service()
        .cluster(CLUSTER)
        .service_name("api")
        .task_definition("route")
        .desired_count(1)
        .send()
        .await
        .expect("CreateService");
    let (first_id, first_created) = primary_deployment(&client, "api").await;

    // A rotation event older than the deployment: its tasks already have the new password.
    let before = aws_sdk_ecs::primitives::DateTime::from_secs(first_created - 3600)
        .fmt(aws_sdk_ecs::primitives::DateTimeFormat::DateTime)
        .expect("format a time");
    let output = run_ops(
        &moto_url,
        &["--json", "redeploy", "--service", "api", "--unless-deployed-after", &before],
    )
    .await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).expect("redeploy --json is json");
    assert_eq!(report["action"], "skipped", "{report}");
    assert_eq!(primary_deployment(&client, "api").await.0, first_id, "nothing changed");

    // A rotation after the deployment started: a new deployment replaces the tasks.
    let after = aws_sdk_ecs::primitives::DateTime::from_secs(first_created + 3600)
        .fmt(aws_sdk_ecs::primitives::DateTimeFormat::DateTime)
        .expect("format a time");
    let output = run_ops(
        &moto_url,
        &["--json", "redeploy", "--service", "api", "--unless-deployed-after", &after],
    )
    .await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).expect("redeploy --json is json");
    assert_eq!(report["action"], "started", "{report}");
    assert_eq!(report["previous_deployment"]["id"], first_id.as_str(), "{report}");
    let (second_id, _) = primary_deployment(&client, "api").await;
    assert_ne!(second_id, first_id, "UpdateService(forceNewDeployment) made a new deployment");
    assert_eq!(report["primary_deployment"]["id"], second_id.as_str(), "{report}");

    // Without a time it always rolls; the text form says what it did.
    let output = run_ops(&moto_url, &["redeploy", "--service", "api"]).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.starts_with("started api:"), "{text}");
    assert_ne!(primary_deployment(&client, "api").await.0, second_id);

    // A service that is not there, and a time that is not one, are named.
    let output = run_ops(&moto_url, &["redeploy", "--service", "nope"]).await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nope"), "{stderr}");
    let output =
        run_ops(&moto_url, &["redeploy", "--service", "api", "--unless-deployed-after", "soon"])
            .await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("\"soon\" is not an RFC 3339 time"), "{stderr}");
}
