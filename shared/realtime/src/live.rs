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

/// One source's share of a batch: its store (taken out of the map, `None` until a message
/// of a new source applies), its messages' positions in the batch and their outcomes.
struct SourceWork<'a> {
    source: &'a str,
    store: Option<SourceStore>,
    messages: Vec<usize>,
    results: Vec<(usize, Result<crate::store::Applied, Error>)>,
    replaced: Vec<Vec<crate::proto::FeedEntity>>,
    expired: usize,
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

    /// Applies several messages at once (a poll round's): each source's messages are
    /// decoded and stored and its part of the overlay built on its own thread of the rayon
    /// pool (decoding right before building keeps the decoded entities in cache), then one
    /// overlay is merged and swapped in. The result is the one applying them in order one
    /// by one gives; each message is answered in its place, a refused one alone (counted
    /// and logged as by [`Realtime::apply`]) while the others apply. The sources stay
    /// locked for the whole batch (another message waits for it).
    pub fn apply_batch(
        &self,
        messages: &[Message<'_>],
        timetable: &Timetable,
        now: i64,
    ) -> Vec<Result<ApplyReport, Error>> {
        let mut sources = self.sources.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Each source's messages in the batch's order, so that a source sending twice ends
        // with its later message; its store taken out of the map while it is worked on.
        let mut work: Vec<SourceWork> = Vec::new();
        for (index, message) in messages.iter().enumerate() {
            match work.iter_mut().find(|work| work.source == message.source) {
                Some(work) => work.messages.push(index),
                None => work.push(SourceWork {
                    source: message.source,
                    store: sources.remove(message.source),
                    messages: vec![index],
                    results: Vec::new(),
                    replaced: Vec::new(),
                    expired: 0,
                }),
            }
        }
        work.par_iter_mut().for_each(|work| {
            for &index in &work.messages {
                let message = &messages[index];
                let applied = self.decode_one(message, timetable).map(|decoded| {
                    let store = work.store.get_or_insert_with(|| SourceStore::new(message.feed));
                    message.feed.clone_into(&mut store.feed);
                    store.apply(decoded, now, &mut work.replaced)
                });
                work.results.push((index, applied));
            }
            // Its part now, while its entities are in cache (a source with nothing applied
            // is left for the next rebuild, as a refused message changes nothing).
            let any_applied = work.results.iter().any(|(_, result)| result.is_ok());
            if let Some(store) = work.store.as_mut().filter(|_| any_applied) {
                work.expired = self.refresh_part(store, timetable, now).0;
            }
        });
        let mut applied: Vec<Option<Result<crate::store::Applied, Error>>> =
            messages.iter().map(|_| None).collect();
        let mut replaced = Vec::new();
        let mut expired = 0;
        for work in work {
            if let Some(store) = work.store {
                sources.insert(work.source.to_owned(), store);
            }
            for (index, result) in work.results {
                applied[index] = Some(result);
            }
            replaced.extend(work.replaced);
            expired += work.expired;
        }
        let applied_count = applied.iter().filter(|result| matches!(result, Some(Ok(_)))).count();
        // Nothing applied (every message refused): the current overlay stays as it is.
        let (build_micros, stats) = if applied_count > 0 {
            self.rebuild_locked(&mut sources, timetable, now, expired, true)
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
                let applied = result.expect("every message of the batch was worked on")?;
                Ok(ApplyReport {
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
    /// switch, and periodically so that stale data goes even when no message comes). When
    /// nothing expired and no source's part was stale, the overlay stays the same one (what
    /// the searches built for it, such as Trip-Based days, stays valid).
    pub fn refresh(&self, timetable: &Timetable, now: i64) -> OverlayStats {
        let mut sources = self.sources.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.rebuild_locked(&mut sources, timetable, now, 0, false).1
    }

    /// Expires `store`'s old entities and builds its part again if it is stale (built for
    /// another timetable, or long enough ago that "today" may have moved for descriptors
    /// without start_date); how many entities expired, and whether the part changed.
    fn refresh_part(
        &self,
        store: &mut SourceStore,
        timetable: &Timetable,
        now: i64,
    ) -> (usize, bool) {
        let expired = store.expire(now, self.max_age_secs);
        let current = store.partial.as_ref().is_some_and(|partial| {
            partial.fits(timetable) && now - partial.built_at < PARTIAL_MAX_AGE_SECS
        });
        if !current {
            let inputs: Vec<Input<'_>> = store
                .entities()
                .map(|entity| Input { feed: store.feed.as_str(), entity })
                .collect();
            store.partial = Some(Arc::new(overlay::build(timetable, &inputs, now)));
        }
        (expired, expired > 0 || !current)
    }

    /// Refreshes every source's part (in parallel) and swaps in their merge (with `force`
    /// always, else only when a part changed or the overlay is another timetable's);
    /// `expired`: entities already expired by the caller, for the count and the log.
    fn rebuild_locked(
        &self,
        sources: &mut BTreeMap<String, SourceStore>,
        timetable: &Timetable,
        now: i64,
        expired: usize,
        force: bool,
    ) -> (u64, OverlayStats) {
        let started = Instant::now();
        let mut stores: Vec<&mut SourceStore> = sources.values_mut().collect();
        let (refreshed_expired, changed) = stores
            .par_iter_mut()
            .map(|store| self.refresh_part(store, timetable, now))
            .reduce(|| (0, false), |a, b| (a.0 + b.0, a.1 || b.1));
        let expired = expired + refreshed_expired;
        let current = self.overlay.load();
        if !force && !changed && current.fits(timetable) {
            return (0, current.stats);
        }
        if expired > 0 {
            self.counters.entities_expired.fetch_add(expired as u64, Ordering::Relaxed);
            tracing::info!(expired, "stale realtime entities expired");
        }
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
