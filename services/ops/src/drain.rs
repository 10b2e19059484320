//! `drain`: set container instances to DRAINING and wait until their tasks have moved.
//!
//! DRAINING makes ECS's service scheduler start replacement tasks on ACTIVE instances and
//! stop the ones here (respecting the services' minimum healthy percent, so the load balancer
//! drains each task for its deregistration delay first). We wait until the instances run no
//! task and have none pending, polling DescribeContainerInstances.

use std::time::{Duration, Instant};

use serde::Serialize;
use tracing::info;

use crate::OpsError;
use crate::ecs::Ecs;
use crate::inventory::{InstanceReport, instances};

/// How long and how often to wait.
#[derive(Clone, Copy, Debug)]
pub struct DrainOptions {
    /// Pause between two looks at the instances.
    pub poll_interval: Duration,
    /// Give up (with `OpsError::DrainTimeout`) after this long.
    pub timeout: Duration,
    /// Only set DRAINING and return, without waiting.
    pub no_wait: bool,
}

impl Default for DrainOptions {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(10),
            timeout: Duration::from_secs(900),
            no_wait: false,
        }
    }
}

/// One drained instance.
#[derive(Clone, Debug, Serialize)]
pub struct DrainedInstance {
    pub container_instance_arn: String,
    pub ec2_instance_id: Option<String>,
    /// The tasks it ran when draining started (they were moved elsewhere).
    pub tasks_before: Vec<String>,
}

/// What a drain did.
#[derive(Clone, Debug, Serialize)]
pub struct DrainReport {
    pub cluster: String,
    pub instances: Vec<DrainedInstance>,
    /// Whether the tool waited for the tasks to leave (false with `no_wait`).
    pub waited: bool,
    pub waited_millis: u64,
    /// Looks at the instances while waiting.
    pub polls: u32,
    /// ECS calls that came back throttled and were retried after a back-off.
    pub throttled_calls: u32,
}

/// Finds the instances named by `wanted` (EC2 instance ids, container instance ARNs or ids).
pub fn select<'a>(
    cluster: &str,
    all: &'a [InstanceReport],
    wanted: &[String],
) -> Result<Vec<&'a InstanceReport>, OpsError> {
    let mut selected: Vec<&InstanceReport> = Vec::with_capacity(wanted.len());
    for name in wanted {
        let Some(found) = all.iter().find(|instance| instance.matches(name)) else {
            return Err(OpsError::UnknownInstance {
                cluster: cluster.to_owned(),
                wanted: name.clone(),
            });
        };
        if !selected.iter().any(|s| s.container_instance_arn == found.container_instance_arn) {
            selected.push(found);
        }
    }
    Ok(selected)
}

/// Drains the instances named by `wanted` and (unless `no_wait`) waits for their tasks.
pub async fn drain(
    ecs: &Ecs,
    wanted: &[String],
    options: DrainOptions,
) -> Result<DrainReport, OpsError> {
    let all = instances(ecs).await?;
    let selected = select(ecs.cluster(), &all, wanted)?;
    let arns: Vec<String> = selected.iter().map(|i| i.container_instance_arn.clone()).collect();
    let mut drained = Vec::with_capacity(selected.len());
    for instance in &selected {
        drained.push(DrainedInstance {
            container_instance_arn: instance.container_instance_arn.clone(),
            ec2_instance_id: instance.ec2_instance_id.clone(),
            tasks_before: ecs.list_task_arns_on(&instance.container_instance_arn).await?,
        });
    }
    drain_arns(ecs, drained, &arns, options).await
}

/// Sets `arns` to DRAINING and waits; `drained` describes them for the report.
pub(crate) async fn drain_arns(
    ecs: &Ecs,
    drained: Vec<DrainedInstance>,
    arns: &[String],
    options: DrainOptions,
) -> Result<DrainReport, OpsError> {
    let started = Instant::now();
    if !arns.is_empty() {
        ecs.set_draining(arns).await?;
    }
    info!(cluster = ecs.cluster(), instances = arns.len(), "set container instances to DRAINING");
    let mut report = DrainReport {
        cluster: ecs.cluster().to_owned(),
        instances: drained,
        waited: !options.no_wait,
        waited_millis: 0,
        polls: 0,
        throttled_calls: 0,
    };
    if options.no_wait || arns.is_empty() {
        report.throttled_calls = ecs.throttled_calls();
        return Ok(report);
    }
    loop {
        report.polls += 1;
        let described = ecs.describe_container_instances(arns).await?;
        let remaining: i64 = described
            .iter()
            .map(|i| i64::from(i.running_tasks_count()) + i64::from(i.pending_tasks_count()))
            .sum();
        let elapsed = started.elapsed();
        if remaining == 0 {
            info!(cluster = ecs.cluster(), polls = report.polls, "drained: no tasks left");
            report.waited_millis = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
            report.throttled_calls = ecs.throttled_calls();
            return Ok(report);
        }
        if elapsed >= options.timeout {
            return Err(OpsError::DrainTimeout {
                waited_secs: elapsed.as_secs(),
                remaining_tasks: remaining,
                instances: described
                    .iter()
                    .map(|i| InstanceReport::from_container_instance(i).display_name().to_owned())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        info!(cluster = ecs.cluster(), remaining_tasks = remaining, "waiting for tasks to move");
        tokio::time::sleep(options.poll_interval.min(options.timeout - elapsed)).await;
    }
}
