//! `instances`: the cluster's container instances with their agent connectivity and health,
//! and the EC2 instance ↔ task ↔ container mapping.

use std::fmt::Write as _;

use aws_sdk_ecs::types::{ContainerInstance, Task};
use serde::Serialize;

use crate::OpsError;
use crate::ecs::Ecs;

/// One container instance as the operator sees it.
#[derive(Clone, Debug, Serialize)]
pub struct InstanceReport {
    pub container_instance_arn: String,
    /// The last segment of the ARN, what the console shows.
    pub container_instance_id: String,
    pub ec2_instance_id: Option<String>,
    /// ACTIVE, DRAINING, REGISTERING, …
    pub status: String,
    pub agent_connected: bool,
    /// Overall health ECS reports for the instance (OK, IMPAIRED, …), when it reports one.
    pub health: Option<String>,
    pub agent_version: Option<String>,
    pub running_tasks_count: i32,
    pub pending_tasks_count: i32,
    pub tasks: Vec<TaskReport>,
}

/// One task on an instance.
#[derive(Clone, Debug, Serialize)]
pub struct TaskReport {
    pub task_arn: String,
    /// `service:<name>` for service tasks, `family:<name>` for others.
    pub group: Option<String>,
    pub task_definition_arn: Option<String>,
    pub last_status: Option<String>,
    pub desired_status: Option<String>,
    pub containers: Vec<ContainerReport>,
}

/// One container of a task.
#[derive(Clone, Debug, Serialize)]
pub struct ContainerReport {
    pub name: Option<String>,
    /// The Docker container id on the instance (what `docker ps` shows there).
    pub runtime_id: Option<String>,
    pub last_status: Option<String>,
    pub health_status: Option<String>,
}

impl InstanceReport {
    /// The instance's facts, without its tasks.
    pub fn from_container_instance(instance: &ContainerInstance) -> Self {
        let arn = instance.container_instance_arn().unwrap_or_default().to_owned();
        Self {
            container_instance_id: arn.rsplit('/').next().unwrap_or_default().to_owned(),
            container_instance_arn: arn,
            ec2_instance_id: instance.ec2_instance_id().map(str::to_owned),
            status: instance.status().unwrap_or("UNKNOWN").to_owned(),
            agent_connected: instance.agent_connected(),
            health: instance
                .health_status()
                .and_then(|health| health.overall_status())
                .map(|status| status.as_str().to_owned()),
            agent_version: instance
                .version_info()
                .and_then(|version| version.agent_version())
                .map(str::to_owned),
            running_tasks_count: instance.running_tasks_count(),
            pending_tasks_count: instance.pending_tasks_count(),
            tasks: Vec::new(),
        }
    }

    /// Whether the instance's ECS agent cannot be trusted to run tasks: disconnected, or
    /// reported IMPAIRED by ECS's instance health checks.
    pub fn agent_unhealthy(&self) -> bool {
        !self.agent_connected || self.health.as_deref() == Some("IMPAIRED")
    }

    /// Names the instance the way an operator types it: the EC2 id, or the container
    /// instance id when ECS does not know the EC2 id.
    pub fn display_name(&self) -> &str {
        self.ec2_instance_id.as_deref().unwrap_or(&self.container_instance_id)
    }

    /// Whether `wanted` (EC2 instance id, container instance ARN or id) names this instance.
    pub fn matches(&self, wanted: &str) -> bool {
        self.ec2_instance_id.as_deref() == Some(wanted)
            || self.container_instance_arn == wanted
            || self.container_instance_id == wanted
    }
}

impl TaskReport {
    fn from_task(task: &Task) -> Self {
        Self {
            task_arn: task.task_arn().unwrap_or_default().to_owned(),
            group: task.group().map(str::to_owned),
            task_definition_arn: task.task_definition_arn().map(str::to_owned),
            last_status: task.last_status().map(str::to_owned),
            desired_status: task.desired_status().map(str::to_owned),
            containers: task
                .containers()
                .iter()
                .map(|container| ContainerReport {
                    name: container.name().map(str::to_owned),
                    runtime_id: container.runtime_id().map(str::to_owned),
                    last_status: container.last_status().map(str::to_owned),
                    health_status: container.health_status().map(|s| s.as_str().to_owned()),
                })
                .collect(),
        }
    }
}

/// Every container instance of the cluster, without tasks.
pub async fn instances(ecs: &Ecs) -> Result<Vec<InstanceReport>, OpsError> {
    let mut reports: Vec<InstanceReport> = ecs
        .all_container_instances()
        .await?
        .iter()
        .map(InstanceReport::from_container_instance)
        .collect();
    reports.sort_by(|a, b| a.display_name().cmp(b.display_name()));
    Ok(reports)
}

/// Every container instance of the cluster with its tasks and their containers.
pub async fn instances_with_tasks(ecs: &Ecs) -> Result<Vec<InstanceReport>, OpsError> {
    let mut reports = instances(ecs).await?;
    for report in &mut reports {
        let task_arns = ecs.list_task_arns_on(&report.container_instance_arn).await?;
        if task_arns.is_empty() {
            continue;
        }
        let mut tasks: Vec<TaskReport> =
            ecs.describe_tasks(&task_arns).await?.iter().map(TaskReport::from_task).collect();
        tasks.sort_by(|a, b| a.task_arn.cmp(&b.task_arn));
        report.tasks = tasks;
    }
    Ok(reports)
}

/// The mapping as a plain-text tree, one instance per block.
pub fn render_text(reports: &[InstanceReport]) -> String {
    let mut out = String::new();
    if reports.is_empty() {
        out.push_str("no container instances\n");
    }
    for report in reports {
        let _ = writeln!(
            out,
            "{ec2}  {id}  status={status} agent={agent} health={health} running={running} pending={pending} agent_version={version}",
            ec2 = report.ec2_instance_id.as_deref().unwrap_or("-"),
            id = report.container_instance_id,
            status = report.status,
            agent = if report.agent_connected { "connected" } else { "DISCONNECTED" },
            health = report.health.as_deref().unwrap_or("-"),
            running = report.running_tasks_count,
            pending = report.pending_tasks_count,
            version = report.agent_version.as_deref().unwrap_or("-"),
        );
        for task in &report.tasks {
            let _ = writeln!(
                out,
                "  task {arn}  group={group} last={last} desired={desired}",
                arn = task.task_arn,
                group = task.group.as_deref().unwrap_or("-"),
                last = task.last_status.as_deref().unwrap_or("-"),
                desired = task.desired_status.as_deref().unwrap_or("-"),
            );
            for container in &task.containers {
                let _ = writeln!(
                    out,
                    "    container {name}  runtime_id={runtime} status={status} health={health}",
                    name = container.name.as_deref().unwrap_or("-"),
                    runtime = container.runtime_id.as_deref().unwrap_or("-"),
                    status = container.last_status.as_deref().unwrap_or("-"),
                    health = container.health_status.as_deref().unwrap_or("-"),
                );
            }
        }
    }
    out
}
