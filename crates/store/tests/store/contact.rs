//! Consents as the contact policy reads them, do-not-disturb, the send
//! decision log and reachability, on SQLite always and on PostgreSQL when
//! `RAPPORT_TEST_PG` names a server URL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{NaiveDate, TimeZone, Utc};
use rapport_store::{ContactDecisionRow, Store};
use rapport_testkit::TestDb;

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

async fn story(store: &Store) {
    exec(
        store,
        "INSERT INTO import_file (id, kind, source, path, sha256, status) VALUES
           (1, 'consents', 's', 'c.csv', 'x', 'complete');
         INSERT INTO customer (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd');
         INSERT INTO consent (source, source_key, customer_id, channel, purpose, granted,
                              recorded_on, revoked_on, fingerprint, import_id) VALUES
           ('s', 'k1', 1, 'phone', 'service', TRUE, '2025-01-01', NULL, 0, 1),
           ('s', 'k2', 1, 'wechat', 'marketing', TRUE, '2025-01-01', '2025-03-01', 0, 1),
           ('s', 'k3', 2, 'mobile', 'marketing', TRUE, '2025-01-01', NULL, 0, 1),
           ('s', 'k4', 2, 'mobile', 'marketing', FALSE, '2025-02-01', NULL, 0, 1),
           ('s', 'k5', 3, 'online', 'marketing', TRUE, '2025-04-01', NULL, 0, 1);",
    )
    .await;
    let c = store.customer_consents(1).await.unwrap();
    assert_eq!(c.len(), 2);
    assert_eq!(c[1].revoked_on, Some(d(3, 1)));

    // Reachability by day: revocations, refusals (latest record wins) and later grants count.
    let r = store.reachability(d(1, 15)).await.unwrap();
    assert_eq!((r.customers, r.reachable, r.reachable_marketing), (4, 2, 2));
    let r = store.reachability(d(2, 15)).await.unwrap();
    assert_eq!((r.reachable, r.reachable_marketing), (1, 1));
    let r = store.reachability(d(3, 15)).await.unwrap();
    assert_eq!((r.reachable, r.reachable_marketing), (1, 0));
    let r = store.reachability(d(4, 15)).await.unwrap();
    assert_eq!((r.reachable, r.reachable_marketing), (2, 1));

    // A consent recorded in Rapport: customer 3 refuses online marketing on
    // the very day of the import (a change recorded later overrides an import
    // of the same day), then customer 4, with no imported consent, grants
    // wechat service; both show in the customer's consents after the import.
    let now = Utc.with_ymd_and_hms(2025, 4, 1, 9, 0, 0).unwrap();
    store
        .record_consent(
            3,
            "online",
            "marketing",
            false,
            d(4, 1),
            "cli",
            "rm1",
            Some("at the counter"),
            now,
        )
        .await
        .unwrap();
    store
        .record_consent(
            4,
            "wechat",
            "service",
            true,
            d(4, 10),
            "api",
            "rm1",
            None,
            now,
        )
        .await
        .unwrap();
    let c3 = store.customer_consents(3).await.unwrap();
    assert_eq!(c3.len(), 2);
    assert!(
        c3[0].granted && !c3[1].granted,
        "the recorded refusal comes last"
    );
    let r = store.reachability(d(4, 15)).await.unwrap();
    assert_eq!(
        (r.reachable, r.reachable_marketing),
        (2, 0),
        "1 by phone, 4 by wechat"
    );
    let r = store.reachability(d(4, 5)).await.unwrap();
    assert_eq!(
        (r.reachable, r.reachable_marketing),
        (1, 0),
        "4's grant is not live yet"
    );

    // Do-not-disturb, set and cleared.
    let now = Utc.with_ymd_and_hms(2025, 5, 1, 9, 0, 0).unwrap();
    assert!(!store.do_not_disturb(2).await.unwrap());
    store
        .set_do_not_disturb(2, true, Some("asked by phone"), "rm1", now)
        .await
        .unwrap();
    assert!(store.do_not_disturb(2).await.unwrap());
    store
        .set_do_not_disturb(2, false, None, "rm1", now)
        .await
        .unwrap();
    assert!(!store.do_not_disturb(2).await.unwrap());

    // The decision log keeps both outcomes, newest first.
    let row = |allowed: bool, code: &str| ContactDecisionRow {
        customer_id: 1,
        channel: "sms".into(),
        purpose: "marketing".into(),
        send_at: d(5, 1).and_hms_opt(22, 0, 0).unwrap(),
        allowed,
        code: code.into(),
        defer_until: (!allowed).then(|| d(5, 2).and_hms_opt(8, 0, 0).unwrap()),
        reason: "why".into(),
        context: "check".into(),
        decided_by: "rm1".into(),
    };
    store
        .log_contact_decisions(&[row(false, "quiet_hours"), row(true, "allowed")], now)
        .await
        .unwrap();
    let log = store.contact_decisions(1, 10).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].decision, row(true, "allowed"));
    assert_eq!(log[1].decision, row(false, "quiet_hours"));
    assert!(store.contact_decisions(2, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn contact_on_sqlite() {
    let db = TestDb::sqlite().await;
    story(&db.store).await;
    db.drop().await;
}

#[tokio::test]
async fn contact_on_postgres() {
    let Some(db) = TestDb::postgres("contact").await else {
        return;
    };
    story(&db.store).await;
    db.drop().await;
}
