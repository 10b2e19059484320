//! The encoded polyline of a leg's or a trip's geometry: Google's polyline algorithm at
//! precision 5 (what the map SDKs of Android, iOS, Mapbox and Leaflet plugins decode).
//!
//! Each point is latitude then longitude, rounded to 1e-5 degrees (about a metre), written as
//! the difference from the previous point (the first from (0, 0)): the value shifted left one
//! bit (inverted when negative), cut into 5-bit chunks from the low end, each chunk but the
//! last or-ed with 0x20, plus 63, as one ASCII character.

/// Decimal places of the encoded coordinates.
pub const PRECISION: u32 = 5;

const FACTOR: f64 = 100_000.0;

/// Encodes `(latitude, longitude)` points in degrees.
pub fn encode(points: &[(f64, f64)]) -> String {
    let mut out = String::with_capacity(points.len() * 8);
    let mut previous = (0i64, 0i64);
    for &(lat, lon) in points {
        let current = ((lat * FACTOR).round() as i64, (lon * FACTOR).round() as i64);
        write_value(current.0 - previous.0, &mut out);
        write_value(current.1 - previous.1, &mut out);
        previous = current;
    }
    out
}

fn write_value(value: i64, out: &mut String) {
    let mut bits = if value < 0 { !(value << 1) } else { value << 1 } as u64;
    while bits >= 0x20 {
        out.push(char::from((0x20 | (bits & 0x1f)) as u8 + 63));
        bits >>= 5;
    }
    out.push(char::from(bits as u8 + 63));
}

/// Decodes an encoded polyline into `(latitude, longitude)` points in degrees; `None` when it
/// is not one (a character outside `?`..=`~`, or a value cut short).
pub fn decode(text: &str) -> Option<Vec<(f64, f64)>> {
    let bytes = text.as_bytes();
    let mut position = 0;
    let mut current = (0i64, 0i64);
    let mut points = Vec::new();
    while position < bytes.len() {
        current.0 += read_value(bytes, &mut position)?;
        current.1 += read_value(bytes, &mut position)?;
        points.push((current.0 as f64 / FACTOR, current.1 as f64 / FACTOR));
    }
    Some(points)
}

fn read_value(bytes: &[u8], position: &mut usize) -> Option<i64> {
    let mut bits = 0u64;
    let mut shift = 0;
    loop {
        let byte = *bytes.get(*position)?;
        *position += 1;
        if !(63..=126).contains(&byte) || shift > 60 {
            return None;
        }
        let chunk = u64::from(byte - 63);
        bits |= (chunk & 0x1f) << shift;
        shift += 5;
        if chunk < 0x20 {
            break;
        }
    }
    let value = (bits >> 1) as i64;
    Some(if bits & 1 == 1 { !value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_the_example_of_the_algorithm_description() {
        // The worked example of Google's "Encoded Polyline Algorithm Format" page.
        let points = [(38.5, -120.2), (40.7, -120.95), (43.252, -126.453)];
        assert_eq!(encode(&points), "_p~iF~ps|U_ulLnnqC_mqNvxq`@");
        assert_eq!(decode("_p~iF~ps|U_ulLnnqC_mqNvxq`@").as_deref(), Some(&points[..]));
    }

    #[test]
    fn round_trips_to_a_hundred_thousandth_of_a_degree() {
        let points = [
            (33.589_886, 130.420_643),
            (33.590_1, 130.419_9),
            (-33.868_82, 151.209_29),
            (0.0, 0.0),
            (89.999_99, -179.999_99),
            (40.712_8, -74.006_0),
        ];
        let decoded = decode(&encode(&points)).expect("our own encoding decodes");
        assert_eq!(decoded.len(), points.len());
        for (got, want) in decoded.iter().zip(&points) {
            assert!((got.0 - want.0).abs() <= 0.000_005 && (got.1 - want.1).abs() <= 0.000_005);
        }
        assert_eq!(encode(&[]), "");
        assert_eq!(decode(""), Some(Vec::new()));
    }

    #[test]
    fn text_that_is_not_a_polyline_is_refused() {
        assert_eq!(decode("_p~iF~ps|U_"), None, "a value cut short");
        assert_eq!(decode("abc def"), None, "a space is outside the alphabet");
        assert_eq!(decode("_p~iF"), None, "a latitude without its longitude");
    }
}
