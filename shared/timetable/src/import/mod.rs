//! The importer: GTFS feeds (zips or folders) → one compiled [`Timetable`] → a snapshot file.
//!
//! Feeds are parsed in parallel ([`parse`]), merged into one network with `FEED:ID` ids
//! ([`build`]), given walking links ([`walking`]), and written by [`crate::snapshot`].

mod build;
mod parse;
mod shapes;
mod source;
mod walking;

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

pub use parse::{parse_date, parse_time};
pub use walking::TransferRuleCounts;

use crate::error::{Error, Result};
use crate::model::{Timetable, WalkingSettings};
use crate::warnings::Warnings;

/// One feed to import: `NAME=PATH` or `PATH` (the name is then the file stem).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedInput {
    pub name: String,
    pub path: PathBuf,
}

impl FeedInput {
    pub fn new(name: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        Self { name: name.into(), path: path.into() }
    }

    /// Parses `[NAME=]PATH`. A name is letters, digits, `_` and `-`.
    pub fn parse(argument: &str) -> Result<Self> {
        let (name, path) = match argument.split_once('=') {
            Some((name, path)) if !name.is_empty() && !name.contains(['/', '\\']) => {
                (name.to_owned(), PathBuf::from(path))
            }
            _ => {
                let path = PathBuf::from(argument);
                let stem =
                    path.file_stem().and_then(|stem| stem.to_str()).unwrap_or_default().to_owned();
                (stem, path)
            }
        };
        let valid =
            !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(Error::FeedArgument {
                argument: argument.to_owned(),
                reason: "the feed name (before `=`, or the file stem) must be letters, digits, `_` or `-`".to_owned(),
            });
        }
        if path.as_os_str().is_empty() {
            return Err(Error::FeedArgument {
                argument: argument.to_owned(),
                reason: "no path".to_owned(),
            });
        }
        Ok(Self { name, path })
    }
}

/// Settings of an import.
#[derive(Clone, Copy, Debug, Default)]
pub struct ImportOptions {
    pub walking: WalkingSettings,
    pub limits: ImportLimits,
    /// Leave shapes.txt out: every trip is drawn stop to stop (a smaller snapshot; for
    /// measuring what the shapes cost).
    pub skip_shapes: bool,
}

/// Bounds on the work one feed can make the import do: a feed comes from outside, and a zip
/// bomb or a frequencies.txt row with a 1 s headway over 48 hours must not take the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportLimits {
    /// Most bytes the files read from one zipped feed may inflate to, together (as their
    /// entries declare them, and as actually read).
    pub max_uncompressed_bytes: u64,
    /// Highest ratio of uncompressed to compressed size of one zip entry above
    /// [`ImportLimits::RATIO_CHECKED_ABOVE_BYTES`]; real GTFS tables compress 5 to 30 times.
    pub max_compression_ratio: u64,
    /// Most trips frequencies.txt may expand to in one feed; rows past it are skipped with a
    /// warning naming file and line.
    pub max_frequency_trips: u64,
}

impl ImportLimits {
    /// Small files may compress very well (a table of one repeated row): only entries larger
    /// than this have their compression ratio checked.
    pub const RATIO_CHECKED_ABOVE_BYTES: u64 = 1 << 20;
}

impl Default for ImportLimits {
    fn default() -> Self {
        Self {
            // All nine New York feeds together hold 8.65M stop times, about 0.5 GiB of CSV.
            max_uncompressed_bytes: 2 << 30,
            max_compression_ratio: 200,
            max_frequency_trips: 500_000,
        }
    }
}

/// Progress of long steps (the CLI shows bars; tests and services pass [`NoProgress`]).
pub trait Progress: Sync {
    /// Starts a step of `total` units (bytes or rows).
    fn start(&self, label: &str, total: u64) -> Box<dyn ProgressBar + '_>;
}

pub trait ProgressBar {
    fn set_position(&self, position: u64);
    fn finish(&self);
}

/// Reports nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _label: &str, _total: u64) -> Box<dyn ProgressBar + '_> {
        Box::new(NoProgress)
    }
}

impl ProgressBar for NoProgress {
    fn set_position(&self, _position: u64) {}
    fn finish(&self) {}
}

/// What an import did, for the summary.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub warnings: Warnings,
    pub parse_secs: f64,
    pub build_secs: f64,
    pub walking_secs: f64,
    /// transfers.txt rows by what they name.
    pub transfer_rules: TransferRuleCounts,
}

/// Imports `feeds` into a compiled timetable (nothing is written).
pub fn import(
    feeds: &[FeedInput],
    options: &ImportOptions,
    progress: &dyn Progress,
) -> Result<(Timetable, ImportReport)> {
    if feeds.is_empty() {
        return Err(Error::NoFeeds);
    }
    for (position, feed) in feeds.iter().enumerate() {
        if feeds[..position].iter().any(|earlier| earlier.name == feed.name) {
            return Err(Error::DuplicateFeedName { name: feed.name.clone() });
        }
    }
    let mut report = ImportReport::default();
    let started = Instant::now();
    let raw_feeds: Vec<parse::RawFeed> = feeds
        .par_iter()
        .map(|feed| {
            parse::read_feed(
                &feed.name,
                &feed.path,
                &options.limits,
                !options.skip_shapes,
                progress,
            )
        })
        .collect::<Result<_>>()?;
    report.parse_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut built = build::build(raw_feeds, options.walking, progress, &mut report.warnings)?;
    report.build_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let bar = progress.start("walking links", built.timetable.stops.len() as u64);
    // The raw feeds (without stop times) are needed again for transfers.txt.
    report.transfer_rules = walking::build_walking(
        &mut built.timetable,
        &built.feeds,
        &built.stop_maps,
        &mut report.warnings,
    );
    bar.finish();
    report.walking_secs = started.elapsed().as_secs_f64();
    built.timetable.meta.warnings = report.warnings.counts();
    Ok((built.timetable, report))
}

/// Imports `feeds` and writes the snapshot to `out` (via a temporary file and a rename, so a
/// failed import never replaces a good snapshot).
pub fn import_to_file(
    feeds: &[FeedInput],
    options: &ImportOptions,
    out: &Path,
    progress: &dyn Progress,
) -> Result<(Timetable, ImportReport)> {
    let (mut timetable, report) = import(feeds, options, progress)?;
    let hash = crate::snapshot::write(&timetable, out)?;
    timetable.meta.content_hash = hash;
    Ok((timetable, report))
}
