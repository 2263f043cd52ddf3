//! The model registry (versions, activation, roll back), model scores, the
//! suitability log and recommendations with outcomes, on SQLite always and on
//! PostgreSQL when `RAPPORT_TEST_PG` names a server URL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{NaiveDate, TimeZone, Utc};
use rapport_store::{
    ModelScoreRow, NewModelVersion, NewRecommendation, RecommendationScope, Store,
    SuitabilityDecisionRow,
};
use rapport_testkit::TestDb;

async fn exec(store: &Store, sql: &str) {
    match store {
        Store::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
        Store::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
    }
    .unwrap();
}

fn model<'a>(kind: &'a str, artefact: &'a str) -> NewModelVersion<'a> {
    NewModelVersion {
        kind,
        algorithm: "scorecard",
        trained_by: "tester",
        source: r#"{"kind":"churn"}"#,
        metrics: r#"{"auc":0.8}"#,
        artefact,
    }
}

fn rec(customer_id: i64, rank: i64, action: &str, product: Option<&str>) -> NewRecommendation {
    NewRecommendation {
        customer_id,
        rank,
        action: action.into(),
        product_code: product.map(str::to_string),
        priority: 1.0 / rank as f64,
        detail: r#"{"reasons":[]}"#.into(),
    }
}

async fn story(store: &Store) {
    exec(
        store,
        "INSERT INTO customer (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c');",
    )
    .await;
    let t = |h: u32| Utc.with_ymd_and_hms(2025, 3, 1, h, 0, 0).unwrap();
    let day = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();

    // Versions number per kind; none is active until activated.
    let v1 = store
        .register_model(&model("churn", "A1"), t(1))
        .await
        .unwrap();
    let v2 = store
        .register_model(&model("churn", "A2"), t(2))
        .await
        .unwrap();
    let v3 = store
        .register_model(&model("churn", "A3"), t(3))
        .await
        .unwrap();
    let other = store
        .register_model(&model("default", "D1"), t(3))
        .await
        .unwrap();
    assert_eq!(
        (v1.version, v2.version, v3.version, other.version),
        (1, 2, 3, 1)
    );
    assert!(store.active_model("churn").await.unwrap().is_none());
    assert_eq!(
        store.model_with_artefact(v2.id).await.unwrap().unwrap().1,
        "A2"
    );

    // Activate 1, 2, 3; roll back twice returns to 2 then 1; a third has nowhere to go.
    for v in [&v1, &v2, &v3] {
        let a = store.activate_model(v.id, "tester", t(4)).await.unwrap();
        assert!(a.active);
    }
    store
        .activate_model(other.id, "tester", t(4))
        .await
        .unwrap();
    assert_eq!(
        store.active_model("churn").await.unwrap().unwrap().id,
        v3.id
    );
    let back = store.rollback_model("churn", "tester", t(5)).await.unwrap();
    assert_eq!(back.unwrap().id, v2.id);
    let back = store.rollback_model("churn", "tester", t(6)).await.unwrap();
    assert_eq!(back.unwrap().id, v1.id);
    assert!(store
        .rollback_model("churn", "tester", t(7))
        .await
        .unwrap()
        .is_none());
    let listed = store.model_versions(Some("churn")).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .filter(|m| m.active)
            .map(|m| m.id)
            .collect::<Vec<_>>(),
        [v1.id]
    );
    // The other kind was never touched.
    assert_eq!(
        store.active_model("default").await.unwrap().unwrap().id,
        other.id
    );
    assert!(store.activate_model(999, "tester", t(8)).await.is_err());

    // Scores: a re-run replaces the model's rows; only active models are read.
    let rows = |p: f64| {
        vec![
            ModelScoreRow {
                customer_id: 1,
                probability: p,
                points: Some(612.5),
                reasons: r#"[{"feature":"age","points":12}]"#.into(),
            },
            ModelScoreRow {
                customer_id: 2,
                probability: 0.5,
                points: None,
                reasons: "[]".into(),
            },
        ]
    };
    store
        .save_model_scores(v1.id, day, &rows(0.1))
        .await
        .unwrap();
    store
        .save_model_scores(v1.id, day, &rows(0.2))
        .await
        .unwrap();
    store
        .save_model_scores(v2.id, day, &rows(0.9))
        .await
        .unwrap();
    let mut active = store.active_model_scores("churn").await.unwrap();
    active.sort_by_key(|r| r.0);
    assert_eq!(active, [(1, 0.2), (2, 0.5)]);
    let mine = store.customer_model_scores(1).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!((mine[0].version, mine[0].points), (1, Some(612.5)));
    assert_eq!(mine[0].as_of, day);

    // The suitability log keeps every decision, newest first.
    let decision = |code: &str, allowed: bool| SuitabilityDecisionRow {
        customer_id: 1,
        product_code: code.into(),
        context: "propose".into(),
        allowed,
        code: if allowed {
            "within_tolerance"
        } else {
            "above_tolerance"
        }
        .into(),
        product_risk: if allowed { 1 } else { 4 },
        tolerance: Some("c2".into()),
        assessed_on: Some(day),
        reason: "why".into(),
        decided_by: "batch".into(),
    };
    let n = store
        .log_suitability(
            &[decision("TD-1Y", true), decision("FD-R4-01", false)],
            t(9),
        )
        .await
        .unwrap();
    assert_eq!(n, 2);
    let log = store.suitability_log(1, 10).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].decision, decision("FD-R4-01", false));
    assert!(store.suitability_log(2, 10).await.unwrap().is_empty());

    // Recommendations: a batch replaces open proposals; outcomes move the status and stay.
    let first = [
        rec(1, 1, "retention", None),
        rec(1, 2, "sale", Some("TD-1Y")),
        rec(2, 1, "sale", Some("CC-GOLD")),
    ];
    store
        .replace_recommendations(RecommendationScope::All, day, &first, t(10))
        .await
        .unwrap();
    let open = store.customer_recommendations(1, 10).await.unwrap();
    assert_eq!(open.len(), 2);
    assert_eq!(open[0].action, "retention");
    let sale = open[1].id;
    let offered = store
        .record_recommendation_outcome(sale, "offered", "rm1", Some("phone"), None, t(11))
        .await
        .unwrap();
    assert_eq!(offered.status, "offered");
    store
        .record_recommendation_outcome(sale, "accepted", "rm1", None, Some("signed"), t(12))
        .await
        .unwrap();
    assert!(store
        .record_recommendation_outcome(9_999, "offered", "rm1", None, None, t(12))
        .await
        .is_err());

    // The next batch replaces proposals but keeps the accepted one.
    store
        .replace_recommendations(
            RecommendationScope::All,
            day,
            &[rec(1, 1, "sale", Some("WM-R2-01"))],
            t(13),
        )
        .await
        .unwrap();
    let now = store.customer_recommendations(1, 10).await.unwrap();
    let statuses: Vec<(&str, Option<&str>)> = now
        .iter()
        .map(|r| (r.status.as_str(), r.product_code.as_deref()))
        .collect();
    assert_eq!(
        statuses,
        [("proposed", Some("WM-R2-01")), ("accepted", Some("TD-1Y"))]
    );
    assert!(store
        .customer_recommendations(2, 10)
        .await
        .unwrap()
        .is_empty());

    // A per-customer refresh leaves other customers alone.
    store
        .replace_recommendations(
            RecommendationScope::All,
            day,
            &[
                rec(2, 1, "sale", Some("CC-GOLD")),
                rec(3, 1, "sale", Some("TD-3M")),
            ],
            t(14),
        )
        .await
        .unwrap();
    store
        .replace_recommendations(
            RecommendationScope::Customer(2),
            day,
            &[rec(2, 1, "reassessment", None)],
            t(15),
        )
        .await
        .unwrap();
    assert_eq!(
        store.customer_recommendations(2, 10).await.unwrap()[0].action,
        "reassessment"
    );
    assert_eq!(
        store.customer_recommendations(3, 10).await.unwrap().len(),
        1
    );
    let funnel = store.recommendation_outcomes().await.unwrap();
    assert!(funnel
        .iter()
        .any(|c| c.action == "sale" && c.status == "accepted" && c.count == 1));
}

#[tokio::test]
async fn registry_scores_decisions_and_recommendations_on_sqlite() {
    let db = TestDb::sqlite().await;
    story(&db.store).await;
    db.drop().await;
}

#[tokio::test]
async fn registry_scores_decisions_and_recommendations_on_postgres() {
    let Some(db) = TestDb::postgres("matching").await else {
        return;
    };
    story(&db.store).await;
    db.drop().await;
}
