//! norikae-app: the web application people plan a trip with in a browser.
//!
//! Server-rendered pages (minijinja templates embedded in the binary) with a little
//! progressive JavaScript: the trip form with as-you-type station suggestions, journey
//! results with earlier / later pages, station departure boards with nearby stations, in
//! Japanese and English. The app reaches the data only through the public `/v1` API over
//! HTTP ([`client`]), as any other client does, and turns the API's errors into messages in
//! the page's language ([`errors`]). Without JavaScript the basic search still works: free
//! text is resolved to stations on the server, with a choice page when it is ambiguous.
//!
//! - [`client`]: the `/v1` client (the JSON it reads: `norikae_wire::v1` and
//!   `norikae_wire::search`);
//! - [`i18n`]: the UI strings in both languages and how a request's language is chosen;
//! - [`view`]: API answers → what the templates show (times, durations, fares, legs);
//! - [`render`]: the template environment and the page renderer;
//! - [`handlers`]: the pages; [`state`]: what they share.

pub mod client;
pub mod errors;
pub mod handlers;
pub mod i18n;
pub mod limits;
pub mod render;
pub mod state;
pub mod view;

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use norikae_runtime::{HttpSettings, Server};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

pub use state::AppState;

/// Default port of the web application.
pub const DEFAULT_PORT: u16 = 8080;

/// The app's configuration (`NORIKAE_APP__…` / `NORIKAE_…` overrides).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    pub http: HttpSettings,
    pub upstream: UpstreamSettings,
    pub limits: limits::LimitSettings,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            http: HttpSettings::for_port(DEFAULT_PORT),
            upstream: UpstreamSettings::default(),
            limits: limits::LimitSettings::default(),
        }
    }
}

/// Section `upstream`: where the public API is (`NORIKAE_UPSTREAM__API_URL`).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UpstreamSettings {
    /// Base URL of the API, without `/v1`.
    pub api_url: String,
    /// The app's own API key, sent as `X-Api-Key` (not needed in open-access mode).
    pub api_key: Option<String>,
    /// Longest wait for one API call: shorter than the app's request timeout (10 s), so a
    /// slow API becomes a helpful page rather than a cut request, and longer than the api's
    /// own wait for the engines (8 s), so its more precise answer arrives first. Set it for
    /// the app alone with `NORIKAE_APP__UPSTREAM__TIMEOUT_MS` (`upstream` is shared with the
    /// api in `norikae serve`).
    pub timeout_ms: u64,
    /// Idle keep-alive connections to the API are closed after this long. It must stay below
    /// the idle timeout of whatever the app connects to (the api's keep-alive, 75 s, in
    /// docker-compose; the internal ALB's, 60 s, in ECS), so the app's side always closes an
    /// idle connection first and never sends a request on one the other side is closing.
    /// ecs/timing-rules.yaml checks it against both (`NORIKAE_APP__UPSTREAM__POOL_IDLE_TIMEOUT_SECS`).
    pub pool_idle_timeout_secs: u64,
    /// A PEM file of CA certificates trusted for an `https://` `api_url` besides the
    /// system's (an internal balancer with a private CA's certificate, a test CA).
    pub api_ca_file: Option<PathBuf>,
}

impl Default for UpstreamSettings {
    fn default() -> Self {
        Self {
            api_url: "http://127.0.0.1:8081".to_owned(),
            api_key: None,
            timeout_ms: 9_000,
            pool_idle_timeout_secs: 50,
            api_ca_file: None,
        }
    }
}

// The key is a secret: never in logs.
impl std::fmt::Debug for UpstreamSettings {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("UpstreamSettings")
            .field("api_url", &self.api_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("timeout_ms", &self.timeout_ms)
            .field("pool_idle_timeout_secs", &self.pool_idle_timeout_secs)
            .field("api_ca_file", &self.api_ca_file)
            .finish()
    }
}

impl UpstreamSettings {
    /// Refuses a URL that is not `http(s)://…` and a zero timeout, naming the key.
    pub fn validate(&self) -> anyhow::Result<()> {
        let url = self.api_url.trim();
        anyhow::ensure!(
            (url.starts_with("http://") || url.starts_with("https://")) && url.len() > 8,
            "upstream.api_url must be an http:// or https:// URL, not `{url}`"
        );
        anyhow::ensure!(self.timeout_ms > 0, "upstream.timeout_ms must be above 0");
        anyhow::ensure!(
            self.pool_idle_timeout_secs > 0,
            "upstream.pool_idle_timeout_secs must be above 0"
        );
        Ok(())
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    pub fn pool_idle_timeout(&self) -> Duration {
        Duration::from_secs(self.pool_idle_timeout_secs)
    }
}

/// The app's routes (without the runtime's health and metrics endpoints), each client
/// limited by [`limits::limit_per_client`].
pub fn router(state: AppState) -> axum::Router {
    handlers::router()
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits::limit_per_client))
        // Every answer to a request that came over HTTPS, pages, assets, errors and refusals
        // by the limit above alike.
        .layer(axum::middleware::from_fn(strict_transport_security))
        .with_state(state)
}

/// Behind HTTPS, tells browsers to use nothing else for this host for a year (HSTS), so a
/// later `http://` link or typed address cannot be intercepted. Never on plain HTTP (local
/// runs, tests): a browser would ignore it there, and it must not pin a development host.
async fn strict_transport_security(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let https = handlers::behind_https(request.headers());
    let mut response = next.run(request).await;
    if https {
        response.headers_mut().insert(
            http::header::STRICT_TRANSPORT_SECURITY,
            http::HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

/// Starts the app on `listener` and serves until `shutdown` completes. The app holds no data
/// of its own, so it is ready at once; an unreachable API shows as a message on the pages.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    config.upstream.validate().context("invalid upstream settings")?;
    config.limits.validate().context("invalid limits settings")?;
    let server = Server::new("app", config.http.clone()).context("invalid http settings")?;
    let state = AppState::new(&config).context("cannot build the app")?;
    let cleanup = state.limiter.spawn_cleanup(limits::CLEANUP_INTERVAL);
    server.readiness().set_loaded(true);
    let served = server.serve(listener, router(state), shutdown).await;
    cleanup.abort();
    served
}
