//! [`LiveTimetable`]: the timetable a running service answers from, replaced in place when a
//! newer snapshot appears. Requests hold an `Arc<Timetable>` and finish on the timetable they
//! started with; new requests see the new one.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use crate::error::Result;
use crate::model::Timetable;
use crate::snapshot;

pub struct LiveTimetable {
    path: PathBuf,
    current: ArcSwap<Timetable>,
}

impl std::fmt::Debug for LiveTimetable {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("LiveTimetable")
            .field("path", &self.path)
            .field("content_hash", &self.current.load().meta.content_hash)
            .finish()
    }
}

impl LiveTimetable {
    /// Loads the snapshot at `path`.
    pub fn load(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let timetable = snapshot::load(&path)?;
        Ok(Self { path, current: ArcSwap::from_pointee(timetable) })
    }

    /// Wraps an already loaded timetable that came from `path`.
    pub fn new(path: impl Into<PathBuf>, timetable: Arc<Timetable>) -> Self {
        Self { path: path.into(), current: ArcSwap::new(timetable) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The timetable to answer a request from (cheap; hold it for the whole request).
    pub fn current(&self) -> Arc<Timetable> {
        self.current.load_full()
    }

    /// Swaps in `timetable` (for tests and for callers that load themselves).
    pub fn replace(&self, timetable: Arc<Timetable>) {
        self.current.store(timetable);
    }

    /// Loads the snapshot again if its content hash differs from the current one. `Ok(true)`
    /// when a new timetable was swapped in. A missing, partial or bad file leaves the current
    /// timetable in place and returns the error.
    pub fn reload_if_changed(&self) -> Result<bool> {
        let on_disk = snapshot::read_hash(&self.path)?;
        let current_hash = self.current.load().meta.content_hash.clone();
        if on_disk == current_hash {
            return Ok(false);
        }
        let started = Instant::now();
        let timetable = snapshot::load(&self.path)?;
        let new_hash = timetable.meta.content_hash.clone();
        self.current.store(Arc::new(timetable));
        tracing::info!(
            path = %self.path.display(),
            old_hash = %current_hash,
            new_hash = %new_hash,
            load_ms = started.elapsed().as_millis() as u64,
            "timetable snapshot replaced"
        );
        Ok(true)
    }

    /// Polls the snapshot file every `interval` (on tokio's blocking pool) and swaps in a newer
    /// one. Stops when the task is aborted.
    pub fn spawn_watcher(self: &Arc<Self>, interval: Duration) -> tokio::task::JoinHandle<()> {
        let live = Arc::clone(self);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let checker = Arc::clone(&live);
                match tokio::task::spawn_blocking(move || checker.reload_if_changed()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => {
                        tracing::warn!(path = %live.path.display(), error = %error, "snapshot not reloaded; keeping the current one");
                    }
                    Err(error) => tracing::error!(error = %error, "snapshot reload task failed"),
                }
            }
        })
    }
}
