//! `rapport risk assess|history|questions`: a questionnaire recorded for a
//! customer by a branch manager (refused without an actor, or with answers
//! that do not fit), the history with the current assessment first, and the
//! tolerance the suitability rule reads updated in the store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::BIN;
use rapport_testkit::cli::Rapport;

async fn one_row(url: &str, sql: &str) -> (String, String) {
    let pool = sqlx::SqlitePool::connect(url).await.unwrap();
    let v: (String, String) = sqlx::query_as(sql).fetch_one(&pool).await.unwrap();
    pool.close().await;
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_questionnaire_is_recorded_listed_and_read_by_suitability() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("risk.db").display());
    let r = Rapport::new(BIN).db(&url);
    r.json(&["gen", "--customers", "40", "--seed", "9"]);
    // A customer of a branch and that branch's manager.
    let (key, manager) = one_row(
        &url,
        "SELECT k.source_key, u.username FROM customer c \
         JOIN customer_source_key k ON k.customer_id = c.id \
         JOIN staff_user u ON u.branch_id = c.branch_id AND u.role = 'manager' \
         ORDER BY c.id, k.id LIMIT 1",
    )
    .await;

    let q = r.json(&["risk", "questions"]);
    assert_eq!(q["questions"].as_array().map(Vec::len), Some(10), "{q}");
    assert_eq!(q["questions"][7]["id"], "loss");

    let answers = "d,c,b,c,d,c,c,c,c,c";
    let none = r.run(&["risk", "assess", "--customer", &key, "--answers", answers]);
    assert_eq!(none.code, 4, "no actor: {none:?}");
    let bad = r.run(&[
        "--json",
        "--actor",
        &manager,
        "risk",
        "assess",
        "--customer",
        &key,
        "--answers",
        "abc",
    ]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(
        bad.stdout.contains("answers") || bad.stderr.contains("answers"),
        "{bad:?}"
    );

    let done = r.json(&[
        "--actor",
        &manager,
        "risk",
        "assess",
        "--customer",
        &key,
        "--answers",
        answers,
    ]);
    assert_eq!(done["assessment"]["tolerance"], "C3", "{done}");
    assert_eq!(done["assessment"]["score"], 31);
    assert_eq!(done["assessment"]["current"], true);
    assert!(
        done["reason_zh"].as_str().unwrap().contains("平衡型"),
        "{done}"
    );

    let human = r.run(&[
        "--actor",
        &manager,
        "risk",
        "assess",
        "--customer",
        &key,
        "--answers",
        "a,a,a,a,a,a,a,a,a,a",
    ]);
    assert!(human.ok(), "{human:?}");
    assert!(
        human.stdout.contains("C1 conservative / 保守型"),
        "{}",
        human.stdout
    );

    let h = r.json(&["risk", "history", "--customer", &key]);
    let list = h["assessments"].as_array().unwrap();
    assert!(list.len() >= 2, "{h}");
    assert_eq!(list[0]["tolerance"], "C1");
    assert_eq!(list[0]["current"], true);
    assert_eq!(list[1]["tolerance"], "C3");
    assert_eq!(list[1]["current"], false);
    assert_eq!(list[0]["recorded_by"], manager.as_str());

    // The customer row the suitability rule reads holds the latest.
    let (tolerance, by) = one_row(
        &url,
        &format!(
            "SELECT c.risk_tolerance, (SELECT a.actor FROM audit_log a \
             WHERE a.action = 'risk_assessment.record' ORDER BY a.id DESC LIMIT 1) \
             FROM customer c JOIN customer_source_key k ON k.customer_id = c.id \
             WHERE k.source_key = '{key}'"
        ),
    )
    .await;
    assert_eq!((tolerance.as_str(), by.as_str()), ("c1", manager.as_str()));
}
