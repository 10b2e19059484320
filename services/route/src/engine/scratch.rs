//! The memory of one thread's searches: the RAPTOR labels, the Trip-Based buffers and what the
//! planning layer keeps per query, allocated once per thread and timetable and reused for
//! every query (a query writes only what it touches and cleans only that).

use norikae_timetable::Timetable;

use super::raptor::labels::RaptorScratch;
use super::trip_based;
use super::types::SearchLimits;

/// Reusable buffers of one search; allocate once per thread and timetable, reuse for every
/// query.
pub struct Scratch {
    /// The RAPTOR labels, and the lower bounds Trip-Based searches read too.
    pub(crate) raptor: RaptorScratch,
    /// The buffers of Trip-Based searches (see [`super::trip_based`]).
    pub(crate) trip_based: trip_based::Search,
    /// The landmark terms of the target's bounds (scratch of the planning layer).
    pub(crate) bound_terms: Vec<(i32, i32)>,
    /// Per-query pattern filter, filled by the planning layer.
    pub(crate) allowed_patterns: Vec<bool>,
    /// Bounds on the work of the queries run with these buffers (see [`SearchLimits`]).
    pub(crate) limits: SearchLimits,
}

impl Scratch {
    pub fn new(timetable: &Timetable) -> Self {
        Self {
            raptor: RaptorScratch::new(timetable),
            trip_based: trip_based::Search::default(),
            bound_terms: Vec::new(),
            allowed_patterns: Vec::new(),
            limits: SearchLimits::default(),
        }
    }

    /// Bounds the queries run with these buffers from now on.
    pub fn set_limits(&mut self, limits: SearchLimits) {
        self.limits = limits;
    }

    /// Whether these buffers fit `timetable` (a reloaded snapshot needs new ones).
    pub fn fits(&self, timetable: &Timetable) -> bool {
        self.raptor.fits(timetable)
    }
}
