//! The `norikae` command: runs the whole system in one process (`serve`, the default) and the
//! operator's chores (`import`, …).

use std::future::Future;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(name = "norikae", version, about = "Norikae: a transfer-guide journey planner")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run every service in this process on its default port (app 8080, api 8081,
    /// search 8082, route 8083), configured like the separate binaries.
    Serve,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => runtime.block_on(serve()),
    }
}

/// The all-in-one process: each service on its own listener, one shutdown signal for all.
/// When one service fails the others are stopped too.
async fn serve() -> anyhow::Result<()> {
    norikae_runtime::telemetry::init("norikae").await;
    let api: norikae_api::Config = norikae_runtime::load_config("api")?;
    let app: norikae_app::Config = norikae_runtime::load_config("app")?;
    let (api_port, app_port) = (api.http.port, app.http.port);

    // Bind every port before starting anything, so a taken port fails fast and whole.
    let api_listener = norikae_runtime::bind(api_port).await?;
    let app_listener = norikae_runtime::bind(app_port).await?;

    let stop = CancellationToken::new();
    let mut services = JoinSet::new();
    services
        .spawn(named("api", norikae_api::run(api, api_listener, stop.clone().cancelled_owned())));
    services
        .spawn(named("app", norikae_app::run(app, app_listener, stop.clone().cancelled_owned())));
    println!("Norikae is up:");
    println!("  web app  http://localhost:{app_port}");
    println!("  api      http://localhost:{api_port}/v1");

    let mut outcomes = Vec::new();
    tokio::select! {
        () = norikae_runtime::shutdown_signal() => {}
        Some(finished) = services.join_next() => outcomes.push(finished),
    }
    stop.cancel();
    while let Some(finished) = services.join_next().await {
        outcomes.push(finished);
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

async fn named(
    name: &'static str,
    service: impl Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<()> {
    service.await.with_context(|| format!("the {name} service failed"))
}
