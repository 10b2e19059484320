//! [`Error`]: every way an import or a snapshot load can fail. Messages name the feed, file,
//! line and field where the input is at fault.

use std::path::PathBuf;

/// Fatal errors of the timetable crate (non-fatal input problems are counted
/// [`crate::Warnings`] instead).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("feed {feed}: {path}: not a readable zip archive: {source}")]
    Zip {
        feed: String,
        path: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },
    #[error("feed {feed}: {path}: {file} {reason}; refused as a possible zip bomb")]
    ZipLimit { feed: String, path: PathBuf, file: &'static str, reason: String },
    #[error("feed {feed}: {path}: no such file or folder")]
    FeedNotFound { feed: String, path: PathBuf },
    #[error("bad feed argument {argument:?}: {reason}")]
    FeedArgument { argument: String, reason: String },
    #[error("feed name {name:?} is used twice; give each feed its own NAME=")]
    DuplicateFeedName { name: String },
    #[error("feed {feed}: required file {file} is missing")]
    MissingFile { feed: String, file: &'static str },
    #[error("feed {feed}: neither calendar.txt nor calendar_dates.txt is present")]
    NoCalendar { feed: String },
    #[error("feed {feed}: {file}: required column {column} is missing")]
    MissingColumn { feed: String, file: &'static str, column: &'static str },
    #[error("feed {feed}: {file}:{line}: malformed csv: {source}")]
    Csv {
        feed: String,
        file: &'static str,
        line: u64,
        #[source]
        source: csv::Error,
    },
    #[error("feed {feed}: {file}:{line}: {field}: {message}")]
    Field { feed: String, file: &'static str, line: u64, field: &'static str, message: String },
    #[error(
        "agencies have different time zones: {first_agency} is in {first} but {second_agency} is \
         in {second}; one snapshot holds one time zone, import them separately"
    )]
    TimezoneMismatch { first_agency: String, first: String, second_agency: String, second: String },
    #[error("agency {agency}: unknown time zone {timezone:?}")]
    UnknownTimezone { agency: String, timezone: String },
    #[error("nothing left to route: {reason}")]
    NothingToRoute { reason: String },
    #[error("no feeds given")]
    NoFeeds,
    #[error(
        "snapshot {path}: format version {found}, but this build reads format version \
         {expected}; re-run `norikae import` with this build"
    )]
    FormatVersion { path: PathBuf, found: u32, expected: u32 },
    #[error("snapshot {path}: {reason}")]
    CorruptSnapshot { path: PathBuf, reason: String },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
