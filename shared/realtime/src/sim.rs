//! A GTFS-Realtime producer for tests and demos (no outside feed is reachable everywhere):
//! from a timetable, the TripUpdates of one feed's trips running around a time, a share of
//! them late by random delays (seeded, so a seed gives the same feed), one trip cancelled,
//! and a ServiceAlert about that trip's route in Japanese and English.

use chrono::NaiveDate;
use norikae_timetable::{Timetable, TripIdx};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::overlay::format_hms;
use crate::proto::trip_update::{StopTimeEvent, StopTimeUpdate};
use crate::proto::{
    Alert, EntitySelector, FeedEntity, FeedHeader, FeedMessage, Position, TimeRange,
    TranslatedString, TripDescriptor, TripUpdate, VehicleDescriptor, VehiclePosition,
    translated_string::Translation,
};

/// What to simulate.
#[derive(Clone, Debug)]
pub struct SimOptions {
    pub seed: u64,
    /// Service date of the trips.
    pub date: NaiveDate,
    /// Trips running (between first departure and last arrival) at any time of this window,
    /// seconds of the service day, get an update.
    pub from_secs: u32,
    pub to_secs: u32,
    /// Share of those trips that are late (0..=1).
    pub delayed_share: f64,
    /// Largest delay, seconds.
    pub max_delay_secs: u32,
    /// How the late trips' delays are drawn.
    pub delays: Delays,
    /// Cancel one trip and publish an alert about it.
    pub cancel_one: bool,
    /// Header timestamp (POSIX seconds).
    pub now: i64,
}

/// How a late trip's delay is drawn (at most [`SimOptions::max_delay_secs`] either way).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Delays {
    /// Uniformly from one minute to the largest delay: every trip late by its own few
    /// minutes, a network in disarray (a stress test: the headways scramble).
    #[default]
    Uniform,
    /// Exponentially with this mean, seconds: most trips a minute or two late, a few much
    /// more, as on a working day. With a mean of 150 s, 13.5 % of the trips are more than
    /// five minutes late from some stop on, of the order of the share of subway trips the
    /// MTA reports reaching their terminal five minutes late or more.
    Exponential { mean_secs: u32 },
}

impl Delays {
    /// A delay, seconds.
    fn draw(self, rng: &mut StdRng, max_secs: u32) -> i32 {
        let max_secs = max_secs.max(60);
        let secs = match self {
            Self::Uniform => rng.random_range(60..=max_secs),
            Self::Exponential { mean_secs } => {
                // Inverse transform: 1 - u is in (0, 1], so its logarithm is finite.
                let u: f64 = rng.random();
                let secs = -f64::from(mean_secs) * (1.0 - u).ln();
                secs.round().min(f64::from(max_secs)) as u32
            }
        };
        secs as i32
    }
}

/// The trips of `feed` the options select, in timetable order.
pub fn running_trips(timetable: &Timetable, feed: &str, options: &SimOptions) -> Vec<TripIdx> {
    let Some(day) = timetable.day_index(options.date) else { return Vec::new() };
    let prefix = format!("{feed}:");
    (0..timetable.trips.len())
        .map(TripIdx::from)
        .filter(|&trip| {
            if !timetable.trips[trip.idx()].id.starts_with(&prefix)
                || !timetable.trip_runs(trip, day)
            {
                return false;
            }
            let times = timetable.stop_times_of_trip(trip);
            let (Some(first), Some(last)) = (times.first(), times.last()) else { return false };
            first.departure <= options.to_secs && last.arrival >= options.from_secs
        })
        .collect()
}

/// TripUpdates, VehiclePositions and the alert for `feed` (a full dataset).
pub fn feed_message(timetable: &Timetable, feed: &str, options: &SimOptions) -> FeedMessage {
    let mut rng = StdRng::seed_from_u64(options.seed);
    let trips = running_trips(timetable, feed, options);
    let cancelled =
        (options.cancel_one && !trips.is_empty()).then(|| trips[rng.random_range(0..trips.len())]);
    let start_date = options.date.format("%Y%m%d").to_string();
    let origin = timetable.service_day_start(options.date).timestamp();
    let mut entities = Vec::new();
    for &trip in &trips {
        let (trip_id, start_time) = feed_trip_id(&timetable.trips[trip.idx()].id, feed);
        let descriptor = TripDescriptor {
            trip_id: Some(trip_id.to_owned()),
            start_date: Some(start_date.clone()),
            start_time: start_time.map(str::to_owned),
            schedule_relationship: Some(if Some(trip) == cancelled { 3 } else { 0 }),
            ..TripDescriptor::default()
        };
        let mut update = TripUpdate {
            trip: descriptor.clone(),
            timestamp: u64::try_from(options.now).ok(),
            ..TripUpdate::default()
        };
        let stops = timetable.pattern_stops(timetable.trips[trip.idx()].pattern);
        let times = timetable.stop_times_of_trip(trip);
        let late =
            Some(trip) != cancelled && rng.random_bool(options.delayed_share.clamp(0.0, 1.0));
        if late {
            // Late from a random stop on, a little made up two stops later: the delay holds
            // until the next update, as GTFS-Realtime says.
            let from = rng.random_range(0..stops.len());
            let delay = options.delays.draw(&mut rng, options.max_delay_secs);
            let stop_id = |position: usize| feed_stop_id(timetable, stops[position], feed);
            let event =
                |delay: i32| StopTimeEvent { delay: Some(delay), ..StopTimeEvent::default() };
            update.stop_time_update.push(StopTimeUpdate {
                stop_id: Some(stop_id(from)),
                arrival: Some(event(delay)),
                departure: Some(event(delay)),
                ..StopTimeUpdate::default()
            });
            if from + 2 < stops.len() {
                // Absolute times here, to exercise both forms. Part of the delay made up
                // between the next two stops, as a vehicle can: at most half of it, and at
                // most a fifth of their scheduled running time (no vehicle rides a stretch
                // in next to no time; a feed that says one does still routes right, on
                // weaker lower bounds).
                let running =
                    i64::from(times[from + 2].arrival) - i64::from(times[from + 1].departure);
                let made_up = (i64::from(delay) / 2).min(running.max(0) / 5);
                let remaining = i64::from(delay) - made_up;
                let at = |secs: u32| StopTimeEvent {
                    time: Some(origin + i64::from(secs) + remaining),
                    ..StopTimeEvent::default()
                };
                update.stop_time_update.push(StopTimeUpdate {
                    stop_id: Some(stop_id(from + 2)),
                    arrival: Some(at(times[from + 2].arrival)),
                    departure: Some(at(times[from + 2].departure)),
                    ..StopTimeUpdate::default()
                });
            }
        }
        if Some(trip) != cancelled && (late || rng.random_bool(0.2)) {
            let stop = &timetable.stops[stops[0].idx()];
            entities.push(FeedEntity {
                id: format!("vehicle-{trip_id}"),
                vehicle: Some(VehiclePosition {
                    trip: Some(descriptor),
                    vehicle: Some(VehicleDescriptor {
                        id: Some(format!("v{}", trip.0)),
                        ..VehicleDescriptor::default()
                    }),
                    position: Some(Position {
                        latitude: stop.lat as f32,
                        longitude: stop.lon as f32,
                        ..Position::default()
                    }),
                    timestamp: u64::try_from(options.now).ok(),
                    ..VehiclePosition::default()
                }),
                ..FeedEntity::default()
            });
        }
        if late || Some(trip) == cancelled {
            entities.push(FeedEntity {
                id: format!(
                    "trip-{trip_id}{}",
                    start_time.map(|time| format!("@{time}")).unwrap_or_default()
                ),
                trip_update: Some(update),
                ..FeedEntity::default()
            });
        }
    }
    if let Some(trip) = cancelled {
        entities.push(cancellation_alert(timetable, feed, trip, options));
    }
    FeedMessage {
        header: FeedHeader {
            gtfs_realtime_version: "2.0".to_owned(),
            incrementality: Some(0),
            timestamp: u64::try_from(options.now).ok(),
            feed_version: None,
        },
        entity: entities,
    }
}

/// The alert about a cancelled trip, in Japanese and English.
fn cancellation_alert(
    timetable: &Timetable,
    feed: &str,
    trip: TripIdx,
    options: &SimOptions,
) -> FeedEntity {
    let trip_data = &timetable.trips[trip.idx()];
    let route = &timetable.routes[trip_data.route.idx()];
    let route_name = if route.short_name.default.is_empty() {
        route.long_name.default.clone()
    } else {
        route.short_name.default.clone()
    };
    let departure = timetable.stop_times_of_trip(trip).first().map_or(0, |time| time.departure);
    let (trip_id, start_time) = feed_trip_id(&trip_data.id, feed);
    let text = |ja: String, en: String| TranslatedString {
        translation: vec![
            Translation { text: ja, language: Some("ja".to_owned()) },
            Translation { text: en, language: Some("en".to_owned()) },
        ],
    };
    let hhmm = &format_hms(departure)[..5];
    FeedEntity {
        id: format!("alert-cancelled-{trip_id}"),
        alert: Some(Alert {
            // From an hour before the feed's time to three hours after it.
            active_period: vec![TimeRange {
                start: u64::try_from(options.now - 3600).ok(),
                end: u64::try_from(options.now + 3 * 3600).ok(),
            }],
            informed_entity: vec![EntitySelector {
                route_id: Some(
                    route.id.strip_prefix(&format!("{feed}:")).unwrap_or(&route.id).to_owned(),
                ),
                trip: Some(TripDescriptor {
                    trip_id: Some(trip_id.to_owned()),
                    start_time: start_time.map(str::to_owned),
                    ..TripDescriptor::default()
                }),
                ..EntitySelector::default()
            }],
            cause: Some(3),  // TECHNICAL_PROBLEM
            effect: Some(1), // NO_SERVICE
            header_text: Some(text(
                format!("{route_name} {hhmm}発の便は運休します"),
                format!("{route_name}: the {hhmm} departure is cancelled"),
            )),
            description_text: Some(text(
                "車両故障のため運休します。ご迷惑をおかけします。".to_owned(),
                "Cancelled because of a vehicle fault. We apologise for the inconvenience."
                    .to_owned(),
            )),
            severity_level: Some(3), // WARNING
            ..Alert::default()
        }),
        ..FeedEntity::default()
    }
}

/// The feed's own id of a stop: a stop several feeds share has the first feed's id and the
/// others' as aliases; feeds sharing one namespace may use another feed's stop as it is.
fn feed_stop_id(timetable: &Timetable, stop: norikae_timetable::StopIdx, feed: &str) -> String {
    let data = &timetable.stops[stop.idx()];
    let prefix = format!("{feed}:");
    std::iter::once(&data.id)
        .chain(&data.aliases)
        .find_map(|id| id.strip_prefix(&prefix))
        // A stop the importer filed under another feed's id (a shared namespace).
        .unwrap_or_else(|| data.id.split_once(':').map_or(data.id.as_str(), |(_, local)| local))
        .to_owned()
}

/// The feed's own trip id of a timetable trip, and its start time for a frequency-based
/// trip (`FEED:trip@HH:MM:SS`).
pub fn feed_trip_id<'a>(id: &'a str, feed: &str) -> (&'a str, Option<&'a str>) {
    let local = id.strip_prefix(feed).and_then(|rest| rest.strip_prefix(':')).unwrap_or(id);
    match local.rsplit_once('@') {
        Some((trip, start)) if crate::overlay::parse_hms(start).is_some() => (trip, Some(start)),
        _ => (local, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_are_drawn_from_their_distribution_within_the_largest() {
        let mut rng = StdRng::seed_from_u64(3);
        let draws = 20_000;
        let exponential: Vec<i32> = (0..draws)
            .map(|_| Delays::Exponential { mean_secs: 150 }.draw(&mut rng, 900))
            .collect();
        assert!(exponential.iter().all(|&secs| (0..=900).contains(&secs)));
        let mean = exponential.iter().map(|&secs| f64::from(secs)).sum::<f64>() / draws as f64;
        // The cap at 900 s (6 means) takes off 150 * e^-6 ≈ 0.4 s of the mean.
        assert!((mean - 150.0).abs() < 5.0, "mean {mean}");
        let late = exponential.iter().filter(|&&secs| secs > 300).count() as f64 / draws as f64;
        assert!((late - (-2.0f64).exp()).abs() < 0.01, "share over five minutes {late}");
        let uniform: Vec<i32> = (0..draws).map(|_| Delays::Uniform.draw(&mut rng, 900)).collect();
        assert!(uniform.iter().all(|&secs| (60..=900).contains(&secs)));
        let mean = uniform.iter().map(|&secs| f64::from(secs)).sum::<f64>() / draws as f64;
        assert!((mean - 480.0).abs() < 10.0, "mean {mean}");
    }
}
