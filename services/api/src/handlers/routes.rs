//! `GET /v1/routes` (the lines, filtered and paged) and `GET /v1/routes/{id}` (one line with
//! its directions and their stops in order): the route engine's answers, with ETag and
//! Cache-Control like the station data (they change with the timetable only).

use axum::extract::State;
use axum::response::Response;
use http::HeaderMap;
use norikae_runtime::{Path, Problem, Query};
use norikae_wire::ProblemBody;
use norikae_wire::lang::LangParams;
use norikae_wire::route::{RouteDetail, RoutesParams, RoutesResponse};

use crate::lang;
use crate::state::AppState;
use crate::support::{cached_json, request_id};
use crate::upstream::Engine;

#[utoipa::path(
    get, path = "/v1/routes", tag = "routes",
    summary = "Lines, filtered by agency, mode or station, in pages",
    params(RoutesParams),
    responses(
        (status = 200, description = "One page of lines, in the feeds' order; `next_offset` names the next page", body = RoutesResponse, headers(("ETag" = String, description = "Weak validator (a hash of the data, whatever the encoding); send it back as If-None-Match"), ("Cache-Control" = String, description = "public, max-age=300")),
         example = json!({"routes": [{"id": "fukuoka:空港線", "short_name": "空港線", "long_name": "", "color": "F7931D",
                                     "mode": "subway", "agency_id": "fukuoka:3000020401307_0", "agency_name": "福岡市地下鉄"}],
                          "total": 1})),
        (status = 304, description = "Not modified (If-None-Match)", headers(("ETag" = String, description = "The ETag matched"))),
        (status = 400, description = "Invalid parameter (an unknown agency or mode, a limit out of range)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "Unknown station", body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "Route engine unavailable", body = ProblemBody, content_type = "application/problem+json"),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(mut params): Query<RoutesParams>,
) -> Result<Response, Problem> {
    params.lang = lang::resolve(params.lang.as_deref(), &headers)?;
    let answer: RoutesResponse =
        state.upstream.get_json(Engine::Route, "/routes", &params, request_id(&headers)).await?;
    Ok(cached_json(&headers, &answer))
}

#[utoipa::path(
    get, path = "/v1/routes/{id}", tag = "routes",
    summary = "One line: its directions, headsigns and stops in order",
    params(("id" = String, Path, description = "Line id, `FEED:ID`", example = "fukuoka:空港線", pattern = r"^[^:]+:.+$"), LangParams),
    responses(
        (status = 200, description = "The line", body = RouteDetail, headers(("ETag" = String, description = "Weak validator (a hash of the data, whatever the encoding); send it back as If-None-Match"), ("Cache-Control" = String, description = "public, max-age=300")), example = json!(super::examples::route_detail())),
        (status = 304, description = "Not modified (If-None-Match)", headers(("ETag" = String, description = "The ETag matched"))),
        (status = 404, description = "Unknown line", body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "Route engine unavailable", body = ProblemBody, content_type = "application/problem+json"),
    ),
)]
pub async fn detail(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(mut params): Query<LangParams>,
) -> Result<Response, Problem> {
    params.lang = lang::resolve(params.lang.as_deref(), &headers)?;
    let segment = norikae_runtime::path::encode_path_segment(&id).ok_or_else(|| {
        Problem::not_found("unknown_route", format!("no line has the id `{id}`")).with_field("id")
    })?;
    let answer: RouteDetail = state
        .upstream
        .get_json(Engine::Route, &format!("/routes/{segment}"), &params, request_id(&headers))
        .await?;
    Ok(cached_json(&headers, &answer))
}
