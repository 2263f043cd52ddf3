//! Sign-in and credentials through the web (issue 16), replaying the attacks
//! on the demo store against the in-process router:
//! - `POST /admin/tokens` with `user=risk01` (an administrator minting a
//!   token to act as risk01) is refused; a service account gets one, and the
//!   admin page shows who created it;
//! - behind a trusted proxy, failures from an attacker's forwarded address
//!   stop that address only: the owner signs in from theirs;
//! - an administrator's reset sends the user to `/account/password`, the only
//!   page (and no API) open to them until a password passing the policy is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{self, Bank};

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::response::Response;
use axum::Router;
use rapport_services::config::Config;
use rapport_web::AppState;
use std::net::SocketAddr;
use tower::ServiceExt as _;

async fn call(
    app: &Router,
    req: Request<Body>,
) -> (StatusCode, Option<String>, Vec<String>, String) {
    let res: Response = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let location = res
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let cookies = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").to_string())
        .collect();
    let bytes = axum::body::to_bytes(res.into_body(), 16 << 20)
        .await
        .unwrap();
    (
        status,
        location,
        cookies,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn post(path: &str, cookie: &str, body: String) -> Request<Body> {
    Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap()
}

fn get(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap()
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    s.split(start).nth(1).unwrap().split(end).next().unwrap()
}

/// Signs in through the form, from `forwarded` (an `X-Forwarded-For`
/// value); returns the status, the redirect and the session cookie.
async fn sign_in(
    app: &Router,
    user: &str,
    password: &str,
    forwarded: &str,
) -> (StatusCode, Option<String>, Option<String>) {
    let (_, _, _, page) = call(app, Request::get("/login").body(Body::empty()).unwrap()).await;
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"").to_string();
    let req = Request::post("/login")
        .header(header::COOKIE, format!("rapport_login={csrf}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-forwarded-for", forwarded)
        .body(Body::from(format!(
            "username={user}&password={}&csrf={csrf}",
            common::enc(password)
        )))
        .unwrap();
    let (status, location, cookies, _) = call(app, req).await;
    let session = cookies
        .into_iter()
        .find(|c| c.starts_with("rapport_session="));
    (status, location, session)
}

async fn story(b: Bank) {
    let app = b.app();
    let (admin, csrf) = b.session(&b.admin).await;

    // The attack: the administrator mints a token for risk01.
    let (status, _, _, _) = call(
        &app,
        post(
            "/admin/tokens",
            &admin,
            format!("csrf={csrf}&user={}&name=act-as", b.risk.username),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(b
        .store
        .api_tokens()
        .await
        .unwrap()
        .iter()
        .all(|t| t.staff_user_id != b.risk.id));

    // A machine gets a service account of its own and a token for it.
    let (status, _, _, _) = call(
        &app,
        post(
            "/admin/service-accounts",
            &admin,
            format!("csrf={csrf}&username=svc_web&role=risk&branch="),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _, page) = call(
        &app,
        post(
            "/admin/tokens",
            &admin,
            format!("csrf={csrf}&user=svc_web&name=feed"),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let token = between(&page, "<code id=\"secret\">", "<").to_string();
    let (status, _, _, _) = call(
        &app,
        Request::get("/api/v1/customers")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, _, page) = call(&app, get("/admin", &admin)).await;
    let tokens = between(&page, "<table id=\"tokens\">", "</table>");
    assert!(
        tokens.contains("<td class=\"created-by\">admin01</td>"),
        "{tokens}"
    );
    // A service account cannot sign in to the web.
    let behind_proxy = {
        let mut cfg = Config::default();
        cfg.web.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        let state = AppState::new(b.store.clone(), cfg).unwrap();
        rapport_web::router(state).layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 4000))))
    };
    let (status, _, _) = sign_in(&behind_proxy, "svc_web", "anything at all", "192.0.2.1").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The administrator resets risk01's password: a generated one, shown once.
    let (status, _, _, page) = call(
        &app,
        post(
            &format!("/admin/users/{}/password", b.risk.id),
            &admin,
            format!("csrf={csrf}&password="),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let temp = between(&page, "<code id=\"secret\">", "<").to_string();

    // Behind the proxy, an attacker's address fails: the failures count
    // against the forwarded address, not the proxy's ...
    for _ in 0..2 {
        let (status, _, _) = sign_in(
            &behind_proxy,
            &b.risk.username,
            "a wrong guess",
            "203.0.113.9",
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let now = chrono::Utc::now();
    let day = now - chrono::Duration::days(1);
    let f = b
        .store
        .login_failures(&b.risk.username, "203.0.113.9", day, day)
        .await
        .unwrap();
    assert_eq!(f.user_client, 2);
    let f = b
        .store
        .login_failures(&b.risk.username, "127.0.0.1", day, day)
        .await
        .unwrap();
    assert_eq!(f.user_client, 0);
    // ... and once it has failed often (recorded as the form would), it must wait.
    for _ in 0..10 {
        b.store
            .record_login_attempt(&b.risk.username, "203.0.113.9", now, false)
            .await
            .unwrap();
    }
    let (status, _, _) = sign_in(&behind_proxy, &b.risk.username, &temp, "203.0.113.9").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // ... and the owner, from their own address, still signs in, and is
    // sent to change the password first.
    let (status, location, session) =
        sign_in(&behind_proxy, &b.risk.username, &temp, "198.51.100.3").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the owner was locked out");
    assert_eq!(location.as_deref(), Some("/account/password"));
    let session = session.unwrap();
    // Until then, every other page sends them back, and the API refuses.
    let (status, location, _, _) = call(&behind_proxy, get("/customers", &session)).await;
    assert_eq!(
        (status, location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/account/password"))
    );
    let (status, _, _, _) = call(&behind_proxy, get("/api/v1/customers", &session)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _, page) = call(&behind_proxy, get("/account/password", &session)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"must-change\""));
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"").to_string();
    let change = |new: &str| {
        let mut req = post(
            "/account/password",
            &session,
            format!(
                "csrf={csrf}&current={}&new_password={}&confirm={}",
                common::enc(&temp),
                common::enc(new),
                common::enc(new)
            ),
        );
        req.headers_mut()
            .insert("x-forwarded-for", "198.51.100.3".parse().unwrap());
        req
    };
    for weak in ["password1234", "aaaaaaaaaaaa", "            "] {
        let (status, _, _, page) = call(&behind_proxy, change(weak)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{weak:?}");
        assert!(page.contains("id=\"password-error\""), "{weak:?}");
    }
    // Without the form's CSRF token: refused.
    let (status, _, _, _) = call(
        &behind_proxy,
        post(
            "/account/password",
            &session,
            "csrf=forged&current=x&new_password=y&confirm=y".into(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _, page) = call(&behind_proxy, change("saffron glacier pencil harbor")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"password-changed\""));
    let (status, _, _, _) = call(&behind_proxy, get("/customers", &session)).await;
    assert_eq!(status, StatusCode::OK);
    b.state.audit.flush().await;
    let (audit, _) = b
        .store
        .audit_log(&rapport_store::AuditFilter {
            action: Some("user.password_change".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].entry.actor, b.risk.username);
    assert_eq!(audit[0].entry.client.as_deref(), Some("198.51.100.3"));
    b.cleanup().await;
}

#[tokio::test]
async fn credentials_cannot_be_borrowed_or_locked_on_sqlite() {
    story(common::bank(false, 300).await.unwrap()).await;
}

#[tokio::test]
async fn credentials_cannot_be_borrowed_or_locked_on_postgres() {
    let Some(b) = common::bank(true, 300).await else {
        return;
    };
    story(b).await;
}
