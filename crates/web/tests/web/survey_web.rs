//! The survey form behind one-time links, through the web application, on
//! SQLite and (when `RAPPORT_TEST_PG` is set) PostgreSQL: the form in
//! Chinese and English with no personal data; ten customers answer the
//! holiday follow-up with a designed pattern; a link works once (410 the
//! second time), an unknown link is 404, an expired one 410, a score out of
//! range 400 naming the question, a foreign Origin 403; then
//! `survey_results` gives exactly the NPS, CSAT, Kano, matrix and themes
//! the pattern implies.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use rapport_testkit::{Backend, TestDb};

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use chrono::{Duration, Utc};
use common::{enc, send};
use rapport_engage::survey::{KanoCategory, Quadrant};
use rapport_services::config::Config;
use rapport_services::surveys::{new_survey_token, survey_results};
use rapport_store::Store;
use rapport_web::{auth, AppState};
use std::net::SocketAddr;

/// A name no page may show.
const NAME: &str = "欧阳测试";

async fn exec(store: &Store, sql: &str) {
    match store {
        Store::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
        Store::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
    }
    .unwrap();
}

/// Stores a link to `survey` for `customer`; returns the token.
async fn invite(store: &Store, survey: &str, customer: i64, days: i64) -> String {
    let token = new_survey_token();
    let now = Utc::now();
    store
        .create_survey_invitation(
            survey,
            customer,
            None,
            &auth::token_hash(&token),
            now + Duration::days(days),
            now - Duration::days(1),
        )
        .await
        .unwrap();
    token
}

async fn get(app: &Router, path: &str) -> (StatusCode, String) {
    let req = Request::get(path).body(Body::empty()).unwrap();
    send(app, req).await
}

async fn post(
    app: &Router,
    token: &str,
    fields: &[(&str, &str)],
    origin: Option<&str>,
) -> (StatusCode, String) {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    let mut req = Request::post(format!("/s/{token}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::HOST, "rapport.test");
    if let Some(o) = origin {
        req = req.header(header::ORIGIN, o);
    }
    send(app, req.body(Body::from(body.join("&"))).unwrap()).await
}

/// The holiday follow-up answers of respondent `i` of 10:
/// CSAT 5 5 4 4 4 3 3 2 5 1 (six satisfied);
/// travel limit: six (like, dislike) = O, four (like, neutral) = A → O;
/// FX cash delivery: seven (neutral, dislike) = M, three (like, must_be) = A → M;
/// travel insurance: five (neutral, neutral) = I, five (like, neutral) = A → A (tie);
/// travel limit rated 5 / 4, FX cash 4 / 2, insurance 2 / 2;
/// four comments (one about queues, one about the app, one about the
/// limit, one blank).
fn sheet(i: usize) -> Vec<(&'static str, &'static str)> {
    const CSAT: [&str; 10] = ["5", "5", "4", "4", "4", "3", "3", "2", "5", "1"];
    const COMMENTS: [&str; 4] = [
        "网点排队太久了",
        "手机银行老是闪退",
        "希望出行前能快速提额",
        "   ",
    ];
    let mut f = vec![
        ("lang", "zh-CN"),
        ("q_offer", CSAT[i]),
        ("q_travel_limit_kano_f", "like"),
        (
            "q_travel_limit_kano_d",
            if i < 6 { "dislike" } else { "neutral" },
        ),
        (
            "q_fx_cash_delivery_kano_f",
            if i < 7 { "neutral" } else { "like" },
        ),
        (
            "q_fx_cash_delivery_kano_d",
            if i < 7 { "dislike" } else { "must_be" },
        ),
        (
            "q_card_travel_insurance_kano_f",
            if i < 5 { "neutral" } else { "like" },
        ),
        ("q_card_travel_insurance_kano_d", "neutral"),
        ("q_travel_limit_importance", "5"),
        ("q_travel_limit_urgency", "4"),
        ("q_fx_cash_delivery_importance", "4"),
        ("q_fx_cash_delivery_urgency", "2"),
        ("q_card_travel_insurance_importance", "2"),
        ("q_card_travel_insurance_urgency", "2"),
    ];
    if let Some(c) = COMMENTS.get(i) {
        f.push(("q_suggestions", c));
    }
    f
}

async fn run(backend: Backend) {
    let Some(db) = TestDb::on(backend, "survey").await else {
        return;
    };
    let store = db.store.clone();
    let values: Vec<String> = (1..=20)
        .map(|i| format!("({i}, '{NAME}{i}', '1380000{i:04}')"))
        .collect();
    exec(
        &store,
        &format!(
            "INSERT INTO customer (id, name, phone) VALUES {};",
            values.join(", ")
        ),
    )
    .await;
    let mut holiday = Vec::new();
    for c in 1..=12 {
        holiday.push(invite(&store, "holiday_follow_up", c, 30).await);
    }
    let mut nps = Vec::new();
    for c in 13..=17 {
        nps.push(invite(&store, "nps_relationship", c, 30).await);
    }
    let expired = invite(&store, "csat_after_case", 18, -1).await;

    let state = AppState::new(store.clone(), Config::default()).unwrap();
    let app = rapport_web::router(state.clone())
        .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 4000))));

    // The form: Chinese by default, English on request; no personal data.
    let (status, zh) = get(&app, &format!("/s/{}", holiday[0])).await;
    assert_eq!(status, StatusCode::OK, "{zh}");
    assert!(zh.contains("国庆假期活动回访"), "{zh}");
    assert!(zh.contains("出行前信用卡额度即时提升"));
    assert!(zh.contains("如果出行前无法即时提升信用卡额度，您觉得怎么样？"));
    assert!(zh.contains("我喜欢") && zh.contains("能忍受"));
    assert!(zh.contains(r#"name="q_travel_limit_kano_f" value="must_be""#));
    assert!(zh.contains(r#"name="q_offer" value="5""#));
    assert!(!zh.contains(r#"name="q_offer" value="6""#));
    assert!(zh.contains(r#"maxlength="2000""#));
    assert!(!zh.contains(NAME) && !zh.contains("1380000"));
    assert!(!zh.contains("<script") && !zh.contains("style="));
    let (status, en) = get(&app, &format!("/s/{}?lang=en", holiday[0])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        en.contains("Instant card limit increase for travel"),
        "{en}"
    );
    assert!(en.contains("I can live with it that way"));
    assert!(!en.contains("出行前信用卡额度即时提升"));
    let (status, nps_form) = get(&app, &format!("/s/{}", nps[0])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(nps_form.contains(r#"name="q_recommend" value="0""#));
    assert!(nps_form.contains(r#"name="q_recommend" value="10""#));

    // Unknown, malformed and expired links.
    let (status, body) = get(&app, &format!("/s/{}", new_survey_token())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("找不到此问卷链接"), "{body}");
    let (status, _) = get(&app, "/s/not-a-token").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = post(&app, &new_survey_token(), &[("q_offer", "5")], None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = get(&app, &format!("/s/{expired}?lang=en")).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(body.contains("expired"), "{body}");

    // Refused sheets store nothing and leave the link usable.
    let (status, body) = post(&app, &nps[3], &[("q_recommend", "11")], None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("recommend") && body.contains("0–10"),
        "{body}"
    );
    let (status, body) = post(
        &app,
        &nps[3],
        &[("lang", "en"), ("q_recommend", "ten")],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("recommend") && body.contains("not one of its answers"),
        "{body}"
    );
    let (status, body) = post(
        &app,
        &holiday[11],
        &[("q_travel_limit_kano_f", "like")],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("travel_limit_kano"), "{body}");
    let (status, body) = post(&app, &holiday[11], &[("q_nope", "1")], None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("nope"), "{body}");
    let (status, _) = post(
        &app,
        &nps[3],
        &[("q_recommend", "9")],
        Some("https://evil.example"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Ten respondents answer the holiday follow-up (the first with a
    // same-host Origin); a link works once.
    for (i, token) in holiday.iter().take(10).enumerate() {
        let origin = (i == 0).then_some("http://rapport.test");
        let (status, body) = post(&app, token, &sheet(i), origin).await;
        assert_eq!(status, StatusCode::OK, "{i}: {body}");
        assert!(body.contains("感谢"), "{body}");
    }
    let (status, body) = post(&app, &holiday[0], &sheet(0), None).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(body.contains("此链接已被使用"), "{body}");
    let (status, body) = get(&app, &format!("/s/{}?lang=en", holiday[1])).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(body.contains("already been used"), "{body}");

    // Four of five answer the relationship NPS: 10, 9, 7, 3 (the fourth
    // link, refused above, still works; the fifth stays unanswered).
    for (token, score) in nps.iter().zip(["10", "9", "7", "3"]) {
        let (status, body) = post(
            &app,
            token,
            &[("q_recommend", score), ("q_reason", "服务态度很好")],
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    // The results.
    let r = survey_results(&store, "holiday_follow_up").await.unwrap();
    assert_eq!((r.sent, r.answered, r.respondents), (12, 10, 10));
    assert_eq!(r.unreadable_answers, 0);
    assert_eq!(r.response_rate_percent, Some(10.0 * 100.0 / 12.0));
    assert!(r.nps.is_empty());
    assert_eq!(r.csat.len(), 1);
    let c = &r.csat[0];
    assert_eq!((c.question_id.as_str(), c.scale), ("offer", 5));
    assert_eq!((c.result.n, c.result.satisfied), (10, 6));
    assert_eq!(c.result.percent, Some(60.0));

    let kano: Vec<(&str, Option<KanoCategory>, usize)> = r
        .kano
        .iter()
        .map(|k| (k.need.as_str(), k.category, k.n))
        .collect();
    assert_eq!(
        kano,
        [
            ("travel_limit", Some(KanoCategory::OneDimensional), 10),
            ("fx_cash_delivery", Some(KanoCategory::MustBe), 10),
            ("card_travel_insurance", Some(KanoCategory::Attractive), 10),
        ]
    );
    let travel = &r.kano[0];
    assert_eq!(
        (travel.counts.one_dimensional, travel.counts.attractive),
        (6, 4)
    );
    assert_eq!((travel.better, travel.worse), (Some(1.0), Some(-0.6)));
    let fx = &r.kano[1];
    assert_eq!((fx.counts.must_be, fx.counts.attractive), (7, 3));
    assert_eq!((fx.better, fx.worse), (Some(0.3), Some(-0.7)));
    let insurance = &r.kano[2];
    assert_eq!(
        (insurance.counts.indifferent, insurance.counts.attractive),
        (5, 5)
    );
    assert_eq!((insurance.better, insurance.worse), (Some(0.5), Some(0.0)));

    let matrix: Vec<(&str, f64, f64, Quadrant)> = r
        .matrix
        .iter()
        .map(|m| (m.need.as_str(), m.importance, m.urgency, m.quadrant))
        .collect();
    assert_eq!(
        matrix,
        [
            ("travel_limit", 5.0, 4.0, Quadrant::DoFirst),
            ("fx_cash_delivery", 4.0, 2.0, Quadrant::Plan),
            ("card_travel_insurance", 2.0, 2.0, Quadrant::Later),
        ]
    );

    assert_eq!(r.themes.len(), 1);
    let t = &r.themes[0].report;
    assert_eq!(
        (r.themes[0].question_id.as_str(), t.n, t.unmatched),
        ("suggestions", 3, 0)
    );
    let count = |key: &str| t.themes.iter().find(|x| x.key == key).map(|x| x.count);
    assert_eq!(count("wait_time"), Some(1));
    assert_eq!(count("digital"), Some(1));
    assert_eq!(count("card_limit"), Some(1));

    let r = survey_results(&store, "nps_relationship").await.unwrap();
    assert_eq!((r.sent, r.answered, r.respondents), (5, 4, 4));
    assert_eq!(r.response_rate_percent, Some(80.0));
    let n = &r.nps[0].result;
    assert_eq!((n.n, n.promoters, n.passives, n.detractors), (4, 2, 1, 1));
    assert_eq!(n.nps, Some(25.0));
    assert_eq!(r.themes[0].report.themes[0].key, "staff_attitude");

    let r = survey_results(&store, "csat_after_case").await.unwrap();
    assert_eq!((r.sent, r.answered, r.respondents), (1, 0, 0));
    assert_eq!(r.csat[0].result.percent, None);
    assert!(survey_results(&store, "no_such_survey").await.is_err());

    state.audit.flush().await;
    db.drop().await;
}

#[tokio::test]
async fn survey_links_work_once_and_add_up_on_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test]
async fn survey_links_work_once_and_add_up_on_postgres() {
    run(Backend::Postgres).await;
}
