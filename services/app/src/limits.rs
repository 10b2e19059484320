//! The per-client limit of the app: each client address (behind `limits.trusted_proxies`
//! proxies, as the api reads `X-Forwarded-For`) has its own token bucket, so one abuser
//! cannot spend the app's API key for everyone. Past it a page is the error page and
//! `/suggest` a problem, both 429 with `Retry-After`. Static files are not limited: they
//! cost no API call.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use norikae_runtime::clients::peer_address;
use norikae_runtime::{ClientRate, Problem, client_address};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::errors::ErrorView;
use crate::handlers::Ui;

/// How often full buckets are forgotten.
pub const CLEANUP_INTERVAL: Duration = Duration::from_secs(10);

/// Section `limits`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LimitSettings {
    /// Proxies in front of the app that append to `X-Forwarded-For` (the balancer is one).
    /// 0: the socket peer is the client.
    pub trusted_proxies: usize,
    /// Pages and suggestions per client address.
    pub per_client: ClientRate,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self { trusted_proxies: 1, per_client: ClientRate { requests: 5, per_secs: 1, burst: 40 } }
    }
}

impl LimitSettings {
    pub fn validate(&self) -> anyhow::Result<()> {
        self.per_client.validate("limits.per_client")
    }
}

/// The middleware: one token of the client's bucket per request (static files excepted).
pub async fn limit_per_client(
    ui: Ui,
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path().starts_with("/static/") {
        return next.run(request).await;
    }
    let client = client_address(
        request.headers(),
        peer_address(request.extensions()),
        state.trusted_proxies,
    );
    let Some(client) = client else { return next.run(request).await };
    let Err(wait_secs) = state.limiter.check(client) else { return next.run(request).await };
    if request.uri().path() == "/suggest" {
        return Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("this client is limited to {}", state.limiter.rate()),
        )
        .retry_after(wait_secs)
        .into_response();
    }
    let wait = wait_secs.to_string();
    let mut error = ErrorView::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        ui.lang.fill("err_rate_limited", &[("n", &wait)]),
    );
    error.retry = true;
    let mut response = ui.error_page(&state, &error).into_response();
    if let Ok(value) = HeaderValue::from_str(&wait) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}
