//! Day tables: per service day, the trips of each pattern running that day and their
//! departures stop-major (and, for backward searches, their arrivals mirrored), which the
//! RAPTOR rounds search for the next trip; and the cache of the last few days built.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use norikae_realtime::{AddedTrip, Overlay};
use norikae_timetable::{Pattern, PatternIdx, StopTime, Timetable, TripIdx};

use crate::engine::recent_days::RecentDays;
use crate::engine::types::INF;

/// The trips of each pattern that run on one service day (positions within the pattern,
/// ascending), so that finding the next trip never steps over trips of other days; and their
/// departures stop-major (all running trips' departures at one stop of the pattern side by
/// side), so that the binary search for the next trip reads one short contiguous run.
#[derive(Debug)]
pub struct DayTrips {
    /// Per pattern, where its running trips and their departures are, and their span; on a
    /// realtime day, after them the further groups of split patterns (see [`LiveTimes`]).
    headers: Vec<PatternDay>,
    trips: Vec<u32>,
    departures: Vec<u32>,
    /// The same tables for backward searches, built when the first one needs them.
    mirrored: OnceLock<MirroredTrips>,
    /// On a day a realtime overlay changes: the expected times the tables hold.
    live: Option<Box<LiveTimes>>,
}

/// A realtime day's expected times. Each block's running trips are sorted by their expected
/// departures; trips that overtake another somewhere along the pattern (no order keeps
/// every stop's departures and arrivals ascending) go to further groups of the pattern, each
/// its own block whose trips never overtake each other, which the scan reads one after the
/// other as if they were patterns of their own.
#[derive(Debug)]
struct LiveTimes {
    /// Trip-major per block: running trip `j`, position `i` of a block at `times_start` is
    /// at `times_start + j * num_stops + i` (same size as the block of departures).
    times: Vec<StopTime>,
    /// The same layout: the vehicle does not stop there (no boarding, no alighting).
    skipped: Vec<bool>,
    /// Per pattern, its further groups: `headers[start..start + count]`.
    groups: Vec<(u32, u32)>,
    /// Per (pattern, trip in pattern) running that day, its row's start in `times`.
    rows: HashMap<(u32, u32), u32>,
    /// The trips the feeds added that day as trips of a pattern (same stops): in the
    /// tables as trip `num_trips + k` of their pattern for `added[k]`, a number no
    /// timetable trip of the pattern has (see [`DayTrips::added_trip`]).
    added: Vec<Arc<AddedTrip>>,
}

/// One running trip's expected times in a block of a realtime day: its times and skipped
/// stops, by position of the pattern.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LiveBlock<'a> {
    times: &'a [StopTime],
    skipped: &'a [bool],
    num_stops: usize,
    /// The block as a backward search reads it (running trips latest first).
    reversed: bool,
}

impl<'a> LiveBlock<'a> {
    fn row_start(&self, running_index: usize) -> usize {
        let count = self.times.len() / self.num_stops.max(1);
        let row = if self.reversed { count - 1 - running_index } else { running_index };
        row * self.num_stops
    }

    /// The expected times of the running trip `running_index` (in the slot's order).
    #[inline]
    pub(crate) fn row(&self, running_index: usize) -> (&'a [StopTime], &'a [bool]) {
        let start = self.row_start(running_index);
        let end = start + self.num_stops;
        (&self.times[start..end], &self.skipped[start..end])
    }

    /// Whether that trip skips the stop at `scan_position` (in the search's scan order).
    #[inline]
    pub(crate) fn skips(&self, running_index: usize, scan_position: usize) -> bool {
        let position =
            if self.reversed { self.num_stops - 1 - scan_position } else { scan_position };
        self.skipped[self.row_start(running_index) + position]
    }
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
    /// Per header.
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
        Self { headers, trips, departures, mirrored: OnceLock::new(), live: None }
    }

    /// The day's tables on the expected times `overlay` gives for service day `day`: its
    /// cancelled trips left out, its added trips with a pattern's stops in as further trips
    /// of that pattern, each block's trips sorted by expected departure, trips overtaking
    /// others split into further groups (see [`LiveTimes`]), skipped stops noted.
    pub(crate) fn build_live(timetable: &Timetable, day: u32, overlay: &Overlay) -> Self {
        let stop_times: &[StopTime] = &timetable.stop_times;
        let num_patterns = timetable.patterns.len();
        let mut headers =
            vec![
                PatternDay { trips_start: 0, count: 0, times_start: 0, earliest: INF, latest: 0 };
                num_patterns
            ];
        let mut trips = Vec::new();
        let mut departures = Vec::new();
        let mut live = LiveTimes {
            times: Vec::new(),
            skipped: Vec::new(),
            groups: vec![(0, 0); num_patterns],
            rows: HashMap::new(),
            added: Vec::new(),
        };
        // The day's added trips that run as a pattern's, by pattern.
        let mut added_by_pattern: HashMap<PatternIdx, Vec<usize>> = HashMap::new();
        for added in &overlay.added {
            let Some(pattern) = added.pattern.filter(|_| added.day == day) else { continue };
            let fits = timetable.patterns.get(pattern.idx()).is_some_and(|data| {
                data.num_stops() == added.times.len() && data.num_stops() == added.stops.len()
            });
            if fits {
                added_by_pattern.entry(pattern).or_default().push(live.added.len());
                live.added.push(Arc::clone(added));
            }
        }
        for (index, pattern) in timetable.patterns.iter().enumerate() {
            let num_stops = pattern.num_stops();
            let scheduled = &stop_times[pattern.stop_times_start as usize..];
            // Running trips with their expected times and skipped stops.
            let mut rows: Vec<(u32, Vec<StopTime>, Vec<bool>)> = Vec::new();
            for trip_in_pattern in 0..pattern.num_trips() {
                let trip = pattern.trips.start as usize + trip_in_pattern;
                if !timetable.service_runs(timetable.trip_services[trip], day) {
                    continue;
                }
                let realtime = overlay.trip(TripIdx::from(trip), day);
                if realtime.is_some_and(|realtime| realtime.cancelled) {
                    continue;
                }
                let stops = realtime.map(|realtime| &realtime.stops[..]).unwrap_or_default();
                let times = (0..num_stops)
                    .map(|position| match stops.get(position) {
                        Some(expected) => {
                            StopTime { arrival: expected.arrival, departure: expected.departure }
                        }
                        None => scheduled[trip_in_pattern * num_stops + position],
                    })
                    .collect();
                let skipped = (0..num_stops)
                    .map(|position| stops.get(position).is_some_and(|stop| stop.skipped()))
                    .collect();
                rows.push((trip_in_pattern as u32, times, skipped));
            }
            // Added trips join as further trips of the pattern: sorted and grouped with the
            // others, so one overtaking or overtaken goes to a group of its own.
            for &added_index in added_by_pattern.get(&PatternIdx::from(index)).into_iter().flatten()
            {
                let trip_in_pattern = (pattern.num_trips() + added_index) as u32;
                let times = live.added[added_index].times.to_vec();
                rows.push((trip_in_pattern, times, vec![false; num_stops]));
            }
            rows.sort_by(|a, b| {
                let later = b.1.iter().map(|time| time.departure);
                a.1.iter().map(|time| time.departure).cmp(later).then(a.0.cmp(&b.0))
            });
            // Chains of trips none of which overtakes another: each trip joins the first
            // group whose last trip it follows at every stop.
            let mut groups: Vec<Vec<usize>> = Vec::new();
            for (row_index, row) in rows.iter().enumerate() {
                let follows = |group: &&mut Vec<usize>| {
                    let last = &rows[*group.last().expect("groups are not empty")].1;
                    last.iter().zip(&row.1).all(|(before, after)| {
                        before.departure <= after.departure && before.arrival <= after.arrival
                    })
                };
                match groups.iter_mut().find(follows) {
                    Some(group) => group.push(row_index),
                    None => groups.push(vec![row_index]),
                }
            }
            if groups.is_empty() {
                groups.push(Vec::new());
            }
            for (group_index, group) in groups.iter().enumerate() {
                let trips_start = trips.len();
                let times_start = departures.len();
                for &row_index in group {
                    let (trip_in_pattern, times, skipped) = &rows[row_index];
                    trips.push(*trip_in_pattern);
                    live.rows.insert(
                        (index as u32, *trip_in_pattern),
                        u32::try_from(live.times.len()).expect("a day's times fit u32"),
                    );
                    live.times.extend_from_slice(times);
                    live.skipped.extend_from_slice(skipped);
                }
                for position in 0..num_stops {
                    departures.extend(group.iter().map(|&row| rows[row].1[position].departure));
                }
                let block = &departures[times_start..];
                let header = PatternDay {
                    trips_start: trips_start as u32,
                    count: group.len() as u32,
                    times_start: u32::try_from(times_start).expect("a day's departures fit u32"),
                    earliest: block.iter().copied().min().unwrap_or(INF),
                    latest: block.iter().copied().max().unwrap_or(0),
                };
                if group_index == 0 {
                    headers[index] = header;
                } else {
                    if group_index == 1 {
                        live.groups[index] = (headers.len() as u32, groups.len() as u32 - 1);
                    }
                    headers.push(header);
                }
            }
        }
        Self { headers, trips, departures, mirrored: OnceLock::new(), live: Some(Box::new(live)) }
    }

    /// How many groups (blocks) of `pattern`'s trips the scan reads: 1, or more on a
    /// realtime day where trips overtake others.
    #[inline]
    pub(crate) fn groups(&self, pattern: PatternIdx) -> usize {
        self.live.as_ref().map_or(1, |live| 1 + live.groups[pattern.idx()].1 as usize)
    }

    /// The header index of `pattern`'s group `group`.
    #[inline]
    fn header_index(&self, pattern: PatternIdx, group: usize) -> usize {
        if group == 0 {
            pattern.idx()
        } else {
            let live = self.live.as_ref().expect("only realtime days have further groups");
            live.groups[pattern.idx()].0 as usize + group - 1
        }
    }

    /// The times `trip_in_pattern` of `pattern` runs on that day, when a realtime overlay
    /// gave the tables (`None`: the timetable's).
    pub(crate) fn live_times(
        &self,
        pattern: PatternIdx,
        trip_in_pattern: u32,
        num_stops: usize,
    ) -> Option<&[StopTime]> {
        let live = self.live.as_ref()?;
        let start = *live.rows.get(&(pattern.0, trip_in_pattern))? as usize;
        Some(&live.times[start..start + num_stops])
    }

    /// The added trip `trip_in_pattern` of `pattern` (of data `pattern_data`) stands for,
    /// on a realtime day; `None` for the timetable's trips.
    pub(crate) fn added_trip(
        &self,
        pattern_data: &Pattern,
        trip_in_pattern: u32,
    ) -> Option<&Arc<AddedTrip>> {
        let index = (trip_in_pattern as usize).checked_sub(pattern_data.num_trips())?;
        self.live.as_ref()?.added.get(index)
    }

    /// Whether on this realtime day `trip_in_pattern` of `pattern` skips `position`.
    pub(crate) fn live_skips(
        &self,
        pattern: PatternIdx,
        trip_in_pattern: u32,
        num_stops: usize,
        position: usize,
    ) -> bool {
        self.live.as_ref().is_some_and(|live| {
            live.rows.get(&(pattern.0, trip_in_pattern)).is_some_and(|&start| {
                position < num_stops && live.skipped[start as usize + position]
            })
        })
    }

    /// Every trip of `pattern` running that day (positions within the pattern, in no
    /// particular order on realtime days).
    pub(crate) fn all_of(&self, pattern: PatternIdx) -> impl Iterator<Item = u32> + '_ {
        (0..self.groups(pattern)).flat_map(move |group| {
            let header = self.headers[self.header_index(pattern, group)];
            let start = header.trips_start as usize;
            self.trips[start..start + header.count as usize].iter().copied()
        })
    }

    /// Builds the tables backward searches read now rather than at the first one.
    pub(crate) fn prepare_mirrored(&self, timetable: &Timetable) {
        self.mirrored(timetable);
    }

    /// The mirrored tables (built on first use; about as large as the forward ones).
    fn mirrored(&self, timetable: &Timetable) -> &MirroredTrips {
        self.mirrored.get_or_init(|| {
            let stop_times: &[StopTime] = &timetable.stop_times;
            let mut trips = vec![0; self.trips.len()];
            let mut arrivals = vec![0; self.departures.len()];
            let mut span = Vec::with_capacity(self.headers.len());
            for (header_index, header) in self.headers.iter().enumerate() {
                let pattern_index = if header_index < timetable.patterns.len() {
                    header_index
                } else {
                    let live = self.live.as_ref().expect("only realtime days have more headers");
                    live.groups
                        .iter()
                        .position(|&(start, count)| {
                            (start as usize..(start + count) as usize).contains(&header_index)
                        })
                        .expect("every further header belongs to a pattern")
                };
                let pattern = &timetable.patterns[pattern_index];
                let num_stops = pattern.num_stops();
                let (start, count) = (header.trips_start as usize, header.count as usize);
                let running = &self.trips[start..start + count];
                for (to, &trip) in trips[start..start + count].iter_mut().zip(running.iter().rev())
                {
                    *to = trip;
                }
                let times_start = header.times_start as usize;
                let scheduled = &stop_times[pattern.stop_times_start as usize..];
                let arrival = |row: usize, trip: u32, position: usize| match &self.live {
                    Some(live) => live.times[times_start + row * num_stops + position].arrival,
                    None => scheduled[trip as usize * num_stops + position].arrival,
                };
                let mut at = times_start;
                for position in (0..num_stops).rev() {
                    for (row, &trip) in running.iter().enumerate().rev() {
                        arrivals[at] = MIRROR_DAY - arrival(row, trip, position);
                        at += 1;
                    }
                }
                let block = &arrivals[times_start..times_start + count * num_stops];
                span.push((
                    block.iter().copied().min().unwrap_or(INF),
                    block.iter().copied().max().unwrap_or(0),
                ));
            }
            MirroredTrips { trips, arrivals, span }
        })
    }

    /// Where header `header_index`'s (of `num_stops` stops) running trips and its block of
    /// times lie in the day's tables (the mirrored ones have the same layout), and the header.
    #[inline]
    fn block_ranges(
        &self,
        header_index: usize,
        num_stops: usize,
    ) -> (std::ops::Range<usize>, std::ops::Range<usize>, PatternDay) {
        let header = self.headers[header_index];
        let (start, count) = (header.trips_start as usize, header.count as usize);
        let times_start = header.times_start as usize;
        (start..start + count, times_start..times_start + count * num_stops, header)
    }

    /// The expected times of a block, on a realtime day.
    #[inline]
    fn live_block(
        &self,
        times: std::ops::Range<usize>,
        num_stops: usize,
        reversed: bool,
    ) -> Option<LiveBlock<'_>> {
        self.live.as_ref().map(|live| LiveBlock {
            times: &live.times[times.clone()],
            skipped: &live.skipped[times],
            num_stops,
            reversed,
        })
    }

    /// The running trips of `pattern`'s group `group` (of `num_stops` stops; group 0 but on
    /// realtime days where trips overtake, see [`DayTrips::groups`]) and their departures
    /// stop-major (position `i`, running trip `j` at `i * running.len() + j`), their span,
    /// and on realtime days their expected times.
    #[inline]
    pub(crate) fn block(
        &self,
        pattern: PatternIdx,
        num_stops: usize,
        group: usize,
    ) -> (&[u32], &[u32], (u32, u32), Option<LiveBlock<'_>>) {
        let (trips, times, header) =
            self.block_ranges(self.header_index(pattern, group), num_stops);
        let live = self.live_block(times.clone(), num_stops, false);
        (&self.trips[trips], &self.departures[times], (header.earliest, header.latest), live)
    }

    /// [`DayTrips::block`] for a backward search: the running trips latest first and their
    /// mirrored arrivals, last stop first.
    #[inline]
    pub(crate) fn mirrored_block(
        &self,
        timetable: &Timetable,
        pattern: PatternIdx,
        num_stops: usize,
        group: usize,
    ) -> (&[u32], &[u32], (u32, u32), Option<LiveBlock<'_>>) {
        let mirrored = self.mirrored(timetable);
        let header_index = self.header_index(pattern, group);
        let (trips, times, _) = self.block_ranges(header_index, num_stops);
        let live = self.live_block(times.clone(), num_stops, true);
        (&mirrored.trips[trips], &mirrored.arrivals[times], mirrored.span[header_index], live)
    }
}

/// The timetable trip of `pattern` at `trip_in_pattern`; for an added trip (numbered past
/// the pattern's own, see [`DayTrips::added_trip`]) the pattern's first trip, which has its
/// route and stops: what a transfer rule naming routes or an access check reads (rules
/// naming that first trip itself then apply to the added one too, a rare approximation).
pub(crate) fn timetable_trip(pattern: &Pattern, trip_in_pattern: u32) -> TripIdx {
    if (trip_in_pattern as usize) < pattern.num_trips() {
        TripIdx(pattern.trips.start + trip_in_pattern)
    } else {
        TripIdx(pattern.trips.start)
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
    /// On a realtime day: the running trips' expected times and skipped stops.
    pub(crate) live: Option<LiveBlock<'a>>,
}

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
