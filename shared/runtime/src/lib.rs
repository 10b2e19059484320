//! norikae-runtime: the HTTP runtime every Norikae service runs on.
//!
//! It owns what keeps a service healthy behind a load balancer: its own accept loop with an
//! explicit keep-alive idle timeout, drain-aware shutdown, `/health/live`, `/health/ready`
//! and `/metrics`, request ids and access logs, request timeouts, body limits, load shedding,
//! typed configuration, problem+json errors and ECS-aware JSON logs. Services hand it an
//! axum `Router` and a shutdown future; see [`Server`].

pub mod blocking;
pub mod clients;
pub mod config;
pub mod extract;
pub mod identity;
mod layers;
pub mod metrics;
pub mod path;
pub mod problem;
pub mod readiness;
pub mod server;
pub mod shutdown;
pub mod telemetry;

pub use blocking::run_blocking;
pub use clients::{ClientLimiter, ClientRate, client_address};
pub use config::{ConfigError, HttpSettings, load_config};
pub use extract::{Path, Query};
pub use problem::Problem;
pub use readiness::Readiness;
pub use server::Server;
pub use shutdown::shutdown_signal;

/// Binds the service's listener on all interfaces (what a container needs), naming the port
/// when it is taken.
pub async fn bind(port: u16) -> anyhow::Result<tokio::net::TcpListener> {
    bind_on(std::net::Ipv4Addr::UNSPECIFIED.into(), port).await
}

/// Binds a listener on `address` only (`127.0.0.1` keeps a port off the network), naming
/// the address and port when it is taken.
pub async fn bind_on(
    address: std::net::IpAddr,
    port: u16,
) -> anyhow::Result<tokio::net::TcpListener> {
    use anyhow::Context;
    tokio::net::TcpListener::bind((address, port))
        .await
        .with_context(|| format!("cannot listen on {address} port {port}"))
}
