//! The contact policy: may this customer be sent this message on this
//! channel now?
//!
//! The checks, in order (the first that fails decides):
//!
//! 1. **Consent** for the channel and the purpose: the customer's latest
//!    consent record for the channel's consent vocabulary and the purpose
//!    (recorded on or before the day of the send) must grant it and must not
//!    be revoked by that day. No record: no consent.
//! 2. **Do-not-disturb** (免打扰): blocks marketing; service messages
//!    (statements, fraud warnings, complaint follow-ups) still go.
//! 3. **Quiet hours** (local time, may wrap midnight): blocks marketing, and
//!    service too unless the policy exempts it; the decision says when the
//!    quiet period ends so a dispatcher can defer rather than drop.
//! 4. **Frequency caps** over trailing windows, per channel and over all
//!    channels, counting the marketing messages already sent; service
//!    messages are not capped and do not count.

use chrono::{Duration, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a message is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Service: statements, alerts, case follow-ups, surveys after a case.
    Service,
    /// Marketing: offers and campaigns.
    Marketing,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Service => "service",
            Purpose::Marketing => "marketing",
        }
    }

    pub fn parse(s: &str) -> Option<Purpose> {
        match s.trim().to_ascii_lowercase().as_str() {
            "service" => Some(Purpose::Service),
            "marketing" => Some(Purpose::Marketing),
            _ => None,
        }
    }
}

/// A channel a message is sent on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendChannel {
    Sms,
    Email,
    AppPush,
    Wechat,
    /// A call by the RM or the call centre.
    Phone,
    /// A meeting invitation (video or in person).
    Meeting,
}

impl SendChannel {
    pub const ALL: &'static [SendChannel] = &[
        SendChannel::Sms,
        SendChannel::Email,
        SendChannel::AppPush,
        SendChannel::Wechat,
        SendChannel::Phone,
        SendChannel::Meeting,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SendChannel::Sms => "sms",
            SendChannel::Email => "email",
            SendChannel::AppPush => "app_push",
            SendChannel::Wechat => "wechat",
            SendChannel::Phone => "phone",
            SendChannel::Meeting => "meeting",
        }
    }

    pub fn parse(s: &str) -> Option<SendChannel> {
        SendChannel::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s.trim().to_ascii_lowercase())
    }

    /// The consent channel (the store's vocabulary: `phone`, `online`,
    /// `mobile`, `wechat`) that covers sending on this channel: a text
    /// message or a call goes to the phone number, an e-mail is an online
    /// channel, a push goes to the mobile app, a meeting is arranged by phone.
    pub fn consent_channel(self) -> &'static str {
        match self {
            SendChannel::Sms | SendChannel::Phone | SendChannel::Meeting => "phone",
            SendChannel::Email => "online",
            SendChannel::AppPush => "mobile",
            SendChannel::Wechat => "wechat",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            SendChannel::Sms => "短信",
            SendChannel::Email => "电子邮件",
            SendChannel::AppPush => "手机银行推送",
            SendChannel::Wechat => "微信",
            SendChannel::Phone => "电话",
            SendChannel::Meeting => "会面邀约",
        }
    }
}

impl fmt::Display for SendChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One consent record of a customer (the store's `consent` rows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    /// The consent vocabulary: `phone`, `online`, `mobile`, `wechat`, …
    pub channel: String,
    pub purpose: Purpose,
    pub granted: bool,
    pub recorded_on: chrono::NaiveDate,
    pub revoked_on: Option<chrono::NaiveDate>,
}

/// A message already sent to the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentMessage {
    pub channel: SendChannel,
    pub purpose: Purpose,
    pub at: NaiveDateTime,
}

/// Quiet hours in local time: from `start` (inclusive) to `end` (exclusive),
/// wrapping midnight when `start > end`; none when they are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl QuietHours {
    /// Whether `t` falls in the quiet period.
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.start == self.end {
            false
        } else if self.start < self.end {
            t >= self.start && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }

    /// The first moment at or after `at` outside the quiet period.
    pub fn ends_after(&self, at: NaiveDateTime) -> NaiveDateTime {
        if !self.contains(at.time()) {
            return at;
        }
        let today_end = at.date().and_time(self.end);
        if today_end > at {
            today_end
        } else {
            today_end + Duration::days(1)
        }
    }
}

/// At most `max` marketing messages within `days` days (trailing), on one
/// channel or (channel None) over all channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrequencyCap {
    pub channel: Option<SendChannel>,
    pub max: u32,
    pub days: u32,
}

/// The bank's contact policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactPolicy {
    pub quiet: QuietHours,
    /// Whether quiet hours hold back service messages too.
    pub quiet_applies_to_service: bool,
    pub caps: Vec<FrequencyCap>,
}

impl Default for ContactPolicy {
    /// Quiet from 21:00 to 08:00 for every message; marketing at most one
    /// SMS, one push, one WeChat message, one call and two e-mails a week,
    /// and four messages over all channels in 30 days.
    fn default() -> Self {
        let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN);
        let cap = |channel, max, days| FrequencyCap { channel, max, days };
        ContactPolicy {
            quiet: QuietHours {
                start: t(21),
                end: t(8),
            },
            quiet_applies_to_service: true,
            caps: vec![
                cap(Some(SendChannel::Sms), 1, 7),
                cap(Some(SendChannel::AppPush), 1, 7),
                cap(Some(SendChannel::Wechat), 1, 7),
                cap(Some(SendChannel::Phone), 1, 7),
                cap(Some(SendChannel::Email), 2, 7),
                cap(None, 4, 30),
            ],
        }
    }
}

/// What decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendDecisionCode {
    Allowed,
    NoConsent,
    ConsentRevoked,
    ConsentRefused,
    DoNotDisturb,
    QuietHours,
    ChannelCap,
    OverallCap,
}

impl SendDecisionCode {
    pub fn as_str(self) -> &'static str {
        match self {
            SendDecisionCode::Allowed => "allowed",
            SendDecisionCode::NoConsent => "no_consent",
            SendDecisionCode::ConsentRevoked => "consent_revoked",
            SendDecisionCode::ConsentRefused => "consent_refused",
            SendDecisionCode::DoNotDisturb => "do_not_disturb",
            SendDecisionCode::QuietHours => "quiet_hours",
            SendDecisionCode::ChannelCap => "channel_cap",
            SendDecisionCode::OverallCap => "overall_cap",
        }
    }
}

/// A send decision with its reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendDecision {
    pub allowed: bool,
    pub code: SendDecisionCode,
    pub channel: SendChannel,
    pub purpose: Purpose,
    /// For quiet hours: when the message may go.
    pub defer_until: Option<NaiveDateTime>,
    pub reason_en: String,
    pub reason_zh: String,
}

/// Decides one send at local time `at` (see the module doc for the order).
pub fn decide(
    policy: &ContactPolicy,
    consents: &[ConsentRecord],
    do_not_disturb: bool,
    history: &[SentMessage],
    channel: SendChannel,
    purpose: Purpose,
    at: NaiveDateTime,
) -> SendDecision {
    let day = at.date();
    let out = |code: SendDecisionCode, en: String, zh: String, defer: Option<NaiveDateTime>| {
        SendDecision {
            allowed: code == SendDecisionCode::Allowed,
            code,
            channel,
            purpose,
            defer_until: defer,
            reason_en: en,
            reason_zh: zh,
        }
    };
    let cc = channel.consent_channel();
    let (p_en, p_zh) = match purpose {
        Purpose::Service => ("service", "服务"),
        Purpose::Marketing => ("marketing", "营销"),
    };

    // 1. Consent: the latest record for the channel and purpose on or before the day.
    let latest = consents
        .iter()
        .filter(|c| c.channel == cc && c.purpose == purpose && c.recorded_on <= day)
        .max_by_key(|c| c.recorded_on);
    match latest {
        None => {
            return out(
                SendDecisionCode::NoConsent,
                format!("no {p_en} consent on the {cc} channel (needed for {channel})"),
                format!("客户未授权通过{}渠道接收{p_zh}信息", channel.label_zh()),
                None,
            )
        }
        Some(c) if !c.granted => {
            return out(
                SendDecisionCode::ConsentRefused,
                format!(
                    "the customer refused {p_en} contact on the {cc} channel on {}",
                    c.recorded_on
                ),
                format!(
                    "客户已于{}拒绝通过{}渠道接收{p_zh}信息",
                    c.recorded_on,
                    channel.label_zh()
                ),
                None,
            )
        }
        Some(c) => {
            if let Some(r) = c.revoked_on.filter(|r| *r <= day) {
                return out(
                    SendDecisionCode::ConsentRevoked,
                    format!("{p_en} consent on the {cc} channel was revoked on {r}"),
                    format!("{}渠道的{p_zh}授权已于{r}撤回", channel.label_zh()),
                    None,
                );
            }
        }
    }

    // 2. Do-not-disturb holds back marketing.
    if do_not_disturb && purpose == Purpose::Marketing {
        return out(
            SendDecisionCode::DoNotDisturb,
            "the customer asked not to be disturbed: no marketing".into(),
            "客户已设置免打扰：不发送营销信息".into(),
            None,
        );
    }

    // 3. Quiet hours.
    if (purpose == Purpose::Marketing || policy.quiet_applies_to_service)
        && policy.quiet.contains(at.time())
    {
        let until = policy.quiet.ends_after(at);
        return out(
            SendDecisionCode::QuietHours,
            format!(
                "{} is within quiet hours ({}–{}); may go at {until}",
                at.format("%H:%M"),
                policy.quiet.start.format("%H:%M"),
                policy.quiet.end.format("%H:%M")
            ),
            format!(
                "{}处于免打扰时段（{}–{}），可于{until}发送",
                at.format("%H:%M"),
                policy.quiet.start.format("%H:%M"),
                policy.quiet.end.format("%H:%M")
            ),
            Some(until),
        );
    }

    // 4. Frequency caps on marketing.
    if purpose == Purpose::Marketing {
        for cap in &policy.caps {
            let since = at - Duration::days(i64::from(cap.days));
            let sent = history
                .iter()
                .filter(|m| {
                    m.purpose == Purpose::Marketing
                        && m.at > since
                        && m.at <= at
                        && cap.channel.is_none_or(|c| c == m.channel)
                })
                .count();
            let applies = cap.channel.is_none_or(|c| c == channel);
            if applies && sent >= cap.max as usize {
                return match cap.channel {
                    Some(c) => out(
                        SendDecisionCode::ChannelCap,
                        format!(
                            "{sent} marketing messages on {c} in the last {} days (cap {})",
                            cap.days, cap.max
                        ),
                        format!(
                            "近{}天已通过{}发送{sent}条营销信息（上限{}）",
                            cap.days,
                            c.label_zh(),
                            cap.max
                        ),
                        None,
                    ),
                    None => out(
                        SendDecisionCode::OverallCap,
                        format!(
                            "{sent} marketing messages on all channels in the last {} days (cap {})",
                            cap.days, cap.max
                        ),
                        format!("近{}天各渠道共发送{sent}条营销信息（上限{}）", cap.days, cap.max),
                        None,
                    ),
                };
            }
        }
    }

    out(
        SendDecisionCode::Allowed,
        format!("{p_en} consent on {cc}, outside quiet hours, under the caps"),
        format!(
            "已授权{}渠道{p_zh}信息，不在免打扰时段，未超频次上限",
            channel.label_zh()
        ),
        None,
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, m, day).unwrap()
    }

    fn at(m: u32, day: u32, h: u32, min: u32) -> NaiveDateTime {
        d(m, day).and_hms_opt(h, min, 0).unwrap()
    }

    fn consent(channel: &str, purpose: Purpose, granted: bool, on: NaiveDate) -> ConsentRecord {
        ConsentRecord {
            channel: channel.into(),
            purpose,
            granted,
            recorded_on: on,
            revoked_on: None,
        }
    }

    fn go(
        c: &[ConsentRecord],
        dnd: bool,
        h: &[SentMessage],
        ch: SendChannel,
        p: Purpose,
        t: NaiveDateTime,
    ) -> SendDecision {
        decide(&ContactPolicy::default(), c, dnd, h, ch, p, t)
    }

    #[test]
    fn consent_is_per_channel_and_purpose_and_the_latest_record_wins() {
        let c = vec![
            consent("phone", Purpose::Marketing, true, d(1, 1)),
            consent("phone", Purpose::Marketing, false, d(3, 1)),
            consent("mobile", Purpose::Service, true, d(1, 1)),
        ];
        let noon = |m, day| at(m, day, 12, 0);
        assert!(
            go(
                &c,
                false,
                &[],
                SendChannel::Sms,
                Purpose::Marketing,
                noon(2, 1)
            )
            .allowed
        );
        let later = go(
            &c,
            false,
            &[],
            SendChannel::Sms,
            Purpose::Marketing,
            noon(3, 2),
        );
        assert_eq!(later.code, SendDecisionCode::ConsentRefused);
        // Service consent does not cover marketing, nor one channel another.
        let push = go(
            &c,
            false,
            &[],
            SendChannel::AppPush,
            Purpose::Marketing,
            noon(2, 1),
        );
        assert_eq!(push.code, SendDecisionCode::NoConsent);
        assert!(
            go(
                &c,
                false,
                &[],
                SendChannel::AppPush,
                Purpose::Service,
                noon(2, 1)
            )
            .allowed
        );
        assert_eq!(
            go(
                &c,
                false,
                &[],
                SendChannel::Email,
                Purpose::Service,
                noon(2, 1)
            )
            .code,
            SendDecisionCode::NoConsent
        );
        // A record dated after the send does not count yet.
        let early = go(
            &c,
            false,
            &[],
            SendChannel::Sms,
            Purpose::Marketing,
            noon(1, 1) - Duration::days(1),
        );
        assert_eq!(early.code, SendDecisionCode::NoConsent);
    }

    #[test]
    fn revocation_ends_consent_from_its_day() {
        let mut c = consent("wechat", Purpose::Marketing, true, d(1, 1));
        c.revoked_on = Some(d(5, 10));
        let c = [c];
        assert!(
            go(
                &c,
                false,
                &[],
                SendChannel::Wechat,
                Purpose::Marketing,
                at(5, 9, 10, 0)
            )
            .allowed
        );
        let r = go(
            &c,
            false,
            &[],
            SendChannel::Wechat,
            Purpose::Marketing,
            at(5, 10, 10, 0),
        );
        assert_eq!(r.code, SendDecisionCode::ConsentRevoked);
        assert!(r.reason_en.contains("2025-05-10") && r.reason_zh.contains("2025-05-10"));
    }

    #[test]
    fn do_not_disturb_blocks_marketing_only() {
        let c = [
            consent("phone", Purpose::Marketing, true, d(1, 1)),
            consent("phone", Purpose::Service, true, d(1, 1)),
        ];
        let t = at(2, 1, 10, 0);
        assert_eq!(
            go(&c, true, &[], SendChannel::Phone, Purpose::Marketing, t).code,
            SendDecisionCode::DoNotDisturb
        );
        assert!(go(&c, true, &[], SendChannel::Phone, Purpose::Service, t).allowed);
    }

    #[test]
    fn quiet_hours_wrap_midnight_and_say_when_to_retry() {
        let c = [consent("phone", Purpose::Marketing, true, d(1, 1))];
        let late = go(
            &c,
            false,
            &[],
            SendChannel::Sms,
            Purpose::Marketing,
            at(2, 1, 22, 30),
        );
        assert_eq!(late.code, SendDecisionCode::QuietHours);
        assert_eq!(late.defer_until, Some(at(2, 2, 8, 0)));
        let early = go(
            &c,
            false,
            &[],
            SendChannel::Sms,
            Purpose::Marketing,
            at(2, 2, 7, 59),
        );
        assert_eq!(early.defer_until, Some(at(2, 2, 8, 0)));
        assert!(
            go(
                &c,
                false,
                &[],
                SendChannel::Sms,
                Purpose::Marketing,
                at(2, 2, 8, 0)
            )
            .allowed
        );
        assert!(
            go(
                &c,
                false,
                &[],
                SendChannel::Sms,
                Purpose::Marketing,
                at(2, 2, 20, 59)
            )
            .allowed
        );
        // A daytime quiet period and none at all.
        let q = QuietHours {
            start: NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(14, 0, 0).unwrap(),
        };
        assert!(q.contains(NaiveTime::from_hms_opt(13, 0, 0).unwrap()));
        assert!(!q.contains(NaiveTime::from_hms_opt(14, 0, 0).unwrap()));
        let none = QuietHours {
            start: q.start,
            end: q.start,
        };
        assert!(!none.contains(q.start));
    }

    #[test]
    fn caps_count_marketing_in_trailing_windows_per_channel_and_overall() {
        let c = [
            consent("phone", Purpose::Marketing, true, d(1, 1)),
            consent("online", Purpose::Marketing, true, d(1, 1)),
            consent("wechat", Purpose::Marketing, true, d(1, 1)),
            consent("mobile", Purpose::Marketing, true, d(1, 1)),
        ];
        let sent = |ch, t| SentMessage {
            channel: ch,
            purpose: Purpose::Marketing,
            at: t,
        };
        let h = [sent(SendChannel::Sms, at(3, 1, 10, 0))];
        let r = go(
            &c,
            false,
            &h,
            SendChannel::Sms,
            Purpose::Marketing,
            at(3, 7, 10, 0),
        );
        assert_eq!(r.code, SendDecisionCode::ChannelCap);
        // Seven days later the window has passed; another channel was never capped.
        assert!(
            go(
                &c,
                false,
                &h,
                SendChannel::Sms,
                Purpose::Marketing,
                at(3, 8, 10, 0)
            )
            .allowed
        );
        assert!(
            go(
                &c,
                false,
                &h,
                SendChannel::Wechat,
                Purpose::Marketing,
                at(3, 7, 10, 0)
            )
            .allowed
        );
        // Four marketing messages in 30 days close every channel.
        let h = [
            sent(SendChannel::Sms, at(3, 1, 10, 0)),
            sent(SendChannel::Wechat, at(3, 9, 10, 0)),
            sent(SendChannel::AppPush, at(3, 17, 10, 0)),
            sent(SendChannel::Email, at(3, 25, 10, 0)),
        ];
        let r = go(
            &c,
            false,
            &h,
            SendChannel::Phone,
            Purpose::Marketing,
            at(3, 28, 10, 0),
        );
        assert_eq!(r.code, SendDecisionCode::OverallCap);
        // Service messages neither count nor are capped.
        let service = [SentMessage {
            channel: SendChannel::Sms,
            purpose: Purpose::Service,
            at: at(3, 1, 10, 0),
        }];
        assert!(
            go(
                &c,
                false,
                &service,
                SendChannel::Sms,
                Purpose::Marketing,
                at(3, 2, 10, 0)
            )
            .allowed
        );
    }
}
