//! Sending what is due from the campaign outbox.

use super::{Job, JobFuture};
use chrono::{DateTime, Duration, Utc};
use rapport_services::Services;
use rapport_store::Store;

/// Sends what is due from the campaign outbox, every minute.
pub struct OutboxDispatch {
    pub services: Services,
}

impl Job for OutboxDispatch {
    fn name(&self) -> &'static str {
        "outbox_dispatch"
    }
    fn next_run(&self, after: DateTime<Utc>) -> DateTime<Utc> {
        after + Duration::minutes(1)
    }
    fn run<'a>(&'a self, store: &'a Store) -> JobFuture<'a> {
        Box::pin(async move {
            let d = rapport_services::dispatch::Dispatcher::from_config(
                store.clone(),
                &self.services.cfg,
            )?;
            Ok(serde_json::to_value(d.drain(&self.services.clock).await?)?)
        })
    }
}
