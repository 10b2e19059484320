//! Where a log line was written, read once at start inside ECS ([`EcsIdentity`]): the task
//! and container from the task metadata endpoint (`ECS_CONTAINER_METADATA_URI_V4`), the
//! container instance from the container metadata file (`ECS_CONTAINER_METADATA_FILE`, on EC2
//! with the agent's `ECS_ENABLE_CONTAINER_METADATA=true`) and the EC2 instance id.
//!
//! The instance id cannot come from IMDS on our cluster: `ECS_AWSVPC_BLOCK_IMDS=true` keeps
//! awsvpc tasks away from it, and neither metadata source names the instance. So the
//! instance's user data writes the id (read from IMDS on the host, where it is allowed) into
//! a file that the task mounts read-only, named by `NORIKAE_LOG__INSTANCE_ID_FILE`. Without
//! that variable IMDSv2 is asked, as on a cluster that does not block it.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use serde::Deserialize;

/// Default instance metadata address (asked only inside ECS on EC2, and only when no instance
/// id file is named).
pub const IMDS_URL: &str = "http://169.254.169.254";
const METADATA_TIMEOUT: Duration = Duration::from_millis(500);
/// The agent writes the container metadata file in two steps (task fields at creation, the
/// rest once the container runs, "usually within a second" per the ECS documentation): how
/// long start-up waits for the container instance ARN, and how often it looks.
const METADATA_FILE_WAIT: Duration = Duration::from_secs(1);
const METADATA_FILE_POLL: Duration = Duration::from_millis(100);

/// Where a log line was written: the ECS task and the instance under it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct EcsIdentity {
    pub cluster: Option<String>,
    pub task_arn: Option<String>,
    pub container_id: Option<String>,
    pub container_name: Option<String>,
    pub availability_zone: Option<String>,
    pub launch_type: Option<String>,
    /// The ECS container instance (EC2 launch type), from the container metadata file.
    pub container_instance_arn: Option<String>,
    /// The EC2 instance id, from the instance id file or IMDSv2; absent on Fargate.
    pub instance_id: Option<String>,
}

/// The identity read at start ([`crate::telemetry::init`]), for the parts of the process
/// other than logging that name the task: the `/metrics` labels.
static CURRENT: OnceLock<EcsIdentity> = OnceLock::new();

/// The identity this process runs under, once [`crate::telemetry::init`] has read it; `None`
/// outside ECS or when the task metadata could not be read.
pub fn current() -> Option<&'static EcsIdentity> {
    CURRENT.get()
}

/// Records the identity the process runs under (the first call wins: tests and the all-in-one
/// command may start telemetry twice).
pub fn set_current(identity: EcsIdentity) {
    let _ = CURRENT.set(identity);
}

/// Where [`EcsIdentity::read`] looks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentitySources {
    /// The task metadata endpoint (`ECS_CONTAINER_METADATA_URI_V4`).
    pub task_metadata_uri: String,
    /// The container metadata file (`ECS_CONTAINER_METADATA_FILE`; EC2 only).
    pub container_metadata_file: Option<PathBuf>,
    /// A file holding the EC2 instance id (`NORIKAE_LOG__INSTANCE_ID_FILE`). When set, IMDS
    /// is not asked.
    pub instance_id_file: Option<PathBuf>,
    /// IMDS (`NORIKAE_LOG__IMDS_URL`, default [`IMDS_URL`]).
    pub imds_url: String,
}

impl IdentitySources {
    /// The sources the environment names; `None` outside ECS (no
    /// `ECS_CONTAINER_METADATA_URI_V4`). Empty values count as unset.
    pub fn from_env() -> Option<Self> {
        let set = |name: &str| std::env::var(name).ok().filter(|value| !value.trim().is_empty());
        Some(Self {
            task_metadata_uri: set("ECS_CONTAINER_METADATA_URI_V4")?,
            container_metadata_file: set("ECS_CONTAINER_METADATA_FILE").map(PathBuf::from),
            instance_id_file: set("NORIKAE_LOG__INSTANCE_ID_FILE").map(PathBuf::from),
            imds_url: set("NORIKAE_LOG__IMDS_URL").unwrap_or_else(|| IMDS_URL.to_owned()),
        })
    }
}

/// What [`EcsIdentity::read`] found, and why a part is missing (for a warning each, once the
/// log subscriber is installed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdentityReading {
    pub identity: EcsIdentity,
    pub missing: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TaskMetadata {
    cluster: Option<String>,
    #[serde(rename = "TaskARN")]
    task_arn: Option<String>,
    availability_zone: Option<String>,
    launch_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerMetadata {
    docker_id: Option<String>,
    name: Option<String>,
}

/// The fields of the container metadata file used here.
#[derive(Deserialize)]
struct ContainerMetadataFile {
    #[serde(rename = "ContainerInstanceARN")]
    container_instance_arn: Option<String>,
    #[serde(rename = "MetadataFileStatus")]
    status: Option<String>,
}

impl EcsIdentity {
    /// The task id: the last part of the task ARN
    /// (`arn:aws:ecs:region:account:task/cluster/<id>`).
    pub fn task_id(&self) -> Option<&str> {
        let arn = self.task_arn.as_deref()?;
        arn.rsplit('/').next().filter(|id| !id.is_empty())
    }

    /// The labels every sample of `/metrics` carries in ECS, so the CloudWatch agent beside
    /// the container can publish per-task series (its EMF dimensions name them): `TaskId` and
    /// `ContainerName`. Empty outside ECS or when the metadata lacked them.
    pub fn metric_labels(&self) -> Vec<(Cow<'static, str>, Cow<'static, str>)> {
        let mut labels = Vec::new();
        if let Some(task_id) = self.task_id() {
            labels.push((Cow::Borrowed("TaskId"), Cow::Owned(task_id.to_owned())));
        }
        if let Some(name) = self.container_name.as_deref().filter(|name| !name.is_empty()) {
            labels.push((Cow::Borrowed("ContainerName"), Cow::Owned(name.to_owned())));
        }
        labels
    }

    /// Reads the task metadata (an error when it cannot be read: then nothing is known), and,
    /// unless the task runs on Fargate, the container instance ARN and the EC2 instance id.
    /// Each call has a short timeout, so a missing endpoint delays start-up by about a
    /// second at most.
    pub async fn read(sources: &IdentitySources) -> Result<IdentityReading, reqwest::Error> {
        let client = reqwest::Client::builder().timeout(METADATA_TIMEOUT).build()?;
        let base = sources.task_metadata_uri.trim_end_matches('/');
        let container: ContainerMetadata =
            client.get(base).send().await?.error_for_status()?.json().await?;
        let task: TaskMetadata =
            client.get(format!("{base}/task")).send().await?.error_for_status()?.json().await?;
        let mut reading = IdentityReading {
            identity: Self {
                cluster: task.cluster,
                task_arn: task.task_arn,
                container_id: container.docker_id,
                container_name: container.name,
                availability_zone: task.availability_zone,
                launch_type: task.launch_type,
                container_instance_arn: None,
                instance_id: None,
            },
            missing: Vec::new(),
        };
        let on_fargate = reading
            .identity
            .launch_type
            .as_deref()
            .is_some_and(|kind| kind.eq_ignore_ascii_case("FARGATE"));
        if on_fargate {
            return Ok(reading);
        }
        match &sources.container_metadata_file {
            Some(path) => match container_instance_arn(path).await {
                Ok(arn) => reading.identity.container_instance_arn = Some(arn),
                Err(why) => reading.missing.push(why),
            },
            None => reading.missing.push(
                "no container instance ARN: ECS_CONTAINER_METADATA_FILE is not set (the \
                 agent's ECS_ENABLE_CONTAINER_METADATA=true sets it)"
                    .to_owned(),
            ),
        }
        let instance_id = match &sources.instance_id_file {
            Some(path) => instance_id_from_file(path).await,
            None => imds_instance_id(&client, &sources.imds_url).await.ok_or_else(|| {
                format!(
                    "no EC2 instance id: IMDS at {} did not answer (ECS_AWSVPC_BLOCK_IMDS=true \
                     blocks it for awsvpc tasks); name a file holding the id with \
                     NORIKAE_LOG__INSTANCE_ID_FILE",
                    sources.imds_url
                )
            }),
        };
        match instance_id {
            Ok(id) => reading.identity.instance_id = Some(id),
            Err(why) => reading.missing.push(why),
        }
        Ok(reading)
    }

    pub(crate) fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// The container instance ARN from the container metadata file, waiting up to
/// [`METADATA_FILE_WAIT`] while the agent has not written it yet.
async fn container_instance_arn(path: &Path) -> Result<String, String> {
    let deadline = tokio::time::Instant::now() + METADATA_FILE_WAIT;
    loop {
        let why = match tokio::fs::read(path).await {
            Err(error) => format!("cannot be read: {error}"),
            Ok(bytes) => match serde_json::from_slice::<ContainerMetadataFile>(&bytes) {
                Err(error) => format!("is not the agent's JSON: {error}"),
                Ok(file) => match file.container_instance_arn.filter(|arn| !arn.is_empty()) {
                    Some(arn) => return Ok(arn),
                    None => format!(
                        "names no ContainerInstanceARN (MetadataFileStatus {})",
                        file.status.as_deref().unwrap_or("absent")
                    ),
                },
            },
        };
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "no container instance ARN: ECS_CONTAINER_METADATA_FILE ({}) {why}",
                path.display()
            ));
        }
        tokio::time::sleep(METADATA_FILE_POLL).await;
    }
}

/// The EC2 instance id in `path` (`NORIKAE_LOG__INSTANCE_ID_FILE`), checked to look like one.
async fn instance_id_from_file(path: &Path) -> Result<String, String> {
    let shown = path.display();
    let text = tokio::fs::read_to_string(path).await.map_err(|error| {
        format!(
            "no EC2 instance id: NORIKAE_LOG__INSTANCE_ID_FILE ({shown}) cannot be read: {error}"
        )
    })?;
    let id = text.trim();
    if is_instance_id(id) {
        return Ok(id.to_owned());
    }
    let start: String = id.chars().take(40).collect();
    Err(format!(
        "no EC2 instance id: NORIKAE_LOG__INSTANCE_ID_FILE ({shown}) holds `{start}`, not an \
         instance id (i- and 8 or 17 hexadecimal digits)"
    ))
}

/// `i-` and 8 (older instances) or 17 lowercase hexadecimal digits.
fn is_instance_id(text: &str) -> bool {
    text.strip_prefix("i-").is_some_and(|digits| {
        matches!(digits.len(), 8 | 17)
            && digits.bytes().all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
    })
}

/// IMDSv2: a session token by PUT, then the instance id with it.
async fn imds_instance_id(client: &reqwest::Client, imds_url: &str) -> Option<String> {
    let base = imds_url.trim_end_matches('/');
    let token = client
        .put(format!("{base}/latest/api/token"))
        .header("X-aws-ec2-metadata-token-ttl-seconds", "60")
        .send()
        .await
        .ok()?
        .error_for_status()
        .ok()?
        .text()
        .await
        .ok()?;
    let instance_id = client
        .get(format!("{base}/latest/meta-data/instance-id"))
        .header("X-aws-ec2-metadata-token", token)
        .send()
        .await
        .ok()?
        .error_for_status()
        .ok()?
        .text()
        .await
        .ok()?;
    Some(instance_id.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_labels_name_the_task_and_container() {
        let identity = EcsIdentity {
            task_arn: Some(
                "arn:aws:ecs:ap-northeast-1:123456789012:task/norikae/0f4b2c0de1a94e6f9c5b7a8d9e0f1a2b"
                    .to_owned(),
            ),
            container_name: Some("route".to_owned()),
            ..EcsIdentity::default()
        };
        let labels: Vec<(String, String)> = identity
            .metric_labels()
            .into_iter()
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        assert_eq!(
            labels,
            [
                ("TaskId".to_owned(), "0f4b2c0de1a94e6f9c5b7a8d9e0f1a2b".to_owned()),
                ("ContainerName".to_owned(), "route".to_owned()),
            ]
        );
        assert!(EcsIdentity::default().metric_labels().is_empty());
    }

    #[test]
    fn instance_ids_are_recognised() {
        assert!(is_instance_id("i-0abc123def4567890"));
        assert!(is_instance_id("i-1234abcd"));
        for not_one in ["", "i-", "i-0ABC123DEF4567890", "i-0abc123def456789", "ami-1234abcd"] {
            assert!(!is_instance_id(not_one), "{not_one}");
        }
    }
}
