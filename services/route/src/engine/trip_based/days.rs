//! The running trips of service days as Trip-Based routing reads them: one day's
//! ("instances", [`TripDay`]), three consecutive days as one time line ([`Days`]), and a
//! transfer's target packed in 32 bits ([`pack`], [`unpack`]).

use norikae_timetable::Timetable;

/// A transfer target in 32 bits: the day relative to the transfer's own (2 bits: before, same,
/// after), the running trip of that day (20 bits) and the position in its pattern (10 bits),
/// so that targets sort by day, trip, then position.
const INSTANCE_BITS: u32 = 20;
const POSITION_BITS: u32 = 10;
const MAX_INSTANCES: usize = 1 << INSTANCE_BITS;
const MAX_PATTERN_STOPS: usize = 1 << POSITION_BITS;

pub(super) fn pack(day: usize, instance: u32, position: usize) -> u32 {
    (day as u32) << (INSTANCE_BITS + POSITION_BITS) | instance << POSITION_BITS | position as u32
}

/// `(day, instance, position)`; `day` 0 is the day before the transfer's, 1 its own, 2 after.
pub(super) fn unpack(packed: u32) -> (usize, u32, u16) {
    let day = (packed >> (INSTANCE_BITS + POSITION_BITS)) as usize;
    let instance = (packed >> POSITION_BITS) & ((1 << INSTANCE_BITS) - 1);
    (day, instance, (packed & ((1 << POSITION_BITS) - 1)) as u16)
}

/// The trips running on one service day ("instances"), pattern by pattern in the pattern's
/// trip order, with their times in seconds of that service day.
pub(crate) struct TripDay {
    /// Per pattern, its first instance and how many it has.
    pub(super) pattern_first: Vec<u32>,
    pub(super) pattern_count: Vec<u32>,
    /// Per instance: its pattern, its trip within the pattern and its first stop event.
    pub(super) instance_pattern: Vec<u32>,
    pub(super) instance_trip: Vec<u32>,
    pub(super) instance_event: Vec<u32>,
    /// Per stop event (instance-major), the arrival.
    pub(super) arrival: Vec<u32>,
    /// Per pattern, where its departures start, stop-major (position `j`, instance `u` of the
    /// pattern at `j * count + u`), for the earliest-trip search.
    pub(super) pattern_departures: Vec<u32>,
    pub(super) departures: Vec<u32>,
}

impl TripDay {
    /// The day's instances; `None` when they do not fit the packed transfers (over a million
    /// running trips, or a pattern of over 1,024 stops).
    pub(super) fn build(tt: &Timetable, day: u32) -> Option<Self> {
        let mut this = Self {
            pattern_first: Vec::with_capacity(tt.patterns.len()),
            pattern_count: Vec::with_capacity(tt.patterns.len()),
            instance_pattern: Vec::new(),
            instance_trip: Vec::new(),
            instance_event: Vec::new(),
            arrival: Vec::new(),
            pattern_departures: Vec::with_capacity(tt.patterns.len()),
            departures: Vec::new(),
        };
        let mut running = Vec::new();
        for (index, pattern) in tt.patterns.iter().enumerate() {
            let num_stops = pattern.num_stops();
            if num_stops > MAX_PATTERN_STOPS {
                return None;
            }
            let times = &tt.stop_times[pattern.stop_times_start as usize..];
            running.clear();
            running.extend((0..pattern.num_trips()).filter(|&trip| {
                tt.service_runs(tt.trip_services[pattern.trips.start as usize + trip], day)
            }));
            this.pattern_first.push(this.instance_pattern.len() as u32);
            this.pattern_count.push(running.len() as u32);
            for &trip in &running {
                this.instance_pattern.push(index as u32);
                this.instance_trip.push(trip as u32);
                this.instance_event.push(this.arrival.len() as u32);
                this.arrival.extend((0..num_stops).map(|i| times[trip * num_stops + i].arrival));
            }
            this.pattern_departures.push(this.departures.len() as u32);
            for position in 0..num_stops {
                this.departures.extend(
                    running.iter().map(|&trip| times[trip * num_stops + position].departure),
                );
            }
        }
        (this.instance_pattern.len() <= MAX_INSTANCES).then_some(this)
    }

    pub(super) fn instances(&self) -> usize {
        self.instance_pattern.len()
    }

    pub(super) fn bytes(&self) -> usize {
        4 * (self.pattern_first.len()
            + self.pattern_count.len()
            + self.instance_pattern.len()
            + self.instance_trip.len()
            + self.instance_event.len()
            + self.arrival.len()
            + self.pattern_departures.len()
            + self.departures.len())
    }
}

/// Three consecutive service days as one time line: `offset[i]` is the start of day `i`
/// relative to the time line's zero (a missing day has no trips).
#[derive(Clone, Copy)]
pub(super) struct Days<'a> {
    pub(super) day: [Option<&'a TripDay>; 3],
    pub(super) offset: [i64; 3],
}

impl Days<'_> {
    /// The earliest instance of `pattern` leaving `position` at or after `ready` on any of
    /// the days, as `(day, instance, departure)` (times on the time line).
    pub(super) fn earliest(
        &self,
        pattern: usize,
        position: usize,
        ready: i64,
    ) -> Option<(usize, u32, i64)> {
        let mut best: Option<(usize, u32, i64)> = None;
        for (slot, day) in self.day.iter().enumerate() {
            let Some(day) = day else { continue };
            let count = day.pattern_count[pattern] as usize;
            if count == 0 {
                continue;
            }
            let start = day.pattern_departures[pattern] as usize + position * count;
            let departures = &day.departures[start..start + count];
            let offset = self.offset[slot];
            // Two reads rule most days out: the day's last departure there is too early, or
            // its first is no earlier than the best found on another day.
            if i64::from(departures[count - 1]) + offset < ready
                || best.is_some_and(|(_, _, best)| i64::from(departures[0]) + offset >= best)
            {
                continue;
            }
            let threshold = (ready - offset).max(0) as u32;
            let index = departures.partition_point(|&departure| departure < threshold);
            let departure = i64::from(departures[index]) + offset;
            if best.is_none_or(|(_, _, best)| departure < best) {
                best = Some((slot, day.pattern_first[pattern] + index as u32, departure));
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_targets_round_trip() {
        for (day, instance, position) in
            [(0, 0, 0), (1, 12_345, 17), (2, MAX_INSTANCES as u32 - 1, 1_023)]
        {
            assert_eq!(unpack(pack(day, instance, position)), (day, instance, position as u16));
        }
    }
}
