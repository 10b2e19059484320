//! [`Readiness`]: whether a service should receive traffic. Ready means its data is loaded
//! and it is not draining; `/health/ready` reports it to the load balancer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Clone, Debug, Default)]
pub struct Readiness {
    inner: Arc<ReadinessState>,
}

#[derive(Debug, Default)]
struct ReadinessState {
    loaded: AtomicBool,
    draining: AtomicBool,
}

impl Readiness {
    /// Declares the service's data (timetable, index, database pool) loaded or not.
    pub fn set_loaded(&self, loaded: bool) {
        self.inner.loaded.store(loaded, Ordering::Release);
    }

    /// Set once on shutdown; never cleared.
    pub(crate) fn start_draining(&self) {
        self.inner.draining.store(true, Ordering::Release);
    }

    pub fn is_loaded(&self) -> bool {
        self.inner.loaded.load(Ordering::Acquire)
    }

    pub fn is_draining(&self) -> bool {
        self.inner.draining.load(Ordering::Acquire)
    }

    pub fn is_ready(&self) -> bool {
        self.is_loaded() && !self.is_draining()
    }

    /// `ready`, `draining` or `loading`: what `/health/ready` says.
    pub fn state(&self) -> &'static str {
        if self.is_draining() {
            "draining"
        } else if self.is_loaded() {
            "ready"
        } else {
            "loading"
        }
    }
}
