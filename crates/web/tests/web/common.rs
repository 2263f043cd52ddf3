//! The web tests' bank: a small synthetic bank (generated, loaded and scored
//! through the same code as `rapport demo`) on SQLite or, when
//! `RAPPORT_TEST_PG` names a server, on a fresh PostgreSQL database; the
//! people the tests act as; sessions without the cost of argon2 sign-ins.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{Duration, Utc};
use rapport_services::config::Config;
use rapport_store::{Scope, StaffUser, Store};
use rapport_testkit::TestDb;
use rapport_web::{auth, AppState};
use std::net::SocketAddr;
use tower::ServiceExt as _;

/// A customer the tests know, with its personal data (to look for leaks).
#[derive(Debug, Clone)]
pub struct Known {
    pub id: i64,
    pub key: String,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub email: Option<String>,
}

pub struct Bank {
    pub store: Store,
    pub state: AppState,
    db: TestDb,
    pub admin: StaffUser,
    pub mgr_branch: StaffUser,
    pub mgr_hq: StaffUser,
    /// An RM with customers and alerts, and an RM of another branch.
    pub rm_a: StaffUser,
    pub rm_b: StaffUser,
    pub agent: StaffUser,
    pub risk: StaffUser,
    pub analyst: StaffUser,
    pub auditor: StaffUser,
    /// A customer of rm_a, one of rm_b, and one of rm_a's branch kept for erasure.
    pub own: Known,
    pub other: Known,
    pub erase_target: Known,
    pub own_alert: i64,
    pub other_alert: i64,
    /// A stored next best action of `own` and one of `other`.
    pub own_rec: i64,
    pub other_rec: i64,
    /// An open case of `own` and one of `other`; a saved draft campaign.
    pub own_case: i64,
    pub other_case: i64,
    pub campaign: String,
}

async fn known(store: &Store, id: i64) -> Known {
    let c = store.customer_360(&Scope::All, id).await.unwrap();
    Known {
        id,
        key: c.profile.key,
        name: c.profile.name,
        phone: c.profile.phone,
        id_number: c.profile.id_number,
        email: c.profile.email,
    }
}

async fn pairs(store: &Store, sql: &str) -> Vec<(i64, i64)> {
    match store {
        Store::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
        Store::Postgres(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
    }
}

/// Generates, loads and scores a bank of `customers` customers.
pub async fn bank(pg: bool, customers: u64) -> Option<Bank> {
    let db = if pg {
        TestDb::postgres("web").await?
    } else {
        TestDb::sqlite().await
    };
    let store = db.store.clone();
    rapport_testkit::generated_bank(&db, customers, 11).await;
    let as_of = rapport_services::scoring::resolve_as_of(&store, None)
        .await
        .unwrap();
    rapport_services::scoring::run_scoring(&store, as_of, &Default::default())
        .await
        .unwrap();
    let settings = rapport_services::recommendations::Settings::builtin().unwrap();
    rapport_services::recommendations::recommend_all(&store, &settings, as_of, "test")
        .await
        .unwrap();
    let hq = store
        .create_staff_user("mgr_hq", "Head office manager", "manager", None, "x")
        .await
        .unwrap();
    let users = store.staff_users().await.unwrap();
    let by_name = |n: &str| users.iter().find(|u| u.username == n).cloned().unwrap();
    let first = |role: &str| users.iter().find(|u| u.role == role).cloned().unwrap();
    // (alert, RM) for alerts of RM-assigned customers, and (customer, RM).
    let alerts = pairs(
        &store,
        "SELECT a.id, r.staff_user_id FROM alert a JOIN rm_assignment r ON r.customer_id = a.customer_id ORDER BY a.id",
    )
    .await;
    let assigned = pairs(
        &store,
        "SELECT customer_id, staff_user_id FROM rm_assignment ORDER BY customer_id",
    )
    .await;
    let rm_of = |id: i64| users.iter().find(|u| u.id == id).cloned().unwrap();
    let (own_alert, rm_a_id) = alerts[0];
    let rm_a = rm_of(rm_a_id);
    let (other_alert, rm_b_id) = *alerts
        .iter()
        .find(|(_, r)| rm_of(*r).branch_id != rm_a.branch_id)
        .expect("an alert of an RM of another branch");
    let rm_b = rm_of(rm_b_id);
    let alert_customer = |a: i64| {
        let store = store.clone();
        async move { store.alert(a).await.unwrap().customer_id }
    };
    let own_id = alert_customer(own_alert).await;
    let other_id = alert_customer(other_alert).await;
    let erase_id = assigned
        .iter()
        .find(|(c, r)| *r == rm_a.id && *c != own_id)
        .map(|(c, _)| *c)
        .expect("a second customer of rm_a");
    let mgr_branch = users
        .iter()
        .find(|u| u.role == "manager" && u.branch_id == rm_a.branch_id)
        .cloned()
        .unwrap();
    let mut mgr_hq = store.staff_user(hq).await.unwrap();
    mgr_hq.password_hash = None;
    let rec_of = |id: i64| {
        let store = store.clone();
        async move {
            store
                .customer_recommendations(id, 0)
                .await
                .unwrap()
                .first()
                .map(|r| r.id)
                .expect("a stored recommendation")
        }
    };
    let own_rec = rec_of(own_id).await;
    let other_rec = rec_of(other_id).await;
    let clock =
        rapport_services::clock::Clock::system(chrono::FixedOffset::east_opt(8 * 3600).unwrap());
    let open_case = |key: String| {
        let store = store.clone();
        let clock = clock.clone();
        async move {
            rapport_services::cases::open(
                &store,
                &clock,
                &rapport_services::cases::Intake {
                    customer_key: key,
                    intake: "test".into(),
                    kind: "complaint".into(),
                    category: "fees".into(),
                    severity: "medium".into(),
                    subject: "test case".into(),
                    description: "a test complaint".into(),
                    supervisor: None,
                    by: "test".into(),
                },
            )
            .await
            .unwrap()
            .id
        }
    };
    let own = known(&store, own_id).await;
    let other = known(&store, other_id).await;
    let erase_target = known(&store, erase_id).await;
    let own_case = open_case(own.key.clone()).await;
    let other_case = open_case(other.key.clone()).await;
    let campaign_text = rapport_engage::campaign::NATIONAL_DAY
        .replace("national_day_2026", "web_test_campaign")
        .replace(
            "audience = { holiday_need = { holiday = \"national_day\", need = \"travel\" } }",
            "audience = \"all\"",
        );
    let campaign = rapport_services::campaign::save(&store, &campaign_text, "test", &clock)
        .await
        .unwrap()
        .key;
    let state = AppState::new(store.clone(), Config::default()).unwrap();
    Some(Bank {
        admin: by_name("admin01"),
        agent: first("agent"),
        risk: first("risk"),
        analyst: first("analyst"),
        auditor: first("auditor"),
        mgr_branch,
        mgr_hq,
        rm_a,
        rm_b,
        own,
        other,
        erase_target,
        own_alert,
        other_alert,
        own_rec,
        other_rec,
        own_case,
        other_case,
        campaign,
        state,
        store,
        db,
    })
}

impl Bank {
    /// The application with a fixed client address (as a socket would give).
    pub fn app(&self) -> Router {
        rapport_web::router(self.state.clone())
            .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 4000))))
    }

    /// A signed-in session for `u`: (cookie header, CSRF token).
    pub async fn session(&self, u: &StaffUser) -> (String, String) {
        let token = auth::new_token();
        let csrf = auth::new_token();
        let now = Utc::now();
        self.store
            .create_session(
                &auth::token_hash(&token),
                u.id,
                &csrf,
                now,
                now + Duration::hours(1),
            )
            .await
            .unwrap();
        (format!("{}={token}", auth::SESSION_COOKIE), csrf)
    }

    /// GET `path` signed in as `who`: (status, body).
    pub async fn get_as(&self, who: &StaffUser, path: &str) -> (u16, String) {
        let (cookie, _) = self.session(who).await;
        let req = Request::get(path)
            .header(axum::http::header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap();
        let (s, t) = send(&self.app(), req).await;
        (s.as_u16(), t)
    }

    /// Drops the PostgreSQL database, if any.
    pub async fn cleanup(self) {
        self.state.audit.flush().await;
        self.db.drop().await;
    }
}

/// GET `path` with the session `cookie` (see [`Bank::session`]): (status, body).
pub async fn get_page(b: &Bank, cookie: &str, path: &str) -> (u16, String) {
    let req = Request::get(path)
        .header(axum::http::header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    let (status, text) = send(&b.app(), req).await;
    (status.as_u16(), text)
}

/// Posts the form `form` (percent-encoded) to `path` with the session
/// `cookie`: (status, `Location`, body).
pub async fn post_form(
    b: &Bank,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String, String) {
    use axum::http::header;
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    let req = Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    let res = b.app().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = axum::body::to_bytes(res.into_body(), 16 << 20)
        .await
        .unwrap();
    (
        status,
        location,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

/// Sends one request; returns status and body text.
pub async fn send(app: &Router, req: Request<Body>) -> (StatusCode, String) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 16 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// Percent-encodes a path segment.
pub fn enc(s: &str) -> String {
    rapport_web::pages::enc(s)
}
