//! The `norikae-api` binary: telemetry, config, listener, run until SIGTERM.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    norikae_runtime::telemetry::init("api").await;
    let config: norikae_api::Config = norikae_runtime::load_config("api")?;
    let listener = norikae_runtime::bind(config.http.port).await?;
    norikae_api::run(config, listener, norikae_runtime::shutdown_signal()).await
}
