//! `GET /v1/journeys`: the route engine's journeys, each transit leg with the alerts active
//! during it on its route, its agency, or its boarding or alighting station, and their union
//! for a banner.

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use http::HeaderMap;
use norikae_route::wire as route_wire;
use norikae_runtime::{Problem, Query};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::stations::parse_utc;
use crate::alerts::{Alert, StoredAlert};
use crate::lang;
use crate::state::AppState;
use crate::support::{ProblemDoc, request_id};
use crate::upstream::Engine;

/// A ride, with the alerts active during it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = AlertedTransitLeg)]
pub struct TransitLeg {
    #[serde(flatten)]
    pub leg: route_wire::TransitLeg,
    pub alerts: Vec<Alert>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[schema(as = AlertedLeg)]
#[allow(clippy::large_enum_variant)] // plain wire data, built once per answer
pub enum Leg {
    Transit(TransitLeg),
    Walk(route_wire::WalkLeg),
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = AlertedJourney)]
pub struct Journey {
    pub departure: String,
    pub arrival: String,
    pub duration_secs: i64,
    pub transfers: u32,
    pub legs: Vec<Leg>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fare: Option<route_wire::Fare>,
}

/// `GET /v1/journeys` answer.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = JourneyPage)]
pub struct JourneysResponse {
    pub journeys: Vec<Journey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<route_wire::Window>,
    /// Pass as `cursor` for the journeys leaving just before these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earlier: Option<String>,
    /// Pass as `cursor` for the journeys leaving just after these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub later: Option<String>,
    /// Every alert on any leg, once (for a banner).
    pub alerts: Vec<Alert>,
}

#[utoipa::path(
    get, path = "/v1/journeys", tag = "journeys",
    summary = "Journeys between two places",
    params(route_wire::JourneysParams),
    responses(
        (status = 200, description = "Journeys, earliest departure first", body = JourneysResponse),
        (status = 400, description = "Invalid parameter or date outside the timetable", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Unknown station", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 502, description = "Route engine failed", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, description = "Route engine unavailable", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 504, description = "Route engine too slow", body = ProblemDoc, content_type = "application/problem+json"),
    ),
)]
pub async fn journeys(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(mut params): Query<route_wire::JourneysParams>,
) -> Result<Json<JourneysResponse>, Problem> {
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
) -> JourneysResponse {
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
                    route_wire::Leg::Walk(walk) => Leg::Walk(walk),
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
                        Leg::Transit(TransitLeg { leg: ride, alerts: leg_alerts })
                    }
                })
                .collect();
            Journey {
                departure: journey.departure,
                arrival: journey.arrival,
                duration_secs: journey.duration_secs,
                transfers: journey.transfers,
                legs,
                fare: journey.fare,
            }
        })
        .collect();
    JourneysResponse {
        journeys,
        window: page.window,
        earlier: page.earlier,
        later: page.later,
        alerts: banner,
    }
}
