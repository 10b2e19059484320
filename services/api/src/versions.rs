//! Timetable versions: the route engine's `/status` is polled (at start and every
//! `upstream.status_poll_secs`); each newly active timetable (a hash other than the last
//! recorded one) becomes a `timetable_versions` row. `/v1/status` answers from memory.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use norikae_wire::route::StatusResponse;
pub use norikae_wire::v1::{FeedDates, TimetableVersion};
use sqlx::Row;

use crate::db::{Db, DbError, now_text};
use crate::upstream::{Engine, Upstream};

/// Versions kept in memory and shown in `/v1/status`.
const RECENT_VERSIONS: i64 = 10;

/// The version a route engine's status names, activated now.
fn version_from_status(status: &StatusResponse) -> TimetableVersion {
    let feeds: Vec<FeedDates> = status
        .feeds
        .iter()
        .map(|feed| FeedDates {
            name: feed.name.clone(),
            start_date: feed.start_date.clone(),
            end_date: feed.end_date.clone(),
        })
        .collect();
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
        let versions = self.record(&status).await?;
        let activated_at = versions
            .iter()
            .find(|version| version.hash == status.hash)
            .map(|version| version.activated_at.clone());
        let mut state = self.state.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        state.versions = versions;
        state.activated_at = activated_at;
        Ok(())
    }

    /// Inserts a row when the newest recorded hash differs; returns the recent versions.
    async fn record(&self, status: &StatusResponse) -> Result<Vec<TimetableVersion>, DbError> {
        let mut transaction = self.db.begin().await?;
        let newest: Option<String> =
            sqlx::query("SELECT hash FROM timetable_versions ORDER BY id DESC LIMIT 1")
                .fetch_optional(&mut *transaction)
                .await?
                .map(|row| row.try_get("hash"))
                .transpose()?;
        if newest.as_deref() != Some(status.hash.as_str()) {
            let version = version_from_status(status);
            sqlx::query(
                "INSERT INTO timetable_versions (hash, feeds, stations, stops, routes, trips, service_start, service_end, created_at, activated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(version.hash.clone())
            .bind(serde_json::to_string(&version.feeds).unwrap_or_else(|_| "[]".to_owned()))
            .bind(version.stations as i64)
            .bind(version.stops as i64)
            .bind(version.routes as i64)
            .bind(version.trips as i64)
            .bind(version.service_start.clone())
            .bind(version.service_end.clone())
            .bind(version.created_at.clone())
            .bind(version.activated_at.clone())
            .execute(&mut *transaction)
            .await?;
            tracing::info!(hash = %version.hash, "new timetable version recorded");
        }
        let rows = sqlx::query(
            "SELECT hash, feeds, stations, stops, routes, trips, service_start, service_end, created_at, activated_at \
             FROM timetable_versions ORDER BY id DESC LIMIT $1",
        )
        .bind(RECENT_VERSIONS)
        .fetch_all(&mut *transaction)
        .await?;
        transaction.commit().await?;
        rows.iter()
            .map(|row| {
                let feeds: String = row.try_get("feeds")?;
                let count = |column: &str| {
                    row.try_get::<i64, _>(column).map(|value| u64::try_from(value).unwrap_or(0))
                };
                Ok(TimetableVersion {
                    hash: row.try_get("hash")?,
                    feeds: serde_json::from_str(&feeds).unwrap_or_default(),
                    stations: count("stations")?,
                    stops: count("stops")?,
                    routes: count("routes")?,
                    trips: count("trips")?,
                    service_start: row.try_get("service_start")?,
                    service_end: row.try_get("service_end")?,
                    created_at: row.try_get("created_at")?,
                    activated_at: row.try_get("activated_at")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(DbError::from)
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
