//! norikae-api: the public JSON API for mobile and web clients.
//!
//! It composes the search and route engines behind `/v1` ([`handlers`]) over a keep-alive
//! pool ([`upstream`]), checks API keys with per-key rate limits and daily quotas ([`keys`]),
//! attaches service alerts to journeys and departure boards ([`alerts`]), records timetable
//! versions ([`versions`]) and generates its OpenAPI document from the code. Its state lives
//! in the shared database, behind [`store`] (every SQL statement, its own error type):
//! PostgreSQL in production, a SQLite file embedded.
//! [`cli`] holds the `norikae keys` commands.

pub mod alerts;
pub mod cli;
pub mod clients;
pub mod config;
pub mod edge;
pub mod handlers;
pub mod key_records;
pub mod keys;
pub mod lang;
pub mod ratelimit;
pub mod realtime_alerts;
pub mod state;
pub mod store;
pub mod support;
pub mod unknown_keys;
pub mod upstream;
pub mod versions;

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use norikae_runtime::Server;
use tokio::net::TcpListener;

pub use config::{AuthSettings, Config, DEFAULT_PORT, DatabaseSettings, UpstreamSettings};
pub use state::AppState;

/// Builds the state: the engine client, the database pool (lazy: a database that is down
/// at start-up is waited for) and the in-memory stores.
pub fn build_state(config: &Config) -> anyhow::Result<AppState> {
    let upstream =
        upstream::Upstream::new(&config.upstream).context("cannot build the engine client")?;
    let db = store::Db::open(&config.database)?;
    Ok(AppState {
        keys: keys::KeyStore::new(db.clone(), clients::ClientLimits::new(&config.auth)),
        alerts: alerts::AlertStore::new(db.clone()),
        versions: versions::VersionTracker::new(db.clone(), upstream.clone()),
        upstream,
        db,
        open_access: config.auth.open_access,
    })
}

/// Starts the api service on `listener` and serves until `shutdown` completes; then writes
/// the usage still counted in memory.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    config.validate().context("invalid api configuration")?;
    let server = Server::new("api", config.http.clone())?;
    let state = build_state(&config)?;
    tracing::info!(
        database = %config::redact_url(&config.database.url),
        search_url = %config.upstream.search_url,
        route_url = %config.upstream.route_url,
        open_access = config.auth.open_access,
        cors_allowed_origins = ?config.cors.allowed_origins.0,
        "api settings"
    );
    // Try the database once before serving, so a healthy start has keys and alerts loaded;
    // a database that is down is retried in the background.
    let migrate = state.db.spawn_migrate();
    let _ = tokio::time::timeout(config.database.acquire_timeout() * 3, async {
        while !state.db.is_migrated() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if let Err(error) = state.keys.refresh().await {
            tracing::warn!(error = %error, "keys not loaded at start");
        }
        if let Err(error) = state.alerts.refresh().await {
            tracing::warn!(error = %error, "alerts not loaded at start");
        }
    })
    .await;
    let auth = &config.auth;
    let stop_sync = tokio_util::sync::CancellationToken::new();
    let sync = state.keys.spawn_sync(
        Duration::from_millis(auth.usage_flush_ms),
        Duration::from_millis(auth.key_refresh_ms),
        stop_sync.clone(),
    );
    let [anonymous_cleanup, unknown_key_cleanup] = state.keys.clients().spawn_cleanup();
    let tasks = [
        migrate,
        anonymous_cleanup,
        unknown_key_cleanup,
        state.alerts.spawn_refresh(Duration::from_millis(auth.alert_refresh_ms)),
        state.versions.spawn_poll(Duration::from_secs(config.upstream.status_poll_secs.max(1))),
        realtime_alerts::spawn_poll(
            state.alerts.clone(),
            state.upstream.clone(),
            Duration::from_secs(config.upstream.status_poll_secs.max(1)),
        ),
    ];
    // The api holds no data of its own to load: ready at once (the engines report their own).
    server.readiness().set_loaded(true);
    let router = edge::wrap(handlers::router(state.clone()), &config.cors);
    let served = server.serve(listener, router, shutdown).await;
    for task in tasks {
        task.abort();
    }
    // Let a flush under way finish, then write what is left.
    stop_sync.cancel();
    let _ = sync.await;
    if state.db.is_migrated()
        && let Err(error) = state.keys.flush().await
    {
        tracing::error!(error = %error, pending = state.keys.pending_requests(), "key usage could not be written at shutdown");
    }
    state.db.close().await;
    served
}
