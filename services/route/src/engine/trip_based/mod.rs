//! Trip-Based routing (Witt, "Trip-Based Public Transit Routing", 2015) for forward searches
//! (depart-at and range) with the default options.
//!
//! RAPTOR spends most of a query searching, at every stop a round reaches, for the earliest
//! trip of every pattern serving it. Trip-Based routing does those searches ahead, once per
//! service day: for every stop event (a running trip at one of its stops), the trips a
//! traveller alighting there can change to (at the same stop after its minimum transfer time,
//! or over a walking link), each the earliest of its pattern; then only the transfers that
//! improve the arrival, by vehicle, at some stop over staying on the trip (and over the
//! transfers kept from its later stops) are kept, one per stop so improved. A query then follows trip segments round by
//! round (a round is one more trip), marking each trip reached from the earliest position, so
//! that no trip is ridden twice, and answers with the earliest arrival per number of trips:
//! the same Pareto set over (arrival, transfers) as RAPTOR, with the same landmark lower
//! bounds pruning segments that cannot beat the arrival already found. A range search runs
//! the departures of its window latest first and keeps the trips reached, per number of
//! trips, from one departure to the next (a profile search, as rRAPTOR keeps its labels).
//!
//! The transfers of a day go from its trips to those of the same day and of the days before
//! and after it (trips past midnight), so a query on a date reads the three days RAPTOR reads.
//! Building a day takes New York about 18 s of CPU, spread over the threads given (53 s
//! before the per-pattern boardings of [`generate`]), and 137 MiB, which is why days are
//! built off the query path ([`Cache::prepare`], through
//! [`super::Engine::prepare_trip_based`]) while RAPTOR answers; searches
//! with any other option (slack, walking limit, wheelchair, exclusions) and arrive-by
//! searches stay on RAPTOR, since the transfers are computed for the default rules, forward.

mod days;
mod generate;
mod live;
mod search;
mod transfers;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use norikae_timetable::Timetable;

use self::days::TripDay;
pub(crate) use self::live::LiveDays;
pub use self::live::LiveReport;
pub(crate) use self::search::{Departures, Search, search};
pub(crate) use self::transfers::DayTransfers;
use super::network::Network;
use super::recent_days::RecentDays;
use super::types::{Direction, Frame};

/// One service day's transfers, once built.
#[derive(Clone)]
enum Built {
    Transfers(Arc<DayTransfers>),
    /// The day's trips do not fit the packed layout (or its build failed): RAPTOR answers on
    /// it.
    Unfit,
}

impl Built {
    /// Whether building the day again for boarding from `from` on would change nothing (see
    /// [`DayTransfers::covers`]; an unfit day stays unfit).
    fn covers(&self, from: Option<i64>) -> bool {
        match self {
            Self::Transfers(transfers) => transfers.covers(from),
            Self::Unfit => true,
        }
    }
}

/// From when (seconds of its day) a search in `frame` may board the trips of the day in
/// `slot`: the day before the query's (slot 0) only from the start of the query's day on,
/// so that only its trips still running then need their transfers; `None`: anywhere.
fn boardable_from(frame: &Frame, slot: usize) -> Option<i64> {
    (slot == 0 && frame.days.day[1].is_some()).then(|| i64::from(frame.days.offset[1]))
}

/// The transfers of the service days built so far, and whether and how a search gets them.
pub(crate) struct Cache {
    /// Per service day: its transfers, read without a lock ([`RecentDays`]).
    days: RecentDays<Built>,
    /// One build at a time (each uses the threads it is given).
    building: Mutex<()>,
    /// Searches build missing days themselves (small feeds and tests) instead of leaving
    /// them to RAPTOR until [`Cache::prepare`] has built them.
    on_demand: AtomicBool,
    /// Searches answered by Trip-Based routing.
    searches: AtomicU64,
}

impl Default for Cache {
    fn default() -> Self {
        Self {
            days: RecentDays::new(Self::CAPACITY),
            building: Mutex::new(()),
            on_demand: AtomicBool::new(false),
            searches: AtomicU64::new(0),
        }
    }
}

impl Cache {
    /// Days kept: a query needs three, and the next date's third is built before midnight.
    const CAPACITY: usize = 4;

    /// The day's transfers, if built (`None`: not yet).
    fn get(&self, day: u32) -> Option<Built> {
        self.days.get(day)
    }

    /// The day's transfers, if built, without counting it as used.
    fn peek(&self, day: u32) -> Option<Built> {
        self.days.peek(day)
    }

    /// Builds the transfers of the service days a query on `date` reads (the days before, of
    /// and after it) that are not built yet, with `threads` threads; from then on depart-at
    /// and range searches with the default options on that date use Trip-Based routing.
    /// Returns what was built (nothing for days built before, or outside the timetable).
    pub(crate) fn prepare(
        &self,
        network: &Network,
        date: NaiveDate,
        threads: usize,
    ) -> Vec<PreparedDay> {
        let Ok(frame) = Frame::new(&network.timetable, date) else { return Vec::new() };
        let mut trip_days = TripDays::default();
        let prepared: Vec<PreparedDay> = (0..3)
            .filter_map(|slot| {
                let day = frame.days.day[slot]?;
                let from = boardable_from(&frame, slot);
                self.prepare_day(network, day, threads, &mut trip_days, from)
            })
            .collect();
        drop(trip_days);
        if !prepared.is_empty() {
            release_freed_memory();
        }
        prepared
    }

    /// Builds the transfers of service day `day` for boarding from `from` on (`None`:
    /// anywhere) unless the day built covers that, with the running trips of it and its
    /// neighbours from `trip_days` or the days built.
    fn prepare_day(
        &self,
        network: &Network,
        day: u32,
        threads: usize,
        trip_days: &mut TripDays,
        from: Option<i64>,
    ) -> Option<PreparedDay> {
        let _building = self.building.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.get(day).is_some_and(|built| built.covers(from)) {
            return None;
        }
        let started = std::time::Instant::now();
        let tt = &network.timetable;
        let mut trips = |day: Option<u32>| {
            let day = day.filter(|&day| day < tt.meta.num_days)?;
            if let Some(Built::Transfers(built)) = self.peek(day) {
                return Some(Arc::clone(&built.trips));
            }
            trip_days.entry(day).or_insert_with(|| TripDay::build(tt, day).map(Arc::new)).clone()
        };
        let trips = [trips(day.checked_sub(1)), trips(Some(day)), trips(Some(day + 1))];
        let rule_stops = &network.rule_boarding_stops[Direction::Backward];
        let transfers =
            DayTransfers::build(tt, rule_stops, day, &trips, threads, from).map(Arc::new);
        let prepared = PreparedDay {
            date: network.timetable.date_of_day(day),
            boardable_from: from,
            transfers: transfers.as_ref().map(|day| day.len()),
            bytes: transfers.as_ref().map_or(0, |day| day.bytes()),
            secs: started.elapsed().as_secs_f64(),
        };
        self.days.insert(day, transfers.map_or(Built::Unfit, Built::Transfers));
        Some(prepared)
    }

    /// Lets forward searches build the transfers they miss themselves (see
    /// [`Cache::days_for`]).
    pub(crate) fn set_on_demand(&self, on: bool) {
        self.on_demand.store(on, Ordering::Relaxed);
    }

    /// Whether searches build the transfers they miss (a realtime overlay's too).
    pub(crate) fn on_demand(&self) -> bool {
        self.on_demand.load(Ordering::Relaxed)
    }

    /// The Trip-Based days of a realtime `overlay` that changes trips on service days
    /// `touched` (see [`live`]), with `threads` threads.
    pub(crate) fn build_live(
        &self,
        network: &Network,
        overlay: &norikae_realtime::Overlay,
        touched: impl IntoIterator<Item = u32>,
        threads: usize,
    ) -> LiveDays {
        live::build(self, network, overlay, touched, threads)
    }

    /// The service days whose transfers are built (those whose trips do not fit the layout
    /// left out), in order.
    pub(crate) fn dates(&self, timetable: &Timetable) -> Vec<NaiveDate> {
        let mut dates: Vec<NaiveDate> = self
            .days
            .entries()
            .into_iter()
            .filter(|(_, built)| matches!(built, Built::Transfers(_)))
            .map(|(day, _)| timetable.date_of_day(day))
            .collect();
        dates.sort_unstable();
        dates
    }

    /// Counts a search answered by Trip-Based routing.
    pub(crate) fn count_search(&self) {
        self.searches.fetch_add(1, Ordering::Relaxed);
    }

    /// How many searches Trip-Based routing has answered.
    pub(crate) fn searches(&self) -> u64 {
        self.searches.load(Ordering::Relaxed)
    }

    /// The transfers of the frame's three days, if all are built (or, on demand, once built
    /// here with one thread).
    pub(crate) fn days_for(
        &self,
        network: &Network,
        frame: &Frame,
    ) -> Option<[Option<Arc<DayTransfers>>; 3]> {
        let mut days: [Option<Arc<DayTransfers>>; 3] = [None, None, None];
        for (slot, day) in frame.days.day.iter().enumerate() {
            let Some(day) = *day else { continue };
            let from = boardable_from(frame, slot);
            let built = match self.get(day) {
                Some(built) if built.covers(from) => built,
                _ if self.on_demand.load(Ordering::Relaxed) => {
                    self.prepare_day(network, day, 1, &mut TripDays::default(), from);
                    self.get(day)?
                }
                _ => return None,
            };
            let Built::Transfers(transfers) = built else { return None };
            days[slot] = Some(transfers);
        }
        Some(days)
    }
}

/// Running trips of service days built while preparing days (`None`: the day's trips do not
/// fit the packed layout), so that a day's trips are built once though three days' transfers
/// read them.
type TripDays = HashMap<u32, Option<Arc<TripDay>>>;

/// What [`Cache::prepare`] did for one day.
#[derive(Clone, Debug)]
pub struct PreparedDay {
    pub date: NaiveDate,
    /// `Some(from)`: built for the trips leaving somewhere at or after `from` (seconds of the
    /// day) only, as the day before the date prepared; `None`: for every trip.
    pub boardable_from: Option<i64>,
    /// Transfers kept (`None`: the day's trips do not fit, RAPTOR answers on it).
    pub transfers: Option<usize>,
    pub bytes: usize,
    pub secs: f64,
}

/// Hands the pages the allocator holds free back to the system. A build allocates and frees
/// hundreds of MiB on its worker threads (the blocks' transfers, the neighbouring days'
/// trips); glibc keeps much of that in its heaps for reuse, so a route task kept about 50 MiB
/// more resident than its tables after building three New York days.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub(crate) fn release_freed_memory() {
    // SAFETY: malloc_trim takes no pointer and only walks glibc's own free lists, under the
    // locks its allocations take; any thread may call it at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn release_freed_memory() {}
