//! [`Upstream`]: the HTTP client for the search and route engines.
//!
//! One keep-alive pool (reqwest) whose idle timeout is below the engines' and the internal
//! balancer's (see [`crate::config::UpstreamSettings`]), a timeout per call, one retry of a
//! GET that failed to connect or lost its connection before an answer, and one mapping of
//! every failure to a problem the client can act on:
//!
//! | what happened | answer |
//! |---|---|
//! | the engine answered 4xx with a problem | the same status, `code` and `field` |
//! | the engine is unreachable (after the retry) | 503 `upstream_unavailable` + `Retry-After` |
//! | the engine answered 503 (loading, overloaded) | 503 `upstream_unavailable` + `Retry-After` |
//! | no answer within `timeout_ms`, or the engine's own query timeout | 504 `upstream_timeout` |
//! | another 5xx, or a body that is not the expected JSON | 502 `upstream_error` |

use std::time::Duration;

use http::StatusCode;
use norikae_runtime::Problem;
use norikae_wire::ProblemBody;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::UpstreamSettings;

/// Seconds a client should wait before retrying when an engine is down or loading.
const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 2;
/// Largest engine answer read (a full journeys page is far below this).
const MAX_BODY_BYTES: usize = 16 << 20;

/// Which engine a call goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Search,
    Route,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Self::Search => "search",
            Self::Route => "route",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Upstream {
    client: reqwest::Client,
    search_url: String,
    route_url: String,
    timeout: Duration,
}

impl Upstream {
    pub fn new(settings: &UpstreamSettings) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(settings.pool_idle_timeout_secs))
            .pool_max_idle_per_host(settings.pool_max_idle_per_host)
            .connect_timeout(Duration::from_millis(settings.connect_timeout_ms))
            .tcp_nodelay(true)
            // The engines are internal: never route them through an environment proxy.
            .no_proxy()
            .build()?;
        Ok(Self {
            client,
            search_url: settings.search_url.trim_end_matches('/').to_owned(),
            route_url: settings.route_url.trim_end_matches('/').to_owned(),
            timeout: Duration::from_millis(settings.timeout_ms),
        })
    }

    fn base(&self, engine: Engine) -> &str {
        match engine {
            Engine::Search => &self.search_url,
            Engine::Route => &self.route_url,
        }
    }

    /// GETs `path` with `query` (pairs or a struct, URL-encoded) from `engine` and decodes
    /// the JSON answer as `T`.
    pub async fn get_json<T: DeserializeOwned, Q: Serialize + ?Sized>(
        &self,
        engine: Engine,
        path: &str,
        query: &Q,
        request_id: Option<&str>,
    ) -> Result<T, Problem> {
        let mut url = url::Url::parse(&format!("{}{path}", self.base(engine)))
            .map_err(|error| Problem::internal(format_args!("engine url: {error}")))?;
        let query = serde_urlencoded::to_string(query)
            .map_err(|error| Problem::internal(format_args!("engine query: {error}")))?;
        if !query.is_empty() {
            url.set_query(Some(&query));
        }
        let send = || {
            let mut request = self.client.get(url.clone()).timeout(self.timeout);
            if let Some(id) = request_id {
                request = request.header("x-request-id", id);
            }
            request.send()
        };
        let response = match send().await {
            Ok(response) if is_balancer_bad_gateway(&response) => {
                // The balancer in front of the engines lost the call (a target stopping, or
                // one it has not yet marked down): a GET is safe to send once more, and the
                // balancer picks a target again.
                tracing::debug!(
                    engine = engine.name(),
                    "retrying an engine call once after a balancer 502"
                );
                send().await.map_err(|error| transport_problem(engine, &error))?
            }
            Ok(response) => response,
            // A refused connection (engine restarting) or a pooled connection closed under
            // the request: a GET is safe to send once more.
            Err(error) if is_retryable(&error) => {
                tracing::debug!(engine = engine.name(), error = %error, "retrying an engine call once");
                send().await.map_err(|error| transport_problem(engine, &error))?
            }
            Err(error) => return Err(transport_problem(engine, &error)),
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok());
        let body = read_body(engine, response).await?;
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|error| {
                tracing::error!(engine = engine.name(), error = %error, "engine answered JSON of an unexpected shape");
                bad_gateway(engine)
            });
        }
        Err(engine_problem(engine, status, &body, retry_after))
    }
}

async fn read_body(engine: Engine, response: reqwest::Response) -> Result<Vec<u8>, Problem> {
    if response.content_length().is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        tracing::error!(engine = engine.name(), "engine answer too large");
        return Err(bad_gateway(engine));
    }
    match response.bytes().await {
        Ok(bytes) if bytes.len() <= MAX_BODY_BYTES => Ok(bytes.to_vec()),
        Ok(_) => Err(bad_gateway(engine)),
        Err(error) => Err(transport_problem(engine, &error)),
    }
}

/// A 502 that is not one of our engines' problem answers: made by a balancer in between.
fn is_balancer_bad_gateway(response: &reqwest::Response) -> bool {
    response.status() == StatusCode::BAD_GATEWAY
        && !response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("application/problem+json"))
}

fn is_retryable(error: &reqwest::Error) -> bool {
    !error.is_timeout() && (error.is_connect() || error.is_request())
}

/// The problem for a call that got no (complete) answer.
fn transport_problem(engine: Engine, error: &reqwest::Error) -> Problem {
    if error.is_timeout() {
        tracing::warn!(engine = engine.name(), error = %error, "engine call timed out");
        return Problem::new(
            StatusCode::GATEWAY_TIMEOUT,
            "upstream_timeout",
            format!("the {} engine did not answer in time", engine.name()),
        );
    }
    tracing::warn!(engine = engine.name(), error = %error, "engine unreachable");
    unavailable(engine, UNAVAILABLE_RETRY_AFTER_SECS)
}

fn unavailable(engine: Engine, retry_after_secs: u64) -> Problem {
    Problem::unavailable(
        "upstream_unavailable",
        format!("the {} engine is unavailable; retry shortly", engine.name()),
        retry_after_secs,
    )
}

fn bad_gateway(engine: Engine) -> Problem {
    Problem::new(
        StatusCode::BAD_GATEWAY,
        "upstream_error",
        format!("the {} engine answered with an error", engine.name()),
    )
}

/// The problem for an engine's non-2xx answer.
fn engine_problem(
    engine: Engine,
    status: StatusCode,
    body: &[u8],
    retry_after: Option<u64>,
) -> Problem {
    let reported: Option<Problem> =
        serde_json::from_slice::<ProblemBody>(body).ok().map(Problem::from);
    if status.is_client_error() {
        // The engine's validation: the client's request was wrong; pass it on as it is.
        return match reported {
            Some(mut problem) if problem.status == status.as_u16() => {
                problem.retry_after_secs = retry_after;
                problem
            }
            _ => {
                tracing::error!(
                    engine = engine.name(),
                    status = status.as_u16(),
                    "engine answered 4xx without a problem body"
                );
                bad_gateway(engine)
            }
        };
    }
    let code = reported.as_ref().map_or("", |problem| problem.code.as_str());
    if status == StatusCode::SERVICE_UNAVAILABLE {
        if matches!(code, "query_timeout" | "timeout") {
            return Problem::new(
                StatusCode::GATEWAY_TIMEOUT,
                "upstream_timeout",
                format!("the {} engine did not finish the query in time", engine.name()),
            );
        }
        tracing::warn!(engine = engine.name(), code, "engine not ready or overloaded");
        return unavailable(engine, retry_after.unwrap_or(UNAVAILABLE_RETRY_AFTER_SECS));
    }
    if status == StatusCode::GATEWAY_TIMEOUT {
        return Problem::new(
            StatusCode::GATEWAY_TIMEOUT,
            "upstream_timeout",
            format!("the {} engine did not answer in time", engine.name()),
        );
    }
    tracing::error!(engine = engine.name(), status = status.as_u16(), code, "engine failed");
    bad_gateway(engine)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(status: u16, code: &str) -> Vec<u8> {
        serde_json::to_vec(&Problem::new(
            StatusCode::from_u16(status).expect("status"),
            code,
            "detail",
        ))
        .expect("json")
    }

    #[test]
    fn client_errors_pass_through_with_code_and_field() {
        let mut reported = Problem::bad_request("invalid_parameter", "bad date");
        reported.field = Some("date".to_owned());
        let bytes = serde_json::to_vec(&reported).expect("json");
        let problem = engine_problem(Engine::Route, StatusCode::BAD_REQUEST, &bytes, None);
        assert_eq!(problem.status, 400);
        assert_eq!(problem.code, "invalid_parameter");
        assert_eq!(problem.field.as_deref(), Some("date"));
    }

    #[test]
    fn engine_failures_map_to_502_503_504() {
        let timeout = engine_problem(
            Engine::Route,
            StatusCode::SERVICE_UNAVAILABLE,
            &body(503, "query_timeout"),
            Some(5),
        );
        assert_eq!((timeout.status, timeout.code.as_str()), (504, "upstream_timeout"));
        let loading = engine_problem(
            Engine::Route,
            StatusCode::SERVICE_UNAVAILABLE,
            &body(503, "not_ready"),
            Some(5),
        );
        assert_eq!((loading.status, loading.code.as_str()), (503, "upstream_unavailable"));
        assert_eq!(loading.retry_after_secs, Some(5));
        let crashed =
            engine_problem(Engine::Search, StatusCode::INTERNAL_SERVER_ERROR, b"oops", None);
        assert_eq!((crashed.status, crashed.code.as_str()), (502, "upstream_error"));
        let garbled = engine_problem(Engine::Search, StatusCode::NOT_FOUND, b"<html>", None);
        assert_eq!(garbled.status, 502);
    }
}
