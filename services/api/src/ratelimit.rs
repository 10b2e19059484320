//! The `RateLimit-Policy` and `RateLimit` response headers of
//! [draft-ietf-httpapi-ratelimit-headers-11](https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/11/)
//! (the two-field form that replaced `RateLimit-Limit` / `-Remaining` / `-Reset`), from the
//! limits the key check applied to a request ([`crate::keys::KeyStore::admit`]):
//!
//! ```text
//! RateLimit-Policy: "key";q=40;w=2, "daily";q=100000;w=86400
//! RateLimit: "key";r=39;t=1, "daily";r=99873;t=41230
//! ```
//!
//! Policies: `key` (a key's token bucket: `q` its burst, `w` the seconds the empty bucket
//! takes to fill up again), `daily` (a key's daily quota, UTC days), `anonymous` (the bucket
//! of requests without a key, per client address), `unknown_keys` (the bucket of requests
//! with keys this instance does not know, per client address). In `RateLimit`, `r` is what is
//! left after this request and `t` the seconds until the quota is whole again (the bucket
//! full, the next UTC day). A 429 also carries `Retry-After`: when one more request passes.

use std::time::Duration;

use governor::Quota;
use http::{HeaderMap, HeaderName, HeaderValue};

/// `RateLimit` (lowercase: a header name constant).
pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
/// `RateLimit-Policy`.
pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// One policy that applied to a request, and where the client stands in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyState {
    /// The policy's identifier (`key`, `daily`, `anonymous`, `unknown_keys`).
    pub name: &'static str,
    /// `q`: requests the policy allows in its window.
    pub quota: u64,
    /// `w`: the window, seconds.
    pub window_secs: u64,
    /// `r`: requests left.
    pub remaining: u64,
    /// `t`: seconds until the whole quota is back.
    pub reset_secs: u64,
}

impl PolicyState {
    /// A token bucket (`quota` as governor holds it) with `remaining` tokens left.
    pub fn bucket(name: &'static str, quota: Quota, remaining: u32) -> Self {
        let burst = quota.burst_size().get();
        let interval = quota.replenish_interval();
        let remaining = remaining.min(burst);
        Self {
            name,
            quota: u64::from(burst),
            window_secs: whole_secs(interval * burst).max(1),
            remaining: u64::from(remaining),
            reset_secs: whole_secs(interval * (burst - remaining)),
        }
    }

    /// A daily quota of `quota` requests with `used` counted, resetting in `reset_secs`.
    pub fn daily(quota: u64, used: u64, reset_secs: u64) -> Self {
        Self {
            name: "daily",
            quota,
            window_secs: 86_400,
            remaining: quota.saturating_sub(used),
            reset_secs,
        }
    }
}

/// Seconds, rounded up.
fn whole_secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// The policies that applied to one request (none: no header).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RateLimits(pub Vec<PolicyState>);

impl RateLimits {
    pub fn push(&mut self, state: PolicyState) {
        self.0.push(state);
    }

    /// Writes `RateLimit-Policy` and `RateLimit` (replacing any); nothing without a policy.
    pub fn apply(&self, headers: &mut HeaderMap) {
        if self.0.is_empty() {
            return;
        }
        let join = |item: &dyn Fn(&PolicyState) -> String| {
            self.0.iter().map(item).collect::<Vec<_>>().join(", ")
        };
        let policy =
            join(&|state| format!("\"{}\";q={};w={}", state.name, state.quota, state.window_secs));
        let current = join(&|state| {
            format!("\"{}\";r={};t={}", state.name, state.remaining, state.reset_secs)
        });
        for (name, value) in [(RATELIMIT_POLICY, policy), (RATELIMIT, current)] {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;

    #[test]
    fn buckets_and_quotas_render_as_the_draft_writes_them() {
        // 20 per second, bursts of 40: the empty bucket is full again after 2 s.
        let quota = Quota::per_second(NonZeroU32::new(20).expect("20"))
            .allow_burst(NonZeroU32::new(40).expect("40"));
        let mut limits = RateLimits::default();
        limits.push(PolicyState::bucket("key", quota, 30));
        limits.push(PolicyState::daily(1000, 1000, 3600));
        let mut headers = HeaderMap::new();
        limits.apply(&mut headers);
        assert_eq!(headers[RATELIMIT_POLICY], "\"key\";q=40;w=2, \"daily\";q=1000;w=86400");
        assert_eq!(headers[RATELIMIT], "\"key\";r=30;t=1, \"daily\";r=0;t=3600");

        let mut none = HeaderMap::new();
        RateLimits::default().apply(&mut none);
        assert!(none.is_empty());
    }
}
