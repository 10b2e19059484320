//! The Connection Scan Algorithm (Dibbelt et al. 2013) on the same day and queries, for
//! comparison: connections of the day's running trips sorted by departure, one scan from the
//! query's time, labels per stop and number of trips (1–6), so that it finds the same
//! earliest arrival per number of trips as the others. Optimistic on purpose: the scan stops
//! at the earliest arrival at the destination (journeys with fewer trips arriving later, which
//! a Pareto set needs, would make it scan on, up to the horizon when there is none), and no
//! journeys are built. If even this is not well below the engine, connection scanning is no
//! way to the targets.

use std::time::Instant;

use norikae_timetable::{StopIdx, Timetable};

use crate::{Day, INF, pattern_slices, print_times, time_queries};

/// Levels: 0 (the origin's walks) to 6 trips, padded to 8 for one 32-byte row per stop.
const LEVELS: usize = 8;
const MAX_TRIPS: usize = 6;
/// `trips` of an instance not boarded yet.
const NOT_BOARDED: u8 = u8::MAX;

/// One vehicle hop: leave `from` at `departure`, reach `to` at `arrival`.
#[derive(Clone, Copy)]
struct Connection {
    departure: u32,
    arrival: u32,
    from: u16,
    to: u16,
    /// The instance, with `PICKUP` and `DROP_OFF` in the top bits.
    instance: u32,
}

const PICKUP: u32 = 1 << 31;
const DROP_OFF: u32 = 1 << 30;

pub fn run(tt: &Timetable, day: &Day, queries: &str, dump: Option<&str>) {
    assert!(tt.stops.len() <= usize::from(u16::MAX), "stop numbers fit u16");
    let started = Instant::now();
    let mut connections = Vec::new();
    for (instance, &pattern) in day.instance_pattern.iter().enumerate() {
        let (stops, rules) = pattern_slices(tt, pattern as usize);
        let event = day.instance_first_event[instance] as usize;
        let count = day.pattern_count[pattern as usize] as usize;
        let local = instance - day.pattern_first[pattern as usize] as usize;
        let departures = &day.departures[day.pattern_departures[pattern as usize] as usize..];
        for i in 0..stops.len() - 1 {
            let mut flags = instance as u32;
            if rules[i].pickup() {
                flags |= PICKUP;
            }
            if rules[i + 1].drop_off() {
                flags |= DROP_OFF;
            }
            connections.push(Connection {
                departure: departures[i * count + local],
                arrival: day.arrival[event + i + 1],
                from: stops[i].0 as u16,
                to: stops[i + 1].0 as u16,
                instance: flags,
            });
        }
    }
    // By departure; a trip's own hops stay in order (same departure: by position, which the
    // stable sort keeps from the instance-major order above).
    connections.sort_by_key(|connection| connection.departure);
    println!(
        "connection scan: {} connections ({} MiB), sorted in {:.2} s",
        connections.len(),
        (connections.len() * std::mem::size_of::<Connection>()) >> 20,
        started.elapsed().as_secs_f64()
    );
    let mut scan = Scan {
        ready: vec![[INF; LEVELS]; tt.stops.len()],
        vehicle: vec![[INF; LEVELS]; tt.stops.len()],
        touched: Vec::new(),
        trips: vec![NOT_BOARDED; day.instance_pattern.len()],
        boarded: Vec::new(),
        egress: vec![INF; tt.stops.len()],
        egress_list: Vec::new(),
        scanned: 0,
    };
    let times = time_queries(tt, queries, dump, |origin, destination, departure, _| {
        scan.run(tt, &connections, origin, destination, departure)
    });
    let scanned = scan.scanned as f64 / times.len() as f64;
    print_times("connection scan to the earliest arrival", &times);
    println!("{scanned:.0} connections scanned per query");
}

struct Scan {
    /// Per stop and level `k`: the earliest a traveller who has ridden at most `k` trips can
    /// board there (after a vehicle: its arrival plus the stop's minimum transfer time, or a
    /// walking link's; level 0: the origin's walks).
    ready: Vec<[u32; LEVELS]>,
    /// Per stop and level: the earliest arrival there by vehicle with at most `k` trips.
    vehicle: Vec<[u32; LEVELS]>,
    touched: Vec<u32>,
    /// Per instance, the fewest trips with which the traveller is on it.
    trips: Vec<u8>,
    boarded: Vec<u32>,
    egress: Vec<u32>,
    egress_list: Vec<u32>,
    scanned: u64,
}

impl Scan {
    fn touch(&mut self, stop: usize) {
        if self.ready[stop][0] == INF
            && self.ready[stop][MAX_TRIPS] == INF
            && self.vehicle[stop][MAX_TRIPS] == INF
        {
            self.touched.push(stop as u32);
        }
    }

    /// Sets `ready` of `stop` to `time` from `level` on, as far as it improves.
    fn set_ready(&mut self, stop: usize, level: usize, until: usize, time: u32) {
        self.touch(stop);
        for label in &mut self.ready[stop][level..until] {
            if time >= *label {
                break;
            }
            *label = time;
        }
    }

    fn run(
        &mut self,
        tt: &Timetable,
        connections: &[Connection],
        origin: &[StopIdx],
        destination: &[StopIdx],
        departure: u32,
    ) -> [u32; MAX_TRIPS] {
        for &stop in destination {
            self.set_egress(stop.idx(), 0);
            for link in tt.footpaths(stop) {
                self.set_egress(link.to.idx(), link.duration_secs);
            }
        }
        for &stop in origin {
            self.set_ready(stop.idx(), 0, MAX_TRIPS + 1, departure);
            for link in tt.footpaths(stop) {
                self.set_ready(link.to.idx(), 0, MAX_TRIPS + 1, departure + link.duration_secs);
            }
        }
        let mut target = [INF; MAX_TRIPS + 1];
        let first = connections.partition_point(|connection| connection.departure < departure);
        for connection in &connections[first..] {
            if connection.departure >= target[MAX_TRIPS] {
                break;
            }
            self.scanned += 1;
            let instance = (connection.instance & !(PICKUP | DROP_OFF)) as usize;
            let on = self.trips[instance];
            let mut trips = usize::from(on.min(MAX_TRIPS as u8 + 1));
            if connection.instance & PICKUP != 0 {
                let ready = &self.ready[usize::from(connection.from)];
                if let Some(level) =
                    ready[..trips - 1].iter().position(|&time| time <= connection.departure)
                {
                    trips = level + 1;
                }
            }
            if trips > MAX_TRIPS {
                continue;
            }
            if on == NOT_BOARDED {
                self.boarded.push(instance as u32);
            }
            self.trips[instance] = trips as u8;
            if connection.instance & DROP_OFF == 0 {
                continue;
            }
            let stop = usize::from(connection.to);
            let arrival = connection.arrival;
            let mut until = trips;
            while until <= MAX_TRIPS && arrival < self.vehicle[stop][until] {
                until += 1;
            }
            if until == trips {
                continue;
            }
            self.touch(stop);
            self.vehicle[stop][trips..until].fill(arrival);
            let egress = self.egress[stop];
            if egress != INF {
                for best in &mut target[trips..until] {
                    *best = (*best).min(arrival + egress);
                }
            }
            self.set_ready(stop, trips, until, arrival + tt.min_transfer_secs[stop]);
            for link in tt.footpaths(StopIdx(stop as u32)) {
                self.set_ready(link.to.idx(), trips, until, arrival + link.duration_secs);
            }
        }
        for stop in self.touched.drain(..) {
            self.ready[stop as usize] = [INF; LEVELS];
            self.vehicle[stop as usize] = [INF; LEVELS];
        }
        for instance in self.boarded.drain(..) {
            self.trips[instance as usize] = NOT_BOARDED;
        }
        for stop in self.egress_list.drain(..) {
            self.egress[stop as usize] = INF;
        }
        let mut per_trips = [INF; MAX_TRIPS];
        per_trips.copy_from_slice(&target[1..]);
        per_trips
    }

    fn set_egress(&mut self, stop: usize, secs: u32) {
        if self.egress[stop] == INF {
            self.egress_list.push(stop as u32);
        }
        self.egress[stop] = self.egress[stop].min(secs);
    }
}
