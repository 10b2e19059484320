//! Starts a new deployment of one ECS service, for the database password rotation: ECS reads
//! a task's secrets when the task starts, so after RDS rotates the master password the api's
//! running tasks cannot open new connections until they are replaced. An EventBridge rule on
//! Secrets Manager's `RotationSucceeded` runs `norikae-ops redeploy --service api
//! --unless-deployed-after <event time>` (ecs/cluster.yaml), which forces a rolling
//! deployment: the service's usual drain-aware roll, alarms and circuit breaker included.
//!
//! `--unless-deployed-after` makes a repeated or late event harmless: when the service's
//! primary deployment started after the rotation, its tasks already read the new secret, and
//! nothing is done.

use aws_sdk_ecs::primitives::{DateTime, DateTimeFormat};
use serde::Serialize;

use crate::{Ecs, OpsError};

/// What [`redeploy`] is asked to do.
#[derive(Clone, Debug)]
pub struct RedeployOptions {
    /// The ECS service (name or ARN) in the tool's cluster.
    pub service: String,
    /// Skip when the primary deployment was created at or after this time.
    pub unless_deployed_after: Option<DateTime>,
}

/// What [`redeploy`] did.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct RedeployReport {
    pub service: String,
    /// `started` or `skipped`.
    pub action: &'static str,
    /// Why it was skipped, or what the new deployment replaces.
    pub reason: String,
    /// The primary deployment before the call (id, creation time RFC 3339).
    pub previous_deployment: Option<DeploymentSummary>,
    /// The primary deployment after the call.
    pub primary_deployment: Option<DeploymentSummary>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct DeploymentSummary {
    pub id: String,
    pub created_at: Option<String>,
}

/// Parses an RFC 3339 time (`2026-12-07T01:02:03Z`, as EventBridge's `$.time`).
pub fn parse_time(text: &str) -> Result<DateTime, String> {
    DateTime::from_str(text.trim(), DateTimeFormat::DateTimeWithOffset)
        .map_err(|error| format!("{text:?} is not an RFC 3339 time: {error}"))
}

fn format_time(time: &DateTime) -> Option<String> {
    time.fmt(DateTimeFormat::DateTime).ok()
}

fn summary(deployment: &aws_sdk_ecs::types::Deployment) -> Option<DeploymentSummary> {
    Some(DeploymentSummary {
        id: deployment.id()?.to_owned(),
        created_at: deployment.created_at().and_then(format_time),
    })
}

/// Forces a new deployment of `options.service`, unless its primary deployment is newer than
/// `options.unless_deployed_after`.
pub async fn redeploy(ecs: &Ecs, options: &RedeployOptions) -> Result<RedeployReport, OpsError> {
    let service = ecs.describe_service(&options.service).await?;
    let primary_before = service
        .deployments()
        .iter()
        .find(|deployment| deployment.status() == Some("PRIMARY"))
        .or_else(|| service.deployments().first());
    let previous_deployment = primary_before.and_then(summary);
    if let (Some(threshold), Some(created_at)) = (
        options.unless_deployed_after.as_ref(),
        primary_before.and_then(|deployment| deployment.created_at()),
    ) && created_at >= threshold
    {
        return Ok(RedeployReport {
            service: options.service.clone(),
            action: "skipped",
            reason: format!(
                "the primary deployment was created at {}, not before {}: its tasks already \
                 started after that time",
                format_time(created_at).unwrap_or_default(),
                format_time(threshold).unwrap_or_default()
            ),
            primary_deployment: previous_deployment.clone(),
            previous_deployment,
        });
    }
    let updated = ecs.force_new_deployment(&options.service).await?;
    let primary_deployment = updated
        .deployments()
        .iter()
        .find(|deployment| deployment.status() == Some("PRIMARY"))
        .or_else(|| updated.deployments().first())
        .and_then(summary);
    Ok(RedeployReport {
        service: options.service.clone(),
        action: "started",
        reason: match &previous_deployment {
            Some(previous) => format!("replacing the tasks of deployment {}", previous.id),
            None => "the service had no deployment".to_owned(),
        },
        previous_deployment,
        primary_deployment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_times_parse_and_bad_ones_are_named() {
        let time = parse_time("2026-12-07T01:02:03Z").expect("an EventBridge time");
        assert_eq!(time.secs(), 1_796_605_323);
        assert!(parse_time("2026-12-07T10:02:03+09:00").is_ok());
        let error = parse_time("yesterday").expect_err("not a time");
        assert!(error.contains("\"yesterday\""), "{error}");
    }
}
