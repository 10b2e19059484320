//! HTTP handlers of the search service.

pub mod stations;
