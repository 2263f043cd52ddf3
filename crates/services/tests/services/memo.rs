//! Reports kept until their data changes (`rapport_services::memo`, the data
//! generations of migration 0020), on SQLite and (with `RAPPORT_TEST_PG`)
//! PostgreSQL: a kept report is the same value until a write, and the next
//! call after a write shows it — an alert acted on changes the KPI rows, the
//! alerts-acknowledged tile and the rule's action rate; an import changes the
//! holiday demand and the rule outcomes; a scoring run invalidates the data
//! reports — while reads, even audited ones (a 360 view, an unmasking), keep
//! every report.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rapport_testkit::{Backend, TestDb};

use rapport_analytics::kpi::Kpi;
use rapport_services::access::{staff_by_username, Actor};
use rapport_services::config::Config;
use rapport_services::customers::{read_360, Reading};
use rapport_services::holiday::demand_view;
use rapport_services::{kpi, rule_performance, Services};
use rapport_store::{AlertStatus, Store};
use std::sync::Arc;

async fn scalar(store: &Store, sql: &str) -> i64 {
    match store {
        Store::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        Store::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

async fn run(backend: Backend) {
    let Some(db) = TestDb::on(backend, "memo").await else {
        return;
    };
    let store = db.store.clone();
    rapport_testkit::generated_bank(&db, 60, 5).await;
    let as_of = rapport_services::scoring::resolve_as_of(&store, None)
        .await
        .unwrap();
    rapport_services::scoring::run_scoring(&store, as_of, &Default::default())
        .await
        .unwrap();
    let svc = Services::build(store.clone(), Config::default()).unwrap();
    let system = Actor::system("test");

    // Kept: the same rows twice, the same figures.
    let rows = kpi::rows(&store).await.unwrap();
    assert!(Arc::ptr_eq(&rows, &kpi::rows(&store).await.unwrap()));

    // An alert of the latest scoring, still new; the KPIs over its day.
    let alert = scalar(
        &store,
        "SELECT MIN(id) FROM alert WHERE status = 'new' AND rule IS NOT NULL",
    )
    .await;
    let a = store.alert(alert).await.unwrap();
    let end = Some(a.raised_on);
    let tile = |d: &kpi::KpiDashboard| {
        let t = d
            .tiles
            .iter()
            .find(|t| t.kpi == Kpi::AlertsAcknowledged24h)
            .unwrap();
        (t.numerator, t.denominator)
    };
    let before = tile(&kpi::report(&svc, &system, None, end).await.unwrap());
    let rules = rule_performance::report(&svc, &system).await.unwrap();
    let acted = rules.rule(&a.rule).unwrap().total.acted;
    let holiday = demand_view(&store, &system, Some("national_day"), None)
        .await
        .unwrap();

    // Reads, audited or not, change nothing: the same rows are kept.
    let agent = staff_by_username(&store, "agent01", "test").await.unwrap();
    let key = store.sample_customer_keys(1, 3).await.unwrap().remove(0);
    let generations = store.generations().await.unwrap();
    read_360(&svc, &agent, "test", &key, Reading::View)
        .await
        .unwrap();
    read_360(
        &svc,
        &agent,
        "test",
        &key,
        Reading::Unmask {
            reason: "verifying the phone number with the customer".into(),
        },
    )
    .await
    .unwrap();
    assert!(
        scalar(&store, "SELECT COUNT(*) FROM audit_log").await > 0,
        "the reads were audited"
    );
    assert_eq!(store.generations().await.unwrap(), generations);
    assert!(Arc::ptr_eq(&rows, &kpi::rows(&store).await.unwrap()));

    // Acting on the alert shows on the next call: the KPI rows are read
    // again, the tile counts the acknowledgement, the rule its action.
    let clock = svc.clock.clone();
    for to in [AlertStatus::Acknowledged, AlertStatus::Actioned] {
        rapport_services::alerts::transition(
            &store, &clock, &system, alert, to, None, None, "test",
        )
        .await
        .unwrap();
    }
    let after_rows = kpi::rows(&store).await.unwrap();
    assert!(
        !Arc::ptr_eq(&rows, &after_rows),
        "an acknowledgement is a write"
    );
    let after = tile(&kpi::report(&svc, &system, None, end).await.unwrap());
    assert_eq!(after.0, before.0 + 1.0, "{before:?} → {after:?}");
    let rules2 = rule_performance::report(&svc, &system).await.unwrap();
    assert_eq!(rules2.rule(&a.rule).unwrap().total.acted, acted + 1);
    // The holiday analysis depends on no alert: the same figures.
    let same = demand_view(&store, &system, Some("national_day"), None)
        .await
        .unwrap();
    assert_eq!(same.report, holiday.report);

    // An import (a second source's customers and their transactions): the
    // holiday demand and the rule outcomes are computed again.
    let g = rapport_ingest::synth::GenConfig {
        customers: 30,
        seed: 99,
        source: "branch_system".into(),
        ..Default::default()
    };
    let dir = db.path("second");
    std::fs::create_dir_all(&dir).unwrap();
    rapport_ingest::synth::generate(&g, &dir, &|_| {}).unwrap();
    let data = store.generations().await.unwrap().data;
    rapport_ingest::load_generated(&store, &dir, &g.source, &Default::default())
        .await
        .unwrap();
    assert!(store.generations().await.unwrap().data > data);
    let changed = demand_view(
        &store,
        &system,
        Some("national_day"),
        Some(holiday.report.year),
    )
    .await
    .unwrap();
    assert_ne!(
        changed.report, holiday.report,
        "the imported transactions count in the holiday demand"
    );

    // A scoring run is a data change too.
    let kept = kpi::rows(&store).await.unwrap();
    rapport_services::scoring::run_scoring(&store, as_of, &Default::default())
        .await
        .unwrap();
    assert!(!Arc::ptr_eq(&kept, &kpi::rows(&store).await.unwrap()));
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_follow_writes_not_reads_on_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_follow_writes_not_reads_on_postgres() {
    run(Backend::Postgres).await;
}
