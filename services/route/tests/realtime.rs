//! GTFS-Realtime in the route service, over HTTP: pushed and polled messages, bad input
//! refused and counted, journeys re-checked against a delay and a cancellation that came
//! after they were found, departure boards with expected times, `/status` and `/metrics`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use norikae_realtime::proto::trip_update::{StopTimeEvent, StopTimeUpdate};
use norikae_realtime::proto::{FeedEntity, FeedHeader, FeedMessage, TripDescriptor, TripUpdate};
use norikae_route::realtime::{RealtimeFeed, RealtimeFeeds, RealtimeSettings};
use norikae_route::{Config, TimetableSettings};
use norikae_wire::route as wire;
use prost::Message;
use serde_json::Value;

const TOKEN: &str = "test-push-token-0123456789";

struct Service {
    base: String,
    client: reqwest::Client,
    _directory: tempfile::TempDir,
}

impl Service {
    async fn start(realtime: RealtimeSettings) -> Self {
        let directory = tempfile::tempdir().expect("temp dir");
        let snapshot = directory.path().join("timetable.snapshot");
        norikae_timetable::snapshot::write(&common::timetable(), &snapshot).expect("snapshot");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        let port = listener.local_addr().expect("address").port();
        let config = Config {
            http: norikae_runtime::HttpSettings::for_port(port),
            timetable: TimetableSettings { snapshot, reload_interval_secs: 1 },
            realtime,
            ..Config::default()
        };
        tokio::spawn(norikae_route::run(config, listener, std::future::pending()));
        let service = Self {
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            _directory: directory,
        };
        for _ in 0..600 {
            let ready = service.client.get(format!("{}/health/ready", service.base)).send().await;
            if ready.is_ok_and(|response| response.status() == 200) {
                return service;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("not ready within 60 s");
    }

    async fn get(&self, path: &str) -> Value {
        let response =
            self.client.get(format!("{}{path}", self.base)).send().await.expect("request");
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.expect("json")
    }

    async fn push(&self, feed: &str, token: Option<&str>, body: Vec<u8>) -> (u16, Value) {
        let mut request = self.client.post(format!("{}/realtime/{feed}", self.base)).body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

fn message(entities: Vec<FeedEntity>) -> Vec<u8> {
    FeedMessage {
        header: FeedHeader {
            gtfs_realtime_version: "2.0".to_owned(),
            incrementality: Some(0),
            timestamp: u64::try_from(chrono::Utc::now().timestamp()).ok(),
            feed_version: None,
        },
        entity: entities,
    }
    .encode_to_vec()
}

fn trip_update(trip_id: &str, relationship: i32, updates: Vec<StopTimeUpdate>) -> FeedEntity {
    FeedEntity {
        id: format!("tu-{trip_id}"),
        trip_update: Some(TripUpdate {
            trip: TripDescriptor {
                trip_id: Some(trip_id.to_owned()),
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

fn local(id: &str) -> &str {
    id.split_once(':').map_or(id, |(_, local)| local)
}

fn first_ride(page: &wire::JourneysResponse) -> wire::TransitLeg {
    let ride = page.journeys[0].legs.iter().find_map(|leg| match leg {
        wire::Leg::Transit(ride) => Some(ride.clone()),
        wire::Leg::Walk(_) => None,
    });
    ride.expect("the first journey rides")
}

fn seconds_between(from: &str, to: &str) -> i64 {
    let parse = |text: &str| chrono::DateTime::parse_from_rfc3339(text).expect("rfc 3339");
    (parse(to) - parse(from)).num_seconds()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_delays_and_cancellations_recheck_journeys_and_boards() {
    let service = Service::start(RealtimeSettings {
        push_token: Some(TOKEN.to_owned()),
        ..RealtimeSettings::default()
    })
    .await;
    let journeys = "/journeys?from=fukuoka:1&to=fukuoka:11&date=2019-06-05&time=08:00&window=0";
    let before: wire::JourneysResponse =
        serde_json::from_value(service.get(journeys).await).expect("journeys");
    let ride = first_ride(&before);
    assert_eq!(ride.realtime, None, "no realtime data yet");

    // Refused: no token, a wrong one, an unknown feed, a body that is not GTFS-RT.
    let delay = vec![trip_update(
        local(&ride.trip_id),
        0,
        vec![StopTimeUpdate {
            stop_id: Some(local(&ride.from.id).to_owned()),
            arrival: Some(StopTimeEvent { delay: Some(240), ..StopTimeEvent::default() }),
            departure: Some(StopTimeEvent { delay: Some(240), ..StopTimeEvent::default() }),
            ..StopTimeUpdate::default()
        }],
    )];
    assert_eq!(service.push("fukuoka", None, message(delay.clone())).await.0, 401);
    assert_eq!(
        service.push("fukuoka", Some("wrong-token-0123456789"), message(delay.clone())).await.0,
        401
    );
    let (status, problem) = service.push("atlantis", Some(TOKEN), message(delay.clone())).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (404, Some("realtime_unknown_feed")),
        "{problem}"
    );
    let (status, problem) = service.push("fukuoka", Some(TOKEN), vec![0x0a, 0xff, 0xff]).await;
    assert_eq!((status, problem["code"].as_str()), (400, Some("realtime_malformed")), "{problem}");

    // A delay of 4 minutes from the boarding stop on.
    let (status, answer) = service.push("fukuoka", Some(TOKEN), message(delay)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["trips_updated"], 1, "{answer}");
    let after: wire::JourneysResponse =
        serde_json::from_value(service.get(journeys).await).expect("journeys");
    // Searched on the expected times: the late trip is ridden 4 minutes later than planned,
    // with its realtime state, or something else is taken that arrives no later than it.
    let rechecked =
        after.journeys.iter().flat_map(|journey| &journey.legs).find_map(|leg| match leg {
            wire::Leg::Transit(found) if found.trip_id == ride.trip_id => Some(found.clone()),
            _ => None,
        });
    if let Some(rechecked) = rechecked {
        let live = rechecked.realtime.expect("its ride is checked against the delay");
        assert_eq!((live.departure_delay_secs, live.arrival_delay_secs), (240, 240));
        assert!(!live.cancelled);
        assert!(!live.added, "a timetabled trip running late");
        assert_eq!(rechecked.departure, live.expected_departure, "searched on the expected times");
        assert_eq!(rechecked.arrival, live.expected_arrival);
        assert_eq!(seconds_between(&ride.departure, &rechecked.departure), 240);
        assert_eq!(seconds_between(&ride.arrival, &rechecked.arrival), 240, "propagated");
    } else {
        let earliest = after
            .journeys
            .iter()
            .map(|journey| seconds_between(&before.journeys[0].arrival, &journey.arrival))
            .min()
            .expect("journeys after the delay");
        assert!(earliest >= 0, "nothing arrives earlier than planned after a delay");
        let rides =
            before.journeys[0].legs.iter().filter(|leg| matches!(leg, wire::Leg::Transit(_)));
        if rides.count() == 1 {
            assert!(earliest <= 240, "arrives {earliest} s after the plan");
        }
    }

    // The board at the boarding station shows the departure 4 minutes late.
    let board: wire::DeparturesResponse = serde_json::from_value(
        service.get("/stations/fukuoka:1/departures?date=2019-06-05&time=07:50&limit=50").await,
    )
    .expect("board");
    let departure = board
        .groups
        .iter()
        .flat_map(|group| &group.departures)
        .find(|departure| departure.trip_id == ride.trip_id)
        .expect("the delayed trip is on the board");
    let live = departure.realtime.as_ref().expect("with its realtime state");
    assert_eq!(live.delay_secs, 240);
    assert_eq!(seconds_between(&departure.departure, &live.expected), 240);

    // Cancelled (a full dataset replaces the delay).
    let cancel = vec![trip_update(local(&ride.trip_id), 3, Vec::new())];
    let (status, answer) = service.push("fukuoka", Some(TOKEN), message(cancel)).await;
    assert_eq!((status, &answer["trips_cancelled"]), (200, &Value::from(1)), "{answer}");
    let cancelled: wire::JourneysResponse =
        serde_json::from_value(service.get(journeys).await).expect("journeys");
    let rides_cancelled_trip = cancelled
        .journeys
        .iter()
        .flat_map(|journey| &journey.legs)
        .any(|leg| matches!(leg, wire::Leg::Transit(found) if found.trip_id == ride.trip_id));
    assert!(!rides_cancelled_trip, "the cancelled trip is not boarded");
    assert!(!cancelled.journeys.is_empty(), "another trip takes its place");
    assert!(
        cancelled.journeys[0].arrival >= before.journeys[0].arrival,
        "without the cancelled trip nothing arrives earlier"
    );

    let status: wire::StatusResponse =
        serde_json::from_value(service.get("/status").await).expect("status");
    let realtime = status.realtime;
    assert_eq!((realtime.messages_applied, realtime.messages_refused), (2, 2), "{realtime:?}");
    assert_eq!(realtime.trips_cancelled, 1);
    assert_eq!(realtime.sources.len(), 1);
    assert_eq!(realtime.sources[0].source, "push:fukuoka");
    let metrics = service
        .client
        .get(format!("{}/metrics", service.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains(r#"norikae_realtime_messages_total{outcome="applied"} 2"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"norikae_realtime_overlay{kind="trips_cancelled"} 1"#), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushing_is_refused_without_a_configured_token() {
    let service = Service::start(RealtimeSettings::default()).await;
    let (status, problem) = service.push("fukuoka", Some(TOKEN), message(Vec::new())).await;
    assert_eq!((status, problem["code"].as_str()), (403, Some("push_disabled")), "{problem}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_sources_are_polled_with_validators() {
    // A producer answering the simulated feed with an ETag, 304 to a matching If-None-Match.
    let body = simulated_fukuoka(3);
    let not_modified = Arc::new(AtomicUsize::new(0));
    let producer = {
        let not_modified = Arc::clone(&not_modified);
        axum::Router::new().route(
            "/fukuoka",
            axum::routing::get(move |headers: axum::http::HeaderMap| {
                let not_modified = Arc::clone(&not_modified);
                let body = body.clone();
                async move {
                    use axum::response::IntoResponse;
                    if headers.get("if-none-match").is_some_and(|etag| etag == "\"v1\"") {
                        not_modified.fetch_add(1, Ordering::SeqCst);
                        return axum::http::StatusCode::NOT_MODIFIED.into_response();
                    }
                    ([("etag", "\"v1\"")], body).into_response()
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let producer_port = listener.local_addr().expect("address").port();
    tokio::spawn(async move { axum::serve(listener, producer).await });

    let service = Service::start(RealtimeSettings {
        feeds: RealtimeFeeds(vec![RealtimeFeed {
            feed: "fukuoka".to_owned(),
            url: format!("http://127.0.0.1:{producer_port}/fukuoka"),
        }]),
        // Real time: the poller fetches from this producer over a real socket; the second
        // poll (the 304) comes one real tick on, the shortest the setting takes (seconds).
        poll_secs: 1,
        ..RealtimeSettings::default()
    })
    .await;
    for _ in 0..100 {
        let status: wire::StatusResponse =
            serde_json::from_value(service.get("/status").await).expect("status");
        if status.realtime.trips_cancelled == 1 && not_modified.load(Ordering::SeqCst) >= 1 {
            assert!(status.realtime.trips_updated > 0, "{:?}", status.realtime);
            assert_eq!(status.realtime.unknown_trips, 0);
            assert_eq!(status.realtime.alerts, 1);
            assert!(status.realtime.sources[0].entities > 0);
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the source was not polled and applied, then asked with its ETag");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_added_trip_on_a_patterns_stops_is_ridden_and_an_unmatched_one_counted() {
    let service = Service::start(RealtimeSettings {
        push_token: Some(TOKEN.to_owned()),
        ..RealtimeSettings::default()
    })
    .await;
    let journeys = "/journeys?from=fukuoka:1&to=fukuoka:11&date=2019-06-05&time=08:00&window=0";
    let before: wire::JourneysResponse =
        serde_json::from_value(service.get(journeys).await).expect("journeys");
    let ride = first_ride(&before);
    let rides = before.journeys[0].legs.iter().filter(|leg| matches!(leg, wire::Leg::Transit(_)));
    assert_eq!(rides.count(), 1, "one ride from 姪浜 to 博多");

    // A trip the feed adds on the ridden trip's stops: as it leaves the boarding stop, but
    // a minute earlier at every stop after it.
    let tt = common::timetable();
    let trip = tt.trip_by_id(&ride.trip_id).expect("the ridden trip is the timetable's");
    let stops = tt.pattern_stops(tt.trips[trip.idx()].pattern);
    let scheduled = tt.stop_times_of_trip(trip);
    let board = stops
        .iter()
        .position(|&stop| tt.stops[stop.idx()].id == ride.from.id)
        .expect("the ride boards at one of its stops");
    let origin = tt
        .service_day_start(chrono::NaiveDate::from_ymd_opt(2019, 6, 5).expect("date"))
        .timestamp();
    let faster = |position: usize, secs: u32| {
        let secs = if position > board {
            secs.saturating_sub(60).max(scheduled[board].departure)
        } else {
            secs
        };
        Some(StopTimeEvent { time: Some(origin + i64::from(secs)), ..StopTimeEvent::default() })
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
            stop_time_update: positions
                .iter()
                .map(|&position| StopTimeUpdate {
                    stop_id: Some(local(&tt.stops[stops[position].idx()].id).to_owned()),
                    arrival: faster(position, scheduled[position].arrival),
                    departure: faster(position, scheduled[position].departure),
                    ..StopTimeUpdate::default()
                })
                .collect(),
            ..TripUpdate::default()
        }),
        ..FeedEntity::default()
    };
    let every_stop: Vec<usize> = (0..stops.len()).collect();
    let detour: Vec<usize> = every_stop.iter().copied().filter(|&position| position != 1).collect();
    let (status, answer) = service
        .push(
            "fukuoka",
            Some(TOKEN),
            message(vec![added("extra-1", &every_stop), added("detour-1", &detour)]),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["trips_added"], 2, "{answer}");

    let after: wire::JourneysResponse =
        serde_json::from_value(service.get(journeys).await).expect("journeys");
    let earliest = after
        .journeys
        .iter()
        .min_by_key(|journey| seconds_between(&before.journeys[0].arrival, &journey.arrival))
        .expect("journeys with the added trip");
    assert_eq!(
        seconds_between(&before.journeys[0].arrival, &earliest.arrival),
        -60,
        "the added trip arrives a minute earlier"
    );
    let added_ride = earliest
        .legs
        .iter()
        .find_map(|leg| match leg {
            wire::Leg::Transit(found) => Some(found.clone()),
            wire::Leg::Walk(_) => None,
        })
        .expect("a ride");
    assert_eq!(added_ride.trip_id, "fukuoka:extra-1", "the leg names the feed's trip id");
    assert_eq!(added_ride.departure, ride.departure);
    let live = added_ride.realtime.expect("an added trip's leg is realtime");
    assert_eq!(live.expected_arrival, added_ride.arrival);
    assert!(live.added, "the leg says the feed added its trip");
    // The trip page knows only the timetable's trips.
    let response = service
        .client
        .get(format!("{}/trips/fukuoka:extra-1?date=2019-06-05", service.base))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 404);

    let status: wire::StatusResponse =
        serde_json::from_value(service.get("/status").await).expect("status");
    assert_eq!((status.realtime.trips_added, status.realtime.added_unsearched), (2, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polled_sources_apply_together_and_a_bad_one_is_refused_alone() {
    let body = simulated_fukuoka(5);
    let producer = axum::Router::new()
        .route("/fukuoka", axum::routing::get(move || async move { body.clone() }))
        .route("/junk", axum::routing::get(|| async { vec![0x0a_u8, 0xff, 0xff] }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let producer_port = listener.local_addr().expect("address").port();
    tokio::spawn(async move { axum::serve(listener, producer).await });

    let source = |path: &str| RealtimeFeed {
        feed: "fukuoka".to_owned(),
        url: format!("http://127.0.0.1:{producer_port}/{path}"),
    };
    let service = Service::start(RealtimeSettings {
        feeds: RealtimeFeeds(vec![source("fukuoka"), source("junk")]),
        // Real time: the poller fetches from this producer over a real socket.
        poll_secs: 1,
        ..RealtimeSettings::default()
    })
    .await;
    for _ in 0..100 {
        let status: wire::StatusResponse =
            serde_json::from_value(service.get("/status").await).expect("status");
        let realtime = status.realtime;
        if realtime.messages_applied >= 1 && realtime.messages_refused >= 1 {
            assert_eq!(realtime.trips_cancelled, 1, "the good source applied: {realtime:?}");
            let sources: Vec<&str> =
                realtime.sources.iter().map(|source| source.source.as_str()).collect();
            assert_eq!(sources, [source("fukuoka").url], "the bad source left no entities");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the good source was not applied beside the refused one");
}

/// A simulated TripUpdates message for Fukuoka on 2019-06-05, 08:00–09:00: half the trips
/// late by up to ten minutes, one cancelled (`seed` picks which).
fn simulated_fukuoka(seed: u64) -> Vec<u8> {
    let timetable = common::timetable();
    let options = norikae_realtime::sim::SimOptions {
        seed,
        date: chrono::NaiveDate::from_ymd_opt(2019, 6, 5).expect("date"),
        from_secs: 8 * 3600,
        to_secs: 9 * 3600,
        delayed_share: 0.5,
        max_delay_secs: 600,
        delays: norikae_realtime::sim::Delays::Uniform,
        cancel_one: true,
        now: chrono::Utc::now().timestamp(),
    };
    norikae_realtime::sim::feed_message(&timetable, "fukuoka", &options).encode_to_vec()
}
