//! A handler corrects a complaint's category on the case page and through
//! the API: the page offers the form in Chinese, a correction without a
//! reason is refused with the message (422), a good one moves the case and
//! shows in its history; an RM cannot reach another RM's case (404); the
//! API answers the same use case and the classifier report. On SQLite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{send, Bank};
use serde_json::Value;

/// Posts a form (the shared helper): status and body.
async fn post_form(b: &Bank, cookie: &str, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let (status, _, body) = common::post_form(b, cookie, path, form).await;
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_reclassifies_on_the_page_and_through_the_api() {
    let b = common::bank(false, 300).await.unwrap();
    let id = b.own_case;
    let (cookie, csrf) = b.session(&b.rm_a).await;

    let (status, page) = b.get_as(&b.rm_a, &format!("/cases/{id}")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"case-reclassify\""), "{page}");
    assert!(page.contains("更正投诉类别"), "{page}");
    assert!(page.contains("本行服务时限"), "the policy is named: {page}");

    // No reason: refused with the message, nothing changed.
    let path = format!("/cases/{id}/reclassify");
    let (status, page) = post_form(
        &b,
        &cookie,
        &path,
        &[
            ("csrf", &csrf),
            ("category", "wealth_insurance"),
            ("reason", ""),
        ],
    )
    .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("请说明改类原因"), "{page}");
    assert_eq!(b.store.case(id).await.unwrap().unwrap().category, "fees");
    // Without the session's token: refused.
    let (status, _) = post_form(&b, &cookie, &path, &[("csrf", "x"), ("category", "other")]).await;
    assert_eq!(status, 403);

    let (status, _) = post_form(
        &b,
        &cookie,
        &path,
        &[
            ("csrf", &csrf),
            ("category", "wealth_insurance"),
            ("reason", "the complaint is about the fund's losses"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(
        b.store.case(id).await.unwrap().unwrap().category,
        "wealth_insurance"
    );
    let (_, page) = b.get_as(&b.rm_a, &format!("/cases/{id}")).await;
    assert!(
        page.contains("改类"),
        "history shows the correction: {page}"
    );
    assert!(page.contains("the complaint is about the fund"), "{page}");

    // Another RM's case: not found.
    let (status, _) = post_form(
        &b,
        &cookie,
        &format!("/cases/{}/reclassify", b.other_case),
        &[("csrf", &csrf), ("category", "other"), ("reason", "x")],
    )
    .await;
    assert_eq!(status, 404);

    // The API: the same use case, and the classifier report.
    let token = rapport_web::auth::new_token();
    b.store
        .create_api_token(
            b.rm_a.id,
            "cases",
            &rapport_web::auth::token_hash(&token),
            chrono::Utc::now(),
            Some(b.rm_a.id),
        )
        .await
        .unwrap();
    let req = Request::post(format!("/api/v1/cases/{id}/reclassify"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            r#"{"category": "fees", "reason": "it is the undisclosed fee after all"}"#,
        ))
        .unwrap();
    let (status, text) = send(&b.app(), req).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["reclassified"]["to"], "fees", "{v}");
    assert_eq!(v["reclassified"]["by"], b.rm_a.username.as_str(), "{v}");
    let req = Request::get("/api/v1/complaint-classifier")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let (status, text) = send(&b.app(), req).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["sets"].as_array().unwrap().len(), 3, "{v}");
    assert_eq!(v["training"].as_array().unwrap().len(), 11, "{v}");
    b.cleanup().await;
}
