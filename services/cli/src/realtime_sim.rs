//! `norikae realtime-sim`: a GTFS-Realtime producer over HTTP for tests and demos (no
//! outside feed is reachable everywhere). From a snapshot it serves, per feed of the
//! timetable, `GET /FEED` (TripUpdates, VehiclePositions and ServiceAlerts in one
//! full-dataset message), `/FEED/trip-updates`, `/FEED/vehicle-positions` and
//! `/FEED/alerts`, made by [`norikae_realtime::sim`]: random delays (seeded), one cancelled
//! trip and an alert about it; remade every `--every` seconds, with an ETag (and 304 to
//! `If-None-Match`) so pollers fetch only what changed.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate, Timelike};
use norikae_realtime::proto::FeedMessage;
use norikae_realtime::sim::{self, Delays, SimOptions};
use norikae_timetable::Timetable;
use prost::Message;

/// Default port of the simulator.
pub const DEFAULT_PORT: u16 = 8090;

#[derive(clap::Args, Clone, Debug)]
pub struct SimArgs {
    /// The timetable snapshot to simulate (default: the one `norikae serve` uses).
    #[arg(long, env = "NORIKAE_TIMETABLE__SNAPSHOT", default_value = norikae_timetable::settings::DEFAULT_SNAPSHOT_PATH)]
    pub snapshot: PathBuf,
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub address: IpAddr,
    #[arg(long, default_value_t = DEFAULT_PORT)]
    pub port: u16,
    /// Seed of the random delays (a seed gives the same feed).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Service date of the simulated trips (default: today, or for a feed that does not run
    /// today, its day of the same weekday nearest to it).
    #[arg(long)]
    pub date: Option<NaiveDate>,
    /// Share of the running trips that are late.
    #[arg(long, default_value_t = 0.3)]
    pub delayed_share: f64,
    /// Largest delay, seconds.
    #[arg(long, default_value_t = 900)]
    pub max_delay_secs: u32,
    /// Draw the delays exponentially with this mean, seconds (most trips a minute or two
    /// late, a few much more), instead of uniformly from one minute to the largest.
    #[arg(long)]
    pub mean_delay_secs: Option<u32>,
    /// Seconds between remade feeds.
    #[arg(long, default_value_t = 30)]
    pub every: u64,
}

/// One remade set of messages, encoded, with its ETag.
struct Feeds {
    /// Per feed: (name, full message, trip updates, vehicles, alerts).
    by_feed: Vec<(String, [bytes::Bytes; 4])>,
    etag: String,
}

type Shared = Arc<RwLock<Feeds>>;

/// Runs the simulator until `shutdown` completes.
pub async fn run(
    args: SimArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let snapshot = args.snapshot.clone();
    let timetable =
        tokio::task::spawn_blocking(move || norikae_timetable::snapshot::load(&snapshot))
            .await
            .context("the snapshot load task panicked")?
            .with_context(|| format!("cannot load the snapshot {}", args.snapshot.display()))?;
    let timetable = Arc::new(timetable);
    let listener = norikae_runtime::bind_on(args.address, args.port).await?;
    let today = chrono::Utc::now().with_timezone(&timetable.tz).date_naive();
    for feed in &timetable.feeds {
        let date = args.date.unwrap_or_else(|| covered_date(feed, today));
        tracing::info!(feed = %feed.name, %date, "simulating realtime data for the trips of this date around the time of day");
    }
    let shared: Shared = Arc::new(RwLock::new(make(&timetable, &args, 0, chrono::Utc::now())));
    let remake = {
        let (shared, timetable, args) = (Arc::clone(&shared), Arc::clone(&timetable), args.clone());
        tokio::spawn(async move {
            let mut round = 0;
            loop {
                tokio::time::sleep(Duration::from_secs(args.every.max(1))).await;
                round += 1;
                let (timetable, args) = (Arc::clone(&timetable), args.clone());
                match tokio::task::spawn_blocking(move || {
                    make(&timetable, &args, round, chrono::Utc::now())
                })
                .await
                {
                    Ok(feeds) => {
                        *shared.write().unwrap_or_else(std::sync::PoisonError::into_inner) = feeds;
                    }
                    Err(error) => {
                        tracing::error!(error = %error, "realtime simulation task failed")
                    }
                }
            }
        })
    };
    let router = axum::Router::new()
        .route("/{feed}", axum::routing::get(full))
        .route("/{feed}/{kind}", axum::routing::get(part))
        .with_state(shared);
    tracing::info!(address = %listener.local_addr()?, "realtime simulator serving GTFS-Realtime");
    let served = axum::serve(listener, router).with_graceful_shutdown(shutdown).await;
    remake.abort();
    served.context("the realtime simulator failed")
}

/// The feeds at this moment (round `round` of the remaking: each round shifts the seed, so
/// delays change over time as they would).
fn make(
    timetable: &Timetable,
    args: &SimArgs,
    round: u64,
    now: chrono::DateTime<chrono::Utc>,
) -> Feeds {
    let local = now.with_timezone(&timetable.tz);
    let time_of_day = local.time().num_seconds_from_midnight();
    let base = SimOptions {
        seed: args.seed.wrapping_add(round / 10),
        date: local.date_naive(),
        from_secs: time_of_day.saturating_sub(3600),
        to_secs: time_of_day + 3 * 3600,
        delayed_share: args.delayed_share,
        max_delay_secs: args.max_delay_secs,
        delays: args
            .mean_delay_secs
            .map_or(Delays::Uniform, |mean_secs| Delays::Exponential { mean_secs }),
        cancel_one: true,
        now: now.timestamp(),
    };
    let mut by_feed = Vec::new();
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for feed in &timetable.feeds {
        let date = args.date.unwrap_or_else(|| covered_date(feed, local.date_naive()));
        let options = SimOptions { date, ..base.clone() };
        let message = sim::feed_message(timetable, &feed.name, &options);
        let only = |keep: fn(&norikae_realtime::proto::FeedEntity) -> bool| {
            let mut part: FeedMessage = message.clone();
            part.entity.retain(keep);
            bytes::Bytes::from(part.encode_to_vec())
        };
        let parts = [
            bytes::Bytes::from(message.encode_to_vec()),
            only(|entity| entity.trip_update.is_some()),
            only(|entity| entity.vehicle.is_some()),
            only(|entity| entity.alert.is_some()),
        ];
        // The ETag ignores the header's timestamp: an unchanged feed is not sent again.
        let mut stable = message.clone();
        stable.header.timestamp = None;
        for entity in &mut stable.entity {
            if let Some(update) = entity.trip_update.as_mut() {
                update.timestamp = None;
            }
            if let Some(vehicle) = entity.vehicle.as_mut() {
                vehicle.timestamp = None;
            }
        }
        hasher.update(&stable.encode_to_vec());
        by_feed.push((feed.name.clone(), parts));
    }
    Feeds { by_feed, etag: format!("\"{:016x}\"", hasher.digest()) }
}

/// `today` when `feed` runs then, else its day of the same weekday nearest to it (so that a
/// demo on an old feed shows delays at the time of day it is now).
fn covered_date(feed: &norikae_timetable::Feed, today: NaiveDate) -> NaiveDate {
    let (first, last) = (feed.first_date, feed.last_date);
    if (first..=last).contains(&today) {
        return today;
    }
    let after = today > last;
    let edge = if after { last } else { first };
    (0..7)
        .filter_map(|days| {
            let days = chrono::Days::new(days);
            if after { edge.checked_sub_days(days) } else { edge.checked_add_days(days) }
        })
        .find(|date| date.weekday() == today.weekday() && (first..=last).contains(date))
        .unwrap_or(edge)
}

async fn full(state: State<Shared>, Path(feed): Path<String>, headers: HeaderMap) -> Response {
    answer(&state, &feed, 0, &headers)
}

async fn part(
    state: State<Shared>,
    Path((feed, kind)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let index = match kind.as_str() {
        "trip-updates" => 1,
        "vehicle-positions" => 2,
        "alerts" => 3,
        _ => {
            return (StatusCode::NOT_FOUND, "trip-updates, vehicle-positions or alerts\n")
                .into_response();
        }
    };
    answer(&state, &feed, index, &headers)
}

fn answer(state: &Shared, feed: &str, index: usize, headers: &HeaderMap) -> Response {
    let feeds = state.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some((_, parts)) = feeds.by_feed.iter().find(|(name, _)| name == feed) else {
        return (StatusCode::NOT_FOUND, format!("no feed `{feed}` in the timetable\n"))
            .into_response();
    };
    let etag = HeaderValue::from_str(&feeds.etag).unwrap_or(HeaderValue::from_static("\"0\""));
    if headers.get(header::IF_NONE_MATCH) == Some(&etag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/x-protobuf")),
            (header::ETAG, etag),
        ],
        parts[index].clone(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> Timetable {
        use norikae_timetable::bundled;
        bundled::import_feeds(&bundled::repo_feeds_dir()).expect("the bundled feeds import")
    }

    #[test]
    fn the_simulated_feeds_decode_and_keep_their_etag_until_they_change() {
        let timetable = bundled();
        let date = NaiveDate::from_ymd_opt(2019, 6, 5).expect("date");
        let args = SimArgs {
            snapshot: PathBuf::new(),
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            seed: 5,
            date: Some(date),
            delayed_share: 0.5,
            max_delay_secs: 600,
            mean_delay_secs: None,
            every: 30,
        };
        // Morning rush in Japan: the feeds' trips run then (at night, with no trip in the
        // window, every seed would make the same empty feed).
        let now = chrono::DateTime::parse_from_rfc3339("2019-06-05T08:00:00+09:00")
            .expect("a time")
            .with_timezone(&chrono::Utc);
        let feeds = make(&timetable, &args, 0, now);
        assert_eq!(feeds.by_feed.len(), timetable.feeds.len());
        let (_, fukuoka) =
            feeds.by_feed.iter().find(|(name, _)| name == "fukuoka").expect("fukuoka");
        for part in fukuoka {
            let message = FeedMessage::decode(part.clone()).expect("protobuf");
            assert_eq!(message.header.gtfs_realtime_version, "2.0");
        }
        let alerts = FeedMessage::decode(fukuoka[3].clone()).expect("protobuf");
        assert!(alerts.entity.iter().all(|entity| entity.alert.is_some()));
        assert_eq!(make(&timetable, &args, 1, now).etag, feeds.etag, "same delays, same tag");
        assert_ne!(make(&timetable, &args, 10, now).etag, feeds.etag, "new delays, a new tag");
    }

    #[test]
    fn a_day_a_feed_does_not_cover_falls_on_its_weekday() {
        let timetable = bundled();
        let today = NaiveDate::from_ymd_opt(2031, 3, 5).expect("a Wednesday after every feed");
        for feed in &timetable.feeds {
            let covered = covered_date(feed, today);
            assert!((feed.first_date..=feed.last_date).contains(&covered), "{}", feed.name);
            assert_eq!(covered.weekday(), today.weekday(), "{}", feed.name);
            let inside = feed.first_date + chrono::Days::new(3);
            assert_eq!(covered_date(feed, inside), inside);
        }
    }
}
