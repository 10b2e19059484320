//! Reading the timetable snapshot the index is built from.

use std::path::Path;

use norikae_timetable::Timetable;

use crate::error::SearchError;

fn snapshot_error(path: &Path, error: impl std::fmt::Display) -> SearchError {
    SearchError::Snapshot { path: path.to_owned(), message: error.to_string() }
}

/// Loads the compiled timetable from its snapshot file.
pub fn load_timetable(path: &Path) -> Result<Timetable, SearchError> {
    norikae_timetable::snapshot::load(path).map_err(|error| snapshot_error(path, error))
}

/// The snapshot's content hash, read from its first bytes (cheap: no full load).
pub fn content_hash(path: &Path) -> Result<String, SearchError> {
    norikae_timetable::snapshot::read_hash(path).map_err(|error| snapshot_error(path, error))
}
