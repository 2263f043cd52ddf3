//! Properties of the contact policy over random customers, histories and
//! times: an allowed send always has a live consent for its channel and
//! purpose and never breaks do-not-disturb, quiet hours or a cap; a deferred
//! one always names the end of the quiet period; and removing a message from
//! the history never turns an allowed send into a blocked one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, NaiveDate, NaiveDateTime};
use proptest::prelude::*;
use rapport_engage::{
    decide, ConsentRecord, ContactPolicy, Purpose, SendChannel, SendDecisionCode, SentMessage,
};

fn start() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2025, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
}

fn moment() -> impl Strategy<Value = NaiveDateTime> {
    (0i64..120 * 24 * 60).prop_map(|m| start() + Duration::minutes(m))
}

fn purpose() -> impl Strategy<Value = Purpose> {
    prop_oneof![Just(Purpose::Service), Just(Purpose::Marketing)]
}

fn channel() -> impl Strategy<Value = SendChannel> {
    prop::sample::select(SendChannel::ALL.to_vec())
}

fn consents() -> impl Strategy<Value = Vec<ConsentRecord>> {
    prop::collection::vec(
        (
            prop::sample::select(vec!["phone", "online", "mobile", "wechat"]),
            purpose(),
            any::<bool>(),
            0i64..120,
            prop::option::of(0i64..150),
        )
            .prop_map(|(ch, p, granted, on, revoked)| ConsentRecord {
                channel: ch.into(),
                purpose: p,
                granted,
                recorded_on: start().date() + Duration::days(on),
                revoked_on: revoked.map(|r| start().date() + Duration::days(r)),
            }),
        0..8,
    )
}

fn history() -> impl Strategy<Value = Vec<SentMessage>> {
    prop::collection::vec(
        (channel(), purpose(), moment()).prop_map(|(channel, purpose, at)| SentMessage {
            channel,
            purpose,
            at,
        }),
        0..12,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3_000))]

    #[test]
    fn allowed_sends_respect_every_rule(
        c in consents(), dnd in any::<bool>(), h in history(),
        ch in channel(), p in purpose(), at in moment(),
    ) {
        let policy = ContactPolicy::default();
        let d = decide(&policy, &c, dnd, &h, ch, p, at);
        prop_assert_eq!(d.allowed, d.code == SendDecisionCode::Allowed);
        prop_assert!(!d.reason_en.is_empty() && !d.reason_zh.is_empty());
        if d.allowed {
            let latest = c.iter()
                .filter(|r| r.channel == ch.consent_channel() && r.purpose == p && r.recorded_on <= at.date())
                .max_by_key(|r| r.recorded_on)
                .unwrap();
            prop_assert!(latest.granted);
            prop_assert!(latest.revoked_on.is_none_or(|r| r > at.date()));
            prop_assert!(!(dnd && p == Purpose::Marketing));
            prop_assert!(!policy.quiet.contains(at.time()));
            if p == Purpose::Marketing {
                for cap in &policy.caps {
                    if cap.channel.is_none_or(|x| x == ch) {
                        let since = at - Duration::days(i64::from(cap.days));
                        let n = h.iter().filter(|m| m.purpose == Purpose::Marketing
                            && m.at > since && m.at <= at
                            && cap.channel.is_none_or(|x| x == m.channel)).count();
                        prop_assert!(n < cap.max as usize);
                    }
                }
            }
        }
        if d.code == SendDecisionCode::QuietHours {
            let until = d.defer_until.unwrap();
            prop_assert!(until > at);
            prop_assert!(until - at <= Duration::hours(24));
            prop_assert!(!policy.quiet.contains(until.time()));
            prop_assert_eq!(until.time(), policy.quiet.end);
        }
    }

    #[test]
    fn removing_history_never_turns_an_allowed_send_into_a_blocked_one(
        c in consents(), dnd in any::<bool>(), h in history(),
        ch in channel(), p in purpose(), at in moment(), drop in 0usize..12,
    ) {
        let policy = ContactPolicy::default();
        let full = decide(&policy, &c, dnd, &h, ch, p, at);
        let mut fewer = h.clone();
        if drop < fewer.len() { fewer.remove(drop); }
        let less = decide(&policy, &c, dnd, &fewer, ch, p, at);
        if full.allowed {
            prop_assert!(less.allowed);
        }
    }
}

#[test]
fn service_can_be_exempted_from_quiet_hours() {
    let policy = ContactPolicy {
        quiet_applies_to_service: false,
        ..ContactPolicy::default()
    };
    let c = [ConsentRecord {
        channel: "phone".into(),
        purpose: Purpose::Service,
        granted: true,
        recorded_on: start().date(),
        revoked_on: None,
    }];
    let night = start() + Duration::hours(23);
    assert!(
        decide(
            &policy,
            &c,
            false,
            &[],
            SendChannel::Sms,
            Purpose::Service,
            night
        )
        .allowed
    );
}
