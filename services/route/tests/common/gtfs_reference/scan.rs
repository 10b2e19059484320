//! Earliest arrival per number of vehicles: one connection scan per vehicle, each boarding
//! from what the scan before reached.
//!
//! A change at a pair of stops no trip- or route-specific rule names takes the same time
//! whatever the trips, so it is relaxed from the stop's best arrival at once. At a pair such
//! a rule names, every trip that arrived there is kept, and a boarding looks at each of
//! them with the rule that decides that pair of trips.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use norikae_timetable::{StationIdx, StopIdx};

use super::GtfsReference;

/// "Not reached".
const NEVER: i64 = i64::MAX;

/// One hop of one trip on one service day.
#[derive(Clone, Copy, Debug)]
struct Connection {
    departure: i64,
    arrival: i64,
    /// The trip run (index into [`ReferenceDay::runs`]).
    run: u32,
    /// Position of the departure stop in the trip (the arrival stop is the next one).
    position: u32,
}

/// A vehicle left at a stop a trip- or route-specific rule names.
#[derive(Clone, Copy, Debug)]
struct Alighting {
    run: u32,
    position: usize,
    arrival: i64,
    /// The scan (number of vehicles) that reached it.
    round: usize,
}

/// Earliest arrivals of one query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArrivalsByVehicles {
    /// On foot alone: one walking link from a stop of the origin to one of the destination.
    pub walk_only: Option<i64>,
    /// Element `k - 1`: with at least one and at most `k` vehicles.
    pub with_vehicles: Vec<Option<i64>>,
}

impl ArrivalsByVehicles {
    /// Element `k`: with at most `k` vehicles (0: on foot alone).
    pub fn combined(&self) -> Vec<Option<i64>> {
        let mut combined = vec![self.walk_only];
        for vehicles in &self.with_vehicles {
            combined.push(match (self.walk_only, *vehicles) {
                (Some(walk), Some(ride)) => Some(walk.min(ride)),
                (walk, ride) => walk.or(ride),
            });
        }
        combined
    }
}

/// The trips of the service days before, of and after one date.
pub struct ReferenceDay<'a> {
    reference: &'a GtfsReference,
    pub date: NaiveDate,
    /// The trip (index into the reference's trips) of each trip run: a trip on one of the
    /// three service days.
    runs: Vec<usize>,
    /// Sorted by departure (then arrival, then position in the trip).
    connections: Vec<Connection>,
}

impl<'a> ReferenceDay<'a> {
    pub(super) fn new(reference: &'a GtfsReference, date: NaiveDate) -> Self {
        let mut runs = Vec::new();
        let mut connections = Vec::new();
        let dates = [date.pred_opt().expect("a date"), date, date.succ_opt().expect("a date")];
        for day in dates {
            let start = reference.day_start(day);
            for (trip_position, trip) in reference.trips.iter().enumerate() {
                if !reference.trip_runs(trip, day) {
                    continue;
                }
                let run = runs.len() as u32;
                runs.push(trip_position);
                for position in 0..trip.stops.len() - 1 {
                    connections.push(Connection {
                        departure: start + i64::from(trip.departures[position]),
                        arrival: start + i64::from(trip.arrivals[position + 1]),
                        run,
                        position: position as u32,
                    });
                }
            }
        }
        connections.sort_unstable_by_key(|connection| {
            (connection.departure, connection.arrival, connection.position, connection.run)
        });
        Self { reference, date, runs, connections }
    }

    pub fn reference(&self) -> &'a GtfsReference {
        self.reference
    }

    /// Earliest arrival at a stop of `to` leaving a stop of `from` at or after `at` (Unix
    /// time), with at most `k` vehicles for `k` in `0..=max_vehicles` (element `k`).
    pub fn earliest_arrival_by_vehicles(
        &self,
        from: StationIdx,
        to: StationIdx,
        at: i64,
        max_vehicles: usize,
    ) -> Vec<Option<i64>> {
        self.arrivals_by_vehicles(from, to, at, max_vehicles).combined()
    }

    /// [`ReferenceDay::earliest_arrival_by_vehicles`], with walking alone kept apart.
    pub fn arrivals_by_vehicles(
        &self,
        from: StationIdx,
        to: StationIdx,
        at: i64,
        max_vehicles: usize,
    ) -> ArrivalsByVehicles {
        let reference = self.reference;
        let tt = &**reference.timetable();
        let stop_count = tt.stops.len();
        let mut ready = self.leaving_on_foot(from, at);
        let to_destination = self.walks_to(to);
        let walk_only = tt.stations[from.idx()]
            .stops
            .iter()
            .filter(|stop| to_destination[stop.idx()] != NEVER)
            .map(|stop| at + to_destination[stop.idx()])
            .min();

        let first = self.connections.partition_point(|connection| connection.departure < at);
        let mut arrival = vec![NEVER; stop_count];
        let mut boarded_in_round = vec![0usize; self.runs.len()];
        let mut alightings: HashMap<StopIdx, Vec<Alighting>> = HashMap::new();
        let mut recorded: HashSet<(u32, usize)> = HashSet::new();
        let mut best = NEVER;
        let mut with_vehicles = Vec::with_capacity(max_vehicles);
        for round in 1..=max_vehicles {
            let mut next_ready = ready.clone();
            let mut improved = false;
            for connection in &self.connections[first..] {
                if connection.departure >= best {
                    break;
                }
                let trip = &reference.trips[self.runs[connection.run as usize]];
                let position = connection.position as usize;
                if boarded_in_round[connection.run as usize] != round {
                    if !trip.pickup[position] {
                        continue;
                    }
                    let stop = trip.stops[position];
                    let mut ready_here = ready[stop.idx()];
                    if ready_here > connection.departure {
                        ready_here = ready_here.min(self.ready_by_rules(
                            &alightings,
                            round,
                            (connection.run, position),
                            connection.departure,
                        ));
                    }
                    if ready_here > connection.departure {
                        continue;
                    }
                    boarded_in_round[connection.run as usize] = round;
                }
                let next = position + 1;
                if !trip.drop_off[next] {
                    continue;
                }
                let stop = trip.stops[next];
                if reference.rules.is_special_source(stop)
                    && recorded.insert((connection.run, next))
                {
                    alightings.entry(stop).or_default().push(Alighting {
                        run: connection.run,
                        position: next,
                        arrival: connection.arrival,
                        round,
                    });
                    improved = true;
                }
                if connection.arrival < arrival[stop.idx()] {
                    arrival[stop.idx()] = connection.arrival;
                    improved = true;
                    for &(change_to, secs) in &reference.generic_changes[stop.idx()] {
                        let reached = connection.arrival + i64::from(secs);
                        next_ready[change_to.idx()] = next_ready[change_to.idx()].min(reached);
                    }
                    if to_destination[stop.idx()] != NEVER {
                        best = best.min(connection.arrival + to_destination[stop.idx()]);
                    }
                }
            }
            with_vehicles.push((best != NEVER).then_some(best));
            ready = next_ready;
            if !improved {
                // The next scans would board from the same labels: nothing changes.
                with_vehicles.resize(max_vehicles, (best != NEVER).then_some(best));
                break;
            }
        }
        ArrivalsByVehicles { walk_only, with_vehicles }
    }

    /// When each stop can be left without a vehicle: the stops of `from` at `at`, and one
    /// walking link from one of them.
    fn leaving_on_foot(&self, from: StationIdx, at: i64) -> Vec<i64> {
        let reference = self.reference;
        let tt = &**reference.timetable();
        let mut ready = vec![NEVER; tt.stops.len()];
        for &stop in &tt.stations[from.idx()].stops {
            ready[stop.idx()] = at;
        }
        for &stop in &tt.stations[from.idx()].stops {
            for &(next, secs) in reference.links.from(stop) {
                ready[next.idx()] = ready[next.idx()].min(at + i64::from(secs));
            }
        }
        ready
    }

    /// Seconds from each stop to the station `to` on foot: none at its stops, else one
    /// walking link (`NEVER`: no way).
    fn walks_to(&self, to: StationIdx) -> Vec<i64> {
        let reference = self.reference;
        let tt = &**reference.timetable();
        let mut walks = vec![NEVER; tt.stops.len()];
        for &stop in &tt.stations[to.idx()].stops {
            for &(previous, secs) in reference.links.arriving_at(stop) {
                walks[previous.idx()] = walks[previous.idx()].min(i64::from(secs));
            }
        }
        for &stop in &tt.stations[to.idx()].stops {
            walks[stop.idx()] = 0;
        }
        walks
    }

    /// When the traveller can board `boarding` (run, position) leaving at `departure` after
    /// a vehicle of an earlier round arrived at a stop whose change to here depends on the
    /// trips (`NEVER` when none allows it).
    fn ready_by_rules(
        &self,
        alightings: &HashMap<StopIdx, Vec<Alighting>>,
        round: usize,
        boarding: (u32, usize),
        departure: i64,
    ) -> i64 {
        let reference = self.reference;
        let boarded_trip = self.runs[boarding.0 as usize];
        let stop = reference.trips[boarded_trip].stops[boarding.1];
        let mut ready = NEVER;
        for source in reference.rules.special_sources_into(stop) {
            for alighting in alightings.get(source).into_iter().flatten() {
                if alighting.round >= round || alighting.arrival > departure {
                    continue;
                }
                let alighted_trip = self.runs[alighting.run as usize];
                let change = reference
                    .change_secs((alighted_trip, alighting.position), (boarded_trip, boarding.1));
                if let Some(secs) = change {
                    ready = ready.min(alighting.arrival + i64::from(secs));
                }
            }
        }
        ready
    }
}
