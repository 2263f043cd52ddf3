//! Sign-in and credentials (issue 16), on SQLite and (with `RAPPORT_TEST_PG`)
//! PostgreSQL, each test reproducing an attack of the demo store:
//! - an administrator minting a token for another person (risk01) to act as
//!   them is refused; tokens go to oneself or to a service account, and each
//!   records who created it;
//! - every failed sign-in runs exactly one password verification, whatever
//!   the account (unknown, no password, disabled, service account);
//! - failures from one client never block the owner's client; each pair
//!   backs off exponentially; one client failing over many names is stopped;
//! - weak passwords are refused everywhere; an administrator's reset forces a
//!   change at the next sign-in, which the user makes with their current password.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, Utc};
use rapport_services::access::{staff_by_username, Actor};
use rapport_services::config::Config;
use rapport_services::error::ServiceError;
use rapport_services::signin::{self, Argon2Check, PasswordCheck, SignInOutcome};
use rapport_services::{password, staff, Services};
use rapport_store::{AuditFilter, Store};
use rapport_testkit::{Backend, TestDb};
use std::sync::atomic::{AtomicUsize, Ordering};

const RISK_PW: &str = "violet tractor mirror sandal";
const ADMIN_PW: &str = "copper lantern orbit meadow";

/// The real argon2 check, counting how often it runs.
#[derive(Default)]
struct Counting {
    n: AtomicUsize,
}

impl PasswordCheck for Counting {
    fn verify(&self, password: &str, phc: &str) -> bool {
        self.n.fetch_add(1, Ordering::SeqCst);
        Argon2Check.verify(password, phc)
    }
}

impl Counting {
    fn take(&self) -> usize {
        self.n.swap(0, Ordering::SeqCst)
    }
}

/// A store with admin01, risk01 (passwords above), a disabled agent, an
/// analyst without a password and a service account.
async fn setup(db: &TestDb) -> Services {
    setup_with(db, Config::default()).await
}

async fn setup_with(db: &TestDb, cfg: Config) -> Services {
    let store = db.store.clone();
    let system = Actor::system("test");
    for (name, role, pw) in [
        ("admin01", "admin", Some(ADMIN_PW)),
        ("risk01", "risk", Some(RISK_PW)),
        ("agent01", "agent", Some("plaster canyon violin eleven")),
    ] {
        staff::create_user(
            &store,
            &system,
            "test",
            name,
            None,
            role,
            None,
            pw.map(String::from),
        )
        .await
        .unwrap();
    }
    staff::set_active(&store, &system, "test", "agent01", false)
        .await
        .unwrap();
    // Imported staff come without a password.
    staff::create_user(
        &store,
        &system,
        "test",
        "analyst01",
        None,
        "analyst",
        None,
        None,
    )
    .await
    .unwrap();
    let sql = "UPDATE staff_user SET password_hash = NULL WHERE username = 'analyst01'";
    match &store {
        Store::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        Store::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
    }
    .unwrap();
    staff::create_service_account(&store, &system, "test", "svc_feed", None, "risk", None)
        .await
        .unwrap();
    Services::build(store, cfg).unwrap()
}

async fn staff_actor(store: &Store, name: &str) -> Actor {
    Actor::Staff(staff_by_username(store, name, "test").await.unwrap())
}

fn t0() -> DateTime<Utc> {
    Utc::now()
}

#[tokio::test]
async fn nobody_mints_a_token_for_another_person() {
    for backend in Backend::available() {
        let Some(db) = TestDb::on(backend, "signin_tokens").await else {
            continue;
        };
        let s = setup(&db).await;
        let store = &s.store;
        let admin = staff_actor(store, "admin01").await;
        let risk = staff_actor(store, "risk01").await;

        // The attack: an administrator mints a token for risk01.
        let e = staff::create_token(store, &admin, "test", "risk01", "x")
            .await
            .unwrap_err();
        assert!(matches!(e, ServiceError::Refused(_)), "{backend}: {e}");
        // Nor may the system at the console, nor another person.
        for actor in [Actor::system("cli"), staff_actor(store, "risk01").await] {
            let e = staff::create_token(store, &actor, "test", "admin01", "x")
                .await
                .unwrap_err();
            assert!(matches!(e, ServiceError::Refused(_)), "{backend}: {e}");
        }
        assert!(store.api_tokens().await.unwrap().is_empty(), "{backend}");

        // Oneself: yes (any role); a service account: an administrator only.
        let own = staff::create_token(store, &risk, "test", "risk01", "mine")
            .await
            .unwrap();
        let svc = staff::create_token(store, &admin, "test", "svc_feed", "feed")
            .await
            .unwrap();
        let e = staff::create_token(store, &risk, "test", "svc_feed", "x")
            .await
            .unwrap_err();
        assert!(matches!(e, ServiceError::Access(_)), "{backend}: {e}");
        let rows = store.api_tokens().await.unwrap();
        let by = |id: i64| rows.iter().find(|t| t.id == id).unwrap();
        assert_eq!(by(own.id).created_by_name.as_deref(), Some("risk01"));
        assert_eq!(by(svc.id).created_by_name.as_deref(), Some("admin01"));
        assert!(by(svc.id).service && !by(own.id).service);
        // The audit entry names the creator and the holder.
        let (audit, _) = store
            .audit_log(&AuditFilter {
                action: Some("token.create".into()),
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        let svc_entry = audit
            .iter()
            .find(|a| a.entry.entity_id == Some(svc.id.to_string()))
            .unwrap();
        assert_eq!(svc_entry.entry.actor, "admin01");
        let detail: serde_json::Value = serde_json::from_str(&svc_entry.entry.detail).unwrap();
        assert_eq!(detail["user"], "svc_feed");
        assert_eq!(detail["created_by"], admin.user_id().unwrap());
        // The service account cannot sign in; nor can it be given a password.
        let svc_user = store.staff_user_by_name("svc_feed").await.unwrap().unwrap();
        assert!(staff::set_password(store, &admin, "test", "svc_feed", None)
            .await
            .is_err());
        assert!(svc_user.password_hash.is_none());
        // Revoking: the holder their own; risk01 not the service's.
        assert!(staff::revoke_token(store, &risk, "test", svc.id)
            .await
            .is_err());
        staff::revoke_token(store, &risk, "test", own.id)
            .await
            .unwrap();
        staff::revoke_token(store, &admin, "test", svc.id)
            .await
            .unwrap();
        s.audit.flush().await;
        db.drop().await;
    }
}

#[tokio::test]
async fn every_sign_in_attempt_runs_exactly_one_verification() {
    for backend in Backend::available() {
        let Some(db) = TestDb::on(backend, "signin_verify").await else {
            continue;
        };
        let s = setup(&db).await;
        let check = Counting::default();
        let now = t0();
        // Each from its own client so that no throttle interferes.
        let cases = [
            ("nobody", "whatever password", false, "unknown user"),
            ("analyst01", "whatever password", false, "no password"),
            ("agent01", "plaster canyon violin eleven", false, "disabled"),
            ("svc_feed", "whatever password", false, "service account"),
            ("risk01", "wrong password here", false, "wrong password"),
            ("risk01", RISK_PW, true, "right password"),
        ];
        for (i, (user, pw, ok, what)) in cases.into_iter().enumerate() {
            let client = format!("10.1.0.{i}");
            let out = signin::sign_in_checked(&s, &check, user, pw, &client, now)
                .await
                .unwrap();
            assert_eq!(
                matches!(out, SignInOutcome::SignedIn(_)),
                ok,
                "{backend}: {what}"
            );
            assert_eq!(check.take(), 1, "{backend}: {what}: verifications");
        }
        s.audit.flush().await;
        db.drop().await;
    }
}

#[tokio::test]
async fn failures_from_elsewhere_never_lock_the_owner_out() {
    for backend in Backend::available() {
        let Some(db) = TestDb::on(backend, "signin_throttle").await else {
            continue;
        };
        let mut cfg = Config::default();
        cfg.web.max_failed_logins_per_client = 20;
        let s = setup_with(&db, cfg).await;
        let now = t0();
        let attacker = "203.0.113.66";
        let sign_in = |user: &'static str, pw: &'static str, client: &'static str, at| {
            let s = &s;
            async move { signin::sign_in(s, user, pw, client, at).await.unwrap() }
        };
        // The attacker tries risk01 twenty times: after the fifth failure it
        // must wait, and the wait doubles.
        let mut throttled = 0;
        for _ in 0..20 {
            match sign_in("risk01", "guess guess guess", attacker, now).await {
                SignInOutcome::Throttled { retry_after_secs } => {
                    throttled += 1;
                    assert_eq!(retry_after_secs, 1, "{backend}");
                }
                SignInOutcome::Failed => {}
                SignInOutcome::SignedIn(_) => panic!("{backend}: a guess signed in"),
            }
        }
        assert_eq!(throttled, 15, "{backend}: throttled after 5 failures");
        // Even with the right password, the attacker's client waits.
        assert!(matches!(
            sign_in("risk01", RISK_PW, attacker, now).await,
            SignInOutcome::Throttled { .. }
        ));
        // The owner, from their own client, at the same moment: signed in.
        assert!(
            matches!(
                sign_in("risk01", RISK_PW, "198.51.100.7", now).await,
                SignInOutcome::SignedIn(_)
            ),
            "{backend}: the owner was locked out"
        );
        // Back-off: one more failure after the wait doubles it (2 s), then 4 s.
        let at1 = now + Duration::seconds(1);
        assert!(matches!(
            sign_in("risk01", "guess guess guess", attacker, at1).await,
            SignInOutcome::Failed
        ));
        match sign_in("risk01", "guess guess guess", attacker, at1).await {
            SignInOutcome::Throttled { retry_after_secs } => assert_eq!(retry_after_secs, 2),
            o => panic!("{backend}: {o:?}"),
        }
        let at3 = at1 + Duration::seconds(2);
        assert!(matches!(
            sign_in("risk01", "guess guess guess", attacker, at3).await,
            SignInOutcome::Failed
        ));
        match sign_in("risk01", "guess guess guess", attacker, at3).await {
            SignInOutcome::Throttled { retry_after_secs } => assert_eq!(retry_after_secs, 4),
            o => panic!("{backend}: {o:?}"),
        }

        // The coarse per-client limit: one client failing over many names.
        let sprayer = "192.0.2.99";
        let limit = s.cfg.web.max_failed_logins_per_client;
        for i in 0..limit {
            let name = format!("spray{i}");
            let out = signin::sign_in(&s, &name, "guess guess guess", sprayer, now)
                .await
                .unwrap();
            assert!(matches!(out, SignInOutcome::Failed), "{backend}: {i}");
        }
        assert!(matches!(
            sign_in("admin01", ADMIN_PW, sprayer, now).await,
            SignInOutcome::Throttled { .. }
        ));
        // ... which stops only that client.
        assert!(matches!(
            sign_in("admin01", ADMIN_PW, "198.51.100.8", now).await,
            SignInOutcome::SignedIn(_)
        ));
        s.audit.flush().await;
        db.drop().await;
    }
}

#[tokio::test]
async fn weak_passwords_are_refused_and_a_reset_forces_a_change() {
    for backend in Backend::available() {
        let Some(db) = TestDb::on(backend, "signin_password").await else {
            continue;
        };
        let s = setup(&db).await;
        let store = &s.store;
        let admin = staff_actor(store, "admin01").await;
        for weak in [
            "password1234",
            "            ",
            "aaaaaaaaaaaa",
            "risk01risk01risk01",
        ] {
            let e = staff::set_password(store, &admin, "test", "risk01", Some(weak.into()))
                .await
                .unwrap_err();
            assert!(
                matches!(&e, ServiceError::Invalid { field, .. } if field == "password"),
                "{backend}: {weak:?}: {e}"
            );
            let e = staff::create_user(
                store,
                &admin,
                "test",
                "newbie",
                None,
                "analyst",
                None,
                Some(weak.into()),
            )
            .await
            .unwrap_err();
            assert!(
                matches!(&e, ServiceError::Invalid { field, .. } if field == "password"),
                "{backend}: {weak:?}: {e}"
            );
        }

        // risk01's own API token, then the admin resets risk01's password: a
        // generated one, to be changed; the token stops working at once.
        let risk_actor = staff_actor(store, "risk01").await;
        let token = staff::create_token(store, &risk_actor, "test", "risk01", "laptop")
            .await
            .unwrap();
        let hash = rapport_services::access::token_hash(&token.token);
        assert!(store.api_token_user(&hash).await.unwrap().is_some());
        let temp = staff::set_password(store, &admin, "test", "risk01", None)
            .await
            .unwrap()
            .unwrap();
        assert!(
            store.api_token_user(&hash).await.unwrap().is_none(),
            "{backend}: a reset left risk01's API token working"
        );
        let now = t0();
        let SignInOutcome::SignedIn(session) =
            signin::sign_in(&s, "risk01", &temp, "10.2.0.1", now)
                .await
                .unwrap()
        else {
            panic!("{backend}: the temporary password did not sign in");
        };
        assert!(session.must_change_password, "{backend}");
        let risk = staff_by_username(store, "risk01", "10.2.0.1")
            .await
            .unwrap();
        // The current password must be right, the new one must pass the policy.
        assert!(
            password::change_own(store, &risk, "test", "not it at all", RISK_PW, None)
                .await
                .is_err()
        );
        assert!(
            password::change_own(store, &risk, "test", &temp, "aaaaaaaaaaaa", None)
                .await
                .is_err()
        );
        password::change_own(
            store,
            &risk,
            "test",
            &temp,
            "saffron glacier pencil harbor",
            None,
        )
        .await
        .unwrap();
        let u = store.staff_user_by_name("risk01").await.unwrap().unwrap();
        assert!(!u.must_change_password, "{backend}");
        let SignInOutcome::SignedIn(session) = signin::sign_in(
            &s,
            "risk01",
            "saffron glacier pencil harbor",
            "10.2.0.1",
            now + Duration::seconds(1),
        )
        .await
        .unwrap() else {
            panic!("{backend}: the new password did not sign in");
        };
        assert!(!session.must_change_password);
        let (audit, _) = store
            .audit_log(&AuditFilter {
                action: Some("user.password_change".into()),
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(audit.len(), 1, "{backend}");
        assert_eq!(audit[0].entry.actor, "risk01");
        s.audit.flush().await;
        db.drop().await;
    }
}
