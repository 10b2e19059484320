//! The network: one loaded timetable with the tables derived from it once per snapshot that
//! every search reads (accessibility, walking links reversed and compact, the links a walk may
//! need, landmark bounds, the stops where transfer rules name trips). Built by
//! [`Network::build`] when the engine is made; read-only afterwards.

use std::sync::Arc;

use norikae_timetable::{Accessibility, Footpath, StopIdx, Timetable};

use super::bounds::Landmarks;
use super::types::Direction;
use super::walk_links::WalkLinks;
use super::walk_pruning;

/// A timetable and the tables derived from it, as the searches read them.
pub(crate) struct Network {
    pub(crate) timetable: Arc<Timetable>,
    /// Stops a wheelchair user can board and alight at (the stop or its parent says
    /// accessible; unknown counts as not accessible).
    pub(crate) stop_accessible: Vec<bool>,
    /// Trips marked wheelchair accessible.
    pub(crate) trip_accessible: Vec<bool>,
    /// Walking links reversed (`to` is the stop walked from), sliced like the forward ones.
    pub(crate) reverse_footpath_offsets: Vec<u32>,
    pub(crate) reverse_footpaths: Vec<Footpath>,
    /// The walking links compact, in each search direction, sorted by duration per stop (the
    /// importer sorts them; hand-built timetables may not, so they are sorted here if not).
    pub(crate) forward_walk_links: WalkLinks,
    pub(crate) backward_walk_links: WalkLinks,
    /// The forward links a walk to a boarding may need (see [`super::walk_pruning`]).
    pub(crate) boarding_walk_links: WalkLinks,
    /// Per pattern stop, the boarding links a traveller alighting there from the pattern may
    /// need (see [`super::walk_pruning`]).
    pub(crate) alighting_walk_links: WalkLinks,
    /// Shortest times to and from a few landmarks, for lower bounds (see [`super::bounds`]).
    pub(crate) landmarks: Landmarks,
    /// The longest walking link: a walking limit at least this long limits nothing.
    pub(crate) longest_walk_m: u32,
    /// Per search direction, the stops where a transfers.txt rule naming trips or routes may
    /// decide a boarding (forward: where such rules lead to; backward: where they start), so
    /// that RAPTOR scans ask its rule boarding there (all `false` for most feeds, which have none).
    pub(crate) rule_boarding_stops: RuleStops,
}

/// [`Network::rule_boarding_stops`], indexed by [`Direction`].
pub(crate) struct RuleStops {
    forward: Vec<bool>,
    backward: Vec<bool>,
}

impl RuleStops {
    fn build(timetable: &Timetable) -> Self {
        let mut forward = vec![false; timetable.stops.len()];
        let mut backward = vec![false; timetable.stops.len()];
        for rule in &timetable.transfer_rules {
            forward[rule.to_stop.idx()] = true;
            backward[rule.from_stop.idx()] = true;
        }
        Self { forward, backward }
    }
}

impl std::ops::Index<Direction> for RuleStops {
    type Output = [bool];

    fn index(&self, direction: Direction) -> &[bool] {
        match direction {
            Direction::Forward => &self.forward,
            Direction::Backward => &self.backward,
        }
    }
}

impl Network {
    pub(crate) fn build(timetable: Arc<Timetable>) -> Self {
        let stop_accessible = timetable
            .stops
            .iter()
            .map(|stop| match stop.wheelchair_boarding {
                Accessibility::Accessible => true,
                Accessibility::NotAccessible => false,
                Accessibility::Unknown => stop.parent.is_some_and(|parent| {
                    timetable.stops[parent.idx()].wheelchair_boarding == Accessibility::Accessible
                }),
            })
            .collect();
        let trip_accessible = timetable
            .trips
            .iter()
            .map(|trip| trip.wheelchair_accessible == Accessibility::Accessible)
            .collect();
        let num_stops = timetable.stops.len();
        let mut counts = vec![0u32; num_stops + 1];
        for footpath in timetable.footpaths.iter() {
            counts[footpath.to.idx() + 1] += 1;
        }
        for index in 0..num_stops {
            counts[index + 1] += counts[index];
        }
        let reverse_footpath_offsets = counts.clone();
        let mut next = counts;
        let mut reverse_footpaths =
            vec![
                Footpath { to: StopIdx(0), duration_secs: 0, distance_m: 0 };
                timetable.footpaths.len()
            ];
        for from in 0..num_stops {
            for footpath in timetable.footpaths(StopIdx::from(from)) {
                let slot = &mut next[footpath.to.idx()];
                reverse_footpaths[*slot as usize] =
                    Footpath { to: StopIdx::from(from), ..*footpath };
                *slot += 1;
            }
        }
        // Sorted by duration like the forward links, so that a scan can stop at the first
        // link that arrives too late.
        for stop in 0..num_stops {
            let range = reverse_footpath_offsets[stop] as usize
                ..reverse_footpath_offsets[stop + 1] as usize;
            reverse_footpaths[range]
                .sort_unstable_by_key(|footpath| (footpath.duration_secs, footpath.to));
        }
        let offsets: &[u32] = &timetable.footpath_offsets;
        let forward: &[Footpath] = &timetable.footpaths;
        let by_duration = |links: &[Footpath]| {
            links.windows(2).all(|pair| pair[0].duration_secs <= pair[1].duration_secs)
        };
        let sorted_footpaths = (!(0..num_stops)
            .all(|stop| by_duration(&forward[offsets[stop] as usize..offsets[stop + 1] as usize])))
        .then(|| {
            let mut links = forward.to_vec();
            for stop in 0..num_stops {
                links[offsets[stop] as usize..offsets[stop + 1] as usize]
                    .sort_unstable_by_key(|footpath| (footpath.duration_secs, footpath.to));
            }
            links
        });
        let forward_walk_links = WalkLinks::build(
            &timetable.footpath_offsets,
            sorted_footpaths.as_deref().unwrap_or(forward),
        );
        let (boarding_offsets, boarding_links) = walk_pruning::boarding_links(
            &timetable,
            sorted_footpaths.as_deref().unwrap_or(forward),
        );
        let boarding_walk_links = WalkLinks::build(&boarding_offsets, &boarding_links);
        let (alighting_offsets, alighting_links) = walk_pruning::alighting_links(
            &timetable,
            sorted_footpaths.as_deref().unwrap_or(forward),
            (&boarding_offsets, &boarding_links),
        );
        let alighting_walk_links = WalkLinks::build(&alighting_offsets, &alighting_links);
        let backward_walk_links = WalkLinks::build(&reverse_footpath_offsets, &reverse_footpaths);
        let landmarks = Landmarks::build(&timetable);
        let longest_walk_m =
            timetable.footpaths.iter().map(|footpath| footpath.distance_m).max().unwrap_or(0);
        let rule_boarding_stops = RuleStops::build(&timetable);
        Self {
            timetable,
            stop_accessible,
            trip_accessible,
            reverse_footpath_offsets,
            reverse_footpaths,
            forward_walk_links,
            backward_walk_links,
            boarding_walk_links,
            alighting_walk_links,
            landmarks,
            longest_walk_m,
            rule_boarding_stops,
        }
    }

    /// Walking links leaving `stop` (forward) or arriving at it (backward).
    pub(crate) fn footpaths(&self, direction: Direction, stop: StopIdx) -> &[Footpath] {
        match direction {
            Direction::Forward => self.timetable.footpaths(stop),
            Direction::Backward => {
                let start = self.reverse_footpath_offsets[stop.idx()] as usize;
                let end = self.reverse_footpath_offsets[stop.idx() + 1] as usize;
                &self.reverse_footpaths[start..end]
            }
        }
    }
}
