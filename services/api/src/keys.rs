//! API keys checked on every request ([`KeyStore`]); the records and the `norikae keys`
//! commands that create, list and revoke them live in [`crate::key_records`] (re-exported).
//!
//! A key's secret (`nk_…`) is shown once; the database keeps its SHA-256 only. Verified keys
//! are held in memory and re-read every `auth.key_refresh_ms`, so a database outage does not
//! stop clients whose keys are known. Each key has its own token bucket (governor) and a
//! daily quota counted in memory and written to `api_key_usage` in batches: a batch that
//! cannot be written is kept and retried, so no usage is lost while the database is down.
//! Each batch is an atomic increment that returns the key's new total over every instance,
//! and an instance refuses once that total plus its own unwritten count reaches the quota:
//! N instances together exceed a quota by at most what they count between two flushes.
//!
//! A key not known in memory costs its client a token of [`ClientLimits`]' unknown-key
//! bucket before anything else, and a hash the database did not know is remembered
//! ([`UnknownKeys`]), so guessing costs no database query past a client's first few tries.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

use crate::clients::{ClientLimited, ClientLimits};
pub use crate::key_records::{
    KeyError, KeyRecord, MIN_SUPPLIED_SECRET_CHARS, NewKey, Rate, Registered, SCOPE_ADMIN,
    SCOPE_READ, SECRET_PREFIX, create_key, hash_secret, list_keys, register_key, revoke_key,
};
use crate::ratelimit::{PolicyState, RateLimits};
use crate::store::{self, Db, StoreError};
use crate::unknown_keys::UnknownKeys;

/// What a request's key check concluded.
#[derive(Clone, Debug)]
pub enum Access {
    /// Open access and no key sent.
    Anonymous,
    Key(Arc<KeyRecord>),
}

/// Why a request's key check refused it. The key-auth middleware answers each with its
/// problem (status, `code`, `Retry-After`); the messages are the problems' details.
#[derive(Debug, thiserror::Error)]
pub enum AccessDenied {
    #[error("send an API key as `X-Api-Key: <key>` or `Authorization: Bearer <key>`")]
    MissingKey,
    #[error("this API key is not valid")]
    InvalidKey,
    #[error("this API key has been revoked")]
    Revoked,
    #[error("this API key lacks the `{scope}` scope")]
    InsufficientScope { scope: String },
    #[error("this API key is limited to {rate} (burst {burst})")]
    RateLimited { rate: Rate, burst: u32, retry_after_secs: u64 },
    #[error("this API key's daily quota of {quota} requests is used up until 00:00 UTC")]
    QuotaExceeded { quota: u64, retry_after_secs: u64 },
    /// Anonymous requests or unknown keys over the client's limit.
    #[error(transparent)]
    Client(#[from] ClientLimited),
    /// A key not in memory could not be looked up.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A key's token bucket, which reports what is left of it after each request.
type KeyLimiter = RateLimiter<NotKeyed, InMemoryState, DefaultClock, StateInformationMiddleware>;

/// Per-key request counts not yet written, by (key id, UTC day).
type PendingUsage = HashMap<(String, NaiveDate), u64>;

/// Verified keys, rate limiters and daily counts, in memory. See the module docs.
#[derive(Clone)]
pub struct KeyStore {
    inner: Arc<StoreInner>,
}

struct StoreInner {
    db: Db,
    clients: ClientLimits,
    keys: Mutex<KeyCache>,
    limiters: Mutex<HashMap<String, (Quota, Arc<KeyLimiter>)>>,
    usage: Mutex<UsageCounts>,
    /// Serialises flushes (the background task's and the one at shutdown).
    flushing: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct KeyCache {
    by_hash: HashMap<String, Arc<KeyRecord>>,
    /// Hashes the database did not know: not asked again (bounded; kept across refreshes).
    unknown: UnknownKeys,
    /// Hashes looked up one by one since the running refresh began: that refresh may have
    /// read the table before they were created, so it must not drop them.
    verified_during_refresh: HashSet<String>,
    loaded: bool,
}

#[derive(Default)]
struct UsageCounts {
    /// What the database held for each key on `day` at the last refresh.
    stored_day: Option<NaiveDate>,
    stored: HashMap<String, u64>,
    pending: PendingUsage,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("KeyStore").finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl KeyStore {
    pub fn new(db: Db, clients: ClientLimits) -> Self {
        Self {
            inner: Arc::new(StoreInner {
                db,
                clients,
                keys: Mutex::new(KeyCache::default()),
                limiters: Mutex::new(HashMap::new()),
                usage: Mutex::new(UsageCounts::default()),
                flushing: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The per-client limits of anonymous requests and unknown keys.
    pub fn clients(&self) -> &ClientLimits {
        &self.inner.clients
    }

    /// Checks a request's key (`None`: none sent) for `scope`, its rate and its quota, and
    /// counts the request. `open_access` lets requests without a key through, limited per
    /// `client` address (as are keys not known here). Also returns the limits that applied
    /// and where the request left them (the `RateLimit` headers), refused or not.
    pub async fn admit(
        &self,
        secret: Option<&str>,
        scope: &str,
        open_access: bool,
        client: Option<IpAddr>,
    ) -> (Result<Access, AccessDenied>, RateLimits) {
        let mut limits = RateLimits::default();
        let admitted = self.check_access(secret, scope, open_access, client, &mut limits).await;
        (admitted, limits)
    }

    async fn check_access(
        &self,
        secret: Option<&str>,
        scope: &str,
        open_access: bool,
        client: Option<IpAddr>,
        limits: &mut RateLimits,
    ) -> Result<Access, AccessDenied> {
        let Some(secret) = secret else {
            if open_access {
                self.inner.clients.admit_anonymous(client, limits)?;
                return Ok(Access::Anonymous);
            }
            return Err(AccessDenied::MissingKey);
        };
        let record = self.verify(secret, client, limits).await?;
        if record.revoked_at.is_some() {
            return Err(AccessDenied::Revoked);
        }
        if !record.has_scope(scope) {
            return Err(AccessDenied::InsufficientScope { scope: scope.to_owned() });
        }
        self.check_rate(&record, limits)?;
        self.count_against_quota(&record, limits)?;
        Ok(Access::Key(record))
    }

    /// The key for `secret`: from memory, else from the database (a key created since the
    /// last refresh). A key not in memory first costs `client` an unknown-key token.
    async fn verify(
        &self,
        secret: &str,
        client: Option<IpAddr>,
        limits: &mut RateLimits,
    ) -> Result<Arc<KeyRecord>, AccessDenied> {
        let well_formed = secret.starts_with(SECRET_PREFIX) && secret.len() <= 200;
        let hash = well_formed.then(|| hash_secret(secret));
        if let Some(hash) = &hash
            && let Some(record) = lock(&self.inner.keys).by_hash.get(hash)
        {
            return Ok(record.clone());
        }
        self.inner.clients.admit_unknown_key(client, limits)?;
        let Some(hash) = hash else {
            return Err(AccessDenied::InvalidKey);
        };
        {
            let cache = lock(&self.inner.keys);
            if let Some(record) = cache.by_hash.get(&hash) {
                return Ok(record.clone());
            }
            if cache.unknown.contains(&hash) {
                return Err(AccessDenied::InvalidKey);
            }
        }
        if !self.inner.db.is_migrated() {
            return Err(StoreError::NotMigrated.into());
        }
        let found = store::keys::by_hash(&self.inner.db, &hash).await?;
        let mut cache = lock(&self.inner.keys);
        match found {
            Some(record) => {
                let record = Arc::new(record);
                cache.verified_during_refresh.insert(hash.clone());
                cache.by_hash.insert(hash, record.clone());
                Ok(record)
            }
            None => {
                cache.unknown.insert(hash);
                Err(AccessDenied::InvalidKey)
            }
        }
    }

    fn check_rate(&self, record: &KeyRecord, limits: &mut RateLimits) -> Result<(), AccessDenied> {
        let quota = record.rate.quota(record.burst);
        let limiter = {
            let mut limiters = lock(&self.inner.limiters);
            let new_limiter = || {
                Arc::new(RateLimiter::direct(quota).with_middleware::<StateInformationMiddleware>())
            };
            let entry = limiters.entry(record.id.clone()).or_insert_with(|| (quota, new_limiter()));
            if entry.0 != quota {
                *entry = (quota, new_limiter());
            }
            entry.1.clone()
        };
        match limiter.check() {
            Ok(snapshot) => {
                limits.push(PolicyState::bucket("key", quota, snapshot.remaining_burst_capacity()));
                Ok(())
            }
            Err(not_until) => {
                limits.push(PolicyState::bucket("key", quota, 0));
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Err(AccessDenied::RateLimited {
                    rate: record.rate,
                    burst: record.burst,
                    retry_after_secs: secs.max(1),
                })
            }
        }
    }

    fn count_against_quota(
        &self,
        record: &KeyRecord,
        limits: &mut RateLimits,
    ) -> Result<(), AccessDenied> {
        let now = Utc::now();
        let today = now.date_naive();
        let secs_to_midnight = today
            .succ_opt()
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .map_or(3_600, |midnight| (midnight.and_utc() - now).num_seconds().max(1) as u64);
        let mut usage = lock(&self.inner.usage);
        let stored = if usage.stored_day == Some(today) {
            usage.stored.get(&record.id).copied().unwrap_or(0)
        } else {
            0
        };
        let pending_key = (record.id.clone(), today);
        let pending = usage.pending.get(&pending_key).copied().unwrap_or(0);
        if let Some(quota) = record.daily_quota
            && stored + pending >= quota
        {
            limits.push(PolicyState::daily(quota, quota, secs_to_midnight));
            return Err(AccessDenied::QuotaExceeded { quota, retry_after_secs: secs_to_midnight });
        }
        *usage.pending.entry(pending_key).or_insert(0) += 1;
        if let Some(quota) = record.daily_quota {
            limits.push(PolicyState::daily(quota, stored + pending + 1, secs_to_midnight));
        }
        Ok(())
    }

    /// Writes counted usage to the database, then re-reads keys and today's usage. A batch
    /// that fails is put back and written with the next one.
    pub async fn sync(&self) -> Result<(), StoreError> {
        self.flush().await?;
        self.refresh().await
    }

    pub async fn flush(&self) -> Result<(), StoreError> {
        let _serialised = self.inner.flushing.lock().await;
        // Copied, not taken: if this flush is cut short (shutdown), the counts stay pending.
        let batch = lock(&self.inner.usage).pending.clone();
        if batch.is_empty() {
            return Ok(());
        }
        let totals = store::usage::add(&self.inner.db, &batch).await?;
        let mut usage = lock(&self.inner.usage);
        let today = Utc::now().date_naive();
        if usage.stored_day != Some(today) {
            usage.stored_day = Some(today);
            usage.stored.clear();
        }
        for (key, count) in batch {
            if let Some(pending) = usage.pending.get_mut(&key) {
                *pending = pending.saturating_sub(count);
                if *pending == 0 {
                    usage.pending.remove(&key);
                }
            }
        }
        // The totals over every instance, this batch included.
        for ((key_id, day), total) in totals {
            if day == today {
                let stored = usage.stored.entry(key_id).or_insert(0);
                *stored = (*stored).max(total);
            }
        }
        Ok(())
    }

    /// Re-reads every key and today's usage.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        lock(&self.inner.keys).verified_during_refresh.clear();
        let mut by_hash: HashMap<String, Arc<KeyRecord>> = store::keys::all_by_hash(&self.inner.db)
            .await?
            .into_iter()
            .map(|(hash, record)| (hash, Arc::new(record)))
            .collect();
        let today = Utc::now().date_naive();
        let stored = store::usage::on_day(&self.inner.db, today).await?;
        {
            let mut cache = lock(&self.inner.keys);
            // Keys created (and verified) after the table was read above stay known.
            let verified = std::mem::take(&mut cache.verified_during_refresh);
            for hash in verified {
                if let Some(record) =
                    cache.by_hash.get(&hash).filter(|_| !by_hash.contains_key(&hash))
                {
                    by_hash.insert(hash, record.clone());
                }
            }
            cache.unknown.forget_known(&by_hash);
            cache.by_hash = by_hash;
            cache.loaded = true;
        }
        let mut usage = lock(&self.inner.usage);
        let mut stored = stored;
        if usage.stored_day == Some(today) {
            // A flush that finished after the read above knows a newer (larger) total.
            for (key_id, total) in &usage.stored {
                let read = stored.entry(key_id.clone()).or_insert(0);
                *read = (*read).max(*total);
            }
        }
        usage.stored_day = Some(today);
        usage.stored = stored;
        Ok(())
    }

    /// Requests of `key_id` counted today: stored plus not yet written.
    pub fn used_today(&self, key_id: &str) -> u64 {
        let today = Utc::now().date_naive();
        let usage = lock(&self.inner.usage);
        let stored = if usage.stored_day == Some(today) {
            usage.stored.get(key_id).copied().unwrap_or(0)
        } else {
            0
        };
        stored + usage.pending.get(&(key_id.to_owned(), today)).copied().unwrap_or(0)
    }

    /// Requests counted but not yet written to the database.
    pub fn pending_requests(&self) -> u64 {
        lock(&self.inner.usage).pending.values().sum()
    }

    /// Flushes every `flush_interval` and refreshes every `refresh_interval` until `stop` is
    /// cancelled (a flush under way is finished first).
    pub fn spawn_sync(
        &self,
        flush_interval: Duration,
        refresh_interval: Duration,
        stop: tokio_util::sync::CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(flush_interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut last_refresh: Option<tokio::time::Instant> = None;
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    _ = ticker.tick() => {}
                }
                if !store.inner.db.is_migrated() {
                    continue;
                }
                if let Err(error) = store.flush().await {
                    tracing::warn!(error = %error, pending = store.pending_requests(), "key usage not written; kept for the next try");
                }
                let due = last_refresh.is_none_or(|last| last.elapsed() >= refresh_interval);
                if due {
                    match store.refresh().await {
                        Ok(()) => last_refresh = Some(tokio::time::Instant::now()),
                        Err(error) => {
                            tracing::warn!(error = %error, "keys not refreshed; using the ones in memory")
                        }
                    }
                }
            }
        })
    }
}
