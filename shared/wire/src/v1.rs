//! The public `/v1` shapes the api builds from the engines' answers and the app reads:
//! journeys and departure boards with the service alerts on them, the alerts themselves (and
//! the admin bodies that write them), and the status of the timetable. (`/v1/stations…`
//! answer the search engine's own shapes, [`crate::search`].)
//!
//! Where these differ from the engine's shape ([`crate::route`]), they say how: an alerted
//! leg is the engine's leg (flattened) plus `alerts`; a journey page adds the banner's
//! `alerts`. The doc comments are the descriptions in the api's OpenAPI document.
//!
//! Readers are tolerant where the api changed or may change under a running app (a rolling
//! deploy puts a new app in front of an old api, and back): the members marked
//! `#[serde(default)]` below read as empty when missing, while the document still marks them
//! required (`#[schema(required = true)]`), which is what the api promises.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::route;

/// GTFS-Realtime `Alert.Cause`, snake_case.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    #[default]
    UnknownCause,
    OtherCause,
    TechnicalProblem,
    Strike,
    Demonstration,
    Accident,
    Holiday,
    Weather,
    Maintenance,
    Construction,
    PoliceActivity,
    MedicalEmergency,
}

/// GTFS-Realtime `Alert.Effect`, snake_case.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    NoService,
    ReducedService,
    SignificantDelays,
    Detour,
    AdditionalService,
    ModifiedService,
    OtherEffect,
    #[default]
    UnknownEffect,
    StopMoved,
    NoEffect,
    AccessibilityIssue,
}

/// An alert's text in one language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Translation {
    pub header: String,
    #[serde(default)]
    pub description: String,
}

/// When an alert applies; `end: null` is open-ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ActivePeriod {
    /// RFC 3339.
    pub start: String,
    #[serde(default)]
    pub end: Option<String>,
}

/// What an alert is about: exactly one of an agency, a route or a station (ids `FEED:ID`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InformedEntity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub station_id: Option<String>,
}

/// An alert as clients see it: `header` and `description` in the requested language (else
/// Japanese, else the first language it has), every language in `translations`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Alert {
    pub id: String,
    pub cause: Cause,
    pub effect: Effect,
    pub header: String,
    pub description: String,
    pub url: Option<String>,
    /// Language → text.
    pub translations: BTreeMap<String, Translation>,
    /// Empty: active from creation until ended.
    pub active_periods: Vec<ActivePeriod>,
    pub informed: Vec<InformedEntity>,
    pub created_at: String,
    pub updated_at: String,
    pub ended_at: Option<String>,
}

// `GET /v1/alerts` (no doc comment: it would become the schema's description).
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AlertsResponse {
    pub alerts: Vec<Alert>,
}

/// `POST /v1/admin/alerts` body.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAlert {
    #[serde(default = "default_cause")]
    pub cause: Cause,
    #[serde(default = "default_effect")]
    pub effect: Effect,
    #[serde(default)]
    pub url: Option<String>,
    /// Language (`ja`, `en`, …) → text; at least one.
    pub translations: BTreeMap<String, Translation>,
    #[serde(default)]
    pub active_periods: Vec<ActivePeriod>,
    /// At least one.
    pub informed: Vec<InformedEntity>,
}

fn default_cause() -> Cause {
    Cause::UnknownCause
}

fn default_effect() -> Effect {
    Effect::UnknownEffect
}

/// `PATCH /v1/admin/alerts/{id}` body: the members given replace the alert's (lists whole);
/// `url: ""` removes the link.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertPatch {
    pub cause: Option<Cause>,
    pub effect: Option<Effect>,
    pub url: Option<String>,
    pub translations: Option<BTreeMap<String, Translation>>,
    pub active_periods: Option<Vec<ActivePeriod>>,
    pub informed: Option<Vec<InformedEntity>>,
}

/// A ride, with the alerts active during it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AlertedTransitLeg {
    // The engine's ride, member for member.
    #[serde(flatten)]
    pub leg: route::TransitLeg,
    #[serde(default)]
    #[schema(required = true)]
    pub alerts: Vec<Alert>,
}

// A leg of `AlertedJourney`: walks pass through from the engine as they are.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)] // plain wire data, built once per answer
pub enum AlertedLeg {
    Transit(AlertedTransitLeg),
    Walk(route::WalkLeg),
}

/// A journey: its legs in travel order. A journey on foot only (walking is the answer) has
/// one walk leg, `vehicles: 0`, `transfers: 0` and no `fare`.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AlertedJourney {
    pub departure: String,
    pub arrival: String,
    pub duration_secs: i64,
    /// Vehicles ridden (the transit legs): 0 for a journey on foot only, 1 for a direct ride.
    // Always sent by the api; `None` only when read from an api older than this member (see
    // `AlertedJourney::vehicles`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = u32, required = true)]
    pub vehicles: Option<u32>,
    /// Changes between vehicles: `vehicles - 1`, and 0 for a journey on foot only.
    pub transfers: u32,
    pub legs: Vec<AlertedLeg>,
    /// Present when the feeds' fare data price every ride; absent for a journey on foot only
    /// (nothing to pay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fare: Option<route::Fare>,
}

impl AlertedJourney {
    /// Vehicles ridden: the api's count, else (an api older than `vehicles`) the transit legs.
    pub fn vehicles(&self) -> u32 {
        self.vehicles.unwrap_or_else(|| {
            let rides = self.legs.iter().filter(|leg| matches!(leg, AlertedLeg::Transit(_)));
            u32::try_from(rides.count()).unwrap_or(u32::MAX)
        })
    }
}

/// `GET /v1/journeys` answer.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JourneyPage {
    pub journeys: Vec<AlertedJourney>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<route::Window>,
    /// Pass as `cursor` for the journeys leaving just before these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earlier: Option<String>,
    /// Pass as `cursor` for the journeys leaving just after these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub later: Option<String>,
    /// Every alert on any leg, once (for a banner).
    #[serde(default)]
    #[schema(required = true)]
    pub alerts: Vec<Alert>,
}

/// A line and direction of a departure board, with the alerts on its route or agency.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AlertedDepartureGroup {
    // The engine's group, member for member.
    #[serde(flatten)]
    pub group: route::DepartureGroup,
    #[serde(default)]
    #[schema(required = true)]
    pub alerts: Vec<Alert>,
}

/// `GET /v1/stations/{id}/departures` answer.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DepartureBoard {
    pub station_id: String,
    pub station_name: String,
    pub groups: Vec<AlertedDepartureGroup>,
    /// Every active alert affecting the station, its routes or their agencies.
    #[serde(default)]
    #[schema(required = true)]
    pub alerts: Vec<Alert>,
}

/// `GET /v1/trips/{id}` answer: the route engine's run of the trip, member for member, plus
/// the alerts active during it on its route, its agency or any station it calls at.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AlertedTrip {
    #[serde(flatten)]
    pub trip: route::TripResponse,
    #[serde(default)]
    #[schema(required = true)]
    pub alerts: Vec<Alert>,
}

/// One feed of a timetable version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FeedDates {
    pub name: String,
    /// `YYYY-MM-DD`.
    pub start_date: String,
    pub end_date: String,
}

impl From<&route::FeedStatus> for FeedDates {
    /// The dates of a feed as the route engine's `/status` names them.
    fn from(feed: &route::FeedStatus) -> Self {
        Self {
            name: feed.name.clone(),
            start_date: feed.start_date.clone(),
            end_date: feed.end_date.clone(),
        }
    }
}

/// A recorded timetable version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimetableVersion {
    pub hash: String,
    pub feeds: Vec<FeedDates>,
    pub stations: u64,
    pub stops: u64,
    pub routes: u64,
    pub trips: u64,
    /// First and last service day over all feeds.
    pub service_start: String,
    pub service_end: String,
    /// When the snapshot was imported.
    pub created_at: String,
    /// When this service first saw the route engine answer from it.
    pub activated_at: String,
}

// `GET /v1/status`: the app reads only the timetable's feeds (the service dates it names when
// no journey is found), so every other member reads as empty when missing.

/// The active timetable.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimetableStatus {
    /// Content hash of the snapshot.
    #[serde(default)]
    #[schema(required = true)]
    pub hash: String,
    pub feeds: Vec<FeedDates>,
    #[serde(default)]
    #[schema(required = true)]
    pub stations: u64,
    #[serde(default)]
    #[schema(required = true)]
    pub stops: u64,
    #[serde(default)]
    #[schema(required = true)]
    pub routes: u64,
    #[serde(default)]
    #[schema(required = true)]
    pub trips: u64,
    /// When the route engine loaded it (RFC 3339).
    #[serde(default)]
    #[schema(required = true)]
    pub loaded_at: String,
    /// When it was first recorded as active (null until recorded, e.g. database down).
    pub activated_at: Option<String>,
}

// `GET /v1/status` answer.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiStatus {
    #[serde(default)]
    #[schema(required = true)]
    pub timetable: TimetableStatus,
    /// Recent timetable versions, newest first.
    #[serde(default)]
    #[schema(required = true)]
    pub versions: Vec<TimetableVersion>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ride() -> serde_json::Value {
        let stop = json!({"id": "fukuoka:8_1", "name": "天神", "station_id": "fukuoka:8",
                          "lat": 33.59, "lon": 130.40});
        json!({"type": "transit", "trip_id": "fukuoka:t1", "headsign": "姪浜",
               "route": {"id": "fukuoka:1", "short_name": "空港線", "long_name": "",
                         "mode": "subway", "agency_id": "fukuoka:a", "agency_name": "福岡市地下鉄"},
               "service_date": "2019-06-05", "from": stop, "to": stop,
               "departure": "2019-06-05T08:03:00+09:00", "arrival": "2019-06-05T08:10:00+09:00",
               "duration_secs": 420, "stops": [{"stop": stop}], "geometry": "}c{kE_kebX",
               "alerts": []})
    }

    #[test]
    fn a_page_from_an_older_api_reads_with_the_legs_counted() {
        // No `vehicles` on the journey, no banner `alerts` on the page.
        let page: JourneyPage = serde_json::from_value(json!({"journeys": [{
            "departure": "2019-06-05T08:03:00+09:00", "arrival": "2019-06-05T08:10:00+09:00",
            "duration_secs": 420, "transfers": 0, "legs": [ride()]}]}))
        .expect("a page without vehicles and alerts");
        assert!(page.alerts.is_empty());
        let [journey] = page.journeys.as_slice() else { panic!("one journey: {page:?}") };
        assert_eq!((journey.vehicles, journey.vehicles()), (None, 1));
    }

    #[test]
    fn an_alerted_ride_is_the_engines_ride_plus_alerts() {
        let leg: AlertedLeg = serde_json::from_value(ride()).expect("a ride");
        let AlertedLeg::Transit(alerted) = &leg else { panic!("a ride: {leg:?}") };
        assert_eq!(alerted.leg.route.short_name, "空港線");
        let written = serde_json::to_value(&leg).expect("serialises");
        assert_eq!(written, ride(), "the same members, flattened, with the `type` tag");
        let engine: route::Leg = serde_json::from_value(ride()).expect("the engine reads it too");
        assert!(matches!(engine, route::Leg::Transit(_)));
    }

    #[test]
    fn a_journey_always_writes_its_vehicles() {
        let journey = AlertedJourney {
            departure: String::new(),
            arrival: String::new(),
            duration_secs: 0,
            vehicles: Some(0),
            transfers: 0,
            legs: Vec::new(),
            fare: None,
        };
        let written = serde_json::to_value(&journey).expect("serialises");
        assert_eq!(written["vehicles"], 0);
        assert_eq!(written.get("fare"), None, "no fare member, not null");
    }

    #[test]
    fn a_status_reads_from_its_feeds_alone() {
        let status: ApiStatus = serde_json::from_value(json!({"timetable": {"feeds": [
            {"name": "fukuoka", "start_date": "2019-03-16", "end_date": "2020-03-31"}]}}))
        .expect("feeds alone");
        assert_eq!(status.timetable.feeds[0].end_date, "2020-03-31");
        assert!(status.versions.is_empty());
        // A broken member is still an error: tolerance is for members missing, not wrong.
        let broken = serde_json::from_value::<ApiStatus>(json!({"timetable": {"feeds": 3}}));
        assert!(broken.is_err());
    }
}
