//! norikae-search: station search for the journey planner.
//!
//! The library builds a [`SearchIndex`] (tantivy in RAM, plus an R-tree for nearby stations)
//! from the compiled timetable and answers name searches as the user types: kanji, kana in
//! either script, romaji in Hepburn and its common variants, English, full- and half-width
//! input, one-letter typos. The service (`run`) serves it over HTTP on the shared runtime,
//! answering the JSON of `norikae_wire::search` (the crate the api reads it with).

pub mod error;
pub mod index;
pub mod label;
pub mod nearby;
pub mod normalize;
pub mod record;

pub use error::SearchError;
pub use index::{Hit, SearchIndex, SearchRequest};
pub use record::StationRecord;
pub mod handlers;
pub mod service;
pub mod snapshot;
pub mod source;
pub mod state;

pub use norikae_timetable::TimetableSettings;
pub use service::{Config, run, run_with_source};
pub use source::{IndexSource, RecordsSource, SnapshotSource};
pub use state::AppState;
