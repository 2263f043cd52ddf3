//! The 360 page and API carry what was done in Rapport, the derived profile
//! and the risk-assessment history (issue 17, items 7 and 8): an RM records
//! a questionnaire through the API and logs a contact; the page then shows
//! the derived-profile card, the contact log and the current assessment in
//! both languages, and `GET /api/v1/customers/{key}` carries `derived` and
//! `risk_assessments`. On SQLite and (with `RAPPORT_TEST_PG`) PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{bank, enc, send, Bank};
use axum::body::Body;
use axum::http::{header, Request};
use rapport_services::access::{staff_by_username, Actor};
use rapport_services::rm::{log_contact, ContactEntry, ContactKind, ContactOutcome};
use serde_json::Value;

async fn story(b: Bank) {
    let app = b.app();
    let key = b.own.key.clone();
    let (cookie, csrf) = b.session(&b.rm_a).await;
    let post = |body: &'static str| {
        Request::post(format!("/api/v1/customers/{}/risk-assessments", enc(&key)))
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-csrf-token", &csrf)
            .body(Body::from(body))
            .unwrap()
    };
    // A sheet that does not fit is refused naming the question.
    let (status, text) = send(&app, post(r#"{"answers":"d,c,b"}"#)).await;
    assert_eq!(status.as_u16(), 400, "{text}");
    assert!(text.contains("answers"), "{text}");
    let (status, text) = send(
        &app,
        post(r#"{"answers":{"age":"d","income":"c","investable_share":"b","experience":"c","products":"d","horizon":"c","goal":"c","loss":"c","drawdown":"c","obligations":"c"}}"#),
    )
    .await;
    assert_eq!(status.as_u16(), 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["assessment"]["tolerance"], "C3", "{v}");
    assert_eq!(v["assessment"]["recorded_by"], b.rm_a.username.as_str());

    // A contact logged by the RM.
    let rm = Actor::Staff(
        staff_by_username(&b.store, &b.rm_a.username, "test")
            .await
            .unwrap(),
    );
    let clock = b.state.services.clock.clone();
    log_contact(
        &b.store,
        &clock,
        &rm,
        "test",
        ContactEntry {
            customer_key: key.clone(),
            kind: ContactKind::Visit,
            outcome: ContactOutcome::Interested,
            note: None,
            by: String::new(),
        },
    )
    .await
    .unwrap();

    let (status, page) = b
        .get_as(&b.rm_a, &format!("/customers/{}", enc(&key)))
        .await;
    assert_eq!(status, 200);
    for needle in [
        "id=\"derived-profile\"",
        "id=\"lifecycle-stage\"",
        "id=\"risk-assessments\"",
        "C3",
    ] {
        assert!(page.contains(needle), "the 360 page lacks {needle}");
    }
    // The contact's kind and outcome as words, not codes.
    assert!(
        (page.contains(">拜访<") && page.contains(">有意向<"))
            || (page.contains(">Visit<") && page.contains(">Interested<")),
        "the contact is shown in words"
    );
    assert!(!page.contains(">visit<") && !page.contains(">interested<"));
    // Both languages: the RM's language decides; the texts exist in both.
    assert!(
        (page.contains("客户画像") && page.contains("平衡型") && page.contains("客户经理联系记录"))
            || (page.contains("Derived profile")
                && page.contains("balanced")
                && page.contains("Contact log")),
        "the derived card, tolerance and contact log are labelled"
    );

    let (status, text) = b
        .get_as(&b.rm_a, &format!("/api/v1/customers/{}", enc(&key)))
        .await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    let c = &v["customer"];
    let stage = c["derived"]["lifecycle"]["stage"]
        .as_str()
        .unwrap_or_default();
    assert!(
        ["new", "growing", "mature", "declining", "dormant"].contains(&stage),
        "{}",
        c["derived"]
    );
    assert!(c["derived"]["lifecycle"]["zh"].as_str().is_some());
    // Scored bank: the profile is as of the customer's latest scored day.
    let scored = c["health_history"]
        .as_array()
        .and_then(|h| h.last())
        .map(|h| h["as_of"].clone());
    assert_eq!(Some(c["derived"]["as_of"].clone()), scored);
    assert_eq!(c["risk_assessments"][0]["tolerance"], "C3");
    assert_eq!(c["risk_assessments"][0]["current"], true);
    assert_eq!(c["contact_log"][0]["kind"], "visit");
    assert_eq!(c["profile"]["risk_tolerance"], "c3");

    let (status, text) = b
        .get_as(
            &b.rm_a,
            &format!("/api/v1/customers/{}/risk-assessments", enc(&key)),
        )
        .await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        v["questionnaire"]["questions"].as_array().map(Vec::len),
        Some(10)
    );
    assert_eq!(v["assessments"][0]["score"], 31);
    b.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_360_carries_the_derived_profile_and_risk_assessments_on_sqlite() {
    story(bank(false, 300).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_360_carries_the_derived_profile_and_risk_assessments_on_postgres() {
    let Some(b) = bank(true, 300).await else {
        return;
    };
    story(b).await;
}
