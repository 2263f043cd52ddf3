//! Working an alert: acknowledge, act on and close it (with a disposition),
//! within the actor's scope, audited — one use case for the pages, the API
//! and `rapport alert`.

use crate::access::{Actor, Permission};
use crate::audit::entry_for;
use crate::error::{ServiceError, ServiceResult};
use rapport_store::{AlertRow, AlertStatus, AlertTransitionError, Store};
use serde_json::json;

/// What may come of a closed alert.
pub const DISPOSITIONS: [&str; 5] = [
    "resolved",
    "customer_contacted",
    "false_positive",
    "escalated",
    "no_action",
];

/// Moves alert `id` to `to` as `actor` (who needs [`Permission::WorkAlerts`]
/// and the alert in scope), keeps the history and writes the audit entry;
/// `via` says through which adapter (web, api, cli).
pub async fn transition(
    store: &Store,
    actor: &Actor,
    id: i64,
    to: AlertStatus,
    note: Option<&str>,
    disposition: Option<&str>,
    via: &str,
) -> ServiceResult<AlertRow> {
    actor.require(Permission::WorkAlerts)?;
    let before = store
        .alert_in_scope(&actor.scope(), id)
        .await
        .map_err(|e| match e {
            rapport_store::StoreError::NotFound(_) => {
                ServiceError::not_found(format!("alert {id}"))
            }
            other => other.into(),
        })?;
    if let Some(d) = disposition {
        if !DISPOSITIONS.contains(&d) {
            return Err(ServiceError::invalid(
                "disposition",
                format!("{d:?} is not one of {}", DISPOSITIONS.join(", ")),
            ));
        }
    }
    let row = store
        .transition_alert(id, to, actor.name(), note, disposition)
        .await
        .map_err(|e| match e {
            AlertTransitionError::NotFound(_) => ServiceError::not_found(format!("alert {id}")),
            AlertTransitionError::Illegal { .. } => ServiceError::InvalidTransition(e.to_string()),
            AlertTransitionError::DispositionRequired(_) => {
                ServiceError::invalid("disposition", e.to_string())
            }
            AlertTransitionError::Store(s) => s.into(),
            other => ServiceError::Internal(other.into()),
        })?;
    store
        .append_audit(&[entry_for(
            actor,
            &format!("alert.{}", to.as_str()),
            "alert",
            Some(id.to_string()),
            Some(before.customer_id),
            json!({ "via": via, "from": before.status, "to": to.as_str(), "disposition": disposition }),
        )])
        .await?;
    Ok(row)
}
