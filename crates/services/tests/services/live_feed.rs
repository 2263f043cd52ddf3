//! The live feed stores each posted transaction once per (source,
//! source_key) (issue 16): the same cash withdrawal posted ten times is one
//! withdrawal to the live rules — no `cash_withdrawal_spike` that one
//! posting would not raise — while ten distinct withdrawals do raise it (so
//! the check can fail); a 3,000-line body posted twice is taken once and
//! counted as 3,000 duplicates the second time; a line that is not UTF-8 is
//! rejected on its own; a restarted engine replays the stored live
//! transactions. On SQLite and (with `RAPPORT_TEST_PG`) PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, NaiveDate};
use rapport_analytics::alerts::RuleSet;
use rapport_analytics::live::LiveEngine;
use rapport_services::live_feed::{feed_body, FeedReport};
use rapport_services::scoring::resolve_as_of;
use rapport_store::Store;
use rapport_testkit::{generated_bank, Backend, TestDb};
use std::collections::HashMap;

type Accounts = HashMap<(String, String), Option<i64>>;

async fn scalar(store: &Store, sql: &str) -> i64 {
    match store {
        Store::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        Store::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

/// (source, key) of accounts, one per customer, whose customers made no
/// cash withdrawal in the 120 days before `as_of` and share no account.
async fn quiet_accounts(store: &Store, as_of: NaiveDate) -> Vec<(String, String)> {
    let since = as_of - Duration::days(120);
    let sql = "SELECT a.source, a.source_key, a.customer_id FROM account a \
               WHERE NOT EXISTS (SELECT 1 FROM txn t WHERE t.customer_id = a.customer_id \
                   AND t.category IN ('cash_withdrawal', 'atm') AND t.booked_on >= $1) \
               AND NOT EXISTS (SELECT 1 FROM account_role r WHERE r.account_id = a.id) \
               ORDER BY a.id";
    let rows: Vec<(String, String, i64)> = match store {
        Store::Sqlite(p) => sqlx::query_as(sql).bind(since).fetch_all(p).await.unwrap(),
        Store::Postgres(p) => sqlx::query_as(sql).bind(since).fetch_all(p).await.unwrap(),
    };
    let mut seen = std::collections::HashSet::new();
    rows.into_iter()
        .filter(|r| seen.insert(r.2))
        .map(|(s, k, _)| (s, k))
        .collect()
}

fn withdrawal(source: &str, account: &str, on: NaiveDate, key: &str) -> String {
    serde_json::json!({
        "source": source,
        "account": account,
        "booked_on": on.to_string(),
        "amount": "-200.00",
        "category": "cash_withdrawal",
        "channel": "atm",
        "source_key": key,
    })
    .to_string()
}

async fn engine(store: &Store, as_of: NaiveDate) -> LiveEngine {
    LiveEngine::bootstrap(store, as_of, &RuleSet::builtin().unwrap())
        .await
        .unwrap()
}

fn rules_of(r: &FeedReport) -> Vec<String> {
    r.alerts
        .iter()
        .map(|a| a["rule"].as_str().unwrap_or("?").to_string())
        .collect()
}

async fn story(db: &TestDb) {
    let store = &db.store;
    generated_bank(db, 150, 16).await;
    let as_of = resolve_as_of(store, None).await.unwrap();
    let quiet = quiet_accounts(store, as_of).await;
    assert!(quiet.len() >= 3, "{} quiet accounts", quiet.len());
    let mut live = engine(store, as_of).await;
    let mut accounts = Accounts::new();
    let b = backend_name(db);

    // Control: ten distinct withdrawals in a day are a spike.
    let (src, acc) = &quiet[0];
    let body: String = (0..10)
        .map(|i| withdrawal(src, acc, as_of, &format!("SPIKE-{i}")) + "\n")
        .collect();
    let r = feed_body(store, &mut live, &mut accounts, "tester", body.as_bytes())
        .await
        .unwrap();
    assert_eq!((r.accepted, r.duplicates), (10, 0), "{b}: {r:?}");
    assert!(
        rules_of(&r).contains(&"cash_withdrawal_spike".to_string()),
        "{b}: ten distinct withdrawals must raise the spike, or this test proves nothing: {r:?}"
    );

    // The attack: one withdrawal posted ten times.
    let (src, acc) = &quiet[1];
    let line = withdrawal(src, acc, as_of, "DUP-ATM-1");
    let once = feed_body(store, &mut live, &mut accounts, "tester", line.as_bytes())
        .await
        .unwrap();
    assert_eq!(
        (once.lines, once.accepted, once.duplicates),
        (1, 1, 0),
        "{b}: {once:?}"
    );
    let again: String = std::iter::repeat_n(format!("{line}\n"), 9).collect();
    let r = feed_body(store, &mut live, &mut accounts, "tester", again.as_bytes())
        .await
        .unwrap();
    assert_eq!(
        (r.lines, r.accepted, r.duplicates, r.rejected.len()),
        (9, 0, 9, 0),
        "{b}: {r:?}"
    );
    assert!(
        r.alerts.is_empty(),
        "{b}: a duplicate raised {:?}",
        r.alerts
    );
    assert!(
        !rules_of(&once).contains(&"cash_withdrawal_spike".to_string()),
        "{b}: {once:?}"
    );
    let stored = scalar(
        store,
        "SELECT COUNT(*) FROM live_txn WHERE source_key = 'DUP-ATM-1'",
    )
    .await;
    assert_eq!(stored, 1, "{b}");

    // 3,000 lines posted twice: taken once.
    let (src, acc) = &quiet[2];
    let big: String = (0..3000)
        .map(|i| {
            let mut l = withdrawal(
                src,
                acc,
                as_of - Duration::days(i % 20),
                &format!("BULK-{i}"),
            );
            l = l
                .replace("cash_withdrawal", "shopping")
                .replace("\"atm\"", "\"pos\"");
            l + "\n"
        })
        .collect();
    let first = feed_body(store, &mut live, &mut accounts, "tester", big.as_bytes())
        .await
        .unwrap();
    assert_eq!(
        (
            first.lines,
            first.accepted,
            first.duplicates,
            first.rejected.len()
        ),
        (3000, 3000, 0, 0),
        "{b}: {:?}",
        first.rejected.first()
    );
    let second = feed_body(store, &mut live, &mut accounts, "tester", big.as_bytes())
        .await
        .unwrap();
    assert_eq!(
        (
            second.lines,
            second.accepted,
            second.duplicates,
            second.rejected.len()
        ),
        (3000, 0, 3000, 0),
        "{b}"
    );
    assert!(second.alerts.is_empty(), "{b}: {:?}", second.alerts);
    assert_eq!(
        scalar(store, "SELECT COUNT(*) FROM live_txn").await,
        10 + 1 + 3000,
        "{b}"
    );

    // A line that is not UTF-8 is rejected on its own, with its offset.
    let mut body = withdrawal(src, acc, as_of, "UTF-1").into_bytes();
    body.push(b'\n');
    let mut bad = withdrawal(src, acc, as_of, "UTF-2").into_bytes();
    bad.insert(12, 0xff);
    body.extend_from_slice(&bad);
    body.push(b'\n');
    body.extend_from_slice(withdrawal(src, acc, as_of, "UTF-3").as_bytes());
    let r = feed_body(store, &mut live, &mut accounts, "tester", &body)
        .await
        .unwrap();
    assert_eq!(
        (r.lines, r.accepted, r.rejected.len()),
        (3, 2, 1),
        "{b}: {r:?}"
    );
    assert_eq!(r.rejected[0]["line"], 2, "{b}: {r:?}");
    assert_eq!(r.rejected[0]["field"], "line", "{b}: {r:?}");
    let reason = r.rejected[0]["reason"].as_str().unwrap_or("");
    assert!(reason.contains("byte offset 12"), "{b}: {reason}");

    // A restarted engine replays what it was fed: the duplicate stays a
    // duplicate, and ten more postings of it raise nothing.
    let mut restarted = engine(store, as_of).await;
    let mut accounts = Accounts::new();
    let again: String = std::iter::repeat_n(format!("{line}\n"), 10).collect();
    let r = feed_body(
        store,
        &mut restarted,
        &mut accounts,
        "tester",
        again.as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!((r.accepted, r.duplicates), (0, 10), "{b}: {r:?}");
    assert!(r.alerts.is_empty(), "{b}: {:?}", r.alerts);
}

fn backend_name(db: &TestDb) -> &'static str {
    db.backend().name()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_posted_again_is_a_duplicate_the_live_rules_never_see() {
    for backend in Backend::available() {
        let Some(db) = TestDb::on(backend, "live_feed_dedup").await else {
            continue;
        };
        story(&db).await;
        db.drop().await;
    }
}
