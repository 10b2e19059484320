//! The journey planner: a RAPTOR-family search over the compiled timetable, free of HTTP.
//!
//! [`Engine`] wraps one loaded [`Timetable`] with the few derived tables the search needs
//! (accessibility flags, walking links in reverse). [`query`] turns a [`query::Request`] into
//! searches of the [`raptor`] core (depart-at, range and arrive-by, with via stations by
//! chaining), [`journey`] rebuilds journeys from the labels, [`fares`] prices them and
//! [`departures`] lists the next departures of a station.

mod bounds;
pub mod departures;
pub mod fares;
pub mod journey;
pub mod query;
pub mod raptor;
mod walk_pruning;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use norikae_timetable::{Accessibility, Footpath, StopIdx, Timetable};

pub use journey::{Journey, Leg, WalkEnd};
pub use query::{Options, Place, Request, SearchKind};
pub use raptor::Scratch;

/// A timetable ready for queries. Cheap to share (`Arc`); one per loaded snapshot.
pub struct Engine {
    pub(crate) timetable: Arc<Timetable>,
    /// Stops a wheelchair user can board and alight at (the stop or its parent says
    /// accessible; unknown counts as not accessible).
    pub(crate) stop_accessible: Vec<bool>,
    /// Trips marked wheelchair accessible.
    pub(crate) trip_accessible: Vec<bool>,
    /// Walking links reversed (`to` is the stop walked from), sliced like the forward ones.
    pub(crate) reverse_footpath_offsets: Vec<u32>,
    pub(crate) reverse_footpaths: Vec<Footpath>,
    /// The walking links compact, in each search direction, sorted by duration per stop (the
    /// importer sorts them; hand-built timetables may not, so they are sorted here if not).
    pub(crate) forward_walk_links: raptor::WalkLinks,
    pub(crate) backward_walk_links: raptor::WalkLinks,
    /// The forward links a walk to a boarding may need (see [`walk_pruning`]).
    pub(crate) boarding_walk_links: raptor::WalkLinks,
    /// Per pattern stop, the boarding links a traveller alighting there from the pattern may
    /// need (see [`walk_pruning`]).
    pub(crate) alighting_walk_links: raptor::WalkLinks,
    /// Shortest times to and from a few landmarks, for lower bounds (see [`bounds`]).
    pub(crate) landmarks: bounds::Landmarks,
    /// Fare rules indexed for pricing journeys.
    pub fares: fares::FareIndex,
    /// Trips running per service day, built on first use (a query needs three days).
    day_trips: Mutex<HashMap<u32, Arc<raptor::DayTrips>>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Engine")
            .field("stops", &self.timetable.stops.len())
            .field("patterns", &self.timetable.patterns.len())
            .finish_non_exhaustive()
    }
}

impl Engine {
    pub fn new(timetable: Arc<Timetable>) -> Self {
        let stop_accessible = timetable
            .stops
            .iter()
            .map(|stop| match stop.wheelchair_boarding {
                Accessibility::Accessible => true,
                Accessibility::NotAccessible => false,
                Accessibility::Unknown => stop.parent.is_some_and(|parent| {
                    timetable.stops[parent.idx()].wheelchair_boarding == Accessibility::Accessible
                }),
            })
            .collect();
        let trip_accessible = timetable
            .trips
            .iter()
            .map(|trip| trip.wheelchair_accessible == Accessibility::Accessible)
            .collect();
        let num_stops = timetable.stops.len();
        let mut counts = vec![0u32; num_stops + 1];
        for footpath in timetable.footpaths.iter() {
            counts[footpath.to.idx() + 1] += 1;
        }
        for index in 0..num_stops {
            counts[index + 1] += counts[index];
        }
        let reverse_footpath_offsets = counts.clone();
        let mut next = counts;
        let mut reverse_footpaths =
            vec![
                Footpath { to: StopIdx(0), duration_secs: 0, distance_m: 0 };
                timetable.footpaths.len()
            ];
        for from in 0..num_stops {
            for footpath in timetable.footpaths(StopIdx::from(from)) {
                let slot = &mut next[footpath.to.idx()];
                reverse_footpaths[*slot as usize] =
                    Footpath { to: StopIdx::from(from), ..*footpath };
                *slot += 1;
            }
        }
        // Sorted by duration like the forward links, so that a scan can stop at the first
        // link that arrives too late.
        for stop in 0..num_stops {
            let range = reverse_footpath_offsets[stop] as usize
                ..reverse_footpath_offsets[stop + 1] as usize;
            reverse_footpaths[range]
                .sort_unstable_by_key(|footpath| (footpath.duration_secs, footpath.to));
        }
        let offsets: &[u32] = &timetable.footpath_offsets;
        let forward: &[Footpath] = &timetable.footpaths;
        let by_duration = |links: &[Footpath]| {
            links.windows(2).all(|pair| pair[0].duration_secs <= pair[1].duration_secs)
        };
        let sorted_footpaths = (!(0..num_stops)
            .all(|stop| by_duration(&forward[offsets[stop] as usize..offsets[stop + 1] as usize])))
        .then(|| {
            let mut links = forward.to_vec();
            for stop in 0..num_stops {
                links[offsets[stop] as usize..offsets[stop + 1] as usize]
                    .sort_unstable_by_key(|footpath| (footpath.duration_secs, footpath.to));
            }
            links
        });
        let forward_walk_links = raptor::WalkLinks::build(
            &timetable.footpath_offsets,
            sorted_footpaths.as_deref().unwrap_or(forward),
        );
        let (boarding_offsets, boarding_links) = walk_pruning::boarding_links(
            &timetable,
            sorted_footpaths.as_deref().unwrap_or(forward),
        );
        let boarding_walk_links = raptor::WalkLinks::build(&boarding_offsets, &boarding_links);
        let (alighting_offsets, alighting_links) = walk_pruning::alighting_links(
            &timetable,
            sorted_footpaths.as_deref().unwrap_or(forward),
            (&boarding_offsets, &boarding_links),
        );
        let alighting_walk_links = raptor::WalkLinks::build(&alighting_offsets, &alighting_links);
        let backward_walk_links =
            raptor::WalkLinks::build(&reverse_footpath_offsets, &reverse_footpaths);
        let fares = fares::FareIndex::build(&timetable);
        let landmarks = bounds::Landmarks::build(&timetable);
        Self {
            timetable,
            stop_accessible,
            trip_accessible,
            reverse_footpath_offsets,
            reverse_footpaths,
            forward_walk_links,
            backward_walk_links,
            boarding_walk_links,
            alighting_walk_links,
            landmarks,
            fares,
            day_trips: Mutex::new(HashMap::new()),
        }
    }

    /// How many walking links the forward search keeps: all of them, those a walk to a
    /// boarding may need, and those kept per pattern stop for alighting there (the
    /// benchmark prints them).
    pub fn walking_link_counts(&self) -> (usize, usize, usize) {
        (
            self.forward_walk_links.len(),
            self.boarding_walk_links.len(),
            self.alighting_walk_links.len(),
        )
    }

    pub fn timetable(&self) -> &Arc<Timetable> {
        &self.timetable
    }

    /// Walking links leaving `stop` (forward) or arriving at it (backward).
    pub(crate) fn footpaths(&self, direction: raptor::Direction, stop: StopIdx) -> &[Footpath] {
        match direction {
            raptor::Direction::Forward => self.timetable.footpaths(stop),
            raptor::Direction::Backward => {
                let start = self.reverse_footpath_offsets[stop.idx()] as usize;
                let end = self.reverse_footpath_offsets[stop.idx() + 1] as usize;
                &self.reverse_footpaths[start..end]
            }
        }
    }

    /// The trips running on service day `day` (cached; the cache keeps eight days, about 15 MB each on New York).
    pub(crate) fn day_trips(&self, day: u32) -> Arc<raptor::DayTrips> {
        const CACHED_DAYS: usize = 8;
        let mut cache = self.day_trips.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(trips) = cache.get(&day) {
            return Arc::clone(trips);
        }
        if cache.len() >= CACHED_DAYS {
            cache.clear();
        }
        let trips = Arc::new(raptor::DayTrips::build(&self.timetable, day));
        cache.insert(day, Arc::clone(&trips));
        trips
    }

    /// Whether a wheelchair user can use `stop`.
    pub fn stop_accessible(&self, stop: StopIdx) -> bool {
        self.stop_accessible[stop.idx()]
    }
}
