//! The case SLA sweep: escalations raised when a clock passes its warning
//! or its breach.

use super::{Job, JobFuture};
use chrono::{DateTime, Duration, Utc};
use rapport_services::Services;
use rapport_store::Store;

/// Checks every open case's SLA and raises the escalations due, every five minutes.
pub struct CaseSlaSweep {
    pub services: Services,
}

impl Job for CaseSlaSweep {
    fn name(&self) -> &'static str {
        "case_sla_sweep"
    }
    fn next_run(&self, after: DateTime<Utc>) -> DateTime<Utc> {
        after + Duration::minutes(5)
    }
    fn run<'a>(&'a self, store: &'a Store) -> JobFuture<'a> {
        Box::pin(async move {
            let s = &self.services;
            Ok(serde_json::to_value(
                rapport_services::cases::sweep(store, &s.settings.cases, &s.clock).await?,
            )?)
        })
    }
}
