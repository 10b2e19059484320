//! Per-request metrics without locks. prometheus-client's `Family` takes a read lock for every
//! lookup and its `Histogram` a mutex for every observation: with them, every request of every
//! route shares two locks (one per route and method for the histogram). These keep the same
//! exposition: a labelled family is an immutable map swapped whole when a new label set
//! appears (a handful of times per process), and a histogram is atomic counters.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};

/// Metrics of one kind by label set, looked up without a lock.
#[derive(Debug)]
pub struct LabelledMetrics<L, M> {
    inner: Arc<Labelled<L, M>>,
}

#[derive(Debug)]
struct Labelled<L, M> {
    metrics: ArcSwap<HashMap<L, M>>,
    /// One writer at a time, so that two new label sets cannot each copy the map and lose the
    /// other's. Lookups never take it.
    writer: Mutex<()>,
    new_metric: fn() -> M,
}

impl<L, M> Clone for LabelledMetrics<L, M> {
    fn clone(&self) -> Self {
        Self { inner: Arc::clone(&self.inner) }
    }
}

impl<L: Clone + Hash + Eq, M: Clone> LabelledMetrics<L, M> {
    /// An empty family whose metrics `new_metric` makes.
    pub fn new(new_metric: fn() -> M) -> Self {
        Self {
            inner: Arc::new(Labelled {
                metrics: ArcSwap::from_pointee(HashMap::new()),
                writer: Mutex::new(()),
                new_metric,
            }),
        }
    }

    /// The metric of `labels` (a shared handle), made on first use.
    pub fn get_or_create(&self, labels: &L) -> M {
        if let Some(metric) = self.inner.metrics.load().get(labels) {
            return metric.clone();
        }
        let _writer = self.inner.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = self.inner.metrics.load();
        if let Some(metric) = current.get(labels) {
            return metric.clone();
        }
        let metric = (self.inner.new_metric)();
        let mut metrics = HashMap::clone(&current);
        metrics.insert(labels.clone(), metric.clone());
        self.inner.metrics.store(Arc::new(metrics));
        metric
    }
}

impl<L, M> EncodeMetric for LabelledMetrics<L, M>
where
    L: Clone + Hash + Eq + EncodeLabelSet + std::fmt::Debug,
    M: EncodeMetric + TypedMetric + std::fmt::Debug,
{
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        for (labels, metric) in self.inner.metrics.load().iter() {
            metric.encode(encoder.encode_family(labels)?)?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        M::TYPE
    }

    fn is_empty(&self) -> bool {
        self.inner.metrics.load().is_empty()
    }
}

/// A histogram of fixed buckets whose observations are atomic adds. A scrape during
/// observations may see a bucket counted and the sum not yet, which the next scrape
/// corrects; the count is the buckets' total, so `_count` and `+Inf` always agree.
#[derive(Clone, Debug)]
pub struct AtomicHistogram {
    inner: Arc<HistogramCells>,
}

#[derive(Debug)]
struct HistogramCells {
    /// Upper bounds, ascending; the `+Inf` bucket is the last of `counts`.
    bounds: Vec<f64>,
    /// Observations per bucket (not cumulative), one more than `bounds`.
    counts: Vec<AtomicU64>,
    /// The sum of the observations, as `f64` bits.
    sum_bits: AtomicU64,
}

impl AtomicHistogram {
    /// A histogram with these upper bounds (finite ones, ascending) and `+Inf`.
    pub fn new(bounds: &[f64]) -> Self {
        let mut bounds: Vec<f64> =
            bounds.iter().copied().filter(|bound| bound.is_finite()).collect();
        bounds.sort_by(f64::total_cmp);
        bounds.dedup();
        let counts = (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect();
        Self { inner: Arc::new(HistogramCells { bounds, counts, sum_bits: AtomicU64::new(0) }) }
    }

    pub fn observe(&self, value: f64) {
        let cells = &*self.inner;
        // The first bucket whose bound is at least the value (`le`); NaN goes to `+Inf`.
        let bucket = cells.bounds.partition_point(|&bound| bound < value || value.is_nan());
        cells.counts[bucket].fetch_add(1, Ordering::Relaxed);
        let _ = cells.sum_bits.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
            Some((f64::from_bits(bits) + value).to_bits())
        });
    }

    fn snapshot(&self) -> (f64, u64, Vec<(f64, u64)>) {
        let cells = &*self.inner;
        let buckets: Vec<(f64, u64)> = cells
            .bounds
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .zip(cells.counts.iter().map(|count| count.load(Ordering::Relaxed)))
            .collect();
        let count = buckets.iter().map(|(_, count)| count).sum();
        (f64::from_bits(cells.sum_bits.load(Ordering::Relaxed)), count, buckets)
    }
}

impl TypedMetric for AtomicHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for AtomicHistogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let (sum, count, buckets) = self.snapshot();
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

#[cfg(test)]
mod tests {
    use prometheus_client::encoding::text::encode;
    use prometheus_client::metrics::counter::Counter;
    use prometheus_client::registry::Registry;

    use super::*;

    #[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
    struct Labels {
        route: String,
    }

    fn labels(route: &str) -> Labels {
        Labels { route: route.to_owned() }
    }

    #[test]
    fn a_histogram_renders_cumulative_buckets_sum_and_count() {
        // Bounds out of order; values exact in binary, so that the sum prints exactly.
        let histogram = AtomicHistogram::new(&[0.5, 0.25, 1.0]);
        for value in [0.125, 0.25, 0.5, 2.0] {
            histogram.observe(value);
        }
        let mut registry = Registry::default();
        registry.register("latency", "test", histogram);
        let mut text = String::new();
        encode(&mut text, &registry).expect("encodes");
        for line in [
            "latency_sum 2.875",
            "latency_count 4",
            "latency_bucket{le=\"0.25\"} 2",
            "latency_bucket{le=\"0.5\"} 3",
            "latency_bucket{le=\"1.0\"} 3",
            "latency_bucket{le=\"+Inf\"} 4",
        ] {
            assert!(text.lines().any(|rendered| rendered == line), "{line:?} in\n{text}");
        }
    }

    #[test]
    fn each_label_set_gets_one_metric_shared_by_every_thread() {
        const THREADS: u64 = 4;
        const PER_THREAD: u64 = 1_000;
        let family: LabelledMetrics<Labels, Counter> = LabelledMetrics::new(Counter::default);
        std::thread::scope(|scope| {
            for thread in 0..THREADS {
                let family = &family;
                scope.spawn(move || {
                    for request in 0..PER_THREAD {
                        let route = if (thread + request) % 2 == 0 { "/a" } else { "/b" };
                        family.get_or_create(&labels(route)).inc();
                    }
                });
            }
        });
        let total = THREADS * PER_THREAD;
        assert_eq!(family.get_or_create(&labels("/a")).get(), total / 2);
        assert_eq!(family.get_or_create(&labels("/b")).get(), total / 2);
        let mut registry = Registry::default();
        registry.register("requests", "test", family);
        let mut text = String::new();
        encode(&mut text, &registry).expect("encodes");
        assert!(text.contains("requests_total{route=\"/a\"} 2000"), "{text}");
    }
}
