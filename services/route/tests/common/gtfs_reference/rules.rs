//! transfers.txt as the GTFS reference defines it: a rule applies to a change "alight trip
//! A at stop s, board trip B at stop s2" when its from_stop_id is s or s's parent station
//! (likewise to_stop_id and s2) and each of from_trip_id, to_trip_id, from_route_id and
//! to_route_id is empty or names A, B, A's route, B's route. The most specific matching
//! rule wins: 1 both trip ids; 2 one trip id and the other side's route id; 3 one trip id;
//! 4 both route ids; 5 one route id; 6 stops only. Within a level, a rule naming stops beats
//! one naming a station on either side (fewer station sides win), then the later row wins.
//!
//! What the winner means: 0 as if there were no rule, except that between different stops
//! the walk takes the time of their distance however far apart; 1 (timed) 0 s; 2 its
//! min_transfer_time (missing: as 0); 3 forbidden; 4 (in-seat, between the last stop of
//! from_trip and the first stop of to_trip, which may then be left empty) 0 s; 5 as if there
//! were no rule. With no rule: 60 s at the same stop, else the closed walking link (none:
//! no change).

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};

use norikae_timetable::StopIdx;

use super::files::{Table, read_table};
use super::network::Network;
use super::{
    FeedFiles, GtfsReference, RefTrip, SAME_STOP_CHANGE_SECS, StopInfo, distance_m, walking_secs,
};

/// One row of transfers.txt.
#[derive(Clone, Debug)]
pub(super) struct Rule {
    /// The stops (or stations) named; empty only for in-seat rules (types 4 and 5).
    from_stop: Option<StopIdx>,
    to_stop: Option<StopIdx>,
    /// `FEED:trip_id` and `FEED:route_id` as named.
    from_trip: Option<String>,
    to_trip: Option<String>,
    from_route: Option<String>,
    to_route: Option<String>,
    pub kind: u8,
    min_transfer_secs: Option<u32>,
    /// Specificity, 1 (both trips) to 6 (stops only).
    pub level: u8,
    /// How many of the two stop fields name a station.
    station_sides: u8,
    /// Position among all rules: the later row wins a tie.
    order: usize,
    /// `feed/transfers.txt:line`.
    pub source: String,
}

impl Rule {
    fn names_trips_or_routes(&self) -> bool {
        self.level < 6
    }

    /// The key the winner minimises.
    fn precedence(&self) -> (u8, u8, Reverse<usize>) {
        (self.level, self.station_sides, Reverse(self.order))
    }
}

/// Every feed's rules, indexed for the changes the scan asks about.
#[derive(Default)]
pub(super) struct Rules {
    rules: Vec<Rule>,
    /// Rules by the stop or station their from_stop_id names.
    by_from_stop: HashMap<StopIdx, Vec<usize>>,
    /// In-seat rules without stop ids.
    without_stops: Vec<usize>,
    /// Stops where vehicles stop, by parent station.
    children: HashMap<StopIdx, Vec<StopIdx>>,
    /// `(from, to)` stop pairs some trip- or route-specific rule names: a change between
    /// them depends on the trips, so the scan looks at each arriving trip there.
    special_pairs: HashSet<(StopIdx, StopIdx)>,
    /// For each stop, the stops a special pair leads to it from.
    special_into: HashMap<StopIdx, Vec<StopIdx>>,
    /// Stops a special pair leads from.
    special_sources: HashSet<StopIdx>,
    pub notes: Vec<String>,
}

impl Rules {
    pub fn read(feeds: &[FeedFiles], network: &Network) -> Self {
        let mut rules = Self::default();
        for (stop, info) in network.stops.iter().enumerate() {
            if let (true, Some(parent)) = (info.vehicles_stop, info.parent) {
                rules.children.entry(parent).or_default().push(StopIdx::from(stop));
            }
        }
        for (feed_position, feed) in feeds.iter().enumerate() {
            let Some(table) = read_table(&feed.name, &feed.path, "transfers.txt") else {
                continue;
            };
            rules.read_feed(feed_position, feed, &table, network);
        }
        for (position, rule) in rules.rules.iter().enumerate() {
            match rule.from_stop {
                Some(stop) => rules.by_from_stop.entry(stop).or_default().push(position),
                None => rules.without_stops.push(position),
            }
        }
        rules
    }

    fn read_feed(
        &mut self,
        feed_position: usize,
        feed: &FeedFiles,
        table: &Table,
        network: &Network,
    ) {
        let names = [
            "from_stop_id",
            "to_stop_id",
            "transfer_type",
            "min_transfer_time",
            "from_trip_id",
            "to_trip_id",
            "from_route_id",
            "to_route_id",
        ];
        let [from_stop, to_stop, kind, min_time, from_trip, to_trip, from_route, to_route] =
            names.map(|field| table.column(field));
        let trip_routes = &network.trip_routes[feed_position];
        let routes: HashSet<&str> = trip_routes.values().map(String::as_str).collect();
        for row in &table.rows {
            let source = format!("{}:{}", table.name, Table::line(row));
            let kind_value = match Table::get(row, kind) {
                "" | "0" => 0,
                "1" => 1,
                "2" => 2,
                "3" => 3,
                "4" => 4,
                "5" => 5,
                other => {
                    self.notes.push(format!("{source}: transfer_type {other:?} unknown; skipped"));
                    continue;
                }
            };
            let optional = |column| {
                let value = Table::get(row, column);
                (!value.is_empty()).then(|| value.to_owned())
            };
            let (from_stop_id, to_stop_id) = (optional(from_stop), optional(to_stop));
            let in_seat = matches!(kind_value, 4 | 5);
            if !in_seat && (from_stop_id.is_none() || to_stop_id.is_none()) {
                self.notes.push(format!("{source}: type {kind_value} without stops; skipped"));
                continue;
            }
            let resolve = |id: &Option<String>| match id {
                None => Ok(None),
                Some(id) => network.resolve_stop(feed_position, id).map(Some).ok_or(id.clone()),
            };
            let (from_stop_idx, to_stop_idx) = match (resolve(&from_stop_id), resolve(&to_stop_id))
            {
                (Ok(from), Ok(to)) => (from, to),
                (Err(unknown), _) | (_, Err(unknown)) => {
                    self.notes.push(format!("{source}: unknown stop {unknown:?}; skipped"));
                    continue;
                }
            };
            let (from_trip_id, to_trip_id) = (optional(from_trip), optional(to_trip));
            if in_seat && (from_trip_id.is_none() || to_trip_id.is_none()) {
                self.notes.push(format!("{source}: in-seat rule without both trips; skipped"));
                continue;
            }
            for trip in [&from_trip_id, &to_trip_id].into_iter().flatten() {
                if !trip_routes.contains_key(trip) {
                    self.notes.push(format!("{source}: unknown trip {trip:?} (matches nothing)"));
                }
            }
            let (from_route_id, to_route_id) = (optional(from_route), optional(to_route));
            for route in [&from_route_id, &to_route_id].into_iter().flatten() {
                if !routes.contains(route.as_str()) {
                    self.notes.push(format!("{source}: unknown route {route:?} (matches nothing)"));
                }
            }
            let side = |trip: &Option<String>, route: &Option<String>| {
                if trip.is_some() { 2 } else { u8::from(route.is_some()) }
            };
            let level = match (side(&from_trip_id, &from_route_id), side(&to_trip_id, &to_route_id))
            {
                (2, 2) => 1,
                (2, 1) | (1, 2) => 2,
                (2, 0) | (0, 2) => 3,
                (1, 1) => 4,
                (1, 0) | (0, 1) => 5,
                _ => 6,
            };
            let is_station =
                |stop: Option<StopIdx>| stop.is_some_and(|stop| network.stops[stop.idx()].station);
            let qualified = |id: Option<String>| id.map(|id| format!("{}:{id}", feed.name));
            self.rules.push(Rule {
                from_stop: from_stop_idx,
                to_stop: to_stop_idx,
                from_trip: qualified(from_trip_id),
                to_trip: qualified(to_trip_id),
                from_route: qualified(from_route_id),
                to_route: qualified(to_route_id),
                kind: kind_value,
                min_transfer_secs: Table::get(row, min_time).parse().ok(),
                level,
                station_sides: u8::from(is_station(from_stop_idx))
                    + u8::from(is_station(to_stop_idx)),
                order: self.rules.len(),
                source,
            });
        }
    }

    /// The stops where vehicles stop that a rule's stop field names: the stop itself, or a
    /// station's member stops.
    fn named_stops(&self, stops: &[StopInfo], named: StopIdx) -> Vec<StopIdx> {
        let mut named_stops = self.children.get(&named).cloned().unwrap_or_default();
        if stops[named.idx()].vehicles_stop {
            named_stops.push(named);
        }
        named_stops
    }

    /// Notes the stop pairs trip- and route-specific rules name (for in-seat rules without
    /// stops, the last stop of each from_trip and the first of each to_trip).
    pub fn find_special_pairs(&mut self, stops: &[StopInfo], trips: &[RefTrip]) {
        let mut pairs = HashSet::new();
        for rule in self.rules.iter().filter(|rule| rule.names_trips_or_routes()) {
            let ends =
                |named: Option<StopIdx>, trip: &Option<String>, last: bool| match named {
                    Some(named) => self.named_stops(stops, named),
                    None => trips
                        .iter()
                        .filter(|candidate| Some(&candidate.gtfs_trip) == trip.as_ref())
                        .filter_map(|candidate| {
                            if last { candidate.stops.last() } else { candidate.stops.first() }
                        })
                        .copied()
                        .collect(),
                };
            for from in ends(rule.from_stop, &rule.from_trip, true) {
                for to in ends(rule.to_stop, &rule.to_trip, false) {
                    pairs.insert((from, to));
                }
            }
        }
        for &(from, to) in &pairs {
            self.special_into.entry(to).or_default().push(from);
            self.special_sources.insert(from);
        }
        for sources in self.special_into.values_mut() {
            sources.sort_unstable();
            sources.dedup();
        }
        self.special_pairs = pairs;
    }

    pub fn is_special(&self, from: StopIdx, to: StopIdx) -> bool {
        self.special_pairs.contains(&(from, to))
    }

    /// Whether a change from `stop` may depend on the trips.
    pub fn is_special_source(&self, stop: StopIdx) -> bool {
        self.special_sources.contains(&stop)
    }

    /// Stops a change to `to` may come from whose time depends on the trips.
    pub fn special_sources_into(&self, to: StopIdx) -> &[StopIdx] {
        self.special_into.get(&to).map_or(&[], Vec::as_slice)
    }

    /// The winning rule among those that name no trip and no route, for a change from stop
    /// `from` to stop `to`.
    fn stop_rule(&self, stops: &[StopInfo], from: StopIdx, to: StopIdx) -> Option<&Rule> {
        self.candidates(stops, from)
            .filter(|rule| !rule.names_trips_or_routes())
            .filter(|rule| stop_matches(stops, rule.to_stop, to))
            .min_by_key(|rule| rule.precedence())
    }

    /// Rules whose from_stop_id names `from` or its station, and those without stops.
    fn candidates<'a>(
        &'a self,
        stops: &[StopInfo],
        from: StopIdx,
    ) -> impl Iterator<Item = &'a Rule> {
        let own = self.by_from_stop.get(&from).into_iter().flatten();
        let parent = stops[from.idx()].parent;
        let of_parent =
            parent.and_then(|parent| self.by_from_stop.get(&parent)).into_iter().flatten();
        own.chain(of_parent).chain(self.without_stops.iter()).map(|&position| &self.rules[position])
    }

    /// Every stop-level rule between two different stops where vehicles stop, as
    /// `((from, to), rule)`, the winner for each pair.
    pub fn stop_level_pairs(&self, stops: &[StopInfo]) -> Vec<((StopIdx, StopIdx), &Rule)> {
        let mut winners: HashMap<(StopIdx, StopIdx), &Rule> = HashMap::new();
        for rule in self.rules.iter().filter(|rule| !rule.names_trips_or_routes()) {
            let (Some(from_named), Some(to_named)) = (rule.from_stop, rule.to_stop) else {
                continue;
            };
            for from in self.named_stops(stops, from_named) {
                for to in self.named_stops(stops, to_named) {
                    if from == to {
                        continue;
                    }
                    let entry = winners.entry((from, to)).or_insert(rule);
                    if rule.precedence() < entry.precedence() {
                        *entry = rule;
                    }
                }
            }
        }
        let mut pairs: Vec<_> = winners.into_iter().collect();
        pairs.sort_unstable_by_key(|(pair, _)| *pair);
        pairs
    }
}

fn stop_matches(stops: &[StopInfo], named: Option<StopIdx>, stop: StopIdx) -> bool {
    named.is_none_or(|named| named == stop || stops[stop.idx()].parent == Some(named))
}

/// What a stop-level rule between two different stops makes of the walk between them
/// (`None`: no walk).
pub(super) fn stop_rule_secs(rule: &Rule, from: &StopInfo, to: &StopInfo) -> Option<u32> {
    match (rule.kind, rule.min_transfer_secs) {
        (1, _) => Some(0),
        (2, Some(secs)) => Some(secs),
        (3, _) => None,
        _ => Some(walking_secs(distance_m(from, to))),
    }
}

impl GtfsReference {
    /// Whether a rule applies to alighting `from` (trip, position) and boarding `to`.
    fn rule_matches(&self, rule: &Rule, from: (&RefTrip, usize), to: (&RefTrip, usize)) -> bool {
        let ((alighted, alight_position), (boarded, board_position)) = (from, to);
        let in_seat = matches!(rule.kind, 4 | 5);
        if in_seat && (alight_position + 1 != alighted.stops.len() || board_position != 0) {
            return false;
        }
        let names = |named: &Option<String>, actual: &String| {
            named.as_ref().is_none_or(|named| named == actual)
        };
        stop_matches(&self.stops, rule.from_stop, alighted.stops[alight_position])
            && stop_matches(&self.stops, rule.to_stop, boarded.stops[board_position])
            && names(&rule.from_trip, &alighted.gtfs_trip)
            && names(&rule.to_trip, &boarded.gtfs_trip)
            && names(&rule.from_route, &alighted.route)
            && names(&rule.to_route, &boarded.route)
    }

    /// The rule deciding a change from trip `from.0` alighted at position `from.1` to trip
    /// `to.0` boarded at position `to.1` (trips as indices into the reference's trips).
    pub(super) fn winning_rule(&self, from: (usize, usize), to: (usize, usize)) -> Option<&Rule> {
        let (alighted, boarded) = (&self.trips[from.0], &self.trips[to.0]);
        let stop = alighted.stops[from.1];
        self.rules
            .candidates(&self.stops, stop)
            .filter(|rule| self.rule_matches(rule, (alighted, from.1), (boarded, to.1)))
            .min_by_key(|rule| rule.precedence())
    }

    /// Seconds a change takes from trip `from.0` alighted at position `from.1` to trip `to.0`
    /// boarded at position `to.1`; `None` when it is not allowed.
    pub(super) fn change_secs(&self, from: (usize, usize), to: (usize, usize)) -> Option<u32> {
        let from_stop = self.trips[from.0].stops[from.1];
        let to_stop = self.trips[to.0].stops[to.1];
        let rule = self.winning_rule(from, to);
        self.rule_meaning(rule, from_stop, to_stop)
    }

    /// Seconds a change from `from` to `to` takes when no trip- or route-specific rule applies.
    pub(super) fn change_secs_between_stops(&self, from: StopIdx, to: StopIdx) -> Option<u32> {
        let rule = self.rules.stop_rule(&self.stops, from, to);
        self.rule_meaning(rule, from, to)
    }

    fn rule_meaning(&self, rule: Option<&Rule>, from: StopIdx, to: StopIdx) -> Option<u32> {
        let without_rule =
            || if from == to { Some(SAME_STOP_CHANGE_SECS) } else { self.links.get(from, to) };
        let Some(rule) = rule else { return without_rule() };
        let walk = || {
            if from == to {
                SAME_STOP_CHANGE_SECS
            } else {
                walking_secs(distance_m(&self.stops[from.idx()], &self.stops[to.idx()]))
            }
        };
        match rule.kind {
            0 => Some(walk()),
            1 | 4 => Some(0),
            2 => Some(rule.min_transfer_secs.unwrap_or_else(walk)),
            3 => None,
            _ => without_rule(),
        }
    }
}
