//! Operations: `/healthz` (the process answers), `/readyz` (the store
//! answers), Prometheus `/metrics`, and the per-request middleware that opens
//! a tracing span with the matched route (never the raw URI, whose query may
//! carry a searched name), and records status and latency.

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rapport_services::access::Staff;
use rapport_services::audit::denial;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use tracing::Instrument as _;

/// Latency histogram bucket bounds, seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Request counters and latency histograms per (method, route).
#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<(String, String), RouteStats>>,
    started: std::sync::OnceLock<Instant>,
}

impl Metrics {
    pub fn new() -> Metrics {
        let m = Metrics::default();
        let _ = m.started.set(Instant::now());
        m
    }

    fn observe(&self, method: &str, route: &str, status: u16, secs: f64) {
        let Ok(mut routes) = self.routes.lock() else {
            return;
        };
        let s = routes
            .entry((method.to_string(), route.to_string()))
            .or_default();
        *s.by_status.entry(status).or_default() += 1;
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                s.buckets[i] += 1;
            }
        }
        s.count += 1;
        s.sum += secs;
    }

    /// The Prometheus text exposition.
    pub fn render(&self, audit_written: u64, audit_queued: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP rapport_http_requests_total Requests answered, by method, route and status."
        );
        let _ = writeln!(out, "# TYPE rapport_http_requests_total counter");
        let routes = match self.routes.lock() {
            Ok(r) => r,
            Err(p) => p.into_inner(),
        };
        for ((m, r), s) in routes.iter() {
            for (status, n) in &s.by_status {
                let _ = writeln!(
                    out,
                    "rapport_http_requests_total{{method=\"{m}\",route=\"{r}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP rapport_http_request_duration_seconds Request latency, by method and route."
        );
        let _ = writeln!(
            out,
            "# TYPE rapport_http_request_duration_seconds histogram"
        );
        for ((m, r), s) in routes.iter() {
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "rapport_http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{r}\",le=\"{b}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "rapport_http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{r}\",le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "rapport_http_request_duration_seconds_sum{{method=\"{m}\",route=\"{r}\"}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "rapport_http_request_duration_seconds_count{{method=\"{m}\",route=\"{r}\"}} {}",
                s.count
            );
        }
        drop(routes);
        let _ = writeln!(
            out,
            "# HELP rapport_audit_entries_written_total Audit entries appended to the store."
        );
        let _ = writeln!(out, "# TYPE rapport_audit_entries_written_total counter");
        let _ = writeln!(out, "rapport_audit_entries_written_total {audit_written}");
        let _ = writeln!(
            out,
            "# HELP rapport_audit_queue_entries Audit entries waiting to be appended."
        );
        let _ = writeln!(out, "# TYPE rapport_audit_queue_entries gauge");
        let _ = writeln!(out, "rapport_audit_queue_entries {audit_queued}");
        let up = self
            .started
            .get()
            .map(|s| s.elapsed().as_secs_f64())
            .unwrap_or(0.0);
        let _ = writeln!(
            out,
            "# HELP rapport_uptime_seconds Seconds since the server started."
        );
        let _ = writeln!(out, "# TYPE rapport_uptime_seconds gauge");
        let _ = writeln!(out, "rapport_uptime_seconds {up:.3}");
        out
    }
}

/// Who the request turned out to be from, filled in by the sign-in
/// extractors (`crate::auth`) so that the request's span and a refusal's
/// audit entry can name them.
#[derive(Clone, Default)]
pub struct Caller(pub Arc<OnceLock<Staff>>);

/// One span per request: route, method, and once known the caller's user id
/// and role; then status and latency. A refusal (403, 404, 429) of a
/// signed-in caller is audited with the path asked for.
pub async fn track(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let caller = Caller::default();
    req.extensions_mut().insert(caller.clone());
    let span = tracing::info_span!(
        "request",
        route = %route,
        method = %method,
        user.id = tracing::field::Empty,
        user.role = tracing::field::Empty,
    );
    let started = Instant::now();
    let res = next.run(req).instrument(span.clone()).await;
    let secs = started.elapsed().as_secs_f64();
    let status = res.status().as_u16();
    app.metrics.observe(&method, &route, status, secs);
    if matches!(status, 403 | 404 | 429) {
        if let Some(staff) = caller.0.get() {
            app.audit
                .record(denial(staff, &method, &route, &path, status))
                .instrument(span.clone())
                .await;
        }
    }
    span.in_scope(|| {
        tracing::info!(
            status,
            latency_ms = (secs * 1000.0 * 1000.0).round() / 1000.0,
            "answered"
        )
    });
    res
}

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(app): State<AppState>) -> Response {
    match app.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "readiness check: the store does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable").into_response()
        }
    }
}

pub async fn metrics(State(app): State<AppState>) -> Response {
    let body = app.metrics.render(app.audit.written(), app.audit.queued());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
