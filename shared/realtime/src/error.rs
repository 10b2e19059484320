//! The crate's one error type: what makes a realtime message unusable as a whole.

/// A message refused whole (the last good overlay stays).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("realtime message of {size} bytes is over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("realtime message is not GTFS-Realtime protobuf: {0}")]
    Malformed(#[from] prost::DecodeError),
    #[error("realtime message has no header with gtfs_realtime_version")]
    MissingHeader,
    #[error("realtime feed `{feed}` names no feed of the timetable")]
    UnknownFeed { feed: String },
}

impl Error {
    /// A stable code for problems and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "realtime_too_large",
            Self::Malformed(_) | Self::MissingHeader => "realtime_malformed",
            Self::UnknownFeed { .. } => "realtime_unknown_feed",
        }
    }
}
