//! Fares from GTFS Fares v1 (fare_attributes.txt, fare_rules.txt).
//!
//! A journey's rides are split into consecutive groups, each paid with one fare, so that the
//! total is the least (dynamic programming over the rides). A fare pays for a group when one of
//! its rules matches every ride: route (or any), origin zone of the group's first boarding (or
//! any), destination zone of its last alighting (or any); when the fare has `contains` rules,
//! the zones the group passes are exactly those; the group has no more transfers than the fare
//! allows and fits its transfer duration. A journey with a ride no fare pays for has no fare,
//! and neither has a journey on foot only: there is nothing to pay (no quote of 0, which would
//! read as "free ride").

use std::collections::{HashMap, HashSet};

use norikae_timetable::{FareIdx, RouteIdx, StopIdx, Timetable};

use super::journey::{Journey, Leg};

/// Fare rules indexed by (origin zone, destination zone); `""` stands for "any".
#[derive(Debug, Default)]
pub struct FareIndex {
    by_zones: HashMap<(Box<str>, Box<str>), Vec<u32>>,
    contains: HashMap<FareIdx, HashSet<Box<str>>>,
}

/// The price of a journey.
#[derive(Clone, Debug, PartialEq)]
pub struct FareQuote {
    pub total: f64,
    pub currency: String,
    /// The fares paid, each with the transit legs it covers (indices among the transit legs).
    pub parts: Vec<(FareIdx, std::ops::Range<usize>)>,
}

struct Ride<'a> {
    route: RouteIdx,
    board_zones: &'a [String],
    alight_zones: &'a [String],
    passed_zones: Vec<&'a str>,
    departure: i64,
}

impl FareIndex {
    pub fn build(timetable: &Timetable) -> Self {
        let mut index = Self::default();
        for (position, rule) in timetable.fares.rules.iter().enumerate() {
            if let Some(zone) = &rule.contains_zone {
                index.contains.entry(rule.fare).or_default().insert(zone.as_str().into());
            }
            let key = (
                rule.origin_zone.as_deref().unwrap_or("").into(),
                rule.destination_zone.as_deref().unwrap_or("").into(),
            );
            index.by_zones.entry(key).or_default().push(position as u32);
        }
        index
    }

    pub fn is_empty(&self) -> bool {
        self.by_zones.is_empty()
    }

    /// The cheapest way to pay for `journey`, if the feeds' fares cover every ride.
    pub fn price(&self, timetable: &Timetable, journey: &Journey) -> Option<FareQuote> {
        if self.is_empty() {
            return None;
        }
        let rides: Vec<Ride<'_>> = journey
            .legs
            .iter()
            .filter_map(|leg| match leg {
                Leg::Transit { pattern, board_position, alight_position, departure, .. } => {
                    let stops = timetable.pattern_stops(*pattern);
                    let zones = |stop: StopIdx| timetable.stops[stop.idx()].zone_ids.as_slice();
                    let mut passed_zones: Vec<&str> = stops[*board_position..=*alight_position]
                        .iter()
                        .flat_map(|&stop| zones(stop).iter().map(String::as_str))
                        .collect();
                    passed_zones.sort_unstable();
                    passed_zones.dedup();
                    Some(Ride {
                        route: timetable.patterns[pattern.idx()].route,
                        board_zones: zones(stops[*board_position]),
                        alight_zones: zones(stops[*alight_position]),
                        passed_zones,
                        departure: *departure,
                    })
                }
                Leg::Walk { .. } => None,
            })
            .collect();
        if rides.is_empty() {
            // On foot only: nothing to pay, so no quote (clients show no fare line).
            return None;
        }
        // best[j]: cheapest way to pay rides 0..j, with the fare of its last group.
        let mut best: Vec<Option<(f64, usize, FareIdx)>> = vec![None; rides.len() + 1];
        best[0] = Some((0.0, 0, FareIdx(0)));
        for end in 1..=rides.len() {
            for start in 0..end {
                let Some((paid, _, _)) = best[start] else { continue };
                let Some((fare, price)) = self.cheapest_fare(timetable, &rides[start..end]) else {
                    continue;
                };
                let total = paid + price;
                if best[end].is_none_or(|(current, _, _)| total < current) {
                    best[end] = Some((total, start, fare));
                }
            }
        }
        let (total, _, _) = best[rides.len()]?;
        let mut parts = Vec::new();
        let mut end = rides.len();
        while end > 0 {
            let (_, start, fare) = best[end]?;
            parts.push((fare, start..end));
            end = start;
        }
        parts.reverse();
        let currency = timetable.fares.attributes[parts[0].0.idx()].currency.clone();
        Some(FareQuote { total, currency, parts })
    }

    fn cheapest_fare(&self, timetable: &Timetable, group: &[Ride<'_>]) -> Option<(FareIdx, f64)> {
        let first = group.first()?;
        let last = group.last()?;
        let any = String::new();
        let origins = first.board_zones.iter().chain(std::iter::once(&any));
        let mut candidates: HashMap<FareIdx, Vec<Option<RouteIdx>>> = HashMap::new();
        for origin in origins {
            for destination in last.alight_zones.iter().chain(std::iter::once(&any)) {
                let key =
                    (Box::<str>::from(origin.as_str()), Box::<str>::from(destination.as_str()));
                let Some(rules) = self.by_zones.get(&key) else { continue };
                for &rule_position in rules {
                    let rule = &timetable.fares.rules[rule_position as usize];
                    candidates.entry(rule.fare).or_default().push(rule.route);
                }
            }
        }
        let transfers = group.len() - 1;
        let span_secs = last.departure - first.departure;
        let mut passed: Vec<&str> =
            group.iter().flat_map(|ride| ride.passed_zones.iter().copied()).collect();
        passed.sort_unstable();
        passed.dedup();
        let mut best: Option<(FareIdx, f64)> = None;
        for (fare, routes) in candidates {
            let attribute = &timetable.fares.attributes[fare.idx()];
            let routes_covered = group.iter().all(|ride| {
                routes.iter().any(|route| route.is_none_or(|route| route == ride.route))
            });
            let transfers_allowed =
                attribute.transfers.is_none_or(|allowed| transfers <= usize::from(allowed));
            let within_duration = transfers == 0
                || attribute
                    .transfer_duration_secs
                    .is_none_or(|limit| span_secs <= i64::from(limit));
            let zones_match = self.contains.get(&fare).is_none_or(|zones| {
                zones.len() == passed.len() && passed.iter().all(|zone| zones.contains(*zone))
            });
            let cheaper = best.is_none_or(|(_, price)| attribute.price < price);
            if routes_covered && transfers_allowed && within_duration && zones_match && cheaper {
                best = Some((fare, attribute.price));
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use crate::test_journeys;

    #[test]
    fn a_journey_on_foot_has_no_fare_and_a_ride_has_one() {
        let engine = test_journeys::engine();
        let tt = &**engine.timetable();
        assert!(!engine.fares.is_empty(), "the bundled Fukuoka feed has fares");
        assert_eq!(engine.fares.price(tt, &test_journeys::tenjin_on_foot(tt)), None);
        let ride = engine.fares.price(tt, &test_journeys::ride_from_tenjin(tt));
        let ride = ride.expect("a subway ride has a fare");
        assert_eq!((ride.currency.as_str(), ride.parts.len()), ("JPY", 1));
        assert!(ride.total > 0.0, "{ride:?}");
    }
}
