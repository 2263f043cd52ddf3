//! Saved views (`rapport_services::saved_views`) on SQLite and (with
//! `RAPPORT_TEST_PG`) PostgreSQL: the query kept is the list's own
//! parameters, sorted; the rights are the rights table's (open the list to
//! save or see; share only with `ShareViews`); names are checked; at most
//! 50 views per user and list; shared views reach every user who may open
//! the list; deletes by the owner, or an administrator for a shared view;
//! every write audited.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rapport_services::access::{staff_by_username, Actor};
use rapport_services::error::ServiceError;
use rapport_services::saved_views::{self as sv, problem_of, List, Problem};
use rapport_services::staff;
use rapport_store::{AuditFilter, Store};
use rapport_testkit::{Backend, TestDb};

async fn actor(store: &Store, name: &str) -> Actor {
    Actor::Staff(staff_by_username(store, name, "test").await.unwrap())
}

async fn setup(store: &Store) {
    let system = Actor::system("test");
    // An RM belongs to a branch.
    let sql = "INSERT INTO branch (code, name) VALUES ('B01', 'Branch one')";
    match store {
        Store::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        Store::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
    }
    .unwrap();
    for (name, role, branch) in [
        ("admin01", "admin", None),
        ("mgr01", "manager", None),
        ("rm01", "rm", Some("B01")),
        ("rm02", "rm", Some("B01")),
        ("audit01", "auditor", None),
    ] {
        staff::create_user(store, &system, "test", name, None, role, branch, None)
            .await
            .unwrap();
    }
}

fn problem(r: Result<impl std::fmt::Debug, ServiceError>) -> Problem {
    let e = r.expect_err("refused");
    problem_of(&e).unwrap_or_else(|| panic!("not a saved-view problem: {e:?}"))
}

async fn audits(store: &Store, action: &str) -> usize {
    store
        .audit_log(&AuditFilter {
            action: Some(action.into()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .0
        .len()
}

async fn on(store: &Store) {
    setup(store).await;
    let admin = actor(store, "admin01").await;
    let mgr = actor(store, "mgr01").await;
    let rm = actor(store, "rm01").await;
    let rm2 = actor(store, "rm02").await;
    let auditor = actor(store, "audit01").await;

    // The query is normalised; the row is the owner's.
    let v = sv::save(
        store,
        &rm,
        "cases",
        "  已超时的高严重度  ",
        "sla=breached&severity=high&assignee=rm01&page=2&format=csv&csrf=t&x=1",
        false,
    )
    .await
    .unwrap();
    assert_eq!(v.name, "已超时的高严重度");
    assert_eq!(v.query, "assignee=rm01&severity=high&sla=breached");
    assert_eq!(v.owner_username, "rm01");
    assert!(!v.shared);
    assert_eq!(audits(store, "saved_view.save").await, 1);

    // Rights: the list's own permission; sharing is ShareViews.
    for (who, list) in [(&auditor, "cases"), (&rm, "audit"), (&admin, "alerts")] {
        let e = sv::save(store, who, list, "x", "", false)
            .await
            .unwrap_err();
        assert!(matches!(e, ServiceError::Access(_)), "{list}: {e:?}");
    }
    let e = sv::save(store, &rm, "customers", "x", "", true)
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::Access(_)), "an RM shares: {e:?}");
    // Campaigns are bank-wide: a head-office manager (mgr01 has no branch).
    assert!(sv::may_share(&mgr, List::Campaigns));
    assert!(!sv::may_share(&rm, List::Customers));
    assert!(sv::may_share(&admin, List::Customers));
    assert!(
        !sv::may_share(&admin, List::Alerts),
        "the admin cannot open alerts"
    );
    assert!(matches!(
        sv::save(store, &Actor::system("job"), "customers", "x", "", false).await,
        Err(ServiceError::Access(_))
    ));

    // Names and lists.
    assert_eq!(
        problem(sv::save(store, &rm, "accounts", "x", "", false).await),
        Problem::UnknownList
    );
    assert_eq!(
        problem(sv::save(store, &rm, "cases", " ", "", false).await),
        Problem::NameEmpty
    );
    let sixty = "名".repeat(60);
    sv::save(store, &rm, "cases", &sixty, "", false)
        .await
        .unwrap();
    assert_eq!(
        problem(sv::save(store, &rm, "cases", &format!("{sixty}名"), "", false).await),
        Problem::NameTooLong
    );
    assert_eq!(
        problem(sv::save(store, &rm, "cases", "已超时的高严重度", "", false).await),
        Problem::NameTaken
    );
    // Another user may use the same name.
    sv::save(
        store,
        &rm2,
        "cases",
        "已超时的高严重度",
        "sla=breached",
        false,
    )
    .await
    .unwrap();

    // At most 50 per user and list (two kept above).
    for i in 0..48 {
        sv::save(store, &rm, "cases", &format!("v{i}"), "", false)
            .await
            .unwrap();
    }
    assert_eq!(
        problem(sv::save(store, &rm, "cases", "one more", "", false).await),
        Problem::TooMany
    );
    // Another list is counted apart.
    sv::save(store, &rm, "alerts", "one more", "mine=1", false)
        .await
        .unwrap();

    // Shared views reach whoever may open the list, after their own.
    let shared = sv::save(store, &mgr, "cases", "全行已超时", "sla=breached", true)
        .await
        .unwrap();
    assert!(shared.shared);
    let seen = sv::views(store, &rm2, List::Cases).await.unwrap();
    let names: Vec<&str> = seen.iter().map(|v| v.row.name.as_str()).collect();
    assert_eq!(names, vec!["已超时的高严重度", "全行已超时"]);
    assert!(seen[0].mine && seen[0].can_delete);
    assert!(!seen[1].mine && !seen[1].can_delete);
    assert_eq!(seen[1].href, "/cases?sla=breached");
    assert!(sv::views(store, &auditor, List::Cases).await.is_err());
    assert_eq!(sv::views(store, &rm, List::Cases).await.unwrap().len(), 51);

    // Deleting.
    let e = sv::delete(store, &rm2, v.id).await.unwrap_err();
    assert!(
        matches!(e, ServiceError::NotFound(_)),
        "a private view: {e:?}"
    );
    let e = sv::delete(store, &rm, shared.id).await.unwrap_err();
    assert!(matches!(e, ServiceError::Access(_)), "a shared view: {e:?}");
    let e = sv::delete(store, &admin, v.id).await.unwrap_err();
    assert!(
        matches!(e, ServiceError::NotFound(_)),
        "private, admin: {e:?}"
    );
    sv::delete(store, &admin, shared.id).await.unwrap();
    sv::delete(store, &rm, v.id).await.unwrap();
    assert!(matches!(
        sv::delete(store, &rm, v.id).await,
        Err(ServiceError::NotFound(_))
    ));
    assert_eq!(audits(store, "saved_view.delete").await, 2);
    assert_eq!(sv::views(store, &rm2, List::Cases).await.unwrap().len(), 1);
    // The name is free again.
    sv::save(
        store,
        &rm,
        "cases",
        "已超时的高严重度",
        "sla=breached",
        false,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn saved_views_keep_the_lists_query_with_the_rights_table() {
    for backend in Backend::available() {
        let Some(db) = TestDb::on(backend, "saved_views").await else {
            continue;
        };
        on(&db.store).await;
        db.drop().await;
    }
}
