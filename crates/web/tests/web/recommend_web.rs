//! Next best actions through the web: the API lists a customer's ranked
//! actions with reasons in zh and en and its suitability log; every proposed
//! product is suitable for the customer's stored assessment; the 360 page
//! shows them with outcome buttons; outcomes move the status, offering and
//! accepting re-check suitability, and an unsuitable product is refused
//! (422) without changing anything. On SQLite, and on PostgreSQL when
//! `RAPPORT_TEST_PG` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use axum::body::Body;
use axum::http::{header, Request};
use chrono::Utc;
use common::{bank, enc, send, Bank};
use rapport_domain::RiskTolerance;
use rapport_matching::{check_product, Assessment, Catalogue, Context, SuitabilityPolicy};
use rapport_store::{NewRecommendation, RecommendationScope};
use serde_json::Value;

async fn get_json(b: &Bank, cookie: &str, path: &str) -> Value {
    let req = Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    let (status, text) = send(&b.app(), req).await;
    assert_eq!(status.as_u16(), 200, "{path}: {text}");
    serde_json::from_str(&text).unwrap()
}

async fn post_json(b: &Bank, cookie: &str, csrf: &str, path: &str, body: &str) -> (u16, Value) {
    let req = Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-csrf-token", csrf)
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, text) = send(&b.app(), req).await;
    (
        status.as_u16(),
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

async fn story(b: &Bank) {
    let (cookie, csrf) = b.session(&b.rm_a).await;
    let key = enc(&b.own.key);
    let body = get_json(
        b,
        &cookie,
        &format!("/api/v1/customers/{key}/recommendations"),
    )
    .await;
    let actions = body["actions"].as_array().unwrap();
    assert!(!actions.is_empty(), "{body}");

    // Every action explains itself in both languages; every product suits the customer.
    let (tol, assessed) = b.store.customer_risk(b.own.id).await.unwrap().unwrap();
    let assessment = match (tol.as_deref().map(RiskTolerance::parse), assessed) {
        (Some(Ok(tolerance)), Some(assessed_on)) => Some(Assessment {
            tolerance,
            assessed_on,
        }),
        _ => None,
    };
    let catalogue = Catalogue::builtin().unwrap();
    let mut ranks = Vec::new();
    for a in actions {
        ranks.push(a["rank"].as_i64().unwrap());
        let reasons = a["detail"]["reasons"].as_array().unwrap();
        assert!(!reasons.is_empty(), "{a}");
        for r in reasons {
            assert!(!r["en"].as_str().unwrap().is_empty(), "{r}");
            assert!(!r["zh"].as_str().unwrap().is_empty(), "{r}");
        }
        if let Some(code) = a["product"].as_str() {
            let p = catalogue.get(code).unwrap();
            let as_of = a["as_of"].as_str().unwrap().parse().unwrap();
            assert!(
                check_product(
                    &SuitabilityPolicy::default(),
                    p,
                    assessment.as_ref(),
                    as_of,
                    Context::Propose
                )
                .allowed,
                "{code} proposed to a customer it does not suit"
            );
        }
    }
    let mut sorted = ranks.clone();
    sorted.sort_unstable();
    assert_eq!(ranks, sorted, "actions come ranked");
    let log = body["suitability"].as_array().unwrap();
    assert!(!log.is_empty(), "the decisions of the batch are logged");

    // The 360 page shows them with outcome buttons for the RM.
    let req = Request::get(format!("/customers/{key}"))
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    let (status, page) = send(&b.app(), req).await;
    assert_eq!(status.as_u16(), 200);
    let first = actions[0]["id"].as_i64().unwrap();
    assert!(
        page.contains(&format!("data-rec=\"{first}\"")),
        "no action on the 360"
    );
    assert!(page.contains("/outcome"), "no outcome buttons on the 360");
    let reason = actions[0]["detail"]["reasons"][0]["zh"].as_str().unwrap();
    let reason_en = actions[0]["detail"]["reasons"][0]["en"].as_str().unwrap();
    let escaped = |s: &str| {
        s.replace('&', "&amp;")
            .replace('\'', "&#39;")
            .replace('"', "&#34;")
    };
    assert!(
        page.contains(&escaped(reason)) || page.contains(&escaped(reason_en)),
        "the 360 shows the reasons"
    );
    // Product actions carry the plain-language description and fees.
    if let Some(sale) = actions.iter().find(|a| a["product"].is_string()) {
        let p = &sale["detail"]["product"];
        for k in ["description_zh", "description_en", "fees_zh", "fees_en"] {
            assert!(!p[k].as_str().unwrap_or_default().is_empty(), "{k}: {p}");
        }
        let zh = escaped(p["description_zh"].as_str().unwrap());
        let en = escaped(p["description_en"].as_str().unwrap());
        assert!(
            page.contains(&zh) || page.contains(&en),
            "the 360 explains the product"
        );
    }

    // Offered, then accepted (a product: suitability re-checked and logged).
    let sale = actions
        .iter()
        .find(|a| a["product"].is_string())
        .expect("a product action");
    let id = sale["id"].as_i64().unwrap();
    let before = b.store.suitability_log(b.own.id, 1000).await.unwrap().len();
    let (s, v) = post_json(
        b,
        &cookie,
        &csrf,
        &format!("/api/v1/recommendations/{id}/outcome"),
        r#"{"outcome":"offered","channel":"phone"}"#,
    )
    .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("offered")), "{v}");
    let (s, v) = post_json(
        b,
        &cookie,
        &csrf,
        &format!("/api/v1/recommendations/{id}/outcome"),
        r#"{"outcome":"accepted"}"#,
    )
    .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("accepted")), "{v}");
    // Suitability at the offer and at the sale; a credit product also has
    // its responsible-lending decision logged at both.
    let credit = rapport_matching::Catalogue::builtin()
        .unwrap()
        .get(sale["product"].as_str().unwrap())
        .is_some_and(|p| p.credit);
    let log = b.store.suitability_log(b.own.id, 1000).await.unwrap();
    let per_step = if credit { 2 } else { 1 };
    assert_eq!(log.len(), before + 2 * per_step, "credit product: {credit}");
    assert_eq!(log[0].decision.context, "sell");
    assert_eq!(log[per_step].decision.context, "offer");
    let (s, _) = post_json(
        b,
        &cookie,
        &csrf,
        &format!("/api/v1/recommendations/{id}/outcome"),
        r#"{"outcome":"bought"}"#,
    )
    .await;
    assert_eq!(s, 400);

    // A product above what the customer may buy is refused at sale and stays
    // as it was: the customer is reassessed as C1 today, an R5 fund is put in
    // front of them anyway.
    let today = Utc::now().date_naive();
    let sql = format!(
        "UPDATE customer SET risk_tolerance = 'c1', risk_assessed_on = '{today}' WHERE id = {}",
        b.own.id
    );
    match &b.store {
        rapport_store::Store::Sqlite(p) => sqlx::raw_sql(&sql).execute(p).await.map(|_| ()),
        rapport_store::Store::Postgres(p) => sqlx::raw_sql(&sql).execute(p).await.map(|_| ()),
    }
    .unwrap();
    let r5 = catalogue.iter().find(|p| p.risk.get() == 5).unwrap();
    b.store
        .replace_recommendations(
            RecommendationScope::Customer(b.own.id),
            today,
            &[NewRecommendation {
                customer_id: b.own.id,
                rank: 1,
                action: "sale".into(),
                product_code: Some(r5.code.clone()),
                priority: 1.0,
                detail: "{}".into(),
            }],
            Utc::now(),
        )
        .await
        .unwrap();
    let rec = b
        .store
        .customer_recommendations(b.own.id, 0)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.product_code.as_deref() == Some(r5.code.as_str()))
        .unwrap();
    for outcome in ["offered", "accepted"] {
        let (s, v) = post_json(
            b,
            &cookie,
            &csrf,
            &format!("/api/v1/recommendations/{}/outcome", rec.id),
            &format!(r#"{{"outcome":"{outcome}"}}"#),
        )
        .await;
        assert_eq!(s, 422, "{v}");
        assert!(v.to_string().contains("R5"), "{v}");
        let last = &b.store.suitability_log(b.own.id, 1).await.unwrap()[0];
        assert!(!last.decision.allowed);
        assert_eq!(last.decision.product_code, r5.code);
        assert_eq!(last.decision.tolerance.as_deref(), Some("c1"));
    }
    assert_eq!(
        b.store
            .recommendation(rec.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        "proposed"
    );
    // Declining needs no suitability check.
    let (s, v) = post_json(
        b,
        &cookie,
        &csrf,
        &format!("/api/v1/recommendations/{}/outcome", rec.id),
        r#"{"outcome":"declined"}"#,
    )
    .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("declined")), "{v}");
    let funnel = b.store.recommendation_outcomes().await.unwrap();
    assert!(funnel
        .iter()
        .any(|c| c.status == "accepted" && c.count >= 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recommendations_on_the_api_and_the_360_on_sqlite() {
    let b = bank(false, 1_500).await.unwrap();
    story(&b).await;
    b.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recommendations_on_the_api_and_the_360_on_postgres() {
    let Some(b) = bank(true, 1_500).await else {
        eprintln!("RAPPORT_TEST_PG not set: PostgreSQL recommendation test skipped");
        return;
    };
    story(&b).await;
    b.cleanup().await;
}
