//! The `norikae-app` binary: telemetry, config, listener, run until SIGTERM.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    norikae_runtime::telemetry::init("app").await;
    let config: norikae_app::Config = norikae_runtime::load_config("app")?;
    let listener = norikae_runtime::bind(config.http.port).await?;
    norikae_app::run(config, listener, norikae_runtime::shutdown_signal()).await
}
