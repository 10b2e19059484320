//! Lines (GTFS routes): the list with its filters, and one line's directions with their
//! stops in order, derived from the route's trip patterns (for [`super::Engine::routes`] and
//! [`super::Engine::route_directions`]).

use std::collections::BTreeMap;

use norikae_timetable::{
    AgencyIdx, Mode, PatternIdx, RouteIdx, StationIdx, StopIdx, Timetable, TripIdx,
};

/// Which lines to list.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RouteFilter {
    pub agency: Option<AgencyIdx>,
    pub mode: Option<Mode>,
    /// Lines calling at a stop of this station.
    pub station: Option<StationIdx>,
}

/// The lines `filter` keeps, in the timetable's order (by feed, then as the feed lists them).
pub fn routes(tt: &Timetable, filter: &RouteFilter) -> Vec<RouteIdx> {
    let candidates: Vec<RouteIdx> = match filter.station {
        Some(station) => tt.stations[station.idx()].routes.clone(),
        None => (0..tt.routes.len()).map(RouteIdx::from).collect(),
    };
    candidates
        .into_iter()
        .filter(|route| {
            let data = &tt.routes[route.idx()];
            filter.agency.is_none_or(|agency| data.agency == agency)
                && filter.mode.is_none_or(|mode| data.mode == mode)
        })
        .collect()
}

/// One direction of a line: its trips with one `direction_id` (feeds without direction ids
/// have one direction per line, `None`).
#[derive(Clone, Debug, PartialEq)]
pub struct RouteDirection {
    pub direction_id: Option<u8>,
    /// Trips of this direction over the whole timetable.
    pub trips: usize,
    /// Distinct stop sequences of this direction.
    pub patterns: usize,
    /// The pattern the stops are taken from: the one most trips run (of equals, the one with
    /// the most stops, then the first).
    pub main_pattern: PatternIdx,
    /// Trips running `main_pattern` in this direction.
    pub main_pattern_trips: usize,
    /// One trip per distinct headsign (its default text), the most frequent first.
    pub headsign_trips: Vec<TripIdx>,
    /// The stops of `main_pattern` in order (a stop repeated next to itself once).
    pub stops: Vec<StopIdx>,
}

/// A line's directions, `direction_id` 0 before 1 before none.
pub fn directions(tt: &Timetable, route: RouteIdx) -> Vec<RouteDirection> {
    // direction → pattern → trips of that pattern in that direction.
    let mut by_direction: BTreeMap<DirectionKey, BTreeMap<PatternIdx, usize>> = BTreeMap::new();
    // direction → headsign → (trips, first trip).
    let mut headsigns: BTreeMap<DirectionKey, BTreeMap<&str, (usize, TripIdx)>> = BTreeMap::new();
    for (position, pattern) in tt.patterns.iter().enumerate() {
        if pattern.route != route {
            continue;
        }
        for trip in pattern.trips.clone().map(TripIdx) {
            let data = &tt.trips[trip.idx()];
            let key = DirectionKey(data.direction_id);
            *by_direction.entry(key).or_default().entry(PatternIdx::from(position)).or_default() +=
                1;
            let counted = headsigns
                .entry(key)
                .or_default()
                .entry(data.headsign.default.as_str())
                .or_insert((0, trip));
            counted.0 += 1;
        }
    }
    by_direction
        .into_iter()
        .map(|(key, patterns)| {
            let (main_pattern, main_pattern_trips) = patterns
                .iter()
                .max_by(|(a, trips_a), (b, trips_b)| {
                    trips_a
                        .cmp(trips_b)
                        .then(
                            tt.patterns[a.idx()].num_stops().cmp(&tt.patterns[b.idx()].num_stops()),
                        )
                        // `max_by` keeps the last of equals: prefer the first pattern.
                        .then(b.cmp(a))
                })
                .map(|(pattern, trips)| (*pattern, *trips))
                .unwrap_or_default();
            let mut named: Vec<(usize, TripIdx)> =
                headsigns.remove(&key).unwrap_or_default().into_values().collect();
            named.sort_by(|(count_a, trip_a), (count_b, trip_b)| {
                count_b.cmp(count_a).then(trip_a.cmp(trip_b))
            });
            let mut stops: Vec<StopIdx> = tt.pattern_stops(main_pattern).to_vec();
            stops.dedup();
            RouteDirection {
                direction_id: key.0,
                trips: patterns.values().sum(),
                patterns: patterns.len(),
                main_pattern,
                main_pattern_trips,
                headsign_trips: named.into_iter().map(|(_, trip)| trip).collect(),
                stops,
            }
        })
        .collect()
}

/// Orders `Some(0)`, `Some(1)`, … before `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct DirectionKey(Option<u8>);

impl Ord for DirectionKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self.0, other.0) {
            (Some(a), Some(b)) => a.cmp(&b),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }
    }
}

impl PartialOrd for DirectionKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;

    fn timetable() -> &'static Timetable {
        static TIMETABLE: OnceLock<Timetable> = OnceLock::new();
        TIMETABLE.get_or_init(crate::engine::tests::bundled_timetable)
    }

    #[test]
    fn every_mode_is_one_the_document_lists() {
        // Every route type, basic and extended, folds into a mode the OpenAPI enum names.
        for route_type in 0..=1800 {
            let mode = norikae_timetable::Mode::from_route_type(route_type).as_str();
            let listed: Result<norikae_wire::route::LineMode, _> =
                serde_json::from_value(serde_json::Value::from(mode));
            assert!(listed.is_ok(), "route_type {route_type}: `{mode}` is not a LineMode");
        }
    }

    #[test]
    fn the_kuko_line_runs_both_ways_between_meinohama_and_the_airport() {
        let tt = timetable();
        let route = tt.route_by_id("fukuoka:空港線").expect("the Kuko line");
        let directions = directions(tt, route);
        let ids: Vec<Option<u8>> =
            directions.iter().map(|direction| direction.direction_id).collect();
        assert_eq!(ids, [Some(0), Some(1)]);
        for direction in &directions {
            let names: Vec<&str> = direction
                .stops
                .iter()
                .map(|stop| tt.stops[stop.idx()].name.default.as_str())
                .collect();
            assert!(names.contains(&"天神") && names.contains(&"博多"), "{names:?}");
            assert!(direction.main_pattern_trips <= direction.trips);
            assert!(direction.main_pattern_trips * direction.patterns >= direction.trips);
            // Brute force: no pattern of the direction runs more trips than the main one.
            for (position, pattern) in tt.patterns.iter().enumerate() {
                if pattern.route != route {
                    continue;
                }
                let trips = pattern
                    .trips
                    .clone()
                    .filter(|trip| tt.trips[*trip as usize].direction_id == direction.direction_id)
                    .count();
                assert!(trips <= direction.main_pattern_trips, "pattern {position}");
            }
        }
        let toward_airport = &directions[0];
        let first = &tt.stops[toward_airport.stops[0].idx()].name.default;
        let last = &tt.stops[toward_airport.stops.last().expect("stops").idx()].name.default;
        assert_eq!((first.as_str(), last.as_str()), ("姪浜", "福岡空港"));
        let headsign = &tt.trips[toward_airport.headsign_trips[0].idx()].headsign.default;
        assert_eq!(headsign, "福岡空港");
    }

    #[test]
    fn filters_keep_what_they_name() {
        let tt = timetable();
        let all = routes(tt, &RouteFilter::default());
        assert_eq!(all.len(), tt.routes.len());
        let subway = routes(tt, &RouteFilter { mode: Some(Mode::Subway), ..Default::default() });
        assert!(!subway.is_empty() && subway.len() < all.len());
        assert!(subway.iter().all(|route| tt.routes[route.idx()].mode == Mode::Subway));
        let tenjin = tt.station_by_id("fukuoka:8").expect("Tenjin");
        let at_tenjin = routes(tt, &RouteFilter { station: Some(tenjin), ..Default::default() });
        let names: Vec<&str> =
            at_tenjin.iter().map(|route| tt.routes[route.idx()].id.as_str()).collect();
        assert_eq!(names, ["fukuoka:空港線"], "only the Kuko line calls at 天神");
        let okaden = AgencyIdx::from(
            tt.agencies.iter().position(|agency| agency.id.starts_with("okaden:")).expect("okaden"),
        );
        let by_agency = routes(tt, &RouteFilter { agency: Some(okaden), ..Default::default() });
        assert!(!by_agency.is_empty());
        assert!(by_agency.iter().all(|route| tt.routes[route.idx()].agency == okaden));
    }
}
