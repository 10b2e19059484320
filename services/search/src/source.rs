//! Where the index comes from: an [`IndexSource`] tells a version token (which changes when
//! the data changes) and builds a [`SearchIndex`]. The service checks the version at start-up
//! and every reload interval, and builds a new index only when it changed.

use std::path::PathBuf;

use crate::error::SearchError;
use crate::index::SearchIndex;
use crate::record::StationRecord;

/// A source of station data.
pub trait IndexSource: Send + Sync + 'static {
    /// A token that changes whenever [`IndexSource::build`] would build something else.
    fn version(&self) -> Result<String, SearchError>;
    /// Builds the index (CPU-heavy: call it off the async runtime).
    fn build(&self) -> Result<SearchIndex, SearchError>;
    /// What the source is, for logs.
    fn describe(&self) -> String;
}

/// The timetable snapshot file (`timetable.snapshot` in the config).
#[derive(Clone, Debug)]
pub struct SnapshotSource {
    pub path: PathBuf,
}

impl SnapshotSource {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

impl IndexSource for SnapshotSource {
    /// The snapshot's content hash: a new import gives a new hash, a touched file does not.
    fn version(&self) -> Result<String, SearchError> {
        crate::snapshot::content_hash(&self.path)
    }

    fn build(&self) -> Result<SearchIndex, SearchError> {
        let timetable = crate::snapshot::load_timetable(&self.path)?;
        SearchIndex::from_timetable(&timetable)
    }

    fn describe(&self) -> String {
        format!("snapshot {}", self.path.display())
    }
}

/// A fixed list of stations (tests, benchmarks, tools that already hold a timetable).
#[derive(Clone, Debug)]
pub struct RecordsSource {
    pub records: Vec<StationRecord>,
}

impl IndexSource for RecordsSource {
    fn version(&self) -> Result<String, SearchError> {
        Ok(format!("records:{}", self.records.len()))
    }

    fn build(&self) -> Result<SearchIndex, SearchError> {
        SearchIndex::build(self.records.clone())
    }

    fn describe(&self) -> String {
        format!("{} stations given in memory", self.records.len())
    }
}
