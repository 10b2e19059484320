//! `GET /v1/journeys`: the route engine's journeys, each transit leg with the alerts active
//! during it on its route, its agency, or its boarding or alighting station, and their union
//! for a banner. Walk legs carry no alerts, so a journey on foot only has none.

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use http::HeaderMap;
use norikae_runtime::{Problem, Query};
use norikae_wire::ProblemBody;
use norikae_wire::route as route_wire;
use norikae_wire::v1::{AlertedJourney, AlertedLeg, AlertedTransitLeg, JourneyPage};

use super::stations::parse_utc;
use crate::alerts::{Alert, StoredAlert};
use crate::lang;
use crate::state::AppState;
use crate::support::request_id;
use crate::upstream::Engine;

#[utoipa::path(
    get, path = "/v1/journeys", tag = "journeys",
    summary = "Journeys between two places",
    params(route_wire::JourneysParams),
    responses(
        (status = 200, description = "Journeys, earliest departure first", body = JourneyPage, example = json!(super::examples::journeys())),
        (status = 400, description = "Invalid parameter or date outside the timetable", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "Unknown station", body = ProblemBody, content_type = "application/problem+json"),
        (status = 502, description = "Route engine failed", body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "Route engine unavailable", body = ProblemBody, content_type = "application/problem+json"),
        (status = 504, description = "Route engine too slow", body = ProblemBody, content_type = "application/problem+json"),
    ),
)]
pub async fn journeys(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(mut params): Query<route_wire::JourneysParams>,
) -> Result<Json<JourneyPage>, Problem> {
    params.lang = lang::resolve(params.lang.as_deref(), &headers)?;
    let lang = params.lang.clone();
    let page: route_wire::JourneysResponse =
        state.upstream.get_json(Engine::Route, "/journeys", &params, request_id(&headers)).await?;
    let alerts = state.alerts.current();
    Ok(Json(attach_journey_alerts(page, &alerts, lang.as_deref())))
}

/// Whether `alert` concerns this ride: its route, its agency, or its boarding or alighting
/// station, at some moment between boarding and alighting.
fn concerns(alert: &StoredAlert, leg: &route_wire::TransitLeg) -> bool {
    let informs = alert.informs_route(&leg.route.id, &leg.route.agency_id)
        || alert.informs_station(&leg.from.station_id)
        || alert.informs_station(&leg.to.station_id);
    if !informs {
        return false;
    }
    match (parse_utc(&leg.departure), parse_utc(&leg.arrival)) {
        (Some(departure), Some(arrival)) => alert.active_during(departure, arrival),
        _ => alert.active_at(chrono::Utc::now()),
    }
}

pub fn attach_journey_alerts(
    page: route_wire::JourneysResponse,
    alerts: &[StoredAlert],
    lang: Option<&str>,
) -> JourneyPage {
    let mut banner = Vec::new();
    let mut seen = HashSet::new();
    let journeys = page
        .journeys
        .into_iter()
        .map(|journey| {
            let legs = journey
                .legs
                .into_iter()
                .map(|leg| match leg {
                    route_wire::Leg::Walk(walk) => AlertedLeg::Walk(walk),
                    route_wire::Leg::Transit(ride) => {
                        let leg_alerts: Vec<Alert> = alerts
                            .iter()
                            .filter(|alert| concerns(alert, &ride))
                            .map(|alert| alert.render(lang))
                            .collect();
                        for alert in &leg_alerts {
                            if seen.insert(alert.id.clone()) {
                                banner.push(alert.clone());
                            }
                        }
                        AlertedLeg::Transit(AlertedTransitLeg { leg: ride, alerts: leg_alerts })
                    }
                })
                .collect();
            AlertedJourney {
                departure: journey.departure,
                arrival: journey.arrival,
                duration_secs: journey.duration_secs,
                vehicles: Some(journey.vehicles),
                transfers: journey.transfers,
                legs,
                fare: journey.fare,
            }
        })
        .collect();
    JourneyPage {
        journeys,
        window: page.window,
        earlier: page.earlier,
        later: page.later,
        alerts: banner,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::alerts::InformedEntity;
    use crate::alerts::tests::alert_about;

    fn stop(station_id: &str, name: &str) -> Value {
        json!({"id": format!("{station_id}_1"), "name": name, "station_id": station_id,
               "lat": 33.59, "lon": 130.40})
    }

    /// A walk's end at a stop (`kind` tags the place).
    fn stop_place(station_id: &str, name: &str) -> Value {
        let mut place = stop(station_id, name);
        place["kind"] = json!("stop");
        place
    }

    /// 天神南 → 天神 on foot (the route service's answer of issue 23's query).
    fn on_foot() -> Value {
        json!({
            "departure": "2019-10-16T14:23:58+09:00", "arrival": "2019-10-16T14:31:58+09:00",
            "duration_secs": 480, "vehicles": 0, "transfers": 0,
            "legs": [{"type": "walk",
                      "from": stop_place("fukuoka:35", "天神南"), "to": stop_place("fukuoka:8", "天神"),
                      "departure": "2019-10-16T14:23:58+09:00", "arrival": "2019-10-16T14:31:58+09:00",
                      "duration_secs": 480, "distance_m": 506}]
        })
    }

    /// 天神 → 中洲川端, one ride on the Kuko line.
    fn one_ride() -> Value {
        json!({
            "departure": "2019-10-16T14:30:00+09:00", "arrival": "2019-10-16T14:32:00+09:00",
            "duration_secs": 120, "vehicles": 1, "transfers": 0,
            "legs": [{"type": "transit", "trip_id": "fukuoka:t1", "headsign": "福岡空港",
                      "route": {"id": "fukuoka:空港線", "short_name": "空港線", "long_name": "",
                                "mode": "subway", "agency_id": "fukuoka:3000020401307_0",
                                "agency_name": "福岡市地下鉄"},
                      "service_date": "2019-10-16",
                      "from": stop("fukuoka:8", "天神"), "to": stop("fukuoka:9", "中洲川端"),
                      "departure": "2019-10-16T14:30:00+09:00", "arrival": "2019-10-16T14:32:00+09:00",
                      "duration_secs": 120,
                      "stops": [{"stop": stop("fukuoka:8", "天神")}, {"stop": stop("fukuoka:9", "中洲川端")}]}],
            "fare": {"total": 210.0, "currency": "JPY",
                     "parts": [{"fare_id": "fukuoka:1", "price": 210.0, "rides": [0]}]}
        })
    }

    fn route_page(journeys: Vec<Value>) -> route_wire::JourneysResponse {
        serde_json::from_value(json!({ "journeys": journeys })).expect("a route service page")
    }

    /// An alert on 天神 station, where the walk ends and the ride starts.
    fn tenjin_alert() -> StoredAlert {
        let tenjin =
            InformedEntity { station_id: Some("fukuoka:8".to_owned()), ..Default::default() };
        alert_about("tenjin", tenjin)
    }

    #[test]
    fn a_journey_on_foot_passes_through_without_alerts_or_fare() {
        let page = attach_journey_alerts(route_page(vec![on_foot()]), &[tenjin_alert()], None);
        let [journey] = page.journeys.as_slice() else { panic!("one journey: {page:?}") };
        assert_eq!((journey.vehicles(), journey.transfers), (0, 0));
        assert!(journey.fare.is_none());
        let [AlertedLeg::Walk(walk)] = journey.legs.as_slice() else {
            panic!("one walk: {journey:?}")
        };
        assert_eq!((walk.duration_secs, walk.distance_m), (480, 506));
        assert!(page.alerts.is_empty(), "no ride, no banner: {:?}", page.alerts);

        let json = serde_json::to_value(&page).expect("a page serialises");
        let journey = &json["journeys"][0];
        assert_eq!(journey.get("fare"), None, "no fare member, not 0 nor null: {journey}");
        assert_eq!(journey["vehicles"], 0);
        assert_eq!(journey["legs"][0]["type"], "walk");
        assert_eq!(journey["legs"][0].get("alerts"), None, "walk legs carry no alerts");
    }

    #[test]
    fn rides_next_to_a_journey_on_foot_keep_their_alerts() {
        let journeys = vec![on_foot(), one_ride()];
        let page = attach_journey_alerts(route_page(journeys), &[tenjin_alert()], Some("en"));
        let counts: Vec<(u32, u32)> =
            page.journeys.iter().map(|journey| (journey.vehicles(), journey.transfers)).collect();
        assert_eq!(counts, [(0, 0), (1, 0)]);
        let AlertedLeg::Transit(ride) = &page.journeys[1].legs[0] else {
            panic!("a ride: {page:?}")
        };
        let ids: Vec<&str> = ride.alerts.iter().map(|alert| alert.id.as_str()).collect();
        assert_eq!(ids, ["tenjin"], "the ride boards at 天神");
        assert_eq!(page.alerts.len(), 1, "the banner lists it once");
        assert!(page.journeys[1].fare.is_some());
    }

    #[test]
    fn a_page_with_a_journey_on_foot_matches_the_openapi_document() {
        let document = serde_json::to_value(crate::handlers::openapi()).expect("document");
        let journey_schema = &document["components"]["schemas"]["AlertedJourney"];
        let required = journey_schema["required"].as_array().expect("required members");
        assert!(required.contains(&json!("vehicles")), "{journey_schema}");
        assert!(!required.contains(&json!("fare")), "{journey_schema}");
        let described = journey_schema["properties"]["vehicles"]["description"].as_str();
        assert!(described.is_some_and(|text| text.contains("on foot")), "{journey_schema}");

        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": document["components"],
            "allOf": [{"$ref": "#/components/schemas/JourneyPage"}],
        });
        let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
        let journeys = vec![on_foot(), one_ride()];
        let page = attach_journey_alerts(route_page(journeys), &[tenjin_alert()], None);
        let body = serde_json::to_value(&page).expect("a page serialises");
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|error| format!("{error} at {}", error.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}\n{body}");
        // Without `vehicles` a journey does not match: clients can rely on it.
        let mut without = body.clone();
        without["journeys"][0].as_object_mut().expect("a journey").remove("vehicles");
        assert!(!validator.is_valid(&without), "vehicles is required");
    }
}
