//! Error pages: with a session, 400, 403, 404 and 422 answer inside the
//! layout (navigation, sign-out) in the user's language; without one the
//! bilingual page answers, never the framework's bare text. A bad page
//! number is page 1, not an error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{self, send, Bank};
use axum::body::Body;
use axum::http::{header, Request};

async fn story(b: Bank) {
    let app = b.app();
    let who = &b.rm_a;
    let (cookie, csrf) = b.session(who).await;
    let get = |path: &str| {
        Request::get(path)
            .header(header::COOKIE, &cookie)
            .header(header::ACCEPT, "text/html")
            .body(Body::empty())
            .unwrap()
    };
    for (lang, title, nav, not) in [
        ("zh-CN", "出错了", "退出", "Something went wrong"),
        ("en", "Something went wrong", "Sign out", "出错了"),
    ] {
        b.store.set_user_language(who.id, lang).await.unwrap();
        let cases = [
            (get("/alerts/abc"), 400),
            (get("/admin"), 403),
            (get("/no/such/page"), 404),
            (get("/alerts/999999999"), 404),
            (
                Request::post(format!("/alerts/{}/ack", b.own_alert))
                    .header(header::COOKIE, &cookie)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from("nothing=here"))
                    .unwrap(),
                422,
            ),
        ];
        for (req, want) in cases {
            let path = req.uri().to_string();
            let (status, body) = send(&app, req).await;
            assert_eq!(status.as_u16(), want, "{lang} {path}: {body}");
            assert!(
                body.contains("id=\"error-page\""),
                "{lang} {path} in the layout: {body}"
            );
            assert!(
                body.contains(title) && body.contains(nav),
                "{lang} {path}: {body}"
            );
            assert!(!body.contains(not), "{lang} {path} in one language: {body}");
            assert!(
                !body.contains("Failed to deserialize"),
                "{lang} {path}: bare text"
            );
            let p =
                crate::language::problems_but(&body, lang == "zh-CN", &[who.display_name.as_str()]);
            assert!(p.is_empty(), "{lang} {path}: {p:#?}");
        }
        // A bad page number or sort is the first page, never an error.
        for path in [
            "/customers?page=abc",
            "/alerts?page=abc&sort=x&dir=y",
            "/alerts?status=nope",
        ] {
            let (status, body) = send(&app, get(path)).await;
            assert_eq!(status.as_u16(), 200, "{path}: {body}");
        }
    }
    let _ = csrf;
    // The queue names the customer (as the masking policy shows the name),
    // severity first, and exports what it lists.
    let name = b.own.name.clone().unwrap_or_default();
    let masked = rapport_services::privacy::mask_name(&name);
    let (status, page) = send(&app, get("/alerts")).await;
    assert_eq!(status.as_u16(), 200);
    let row = page
        .split(&format!("data-alert=\"{}\"", b.own_alert))
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .map(str::to_string);
    if let Some(row) = row {
        assert!(
            row.contains(&format!(">{name}<")) || row.contains(&format!(">{masked}<")),
            "the customer's name in {row}"
        );
    }
    let sev: Vec<&str> = page
        .split("class=\"sev-")
        .skip(1)
        .filter_map(|x| x.split('"').next())
        .collect();
    let rank = |s: &str| {
        ["critical", "high", "medium", "low"]
            .iter()
            .position(|x| *x == s)
    };
    assert!(
        sev.windows(2).all(|w| rank(w[0]) <= rank(w[1])),
        "severity first: {sev:?}"
    );
    let res = tower::ServiceExt::oneshot(app.clone(), get("/alerts?format=csv&sort=rule&dir=asc"))
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    // Without a session: the bilingual page, not the framework's text.
    let (status, body) = send(
        &app,
        Request::get("/no/such/page").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status.as_u16(), 404);
    assert!(
        body.contains("未找到") && body.contains("Not found"),
        "{body}"
    );
    b.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_pages_in_the_layout_on_sqlite() {
    story(common::bank(false, 300).await.unwrap()).await;
}
