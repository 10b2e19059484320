//! Lower bounds on the remaining travel time to the target (ALT: landmarks and the triangle
//! inequality), so that a search drops labels that cannot reach the target before the best
//! arrival found so far (A*-style pruning on top of RAPTOR's target pruning); an arrive-by
//! search, which runs backward from the destination, bounds the time from the origin instead.
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

use super::types::Direction;

/// How many landmarks the engine places (more: tighter bounds, more memory and build time).
const LANDMARKS: usize = 16;
/// "Unreachable" in the landmark tables.
const UNREACHABLE: u32 = u32::MAX;

/// Shortest times between every stop and a few landmarks, over the lower-bound graph.
///
/// Landmark-major (one row of all stops per landmark) in `i32`, unreachable as
/// [`FAR`], so that a query's bounds for every stop come from one vectorisable pass per
/// landmark ([`Landmarks::fill_bounds`]).
#[derive(Debug, Default)]
pub(crate) struct Landmarks {
    count: usize,
    num_stops: usize,
    /// `to[l * num_stops + v]`: shortest time from stop `v` to landmark `l`.
    to: Vec<i32>,
    /// `from[l * num_stops + v]`: shortest time from landmark `l` to stop `v`.
    from: Vec<i32>,
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
        Self::build_with(timetable, |_, _| None)
    }

    /// [`Landmarks::build`] with the ride from stop `position - 1` to `position` of pattern
    /// `pattern` no longer than `faster(pattern, position)` where that gives one (a realtime
    /// overlay's expected rides, so that the bounds hold on its times).
    pub(crate) fn build_with(
        timetable: &Timetable,
        faster: impl Fn(usize, usize) -> Option<u32>,
    ) -> Self {
        let num_stops = timetable.stops.len();
        if num_stops == 0 {
            return Self::default();
        }
        // Arcs (from, to, weight) of the lower-bound graph.
        let mut arcs: Vec<(u32, u32, u32)> = Vec::new();
        let stop_times: &[norikae_timetable::StopTime] = &timetable.stop_times;
        let pattern_stops: &[StopIdx] = &timetable.pattern_stops;
        for (pattern_index, pattern) in timetable.patterns.iter().enumerate() {
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
                let shortest =
                    faster(pattern_index, position).map_or(shortest, |ride| ride.min(shortest));
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
        let mut to = Vec::with_capacity(num_stops * count);
        let mut from = Vec::with_capacity(num_stops * count);
        for &landmark in &chosen {
            to.extend(backward.dijkstra(landmark).into_iter().map(narrow));
            from.extend(forward.dijkstra(landmark).into_iter().map(narrow));
        }
        Self { count, num_stops, to, from }
    }

    /// The tables `(to, from)` as a search in `direction` reads them: a backward search
    /// (arrive-by) needs bounds on the time from its target (the origin) to each stop, which
    /// are the forward formulas with the two tables swapped.
    fn tables(&self, direction: Direction) -> (&[i32], &[i32]) {
        match direction {
            Direction::Forward => (&self.to, &self.from),
            Direction::Backward => (&self.from, &self.to),
        }
    }

    /// Prepares the per-target terms of the bounds: for each landmark `l`,
    /// `a[l] = max over targets (d(t, l) − egress)` and `b[l] = min over targets (d(l, t) +
    /// egress)` (backward: `d(l, t)` and `d(t, l)`, the target being where the traveller
    /// starts).
    pub(crate) fn target_terms(
        &self,
        direction: Direction,
        targets: &[(StopIdx, u32)],
        terms: &mut Vec<(i32, i32)>,
    ) {
        let (to, from) = self.tables(direction);
        terms.clear();
        for landmark in 0..self.count {
            let row = landmark * self.num_stops;
            let mut a = i32::MIN;
            let mut b = i32::MAX;
            for &(stop, egress) in targets {
                let egress = i32::try_from(egress).unwrap_or(FAR).min(FAR);
                a = a.max(to[row + stop.idx()] - egress);
                b = b.min(from[row + stop.idx()] + egress);
            }
            terms.push((a, b));
        }
    }

    /// Writes into `bounds` (one per stop) a lower bound on the time from each stop to the
    /// nearest target (including its egress), given the target's `terms`:
    /// `max(0, max over l (d(v, l) − a[l]), max over l (b[l] − d(l, v)))`, and
    /// `u32::MAX - 1` (never reaches the target) where a term involves an unreachable
    /// landmark on one side only. Backward, the time from the target (where the traveller
    /// starts) to each stop: `d(l, v)` and `d(v, l)` swap places.
    pub(crate) fn fill_bounds(
        &self,
        direction: Direction,
        terms: &[(i32, i32)],
        bounds: &mut Vec<u32>,
    ) {
        debug_assert_eq!(terms.len(), self.count);
        let (to, from) = self.tables(direction);
        let mut wide = vec![0i32; self.num_stops];
        for (landmark, &(a, b)) in terms.iter().enumerate() {
            let row = landmark * self.num_stops..(landmark + 1) * self.num_stops;
            for ((bound, &to), &from) in wide.iter_mut().zip(&to[row.clone()]).zip(&from[row]) {
                *bound = (*bound).max(to - a).max(b - from);
            }
        }
        bounds.clear();
        bounds.extend(wide.iter().map(|&bound| {
            // Real times stay far below `FAR / 2`; more means an unreachable landmark.
            if bound >= FAR / 2 { u32::MAX - 1 } else { bound as u32 }
        }));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// "Unreachable" in the `i32` tables: far beyond any real time (at most a few days), yet
/// a difference or sum of two stays within `i32`.
const FAR: i32 = 1 << 29;

/// A shortest time as stored: unreachable (or absurdly long) as [`FAR`].
fn narrow(time: u32) -> i32 {
    if time == UNREACHABLE { FAR } else { i32::try_from(time).unwrap_or(FAR).min(FAR) }
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
