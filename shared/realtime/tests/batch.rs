//! Applying several sources' messages as one batch (a poll round): the same overlay as
//! applying them one after the other, and a bad message refused alone.

use std::sync::{Arc, OnceLock};

use chrono::NaiveDate;
use norikae_realtime::sim::{self, SimOptions};
use norikae_realtime::{Error, Message, Overlay, Realtime, TripKey, TripRealtime};
use norikae_timetable::{Timetable, bundled};
use prost::Message as _;

fn timetable() -> &'static Timetable {
    static TIMETABLE: OnceLock<Timetable> = OnceLock::new();
    TIMETABLE.get_or_init(|| {
        bundled::import_feeds(&bundled::repo_feeds_dir()).expect("the bundled feeds import")
    })
}

/// The Okayama feeds' simulated messages of 2025-06-04 (a cancellation each), and when.
fn okayama_messages() -> (Vec<(&'static str, Vec<u8>)>, i64) {
    let tt = timetable();
    let date = NaiveDate::from_ymd_opt(2025, 6, 4).expect("a date");
    let now = tt.service_day_start(date).timestamp() + 12 * 3600;
    let options = SimOptions {
        seed: 3,
        date,
        from_secs: 8 * 3600,
        to_secs: 16 * 3600,
        delayed_share: 0.7,
        max_delay_secs: 900,
        delays: norikae_realtime::sim::Delays::Uniform,
        cancel_one: true,
        now,
    };
    let messages = ["ryobi", "okaden", "chutetsu"]
        .into_iter()
        .map(|feed| (feed, sim::feed_message(tt, feed, &options).encode_to_vec()))
        .collect();
    (messages, now)
}

fn sorted_trips(overlay: &Overlay) -> Vec<(TripKey, TripRealtime)> {
    let mut trips: Vec<(TripKey, TripRealtime)> =
        overlay.trips().map(|(key, trip)| (*key, trip.clone())).collect();
    trips.sort_by_key(|(key, _)| *key);
    trips
}

#[test]
fn a_batch_gives_the_overlay_of_one_message_after_another_and_refuses_a_bad_one_alone() {
    let tt = timetable();
    let (messages, now) = okayama_messages();
    let one_by_one = Realtime::new(norikae_realtime::DEFAULT_MAX_BYTES, 600);
    for (feed, bytes) in &messages {
        one_by_one.apply(feed, feed, bytes, tt, now).expect("a simulated message applies");
    }

    let batched = Realtime::new(norikae_realtime::DEFAULT_MAX_BYTES, 600);
    let junk = [0x0a, 0xff, 0xff];
    let batch = [
        Message { source: "ryobi", feed: "ryobi", bytes: &messages[0].1 },
        Message { source: "junk", feed: "ryobi", bytes: &junk },
        Message { source: "okaden", feed: "okaden", bytes: &messages[1].1 },
        Message { source: "atlantis", feed: "atlantis", bytes: &messages[2].1 },
        Message { source: "chutetsu", feed: "chutetsu", bytes: &messages[2].1 },
    ];
    let results = batched.apply_batch(&batch, tt, now);
    assert_eq!(results.len(), batch.len(), "one answer per message");
    assert!(matches!(results[1], Err(Error::Malformed(_))), "{:?}", results[1]);
    assert!(matches!(results[3], Err(Error::UnknownFeed { .. })), "{:?}", results[3]);
    for index in [0, 2, 4] {
        let report = results[index].as_ref().expect("the good messages apply");
        assert!(report.upserted > 0, "message {index}: {report:?}");
    }
    let counters = &batched.counters;
    let count =
        |counter: &std::sync::atomic::AtomicU64| counter.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(count(&counters.messages_applied), 3);
    assert_eq!(count(&counters.messages_malformed), 1);
    assert_eq!(count(&counters.messages_unknown_feed), 1);

    let (sequential, together) = (one_by_one.overlay(), batched.overlay());
    assert_eq!(together.stats, sequential.stats);
    assert!(sequential.stats.trips_updated > 0 && sequential.stats.trips_cancelled == 3);
    assert_eq!(sorted_trips(&together), sorted_trips(&sequential), "the same trips and times");
    assert_eq!(together.alerts.len(), sequential.alerts.len());
    let sources: Vec<String> = batched.sources().into_iter().map(|source| source.source).collect();
    assert_eq!(sources, ["chutetsu", "okaden", "ryobi"], "refused messages leave no source");

    // A batch refused whole keeps the overlay as it was.
    let results = batched.apply_batch(
        &[Message { source: "junk", feed: "ryobi", bytes: &junk }],
        tt,
        now + 1,
    );
    assert!(matches!(results[..], [Err(Error::Malformed(_))]));
    assert!(Arc::ptr_eq(&batched.overlay(), &together), "the last good overlay stays");
}

#[test]
fn a_source_twice_in_one_batch_ends_with_its_later_message() {
    let tt = timetable();
    let (messages, now) = okayama_messages();
    let realtime = Realtime::new(norikae_realtime::DEFAULT_MAX_BYTES, 600);
    // The same source sends okaden's message, then ryobi's full dataset replacing it.
    let results = realtime.apply_batch(
        &[
            Message { source: "s", feed: "okaden", bytes: &messages[1].1 },
            Message { source: "s", feed: "ryobi", bytes: &messages[0].1 },
        ],
        tt,
        now,
    );
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let only_ryobi = Realtime::new(norikae_realtime::DEFAULT_MAX_BYTES, 600);
    only_ryobi.apply("s", "ryobi", &messages[0].1, tt, now).expect("applies");
    assert_eq!(sorted_trips(&realtime.overlay()), sorted_trips(&only_ryobi.overlay()));
}
