//! Realtime ingest: the GTFS-Realtime sources configured per GTFS feed
//! (`NORIKAE_REALTIME__FEEDS`), each polled with ETag / If-Modified-Since, a timeout and
//! exponential back-off, or pushed to `POST /realtime/{feed}`; every message goes through
//! [`norikae_realtime::Realtime`], which swaps in a new overlay for the searches. Sources
//! polled on the same interval answer together: what they deliver within
//! `batch_window_ms` of each other is applied as one batch (decoded and built in parallel,
//! one overlay swapped in), each message still answered, counted and logged on its own.
//! Its counts are in `/metrics` and `/status`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use norikae_realtime::{ApplyReport, Realtime};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::AppState;

/// Section `realtime`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RealtimeSettings {
    /// The sources to poll: `FEED=URL` entries, comma-separated (`FEED` is the name a GTFS
    /// feed was imported under; several URLs per feed are fine: TripUpdates, alerts, …).
    pub feeds: RealtimeFeeds,
    /// Seconds between polls of a source that answered.
    pub poll_secs: u64,
    /// A poll (connect and body) that takes longer fails.
    pub timeout_ms: u64,
    /// Longest wait between polls of a failing source (the wait doubles from `poll_secs`).
    pub max_backoff_secs: u64,
    /// Largest message accepted, bytes.
    pub max_bytes: usize,
    /// Entities not renewed for this long are dropped (a source that stopped answering no
    /// longer delays anyone after it).
    pub max_age_secs: u64,
    /// Bearer token `POST /realtime/{feed}` needs; unset: pushing is refused (403).
    pub push_token: Option<String>,
    /// Polled messages arriving within this many milliseconds of the first are applied as
    /// one batch (0: only those already waiting join the first).
    pub batch_window_ms: u64,
}

impl std::fmt::Debug for RealtimeSettings {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RealtimeSettings")
            .field("feeds", &self.feeds)
            .field("poll_secs", &self.poll_secs)
            .field("timeout_ms", &self.timeout_ms)
            .field("max_backoff_secs", &self.max_backoff_secs)
            .field("max_bytes", &self.max_bytes)
            .field("max_age_secs", &self.max_age_secs)
            .field("push_token", &self.push_token.as_ref().map(|_| "redacted"))
            .field("batch_window_ms", &self.batch_window_ms)
            .finish()
    }
}

impl Default for RealtimeSettings {
    fn default() -> Self {
        Self {
            feeds: RealtimeFeeds::default(),
            poll_secs: 15,
            timeout_ms: 5_000,
            max_backoff_secs: 300,
            max_bytes: norikae_realtime::DEFAULT_MAX_BYTES,
            max_age_secs: 300,
            push_token: None,
            batch_window_ms: 250,
        }
    }
}

impl RealtimeSettings {
    /// Checks what start-up can: the entries' form and the numbers (feed names are checked
    /// against the timetable when it is loaded).
    pub fn validate(&self) -> Result<(), String> {
        for (position, source) in self.feeds.0.iter().enumerate() {
            let valid_feed = !source.feed.is_empty()
                && source.feed.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !valid_feed {
                return Err(format!(
                    "realtime.feeds: entry {} has no valid feed name before `=` (FEED=URL)",
                    position + 1
                ));
            }
            if !(source.url.starts_with("http://") || source.url.starts_with("https://")) {
                return Err(format!(
                    "realtime.feeds: entry {} (`{}`) needs an http:// or https:// URL after `=`",
                    position + 1,
                    source.feed
                ));
            }
        }
        if self.poll_secs == 0 || self.timeout_ms == 0 {
            return Err("realtime.poll_secs and realtime.timeout_ms must be above 0".to_owned());
        }
        if self.push_token.as_ref().is_some_and(|token| token.len() < 16) {
            return Err("realtime.push_token: at least 16 characters".to_owned());
        }
        Ok(())
    }
}

/// One polled source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealtimeFeed {
    pub feed: String,
    pub url: String,
}

/// `FEED=URL,FEED=URL` (what the environment variable gives), or a list of such entries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "FeedsText", into = "Vec<String>")]
pub struct RealtimeFeeds(pub Vec<RealtimeFeed>);

#[derive(Deserialize)]
#[serde(untagged)]
enum FeedsText {
    List(Vec<String>),
    Text(String),
}

impl From<FeedsText> for RealtimeFeeds {
    fn from(text: FeedsText) -> Self {
        let entries = match text {
            FeedsText::List(entries) => entries,
            FeedsText::Text(text) => text.split(',').map(str::to_owned).collect(),
        };
        Self(
            entries
                .iter()
                .map(|entry| entry.trim())
                .filter(|entry| !entry.is_empty())
                .map(|entry| match entry.split_once('=') {
                    Some((feed, url)) => {
                        RealtimeFeed { feed: feed.trim().to_owned(), url: url.trim().to_owned() }
                    }
                    // Kept so that validation names the entry.
                    None => RealtimeFeed { feed: String::new(), url: entry.to_owned() },
                })
                .collect(),
        )
    }
}

impl From<RealtimeFeeds> for Vec<String> {
    fn from(feeds: RealtimeFeeds) -> Self {
        feeds.0.into_iter().map(|source| format!("{}={}", source.feed, source.url)).collect()
    }
}

/// The ingest's Prometheus metrics (registered in the service's registry by [`crate::run`]).
#[derive(Clone, Default)]
pub struct RealtimeMetrics {
    /// Messages by outcome: applied, not_modified, malformed, too_large, unknown_feed,
    /// fetch_error.
    messages: Family<Vec<(String, String)>, Counter>,
    /// The current overlay's counts by kind (trips_updated, unknown_trips, …).
    overlay: Family<Vec<(String, String)>, Gauge>,
    build_micros: Gauge,
}

impl RealtimeMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "realtime_messages",
            "GTFS-Realtime messages polled or pushed, by outcome",
            self.messages.clone(),
        );
        registry.register(
            "realtime_overlay",
            "What the current realtime overlay holds, by kind (unknown_trips, times_clamped: bad input skipped or corrected; added_unsearched: added trips matching no pattern, not searched)",
            self.overlay.clone(),
        );
        registry.register(
            "realtime_overlay_build_microseconds",
            "Time the last realtime overlay took to build",
            self.build_micros.clone(),
        );
    }

    fn message(&self, outcome: &str) {
        self.messages.get_or_create(&vec![("outcome".to_owned(), outcome.to_owned())]).inc();
    }

    fn overlay(&self, stats: &norikae_realtime::OverlayStats, build_micros: u64) {
        let kinds = [
            ("trip_updates", stats.trip_updates),
            ("trips_updated", stats.trips_updated),
            ("trips_cancelled", stats.trips_cancelled),
            ("trips_added", stats.trips_added),
            ("added_unsearched", stats.added_unsearched),
            ("unknown_trips", stats.unknown_trips),
            ("unknown_stops", stats.unknown_stops),
            ("times_clamped", stats.times_clamped),
            ("skipped_stops", stats.skipped_stops),
            ("platform_changes", stats.platform_changes),
            ("alerts", stats.alerts),
            ("vehicles", stats.vehicles),
        ];
        for (kind, count) in kinds {
            self.overlay
                .get_or_create(&vec![("kind".to_owned(), kind.to_owned())])
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        self.build_micros.set(i64::try_from(build_micros).unwrap_or(i64::MAX));
    }
}

/// The realtime state a route service shares: the overlay and its sources, the settings,
/// the metrics, and the queue of polled messages waiting to be applied together.
pub struct RealtimeIngest {
    pub realtime: Realtime,
    pub settings: RealtimeSettings,
    pub metrics: RealtimeMetrics,
    polled: mpsc::UnboundedSender<Polled>,
    /// Taken by the task that applies the polled messages in batches.
    polled_queue: Mutex<Option<mpsc::UnboundedReceiver<Polled>>>,
}

impl RealtimeIngest {
    pub fn new(settings: RealtimeSettings) -> Self {
        let (polled, queue) = mpsc::unbounded_channel();
        Self {
            realtime: Realtime::new(settings.max_bytes, settings.max_age_secs),
            settings,
            metrics: RealtimeMetrics::default(),
            polled,
            polled_queue: Mutex::new(Some(queue)),
        }
    }
}

/// One message as the ingest applies it: its source, the timetable feed, the body.
#[derive(Clone, Debug)]
pub struct Incoming {
    pub source: String,
    pub feed: String,
    pub body: bytes::Bytes,
}

/// A polled message waiting for its batch, and where its poller waits for the outcome.
struct Polled {
    message: Incoming,
    reply: oneshot::Sender<Result<ApplyReport, IngestError>>,
}

/// Why a message was not applied.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Realtime(#[from] norikae_realtime::Error),
    #[error("the timetable is not loaded yet")]
    NotLoaded,
    #[error("applying the realtime message failed")]
    Failed,
}

impl AppState {
    /// Applies one message from `source` for `feed` off the async runtime, against the
    /// timetable answering now.
    pub async fn apply_realtime(
        &self,
        source: String,
        feed: String,
        body: bytes::Bytes,
    ) -> Result<ApplyReport, IngestError> {
        let mut results = self.apply_realtime_batch(vec![Incoming { source, feed, body }]).await;
        results.pop().unwrap_or(Err(IngestError::Failed))
    }

    /// Applies `messages` as one batch off the async runtime (see
    /// [`Realtime::apply_batch`]): one result per message, in order, each counted in the
    /// metrics by its outcome.
    pub async fn apply_realtime_batch(
        &self,
        messages: Vec<Incoming>,
    ) -> Vec<Result<ApplyReport, IngestError>> {
        let Ok(engine) = self.engine() else {
            return messages.iter().map(|_| Err(IngestError::NotLoaded)).collect();
        };
        let count = messages.len();
        let ingest = Arc::clone(self.realtime());
        let task = tokio::task::spawn_blocking(move || {
            let now = chrono::Utc::now().timestamp();
            let batch: Vec<norikae_realtime::Message<'_>> = messages
                .iter()
                .map(|message| norikae_realtime::Message {
                    source: &message.source,
                    feed: &message.feed,
                    bytes: &message.body,
                })
                .collect();
            ingest.realtime.apply_batch(&batch, engine.timetable(), now)
        });
        let results = match task.await {
            Ok(results) => results,
            Err(error) => {
                tracing::error!(error = %error, "realtime apply task failed");
                return (0..count).map(|_| Err(IngestError::Failed)).collect();
            }
        };
        let metrics = &self.realtime().metrics;
        let mut last_report = None;
        for result in &results {
            match result {
                Ok(report) => {
                    metrics.message("applied");
                    last_report = Some(report);
                }
                Err(norikae_realtime::Error::TooLarge { .. }) => metrics.message("too_large"),
                Err(norikae_realtime::Error::UnknownFeed { .. }) => metrics.message("unknown_feed"),
                Err(_) => metrics.message("malformed"),
            }
        }
        if let Some(report) = last_report {
            metrics.overlay(&report.stats, report.build_micros);
            self.prepare_for_realtime();
        }
        results.into_iter().map(|result| result.map_err(IngestError::from)).collect()
    }

    /// Applies a polled message with the others that arrive within the batch window (the
    /// batching task started by [`AppState::spawn_realtime`]), or alone when that task is
    /// not running.
    async fn apply_polled(&self, message: Incoming) -> Result<ApplyReport, IngestError> {
        let (reply, outcome) = oneshot::channel();
        if let Err(refused) = self.realtime().polled.send(Polled { message, reply }) {
            let Incoming { source, feed, body } = refused.0.message;
            return self.apply_realtime(source, feed, body).await;
        }
        outcome.await.unwrap_or(Err(IngestError::Failed))
    }

    /// Applies polled messages in batches: the first that arrives waits up to the batch
    /// window for the others (or until every source has answered), then all go as one.
    async fn apply_polled_batches(
        self,
        mut queue: mpsc::UnboundedReceiver<Polled>,
        sources: usize,
    ) {
        let window = Duration::from_millis(self.realtime().settings.batch_window_ms);
        while let Some(first) = queue.recv().await {
            let deadline = tokio::time::Instant::now() + window;
            let mut batch = vec![first];
            while batch.len() < sources {
                match tokio::time::timeout_at(deadline, queue.recv()).await {
                    Ok(Some(polled)) => batch.push(polled),
                    Ok(None) | Err(_) => break,
                }
            }
            let (messages, replies): (Vec<Incoming>, Vec<_>) =
                batch.into_iter().map(|polled| (polled.message, polled.reply)).unzip();
            tracing::debug!(messages = messages.len(), "realtime batch");
            let results = self.apply_realtime_batch(messages).await;
            for (reply, result) in replies.into_iter().zip(results) {
                // A poller that went away (shutdown) needs no answer.
                let _ = reply.send(result);
            }
        }
    }

    /// Rebuilds the overlay when it was built for another timetable (after a snapshot
    /// switch) and expires stale entities; off the async runtime.
    pub async fn refresh_realtime(&self) {
        let Ok(engine) = self.engine() else { return };
        let ingest = Arc::clone(self.realtime());
        let refreshed = tokio::task::spawn_blocking(move || {
            let now = chrono::Utc::now().timestamp();
            let stats = ingest.realtime.refresh(engine.timetable(), now);
            let micros = ingest
                .realtime
                .counters
                .last_build_micros
                .load(std::sync::atomic::Ordering::Relaxed);
            ingest.metrics.overlay(&stats, micros);
        })
        .await;
        match refreshed {
            Ok(()) => self.prepare_for_realtime(),
            Err(error) => tracing::error!(error = %error, "realtime refresh task failed"),
        }
    }

    /// Starts a poller per configured source and the refresher that expires stale data;
    /// the tasks end with the returned handles.
    pub fn spawn_realtime(&self) -> Vec<tokio::task::JoinHandle<()>> {
        let settings = self.realtime().settings.clone();
        let mut tasks = Vec::new();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .connect_timeout(Duration::from_millis(settings.timeout_ms))
            .build();
        let client = match client {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(error = %error, "realtime http client not built; no polling");
                return tasks;
            }
        };
        let queue = self
            .realtime()
            .polled_queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(queue) = queue {
            let state = self.clone();
            let sources = settings.feeds.0.len();
            tasks.push(tokio::spawn(
                async move { state.apply_polled_batches(queue, sources).await },
            ));
        }
        for source in settings.feeds.0.clone() {
            let state = self.clone();
            let client = client.clone();
            tasks.push(tokio::spawn(async move { state.poll(client, source).await }));
        }
        let state = self.clone();
        let every = Duration::from_secs(settings.poll_secs.clamp(1, 60));
        tasks.push(tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                state.refresh_realtime().await;
            }
        }));
        tasks
    }

    async fn poll(self, client: reqwest::Client, source: RealtimeFeed) {
        let settings = self.realtime().settings.clone();
        let interval = Duration::from_secs(settings.poll_secs);
        let max_backoff = Duration::from_secs(settings.max_backoff_secs.max(settings.poll_secs));
        let mut validators = Validators::default();
        let mut wait = interval;
        loop {
            if self.engine().is_err() {
                // Nothing to match against before the timetable is loaded.
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            match fetch(&client, &source.url, &mut validators, settings.max_bytes).await {
                Ok(Some(body)) => {
                    let message =
                        Incoming { source: source.url.clone(), feed: source.feed.clone(), body };
                    match self.apply_polled(message).await {
                        Ok(report) => {
                            tracing::debug!(url = %source.url, feed = %source.feed, upserted = report.upserted, micros = report.build_micros, "realtime message applied");
                            wait = interval;
                        }
                        Err(error) => {
                            // Counted and logged by the apply; the source is polled less often.
                            tracing::debug!(url = %source.url, error = %error, "realtime message not applied");
                            validators = Validators::default();
                            wait = (wait * 2).min(max_backoff);
                        }
                    }
                }
                Ok(None) => {
                    self.realtime().metrics.message("not_modified");
                    wait = interval;
                }
                Err(error) => {
                    self.realtime().metrics.message("fetch_error");
                    wait = (wait * 2).min(max_backoff);
                    tracing::warn!(url = %source.url, feed = %source.feed, error = %error, retry_in_secs = wait.as_secs(), "realtime feed not fetched");
                }
            }
            tokio::time::sleep(wait).await;
        }
    }
}

/// What the last answer said to send back (ETag, Last-Modified).
#[derive(Default)]
struct Validators {
    etag: Option<String>,
    last_modified: Option<String>,
}

/// GETs `url` conditionally: `Ok(None)` when not modified.
async fn fetch(
    client: &reqwest::Client,
    url: &str,
    validators: &mut Validators,
    max_bytes: usize,
) -> anyhow::Result<Option<bytes::Bytes>> {
    let mut request = client.get(url);
    if let Some(etag) = &validators.etag {
        request = request.header(reqwest::header::IF_NONE_MATCH, etag);
    }
    if let Some(modified) = &validators.last_modified {
        request = request.header(reqwest::header::IF_MODIFIED_SINCE, modified);
    }
    let mut response = request.send().await?;
    if response.status() == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(None);
    }
    if !response.status().is_success() {
        anyhow::bail!("answered {}", response.status());
    }
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|value: &reqwest::header::HeaderValue| value.to_str().ok())
            .map(str::to_owned)
    };
    let etag = header(reqwest::header::ETAG);
    let last_modified = header(reqwest::header::LAST_MODIFIED);
    if response.content_length().is_some_and(|length| length > max_bytes as u64) {
        anyhow::bail!(
            "body of {:?} bytes is over the limit of {max_bytes}",
            response.content_length()
        );
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > max_bytes {
            anyhow::bail!("body is over the limit of {max_bytes} bytes");
        }
        body.extend_from_slice(&chunk);
    }
    *validators = Validators { etag, last_modified };
    Ok(Some(body.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feeds_parse_from_one_string_and_validation_names_the_entry() {
        let feeds: RealtimeFeeds = serde_json::from_str(
            r#""fukuoka=http://127.0.0.1:8090/fukuoka, ryobi = https://example.org/rt""#,
        )
        .expect("parses");
        assert_eq!(
            feeds.0,
            [
                RealtimeFeed {
                    feed: "fukuoka".into(),
                    url: "http://127.0.0.1:8090/fukuoka".into()
                },
                RealtimeFeed { feed: "ryobi".into(), url: "https://example.org/rt".into() },
            ]
        );
        let settings = RealtimeSettings { feeds, ..RealtimeSettings::default() };
        assert_eq!(settings.validate(), Ok(()));
        let bad: RealtimeFeeds =
            serde_json::from_str(r#""fukuoka=http://a,just-a-url""#).expect("parses");
        let error = RealtimeSettings { feeds: bad, ..RealtimeSettings::default() }
            .validate()
            .expect_err("refused");
        assert!(error.contains("entry 2"), "{error}");
        let ftp: RealtimeFeeds = serde_json::from_str(r#""fukuoka=ftp://a""#).expect("parses");
        let error = RealtimeSettings { feeds: ftp, ..RealtimeSettings::default() }
            .validate()
            .expect_err("refused");
        assert!(error.contains("http://"), "{error}");
        let debug = format!(
            "{:?}",
            RealtimeSettings {
                push_token: Some("secret-token-0123456789".into()),
                ..RealtimeSettings::default()
            }
        );
        assert!(!debug.contains("secret"), "{debug}");
    }
}
