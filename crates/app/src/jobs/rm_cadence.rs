//! The RM cadence job: follow-up tasks for key customers as their contact
//! falls due.

use super::next_daily;
use super::{Job, JobFuture};
use chrono::{DateTime, FixedOffset, NaiveTime, Utc};
use rapport_services::Services;
use rapport_store::Store;

/// Creates the cadence follow-up tasks of key customers, daily at 06:00 local.
pub struct RmCadence {
    pub services: Services,
    pub offset: FixedOffset,
}

impl Job for RmCadence {
    fn name(&self) -> &'static str {
        "rm_cadence"
    }
    fn next_run(&self, after: DateTime<Utc>) -> DateTime<Utc> {
        let at = NaiveTime::from_hms_opt(6, 0, 0).unwrap_or(NaiveTime::MIN);
        next_daily(after, at, self.offset)
    }
    fn run<'a>(&'a self, store: &'a Store) -> JobFuture<'a> {
        Box::pin(async move {
            let s = &self.services;
            Ok(serde_json::to_value(
                rapport_services::rm::cadence(store, &s.settings.rm, &s.clock).await?,
            )?)
        })
    }
}
