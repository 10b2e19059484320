//! Planning: a [`Request`] turned into searches. Where each end of the query is (stops and the
//! walks to them), which algorithm answers (Trip-Based routing for forward searches with the
//! default rules once the date's transfers are built, else RAPTOR: one iteration, or a range's
//! departures latest first), the walk-only answer, and via stations by chaining two searches.
//! [`Planner`] borrows the network and the engine's caches; the engine's façade makes one per
//! call. The ends of a search are in [`ends`], the joining of via searches in [`via`].

mod ends;
mod via;

use std::sync::Arc;

use norikae_timetable::{StationIdx, StopIdx};

use super::journey::{Journey, SeedWalk, pareto_filter};
use super::network::Network;
use super::query::{MAX_JOURNEY_SECS, Options, Place, Request, SearchKind};
use super::raptor::day_cache::DayCache;
use super::raptor::day_tables::DayTrips;
use super::raptor::labels::FinalWalk;
use super::raptor::reconstruct::{Reconstruction, reconstruct};
use super::raptor::{Rules, Seed, rounds};
use super::realtime_days::RealtimeDays;
use super::scratch::Scratch;
use super::trip_based::{self, Departures};
use super::types::{Direction, Frame};
use crate::error::{Error, Result};

/// What a search reads besides the query: the network and the caches of day tables and
/// Trip-Based transfers.
#[derive(Clone, Copy)]
pub(crate) struct Planner<'a> {
    pub network: &'a Network,
    pub day_tables: &'a DayCache,
    pub trip_based: &'a trip_based::Cache,
    /// The realtime overlay's cancellations (`None`: none, or searching the timetable).
    pub realtime: Option<&'a RealtimeDays>,
}

/// Both ends of one search, as stops with the walks to and from them.
#[derive(Clone, Copy)]
struct Ends<'a> {
    direction: Direction,
    /// Where the search starts (forward: the origin's), see [`ends::place_walks`].
    seeds: &'a [SeedWalk],
    /// Where it ends.
    goals: &'a [SeedWalk],
}

impl Planner<'_> {
    /// The trips running on service day `day` (built on first use, then cached).
    pub(crate) fn day_trips(&self, day: u32) -> Arc<DayTrips> {
        if let Some(live) =
            self.realtime.and_then(|live| live.day_trips(&self.network.timetable, day))
        {
            return live;
        }
        self.day_tables.get(day, || DayTrips::build(&self.network.timetable, day))
    }

    /// The Trip-Based transfers of the frame's days: the realtime overlay's where it changes
    /// trips on them (see [`RealtimeDays::trip_based_days`]), else the timetable's.
    fn trip_based_days(&self, frame: &Frame) -> Option<[Option<Arc<trip_based::DayTransfers>>; 3]> {
        match self.realtime {
            Some(live) if frame.days.day.iter().flatten().any(|&day| live.touches(day)) => {
                live.trip_based_days(self.network, self.trip_based, frame)
            }
            _ => self.trip_based.days_for(self.network, frame),
        }
    }

    /// Answers a request: the journeys, sorted by departure.
    pub(crate) fn search(&self, request: &Request, scratch: &mut Scratch) -> Result<Vec<Journey>> {
        let tt = &*self.network.timetable;
        let frame = Frame::new(tt, request.date)?;
        let at = Frame::local_unix(tt, request.date, request.time_secs);
        let options = &request.options;
        let mut allowed = std::mem::take(&mut scratch.allowed_patterns);
        let use_filter = self.fill_allowed_patterns(options, &mut allowed);
        let result = (|| {
            let allowed_patterns = use_filter.then_some(allowed.as_slice());
            let Some(via) = options.via else {
                return self.search_once(
                    request,
                    request.from,
                    request.to,
                    at,
                    &frame,
                    allowed_patterns,
                    scratch,
                );
            };
            self.search_via(request, via, at, &frame, allowed_patterns, scratch)
        })();
        scratch.allowed_patterns = allowed;
        let mut journeys = result?;
        pareto_filter(&mut journeys);
        Ok(journeys)
    }

    /// Fills `allowed` when the options exclude anything; returns whether a filter applies.
    fn fill_allowed_patterns(&self, options: &Options, allowed: &mut Vec<bool>) -> bool {
        if options.exclude_routes.is_empty()
            && options.exclude_agencies.is_empty()
            && options.exclude_modes.is_empty()
        {
            return false;
        }
        let tt = &*self.network.timetable;
        // As flags per route and agency: one lookup per pattern, however long the lists.
        let mut route_excluded = vec![false; tt.routes.len()];
        for route in &options.exclude_routes {
            route_excluded[route.idx()] = true;
        }
        let mut agency_excluded = vec![false; tt.agencies.len()];
        for agency in &options.exclude_agencies {
            agency_excluded[agency.idx()] = true;
        }
        allowed.clear();
        allowed.extend(tt.patterns.iter().map(|pattern| {
            let route = &tt.routes[pattern.route.idx()];
            !(route_excluded[pattern.route.idx()]
                || agency_excluded[route.agency.idx()]
                || options.exclude_modes.contains(&route.mode))
        }));
        true
    }

    #[allow(clippy::too_many_arguments)]
    fn search_once(
        &self,
        request: &Request,
        from: Place,
        to: Place,
        at: i64,
        frame: &Frame,
        allowed_patterns: Option<&[bool]>,
        scratch: &mut Scratch,
    ) -> Result<Vec<Journey>> {
        let options = &request.options;
        let direction = match request.kind {
            SearchKind::ArriveBy => Direction::Backward,
            SearchKind::DepartAt | SearchKind::Range { .. } => Direction::Forward,
        };
        let (start_place, goal_place, start_field, goal_field) = match direction {
            Direction::Forward => (from, to, "from", "to"),
            Direction::Backward => (to, from, "to", "from"),
        };
        let seeds = ends::place_walks(
            self.network,
            start_place,
            ends::End::Start,
            direction,
            options,
            start_field,
        )?;
        let goals = ends::place_walks(
            self.network,
            goal_place,
            ends::End::Goal,
            direction,
            options,
            goal_field,
        )?;
        if seeds.is_empty() || goals.is_empty() {
            // No stop either end can use (a wheelchair search at a station without an
            // accessible stop): no journey.
            return Ok(Vec::new());
        }
        let walk =
            ends::direct_walk(self.network, (from, to), direction, (&seeds, &goals), options);
        let ends = Ends { direction, seeds: &seeds, goals: &goals };
        let mut journeys =
            self.search_vehicles(request, &ends, at, frame, allowed_patterns, scratch)?;
        if let Some(walk) = walk {
            ends::add_walk_only(&mut journeys, &walk, request.kind, at);
        }
        Ok(journeys)
    }

    /// The journeys by vehicle between the ends of one search (RAPTOR, or Trip-Based routing
    /// when it applies).
    fn search_vehicles(
        &self,
        request: &Request,
        ends: &Ends<'_>,
        at: i64,
        frame: &Frame,
        allowed_patterns: Option<&[bool]>,
        scratch: &mut Scratch,
    ) -> Result<Vec<Journey>> {
        let options = &request.options;
        let Ends { direction, seeds, goals } = *ends;
        let day_trips = frame.days.day.map(|day| day.map(|day| self.day_trips(day)));
        // The walks left out as needless are so on the timetable's times; on the days of a
        // realtime overlay whose trips wait or ride longer than any of their pattern's, not.
        let every_walk_link = self.realtime.is_some_and(|live| {
            frame.days.day.iter().flatten().any(|&day| live.touches(day))
                && !live.walk_pruning_holds(&self.network.timetable)
        });
        let rules = Rules {
            day_trips: [day_trips[0].as_deref(), day_trips[1].as_deref(), day_trips[2].as_deref()],
            direction,
            max_trips: usize::from(options.max_transfers) + 1,
            slack_secs: options.min_transfer_secs,
            max_walk_m: options.max_walk_m,
            wheelchair: options.wheelchair,
            every_walk_link,
            allowed_patterns,
            days: frame.days,
            remember_rides: matches!(request.kind, SearchKind::Range { .. }),
            limits: scratch.limits,
        };
        // Forward searches with the rules the transfers were computed for: Trip-Based, when
        // the query's days are built.
        if direction == Direction::Forward
            && options.min_transfer_secs == 0
            && !options.wheelchair
            && allowed_patterns.is_none()
            && options.max_walk_m >= self.network.longest_walk_m
            && let Some(days) = self.trip_based_days(frame)
        {
            self.fill_lower_bounds(direction, goals, frame, scratch);
            let start = frame.time(at);
            let max_trips = usize::from(options.max_transfers) + 1;
            let search = |departures, scratch: &mut Scratch| {
                self.trip_based.count_search();
                trip_based::search(
                    self.network,
                    &days,
                    frame,
                    seeds,
                    goals,
                    departures,
                    MAX_JOURNEY_SECS,
                    max_trips,
                    (&mut scratch.trip_based, &scratch.raptor.lower_bound, &scratch.limits),
                )
            };
            // Forward: depart-at or range.
            let SearchKind::Range { window_secs } = request.kind else {
                return search(Departures::At(start), scratch);
            };
            let end = window_end(start, window_secs)?;
            let departures = self.departures_from(&rules, seeds, start, end);
            let mut journeys = search(Departures::Range { end, departures: &departures }, scratch)?;
            let (start_unix, end_unix) = (at, at + i64::from(window_secs));
            journeys.retain(|journey| (start_unix..end_unix).contains(&journey.departure));
            return Ok(journeys);
        }
        let context = Reconstruction {
            direction,
            base_unix: frame.base_unix,
            day_offsets: frame.days.offset,
            days: frame.days.day,
            seeds,
            target_walks: goals,
            day_trips: rules.day_trips,
        };
        scratch.raptor.reset(rules.max_trips);
        for goal in goals {
            scratch.raptor.set_egress(goal.stop, goal.duration_secs);
        }
        // A vehicle arriving near a target stop: the walk there (the search would walk it
        // at the end of the round; known now, it prunes the rest of the round).
        for goal in goals {
            for footpath in self.network.footpaths(direction.reversed(), goal.stop) {
                if footpath.distance_m > options.max_walk_m
                    || (options.wheelchair && !self.network.stop_accessible[footpath.to.idx()])
                {
                    continue;
                }
                let walk = FinalWalk {
                    to: goal.stop,
                    duration_secs: footpath.duration_secs,
                    distance_m: footpath.distance_m,
                };
                let secs = footpath.duration_secs.saturating_add(goal.duration_secs);
                scratch.raptor.set_vehicle_egress(footpath.to, secs, Some(walk));
            }
        }
        rounds::classify_stops(self.network, direction, &mut scratch.raptor);
        self.fill_lower_bounds(direction, goals, frame, scratch);
        let start_time = frame.time(at);
        let mut journeys = Vec::new();
        let mut seed_keys = Vec::with_capacity(seeds.len());
        // `only`: seed just these (indices into `seeds`), else all.
        let mut iterate = |departure: u32,
                           only: Option<&[(u32, u32)]>,
                           report: bool,
                           scratch: &mut Scratch,
                           journeys: &mut Vec<Journey>| {
            seed_keys.clear();
            let chosen = |index: usize| {
                only.is_none_or(|only| only.iter().any(|&(_, seed)| seed as usize == index))
            };
            seed_keys.extend(seeds.iter().enumerate().filter(|&(index, _)| chosen(index)).map(
                |(_, seed)| Seed {
                    stop: seed.stop,
                    key: match direction {
                        Direction::Forward => departure + seed.duration_secs,
                        Direction::Backward => {
                            direction.key(departure.saturating_sub(seed.duration_secs))
                        }
                    },
                },
            ));
            self.set_horizon(scratch, direction, departure);
            rounds::run_iteration(self.network, &rules, &seed_keys, &mut scratch.raptor);
            if report {
                for round in 1..=rules.max_trips {
                    if scratch.raptor.target[round].improved
                        && let Some(journey) =
                            reconstruct(&self.network.timetable, &scratch.raptor, round, &context)
                    {
                        journeys.push(journey);
                    }
                }
            }
        };
        match request.kind {
            SearchKind::DepartAt | SearchKind::ArriveBy => {
                iterate(start_time, None, true, scratch, &mut journeys);
                scratch.limits.check()?;
            }
            SearchKind::Range { window_secs } => {
                let end_time = window_end(start_time, window_secs)?;
                iterate(end_time, None, false, scratch, &mut journeys);
                scratch.limits.check()?;
                // Latest first. Leaving earlier only adds a boarding at the seeds with a
                // departure at that very time (elsewhere the next trips are those already
                // tried by a later iteration, whose labels stay valid), so only they are
                // seeded and scanned again.
                let departures = self.departures_from(&rules, seeds, start_time, end_time);
                for group in departures.chunk_by(|a, b| a.0 == b.0) {
                    iterate(group[0].0, Some(group), true, scratch, &mut journeys);
                    scratch.limits.check()?;
                }
                let (start_unix, end_unix) = (at, at + i64::from(window_secs));
                journeys.retain(|journey| (start_unix..end_unix).contains(&journey.departure));
            }
        }
        Ok(journeys)
    }

    /// Lower bounds on the time from every stop to the goals (backward: from them), from the
    /// landmarks (0 without).
    fn fill_lower_bounds(
        &self,
        direction: Direction,
        goals: &[SeedWalk],
        frame: &Frame,
        scratch: &mut Scratch,
    ) {
        // The bounds weigh each ride by the timetable's shortest; on the days of a realtime
        // overlay whose trips ride some stretch faster (a delay made up) they come from its
        // own landmarks, and until those are built there are none.
        let landmarks = match self.realtime {
            Some(live) if frame.days.day.iter().flatten().any(|&day| live.touches(day)) => {
                live.landmarks(self.network, self.trip_based.on_demand())
            }
            _ => Some(&self.network.landmarks),
        };
        let Some(landmarks) = landmarks.filter(|landmarks| !landmarks.is_empty()) else {
            scratch.raptor.lower_bound.fill(0);
            return;
        };
        let targets: Vec<_> = goals.iter().map(|goal| (goal.stop, goal.duration_secs)).collect();
        landmarks.target_terms(direction, &targets, &mut scratch.bound_terms);
        landmarks.fill_bounds(direction, &scratch.bound_terms, &mut scratch.raptor.lower_bound);
    }

    /// Caps every round's target at the longest journey we follow (prunes hopeless labels).
    fn set_horizon(&self, scratch: &mut Scratch, direction: Direction, start: u32) {
        let horizon = match direction {
            Direction::Forward => start.saturating_add(MAX_JOURNEY_SECS),
            Direction::Backward => direction.key(start.saturating_sub(MAX_JOURNEY_SECS)),
        };
        for target in &mut scratch.raptor.target {
            if target.key > horizon {
                target.key = horizon;
                target.stop = StopIdx(u32::MAX);
            }
        }
    }

    /// Times (after slot 0's start) at which the traveller can leave the origin in
    /// `[start, end)` and board at once somewhere, with the seed (index into `seeds`) where
    /// that boarding is: latest first, without repeats.
    fn departures_from(
        &self,
        rules: &Rules<'_>,
        seeds: &[SeedWalk],
        start: u32,
        end: u32,
    ) -> Vec<(u32, u32)> {
        let tt = &*self.network.timetable;
        let mut departures = Vec::new();
        for (seed_index, seed) in seeds.iter().enumerate() {
            if rules.wheelchair && !self.network.stop_accessible[seed.stop.idx()] {
                continue;
            }
            for at_stop in tt.patterns_at_stop(seed.stop) {
                let pattern_idx = at_stop.pattern;
                if rules.allowed_patterns.is_some_and(|allowed| !allowed[pattern_idx.idx()]) {
                    continue;
                }
                let position = at_stop.position as usize;
                if !tt.pattern_stop_rules(pattern_idx)[position].pickup() {
                    continue;
                }
                let pattern = &tt.patterns[pattern_idx.idx()];
                let num_stops = pattern.num_stops();
                for slot in 0..3 {
                    let Some(running) = rules.day_trips[slot] else { continue };
                    let offset = rules.days.offset[slot];
                    for trip_in_pattern in running.all_of(pattern_idx) {
                        let time = running
                            .live_times(pattern_idx, trip_in_pattern, num_stops)
                            .map_or_else(
                                || {
                                    tt.stop_times[pattern.stop_times_start as usize
                                        + trip_in_pattern as usize * num_stops
                                        + position]
                                },
                                |times| times[position],
                            );
                        if running.live_skips(pattern_idx, trip_in_pattern, num_stops, position) {
                            continue;
                        }
                        let Some(leave) = (time.departure + offset).checked_sub(seed.duration_secs)
                        else {
                            continue;
                        };
                        if leave < start {
                            continue;
                        }
                        if leave >= end {
                            // One group's trips leave in order (all a pattern's but where
                            // realtime trips overtake).
                            if running.groups(pattern_idx) > 1 {
                                continue;
                            }
                            break;
                        }
                        // Added trips (numbered past the pattern's own) are not known to
                        // be accessible.
                        let trip = pattern.trips.start as usize + trip_in_pattern as usize;
                        let accessible = (trip_in_pattern as usize) < pattern.num_trips()
                            && self.network.trip_accessible[trip];
                        if !rules.wheelchair || accessible {
                            departures.push((leave, seed_index as u32));
                        }
                    }
                }
            }
        }
        departures.sort_unstable_by(|a, b| b.cmp(a));
        departures.dedup();
        departures
    }

    /// Via a station: the best ways to the via station, each continued by the best ways on.
    fn search_via(
        &self,
        request: &Request,
        via: StationIdx,
        at: i64,
        frame: &Frame,
        allowed_patterns: Option<&[bool]>,
        scratch: &mut Scratch,
    ) -> Result<Vec<Journey>> {
        let tt = &*self.network.timetable;
        let slack = i64::from(request.options.min_transfer_secs);
        let change_secs = |stop: Option<StopIdx>| {
            stop.map_or(0, |stop| i64::from(tt.min_transfer_secs[stop.idx()])) + slack
        };
        let via_place = Place::Station(via);
        let mut journeys = Vec::new();
        match request.kind {
            SearchKind::ArriveBy => {
                let second = self.search_once(
                    request,
                    via_place,
                    request.to,
                    at,
                    frame,
                    allowed_patterns,
                    scratch,
                )?;
                via::check_via_heads(second.len(), scratch)?;
                for tail in second {
                    scratch.limits.check()?;
                    let board_at = tail.departure - change_secs(via::first_stop(tt, &tail));
                    let first_request = Request { kind: SearchKind::ArriveBy, ..request.clone() };
                    // The head ends where the tail starts, so the legs meet.
                    let meeting = via::first_stop(tt, &tail).map_or(via_place, Place::Stop);
                    let heads = self.search_once(
                        &first_request,
                        request.from,
                        meeting,
                        board_at,
                        frame,
                        allowed_patterns,
                        scratch,
                    )?;
                    journeys.extend(
                        heads
                            .into_iter()
                            .filter_map(|head| via::join(tt, head, &tail, &request.options)),
                    );
                }
            }
            SearchKind::DepartAt | SearchKind::Range { .. } => {
                let first = self.search_once(
                    request,
                    request.from,
                    via_place,
                    at,
                    frame,
                    allowed_patterns,
                    scratch,
                )?;
                let onward_request = Request { kind: SearchKind::DepartAt, ..request.clone() };
                via::check_via_heads(first.len(), scratch)?;
                for head in first {
                    scratch.limits.check()?;
                    let leave_at = head.arrival + change_secs(via::last_stop(tt, &head));
                    // The tail starts where the head ends, so the legs meet.
                    let meeting = via::last_stop(tt, &head).map_or(via_place, Place::Stop);
                    let tails = self.search_once(
                        &onward_request,
                        meeting,
                        request.to,
                        leave_at,
                        frame,
                        allowed_patterns,
                        scratch,
                    )?;
                    journeys.extend(
                        tails
                            .iter()
                            .filter_map(|tail| via::join(tt, head.clone(), tail, &request.options)),
                    );
                }
            }
        }
        Ok(journeys)
    }
}

/// The end of a departure window starting at `start` (seconds after the frame's zero).
fn window_end(start: u32, window_secs: u32) -> Result<u32> {
    start.checked_add(window_secs).ok_or(Error::InvalidParameter {
        field: "window",
        reason: "the window ends too late".to_owned(),
    })
}
