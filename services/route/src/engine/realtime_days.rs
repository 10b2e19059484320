//! The realtime overlay as the searches read it: for each service day on which the overlay
//! changes trips (cancels them, gives them expected times, or adds trips), day tables on
//! the expected times (built on first use, one set per overlay; see
//! [`DayTrips::build_live`]), so that RAPTOR plans on the realtime times, never boards a
//! cancelled trip nor at a skipped stop, and boards the added trips whose stops are exactly
//! a pattern's (as trips of that pattern). Added trips whose stops are no pattern's (a new
//! route, a detour) are not searched: there is no pattern to scan them with; the overlay
//! counts them (`added_unsearched` in `/metrics` and `/status`). Trip-Based routing searches
//! the overlay too, once its days are built from the timetable's ([`trip_based::LiveDays`],
//! in the background after each overlay, or on demand); until then, and on days where the
//! overlay skips stops or adds trips, a search on such a day runs RAPTOR.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwapOption;
use norikae_realtime::Overlay;
use norikae_timetable::{PatternIdx, Timetable};

use super::bounds::Landmarks;
use super::network::Network;
use super::raptor::day_tables::DayTrips;
use super::trip_based::{self, DayTransfers, LiveDays};
use super::types::Frame;

/// The service days one overlay changes, and their realtime day tables. Every slot exists
/// from the start (the days are the overlay's), so reading one takes no lock.
pub(crate) struct RealtimeDays {
    overlay: Arc<Overlay>,
    tables: HashMap<u32, OnceLock<Arc<DayTrips>>>,
    /// The overlay's Trip-Based days, once built.
    trip_based: OnceLock<LiveDays>,
    /// Whether no trip rides a stretch faster than the timetable's (see
    /// [`RealtimeDays::bounds_hold`]).
    bounds_hold: OnceLock<bool>,
    /// Where they do not, landmarks on the overlay's rides, once built.
    landmarks: OnceLock<Landmarks>,
    /// Whether no trip waits or rides longer between two stops than every trip of its
    /// pattern does in the timetable (see [`RealtimeDays::walk_pruning_holds`]).
    walk_pruning_holds: OnceLock<bool>,
}

impl RealtimeDays {
    fn new(overlay: Arc<Overlay>) -> Self {
        let changed = overlay.trips().map(|(key, _)| key.day);
        let added = searched_added(&overlay).map(|added| added.day);
        let tables = changed.chain(added).map(|day| (day, OnceLock::new())).collect();
        Self {
            overlay,
            tables,
            trip_based: OnceLock::new(),
            bounds_hold: OnceLock::new(),
            landmarks: OnceLock::new(),
            walk_pruning_holds: OnceLock::new(),
        }
    }

    /// Whether the walking links RAPTOR leaves out as needless (`engine::walk_pruning`) are
    /// so on the overlay too. They are left out because every trip of a pattern passes an
    /// earlier stop at most the pattern's widest timetable gap between departures earlier
    /// (a walk there catches it), or because riding on to a later stop takes at most the
    /// widest timetable gap between arrivals; a trip the overlay makes wait or ride longer
    /// than that between two stops (a delay starting there) breaks both, and searches on
    /// its days then walk every link. Added trips break it too.
    pub(crate) fn walk_pruning_holds(&self, timetable: &Timetable) -> bool {
        *self.walk_pruning_holds.get_or_init(|| {
            if searched_added(&self.overlay).next().is_some() {
                return false;
            }
            // Per pattern and stretch, the widest gap between departures and arrivals.
            let mut widest: HashMap<PatternIdx, Vec<(u32, u32)>> = HashMap::new();
            self.overlay.trips().all(|(key, trip)| {
                if trip.cancelled || trip.stops.is_empty() {
                    return true;
                }
                let pattern = timetable.trips[key.trip.idx()].pattern;
                let gaps = widest.entry(pattern).or_insert_with(|| {
                    let data = &timetable.patterns[pattern.idx()];
                    let mut gaps = vec![(0, 0); data.num_stops().saturating_sub(1)];
                    for trip in 0..data.num_trips() {
                        let times = timetable.trip_stop_times(pattern, trip);
                        for (gap, hop) in gaps.iter_mut().zip(times.windows(2)) {
                            gap.0 = gap.0.max(hop[1].departure.saturating_sub(hop[0].departure));
                            gap.1 = gap.1.max(hop[1].arrival.saturating_sub(hop[0].arrival));
                        }
                    }
                    gaps
                });
                trip.stops.windows(2).zip(gaps.iter()).all(|(hop, &(departures, arrivals))| {
                    hop[1].departure.saturating_sub(hop[0].departure) <= departures
                        && hop[1].arrival.saturating_sub(hop[0].arrival) <= arrivals
                })
            })
        })
    }

    /// Builds what the searches on the overlay's days need, so that the first query on it
    /// does not: its day tables (60–90 ms on New York's simulated overlays), whether the
    /// bounds and the walk pruning hold, and the overlay's landmarks where the bounds do not.
    pub(crate) fn prepare_searches(&self, network: &Network) {
        for &day in self.tables.keys() {
            self.day_trips(&network.timetable, day);
        }
        self.walk_pruning_holds(&network.timetable);
        if !self.bounds_hold(&network.timetable) {
            self.build_landmarks(network);
        }
    }

    /// The landmarks the searches on the overlay's days bound their time with: the
    /// network's where [`RealtimeDays::bounds_hold`], else the overlay's own once built
    /// (with `build`, built here), else none (the searches run without bounds).
    pub(crate) fn landmarks<'a>(
        &'a self,
        network: &'a Network,
        build: bool,
    ) -> Option<&'a Landmarks> {
        if self.bounds_hold(&network.timetable) {
            return Some(&network.landmarks);
        }
        if build {
            return Some(self.build_landmarks(network));
        }
        self.landmarks.get()
    }

    /// Builds the landmarks of an overlay whose trips ride faster than the timetable's (see
    /// [`RealtimeDays::landmarks`]), unless built: the lower-bound graph with each stretch
    /// weighing the shorter of the timetable's and the overlay's shortest ride.
    pub(crate) fn build_landmarks(&self, network: &Network) -> &Landmarks {
        self.landmarks.get_or_init(|| {
            let timetable = &*network.timetable;
            let mut shortest: HashMap<(usize, usize), u32> = HashMap::new();
            let mut ride = |pattern: usize, times: &mut dyn Iterator<Item = (u32, u32)>| {
                let times: Vec<(u32, u32)> = times.collect();
                for (position, hop) in times.windows(2).enumerate() {
                    let secs = hop[1].1.saturating_sub(hop[0].0);
                    let entry = shortest.entry((pattern, position + 1)).or_insert(secs);
                    *entry = (*entry).min(secs);
                }
            };
            for (key, trip) in self.overlay.trips() {
                if !trip.cancelled {
                    let pattern = timetable.trips[key.trip.idx()].pattern.idx();
                    ride(
                        pattern,
                        &mut trip.stops.iter().map(|stop| (stop.departure, stop.arrival)),
                    );
                }
            }
            for added in searched_added(&self.overlay) {
                if let Some(pattern) = added.pattern {
                    ride(
                        pattern.idx(),
                        &mut added.times.iter().map(|time| (time.departure, time.arrival)),
                    );
                }
            }
            Landmarks::build_with(timetable, |pattern, position| {
                shortest.get(&(pattern, position)).copied()
            })
        })
    }

    /// Whether the searches' lower bounds (built on the timetable's shortest ride between
    /// each two consecutive stops, see `engine::bounds`) hold on the overlay: no trip it
    /// gives expected times, nor any trip it adds, rides from one stop to the next faster
    /// than every trip of its pattern does in the timetable. Where one does (a delay made up
    /// by running faster), the searches on its days run without the bounds rather than
    /// drop a journey they would wrongly rule out.
    pub(crate) fn bounds_hold(&self, timetable: &Timetable) -> bool {
        *self.bounds_hold.get_or_init(|| {
            // Per pattern, the shortest ride of its trips between each two consecutive stops.
            let mut shortest: HashMap<PatternIdx, Vec<u32>> = HashMap::new();
            let mut shortest_of = |pattern: PatternIdx| -> Vec<u32> {
                shortest
                    .entry(pattern)
                    .or_insert_with(|| {
                        let data = &timetable.patterns[pattern.idx()];
                        let mut rides = vec![u32::MAX; data.num_stops().saturating_sub(1)];
                        for trip in 0..data.num_trips() {
                            let times = timetable.trip_stop_times(pattern, trip);
                            for (ride, hop) in rides.iter_mut().zip(times.windows(2)) {
                                *ride =
                                    (*ride).min(hop[1].arrival.saturating_sub(hop[0].departure));
                            }
                        }
                        rides
                    })
                    .clone()
            };
            let rides_no_faster = |rides: &[u32], times: &mut dyn Iterator<Item = (u32, u32)>| {
                let times: Vec<(u32, u32)> = times.collect();
                times
                    .windows(2)
                    .zip(rides)
                    .all(|(hop, &ride)| hop[1].1.saturating_sub(hop[0].0) >= ride)
            };
            let updated = self.overlay.trips().all(|(key, trip)| {
                if trip.cancelled || trip.stops.is_empty() {
                    return true;
                }
                let rides = shortest_of(timetable.trips[key.trip.idx()].pattern);
                let mut times = trip.stops.iter().map(|stop| (stop.departure, stop.arrival));
                rides_no_faster(&rides, &mut times)
            });
            updated
                && searched_added(&self.overlay).all(|added| {
                    let Some(pattern) = added.pattern else { return true };
                    let rides = shortest_of(pattern);
                    let mut times = added.times.iter().map(|time| (time.departure, time.arrival));
                    rides_no_faster(&rides, &mut times)
                })
        })
    }

    /// Builds the overlay's Trip-Based days unless they are built (waiting for a build under
    /// way), with `threads` threads.
    pub(crate) fn build_trip_based(
        &self,
        network: &Network,
        cache: &trip_based::Cache,
        threads: usize,
    ) -> &LiveDays {
        self.prepare_searches(network);
        self.trip_based.get_or_init(|| {
            cache.build_live(network, &self.overlay, self.tables.keys().copied(), threads)
        })
    }

    /// The Trip-Based days of a search on `frame` with the overlay: `None` until they are
    /// built (searches build them themselves when the cache builds on demand), or where
    /// RAPTOR answers.
    pub(crate) fn trip_based_days(
        &self,
        network: &Network,
        cache: &trip_based::Cache,
        frame: &Frame,
    ) -> Option<[Option<Arc<DayTransfers>>; 3]> {
        let built = match self.trip_based.get() {
            Some(built) => built,
            None if cache.on_demand() => self.build_trip_based(network, cache, 1),
            None => return None,
        };
        built.for_frame(cache, network, frame)
    }

    /// Whether the overlay changes a trip on `day`.
    pub(crate) fn touches(&self, day: u32) -> bool {
        self.tables.contains_key(&day)
    }

    /// `day`'s tables on the expected times, if the overlay changes that day.
    pub(crate) fn day_trips(&self, timetable: &Timetable, day: u32) -> Option<Arc<DayTrips>> {
        let slot = self.tables.get(&day)?;
        Some(Arc::clone(
            slot.get_or_init(|| Arc::new(DayTrips::build_live(timetable, day, &self.overlay))),
        ))
    }
}

/// The added trips the searches board (those running as a pattern's trips).
fn searched_added(overlay: &Overlay) -> impl Iterator<Item = &norikae_realtime::AddedTrip> {
    overlay.added.iter().filter(|added| added.pattern.is_some()).map(|added| &**added)
}

/// The [`RealtimeDays`] of the overlay last asked for (queries of one overlay share them;
/// read without a lock on the query path).
#[derive(Default)]
pub(crate) struct RealtimeCache {
    current: ArcSwapOption<RealtimeDays>,
}

impl RealtimeCache {
    /// The realtime days of `overlay`, or `None` when it was built for another timetable or
    /// changes no trip (the searches then read the timetable's day tables alone).
    pub(crate) fn for_overlay(
        &self,
        timetable: &Timetable,
        overlay: &Arc<Overlay>,
    ) -> Option<Arc<RealtimeDays>> {
        if !overlay.fits(timetable)
            || (overlay.num_trips() == 0 && searched_added(overlay).next().is_none())
        {
            return None;
        }
        if let Some(days) = self.current.load_full()
            && Arc::ptr_eq(&days.overlay, overlay)
        {
            return Some(days);
        }
        // Two queries meeting a new overlay at once may both build its (cheap, lazily filled)
        // days; the last one stored stays.
        let days = Arc::new(RealtimeDays::new(Arc::clone(overlay)));
        self.current.store(Some(Arc::clone(&days)));
        Some(days)
    }
}

#[cfg(test)]
mod tests {
    use norikae_realtime::overlay::{AddedTrip, StopRealtime, TripKey, TripRealtime};
    use norikae_timetable::{PatternIdx, StopTime, TripIdx};

    use super::*;
    use crate::engine::tests::bundled_timetable;
    use crate::engine::{Engine, Leg, Place, Request, Scratch, SearchKind};

    /// A day and a pattern of at least four stops with at least three trips that day, and
    /// the positions of those running trips within the pattern.
    fn busy_pattern(timetable: &Timetable) -> (u32, PatternIdx, Vec<usize>) {
        for day in 0..400 {
            for (index, pattern) in timetable.patterns.iter().enumerate() {
                if pattern.num_stops() < 4 {
                    continue;
                }
                let running: Vec<usize> = (0..pattern.num_trips())
                    .filter(|&trip| {
                        let trip = pattern.trips.start as usize + trip;
                        timetable.service_runs(timetable.trip_services[trip], day)
                    })
                    .collect();
                if running.len() >= 3 {
                    return (day, PatternIdx::from(index), running);
                }
            }
        }
        panic!("the bundled feeds have a busy pattern");
    }

    fn expected(
        times: &[StopTime],
        shift: impl Fn(usize) -> u32,
        skipped: &[usize],
    ) -> TripRealtime {
        TripRealtime {
            stops: times
                .iter()
                .enumerate()
                .map(|(position, time)| StopRealtime {
                    arrival: time.arrival + shift(position),
                    departure: time.departure + shift(position),
                    flags: if skipped.contains(&position) {
                        StopRealtime::SKIPPED
                    } else {
                        StopRealtime::PREDICTED
                    },
                })
                .collect(),
            ..TripRealtime::default()
        }
    }

    /// The first running trip of [`busy_pattern`] and its timetable times.
    fn busy_trip(timetable: &Timetable) -> (TripKey, &[StopTime]) {
        let (day, pattern, running) = busy_pattern(timetable);
        let trip =
            TripIdx::from(timetable.patterns[pattern.idx()].trips.start as usize + running[0]);
        (TripKey { trip, day }, timetable.trip_stop_times(pattern, running[0]))
    }

    /// The lower bounds hold on an overlay whose trips are late by the same amount all
    /// along, not on one whose trip makes up its delay by riding a stretch faster than any
    /// trip of its pattern.
    #[test]
    fn bounds_hold_unless_a_trip_rides_faster_than_the_timetable() {
        let timetable = Arc::new(bundled_timetable());
        let (key, times) = busy_trip(&timetable);
        let late = Overlay::from_trips(&timetable, [(key, expected(times, |_| 300, &[]))]);
        assert!(RealtimeDays::new(Arc::new(late)).bounds_hold(&timetable));
        // Late until the second stop, on time again at the third: the stretch between them
        // ridden five minutes faster than scheduled (or in no time).
        let ride = times[2].arrival - times[1].departure;
        let made_up =
            expected(times, |position| if position == 1 { ride.min(300) } else { 0 }, &[]);
        let faster = Overlay::from_trips(&timetable, [(key, made_up)]);
        assert!(!RealtimeDays::new(Arc::new(faster)).bounds_hold(&timetable));
    }

    /// Preparing an overlay's searches builds the day tables of every day it changes, so
    /// that the first search on it does not.
    #[test]
    fn preparing_an_overlays_searches_builds_its_day_tables() {
        let timetable = Arc::new(bundled_timetable());
        let (key, times) = busy_trip(&timetable);
        let late =
            Arc::new(Overlay::from_trips(&timetable, [(key, expected(times, |_| 300, &[]))]));
        let engine = Engine::new(Arc::clone(&timetable));
        let live =
            engine.realtime.for_overlay(&timetable, &late).expect("the overlay changes a trip");
        assert!(live.tables.values().all(|slot| slot.get().is_none()), "built on first use");
        engine.prepare_realtime_searches(&late);
        let live = engine.realtime.for_overlay(&timetable, &late).expect("the same overlay");
        assert_eq!(live.tables.keys().copied().collect::<Vec<_>>(), vec![key.day]);
        assert!(live.tables.values().all(|slot| slot.get().is_some()), "built by preparing");
    }

    /// The walks RAPTOR leaves out stay needless on an overlay whose trips are late by the
    /// same amount all along, not on one whose trip waits at a stop longer than any trip of
    /// its pattern takes from the stop before (a delay starting there).
    #[test]
    fn walk_pruning_holds_unless_a_trip_waits_longer_than_the_timetable() {
        let timetable = Arc::new(bundled_timetable());
        let (key, times) = busy_trip(&timetable);
        let late = Overlay::from_trips(&timetable, [(key, expected(times, |_| 600, &[]))]);
        assert!(RealtimeDays::new(Arc::new(late)).walk_pruning_holds(&timetable));
        let from_the_second = expected(times, |position| if position >= 1 { 3600 } else { 0 }, &[]);
        let waits = Overlay::from_trips(&timetable, [(key, from_the_second)]);
        assert!(!RealtimeDays::new(Arc::new(waits)).walk_pruning_holds(&timetable));
    }

    #[test]
    fn a_trip_overtaking_another_mid_route_is_split_off_and_every_trip_stays_reachable() {
        overtaking_and_added_trips_against_brute_force(false);
    }

    #[test]
    fn added_trips_of_a_pattern_are_boarded_as_its_trips_and_match_brute_force() {
        overtaking_and_added_trips_against_brute_force(true);
    }

    /// An added trip with `pattern`'s stops on `day` and these times.
    fn added_trip(
        id: &str,
        day: u32,
        pattern: PatternIdx,
        stops: &[norikae_timetable::StopIdx],
        times: Vec<StopTime>,
    ) -> Arc<AddedTrip> {
        Arc::new(AddedTrip {
            id: id.to_owned(),
            route: None,
            copy_of: None,
            day,
            stops: stops.into(),
            times: times.into_boxed_slice(),
            pattern: Some(pattern),
        })
    }

    /// Trip A overtakes trip B mid-route; with `with_added`, two added trips of the pattern
    /// join: one just before B all along, and one leaving right after A that outruns every
    /// trip. The day tables' groups against brute force over every running trip, and the
    /// search against the brute force's best ride.
    fn overtaking_and_added_trips_against_brute_force(with_added: bool) {
        let timetable = Arc::new(bundled_timetable());
        let (day, pattern, running) = busy_pattern(&timetable);
        let num_stops = timetable.patterns[pattern.idx()].num_stops();
        let (first, second) = (running[0], running[1]);
        let a = timetable.trip_stop_times(pattern, first);
        let b = timetable.trip_stop_times(pattern, second);
        // From the third stop on, trip A runs after trip B; before it, ahead of it.
        let gap = b[2].departure.max(b[2].arrival) - a[2].arrival.min(a[2].departure) + 300;
        let trip = |position: usize| {
            TripIdx::from(timetable.patterns[pattern.idx()].trips.start as usize + position)
        };
        let mut overlay = Overlay::from_trips(
            &timetable,
            [(
                TripKey { trip: trip(first), day },
                expected(a, |p| if p >= 2 { gap } else { 0 }, &[]),
            )],
        );
        let stops = timetable.pattern_stops(pattern);
        let fast_start = a[0].departure + 10;
        if with_added {
            let before_b = b
                .iter()
                .map(|time| StopTime {
                    arrival: time.arrival.saturating_sub(30),
                    departure: time.departure.saturating_sub(30),
                })
                .collect();
            // One second from stop to stop: faster than anything scheduled.
            let fast = (0..num_stops as u32)
                .map(|position| StopTime {
                    arrival: fast_start + position,
                    departure: fast_start + position,
                })
                .collect();
            overlay.added.push(added_trip("test:before-b", day, pattern, stops, before_b));
            overlay.added.push(added_trip("test:fast", day, pattern, stops, fast));
            // Another day's and a pattern-less one are not this day's trips.
            overlay.added.push(added_trip("test:other-day", day + 1, pattern, stops, a.to_vec()));
        }
        let live = DayTrips::build_live(&timetable, day, &overlay);
        assert!(live.groups(pattern) >= 2, "trip A overtaking B is split off");
        let all: Vec<u32> = live.all_of(pattern).collect();
        let added_count = if with_added { 2 } else { 0 };
        assert_eq!(all.len(), running.len() + added_count, "every running trip is in a group");
        let pattern_data = &timetable.patterns[pattern.idx()];
        let added_ids: Vec<&str> = all
            .iter()
            .filter_map(|&trip| live.added_trip(pattern_data, trip))
            .map(|added| added.id.as_str())
            .collect();
        assert_eq!(added_ids.len(), added_count, "{added_ids:?}");
        let times = |trip_in_pattern: u32| {
            live.live_times(pattern, trip_in_pattern, num_stops).expect("a running trip")
        };
        assert_eq!(times(first as u32)[3].arrival, a[3].arrival + gap, "expected times");
        // Brute force: the earliest arrival downstream from each stop for each ready time,
        // over all running trips, against the first trip of each group the scan finds.
        for from in 0..num_stops - 1 {
            let mut readies: Vec<u32> = all
                .iter()
                .flat_map(|&trip| [times(trip)[from].departure, times(trip)[from].departure + 1])
                .collect();
            readies.sort_unstable();
            for ready in readies {
                for to in from + 1..num_stops {
                    let brute = all
                        .iter()
                        .map(|&trip| times(trip))
                        .filter(|times| times[from].departure >= ready)
                        .map(|times| times[to].arrival)
                        .min();
                    let scanned = (0..live.groups(pattern))
                        .filter_map(|group| {
                            let (trips, departures, _, rows) =
                                live.block(pattern, num_stops, group);
                            let count = trips.len();
                            let at_stop = &departures[from * count..(from + 1) * count];
                            assert!(at_stop.is_sorted(), "a group's departures ascend");
                            let index = at_stop.partition_point(|&departure| departure < ready);
                            (index < count)
                                .then(|| rows.expect("a realtime day").row(index).0[to].arrival)
                        })
                        .min();
                    assert_eq!(scanned, brute, "from {from} to {to} ready at {ready}");
                }
            }
        }

        // The search from the first stop when trip A leaves there rides B, which leaves
        // later but now arrives first: nothing later than the brute force's best ride.
        let overlay = Arc::new(overlay);
        let engine = Engine::new(Arc::clone(&timetable));
        let brute = all
            .iter()
            .map(|&trip| times(trip))
            .filter(|times| times[0].departure >= a[0].departure)
            .map(|times| times[3].arrival)
            .min()
            .expect("trip A rides there");
        let day_start = timetable.service_day_start(timetable.date_of_day(day)).timestamp();
        let journey = first_journey(
            &engine,
            Some(&overlay),
            (day, Place::Stop(stops[0]), Place::Stop(stops[3]), a[0].departure),
        );
        assert!(
            journey.arrival <= day_start + i64::from(brute),
            "arrives at {} rather than {}",
            journey.arrival - day_start,
            brute
        );
        assert!(brute < a[3].arrival + gap, "B arrives before the late A");
        if !with_added {
            return;
        }
        // The fast added trip is the brute force's best ride, and the search rides it under
        // its own id: earlier than the same overlay without added trips allows.
        assert_eq!(brute, fast_start + 3);
        assert_eq!(journey.arrival, day_start + i64::from(brute));
        let ride = journey.legs.iter().find_map(|leg| match leg {
            Leg::Transit { added: Some(added), .. } => Some(added.id.clone()),
            _ => None,
        });
        assert_eq!(ride.as_deref(), Some("test:fast"));
        let mut without_added = Overlay::from_trips(
            &timetable,
            overlay.trips().map(|(key, trip)| (*key, trip.clone())),
        );
        without_added.added.clear();
        let without = first_journey(
            &engine,
            Some(&Arc::new(without_added)),
            (day, Place::Stop(stops[0]), Place::Stop(stops[3]), a[0].departure),
        );
        assert!(without.arrival > journey.arrival, "the added trip makes the journey earlier");
    }

    /// The first journey between the pattern's first and last stops leaving at `time_secs` on
    /// `day`, with `overlay` if given.
    fn first_journey(
        engine: &Engine,
        overlay: Option<&Arc<Overlay>>,
        (day, from, to, time_secs): (u32, Place, Place, u32),
    ) -> crate::engine::Journey {
        let timetable = engine.timetable();
        let request = Request {
            from,
            to,
            date: timetable.date_of_day(day),
            time_secs,
            kind: SearchKind::DepartAt,
            options: crate::engine::Options::default(),
        };
        let mut scratch = Scratch::new(timetable);
        let journeys = match overlay {
            Some(overlay) => engine.search_live(&request, &mut scratch, overlay),
            None => engine.search(&request, &mut scratch),
        }
        .expect("the search answers");
        journeys.into_iter().min_by_key(|journey| journey.arrival).expect("a journey")
    }

    fn first_ride(journey: &crate::engine::Journey) -> (TripIdx, u32, usize, i64, i64, PatternIdx) {
        journey
            .legs
            .iter()
            .find_map(|leg| match *leg {
                Leg::Transit {
                    trip,
                    service_day,
                    board_position,
                    departure,
                    arrival,
                    pattern,
                    ..
                } => Some((trip, service_day, board_position, departure, arrival, pattern)),
                Leg::Walk { .. } => None,
            })
            .expect("a ride")
    }

    #[test]
    fn a_delay_moves_the_search_off_the_late_trip_and_a_skipped_stop_is_not_boarded() {
        let timetable = Arc::new(bundled_timetable());
        let engine = Engine::new(Arc::clone(&timetable));
        let (day, pattern, running) = busy_pattern(&timetable);
        let stops = timetable.pattern_stops(pattern);
        let first = timetable.trip_stop_times(pattern, running[0]);
        let query =
            (day, Place::Stop(stops[0]), Place::Stop(stops[stops.len() - 1]), first[0].departure);
        let planned = first_journey(&engine, None, query);
        let (trip, service_day, board, departure, arrival, pattern_of) = first_ride(&planned);
        let trip_in_pattern = (trip.0 - timetable.patterns[pattern_of.idx()].trips.start) as usize;
        let scheduled = timetable.trip_stop_times(pattern_of, trip_in_pattern);
        let key = TripKey { trip, day: service_day };

        // Two hours late: the search rides something else, arriving later than planned.
        let late =
            Arc::new(Overlay::from_trips(&timetable, [(key, expected(scheduled, |_| 7200, &[]))]));
        let replanned = first_journey(&engine, Some(&late), query);
        assert!(replanned.arrival >= planned.arrival, "nothing beats the plan");
        assert!(replanned.arrival < planned.arrival + 7200, "the late trip is not waited for");
        let (trip_now, day_now, _, departure_now, _, _) = first_ride(&replanned);
        assert!((trip_now, day_now) != (trip, service_day), "another trip is ridden");
        assert!(departure_now > departure || replanned.arrival > planned.arrival);

        // Five minutes late: if it is still the best, the legs show the times searched.
        let slightly =
            Arc::new(Overlay::from_trips(&timetable, [(key, expected(scheduled, |_| 300, &[]))]));
        let replanned = first_journey(&engine, Some(&slightly), query);
        let ride = first_ride(&replanned);
        if (ride.0, ride.1) == (trip, service_day) {
            assert_eq!((ride.3, ride.4), (departure + 300, arrival + 300), "expected times");
            assert_eq!(replanned.arrival, planned.arrival + 300);
        } else {
            assert!(replanned.arrival <= planned.arrival + 300);
        }

        // The stop where the plan boarded is skipped: the trip is not boarded there.
        let skipping = Arc::new(Overlay::from_trips(
            &timetable,
            [(key, expected(scheduled, |_| 0, &[board]))],
        ));
        let replanned = first_journey(&engine, Some(&skipping), query);
        for leg in &replanned.legs {
            if let Leg::Transit { trip: ridden, service_day: ridden_day, board_position, .. } = *leg
            {
                assert!(
                    (ridden, ridden_day, board_position) != (trip, service_day, board),
                    "boarded at a skipped stop"
                );
            }
        }
    }
}
