//! `/metrics` in Prometheus' text format: runs by status, a latency histogram, refusals,
//! and the gauges the server reads when asked (running programs, queue depth).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
struct Counts {
    runs: BTreeMap<String, u64>,
    buckets: [u64; BUCKETS.len()],
    latency_sum: f64,
    latency_count: u64,
    warm: u64,
    busy: u64,
    rate_limited: u64,
    unauthorized: u64,
}

#[derive(Default)]
pub struct Metrics {
    counts: Mutex<Counts>,
}

/// Gauges read at scrape time.
pub struct Gauges {
    pub running: usize,
    pub queue_depth: usize,
    pub max_concurrency: usize,
    /// Warm sandboxes ready, per language.
    pub pool: Vec<(&'static str, usize)>,
}

impl Metrics {
    /// A run that reached a sandbox, by its status, and how long the request took.
    pub fn run(&self, status: &str, latency: Duration, warm: bool) {
        let mut counts = self.lock();
        counts.warm += u64::from(warm);
        *counts.runs.entry(status.to_string()).or_default() += 1;
        let seconds = latency.as_secs_f64();
        for (bound, count) in BUCKETS.iter().zip(counts.buckets.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        counts.latency_sum += seconds;
        counts.latency_count += 1;
    }

    pub fn busy(&self) {
        self.lock().busy += 1;
    }

    pub fn rate_limited(&self) {
        self.lock().rate_limited += 1;
    }

    pub fn unauthorized(&self) {
        self.lock().unauthorized += 1;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn render(&self, gauges: &Gauges) -> String {
        let counts = self.lock();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP rock_runs_total Programs run, by result status."
        );
        let _ = writeln!(out, "# TYPE rock_runs_total counter");
        for (status, n) in &counts.runs {
            let _ = writeln!(out, "rock_runs_total{{status=\"{status}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP rock_run_duration_seconds Time from request to response of runs."
        );
        let _ = writeln!(out, "# TYPE rock_run_duration_seconds histogram");
        for (bound, n) in BUCKETS.iter().zip(counts.buckets.iter()) {
            let _ = writeln!(
                out,
                "rock_run_duration_seconds_bucket{{le=\"{bound}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "rock_run_duration_seconds_bucket{{le=\"+Inf\"}} {}",
            counts.latency_count
        );
        let _ = writeln!(out, "rock_run_duration_seconds_sum {}", counts.latency_sum);
        let _ = writeln!(
            out,
            "rock_run_duration_seconds_count {}",
            counts.latency_count
        );
        for (name, help, value) in [
            (
                "rock_warm_runs_total",
                "Runs that took a warm sandbox from the pool.",
                counts.warm,
            ),
            (
                "rock_busy_total",
                "Requests refused as busy (exit code -10).",
                counts.busy,
            ),
            (
                "rock_rate_limited_total",
                "Requests refused by the rate limit (HTTP 429).",
                counts.rate_limited,
            ),
            (
                "rock_unauthorized_total",
                "Requests refused for a missing or wrong token (HTTP 401).",
                counts.unauthorized,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {value}");
        }
        for (name, help, value) in [
            ("rock_running", "Programs running now.", gauges.running),
            (
                "rock_queue_depth",
                "Requests waiting for a free slot.",
                gauges.queue_depth,
            ),
            (
                "rock_max_concurrency",
                "Programs that may run at once.",
                gauges.max_concurrency,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name} {value}");
        }
        let _ = writeln!(
            out,
            "# HELP rock_pool_ready Warm sandboxes ready, per language."
        );
        let _ = writeln!(out, "# TYPE rock_pool_ready gauge");
        for (language, ready) in &gauges.pool {
            let _ = writeln!(out, "rock_pool_ready{{language=\"{language}\"}} {ready}");
        }
        out
    }
}
