//! [`RecentDays`]: the per-service-day tables a cache keeps for the last few days used (RAPTOR's
//! day tables, Trip-Based transfers), read by every query without a lock.
//!
//! Every query reads three days of each cache, so a mutex here is taken by every query on every
//! thread. Instead the days are an immutable map behind an [`ArcSwap`]: a lookup is one atomic
//! load and, on a hit, one atomic stamp of when the day was last used. Inserts and evictions,
//! a few times a day, copy the map (a handful of `Arc`s) and swap it in under a writer mutex
//! that lookups never take.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

/// Up to `capacity` service days' values; when full, an insert evicts the day used longest
/// ago.
pub(crate) struct RecentDays<T> {
    /// The days kept; replaced whole by every insert or eviction.
    days: ArcSwap<HashMap<u32, Arc<Kept<T>>>>,
    /// Use stamps: a counter rather than a clock, so that "used longest ago" is exact even
    /// for uses within the same microsecond.
    uses: AtomicU64,
    /// One writer at a time, so that two inserts cannot each copy the map and lose the
    /// other's day. Lookups never take it.
    writer: Mutex<()>,
    capacity: usize,
}

/// A kept day's value and its last use, stamped by lookups through a shared reference.
struct Kept<T> {
    value: T,
    last_used: AtomicU64,
}

impl<T: Clone> RecentDays<T> {
    pub(crate) fn new(capacity: usize) -> Self {
        debug_assert!(capacity > 0, "a cache that keeps no day rebuilds every query's days");
        Self {
            days: ArcSwap::from_pointee(HashMap::new()),
            uses: AtomicU64::new(0),
            writer: Mutex::new(()),
            capacity: capacity.max(1),
        }
    }

    /// The day's value, if kept, leaving its last use as it was. Takes no lock.
    pub(crate) fn peek(&self, day: u32) -> Option<T> {
        self.days.load().get(&day).map(|kept| kept.value.clone())
    }

    /// The day's value, if kept, marking the day used now. Takes no lock.
    pub(crate) fn get(&self, day: u32) -> Option<T> {
        let days = self.days.load();
        let kept = days.get(&day)?;
        kept.last_used.store(self.stamp(), Ordering::Relaxed);
        Some(kept.value.clone())
    }

    /// The day's value, kept from now on with the value `make` gives if the day was not kept
    /// (`make` runs under the writer mutex: it should be quick, e.g. an empty slot that the
    /// caller fills outside).
    pub(crate) fn get_or_insert_with(&self, day: u32, make: impl FnOnce() -> T) -> T {
        if let Some(value) = self.get(day) {
            return value;
        }
        let _writer = self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Another writer may have inserted the day between the lookup and the lock.
        if let Some(value) = self.get(day) {
            return value;
        }
        let value = make();
        self.store(day, value.clone());
        value
    }

    /// Keeps `value` for the day (replacing the day's value if kept).
    pub(crate) fn insert(&self, day: u32, value: T) {
        let _writer = self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.store(day, value);
    }

    /// How many days are kept.
    pub(crate) fn len(&self) -> usize {
        self.days.load().len()
    }

    /// The days kept and their values, in no order.
    pub(crate) fn entries(&self) -> Vec<(u32, T)> {
        self.days.load().iter().map(|(&day, kept)| (day, kept.value.clone())).collect()
    }

    /// Swaps in a copy of the map with the day's value, evicting the day used longest ago when
    /// full. The caller holds the writer mutex.
    fn store(&self, day: u32, value: T) {
        let mut days = HashMap::clone(&self.days.load());
        if !days.contains_key(&day) && days.len() >= self.capacity {
            let oldest = days
                .iter()
                .min_by_key(|(_, kept)| kept.last_used.load(Ordering::Relaxed))
                .map(|(&day, _)| day);
            if let Some(oldest) = oldest {
                days.remove(&oldest);
            }
        }
        days.insert(day, Arc::new(Kept { value, last_used: AtomicU64::new(self.stamp()) }));
        self.days.store(Arc::new(days));
    }

    fn stamp(&self) -> u64 {
        self.uses.fetch_add(1, Ordering::Relaxed) + 1
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Barrier;

    use super::*;

    #[test]
    fn a_full_cache_evicts_the_day_used_longest_ago() {
        let days = RecentDays::new(3);
        for day in 0..3 {
            days.insert(day, day * 10);
        }
        assert_eq!(days.get(0), Some(0));
        days.insert(3, 30);
        assert_eq!(days.len(), 3);
        assert_eq!(days.get(1), None, "day 1 was used longest ago");
        assert_eq!((days.get(0), days.get(2), days.get(3)), (Some(0), Some(20), Some(30)));
    }

    #[test]
    fn inserting_a_kept_day_replaces_it_without_evicting_another() {
        let days = RecentDays::new(2);
        days.insert(0, "old");
        days.insert(1, "other");
        days.insert(0, "new");
        let mut entries = days.entries();
        entries.sort_unstable();
        assert_eq!(entries, [(0, "new"), (1, "other")]);
    }

    #[test]
    fn concurrent_first_lookups_of_a_day_keep_one_value() {
        const THREADS: usize = 8;
        let days = RecentDays::new(4);
        let made = AtomicU64::new(0);
        let start = Barrier::new(THREADS);
        let values: Vec<Arc<u32>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    scope.spawn(|| {
                        start.wait();
                        days.get_or_insert_with(7, || {
                            made.fetch_add(1, Ordering::SeqCst);
                            Arc::new(7)
                        })
                    })
                })
                .collect();
            handles.into_iter().map(|handle| handle.join().expect("no panic")).collect()
        });
        assert_eq!(made.load(Ordering::SeqCst), 1, "one value made for the day");
        assert!(values.iter().all(|value| Arc::ptr_eq(value, &values[0])), "all got that one");
    }
}
