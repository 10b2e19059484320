//! Trip-Based routing on a realtime overlay's expected times.
//!
//! A realtime day's trips ([`TripDay::build_live`]) keep the timetable day's numbers, so the
//! timetable day's transfers stay valid for every trip whose transfers cannot see what the
//! overlay changed; only the others are generated again, into a [`Patch`] over the timetable
//! day's tables. Which those are follows from two times per instance: the horizon its
//! transfers were generated up to ([`super::generate::Block::horizons`]: its arrivals, the
//! times it is ready to board, every departure its earliest-trip searches found or stepped
//! over, and how late the trips found can arrive) and its first arrival. Let `[low, high]`
//! hold every timetable and expected time the overlay changes: of a trip it cancels or moves
//! to a further group (leaving a hole), all of them; of a trip it gives other times in its
//! place, those from its first changed stop on (before it, the trip is the timetable's). An
//! unchanged trip whose horizon is before `low` found the same earliest trips on the
//! expected times (a changed departure after its ready time was after the horizon before,
//! so no earlier than the trip found; one before it was so on the timetable too; and a trip
//! found before a change it read all along, the change being after the horizon, so the
//! trip is unchanged as far as it is read), and a changed trip it may board now arrives
//! everywhere after the trips it already boards (after the horizon).
//! An unchanged trip whose first arrival is after `high` is ready only after every changed
//! trip's times. Both keep their transfers; every other trip of the overlay's days and of
//! the days around them is generated again on the realtime days, except, on the day before
//! the first changed day, the trips that leave their last stop before that day starts: only
//! a search on an earlier date boards them, and such a search runs RAPTOR. The journeys are those
//! RAPTOR finds on the same overlay (checked on random queries over every bundled feed, see
//! `tests/correctness.rs`).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use norikae_realtime::Overlay;

use super::days::{LiveChanges, TripDay, unpack};
use super::transfers::{DayTransfers, Patch};
use super::{Built, Cache, TripDays};
use crate::engine::network::Network;
use crate::engine::types::{Direction, Frame};

/// The Trip-Based days of one realtime overlay: per service day it reaches (the days it
/// changes trips on and the days around them), its transfers on the expected times, or
/// `None` where RAPTOR answers (the overlay skips stops or adds trips there, or the
/// timetable day is not built).
pub(crate) struct LiveDays {
    days: HashMap<u32, Option<Arc<DayTransfers>>>,
    /// The first day the overlay changes: searches on earlier dates run RAPTOR (the day
    /// before it is built for the trips a search on a later date can board only).
    first_day: u32,
    pub(crate) report: LiveReport,
}

/// What building an overlay's Trip-Based days did.
#[derive(Clone, Debug, Default)]
pub struct LiveReport {
    /// Service days built on the expected times, and those left to RAPTOR.
    pub days: usize,
    pub unfit_days: usize,
    /// Trips (of all those days) whose transfers were generated again, and those whose
    /// timetable transfers were kept.
    pub regenerated: usize,
    pub kept: usize,
    /// Trips of the changed days that ran in a further group of their pattern (overtaking),
    /// and those cancelled.
    pub moved: usize,
    pub cancelled: usize,
    /// Transfers generated again, and the memory of the patches and realtime days' trips.
    pub transfers: usize,
    pub bytes: usize,
    pub secs: f64,
    /// Per day built: its date and how many of its trips were regenerated and kept.
    pub per_day: Vec<(chrono::NaiveDate, usize, usize)>,
    /// The span of what the overlay changes, Unix time (see the module's documentation).
    pub span: Option<(i64, i64)>,
}

impl LiveDays {
    /// The transfers of the frame's three days on the overlay (the timetable's where it
    /// reaches none), or `None` where RAPTOR answers.
    pub(crate) fn for_frame(
        &self,
        cache: &Cache,
        network: &Network,
        frame: &Frame,
    ) -> Option<[Option<Arc<DayTransfers>>; 3]> {
        if frame.days.day[1].is_none_or(|day| day < self.first_day) {
            return None;
        }
        let mut days = cache.days_for(network, frame)?;
        for (slot, day) in frame.days.day.iter().enumerate() {
            let Some(day) = day else { continue };
            if let Some(live) = self.days.get(day) {
                days[slot] = Some(Arc::clone(live.as_ref()?));
            }
        }
        Some(days)
    }
}

/// Builds the Trip-Based days of `overlay`, which changes trips on service days `touched`,
/// from the timetable days' transfers in `cache` (built here first when the cache builds on
/// demand), with `threads` threads.
pub(crate) fn build(
    cache: &Cache,
    network: &Network,
    overlay: &Overlay,
    touched: impl IntoIterator<Item = u32>,
    threads: usize,
) -> LiveDays {
    let started = std::time::Instant::now();
    let tt = &*network.timetable;
    let touched: BTreeSet<u32> = touched.into_iter().collect();
    let mut report = LiveReport::default();
    // The realtime days, and the span of the changed trips' times, seconds since the epoch.
    let mut live: HashMap<u32, Option<(Arc<TripDay>, LiveChanges)>> = HashMap::new();
    let mut span: Option<(i64, i64)> = None;
    for &day in &touched {
        let built = TripDay::build_live(tt, day, overlay);
        if let Some((_, changes)) = &built {
            let start = tt.service_day_start(tt.date_of_day(day)).timestamp();
            if let Some((low, high)) = changes.span {
                let (low, high) = (start + low, start + high);
                span = Some(span.map_or((low, high), |(lo, hi)| (lo.min(low), hi.max(high))));
            }
            report.moved += changes.moved;
            report.cancelled += changes.cancelled;
        }
        live.insert(day, built.map(|(trips, changes)| (Arc::new(trips), changes)));
    }
    let sources: BTreeSet<u32> = touched
        .iter()
        .flat_map(|&day| [day.checked_sub(1), Some(day), Some(day + 1)])
        .flatten()
        .filter(|&day| day < tt.meta.num_days)
        .collect();
    let mut timetable_days = TripDays::default();
    let mut days = HashMap::new();
    let first_day = touched.first().copied().unwrap_or(u32::MAX);
    for &source in &sources {
        // Of the day before the first changed day, only the trips a search on that day can
        // board: those leaving somewhere after it starts.
        let boardable_from = (source < first_day).then(|| {
            let start = |day: u32| tt.service_day_start(tt.date_of_day(day)).timestamp();
            start(first_day) - start(source)
        });
        let built = build_day(
            cache,
            network,
            &live,
            span,
            (source, boardable_from),
            threads,
            &mut timetable_days,
        );
        match built {
            Some((transfers, regenerated, kept)) => {
                report.days += 1;
                report.regenerated += regenerated;
                report.kept += kept;
                report.per_day.push((tt.date_of_day(source), regenerated, kept));
                if let Some(patch) = &transfers.patch {
                    report.transfers += patch.targets.len();
                    report.bytes += patch.bytes();
                }
                if touched.contains(&source) {
                    report.bytes += transfers.trips.bytes();
                }
                days.insert(source, Some(Arc::new(transfers)));
            }
            None => {
                report.unfit_days += 1;
                days.insert(source, None);
            }
        }
    }
    drop((live, timetable_days));
    super::release_freed_memory();
    report.secs = started.elapsed().as_secs_f64();
    report.span = span;
    LiveDays { days, first_day, report }
}

/// The transfers of service day `source` on the realtime days `live`, with how many of its
/// trips were generated again and how many kept their timetable transfers; `None` where
/// RAPTOR answers. With `boardable_from`, only the trips leaving some stop at or after that
/// time (seconds of the day) are built: the others keep their timetable transfers, which
/// no search reads (see [`LiveDays::first_day`]).
fn build_day(
    cache: &Cache,
    network: &Network,
    live: &HashMap<u32, Option<(Arc<TripDay>, LiveChanges)>>,
    span: Option<(i64, i64)>,
    (source, boardable_from): (u32, Option<i64>),
    threads: usize,
    timetable_days: &mut TripDays,
) -> Option<(DayTransfers, usize, usize)> {
    let tt = &*network.timetable;
    // A timetable day built for fewer trips than this one boards (the day before a date)
    // lacks the others' transfers.
    let base = match cache.peek(source) {
        Some(Built::Transfers(base)) if base.covers(boardable_from) => base,
        Some(Built::Unfit) => return None,
        _ if cache.on_demand() => {
            cache.prepare_day(network, source, threads, timetable_days, boardable_from);
            let Some(Built::Transfers(base)) = cache.peek(source) else { return None };
            base
        }
        _ => return None,
    };
    // The three days' trips: the realtime ones where the overlay changes trips.
    let mut trips_of = |day: Option<u32>| -> Option<Option<Arc<TripDay>>> {
        let Some(day) = day.filter(|&day| day < tt.meta.num_days) else { return Some(None) };
        if let Some(realtime) = live.get(&day) {
            return Some(Some(Arc::clone(&realtime.as_ref()?.0)));
        }
        if day == source {
            return Some(Some(Arc::clone(&base.trips)));
        }
        if let Some(Built::Transfers(built)) = cache.peek(day) {
            return Some(Some(Arc::clone(&built.trips)));
        }
        let built =
            timetable_days.entry(day).or_insert_with(|| TripDay::build(tt, day).map(Arc::new));
        Some(Some(Arc::clone(built.as_ref()?)))
    };
    let trips =
        [trips_of(source.checked_sub(1))?, trips_of(Some(source))?, trips_of(Some(source + 1))?];
    let own = Arc::clone(trips[1].as_ref()?);
    let changes =
        live.get(&source).and_then(|realtime| realtime.as_ref()).map(|(_, changes)| changes);
    let start = tt.service_day_start(tt.date_of_day(source)).timestamp();
    let (low, high) = span.map_or((i64::MAX, i64::MIN), |(low, high)| (low - start, high - start));
    let timetable_instances = base.trips.instances();
    let num_stops =
        |instance: usize| tt.patterns[own.instance_pattern[instance] as usize].num_stops();
    // Whether a search that may read this day boards the instance somewhere.
    let boardable =
        |instance: usize| boardable_from.is_none_or(|from| own.leaves_from(tt, instance, from));
    let mut regenerate: Vec<bool> = (0..own.instances())
        .map(|instance| {
            if instance >= timetable_instances {
                return true;
            }
            if own.is_hole(instance) || !boardable(instance) {
                // Nothing boards it: its transfers are never read.
                return false;
            }
            if changes.is_some_and(|changes| changes.changed[instance]) {
                return true;
            }
            let horizon = i64::from(base.tables.horizons[instance]);
            let event = own.instance_event[instance] as usize;
            let first_arrival = i64::from(own.arrival[event + 1.min(num_stops(instance) - 1)]);
            !(horizon < low || first_arrival > high)
        })
        .collect();
    // What the reasoning above guarantees, checked: no kept transfer boards a trip the
    // overlay changes (one that would is generated again).
    let changed_at = |slot: usize, instance: u32| {
        let day = (source + slot as u32).checked_sub(1)?;
        let (trips, changes) = live.get(&day)?.as_ref()?;
        Some(
            changes.changed.get(instance as usize).copied().unwrap_or(true)
                || trips.is_hole(instance as usize),
        )
    };
    for (instance, regenerate) in regenerate.iter_mut().enumerate().take(timetable_instances) {
        if *regenerate || own.is_hole(instance) || !boardable(instance) {
            continue;
        }
        let event = own.instance_event[instance] as usize;
        let sees_change = (event..event + num_stops(instance)).any(|event| {
            base.transfers(event).iter().any(|&packed| {
                let (slot, target, _) = unpack(packed);
                changed_at(slot, target).unwrap_or(false)
            })
        });
        debug_assert!(
            !sees_change,
            "instance {instance} of day {source} keeps a transfer to a changed trip"
        );
        *regenerate |= sees_change;
    }
    let blocks = super::generate::blocks(&own, |instance| regenerate[instance as usize]);
    let days = DayTransfers::days(tt, source, &trips);
    let rule_stops = &network.rule_boarding_stops[Direction::Backward];
    let generated = super::generate::transfers_of(tt, rule_stops, &days, &blocks, threads)?;
    // The patch: per event of the regenerated instances, its transfers.
    let events = own.arrival.len();
    let mut patched = vec![0u64; events.div_ceil(64)];
    let mut offsets = vec![0u32; events + 1];
    let mut targets = Vec::new();
    for (block, instances) in generated.into_iter().zip(&blocks) {
        let mut counts = block.counts.iter();
        for instance in instances.clone() {
            let event = own.instance_event[instance as usize] as usize;
            for event in event..event + num_stops(instance as usize) {
                patched[event / 64] |= 1 << (event % 64);
                offsets[event + 1] = *counts.next()?;
            }
        }
        targets.extend_from_slice(&block.targets);
    }
    for event in 0..events {
        offsets[event + 1] += offsets[event];
    }
    let regenerated = regenerate.iter().filter(|&&regenerate| regenerate).count();
    let kept = (0..timetable_instances)
        .filter(|&instance| !regenerate[instance] && !own.is_hole(instance) && boardable(instance))
        .count();
    let patch = Patch { patched, offsets, targets };
    let transfers = DayTransfers {
        trips: own,
        tables: Arc::clone(&base.tables),
        patch: Some(patch),
        boardable_from,
    };
    Some((transfers, regenerated, kept))
}
