//! The RAPTOR core: rounds over marked stops, each round scanning every pattern that serves a
//! stop improved in the previous round once, from its first marked position.
//!
//! One implementation serves both directions. Forward (depart-at) labels are arrival times;
//! backward (arrive-by) labels are departure times, compared in a mirrored "key" space
//! (`MIRROR - time`) so that smaller is always better and the code stays the same.
//!
//! Two labels per stop and round keep the transfer rules exact: the arrival by a vehicle
//! (`transit`: changing vehicles at that stop costs its minimum transfer time, and walking links
//! start from it) and the arrival on foot (`walk`: a walking link already includes the time it
//! takes, and does not chain into another walking link). Labels of round `k` are the best with
//! at most `k` trips; they survive from one iteration of a range query to the next (rRAPTOR),
//! because leaving later never makes an earlier-departing traveller worse off.
//!
//! Times are seconds since the start of the service day before the query's day (so the three
//! service days a query touches, D-1, D and D+1, all have non-negative times).
//!
//! Files by concern: [`day_tables`] (the trips running per service day, as the rounds search
//! them), [`live_tables`] (a realtime day's expected times in them), [`day_cache`] (the last
//! few days' tables), [`labels`] (the search's memory), [`view`] (the timetable columns the
//! loops read), [`rounds`] (the round loop and its queue), [`scan`] (one pattern's scan:
//! alighting, boarding the next trip), [`walking`] (the walks after a round),
//! [`rule_boarding`] (boarding where transfers.txt rules name trips), [`reconstruct`]
//! (journeys from the labels). The walking links they read are
//! [`super::walk_links`], built once per snapshot with the rest of the [`super::network`].

pub(crate) mod day_cache;
pub(crate) mod day_tables;
pub(crate) mod labels;
pub(crate) mod live_tables;
pub(crate) mod reconstruct;
pub(crate) mod rounds;
mod rule_boarding;
mod scan;
mod view;
mod walking;

use norikae_timetable::StopIdx;

use self::day_tables::DayTrips;
use super::types::{Direction, SearchLimits, ServiceDays};

/// The per-query rules the core applies.
#[derive(Clone, Debug)]
pub(crate) struct Rules<'a> {
    pub direction: Direction,
    /// Maximum number of vehicles (transfers + 1).
    pub max_trips: usize,
    /// Extra time at every transfer, on top of the stop's own minimum.
    pub slack_secs: u32,
    /// Longest walking link allowed.
    pub max_walk_m: u32,
    pub wheelchair: bool,
    /// Walk every link, none left out as needless (see `engine::walk_pruning`, whose
    /// reasoning reads the timetable's times: a realtime overlay may break it).
    pub every_walk_link: bool,
    /// Patterns a journey may ride (`None`: all).
    pub allowed_patterns: Option<&'a [bool]>,
    pub days: ServiceDays,
    /// The trips running on each slot's service day, per pattern.
    pub day_trips: [Option<&'a DayTrips>; 3],
    /// Several iterations over the same labels (a range query): remember the trips ridden,
    /// so that a later iteration does not ride one again for nothing (see [`labels::Ride`]).
    pub remember_rides: bool,
    /// The caller's bounds on the search: past the deadline the rounds stop.
    pub limits: SearchLimits,
}

/// A seed of an iteration: the traveller can be at `stop` at `key` (already in key space).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Seed {
    pub stop: StopIdx,
    pub key: u32,
}
