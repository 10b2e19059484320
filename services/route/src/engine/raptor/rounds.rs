//! The round loop: each round queues every pattern that serves a stop improved in the round
//! before, from its first marked position, scans them ([`super::scan`]; those reaching the
//! target first), then walks from the stops a vehicle improved ([`super::walking`]); and the
//! per-query classification of stops by the trips they still need. Free functions over the
//! [`Network`], the query's [`Rules`] and the search's [`RaptorScratch`].

use norikae_timetable::{PatternIdx, StopIdx};

use super::labels::{RaptorScratch, TargetLabel, WalkParent, lower_bound};
use super::view::View;
use super::{Rules, Seed, scan, walking};
use crate::engine::network::Network;
use crate::engine::prefetch::prefetch;
use crate::engine::types::{Direction, INF};

/// Runs one iteration (one departure time) over the labels already in `scratch`: seeds
/// the walk labels of round 0, then runs the rounds. Targets improved by this iteration
/// have `improved` set.
pub(crate) fn run_iteration(
    network: &Network,
    rules: &Rules<'_>,
    seeds: &[Seed],
    scratch: &mut RaptorScratch,
) {
    let view = View::new(network, rules.direction);
    for target in &mut scratch.target {
        target.improved = false;
    }
    scratch.clear_marks();
    scratch.iteration_start = seeds.iter().map(|seed| seed.key).min().unwrap_or(INF);
    for seed in seeds {
        let flat = scratch.flat(0, seed.stop);
        if seed.key < scratch.labels[flat].walk {
            scratch.touch(seed.stop);
            scratch.labels[flat].walk = seed.key;
            scratch.walk_parent[flat] = WalkParent::Seed;
            scratch.mark(seed.stop);
        }
    }
    for round in 1..=rules.max_trips {
        // Past the deadline the labels stay unfinished: the planning layer sees the deadline
        // passed too and answers with an error, never with these labels.
        if rules.limits.past_deadline() {
            break;
        }
        std::mem::swap(&mut scratch.marked_previous, &mut scratch.marked_current);
        std::mem::swap(&mut scratch.marked_previous_list, &mut scratch.marked_current_list);
        if scratch.marked_previous_list.is_empty() {
            break;
        }
        carry_labels(round, scratch);
        scratch.further = [INF; 3];
        for trips in 1..3 {
            scratch.further[trips] = if round + trips > rules.max_trips {
                0
            } else {
                scratch.further[trips - 1].min(scratch.target[round + trips].key)
            };
        }
        queue_patterns(&view, rules, round, scratch);
        // The patterns reaching the target first: they settle this round's best arrival
        // there, which then prunes the other scans (the order of scans within a round
        // changes no label a later round reads, only what the bound cuts).
        let mut queued = std::mem::take(&mut scratch.queued_patterns);
        let mut later = std::mem::take(&mut scratch.queued_later);
        queued.retain(|&pattern| {
            let first = scratch.pattern_to_target[pattern.idx()];
            if !first {
                later.push(pattern);
            }
            first
        });
        queued.append(&mut later);
        scratch.queued_later = later;
        for (index, &pattern) in queued.iter().enumerate() {
            if let Some(&next) = queued.get(index + 1) {
                prefetch_scan(&view, rules, next, scratch);
            }
            let start = scratch.pattern_start[pattern.idx()];
            scratch.pattern_start[pattern.idx()] = INF;
            let last = scratch.pattern_last[pattern.idx()];
            scan::scan_pattern(
                network,
                &view,
                rules,
                round,
                pattern,
                start as usize..=last as usize,
                scratch,
            );
        }
        scratch.queued_patterns = queued;
        scratch.queued_patterns.clear();
        walking::relax_footpaths(network, &view, rules, round, scratch);
        for stop in scratch.marked_previous_list.drain(..) {
            scratch.marked_previous[stop.idx()] = false;
        }
    }
}

/// Starts loading what the scan of the queued `pattern` reads first (its first boarding
/// stop and the last departure of the query's day there, the first one the boarding test
/// reads), so that those loads overlap the scan before it.
#[inline]
fn prefetch_scan(view: &View<'_>, rules: &Rules<'_>, pattern: PatternIdx, scratch: &RaptorScratch) {
    if rules.direction != Direction::Forward {
        return;
    }
    let start = scratch.pattern_start[pattern.idx()] as usize;
    let num_stops = view.patterns[pattern.idx()].num_stops();
    let first = view.patterns[pattern.idx()].stops.start as usize + start;
    prefetch(&view.pattern_stops[first]);
    prefetch(&view.pattern_stop_rules[first]);
    if let Some(day) = rules.day_trips[1] {
        let (running, departures, _, _) = day.block(pattern, num_stops, 0);
        let count = running.len();
        if count > 0 {
            prefetch(&departures[start * count + count - 1]);
        }
    }
}

/// Sets how many more trips each stop needs at least to reach the target stops (see
/// [`RaptorScratch::ready_trips`]), after the target stops and the walks to them are set
/// ([`RaptorScratch::set_vehicle_egress`]); an over-approximation (pickup rules and filters are
/// ignored), so pruning with it stays exact. Backward searches mirror it: their target is
/// where the traveller starts, "before" on a pattern is later in time, and walking to the
/// target is walking from it.
pub(crate) fn classify_stops(network: &Network, direction: Direction, scratch: &mut RaptorScratch) {
    for pattern in scratch.pattern_to_target_list.drain(..) {
        scratch.pattern_to_target[pattern.idx()] = false;
    }
    scratch.ready_trips.fill(2);
    scratch.arrival_trips.fill(1);
    let tt = &*network.timetable;
    let mut reached_patterns = Vec::new();
    // The position of a pattern stop in the search's scan order.
    let scan_position = |pattern: PatternIdx, position: u32| {
        direction.scan_order(tt.patterns[pattern.idx()].num_stops(), position as usize) as u32
    };
    let mut mark_reach = |stop: StopIdx, scratch: &mut RaptorScratch| {
        scratch.arrival_trips[stop.idx()] = 0;
        for at_stop in tt.patterns_at_stop(stop) {
            let reach = &mut scratch.pattern_reach[at_stop.pattern.idx()];
            if *reach == 0 {
                reached_patterns.push(at_stop.pattern);
            }
            *reach = (*reach).max(scan_position(at_stop.pattern, at_stop.position));
        }
    };
    for index in 0..scratch.egress_list.len() {
        let target = scratch.egress_list[index];
        scratch.ready_trips[target.idx()] = 0;
    }
    // The target stops and the stops walking to one.
    for index in 0..scratch.vehicle_egress_list.len() {
        mark_reach(scratch.vehicle_egress_list[index], scratch);
    }
    for pattern in reached_patterns {
        if scratch.pattern_to_target[pattern.idx()] {
            continue;
        }
        scratch.pattern_to_target[pattern.idx()] = true;
        scratch.pattern_to_target_list.push(pattern);
        let reach = std::mem::take(&mut scratch.pattern_reach[pattern.idx()]) as usize;
        let stops = tt.pattern_stops(pattern);
        let before = match direction {
            Direction::Forward => &stops[..reach],
            Direction::Backward => &stops[stops.len() - reach..],
        };
        for &stop in before {
            let trips = &mut scratch.ready_trips[stop.idx()];
            *trips = (*trips).min(1);
        }
    }
}

/// Round `round` starts from the target of `round - 1` (at most `k` trips includes fewer;
/// stop labels are carried as they are set, see [`RaptorScratch::propagate`]). Round 0's walk
/// labels (the seeds) are never carried: a journey rides at least one vehicle, so a later
/// walk into a stop the origin walks to must stay possible.
fn carry_labels(round: usize, scratch: &mut RaptorScratch) {
    let previous_target = scratch.target[round - 1];
    let target = &mut scratch.target[round];
    if previous_target.key < target.key {
        *target = TargetLabel { improved: false, ..previous_target };
    }
}

fn queue_patterns(view: &View<'_>, rules: &Rules<'_>, round: usize, scratch: &mut RaptorScratch) {
    for position in 0..scratch.marked_previous_list.len() {
        let stop = scratch.marked_previous_list[position];
        // The stops a few places on are scattered over the stop tables: start loading what
        // their turn reads (in two steps: their patterns' place is known once the offsets
        // are in), so that the loads overlap this stop's work instead of following it.
        if let Some(&ahead) = scratch.marked_previous_list.get(position + 8) {
            prefetch(&view.stop_pattern_offsets[ahead.idx()]);
            prefetch(&scratch.labels[scratch.flat(round - 1, ahead)]);
            prefetch(&scratch.lower_bound[ahead.idx()]);
        }
        if let Some(&ahead) = scratch.marked_previous_list.get(position + 4) {
            let start = view.stop_pattern_offsets[ahead.idx()] as usize;
            if let Some(at_stop) = view.patterns_at_stop.get(start) {
                prefetch(at_stop);
            }
        }
        // A stop the bound rules out (the target improved since it was marked) starts
        // no scan; boarding there would be skipped anyway.
        let flat = scratch.flat(round - 1, stop);
        let labels = scratch.labels[flat];
        let earliest = labels.transit.min(labels.walk);
        let needed = scratch.ready_trips[stop.idx()].saturating_sub(1);
        if earliest.saturating_add(lower_bound(scratch, stop)) >= scratch.threshold(round, needed) {
            continue;
        }
        for at_stop in view.patterns_at_stop(stop) {
            let pattern = at_stop.pattern;
            if let Some(allowed) = rules.allowed_patterns
                && !allowed[pattern.idx()]
            {
                continue;
            }
            let num_stops = view.patterns[pattern.idx()].num_stops();
            let scan_position =
                rules.direction.scan_order(num_stops, at_stop.position as usize) as u32;
            let start = &mut scratch.pattern_start[pattern.idx()];
            let last = &mut scratch.pattern_last[pattern.idx()];
            if *start == INF {
                scratch.queued_patterns.push(pattern);
                *last = scan_position;
            }
            *start = (*start).min(scan_position);
            *last = (*last).max(scan_position);
        }
    }
}
