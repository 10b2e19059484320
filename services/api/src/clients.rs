//! [`ClientLimits`]: what one client address may do without a known key. Anonymous requests
//! (open access) and requests whose key this instance does not know each draw from a token
//! bucket per client address, so one client can neither take the open api from everyone nor
//! guess keys at the database's expense. Requests with a known key are limited by the key.

use std::net::IpAddr;
use std::time::Duration;

use axum::extract::Request;
use norikae_runtime::clients::{ClientRate, peer_address};
use norikae_runtime::{ClientLimiter, client_address};

use crate::config::AuthSettings;
use crate::ratelimit::{PolicyState, RateLimits};

/// How often full buckets are forgotten.
const CLEANUP_INTERVAL: Duration = Duration::from_secs(10);

/// A client over one of its limits; the key-auth middleware answers 429 with `Retry-After`.
#[derive(Debug, thiserror::Error)]
pub enum ClientLimited {
    #[error("requests without an API key are limited to {rate} per client")]
    Anonymous { rate: ClientRate, retry_after_secs: u64 },
    #[error("requests with unknown API keys are limited to {rate} per client")]
    UnknownKeys { rate: ClientRate, retry_after_secs: u64 },
}

#[derive(Clone, Debug)]
pub struct ClientLimits {
    trusted_proxies: usize,
    anonymous: ClientLimiter,
    unknown_key: ClientLimiter,
}

impl ClientLimits {
    pub fn new(auth: &AuthSettings) -> Self {
        Self {
            trusted_proxies: auth.trusted_proxies,
            anonymous: ClientLimiter::new(auth.anonymous_limit),
            unknown_key: ClientLimiter::new(auth.unknown_key_limit),
        }
    }

    /// The client address of `request` (see [`client_address`]).
    pub fn client_of(&self, request: &Request) -> Option<IpAddr> {
        client_address(request.headers(), peer_address(request.extensions()), self.trusted_proxies)
    }

    /// One anonymous request of `client`; refused past its limit. Where the client stands
    /// goes into `limits` (policy `anonymous`).
    pub fn admit_anonymous(
        &self,
        client: Option<IpAddr>,
        limits: &mut RateLimits,
    ) -> Result<(), ClientLimited> {
        let Some(client) = client else { return Ok(()) };
        let quota = self.anonymous.rate().quota();
        let checked = self.anonymous.check_remaining(client);
        limits.push(PolicyState::bucket("anonymous", quota, *checked.as_ref().unwrap_or(&0)));
        checked.map(|_| ()).map_err(|retry_after_secs| ClientLimited::Anonymous {
            rate: self.anonymous.rate(),
            retry_after_secs,
        })
    }

    /// One request of `client` with a key not known here; refused past its limit (before
    /// any database lookup), and then `limits` says so (policy `unknown_keys`).
    pub fn admit_unknown_key(
        &self,
        client: Option<IpAddr>,
        limits: &mut RateLimits,
    ) -> Result<(), ClientLimited> {
        let Some(client) = client else { return Ok(()) };
        self.unknown_key.check(client).map_err(|retry_after_secs| {
            limits.push(PolicyState::bucket("unknown_keys", self.unknown_key.rate().quota(), 0));
            ClientLimited::UnknownKeys { rate: self.unknown_key.rate(), retry_after_secs }
        })
    }

    /// Forgets idle clients every few seconds until the tasks are aborted.
    pub fn spawn_cleanup(&self) -> [tokio::task::JoinHandle<()>; 2] {
        [
            self.anonymous.spawn_cleanup(CLEANUP_INTERVAL),
            self.unknown_key.spawn_cleanup(CLEANUP_INTERVAL),
        ]
    }
}
