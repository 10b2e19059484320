//! The HTTP server every service runs on, instead of `axum::serve`.
//!
//! Two production lessons shape it:
//! - The keep-alive idle timeout is explicit and longer than the load balancer's: hyper closes
//!   an idle HTTP/1 connection through its header-read timeout, which only works with a timer,
//!   so this accept loop builds connections with hyper-util and a tokio timer.
//! - Shutdown is drain-aware: on the shutdown signal `/health/ready` answers 503 while requests
//!   are still served for the drain delay; then the listener closes, idle connections are
//!   closed, in-flight requests finish (their responses carry `Connection: close`), and what
//!   still runs at the shutdown timeout is cut and logged.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use prometheus_client::registry::Registry;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::{ServiceBuilder, ServiceExt};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tracing::Instrument;

use crate::config::HttpSettings;
use crate::layers;
use crate::metrics::{self, GaugeGuard, HttpMetrics};
use crate::readiness::Readiness;

/// State shared by the accept loop, the middleware and the health and metrics handlers.
pub(crate) struct Shared {
    pub(crate) service: &'static str,
    pub(crate) settings: HttpSettings,
    pub(crate) readiness: Readiness,
    pub(crate) metrics: HttpMetrics,
    pub(crate) registry: Arc<Mutex<Registry>>,
    pub(crate) in_flight: Arc<Semaphore>,
}

/// A service's HTTP server. See the module docs.
pub struct Server {
    shared: Arc<Shared>,
}

impl Server {
    /// Validates `settings` (refusing timeouts that would cause 502s or killed requests) and
    /// logs the effective values.
    pub fn new(service: &'static str, settings: HttpSettings) -> anyhow::Result<Self> {
        settings.validate()?;
        tracing::info!(
            service,
            port = settings.port,
            idle_timeout_secs = settings.idle_timeout_secs,
            lb_idle_timeout_secs = settings.lb_idle_timeout_secs,
            drain_delay_secs = settings.drain_delay_secs,
            shutdown_timeout_secs = settings.shutdown_timeout_secs,
            stop_timeout_secs = settings.stop_timeout_secs,
            request_timeout_secs = settings.request_timeout_secs,
            max_body_bytes = settings.max_body_bytes,
            max_in_flight = settings.max_in_flight,
            "http settings"
        );
        let mut registry = metrics::service_registry(crate::identity::current());
        let metrics = HttpMetrics::register(&mut registry);
        let in_flight = Arc::new(Semaphore::new(settings.max_in_flight));
        let shared = Shared {
            service,
            settings,
            readiness: Readiness::default(),
            metrics,
            registry: Arc::new(Mutex::new(registry)),
            in_flight,
        };
        Ok(Self { shared: Arc::new(shared) })
    }

    pub fn readiness(&self) -> Readiness {
        self.shared.readiness.clone()
    }

    /// The registry `/metrics` renders; services register their own metrics in it.
    pub fn registry(&self) -> Arc<Mutex<Registry>> {
        self.shared.registry.clone()
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.shared.settings
    }

    /// Adds the health and metrics endpoints and the middleware stack to a service's router.
    fn wrap_router(&self, router: Router) -> Router {
        let shared = &self.shared;
        let operational = Router::new()
            .route("/health/live", get(live))
            .route("/health/ready", get(ready))
            .route("/metrics", get(render_metrics))
            .with_state(shared.clone());
        // Outermost first. `Router::layer` runs after routing, so `MatchedPath` is known.
        let middleware = ServiceBuilder::new()
            // Request id first, so the access log, the handler's logs and the response carry it.
            .layer(SetRequestIdLayer::x_request_id(layers::MakeTraceRequestId))
            .layer(PropagateRequestIdLayer::x_request_id())
            // Access log and metrics next: they see every answer, shed and timed-out ones too.
            .layer(from_fn_with_state(shared.clone(), layers::observe))
            // While draining, responses tell HTTP/1 clients to close the connection after them.
            .layer(from_fn_with_state(shared.clone(), layers::close_when_draining))
            // Shed before queueing: a saturated service answers 503 at once, not late.
            .layer(from_fn_with_state(shared.clone(), layers::shed_load))
            // The timeout covers only admitted requests (shed ones cost nothing).
            .layer(from_fn_with_state(shared.clone(), layers::time_out))
            // Body limit: it wraps the body the handler reads.
            .layer(from_fn_with_state(shared.clone(), layers::limit_body))
            // Panics caught innermost, next to the handler: every layer above sees an ordinary
            // 500 problem+json and releases what it holds, and the connection stays up.
            .layer(CatchPanicLayer::custom(layers::panic_response));
        router.merge(operational).layer(middleware)
    }

    /// Serves `router` on `listener` until `shutdown` completes, then drains and stops (see
    /// the module docs). Returns once every connection is closed or cut.
    pub async fn serve(
        self,
        listener: TcpListener,
        router: Router,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let app = self.wrap_router(router);
        let shared = self.shared;
        let local_addr = listener.local_addr()?;
        let service_span = tracing::info_span!("server", service = shared.service);
        let connections = Connections::new(&shared.settings);

        tracing::info!(parent: &service_span, address = %local_addr, "listening");
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => connections.accept(accepted, &app, &shared, &service_span).await,
            }
        }

        // Drain: not ready any more, but still serving while the balancer notices.
        shared.readiness.start_draining();
        shared.metrics.draining.set(1);
        shared.metrics.ready.set(0);
        let drain_delay = shared.settings.drain_delay();
        tracing::info!(parent: &service_span, drain_delay_secs = drain_delay.as_secs(), "draining");
        let drain_deadline = tokio::time::sleep(drain_delay);
        tokio::pin!(drain_deadline);
        loop {
            tokio::select! {
                () = &mut drain_deadline => break,
                accepted = listener.accept() => connections.accept(accepted, &app, &shared, &service_span).await,
            }
        }

        // Close: no new connections; idle ones close now, busy ones after their response.
        drop(listener);
        let open = shared.metrics.connections_open.get();
        tracing::info!(parent: &service_span, open_connections = open, "listener closed; closing connections");
        connections.close.cancel();
        connections.tracker.close();
        let shutdown_timeout = shared.settings.shutdown_timeout();
        if tokio::time::timeout(shutdown_timeout, connections.tracker.wait()).await.is_err() {
            let cut = shared.metrics.connections_open.get();
            tracing::warn!(
                parent: &service_span,
                connections = cut,
                shutdown_timeout_secs = shutdown_timeout.as_secs(),
                "shutdown timeout reached; cutting connections with requests still in flight"
            );
            connections.cut.cancel();
            connections.tracker.wait().await;
        }
        tracing::info!(parent: &service_span, "stopped");
        Ok(())
    }
}

/// The open connections and the signals the accept loop sends them.
struct Connections {
    builder: auto::Builder<TokioExecutor>,
    tracker: TaskTracker,
    /// Cancelled when the listener closes: connections shut down gracefully.
    close: CancellationToken,
    /// Cancelled at the shutdown timeout: connections are dropped.
    cut: CancellationToken,
}

impl Connections {
    fn new(settings: &HttpSettings) -> Self {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        // hyper closes an idle keep-alive connection when the next request head does not
        // arrive within the header-read timeout; without a timer it never fires.
        builder
            .http1()
            .timer(TokioTimer::new())
            .keep_alive(true)
            .header_read_timeout(settings.idle_timeout());
        builder.http2().timer(TokioTimer::new());
        Self {
            builder,
            tracker: TaskTracker::new(),
            close: CancellationToken::new(),
            cut: CancellationToken::new(),
        }
    }

    async fn accept(
        &self,
        accepted: std::io::Result<(TcpStream, SocketAddr)>,
        app: &Router,
        shared: &Arc<Shared>,
        span: &tracing::Span,
    ) {
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: back off rather than spin.
                tracing::warn!(parent: span, %error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                return;
            }
        };
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(parent: span, %error, "cannot set TCP_NODELAY");
        }
        let app = app.clone();
        let shared = shared.clone();
        let builder = self.builder.clone();
        let close = self.close.clone();
        let cut = self.cut.clone();
        self.tracker.spawn(
            serve_connection(builder, stream, peer, app, shared, close, cut)
                .instrument(span.clone()),
        );
    }
}

async fn serve_connection(
    builder: auto::Builder<TokioExecutor>,
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    shared: Arc<Shared>,
    close: CancellationToken,
    cut: CancellationToken,
) {
    let metrics = &shared.metrics;
    metrics.connections_accepted.inc();
    // Released on drop: a connection task that ends any way at all leaves the gauge.
    let _open = GaugeGuard::enter(&metrics.connections_open);
    let service =
        TowerToHyperService::new(app.map_request(move |mut request: http::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            request
        }));
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => Some(result),
        () = close.cancelled() => {
            connection.as_mut().graceful_shutdown();
            tokio::select! {
                result = connection.as_mut() => Some(result),
                () = cut.cancelled() => None,
            }
        }
    };
    match result {
        None => {
            metrics.connections_cut.inc();
            tracing::warn!(peer = %peer, "connection cut at the shutdown timeout");
        }
        Some(Ok(())) => {}
        Some(Err(error)) => {
            let timed_out =
                error.downcast_ref::<hyper::Error>().is_some_and(hyper::Error::is_timeout);
            if timed_out {
                metrics.connections_closed_idle.inc();
                tracing::debug!(peer = %peer, "idle keep-alive connection closed");
            } else {
                tracing::debug!(peer = %peer, %error, "connection ended with an error");
            }
        }
    }
}

async fn live() -> impl IntoResponse {
    axum::Json(serde_json::json!({ "status": "live" }))
}

async fn ready(State(shared): State<Arc<Shared>>) -> Response {
    let readiness = &shared.readiness;
    let status =
        if readiness.is_ready() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let mut response =
        (status, axum::Json(serde_json::json!({ "status": readiness.state() }))).into_response();
    if status != StatusCode::OK {
        response.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from(1));
    }
    response
}

/// Whether `/metrics` answers a client at `peer` (see `HttpSettings::metrics_loopback_only`).
fn metrics_visible(settings: &HttpSettings, peer: Option<std::net::IpAddr>) -> bool {
    !settings.metrics_loopback_only || peer.is_some_and(|peer| peer.is_loopback())
}

async fn render_metrics(
    State(shared): State<Arc<Shared>>,
    request: axum::extract::Request,
) -> Response {
    let peer = crate::clients::peer_address(request.extensions());
    if !metrics_visible(&shared.settings, peer) {
        return crate::Problem::not_found("not_found", "no such resource").into_response();
    }
    shared.metrics.ready.set(i64::from(shared.readiness.is_ready()));
    shared.metrics.draining.set(i64::from(shared.readiness.is_draining()));
    let body = metrics::render(&shared.registry);
    (
        [(
            http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use super::*;

    #[test]
    fn metrics_answer_only_loopback_clients_when_told_so() {
        let open = HttpSettings::default();
        let local_only = HttpSettings { metrics_loopback_only: true, ..HttpSettings::default() };
        let outside = Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)));
        for local in [IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)] {
            assert!(metrics_visible(&local_only, Some(local)), "{local}");
        }
        assert!(!metrics_visible(&local_only, outside));
        assert!(!metrics_visible(&local_only, None), "no known peer counts as outside");
        assert!(metrics_visible(&open, outside), "the default answers everyone");
    }
}
