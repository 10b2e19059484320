//! `GET /stations`, `GET /stations/nearby`, `GET /stations/{id}`.
//!
//! Validation: an empty `q` is 400 naming `q`; `limit` outside 1..=50 is 400 naming `limit`
//! (not clamped: a client asking for more should learn it gets less); a `near` that is not
//! `lat,lon` within range is 400 naming `near`; `radius_m` outside (0, 5000] is 400 naming
//! `radius_m`; an unknown id is 404 `unknown_station`. Searches run off the async runtime.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use norikae_runtime::{Path, Problem, Query, run_blocking};
use norikae_wire::lang::LangParams;
use norikae_wire::search::{
    NearbyParams, NearbyResponse, SearchParams, SearchResponse, StationDetail,
};

use crate::error::SearchError;
use crate::index::{MAX_LIMIT, SearchRequest};
use crate::state::AppState;

/// Results when `limit` is not given.
const DEFAULT_LIMIT: usize = 10;
/// Radius of `nearby` when `radius_m` is not given, and the largest allowed.
const DEFAULT_RADIUS_M: f64 = 500.0;
const MAX_RADIUS_M: f64 = 5_000.0;
/// Language of names when `lang` is not given.
const DEFAULT_LANG: &str = "ja";
/// Longest query accepted, in characters.
const MAX_QUERY_CHARS: usize = 200;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/stations", get(search))
        .route("/stations/nearby", get(nearby))
        .route("/stations/{id}", get(station))
}

fn checked_limit(limit: Option<u32>) -> Result<usize, Problem> {
    let limit = limit.map_or(DEFAULT_LIMIT, |limit| limit as usize);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(Problem::bad_request(
            "invalid_parameter",
            format!("limit must be between 1 and {MAX_LIMIT}"),
        )
        .with_field("limit"));
    }
    Ok(limit)
}

fn checked_coordinate(lat: f64, lon: f64) -> bool {
    lat.is_finite()
        && lon.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon)
}

/// Parses `near=lat,lon`.
pub fn parse_near(text: &str) -> Result<(f64, f64), Problem> {
    let invalid = || {
        Problem::bad_request("invalid_parameter", "near must be `lat,lon` in decimal degrees")
            .with_field("near")
    };
    let (lat, lon) = text.split_once(',').ok_or_else(invalid)?;
    let lat: f64 = lat.trim().parse().map_err(|_| invalid())?;
    let lon: f64 = lon.trim().parse().map_err(|_| invalid())?;
    if !checked_coordinate(lat, lon) {
        return Err(invalid());
    }
    Ok((lat, lon))
}

fn empty_query() -> Problem {
    Problem::bad_request("empty_query", "q must contain a letter or a digit").with_field("q")
}

async fn search(
    State(state): State<AppState>,
    Query(params): Query<SearchParams>,
) -> Result<Json<SearchResponse>, Problem> {
    let text = params.q.unwrap_or_default();
    if text.trim().is_empty() {
        return Err(empty_query());
    }
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(Problem::bad_request(
            "invalid_parameter",
            format!("q is longer than {MAX_QUERY_CHARS} characters"),
        )
        .with_field("q"));
    }
    let limit = checked_limit(params.limit)?;
    let near = params.near.as_deref().map(parse_near).transpose()?;
    let lang = params.lang.unwrap_or_else(|| DEFAULT_LANG.to_owned());
    let index = state.index()?;
    run_blocking(move || {
        let hits = match index.search(SearchRequest { text: &text, limit, near }) {
            Ok(hits) => hits,
            Err(SearchError::EmptyQuery) => return Err(empty_query()),
            Err(error) => return Err(Problem::internal(error)),
        };
        let results = hits
            .iter()
            .filter_map(|hit| {
                index.to_wire(hit.station, &lang, Some(hit.match_kind), hit.distance_m)
            })
            .collect();
        Ok(Json(SearchResponse { query: text, results }))
    })
    .await?
}

async fn nearby(
    State(state): State<AppState>,
    Query(params): Query<NearbyParams>,
) -> Result<Json<NearbyResponse>, Problem> {
    if !(-90.0..=90.0).contains(&params.lat) {
        return Err(Problem::bad_request("invalid_parameter", "lat must be between -90 and 90")
            .with_field("lat"));
    }
    if !(-180.0..=180.0).contains(&params.lon) {
        return Err(Problem::bad_request("invalid_parameter", "lon must be between -180 and 180")
            .with_field("lon"));
    }
    let radius_m = params.radius_m.unwrap_or(DEFAULT_RADIUS_M);
    if !(radius_m > 0.0 && radius_m <= MAX_RADIUS_M) {
        return Err(Problem::bad_request(
            "invalid_parameter",
            format!("radius_m must be in (0, {MAX_RADIUS_M}]"),
        )
        .with_field("radius_m"));
    }
    let limit = checked_limit(params.limit)?;
    let lang = params.lang.unwrap_or_else(|| DEFAULT_LANG.to_owned());
    let index = state.index()?;
    run_blocking(move || {
        let results = index
            .nearby(params.lat, params.lon, radius_m, limit)
            .into_iter()
            .filter_map(|(station, distance)| index.to_wire(station, &lang, None, Some(distance)))
            .collect();
        Json(NearbyResponse { results })
    })
    .await
}

async fn station(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<LangParams>,
) -> Result<Json<StationDetail>, Problem> {
    let index = state.index()?;
    let lang = params.lang.unwrap_or_else(|| DEFAULT_LANG.to_owned());
    let not_found =
        || Problem::not_found("unknown_station", format!("no station or stop has the id `{id}`"));
    let position = index.resolve(&id).map_err(|_| not_found())?;
    let station = index.to_wire(position, &lang, None, None).ok_or_else(not_found)?;
    let stops =
        index.station(position).map(|indexed| indexed.record.stop_ids.clone()).unwrap_or_default();
    Ok(Json(StationDetail { station, stops }))
}
