//! Day tables: per service day, the trips of each pattern running that day and their
//! departures stop-major (and, for backward searches, their arrivals mirrored), which the
//! RAPTOR rounds search for the next trip; and the cache of the last few days built.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use norikae_timetable::{PatternIdx, StopTime, Timetable, TripIdx};

use crate::engine::types::INF;

/// The trips of each pattern that run on one service day (positions within the pattern,
/// ascending), so that finding the next trip never steps over trips of other days; and their
/// departures stop-major (all running trips' departures at one stop of the pattern side by
/// side), so that the binary search for the next trip reads one short contiguous run.
#[derive(Debug)]
pub struct DayTrips {
    /// Per pattern, where its running trips and their departures are, and their span.
    headers: Vec<PatternDay>,
    trips: Vec<u32>,
    departures: Vec<u32>,
    /// The same tables for backward searches, built when the first one needs them.
    mirrored: OnceLock<MirroredTrips>,
}

/// One pattern's running trips on one service day: everything a scan reads before the
/// departures themselves, side by side (a scan reads it for each of three days).
#[derive(Clone, Copy, Debug)]
struct PatternDay {
    /// The running trips are `trips[trips_start..trips_start + count]`.
    trips_start: u32,
    count: u32,
    /// Start of the pattern's block in `departures`: position `i`, running trip `j` is at
    /// `times_start + i * count + j`.
    times_start: u32,
    /// Earliest and latest departure of the running trips over all the pattern's stops, so
    /// that a scan rules out a day with two numbers it reads once.
    earliest: u32,
    latest: u32,
}

/// A day's running trips as a backward (arrive-by) search reads them, laid out so that the
/// forward boarding search works on them unchanged: per pattern, the trips latest first, and
/// for each stop in backward scan order (last stop first), their arrivals mirrored
/// ([`MIRROR_DAY`] minus the time) so that they ascend. Blocks have the sizes of
/// [`DayTrips`]'s, so its headers serve both.
#[derive(Debug)]
struct MirroredTrips {
    trips: Vec<u32>,
    arrivals: Vec<u32>,
    span: Vec<(u32, u32)>,
}

/// Mirrored arrivals are `MIRROR_DAY - arrival`: above any time within a service day and its
/// trips past midnight, and small enough that a backward key (`MIRROR - time`) is a mirrored
/// arrival plus a non-negative per-slot offset.
pub(crate) const MIRROR_DAY: u32 = 1 << 29;

impl DayTrips {
    pub(crate) fn build(timetable: &Timetable, day: u32) -> Self {
        Self::build_without(timetable, day, |_| false)
    }

    /// [`DayTrips::build`] leaving out the trips `excluded` names (those a realtime feed
    /// cancels that day).
    pub(crate) fn build_without(
        timetable: &Timetable,
        day: u32,
        excluded: impl Fn(TripIdx) -> bool,
    ) -> Self {
        let trip_services: &[norikae_timetable::ServiceIdx] = &timetable.trip_services;
        let stop_times: &[StopTime] = &timetable.stop_times;
        let mut headers = Vec::with_capacity(timetable.patterns.len());
        let mut trips = Vec::new();
        let mut departures = Vec::new();
        for pattern in &timetable.patterns {
            let trips_start = trips.len();
            for trip_in_pattern in 0..pattern.num_trips() {
                let trip = pattern.trips.start as usize + trip_in_pattern;
                if timetable.service_runs(trip_services[trip], day)
                    && !excluded(TripIdx::from(trip))
                {
                    trips.push(trip_in_pattern as u32);
                }
            }
            let running = &trips[trips_start..];
            let times_start = departures.len();
            let num_stops = pattern.num_stops();
            let times = &stop_times[pattern.stop_times_start as usize..];
            for position in 0..num_stops {
                departures.extend(
                    running
                        .iter()
                        .map(|&trip| times[trip as usize * num_stops + position].departure),
                );
            }
            let block = &departures[times_start..];
            headers.push(PatternDay {
                trips_start: trips_start as u32,
                count: running.len() as u32,
                times_start: u32::try_from(times_start).expect("a day's departures fit u32"),
                earliest: block.iter().copied().min().unwrap_or(INF),
                latest: block.iter().copied().max().unwrap_or(0),
            });
        }
        Self { headers, trips, departures, mirrored: OnceLock::new() }
    }

    /// Builds the tables backward searches read now rather than at the first one.
    pub(crate) fn prepare_mirrored(&self, timetable: &Timetable) {
        self.mirrored(timetable);
    }

    /// The mirrored tables (built on first use; about as large as the forward ones).
    fn mirrored(&self, timetable: &Timetable) -> &MirroredTrips {
        self.mirrored.get_or_init(|| {
            let stop_times: &[StopTime] = &timetable.stop_times;
            let mut trips = Vec::with_capacity(self.trips.len());
            let mut arrivals = Vec::with_capacity(self.departures.len());
            let mut span = Vec::with_capacity(timetable.patterns.len());
            for (index, pattern) in timetable.patterns.iter().enumerate() {
                let running = self.of(PatternIdx::from(index));
                trips.extend(running.iter().rev());
                let num_stops = pattern.num_stops();
                let times = &stop_times[pattern.stop_times_start as usize..];
                let start = arrivals.len();
                for position in (0..num_stops).rev() {
                    arrivals.extend(running.iter().rev().map(|&trip| {
                        MIRROR_DAY - times[trip as usize * num_stops + position].arrival
                    }));
                }
                let block = &arrivals[start..];
                span.push((
                    block.iter().copied().min().unwrap_or(INF),
                    block.iter().copied().max().unwrap_or(0),
                ));
            }
            MirroredTrips { trips, arrivals, span }
        })
    }

    /// Where `pattern`'s (of `num_stops` stops) running trips and its block of times lie in
    /// the day's tables (the mirrored ones have the same layout), and its header.
    #[inline]
    fn block_ranges(
        &self,
        pattern: PatternIdx,
        num_stops: usize,
    ) -> (std::ops::Range<usize>, std::ops::Range<usize>, PatternDay) {
        let header = self.headers[pattern.idx()];
        let (start, count) = (header.trips_start as usize, header.count as usize);
        let times_start = header.times_start as usize;
        (start..start + count, times_start..times_start + count * num_stops, header)
    }

    /// The running trips of `pattern` (of `num_stops` stops) and their departures
    /// stop-major (position `i`, running trip `j` at `i * running.len() + j`).
    #[inline]
    pub(crate) fn block(
        &self,
        pattern: PatternIdx,
        num_stops: usize,
    ) -> (&[u32], &[u32], (u32, u32)) {
        let (trips, times, header) = self.block_ranges(pattern, num_stops);
        (&self.trips[trips], &self.departures[times], (header.earliest, header.latest))
    }

    /// [`DayTrips::block`] for a backward search: the running trips latest first and their
    /// mirrored arrivals, last stop first.
    #[inline]
    pub(crate) fn mirrored_block(
        &self,
        timetable: &Timetable,
        pattern: PatternIdx,
        num_stops: usize,
    ) -> (&[u32], &[u32], (u32, u32)) {
        let mirrored = self.mirrored(timetable);
        let (trips, times, _) = self.block_ranges(pattern, num_stops);
        (&mirrored.trips[trips], &mirrored.arrivals[times], mirrored.span[pattern.idx()])
    }

    /// Positions (within `pattern`) of its trips running that day.
    #[inline]
    pub(crate) fn of(&self, pattern: PatternIdx) -> &[u32] {
        let header = self.headers[pattern.idx()];
        let start = header.trips_start as usize;
        &self.trips[start..start + header.count as usize]
    }
}

/// One service-day slot's running trips of the pattern being scanned, with their departures
/// stop-major (see [`DayTrips::block`]).
#[derive(Clone, Copy, Default)]
pub(crate) struct SlotTrips<'a> {
    pub(crate) offset: u32,
    pub(crate) running: &'a [u32],
    pub(crate) departures: &'a [u32],
    /// Earliest and latest departure in `departures`.
    pub(crate) earliest: u32,
    pub(crate) latest: u32,
}

/// The day tables of the last few service days used. A day is built outside the lock, once
/// (queries wanting it meanwhile wait for that build, and only they: the others go on with
/// their days); when full, the day used longest ago goes.
#[derive(Default)]
pub(crate) struct DayCache {
    days: Mutex<DayCacheInner>,
}

#[derive(Default)]
struct DayCacheInner {
    /// Per service day: its tables and when it was last asked for (a counter).
    entries: HashMap<u32, (DaySlot, u64)>,
    uses: u64,
}

/// One service day's tables, filled by the first query that needs them.
type DaySlot = Arc<OnceLock<Arc<DayTrips>>>;

impl DayCache {
    /// Days kept (about 15 MB each on New York, twice that once arrive-by searches used it).
    const CAPACITY: usize = 8;

    pub(crate) fn get(&self, day: u32, build: impl FnOnce() -> DayTrips) -> Arc<DayTrips> {
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

    pub(crate) fn len(&self) -> usize {
        self.days.lock().unwrap_or_else(std::sync::PoisonError::into_inner).entries.len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;
    use crate::engine::tests::bundled_timetable;

    #[test]
    fn day_cache_evicts_the_day_used_longest_ago() {
        let timetable = bundled_timetable();
        let cache = DayCache::default();
        let builds = AtomicUsize::new(0);
        let get = |day: u32| {
            cache.get(day, || {
                builds.fetch_add(1, Ordering::SeqCst);
                DayTrips::build(&timetable, day)
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
                    DayTrips::build(&timetable, 0)
                })
            })
        };
        building.recv().expect("the slow build starts");
        let (done, finished) = mpsc::channel();
        {
            let (cache, timetable) = (Arc::clone(&cache), Arc::clone(&timetable));
            std::thread::spawn(move || {
                cache.get(1, || DayTrips::build(&timetable, 1));
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
