//! The realtime half of the day tables: on a service day a realtime overlay changes, the
//! [`DayTrips`] hold the expected times instead of the timetable's ([`DayTrips::build_live`]),
//! trips that overtake others in further groups of their pattern, and the rounds read each
//! running trip's expected times and skipped stops through a [`LiveBlock`].

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use norikae_realtime::{AddedTrip, Overlay};
use norikae_timetable::{Pattern, PatternIdx, StopTime, Timetable, TripIdx};

use super::day_tables::{DayTrips, PatternDay};
use crate::engine::types::INF;

/// A realtime day's expected times. Each block's running trips are sorted by their expected
/// departures; trips that overtake another somewhere along the pattern (no order keeps
/// every stop's departures and arrivals ascending) go to further groups of the pattern, each
/// its own block whose trips never overtake each other, which the scan reads one after the
/// other as if they were patterns of their own.
#[derive(Debug)]
pub(super) struct LiveTimes {
    /// Trip-major per block: running trip `j`, position `i` of a block at `times_start` is
    /// at `times_start + j * num_stops + i` (same size as the block of departures).
    pub(super) times: Vec<StopTime>,
    /// The same layout: the vehicle does not stop there (no boarding, no alighting).
    pub(super) skipped: Vec<bool>,
    /// Per pattern, its further groups: `headers[start..start + count]`.
    pub(super) groups: Vec<(u32, u32)>,
    /// Per (pattern, trip in pattern) running that day, its row's start in `times`.
    pub(super) rows: HashMap<(u32, u32), u32>,
    /// The trips the feeds added that day as trips of a pattern (same stops): in the
    /// tables as trip `num_trips + k` of their pattern for `added[k]`, a number no
    /// timetable trip of the pattern has (see [`DayTrips::added_trip`]).
    pub(super) added: Vec<Arc<AddedTrip>>,
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

impl DayTrips {
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

    /// The expected times of a block, on a realtime day.
    #[inline]
    pub(super) fn live_block(
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
}
