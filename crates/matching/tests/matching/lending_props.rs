//! The responsible-lending property of the next-best-action engine: whatever
//! the customer (facts, assessment, holdings, signals, consents, arrears,
//! open alerts, debt service, health band), whatever the propensities and
//! whatever the business levers (even a lever of 10⁶ on loans and cards), no
//! credit product is ever proposed to a customer who fails the rule, and a
//! customer who needs care gets the retention action first.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use proptest::prelude::*;
use rapport_domain::RiskTolerance;
use rapport_matching::{
    check_lending, ActionKind, Assessment, Catalogue, Category, Context, CreditFacts,
    CustomerFacts, CustomerView, Engine, LendingPolicy, Levers, SalesChannel, Signals, Tier,
};
use std::collections::HashMap;

const RULES: &[&str] = &[
    "income_stopped",
    "balance_collapse",
    "negative_balance",
    "dpd_1_30",
    "dpd_31_60",
    "dpd_61_90",
    "dpd_90_plus",
    "large_outflow",
    "dormancy",
    "complaint_escalation",
    "utilisation_above_90",
];

fn levers() -> impl Strategy<Value = Levers> {
    prop::collection::vec(
        (
            prop::sample::select(Category::ALL.to_vec()),
            prop::sample::select(vec![0.1, 1.0, 5.0, 1_000_000.0]),
        ),
        0..4,
    )
    .prop_map(|cats| Levers {
        category: cats.into_iter().collect(),
        max_sales: 5,
        ..Levers::default()
    })
}

fn view() -> impl Strategy<Value = CustomerView> {
    let codes: Vec<String> = Catalogue::builtin()
        .unwrap()
        .iter()
        .map(|p| p.code.clone())
        .collect();
    let facts = (
        prop::option::of(18u32..70),
        prop::option::of(0i64..2_000_000),
        prop::option::of(prop::sample::select(Tier::ALL.to_vec())),
    )
        .prop_map(|(age, income, tier)| CustomerFacts {
            age,
            annual_income_yuan: income,
            tier,
            investable_yuan: Some(500_000),
        });
    let credit = (
        prop::option::of(prop_oneof![Just(0.0), 0.0f64..400.0]),
        prop::option::of(0.0f64..6.0),
        prop::sample::subsequence(RULES.to_vec(), 0..3),
        prop::option::of(prop::sample::select(vec!["healthy", "watch", "at_risk"])),
        prop::option::of(0.0f64..100.0),
        prop::option::of(0.0f64..200.0),
    );
    let signals = (
        prop::option::of(0.0f64..2_000_000.0),
        prop::option::of(0.0f64..6.0),
        prop::option::of(0.0f64..1.0),
        prop::collection::vec((prop::sample::select(codes.clone()), 0.0f64..1.0), 0..8),
        credit,
    )
        .prop_map(
            |(bal, sal, churn, prop, (dpd, dsr, alerts, band, score, since))| Signals {
                balance_yuan: bal,
                monthly_outflow_yuan: Some(5_000.0),
                salary_months_6: sal,
                churn_probability: churn,
                propensity: prop.into_iter().collect::<HashMap<_, _>>(),
                max_days_past_due: dpd,
                debt_service_ratio: dsr,
                open_alerts: alerts.into_iter().map(str::to_string).collect(),
                health_band: band.map(str::to_string),
                health_score: score,
                days_since_salary: since,
                ..Signals::default()
            },
        );
    (
        facts,
        prop::option::of(prop::sample::select(RiskTolerance::ALL.to_vec())),
        prop::sample::subsequence(codes, 0..4),
        signals,
        prop::sample::subsequence(SalesChannel::ALL.to_vec(), 0..4),
    )
        .prop_map(|(facts, tol, held, signals, channels)| CustomerView {
            customer_id: 1,
            facts,
            assessment: tol.map(|t| Assessment {
                tolerance: t,
                assessed_on: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            }),
            held,
            signals,
            marketing_channels: channels,
        })
}

/// The rule, restated from its definition (not from the engine's code).
fn fails_the_rule(v: &CustomerView, pol: &LendingPolicy) -> bool {
    let s = &v.signals;
    s.max_days_past_due.is_some_and(|d| d > 0.0)
        || s.open_alerts.iter().any(|r| {
            ["income_stopped", "balance_collapse", "negative_balance"].contains(&r.as_str())
                || r.starts_with("dpd_")
        })
        || s.debt_service_ratio
            .is_some_and(|r| r > pol.max_debt_service_ratio)
        || s.health_band.as_deref() == Some("at_risk")
        || s.days_since_salary
            .is_some_and(|d| d > pol.max_days_without_salary && d <= 365.0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_500))]

    #[test]
    fn no_credit_offer_ever_to_a_customer_who_fails_the_rule(v in view(), levers in levers()) {
        let e = crate::common::engine(levers);
        let today = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
        let r = e.recommend(&v, today);
        let fails = fails_the_rule(&v, &e.lending);
        for a in &r.actions {
            let Some(code) = a.product_code.as_deref() else { continue };
            let p = e.catalogue.get(code).unwrap();
            if p.credit {
                prop_assert!(!fails, "{} proposed to a customer who fails the rule: {:?}", code, v.signals);
                // The engine's own check agrees at every step of the sale.
                for ctx in [Context::Propose, Context::Offer, Context::Sell] {
                    prop_assert!(check_lending(&e.lending, p, &CreditFacts::of(&v.signals), ctx).allowed);
                }
                prop_assert!(r.lending_decisive.iter().any(|(c, d)| c == code && d.allowed));
            }
        }
        // Every blocked credit product is logged with a code and reasons in both languages.
        for (code, d) in &r.lending {
            prop_assert!(e.catalogue.get(code).unwrap().credit);
            prop_assert_eq!(d.allowed, !fails);
            prop_assert!(!d.reason_en.is_empty() && !d.reason_zh.is_empty());
        }
    }

    #[test]
    fn care_comes_first_while_a_signal_is_open(v in view(), levers in levers()) {
        let e = crate::common::engine(levers);
        let today = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
        let r = e.recommend(&v, today);
        let s = &v.signals;
        let needs_care = s.open_alerts.iter().any(|a| e.lending.is_distress(a) || e.lending.is_attrition(a))
            || matches!(s.health_band.as_deref(), Some("watch" | "at_risk"));
        if needs_care {
            prop_assert_eq!(r.actions.first().map(|a| a.kind), Some(ActionKind::Retention));
            prop_assert!(r.actions.iter().skip(1).all(|a| a.kind != ActionKind::Retention));
        }
        // No reason says the salary comes in regularly once it stopped.
        if !Engine::salary_current(&v) {
            for a in &r.actions {
                prop_assert!(a.reasons.iter().all(|x| x.code != "salary_consumption" && x.code != "life_stage_home"),
                    "{:?}", a.reasons);
            }
        }
    }
}
