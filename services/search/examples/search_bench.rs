//! Station search benchmark (run it through `loadtests/search-bench/run.sh`).
//!
//! 1. Imports the feeds given (`bundled` for the repository's feeds, or a folder of GTFS zips
//!    such as the New York MTA set) with the real importer.
//! 2. Builds the search index (median of 3 builds) and reports the time.
//! 3. In process: types every prefix of every station name (default name, English, reading in
//!    hiragana, romaji), one query per keystroke, `limit=10`, and reports p50 / p90 / p99 /
//!    max latency.
//! 4. Over HTTP: starts the real service (runtime middleware included) on a local port and
//!    drives it with `--connections` keep-alive clients for `--seconds`, reporting requests
//!    per second and client-side latency. Client and server share this machine's cores.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use norikae_search::{RecordsSource, SearchIndex, SearchRequest, StationRecord};
use norikae_timetable::{FeedInput, ImportOptions, NoProgress, bundled, import};

struct Options {
    feeds: String,
    max_queries: usize,
    seconds: u64,
    connections: usize,
}

fn parse_options() -> anyhow::Result<Options> {
    let mut options =
        Options { feeds: "bundled".to_owned(), max_queries: 200_000, seconds: 10, connections: 16 };
    let mut arguments = std::env::args().skip(1);
    while let Some(flag) = arguments.next() {
        let mut value = || arguments.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--feeds" => options.feeds = value()?,
            "--max-queries" => options.max_queries = value()?.parse().context("--max-queries")?,
            "--seconds" => options.seconds = value()?.parse().context("--seconds")?,
            "--connections" => options.connections = value()?.parse().context("--connections")?,
            other => bail!(
                "unknown flag {other}; flags: --feeds bundled|DIR --max-queries N --seconds S --connections C"
            ),
        }
    }
    Ok(options)
}

fn feed_inputs(feeds: &str) -> anyhow::Result<Vec<FeedInput>> {
    if feeds == "bundled" {
        return Ok(bundled::feeds(&bundled::repo_feeds_dir()));
    }
    let mut inputs = Vec::new();
    for entry in std::fs::read_dir(feeds).with_context(|| format!("reading {feeds}"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|extension| extension == "zip") {
            let name = path
                .file_stem()
                .and_then(|stem| stem.to_str())
                .unwrap_or_default()
                .replace('.', "_");
            inputs.push(FeedInput::new(name, path));
        }
    }
    inputs.sort_by(|left, right| left.name.cmp(&right.name));
    if inputs.is_empty() {
        bail!("no .zip feeds in {feeds}");
    }
    Ok(inputs)
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let position = ((sorted.len() - 1) as f64 * fraction).round() as usize;
    sorted[position]
}

fn micros(duration: Duration) -> String {
    format!("{:.1} µs", duration.as_secs_f64() * 1e6)
}

/// Every prefix of every spelling of every station name, in station order.
fn as_you_type_prefixes(index: &SearchIndex, max_queries: usize) -> Vec<String> {
    let mut prefixes = Vec::new();
    for indexed in index.stations() {
        let record = &indexed.record;
        let mut spellings = vec![record.name.default.clone()];
        if let Some(english) =
            record.name.translation("en").filter(|english| *english != record.name.default)
        {
            spellings.push(english.to_owned());
        }
        if let Some(reading) = &record.reading {
            spellings.push(wana_kana::ConvertJapanese::to_hiragana(reading.as_str()));
        }
        if let Some(romaji) = &indexed.romaji {
            spellings.push(romaji.clone());
        }
        for spelling in spellings {
            let characters: Vec<char> = spelling.chars().collect();
            for end in 1..=characters.len() {
                let prefix: String = characters[..end].iter().collect();
                if prefix.chars().any(char::is_alphanumeric) {
                    prefixes.push(prefix);
                }
            }
        }
    }
    if prefixes.len() > max_queries {
        // Keep an even sample over all stations rather than the first ones.
        let step = prefixes.len().div_ceil(max_queries);
        prefixes = prefixes.into_iter().step_by(step).collect();
    }
    prefixes
}

fn in_process(index: &SearchIndex, prefixes: &[String]) -> anyhow::Result<()> {
    // Warm up caches once over a sample.
    for prefix in prefixes.iter().step_by(50) {
        index.search(SearchRequest { text: prefix, limit: 10, near: None })?;
    }
    let mut latencies = Vec::with_capacity(prefixes.len());
    let mut results = 0usize;
    let started = Instant::now();
    for prefix in prefixes {
        let query_started = Instant::now();
        let hits = index.search(SearchRequest { text: prefix, limit: 10, near: None })?;
        latencies.push(query_started.elapsed());
        results += hits.len();
    }
    let total = started.elapsed();
    latencies.sort_unstable();
    println!(
        "in-process search, {} as-you-type prefixes, limit 10, one thread: p50 {}  p90 {}  p99 {}  max {}  ({:.0} queries/s, {:.1} results/query)",
        prefixes.len(),
        micros(percentile(&latencies, 0.50)),
        micros(percentile(&latencies, 0.90)),
        micros(percentile(&latencies, 0.99)),
        micros(percentile(&latencies, 1.0)),
        prefixes.len() as f64 / total.as_secs_f64(),
        results as f64 / prefixes.len().max(1) as f64,
    );
    Ok(())
}

fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

async fn over_http(
    records: Vec<StationRecord>,
    prefixes: Arc<Vec<String>>,
    options: &Options,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let mut config = norikae_search::Config::default();
    config.http.port = address.port();
    config.http.max_in_flight = 1024;
    config.timetable.reload_interval_secs = 0;
    let (stop_server, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(norikae_search::run_with_source(
        config,
        listener,
        async move {
            let _ = stopped.await;
        },
        Arc::new(RecordsSource { records }),
    ));
    let client = reqwest::Client::builder().pool_max_idle_per_host(options.connections).build()?;
    let base = format!("http://{address}");
    // Wait until the index is built and the service is ready.
    let ready_by = Instant::now() + Duration::from_secs(120);
    loop {
        let ready = client
            .get(format!("{base}/health/ready"))
            .send()
            .await
            .is_ok_and(|response| response.status().is_success());
        if ready {
            break;
        }
        if Instant::now() > ready_by {
            bail!("the service did not become ready");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let running = Arc::new(AtomicBool::new(true));
    let completed = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    let started = Instant::now();
    for worker in 0..options.connections {
        let (client, base, prefixes) = (client.clone(), base.clone(), Arc::clone(&prefixes));
        let (running, completed, failed) =
            (Arc::clone(&running), Arc::clone(&completed), Arc::clone(&failed));
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut position = worker * 7919 % prefixes.len().max(1);
            while running.load(Ordering::Relaxed) {
                let url =
                    format!("{base}/stations?q={}&limit=10", percent_encode(&prefixes[position]));
                position = (position + 1) % prefixes.len();
                let request_started = Instant::now();
                let ok = match client.get(&url).send().await {
                    Ok(response) => {
                        response.status().is_success() && response.bytes().await.is_ok()
                    }
                    Err(_) => false,
                };
                latencies.push(request_started.elapsed());
                if ok {
                    completed.fetch_add(1, Ordering::Relaxed)
                } else {
                    failed.fetch_add(1, Ordering::Relaxed)
                };
            }
            latencies
        }));
    }
    tokio::time::sleep(Duration::from_secs(options.seconds)).await;
    running.store(false, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await?);
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let completed = completed.load(Ordering::Relaxed);
    println!(
        "http GET /stations?q=<prefix>&limit=10, {} keep-alive connections, {:.1} s: {:.0} requests/s ok, {} failed; client-side p50 {}  p99 {}",
        options.connections,
        elapsed.as_secs_f64(),
        completed as f64 / elapsed.as_secs_f64(),
        failed.load(Ordering::Relaxed),
        micros(percentile(&latencies, 0.50)),
        micros(percentile(&latencies, 0.99)),
    );
    let _ = stop_server.send(());
    server.await??;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let options = parse_options()?;
    let inputs = feed_inputs(&options.feeds)?;
    let names: Vec<String> = inputs.iter().map(|input| input.name.clone()).collect();
    println!("data: {} ({})", options.feeds, names.join(", "));
    println!(
        "machine: {} cores available to this process",
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    let started = Instant::now();
    let (timetable, _report) =
        import(&inputs, &ImportOptions::default(), &NoProgress).context("importing the feeds")?;
    println!(
        "import: {:.1} s, {} stops, {} stations, {} routes",
        started.elapsed().as_secs_f64(),
        timetable.stops.len(),
        timetable.stations.len(),
        timetable.routes.len()
    );
    let records = StationRecord::all_from_timetable(&timetable);
    drop(timetable);
    let mut build_times = Vec::new();
    let mut index = None;
    for _ in 0..3 {
        let build_started = Instant::now();
        index = Some(SearchIndex::build(records.clone())?);
        build_times.push(build_started.elapsed());
    }
    build_times.sort_unstable();
    let index = index.context("no index built")?;
    println!(
        "index build ({} stations): median {:.0} ms (min {:.0} ms, max {:.0} ms) over 3 builds",
        index.len(),
        build_times[1].as_secs_f64() * 1e3,
        build_times[0].as_secs_f64() * 1e3,
        build_times[2].as_secs_f64() * 1e3
    );
    let prefixes = as_you_type_prefixes(&index, options.max_queries);
    in_process(&index, &prefixes)?;
    drop(index);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(over_http(records, Arc::new(prefixes), &options))?;
    Ok(())
}
