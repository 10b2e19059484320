//! The running trips of service days as Trip-Based routing reads them: one day's
//! ("instances", [`TripDay`], on the timetable's times or a realtime overlay's), three
//! consecutive days as one time line ([`Days`]), and a
//! transfer's target packed in 32 bits ([`pack`], [`unpack`]).

use norikae_realtime::Overlay;
use norikae_timetable::{PatternIdx, StopTime, Timetable, TripIdx};

/// A transfer target in 32 bits: the day relative to the transfer's own (2 bits: before, same,
/// after), the running trip of that day (20 bits) and the position in its pattern (10 bits),
/// so that targets sort by day, trip, then position.
const INSTANCE_BITS: u32 = 20;
const POSITION_BITS: u32 = 10;
const MAX_INSTANCES: usize = 1 << INSTANCE_BITS;
const MAX_PATTERN_STOPS: usize = 1 << POSITION_BITS;

pub(super) fn pack(day: usize, instance: u32, position: usize) -> u32 {
    (day as u32) << (INSTANCE_BITS + POSITION_BITS) | instance << POSITION_BITS | position as u32
}

/// `(day, instance, position)`; `day` 0 is the day before the transfer's, 1 its own, 2 after.
pub(super) fn unpack(packed: u32) -> (usize, u32, u16) {
    let day = (packed >> (INSTANCE_BITS + POSITION_BITS)) as usize;
    let instance = (packed >> POSITION_BITS) & ((1 << INSTANCE_BITS) - 1);
    (day, instance, (packed & ((1 << POSITION_BITS) - 1)) as u16)
}

/// The trips running on one service day ("instances"), pattern by pattern in the pattern's
/// trip order, with their times in seconds of that service day.
///
/// The instances of a pattern form its group: trips that never overtake one another, so that
/// the earliest trip leaving a stop is found by bisection and a trip reached marks the later
/// ones reached. On a day a realtime overlay changes ([`TripDay::build_live`]) the groups
/// are indexed on and a pattern may have further groups ([`LiveGroups`]); on a timetable day
/// group `p` is pattern `p`.
pub(crate) struct TripDay {
    /// Per group, its first instance and how many it has.
    pub(super) pattern_first: Vec<u32>,
    pub(super) pattern_count: Vec<u32>,
    /// Per instance: its pattern, its trip within the pattern and its first stop event.
    pub(super) instance_pattern: Vec<u32>,
    pub(super) instance_trip: Vec<u32>,
    pub(super) instance_event: Vec<u32>,
    /// Per stop event (instance-major), the arrival.
    pub(super) arrival: Vec<u32>,
    /// Per group, where its departures start, stop-major (position `j`, instance `u` of the
    /// group at `j * count + u`), for the earliest-trip search.
    pub(super) pattern_departures: Vec<u32>,
    pub(super) departures: Vec<u32>,
    /// On a realtime day, the further groups and the instances left out of their group.
    pub(super) live: Option<Box<LiveGroups>>,
}

/// What a realtime day adds to its [`TripDay`]. The timetable day's instances keep their
/// numbers (so that the transfers of the days around it, and of its trips the overlay does
/// not reach, still name the right trips). A trip the overlay cancels, or whose expected
/// times overtake (or are overtaken by) a neighbour of its pattern, becomes a hole: its
/// number stays, nothing boards it (its departures repeat the previous trip's, or it lies
/// outside its group's range). A trip that overtakes runs again as an instance of a further
/// group, numbered after the timetable day's instances.
pub(crate) struct LiveGroups {
    /// Per pattern, its further groups: `num_patterns + start..num_patterns + start + count`.
    pattern_groups: Vec<(u32, u32)>,
    /// Per further group (numbered from 0), its pattern.
    group_pattern: Vec<u32>,
    /// Per instance, its group.
    instance_group: Vec<u32>,
    /// Per instance, whether it is a hole.
    hole: Vec<bool>,
    num_patterns: u32,
}

/// The trips a realtime overlay changes on a [`TripDay::build_live`] day: those cancelled,
/// given other times, or moved to a further group, and the span of their timetable and
/// expected times (of a trip kept in its place, from the first stop whose times change).
pub(crate) struct LiveChanges {
    /// Per instance of the live day.
    pub(super) changed: Vec<bool>,
    /// Earliest and latest time of a changed trip, timetable or expected, seconds of the day
    /// (`None`: the overlay changes no trip that runs that day).
    pub(super) span: Option<(i64, i64)>,
    pub(super) moved: usize,
    pub(super) cancelled: usize,
}

/// A running trip's times on a realtime day, and what the overlay does to it.
struct LiveTrip {
    trip: u32,
    times: Vec<StopTime>,
    changed: bool,
    cancelled: bool,
    /// The first position whose times the overlay changes (`times.len()`: none).
    first_changed: usize,
}

/// Whether trip times `after` follow `before` at every stop (neither overtakes the other).
fn follows(before: &[StopTime], after: &[StopTime]) -> bool {
    before.iter().zip(after).all(|(before, after)| {
        before.departure <= after.departure && before.arrival <= after.arrival
    })
}

impl TripDay {
    /// The day's instances; `None` when they do not fit the packed transfers (over a million
    /// running trips, or a pattern of over 1,024 stops).
    pub(super) fn build(tt: &Timetable, day: u32) -> Option<Self> {
        let mut this = Self::with_capacity(tt);
        let mut running = Vec::new();
        for (index, pattern) in tt.patterns.iter().enumerate() {
            let num_stops = pattern.num_stops();
            if num_stops > MAX_PATTERN_STOPS {
                return None;
            }
            let times = &tt.stop_times[pattern.stop_times_start as usize..];
            running.clear();
            running.extend((0..pattern.num_trips()).filter(|&trip| {
                tt.service_runs(tt.trip_services[pattern.trips.start as usize + trip], day)
            }));
            this.pattern_first.push(this.instance_pattern.len() as u32);
            this.pattern_count.push(running.len() as u32);
            for &trip in &running {
                this.instance_pattern.push(index as u32);
                this.instance_trip.push(trip as u32);
                this.instance_event.push(this.arrival.len() as u32);
                this.arrival.extend((0..num_stops).map(|i| times[trip * num_stops + i].arrival));
            }
            this.pattern_departures.push(this.departures.len() as u32);
            for position in 0..num_stops {
                this.departures.extend(
                    running.iter().map(|&trip| times[trip * num_stops + position].departure),
                );
            }
        }
        (this.instance_pattern.len() <= MAX_INSTANCES).then_some(this)
    }

    fn with_capacity(tt: &Timetable) -> Self {
        Self {
            pattern_first: Vec::with_capacity(tt.patterns.len()),
            pattern_count: Vec::with_capacity(tt.patterns.len()),
            instance_pattern: Vec::new(),
            instance_trip: Vec::new(),
            instance_event: Vec::new(),
            arrival: Vec::new(),
            pattern_departures: Vec::with_capacity(tt.patterns.len()),
            departures: Vec::new(),
            live: None,
        }
    }

    /// The day's instances on the expected times `overlay` gives for service day `day`,
    /// numbered as [`TripDay::build`] numbers them (see [`LiveGroups`]), and the trips it
    /// changes. `None` when the day does not fit the packed transfers, or when the overlay
    /// skips stops or adds trips that day (RAPTOR answers on it).
    pub(super) fn build_live(
        tt: &Timetable,
        day: u32,
        overlay: &Overlay,
    ) -> Option<(Self, LiveChanges)> {
        if overlay.added.iter().any(|added| added.day == day && added.pattern.is_some()) {
            return None;
        }
        let num_patterns = tt.patterns.len() as u32;
        let mut this = Self::with_capacity(tt);
        let mut changes = LiveChanges { changed: Vec::new(), span: None, moved: 0, cancelled: 0 };
        let mut hole = Vec::new();
        // Per pattern, the changed trips that leave their place in its order.
        let mut moved: Vec<(usize, LiveTrip)> = Vec::new();
        let mut trips: Vec<LiveTrip> = Vec::new();
        let widen = |times: &[StopTime], span: &mut Option<(i64, i64)>| {
            for time in times {
                let (low, high) = (
                    i64::from(time.arrival.min(time.departure)),
                    i64::from(time.arrival.max(time.departure)),
                );
                *span = Some(span.map_or((low, high), |(lo, hi)| (lo.min(low), hi.max(high))));
            }
        };
        for (index, pattern) in tt.patterns.iter().enumerate() {
            let num_stops = pattern.num_stops();
            if num_stops > MAX_PATTERN_STOPS {
                return None;
            }
            trips.clear();
            for trip in 0..pattern.num_trips() {
                let trip_idx = pattern.trips.start as usize + trip;
                if !tt.service_runs(tt.trip_services[trip_idx], day) {
                    continue;
                }
                let scheduled = tt.trip_stop_times(PatternIdx::from(index), trip);
                let realtime = overlay.trip(TripIdx::from(trip_idx), day);
                let cancelled = realtime.is_some_and(|realtime| realtime.cancelled);
                let stops = realtime.map(|realtime| &realtime.stops[..]).unwrap_or_default();
                if stops.iter().any(|stop| stop.skipped()) {
                    return None;
                }
                let times: Vec<StopTime> = scheduled
                    .iter()
                    .enumerate()
                    .map(|(position, &time)| match stops.get(position) {
                        Some(expected) => {
                            StopTime { arrival: expected.arrival, departure: expected.departure }
                        }
                        None => time,
                    })
                    .collect();
                let first_changed = if cancelled {
                    0
                } else {
                    times
                        .iter()
                        .zip(scheduled)
                        .position(|(time, scheduled)| time != scheduled)
                        .unwrap_or(times.len())
                };
                let changed = cancelled || first_changed < times.len();
                trips.push(LiveTrip {
                    trip: trip as u32,
                    times,
                    changed,
                    cancelled,
                    first_changed,
                });
            }
            // A changed trip keeps its place when it follows the last trip kept and precedes
            // the next unchanged one; the unchanged never overtake one another.
            let mut next_unchanged = vec![None; trips.len()];
            let mut next = None;
            for at in (0..trips.len()).rev() {
                next_unchanged[at] = next;
                if !trips[at].changed {
                    next = Some(at);
                }
            }
            let mut kept = vec![false; trips.len()];
            let mut last_kept: Option<usize> = None;
            for at in 0..trips.len() {
                let trip = &trips[at];
                let keep = if !trip.changed {
                    true
                } else if trip.cancelled {
                    false
                } else {
                    let after_last =
                        last_kept.is_none_or(|last| follows(&trips[last].times, &trip.times));
                    after_last
                        && next_unchanged[at]
                            .is_none_or(|next: usize| follows(&trip.times, &trips[next].times))
                };
                if keep {
                    kept[at] = true;
                    last_kept = Some(at);
                }
            }
            // The span of what changes: a trip kept in place from its first changed stop on
            // (before it, it runs as in the timetable), one cancelled or moved (a hole where
            // it was) all along.
            for (at, trip) in trips.iter().enumerate().filter(|(_, trip)| trip.changed) {
                let from = if kept[at] { trip.first_changed } else { 0 };
                let scheduled = tt.trip_stop_times(PatternIdx::from(index), trip.trip as usize);
                widen(&scheduled[from..], &mut changes.span);
                if !trip.cancelled {
                    widen(&trip.times[from..], &mut changes.span);
                }
            }
            let first_instance = this.instance_pattern.len() as u32;
            for (at, trip) in trips.iter().enumerate() {
                this.instance_pattern.push(index as u32);
                this.instance_trip.push(trip.trip);
                this.instance_event.push(this.arrival.len() as u32);
                this.arrival.extend(trip.times.iter().map(|time| time.arrival));
                hole.push(!kept[at]);
                changes.changed.push(trip.changed);
                changes.cancelled += usize::from(trip.cancelled);
            }
            // The group runs from the first trip kept to the last; a hole inside it repeats
            // the departures of the trip kept before it, so a search never stops at it.
            let first_kept = kept.iter().position(|&kept| kept);
            let last = kept.iter().rposition(|&kept| kept);
            let range = match (first_kept, last) {
                (Some(first), Some(last)) => first..last + 1,
                _ => 0..0,
            };
            this.pattern_first.push(first_instance + range.start as u32);
            this.pattern_count.push(range.len() as u32);
            this.pattern_departures.push(this.departures.len() as u32);
            for position in 0..num_stops {
                let mut previous = 0;
                for at in range.clone() {
                    if kept[at] {
                        previous = trips[at].times[position].departure;
                    }
                    this.departures.push(previous);
                }
            }
            for (at, trip) in trips.drain(..).enumerate() {
                if !kept[at] && !trip.cancelled {
                    moved.push((index, trip));
                }
            }
        }
        let timetable_instances = this.instance_pattern.len();
        changes.moved = moved.len();
        // The moved trips in further groups, each joining the first group of its pattern whose
        // last trip it follows.
        moved.sort_by(|(a_pattern, a), (b_pattern, b)| {
            a_pattern
                .cmp(b_pattern)
                .then_with(|| {
                    let later = b.times.iter().map(|time| time.departure);
                    a.times.iter().map(|time| time.departure).cmp(later)
                })
                .then(a.trip.cmp(&b.trip))
        });
        let mut pattern_groups = vec![(0u32, 0u32); tt.patterns.len()];
        let mut group_pattern = Vec::new();
        let mut instance_group: Vec<u32> = this.instance_pattern.clone();
        for run in moved.chunk_by(|a, b| a.0 == b.0) {
            let pattern = run[0].0;
            let mut groups: Vec<Vec<&LiveTrip>> = Vec::new();
            for (_, trip) in run {
                match groups
                    .iter_mut()
                    .find(|group| follows(&group[group.len() - 1].times, &trip.times))
                {
                    Some(group) => group.push(trip),
                    None => groups.push(vec![trip]),
                }
            }
            pattern_groups[pattern] = (group_pattern.len() as u32, groups.len() as u32);
            for group in groups {
                let group_id = num_patterns + group_pattern.len() as u32;
                group_pattern.push(pattern as u32);
                this.pattern_first.push(this.instance_pattern.len() as u32);
                this.pattern_count.push(group.len() as u32);
                for trip in &group {
                    this.instance_pattern.push(pattern as u32);
                    this.instance_trip.push(trip.trip);
                    this.instance_event.push(this.arrival.len() as u32);
                    this.arrival.extend(trip.times.iter().map(|time| time.arrival));
                    instance_group.push(group_id);
                    hole.push(false);
                    changes.changed.push(true);
                }
                this.pattern_departures.push(this.departures.len() as u32);
                for position in 0..tt.patterns[pattern].num_stops() {
                    this.departures.extend(group.iter().map(|trip| trip.times[position].departure));
                }
            }
        }
        debug_assert_eq!(instance_group.len(), this.instance_pattern.len());
        debug_assert!(timetable_instances <= this.instance_pattern.len());
        this.live = Some(Box::new(LiveGroups {
            pattern_groups,
            group_pattern,
            instance_group,
            hole,
            num_patterns,
        }));
        (this.instance_pattern.len() <= MAX_INSTANCES).then_some((this, changes))
    }

    pub(super) fn instances(&self) -> usize {
        self.instance_pattern.len()
    }

    /// Whether `instance` leaves some stop at or after `from` (seconds of this day): a search
    /// boarding only from then on may board it (and read its transfers).
    pub(super) fn leaves_from(&self, tt: &Timetable, instance: usize, from: i64) -> bool {
        let stops = tt.patterns[self.instance_pattern[instance] as usize].num_stops();
        let last_boarding = stops.saturating_sub(2);
        i64::from(self.times(instance, last_boarding, last_boarding).0) >= from
    }

    /// The group of `instance` (its pattern on a timetable day).
    #[inline]
    pub(super) fn group(&self, instance: usize) -> usize {
        match &self.live {
            None => self.instance_pattern[instance] as usize,
            Some(live) => live.instance_group[instance] as usize,
        }
    }

    /// The further groups of `pattern` (none on a timetable day).
    #[inline]
    pub(super) fn further_groups(&self, pattern: usize) -> std::ops::Range<usize> {
        match &self.live {
            None => 0..0,
            Some(live) => {
                let (start, count) = live.pattern_groups[pattern];
                let first = (live.num_patterns + start) as usize;
                first..first + count as usize
            }
        }
    }

    /// Whether nothing boards `instance` (see [`LiveGroups`]).
    #[inline]
    pub(super) fn is_hole(&self, instance: usize) -> bool {
        self.live.as_ref().is_some_and(|live| live.hole[instance])
    }

    /// Instance `instance`'s departure at `board` and arrival at `alight`.
    pub(super) fn times(&self, instance: usize, board: usize, alight: usize) -> (u32, u32) {
        let group = self.group(instance);
        let count = self.pattern_count[group] as usize;
        let index = instance - self.pattern_first[group] as usize;
        let departure =
            self.departures[self.pattern_departures[group] as usize + board * count + index];
        (departure, self.arrival[self.instance_event[instance] as usize + alight])
    }

    /// The earliest instance of `group` leaving `position` at or after `threshold` (seconds
    /// of this day), as `(instance, departure)`.
    pub(super) fn earliest_in(
        &self,
        group: usize,
        position: usize,
        threshold: u32,
    ) -> Option<(u32, u32)> {
        let count = self.pattern_count[group] as usize;
        let start = self.pattern_departures[group] as usize + position * count;
        let departures = &self.departures[start..start + count];
        let index = departures.partition_point(|&departure| departure < threshold);
        (index < count).then(|| (self.pattern_first[group] + index as u32, departures[index]))
    }

    pub(super) fn bytes(&self) -> usize {
        let live = self.live.as_ref().map_or(0, |live| {
            8 * live.pattern_groups.len()
                + 4 * (live.group_pattern.len() + live.instance_group.len())
                + live.hole.len()
        });
        live + 4
            * (self.pattern_first.len()
                + self.pattern_count.len()
                + self.instance_pattern.len()
                + self.instance_trip.len()
                + self.instance_event.len()
                + self.arrival.len()
                + self.pattern_departures.len()
                + self.departures.len())
    }
}

/// Three consecutive service days as one time line: `offset[i]` is the start of day `i`
/// relative to the time line's zero (a missing day has no trips).
#[derive(Clone, Copy)]
pub(super) struct Days<'a> {
    pub(super) day: [Option<&'a TripDay>; 3],
    pub(super) offset: [i64; 3],
}

impl Days<'_> {
    /// The earliest instance of `pattern` leaving `position` at or after `ready` on any of
    /// the days, as `(day, instance, departure)` (times on the time line).
    fn earliest(&self, pattern: usize, position: usize, ready: i64) -> Option<(usize, u32, i64)> {
        let mut best: Option<(usize, u32, i64)> = None;
        for (slot, day) in self.day.iter().enumerate() {
            let Some(day) = day else { continue };
            let count = day.pattern_count[pattern] as usize;
            if count == 0 {
                continue;
            }
            let start = day.pattern_departures[pattern] as usize + position * count;
            let departures = &day.departures[start..start + count];
            let offset = self.offset[slot];
            // Two reads rule most days out: the day's last departure there is too early, or
            // its first is no earlier than the best found on another day.
            if i64::from(departures[count - 1]) + offset < ready
                || best.is_some_and(|(_, _, best)| i64::from(departures[0]) + offset >= best)
            {
                continue;
            }
            let threshold = (ready - offset).max(0) as u32;
            let index = departures.partition_point(|&departure| departure < threshold);
            let departure = i64::from(departures[index]) + offset;
            if best.is_none_or(|(_, _, best)| departure < best) {
                best = Some((slot, day.pattern_first[pattern] + index as u32, departure));
            }
        }
        best
    }

    /// Each group of `pattern` that has an instance leaving `position` at or after `ready`:
    /// its earliest such instance, as `f(day, instance)`. The pattern's own group spans the
    /// days (the earliest on any of them); a realtime day's further groups are its own.
    pub(super) fn for_each_earliest(
        &self,
        pattern: usize,
        position: usize,
        ready: i64,
        mut f: impl FnMut(usize, u32),
    ) {
        if let Some((slot, instance, _)) = self.earliest(pattern, position, ready) {
            f(slot, instance);
        }
        for (slot, day) in self.day.iter().enumerate() {
            let Some(day) = day else { continue };
            let threshold = (ready - self.offset[slot]).clamp(0, i64::from(u32::MAX)) as u32;
            for group in day.further_groups(pattern) {
                if let Some((instance, _)) = day.earliest_in(group, position, threshold) {
                    f(slot, instance);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A realtime day against brute force over its running trips: every trip not cancelled
    /// is one instance that is no hole, with its expected times; each group's trips follow one
    /// another; and the earliest instance of each group found for every ready time, over the
    /// pattern's groups, is the earliest departure over all its running trips, never a hole.
    #[test]
    fn a_realtime_day_keeps_every_trip_once_in_groups_that_never_overtake() {
        use norikae_realtime::overlay::{StopRealtime, TripKey, TripRealtime};
        use rand::rngs::StdRng;
        use rand::{Rng, SeedableRng};

        let tt = crate::engine::tests::bundled_timetable();
        let date = chrono::NaiveDate::from_ymd_opt(2025, 6, 4).expect("a date");
        let day = tt.day_index(date).expect("in the bundled feeds");
        let mut rng = StdRng::seed_from_u64(11);
        let mut changed = Vec::new();
        for trip in (0..tt.trips.len()).map(TripIdx::from) {
            if !tt.trip_runs(trip, day) || rng.random_bool(0.5) {
                continue;
            }
            let key = TripKey { trip, day };
            if rng.random_bool(0.1) {
                changed.push((key, TripRealtime { cancelled: true, ..TripRealtime::default() }));
                continue;
            }
            let delay = rng.random_range(-60..=900);
            let stops = tt
                .stop_times_of_trip(trip)
                .iter()
                .map(|time| StopRealtime {
                    arrival: (i64::from(time.arrival) + delay).max(0) as u32,
                    departure: (i64::from(time.departure) + delay).max(0) as u32,
                    flags: StopRealtime::PREDICTED,
                })
                .collect();
            changed.push((key, TripRealtime { stops, ..TripRealtime::default() }));
        }
        let overlay = Overlay::from_trips(&tt, changed);
        let timetable_day = TripDay::build(&tt, day).expect("fits");
        let (live, changes) = TripDay::build_live(&tt, day, &overlay).expect("fits");
        assert!(
            changes.moved > 10 && changes.cancelled > 10,
            "{} {}",
            changes.moved,
            changes.cancelled
        );
        assert_eq!(
            (
                &live.instance_pattern[..timetable_day.instances()],
                &live.instance_trip[..timetable_day.instances()]
            ),
            (&timetable_day.instance_pattern[..], &timetable_day.instance_trip[..]),
            "the timetable day's instances keep their numbers"
        );
        for (pattern, data) in tt.patterns.iter().enumerate() {
            let num_stops = data.num_stops();
            let expected_times = |trip_in_pattern: u32| -> Vec<StopTime> {
                let trip = TripIdx(data.trips.start + trip_in_pattern);
                match overlay.trip(trip, day) {
                    Some(realtime) => realtime
                        .stops
                        .iter()
                        .map(|stop| StopTime { arrival: stop.arrival, departure: stop.departure })
                        .collect(),
                    None => tt.stop_times_of_trip(trip).to_vec(),
                }
            };
            // The instances of the pattern that are no hole, by trip.
            let mut riding: Vec<(u32, usize)> = (0..live.instances())
                .filter(|&instance| {
                    live.instance_pattern[instance] as usize == pattern && !live.is_hole(instance)
                })
                .map(|instance| (live.instance_trip[instance], instance))
                .collect();
            riding.sort_unstable();
            let running: Vec<u32> = (0..data.num_trips() as u32)
                .filter(|&trip| {
                    let trip = TripIdx(data.trips.start + trip);
                    tt.trip_runs(trip, day) && !overlay.is_cancelled(trip, day)
                })
                .collect();
            assert_eq!(
                riding.iter().map(|&(trip, _)| trip).collect::<Vec<_>>(),
                running,
                "pattern {pattern}"
            );
            for &(trip, instance) in &riding {
                let times: Vec<StopTime> = (0..num_stops)
                    .map(|position| {
                        let (departure, arrival) = live.times(instance, position, position);
                        StopTime { arrival, departure }
                    })
                    .collect();
                assert_eq!(times, expected_times(trip), "pattern {pattern} trip {trip}");
            }
            let groups: Vec<usize> =
                std::iter::once(pattern).chain(live.further_groups(pattern)).collect();
            for &group in &groups {
                let members: Vec<usize> = (live.pattern_first[group]
                    ..live.pattern_first[group] + live.pattern_count[group])
                    .map(|instance| instance as usize)
                    .filter(|&instance| !live.is_hole(instance))
                    .collect();
                for pair in members.windows(2) {
                    let times = |instance: usize| expected_times(live.instance_trip[instance]);
                    assert!(
                        follows(&times(pair[0]), &times(pair[1])),
                        "group {group} of pattern {pattern}"
                    );
                }
            }
            for position in 0..num_stops {
                let mut readies: Vec<u32> = running
                    .iter()
                    .flat_map(|&trip| {
                        let departure = expected_times(trip)[position].departure;
                        [departure.saturating_sub(1), departure, departure + 1]
                    })
                    .collect();
                readies.sort_unstable();
                readies.dedup();
                for ready in readies {
                    let brute = running
                        .iter()
                        .map(|&trip| expected_times(trip)[position].departure)
                        .filter(|&departure| departure >= ready)
                        .min();
                    let found = groups
                        .iter()
                        .filter_map(|&group| live.earliest_in(group, position, ready))
                        .map(|(instance, departure)| {
                            assert!(!live.is_hole(instance as usize), "a hole is found");
                            assert_eq!(
                                live.times(instance as usize, position, position).0,
                                departure
                            );
                            departure
                        })
                        .min();
                    assert_eq!(found, brute, "pattern {pattern} position {position} ready {ready}");
                }
            }
        }
    }

    #[test]
    fn packed_targets_round_trip() {
        for (day, instance, position) in
            [(0, 0, 0), (1, 12_345, 17), (2, MAX_INSTANCES as u32 - 1, 1_023)]
        {
            assert_eq!(unpack(pack(day, instance, position)), (day, instance, position as u16));
        }
    }
}
