//! Parsing one feed's files into [`RawFeed`]: feed-local rows with ids resolved to feed-local
//! positions, ready to be merged with other feeds by `build`.

use chrono::NaiveDate;
use rustc_hash::FxHashMap;

use super::source::{FeedSource, Table, get, get_opt};
use super::{ImportLimits, Progress};
use crate::error::{Error, Result};
use crate::model::{Accessibility, LocationType, StopRules};
use crate::warnings::Warnings;

/// A stop time without a time (to be interpolated).
pub(crate) const NO_TIME: u32 = u32::MAX;

#[derive(Debug, Default)]
pub(crate) struct FeedInfo {
    pub publisher_name: Option<String>,
    pub publisher_url: Option<String>,
    pub version: Option<String>,
    pub lang: Option<String>,
}

#[derive(Debug)]
pub(crate) struct RawAgency {
    pub id: String,
    pub name: String,
    pub url: String,
    pub timezone: String,
    pub lang: Option<String>,
    pub phone: Option<String>,
    pub fare_url: Option<String>,
}

#[derive(Debug)]
pub(crate) struct RawStop {
    pub id: String,
    pub code: Option<String>,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    pub location_type: LocationType,
    pub parent_id: Option<String>,
    pub platform_code: Option<String>,
    pub wheelchair_boarding: Accessibility,
    pub zone_id: Option<String>,
}

#[derive(Debug)]
pub(crate) struct RawRoute {
    pub id: String,
    pub agency_id: Option<String>,
    pub short_name: String,
    pub long_name: String,
    pub desc: Option<String>,
    pub route_type: u16,
    pub color: Option<String>,
    pub text_color: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug)]
pub(crate) struct RawTrip {
    pub id: String,
    pub route: u32,
    pub service: u32,
    pub headsign: String,
    pub short_name: Option<String>,
    pub direction_id: Option<u8>,
    pub block_id: Option<String>,
    pub wheelchair_accessible: Accessibility,
    /// Position of the trip's shape in [`RawFeed::shape_ranges`].
    pub shape: Option<u32>,
}

/// A point of shapes.txt, in micro-degrees.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawShapePoint {
    pub shape: u32,
    pub sequence: u32,
    pub lat: i32,
    pub lon: i32,
    /// shape_dist_traveled, NaN when absent.
    pub dist: f32,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct RawStopTime {
    pub trip: u32,
    pub sequence: u32,
    pub stop: u32,
    pub arrival: u32,
    pub departure: u32,
    pub shape_dist: f32,
    pub rules: StopRules,
}

#[derive(Debug)]
pub(crate) struct RawCalendar {
    pub service: u32,
    /// Monday first.
    pub weekdays: [bool; 7],
    pub start: NaiveDate,
    pub end: NaiveDate,
}

#[derive(Debug)]
pub(crate) struct RawFrequency {
    pub trip: u32,
    pub start: u32,
    pub end: u32,
    pub headway: u32,
}

/// A row of transfers.txt, its ids resolved to positions in this feed.
#[derive(Debug)]
pub(crate) struct RawTransfer {
    /// Stop positions; absent only for in-seat rules (types 4 and 5), which name trips.
    pub from: Option<u32>,
    pub to: Option<u32>,
    pub from_route: Option<u32>,
    pub to_route: Option<u32>,
    pub from_trip: Option<u32>,
    pub to_trip: Option<u32>,
    /// 0 recommended, 1 timed, 2 minimum time, 3 not possible, 4 in-seat, 5 no in-seat.
    pub transfer_type: u8,
    pub min_transfer_secs: Option<u32>,
    /// Line in transfers.txt, for warnings after parsing.
    pub line: u64,
}

#[derive(Debug)]
pub(crate) struct RawFareAttribute {
    pub id: String,
    pub price: f64,
    pub currency: String,
    pub payment_method: u8,
    pub transfers: Option<u8>,
    pub agency_id: Option<String>,
    pub transfer_duration_secs: Option<u32>,
}

#[derive(Debug)]
pub(crate) struct RawFareRule {
    pub fare: u32,
    pub route: Option<u32>,
    pub origin_zone: Option<String>,
    pub destination_zone: Option<String>,
    pub contains_zone: Option<String>,
}

/// `(language, text)` pairs.
pub(crate) type TranslationList = Vec<(String, String)>;

/// translations.txt in either form.
#[derive(Debug, Default)]
pub(crate) struct Translations {
    /// Legacy `trans_id,lang,translation`: keyed by the text itself, any table and field.
    pub by_text: FxHashMap<String, Vec<(String, String)>>,
    /// Current form with `field_value`: keyed by (table, field, text).
    pub by_value: FxHashMap<(String, String, String), Vec<(String, String)>>,
    /// Current form with `record_id`: keyed by (table, field, record_id, record_sub_id).
    pub by_record: FxHashMap<(String, String, String, String), TranslationList>,
}

impl Translations {
    /// The translations of a field of a record (`table` as in translations.txt: `stops`).
    pub(crate) fn lookup(
        &self,
        table: &str,
        field: &str,
        record_id: &str,
        text: &str,
    ) -> Vec<(String, String)> {
        if self.by_text.is_empty() && self.by_value.is_empty() && self.by_record.is_empty() {
            return Vec::new();
        }
        let key = (table.to_owned(), field.to_owned(), record_id.to_owned(), String::new());
        if let Some(found) = self.by_record.get(&key) {
            return found.clone();
        }
        if text.is_empty() {
            return Vec::new();
        }
        if let Some(found) =
            self.by_value.get(&(table.to_owned(), field.to_owned(), text.to_owned()))
        {
            return found.clone();
        }
        self.by_text.get(text).cloned().unwrap_or_default()
    }
}

/// Everything read from one feed.
#[derive(Debug, Default)]
pub(crate) struct RawFeed {
    pub name: String,
    pub source: String,
    pub info: FeedInfo,
    pub agencies: Vec<RawAgency>,
    pub stops: Vec<RawStop>,
    pub stop_ids: FxHashMap<String, u32>,
    pub routes: Vec<RawRoute>,
    pub route_ids: FxHashMap<String, u32>,
    pub service_ids: FxHashMap<String, u32>,
    pub services: Vec<String>,
    pub calendars: Vec<RawCalendar>,
    /// (service, date, added).
    pub calendar_dates: Vec<(u32, NaiveDate, bool)>,
    /// Services that are the union of others: (service, parts).
    pub service_unions: Vec<(u32, Vec<u32>)>,
    /// Stop ids that stop_times.txt names but stops.txt lacks; stop position
    /// `stops.len() + k` is `missing_stop_ids[k]`. Resolved against the other feeds (the
    /// Okayama feeds share one stop-id space), else the stop times are dropped.
    pub missing_stop_ids: Vec<String>,
    pub trips: Vec<RawTrip>,
    pub trip_ids: FxHashMap<String, u32>,
    pub shape_ids: FxHashMap<String, u32>,
    /// Every point of shapes.txt, sorted by (shape, sequence).
    pub shape_points: Vec<RawShapePoint>,
    /// Per shape position: its points in `shape_points`.
    pub shape_ranges: Vec<std::ops::Range<u32>>,
    /// Sorted by (trip, sequence).
    pub stop_times: Vec<RawStopTime>,
    pub frequencies: Vec<RawFrequency>,
    pub transfers: Vec<RawTransfer>,
    pub translations: Translations,
    pub fare_attributes: Vec<RawFareAttribute>,
    pub fare_rules: Vec<RawFareRule>,
    pub warnings: Warnings,
}

/// Parses `H:MM:SS` or `HH:MM:SS` (hours may be 24 and more) into seconds.
pub fn parse_time(text: &str) -> Option<u32> {
    let mut parts = text.split(':');
    let hours = parts.next()?;
    let minutes = parts.next()?;
    let seconds = parts.next()?;
    if parts.next().is_some()
        || hours.is_empty()
        || hours.len() > 3
        || minutes.len() != 2
        || seconds.len() != 2
    {
        return None;
    }
    let digits = |part: &str| -> Option<u32> {
        part.bytes().try_fold(0u32, |value, byte| {
            byte.is_ascii_digit().then(|| value * 10 + u32::from(byte - b'0'))
        })
    };
    let (hours, minutes, seconds) = (digits(hours)?, digits(minutes)?, digits(seconds)?);
    (minutes < 60 && seconds < 60).then_some(hours * 3600 + minutes * 60 + seconds)
}

/// Parses `YYYYMMDD` (and, leniently, `YYYY-MM-DD`).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y%m%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%Y-%m-%d"))
        .ok()
}

fn parse_accessibility(text: &str) -> Accessibility {
    match text {
        "1" => Accessibility::Accessible,
        "2" => Accessibility::NotAccessible,
        _ => Accessibility::Unknown,
    }
}

/// `RRGGBB` upper case, without `#`; `None` when empty or malformed.
fn parse_color(text: &str) -> Option<String> {
    let hex = text.trim_start_matches('#');
    (hex.len() == 6 && hex.bytes().all(|byte| byte.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_uppercase())
}

/// Reads every file of one feed.
pub(crate) fn read_feed(
    name: &str,
    path: &std::path::Path,
    limits: &ImportLimits,
    with_shapes: bool,
    progress: &dyn Progress,
) -> Result<RawFeed> {
    let mut source = FeedSource::open(name, path, limits)?;
    let mut feed =
        RawFeed { name: name.to_owned(), source: path.display().to_string(), ..RawFeed::default() };
    for required in ["agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt"] {
        if !source.has(required) {
            return Err(Error::MissingFile { feed: name.to_owned(), file: required });
        }
    }
    if !source.has("calendar.txt") && !source.has("calendar_dates.txt") {
        return Err(Error::NoCalendar { feed: name.to_owned() });
    }
    source.read("agency.txt", |table| read_agencies(table, &mut feed))?;
    source.read("stops.txt", |table| read_stops(table, &mut feed))?;
    source.read("routes.txt", |table| read_routes(table, &mut feed))?;
    source.read("calendar.txt", |table| read_calendar(table, &mut feed))?;
    source.read("calendar_dates.txt", |table| read_calendar_dates(table, &mut feed))?;
    if with_shapes {
        source.read("shapes.txt", |table| read_shapes(table, &mut feed))?;
    }
    source.read("trips.txt", |table| read_trips(table, &mut feed))?;
    source.read("stop_times.txt", |table| read_stop_times(table, &mut feed, progress))?;
    source.read("frequencies.txt", |table| read_frequencies(table, &mut feed, limits))?;
    source.read("transfers.txt", |table| read_transfers(table, &mut feed))?;
    source.read("translations.txt", |table| read_translations(table, &mut feed))?;
    source.read("feed_info.txt", |table| read_feed_info(table, &mut feed))?;
    source.read("fare_attributes.txt", |table| read_fare_attributes(table, &mut feed))?;
    source.read("fare_rules.txt", |table| read_fare_rules(table, &mut feed))?;
    Ok(feed)
}

fn read_agencies(table: &mut Table<'_>, feed: &mut RawFeed) -> Result<()> {
    let id = table.column("agency_id");
    let name = table.required("agency_name")?;
    let url = table.column("agency_url");
    let timezone = table.required("agency_timezone")?;
    let lang = table.column("agency_lang");
    let phone = table.column("agency_phone");
    let fare_url = table.column("agency_fare_url");
    let mut record = csv::StringRecord::new();
    while table.next(&mut record)? {
        let timezone_value = get(&record, Some(timezone));
        if timezone_value.is_empty() {
            return Err(Error::Field {
                feed: table.feed.to_owned(),
                file: table.file,
                line: Table::line(&record),
                field: "agency_timezone",
                message: "empty".to_owned(),
            });
        }
        let position = feed.agencies.len();
        feed.agencies.push(RawAgency {
            id: get_opt(&record, id).map_or_else(|| position.to_string(), str::to_owned),
            name: get(&record, Some(name)).to_owned(),
            url: get(&record, url).to_owned(),
            timezone: timezone_value.to_owned(),
            lang: get_opt(&record, lang).map(str::to_owned),
            phone: get_opt(&record, phone).map(str::to_owned),
            fare_url: get_opt(&record, fare_url).map(str::to_owned),
        });
    }
    if feed.agencies.is_empty() {
        return Err(Error::NothingToRoute {
            reason: format!("feed {}: agency.txt has no agency", table.feed),
        });
    }
    Ok(())
}

fn read_stops(table: &mut Table<'_>, feed: &mut RawFeed) -> Result<()> {
    let id = table.required("stop_id")?;
    let code = table.column("stop_code");
    let name = table.column("stop_name");
    let lat = table.column("stop_lat");
    let lon = table.column("stop_lon");
    let location_type = table.column("location_type");
    let parent = table.column("parent_station");
    let platform_code = table.column("platform_code");
    let wheelchair = table.column("wheelchair_boarding");
    let zone = table.column("zone_id");
    let mut record = csv::StringRecord::new();
    while table.next(&mut record)? {
        let stop_id = get(&record, Some(id));
        if stop_id.is_empty() {
            feed.warnings.add("empty_id", || table.at(&record, "stop_id", "empty; row skipped"));
            continue;
        }
        if feed.stop_ids.contains_key(stop_id) {
            feed.warnings.add("duplicate_id", || {
                table.at(&record, "stop_id", format!("{stop_id:?} repeated; row skipped"))
            });
            continue;
        }
        let location_type = match get(&record, location_type) {
            "" | "0" => LocationType::Stop,
            "1" => LocationType::Station,
            "2" => LocationType::Entrance,
            "3" => LocationType::GenericNode,
            "4" => LocationType::BoardingArea,
            other => {
                feed.warnings.add("bad_value", || {
                    table.at(&record, "location_type", format!("{other:?} unknown; read as 0"))
                });
                LocationType::Stop
            }
        };
        let coordinate = |column: Option<usize>, limit: f64| {
            get(&record, column)
                .parse::<f64>()
                .ok()
                .filter(|value| value.is_finite() && value.abs() <= limit)
        };
        let (stop_lat, stop_lon) = match (coordinate(lat, 90.0), coordinate(lon, 180.0)) {
            (Some(stop_lat), Some(stop_lon)) => (stop_lat, stop_lon),
            _ if matches!(
                location_type,
                LocationType::GenericNode | LocationType::BoardingArea
            ) =>
            {
                (f64::NAN, f64::NAN)
            }
            _ => {
                feed.warnings.add("bad_coordinates", || {
                    table.at(
                        &record,
                        "stop_lat",
                        format!("stop {stop_id:?} has no valid position; row skipped"),
                    )
                });
                continue;
            }
        };
        let position = feed.stops.len() as u32;
        feed.stop_ids.insert(stop_id.to_owned(), position);
        feed.stops.push(RawStop {
            id: stop_id.to_owned(),
            code: get_opt(&record, code).map(str::to_owned),
            name: get(&record, name).to_owned(),
            lat: stop_lat,
            lon: stop_lon,
            location_type,
            parent_id: get_opt(&record, parent).map(str::to_owned),
            platform_code: get_opt(&record, platform_code).map(str::to_owned),
            wheelchair_boarding: parse_accessibility(get(&record, wheelchair)),
            zone_id: get_opt(&record, zone).map(str::to_owned),
        });
    }
    Ok(())
}

fn read_routes(table: &mut Table<'_>, feed: &mut RawFeed) -> Result<()> {
    let id = table.required("route_id")?;
    let agency = table.column("agency_id");
    let short_name = table.column("route_short_name");
    let long_name = table.column("route_long_name");
    let desc = table.column("route_desc");
    let route_type = table.required("route_type")?;
    let url = table.column("route_url");
    let color = table.column("route_color");
    let text_color = table.column("route_text_color");
    let mut record = csv::StringRecord::new();
    while table.next(&mut record)? {
        let route_id = get(&record, Some(id));
        if route_id.is_empty() || feed.route_ids.contains_key(route_id) {
            feed.warnings.add("duplicate_id", || {
                table.at(
                    &record,
                    "route_id",
                    format!("{route_id:?} empty or repeated; row skipped"),
                )
            });
            continue;
        }
        let route_type_value = get(&record, Some(route_type)).parse::<u16>().unwrap_or_else(|_| {
            feed.warnings.add("bad_value", || {
                table.at(
                    &record,
                    "route_type",
                    format!(
                        "{:?} is not a route type; read as 3 (bus)",
                        get(&record, Some(route_type))
                    ),
                )
            });
            3
        });
        feed.route_ids.insert(route_id.to_owned(), feed.routes.len() as u32);
        feed.routes.push(RawRoute {
            id: route_id.to_owned(),
            agency_id: get_opt(&record, agency).map(str::to_owned),
            short_name: get(&record, short_name).to_owned(),
            long_name: get(&record, long_name).to_owned(),
            desc: get_opt(&record, desc).map(str::to_owned),
            route_type: route_type_value,
            color: parse_color(get(&record, color)),
            text_color: parse_color(get(&record, text_color)),
            url: get_opt(&record, url).map(str::to_owned),
        });
    }
    Ok(())
}

fn service_position(feed: &mut RawFeed, service_id: &str) -> u32 {
    if let Some(&position) = feed.service_ids.get(service_id) {
        return position;
    }
    let position = feed.services.len() as u32;
    feed.service_ids.insert(service_id.to_owned(), position);
    feed.services.push(service_id.to_owned());
    position
}

fn read_calendar(table: &mut Table<'_>, feed: &mut RawFeed) -> Result<()> {
    let id = table.required("service_id")?;
    let mut days = [0; 7];
    for (slot, day) in days.iter_mut().zip([
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]) {
        *slot = table.required(day)?;
    }
    let start = table.required("start_date")?;
    let end = table.required("end_date")?;
    let mut record = csv::StringRecord::new();
    while table.next(&mut record)? {
        let (Some(start_date), Some(end_date)) =
            (parse_date(get(&record, Some(start))), parse_date(get(&record, Some(end))))
        else {
            feed.warnings
                .add("bad_date", || table.at(&record, "start_date", "malformed date; row skipped"));
            continue;
        };
        let service = service_position(feed, get(&record, Some(id)));
        let weekdays = days.map(|column| get(&record, Some(column)) == "1");
        feed.calendars.push(RawCalendar { service, weekdays, start: start_date, end: end_date });
    }
    Ok(())
}

fn read_calendar_dates(table: &mut Table<'_>, feed: &mut RawFeed) -> Result<()> {
    let id = table.required("service_id")?;
    let date = table.required("date")?;
    let exception = table.required("exception_type")?;
    let mut record = csv::StringRecord::new();
    while table.next(&mut record)? {
        let Some(day) = parse_date(get(&record, Some(date))) else {
            feed.warnings.add("bad_date", || {
                table.at(
                    &record,
                    "date",
                    format!("malformed date {:?}; row skipped", get(&record, Some(date))),
                )
            });
            continue;
        };
        let added = match get(&record, Some(exception)) {
            "1" => true,
            "2" => false,
            other => {
                feed.warnings.add("bad_value", || {
                    table.at(
                        &record,
                        "exception_type",
                        format!("{other:?} is neither 1 nor 2; row skipped"),
                    )
                });
                continue;
            }
        };
        let service = service_position(feed, get(&record, Some(id)));
        feed.calendar_dates.push((service, day, added));
    }
    Ok(())
}

fn read_trips(table: &mut Table<'_>, feed: &mut RawFeed) -> Result<()> {
    let mut extra_services: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
    let route = table.required("route_id")?;
    let service = table.required("service_id")?;
    let id = table.required("trip_id")?;
    let headsign = table.column("trip_headsign");
    let short_name = table.column("trip_short_name");
    let direction = table.column("direction_id");
    let block = table.column("block_id");
    let wheelchair = table.column("wheelchair_accessible");
    let shape = table.column("shape_id");
    let mut record = csv::StringRecord::new();
    while table.next(&mut record)? {
        let trip_id = get(&record, Some(id));
        if let Some(&existing) = feed.trip_ids.get(trip_id) {
            // Some feeds (Okayama's chutetsu) repeat a trip once per service it runs on: the
            // trip then runs on the union of those services.
            let service_id = get(&record, Some(service));
            let extra = feed.service_ids.get(service_id).copied();
            match extra {
                Some(extra) if extra != feed.trips[existing as usize].service => {
                    let services = extra_services
                        .entry(existing)
                        .or_insert_with(|| vec![feed.trips[existing as usize].service]);
                    if !services.contains(&extra) {
                        services.push(extra);
                    }
                    feed.warnings.add("trip_repeated_per_service", || {
                        table.at(&record, "trip_id", format!("{trip_id:?} repeated with service {service_id:?}; runs on both services"))
                    });
                }
                _ => feed.warnings.add("duplicate_id", || {
                    table.at(&record, "trip_id", format!("{trip_id:?} repeated; row skipped"))
                }),
            }
            continue;
        }
        if trip_id.is_empty() {
            feed.warnings.add("empty_id", || table.at(&record, "trip_id", "empty; row skipped"));
            continue;
        }
        let route_id = get(&record, Some(route));
        let Some(&route_position) = feed.route_ids.get(route_id) else {
            feed.warnings.add("unknown_route", || {
                table.at(&record, "route_id", format!("unknown route {route_id:?}; trip skipped"))
            });
            continue;
        };
        let service_id = get(&record, Some(service));
        let Some(&service_position) = feed.service_ids.get(service_id) else {
            feed.warnings.add("unknown_service", || {
                table.at(
                    &record,
                    "service_id",
                    format!("service {service_id:?} is in neither calendar file; trip skipped"),
                )
            });
            continue;
        };
        let direction_id = match get(&record, direction) {
            "" => None,
            "0" => Some(0),
            "1" => Some(1),
            other => {
                feed.warnings.add("bad_value", || {
                    table.at(
                        &record,
                        "direction_id",
                        format!("{other:?} is neither 0 nor 1; ignored"),
                    )
                });
                None
            }
        };
        let shape_position = match get(&record, shape) {
            "" => None,
            shape_id => {
                let position = feed.shape_ids.get(shape_id).copied();
                if position.is_none() && !feed.shape_ids.is_empty() {
                    feed.warnings.add("unknown_shape", || {
                        table.at(
                            &record,
                            "shape_id",
                            format!("unknown shape {shape_id:?}; the trip is drawn stop to stop"),
                        )
                    });
                }
                position
            }
        };
        feed.trip_ids.insert(trip_id.to_owned(), feed.trips.len() as u32);
        feed.trips.push(RawTrip {
            id: trip_id.to_owned(),
            route: route_position,
            service: service_position,
            headsign: get(&record, headsign).to_owned(),
            short_name: get_opt(&record, short_name).map(str::to_owned),
            direction_id,
            block_id: get_opt(&record, block).map(str::to_owned),
            wheelchair_accessible: parse_accessibility(get(&record, wheelchair)),
            shape: shape_position,
        });
    }
    let mut trips_with_unions: Vec<(u32, Vec<u32>)> =
        extra_services.into_iter().filter(|(_, services)| services.len() > 1).collect();
    trips_with_unions.sort_unstable();
    let mut union_of: FxHashMap<Vec<u32>, u32> = FxHashMap::default();
    for (trip, mut parts) in trips_with_unions {
        parts.sort_unstable();
        let union = match union_of.get(&parts) {
            Some(&union) => union,
            None => {
                let name = parts
                    .iter()
                    .map(|part| feed.services[*part as usize].as_str())
                    .collect::<Vec<_>>()
                    .join("+");
                let union = service_position(feed, &name);
                feed.service_unions.push((union, parts.clone()));
                union_of.insert(parts, union);
                union
            }
        };
        feed.trips[trip as usize].service = union;
    }
    Ok(())
}

/// Reads shapes.txt into [`RawFeed::shape_points`] (micro-degrees, sorted by shape and
/// sequence) and [`RawFeed::shape_ranges`]. Rows with a bad coordinate or sequence are skipped
/// with a warning; a shape left with fewer than two points draws its trips stop to stop.
fn read_shapes(table: &mut Table<'_>, feed: &mut RawFeed) -> Result<()> {
    let id = table.required("shape_id")?;
    let lat = table.required("shape_pt_lat")?;
    let lon = table.required("shape_pt_lon")?;
    let sequence = table.required("shape_pt_sequence")?;
    let dist = table.column("shape_dist_traveled");
    let mut record = csv::StringRecord::new();
    let mut last_shape: Option<(String, u32)> = None;
    let mut points = Vec::new();
    while table.next(&mut record)? {
        let shape_id = get(&record, Some(id));
        if shape_id.is_empty() {
            feed.warnings.add("empty_id", || table.at(&record, "shape_id", "empty; row skipped"));
            continue;
        }
        let shape_position = match &last_shape {
            Some((last_id, position)) if last_id == shape_id => *position,
            _ => {
                let next = feed.shape_ids.len() as u32;
                let position = *feed.shape_ids.entry(shape_id.to_owned()).or_insert(next);
                last_shape = Some((shape_id.to_owned(), position));
                position
            }
        };
        let micro_degrees = |text: &str, limit: f64| {
            text.trim()
                .parse::<f64>()
                .ok()
                .filter(|value| value.is_finite() && value.abs() <= limit)
                .map(|value| (value * 1e6).round() as i32)
        };
        let (Some(lat_value), Some(lon_value)) = (
            micro_degrees(get(&record, Some(lat)), 90.0),
            micro_degrees(get(&record, Some(lon)), 180.0),
        ) else {
            feed.warnings.add("bad_coordinates", || {
                table.at(&record, "shape_pt_lat", "not a latitude and longitude; point skipped")
            });
            continue;
        };
        let Ok(sequence_value) = get(&record, Some(sequence)).trim().parse::<u32>() else {
            feed.warnings.add("bad_value", || {
                table.at(&record, "shape_pt_sequence", "not a number; point skipped")
            });
            continue;
        };
        points.push(RawShapePoint {
            shape: shape_position,
            sequence: sequence_value,
            lat: lat_value,
            lon: lon_value,
            dist: get(&record, dist).trim().parse::<f32>().unwrap_or(f32::NAN),
        });
    }
    if !points.is_sorted_by_key(|point| (point.shape, point.sequence)) {
        points.sort_by_key(|point| (point.shape, point.sequence));
    }
    let mut ranges = vec![0..0; feed.shape_ids.len()];
    let mut start = 0;
    for group in points.chunk_by(|a, b| a.shape == b.shape) {
        let end = start + group.len() as u32;
        ranges[group[0].shape as usize] = start..end;
        start = end;
    }
    feed.shape_points = points;
    feed.shape_ranges = ranges;
    Ok(())
}

fn read_stop_times(
    table: &mut Table<'_>,
    feed: &mut RawFeed,
    progress: &dyn Progress,
) -> Result<()> {
    let trip = table.required("trip_id")?;
    let arrival = table.required("arrival_time")?;
    let departure = table.required("departure_time")?;
    let stop = table.required("stop_id")?;
    let sequence = table.required("stop_sequence")?;
    let pickup = table.column("pickup_type");
    let drop_off = table.column("drop_off_type");
    let shape_dist = table.column("shape_dist_traveled");
    let bar = progress.start(&format!("{}: stop_times.txt", table.feed), table.size);
    let mut record = csv::StringRecord::new();
    // Rows of one trip are usually together: remember the last trip looked up.
    let mut last_trip: Option<(String, u32)> = None;
    let mut rows: u64 = 0;
    while table.next(&mut record)? {
        rows += 1;
        if rows.is_multiple_of(1 << 16) {
            bar.set_position(Table::bytes_read(&record));
        }
        let trip_id = get(&record, Some(trip));
        let trip_position = match &last_trip {
            Some((last_id, position)) if last_id == trip_id => *position,
            _ => {
                let Some(&position) = feed.trip_ids.get(trip_id) else {
                    feed.warnings.add("unknown_trip", || {
                        table.at(
                            &record,
                            "trip_id",
                            format!("unknown trip {trip_id:?}; stop time skipped"),
                        )
                    });
                    continue;
                };
                last_trip = Some((trip_id.to_owned(), position));
                position
            }
        };
        let stop_id = get(&record, Some(stop));
        let stop_position = match feed.stop_ids.get(stop_id) {
            Some(&position) => position,
            None if stop_id.is_empty() => {
                feed.warnings.add("unknown_stop", || {
                    table.at(&record, "stop_id", "empty; stop time skipped")
                });
                continue;
            }
            None => {
                // Perhaps another feed of the network has it; `build` decides.
                let position = (feed.stops.len() + feed.missing_stop_ids.len()) as u32;
                feed.missing_stop_ids.push(stop_id.to_owned());
                feed.stop_ids.insert(stop_id.to_owned(), position);
                position
            }
        };
        let Ok(sequence_value) = get(&record, Some(sequence)).parse::<u32>() else {
            feed.warnings.add("bad_value", || {
                table.at(
                    &record,
                    "stop_sequence",
                    format!(
                        "{:?} is not a number; stop time skipped",
                        get(&record, Some(sequence))
                    ),
                )
            });
            continue;
        };
        let mut time = |column: usize, field: &'static str| -> u32 {
            let text = get(&record, Some(column));
            if text.is_empty() {
                return NO_TIME;
            }
            parse_time(text).unwrap_or_else(|| {
                feed.warnings.add("malformed_time", || {
                    table.at(&record, field, format!("malformed time {text:?}; interpolated"))
                });
                NO_TIME
            })
        };
        let arrival_time = time(arrival, "arrival_time");
        let departure_time = time(departure, "departure_time");
        let mut rules = 0;
        if get(&record, pickup) != "1" {
            rules |= StopRules::PICKUP;
        }
        if get(&record, drop_off) != "1" {
            rules |= StopRules::DROP_OFF;
        }
        feed.stop_times.push(RawStopTime {
            trip: trip_position,
            sequence: sequence_value,
            stop: stop_position,
            arrival: arrival_time,
            departure: departure_time,
            shape_dist: get(&record, shape_dist).parse::<f32>().unwrap_or(f32::NAN),
            rules: StopRules(rules),
        });
    }
    bar.set_position(table.size);
    bar.finish();
    if !feed.stop_times.is_sorted_by_key(|row| (row.trip, row.sequence)) {
        feed.stop_times.sort_by_key(|row| (row.trip, row.sequence));
    }
    Ok(())
}

fn read_frequencies(
    table: &mut Table<'_>,
    feed: &mut RawFeed,
    limits: &ImportLimits,
) -> Result<()> {
    let trip = table.required("trip_id")?;
    let start = table.required("start_time")?;
    let end = table.required("end_time")?;
    let headway = table.required("headway_secs")?;
    let mut record = csv::StringRecord::new();
    let mut expanded_trips: u64 = 0;
    while table.next(&mut record)? {
        let trip_id = get(&record, Some(trip));
        let Some(&trip_position) = feed.trip_ids.get(trip_id) else {
            feed.warnings.add("unknown_trip", || {
                table.at(&record, "trip_id", format!("unknown trip {trip_id:?}; frequency skipped"))
            });
            continue;
        };
        let (Some(start_time), Some(end_time)) =
            (parse_time(get(&record, Some(start))), parse_time(get(&record, Some(end))))
        else {
            feed.warnings.add("malformed_time", || {
                table.at(&record, "start_time", "malformed start or end time; frequency skipped")
            });
            continue;
        };
        let Some(headway_secs) =
            get(&record, Some(headway)).parse::<u32>().ok().filter(|secs| *secs > 0)
        else {
            feed.warnings.add("bad_value", || {
                table.at(&record, "headway_secs", "not a positive number; frequency skipped")
            });
            continue;
        };
        // The build repeats the trip from start_time while before end_time.
        let trips = u64::from(end_time.saturating_sub(start_time).div_ceil(headway_secs));
        if expanded_trips + trips > limits.max_frequency_trips {
            feed.warnings.add("too_many_frequency_trips", || {
                table.at(
                    &record,
                    "headway_secs",
                    format!(
                        "expands to {trips} trips, {expanded_trips} already, over the limit of {} \
                         trips per feed (max_frequency_trips); frequency skipped",
                        limits.max_frequency_trips
                    ),
                )
            });
            continue;
        }
        expanded_trips += trips;
        feed.frequencies.push(RawFrequency {
            trip: trip_position,
            start: start_time,
            end: end_time,
            headway: headway_secs,
        });
    }
    Ok(())
}

fn read_transfers(table: &mut Table<'_>, feed: &mut RawFeed) -> Result<()> {
    let from = table.column("from_stop_id");
    let to = table.column("to_stop_id");
    let from_route = table.column("from_route_id");
    let to_route = table.column("to_route_id");
    let from_trip = table.column("from_trip_id");
    let to_trip = table.column("to_trip_id");
    let transfer_type = table.column("transfer_type");
    let min_time = table.column("min_transfer_time");
    let mut record = csv::StringRecord::new();
    'rows: while table.next(&mut record)? {
        let type_value = match get(&record, transfer_type) {
            "" | "0" => 0,
            "1" => 1,
            "2" => 2,
            "3" => 3,
            "4" => 4,
            "5" => 5,
            other => {
                feed.warnings.add("unsupported_transfer", || {
                    table.at(
                        &record,
                        "transfer_type",
                        format!("type {other:?} not supported; skipped"),
                    )
                });
                continue;
            }
        };
        let in_seat = type_value >= 4;
        // Stops: required for types 0-3, optional for the in-seat types (the trips say where).
        let mut stops = [None, None];
        for (slot, (column, field)) in
            [(from, "from_stop_id"), (to, "to_stop_id")].into_iter().enumerate()
        {
            let id = get(&record, column);
            if id.is_empty() {
                if in_seat {
                    continue;
                }
                feed.warnings.add("unsupported_transfer", || {
                    table.at(&record, field, "no stop; transfer skipped")
                });
                continue 'rows;
            }
            let Some(&position) = feed.stop_ids.get(id) else {
                feed.warnings.add("unknown_stop", || {
                    table.at(&record, field, format!("unknown stop {id:?}; transfer skipped"))
                });
                continue 'rows;
            };
            stops[slot] = Some(position);
        }
        let mut routes = [None, None];
        for (slot, (column, field)) in
            [(from_route, "from_route_id"), (to_route, "to_route_id")].into_iter().enumerate()
        {
            let Some(id) = get_opt(&record, column) else { continue };
            let Some(&position) = feed.route_ids.get(id) else {
                feed.warnings.add("unknown_transfer_route", || {
                    table.at(&record, field, format!("unknown route {id:?}; transfer skipped"))
                });
                continue 'rows;
            };
            routes[slot] = Some(position);
        }
        let mut trips = [None, None];
        for (slot, (column, field)) in
            [(from_trip, "from_trip_id"), (to_trip, "to_trip_id")].into_iter().enumerate()
        {
            let Some(id) = get_opt(&record, column) else { continue };
            let Some(&position) = feed.trip_ids.get(id) else {
                feed.warnings.add("unknown_transfer_trip", || {
                    table.at(&record, field, format!("unknown trip {id:?}; transfer skipped"))
                });
                continue 'rows;
            };
            trips[slot] = Some(position);
        }
        if in_seat && (trips[0].is_none() || trips[1].is_none()) {
            feed.warnings.add("unsupported_transfer", || {
                table.at(
                    &record,
                    "from_trip_id",
                    "an in-seat transfer (type 4 or 5) names no trip on one side; skipped",
                )
            });
            continue;
        }
        let min_transfer_secs = match get(&record, min_time) {
            "" => None,
            text => match text.parse::<u32>() {
                Ok(secs) => Some(secs),
                Err(_) => {
                    feed.warnings.add("bad_value", || {
                        table.at(
                            &record,
                            "min_transfer_time",
                            format!("{text:?} is not a number; ignored"),
                        )
                    });
                    None
                }
            },
        };
        feed.transfers.push(RawTransfer {
            from: stops[0],
            to: stops[1],
            from_route: routes[0],
            to_route: routes[1],
            from_trip: trips[0],
            to_trip: trips[1],
            transfer_type: type_value,
            min_transfer_secs,
            line: Table::line(&record),
        });
    }
    Ok(())
}

fn read_translations(table: &mut Table<'_>, feed: &mut RawFeed) -> Result<()> {
    let mut record = csv::StringRecord::new();
    if let Some(trans_id) = table.column("trans_id") {
        let lang = table.required("lang")?;
        let translation = table.required("translation")?;
        while table.next(&mut record)? {
            let key = get(&record, Some(trans_id));
            let text = get(&record, Some(translation));
            if key.is_empty() || text.is_empty() {
                continue;
            }
            let pair = (get(&record, Some(lang)).to_owned(), text.to_owned());
            feed.translations.by_text.entry(key.to_owned()).or_default().push(pair);
        }
        return Ok(());
    }
    let table_name = table.required("table_name")?;
    let field_name = table.required("field_name")?;
    let language = table.required("language")?;
    let translation = table.required("translation")?;
    let record_id = table.column("record_id");
    let record_sub_id = table.column("record_sub_id");
    let field_value = table.column("field_value");
    while table.next(&mut record)? {
        let text = get(&record, Some(translation));
        if text.is_empty() {
            continue;
        }
        let pair = (get(&record, Some(language)).to_owned(), text.to_owned());
        let table_value = get(&record, Some(table_name)).to_owned();
        let field_value_name = get(&record, Some(field_name)).to_owned();
        if let Some(record_value) = get_opt(&record, record_id) {
            let key = (
                table_value,
                field_value_name,
                record_value.to_owned(),
                get(&record, record_sub_id).to_owned(),
            );
            feed.translations.by_record.entry(key).or_default().push(pair);
        } else if let Some(value) = get_opt(&record, field_value) {
            let key = (table_value, field_value_name, value.to_owned());
            feed.translations.by_value.entry(key).or_default().push(pair);
        } else {
            feed.warnings.add("bad_value", || {
                table.at(
                    &record,
                    "record_id",
                    "neither record_id nor field_value; translation skipped",
                )
            });
        }
    }
    Ok(())
}

fn read_feed_info(table: &mut Table<'_>, feed: &mut RawFeed) -> Result<()> {
    let publisher_name = table.column("feed_publisher_name");
    let publisher_url = table.column("feed_publisher_url");
    let version = table.column("feed_version");
    let lang = table.column("feed_lang");
    let mut record = csv::StringRecord::new();
    if table.next(&mut record)? {
        feed.info = FeedInfo {
            publisher_name: get_opt(&record, publisher_name).map(str::to_owned),
            publisher_url: get_opt(&record, publisher_url).map(str::to_owned),
            version: get_opt(&record, version).map(str::to_owned),
            lang: get_opt(&record, lang).map(str::to_owned),
        };
    }
    Ok(())
}

fn read_fare_attributes(table: &mut Table<'_>, feed: &mut RawFeed) -> Result<()> {
    let id = table.required("fare_id")?;
    let price = table.required("price")?;
    let currency = table.required("currency_type")?;
    let payment = table.column("payment_method");
    let transfers = table.column("transfers");
    let agency = table.column("agency_id");
    let duration = table.column("transfer_duration");
    let mut record = csv::StringRecord::new();
    while table.next(&mut record)? {
        let Ok(price_value) = get(&record, Some(price)).parse::<f64>() else {
            feed.warnings.add("bad_value", || {
                table.at(
                    &record,
                    "price",
                    format!("{:?} is not a price; fare skipped", get(&record, Some(price))),
                )
            });
            continue;
        };
        feed.fare_attributes.push(RawFareAttribute {
            id: get(&record, Some(id)).to_owned(),
            price: price_value,
            currency: get(&record, Some(currency)).to_owned(),
            payment_method: get(&record, payment).parse().unwrap_or(0),
            transfers: get(&record, transfers).parse().ok(),
            agency_id: get_opt(&record, agency).map(str::to_owned),
            transfer_duration_secs: get(&record, duration).parse().ok(),
        });
    }
    Ok(())
}

fn read_fare_rules(table: &mut Table<'_>, feed: &mut RawFeed) -> Result<()> {
    let fare = table.required("fare_id")?;
    let route = table.column("route_id");
    let origin = table.column("origin_id");
    let destination = table.column("destination_id");
    let contains = table.column("contains_id");
    let fare_positions: FxHashMap<&str, u32> = feed
        .fare_attributes
        .iter()
        .enumerate()
        .map(|(position, fare)| (fare.id.as_str(), position as u32))
        .collect();
    let mut rules = Vec::new();
    let mut record = csv::StringRecord::new();
    while table.next(&mut record)? {
        let fare_id = get(&record, Some(fare));
        let Some(&fare_position) = fare_positions.get(fare_id) else {
            feed.warnings.add("unknown_fare", || {
                table.at(&record, "fare_id", format!("unknown fare {fare_id:?}; rule skipped"))
            });
            continue;
        };
        let route_position = match get_opt(&record, route) {
            None => None,
            Some(route_id) => match feed.route_ids.get(route_id) {
                Some(&position) => Some(position),
                None => {
                    feed.warnings.add("unknown_route", || {
                        table.at(
                            &record,
                            "route_id",
                            format!("unknown route {route_id:?}; rule skipped"),
                        )
                    });
                    continue;
                }
            },
        };
        rules.push(RawFareRule {
            fare: fare_position,
            route: route_position,
            origin_zone: get_opt(&record, origin).map(str::to_owned),
            destination_zone: get_opt(&record, destination).map(str::to_owned),
            contains_zone: get_opt(&record, contains).map(str::to_owned),
        });
    }
    feed.fare_rules = rules;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_one_or_two_digit_hours_and_past_midnight_parse() {
        assert_eq!(parse_time("5:39:00"), Some(5 * 3600 + 39 * 60));
        assert_eq!(parse_time("05:39:00"), Some(5 * 3600 + 39 * 60));
        assert_eq!(parse_time("25:01:30"), Some(25 * 3600 + 90));
        assert_eq!(parse_time("12:60:00"), None);
        assert_eq!(parse_time("12:5:00"), None);
        assert_eq!(parse_time("ab:00:00"), None);
        assert_eq!(parse_time(""), None);
    }

    #[test]
    fn colours_are_normalised() {
        assert_eq!(parse_color("f7931d").as_deref(), Some("F7931D"));
        assert_eq!(parse_color("#00aeef").as_deref(), Some("00AEEF"));
        assert_eq!(parse_color("blue"), None);
    }
}
