//! Health scores, scoring runs, band migration and RM assignment, on SQLite
//! always and on PostgreSQL when `RAPPORT_TEST_PG` names a server URL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use rapport_store::{BandMove, HealthScoreRow, Store};
use rapport_testkit::TestDb;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

async fn exec(store: &Store, sql: &str) {
    match store {
        Store::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
        Store::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
    }
    .unwrap();
}

fn row(customer_id: i64, score: f64, band: &str) -> HealthScoreRow {
    HealthScoreRow {
        customer_id,
        score,
        band: band.into(),
        factors: format!(r#"[{{"label":"f{customer_id}"}}]"#),
    }
}

async fn story(store: &Store) {
    exec(
        store,
        "INSERT INTO branch (id, code, name) VALUES (1, 'B1', 'One'), (2, 'B2', 'Two');
         INSERT INTO customer (id, name, branch_id) VALUES
           (1, 'a', 1), (2, 'b', 1), (3, 'c', 1), (4, 'd', 2), (5, 'e', NULL);
         INSERT INTO staff_user (id, username, display_name, role, branch_id) VALUES
           (10, 'rm1', 'RM One', 'rm', 1), (11, 'rm2', 'RM Two', 'rm', 1),
           (12, 'mgr', 'Manager', 'manager', 2);",
    )
    .await;

    let (d1, d2) = (d(2024, 1, 1), d(2024, 2, 1));
    let run1 = store.begin_score_run(d1, "card@1").await.unwrap();
    let first = [
        row(1, 80.0, "healthy"),
        row(2, 55.5, "watch"),
        row(3, 20.0, "at_risk"),
        row(4, 90.0, "healthy"),
    ];
    assert_eq!(store.save_health_scores(run1, d1, &first).await.unwrap(), 4);
    store.finish_score_run(run1, 4, "{}").await.unwrap();

    // A re-run of the same date replaces it; a later date adds to the history.
    let run2 = store.begin_score_run(d1, "card@1").await.unwrap();
    assert_eq!(store.save_health_scores(run2, d1, &first).await.unwrap(), 4);
    store.finish_score_run(run2, 4, "{}").await.unwrap();
    assert_eq!(store.health_scores(d1).await.unwrap(), first.to_vec());

    let run3 = store.begin_score_run(d2, "card@1").await.unwrap();
    let second = [
        row(1, 50.0, "watch"),
        row(2, 52.0, "watch"),
        row(3, 75.0, "healthy"),
        row(5, 10.0, "at_risk"),
    ];
    store.save_health_scores(run3, d2, &second).await.unwrap();
    store.finish_score_run(run3, 4, r#"{"x":1}"#).await.unwrap();

    assert_eq!(store.previous_score_date(d2).await.unwrap(), Some(d1));
    assert_eq!(store.previous_score_date(d1).await.unwrap(), None);
    let moves = store.band_migration(d1, d2).await.unwrap();
    let mv = |f: &str, t: &str, n: i64| BandMove {
        from_band: f.into(),
        to_band: t.into(),
        customers: n,
    };
    assert_eq!(
        moves,
        [
            mv("at_risk", "healthy", 1),
            mv("healthy", "watch", 1),
            mv("watch", "watch", 1)
        ]
    );
    let history = store.score_history(1).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1], (d2, 50.0, "watch".to_string()));
    let runs = store.score_runs().await.unwrap();
    assert_eq!(runs.len(), 3);
    assert_eq!((runs[0].id, runs[0].as_of), (run3, d2));

    // Branch 1's three customers go round robin to its two RMs; branch 2 has
    // no RM and customer 5 no branch: both stay unassigned. A second call
    // assigns nobody.
    assert_eq!(
        store
            .assign_unassigned_customers_to_branch_rms()
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        store
            .assign_unassigned_customers_to_branch_rms()
            .await
            .unwrap(),
        0
    );
    let pairs: Vec<(i64, i64)> = match store {
        Store::Sqlite(p) => sqlx::query_as(
            "SELECT customer_id, staff_user_id FROM rm_assignment ORDER BY customer_id",
        )
        .fetch_all(p)
        .await
        .unwrap(),
        Store::Postgres(p) => sqlx::query_as(
            "SELECT customer_id, staff_user_id FROM rm_assignment ORDER BY customer_id",
        )
        .fetch_all(p)
        .await
        .unwrap(),
    };
    assert_eq!(pairs, [(1, 10), (2, 11), (3, 10)]);
}

#[tokio::test]
async fn scores_history_and_rm_assignment_on_sqlite() {
    let db = TestDb::sqlite().await;
    story(&db.store).await;
    db.drop().await;
}

#[tokio::test]
async fn scores_history_and_rm_assignment_on_postgres() {
    let Some(db) = TestDb::postgres("scores").await else {
        return;
    };
    story(&db.store).await;
    db.drop().await;
}
