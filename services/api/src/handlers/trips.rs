//! `GET /v1/trips/{id}?date=`: one run of a trip (the route engine's answer) with the alerts
//! active during it on its route, its agency or any station it calls at, as journey legs
//! carry them.

use axum::Json;
use axum::extract::State;
use http::HeaderMap;
use norikae_runtime::{Path, Problem, Query};
use norikae_wire::ProblemBody;
use norikae_wire::route as route_wire;
use norikae_wire::v1::AlertedTrip;

use super::stations::parse_utc;
use crate::alerts::StoredAlert;
use crate::lang;
use crate::state::AppState;
use crate::support::request_id;
use crate::upstream::Engine;

#[utoipa::path(
    get, path = "/v1/trips/{id}", tag = "trips",
    summary = "One run of a trip: its stops, times, geometry and alerts",
    description = "The `trip_id` and `service_date` of a journey's transit leg or of a \
                   departure name a run. Without `date`, today's run (in the network's time zone).",
    params(
        ("id" = String, Path, description = "Trip id, `FEED:TRIP_ID`", example = "fukuoka:1_0_1_0510", min_length = 3, max_length = 256, pattern = r"^[^:]+:.+$"),
        route_wire::TripParams,
    ),
    responses(
        (status = 200, description = "The run", body = AlertedTrip, example = json!(super::examples::trip())),
        (status = 400, description = "Malformed trip id or date (`field` names it)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "Unknown trip (`unknown_trip`), or the trip does not run on that date (`trip_not_running`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 502, description = "Route engine failed", body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "Route engine unavailable", body = ProblemBody, content_type = "application/problem+json"),
        (status = 504, description = "Route engine too slow", body = ProblemBody, content_type = "application/problem+json"),
    ),
)]
pub async fn trip(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(mut params): Query<route_wire::TripParams>,
) -> Result<Json<AlertedTrip>, Problem> {
    params.lang = lang::resolve(params.lang.as_deref(), &headers)?;
    let segment = norikae_runtime::path::encode_path_segment(&id).ok_or_else(|| {
        Problem::bad_request("invalid_parameter", format!("`{id}` is not a trip id"))
            .with_field("id")
    })?;
    let trip: route_wire::TripResponse = state
        .upstream
        .get_json(Engine::Route, &format!("/trips/{segment}"), &params, request_id(&headers))
        .await?;
    let alerts = state.alerts.current();
    Ok(Json(attach_trip_alerts(trip, &alerts, params.lang.as_deref())))
}

/// The alerts on the trip's route or agency, or on a station of one of its stops, active
/// between its first departure and its last arrival.
pub fn attach_trip_alerts(
    trip: route_wire::TripResponse,
    alerts: &[StoredAlert],
    lang: Option<&str>,
) -> AlertedTrip {
    let times: Vec<_> = trip
        .stops
        .iter()
        .flat_map(|stop| stop.arrival.iter().chain(&stop.departure))
        .filter_map(|time| parse_utc(time))
        .collect();
    let now = chrono::Utc::now();
    let (start, end) =
        (times.iter().min().copied().unwrap_or(now), times.iter().max().copied().unwrap_or(now));
    let trip_alerts = alerts
        .iter()
        .filter(|alert| {
            alert.informs_route(&trip.route.id, &trip.route.agency_id)
                || trip.stops.iter().any(|stop| alert.informs_station(&stop.stop.station_id))
        })
        .filter(|alert| alert.active_during(start, end))
        .map(|alert| alert.render(lang))
        .collect();
    AlertedTrip { trip, alerts: trip_alerts }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::alerts::InformedEntity;
    use crate::alerts::tests::alert_about;

    fn stop(station_id: &str, arrival: Option<&str>, departure: Option<&str>) -> serde_json::Value {
        let mut stop = json!({
            "stop": {"id": format!("{station_id}_1"), "name": station_id, "station_id": station_id,
                     "lat": 33.59, "lon": 130.40},
            "station_name": station_id, "pickup": true, "drop_off": true,
        });
        if let Some(arrival) = arrival {
            stop["arrival"] = json!(arrival);
        }
        if let Some(departure) = departure {
            stop["departure"] = json!(departure);
        }
        stop
    }

    /// 天神 → 中洲川端 → 祇園 on the Kuko line.
    fn run() -> route_wire::TripResponse {
        serde_json::from_value(json!({
            "trip_id": "fukuoka:t1", "service_date": "2019-10-16", "headsign": "福岡空港",
            "route": {"id": "fukuoka:空港線", "short_name": "空港線", "long_name": "",
                      "mode": "subway", "agency_id": "fukuoka:agency", "agency_name": "福岡市地下鉄"},
            "wheelchair": "unknown",
            "stops": [stop("fukuoka:8", None, Some("2019-10-16T14:30:00+09:00")),
                      stop("fukuoka:9", Some("2019-10-16T14:32:00+09:00"), Some("2019-10-16T14:32:30+09:00")),
                      stop("fukuoka:10", Some("2019-10-16T14:34:00+09:00"), None)],
            "geometry": "",
        }))
        .expect("a route service trip")
    }

    #[test]
    fn alerts_on_the_route_its_agency_or_a_station_it_calls_at_are_attached() {
        let on_station =
            InformedEntity { station_id: Some("fukuoka:9".to_owned()), ..Default::default() };
        let on_agency =
            InformedEntity { agency_id: Some("fukuoka:agency".to_owned()), ..Default::default() };
        let elsewhere =
            InformedEntity { station_id: Some("fukuoka:99".to_owned()), ..Default::default() };
        let other_route =
            InformedEntity { route_id: Some("fukuoka:other".to_owned()), ..Default::default() };
        let alerts = [
            alert_about("station", on_station),
            alert_about("agency", on_agency),
            alert_about("elsewhere", elsewhere),
            alert_about("other-route", other_route),
        ];
        let trip = attach_trip_alerts(run(), &alerts, Some("en"));
        let ids: Vec<&str> = trip.alerts.iter().map(|alert| alert.id.as_str()).collect();
        assert_eq!(ids, ["station", "agency"]);
        let json = serde_json::to_value(&trip).expect("serialises");
        assert_eq!(json["trip_id"], "fukuoka:t1", "the engine's members, flattened: {json}");
        assert_eq!(json["alerts"][0]["header"], "Delays");
    }
}
