//! The storage story: one test body that runs on SQLite always (a fresh file
//! per test) and on PostgreSQL when `RAPPORT_TEST_PG` names a server URL
//! (e.g. `postgres://rapport@127.0.0.1:5433/postgres`); each PostgreSQL test
//! gets a freshly created database that is dropped afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use rapport_domain::identity::MergeRule;
use rapport_domain::*;
use rapport_store::*;
use rapport_testkit::TestDb;
use std::time::Instant;

// ----- fresh databases ------------------------------------------------------

/// The SQLite store of these tests: a nested path also checks that parent
/// directories are created.
async fn sqlite_db() -> TestDb {
    TestDb::sqlite_at("nested/dir/rapport.db").await
}

#[tokio::test]
async fn storage_story_on_sqlite() {
    let db = sqlite_db().await;
    story(&db.url).await;
    db.drop().await;
}

#[tokio::test]
async fn storage_story_on_postgres() {
    let Some(db) = TestDb::postgres("story").await else {
        return;
    };
    story(&db.url).await;
    db.drop().await;
}

#[tokio::test]
async fn long_sessions_answer_keys_of_written_and_waiting_rows_on_sqlite() {
    let db = sqlite_db().await;
    long_session(&db.url).await;
    db.drop().await;
}

#[tokio::test]
async fn long_sessions_answer_keys_of_written_and_waiting_rows_on_postgres() {
    let Some(db) = TestDb::postgres("long_session").await else {
        return;
    };
    long_session(&db.url).await;
    db.drop().await;
}

/// More rows than PostgreSQL keeps waiting for one COPY, so that keys seen
/// again are answered both from written rows and from rows still waiting.
async fn long_session(url: &str) {
    let store = Store::connect(url).await.unwrap();
    let mut s = start(&store, &file("customers", "core", "sha-c")).await;
    s.insert_customer(&customer("core", "C1")).await.unwrap();
    assert_eq!(
        s.load_accounts(&[account("A1", "C1")]).await.unwrap(),
        vec![RowOutcome::Loaded]
    );
    s.commit(&summary("customers", 2, 2, 0, 0)).await.unwrap();

    let mut s = start(&store, &file("transactions", "core", "sha-t")).await;
    let n = 62_000;
    for first in (0..n).step_by(5_000) {
        let rows: Vec<_> = (first..(first + 5_000).min(n))
            .map(|i| txn(&format!("T{i:06}"), "A1", i64::from(i)))
            .collect();
        let out = s.load_transactions(&rows).await.unwrap();
        assert!(
            out.iter().all(|o| *o == RowOutcome::Loaded),
            "batch {first}"
        );
    }
    let mut written_changed = txn("T000001", "A1", 1);
    written_changed.amount = Money::from_minor(-1);
    let mut waiting_changed = txn(&format!("T{:06}", n - 1), "A1", 0);
    waiting_changed.amount = Money::from_minor(-2);
    assert_eq!(
        s.load_transactions(&[
            txn("T000001", "A1", 1),
            written_changed,
            txn(&format!("T{:06}", n - 1), "A1", i64::from(n - 1)),
            waiting_changed,
            txn("T999999", "A1", 5),
        ])
        .await
        .unwrap(),
        vec![
            RowOutcome::Unchanged,
            RowOutcome::Conflict,
            RowOutcome::Unchanged,
            RowOutcome::Conflict,
            RowOutcome::Loaded,
        ]
    );
    s.commit(&summary("transactions", 62_005, 62_001, 0, 4))
        .await
        .unwrap();
    assert_eq!(store.counts().await.unwrap().transactions, 62_001);

    // A second file of the same source: every key is looked up in the database.
    let mut s = start(&store, &file("transactions", "core", "sha-t2")).await;
    assert_eq!(
        s.load_transactions(&[txn("T000002", "A1", 2), txn("T999998", "A1", 6)])
            .await
            .unwrap(),
        vec![RowOutcome::Unchanged, RowOutcome::Loaded]
    );
    s.commit(&summary("transactions", 2, 1, 0, 1))
        .await
        .unwrap();
    assert_eq!(store.counts().await.unwrap().transactions, 62_002);
    store.close().await;
}

// ----- records ----------------------------------------------------------------

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn file(kind: &str, source: &str, sha: &str) -> ImportFile {
    ImportFile {
        kind: kind.into(),
        source: source.into(),
        path: format!("data/{kind}.csv"),
        sha256: sha.into(),
    }
}

fn customer(source: &str, key: &str) -> CustomerRecord {
    CustomerRecord {
        source: source.into(),
        source_key: key.into(),
        name: Some("Wang Wei".into()),
        gender: Some(Gender::Male),
        birth_date: Some(d(1985, 7, 9)),
        id_number: Some(ResidentId::compose(440305, d(1985, 7, 9), 1)),
        phone: Some(PhoneNumber::parse("138 1234 5678", "86").unwrap()),
        email: None,
        city: Some("Shenzhen".into()),
        occupation: None,
        annual_income: Some(Money::from_major(240_000)),
        risk_tolerance: Some(RiskTolerance::C3),
        risk_assessed_on: Some(d(2023, 1, 5)),
        branch: Some("SZ01".into()),
        attributes: Some(serde_json::json!({"segment": "mass"})),
        flags: vec![FieldFlag {
            field: "email".into(),
            reason: "bad_email".into(),
        }],
    }
}

fn account(key: &str, customer_key: &str) -> AccountRecord {
    AccountRecord {
        source: "core".into(),
        source_key: key.into(),
        customer_key: customer_key.into(),
        account_type: AccountType::Current,
        opened_on: Some(d(2020, 1, 1)),
        closed_on: None,
        currency: "CNY".into(),
        balance: Some(Money::from_minor(123_456)),
        credit_limit: None,
        branch: Some("SZ02".into()),
        attributes: None,
    }
}

fn txn(key: &str, account_key: &str, amount: i64) -> TransactionRecord {
    TransactionRecord {
        source: "core".into(),
        source_key: key.into(),
        account_key: account_key.into(),
        booked_on: d(2024, 3, 1),
        amount: Money::from_minor(amount),
        balance_after: None,
        channel: Channel::Mobile,
        category: TxnCategory::Groceries,
        counterparty: Some("Tab\there, \"quoted\", new\nline".into()),
    }
}

fn unknown(field: &'static str, key: &str) -> RowOutcome {
    RowOutcome::UnknownReference {
        field,
        key: key.into(),
    }
}

fn summary(kind: &str, read: u64, loaded: u64, merged: u64, rejected: u64) -> FileSummary {
    FileSummary {
        file: format!("data/{kind}.csv"),
        kind: kind.into(),
        read,
        loaded,
        merged,
        rejected,
    }
}

async fn start(store: &Store, f: &ImportFile) -> ImportSession {
    match store.begin_import(f).await.unwrap() {
        ImportStart::Started(s) => s,
        ImportStart::AlreadyImported(s) => panic!("unexpectedly already imported: {s:?}"),
    }
}

fn csv_rows(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(bytes);
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

fn column<'a>(header: &[String], row: &'a [String], name: &str) -> &'a str {
    let i = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    &row[i]
}

// ----- the story ----------------------------------------------------------------

async fn story(url: &str) {
    // Migrations apply, and applying them again is a no-op.
    let store = Store::connect(url).await.unwrap();
    store.close().await;
    let store = Store::connect(url).await.unwrap();
    assert_eq!(store.counts().await.unwrap(), EntityCounts::default());

    // Customers: insert, flags, branch creation, identity candidates, a merge.
    let customers_file = file("customers", "core", "sha-customers");
    let mut s = start(&store, &customers_file).await;
    s.upsert_branch(&BranchRecord {
        code: "SZ01".into(),
        name: "Shenzhen Futian".into(),
        city: Some("Shenzhen".into()),
        region: None,
        attributes: serde_json::json!({"population": 1_500_000}),
    })
    .await
    .unwrap();
    let c1 = customer("core", "C1");
    assert_eq!(s.customer_by_key("core", "C1").await.unwrap(), None);
    let id1 = s.insert_customer(&c1).await.unwrap();
    assert_eq!(
        s.customer_by_key("core", "C1").await.unwrap(),
        Some((id1, fingerprint(&c1)))
    );
    let mut c2 = customer("core", "C2");
    c2.id_number = Some(ResidentId::compose(110105, d(1970, 1, 1), 2));
    c2.phone = None;
    c2.name = Some("Li Na".into());
    c2.flags.clear();
    let _id2 = s.insert_customer(&c2).await.unwrap();
    assert!(matches!(
        s.insert_customer(&c2).await,
        Err(StoreError::DuplicateKey { .. })
    ));

    let cands = s
        .identity_candidates(c1.id_number.as_ref(), None)
        .await
        .unwrap();
    assert_eq!(cands.iter().map(|c| c.id).collect::<Vec<_>>(), vec![id1]);
    assert_eq!(cands[0].name.as_deref(), Some("Wang Wei"));
    assert_eq!(cands[0].birth_date, Some(d(1985, 7, 9)));
    let by_phone = s
        .identity_candidates(None, c1.phone.as_ref())
        .await
        .unwrap();
    assert_eq!(by_phone.iter().map(|c| c.id).collect::<Vec<_>>(), vec![id1]);
    assert!(s.identity_candidates(None, None).await.unwrap().is_empty());

    // The same person from the CRM: fills the missing e-mail, keeps the known name.
    let mut crm = customer("crm", "K-77");
    crm.name = Some("W. Wei".into());
    crm.email = Some(Email::parse("wang.wei@example.com").unwrap());
    crm.occupation = Some("engineer".into());
    crm.flags = vec![FieldFlag {
        field: "gender".into(),
        reason: "bad_code".into(),
    }];
    s.merge_customer(
        id1,
        &crm,
        MergeRule::SameIdNumber,
        "same resident ID number",
    )
    .await
    .unwrap();
    assert_eq!(
        s.customer_by_key("crm", "K-77").await.unwrap(),
        Some((id1, fingerprint(&crm)))
    );
    // Candidates after a flush come from the database.
    let cands = s
        .identity_candidates(c1.id_number.as_ref(), c1.phone.as_ref())
        .await
        .unwrap();
    assert_eq!(cands.len(), 1);
    assert!(matches!(
        s.merge_customer(
            999_999,
            &customer("crm", "K-78"),
            MergeRule::SameIdNumber,
            "x"
        )
        .await,
        Err(StoreError::NotFound(_))
    ));
    s.quarantine(&[
        QuarantineEntry {
            line: 5,
            field: Some("birth_date".into()),
            reason: "bad_date".into(),
            detail: "not a date".into(),
            raw: "C9,Zhang San,m,1990-02-30".into(),
        },
        QuarantineEntry {
            line: 5,
            field: None,
            reason: "bad_date".into(),
            detail: "again".into(),
            raw: "C9".into(),
        },
        QuarantineEntry {
            line: 6,
            field: None,
            reason: "column_count".into(),
            detail: "3 of 13".into(),
            raw: "a,b,c".into(),
        },
    ])
    .await
    .unwrap();
    s.quarantine(&[QuarantineEntry {
        line: 6,
        field: None,
        reason: "x".into(),
        detail: "y".into(),
        raw: "z".into(),
    }])
    .await
    .unwrap();
    s.commit(&summary("customers", 5, 2, 1, 2)).await.unwrap();

    // Re-importing the same file is a no-op that reports the first run.
    match store.begin_import(&customers_file).await.unwrap() {
        ImportStart::AlreadyImported(sum) => assert_eq!(sum, summary("customers", 5, 2, 1, 2)),
        ImportStart::Started(_) => panic!("a committed file must not be imported twice"),
    }

    let mut out = Vec::new();
    assert_eq!(
        store.export_table_csv("customer", &mut out).await.unwrap(),
        2
    );
    let (header, rows) = csv_rows(&out);
    let row1 = rows
        .iter()
        .find(|r| column(&header, r, "id") == id1.to_string())
        .unwrap();
    assert_eq!(
        column(&header, row1, "name"),
        "Wang Wei",
        "a merge never overwrites"
    );
    assert_eq!(
        column(&header, row1, "email"),
        "wang.wei@example.com",
        "a merge fills what is missing"
    );
    assert_eq!(column(&header, row1, "occupation"), "engineer");
    assert_eq!(column(&header, row1, "birth_date"), "1985-07-09");
    assert_eq!(column(&header, row1, "annual_income"), "24000000");
    let merges = store.merges().await.unwrap();
    assert_eq!(merges.len(), 1);
    assert_eq!(
        (
            merges[0].customer_id,
            merges[0].source.as_str(),
            merges[0].source_key.as_str(),
            merges[0].rule.as_str()
        ),
        (id1, "crm", "K-77", "same_id_number")
    );
    assert!(
        merges[0].merged_at.ends_with('Z'),
        "{}",
        merges[0].merged_at
    );

    // Accounts, transactions and every other entity.
    let mut s = start(&store, &file("accounts", "core", "sha-accounts")).await;
    let a1 = account("A1", "C1");
    let mut a1_changed = a1.clone();
    a1_changed.balance = Some(Money::from_minor(1));
    assert_eq!(
        s.load_accounts(&[
            a1.clone(),
            account("A2", "C2"),
            account("A3", "NOPE"),
            a1.clone(),
            a1_changed.clone()
        ])
        .await
        .unwrap(),
        vec![
            RowOutcome::Loaded,
            RowOutcome::Loaded,
            unknown("customer_key", "NOPE"),
            RowOutcome::Unchanged,
            RowOutcome::Conflict
        ]
    );
    assert_eq!(
        s.load_accounts(&[a1.clone(), a1_changed]).await.unwrap(),
        vec![RowOutcome::Unchanged, RowOutcome::Conflict]
    );

    let t1 = txn("T1", "A1", -5_000);
    let mut t1_changed = t1.clone();
    t1_changed.amount = Money::from_minor(-5_001);
    assert_eq!(
        s.load_transactions(&[
            t1.clone(),
            txn("T2", "A2", 10_000),
            txn("T3", "A9", 1),
            t1.clone(),
            t1_changed.clone()
        ])
        .await
        .unwrap(),
        vec![
            RowOutcome::Loaded,
            RowOutcome::Loaded,
            unknown("account_key", "A9"),
            RowOutcome::Unchanged,
            RowOutcome::Conflict
        ]
    );
    // Against stored rows (not the batch): looked up in the database.
    assert_eq!(
        s.load_transactions(&[
            t1_changed.clone(),
            txn("T4", "A1", 7),
            t1.clone(),
            t1_changed
        ])
        .await
        .unwrap(),
        vec![
            RowOutcome::Conflict,
            RowOutcome::Loaded,
            RowOutcome::Unchanged,
            RowOutcome::Conflict
        ]
    );

    let product = ProductRecord {
        code: "P1".into(),
        name: "Balanced fund".into(),
        category: "fund".into(),
        risk_level: 3,
    };
    assert_eq!(
        s.load_products(&[product.clone(), product.clone()])
            .await
            .unwrap(),
        vec![RowOutcome::Loaded, RowOutcome::Unchanged]
    );
    let holding = HoldingRecord {
        source: "core".into(),
        source_key: "H1".into(),
        customer_key: "C1".into(),
        product_code: "P1".into(),
        account_key: Some("A1".into()),
        opened_on: Some(d(2021, 1, 1)),
        closed_on: None,
        amount: Some(Money::from_major(50_000)),
    };
    let bad_holding = HoldingRecord {
        source_key: "H2".into(),
        product_code: "P9".into(),
        ..holding.clone()
    };
    assert_eq!(
        s.load_holdings(&[holding.clone(), bad_holding])
            .await
            .unwrap(),
        vec![RowOutcome::Loaded, unknown("product_code", "P9")]
    );
    let loan = LoanRecord {
        source: "core".into(),
        source_key: "L1".into(),
        account_key: "A1".into(),
        granted_on: d(2022, 6, 1),
        amount: Money::from_major(100_000),
        duration_months: 24,
        monthly_payment: Money::from_major(4_400),
        status: LoanStatus::RunningArrears,
        days_past_due: 45,
    };
    assert_eq!(
        s.load_loans(std::slice::from_ref(&loan)).await.unwrap(),
        vec![RowOutcome::Loaded]
    );
    let card = CardRecord {
        source: "core".into(),
        source_key: "K1".into(),
        account_key: "A1".into(),
        customer_key: Some("C2".into()),
        card_type: CardType::Gold,
        issued_on: Some(d(2021, 5, 5)),
        credit_limit: Some(Money::from_major(20_000)),
    };
    let bad_card = CardRecord {
        source_key: "K2".into(),
        customer_key: Some("C404".into()),
        ..card.clone()
    };
    assert_eq!(
        s.load_cards(&[card.clone(), bad_card]).await.unwrap(),
        vec![RowOutcome::Loaded, unknown("customer_key", "C404")]
    );
    let so = StandingOrderRecord {
        source: "core".into(),
        source_key: "S1".into(),
        account_key: "A1".into(),
        bank_to: Some("AB".into()),
        account_to: Some("123".into()),
        amount: Money::from_major(300),
        category: TxnCategory::Insurance,
    };
    assert_eq!(
        s.load_standing_orders(std::slice::from_ref(&so))
            .await
            .unwrap(),
        vec![RowOutcome::Loaded]
    );
    let statement = CardStatementRecord {
        source: "core".into(),
        source_key: "CS1".into(),
        account_key: "A1".into(),
        statement_month: d(2024, 2, 1),
        bill_amount: Money::from_major(3_000),
        paid_amount: Money::from_major(500),
        repayment_status: 2,
        days_past_due: 60,
    };
    assert_eq!(
        s.load_card_statements(std::slice::from_ref(&statement))
            .await
            .unwrap(),
        vec![RowOutcome::Loaded]
    );
    let outcome = OutcomeRecord {
        source: "core".into(),
        customer_key: "C1".into(),
        label: "default_next_month".into(),
        value: 1,
        observed_on: Some(d(2024, 3, 31)),
    };
    let other_label = OutcomeRecord {
        label: "attrition".into(),
        value: 0,
        ..outcome.clone()
    };
    let changed_value = OutcomeRecord {
        value: 0,
        ..outcome.clone()
    };
    assert_eq!(
        s.load_outcomes(&[outcome.clone(), other_label, changed_value])
            .await
            .unwrap(),
        vec![RowOutcome::Loaded, RowOutcome::Loaded, RowOutcome::Conflict]
    );
    let interaction = InteractionRecord {
        source: "core".into(),
        source_key: "I1".into(),
        customer_key: "C1".into(),
        occurred_on: d(2024, 1, 10),
        channel: Channel::Phone,
        kind: "call".into(),
        outcome: Some("reached".into()),
        note: None,
    };
    assert_eq!(
        s.load_interactions(std::slice::from_ref(&interaction))
            .await
            .unwrap(),
        vec![RowOutcome::Loaded]
    );
    let case = CaseRecord {
        source: "core".into(),
        source_key: "CA1".into(),
        customer_key: "C2".into(),
        opened_on: d(2024, 2, 2),
        kind: CaseKind::Complaint,
        category: Some("fees".into()),
        severity: Severity::High,
        status: "open".into(),
        description: Some("charged twice".into()),
        closed_on: None,
    };
    assert_eq!(
        s.load_cases(std::slice::from_ref(&case)).await.unwrap(),
        vec![RowOutcome::Loaded]
    );
    let survey = SurveyResponseRecord {
        source: "core".into(),
        source_key: "SR1".into(),
        customer_key: "C1".into(),
        survey: "nps-2024q1".into(),
        kind: SurveyKind::Nps,
        answered_on: d(2024, 3, 3),
        question: "How likely…".into(),
        score: Some(9),
        answer_text: None,
    };
    assert_eq!(
        s.load_survey_responses(std::slice::from_ref(&survey))
            .await
            .unwrap(),
        vec![RowOutcome::Loaded]
    );
    let consent = ConsentRecord {
        source: "core".into(),
        source_key: "CO1".into(),
        customer_key: "C1".into(),
        channel: Channel::Wechat,
        purpose: ConsentPurpose::Marketing,
        granted: true,
        recorded_on: d(2023, 12, 1),
        revoked_on: None,
    };
    assert_eq!(
        s.load_consents(std::slice::from_ref(&consent))
            .await
            .unwrap(),
        vec![RowOutcome::Loaded]
    );
    let role = AccountRoleRecord {
        source: "core".into(),
        source_key: "R1".into(),
        account_key: "A1".into(),
        customer_key: "C2".into(),
        role: AccountRole::Disponent,
    };
    let owner = AccountRoleRecord {
        source_key: "R0".into(),
        customer_key: "C1".into(),
        role: AccountRole::Owner,
        ..role.clone()
    };
    let bad_role = AccountRoleRecord {
        source_key: "R2".into(),
        account_key: "A404".into(),
        ..role.clone()
    };
    assert_eq!(
        s.load_account_roles(&[role.clone(), owner, bad_role])
            .await
            .unwrap(),
        vec![
            RowOutcome::Loaded,
            RowOutcome::Loaded,
            unknown("account_key", "A404")
        ]
    );
    let staff = StaffUserRecord {
        username: "rm.li".into(),
        display_name: "Li (RM)".into(),
        role: StaffRole::Rm,
        branch: Some("SZ01".into()),
    };
    let staff_changed = StaffUserRecord {
        role: StaffRole::Manager,
        ..staff.clone()
    };
    assert_eq!(
        s.load_staff_users(&[staff.clone(), staff_changed])
            .await
            .unwrap(),
        vec![RowOutcome::Loaded, RowOutcome::Conflict]
    );
    // Everything again within the same session: unchanged.
    assert_eq!(
        s.load_holdings(std::slice::from_ref(&holding))
            .await
            .unwrap(),
        vec![RowOutcome::Unchanged]
    );
    assert_eq!(
        s.load_loans(std::slice::from_ref(&loan)).await.unwrap(),
        vec![RowOutcome::Unchanged]
    );
    assert_eq!(
        s.load_cards(std::slice::from_ref(&card)).await.unwrap(),
        vec![RowOutcome::Unchanged]
    );
    assert_eq!(
        s.load_standing_orders(std::slice::from_ref(&so))
            .await
            .unwrap(),
        vec![RowOutcome::Unchanged]
    );
    assert_eq!(
        s.load_card_statements(std::slice::from_ref(&statement))
            .await
            .unwrap(),
        vec![RowOutcome::Unchanged]
    );
    assert_eq!(
        s.load_outcomes(std::slice::from_ref(&outcome))
            .await
            .unwrap(),
        vec![RowOutcome::Unchanged]
    );
    assert_eq!(
        s.load_interactions(std::slice::from_ref(&interaction))
            .await
            .unwrap(),
        vec![RowOutcome::Unchanged]
    );
    assert_eq!(
        s.load_cases(std::slice::from_ref(&case)).await.unwrap(),
        vec![RowOutcome::Unchanged]
    );
    assert_eq!(
        s.load_survey_responses(std::slice::from_ref(&survey))
            .await
            .unwrap(),
        vec![RowOutcome::Unchanged]
    );
    assert_eq!(
        s.load_consents(std::slice::from_ref(&consent))
            .await
            .unwrap(),
        vec![RowOutcome::Unchanged]
    );
    assert_eq!(
        s.load_account_roles(std::slice::from_ref(&role))
            .await
            .unwrap(),
        vec![RowOutcome::Unchanged]
    );
    assert_eq!(
        s.load_staff_users(std::slice::from_ref(&staff))
            .await
            .unwrap(),
        vec![RowOutcome::Unchanged]
    );
    assert_eq!(
        s.load_products(std::slice::from_ref(&product))
            .await
            .unwrap(),
        vec![RowOutcome::Unchanged]
    );
    s.commit(&summary("accounts", 2, 2, 0, 0)).await.unwrap();

    // A new session sees the committed rows through fresh caches.
    let mut s = start(&store, &file("transactions", "core", "sha-again")).await;
    assert_eq!(
        s.load_accounts(std::slice::from_ref(&a1)).await.unwrap(),
        vec![RowOutcome::Unchanged]
    );
    assert_eq!(
        s.load_transactions(std::slice::from_ref(&t1))
            .await
            .unwrap(),
        vec![RowOutcome::Unchanged]
    );
    assert_eq!(
        s.customer_by_key("crm", "K-77").await.unwrap(),
        Some((id1, fingerprint(&crm)))
    );
    s.commit(&summary("transactions", 1, 0, 0, 0))
        .await
        .unwrap();

    let before = store.counts().await.unwrap();
    assert_eq!(before.customers, 2);
    assert_eq!(before.customer_source_keys, 3);
    assert_eq!(
        before.branches, 2,
        "SZ01 upserted, SZ02 created by an account"
    );
    assert_eq!(before.accounts, 2);
    assert_eq!(before.account_roles, 2);
    assert_eq!(before.transactions, 3);
    assert_eq!(before.products, 1);
    assert_eq!(before.holdings, 1);
    assert_eq!(before.loans, 1);
    assert_eq!(before.cards, 1);
    assert_eq!(before.standing_orders, 1);
    assert_eq!(before.card_statements, 1);
    assert_eq!(before.outcomes, 2);
    assert_eq!(before.interactions, 1);
    assert_eq!(before.cases, 1);
    assert_eq!(before.survey_responses, 1);
    assert_eq!(before.consents, 1);
    assert_eq!(before.staff_users, 1);
    assert_eq!(before.quarantined, 2, "deduplicated by (import, line)");
    assert_eq!(before.merges, 1);
    assert_eq!(before.flagged_fields, 2);
    assert_eq!(before.imports, 3);

    // A session dropped without commit leaves nothing, not even its import_file row.
    let dropped_file = file("transactions", "core", "sha-dropped");
    {
        let mut s = start(&store, &dropped_file).await;
        let rows: Vec<_> = (0..10).map(|i| txn(&format!("D{i}"), "A1", i)).collect();
        assert!(s
            .load_transactions(&rows)
            .await
            .unwrap()
            .iter()
            .all(|o| *o == RowOutcome::Loaded));
        s.insert_customer(&customer("core", "C-dropped"))
            .await
            .unwrap();
        s.quarantine(&[QuarantineEntry {
            line: 2,
            field: None,
            reason: "bad_amount".into(),
            detail: String::new(),
            raw: String::new(),
        }])
        .await
        .unwrap();
    }
    assert_eq!(store.counts().await.unwrap(), before);
    let mut s = start(&store, &dropped_file).await;

    // A batch of 5,000 transactions.
    let rows: Vec<_> = (0..5_000)
        .map(|i| txn(&format!("B{i:05}"), if i % 2 == 0 { "A1" } else { "A2" }, i))
        .collect();
    let t = Instant::now();
    let outcomes = s.load_transactions(&rows).await.unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert!(outcomes.iter().all(|o| *o == RowOutcome::Loaded));
    eprintln!(
        "5,000 transactions in {:.3}s ({:.0} rows/s)",
        secs,
        5_000.0 / secs
    );
    s.commit(&summary("transactions", 5_000, 5_000, 0, 0))
        .await
        .unwrap();
    let after = store.counts().await.unwrap();
    assert_eq!(after.transactions, before.transactions + 5_000);
    assert_eq!(after.imports, 4);

    // Reports.
    let imports = store.imports().await.unwrap();
    assert_eq!(imports.len(), 4);
    assert!(imports
        .iter()
        .all(|i| i.status == "complete" && i.finished_at.is_some()));
    assert_eq!(
        (
            imports[0].kind.as_str(),
            imports[0].read,
            imports[0].rejected
        ),
        ("customers", 5, 2)
    );
    let q = store.quarantine_rows(10).await.unwrap();
    assert_eq!(q.len(), 2);
    assert_eq!(
        (q[0].line, q[0].reason.as_str(), q[0].kind.as_str()),
        (6, "column_count", "customers")
    );
    assert_eq!(
        (q[1].line, q[1].field.as_deref(), q[1].file.as_str()),
        (5, Some("birth_date"), "data/customers.csv")
    );
    assert_eq!(store.quarantine_rows(1).await.unwrap().len(), 1);
    let reasons = store.quarantine_by_reason().await.unwrap();
    assert_eq!(reasons.len(), 2);
    assert!(reasons
        .iter()
        .all(|r| r.kind == "customers" && r.count == 1));
    let profiles = store.field_profiles().await.unwrap();
    let p = |entity: &str, field: &str| {
        profiles
            .iter()
            .find(|p| p.entity == entity && p.field == field)
            .unwrap_or_else(|| panic!("{entity}.{field}"))
            .clone()
    };
    let email = p("customer", "email");
    assert_eq!(
        (email.rows, email.present, email.flagged, email.distinct),
        (2, 1, 1, 1)
    );
    let phone = p("customer", "phone");
    assert_eq!((phone.present, phone.distinct), (1, 1));
    assert_eq!(p("customer", "gender").flagged, 1);
    assert_eq!(p("customer", "branch").present, 2);
    assert_eq!(p("txn", "amount").rows, after.transactions);
    assert_eq!(p("txn", "balance_after").present, 0);
    // Distinct values are counted for identifying fields only.
    assert!(email.distinct_counted && phone.distinct_counted);
    let account_type = p("account", "type");
    assert_eq!(
        (account_type.distinct_counted, account_type.distinct),
        (false, 0)
    );
    assert_eq!(account_type.present, account_type.rows);
    assert_eq!(p("loan", "status").present, 1);
    assert_eq!(p("card", "type").present, 1);
    assert_eq!(p("standing_order", "bank_to").present, 1);

    // Exports: every exportable table; proper CSV quoting; no password hashes.
    for table in exportable_tables() {
        let mut out = Vec::new();
        store
            .export_table_csv(table, &mut out)
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"));
        assert!(!out.is_empty(), "{table} has at least a header");
    }
    let mut out = Vec::new();
    let n = store.export_table_csv("txn", &mut out).await.unwrap();
    assert_eq!(i64::try_from(n).unwrap(), after.transactions);
    let (header, rows) = csv_rows(&out);
    assert_eq!(header[0], "id");
    assert_eq!(rows.len(), 5_003);
    let first = &rows[0];
    assert_eq!(column(&header, first, "source_key"), "T1");
    assert_eq!(column(&header, first, "booked_on"), "2024-03-01");
    assert_eq!(column(&header, first, "amount"), "-5000");
    assert_eq!(
        column(&header, first, "counterparty"),
        "Tab\there, \"quoted\", new\nline"
    );
    let mut out = Vec::new();
    store
        .export_table_csv("staff_user", &mut out)
        .await
        .unwrap();
    let (header, _) = csv_rows(&out);
    assert!(!header.iter().any(|h| h == "password_hash"));
    let mut out = Vec::new();
    assert!(matches!(
        store.export_table_csv("sqlite_master", &mut out).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(out.is_empty());

    store.close().await;
}

/// Rough load speeds: `cargo test -p rapport-store --test store -- --ignored --nocapture`
/// (RAPPORT_BENCH_ROWS transactions, default 200,000, and a tenth as many customers;
/// PostgreSQL too when RAPPORT_TEST_PG is set).
#[tokio::test]
#[ignore]
async fn load_speed() {
    let db = sqlite_db().await;
    load_speed_on("sqlite", &db.url).await;
    db.drop().await;
    if let Some(db) = TestDb::postgres("bench").await {
        load_speed_on("postgres", &db.url).await;
        db.drop().await;
    }
}

async fn load_speed_on(backend: &str, url: &str) {
    let rows: usize = std::env::var("RAPPORT_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let n_customers = (rows / 10).max(1_000);
    let store = Store::connect(url).await.unwrap();

    // Customers as an importer resolves them: key lookup, identity candidates, insert.
    let records: Vec<_> = (0..n_customers)
        .map(|i| {
            let mut c = customer("core", &format!("C{i}"));
            c.id_number = Some(ResidentId::compose(
                110000 + (i as u32 / 1000),
                d(1980, 1, 1),
                (i % 1000) as u32,
            ));
            c.phone = Some(PhoneNumber::parse(&format!("139{:08}", i), "86").unwrap());
            c
        })
        .collect();
    let t = Instant::now();
    let mut s = start(&store, &file("customers", "core", "bench-c")).await;
    for c in &records {
        assert!(s
            .customer_by_key(&c.source, &c.source_key)
            .await
            .unwrap()
            .is_none());
        assert!(s
            .identity_candidates(c.id_number.as_ref(), c.phone.as_ref())
            .await
            .unwrap()
            .is_empty());
        s.insert_customer(c).await.unwrap();
    }
    let accounts: Vec<_> = (0..n_customers)
        .map(|i| account(&format!("A{i}"), &format!("C{i}")))
        .collect();
    s.load_accounts(&accounts).await.unwrap();
    s.commit(&summary("customers", 0, 0, 0, 0)).await.unwrap();
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "{backend}: {n_customers} customers + accounts in {secs:.2}s = {:.0} customers/s",
        n_customers as f64 / secs
    );

    let mut s = start(&store, &file("transactions", "core", "bench-t")).await;
    let t = Instant::now();
    let mut prep = 0.0;
    for start_at in (0..rows).step_by(10_000) {
        let p = Instant::now();
        let batch: Vec<_> = (start_at..(start_at + 10_000).min(rows))
            .map(|i| {
                txn(
                    &format!("T{i:09}"),
                    &format!("A{}", i % n_customers),
                    i as i64,
                )
            })
            .collect();
        prep += p.elapsed().as_secs_f64();
        let out = s.load_transactions(&batch).await.unwrap();
        assert!(out.iter().all(|o| *o == RowOutcome::Loaded));
    }
    s.commit(&summary("transactions", 0, 0, 0, 0))
        .await
        .unwrap();
    let total = t.elapsed().as_secs_f64() - prep;
    eprintln!(
        "{backend}: {rows} transactions in {total:.2}s (record building excluded) = {:.0} rows/s",
        rows as f64 / total
    );

    // Re-loading the same rows: every one unchanged.
    let mut s = start(&store, &file("transactions", "core", "bench-t2")).await;
    let t = Instant::now();
    let batch: Vec<_> = (0..rows.min(50_000))
        .map(|i| {
            txn(
                &format!("T{i:09}"),
                &format!("A{}", i % n_customers),
                i as i64,
            )
        })
        .collect();
    let out = s.load_transactions(&batch).await.unwrap();
    assert!(out.iter().all(|o| *o == RowOutcome::Unchanged));
    eprintln!(
        "{backend}: {} unchanged transactions in {:.2}s",
        batch.len(),
        t.elapsed().as_secs_f64()
    );
    drop(s);
    store.close().await;
}
