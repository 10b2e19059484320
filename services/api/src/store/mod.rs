//! The api's storage: every SQL statement of the service lives under this module, over the
//! shared database ([`Db`]: PostgreSQL in production, a SQLite file embedded).
//!
//! - [`db`]: the pool, the migrations of each dialect and write transactions;
//! - [`keys`]: API key records; [`usage`]: per-key daily request counts;
//! - [`alerts`]: service alerts and their texts, periods and entities;
//! - [`versions`]: the timetable versions seen.
//!
//! Failures are [`StoreError`]s that say what went wrong in storage terms (not found,
//! conflict, invalid stored data, database unavailable, …). Nothing here knows HTTP: the
//! handlers and the key-auth middleware turn a `StoreError` into a problem response.

pub mod alerts;
pub mod db;
pub mod keys;
pub mod usage;
pub mod versions;

use std::path::PathBuf;

pub use db::{Backend, Db};

/// What a storage operation failed on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection within the acquire timeout, or the connection broke: worth a retry.
    #[error("the database is unavailable: {0}")]
    Unavailable(sqlx::Error),
    /// The migrations have not been applied yet (the database was down at start-up).
    #[error("the database is not migrated yet")]
    NotMigrated,
    #[error("no {record} has the {key} `{value}`")]
    NotFound { record: Record, key: &'static str, value: String },
    /// A unique column already holds this value.
    #[error("a {record} with the {key} `{value}` already exists")]
    Conflict { record: Record, key: &'static str, value: String },
    /// A row does not decode into what this code stores there.
    #[error("invalid stored data: {0}")]
    InvalidData(sqlx::Error),
    #[error("invalid database.url {url}")]
    InvalidUrl {
        /// With any password redacted.
        url: String,
        #[source]
        source: sqlx::Error,
    },
    /// `database.password` cannot go into `database.url` (not a PostgreSQL URL with a user).
    #[error("{0}")]
    Settings(String),
    #[error("cannot create the database folder {}", path.display())]
    CreateFolder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot switch SQLite to WAL")]
    JournalMode(#[source] sqlx::Error),
    #[error("database migrations failed")]
    Migration(#[source] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

/// The kinds of record the store keeps, as named in a [`StoreError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record {
    Key,
    Alert,
    TimetableVersion,
}

impl std::fmt::Display for Record {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Self::Key => "key",
            Self::Alert => "alert",
            Self::TimetableVersion => "timetable version",
        })
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            // A connection that breaks while it is set up answers nonsense rather than an I/O
            // error: with TLS compiled in, sslmode=prefer's SSLRequest read off a half-closed
            // connection is a protocol error ("unexpected response from SSLRequest").
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => Self::Unavailable(error),
            sqlx::Error::ColumnDecode { .. }
            | sqlx::Error::ColumnNotFound(_)
            | sqlx::Error::ColumnIndexOutOfBounds { .. }
            | sqlx::Error::Decode(_)
            | sqlx::Error::TypeNotFound { .. } => Self::InvalidData(error),
            other => Self::Database(other),
        }
    }
}

impl StoreError {
    /// Whether the database could not be reached (or is not ready): a retry may succeed.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::NotMigrated)
    }
}

/// `sqlx::Error` of a statement that violated a unique constraint.
fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(database) if database.is_unique_violation())
}

/// Now, as stored: RFC 3339 UTC to the second.
pub fn now_text() -> String {
    timestamp_text(chrono::Utc::now())
}

pub fn timestamp_text(time: chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A migrated SQLite database of its own in a fresh temporary file, for the store's unit
/// tests (sqlx's `Any` driver does not take `sqlite::memory:`).
#[cfg(test)]
pub(crate) async fn memory_db() -> Db {
    let path = std::env::temp_dir()
        .join(format!("norikae-store-test-{}.db", uuid::Uuid::new_v4().simple()));
    let settings = crate::config::DatabaseSettings {
        url: format!("sqlite://{}", path.display()),
        max_connections: 1,
        ..Default::default()
    };
    let db = Db::open(&settings).expect("pool");
    db.migrate().await.expect("migrations");
    db
}
