//! `norikae-load`: the rush-hour load test (goose) against a running Norikae.
//!
//! Three kinds of users, by weight: station typing (one `/stations?q=` request per
//! keystroke), journey searches and departure boards, all drawn from the station list
//! beside this crate. By default everything goes through the api at
//! `http://127.0.0.1:8081/v1`; `--search-url` / `--route-url` send straight to the services.
//! `--queries FILE --route-url URL` loads the route service alone instead: one kind of user,
//! journey searches from a query file (route-bench's `queries.csv`), back to back.
//! Every goose option works (`-u` users, `-r` start rate, `-t` run time,
//! `--throttle-requests`, `--scenarios`, `--report-file`, …); `--profile ramp` turns `-u`
//! and `-t` into a four-step ramp. After goose's own report it prints a summary: requests
//! per second, p50/p95/p99 and errors by kind.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use goose::config::GooseConfiguration;
use goose::goose::GooseResponse;
use goose::prelude::*;
use norikae_load::stats::bucket_percentile;
use norikae_load::{Endpoints, Plan, QueryFile, StationList, stations};

#[derive(Parser)]
#[command(name = "norikae-load", about = "Rush-hour load test against a running Norikae")]
struct Args {
    /// Station searches go here instead of the host, e.g. http://127.0.0.1:8082 (search
    /// service); needs --route-url too.
    #[arg(long, requires = "route_url", help_heading = "Norikae")]
    search_url: Option<String>,
    /// Journeys and departure boards go here instead of the host, e.g.
    /// http://127.0.0.1:8083 (route service); needs --search-url too, unless --queries.
    #[arg(long, help_heading = "Norikae")]
    route_url: Option<String>,
    /// Route service only: every user searches journeys at --route-url, the next query of this
    /// file each time (CSV `from,to,date,time`, e.g. loadtests/route-bench/queries.csv), in
    /// place of the typing, journey and departure mix.
    #[arg(long, requires = "route_url", help_heading = "Norikae")]
    queries: Option<PathBuf>,
    /// With --queries: the `window` of each search in seconds (0: depart-at, as route-bench's
    /// depart-at figures; 3600: its 1-hour range).
    #[arg(long, default_value_t = 0, requires = "queries", help_heading = "Norikae")]
    window: u32,
    /// Station list [default: loadtests/load/stations.tsv].
    #[arg(long, help_heading = "Norikae")]
    stations: Option<PathBuf>,
    /// Pause between keystrokes of a typing user, in milliseconds.
    #[arg(long, default_value_t = 0, help_heading = "Norikae")]
    keystroke_ms: u64,
    /// `steady`: -u users for -t; `ramp`: a quarter, half, three quarters, then all of -u
    /// users, each for a quarter of -t.
    #[arg(long, value_enum, default_value_t = Profile::Steady, help_heading = "Norikae")]
    profile: Profile,
    /// Relative weights of typing, journey and departure users.
    #[arg(long, default_value = "3,4,2", help_heading = "Norikae")]
    weights: String,
    #[command(flatten)]
    goose: GooseConfiguration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Profile {
    Steady,
    Ramp,
}

const DEFAULT_HOST: &str = "http://127.0.0.1:8081/v1";
const DEFAULT_USERS: usize = 32;
const DEFAULT_RUN_TIME: &str = "30s";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    let host = args.goose.host.clone().unwrap_or_else(|| DEFAULT_HOST.to_owned());
    let endpoints = Arc::new(match (&args.search_url, &args.route_url, &args.queries) {
        (Some(search), Some(route), None) => Endpoints::direct(search, route)?,
        // Only the route base is used.
        (None, Some(route), Some(_)) => Endpoints::direct(route, route)?,
        (None, None, None) => Endpoints::api(&host)?,
        (Some(_), _, Some(_)) => {
            anyhow::bail!("--search-url: --queries sends journeys to --route-url only")
        }
        (Some(_), None, _) | (None, Some(_), None) => {
            anyhow::bail!(
                "--search-url and --route-url go together (or --route-url with --queries)"
            )
        }
        (None, None, Some(_)) => anyhow::bail!("--queries needs --route-url"),
    });

    let users = args.goose.users.unwrap_or(DEFAULT_USERS);
    let run_time = args.goose.run_time.clone().unwrap_or_else(|| DEFAULT_RUN_TIME.to_owned());
    let ramp_plan = match args.profile {
        Profile::Steady => None,
        Profile::Ramp => {
            let total = parse_seconds(&run_time)?;
            let step = (total / 4).max(1);
            let quarter = |n: usize| (users * n).div_ceil(4).max(1);
            args.goose.users = None;
            args.goose.run_time = None;
            Some(format!(
                "{},{step}s;{},{step}s;{},{step}s;{},{step}s;0,1s",
                quarter(1),
                quarter(2),
                quarter(3),
                users
            ))
        }
    };

    let scenarios = match &args.queries {
        Some(path) => {
            let queries = Arc::new(QueryFile::read(path)?);
            vec![route_journeys(queries, endpoints.clone(), args.window)]
        }
        None => mix(&args, &endpoints)?,
    };
    let mut attack = GooseAttack::initialize_with_config(args.goose.clone())?;
    for scenario in scenarios {
        attack = attack.register_scenario(scenario);
    }
    attack = *attack.set_default(GooseDefault::Host, host.as_str())?;
    attack = match &ramp_plan {
        Some(test_plan) => *attack.set_default(GooseDefault::TestPlan, test_plan.as_str())?,
        None => *attack
            .set_default(GooseDefault::Users, users)?
            .set_default(GooseDefault::IncreaseRate, users.to_string().as_str())?
            .set_default(GooseDefault::RunTime, parse_seconds(&run_time)?)?,
    };
    let started = std::time::Instant::now();
    let metrics = attack.execute().await.context("the load test failed")?;
    print_summary(
        &metrics,
        &endpoints_label(&args, &host),
        ramp_plan.as_deref(),
        started.elapsed(),
    );
    Ok(())
}

/// The route-only user: journey searches from the query file, back to back.
fn route_journeys(
    queries: Arc<QueryFile>,
    endpoints: Arc<Endpoints>,
    window_secs: u32,
) -> Scenario {
    let function: TransactionFunction = Arc::new(move |user| {
        let (queries, endpoints) = (queries.clone(), endpoints.clone());
        Box::pin(async move {
            let url = endpoints.journeys_in_window(queries.next_journey(), window_secs);
            let response = user.get_named(&url, "route journeys").await?;
            check_body(user, response, "journeys").await
        })
    });
    scenario!("route-journeys")
        .register_transaction(Transaction::new(function).set_name("search journeys (route)"))
}

/// The rush-hour mix: typing, journey and departure users by weight.
fn mix(args: &Args, endpoints: &Arc<Endpoints>) -> anyhow::Result<Vec<Scenario>> {
    let list_path = args.stations.clone().unwrap_or_else(|| stations::default_path().to_owned());
    let plan = Arc::new(Plan::new(StationList::read(&list_path)?)?);
    let weights = parse_weights(&args.weights)?;
    let keystroke_pause = Duration::from_millis(args.keystroke_ms);
    let typing = {
        let (plan, endpoints) = (plan.clone(), endpoints.clone());
        let function: TransactionFunction = Arc::new(move |user| {
            let (plan, endpoints) = (plan.clone(), endpoints.clone());
            Box::pin(async move {
                let keys = plan.keystrokes(&mut rand::rng());
                for prefix in keys {
                    let response = user
                        .get_named(&endpoints.stations(&prefix, 10), "stations (keystroke)")
                        .await?;
                    check_body(user, response, "results").await?;
                    if !keystroke_pause.is_zero() {
                        tokio::time::sleep(keystroke_pause).await;
                    }
                }
                Ok(())
            })
        });
        scenario!("typing")
            .set_weight(weights[0])?
            .register_transaction(Transaction::new(function).set_name("type a station name"))
    };
    let journeys = {
        let (plan, endpoints) = (plan.clone(), endpoints.clone());
        let function: TransactionFunction = Arc::new(move |user| {
            let (plan, endpoints) = (plan.clone(), endpoints.clone());
            Box::pin(async move {
                let url = endpoints.journeys(&plan.journey(&mut rand::rng()));
                let response = user.get_named(&url, "journeys").await?;
                check_body(user, response, "journeys").await
            })
        });
        scenario!("journeys")
            .set_weight(weights[1])?
            .register_transaction(Transaction::new(function).set_name("search journeys"))
    };
    let departures = {
        let (plan, endpoints) = (plan.clone(), endpoints.clone());
        let function: TransactionFunction = Arc::new(move |user| {
            let (plan, endpoints) = (plan.clone(), endpoints.clone());
            Box::pin(async move {
                let url = endpoints.departures(&plan.departures(&mut rand::rng()));
                let response = user.get_named(&url, "departures").await?;
                check_body(user, response, "groups").await
            })
        });
        scenario!("departures")
            .set_weight(weights[2])?
            .register_transaction(Transaction::new(function).set_name("departure board"))
    };
    Ok(vec![typing, journeys, departures])
}

/// Records a failure when a 2xx answer is not JSON holding `field`.
async fn check_body(
    user: &mut GooseUser,
    mut response: GooseResponse,
    field: &str,
) -> TransactionResult {
    if !response.request.success {
        // Already counted as an error (status or transport) by goose.
        return Ok(());
    }
    let Ok(answer) = response.response else { return Ok(()) };
    let problem = match answer.text().await {
        Ok(body) => match serde_json::from_str::<serde_json::Value>(&body) {
            Ok(value) if value.get(field).is_some() => return Ok(()),
            Ok(_) => format!("answer without `{field}`"),
            Err(_) => "answer is not JSON".to_owned(),
        },
        Err(_) => "body cut off".to_owned(),
    };
    user.set_failure(&problem, &mut response.request, None, None)
}

fn parse_weights(text: &str) -> anyhow::Result<[usize; 3]> {
    let weights: Vec<usize> = text
        .split(',')
        .map(|part| part.trim().parse::<usize>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("--weights {text:?}: expected three whole numbers, e.g. 3,4,2"))?;
    match weights.as_slice() {
        &[typing, journeys, departures] if typing > 0 && journeys > 0 && departures > 0 => {
            Ok([typing, journeys, departures])
        }
        _ => anyhow::bail!(
            "--weights {text:?}: expected three numbers above zero (typing,journeys,departures); use --scenarios to leave a kind out"
        ),
    }
}

/// `90`, `90s`, `2m`, `1m30s` → seconds.
fn parse_seconds(text: &str) -> anyhow::Result<usize> {
    let mut total = 0;
    let mut number = String::new();
    for character in text.trim().chars() {
        if character.is_ascii_digit() {
            number.push(character);
            continue;
        }
        let value: usize = number.parse().with_context(|| format!("bad time {text:?}"))?;
        total += value
            * match character {
                'h' => 3600,
                'm' => 60,
                's' => 1,
                _ => anyhow::bail!("bad time {text:?}: use e.g. 90s, 2m or 1m30s"),
            };
        number.clear();
    }
    if !number.is_empty() {
        total += number.parse::<usize>().with_context(|| format!("bad time {text:?}"))?;
    }
    anyhow::ensure!(total > 0, "bad time {text:?}: must be above zero");
    Ok(total)
}

fn endpoints_label(args: &Args, host: &str) -> String {
    match (&args.search_url, &args.route_url, &args.queries) {
        (_, Some(route), Some(queries)) => format!(
            "route {route} (direct), journeys from {} with window={}",
            queries.display(),
            args.window
        ),
        (Some(search), Some(route), _) => format!("search {search}, route {route} (direct)"),
        _ => format!("{host} (api)"),
    }
}

fn print_summary(metrics: &GooseMetrics, target: &str, ramp: Option<&str>, wall: Duration) {
    let seconds = metrics.duration.max(1) as f64;
    println!();
    println!("== Norikae load summary");
    println!("target:   {target}");
    match ramp {
        Some(plan) => {
            println!("profile:  ramp (test plan {plan}), {} s measured", metrics.duration)
        }
        None => println!(
            "profile:  steady, {} users, {} s measured (after all users started)",
            metrics.maximum_users, metrics.duration
        ),
    }
    println!(
        "wall:     {:.1} s; machine load (1/5/15 min): {}",
        wall.as_secs_f64(),
        load_average()
    );
    println!(
        "{:<22} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "request", "count", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors"
    );
    let mut names: Vec<&String> = metrics.requests.keys().collect();
    names.sort();
    let (mut all_count, mut all_errors) = (0, 0);
    for name in names {
        let request = &metrics.requests[name];
        let timing = &request.raw_data;
        let percentile =
            |p| bucket_percentile(timing.times_us.iter(), timing.counter, p) as f64 / 1000.0;
        let count = request.success_count + request.fail_count;
        all_count += count;
        all_errors += request.fail_count;
        println!(
            "{:<22} {:>9} {:>9.1} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>8}",
            request.path,
            count,
            count as f64 / seconds,
            percentile(50.0),
            percentile(95.0),
            percentile(99.0),
            timing.maximum_time_us as f64 / 1000.0,
            request.fail_count
        );
    }
    println!(
        "{:<22} {:>9} {:>9.1} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "all",
        all_count,
        all_count as f64 / seconds,
        "",
        "",
        "",
        "",
        all_errors
    );
    if metrics.errors.is_empty() {
        println!("errors by kind: none");
    } else {
        println!("errors by kind:");
        for error in metrics.errors.values() {
            println!("  {:>7}  {} ({})", error.occurrences, error.error, error.name);
        }
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}
