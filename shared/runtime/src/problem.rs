//! [`Problem`]: the one error response of every service, `application/problem+json`
//! (RFC 9457) with a stable machine-readable `code`. Its JSON is the wire type
//! [`ProblemBody`], which clients (the api reading an engine, the app reading the api) read.

use std::fmt;

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use norikae_wire::ProblemBody;
use serde::{Serialize, Serializer};

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// An error response. 5xx details are logged, never sent: the client gets a generic detail.
/// Serialized as its [`ProblemBody`] (`retry_after_secs` goes out as a header).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// A URI naming the kind of problem (`urn:norikae:problem:<code>`).
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable code clients can branch on (`unknown_station`, `invalid_parameter`, …).
    pub code: String,
    /// The request parameter or field at fault, for validation problems.
    pub field: Option<String>,
    pub retry_after_secs: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("urn:norikae:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            code: code.to_owned(),
            field: None,
            retry_after_secs: None,
        }
    }

    pub fn bad_request(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    /// 400 `missing_parameter` naming the query parameter `name`.
    pub fn missing_parameter(name: &str) -> Self {
        Self::bad_request("missing_parameter", format!("query parameter `{name}` is required"))
            .with_field(name)
    }

    pub fn not_found(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, detail)
    }

    /// 503 with `Retry-After`.
    pub fn unavailable(code: &str, detail: impl Into<String>, retry_after_secs: u64) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, detail).retry_after(retry_after_secs)
    }

    /// 500: the cause is logged here, the client sees a generic message.
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "an internal error occurred")
    }

    pub fn with_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }

    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl From<&Problem> for ProblemBody {
    fn from(problem: &Problem) -> Self {
        Self {
            kind: problem.kind.clone(),
            title: problem.title.clone(),
            status: problem.status,
            detail: problem.detail.clone(),
            code: problem.code.clone(),
            field: problem.field.clone(),
        }
    }
}

/// A problem read from another service's answer (no `Retry-After` yet: the reader adds the
/// header's).
impl From<ProblemBody> for Problem {
    fn from(body: ProblemBody) -> Self {
        Self {
            kind: body.kind,
            title: body.title,
            status: body.status,
            detail: body.detail,
            code: body.code,
            field: body.field,
            retry_after_secs: None,
        }
    }
}

impl Serialize for Problem {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ProblemBody::from(self).serialize(serializer)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} {}: {}", self.status, self.code, self.detail)
    }
}

impl std::error::Error for Problem {}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let retry_after = self.retry_after_secs;
        let mut response = (status, Json(self)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_CONTENT_TYPE));
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn renders_problem_json_with_code_field_and_retry_after() {
        let response = Problem::unavailable("overloaded", "too many requests in flight", 2)
            .with_field("q")
            .into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_CONTENT_TYPE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["code"], "overloaded");
        assert_eq!(json["status"], 503);
        assert_eq!(json["field"], "q");
        assert_eq!(json["type"], "urn:norikae:problem:overloaded");
    }

    #[test]
    fn reads_back_as_the_problem_it_was() {
        let problem = Problem::bad_request("invalid_parameter", "limit must be between 1 and 50")
            .with_field("limit");
        let json = serde_json::to_string(&problem).unwrap();
        let body: ProblemBody = serde_json::from_str(&json).unwrap();
        assert_eq!(Problem::from(body), problem);
        let without_field =
            serde_json::to_value(Problem::not_found("unknown_station", "x")).unwrap();
        assert_eq!(without_field.get("field"), None);
    }

    #[tokio::test]
    async fn internal_errors_hide_their_cause() {
        let response = Problem::internal("database password is hunter2").into_response();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        assert!(!String::from_utf8_lossy(&body).contains("hunter2"));
    }
}
