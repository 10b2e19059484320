//! Walking links: a petgraph graph of links between stops (transfers.txt, plus stops within
//! the configured distance), closed transitively up to the maximum walking time, and the
//! per-stop minimum transfer times.
//!
//! - A link between two stops takes `distance × 1.2 (detour) / speed`, but never less than
//!   `default_min_transfer_secs` (changing between two platforms takes time even when the
//!   feed gives them one position, as Fukuoka does).
//! - transfers.txt rules between different stops replace the computed time with
//!   `min_transfer_time` (one way, as the file says); type 3 removes the link. Rules naming a
//!   station apply to its member stops; a rule from a stop (or station) to itself sets the
//!   minimum transfer time at that stop (or at each member, and between members).
//! - The closure is a Dijkstra bounded by `max_walk_secs` from every stop.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::parse::RawFeed;
use crate::geo::distance_m;
use crate::model::{Footpath, LocationType, StopIdx, Timetable, WalkingSettings};
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

/// Builds footpaths and minimum transfer times into `timetable`.
pub(crate) fn build_walking(
    timetable: &mut Timetable,
    feeds: &[RawFeed],
    stop_maps: &[Vec<StopIdx>],
    warnings: &mut Warnings,
) {
    let walking = timetable.meta.walking;
    let num_stops = timetable.stops.len();
    let mut min_transfer: Vec<u32> = vec![walking.default_min_transfer_secs; num_stops];
    let mut explicit: ExplicitRules = FxHashMap::default();
    for (feed_position, feed) in feeds.iter().enumerate() {
        for transfer in &feed.transfers {
            let from = stop_maps[feed_position][transfer.from as usize];
            let to = stop_maps[feed_position][transfer.to as usize];
            if from.0 == u32::MAX || to.0 == u32::MAX {
                continue;
            }
            let from_stops = boarding_stops(timetable, from);
            let to_stops = boarding_stops(timetable, to);
            for &from_stop in &from_stops {
                for &to_stop in &to_stops {
                    if from_stop == to_stop {
                        match (transfer.transfer_type, transfer.min_transfer_secs) {
                            (2, Some(secs)) => min_transfer[from_stop.idx()] = secs,
                            (1, _) => min_transfer[from_stop.idx()] = 0,
                            (3, _) => warnings.add("unsupported_transfer", || {
                                format!("{}/transfers.txt: transfers forbidden at stop {}; not supported, ignored", feed.name, timetable.stops[from_stop.idx()].id)
                            }),
                            _ => {}
                        }
                        continue;
                    }
                    let rule = match transfer.transfer_type {
                        3 => None,
                        1 => Some(transfer.min_transfer_secs.unwrap_or(0)),
                        _ => Some(transfer.min_transfer_secs.unwrap_or_else(|| {
                            let (a, b) = (
                                &timetable.stops[from_stop.idx()],
                                &timetable.stops[to_stop.idx()],
                            );
                            walk(&walking, distance_m(a.lat, a.lon, b.lat, b.lon)).secs
                        })),
                    };
                    explicit.insert((from_stop, to_stop), rule);
                }
            }
        }
    }

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
}
