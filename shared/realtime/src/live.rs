//! [`Realtime`]: the realtime state of a running service. Messages are applied one at a time
//! or as a batch (a lock around the sources' entities); each application builds a new
//! [`Overlay`] and swaps it in atomically, so readers hold one overlay for a whole query and
//! never wait. A batch (the messages of one poll round) decodes its messages and builds
//! their sources' parts on the rayon pool in parallel, then merges and swaps once.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use arc_swap::ArcSwap;
use norikae_timetable::Timetable;
use rayon::prelude::*;

use crate::decode::decode;
use crate::error::Error;
use crate::overlay::{self, Input, Overlay, OverlayStats};
use crate::proto::FeedMessage;
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

/// One message to apply: where it came from (a URL, or `push:FEED`), the timetable's feed
/// its ids belong to, and its bytes.
#[derive(Clone, Copy, Debug)]
pub struct Message<'a> {
    pub source: &'a str,
    pub feed: &'a str,
    pub bytes: &'a [u8],
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
        let mut results = self.apply_batch(&[Message { source, feed, bytes }], timetable, now);
        results.pop().expect("a batch answers each of its messages")
    }

    /// Applies several messages at once (a poll round's): each is decoded on its own
    /// thread, their sources' parts are built in parallel, and one overlay is merged and
    /// swapped in. The result is the one applying them in order one by one gives; each
    /// message is answered in its place, a refused one alone (counted and logged as by
    /// [`Realtime::apply`]) while the others apply.
    pub fn apply_batch(
        &self,
        messages: &[Message<'_>],
        timetable: &Timetable,
        now: i64,
    ) -> Vec<Result<ApplyReport, Error>> {
        let decoded: Vec<Result<FeedMessage, Error>> =
            messages.par_iter().map(|message| self.decode_one(message, timetable)).collect();
        let mut sources = self.sources.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Stored in the batch's order, so a source sending twice ends with its later message.
        let mut replaced = Vec::new();
        let applied: Vec<Result<crate::store::Applied, Error>> = messages
            .iter()
            .zip(decoded)
            .map(|(message, decoded)| {
                let decoded = decoded?;
                let store = sources
                    .entry(message.source.to_owned())
                    .or_insert_with(|| SourceStore::new(message.feed));
                message.feed.clone_into(&mut store.feed);
                Ok(store.apply(decoded, now, &mut replaced))
            })
            .collect();
        let applied_count = applied.iter().filter(|result| result.is_ok()).count();
        // Nothing applied (every message refused): the current overlay stays as it is.
        let (build_micros, stats) = if applied_count > 0 {
            self.rebuild_locked(&mut sources, timetable, now)
        } else {
            (0, OverlayStats::default())
        };
        drop(sources);
        // The replaced entities are freed on the pool, after the new overlay is in.
        if replaced.iter().any(|entities| !entities.is_empty()) {
            rayon::spawn(move || drop(replaced));
        }
        self.counters.messages_applied.fetch_add(applied_count as u64, Ordering::Relaxed);
        applied
            .into_iter()
            .map(|result| {
                result.map(|applied| ApplyReport {
                    upserted: applied.upserted,
                    deleted: applied.deleted,
                    incremental: applied.incremental,
                    build_micros,
                    stats,
                })
            })
            .collect()
    }

    /// Checks a message's feed and decodes it; a refusal is counted and logged here.
    fn decode_one(
        &self,
        message: &Message<'_>,
        timetable: &Timetable,
    ) -> Result<FeedMessage, Error> {
        let Message { source, feed, bytes } = *message;
        let refused = |error: Error, counter: &AtomicU64| {
            counter.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(source, feed, code = error.code(), error = %error, "realtime message refused; keeping the current overlay");
            error
        };
        if !timetable.feeds.iter().any(|known| known.name == feed) {
            let error = Error::UnknownFeed { feed: feed.to_owned() };
            return Err(refused(error, &self.counters.messages_unknown_feed));
        }
        match decode(bytes, self.max_bytes) {
            Ok(message) => Ok(message),
            Err(error @ Error::TooLarge { .. }) => {
                Err(refused(error, &self.counters.messages_too_large))
            }
            Err(error) => Err(refused(error, &self.counters.messages_malformed)),
        }
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
        // A part built for another timetable, or long enough ago that "today" may have moved
        // (descriptors without start_date), is built again; the stale parts in parallel.
        let mut stale: Vec<&mut SourceStore> = sources
            .values_mut()
            .filter(|store| {
                !store.partial.as_ref().is_some_and(|partial| {
                    partial.fits(timetable) && now - partial.built_at < PARTIAL_MAX_AGE_SECS
                })
            })
            .collect();
        stale.par_iter_mut().for_each(|store| {
            let inputs: Vec<Input<'_>> = store
                .entities()
                .map(|entity| Input { feed: store.feed.as_str(), entity })
                .collect();
            store.partial = Some(Arc::new(overlay::build(timetable, &inputs, now)));
        });
        let partials: Vec<Arc<Overlay>> =
            sources.values().filter_map(|store| store.partial.clone()).collect();
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
