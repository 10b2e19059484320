//! norikae-app: the web application people use in a browser.
//!
//! It will render the trip planner, results and station pages from the public API.
//! Until that lands it runs on the shared runtime with health and metrics and answers every
//! other path 501 `not_implemented`.

use std::future::Future;

use axum::Router;
use http::StatusCode;
use norikae_runtime::{HttpSettings, Problem, Server};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

pub const DEFAULT_PORT: u16 = 8080;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    pub http: HttpSettings,
}

impl Default for Config {
    fn default() -> Self {
        Self { http: HttpSettings::for_port(DEFAULT_PORT) }
    }
}

pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let server = Server::new("app", config.http)?;
    // Nothing to load yet.
    server.readiness().set_loaded(true);
    let router = Router::new().fallback(not_implemented);
    server.serve(listener, router, shutdown).await
}

async fn not_implemented() -> Problem {
    Problem::new(
        StatusCode::NOT_IMPLEMENTED,
        "not_implemented",
        "the web application is not implemented yet",
    )
}
