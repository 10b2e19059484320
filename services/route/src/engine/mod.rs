//! The journey planner: a RAPTOR-family search over the compiled timetable, free of HTTP.
//!
//! [`Engine`] wraps one loaded [`Timetable`] with the few derived tables the search needs
//! (accessibility flags, walking links in reverse). [`query`] turns a [`query::Request`] into
//! searches of the [`raptor`] core (depart-at, range and arrive-by, with via stations by
//! chaining), or of [`trip_based`] routing for forward searches with the default options
//! once a date's transfers are built; [`journey`] rebuilds journeys from the labels, [`fares`]
//! prices them and [`departures`] lists the next departures of a station.

mod bounds;
pub mod departures;
pub mod fares;
pub mod journey;
pub mod query;
pub mod raptor;
mod rule_boarding;
mod trip_based;
mod walk_pruning;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use norikae_timetable::{Accessibility, Footpath, StopIdx, Timetable};

pub use journey::{Journey, Leg, WalkEnd};
pub use query::{Options, Place, Request, SearchKind};
pub use raptor::{Scratch, SearchLimits};
pub use trip_based::PreparedDay;

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
    day_trips: DayCache,
    /// Trip-to-trip transfers per service day, for Trip-Based forward searches (see
    /// [`trip_based`]); built by [`Engine::prepare_trip_based`].
    pub(crate) trip_based: trip_based::Cache,
    /// The longest walking link: a walking limit at least this long limits nothing.
    pub(crate) longest_walk_m: u32,
    /// Per search direction, the stops where a transfers.txt rule naming trips or routes may
    /// decide a boarding (forward: where such rules lead to; backward: where they start), so
    /// that scans ask [`rule_boarding`] there (all `false` for most feeds, which have none).
    pub(crate) rule_boarding_stops: RuleStops,
}

/// [`Engine::rule_boarding_stops`], indexed by [`raptor::Direction`].
pub(crate) struct RuleStops {
    forward: Vec<bool>,
    backward: Vec<bool>,
}

impl RuleStops {
    fn build(timetable: &Timetable) -> Self {
        let mut forward = vec![false; timetable.stops.len()];
        let mut backward = vec![false; timetable.stops.len()];
        for rule in &timetable.transfer_rules {
            forward[rule.to_stop.idx()] = true;
            backward[rule.from_stop.idx()] = true;
        }
        Self { forward, backward }
    }
}

impl std::ops::Index<raptor::Direction> for RuleStops {
    type Output = [bool];

    fn index(&self, direction: raptor::Direction) -> &[bool] {
        match direction {
            raptor::Direction::Forward => &self.forward,
            raptor::Direction::Backward => &self.backward,
        }
    }
}

/// The day tables of the last few service days used. A day is built outside the lock, once
/// (queries wanting it meanwhile wait for that build, and only they: the others go on with
/// their days); when full, the day used longest ago goes.
#[derive(Default)]
struct DayCache {
    days: Mutex<DayCacheInner>,
}

#[derive(Default)]
struct DayCacheInner {
    /// Per service day: its tables and when it was last asked for (a counter).
    entries: HashMap<u32, (DaySlot, u64)>,
    uses: u64,
}

/// One service day's tables, filled by the first query that needs them.
type DaySlot = Arc<OnceLock<Arc<raptor::DayTrips>>>;

impl DayCache {
    /// Days kept (about 15 MB each on New York, twice that once arrive-by searches used it).
    const CAPACITY: usize = 8;

    fn get(&self, day: u32, build: impl FnOnce() -> raptor::DayTrips) -> Arc<raptor::DayTrips> {
        let slot = {
            let mut inner = self.days.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            inner.uses += 1;
            let now = inner.uses;
            if !inner.entries.contains_key(&day) && inner.entries.len() >= Self::CAPACITY {
                let oldest = inner.entries.iter().min_by_key(|(_, (_, used))| *used);
                if let Some(&oldest) = oldest.map(|(day, _)| day) {
                    inner.entries.remove(&oldest);
                }
            }
            let entry = inner.entries.entry(day).or_default();
            entry.1 = now;
            Arc::clone(&entry.0)
        };
        Arc::clone(slot.get_or_init(|| Arc::new(build())))
    }

    fn len(&self) -> usize {
        self.days.lock().unwrap_or_else(std::sync::PoisonError::into_inner).entries.len()
    }
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
        let longest_walk_m =
            timetable.footpaths.iter().map(|footpath| footpath.distance_m).max().unwrap_or(0);
        let rule_boarding_stops = RuleStops::build(&timetable);
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
            day_trips: DayCache::default(),
            trip_based: trip_based::Cache::default(),
            longest_walk_m,
            rule_boarding_stops,
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

    /// The trips running on service day `day` (cached, see [`DayCache`]).
    pub(crate) fn day_trips(&self, day: u32) -> Arc<raptor::DayTrips> {
        self.day_trips.get(day, || raptor::DayTrips::build(&self.timetable, day))
    }

    /// Builds the day tables (both directions) a query on `date` reads (the service days
    /// before, of and after it), so that the first queries after a snapshot is loaded do not
    /// build them (New York: 0.09 s for the three days, both directions). Returns how many
    /// days were prepared (dates outside the timetable have none).
    pub fn warm_up(&self, date: chrono::NaiveDate) -> usize {
        let Ok(frame) = query::Frame::new(&self.timetable, date) else {
            return 0;
        };
        let mut prepared = 0;
        for day in frame.days.day.into_iter().flatten() {
            self.day_trips(day).prepare_mirrored(&self.timetable);
            prepared += 1;
        }
        prepared
    }

    /// [`Engine::warm_up`] for today in the network's time zone.
    pub fn warm_up_today(&self) -> usize {
        self.warm_up(chrono::Utc::now().with_timezone(&self.timetable.tz).date_naive())
    }

    /// How many service days have their tables in the cache.
    pub fn cached_days(&self) -> usize {
        self.day_trips.len()
    }

    /// Whether a wheelchair user can use `stop`.
    pub fn stop_accessible(&self, stop: StopIdx) -> bool {
        self.stop_accessible[stop.idx()]
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    /// The bundled feeds, imported with the default settings.
    pub(crate) fn bundled_timetable() -> Timetable {
        use norikae_timetable::bundled;
        bundled::import_feeds(&bundled::repo_feeds_dir()).expect("the bundled feeds import")
    }

    #[test]
    fn day_cache_evicts_the_day_used_longest_ago() {
        let timetable = bundled_timetable();
        let cache = DayCache::default();
        let builds = AtomicUsize::new(0);
        let get = |day: u32| {
            cache.get(day, || {
                builds.fetch_add(1, Ordering::SeqCst);
                raptor::DayTrips::build(&timetable, day)
            })
        };
        for day in 0..DayCache::CAPACITY as u32 {
            get(day);
        }
        assert_eq!(builds.load(Ordering::SeqCst), DayCache::CAPACITY);
        // Day 0 is used again, so day 1 is now the one used longest ago.
        get(0);
        get(DayCache::CAPACITY as u32);
        assert_eq!(cache.len(), DayCache::CAPACITY);
        let before = builds.load(Ordering::SeqCst);
        get(0);
        assert_eq!(builds.load(Ordering::SeqCst), before, "day 0 stayed in the cache");
        get(1);
        assert_eq!(builds.load(Ordering::SeqCst), before + 1, "day 1 was evicted and rebuilt");
    }

    #[test]
    fn a_day_being_built_does_not_hold_up_other_days() {
        let timetable = Arc::new(bundled_timetable());
        let cache = Arc::new(DayCache::default());
        let (release, wait) = mpsc::channel::<()>();
        let (started, building) = mpsc::channel::<()>();
        let slow = {
            let (cache, timetable) = (Arc::clone(&cache), Arc::clone(&timetable));
            std::thread::spawn(move || {
                cache.get(0, || {
                    started.send(()).expect("the test waits");
                    wait.recv().expect("the test releases the build");
                    raptor::DayTrips::build(&timetable, 0)
                })
            })
        };
        building.recv().expect("the slow build starts");
        let (done, finished) = mpsc::channel();
        {
            let (cache, timetable) = (Arc::clone(&cache), Arc::clone(&timetable));
            std::thread::spawn(move || {
                cache.get(1, || raptor::DayTrips::build(&timetable, 1));
                done.send(()).expect("the test waits");
            });
        }
        let other_day = finished.recv_timeout(Duration::from_secs(30));
        release.send(()).expect("the slow build waits");
        slow.join().expect("the slow build finishes");
        assert!(other_day.is_ok(), "day 1 was served while day 0 was being built");
        assert_eq!(cache.len(), 2);
    }
}
