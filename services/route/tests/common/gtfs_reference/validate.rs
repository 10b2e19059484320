//! Checking one engine journey against the feeds: each trip runs on its service day, legs
//! keep the GTFS stop times, pickup and drop-off are allowed, every change keeps the
//! transfer rules, walks take at least the model's time and go only where a link or a rule
//! lets them, legs meet and time never runs backwards.

use std::fmt::Write as _;

use chrono::TimeZone;
use norikae_route::engine::{Journey, Leg, WalkEnd};
use norikae_timetable::{StationIdx, StopIdx};

use super::GtfsReference;

/// A transit leg, resolved to the reference's trip.
struct Ride {
    trip: usize,
    board: usize,
    alight: usize,
}

impl GtfsReference {
    /// Checks `journey`; the error starts with a short kind (`change too short: …`).
    pub fn validate(&self, journey: &Journey) -> Result<(), String> {
        let legs = &journey.legs;
        let (Some(first), Some(last)) = (legs.first(), legs.last()) else {
            return Err("no legs".to_owned());
        };
        let rides = legs.iter().filter(|leg| leg.is_transit()).count() as u32;
        if journey.transfers != rides.saturating_sub(1) {
            return Err(format!(
                "transfer count: {rides} rides but {} transfers",
                journey.transfers
            ));
        }
        if journey.departure != first.departure() || journey.arrival != last.arrival() {
            return Err("journey times: not those of its first and last legs".to_owned());
        }
        let mut resolved: Vec<Option<Ride>> = Vec::with_capacity(legs.len());
        for leg in legs {
            resolved.push(match leg {
                Leg::Transit { .. } => Some(self.check_ride(leg)?),
                Leg::Walk { departure, arrival, duration_secs, .. } => {
                    if arrival - departure != i64::from(*duration_secs) || arrival < departure {
                        return Err(format!(
                            "walk times: {} to {} is not {duration_secs} s",
                            self.clock(*departure),
                            self.clock(*arrival)
                        ));
                    }
                    None
                }
            });
        }
        for pair in legs.windows(2) {
            if pair[1].departure() < pair[0].arrival() {
                return Err(format!(
                    "time goes backwards: a leg leaves at {} before the one before arrives at {}",
                    self.clock(pair[1].departure()),
                    self.clock(pair[0].arrival())
                ));
            }
            if !pair[0].is_transit() && !pair[1].is_transit() {
                return Err("two walks in a row".to_owned());
            }
        }
        for (index, leg) in legs.iter().enumerate() {
            let Leg::Walk { from, to, duration_secs, .. } = leg else { continue };
            let (WalkEnd::Stop(from), WalkEnd::Stop(to)) = (*from, *to) else {
                return Err("walk to coordinates in a station query".to_owned());
            };
            let previous = index.checked_sub(1).and_then(|index| resolved[index].as_ref());
            let next = resolved.get(index + 1).and_then(Option::as_ref);
            if let (Some(_), Some(_)) = (previous, next) {
                continue; // a change, checked below
            }
            let stops = self.ride_stops(previous, next);
            if stops.0.is_some_and(|stop| stop != from) || stops.1.is_some_and(|stop| stop != to) {
                return Err("legs do not meet: a walk starts or ends away from its ride".to_owned());
            }
            let Some(link) = self.links.get(from, to) else {
                return Err(format!(
                    "walk without a link: {} → {}",
                    self.stop_name(from),
                    self.stop_name(to)
                ));
            };
            if *duration_secs < link {
                return Err(format!(
                    "walk too short: {} → {} takes {duration_secs} s, the link {link} s",
                    self.stop_name(from),
                    self.stop_name(to)
                ));
            }
        }
        let ride_positions: Vec<usize> =
            (0..legs.len()).filter(|index| resolved[*index].is_some()).collect();
        for pair in ride_positions.windows(2) {
            let (before, after) = (pair[0], pair[1]);
            let (Some(alighted), Some(boarded)) = (&resolved[before], &resolved[after]) else {
                continue;
            };
            let from_stop = self.trips[alighted.trip].stops[alighted.alight];
            let to_stop = self.trips[boarded.trip].stops[boarded.board];
            let walk = match after - before {
                1 => None,
                2 => Some(&legs[before + 1]),
                _ => return Err("legs do not meet: more than one walk between rides".to_owned()),
            };
            match walk {
                None if from_stop != to_stop => {
                    return Err(format!(
                        "legs do not meet: alights at {}, boards at {}",
                        self.stop_name(from_stop),
                        self.stop_name(to_stop)
                    ));
                }
                Some(Leg::Walk { from, to, .. })
                    if *from != WalkEnd::Stop(from_stop) || *to != WalkEnd::Stop(to_stop) =>
                {
                    return Err("legs do not meet: the change's walk is elsewhere".to_owned());
                }
                _ => {}
            }
            let change =
                self.change_secs((alighted.trip, alighted.alight), (boarded.trip, boarded.board));
            let what = || {
                let rule = self
                    .winning_rule((alighted.trip, alighted.alight), (boarded.trip, boarded.board))
                    .map_or_else(|| "no rule".to_owned(), |rule| format!("rule {}", rule.source));
                format!(
                    "{} at {} → {} at {} ({rule})",
                    self.trips[alighted.trip].public_id,
                    self.stop_name(from_stop),
                    self.trips[boarded.trip].public_id,
                    self.stop_name(to_stop)
                )
            };
            let Some(secs) = change else {
                return Err(format!("forbidden change: {}", what()));
            };
            let gap = legs[after].departure() - legs[before].arrival();
            if gap < i64::from(secs) {
                return Err(format!("change too short: {gap} s of {secs} s, {}", what()));
            }
            if let Some(Leg::Walk { duration_secs, .. }) = walk
                && *duration_secs < secs
            {
                return Err(format!("walk too short: {duration_secs} s of {secs} s, {}", what()));
            }
        }
        Ok(())
    }

    /// Where the rides before and after a walk leave it (`None` at the journey's ends).
    fn ride_stops(
        &self,
        previous: Option<&Ride>,
        next: Option<&Ride>,
    ) -> (Option<StopIdx>, Option<StopIdx>) {
        (
            previous.map(|ride| self.trips[ride.trip].stops[ride.alight]),
            next.map(|ride| self.trips[ride.trip].stops[ride.board]),
        )
    }

    fn check_ride(&self, leg: &Leg) -> Result<Ride, String> {
        let tt = &*self.timetable;
        let Leg::Transit {
            trip,
            board_position,
            alight_position,
            service_day,
            departure,
            arrival,
            ..
        } = leg
        else {
            unreachable!("called on transit legs");
        };
        let public_id = &tt.trips[trip.idx()].id;
        let Some(&position) = self.trip_by_public_id.get(public_id) else {
            return Err(format!("unknown trip: {public_id} is not in the feeds"));
        };
        let ride = &self.trips[position];
        let date = tt.date_of_day(*service_day);
        if !self.trip_runs(ride, date) {
            return Err(format!("trip not running: {public_id} does not run on {date}"));
        }
        let (board, alight) = (*board_position, *alight_position);
        if board >= alight || alight >= ride.stops.len() {
            return Err(format!("bad positions: {public_id} from {board} to {alight}"));
        }
        let start = self.day_start(date);
        let expected_departure = start + i64::from(ride.departures[board]);
        let expected_arrival = start + i64::from(ride.arrivals[alight]);
        if *departure != expected_departure || *arrival != expected_arrival {
            return Err(format!(
                "ride times: {public_id} {}–{} but the feed says {}–{}",
                self.clock(*departure),
                self.clock(*arrival),
                self.clock(expected_departure),
                self.clock(expected_arrival)
            ));
        }
        if !ride.pickup[board] {
            return Err(format!("no pickup: {public_id} at {}", self.stop_name(ride.stops[board])));
        }
        if !ride.drop_off[alight] {
            return Err(format!(
                "no drop-off: {public_id} at {}",
                self.stop_name(ride.stops[alight])
            ));
        }
        Ok(Ride { trip: position, board, alight })
    }

    /// The station a journey visits twice (counting the stations of consecutive leg ends
    /// once), if any: a journey never passes through a station it leaves from or returns
    /// to, nor through its destination before the end.
    pub fn visits_a_station_twice(&self, journey: &Journey) -> Option<StationIdx> {
        let tt = &*self.timetable;
        let mut stations: Vec<StationIdx> = Vec::new();
        for leg in &journey.legs {
            let (start, end) = self.leg_ends(leg);
            for stop in [start, end].into_iter().flatten() {
                let station = tt.stops[stop.idx()].station;
                if stations.last() != Some(&station) {
                    stations.push(station);
                }
            }
        }
        stations
            .iter()
            .enumerate()
            .find(|(index, station)| stations[..*index].contains(station))
            .map(|(_, station)| *station)
    }

    /// The stations a journey starts and ends at.
    pub fn journey_ends(&self, journey: &Journey) -> (Option<StationIdx>, Option<StationIdx>) {
        let station =
            |stop: Option<StopIdx>| stop.map(|stop| self.timetable.stops[stop.idx()].station);
        let start = journey.legs.first().and_then(|leg| self.leg_ends(leg).0);
        let end = journey.legs.last().and_then(|leg| self.leg_ends(leg).1);
        (station(start), station(end))
    }

    fn leg_ends(&self, leg: &Leg) -> (Option<StopIdx>, Option<StopIdx>) {
        let tt = &*self.timetable;
        let stop_of = |end: &WalkEnd| match end {
            WalkEnd::Stop(stop) => Some(*stop),
            WalkEnd::Place { .. } => None,
        };
        match leg {
            Leg::Transit { trip, board_position, alight_position, .. } => {
                let ride = self.trip_by_public_id.get(&tt.trips[trip.idx()].id);
                let stops = ride.map_or(&[][..], |ride| self.trips[*ride].stops.as_slice());
                (stops.get(*board_position).copied(), stops.get(*alight_position).copied())
            }
            Leg::Walk { from, to, .. } => (stop_of(from), stop_of(to)),
        }
    }

    /// A journey in a few lines: times, trips, stops.
    pub fn describe(&self, journey: &Journey) -> String {
        let tt = &*self.timetable;
        let mut text = format!(
            "    {} → {}, {} transfers\n",
            self.clock(journey.departure),
            self.clock(journey.arrival),
            journey.transfers
        );
        for leg in &journey.legs {
            let (start, end) = self.leg_ends(leg);
            let name = |stop: Option<StopIdx>| {
                stop.map_or("(place)".to_owned(), |stop| self.stop_name(stop))
            };
            let what = match leg {
                Leg::Transit { trip, .. } => format!(
                    "ride {} ({})",
                    tt.trips[trip.idx()].id,
                    tt.routes[tt.trips[trip.idx()].route.idx()].id
                ),
                Leg::Walk { duration_secs, distance_m, .. } => {
                    format!("walk {duration_secs} s, {distance_m} m")
                }
            };
            let _ = writeln!(
                text,
                "      {} {} → {} {}: {what}",
                self.clock(leg.departure()),
                name(start),
                self.clock(leg.arrival()),
                name(end)
            );
        }
        text
    }

    /// `id (name)` of a stop.
    pub fn stop_name(&self, stop: StopIdx) -> String {
        let record = &self.timetable.stops[stop.idx()];
        format!("{} ({})", record.id, record.name.default)
    }

    /// `id (name)` of a station.
    pub fn station_name(&self, station: StationIdx) -> String {
        let record = &self.timetable.stations[station.idx()];
        format!("{} ({})", record.id, record.name.default)
    }

    /// Local date and wall-clock time of a Unix time, `MM-DD HH:MM:SS`.
    pub fn clock(&self, unix: i64) -> String {
        self.timetable
            .tz
            .timestamp_opt(unix, 0)
            .single()
            .map_or_else(|| unix.to_string(), |time| time.format("%m-%d %H:%M:%S").to_string())
    }
}
