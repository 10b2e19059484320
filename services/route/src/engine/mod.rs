//! The journey planner: a RAPTOR-family search over the compiled timetable, free of HTTP.
//!
//! [`Engine`] is the façade: it owns one loaded [`Timetable`] with the tables derived from it
//! and the per-day caches, and its one `impl` block below holds every entry point (search,
//! departure boards, warm-up, Trip-Based preparation). Everything under it is free functions
//! and plain structs taking what they read, in layers that import only downwards:
//!
//! 1. **Types** that every layer speaks: [`types`] (search direction and key space, the three
//!    service days of a query, search limits), [`journey`] (journeys, legs, the walks at
//!    their ends, the Pareto filter), [`query`] (requests and options).
//! 2. **Tables**, built once per snapshot or service day: [`network`] (the timetable with
//!    accessibility, reversed and compact [`walk_links`], the links [`walk_pruning`] keeps,
//!    landmark [`bounds`]), [`raptor::day_tables`] (the trips running per day), the
//!    Trip-Based transfers per day ([`trip_based`]'s `transfers`), [`fares`] (fare rules);
//!    the per-day caches keep their last few days in [`recent_days`], read without locks.
//! 3. **Algorithms** over those tables: [`raptor`] (labels memory, the round loop, rule
//!    boarding, journeys from labels), [`trip_based`] (its query over the transfers),
//!    [`departures`] (next departures of a station), [`station_timetable`] (a station's day
//!    of one line, with [`service_kind`] naming the day), [`lines`] (lines and their
//!    directions); [`prefetch`] is their one cache hint.
//! 4. **Planning**: [`plan`] turns a [`Request`] into searches of one algorithm or the other
//!    (depart-at, range, arrive-by, via stations by chaining), with the per-thread memory of
//!    both in [`Scratch`]; [`first_last`] finds a day's first and last journey by searches.
//! 5. **Façade**: [`Engine`] (this module).

mod bounds;
pub mod departures;
pub mod fares;
pub mod first_last;
pub mod journey;
pub mod lines;
mod network;
mod plan;
// The prefetch hint is the engine's one `unsafe` (one intrinsic); see its SAFETY comment.
#[allow(unsafe_code)]
mod prefetch;
pub mod query;
mod raptor;
mod realtime_days;
mod recent_days;
mod scratch;
pub mod service_kind;
pub mod station_timetable;
mod trip_based;
mod types;
mod walk_links;
mod walk_pruning;

use std::sync::Arc;

use norikae_timetable::{RouteIdx, StationIdx, StopIdx, Timetable, TripIdx};

use self::departures::DepartureGroup;
use self::network::Network;
use self::plan::Planner;
use self::raptor::day_cache::DayCache;
use self::types::Frame;
use crate::error::Result;
pub use journey::{Journey, Leg, WalkEnd};
pub use query::{Options, Place, Request, SearchKind};
pub use scratch::Scratch;
pub use trip_based::{LiveReport, PreparedDay};
pub use types::SearchLimits;

/// A timetable ready for queries. Cheap to share (`Arc`); one per loaded snapshot.
pub struct Engine {
    /// The timetable and the tables derived from it that the searches read.
    network: Network,
    /// Fare rules indexed for pricing journeys.
    pub fares: fares::FareIndex,
    /// Trips running per service day, built on first use (a query needs three days).
    day_tables: DayCache,
    /// Trip-to-trip transfers per service day, for Trip-Based forward searches (see
    /// [`trip_based`]); built by [`Engine::prepare_trip_based`].
    trip_based: trip_based::Cache,
    /// Day tables without the trips the current realtime overlay cancels.
    realtime: realtime_days::RealtimeCache,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let timetable = &self.network.timetable;
        formatter
            .debug_struct("Engine")
            .field("stops", &timetable.stops.len())
            .field("patterns", &timetable.patterns.len())
            .finish_non_exhaustive()
    }
}

impl Engine {
    pub fn new(timetable: Arc<Timetable>) -> Self {
        let fares = fares::FareIndex::build(&timetable);
        Self {
            network: Network::build(timetable),
            fares,
            day_tables: DayCache::default(),
            trip_based: trip_based::Cache::default(),
            realtime: realtime_days::RealtimeCache::default(),
        }
    }

    /// What a search reads: the network and the caches.
    fn planner(&self) -> Planner<'_> {
        Planner {
            network: &self.network,
            day_tables: &self.day_tables,
            trip_based: &self.trip_based,
            realtime: None,
        }
    }

    pub fn timetable(&self) -> &Arc<Timetable> {
        &self.network.timetable
    }

    /// Answers a request: the journeys, sorted by departure.
    pub fn search(&self, request: &Request, scratch: &mut Scratch) -> Result<Vec<Journey>> {
        self.planner().search(request, scratch)
    }

    /// [`Engine::search`] with the realtime `overlay` (ignored unless built for this
    /// engine's timetable): trips it cancels are not boarded.
    pub fn search_live(
        &self,
        request: &Request,
        scratch: &mut Scratch,
        overlay: &Arc<norikae_realtime::Overlay>,
    ) -> Result<Vec<Journey>> {
        let live = self.realtime.for_overlay(&self.network.timetable, overlay);
        let planner = Planner { realtime: live.as_deref(), ..self.planner() };
        planner.search(request, scratch)
    }

    /// The next departures from `station` at or after local `time_secs` on `date`: at most
    /// `limit` per line and direction, groups ordered by their first departure.
    pub fn departures(
        &self,
        station: StationIdx,
        date: chrono::NaiveDate,
        time_secs: u32,
        limit: usize,
    ) -> Result<Vec<DepartureGroup>> {
        departures::board(&self.network.timetable, station, date, time_secs, limit, None)
    }

    /// [`Engine::departures`] with the expected times, cancellations and platform changes
    /// `overlay` gives (ignored unless built for this engine's timetable).
    pub fn departures_live(
        &self,
        station: StationIdx,
        date: chrono::NaiveDate,
        time_secs: u32,
        limit: usize,
        overlay: &norikae_realtime::Overlay,
    ) -> Result<Vec<DepartureGroup>> {
        departures::board(&self.network.timetable, station, date, time_secs, limit, Some(overlay))
    }

    /// The lines `filter` keeps, in the timetable's order.
    pub fn routes(&self, filter: &lines::RouteFilter) -> Vec<RouteIdx> {
        lines::routes(&self.network.timetable, filter)
    }

    /// A line's directions with their stops in order (see [`lines::directions`]).
    pub fn route_directions(&self, route: RouteIdx) -> Vec<lines::RouteDirection> {
        lines::directions(&self.network.timetable, route)
    }

    /// Every departure of `route` in `direction` from `station` on the service day `date`.
    pub fn station_timetable(
        &self,
        station: StationIdx,
        route: RouteIdx,
        direction: Option<u8>,
        date: chrono::NaiveDate,
    ) -> Result<station_timetable::StationTimetable> {
        station_timetable::build(&self.network.timetable, station, route, direction, date)
    }

    /// The first journey (始発) of the service day `request.date` (see [`first_last`]).
    pub fn first_journey(
        &self,
        request: &Request,
        scratch: &mut Scratch,
    ) -> Result<Option<Journey>> {
        first_last::first(&self.network.timetable, request, |request| self.search(request, scratch))
    }

    /// The last journey (終電) of the service day `request.date` that arrives within it.
    pub fn last_journey(
        &self,
        request: &Request,
        scratch: &mut Scratch,
    ) -> Result<Option<Journey>> {
        first_last::last(&self.network.timetable, request, |request| self.search(request, scratch))
    }

    /// A trip's headsign, or the name of its last stop when the feed gives none.
    pub fn headsign(&self, trip: TripIdx) -> String {
        departures::headsign(&self.network.timetable, trip)
    }

    /// Whether a wheelchair user can use `stop`.
    pub fn stop_accessible(&self, stop: StopIdx) -> bool {
        self.network.stop_accessible[stop.idx()]
    }

    /// How many walking links the forward search keeps: all of them, those a walk to a
    /// boarding may need, and those kept per pattern stop for alighting there (the
    /// benchmark prints them).
    pub fn walking_link_counts(&self) -> (usize, usize, usize) {
        (
            self.network.forward_walk_links.len(),
            self.network.boarding_walk_links.len(),
            self.network.alighting_walk_links.len(),
        )
    }

    /// Builds the day tables (both directions) a query on `date` reads (the service days
    /// before, of and after it), so that the first queries after a snapshot is loaded do not
    /// build them (New York: 0.09 s for the three days, both directions). Returns how many
    /// days were prepared (dates outside the timetable have none).
    pub fn warm_up(&self, date: chrono::NaiveDate) -> usize {
        let timetable = &self.network.timetable;
        let Ok(frame) = Frame::new(timetable, date) else {
            return 0;
        };
        let mut prepared = 0;
        for day in frame.days.day.into_iter().flatten() {
            self.planner().day_trips(day).prepare_mirrored(timetable);
            prepared += 1;
        }
        prepared
    }

    /// [`Engine::warm_up`] for today in the network's time zone.
    pub fn warm_up_today(&self) -> usize {
        self.warm_up(chrono::Utc::now().with_timezone(&self.network.timetable.tz).date_naive())
    }

    /// How many service days have their tables in the cache.
    pub fn cached_days(&self) -> usize {
        self.day_tables.len()
    }

    /// Builds the transfers of the service days a query on `date` reads (the days before, of
    /// and after it) that are not built yet, with `threads` threads; from then on depart-at
    /// and range searches with the default options on that date use Trip-Based routing.
    /// Returns what was built (nothing for days built before, or outside the timetable).
    pub fn prepare_trip_based(&self, date: chrono::NaiveDate, threads: usize) -> Vec<PreparedDay> {
        self.trip_based.prepare(&self.network, date, threads)
    }

    /// Builds the Trip-Based days of the realtime `overlay` (ignored unless built for this
    /// engine's timetable; `None` then, or when it changes no trip), with `threads` threads,
    /// from the timetable days already built: from then on depart-at and range searches with
    /// that overlay use Trip-Based routing on its expected times. Only the trips whose
    /// transfers can see what the overlay changed are generated again (see
    /// `trip_based::live`), after the lower bounds the overlay needs (see
    /// [`Engine::prepare_realtime_searches`]). Waits for a build of the same overlay under way.
    pub fn prepare_trip_based_live(
        &self,
        overlay: &Arc<norikae_realtime::Overlay>,
        threads: usize,
    ) -> Option<LiveReport> {
        let live = self.realtime.for_overlay(&self.network.timetable, overlay)?;
        Some(live.build_trip_based(&self.network, &self.trip_based, threads).report.clone())
    }

    /// Builds what searches on the realtime `overlay` need besides its Trip-Based days: its
    /// day tables (else the first search on it builds them), and lower bounds that hold on
    /// its expected times where its trips ride faster than the timetable's (until then, the
    /// searches on its days run without bounds). [`Engine::prepare_trip_based_live`] builds
    /// them too.
    pub fn prepare_realtime_searches(&self, overlay: &Arc<norikae_realtime::Overlay>) {
        if let Some(live) = self.realtime.for_overlay(&self.network.timetable, overlay) {
            live.prepare_searches(&self.network);
        }
    }

    /// Lets forward searches build the transfers they miss themselves (for small feeds and
    /// tests: New York takes 18 s of CPU per day), instead of leaving those dates to RAPTOR.
    pub fn build_trip_based_on_demand(&self, on: bool) {
        self.trip_based.set_on_demand(on);
    }

    /// The service days whose transfers are built (those whose trips do not fit the layout
    /// left out), in order.
    pub fn trip_based_dates(&self) -> Vec<chrono::NaiveDate> {
        self.trip_based.dates(&self.network.timetable)
    }

    /// How many searches Trip-Based routing has answered.
    pub fn trip_based_searches(&self) -> u64 {
        self.trip_based.searches()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use norikae_timetable::Timetable;

    /// The bundled feeds, imported with the default settings.
    pub(crate) fn bundled_timetable() -> Timetable {
        use norikae_timetable::bundled;
        bundled::import_feeds(&bundled::repo_feeds_dir()).expect("the bundled feeds import")
    }
}
