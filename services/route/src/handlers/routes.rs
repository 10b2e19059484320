//! `GET /routes?agency=&mode=&station=&limit=&offset=&lang=`: the lines, filtered and paged;
//! `GET /routes/{id}?lang=`: one line with its directions and their stops in order.

use axum::Json;
use axum::extract::State;
use norikae_runtime::{Path, Problem, Query};
use norikae_timetable::Mode;
use norikae_wire::lang::LangParams;
use norikae_wire::route as wire;

use super::{resolve_route, resolve_station};
use crate::AppState;
use crate::engine::lines::RouteFilter;
use crate::error::Error;
use crate::render::Render;

/// Lines per page unless `limit` says otherwise.
const DEFAULT_LIMIT: u32 = 100;
/// Largest `limit` accepted.
const MAX_LIMIT: u32 = 500;
/// The largest `offset` (as the document says): far past any feed's number of lines.
const MAX_OFFSET: u32 = 1_000_000;

pub async fn list(
    State(state): State<AppState>,
    Query(params): Query<wire::RoutesParams>,
) -> Result<Json<wire::RoutesResponse>, Problem> {
    let response = state
        .query(move |engine, _scratch| {
            let tt = &**engine.timetable();
            let agency = params
                .agency
                .as_deref()
                .map(|id| {
                    tt.agency_by_id(id.trim()).ok_or_else(|| Error::InvalidParameter {
                        field: "agency",
                        reason: format!("unknown agency `{id}`"),
                    })
                })
                .transpose()?;
            let mode = params
                .mode
                .as_deref()
                .map(|name| {
                    Mode::parse(name.trim()).ok_or_else(|| Error::InvalidParameter {
                        field: "mode",
                        reason: format!("`{name}` is not a mode like bus, subway or rail"),
                    })
                })
                .transpose()?;
            let station = params
                .station
                .as_deref()
                .map(|id| resolve_station(tt, id.trim(), "station"))
                .transpose()?;
            let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
            if !(1..=MAX_LIMIT).contains(&limit) {
                return Err(Error::InvalidParameter {
                    field: "limit",
                    reason: format!("must be between 1 and {MAX_LIMIT}"),
                });
            }
            let offset = params.offset.unwrap_or(0);
            if offset > MAX_OFFSET {
                return Err(Error::InvalidParameter {
                    field: "offset",
                    reason: format!("must be between 0 and {MAX_OFFSET}"),
                });
            }
            let routes = engine.routes(&RouteFilter { agency, mode, station });
            let total = u32::try_from(routes.len()).unwrap_or(u32::MAX);
            let render = Render { lang: params.lang };
            let page: Vec<wire::RouteInfo> = routes
                .iter()
                .skip(offset as usize)
                .take(limit as usize)
                .map(|route| render.route(tt, *route))
                .collect();
            let end = offset.saturating_add(limit);
            Ok(wire::RoutesResponse {
                routes: page,
                total,
                next_offset: (end < total).then_some(end),
            })
        })
        .await?;
    Ok(Json(response))
}

pub async fn detail(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<LangParams>,
) -> Result<Json<wire::RouteDetail>, Problem> {
    let response = state
        .query(move |engine, _scratch| {
            let tt = &**engine.timetable();
            let route = resolve_route(tt, &id, "id")?;
            let render = Render { lang: params.lang };
            let data = &tt.routes[route.idx()];
            let directions = engine
                .route_directions(route)
                .into_iter()
                .map(|direction| wire::RouteDirection {
                    direction_id: direction.direction_id,
                    headsigns: direction
                        .headsign_trips
                        .iter()
                        .map(|trip| render.headsign(engine, *trip))
                        .collect(),
                    trips: u32::try_from(direction.trips).unwrap_or(u32::MAX),
                    patterns: u32::try_from(direction.patterns).unwrap_or(u32::MAX),
                    stops_from: "most_trips".to_owned(),
                    stops_trips: u32::try_from(direction.main_pattern_trips).unwrap_or(u32::MAX),
                    stops: direction.stops.iter().map(|stop| render.stop(tt, *stop)).collect(),
                })
                .collect();
            Ok(wire::RouteDetail {
                route: render.route(tt, route),
                description: data.desc.clone(),
                url: data.url.clone(),
                directions,
            })
        })
        .await?;
    Ok(Json(response))
}
