//! Shared by the app's integration tests: the whole system (search, route, api with open
//! access on a fresh SQLite file, app) started in-process on port 0 on the bundled feeds,
//! once per test binary, on its own runtime thread so that every test can use it.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use norikae_runtime::HttpSettings;
use norikae_timetable::TimetableSettings;

/// Base URLs of the running services.
#[derive(Debug)]
pub struct Stack {
    pub app: String,
    pub api: String,
    /// The route service (its realtime push takes [`REALTIME_PUSH_TOKEN`]).
    pub route: String,
}

/// The bearer token of the route service's `POST /realtime/{feed}` in this stack.
pub const REALTIME_PUSH_TOKEN: &str = "app-tests-push-token";

/// A folder under the cargo target dir for this binary's files (snapshot, database).
pub fn work_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("norikae-app-tests");
    std::fs::create_dir_all(&dir).expect("test work dir");
    dir
}

/// The whole system, started on first use.
pub fn stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("norikae-stack".to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("stack runtime");
                runtime.block_on(async move {
                    let stack = start().await;
                    sender.send(stack).expect("hand the stack over");
                    std::future::pending::<()>().await;
                });
            })
            .expect("stack thread");
        receiver.recv().expect("the stack failed to start (see the panic above)")
    })
}

async fn start() -> Stack {
    let dir = work_dir();
    let snapshot = dir.join("timetable.snapshot");
    let feeds = norikae_timetable::bundled::repo_feeds_dir();
    let snapshot_path = snapshot.clone();
    tokio::task::spawn_blocking(move || {
        norikae_timetable::bundled::ensure_snapshot(&feeds, &snapshot_path)
    })
    .await
    .expect("import task")
    .expect("the bundled feeds import");
    // A fresh database per run: each process gets its own file.
    let database = dir.join(format!("api-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&database);

    let bind =
        || async { tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind port 0") };
    let (search_listener, route_listener, api_listener, app_listener) =
        (bind().await, bind().await, bind().await, bind().await);
    let port = |listener: &tokio::net::TcpListener| listener.local_addr().expect("address").port();
    let (search_port, route_port, api_port, app_port) =
        (port(&search_listener), port(&route_listener), port(&api_listener), port(&app_listener));
    let timetable = TimetableSettings { snapshot: snapshot.clone(), reload_interval_secs: 0 };

    let search = norikae_search::Config {
        http: HttpSettings::for_port(search_port),
        timetable: timetable.clone(),
    };
    let mut route = norikae_route::Config {
        http: HttpSettings::for_port(route_port),
        timetable: TimetableSettings { reload_interval_secs: 60, ..timetable },
        ..norikae_route::Config::default()
    };
    route.realtime.push_token = Some(REALTIME_PUSH_TOKEN.to_owned());
    let mut api = norikae_api::Config {
        http: HttpSettings::for_port(api_port),
        ..norikae_api::Config::default()
    };
    api.database.url = format!("sqlite://{}", database.display());
    api.upstream.search_url = format!("http://127.0.0.1:{search_port}");
    api.upstream.route_url = format!("http://127.0.0.1:{route_port}");
    api.auth.open_access = true;
    // Every test's browser and client is 127.0.0.1: per-client limits are tested elsewhere.
    api.auth.anonymous_limit =
        norikae_runtime::ClientRate { requests: 10_000, per_secs: 1, burst: 10_000 };
    let mut app = norikae_app::Config {
        http: HttpSettings::for_port(app_port),
        ..norikae_app::Config::default()
    };
    app.upstream.api_url = format!("http://127.0.0.1:{api_port}");
    app.limits.per_client =
        norikae_runtime::ClientRate { requests: 10_000, per_secs: 1, burst: 10_000 };

    let never = std::future::pending::<()>;
    tokio::spawn(async move {
        expect_running("search", norikae_search::run(search, search_listener, never()).await)
    });
    tokio::spawn(async move {
        expect_running("route", norikae_route::run(route, route_listener, never()).await)
    });
    tokio::spawn(async move {
        expect_running("api", norikae_api::run(api, api_listener, never()).await)
    });
    tokio::spawn(async move {
        expect_running("app", norikae_app::run(app, app_listener, never()).await)
    });

    let client = reqwest::Client::new();
    for (name, port) in
        [("search", search_port), ("route", route_port), ("api", api_port), ("app", app_port)]
    {
        wait_ready(&client, name, port).await;
    }
    Stack {
        app: format!("http://127.0.0.1:{app_port}"),
        api: format!("http://127.0.0.1:{api_port}"),
        route: format!("http://127.0.0.1:{route_port}"),
    }
}

fn expect_running(name: &str, outcome: anyhow::Result<()>) {
    if let Err(error) = outcome {
        panic!("the {name} service stopped: {error:#}");
    }
}

async fn wait_ready(client: &reqwest::Client, name: &str, port: u16) {
    let url = format!("http://127.0.0.1:{port}/health/ready");
    for _ in 0..1200 {
        if let Ok(response) = client.get(&url).send().await
            && response.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the {name} service was not ready within 60 s");
}

/// The values of `<input … name="N" value="V">` in `html`, in order (HTML entities decoded).
pub fn inputs(html: &str) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    for tag in html.split("<input").skip(1) {
        let tag = tag.split('>').next().unwrap_or_default();
        let attribute = |name: &str| {
            let marker = format!(" {name}=\"");
            tag.find(&marker).map(|start| {
                let rest = &tag[start + marker.len()..];
                unescape(&rest[..rest.find('"').unwrap_or(rest.len())])
            })
        };
        if let (Some(name), Some(value)) = (attribute("name"), attribute("value")) {
            let kind = attribute("type").unwrap_or_default();
            let kind = if tag.contains(" checked") { format!("{kind}:checked") } else { kind };
            found.push((kind, name, value));
        }
    }
    found
}

/// The `href` of the first `<a …>` whose tag contains `marker`.
pub fn link(html: &str, marker: &str) -> Option<String> {
    html.split("<a ").skip(1).find_map(|tag| {
        let tag = tag.split('>').next().unwrap_or_default();
        if !tag.contains(marker) {
            return None;
        }
        let start = tag.find("href=\"")? + "href=\"".len();
        let rest = &tag[start..];
        Some(unescape(&rest[..rest.find('"')?]))
    })
}

/// Decodes the entities minijinja's HTML escaping produces.
pub fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// `config`'s app alone on a free loopback port (its `http` settings set for that port), for
/// tests that put a stand-in api behind it; its base URL.
pub async fn start_app(mut config: norikae_app::Config) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    config.http = HttpSettings::for_port(port);
    tokio::spawn(norikae_app::run(config, listener, std::future::pending()));
    format!("http://127.0.0.1:{port}")
}

/// The app's station suggestions for "tenjin": status and body.
pub async fn suggest(app: &str) -> (u16, serde_json::Value) {
    let response = reqwest::get(format!("{app}/suggest?q=tenjin&lang=en")).await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}
