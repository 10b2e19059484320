//! Lower bounds on the remaining travel time to the target (ALT: landmarks and the triangle
//! inequality), so that a depart-at search drops labels that cannot reach the target before
//! the best arrival found so far (A*-style pruning on top of RAPTOR's target pruning).
//!
//! The bounds come from a time-independent graph that never overestimates: an edge between
//! consecutive stops of a pattern weighs the shortest ride of any trip over that segment (no
//! waiting, no transfer time), and walking links weigh their duration. For a few landmarks
//! spread around the network, the engine keeps the shortest time from every stop to the
//! landmark and from the landmark to every stop; then for a stop `v`, a target stop `t` and
//! a landmark `L`, `d(v, t) ≥ d(v, L) − d(t, L)` and `d(v, t) ≥ d(L, t) − d(L, v)`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use norikae_timetable::{StopIdx, Timetable};

/// How many landmarks the engine places (more: tighter bounds, more memory and build time).
const LANDMARKS: usize = 16;
/// "Unreachable" in the landmark tables.
const UNREACHABLE: u32 = u32::MAX;

/// Shortest times between every stop and a few landmarks, over the lower-bound graph.
#[derive(Debug, Default)]
pub(crate) struct Landmarks {
    count: usize,
    /// `to[v * count + l]`: shortest time from stop `v` to landmark `l`.
    to: Vec<u32>,
    /// `from[v * count + l]`: shortest time from landmark `l` to stop `v`.
    from: Vec<u32>,
}

/// A graph in adjacency-array form.
struct Graph {
    offsets: Vec<u32>,
    edges: Vec<(u32, u32)>,
}

impl Graph {
    fn build(num_stops: usize, arcs: &[(u32, u32, u32)]) -> Self {
        let mut offsets = vec![0u32; num_stops + 1];
        for &(from, _, _) in arcs {
            offsets[from as usize + 1] += 1;
        }
        for index in 0..num_stops {
            offsets[index + 1] += offsets[index];
        }
        let mut next = offsets.clone();
        let mut edges = vec![(0, 0); arcs.len()];
        for &(from, to, weight) in arcs {
            edges[next[from as usize] as usize] = (to, weight);
            next[from as usize] += 1;
        }
        Self { offsets, edges }
    }

    /// Shortest times from `source` to every node.
    fn dijkstra(&self, source: usize) -> Vec<u32> {
        let mut distance = vec![UNREACHABLE; self.offsets.len() - 1];
        let mut heap = BinaryHeap::new();
        distance[source] = 0;
        heap.push(Reverse((0u32, source as u32)));
        while let Some(Reverse((time, node))) = heap.pop() {
            if time > distance[node as usize] {
                continue;
            }
            let edges = &self.edges
                [self.offsets[node as usize] as usize..self.offsets[node as usize + 1] as usize];
            for &(to, weight) in edges {
                let reached = time.saturating_add(weight);
                if reached < distance[to as usize] {
                    distance[to as usize] = reached;
                    heap.push(Reverse((reached, to)));
                }
            }
        }
        distance
    }
}

impl Landmarks {
    pub(crate) fn build(timetable: &Timetable) -> Self {
        let num_stops = timetable.stops.len();
        if num_stops == 0 {
            return Self::default();
        }
        // Arcs (from, to, weight) of the lower-bound graph.
        let mut arcs: Vec<(u32, u32, u32)> = Vec::new();
        let stop_times: &[norikae_timetable::StopTime] = &timetable.stop_times;
        let pattern_stops: &[StopIdx] = &timetable.pattern_stops;
        for pattern in &timetable.patterns {
            let num_stops_in_pattern = pattern.num_stops();
            let stops = &pattern_stops[pattern.stops.start as usize..pattern.stops.end as usize];
            let times = &stop_times[pattern.stop_times_start as usize..];
            for position in 1..num_stops_in_pattern {
                let shortest = (0..pattern.num_trips())
                    .map(|trip| {
                        let base = trip * num_stops_in_pattern;
                        times[base + position]
                            .arrival
                            .saturating_sub(times[base + position - 1].departure)
                    })
                    .min()
                    .unwrap_or(0);
                arcs.push((stops[position - 1].0, stops[position].0, shortest));
            }
        }
        let offsets: &[u32] = &timetable.footpath_offsets;
        let footpaths: &[norikae_timetable::Footpath] = &timetable.footpaths;
        for from in 0..num_stops {
            for footpath in &footpaths[offsets[from] as usize..offsets[from + 1] as usize] {
                arcs.push((from as u32, footpath.to.0, footpath.duration_secs));
            }
        }
        let forward = Graph::build(num_stops, &arcs);
        let reversed: Vec<(u32, u32, u32)> =
            arcs.iter().map(|&(from, to, weight)| (to, from, weight)).collect();
        drop(arcs);
        let backward = Graph::build(num_stops, &reversed);
        drop(reversed);

        let chosen = choose_landmarks(timetable);
        let count = chosen.len();
        let mut to = vec![UNREACHABLE; num_stops * count];
        let mut from = vec![UNREACHABLE; num_stops * count];
        for (index, &landmark) in chosen.iter().enumerate() {
            for (stop, time) in backward.dijkstra(landmark).into_iter().enumerate() {
                to[stop * count + index] = time;
            }
            for (stop, time) in forward.dijkstra(landmark).into_iter().enumerate() {
                from[stop * count + index] = time;
            }
        }
        Self { count, to, from }
    }

    /// Prepares the per-target terms of the bounds: for each landmark `l`,
    /// `a[l] = max over targets (d(t, l) − egress)` and `b[l] = min over targets (d(l, t) +
    /// egress)`, in `i64` with unreachable as a huge value.
    pub(crate) fn target_terms(&self, targets: &[(StopIdx, u32)], terms: &mut Vec<(i64, i64)>) {
        terms.clear();
        for landmark in 0..self.count {
            let mut a = i64::MIN;
            let mut b = i64::MAX;
            for &(stop, egress) in targets {
                let to = wide(self.to[stop.idx() * self.count + landmark]);
                let from = wide(self.from[stop.idx() * self.count + landmark]);
                a = a.max(to - i64::from(egress));
                b = b.min(from + i64::from(egress));
            }
            terms.push((a, b));
        }
    }

    /// A lower bound on the time from `stop` to the nearest target (including its egress).
    pub(crate) fn bound(&self, stop: StopIdx, terms: &[(i64, i64)]) -> u32 {
        let base = stop.idx() * self.count;
        let mut bound = 0i64;
        for (landmark, &(a, b)) in terms.iter().enumerate() {
            let to = wide(self.to[base + landmark]);
            let from = wide(self.from[base + landmark]);
            bound = bound.max(to - a).max(b - from);
        }
        bound.min(i64::from(u32::MAX - 1)) as u32
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// `UNREACHABLE` as a value far beyond any sum of real times, so differences stay meaningful.
fn wide(time: u32) -> i64 {
    if time == UNREACHABLE { 1 << 40 } else { i64::from(time) }
}

/// Landmarks spread around the network: the stop farthest from the centre in each of a few
/// angular sectors.
fn choose_landmarks(timetable: &Timetable) -> Vec<usize> {
    let stops = &timetable.stops;
    let count = stops.len() as f64;
    let lat = stops.iter().map(|stop| stop.lat).sum::<f64>() / count;
    let lon = stops.iter().map(|stop| stop.lon).sum::<f64>() / count;
    let scale = lat.to_radians().cos();
    let mut best: Vec<Option<(f64, usize)>> = vec![None; LANDMARKS];
    for (index, stop) in stops.iter().enumerate() {
        let (y, x) = (stop.lat - lat, (stop.lon - lon) * scale);
        if !(x.is_finite() && y.is_finite()) {
            continue;
        }
        let angle = y.atan2(x) + std::f64::consts::PI;
        let sector =
            ((angle / std::f64::consts::TAU * LANDMARKS as f64) as usize).min(LANDMARKS - 1);
        let distance = x * x + y * y;
        if best[sector].is_none_or(|(farthest, _)| distance > farthest) {
            best[sector] = Some((distance, index));
        }
    }
    let mut chosen: Vec<usize> = best.into_iter().flatten().map(|(_, index)| index).collect();
    chosen.sort_unstable();
    chosen.dedup();
    chosen
}
