//! The paths vehicles drive: shapes as the snapshot stores them, and the geometry of a trip
//! or of a ride between two of its stops.
//!
//! A shape is stored as bytes: for each point the difference from the previous point (the
//! first from (0, 0)) in micro-degrees, latitude then longitude, each zigzag-encoded
//! (0, -1, 1, -2, … → 0, 1, 2, 3, …) and written as a LEB128 varint. Neighbouring points of
//! a bus shape lie metres to a few hundred metres apart, so most deltas take two bytes: about
//! four bytes a point against sixteen for two `f64`s. Decoding a shape is a linear pass; a
//! ride's geometry needs the points up to its alighting stop only.
//!
//! Where the stops lie along the shape is computed at import ([`ShapeCut`]), so cutting a
//! ride is a slice: the boarding stop, the shape's points after the boarding stop's segment
//! up to the alighting stop's segment, the alighting stop. A trip without a shape is drawn
//! stop to stop.

use crate::model::{NO_SHAPE_CUT, ShapeIdx, Timetable, TripIdx};

/// A position in degrees: (latitude, longitude).
pub type LatLon = (f64, f64);

/// Appends `points` (micro-degrees) to `out` in the stored form.
pub fn encode_points(points: &[(i32, i32)], out: &mut Vec<u8>) {
    let mut previous = (0i32, 0i32);
    for &(lat, lon) in points {
        write_varint(zigzag(i64::from(lat) - i64::from(previous.0)), out);
        write_varint(zigzag(i64::from(lon) - i64::from(previous.1)), out);
        previous = (lat, lon);
    }
}

/// Decodes at most `limit` points of `bytes` (micro-degrees). Bytes that end in the middle of a
/// point end the decoding there: a damaged shape draws shorter, it never panics.
pub fn decode_points(bytes: &[u8], limit: usize) -> Vec<(i32, i32)> {
    let mut points = Vec::new();
    let mut position = 0;
    let mut current = (0i64, 0i64);
    while points.len() < limit {
        let Some(lat_delta) = read_varint(bytes, &mut position) else { break };
        let Some(lon_delta) = read_varint(bytes, &mut position) else { break };
        current.0 += unzigzag(lat_delta);
        current.1 += unzigzag(lon_delta);
        let (Ok(lat), Ok(lon)) = (i32::try_from(current.0), i32::try_from(current.1)) else {
            break;
        };
        points.push((lat, lon));
    }
    points
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

fn write_varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn read_varint(bytes: &[u8], position: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*position)?;
        *position += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn degrees((lat, lon): (i32, i32)) -> LatLon {
    (f64::from(lat) / 1e6, f64::from(lon) / 1e6)
}

impl Timetable {
    /// Number of shapes stored.
    pub fn num_shapes(&self) -> usize {
        self.shape_offsets.len().saturating_sub(1)
    }

    /// The stored bytes of `shape` (empty when it is out of range).
    fn shape_bytes(&self, shape: ShapeIdx) -> &[u8] {
        let (Some(&start), Some(&end)) =
            (self.shape_offsets.get(shape.idx()), self.shape_offsets.get(shape.idx() + 1))
        else {
            return &[];
        };
        self.shape_points.get(start as usize..end as usize).unwrap_or_default()
    }

    /// The points of `shape`, in degrees.
    pub fn shape(&self, shape: ShapeIdx) -> Vec<LatLon> {
        decode_points(self.shape_bytes(shape), usize::MAX).into_iter().map(degrees).collect()
    }

    /// The shape `trip` follows and the segment of it each stop of its pattern lies on, when
    /// the trip has a shape.
    pub fn trip_shape(&self, trip: TripIdx) -> Option<(ShapeIdx, &[u32])> {
        let cut_index = *self.trip_shape_cuts.get(trip.idx())?;
        if cut_index == NO_SHAPE_CUT {
            return None;
        }
        let cut = self.shape_cuts.get(cut_index as usize)?;
        let num_stops = self.patterns.get(self.trips.get(trip.idx())?.pattern.idx())?.num_stops();
        let start = cut.segments_start as usize;
        let segments = self.stop_segments.get(start..start + num_stops)?;
        Some((cut.shape, segments))
    }

    /// The path `trip` takes from the stop at position `from` of its pattern to the stop at
    /// `to` (`from <= to`): along its shape where it has one, else straight from stop to stop.
    /// It begins at the first stop's position and ends at the last's.
    pub fn trip_path(&self, trip: TripIdx, from: usize, to: usize) -> Vec<LatLon> {
        let Some(trip_data) = self.trips.get(trip.idx()) else { return Vec::new() };
        let stops = self.pattern_stops(trip_data.pattern);
        let to = to.min(stops.len().saturating_sub(1));
        if from > to {
            return Vec::new();
        }
        let stop_position = |position: usize| {
            let stop = &self.stops[stops[position].idx()];
            (stop.lat, stop.lon)
        };
        let Some((shape, segments)) = self.trip_shape(trip) else {
            return (from..=to).map(stop_position).collect();
        };
        let (first_segment, last_segment) = (segments[from] as usize, segments[to] as usize);
        let points = decode_points(self.shape_bytes(shape), last_segment + 1);
        let mut path: Vec<LatLon> =
            Vec::with_capacity(last_segment.saturating_sub(first_segment) + 2);
        // A shape point where a stop lies adds nothing: one point per place.
        let mut push = |point: LatLon| {
            let micro =
                |(lat, lon): LatLon| ((lat * 1e6).round() as i64, (lon * 1e6).round() as i64);
            if path.last().is_none_or(|last| micro(*last) != micro(point)) {
                path.push(point);
            }
        };
        push(stop_position(from));
        if from < to {
            let inner = points.get(first_segment + 1..).unwrap_or_default();
            inner.iter().copied().map(degrees).for_each(&mut push);
            push(stop_position(to));
        }
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_round_trip_through_the_stored_form() {
        let points = vec![
            (35_681_236, 139_767_125),
            (35_681_240, 139_767_000),
            (-33_868_820, 151_209_290),
            (0, 0),
            (90_000_000, -180_000_000),
        ];
        let mut bytes = Vec::new();
        encode_points(&points, &mut bytes);
        assert_eq!(decode_points(&bytes, usize::MAX), points);
        assert_eq!(decode_points(&bytes, 2), points[..2]);
        // Neighbouring points cost a few bytes.
        let mut near = Vec::new();
        encode_points(&points[..2], &mut near);
        let mut first_only = Vec::new();
        encode_points(&points[..1], &mut first_only);
        assert!(near.len() - first_only.len() <= 4, "{near:?}");
    }

    #[test]
    fn truncated_bytes_decode_to_the_whole_points_before_the_cut() {
        let points = vec![(1_000_000, 2_000_000), (1_000_100, 2_000_100)];
        let mut bytes = Vec::new();
        encode_points(&points, &mut bytes);
        for cut in 0..bytes.len() {
            let decoded = decode_points(&bytes[..cut], usize::MAX);
            assert!(points.starts_with(&decoded), "cut at {cut}: {decoded:?}");
        }
        assert_eq!(decode_points(&[0xff; 20], usize::MAX), Vec::new());
    }
}
