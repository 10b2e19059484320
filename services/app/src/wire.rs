//! The `/v1` JSON the app reads, as a client: the engines' wire types passed through by the
//! api, plus alerts (see the v1 contract). Only what the pages show is declared; every field
//! that may be missing has a default, so the app keeps working when the api adds fields.

use serde::{Deserialize, Serialize};

/// A station as `/v1/stations…` returns it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Station {
    pub id: String,
    pub name: String,
    pub reading: Option<String>,
    pub romaji: Option<String>,
    pub label: String,
    pub lat: f64,
    pub lon: f64,
    pub lines: Vec<String>,
    pub agencies: Vec<String>,
    pub distance_m: Option<f64>,
    #[serde(rename = "match")]
    pub match_kind: Option<String>,
}

/// `GET /v1/stations?q=`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchResponse {
    pub query: String,
    pub results: Vec<Station>,
}

/// `GET /v1/stations/nearby`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct NearbyResponse {
    pub results: Vec<Station>,
}

/// `GET /v1/stations/{id}`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct StationDetail {
    #[serde(flatten)]
    pub station: Station,
    #[serde(default)]
    pub stops: Vec<String>,
}

/// `GET /v1/journeys`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct JourneysResponse {
    pub journeys: Vec<Journey>,
    pub window: Option<Window>,
    pub earlier: Option<String>,
    pub later: Option<String>,
    pub alerts: Vec<Alert>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Window {
    pub start: String,
    pub end: String,
}

/// A journey; one on foot only has a single walk leg, `vehicles: 0`, `transfers: 0` and no
/// fare.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Journey {
    pub departure: String,
    pub arrival: String,
    pub duration_secs: i64,
    /// Vehicles ridden; `None` from an api older than this member (see [`Journey::vehicles`]).
    pub vehicles: Option<u32>,
    pub transfers: u32,
    pub legs: Vec<Leg>,
    pub fare: Option<Fare>,
}

impl Journey {
    /// Vehicles ridden: the api's count, else the transit legs (an older api did not say).
    pub fn vehicles(&self) -> u32 {
        self.vehicles.unwrap_or_else(|| {
            self.legs.iter().filter(|leg| matches!(leg, Leg::Transit(_))).count() as u32
        })
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)] // plain wire data, read once per page
pub enum Leg {
    Transit(TransitLeg),
    Walk(WalkLeg),
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct TransitLeg {
    pub trip_id: String,
    pub route: RouteInfo,
    pub headsign: String,
    pub service_date: String,
    pub from: StopRef,
    pub to: StopRef,
    pub departure: String,
    pub arrival: String,
    pub duration_secs: i64,
    pub stops: Vec<PassedStop>,
    pub alerts: Vec<Alert>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RouteInfo {
    pub id: String,
    pub short_name: String,
    pub long_name: String,
    /// `RRGGBB` without `#`.
    pub color: Option<String>,
    pub text_color: Option<String>,
    pub mode: String,
    pub agency_id: String,
    pub agency_name: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct StopRef {
    pub id: String,
    pub name: String,
    pub station_id: String,
    pub platform: Option<String>,
    pub lat: f64,
    pub lon: f64,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct PassedStop {
    pub stop: StopRef,
    pub arrival: Option<String>,
    pub departure: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct WalkLeg {
    pub from: Option<Place>,
    pub to: Option<Place>,
    pub departure: String,
    pub arrival: String,
    pub duration_secs: u32,
    pub distance_m: u32,
}

/// A walk's end: a stop, or the coordinates of the query.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Place {
    Stop(StopRef),
    Coordinates { lat: f64, lon: f64 },
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Fare {
    pub total: f64,
    pub currency: String,
}

/// `GET /v1/stations/{id}/departures`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct DeparturesResponse {
    pub station_id: String,
    pub station_name: String,
    pub groups: Vec<DepartureGroup>,
    pub alerts: Vec<Alert>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct DepartureGroup {
    pub route: RouteInfo,
    pub direction_id: Option<u8>,
    pub headsign: String,
    pub departures: Vec<Departure>,
    pub alerts: Vec<Alert>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Departure {
    pub trip_id: String,
    pub departure: String,
    pub headsign: String,
    pub stop: StopRef,
    pub platform: Option<String>,
}

/// A service alert; `header` and `description` are already in the requested language.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Alert {
    pub id: String,
    pub cause: String,
    pub effect: String,
    pub header: String,
    pub description: String,
    pub url: Option<String>,
}

/// `GET /v1/status` (only the timetable's feeds and their service dates are read).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct StatusResponse {
    pub timetable: TimetableStatus,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct TimetableStatus {
    pub feeds: Vec<FeedStatus>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct FeedStatus {
    pub name: String,
    /// `YYYY-MM-DD`.
    pub start_date: String,
    pub end_date: String,
}

/// An `application/problem+json` body.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Problem {
    pub status: u16,
    pub title: String,
    pub detail: String,
    pub code: String,
    pub field: Option<String>,
}
