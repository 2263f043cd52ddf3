//! Streaming column scans (`Store::scan_*`): the same story on SQLite always
//! and on PostgreSQL when `RAPPORT_TEST_PG` names a server URL (a fresh
//! database per test, dropped afterwards).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use rapport_domain::identity::MergeRule;
use rapport_domain::*;
use rapport_store::*;
use rapport_testkit::TestDb;

#[tokio::test]
async fn scans_on_sqlite() {
    let db = TestDb::sqlite().await;
    story(&db.url).await;
    db.drop().await;
}

#[tokio::test]
async fn scans_on_postgres() {
    let Some(db) = TestDb::postgres("scan").await else {
        return;
    };
    story(&db.url).await;
    db.drop().await;
}

// ----- records ----------------------------------------------------------------------

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn customer(source: &str, key: &str, birth: Option<NaiveDate>) -> CustomerRecord {
    CustomerRecord {
        source: source.into(),
        source_key: key.into(),
        name: Some(format!("Customer {key}")),
        gender: birth.map(|_| Gender::Female),
        birth_date: birth,
        id_number: None,
        phone: None,
        email: None,
        city: None,
        occupation: None,
        annual_income: birth.map(|_| Money::from_major(120_000)),
        risk_tolerance: None,
        risk_assessed_on: None,
        branch: None,
        attributes: None,
        flags: vec![],
    }
}

fn account(
    key: &str,
    customer_key: &str,
    kind: AccountType,
    closed: Option<NaiveDate>,
) -> AccountRecord {
    AccountRecord {
        source: "core".into(),
        source_key: key.into(),
        customer_key: customer_key.into(),
        account_type: kind,
        opened_on: Some(d(2020, 1, 1)),
        closed_on: closed,
        currency: "CNY".into(),
        balance: Some(Money::from_minor(1_000)),
        credit_limit: None,
        branch: None,
        attributes: None,
    }
}

fn txn(
    key: &str,
    account_key: &str,
    booked_on: NaiveDate,
    amount: i64,
    balance_after: Option<i64>,
    category: TxnCategory,
) -> TransactionRecord {
    TransactionRecord {
        source: "core".into(),
        source_key: key.into(),
        account_key: account_key.into(),
        booked_on,
        amount: Money::from_minor(amount),
        balance_after: balance_after.map(Money::from_minor),
        channel: Channel::Mobile,
        category,
        counterparty: None,
    }
}

async fn session(store: &Store, kind: &str, source: &str) -> ImportSession {
    let file = ImportFile {
        kind: kind.into(),
        source: source.into(),
        path: format!("{kind}.csv"),
        sha256: format!("sha-{kind}-{source}"),
    };
    match store.begin_import(&file).await.unwrap() {
        ImportStart::Started(s) => s,
        ImportStart::AlreadyImported(_) => panic!("already imported"),
    }
}

async fn commit(s: ImportSession, kind: &str, rows: u64) {
    s.commit(&FileSummary {
        file: format!("{kind}.csv"),
        kind: kind.into(),
        read: rows,
        loaded: rows,
        merged: 0,
        rejected: 0,
    })
    .await
    .unwrap();
}

fn all_loaded(outcomes: &[RowOutcome]) {
    assert!(
        outcomes.iter().all(|o| *o == RowOutcome::Loaded),
        "{outcomes:?}"
    );
}

// ----- the story ----------------------------------------------------------------------

async fn story(url: &str) {
    let store = Store::connect(url).await.unwrap();

    // Customers: C1 later also known to the CRM as X9 (its first key stays core/C1).
    let mut s = session(&store, "customers", "core").await;
    let c1 = s
        .insert_customer(&customer("core", "C1", Some(d(1985, 7, 9))))
        .await
        .unwrap();
    let c2 = s
        .insert_customer(&customer("core", "C2", None))
        .await
        .unwrap();
    commit(s, "customers", 2).await;
    let mut s = session(&store, "customers", "crm").await;
    s.merge_customer(
        c1,
        &customer("crm", "X9", None),
        MergeRule::SameIdNumber,
        "test",
    )
    .await
    .unwrap();
    commit(s, "customers", 1).await;

    let mut s = session(&store, "accounts", "core").await;
    all_loaded(
        &s.load_accounts(&[
            account("A1", "C1", AccountType::Current, None),
            account("A2", "C2", AccountType::Savings, Some(d(2024, 2, 1))),
        ])
        .await
        .unwrap(),
    );
    all_loaded(
        &s.load_account_roles(&[AccountRoleRecord {
            source: "core".into(),
            source_key: "R1".into(),
            account_key: "A1".into(),
            customer_key: "C2".into(),
            role: AccountRole::Owner,
        }])
        .await
        .unwrap(),
    );
    commit(s, "accounts", 3).await;

    // Five transactions over three days and both accounts.
    let mut s = session(&store, "transactions", "core").await;
    all_loaded(
        &s.load_transactions(&[
            txn(
                "T1",
                "A1",
                d(2024, 1, 1),
                50_000,
                Some(150_000),
                TxnCategory::Salary,
            ),
            txn(
                "T2",
                "A1",
                d(2024, 1, 2),
                -2_000,
                None,
                TxnCategory::Groceries,
            ),
            txn("T3", "A2", d(2024, 1, 2), -1, Some(999), TxnCategory::Fee),
            txn(
                "T4",
                "A1",
                d(2024, 1, 3),
                7,
                Some(148_007),
                TxnCategory::Interest,
            ),
            txn(
                "T5",
                "A2",
                d(2024, 1, 3),
                -3_000,
                Some(-2_001),
                TxnCategory::Groceries,
            ),
        ])
        .await
        .unwrap(),
    );
    commit(s, "transactions", 5).await;

    // Customers: id order, first source key, dates as day numbers, NULLs kept.
    let mut seen = Vec::new();
    let n = store
        .scan_customers(1, |c| {
            assert_eq!(c.len(), 1);
            seen.push((
                c.id[0],
                c.key.get(0).to_string(),
                c.key_source.get(0).map(str::to_string),
                c.birth_date[0],
                c.gender.get(0).map(str::to_string),
                c.annual_income[0],
                c.created_on[0].is_some(),
            ));
        })
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(
        seen,
        vec![
            (
                c1,
                "C1".to_string(),
                Some("core".to_string()),
                Some(epoch_day(d(1985, 7, 9))),
                Some("f".to_string()),
                Some(12_000_000),
                true
            ),
            (
                c2,
                "C2".to_string(),
                Some("core".to_string()),
                None,
                None,
                None,
                true
            ),
        ]
    );

    // Accounts and roles.
    let mut accounts = Vec::new();
    store
        .scan_accounts(DEFAULT_SCAN_CHUNK_ROWS, |c| {
            for i in 0..c.len() {
                accounts.push((
                    c.customer_id[i],
                    c.account_type.get(i).unwrap_or("").to_string(),
                    c.opened_on[i],
                    c.closed_on[i],
                    c.balance[i],
                    c.credit_limit[i],
                ));
            }
        })
        .await
        .unwrap();
    assert_eq!(
        accounts,
        vec![
            (
                c1,
                "current".into(),
                Some(epoch_day(d(2020, 1, 1))),
                None,
                Some(1_000),
                None
            ),
            (
                c2,
                "savings".into(),
                Some(epoch_day(d(2020, 1, 1))),
                Some(epoch_day(d(2024, 2, 1))),
                Some(1_000),
                None
            ),
        ]
    );
    let mut roles = Vec::new();
    store
        .scan_account_roles(10, |c| {
            for i in 0..c.len() {
                roles.push((c.customer_id[i], c.role.get(i).unwrap_or("").to_string()));
            }
        })
        .await
        .unwrap();
    assert_eq!(roles, vec![(c2, "owner".to_string())]);

    // Transactions in chunks of two: 2 + 2 + 1 rows, every column, dictionary
    // codes stable across chunks.
    let mut sizes = Vec::new();
    let mut rows = Vec::new();
    let mut salary_code = None;
    let n = store
        .scan_transactions(DayRange::all(), 2, |c| {
            sizes.push(c.len());
            for i in 0..c.len() {
                let category = c.category.get(i).unwrap_or("").to_string();
                if category == "salary" {
                    salary_code = Some(c.category.codes[i]);
                }
                if let Some(code) = salary_code {
                    assert_eq!(c.category.values()[code as usize], "salary");
                }
                rows.push((
                    c.source_key.get(i).to_string(),
                    c.customer_id[i],
                    c.booked_on[i],
                    c.amount[i],
                    c.balance_after[i],
                    category,
                    c.channel.get(i).unwrap_or("").to_string(),
                ));
            }
        })
        .await
        .unwrap();
    assert_eq!(n, 5);
    assert_eq!(sizes, vec![2, 2, 1]);
    rows.sort();
    let jan = |day: u32| epoch_day(d(2024, 1, day));
    assert_eq!(
        rows,
        vec![
            (
                "T1".into(),
                c1,
                jan(1),
                50_000,
                Some(150_000),
                "salary".into(),
                "mobile".into()
            ),
            (
                "T2".into(),
                c1,
                jan(2),
                -2_000,
                None,
                "groceries".into(),
                "mobile".into()
            ),
            (
                "T3".into(),
                c2,
                jan(2),
                -1,
                Some(999),
                "fee".into(),
                "mobile".into()
            ),
            (
                "T4".into(),
                c1,
                jan(3),
                7,
                Some(148_007),
                "interest".into(),
                "mobile".into()
            ),
            (
                "T5".into(),
                c2,
                jan(3),
                -3_000,
                Some(-2_001),
                "groceries".into(),
                "mobile".into()
            ),
        ]
    );

    // Date ranges are half-open: [from, until).
    let keys = |range: DayRange| {
        let store = store.clone();
        async move {
            let mut keys = Vec::new();
            store
                .scan_transactions(range, 100, |c| {
                    keys.extend(c.source_key.iter().map(str::to_string))
                })
                .await
                .unwrap();
            keys.sort();
            keys
        }
    };
    assert_eq!(keys(DayRange::before(d(2024, 1, 2))).await, vec!["T1"]);
    assert_eq!(
        keys(DayRange::between(d(2024, 1, 2), d(2024, 1, 3))).await,
        vec!["T2", "T3"]
    );
    assert_eq!(
        keys(DayRange {
            from: Some(d(2024, 1, 3)),
            until: None
        })
        .await,
        vec!["T4", "T5"]
    );
    assert!(keys(DayRange::before(d(2023, 1, 1))).await.is_empty());

    // Many rows: several packed blocks on SQLite, chunks across block borders.
    let many: Vec<TransactionRecord> = (0..40_000i64)
        .map(|i| {
            let day = d(2023, 1, 1) + chrono::Days::new((i % 365) as u64);
            txn(
                &format!("M{i:06}"),
                "A1",
                day,
                i - 20_000,
                Some(i),
                TxnCategory::Other,
            )
        })
        .collect();
    let mut s = session(&store, "transactions", "bulk").await;
    for batch in many.chunks(5_000) {
        all_loaded(&s.load_transactions(batch).await.unwrap());
    }
    commit(s, "transactions", many.len() as u64).await;
    let (mut n, mut sum, mut keys) = (0u64, 0i64, 0usize);
    let before = epoch_day(d(2024, 1, 1));
    let total = store
        .scan_transactions(DayRange::before(d(2024, 1, 1)), 7_777, |c| {
            assert!(c.len() <= 7_777);
            assert!(c.booked_on.iter().all(|&b| b < before));
            n += c.len() as u64;
            sum += c.amount.iter().sum::<i64>();
            keys += c.source_key.iter().filter(|k| k.starts_with('M')).count();
        })
        .await
        .unwrap();
    assert_eq!((total, n, keys), (40_000, 40_000, 40_000));
    assert_eq!(sum, (0..40_000i64).map(|i| i - 20_000).sum::<i64>());

    // Empty tables call nothing and count nothing.
    let mut calls = 0;
    assert_eq!(
        store
            .scan_loans(DayRange::all(), 10, |_| calls += 1)
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.scan_cards(10, |_| calls += 1).await.unwrap(), 0);
    assert_eq!(
        store
            .scan_card_statements(DayRange::all(), 10, |_| calls += 1)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .scan_cases(DayRange::all(), 10, |_| calls += 1)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .scan_survey_responses(DayRange::all(), 10, |_| calls += 1)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .scan_interactions(DayRange::all(), 10, |_| calls += 1)
            .await
            .unwrap(),
        0
    );
    assert_eq!(calls, 0);
    store.close().await;
}
