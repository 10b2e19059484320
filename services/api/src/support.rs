//! Small HTTP helpers of the handlers: a JSON body extractor whose rejections are problems
//! naming the member, ETags on station data, and the request id passed on to the engines.
//! (The problem schema of the OpenAPI document is `norikae_wire::ProblemBody`.)

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use norikae_runtime::Problem;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A JSON request body; a bad one is 400 `invalid_body` naming the member at fault.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Problem::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    "the request body is too large",
                )
            } else {
                Problem::bad_request("invalid_body", "the request body could not be read")
            }
        })?;
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(&mut deserializer).map(JsonBody).map_err(|error| {
            let path = error.path().to_string();
            let inner = error.into_inner();
            let problem =
                Problem::bad_request("invalid_body", format!("invalid JSON body: {inner}"));
            if path == "." { problem } else { problem.with_field(&path) }
        })
    }
}

/// The request id the runtime set (or the client sent), passed on to the engines.
pub fn request_id(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-request-id").and_then(|value| value.to_str().ok())
}

/// How long clients and caches may keep station data (it changes with the timetable only).
const STATION_CACHE_CONTROL: &str = "public, max-age=300";

/// `value` as JSON with a weak `ETag` (hash of the body) and `Cache-Control`; 304 without a
/// body when the client's `If-None-Match` already names that ETag (compared weakly).
pub fn cached_json<T: Serialize>(request_headers: &HeaderMap, value: &T) -> Response {
    let body = match serde_json::to_vec(value) {
        Ok(body) => body,
        Err(error) => return Problem::internal(error).into_response(),
    };
    // Weak: the same data is sent identity, gzip or brotli (`crate::edge`), which are different
    // bytes; a weak validator names them all, so a 304 answers any of them (RFC 9110 §8.8.1).
    let etag = format!("W/\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(&body));
    let matches = request_headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag.trim_start_matches("W/") || tag == "*");
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body)
            .into_response()
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(STATION_CACHE_CONTROL));
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Accept-Language, X-Api-Key, Authorization"),
    );
    response
}
