//! No personal data in logs: a whole session (sign-in, a failed sign-in,
//! dashboard, searches by name and by phone, a 360, unmasking, an export,
//! API calls, a transaction feed) runs while the logs are captured, in text
//! and in JSON; then the capture is searched for the customers' names,
//! phones, ID numbers and e-mails, the passwords and the tokens.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use axum::body::Body;
use axum::http::{header, Request};
use common::{enc, send};
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

fn form(csrf: &str, extra: &str) -> Body {
    Body::from(format!("csrf={csrf}{extra}"))
}

async fn session(b: &common::Bank, password: &str, token: &str) {
    let app = b.app();
    // A failed and a good sign-in through the form.
    let (_, login) = send(&app, Request::get("/login").body(Body::empty()).unwrap()).await;
    let csrf = login
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let pre = format!("rapport_login={csrf}");
    for pw in ["wrong password", password] {
        let req = Request::post("/login")
            .header(header::COOKIE, &pre)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "username={}&password={}&csrf={csrf}",
                b.agent.username,
                enc(pw)
            )))
            .unwrap();
        send(&app, req).await;
    }
    let (cookie, csrf) = b.session(&b.agent).await;
    let get = |p: String| {
        Request::get(p)
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap()
    };
    send(&app, get("/".into())).await;
    for q in [
        b.own.name.clone(),
        b.own.phone.clone(),
        b.own.id_number.clone(),
        Some(b.other.key.clone()),
    ]
    .into_iter()
    .flatten()
    {
        send(&app, get(format!("/customers?q={}", enc(&q)))).await;
        send(&app, get(format!("/api/v1/customers?q={}", enc(&q)))).await;
    }
    send(&app, get(format!("/customers/{}", enc(&b.own.key)))).await;
    let req = Request::post(format!("/customers/{}/unmask", enc(&b.own.key)))
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(&csrf, "&reason=customer+called+about+a+card"))
        .unwrap();
    send(&app, req).await;
    send(
        &app,
        get(format!(
            "/api/v1/customers/{}?unmask=true&reason=customer+called+about+a+card",
            enc(&b.own.key)
        )),
    )
    .await;
    send(&app, get("/alerts".into())).await;
    // The admin's token: export and a transaction feed with a bad line.
    let bearer = |r: axum::http::request::Builder| {
        r.header(header::AUTHORIZATION, format!("Bearer {token}"))
    };
    send(
        &app,
        bearer(Request::get(format!(
            "/api/v1/customers/{}/export",
            enc(&b.own.key)
        )))
        .body(Body::empty())
        .unwrap(),
    )
    .await;
    let line = format!(
        "{{\"account\":\"NO-SUCH\",\"booked_on\":\"2025-01-02\",\"amount\":\"-10.00\",\"category\":\"transfer_out\",\"channel\":\"online\",\"source_key\":\"{}\"}}\nnot json",
        b.own.phone.clone().unwrap_or_default()
    );
    send(
        &app,
        bearer(Request::post("/api/v1/transactions"))
            .body(Body::from(line))
            .unwrap(),
    )
    .await;
    b.state.audit.flush().await;
}

fn assert_clean(logs: &str, b: &common::Bank, secrets: &[&str]) {
    assert!(
        logs.contains("/customers/{key}") && logs.contains("status"),
        "request lines missing:\n{logs}"
    );
    let mut personal: Vec<String> = Vec::new();
    for k in [&b.own, &b.other] {
        personal.extend(k.name.clone());
        personal.extend(k.phone.clone());
        personal.extend(
            k.phone
                .clone()
                .map(|p| p.trim_start_matches("+86").to_string()),
        );
        personal.extend(k.id_number.clone());
        personal.extend(k.email.clone());
    }
    assert!(
        personal.len() >= 6,
        "the fixture lacks personal data: {personal:?}"
    );
    for p in personal
        .iter()
        .map(String::as_str)
        .chain(secrets.iter().copied())
    {
        assert!(!p.is_empty() && !logs.contains(p), "the logs contain {p:?}");
    }
}

#[tokio::test]
async fn a_full_session_leaves_no_personal_data_in_the_logs() {
    let b = common::bank(false, 600).await.unwrap();
    let password = "the agent's password 1";
    b.store
        .set_password_hash(
            b.agent.id,
            &rapport_web::auth::hash_password(password).unwrap(),
        )
        .await
        .unwrap();
    let token = rapport_web::auth::new_token();
    b.store
        .create_api_token(
            b.admin.id,
            "logs",
            &rapport_web::auth::token_hash(&token),
            chrono::Utc::now(),
            Some(b.admin.id),
        )
        .await
        .unwrap();
    for json in [false, true] {
        let capture = Capture::default();
        let builder = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
            .with_writer(capture.clone())
            .with_ansi(false);
        let guard = if json {
            tracing::subscriber::set_default(builder.json().finish())
        } else {
            tracing::subscriber::set_default(builder.finish())
        };
        session(&b, password, &token).await;
        drop(guard);
        let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
        assert_clean(&logs, &b, &[password, &token]);
        // The request lines name the signed-in caller by id (never by name).
        let id = b.agent.id;
        assert!(
            logs.contains(&format!("user.id={id}")) || logs.contains(&format!("\"user.id\":{id}")),
            "the request span does not carry the caller's user id:\n{}",
            logs.lines()
                .filter(|l| l.contains("answered"))
                .take(5)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    b.cleanup().await;
}
