//! The overlay on the bundled feeds: matching, propagation, cancellations, bad input, the
//! sources' full and differential messages, expiry, and the simulator.

use std::sync::OnceLock;

use chrono::NaiveDate;
use norikae_realtime::proto::trip_update::{StopTimeEvent, StopTimeUpdate};
use norikae_realtime::proto::{FeedEntity, FeedHeader, FeedMessage, TripDescriptor, TripUpdate};
use norikae_realtime::sim::{self, SimOptions};
use norikae_realtime::{Error, Realtime, TripKey};
use norikae_timetable::{Timetable, TripIdx, bundled};
use prost::Message;

fn timetable() -> &'static Timetable {
    static TIMETABLE: OnceLock<Timetable> = OnceLock::new();
    TIMETABLE.get_or_init(|| {
        bundled::import_feeds(&bundled::repo_feeds_dir()).expect("the bundled feeds import")
    })
}

fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2019, 6, 5).expect("a date")
}

/// 2019-06-05 10:00 in Japan, POSIX seconds.
fn now() -> i64 {
    timetable().service_day_start(date()).timestamp() + 10 * 3600
}

/// A Fukuoka subway trip running on the test date with at least `stops` stops.
fn fukuoka_trip(stops: usize) -> (TripIdx, u32) {
    let tt = timetable();
    let day = tt.day_index(date()).expect("the date is in the timetable");
    let trip = (0..tt.trips.len())
        .map(TripIdx::from)
        .find(|&trip| {
            tt.trips[trip.idx()].id.starts_with("fukuoka:")
                && tt.trip_runs(trip, day)
                && tt.stop_times_of_trip(trip).len() >= stops
        })
        .expect("a Fukuoka trip runs that day");
    (trip, day)
}

fn local_id(id: &str) -> String {
    id.split_once(':').map_or(id, |(_, local)| local).to_owned()
}

fn stop_id(trip: TripIdx, position: usize) -> String {
    let tt = timetable();
    let stop = tt.pattern_stops(tt.trips[trip.idx()].pattern)[position];
    local_id(&tt.stops[stop.idx()].id)
}

fn delay_event(delay: i32) -> Option<StopTimeEvent> {
    Some(StopTimeEvent { delay: Some(delay), ..StopTimeEvent::default() })
}

fn update(trip: TripIdx, relationship: i32, updates: Vec<StopTimeUpdate>) -> FeedEntity {
    let tt = timetable();
    FeedEntity {
        id: format!("e-{}", trip.0),
        trip_update: Some(TripUpdate {
            trip: TripDescriptor {
                trip_id: Some(local_id(&tt.trips[trip.idx()].id)),
                start_date: Some("20190605".to_owned()),
                schedule_relationship: Some(relationship),
                ..TripDescriptor::default()
            },
            stop_time_update: updates,
            ..TripUpdate::default()
        }),
        ..FeedEntity::default()
    }
}

fn message(incremental: bool, entities: Vec<FeedEntity>) -> Vec<u8> {
    FeedMessage {
        header: FeedHeader {
            gtfs_realtime_version: "2.0".to_owned(),
            incrementality: Some(i32::from(incremental)),
            timestamp: u64::try_from(now()).ok(),
            feed_version: None,
        },
        entity: entities,
    }
    .encode_to_vec()
}

fn realtime() -> Realtime {
    Realtime::new(norikae_realtime::DEFAULT_MAX_BYTES, 600)
}

#[test]
fn a_delay_holds_downstream_until_the_next_update_and_never_runs_backwards() {
    let tt = timetable();
    let (trip, day) = fukuoka_trip(6);
    let scheduled = tt.stop_times_of_trip(trip).to_vec();
    let realtime = realtime();
    let origin = tt.service_day_start(date()).timestamp();
    let updates = vec![
        StopTimeUpdate {
            stop_id: Some(stop_id(trip, 1)),
            arrival: delay_event(300),
            departure: delay_event(360),
            ..StopTimeUpdate::default()
        },
        // Position 4 "arrives" before position 3 departs (by the propagated delay): raised.
        StopTimeUpdate {
            stop_id: Some(stop_id(trip, 4)),
            arrival: Some(StopTimeEvent {
                time: Some(origin + i64::from(scheduled[3].departure)),
                ..StopTimeEvent::default()
            }),
            ..StopTimeUpdate::default()
        },
    ];
    let report = realtime
        .apply("test", "fukuoka", &message(false, vec![update(trip, 0, updates)]), tt, now())
        .expect("applied");
    assert_eq!(report.stats.trips_updated, 1);
    let overlay = realtime.overlay();
    assert!(overlay.fits(tt));
    let expected = overlay.trip(trip, day).expect("the trip has realtime data");
    assert_eq!(expected.stops[0].departure, scheduled[0].departure, "before the first update");
    assert!(!expected.stops[0].predicted());
    assert_eq!(expected.stops[1].arrival, scheduled[1].arrival + 300);
    assert_eq!(expected.stops[1].departure, scheduled[1].departure + 360);
    assert_eq!(expected.stops[2].arrival, scheduled[2].arrival + 360, "the delay holds");
    assert_eq!(expected.stops[3].departure, scheduled[3].departure + 360);
    assert_eq!(expected.departure_delay(&scheduled, 3), Some(360));
    // Position 4's given arrival is earlier than position 3's expected departure: raised.
    assert_eq!(expected.stops[4].arrival, scheduled[3].departure + 360);
    assert!(report.stats.times_clamped >= 1, "{:?}", report.stats);
    for pair in expected.stops.windows(2) {
        assert!(pair[0].departure <= pair[1].arrival, "times never run backwards");
    }
}

#[test]
fn cancelled_skipped_and_unknown_are_told_apart() {
    let tt = timetable();
    let (trip, day) = fukuoka_trip(4);
    let realtime = realtime();
    let skipped = StopTimeUpdate {
        stop_id: Some(stop_id(trip, 2)),
        schedule_relationship: Some(1),
        ..StopTimeUpdate::default()
    };
    let unknown_stop = StopTimeUpdate {
        stop_id: Some("no-such-stop".to_owned()),
        arrival: delay_event(60),
        ..StopTimeUpdate::default()
    };
    let mut unknown_trip = update(trip, 0, Vec::new());
    if let Some(update) = unknown_trip.trip_update.as_mut() {
        update.trip.trip_id = Some("no-such-trip".to_owned());
    }
    unknown_trip.id = "unknown".to_owned();
    let mut wrong_day = update(trip, 0, Vec::new());
    if let Some(update) = wrong_day.trip_update.as_mut() {
        update.trip.start_date = Some("20000101".to_owned());
    }
    wrong_day.id = "wrong-day".to_owned();
    let other = fukuoka_trip_other(trip);
    let entities = vec![
        update(trip, 0, vec![skipped, unknown_stop]),
        update(other.0, 3, Vec::new()),
        unknown_trip,
        wrong_day,
    ];
    let report =
        realtime.apply("test", "fukuoka", &message(false, entities), tt, now()).expect("applied");
    assert_eq!(report.stats.unknown_trips, 2, "{:?}", report.stats);
    assert_eq!(report.stats.unknown_stops, 1);
    assert_eq!(report.stats.skipped_stops, 1);
    assert_eq!(report.stats.trips_cancelled, 1);
    let overlay = realtime.overlay();
    assert!(overlay.trip(trip, day).expect("updated").stops[2].skipped());
    assert!(overlay.is_cancelled(other.0, other.1));
    assert!(!overlay.is_cancelled(trip, day));
    assert!(!overlay.is_cancelled(other.0, other.1 + 1), "only that day's run");
}

fn fukuoka_trip_other(not: TripIdx) -> (TripIdx, u32) {
    let tt = timetable();
    let day = tt.day_index(date()).expect("in range");
    let trip = (0..tt.trips.len())
        .map(TripIdx::from)
        .find(|&trip| {
            trip != not
                && tt.trips[trip.idx()].id.starts_with("fukuoka:")
                && tt.trip_runs(trip, day)
        })
        .expect("another trip");
    (trip, day)
}

#[test]
fn a_descriptor_without_trip_id_matches_by_route_direction_and_start_time() {
    let tt = timetable();
    let (trip, day) = fukuoka_trip(3);
    let data = &tt.trips[trip.idx()];
    let first = tt.stop_times_of_trip(trip)[0].departure;
    let entity = FeedEntity {
        id: "by-route".to_owned(),
        trip_update: Some(TripUpdate {
            trip: TripDescriptor {
                route_id: Some(local_id(&tt.routes[data.route.idx()].id)),
                direction_id: data.direction_id.map(u32::from),
                start_time: Some(format!(
                    "{:02}:{:02}:{:02}",
                    first / 3600,
                    first / 60 % 60,
                    first % 60
                )),
                start_date: Some("20190605".to_owned()),
                ..TripDescriptor::default()
            },
            delay: Some(120),
            ..TripUpdate::default()
        }),
        ..FeedEntity::default()
    };
    let realtime = realtime();
    realtime.apply("test", "fukuoka", &message(false, vec![entity]), tt, now()).expect("applied");
    let overlay = realtime.overlay();
    let found: Vec<TripKey> = overlay.trips().map(|(key, _)| *key).collect();
    assert_eq!(found.len(), 1);
    let matched = found[0];
    assert_eq!(matched.day, day);
    assert_eq!(tt.stop_times_of_trip(matched.trip)[0].departure, first);
    assert_eq!(tt.trips[matched.trip.idx()].route, data.route);
    let realtime_trip = overlay.trip(matched.trip, day).expect("matched");
    assert_eq!(realtime_trip.stops[0].departure, first + 120, "the trip-level delay applies");
}

#[test]
fn a_platform_change_is_matched_within_the_station() {
    let tt = timetable();
    let day = tt.day_index(date()).expect("in range");
    // A trip stopping at a stop whose station has another stop.
    let (trip, position, other) = (0..tt.trips.len())
        .map(TripIdx::from)
        .filter(|&trip| tt.trip_runs(trip, day))
        .find_map(|trip| {
            let stops = tt.pattern_stops(tt.trips[trip.idx()].pattern);
            stops.iter().enumerate().find_map(|(position, stop)| {
                let station = &tt.stations[tt.stops[stop.idx()].station.idx()];
                let feed = tt.trips[trip.idx()].id.split(':').next().unwrap_or_default();
                let other = station.stops.iter().find(|&&member| {
                    let local = local_id(&tt.stops[member.idx()].id);
                    member != *stop
                        && !stops.contains(&member)
                        && tt.stop_by_id(&format!("{feed}:{local}")) == Some(member)
                })?;
                Some((trip, position, *other))
            })
        })
        .expect("the bundled feeds have stations of several stops");
    let feed = tt.trips[trip.idx()].id.split(':').next().expect("namespaced").to_owned();
    let moved = StopTimeUpdate {
        stop_id: Some(local_id(&tt.stops[other.idx()].id)),
        arrival: delay_event(0),
        departure: delay_event(0),
        ..StopTimeUpdate::default()
    };
    let mut entity = update(trip, 0, vec![moved]);
    if let Some(update) = entity.trip_update.as_mut() {
        update.trip.trip_id = Some(local_id(&tt.trips[trip.idx()].id));
    }
    let realtime = realtime();
    let report =
        realtime.apply("test", &feed, &message(false, vec![entity]), tt, now()).expect("applied");
    assert_eq!(report.stats.platform_changes, 1, "{:?}", report.stats);
    let overlay = realtime.overlay();
    assert_eq!(overlay.trip(trip, day).expect("updated").assigned_stop(position), Some(other));
}

#[test]
fn bad_messages_keep_the_last_good_overlay() {
    let tt = timetable();
    let (trip, day) = fukuoka_trip(3);
    let realtime = Realtime::new(64 * 1024, 600);
    let good = message(false, vec![update(trip, 3, Vec::new())]);
    realtime.apply("test", "fukuoka", &good, tt, now()).expect("applied");
    assert!(realtime.overlay().is_cancelled(trip, day));

    let malformed = realtime.apply("test", "fukuoka", &[0x0a, 0xff, 0xff, 0xff, 0xff], tt, now());
    assert!(matches!(malformed, Err(Error::Malformed(_))), "{malformed:?}");
    let oversized = realtime.apply("test", "fukuoka", &vec![0u8; 64 * 1024 + 1], tt, now());
    assert!(matches!(oversized, Err(Error::TooLarge { .. })), "{oversized:?}");
    let unknown = realtime.apply("test", "atlantis", &good, tt, now());
    assert!(matches!(unknown, Err(Error::UnknownFeed { .. })), "{unknown:?}");
    // Truncated in the middle of an entity.
    let truncated = realtime.apply("test", "fukuoka", &good[..good.len() - 3], tt, now());
    assert!(truncated.is_err(), "a truncated message is refused");

    assert!(realtime.overlay().is_cancelled(trip, day), "the last good overlay stays");
    let counters = &realtime.counters;
    use std::sync::atomic::Ordering::Relaxed;
    assert_eq!(counters.messages_malformed.load(Relaxed), 2);
    assert_eq!(counters.messages_too_large.load(Relaxed), 1);
    assert_eq!(counters.messages_unknown_feed.load(Relaxed), 1);
    assert_eq!(counters.messages_applied.load(Relaxed), 1);
}

#[test]
fn differential_messages_merge_and_stale_entities_expire() {
    let tt = timetable();
    let (first, day) = fukuoka_trip(3);
    let (second, _) = fukuoka_trip_other(first);
    let realtime = Realtime::new(norikae_realtime::DEFAULT_MAX_BYTES, 300);
    realtime
        .apply("diff", "fukuoka", &message(true, vec![update(first, 3, Vec::new())]), tt, now())
        .expect("applied");
    realtime
        .apply(
            "diff",
            "fukuoka",
            &message(true, vec![update(second, 3, Vec::new())]),
            tt,
            now() + 200,
        )
        .expect("applied");
    let overlay = realtime.overlay();
    assert!(overlay.is_cancelled(first, day) && overlay.is_cancelled(second, day));
    // A deletion removes one entity only.
    let mut deleted = update(first, 3, Vec::new());
    deleted.is_deleted = Some(true);
    realtime
        .apply("diff", "fukuoka", &message(true, vec![deleted]), tt, now() + 210)
        .expect("applied");
    assert!(!realtime.overlay().is_cancelled(first, day));
    assert!(realtime.overlay().is_cancelled(second, day));
    // 300 s after the second message's header time, its entity expires.
    realtime.refresh(tt, now() + 200 + 301);
    assert!(!realtime.overlay().is_cancelled(second, day));
    assert!(realtime.overlay().is_empty());
}

#[test]
fn the_simulator_speaks_each_feeds_own_ids() {
    let tt = timetable();
    let okayama = NaiveDate::from_ymd_opt(2025, 6, 4).expect("a date");
    let options = SimOptions {
        seed: 11,
        date: okayama,
        from_secs: 7 * 3600,
        to_secs: 19 * 3600,
        delayed_share: 1.0,
        max_delay_secs: 1200,
        delays: norikae_realtime::sim::Delays::Uniform,
        cancel_one: true,
        now: tt.service_day_start(okayama).timestamp() + 12 * 3600,
    };
    for feed in ["ryobi", "okaden", "chutetsu"] {
        let message = sim::feed_message(tt, feed, &options);
        let realtime = realtime();
        let report = realtime
            .apply("sim", feed, &message.encode_to_vec(), tt, options.now)
            .expect("applies");
        assert!(report.stats.trips_updated > 0, "{feed}: {:?}", report.stats);
        assert_eq!(report.stats.unknown_stops, 0, "{feed}: shared stops by the feed's own id");
        assert_eq!(report.stats.unknown_trips, 0, "{feed}");
        assert_eq!(report.stats.times_clamped, 0, "{feed}");
    }
}

#[test]
fn the_simulator_makes_a_feed_the_overlay_reads_back() {
    let tt = timetable();
    let options = SimOptions {
        seed: 7,
        date: date(),
        from_secs: 9 * 3600,
        to_secs: 11 * 3600,
        delayed_share: 0.5,
        max_delay_secs: 900,
        delays: norikae_realtime::sim::Delays::Uniform,
        cancel_one: true,
        now: now(),
    };
    let message = sim::feed_message(tt, "fukuoka", &options);
    assert_eq!(message, sim::feed_message(tt, "fukuoka", &options), "a seed gives one feed");
    let running = sim::running_trips(tt, "fukuoka", &options);
    assert!(running.len() > 20, "{} trips run then", running.len());
    let trip_updates = message.entity.iter().filter(|entity| entity.trip_update.is_some()).count();
    let realtime = realtime();
    let report = realtime
        .apply("sim", "fukuoka", &message.encode_to_vec(), tt, now())
        .expect("the simulated feed applies");
    assert_eq!(report.stats.trip_updates as usize, trip_updates);
    assert_eq!(report.stats.unknown_trips, 0);
    assert_eq!(report.stats.unknown_stops, 0);
    assert_eq!(report.stats.times_clamped, 0, "the simulator's times never run backwards");
    assert_eq!(report.stats.trips_cancelled, 1);
    assert!(report.stats.trips_updated as usize > running.len() / 4, "{:?}", report.stats);
    assert_eq!(report.stats.alerts, 1);
    let overlay = realtime.overlay();
    let alert = &overlay.alerts[0];
    assert_eq!(alert.header.len(), 2);
    assert!(alert.header_in("ja").is_some_and(|text| text.contains("運休")));
    assert!(alert.header_in("en-GB").is_some_and(|text| text.contains("cancelled")));
    assert!(alert.active_at(u64::try_from(now()).expect("positive")));
    assert_eq!(alert.route_ids.len(), 1);
    let late = overlay
        .trips()
        .filter(|(_, trip)| !trip.cancelled)
        .filter(|(key, trip)| {
            let scheduled = tt.stop_times_of_trip(key.trip);
            (0..scheduled.len())
                .any(|position| trip.departure_delay(scheduled, position) >= Some(60))
        })
        .count();
    assert_eq!(late as u64, report.stats.trips_updated, "every updated trip is late somewhere");
}

#[test]
fn each_source_keeps_its_part_when_another_one_changes() {
    let tt = timetable();
    let (first, day) = fukuoka_trip(3);
    let (second, _) = fukuoka_trip_other(first);
    let realtime = realtime();
    realtime
        .apply("a", "fukuoka", &message(false, vec![update(first, 3, Vec::new())]), tt, now())
        .expect("applied");
    let report = realtime
        .apply("b", "fukuoka", &message(false, vec![update(second, 3, Vec::new())]), tt, now())
        .expect("applied");
    assert_eq!(report.stats.trips_cancelled, 2, "both sources' parts: {:?}", report.stats);
    // Source a's next full dataset no longer cancels its trip; b's part stays as it was.
    let report = realtime
        .apply("a", "fukuoka", &message(false, Vec::new()), tt, now() + 10)
        .expect("applied");
    assert_eq!(report.stats.trips_cancelled, 1);
    let overlay = realtime.overlay();
    assert!(!overlay.is_cancelled(first, day));
    assert!(overlay.is_cancelled(second, day));
    assert_eq!(realtime.sources().len(), 2);
}

#[test]
fn an_added_trip_on_a_patterns_stops_runs_as_that_pattern_and_another_is_counted() {
    let tt = timetable();
    let (trip, day) = fukuoka_trip(4);
    let pattern = tt.trips[trip.idx()].pattern;
    let stops = tt.pattern_stops(pattern);
    let scheduled = tt.stop_times_of_trip(trip);
    let origin = tt.service_day_start(date()).timestamp();
    let at = |secs: u32| {
        Some(StopTimeEvent {
            time: Some(origin + i64::from(secs) + 120),
            ..StopTimeEvent::default()
        })
    };
    let stop_updates = |positions: &[usize]| {
        positions
            .iter()
            .map(|&position| StopTimeUpdate {
                stop_id: Some(stop_id(trip, position)),
                arrival: at(scheduled[position].arrival),
                departure: at(scheduled[position].departure),
                ..StopTimeUpdate::default()
            })
            .collect::<Vec<_>>()
    };
    let added = |id: &str, positions: &[usize]| FeedEntity {
        id: id.to_owned(),
        trip_update: Some(TripUpdate {
            trip: TripDescriptor {
                trip_id: Some(id.to_owned()),
                start_date: Some("20190605".to_owned()),
                schedule_relationship: Some(1),
                ..TripDescriptor::default()
            },
            stop_time_update: stop_updates(positions),
            ..TripUpdate::default()
        }),
        ..FeedEntity::default()
    };
    let every_stop: Vec<usize> = (0..stops.len()).collect();
    // Every stop but the second: no pattern of the timetable has that sequence.
    let short: Vec<usize> = every_stop.iter().copied().filter(|&position| position != 1).collect();
    let realtime = realtime();
    let report = realtime
        .apply(
            "a",
            "fukuoka",
            &message(false, vec![added("extra-1", &every_stop), added("extra-2", &short)]),
            tt,
            now(),
        )
        .expect("applied");
    assert_eq!(report.stats.trips_added, 2, "{:?}", report.stats);
    assert_eq!(report.stats.added_unsearched, 1, "{:?}", report.stats);
    let overlay = realtime.overlay();
    let found = |id: &str| {
        overlay.added.iter().find(|added| added.id == id).expect("the added trip is kept")
    };
    let on_pattern = found("fukuoka:extra-1");
    assert_eq!(on_pattern.day, day);
    assert_eq!(on_pattern.pattern, Some(pattern), "the stops are exactly the pattern's");
    assert_eq!(on_pattern.times[0].departure, scheduled[0].departure + 120);
    assert_eq!(found("fukuoka:extra-2").pattern, None);
}
