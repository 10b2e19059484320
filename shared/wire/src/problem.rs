//! The body of every error answer of every service: the services make it with
//! `norikae_runtime::Problem`, which serializes as [`ProblemBody`]: the shape clients read
//! (the api reading an engine's error, the app reading the api's) and the api documents as
//! `Problem`.
//!
//! Every member has a default when read, so a reader keeps the `code` and `status` of a
//! problem that a balancer or an older service wrote without the others. (The doc comments
//! of the type are its description in the api's OpenAPI document.)

use serde::{Deserialize, Serialize};

/// `application/problem+json` (RFC 9457), as every error of this API is answered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Problem)]
pub struct ProblemBody {
    /// `urn:norikae:problem:<code>`.
    #[serde(rename = "type", default)]
    #[schema(required = true)]
    pub kind: String,
    #[serde(default)]
    #[schema(required = true)]
    pub title: String,
    #[serde(default)]
    #[schema(required = true)]
    pub status: u16,
    #[serde(default)]
    #[schema(required = true)]
    pub detail: String,
    /// Stable machine-readable code (the api's document lists every one as an `enum`:
    /// [`PROBLEM_CODES`]).
    #[serde(default)]
    #[schema(required = true)]
    pub code: String,
    /// The parameter or body member at fault (validation problems).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Every `code` a problem of the public api can carry: the api's own (keys, limits, alerts,
/// the database, the engines as seen from it), the runtime's (shedding, timeouts, bodies, bad
/// parameters) and the engines' client errors, which the api passes on. The api's document
/// lists them as the `enum` of `Problem.code`; its tests fail on a code made anywhere in the
/// services that is not listed here.
pub const PROBLEM_CODES: &[&str] = &[
    // Parameters and bodies (runtime extractors, handlers, engines).
    "invalid_parameter",
    "missing_parameter",
    "invalid_body",
    "body_too_large",
    "invalid_cursor",
    "empty_query",
    "date_out_of_range",
    "unknown_station",
    "unknown_trip",
    "trip_not_running",
    "unknown_route",
    "no_stop_nearby",
    "not_found",
    // Keys and limits.
    "missing_api_key",
    "invalid_api_key",
    "revoked_api_key",
    "insufficient_scope",
    "rate_limited",
    "quota_exceeded",
    "too_many_unknown_keys",
    // Alerts.
    "invalid_alert",
    "unknown_alert",
    // Availability.
    "overloaded",
    "timeout",
    "database_unavailable",
    "upstream_unavailable",
    "upstream_timeout",
    "upstream_error",
    "internal",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_problem_keeps_its_code() {
        let problem: ProblemBody =
            serde_json::from_str(r#"{"status": 503, "code": "not_ready", "detail": "x"}"#)
                .expect("a problem without type and title");
        assert_eq!((problem.status, problem.code.as_str()), (503, "not_ready"));
        let written = serde_json::to_value(&problem).expect("serialises");
        assert_eq!(written["type"], "");
        assert_eq!(written.get("field"), None);
    }
}
