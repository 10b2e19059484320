//! The realtime overlay: what the live entities of every source say about the timetable's
//! trips, resolved against one [`Timetable`] and immutable once built.
//!
//! [`build`] matches each TripUpdate to a trip instance (trip + service day): by trip_id and
//! start_date; a frequency-based trip by trip_id and start_time (`FEED:trip@HH:MM:SS`); a
//! descriptor without trip_id by route, direction and start time. Within a trip, each
//! StopTimeUpdate is matched to the next pattern position at its stop (or at another stop of
//! the same station: a platform change), and the GTFS-Realtime rules give every stop its
//! expected times: an update's delay holds for the stops after it until the next update,
//! stops before the first update keep their schedule, NO_DATA returns to the schedule, and
//! times never go backwards (a time earlier than the one before is raised to it and counted).

use std::sync::{Arc, OnceLock};

use chrono::NaiveDate;
use norikae_timetable::{PatternIdx, RouteIdx, StopIdx, StopTime, Timetable, TripIdx};
use rustc_hash::FxHashMap;

use crate::alerts::{self, RealtimeAlert};
use crate::proto::trip_descriptor::ScheduleRelationship as TripRelationship;
use crate::proto::trip_update::stop_time_update::ScheduleRelationship as StopRelationship;
use crate::proto::trip_update::{StopTimeEvent, StopTimeUpdate};
use crate::proto::{FeedEntity, TripDescriptor, TripUpdate};

/// One run of a trip: the trip and the service day (day number in the timetable) it runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TripKey {
    pub trip: TripIdx,
    pub day: u32,
}

/// Expected times of a trip at one stop of its pattern, in seconds of its service day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StopRealtime {
    pub arrival: u32,
    pub departure: u32,
    pub flags: u8,
}

impl StopRealtime {
    /// The vehicle does not stop here (SKIPPED): no boarding nor alighting.
    pub const SKIPPED: u8 = 1;
    /// The times come from a prediction (an update here or propagated from an earlier one),
    /// not the schedule.
    pub const PREDICTED: u8 = 2;

    pub fn skipped(self) -> bool {
        self.flags & Self::SKIPPED != 0
    }

    pub fn predicted(self) -> bool {
        self.flags & Self::PREDICTED != 0
    }
}

/// What the feeds say about one trip instance of the timetable.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TripRealtime {
    /// CANCELED or DELETED: the trip does not run.
    pub cancelled: bool,
    /// Per position of the trip's pattern (empty when cancelled).
    pub stops: Box<[StopRealtime]>,
    /// Platform changes: the position and the stop (of the same station) served instead.
    pub assigned_stops: Box<[(u32, StopIdx)]>,
    /// When the producer made this update (POSIX seconds), if it says.
    pub timestamp: Option<u64>,
}

impl TripRealtime {
    /// Expected departure minus scheduled departure at `position`, seconds (late > 0).
    pub fn departure_delay(&self, scheduled: &[StopTime], position: usize) -> Option<i64> {
        let expected = self.stops.get(position)?;
        let planned = scheduled.get(position)?;
        Some(i64::from(expected.departure) - i64::from(planned.departure))
    }

    /// Expected arrival minus scheduled arrival at `position`, seconds.
    pub fn arrival_delay(&self, scheduled: &[StopTime], position: usize) -> Option<i64> {
        let expected = self.stops.get(position)?;
        let planned = scheduled.get(position)?;
        Some(i64::from(expected.arrival) - i64::from(planned.arrival))
    }

    /// The stop served at `position` when it changed (a platform change).
    pub fn assigned_stop(&self, position: usize) -> Option<StopIdx> {
        self.assigned_stops.iter().find(|(at, _)| *at as usize == position).map(|(_, stop)| *stop)
    }
}

/// A trip the timetable does not have: NEW (or the deprecated ADDED) with its own stops and
/// times, or DUPLICATED from a scheduled trip at another time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddedTrip {
    /// `FEED:trip_id` as the feed names it.
    pub id: String,
    pub route: Option<RouteIdx>,
    /// The scheduled trip a DUPLICATED trip copies.
    pub copy_of: Option<TripIdx>,
    /// Service day (day number) its times count from.
    pub day: u32,
    pub stops: Box<[StopIdx]>,
    pub times: Box<[StopTime]>,
    /// The timetable's pattern with exactly these stops, which the searches board it as
    /// (in a group of its own on its service day); `None`: its stops are no pattern's (a
    /// new route, a detour), and it is shown but not searched (counted in
    /// [`OverlayStats::added_unsearched`]).
    pub pattern: Option<PatternIdx>,
}

/// Counts of one overlay build (the metrics and `/status` show them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OverlayStats {
    pub trip_updates: u64,
    /// Trip instances with times (not cancelled).
    pub trips_updated: u64,
    pub trips_cancelled: u64,
    pub trips_added: u64,
    /// Added trips whose stops are no pattern's, which the searches do not board.
    pub added_unsearched: u64,
    /// TripUpdates naming no trip of the timetable (or no day it runs on).
    pub unknown_trips: u64,
    /// StopTimeUpdates naming no stop of their trip (from the position reached on).
    pub unknown_stops: u64,
    /// Times that went backwards and were raised to the time before them.
    pub times_clamped: u64,
    pub skipped_stops: u64,
    pub platform_changes: u64,
    pub alerts: u64,
    pub vehicles: u64,
}

/// The realtime state of the timetable with hash `timetable_hash`, as of `built_at`.
#[derive(Debug, Default)]
pub struct Overlay {
    pub timetable_hash: String,
    /// POSIX seconds.
    pub built_at: i64,
    /// Shared with the source parts it was merged from, so a merge copies pointers.
    trips: FxHashMap<TripKey, Arc<TripRealtime>>,
    pub added: Vec<Arc<AddedTrip>>,
    pub alerts: Vec<RealtimeAlert>,
    pub stats: OverlayStats,
}

impl Overlay {
    /// An overlay that changes nothing.
    pub fn empty(timetable: &Timetable) -> Self {
        Self { timetable_hash: timetable.meta.content_hash.clone(), ..Self::default() }
    }

    /// An overlay of the given trip instances' states (built from feeds by [`build`]; this
    /// for tools and tests that set expected times directly).
    pub fn from_trips(
        timetable: &Timetable,
        trips: impl IntoIterator<Item = (TripKey, TripRealtime)>,
    ) -> Self {
        let trips: FxHashMap<TripKey, Arc<TripRealtime>> =
            trips.into_iter().map(|(key, trip)| (key, Arc::new(trip))).collect();
        let stats = OverlayStats {
            trips_updated: trips.values().filter(|trip| !trip.cancelled).count() as u64,
            trips_cancelled: trips.values().filter(|trip| trip.cancelled).count() as u64,
            ..OverlayStats::default()
        };
        Self { trips, stats, ..Self::empty(timetable) }
    }

    /// Whether it was built for `timetable` (another snapshot's overlay must not be read).
    pub fn fits(&self, timetable: &Timetable) -> bool {
        self.timetable_hash == timetable.meta.content_hash
    }

    pub fn is_empty(&self) -> bool {
        self.trips.is_empty() && self.added.is_empty() && self.alerts.is_empty()
    }

    pub fn trip(&self, trip: TripIdx, day: u32) -> Option<&TripRealtime> {
        if self.trips.is_empty() {
            return None;
        }
        self.trips.get(&TripKey { trip, day }).map(|trip| &**trip)
    }

    pub fn is_cancelled(&self, trip: TripIdx, day: u32) -> bool {
        self.trip(trip, day).is_some_and(|realtime| realtime.cancelled)
    }

    /// Every trip instance the feeds speak of.
    pub fn trips(&self) -> impl Iterator<Item = (&TripKey, &TripRealtime)> {
        self.trips.iter().map(|(key, trip)| (key, &**trip))
    }

    pub fn num_trips(&self) -> usize {
        self.trips.len()
    }

    /// One overlay of `parts` (each source's, built on `timetable`), later parts over earlier
    /// ones where they speak of the same trip run; counts added up.
    pub fn merge(timetable: &Timetable, parts: &[std::sync::Arc<Overlay>], now: i64) -> Self {
        let mut merged = Self::empty(timetable);
        merged.built_at = now;
        merged.trips.reserve(parts.iter().map(|part| part.trips.len()).sum());
        for part in parts {
            merged.trips.extend(part.trips.iter().map(|(key, trip)| (*key, Arc::clone(trip))));
            merged.added.extend(part.added.iter().map(Arc::clone));
            merged.alerts.extend(part.alerts.iter().cloned());
            let (sum, add) = (&mut merged.stats, &part.stats);
            sum.trip_updates += add.trip_updates;
            sum.trips_updated += add.trips_updated;
            sum.trips_cancelled += add.trips_cancelled;
            sum.trips_added += add.trips_added;
            sum.added_unsearched += add.added_unsearched;
            sum.unknown_trips += add.unknown_trips;
            sum.unknown_stops += add.unknown_stops;
            sum.times_clamped += add.times_clamped;
            sum.skipped_stops += add.skipped_stops;
            sum.platform_changes += add.platform_changes;
            sum.alerts += add.alerts;
            sum.vehicles += add.vehicles;
        }
        merged
    }
}

/// One live entity and the GTFS feed (namespace) its ids belong to.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    pub feed: &'a str,
    pub entity: &'a FeedEntity,
}

/// Builds the overlay of `inputs` on `timetable` as of `now` (POSIX seconds: a TripUpdate
/// without start_date is taken for the service day, today or yesterday, its trip runs on).
pub fn build(timetable: &Timetable, inputs: &[Input<'_>], now: i64) -> Overlay {
    let mut builder = Builder {
        timetable,
        now,
        trips: FxHashMap::default(),
        added: Vec::new(),
        stats: OverlayStats::default(),
        starts: OnceLock::new(),
        scoped_id: String::new(),
        origins: FxHashMap::default(),
        running_days: None,
        update_at: Vec::new(),
    };
    builder.trips.reserve(inputs.len());
    let mut alerts = Vec::new();
    for input in inputs {
        if let Some(update) = &input.entity.trip_update {
            builder.trip_update(input.feed, &input.entity.id, update);
        }
        if let Some(alert) = &input.entity.alert {
            alerts.push(alerts::resolve(timetable, input.feed, &input.entity.id, alert));
        }
        if input.entity.vehicle.is_some() {
            builder.stats.vehicles += 1;
        }
    }
    let mut stats = builder.stats;
    stats.alerts = alerts.len() as u64;
    stats.trips_added = builder.added.len() as u64;
    Overlay {
        timetable_hash: timetable.meta.content_hash.clone(),
        built_at: now,
        trips: builder.trips,
        added: builder.added,
        alerts,
        stats,
    }
}

/// Trips by (route, direction, first departure), for descriptors without trip_id.
type StartIndex = FxHashMap<(RouteIdx, Option<u8>, u32), Vec<TripIdx>>;

/// No update at this position (in [`Builder::update_at`]).
const NO_UPDATE: u32 = u32::MAX;

struct Builder<'a> {
    timetable: &'a Timetable,
    now: i64,
    trips: FxHashMap<TripKey, Arc<TripRealtime>>,
    added: Vec<Arc<AddedTrip>>,
    stats: OverlayStats,
    /// Built by the first descriptor that needs it.
    starts: OnceLock<StartIndex>,
    /// `FEED:ID` of the id being looked up (one buffer: New York's TripUpdates look up
    /// tens of thousands of ids per message).
    scoped_id: String,
    /// Per service day, its origin in POSIX seconds (a time-zone conversion each).
    origins: FxHashMap<u32, i64>,
    /// Today's and yesterday's day numbers at `now`, once asked for.
    running_days: Option<(Option<u32>, Option<u32>)>,
    /// Per pattern position of the trip being matched, the index of its StopTimeUpdate.
    update_at: Vec<u32>,
}

impl Builder<'_> {
    fn trip_update(&mut self, feed: &str, entity_id: &str, update: &TripUpdate) {
        self.stats.trip_updates += 1;
        let descriptor = &update.trip;
        let relationship = descriptor
            .schedule_relationship
            .and_then(|value| TripRelationship::try_from(value).ok())
            .unwrap_or(TripRelationship::Scheduled);
        #[allow(deprecated, reason = "ADDED is still sent by feeds; read as NEW")]
        let is_new = matches!(relationship, TripRelationship::New | TripRelationship::Added);
        if is_new {
            self.new_trip(feed, update);
            return;
        }
        if relationship == TripRelationship::Duplicated {
            self.duplicated_trip(feed, update);
            return;
        }
        let Some(key) = self.resolve(feed, descriptor) else {
            self.stats.unknown_trips += 1;
            tracing::debug!(feed, entity = entity_id, trip = ?descriptor.trip_id, "realtime trip not in the timetable");
            return;
        };
        if matches!(relationship, TripRelationship::Canceled | TripRelationship::Deleted) {
            self.stats.trips_cancelled += 1;
            self.trips.insert(
                key,
                Arc::new(TripRealtime {
                    cancelled: true,
                    timestamp: update.timestamp,
                    ..TripRealtime::default()
                }),
            );
            return;
        }
        let realtime = self.expected_times(feed, key, update);
        self.stats.trips_updated += 1;
        self.trips.insert(key, Arc::new(realtime));
    }

    /// `FEED:ID` in the lookup buffer.
    fn scoped(&mut self, feed: &str, id: &str) -> &str {
        self.scoped_id.clear();
        self.scoped_id.push_str(feed);
        self.scoped_id.push(':');
        self.scoped_id.push_str(id);
        &self.scoped_id
    }

    /// The trip instance a descriptor names, if the timetable has it.
    fn resolve(&mut self, feed: &str, descriptor: &TripDescriptor) -> Option<TripKey> {
        let timetable = self.timetable;
        let start_time = descriptor.start_time.as_deref().and_then(parse_hms);
        let trip = match descriptor.trip_id.as_deref() {
            Some(trip_id) => {
                // A frequency-based trip is expanded per departure: `FEED:trip@HH:MM:SS`.
                let expanded = start_time.and_then(|secs| {
                    self.scoped(feed, trip_id);
                    push_hms(&mut self.scoped_id, secs);
                    timetable.trip_by_id(&self.scoped_id)
                });
                expanded.or_else(|| timetable.trip_by_id(self.scoped(feed, trip_id)))
            }
            None => None,
        };
        let day = match descriptor.start_date.as_deref() {
            Some(text) => Some(timetable.day_index(parse_date(text)?)?),
            None => None,
        };
        if let Some(trip) = trip {
            let day = day.or_else(|| self.running_day(trip))?;
            return timetable.trip_runs(trip, day).then_some(TripKey { trip, day });
        }
        // No trip_id (or an unknown one): route + direction + start time.
        let route = timetable.route_by_id(self.scoped(feed, descriptor.route_id.as_deref()?))?;
        let start = start_time?;
        let direction = descriptor.direction_id.and_then(|direction| u8::try_from(direction).ok());
        let starts = self.starts.get_or_init(|| start_index(timetable));
        let candidates = starts.get(&(route, direction, start))?.clone();
        candidates.into_iter().find_map(|trip| {
            let day = day.or_else(|| self.running_day(trip))?;
            timetable.trip_runs(trip, day).then_some(TripKey { trip, day })
        })
    }

    /// The POSIX time of service day `day`'s origin (noon minus 12 h).
    fn origin(&mut self, day: u32) -> i64 {
        let timetable = self.timetable;
        *self
            .origins
            .entry(day)
            .or_insert_with(|| timetable.service_day_start(timetable.date_of_day(day)).timestamp())
    }

    /// The service day a trip named without start_date runs on now: today's if it runs
    /// today and has not ended an hour ago, else yesterday's (a trip past midnight).
    fn running_day(&mut self, trip: TripIdx) -> Option<u32> {
        let timetable = self.timetable;
        let now = self.now;
        let (today, yesterday) = *self.running_days.get_or_insert_with(|| {
            let Some(now) = chrono::DateTime::from_timestamp(now, 0) else { return (None, None) };
            let date = now.with_timezone(&timetable.tz).date_naive();
            let yesterday = date.pred_opt().and_then(|date| timetable.day_index(date));
            (timetable.day_index(date), yesterday)
        });
        let last_arrival = timetable.stop_times_of_trip(trip).last().map_or(0, |time| time.arrival);
        if let Some(day) = yesterday
            && timetable.trip_runs(trip, day)
            && self.origin(day) + i64::from(last_arrival) + 3600 >= now
        {
            return Some(day);
        }
        today.filter(|&day| timetable.trip_runs(trip, day))
    }

    /// A scheduled trip's expected times by the GTFS-Realtime propagation rules.
    fn expected_times(&mut self, feed: &str, key: TripKey, update: &TripUpdate) -> TripRealtime {
        let timetable = self.timetable;
        let pattern = timetable.trips[key.trip.idx()].pattern;
        let stops = timetable.pattern_stops(pattern);
        let scheduled = timetable.stop_times_of_trip(key.trip);
        // Times given as POSIX seconds count from the origin of the day the trip was
        // resolved to (its start_date, or the day it runs on now).
        let key_day = self.origin(key.day);
        let mut expected: Vec<StopRealtime> = scheduled
            .iter()
            .map(|time| StopRealtime { arrival: time.arrival, departure: time.departure, flags: 0 })
            .collect();
        let mut assigned = Vec::new();
        // Per position, the update given there (matched in order).
        let mut update_at = std::mem::take(&mut self.update_at);
        update_at.clear();
        update_at.resize(stops.len(), NO_UPDATE);
        let mut next_position = 0;
        for (update_index, stop_update) in update.stop_time_update.iter().enumerate() {
            let Some((position, by_own_id)) =
                self.match_position(feed, stops, next_position, stop_update)
            else {
                self.stats.unknown_stops += 1;
                continue;
            };
            update_at[position] = update_index as u32;
            next_position = position + 1;
            let assigned_id = stop_update
                .stop_time_properties
                .as_ref()
                .and_then(|properties| properties.assigned_stop_id.as_deref())
                .or(stop_update.stop_id.as_deref());
            // The stop matched by its own id is the one served: no lookup needed.
            if by_own_id && assigned_id == stop_update.stop_id.as_deref() {
                continue;
            }
            if let Some(stop) = assigned_id.and_then(|id| self.stop(feed, id))
                && stop != stops[position]
            {
                assigned.push((position as u32, stop));
                self.stats.platform_changes += 1;
            }
        }
        // The trip-level delay holds until the first stop update (GTFS-RT 2.0 `delay`).
        let mut delay: Option<i64> = update.delay.map(i64::from);
        let mut previous_departure: Option<u32> = None;
        for (position, slot) in expected.iter_mut().enumerate() {
            let planned = scheduled[position];
            let mut arrival_delay = delay;
            let mut departure_delay = delay;
            let mut arrival_time = None;
            let mut departure_time = None;
            if let Some(stop_update) = update.stop_time_update.get(update_at[position] as usize) {
                let relationship = stop_update
                    .schedule_relationship
                    .and_then(|value| StopRelationship::try_from(value).ok())
                    .unwrap_or(StopRelationship::Scheduled);
                match relationship {
                    StopRelationship::NoData => {
                        delay = None;
                        arrival_delay = None;
                        departure_delay = None;
                    }
                    StopRelationship::Skipped => {
                        slot.flags |= StopRealtime::SKIPPED;
                        self.stats.skipped_stops += 1;
                    }
                    _ => {
                        let arrival = event(stop_update.arrival.as_ref(), planned.arrival, key_day);
                        let departure =
                            event(stop_update.departure.as_ref(), planned.departure, key_day);
                        if let Some((time, event_delay)) = arrival {
                            arrival_time = Some(time);
                            arrival_delay = Some(event_delay);
                            departure_delay = Some(event_delay);
                        }
                        if let Some((time, event_delay)) = departure {
                            departure_time = Some(time);
                            departure_delay = Some(event_delay);
                        }
                        delay = departure_delay.or(delay);
                    }
                }
            }
            let shift = |planned: u32, by: Option<i64>| match by {
                Some(by) => clamp_secs(i64::from(planned) + by),
                None => planned,
            };
            let mut arrival = arrival_time.unwrap_or_else(|| shift(planned.arrival, arrival_delay));
            let mut departure =
                departure_time.unwrap_or_else(|| shift(planned.departure, departure_delay));
            if arrival_delay.is_some() || departure_delay.is_some() {
                slot.flags |= StopRealtime::PREDICTED;
            }
            if let Some(before) = previous_departure
                && arrival < before
            {
                arrival = before;
                self.stats.times_clamped += 1;
            }
            if departure < arrival {
                departure = arrival;
                self.stats.times_clamped += 1;
            }
            slot.arrival = arrival;
            slot.departure = departure;
            previous_departure = Some(departure);
        }
        self.update_at = update_at;
        TripRealtime {
            cancelled: false,
            stops: expected.into_boxed_slice(),
            assigned_stops: assigned.into_boxed_slice(),
            timestamp: update.timestamp,
        }
    }

    /// The position (from `from` on) a StopTimeUpdate speaks of, and whether it was found
    /// by the stop's own id: its stop, or another stop of the same station (a platform
    /// change); by stop_sequence alone when it gives no stop (the snapshot numbers positions
    /// from 0, feeds usually from 1: a sequence is read as position + 1 when that fits, which
    /// is what contiguous numbering means).
    fn match_position(
        &mut self,
        feed: &str,
        stops: &[StopIdx],
        from: usize,
        stop_update: &StopTimeUpdate,
    ) -> Option<(usize, bool)> {
        let timetable = self.timetable;
        let Some(stop_id) = stop_update.stop_id.as_deref() else {
            let position = (stop_update.stop_sequence? as usize).checked_sub(1)?;
            return (position >= from && position < stops.len()).then_some((position, false));
        };
        let ahead = &stops[from.min(stops.len())..];
        // Usually the update names one of the trip's own stops by its id: compared in
        // place, without a lookup in the timetable's index.
        if let Some(offset) =
            ahead.iter().position(|&at| is_scoped_id(&timetable.stops[at.idx()].id, feed, stop_id))
        {
            return Some((from + offset, true));
        }
        let Some(stop) = self.stop(feed, stop_id) else {
            // Feeds that share one stop namespace (the Okayama operators) name stops the
            // importer filed under another feed's id: only the trip's own stops are looked at.
            let local = |id: &str| id.split_once(':').map_or(id, |(_, local)| local) == stop_id;
            return ahead
                .iter()
                .position(|&at| {
                    let data = &timetable.stops[at.idx()];
                    local(&data.id) || data.aliases.iter().any(|alias| local(alias))
                })
                .map(|offset| (from + offset, false));
        };
        if let Some(offset) = ahead.iter().position(|&at| at == stop) {
            return Some((from + offset, false));
        }
        let station = timetable.stops[stop.idx()].station;
        ahead
            .iter()
            .position(|&at| timetable.stops[at.idx()].station == station)
            .map(|offset| (from + offset, false))
    }

    fn stop(&mut self, feed: &str, id: &str) -> Option<StopIdx> {
        let timetable = self.timetable;
        timetable.stop_by_id(self.scoped(feed, id))
    }

    /// The pattern whose stops are exactly `stops`, if any (of `route` when several are).
    fn pattern_of(&self, stops: &[StopIdx], route: Option<RouteIdx>) -> Option<PatternIdx> {
        let timetable = self.timetable;
        let first = *stops.first()?;
        let mut matching = timetable
            .patterns_at_stop(first)
            .iter()
            .filter(|at| at.position == 0 && timetable.pattern_stops(at.pattern) == stops)
            .map(|at| at.pattern);
        let first_match = matching.next()?;
        let of_route = std::iter::once(first_match)
            .chain(matching)
            .find(|&pattern| Some(timetable.patterns[pattern.idx()].route) == route);
        Some(of_route.unwrap_or(first_match))
    }

    /// Records an added trip, with the pattern it runs as when there is one.
    fn push_added(&mut self, mut trip: AddedTrip) {
        trip.pattern = self.pattern_of(&trip.stops, trip.route);
        if trip.pattern.is_none() {
            self.stats.added_unsearched += 1;
        }
        self.added.push(Arc::new(trip));
    }

    /// A NEW (or ADDED) trip: its stops and times as the update lists them.
    fn new_trip(&mut self, feed: &str, update: &TripUpdate) {
        let timetable = self.timetable;
        let descriptor = &update.trip;
        let day = descriptor
            .start_date
            .as_deref()
            .and_then(parse_date)
            .or_else(|| {
                chrono::DateTime::from_timestamp(self.now, 0)
                    .map(|now| now.with_timezone(&timetable.tz).date_naive())
            })
            .and_then(|date| timetable.day_index(date));
        let Some(day) = day else {
            self.stats.unknown_trips += 1;
            return;
        };
        let origin = self.origin(day);
        let mut stops = Vec::new();
        let mut times: Vec<StopTime> = Vec::new();
        for stop_update in &update.stop_time_update {
            let Some(stop) = stop_update.stop_id.as_deref().and_then(|id| self.stop(feed, id))
            else {
                self.stats.unknown_stops += 1;
                continue;
            };
            let absolute = |event: Option<&StopTimeEvent>| {
                event.and_then(|event| event.time).map(|time| clamp_secs(time - origin))
            };
            let arrival = absolute(stop_update.arrival.as_ref());
            let departure = absolute(stop_update.departure.as_ref());
            let Some(mut arrival) = arrival.or(departure) else {
                self.stats.unknown_stops += 1;
                continue;
            };
            let mut departure = departure.unwrap_or(arrival);
            if let Some(before) = times.last()
                && arrival < before.departure
            {
                arrival = before.departure;
                self.stats.times_clamped += 1;
            }
            if departure < arrival {
                departure = arrival;
                self.stats.times_clamped += 1;
            }
            stops.push(stop);
            times.push(StopTime { arrival, departure });
        }
        if stops.len() < 2 {
            self.stats.unknown_trips += 1;
            return;
        }
        let id = format!("{feed}:{}", descriptor.trip_id.as_deref().unwrap_or("added"));
        let route = descriptor
            .route_id
            .as_deref()
            .and_then(|route| timetable.route_by_id(&format!("{feed}:{route}")));
        self.push_added(AddedTrip {
            id,
            route,
            copy_of: None,
            day,
            stops: stops.into_boxed_slice(),
            times: times.into_boxed_slice(),
            pattern: None,
        });
    }

    /// A DUPLICATED trip: the scheduled trip's stops, its times moved to the new start.
    fn duplicated_trip(&mut self, feed: &str, update: &TripUpdate) {
        let timetable = self.timetable;
        let original = update
            .trip
            .trip_id
            .as_deref()
            .and_then(|trip_id| timetable.trip_by_id(&format!("{feed}:{trip_id}")));
        let properties = update.trip_properties.as_ref();
        let start =
            properties.and_then(|properties| properties.start_time.as_deref()).and_then(parse_hms);
        let date = properties
            .and_then(|properties| properties.start_date.as_deref())
            .or(update.trip.start_date.as_deref())
            .and_then(parse_date);
        let (Some(original), Some(start), Some(day)) =
            (original, start, date.and_then(|date| timetable.day_index(date)))
        else {
            self.stats.unknown_trips += 1;
            return;
        };
        let scheduled = timetable.stop_times_of_trip(original);
        let first = i64::from(scheduled.first().map_or(0, |time| time.departure));
        let shift = i64::from(start) - first;
        let times = scheduled
            .iter()
            .map(|time| StopTime {
                arrival: clamp_secs(i64::from(time.arrival) + shift),
                departure: clamp_secs(i64::from(time.departure) + shift),
            })
            .collect();
        let id = properties.and_then(|properties| properties.trip_id.as_deref()).map_or_else(
            || format!("{}@dup", timetable.trips[original.idx()].id),
            |id| format!("{feed}:{id}"),
        );
        self.push_added(AddedTrip {
            id,
            route: Some(timetable.trips[original.idx()].route),
            copy_of: Some(original),
            day,
            stops: timetable.pattern_stops(timetable.trips[original.idx()].pattern).into(),
            times,
            pattern: None,
        });
    }
}

/// An event's time in seconds of the service day starting at `origin`, and its delay:
/// `time` when given (the delay against `planned`), else `planned + delay`.
fn event(event: Option<&StopTimeEvent>, planned: u32, origin: i64) -> Option<(u32, i64)> {
    let event = event?;
    if let Some(time) = event.time {
        let secs = clamp_secs(time - origin);
        return Some((secs, i64::from(secs) - i64::from(planned)));
    }
    let delay = i64::from(event.delay?);
    Some((clamp_secs(i64::from(planned) + delay), delay))
}

/// Seconds of a service day, kept within what the timetable's times can be.
fn clamp_secs(secs: i64) -> u32 {
    secs.clamp(0, i64::from(u32::MAX >> 4)) as u32
}

fn start_index(timetable: &Timetable) -> StartIndex {
    let mut index = StartIndex::default();
    for (trip_index, trip) in timetable.trips.iter().enumerate() {
        let trip_idx = TripIdx::from(trip_index);
        let Some(first) = timetable.stop_times_of_trip(trip_idx).first() else { continue };
        index.entry((trip.route, trip.direction_id, first.departure)).or_default().push(trip_idx);
    }
    index
}

/// `YYYYMMDD` (GTFS-Realtime dates), read by hand: every TripUpdate has one.
pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    let digits = text.trim().as_bytes();
    if digits.len() != 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| {
        digits[range].iter().fold(0u32, |value, digit| value * 10 + u32::from(digit - b'0'))
    };
    NaiveDate::from_ymd_opt(i32::try_from(number(0..4)).ok()?, number(4..6), number(6..8))
}

/// Whether `scoped` is `FEED:ID` for `feed` and `id` (without building it).
fn is_scoped_id(scoped: &str, feed: &str, id: &str) -> bool {
    scoped.len() == feed.len() + 1 + id.len()
        && scoped.ends_with(id)
        && scoped.starts_with(feed)
        && scoped.as_bytes()[feed.len()] == b':'
}

/// Appends `@HH:MM:SS` (a frequency-expanded trip's suffix).
fn push_hms(text: &mut String, secs: u32) {
    use std::fmt::Write;
    let _ = write!(text, "@{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
}

/// `H:MM:SS` or `HH:MM:SS`, hours past 24 allowed.
pub(crate) fn parse_hms(text: &str) -> Option<u32> {
    let mut parts = text.trim().split(':');
    let hours: u32 = parts.next()?.parse().ok()?;
    let minutes: u32 = parts.next()?.parse().ok()?;
    let seconds: u32 = parts.next()?.parse().ok()?;
    (parts.next().is_none() && minutes < 60 && seconds < 60 && hours < 100)
        .then_some(hours * 3600 + minutes * 60 + seconds)
}

/// Seconds of a service day as a GTFS time, `HH:MM:SS` (past `24:00:00` after midnight).
pub fn format_hms(secs: u32) -> String {
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}
