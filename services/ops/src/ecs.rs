//! The ECS client as the ops tool uses it: one cluster, every call wrapped in the throttling
//! back-off of [`crate::backoff`], pagination and the API's batch limits handled here.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_ecs::Client;
use aws_sdk_ecs::config::Region;
use aws_sdk_ecs::config::http::HttpResponse;
use aws_sdk_ecs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_ecs::types::{
    ContainerInstance, ContainerInstanceField, ContainerInstanceStatus, DesiredStatus, Failure,
    Service, Task,
};
use tracing::warn;

use crate::OpsError;
use crate::backoff::{Backoff, is_throttling};

/// DescribeContainerInstances and DescribeTasks take at most 100 ARNs per call.
const DESCRIBE_BATCH: usize = 100;
/// UpdateContainerInstancesState takes at most 10 ARNs per call.
const UPDATE_STATE_BATCH: usize = 10;

/// How to reach the ECS API. Unset fields fall back to the SDK's usual chain (env
/// `AWS_REGION`, `AWS_ENDPOINT_URL`, profile, container or instance credentials).
#[derive(Clone, Debug, Default)]
pub struct ClientSettings {
    pub region: Option<String>,
    /// Another endpoint, for example a moto server in tests.
    pub endpoint_url: Option<String>,
    /// Attempts per call by the SDK's standard retry (1 = no SDK retry; ours still applies).
    pub sdk_max_attempts: u32,
}

impl ClientSettings {
    /// Builds the ECS client from these settings and the environment.
    pub async fn client(&self) -> Client {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(self.sdk_max_attempts.max(1)));
        if let Some(region) = &self.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(endpoint_url) = &self.endpoint_url {
            loader = loader.endpoint_url(endpoint_url);
        }
        Client::new(&loader.load().await)
    }
}

/// One cluster's ECS API, with throttling back-off and a count of the throttled calls.
pub struct Ecs {
    client: Client,
    cluster: String,
    backoff: Backoff,
    throttled_calls: AtomicU32,
}

impl Ecs {
    pub fn new(client: Client, cluster: impl Into<String>, backoff: Backoff) -> Self {
        Self { client, cluster: cluster.into(), backoff, throttled_calls: AtomicU32::new(0) }
    }

    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// How many calls came back throttled (each was retried after a back-off delay).
    pub fn throttled_calls(&self) -> u32 {
        self.throttled_calls.load(Ordering::Relaxed)
    }

    /// Sends one call, retrying with back-off while the API throttles.
    async fn call<T, E, F, Fut>(&self, operation: &'static str, mut send: F) -> Result<T, OpsError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let mut retry = 0;
        loop {
            let error = match send().await {
                Ok(output) => return Ok(output),
                Err(error) => error,
            };
            if !is_throttling(&error) {
                return Err(OpsError::Api {
                    operation,
                    code: error.code().map(str::to_owned),
                    message: DisplayErrorContext(&error).to_string(),
                });
            }
            self.throttled_calls.fetch_add(1, Ordering::Relaxed);
            if retry >= self.backoff.max_retries {
                return Err(OpsError::Throttled { operation, retries: retry });
            }
            let delay = self.backoff.delay(retry);
            warn!(
                operation,
                retry,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                "ecs throttled the call; backing off"
            );
            tokio::time::sleep(delay).await;
            retry += 1;
        }
    }

    /// ARNs of every container instance registered in the cluster.
    pub async fn list_container_instance_arns(&self) -> Result<Vec<String>, OpsError> {
        let mut arns = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let page = self
                .call("ListContainerInstances", || {
                    self.client
                        .list_container_instances()
                        .cluster(&self.cluster)
                        .set_next_token(next_token.clone())
                        .send()
                })
                .await?;
            arns.extend(page.container_instance_arns().iter().cloned());
            next_token = page.next_token().map(str::to_owned);
            if next_token.is_none() {
                return Ok(arns);
            }
        }
    }

    /// Describes container instances (with their health), in batches of 100.
    pub async fn describe_container_instances(
        &self,
        arns: &[String],
    ) -> Result<Vec<ContainerInstance>, OpsError> {
        let mut instances = Vec::with_capacity(arns.len());
        for batch in arns.chunks(DESCRIBE_BATCH) {
            let output = self
                .call("DescribeContainerInstances", || {
                    self.client
                        .describe_container_instances()
                        .cluster(&self.cluster)
                        .set_container_instances(Some(batch.to_vec()))
                        .include(ContainerInstanceField::ContainerInstanceHealth)
                        .send()
                })
                .await?;
            check_failures("DescribeContainerInstances", output.failures())?;
            instances.extend(output.container_instances().iter().cloned());
        }
        Ok(instances)
    }

    /// Every container instance of the cluster, described.
    pub async fn all_container_instances(&self) -> Result<Vec<ContainerInstance>, OpsError> {
        let arns = self.list_container_instance_arns().await?;
        if arns.is_empty() {
            return Ok(Vec::new());
        }
        self.describe_container_instances(&arns).await
    }

    /// ARNs of the tasks ECS wants running on one container instance.
    pub async fn list_task_arns_on(
        &self,
        container_instance_arn: &str,
    ) -> Result<Vec<String>, OpsError> {
        let mut arns = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let page = self
                .call("ListTasks", || {
                    self.client
                        .list_tasks()
                        .cluster(&self.cluster)
                        .container_instance(container_instance_arn)
                        .desired_status(DesiredStatus::Running)
                        .set_next_token(next_token.clone())
                        .send()
                })
                .await?;
            arns.extend(page.task_arns().iter().cloned());
            next_token = page.next_token().map(str::to_owned);
            if next_token.is_none() {
                return Ok(arns);
            }
        }
    }

    /// Describes tasks (with their containers), in batches of 100.
    pub async fn describe_tasks(&self, arns: &[String]) -> Result<Vec<Task>, OpsError> {
        let mut tasks = Vec::with_capacity(arns.len());
        for batch in arns.chunks(DESCRIBE_BATCH) {
            let output = self
                .call("DescribeTasks", || {
                    self.client
                        .describe_tasks()
                        .cluster(&self.cluster)
                        .set_tasks(Some(batch.to_vec()))
                        .send()
                })
                .await?;
            check_failures("DescribeTasks", output.failures())?;
            tasks.extend(output.tasks().iter().cloned());
        }
        Ok(tasks)
    }

    /// Sets container instances to DRAINING, in batches of 10.
    pub async fn set_draining(&self, arns: &[String]) -> Result<(), OpsError> {
        for batch in arns.chunks(UPDATE_STATE_BATCH) {
            let output = self
                .call("UpdateContainerInstancesState", || {
                    self.client
                        .update_container_instances_state()
                        .cluster(&self.cluster)
                        .set_container_instances(Some(batch.to_vec()))
                        .status(ContainerInstanceStatus::Draining)
                        .send()
                })
                .await?;
            check_failures("UpdateContainerInstancesState", output.failures())?;
        }
        Ok(())
    }

    /// Describes one service of the cluster (with its deployments).
    pub async fn describe_service(&self, service: &str) -> Result<Service, OpsError> {
        let output = self
            .call("DescribeServices", || {
                self.client.describe_services().cluster(&self.cluster).services(service).send()
            })
            .await?;
        check_failures("DescribeServices", output.failures())?;
        output.services().first().cloned().ok_or_else(|| OpsError::UnknownService {
            cluster: self.cluster.clone(),
            service: service.to_owned(),
        })
    }

    /// Starts a new deployment of `service` with its current task definition: ECS replaces
    /// every task by the service's rolling rules (new tasks read their secrets anew).
    pub async fn force_new_deployment(&self, service: &str) -> Result<Service, OpsError> {
        let output = self
            .call("UpdateService", || {
                self.client
                    .update_service()
                    .cluster(&self.cluster)
                    .service(service)
                    .force_new_deployment(true)
                    .send()
            })
            .await?;
        output.service().cloned().ok_or_else(|| OpsError::UnknownService {
            cluster: self.cluster.clone(),
            service: service.to_owned(),
        })
    }
}

/// Turns the first per-item failure of a batch call into an error.
fn check_failures(operation: &'static str, failures: &[Failure]) -> Result<(), OpsError> {
    match failures.first() {
        None => Ok(()),
        Some(failure) => Err(OpsError::ItemFailure {
            operation,
            arn: failure.arn().unwrap_or("(no arn)").to_owned(),
            reason: [failure.reason(), failure.detail()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": "),
        }),
    }
}
