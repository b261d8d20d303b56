//! Prometheus metrics, rendered in the text exposition format. Labels are bounded
//! sets (method, route template, status, severity, drift category): never a
//! deployment id.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

/// A histogram with fixed buckets (seconds). Lock-free: every request observes one,
/// from every worker thread at once. Each observation increments one bucket (the
/// first bound it is under, or none past the last); the cumulative `le` counts are
/// summed when rendered, so they never decrease with `le` even while requests are
/// being observed.
pub struct Histogram {
    bounds: &'static [f64],
    buckets: Vec<AtomicU64>,
    /// The sum's `f64` bits.
    sum: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            buckets: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0f64.to_bits()),
            count: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, v: f64) {
        if let Some(i) = self.bounds.iter().position(|b| v <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        let _ = self
            .sum
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + v).to_bits())
            });
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn render(&self, name: &str, help: &str, out: &mut String) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0u64;
        for (b, n) in self.bounds.iter().zip(&self.buckets) {
            cumulative += n.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {cumulative}");
        }
        // `+Inf` is the count: read last, and never below the finite buckets.
        let count = self.count.load(Ordering::Relaxed).max(cumulative);
        let sum = f64::from_bits(self.sum.load(Ordering::Relaxed));
        let _ = writeln!(
            out,
            "{name}_bucket{{le=\"+Inf\"}} {count}\n{name}_sum {sum}\n{name}_count {count}"
        );
    }
}

/// Counters keyed by a rendered label set.
#[derive(Default)]
pub struct Counter(Mutex<BTreeMap<String, u64>>);

impl Counter {
    pub fn add(&self, labels: &str, n: u64) {
        if let Ok(mut m) = self.0.lock() {
            // A label set is new once; every later call finds it without allocating.
            match m.get_mut(labels) {
                Some(v) => *v += n,
                None => {
                    m.insert(labels.to_string(), n);
                }
            }
        }
    }

    fn render(&self, name: &str, help: &str, out: &mut String) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        if let Ok(m) = self.0.lock() {
            if m.is_empty() {
                let _ = writeln!(out, "{name} 0");
            }
            for (labels, v) in m.iter() {
                if labels.is_empty() {
                    let _ = writeln!(out, "{name} {v}");
                } else {
                    let _ = writeln!(out, "{name}{{{labels}}} {v}");
                }
            }
        }
    }
}

pub struct Metrics {
    pub apply_duration: Histogram,
    pub policy_violations: Counter,
    pub drift_events: Counter,
    pub http_requests: Counter,
    pub http_duration: Histogram,
    pub operations_in_progress: AtomicI64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            apply_duration: Histogram::new(&[
                1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
            ]),
            policy_violations: Counter::default(),
            drift_events: Counter::default(),
            http_requests: Counter::default(),
            http_duration: Histogram::new(&[
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 5.0,
            ]),
            operations_in_progress: AtomicI64::new(0),
        }
    }
}

/// Escapes a label value (borrowed when there is nothing to escape, as usual).
pub fn label(v: &str) -> std::borrow::Cow<'_, str> {
    if !v.contains(['\\', '"', '\n']) {
        return std::borrow::Cow::Borrowed(v);
    }
    std::borrow::Cow::Owned(
        v.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n"),
    )
}

impl Metrics {
    /// The exposition text; `ring` adds the event-stream gauges and counters.
    pub fn render(&self, ring: &crate::events::Ring) -> String {
        let mut out = String::new();
        self.apply_duration.render(
            "infra_apply_duration_seconds",
            "Time from the start of an apply to its end (succeeded, failed or rolled back).",
            &mut out,
        );
        self.policy_violations.render(
            "infra_policy_violations_total",
            "Policy findings reported by /generate, by severity.",
            &mut out,
        );
        self.drift_events.render(
            "infra_drift_events_total",
            "Drift findings reported by drift scans, by category.",
            &mut out,
        );
        self.http_requests.render(
            "http_requests_total",
            "HTTP requests by method, route template and status.",
            &mut out,
        );
        self.http_duration.render(
            "http_request_duration_seconds",
            "HTTP request latency.",
            &mut out,
        );
        let gauges = [
            (
                "infra_operations_in_progress",
                "Operations this agent is running now.",
                self.operations_in_progress
                    .load(Ordering::Relaxed)
                    .to_string(),
            ),
            (
                "infra_event_subscribers",
                "Live event-stream subscribers.",
                ring.subscribers.load(Ordering::Relaxed).to_string(),
            ),
        ];
        for (name, help, v) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        let counters = [
            (
                "infra_events_published_total",
                "Events published to the stream.",
                ring.published.load(Ordering::Relaxed),
            ),
            (
                "infra_events_dropped_total",
                "In-process events refused by the publish rate limit (store events are delayed instead, never dropped).",
                ring.dropped.load(Ordering::Relaxed),
            ),
            (
                "infra_events_delayed_total",
                "Store events the publish rate limit held back for a later relay poll.",
                ring.delayed.load(Ordering::Relaxed),
            ),
            (
                "infra_event_subscribers_dropped_total",
                "Subscribers dropped because they stopped reading.",
                ring.subscribers_dropped.load(Ordering::Relaxed),
            ),
        ];
        for (name, help, v) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_inf_is_the_count() {
        let h = Histogram::new(&[0.1, 1.0]);
        for v in [0.0625, 0.5, 0.5, 3.0] {
            h.observe(v);
        }
        let mut out = String::new();
        h.render("x", "help", &mut out);
        assert!(out.contains("x_bucket{le=\"0.1\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"1\"} 3\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"+Inf\"} 4\n"), "{out}");
        assert!(out.contains("x_sum 4.0625\n"), "{out}");
        assert!(out.contains("x_count 4\n"), "{out}");
    }
}
