//! norikae-timetable: GTFS import, the compiled timetable model and its snapshot file.
//!
//! The importer reads one or more GTFS feeds, merges them into one network with `FEED:ID`
//! ids, groups stops into stations, builds walking links and trip patterns, and writes a
//! versioned snapshot that the route and search services map into memory at start-up.

pub mod column;
pub mod model;

pub use column::Column;
pub use model::*;
