//! The `norikae` command: runs the whole system in one process (`serve`, the default) and the
//! operator's chores (`import`, …).

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

mod import;
mod realtime_sim;

#[derive(Parser)]
#[command(name = "norikae", version, about = "Norikae: a transfer-guide journey planner")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run every service in this process on its default port (app 8080, api 8081,
    /// search 8082, route 8083), configured like the separate binaries. With no timetable
    /// configured, the bundled feeds are imported first (again only when they change).
    Serve(ServeArgs),
    /// Import GTFS feeds into a timetable snapshot.
    Import(import::ImportArgs),
    /// Load a snapshot and print what it holds, how long loading took and the memory used.
    SnapshotInfo(import::SnapshotInfoArgs),
    /// Manage API keys in the api's database (`NORIKAE_DATABASE__URL`, default the SQLite
    /// file data/norikae.db).
    Keys {
        #[command(subcommand)]
        command: norikae_api::cli::KeysCommand,
    },
    /// Serve simulated GTFS-Realtime feeds made from a snapshot (random delays with a
    /// seed, a cancelled trip, an alert) over HTTP, for tests and demos.
    RealtimeSim(realtime_sim::SimArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Folder of the bundled GTFS feeds, imported when no other timetable is configured.
    #[arg(long, env = "NORIKAE_FEEDS_DIR")]
    feeds_dir: Option<PathBuf>,
    /// Address the route and search engines listen on. Only the embedded api calls them,
    /// and their `/metrics` is for a local scraper: loopback keeps them off the network
    /// (the app and the api listen on every interface).
    #[arg(long, env = "NORIKAE_ENGINES_ADDRESS", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    engines_address: IpAddr,
    /// On the bundled timetable with no realtime feeds configured, also run the realtime
    /// simulator (on the engines' address, port 8090) and have the route engine poll it, so
    /// that journeys and boards show live delays out of the box.
    #[arg(long, env = "NORIKAE_REALTIME_SIM", default_value_t = true, action = clap::ArgAction::Set)]
    realtime_sim: bool,
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            feeds_dir: None,
            engines_address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            realtime_sim: true,
        }
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => {
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            runtime.block_on(serve(args))
        }
        Command::Import(args) => import::run_import(args),
        Command::SnapshotInfo(args) => import::run_snapshot_info(args),
        Command::Keys { command } => {
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            runtime.block_on(norikae_api::cli::run(command))
        }
        Command::RealtimeSim(args) => {
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            runtime.block_on(async {
                norikae_runtime::telemetry::init("norikae").await;
                realtime_sim::run(args, norikae_runtime::shutdown_signal()).await
            })
        }
    }
}

/// Imports the bundled feeds when the services use the default snapshot path (nothing else
/// configured) and the snapshot is missing or older than the feeds.
async fn ensure_default_timetable(
    snapshot: &Path,
    feeds_dir: Option<PathBuf>,
) -> anyhow::Result<()> {
    let default_snapshot = Path::new(norikae_timetable::settings::DEFAULT_SNAPSHOT_PATH);
    if snapshot != default_snapshot {
        anyhow::ensure!(
            snapshot.exists(),
            "no timetable snapshot at {} (NORIKAE_TIMETABLE__SNAPSHOT); build one with `norikae import`",
            snapshot.display()
        );
        return Ok(());
    }
    let feeds_dir = feeds_dir.unwrap_or_else(|| {
        let relative = PathBuf::from("data/feeds");
        if relative.is_dir() { relative } else { norikae_timetable::bundled::repo_feeds_dir() }
    });
    let snapshot = snapshot.to_owned();
    let outcome = tokio::task::spawn_blocking(move || {
        norikae_timetable::bundled::ensure_snapshot(&feeds_dir, &snapshot).with_context(|| {
            format!("cannot import the bundled feeds from {}", feeds_dir.display())
        })
    })
    .await
    .context("the import task panicked")??;
    tracing::info!(outcome = ?outcome, "bundled timetable");
    Ok(())
}

/// The all-in-one process: each service on its own listener, one shutdown signal for all.
/// When one service fails the others are stopped too.
async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    norikae_runtime::telemetry::init("norikae").await;
    let mut route: norikae_route::Config = norikae_runtime::load_config("route")?;
    let search: norikae_search::Config = norikae_runtime::load_config("search")?;
    let mut api: norikae_api::Config = norikae_runtime::load_config("api")?;
    configure_embedded_api(&mut api, search.http.port, route.http.port);
    let mut app: norikae_app::Config = norikae_runtime::load_config("app")?;
    keep_metrics_local("api", &mut api.http);
    keep_metrics_local("app", &mut app.http);
    let ports = [app.http.port, api.http.port, search.http.port, route.http.port];

    ensure_default_timetable(&route.timetable.snapshot, args.feeds_dir).await?;
    let simulate = args.realtime_sim
        && route.realtime.feeds.0.is_empty()
        && route.timetable.snapshot
            == Path::new(norikae_timetable::settings::DEFAULT_SNAPSHOT_PATH);
    let sim_args = simulate.then(|| realtime_sim::SimArgs {
        snapshot: route.timetable.snapshot.clone(),
        address: args.engines_address,
        port: realtime_sim::DEFAULT_PORT,
        seed: 1,
        date: None,
        delayed_share: 0.3,
        max_delay_secs: 900,
        mean_delay_secs: None,
        every: 30,
    });
    if simulate {
        let host = if args.engines_address.is_unspecified() {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            args.engines_address
        };
        route.realtime.feeds = norikae_route::realtime::RealtimeFeeds(
            norikae_timetable::bundled::FEEDS
                .iter()
                .map(|(feed, _)| norikae_route::realtime::RealtimeFeed {
                    feed: (*feed).to_owned(),
                    url: format!(
                        "http://{}/{feed}",
                        std::net::SocketAddr::new(host, realtime_sim::DEFAULT_PORT)
                    ),
                })
                .collect(),
        );
    }

    let Listeners {
        route: route_listener,
        search: search_listener,
        api: api_listener,
        app: app_listener,
    } = Listeners::bind(ports, args.engines_address).await?;

    let stop = CancellationToken::new();
    let until_stopped = || stop.clone().cancelled_owned();
    let mut services = JoinSet::new();
    services.spawn(named("route", norikae_route::run(route, route_listener, until_stopped())));
    services.spawn(named("search", norikae_search::run(search, search_listener, until_stopped())));
    services.spawn(named("api", norikae_api::run(api, api_listener, until_stopped())));
    services.spawn(named("app", norikae_app::run(app, app_listener, until_stopped())));
    // A demo aid: when it cannot run (its port taken), the system runs on without it.
    let simulator = sim_args.map(|sim_args| {
        let stopped = until_stopped();
        tokio::spawn(async move {
            if let Err(error) = realtime_sim::run(sim_args, stopped).await {
                tracing::warn!(error = format!("{error:#}"), "realtime simulator not running");
            }
        })
    });
    let [app_port, api_port, search_port, route_port] = ports;
    println!("Norikae is up:");
    println!("  web app  http://localhost:{app_port}");
    println!("  api      http://localhost:{api_port}/v1");
    println!("  search   http://localhost:{search_port}/stations?q=okayama");
    println!("  route    http://localhost:{route_port}/journeys?from=fukuoka:8&to=fukuoka:1");
    if simulate {
        println!(
            "  realtime simulated feeds at http://localhost:{}/fukuoka (off: NORIKAE_REALTIME_SIM=false)",
            realtime_sim::DEFAULT_PORT
        );
    }

    let mut outcomes = Vec::new();
    tokio::select! {
        () = norikae_runtime::shutdown_signal() => {}
        Some(finished) = services.join_next() => outcomes.push(finished),
    }
    stop.cancel();
    while let Some(finished) = services.join_next().await {
        outcomes.push(finished);
    }
    if let Some(simulator) = simulator {
        simulator.abort();
    }
    let mut failed = false;
    for outcome in outcomes {
        if let Err(error) = outcome.context("a service task panicked").and_then(|result| result) {
            tracing::error!(error = format!("{error:#}"), "service failed");
            failed = true;
        }
    }
    anyhow::ensure!(!failed, "a service failed; see the log above");
    Ok(())
}

/// The four listeners of `norikae serve`.
struct Listeners {
    app: tokio::net::TcpListener,
    api: tokio::net::TcpListener,
    search: tokio::net::TcpListener,
    route: tokio::net::TcpListener,
}

impl Listeners {
    /// Binds every port (`[app, api, search, route]`) before anything starts, so a taken port
    /// fails fast and whole: the app and the api on every interface, the engines (and so
    /// their `/metrics`) on `engines_address` only.
    async fn bind(ports: [u16; 4], engines_address: IpAddr) -> anyhow::Result<Self> {
        let [app, api, search, route] = ports;
        Ok(Self {
            route: norikae_runtime::bind_on(engines_address, route).await?,
            search: norikae_runtime::bind_on(engines_address, search).await?,
            api: norikae_runtime::bind(api).await?,
            app: norikae_runtime::bind(app).await?,
        })
    }
}

/// In the all-in-one process the api calls the engines of this process (unless upstream URLs
/// are configured) and, for local development, needs no key unless `auth.open_access` is
/// configured: in the file named by `NORIKAE_CONFIG` (`[auth]` or `[api.auth]`) or by
/// `NORIKAE_AUTH__OPEN_ACCESS` / `NORIKAE_API__AUTH__OPEN_ACCESS`.
fn configure_embedded_api(api: &mut norikae_api::Config, search_port: u16, route_port: u16) {
    // The api's configuration layers without its defaults: what the operator set.
    let configured = norikae_runtime::config::figment_for(
        "api",
        std::collections::BTreeMap::<String, String>::new(),
    );
    let set = |key: &str| configured.find_value(key).is_ok();
    if !set("upstream.search_url") {
        api.upstream.search_url = format!("http://127.0.0.1:{search_port}");
    }
    if !set("upstream.route_url") {
        api.upstream.route_url = format!("http://127.0.0.1:{route_port}");
    }
    if !set("auth.open_access") {
        api.auth.open_access = true;
    }
}

/// The web app and the api listen on every interface with no balancer in front, so their
/// `/metrics` answers local clients only, unless the operator set `http.metrics_loopback_only`
/// (the engines' `/metrics` is local already: they listen on `engines_address`).
fn keep_metrics_local(service: &str, http: &mut norikae_runtime::HttpSettings) {
    let configured = norikae_runtime::config::figment_for(
        service,
        std::collections::BTreeMap::<String, String>::new(),
    );
    if configured.find_value("http.metrics_loopback_only").is_err() {
        http.metrics_loopback_only = true;
    }
}

async fn named(
    name: &'static str,
    service: impl Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<()> {
    service.await.with_context(|| format!("the {name} service failed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn engines_listen_on_loopback_and_the_public_services_everywhere() {
        let listeners =
            Listeners::bind([0; 4], ServeArgs::default().engines_address).await.expect("bind");
        let ip = |listener: &tokio::net::TcpListener| listener.local_addr().expect("address").ip();
        assert!(ip(&listeners.route).is_loopback(), "route on {}", ip(&listeners.route));
        assert!(ip(&listeners.search).is_loopback(), "search on {}", ip(&listeners.search));
        assert!(ip(&listeners.api).is_unspecified(), "api on {}", ip(&listeners.api));
        assert!(ip(&listeners.app).is_unspecified(), "app on {}", ip(&listeners.app));

        // Told otherwise, the engines listen where they are told.
        let args = ServeArgs::try_parse_from(["serve", "--engines-address", "0.0.0.0"])
            .expect("arguments");
        let listeners = Listeners::bind([0; 4], args.engines_address).await.expect("bind");
        assert!(ip(&listeners.route).is_unspecified());
    }

    #[derive(Parser)]
    struct ServeOnly {
        #[command(flatten)]
        args: ServeArgs,
    }

    impl ServeArgs {
        fn try_parse_from(words: [&str; 3]) -> Result<Self, clap::Error> {
            ServeOnly::try_parse_from(words).map(|only| only.args)
        }
    }

    fn embedded_api() -> norikae_api::Config {
        let mut api: norikae_api::Config = norikae_runtime::load_config("api").expect("config");
        configure_embedded_api(&mut api, 9082, 9083);
        api
    }

    #[test]
    fn open_access_and_upstreams_from_the_config_file_are_honoured() {
        figment::Jail::expect_with(|jail| {
            jail.clear_env();
            // Nothing configured: open access on the engines of this process.
            let api = embedded_api();
            assert!(api.auth.open_access);
            assert_eq!(api.upstream.search_url, "http://127.0.0.1:9082");

            jail.create_file(
                "norikae.toml",
                "[auth]\nopen_access = false\n[upstream]\nroute_url = \"http://engines:8083\"\n",
            )?;
            jail.set_env("NORIKAE_CONFIG", "norikae.toml");
            let api = embedded_api();
            assert!(!api.auth.open_access, "[auth] open_access = false in the file");
            assert_eq!(api.upstream.route_url, "http://engines:8083");
            assert_eq!(api.upstream.search_url, "http://127.0.0.1:9082");

            jail.create_file("norikae.toml", "[api.auth]\nopen_access = false\n")?;
            assert!(!embedded_api().auth.open_access, "[api.auth] in the file");

            jail.clear_env();
            jail.set_env("NORIKAE_AUTH__OPEN_ACCESS", "false");
            assert!(!embedded_api().auth.open_access, "the environment variable");
            Ok(())
        });
    }

    #[test]
    fn the_public_services_keep_metrics_local_unless_told_otherwise() {
        figment::Jail::expect_with(|jail| {
            jail.clear_env();
            let mut http = norikae_runtime::HttpSettings::default();
            keep_metrics_local("app", &mut http);
            assert!(http.metrics_loopback_only, "nothing configured: local only");

            jail.set_env("NORIKAE_APP__HTTP__METRICS_LOOPBACK_ONLY", "false");
            let mut http = norikae_runtime::HttpSettings::default();
            keep_metrics_local("app", &mut http);
            assert!(!http.metrics_loopback_only, "the operator's setting is kept");
            Ok(())
        });
    }
}
