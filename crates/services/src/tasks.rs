//! The RM's day (`/tasks`): one ranked list of what to do today for the
//! customers of the actor's scope (an RM's book, a manager's branch) —
//! alerts not closed, call and meeting tasks that are open (cadence
//! contacts, follow-ups), cases near or past their SLA, and proposed next
//! best actions — and what the RM records from it: a contact with its
//! outcome, which closes the alert or task it answers (the follow-up of a
//! "contacted – retained" outcome is created by [`crate::alerts`] or
//! [`crate::rm::log_contact`], the one place that rule lives).
//!
//! **The ranking rule** ([`rank`]): overdue rows first; then by priority
//! (0 is the most urgent: an alert's or a case's severity, critical 0 …
//! low 3; a follow-up task 1, a cadence task 2; a proposed retention action
//! 1, a reassessment 2, a sale 3); then by due date, earliest first; then
//! by kind (alert, case, follow-up, cadence, action) and id, so the order
//! is total and stable.
//!
//! **Due dates**: an alert is due the day after it was raised (a next-day
//! response) and overdue after that; a task on its due time (overdue once
//! it is past); a case on the deadline of the SLA clock that is running
//! (first response until answered, then resolution) and listed only when
//! that clock is in warning or breached; a proposed action today, never
//! overdue.

use crate::access::{Actor, Permission, Role};
use crate::audit::entry_for;
use crate::error::{ServiceError, ServiceResult};
use crate::privacy::{mask_name, mask_phone, Field};
use crate::rm::{ContactEntry, ContactKind, ContactOutcome};
use crate::Services;
use anyhow::Context as _;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use rapport_engage::sla::SlaState;
use rapport_store::{AlertStatus, DayCustomer, Scope, Store};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeSet, HashMap};

/// How many customers' proposed actions the day list shows at most.
pub const ACTIONS_SHOWN: i64 = 20;

/// What a row of the day list is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// An alert not closed.
    Alert,
    /// A case near or past its SLA.
    Case,
    /// A call or meeting task other than a cadence contact (a follow-up).
    FollowUp,
    /// A cadence contact due.
    Cadence,
    /// A proposed next best action.
    Action,
}

impl DayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Alert => "alert",
            DayKind::Case => "case",
            DayKind::FollowUp => "follow_up",
            DayKind::Cadence => "cadence",
            DayKind::Action => "action",
        }
    }
}

/// One row of the day list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayRow {
    pub kind: DayKind,
    /// The alert's, task's, case's or recommendation's id.
    pub id: i64,
    pub customer_id: i64,
    pub customer_key: String,
    /// Masked by the masking policy for the actor.
    pub customer_name: Option<String>,
    pub customer_phone: Option<String>,
    /// The local day it is due.
    pub due: NaiveDate,
    pub overdue: bool,
    /// 0 (most urgent) … 3.
    pub priority: u8,
    /// The code behind the row: the alert's rule, the task's kind, the
    /// case's state, the action's kind.
    pub code: String,
    /// A severity code (alerts and cases).
    pub severity: Option<String>,
    /// Why, in English and Chinese.
    pub why_en: String,
    pub why_zh: String,
}

/// The ranking key of a row (see the module's documentation).
pub fn rank_key(r: &DayRow) -> (bool, u8, NaiveDate, DayKind, i64) {
    (!r.overdue, r.priority, r.due, r.kind, r.id)
}

/// Ranks the rows: overdue first, then priority, then due date (then kind and id).
pub fn rank(rows: &mut [DayRow]) {
    rows.sort_by_key(rank_key);
}

/// The priority of a severity code (critical 0 … low 3; unknown as medium).
pub fn severity_priority(s: &str) -> u8 {
    match s {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        "low" => 3,
        _ => 2,
    }
}

/// Masks a customer's name and phone as the masking policy says for `actor`.
fn masked(svc: &Services, actor: &Actor, c: &DayCustomer) -> (Option<String>, Option<String>) {
    let shows = |f: Field| match actor {
        Actor::Staff(s) => svc.settings.masking.shows(s, f),
        Actor::System { .. } => true,
    };
    let name = c.name.as_deref().map(|n| {
        if shows(Field::Name) {
            n.to_string()
        } else {
            mask_name(n)
        }
    });
    let phone = c.phone.as_deref().map(|p| {
        if shows(Field::Phone) {
            p.to_string()
        } else {
            mask_phone(p)
        }
    });
    (name, phone)
}

/// The first reason of a stored action's detail and its product's name,
/// in English and Chinese.
fn action_why(detail: &str) -> (String, String) {
    let v: serde_json::Value = serde_json::from_str(detail).unwrap_or_default();
    let text = |k: &str| {
        v["reasons"][0][k]
            .as_str()
            .map(str::to_string)
            .unwrap_or_default()
    };
    let product = |k: &str| v["product"][k].as_str().map(str::to_string);
    let join = |a: Option<String>, b: String, sep: &str| match (a, b.is_empty()) {
        (Some(a), false) => format!("{a}{sep}{b}"),
        (Some(a), true) => a,
        (None, _) => b,
    };
    (
        join(product("name_en"), text("en"), ": "),
        join(product("name_zh"), text("zh"), "："),
    )
}

/// The day list of `actor` (who needs [`Permission::Workbench`]): the open
/// work of the customers in their scope, an RM's own tasks only, ranked by
/// [`rank`], names and phones masked by the policy.
pub async fn day(svc: &Services, actor: &Actor) -> ServiceResult<Vec<DayRow>> {
    actor.require(Permission::Workbench)?;
    let scope = actor.scope();
    let assignee = match actor {
        Actor::Staff(s) if s.role == Role::Rm => Some(actor.name()),
        _ => None,
    };
    let store = &svc.store;
    let items = store.day_items(&scope, assignee, ACTIONS_SHOWN).await?;
    let now = svc.clock.local();
    let today = now.date();
    let mut rows: Vec<(i64, DayRow)> = Vec::new();
    let row = |kind: DayKind, id: i64, customer_id: i64| DayRow {
        kind,
        id,
        customer_id,
        customer_key: format!("#{customer_id}"),
        customer_name: None,
        customer_phone: None,
        due: today,
        overdue: false,
        priority: 2,
        code: String::new(),
        severity: None,
        why_en: String::new(),
        why_zh: String::new(),
    };
    for a in &items.alerts {
        let (en, zh) = rapport_matching::alert_rule_words(&a.rule);
        let due = a.raised_on + Duration::days(1);
        rows.push((
            a.customer_id,
            DayRow {
                due,
                overdue: due < today,
                priority: severity_priority(&a.severity),
                code: a.rule.clone(),
                severity: Some(a.severity.clone()),
                why_en: format!("Alert raised on {}: {en}", a.raised_on),
                why_zh: format!("{}触发预警：{zh}", a.raised_on),
                ..row(DayKind::Alert, a.id, a.customer_id)
            },
        ));
    }
    for t in &items.tasks {
        let cadence = t.kind == "cadence";
        let (en, zh) = if cadence {
            ("Cadence contact due", "定期联系到期")
        } else if t.campaign_id.is_some() {
            ("Campaign call", "营销活动回访")
        } else {
            ("Follow-up contact", "跟进回访")
        };
        rows.push((
            t.customer_id,
            DayRow {
                due: t.due_at.date(),
                overdue: t.due_at < now,
                priority: if cadence { 2 } else { 1 },
                code: t.kind.clone(),
                why_en: format!("{en} (due {})", t.due_at.date()),
                why_zh: format!("{zh}（{}到期）", t.due_at.date()),
                ..row(
                    if cadence {
                        DayKind::Cadence
                    } else {
                        DayKind::FollowUp
                    },
                    t.id,
                    t.customer_id,
                )
            },
        ));
    }
    for id in &items.case_ids {
        let Some(c) = store.case(*id).await? else {
            continue;
        };
        let [first, resolution] = crate::cases::sla_of(store, &svc.settings.cases, &c, now)
            .await
            .map_err(ServiceError::Internal)?;
        let clock = if c.first_response_at.is_none() {
            first
        } else {
            resolution
        };
        if !matches!(clock.state, SlaState::Warning | SlaState::Breached) {
            continue;
        }
        let breached = clock.state == SlaState::Breached;
        rows.push((
            c.customer_id,
            DayRow {
                due: clock.due.date(),
                overdue: breached,
                priority: severity_priority(&c.severity),
                code: c.state.clone(),
                severity: Some(c.severity.clone()),
                why_en: format!(
                    "Case {} \"{}\": {} due {}",
                    c.id,
                    c.subject,
                    if breached {
                        "past its SLA,"
                    } else {
                        "near its SLA,"
                    },
                    clock.due.format("%Y-%m-%d %H:%M")
                ),
                why_zh: format!(
                    "工单{}“{}”：{}，时限{}",
                    c.id,
                    c.subject,
                    if breached {
                        "已超时"
                    } else {
                        "即将超时"
                    },
                    clock.due.format("%Y-%m-%d %H:%M")
                ),
                ..row(DayKind::Case, c.id, c.customer_id)
            },
        ));
    }
    for r in &items.recommendations {
        let (en, zh) = action_why(&r.detail);
        rows.push((
            r.customer_id,
            DayRow {
                priority: match r.action.as_str() {
                    "retention" => 1,
                    "reassessment" => 2,
                    _ => 3,
                },
                code: r.action.clone(),
                why_en: en,
                why_zh: zh,
                ..row(DayKind::Action, r.id, r.customer_id)
            },
        ));
    }
    let ids: Vec<i64> = rows
        .iter()
        .map(|(c, _)| *c)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let customers: HashMap<i64, DayCustomer> = store
        .day_customers(&scope, &ids)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut out: Vec<DayRow> = rows
        .into_iter()
        .filter_map(|(c, mut r)| {
            let cust = customers.get(&c)?;
            let (name, phone) = masked(svc, actor, cust);
            r.customer_key = cust.key.clone();
            r.customer_name = name;
            r.customer_phone = phone;
            Some(r)
        })
        .collect();
    rank(&mut out);
    Ok(out)
}

/// Customer `key`'s key and name as `actor` sees them ("key · name", the
/// name masked by the policy); None when unknown or out of the actor's scope.
pub async fn customer_label(
    svc: &Services,
    actor: &Actor,
    key: &str,
) -> ServiceResult<Option<String>> {
    let id = match svc.store.customer_id_by_key(&actor.scope(), key).await {
        Ok(id) => id,
        Err(rapport_store::StoreError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let found = svc.store.day_customers(&actor.scope(), &[id]).await?;
    Ok(found.first().map(|c| {
        let (name, _) = masked(svc, actor, c);
        match name {
            Some(n) => format!("{} · {n}", c.key),
            None => c.key.clone(),
        }
    }))
}

/// A contact to record from the day list.
#[derive(Debug, Clone, Default)]
pub struct ContactForm {
    pub customer_key: String,
    /// call | visit | video | message
    pub kind: String,
    /// A [`ContactOutcome`] code.
    pub outcome: String,
    pub note: Option<String>,
    /// The alert the contact answers, if any.
    pub alert_id: Option<i64>,
    /// The task the contact answers, if any.
    pub task_id: Option<i64>,
}

/// What recording a contact did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactRecorded {
    pub customer_id: i64,
    /// The alert closed by it.
    pub closed_alert: Option<i64>,
    /// The task closed by it.
    pub closed_task: Option<i64>,
    /// When the follow-up of a "contacted – retained" outcome is due.
    pub follow_up_due: Option<NaiveDateTime>,
}

/// Records a contact with its outcome as `actor` (who needs
/// [`Permission::Workbench`] and the customer in scope), through `via`.
///
/// - Answering an **alert** (a call): "contacted – retained" closes the
///   alert with that disposition through [`crate::alerts::transition`]
///   (which logs the call and creates the follow-up task); "no answer"
///   logs the call and leaves the alert open, acknowledged; any other
///   outcome logs the call and closes the alert as "customer contacted".
/// - Answering a **task**: the contact is logged ([`crate::rm::log_contact`],
///   which closes cadence tasks and creates the follow-up of "contacted –
///   retained") and the task is closed with the outcome; audited.
/// - Otherwise the contact is logged.
pub async fn record_contact(
    svc: &Services,
    actor: &Actor,
    via: &str,
    f: &ContactForm,
) -> ServiceResult<ContactRecorded> {
    actor.require(Permission::Workbench)?;
    let kind = ContactKind::parse(f.kind.trim())
        .map_err(|e| ServiceError::invalid("kind", e.to_string()))?;
    let outcome = ContactOutcome::parse(f.outcome.trim())
        .map_err(|e| ServiceError::invalid("outcome", e.to_string()))?;
    let note = f.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 2000) {
        return Err(ServiceError::invalid("note", "at most 2000 characters"));
    }
    if f.alert_id.is_some() && kind != ContactKind::Call {
        return Err(ServiceError::invalid(
            "kind",
            "an alert is answered from the list by a call",
        ));
    }
    let store = &svc.store;
    let clock = &svc.clock;
    let customer_id = store
        .customer_id_by_key(&actor.scope(), f.customer_key.trim())
        .await?;
    let entry = ContactEntry {
        customer_key: f.customer_key.trim().to_string(),
        kind,
        outcome,
        note: note.map(str::to_string),
        by: actor.name().to_string(),
    };
    let retained = outcome == ContactOutcome::ContactedRetained;
    let follow_up_due =
        retained.then(|| clock.local() + Duration::days(crate::alerts::FOLLOW_UP_DAYS));
    let mut done = ContactRecorded {
        customer_id,
        closed_alert: None,
        closed_task: None,
        follow_up_due,
    };
    if let Some(alert_id) = f.alert_id {
        let alert = store
            .alert_in_scope(&actor.scope(), alert_id)
            .await
            .map_err(|e| match e {
                rapport_store::StoreError::NotFound(_) => {
                    ServiceError::not_found(format!("alert {alert_id}"))
                }
                other => other.into(),
            })?;
        if alert.customer_id != customer_id {
            return Err(ServiceError::invalid(
                "alert",
                format!("alert {alert_id} is not about this customer"),
            ));
        }
        if alert.status == "closed" {
            return Err(ServiceError::invalid(
                "alert",
                format!("alert {alert_id} is already closed"),
            ));
        }
        let step = |to: AlertStatus, disposition: Option<&'static str>| {
            crate::alerts::transition(store, clock, actor, alert_id, to, note, disposition, via)
        };
        if alert.status == "new" {
            step(AlertStatus::Acknowledged, None).await?;
        }
        if retained {
            step(AlertStatus::Closed, Some(crate::alerts::CONTACTED_RETAINED)).await?;
            done.closed_alert = Some(alert_id);
        } else {
            crate::rm::log_contact(store, clock, actor, via, entry).await?;
            if outcome != ContactOutcome::NoAnswer {
                step(AlertStatus::Closed, Some("customer_contacted")).await?;
                done.closed_alert = Some(alert_id);
            }
        }
        return Ok(done);
    }
    crate::rm::log_contact(store, clock, actor, via, entry).await?;
    if let Some(task_id) = f.task_id {
        let task = store
            .open_day_task(task_id)
            .await?
            .filter(|t| t.customer_id == customer_id);
        if task.is_some() {
            // A cadence task was closed with the contact; any other is closed here.
            store
                .close_contact_task(task_id, customer_id, outcome.as_str(), clock.now())
                .await?;
            store
                .append_audit(&[entry_for(
                    actor,
                    "contact_task.done",
                    "contact_task",
                    Some(task_id.to_string()),
                    Some(customer_id),
                    json!({ "via": via, "outcome": outcome.as_str(), "kind": kind.as_str() }),
                )])
                .await?;
        }
        done.closed_task = Some(task_id);
    }
    Ok(done)
}

/// Prepares the demo RM's day (`rapport demo`): the RM the demo prints
/// (the first active RM of a branch by user name, as
/// [`crate::access::demo_accounts`] picks) gets customers with open
/// alerts (up to three alerted customers of their branch, else of the
/// bank, are assigned to them when they have none) and cadence tasks due (key customers are
/// assigned and the cadence run; when the RM still has no open task, one
/// of their customers gets a cadence contact due today). Returns a summary.
pub async fn demo_seed(
    store: &Store,
    cfg: &crate::config::Config,
) -> anyhow::Result<serde_json::Value> {
    let users = store.staff_users().await?;
    let Some(rm) = users
        .iter()
        .filter(|u| u.role == "rm" && u.active && !u.is_service())
        .min_by_key(|u| (u.branch_id.is_none(), u.username.clone()))
        .cloned()
    else {
        return Ok(json!({ "rm": null }));
    };
    let clock = crate::clock::Clock::from_config(cfg, None)?;
    let settings = crate::rm::RmSettings::from_config(cfg)?;
    let scope = Scope::Rm(rm.id);
    let open = store.day_items(&scope, Some(&rm.username), 0).await?;
    let mut assigned = 0;
    if open.alerts.is_empty() {
        // Alerted customers of the RM's branch, else of the bank.
        let mut alerted = match rm.branch_id {
            Some(b) => store.day_items(&Scope::Branch(b), None, 0).await?.alerts,
            None => Vec::new(),
        };
        if alerted.is_empty() {
            alerted = store.day_items(&Scope::All, None, 0).await?.alerts;
        }
        // Up to three alerts of distinct customers: the customers move to
        // the RM and so do the alerts (audited as the demo's doing).
        let mut picked: Vec<&rapport_store::DayAlert> = Vec::new();
        for a in &alerted {
            if picked.len() < 3 && picked.iter().all(|p| p.customer_id != a.customer_id) {
                picked.push(a);
            }
        }
        let pairs: Vec<(i64, i64)> = picked.iter().map(|a| (a.customer_id, rm.id)).collect();
        assigned = pairs.len();
        store.set_rm_assignments(&pairs, clock.now()).await?;
        let demo = Actor::system("demo");
        for a in picked.iter().filter(|a| a.assignee_id != Some(rm.id)) {
            crate::alerts::assign(store, &demo, "demo", a.id, rm.id, clock.now()).await?;
        }
    }
    let key_assignment = crate::rm::assign(store, &settings, &clock, false).await;
    let cadence = crate::rm::cadence(store, &settings, &clock).await;
    let mut seeded_task = None;
    if store
        .day_items(&scope, Some(&rm.username), 0)
        .await?
        .tasks
        .is_empty()
    {
        let page = store
            .search_customers(
                &scope,
                &rapport_store::CustomerFilter {
                    per_page: 1,
                    ..Default::default()
                },
            )
            .await?;
        if let Some(c) = page.items.first() {
            let due = clock.local().date().and_time(crate::rm::cadence_due_time());
            seeded_task = store
                .create_cadence_task(
                    &rapport_store::NewCadenceTask {
                        customer_id: c.id,
                        assignee: &rm.username,
                        due_at: due,
                        script: "定期回访（演示）：请联系客户了解近况。\nCadence follow-up (demo): call the customer to hear how they are.",
                    },
                    clock.now(),
                )
                .await
                .context("creating the demo RM's cadence task")?;
        }
    }
    let day = store.day_items(&scope, Some(&rm.username), 0).await?;
    Ok(json!({
        "rm": rm.username,
        "alerted_customers_assigned": assigned,
        "key_assignment": key_assignment.map(|r| r.assigned).map_err(|e| format!("{e:#}")).ok(),
        "cadence_tasks_created": cadence.map(|r| r.created).map_err(|e| format!("{e:#}")).ok(),
        "seeded_task": seeded_task,
        "open_alerts": day.alerts.len(),
        "open_tasks": day.tasks.len(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    fn r(kind: DayKind, id: i64, due: &str, overdue: bool, priority: u8) -> DayRow {
        DayRow {
            kind,
            id,
            customer_id: id,
            customer_key: format!("#{id}"),
            customer_name: None,
            customer_phone: None,
            due: d(due),
            overdue,
            priority,
            code: String::new(),
            severity: None,
            why_en: String::new(),
            why_zh: String::new(),
        }
    }

    #[test]
    fn overdue_rows_come_first_then_priority_then_due_date() {
        let mut rows = vec![
            r(DayKind::Action, 1, "2026-12-07", false, 1),
            r(DayKind::Cadence, 2, "2026-12-01", true, 2),
            r(DayKind::Alert, 3, "2026-12-08", false, 0),
            r(DayKind::Alert, 4, "2026-12-05", true, 0),
            r(DayKind::FollowUp, 5, "2026-12-06", false, 1),
        ];
        rank(&mut rows);
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        assert_eq!(ids, vec![4, 2, 3, 5, 1]);
    }

    #[test]
    fn severities_rank_critical_first() {
        assert!(severity_priority("critical") < severity_priority("high"));
        assert!(severity_priority("high") < severity_priority("medium"));
        assert!(severity_priority("medium") < severity_priority("low"));
    }
}
