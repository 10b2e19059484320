//! The ends of a search: the stops a place stands for with the walks between them and the
//! place (seeds where the search starts, target stops where it ends), and the walk from one
//! end to the other without any vehicle.

use norikae_timetable::StopIdx;

use crate::engine::journey::{DirectWalk, Journey, SeedWalk, WalkEnd};
use crate::engine::network::Network;
use crate::engine::query::{Options, Place, SearchKind};
use crate::engine::types::{Direction, haversine_m};
use crate::error::{Error, Result};

/// Which end of a search a place is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    /// Where the search starts (seeds).
    Start,
    /// Where it ends (target stops).
    Goal,
}

/// Adds the walk-only journeys to `journeys` (by vehicle), dropping those walking beats with
/// no more vehicles: a depart-at search's journeys arriving no earlier than the walk leaving
/// at the query's time, an arrive-by search's leaving no later than the walk arriving at it;
/// in a range, where the departure counts too, a journey that walking reaches as early when
/// leaving with it, and the walk is offered at that departure as well (one walk per
/// departure time that matters, not one per minute of the window).
pub(super) fn add_walk_only(
    journeys: &mut Vec<Journey>,
    walk: &DirectWalk,
    kind: SearchKind,
    at: i64,
) {
    let secs = i64::from(walk.duration_secs);
    let first = match kind {
        SearchKind::ArriveBy => Journey::walk_only(walk, at - secs),
        SearchKind::DepartAt | SearchKind::Range { .. } => Journey::walk_only(walk, at),
    };
    let mut walks = vec![first];
    journeys.retain(|journey| {
        let beaten = match kind {
            SearchKind::DepartAt => at + secs <= journey.arrival,
            SearchKind::ArriveBy => journey.departure <= at - secs,
            SearchKind::Range { .. } => journey.departure + secs <= journey.arrival,
        };
        if beaten && matches!(kind, SearchKind::Range { .. }) {
            walks.push(Journey::walk_only(walk, journey.departure));
        }
        !beaten
    });
    walks.sort_by_key(|walk| walk.departure);
    walks.dedup_by_key(|walk| walk.departure);
    journeys.extend(walks);
}

/// The shortest walk from `from` to `to` without any vehicle, within the walking limit:
/// through a stop both ends of the search walk to (a stop of one place, joined to the other
/// by a walking link or by the coordinates' radius), or straight between coordinates and
/// the other place (its stops, or its coordinates). `None` when none is allowed.
pub(super) fn direct_walk(
    network: &Network,
    (from, to): (Place, Place),
    direction: Direction,
    (seeds, goals): (&[SeedWalk], &[SeedWalk]),
    options: &Options,
) -> Option<DirectWalk> {
    let tt = &*network.timetable;
    let mut best: Option<DirectWalk> = None;
    let mut consider = |walk: DirectWalk| {
        if walk.duration_secs > 0
            && walk.distance_m <= options.max_walk_m
            && best.is_none_or(|best| walk.duration_secs < best.duration_secs)
        {
            best = Some(walk);
        }
    };
    // The seeds are sorted by stop, one walk each.
    for goal in goals {
        let Ok(index) = seeds.binary_search_by_key(&goal.stop, |seed| seed.stop) else {
            continue;
        };
        let seed = &seeds[index];
        let (walk_from, walk_to) = match direction {
            Direction::Forward => (seed.place, goal.place),
            Direction::Backward => (goal.place, seed.place),
        };
        consider(DirectWalk {
            from: walk_from,
            to: walk_to,
            duration_secs: seed.duration_secs + goal.duration_secs,
            distance_m: seed.distance_m + goal.distance_m,
        });
    }
    let walking = tt.meta.walking;
    let mut straight = |(lat1, lon1): (f64, f64), (lat2, lon2): (f64, f64), ends| {
        let distance = haversine_m(lat1, lon1, lat2, lon2) * 1.2;
        let (walk_from, walk_to) = ends;
        consider(DirectWalk {
            from: walk_from,
            to: walk_to,
            duration_secs: (distance / walking.speed_m_per_s).ceil() as u32,
            distance_m: distance.round() as u32,
        });
    };
    let usable = |stop: &StopIdx| !options.wheelchair || network.stop_accessible[stop.idx()];
    let position = |stop: StopIdx| (tt.stops[stop.idx()].lat, tt.stops[stop.idx()].lon);
    match (from, to) {
        (Place::Coordinates { lat, lon }, Place::Coordinates { lat: lat2, lon: lon2 }) => {
            straight(
                (lat, lon),
                (lat2, lon2),
                (WalkEnd::Place { lat, lon }, WalkEnd::Place { lat: lat2, lon: lon2 }),
            );
        }
        (Place::Coordinates { lat, lon }, place) => {
            for stop in own_stops(network, place).into_iter().filter(usable) {
                let ends = (WalkEnd::Place { lat, lon }, WalkEnd::Stop(stop));
                straight((lat, lon), position(stop), ends);
            }
        }
        (place, Place::Coordinates { lat, lon }) => {
            for stop in own_stops(network, place).into_iter().filter(usable) {
                let ends = (WalkEnd::Stop(stop), WalkEnd::Place { lat, lon });
                straight(position(stop), (lat, lon), ends);
            }
        }
        _ => {}
    }
    best
}

/// The stops where vehicles stop that a station or stop place stands for (none for
/// coordinates).
fn own_stops(network: &Network, place: Place) -> Vec<StopIdx> {
    let tt = &*network.timetable;
    match place {
        Place::Station(station) => tt.stations[station.idx()].stops.clone(),
        Place::Stop(stop)
            if tt.stops[stop.idx()].location_type == norikae_timetable::LocationType::Station =>
        {
            tt.stations[tt.stops[stop.idx()].station.idx()].stops.clone()
        }
        Place::Stop(stop) => vec![stop],
        Place::Coordinates { .. } => Vec::new(),
    }
}

/// The stops a place stands for, with the walk between each and the place: at the start
/// of a search the place's stops and those a walking link joins to them; at its goal the
/// place's own stops (the search walks links itself). Coordinates: the stops in the radius.
pub(super) fn place_walks(
    network: &Network,
    place: Place,
    end: End,
    direction: Direction,
    options: &Options,
    field: &'static str,
) -> Result<Vec<SeedWalk>> {
    let tt = &*network.timetable;
    let usable = |stop: StopIdx| !options.wheelchair || network.stop_accessible[stop.idx()];
    let mut walks: Vec<SeedWalk> = Vec::new();
    let own_stops = own_stops(network, place);
    if let Place::Coordinates { lat, lon } = place {
        let radius = options.coordinate_radius_m.min(options.max_walk_m);
        let walking = tt.meta.walking;
        for (index, stop) in tt.stops.iter().enumerate() {
            let stop_idx = StopIdx::from(index);
            if stop.location_type != norikae_timetable::LocationType::Stop || !usable(stop_idx) {
                continue;
            }
            let straight = haversine_m(lat, lon, stop.lat, stop.lon);
            let distance = straight * 1.2;
            if distance > f64::from(radius) {
                continue;
            }
            walks.push(SeedWalk {
                stop: stop_idx,
                place: WalkEnd::Place { lat, lon },
                duration_secs: (distance / walking.speed_m_per_s).ceil() as u32,
                distance_m: distance.round() as u32,
            });
        }
        if walks.is_empty() {
            return Err(Error::NoStopNearby { field, radius_m: radius });
        }
        return Ok(walks);
    }
    for &stop in &own_stops {
        if usable(stop) {
            walks.push(SeedWalk {
                stop,
                place: WalkEnd::Stop(stop),
                duration_secs: 0,
                distance_m: 0,
            });
        }
    }
    if end == End::Start {
        for &stop in &own_stops {
            if !usable(stop) {
                continue;
            }
            for footpath in network.footpaths(direction, stop) {
                if footpath.distance_m > options.max_walk_m || !usable(footpath.to) {
                    continue;
                }
                walks.push(SeedWalk {
                    stop: footpath.to,
                    place: WalkEnd::Stop(stop),
                    duration_secs: footpath.duration_secs,
                    distance_m: footpath.distance_m,
                });
            }
        }
    }
    // One walk per stop: the shortest.
    walks.sort_by_key(|walk| (walk.stop, walk.duration_secs));
    walks.dedup_by_key(|walk| walk.stop);
    Ok(walks)
}
