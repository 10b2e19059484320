//! `agent-check`: find container instances whose ECS agent is disconnected or impaired and
//! drain them, so their tasks move to healthy instances (and the capacity provider's managed
//! scaling replaces the capacity). Meant to run on a schedule: it is idempotent (instances
//! already DRAINING are left alone), bounded (`max_fraction`), and by default does not wait.

use serde::Serialize;
use tracing::{info, warn};

use crate::OpsError;
use crate::drain::{DrainOptions, DrainReport, DrainedInstance, drain_arns};
use crate::ecs::Ecs;
use crate::inventory::{InstanceReport, instances};

/// How far one run may go.
#[derive(Clone, Copy, Debug)]
pub struct AgentCheckOptions {
    /// Report only; change nothing.
    pub dry_run: bool,
    /// Never drain more than this fraction of the ACTIVE instances in one run (at least one
    /// is always allowed), so a control-plane blip that shows every agent as disconnected
    /// does not empty the cluster.
    pub max_fraction: f64,
    pub drain: DrainOptions,
}

/// What one run found and did.
#[derive(Clone, Debug, Serialize)]
pub struct AgentCheckReport {
    pub cluster: String,
    pub active_instances: usize,
    /// ACTIVE instances with a disconnected or impaired agent.
    pub unhealthy: Vec<InstanceReport>,
    /// EC2 ids (or container instance ids) set to DRAINING by this run.
    pub drained: Vec<String>,
    /// Unhealthy instances left ACTIVE because of `max_fraction` (or `dry_run`).
    pub skipped: Vec<String>,
    pub drain: Option<DrainReport>,
}

/// Runs one check.
pub async fn agent_check(
    ecs: &Ecs,
    options: AgentCheckOptions,
) -> Result<AgentCheckReport, OpsError> {
    let all = instances(ecs).await?;
    let active: Vec<&InstanceReport> = all.iter().filter(|i| i.status == "ACTIVE").collect();
    let unhealthy: Vec<InstanceReport> =
        active.iter().filter(|i| i.agent_unhealthy()).map(|i| (*i).clone()).collect();
    for instance in &unhealthy {
        warn!(
            instance = instance.display_name(),
            agent_connected = instance.agent_connected,
            health = instance.health.as_deref().unwrap_or("-"),
            "container instance agent unhealthy"
        );
    }
    let allowed = drain_budget(active.len(), options.max_fraction);
    let (to_drain, skipped) = if options.dry_run {
        (&unhealthy[..0], &unhealthy[..])
    } else {
        unhealthy.split_at(allowed.min(unhealthy.len()))
    };
    let mut report = AgentCheckReport {
        cluster: ecs.cluster().to_owned(),
        active_instances: active.len(),
        unhealthy: unhealthy.clone(),
        drained: to_drain.iter().map(|i| i.display_name().to_owned()).collect(),
        skipped: skipped.iter().map(|i| i.display_name().to_owned()).collect(),
        drain: None,
    };
    if to_drain.is_empty() {
        info!(cluster = ecs.cluster(), unhealthy = unhealthy.len(), "agent check: nothing drained");
        return Ok(report);
    }
    let arns: Vec<String> = to_drain.iter().map(|i| i.container_instance_arn.clone()).collect();
    let mut drained = Vec::with_capacity(to_drain.len());
    for instance in to_drain {
        drained.push(DrainedInstance {
            container_instance_arn: instance.container_instance_arn.clone(),
            ec2_instance_id: instance.ec2_instance_id.clone(),
            tasks_before: ecs.list_task_arns_on(&instance.container_instance_arn).await?,
        });
    }
    report.drain = Some(drain_arns(ecs, drained, &arns, options.drain).await?);
    Ok(report)
}

/// How many instances one run may drain: `max_fraction` of the active ones, at least one.
pub fn drain_budget(active: usize, max_fraction: f64) -> usize {
    let fraction = max_fraction.clamp(0.0, 1.0);
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let budget = (active as f64 * fraction).floor() as usize;
    budget.max(1)
}

#[cfg(test)]
mod tests {
    use super::drain_budget;

    #[test]
    fn budget_is_a_fraction_of_active_instances_but_at_least_one() {
        assert_eq!(drain_budget(4, 0.5), 2);
        assert_eq!(drain_budget(5, 0.5), 2);
        assert_eq!(drain_budget(1, 0.5), 1);
        assert_eq!(drain_budget(10, 0.0), 1);
        assert_eq!(drain_budget(10, 3.0), 10);
    }
}
