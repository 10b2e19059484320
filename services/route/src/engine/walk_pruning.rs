//! Walking links a forward search never needs to boarding: those whose every pattern at the
//! far end is caught at least as early from a stop the traveller reaches with less walking,
//! and, per pattern stop, those the vehicle the traveller alighted from serves as well.
//!
//! A traveller arriving by vehicle at `u` at time `a` walks the link `u → v` (`d` seconds) to
//! board some pattern `P` at `v`, whose trips leave `v` at `a + d` or later. If `P` also stops
//! at `w` before `v`, every trip leaves `w` at most `gap(w, v)` earlier than `v` (the largest
//! such difference over `P`'s trips). So when `u` walks to `w` in `d'` seconds (or `w` is `u`
//! itself, where boarding costs `u`'s minimum transfer time) with `d' + gap(w, v) ≤ d`, every
//! trip of `P` the traveller can catch at `v` is caught at `w` too: the walk to `v` adds nothing
//! for `P`. A link whose every pattern is covered like this is left out of the boarding links;
//! the rest of the label's uses stay exact because:
//!
//! - the walk to `w` is no longer (in time or metres) than the walk to `v`, so a walking limit
//!   that allows `v` allows `w`, and `w`'s lower bound to the target is no worse (its time plus
//!   bound is at most `v`'s: the bound is consistent and rides at most `gap`);
//! - the covering stop's link is itself kept, or covered the same way from further up `P`
//!   (positions only decrease, so the chain ends at a kept link or at `u`);
//! - a walk into a stop of the target (or into a stop that walks to one) finishes a journey
//!   rather than boarding: searches relax every link from stops with such links (see
//!   `relax_footpaths`), and wheelchair searches, where the covering stop may not be
//!   accessible, use every link too.
//!
//! On New York (911,120 links, closure up to 900 s) 620,305 links are kept (68 %).
//!
//! The same idea at the other end of the ride: a traveller who alighted at `u` from pattern `P`
//! and walks `u → v` could as well have stayed on board to a later stop `x` of `P` and walked
//! `x → v`, when the longest ride `u → x` over `P`'s trips (summed per segment) plus that walk
//! is shorter than the walk from `u` (or, `x` being `v` itself, the ride plus `v`'s transfer
//! time). Riding on reaches `x` in the same round, so `x`'s walks happen anyway; a ride cut at
//! `x` by the target bound means the walk from `u` is cut too (the bound is consistent). So each
//! pattern stop gets the boarding links of its stop minus those, and the search walks from a
//! stop with the list of the pattern stop its vehicle label came from. Replacing a walk by the
//! covering one either reaches its end strictly sooner (this rule) or, with the same start,
//! boards the same trip at an earlier stop (boarding rule), so a chain of replacements ends at
//! a link both rules keep, with the same trips ridden and no later arrival (strictly sooner:
//! with ties, two stops served at the same moment by two patterns could each leave out the
//! walk the other one keeps). The rule ignores distances: searches with a walking limit below
//! the longest link use the boarding links. On New York the pattern stops keep 2,974,771
//! links in all; a search tries about a quarter fewer links.

use norikae_timetable::{Footpath, StopIdx, StopTime, Timetable};

/// For every pattern stop (parallel to `pattern_stops`), the sum over the pattern's earlier
/// segments of the largest difference between consecutive `time`s (departures or arrivals)
/// over its trips: an upper bound on how much earlier than at this stop any trip passes an
/// earlier stop of the pattern.
fn gaps(timetable: &Timetable, time: impl Fn(&StopTime) -> u32) -> Vec<u32> {
    let stop_times: &[StopTime] = &timetable.stop_times;
    let mut gaps = vec![0u32; timetable.pattern_stops.len()];
    let mut widest = Vec::new();
    for pattern in timetable.patterns.iter() {
        let num_stops = pattern.num_stops();
        widest.clear();
        widest.resize(num_stops, 0u32);
        let times = &stop_times[pattern.stop_times_start as usize..];
        for trip in 0..pattern.num_trips() {
            let row = &times[trip * num_stops..(trip + 1) * num_stops];
            for position in 1..num_stops {
                let gap = time(&row[position]).saturating_sub(time(&row[position - 1]));
                widest[position] = widest[position].max(gap);
            }
        }
        let out = &mut gaps[pattern.stops.start as usize..pattern.stops.end as usize];
        let mut sum = 0u32;
        for position in 0..num_stops {
            sum = sum.saturating_add(widest[position]);
            out[position] = sum;
        }
    }
    gaps
}

/// The forward walking links (`links`: the timetable's, sliced by its `footpath_offsets`, each
/// stop's sorted by duration) that a traveller may need for boarding: returns the kept links
/// and their offsets, in the same order.
pub(crate) fn boarding_links(
    timetable: &Timetable,
    links: &[Footpath],
) -> (Vec<u32>, Vec<Footpath>) {
    let offsets: &[u32] = &timetable.footpath_offsets;
    let num_stops = timetable.stops.len();
    let gaps = gaps(timetable, |time| time.departure);
    let pattern_stops: &[StopIdx] = &timetable.pattern_stops;
    let stop_rules: &[norikae_timetable::StopRules] = &timetable.pattern_stop_rules;
    let min_transfer_secs: &[u32] = &timetable.min_transfer_secs;
    // Per stop, the walk from the stop being processed: (seconds, metres), or none.
    let mut walk_to: Vec<Option<(u32, u32)>> = vec![None; num_stops];
    let mut kept_offsets = Vec::with_capacity(num_stops + 1);
    let mut kept = Vec::with_capacity(links.len());
    kept_offsets.push(0u32);
    for from in 0..num_stops {
        let own = &links[offsets[from] as usize..offsets[from + 1] as usize];
        for link in own {
            let slot = &mut walk_to[link.to.idx()];
            if slot.is_none_or(|(secs, _)| link.duration_secs < secs) {
                *slot = Some((link.duration_secs, link.distance_m));
            }
        }
        walk_to[from] = Some((min_transfer_secs[from], 0));
        for link in own {
            if needed_for_boarding(timetable, &gaps, pattern_stops, stop_rules, &walk_to, link) {
                kept.push(*link);
            }
        }
        for link in own {
            walk_to[link.to.idx()] = None;
        }
        walk_to[from] = None;
        kept_offsets.push(kept.len() as u32);
    }
    (kept_offsets, kept)
}

/// Per pattern stop (parallel to `pattern_stops`), the boarding links of its stop (`boarding`,
/// sliced by `boarding_offsets`) that a traveller alighting there from the pattern may need:
/// a link `u → v` is left out when staying on the vehicle to a later stop `x` of the pattern and
/// walking `x → v` (any of `links`, sliced by the timetable's offsets) arrives no later on
/// every trip, or when the vehicle reaches `v` itself early enough to transfer there (see the
/// module docs). Pattern stops without drop-off get no links. Returns offsets (one slice per
/// pattern stop) and links, each slice in duration order.
pub(crate) fn alighting_links(
    timetable: &Timetable,
    links: &[Footpath],
    (boarding_offsets, boarding): (&[u32], &[Footpath]),
) -> (Vec<u32>, Vec<Footpath>) {
    let offsets: &[u32] = &timetable.footpath_offsets;
    let pattern_stops: &[StopIdx] = &timetable.pattern_stops;
    let stop_rules: &[norikae_timetable::StopRules] = &timetable.pattern_stop_rules;
    let min_transfer_secs: &[u32] = &timetable.min_transfer_secs;
    let gaps = gaps(timetable, |time| time.arrival);
    // Per stop, the soonest arrival (after the alighting being processed) there by riding on
    // and walking, or by riding on and transferring at the stop itself: u32::MAX when none.
    let mut reach = vec![u32::MAX; timetable.stops.len()];
    let mut reached: Vec<StopIdx> = Vec::new();
    let mut kept_offsets = Vec::with_capacity(pattern_stops.len() + 1);
    let mut kept = Vec::new();
    kept_offsets.push(0u32);
    for pattern in timetable.patterns.iter() {
        let base = pattern.stops.start as usize;
        for position in 0..pattern.num_stops() {
            let index = base + position;
            let from = pattern_stops[index];
            let own = &boarding
                [boarding_offsets[from.idx()] as usize..boarding_offsets[from.idx() + 1] as usize];
            // No vehicle label comes from a stop without drop-off.
            let longest = own.last().map(|link| link.duration_secs);
            let Some(longest) = longest.filter(|_| stop_rules[index].drop_off()) else {
                kept_offsets.push(kept.len() as u32);
                continue;
            };
            let mut lower = |stop: StopIdx, secs: u32| {
                let slot = &mut reach[stop.idx()];
                if *slot == u32::MAX {
                    reached.push(stop);
                }
                *slot = (*slot).min(secs);
            };
            for later in index + 1..pattern.stops.end as usize {
                let ride = gaps[later] - gaps[index];
                if ride > longest {
                    break;
                }
                if !stop_rules[later].drop_off() {
                    continue;
                }
                let stop = pattern_stops[later];
                lower(stop, ride.saturating_add(min_transfer_secs[stop.idx()]));
                for link in &links[offsets[stop.idx()] as usize..offsets[stop.idx() + 1] as usize] {
                    let secs = ride + link.duration_secs;
                    if secs > longest {
                        break;
                    }
                    lower(link.to, secs);
                }
            }
            // Strictly sooner only: with ties (rides of no time), two stops of two patterns
            // could each leave out the walk the other keeps for them.
            kept.extend(own.iter().filter(|link| reach[link.to.idx()] >= link.duration_secs));
            for stop in reached.drain(..) {
                reach[stop.idx()] = u32::MAX;
            }
            kept_offsets.push(kept.len() as u32);
        }
    }
    (kept_offsets, kept)
}

/// Whether some pattern boarding at `link.to` is not caught as early from a stop before it
/// that the traveller walks to no longer (see the module docs).
fn needed_for_boarding(
    timetable: &Timetable,
    gaps: &[u32],
    pattern_stops: &[StopIdx],
    stop_rules: &[norikae_timetable::StopRules],
    walk_to: &[Option<(u32, u32)>],
    link: &Footpath,
) -> bool {
    let to = link.to;
    timetable.patterns_at_stop(to).iter().any(|at_stop| {
        let pattern = &timetable.patterns[at_stop.pattern.idx()];
        let base = pattern.stops.start as usize;
        let position = at_stop.position as usize;
        if position + 1 >= pattern.num_stops() || !stop_rules[base + position].pickup() {
            // Nothing to board here.
            return false;
        }
        let covered = (0..position).rev().map(|earlier| base + earlier).find_map(|index| {
            let gap = gaps[base + position] - gaps[index];
            if gap > link.duration_secs {
                return Some(false);
            }
            let stop = pattern_stops[index];
            let covers = stop != to
                && stop_rules[index].pickup()
                && walk_to[stop.idx()].is_some_and(|(secs, metres)| {
                    secs + gap <= link.duration_secs && metres <= link.distance_m
                });
            covers.then_some(true)
        });
        covered != Some(true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::tests::bundled_timetable;

    /// Every link left out is covered, checked trip by trip rather than with the summed
    /// gaps: for each pattern boardable at its far end, a stop before it on the pattern that
    /// the traveller walks to no longer (or the stop walked from, after its transfer time)
    /// where every trip leaves no earlier than the walk to the far end allows.
    #[test]
    fn every_link_left_out_is_covered_on_the_bundled_feeds() {
        let timetable = bundled_timetable();
        let offsets: &[u32] = &timetable.footpath_offsets;
        let links: &[Footpath] = &timetable.footpaths;
        let (kept_offsets, kept) = boarding_links(&timetable, links);
        assert!(kept.len() < links.len(), "some links are left out");
        assert!(!kept.is_empty());
        let stop_times: &[norikae_timetable::StopTime] = &timetable.stop_times;
        let rules: &[norikae_timetable::StopRules] = &timetable.pattern_stop_rules;
        let mut left_out = 0;
        for from in 0..timetable.stops.len() {
            let own = &links[offsets[from] as usize..offsets[from + 1] as usize];
            let ours = &kept[kept_offsets[from] as usize..kept_offsets[from + 1] as usize];
            let walk = |stop: StopIdx| {
                if stop.idx() == from {
                    return Some((timetable.min_transfer_secs[from], 0));
                }
                own.iter()
                    .filter(|link| link.to == stop)
                    .map(|link| (link.duration_secs, link.distance_m))
                    .min()
            };
            for link in own.iter().filter(|link| !ours.contains(link)) {
                left_out += 1;
                for at_stop in timetable.patterns_at_stop(link.to) {
                    let pattern = &timetable.patterns[at_stop.pattern.idx()];
                    let (base, position) =
                        (pattern.stops.start as usize, at_stop.position as usize);
                    let num_stops = pattern.num_stops();
                    if position + 1 >= num_stops || !rules[base + position].pickup() {
                        continue;
                    }
                    let times = &stop_times[pattern.stop_times_start as usize..];
                    let covered = (0..position).any(|earlier| {
                        let stop = timetable.pattern_stops[base + earlier];
                        stop != link.to
                            && rules[base + earlier].pickup()
                            && walk(stop).is_some_and(|(secs, metres)| {
                                metres <= link.distance_m
                                    && (0..pattern.num_trips()).all(|trip| {
                                        let row = &times[trip * num_stops..];
                                        row[earlier].departure + link.duration_secs
                                            >= row[position].departure + secs
                                    })
                            })
                    });
                    assert!(covered, "link {from} -> {:?} is needed for {:?}", link.to, at_stop);
                }
            }
        }
        assert_eq!(left_out, links.len() - kept.len());
    }

    /// Every link an alighting stop leaves out of its boarding links is covered trip by trip:
    /// some later stop of the pattern (with drop-off) where every trip arrives early enough to
    /// walk on to the far end (or, being the far end, to transfer there) sooner than the walk
    /// from the alighting stop.
    #[test]
    fn every_link_left_out_after_alighting_is_covered_on_the_bundled_feeds() {
        let timetable = bundled_timetable();
        let offsets: &[u32] = &timetable.footpath_offsets;
        let links: &[Footpath] = &timetable.footpaths;
        let (boarding_offsets, boarding) = boarding_links(&timetable, links);
        let (kept_offsets, kept) =
            alighting_links(&timetable, links, (&boarding_offsets, &boarding));
        assert_eq!(kept_offsets.len(), timetable.pattern_stops.len() + 1);
        let stop_times: &[norikae_timetable::StopTime] = &timetable.stop_times;
        let rules: &[norikae_timetable::StopRules] = &timetable.pattern_stop_rules;
        let mut left_out = 0;
        let mut considered = 0;
        for pattern in timetable.patterns.iter() {
            let (base, num_stops) = (pattern.stops.start as usize, pattern.num_stops());
            let times = &stop_times[pattern.stop_times_start as usize..];
            for position in 0..num_stops {
                let from = timetable.pattern_stops[base + position];
                let own = &boarding[boarding_offsets[from.idx()] as usize
                    ..boarding_offsets[from.idx() + 1] as usize];
                let ours = &kept[kept_offsets[base + position] as usize
                    ..kept_offsets[base + position + 1] as usize];
                if !rules[base + position].drop_off() {
                    assert!(ours.is_empty());
                    continue;
                }
                considered += own.len();
                assert!(
                    ours.iter().all(|link| own.contains(link)),
                    "kept links are boarding links"
                );
                for link in own.iter().filter(|link| !ours.contains(link)) {
                    left_out += 1;
                    let covered = (position + 1..num_stops).any(|later| {
                        let stop = timetable.pattern_stops[base + later];
                        let onward = if stop == link.to {
                            Some(timetable.min_transfer_secs[stop.idx()])
                        } else {
                            links[offsets[stop.idx()] as usize..offsets[stop.idx() + 1] as usize]
                                .iter()
                                .filter(|onward| onward.to == link.to)
                                .map(|onward| onward.duration_secs)
                                .min()
                        };
                        rules[base + later].drop_off()
                            && onward.is_some_and(|onward| {
                                (0..pattern.num_trips()).all(|trip| {
                                    let row = &times[trip * num_stops..];
                                    row[later].arrival + onward
                                        < row[position].arrival + link.duration_secs
                                })
                            })
                    });
                    assert!(covered, "link {from:?} -> {:?} is needed after {position}", link.to);
                }
            }
        }
        assert!(left_out > 0, "some links are left out");
        assert!(left_out < considered, "some links are kept");
    }
}
