//! The crate's error type: what can go wrong building the index or answering a query.

use std::path::PathBuf;

/// Errors of the station search library.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query text has no letter or digit once normalised.
    #[error("query is empty")]
    EmptyQuery,
    /// A station or stop id that the index does not know.
    #[error("unknown station or stop id `{0}`")]
    UnknownStation(String),
    /// tantivy failed while building or searching the in-memory index.
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// A tantivy query could not be built (bad tokenizer settings).
    #[error("search index settings: {0}")]
    Settings(String),
    /// The timetable snapshot could not be read.
    #[error("reading timetable snapshot {path}: {message}")]
    Snapshot { path: PathBuf, message: String },
}

impl SearchError {
    /// Stable code of the error, as the API reports it.
    pub fn code(&self) -> &'static str {
        match self {
            Self::EmptyQuery => "empty_query",
            Self::UnknownStation(_) => "unknown_station",
            Self::Index(_) | Self::Settings(_) => "search_index",
            Self::Snapshot { .. } => "snapshot_unreadable",
        }
    }
}
