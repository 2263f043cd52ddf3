//! The suitability property of the next-best-action engine: whatever the
//! customer (age, income, tier, assessment, holdings, signals, consents) and
//! whatever the day, no recommended product is above what the suitability
//! rule allows, none is already held and none fails its eligibility rules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use proptest::prelude::*;
use rapport_domain::RiskTolerance;
use rapport_matching::{
    check_product, is_valid_on, tolerance_level, Assessment, Catalogue, Context, CustomerFacts,
    CustomerView, Engine, Levers, SalesChannel, Signals, Tier, UpcomingHoliday,
};
use std::collections::HashMap;

fn date() -> impl Strategy<Value = NaiveDate> {
    let start = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap();
    (0i64..5_800).prop_map(move |n| start + chrono::Duration::days(n))
}

fn engine() -> Engine {
    crate::common::engine(Levers::default())
}

fn view() -> impl Strategy<Value = (CustomerView, NaiveDate)> {
    let codes: Vec<String> = Catalogue::builtin()
        .unwrap()
        .iter()
        .map(|p| p.code.clone())
        .collect();
    let facts = (
        prop::option::of(0u32..100),
        prop::option::of(0i64..2_000_000),
        prop::option::of(prop::sample::select(Tier::ALL.to_vec())),
        prop::option::of(0i64..5_000_000),
    )
        .prop_map(|(age, income, tier, inv)| CustomerFacts {
            age,
            annual_income_yuan: income,
            tier,
            investable_yuan: inv,
        });
    let assessment = prop::option::of(
        (prop::sample::select(RiskTolerance::ALL.to_vec()), date()).prop_map(|(t, d)| Assessment {
            tolerance: t,
            assessed_on: d,
        }),
    );
    let signals = (
        prop::option::of(0.0f64..2_000_000.0),
        prop::option::of(0.0f64..50_000.0),
        prop::option::of(0.0f64..6.0),
        prop::option::of(0.0f64..1.0),
        prop::option::of(-10i64..60),
        prop::collection::vec((prop::sample::select(codes.clone()), 0.0f64..1.0), 0..5),
    )
        .prop_map(|(bal, out, sal, churn, hol, prop)| Signals {
            balance_yuan: bal,
            monthly_outflow_yuan: out,
            salary_months_6: sal,
            churn_probability: churn,
            holiday: hol.map(|days_away| UpcomingHoliday {
                name_en: "National Day".into(),
                name_zh: "国庆节".into(),
                days_away,
            }),
            propensity: prop.into_iter().collect::<HashMap<_, _>>(),
            ..Signals::default()
        });
    (
        facts,
        assessment,
        prop::sample::subsequence(codes, 0..6),
        signals,
        prop::sample::subsequence(SalesChannel::ALL.to_vec(), 0..4),
        date(),
    )
        .prop_map(|(facts, assessment, held, signals, channels, today)| {
            (
                CustomerView {
                    customer_id: 1,
                    facts,
                    assessment,
                    held,
                    signals,
                    marketing_channels: channels,
                },
                today,
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn no_recommendation_is_ever_unsuitable((v, today) in view()) {
        let e = engine();
        let r = e.recommend(&v, today);
        let valid = v.assessment.filter(|a| is_valid_on(&e.policy, a, today));
        for a in &r.actions {
            let Some(code) = a.product_code.as_deref() else { continue };
            let p = e.catalogue.get(code).unwrap();
            let risk = p.risk.get();
            match valid {
                Some(a) => prop_assert!(risk <= tolerance_level(a.tolerance), "{code} R{risk}"),
                None => prop_assert_eq!(risk, 1, "{} without a valid assessment", code),
            }
            prop_assert!(check_product(&e.policy, p, v.assessment.as_ref(), today, Context::Propose).allowed);
            prop_assert!(!v.held.iter().any(|h| h == code), "{} is held", code);
            prop_assert!(p.eligibility_check(&v.facts).is_ok(), "{} ineligible", code);
            prop_assert!(!a.reasons.is_empty());
        }
        // Every product proposed had its decision logged, in full and in the
        // decisive subset batch runs keep; blocked decisive ones are blocked.
        for a in &r.actions {
            if let Some(code) = a.product_code.as_deref() {
                prop_assert!(r.decisions.iter().any(|(c, d)| c == code && d.allowed));
                prop_assert!(r.decisive.iter().any(|(c, d)| c == code && d.allowed));
            }
        }
        for (code, d) in &r.decisive {
            prop_assert!(r.decisions.iter().any(|(c, x)| c == code && x == d));
        }
    }
}
