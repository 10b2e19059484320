//! The api's own layers around every route it serves (`/v1/…`, the document, the docs page),
//! inside the runtime's stack (request id, access log, drain, shedding, timeout, body limit,
//! panics: `norikae_runtime::server`). Outermost first:
//!
//! 1. CORS: a browser's preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered
//!    here, before the key check, which a preflight cannot pass (browsers send no
//!    credentials with it); other answers get the CORS headers whatever their status, so a
//!    web client can read a 429's `Retry-After` and a problem's `code`.
//! 2. Compression (gzip, brotli), inside CORS (whose answers to preflights have no body) and
//!    outside the handlers and the key check, so that every body (problems, the document, the
//!    docs script) is compressed; tower-http skips bodies under 32 bytes, images, and answers
//!    already encoded, and adds `Vary: Accept-Encoding`. (The station answers' ETags are weak,
//!    `crate::support::cached_json`: one validator for every encoding of the same data.)

use std::time::Duration;

use axum::Router;
use http::{HeaderName, HeaderValue, Method, header};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::CorsSettings;
use crate::ratelimit::{RATELIMIT, RATELIMIT_POLICY};

/// Request headers a browser client may send across origins.
const ALLOWED_REQUEST_HEADERS: [HeaderName; 6] = [
    header::AUTHORIZATION,
    header::CONTENT_TYPE,
    header::ACCEPT_LANGUAGE,
    header::IF_NONE_MATCH,
    HeaderName::from_static("x-api-key"),
    HeaderName::from_static("x-request-id"),
];

/// Response headers a browser client may read across origins (beyond the CORS-safelisted).
pub const EXPOSED_RESPONSE_HEADERS: [HeaderName; 5] = [
    header::ETAG,
    header::RETRY_AFTER,
    HeaderName::from_static("x-request-id"),
    RATELIMIT,
    RATELIMIT_POLICY,
];

/// `router` with the layers of the module docs.
pub fn wrap(router: Router, cors: &CorsSettings) -> Router {
    // 2. Compression next to the handlers' bodies (see the module docs for the order).
    let router = router.layer(CompressionLayer::new().gzip(true).br(true));
    match cors_layer(cors) {
        // 1. CORS outermost: preflights never reach the key check.
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// The CORS layer of the settings; `None` when no origin is allowed (then no CORS header is
/// sent and browsers keep other origins out, the default).
fn cors_layer(settings: &CorsSettings) -> Option<CorsLayer> {
    let origins = &settings.allowed_origins.0;
    if origins.is_empty() {
        return None;
    }
    let allow_origin = if origins.iter().any(|origin| origin == "*") {
        AllowOrigin::any()
    } else {
        // Validated at start-up (`CorsSettings::validate`): each is a header value.
        AllowOrigin::list(origins.iter().filter_map(|origin| HeaderValue::from_str(origin).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::PATCH])
            .allow_headers(ALLOWED_REQUEST_HEADERS)
            .expose_headers(EXPOSED_RESPONSE_HEADERS)
            .max_age(Duration::from_secs(settings.max_age_secs)),
    )
}
