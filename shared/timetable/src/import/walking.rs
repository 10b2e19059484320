//! Walking links: a petgraph graph of links between stops (transfers.txt, plus stops within
//! the configured distance), closed transitively up to the maximum walking time, the per-stop
//! minimum transfer times, and the transfers.txt rules that name trips or routes.
//!
//! - A link between two stops takes `distance × 1.2 (detour) / speed`, but never less than
//!   `default_min_transfer_secs` (changing between two platforms takes time even when the
//!   feed gives them one position, as Fukuoka does).
//! - transfers.txt rules naming stops alone, between different stops, replace the computed
//!   time with `min_transfer_time` (one way, as the file says; 0 for a timed transfer, type 1);
//!   type 3 removes the link. Rules naming a station apply to its member stops; a rule from a
//!   stop (or station) to itself sets the minimum transfer time at that stop (or at each
//!   member, and between members), type 3 forbidding any change there. A rule naming the stop
//!   itself wins over one naming its station, whatever their order in the file.
//! - Rules naming trips or routes (`from_trip_id`, `to_route_id`, …) apply to changes between
//!   those only and win over the stop rules; they are kept as [`TransferRule`]s, ranked by
//!   the GTFS specificity levels, for the engines to look up per change. In-seat transfers
//!   (type 4) become 0 s changes from the last stop of one trip to the first of the next;
//!   type 5 ("not in-seat": an ordinary change) changes nothing and is only counted.
//! - The closure is a Dijkstra bounded by `max_walk_secs` from every stop.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::parse::{RawFeed, RawTransfer};
use crate::geo::distance_m;
use crate::model::{
    FORBIDDEN_TRANSFER_SECS, Footpath, LocationType, StopIdx, Timetable, TransferParty,
    TransferRule, TripIdx, WalkingSettings,
};
use crate::warnings::Warnings;

/// Straight-line distance times this is the walking distance.
const DETOUR_FACTOR: f64 = 1.2;

#[derive(Clone, Copy, Debug)]
struct Link {
    secs: u32,
    meters: u32,
}

/// A rule of transfers.txt between two stops: `None` forbids the transfer.
type ExplicitRules = FxHashMap<(StopIdx, StopIdx), Option<u32>>;

fn walk(walking: &WalkingSettings, meters: f64) -> Link {
    let walked = meters * DETOUR_FACTOR;
    let secs = (walked / walking.speed_m_per_s).ceil() as u32;
    Link { secs: secs.max(walking.default_min_transfer_secs), meters: walked.round() as u32 }
}

/// Stops where vehicles stop (the stops walking links connect). For a station, its
/// member stops; for a stop, itself.
fn boarding_stops(timetable: &Timetable, stop: StopIdx) -> Vec<StopIdx> {
    let record = &timetable.stops[stop.idx()];
    match record.location_type {
        LocationType::Stop => vec![stop],
        LocationType::Station => timetable.stations[record.station.idx()].stops.clone(),
        _ => Vec::new(),
    }
}

/// How the import used transfers.txt, for the summary: rows by what they name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransferRuleCounts {
    /// Rows naming a trip on either side (in-seat rows included).
    pub trip: u64,
    /// Rows naming routes and no trip.
    pub route: u64,
    /// Rows naming two stops (no trip, route or station).
    pub stop: u64,
    /// Rows naming a station on either side (no trip or route).
    pub station: u64,
    /// In-seat rows (type 4), also counted under `trip`.
    pub in_seat: u64,
    /// "No in-seat transfer" rows (type 5): an ordinary change, so nothing to keep.
    pub without_effect: u64,
}

/// The GTFS specificity level of a rule naming trips or routes (1: both trips … 5: one route),
/// `None` for a rule naming stops alone.
fn specificity_level(transfer: &RawTransfer) -> Option<u16> {
    let trips = u16::from(transfer.from_trip.is_some()) + u16::from(transfer.to_trip.is_some());
    let routes = u16::from(transfer.from_route.is_some()) + u16::from(transfer.to_route.is_some());
    let trip_and_other_route = (transfer.from_trip.is_some() && transfer.to_route.is_some())
        || (transfer.from_route.is_some() && transfer.to_trip.is_some());
    match (trips, routes) {
        (2, _) => Some(1),
        (1, _) if trip_and_other_route => Some(2),
        (1, _) => Some(3),
        (0, 2) => Some(4),
        (0, 1) => Some(5),
        _ => None,
    }
}

/// The timetable's trips of each trip position of one feed (several for a trip that
/// frequencies.txt repeats, none for one the import skipped).
fn trip_instances(timetable: &Timetable, feed: &RawFeed) -> FxHashMap<u32, Vec<TripIdx>> {
    let prefix = format!("{}:", feed.name);
    let mut instances: FxHashMap<u32, Vec<TripIdx>> = FxHashMap::default();
    for (index, trip) in timetable.trips.iter().enumerate() {
        let Some(raw_id) = trip.id.strip_prefix(&prefix) else { continue };
        let position = feed.trip_ids.get(raw_id).or_else(|| {
            let (template, _) = raw_id.rsplit_once('@')?;
            feed.trip_ids.get(template)
        });
        if let Some(&position) = position {
            instances.entry(position).or_default().push(TripIdx::from(index));
        }
    }
    instances
}

/// Most pairs of trips an in-seat rule between two frequency-based trips expands to.
const MAX_IN_SEAT_PAIRS: usize = 10_000;

/// Builds footpaths, minimum transfer times and the trip and route rules into `timetable`.
pub(crate) fn build_walking(
    timetable: &mut Timetable,
    feeds: &[RawFeed],
    stop_maps: &[Vec<StopIdx>],
    warnings: &mut Warnings,
) -> TransferRuleCounts {
    let walking = timetable.meta.walking;
    let num_stops = timetable.stops.len();
    let mut counts = TransferRuleCounts::default();
    let mut min_transfer: Vec<u32> = vec![walking.default_min_transfer_secs; num_stops];
    let mut explicit: ExplicitRules = FxHashMap::default();
    let mut trip_rules: Vec<TransferRule> = Vec::new();
    let is_station =
        |stop: StopIdx| timetable.stops[stop.idx()].location_type == LocationType::Station;
    let default_secs = |from: StopIdx, to: StopIdx| {
        if from == to {
            return walking.default_min_transfer_secs;
        }
        let (a, b) = (&timetable.stops[from.idx()], &timetable.stops[to.idx()]);
        walk(&walking, distance_m(a.lat, a.lon, b.lat, b.lon)).secs
    };
    for (feed_position, feed) in feeds.iter().enumerate() {
        let stop_of = |position: Option<u32>| {
            position
                .map(|position| stop_maps[feed_position][position as usize])
                .filter(|stop| stop.0 != u32::MAX)
        };
        // Stop rules: those naming a station first, so that a rule naming the stop itself
        // wins (the sort is stable: among equals, the later row still wins).
        let mut stop_rules: Vec<(&RawTransfer, StopIdx, StopIdx, usize)> = Vec::new();
        let mut instances: Option<FxHashMap<u32, Vec<TripIdx>>> = None;
        for transfer in &feed.transfers {
            if transfer.transfer_type == 5 {
                counts.without_effect += 1;
                continue;
            }
            let (from, to) = (stop_of(transfer.from), stop_of(transfer.to));
            let Some(level) = specificity_level(transfer) else {
                let (Some(from), Some(to)) = (from, to) else { continue };
                let station_sides = usize::from(is_station(from)) + usize::from(is_station(to));
                if station_sides > 0 {
                    counts.station += 1;
                } else {
                    counts.stop += 1;
                }
                stop_rules.push((transfer, from, to, station_sides));
                continue;
            };
            if level <= 3 {
                counts.trip += 1;
            } else {
                counts.route += 1;
            }
            counts.in_seat += u64::from(transfer.transfer_type == 4);
            let instances = instances.get_or_insert_with(|| trip_instances(timetable, feed));
            let instances = &*instances;
            let parties = |trip: Option<u32>, route: Option<u32>, field: &str| {
                if let Some(trip) = trip {
                    let found: Vec<TransferParty> = instances
                        .get(&trip)
                        .map(|trips| trips.iter().map(|&trip| TransferParty::Trip(trip)).collect())
                        .unwrap_or_default();
                    if found.is_empty() {
                        return Err(format!(
                            "{}/transfers.txt:{}: {field}_trip_id: trip {:?} was not imported; rule skipped",
                            feed.name, transfer.line, feed.trips[trip as usize].id
                        ));
                    }
                    return Ok(found);
                }
                Ok(match route {
                    Some(route) => {
                        let id = format!("{}:{}", feed.name, feed.routes[route as usize].id);
                        timetable.route_by_id(&id).map(TransferParty::Route).into_iter().collect()
                    }
                    None => vec![TransferParty::Any],
                })
            };
            let (from_parties, to_parties) = match (
                parties(transfer.from_trip, transfer.from_route, "from"),
                parties(transfer.to_trip, transfer.to_route, "to"),
            ) {
                (Ok(from), Ok(to)) => (from, to),
                (Err(example), _) | (_, Err(example)) => {
                    warnings.add("unknown_transfer_trip", || example);
                    continue;
                }
            };
            let min_secs = |from: StopIdx, to: StopIdx| match transfer.transfer_type {
                1 | 4 => Some(0),
                2 => Some(transfer.min_transfer_secs.unwrap_or_else(|| default_secs(from, to))),
                3 => None,
                _ => Some(default_secs(from, to)),
            };
            if let (Some(from), Some(to)) = (from, to) {
                let station_sides = u16::from(is_station(from)) + u16::from(is_station(to));
                for &from_stop in &boarding_stops(timetable, from) {
                    for &to_stop in &boarding_stops(timetable, to) {
                        for &from_party in &from_parties {
                            for &to_party in &to_parties {
                                trip_rules.push(TransferRule {
                                    from_stop,
                                    to_stop,
                                    from: from_party,
                                    to: to_party,
                                    min_secs: min_secs(from_stop, to_stop),
                                    rank: level * 4 + station_sides,
                                });
                            }
                        }
                    }
                }
                continue;
            }
            // In-seat without stops: from the last stop of one trip to the first of the next.
            if from_parties.len() * to_parties.len() > MAX_IN_SEAT_PAIRS {
                warnings.add("unsupported_transfer", || {
                    format!(
                        "{}/transfers.txt:{}: an in-seat transfer between {} and {} departures of frequency-based trips; skipped",
                        feed.name, transfer.line, from_parties.len(), to_parties.len()
                    )
                });
                continue;
            }
            for &from_party in &from_parties {
                for &to_party in &to_parties {
                    let (TransferParty::Trip(from_trip), TransferParty::Trip(to_trip)) =
                        (from_party, to_party)
                    else {
                        continue;
                    };
                    let trip_stops = |trip: TripIdx| {
                        timetable.pattern_stops(timetable.trips[trip.idx()].pattern)
                    };
                    let (Some(&from_stop), Some(&to_stop)) =
                        (trip_stops(from_trip).last(), trip_stops(to_trip).first())
                    else {
                        continue;
                    };
                    trip_rules.push(TransferRule {
                        from_stop,
                        to_stop,
                        from: from_party,
                        to: to_party,
                        min_secs: Some(0),
                        rank: level * 4,
                    });
                }
            }
        }
        stop_rules.sort_by_key(|&(_, _, _, station_sides)| std::cmp::Reverse(station_sides));
        for (transfer, from, to, _) in stop_rules {
            let from_stops = boarding_stops(timetable, from);
            let to_stops = boarding_stops(timetable, to);
            for &from_stop in &from_stops {
                for &to_stop in &to_stops {
                    if from_stop == to_stop {
                        min_transfer[from_stop.idx()] =
                            match (transfer.transfer_type, transfer.min_transfer_secs) {
                                (1, _) => 0,
                                (2, Some(secs)) => secs,
                                (3, _) => FORBIDDEN_TRANSFER_SECS,
                                _ => walking.default_min_transfer_secs,
                            };
                        continue;
                    }
                    let rule = match (transfer.transfer_type, transfer.min_transfer_secs) {
                        (3, _) => None,
                        (1, _) => Some(0),
                        (2, Some(secs)) => Some(secs),
                        _ => Some(default_secs(from_stop, to_stop)),
                    };
                    explicit.insert((from_stop, to_stop), rule);
                }
            }
        }
    }
    trip_rules.sort_by_key(|rule| rule.from_stop);
    timetable.transfer_rules = trip_rules;

    // The graph of direct links: node i is stop i.
    let mut graph: DiGraph<(), Link> = DiGraph::with_capacity(num_stops, num_stops * 8);
    for _ in 0..num_stops {
        graph.add_node(());
    }
    let boarding: Vec<usize> = (0..num_stops)
        .filter(|stop| {
            timetable.stops[*stop].location_type == LocationType::Stop
                && timetable.stops[*stop].lat.is_finite()
        })
        .collect();
    let cell_deg = (walking.max_link_distance_m / 111_000.0).max(1e-6);
    let mean_lat = boarding.iter().map(|stop| timetable.stops[*stop].lat).sum::<f64>()
        / boarding.len().max(1) as f64;
    let lon_scale = mean_lat.to_radians().cos().max(0.01);
    let cell = |stop: usize| {
        let record = &timetable.stops[stop];
        ((record.lat / cell_deg).floor() as i64, (record.lon * lon_scale / cell_deg).floor() as i64)
    };
    let mut grid: FxHashMap<(i64, i64), Vec<usize>> = FxHashMap::default();
    for &stop in &boarding {
        grid.entry(cell(stop)).or_default().push(stop);
    }
    for &stop in &boarding {
        let (row, column) = cell(stop);
        let here = &timetable.stops[stop];
        for delta_row in -1..=1 {
            for delta_column in -1..=1 {
                let Some(neighbours) = grid.get(&(row + delta_row, column + delta_column)) else {
                    continue;
                };
                for &other in neighbours {
                    if other == stop {
                        continue;
                    }
                    let there = &timetable.stops[other];
                    let meters = distance_m(here.lat, here.lon, there.lat, there.lon);
                    let pair = (StopIdx::from(stop), StopIdx::from(other));
                    if meters <= walking.max_link_distance_m && !explicit.contains_key(&pair) {
                        graph.add_edge(
                            NodeIndex::new(stop),
                            NodeIndex::new(other),
                            walk(&walking, meters),
                        );
                    }
                }
            }
        }
    }
    for (&(from, to), rule) in &explicit {
        if let Some(secs) = rule {
            let (a, b) = (&timetable.stops[from.idx()], &timetable.stops[to.idx()]);
            let meters = distance_m(a.lat, a.lon, b.lat, b.lon) * DETOUR_FACTOR;
            let meters = if meters.is_finite() { meters.round() as u32 } else { 0 };
            graph.add_edge(
                NodeIndex::new(from.idx()),
                NodeIndex::new(to.idx()),
                Link { secs: *secs, meters },
            );
        }
    }

    // Transitive closure: a bounded Dijkstra from every stop, in parallel.
    let max_secs = walking.max_walk_secs;
    let per_stop: Vec<Vec<Footpath>> = (0..num_stops)
        .into_par_iter()
        .map(|source| {
            if graph.edges(NodeIndex::new(source)).next().is_none() {
                return Vec::new();
            }
            let mut best: FxHashMap<usize, Link> = FxHashMap::default();
            let mut heap = BinaryHeap::new();
            best.insert(source, Link { secs: 0, meters: 0 });
            heap.push(Reverse((0u32, 0u32, source)));
            while let Some(Reverse((secs, meters, node))) = heap.pop() {
                if best.get(&node).is_some_and(|known| known.secs < secs) {
                    continue;
                }
                for edge in graph.edges(NodeIndex::new(node)) {
                    let next = edge.target().index();
                    let link = edge.weight();
                    let (next_secs, next_meters) = (secs + link.secs, meters + link.meters);
                    if next_secs > max_secs
                        && !(node == source
                            && explicit.contains_key(&(StopIdx::from(source), StopIdx::from(next))))
                    {
                        continue;
                    }
                    if best.get(&next).is_none_or(|known| next_secs < known.secs) {
                        best.insert(next, Link { secs: next_secs, meters: next_meters });
                        heap.push(Reverse((next_secs, next_meters, next)));
                    }
                }
            }
            let mut footpaths: Vec<Footpath> = best
                .into_iter()
                .filter(|(target, _)| *target != source)
                .filter_map(|(target, link)| {
                    let pair = (StopIdx::from(source), StopIdx::from(target));
                    match explicit.get(&pair) {
                        Some(None) => None,
                        Some(Some(secs)) => Some(Footpath {
                            to: pair.1,
                            duration_secs: *secs,
                            distance_m: link.meters,
                        }),
                        None => Some(Footpath {
                            to: pair.1,
                            duration_secs: link.secs,
                            distance_m: link.meters,
                        }),
                    }
                })
                .collect();
            footpaths.sort_unstable_by_key(|footpath| (footpath.duration_secs, footpath.to));
            footpaths
        })
        .collect();

    let per_stop = with_platform_changes(timetable, &explicit, per_stop);

    let mut offsets = Vec::with_capacity(num_stops + 1);
    let mut footpaths = Vec::with_capacity(per_stop.iter().map(Vec::len).sum());
    offsets.push(0u32);
    for stop_footpaths in per_stop {
        footpaths.extend(stop_footpaths);
        offsets.push(footpaths.len() as u32);
    }
    timetable.footpath_offsets = offsets.into();
    timetable.footpaths = footpaths.into();
    timetable.min_transfer_secs = min_transfer.into();
    counts
}

/// The closed links, plus a change of platform at either end of each: a walk may begin or end
/// with a move between two stops of one station beyond `max_walk_secs` (the closure's limit
/// would otherwise leave a traveller who walked up to one platform of a station only riding
/// out and back to reach another). A pair with a link, or a rule of its own, keeps it.
fn with_platform_changes(
    timetable: &Timetable,
    explicit: &ExplicitRules,
    closed: Vec<Vec<Footpath>>,
) -> Vec<Vec<Footpath>> {
    let siblings = |stop: StopIdx| {
        let station = timetable.stops[stop.idx()].station;
        timetable.stations[station.idx()].stops.iter().copied().filter(move |&other| other != stop)
    };
    let link = |from: StopIdx, to: StopIdx| closed[from.idx()].iter().find(|link| link.to == to);
    let mut extended = closed.clone();
    for (source, links) in closed.iter().enumerate() {
        let source_idx = StopIdx::from(source);
        let mut added: Vec<Footpath> = Vec::new();
        let mut consider = |to: StopIdx, duration_secs: u32, distance_m: u32| {
            if to == source_idx
                || explicit.contains_key(&(source_idx, to))
                || links.iter().any(|link| link.to == to)
            {
                return;
            }
            match added.iter_mut().find(|link| link.to == to) {
                Some(known) if known.duration_secs <= duration_secs => {}
                Some(known) => *known = Footpath { to, duration_secs, distance_m },
                None => added.push(Footpath { to, duration_secs, distance_m }),
            }
        };
        // Ending with a change of platform: source → A, then A → a stop of A's station.
        for walk in links {
            for sibling in siblings(walk.to) {
                if let Some(change) = link(walk.to, sibling) {
                    consider(
                        sibling,
                        walk.duration_secs + change.duration_secs,
                        walk.distance_m + change.distance_m,
                    );
                }
            }
        }
        // Beginning with one: source → a stop of its station, then on from there.
        for sibling in siblings(source_idx) {
            let Some(change) = link(source_idx, sibling) else { continue };
            for walk in &closed[sibling.idx()] {
                consider(
                    walk.to,
                    change.duration_secs + walk.duration_secs,
                    change.distance_m + walk.distance_m,
                );
            }
        }
        if !added.is_empty() {
            let own = &mut extended[source];
            own.extend(added);
            own.sort_unstable_by_key(|footpath| (footpath.duration_secs, footpath.to));
        }
    }
    extended
}
