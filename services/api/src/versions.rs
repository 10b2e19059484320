//! Timetable versions: the route engine's `/status` is polled (at start and every
//! `upstream.status_poll_secs`); each newly active timetable (a hash other than the last
//! recorded one) becomes a `timetable_versions` row. `/v1/status` answers from memory.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use norikae_wire::route::StatusResponse;
pub use norikae_wire::v1::{FeedDates, TimetableVersion};

use crate::store::{self, Db, now_text};
use crate::upstream::{Engine, Upstream};

/// Versions kept in memory and shown in `/v1/status`.
const RECENT_VERSIONS: i64 = 10;

/// The version a route engine's status names, activated now.
fn version_from_status(status: &StatusResponse) -> TimetableVersion {
    let feeds: Vec<FeedDates> = status.feeds.iter().map(FeedDates::from).collect();
    TimetableVersion {
        hash: status.hash.clone(),
        service_start: feeds.iter().map(|feed| feed.start_date.clone()).min().unwrap_or_default(),
        service_end: feeds.iter().map(|feed| feed.end_date.clone()).max().unwrap_or_default(),
        feeds,
        stations: status.stations,
        stops: status.stops,
        routes: status.routes,
        trips: status.trips,
        created_at: status.created_at.clone(),
        activated_at: now_text(),
    }
}

#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// The route engine's last answer.
    pub current: Option<StatusResponse>,
    /// When the current hash was first recorded (from the database).
    pub activated_at: Option<String>,
    /// Newest first.
    pub versions: Vec<TimetableVersion>,
}

#[derive(Clone, Debug)]
pub struct VersionTracker {
    db: Db,
    upstream: Upstream,
    state: Arc<RwLock<Snapshot>>,
}

impl VersionTracker {
    pub fn new(db: Db, upstream: Upstream) -> Self {
        Self { db, upstream, state: Arc::new(RwLock::new(Snapshot::default())) }
    }

    pub fn snapshot(&self) -> Snapshot {
        self.state.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Asks the route engine for its timetable, records a new version, and re-reads the
    /// recent ones. The engine's answer is kept even when the database is down.
    pub async fn poll(&self) -> anyhow::Result<()> {
        let status: StatusResponse = self
            .upstream
            .get_json(Engine::Route, "/status", &[] as &[(&str, String)], None)
            .await
            .map_err(|problem| anyhow::anyhow!("route /status: {problem}"))?;
        self.state.write().unwrap_or_else(std::sync::PoisonError::into_inner).current =
            Some(status.clone());
        if !self.db.is_migrated() {
            anyhow::bail!("database not migrated yet");
        }
        let versions =
            store::versions::record(&self.db, &version_from_status(&status), RECENT_VERSIONS)
                .await?;
        let activated_at = versions
            .iter()
            .find(|version| version.hash == status.hash)
            .map(|version| version.activated_at.clone());
        let mut state = self.state.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        state.versions = versions;
        state.activated_at = activated_at;
        Ok(())
    }

    pub fn spawn_poll(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        let tracker = self.clone();
        tokio::spawn(async move {
            // Soon after start (the engines may still be loading), then at the set pace.
            let mut wait = Duration::from_millis(200);
            loop {
                match tracker.poll().await {
                    Ok(()) => wait = interval,
                    Err(error) => {
                        tracing::debug!(
                            error = format!("{error:#}"),
                            "timetable version not checked"
                        );
                        wait = (wait * 2).min(interval);
                    }
                }
                tokio::time::sleep(wait).await;
            }
        })
    }
}
