//! Back-off for a throttled ECS API.
//!
//! The SDK's own retry (standard mode, `--sdk-max-attempts`) absorbs short bursts; when a
//! call still comes back throttled, [`crate::ecs::Ecs`] waits here and tries again, with an
//! exponential, jittered delay, so a drain of many instances during an incident does not turn
//! into a retry storm against the control plane.

use std::time::Duration;

use aws_sdk_ecs::config::http::HttpResponse;
use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};

/// Error codes AWS services use for throttling (from the SDK's retry classifier's list, less
/// codes that mean something else in ECS, such as `LimitExceededException`, a quota).
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// Whether an error code names throttling.
pub fn is_throttling_code(code: &str) -> bool {
    THROTTLING_CODES.contains(&code)
}

/// Whether an SDK error is the service throttling us (by error code, or HTTP 429).
pub fn is_throttling<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> bool {
    if error.code().is_some_and(is_throttling_code) {
        return true;
    }
    error.raw_response().is_some_and(|response| response.status().as_u16() == 429)
}

/// Exponential back-off with jitter: retry `n` (0-based) waits between half and all of
/// `min(cap, base * 2^n)`.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    /// Delay before the first retry (before jitter).
    pub base: Duration,
    /// Longest single delay.
    pub cap: Duration,
    /// Retries after a throttled call before giving up with `OpsError::Throttled`.
    pub max_retries: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { base: Duration::from_millis(200), cap: Duration::from_secs(20), max_retries: 8 }
    }
}

impl Backoff {
    /// Upper bound of the delay before retry `retry` (0-based), before jitter.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(20)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The delay before retry `retry`: uniformly between half the ceiling and the ceiling
    /// ("equal jitter": never zero, so a throttled caller always slows down).
    pub fn delay(&self, retry: u32) -> Duration {
        let ceiling = self.ceiling(retry);
        let half = ceiling / 2;
        let spread_ms = u64::try_from((ceiling - half).as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(rand::random_range(0..=spread_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_grows_exponentially_and_is_capped() {
        let backoff = Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
            max_retries: 5,
        };
        assert_eq!(backoff.ceiling(0), Duration::from_millis(100));
        assert_eq!(backoff.ceiling(1), Duration::from_millis(200));
        assert_eq!(backoff.ceiling(3), Duration::from_millis(800));
        assert_eq!(backoff.ceiling(4), Duration::from_secs(1));
        assert_eq!(backoff.ceiling(60), Duration::from_secs(1));
        for retry in 0..8 {
            let delay = backoff.delay(retry);
            assert!(delay >= backoff.ceiling(retry) / 2, "retry {retry}: {delay:?}");
            assert!(delay <= backoff.ceiling(retry), "retry {retry}: {delay:?}");
        }
    }

    #[test]
    fn throttling_codes_are_recognised_and_others_are_not() {
        assert!(is_throttling_code("ThrottlingException"));
        assert!(is_throttling_code("RequestLimitExceeded"));
        assert!(!is_throttling_code("ClientException"));
        assert!(!is_throttling_code("InvalidParameterException"));
    }
}
