//! norikae-timetable: GTFS import, the compiled timetable model and its snapshot file.
//!
//! The importer reads one or more GTFS feeds, merges them into one network with `FEED:ID`
//! ids, groups stops into stations, builds walking links and trip patterns, and writes a
//! versioned snapshot that the route and search services map into memory at start-up.
//!
//! - [`import::import`] / [`import::import_to_file`]: feeds → [`Timetable`] (→ file);
//! - [`snapshot::load`]: file → [`Timetable`] (columns mapped, not copied);
//! - [`LiveTimetable`]: the current timetable of a running service, hot-swapped when the
//!   snapshot file changes;
//! - [`bundled`]: the feeds shipped in `data/feeds` and [`bundled::ensure_snapshot`].
//!
//! The crate knows no terminal: an import reports its steps through [`import::Progress`]
//! and returns an [`ImportReport`]; the `norikae` command (`services/cli`) draws the bars
//! and prints the summary.

pub mod bundled;
pub mod column;
pub mod error;
pub mod geo;
pub mod import;
pub mod index;
pub mod live;
pub mod memory;
pub mod model;
pub mod settings;
pub mod shapes;
pub mod snapshot;
pub mod warnings;

pub use column::Column;
pub use error::{Error, Result};
pub use import::{
    FeedInput, ImportLimits, ImportOptions, ImportReport, NoProgress, import, import_to_file,
};
pub use index::IdIndex;
pub use live::LiveTimetable;
pub use model::*;
pub use settings::TimetableSettings;
pub use warnings::Warnings;
