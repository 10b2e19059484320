//! The realtime overlay as the searches read it: for each service day on which the overlay
//! cancels trips, day tables without those trips (built on first use, one set per overlay),
//! so that RAPTOR never boards a cancelled trip. Trip-Based routing's transfers are computed
//! on the timetable's trips, so a search on such a day runs RAPTOR.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use norikae_realtime::Overlay;
use norikae_timetable::{Timetable, TripIdx};

use super::raptor::day_tables::DayTrips;

/// One overlay's cancellations by service day, and the day tables without them.
pub(crate) struct RealtimeDays {
    overlay: Arc<Overlay>,
    cancelled: HashMap<u32, HashSet<TripIdx>>,
    tables: Mutex<HashMap<u32, Arc<OnceLock<Arc<DayTrips>>>>>,
}

impl RealtimeDays {
    fn new(overlay: Arc<Overlay>) -> Self {
        let mut cancelled: HashMap<u32, HashSet<TripIdx>> = HashMap::new();
        for (key, trip) in overlay.trips() {
            if trip.cancelled {
                cancelled.entry(key.day).or_default().insert(key.trip);
            }
        }
        Self { overlay, cancelled, tables: Mutex::new(HashMap::new()) }
    }

    /// Whether the overlay cancels a trip on `day`.
    pub(crate) fn touches(&self, day: u32) -> bool {
        self.cancelled.contains_key(&day)
    }

    /// `day`'s tables without its cancelled trips, if it has any.
    pub(crate) fn day_trips(&self, timetable: &Timetable, day: u32) -> Option<Arc<DayTrips>> {
        let cancelled = self.cancelled.get(&day)?;
        let slot = {
            let mut tables = self.tables.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(tables.entry(day).or_default())
        };
        Some(Arc::clone(slot.get_or_init(|| {
            Arc::new(DayTrips::build_without(timetable, day, |trip| cancelled.contains(&trip)))
        })))
    }
}

/// The [`RealtimeDays`] of the overlay last asked for (queries of one overlay share them).
#[derive(Default)]
pub(crate) struct RealtimeCache {
    current: Mutex<Option<Arc<RealtimeDays>>>,
}

impl RealtimeCache {
    /// The realtime days of `overlay`, or `None` when it was built for another timetable or
    /// cancels nothing (the searches then read the timetable's day tables alone).
    pub(crate) fn for_overlay(
        &self,
        timetable: &Timetable,
        overlay: &Arc<Overlay>,
    ) -> Option<Arc<RealtimeDays>> {
        if !overlay.fits(timetable) || overlay.stats.trips_cancelled == 0 {
            return None;
        }
        let mut current = self.current.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(days) = current.as_ref()
            && Arc::ptr_eq(&days.overlay, overlay)
        {
            return Some(Arc::clone(days));
        }
        let days = Arc::new(RealtimeDays::new(Arc::clone(overlay)));
        *current = Some(Arc::clone(&days));
        Some(days)
    }
}
