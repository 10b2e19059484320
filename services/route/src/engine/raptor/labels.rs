//! The memory of a RAPTOR search: the labels of every stop in every round and their
//! parents, the marked stops, the queued patterns, the target's label per round, and what
//! the planning layer sets per query (target stops and walks to them, lower bounds). Allocated
//! once per thread and timetable, cleaned only where a query wrote.

use norikae_timetable::{PatternIdx, StopIdx, Timetable};

use crate::engine::types::INF;

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
pub(super) struct Labels {
    pub(super) transit: u32,
    pub(super) walk: u32,
}

impl Labels {
    pub(super) const NONE: Self = Self { transit: INF, walk: INF };
}

/// A trip a forward scan has ridden in some round of a query, from `position` on; its
/// alightings stay in the labels (they only improve), so boarding it again there or later
/// changes nothing (a range query's earlier departures often catch the same trip).
#[derive(Clone, Copy, Debug)]
pub(super) struct Ride {
    pub(super) trip_in_pattern: u32,
    pub(super) position: u16,
    pub(super) day_slot: u8,
}

impl Ride {
    pub(super) const NONE: Self = Self { trip_in_pattern: u32::MAX, position: 0, day_slot: 0 };
}

/// The labels of a RAPTOR search and what the rounds keep beside them; reused from query to
/// query (a query writes only what it touches and cleans only that). Part of the engine's
/// [`crate::engine::Scratch`].
pub(crate) struct RaptorScratch {
    pub(super) num_stops: usize,
    pub(super) rounds: usize,
    /// Round-major: round `k`'s labels of stop `s` at `k * num_stops + s`.
    pub(super) labels: Vec<Labels>,
    pub(super) transit_parent: Vec<TransitParent>,
    pub(super) walk_parent: Vec<WalkParent>,
    /// Stops with a label in some round, to clean up.
    pub(super) touched: Vec<StopIdx>,
    pub(super) stop_touched: Vec<bool>,
    pub(super) marked_previous: Vec<bool>,
    pub(super) marked_previous_list: Vec<StopIdx>,
    pub(super) marked_current: Vec<bool>,
    pub(super) marked_current_list: Vec<StopIdx>,
    pub(super) transit_improved: Vec<bool>,
    pub(super) transit_improved_list: Vec<StopIdx>,
    /// First position (in scan order) to scan each queued pattern from; `INF`: not queued.
    pub(super) pattern_start: Vec<u32>,
    /// Last position (in scan order) of each queued pattern where boarding may happen: once
    /// no trip is ridden past it, the scan stops.
    pub(super) pattern_last: Vec<u32>,
    /// Per round and pattern (`round * patterns + pattern`), the last trip boarded in a
    /// forward scan of this query, and the slots written, to clean up.
    pub(super) ridden: Vec<Ride>,
    pub(super) ridden_list: Vec<usize>,
    pub(super) queued_patterns: Vec<PatternIdx>,
    /// Time from the stop to the target (`INF`: not a target stop).
    pub(crate) egress: Vec<u32>,
    pub(crate) egress_list: Vec<StopIdx>,
    /// Time to the target after arriving at the stop by vehicle: a target stop's own, or a
    /// walking link to a target stop and that stop's (`INF`: neither). A scan that improves
    /// such a stop improves the round's target at once, instead of the walk at the end of the
    /// round, so that the target prunes the round's other scans.
    pub(super) vehicle_egress: Vec<u32>,
    pub(super) vehicle_egress_list: Vec<StopIdx>,
    /// The walk behind `vehicle_egress` where it is shorter than the stop's own egress.
    pub(super) final_walk: Vec<FinalWalk>,
    pub(crate) target: Vec<TargetLabel>,
    /// Lower bound on the time from each stop to the target (backward: from the target, where
    /// the traveller starts, to each stop), for every stop (all 0 without landmarks); set per
    /// query by the planning layer; Trip-Based searches read them too.
    pub(crate) lower_bound: Vec<u32>,
    /// Fewest further trips to the target from a traveller ready to board at each stop
    /// (0: a target stop; 1: a pattern from there reaches the target or a stop walking to
    /// it; 2: more), over-estimated never: 0 everywhere when unknown.
    pub(super) ready_trips: Vec<u8>,
    /// The same after arriving at each stop by vehicle, when a walk may follow (0: a target
    /// stop or one walking to it; 1: more).
    pub(super) arrival_trips: Vec<u8>,
    /// Per pattern, the last position of a stop with `arrival_trips` 0: the stops before it
    /// reach the target with one trip (scratch of [`super::rounds::classify_stops`], all 0 between).
    pub(super) pattern_reach: Vec<u32>,
    /// Patterns that reach the target with one trip (through a stop with `arrival_trips` 0):
    /// a round scans them first, so that the round's best arrival at the target is known
    /// before the other scans, which it prunes.
    pub(super) pattern_to_target: Vec<bool>,
    pub(super) pattern_to_target_list: Vec<PatternIdx>,
    /// Queued patterns of the round that do not reach the target, scanned after the rest.
    pub(super) queued_later: Vec<PatternIdx>,
    /// The best arrival at the target within the next `m` rounds (`further[m]`, `further[0]`
    /// = none), or 0 when those rounds exceed the trip limit; set at each round's start.
    pub(super) further: [u32; 3],
    /// The earliest key of the iteration's seeds: no label of the iteration is earlier.
    pub(super) iteration_start: u32,
}

impl RaptorScratch {
    pub(crate) fn new(timetable: &Timetable) -> Self {
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
            lower_bound: vec![0; num_stops],
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
    pub(crate) fn fits(&self, timetable: &Timetable) -> bool {
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

    pub(super) fn clear_marks(&mut self) {
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
    /// `walk` first if any (see [`RaptorScratch::vehicle_egress`]).
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
    pub(super) fn threshold(&self, round: usize, trips: u8) -> u32 {
        self.target[round].key.min(self.further[usize::from(trips)])
    }

    #[inline]
    pub(super) fn flat(&self, round: usize, stop: StopIdx) -> usize {
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
    pub(super) fn touch(&mut self, stop: StopIdx) {
        if !self.stop_touched[stop.idx()] {
            self.stop_touched[stop.idx()] = true;
            self.touched.push(stop);
        }
    }

    /// Keeps labels monotone over rounds (at most `k` trips includes fewer): a label set in
    /// `round` also holds for every later round it beats, so round `k`'s label is the best
    /// with at most `k` trips and prunes worse labels of later rounds (local pruning).
    #[inline]
    pub(super) fn propagate(
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

    pub(super) fn mark(&mut self, stop: StopIdx) {
        if !self.marked_current[stop.idx()] {
            self.marked_current[stop.idx()] = true;
            self.marked_current_list.push(stop);
        }
    }
}

/// A lower bound on the time from `stop` to the target (0 when bounds are off).
#[inline]
pub(super) fn lower_bound(scratch: &RaptorScratch, stop: StopIdx) -> u32 {
    scratch.lower_bound[stop.idx()]
}
