//! Responsible lending and next best actions that agree with the signals,
//! on a generated bank scored end to end, on SQLite and (with
//! `RAPPORT_TEST_PG`) PostgreSQL:
//!
//! * after a scoring run and a batch of next best actions, no customer past
//!   due in the last 12 months, with an open distress alert or in the
//!   at-risk band is proposed a credit product (checked against the store,
//!   not the engine's own counts), while other customers still are; every
//!   customer needing care has the retention action first;
//! * an RM cannot record a blocked credit product as offered or accepted:
//!   refused with the rule's reason, the blocked decision logged;
//! * an offered retention action stays first after the next batch, with no
//!   second one beside it;
//! * closing the alert "contacted – retained" logs the contact with the same
//!   outcome, creates the follow-up call and concludes the retention action;
//!   the same outcome in the contact log creates a follow-up call too; audited.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{FixedOffset, NaiveDateTime};
use rapport_engage::campaign::Outcome;
use rapport_matching::LendingPolicy;
use rapport_services::access::Actor;
use rapport_services::alerts::{self, CONTACTED_RETAINED};
use rapport_services::clock::Clock;
use rapport_services::error::ServiceError;
use rapport_services::recommendations::{recommend_all, record_outcome_as, Settings};
use rapport_services::rm::{self, ContactEntry, ContactKind, ContactOutcome};
use rapport_services::scoring::{resolve_as_of, run_scoring, ScoringOptions};
use rapport_store::{
    AlertFilter, AlertStatus, AuditFilter, NewRecommendation, RecommendationScope, Store,
};
use rapport_testkit::{Backend, TestDb};
use std::collections::HashSet;

/// Whether the customer fails the rule, read from the store as of `on`.
async fn fails_the_rule(
    store: &Store,
    pol: &LendingPolicy,
    id: i64,
    on: chrono::NaiveDate,
) -> bool {
    let dpd = store.customer_max_days_past_due(id, on).await.unwrap();
    let alerts = store.customer_open_alert_rules(id).await.unwrap();
    let band = store.customer_latest_health(id, on).await.unwrap();
    dpd.is_some_and(|d| d > 0)
        || alerts.iter().any(|r| pol.is_distress(r))
        || band.is_some_and(|b| b.2 == "at_risk")
}

async fn run(backend: Backend) {
    let Some(db) = TestDb::on(backend, "lending").await else {
        return;
    };
    let store = db.store.clone();
    rapport_testkit::generated_bank(&db, 400, 11).await;
    let as_of = resolve_as_of(&store, None).await.unwrap();
    run_scoring(&store, as_of, &ScoringOptions::default())
        .await
        .unwrap();
    let settings = Settings::builtin().unwrap();
    let pol = settings.lending.clone();
    let report = recommend_all(&store, &settings, as_of, "system")
        .await
        .unwrap();
    assert_eq!(report.credit_proposed_in_arrears, 0, "{report:?}");
    assert_eq!(report.credit_proposed_dpd_90, 0, "{report:?}");
    assert_eq!(report.credit_proposed_at_risk, 0, "{report:?}");
    assert_eq!(report.care_not_first, 0, "{report:?}");
    assert!(report.blocked_by_lending > 0, "{report:?}");

    // Against the store: every customer proposed a credit product passes the rule.
    let mut credit_customers = 0;
    let mut retention_customers = Vec::new();
    let ids: Vec<i64> = store
        .health_scores(as_of)
        .await
        .unwrap()
        .iter()
        .map(|h| h.customer_id)
        .collect();
    for &id in &ids {
        let recs = store.customer_recommendations(id, 0).await.unwrap();
        let credit = recs.iter().any(|r| {
            r.product_code
                .as_deref()
                .and_then(|c| settings.catalogue.get(c))
                .is_some_and(|p| p.credit)
        });
        if credit {
            credit_customers += 1;
            assert!(
                !fails_the_rule(&store, &pol, id, as_of).await,
                "customer {id} fails the rule and is proposed credit: {recs:?}"
            );
        }
        if recs.first().is_some_and(|r| r.action == "retention") {
            retention_customers.push(id);
        }
    }
    assert!(
        credit_customers > 0,
        "ordinary customers still get credit offers"
    );

    // A customer in arrears: an RM cannot offer nor sell them a loan.
    let mut in_arrears = None;
    for &id in &ids {
        if store
            .customer_max_days_past_due(id, chrono::Utc::now().date_naive())
            .await
            .unwrap()
            .is_some_and(|d| d > 0)
        {
            in_arrears = Some(id);
            break;
        }
    }
    let in_arrears = in_arrears.expect("the generated bank has customers in arrears");
    store
        .replace_recommendations(
            RecommendationScope::Customer(in_arrears),
            as_of,
            &[NewRecommendation {
                customer_id: in_arrears,
                rank: 1,
                action: "sale".into(),
                product_code: Some("LN-CONS".into()),
                priority: 1.0,
                detail: "{}".into(),
            }],
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let rec = store
        .customer_recommendations(in_arrears, 0)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.product_code.as_deref() == Some("LN-CONS"))
        .unwrap();
    let actor = Actor::system("test");
    for outcome in ["offered", "accepted"] {
        let err = record_outcome_as(
            &store, &settings, &actor, "test", rec.id, outcome, None, None,
        )
        .await
        .unwrap_err();
        match &err {
            ServiceError::Refused(m) => {
                assert!(m.contains("responsible-lending"), "{m}");
                assert!(m.contains("days past due"), "{m}");
                assert!(m.contains("逾期"), "{m}");
            }
            other => panic!("{outcome}: expected a refusal, got {other:?}"),
        }
    }
    let log = store.suitability_log(in_arrears, 20).await.unwrap();
    assert!(
        log.iter()
            .any(|l| l.decision.code == "lending_days_past_due"
                && !l.decision.allowed
                && l.decision.context == "sell"),
        "{log:?}"
    );
    assert_eq!(
        store.recommendation(rec.id).await.unwrap().unwrap().status,
        "proposed",
        "a refused outcome changes nothing"
    );

    // An offered retention action stays first after the next batch.
    let mut with_alert = None;
    for &id in &retention_customers {
        let open = store
            .list_alerts(&AlertFilter {
                customer_id: Some(id),
                status: Some(AlertStatus::New),
                ..AlertFilter::default()
            })
            .await
            .unwrap();
        if let Some(a) = open.into_iter().next() {
            with_alert = Some((id, a));
            break;
        }
    }
    let (customer, alert) = with_alert.expect("a customer with retention first and a new alert");
    let retention = store.customer_recommendations(customer, 0).await.unwrap()[0].clone();
    record_outcome_as(
        &store,
        &settings,
        &actor,
        "test",
        retention.id,
        "offered",
        Some("phone"),
        None,
    )
    .await
    .unwrap();
    recommend_all(&store, &settings, as_of, "system")
        .await
        .unwrap();
    let after = store.customer_recommendations(customer, 0).await.unwrap();
    assert_eq!(after[0].id, retention.id, "{after:?}");
    assert_eq!(after[0].status, "offered");
    assert_eq!(
        after.iter().filter(|r| r.action == "retention").count(),
        1,
        "{after:?}"
    );

    // Contacted – retained: contact logged, follow-up call, retention concluded.
    let local = NaiveDateTime::parse_from_str("2026-09-14 10:00", "%Y-%m-%d %H:%M").unwrap();
    let clock = Clock::fixed(FixedOffset::east_opt(8 * 3600).unwrap(), local);
    alerts::transition(
        &store,
        &clock,
        &actor,
        alert.id,
        AlertStatus::Acknowledged,
        None,
        None,
        "test",
    )
    .await
    .unwrap();
    let bad = alerts::transition(
        &store,
        &clock,
        &actor,
        alert.id,
        AlertStatus::Closed,
        None,
        Some("kept"),
        "test",
    )
    .await
    .unwrap_err();
    assert!(matches!(bad, ServiceError::Invalid { .. }), "{bad:?}");
    let closed = alerts::transition(
        &store,
        &clock,
        &actor,
        alert.id,
        AlertStatus::Closed,
        Some("called, fee waived, stays"),
        Some(CONTACTED_RETAINED),
        "test",
    )
    .await
    .unwrap();
    assert_eq!(closed.disposition.as_deref(), Some(CONTACTED_RETAINED));
    let contacts = store.contact_log(customer).await.unwrap();
    assert!(
        contacts
            .iter()
            .any(|c| c.outcome == CONTACTED_RETAINED && c.at == local),
        "{contacts:?}"
    );
    let tasks: Vec<_> = store
        .contact_tasks(None, true)
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.customer_id == customer && t.script.contains("Retention follow-up"))
        .collect();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(
        tasks[0].due_at,
        local + chrono::Duration::days(alerts::FOLLOW_UP_DAYS)
    );
    assert!(tasks[0].script.contains("留存回访"));
    assert_eq!(
        store
            .recommendation(retention.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        "accepted"
    );
    let (audit, _) = store
        .audit_log(&AuditFilter {
            customer_id: Some(customer),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    let actions: HashSet<&str> = audit.iter().map(|a| a.entry.action.as_str()).collect();
    for a in [
        "alert.closed",
        "contact_log.add",
        "contact_task.add",
        "recommendation.outcome",
    ] {
        assert!(actions.contains(a), "{a} not audited: {actions:?}");
    }

    // The same outcome in the contact log creates a follow-up call.
    let other = *ids.iter().find(|&&i| i != customer).unwrap();
    let key = format!("#{other}");
    rm::log_contact(
        &store,
        &clock,
        &actor,
        "test",
        ContactEntry {
            customer_key: key,
            kind: ContactKind::Visit,
            outcome: ContactOutcome::parse(CONTACTED_RETAINED).unwrap(),
            note: None,
            by: String::new(),
        },
    )
    .await
    .unwrap();
    assert!(store
        .contact_tasks(None, true)
        .await
        .unwrap()
        .iter()
        .any(|t| t.customer_id == other && t.script.contains("Retention follow-up")));

    // A campaign offering credit is an offer too: nobody who fails the rule
    // is sent it, while other customers are.
    let spec = r#"
key = "card_offer"
name_en = "Classic card offer"
name_zh = "标准信用卡推荐"
purpose = "marketing"
audience = "all"
product = "CC-CLASSIC"
channels = ["sms", "email"]
window = { start = "2026-09-14T09:00:00", end = "2026-09-24T20:00:00" }
control_percent = 0.0

[template]
subject_zh = "{name}，为您推荐{product}"
subject_en = "{name}, {product} for you"
body_zh = "尊敬的{name}：{product}现已开放申请。{opt_out}"
body_en = "Dear {name}, {product} is open for application. {opt_out}"
"#;
    rapport_services::campaign::save(&store, spec, "test", &clock)
        .await
        .unwrap();
    let cs = rapport_services::campaign::CampaignSettings::from_config(
        &rapport_services::config::Config::default(),
    )
    .unwrap();
    let planned = rapport_services::campaign::plan_by_key(&store, &cs, "card_offer", &clock)
        .await
        .unwrap();
    let today = clock.local().date();
    let (mut sent, mut blocked_by_lending) = (0, 0);
    for p in &planned.plan {
        match &p.outcome {
            Outcome::Send { .. } | Outcome::Control { .. } => {
                assert!(
                    !fails_the_rule(&store, &pol, p.customer_id, today).await,
                    "customer {} failing the lending rule is sent a card offer",
                    p.customer_id
                );
                sent += 1;
            }
            Outcome::Blocked {
                reason_en,
                reason_zh,
                ..
            } if reason_en.contains("responsible lending") => {
                assert!(reason_zh.contains("审慎放贷"), "{reason_zh}");
                blocked_by_lending += 1;
            }
            Outcome::Blocked { .. } => {}
        }
    }
    assert!(sent > 0 && blocked_by_lending > 0, "{:?}", planned.counts);
    db.drop().await;
}

#[tokio::test]
async fn no_credit_to_customers_who_fail_the_rule_and_care_first_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test]
async fn no_credit_to_customers_who_fail_the_rule_and_care_first_postgres() {
    run(Backend::Postgres).await;
}
