//! The route service binary: telemetry, config, bind, run.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    norikae_runtime::telemetry::init("route").await;
    let config: norikae_route::Config = norikae_runtime::load_config("route")?;
    let listener = norikae_runtime::bind(config.http.port)
        .await
        .with_context(|| format!("cannot listen on port {}", config.http.port))?;
    norikae_route::run(config, listener, norikae_runtime::shutdown_signal()).await
}
