//! Walking links: stops where vehicles stop within [`MAX_LINK_DISTANCE_M`] of each other,
//! with stop-level transfers.txt rules between different stops replacing (or, type 3,
//! removing) the link, closed by shortest paths up to [`MAX_WALK_SECS`]. A pair a
//! stop-level rule names keeps the rule's time, however long, and nothing else. Then a
//! change of platform at either end: a closed link followed or preceded by the closed link
//! between two stops of one station (`station_of`, the import's stations), for pairs with no
//! link or rule yet.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use norikae_timetable::StopIdx;

use super::rules::{Rules, stop_rule_secs};
use super::{MAX_LINK_DISTANCE_M, MAX_WALK_SECS, StopInfo, distance_m, walking_secs};

/// Metres per degree of latitude (for the sweep that finds nearby stops; a bound only).
const METRES_PER_DEGREE: f64 = 111_000.0;

/// The closed walking links, both ways round.
pub(super) struct Links {
    from: Vec<Vec<(StopIdx, u32)>>,
    to: Vec<Vec<(StopIdx, u32)>>,
}

impl Links {
    pub fn build(stops: &[StopInfo], rules: &Rules, station_of: &[usize]) -> Self {
        let count = stops.len();
        let rule_links: HashMap<(StopIdx, StopIdx), Option<u32>> = rules
            .stop_level_pairs(stops)
            .into_iter()
            .map(|((from, to), rule)| {
                ((from, to), stop_rule_secs(rule, &stops[from.idx()], &stops[to.idx()]))
            })
            .collect();
        let mut edges: Vec<Vec<(usize, u32)>> = vec![Vec::new(); count];
        let mut by_latitude: Vec<usize> = (0..count)
            .filter(|&stop| {
                let info = &stops[stop];
                info.known && info.vehicles_stop && info.lat.is_finite() && info.lon.is_finite()
            })
            .collect();
        by_latitude.sort_by(|a, b| stops[*a].lat.total_cmp(&stops[*b].lat));
        for (position, &from) in by_latitude.iter().enumerate() {
            for &to in &by_latitude[position + 1..] {
                if (stops[to].lat - stops[from].lat) * METRES_PER_DEGREE > MAX_LINK_DISTANCE_M {
                    break;
                }
                let meters = distance_m(&stops[from], &stops[to]);
                if meters > MAX_LINK_DISTANCE_M {
                    continue;
                }
                for (a, b) in [(from, to), (to, from)] {
                    if !rule_links.contains_key(&(StopIdx::from(a), StopIdx::from(b))) {
                        edges[a].push((b, walking_secs(meters)));
                    }
                }
            }
        }
        for (&(from, to), secs) in &rule_links {
            if let Some(secs) = secs {
                edges[from.idx()].push((to.idx(), *secs));
            }
        }

        let mut from_links: Vec<Vec<(StopIdx, u32)>> = vec![Vec::new(); count];
        let mut best = vec![u32::MAX; count];
        let mut touched = Vec::new();
        for source in 0..count {
            if edges[source].is_empty() {
                continue;
            }
            let mut heap = BinaryHeap::new();
            best[source] = 0;
            touched.push(source);
            heap.push(Reverse((0u32, source)));
            while let Some(Reverse((secs, stop))) = heap.pop() {
                if secs > best[stop] {
                    continue;
                }
                for &(next, link_secs) in &edges[stop] {
                    let reached = secs.saturating_add(link_secs);
                    let ruled_first_step =
                        stop == source && rule_links.contains_key(&(source.into(), next.into()));
                    if reached > MAX_WALK_SECS && !ruled_first_step {
                        continue;
                    }
                    if reached < best[next] {
                        if best[next] == u32::MAX {
                            touched.push(next);
                        }
                        best[next] = reached;
                        heap.push(Reverse((reached, next)));
                    }
                }
            }
            for &target in &touched {
                let pair = (StopIdx::from(source), StopIdx::from(target));
                let secs = match rule_links.get(&pair) {
                    Some(ruled) => *ruled,
                    None => Some(best[target]),
                };
                if let (Some(secs), true) = (secs, target != source) {
                    from_links[source].push((pair.1, secs));
                }
                best[target] = u32::MAX;
            }
            touched.clear();
        }
        // Changes of platform at either end, from the closed links only.
        let mut members: HashMap<usize, Vec<usize>> = HashMap::new();
        for (stop, info) in stops.iter().enumerate() {
            if info.vehicles_stop {
                members.entry(station_of[stop]).or_default().push(stop);
            }
        }
        let closed = from_links.clone();
        let secs_of = |from: usize, to: usize| {
            closed[from].iter().find(|(stop, _)| stop.idx() == to).map(|(_, secs)| *secs)
        };
        for source in 0..count {
            let mut extra: HashMap<usize, u32> = HashMap::new();
            let mut offer = |to: usize, secs: u32| {
                let pair = (StopIdx::from(source), StopIdx::from(to));
                if to != source && !rule_links.contains_key(&pair) && secs_of(source, to).is_none()
                {
                    let known = extra.entry(to).or_insert(secs);
                    *known = (*known).min(secs);
                }
            };
            for &(middle, walk) in &closed[source] {
                for &platform in members.get(&station_of[middle.idx()]).into_iter().flatten() {
                    if let Some(change) = secs_of(middle.idx(), platform) {
                        offer(platform, walk + change);
                    }
                }
            }
            for &platform in members.get(&station_of[source]).into_iter().flatten() {
                let Some(change) = secs_of(source, platform) else { continue };
                for &(to, walk) in &closed[platform] {
                    offer(to.idx(), change + walk);
                }
            }
            from_links[source]
                .extend(extra.into_iter().map(|(to, secs)| (StopIdx::from(to), secs)));
        }
        let mut to_links: Vec<Vec<(StopIdx, u32)>> = vec![Vec::new(); count];
        for (from, links) in from_links.iter_mut().enumerate() {
            links.sort_unstable();
            for &(to, secs) in links.iter() {
                to_links[to.idx()].push((StopIdx::from(from), secs));
            }
        }
        Self { from: from_links, to: to_links }
    }

    /// Links leaving `stop`: `(to, seconds)`.
    pub fn from(&self, stop: StopIdx) -> &[(StopIdx, u32)] {
        &self.from[stop.idx()]
    }

    /// Links arriving at `stop`: `(from, seconds)`.
    pub fn arriving_at(&self, stop: StopIdx) -> &[(StopIdx, u32)] {
        &self.to[stop.idx()]
    }

    /// The link from `from` to `to`, if any.
    pub fn get(&self, from: StopIdx, to: StopIdx) -> Option<u32> {
        let links = &self.from[from.idx()];
        let position = links.partition_point(|(stop, _)| *stop < to);
        links.get(position).filter(|(stop, _)| *stop == to).map(|(_, secs)| *secs)
    }
}
