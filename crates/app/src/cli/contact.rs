//! `rapport contact check|dnd|coverage`: the contact policy over the store.
//!
//! `check` decides whether one message may go to a customer now (or at
//! `--at`, local time) and logs the decision with its reason; `dnd` records
//! a customer's do-not-disturb choice; `coverage` is the share of customers
//! reachable by at least one live consent (the channel-coverage KPI).
//! The rules are `rapport_engage::decide`; the history the caps count is
//! the campaign outbox (queued, sent, delivered and responded messages).

use crate::output::emit;
use anyhow::{bail, Context, Result};
use chrono::{NaiveDate, NaiveDateTime, Utc};
use clap::{Args, Subcommand};
use rapport_engage::{decide, Purpose, SendChannel};
use rapport_services::config::Config;
use rapport_services::consents::{consents, record_consent, send_history, set_do_not_disturb};
use rapport_services::import::open;
use rapport_store::{ContactDecisionRow, Store};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum ContactCommand {
    /// May this message go to the customer? Decides and logs it with its reason.
    Check(CheckArgs),
    /// Record the customer's do-not-disturb choice (marketing stops; service continues).
    Dnd(DndArgs),
    /// Record a consent given or refused (the latest record per channel and purpose decides).
    Consent(ConsentArgs),
    /// The share of customers reachable by at least one live consent.
    Coverage {
        /// The day (default today).
        #[arg(long)]
        as_of: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The customer's key.
    #[arg(long)]
    pub customer: String,
    /// sms, email, app_push, wechat, phone or meeting.
    #[arg(long)]
    pub channel: String,
    /// service or marketing.
    #[arg(long)]
    pub purpose: String,
    /// Local time of the send, YYYY-MM-DDTHH:MM (default: now at `jobs.utc_offset`).
    #[arg(long)]
    pub at: Option<String>,
}

#[derive(Debug, Args)]
pub struct ConsentArgs {
    /// The customer's key.
    #[arg(long)]
    pub customer: String,
    /// phone, online, mobile or wechat (or a send channel: sms, email, app_push, meeting).
    #[arg(long)]
    pub channel: String,
    /// service or marketing.
    #[arg(long)]
    pub purpose: String,
    /// Grant (default) or refuse.
    #[arg(long)]
    pub refuse: bool,
    /// The day it takes effect (default today), YYYY-MM-DD.
    #[arg(long)]
    pub on: Option<String>,
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Debug, Args)]
pub struct DndArgs {
    /// The customer's key.
    #[arg(long)]
    pub customer: String,
    /// Turn do-not-disturb off instead of on.
    #[arg(long)]
    pub off: bool,
    #[arg(long)]
    pub reason: Option<String>,
}

pub async fn run(cfg: &Config, json: bool, actor: Option<&str>, cmd: ContactCommand) -> Result<()> {
    let store = open(&cfg.database.url).await?;
    let result = dispatch(&store, cfg, json, actor, cmd).await;
    store.close().await;
    result
}

/// Now in the bank's local time (`jobs.utc_offset`, checked at start-up).
fn local_now(cfg: &Config) -> NaiveDateTime {
    match cfg.jobs.utc_offset.parse::<chrono::FixedOffset>() {
        Ok(offset) => Utc::now().with_timezone(&offset).naive_local(),
        Err(_) => Utc::now().naive_utc(),
    }
}

async fn dispatch(
    store: &Store,
    cfg: &Config,
    json: bool,
    actor: Option<&str>,
    cmd: ContactCommand,
) -> Result<()> {
    match cmd {
        ContactCommand::Check(a) => {
            // The decision is logged with who asked.
            let actor = crate::cli::acting(store, actor).await?;
            let channel = SendChannel::parse(&a.channel).with_context(|| {
                format!(
                    "--channel {:?}: one of {}",
                    a.channel,
                    SendChannel::ALL
                        .iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            let Some(purpose) = Purpose::parse(&a.purpose) else {
                bail!("--purpose {:?}: service or marketing", a.purpose);
            };
            let at = match &a.at {
                Some(s) => NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
                    .with_context(|| format!("--at {s:?}: expected YYYY-MM-DDTHH:MM"))?,
                None => local_now(cfg),
            };
            let id = store
                .customer_id_by_key(&actor.scope(), &a.customer)
                .await
                .with_context(|| format!("no customer with key {:?}", a.customer))?;
            let c = consents(store, id).await?;
            let dnd = store.do_not_disturb(id).await?;
            let policy = cfg.contact.policy()?;
            let history = send_history(store, &policy, id, at).await?;
            let d = decide(&policy, &c, dnd, &history, channel, purpose, at);
            store
                .log_contact_decisions(
                    &[ContactDecisionRow {
                        customer_id: id,
                        channel: channel.as_str().into(),
                        purpose: purpose.as_str().into(),
                        send_at: at,
                        allowed: d.allowed,
                        code: d.code.as_str().into(),
                        defer_until: d.defer_until,
                        reason: format!("{} / {}", d.reason_en, d.reason_zh),
                        context: "check".into(),
                        decided_by: actor.name().to_string(),
                    }],
                    Utc::now(),
                )
                .await?;
            emit(
                json,
                &json!({ "customer": a.customer, "at": at, "do_not_disturb": dnd,
                         "consents": c, "decision": d, "sends_counted": history.len() }),
                || {
                    format!(
                        "{} {} to {} at {}: {} ({}) — {} / {}",
                        purpose.as_str(),
                        channel,
                        a.customer,
                        at.format("%Y-%m-%d %H:%M"),
                        if d.allowed { "allowed" } else { "blocked" },
                        d.code.as_str(),
                        d.reason_en,
                        d.reason_zh
                    )
                },
            )
        }
        ContactCommand::Consent(a) => {
            let on = match &a.on {
                Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .with_context(|| format!("--on {s:?}: expected YYYY-MM-DD"))?,
                None => local_now(cfg).date(),
            };
            let actor = crate::cli::acting(store, actor).await?;
            let (_, ch) = record_consent(
                store,
                &actor,
                "cli",
                &a.customer,
                &a.channel,
                &a.purpose,
                !a.refuse,
                on,
                a.note.as_deref(),
            )
            .await?;
            emit(
                json,
                &json!({ "customer": a.customer, "channel": ch, "purpose": a.purpose,
                         "granted": !a.refuse, "on": on }),
                || {
                    format!(
                        "{}: {} {} consent on {} from {on}",
                        a.customer,
                        if a.refuse { "refused" } else { "granted" },
                        a.purpose,
                        ch
                    )
                },
            )
        }
        ContactCommand::Dnd(a) => {
            let actor = crate::cli::acting(store, actor).await?;
            set_do_not_disturb(
                store,
                &actor,
                "cli",
                &a.customer,
                !a.off,
                a.reason.as_deref(),
            )
            .await?;
            emit(
                json,
                &json!({ "customer": a.customer, "do_not_disturb": !a.off }),
                || {
                    format!(
                        "{}: do-not-disturb {}",
                        a.customer,
                        if a.off { "off" } else { "on" }
                    )
                },
            )
        }
        ContactCommand::Coverage { as_of } => {
            let day = match as_of {
                Some(s) => NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                    .with_context(|| format!("--as-of {s:?}: expected YYYY-MM-DD"))?,
                None => local_now(cfg).date(),
            };
            let r = store.reachability(day).await?;
            let share = |n: i64| {
                if r.customers == 0 {
                    0.0
                } else {
                    n as f64 / r.customers as f64
                }
            };
            emit(
                json,
                &json!({ "as_of": day, "customers": r.customers, "reachable": r.reachable,
                         "reachable_marketing": r.reachable_marketing,
                         "coverage": share(r.reachable),
                         "marketing_coverage": share(r.reachable_marketing) }),
                || {
                    format!(
                        "as of {day}: {} of {} customers reachable by a live consent ({:.1} %), {} for marketing ({:.1} %)",
                        r.reachable,
                        r.customers,
                        100.0 * share(r.reachable),
                        r.reachable_marketing,
                        100.0 * share(r.reachable_marketing)
                    )
                },
            )
        }
    }
}
