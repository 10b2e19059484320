//! Shared by the api's integration tests: the search and route engines on the bundled feeds
//! (started once per test binary on their own runtime), the api in-process on port 0, fresh
//! PostgreSQL databases, a cuttable TCP proxy, and checks of answers against the OpenAPI
//! document.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use norikae_api::{AuthSettings, Config, DatabaseSettings, UpstreamSettings};
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// URLs of the search and route engines serving the bundled feeds.
#[derive(Clone, Debug)]
pub struct Engines {
    pub search_url: String,
    pub route_url: String,
}

/// The bundled snapshot, imported once into the cargo target's temporary folder.
fn snapshot() -> PathBuf {
    static SNAPSHOT: OnceLock<PathBuf> = OnceLock::new();
    SNAPSHOT
        .get_or_init(|| {
            let path =
                PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("norikae-api/timetable.snapshot");
            std::fs::create_dir_all(path.parent().expect("parent")).expect("snapshot folder");
            norikae_timetable::bundled::ensure_snapshot(
                &norikae_timetable::bundled::repo_feeds_dir(),
                &path,
            )
            .expect("bundled snapshot");
            path
        })
        .clone()
}

/// Search and route on the bundled feeds, on a runtime of their own that outlives every
/// test of the binary (each `#[tokio::test]` has its own runtime).
pub fn engines() -> Engines {
    static ENGINES: OnceLock<Engines> = OnceLock::new();
    ENGINES
        .get_or_init(|| {
            let snapshot = snapshot();
            let (sender, receiver) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("engine runtime");
                runtime.block_on(async move {
                    let timetable = norikae_timetable::TimetableSettings {
                        snapshot,
                        reload_interval_secs: 3600,
                    };
                    let search_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                    let route_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                    let search_port = search_listener.local_addr().expect("address").port();
                    let route_port = route_listener.local_addr().expect("address").port();
                    let search = norikae_search::Config {
                        http: norikae_runtime::HttpSettings::for_port(search_port),
                        timetable: timetable.clone(),
                    };
                    let route = norikae_route::Config {
                        http: norikae_runtime::HttpSettings::for_port(route_port),
                        timetable,
                        ..norikae_route::Config::default()
                    };
                    tokio::spawn(norikae_search::run(
                        search,
                        search_listener,
                        std::future::pending(),
                    ));
                    tokio::spawn(norikae_route::run(route, route_listener, std::future::pending()));
                    let engines = Engines {
                        search_url: format!("http://127.0.0.1:{search_port}"),
                        route_url: format!("http://127.0.0.1:{route_port}"),
                    };
                    let client = reqwest::Client::new();
                    for base in [&engines.search_url, &engines.route_url] {
                        wait_ready(&client, base).await;
                    }
                    sender.send(engines).expect("send engines");
                    std::future::pending::<()>().await;
                });
            });
            receiver.recv_timeout(Duration::from_secs(300)).expect("engines ready within 5 minutes")
        })
        .clone()
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    for _ in 0..3000 {
        let ready = client.get(format!("{base}/health/ready")).send().await;
        if ready.is_ok_and(|response| response.status() == 200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{base} not ready within 5 minutes");
}

/// A SQLite database file of its own (the folder is removed with the guard).
pub fn sqlite_url(directory: &tempfile::TempDir) -> String {
    format!("sqlite://{}", directory.path().join("data/norikae.db").display())
}

pub const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A fresh PostgreSQL database `norikae_test_<random>`; [`PgDatabase::drop`] removes it.
pub struct PgDatabase {
    pub name: String,
}

impl PgDatabase {
    pub async fn create() -> Self {
        use sqlx::Connection;
        let name = format!("norikae_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(POSTGRES_ADMIN_URL)
            .await
            .expect("PostgreSQL at 127.0.0.1:5432 (user postgres, database test)");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create database");
        admin.close().await.expect("close");
        Self { name }
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:5432/{}", self.name)
    }

    /// The URL through a proxy on `port`.
    pub fn url_via(&self, port: u16) -> String {
        format!("postgres://postgres@127.0.0.1:{port}/{}", self.name)
    }

    pub async fn drop(self) {
        use sqlx::Connection;
        let Ok(mut admin) = sqlx::PgConnection::connect(POSTGRES_ADMIN_URL).await else { return };
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut admin)
        .await;
        let _ = admin.close().await;
    }
}

/// Settings for a test api: the engines given, the database given, quick background work.
pub fn api_config(engines: &Engines, database_url: String, open_access: bool) -> Config {
    Config {
        http: norikae_runtime::HttpSettings {
            drain_delay_secs: 0,
            shutdown_timeout_secs: 2,
            ..norikae_runtime::HttpSettings::for_port(0)
        },
        database: DatabaseSettings {
            url: database_url,
            acquire_timeout_ms: 500,
            max_connections: 5,
            ..Default::default()
        },
        upstream: UpstreamSettings {
            search_url: engines.search_url.clone(),
            route_url: engines.route_url.clone(),
            status_poll_secs: 1,
            ..Default::default()
        },
        auth: AuthSettings {
            open_access,
            key_refresh_ms: 200,
            usage_flush_ms: 100,
            alert_refresh_ms: 200,
            ..AuthSettings::default()
        },
        ..Config::default()
    }
}

/// The api in-process on port 0; stopped (usage flushed) by [`Api::stop`].
pub struct Api {
    pub base: String,
    pub client: reqwest::Client,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

impl Api {
    pub async fn start(config: Config) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let config =
            Config { http: norikae_runtime::HttpSettings { port, ..config.http }, ..config };
        let stop = CancellationToken::new();
        let task = tokio::spawn(norikae_api::run(config, listener, stop.clone().cancelled_owned()));
        let api = Self {
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            stop,
            task,
        };
        wait_ready(&api.client, &api.base).await;
        api
    }

    pub async fn stop(self) {
        self.stop.cancel();
        self.task.await.expect("api task").expect("api stopped cleanly");
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Answer { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.client.get(format!("{}{path}", self.base))).await
    }

    pub async fn get_with_key(&self, path: &str, key: &str) -> Answer {
        self.send(self.client.get(format!("{}{path}", self.base)).header("x-api-key", key)).await
    }
}

/// The OpenAPI document, as served.
pub fn openapi() -> Value {
    serde_json::to_value(norikae_api::handlers::openapi()).expect("openapi as json")
}

/// Checks `answer` against what the document says `method path` answers with its status:
/// the status must be documented, the contract's headers it carries declared, and the body
/// must match the documented schema.
pub fn check_documented(document: &Value, method: &str, path_template: &str, answer: &Answer) {
    let operation = &document["paths"][path_template][method];
    assert!(operation.is_object(), "{method} {path_template} is not in the OpenAPI document");
    let response = &operation["responses"][answer.status.to_string()];
    assert!(
        response.is_object(),
        "{method} {path_template} answered {} which the document does not list: {}",
        answer.status,
        answer.body
    );
    // The headers the api's contract names are declared on every response that carries them.
    for header in ["etag", "retry-after", "x-request-id", "ratelimit", "ratelimit-policy"] {
        let declared = response["headers"]
            .as_object()
            .is_some_and(|headers| headers.keys().any(|key| key.eq_ignore_ascii_case(header)));
        assert!(
            answer.headers.get(header).is_none() || declared,
            "{method} {path_template} {}: header {header} sent but not declared",
            answer.status
        );
    }
    let Some(content) = response["content"].as_object() else {
        return;
    };
    let content_type = answer.header("content-type").unwrap_or_default().to_owned();
    let (_, media) = content
        .iter()
        .find(|(documented, _)| content_type.starts_with(documented.as_str()))
        .unwrap_or_else(|| {
            panic!(
                "{method} {path_template} {}: content type {content_type} not documented",
                answer.status
            )
        });
    let schema = serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": document["components"],
        "allOf": [media["schema"]],
    });
    let validator = jsonschema::validator_for(&schema).expect("documented schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&answer.body)
        .map(|error| format!("{error} at {}", error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path_template} {}: the body does not match the documented schema: {errors:#?}\nbody: {}",
        answer.status,
        answer.body
    );
}

/// A TCP proxy on port 0 to `target` that can be cut (open connections closed, new ones
/// refused) and restored: a database outage without touching the database.
pub struct Proxy {
    pub port: u16,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    generation: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
}

impl Proxy {
    pub async fn start(target: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("address").port();
        let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (generation, _) = tokio::sync::watch::channel(0u64);
        let generation = std::sync::Arc::new(generation);
        let accept_cut = cut.clone();
        let accept_generation = generation.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else { continue };
                if accept_cut.load(std::sync::atomic::Ordering::SeqCst) {
                    let _ = client.shutdown().await;
                    continue;
                }
                let mut cuts = accept_generation.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cuts.changed() => {}
                    }
                });
            }
        });
        Self { port, cut, generation }
    }

    /// Closes every proxied connection and refuses new ones.
    pub fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        self.generation.send_modify(|generation| *generation += 1);
    }

    pub fn restore(&self) {
        self.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}
