//! Per-service Prometheus metrics (prometheus-client). Each service has its own registry, so
//! the four services of the all-in-one process still report separately at their `/metrics`.

use std::sync::{Arc, Mutex};

mod lock_free;

use http::Method;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

pub use self::lock_free::{AtomicHistogram, LabelledMetrics};

/// The `method` label: one of the standard methods a client of ours sends, else `OTHER`, so a
/// client sending made-up methods cannot grow the label set (each value is a new series).
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Holds a gauge up by one while alive. Released on drop, so a request or connection that
/// ends by panic, cancellation or a cut connection still leaves the gauge.
#[derive(Debug)]
pub struct GaugeGuard {
    gauge: Gauge,
}

impl GaugeGuard {
    pub fn enter(gauge: &Gauge) -> Self {
        gauge.inc();
        Self { gauge: gauge.clone() }
    }
}

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.gauge.dec();
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The matched route template (`/stations/{id}`), never the raw path, so the label set
    /// stays small; `unmatched` for 404s.
    pub route: String,
    /// From [`method_label`]: a fixed set.
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub method: String,
}

/// The HTTP server's metrics. Those every request updates take no lock ([`LabelledMetrics`],
/// [`AtomicHistogram`]).
#[derive(Clone, Debug)]
pub struct HttpMetrics {
    pub requests: LabelledMetrics<RequestLabels, Counter>,
    pub request_duration: LabelledMetrics<RouteLabels, AtomicHistogram>,
    pub requests_in_flight: Gauge,
    pub requests_shed: Counter,
    pub requests_timed_out: Counter,
    pub connections_open: Gauge,
    pub connections_accepted: Counter,
    pub connections_closed_idle: Counter,
    pub connections_cut: Counter,
    pub draining: Gauge,
    pub ready: Gauge,
}

fn latency_histogram() -> AtomicHistogram {
    AtomicHistogram::new(&[
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

impl HttpMetrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            requests: LabelledMetrics::new(Counter::default),
            request_duration: LabelledMetrics::new(latency_histogram),
            requests_in_flight: Gauge::default(),
            requests_shed: Counter::default(),
            requests_timed_out: Counter::default(),
            connections_open: Gauge::default(),
            connections_accepted: Counter::default(),
            connections_closed_idle: Counter::default(),
            connections_cut: Counter::default(),
            draining: Gauge::default(),
            ready: Gauge::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests answered, by route, method and status",
            metrics.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from request head to response head, by route and method",
            metrics.request_duration.clone(),
        );
        registry.register(
            "http_requests_in_flight",
            "Requests being handled now",
            metrics.requests_in_flight.clone(),
        );
        registry.register(
            "http_requests_shed",
            "Requests refused with 503 because too many were in flight",
            metrics.requests_shed.clone(),
        );
        registry.register(
            "http_requests_timed_out",
            "Requests answered 503 because they ran past the request timeout",
            metrics.requests_timed_out.clone(),
        );
        registry.register(
            "http_connections_open",
            "Client connections open now",
            metrics.connections_open.clone(),
        );
        registry.register(
            "http_connections_accepted",
            "Client connections accepted",
            metrics.connections_accepted.clone(),
        );
        registry.register(
            "http_connections_closed_idle",
            "Keep-alive connections the server closed after the idle timeout",
            metrics.connections_closed_idle.clone(),
        );
        registry.register(
            "http_connections_cut",
            "Connections cut at the shutdown timeout with work still in flight",
            metrics.connections_cut.clone(),
        );
        registry.register(
            "http_draining",
            "1 while the service drains for shutdown",
            metrics.draining.clone(),
        );
        registry.register(
            "service_ready",
            "1 while /health/ready answers 200",
            metrics.ready.clone(),
        );
        metrics
    }
}

/// A service's registry: names prefixed `norikae_`; in ECS every sample also carries the
/// task's labels ([`crate::identity::EcsIdentity::metric_labels`]), so the metrics of two
/// tasks of one service stay apart wherever they are collected.
pub fn service_registry(identity: Option<&crate::identity::EcsIdentity>) -> Registry {
    let labels = identity.map(crate::identity::EcsIdentity::metric_labels).unwrap_or_default();
    Registry::with_prefix_and_labels("norikae", labels.into_iter())
}

/// Renders `registry` in the OpenMetrics text format.
pub fn render(registry: &Arc<Mutex<Registry>>) -> String {
    let mut text = String::new();
    let registry = registry.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Err(error) = prometheus_client::encoding::text::encode(&mut text, &registry) {
        tracing::error!(%error, "failed to encode metrics");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::EcsIdentity;

    fn rendered(identity: Option<&EcsIdentity>) -> String {
        let mut registry = service_registry(identity);
        let metrics = HttpMetrics::register(&mut registry);
        metrics
            .requests
            .get_or_create(&RequestLabels {
                route: "/journeys".to_owned(),
                method: "GET".to_owned(),
                status: 200,
            })
            .inc();
        render(&Arc::new(Mutex::new(registry)))
    }

    #[test]
    fn samples_carry_the_task_in_ecs_and_nothing_outside() {
        let identity = EcsIdentity {
            task_arn: Some(
                "arn:aws:ecs:ap-northeast-1:123456789012:task/norikae/abc123".to_owned(),
            ),
            container_name: Some("api".to_owned()),
            ..EcsIdentity::default()
        };
        let text = rendered(Some(&identity));
        let sample = text
            .lines()
            .find(|line| line.starts_with("norikae_http_requests_total{"))
            .unwrap_or_else(|| panic!("no request counter in\n{text}"));
        assert!(sample.contains(r#"TaskId="abc123""#), "{sample}");
        assert!(sample.contains(r#"ContainerName="api""#), "{sample}");
        assert!(sample.contains(r#"route="/journeys""#), "{sample}");

        let outside = rendered(None);
        assert!(!outside.contains("TaskId"), "{outside}");
        assert!(outside.contains("norikae_http_requests_total{"), "{outside}");
    }
}
