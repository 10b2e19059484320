//! Distances on the Earth's surface, for walking links, shared stops and station clustering.

const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Great-circle distance in metres (haversine); NaN when a position is unknown.
pub fn distance_m(lat_a: f64, lon_a: f64, lat_b: f64, lon_b: f64) -> f64 {
    let (phi_a, phi_b) = (lat_a.to_radians(), lat_b.to_radians());
    let delta_phi = (lat_b - lat_a).to_radians();
    let delta_lambda = (lon_b - lon_a).to_radians();
    let half_chord = (delta_phi / 2.0).sin().powi(2)
        + phi_a.cos() * phi_b.cos() * (delta_lambda / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * half_chord.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_degree_of_latitude_is_about_111_km() {
        let meters = super::distance_m(34.0, 133.0, 35.0, 133.0);
        assert!((meters - 111_195.0).abs() < 10.0, "{meters}");
    }
}
