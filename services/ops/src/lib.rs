//! `norikae-ops`: the operator's tool for the Norikae ECS cluster.
//!
//! It sits beside the services, not in them: it talks to the ECS API (and only to it — the
//! EC2 instance id comes from DescribeContainerInstances) to show which EC2 instance runs which
//! task and container ([`inventory`]), to drain instances and wait until their tasks have moved
//! ([`drain`]), and to find container instances whose agent is disconnected or impaired and
//! drain them ([`agent_check`], meant to run on a schedule, publishing CloudWatch metrics as
//! embedded-metric-format lines: [`metrics`]), and to roll a service's tasks after the
//! database password rotates ([`redeploy`]). Every ECS call goes through
//! [`ecs::Ecs`], which backs off when the API throttles ([`backoff`]).

pub mod agent_check;
pub mod backoff;
pub mod drain;
pub mod ecs;
pub mod inventory;
pub mod metrics;
pub mod redeploy;

pub use ecs::{ClientSettings, Ecs};

/// Errors of the ops library; the binary wraps them with `anyhow` context.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// The ECS API answered an error that is not throttling (or the request never got there).
    #[error("ecs {operation} failed: {message}")]
    Api { operation: &'static str, code: Option<String>, message: String },
    /// The ECS API kept throttling after every back-off retry.
    #[error("ecs {operation} still throttled after {retries} back-off retries")]
    Throttled { operation: &'static str, retries: u32 },
    /// ECS answered a per-item failure (for example `MISSING`) for a container instance.
    #[error("ecs {operation} failed for {arn}: {reason}")]
    ItemFailure { operation: &'static str, arn: String, reason: String },
    /// An instance named on the command line is not a container instance of the cluster.
    #[error("no container instance of cluster {cluster} matches {wanted}")]
    UnknownInstance { cluster: String, wanted: String },
    /// The service named on the command line is not in the cluster.
    #[error("no service {service} in cluster {cluster}")]
    UnknownService { cluster: String, service: String },
    /// The drained instances still had tasks when the wait ran out.
    #[error(
        "drain timed out after {waited_secs} s: {remaining_tasks} task(s) still on {instances}"
    )]
    DrainTimeout { waited_secs: u64, remaining_tasks: i64, instances: String },
}

impl OpsError {
    /// Stable short code for logs and the JSON output.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Api { .. } => "ecs_api",
            Self::Throttled { .. } => "ecs_throttled",
            Self::ItemFailure { .. } => "ecs_item_failure",
            Self::UnknownInstance { .. } => "unknown_instance",
            Self::UnknownService { .. } => "unknown_service",
            Self::DrainTimeout { .. } => "drain_timeout",
        }
    }
}
