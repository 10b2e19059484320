//! `GET /v1/status`: the timetable the route engine answers from, and the recent versions.

use axum::Json;
use axum::extract::State;
use norikae_runtime::Problem;
use norikae_wire::ProblemBody;
use norikae_wire::v1::{ApiStatus, FeedDates, TimetableStatus};

use crate::state::AppState;

#[utoipa::path(
    get, path = "/v1/status", tag = "status",
    summary = "The active timetable and its recent versions",
    responses(
        (status = 200, description = "Status", body = ApiStatus, example = json!(super::examples::status())),
        (status = 503, description = "Route engine unavailable", body = ProblemBody, content_type = "application/problem+json"),
    ),
)]
pub async fn status(State(state): State<AppState>) -> Result<Json<ApiStatus>, Problem> {
    let mut snapshot = state.versions.snapshot();
    if snapshot.current.is_none() {
        // Not polled successfully yet: ask now (the answer is kept even without a database).
        let _ = state.versions.poll().await;
        snapshot = state.versions.snapshot();
    }
    let Some(current) = snapshot.current else {
        return Err(Problem::unavailable(
            "upstream_unavailable",
            "the route engine has not reported its timetable yet; retry shortly",
            2,
        ));
    };
    // Only a version recorded for this very hash says when it became active.
    let activated_at = snapshot
        .versions
        .iter()
        .find(|version| version.hash == current.hash)
        .map(|version| version.activated_at.clone());
    let feeds = current.feeds.iter().map(FeedDates::from).collect();
    Ok(Json(ApiStatus {
        timetable: TimetableStatus {
            hash: current.hash,
            feeds,
            stations: current.stations,
            stops: current.stops,
            routes: current.routes,
            trips: current.trips,
            loaded_at: current.loaded_at,
            activated_at,
        },
        versions: snapshot.versions,
    }))
}
