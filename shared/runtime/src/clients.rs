//! Per-client limits at the public edge: who the client is behind the balancer
//! ([`client_address`]) and a token bucket per client address ([`ClientLimiter`]), used by
//! the api (anonymous requests, failed key checks) and the app (every page).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use http::{Extensions, HeaderMap};
use serde::{Deserialize, Serialize};

/// Tracked client addresses past which a new one is refused until the next clean-up: the
/// memory a flood of made-up addresses can take stays bounded (a few MB).
pub const MAX_TRACKED_CLIENTS: usize = 100_000;

/// The client address of a request behind `trusted_proxies` proxies (the balancer is one):
/// each proxy appends the address it saw to `X-Forwarded-For`, so the right-most entry not
/// written by a trusted proxy is the `trusted_proxies`-th from the right. Entries further left
/// are whatever the client sent and are never believed. With 0 trusted proxies, or when the
/// header has fewer entries than trusted proxies (the request did not come through them), the
/// socket peer is the client.
pub fn client_address(
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    trusted_proxies: usize,
) -> Option<IpAddr> {
    if trusted_proxies == 0 {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let Some(index) = hops.len().checked_sub(trusted_proxies) else {
        return peer;
    };
    parse_hop(hops[index]).or(peer)
}

/// `203.0.113.7`, `2001:db8::1`, `[2001:db8::1]:443` or `203.0.113.7:5000`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(address) = hop.parse::<IpAddr>() {
        return Some(address);
    }
    hop.parse::<SocketAddr>().ok().map(|socket| socket.ip())
}

/// The socket peer a request came from (set by the runtime's accept loop).
pub fn peer_address(extensions: &Extensions) -> Option<IpAddr> {
    extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| peer.ip())
}

/// The key a client is limited by: its IPv4 address, or the /64 of an IPv6 one (one host
/// usually holds a whole /64, so limiting single IPv6 addresses would limit nothing).
fn limiter_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let segments = v6.segments();
                IpAddr::V6(Ipv6Addr::new(
                    segments[0],
                    segments[1],
                    segments[2],
                    segments[3],
                    0,
                    0,
                    0,
                    0,
                ))
            }
        },
    }
}

/// A rate per client (typed config: `requests` per `per_secs` seconds, bursts of `burst`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRate {
    pub requests: u32,
    pub per_secs: u32,
    pub burst: u32,
}

impl ClientRate {
    /// Refuses zeros, naming the setting (`key`).
    pub fn validate(&self, key: &str) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.requests > 0 && self.per_secs > 0 && self.burst > 0,
            "{key}.requests, {key}.per_secs and {key}.burst must be greater than zero \
             (got {} per {} s, burst {})",
            self.requests,
            self.per_secs,
            self.burst
        );
        Ok(())
    }

    /// The token bucket this rate stands for.
    pub fn quota(self) -> Quota {
        let interval = Duration::from_secs(u64::from(self.per_secs.max(1))) / self.requests.max(1);
        let burst = NonZeroU32::new(self.burst).unwrap_or(NonZeroU32::MIN);
        Quota::with_period(interval.max(Duration::from_nanos(1)))
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst)
    }
}

impl std::fmt::Display for ClientRate {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{} per {} s (burst {})", self.requests, self.per_secs, self.burst)
    }
}

/// A keyed token bucket that reports what is left of a bucket after each request (for the
/// api's `RateLimit` header).
type KeyedLimiter =
    RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock, StateInformationMiddleware>;

/// One token bucket per client address, in bounded memory: full buckets are forgotten by
/// [`ClientLimiter::spawn_cleanup`], and past [`MAX_TRACKED_CLIENTS`] new addresses are
/// refused until then.
#[derive(Clone)]
pub struct ClientLimiter {
    rate: ClientRate,
    limiter: Arc<KeyedLimiter>,
}

impl std::fmt::Debug for ClientLimiter {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("ClientLimiter").field("rate", &self.rate).finish_non_exhaustive()
    }
}

impl ClientLimiter {
    pub fn new(rate: ClientRate) -> Self {
        let limiter =
            RateLimiter::keyed(rate.quota()).with_middleware::<StateInformationMiddleware>();
        Self { rate, limiter: Arc::new(limiter) }
    }

    pub fn rate(&self) -> ClientRate {
        self.rate
    }

    /// Takes one token of `client`'s bucket; `Err` holds the whole seconds (at least 1) to wait.
    pub fn check(&self, client: IpAddr) -> Result<(), u64> {
        self.check_remaining(client).map(|_| ())
    }

    /// [`ClientLimiter::check`], telling how many tokens the bucket still holds after this one.
    pub fn check_remaining(&self, client: IpAddr) -> Result<u32, u64> {
        let key = limiter_key(client);
        if self.limiter.len() >= MAX_TRACKED_CLIENTS {
            self.limiter.retain_recent();
            if self.limiter.len() >= MAX_TRACKED_CLIENTS {
                return Err(1);
            }
        }
        match self.limiter.check_key(&key) {
            Ok(snapshot) => Ok(snapshot.remaining_burst_capacity()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err((wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1))
            }
        }
    }

    /// Addresses tracked now.
    pub fn tracked(&self) -> usize {
        self.limiter.len()
    }

    /// Forgets every client whose bucket is full again (it would start full anyway).
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// Calls [`ClientLimiter::forget_idle`] every `every` until the task is aborted.
    pub fn spawn_cleanup(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let limiter = self.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                limiter.forget_idle();
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().expect("header"));
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_hop() {
        let peer = Some(ip("10.0.0.2"));
        // The client forged the first entry; the balancer appended what it saw.
        let headers = forwarded("1.2.3.4, 198.51.100.7");
        assert_eq!(client_address(&headers, peer, 1), Some(ip("198.51.100.7")));
        assert_eq!(client_address(&headers, peer, 2), Some(ip("1.2.3.4")));
        assert_eq!(client_address(&headers, peer, 0), peer);
        // Fewer hops than trusted proxies: the request did not come through them.
        assert_eq!(client_address(&headers, peer, 3), peer);
        assert_eq!(client_address(&HeaderMap::new(), peer, 1), peer);
        // Several headers read as one list, in order; ports are dropped.
        let mut headers = forwarded("1.2.3.4");
        headers.append("x-forwarded-for", "[2001:db8::1]:443".parse().expect("header"));
        assert_eq!(client_address(&headers, peer, 1), Some(ip("2001:db8::1")));
        assert_eq!(client_address(&forwarded("junk"), peer, 1), peer);
    }

    #[test]
    fn each_client_has_its_own_bucket_and_ipv6_goes_by_64() {
        let limiter = ClientLimiter::new(ClientRate { requests: 1, per_secs: 60, burst: 2 });
        let first = ip("198.51.100.7");
        assert!(limiter.check(first).is_ok());
        assert!(limiter.check(first).is_ok());
        let wait = limiter.check(first).expect_err("third request limited");
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(limiter.check(ip("198.51.100.8")).is_ok());
        assert!(limiter.check(ip("2001:db8::1")).is_ok());
        assert!(limiter.check(ip("2001:db8::2")).is_ok());
        assert!(limiter.check(ip("2001:db8::3")).is_err(), "same /64");
        assert_eq!(limiter.tracked(), 3);
    }

    #[test]
    fn full_buckets_are_forgotten() {
        let limiter = ClientLimiter::new(ClientRate { requests: 1000, per_secs: 1, burst: 1 });
        assert!(limiter.check(ip("198.51.100.7")).is_ok());
        // The limiter reads governor's real clock: the bucket is full again 1 ms after the
        // request, so poll the clean-up until it forgets the client (a deadline, no fixed sleep).
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            limiter.forget_idle();
            if limiter.tracked() == 0 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the full bucket was never forgotten");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
