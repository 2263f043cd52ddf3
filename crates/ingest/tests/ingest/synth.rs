//! The synthetic bank: deterministic, valid per docs/FORMATS.md, internally
//! consistent, and with the planted trouble and seasonality it promises.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Datelike, NaiveDate};
use rapport_domain::{
    parse_date, AccountType, CardType, CaseKind, Channel, ConsentPurpose, Email, Gender,
    LoanStatus, Money, PhoneNumber, ResidentId, RiskTolerance, Severity, StaffRole, SurveyKind,
    TxnCategory,
};
use rapport_ingest::synth::{generate, spring_festival, GenConfig, GenSummary};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const CUSTOMERS: u64 = 800;

struct Bank {
    _dir: tempfile::TempDir,
    path: PathBuf,
    summary: GenSummary,
}

/// One bank shared by the tests that only read it.
fn bank() -> &'static Bank {
    static BANK: OnceLock<Bank> = OnceLock::new();
    BANK.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let cfg = GenConfig {
            customers: CUSTOMERS,
            seed: 42,
            ..GenConfig::default()
        };
        let summary = generate(&cfg, &path, &|_| {}).unwrap();
        Bank {
            _dir: dir,
            path,
            summary,
        }
    })
}

/// A CSV file as a header and rows of column → value (values trimmed, as the
/// importer trims them), each with its physical line.
struct Table {
    rows: Vec<HashMap<String, String>>,
    lines: Vec<u64>,
}

impl Table {
    fn col<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.rows.iter().map(move |r| r[name].as_str())
    }
}

/// One line of `planted_dirt.csv`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Planted {
    file: String,
    line: u64,
    key: String,
    field: String,
    reason: String,
    quarantine: bool,
}

fn planted(dir: &Path) -> Vec<Planted> {
    let mut r = csv::Reader::from_path(dir.join("planted_dirt.csv")).unwrap();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            Planted {
                file: rec[0].to_string(),
                line: rec[1].parse().unwrap(),
                key: rec[2].to_string(),
                field: rec[3].to_string(),
                reason: rec[4].to_string(),
                quarantine: match &rec[5] {
                    "quarantine" => true,
                    "flag" => false,
                    other => panic!("action {other:?}"),
                },
            }
        })
        .collect()
}

/// The header and the number of data rows of a file, planted bad rows included.
fn header_and_rows(dir: &Path, kind: &str) -> (Vec<String>, u64) {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(dir.join(format!("{kind}.csv")))
        .unwrap();
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let mut n = 0;
    for rec in r.records() {
        rec.unwrap_or_else(|e| panic!("{kind}: {e}"));
        n += 1;
    }
    (header, n)
}

/// The rows of a file that load: planted quarantine rows left out.
fn read(dir: &Path, kind: &str) -> Table {
    let bad: HashSet<u64> = planted(dir)
        .into_iter()
        .filter(|p| p.quarantine && p.file == kind)
        .map(|p| p.line)
        .collect();
    read_filtered(dir, kind, &bad)
}

fn read_filtered(dir: &Path, kind: &str, skip: &HashSet<u64>) -> Table {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(dir.join(format!("{kind}.csv")))
        .unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    for rec in r.records() {
        let rec = rec.unwrap_or_else(|e| panic!("{kind}: {e}"));
        let line = rec.position().unwrap().line();
        if skip.contains(&line) {
            continue;
        }
        assert_eq!(rec.len(), header.len(), "{kind} line {line}: {rec:?}");
        rows.push(
            header
                .iter()
                .map(|h| h.to_lowercase())
                .zip(rec.iter().map(String::from))
                .collect(),
        );
        lines.push(line);
    }
    Table { rows, lines }
}

fn money(s: &str) -> i64 {
    Money::parse(s).unwrap_or_else(|e| panic!("{e}")).minor()
}

fn date(s: &str) -> NaiveDate {
    parse_date(s).unwrap_or_else(|e| panic!("{e}"))
}

/// The columns of every kind as docs/FORMATS.md lists them.
fn documented_columns() -> HashMap<String, Vec<String>> {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/FORMATS.md"),
    )
    .unwrap();
    let mut out = HashMap::new();
    let mut in_kinds = false;
    for line in doc.lines() {
        if line.starts_with("| kind | columns") {
            in_kinds = true;
            continue;
        }
        if in_kinds {
            if !line.starts_with('|') {
                break;
            }
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            if cells.len() < 3 || cells[1].starts_with("---") {
                continue;
            }
            let cols = cells[2]
                .replace("**", "")
                .split(',')
                .map(|c| c.trim().to_string())
                .collect();
            out.insert(cells[1].to_string(), cols);
        }
    }
    out
}

#[test]
fn the_same_seed_gives_identical_files_and_another_seed_does_not() {
    let run = |seed: u64| {
        let dir = tempfile::tempdir().unwrap();
        let cfg = GenConfig {
            customers: 250,
            seed,
            ..GenConfig::default()
        };
        let s = generate(&cfg, dir.path(), &|_| {}).unwrap();
        let files: Vec<(String, Vec<u8>)> = s
            .files
            .iter()
            .map(|(k, p, _)| (k.clone(), std::fs::read(p).unwrap()))
            .collect();
        (dir, files)
    };
    let (_a, first) = run(7);
    let (_b, second) = run(7);
    let (_c, other) = run(8);
    assert_eq!(first.len(), second.len());
    for ((k, x), (_, y)) in first.iter().zip(&second) {
        assert!(
            x == y,
            "{k}.csv differs between two runs with the same seed"
        );
    }
    let txn = |files: &[(String, Vec<u8>)]| {
        files
            .iter()
            .find(|(k, _)| k == "transactions")
            .map(|(_, b)| b.clone())
            .unwrap()
    };
    assert_ne!(txn(&first), txn(&other));
}

#[test]
fn every_file_has_the_documented_header_and_the_summary_counts_its_rows() {
    let b = bank();
    let documented = documented_columns();
    assert!(
        documented.len() >= 15,
        "could not read the kinds table of docs/FORMATS.md"
    );
    for (kind, path, rows) in &b.summary.files {
        assert!(
            path.ends_with(format!("{kind}.csv")),
            "{kind}: {}",
            path.display()
        );
        let (header, n) = header_and_rows(&b.path, kind);
        assert_eq!(n, *rows, "{kind}");
        match kind.as_str() {
            "ground_truth" => assert_eq!(header, ["customer_key", "event", "start_date"]),
            "planted_dirt" => assert_eq!(
                header,
                ["file", "line", "source_key", "field", "reason", "action"]
            ),
            "crm/expected_merges" => assert_eq!(header, ["crm_key", "core_key", "rule"]),
            "crm/customers" => {
                // Another system: its own column order and case, and a column the importer ignores.
                let want = &documented["customers"];
                let mut extra = Vec::new();
                for h in &header {
                    let h = h.to_lowercase();
                    if !want.contains(&h) {
                        extra.push(h);
                    }
                }
                assert_eq!(extra, ["segment"]);
                assert_ne!(&header, want);
            }
            _ => {
                let name = kind.strip_prefix("crm/").unwrap_or(kind);
                let want = documented
                    .get(name)
                    .unwrap_or_else(|| panic!("{kind} is not a documented kind"));
                assert_eq!(&header, want, "{kind}");
            }
        }
    }
    let kinds: HashSet<&str> = b.summary.files.iter().map(|f| f.0.as_str()).collect();
    for k in [
        "branches",
        "products",
        "customers",
        "accounts",
        "transactions",
        "holdings",
        "loans",
        "cards",
        "standing_orders",
        "interactions",
        "cases",
        "survey_responses",
        "consents",
        "staff_users",
        "ground_truth",
        "planted_dirt",
        "crm/customers",
        "crm/consents",
        "crm/interactions",
        "crm/expected_merges",
    ] {
        assert!(kinds.contains(k), "{k}.csv missing");
    }
    assert_eq!(b.summary.customers, CUSTOMERS);
}

#[test]
fn customers_have_valid_id_numbers_matching_birth_date_and_gender_and_valid_contacts() {
    let dir = &bank().path;
    let t = read(dir, "customers");
    assert_eq!(
        t.rows.len() as u64,
        CUSTOMERS,
        "one loadable row per customer"
    );
    let flags: HashSet<(u64, String)> = planted(dir)
        .into_iter()
        .filter(|p| !p.quarantine && p.file == "customers")
        .map(|p| (p.line, p.field))
        .collect();
    let flagged = |line: u64, field: &str| flags.contains(&(line, field.to_string()));
    let mut emails = 0;
    for (r, &line) in t.rows.iter().zip(&t.lines) {
        let gender = Gender::parse(&r["gender"]).unwrap();
        let birth = date(&r["birth_date"]);
        match ResidentId::parse(&r["id_number"]) {
            Ok(id) => {
                assert!(!flagged(line, "id_number"), "line {line}");
                assert_eq!(id.birth_date(), birth, "{}", r["source_key"]);
                assert_eq!(id.gender(), gender);
            }
            Err(e) => {
                assert!(flagged(line, "id_number"), "line {line}: {e}");
                assert!(matches!(
                    e,
                    rapport_domain::ResidentIdError::CheckDigit { .. }
                ));
            }
        }
        let age = 2024 - birth.year();
        assert!((17..=86).contains(&age), "age {age}");
        match PhoneNumber::parse(&r["phone"], "86") {
            Ok(phone) => {
                assert!(!flagged(line, "phone"), "line {line}");
                assert_eq!(phone.as_str().len(), 14, "{phone}");
            }
            Err(_) => assert!(flagged(line, "phone"), "line {line}"),
        }
        if !r["email"].is_empty() {
            assert_eq!(
                Email::parse(&r["email"]).is_err(),
                flagged(line, "email"),
                "line {line}"
            );
            emails += 1;
        }
        if !r["risk_tolerance"].is_empty() {
            RiskTolerance::parse(&r["risk_tolerance"]).unwrap();
            date(&r["risk_assessed_on"]);
        }
        if !r["annual_income"].is_empty() {
            assert!(money(&r["annual_income"]) > 0);
        }
        assert!(!r["name"].is_empty() && !r["city"].is_empty() && !r["occupation"].is_empty());
    }
    assert!(emails > 0 && emails < t.rows.len());
}

#[test]
fn every_coded_value_amount_and_date_is_valid() {
    let dir = &bank().path;
    for r in &read(dir, "accounts").rows {
        AccountType::parse(&r["type"]).unwrap();
        date(&r["opened_on"]);
        if !r["closed_on"].is_empty() {
            assert!(date(&r["closed_on"]) >= date(&r["opened_on"]));
        }
        money(&r["balance"]);
        assert_eq!(r["currency"], "CNY");
    }
    for r in &read(dir, "transactions").rows {
        Channel::parse(&r["channel"]).unwrap();
        TxnCategory::parse(&r["category"]).unwrap();
        assert_ne!(money(&r["amount"]), 0);
        money(&r["balance_after"]);
        date(&r["booked_on"]);
    }
    for r in &read(dir, "loans").rows {
        LoanStatus::parse(&r["status"]).unwrap();
        assert!(money(&r["amount"]) > 0 && money(&r["monthly_payment"]) > 0);
        let _: u32 = r["duration_months"].parse().unwrap();
        let _: u32 = r["days_past_due"].parse().unwrap();
    }
    for r in &read(dir, "cards").rows {
        let t = CardType::parse(&r["type"]).unwrap();
        assert_eq!(t == CardType::Debit, r["credit_limit"].is_empty());
    }
    for r in &read(dir, "card_statements").rows {
        assert!(money(&r["bill_amount"]) >= money(&r["paid_amount"]));
        let _: i32 = r["repayment_status"].parse().unwrap();
    }
    for r in &read(dir, "standing_orders").rows {
        TxnCategory::parse(&r["category"]).unwrap();
        assert!(money(&r["amount"]) > 0);
    }
    for r in &read(dir, "interactions").rows {
        Channel::parse(&r["channel"]).unwrap();
        assert!(
            ["call", "visit", "video", "message", "email", "meeting", "other"]
                .contains(&r["kind"].as_str())
        );
    }
    for r in &read(dir, "cases").rows {
        CaseKind::parse(&r["kind"]).unwrap();
        Severity::parse(&r["severity"]).unwrap();
        assert!([
            "open",
            "in_progress",
            "waiting_customer",
            "resolved",
            "closed"
        ]
        .contains(&r["status"].as_str()));
        assert_eq!(
            r["closed_on"].is_empty(),
            !["resolved", "closed"].contains(&r["status"].as_str())
        );
    }
    for r in &read(dir, "survey_responses").rows {
        let kind = SurveyKind::parse(&r["kind"]).unwrap();
        let score: Option<i32> = (!r["score"].is_empty()).then(|| r["score"].parse().unwrap());
        match kind {
            SurveyKind::Nps => assert!((0..=10).contains(&score.unwrap())),
            SurveyKind::Csat => assert!((1..=5).contains(&score.unwrap())),
            _ => assert!(!r["answer_text"].is_empty()),
        }
    }
    for r in &read(dir, "consents").rows {
        Channel::parse(&r["channel"]).unwrap();
        ConsentPurpose::parse(&r["purpose"]).unwrap();
        assert!(["true", "false"].contains(&r["granted"].as_str()));
        if !r["revoked_on"].is_empty() {
            assert!(date(&r["revoked_on"]) >= date(&r["recorded_on"]));
        }
    }
    for r in &read(dir, "products").rows {
        let level: u8 = r["risk_level"].parse().unwrap();
        assert!((1..=5).contains(&level));
    }
    for r in &read(dir, "staff_users").rows {
        StaffRole::parse(&r["role"]).unwrap();
    }
}

#[test]
fn every_reference_points_at_a_row_that_exists_and_keys_are_unique() {
    let dir = &bank().path;
    let keys = |kind: &str, col: &str| -> HashSet<String> {
        let t = read(dir, kind);
        let set: HashSet<String> = t.col(col).map(String::from).collect();
        assert_eq!(set.len(), t.rows.len(), "duplicate {col} in {kind}");
        set
    };
    let customers = keys("customers", "source_key");
    let accounts = keys("accounts", "source_key");
    let branches = keys("branches", "code");
    let products = keys("products", "code");
    for kind in [
        "transactions",
        "holdings",
        "loans",
        "cards",
        "standing_orders",
        "card_statements",
        "interactions",
        "cases",
        "survey_responses",
        "consents",
    ] {
        keys(kind, "source_key");
    }
    keys("staff_users", "username");
    let check = |kind: &str, col: &str, set: &HashSet<String>, optional: bool| {
        for v in read(dir, kind).col(col) {
            assert!(
                (optional && v.is_empty()) || set.contains(v),
                "{kind}.{col} = {v:?} refers to nothing"
            );
        }
    };
    for kind in [
        "transactions",
        "loans",
        "cards",
        "standing_orders",
        "card_statements",
    ] {
        check(kind, "account_key", &accounts, false);
    }
    check("holdings", "account_key", &accounts, true);
    for kind in [
        "accounts",
        "holdings",
        "interactions",
        "cases",
        "survey_responses",
        "consents",
        "ground_truth",
    ] {
        check(kind, "customer_key", &customers, false);
    }
    check("cards", "customer_key", &customers, true);
    check("holdings", "product_code", &products, false);
    check("customers", "branch", &branches, false);
    check("staff_users", "branch", &branches, true);

    // Loans hang off loan accounts, credit limits off credit cards.
    let acct = read(dir, "accounts");
    let types: HashMap<&str, &str> = acct
        .rows
        .iter()
        .map(|r| (r["source_key"].as_str(), r["type"].as_str()))
        .collect();
    for v in read(dir, "loans").col("account_key") {
        assert_eq!(types[v], "loan");
    }
    for r in &acct.rows {
        assert_eq!(r["type"] == "credit_card", !r["credit_limit"].is_empty());
    }
}

#[test]
fn balance_after_is_the_running_balance_of_each_account() {
    let dir = &bank().path;
    let accounts = read(dir, "accounts");
    let info: HashMap<&str, &HashMap<String, String>> = accounts
        .rows
        .iter()
        .map(|r| (r["source_key"].as_str(), r))
        .collect();
    let txns = read(dir, "transactions");
    let mut last: HashMap<String, (i64, NaiveDate)> = HashMap::new();
    for r in &txns.rows {
        let (amount, after, on) = (
            money(&r["amount"]),
            money(&r["balance_after"]),
            date(&r["booked_on"]),
        );
        let a = info[r["account_key"].as_str()];
        assert!(
            on >= date(&a["opened_on"]),
            "{:?} before the account opened",
            r["source_key"]
        );
        if !a["closed_on"].is_empty() {
            assert!(
                on <= date(&a["closed_on"]),
                "{:?} after the account closed",
                r["source_key"]
            );
        }
        if let Some((prev, prev_on)) = last.get(&r["account_key"]) {
            assert_eq!(prev + amount, after, "{}", r["source_key"]);
            assert!(on >= *prev_on);
        }
        if AccountType::parse(&a["type"]).unwrap().is_deposit() {
            assert!(
                after >= 0,
                "{} overdraws a deposit account",
                r["source_key"]
            );
        }
        last.insert(r["account_key"].clone(), (after, on));
    }
    for (k, (bal, _)) in &last {
        assert_eq!(
            money(&info[k.as_str()]["balance"]),
            *bal,
            "{k}: final balance"
        );
    }
    let per_customer = txns.rows.len() as f64 / CUSTOMERS as f64;
    assert!(
        (70.0..140.0).contains(&per_customer),
        "{per_customer} transactions per customer"
    );
}

/// Purchases only (what a household spends in shops, restaurants and on trips).
fn daily_purchases(dir: &Path) -> HashMap<NaiveDate, i64> {
    let mut by_day = HashMap::new();
    for r in &read(dir, "transactions").rows {
        if ["groceries", "dining", "shopping", "travel", "card_purchase"]
            .contains(&r["category"].as_str())
        {
            *by_day.entry(date(&r["booked_on"])).or_insert(0) -= money(&r["amount"]);
        }
    }
    by_day
}

fn mean_per_day(by_day: &HashMap<NaiveDate, i64>, from: NaiveDate, to: NaiveDate) -> f64 {
    let days: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= to).collect();
    days.iter()
        .map(|d| by_day.get(d).copied().unwrap_or(0) as f64)
        .sum::<f64>()
        / days.len() as f64
}

#[test]
fn golden_week_and_spring_festival_spending_spikes_are_visible() {
    let by_day = daily_purchases(&bank().path);
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    for y in [2023, 2024] {
        let golden = mean_per_day(&by_day, d(y, 10, 1), d(y, 10, 7));
        let before = mean_per_day(&by_day, d(y, 9, 8), d(y, 9, 21));
        let after = mean_per_day(&by_day, d(y, 10, 15), d(y, 10, 28));
        assert!(
            golden > 1.2 * before && golden > 1.2 * after,
            "{y}: golden week {golden:.0} vs {before:.0} / {after:.0}"
        );
        let sf = spring_festival(y).unwrap();
        let run_up = mean_per_day(
            &by_day,
            sf - chrono::Days::new(14),
            sf - chrono::Days::new(2),
        );
        let march = mean_per_day(&by_day, d(y, 3, 4), d(y, 3, 24));
        assert!(
            run_up > 1.15 * march,
            "{y}: Spring Festival run-up {run_up:.0} vs March {march:.0}"
        );
    }
    // Red envelopes go out on Spring Festival eve and the first days of the year.
    let txns = read(&bank().path, "transactions");
    let red: Vec<NaiveDate> = txns
        .rows
        .iter()
        .filter(|r| r["counterparty"] == "微信红包")
        .map(|r| date(&r["booked_on"]))
        .collect();
    assert!(!red.is_empty());
    let near_sf = red.iter().filter(|on| {
        let sf = spring_festival(on.year()).unwrap();
        (on.signed_duration_since(sf).num_days()).abs() <= 15
    });
    assert!(near_sf.count() as f64 > 0.9 * red.len() as f64);
}

#[test]
fn weekends_are_busier_than_weekdays() {
    let txns = read(&bank().path, "transactions");
    let mut by_weekday = [0u64; 7];
    for r in &txns.rows {
        if ["groceries", "dining", "shopping", "travel", "card_purchase"]
            .contains(&r["category"].as_str())
        {
            by_weekday[date(&r["booked_on"]).weekday().num_days_from_monday() as usize] += 1;
        }
    }
    let weekday = by_weekday[..5].iter().sum::<u64>() as f64 / 5.0;
    let weekend = by_weekday[5..].iter().sum::<u64>() as f64 / 2.0;
    assert!(weekend > 1.15 * weekday, "{by_weekday:?}");
}

#[test]
fn a_few_per_cent_fall_into_distress_or_leave_and_it_shows() {
    let b = bank();
    let dir = &b.path;
    let truth = read(dir, "ground_truth");
    let share =
        |event: &str| truth.col("event").filter(|e| *e == event).count() as f64 / CUSTOMERS as f64;
    for event in ["distress", "attrition"] {
        assert!(
            (0.015..=0.05).contains(&share(event)),
            "{event}: {}",
            share(event)
        );
    }
    assert_eq!(
        b.summary.distressed as usize,
        truth.col("event").filter(|e| *e == "distress").count()
    );
    assert_eq!(
        b.summary.churned as usize,
        truth.col("event").filter(|e| *e == "attrition").count()
    );
    let cfg = GenConfig::default();
    let fate: HashMap<&str, (&str, NaiveDate)> = truth
        .rows
        .iter()
        .map(|r| {
            (
                r["customer_key"].as_str(),
                (r["event"].as_str(), date(&r["start_date"])),
            )
        })
        .collect();
    for (_, start) in fate.values() {
        assert!(*start >= cfg.start && *start < cfg.end);
    }

    let accounts = read(dir, "accounts");
    let owner: HashMap<&str, &str> = accounts
        .rows
        .iter()
        .map(|r| (r["source_key"].as_str(), r["customer_key"].as_str()))
        .collect();
    let event_of = |customer: &str| fate.get(customer).map(|f| f.0).unwrap_or("healthy");

    // Leavers close their accounts; nobody else does.
    let mut leavers_closed = 0;
    for r in accounts.rows.iter().filter(|r| r["type"] == "current") {
        let closed = !r["closed_on"].is_empty();
        match event_of(&r["customer_key"]) {
            "attrition" => leavers_closed += usize::from(closed),
            _ => assert!(!closed, "{} closed without leaving", r["customer_key"]),
        }
    }
    let leavers = truth.col("event").filter(|e| *e == "attrition").count();
    assert!(
        leavers_closed as f64 >= 0.8 * leavers as f64,
        "{leavers_closed} of {leavers} leavers closed"
    );

    // Borrowers in distress fall behind; healthy borrowers almost never do.
    let (mut bad_distressed, mut running_distressed, mut bad_healthy, mut healthy) = (0, 0, 0, 0);
    for r in &read(dir, "loans").rows {
        let status = LoanStatus::parse(&r["status"]).unwrap();
        let bad = matches!(
            status,
            LoanStatus::RunningArrears | LoanStatus::FinishedDefault
        );
        assert_eq!(r["days_past_due"] != "0", bad, "{r:?}");
        match event_of(owner[r["account_key"].as_str()]) {
            "distress" if status != LoanStatus::FinishedOk => {
                running_distressed += 1;
                bad_distressed += usize::from(bad);
            }
            "healthy" => {
                healthy += 1;
                bad_healthy += usize::from(bad);
            }
            _ => {}
        }
    }
    assert!(
        running_distressed > 0 && bad_distressed as f64 >= 0.6 * running_distressed as f64,
        "{bad_distressed}/{running_distressed}"
    );
    assert!(
        (bad_healthy as f64) < 0.02 * healthy as f64,
        "{bad_healthy}/{healthy}"
    );

    // Salaries of the distressed fall, then stop.
    let txns = read(dir, "transactions");
    let mut before = 0i64;
    let mut after = 0i64;
    for r in txns.rows.iter().filter(|r| r["category"] == "salary") {
        let customer = owner[r["account_key"].as_str()];
        if let Some(("distress", start)) = fate.get(customer) {
            let on = date(&r["booked_on"]);
            let months_before = (*start - on).num_days();
            if (0..90).contains(&months_before) {
                before += money(&r["amount"]);
            } else if (on - *start).num_days() >= 90 && (on - *start).num_days() < 180 {
                after += money(&r["amount"]);
            }
        }
    }
    assert!(
        after * 5 < before,
        "salary of the distressed: {before} before, {after} after"
    );
}

#[test]
fn troubled_customers_complain_more_and_score_lower() {
    let dir = &bank().path;
    let truth = read(dir, "ground_truth");
    let troubled: HashSet<&str> = truth.col("customer_key").collect();
    let cases = read(dir, "cases");
    let complaints = |mine: bool| {
        cases
            .rows
            .iter()
            .filter(|r| {
                r["kind"] == "complaint" && troubled.contains(r["customer_key"].as_str()) == mine
            })
            .count() as f64
    };
    let rate_troubled = complaints(true) / troubled.len() as f64;
    let rate_others = complaints(false) / (CUSTOMERS as f64 - troubled.len() as f64);
    assert!(
        rate_troubled > 3.0 * rate_others,
        "{rate_troubled} vs {rate_others}"
    );
    let surveys = read(dir, "survey_responses");
    let mean = |mine: bool, kind: &str| {
        let v: Vec<f64> = surveys
            .rows
            .iter()
            .filter(|r| r["kind"] == kind && troubled.contains(r["customer_key"].as_str()) == mine)
            .map(|r| r["score"].parse::<f64>().unwrap())
            .collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    };
    assert!(mean(true, "csat") < mean(false, "csat"));
    assert!(mean(true, "nps") < mean(false, "nps"));
}

#[test]
fn a_bad_window_is_refused_and_progress_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let bad = GenConfig {
        start: GenConfig::default().end,
        ..GenConfig::default()
    };
    assert!(generate(&bad, dir.path(), &|_| {}).is_err());
    let seen = std::sync::Mutex::new(Vec::new());
    let cfg = GenConfig {
        customers: 30,
        seed: 1,
        start: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
        ..GenConfig::default()
    };
    let s = generate(&cfg, dir.path(), &|n| seen.lock().unwrap().push(n)).unwrap();
    assert_eq!(seen.lock().unwrap().last(), Some(&30));
    assert_eq!(s.customers, 30);
}

#[test]
fn the_planted_dirt_is_what_the_summary_says_at_the_promised_rates() {
    let b = bank();
    let dir = &b.path;
    let all = planted(dir);
    let flags = all.iter().filter(|p| !p.quarantine).count() as u64;
    let bad = all.iter().filter(|p| p.quarantine).count() as u64;
    assert_eq!(flags, b.summary.flagged_fields);
    assert_eq!(bad, b.summary.quarantine_rows);
    let lines: HashSet<(&str, u64, &str)> = all
        .iter()
        .map(|p| (p.file.as_str(), p.line, p.field.as_str()))
        .collect();
    assert_eq!(lines.len(), all.len(), "a problem is planted once");

    let count = |file: &str, reason: &str| {
        all.iter()
            .filter(|p| p.file == file && p.reason == reason)
            .count()
    };
    let n = CUSTOMERS as f64;
    for (reason, share) in [
        ("id_check_digit", 0.01),
        ("bad_phone", 0.01),
        ("bad_email", 0.005),
    ] {
        let got = count("customers", reason) as f64 / n;
        assert!(
            got > 0.0 && got < 3.0 * share,
            "{reason}: {got} of customers"
        );
    }
    // At least one bad row in each main file, every kind of bad transaction row,
    // and rates of a few in ten thousand.
    for (file, reasons) in [
        (
            "customers",
            &[
                "duplicate_conflict",
                "column_count",
                "bad_date",
                "missing_required",
            ][..],
        ),
        (
            "accounts",
            &[
                "duplicate_conflict",
                "unknown_reference",
                "bad_code",
                "column_count",
            ][..],
        ),
        (
            "transactions",
            &[
                "bad_amount",
                "bad_date",
                "unknown_reference",
                "column_count",
                "duplicate_conflict",
            ][..],
        ),
    ] {
        for reason in reasons {
            assert!(count(file, reason) >= 1, "{file}: no {reason}");
        }
    }
    let txn_rows = b
        .summary
        .files
        .iter()
        .find(|f| f.0 == "transactions")
        .unwrap()
        .2;
    let bad_txns = all.iter().filter(|p| p.file == "transactions").count() as u64;
    assert_eq!(b.summary.transactions + bad_txns, txn_rows);
    let rate = bad_txns as f64 / txn_rows as f64;
    assert!((0.0001..=0.0005).contains(&rate), "{rate}");

    // Quarantined rows are extra: every planted bad row that repeats a key comes after the original.
    for p in all.iter().filter(|p| p.reason == "duplicate_conflict") {
        let t = read(dir, &p.file);
        let at = t.col("source_key").position(|k| k == p.key).unwrap();
        assert!(t.lines[at] < p.line, "{p:?}");
    }

    // Spellings the cleaner must absorb.
    let txns = read(dir, "transactions");
    let iso = |s: &str| s.len() == 10 && s.as_bytes()[4] == b'-';
    assert!(txns.col("booked_on").any(|d| !iso(d)));
    assert!(txns.col("booked_on").any(|d| d.contains('年')));
    assert!(txns.col("amount").any(|a| a.contains(',')));
    let raw = std::fs::read_to_string(dir.join("transactions.csv")).unwrap();
    assert!(raw.contains(",\"-") || raw.contains(",\"1") || raw.contains(",\"2"));
    assert!(raw.lines().any(|l| l.contains(", ") || l.contains(" ,")));
    let customers = read(dir, "customers");
    for g in ["男", "女", "M", "F", "1", "2", "m", "f"] {
        assert!(customers.col("gender").any(|x| x == g), "gender {g}");
    }
    for needle in ["-", "+86 ", "(0)", "0086"] {
        assert!(
            customers.col("phone").any(|p| p.contains(needle)),
            "phone with {needle}"
        );
    }
    assert!(customers
        .col("email")
        .any(|e| e.chars().any(|c| c.is_ascii_uppercase())));
    assert!(b.summary.reformatted_rows > 0);

    // The CRM: about 15 % of the customers, ground truth for every record.
    let crm = read(dir, "crm/customers");
    let expected = read(dir, "crm/expected_merges");
    assert_eq!(crm.rows.len() as u64, b.summary.crm_customers);
    assert_eq!(expected.rows.len(), crm.rows.len());
    let share = crm.rows.len() as f64 / n;
    assert!((0.1..0.25).contains(&share), "{share}");
    let rules: Vec<&str> = expected.col("rule").collect();
    assert_eq!(
        rules.iter().filter(|r| **r != "none").count() as u64,
        b.summary.expected_merges
    );
    for rule in [
        "same_id_number",
        "same_phone_and_name",
        "same_phone_name_and_birth_date",
    ] {
        assert!(rules.contains(&rule), "no {rule}");
    }
    let namesakes = expected
        .rows
        .iter()
        .filter(|r| r["rule"] == "none" && !r["core_key"].is_empty())
        .count();
    let prospects = expected
        .rows
        .iter()
        .filter(|r| r["core_key"].is_empty())
        .count();
    assert!(namesakes >= 1 && prospects >= 1, "{namesakes} {prospects}");
    assert!(crm.col("id_number").any(|i| i.contains(' ')));
}

fn count_by<'a>(items: impl Iterator<Item = &'a str>) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for i in items {
        *m.entry(i.to_string()).or_default() += 1;
    }
    m
}

#[tokio::test]
async fn the_dirty_bank_and_its_crm_load_with_exactly_the_planted_quarantine_flags_and_merges() {
    let b = bank();
    let db = rapport_testkit::TestDb::sqlite().await;
    let store = db.store.clone();
    let opts = rapport_ingest::ImportOptions::default();
    let core = rapport_ingest::import_dir(&store, &b.path, "synth", &opts)
        .await
        .unwrap();
    let crm = rapport_ingest::import_dir(&store, &b.path.join("crm"), "crm", &opts)
        .await
        .unwrap();
    assert!(core.reconciles() && crm.reconciles());
    assert_eq!(
        core.files.len(),
        15,
        "every core file but ground_truth.csv and planted_dirt.csv is imported"
    );
    assert_eq!(
        crm.files.len(),
        3,
        "crm/expected_merges.csv is not imported"
    );

    let all = planted(&b.path);
    let generated = |path: &Path| {
        b.summary
            .files
            .iter()
            .find(|g| g.1 == path)
            .map(|g| g.2)
            .unwrap_or_else(|| panic!("{} was not generated", path.display()))
    };
    for f in &core.files {
        assert_eq!(f.read, generated(Path::new(&f.file)), "{f:?}");
        let bad = all
            .iter()
            .filter(|p| p.quarantine && p.file == f.kind)
            .count() as u64;
        assert_eq!(f.rejected, bad, "{f:?}");
        assert_eq!(f.merged, 0, "{f:?}");
    }
    for f in &crm.files {
        assert_eq!(f.read, generated(Path::new(&f.file)), "{f:?}");
        assert_eq!(f.rejected, 0, "{f:?}");
    }

    // The quarantine holds exactly the planted rows, line for line, with the planted reasons.
    let mut want: Vec<(String, u64, String, String)> = all
        .iter()
        .filter(|p| p.quarantine)
        .map(|p| (p.file.clone(), p.line, p.field.clone(), p.reason.clone()))
        .collect();
    let mut got: Vec<(String, u64, String, String)> = store
        .quarantine_rows(1_000_000)
        .await
        .unwrap()
        .into_iter()
        .map(|q| (q.kind, q.line as u64, q.field.unwrap_or_default(), q.reason))
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);

    // Flags: exactly the planted ones, field by field.
    let counts = store.counts().await.unwrap();
    assert_eq!(counts.flagged_fields as u64, b.summary.flagged_fields);
    let flags_by_field = count_by(
        all.iter()
            .filter(|p| !p.quarantine)
            .map(|p| p.field.as_str()),
    );
    for prof in store.field_profiles().await.unwrap() {
        if prof.entity == "customer" {
            let want = flags_by_field.get(&prof.field).copied().unwrap_or(0);
            assert_eq!(prof.flagged as u64, want, "{}", prof.field);
        }
    }
    let file = std::fs::File::open(b.path.join("customers.csv")).unwrap();
    let check = rapport_ingest::check_csv(
        rapport_ingest::CsvKind::Customers,
        file,
        "customers.csv",
        "synth",
        "86",
    )
    .unwrap();
    let flagged_rows: HashSet<u64> = all
        .iter()
        .filter(|p| !p.quarantine && p.file == "customers")
        .map(|p| p.line)
        .collect();
    let parse_rejects = all
        .iter()
        .filter(|p| p.quarantine && p.file == "customers" && p.reason != "duplicate_conflict")
        .count() as u64;
    assert_eq!(
        (check.rejected, check.flagged_rows),
        (parse_rejects, flagged_rows.len() as u64),
        "{check:?}"
    );

    // Identity resolution recovers the CRM ground truth exactly.
    let mut csv_bytes = Vec::new();
    store
        .export_table_csv("customer_source_key", &mut csv_bytes)
        .await
        .unwrap();
    let mut r = csv::Reader::from_reader(csv_bytes.as_slice());
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let (source, key, customer) = (col("source"), col("source_key"), col("customer_id"));
    let owner: HashMap<(String, String), i64> = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            (
                (rec[source].to_string(), rec[key].to_string()),
                rec[customer].parse().unwrap(),
            )
        })
        .collect();
    let merges: HashMap<String, (i64, String)> = store
        .merges()
        .await
        .unwrap()
        .into_iter()
        .map(|m| {
            assert_eq!(m.source, "crm", "{m:?}");
            (m.source_key, (m.customer_id, m.rule))
        })
        .collect();
    let expected = read(&b.path, "crm/expected_merges");
    let core_customer = |k: &str| owner[&("synth".to_string(), k.to_string())];
    let crm_customer = |k: &str| owner[&("crm".to_string(), k.to_string())];
    let mut merged = 0u64;
    for r in &expected.rows {
        let (crm_key, core_key, rule) = (&r["crm_key"], &r["core_key"], &r["rule"]);
        if rule == "none" {
            assert!(!merges.contains_key(crm_key.as_str()), "{crm_key} merged");
            if !core_key.is_empty() {
                assert_ne!(crm_customer(crm_key), core_customer(core_key), "{crm_key}");
            }
        } else {
            merged += 1;
            let (into, got_rule) = &merges[crm_key.as_str()];
            assert_eq!(got_rule, rule, "{crm_key}");
            assert_eq!(*into, core_customer(core_key), "{crm_key}");
            assert_eq!(crm_customer(crm_key), core_customer(core_key), "{crm_key}");
        }
    }
    assert_eq!(merges.len() as u64, merged, "merges nobody expected");
    assert_eq!(merged, b.summary.expected_merges);
    let crm_customers = crm.files.iter().find(|f| f.kind == "customers").unwrap();
    assert_eq!(
        (crm_customers.merged, crm_customers.loaded),
        (merged, b.summary.crm_customers - merged)
    );

    assert_eq!(
        counts.customers as u64,
        CUSTOMERS + b.summary.crm_customers - merged
    );
    assert_eq!(counts.transactions as u64, b.summary.transactions);
}

#[test]
fn short_and_odd_windows_still_give_a_consistent_bank() {
    for (start, end) in [
        ((2024, 3, 15), (2024, 5, 2)),
        ((2031, 6, 1), (2032, 3, 1)),
        ((2024, 12, 31), (2025, 1, 1)),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let cfg = GenConfig {
            customers: 120,
            seed: 3,
            start: NaiveDate::from_ymd_opt(start.0, start.1, start.2).unwrap(),
            end: NaiveDate::from_ymd_opt(end.0, end.1, end.2).unwrap(),
            ..GenConfig::default()
        };
        generate(&cfg, dir.path(), &|_| {}).unwrap();
        let accounts = read(dir.path(), "accounts");
        let balance: HashMap<&str, i64> = accounts
            .rows
            .iter()
            .map(|r| (r["source_key"].as_str(), money(&r["balance"])))
            .collect();
        let mut last: HashMap<String, i64> = HashMap::new();
        for r in &read(dir.path(), "transactions").rows {
            let on = date(&r["booked_on"]);
            assert!(on >= cfg.start && on < cfg.end, "{on} outside the window");
            if let Some(prev) = last.get(&r["account_key"]) {
                assert_eq!(prev + money(&r["amount"]), money(&r["balance_after"]));
            }
            last.insert(r["account_key"].clone(), money(&r["balance_after"]));
        }
        for (k, b) in &last {
            assert_eq!(balance[k.as_str()], *b);
        }
        let typos: HashSet<u64> = planted(dir.path())
            .into_iter()
            .filter(|p| p.field == "id_number")
            .map(|p| p.line)
            .collect();
        let customers = read(dir.path(), "customers");
        for (r, line) in customers.rows.iter().zip(&customers.lines) {
            assert_eq!(
                ResidentId::parse(&r["id_number"]).is_err(),
                typos.contains(line)
            );
        }
        for r in &accounts.rows {
            assert!(date(&r["opened_on"]) < cfg.end, "{r:?}");
        }
    }
}
