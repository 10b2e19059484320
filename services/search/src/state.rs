//! [`AppState`]: what the handlers share: the current index, swapped whole (arc-swap) when a
//! new snapshot has been indexed, so requests in flight finish on the index they started with.

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use norikae_runtime::Problem;

use crate::index::SearchIndex;

/// Seconds a client should wait before retrying while the index is being built.
const LOADING_RETRY_AFTER_SECS: u64 = 5;

#[derive(Clone, Default)]
pub struct AppState {
    index: Arc<ArcSwapOption<SearchIndex>>,
}

impl AppState {
    /// The current index, or 503 while the first one is being built.
    pub fn index(&self) -> Result<Arc<SearchIndex>, Problem> {
        self.index.load_full().ok_or_else(|| {
            Problem::unavailable(
                "index_loading",
                "the station index is being built",
                LOADING_RETRY_AFTER_SECS,
            )
        })
    }

    /// Replaces the index; readers holding the old one keep it until they finish.
    pub fn replace(&self, index: SearchIndex) {
        self.index.store(Some(Arc::new(index)));
    }

    pub fn is_loaded(&self) -> bool {
        self.index.load().is_some()
    }
}
