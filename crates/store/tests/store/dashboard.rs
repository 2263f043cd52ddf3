//! The row-scoped dashboard, the rows the KPIs read and the alert queue under each scope, on
//! SQLite always and on PostgreSQL when `RAPPORT_TEST_PG` names a server URL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rapport_testkit::TestDb;

use chrono::NaiveDate;
use rapport_store::{Scope, ScopedAlertFilter, Store, StoreError};

async fn exec(store: &Store, sql: &str) {
    match store {
        Store::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
        Store::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
    }
    .unwrap();
}

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, m, day).unwrap()
}

/// Customers 1 and 2 in branch 1 (1 with RM 1), 3 in branch 2 (RM 2), 4 in
/// none; scores on 2025-02-01 and 2025-03-01; alerts raised long ago (past
/// their SLA when still new).
const FIXTURE: &str = "
INSERT INTO import_file (id, kind, source, path, sha256, status) VALUES
  (1, 'all', 's', 'a.csv', 'x', 'complete');
INSERT INTO branch (id, code, name) VALUES (1, 'B1', 'North'), (2, 'B2', 'South');
INSERT INTO staff_user (id, username, display_name, role, branch_id) VALUES
  (1, 'rm1', 'Rita', 'rm', 1), (2, 'rm2', 'Sam', 'rm', 2);
INSERT INTO customer (id, name, branch_id) VALUES (1, 'a', 1), (2, 'b', 1), (3, 'c', 2), (4, 'd', NULL);
INSERT INTO rm_assignment (customer_id, staff_user_id, assigned_at) VALUES
  (1, 1, '2025-01-01T00:00:00Z'), (3, 2, '2025-01-01T00:00:00Z');
INSERT INTO score_run (id, as_of, started_at, finished_at, scorecard) VALUES
  (1, '2025-02-01', '2025-02-01T00:00:00Z', '2025-02-01T00:01:00Z', 'v1'),
  (2, '2025-03-01', '2025-03-01T00:00:00Z', '2025-03-01T00:01:00Z', 'v1'),
  (3, '2025-04-01', '2025-04-01T00:00:00Z', NULL, 'v1');
INSERT INTO health_score (as_of, customer_id, run_id, score, band, factors) VALUES
  ('2025-02-01', 1, 1, 85, 'healthy', '[]'), ('2025-02-01', 2, 1, 55, 'watch', '[]'),
  ('2025-02-01', 3, 1, 30, 'at_risk', '[]'),
  ('2025-03-01', 1, 2, 79.9, 'watch', '[]'), ('2025-03-01', 2, 2, 100, 'healthy', '[]'),
  ('2025-03-01', 3, 2, 35.5, 'at_risk', '[]'), ('2025-03-01', 4, 2, 0, 'at_risk', '[]');
INSERT INTO account (id, source, source_key, customer_id, account_type, currency, closed_on,
                     fingerprint, import_id) VALUES
  (1, 's', 'A1', 1, 'current', 'CNY', NULL, 0, 1),
  (2, 's', 'A2', 2, 'current', 'CNY', '2024-08-01', 0, 1),
  (3, 's', 'A3', 3, 'current', 'CNY', '2023-06-01', 0, 1),
  (4, 's', 'A4', 3, 'savings', 'CNY', '2023-07-01', 0, 1);
INSERT INTO product (id, code, name, category, risk_level, fingerprint) VALUES
  (1, 'P1', 'Fund', 'fund', 3, 0);
INSERT INTO holding (source, source_key, customer_id, product_id, closed_on, fingerprint,
                     import_id) VALUES
  ('s', 'H1', 1, 1, NULL, 0, 1), ('s', 'H2', 1, 1, '2025-06-01', 0, 1),
  ('s', 'H3', 2, 1, '2024-01-01', 0, 1), ('s', 'H4', 3, 1, NULL, 0, 1);
INSERT INTO interaction (source, source_key, customer_id, occurred_on, channel, kind,
                         fingerprint, import_id) VALUES
  ('s', 'I1', 1, '2025-02-15', 'phone', 'call', 0, 1),
  ('s', 'I2', 1, '2025-02-20', 'phone', 'call', 0, 1),
  ('s', 'I3', 3, '2024-10-01', 'phone', 'call', 0, 1),
  ('s', 'I4', 4, '2025-01-10', 'branch', 'visit', 0, 1);
INSERT INTO service_case (source, source_key, customer_id, opened_on, kind, severity, status,
                          closed_on, fingerprint, import_id) VALUES
  ('s', 'C1', 1, '2025-02-01', 'complaint', 'low', 'closed', '2025-02-02', 0, 1),
  ('s', 'C2', 2, '2025-02-10', 'complaint', 'low', 'closed', '2025-02-20', 0, 1),
  ('s', 'C3', 3, '2025-01-05', 'request', 'low', 'open', NULL, 0, 1);
INSERT INTO survey_response (source, source_key, customer_id, survey, kind, answered_on,
                             question, score, fingerprint, import_id) VALUES
  ('s', 'S1', 1, 'csat', 'csat', '2024-12-01', 'q', 5, 0, 1),
  ('s', 'S2', 2, 'csat', 'csat', '2024-12-01', 'q', 3, 0, 1),
  ('s', 'S3', 3, 'csat', 'csat', '2024-12-01', 'q', 9, 0, 1),
  ('s', 'S4', 3, 'csat', 'csat', '2024-12-01', 'q', 4, 0, 1);
INSERT INTO alert (id, customer_id, rule, severity, raised_on, raised_at, origin, message,
                   evidence, assignee_id, queue, status, updated_at) VALUES
  (1, 1, 'drop', 'high', '2025-02-10', '2025-02-10T08:00:00Z', 'batch', 'm', '{}', 1, NULL,
   'new', '2025-02-10T08:00:00Z'),
  (2, 2, 'drop', 'low', '2025-02-10', '2025-02-10T08:00:00Z', 'batch', 'm', '{}', NULL,
   'branch:B1', 'acknowledged', '2025-02-10T09:00:00Z'),
  (3, 3, 'idle', 'high', '2025-02-20', '2025-02-20T08:00:00Z', 'batch', 'm', '{}', 2, NULL,
   'closed', '2025-02-21T08:00:00Z'),
  (4, 4, 'idle', 'low', '2025-02-25', '2025-02-25T08:00:00Z', 'live', 'm', '{}', NULL,
   'central', 'new', '2025-02-25T08:00:00Z');
INSERT INTO alert_event (alert_id, at, actor, from_status, to_status) VALUES
  (2, '2025-02-10T09:00:00Z', 'rm1', 'new', 'acknowledged'),
  (3, '2025-02-23T08:00:00Z', 'rm2', 'new', 'acknowledged'),
  (3, '2025-02-24T08:00:00Z', 'rm2', 'acknowledged', 'closed');
";

async fn story(store: &Store) {
    exec(store, FIXTURE).await;

    // ----- the dashboard ------------------------------------------------------
    let all = store.dashboard(&Scope::All).await.unwrap();
    assert_eq!(all.as_of, Some(d(3, 1)));
    assert_eq!(all.previous_as_of, Some(d(2, 1)));
    assert_eq!(all.customers, 4);
    assert_eq!(
        all.bands,
        vec![
            ("at_risk".to_string(), 2),
            ("healthy".to_string(), 1),
            ("watch".to_string(), 1)
        ]
    );
    assert_eq!(all.histogram, [1, 0, 0, 1, 0, 0, 0, 1, 0, 1]);
    assert_eq!(
        all.migration,
        vec![
            ("at_risk".to_string(), "at_risk".to_string(), 1),
            ("healthy".to_string(), "watch".to_string(), 1),
            ("watch".to_string(), "healthy".to_string(), 1),
        ]
    );
    assert_eq!(
        all.alerts_per_day,
        vec![
            (d(2, 10), "high".to_string(), 1),
            (d(2, 10), "low".to_string(), 1),
            (d(2, 20), "high".to_string(), 1),
            (d(2, 25), "low".to_string(), 1),
        ]
    );
    assert_eq!(
        all.open_alerts,
        vec![("acknowledged".to_string(), 1), ("new".to_string(), 2)]
    );
    assert_eq!(all.alerts_past_sla, 2);

    let b1 = store.dashboard(&Scope::Branch(1)).await.unwrap();
    assert_eq!(b1.customers, 2);
    assert_eq!(
        b1.bands,
        vec![("healthy".to_string(), 1), ("watch".to_string(), 1)]
    );
    assert_eq!(b1.histogram, [0, 0, 0, 0, 0, 0, 0, 1, 0, 1]);
    assert_eq!(b1.migration.len(), 2);
    assert_eq!(b1.alerts_per_day.len(), 2);
    assert_eq!(
        b1.open_alerts,
        vec![("acknowledged".to_string(), 1), ("new".to_string(), 1)]
    );
    assert_eq!(b1.alerts_past_sla, 1);

    let rm2 = store.dashboard(&Scope::Rm(2)).await.unwrap();
    assert_eq!(rm2.customers, 1);
    assert_eq!(rm2.bands, vec![("at_risk".to_string(), 1)]);
    assert_eq!(rm2.histogram, [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert_eq!(rm2.alerts_per_day, vec![(d(2, 20), "high".to_string(), 1)]);
    assert!(rm2.open_alerts.is_empty());
    assert_eq!(rm2.alerts_past_sla, 0);

    let nobody = store.dashboard(&Scope::Nothing).await.unwrap();
    assert_eq!(
        (
            nobody.customers,
            nobody.bands.len(),
            nobody.histogram,
            nobody.alerts_past_sla
        ),
        (0, 0, [0; 10], 0)
    );

    // ----- what the KPIs read (the figures are rapport_analytics::kpi) -----
    let rows = store.kpi_rows().await.unwrap();
    assert_eq!(rows.customers.len(), 4);
    // Every customer has a name and nothing else of the identifying fields.
    assert!(rows.customers.iter().all(|c| c.cells_present == 1));
    assert!(rows.flagged_cells.is_empty());
    assert_eq!(rows.quarantined_customer_rows, 0);
    // One scoring per month, the unfinished one left out.
    let mut runs: Vec<NaiveDate> = rows.health.iter().map(|h| h.1).collect();
    runs.sort();
    runs.dedup();
    assert_eq!(runs, vec![d(2, 1), d(3, 1)]);
    assert_eq!(rows.health.len(), 7);
    // An alert's acknowledgement is its first step out of `new`.
    let mut acks: Vec<(i64, Option<String>)> = rows
        .alerts
        .iter()
        .map(|a| (a.customer_id, a.acknowledged_at.map(|t| t.to_rfc3339())))
        .collect();
    acks.sort();
    assert_eq!(
        acks,
        vec![
            (1, None),
            (2, Some("2025-02-10T09:00:00+00:00".to_string())),
            (3, Some("2025-02-23T08:00:00+00:00".to_string())),
            (4, None)
        ]
    );

    // ----- the alert queue ------------------------------------------------------
    let ids = |r: (Vec<rapport_store::AlertRow>, i64)| {
        (r.0.iter().map(|a| a.id).collect::<Vec<_>>(), r.1)
    };
    let f = ScopedAlertFilter::default;
    let q = |scope: Scope, f: ScopedAlertFilter| async move {
        ids(store.alerts_in_scope(&scope, &f).await.unwrap())
    };
    assert_eq!(q(Scope::All, f()).await, (vec![4, 3, 2, 1], 4));
    assert_eq!(q(Scope::Branch(1), f()).await, (vec![2, 1], 2));
    assert_eq!(q(Scope::Rm(2), f()).await, (vec![3], 1));
    assert_eq!(q(Scope::Nothing, f()).await, (vec![], 0));
    let new = ScopedAlertFilter {
        status: Some("new".into()),
        ..f()
    };
    assert_eq!(q(Scope::All, new.clone()).await, (vec![4, 1], 2));
    assert_eq!(q(Scope::Branch(1), new).await, (vec![1], 1));
    let high = ScopedAlertFilter {
        severity: Some("high".into()),
        assignee_id: Some(2),
        ..f()
    };
    assert_eq!(q(Scope::All, high).await, (vec![3], 1));
    let of = ScopedAlertFilter {
        customer_id: Some(2),
        status: Some("acknowledged".into()),
        severity: Some("low".into()),
        ..f()
    };
    assert_eq!(q(Scope::Branch(1), of.clone()).await, (vec![2], 1));
    assert_eq!(q(Scope::Rm(1), of).await, (vec![], 0));
    let page = ScopedAlertFilter {
        limit: 2,
        offset: 1,
        ..f()
    };
    assert_eq!(q(Scope::All, page).await, (vec![3, 2], 4));
    let row = store
        .alerts_in_scope(&Scope::Rm(1), &f())
        .await
        .unwrap()
        .0
        .remove(0);
    assert_eq!(
        (
            row.customer_id,
            row.rule.as_str(),
            row.raised_on,
            row.assignee_id,
            row.queue,
            row.status.as_str()
        ),
        (1, "drop", d(2, 10), Some(1), None, "new")
    );

    assert_eq!(
        store.alert_in_scope(&Scope::Branch(2), 3).await.unwrap().id,
        3
    );
    for (scope, id) in [(Scope::Branch(2), 1), (Scope::Nothing, 3), (Scope::All, 99)] {
        assert!(
            matches!(
                store.alert_in_scope(&scope, id).await,
                Err(StoreError::NotFound(_))
            ),
            "{scope:?} {id}"
        );
    }
}

#[tokio::test]
async fn dashboard_on_sqlite() {
    let db = TestDb::sqlite().await;
    story(&db.store).await;
    db.drop().await;
}

#[tokio::test]
async fn dashboard_on_postgres() {
    let Some(db) = TestDb::postgres("dashboard").await else {
        return;
    };
    story(&db.store).await;
    db.drop().await;
}
