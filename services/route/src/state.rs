//! [`AppState`]: what the handlers share: the current engine (swapped when a newer snapshot
//! is loaded; requests finish on the engine they started with), the query slots and the
//! query timeout.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use norikae_runtime::{Problem, Readiness};
use norikae_timetable::LiveTimetable;
use tokio::sync::Semaphore;

use crate::QuerySettings;
use crate::engine::{Engine, Scratch};
use crate::error::Error;

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    engine: RwLock<Option<Arc<Engine>>>,
    /// When the current engine was swapped in (reported by `GET /status`).
    loaded_at: RwLock<Option<chrono::DateTime<chrono::Utc>>>,
    slots: Arc<Semaphore>,
    settings: QuerySettings,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AppState")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

thread_local! {
    /// Search buffers of this (blocking-pool) thread, reused by every query it runs.
    static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
}

impl AppState {
    pub fn new(settings: QuerySettings) -> Self {
        let slots = Arc::new(Semaphore::new(settings.max_concurrent.max(1)));
        Self {
            inner: Arc::new(Inner {
                engine: RwLock::new(None),
                loaded_at: RwLock::new(None),
                slots,
                settings,
            }),
        }
    }

    pub fn settings(&self) -> &QuerySettings {
        &self.inner.settings
    }

    /// Answers from `engine` from now on.
    pub fn set_engine(&self, engine: Arc<Engine>) {
        let mut current =
            self.inner.engine.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        *current = Some(engine);
        let mut loaded_at =
            self.inner.loaded_at.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        *loaded_at = Some(chrono::Utc::now());
    }

    /// When the engine answering now was swapped in.
    pub fn loaded_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        *self.inner.loaded_at.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn engine(&self) -> Result<Arc<Engine>, Error> {
        let current = self.inner.engine.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        current.clone().ok_or(Error::NotLoaded)
    }

    /// Runs `work` on the blocking pool with this thread's scratch buffers, once a query slot
    /// is free, within the query timeout (waiting included).
    pub async fn query<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Engine, &mut Scratch) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Problem> {
        let engine = self.engine().map_err(crate::handlers::problem)?;
        let timeout = Duration::from_millis(self.inner.settings.timeout_ms);
        let slots = Arc::clone(&self.inner.slots);
        let computed = tokio::time::timeout(timeout, async move {
            let permit = slots.acquire_owned().await.map_err(Problem::internal)?;
            norikae_runtime::run_blocking(move || {
                let _permit = permit;
                SCRATCH.with_borrow_mut(|scratch| {
                    let scratch = match scratch {
                        Some(buffers) if buffers.fits(engine.timetable()) => buffers,
                        _ => scratch.insert(Scratch::new(engine.timetable())),
                    };
                    work(&engine, scratch)
                })
            })
            .await
        })
        .await;
        match computed {
            Err(_elapsed) => {
                Err(crate::handlers::problem(Error::Timeout { secs: timeout.as_secs().max(1) }))
            }
            Ok(Err(problem)) => Err(problem),
            Ok(Ok(result)) => result.map_err(crate::handlers::problem),
        }
    }

    /// Loads the snapshot in the background (retrying until it loads), declares the service
    /// ready, then checks the file every `interval` and swaps in a newer snapshot.
    pub fn spawn_loader(
        self,
        path: PathBuf,
        interval: Duration,
        readiness: Readiness,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let live = loop {
                let load_path = path.clone();
                match tokio::task::spawn_blocking(move || LiveTimetable::load(load_path)).await {
                    Ok(Ok(live)) => break Arc::new(live),
                    Ok(Err(error)) => {
                        tracing::warn!(path = %path.display(), error = %error, "timetable snapshot not loaded; retrying");
                    }
                    Err(error) => tracing::error!(error = %error, "snapshot load task failed"),
                }
                tokio::time::sleep(interval).await;
            };
            let first = live.current();
            let engine = tokio::task::spawn_blocking(move || warmed_engine(first)).await;
            match engine {
                Ok(engine) => self.set_engine(Arc::new(engine)),
                Err(error) => {
                    tracing::error!(error = %error, "building the engine failed");
                    return;
                }
            }
            readiness.set_loaded(true);
            tracing::info!(path = %path.display(), hash = %live.current().meta.content_hash, "timetable loaded; ready");
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let checker = Arc::clone(&live);
                let reloaded = tokio::task::spawn_blocking(move || {
                    let changed = checker.reload_if_changed()?;
                    Ok::<_, norikae_timetable::Error>(
                        changed.then(|| warmed_engine(checker.current())),
                    )
                })
                .await;
                match reloaded {
                    Ok(Ok(Some(engine))) => {
                        self.set_engine(Arc::new(engine));
                        tracing::info!(hash = %live.current().meta.content_hash, "route engine switched to the new snapshot");
                    }
                    Ok(Ok(None)) => {}
                    Ok(Err(error)) => {
                        tracing::warn!(path = %path.display(), error = %error, "snapshot not reloaded; keeping the current one");
                    }
                    Err(error) => tracing::error!(error = %error, "snapshot reload task failed"),
                }
                // After midnight the new day's tables are built here rather than by the
                // first query that needs them (a lookup in the cache otherwise).
                if let Ok(engine) = self.engine()
                    && let Err(error) =
                        tokio::task::spawn_blocking(move || engine.warm_up_today()).await
                {
                    tracing::error!(error = %error, "day table warm-up task failed");
                }
            }
        })
    }
}

/// The engine for `timetable` with today's day tables built, so that no query after the
/// switch (or the first readiness) waits for them.
fn warmed_engine(timetable: Arc<norikae_timetable::Timetable>) -> Engine {
    let started = std::time::Instant::now();
    let engine = Engine::new(timetable);
    let built = started.elapsed();
    let days = engine.warm_up_today();
    tracing::info!(
        engine_ms = built.as_millis() as u64,
        warm_up_ms = (started.elapsed() - built).as_millis() as u64,
        days,
        "route engine built; today's day tables ready"
    );
    engine
}
