//! CloudWatch metrics of an `agent-check` run as one line of the CloudWatch embedded metric
//! format (EMF) on stdout. CloudWatch Logs extracts the metrics from that line wherever it
//! lands (the awslogs driver or FireLens both deliver it as one log event), so the tool
//! publishes metrics without a CloudWatch client, credentials for `PutMetricData` or a
//! network call of its own. `ecs/cluster.yaml` alarms on them.
//!
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>

use serde_json::{Map, Value, json};

use crate::agent_check::AgentCheckReport;

/// Namespace of the agent check's metrics (`--emf-namespace` changes it).
pub const DEFAULT_NAMESPACE: &str = "Norikae/Ops";

/// The metrics one run publishes, each a count, with the cluster as their one dimension.
pub const AGENT_CHECK_METRICS: [&str; 4] =
    ["ActiveInstances", "UnhealthyAgents", "DrainedInstances", "SkippedInstances"];

/// The EMF document of one run: `ActiveInstances`, `UnhealthyAgents` (ACTIVE instances whose
/// agent is disconnected or impaired), `DrainedInstances` (set to DRAINING by this run) and
/// `SkippedInstances` (left ACTIVE by `--max-fraction` or `--dry-run`), dimension `Cluster`.
/// `timestamp_millis` is the run's end, in milliseconds since the Unix epoch.
pub fn agent_check_emf(report: &AgentCheckReport, namespace: &str, timestamp_millis: u64) -> Value {
    let values = [
        report.active_instances,
        report.unhealthy.len(),
        report.drained.len(),
        report.skipped.len(),
    ];
    let definitions: Vec<Value> =
        AGENT_CHECK_METRICS.iter().map(|name| json!({ "Name": name, "Unit": "Count" })).collect();
    let mut document = Map::new();
    document.insert(
        "_aws".to_owned(),
        json!({
            "Timestamp": timestamp_millis,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [["Cluster"]],
                "Metrics": definitions,
            }],
        }),
    );
    document.insert("Cluster".to_owned(), Value::from(cluster_name(&report.cluster)));
    for (name, value) in AGENT_CHECK_METRICS.iter().zip(values) {
        document.insert((*name).to_owned(), Value::from(value));
    }
    Value::Object(document)
}

/// The EMF line: the document on one line (a log event per line), never pretty-printed.
pub fn agent_check_emf_line(
    report: &AgentCheckReport,
    namespace: &str,
    timestamp_millis: u64,
) -> String {
    agent_check_emf(report, namespace, timestamp_millis).to_string()
}

/// The cluster's name, also when it was given as an ARN (`arn:…:cluster/norikae`), so the
/// dimension matches the alarm's whichever form the task was started with.
fn cluster_name(cluster: &str) -> &str {
    match cluster.strip_prefix("arn:") {
        Some(rest) => rest.rsplit_once(":cluster/").map_or(cluster, |(_, name)| name),
        None => cluster,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::InstanceReport;

    fn report(
        active: usize,
        unhealthy: usize,
        drained: &[&str],
        skipped: &[&str],
    ) -> AgentCheckReport {
        let instance = InstanceReport {
            container_instance_arn:
                "arn:aws:ecs:ap-northeast-1:123456789012:container-instance/norikae/abc".to_owned(),
            container_instance_id: "abc".to_owned(),
            ec2_instance_id: Some("i-0abc".to_owned()),
            status: "ACTIVE".to_owned(),
            agent_connected: false,
            health: Some("IMPAIRED".to_owned()),
            agent_version: None,
            running_tasks_count: 1,
            pending_tasks_count: 0,
            tasks: Vec::new(),
        };
        AgentCheckReport {
            cluster: "arn:aws:ecs:ap-northeast-1:123456789012:cluster/norikae".to_owned(),
            active_instances: active,
            unhealthy: vec![instance; unhealthy],
            drained: drained.iter().map(|name| (*name).to_owned()).collect(),
            skipped: skipped.iter().map(|name| (*name).to_owned()).collect(),
            drain: None,
        }
    }

    #[test]
    fn every_declared_metric_has_its_value_and_the_dimension_is_present() {
        let line = agent_check_emf_line(
            &report(4, 2, &["i-1"], &["i-2"]),
            DEFAULT_NAMESPACE,
            1_700_000_000_000,
        );
        assert!(!line.contains('\n'), "one log event per line: {line}");
        let document: Value = serde_json::from_str(&line).expect("json");
        let directive = &document["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(document["_aws"]["Timestamp"], 1_700_000_000_000_u64);
        assert_eq!(directive["Namespace"], "Norikae/Ops");
        assert_eq!(directive["Dimensions"], json!([["Cluster"]]));
        assert_eq!(document["Cluster"], "norikae");
        let declared: Vec<&str> = directive["Metrics"]
            .as_array()
            .expect("metrics")
            .iter()
            .map(|metric| {
                assert_eq!(metric["Unit"], "Count");
                metric["Name"].as_str().expect("name")
            })
            .collect();
        assert_eq!(declared, AGENT_CHECK_METRICS);
        assert_eq!(document["ActiveInstances"], 4);
        assert_eq!(document["UnhealthyAgents"], 2);
        assert_eq!(document["DrainedInstances"], 1);
        assert_eq!(document["SkippedInstances"], 1);
    }

    #[test]
    fn a_healthy_cluster_publishes_zeros_not_nothing() {
        // The alarm on a missing agent check treats missing data as breaching: a healthy run
        // must still publish every metric.
        let document = agent_check_emf(&report(3, 0, &[], &[]), "Test/Ns", 1);
        assert_eq!(document["UnhealthyAgents"], 0);
        assert_eq!(document["DrainedInstances"], 0);
        assert_eq!(document["ActiveInstances"], 3);
        assert_eq!(document["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Test/Ns");
    }

    #[test]
    fn the_cluster_dimension_is_the_name_in_either_form() {
        assert_eq!(cluster_name("norikae"), "norikae");
        assert_eq!(
            cluster_name("arn:aws:ecs:ap-northeast-1:123456789012:cluster/norikae"),
            "norikae"
        );
        assert_eq!(cluster_name("arn:odd"), "arn:odd");
    }
}
