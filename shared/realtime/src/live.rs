//! [`Realtime`]: the realtime state of a running service. Messages are applied one at a time
//! (a lock around the sources' entities); each application builds a new [`Overlay`] and
//! swaps it in atomically, so readers hold one overlay for a whole query and never wait.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use arc_swap::ArcSwap;
use norikae_timetable::Timetable;

use crate::decode::decode;
use crate::error::Error;
use crate::overlay::{self, Input, Overlay, OverlayStats};
use crate::store::SourceStore;

/// A source's part of the overlay is rebuilt at least this often.
const PARTIAL_MAX_AGE_SECS: i64 = 60;

/// Messages accepted and refused since start (the overlay's own counts are in
/// [`Overlay::stats`]).
#[derive(Debug, Default)]
pub struct Counters {
    pub messages_applied: AtomicU64,
    pub messages_malformed: AtomicU64,
    pub messages_too_large: AtomicU64,
    pub messages_unknown_feed: AtomicU64,
    pub entities_expired: AtomicU64,
    /// Duration of the last overlay build, microseconds.
    pub last_build_micros: AtomicU64,
}

/// What one message did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApplyReport {
    pub upserted: usize,
    pub deleted: usize,
    pub incremental: bool,
    pub build_micros: u64,
    pub stats: OverlayStats,
}

/// One source's state (for `/status`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceStatus {
    pub source: String,
    pub feed: String,
    pub entities: usize,
    pub incremental: bool,
    /// POSIX seconds.
    pub last_applied: Option<i64>,
    pub header_timestamp: Option<u64>,
}

pub struct Realtime {
    overlay: ArcSwap<Overlay>,
    sources: Mutex<BTreeMap<String, SourceStore>>,
    pub counters: Counters,
    max_bytes: usize,
    max_age_secs: i64,
}

impl std::fmt::Debug for Realtime {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Realtime")
            .field("trips", &self.overlay.load().num_trips())
            .field("max_bytes", &self.max_bytes)
            .field("max_age_secs", &self.max_age_secs)
            .finish_non_exhaustive()
    }
}

impl Realtime {
    /// Messages over `max_bytes` are refused; entities not renewed for `max_age_secs` expire.
    pub fn new(max_bytes: usize, max_age_secs: u64) -> Self {
        Self {
            overlay: ArcSwap::from_pointee(Overlay::default()),
            sources: Mutex::new(BTreeMap::new()),
            counters: Counters::default(),
            max_bytes,
            max_age_secs: i64::try_from(max_age_secs).unwrap_or(i64::MAX),
        }
    }

    /// The overlay to answer from (cheap; hold it for the whole query). Check
    /// [`Overlay::fits`] against the timetable in use.
    pub fn overlay(&self) -> Arc<Overlay> {
        self.overlay.load_full()
    }

    /// Applies one message from `source` (a URL, or `push:FEED`) whose ids belong to the
    /// timetable's feed `feed`, and swaps in the new overlay. A message that cannot be used
    /// is refused whole, counted and logged, and the current overlay stays.
    pub fn apply(
        &self,
        source: &str,
        feed: &str,
        bytes: &[u8],
        timetable: &Timetable,
        now: i64,
    ) -> Result<ApplyReport, Error> {
        let refused = |error: Error, counter: &AtomicU64| {
            counter.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(source, feed, code = error.code(), error = %error, "realtime message refused; keeping the current overlay");
            error
        };
        if !timetable.feeds.iter().any(|known| known.name == feed) {
            let error = Error::UnknownFeed { feed: feed.to_owned() };
            return Err(refused(error, &self.counters.messages_unknown_feed));
        }
        let message = match decode(bytes, self.max_bytes) {
            Ok(message) => message,
            Err(error @ Error::TooLarge { .. }) => {
                return Err(refused(error, &self.counters.messages_too_large));
            }
            Err(error) => return Err(refused(error, &self.counters.messages_malformed)),
        };
        let mut sources = self.sources.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let store = sources.entry(source.to_owned()).or_insert_with(|| SourceStore::new(feed));
        store.feed = feed.to_owned();
        let applied = store.apply(message, now);
        let (build_micros, stats) = self.rebuild_locked(&mut sources, timetable, now);
        drop(sources);
        self.counters.messages_applied.fetch_add(1, Ordering::Relaxed);
        Ok(ApplyReport {
            upserted: applied.upserted,
            deleted: applied.deleted,
            incremental: applied.incremental,
            build_micros,
            stats,
        })
    }

    /// Expires old entities and rebuilds the overlay on `timetable` (after a snapshot
    /// switch, and periodically so that stale data goes even when no message comes).
    pub fn refresh(&self, timetable: &Timetable, now: i64) -> OverlayStats {
        let mut sources = self.sources.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.rebuild_locked(&mut sources, timetable, now).1
    }

    fn rebuild_locked(
        &self,
        sources: &mut BTreeMap<String, SourceStore>,
        timetable: &Timetable,
        now: i64,
    ) -> (u64, OverlayStats) {
        let started = Instant::now();
        let mut expired = 0;
        for store in sources.values_mut() {
            expired += store.expire(now, self.max_age_secs);
        }
        if expired > 0 {
            self.counters.entities_expired.fetch_add(expired as u64, Ordering::Relaxed);
            tracing::info!(expired, "stale realtime entities expired");
        }
        let mut partials = Vec::with_capacity(sources.len());
        for store in sources.values_mut() {
            // A part built for another timetable, or long enough ago that "today" may have
            // moved (descriptors without start_date), is built again.
            let current = store.partial.as_ref().filter(|partial| {
                partial.fits(timetable) && now - partial.built_at < PARTIAL_MAX_AGE_SECS
            });
            let partial = match current {
                Some(partial) => Arc::clone(partial),
                None => {
                    let inputs: Vec<Input<'_>> = store
                        .entities()
                        .map(|entity| Input { feed: store.feed.as_str(), entity })
                        .collect();
                    let built = Arc::new(overlay::build(timetable, &inputs, now));
                    store.partial = Some(Arc::clone(&built));
                    built
                }
            };
            partials.push(partial);
        }
        let built = Overlay::merge(timetable, &partials, now);
        let stats = built.stats;
        self.overlay.store(Arc::new(built));
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.counters.last_build_micros.store(micros, Ordering::Relaxed);
        (micros, stats)
    }

    pub fn sources(&self) -> Vec<SourceStatus> {
        let sources = self.sources.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        sources
            .iter()
            .map(|(source, store)| SourceStatus {
                source: source.clone(),
                feed: store.feed.clone(),
                entities: store.len(),
                incremental: store.incremental,
                last_applied: store.last_applied,
                header_timestamp: store.header_timestamp,
            })
            .collect()
    }
}
