//! Consents and contact history as the contact policy reads them: recording
//! a consent given or refused, the stored rows mapped to policy records, and
//! the messages the caps count.

use anyhow::{bail, Context, Result};
use chrono::{NaiveDate, NaiveDateTime, Utc};
use rapport_engage::{ConsentRecord, Purpose, SendChannel, SentMessage};
use rapport_store::{Scope, Store};

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
