//! [`AppState`]: what the handlers share: the current engine (swapped when a newer snapshot
//! is loaded; requests finish on the engine they started with), the query slots and the
//! query timeout.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use norikae_runtime::{Problem, Readiness};
use norikae_timetable::{LiveTimetable, Timetable};
use tokio::sync::Semaphore;

use crate::cursor::CursorSigner;
use crate::engine::{Engine, Scratch, SearchLimits};
use crate::error::Error;
use crate::realtime::{RealtimeIngest, RealtimeSettings};
use crate::{QuerySettings, TripBased};

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    /// The engine answering and when it was swapped in; every query reads it, so it is an
    /// atomic pointer, not a lock.
    current: ArcSwapOption<Loaded>,
    /// A background build of Trip-Based transfers is running.
    preparing: std::sync::atomic::AtomicBool,
    /// A background build of the realtime overlay's Trip-Based days is running, and a newer
    /// overlay than the one it builds is waiting.
    preparing_live: std::sync::atomic::AtomicBool,
    live_wanted: std::sync::atomic::AtomicBool,
    slots: Arc<Semaphore>,
    settings: QuerySettings,
    cursors: CursorSigner,
    /// GTFS-Realtime: the overlay the searches read, its sources and metrics.
    realtime: Arc<RealtimeIngest>,
}

/// An engine and when it was swapped in (reported by `GET /status`), swapped together so that
/// the time is always the engine's.
struct Loaded {
    engine: Arc<Engine>,
    at: chrono::DateTime<chrono::Utc>,
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
        Self::with_realtime(settings, RealtimeSettings::default())
    }

    pub fn with_realtime(settings: QuerySettings, realtime: RealtimeSettings) -> Self {
        let slots = Arc::new(Semaphore::new(settings.max_concurrent.max(1)));
        Self {
            inner: Arc::new(Inner {
                current: ArcSwapOption::empty(),
                preparing: std::sync::atomic::AtomicBool::new(false),
                preparing_live: std::sync::atomic::AtomicBool::new(false),
                live_wanted: std::sync::atomic::AtomicBool::new(false),
                slots,
                cursors: CursorSigner::new(&settings.cursor_keys),
                settings,
                realtime: Arc::new(RealtimeIngest::new(realtime)),
            }),
        }
    }

    pub fn settings(&self) -> &QuerySettings {
        &self.inner.settings
    }

    /// The realtime overlay, its sources and metrics.
    pub fn realtime(&self) -> &Arc<RealtimeIngest> {
        &self.inner.realtime
    }

    /// Signs and checks page cursors.
    pub fn cursors(&self) -> &CursorSigner {
        &self.inner.cursors
    }

    /// Answers from `engine` from now on (building its Trip-Based transfers as configured).
    pub fn set_engine(&self, engine: Arc<Engine>) {
        engine.build_trip_based_on_demand(self.inner.settings.trip_based == TripBased::OnDemand);
        let prepare = Arc::clone(&engine);
        self.inner.current.store(Some(Arc::new(Loaded { engine, at: chrono::Utc::now() })));
        self.prepare_trip_based(prepare);
    }

    /// With [`TripBased::Background`], builds the Trip-Based transfers of today's and
    /// tomorrow's searches on a thread of its own, unless a build is running (the next call
    /// catches up: every snapshot load and every reload check calls this).
    pub fn prepare_trip_based(&self, engine: Arc<Engine>) {
        self.prepare_trip_based_for(engine, |engine| {
            let today = chrono::Utc::now().with_timezone(&engine.timetable().tz).date_naive();
            [Some(today), today.succ_opt()].into_iter().flatten().collect()
        });
    }

    /// [`AppState::prepare_trip_based`] for the dates `dates` gives (called on the build's
    /// thread); the thread, if one was started.
    fn prepare_trip_based_for(
        &self,
        engine: Arc<Engine>,
        dates: impl FnOnce(&Engine) -> Vec<chrono::NaiveDate> + Send + 'static,
    ) -> Option<std::thread::JoinHandle<()>> {
        use std::sync::atomic::Ordering;
        if self.inner.settings.trip_based != TripBased::Background
            || self.inner.preparing.swap(true, Ordering::AcqRel)
        {
            return None;
        }
        /// Clears the flag when the build ends, however it ends (a panic too), so that the
        /// next call can start another.
        struct Preparing(Arc<Inner>);
        impl Drop for Preparing {
            fn drop(&mut self) {
                self.0.preparing.store(false, Ordering::Release);
            }
        }
        let preparing = Preparing(Arc::clone(&self.inner));
        let threads = self.inner.settings.trip_based_threads.max(1);
        let spawned = std::thread::Builder::new().name("trip-based".to_owned()).spawn(move || {
            let _preparing = preparing;
            for date in dates(&engine) {
                for day in engine.prepare_trip_based(date, threads) {
                    tracing::info!(
                        date = %day.date,
                        boardable_from_secs = day.boardable_from,
                        transfers = day.transfers,
                        mib = day.bytes >> 20,
                        secs = day.secs,
                        "trip-based transfers built"
                    );
                }
            }
        });
        // A thread not started drops the flag's guard with its closure.
        spawned
            .inspect_err(|error| {
                tracing::error!(error = %error, "trip-based build thread not started");
            })
            .ok()
    }

    /// Builds what searches on the current realtime overlay need on a thread of its own:
    /// its day tables, and its lower bounds where its trips ride faster than the timetable's
    /// (see [`Engine::prepare_realtime_searches`]), and with [`TripBased::Background`] and
    /// `trip_based_realtime` its Trip-Based days (see [`Engine::prepare_trip_based_live`]):
    /// until they are built, searches on the days it changes run RAPTOR on it. A build under
    /// way builds the newest overlay again when it ends, so a burst of overlays costs at most
    /// one more.
    pub fn prepare_for_realtime(&self) {
        use std::sync::atomic::Ordering;
        let settings = &self.inner.settings;
        let trip_based =
            settings.trip_based == TripBased::Background && settings.trip_based_realtime;
        self.inner.live_wanted.store(true, Ordering::Release);
        if self.inner.preparing_live.swap(true, Ordering::AcqRel) {
            return;
        }
        /// Clears the flag when the builds end, however they end.
        struct Preparing(Arc<Inner>);
        impl Drop for Preparing {
            fn drop(&mut self) {
                self.0.preparing_live.store(false, Ordering::Release);
            }
        }
        let preparing = Preparing(Arc::clone(&self.inner));
        let state = self.clone();
        let threads = self.inner.settings.trip_based_threads.max(1);
        let spawned =
            std::thread::Builder::new().name("trip-based-live".to_owned()).spawn(move || {
                let _preparing = preparing;
                while state.inner.live_wanted.swap(false, Ordering::AcqRel) {
                    let Ok(engine) = state.engine() else { break };
                    let overlay = state.realtime().realtime.overlay();
                    if !trip_based {
                        engine.prepare_realtime_searches(&overlay);
                        continue;
                    }
                    if let Some(report) = engine.prepare_trip_based_live(&overlay, threads) {
                        tracing::info!(
                            days = report.days,
                            unfit_days = report.unfit_days,
                            regenerated = report.regenerated,
                            kept = report.kept,
                            moved = report.moved,
                            cancelled = report.cancelled,
                            mib = report.bytes >> 20,
                            secs = report.secs,
                            "trip-based realtime days built"
                        );
                    }
                }
            });
        if let Err(error) = spawned {
            tracing::error!(error = %error, "trip-based realtime build thread not started");
        }
    }

    /// When the engine answering now was swapped in.
    pub fn loaded_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.inner.current.load().as_ref().map(|loaded| loaded.at)
    }

    /// The engine answering now. Takes no lock: every query calls it.
    pub fn engine(&self) -> Result<Arc<Engine>, Error> {
        let current = self.inner.current.load();
        current.as_ref().map(|loaded| Arc::clone(&loaded.engine)).ok_or(Error::NotLoaded)
    }

    /// Runs `work` on the blocking pool with this thread's scratch buffers, once a query slot
    /// is free, within the query timeout (waiting included). The search stops at the timeout
    /// too (the buffers carry the deadline), so that a query nobody waits for any more gives
    /// its slot back rather than computing on to the end.
    pub async fn query<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Engine, &mut Scratch) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Problem> {
        let engine = self.engine().map_err(crate::handlers::problem)?;
        let timeout = Duration::from_millis(self.inner.settings.timeout_ms);
        let limits = SearchLimits {
            deadline: Some(Instant::now() + timeout),
            max_via_heads: self.inner.settings.max_via_heads,
        };
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
                    scratch.set_limits(limits);
                    let result = work(&engine, scratch);
                    scratch.set_limits(SearchLimits::default());
                    result
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
        self.spawn_loader_with(path, interval, readiness, warmed_engine)
    }

    /// [`AppState::spawn_loader`] with the engine built by `build`. A build that fails (a
    /// panic) is retried every `interval`, the current engine answering meanwhile: what the
    /// engine is built from is compared with the loaded snapshot at every check, so a switch
    /// is never lost because its build failed once.
    fn spawn_loader_with(
        self,
        path: PathBuf,
        interval: Duration,
        readiness: Readiness,
        build: impl Fn(Arc<Timetable>) -> Engine + Send + Sync + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let build = Arc::new(build);
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
            loop {
                if let Some(engine) = build_engine(&build, live.current()).await {
                    self.set_engine(Arc::new(engine));
                    break;
                }
                tokio::time::sleep(interval).await;
            }
            readiness.set_loaded(true);
            tracing::info!(path = %path.display(), hash = %live.current().meta.content_hash, "timetable loaded; ready");
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let checker = Arc::clone(&live);
                match tokio::task::spawn_blocking(move || checker.reload_if_changed()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => {
                        tracing::warn!(path = %path.display(), error = %error, "snapshot not reloaded; keeping the current one");
                    }
                    Err(error) => tracing::error!(error = %error, "snapshot reload task failed"),
                }
                let loaded = live.current();
                if !self.serves(&loaded.meta.content_hash)
                    && let Some(engine) = build_engine(&build, loaded).await
                {
                    self.set_engine(Arc::new(engine));
                    tracing::info!(hash = %live.current().meta.content_hash, "route engine switched to the new snapshot");
                }
                // After midnight the new day's tables are built here rather than by the
                // first query that needs them (a lookup in the cache otherwise).
                if let Ok(engine) = self.engine() {
                    self.prepare_trip_based(Arc::clone(&engine));
                    if let Err(error) =
                        tokio::task::spawn_blocking(move || engine.warm_up_today()).await
                    {
                        tracing::error!(error = %error, "day table warm-up task failed");
                    }
                }
            }
        })
    }

    /// True when the engine answering now was built from the snapshot with `content_hash`.
    fn serves(&self, content_hash: &str) -> bool {
        self.engine().is_ok_and(|engine| engine.timetable().meta.content_hash == content_hash)
    }
}

/// Builds an engine off the async runtime; `None` (logged) when the build panicked.
async fn build_engine(
    build: &Arc<impl Fn(Arc<Timetable>) -> Engine + Send + Sync + 'static>,
    timetable: Arc<Timetable>,
) -> Option<Engine> {
    let hash = timetable.meta.content_hash.clone();
    let build = Arc::clone(build);
    match tokio::task::spawn_blocking(move || build(timetable)).await {
        Ok(engine) => Some(engine),
        Err(error) => {
            tracing::error!(hash = %hash, error = %error, "building the route engine failed; keeping the current engine and retrying at the next check");
            None
        }
    }
}

/// The engine for `timetable` with today's day tables built, so that no query after the
/// switch (or the first readiness) waits for them.
fn warmed_engine(timetable: Arc<Timetable>) -> Engine {
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

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    fn state(trip_based: TripBased) -> AppState {
        AppState::new(QuerySettings { trip_based, ..QuerySettings::default() })
    }

    #[test]
    fn background_builds_run_one_at_a_time_and_build_the_dates_days() {
        let engine = Arc::new(Engine::new(Arc::new(crate::engine::tests::bundled_timetable())));
        let date = chrono::NaiveDate::from_ymd_opt(2019, 6, 5).expect("a date");
        let state = state(TripBased::Background);
        let (release, wait) = mpsc::channel::<()>();
        let first = state
            .prepare_trip_based_for(Arc::clone(&engine), move |_| {
                wait.recv().expect("the test releases the build");
                vec![date]
            })
            .expect("a build starts");
        assert!(
            state.prepare_trip_based_for(Arc::clone(&engine), |_| Vec::new()).is_none(),
            "a second build waits for the next call while one runs"
        );
        release.send(()).expect("the build waits");
        first.join().expect("the build finishes");
        let built: Vec<String> =
            engine.trip_based_dates().iter().map(ToString::to_string).collect();
        assert_eq!(built, ["2019-06-04", "2019-06-05", "2019-06-06"]);
        let again = state.prepare_trip_based_for(Arc::clone(&engine), |_| Vec::new());
        again.expect("the next call builds again").join().expect("it finishes");
    }

    #[test]
    fn a_failed_background_build_lets_the_next_one_start() {
        let engine = Arc::new(Engine::new(Arc::new(crate::engine::tests::bundled_timetable())));
        let state = state(TripBased::Background);
        let failed = state
            .prepare_trip_based_for(Arc::clone(&engine), |_| panic!("a build fails"))
            .expect("a build starts");
        assert!(failed.join().is_err(), "the build panicked");
        assert!(
            state.prepare_trip_based_for(Arc::clone(&engine), |_| Vec::new()).is_some(),
            "the next call starts a build"
        );
    }

    #[test]
    fn only_the_background_mode_builds_in_the_background() {
        let engine = Arc::new(Engine::new(Arc::new(crate::engine::tests::bundled_timetable())));
        for mode in [TripBased::OnDemand, TripBased::Off] {
            let started = state(mode).prepare_trip_based_for(Arc::clone(&engine), |_| {
                vec![chrono::NaiveDate::from_ymd_opt(2019, 6, 5).expect("a date")]
            });
            assert!(started.is_none(), "{mode:?}");
        }
        assert!(engine.trip_based_dates().is_empty());
    }

    // Paused time: the loader's checks come from tokio's clock, which jumps to the next one
    // while every task waits; loads and builds run on the blocking pool, which holds it.
    #[tokio::test(start_paused = true)]
    async fn a_failed_engine_build_is_retried_and_the_old_engine_keeps_answering() {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("timetable.snapshot");
        let mut timetable = crate::engine::tests::bundled_timetable();
        norikae_timetable::snapshot::write(&timetable, &path).expect("first snapshot");

        let failing = Arc::new(AtomicBool::new(false));
        let builds = Arc::new(AtomicUsize::new(0));
        let (fail, count) = (Arc::clone(&failing), Arc::clone(&builds));
        let state = state(TripBased::Off);
        let readiness = Readiness::default();
        let interval = Duration::from_secs(1);
        let loader = state.clone().spawn_loader_with(
            path.clone(),
            interval,
            readiness.clone(),
            move |timetable| {
                count.fetch_add(1, Ordering::SeqCst);
                assert!(!fail.load(Ordering::SeqCst), "engine build fails");
                Engine::new(timetable)
            },
        );
        // How long (on the paused clock) until `done`.
        let wait_until = async |what: &str, done: &dyn Fn() -> bool| {
            let started = tokio::time::Instant::now();
            while !done() {
                assert!(started.elapsed() < 100 * interval, "{what}");
                tokio::time::sleep(interval / 10).await;
            }
            started.elapsed()
        };
        wait_until("first engine", &|| readiness.is_ready()).await;
        let first_hash = state.engine().expect("engine").timetable().meta.content_hash.clone();

        // A new snapshot whose engine build fails: the old engine keeps answering, and the
        // build is tried again at each check.
        failing.store(true, Ordering::SeqCst);
        let builds_before = builds.load(Ordering::SeqCst);
        timetable.stops[0].lat += 0.001;
        norikae_timetable::snapshot::write(&timetable, &path).expect("second snapshot");
        let retried =
            wait_until("retried builds", &|| builds.load(Ordering::SeqCst) >= builds_before + 3)
                .await;
        assert!(retried <= 4 * interval, "three builds took {retried:?}: one per check");
        assert_eq!(state.engine().expect("engine").timetable().meta.content_hash, first_hash);
        assert!(readiness.is_ready());

        // Once a build succeeds, the new snapshot answers.
        failing.store(false, Ordering::SeqCst);
        wait_until("switched to the new snapshot", &|| {
            state.engine().is_ok_and(|engine| engine.timetable().meta.content_hash != first_hash)
        })
        .await;
        loader.abort();
    }
}
