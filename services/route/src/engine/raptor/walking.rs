//! The walks at the end of a round: from every stop a vehicle improved, its walking links
//! (all of them, or those [`crate::engine::walk_pruning`] keeps for a walk to a boarding),
//! setting walk labels and the round's target where a walk reaches a target stop.

use norikae_timetable::StopIdx;

use super::Rules;
use super::labels::{LabelKind, RaptorScratch, TargetLabel, WalkParent, lower_bound};
use super::view::View;
use crate::engine::network::Network;
use crate::engine::prefetch::prefetch;
use crate::engine::types::INF;
use crate::engine::walk_links::{WalkLink, WalkLinks};

pub(super) fn relax_footpaths(
    network: &Network,
    view: &View<'_>,
    rules: &Rules<'_>,
    round: usize,
    scratch: &mut RaptorScratch,
) {
    let improved = std::mem::take(&mut scratch.transit_improved_list);
    let round_start = scratch.flat(round, StopIdx(0));
    for (index, &from) in improved.iter().enumerate() {
        // As in `queue_patterns`: the stop a few places on, loaded while this one walks.
        if let Some(&ahead) = improved.get(index + 4) {
            prefetch(&scratch.labels[round_start + ahead.idx()]);
            prefetch(&scratch.transit_parent[round_start + ahead.idx()]);
            prefetch(&scratch.lower_bound[ahead.idx()]);
        }
        scratch.transit_improved[from.idx()] = false;
        let arrival = scratch.labels[round_start + from.idx()].transit;
        if rules.wheelchair && !network.stop_accessible[from.idx()] {
            continue;
        }
        // The target may have improved since this label was set; the bound is consistent
        // (a walking link is an edge of its graph), so no link from here can help then.
        if arrival.saturating_add(lower_bound(scratch, from))
            >= scratch.threshold(round, scratch.arrival_trips[from.idx()])
        {
            continue;
        }
        // Walks that only lead to boarding skip the links whose patterns are caught as
        // early with less walking, and (when no walking limit needs the distances) those
        // the vehicle that brought the traveller here serves as well by riding on; walks
        // that may end the journey (or, for a wheelchair user, need an accessible stop)
        // take every link.
        let (walk_links, slot) = if rules.wheelchair
            || rules.every_walk_link
            || scratch.arrival_trips[from.idx()] == 0
        {
            (view.walk_links, from.idx())
        } else if let Some(alighting) = view.alighting_links
            && rules.max_walk_m >= view.walk_links.longest_m
        {
            let parent = scratch.transit_parent[round_start + from.idx()];
            let pattern = &view.patterns[parent.pattern as usize];
            (alighting, pattern.stops.start as usize + usize::from(parent.alight_position))
        } else {
            (view.boarding_links, from.idx())
        };
        let range = walk_links.range(slot);
        let first_link = range.start;
        if walk_links.packed.is_empty() {
            let links = walk_links.links[range].iter().copied();
            relax_links(
                network,
                view,
                rules,
                round,
                from,
                arrival,
                (walk_links, first_link),
                links,
                scratch,
            );
        } else {
            let links = walk_links.packed[range].iter().map(|&link| WalkLinks::unpack(link));
            relax_links(
                network,
                view,
                rules,
                round,
                from,
                arrival,
                (walk_links, first_link),
                links,
                scratch,
            );
        }
    }
    scratch.transit_improved_list = improved;
    scratch.transit_improved_list.clear();
}

/// Relaxes the walking links (`links`, the first at `first_link`) of `from`, reached by
/// vehicle at `arrival` in `round`.
#[allow(clippy::too_many_arguments)]
#[inline]
fn relax_links(
    network: &Network,
    view: &View<'_>,
    rules: &Rules<'_>,
    round: usize,
    from: StopIdx,
    arrival: u32,
    (walk_links, first_link): (&WalkLinks, usize),
    links: impl Iterator<Item = WalkLink>,
    scratch: &mut RaptorScratch,
) {
    let round_start = scratch.flat(round, StopIdx(0));
    let distances_m = &walk_links.distances_m;
    let check_distance = rules.max_walk_m < walk_links.longest_m;
    let min_transfer_secs = view.min_transfer_secs;
    // Only this loop improves the round's target (walking to a target stop).
    let mut target_key = scratch.target[round].key;
    for (index, link) in links.enumerate() {
        let key = arrival + link.duration_secs;
        if key >= target_key {
            // Links are sorted by duration: the rest arrive no earlier.
            break;
        }
        if check_distance && distances_m[first_link + index] > rules.max_walk_m {
            continue;
        }
        let to = link.to;
        if rules.wheelchair && !network.stop_accessible[to.idx()] {
            continue;
        }
        let flat = round_start + to.idx();
        let labels = scratch.labels[flat];
        if key >= labels.walk
            || key >= labels.transit.saturating_add(min_transfer_secs[to.idx()])
            || key.saturating_add(lower_bound(scratch, to))
                >= scratch.threshold(round, scratch.ready_trips[to.idx()])
        {
            continue;
        }
        scratch.touch(to);
        scratch.labels[flat].walk = key;
        RaptorScratch::propagate(
            &mut scratch.labels,
            LabelKind::Walk,
            scratch.num_stops,
            flat,
            round,
            rules.max_trips,
            key,
        );
        scratch.walk_parent[flat] = WalkParent::Footpath {
            from,
            duration_secs: link.duration_secs,
            distance_m: distances_m[first_link + index],
        };
        scratch.mark(to);
        let egress = scratch.egress[to.idx()];
        if egress != INF {
            let arrival_at_target = key.saturating_add(egress);
            if arrival_at_target < target_key {
                target_key = arrival_at_target;
                scratch.target[round] = TargetLabel {
                    key: arrival_at_target,
                    stop: to,
                    kind: LabelKind::Walk,
                    final_walk: None,
                    improved: true,
                };
            }
        }
    }
}
