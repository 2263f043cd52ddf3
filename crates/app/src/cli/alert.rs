//! `rapport alert list|show|ack|action|close`: read stored early-warning
//! alerts and move them through the workflow (new → acknowledged → actioned
//! → closed), each change recorded with its actor and note.
//!
//! Only shapes, parsing and printing here: the workflow rules and history
//! live in the store (`Store::transition_alert`); never raises alerts.

use crate::output::emit;
use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use rapport_services::config::Config;
use rapport_services::import::open;
use rapport_store::{AlertFilter, AlertRow, AlertStatus};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum AlertCommand {
    /// Stored alerts, newest first, filtered.
    List(AlertListArgs),
    /// One alert with its evidence and status history.
    Show { id: i64 },
    /// new → acknowledged: someone is looking at it.
    Ack(TransitionArgs),
    /// acknowledged → actioned: something was done.
    Action(TransitionArgs),
    /// acknowledged or actioned → closed; requires --disposition.
    Close(TransitionArgs),
}

#[derive(Debug, Args)]
pub struct AlertListArgs {
    /// new, acknowledged, actioned or closed.
    #[arg(long)]
    pub status: Option<String>,
    /// A rule code (e.g. large_outflow).
    #[arg(long)]
    pub rule: Option<String>,
    /// low, medium, high or critical.
    #[arg(long)]
    pub severity: Option<String>,
    /// A customer's store id.
    #[arg(long)]
    pub customer: Option<i64>,
    /// A staff user's id (the RM the alert is routed to).
    #[arg(long)]
    pub assignee: Option<i64>,
    /// A queue: central or branch:<code>.
    #[arg(long)]
    pub queue: Option<String>,
    #[arg(long, default_value_t = 50)]
    pub limit: i64,
    #[arg(long, default_value_t = 0)]
    pub offset: i64,
}

#[derive(Debug, Args)]
pub struct TransitionArgs {
    /// The alert's id.
    pub id: i64,
    /// Why, or what was done.
    #[arg(long)]
    pub note: Option<String>,
    /// What came of it (required to close): resolved, customer_contacted, contacted_retained (also logs the contact and creates the follow-up call), false_positive, escalated, no_action
    #[arg(long)]
    pub disposition: Option<String>,
}

pub async fn run(cfg: &Config, json: bool, actor: Option<&str>, cmd: AlertCommand) -> Result<()> {
    let store = open(&cfg.database.url).await?;
    let clock = rapport_services::clock::Clock::from_config(cfg, None)?;
    let result = dispatch(&store, &clock, json, actor, cmd).await;
    store.close().await;
    result
}

async fn dispatch(
    store: &rapport_store::Store,
    clock: &rapport_services::clock::Clock,
    json: bool,
    actor: Option<&str>,
    cmd: AlertCommand,
) -> Result<()> {
    match cmd {
        AlertCommand::List(args) => {
            let status = match args.status.as_deref() {
                None => None,
                Some(s) => match AlertStatus::parse(s) {
                    Some(st) => Some(st),
                    None => bail!("--status {s:?}: expected new, acknowledged, actioned or closed"),
                },
            };
            let filter = AlertFilter {
                status,
                rule: args.rule,
                severity: args.severity,
                customer_id: args.customer,
                assignee_id: args.assignee,
                queue: args.queue,
                limit: args.limit,
                offset: args.offset,
            };
            let alerts = store.list_alerts(&filter).await?;
            let rows: Vec<serde_json::Value> = alerts.iter().map(alert_json).collect();
            emit(
                json,
                &json!({ "alerts": rows, "count": alerts.len() }),
                || render_list(&alerts),
            )
        }
        AlertCommand::Show { id } => {
            let alert = store.alert(id).await?;
            let events = store.alert_events(id).await?;
            emit(
                json,
                &json!({ "alert": alert_json(&alert), "events": events }),
                || {
                    let mut s = render_list(std::slice::from_ref(&alert));
                    s.push_str(&format!("\nevidence: {}\n", alert.evidence));
                    for e in &events {
                        s.push_str(&format!(
                            "{}  {} → {}  by {}{}\n",
                            e.at.format("%Y-%m-%d %H:%M"),
                            e.from_status.as_deref().unwrap_or("-"),
                            e.to_status,
                            e.actor,
                            e.note
                                .as_deref()
                                .map(|n| format!(": {n}"))
                                .unwrap_or_default()
                        ));
                    }
                    s
                },
            )
        }
        AlertCommand::Ack(args) => {
            transition(store, clock, json, actor, AlertStatus::Acknowledged, args).await
        }
        AlertCommand::Action(args) => {
            transition(store, clock, json, actor, AlertStatus::Actioned, args).await
        }
        AlertCommand::Close(args) => {
            transition(store, clock, json, actor, AlertStatus::Closed, args).await
        }
    }
}

async fn transition(
    store: &rapport_store::Store,
    clock: &rapport_services::clock::Clock,
    json: bool,
    actor: Option<&str>,
    to: AlertStatus,
    args: TransitionArgs,
) -> Result<()> {
    let actor = crate::cli::acting(store, actor).await?;
    let row = rapport_services::alerts::transition(
        store,
        clock,
        &actor,
        args.id,
        to,
        args.note.as_deref(),
        args.disposition.as_deref(),
        "cli",
    )
    .await?;
    emit(json, &json!({ "alert": alert_json(&row) }), || {
        format!(
            "alert {} is now {}{}",
            row.id,
            row.status,
            row.disposition
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        )
    })
}

/// An alert as JSON, with the evidence as an object rather than a string.
fn alert_json(a: &AlertRow) -> serde_json::Value {
    let evidence: serde_json::Value =
        serde_json::from_str(&a.evidence).unwrap_or_else(|_| json!(a.evidence));
    json!({
        "id": a.id,
        "customer_id": a.customer_id,
        "rule": a.rule,
        "severity": a.severity,
        "raised_on": a.raised_on.to_string(),
        "raised_at": a.raised_at,
        "origin": a.origin,
        "message": a.message,
        "evidence": evidence,
        "assignee_id": a.assignee_id,
        "queue": a.queue,
        "status": a.status,
        "disposition": a.disposition,
        "updated_at": a.updated_at,
    })
}

fn render_list(alerts: &[AlertRow]) -> String {
    if alerts.is_empty() {
        return "no alerts".to_string();
    }
    let mut s = format!(
        "{:>7}  {:<10}  {:<22}  {:<8}  {:<12}  {:>9}  {:<14}  message\n",
        "id", "raised_on", "rule", "severity", "status", "customer", "routed to"
    );
    for a in alerts {
        let route = match (a.assignee_id, &a.queue) {
            (Some(rm), _) => format!("rm {rm}"),
            (None, Some(q)) => q.clone(),
            (None, None) => "-".to_string(),
        };
        s.push_str(&format!(
            "{:>7}  {:<10}  {:<22}  {:<8}  {:<12}  {:>9}  {:<14}  {}\n",
            a.id, a.raised_on, a.rule, a.severity, a.status, a.customer_id, route, a.message
        ));
    }
    s.pop();
    s
}
