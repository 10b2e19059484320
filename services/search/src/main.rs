//! The `norikae-search` binary: telemetry, config, bind, run.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    norikae_runtime::telemetry::init("search").await;
    let config: norikae_search::Config = norikae_runtime::load_config("search")?;
    let listener = norikae_runtime::bind(config.http.port).await?;
    norikae_search::run(config, listener, norikae_runtime::shutdown_signal()).await
}
