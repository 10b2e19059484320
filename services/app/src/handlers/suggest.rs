//! `GET /suggest?q=&lang=`: station suggestions for the form's combobox (the app's
//! JavaScript calls this, same origin, instead of the API directly). JSON:
//! `{"results":[{"id","name","reading","label"}]}`; an API failure is a 502/503 with
//! `{"error": "<message in the page's language>"}`.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

use super::{Ui, query_pairs};
use crate::AppState;
use crate::errors::ErrorView;
use crate::view::StationView;

/// Suggestions listed.
const SUGGESTIONS: usize = 8;
/// Longer input is not a station name (the API refuses over 200 characters).
const MAX_QUERY_CHARS: usize = 100;

#[derive(Serialize)]
struct Suggestions {
    results: Vec<StationView>,
}

#[derive(Serialize)]
struct SuggestError {
    error: String,
}

pub async fn suggest(ui: Ui, State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let text = query_pairs(query.as_deref().unwrap_or_default())
        .into_iter()
        .rev()
        .find(|(key, _)| key == "q")
        .map(|(_, value)| value.trim().to_owned())
        .unwrap_or_default();
    if text.is_empty() || text.chars().count() > MAX_QUERY_CHARS {
        return respond(StatusCode::OK, &Suggestions { results: Vec::new() });
    }
    match ui.api(&state).search_stations(&text, ui.lang.code(), SUGGESTIONS).await {
        Ok(found) => respond(
            StatusCode::OK,
            &Suggestions { results: found.results.iter().map(StationView::new).collect() },
        ),
        Err(error) if error.code() == Some("empty_query") => {
            respond(StatusCode::OK, &Suggestions { results: Vec::new() })
        }
        Err(error) => {
            let view = ErrorView::from_api(&error, ui.lang, &[], "");
            let status =
                if view.status.is_server_error() { view.status } else { StatusCode::BAD_GATEWAY };
            respond(status, &SuggestError { error: view.message })
        }
    }
}

fn respond<T: Serialize>(status: StatusCode, body: &T) -> Response {
    let mut response = (status, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=60"));
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept-Language, Cookie"));
    response
}
