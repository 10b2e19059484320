//! The bundled default data set: the real feeds shipped in `data/feeds/` (attribution in
//! `data/feeds/SOURCES.md`), imported on first start when no other data is configured.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::{Error, Result};
use crate::import::{FeedInput, ImportOptions, NoProgress, import, import_to_file};
use crate::model::Timetable;

/// `(feed name, path relative to the feeds folder)`, in import order: the three Okayama bus
/// operators (sharing stop ids; ryobi first so merged stops keep `ryobi:` ids), then the
/// Fukuoka City Subway.
pub const FEEDS: [(&str, &str); 4] = [
    ("ryobi", "okayama/ryobi_bus_gtfs.zip"),
    ("okaden", "okayama/okaden_bus_gtfs.zip"),
    ("chutetsu", "okayama/chutetsu_bus_gtfs.zip"),
    ("fukuoka", "fukuoka_subway/FukuokaCitySubway-20190316.zip"),
];

/// The bundled feeds under `feeds_dir` (the repository's `data/feeds`).
pub fn feeds(feeds_dir: &Path) -> Vec<FeedInput> {
    FEEDS.iter().map(|(name, path)| FeedInput::new(*name, feeds_dir.join(path))).collect()
}

/// The bundled feeds under `feeds_dir` imported in memory with the default settings (the
/// timetable tests and benchmarks use).
pub fn import_feeds(feeds_dir: &Path) -> Result<Timetable> {
    let (timetable, _report) = import(&feeds(feeds_dir), &ImportOptions::default(), &NoProgress)?;
    Ok(timetable)
}

/// What [`ensure_snapshot`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnsureOutcome {
    /// The snapshot was newer than every feed file.
    UpToDate,
    /// The snapshot was missing or older than a feed file, and was imported again.
    Imported,
}

fn modified(path: &Path) -> Result<SystemTime> {
    std::fs::metadata(path)
        .and_then(|metadata| metadata.modified())
        .map_err(|source| Error::io(path, source))
}

/// Imports the bundled feeds into `snapshot_path` when it is missing or older than a feed
/// file (or unreadable by this build).
pub fn ensure_snapshot(feeds_dir: &Path, snapshot_path: &Path) -> Result<EnsureOutcome> {
    let inputs = feeds(feeds_dir);
    let snapshot_time =
        std::fs::metadata(snapshot_path).and_then(|metadata| metadata.modified()).ok();
    let readable = snapshot_time.is_some() && crate::snapshot::read_hash(snapshot_path).is_ok();
    if let (Some(snapshot_time), true) = (snapshot_time, readable) {
        let mut newest_feed = SystemTime::UNIX_EPOCH;
        for input in &inputs {
            newest_feed = newest_feed.max(modified(&input.path)?);
        }
        if snapshot_time >= newest_feed {
            return Ok(EnsureOutcome::UpToDate);
        }
    }
    tracing::info!(snapshot = %snapshot_path.display(), feeds = %feeds_dir.display(), "importing the bundled feeds");
    let (_, report) =
        import_to_file(&inputs, &ImportOptions::default(), snapshot_path, &NoProgress)?;
    tracing::info!(warnings = report.warnings.total(), "bundled feeds imported");
    Ok(EnsureOutcome::Imported)
}

/// `data/feeds` of the repository this crate was built from (for tests and `cargo run`).
pub fn repo_feeds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/feeds")
}
