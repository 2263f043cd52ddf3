//! Reads and writes whose SQL is built from their inputs — the customer
//! search and key lookups under each scope, the customer 360, alert listing
//! with filters and paging, alert transitions, evidence transactions and
//! routing — plus the small validation reads; on SQLite always and on
//! PostgreSQL when `RAPPORT_TEST_PG` names a server URL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rapport_testkit::TestDb;

use chrono::NaiveDate;
use rapport_store::{
    AlertFilter, AlertRoute, AlertStatus, CustomerFilter, NewAlert, Scope, Store, StoreError,
};

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

fn alert(customer_id: i64, rule: &str, severity: &str, day: u32) -> NewAlert {
    NewAlert {
        customer_id,
        rule: rule.into(),
        severity: severity.into(),
        raised_on: d(3, day),
        origin: "batch".into(),
        message: format!("{rule} for {customer_id}"),
        evidence: "{}".into(),
        assignee_id: None,
        queue: Some("central".into()),
    }
}

const FIXTURE: &str = "
INSERT INTO import_file (id, kind, source, path, sha256, status) VALUES
  (1, 'customers', 'core', 'c.csv', 'x', 'complete');
INSERT INTO branch (id, code, name) VALUES (1, 'B1', 'North'), (2, 'B2', 'South');
INSERT INTO staff_user (id, username, display_name, role, branch_id) VALUES
  (1, 'rm1', 'Rita Manager', 'rm', 1), (2, 'rm2', 'Sam Manager', 'rm', 2);
INSERT INTO customer (id, name, phone, email, id_number, branch_id) VALUES
  (1, 'Alice Smith', '13900000001', 'alice@example.com', 'ID1', 1),
  (2, 'Bob 100%_Jones', '13900000002', NULL, 'ID2', 1),
  (3, 'Carol White', NULL, 'carol@example.com', NULL, 2),
  (4, NULL, NULL, NULL, NULL, NULL);
INSERT INTO customer_source_key (source, source_key, customer_id, fingerprint, import_id) VALUES
  ('core', 'K1', 1, 0, 1), ('core', 'K1b', 1, 0, 1), ('core', 'K2', 2, 0, 1),
  ('core', 'K3', 3, 0, 1);
INSERT INTO rm_assignment (customer_id, staff_user_id, assigned_at) VALUES
  (1, 1, '2025-01-01T00:00:00Z'), (3, 2, '2025-01-01T00:00:00Z');
INSERT INTO score_run (id, as_of, started_at, finished_at, scorecard) VALUES
  (1, '2025-03-01', '2025-03-01T00:00:00Z', '2025-03-01T00:01:00Z', 'v1');
INSERT INTO health_score (as_of, customer_id, run_id, score, band, factors) VALUES
  ('2025-03-01', 1, 1, 80.5, 'healthy', '[]'), ('2025-03-01', 2, 1, 40, 'at_risk', '[]'),
  ('2025-03-01', 3, 1, 60, 'watch', '[]');
INSERT INTO account (id, source, source_key, customer_id, account_type, currency,
                     fingerprint, import_id) VALUES
  (1, 'core', 'A1', 1, 'current', 'CNY', 0, 1), (2, 'core', 'A2', 2, 'current', 'CNY', 0, 1),
  (3, 'core', 'A3', 3, 'savings', 'CNY', 0, 1);
INSERT INTO account_role (source, source_key, account_id, customer_id, role, fingerprint,
                          import_id) VALUES
  ('core', 'R1', 2, 1, 'owner', 0, 1), ('core', 'R2', 1, 3, 'user', 0, 1);
INSERT INTO txn (source, source_key, account_id, customer_id, booked_on, amount, channel,
                 category, fingerprint, import_id) VALUES
  ('core', 'T1', 1, 1, '2025-02-10', -500, 'card', 'shopping', 0, 1),
  ('core', 'T2', 1, 1, '2025-02-20', 9000, 'transfer', 'salary', 0, 1),
  ('core', 'T3', 2, 2, '2025-02-15', -7000, 'atm', 'cash', 0, 1),
  ('core', 'T4', 2, 2, '2025-03-15', -100, 'atm', 'cash', 0, 1),
  ('core', 'T5', 3, 3, '2025-02-11', -300, 'card', 'food', 0, 1);
INSERT INTO loan (source, source_key, account_id, customer_id, granted_on, amount,
                  duration_months, monthly_payment, status, outcome, days_past_due,
                  fingerprint, import_id) VALUES
  ('core', 'L1', 2, 2, '2024-06-01', 100000, 12, 9000, 'D', 'bad', 45, 0, 1);
";

async fn story(store: &Store) {
    exec(store, FIXTURE).await;

    // ----- the customer search ---------------------------------------------
    let all = |f: CustomerFilter| async move { store.search_customers(&Scope::All, &f).await };
    let page = all(CustomerFilter::default()).await.unwrap();
    assert_eq!((page.total, page.page, page.per_page), (4, 1, 50));
    let ids: Vec<i64> = page.items.iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![1, 2, 3, 4]);
    let first = &page.items[0];
    assert_eq!(first.key, "K1");
    assert_eq!(first.name.as_deref(), Some("Alice Smith"));
    assert_eq!(first.phone.as_deref(), Some("13900000001"));
    assert_eq!(first.id_number.as_deref(), Some("ID1"));
    assert_eq!(first.branch_code.as_deref(), Some("B1"));
    assert_eq!(first.rm_id, Some(1));
    assert_eq!(first.rm_name.as_deref(), Some("Rita Manager"));
    assert_eq!(first.score, Some(80.5));
    assert_eq!(first.band.as_deref(), Some("healthy"));
    assert!(!first.erased);
    let last = &page.items[3];
    assert_eq!(
        (last.key.as_str(), last.branch_code.as_deref(), last.score),
        ("#4", None, None)
    );
    let q = |q: &str| CustomerFilter {
        q: Some(q.into()),
        matching: rapport_store::SearchMatch {
            name_part: true,
            phone_part: true,
            email_part: true,
            id_number_part: true,
        },
        ..CustomerFilter::default()
    };
    // By default a search matches only whole values (the masking policy
    // opens parts of the fields a role sees).
    let whole = |q: &str| CustomerFilter {
        q: Some(q.into()),
        ..CustomerFilter::default()
    };
    let found = |p: rapport_store::Page<rapport_store::CustomerListRow>| {
        p.items.iter().map(|r| r.id).collect::<Vec<_>>()
    };
    assert_eq!(found(all(q("K2")).await.unwrap()), vec![2]);
    assert_eq!(found(all(q("#3")).await.unwrap()), vec![3]);
    assert_eq!(found(all(q("ID1")).await.unwrap()), vec![1]);
    assert_eq!(found(all(q("smith")).await.unwrap()), vec![1]);
    assert_eq!(found(all(q("  WHITE ")).await.unwrap()), vec![3]);
    assert_eq!(found(all(q("1390000000")).await.unwrap()), vec![1, 2]);
    assert_eq!(found(all(q("example.com")).await.unwrap()), vec![1, 3]);
    // LIKE wildcards in the query are plain characters.
    assert_eq!(found(all(q("100%_")).await.unwrap()), vec![2]);
    assert_eq!(found(all(q("%")).await.unwrap()), vec![2]);
    assert_eq!(found(all(q("_")).await.unwrap()), vec![2]);
    assert_eq!(found(all(whole("smith")).await.unwrap()), Vec::<i64>::new());
    assert_eq!(
        found(all(whole("1390000000")).await.unwrap()),
        Vec::<i64>::new()
    );
    assert_eq!(
        found(all(whole("example.com")).await.unwrap()),
        Vec::<i64>::new()
    );
    assert_eq!(found(all(whole("ID1")).await.unwrap()), vec![1]);
    assert_eq!(found(all(whole("K2")).await.unwrap()), vec![2]);
    let band = CustomerFilter {
        band: Some("watch".into()),
        ..CustomerFilter::default()
    };
    assert_eq!(found(all(band).await.unwrap()), vec![3]);
    let rm = CustomerFilter {
        rm_id: Some(1),
        ..CustomerFilter::default()
    };
    assert_eq!(found(all(rm).await.unwrap()), vec![1]);
    let branch = CustomerFilter {
        branch_id: Some(1),
        q: Some("manager".into()),
        ..CustomerFilter::default()
    };
    assert_eq!(found(all(branch).await.unwrap()), Vec::<i64>::new());
    let paged = CustomerFilter {
        page: 2,
        per_page: 3,
        ..CustomerFilter::default()
    };
    let p = all(paged).await.unwrap();
    assert_eq!(
        (found(p.clone()), p.total, p.page, p.per_page),
        (vec![4], 4, 2, 3)
    );

    // Scopes: a branch, an RM, nobody; combined with the other filters.
    let in_scope = |scope: Scope, f: CustomerFilter| async move {
        store.search_customers(&scope, &f).await.unwrap()
    };
    let p = in_scope(Scope::Branch(1), CustomerFilter::default()).await;
    assert_eq!((found(p.clone()), p.total), (vec![1, 2], 2));
    let p = in_scope(Scope::Rm(2), CustomerFilter::default()).await;
    assert_eq!((found(p.clone()), p.total), (vec![3], 1));
    let p = in_scope(Scope::Nothing, CustomerFilter::default()).await;
    assert_eq!((found(p.clone()), p.total), (vec![], 0));
    let p = in_scope(Scope::Branch(1), q("example")).await;
    assert_eq!(found(p), vec![1]);
    let p = in_scope(
        Scope::Rm(1),
        CustomerFilter {
            band: Some("healthy".into()),
            branch_id: Some(1),
            ..q("alice")
        },
    )
    .await;
    assert_eq!(found(p), vec![1]);

    // ----- key lookups and scope checks ---------------------------------------
    assert_eq!(
        store.customer_id_by_key(&Scope::All, "K1b").await.unwrap(),
        1
    );
    assert_eq!(
        store.customer_id_by_key(&Scope::All, "#4").await.unwrap(),
        4
    );
    assert_eq!(
        store
            .customer_id_by_key(&Scope::Branch(1), "K2")
            .await
            .unwrap(),
        2
    );
    for (scope, key) in [
        (Scope::Branch(2), "K2"),
        (Scope::Rm(1), "#3"),
        (Scope::Nothing, "K1"),
        (Scope::All, "nope"),
        (Scope::All, "#99"),
    ] {
        assert!(
            matches!(
                store.customer_id_by_key(&scope, key).await,
                Err(StoreError::NotFound(_))
            ),
            "{scope:?} {key}"
        );
    }
    assert!(store.customer_in_scope(&Scope::Rm(2), 3).await.unwrap());
    assert!(!store.customer_in_scope(&Scope::Rm(2), 1).await.unwrap());
    assert!(store.customer_in_scope(&Scope::Branch(1), 2).await.unwrap());
    assert!(!store.customer_in_scope(&Scope::All, 99).await.unwrap());

    // ----- the customer 360 -----------------------------------------------------
    let c = store.customer_360(&Scope::Branch(1), 1).await.unwrap();
    assert_eq!(c.profile.key, "K1");
    assert_eq!(c.profile.name.as_deref(), Some("Alice Smith"));
    assert_eq!(c.profile.branch_code.as_deref(), Some("B1"));
    assert_eq!(c.profile.rm_name.as_deref(), Some("Rita Manager"));
    assert_eq!(c.accounts.len(), 1);
    assert_eq!(c.recent_transactions.len(), 2);
    assert_eq!(c.health_history.len(), 1);
    let c = store.customer_360(&Scope::All, 2).await.unwrap();
    assert_eq!((c.loans.len(), c.recent_transactions.len()), (1, 2));
    assert!(matches!(
        store.customer_360(&Scope::Rm(2), 1).await,
        Err(StoreError::NotFound(_))
    ));

    // ----- alerts ----------------------------------------------------------------
    assert_eq!(
        store
            .insert_alerts(&[
                alert(1, "drop", "high", 1),
                alert(2, "drop", "low", 2),
                alert(1, "idle", "low", 3),
            ])
            .await
            .unwrap(),
        3
    );
    let mut routed = alert(3, "idle", "high", 4);
    routed.queue = None;
    routed.assignee_id = Some(2);
    let id4 = store.insert_alert(&routed).await.unwrap();
    assert_eq!(id4, 4);
    let a = store.alert(id4).await.unwrap();
    assert_eq!(
        (
            a.customer_id,
            a.rule.as_str(),
            a.status.as_str(),
            a.assignee_id,
            a.queue
        ),
        (3, "idle", "new", Some(2), None)
    );
    assert_eq!(a.raised_at, a.updated_at);
    assert!(matches!(
        store.alert(99).await,
        Err(StoreError::NotFound(_))
    ));

    let list = |f: AlertFilter| async move {
        store
            .list_alerts(&f)
            .await
            .unwrap()
            .iter()
            .map(|a| a.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(list(AlertFilter::default()).await, vec![4, 3, 2, 1]);
    let f = AlertFilter {
        rule: Some("drop".into()),
        ..AlertFilter::default()
    };
    assert_eq!(list(f).await, vec![2, 1]);
    let f = AlertFilter {
        customer_id: Some(1),
        severity: Some("low".into()),
        queue: Some("central".into()),
        ..AlertFilter::default()
    };
    assert_eq!(list(f).await, vec![3]);
    let f = AlertFilter {
        assignee_id: Some(2),
        ..AlertFilter::default()
    };
    assert_eq!(list(f).await, vec![4]);
    let f = AlertFilter {
        limit: 2,
        offset: 1,
        ..AlertFilter::default()
    };
    assert_eq!(list(f).await, vec![3, 2]);
    let f = AlertFilter {
        offset: -5,
        limit: 1,
        ..AlertFilter::default()
    };
    assert_eq!(list(f).await, vec![4]);

    store
        .transition_alert(1, AlertStatus::Acknowledged, "rm1", Some("seen"), None)
        .await
        .unwrap();
    let f = AlertFilter {
        status: Some(AlertStatus::Acknowledged),
        ..AlertFilter::default()
    };
    assert_eq!(list(f).await, vec![1]);
    let f = AlertFilter {
        status: Some(AlertStatus::New),
        rule: Some("drop".into()),
        ..AlertFilter::default()
    };
    assert_eq!(list(f).await, vec![2]);
    let closed = store
        .transition_alert(1, AlertStatus::Closed, "rm2", None, Some("resolved"))
        .await
        .unwrap();
    assert_eq!(
        (closed.status.as_str(), closed.disposition.as_deref()),
        ("closed", Some("resolved"))
    );
    // A closed alert moves no further, and nothing is recorded.
    assert!(store
        .transition_alert(1, AlertStatus::Acknowledged, "rm1", None, None)
        .await
        .is_err());
    let events = store.alert_events(1).await.unwrap();
    assert_eq!(events.len(), 2);
    let e = &events[0];
    assert_eq!(
        (
            e.alert_id,
            e.actor.as_str(),
            e.from_status.as_deref(),
            e.to_status.as_str(),
            e.note.as_deref()
        ),
        (1, "rm1", Some("new"), "acknowledged", Some("seen"))
    );
    assert_eq!(
        (
            events[1].actor.as_str(),
            events[1].to_status.as_str(),
            events[1].note.as_deref()
        ),
        ("rm2", "closed", None)
    );
    assert!(events[0].at <= events[1].at);
    assert!(store.alert_events(2).await.unwrap().is_empty());

    let days = store.last_alert_days(d(3, 3)).await.unwrap();
    assert_eq!(
        days,
        vec![
            (1, "drop".to_string(), d(3, 1)),
            (1, "idle".to_string(), d(3, 3)),
            (2, "drop".to_string(), d(3, 2)),
        ]
    );

    // Evidence: own accounts and accounts owned through a role, in the window.
    let ev = store
        .triggering_transactions_of(&[1, 2, 3, 2], d(2, 1), d(3, 1), 2)
        .await
        .unwrap();
    let keys = |c: i64| -> Vec<String> {
        ev.get(&c)
            .map(|v| v.iter().map(|t| t.source_key.clone()).collect())
            .unwrap_or_default()
    };
    assert_eq!(keys(1), vec!["T2", "T3"]);
    assert_eq!(keys(2), vec!["T3"]);
    assert_eq!(keys(3), vec!["T5"]);
    let one = store
        .triggering_transactions(1, d(2, 1), d(2, 15), 5)
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!((one[0].amount, one[0].booked_on), (-500, d(2, 10)));

    let routes = store.alert_routes(&[1, 2, 3, 4, 99]).await.unwrap();
    let route = |c: i64| routes.get(&c).cloned().unwrap();
    assert_eq!(route(1).assignee_id, Some(1));
    assert_eq!(route(2).queue.as_deref(), Some("branch:B1"));
    assert_eq!(route(3).assignee_id, Some(2));
    assert_eq!(route(4), AlertRoute::central());
    assert_eq!(route(99), AlertRoute::central());

    assert_eq!(
        store.account_id_by_key("core", "A2").await.unwrap(),
        Some(2)
    );
    assert_eq!(store.account_id_by_key("core", "A9").await.unwrap(), None);
    assert_eq!(store.account_id_by_key("other", "A2").await.unwrap(), None);

    // ----- validation reads -------------------------------------------------------
    assert_eq!(
        store.latest_transaction_date().await.unwrap(),
        Some(d(3, 15))
    );
    assert_eq!(
        store.loan_outcomes().await.unwrap(),
        vec![(
            2,
            NaiveDate::from_ymd_opt(2024, 6, 1).unwrap(),
            "bad".to_string()
        )]
    );
    let facts = store.alert_facts().await.unwrap();
    assert_eq!(facts.len(), 4);
    assert_eq!(facts[0], (1, "drop".to_string(), d(3, 1)));
    let mut keys = store.customer_ids_of_source("core").await.unwrap();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            ("K1".to_string(), 1),
            ("K1b".to_string(), 1),
            ("K2".to_string(), 2),
            ("K3".to_string(), 3)
        ]
    );
    assert!(store
        .customer_ids_of_source("none")
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn queries_on_sqlite() {
    let db = TestDb::sqlite().await;
    story(&db.store).await;
    db.drop().await;
}

#[tokio::test]
async fn queries_on_postgres() {
    let Some(db) = TestDb::postgres("queries").await else {
        return;
    };
    story(&db.store).await;
    db.drop().await;
}
