//! `rapport contact check|dnd|coverage`: the contact policy over the store.
//!
//! `check` decides whether one message may go to a customer now (or at
//! `--at`, local time) and logs the decision with its reason; `dnd` records
//! a customer's do-not-disturb choice; `coverage` is the share of customers
//! reachable by at least one live consent (the channel-coverage KPI).
//! The rules are `rapport_engage::decide`; the history the caps count is
//! the campaign outbox (queued, sent, delivered and responded messages).

use crate::commands::open;
use crate::config::Config;
use crate::output::emit;
use anyhow::{bail, Context, Result};
use chrono::{NaiveDate, NaiveDateTime, Utc};
use clap::{Args, Subcommand};
use rapport_engage::{decide, ConsentRecord, Purpose, SendChannel, SentMessage};
use rapport_store::{ContactDecisionRow, Scope, Store};
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
    /// Who asks (kept in the log).
    #[arg(long, default_value = "cli")]
    pub by: String,
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
    #[arg(long, default_value = "cli")]
    pub by: String,
}

/// The consent vocabulary's channel for a consent or send channel name.
pub fn consent_channel_of(s: &str) -> Option<&'static str> {
    match s.trim() {
        "phone" => Some("phone"),
        "online" => Some("online"),
        "mobile" => Some("mobile"),
        "wechat" => Some("wechat"),
        other => SendChannel::parse(other).map(|c| c.consent_channel()),
    }
}

/// Records a consent for a customer in `scope` after checking its fields.
#[allow(clippy::too_many_arguments)]
pub async fn record_consent(
    store: &Store,
    scope: &Scope,
    customer: &str,
    channel: &str,
    purpose: &str,
    granted: bool,
    on: NaiveDate,
    source: &str,
    by: &str,
    note: Option<&str>,
) -> Result<(i64, &'static str)> {
    let Some(ch) = consent_channel_of(channel) else {
        bail!("channel {channel:?}: phone, online, mobile or wechat (or sms, email, app_push, meeting)");
    };
    let Some(p) = Purpose::parse(purpose) else {
        bail!("purpose {purpose:?}: service or marketing");
    };
    let id = store
        .customer_id_by_key(scope, customer)
        .await
        .with_context(|| format!("no customer with key {customer:?}"))?;
    store
        .record_consent(
            id,
            ch,
            p.as_str(),
            granted,
            on,
            source,
            by,
            note,
            Utc::now(),
        )
        .await?;
    Ok((id, ch))
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
    #[arg(long, default_value = "cli")]
    pub by: String,
}

pub async fn run(cfg: &Config, json: bool, cmd: ContactCommand) -> Result<()> {
    let store = open(&cfg.database.url).await?;
    let result = dispatch(&store, cfg, json, cmd).await;
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

/// A stored consent row as the policy reads it (`None` for an unknown purpose).
pub fn consent_record(c: rapport_store::ConsentRow) -> Option<ConsentRecord> {
    Some(ConsentRecord {
        purpose: Purpose::parse(&c.purpose)?,
        channel: c.channel,
        granted: c.granted,
        recorded_on: c.recorded_on,
        revoked_on: c.revoked_on,
    })
}

/// The customer's consents as the policy reads them.
pub async fn consents(store: &Store, customer_id: i64) -> Result<Vec<ConsentRecord>> {
    Ok(store
        .customer_consents(customer_id)
        .await?
        .into_iter()
        .filter_map(consent_record)
        .collect())
}

/// The customer's messages the caps count, over the longest cap window before `at`.
pub async fn send_history(
    store: &Store,
    policy: &rapport_engage::ContactPolicy,
    customer_id: i64,
    at: NaiveDateTime,
) -> Result<Vec<SentMessage>> {
    let days = policy
        .caps
        .iter()
        .map(|c| i64::from(c.days))
        .max()
        .unwrap_or(0);
    Ok(store
        .customer_send_history(customer_id, at - chrono::Duration::days(days + 1))
        .await?
        .into_iter()
        .filter_map(|(ch, p, when)| {
            Some(SentMessage {
                channel: SendChannel::parse(&ch)?,
                purpose: Purpose::parse(&p)?,
                at: when,
            })
        })
        .collect())
}

async fn dispatch(store: &Store, cfg: &Config, json: bool, cmd: ContactCommand) -> Result<()> {
    match cmd {
        ContactCommand::Check(a) => {
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
                .customer_id_by_key(&Scope::All, &a.customer)
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
                        decided_by: a.by.clone(),
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
            let (_, ch) = record_consent(
                store,
                &Scope::All,
                &a.customer,
                &a.channel,
                &a.purpose,
                !a.refuse,
                on,
                "cli",
                &a.by,
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
            let id = store
                .customer_id_by_key(&Scope::All, &a.customer)
                .await
                .with_context(|| format!("no customer with key {:?}", a.customer))?;
            store
                .set_do_not_disturb(id, !a.off, a.reason.as_deref(), &a.by, Utc::now())
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
