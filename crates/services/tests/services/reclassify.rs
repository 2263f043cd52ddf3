//! A handler corrects a complaint's category (who, when, why; audited; the
//! case's history shows it), the permission and scope rules hold, and the
//! correction trains the classifier the next intake is classified with;
//! under the regulator's policy a complaint's deadline is extended 15 → 30
//! days by the handler and 30 → 60 only with a senior's approval. On SQLite
//! and (with `RAPPORT_TEST_PG`) PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, FixedOffset, NaiveDateTime};
use rapport_engage::case::ComplaintCategory;
use rapport_services::access::{staff_by_username, Actor};
use rapport_services::cases::{self, CaseSettings, Intake};
use rapport_services::clock::Clock;
use rapport_services::config::Config;
use rapport_services::error::ServiceError;
use rapport_services::staff;
use rapport_store::{AuditFilter, Store};
use rapport_testkit::{Backend, TestDb};

async fn actor(store: &Store, name: &str) -> Actor {
    Actor::Staff(staff_by_username(store, name, "test").await.unwrap())
}

async fn setup(db: &TestDb) -> (Store, String) {
    let store = db.store.clone();
    rapport_testkit::generated_bank(db, 30, 5).await;
    let system = Actor::system("test");
    for (name, role) in [
        ("cx_agent", "agent"),
        ("cx_manager", "manager"),
        ("cx_analyst", "analyst"),
    ] {
        staff::create_user(&store, &system, "test", name, None, role, None, None)
            .await
            .unwrap();
    }
    let customer = store.sample_customer_keys(1, 2).await.unwrap().remove(0);
    (store, customer)
}

fn intake(customer: &str, subject: &str, description: &str) -> Intake {
    Intake {
        customer_key: customer.to_string(),
        intake: "api".into(),
        kind: "complaint".into(),
        category: "auto".into(),
        severity: "auto".into(),
        subject: subject.into(),
        description: description.into(),
        supervisor: None,
        by: String::new(),
    }
}

async fn reclassify_run(backend: Backend) {
    let Some(db) = TestDb::on(backend, "reclassify").await else {
        return;
    };
    let (store, customer) = setup(&db).await;
    let monday = NaiveDateTime::parse_from_str("2026-09-14 10:00", "%Y-%m-%d %H:%M").unwrap();
    let clock = Clock::fixed(FixedOffset::east_opt(8 * 3600).unwrap(), monday);
    let agent = actor(&store, "cx_agent").await;
    let analyst = actor(&store, "cx_analyst").await;

    // A phrasing about the branch's screens no built-in row holds.
    let subject = "大堂电视屏幕音量";
    let text = "大堂里的电视屏幕音量开得特别大，等候的时候很难受";
    let c = cases::open_case(
        &store,
        &clock,
        &agent,
        "api",
        intake(&customer, subject, text),
    )
    .await
    .unwrap();
    let before = ComplaintCategory::parse(&c.category).unwrap();
    let target = if before == ComplaintCategory::Other {
        ComplaintCategory::ServiceAttitude
    } else {
        ComplaintCategory::Other
    };

    // Refusals: no permission, an unknown category, no reason, the same category.
    let e = cases::reclassify_case(&store, &clock, &analyst, "api", c.id, target.as_str(), "x")
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::Access(_)), "{backend}: {e}");
    let e = cases::reclassify_case(&store, &clock, &agent, "api", c.id, "loud_tv", "x")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ServiceError::Invalid { field, .. } if field == "category"),
        "{backend}: {e}"
    );
    let e = cases::reclassify_case(&store, &clock, &agent, "api", c.id, target.as_str(), "  ")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ServiceError::Invalid { field, .. } if field == "reason"),
        "{backend}: {e}"
    );
    let e = cases::reclassify_case(&store, &clock, &agent, "api", c.id, &c.category, "same")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ServiceError::Invalid { field, .. } if field == "category"),
        "{backend}: {e}"
    );
    let e = cases::reclassify_case(&store, &clock, &agent, "api", 999_999, "fees", "x")
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::NotFound(_)), "{backend}: {e}");
    assert!(cases::corrections(&store).await.unwrap().is_empty());

    // The correction: stored with who, when and why; the case changed; the
    // history and the audit log show it.
    let r = cases::reclassify_case(
        &store,
        &clock,
        &agent,
        "api",
        c.id,
        target.as_str(),
        "about the branch's environment, not a product",
    )
    .await
    .unwrap();
    assert_eq!((r.from, r.to), (before, target));
    assert_eq!(
        store.case(c.id).await.unwrap().unwrap().category,
        target.as_str()
    );
    let rows = store.case_reclassifications(c.id).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].actor, "cx_agent");
    assert_eq!(rows[0].from_category, before.as_str());
    assert_eq!(
        rows[0].reason,
        "about the branch's environment, not a product"
    );
    let ev = store.case_events(c.id).await.unwrap();
    let last = ev.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.actor.as_str()),
        ("reclassify", "cx_agent")
    );
    assert_eq!(last.from_state.as_deref(), Some(last.to_state.as_str()));
    let (audit, _) = store
        .audit_log(&AuditFilter {
            action: Some("case.reclassify".into()),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.len(), 1, "{backend}");
    assert_eq!(audit[0].entry.actor, "cx_agent");
    // Someone else changed it meanwhile: the old category is a conflict at the store.
    let e = store
        .reclassify_case(
            c.id,
            before.as_str(),
            "fees",
            "late",
            "cx_agent",
            monday,
            clock.now(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, rapport_store::StoreError::Conflict(_)),
        "{backend}: {e}"
    );

    // The correction trains the next classification: corrections are the
    // case's text with its new category, the model knows them, and the
    // report counts them.
    let corr = cases::corrections(&store).await.unwrap();
    assert_eq!(corr.len(), 1);
    assert_eq!(corr[0].1, target);
    let p_before = rapport_engage::classify::Classifier::builtin().predict(text);
    let p_after = cases::classifier(&store).await.unwrap().predict(text);
    let prob = |p: &rapport_engage::classify::Prediction| {
        p.scores
            .iter()
            .find(|(c, _)| *c == target)
            .map(|(_, v)| *v)
            .unwrap()
    };
    assert!(
        prob(&p_after) > prob(&p_before),
        "{p_before:?} → {p_after:?}"
    );
    let e = cases::classifier_report(&store, &analyst)
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::Access(_)), "{backend}: {e}");
    let report = cases::classifier_report(&store, &agent).await.unwrap();
    let counted = report.training.iter().find(|t| t.0 == target).unwrap().4;
    assert_eq!(counted, 1);
    assert_eq!(report.sets.len(), 3);

    // Reclassified twice: the latest category is the one trained on.
    clock.advance(Duration::minutes(5));
    cases::reclassify_case(
        &store,
        &clock,
        &agent,
        "cli",
        c.id,
        "digital_channels",
        "a screen",
    )
    .await
    .unwrap();
    let corr = cases::corrections(&store).await.unwrap();
    assert_eq!(corr.len(), 1);
    assert_eq!(corr[0].1, ComplaintCategory::DigitalChannels);
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reclassify_is_audited_and_trains_the_next_model_sqlite() {
    reclassify_run(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reclassify_is_audited_and_trains_the_next_model_postgres() {
    reclassify_run(Backend::Postgres).await;
}

async fn extend_run(backend: Backend) {
    let Some(db) = TestDb::on(backend, "case_extend").await else {
        return;
    };
    let (store, customer) = setup(&db).await;
    let opened = NaiveDateTime::parse_from_str("2026-09-25 20:00", "%Y-%m-%d %H:%M").unwrap();
    let clock = Clock::fixed(FixedOffset::east_opt(8 * 3600).unwrap(), opened);
    let agent = actor(&store, "cx_agent").await;
    let mgr = actor(&store, "cx_manager").await;

    // The bank's own policy allows no extension.
    let bank = CaseSettings::from_config(&Config::default()).unwrap();
    let c = cases::open_case(
        &store,
        &clock,
        &agent,
        "api",
        intake(&customer, "年费", "信用卡年费被重复扣收，要求退还"),
    )
    .await
    .unwrap();
    let e = cases::extend_case(&store, &bank, &clock, &agent, "api", c.id, "complex")
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::Refused(_)), "{backend}: {e}");

    let mut cfg = Config::default();
    cfg.cases.sla_policy = "regulator".into();
    cfg.validate().unwrap();
    let reg = CaseSettings::from_config(&cfg).unwrap();
    let [ack, res] = cases::sla_of(&store, &reg, &c, opened).await.unwrap();
    assert_eq!(ack.due, opened + Duration::hours(24));
    assert_eq!(res.due, opened + Duration::days(15));

    let e = cases::extend_case(&store, &reg, &clock, &agent, "api", c.id, " ")
        .await
        .unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid { field, .. } if field == "reason"));
    // First extension: the handler, to 30 days.
    let x = cases::extend_case(
        &store,
        &reg,
        &clock,
        &agent,
        "api",
        c.id,
        "needs the merchant's records",
    )
    .await
    .unwrap();
    assert_eq!(x.extensions, 1);
    assert_eq!(x.due, opened + Duration::days(30));
    assert!(!x.senior_approved);
    // Second: only a senior.
    let e = cases::extend_case(&store, &reg, &clock, &agent, "api", c.id, "more")
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::Access(_)), "{backend}: {e}");
    let x = cases::extend_case(
        &store,
        &reg,
        &clock,
        &mgr,
        "api",
        c.id,
        "especially complex",
    )
    .await
    .unwrap();
    assert_eq!(x.extensions, 2);
    assert_eq!(x.due, opened + Duration::days(60));
    assert!(x.senior_approved);
    // No third.
    let e = cases::extend_case(&store, &reg, &clock, &mgr, "api", c.id, "again")
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::Refused(_)), "{backend}: {e}");
    let ev = store.case_events(c.id).await.unwrap();
    assert_eq!(ev.iter().filter(|e| e.action == "extend").count(), 2);
    let (audit, _) = store
        .audit_log(&AuditFilter {
            action: Some("case.extend".into()),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.len(), 2, "{backend}");
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regulator_deadline_extends_to_30_then_60_with_a_senior_sqlite() {
    extend_run(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regulator_deadline_extends_to_30_then_60_with_a_senior_postgres() {
    extend_run(Backend::Postgres).await;
}
