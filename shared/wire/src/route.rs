//! The JSON the route engine speaks: its query (`GET /journeys`), its answers, and its
//! `GET /status`. The route service serves them, the api reads them (and passes journeys and
//! departure boards on, with alerts added: [`crate::v1`]). Times are RFC 3339 in the feed's
//! time zone; ids are `FEED:ID`.

use serde::{Deserialize, Serialize};

/// The query of `GET /journeys`: the route service parses it, and the api takes the same
/// parameters (documented in its OpenAPI) and forwards them unchanged.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct JourneysParams {
    /// Station id, stop id (`FEED:ID`), or `lat,lon` in decimal degrees.
    #[param(
        required = true,
        example = "fukuoka:8",
        pattern = r"^([^:,]+:.+|\s*-?[0-9]+(\.[0-9]+)?\s*,\s*-?[0-9]+(\.[0-9]+)?\s*)$"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Station id, stop id (`FEED:ID`), or `lat,lon` in decimal degrees.
    #[param(
        required = true,
        example = "fukuoka:1",
        pattern = r"^([^:,]+:.+|\s*-?[0-9]+(\.[0-9]+)?\s*,\s*-?[0-9]+(\.[0-9]+)?\s*)$"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// `YYYY-MM-DD`, local to the network (default today).
    #[param(example = "2019-06-05", pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// `HH:MM[:SS]` (default now); hours up to 47 for the small hours of the next day.
    #[param(example = "08:00", pattern = r"^([0-3]?[0-9]|4[0-7]):[0-5][0-9](:[0-5][0-9])?$")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Search by arrival: the journeys arriving by `time`, those leaving latest (a page of
    /// `window` seconds of arrivals before `time`, with `earlier` / `later` cursors; `window=0`:
    /// the plain latest-departure set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrive_by: Option<bool>,
    /// Seconds of departures (arrive_by: arrivals) to cover (default 3600, at most 21600); 0
    /// for the plain earliest-arrival (arrive_by: latest-departure) set.
    #[param(minimum = 0, maximum = 21600, example = 3600)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<u32>,
    /// 0 to 8 (default 5).
    #[param(minimum = 0, maximum = 8, example = 2)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_transfers: Option<u8>,
    /// Slack added to every transfer, seconds (more than 3600 counts as 3600).
    #[param(minimum = 0, maximum = 3600, example = 120)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_transfer_secs: Option<u32>,
    /// Longest walk, metres.
    #[param(minimum = 0, maximum = 100000, example = 800)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_walk_m: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wheelchair: Option<bool>,
    /// Comma-separated route ids to avoid.
    #[param(pattern = r"^[^,:]+:[^,]+(,[^,:]+:[^,]+)*$", example = "fukuoka:1")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude_routes: Option<String>,
    /// Comma-separated agency ids to avoid.
    #[param(pattern = r"^[^,:]+:[^,]+(,[^,:]+:[^,]+)*$", example = "ryobi:8000020330001")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude_agencies: Option<String>,
    /// Comma-separated modes to avoid.
    #[param(
        pattern = r"^(tram|subway|rail|bus|ferry|cable_tram|aerial_lift|funicular|trolleybus|monorail|coach|taxi|other)(,(tram|subway|rail|bus|ferry|cable_tram|aerial_lift|funicular|trolleybus|monorail|coach|taxi|other))*$",
        example = "bus"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude_modes: Option<String>,
    /// A station to pass through (station or stop id).
    #[param(pattern = r"^[^:,]+:.+$", example = "fukuoka:11")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// `earlier` or `later` of a previous answer (with the same from, to and options); it
    /// replaces `date`, `time`, `window` and `arrive_by`.
    #[param(pattern = r"^[A-Za-z0-9_-]{1,128}$")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Language of names and headsigns (`ja`, `en`, `ja-Hrkt` for kana readings, `zh-Hant`,
    /// `zh-Hans`, `ko`, … as the feeds translate them); else `Accept-Language`.
    #[param(pattern = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$", example = "en")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// 始発: the earliest journey of the service day `date` (03:00 to 27:00), one journey,
    /// no cursors; `time`, `window` and `arrive_by` do not apply.
    #[param(example = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<bool>,
    /// 終電: the latest journey of the service day `date` that still arrives within it
    /// (by 27:00, past-midnight trips included); one journey, no cursors.
    #[param(example = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<bool>,
    /// Order of the journeys (早 `fastest`, 楽 `fewest_transfers`, 安 `cheapest`); default
    /// by departure.
    #[param(value_type = Option<JourneySort>, inline, example = "fastest")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

/// `GET /journeys`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JourneysResponse {
    pub journeys: Vec<Journey>,
    /// The window the page covers, RFC 3339: departures (range searches), arrivals
    /// (`arrive_by`).
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

/// A journey: its legs in travel order. A journey on foot only (walking is the answer) has
/// one walk leg, `vehicles: 0`, `transfers: 0` and no `fare`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Journey {
    pub departure: String,
    pub arrival: String,
    pub duration_secs: i64,
    /// Vehicles ridden (the transit legs): 0 for a journey on foot only, 1 for a direct ride.
    pub vehicles: u32,
    /// Changes between vehicles: `vehicles - 1`, and 0 for a journey on foot only.
    pub transfers: u32,
    pub legs: Vec<Leg>,
    /// Present when the feeds' fare data price every ride; absent for a journey on foot only
    /// (nothing to pay).
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

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// The ride's path as an encoded polyline (Google's algorithm, precision 5; see
    /// [`crate::polyline`]): along the trip's shape where the feed has one, else straight
    /// from stop to stop; it begins at the boarding stop and ends at the alighting stop.
    // Read as empty from a route service older than this member.
    #[serde(default)]
    #[schema(required = true, example = "_p~iF~ps|U_ulLnnqC_mqNvxq`@")]
    pub geometry: String,
    /// What a GTFS-Realtime feed says about this ride (absent: nothing, the times are the
    /// timetable's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realtime: Option<LegRealtime>,
}

/// A ride's expected times by the realtime feeds, checked when the journey is answered.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LegRealtime {
    /// RFC 3339; the leg's `departure` and `arrival` stay the timetable's.
    pub expected_departure: String,
    pub expected_arrival: String,
    /// Expected minus timetabled, seconds (late > 0, early < 0).
    #[schema(example = 180)]
    pub departure_delay_secs: i64,
    #[schema(example = 240)]
    pub arrival_delay_secs: i64,
    /// The trip does not run: the journey cannot be made as planned.
    pub cancelled: bool,
    /// A trip the realtime feed added (not in the timetable): its times are the feed's, its
    /// delays 0, and its id is unknown to the trip and timetable pages.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub added: bool,
    /// The vehicle does not stop to board or to alight where the leg says.
    pub skips_boarding: bool,
    pub skips_alighting: bool,
    /// The platform it now leaves from or arrives at, where that changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departure_platform: Option<StopRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival_platform: Option<StopRef>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RouteInfo {
    pub id: String,
    pub short_name: String,
    pub long_name: String,
    /// `RRGGBB` without `#`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_color: Option<String>,
    /// `bus`, `subway`, `rail`, … (one of [`LineMode`]'s names).
    pub mode: String,
    pub agency_id: String,
    pub agency_name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StopRef {
    pub id: String,
    pub name: String,
    pub station_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    pub lat: f64,
    pub lon: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// The walk as an encoded polyline (precision 5): a straight line from `from` to `to`
    /// (the walking links are straight-line distances; the feeds give no paths).
    // Read as empty from a route service older than this member.
    #[serde(default)]
    #[schema(required = true)]
    pub geometry: String,
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

/// The query of `GET /stations/{id}/departures`: the route service parses it, and the api
/// takes the same parameters (`lang` resolved against `Accept-Language`) and forwards them.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct DeparturesParams {
    /// `YYYY-MM-DD` (default today in the network's time zone).
    #[param(example = "2019-06-05", pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// `HH:MM[:SS]` (default now); hours up to 47 for the small hours of the next day.
    #[param(example = "08:00", pattern = r"^([0-3]?[0-9]|4[0-7]):[0-5][0-9](:[0-5][0-9])?$")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Departures per line and direction, 1 to 50 (default 5).
    #[param(minimum = 1, maximum = 50, example = 3)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Language of names and headsigns; else `Accept-Language`.
    #[param(pattern = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$", example = "en")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
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
    /// Service date of the trip (`YYYY-MM-DD`, the day before for a departure past
    /// midnight): with `trip_id`, what `/trips/{id}?date=` takes.
    // Read as empty from a route service older than this member.
    #[serde(default)]
    #[schema(required = true, example = "2019-06-05")]
    pub service_date: String,
    pub departure: String,
    pub headsign: String,
    pub stop: StopRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// What a GTFS-Realtime feed says about this departure (absent: nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realtime: Option<DepartureRealtime>,
}

/// A departure's expected time, cancellation and platform by the realtime feeds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DepartureRealtime {
    /// RFC 3339; `departure` stays the timetabled time.
    pub expected: String,
    /// Expected minus timetabled, seconds.
    #[schema(example = 120)]
    pub delay_secs: i64,
    pub cancelled: bool,
    /// The vehicle passes without stopping here.
    pub skipped: bool,
    /// The platform it now leaves from, where that changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
}

/// The query of `GET /trips/{id}`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct TripParams {
    /// Service date of the run, `YYYY-MM-DD` (a journey leg's or a departure's
    /// `service_date`); default: today in the network's time zone.
    #[param(example = "2019-06-05", pattern = r"^\d{4}-\d{2}-\d{2}$")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// `ja` or `en` (names, headsigns).
    #[param(pattern = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$", example = "en")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

/// `GET /trips/{id}?date=`: one run of a trip, every stop with its times.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TripResponse {
    /// `FEED:trip_id` (frequency-based runs: `FEED:trip_id@HH:MM:SS`).
    #[schema(example = "fukuoka:1_0_1_0510")]
    pub trip_id: String,
    /// Service date of the run (`YYYY-MM-DD`); its times count from this day's noon minus
    /// 12 hours, so a run past midnight has times on the next calendar day.
    #[schema(example = "2019-06-05")]
    pub service_date: String,
    pub route: RouteInfo,
    pub headsign: String,
    /// trip_short_name (a train number), where the feed gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_name: Option<String>,
    /// GTFS direction_id, where the feed gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction_id: Option<u8>,
    /// `accessible`, `not_accessible` or `unknown` (wheelchair_accessible).
    #[schema(example = "accessible")]
    pub wheelchair: String,
    /// Every stop of the run in order.
    pub stops: Vec<TripStop>,
    /// The whole run as an encoded polyline (precision 5): along the trip's shape where the
    /// feed has one, else straight from stop to stop.
    pub geometry: String,
}

/// A stop of a trip's run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TripStop {
    /// The stop (its `platform` is the feed's platform_code).
    pub stop: StopRef,
    /// Name of the station the stop belongs to.
    pub station_name: String,
    /// RFC 3339 in the network's time zone; absent at the first stop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival: Option<String>,
    /// RFC 3339 in the network's time zone; absent at the last stop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departure: Option<String>,
    /// Whether passengers may board here (pickup_type other than 1).
    pub pickup: bool,
    /// Whether passengers may alight here (drop_off_type other than 1).
    pub drop_off: bool,
}

/// `GET /status`: the timetable the engine answers from. The api polls it to show
/// `/v1/status` ([`crate::v1::ApiStatus`]) and to record each activated timetable version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatusResponse {
    /// Hex content hash of the snapshot: changes whenever the timetable does.
    pub hash: String,
    pub feeds: Vec<FeedStatus>,
    pub agencies: u64,
    pub stations: u64,
    pub stops: u64,
    pub routes: u64,
    pub trips: u64,
    /// When the snapshot was imported (RFC 3339, UTC).
    pub created_at: String,
    /// When this service started answering from it (RFC 3339, UTC).
    pub loaded_at: String,
    /// The network's IANA time zone.
    pub timezone: String,
    /// Trip-Based routing's state (absent from older services).
    #[serde(default)]
    pub trip_based: TripBasedStatus,
    /// GTFS-Realtime: the sources and what the current overlay holds (absent from older
    /// services).
    #[serde(default)]
    pub realtime: RealtimeStatus,
}

/// The realtime overlay the searches read and the sources it is built from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RealtimeStatus {
    pub sources: Vec<RealtimeSourceStatus>,
    /// When the current overlay was built (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub built_at: Option<String>,
    /// Trip instances with realtime times, cancelled, and added by the feeds.
    pub trips_updated: u64,
    pub trips_cancelled: u64,
    pub trips_added: u64,
    /// Added trips whose stops are no pattern's (a new route, a detour): counted here, but
    /// neither boarded by the searches nor on departure boards.
    #[serde(default)]
    pub added_unsearched: u64,
    pub alerts: u64,
    pub vehicles: u64,
    /// Bad input in the current overlay's entities: TripUpdates naming no trip of the
    /// timetable, stop updates naming no stop of their trip, times that ran backwards
    /// (raised to the time before).
    pub unknown_trips: u64,
    pub unknown_stops: u64,
    pub times_clamped: u64,
    /// Messages applied and refused (malformed, too large, unknown feed) since start.
    pub messages_applied: u64,
    pub messages_refused: u64,
}

/// One realtime source: a polled URL, or `push:FEED` for pushed messages.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RealtimeSourceStatus {
    pub source: String,
    /// The GTFS feed its ids belong to.
    pub feed: String,
    /// Live entities (TripUpdates, alerts, vehicles).
    pub entities: u64,
    /// Differential (true) or full-dataset messages.
    pub incremental: bool,
    /// When a message was last applied (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied: Option<String>,
}

/// Which service days depart-at and range searches answer by Trip-Based routing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TripBasedStatus {
    /// Service days whose transfers are built (`YYYY-MM-DD`): a search on a date uses them
    /// when the days before, of and after it are here.
    pub days: Vec<String>,
    /// Searches answered by Trip-Based routing since the snapshot was loaded.
    pub searches: u64,
}

/// One feed of the timetable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FeedStatus {
    /// The namespace of the feed's ids (`fukuoka` in `fukuoka:8`).
    pub name: String,
    /// First and last day any service of the feed runs (`YYYY-MM-DD`).
    pub start_date: String,
    pub end_date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
}

/// `GET /realtime/alerts`: the ServiceAlerts of the realtime feeds (the api joins them with
/// the alerts in its database).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RealtimeAlertsResponse {
    pub alerts: Vec<RealtimeAlert>,
}

/// One ServiceAlert, ids in `FEED:ID` form.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RealtimeAlert {
    /// `FEED:entity_id`.
    pub id: String,
    /// GTFS-Realtime cause and effect, snake_case (`technical_problem`, `no_service`, …).
    pub cause: String,
    pub effect: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The texts per language (`und` where the feed names none).
    pub translations: Vec<RealtimeAlertText>,
    /// POSIX seconds; `None`: open on that side. Empty: always.
    pub active_periods: Vec<(Option<u64>, Option<u64>)>,
    pub agency_ids: Vec<String>,
    pub route_ids: Vec<String>,
    pub station_ids: Vec<String>,
    pub trip_ids: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RealtimeAlertText {
    pub language: String,
    pub header: String,
    #[serde(default)]
    pub description: String,
}

/// A line's mode, as lines name it and the `mode` filter takes it: GTFS route types, the
/// extended ones folded into these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineMode {
    Tram,
    Subway,
    Rail,
    Bus,
    Ferry,
    CableTram,
    AerialLift,
    Funicular,
    Trolleybus,
    Monorail,
    Coach,
    Taxi,
    Other,
}

/// `POST /realtime/{feed}`'s answer: what the pushed message changed (the overlay's counts
/// after it).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PushAnswer {
    pub upserted: usize,
    pub deleted: usize,
    pub incremental: bool,
    pub build_micros: u64,
    pub trips_updated: u64,
    pub trips_cancelled: u64,
    pub trips_added: u64,
    pub unknown_trips: u64,
    pub unknown_stops: u64,
    pub times_clamped: u64,
    pub alerts: u64,
}

/// How `GET /journeys` orders its journeys (早 / 楽 / 安); without it, by departure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JourneySort {
    /// 早: shortest duration first (then fewest transfers).
    Fastest,
    /// 楽: fewest transfers first (then shortest duration).
    FewestTransfers,
    /// 安: lowest fare first (on foot costs nothing; journeys without a fare come last),
    /// then shortest duration.
    Cheapest,
}

impl JourneySort {
    pub const ALL: [Self; 3] = [Self::Fastest, Self::FewestTransfers, Self::Cheapest];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fastest => "fastest",
            Self::FewestTransfers => "fewest_transfers",
            Self::Cheapest => "cheapest",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|sort| sort.as_str() == text.trim())
    }
}

/// The query of `GET /routes`: the route service parses it, and the api takes the same
/// parameters and forwards them.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct RoutesParams {
    /// Lines of this agency only (`FEED:ID`).
    #[param(example = "fukuoka:3000020401307_0", pattern = r"^[^:]+:.+$")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// Lines of this mode only.
    #[param(value_type = Option<LineMode>, inline, example = "subway")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Lines calling at this station (station or stop id, `FEED:ID`).
    #[param(example = "fukuoka:8", pattern = r"^[^:]+:.+$")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub station: Option<String>,
    /// Lines per page, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500, example = 100)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Lines to skip (`next_offset` of the page before), default 0.
    #[param(minimum = 0, maximum = 1000000, example = 0)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
    /// Language of names (`ja`, `en`, …).
    #[param(pattern = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$", example = "en")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

/// `GET /routes`: one page of lines.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoutesResponse {
    pub routes: Vec<RouteInfo>,
    /// Lines the filters keep, over every page.
    pub total: u32,
    /// `offset` of the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u32>,
}

/// `GET /routes/{id}`: a line with its directions and their stops in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RouteDetail {
    pub route: RouteInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `direction_id` 0, then 1, then trips without one.
    pub directions: Vec<RouteDirection>,
}

/// One direction of a line: its trips with one `direction_id` (a feed without direction
/// ids gives each line one direction without it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RouteDirection {
    /// GTFS `direction_id` (0 or 1); absent where the feed gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1)]
    pub direction_id: Option<u8>,
    /// Headsigns of the direction's trips, the most frequent first.
    pub headsigns: Vec<String>,
    /// Trips of this direction over the whole timetable.
    pub trips: u32,
    /// Distinct stop sequences (trip patterns) of this direction.
    pub patterns: u32,
    /// How `stops` were chosen: always `most_trips`, the stop sequence most of the
    /// direction's trips run (of equals, the one with most stops).
    pub stops_from: String,
    /// Trips that run exactly `stops`.
    pub stops_trips: u32,
    /// The stops in order.
    pub stops: Vec<StopRef>,
}

/// The query of `GET /stations/{id}/timetable`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct TimetableParams {
    /// The line (`FEED:ID`).
    #[param(required = true, example = "fukuoka:空港線", pattern = r"^[^:]+:.+$")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// GTFS `direction_id`; needed when the line leaves the station in both directions.
    #[param(minimum = 0, maximum = 1, example = 0)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<u8>,
    /// The service day, `YYYY-MM-DD` (default today in the network's time zone).
    #[param(example = "2019-06-05", pattern = r"^\d{4}-\d{2}-\d{2}$")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Language of names and headsigns (`ja`, `en`, …).
    #[param(pattern = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$", example = "en")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

/// Which timetable a date runs, as Japanese timetables name it: the kind of day the
/// services running that date are made for, by the days the feed's calendar runs them on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServiceDayKind {
    /// 平日: Monday to Friday, not a holiday.
    Weekday,
    /// 土曜: Saturday, not a holiday.
    Saturday,
    /// 休日: Sundays and, on Japanese lines, national holidays (振替休日 and 国民の休日
    /// included).
    Holiday,
    /// 土休日: one timetable for Saturdays, Sundays and holidays.
    SaturdayAndHoliday,
}

/// `GET /stations/{id}/timetable`: a line's departures from a station over one service day
/// (時刻表), by hour as printed timetables list them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimetableResponse {
    pub station_id: String,
    pub station_name: String,
    pub route: RouteInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1)]
    pub direction_id: Option<u8>,
    /// The service day (`YYYY-MM-DD`).
    pub date: String,
    /// The kind of timetable the day's services are (weekday / Saturday / holiday /
    /// Saturday-and-holiday), by the days the feed's calendar runs them on: a holiday on
    /// which the feed runs its weekday service is `weekday`, named in `holiday_name`.
    pub service_day: ServiceDayKind,
    /// The national holiday's name (`海の日`, `振替休日`, …) when the date is one (Japanese
    /// lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holiday_name: Option<String>,
    /// The headsign most departures show (they carry no marker).
    pub headsign: String,
    /// The other headsigns, each with the marker its departures carry.
    pub markers: Vec<TimetableMarker>,
    /// Hours of the service day with departures, in order; 24, 25, … are past midnight.
    pub hours: Vec<TimetableHour>,
    /// Departures in all.
    pub departures: u32,
}

/// A headsign other than the main one, and its marker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimetableMarker {
    /// One character: the headsign's first where no other variant shares it, else a letter.
    pub marker: String,
    pub headsign: String,
}

/// One row of a timetable: an hour and the minutes of its departures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimetableHour {
    /// Hour of the service day: 5 … 23, then 24, 25 for departures past midnight.
    #[schema(minimum = 0, maximum = 47)]
    pub hour: u32,
    pub departures: Vec<TimetableEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimetableEntry {
    #[schema(minimum = 0, maximum = 59)]
    pub minute: u32,
    /// The marker of a headsign other than the main one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    pub headsign: String,
    pub trip_id: String,
    /// RFC 3339.
    pub departure: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
}
