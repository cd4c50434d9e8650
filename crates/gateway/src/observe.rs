//! What an operator sees: one structured log event per request and per decision, and
//! Prometheus metrics at `/metrics`.
//!
//! Privacy: events carry the route *template* (`/revocation-list/{batch}`, never the path
//! with its values), the status, the duration, the authenticated country, change kinds,
//! versions and problem codes. Never a body, a certificate, a subject name or a problem
//! message (messages may quote what a client sent). A test reads the whole log of a session
//! and looks for certificate content in it.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

/// Upper bounds of the request-duration histogram, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// Request counters and durations, by route template and status.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    durations: Mutex<BTreeMap<String, Histogram>>,
    changes: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
}

#[derive(Debug, Default, Clone)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Gauges read from the registry when `/metrics` is asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauges {
    /// The trust list's version.
    pub version: u64,
    /// Onboarded countries.
    pub countries: usize,
    /// Signers on the list.
    pub signers: usize,
    /// Withdrawn signers.
    pub withdrawn: usize,
    /// Current revocation batches.
    pub batches: usize,
}

impl Metrics {
    fn observe_request(&self, route: &str, status: u16, seconds: f64) {
        *self
            .requests
            .lock()
            .expect("metrics lock")
            .entry((route.to_owned(), status))
            .or_default() += 1;
        let mut durations = self.durations.lock().expect("metrics lock");
        let h = durations.entry(route.to_owned()).or_default();
        for (bucket, bound) in h.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    /// Counts a decision on a change: `outcome` is `accepted` or a problem code.
    pub fn observe_change(&self, kind: &'static str, outcome: &'static str) {
        *self
            .changes
            .lock()
            .expect("metrics lock")
            .entry((kind, outcome))
            .or_default() += 1;
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self, gauges: Gauges) -> String {
        let mut out = String::new();
        let gauge = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        };
        gauge(
            &mut out,
            "healthpass_gateway_trust_list_version",
            "Version of the trust list.",
            gauges.version,
        );
        gauge(
            &mut out,
            "healthpass_gateway_countries",
            "Onboarded countries.",
            gauges.countries as u64,
        );
        gauge(
            &mut out,
            "healthpass_gateway_signers",
            "Signer certificates on the trust list.",
            gauges.signers as u64,
        );
        gauge(
            &mut out,
            "healthpass_gateway_signers_withdrawn",
            "Signer certificates withdrawn.",
            gauges.withdrawn as u64,
        );
        gauge(
            &mut out,
            "healthpass_gateway_revocation_batches",
            "Current revocation batches.",
            gauges.batches as u64,
        );
        out.push_str("# HELP healthpass_gateway_requests_total HTTP requests by route and status.\n# TYPE healthpass_gateway_requests_total counter\n");
        for ((route, status), n) in self.requests.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                out,
                "healthpass_gateway_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP healthpass_gateway_request_duration_seconds HTTP request durations by route.\n# TYPE healthpass_gateway_request_duration_seconds histogram\n");
        for (route, h) in self.durations.lock().expect("metrics lock").iter() {
            for (bound, n) in BUCKETS.iter().zip(h.buckets) {
                let _ = writeln!(
                    out,
                    "healthpass_gateway_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "healthpass_gateway_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\n\
                 healthpass_gateway_request_duration_seconds_sum{{route=\"{route}\"}} {}\n\
                 healthpass_gateway_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count, h.sum, h.count
            );
        }
        out.push_str("# HELP healthpass_gateway_changes_total Decisions on changes by kind and outcome (accepted or the problem code).\n# TYPE healthpass_gateway_changes_total counter\n");
        for ((kind, outcome), n) in self.changes.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                out,
                "healthpass_gateway_changes_total{{kind=\"{kind}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        out
    }
}

/// Middleware: one log event and the metrics for every request.
pub async fn observe(
    axum::extract::State(metrics): axum::extract::State<std::sync::Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    // The template, not the path: a path may carry values.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = request.method().clone();
    let response = next.run(request).await;
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    metrics.observe_request(&route, status, seconds);
    tracing::info!(
        target: "healthpass_gateway::request",
        method = %method,
        route = %route,
        status,
        duration_ms = seconds * 1000.0,
        "request"
    );
    response
}
