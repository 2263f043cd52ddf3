//! The risk pages' bank history, shared by the HTTP tests and the risk
//! officer's browser journey: two versions of a model the small bank has
//! events enough for (the first active), and the demo's earlier scorings.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use rapport_services::model_registry::{self, StoreKind};
use rapport_store::Store;

/// Customers of the bank: enough for a model's events (10 of each class).
pub const BANK: u64 = 1500;

/// What the model history of the bank is.
pub struct History {
    pub as_of: NaiveDate,
    /// The registry kind trained (churn when the bank allows).
    pub kind: String,
    /// The active version (id) and a newer one not active.
    pub v1: i64,
    pub v2: i64,
}

/// Trains two churn versions (the first activated), then runs the demo's
/// earlier scorings (the pipeline 60 and 30 days back, the active model on
/// every date): the risk pages' history.
pub async fn model_history(store: &Store) -> History {
    let as_of = rapport_services::scoring::resolve_as_of(store, None)
        .await
        .unwrap();
    let cfg = model_registry::TrainConfig::default();
    // The first of these the small bank has events enough for (10 of each class).
    let candidates = [
        (StoreKind::Churn, 90),
        (StoreKind::Default, 180),
        (StoreKind::Default, 365),
        (StoreKind::Churn, 365),
        (StoreKind::Propensity("wealth".into()), 180),
        (StoreKind::Propensity("wealth".into()), 365),
    ];
    let mut trained = None;
    let mut why = Vec::new();
    for (kind, horizon) in &candidates {
        match model_registry::train(store, kind, as_of, *horizon, &cfg, "test", true).await {
            Ok(t) => {
                trained = Some((kind.clone(), *horizon, t));
                break;
            }
            Err(e) => why.push(format!("{kind:?} {horizon}: {e}")),
        }
    }
    let (kind, horizon, first) = trained.unwrap_or_else(|| panic!("no model trains: {why:#?}"));
    let second = model_registry::train(store, &kind, as_of, horizon, &cfg, "test", false)
        .await
        .expect("a second version");
    rapport_services::risk_monitor::demo_earlier_scorings(
        store,
        &rapport_services::config::Config::default(),
        as_of,
    )
    .await
    .unwrap();
    History {
        as_of,
        kind: kind.registry_kind(),
        v1: first.model_id,
        v2: second.model_id,
    }
}
