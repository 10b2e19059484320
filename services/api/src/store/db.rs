//! [`Db`]: the shared database, PostgreSQL in production or a SQLite file embedded, through
//! sqlx's `Any` driver so one code path (and one set of `$1` queries) serves both. Each has
//! its own migrations (`migrations/sqlite`, `migrations/postgres`), applied at start-up and
//! retried in the background while the database is down.
//!
//! The pool is lazy and its acquire timeout short: while the database is down, what needs it
//! fails at once with [`StoreError::Unavailable`] (the api answers 503
//! `database_unavailable`), everything else keeps working, and the pool opens new
//! connections by itself when the database is back.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, SqlSafeStr, Transaction};

use super::StoreError;
use crate::config::{DatabaseSettings, redact_url};

/// The migrations of each dialect, embedded: (version, description, SQL). Versions,
/// descriptions and checksums (SHA-384 of the SQL) are what `sqlx migrate` would record for
/// `migrations/<dialect>/<version>_<description>.sql`, so databases migrated either way agree.
/// (Built here rather than by `sqlx::migrate!`, whose macro crate compiles every database
/// driver a second time for the host.)
const SQLITE_MIGRATIONS: &[(i64, &str, &str)] =
    &[(1, "initial", include_str!("../../migrations/sqlite/0001_initial.sql"))];
const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] =
    &[(1, "initial", include_str!("../../migrations/postgres/0001_initial.sql"))];

fn migrator(migrations: &[(i64, &'static str, &'static str)]) -> Migrator {
    Migrator::with_migrations(
        migrations
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    description.into(),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    migrated: Arc<AtomicBool>,
}

impl Db {
    /// Opens the pool without connecting (a database that is down at start-up is waited
    /// for, not fatal). A SQLite file and its folder are created when missing.
    pub fn open(settings: &DatabaseSettings) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if settings.url.starts_with("sqlite:") {
            (Backend::Sqlite, sqlite_url(&settings.url)?)
        } else {
            let url =
                settings.connect_url().map_err(|error| StoreError::Settings(error.to_string()))?;
            (Backend::Postgres, url)
        };
        let pool = AnyPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout())
            .idle_timeout(Duration::from_secs(settings.idle_timeout_secs))
            .connect_lazy(&url)
            .map_err(|source| StoreError::InvalidUrl { url: redact_url(&settings.url), source })?;
        Ok(Self { pool, backend, migrated: Arc::new(AtomicBool::new(false)) })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub(super) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Applies the migrations of this backend (idempotent).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = migrator(match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        });
        if self.backend == Backend::Sqlite {
            // Readers do not block the writer (and the other way round); persistent per file.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&self.pool)
                .await
                .map_err(StoreError::JournalMode)?;
        }
        migrator.run(&self.pool).await.map_err(StoreError::Migration)?;
        self.migrated.store(true, Ordering::Release);
        Ok(())
    }

    pub fn is_migrated(&self) -> bool {
        self.migrated.load(Ordering::Acquire)
    }

    /// Migrates now or, while the database is unreachable, keeps retrying in the background.
    pub fn spawn_migrate(&self) -> tokio::task::JoinHandle<()> {
        let db = self.clone();
        tokio::spawn(async move {
            let mut wait = Duration::from_millis(200);
            loop {
                match db.migrate().await {
                    Ok(()) => {
                        tracing::info!(backend = ?db.backend, "database ready");
                        return;
                    }
                    Err(error) => {
                        tracing::warn!(
                            error = format!("{:#}", anyhow::Error::new(error)),
                            "database not ready; retrying"
                        );
                    }
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
        })
    }

    /// A write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`):
    /// a deferred transaction that reads first cannot upgrade to writing after another
    /// connection wrote (WAL answers SQLITE_BUSY at once, whatever the busy timeout).
    pub(super) async fn begin(&self) -> Result<Transaction<'static, sqlx::Any>, StoreError> {
        match self.backend {
            Backend::Sqlite => Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres => Ok(self.pool.begin().await?),
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `sqlite://data/norikae.db` → the same with `mode=rwc` (create the file), after creating
/// the folder.
fn sqlite_url(url: &str) -> Result<String, StoreError> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:"
        && !path.is_empty()
        && let Some(parent) =
            Path::new(path).parent().filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .map_err(|source| StoreError::CreateFolder { path: parent.to_path_buf(), source })?;
    }
    let query = if query.contains("mode=") {
        query.to_owned()
    } else if query.is_empty() {
        "mode=rwc".to_owned()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_create_the_file() {
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("nested/norikae.db");
        let url = sqlite_url(&format!("sqlite://{}", path.display())).expect("url");
        assert!(url.ends_with("?mode=rwc"), "{url}");
        assert!(path.parent().expect("parent").is_dir());
        assert_eq!(sqlite_url("sqlite::memory:").expect("url"), "sqlite://:memory:?mode=rwc");
    }
}
