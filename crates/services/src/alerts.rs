//! Working an alert: acknowledge, act on and close it (with a disposition),
//! within the actor's scope, audited — one use case for the pages, the API
//! and `rapport alert`.
//!
//! The disposition `contacted_retained` ("contacted – retained") is one
//! outcome for the alert and the contact log: recorded on an alert it also
//! logs the contact, creates the follow-up task and, when the alert closes,
//! concludes the customer's open retention actions as accepted; recorded in
//! the contact log ([`crate::rm::log_contact`]) it creates the follow-up task.

use crate::access::{Actor, Permission};
use crate::audit::entry_for;
use crate::clock::Clock;
use crate::error::{ServiceError, ServiceResult};
use rapport_store::{AlertRow, AlertStatus, AlertTransitionError, NewContactLog, Store};
use serde::Serialize;
use serde_json::json;

/// The disposition and contact outcome "contacted – retained".
pub const CONTACTED_RETAINED: &str = "contacted_retained";

/// What may come of a closed alert.
pub const DISPOSITIONS: [&str; 6] = [
    "resolved",
    "customer_contacted",
    CONTACTED_RETAINED,
    "false_positive",
    "escalated",
    "no_action",
];

/// Days after a "contacted – retained" contact the follow-up call is due.
pub const FOLLOW_UP_DAYS: i64 = 14;

/// What recording "contacted – retained" did besides the alert or the contact.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetainedFollowUp {
    /// The follow-up call task.
    pub task_id: i64,
    /// Who it is assigned to (the alert's assignee, else the actor).
    pub assignee: String,
    pub due_at: chrono::NaiveDateTime,
    /// Retention actions concluded as accepted (when the alert closed).
    pub retention_accepted: Vec<i64>,
}

/// Creates the follow-up task of a "contacted – retained" outcome for
/// `customer_id` (and, with `conclude`, records the customer's open
/// retention actions as accepted); audited. `alert` is the alert it answers,
/// if any. The caller has checked the actor's permission and scope.
#[allow(clippy::too_many_arguments)]
pub async fn retained_follow_up(
    store: &Store,
    clock: &Clock,
    actor: &Actor,
    via: &str,
    customer_id: i64,
    alert: Option<&AlertRow>,
    assignee_id: Option<i64>,
    conclude: bool,
) -> ServiceResult<RetainedFollowUp> {
    let assignee = match assignee_id {
        Some(id) => match store.staff_user(id).await {
            Ok(u) => u.username,
            Err(rapport_store::StoreError::NotFound(_)) => actor.name().to_string(),
            Err(e) => return Err(e.into()),
        },
        None => actor.name().to_string(),
    };
    let now = clock.local();
    let due_at = now + chrono::Duration::days(FOLLOW_UP_DAYS);
    let (why_en, why_zh) = match alert {
        Some(a) => {
            let (en, zh) = rapport_matching::alert_rule_words(&a.rule);
            (
                format!(" after the alert \"{en}\" of {}", a.raised_on),
                format!("（针对{}的“{zh}”预警）", a.raised_on),
            )
        }
        None => (String::new(), String::new()),
    };
    let script = format!(
        "Retention follow-up: the customer was contacted and retained on {}{why_en}; call to check that the situation holds and the promised help was given. / 留存回访：客户已于{}联系并挽留{why_zh}；请致电确认情况稳定、承诺的帮助已落实。",
        now.date(),
        now.date()
    );
    let task_id = store
        .create_contact_task(
            "call",
            customer_id,
            None,
            None,
            &assignee,
            due_at,
            &script,
            None,
            clock.now(),
        )
        .await?;
    let audit = vec![entry_for(
        actor,
        "contact_task.add",
        "contact_task",
        Some(task_id.to_string()),
        Some(customer_id),
        json!({ "via": via, "reason": CONTACTED_RETAINED, "alert": alert.map(|a| a.id),
                "assignee": assignee, "due_at": due_at }),
    )];
    store.append_audit(&audit).await?;
    let retention_accepted = if conclude {
        conclude_retention(store, clock, actor, via, customer_id).await?
    } else {
        Vec::new()
    };
    Ok(RetainedFollowUp {
        task_id,
        assignee,
        due_at,
        retention_accepted,
    })
}

/// Records the customer's open retention actions as accepted (the
/// customer was retained); audited. Returns their ids.
async fn conclude_retention(
    store: &Store,
    clock: &Clock,
    actor: &Actor,
    via: &str,
    customer_id: i64,
) -> ServiceResult<Vec<i64>> {
    let ids = store.open_retention_actions(customer_id).await?;
    let mut audit = Vec::new();
    for &id in &ids {
        store
            .record_recommendation_outcome(
                id,
                "accepted",
                actor.name(),
                Some("rm"),
                Some(CONTACTED_RETAINED),
                clock.now(),
            )
            .await?;
        audit.push(entry_for(
            actor,
            "recommendation.outcome",
            "recommendation",
            Some(id.to_string()),
            Some(customer_id),
            json!({ "via": via, "outcome": "accepted", "product": null,
                    "reason": CONTACTED_RETAINED }),
        ));
    }
    store.append_audit(&audit).await?;
    Ok(ids)
}

/// Moves alert `id` to `to` as `actor` (who needs [`Permission::WorkAlerts`]
/// and the alert in scope), keeps the history and writes the audit entry;
/// `via` says through which adapter (web, api, cli).
#[allow(clippy::too_many_arguments)]
pub async fn transition(
    store: &Store,
    clock: &Clock,
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
    // "Contacted – retained", recorded once: the contact goes into the
    // contact log with the same outcome, and the follow-up task is created.
    if disposition == Some(CONTACTED_RETAINED)
        && before.disposition.as_deref() != Some(CONTACTED_RETAINED)
    {
        let (contact_id, _) = store
            .log_contact(
                &NewContactLog {
                    customer_id: before.customer_id,
                    staff: actor.name(),
                    kind: "call",
                    outcome: CONTACTED_RETAINED,
                    note,
                    at: clock.local(),
                },
                clock.now(),
            )
            .await?;
        store
            .append_audit(&[entry_for(
                actor,
                "contact_log.add",
                "contact_log",
                Some(contact_id.to_string()),
                Some(before.customer_id),
                json!({ "via": via, "kind": "call", "outcome": CONTACTED_RETAINED, "alert": id }),
            )])
            .await?;
        retained_follow_up(
            store,
            clock,
            actor,
            via,
            before.customer_id,
            Some(&before),
            before.assignee_id,
            to == AlertStatus::Closed,
        )
        .await?;
    } else if to == AlertStatus::Closed && before.disposition.as_deref() == Some(CONTACTED_RETAINED)
    {
        // Retained when actioned, closed now: the retention action is concluded.
        conclude_retention(store, clock, actor, via, before.customer_id).await?;
    }
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
