//! Properties of the suitability rule: nothing above R1 is ever allowed
//! without a valid assessment, and nothing above the assessed tolerance.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use proptest::prelude::*;
use rapport_domain::RiskTolerance;
use rapport_matching::{
    check, check_product, tolerance_level, Assessment, Catalogue, Context, SuitabilityPolicy,
};

fn date() -> impl Strategy<Value = NaiveDate> {
    let start = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap();
    let end = NaiveDate::from_ymd_opt(2030, 12, 31).unwrap();
    let span = (end - start).num_days();
    (0..=span).prop_map(move |n| start + chrono::Duration::days(n))
}

fn tolerance() -> impl Strategy<Value = RiskTolerance> {
    prop::sample::select(RiskTolerance::ALL.to_vec())
}

fn context() -> impl Strategy<Value = Context> {
    prop::sample::select(Context::ALL.to_vec())
}

fn assessment() -> impl Strategy<Value = Option<Assessment>> {
    prop::option::of(
        (tolerance(), date()).prop_map(|(tolerance, assessed_on)| Assessment {
            tolerance,
            assessed_on,
        }),
    )
}

fn policy() -> impl Strategy<Value = SuitabilityPolicy> {
    prop_oneof![
        Just(SuitabilityPolicy::default()),
        (1i64..=2000).prop_map(|validity_days| SuitabilityPolicy { validity_days }),
    ]
}

/// The rule, stated independently of the implementation.
fn reliable(policy: &SuitabilityPolicy, a: &Assessment, today: NaiveDate) -> bool {
    let not_future = a.assessed_on <= today;
    let not_expired = (today - a.assessed_on).num_days() < policy.validity_days;
    not_future && not_expired
}

proptest! {
    #[test]
    fn allowed_only_for_r1_or_within_a_reliable_tolerance(
        policy in policy(),
        risk in 1u8..=5,
        assessment in assessment(),
        today in date(),
        ctx in context(),
    ) {
        let dec = check(&policy, risk, assessment.as_ref(), today, ctx);
        let reliable_now = assessment.as_ref().is_some_and(|a| reliable(&policy, a, today));
        if dec.allowed {
            let within = assessment
                .as_ref()
                .is_some_and(|a| reliable_now && risk <= tolerance_level(a.tolerance));
            prop_assert!(risk == 1 || within, "{dec:?}");
        }
        // The rule is also complete: R1 always, and anything within a reliable tolerance.
        if risk == 1 {
            prop_assert!(dec.allowed, "{dec:?}");
        }
        if let Some(a) = assessment.as_ref() {
            if reliable_now && risk <= tolerance_level(a.tolerance) {
                prop_assert!(dec.allowed, "{dec:?}");
            }
        }
        prop_assert_eq!(dec.needs_reassessment, !reliable_now, "{:?}", dec);
        prop_assert_eq!(dec.product_risk, risk);
        prop_assert_eq!(dec.context, ctx);
        prop_assert!(!dec.reason_en.is_empty() && !dec.reason_zh.is_empty());
    }

    #[test]
    fn every_builtin_product_obeys_the_rule(
        assessment in assessment(),
        today in date(),
        ctx in context(),
    ) {
        let catalogue = Catalogue::builtin().unwrap();
        let policy = SuitabilityPolicy::default();
        let reliable_now = assessment.as_ref().is_some_and(|a| reliable(&policy, a, today));
        for product in &catalogue {
            let risk = product.risk.get();
            let dec = check_product(&policy, product, assessment.as_ref(), today, ctx);
            let within = assessment
                .as_ref()
                .is_some_and(|a| reliable_now && risk <= tolerance_level(a.tolerance));
            prop_assert_eq!(dec.allowed, risk == 1 || within, "{} {:?}", product.code, dec);
            prop_assert_eq!(dec.needs_reassessment, !reliable_now);
        }
    }
}
