//! Logging through `tracing`: JSON lines when stdout is not a terminal (containers), readable
//! text on a terminal. In ECS, every JSON line carries the task's identity (cluster, task ARN,
//! container id, availability zone, container instance, EC2 instance id), read once at start
//! ([`crate::identity`]), so any line leads back to where it was written.

use std::fmt;
use std::io::IsTerminal;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

pub use crate::identity::{EcsIdentity, IdentityReading, IdentitySources};

/// Installs the global subscriber for `service`. Inside ECS it first reads the task identity,
/// which every JSON line then carries. `RUST_LOG` filters (default `info`);
/// `NORIKAE_LOG__FORMAT=json|text` overrides the terminal detection.
pub async fn init(service: &'static str) {
    let identity_result = match IdentitySources::from_env() {
        Some(sources) => Some(EcsIdentity::read(&sources).await),
        None => None,
    };
    let identity = identity_result
        .as_ref()
        .and_then(|result| result.as_ref().ok())
        .map(|reading| reading.identity.clone());
    if let Some(identity) = &identity {
        crate::identity::set_current(identity.clone());
    }
    let json = match std::env::var("NORIKAE_LOG__FORMAT").as_deref() {
        Ok("json") => true,
        Ok("text") => false,
        _ => !std::io::stdout().is_terminal(),
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let installed = if json {
        tracing::subscriber::set_global_default(json_subscriber(
            service,
            identity,
            std::io::stdout,
            filter,
        ))
    } else {
        tracing::subscriber::set_global_default(
            tracing_subscriber::fmt().with_env_filter(filter).with_target(false).finish(),
        )
    };
    if installed.is_err() {
        // Tests and the all-in-one command may initialise twice; the first subscriber stays.
        return;
    }
    match identity_result {
        Some(Ok(IdentityReading { identity, missing })) => {
            tracing::info!(
                cluster = identity.cluster.as_deref().unwrap_or("-"),
                task_arn = identity.task_arn.as_deref().unwrap_or("-"),
                container_instance_arn = identity.container_instance_arn.as_deref().unwrap_or("-"),
                instance_id = identity.instance_id.as_deref().unwrap_or("-"),
                "running in ECS"
            );
            for why in missing {
                tracing::warn!(missing = %why, "the log lines will lack part of the ECS identity");
            }
        }
        Some(Err(error)) => {
            tracing::warn!(%error, "ECS_CONTAINER_METADATA_URI_V4 is set but the task metadata could not be read");
        }
        None => {}
    }
}

/// A subscriber writing JSON lines to `writer`, each carrying `service` and the ECS identity.
pub fn json_subscriber<W>(
    service: &'static str,
    identity: Option<EcsIdentity>,
    writer: W,
    filter: EnvFilter,
) -> impl Subscriber + Send + Sync + 'static
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .fmt_fields(JsonFields::new())
        .event_format(JsonLines { service, ecs: identity.map(|identity| identity.to_json()) })
        .with_writer(writer)
        .finish()
}

/// One JSON object per event: timestamp, level, target, service, ECS identity, the fields of
/// the enclosing spans (request id, …) and the event's own fields.
struct JsonLines {
    service: &'static str,
    ecs: Option<Value>,
}

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
    N: for<'writer> FormatFields<'writer> + 'static,
{
    fn format_event(
        &self,
        context: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = Map::new();
        let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        line.insert("timestamp".to_owned(), Value::from(timestamp));
        line.insert("level".to_owned(), Value::from(event.metadata().level().as_str()));
        line.insert("target".to_owned(), Value::from(event.metadata().target()));
        line.insert("service".to_owned(), Value::from(self.service));
        if let Some(ecs) = &self.ecs {
            line.insert("ecs".to_owned(), ecs.clone());
        }
        if let Some(scope) = context.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                let Some(fields) = extensions.get::<FormattedFields<N>>() else { continue };
                if let Ok(Value::Object(span_fields)) = serde_json::from_str::<Value>(fields) {
                    line.extend(span_fields);
                }
            }
        }
        event.record(&mut JsonVisitor(&mut line));
        writeln!(writer, "{}", Value::Object(line))
    }
}

struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl Visit for JsonVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        // The whole cause chain, so the log says why, not just what.
        let mut chain = value.to_string();
        let mut source = value.source();
        while let Some(cause) = source {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        self.0.insert(field.name().to_owned(), Value::from(chain));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), Value::from(format!("{value:?}")));
    }
}
