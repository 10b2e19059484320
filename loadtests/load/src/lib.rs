//! norikae-load: what the load scenarios and the reliability drills send.
//!
//! - [`stations`]: the station list saved beside this crate (`stations.tsv`), generated from
//!   the bundled feeds by `norikae-load-stations`;
//! - [`plan`]: random but realistic requests drawn from it: keystrokes of a station name,
//!   journeys between stations of feeds that run on a common date, departure boards;
//! - [`queries`]: a fixed list of journeys (route-bench's `queries.csv`) for loading the
//!   route service alone;
//! - [`stats`]: percentiles and error kinds, as both binaries print them.
//!
//! Binaries: `norikae-load` (the goose load test), `norikae-drill` (the drills' client),
//! `norikae-load-stations` (writes the station list).

pub mod plan;
pub mod queries;
pub mod stations;
pub mod stats;

pub use plan::{Endpoints, Plan};
pub use queries::QueryFile;
pub use stations::{FeedDates, StationEntry, StationList};
