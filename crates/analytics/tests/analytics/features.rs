//! The feature engine against a small hand-built bank (hand-computed values,
//! every edge of the core definitions) on SQLite always and on PostgreSQL
//! when `RAPPORT_TEST_PG` names a server URL; and against an independent SQL
//! computation of the core features on a generated bank.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Datelike, NaiveDate};
use rapport_analytics::{compute_features, FeatureEngine, FeatureTable, FEATURES};
use rapport_ingest::synth::{generate, GenConfig};
use rapport_ingest::{import_dir, ImportOptions};
use rapport_store::Store;
use rapport_testkit::TestDb;
use sqlx::Row;
use std::path::Path;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

async fn import(store: &Store, dir: &Path, source: &str) {
    let report = import_dir(store, dir, source, &ImportOptions::default())
        .await
        .unwrap();
    assert!(report.reconciles(), "{report:?}");
}

#[tokio::test]
async fn compute_features_can_run_on_a_spawned_task() {
    fn assert_send<T: Send>(_: &T) {}
    let store = Store::Sqlite(sqlx::SqlitePool::connect_lazy("sqlite::memory:").unwrap());
    let future = compute_features(&store, d(2024, 1, 1));
    assert_send(&future);
    drop(future);
    store.close().await;
}

// ----- the hand-built bank ------------------------------------------------------
//
// D = 2024-07-15: the 30-day window is [2024-06-15, 2024-07-15), the 90-day
// window [2024-04-16, 2024-07-15); the six whole months are January–June 2024.
//
// C1 owns A1 (current), A2 (savings), A4 (term deposit closed 2024-07-01,
// before D), A5 (savings closed on D itself: still open), A6 (credit card),
// A7 (loan). C3 owns A1 too through an OWNER role, and is only a disponent
// of A2. C2 owns A3 (no transactions). C4 has no account. C5's only
// transaction has no balance_after.

const D: (i32, u32, u32) = (2024, 7, 15);

fn write(dir: &Path, name: &str, body: &str) {
    std::fs::write(dir.join(name), body).unwrap();
}

fn hand_built_bank(dir: &Path) {
    write(
        dir,
        "customers.csv",
        "source_key,name,gender,birth_date\n\
         C1,Wang Wei,m,1990-07-15\n\
         C2,Li Na,f,1990-07-16\n\
         C3,Zhang San,m,\n\
         C4,Zhao Si,f,2024-07-15\n\
         C5,Qian Wu,m,1960-01-01\n",
    );
    write(
        dir,
        "accounts.csv",
        "source_key,customer_key,type,opened_on,closed_on,balance,credit_limit\n\
         A1,C1,current,2020-01-10,,999.99,\n\
         A2,C1,savings,2021-03-01,,888.00,\n\
         A3,C2,current,2019-05-20,,500.00,\n\
         A4,C1,term_deposit,2022-01-01,2024-07-01,5000.00,\n\
         A5,C1,savings,2023-01-01,2024-07-15,300.00,\n\
         A6,C1,credit_card,2022-01-01,,,10000.00\n\
         A7,C1,loan,2023-01-01,,,\n\
         A8,C5,current,2024-08-01,,80.00,\n",
    );
    write(
        dir,
        "account_roles.csv",
        "source_key,account_key,customer_key,role\n\
         R1,A1,C1,owner\n\
         R2,A1,C3,owner\n\
         R3,A2,C3,disponent\n",
    );
    write(
        dir,
        "transactions.csv",
        "source_key,account_key,booked_on,amount,balance_after,channel,category\n\
         T1,A1,2024-06-15,-100.00,1000.00,mobile,groceries\n\
         T2,A1,2024-06-14,5000.00,6000.00,batch,salary\n\
         T3,A1,2024-04-16,-250.00,750.00,atm,cash_withdrawal\n\
         T4,A1,2024-04-15,-9999.00,1000.00,branch,shopping\n\
         T5,A1,2024-07-14,-50.00,4321.00,online,dining\n\
         T6,A1,2024-07-15,777.00,99999.00,branch,other\n\
         T7,A1,2024-01-31,5000.00,11000.00,batch,salary\n\
         T8a,A1,2024-03-05,2500.00,13500.00,batch,salary\n\
         T8b,A1,2024-03-20,2500.00,16000.00,batch,salary\n\
         T9,A1,2024-07-01,5000.00,4371.00,batch,salary\n\
         T10,A1,2023-12-31,5000.00,6000.00,batch,salary\n\
         S-b,A2,2024-07-10,10.00,700.00,wechat,transfer_in\n\
         S-a,A2,2024-07-10,-5.00,650.00,branch,fee\n\
         S-c,A2,2024-07-15,1.00,1.00,branch,interest\n\
         X1,A4,2024-05-01,20.00,5020.00,batch,interest\n\
         K1,A6,2024-07-01,-300.00,-300.00,pos,card_purchase\n\
         Q1,A8,2024-07-01,-1.00,,branch,fee\n",
    );
    write(
        dir,
        "loans.csv",
        "source_key,account_key,granted_on,amount,duration_months,monthly_payment,status,days_past_due\n\
         L1,A7,2023-01-01,30000.00,36,1000.00,running_ok,0\n\
         L2,A7,2020-01-01,6000.00,12,500.00,finished_ok,15\n\
         L3,A7,2024-08-01,6000.00,12,500.00,running_arrears,60\n",
    );
    write(
        dir,
        "cards.csv",
        "source_key,account_key,customer_key,type,issued_on,credit_limit\n\
         K-1,A6,C1,gold,2022-01-01,8000.00\n\
         K-2,A6,C1,classic,2024-08-01,\n",
    );
    write(
        dir,
        "card_statements.csv",
        "source_key,account_key,statement_month,bill_amount,paid_amount,repayment_status,days_past_due\n\
         B1,A6,2024-05-01,2000.00,2000.00,0,0\n\
         B2,A6,2024-06-01,2500.00,0.00,1,30\n\
         B3,A6,2024-07-01,3000.00,0.00,0,0\n\
         B4,A6,2023-06-01,100.00,0.00,3,90\n\
         B5,A6,2024-08-01,9999.00,0.00,4,120\n",
    );
    write(
        dir,
        "cases.csv",
        "source_key,customer_key,opened_on,kind,severity,status\n\
         K1,C1,2024-04-16,complaint,high,open\n\
         K2,C1,2024-04-15,complaint,high,closed\n\
         K3,C1,2024-07-01,inquiry,low,open\n\
         K4,C1,2024-07-15,complaint,low,open\n",
    );
    write(
        dir,
        "interactions.csv",
        "source_key,customer_key,occurred_on,channel,kind\n\
         I1,C1,2024-07-14,phone,call\n\
         I2,C1,2024-04-15,branch,visit\n",
    );
    write(
        dir,
        "survey_responses.csv",
        "source_key,customer_key,survey,kind,answered_on,question,score\n\
         N1,C1,nps-2024,nps,2024-05-01,recommend,9\n\
         N2,C1,nps-2024,nps,2024-07-14,recommend,3\n\
         N3,C1,nps-2024,nps,2024-07-14,recommend,6\n\
         N4,C1,nps-2024,nps,2024-07-15,recommend,0\n\
         N5,C2,csat-2024,csat,2024-05-01,satisfied,5\n",
    );
}

fn get(t: &FeatureTable, key: &str, name: &str) -> Option<f64> {
    let row = t
        .row_of_key(key)
        .unwrap_or_else(|| panic!("no customer {key}"));
    assert!(t.column(name).is_some(), "no feature {name}");
    t.value(row, name)
}

fn assert_close(t: &FeatureTable, key: &str, name: &str, want: Option<f64>) {
    let got = get(t, key, name);
    let ok = match (got, want) {
        (Some(g), Some(w)) => (g - w).abs() <= 1e-9 * w.abs().max(1.0),
        (None, None) => true,
        _ => false,
    };
    assert!(ok, "{key} {name}: got {got:?}, want {want:?}");
}

async fn hand_built_story(url: &str) {
    let store = Store::connect(url).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    hand_built_bank(dir.path());
    import(&store, dir.path(), "core").await;
    let as_of = d(D.0, D.1, D.2);

    // Tiny chunks, so that every aggregation is merged across chunks.
    let t = FeatureEngine::new(&store)
        .with_chunk_rows(3)
        .compute(as_of)
        .await
        .unwrap();
    assert_eq!(t.customer_keys, ["C1", "C2", "C3", "C4", "C5"]);
    assert_eq!(
        t.columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        FEATURES.iter().map(|f| f.name).collect::<Vec<_>>()
    );
    // The default chunk size gives the same table.
    assert_eq!(compute_features(&store, as_of).await.unwrap(), t);

    // Back-dated to 2023-06-01, before any statement: only loans L1 (0) and L2 (15)
    // are known. Loan arrears are a point-in-time column of the extract, so with
    // an extract date after the as-of date they are not seen.
    let back = d(2023, 6, 1);
    let current = compute_features(&store, back).await.unwrap();
    assert_close(&current, "C1", "max_days_past_due", Some(15.0));
    let backdated = FeatureEngine::new(&store)
        .with_extract_date(Some(d(2024, 8, 1)))
        .compute(back)
        .await
        .unwrap();
    assert_close(&backdated, "C1", "max_days_past_due", None);
    let on_extract = FeatureEngine::new(&store)
        .with_extract_date(Some(back))
        .compute(back)
        .await
        .unwrap();
    assert_close(&on_extract, "C1", "max_days_past_due", Some(15.0));

    let core: &[(&str, [Option<f64>; 8])] = &[
        // txn_count_30, txn_count_90, inflow_90, outflow_90, max_outflow_90,
        // days_since_last_txn, balance_now, salary_months_6
        //
        // C1: 30 days: T1 (on D-30), T5, T9, S-b, S-a, K1; 90 days adds T2, T3
        // (on D-90), X1 (closed account); T4 (D-91) and T6, S-c (on D) are out.
        // Balance: A1 T5 4321 + A2 S-b 700 (larger key on the tie) + A5 300
        // (closed on D, no transactions); A4 closed before D, A6 not a deposit.
        // Salary: January, March (twice), June; not December or July.
        (
            "C1",
            [
                Some(6.0),
                Some(9.0),
                Some(10_030.0),
                Some(705.0),
                Some(300.0),
                Some(1.0),
                Some(5_321.0),
                Some(3.0),
            ],
        ),
        // C2: no transactions: balance from A3's balance column.
        (
            "C2",
            [
                Some(0.0),
                Some(0.0),
                Some(0.0),
                Some(0.0),
                Some(0.0),
                None,
                Some(500.0),
                Some(0.0),
            ],
        ),
        // C3: A1 through the OWNER role only (a disponent of A2 gets nothing).
        (
            "C3",
            [
                Some(3.0),
                Some(5.0),
                Some(10_000.0),
                Some(400.0),
                Some(250.0),
                Some(1.0),
                Some(4_321.0),
                Some(3.0),
            ],
        ),
        // C4: no account at all.
        (
            "C4",
            [
                Some(0.0),
                Some(0.0),
                Some(0.0),
                Some(0.0),
                Some(0.0),
                None,
                None,
                Some(0.0),
            ],
        ),
        // C5: the latest transaction has no balance_after: the balance column.
        (
            "C5",
            [
                Some(1.0),
                Some(1.0),
                Some(0.0),
                Some(1.0),
                Some(1.0),
                Some(14.0),
                Some(80.0),
                Some(0.0),
            ],
        ),
    ];
    let names = [
        "txn_count_30",
        "txn_count_90",
        "inflow_90",
        "outflow_90",
        "max_outflow_90",
        "days_since_last_txn",
        "balance_now",
        "salary_months_6",
    ];
    for (key, values) in core {
        for (name, want) in names.iter().zip(values) {
            assert_close(&t, key, name, *want);
        }
    }

    // Richer features of C1. Monthly inflow January–June: 5000, 0, 5000, 0, 20, 5000.
    let income = 15_020.0 / 6.0;
    let mean = income;
    let months = [5000.0, 0.0, 5000.0, 0.0, 20.0, 5000.0];
    let sd = (months.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 6.0).sqrt();
    let rich: &[(&str, Option<f64>)] = &[
        ("avg_monthly_inflow_6m", Some(income)),
        ("liquidity_months", Some(5_321.0 / (705.0 / 3.0))),
        ("inflow_cv_6m", Some(sd / mean)),
        ("inflow_trend_3m", Some(5_020.0 / 10_000.0)),
        // L1 is active at D; L2 ended in 2021; L3 is granted after D.
        ("debt_service_ratio", Some(1_000.0 / income)),
        // The July statement (month before D) over A6's own limit.
        ("credit_utilisation", Some(3_000.0 / 10_000.0)),
        // June's statement (30) beats L2 (15); B4 is older than a year, B5 and L3 after D.
        ("max_days_past_due", Some(30.0)),
        // current, savings, credit_card, loan + card K-1 + loan L1.
        ("product_depth", Some(6.0)),
        // From A1 opened 2020-01-10.
        ("tenure_months", Some(54.0)),
        // Born on D's day of the year.
        ("age_years", Some(34.0)),
        // T1 mobile, T5 online, S-b wechat of 9.
        ("digital_share_90", Some(3.0 / 9.0)),
        ("cash_withdrawals_30", Some(0.0)),
        ("cash_withdrawals_90", Some(1.0)),
        ("cash_withdrawal_trend", Some(0.0)),
        // K1 on D-90; K2 before the window, K3 an inquiry, K4 on D.
        ("complaints_90", Some(1.0)),
        ("interactions_90", Some(1.0)),
        // N2 and N3 on the same day: the larger key N3; N4 is on D.
        ("last_nps", Some(6.0)),
        // T5 (-50, online) is the only transaction on D-1.
        ("txn_count_1", Some(1.0)),
        ("outflow_1", Some(50.0)),
        ("max_outflow_1", Some(50.0)),
        // T9, the salary of 2024-07-01.
        ("days_since_salary", Some(14.0)),
        // As of D-30 = 2024-06-15: A1 after T2 (6000; T1 is on D-30 itself), A2 had no
        // transaction before but has some since (0), A4 after X1 (5020; closed after D-30),
        // A5 with no transaction at all (its balance column, 300).
        ("balance_30_ago", Some(11_320.0)),
        // No holdings: the deposits.
        ("aum", Some(5_321.0)),
    ];
    for (name, want) in rich {
        assert_close(&t, "C1", name, *want);
    }
    assert_close(&t, "C2", "inflow_cv_6m", None);
    // Missing-value rules on the others.
    assert_close(&t, "C2", "age_years", Some(33.0));
    assert_close(&t, "C2", "liquidity_months", None);
    assert_close(&t, "C2", "digital_share_90", None);
    assert_close(&t, "C2", "last_nps", None);
    assert_close(&t, "C2", "product_depth", Some(1.0));
    assert_close(&t, "C3", "age_years", None);
    assert_close(&t, "C4", "age_years", None);
    assert_close(&t, "C4", "tenure_months", None);
    assert_close(&t, "C4", "max_days_past_due", None);
    assert_close(&t, "C4", "debt_service_ratio", None);
    // A8 opens after D: no tenure and no product, though its balance counts.
    assert_close(&t, "C5", "tenure_months", None);
    assert_close(&t, "C5", "product_depth", Some(0.0));

    // The CSV: header, one row per customer, empty cells for missing.
    let mut out = Vec::new();
    assert_eq!(t.write_csv(&mut out).unwrap(), 5);
    let text = String::from_utf8(out).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with(
        "customer_key,txn_count_30,txn_count_90,inflow_90,outflow_90,max_outflow_90,days_since_last_txn,balance_now,salary_months_6,"
    ));
    assert!(text.contains("\nC4,0,0,0,0,0,,,0,"), "{text}");
    assert!(text.contains("\nC1,6,9,10030,705,300,1,5321,3,"), "{text}");
    store.close().await;
}

#[tokio::test]
async fn hand_built_features_on_sqlite() {
    let db = TestDb::sqlite().await;
    hand_built_story(&db.url).await;
    db.drop().await;
}

#[tokio::test]
async fn hand_built_features_on_in_memory_sqlite() {
    // One connection only: the packed block reads queue for it.
    hand_built_story("sqlite::memory:").await;
}

#[tokio::test]
async fn hand_built_features_on_postgres() {
    let Some(db) = TestDb::postgres("features").await else {
        return;
    };
    hand_built_story(&db.url).await;
    db.drop().await;
}

// ----- agreement with SQL on a generated bank ---------------------------------------

/// The core features computed by one SQL query in SQLite, independently of
/// the engine: (customer id, [8 values]) in customer id order.
async fn core_features_by_sql(store: &Store, as_of: NaiveDate) -> Vec<(i64, [Option<f64>; 8])> {
    let Store::Sqlite(pool) = store else {
        panic!("the SQL check runs on SQLite");
    };
    let day = |x: NaiveDate| format!("'{}'", x.format("%Y-%m-%d"));
    let this_month = as_of.with_day0(0).unwrap();
    let m6 = this_month - chrono::Months::new(6);
    let sql = format!(
        "WITH own AS (
             SELECT id AS account_id, customer_id FROM account
             UNION
             SELECT account_id, customer_id FROM account_role WHERE role = 'owner'
         ),
         t AS (
             SELECT o.customer_id AS cid, x.booked_on, x.amount, x.category
             FROM txn x JOIN own o ON o.account_id = x.account_id
             WHERE x.booked_on < {d}
         ),
         agg AS (
             SELECT cid,
                 SUM(booked_on >= {d30}) AS n30,
                 SUM(booked_on >= {d90}) AS n90,
                 SUM(CASE WHEN booked_on >= {d90} AND amount > 0 THEN amount ELSE 0 END) AS inflow,
                 SUM(CASE WHEN booked_on >= {d90} AND amount < 0 THEN -amount ELSE 0 END) AS outflow,
                 MAX(CASE WHEN booked_on >= {d90} AND amount < 0 THEN -amount ELSE 0 END) AS max_out,
                 CAST(julianday({d}) - julianday(MAX(booked_on)) AS INTEGER) AS days_since,
                 COUNT(DISTINCT CASE WHEN category = 'salary' AND booked_on >= {m6}
                                      AND booked_on < {m0} THEN substr(booked_on, 1, 7) END) AS salary
             FROM t GROUP BY cid
         ),
         latest AS (
             SELECT account_id, balance_after FROM (
                 SELECT account_id, balance_after,
                        ROW_NUMBER() OVER (PARTITION BY account_id
                                           ORDER BY booked_on DESC, source_key DESC) AS rn
                 FROM txn WHERE booked_on < {d})
             WHERE rn = 1
         ),
         bal AS (
             SELECT o.customer_id AS cid, SUM(COALESCE(l.balance_after, a.balance)) AS balance
             FROM account a
             JOIN own o ON o.account_id = a.id
             LEFT JOIN latest l ON l.account_id = a.id
             WHERE a.account_type IN ('current', 'savings', 'term_deposit')
               AND (a.closed_on IS NULL OR a.closed_on >= {d})
             GROUP BY o.customer_id
         )
         SELECT c.id, COALESCE(agg.n30, 0), COALESCE(agg.n90, 0), COALESCE(agg.inflow, 0),
                COALESCE(agg.outflow, 0), COALESCE(agg.max_out, 0), agg.days_since,
                COALESCE(agg.salary, 0), bal.balance
         FROM customer c
         LEFT JOIN agg ON agg.cid = c.id
         LEFT JOIN bal ON bal.cid = c.id
         ORDER BY c.id",
        d = day(as_of),
        d30 = day(as_of - chrono::Days::new(30)),
        d90 = day(as_of - chrono::Days::new(90)),
        m6 = day(m6),
        m0 = day(this_month),
    );
    let rows = sqlx::query(&sql).fetch_all(pool).await.unwrap();
    rows.iter()
        .map(|r| {
            let int = |i: usize| r.get::<Option<i64>, _>(i).map(|v| v as f64);
            let money = |i: usize| r.get::<Option<i64>, _>(i).map(|v| v as f64 / 100.0);
            (
                r.get::<i64, _>(0),
                [
                    int(1),
                    int(2),
                    money(3),
                    money(4),
                    money(5),
                    int(6),
                    money(8),
                    int(7),
                ],
            )
        })
        .collect()
}

#[tokio::test]
async fn core_features_agree_with_sql_on_a_generated_bank() {
    let db = TestDb::sqlite().await;
    let bank = db.path("bank");
    std::fs::create_dir_all(&bank).unwrap();
    let cfg = GenConfig {
        customers: 300,
        ..GenConfig::default()
    };
    generate(&cfg, &bank, &|_| {}).unwrap();
    let store = db.store.clone();
    import(&store, &bank, "synth").await;

    let names = [
        "txn_count_30",
        "txn_count_90",
        "inflow_90",
        "outflow_90",
        "max_outflow_90",
        "days_since_last_txn",
        "balance_now",
        "salary_months_6",
    ];
    // The same bank in PostgreSQL, when a server is given: the engine must
    // produce the same table there.
    let pg = match TestDb::postgres("features_bank").await {
        Some(pg_db) => {
            let pg_store = pg_db.store.clone();
            import(&pg_store, &bank, "synth").await;
            Some((pg_db, pg_store))
        }
        None => None,
    };

    // Mid-history, a month boundary, and the day after the history ends.
    for as_of in [d(2024, 7, 15), d(2024, 3, 1), cfg.end] {
        let table = FeatureEngine::new(&store)
            .with_chunk_rows(10_000)
            .compute(as_of)
            .await
            .unwrap();
        if let Some((_, pg_store)) = &pg {
            let on_pg = compute_features(pg_store, as_of).await.unwrap();
            assert_eq!(on_pg.customer_keys, table.customer_keys);
            assert_eq!(
                on_pg.columns, table.columns,
                "as of {as_of}: PostgreSQL differs"
            );
        }
        let expected = core_features_by_sql(&store, as_of).await;
        assert_eq!(table.len(), expected.len());
        assert!(table.len() >= 300);
        let mut nonzero = [0usize; 8];
        for (row, (id, want)) in expected.iter().enumerate() {
            assert_eq!(table.customer_ids[row], *id);
            for (k, name) in names.iter().enumerate() {
                let got = table.value(row, name);
                let ok = match (got, want[k]) {
                    (Some(g), Some(w)) => {
                        if k == 2 || k == 3 || k == 4 || k == 6 {
                            (g - w).abs() <= 1e-6 * w.abs().max(1e-9)
                        } else {
                            g == w
                        }
                    }
                    (None, None) => true,
                    _ => false,
                };
                assert!(
                    ok,
                    "as of {as_of}, customer {id}, {name}: engine {got:?}, SQL {:?}",
                    want[k]
                );
                if got.is_some_and(|v| v != 0.0) {
                    nonzero[k] += 1;
                }
            }
        }
        // The comparison is not vacuous: every feature is non-zero for many customers
        // (except after the history ends, where recent windows are empty).
        if as_of < cfg.end {
            for (k, name) in names.iter().enumerate() {
                assert!(
                    nonzero[k] > 50,
                    "as of {as_of}: {name} non-zero for only {} customers",
                    nonzero[k]
                );
            }
        }
    }
    store.close().await;
    db.drop().await;
    if let Some((pg_db, pg_store)) = pg {
        pg_store.close().await;
        pg_db.drop().await;
    }
}
