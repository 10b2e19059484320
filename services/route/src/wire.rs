//! The JSON the route service speaks. Plain data (`Serialize + Deserialize`), so the api
//! service can reuse these types as a client. Times are RFC 3339 in the feed's time zone; ids
//! are `FEED:ID`.

use serde::{Deserialize, Serialize};

/// `GET /journeys`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JourneysResponse {
    pub journeys: Vec<Journey>,
    /// Departure window the page covers (range searches), RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// Cursor of the page of journeys leaving just before this one (pass as `cursor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earlier: Option<String>,
    /// Cursor of the page of journeys leaving just after this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub later: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Window {
    pub start: String,
    pub end: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Journey {
    pub departure: String,
    pub arrival: String,
    pub duration_secs: i64,
    pub transfers: u32,
    pub legs: Vec<Leg>,
    /// Present when the feeds' fare data price every ride.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fare: Option<Fare>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)] // plain wire data, built once per answer
pub enum Leg {
    Transit(TransitLeg),
    Walk(WalkLeg),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TransitLeg {
    pub trip_id: String,
    pub route: RouteInfo,
    pub headsign: String,
    /// Service date of the trip (`YYYY-MM-DD`), which is the day before for trips past midnight.
    pub service_date: String,
    pub from: StopRef,
    pub to: StopRef,
    pub departure: String,
    pub arrival: String,
    pub duration_secs: i64,
    /// Every stop of the ride, boarding and alighting stops included.
    pub stops: Vec<PassedStop>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RouteInfo {
    pub id: String,
    pub short_name: String,
    pub long_name: String,
    /// `RRGGBB` without `#`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_color: Option<String>,
    /// `bus`, `subway`, `rail`, …
    pub mode: String,
    pub agency_id: String,
    pub agency_name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StopRef {
    pub id: String,
    pub name: String,
    pub station_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    pub lat: f64,
    pub lon: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PassedStop {
    pub stop: StopRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departure: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WalkLeg {
    pub from: Place,
    pub to: Place,
    pub departure: String,
    pub arrival: String,
    pub duration_secs: u32,
    pub distance_m: u32,
}

/// A walk's end: a stop, or the coordinates of the query.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Place {
    Stop(StopRef),
    Coordinates { lat: f64, lon: f64 },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Fare {
    pub total: f64,
    /// ISO 4217.
    pub currency: String,
    pub parts: Vec<FarePart>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FarePart {
    pub fare_id: String,
    pub price: f64,
    /// Indices (0-based, among the journey's transit legs) of the rides this fare pays for.
    pub rides: Vec<usize>,
}

/// `GET /stations/{id}/departures`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeparturesResponse {
    pub station_id: String,
    pub station_name: String,
    pub groups: Vec<DepartureGroup>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DepartureGroup {
    pub route: RouteInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction_id: Option<u8>,
    pub headsign: String,
    pub departures: Vec<Departure>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Departure {
    pub trip_id: String,
    pub departure: String,
    pub headsign: String,
    pub stop: StopRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
}
