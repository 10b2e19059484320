//! Nearby stations: an R-tree (`rstar`) over station coordinates projected to metres.
//!
//! Coordinates are projected equirectangularly around the network's mean latitude, which is
//! accurate to well under a percent over a city; the distances returned are great-circle
//! (haversine) distances, and the radius is checked against them.

use rstar::RTree;
use rstar::primitives::GeomWithData;

const METRES_PER_DEGREE_LAT: f64 = 111_195.0;
const EARTH_RADIUS_M: f64 = 6_371_008.8;

type Entry = GeomWithData<[f64; 2], u32>;

/// Spatial index of stations.
pub struct NearbyIndex {
    tree: RTree<Entry>,
    /// cos(mean latitude): metres per degree of longitude relative to latitude.
    longitude_scale: f64,
    coordinates: Vec<(f64, f64)>,
}

impl NearbyIndex {
    /// Builds the tree over `(lat, lon)` per station, in station order.
    pub fn build(coordinates: Vec<(f64, f64)>) -> Self {
        let mean_lat = if coordinates.is_empty() {
            0.0
        } else {
            coordinates.iter().map(|(lat, _)| lat).sum::<f64>() / coordinates.len() as f64
        };
        let longitude_scale = mean_lat.to_radians().cos();
        let entries = coordinates
            .iter()
            .enumerate()
            .map(|(position, &(lat, lon))| {
                Entry::new(
                    project(lat, lon, longitude_scale),
                    u32::try_from(position).unwrap_or(u32::MAX),
                )
            })
            .collect();
        Self { tree: RTree::bulk_load(entries), longitude_scale, coordinates }
    }

    /// Stations within `radius_m` of `(lat, lon)`, nearest first, at most `limit`, with their
    /// distance in metres.
    pub fn within(&self, lat: f64, lon: f64, radius_m: f64, limit: usize) -> Vec<(usize, f64)> {
        let centre = project(lat, lon, self.longitude_scale);
        // The projection may shrink distances slightly away from the mean latitude: search a
        // little wider, then check the exact distance.
        let search_radius = radius_m * 1.05 + 1.0;
        let mut found: Vec<(usize, f64)> = self
            .tree
            .locate_within_distance(centre, search_radius * search_radius)
            .filter_map(|entry| {
                let station = entry.data as usize;
                let (station_lat, station_lon) = *self.coordinates.get(station)?;
                let distance = haversine_m(lat, lon, station_lat, station_lon);
                (distance <= radius_m).then_some((station, distance))
            })
            .collect();
        found.sort_by(|left, right| left.1.total_cmp(&right.1).then(left.0.cmp(&right.0)));
        found.truncate(limit);
        found
    }
}

fn project(lat: f64, lon: f64, longitude_scale: f64) -> [f64; 2] {
    [lon * longitude_scale * METRES_PER_DEGREE_LAT, lat * METRES_PER_DEGREE_LAT]
}

/// Great-circle distance in metres.
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let delta_phi = (lat2 - lat1).to_radians();
    let delta_lambda = (lon2 - lon1).to_radians();
    let half_chord = (delta_phi / 2.0).sin().powi(2)
        + phi1.cos() * phi2.cos() * (delta_lambda / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * half_chord.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_first_within_radius() {
        // Okayama station, Omotecho (1.1 km east-south-east), and Kurashiki (15 km west).
        let index =
            NearbyIndex::build(vec![(34.6655, 133.9186), (34.6615, 133.9300), (34.6010, 133.7660)]);
        let found = index.within(34.6650, 133.9190, 2_000.0, 10);
        let stations: Vec<usize> = found.iter().map(|(station, _)| *station).collect();
        assert_eq!(stations, vec![0, 1]);
        assert!(found[0].1 < 100.0 && found[1].1 > 900.0, "{found:?}");
        assert_eq!(index.within(34.6650, 133.9190, 2_000.0, 1).len(), 1);
    }

    #[test]
    fn haversine_matches_known_distance() {
        // Tokyo station to Osaka station is about 403 km in a straight line.
        let distance = haversine_m(35.6812, 139.7671, 34.7025, 135.4959);
        assert!((distance - 403_000.0).abs() < 3_000.0, "{distance}");
    }
}
