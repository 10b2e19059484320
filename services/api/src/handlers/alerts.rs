//! `GET /v1/alerts` and the admin endpoints that write alerts (`admin` scope).

use axum::Json;
use axum::extract::State;
use http::{HeaderMap, StatusCode};
use norikae_runtime::{Path, Problem, Query};
use norikae_wire::ProblemBody;
use norikae_wire::v1::AlertsResponse;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::alerts::{Alert, AlertPatch, NewAlert};
use crate::lang;
use crate::state::AppState;
use crate::support::JsonBody;

/// Most alerts `/v1/alerts?active=false` lists.
const MAX_LISTED: i64 = 500;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertsParams {
    /// Language of `header` and `description`; else `Accept-Language`.
    #[param(pattern = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$", example = "en")]
    pub lang: Option<String>,
    /// `true` (default): alerts in effect now, from memory (answers while the database is
    /// down); `false`: every alert, ended and future ones too, newest first (needs the
    /// database).
    pub active: Option<bool>,
}

#[utoipa::path(
    get, path = "/v1/alerts", tag = "alerts",
    summary = "Service alerts",
    params(AlertsParams),
    responses(
        (status = 200, description = "Alerts", body = AlertsResponse, example = json!(super::examples::alerts())),
        (status = 400, description = "Invalid parameter", body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable (active=false)", body = ProblemBody, content_type = "application/problem+json"),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<AlertsParams>,
) -> Result<Json<AlertsResponse>, Problem> {
    let lang = lang::resolve(params.lang.as_deref(), &headers)?;
    let alerts = if params.active.unwrap_or(true) {
        let now = chrono::Utc::now();
        state
            .alerts
            .current()
            .iter()
            .filter(|alert| alert.ended_at.is_none() && alert.active_at(now))
            .map(|alert| alert.render(lang.as_deref()))
            .collect()
    } else {
        state
            .alerts
            .all(MAX_LISTED)
            .await?
            .iter()
            .map(|alert| alert.render(lang.as_deref()))
            .collect()
    };
    Ok(Json(AlertsResponse { alerts }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminLangParams {
    /// Language of `header` and `description` in the answer.
    #[param(pattern = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$", example = "en")]
    pub lang: Option<String>,
}

#[utoipa::path(
    post, path = "/v1/admin/alerts", tag = "admin",
    summary = "Publish an alert",
    params(AdminLangParams),
    request_body = NewAlert,
    security(("api_key" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "The alert", body = Alert, example = json!(super::examples::alert())),
        (status = 400, description = "Invalid alert", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown key", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Key revoked or without the admin scope", body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = ProblemBody, content_type = "application/problem+json"),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<AdminLangParams>,
    JsonBody(new): JsonBody<NewAlert>,
) -> Result<(StatusCode, Json<Alert>), Problem> {
    let lang = lang::resolve(params.lang.as_deref(), &headers)?;
    let alert = state.alerts.create(new).await?;
    Ok((StatusCode::CREATED, Json(alert.render(lang.as_deref()))))
}

#[utoipa::path(
    patch, path = "/v1/admin/alerts/{id}", tag = "admin",
    summary = "Change an alert (the members given replace the alert's)",
    params(("id" = String, Path, description = "Alert id (32 hexadecimal digits, as the api issues them)", example = "0b6f4a8e2c3d4e5f8a9b0c1d2e3f4a5b", pattern = r"^[0-9a-f]{32}$"), AdminLangParams),
    request_body = AlertPatch,
    security(("api_key" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The alert", body = Alert, example = json!(super::examples::alert())),
        (status = 400, description = "Invalid alert", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "Unknown alert", body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = ProblemBody, content_type = "application/problem+json"),
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Query<AdminLangParams>,
    JsonBody(patch): JsonBody<AlertPatch>,
) -> Result<Json<Alert>, Problem> {
    let lang = lang::resolve(params.lang.as_deref(), &headers)?;
    let alert = state.alerts.update(&id, patch).await?;
    Ok(Json(alert.render(lang.as_deref())))
}

#[utoipa::path(
    post, path = "/v1/admin/alerts/{id}/end", tag = "admin",
    summary = "End an alert now",
    params(("id" = String, Path, description = "Alert id (32 hexadecimal digits, as the api issues them)", example = "0b6f4a8e2c3d4e5f8a9b0c1d2e3f4a5b", pattern = r"^[0-9a-f]{32}$"), AdminLangParams),
    security(("api_key" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The ended alert", body = Alert, example = json!(super::examples::alert())),
        (status = 404, description = "Unknown alert", body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = ProblemBody, content_type = "application/problem+json"),
    ),
)]
pub async fn end(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Query<AdminLangParams>,
) -> Result<Json<Alert>, Problem> {
    let lang = lang::resolve(params.lang.as_deref(), &headers)?;
    let alert = state.alerts.end(&id).await?;
    Ok(Json(alert.render(lang.as_deref())))
}
