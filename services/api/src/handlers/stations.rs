//! `GET /v1/stations`, `/v1/stations/nearby`, `/v1/stations/{id}` (the search engine's
//! answers, with ETag and Cache-Control) and `/v1/stations/{id}/departures` (the route
//! engine's board, with the alerts that affect it).

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use http::HeaderMap;
use norikae_runtime::{Path, Problem, Query};
use norikae_wire::ProblemBody;
use norikae_wire::lang::LangParams;
use norikae_wire::route::{self as route_wire, DeparturesParams};
use norikae_wire::search::{
    NearbyParams, NearbyResponse, SearchParams, SearchResponse, StationDetail,
};
use norikae_wire::v1::{AlertedDepartureGroup, DepartureBoard};

use crate::alerts::{Alert, StoredAlert};
use crate::lang;
use crate::state::AppState;
use crate::support::{cached_json, request_id};
use crate::upstream::Engine;

#[utoipa::path(
    get, path = "/v1/stations", tag = "stations",
    summary = "Station search as the user types",
    params(SearchParams),
    responses(
        (status = 200, description = "Matching stations, best first", body = SearchResponse, headers(("ETag" = String, description = "Weak validator (a hash of the data, whatever the encoding); send it back as If-None-Match"), ("Cache-Control" = String, description = "public, max-age=300")), example = json!(super::examples::station_search())),
        (status = 304, description = "Not modified (If-None-Match)", headers(("ETag" = String, description = "The ETag matched"))),
        (status = 400, description = "Invalid parameter", body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "Search engine unavailable", body = ProblemBody, content_type = "application/problem+json"),
    ),
)]
pub async fn search(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(mut params): Query<SearchParams>,
) -> Result<Response, Problem> {
    // The search engine reads a missing `q` as an empty one; the public api requires it.
    if params.q.is_none() {
        return Err(Problem::missing_parameter("q"));
    }
    params.lang = lang::resolve(params.lang.as_deref(), &headers)?;
    let answer: SearchResponse =
        state.upstream.get_json(Engine::Search, "/stations", &params, request_id(&headers)).await?;
    Ok(cached_json(&headers, &answer))
}

#[utoipa::path(
    get, path = "/v1/stations/nearby", tag = "stations",
    summary = "Stations near a point, nearest first",
    params(NearbyParams),
    responses(
        (status = 200, description = "Stations within the radius", body = NearbyResponse, headers(("ETag" = String, description = "Weak validator (a hash of the data, whatever the encoding); send it back as If-None-Match"), ("Cache-Control" = String, description = "public, max-age=300")), example = json!(super::examples::nearby())),
        (status = 304, description = "Not modified (If-None-Match)", headers(("ETag" = String, description = "The ETag matched"))),
        (status = 400, description = "Invalid parameter", body = ProblemBody, content_type = "application/problem+json"),
    ),
)]
pub async fn nearby(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(mut params): Query<NearbyParams>,
) -> Result<Response, Problem> {
    for (name, value) in [("lat", params.lat), ("lon", params.lon)] {
        if !value.is_finite() {
            return Err(Problem::bad_request(
                "invalid_parameter",
                format!("{name} must be a number"),
            )
            .with_field(name));
        }
    }
    params.lang = lang::resolve(params.lang.as_deref(), &headers)?;
    let answer: NearbyResponse = state
        .upstream
        .get_json(Engine::Search, "/stations/nearby", &params, request_id(&headers))
        .await?;
    Ok(cached_json(&headers, &answer))
}

#[utoipa::path(
    get, path = "/v1/stations/{id}", tag = "stations",
    summary = "One station and its stops",
    params(("id" = String, Path, description = "Station or stop id, `FEED:ID`", example = "fukuoka:8", pattern = r"^[^:]+:.+$"), LangParams),
    responses(
        (status = 200, description = "The station", body = StationDetail, headers(("ETag" = String, description = "Weak validator (a hash of the data, whatever the encoding); send it back as If-None-Match"), ("Cache-Control" = String, description = "public, max-age=300")), example = json!(super::examples::station())),
        (status = 304, description = "Not modified (If-None-Match)", headers(("ETag" = String, description = "The ETag matched"))),
        (status = 404, description = "Unknown station", body = ProblemBody, content_type = "application/problem+json"),
    ),
)]
pub async fn station(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(mut params): Query<LangParams>,
) -> Result<Response, Problem> {
    params.lang = lang::resolve(params.lang.as_deref(), &headers)?;
    let path = format!("/stations/{}", station_segment(&id)?);
    let answer: StationDetail =
        state.upstream.get_json(Engine::Search, &path, &params, request_id(&headers)).await?;
    Ok(cached_json(&headers, &answer))
}

#[utoipa::path(
    get, path = "/v1/stations/{id}/departures", tag = "stations",
    summary = "Next departures from a station, by line and direction",
    params(("id" = String, Path, description = "Station or stop id, `FEED:ID`", example = "fukuoka:8", pattern = r"^[^:]+:.+$"), DeparturesParams),
    responses(
        (status = 200, description = "The departure board", body = DepartureBoard, example = json!(super::examples::departures())),
        (status = 400, description = "Invalid parameter or date outside the timetable", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "Unknown station", body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "Route engine unavailable", body = ProblemBody, content_type = "application/problem+json"),
        (status = 504, description = "Route engine too slow", body = ProblemBody, content_type = "application/problem+json"),
    ),
)]
pub async fn departures(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(mut params): Query<DeparturesParams>,
) -> Result<Json<DepartureBoard>, Problem> {
    params.lang = lang::resolve(params.lang.as_deref(), &headers)?;
    let path = format!("/stations/{}/departures", station_segment(&id)?);
    let board: route_wire::DeparturesResponse =
        state.upstream.get_json(Engine::Route, &path, &params, request_id(&headers)).await?;
    let alerts = state.alerts.current();
    Ok(Json(attach_departure_alerts(board, &alerts, params.lang.as_deref())))
}

/// Group alerts: active during the group's departures and informing its route or agency.
/// Board alerts: active during the board's span (now when it is empty) and informing the
/// station, any of its routes or their agencies.
pub fn attach_departure_alerts(
    board: route_wire::DeparturesResponse,
    alerts: &[StoredAlert],
    lang: Option<&str>,
) -> DepartureBoard {
    let span =
        |times: &mut dyn Iterator<Item = &String>| -> Option<(DateTime<Utc>, DateTime<Utc>)> {
            let parsed: Vec<DateTime<Utc>> = times.filter_map(|time| parse_utc(time)).collect();
            Some((*parsed.iter().min()?, *parsed.iter().max()?))
        };
    let now = Utc::now();
    let board_span = span(
        &mut board.groups.iter().flat_map(|group| group.departures.iter().map(|d| &d.departure)),
    )
    .unwrap_or((now, now));
    let mut board_alerts: Vec<Alert> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for alert in alerts {
        let station_stops = board
            .groups
            .iter()
            .flat_map(|group| group.departures.iter().map(|d| &d.stop.station_id));
        let informs = alert.informs_station(&board.station_id)
            || station_stops.clone().any(|station| alert.informs_station(station))
            || board
                .groups
                .iter()
                .any(|group| alert.informs_route(&group.route.id, &group.route.agency_id));
        if informs
            && alert.active_during(board_span.0, board_span.1)
            && seen.insert(alert.id.clone())
        {
            board_alerts.push(alert.render(lang));
        }
    }
    let groups = board
        .groups
        .into_iter()
        .map(|group| {
            let group_span =
                span(&mut group.departures.iter().map(|departure| &departure.departure))
                    .unwrap_or((now, now));
            let group_alerts = alerts
                .iter()
                .filter(|alert| alert.informs_route(&group.route.id, &group.route.agency_id))
                .filter(|alert| alert.active_during(group_span.0, group_span.1))
                .map(|alert| alert.render(lang))
                .collect();
            AlertedDepartureGroup { group, alerts: group_alerts }
        })
        .collect();
    DepartureBoard {
        station_id: board.station_id,
        station_name: board.station_name,
        groups,
        alerts: board_alerts,
    }
}

pub fn parse_utc(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|time| time.with_timezone(&Utc))
}

/// A station id as one path segment of an engine URL, percent-encoded (ids hold `:` and may
/// hold anything else). `.` and `..` are no station's id and would climb the engine's path
/// (a URL parser removes dot segments however they are escaped): 404 without an engine call.
pub fn station_segment(id: &str) -> Result<String, Problem> {
    norikae_runtime::path::encode_path_segment(id).ok_or_else(|| {
        Problem::not_found("unknown_station", format!("no station or stop has the id `{id}`"))
    })
}

#[utoipa::path(
    get, path = "/v1/stations/{id}/timetable", tag = "stations",
    summary = "A line's timetable at a station for one service day (時刻表)",
    description = "Every departure of one line in one direction over the service day, by hour as \
                   Japanese timetables print them (hours 24, 25, … are past midnight), the day named \
                   from the calendar (weekday / Saturday / holiday: Sundays and Japanese national \
                   holidays), the departures those of the trips that run on that date. Headsigns \
                   other than the main one carry a marker.",
    params(("id" = String, Path, description = "Station or stop id, `FEED:ID`", example = "fukuoka:8", pattern = r"^[^:]+:.+$"), route_wire::TimetableParams),
    responses(
        (status = 200, description = "The timetable", body = route_wire::TimetableResponse, headers(("ETag" = String, description = "Weak validator (a hash of the data, whatever the encoding); send it back as If-None-Match"), ("Cache-Control" = String, description = "public, max-age=300")),
         example = json!({"station_id": "fukuoka:8", "station_name": "天神",
                          "route": {"id": "fukuoka:空港線", "short_name": "空港線", "long_name": "", "mode": "subway",
                                    "agency_id": "fukuoka:3000020401307_0", "agency_name": "福岡市地下鉄"},
                          "direction_id": 0, "date": "2019-06-05", "service_day": "weekday",
                          "headsign": "福岡空港", "markers": [{"marker": "貝", "headsign": "貝塚"}],
                          "hours": [{"hour": 5, "departures": [{"minute": 36, "headsign": "福岡空港",
                                     "trip_id": "fukuoka:空港線平日空港線平日福岡空港4", "departure": "2019-06-05T05:36:00+09:00"}]}],
                          "departures": 1})),
        (status = 304, description = "Not modified (If-None-Match)", headers(("ETag" = String, description = "The ETag matched"))),
        (status = 400, description = "Invalid parameter: no `route`, a line that does not leave the station, a `direction` it does not run (or none where it runs both), a date outside the timetable", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "Unknown station or line", body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "Route engine unavailable", body = ProblemBody, content_type = "application/problem+json"),
        (status = 504, description = "Route engine too slow", body = ProblemBody, content_type = "application/problem+json"),
    ),
)]
pub async fn timetable(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(mut params): Query<route_wire::TimetableParams>,
) -> Result<Response, Problem> {
    params.lang = lang::resolve(params.lang.as_deref(), &headers)?;
    let path = format!("/stations/{}/timetable", station_segment(&id)?);
    let answer: route_wire::TimetableResponse =
        state.upstream.get_json(Engine::Route, &path, &params, request_id(&headers)).await?;
    Ok(cached_json(&headers, &answer))
}
