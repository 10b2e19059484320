//! Extractors whose rejections are [`Problem`]s naming the parameter at fault.

use axum::extract::FromRequestParts;
use http::request::Parts;
use serde::de::DeserializeOwned;

use crate::problem::Problem;

/// Like `axum::extract::Query`, but a bad parameter answers 400 `invalid_parameter` with the
/// parameter's name in `field` and in the message.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query().unwrap_or_default()).map(Query)
    }
}

/// Like `axum::extract::Path`, but a segment that does not decode (not UTF-8 once
/// percent-decoded, or not the type asked for) answers 400 `invalid_parameter` as
/// problem+json naming the segment, like every other bad input, not axum's plain text.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::path::ErrorKind;
        use axum::extract::rejection::PathRejection;
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(PathRejection::FailedToDeserializePathParams(error)) => {
                let detail = error.body_text();
                let key = match error.kind() {
                    ErrorKind::InvalidUtf8InPathParam { key }
                    | ErrorKind::ParseErrorAtKey { key, .. }
                    | ErrorKind::DeserializeError { key, .. } => Some(key.clone()),
                    _ => None,
                };
                let problem = Problem::bad_request("invalid_parameter", detail);
                Err(match key {
                    Some(key) => problem.with_field(&key),
                    None => problem,
                })
            }
            Err(rejection) => {
                Err(Problem::new(rejection.status(), "invalid_parameter", rejection.body_text()))
            }
        }
    }
}

/// Parses a query string into `T`, naming the offending parameter on failure.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, Problem> {
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let field = error.path().to_string();
        let inner = error.into_inner().to_string();
        // serde names a missing field itself (`missing field `q``); other errors need the path.
        let missing = inner.strip_prefix("missing field `").and_then(|rest| rest.strip_suffix('`'));
        match missing {
            Some(name) => Problem::missing_parameter(name),
            None => Problem::bad_request(
                "invalid_parameter",
                format!("query parameter `{field}` is invalid: {inner}"),
            )
            .with_field(&field),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Params {
        q: String,
        limit: Option<u32>,
    }

    #[test]
    fn names_the_bad_parameter() {
        let problem = parse_query::<Params>("q=x&limit=many").unwrap_err();
        assert_eq!(problem.field.as_deref(), Some("limit"));
        assert_eq!(problem.code, "invalid_parameter");
        assert!(problem.detail.contains("`limit`"), "{}", problem.detail);
    }

    #[test]
    fn names_the_missing_parameter() {
        let problem = parse_query::<Params>("limit=3").unwrap_err();
        assert_eq!(problem.field.as_deref(), Some("q"));
        assert_eq!(problem.code, "missing_parameter");
    }

    #[test]
    fn parses_good_input() {
        let params = parse_query::<Params>("q=%E5%B2%A1%E5%B1%B1&limit=5").unwrap();
        assert_eq!(params.q, "岡山");
        assert_eq!(params.limit, Some(5));
    }
}
