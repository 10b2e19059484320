//! `GET /status`: the timetable this service answers from: its content hash, feeds with
//! their service dates, counts, and when it was loaded (as `norikae_wire::route::StatusResponse`).
//! The api service polls it to show `/v1/status` and to record each activated timetable
//! version.

use axum::Json;
use axum::extract::State;
use norikae_runtime::Problem;
use std::sync::atomic::Ordering::Relaxed;

use norikae_wire::route::{
    FeedStatus, RealtimeSourceStatus, RealtimeStatus, StatusResponse, TripBasedStatus,
};

use crate::AppState;

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
        realtime: realtime_status(&state),
    }))
}

fn realtime_status(state: &AppState) -> RealtimeStatus {
    let realtime = &state.realtime().realtime;
    let overlay = realtime.overlay();
    let counters = &realtime.counters;
    let rfc3339 = |secs: i64| {
        chrono::DateTime::from_timestamp(secs, 0)
            .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    };
    let stats = overlay.stats;
    RealtimeStatus {
        sources: realtime
            .sources()
            .into_iter()
            .map(|source| RealtimeSourceStatus {
                source: source.source,
                feed: source.feed,
                entities: source.entities as u64,
                incremental: source.incremental,
                last_applied: source.last_applied.and_then(rfc3339),
            })
            .collect(),
        built_at: (overlay.built_at > 0).then(|| rfc3339(overlay.built_at)).flatten(),
        trips_updated: stats.trips_updated,
        trips_cancelled: stats.trips_cancelled,
        trips_added: stats.trips_added,
        added_unsearched: stats.added_unsearched,
        alerts: stats.alerts,
        vehicles: stats.vehicles,
        unknown_trips: stats.unknown_trips,
        unknown_stops: stats.unknown_stops,
        times_clamped: stats.times_clamped,
        messages_applied: counters.messages_applied.load(Relaxed),
        messages_refused: counters.messages_malformed.load(Relaxed)
            + counters.messages_too_large.load(Relaxed)
            + counters.messages_unknown_feed.load(Relaxed),
    }
}
