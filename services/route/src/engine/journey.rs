//! Journeys as the engine returns them (indices and Unix times), what both algorithms build
//! them from (the walks at either end), and the rules every journey obeys (Pareto filter,
//! transfers.txt times on walks). Depends on nothing else in the engine.

use norikae_timetable::{PatternIdx, StopIdx, Timetable, TripIdx};

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
        /// A trip a realtime feed added, ridden as a trip of `pattern` (then `trip` is the
        /// pattern's first trip, which gives the route and stops; the id and the times are
        /// the added trip's).
        added: Option<std::sync::Arc<norikae_realtime::AddedTrip>>,
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
