//! An independent reference planner, written from the GTFS reference and the model the
//! README and the importer's documentation describe, sharing no code with the engines or
//! the importer.
//!
//! It reads the feeds' files itself (calendar.txt, calendar_dates.txt, trips.txt,
//! stop_times.txt, frequencies.txt, stops.txt, transfers.txt) and uses the compiled
//! [`Timetable`] only to name places: `FEED:stop_id` → [`StopIdx`], a station's member
//! stops, a trip's public id, and the start of a service day.
//!
//! The model:
//! - A trip runs on the days its services run (calendar.txt with the exceptions of
//!   calendar_dates.txt); stop time `t` of service day `D` happens at
//!   `service_day_start(D) + t`. Empty intermediate times are interpolated by distance, as
//!   the importer documents; frequencies.txt turns a trip into one trip per headway.
//! - Walking links join stops where vehicles stop within 400 m straight-line, taking
//!   `ceil(distance × 1.2 / 1.2 m/s)` but at least 60 s, closed by shortest paths up to
//!   900 s; a walk is one closed link. Stop-level transfers.txt rules between different
//!   stops replace the link's time in that graph (type 3 removes it). A walk may also begin
//!   or end with a change of platform past that limit: a closed link followed (or preceded)
//!   by the closed link between two stops of one station, where the pair has no link or
//!   rule of its own.
//! - Changing vehicles follows transfers.txt by specificity ([`rules`]); without a rule it
//!   takes 60 s at the same stop, or the closed walking link between two stops.
//! - [`ReferenceDay`] answers earliest-arrival queries per number of vehicles by connection
//!   scans; [`GtfsReference::validate`] checks an engine journey against all of the above.

mod files;
mod network;
mod rules;
mod scan;
mod validate;
mod walking;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use norikae_timetable::{StopIdx, Timetable};

// Each test binary compiles `common`; only some use these.
#[allow(unused_imports)]
pub use scan::{ArrivalsByVehicles, ReferenceDay};

/// Changing vehicles at one stop without a rule saying otherwise.
const SAME_STOP_CHANGE_SECS: u32 = 60;
/// Stops at most this far apart (straight line) get a walking link.
const MAX_LINK_DISTANCE_M: f64 = 400.0;
/// Walking distance is the straight line times this.
const DETOUR_FACTOR: f64 = 1.2;
const WALKING_SPEED_M_PER_S: f64 = 1.2;
/// No walking link is shorter than this.
const MIN_WALK_SECS: u32 = 60;
/// Links are closed transitively up to this walking time.
const MAX_WALK_SECS: u32 = 900;

/// One feed the reference reads: the name it was imported under and its zip or folder.
#[derive(Clone, Debug)]
pub struct FeedFiles {
    pub name: String,
    pub path: PathBuf,
}

impl FeedFiles {
    pub fn new(name: &str, path: &Path) -> Self {
        Self { name: name.to_owned(), path: path.to_owned() }
    }
}

/// What the reference knows of a stop (indexed like the timetable's stops).
#[derive(Clone, Debug, Default)]
struct StopInfo {
    /// Some feed's stops.txt defines it.
    known: bool,
    lat: f64,
    lon: f64,
    /// location_type 0 or empty: vehicles stop here.
    vehicles_stop: bool,
    /// location_type 1: a station, the parent of stops.
    station: bool,
    /// parent_station, resolved.
    parent: Option<StopIdx>,
}

/// One trip as the reference runs it (a frequency-based trip gives one per headway).
#[derive(Clone, Debug)]
struct RefTrip {
    /// The timetable's id: `FEED:trip_id`, or `FEED:trip_id@HH:MM:SS` from frequencies.txt.
    public_id: String,
    /// `FEED:trip_id` of the trips.txt row (what transfers.txt names).
    gtfs_trip: String,
    /// `FEED:route_id`.
    route: String,
    feed: usize,
    /// Services of the trip's feed it runs on (several when trips.txt repeats the trip).
    services: Vec<String>,
    stops: Vec<StopIdx>,
    arrivals: Vec<u32>,
    departures: Vec<u32>,
    pickup: Vec<bool>,
    drop_off: Vec<bool>,
}

/// The days a service runs.
#[derive(Clone, Debug, Default)]
struct Service {
    /// calendar.txt: Monday first, and the first and last day.
    weekdays: [bool; 7],
    period: Option<(NaiveDate, NaiveDate)>,
    added: Vec<NaiveDate>,
    removed: Vec<NaiveDate>,
}

impl Service {
    fn runs(&self, date: NaiveDate) -> bool {
        use chrono::Datelike;
        if self.removed.contains(&date) {
            return false;
        }
        if self.added.contains(&date) {
            return true;
        }
        self.period.is_some_and(|(first, last)| {
            (first..=last).contains(&date)
                && self.weekdays[date.weekday().num_days_from_monday() as usize]
        })
    }
}

/// The reference over every feed of one timetable.
pub struct GtfsReference {
    timetable: Arc<Timetable>,
    stops: Vec<StopInfo>,
    trips: Vec<RefTrip>,
    trip_by_public_id: HashMap<String, usize>,
    /// Per feed: service id → days.
    services: Vec<HashMap<String, Service>>,
    rules: rules::Rules,
    links: walking::Links,
    /// Per stop: where a change from a vehicle arriving there may go, and how long it takes,
    /// for changes no trip- or route-specific rule can touch.
    generic_changes: Vec<Vec<(StopIdx, u32)>>,
    /// What the reference noticed while reading the feeds (for the test's output).
    pub notes: Vec<String>,
}

impl GtfsReference {
    /// Reads `feeds` (every feed `timetable` was imported from, in import order).
    pub fn new(timetable: Arc<Timetable>, feeds: &[FeedFiles]) -> Self {
        let network = network::read(&timetable, feeds);
        let rules = rules::Rules::read(feeds, &network);
        let station_of: Vec<usize> =
            timetable.stops.iter().map(|stop| stop.station.idx()).collect();
        let links = walking::Links::build(&network.stops, &rules, &station_of);
        let mut reference = Self {
            timetable,
            stops: network.stops,
            trip_by_public_id: network
                .trips
                .iter()
                .enumerate()
                .map(|(position, trip)| (trip.public_id.clone(), position))
                .collect(),
            trips: network.trips,
            services: network.services,
            rules,
            links,
            generic_changes: Vec::new(),
            notes: network.notes,
        };
        reference.rules.find_special_pairs(&reference.stops, &reference.trips);
        reference.generic_changes = reference.build_generic_changes();
        reference.notes.append(&mut reference.rules.notes);
        reference
    }

    pub fn timetable(&self) -> &Arc<Timetable> {
        &self.timetable
    }

    /// The trips of every service day around `date`, ready for queries.
    pub fn day(&self, date: NaiveDate) -> ReferenceDay<'_> {
        ReferenceDay::new(self, date)
    }

    fn trip_runs(&self, trip: &RefTrip, date: NaiveDate) -> bool {
        trip.services
            .iter()
            .any(|service| self.services[trip.feed].get(service).is_some_and(|s| s.runs(date)))
    }

    /// Unix time of the start of service day `date`.
    fn day_start(&self, date: NaiveDate) -> i64 {
        norikae_timetable::service_day_start(self.timetable.tz, date).timestamp()
    }

    /// Changes that need no look at the trips: the same stop and the walking links, minus
    /// the pairs a trip- or route-specific rule names.
    fn build_generic_changes(&self) -> Vec<Vec<(StopIdx, u32)>> {
        (0..self.stops.len())
            .map(|stop| {
                let from = StopIdx::from(stop);
                let mut changes = Vec::new();
                if !self.stops[stop].vehicles_stop {
                    return changes;
                }
                if !self.rules.is_special(from, from)
                    && let Some(secs) = self.change_secs_between_stops(from, from)
                {
                    changes.push((from, secs));
                }
                for &(to, secs) in self.links.from(from) {
                    if !self.rules.is_special(from, to) {
                        changes.push((to, secs));
                    }
                }
                changes
            })
            .collect()
    }
}

/// Great-circle distance in metres (haversine on a sphere of the Earth's mean radius).
fn distance_m(from: &StopInfo, to: &StopInfo) -> f64 {
    const EARTH_MEAN_RADIUS_M: f64 = 6_371_008.8;
    let (lat_from, lat_to) = (from.lat.to_radians(), to.lat.to_radians());
    let half_lat = (lat_to - lat_from) / 2.0;
    let half_lon = (to.lon - from.lon).to_radians() / 2.0;
    let chord = half_lat.sin().powi(2) + lat_from.cos() * lat_to.cos() * half_lon.sin().powi(2);
    2.0 * EARTH_MEAN_RADIUS_M * chord.sqrt().min(1.0).asin()
}

/// Walking time for a straight-line distance: the detour at walking speed, at least
/// [`MIN_WALK_SECS`].
fn walking_secs(straight_m: f64) -> u32 {
    let walked_m = straight_m * DETOUR_FACTOR;
    ((walked_m / WALKING_SPEED_M_PER_S).ceil() as u32).max(MIN_WALK_SECS)
}
