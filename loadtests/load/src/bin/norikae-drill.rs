//! `norikae-drill`: the client the reliability drills (`loadtests/drills/*.sh`) run. Each
//! subcommand sends a bounded amount of traffic, then prints its figures as `key=value`
//! lines for the drill script to judge.
//!
//! - `keepalive`: rounds of concurrent requests separated by gaps near a proxy's idle
//!   timeout, so the proxy reuses upstream connections that have been idle that long;
//! - `load`: a fixed request rate for a fixed time (journeys, station searches, boards),
//!   every failure logged with its start and end time;
//! - `alerts`: admin alert writes at a fixed rate, the ids of acknowledged ones saved;
//!   `verify-alerts` then checks that every acknowledged alert is still there.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, ensure};
use clap::{Args, Parser, Subcommand};
use norikae_load::stats::{Tally, error_kind, percentile};
use norikae_load::{Endpoints, Plan, StationList, stations};
use rand::seq::IndexedRandom;
use reqwest::Client;
use tokio::sync::Mutex;
use tokio::task::JoinSet;

#[derive(Parser)]
#[command(name = "norikae-drill", about = "Bounded traffic for Norikae's reliability drills")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Rounds of concurrent GETs of one URL, with a pause between rounds.
    Keepalive(KeepaliveArgs),
    /// GETs at a fixed rate for a fixed time.
    Load(LoadArgs),
    /// Admin alert writes at a fixed rate; the ids of 2xx answers are saved.
    Alerts(AlertsArgs),
    /// Checks that every saved alert id is listed by `GET /alerts?active=false`.
    VerifyAlerts(VerifyArgs),
    /// Imports the bundled feeds into a snapshot (skipped when it is newer than the feeds),
    /// for drills that run without the `norikae` command built.
    Snapshot(SnapshotArgs),
}

#[derive(Args)]
struct SnapshotArgs {
    #[arg(long)]
    out: PathBuf,
    /// Folder of the bundled feeds [default: the repository's data/feeds].
    #[arg(long)]
    feeds_dir: Option<PathBuf>,
}

#[derive(Args)]
struct KeepaliveArgs {
    #[arg(long)]
    url: String,
    /// Requests sent at once in each round (so the proxy keeps that many upstream
    /// connections).
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Pauses between rounds in milliseconds, used in turn.
    #[arg(long, value_delimiter = ',', required = true)]
    gaps_ms: Vec<u64>,
    /// Rounds after the one that opens the connections.
    #[arg(long, default_value_t = 20)]
    rounds: usize,
    /// Stop before --rounds once this many requests have failed. The race a drill looks for
    /// is a window of microseconds that the gaps sample; with this, a drill that must see it
    /// keeps sampling until it has, instead of depending on a lucky fixed number of rounds.
    #[arg(long)]
    until_failures: Option<u64>,
}

#[derive(Args)]
struct Target {
    /// Base of the api (`…/v1`) or of one service; with --search-url and --route-url, those
    /// are used instead.
    #[arg(long, default_value = "http://127.0.0.1:8081/v1")]
    base: String,
    #[arg(long, requires = "route_url")]
    search_url: Option<String>,
    #[arg(long, requires = "search_url")]
    route_url: Option<String>,
    /// Extra header on every request, `Name: value` (e.g. an API key).
    #[arg(long)]
    header: Vec<String>,
    /// Per-request timeout in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
    /// A new connection to the balancer for every request. For drills that reload nginx:
    /// a reloading nginx closes its idle client connections, which races a client reusing
    /// one (an ALB does not do that), while the hop under test is nginx to the services.
    #[arg(long)]
    no_keepalive: bool,
}

#[derive(Args)]
struct LoadArgs {
    #[command(flatten)]
    target: Target,
    /// Station list [default: loadtests/load/stations.tsv].
    #[arg(long)]
    stations: Option<PathBuf>,
    /// Kinds of request, drawn in turn: journeys, stations, departures.
    #[arg(long, value_delimiter = ',', default_value = "journeys,stations,departures")]
    kinds: Vec<Kind>,
    /// Requests per second.
    #[arg(long, default_value_t = 50.0)]
    rate: f64,
    /// Seconds to send for (the client then waits for the requests still in flight).
    #[arg(long, default_value_t = 20.0)]
    duration: f64,
    /// Most requests in flight; a tick that finds this many is counted as `skipped`.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Stop early when this file appears (the drill's signal that its fault sequence ended).
    #[arg(long)]
    stop_file: Option<PathBuf>,
    /// Append every failure here: `start_ms end_ms kind url` (Unix milliseconds).
    #[arg(long)]
    failures: Option<PathBuf>,
    /// Log successful requests there too (kind `ok`), to tell what was in flight when.
    #[arg(long, requires = "failures")]
    log_all: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Kind {
    Journeys,
    Stations,
    Departures,
}

#[derive(Args)]
struct AlertsArgs {
    #[command(flatten)]
    target: Target,
    /// Writes per second.
    #[arg(long, default_value_t = 5.0)]
    rate: f64,
    #[arg(long, default_value_t = 20.0)]
    duration: f64,
    #[arg(long)]
    stop_file: Option<PathBuf>,
    /// Ids of the alerts answered 2xx, one a line.
    #[arg(long)]
    acknowledged: PathBuf,
    /// Append every failure here: `start_ms end_ms kind url`.
    #[arg(long)]
    failures: Option<PathBuf>,
}

#[derive(Args)]
struct VerifyArgs {
    #[command(flatten)]
    target: Target,
    #[arg(long)]
    acknowledged: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Keepalive(args) => keepalive(args).await,
        Command::Load(args) => load(args).await,
        Command::Alerts(args) => alerts(args).await,
        Command::VerifyAlerts(args) => verify_alerts(args).await,
        Command::Snapshot(args) => {
            let feeds_dir =
                args.feeds_dir.unwrap_or_else(norikae_timetable::bundled::repo_feeds_dir);
            let outcome = norikae_timetable::bundled::ensure_snapshot(&feeds_dir, &args.out)
                .with_context(|| {
                    format!("cannot import {} into {}", feeds_dir.display(), args.out.display())
                })?;
            println!("snapshot={} outcome={outcome:?}", args.out.display());
            Ok(())
        }
    }
}

fn client(target: Option<&Target>) -> anyhow::Result<Client> {
    let timeout = Duration::from_millis(target.map_or(10_000, |target| target.timeout_ms));
    let mut headers = reqwest::header::HeaderMap::new();
    for header in target.map(|target| target.header.as_slice()).unwrap_or_default() {
        let (name, value) = header
            .split_once(':')
            .with_context(|| format!("--header {header:?}: expected `Name: value`"))?;
        headers.insert(
            reqwest::header::HeaderName::from_bytes(name.trim().as_bytes())
                .with_context(|| format!("--header {header:?}: bad name"))?,
            reqwest::header::HeaderValue::from_str(value.trim())
                .with_context(|| format!("--header {header:?}: bad value"))?,
        );
    }
    // Keep connections to the proxy far longer than any gap the drills use, so only the
    // proxy-to-service hop is tested.
    let idle_per_host = if target.is_some_and(|target| target.no_keepalive) { 0 } else { 1024 };
    Client::builder()
        .default_headers(headers)
        .timeout(timeout)
        .pool_idle_timeout(Duration::from_secs(300))
        .pool_max_idle_per_host(idle_per_host)
        .build()
        .context("cannot build the HTTP client")
}

fn unix_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis())
}

/// The outcome of one request: `None` when it was a 2xx with a complete body.
async fn fetch(client: &Client, url: &str) -> Option<String> {
    match client.get(url).send().await {
        Ok(response) => {
            let status = response.status();
            match response.bytes().await {
                Ok(_) if status.is_success() => None,
                Ok(_) => Some(format!("status_{}", status.as_u16())),
                Err(error) => Some(error_kind(&error).to_owned()),
            }
        }
        Err(error) => Some(error_kind(&error).to_owned()),
    }
}

async fn keepalive(args: KeepaliveArgs) -> anyhow::Result<()> {
    ensure!(
        args.connections > 0 && args.rounds > 0,
        "--connections and --rounds must be above zero"
    );
    let client = client(None)?;
    let mut failures = Tally::default();
    let mut failures_by_gap: std::collections::BTreeMap<u64, (u64, u64)> = Default::default();
    let mut requests = 0_u64;
    let mut rounds = 0;
    for round in 0..=args.rounds {
        let mut batch = JoinSet::new();
        for _ in 0..args.connections {
            let (client, url) = (client.clone(), args.url.clone());
            batch.spawn(async move { fetch(&client, &url).await });
        }
        // Round 0 only opens the connections.
        let gap = (round > 0).then(|| args.gaps_ms[(round - 1) % args.gaps_ms.len()]);
        while let Some(outcome) = batch.join_next().await {
            let outcome = outcome.context("a request task panicked")?;
            requests += 1;
            if let Some(gap) = gap {
                let entry = failures_by_gap.entry(gap).or_default();
                entry.0 += 1;
                entry.1 += u64::from(outcome.is_some());
            }
            if let Some(kind) = outcome {
                failures.add(kind);
            }
        }
        rounds = round;
        if args.until_failures.is_some_and(|enough| failures.total() >= enough) {
            break;
        }
        if round < args.rounds {
            let next_gap = args.gaps_ms[round % args.gaps_ms.len()];
            tokio::time::sleep(Duration::from_millis(next_gap)).await;
        }
    }
    println!("rounds={rounds}");
    println!("requests={requests}");
    println!("failed={}", failures.total());
    println!("failures={failures}");
    for (gap, (sent, failed)) in failures_by_gap {
        println!("gap_ms={gap} requests={sent} failed={failed}");
    }
    Ok(())
}

fn endpoints(target: &Target) -> anyhow::Result<Endpoints> {
    match (&target.search_url, &target.route_url) {
        (Some(search), Some(route)) => Endpoints::direct(search, route),
        _ => Endpoints::api(&target.base),
    }
}

/// A fixed-rate schedule: calls `send` at `rate` per second for `duration` seconds (or until
/// `stop_file` appears), never with more than `concurrency` in flight, then waits for the
/// last ones.
struct Schedule {
    rate: f64,
    duration: f64,
    concurrency: usize,
    stop_file: Option<PathBuf>,
}

struct Outcomes {
    latencies: Vec<Duration>,
    failures: Tally,
    skipped: u64,
    sent: u64,
    elapsed: Duration,
}

impl Schedule {
    async fn run<F, Fut>(&self, mut send: F) -> anyhow::Result<Outcomes>
    where
        F: FnMut(u64) -> Fut,
        Fut: Future<Output = (Duration, Option<String>)> + Send + 'static,
    {
        ensure!(self.rate > 0.0 && self.duration > 0.0, "rate and duration must be above zero");
        let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / self.rate));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = JoinSet::new();
        let mut outcomes = Outcomes {
            latencies: Vec::new(),
            failures: Tally::default(),
            skipped: 0,
            sent: 0,
            elapsed: Duration::ZERO,
        };
        let record = |outcome: (Duration, Option<String>), outcomes: &mut Outcomes| match outcome.1
        {
            None => outcomes.latencies.push(outcome.0),
            Some(kind) => outcomes.failures.add(kind),
        };
        while started.elapsed().as_secs_f64() < self.duration {
            ticker.tick().await;
            if self.stop_file.as_ref().is_some_and(|path| path.exists()) {
                break;
            }
            while let Some(done) = tasks.try_join_next() {
                record(done.context("a request task panicked")?, &mut outcomes);
            }
            if in_flight.load(Ordering::Relaxed) >= self.concurrency {
                outcomes.skipped += 1;
                continue;
            }
            in_flight.fetch_add(1, Ordering::Relaxed);
            let request = send(outcomes.sent);
            outcomes.sent += 1;
            let in_flight = in_flight.clone();
            tasks.spawn(async move {
                let outcome = request.await;
                in_flight.fetch_sub(1, Ordering::Relaxed);
                outcome
            });
        }
        while let Some(done) = tasks.join_next().await {
            record(done.context("a request task panicked")?, &mut outcomes);
        }
        outcomes.elapsed = started.elapsed();
        outcomes.latencies.sort();
        Ok(outcomes)
    }
}

fn print_outcomes(outcomes: &Outcomes) {
    let ok = outcomes.latencies.len();
    let ms = |p| percentile(&outcomes.latencies, p).as_secs_f64() * 1000.0;
    println!("requests={}", outcomes.sent);
    println!("ok={ok}");
    println!("failed={}", outcomes.failures.total());
    println!("failures={}", outcomes.failures);
    println!("skipped={}", outcomes.skipped);
    println!("seconds={:.1}", outcomes.elapsed.as_secs_f64());
    println!("rate={:.1}", outcomes.sent as f64 / outcomes.elapsed.as_secs_f64().max(0.001));
    println!("p50_ms={:.1} p95_ms={:.1} p99_ms={:.1}", ms(50.0), ms(95.0), ms(99.0));
}

/// Appends failure lines to the log file shared by the request tasks.
#[derive(Clone)]
struct FailureLog(Option<Arc<Mutex<std::fs::File>>>);

impl FailureLog {
    fn open(path: Option<&PathBuf>) -> anyhow::Result<Self> {
        let Some(path) = path else { return Ok(Self(None)) };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        Ok(Self(Some(Arc::new(Mutex::new(file)))))
    }

    async fn write(&self, start_ms: u128, kind: &str, url: &str) {
        if let Some(file) = &self.0 {
            let line = format!("{start_ms} {} {kind} {url}\n", unix_ms());
            // A lost log line shows as a count mismatch in the summary, never as a crash.
            let _ = file.lock().await.write_all(line.as_bytes());
        }
    }
}

async fn load(args: LoadArgs) -> anyhow::Result<()> {
    ensure!(!args.kinds.is_empty(), "--kinds needs at least one kind");
    let list_path = args.stations.clone().unwrap_or_else(|| stations::default_path().to_owned());
    let plan = Plan::new(StationList::read(&list_path)?)?;
    let endpoints = endpoints(&args.target)?;
    let client = client(Some(&args.target))?;
    let log = FailureLog::open(args.failures.as_ref())?;
    let schedule = Schedule {
        rate: args.rate,
        duration: args.duration,
        concurrency: args.concurrency,
        stop_file: args.stop_file.clone(),
    };
    let mut rng = rand::rng();
    let log_all = args.log_all;
    let outcomes = schedule
        .run(|index| {
            let kind = args.kinds[(index as usize) % args.kinds.len()];
            let url = match kind {
                Kind::Journeys => endpoints.journeys(&plan.journey(&mut rng)),
                Kind::Departures => endpoints.departures(&plan.departures(&mut rng)),
                Kind::Stations => {
                    // One keystroke of someone typing a name.
                    let keys = plan.keystrokes(&mut rng);
                    endpoints.stations(keys.choose(&mut rng).map_or("a", String::as_str), 10)
                }
            };
            let (client, log) = (client.clone(), log.clone());
            async move {
                let (start_ms, started) = (unix_ms(), Instant::now());
                let outcome = fetch(&client, &url).await;
                match &outcome {
                    Some(kind) => log.write(start_ms, kind, &url).await,
                    None if log_all => log.write(start_ms, "ok", &url).await,
                    None => {}
                }
                (started.elapsed(), outcome)
            }
        })
        .await?;
    print_outcomes(&outcomes);
    Ok(())
}

async fn alerts(args: AlertsArgs) -> anyhow::Result<()> {
    let base = args.target.base.trim_end_matches('/').to_owned();
    let client = client(Some(&args.target))?;
    let log = FailureLog::open(args.failures.as_ref())?;
    let acknowledged = Arc::new(Mutex::new(
        std::fs::File::create(&args.acknowledged)
            .with_context(|| format!("cannot create {}", args.acknowledged.display()))?,
    ));
    let schedule = Schedule {
        rate: args.rate,
        duration: args.duration,
        concurrency: 16,
        stop_file: args.stop_file.clone(),
    };
    let run_id = unix_ms();
    let outcomes = schedule
        .run(|index| {
            let url = format!("{base}/admin/alerts");
            let body = serde_json::json!({
                "cause": "technical_problem",
                "effect": "significant_delays",
                "translations": {
                    "ja": {"header": format!("訓練 {run_id}-{index}"), "description": "データベース再起動訓練"},
                    "en": {"header": format!("drill {run_id}-{index}"), "description": "database restart drill"}
                },
                "informed": [{"station_id": "fukuoka:8"}],
            });
            let (client, log, acknowledged) = (client.clone(), log.clone(), acknowledged.clone());
            async move {
                let (start_ms, started) = (unix_ms(), Instant::now());
                let outcome = match client.post(&url).json(&body).send().await {
                    Ok(response) if response.status().is_success() => {
                        match response.json::<serde_json::Value>().await {
                            Ok(created) => match created.get("id").and_then(|id| id.as_str()) {
                                Some(id) => {
                                    let line = format!("{id}\n");
                                    let _ = acknowledged.lock().await.write_all(line.as_bytes());
                                    None
                                }
                                None => Some("answer_without_id".to_owned()),
                            },
                            Err(error) => Some(error_kind(&error).to_owned()),
                        }
                    }
                    Ok(response) => Some(format!("status_{}", response.status().as_u16())),
                    Err(error) => Some(error_kind(&error).to_owned()),
                };
                if let Some(kind) = &outcome {
                    log.write(start_ms, kind, &url).await;
                }
                (started.elapsed(), outcome)
            }
        })
        .await?;
    print_outcomes(&outcomes);
    Ok(())
}

async fn verify_alerts(args: VerifyArgs) -> anyhow::Result<()> {
    let base = args.target.base.trim_end_matches('/');
    let client = client(Some(&args.target))?;
    let text = std::fs::read_to_string(&args.acknowledged)
        .with_context(|| format!("cannot read {}", args.acknowledged.display()))?;
    let wanted: Vec<&str> = text.lines().filter(|line| !line.is_empty()).collect();
    let url = format!("{base}/alerts?active=false");
    let listed: serde_json::Value = client
        .get(&url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .with_context(|| format!("GET {url}"))?
        .json()
        .await
        .with_context(|| format!("GET {url}: not JSON"))?;
    let present: std::collections::HashSet<&str> = listed
        .get("alerts")
        .and_then(|alerts| alerts.as_array())
        .with_context(|| format!("GET {url}: no `alerts` array"))?
        .iter()
        .filter_map(|alert| alert.get("id").and_then(|id| id.as_str()))
        .collect();
    let missing: Vec<&str> = wanted.iter().copied().filter(|id| !present.contains(id)).collect();
    println!("acknowledged={}", wanted.len());
    println!("listed={}", present.len());
    println!("missing={}", missing.len());
    for id in missing.iter().take(20) {
        println!("missing_id={id}");
    }
    Ok(())
}
