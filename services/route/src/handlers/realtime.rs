//! `POST /realtime/{feed}`: a GTFS-Realtime message pushed by a producer (the body, as
//! protobuf) for the timetable's feed `feed`, applied as a polled one would be (source
//! `push:FEED`). It needs `Authorization: Bearer` with the configured
//! `realtime.push_token`; without one configured, pushing is refused. Like every endpoint of
//! the route service, it is reached only from inside (the engines listen on loopback or
//! behind the internal balancer); the token keeps other internal callers out too.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use norikae_runtime::Problem;
use norikae_wire::route::{self as wire, PushAnswer};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::realtime::IngestError;

pub async fn push(
    State(state): State<AppState>,
    Path(feed): Path<String>,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> Result<Json<PushAnswer>, Problem> {
    let Some(token) = state.realtime().settings.push_token.clone() else {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "push_disabled",
            "pushing realtime messages is not enabled (realtime.push_token is unset)",
        ));
    };
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    // Compared as hashes, so that the time taken says nothing about the token.
    if Sha256::digest(given.as_bytes()) != Sha256::digest(token.as_bytes()) {
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "`Authorization: Bearer` with the realtime push token is required",
        ));
    }
    let report =
        state.apply_realtime(format!("push:{feed}"), feed, body).await.map_err(|error| {
            let detail = error.to_string();
            match error {
                IngestError::NotLoaded => Problem::unavailable("not_ready", detail, 5),
                IngestError::Failed => Problem::internal(detail),
                IngestError::Realtime(error) => {
                    let status = match error {
                        norikae_realtime::Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                        norikae_realtime::Error::UnknownFeed { .. } => StatusCode::NOT_FOUND,
                        norikae_realtime::Error::Malformed(_)
                        | norikae_realtime::Error::MissingHeader => StatusCode::BAD_REQUEST,
                    };
                    Problem::new(status, error.code(), detail)
                }
            }
        })?;
    let stats = report.stats;
    Ok(Json(PushAnswer {
        upserted: report.upserted,
        deleted: report.deleted,
        incremental: report.incremental,
        build_micros: report.build_micros,
        trips_updated: stats.trips_updated,
        trips_cancelled: stats.trips_cancelled,
        trips_added: stats.trips_added,
        unknown_trips: stats.unknown_trips,
        unknown_stops: stats.unknown_stops,
        times_clamped: stats.times_clamped,
        alerts: stats.alerts,
    }))
}

/// `GET /realtime/alerts`: the ServiceAlerts of the current overlay.
pub async fn alerts(State(state): State<AppState>) -> Json<wire::RealtimeAlertsResponse> {
    let overlay = state.realtime().realtime.overlay();
    let alerts = overlay
        .alerts
        .iter()
        .map(|alert| {
            let mut languages: Vec<&str> = Vec::new();
            for (language, _) in alert.header.iter().chain(&alert.description) {
                if !languages.contains(&language.as_str()) {
                    languages.push(language);
                }
            }
            let text = |texts: &norikae_realtime::Translations, language: &str| {
                texts
                    .iter()
                    .find(|(tag, _)| tag == language)
                    .map(|(_, text)| text.clone())
                    .unwrap_or_default()
            };
            wire::RealtimeAlert {
                id: alert.id.clone(),
                cause: alert.cause.clone(),
                effect: alert.effect.clone(),
                url: alert.url.first().map(|(_, url)| url.clone()),
                translations: languages
                    .iter()
                    .map(|language| wire::RealtimeAlertText {
                        language: if language.is_empty() {
                            "und".to_owned()
                        } else {
                            (*language).to_owned()
                        },
                        header: text(&alert.header, language),
                        description: text(&alert.description, language),
                    })
                    .collect(),
                active_periods: alert.active.clone(),
                agency_ids: alert.agency_ids.clone(),
                route_ids: alert.route_ids.clone(),
                station_ids: alert.station_ids.clone(),
                trip_ids: alert.trip_ids.clone(),
            }
        })
        .collect();
    Json(wire::RealtimeAlertsResponse { alerts })
}
