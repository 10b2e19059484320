//! The middleware every request passes through, in the order [`crate::server`] stacks it.

use std::any::Any;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Version, header};
use http_body::Body as _;
use tower_http::request_id::{MakeRequestId, RequestId};
use tracing::Instrument;

use crate::metrics::{self, GaugeGuard, RequestLabels, RouteLabels};
use crate::problem::Problem;
use crate::server::Shared;

/// The request id: the caller's `X-Request-Id` is kept (tower-http only asks us when it is
/// absent); otherwise the ALB's `X-Amzn-Trace-Id`, otherwise a new UUID.
#[derive(Clone, Copy, Debug, Default)]
pub struct MakeTraceRequestId;

impl MakeRequestId for MakeTraceRequestId {
    fn make_request_id<B>(&mut self, request: &http::Request<B>) -> Option<RequestId> {
        let trace_id = request.headers().get("x-amzn-trace-id").cloned();
        let id = trace_id.unwrap_or_else(|| {
            HeaderValue::try_from(uuid::Uuid::new_v4().to_string())
                .unwrap_or_else(|_| HeaderValue::from_static("invalid"))
        });
        Some(RequestId::new(id))
    }
}

/// Health checks and metrics scrapes bypass shedding and timeouts: a saturated service must
/// still answer its balancer and its monitoring.
fn is_operational(path: &str) -> bool {
    path.starts_with("/health/") || path == "/metrics"
}

/// Access log, request span and metrics: one log line per request.
pub async fn observe(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let method_label = metrics::method_label(&method);
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |matched| matched.as_str().to_owned());
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let client = client_address(&request);
    let span = tracing::info_span!(
        "request",
        service = shared.service,
        request_id = %request_id,
    );

    // A guard, not a decrement after the call: a request whose future is dropped (client gone,
    // connection cut) must leave the gauge too.
    let in_flight = GaugeGuard::enter(&shared.metrics.requests_in_flight);
    let response = next.run(request).instrument(span.clone()).await;
    drop(in_flight);

    let latency = started.elapsed();
    let status = response.status().as_u16();
    let bytes = response.body().size_hint().exact();
    shared
        .metrics
        .requests
        .get_or_create(&RequestLabels {
            route: route.clone(),
            method: method_label.to_owned(),
            status,
        })
        .inc();
    shared
        .metrics
        .request_duration
        .get_or_create(&RouteLabels { route, method: method_label.to_owned() })
        .observe(latency.as_secs_f64());
    span.in_scope(|| {
        tracing::info!(
            target: "access",
            method = %method,
            path = %path,
            status,
            latency_ms = latency.as_secs_f64() * 1000.0,
            bytes,
            client = %client,
            "request"
        );
    });
    response
}

/// The client: first address of `X-Forwarded-For` (set by the balancer), else the peer.
fn client_address(request: &Request) -> String {
    let forwarded = request
        .headers()
        .get("x-forwarded-for")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(',').next())
        .map(str::trim)
        .filter(|value| !value.is_empty());
    if let Some(forwarded) = forwarded {
        return forwarded.to_owned();
    }
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "-".to_owned(), |ConnectInfo(peer)| peer.ip().to_string())
}

/// While draining, HTTP/1 responses carry `Connection: close`, so each client (or balancer)
/// stops reusing its connection politely, right after a response, never mid-flight.
pub async fn close_when_draining(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let http1 = matches!(request.version(), Version::HTTP_10 | Version::HTTP_11);
    let mut response = next.run(request).await;
    if http1 && shared.readiness.is_draining() {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Load shedding: past `max_in_flight` requests, answer 503 at once instead of queueing.
pub async fn shed_load(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    if is_operational(request.uri().path()) {
        return next.run(request).await;
    }
    let Ok(_permit) = shared.in_flight.clone().try_acquire_owned() else {
        shared.metrics.requests_shed.inc();
        return Problem::unavailable("overloaded", "the service is at capacity; retry shortly", 1)
            .into_response();
    };
    next.run(request).await
}

/// Request timeout: a request running longer is answered 503 (its work is dropped).
pub async fn time_out(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    if is_operational(request.uri().path()) {
        return next.run(request).await;
    }
    let limit = shared.settings.request_timeout();
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_elapsed) => {
            shared.metrics.requests_timed_out.inc();
            Problem::unavailable(
                "timeout",
                format!("the request took longer than {} s", limit.as_secs()),
                1,
            )
            .into_response()
        }
    }
}

/// The answer to a handler that panicked: 500 problem+json with code `internal`. The panic
/// message is logged (it may name internals), never sent.
#[allow(clippy::needless_pass_by_value)] // the signature `CatchPanicLayer::custom` calls
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    Problem::internal(format_args!("handler panicked: {message}")).into_response()
}

/// Body size limit: a declared length over the limit is refused before reading; a streamed
/// body is cut at the limit (extractors then answer 413).
pub async fn limit_body(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let max = shared.settings.max_body_bytes;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max as u64) {
        return Problem::new(
            http::StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the request body is larger than {max} bytes"),
        )
        .into_response();
    }
    let request = request.map(|body| Body::new(http_body_util::Limited::new(body, max)));
    next.run(request).await
}
