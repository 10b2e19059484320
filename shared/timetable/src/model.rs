//! The compiled timetable: the in-memory model every engine reads.
//!
//! This is the contract between the importer (which builds it from GTFS feeds), the snapshot
//! (which stores and maps it), the route engine (RAPTOR over trip patterns) and the station
//! search. The layout follows the RAPTOR paper: flat `Vec`s addressed by newtype indices and
//! sliced by offsets, so a query walks contiguous memory.
//!
//! Hot arrays that a route query touches on every step are [`Column`]s: plain-old-data that
//! the snapshot maps from disk without copying. Everything a query only reads to render its
//! answer (names, ids, colours) lives in ordinary structs.
//!
//! Ids are public in `FEED:ID` form everywhere (`ryobi:18_1`), where `FEED` is the name the
//! feed was imported under.

use std::ops::Range;

use chrono::{NaiveDate, TimeZone};
use serde::{Deserialize, Serialize};

use crate::column::Column;
use crate::index::IdIndex;

/// Version of the compiled layout; a snapshot written with another version is refused.
pub const FORMAT_VERSION: u32 = 4;

macro_rules! index_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash,
            Serialize, Deserialize, bytemuck::Pod, bytemuck::Zeroable,
        )]
        #[repr(transparent)]
        pub struct $name(pub u32);

        impl $name {
            #[inline]
            pub fn idx(self) -> usize {
                self.0 as usize
            }
        }

        impl From<usize> for $name {
            #[inline]
            fn from(index: usize) -> Self {
                debug_assert!(index <= u32::MAX as usize);
                Self(index as u32)
            }
        }
    };
}

index_type!(
    /// A feed imported into the snapshot (index into [`Timetable::feeds`]).
    FeedIdx
);
index_type!(
    /// An agency (index into [`Timetable::agencies`]).
    AgencyIdx
);
index_type!(
    /// A stop, platform, entrance or node (index into [`Timetable::stops`]).
    StopIdx
);
index_type!(
    /// A station: the group of stops a traveller thinks of as one place.
    StationIdx
);
index_type!(
    /// A route (a line, in GTFS terms).
    RouteIdx
);
index_type!(
    /// A trip pattern: trips of one route with the same stop sequence that never overtake.
    PatternIdx
);
index_type!(
    /// A trip. Trips of one pattern are contiguous and sorted by departure.
    TripIdx
);
index_type!(
    /// A service (a set of days, from calendar.txt and calendar_dates.txt).
    ServiceIdx
);
index_type!(
    /// A fare (index into [`Fares::attributes`]).
    FareIdx
);
index_type!(
    /// A shape: the path vehicles drive (shapes.txt), in [`Timetable::shape_offsets`].
    ShapeIdx
);

/// Seconds since the start of a service day, which GTFS defines as noon minus 12 hours local
/// time (so it is midnight except on days when daylight saving time changes). Values of 24 h
/// and more are trips running past midnight.
pub type ServiceSecs = u32;

/// Text in the feed's default language with the translations the feed gives.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalizedText {
    /// The text as the feed writes it in its main file (`stop_name`, `route_long_name`, …).
    pub default: String,
    /// `(language, text)` pairs from translations.txt, language tags as in the feed
    /// (`en`, `ja`, `ja-Hrkt` for kana readings, …).
    pub translations: Vec<(String, String)>,
}

impl LocalizedText {
    pub fn new(default: impl Into<String>) -> Self {
        Self { default: default.into(), translations: Vec::new() }
    }

    /// The text in `lang` (see [`LocalizedText::translation`]), or the default text.
    pub fn get(&self, lang: &str) -> &str {
        self.translation(lang).unwrap_or(&self.default)
    }

    /// The translation into `lang`, if the feed gives one: the same tag, else one of the same
    /// language and script (`zh-Hant` finds `zh-TW`), else the bare language (`en-US` finds
    /// `en`, `ja-Hrkt` finds `ja`); never one in another script (`norikae_wire::lang`).
    pub fn translation(&self, lang: &str) -> Option<&str> {
        let tags = self.translations.iter().map(|(tag, _)| tag.as_str());
        norikae_wire::lang::best_match(lang, tags).map(|index| self.translations[index].1.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.default.is_empty() && self.translations.is_empty()
    }
}

/// One imported feed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Feed {
    /// The namespace of every id from this feed (`ryobi` in `ryobi:18_1`).
    pub name: String,
    /// File or folder it was imported from (as given on the command line).
    pub source: String,
    /// feed_info.txt, where present.
    pub publisher_name: Option<String>,
    pub publisher_url: Option<String>,
    pub version: Option<String>,
    pub lang: Option<String>,
    /// First and last day any service of this feed runs.
    pub first_date: NaiveDate,
    pub last_date: NaiveDate,
    pub counts: FeedCounts,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedCounts {
    pub agencies: u32,
    pub stops: u32,
    pub routes: u32,
    pub trips: u32,
    pub stop_times: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Agency {
    /// `FEED:agency_id` (`FEED:` plus the agency name's position when the feed has no id).
    pub id: String,
    pub feed: FeedIdx,
    pub name: LocalizedText,
    pub url: String,
    pub timezone: String,
    pub lang: Option<String>,
    pub phone: Option<String>,
    pub fare_url: Option<String>,
}

/// GTFS `location_type`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LocationType {
    /// 0: a stop or platform, where vehicles stop.
    #[default]
    Stop,
    /// 1: a station (parent of platforms).
    Station,
    /// 2: an entrance or exit.
    Entrance,
    /// 3: a generic node inside a station.
    GenericNode,
    /// 4: a boarding area on a platform.
    BoardingArea,
}

/// GTFS accessibility value (`wheelchair_boarding`, `wheelchair_accessible`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Accessibility {
    #[default]
    Unknown,
    Accessible,
    NotAccessible,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Stop {
    /// `FEED:stop_id`. A stop that several feeds share keeps the id of the first feed that
    /// has it; the others are in `aliases`.
    pub id: String,
    /// The same stop's ids in the other feeds that share it (`okaden:18_1`).
    pub aliases: Vec<String>,
    pub code: Option<String>,
    pub name: LocalizedText,
    /// The kana reading (GTFS-JP `ja-Hrkt` translation), as the feed writes it.
    pub reading: Option<String>,
    pub lat: f64,
    pub lon: f64,
    pub location_type: LocationType,
    /// parent_station, resolved.
    pub parent: Option<StopIdx>,
    /// The station this stop belongs to (every stop belongs to exactly one).
    pub station: StationIdx,
    pub platform_code: Option<String>,
    pub wheelchair_boarding: Accessibility,
    /// Fare zones, namespaced `FEED:zone_id` (a shared stop may have a zone in each feed).
    pub zone_ids: Vec<String>,
    /// The feeds that have this stop.
    pub feeds: Vec<FeedIdx>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Station {
    /// `FEED:stop_id` of the parent station, or for a station clustered from same-name stops,
    /// the smallest member stop id (stable across imports of the same feeds).
    pub id: String,
    pub name: LocalizedText,
    /// Kana reading as the feed writes it (katakana or hiragana).
    pub reading: Option<String>,
    pub lat: f64,
    pub lon: f64,
    /// Member stops where vehicles stop (location_type 0), sorted.
    pub stops: Vec<StopIdx>,
    /// Entrances, nodes and boarding areas of this station.
    pub other_stops: Vec<StopIdx>,
    /// Routes serving any member stop, sorted.
    pub routes: Vec<RouteIdx>,
    /// Agencies serving any member stop, sorted.
    pub agencies: Vec<AgencyIdx>,
    /// Departures per day from the member stops on the busiest day of a typical week; the
    /// importance used to rank search results.
    pub departures_per_day: u32,
    /// Locality (town, ward) where the feed tells it, for telling same-named stations apart.
    pub locality: Option<String>,
}

/// A mode of transport, from GTFS basic and extended route types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Mode {
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

impl Mode {
    /// Basic (0–12) and extended (100–1700) GTFS route types.
    pub fn from_route_type(route_type: u16) -> Self {
        match route_type {
            0 | 900..=999 => Self::Tram,
            1 | 401..=402 | 500..=599 => Self::Subway,
            2 | 100..=199 | 300..=399 | 400 | 403..=404 => Self::Rail,
            3 | 700..=799 => Self::Bus,
            200..=299 => Self::Coach,
            4 | 1000..=1099 | 1200..=1299 => Self::Ferry,
            5 => Self::CableTram,
            6 | 1300..=1399 => Self::AerialLift,
            7 | 1400..=1499 => Self::Funicular,
            11 | 800..=899 => Self::Trolleybus,
            12 | 405 => Self::Monorail,
            1500..=1599 => Self::Taxi,
            _ => Self::Other,
        }
    }

    /// The lower-case name used in the API (`bus`, `subway`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tram => "tram",
            Self::Subway => "subway",
            Self::Rail => "rail",
            Self::Bus => "bus",
            Self::Ferry => "ferry",
            Self::CableTram => "cable_tram",
            Self::AerialLift => "aerial_lift",
            Self::Funicular => "funicular",
            Self::Trolleybus => "trolleybus",
            Self::Monorail => "monorail",
            Self::Coach => "coach",
            Self::Taxi => "taxi",
            Self::Other => "other",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        const ALL: [Mode; 13] = [
            Mode::Tram,
            Mode::Subway,
            Mode::Rail,
            Mode::Bus,
            Mode::Ferry,
            Mode::CableTram,
            Mode::AerialLift,
            Mode::Funicular,
            Mode::Trolleybus,
            Mode::Monorail,
            Mode::Coach,
            Mode::Taxi,
            Mode::Other,
        ];
        ALL.into_iter().find(|mode| mode.as_str().eq_ignore_ascii_case(name))
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Route {
    /// `FEED:route_id`.
    pub id: String,
    pub agency: AgencyIdx,
    pub short_name: LocalizedText,
    pub long_name: LocalizedText,
    pub desc: Option<String>,
    /// The raw GTFS route_type (basic or extended).
    pub route_type: u16,
    pub mode: Mode,
    /// `RRGGBB`, upper case, without `#`.
    pub color: Option<String>,
    pub text_color: Option<String>,
    pub url: Option<String>,
}

/// A trip pattern: trips of one route that visit the same stops with the same pickup and
/// drop-off rules, split so that no trip overtakes another (so the trips are sorted by time at
/// every stop, not only the first).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Pattern {
    pub route: RouteIdx,
    /// Range into [`Timetable::pattern_stops`] and [`Timetable::pattern_stop_rules`].
    pub stops: Range<u32>,
    /// The pattern's trips (contiguous [`TripIdx`]s), sorted by departure.
    pub trips: Range<u32>,
    /// Offset into [`Timetable::stop_times`] of the first trip's first stop time; stop times
    /// are trip-major: trip `k` (0-based within the pattern) at stop position `i` is at
    /// `stop_times_start + k * stops.len() + i`.
    pub stop_times_start: u32,
}

impl Pattern {
    pub fn num_stops(&self) -> usize {
        (self.stops.end - self.stops.start) as usize
    }

    pub fn num_trips(&self) -> usize {
        (self.trips.end - self.trips.start) as usize
    }
}

/// Arrival and departure of one trip at one stop, in [`ServiceSecs`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub struct StopTime {
    pub arrival: ServiceSecs,
    pub departure: ServiceSecs,
}

/// Whether passengers may board and alight at a stop of a pattern (pickup_type and
/// drop_off_type; "phone the agency" and "ask the driver" count as allowed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(transparent)]
pub struct StopRules(pub u8);

impl StopRules {
    pub const PICKUP: u8 = 1;
    pub const DROP_OFF: u8 = 2;
    pub const BOTH: Self = Self(Self::PICKUP | Self::DROP_OFF);

    pub fn pickup(self) -> bool {
        self.0 & Self::PICKUP != 0
    }

    pub fn drop_off(self) -> bool {
        self.0 & Self::DROP_OFF != 0
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Trip {
    /// `FEED:trip_id`; a trip expanded from frequencies.txt gets `FEED:trip_id@HH:MM:SS`
    /// (its first departure).
    pub id: String,
    pub route: RouteIdx,
    pub pattern: PatternIdx,
    pub service: ServiceIdx,
    pub headsign: LocalizedText,
    pub short_name: Option<String>,
    pub direction_id: Option<u8>,
    pub block_id: Option<String>,
    pub wheelchair_accessible: Accessibility,
}

/// Where the stops of a trip lie along its shape: a shape and, for each stop of the trip's
/// pattern, the segment of the shape (between points `s` and `s + 1`) the stop projects onto,
/// at `stop_segments[segments_start..segments_start + pattern stops]`.
/// Trips of a pattern with the same shape share one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub struct ShapeCut {
    pub shape: ShapeIdx,
    pub segments_start: u32,
}

/// [`Timetable::trip_shape_cuts`] of a trip without a shape: it is drawn stop to stop.
pub const NO_SHAPE_CUT: u32 = u32::MAX;

/// One entry of the stop → pattern index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub struct PatternAtStop {
    pub pattern: PatternIdx,
    /// Position of the stop in the pattern (a pattern may visit a stop twice: two entries).
    pub position: u32,
}

/// A walking link, after transitive closure up to the maximum walking time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub struct Footpath {
    pub to: StopIdx,
    pub duration_secs: u32,
    pub distance_m: u32,
}

/// `min_transfer_secs` of a stop where transfers.txt forbids changing vehicles (type 3 from
/// the stop to itself): longer than any journey, so no change there is ever in time.
pub const FORBIDDEN_TRANSFER_SECS: u32 = 1 << 24;

/// Whom one side of a [`TransferRule`] names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransferParty {
    Route(RouteIdx),
    Trip(TripIdx),
    /// Any trip (the rule names a trip or route on the other side only).
    Any,
}

impl TransferParty {
    fn matches(self, trip: TripIdx, route: RouteIdx) -> bool {
        match self {
            Self::Route(named) => named == route,
            Self::Trip(named) => named == trip,
            Self::Any => true,
        }
    }
}

/// A transfers.txt rule that names trips or routes (`from_trip_id`, `to_route_id`, …): it
/// applies to changes between those only, and over any rule that names stops alone, which
/// the import compiles into [`Timetable::min_transfer_secs`] and the walking links. Rules
/// naming a station are expanded to its member stops; a frequency-based trip to each of its
/// departures; an in-seat rule (type 4) becomes a change of 0 s from the last stop of one trip
/// to the first of the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferRule {
    pub from_stop: StopIdx,
    pub to_stop: StopIdx,
    pub from: TransferParty,
    pub to: TransferParty,
    /// Seconds needed from the arrival of the one trip to the departure of the other (0 for a
    /// timed or in-seat transfer); `None`: the change is not possible.
    pub min_secs: Option<u32>,
    /// The most specific rule that matches a change wins (the lowest rank; of equal ranks the
    /// later rule): 4 × the GTFS specificity level (1: both trips, 2: a trip and the other
    /// side's route, 3: one trip, 4: both routes, 5: one route) + how many sides were named by
    /// a station rather than the stop itself.
    pub rank: u16,
}

/// Fare data from fare_attributes.txt and fare_rules.txt (GTFS Fares v1).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Fares {
    pub attributes: Vec<FareAttribute>,
    pub rules: Vec<FareRule>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FareAttribute {
    /// `FEED:fare_id`.
    pub id: String,
    pub feed: FeedIdx,
    pub price: f64,
    /// ISO 4217 (`JPY`, `USD`).
    pub currency: String,
    /// 0: paid on board, 1: before boarding.
    pub payment_method: u8,
    /// Number of transfers permitted; `None` is unlimited.
    pub transfers: Option<u8>,
    pub agency: Option<AgencyIdx>,
    pub transfer_duration_secs: Option<u32>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FareRule {
    pub fare: FareIdx,
    pub route: Option<RouteIdx>,
    /// Zones namespaced `FEED:zone_id`, as in [`Stop::zone_ids`].
    pub origin_zone: Option<String>,
    pub destination_zone: Option<String>,
    pub contains_zone: Option<String>,
}

/// Facts about the snapshot as a whole.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Meta {
    /// [`FORMAT_VERSION`] at the time of writing.
    pub format_version: u32,
    /// Hex of the content hash over the whole snapshot; set when written or loaded.
    pub content_hash: String,
    /// When the import ran (RFC 3339, UTC).
    pub created_at: String,
    /// The network's IANA time zone: every feed of a snapshot shares one.
    pub timezone: String,
    /// Day 0 of the service bitsets.
    pub first_date: NaiveDate,
    /// Number of days the bitsets cover (the union of all feeds' validity).
    pub num_days: u32,
    /// Settings the walking links were built with.
    pub walking: WalkingSettings,
    /// Warnings the import counted, by kind.
    pub warnings: Vec<(String, u64)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct WalkingSettings {
    /// Stops within this straight-line distance get a walking link (default 400 m).
    pub max_link_distance_m: f64,
    /// Walking speed (default 1.2 m/s); walking distance is straight-line × 1.2 detour.
    pub speed_m_per_s: f64,
    /// Transitive closure stops at this walking time (default 900 s).
    pub max_walk_secs: u32,
    /// Minimum transfer time at a stop when transfers.txt says nothing (default 60 s).
    pub default_min_transfer_secs: u32,
}

impl Default for WalkingSettings {
    fn default() -> Self {
        Self {
            max_link_distance_m: 400.0,
            speed_m_per_s: 1.2,
            max_walk_secs: 900,
            default_min_transfer_secs: 60,
        }
    }
}

/// The compiled timetable.
#[derive(Debug)]
pub struct Timetable {
    pub meta: Meta,
    pub feeds: Vec<Feed>,
    pub agencies: Vec<Agency>,
    pub stops: Vec<Stop>,
    pub stations: Vec<Station>,
    pub routes: Vec<Route>,
    pub patterns: Vec<Pattern>,
    pub trips: Vec<Trip>,
    pub fares: Fares,

    /// Stops of every pattern, sliced by [`Pattern::stops`].
    pub pattern_stops: Column<StopIdx>,
    /// Pickup / drop-off rules, parallel to `pattern_stops`.
    pub pattern_stop_rules: Column<StopRules>,
    /// Stop times of every pattern, laid out as [`Pattern::stop_times_start`] says.
    pub stop_times: Column<StopTime>,
    /// The service of each trip, parallel to `trips` (hot copy of [`Trip::service`]).
    pub trip_services: Column<ServiceIdx>,
    /// Bitsets of service days: service `s` owns words
    /// `[s * service_words, (s + 1) * service_words)`; bit `d` is day `meta.first_date + d`.
    pub service_days: Column<u64>,
    pub service_words: u32,
    /// Stop → patterns index: entries of stop `s` are
    /// `patterns_at_stop[stop_pattern_offsets[s]..stop_pattern_offsets[s + 1]]`.
    pub stop_pattern_offsets: Column<u32>,
    pub patterns_at_stop: Column<PatternAtStop>,
    /// Walking links (transitively closed), sliced per stop like the pattern index. A stop's
    /// own minimum transfer time is in `min_transfer_secs`, not here.
    pub footpath_offsets: Column<u32>,
    pub footpaths: Column<Footpath>,
    /// Minimum time to change vehicles at the same stop ([`FORBIDDEN_TRANSFER_SECS`] where no
    /// change is allowed), by the stop rules of transfers.txt (a stop's rule over its
    /// station's) or the default.
    pub min_transfer_secs: Column<u32>,
    /// transfers.txt rules naming trips or routes, sorted by `from_stop` (see
    /// [`Timetable::transfer_rules_from`]).
    pub transfer_rules: Vec<TransferRule>,

    /// Shapes: shape `s` is the bytes `shape_points[shape_offsets[s]..shape_offsets[s + 1]]`,
    /// its points as zigzag varints of micro-degree deltas, latitude then longitude, the first
    /// point's deltas from (0, 0) (see [`crate::shapes`]). Identical shapes are stored once.
    pub shape_offsets: Column<u32>,
    pub shape_points: Column<u8>,
    /// Per trip: its index into `shape_cuts`, or [`NO_SHAPE_CUT`].
    pub trip_shape_cuts: Column<u32>,
    pub shape_cuts: Column<ShapeCut>,
    /// Segment indices of the stops along their shapes, sliced by [`ShapeCut::segments_start`].
    pub stop_segments: Column<u32>,

    /// `meta.timezone`, parsed (not stored in the snapshot; set when built or loaded).
    pub tz: chrono_tz::Tz,
    /// Public id → index, including shared-stop aliases (not stored in the snapshot; built
    /// when the timetable is built or loaded).
    pub index: IdIndex,
}

impl Timetable {
    pub fn pattern_stops(&self, pattern: PatternIdx) -> &[StopIdx] {
        let range = &self.patterns[pattern.idx()].stops;
        &self.pattern_stops[range.start as usize..range.end as usize]
    }

    pub fn pattern_stop_rules(&self, pattern: PatternIdx) -> &[StopRules] {
        let range = &self.patterns[pattern.idx()].stops;
        &self.pattern_stop_rules[range.start as usize..range.end as usize]
    }

    /// Stop times of trip number `trip_in_pattern` (0-based within the pattern).
    pub fn trip_stop_times(&self, pattern: PatternIdx, trip_in_pattern: usize) -> &[StopTime] {
        let pattern = &self.patterns[pattern.idx()];
        let num_stops = pattern.num_stops();
        let start = pattern.stop_times_start as usize + trip_in_pattern * num_stops;
        &self.stop_times[start..start + num_stops]
    }

    pub fn patterns_at_stop(&self, stop: StopIdx) -> &[PatternAtStop] {
        let start = self.stop_pattern_offsets[stop.idx()] as usize;
        let end = self.stop_pattern_offsets[stop.idx() + 1] as usize;
        &self.patterns_at_stop[start..end]
    }

    pub fn footpaths(&self, stop: StopIdx) -> &[Footpath] {
        let start = self.footpath_offsets[stop.idx()] as usize;
        let end = self.footpath_offsets[stop.idx() + 1] as usize;
        &self.footpaths[start..end]
    }

    /// The rules naming trips or routes for changes from vehicles arriving at `stop`.
    pub fn transfer_rules_from(&self, stop: StopIdx) -> &[TransferRule] {
        let start = self.transfer_rules.partition_point(|rule| rule.from_stop < stop);
        let end =
            start + self.transfer_rules[start..].partition_point(|rule| rule.from_stop == stop);
        &self.transfer_rules[start..end]
    }

    /// The most specific rule naming trips or routes for changing from `from_trip`, left at
    /// `from_stop`, to `to_trip` at `to_stop`: `None` when no such rule applies (the stop rules
    /// do), `Some(None)` when the change is not possible, else `Some(Some(seconds))` needed.
    pub fn trip_transfer_rule(
        &self,
        from_trip: TripIdx,
        from_stop: StopIdx,
        to_trip: TripIdx,
        to_stop: StopIdx,
    ) -> Option<Option<u32>> {
        let rules = self.transfer_rules_from(from_stop);
        if rules.is_empty() {
            return None;
        }
        let (from_route, to_route) =
            (self.trips[from_trip.idx()].route, self.trips[to_trip.idx()].route);
        let mut best: Option<&TransferRule> = None;
        for rule in rules {
            if rule.to_stop == to_stop
                && rule.from.matches(from_trip, from_route)
                && rule.to.matches(to_trip, to_route)
                && best.is_none_or(|best| rule.rank <= best.rank)
            {
                best = Some(rule);
            }
        }
        best.map(|rule| rule.min_secs)
    }

    /// The seconds a change from `from_trip` at `from_stop` to `to_trip` at `to_stop` needs
    /// under every rule (trip and route rules, then the stop's minimum transfer time or the
    /// walking link between the stops); `None` when it is not possible.
    pub fn change_secs(
        &self,
        from_trip: TripIdx,
        from_stop: StopIdx,
        to_trip: TripIdx,
        to_stop: StopIdx,
    ) -> Option<u32> {
        if let Some(rule) = self.trip_transfer_rule(from_trip, from_stop, to_trip, to_stop) {
            return rule;
        }
        if from_stop == to_stop {
            let secs = self.min_transfer_secs[from_stop.idx()];
            return (secs < FORBIDDEN_TRANSFER_SECS).then_some(secs);
        }
        self.footpaths(from_stop)
            .iter()
            .find(|footpath| footpath.to == to_stop)
            .map(|footpath| footpath.duration_secs)
    }

    /// Whether `service` runs on day number `day` (0 is `meta.first_date`).
    #[inline]
    pub fn service_runs(&self, service: ServiceIdx, day: u32) -> bool {
        if day >= self.meta.num_days {
            return false;
        }
        let words = self.service_words as usize;
        let word = self.service_days[service.idx() * words + (day / 64) as usize];
        word & (1u64 << (day % 64)) != 0
    }

    #[inline]
    pub fn trip_runs(&self, trip: TripIdx, day: u32) -> bool {
        self.service_runs(self.trip_services[trip.idx()], day)
    }

    /// Day number of `date`, if it lies within the snapshot's days.
    pub fn day_index(&self, date: NaiveDate) -> Option<u32> {
        let days = (date - self.meta.first_date).num_days();
        (0..i64::from(self.meta.num_days)).contains(&days).then_some(days as u32)
    }

    pub fn date_of_day(&self, day: u32) -> NaiveDate {
        self.meta.first_date + chrono::Days::new(u64::from(day))
    }

    /// Start of the service day `date` in the network's time zone: noon minus 12 hours, as
    /// GTFS defines it (23:00 or 01:00 of the calendar day on daylight-saving change days).
    /// A stop time `t` of that service day happens at `service_day_start(date) + t seconds`.
    pub fn service_day_start(&self, date: NaiveDate) -> chrono::DateTime<chrono_tz::Tz> {
        service_day_start(self.tz, date)
    }

    /// The stop with this public id (`ryobi:18_1`) or alias (`okaden:18_1`).
    pub fn stop_by_id(&self, id: &str) -> Option<StopIdx> {
        self.index.stop(self, id)
    }

    /// The station with this id; a stop id (or alias) finds the station of that stop.
    pub fn station_by_id(&self, id: &str) -> Option<StationIdx> {
        if let Some(station) = self.index.station(self, id) {
            return Some(station);
        }
        self.stop_by_id(id).map(|stop| self.stops[stop.idx()].station)
    }

    pub fn route_by_id(&self, id: &str) -> Option<RouteIdx> {
        self.index.route(self, id)
    }

    pub fn agency_by_id(&self, id: &str) -> Option<AgencyIdx> {
        self.index.agency(self, id)
    }

    /// The trip with this id (frequency-expanded trips: `FEED:trip_id@HH:MM:SS`).
    pub fn trip_by_id(&self, id: &str) -> Option<TripIdx> {
        self.index.trip(self, id)
    }

    /// Position of `trip` within its pattern (for [`Timetable::trip_stop_times`]).
    pub fn trip_in_pattern(&self, trip: TripIdx) -> usize {
        let pattern = &self.patterns[self.trips[trip.idx()].pattern.idx()];
        (trip.0 - pattern.trips.start) as usize
    }

    /// Stop times of a trip, by its [`TripIdx`].
    pub fn stop_times_of_trip(&self, trip: TripIdx) -> &[StopTime] {
        self.trip_stop_times(self.trips[trip.idx()].pattern, self.trip_in_pattern(trip))
    }
}

/// Noon minus 12 hours of `date` in `tz` (the GTFS service-day origin).
pub fn service_day_start(tz: chrono_tz::Tz, date: NaiveDate) -> chrono::DateTime<chrono_tz::Tz> {
    let noon = date.and_hms_opt(12, 0, 0).unwrap_or_default();
    // Noon exists exactly once in every real time zone; fall back to reading it as UTC.
    let local_noon =
        tz.from_local_datetime(&noon).earliest().unwrap_or_else(|| tz.from_utc_datetime(&noon));
    local_noon - chrono::Duration::hours(12)
}
