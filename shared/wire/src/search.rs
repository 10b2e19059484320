//! The JSON the search engine speaks: its queries, which the api takes as `/v1/stations…`
//! and forwards; its answers, which the search service serves, the api passes on unchanged
//! and the app reads from there.

use serde::{Deserialize, Serialize};

/// The query of `GET /stations`: the search service parses it, and the api takes the same
/// parameters (`lang` resolved against `Accept-Language`) and forwards them.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// What the user typed: kanji, kana, romaji or English (it needs a letter or a digit).
    // Optional when read: the search service answers a missing `q` as an empty one
    // (`empty_query`), while the api requires it (`missing_parameter`).
    #[param(
        value_type = String,
        required = true,
        example = "tenjin",
        min_length = 1,
        max_length = 200,
        pattern = r"\S"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Language of names (`ja`, `en`, `ja-Hrkt` for kana readings, `zh-Hant`, …); else
    /// `Accept-Language`.
    #[param(pattern = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$", example = "en")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// 1 to 50 (default 10).
    #[param(minimum = 1, maximum = 50, example = 5)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `lat,lon` in decimal degrees: rank nearer stations first and report their distance.
    #[param(
        pattern = r"^\s*-?[0-9]+(\.[0-9]+)?\s*,\s*-?[0-9]+(\.[0-9]+)?\s*$",
        example = "33.5902,130.4017"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub near: Option<String>,
}

/// The query of `GET /stations/nearby` (search service and api, as [`SearchParams`]).
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NearbyParams {
    /// Latitude, decimal degrees.
    #[param(example = 33.5902, minimum = -90, maximum = 90)]
    pub lat: f64,
    /// Longitude, decimal degrees.
    #[param(example = 130.4017, minimum = -180, maximum = 180)]
    pub lon: f64,
    /// Metres, more than 0 and up to 5000 (default 500).
    #[param(exclusive_minimum = 0, maximum = 5000, example = 800)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub radius_m: Option<f64>,
    /// 1 to 50 (default 10).
    #[param(minimum = 1, maximum = 50, example = 5)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Language of names; else `Accept-Language`.
    #[param(pattern = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$", example = "en")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

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
