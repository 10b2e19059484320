//! The search service: config, start-up, background (re)indexing, and the HTTP server on the
//! shared runtime.
//!
//! The index is built off the async runtime after the listener is already serving (health
//! endpoints answer, `/health/ready` says not ready until the first index is in place). Every
//! `reload_interval_secs` the snapshot's version is checked; a changed snapshot is indexed in
//! the background and swapped in, without dropping a request.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Router;
use norikae_runtime::{HttpSettings, Readiness, Server};
use norikae_timetable::TimetableSettings;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::handlers;
use crate::source::{IndexSource, SnapshotSource};
use crate::state::AppState;

/// Port the search service listens on by default.
pub const DEFAULT_PORT: u16 = 8082;
const SERVICE: &str = "search";

/// Typed config of the search service (see `norikae_runtime::load_config`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    pub http: HttpSettings,
    pub timetable: TimetableSettings,
}

impl Default for Config {
    fn default() -> Self {
        Self { http: HttpSettings::for_port(DEFAULT_PORT), timetable: TimetableSettings::default() }
    }
}

/// The service's routes over its state (without the runtime's health and metrics routes).
pub fn router(state: AppState) -> Router {
    handlers::stations::router().with_state(state)
}

/// Runs the service on the snapshot named in `config` until `shutdown` completes.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let source = Arc::new(SnapshotSource::new(config.timetable.snapshot.clone()));
    run_with_source(config, listener, shutdown, source).await
}

/// Runs the service on any [`IndexSource`] (tests and benchmarks pass stations directly).
pub async fn run_with_source(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    source: Arc<dyn IndexSource>,
) -> anyhow::Result<()> {
    let server =
        Server::new(SERVICE, config.http.clone()).context("starting the search service")?;
    let state = AppState::default();
    let reload_interval = Duration::from_secs(config.timetable.reload_interval_secs);
    let indexer = tokio::spawn(keep_index_current(
        source,
        state.clone(),
        server.readiness(),
        reload_interval,
    ));
    let served = server.serve(listener, router(state), shutdown).await;
    indexer.abort();
    served
}

/// Builds the index now, then rebuilds it whenever the source's version changes.
async fn keep_index_current(
    source: Arc<dyn IndexSource>,
    state: AppState,
    readiness: Readiness,
    reload_interval: Duration,
) {
    let mut indexed_version: Option<String> = None;
    loop {
        let checking = Arc::clone(&source);
        let version = tokio::task::spawn_blocking(move || checking.version()).await;
        match version {
            Ok(Ok(version)) if indexed_version.as_ref() != Some(&version) => {
                let building = Arc::clone(&source);
                let started = Instant::now();
                match tokio::task::spawn_blocking(move || building.build()).await {
                    Ok(Ok(index)) => {
                        tracing::info!(
                            source = %source.describe(),
                            stations = index.len(),
                            build_ms = started.elapsed().as_millis() as u64,
                            version = %version,
                            "station index built"
                        );
                        state.replace(index);
                        readiness.set_loaded(true);
                        indexed_version = Some(version);
                    }
                    Ok(Err(error)) => {
                        tracing::error!(source = %source.describe(), error = %error, "building the station index failed")
                    }
                    Err(error) => {
                        tracing::error!(source = %source.describe(), error = %error, "station index task failed")
                    }
                }
            }
            Ok(Ok(_unchanged)) => {}
            Ok(Err(error)) => {
                tracing::warn!(source = %source.describe(), error = %error, "cannot check the snapshot")
            }
            Err(error) => tracing::error!(error = %error, "snapshot check task failed"),
        }
        // Until the first index is built, retry soon; afterwards poll at the configured pace.
        let wait = if state.is_loaded() {
            reload_interval
        } else {
            reload_interval.min(Duration::from_secs(2))
        };
        if wait.is_zero() && state.is_loaded() {
            return;
        }
        tokio::time::sleep(wait.max(Duration::from_millis(100))).await;
    }
}
