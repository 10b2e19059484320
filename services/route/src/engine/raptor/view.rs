//! [`View`]: the timetable columns and walking links the rounds, the scans and the walks
//! read, as plain slices taken once per iteration.

use norikae_timetable::{Pattern, PatternAtStop, StopIdx, StopRules, StopTime, Timetable};

use crate::engine::network::Network;
use crate::engine::types::Direction;
use crate::engine::walk_links::WalkLinks;

/// Plain slices of the timetable columns the inner loops read, taken once per iteration
/// (dereferencing a mapped column checks its bounds and alignment every time).
pub(crate) struct View<'a> {
    pub(super) patterns: &'a [Pattern],
    pub(super) pattern_stops: &'a [StopIdx],
    pub(super) pattern_stop_rules: &'a [StopRules],
    pub(super) stop_times: &'a [StopTime],
    pub(super) stop_pattern_offsets: &'a [u32],
    pub(super) patterns_at_stop: &'a [PatternAtStop],
    /// Walking links in search direction (backward: reversed).
    pub(super) walk_links: &'a WalkLinks,
    /// The walking links a traveller may need for boarding (forward: see
    /// [`crate::engine::walk_pruning`]; backward: all).
    pub(super) boarding_links: &'a WalkLinks,
    /// Per pattern stop, the boarding links a traveller alighting there may need (forward
    /// only: see [`crate::engine::walk_pruning`]).
    pub(super) alighting_links: Option<&'a WalkLinks>,
    pub(super) min_transfer_secs: &'a [u32],
}

impl<'a> View<'a> {
    pub(crate) fn new(network: &'a Network, direction: Direction) -> Self {
        let tt: &'a Timetable = &network.timetable;
        let (walk_links, boarding_links, alighting_links) = match direction {
            Direction::Forward => (
                &network.forward_walk_links,
                &network.boarding_walk_links,
                Some(&network.alighting_walk_links),
            ),
            Direction::Backward => {
                (&network.backward_walk_links, &network.backward_walk_links, None)
            }
        };
        Self {
            patterns: &tt.patterns,
            pattern_stops: &tt.pattern_stops,
            pattern_stop_rules: &tt.pattern_stop_rules,
            stop_times: &tt.stop_times,
            stop_pattern_offsets: &tt.stop_pattern_offsets,
            patterns_at_stop: &tt.patterns_at_stop,
            walk_links,
            boarding_links,
            alighting_links,
            min_transfer_secs: &tt.min_transfer_secs,
        }
    }

    #[inline]
    pub(super) fn patterns_at_stop(&self, stop: StopIdx) -> &'a [PatternAtStop] {
        let start = self.stop_pattern_offsets[stop.idx()] as usize;
        let end = self.stop_pattern_offsets[stop.idx() + 1] as usize;
        &self.patterns_at_stop[start..end]
    }
}
