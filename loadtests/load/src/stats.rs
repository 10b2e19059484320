//! Figures both binaries print: latency percentiles and failures by kind.

use std::collections::BTreeMap;
use std::time::Duration;

/// The `p`-th percentile (0–100) of `sorted` (ascending), nearest-rank; zero when empty.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The `p`-th percentile of a histogram of `(bucket start, count)` pairs in ascending order.
pub fn bucket_percentile<'a>(
    buckets: impl IntoIterator<Item = (&'a u64, &'a usize)>,
    total: usize,
    p: f64,
) -> u64 {
    let wanted = ((p / 100.0) * total as f64).ceil().max(1.0) as usize;
    let mut seen = 0;
    let mut last = 0;
    for (&bucket, &count) in buckets {
        seen += count;
        last = bucket;
        if seen >= wanted {
            return bucket;
        }
    }
    last
}

/// What went wrong with one request, as the drills count it.
pub fn error_kind(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_body() || error.is_decode() {
        "body"
    } else if error.is_request() {
        "reset"
    } else {
        "other"
    }
}

/// Counts by kind, printed as `kind=count` pairs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally(pub BTreeMap<String, u64>);

impl Tally {
    pub fn add(&mut self, kind: impl Into<String>) {
        *self.0.entry(kind.into()).or_default() += 1;
    }

    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    pub fn merge(&mut self, other: &Tally) {
        for (kind, count) in &other.0 {
            *self.0.entry(kind.clone()).or_default() += count;
        }
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        let pairs: Vec<String> =
            self.0.iter().map(|(kind, count)| format!("{kind}={count}")).collect();
        f.write_str(&pairs.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&samples, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&samples, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&samples, 100.0), Duration::from_millis(100));
        assert_eq!(percentile(&[], 99.0), Duration::ZERO);
        let buckets = [(10_u64, 90_usize), (20, 9), (500, 1)];
        let pairs: Vec<(&u64, &usize)> = buckets.iter().map(|(b, c)| (b, c)).collect();
        assert_eq!(bucket_percentile(pairs.clone(), 100, 50.0), 10);
        assert_eq!(bucket_percentile(pairs.clone(), 100, 99.0), 20);
        assert_eq!(bucket_percentile(pairs, 100, 99.9), 500);
    }

    #[test]
    fn tally_prints_kinds_in_order() {
        let mut tally = Tally::default();
        assert_eq!(tally.to_string(), "none");
        tally.add("status_502");
        tally.add("connect");
        tally.add("status_502");
        assert_eq!(tally.to_string(), "connect=1,status_502=2");
        assert_eq!(tally.total(), 3);
    }
}
