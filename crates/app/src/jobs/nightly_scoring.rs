//! The nightly scoring job: every customer scored with the configured
//! scorecard, rules and segments, then the models and next best actions
//! refreshed.

use super::next_daily;
use super::{Job, JobFuture};
use chrono::{DateTime, FixedOffset, NaiveTime, Utc};
use rapport_services::Services;
use rapport_store::Store;
use serde_json::json;

/// Scores every customer as of the day after the latest transaction, at a
/// configured local time every night.
pub struct NightlyScoring {
    pub at: NaiveTime,
    pub offset: FixedOffset,
    /// The settings (the configured scorecard, rules, segments and
    /// catalogue), built once at start-up.
    pub services: Services,
}

impl Job for NightlyScoring {
    fn name(&self) -> &'static str {
        "nightly_scoring"
    }
    fn next_run(&self, after: DateTime<Utc>) -> DateTime<Utc> {
        next_daily(after, self.at, self.offset)
    }
    fn run<'a>(&'a self, store: &'a Store) -> JobFuture<'a> {
        Box::pin(async move {
            let as_of = rapport_services::scoring::resolve_as_of(store, None).await?;
            let report = rapport_services::scoring::run_scoring(
                store,
                as_of,
                &self.services.settings.scoring,
            )
            .await?;
            let v = serde_json::to_value(&report)?;
            let refresh = rapport_services::recommendations::refresh(
                store,
                &self.services.settings.matching,
                as_of,
                "nightly_scoring",
            )
            .await?;
            // The reports kept for the old data are stale: recomputed now,
            // not by the next page view.
            rapport_services::warm::refresh_logged(&self.services, "nightly_scoring").await;
            Ok(json!({
                "as_of": as_of,
                "scorecard": v.get("scorecard"),
                "customers": v.get("customers"),
                "bands": v.get("bands"),
                "alerts": v.get("alerts"),
                "models_scored": refresh.models.len(),
                "recommendations": refresh.recommendations.actions,
            }))
        })
    }
}
