//! Journeys as the engine returns them (indices and Unix times), rebuilt from RAPTOR labels.

use norikae_timetable::{PatternIdx, StopIdx, Timetable, TripIdx};

use super::Engine;
use super::raptor::{Direction, INF, LabelKind, MIRROR, Scratch, WalkParent};

/// One end of a walk: a stop, or the coordinates the query gave.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WalkEnd {
    Stop(StopIdx),
    Place { lat: f64, lon: f64 },
}

/// A leg of a journey. Times are Unix seconds.
#[derive(Clone, Debug, PartialEq)]
pub enum Leg {
    Transit {
        trip: TripIdx,
        pattern: PatternIdx,
        /// Positions in the pattern where the traveller boards and gets off.
        board_position: usize,
        alight_position: usize,
        /// Service day (day number in the timetable) the trip runs on.
        service_day: u32,
        departure: i64,
        arrival: i64,
    },
    Walk {
        from: WalkEnd,
        to: WalkEnd,
        departure: i64,
        arrival: i64,
        duration_secs: u32,
        distance_m: u32,
    },
}

impl Leg {
    pub fn departure(&self) -> i64 {
        match self {
            Self::Transit { departure, .. } | Self::Walk { departure, .. } => *departure,
        }
    }

    pub fn arrival(&self) -> i64 {
        match self {
            Self::Transit { arrival, .. } | Self::Walk { arrival, .. } => *arrival,
        }
    }

    pub fn is_transit(&self) -> bool {
        matches!(self, Self::Transit { .. })
    }
}

/// A journey: legs in travel order. A journey may have no vehicle at all: one walk, where
/// walking is the answer (then `transfers` is 0 too; [`Journey::vehicles`] tells it apart).
#[derive(Clone, Debug, PartialEq)]
pub struct Journey {
    pub legs: Vec<Leg>,
    pub departure: i64,
    pub arrival: i64,
    /// Changes between vehicles: one fewer than the vehicles, 0 without any.
    pub transfers: u32,
}

impl Journey {
    /// Builds a journey from legs in travel order, timing the walks: a walk starts when the
    /// leg before it ends, and the first walk ends when the first vehicle leaves.
    pub(crate) fn from_legs(mut legs: Vec<Leg>) -> Option<Self> {
        let first_transit = legs.iter().position(Leg::is_transit)?;
        let mut clock = legs[first_transit].departure();
        for leg in legs[..first_transit].iter_mut().rev() {
            if let Leg::Walk { departure, arrival, duration_secs, .. } = leg {
                *arrival = clock;
                *departure = clock - i64::from(*duration_secs);
                clock = *departure;
            }
        }
        let mut clock = legs[first_transit].arrival();
        for leg in &mut legs[first_transit + 1..] {
            match leg {
                Leg::Walk { departure, arrival, duration_secs, .. } => {
                    *departure = clock;
                    *arrival = clock + i64::from(*duration_secs);
                    clock = *arrival;
                }
                Leg::Transit { arrival, .. } => clock = *arrival,
            }
        }
        let transits = legs.iter().filter(|leg| leg.is_transit()).count() as u32;
        let departure = legs.first()?.departure();
        let arrival = legs.last()?.arrival();
        Some(Self { legs, departure, arrival, transfers: transits - 1 })
    }

    /// Walking from `from` to `to`, leaving at `departure`: the journey without a vehicle.
    pub(crate) fn walk_only(walk: &DirectWalk, departure: i64) -> Self {
        let arrival = departure + i64::from(walk.duration_secs);
        let leg = Leg::Walk {
            from: walk.from,
            to: walk.to,
            departure,
            arrival,
            duration_secs: walk.duration_secs,
            distance_m: walk.distance_m,
        };
        Self { legs: vec![leg], departure, arrival, transfers: 0 }
    }

    /// How many vehicles the journey rides (0: it walks all the way).
    pub fn vehicles(&self) -> u32 {
        self.legs.iter().filter(|leg| leg.is_transit()).count() as u32
    }

    /// Whether `self` is at least as good as `other` on every criterion (departure later or
    /// equal, arrival earlier or equal, vehicles fewer or equal).
    pub fn weakly_dominates(&self, other: &Self) -> bool {
        self.departure >= other.departure
            && self.arrival <= other.arrival
            && self.vehicles() <= other.vehicles()
    }

    pub fn duration_secs(&self) -> i64 {
        self.arrival - self.departure
    }
}

/// Gives each walk between two vehicles the time a transfers.txt rule naming their trips sets
/// for that change (the rule replaces the walking link's time, or joins stops no link joins),
/// so that the journey's times add up as the search counted them.
pub(crate) fn apply_trip_rules_to_walks(timetable: &Timetable, legs: &mut [Leg]) {
    if timetable.transfer_rules.is_empty() {
        return;
    }
    for index in 1..legs.len().saturating_sub(1) {
        let (Leg::Transit { trip: from_trip, .. }, Leg::Transit { trip: to_trip, .. }) =
            (&legs[index - 1], &legs[index + 1])
        else {
            continue;
        };
        let (from_trip, to_trip) = (*from_trip, *to_trip);
        if let Leg::Walk { from: WalkEnd::Stop(from), to: WalkEnd::Stop(to), duration_secs, .. } =
            &mut legs[index]
            && let Some(Some(secs)) = timetable.trip_transfer_rule(from_trip, *from, to_trip, *to)
        {
            *duration_secs = secs;
        }
    }
}

/// Keeps the journeys no other journey dominates (one of each set of equal ones), sorted by
/// departure, then arrival, then vehicles.
pub(crate) fn pareto_filter(journeys: &mut Vec<Journey>) {
    journeys.sort_by_key(|journey| (journey.departure, journey.arrival, journey.vehicles()));
    journeys.dedup_by(|later, earlier| {
        later.departure == earlier.departure
            && later.arrival == earlier.arrival
            && later.vehicles() == earlier.vehicles()
    });
    let candidates = std::mem::take(journeys);
    for (index, journey) in candidates.iter().enumerate() {
        let dominated = candidates
            .iter()
            .enumerate()
            .any(|(other_index, other)| other_index != index && other.weakly_dominates(journey));
        if !dominated {
            journeys.push(journey.clone());
        }
    }
}

/// The walk from origin to destination without a vehicle (see [`Journey::walk_only`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct DirectWalk {
    pub from: WalkEnd,
    pub to: WalkEnd,
    pub duration_secs: u32,
    pub distance_m: u32,
}

/// The walk that seeded a stop (access from the origin or, backward, to the destination).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SeedWalk {
    pub stop: StopIdx,
    pub place: WalkEnd,
    pub duration_secs: u32,
    pub distance_m: u32,
}

/// What the labels know about one round's journey to the target.
pub(crate) struct Reconstruction<'a> {
    pub direction: Direction,
    pub base_unix: i64,
    pub day_offsets: [u32; 3],
    pub days: [Option<u32>; 3],
    pub seeds: &'a [SeedWalk],
    /// Walks between a target stop and the target place (coordinates), by stop.
    pub target_walks: &'a [SeedWalk],
}

impl Engine {
    /// Rebuilds the journey that reaches the target in `round`.
    pub(crate) fn reconstruct(
        &self,
        scratch: &Scratch,
        round: usize,
        context: &Reconstruction<'_>,
    ) -> Option<Journey> {
        let tt = &*self.timetable;
        let target = scratch.target[round];
        if target.key == INF {
            return None;
        }
        // Legs in search order (forward: from the destination back; backward: from the origin on).
        let mut legs = Vec::new();
        let target_stop = target.final_walk.map_or(target.stop, |walk| walk.to);
        if let Some(walk) = context.target_walks.iter().find(|walk| walk.stop == target_stop)
            && walk.duration_secs > 0
        {
            legs.push(walk_leg(
                WalkEnd::Stop(walk.stop),
                walk.place,
                walk.duration_secs,
                walk.distance_m,
                context.direction,
            ));
        }
        if let Some(walk) = target.final_walk {
            legs.push(walk_leg(
                WalkEnd::Stop(target.stop),
                WalkEnd::Stop(walk.to),
                walk.duration_secs,
                walk.distance_m,
                context.direction,
            ));
        }
        let (mut round, mut stop, mut kind) = (round, target.stop, target.kind);
        loop {
            let value = scratch.label(round, stop, kind);
            if value == INF {
                return None;
            }
            // The lowest round with the same label set it (round 0's walk labels are seeds,
            // which later rounds do not inherit).
            let lowest = if kind == LabelKind::Walk && round > 0 { 1 } else { 0 };
            while round > lowest && scratch.label(round - 1, stop, kind) == value {
                round -= 1;
            }
            match kind {
                LabelKind::Transit => {
                    if round == 0 {
                        return None;
                    }
                    let parent = scratch.transit_parent(round, stop);
                    let pattern = PatternIdx(parent.pattern);
                    let pattern_data = &tt.patterns[pattern.idx()];
                    let trip = TripIdx(pattern_data.trips.start + parent.trip_in_pattern);
                    let times = tt.trip_stop_times(pattern, parent.trip_in_pattern as usize);
                    let slot = parent.day_slot as usize;
                    let offset = i64::from(context.day_offsets[slot]);
                    let (board_position, alight_position) = match context.direction {
                        Direction::Forward => {
                            (parent.board_position as usize, parent.alight_position as usize)
                        }
                        Direction::Backward => {
                            (parent.alight_position as usize, parent.board_position as usize)
                        }
                    };
                    legs.push(Leg::Transit {
                        trip,
                        pattern,
                        board_position,
                        alight_position,
                        service_day: context.days[slot]?,
                        departure: context.base_unix
                            + offset
                            + i64::from(times[board_position].departure),
                        arrival: context.base_unix
                            + offset
                            + i64::from(times[alight_position].arrival),
                    });
                    let stops = tt.pattern_stops(pattern);
                    stop = stops[parent.board_position as usize];
                    round -= 1;
                    kind = if parent.from_walk { LabelKind::Walk } else { LabelKind::Transit };
                }
                LabelKind::Walk => match scratch.walk_parent(round, stop) {
                    WalkParent::Seed => {
                        if round != 0 {
                            return None;
                        }
                        if let Some(seed) = context.seeds.iter().find(|seed| seed.stop == stop)
                            && seed.duration_secs > 0
                        {
                            legs.push(walk_leg(
                                WalkEnd::Stop(stop),
                                seed.place,
                                seed.duration_secs,
                                seed.distance_m,
                                context.direction.reversed(),
                            ));
                        }
                        break;
                    }
                    WalkParent::Footpath { from, duration_secs, distance_m } => {
                        legs.push(walk_leg(
                            WalkEnd::Stop(stop),
                            WalkEnd::Stop(from),
                            duration_secs,
                            distance_m,
                            context.direction.reversed(),
                        ));
                        stop = from;
                        kind = LabelKind::Transit;
                    }
                },
            }
        }
        if context.direction == Direction::Forward {
            legs.reverse();
        }
        apply_trip_rules_to_walks(tt, &mut legs);
        Journey::from_legs(legs)
    }
}

/// A walk between `near` (the stop the search holds) and `far`; `outward` is the direction in
/// which the traveller walks from `near` to `far` (forward) or from `far` to `near` (backward).
fn walk_leg(
    near: WalkEnd,
    far: WalkEnd,
    duration_secs: u32,
    distance_m: u32,
    outward: Direction,
) -> Leg {
    let (from, to) = match outward {
        Direction::Forward => (near, far),
        Direction::Backward => (far, near),
    };
    Leg::Walk { from, to, departure: 0, arrival: 0, duration_secs, distance_m }
}

impl Direction {
    pub(crate) fn reversed(self) -> Self {
        match self {
            Self::Forward => Self::Backward,
            Self::Backward => Self::Forward,
        }
    }

    /// A time (seconds after the start of slot 0) as a key of this direction.
    pub(crate) fn key(self, time: u32) -> u32 {
        match self {
            Self::Forward => time,
            Self::Backward => MIRROR - time,
        }
    }
}
