//! The regulator's complaint timelines as an SLA policy beside the bank's.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use rapport_engage::sla::{status, BusinessCalendar, PolicyKind, Severity, SlaPolicy, SlaState};

fn t(m: u32, d: u32, h: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2024, m, d)
        .unwrap()
        .and_hms_opt(h, 0, 0)
        .unwrap()
}

#[test]
fn sla_regulator_policy_resolves_in_15_calendar_days_then_30_then_60() {
    let p = SlaPolicy::regulator();
    let cal = BusinessCalendar::default();
    // Opened on a Friday evening before the October holidays: calendar days
    // count weekends and holidays alike.
    let opened = t(9, 27, 20);
    for sev in Severity::ALL {
        let [ack, res] = status(&p, &cal, *sev, opened, None, None, &[], opened).unwrap();
        assert_eq!(ack.due, opened + Duration::hours(24));
        assert_eq!(res.due, opened + Duration::days(15), "{sev}");
    }
    let [_, res] = status(
        &p.extended(1),
        &cal,
        Severity::Low,
        opened,
        None,
        None,
        &[],
        opened,
    )
    .unwrap();
    assert_eq!(res.due, opened + Duration::days(30));
    let [_, res] = status(
        &p.extended(2),
        &cal,
        Severity::Low,
        opened,
        None,
        None,
        &[],
        opened,
    )
    .unwrap();
    assert_eq!(res.due, opened + Duration::days(60));
    // A third extension does not exist: the 60 days stand.
    assert_eq!(p.extended(3), p.extended(2));
    // Day 16 without an extension is a breach; with one it is not.
    let day16 = opened + Duration::days(16);
    let [_, res] = status(&p, &cal, Severity::High, opened, None, None, &[], day16).unwrap();
    assert_eq!(res.state, SlaState::Breached);
    let [_, res] = status(
        &p.extended(1),
        &cal,
        Severity::High,
        opened,
        None,
        None,
        &[],
        day16,
    )
    .unwrap();
    assert_eq!(res.state, SlaState::Running);
}

#[test]
fn sla_the_second_extension_needs_a_senior_and_there_is_no_third() {
    let p = SlaPolicy::regulator();
    let first = p.next_extension(0).unwrap();
    assert!(!first.needs_senior_approval);
    let second = p.next_extension(1).unwrap();
    assert!(second.needs_senior_approval);
    assert_eq!(p.next_extension(2), None);
    // The bank's own policy has no extensions and is unchanged by one.
    let bank = SlaPolicy::default();
    assert_eq!(bank.next_extension(0), None);
    assert_eq!(bank.extended(1), bank);
}

#[test]
fn sla_policy_kinds_parse_and_have_both_labels() {
    for k in PolicyKind::ALL {
        assert_eq!(PolicyKind::parse(k.as_str()), Some(*k));
        assert!(!k.label_en().is_empty() && !k.label_zh().is_empty());
    }
    assert_eq!(
        PolicyKind::parse(" Regulator "),
        Some(PolicyKind::Regulator)
    );
    assert_eq!(PolicyKind::parse("cbirc"), None);
}
