//! The RM's day on a generated, scored bank (SQLite and, with
//! `RAPPORT_TEST_PG`, PostgreSQL) with a fixed clock: the list holds the
//! RM's open alerts and tasks and nothing of another RM's book, ranked
//! overdue first, then priority, then due date; a manager sees the branch;
//! an agent is refused; logging "contacted – retained" on an alert closes
//! it with that disposition and the follow-up task appears in the list,
//! due 14 days later; the demo's RM is left with alerts and tasks due.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, FixedOffset, NaiveDateTime};
use rapport_services::access::{staff_by_username, Actor};
use rapport_services::clock::Clock;
use rapport_services::config::Config;
use rapport_services::tasks::{self, ContactForm, DayKind};
use rapport_store::{Scope, Store};
use rapport_testkit::{Backend, TestDb};

async fn pairs(store: &Store, sql: &str) -> Vec<(i64, i64)> {
    match store {
        Store::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
        Store::Postgres(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
    }
}

async fn run(backend: Backend) {
    let Some(db) = TestDb::on(backend, "tasks").await else {
        return;
    };
    let store = db.store.clone();
    rapport_testkit::generated_bank(&db, 400, 11).await;
    let as_of = rapport_services::scoring::resolve_as_of(&store, None)
        .await
        .unwrap();
    rapport_services::scoring::run_scoring(&store, as_of, &Default::default())
        .await
        .unwrap();
    let mut svc = rapport_services::Services::build(store.clone(), Config::default()).unwrap();
    let off = FixedOffset::east_opt(8 * 3600).unwrap();
    let now = NaiveDateTime::parse_from_str("2026-12-07 09:30", "%Y-%m-%d %H:%M").unwrap();
    svc.clock = Clock::fixed(off, now);

    // An open alert of an RM's customer: that RM's day.
    let alerts = pairs(
        &store,
        "SELECT a.id, r.staff_user_id FROM alert a JOIN rm_assignment r ON r.customer_id = a.customer_id \
         WHERE a.status = 'new' AND (a.assignee_id IS NULL OR a.assignee_id = r.staff_user_id) ORDER BY a.id",
    )
    .await;
    let (alert_id, rm_id) = alerts[0];
    let rm_user = store.staff_user(rm_id).await.unwrap();
    let rm = Actor::Staff(
        staff_by_username(&store, &rm_user.username, "test")
            .await
            .unwrap(),
    );
    let alert = store.alert(alert_id).await.unwrap();
    let customer = alert.customer_id;
    let key = store
        .contact_points_of(customer)
        .await
        .unwrap()
        .unwrap()
        .key;

    // An overdue cadence task and a follow-up due in three days.
    let cadence = store
        .create_cadence_task(
            &rapport_store::NewCadenceTask {
                customer_id: customer,
                assignee: &rm_user.username,
                due_at: now - Duration::days(2),
                script: "test",
            },
            svc.clock.now(),
        )
        .await
        .unwrap();
    let follow = store
        .create_contact_task(
            "call",
            customer,
            None,
            None,
            &rm_user.username,
            now + Duration::days(3),
            "test",
            None,
            svc.clock.now(),
        )
        .await
        .unwrap();

    let day = tasks::day(&svc, &rm).await.unwrap();
    assert!(!day.is_empty());
    // Ranked: the ranking key never goes down the list.
    assert!(day
        .windows(2)
        .all(|w| tasks::rank_key(&w[0]) <= tasks::rank_key(&w[1])));
    let first_not_overdue = day.iter().position(|r| !r.overdue).unwrap_or(day.len());
    assert!(day[first_not_overdue..].iter().all(|r| !r.overdue));
    let row = |kind: DayKind, id: i64| day.iter().find(|r| r.kind == kind && r.id == id);
    let c = row(DayKind::Cadence, cadence.unwrap()).expect("the cadence task is listed");
    assert!(c.overdue);
    let f = row(DayKind::FollowUp, follow).expect("the follow-up is listed");
    assert!(!f.overdue);
    assert_eq!(f.due, (now + Duration::days(3)).date());
    assert_eq!(f.customer_key, key);
    assert!(row(DayKind::Alert, alert_id).is_some());
    // Nothing outside the RM's book.
    for r in &day {
        assert!(
            store
                .customer_in_scope(&Scope::Rm(rm_id), r.customer_id)
                .await
                .unwrap(),
            "{r:?} is not the RM's"
        );
    }
    // The RM's overdue alert comes before the follow-up due later.
    let pos = |k: DayKind, id: i64| day.iter().position(|r| r.kind == k && r.id == id).unwrap();
    assert!(pos(DayKind::Alert, alert_id) < pos(DayKind::FollowUp, follow));

    // A manager of the branch sees the alert; an agent may not have a day list.
    let users = store.staff_users().await.unwrap();
    if let Some(m) = users
        .iter()
        .find(|u| u.role == "manager" && u.branch_id.is_some() && u.branch_id == rm_user.branch_id)
    {
        let mgr = Actor::Staff(
            staff_by_username(&store, &m.username, "test")
                .await
                .unwrap(),
        );
        let md = tasks::day(&svc, &mgr).await.unwrap();
        assert!(md
            .iter()
            .any(|r| r.kind == DayKind::Alert && r.id == alert_id));
    }
    let agent = users.iter().find(|u| u.role == "agent").unwrap();
    let agent = Actor::Staff(
        staff_by_username(&store, &agent.username, "test")
            .await
            .unwrap(),
    );
    assert!(tasks::day(&svc, &agent).await.is_err());

    // "Contacted – retained" on the alert: closed with that disposition,
    // and the follow-up task is in the list, due 14 days later.
    let done = tasks::record_contact(
        &svc,
        &rm,
        "test",
        &ContactForm {
            customer_key: key.clone(),
            kind: "call".into(),
            outcome: "contacted_retained".into(),
            note: Some("spoke with the customer".into()),
            alert_id: Some(alert_id),
            task_id: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(done.closed_alert, Some(alert_id));
    let closed = store.alert(alert_id).await.unwrap();
    assert_eq!(closed.status, "closed");
    assert_eq!(closed.disposition.as_deref(), Some("contacted_retained"));
    let due = now + Duration::days(14);
    let open = store
        .contact_tasks(Some(&rm_user.username), true)
        .await
        .unwrap();
    let new_task = open
        .iter()
        .find(|t| t.customer_id == customer && t.due_at == due)
        .expect("the follow-up task of contacted – retained");
    let day = tasks::day(&svc, &rm).await.unwrap();
    assert!(day
        .iter()
        .all(|r| !(r.kind == DayKind::Alert && r.id == alert_id)));
    let r = day
        .iter()
        .find(|r| r.kind == DayKind::FollowUp && r.id == new_task.id)
        .expect("the follow-up is in the day list");
    assert_eq!(r.due, due.date());
    // The contact log keeps the call with its outcome.
    let log = store.contact_log(customer).await.unwrap();
    assert!(log
        .iter()
        .any(|l| l.outcome == "contacted_retained" && l.kind == "call"));
    // An alert is answered by a call: a visit is refused, naming the field.
    let e = tasks::record_contact(
        &svc,
        &rm,
        "test",
        &ContactForm {
            customer_key: key.clone(),
            kind: "visit".into(),
            outcome: "reached".into(),
            alert_id: Some(alert_id),
            ..Default::default()
        },
    )
    .await;
    assert!(
        matches!(&e, Err(rapport_services::error::ServiceError::Invalid { field, .. }) if field == "kind"),
        "{e:?}"
    );
    // Logging the follow-up closes it.
    tasks::record_contact(
        &svc,
        &rm,
        "test",
        &ContactForm {
            customer_key: key.clone(),
            kind: "visit".into(),
            outcome: "completed".into(),
            task_id: Some(follow),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let open = store
        .contact_tasks(Some(&rm_user.username), true)
        .await
        .unwrap();
    assert!(open.iter().all(|t| t.id != follow));

    // The demo leaves its RM with open alerts and tasks due.
    let seeded = tasks::demo_seed(&store, &Config::default()).await.unwrap();
    assert!(seeded["open_alerts"].as_u64().unwrap_or(0) > 0, "{seeded}");
    assert!(seeded["open_tasks"].as_u64().unwrap_or(0) > 0, "{seeded}");
    let demo_rm = seeded["rm"].as_str().unwrap().to_string();
    let demo = Actor::Staff(staff_by_username(&store, &demo_rm, "test").await.unwrap());
    let list = tasks::day(&svc, &demo).await.unwrap();
    assert!(list.iter().any(|r| r.kind == DayKind::Alert));
    assert!(list
        .iter()
        .any(|r| matches!(r.kind, DayKind::Cadence | DayKind::FollowUp)));

    svc.audit.flush().await;
    db.drop().await;
}

#[tokio::test]
async fn the_rm_day_is_ranked_scoped_and_closes_what_it_answers() {
    for b in Backend::available() {
        run(b).await;
    }
}
