//! The handler edge of the api's errors: what the store, the key check and the alert
//! writes report, as the problem responses clients see (status, stable `code`, detail,
//! `field`, `Retry-After`). 5xx causes are logged here, never sent.

use http::StatusCode;
use norikae_runtime::Problem;

use crate::alerts::AlertError;
use crate::clients::ClientLimited;
use crate::keys::AccessDenied;
use crate::store::{Record, StoreError};

/// Seconds a client should wait before retrying while the database is down.
const DATABASE_RETRY_AFTER_SECS: u64 = 2;

impl From<StoreError> for Problem {
    fn from(error: StoreError) -> Self {
        match &error {
            StoreError::Unavailable(_) | StoreError::NotMigrated => {
                tracing::warn!(error = %error, "database unavailable");
                Problem::unavailable(
                    "database_unavailable",
                    "the database is unavailable; retry shortly",
                    DATABASE_RETRY_AFTER_SECS,
                )
            }
            StoreError::NotFound { record: Record::Alert, value, .. } => {
                Problem::not_found("unknown_alert", format!("no alert has the id `{value}`"))
                    .with_field("id")
            }
            // Nothing a request names is looked up by these: a bug or bad data, so a 500.
            StoreError::NotFound { .. }
            | StoreError::Conflict { .. }
            | StoreError::InvalidData(_)
            | StoreError::InvalidUrl { .. }
            | StoreError::Settings(_)
            | StoreError::CreateFolder { .. }
            | StoreError::JournalMode(_)
            | StoreError::Migration(_)
            | StoreError::Database(_) => {
                Problem::internal(format!("{:#}", anyhow::Error::new(error)))
            }
        }
    }
}

impl From<AlertError> for Problem {
    fn from(error: AlertError) -> Self {
        match error {
            AlertError::Invalid { field, detail } => {
                Problem::bad_request("invalid_alert", detail).with_field(&field)
            }
            AlertError::Store(error) => error.into(),
        }
    }
}

impl From<ClientLimited> for Problem {
    fn from(limited: ClientLimited) -> Self {
        let (code, retry_after_secs) = match &limited {
            ClientLimited::Anonymous { retry_after_secs, .. } => {
                ("rate_limited", *retry_after_secs)
            }
            ClientLimited::UnknownKeys { retry_after_secs, .. } => {
                ("too_many_unknown_keys", *retry_after_secs)
            }
        };
        Problem::new(StatusCode::TOO_MANY_REQUESTS, code, limited.to_string())
            .retry_after(retry_after_secs)
    }
}

impl From<AccessDenied> for Problem {
    fn from(denied: AccessDenied) -> Self {
        let detail = denied.to_string();
        match denied {
            AccessDenied::MissingKey => {
                Problem::new(StatusCode::UNAUTHORIZED, "missing_api_key", detail)
            }
            AccessDenied::InvalidKey => {
                Problem::new(StatusCode::UNAUTHORIZED, "invalid_api_key", detail)
            }
            AccessDenied::Revoked => Problem::new(StatusCode::FORBIDDEN, "revoked_api_key", detail),
            AccessDenied::InsufficientScope { .. } => {
                Problem::new(StatusCode::FORBIDDEN, "insufficient_scope", detail)
            }
            AccessDenied::RateLimited { retry_after_secs, .. } => {
                Problem::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", detail)
                    .retry_after(retry_after_secs)
            }
            AccessDenied::QuotaExceeded { retry_after_secs, .. } => {
                Problem::new(StatusCode::TOO_MANY_REQUESTS, "quota_exceeded", detail)
                    .retry_after(retry_after_secs)
            }
            AccessDenied::Client(limited) => limited.into(),
            AccessDenied::Store(error) => error.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key_records::Rate;

    fn answer(problem: &Problem) -> (u16, &str, &str, Option<&str>, Option<u64>) {
        (
            problem.status,
            problem.code.as_str(),
            problem.detail.as_str(),
            problem.field.as_deref(),
            problem.retry_after_secs,
        )
    }

    #[test]
    fn store_errors_answer_as_before() {
        let unavailable = Problem::from(StoreError::Unavailable(sqlx::Error::PoolTimedOut));
        assert_eq!(
            answer(&unavailable),
            (
                503,
                "database_unavailable",
                "the database is unavailable; retry shortly",
                None,
                Some(2)
            )
        );
        assert_eq!(Problem::from(StoreError::NotMigrated), unavailable);
        let unknown = Problem::from(StoreError::NotFound {
            record: Record::Alert,
            key: "id",
            value: "a1".to_owned(),
        });
        assert_eq!(
            answer(&unknown),
            (404, "unknown_alert", "no alert has the id `a1`", Some("id"), None)
        );
        let bad_row = Problem::from(StoreError::InvalidData(sqlx::Error::ColumnNotFound(
            "scopes".to_owned(),
        )));
        assert_eq!(answer(&bad_row), (500, "internal", "an internal error occurred", None, None));
        let invalid = Problem::from(AlertError::Invalid {
            field: "informed[0]".to_owned(),
            detail: "`x` is not an id like FEED:ID".to_owned(),
        });
        assert_eq!(
            answer(&invalid),
            (400, "invalid_alert", "`x` is not an id like FEED:ID", Some("informed[0]"), None)
        );
    }

    #[test]
    fn refused_keys_answer_as_before() {
        let cases = [
            (
                AccessDenied::MissingKey,
                (
                    401,
                    "missing_api_key",
                    "send an API key as `X-Api-Key: <key>` or `Authorization: Bearer <key>`",
                    None,
                ),
            ),
            (AccessDenied::InvalidKey, (401, "invalid_api_key", "this API key is not valid", None)),
            (
                AccessDenied::Revoked,
                (403, "revoked_api_key", "this API key has been revoked", None),
            ),
            (
                AccessDenied::InsufficientScope { scope: "admin".to_owned() },
                (403, "insufficient_scope", "this API key lacks the `admin` scope", None),
            ),
            (
                AccessDenied::RateLimited {
                    rate: Rate { count: 20, period_secs: 60 },
                    burst: 5,
                    retry_after_secs: 3,
                },
                (429, "rate_limited", "this API key is limited to 20/m (burst 5)", Some(3)),
            ),
            (
                AccessDenied::QuotaExceeded { quota: 100, retry_after_secs: 60 },
                (
                    429,
                    "quota_exceeded",
                    "this API key's daily quota of 100 requests is used up until 00:00 UTC",
                    Some(60),
                ),
            ),
        ];
        for (denied, (status, code, detail, retry_after)) in cases {
            let problem = Problem::from(denied);
            assert_eq!(answer(&problem), (status, code, detail, None, retry_after));
        }
        let rate = norikae_runtime::clients::ClientRate { requests: 1, per_secs: 2, burst: 3 };
        let anonymous = Problem::from(AccessDenied::from(ClientLimited::Anonymous {
            rate,
            retry_after_secs: 4,
        }));
        assert_eq!(
            answer(&anonymous),
            (
                429,
                "rate_limited",
                "requests without an API key are limited to 1 per 2 s (burst 3) per client",
                None,
                Some(4)
            )
        );
        let guessing = Problem::from(ClientLimited::UnknownKeys { rate, retry_after_secs: 5 });
        assert_eq!(
            answer(&guessing),
            (
                429,
                "too_many_unknown_keys",
                "requests with unknown API keys are limited to 1 per 2 s (burst 3) per client",
                None,
                Some(5)
            )
        );
        let database_down = Problem::from(AccessDenied::Store(StoreError::NotMigrated));
        assert_eq!(database_down.code, "database_unavailable");
    }
}
