//! One-time survey links and their answers: a link is used once, an expired
//! link stores nothing, the answers come back grouped by sheet, and the
//! sent/answered counts; on SQLite always and on PostgreSQL when
//! `RAPPORT_TEST_PG` names a server URL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use rapport_store::{NewSurveyAnswer, Store, StoreError};
use rapport_testkit::TestDb;

async fn exec(store: &Store, sql: &str) {
    match store {
        Store::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
        Store::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
    }
    .unwrap();
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 10, 9, 10, 0, 0).unwrap()
}

fn score(id: &str, kind: &str, v: i64) -> NewSurveyAnswer {
    NewSurveyAnswer {
        question_id: id.into(),
        kind: kind.into(),
        score: Some(v),
        functional: None,
        dysfunctional: None,
        answer_text: None,
    }
}

fn kano(id: &str, f: &str, d: &str) -> NewSurveyAnswer {
    NewSurveyAnswer {
        question_id: id.into(),
        kind: "kano".into(),
        score: None,
        functional: Some(f.into()),
        dysfunctional: Some(d.into()),
        answer_text: None,
    }
}

fn is_conflict(r: rapport_store::Result<()>) -> bool {
    matches!(r, Err(StoreError::Conflict(m)) if m.contains("already used or expired"))
}

async fn story(store: &Store) {
    exec(
        store,
        "INSERT INTO customer (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c');",
    )
    .await;
    let t = now();
    let week = t + Duration::days(7);
    let first = store
        .create_survey_invitation("holiday_follow_up", 1, None, "hash-1", week, t)
        .await
        .unwrap();
    let second = store
        .create_survey_invitation("holiday_follow_up", 2, None, "hash-2", week, t)
        .await
        .unwrap();
    let expired = store
        .create_survey_invitation(
            "holiday_follow_up",
            3,
            None,
            "hash-3",
            t + Duration::hours(1),
            t,
        )
        .await
        .unwrap();
    store
        .create_survey_invitation("nps_relationship", 3, None, "hash-4", week, t)
        .await
        .unwrap();

    // Found by hash, unused; an unknown hash is None.
    let inv = store
        .survey_invitation_by_hash("hash-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            inv.id,
            inv.survey.as_str(),
            inv.customer_id,
            inv.campaign_id
        ),
        (first, "holiday_follow_up", 1, None)
    );
    assert_eq!((inv.expires_at, inv.used_at), (week, None));
    assert!(store
        .survey_invitation_by_hash("nope")
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        store
            .survey_invitation_counts("holiday_follow_up")
            .await
            .unwrap(),
        (3, 0)
    );

    // A sheet is stored and the link marked used; the same link again stores nothing.
    let at = t + Duration::hours(2);
    let sheet = vec![
        score("offer", "csat", 4),
        kano("travel_limit_kano", "like", "dislike"),
        NewSurveyAnswer {
            question_id: "suggestions".into(),
            kind: "free_text".into(),
            score: None,
            functional: None,
            dysfunctional: None,
            answer_text: Some("希望提额更快".into()),
        },
    ];
    store.submit_survey(first, &sheet, at).await.unwrap();
    let used = store
        .survey_invitation_by_hash("hash-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(used.used_at, Some(at));
    assert!(is_conflict(
        store
            .submit_survey(
                first,
                &[score("offer", "csat", 1)],
                at + Duration::minutes(1)
            )
            .await
    ));

    // An expired link is refused and stays unused.
    assert!(is_conflict(
        store
            .submit_survey(expired, &[score("offer", "csat", 5)], at)
            .await
    ));
    let still = store
        .survey_invitation_by_hash("hash-3")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.used_at, None);

    // A second respondent; then the answers come back grouped by sheet.
    store
        .submit_survey(
            second,
            &[
                score("offer", "csat", 2),
                kano("travel_limit_kano", "like", "neutral"),
            ],
            at + Duration::minutes(5),
        )
        .await
        .unwrap();
    let rows = store.survey_answers("holiday_follow_up").await.unwrap();
    let got: Vec<(i64, i64, &str, &str, Option<i64>)> = rows
        .iter()
        .map(|r| {
            (
                r.invitation_id,
                r.customer_id,
                r.question_id.as_str(),
                r.kind.as_str(),
                r.score,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (first, 1, "offer", "csat", Some(4)),
            (first, 1, "travel_limit_kano", "kano", None),
            (first, 1, "suggestions", "free_text", None),
            (second, 2, "offer", "csat", Some(2)),
            (second, 2, "travel_limit_kano", "kano", None),
        ]
    );
    assert_eq!(
        (
            rows[1].functional.as_deref(),
            rows[1].dysfunctional.as_deref()
        ),
        (Some("like"), Some("dislike"))
    );
    assert_eq!(rows[2].answer_text.as_deref(), Some("希望提额更快"));
    assert!(rows.iter().all(|r| r.survey == "holiday_follow_up"));
    assert_eq!(rows[0].answered_at, at);
    assert!(store
        .survey_answers("nps_relationship")
        .await
        .unwrap()
        .is_empty());

    // Sent and answered, per survey.
    assert_eq!(
        store
            .survey_invitation_counts("holiday_follow_up")
            .await
            .unwrap(),
        (3, 2)
    );
    assert_eq!(
        store
            .survey_invitation_counts("nps_relationship")
            .await
            .unwrap(),
        (1, 0)
    );
    assert_eq!(
        store
            .survey_invitation_counts("csat_after_case")
            .await
            .unwrap(),
        (0, 0)
    );

    // Two submissions racing on one link: one sheet is stored.
    let raced = store
        .create_survey_invitation("nps_relationship", 1, None, "hash-5", week, t)
        .await
        .unwrap();
    let one = [score("recommend", "nps", 9)];
    let two = [score("recommend", "nps", 3)];
    let (a, b) = tokio::join!(
        store.submit_survey(raced, &one, at),
        store.submit_survey(raced, &two, at)
    );
    assert_eq!(u8::from(a.is_ok()) + u8::from(b.is_ok()), 1, "{a:?} {b:?}");
    assert!(is_conflict(if a.is_ok() { b } else { a }));
    assert_eq!(
        store
            .survey_answers("nps_relationship")
            .await
            .unwrap()
            .len(),
        1
    );

    // The token hash is unique.
    assert!(store
        .create_survey_invitation("nps_relationship", 1, None, "hash-4", week, t)
        .await
        .is_err());
}

#[tokio::test]
async fn survey_links_and_answers_on_sqlite() {
    let db = TestDb::sqlite().await;
    story(&db.store).await;
    db.drop().await;
}

#[tokio::test]
async fn survey_links_and_answers_on_postgres() {
    let Some(db) = TestDb::postgres("survey").await else {
        return;
    };
    story(&db.store).await;
    db.drop().await;
}
