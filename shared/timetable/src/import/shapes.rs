//! Shapes at import: each trip's shape is stored once (identical shapes of any feed share one
//! copy) and its stops are placed along it, so that a ride's geometry is a slice at query time
//! (see [`crate::shapes`]).
//!
//! A stop is placed on a segment of the shape by `shape_dist_traveled` when the feed gives it
//! for the shape and the trip's stop times, else by projecting it onto the shape: each stop's
//! candidates are the segments where its distance to the shape has a local minimum, and the
//! placement is the one in travel order with the least total distance (a dynamic programme
//! over the candidates, so loops and out-and-back streets place every stop on the right
//! pass). A stop farther than [`MAX_STOP_OFFSET_M`] from its place, or a shape that no order
//! fits, leaves the trip without a shape, drawn stop to stop (with a warning).

use rustc_hash::FxHashMap;

use super::parse::{RawFeed, RawShapePoint, RawStopTime};
use crate::model::{NO_SHAPE_CUT, ShapeCut, ShapeIdx, StopIdx};
use crate::shapes::encode_points;

/// Farthest a stop may lie from the shape of its trip.
pub(crate) const MAX_STOP_OFFSET_M: f64 = 300.0;

/// Candidate places of one stop kept for the dynamic programme.
const MAX_CANDIDATES: usize = 8;

/// Shapes and cuts, as the snapshot stores them.
#[derive(Default)]
pub(crate) struct ShapeStore {
    pub offsets: Vec<u32>,
    pub points: Vec<u8>,
    pub cuts: Vec<ShapeCut>,
    pub stop_segments: Vec<u32>,
    /// Stored shapes by their bytes' hash (for sharing identical ones).
    by_hash: FxHashMap<u64, Vec<ShapeIdx>>,
    /// Per feed shape position (of the feed being built): its stored shape.
    feed_shapes: Vec<Option<ShapeIdx>>,
    /// (feed shape position, stops) → cut, for the feed being built.
    cut_of: FxHashMap<(u32, Vec<StopIdx>), u32>,
    scratch: Vec<u8>,
}

impl ShapeStore {
    pub(crate) fn new() -> Self {
        Self { offsets: vec![0], ..Self::default() }
    }

    /// Starts the trips of another feed.
    pub(crate) fn start_feed(&mut self, feed: &RawFeed) {
        self.feed_shapes = vec![None; feed.shape_ranges.len()];
        self.cut_of.clear();
    }

    /// The cut of a trip of `feed` with shape position `shape` over `rows` (stops `stops`
    /// at `positions`), or [`NO_SHAPE_CUT`] when the shape does not fit the stops.
    pub(crate) fn cut_for(
        &mut self,
        feed: &RawFeed,
        shape: u32,
        rows: &[RawStopTime],
        stops: &[StopIdx],
        positions: &[(f64, f64)],
    ) -> u32 {
        let key = (shape, stops.to_vec());
        if let Some(&cut) = self.cut_of.get(&key) {
            return cut;
        }
        let range = feed.shape_ranges[shape as usize].clone();
        let points = &feed.shape_points[range.start as usize..range.end as usize];
        let cut = match place_stops(points, rows, positions) {
            Some(segments) => {
                let stored = self.store_shape(shape, points);
                let cut = self.cuts.len() as u32;
                self.cuts.push(ShapeCut {
                    shape: stored,
                    segments_start: self.stop_segments.len() as u32,
                });
                self.stop_segments.extend(segments);
                cut
            }
            None => NO_SHAPE_CUT,
        };
        self.cut_of.insert(key, cut);
        cut
    }

    fn store_shape(&mut self, shape: u32, points: &[RawShapePoint]) -> ShapeIdx {
        if let Some(stored) = self.feed_shapes[shape as usize] {
            return stored;
        }
        let micro: Vec<(i32, i32)> = points.iter().map(|point| (point.lat, point.lon)).collect();
        self.scratch.clear();
        encode_points(&micro, &mut self.scratch);
        let hash = xxhash_rust::xxh3::xxh3_64(&self.scratch);
        let same = self.by_hash.get(&hash).and_then(|candidates| {
            candidates.iter().copied().find(|candidate| {
                let start = self.offsets[candidate.idx()] as usize;
                let end = self.offsets[candidate.idx() + 1] as usize;
                self.points[start..end] == self.scratch[..]
            })
        });
        let stored = same.unwrap_or_else(|| {
            let stored = ShapeIdx::from(self.offsets.len() - 1);
            self.points.extend_from_slice(&self.scratch);
            self.offsets.push(self.points.len() as u32);
            self.by_hash.entry(hash).or_default().push(stored);
            stored
        });
        self.feed_shapes[shape as usize] = Some(stored);
        stored
    }
}

/// Metres on a plane tangent at a reference latitude (good to a fraction of a percent over a
/// city's extent).
#[derive(Clone, Copy)]
struct Plane {
    metres_per_lat: f64,
    metres_per_lon: f64,
}

impl Plane {
    fn at(lat: f64) -> Self {
        Self { metres_per_lat: 111_132.0, metres_per_lon: 111_320.0 * lat.to_radians().cos() }
    }

    fn point(self, lat: f64, lon: f64) -> (f64, f64) {
        (lon * self.metres_per_lon, lat * self.metres_per_lat)
    }
}

/// Where `stop` projects onto segment `a`–`b`: (distance, fraction along the segment).
fn project(stop: (f64, f64), a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let length_squared = dx * dx + dy * dy;
    let fraction = if length_squared > 0.0 {
        (((stop.0 - a.0) * dx + (stop.1 - a.1) * dy) / length_squared).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (x, y) = (a.0 + fraction * dx, a.1 + fraction * dy);
    (((stop.0 - x).powi(2) + (stop.1 - y).powi(2)).sqrt(), fraction)
}

/// The segment of `points` each stop of `rows` lies on, in order, or `None` when the shape
/// does not fit the stops.
fn place_stops(
    points: &[RawShapePoint],
    rows: &[RawStopTime],
    positions: &[(f64, f64)],
) -> Option<Vec<u32>> {
    if points.len() < 2 || positions.iter().any(|(lat, lon)| !lat.is_finite() || !lon.is_finite()) {
        return None;
    }
    let plane = Plane::at(f64::from(points[0].lat) / 1e6);
    let shape: Vec<(f64, f64)> = points
        .iter()
        .map(|point| plane.point(f64::from(point.lat) / 1e6, f64::from(point.lon) / 1e6))
        .collect();
    let stops: Vec<(f64, f64)> =
        positions.iter().map(|&(lat, lon)| plane.point(lat, lon)).collect();
    if let Some(segments) = place_by_distance(points, rows, &shape, &stops) {
        return Some(segments);
    }
    place_by_projection(&shape, &stops)
}

/// Placement by shape_dist_traveled, when the shape and the stop times give it (increasing)
/// and every stop lies near the segment it names.
fn place_by_distance(
    points: &[RawShapePoint],
    rows: &[RawStopTime],
    shape: &[(f64, f64)],
    stops: &[(f64, f64)],
) -> Option<Vec<u32>> {
    fn increasing(mut values: impl Iterator<Item = f32>) -> bool {
        let mut previous = f32::NEG_INFINITY;
        values.all(|value| {
            let ok = value.is_finite() && value >= previous;
            previous = value;
            ok
        })
    }
    if !increasing(points.iter().map(|point| point.dist))
        || !increasing(rows.iter().map(|row| row.shape_dist))
    {
        return None;
    }
    let last_segment = points.len() - 2;
    let mut segments = Vec::with_capacity(rows.len());
    for (row, &stop) in rows.iter().zip(stops) {
        let after = points.partition_point(|point| point.dist <= row.shape_dist);
        let segment = after.saturating_sub(1).min(last_segment);
        let (distance, _) = project(stop, shape[segment], shape[segment + 1]);
        if distance > MAX_STOP_OFFSET_M {
            return None;
        }
        segments.push(segment as u32);
    }
    Some(segments)
}

/// A place of a stop on the shape: segment, fraction along it, distance from the stop.
#[derive(Clone, Copy)]
struct Candidate {
    segment: usize,
    fraction: f64,
    distance: f64,
}

impl Candidate {
    fn along(&self) -> f64 {
        self.segment as f64 + self.fraction
    }
}

/// Placement by projection (see the module's documentation).
fn place_by_projection(shape: &[(f64, f64)], stops: &[(f64, f64)]) -> Option<Vec<u32>> {
    let segments = shape.len() - 1;
    let mut candidates: Vec<Vec<Candidate>> = Vec::with_capacity(stops.len());
    let mut projected = Vec::with_capacity(segments);
    for &stop in stops {
        projected.clear();
        projected.extend((0..segments).map(|segment| {
            let (distance, fraction) = project(stop, shape[segment], shape[segment + 1]);
            Candidate { segment, fraction, distance }
        }));
        let mut local_minima: Vec<Candidate> = (0..segments)
            .filter(|&segment| {
                let distance = projected[segment].distance;
                distance <= MAX_STOP_OFFSET_M
                    && (segment == 0 || distance <= projected[segment - 1].distance)
                    && (segment + 1 == segments || distance < projected[segment + 1].distance)
            })
            .map(|segment| projected[segment])
            .collect();
        if local_minima.is_empty() {
            return None;
        }
        local_minima.sort_by(|a, b| a.distance.total_cmp(&b.distance));
        local_minima.truncate(MAX_CANDIDATES);
        local_minima.sort_by(|a, b| a.along().total_cmp(&b.along()));
        candidates.push(local_minima);
    }
    // cost[i][c]: least total distance placing stops 0..=i with stop i at candidate c.
    let mut cost: Vec<Vec<f64>> = Vec::with_capacity(stops.len());
    let mut from: Vec<Vec<usize>> = Vec::with_capacity(stops.len());
    cost.push(candidates[0].iter().map(|candidate| candidate.distance).collect());
    from.push(vec![0; candidates[0].len()]);
    for stop in 1..stops.len() {
        let mut stop_cost = Vec::with_capacity(candidates[stop].len());
        let mut stop_from = Vec::with_capacity(candidates[stop].len());
        for candidate in &candidates[stop] {
            let best = candidates[stop - 1]
                .iter()
                .enumerate()
                .filter(|(_, previous)| previous.along() <= candidate.along())
                .map(|(index, _)| (index, cost[stop - 1][index]))
                .min_by(|a, b| a.1.total_cmp(&b.1));
            match best {
                Some((index, previous_cost)) => {
                    stop_cost.push(previous_cost + candidate.distance);
                    stop_from.push(index);
                }
                None => {
                    stop_cost.push(f64::INFINITY);
                    stop_from.push(0);
                }
            }
        }
        cost.push(stop_cost);
        from.push(stop_from);
    }
    let last = stops.len() - 1;
    let (mut choice, best_cost) =
        cost[last].iter().copied().enumerate().min_by(|a, b| a.1.total_cmp(&b.1))?;
    if !best_cost.is_finite() {
        return None;
    }
    let mut placed = vec![0u32; stops.len()];
    for stop in (0..stops.len()).rev() {
        placed[stop] = candidates[stop][choice].segment as u32;
        choice = from[stop][choice];
    }
    Some(placed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(lat: f64, lon: f64) -> RawShapePoint {
        RawShapePoint {
            shape: 0,
            sequence: 0,
            lat: (lat * 1e6).round() as i32,
            lon: (lon * 1e6).round() as i32,
            dist: f32::NAN,
        }
    }

    fn row(shape_dist: f32) -> RawStopTime {
        RawStopTime {
            trip: 0,
            sequence: 0,
            stop: 0,
            arrival: 0,
            departure: 0,
            shape_dist,
            rules: crate::model::StopRules::BOTH,
        }
    }

    #[test]
    fn stops_of_a_loop_are_placed_on_the_pass_they_are_served_on() {
        // Out along a street and back along the same street (0.001° ≈ 90 m of longitude):
        // the first stop on the way out, the second at the far end, the third on the way back
        // at the very place of the first.
        let shape = [
            point(35.0, 135.000),
            point(35.0, 135.005),
            point(35.0, 135.010),
            point(35.0001, 135.005),
            point(35.0001, 135.000),
        ];
        let stops = [(35.00005, 135.001), (35.0, 135.009), (35.00005, 135.001)];
        let rows = [row(f32::NAN); 3];
        let segments = place_stops(&shape, &rows, &stops).expect("the stops lie along the shape");
        assert_eq!(segments, vec![0, 1, 3]);
    }

    #[test]
    fn shape_dist_traveled_places_stops_when_given() {
        let mut shape = [point(35.0, 135.000), point(35.0, 135.005), point(35.0, 135.010)];
        for (index, point) in shape.iter_mut().enumerate() {
            point.dist = index as f32 * 455.0;
        }
        let stops = [(35.0, 135.000), (35.0, 135.006), (35.0, 135.010)];
        let rows = [row(0.0), row(546.0), row(910.0)];
        assert_eq!(place_stops(&shape, &rows, &stops), Some(vec![0, 1, 1]));
    }

    #[test]
    fn a_stop_far_from_the_shape_leaves_the_trip_without_one() {
        let shape = [point(35.0, 135.000), point(35.0, 135.010)];
        let stops = [(35.0, 135.000), (35.01, 135.005)];
        assert_eq!(place_stops(&shape, &[row(f32::NAN); 2], &stops), None);
    }
}
