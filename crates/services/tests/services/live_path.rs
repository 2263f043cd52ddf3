//! The live path at speed (issue 19), on SQLite and (with `RAPPORT_TEST_PG`)
//! PostgreSQL: it raises exactly the alerts of the per-line path it
//! replaced on the same input, with counts that reconcile with the store
//! (lines = stored + duplicates + rejected, each rejected line with its
//! reason); a crash loses only the batch not committed and feeding
//! everything again stores each line once; two writers racing on the same
//! lines store them once; a writer held back stops the reader once the
//! bounded queue is full, and nothing is lost when it resumes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, NaiveDate};
use rapport_analytics::alerts::RuleSet;
use rapport_analytics::live::LiveEngine;
use rapport_services::live_feed::{
    feed_body, feed_body_path, FeedReport, LivePath, PathOptions, Taken,
};
use rapport_services::scoring::resolve_as_of;
use rapport_store::Store;
use rapport_testkit::{generated_bank, Backend, TestDb};
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

async fn accounts(store: &Store) -> Vec<(String, String)> {
    let mut a: Vec<(String, String)> = store
        .live_account_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| (k.source, k.source_key))
        .collect();
    a.sort();
    a
}

/// `n` lines over the first 12 accounts from `as_of`: bursts of cash
/// withdrawals (the spike rule), large transfers out (the outflow rule),
/// spending, plus a repeated line, an unknown account and a bad amount
/// every so often.
fn lines(accounts: &[(String, String)], as_of: NaiveDate, n: usize, prefix: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in 0..n {
        let (src, acc) = &accounts[i % 12.min(accounts.len())];
        let day = as_of + Duration::days((i / 40) as i64);
        let line = |acc: &str, amount: &str, cat: &str, ch: &str| {
            serde_json::json!({
                "source": src, "account": acc, "booked_on": day.to_string(), "amount": amount,
                "category": cat, "channel": ch, "source_key": format!("{prefix}-{i}"),
            })
            .to_string()
        };
        out.push(match i % 10 {
            0..=5 => line(acc, "-300.00", "cash_withdrawal", "atm"),
            6 => line(acc, "-60000.00", "transfer_out", "online"),
            7 => line(acc, "-42.50", "groceries", "pos"),
            8 if i % 30 == 8 => line("NO-SUCH-ACCOUNT", "-1.00", "groceries", "pos"),
            8 if i % 30 == 18 => line(acc, "-1.001", "groceries", "pos"),
            _ => match out.get(i.saturating_sub(3)) {
                Some(prev) if i % 20 == 9 => prev.clone(),
                _ => line(acc, "-12.00", "shopping", "online"),
            },
        });
    }
    out
}

fn body(lines: &[String]) -> Vec<u8> {
    lines
        .iter()
        .flat_map(|l| format!("{l}\n").into_bytes())
        .collect()
}

/// The alerts of a report without their ids, sorted: what must agree.
fn alert_set(r: &FeedReport) -> Vec<String> {
    let mut v: Vec<String> = r
        .alerts
        .iter()
        .map(|a| {
            let mut a = a.clone();
            if let Some(o) = a.as_object_mut() {
                o.remove("id");
            }
            a.to_string()
        })
        .collect();
    v.sort();
    v
}

fn small() -> PathOptions {
    PathOptions {
        batch_rows: 7,
        queue_lines: 16,
        writer_gate: None,
        linger: std::time::Duration::ZERO,
    }
}

async fn live_alerts(store: &Store) -> Vec<(i64, String, NaiveDate)> {
    let sql = "SELECT customer_id, rule, raised_on FROM alert WHERE origin = 'live' \
               ORDER BY customer_id, rule, raised_on";
    match store {
        Store::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
        Store::Postgres(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
    }
}

async fn bank(backend: Backend, name: &str) -> Option<TestDb> {
    let db = TestDb::on(backend, name).await?;
    generated_bank(&db, 60, 19).await;
    Some(db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_path_raises_the_per_line_paths_alerts_and_its_counts_reconcile() {
    for backend in Backend::available() {
        let (Some(old), Some(new)) = (
            bank(backend, "live_path_old").await,
            bank(backend, "live_path_new").await,
        ) else {
            continue;
        };
        let b = backend.name();
        let as_of = resolve_as_of(&old.store, None).await.unwrap();
        let acc = accounts(&old.store).await;
        assert_eq!(acc, accounts(&new.store).await, "{b}: the same bank twice");
        let input = body(&lines(&acc, as_of, 400, "EQ"));

        let mut engine = LiveEngine::bootstrap(&old.store, as_of, &RuleSet::builtin().unwrap())
            .await
            .unwrap();
        let mut cache = HashMap::new();
        let reference = feed_body(&old.store, &mut engine, &mut cache, "tester", &input)
            .await
            .unwrap();

        let (mut path, boot) = LivePath::start(&new.store, None, Some(as_of), small(), None)
            .await
            .unwrap();
        assert!(boot.accounts >= acc.len(), "{b}: {boot:?}");
        let r = feed_body_path(&mut path, "tester", &input).await.unwrap();
        let totals = path.finish().await.unwrap();

        assert!(
            reference.alerts.len() >= 2,
            "{b}: the input must raise alerts, or the comparison proves nothing: {reference:?}"
        );
        assert_eq!(alert_set(&r), alert_set(&reference), "{b}: the same alerts");
        assert_eq!(
            (r.lines, r.accepted, r.duplicates, r.rejected.len()),
            (
                reference.lines,
                reference.accepted,
                reference.duplicates,
                reference.rejected.len()
            ),
            "{b}"
        );
        assert!(r.duplicates > 0 && !r.rejected.is_empty(), "{b}: {r:?}");
        // Reconciled with the store: every accepted line stored once, every
        // alert raised stored, every rejected line reported with a reason.
        let c = totals.counts;
        assert_eq!(c.lines, c.accepted + c.duplicates + c.rejected, "{b}");
        assert_eq!(c.accepted, totals.writer.transactions_stored, "{b}");
        assert_eq!(
            new.store.live_txn_count().await.unwrap() as u64,
            c.accepted,
            "{b}"
        );
        assert_eq!(c.alerts, totals.writer.alerts_stored, "{b}");
        assert_eq!(
            new.store.live_alert_count().await.unwrap() as u64,
            c.alerts,
            "{b}"
        );
        assert_eq!(
            live_alerts(&new.store).await,
            live_alerts(&old.store).await,
            "{b}"
        );
        assert!(totals.writer.batches > 1, "{b}: batched: {totals:?}");
        // Every refused line is kept with its number, raw text and reason,
        // written by the same writer: lines = stored + duplicates + kept.
        assert_eq!(totals.writer.rejected_stored, c.rejected, "{b}");
        let kept = new.store.live_rejected_lines(1_000).await.unwrap();
        assert_eq!(kept.len() as u64, c.rejected, "{b}");
        assert_eq!(
            new.store.live_txn_count().await.unwrap() as u64 + c.duplicates + kept.len() as u64,
            c.lines,
            "{b}: the counts reconcile with the store"
        );
        let text: Vec<&str> = std::str::from_utf8(&input).unwrap().lines().collect();
        for (k, reported) in kept.iter().zip(&r.rejected) {
            assert_eq!(k.line, reported["line"].as_i64().unwrap(), "{b}");
            assert_eq!(k.field, reported["field"].as_str().unwrap(), "{b}");
            assert_eq!(k.reason, reported["reason"].as_str().unwrap(), "{b}");
            assert_eq!(
                k.raw,
                text[(k.line - 1) as usize],
                "{b}: the line as received"
            );
            assert_eq!(k.received_by, "tester", "{b}");
        }
        let reasons: Vec<(&str, &str)> = r
            .rejected
            .iter()
            .map(|x| (x["field"].as_str().unwrap(), x["reason"].as_str().unwrap()))
            .collect();
        assert!(
            reasons
                .iter()
                .any(|(f, why)| *f == "account" && why.contains("NO-SUCH-ACCOUNT")),
            "{b}: {reasons:?}"
        );
        assert!(
            reasons.iter().any(|(f, _)| *f == "amount"),
            "{b}: {reasons:?}"
        );
        old.drop().await;
        new.drop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_loses_only_the_unacknowledged_batch_and_a_replay_stores_each_line_once() {
    for backend in Backend::available() {
        let (Some(db), Some(reference)) = (
            bank(backend, "live_path_crash").await,
            bank(backend, "live_path_crash_ref").await,
        ) else {
            continue;
        };
        let b = backend.name();
        let store = &db.store;
        let as_of = resolve_as_of(store, None).await.unwrap();
        let all = lines(&accounts(store).await, as_of, 300, "CR");

        // 100 lines acknowledged (flushed) …
        let (mut a, _) = LivePath::start(store, None, Some(as_of), small(), None)
            .await
            .unwrap();
        feed_body_path(&mut a, "tester", &body(&all[..100]))
            .await
            .unwrap();
        drop(a);
        let acknowledged = store.live_txn_count().await.unwrap();
        assert!(acknowledged > 0, "{b}");
        // … then 100 more decided and queued, but the writer is held and
        // the process dies before it commits them.
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let (mut crashed, _) = LivePath::start(
            store,
            None,
            Some(as_of),
            PathOptions {
                writer_gate: Some(gate.clone()),
                queue_lines: 1_000,
                ..small()
            },
            None,
        )
        .await
        .unwrap();
        for l in &all[100..200] {
            crashed
                .take("tester", l.as_bytes(), Instant::now())
                .await
                .unwrap();
        }
        assert!(crashed.counts().accepted > 0, "{b}");
        drop(crashed);
        assert_eq!(
            store.live_txn_count().await.unwrap(),
            acknowledged,
            "{b}: lost, not half-stored"
        );

        // The restart replays everything: each line stored once.
        let (mut restarted, boot) = LivePath::start(store, None, Some(as_of), small(), None)
            .await
            .unwrap();
        assert_eq!(boot.stored_live as i64, acknowledged, "{b}");
        let r = feed_body_path(&mut restarted, "tester", &body(&all))
            .await
            .unwrap();
        restarted.finish().await.unwrap();

        // The same lines fed once, without a crash.
        let (mut once, _) = LivePath::start(&reference.store, None, Some(as_of), small(), None)
            .await
            .unwrap();
        let o = feed_body_path(&mut once, "tester", &body(&all))
            .await
            .unwrap();
        once.finish().await.unwrap();
        assert_eq!(
            store.live_txn_count().await.unwrap(),
            reference.store.live_txn_count().await.unwrap(),
            "{b}: stored exactly once"
        );
        assert_eq!(
            o.accepted as i64,
            store.live_txn_count().await.unwrap(),
            "{b}"
        );
        assert!(r.duplicates as i64 >= acknowledged, "{b}: {r:?}");
        assert!(
            !live_alerts(store).await.is_empty(),
            "{b}: the input raises alerts"
        );
        assert_eq!(
            live_alerts(store).await,
            live_alerts(&reference.store).await,
            "{b}: the alerts of one clean run, none twice, none lost"
        );
        db.drop().await;
        reference.drop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_writers_racing_on_the_same_lines_store_them_once() {
    for backend in Backend::available() {
        let Some(db) = bank(backend, "live_path_race").await else {
            continue;
        };
        let b = backend.name();
        let store = &db.store;
        let as_of = resolve_as_of(store, None).await.unwrap();
        let input = body(&lines(&accounts(store).await, as_of, 200, "RACE"));
        // Both bootstrap before either writes: neither knows the other's lines.
        let (mut x, _) = LivePath::start(store, None, Some(as_of), small(), None)
            .await
            .unwrap();
        let (mut y, _) = LivePath::start(store, None, Some(as_of), small(), None)
            .await
            .unwrap();
        let rx = feed_body_path(&mut x, "x", &input).await.unwrap();
        let ry = feed_body_path(&mut y, "y", &input).await.unwrap();
        let (tx, ty) = (x.finish().await.unwrap(), y.finish().await.unwrap());
        assert_eq!(rx.accepted, ry.accepted, "{b}");
        assert_eq!(
            store.live_txn_count().await.unwrap() as u64,
            rx.accepted,
            "{b}"
        );
        assert_eq!(ty.writer.transactions_stored, 0, "{b}: {ty:?}");
        assert_eq!(ty.writer.transactions_already_stored, ry.accepted, "{b}");
        assert!(
            ry.alerts.is_empty(),
            "{b}: an alert of a line not stored: {:?}",
            ry.alerts
        );
        assert!(tx.writer.alerts_stored > 0, "{b}");
        assert_eq!(
            store.live_alert_count().await.unwrap() as u64,
            tx.writer.alerts_stored,
            "{b}"
        );
        db.drop().await;
    }
}

/// Polls a future once, keeping it (a pending take is not dropped).
async fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(std::pin::Pin::new(&mut *f).poll(cx))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_that_falls_behind_holds_the_reader_back_and_loses_nothing() {
    for backend in Backend::available() {
        let Some(db) = bank(backend, "live_path_backpressure").await else {
            continue;
        };
        let b = backend.name();
        let store = &db.store;
        let as_of = resolve_as_of(store, None).await.unwrap();
        // Only lines that take the whole way (no rejects, no duplicates).
        let input: Vec<String> = lines(&accounts(store).await, as_of, 400, "BP")
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % 10 < 8)
            .map(|(_, l)| l)
            .collect();
        let (queue_lines, batch_rows) = (8, 4);
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let (mut path, _) = LivePath::start(
            store,
            None,
            Some(as_of),
            PathOptions {
                batch_rows,
                queue_lines,
                writer_gate: Some(gate.clone()),
                linger: std::time::Duration::ZERO,
            },
            None,
        )
        .await
        .unwrap();
        let mut through = 0usize;
        let mut waited = false;
        while through < input.len() {
            let mut take = Box::pin(path.take("tester", input[through].as_bytes(), Instant::now()));
            if let Poll::Ready(t) = poll_once(&mut take).await {
                assert!(matches!(t.unwrap(), Taken::Accepted { .. }), "{b}");
                through += 1;
                continue;
            }
            // The reader waits once the queue is full: at most the queue
            // and the batch in the writer's hands are in flight.
            assert!(
                (queue_lines..=queue_lines + batch_rows).contains(&through),
                "{b}: {through} lines went through"
            );
            assert_eq!(store.live_txn_count().await.unwrap(), 0, "{b}");
            // The writer resumes: the waiting line goes through, then the rest.
            gate.add_permits(1_000_000);
            assert!(matches!(take.await.unwrap(), Taken::Accepted { .. }), "{b}");
            waited = true;
            break;
        }
        assert!(waited, "{b}: the reader must wait while the writer is held");
        for l in &input[through + 1..] {
            path.take("tester", l.as_bytes(), Instant::now())
                .await
                .unwrap();
        }
        let totals = path.finish().await.unwrap();
        assert_eq!(totals.counts.accepted as usize, input.len(), "{b}");
        // The wait is counted as back-pressure.
        assert!(totals.counts.backpressure_waits >= 1, "{b}: {totals:?}");
        assert_eq!(
            store.live_txn_count().await.unwrap() as usize,
            input.len(),
            "{b}"
        );
        assert_eq!(
            store.live_alert_count().await.unwrap() as u64,
            totals.counts.alerts,
            "{b}"
        );
        db.drop().await;
    }
}

/// A refused line is kept as received, cut to its bound, bytes that are not
/// UTF-8 replaced; the body's other lines are taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_lines_are_kept_bounded_with_their_reason() {
    for backend in Backend::available() {
        let Some(db) = bank(backend, "live_path_refused").await else {
            continue;
        };
        let b = backend.name();
        let store = &db.store;
        let as_of = resolve_as_of(store, None).await.unwrap();
        let good = lines(&accounts(store).await, as_of, 1, "RF").remove(0);
        let mut input = Vec::new();
        let mut odd: Value = serde_json::from_str(&good).unwrap();
        odd["account"] = serde_json::json!([1, 2]);
        input.extend_from_slice(format!("{odd}\n").as_bytes());
        input.extend_from_slice(b"not \xff utf-8\n");
        input.extend_from_slice(format!("{good}\n\n").as_bytes());
        input.extend_from_slice(format!("{{\"pad\": \"{}\"}}\n", "x".repeat(5_000)).as_bytes());
        let (mut path, _) = LivePath::start(store, None, Some(as_of), small(), None)
            .await
            .unwrap();
        let r = feed_body_path(&mut path, "feeder", &input).await.unwrap();
        let totals = path.finish().await.unwrap();
        assert_eq!(
            (r.lines, r.accepted, r.rejected.len()),
            (4, 1, 3),
            "{b}: {r:?}"
        );
        assert_eq!(totals.writer.rejected_stored, 3, "{b}");
        let kept = store.live_rejected_lines(10).await.unwrap();
        let got: Vec<(i64, &str)> = kept.iter().map(|k| (k.line, k.field.as_str())).collect();
        assert_eq!(
            got,
            vec![(1, "account"), (2, "line"), (5, "booked_on")],
            "{b}"
        );
        assert_eq!(kept[1].raw, "not \u{FFFD} utf-8", "{b}");
        assert!(
            kept[2].raw.len() <= 2_000 && kept[2].raw.starts_with("{\"pad\""),
            "{b}"
        );
        assert_eq!(kept[0].reason, "expected a non-empty string", "{b}");
        assert!(kept
            .iter()
            .all(|k| !k.reason.is_empty() && k.received_by == "feeder"));
        db.drop().await;
    }
}

/// Not a test of speed: the stored alert lines carry the id the store gave.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_alerts_are_described_with_their_ids() {
    let Some(db) = bank(Backend::Sqlite, "live_path_ids").await else {
        return;
    };
    let store = &db.store;
    let as_of = resolve_as_of(store, None).await.unwrap();
    let input = body(&lines(&accounts(store).await, as_of, 100, "ID"));
    let (mut path, _) = LivePath::start(store, None, Some(as_of), small(), None)
        .await
        .unwrap();
    let r = feed_body_path(&mut path, "tester", &input).await.unwrap();
    path.finish().await.unwrap();
    assert!(!r.alerts.is_empty());
    assert!(r.alerts.len() >= 2, "several alerts in one batch: {r:?}");
    for a in &r.alerts {
        let id = a["id"].as_i64().unwrap();
        // The whole row: ids are read back from one multi-row insert per batch.
        let sql = "SELECT customer_id, rule, evidence FROM alert WHERE id = $1";
        let (customer, rule, evidence): (i64, String, String) = match store {
            Store::Sqlite(p) => sqlx::query_as(sql).bind(id).fetch_one(p).await.unwrap(),
            Store::Postgres(p) => sqlx::query_as(sql).bind(id).fetch_one(p).await.unwrap(),
        };
        assert_eq!(Value::String(rule), a["rule"]);
        assert_eq!(Value::from(customer), a["customer_id"]);
        assert_eq!(
            serde_json::from_str::<Value>(&evidence).unwrap(),
            a["evidence"]
        );
    }
    db.drop().await;
}

/// A batch of `n` live transactions on the bank's first accounts (keys
/// `prefix-i`), each third raising an alert.
async fn writer_batch(store: &Store, n: usize, prefix: &str) -> rapport_store::LiveBatch {
    let keys = store.live_account_keys().await.unwrap();
    let as_of = resolve_as_of(store, None).await.unwrap();
    let at = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05.123456Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let mut batch = rapport_store::LiveBatch::default();
    for i in 0..n {
        let k = &keys[i % keys.len()];
        batch.txns.push(rapport_store::LiveBatchTxn {
            source: k.source.clone(),
            source_key: format!("{prefix}-{i}"),
            account_id: k.account_id,
            customer_id: k.customer_id,
            booked_on: as_of + Duration::days((i % 3) as i64),
            amount: -(i as i64) * 100 - 1,
            balance_after: (i % 2 == 0).then_some(i as i64),
            category: "groceries".to_string(),
            channel: "pos".to_string(),
            received_by: "tester".to_string(),
            received_at: at,
        });
        if i % 3 == 0 {
            batch.alerts.push((
                i,
                rapport_store::NewAlert {
                    customer_id: k.customer_id,
                    rule: "cash_spike".to_string(),
                    severity: "high".to_string(),
                    raised_on: as_of,
                    origin: "live".to_string(),
                    message: format!("alert {i}"),
                    evidence: format!("{{\"i\":{i}}}"),
                    assignee_id: None,
                    queue: Some("central".to_string()),
                },
            ));
        }
    }
    batch
}

/// What the store holds of the live path's rows (ids aside).
async fn live_rows(store: &Store) -> (Vec<String>, Vec<String>, Vec<String>) {
    let txns = store
        .live_txns_not_imported()
        .await
        .unwrap()
        .into_iter()
        .map(|t| {
            format!(
                "{} {} {} {} {} {:?} {} {}",
                t.source,
                t.source_key,
                t.account_id,
                t.booked_on,
                t.amount,
                t.balance_after,
                t.category,
                t.channel
            )
        })
        .collect();
    let sql = "SELECT customer_id, rule, raised_on, message, evidence, queue FROM alert \
               WHERE origin = 'live' ORDER BY message";
    type Row = (i64, String, NaiveDate, String, String, Option<String>);
    let alerts: Vec<Row> = match store {
        Store::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
        Store::Postgres(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
    };
    let sql = "SELECT received_by, line, raw, field, reason FROM live_rejected_line ORDER BY line";
    type Kept = (String, i64, String, String, String);
    let kept: Vec<Kept> = match store {
        Store::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
        Store::Postgres(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
    };
    (
        txns,
        alerts.into_iter().map(|a| format!("{a:?}")).collect(),
        kept.into_iter().map(|k| format!("{k:?}")).collect(),
    )
}

/// The live path's writer (its own SQLite connection with one prepared
/// statement; the pool on PostgreSQL): each key stored once across a replay
/// and within a batch, an alert only with a transaction stored now, the
/// refused lines kept, the counts reconciling — and the rows read back by
/// the store exactly as the pool's batch write stores them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_writer_stores_each_key_once_across_a_replay_and_as_the_pool_does() {
    for backend in Backend::available() {
        let (Some(db), Some(pool)) = (
            bank(backend, "live_writer").await,
            bank(backend, "live_writer_pool").await,
        ) else {
            continue;
        };
        let b = backend.name();
        let store = &db.store;
        let mut writer = store.live_writer().unwrap();

        // A first batch of 50, with two refused lines.
        let mut first = writer_batch(store, 50, "W").await;
        for line in [3, 9] {
            first.rejected.push(rapport_store::LiveRejectedLine {
                received_at: first.txns[0].received_at,
                received_by: "tester".to_string(),
                line,
                raw: format!("line {line}"),
                field: "amount".to_string(),
                reason: "\"x\" is not a decimal amount".to_string(),
            });
        }
        let reference = writer_batch(store, 50, "W").await;
        let (back, s) = writer.write(first).await.unwrap();
        assert_eq!(back.txns.len(), 50, "{b}: the batch comes back");
        assert_eq!(s.stored, vec![true; 50], "{b}");
        assert_eq!(s.alert_ids.iter().flatten().count(), 17, "{b}");
        // The pool's write of the same batch stores the same rows.
        let mut same = writer_batch(&pool.store, 50, "W").await;
        same.rejected = vec![];
        pool.store
            .store_live_batch(&same.txns, &same.alerts, &[])
            .await
            .unwrap();
        let (mine, theirs) = (live_rows(store).await, live_rows(&pool.store).await);
        assert_eq!((&mine.0, &mine.1), (&theirs.0, &theirs.1), "{b}");
        assert_eq!(mine.2.len(), 2, "{b}: the refused lines kept");
        assert_eq!(mine.0.len(), 50, "{b}");
        // The ids handed back are the stored alerts' ids.
        for (id, (i, a)) in s.alert_ids.iter().zip(&reference.alerts) {
            let sql = "SELECT message FROM alert WHERE id = $1";
            let id = id.unwrap();
            let message: String = match store {
                Store::Sqlite(p) => sqlx::query_scalar(sql).bind(id).fetch_one(p).await.unwrap(),
                Store::Postgres(p) => sqlx::query_scalar(sql).bind(id).fetch_one(p).await.unwrap(),
            };
            assert_eq!(message, a.message, "{b}: alert of line {i}");
        }

        // A replay of the whole batch, plus 10 new keys and one new key twice.
        let mut replay = writer_batch(store, 60, "W").await;
        let again = replay.txns[55].clone();
        replay.txns.push(again);
        let (_, r) = writer.write(replay).await.unwrap();
        let mut expected = vec![false; 50];
        expected.extend(vec![true; 10]);
        expected.push(false);
        assert_eq!(r.stored, expected, "{b}: stored once, within a batch too");
        // Alerts of lines 0, 3, … 48 belong to keys stored before: not stored again.
        let new_alerts: Vec<bool> = r.alert_ids.iter().map(Option::is_some).collect();
        assert_eq!(
            new_alerts,
            (0..60).step_by(3).map(|i| i >= 50).collect::<Vec<bool>>(),
            "{b}"
        );
        // Counts reconcile with the store.
        assert_eq!(store.live_txn_count().await.unwrap(), 60, "{b}");
        assert_eq!(store.live_alert_count().await.unwrap(), 17 + 3, "{b}");
        assert_eq!(store.live_rejected_count().await.unwrap(), 2, "{b}");
        // The stored keys are the path's duplicates from the start.
        assert_eq!(store.live_txn_keys().await.unwrap().len(), 60, "{b}");
        db.drop().await;
        pool.drop().await;
    }
}
