//! Day tables: per service day, the trips of each pattern running that day and their
//! departures stop-major (and, for backward searches, their arrivals mirrored), which the
//! RAPTOR rounds search for the next trip. A realtime day's expected times are
//! [`super::live_tables`]; the cache of the last few days built is [`super::day_cache`].

use std::sync::OnceLock;

use norikae_timetable::{Pattern, PatternIdx, StopTime, Timetable, TripIdx};

use super::live_tables::{LiveBlock, LiveTimes};
use crate::engine::types::INF;

/// The trips of each pattern that run on one service day (positions within the pattern,
/// ascending), so that finding the next trip never steps over trips of other days; and their
/// departures stop-major (all running trips' departures at one stop of the pattern side by
/// side), so that the binary search for the next trip reads one short contiguous run.
#[derive(Debug)]
pub struct DayTrips {
    /// Per pattern, where its running trips and their departures are, and their span; on a
    /// realtime day, after them the further groups of split patterns (see [`LiveTimes`]).
    pub(super) headers: Vec<PatternDay>,
    pub(super) trips: Vec<u32>,
    pub(super) departures: Vec<u32>,
    /// The same tables for backward searches, built when the first one needs them.
    pub(super) mirrored: OnceLock<MirroredTrips>,
    /// On a day a realtime overlay changes: the expected times the tables hold.
    pub(super) live: Option<Box<LiveTimes>>,
}

/// One pattern's running trips on one service day: everything a scan reads before the
/// departures themselves, side by side (a scan reads it for each of three days).
#[derive(Clone, Copy, Debug)]
pub(super) struct PatternDay {
    /// The running trips are `trips[trips_start..trips_start + count]`.
    pub(super) trips_start: u32,
    pub(super) count: u32,
    /// Start of the pattern's block in `departures`: position `i`, running trip `j` is at
    /// `times_start + i * count + j`.
    pub(super) times_start: u32,
    /// Earliest and latest departure of the running trips over all the pattern's stops, so
    /// that a scan rules out a day with two numbers it reads once.
    pub(super) earliest: u32,
    pub(super) latest: u32,
}

/// A day's running trips as a backward (arrive-by) search reads them, laid out so that the
/// forward boarding search works on them unchanged: per pattern, the trips latest first, and
/// for each stop in backward scan order (last stop first), their arrivals mirrored
/// ([`MIRROR_DAY`] minus the time) so that they ascend. Blocks have the sizes of
/// [`DayTrips`]'s, so its headers serve both.
#[derive(Debug)]
pub(super) struct MirroredTrips {
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
