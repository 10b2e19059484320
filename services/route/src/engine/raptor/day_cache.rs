//! The cache of the day tables of the last few service days the searches used.

use std::sync::{Arc, OnceLock};

use super::day_tables::DayTrips;
use crate::engine::recent_days::RecentDays;

/// The day tables of the last few service days used, read without a lock
/// ([`RecentDays`]). A day is built once, outside any lock shared with other days: queries
/// wanting it meanwhile wait for that build, and only they (the others go on with their
/// days); when full, the day used longest ago goes.
pub(crate) struct DayCache {
    days: RecentDays<DaySlot>,
}

/// One service day's tables, filled by the first query that needs them.
type DaySlot = Arc<OnceLock<Arc<DayTrips>>>;

impl Default for DayCache {
    fn default() -> Self {
        Self { days: RecentDays::new(Self::CAPACITY) }
    }
}

impl DayCache {
    /// Days kept (about 15 MB each on New York, twice that once arrive-by searches used it).
    const CAPACITY: usize = 8;

    pub(crate) fn get(&self, day: u32, build: impl FnOnce() -> DayTrips) -> Arc<DayTrips> {
        let slot = self.days.get_or_insert_with(day, DaySlot::default);
        Arc::clone(slot.get_or_init(|| Arc::new(build())))
    }

    pub(crate) fn len(&self) -> usize {
        self.days.len()
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

    #[test]
    fn concurrent_gets_build_each_day_once() {
        const THREADS: usize = 8;
        const DAYS: u32 = 3;
        let timetable = bundled_timetable();
        let cache = DayCache::default();
        let builds: Vec<AtomicUsize> = (0..DAYS).map(|_| AtomicUsize::new(0)).collect();
        let start = std::sync::Barrier::new(THREADS);
        std::thread::scope(|scope| {
            for thread in 0..THREADS {
                let (cache, builds, start, timetable) = (&cache, &builds, &start, &timetable);
                scope.spawn(move || {
                    start.wait();
                    // Each thread asks for every day, from a different first day, many times.
                    for round in 0..50 {
                        let day = (thread as u32 + round) % DAYS;
                        cache.get(day, || {
                            builds[day as usize].fetch_add(1, Ordering::SeqCst);
                            DayTrips::build(timetable, day)
                        });
                    }
                });
            }
        });
        let per_day: Vec<usize> = builds.iter().map(|count| count.load(Ordering::SeqCst)).collect();
        assert_eq!(per_day, vec![1; DAYS as usize], "one build per day");
        assert_eq!(cache.len(), DAYS as usize);
    }
}
