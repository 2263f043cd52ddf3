//! The refresher (`rapport_services::warm`), on SQLite and (with
//! `RAPPORT_TEST_PG`) PostgreSQL: after a refresh, the page use cases
//! (KPIs bank-wide with each view, the quality report, the holiday analysis,
//! the rule performance, the campaign plan inputs) compute nothing — they
//! read the kept values; the refresh raises no generation; the poller
//! notices a scoring run made through a second `Store` handle on the same
//! store and warms the new data; the KPI facts are kept while the clock
//! moves, until a decision taken against it (an alert's 24 hours) could
//! change.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, FixedOffset};
use rapport_analytics::kpi::Kpi;
use rapport_services::access::Actor;
use rapport_services::clock::Clock;
use rapport_services::config::Config;
use rapport_services::holiday::demand_view;
use rapport_services::kpi::{self, ViewBy};
use rapport_services::warm::{refresh, Poller};
use rapport_services::{memo, rule_performance, Services};
use rapport_store::generation::Domain;
use rapport_store::Store;
use rapport_testkit::{Backend, TestDb};

const NAMES: [&str; 7] = [
    "kpi.rows",
    "kpi.facts",
    "kpi.figures",
    "quality.report",
    "holiday.demand",
    "rules.outcomes",
    "campaign.plan_inputs",
];

fn counts(store_id: i64) -> Vec<(&'static str, u64)> {
    NAMES
        .iter()
        .map(|n| (*n, memo::computed(n, store_id)))
        .collect()
}

/// What the pages ask for first, bank-wide.
async fn page_views(svc: &Services) {
    let system = Actor::system("test");
    kpi::report(svc, &system, None, None).await.unwrap();
    for view in [
        None,
        Some(ViewBy::Segment),
        Some(ViewBy::Branch),
        Some(ViewBy::Rm),
    ] {
        kpi::report_with_trends(svc, &system, view, None)
            .await
            .unwrap();
    }
    kpi::data_quality(svc, &system).await.unwrap();
    demand_view(&svc.store, &system, None, None).await.unwrap();
    rule_performance::report(svc, &system).await.unwrap();
    rapport_services::campaign::warm_plan_inputs(&svc.store)
        .await
        .unwrap();
}

async fn score(store: &Store) {
    let as_of = rapport_services::scoring::resolve_as_of(store, None)
        .await
        .unwrap();
    rapport_services::scoring::run_scoring(store, as_of, &Default::default())
        .await
        .unwrap();
}

async fn run(backend: Backend) {
    let Some(db) = TestDb::on(backend, "warm").await else {
        return;
    };
    let store = db.store.clone();
    rapport_testkit::generated_bank(&db, 60, 7).await;
    score(&store).await;
    let svc = Services::build(store.clone(), Config::default()).unwrap();
    let id = store.generations().await.unwrap().store;

    // Nothing computed yet for this store.
    assert!(counts(id).iter().all(|(_, n)| *n == 0), "{:?}", counts(id));

    // A refresh computes every report once and raises no generation.
    let before = store.generations().await.unwrap();
    let r = refresh(&svc).await.unwrap();
    assert!(r.complete(), "{r:?}");
    assert_eq!(store.generations().await.unwrap(), before);
    let warmed = counts(id);
    for (name, n) in &warmed {
        assert!(*n >= 1, "{name} was not computed: {warmed:?}");
    }
    assert!(memo::is_kept("kpi.rows", "", &before, &[Domain::Data, Domain::Work]).await);
    assert!(memo::is_kept("quality.report", "", &before, &[Domain::Data, Domain::Work]).await);

    // The page views then read kept values: nothing is computed again.
    page_views(&svc).await;
    assert_eq!(counts(id), warmed, "a page view paid for a report");

    // A scoring run through a second handle on the same store (another
    // process, as far as this one knows): the poller sees it and warms.
    let mut poller = Poller::new(svc.clone());
    assert!(
        poller.tick().await.unwrap().is_some(),
        "first tick refreshes"
    );
    assert_eq!(counts(id), warmed, "the first tick found everything kept");
    assert!(poller.tick().await.unwrap().is_none(), "nothing moved");
    let other = Store::connect(&db.url).await.unwrap();
    score(&other).await;
    let moved = store.generations().await.unwrap();
    assert!(moved.data > before.data, "{before:?} → {moved:?}");
    assert!(!memo::is_kept("kpi.rows", "", &moved, &[Domain::Data, Domain::Work]).await);
    let r = poller
        .tick()
        .await
        .unwrap()
        .expect("the poller noticed the scoring run");
    assert!(r.complete(), "{r:?}");
    assert_eq!(r.data, moved.data);
    assert!(memo::is_kept("kpi.rows", "", &moved, &[Domain::Data, Domain::Work]).await);
    let rewarmed = counts(id);
    for ((name, a), (_, b)) in warmed.iter().zip(&rewarmed) {
        assert!(b > a, "{name} was not recomputed after the scoring run");
    }
    page_views(&svc).await;
    assert_eq!(
        counts(id),
        rewarmed,
        "a page view paid after the poller ran"
    );
    assert!(poller.tick().await.unwrap().is_none());
    other.close().await;

    db.drop().await;
}

/// The KPI facts are kept while the clock moves and no decision can change;
/// an alert still inside its 24 hours makes them go when the 24 hours end.
async fn run_clock(backend: Backend) {
    let Some(db) = TestDb::on(backend, "warm_clock").await else {
        return;
    };
    let store = db.store.clone();
    rapport_testkit::generated_bank(&db, 60, 8).await;
    score(&store).await;
    let id = store.generations().await.unwrap().store;
    let system = Actor::system("test");
    let offset = FixedOffset::east_opt(8 * 3600).unwrap();
    // The latest alert of the scoring, still new.
    let raised_at = match &store {
        Store::Sqlite(p) => sqlx::query_scalar::<_, chrono::DateTime<chrono::Utc>>(
            "SELECT raised_at FROM alert WHERE status = 'new' ORDER BY raised_at DESC LIMIT 1",
        )
        .fetch_one(p)
        .await
        .unwrap(),
        Store::Postgres(p) => sqlx::query_scalar::<_, chrono::DateTime<chrono::Utc>>(
            "SELECT raised_at FROM alert WHERE status = 'new' ORDER BY raised_at DESC LIMIT 1",
        )
        .fetch_one(p)
        .await
        .unwrap(),
    };
    // The KPIs over the alert's day (as `memo.rs` takes them).
    let end = match &store {
        Store::Sqlite(p) => sqlx::query_scalar::<_, chrono::NaiveDate>(
            "SELECT raised_on FROM alert WHERE status = 'new' ORDER BY raised_at DESC LIMIT 1",
        )
        .fetch_one(p)
        .await
        .unwrap(),
        Store::Postgres(p) => sqlx::query_scalar::<_, chrono::NaiveDate>(
            "SELECT raised_on FROM alert WHERE status = 'new' ORDER BY raised_at DESC LIMIT 1",
        )
        .fetch_one(p)
        .await
        .unwrap(),
    };
    let end = Some(end);
    let mut svc = Services::build(store.clone(), Config::default()).unwrap();
    svc.clock = Clock::fixed(
        offset,
        (raised_at + Duration::hours(1))
            .with_timezone(&offset)
            .naive_local(),
    );
    let tile = |d: &kpi::KpiDashboard| {
        let t = d
            .tiles
            .iter()
            .find(|t| t.kpi == Kpi::AlertsAcknowledged24h)
            .unwrap();
        (t.numerator, t.denominator)
    };
    let pending = tile(&kpi::report(&svc, &system, None, end).await.unwrap());
    let facts = memo::computed("kpi.facts", id);
    // Minutes and hours later, still inside the 24 hours: kept.
    svc.clock.advance(Duration::minutes(5));
    assert_eq!(
        tile(&kpi::report(&svc, &system, None, end).await.unwrap()),
        pending
    );
    svc.clock.advance(Duration::hours(20));
    kpi::report(&svc, &system, None, end).await.unwrap();
    assert_eq!(
        memo::computed("kpi.facts", id),
        facts,
        "kept while nothing can change"
    );
    // Past the 24 hours: decided again, the alert now missed its 24 hours.
    svc.clock.advance(Duration::hours(4));
    let missed = tile(&kpi::report(&svc, &system, None, end).await.unwrap());
    assert_eq!(memo::computed("kpi.facts", id), facts + 1);
    assert!(
        missed.1 > pending.1,
        "the pending alert now counts as missed: {pending:?} → {missed:?}"
    );
    // And kept again from then on.
    svc.clock.advance(Duration::days(3));
    kpi::report(&svc, &system, None, end).await.unwrap();
    assert_eq!(memo::computed("kpi.facts", id), facts + 1);
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresher_warms_what_pages_read_on_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresher_warms_what_pages_read_on_postgres() {
    run(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kpi_facts_follow_the_clock_only_when_a_decision_can_change_on_sqlite() {
    run_clock(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kpi_facts_follow_the_clock_only_when_a_decision_can_change_on_postgres() {
    run_clock(Backend::Postgres).await;
}
