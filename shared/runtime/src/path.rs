//! Ids put into the URL of a call to another service, as one path segment.
//!
//! Percent-encoding alone cannot make `.` or `..` safe: URL parsers (the WHATWG rules the `url`
//! crate and reqwest follow) treat `.`, `..`, `%2e` and `.%2E` alike as dot segments and
//! remove them, so `/stations/../departures` would reach `/departures`. Such ids are refused.

/// `segment` percent-encoded as one path segment: everything but ASCII letters, digits and
/// `-._~:` is escaped (`/`, `?`, `#`, `%`, spaces, non-ASCII). `None` for an empty segment or
/// a dot segment (`.` or `..`), which no id is and which would climb the upstream path.
pub fn encode_path_segment(segment: &str) -> Option<String> {
    if segment.is_empty() || segment == "." || segment == ".." {
        return None;
    }
    let mut encoded = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b':') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    Some(encoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_ids_as_one_path_segment() {
        assert_eq!(encode_path_segment("okaden:18_10").unwrap(), "okaden:18_10");
        assert_eq!(encode_path_segment("x:a/b c?d#e").unwrap(), "x:a%2Fb%20c%3Fd%23e");
        assert_eq!(encode_path_segment("x:駅").unwrap(), "x:%E9%A7%85");
        assert_eq!(encode_path_segment("%2e%2e").unwrap(), "%252e%252e");
        assert_eq!(encode_path_segment("x:1.2").unwrap(), "x:1.2");
    }

    #[test]
    fn dot_segments_cannot_climb_the_upstream_path() {
        for climbing in ["", ".", ".."] {
            assert_eq!(encode_path_segment(climbing), None, "{climbing:?}");
        }
        // What each accepted segment does inside a real URL: it stays one segment.
        for id in ["...", "..%2F", "../x", "%2e%2E", ".%2e", "x:..", "..x"] {
            let encoded = encode_path_segment(id).unwrap();
            let url =
                url::Url::parse(&format!("http://engine/stations/{encoded}/departures")).unwrap();
            let segments: Vec<_> = url.path_segments().unwrap().collect();
            assert_eq!(segments, ["stations", encoded.as_str(), "departures"], "{id:?}");
        }
    }
}
