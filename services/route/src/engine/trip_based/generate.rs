//! Generating and reducing the transfers of one service day's trips (Witt 2015), on worker
//! threads, into the day's contiguous tables.
//!
//! Work goes to the workers in blocks of consecutive instances of one pattern. A block's
//! instances share everything but their times: the stops, the walking links and the
//! patterns that can be boarded from each stop, which the block lists once
//! ([`Boarding`]). Their times are in order (a pattern's trips are sorted by departure and
//! rarely overtake one another), so each boarding keeps where the previous instance's
//! earliest trip was found and searches on from there: usually a read or two where a binary
//! search over the pattern's trips took seven or eight, each a likely cache miss.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use norikae_timetable::{PatternAtStop, PatternIdx, StopIdx, StopRules, Timetable, TripIdx};

use super::days::{Days, TripDay, pack, unpack};
use crate::engine::prefetch::prefetch;
use crate::engine::types::INF;

/// Most instances in a block: enough that listing the block's boardings costs little per
/// instance, few enough that two workers finish together.
const BLOCK: u32 = 128;

/// How many boardings (and transfers tried) ahead their first read is prefetched.
const PREFETCH_AHEAD: usize = 8;

/// The reduced transfers of `days`' own day (slot 1), as per stop event offsets into the
/// packed targets (`offsets[e]..offsets[e + 1]`), and per instance its horizon (see
/// [`Block::horizons`]), with `threads` threads; `None` if a worker failed. `rule_stops`:
/// the stops where transfers.txt rules naming trips or routes start. Only the instances
/// `include` selects get transfers (the others none, and horizon 0).
pub(super) fn transfers(
    tt: &Timetable,
    rule_stops: &[bool],
    days: &Days<'_>,
    threads: usize,
    include: impl Fn(u32) -> bool,
) -> Option<(Vec<u32>, Vec<u32>, Vec<u32>)> {
    let own = days.day[1]?;
    let blocks = blocks(own, include);
    let events = own.arrival.len();
    let mut offsets = Vec::with_capacity(events + 1);
    offsets.push(0u32);
    let mut targets: Vec<u32> = Vec::new();
    let mut horizons = Vec::with_capacity(own.instances());
    // The instances left out before `until`, with no transfers.
    let skip_to = |until: usize, offsets: &mut Vec<u32>, horizons: &mut Vec<u32>| {
        let last = *offsets.last().unwrap_or(&0);
        for instance in horizons.len()..until {
            let stops = tt.patterns[own.instance_pattern[instance] as usize].num_stops();
            offsets.extend(std::iter::repeat_n(last, stops));
            horizons.push(0);
        }
    };
    // Blocks are appended in order as they come, so that the day's tables are built while
    // the workers run (the whole day's transfers are never held twice).
    let mut next = blocks.iter();
    let appended = run_blocks(tt, rule_stops, days, &blocks, threads, |block| {
        let start = next.next().map_or(horizons.len(), |instances| instances.start as usize);
        skip_to(start, &mut offsets, &mut horizons);
        let mut last = *offsets.last().unwrap_or(&0);
        for count in block.counts {
            last += count;
            offsets.push(last);
        }
        targets.extend_from_slice(&block.targets);
        horizons.extend_from_slice(&block.horizons);
    })?;
    skip_to(own.instances(), &mut offsets, &mut horizons);
    targets.shrink_to_fit();
    (appended == blocks.len() && offsets.len() == events + 1)
        .then_some((offsets, targets, horizons))
}

/// The reduced transfers of the own day's instances `blocks` lists (runs of consecutive
/// instances of one group, see [`blocks`]), block by block; `None` if a worker failed.
pub(super) fn transfers_of(
    tt: &Timetable,
    rule_stops: &[bool],
    days: &Days<'_>,
    blocks: &[Range<u32>],
    threads: usize,
) -> Option<Vec<Block>> {
    let mut done = Vec::with_capacity(blocks.len());
    let appended = run_blocks(tt, rule_stops, days, blocks, threads, |block| done.push(block))?;
    (appended == blocks.len()).then_some(done)
}

/// Generates `blocks` on `threads` workers, handing each to `sink` in order; how many were
/// handed, `None` if a worker panicked (its blocks are left out: the day is not built rather
/// than built with other events' transfers).
fn run_blocks(
    tt: &Timetable,
    rule_stops: &[bool],
    days: &Days<'_>,
    blocks: &[Range<u32>],
    threads: usize,
    mut sink: impl FnMut(Block),
) -> Option<usize> {
    let spans = spans(tt);
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel::<(usize, Block)>();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                let sender = sender.clone();
                let (next, spans) = (&next, &spans);
                scope.spawn(move || {
                    let mut worker = Worker::new(tt, rule_stops, days, spans);
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(instances) = blocks.get(index) else { break };
                        if sender.send((index, worker.block(instances.clone()))).is_err() {
                            break;
                        }
                    }
                })
            })
            .collect();
        drop(sender);
        // Only the blocks finished out of order wait.
        let mut waiting: Vec<Option<Block>> = Vec::new();
        waiting.resize_with(blocks.len(), || None);
        let mut appended = 0;
        for (index, block) in receiver {
            waiting[index] = Some(block);
            while let Some(block) = waiting.get_mut(appended).and_then(Option::take) {
                sink(block);
                appended += 1;
            }
        }
        let joined = workers.into_iter().all(|worker| worker.join().is_ok());
        joined.then_some(appended)
    })
}

/// Per pattern, the longest any of its trips runs (first departure to last arrival), which
/// bounds how late the arrivals a transfer to it reads are.
fn spans(tt: &Timetable) -> Vec<u32> {
    tt.patterns
        .iter()
        .enumerate()
        .map(|(index, pattern)| {
            (0..pattern.num_trips())
                .map(|trip| {
                    let times = tt.trip_stop_times(PatternIdx(index as u32), trip);
                    let (first, last) = (times[0].departure, times[times.len() - 1].arrival);
                    last.saturating_sub(first)
                })
                .max()
                .unwrap_or(0)
        })
        .collect()
}

/// The own day's instances `include` selects in blocks: runs of at most [`BLOCK`]
/// consecutive instances of one group.
pub(super) fn blocks(own: &TripDay, include: impl Fn(u32) -> bool) -> Vec<Range<u32>> {
    let mut blocks: Vec<Range<u32>> = Vec::new();
    for instance in 0..own.instances() as u32 {
        if !include(instance) {
            continue;
        }
        match blocks.last_mut() {
            Some(block)
                if block.end == instance
                    && block.len() < BLOCK as usize
                    && own.group(block.start as usize) == own.group(instance as usize) =>
            {
                block.end += 1;
            }
            _ => blocks.push(instance..instance + 1),
        }
    }
    blocks
}

/// Transfers of a block: per stop event, how many, and the targets in event order.
#[derive(Default)]
pub(super) struct Block {
    pub(super) counts: Vec<u32>,
    pub(super) targets: Vec<u32>,
    /// Per instance, a time (seconds of the own day, at most `u32::MAX`) no earlier than
    /// any it reads: its arrivals and when it is ready to board at its stops, every
    /// departure its earliest-trip searches find (or step over, under rules naming trips),
    /// and the latest arrival those trips can have. A realtime overlay that changes only
    /// trips whose times are all later leaves the instance's transfers as they are (see
    /// [`super::live`]).
    pub(super) horizons: Vec<u32>,
}

/// Where a traveller alighting at some stop of the block's pattern may board another
/// pattern: at stop position `position` of group `target` (a pattern, or one of a realtime
/// day's further groups, see [`TripDay::build_live`]), ready `delay` seconds after the
/// arrival (the stop's minimum transfer time or the walk), with that group's trips there on
/// each of the three days, and the longest its pattern's trips run.
struct Boarding {
    target: u32,
    position: u32,
    delay: u32,
    span: u32,
    rows: [Row; 3],
}

/// The departures of a pattern at one stop position on one day: `departures[start..start +
/// count]` of that day's [`TripDay`], the first and the last (to rule the day out without
/// reading them), and where the previous instance's search ended.
#[derive(Clone, Copy, Default)]
struct Row {
    start: u32,
    count: u32,
    first_instance: u32,
    first_departure: u32,
    last_departure: u32,
    cursor: u32,
}

/// One worker's buffers, reused from block to block.
struct Worker<'a> {
    tt: &'a Timetable,
    /// Per pattern, its stops and their rules (read for every transfer tried).
    pattern_stops: Vec<(&'a [StopIdx], &'a [StopRules])>,
    rule_stops: &'a [bool],
    days: &'a Days<'a>,
    /// Per pattern, the longest its trips run ([`spans`]).
    spans: &'a [u32],
    /// Per stop, the earliest arrival by vehicle the traveller of the instance has so far:
    /// walks and changes follow from it, so a transfer that improves none is never needed.
    reach: Vec<u32>,
    reached: Vec<u32>,
    /// Per stop, the last stop event (numbered per worker) whose candidates improved its
    /// arrival, and the candidate that improved it last (the first reaching it earliest);
    /// the stops the current event's candidates improved; which candidates are kept.
    improved_by: Vec<(u32, u32)>,
    stop_event: u32,
    improved: Vec<u32>,
    keep: Vec<bool>,
    /// Per day and instance, the earliest position at which a kept or dropped transfer of
    /// the current instance boards it (`u16::MAX`: none): the stops after it are reached no
    /// later than that trip reaches them, so a transfer boarding it there or later improves
    /// nothing, and one boarding it earlier need only look at the stops up to it.
    boarded: [Vec<u16>; 3],
    boarded_list: Vec<(u8, u32)>,
    /// The block's boardings, and per stop position of its pattern those from that stop.
    boardings: Vec<Boarding>,
    boardings_at: Vec<Range<usize>>,
    /// Per stop position, the longest delay of its boardings.
    longest_delay_at: Vec<u32>,
    /// Per stop position, the transfers kept from there.
    lists: Vec<Vec<u32>>,
    /// The transfers to try from a stop event, in order, and the day by day lists they are
    /// made from.
    candidates: Vec<u32>,
    by_day: [Vec<u32>; 3],
}

impl<'a> Worker<'a> {
    fn new(
        tt: &'a Timetable,
        rule_stops: &'a [bool],
        days: &'a Days<'a>,
        spans: &'a [u32],
    ) -> Self {
        let instances = |slot: usize| days.day[slot].map_or(0, TripDay::instances);
        let pattern_stops = (0..tt.patterns.len() as u32)
            .map(|pattern| {
                let pattern = PatternIdx(pattern);
                (tt.pattern_stops(pattern), tt.pattern_stop_rules(pattern))
            })
            .collect();
        Self {
            tt,
            pattern_stops,
            rule_stops,
            days,
            spans,
            reach: vec![INF; tt.stops.len()],
            reached: Vec::new(),
            improved_by: vec![(u32::MAX, 0); tt.stops.len()],
            stop_event: 0,
            improved: Vec::new(),
            keep: Vec::new(),
            boarded: [0, 1, 2].map(|slot| vec![u16::MAX; instances(slot)]),
            boarded_list: Vec::new(),
            boardings: Vec::new(),
            boardings_at: Vec::new(),
            longest_delay_at: Vec::new(),
            lists: Vec::new(),
            candidates: Vec::new(),
            by_day: [Vec::new(), Vec::new(), Vec::new()],
        }
    }

    /// The transfers of `instances` (of one group of the own day), generated and reduced.
    fn block(&mut self, instances: Range<u32>) -> Block {
        let mut block = Block::default();
        let Some(own) = self.days.day[1] else { return block };
        let Some(&pattern) = own.instance_pattern.get(instances.start as usize) else {
            return block;
        };
        self.list_boardings(pattern as usize);
        for instance in instances {
            self.instance(instance as usize, &mut block);
        }
        block
    }

    /// Lists the boardings from each stop of `pattern` where a traveller may get off (those
    /// at stops where rules naming trips or routes start are tried trip by trip instead).
    fn list_boardings(&mut self, pattern: usize) {
        let tt = self.tt;
        let pattern_idx = PatternIdx(pattern as u32);
        let (stops, rules) = (tt.pattern_stops(pattern_idx), tt.pattern_stop_rules(pattern_idx));
        self.boardings.clear();
        self.boardings_at.clear();
        self.boardings_at.resize(stops.len(), 0..0);
        self.longest_delay_at.clear();
        self.longest_delay_at.resize(stops.len(), 0);
        for i in (1..stops.len()).rev() {
            let stop = stops[i];
            if !rules[i].drop_off() || self.rule_stops[stop.idx()] {
                continue;
            }
            let start = self.boardings.len();
            let change = std::iter::once((stop, tt.min_transfer_secs[stop.idx()]));
            let walks = tt.footpaths(stop).iter().map(|link| (link.to, link.duration_secs));
            for (at, delay) in change.chain(walks) {
                for at_stop in tt.patterns_at_stop(at) {
                    let Some((target, position)) = boarding_position(tt, at_stop) else {
                        continue;
                    };
                    let span = self.spans[target];
                    let days = self.days;
                    let row = |slot: usize, group: usize| {
                        let Some(day) = days.day[slot] else { return Row::default() };
                        let count = day.pattern_count[group];
                        if count == 0 {
                            return Row::default();
                        }
                        let start = day.pattern_departures[group] + position as u32 * count;
                        Row {
                            start,
                            count,
                            first_instance: day.pattern_first[group],
                            first_departure: day.departures[start as usize],
                            last_departure: day.departures[(start + count - 1) as usize],
                            cursor: 0,
                        }
                    };
                    self.boardings.push(Boarding {
                        target: target as u32,
                        position: position as u32,
                        delay,
                        span,
                        rows: [0, 1, 2].map(|slot| row(slot, target)),
                    });
                    // A realtime day's further groups of the pattern, that day's alone.
                    for (slot, day) in days.day.iter().enumerate() {
                        for group in day.map_or(0..0, |day| day.further_groups(target)) {
                            let mut rows = [Row::default(); 3];
                            rows[slot] = row(slot, group);
                            self.boardings.push(Boarding {
                                target: group as u32,
                                position: position as u32,
                                delay,
                                span,
                                rows,
                            });
                        }
                    }
                    self.longest_delay_at[i] = self.longest_delay_at[i].max(delay);
                }
            }
            // By pattern and position: their earliest trips then come mostly in the order
            // the reduction takes them (see [`Worker::instance`]).
            self.boardings[start..]
                .sort_unstable_by_key(|boarding| (boarding.target, boarding.position));
            self.boardings_at[i] = start..self.boardings.len();
        }
    }

    /// Generates and reduces the transfers of own-day instance `instance` into `block`.
    fn instance(&mut self, instance: usize, block: &mut Block) {
        let tt = self.tt;
        let days = self.days;
        let Some(own) = days.day[1] else { return };
        let pattern = own.instance_pattern[instance] as usize;
        let group = own.group(instance);
        let pattern_idx = PatternIdx(pattern as u32);
        let (stops, rules) = (tt.pattern_stops(pattern_idx), tt.pattern_stop_rules(pattern_idx));
        let event = own.instance_event[instance] as usize;
        self.lists.resize_with(self.lists.len().max(stops.len()), Vec::new);
        let mut horizon = i64::from(own.arrival[event + stops.len() - 1]);
        // From the last stop back: what the trip and the transfers kept from its later
        // stops reach is available at every earlier stop.
        for i in (1..stops.len()).rev() {
            self.lists[i].clear();
            if !rules[i].drop_off() {
                continue;
            }
            let arrival = i64::from(own.arrival[event + i]);
            let stop = stops[i];
            self.arrive(stop, arrival);
            // The trips the traveller can change to, each the earliest of its pattern at
            // that stop; a trip boarded at two stops is tried from the earlier one first,
            // so that the later boarding, which reaches nothing more, is dropped.
            // Packed, they sort by day, trip, then position: the order they are tried in.
            self.candidates.clear();
            if self.rule_stops[stop.idx()] {
                let trip = TripIdx(tt.patterns[pattern].trips.start + own.instance_trip[instance]);
                let leaving = Change { trip, stop, arrival, group, position: i, instance };
                let found = &mut self.candidates;
                horizon = horizon.max(rule_candidates(tt, days, self.spans, &leaving, found));
                self.candidates.sort_unstable();
            } else {
                // Per day, inserted in order: the boardings go by pattern, whose instances are
                // in pattern order, so most go at the end (a sort took a sixth of the build).
                let mut by_day: [Vec<u32>; 3] = std::mem::take(&mut self.by_day);
                by_day.iter_mut().for_each(Vec::clear);
                let own_departures = own.departures.as_slice();
                horizon = horizon.max(arrival + i64::from(self.longest_delay_at[i]));
                for index in self.boardings_at[i].clone() {
                    // The departures a few boardings on (the next position's follow): each
                    // is in its own place, and reading it is most of the work.
                    if let Some(ahead) = self.boardings.get(index + PREFETCH_AHEAD) {
                        let row = &ahead.rows[1];
                        let at = row.start + row.cursor.min(row.count.saturating_sub(1));
                        if let Some(departure) = own_departures.get(at as usize) {
                            prefetch(departure);
                        }
                    }
                    let boarding = &mut self.boardings[index];
                    let ready = arrival + i64::from(boarding.delay);
                    let Some((slot, boarded, departure)) =
                        earliest(days, &mut boarding.rows, ready)
                    else {
                        continue;
                    };
                    horizon = horizon.max(departure + i64::from(boarding.span));
                    let (target, j) = (boarding.target as usize, boarding.position as usize);
                    if !stays_on((group, i, instance), (target, j, slot, boarded)) {
                        insert_in_order(&mut by_day[slot], pack(slot, boarded, j));
                    }
                }
                for day in &by_day {
                    self.candidates.extend_from_slice(day);
                }
                self.by_day = by_day;
            }
            // Each stop the candidates improve goes to the first of those reaching it
            // earliest, and a candidate no stop goes to is dropped, whatever the order they
            // come in (Witt keeps every candidate improving on those tried before it: a
            // fifth more on New York). Exact: a journey changing to a dropped candidate
            // and leaving it at some stop can change, at the same stop event, to the one
            // that stop went to instead, with as many changes, and be there no later.
            for index in 0..self.candidates.len() {
                if let Some(&ahead) = self.candidates.get(index + PREFETCH_AHEAD) {
                    self.prefetch_arrivals(ahead);
                }
                self.offer(self.candidates[index], index as u32);
            }
            self.keep.clear();
            self.keep.resize(self.candidates.len(), false);
            for &stop in &self.improved {
                self.keep[self.improved_by[stop as usize].1 as usize] = true;
            }
            self.improved.clear();
            self.stop_event = self.stop_event.wrapping_add(1);
            let list = &mut self.lists[i];
            for (&candidate, _) in self.candidates.iter().zip(&self.keep).filter(|(_, keep)| **keep)
            {
                list.push(candidate);
            }
        }
        block.horizons.push(horizon.clamp(0, i64::from(u32::MAX)) as u32);
        block.counts.push(0);
        for list in &self.lists[1..stops.len()] {
            block.counts.push(list.len() as u32);
            block.targets.extend_from_slice(list);
        }
        for stop in self.reached.drain(..) {
            self.reach[stop as usize] = INF;
        }
        for (slot, boarded) in self.boarded_list.drain(..) {
            self.boarded[usize::from(slot)][boarded as usize] = u16::MAX;
        }
    }

    /// Starts loading the arrivals a transfer to `candidate` (packed) would read.
    fn prefetch_arrivals(&self, candidate: u32) {
        let (slot, boarded, j) = unpack(candidate);
        if let Some(day) = self.days.day[slot]
            && let Some(&event) = day.instance_event.get(boarded as usize)
            && let Some(arrival) = day.arrival.get(event as usize + usize::from(j) + 1)
        {
            prefetch(arrival);
        }
    }

    /// Records the arrivals by vehicle that boarding `candidate` (packed, the `index`th of
    /// its stop event) improves at the stops after it, and that it improved them.
    fn offer(&mut self, candidate: u32, index: u32) {
        let days = self.days;
        let (slot, boarded, j) = unpack(candidate);
        let Some(day) = days.day[slot] else { return };
        let first = &mut self.boarded[slot][boarded as usize];
        if *first <= j {
            return;
        }
        let (target_stops, target_rules) =
            self.pattern_stops[day.instance_pattern[boarded as usize] as usize];
        // The stops after the earlier boarding are reached by it no later than by this one.
        let end = if *first == u16::MAX {
            self.boarded_list.push((slot as u8, boarded));
            target_stops.len()
        } else {
            usize::from(*first) + 1
        };
        *first = j;
        let arrivals = &day.arrival[day.instance_event[boarded as usize] as usize..];
        let offset = days.offset[slot];
        for k in usize::from(j) + 1..end {
            if !target_rules[k].drop_off() {
                continue;
            }
            let stop = target_stops[k];
            if self.arrive(stop, i64::from(arrivals[k]) + offset) {
                let by = &mut self.improved_by[stop.idx()];
                if by.0 != self.stop_event {
                    self.improved.push(stop.0);
                }
                *by = (self.stop_event, index);
            }
        }
    }

    /// Records an arrival by vehicle at `stop` at `time`; whether it is the earliest yet.
    fn arrive(&mut self, stop: StopIdx, time: i64) -> bool {
        let time = time.clamp(0, i64::from(INF - 1)) as u32;
        let slot = &mut self.reach[stop.idx()];
        if time >= *slot {
            return false;
        }
        if *slot == INF {
            self.reached.push(stop.0);
        }
        *slot = time;
        true
    }
}

/// The earliest trip leaving a boarding's stop at or after `ready` (seconds of the own day)
/// on any of the days, as `(day, instance, departure)`, searching each day's departures from
/// where the previous search there ended (the same answer as [`Days::for_each_earliest`]).
fn earliest(days: &Days<'_>, rows: &mut [Row; 3], ready: i64) -> Option<(usize, u32, i64)> {
    let mut best: Option<(usize, u32, i64)> = None;
    for (slot, row) in rows.iter_mut().enumerate() {
        if row.count == 0 {
            continue;
        }
        let Some(day) = days.day[slot] else { continue };
        let offset = days.offset[slot];
        // Two numbers rule most days out: the day's last departure there is too early, or
        // its first is no earlier than the best found on another day.
        if i64::from(row.last_departure) + offset < ready
            || best.is_some_and(|(_, _, best)| i64::from(row.first_departure) + offset >= best)
        {
            continue;
        }
        let threshold = (ready - offset).max(0) as u32;
        let departures = &day.departures[row.start as usize..(row.start + row.count) as usize];
        let index = search_from(departures, threshold, row.cursor as usize);
        row.cursor = index as u32;
        let departure = i64::from(departures[index]) + offset;
        if best.is_none_or(|(_, _, best)| departure < best) {
            best = Some((slot, row.first_instance + index as u32, departure));
        }
    }
    best
}

/// Inserts `value` into sorted `values`, searching from the end.
fn insert_in_order(values: &mut Vec<u32>, value: u32) {
    let mut at = values.len();
    while at > 0 && values[at - 1] > value {
        at -= 1;
    }
    values.insert(at, value);
}

/// The first index of sorted `departures` at or after `threshold`, searched from `hint`:
/// forward in growing steps when everything before the hint is earlier (the usual case, the
/// hint being the previous instance's answer), else by bisection below it.
fn search_from(departures: &[u32], threshold: u32, hint: usize) -> usize {
    let hint = hint.min(departures.len());
    if hint > 0 && departures[hint - 1] >= threshold {
        return departures[..hint].partition_point(|&departure| departure < threshold);
    }
    let (mut low, mut high, mut step) = (hint, hint, 1);
    while high < departures.len() && departures[high] < threshold {
        low = high + 1;
        high += step;
        step *= 2;
    }
    let high = high.min(departures.len());
    low + departures[low..high].partition_point(|&departure| departure < threshold)
}

/// Where a traveller may board the pattern of `at_stop`: `(pattern, position)`, unless the
/// stop is the pattern's last or lets nobody on there.
fn boarding_position(tt: &Timetable, at_stop: &PatternAtStop) -> Option<(usize, usize)> {
    let position = at_stop.position as usize;
    let rules = tt.pattern_stop_rules(at_stop.pattern);
    (position + 1 < rules.len() && rules[position].pickup())
        .then_some((at_stop.pattern.idx(), position))
}

/// Whether boarding instance `boarded` (day `slot`) of group `target` at `j` is staying on
/// the instance left (`group`, position `i`, own day's `instance`) or a later one of its
/// group further on: never better than staying on board.
fn stays_on(
    (group, i, instance): (usize, usize, usize),
    (target, j, slot, boarded): (usize, usize, usize, u32),
) -> bool {
    slot == 1 && target == group && j > i && boarded as usize >= instance
}

/// A traveller leaving `trip` (instance `instance` of the own day, of group `group`) at
/// `stop`, position `position`, arriving at `arrival` (seconds of the own day).
struct Change {
    trip: TripIdx,
    stop: StopIdx,
    arrival: i64,
    group: usize,
    position: usize,
    instance: usize,
}

/// The transfers of `change` where transfers.txt rules naming trips or routes may apply:
/// per group at the stop itself, at the stops its walking links reach and at those its
/// rules lead to, the earliest trip the traveller may board under the most specific rule for
/// that pair of trips (or else the stop's minimum transfer time or the walk), tried trip by
/// trip (such stops are few). Returns the horizon of what it read (see
/// [`Block::horizons`]).
fn rule_candidates(
    tt: &Timetable,
    days: &Days<'_>,
    spans: &[u32],
    change: &Change,
    candidates: &mut Vec<u32>,
) -> i64 {
    let mut horizon = change.arrival;
    // Where the traveller may board, and what the stop rules need to get there (`None`: only a
    // rule may allow it).
    let own_secs = tt.min_transfer_secs[change.stop.idx()];
    let mut places: Vec<(StopIdx, Option<u32>)> = vec![(
        change.stop,
        (own_secs < norikae_timetable::FORBIDDEN_TRANSFER_SECS).then_some(own_secs),
    )];
    places.extend(tt.footpaths(change.stop).iter().map(|link| (link.to, Some(link.duration_secs))));
    places.extend(tt.transfer_rules_from(change.stop).iter().map(|rule| (rule.to_stop, None)));
    places.sort_by_key(|&(stop, secs)| (stop, secs.is_none(), secs));
    places.dedup_by_key(|&mut (stop, _)| stop);
    for (at, stop_rule_secs) in places {
        for at_stop in tt.patterns_at_stop(at) {
            let Some((pattern, j)) = boarding_position(tt, at_stop) else { continue };
            let trips_start = tt.patterns[pattern].trips.start;
            // The earliest the rules allow of one group on the days `slots` lists.
            let mut earliest_of = |group: usize, slots: &[usize]| {
                let mut best: Option<(usize, u32, i64)> = None;
                for &slot in slots {
                    let Some(day) = days.day[slot] else { continue };
                    let count = day.pattern_count[group] as usize;
                    let start = day.pattern_departures[group] as usize + j * count;
                    for (index, &departure) in
                        day.departures[start..start + count].iter().enumerate()
                    {
                        let departure = i64::from(departure) + days.offset[slot];
                        if departure < change.arrival {
                            continue;
                        }
                        if best.is_some_and(|(_, _, best)| departure >= best) {
                            break;
                        }
                        horizon = horizon.max(departure);
                        let instance = day.pattern_first[group] + index as u32;
                        if day.is_hole(instance as usize) {
                            continue;
                        }
                        let trip = TripIdx(trips_start + day.instance_trip[instance as usize]);
                        let needed = match tt.trip_transfer_rule(change.trip, change.stop, trip, at)
                        {
                            Some(rule) => rule,
                            None => stop_rule_secs,
                        };
                        if needed.is_some_and(|secs| change.arrival + i64::from(secs) <= departure)
                        {
                            best = Some((slot, instance, departure));
                            break;
                        }
                    }
                }
                let (slot, boarded, departure) = best?;
                horizon = horizon.max(departure + i64::from(spans[pattern]));
                let group = days.day[slot].map_or(pattern, |day| day.group(boarded as usize));
                Some((group, slot, boarded))
            };
            let mut found = Vec::new();
            found.extend(earliest_of(pattern, &[0, 1, 2]));
            for slot in 0..3 {
                for group in days.day[slot].map_or(0..0, |day| day.further_groups(pattern)) {
                    found.extend(earliest_of(group, &[slot]));
                }
            }
            let left = (change.group, change.position, change.instance);
            for (group, slot, boarded) in found {
                if !stays_on(left, (group, j, slot, boarded)) {
                    candidates.push(pack(slot, boarded, j));
                }
            }
        }
    }
    horizon
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hinted search against bisection, from every hint, on departures with repeats.
    #[test]
    fn searching_from_any_hint_finds_the_first_departure_not_before_the_threshold() {
        let departures = [10, 20, 20, 20, 35, 50, 50, 90, 120, 121, 122, 400];
        for threshold in 0..=401 {
            let expected = departures.partition_point(|&departure| departure < threshold);
            for hint in 0..=departures.len() + 3 {
                assert_eq!(
                    search_from(&departures, threshold, hint),
                    expected,
                    "threshold {threshold}, hint {hint}"
                );
            }
        }
        assert_eq!(search_from(&[], 5, 0), 0);
    }

    #[test]
    fn inserting_in_order_keeps_values_sorted() {
        let mut values = Vec::new();
        for value in [5, 3, 9, 9, 1, 7, 12, 0, 5] {
            insert_in_order(&mut values, value);
        }
        assert_eq!(values, [0, 1, 3, 5, 5, 7, 9, 9, 12]);
    }
}
