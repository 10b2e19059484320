//! norikae-api: the public JSON API for mobile and web clients.
//!
//! It will compose station search and route search behind `/v1`, with API keys, quotas,
//! service alerts and an OpenAPI document. Until that lands it runs on the shared runtime
//! with health and metrics and answers every other path 501 `not_implemented`.

use std::future::Future;

use axum::Router;
use http::StatusCode;
use norikae_runtime::{HttpSettings, Problem, Server};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

pub const DEFAULT_PORT: u16 = 8081;

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
    let server = Server::new("api", config.http)?;
    // Nothing to load yet.
    server.readiness().set_loaded(true);
    let router = Router::new().fallback(not_implemented);
    server.serve(listener, router, shutdown).await
}

async fn not_implemented() -> Problem {
    Problem::new(
        StatusCode::NOT_IMPLEMENTED,
        "not_implemented",
        "the public API is not implemented yet",
    )
}
