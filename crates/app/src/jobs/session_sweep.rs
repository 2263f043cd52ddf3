//! Sweeping expired sessions and old sign-in attempts.

use super::{Job, JobFuture};
use chrono::{DateTime, Duration, Utc};
use rapport_store::Store;
use serde_json::json;

/// Deletes expired sessions and sign-in attempts older than 30 days, hourly.
pub struct SessionSweep;

impl Job for SessionSweep {
    fn name(&self) -> &'static str {
        "session_sweep"
    }
    fn next_run(&self, after: DateTime<Utc>) -> DateTime<Utc> {
        after + Duration::hours(1)
    }
    fn run<'a>(&'a self, store: &'a Store) -> JobFuture<'a> {
        Box::pin(async move {
            let now = Utc::now();
            let (sessions, attempts) = store.sweep_sessions(now, now - Duration::days(30)).await?;
            Ok(json!({ "sessions_deleted": sessions, "attempts_deleted": attempts }))
        })
    }
}
