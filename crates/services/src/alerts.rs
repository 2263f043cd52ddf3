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
    let before = in_scope(store, actor, id).await?;
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

/// Assigns alert `id` to member of staff `assignee_id` as `actor` (who needs
/// [`Permission::AssignAlerts`] and the alert in scope); the assignee must be
/// an active member of staff who may work alerts and sees the alert's
/// customer ([`crate::cases::assignable_staff`]), else
/// [`ServiceError::Invalid`] on `assignee`. Kept in the alert's history and
/// audited; `via` says through which adapter (web, api, cli).
pub async fn assign(
    store: &Store,
    actor: &Actor,
    via: &str,
    id: i64,
    assignee_id: i64,
    at: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<AlertRow> {
    actor.require(Permission::AssignAlerts)?;
    let alert = in_scope(store, actor, id).await?;
    let user = match store.staff_user(assignee_id).await {
        Ok(u) => Some(u),
        Err(rapport_store::StoreError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let assignee = crate::cases::assignable_staff(
        store,
        "assignee",
        user,
        &format!("#{assignee_id}"),
        Permission::WorkAlerts,
        alert.customer_id,
    )
    .await?;
    store
        .assign_alert(id, assignee.id, actor.name(), at)
        .await?;
    store
        .append_audit(&[entry_for(
            actor,
            "alert.assign",
            "alert",
            Some(id.to_string()),
            Some(alert.customer_id),
            json!({ "via": via, "assignee_id": assignee.id, "assignee": assignee.username }),
        )])
        .await?;
    Ok(store.alert(id).await?)
}

/// Alert `id` if it is in the actor's scope (else not found, out of scope or not).
async fn in_scope(store: &Store, actor: &Actor, id: i64) -> ServiceResult<AlertRow> {
    store
        .alert_in_scope(&actor.scope(), id)
        .await
        .map_err(|e| match e {
            rapport_store::StoreError::NotFound(_) => {
                ServiceError::not_found(format!("alert {id}"))
            }
            other => other.into(),
        })
}
