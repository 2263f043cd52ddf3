//! What is handed to a channel ([`OutboundMessage`]) and what comes back on
//! success ([`Receipt`]).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::SendError;

/// One message to deliver, as the dispatcher takes it from the outbox.
///
/// `Debug` leaves out the recipient, the subject and the body: they are
/// personal data and must not reach the logs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundMessage {
    /// Unique per message and stable across retries; the gateway and the mail
    /// headers carry it so that a repeat can be recognised. 1 to 200 ASCII
    /// letters, digits, `-`, `_` or `.` (not first, not last, not doubled).
    pub idempotency_key: String,
    /// `"email"`, `"sms"`, `"app_push"` or `"wechat"` (see [`ChannelKind`]).
    pub channel: String,
    /// An e-mail address, an E.164 phone number, an app user id or a WeChat
    /// openid, depending on the channel.
    pub to: String,
    /// The e-mail subject; gateways may use it as a title.
    pub subject: Option<String>,
    /// UTF-8 text, may be Chinese.
    pub body: String,
    /// `"zh"` or `"en"`.
    pub lang: String,
    /// The customer's key (not personal data).
    pub customer_ref: String,
    /// The campaign this message belongs to, if any.
    pub campaign: Option<String>,
}

impl fmt::Debug for OutboundMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutboundMessage")
            .field("idempotency_key", &self.idempotency_key)
            .field("channel", &self.channel)
            .field("to", &"<redacted>")
            .field("subject", &self.subject.as_ref().map(|_| "<redacted>"))
            .field("body", &"<redacted>")
            .field("lang", &self.lang)
            .field("customer_ref", &self.customer_ref)
            .field("campaign", &self.campaign)
            .finish()
    }
}

/// A message the provider accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The provider's id for the message (the gateway's `id`, or the text of
    /// the SMTP server's final reply, e.g. `2.0.0 Ok: queued as 4ABC`).
    pub provider_id: Option<String>,
    /// True only when the provider reports the message as delivered to the
    /// recipient, not merely accepted for delivery.
    pub delivered: bool,
}

/// The channels this crate can carry, as spelled in
/// [`OutboundMessage::channel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// `"email"`: through [`crate::SmtpChannel`].
    Email,
    /// `"sms"`: through [`crate::HttpGateway`].
    Sms,
    /// `"app_push"`: through [`crate::HttpGateway`].
    AppPush,
    /// `"wechat"`: through [`crate::HttpGateway`].
    #[serde(rename = "wechat")]
    WeChat,
}

impl ChannelKind {
    /// Every channel.
    pub const ALL: [ChannelKind; 4] = [
        ChannelKind::Email,
        ChannelKind::Sms,
        ChannelKind::AppPush,
        ChannelKind::WeChat,
    ];

    /// The spelling used in [`OutboundMessage::channel`].
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Email => "email",
            ChannelKind::Sms => "sms",
            ChannelKind::AppPush => "app_push",
            ChannelKind::WeChat => "wechat",
        }
    }

    /// Reads the spelling used in [`OutboundMessage::channel`].
    pub fn parse(s: &str) -> Option<ChannelKind> {
        ChannelKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The longest idempotency key accepted.
const MAX_IDEMPOTENCY_KEY_LEN: usize = 200;

/// Checks that the key can go, unescaped, into a `Message-ID` (RFC 5322
/// dot-atom) and an HTTP header. A bad key is the caller's bug, so it is a
/// permanent failure.
pub(crate) fn check_idempotency_key(key: &str) -> Result<(), SendError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let ok = !key.is_empty()
        && key.len() <= MAX_IDEMPOTENCY_KEY_LEN
        && key.chars().all(allowed)
        && !key.starts_with('.')
        && !key.ends_with('.')
        && !key.contains("..");
    if ok {
        Ok(())
    } else {
        Err(SendError::Permanent(format!(
            "idempotency_key: must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} ASCII letters, digits, '-', '_' or '.' (not first, last or doubled)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> OutboundMessage {
        OutboundMessage {
            idempotency_key: "k-1".into(),
            channel: "sms".into(),
            to: "+8613800138000".into(),
            subject: Some("账户提醒".into()),
            body: "您好".into(),
            lang: "zh".into(),
            customer_ref: "C-42".into(),
            campaign: None,
        }
    }

    #[test]
    fn debug_output_leaves_out_personal_data() {
        let shown = format!("{:?}", message());
        assert!(!shown.contains("13800138000"));
        assert!(!shown.contains("账户提醒"));
        assert!(!shown.contains("您好"));
        assert!(shown.contains("C-42"));
    }

    #[test]
    fn channel_kinds_round_trip_through_their_spelling() {
        for kind in ChannelKind::ALL {
            assert_eq!(ChannelKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ChannelKind::parse("fax"), None);
    }

    #[test]
    fn uuid_like_keys_are_accepted_and_header_breaking_keys_are_not() {
        assert!(check_idempotency_key("0b6f3c1e-8d2a-4c55-9a4e-0f3e2d1c0b9a").is_ok());
        assert!(check_idempotency_key("outbox.17_a").is_ok());
        for bad in ["", "a b", "a\r\nBcc: x", "<k>", "a@b", ".a", "a.", "a..b"] {
            assert!(check_idempotency_key(bad).is_err(), "{bad:?}");
        }
        assert!(check_idempotency_key(&"a".repeat(201)).is_err());
    }
}
