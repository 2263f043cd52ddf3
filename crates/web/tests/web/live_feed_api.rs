//! `POST /api/v1/transactions` stores each transaction once per (source,
//! source_key) (issue 16): the same ATM withdrawal posted in ten requests is
//! taken once and raises no `cash_withdrawal_spike` (ten distinct ones do,
//! so the check can fail); a 3,000-line body posted twice is 3,000
//! duplicates the second time; a line that is not UTF-8 is rejected on its
//! own (field "line") while the rest of the body is taken.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::{Duration, NaiveDate};
use common::send;
use rapport_store::Store;
use serde_json::Value;

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

fn spikes(report: &Value) -> usize {
    report["alerts"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|x| x["rule"] == "cash_withdrawal_spike")
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posted_transactions_are_stored_once_and_a_bad_byte_rejects_only_its_line() {
    let b = common::bank(false, 300).await.unwrap();
    let token = rapport_web::auth::new_token();
    b.store
        .create_api_token(
            b.admin.id,
            "feed",
            &rapport_web::auth::token_hash(&token),
            chrono::Utc::now(),
            Some(b.admin.id),
        )
        .await
        .unwrap();
    let app = b.app();
    let post = |body: Vec<u8>| {
        Request::post("/api/v1/transactions")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/x-ndjson")
            .body(Body::from(body))
            .unwrap()
    };
    let as_of = rapport_services::scoring::resolve_as_of(&b.store, None)
        .await
        .unwrap();
    let quiet = quiet_accounts(&b.store, as_of).await;
    assert!(quiet.len() >= 3, "{} quiet accounts", quiet.len());

    // Control: ten distinct withdrawals are a spike.
    let (src, acc) = &quiet[0];
    let body: String = (0..10)
        .map(|i| withdrawal(src, acc, as_of, &format!("SPIKE-{i}")) + "\n")
        .collect();
    let (status, text) = send(&app, post(body.into_bytes())).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let r: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(r["accepted"], 10, "{r}");
    assert_eq!(
        spikes(&r),
        1,
        "ten distinct withdrawals must raise the spike: {r}"
    );

    // The attack: the same withdrawal in ten requests.
    let (src, acc) = &quiet[1];
    let line = withdrawal(src, acc, as_of, "DUP-ATM-1");
    let mut totals = (0, 0, 0);
    for _ in 0..10 {
        let (status, text) = send(&app, post(line.clone().into_bytes())).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let r: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(spikes(&r), 0, "a repeated posting raised a spike: {r}");
        totals.0 += r["accepted"].as_u64().unwrap();
        totals.1 += r["duplicates"].as_u64().unwrap();
        totals.2 += r["alerts"].as_array().map_or(0, Vec::len);
    }
    assert_eq!(totals, (1, 9, 0), "(accepted, duplicates, alerts)");
    let rows: i64 = match &b.store {
        Store::Sqlite(p) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM live_txn WHERE source_key = 'DUP-ATM-1'")
                .fetch_one(p)
                .await
                .unwrap()
        }
        Store::Postgres(p) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM live_txn WHERE source_key = 'DUP-ATM-1'")
                .fetch_one(p)
                .await
                .unwrap()
        }
    };
    assert_eq!(rows, 1);

    // 3,000 lines posted twice.
    let (src, acc) = &quiet[2];
    let big: String = (0..3000)
        .map(|i| {
            withdrawal(
                src,
                acc,
                as_of - Duration::days(i % 20),
                &format!("BULK-{i}"),
            )
            .replace("cash_withdrawal", "shopping")
            .replace("\"atm\"", "\"pos\"")
                + "\n"
        })
        .collect();
    let (status, text) = send(&app, post(big.clone().into_bytes())).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let first: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (&first["lines"], &first["accepted"], &first["duplicates"]),
        (&Value::from(3000), &Value::from(3000), &Value::from(0)),
        "{}",
        first["rejected"]
    );
    let (status, text) = send(&app, post(big.into_bytes())).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let second: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (&second["lines"], &second["accepted"], &second["duplicates"]),
        (&Value::from(3000), &Value::from(0), &Value::from(3000))
    );
    assert_eq!(second["alerts"].as_array().map(Vec::len), Some(0));

    // One bad byte rejects its line only.
    let mut body = withdrawal(src, acc, as_of, "UTF-1").into_bytes();
    body.push(b'\n');
    let mut bad = withdrawal(src, acc, as_of, "UTF-2").into_bytes();
    bad.insert(12, 0xff);
    body.extend_from_slice(&bad);
    body.extend_from_slice(b"\r\n");
    body.extend_from_slice(withdrawal(src, acc, as_of, "UTF-3").as_bytes());
    let (status, text) = send(&app, post(body)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let r: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (&r["lines"], &r["accepted"]),
        (&Value::from(3), &Value::from(2)),
        "{r}"
    );
    let rejected = r["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{r}");
    assert_eq!(rejected[0]["line"], 2, "{r}");
    assert_eq!(rejected[0]["field"], "line", "{r}");
    assert!(
        rejected[0]["reason"]
            .as_str()
            .is_some_and(|s| s.contains("byte offset 12")),
        "{r}"
    );
    b.cleanup().await;
}
