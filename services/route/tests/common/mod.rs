//! Shared by the integration tests: the bundled feeds imported once per test binary, a plain
//! connection-scan reference planner with the engine's transfer rules ([`Reference`], which
//! reads the compiled timetable's walking links and transfer times), and an independent one
//! that reads the GTFS files itself ([`gtfs_reference`]).

#![allow(dead_code)]

pub mod gtfs_reference;

use std::sync::{Arc, OnceLock};

use chrono::NaiveDate;
use norikae_timetable::{FeedIdx, StationIdx, StopIdx, Timetable, service_day_start};

/// The four bundled feeds (ryobi, okaden, chutetsu, fukuoka), imported once.
pub fn timetable() -> Arc<Timetable> {
    static TIMETABLE: OnceLock<Arc<Timetable>> = OnceLock::new();
    TIMETABLE
        .get_or_init(|| {
            use norikae_timetable::bundled;
            let timetable = bundled::import_feeds(&bundled::repo_feeds_dir())
                .expect("the bundled feeds import");
            Arc::new(timetable)
        })
        .clone()
}

pub fn feed(timetable: &Timetable, name: &str) -> FeedIdx {
    let position = timetable.feeds.iter().position(|feed| feed.name == name).expect("bundled feed");
    FeedIdx::from(position)
}

/// Stations with service whose stops belong to `feed`.
pub fn stations_of_feed(timetable: &Timetable, feed: FeedIdx) -> Vec<StationIdx> {
    (0..timetable.stations.len())
        .map(StationIdx::from)
        .filter(|station| {
            let data = &timetable.stations[station.idx()];
            !data.routes.is_empty()
                && data.stops.iter().any(|stop| timetable.stops[stop.idx()].feeds.contains(&feed))
        })
        .collect()
}

/// A Wednesday each feed runs on.
pub fn test_date(feed_name: &str) -> NaiveDate {
    match feed_name {
        "fukuoka" => NaiveDate::from_ymd_opt(2019, 6, 5),
        _ => NaiveDate::from_ymd_opt(2025, 6, 4),
    }
    .expect("valid date")
}

/// Unix time of the start of `date`'s service day.
pub fn day_start(timetable: &Timetable, date: NaiveDate) -> i64 {
    service_day_start(timetable.tz, date).timestamp()
}

/// One hop of one trip between consecutive stops, in Unix time.
#[derive(Clone, Copy, Debug)]
struct Connection {
    departure: i64,
    arrival: i64,
    from: StopIdx,
    to: StopIdx,
    /// Trip instance: trip index × 3 + service-day slot.
    instance: usize,
    pickup: bool,
    drop_off: bool,
}

/// Connection scan over the trips of the service days before, of, and after `date`. The
/// rules are the engine's: at the origin, its stops and the walking links from them, without
/// transfer time; changing vehicles at a stop takes its minimum transfer time; a walking link
/// (from where a vehicle was left) takes its duration; `slack` is added to every transfer;
/// a walking link does not chain into another.
pub struct Reference {
    timetable: Arc<Timetable>,
    connections: Vec<Connection>,
    trips: usize,
}

impl Reference {
    pub fn new(timetable: Arc<Timetable>, date: NaiveDate) -> Self {
        Self::with_overlay(timetable, date, None)
    }

    /// The trips on a realtime overlay's expected times (where it gives them), without
    /// those it cancels.
    pub fn with_overlay(
        timetable: Arc<Timetable>,
        date: NaiveDate,
        overlay: Option<&norikae_realtime::Overlay>,
    ) -> Self {
        let tt = &*timetable;
        let mut connections = Vec::new();
        let dates = [date.pred_opt().expect("date"), date, date.succ_opt().expect("date")];
        for (slot, day_date) in dates.iter().enumerate() {
            let Some(day) = tt.day_index(*day_date) else { continue };
            let start = day_start(tt, *day_date);
            for (trip_position, trip) in tt.trips.iter().enumerate() {
                let trip_idx = norikae_timetable::TripIdx::from(trip_position);
                if !tt.trip_runs(trip_idx, day) {
                    continue;
                }
                let realtime = overlay.and_then(|overlay| overlay.trip(trip_idx, day));
                if realtime.is_some_and(|realtime| realtime.cancelled) {
                    continue;
                }
                let stops = tt.pattern_stops(trip.pattern);
                let rules = tt.pattern_stop_rules(trip.pattern);
                let mut times = tt.stop_times_of_trip(trip_idx).to_vec();
                for (time, expected) in times
                    .iter_mut()
                    .zip(realtime.map(|realtime| &realtime.stops[..]).unwrap_or_default())
                {
                    time.arrival = expected.arrival;
                    time.departure = expected.departure;
                }
                for position in 0..stops.len() - 1 {
                    connections.push(Connection {
                        departure: start + i64::from(times[position].departure),
                        arrival: start + i64::from(times[position + 1].arrival),
                        from: stops[position],
                        to: stops[position + 1],
                        instance: trip_position * 3 + slot,
                        pickup: rules[position].pickup(),
                        drop_off: rules[position + 1].drop_off(),
                    });
                }
            }
        }
        connections.sort_by_key(|connection| (connection.departure, connection.arrival));
        let trips = tt.trips.len() * 3;
        Self { timetable, connections, trips }
    }

    /// Earliest arrival (Unix time) at any stop of `to`, by vehicle or walking all the way,
    /// leaving any stop of `from` at or after `at`.
    pub fn earliest_arrival(
        &self,
        from: StationIdx,
        to: StationIdx,
        at: i64,
        slack: i64,
    ) -> Option<i64> {
        let mut labels = Labels::new(self.timetable.stops.len());
        let mut best = self.walk_only(from, to, at);
        self.scan(&self.origin(from, at), None, &mut labels, to, at, slack, &mut best);
        (best != NEVER).then_some(best)
    }

    /// Earliest arrival with at most `k` vehicles (walking all the way counts as none), for
    /// every `k` in `1..=max_trips` (element `k - 1`): the same rules as [`Reference::earliest_arrival`], one connection
    /// scan per vehicle, each boarding from the labels of the scan before.
    pub fn earliest_arrival_by_trips(
        &self,
        from: StationIdx,
        to: StationIdx,
        at: i64,
        slack: i64,
        max_trips: usize,
    ) -> Vec<Option<i64>> {
        let origin = self.origin(from, at);
        // Labels with at most k vehicles; the scan for k boards from a copy of those for k - 1.
        let mut labels = Labels::new(self.timetable.stops.len());
        let mut best = self.walk_only(from, to, at);
        let mut by_trips = Vec::with_capacity(max_trips);
        for _ in 0..max_trips {
            let previous = labels.clone();
            self.scan(&origin, Some(&previous), &mut labels, to, at, slack, &mut best);
            by_trips.push((best != NEVER).then_some(best));
        }
        by_trips
    }

    /// Arrival walking from a stop of `from` to one of `to` by one walking link (`NEVER`:
    /// none joins them).
    fn walk_only(&self, from: StationIdx, to: StationIdx, at: i64) -> i64 {
        let origin = self.origin(from, at);
        let targets = &self.timetable.stations[to.idx()].stops;
        targets.iter().map(|stop| origin[stop.idx()]).min().unwrap_or(NEVER)
    }

    /// When the traveller can be at each stop without a vehicle: at `at` at the stops of
    /// `from`, and after a walking link from one of them.
    fn origin(&self, from: StationIdx, at: i64) -> Vec<i64> {
        let tt = &*self.timetable;
        let mut origin = vec![NEVER; tt.stops.len()];
        for &stop in &tt.stations[from.idx()].stops {
            origin[stop.idx()] = origin[stop.idx()].min(at);
            for footpath in tt.footpaths(stop) {
                let reached = at + i64::from(footpath.duration_secs);
                origin[footpath.to.idx()] = origin[footpath.to.idx()].min(reached);
            }
        }
        origin
    }

    /// One scan of the connections from `at` on, improving `labels` and `best` (the earliest
    /// arrival at a stop of `to`): a trip is boarded from `origin` or, with a transfer, from
    /// `board_from` (the labels of one vehicle fewer) or, when that is `None`, from `labels`
    /// themselves (any number of vehicles).
    #[allow(clippy::too_many_arguments)]
    fn scan(
        &self,
        origin: &[i64],
        board_from: Option<&Labels>,
        labels: &mut Labels,
        to: StationIdx,
        at: i64,
        slack: i64,
        best: &mut i64,
    ) {
        let tt = &*self.timetable;
        let targets = &tt.stations[to.idx()].stops;
        let mut boarded = vec![false; self.trips];
        let first = self.connections.partition_point(|connection| connection.departure < at);
        for connection in &self.connections[first..] {
            if connection.departure >= *best {
                break;
            }
            let from_stop = connection.from.idx();
            if !boarded[connection.instance] {
                let board = board_from.unwrap_or(labels);
                let ready = origin[from_stop]
                    .min(
                        board.transit[from_stop]
                            .saturating_add(i64::from(tt.min_transfer_secs[from_stop]) + slack),
                    )
                    .min(board.walk[from_stop].saturating_add(slack));
                if !connection.pickup || ready > connection.departure {
                    continue;
                }
                boarded[connection.instance] = true;
            }
            if !connection.drop_off {
                continue;
            }
            let to_stop = connection.to;
            if connection.arrival < labels.transit[to_stop.idx()] {
                labels.transit[to_stop.idx()] = connection.arrival;
                if targets.contains(&to_stop) {
                    *best = (*best).min(connection.arrival);
                }
                for footpath in tt.footpaths(to_stop) {
                    let reached = connection.arrival + i64::from(footpath.duration_secs);
                    if reached < labels.walk[footpath.to.idx()] {
                        labels.walk[footpath.to.idx()] = reached;
                        if targets.contains(&footpath.to) {
                            *best = (*best).min(reached);
                        }
                    }
                }
            }
        }
    }
}

/// "Not reached" in the reference's labels.
const NEVER: i64 = i64::MAX;

/// The reference's labels per stop: arrival by vehicle, and on foot after one.
#[derive(Clone)]
struct Labels {
    transit: Vec<i64>,
    walk: Vec<i64>,
}

impl Labels {
    fn new(stops: usize) -> Self {
        Self { transit: vec![NEVER; stops], walk: vec![NEVER; stops] }
    }
}
