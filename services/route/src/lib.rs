//! norikae-route: the journey planner (a RAPTOR-family engine over the compiled timetable)
//! and the route service that answers `/journeys` and `/stations/{id}/departures`.
//!
//! - [`engine`]: the search, free of HTTP;
//! - [`render`]: engine results → the JSON types of `norikae_wire::route` (the crate the
//!   api reads them with);
//! - [`handlers`]: the HTTP handlers; [`state`]: what they share;
//! - [`run`]: starts the service on the shared runtime.

pub mod arrivals;
pub mod cursor;
pub mod engine;
pub mod error;
pub mod handlers;
pub mod realtime;
pub mod render;
pub mod render_live;
pub mod state;
#[cfg(test)]
mod test_journeys;

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use norikae_runtime::{HttpSettings, Server};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

pub use cursor::CursorKeys;
pub use error::Error;
pub use norikae_timetable::TimetableSettings;
pub use state::AppState;

/// Default port of the route service.
pub const DEFAULT_PORT: u16 = 8083;

/// The route service's configuration (`NORIKAE_ROUTE__…` / `NORIKAE_…` overrides).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    pub http: HttpSettings,
    pub timetable: TimetableSettings,
    pub query: QuerySettings,
    pub realtime: realtime::RealtimeSettings,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            http: HttpSettings::for_port(DEFAULT_PORT),
            timetable: TimetableSettings::default(),
            query: QuerySettings::default(),
            realtime: realtime::RealtimeSettings::default(),
        }
    }
}

/// Section `query`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QuerySettings {
    /// Queries computed at once (each takes a core); more wait for a slot.
    pub max_concurrent: usize,
    /// A query (waiting for a slot included) answers 503 `query_timeout` after this long, and
    /// its search stops then too (freeing its slot for the next).
    pub timeout_ms: u64,
    /// Departure window of a range search when `window` is not given.
    pub default_window_secs: u32,
    /// Largest `window` accepted.
    pub max_window_secs: u32,
    pub default_max_transfers: u8,
    /// Largest `max_transfers` accepted.
    pub max_transfers_limit: u8,
    /// Default longest walk (`max_walk_m`).
    pub default_max_walk_m: u32,
    /// Radius around coordinates within which stops are walked to and from.
    pub coordinate_radius_m: u32,
    /// Departures per line and direction on a departure board, unless `limit` says otherwise.
    pub default_departures_limit: usize,
    /// When depart-at and range searches get their Trip-Based transfers (see [`TripBased`]).
    pub trip_based: TripBased,
    /// Threads a background build of a day's transfers uses (the rest answer queries).
    pub trip_based_threads: usize,
    /// With [`TripBased::Background`], also build a realtime overlay's Trip-Based days after
    /// each overlay (see `Engine::prepare_trip_based_live`); off: searches on the days an
    /// overlay changes run RAPTOR. A build regenerates the transfers of every trip that can
    /// see a change, so for feeds that change a whole large city every poll it may take
    /// longer than the poll interval (New York: see loadtests/route-bench/README.md).
    pub trip_based_realtime: bool,
    /// Keys page cursors are signed with: the first signs, all are accepted (rotate by
    /// putting a new key first and dropping the old one once its cursors no longer matter).
    /// None: a random key per process, so cursors do not survive restarts nor cross instances.
    pub cursor_keys: CursorKeys,
    /// Most ids (or modes) accepted in each `exclude_*` list.
    pub max_exclusions: usize,
    /// Most journeys to the `via` station a search continues from (each is a search of its
    /// own); a request needing more answers 400 naming `via` (a shorter `window` needs fewer).
    pub max_via_heads: usize,
}

/// How the transfers of Trip-Based routing (depart-at and range searches with the default
/// options) are built; searches on days without them run RAPTOR.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TripBased {
    /// For today and tomorrow, in the background after each load and after midnight (New
    /// York: about 25 s of two cores, or 50 s of one, and 175 MB per service day).
    Background,
    /// By the first search on a date (small networks: a bundled feed's day takes well under
    /// a second).
    OnDemand,
    /// Never: every search runs RAPTOR.
    Off,
}

impl Default for QuerySettings {
    fn default() -> Self {
        Self {
            max_concurrent: std::thread::available_parallelism().map_or(2, usize::from),
            timeout_ms: 5_000,
            default_window_secs: 3_600,
            max_window_secs: 6 * 3_600,
            default_max_transfers: 5,
            max_transfers_limit: 8,
            default_max_walk_m: 2_000,
            coordinate_radius_m: engine::query::DEFAULT_COORDINATE_RADIUS_M,
            default_departures_limit: 5,
            trip_based: TripBased::Background,
            trip_based_threads: 1,
            trip_based_realtime: true,
            cursor_keys: CursorKeys::default(),
            max_exclusions: 64,
            max_via_heads: 2_000,
        }
    }
}

/// The service's routes (without the runtime's health and metrics endpoints).
pub fn router(state: AppState) -> axum::Router {
    handlers::router().with_state(state)
}

/// Starts the route service on `listener`: answers `/health/live` at once, loads the
/// snapshot in the background (ready once loaded), watches it for a newer one, and serves
/// until `shutdown` completes.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let server = Server::new("route", config.http.clone()).context("invalid http settings")?;
    config
        .query
        .cursor_keys
        .validate()
        .map_err(anyhow::Error::msg)
        .context("invalid query settings")?;
    config.realtime.validate().map_err(anyhow::Error::msg).context("invalid realtime settings")?;
    let readiness = server.readiness();
    let state = AppState::with_realtime(config.query.clone(), config.realtime.clone());
    {
        let registry = server.registry();
        let mut registry = registry.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        state.realtime().metrics.register(&mut registry);
    }
    let realtime_tasks = state.spawn_realtime();
    let loader = state.clone().spawn_loader(
        config.timetable.snapshot.clone(),
        Duration::from_secs(config.timetable.reload_interval_secs.max(1)),
        readiness,
    );
    let result = server.serve(listener, router(state), shutdown).await;
    loader.abort();
    for task in realtime_tasks {
        task.abort();
    }
    result
}
