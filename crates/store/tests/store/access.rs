//! Staff access in the store: users, sessions, API tokens, sign-in attempts,
//! the audit log and RM reassignment, on SQLite always and on PostgreSQL when
//! `RAPPORT_TEST_PG` names a server URL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, Utc};
use rapport_store::{AuditEntry, AuditFilter, Store, StoreError};
use rapport_testkit::TestDb;

async fn exec(store: &Store, sql: &str) {
    match store {
        Store::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
        Store::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
    }
    .unwrap();
}

fn entry(action: &str, customer_id: Option<i64>) -> AuditEntry {
    AuditEntry {
        at: Utc::now(),
        actor_id: None,
        actor: "rm1".into(),
        role: "rm".into(),
        action: action.into(),
        entity: "customer".into(),
        entity_id: customer_id.map(|c| c.to_string()),
        customer_id,
        client: Some("127.0.0.1".into()),
        detail: "{}".into(),
    }
}

async fn story(store: &Store) {
    exec(
        store,
        "INSERT INTO branch (id, code, name) VALUES (1, 'B1', 'One');
         INSERT INTO customer (id, name, branch_id) VALUES (1, 'a', 1), (2, 'b', 1);",
    )
    .await;
    store.ping().await.unwrap();

    // Users: created with a branch, found by name, unique names, unknown branch refused.
    let rm = store
        .create_staff_user("rm1", "RM One", "rm", Some("B1"), "$argon2id$x")
        .await
        .unwrap();
    let u = store.staff_user_by_name("rm1").await.unwrap().unwrap();
    assert_eq!(
        (u.id, u.role.as_str(), u.branch_code.as_deref()),
        (rm, "rm", Some("B1"))
    );
    assert!(u.active && u.language.is_none());
    assert_eq!(u.password_hash.as_deref(), Some("$argon2id$x"));
    assert!(matches!(
        store
            .create_staff_user("rm1", "again", "rm", Some("B1"), "h")
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .create_staff_user("rm9", "x", "rm", Some("NOPE"), "h")
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.staff_user_by_name("nobody").await.unwrap().is_none());
    store.set_user_language(rm, "en").await.unwrap();
    store.set_password_hash(rm, "$argon2id$y").await.unwrap();
    let u = store.staff_user(rm).await.unwrap();
    assert_eq!(u.language.as_deref(), Some("en"));
    assert_eq!(u.password_hash.as_deref(), Some("$argon2id$y"));
    let mgr = store
        .create_staff_user("mgr", "Manager", "manager", None, "h")
        .await
        .unwrap();
    store.set_user_role(mgr, "manager", Some(1)).await.unwrap();
    assert_eq!(store.staff_user(mgr).await.unwrap().branch_id, Some(1));
    assert_eq!(store.staff_users().await.unwrap().len(), 2);

    // Sessions live until they expire.
    let now = chrono::DurationRound::duration_trunc(Utc::now(), Duration::seconds(1)).unwrap();
    store
        .create_session("hash-1", rm, "csrf-1", now, now + Duration::hours(1))
        .await
        .unwrap();
    let (su, csrf) = store.session_user("hash-1", now).await.unwrap().unwrap();
    assert_eq!((su.id, csrf.as_str()), (rm, "csrf-1"));
    assert!(store
        .session_user("hash-1", now + Duration::hours(2))
        .await
        .unwrap()
        .is_none());
    assert!(store.session_user("other", now).await.unwrap().is_none());
    store.delete_session("hash-1").await.unwrap();
    assert!(store.session_user("hash-1", now).await.unwrap().is_none());

    // API tokens: found while unrevoked; revoking twice is NotFound.
    let t = store
        .create_api_token(rm, "batch", "tok-1", now, None)
        .await
        .unwrap();
    assert_eq!(store.api_token_user("tok-1").await.unwrap().unwrap().id, rm);
    assert_eq!(store.api_tokens().await.unwrap().len(), 1);
    store.revoke_api_token(t, now).await.unwrap();
    assert!(store.api_token_user("tok-1").await.unwrap().is_none());
    assert!(matches!(
        store.revoke_api_token(t, now).await,
        Err(StoreError::NotFound(_))
    ));

    // Disabling a user ends their sessions and revokes their tokens.
    store
        .create_session("hash-2", rm, "c", now, now + Duration::hours(1))
        .await
        .unwrap();
    store
        .create_api_token(rm, "b2", "tok-2", now, None)
        .await
        .unwrap();
    store.set_user_active(rm, false, now).await.unwrap();
    assert!(store.session_user("hash-2", now).await.unwrap().is_none());
    assert!(store.api_token_user("tok-2").await.unwrap().is_none());
    store.set_user_active(rm, true, now).await.unwrap();
    assert!(store.api_token_user("tok-2").await.unwrap().is_none());

    // Failed sign-ins are counted per (name, client) inside the window and
    // since that pair's last success, and per client over all names.
    for i in 0..3 {
        store
            .record_login_attempt("rm1", "10.0.0.1", now - Duration::minutes(i), false)
            .await
            .unwrap();
    }
    store
        .record_login_attempt("rm1", "10.0.0.1", now - Duration::hours(1), false)
        .await
        .unwrap();
    store
        .record_login_attempt("other", "10.0.0.1", now, false)
        .await
        .unwrap();
    store
        .record_login_attempt("rm1", "10.0.0.2", now, true)
        .await
        .unwrap();
    let since = now - Duration::minutes(15);
    let f = store
        .login_failures("rm1", "10.0.0.1", since, since)
        .await
        .unwrap();
    assert_eq!((f.user_client, f.client), (3, 4));
    assert_eq!(f.last_user_client, Some(now));
    // Another client's success does not clear this client's failures; this client's does.
    store
        .record_login_attempt("rm1", "10.0.0.1", now + Duration::seconds(1), true)
        .await
        .unwrap();
    let f = store
        .login_failures("rm1", "10.0.0.1", since, since)
        .await
        .unwrap();
    assert_eq!((f.user_client, f.last_user_client), (0, None));
    let f = store
        .login_failures("rm1", "10.0.0.9", since, since)
        .await
        .unwrap();
    assert_eq!((f.user_client, f.client), (0, 0));

    // Service accounts have no password; a token records who created it.
    let svc = store
        .create_service_account("svc_feed", "Feed", "admin", None)
        .await
        .unwrap();
    let svc_user = store.staff_user(svc).await.unwrap();
    assert!(svc_user.is_service() && svc_user.password_hash.is_none());
    assert!(!store.staff_user(rm).await.unwrap().is_service());
    let t = store
        .create_api_token(svc, "feed", "tok-svc", now, Some(mgr))
        .await
        .unwrap();
    let row = store.api_token(t).await.unwrap().unwrap();
    assert_eq!(row.created_by, Some(mgr));
    assert_eq!(row.created_by_name.as_deref(), Some("mgr"));
    assert!(row.service);
    // A reset forces a change; the user's own choice clears it.
    store.set_password(rm, "$argon2id$z", true).await.unwrap();
    assert!(store.staff_user(rm).await.unwrap().must_change_password);
    store.set_password(rm, "$argon2id$w", false).await.unwrap();
    assert!(!store.staff_user(rm).await.unwrap().must_change_password);

    // RM (re)assignment.
    store.assign_rm(1, rm, now).await.unwrap();
    store.assign_rm(1, mgr, now).await.unwrap();

    // The audit log: appended in batches, read newest first with filters and a total.
    let batch: Vec<_> = (0..250)
        .map(|i| entry("customer.view", Some(1 + i % 2)))
        .collect();
    store.append_audit(&batch).await.unwrap();
    store
        .append_audit(&[entry("customer.unmask", Some(2))])
        .await
        .unwrap();
    store.append_audit(&[]).await.unwrap();
    let (rows, total) = store.audit_log(&AuditFilter::default()).await.unwrap();
    assert_eq!((rows.len(), total), (100, 251));
    assert_eq!(rows[0].entry.action, "customer.unmask");
    let f = AuditFilter {
        action: Some("customer.view".into()),
        customer_id: Some(2),
        limit: 10,
        offset: 120,
        ..AuditFilter::default()
    };
    let (rows, total) = store.audit_log(&f).await.unwrap();
    assert_eq!((rows.len(), total), (5, 125));
    let f = AuditFilter {
        since: Some(now + Duration::days(1)),
        ..AuditFilter::default()
    };
    assert_eq!(store.audit_log(&f).await.unwrap().1, 0);
}

#[tokio::test]
async fn access_on_sqlite() {
    let db = TestDb::sqlite().await;
    story(&db.store).await;
    db.drop().await;
}

#[tokio::test]
async fn access_on_postgres() {
    let Some(db) = TestDb::postgres("access").await else {
        return;
    };
    story(&db.store).await;
    db.drop().await;
}
