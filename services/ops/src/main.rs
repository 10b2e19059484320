//! The `norikae-ops` command: `instances`, `drain`, `agent-check` against one ECS cluster.
//!
//! Settings come from flags or their env variables; AWS credentials, region and endpoint from
//! the SDK's usual chain (`AWS_REGION`, `AWS_ENDPOINT_URL`, task role, profile).

use std::io::IsTerminal;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use norikae_ops::agent_check::{AgentCheckOptions, agent_check};
use norikae_ops::backoff::Backoff;
use norikae_ops::drain::{DrainOptions, drain};
use norikae_ops::inventory::{instances_with_tasks, render_text};
use norikae_ops::redeploy::{RedeployOptions, parse_time, redeploy};
use norikae_ops::{ClientSettings, Ecs};
use serde::Serialize;

#[derive(Parser, Debug)]
#[command(name = "norikae-ops", version, about = "Operate the Norikae ECS cluster")]
struct Cli {
    /// ECS cluster name or ARN.
    #[arg(long, env = "NORIKAE_OPS_CLUSTER", default_value = "norikae")]
    cluster: String,
    /// AWS region (default: the SDK's chain, e.g. AWS_REGION).
    #[arg(long, env = "NORIKAE_OPS_REGION")]
    region: Option<String>,
    /// Another ECS endpoint (default: the SDK's chain, e.g. AWS_ENDPOINT_URL).
    #[arg(long, env = "NORIKAE_OPS_ENDPOINT_URL")]
    endpoint_url: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Attempts per call by the SDK's standard retry before our back-off takes over.
    #[arg(long, env = "NORIKAE_OPS_SDK_MAX_ATTEMPTS", default_value_t = 3)]
    sdk_max_attempts: u32,
    /// First back-off delay after a throttled call, in milliseconds (doubles each retry).
    #[arg(long, env = "NORIKAE_OPS_BACKOFF_BASE_MS", default_value_t = 200)]
    backoff_base_ms: u64,
    /// Longest back-off delay, in milliseconds.
    #[arg(long, env = "NORIKAE_OPS_BACKOFF_CAP_MS", default_value_t = 20_000)]
    backoff_cap_ms: u64,
    /// Back-off retries of one throttled call before giving up.
    #[arg(long, env = "NORIKAE_OPS_THROTTLE_RETRIES", default_value_t = 8)]
    throttle_retries: u32,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List container instances (agent, health) with their tasks and containers.
    Instances,
    /// Set instances to DRAINING and wait until their tasks have moved.
    Drain {
        /// EC2 instance ids (i-…), container instance ARNs or ids.
        #[arg(required = true)]
        instances: Vec<String>,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Drain ACTIVE instances whose agent is disconnected or impaired (for a schedule).
    AgentCheck {
        /// Report only; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Drain at most this fraction of the ACTIVE instances per run (at least one).
        #[arg(long, default_value_t = 0.5)]
        max_fraction: f64,
        /// Wait for the drained instances' tasks to move (default: set DRAINING and exit).
        #[arg(long)]
        wait: bool,
        /// Also print the run's CloudWatch metrics as one embedded-metric-format line (last
        /// line of stdout); CloudWatch Logs turns it into metrics (the scheduled task uses it).
        #[arg(long)]
        emf: bool,
        /// CloudWatch namespace of the `--emf` metrics.
        #[arg(long, default_value = norikae_ops::metrics::DEFAULT_NAMESPACE)]
        emf_namespace: String,
        #[command(flatten)]
        wait_args: WaitArgs,
    },
    /// Force a new deployment of a service (after the database password rotated: new tasks
    /// read the new secret), unless it already deployed after a given time.
    Redeploy(RedeployArgs),
}

#[derive(clap::Args, Debug)]
struct RedeployArgs {
    /// The ECS service to roll (name or ARN).
    #[arg(long)]
    service: String,
    /// Do nothing when the service's primary deployment was created at or after this RFC 3339
    /// time (the rotation event's time: its tasks already read the new secret).
    #[arg(long, value_parser = parse_time)]
    unless_deployed_after: Option<aws_sdk_ecs::primitives::DateTime>,
}

#[derive(clap::Args, Debug)]
struct WaitArgs {
    /// Seconds between two looks at the draining instances.
    #[arg(long, default_value_t = 10.0)]
    poll_secs: f64,
    /// Give up waiting after this many seconds (exit status 1).
    #[arg(long, default_value_t = 900.0)]
    timeout_secs: f64,
    /// Only set DRAINING; do not wait.
    #[arg(long)]
    no_wait: bool,
}

impl WaitArgs {
    fn options(&self) -> anyhow::Result<DrainOptions> {
        let poll_interval = Duration::try_from_secs_f64(self.poll_secs)
            .context("--poll-secs must be a non-negative number of seconds")?;
        let timeout = Duration::try_from_secs_f64(self.timeout_secs)
            .context("--timeout-secs must be a non-negative number of seconds")?;
        Ok(DrainOptions { poll_interval, timeout, no_wait: self.no_wait })
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Logs go to stderr so that stdout stays the command's output (text or JSON).
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::io::stderr().is_terminal() {
        builder.init();
    } else {
        builder.json().init();
    }
}

fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value).context("encoding the output as json")?);
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_tracing();
    let cli = Cli::parse();
    let settings = ClientSettings {
        region: cli.region.clone(),
        endpoint_url: cli.endpoint_url.clone(),
        sdk_max_attempts: cli.sdk_max_attempts,
    };
    let backoff = Backoff {
        base: Duration::from_millis(cli.backoff_base_ms),
        cap: Duration::from_millis(cli.backoff_cap_ms),
        max_retries: cli.throttle_retries,
    };
    let ecs = Ecs::new(settings.client().await, cli.cluster.clone(), backoff);
    match &cli.command {
        Command::Instances => {
            let reports = instances_with_tasks(&ecs)
                .await
                .with_context(|| format!("listing the instances of cluster {}", cli.cluster))?;
            if cli.json {
                print_json(&reports)?;
            } else {
                print!("{}", render_text(&reports));
            }
        }
        Command::Drain { instances, wait } => {
            let report = drain(&ecs, instances, wait.options()?)
                .await
                .with_context(|| format!("draining {}", instances.join(", ")))?;
            if cli.json {
                print_json(&report)?;
            } else {
                for instance in &report.instances {
                    println!(
                        "drained {} ({} task(s) moved)",
                        instance
                            .ec2_instance_id
                            .as_deref()
                            .unwrap_or(&instance.container_instance_arn),
                        instance.tasks_before.len()
                    );
                }
                println!(
                    "waited {} ms over {} poll(s); {} throttled call(s) backed off",
                    report.waited_millis, report.polls, report.throttled_calls
                );
            }
        }
        Command::AgentCheck { dry_run, max_fraction, wait, emf, emf_namespace, wait_args } => {
            let mut drain_options = wait_args.options()?;
            drain_options.no_wait = !*wait || wait_args.no_wait;
            let options = AgentCheckOptions {
                dry_run: *dry_run,
                max_fraction: *max_fraction,
                drain: drain_options,
            };
            let report = agent_check(&ecs, options)
                .await
                .with_context(|| format!("checking the agents of cluster {}", cli.cluster))?;
            if cli.json {
                print_json(&report)?;
            } else {
                println!(
                    "{} active instance(s), {} with an unhealthy agent",
                    report.active_instances,
                    report.unhealthy.len()
                );
                for name in &report.drained {
                    println!("drained {name}");
                }
                for name in &report.skipped {
                    println!("left active {name} (dry run or over --max-fraction)");
                }
            }
            if *emf {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .context("the system clock is before 1970")?;
                let millis = u64::try_from(now.as_millis()).unwrap_or(u64::MAX);
                println!(
                    "{}",
                    norikae_ops::metrics::agent_check_emf_line(&report, emf_namespace, millis)
                );
            }
        }
        Command::Redeploy(args) => {
            let options = RedeployOptions {
                service: args.service.clone(),
                unless_deployed_after: args.unless_deployed_after,
            };
            let report = redeploy(&ecs, &options)
                .await
                .with_context(|| format!("redeploying service {}", args.service))?;
            tracing::info!(
                service = %report.service,
                action = report.action,
                reason = %report.reason,
                "redeploy"
            );
            if cli.json {
                print_json(&report)?;
            } else {
                println!("{} {}: {}", report.action, report.service, report.reason);
            }
        }
    }
    Ok(())
}
