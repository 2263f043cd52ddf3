//! The KPI report (`rapport_services::kpi::report`) on a generated bank with
//! cases handled in Rapport, the clock moved, on SQLite and (with
//! `RAPPORT_TEST_PG`) PostgreSQL: demand response within 24 h counts
//! calendar hours by default and working hours when the policy says so (the
//! label then says so); it agrees with the case metrics' first-response
//! figure (one clock); case SLA attainment counts a case resolved in time;
//! the targets are the bank's (churn: a 20 % reduction, no churn-rate target).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rapport_testkit::{Backend, TestDb};

use chrono::{FixedOffset, NaiveDate, NaiveDateTime};
use rapport_analytics::kpi::Kpi;
use rapport_engage::case::CaseAction;
use rapport_services::access::Actor;
use rapport_services::cases::{self, Intake};
use rapport_services::clock::Clock;
use rapport_services::config::Config;
use rapport_services::kpi::{report, KpiDashboard, Tile};
use rapport_services::Services;

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

fn tile(d: &KpiDashboard, k: Kpi) -> &Tile {
    d.tiles.iter().find(|t| t.kpi == k).unwrap()
}

fn services(store: &rapport_store::Store, basis: &str, now: NaiveDateTime) -> Services {
    let mut cfg = Config::default();
    cfg.jobs.utc_offset = "+08:00".into();
    cfg.cases.first_response_basis = basis.into();
    let mut svc = Services::build(store.clone(), cfg).unwrap();
    svc.clock = Clock::fixed(FixedOffset::east_opt(8 * 3600).unwrap(), now);
    svc
}

async fn run(backend: Backend) {
    let Some(db) = TestDb::on(backend, "kpi_report").await else {
        return;
    };
    let store = db.store.clone();
    rapport_testkit::generated_bank(&db, 40, 5).await;
    let keys = store.sample_customer_keys(2, 9).await.unwrap();
    let svc = services(&store, "calendar", at("2026-09-18 17:00"));
    let s = svc.settings.cases.clone();
    let clock = svc.clock.clone();
    let intake = |key: &str| Intake {
        customer_key: key.to_string(),
        intake: "api".into(),
        kind: "complaint".into(),
        category: "fees".into(),
        severity: "medium".into(),
        subject: "年费重复扣收".into(),
        description: "信用卡年费本月被扣了两次，要求退还。".into(),
        supervisor: None,
        by: "agent01".into(),
    };
    let step = |id: i64, a: CaseAction| {
        let (store, s, clock) = (store.clone(), s.clone(), clock.clone());
        async move {
            cases::act(&store, &s, &clock, id, &a, "agent01")
                .await
                .unwrap()
        }
    };
    // Friday 17:00: a case answered on Monday 10:00 — 65 calendar hours,
    // 90 working minutes.
    let friday = cases::open(&store, &clock, &intake(&keys[0]))
        .await
        .unwrap()
        .id;
    step(friday, CaseAction::Assign { to: "rm01".into() }).await;
    step(friday, CaseAction::Start).await;
    clock.advance(at("2026-09-21 10:00") - clock.local());
    step(friday, CaseAction::Respond).await;
    // Monday 10:00: a case resolved by 15:00, in time on every clock.
    let monday = cases::open(&store, &clock, &intake(&keys[1]))
        .await
        .unwrap()
        .id;
    step(monday, CaseAction::Assign { to: "rm01".into() }).await;
    step(monday, CaseAction::Start).await;
    clock.advance(at("2026-09-21 15:00") - clock.local());
    step(
        monday,
        CaseAction::Resolve {
            root_cause: "process.slow_processing".into(),
            resolution: "refunded".into(),
        },
    )
    .await;

    let end = Some(NaiveDate::from_ymd_opt(2026, 9, 21).unwrap());
    let system = Actor::system("test");
    let d = report(&svc, &system, None, end).await.unwrap();
    assert_eq!(d.tiles.len(), Kpi::ALL.len());
    let r = tile(&d, Kpi::DemandResponse24h);
    assert_eq!((r.numerator, r.denominator), (1.0, 2.0), "{r:?}");
    assert_eq!(r.label_en, "Demand answered within 24 h");
    // One clock: the case metrics' first-response share is the same figure.
    let m = cases::metrics(&store, &s, &clock, None, None)
        .await
        .unwrap();
    assert_eq!(m.first_response_within_sla, r.value);
    let sla = tile(&d, Kpi::CaseSlaAttainment);
    assert_eq!((sla.numerator, sla.denominator), (1.0, 1.0), "{sla:?}");
    // The bank's targets: churn down 20 % on the year before; no churn-rate target.
    assert_eq!(tile(&d, Kpi::ChurnReduction).target, Some(0.20));
    assert_eq!(tile(&d, Kpi::ChurnRate).target, None);
    assert_eq!(tile(&d, Kpi::ChurnRate).meets_target, None);
    assert_eq!(tile(&d, Kpi::ChannelCoverage).target, Some(0.90));

    // A policy on working hours: the Friday case was answered in time, and
    // the label says which hours.
    let business = services(&store, "business", clock.local());
    let d = report(&business, &system, None, end).await.unwrap();
    let r = tile(&d, Kpi::DemandResponse24h);
    assert_eq!((r.numerator, r.denominator), (2.0, 2.0), "{r:?}");
    assert_eq!(r.label_en, "Demand answered within 24 working hours");
    assert_eq!(r.label_zh, "需求24个工作小时内响应率");
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kpi_report_on_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kpi_report_on_postgres() {
    run(Backend::Postgres).await;
}
