//! The JSON the search engine speaks: the search service serves it, the api reads it and
//! passes it on unchanged as `/v1/stations…`, and the app reads it from there.

use serde::{Deserialize, Serialize};

/// How a result matched the query, best first.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// The whole name (in any language, reading or romaji spelling, with or without the
    /// "station" suffix) equals the query.
    Exact,
    /// A name starts with the query, or every query word starts a word of a name.
    Prefix,
    /// A Japanese name contains the query (character n-grams), not at its start.
    Contains,
    /// Latin or romaji within the allowed edit distance (1 from 4 letters, 2 from 8).
    Fuzzy,
}

/// One station as every endpoint returns it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Station {
    /// `FEED:stop_id` of the station.
    pub id: String,
    /// The name in the requested language (the feed's own name when it has no translation).
    pub name: String,
    /// Kana reading as the feed writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reading: Option<String>,
    /// Hepburn romaji generated from the reading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub romaji: Option<String>,
    /// Short text telling same-named stations apart: lines or agencies, locality, side.
    pub label: String,
    pub lat: f64,
    pub lon: f64,
    /// Lines (route names) serving the station, in the requested language.
    pub lines: Vec<String>,
    /// Agencies serving the station, in the requested language.
    pub agencies: Vec<String>,
    /// Straight-line distance from `near` (search) or from the point (nearby), in metres.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<f64>,
    /// How the station matched (search only).
    #[serde(rename = "match", default, skip_serializing_if = "Option::is_none")]
    pub match_kind: Option<MatchKind>,
}

/// `GET /stations?q=` answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SearchResponse {
    pub query: String,
    pub results: Vec<Station>,
}

/// `GET /stations/nearby` answer, nearest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NearbyResponse {
    pub results: Vec<Station>,
}

/// `GET /stations/{id}` answer: the station and the ids of its stops.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StationDetail {
    #[serde(flatten)]
    pub station: Station,
    /// Ids of the member stops (platforms, poles), each usable as `{id}` too.
    pub stops: Vec<String>,
}
