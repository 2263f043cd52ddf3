//! Early-warning rules and rule segments read the active models' scores and
//! segment membership in a real scoring run (issue 17, item 4): a churn
//! model's scores stored for three customers make a rule segment of the two
//! likely leavers, and a daily rule reading that segment and the score
//! raises an alert for exactly those two — with the score in the message
//! and the evidence. A rule naming a segment the segment file does not make
//! is refused with the file and line. On SQLite and (with `RAPPORT_TEST_PG`)
//! PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use rapport_analytics::alerts::RuleSet;
use rapport_analytics::SegmentConfig;
use rapport_services::scoring::{resolve_as_of, run_scoring, ScoringOptions};
use rapport_store::{AlertFilter, ModelScoreRow, NewModelVersion, Store};
use rapport_testkit::{generated_bank, Backend, TestDb};

const RULES: &str = r#"
[[rule]]
code = "likely_to_leave"
name = "Likely to leave"
when = 'in_segment("likely_leavers") and model.churn > 0.6'
severity = "medium"
cooldown_days = 30
message = "Churn model: {model.churn} likely to leave."
"#;

/// The shipped tiers and clustering, and one rule segment on the churn score.
fn segments() -> SegmentConfig {
    let shipped = rapport_analytics::segment::DEFAULT_SEGMENTS_TOML;
    let text = format!(
        "{shipped}\n[[rules]]\ncode = \"likely_leavers\"\nname = \"Likely leavers\"\n\
         name_zh = \"可能流失客户\"\nwhen = 'model.churn >= 0.5'\n"
    );
    SegmentConfig::from_named_toml(&text, "segments.toml").unwrap()
}

async fn customer_ids(store: &Store) -> Vec<i64> {
    let sql = "SELECT id FROM customer ORDER BY id LIMIT 3";
    match store {
        Store::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
        Store::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
    }
}

async fn story(db: &TestDb) {
    generated_bank(db, 120, 23).await;
    let store = &db.store;
    let as_of = resolve_as_of(store, None).await.unwrap();
    let ids = customer_ids(store).await;
    let model = store
        .register_model(
            &NewModelVersion {
                kind: "churn",
                algorithm: "logistic",
                trained_by: "test",
                source: "{}",
                metrics: "{}",
                artefact: "{}",
            },
            Utc::now(),
        )
        .await
        .unwrap();
    store
        .activate_model(model.id, "test", Utc::now())
        .await
        .unwrap();
    let scores: Vec<ModelScoreRow> = ids
        .iter()
        .zip([0.9, 0.2, 0.75])
        .map(|(&customer_id, probability)| ModelScoreRow {
            customer_id,
            probability,
            points: None,
            reasons: "[]".to_string(),
        })
        .collect();
    store
        .save_model_scores(model.id, as_of, &scores)
        .await
        .unwrap();

    let opts = ScoringOptions {
        rules: Some(RuleSet::from_toml(RULES, "bank-rules.toml").unwrap()),
        segments: Some(segments()),
        ..ScoringOptions::default()
    }
    .checked()
    .unwrap();
    let report = run_scoring(store, as_of, &opts).await.unwrap();
    let leavers = report
        .segments
        .iter()
        .find(|s| s.code == "rule:likely_leavers")
        .expect("the rule segment");
    assert_eq!(leavers.customers, 2);
    let mut members = store
        .segment_members("rule:likely_leavers", as_of)
        .await
        .unwrap();
    members.sort_unstable();
    assert_eq!(members, [ids[0], ids[2]]);

    let alerts = store
        .list_alerts(&AlertFilter {
            rule: Some("likely_to_leave".to_string()),
            ..AlertFilter::default()
        })
        .await
        .unwrap();
    let mut alerted: Vec<i64> = alerts.iter().map(|a| a.customer_id).collect();
    alerted.sort_unstable();
    assert_eq!(alerted, [ids[0], ids[2]]);
    let first = alerts.iter().find(|a| a.customer_id == ids[0]).unwrap();
    assert_eq!(first.message, "Churn model: 90% likely to leave.");
    assert!(
        first.evidence.contains("\"model.churn\":0.9"),
        "{}",
        first.evidence
    );

    // A rule reading a segment the segment file does not make is refused
    // before any work, naming the file and line.
    let wrong = RULES.replace("likely_leavers", "vip_leavers");
    let refused = ScoringOptions {
        rules: Some(RuleSet::from_toml(&wrong, "bank-rules.toml").unwrap()),
        segments: Some(segments()),
        ..ScoringOptions::default()
    }
    .checked()
    .expect_err("a rule on an unknown segment was accepted")
    .to_string();
    assert!(
        refused.contains("bank-rules.toml:5: rule \"likely_to_leave\""),
        "{refused}"
    );
    assert!(refused.contains("rule:vip_leavers"), "{refused}");
}

#[tokio::test]
async fn rules_and_segments_read_model_scores_and_membership() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(db) = TestDb::on(backend, "rule_signals").await else {
            continue;
        };
        story(&db).await;
        db.drop().await;
    }
}

/// The server's live feed is warm before its first transaction: warming
/// builds the engine (and a feed that was never warmed builds it on the
/// first body), and both take the same transaction the same way.
#[tokio::test]
async fn the_live_feed_is_warmed_before_its_first_transaction() {
    use rapport_services::live_feed::LiveFeed;
    let db = TestDb::sqlite().await;
    generated_bank(&db, 40, 5).await;
    let store = &db.store;
    let sql = "SELECT source, source_key FROM account ORDER BY id LIMIT 1";
    let (source, account): (String, String) = match store {
        Store::Sqlite(p) => sqlx::query_as(sql).fetch_one(p).await.unwrap(),
        Store::Postgres(p) => sqlx::query_as(sql).fetch_one(p).await.unwrap(),
    };
    let as_of = resolve_as_of(store, None).await.unwrap();
    let line = |key: &str| {
        serde_json::json!({
            "source": source, "account": account, "booked_on": as_of.to_string(),
            "amount": "-10.00", "category": "groceries", "channel": "pos", "source_key": key,
        })
        .to_string()
    };
    let warm = LiveFeed::new(None);
    assert!(!warm.is_warm().await);
    warm.start_warming(store.clone()).await.await.unwrap();
    assert!(warm.is_warm().await);
    let report = warm
        .feed(store, "test", line("w-1").as_bytes())
        .await
        .unwrap();
    assert_eq!(report.accepted, 1);
    // A cold feed builds the engine on its first body; the line already
    // stored is a duplicate there.
    let cold = LiveFeed::new(None);
    let report = cold
        .feed(store, "test", line("w-1").as_bytes())
        .await
        .unwrap();
    assert_eq!((report.accepted, report.duplicates), (0, 1));
    assert!(cold.is_warm().await);
    db.drop().await;
}
