//! Consents and contact history as the contact policy reads them: recording
//! a consent given or refused, the stored rows mapped to policy records, and
//! the messages the caps count.

use crate::access::{Actor, Permission};
use crate::audit::entry_for;
use crate::error::{ServiceError, ServiceResult};
use anyhow::Result;
use chrono::{NaiveDate, NaiveDateTime, Utc};
use rapport_engage::{ConsentRecord, Purpose, SendChannel, SentMessage};
use rapport_store::Store;
use serde_json::json;

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

/// Records a consent given or refused as `actor` (who needs
/// [`Permission::RecordConsent`] and the customer in scope), through `via`,
/// after checking its fields; audited. Returns the customer's id and the
/// consent channel.
#[allow(clippy::too_many_arguments)]
pub async fn record_consent(
    store: &Store,
    actor: &Actor,
    via: &str,
    customer: &str,
    channel: &str,
    purpose: &str,
    granted: bool,
    on: NaiveDate,
    note: Option<&str>,
) -> ServiceResult<(i64, &'static str)> {
    actor.require(Permission::RecordConsent)?;
    let id = store.customer_id_by_key(&actor.scope(), customer).await?;
    let Some(ch) = consent_channel_of(channel) else {
        return Err(ServiceError::invalid(
            "channel",
            format!(
                "{channel:?}: phone, online, mobile or wechat (or sms, email, app_push, meeting)"
            ),
        ));
    };
    let Some(p) = Purpose::parse(purpose) else {
        return Err(ServiceError::invalid(
            "purpose",
            format!("{purpose:?}: service or marketing"),
        ));
    };
    store
        .record_consent(
            id,
            ch,
            p.as_str(),
            granted,
            on,
            via,
            actor.name(),
            note,
            Utc::now(),
        )
        .await?;
    store
        .append_audit(&[entry_for(
            actor,
            "consent.record",
            "customer",
            Some(id.to_string()),
            Some(id),
            json!({ "via": via, "channel": ch, "purpose": p.as_str(), "granted": granted }),
        )])
        .await?;
    Ok((id, ch))
}

/// Turns a customer's do-not-disturb on or off as `actor` (who needs
/// [`Permission::RecordConsent`] and the customer in scope); audited.
pub async fn set_do_not_disturb(
    store: &Store,
    actor: &Actor,
    via: &str,
    customer: &str,
    on: bool,
    reason: Option<&str>,
) -> ServiceResult<i64> {
    actor.require(Permission::RecordConsent)?;
    let id = store.customer_id_by_key(&actor.scope(), customer).await?;
    store
        .set_do_not_disturb(id, on, reason, actor.name(), Utc::now())
        .await?;
    store
        .append_audit(&[entry_for(
            actor,
            "contact.do_not_disturb",
            "customer",
            Some(id.to_string()),
            Some(id),
            json!({ "via": via, "on": on }),
        )])
        .await?;
    Ok(id)
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
