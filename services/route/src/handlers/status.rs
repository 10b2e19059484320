//! `GET /status`: the timetable this service answers from: its content hash, feeds with
//! their service dates, counts, and when it was loaded. The api service polls it to show
//! `/v1/status` and to record each activated timetable version.

use axum::Json;
use axum::extract::State;
use norikae_runtime::Problem;
use serde::{Deserialize, Serialize};

use crate::AppState;

/// `GET /status` answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatusResponse {
    /// Hex content hash of the snapshot: changes whenever the timetable does.
    pub hash: String,
    pub feeds: Vec<FeedStatus>,
    pub agencies: u64,
    pub stations: u64,
    pub stops: u64,
    pub routes: u64,
    pub trips: u64,
    /// When the snapshot was imported (RFC 3339, UTC).
    pub created_at: String,
    /// When this service started answering from it (RFC 3339, UTC).
    pub loaded_at: String,
    /// The network's IANA time zone.
    pub timezone: String,
    /// Trip-Based routing's state (absent from older services).
    #[serde(default)]
    pub trip_based: TripBasedStatus,
}

/// Which service days depart-at and range searches answer by Trip-Based routing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TripBasedStatus {
    /// Service days whose transfers are built (`YYYY-MM-DD`): a search on a date uses them
    /// when the days before, of and after it are here.
    pub days: Vec<String>,
    /// Searches answered by Trip-Based routing since the snapshot was loaded.
    pub searches: u64,
}

/// One feed of the timetable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FeedStatus {
    /// The namespace of the feed's ids (`fukuoka` in `fukuoka:8`).
    pub name: String,
    /// First and last day any service of the feed runs (`YYYY-MM-DD`).
    pub start_date: String,
    pub end_date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
}

pub async fn status(State(state): State<AppState>) -> Result<Json<StatusResponse>, Problem> {
    let engine = state.engine().map_err(super::problem)?;
    let timetable = engine.timetable();
    let loaded_at = state.loaded_at().unwrap_or_else(chrono::Utc::now);
    let feeds = timetable
        .feeds
        .iter()
        .map(|feed| FeedStatus {
            name: feed.name.clone(),
            start_date: feed.first_date.to_string(),
            end_date: feed.last_date.to_string(),
            version: feed.version.clone(),
            publisher: feed.publisher_name.clone(),
        })
        .collect();
    Ok(Json(StatusResponse {
        hash: timetable.meta.content_hash.clone(),
        feeds,
        agencies: timetable.agencies.len() as u64,
        stations: timetable.stations.len() as u64,
        stops: timetable.stops.len() as u64,
        routes: timetable.routes.len() as u64,
        trips: timetable.trips.len() as u64,
        created_at: timetable.meta.created_at.clone(),
        loaded_at: loaded_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        timezone: timetable.meta.timezone.clone(),
        trip_based: TripBasedStatus {
            days: engine.trip_based_dates().iter().map(ToString::to_string).collect(),
            searches: engine.trip_based_searches(),
        },
    }))
}
