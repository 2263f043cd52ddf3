//! What `rapport demo` prepares after loading, scoring and the engagement
//! step, so that every journey of "a day with Rapport" is ready to walk with
//! the printed accounts: earlier scoring dates (band migration, model drift,
//! rule lead times), a campaign awaiting approval and a launched one with
//! answers and a control group, new alerts and due tasks on the demo RM's
//! customers, survey answers, and complaints in the queue (some near their
//! deadline, one breached, one awaiting closure approval).
//!
//! Each step is one use case of its own module; a step that fails is
//! reported in the summary and the others still run (the demo stays usable).
//! Every write is made by the system actor `demo` and audited by its module.

use crate::config::Config;
use chrono::NaiveDate;
use rapport_store::Store;
use serde_json::{json, Map, Value};

/// Runs every journey's preparation in order; returns a summary per step
/// (`{"error": …}` for a step that failed). `engagement_ready` says whether
/// the engagement step saved the shipped campaigns (the campaign and survey
/// steps build on them).
pub async fn prepare_journeys(
    store: &Store,
    cfg: &Config,
    as_of: NaiveDate,
    engagement_ready: bool,
) -> Value {
    let mut out = Map::new();
    let mut keep = |name: &str, r: anyhow::Result<Value>| {
        let v = match r {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(step = name, error = format!("{e:#}"), "demo step skipped");
                json!({ "error": format!("{e:#}") })
            }
        };
        out.insert(name.to_string(), v);
    };
    keep(
        "earlier_scorings",
        crate::risk_monitor::demo_earlier_scorings(store, cfg, as_of).await,
    );
    if engagement_ready {
        keep("campaigns", crate::campaign::demo_seed(store, cfg).await);
        keep("surveys", crate::surveys::demo_seed(store).await);
    }
    keep("day_list", crate::tasks::demo_seed(store, cfg).await);
    keep("complaints", crate::cases::demo_seed(store, cfg).await);
    Value::Object(out)
}
