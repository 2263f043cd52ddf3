//! The `rapport` binary end to end: the JSON contract of each command, and the
//! issue's acceptance stories run through the command line.

use crate::BIN;
use rapport_testkit::cli::clean_command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn rapport(db: &str, args: &[&str]) -> (i32, String, String) {
    let out = clean_command(BIN.as_ref())
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running rapport: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs with `--json` and parses stdout, which must be exactly one JSON object.
fn rapport_json(db: &str, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = rapport(db, &all);
    assert_eq!(code, 0, "rapport {args:?} failed: {stderr}\n{stdout}");
    let v: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("stdout is not one JSON value ({e}): {stdout}"));
    assert!(v.is_object(), "stdout must be a JSON object: {stdout}");
    assert_eq!(
        stdout.trim().lines().count(),
        1,
        "exactly one JSON line: {stdout}"
    );
    v
}

fn db_in(dir: &Path) -> String {
    format!("sqlite://{}/r.db", dir.display())
}

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets")
}

fn n(v: &Value, k: &str) -> i64 {
    v[k].as_i64()
        .unwrap_or_else(|| panic!("{k} missing in {v}"))
}

#[test]
fn report_counts_json_has_every_required_key() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let v = rapport_json(&db_in(dir.path()), &["report", "counts"]);
    for k in [
        "customers",
        "accounts",
        "transactions",
        "loans",
        "cards",
        "standing_orders",
        "card_statements",
        "quarantined",
    ] {
        assert_eq!(n(&v, k), 0, "{k}");
    }
}

#[test]
fn errors_under_json_are_one_json_object_and_a_failing_exit_code() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let missing = dir.path().join("nope.csv");
    let (code, stdout, _) = rapport(
        &db_in(dir.path()),
        &[
            "--json",
            "import",
            "csv",
            "--kind",
            "customers",
            &missing.display().to_string(),
        ],
    );
    assert_ne!(code, 0);
    let v: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert!(
        v["error"].as_str().is_some_and(|e| e.contains("nope.csv")),
        "{v}"
    );
}

#[test]
fn a_broken_canonical_csv_quarantines_each_bad_row_and_reconciles() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let db = db_in(dir.path());
    let customers = dir.path().join("customers.csv");
    std::fs::write(
        &customers,
        "source_key,name,gender,birth_date,id_number,phone,email,city,occupation,annual_income,risk_tolerance,risk_assessed_on,branch\n\
         K1,王伟,男,1949-12-31,11010519491231002X,138 1234 5678,Wang.Wei@Example.com,北京,engineer,\"120,000.00\",C3,2026-01-05,BJ01\n\
         K2,李娜,F,1985/07/09,110105198507090021,13912345678,li@example.cn,上海,teacher,98000,C2,2025-12-01,SH01\n\
         K3,张敏,f,1990-01-01,,13712345678,,广州\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let accounts = dir.path().join("accounts.csv");
    std::fs::write(
        &accounts,
        "source_key,customer_key,type,opened_on,closed_on,currency,balance,credit_limit\n\
         A1,K1,current,2020-01-01,,CNY,\"10,000.00\",\n\
         A2,K2,savings,2021-02-03,,CNY,5000,\n\
         A3,NOBODY,current,2021-02-03,,CNY,5000,\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let txns = dir.path().join("transactions.csv");
    let mut t =
        b"source_key,account_key,booked_on,amount,balance_after,channel,category,counterparty\n\
        T1,A1,2024-03-01,\"8,000.00\",18000,batch,salary,ACME\n\
        T2,A1,2024-03-02,-120.50,17879.50,pos,groceries,\n\
        T3,A1,2024-03-03,abc,,pos,groceries,\n\
        T4,A9,2024-03-03,-10,,pos,groceries,\n\
        T5,A1,2024-03-04\n\
        T6,A1,2024-03-05,-1,,pos,groceries,caf\xe9\n\
        T1,A1,2024-03-01,9000,18000,batch,salary,ACME\n\
        T2,A1,2024-03-02,-120.50,17879.50,pos,groceries,\n"
            .to_vec();
    t.extend_from_slice(b"T7,A2,2024-13-01,-5,,pos,groceries,\n");
    std::fs::write(&txns, t).unwrap_or_else(|e| panic!("{e}"));

    let c = rapport_json(
        &db,
        &[
            "import",
            "csv",
            "--kind",
            "customers",
            &customers.display().to_string(),
        ],
    );
    assert_eq!(
        (n(&c, "read"), n(&c, "loaded"), n(&c, "rejected")),
        (3, 2, 1),
        "{c}"
    );
    let a = rapport_json(
        &db,
        &[
            "import",
            "csv",
            "--kind",
            "accounts",
            &accounts.display().to_string(),
        ],
    );
    assert_eq!(
        (n(&a, "read"), n(&a, "loaded"), n(&a, "rejected")),
        (3, 2, 1),
        "{a}"
    );
    let tr = rapport_json(
        &db,
        &[
            "import",
            "csv",
            "--kind",
            "transactions",
            &txns.display().to_string(),
        ],
    );
    for r in [&c, &a, &tr] {
        assert_eq!(
            n(r, "read"),
            n(r, "loaded") + n(r, "merged") + n(r, "rejected"),
            "{r}"
        );
        let f = &r["files"][0];
        for k in ["file", "kind", "read", "loaded", "merged", "rejected"] {
            assert!(!f[k].is_null(), "files[0].{k} missing in {r}");
        }
    }
    // T1 (twice: the second conflicts), T2 (twice: the second is unchanged) load; T3..T7 are bad.
    assert_eq!(
        (
            n(&tr, "read"),
            n(&tr, "loaded"),
            n(&tr, "merged"),
            n(&tr, "rejected")
        ),
        (9, 2, 1, 6),
        "{tr}"
    );

    let q = rapport_json(&db, &["report", "quarantine", "--limit", "100"]);
    let rows = q["rows"].as_array().cloned().unwrap_or_default();
    let find = |file: &str, line: i64| {
        rows.iter()
            .find(|r| {
                r["file"].as_str().is_some_and(|f| f.ends_with(file))
                    && r["line"].as_i64() == Some(line)
            })
            .map(|r| r["reason"].as_str().unwrap_or_default().to_string())
            .unwrap_or_else(|| panic!("no quarantine row for {file}:{line} in {q}"))
    };
    assert_eq!(find("customers.csv", 4), "column_count");
    assert_eq!(find("accounts.csv", 4), "unknown_reference");
    assert_eq!(find("transactions.csv", 4), "bad_amount");
    assert_eq!(find("transactions.csv", 5), "unknown_reference");
    assert_eq!(find("transactions.csv", 6), "column_count");
    assert_eq!(find("transactions.csv", 7), "invalid_utf8");
    assert_eq!(find("transactions.csv", 8), "duplicate_conflict");
    assert_eq!(find("transactions.csv", 10), "bad_date");

    // The same files again change nothing.
    let before = rapport_json(&db, &["report", "counts"]);
    for (kind, f) in [
        ("customers", &customers),
        ("accounts", &accounts),
        ("transactions", &txns),
    ] {
        rapport_json(
            &db,
            &["import", "csv", "--kind", kind, &f.display().to_string()],
        );
    }
    assert_eq!(rapport_json(&db, &["report", "counts"]), before);
}

#[test]
fn berka_imports_reconcile_and_a_second_run_changes_no_count() {
    let berka = shared().join("berka");
    if !berka.join("client.asc.gz").exists() {
        eprintln!("skipped: {} not present", berka.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let db = db_in(dir.path());
    let r = rapport_json(&db, &["import", "berka", &berka.display().to_string()]);
    assert_eq!(
        n(&r, "read"),
        n(&r, "loaded") + n(&r, "merged") + n(&r, "rejected"),
        "{r}"
    );
    assert_eq!(n(&r, "rejected"), 0, "{r}");
    let counts = rapport_json(&db, &["report", "counts"]);
    assert_eq!(n(&counts, "customers"), 5_369);
    assert_eq!(n(&counts, "accounts"), 4_500);
    assert_eq!(n(&counts, "loans"), 682);
    assert_eq!(n(&counts, "cards"), 892);
    assert_eq!(n(&counts, "standing_orders"), 6_471);
    rapport_json(&db, &["import", "berka", &berka.display().to_string()]);
    assert_eq!(rapport_json(&db, &["report", "counts"]), counts);
}

#[test]
fn gen_into_the_store_then_quality_report() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let db = db_in(dir.path());
    let g = rapport_json(&db, &["gen", "--customers", "150", "--seed", "3"]);
    // The generated bank is dirty on purpose: every planted bad row is rejected, every
    // expected CRM merge happens, and nothing else.
    assert_eq!(
        n(&g["import"], "rejected"),
        n(&g["generated"], "quarantine_rows"),
        "{g}"
    );
    assert_eq!(
        n(&g["import"], "merged"),
        n(&g["generated"], "expected_merges"),
        "{g}"
    );
    let counts = rapport_json(&db, &["report", "counts"]);
    assert!(n(&counts, "customers") >= 140, "{counts}");
    assert!(n(&counts, "transactions") > 1_000, "{counts}");
    let q = rapport_json(&db, &["report", "quality"]);
    assert!(q.to_string().contains("accuracy"), "{q}");
}

#[test]
fn export_writes_a_table_as_csv() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let db = db_in(dir.path());
    rapport_json(&db, &["gen", "--customers", "40", "--seed", "9"]);
    let out = dir.path().join("customers.csv");
    let v = rapport_json(
        &db,
        &[
            "export",
            "table",
            "customer",
            "--out",
            &out.display().to_string(),
        ],
    );
    let text = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        text.lines().count() as i64,
        n(&v, "rows") + 1,
        "header + rows"
    );
    let (code, _, stderr) = rapport(&db, &["export", "table", "pg_shadow"]);
    assert_ne!(code, 0, "{stderr}");
}
