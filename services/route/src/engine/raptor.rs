//! The RAPTOR core: rounds over marked stops, each round scanning every pattern that serves a
//! stop improved in the previous round once, from its first marked position.
//!
//! One implementation serves both directions. Forward (depart-at) labels are arrival times;
//! backward (arrive-by) labels are departure times, compared in a mirrored "key" space
//! (`MIRROR - time`) so that smaller is always better and the code stays the same.
//!
//! Two labels per stop and round keep the transfer rules exact: the arrival by a vehicle
//! (`transit`: changing vehicles at that stop costs its minimum transfer time, and walking links
//! start from it) and the arrival on foot (`walk`: a walking link already includes the time it
//! takes, and does not chain into another walking link). Labels of round `k` are the best with
//! at most `k` trips; they survive from one iteration of a range query to the next (rRAPTOR),
//! because leaving later never makes an earlier-departing traveller worse off.
//!
//! Times are seconds since the start of the service day before the query's day (so the three
//! service days a query touches, D-1, D and D+1, all have non-negative times).

use norikae_timetable::{
    Footpath, Pattern, PatternAtStop, PatternIdx, StopIdx, StopRules, StopTime, Timetable,
};

use super::{Engine, rule_boarding};

/// "No label".
pub(crate) const INF: u32 = u32::MAX;
/// Keys of backward searches are `MIRROR - time`; larger than any time of three service days.
pub(crate) const MIRROR: u32 = 1 << 30;

/// The three service days a query looks at: the day before (trips past midnight), the day,
/// and the day after (journeys crossing midnight).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ServiceDays {
    /// Day number (into the service bitsets) of each slot, `None` outside the timetable.
    pub day: [Option<u32>; 3],
    /// Start of each slot's service day, in seconds after the start of slot 0.
    pub offset: [u32; 3],
}

/// Which way a search runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Depart at a time, earliest arrival.
    Forward,
    /// Arrive by a time, latest departure.
    Backward,
}

impl Direction {
    /// Position `index` of a pattern of `num_stops` stops in this direction's scan order (a
    /// backward scan starts at the last stop); the same mapping turns a scan position back
    /// into a pattern position.
    #[inline]
    pub(crate) fn scan_order(self, num_stops: usize, index: usize) -> usize {
        match self {
            Self::Forward => index,
            Self::Backward => num_stops - 1 - index,
        }
    }
}

/// The per-query rules the core applies.
#[derive(Clone, Debug)]
pub(crate) struct Rules<'a> {
    pub direction: Direction,
    /// Maximum number of vehicles (transfers + 1).
    pub max_trips: usize,
    /// Extra time at every transfer, on top of the stop's own minimum.
    pub slack_secs: u32,
    /// Longest walking link allowed.
    pub max_walk_m: u32,
    pub wheelchair: bool,
    /// Patterns a journey may ride (`None`: all).
    pub allowed_patterns: Option<&'a [bool]>,
    pub days: ServiceDays,
    /// The trips running on each slot's service day, per pattern.
    pub day_trips: [Option<&'a DayTrips>; 3],
    /// Several iterations over the same labels (a range query): remember the trips ridden,
    /// so that a later iteration does not ride one again for nothing (see [`Ride`]).
    pub remember_rides: bool,
}

/// The trips of each pattern that run on one service day (positions within the pattern,
/// ascending), so that finding the next trip never steps over trips of other days; and their
/// departures stop-major (all running trips' departures at one stop of the pattern side by
/// side), so that the binary search for the next trip reads one short contiguous run.
#[derive(Debug)]
pub struct DayTrips {
    /// Per pattern, where its running trips and their departures are, and their span.
    headers: Vec<PatternDay>,
    trips: Vec<u32>,
    departures: Vec<u32>,
    /// The same tables for backward searches, built when the first one needs them.
    mirrored: std::sync::OnceLock<MirroredTrips>,
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
    span: Vec<(u32, u32)>,
}

/// Mirrored arrivals are `MIRROR_DAY - arrival`: above any time within a service day and its
/// trips past midnight, and small enough that a backward key (`MIRROR - time`) is a mirrored
/// arrival plus a non-negative per-slot offset.
const MIRROR_DAY: u32 = 1 << 29;

impl DayTrips {
    pub(crate) fn build(timetable: &Timetable, day: u32) -> Self {
        let trip_services: &[norikae_timetable::ServiceIdx] = &timetable.trip_services;
        let stop_times: &[StopTime] = &timetable.stop_times;
        let mut headers = Vec::with_capacity(timetable.patterns.len());
        let mut trips = Vec::new();
        let mut departures = Vec::new();
        for pattern in &timetable.patterns {
            let trips_start = trips.len();
            for trip_in_pattern in 0..pattern.num_trips() {
                let trip = pattern.trips.start as usize + trip_in_pattern;
                if timetable.service_runs(trip_services[trip], day) {
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
        Self { headers, trips, departures, mirrored: std::sync::OnceLock::new() }
    }

    /// Builds the tables backward searches read now rather than at the first one.
    pub(crate) fn prepare_mirrored(&self, timetable: &Timetable) {
        self.mirrored(timetable);
    }

    /// The mirrored tables (built on first use; about as large as the forward ones).
    fn mirrored(&self, timetable: &Timetable) -> &MirroredTrips {
        self.mirrored.get_or_init(|| {
            let stop_times: &[StopTime] = &timetable.stop_times;
            let mut trips = Vec::with_capacity(self.trips.len());
            let mut arrivals = Vec::with_capacity(self.departures.len());
            let mut span = Vec::with_capacity(timetable.patterns.len());
            for (index, pattern) in timetable.patterns.iter().enumerate() {
                let running = self.of(PatternIdx::from(index));
                trips.extend(running.iter().rev());
                let num_stops = pattern.num_stops();
                let times = &stop_times[pattern.stop_times_start as usize..];
                let start = arrivals.len();
                for position in (0..num_stops).rev() {
                    arrivals.extend(running.iter().rev().map(|&trip| {
                        MIRROR_DAY - times[trip as usize * num_stops + position].arrival
                    }));
                }
                let block = &arrivals[start..];
                span.push((
                    block.iter().copied().min().unwrap_or(INF),
                    block.iter().copied().max().unwrap_or(0),
                ));
            }
            MirroredTrips { trips, arrivals, span }
        })
    }

    /// Where `pattern`'s (of `num_stops` stops) running trips and its block of times lie in
    /// the day's tables (the mirrored ones have the same layout), and its header.
    #[inline]
    fn block_ranges(
        &self,
        pattern: PatternIdx,
        num_stops: usize,
    ) -> (std::ops::Range<usize>, std::ops::Range<usize>, PatternDay) {
        let header = self.headers[pattern.idx()];
        let (start, count) = (header.trips_start as usize, header.count as usize);
        let times_start = header.times_start as usize;
        (start..start + count, times_start..times_start + count * num_stops, header)
    }

    /// The running trips of `pattern` (of `num_stops` stops) and their departures
    /// stop-major (position `i`, running trip `j` at `i * running.len() + j`).
    #[inline]
    fn block(&self, pattern: PatternIdx, num_stops: usize) -> (&[u32], &[u32], (u32, u32)) {
        let (trips, times, header) = self.block_ranges(pattern, num_stops);
        (&self.trips[trips], &self.departures[times], (header.earliest, header.latest))
    }

    /// [`DayTrips::block`] for a backward search: the running trips latest first and their
    /// mirrored arrivals, last stop first.
    #[inline]
    fn mirrored_block(
        &self,
        timetable: &Timetable,
        pattern: PatternIdx,
        num_stops: usize,
    ) -> (&[u32], &[u32], (u32, u32)) {
        let mirrored = self.mirrored(timetable);
        let (trips, times, _) = self.block_ranges(pattern, num_stops);
        (&mirrored.trips[trips], &mirrored.arrivals[times], mirrored.span[pattern.idx()])
    }

    /// Positions (within `pattern`) of its trips running that day.
    #[inline]
    pub(crate) fn of(&self, pattern: PatternIdx) -> &[u32] {
        let header = self.headers[pattern.idx()];
        let start = header.trips_start as usize;
        &self.trips[start..start + header.count as usize]
    }
}

/// Which label of a stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LabelKind {
    Transit,
    Walk,
}

/// How a stop's transit label was reached: riding `trip_in_pattern` of `pattern` on service-day
/// slot `day_slot`, boarded at pattern position `board_position` (in search order: for a
/// backward search, the position where the traveller really gets off).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TransitParent {
    pub pattern: u32,
    pub trip_in_pattern: u32,
    pub board_position: u16,
    pub alight_position: u16,
    pub day_slot: u8,
    /// Boarded from the walk label of the previous round (else from its transit label).
    pub from_walk: bool,
}

/// How a stop's walk label was reached.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) enum WalkParent {
    /// Seeded: the origin (or, backward, the destination) with the walk that reaches it.
    #[default]
    Seed,
    /// Walked from `from`'s transit label of the same round.
    Footpath { from: StopIdx, duration_secs: u32, distance_m: u32 },
}

/// The best way to reach the target in one round.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TargetLabel {
    pub key: u32,
    pub stop: StopIdx,
    pub kind: LabelKind,
    /// Reached by a vehicle at `stop`, then a walk from there to this target stop.
    pub final_walk: Option<FinalWalk>,
    /// Improved by the current iteration (so a journey to report).
    pub improved: bool,
}

impl Default for TargetLabel {
    fn default() -> Self {
        Self {
            key: INF,
            stop: StopIdx(0),
            kind: LabelKind::Transit,
            final_walk: None,
            improved: false,
        }
    }
}

/// The walking link from a stop a vehicle reaches to a target stop (backward searches: from
/// the target stop, where the traveller starts, to the stop where a vehicle is boarded).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FinalWalk {
    pub to: StopIdx,
    pub duration_secs: u32,
    pub distance_m: u32,
}

/// The two labels of a stop in one round, side by side: the walking relaxation and the
/// boarding test read both, so one cache line serves them.
#[derive(Clone, Copy, Debug)]
struct Labels {
    transit: u32,
    walk: u32,
}

impl Labels {
    const NONE: Self = Self { transit: INF, walk: INF };
}

/// A trip a forward scan has ridden in some round of a query, from `position` on; its
/// alightings stay in the labels (they only improve), so boarding it again there or later
/// changes nothing (a range query's earlier departures often catch the same trip).
#[derive(Clone, Copy, Debug)]
struct Ride {
    trip_in_pattern: u32,
    position: u16,
    day_slot: u8,
}

impl Ride {
    const NONE: Self = Self { trip_in_pattern: u32::MAX, position: 0, day_slot: 0 };
}

/// Bounds on the work of one query, set by whoever runs it ([`Scratch::set_limits`]): a search
/// past its deadline stops (between RAPTOR rounds, between the departures of a range, between
/// the journeys a via search continues) with [`crate::Error::Stopped`].
#[derive(Clone, Copy, Debug)]
pub struct SearchLimits {
    /// When the answer is no longer wanted (`None`: never).
    pub deadline: Option<std::time::Instant>,
    /// Most journeys to a via station a search continues from.
    pub max_via_heads: usize,
}

impl Default for SearchLimits {
    fn default() -> Self {
        Self { deadline: None, max_via_heads: usize::MAX }
    }
}

impl SearchLimits {
    pub(crate) fn past_deadline(&self) -> bool {
        self.deadline.is_some_and(|deadline| std::time::Instant::now() >= deadline)
    }

    /// `Err(Stopped)` once past the deadline.
    pub(crate) fn check(&self) -> crate::error::Result<()> {
        if self.past_deadline() { Err(crate::Error::Stopped) } else { Ok(()) }
    }
}

/// Reusable buffers of one search; allocate once per thread and timetable, reuse for every
/// query (a query writes only what it touches and cleans only that).
pub struct Scratch {
    num_stops: usize,
    rounds: usize,
    /// Round-major: round `k`'s labels of stop `s` at `k * num_stops + s`.
    labels: Vec<Labels>,
    transit_parent: Vec<TransitParent>,
    walk_parent: Vec<WalkParent>,
    /// Stops with a label in some round, to clean up.
    touched: Vec<StopIdx>,
    stop_touched: Vec<bool>,
    marked_previous: Vec<bool>,
    marked_previous_list: Vec<StopIdx>,
    marked_current: Vec<bool>,
    marked_current_list: Vec<StopIdx>,
    transit_improved: Vec<bool>,
    transit_improved_list: Vec<StopIdx>,
    /// First position (in scan order) to scan each queued pattern from; `INF`: not queued.
    pattern_start: Vec<u32>,
    /// Last position (in scan order) of each queued pattern where boarding may happen: once
    /// no trip is ridden past it, the scan stops.
    pattern_last: Vec<u32>,
    /// Per round and pattern (`round * patterns + pattern`), the last trip boarded in a
    /// forward scan of this query, and the slots written, to clean up.
    ridden: Vec<Ride>,
    ridden_list: Vec<usize>,
    queued_patterns: Vec<PatternIdx>,
    /// Time from the stop to the target (`INF`: not a target stop).
    pub(crate) egress: Vec<u32>,
    pub(crate) egress_list: Vec<StopIdx>,
    /// Time to the target after arriving at the stop by vehicle: a target stop's own, or a
    /// walking link to a target stop and that stop's (`INF`: neither). A scan that improves
    /// such a stop improves the round's target at once, instead of the walk at the end of the
    /// round, so that the target prunes the round's other scans.
    vehicle_egress: Vec<u32>,
    vehicle_egress_list: Vec<StopIdx>,
    /// The walk behind `vehicle_egress` where it is shorter than the stop's own egress.
    final_walk: Vec<FinalWalk>,
    pub(crate) target: Vec<TargetLabel>,
    /// Lower bound on the time from each stop to the target (backward: from the target, where
    /// the traveller starts, to each stop), for every stop (all 0 without landmarks); set per
    /// query by the query layer.
    pub(crate) lower_bound: Vec<u32>,
    /// The landmark terms of the target's bounds (scratch of the query layer).
    pub(crate) bound_terms: Vec<(i32, i32)>,
    /// Per-query pattern filter, filled by the query layer.
    pub(crate) allowed_patterns: Vec<bool>,
    /// Bounds on the work of the queries run with these buffers (see [`SearchLimits`]).
    pub(crate) limits: SearchLimits,
    /// The buffers of Trip-Based searches (see [`super::trip_based`]).
    pub(crate) trip_based: super::trip_based::Search,
    /// Fewest further trips to the target from a traveller ready to board at each stop
    /// (0: a target stop; 1: a pattern from there reaches the target or a stop walking to
    /// it; 2: more), over-estimated never: 0 everywhere when unknown.
    ready_trips: Vec<u8>,
    /// The same after arriving at each stop by vehicle, when a walk may follow (0: a target
    /// stop or one walking to it; 1: more).
    arrival_trips: Vec<u8>,
    /// Per pattern, the last position of a stop with `arrival_trips` 0: the stops before it
    /// reach the target with one trip (scratch of [`Engine::classify_stops`], all 0 between).
    pattern_reach: Vec<u32>,
    /// Patterns that reach the target with one trip (through a stop with `arrival_trips` 0):
    /// a round scans them first, so that the round's best arrival at the target is known
    /// before the other scans, which it prunes.
    pattern_to_target: Vec<bool>,
    pattern_to_target_list: Vec<PatternIdx>,
    /// Queued patterns of the round that do not reach the target, scanned after the rest.
    queued_later: Vec<PatternIdx>,
    /// The best arrival at the target within the next `m` rounds (`further[m]`, `further[0]`
    /// = none), or 0 when those rounds exceed the trip limit; set at each round's start.
    further: [u32; 3],
    /// The earliest key of the iteration's seeds: no label of the iteration is earlier.
    iteration_start: u32,
}

impl Scratch {
    /// Bounds the queries run with these buffers from now on.
    pub fn set_limits(&mut self, limits: SearchLimits) {
        self.limits = limits;
    }

    pub fn new(timetable: &Timetable) -> Self {
        let num_stops = timetable.stops.len();
        Self {
            num_stops,
            rounds: 0,
            labels: Vec::new(),
            transit_parent: Vec::new(),
            walk_parent: Vec::new(),
            touched: Vec::new(),
            stop_touched: vec![false; num_stops],
            marked_previous: vec![false; num_stops],
            marked_previous_list: Vec::new(),
            marked_current: vec![false; num_stops],
            marked_current_list: Vec::new(),
            transit_improved: vec![false; num_stops],
            transit_improved_list: Vec::new(),
            pattern_start: vec![INF; timetable.patterns.len()],
            pattern_last: vec![0; timetable.patterns.len()],
            ridden: Vec::new(),
            ridden_list: Vec::new(),
            queued_patterns: Vec::new(),
            egress: vec![INF; num_stops],
            egress_list: Vec::new(),
            vehicle_egress: vec![INF; num_stops],
            vehicle_egress_list: Vec::new(),
            final_walk: vec![FinalWalk::default(); num_stops],
            target: Vec::new(),
            allowed_patterns: Vec::new(),
            limits: SearchLimits::default(),
            trip_based: Default::default(),
            lower_bound: vec![0; num_stops],
            bound_terms: Vec::new(),
            ready_trips: vec![0; num_stops],
            arrival_trips: vec![0; num_stops],
            pattern_reach: vec![0; timetable.patterns.len()],
            pattern_to_target: vec![false; timetable.patterns.len()],
            pattern_to_target_list: Vec::new(),
            queued_later: Vec::new(),
            further: [INF; 3],
            iteration_start: 0,
        }
    }

    /// Whether these buffers fit `timetable` (a reloaded snapshot needs new ones).
    pub fn fits(&self, timetable: &Timetable) -> bool {
        self.num_stops == timetable.stops.len()
            && self.pattern_start.len() == timetable.patterns.len()
    }

    /// Clears every label and sizes the buffers for `max_trips` rounds.
    pub(crate) fn reset(&mut self, max_trips: usize) {
        let rounds = max_trips + 1;
        if self.rounds < rounds {
            // Labels are round-major (one array of all stops per round), so that a round's
            // scans and walks read one compact array.
            let len = rounds * self.num_stops;
            self.labels = vec![Labels::NONE; len];
            self.transit_parent = vec![TransitParent::default(); len];
            self.walk_parent = vec![WalkParent::default(); len];
            self.ridden = vec![Ride::NONE; rounds * self.pattern_start.len()];
            self.ridden_list.clear();
            self.rounds = rounds;
            for stop in self.touched.drain(..) {
                self.stop_touched[stop.idx()] = false;
            }
        }
        if self.touched.len() > self.num_stops / 8 {
            // Cheaper to clear everything than the touched stops round by round.
            for stop in self.touched.drain(..) {
                self.stop_touched[stop.idx()] = false;
            }
            self.labels.fill(Labels::NONE);
        }
        for stop in self.touched.drain(..) {
            self.stop_touched[stop.idx()] = false;
            for round in 0..self.rounds {
                self.labels[round * self.num_stops + stop.idx()] = Labels::NONE;
            }
        }
        for slot in self.ridden_list.drain(..) {
            self.ridden[slot] = Ride::NONE;
        }
        for &stop in &self.egress_list {
            self.egress[stop.idx()] = INF;
        }
        self.egress_list.clear();
        for &stop in &self.vehicle_egress_list {
            self.vehicle_egress[stop.idx()] = INF;
        }
        self.vehicle_egress_list.clear();
        self.target.clear();
        self.target.resize(rounds, TargetLabel::default());
        self.clear_marks();
    }

    fn clear_marks(&mut self) {
        for stop in self.marked_previous_list.drain(..) {
            self.marked_previous[stop.idx()] = false;
        }
        for stop in self.marked_current_list.drain(..) {
            self.marked_current[stop.idx()] = false;
        }
    }

    /// Makes `stop` a target stop, `secs` away from the target.
    pub(crate) fn set_egress(&mut self, stop: StopIdx, secs: u32) {
        if self.egress[stop.idx()] == INF {
            self.egress_list.push(stop);
        }
        self.egress[stop.idx()] = self.egress[stop.idx()].min(secs);
        self.set_vehicle_egress(stop, secs, None);
    }

    /// A traveller arriving at `stop` by vehicle reaches the target `secs` later, walking
    /// `walk` first if any (see [`Scratch::vehicle_egress`]).
    pub(crate) fn set_vehicle_egress(&mut self, stop: StopIdx, secs: u32, walk: Option<FinalWalk>) {
        let current = &mut self.vehicle_egress[stop.idx()];
        if *current == INF {
            self.vehicle_egress_list.push(stop);
        }
        // Ties keep the stop's own egress (set first), so no walk is added for nothing.
        if secs < *current {
            *current = secs;
            if let Some(walk) = walk {
                self.final_walk[stop.idx()] = walk;
            }
        }
    }

    /// The arrival at the target a label of `round` must beat when the journey needs at
    /// least `trips` more rounds to get there (a later round's best arrival so far, from a
    /// later departure of a range query, bounds it too).
    #[inline]
    fn threshold(&self, round: usize, trips: u8) -> u32 {
        self.target[round].key.min(self.further[usize::from(trips)])
    }

    #[inline]
    fn flat(&self, round: usize, stop: StopIdx) -> usize {
        round * self.num_stops + stop.idx()
    }

    #[inline]
    pub(crate) fn label(&self, round: usize, stop: StopIdx, kind: LabelKind) -> u32 {
        let flat = self.flat(round, stop);
        match kind {
            LabelKind::Transit => self.labels[flat].transit,
            LabelKind::Walk => self.labels[flat].walk,
        }
    }

    pub(crate) fn transit_parent(&self, round: usize, stop: StopIdx) -> TransitParent {
        self.transit_parent[self.flat(round, stop)]
    }

    pub(crate) fn walk_parent(&self, round: usize, stop: StopIdx) -> WalkParent {
        self.walk_parent[self.flat(round, stop)]
    }

    #[inline]
    fn touch(&mut self, stop: StopIdx) {
        if !self.stop_touched[stop.idx()] {
            self.stop_touched[stop.idx()] = true;
            self.touched.push(stop);
        }
    }

    /// Keeps labels monotone over rounds (at most `k` trips includes fewer): a label set in
    /// `round` also holds for every later round it beats, so round `k`'s label is the best
    /// with at most `k` trips and prunes worse labels of later rounds (local pruning).
    #[inline]
    fn propagate(
        labels: &mut [Labels],
        kind: LabelKind,
        num_stops: usize,
        flat: usize,
        round: usize,
        max_round: usize,
        key: u32,
    ) {
        let mut index = flat;
        for _ in round..max_round {
            index += num_stops;
            let label = match kind {
                LabelKind::Transit => &mut labels[index].transit,
                LabelKind::Walk => &mut labels[index].walk,
            };
            if key < *label {
                *label = key;
            } else {
                break;
            }
        }
    }

    fn mark(&mut self, stop: StopIdx) {
        if !self.marked_current[stop.idx()] {
            self.marked_current[stop.idx()] = true;
            self.marked_current_list.push(stop);
        }
    }
}

/// A walking link as the search reads it: 8 bytes (the relaxation loop streams through
/// hundreds of thousands per query); the distance is kept apart.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WalkLink {
    pub to: StopIdx,
    pub duration_secs: u32,
}

/// Bits of the stop in a packed walking link (the duration takes the rest).
const PACKED_STOP_BITS: u32 = 20;

/// Walking links per stop in one direction, sorted by duration, compact: the distances are
/// read only to check a walking limit shorter than the longest link, or to record a walk.
#[derive(Debug, Default)]
pub(crate) struct WalkLinks {
    offsets: Vec<u32>,
    /// The links when they do not fit `packed` (empty otherwise).
    links: Vec<WalkLink>,
    /// The links in 4 bytes each (stop in the low [`PACKED_STOP_BITS`] bits, duration above),
    /// when every stop and duration fits: half the memory the relaxation reads (its first
    /// read of a stop's links is usually a cache miss). Empty otherwise.
    packed: Vec<u32>,
    distances_m: Vec<u32>,
    longest_m: u32,
}

impl WalkLinks {
    /// From links sliced by `offsets` (stop `s`'s at `offsets[s]..offsets[s + 1]`), each
    /// stop's sorted by duration.
    pub(crate) fn build(offsets: &[u32], footpaths: &[Footpath]) -> Self {
        debug_assert!(offsets.windows(2).all(|pair| {
            footpaths[pair[0] as usize..pair[1] as usize]
                .windows(2)
                .all(|links| links[0].duration_secs <= links[1].duration_secs)
        }));
        let fits = |footpath: &Footpath| {
            footpath.to.0 < 1 << PACKED_STOP_BITS
                && footpath.duration_secs < 1 << (32 - PACKED_STOP_BITS)
        };
        let (links, packed) = if footpaths.iter().all(fits) {
            let packed = footpaths
                .iter()
                .map(|footpath| footpath.to.0 | footpath.duration_secs << PACKED_STOP_BITS)
                .collect();
            (Vec::new(), packed)
        } else {
            let links = footpaths
                .iter()
                .map(|footpath| WalkLink { to: footpath.to, duration_secs: footpath.duration_secs })
                .collect();
            (links, Vec::new())
        };
        Self {
            offsets: offsets.to_vec(),
            links,
            packed,
            distances_m: footpaths.iter().map(|footpath| footpath.distance_m).collect(),
            longest_m: footpaths.iter().map(|footpath| footpath.distance_m).max().unwrap_or(0),
        }
    }

    /// Positions of the links of `slot` (a stop; for alighting links, a pattern stop).
    #[inline]
    fn range(&self, slot: usize) -> std::ops::Range<usize> {
        self.offsets[slot] as usize..self.offsets[slot + 1] as usize
    }

    /// How many links there are.
    pub(crate) fn len(&self) -> usize {
        self.distances_m.len()
    }

    #[inline]
    fn unpack(packed: u32) -> WalkLink {
        WalkLink {
            to: StopIdx(packed & ((1 << PACKED_STOP_BITS) - 1)),
            duration_secs: packed >> PACKED_STOP_BITS,
        }
    }
}

/// Plain slices of the timetable columns the inner loops read, taken once per iteration
/// (dereferencing a mapped column checks its bounds and alignment every time).
pub(crate) struct View<'a> {
    patterns: &'a [Pattern],
    pattern_stops: &'a [StopIdx],
    pattern_stop_rules: &'a [StopRules],
    stop_times: &'a [StopTime],
    stop_pattern_offsets: &'a [u32],
    patterns_at_stop: &'a [PatternAtStop],
    /// Walking links in search direction (backward: reversed).
    walk_links: &'a WalkLinks,
    /// The walking links a traveller may need for boarding (forward: see
    /// [`super::walk_pruning`]; backward: all).
    boarding_links: &'a WalkLinks,
    /// Per pattern stop, the boarding links a traveller alighting there may need (forward
    /// only: see [`super::walk_pruning`]).
    alighting_links: Option<&'a WalkLinks>,
    min_transfer_secs: &'a [u32],
}

impl<'a> View<'a> {
    pub(crate) fn new(engine: &'a Engine, direction: Direction) -> Self {
        let tt: &'a Timetable = &engine.timetable;
        let (walk_links, boarding_links, alighting_links) = match direction {
            Direction::Forward => (
                &engine.forward_walk_links,
                &engine.boarding_walk_links,
                Some(&engine.alighting_walk_links),
            ),
            Direction::Backward => (&engine.backward_walk_links, &engine.backward_walk_links, None),
        };
        Self {
            patterns: &tt.patterns,
            pattern_stops: &tt.pattern_stops,
            pattern_stop_rules: &tt.pattern_stop_rules,
            stop_times: &tt.stop_times,
            stop_pattern_offsets: &tt.stop_pattern_offsets,
            patterns_at_stop: &tt.patterns_at_stop,
            walk_links,
            boarding_links,
            alighting_links,
            min_transfer_secs: &tt.min_transfer_secs,
        }
    }

    #[inline]
    fn patterns_at_stop(&self, stop: StopIdx) -> &'a [PatternAtStop] {
        let start = self.stop_pattern_offsets[stop.idx()] as usize;
        let end = self.stop_pattern_offsets[stop.idx() + 1] as usize;
        &self.patterns_at_stop[start..end]
    }
}

/// A seed of an iteration: the traveller can be at `stop` at `key` (already in key space).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Seed {
    pub stop: StopIdx,
    pub key: u32,
}

/// One service-day slot's running trips of the pattern being scanned, with their departures
/// stop-major (see [`DayTrips::block`]).
#[derive(Clone, Copy, Default)]
pub(crate) struct SlotTrips<'a> {
    pub(crate) offset: u32,
    pub(crate) running: &'a [u32],
    pub(crate) departures: &'a [u32],
    /// Earliest and latest departure in `departures`.
    earliest: u32,
    latest: u32,
}

/// A trip on a service day, as the scan rides it.
#[derive(Clone, Copy)]
struct Boarded {
    trip_in_pattern: u32,
    /// Index of the trip among its day's running trips (forward scans).
    running_index: u32,
    day_slot: u8,
    board_position: u16,
    from_walk: bool,
    /// First stop time of the trip within its pattern's stop times.
    stop_times_start: usize,
    offset: u32,
}

impl Engine {
    /// Runs one iteration (one departure time) over the labels already in `scratch`: seeds
    /// the walk labels of round 0, then runs the rounds. Targets improved by this iteration
    /// have `improved` set.
    pub(crate) fn run_iteration(&self, rules: &Rules<'_>, seeds: &[Seed], scratch: &mut Scratch) {
        let view = View::new(self, rules.direction);
        for target in &mut scratch.target {
            target.improved = false;
        }
        scratch.clear_marks();
        scratch.iteration_start = seeds.iter().map(|seed| seed.key).min().unwrap_or(INF);
        for seed in seeds {
            let flat = scratch.flat(0, seed.stop);
            if seed.key < scratch.labels[flat].walk {
                scratch.touch(seed.stop);
                scratch.labels[flat].walk = seed.key;
                scratch.walk_parent[flat] = WalkParent::Seed;
                scratch.mark(seed.stop);
            }
        }
        for round in 1..=rules.max_trips {
            // Past the deadline the labels stay unfinished: the query layer sees the deadline
            // passed too and answers with an error, never with these labels.
            if scratch.limits.past_deadline() {
                break;
            }
            std::mem::swap(&mut scratch.marked_previous, &mut scratch.marked_current);
            std::mem::swap(&mut scratch.marked_previous_list, &mut scratch.marked_current_list);
            if scratch.marked_previous_list.is_empty() {
                break;
            }
            self.carry_labels(round, scratch);
            scratch.further = [INF; 3];
            for trips in 1..3 {
                scratch.further[trips] = if round + trips > rules.max_trips {
                    0
                } else {
                    scratch.further[trips - 1].min(scratch.target[round + trips].key)
                };
            }
            self.queue_patterns(&view, rules, round, scratch);
            // The patterns reaching the target first: they settle this round's best arrival
            // there, which then prunes the other scans (the order of scans within a round
            // changes no label a later round reads, only what the bound cuts).
            let mut queued = std::mem::take(&mut scratch.queued_patterns);
            let mut later = std::mem::take(&mut scratch.queued_later);
            queued.retain(|&pattern| {
                let first = scratch.pattern_to_target[pattern.idx()];
                if !first {
                    later.push(pattern);
                }
                first
            });
            queued.append(&mut later);
            scratch.queued_later = later;
            for (index, &pattern) in queued.iter().enumerate() {
                if let Some(&next) = queued.get(index + 1) {
                    Self::prefetch_scan(&view, rules, next, scratch);
                }
                let start = scratch.pattern_start[pattern.idx()];
                scratch.pattern_start[pattern.idx()] = INF;
                let last = scratch.pattern_last[pattern.idx()];
                self.scan_pattern(
                    &view,
                    rules,
                    round,
                    pattern,
                    start as usize..=last as usize,
                    scratch,
                );
            }
            scratch.queued_patterns = queued;
            scratch.queued_patterns.clear();
            self.relax_footpaths(&view, rules, round, scratch);
            for stop in scratch.marked_previous_list.drain(..) {
                scratch.marked_previous[stop.idx()] = false;
            }
        }
    }

    /// Starts loading what the scan of the queued `pattern` reads first (its first boarding
    /// stop and the last departure of the query's day there, the first one the boarding test
    /// reads), so that those loads overlap the scan before it.
    #[inline]
    fn prefetch_scan(view: &View<'_>, rules: &Rules<'_>, pattern: PatternIdx, scratch: &Scratch) {
        if rules.direction != Direction::Forward {
            return;
        }
        let start = scratch.pattern_start[pattern.idx()] as usize;
        let num_stops = view.patterns[pattern.idx()].num_stops();
        let first = view.patterns[pattern.idx()].stops.start as usize + start;
        hint::prefetch(&view.pattern_stops[first]);
        hint::prefetch(&view.pattern_stop_rules[first]);
        if let Some(day) = rules.day_trips[1] {
            let (running, departures, _) = day.block(pattern, num_stops);
            let count = running.len();
            if count > 0 {
                hint::prefetch(&departures[start * count + count - 1]);
            }
        }
    }

    /// A lower bound on the time from `stop` to the target (0 when bounds are off).
    #[inline]
    fn lower_bound(&self, scratch: &Scratch, stop: StopIdx) -> u32 {
        scratch.lower_bound[stop.idx()]
    }

    /// Sets how many more trips each stop needs at least to reach the target stops (see
    /// [`Scratch::ready_trips`]), after the target stops and the walks to them are set
    /// ([`Scratch::set_vehicle_egress`]); an over-approximation (pickup rules and filters are
    /// ignored), so pruning with it stays exact. Backward searches mirror it: their target is
    /// where the traveller starts, "before" on a pattern is later in time, and walking to the
    /// target is walking from it.
    pub(crate) fn classify_stops(&self, direction: Direction, scratch: &mut Scratch) {
        for pattern in scratch.pattern_to_target_list.drain(..) {
            scratch.pattern_to_target[pattern.idx()] = false;
        }
        scratch.ready_trips.fill(2);
        scratch.arrival_trips.fill(1);
        let tt = &*self.timetable;
        let mut reached_patterns = Vec::new();
        // The position of a pattern stop in the search's scan order.
        let scan_position = |pattern: PatternIdx, position: u32| {
            direction.scan_order(tt.patterns[pattern.idx()].num_stops(), position as usize) as u32
        };
        let mut mark_reach = |stop: StopIdx, scratch: &mut Scratch| {
            scratch.arrival_trips[stop.idx()] = 0;
            for at_stop in tt.patterns_at_stop(stop) {
                let reach = &mut scratch.pattern_reach[at_stop.pattern.idx()];
                if *reach == 0 {
                    reached_patterns.push(at_stop.pattern);
                }
                *reach = (*reach).max(scan_position(at_stop.pattern, at_stop.position));
            }
        };
        for index in 0..scratch.egress_list.len() {
            let target = scratch.egress_list[index];
            scratch.ready_trips[target.idx()] = 0;
        }
        // The target stops and the stops walking to one.
        for index in 0..scratch.vehicle_egress_list.len() {
            mark_reach(scratch.vehicle_egress_list[index], scratch);
        }
        for pattern in reached_patterns {
            if scratch.pattern_to_target[pattern.idx()] {
                continue;
            }
            scratch.pattern_to_target[pattern.idx()] = true;
            scratch.pattern_to_target_list.push(pattern);
            let reach = std::mem::take(&mut scratch.pattern_reach[pattern.idx()]) as usize;
            let stops = tt.pattern_stops(pattern);
            let before = match direction {
                Direction::Forward => &stops[..reach],
                Direction::Backward => &stops[stops.len() - reach..],
            };
            for &stop in before {
                let trips = &mut scratch.ready_trips[stop.idx()];
                *trips = (*trips).min(1);
            }
        }
    }

    /// Round `round` starts from the target of `round - 1` (at most `k` trips includes fewer;
    /// stop labels are carried as they are set, see [`Scratch::propagate`]). Round 0's walk
    /// labels (the seeds) are never carried: a journey rides at least one vehicle, so a later
    /// walk into a stop the origin walks to must stay possible.
    fn carry_labels(&self, round: usize, scratch: &mut Scratch) {
        let previous_target = scratch.target[round - 1];
        let target = &mut scratch.target[round];
        if previous_target.key < target.key {
            *target = TargetLabel { improved: false, ..previous_target };
        }
    }

    fn queue_patterns(
        &self,
        view: &View<'_>,
        rules: &Rules<'_>,
        round: usize,
        scratch: &mut Scratch,
    ) {
        for position in 0..scratch.marked_previous_list.len() {
            let stop = scratch.marked_previous_list[position];
            // The stops a few places on are scattered over the stop tables: start loading what
            // their turn reads (in two steps: their patterns' place is known once the offsets
            // are in), so that the loads overlap this stop's work instead of following it.
            if let Some(&ahead) = scratch.marked_previous_list.get(position + 8) {
                hint::prefetch(&view.stop_pattern_offsets[ahead.idx()]);
                hint::prefetch(&scratch.labels[scratch.flat(round - 1, ahead)]);
                hint::prefetch(&scratch.lower_bound[ahead.idx()]);
            }
            if let Some(&ahead) = scratch.marked_previous_list.get(position + 4) {
                let start = view.stop_pattern_offsets[ahead.idx()] as usize;
                if let Some(at_stop) = view.patterns_at_stop.get(start) {
                    hint::prefetch(at_stop);
                }
            }
            // A stop the bound rules out (the target improved since it was marked) starts
            // no scan; boarding there would be skipped anyway.
            let flat = scratch.flat(round - 1, stop);
            let labels = scratch.labels[flat];
            let earliest = labels.transit.min(labels.walk);
            let needed = scratch.ready_trips[stop.idx()].saturating_sub(1);
            if earliest.saturating_add(self.lower_bound(scratch, stop))
                >= scratch.threshold(round, needed)
            {
                continue;
            }
            for at_stop in view.patterns_at_stop(stop) {
                let pattern = at_stop.pattern;
                if let Some(allowed) = rules.allowed_patterns
                    && !allowed[pattern.idx()]
                {
                    continue;
                }
                let num_stops = view.patterns[pattern.idx()].num_stops();
                let scan_position =
                    rules.direction.scan_order(num_stops, at_stop.position as usize) as u32;
                let start = &mut scratch.pattern_start[pattern.idx()];
                let last = &mut scratch.pattern_last[pattern.idx()];
                if *start == INF {
                    scratch.queued_patterns.push(pattern);
                    *last = scan_position;
                }
                *start = (*start).min(scan_position);
                *last = (*last).max(scan_position);
            }
        }
    }

    /// The time a traveller with label `(round, stop)` can board, in key space, and whether it
    /// comes from the walk label.
    #[inline]
    fn ready_key(
        &self,
        view: &View<'_>,
        rules: &Rules<'_>,
        round: usize,
        stop: StopIdx,
        scratch: &Scratch,
    ) -> (u32, bool) {
        let flat = scratch.flat(round, stop);
        let Labels { transit, walk } = scratch.labels[flat];
        let via_transit =
            if transit == INF { INF } else { transit + view.min_transfer_secs[stop.idx()] };
        let slack = if round >= 1 { rules.slack_secs } else { 0 };
        if walk <= via_transit {
            (walk.saturating_add(slack), true)
        } else {
            (via_transit.saturating_add(slack), false)
        }
    }

    #[allow(clippy::too_many_lines)]
    fn scan_pattern(
        &self,
        view: &View<'_>,
        rules: &Rules<'_>,
        round: usize,
        pattern_idx: PatternIdx,
        boarding_positions: std::ops::RangeInclusive<usize>,
        scratch: &mut Scratch,
    ) {
        let pattern = &view.patterns[pattern_idx.idx()];
        let num_stops = pattern.num_stops();
        let stop_range = pattern.stops.start as usize..pattern.stops.end as usize;
        let stops = &view.pattern_stops[stop_range.clone()];
        let stop_rules = &view.pattern_stop_rules[stop_range];
        let stop_times: &[StopTime] = &view.stop_times[pattern.stop_times_start as usize..];
        let forward = rules.direction == Direction::Forward;
        let mut slots = [SlotTrips::default(); 3];
        for (slot, trips) in slots.iter_mut().enumerate() {
            if let Some(day) = rules.day_trips[slot] {
                let offset = rules.days.offset[slot];
                let ((running, departures, (earliest, latest)), offset) = if forward {
                    (day.block(pattern_idx, num_stops), offset)
                } else {
                    // A backward key is `MIRROR - (arrival + offset)`, that is the mirrored
                    // arrival plus this.
                    (
                        day.mirrored_block(&self.timetable, pattern_idx, num_stops),
                        MIRROR - MIRROR_DAY - offset,
                    )
                };
                *trips = SlotTrips { offset, running, departures, earliest, latest };
            }
        }
        // No slot's trips can matter: none leaves after the iteration starts (its earliest
        // label) or arrives before the round's target (a trip's arrivals come after its
        // first departure), for instance a weekend or night pattern in a morning search.
        // Skipping the scan outright saves walking its stops to the last boarding position.
        let start = scratch.iteration_start;
        let target = scratch.target[round].key;
        if slots.iter().all(|trips| {
            trips.running.is_empty()
                || trips.latest.saturating_add(trips.offset) < start
                || trips.earliest.saturating_add(trips.offset) >= target
        }) {
            return;
        }
        // Wheelchair searches: which of the pattern's trips are accessible.
        let accessible_trips = rules.wheelchair.then(|| {
            &self.trip_accessible[pattern.trips.start as usize..pattern.trips.end as usize]
        });
        let mut boarded: Option<Boarded> = None;
        let (start, last_boarding) = boarding_positions.into_inner();
        for scan_position in start..num_stops {
            if boarded.is_none() && scan_position > last_boarding {
                // Nothing ridden, and no stop ahead to board at.
                break;
            }
            let position = rules.direction.scan_order(num_stops, scan_position);
            let stop = stops[position];
            let stop_rule = stop_rules[position];
            if let Some(trip) = boarded {
                let time = stop_times[trip.stop_times_start + position];
                let can_alight = if forward { stop_rule.drop_off() } else { stop_rule.pickup() };
                if can_alight && (!rules.wheelchair || self.stop_accessible[stop.idx()]) {
                    let key = if forward {
                        time.arrival + trip.offset
                    } else {
                        MIRROR - (time.departure + trip.offset)
                    };
                    let flat = scratch.flat(round, stop);
                    if key < scratch.labels[flat].transit
                        && key.saturating_add(self.lower_bound(scratch, stop))
                            >= scratch.target[round].key
                    {
                        // Along one trip, time plus the (consistent) lower bound never
                        // decreases: no later stop of this trip can beat the target either.
                        boarded = None;
                    } else if key < scratch.labels[flat].transit
                        && (scratch.arrival_trips[stop.idx()] == 0
                            || key.saturating_add(self.lower_bound(scratch, stop))
                                < scratch.threshold(round, scratch.arrival_trips[stop.idx()]))
                    {
                        scratch.touch(stop);
                        scratch.labels[flat].transit = key;
                        Scratch::propagate(
                            &mut scratch.labels,
                            LabelKind::Transit,
                            scratch.num_stops,
                            flat,
                            round,
                            rules.max_trips,
                            key,
                        );
                        scratch.transit_parent[flat] = TransitParent {
                            pattern: pattern_idx.0,
                            trip_in_pattern: trip.trip_in_pattern,
                            board_position: trip.board_position,
                            alight_position: position as u16,
                            day_slot: trip.day_slot,
                            from_walk: trip.from_walk,
                        };
                        if !scratch.transit_improved[stop.idx()] {
                            scratch.transit_improved[stop.idx()] = true;
                            scratch.transit_improved_list.push(stop);
                        }
                        scratch.mark(stop);
                        let egress = scratch.vehicle_egress[stop.idx()];
                        if egress != INF {
                            let arrival = key.saturating_add(egress);
                            if arrival < scratch.target[round].key {
                                let final_walk = (egress < scratch.egress[stop.idx()])
                                    .then(|| scratch.final_walk[stop.idx()]);
                                scratch.target[round] = TargetLabel {
                                    key: arrival,
                                    stop,
                                    kind: LabelKind::Transit,
                                    final_walk,
                                    improved: true,
                                };
                            }
                        }
                    }
                }
            }
            if !scratch.marked_previous[stop.idx()] {
                continue;
            }
            let can_board = if forward { stop_rule.pickup() } else { stop_rule.drop_off() };
            if !can_board || (rules.wheelchair && !self.stop_accessible[stop.idx()]) {
                continue;
            }
            let (mut ready, mut from_walk) = self.ready_key(view, rules, round - 1, stop, scratch);
            // Rules naming trips or routes may apply here: which trips the traveller may board
            // depends on the vehicle left (see `rule_boarding`).
            let rule_sources = (round >= 2
                && self.rule_boarding_stops[rules.direction][stop.idx()])
            .then(|| rule_boarding::sources(&self.timetable, scratch, round - 1, stop))
            .flatten();
            if let Some(sources) = &rule_sources {
                ready = ready.min(rule_boarding::earliest_ready(sources, rules.slack_secs));
            }
            let needed = scratch.ready_trips[stop.idx()].saturating_sub(1);
            if ready.saturating_add(self.lower_bound(scratch, stop))
                >= scratch.threshold(round, needed)
            {
                continue;
            }
            let current_board_key = boarded.map_or(INF, |trip| {
                let time = stop_times[trip.stop_times_start + position];
                if forward {
                    time.departure + trip.offset
                } else {
                    MIRROR - (time.arrival + trip.offset)
                }
            });
            if ready > current_board_key {
                continue;
            }
            let current = boarded.map(|trip| (trip.day_slot, trip.running_index));
            let next = match &rule_sources {
                None => Self::next_trip(
                    &slots,
                    forward,
                    (stop_times, num_stops),
                    scan_position,
                    position,
                    ready,
                    current,
                    current_board_key,
                    accessible_trips,
                ),
                Some(sources) => rule_boarding::next_trip(
                    &self.timetable,
                    rules.direction,
                    sources,
                    &slots,
                    (stop, scan_position, pattern.trips.start),
                    rules.slack_secs,
                    current_board_key,
                    accessible_trips,
                )
                .map(|(day_slot, running_index, board_key, walked)| {
                    from_walk = walked;
                    (day_slot, running_index, board_key)
                }),
            };
            let Some((day_slot, running_index, board_key)) = next else {
                continue;
            };
            debug_assert!(board_key >= ready);
            let trip_in_pattern = slots[day_slot as usize].running[running_index as usize];
            if forward {
                let ride_slot = round * scratch.pattern_start.len() + pattern_idx.idx();
                let ride =
                    if rules.remember_rides { scratch.ridden[ride_slot] } else { Ride::NONE };
                // Trips of a pattern never overtake: a later trip of that day is no better.
                if ride.trip_in_pattern <= trip_in_pattern
                    && ride.day_slot == day_slot
                    && usize::from(ride.position) <= position
                {
                    // This trip or an earlier one of its day was ridden from here or before in
                    // this round (an earlier iteration): nothing to gain, and it beats the trip
                    // ridden now.
                    boarded = None;
                    continue;
                }
                if rules.remember_rides {
                    if ride.trip_in_pattern == u32::MAX {
                        scratch.ridden_list.push(ride_slot);
                    }
                    scratch.ridden[ride_slot] =
                        Ride { trip_in_pattern, position: position as u16, day_slot };
                }
            }
            boarded = Some(Boarded {
                trip_in_pattern,
                running_index,
                day_slot,
                board_position: position as u16,
                from_walk,
                stop_times_start: trip_in_pattern as usize * num_stops,
                offset: rules.days.offset[day_slot as usize],
            });
        }
    }

    /// The first trip (over the three service days' `slots`, in key space: forward the
    /// earliest departure, backward the latest arrival) the traveller ready at `ready` boards
    /// at `scan_position` (the pattern's `position`), if it is better than `better_than` (the
    /// trip ridden now, `current` = its slot and running index: only trips before it in its
    /// day's order can be better, so that day is searched below it, usually one comparison).
    /// `stop_times`: the pattern's stop times and stop count, to read the trip before the
    /// ridden one next to the ridden one's times, which the scan has just read.
    /// Returns `(day_slot, running_index, board_key)`.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    fn next_trip(
        slots: &[SlotTrips<'_>; 3],
        forward: bool,
        (stop_times, num_stops): (&[StopTime], usize),
        scan_position: usize,
        position: usize,
        ready: u32,
        current: Option<(u8, u32)>,
        better_than: u32,
        accessible_trips: Option<&[bool]>,
    ) -> Option<(u8, u32, u32)> {
        let mut best = None;
        let mut best_key = better_than;
        for (slot, trips) in slots.iter().enumerate() {
            let count = trips.running.len();
            let limit = match current {
                Some((current_slot, index)) if usize::from(current_slot) == slot => index as usize,
                _ => count,
            };
            let threshold = ready.saturating_sub(trips.offset);
            // The day's span rules most days out without reading its departures here.
            if limit == 0 || trips.latest < threshold || trips.earliest + trips.offset >= best_key {
                continue;
            }
            let departures =
                &trips.departures[scan_position * count..scan_position * count + limit];
            // Cheap exit before any search: no trip that day is late enough (each load here
            // is usually a cache miss, so the first one decides as much as it can). Riding a
            // later trip of this day, the trip before it is usually the pattern's trip just
            // before, whose stop times lie next to the ridden trip's (read by the scan anyway).
            let last = if limit < count {
                let time = stop_times[trips.running[limit - 1] as usize * num_stops + position];
                if forward { time.departure } else { MIRROR_DAY - time.arrival }
            } else {
                departures[limit - 1]
            };
            if last < threshold {
                continue;
            }
            let mut index = if limit < count {
                // Riding a later trip of this day: the answer is just below it, so gallop
                // down from there instead of searching the whole day.
                first_at_least(departures, threshold)
            } else {
                let first = departures[0];
                if first + trips.offset >= best_key {
                    continue;
                }
                if first >= threshold {
                    0
                } else {
                    departures.partition_point(|&departure| departure < threshold)
                }
            };
            while index < limit {
                let key = departures[index] + trips.offset;
                if key >= best_key {
                    break;
                }
                if accessible_trips
                    .is_none_or(|accessible| accessible[trips.running[index] as usize])
                {
                    best = Some((slot as u8, index as u32, key));
                    best_key = key;
                    break;
                }
                index += 1;
            }
        }
        best
    }

    fn relax_footpaths(
        &self,
        view: &View<'_>,
        rules: &Rules<'_>,
        round: usize,
        scratch: &mut Scratch,
    ) {
        let improved = std::mem::take(&mut scratch.transit_improved_list);
        let round_start = scratch.flat(round, StopIdx(0));
        for (index, &from) in improved.iter().enumerate() {
            // As in `queue_patterns`: the stop a few places on, loaded while this one walks.
            if let Some(&ahead) = improved.get(index + 4) {
                hint::prefetch(&scratch.labels[round_start + ahead.idx()]);
                hint::prefetch(&scratch.transit_parent[round_start + ahead.idx()]);
                hint::prefetch(&scratch.lower_bound[ahead.idx()]);
            }
            scratch.transit_improved[from.idx()] = false;
            let arrival = scratch.labels[round_start + from.idx()].transit;
            if rules.wheelchair && !self.stop_accessible[from.idx()] {
                continue;
            }
            // The target may have improved since this label was set; the bound is consistent
            // (a walking link is an edge of its graph), so no link from here can help then.
            if arrival.saturating_add(self.lower_bound(scratch, from))
                >= scratch.threshold(round, scratch.arrival_trips[from.idx()])
            {
                continue;
            }
            // Walks that only lead to boarding skip the links whose patterns are caught as
            // early with less walking, and (when no walking limit needs the distances) those
            // the vehicle that brought the traveller here serves as well by riding on; walks
            // that may end the journey (or, for a wheelchair user, need an accessible stop)
            // take every link.
            let (walk_links, slot) = if rules.wheelchair || scratch.arrival_trips[from.idx()] == 0 {
                (view.walk_links, from.idx())
            } else if let Some(alighting) = view.alighting_links
                && rules.max_walk_m >= view.walk_links.longest_m
            {
                let parent = scratch.transit_parent[round_start + from.idx()];
                let pattern = &view.patterns[parent.pattern as usize];
                (alighting, pattern.stops.start as usize + usize::from(parent.alight_position))
            } else {
                (view.boarding_links, from.idx())
            };
            let range = walk_links.range(slot);
            let first_link = range.start;
            if walk_links.packed.is_empty() {
                let links = walk_links.links[range].iter().copied();
                self.relax_links(
                    view,
                    rules,
                    round,
                    from,
                    arrival,
                    (walk_links, first_link),
                    links,
                    scratch,
                );
            } else {
                let links = walk_links.packed[range].iter().map(|&link| WalkLinks::unpack(link));
                self.relax_links(
                    view,
                    rules,
                    round,
                    from,
                    arrival,
                    (walk_links, first_link),
                    links,
                    scratch,
                );
            }
        }
        scratch.transit_improved_list = improved;
        scratch.transit_improved_list.clear();
    }

    /// Relaxes the walking links (`links`, the first at `first_link`) of `from`, reached by
    /// vehicle at `arrival` in `round`.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn relax_links(
        &self,
        view: &View<'_>,
        rules: &Rules<'_>,
        round: usize,
        from: StopIdx,
        arrival: u32,
        (walk_links, first_link): (&WalkLinks, usize),
        links: impl Iterator<Item = WalkLink>,
        scratch: &mut Scratch,
    ) {
        let round_start = scratch.flat(round, StopIdx(0));
        let distances_m = &walk_links.distances_m;
        let check_distance = rules.max_walk_m < walk_links.longest_m;
        let min_transfer_secs = view.min_transfer_secs;
        // Only this loop improves the round's target (walking to a target stop).
        let mut target_key = scratch.target[round].key;
        for (index, link) in links.enumerate() {
            let key = arrival + link.duration_secs;
            if key >= target_key {
                // Links are sorted by duration: the rest arrive no earlier.
                break;
            }
            if check_distance && distances_m[first_link + index] > rules.max_walk_m {
                continue;
            }
            let to = link.to;
            if rules.wheelchair && !self.stop_accessible[to.idx()] {
                continue;
            }
            let flat = round_start + to.idx();
            let labels = scratch.labels[flat];
            if key >= labels.walk
                || key >= labels.transit.saturating_add(min_transfer_secs[to.idx()])
                || key.saturating_add(self.lower_bound(scratch, to))
                    >= scratch.threshold(round, scratch.ready_trips[to.idx()])
            {
                continue;
            }
            scratch.touch(to);
            scratch.labels[flat].walk = key;
            Scratch::propagate(
                &mut scratch.labels,
                LabelKind::Walk,
                scratch.num_stops,
                flat,
                round,
                rules.max_trips,
                key,
            );
            scratch.walk_parent[flat] = WalkParent::Footpath {
                from,
                duration_secs: link.duration_secs,
                distance_m: distances_m[first_link + index],
            };
            scratch.mark(to);
            let egress = scratch.egress[to.idx()];
            if egress != INF {
                let arrival_at_target = key.saturating_add(egress);
                if arrival_at_target < target_key {
                    target_key = arrival_at_target;
                    scratch.target[round] = TargetLabel {
                        key: arrival_at_target,
                        stop: to,
                        kind: LabelKind::Walk,
                        final_walk: None,
                        improved: true,
                    };
                }
            }
        }
    }
}

/// The first index of `sorted` (ascending, its last element at least `threshold`) holding at
/// least `threshold`, searched from the end: exponential steps down, then a binary search.
#[inline]
fn first_at_least(sorted: &[u32], threshold: u32) -> usize {
    debug_assert!(sorted.last().is_some_and(|&last| last >= threshold));
    // `sorted[high] >= threshold` throughout; the answer is in `low..=high`.
    let mut high = sorted.len() - 1;
    let mut step = 1;
    let low = loop {
        if high < step {
            break 0;
        }
        let probe = high - step;
        if sorted[probe] < threshold {
            break probe + 1;
        }
        high = probe;
        step *= 2;
    };
    low + sorted[low..high].partition_point(|&value| value < threshold)
}

#[allow(unsafe_code)]
pub(super) mod hint {
    //! The one place the search talks to the processor directly: cache prefetches.

    /// Asks the processor to start loading the cache line holding `value`, so that a read of it
    /// a little later (after other work) does not wait for memory. A hint only: nothing else
    /// happens where the processor has no such instruction.
    #[inline(always)]
    pub(in crate::engine) fn prefetch<T>(value: &T) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a prefetch reads nothing into the program and never faults (the address is
        // a live reference besides); SSE, which provides it, is part of every x86-64 target.
        unsafe {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(value).cast());
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn footpath(to: u32, duration_secs: u32) -> Footpath {
        Footpath { to: StopIdx(to), duration_secs, distance_m: duration_secs }
    }

    fn links_of(walk_links: &WalkLinks, stop: u32) -> Vec<(u32, u32)> {
        let range = walk_links.range(stop as usize);
        if walk_links.packed.is_empty() {
            walk_links.links[range].iter().map(|link| (link.to.0, link.duration_secs)).collect()
        } else {
            walk_links.packed[range]
                .iter()
                .map(|&link| WalkLinks::unpack(link))
                .map(|link| (link.to.0, link.duration_secs))
                .collect()
        }
    }

    #[test]
    fn walking_links_read_back_the_same_packed_or_not() {
        let offsets = [0, 2, 3];
        let short = [footpath(1, 60), footpath((1 << 20) - 1, 4095), footpath(0, 900)];
        let packed = WalkLinks::build(&offsets, &short);
        assert!(!packed.packed.is_empty(), "short links and small stop numbers pack");
        assert_eq!(links_of(&packed, 0), [(1, 60), ((1 << 20) - 1, 4095)]);
        assert_eq!(links_of(&packed, 1), [(0, 900)]);
        // A link too long (or a stop number too large) to pack keeps all links at 8 bytes.
        for long in [
            [footpath(1, 60), footpath(2, 4096), footpath(0, 900)],
            [footpath(1, 60), footpath(1 << 20, 120), footpath(0, 900)],
        ] {
            let wide = WalkLinks::build(&offsets, &long);
            assert!(wide.packed.is_empty());
            let expected: Vec<(u32, u32)> =
                long[..2].iter().map(|link| (link.to.0, link.duration_secs)).collect();
            assert_eq!(links_of(&wide, 0), expected);
        }
    }

    #[test]
    fn galloping_search_finds_the_first_late_enough_value() {
        let sorted = [10, 20, 20, 30, 40, 50, 60, 70, 80, 90];
        for threshold in 0..=90 {
            let expected = sorted.partition_point(|&value| value < threshold);
            assert_eq!(first_at_least(&sorted, threshold), expected, "threshold {threshold}");
        }
    }
}
