//! `GET /stations/{id}/departures?date=&time=&limit=&lang=`: the next departures from a
//! station, grouped by line and direction.

use axum::Json;
use axum::extract::State;
use norikae_runtime::{Path, Problem, Query};
use norikae_wire::route::{self as wire, DeparturesParams};

use super::{parse_date, parse_time, resolve_station};
use crate::AppState;
use crate::error::Error;
use crate::render::Render;

/// Largest `limit` accepted.
const MAX_LIMIT: usize = 50;

pub async fn departures(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<DeparturesParams>,
) -> Result<Json<wire::DeparturesResponse>, Problem> {
    let default_limit = state.settings().default_departures_limit;
    let overlay = state.realtime().realtime.overlay();
    let response = state
        .query(move |engine, _scratch| {
            let tt = &**engine.timetable();
            let station = resolve_station(tt, &id, "id")?;
            let date = parse_date(tt, params.date.as_deref())?;
            let time = parse_time(tt, params.time.as_deref())?;
            let limit = params.limit.map_or(default_limit, |limit| limit as usize);
            if limit == 0 || limit > MAX_LIMIT {
                return Err(Error::InvalidParameter {
                    field: "limit",
                    reason: format!("must be between 1 and {MAX_LIMIT}"),
                });
            }
            let groups = engine.departures_live(station, date, time, limit, &overlay)?;
            let render = Render { lang: params.lang };
            let station_data = &tt.stations[station.idx()];
            Ok(wire::DeparturesResponse {
                station_id: station_data.id.clone(),
                station_name: match &render.lang {
                    Some(lang) => station_data.name.get(lang).to_owned(),
                    None => station_data.name.default.clone(),
                },
                groups: render.departure_groups(engine, &groups),
            })
        })
        .await?;
    Ok(Json(response))
}
