//! `rapport model berka-loans | train | score` end to end on committed real
//! samples: the Berka sample tables of the ingest tests and the churn sample
//! of the models crate.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::BIN;
use rapport_testkit::cli::clean_command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn rapport(args: &[&str]) -> (i32, String, String) {
    let out = clean_command(BIN.as_ref())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running rapport: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn rapport_json(args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = rapport(&all);
    assert_eq!(code, 0, "rapport {args:?} failed: {stderr}\n{stdout}");
    assert_eq!(stdout.trim().lines().count(), 1, "one JSON line: {stdout}");
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn berka_loans_extract_trains_on_a_time_holdout_and_scores_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let extract = dir.path().join("loans.csv");
    let berka = repo("crates/ingest/tests/data/berka");
    let built = rapport_json(&[
        "model",
        "berka-loans",
        "--dir",
        s(&berka),
        "--out",
        s(&extract),
    ]);
    // The sample holds 83 loans: 11 B and 11 D.
    assert_eq!(built["loans"], 83);
    assert_eq!(built["bad"], 22);
    let model = dir.path().join("loans.model.json");
    let v = rapport_json(&[
        "model",
        "train",
        "--data",
        s(&extract),
        "--target",
        "bad",
        "--id",
        "loan_id",
        "--time",
        "loan_date",
        "--algorithm",
        "scorecard",
        "--out",
        s(&model),
    ]);
    assert_eq!(v["scheme"], "time holdout: latest 20 %");
    assert_eq!(v["rows_read"], 83);
    assert_eq!(v["rejected"], 0);
    let folds = v["folds"].as_array().unwrap();
    assert_eq!(folds.len(), 1);
    // The holdout is the latest 20 % of loans.
    assert_eq!(
        folds[0]["test_rows"].as_u64().unwrap() + folds[0]["train_rows"].as_u64().unwrap(),
        83
    );
    assert!(folds[0]["test_rows"].as_u64().unwrap() >= 16);
    for key in ["auc", "ks", "gini", "lift_at_10", "psi"] {
        assert!(v[key].is_number(), "{key} in {v}");
    }
    assert_eq!(v["model"]["algorithm"], "scorecard");
    assert!(!v["model"]["features"].as_array().unwrap().is_empty());
    assert!(v["numeric_features"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "payments"));

    let scores = dir.path().join("scores.csv");
    let scored = rapport_json(&[
        "model",
        "score",
        "--model",
        s(&model),
        "--data",
        s(&extract),
        "--id",
        "loan_id",
        "--out",
        s(&scores),
    ]);
    assert_eq!(scored["scored"], 83);
    let mut reader = csv::Reader::from_path(&scores).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 83);
    let p: f64 = rows[0][1].parse().unwrap();
    assert!((0.0..=1.0).contains(&p));
    let reasons: Value = serde_json::from_str(&rows[0][2]).unwrap();
    assert_eq!(reasons.as_array().unwrap().len(), 3);
    assert_eq!(reasons[0]["unit"], "points");

    // New loans to score: no target column, and only two of them, so some
    // columns hold one value; every row is scored the same as before.
    let text = std::fs::read_to_string(&extract).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let bad_at = header.iter().position(|h| *h == "bad").unwrap();
    let strip = |line: &str| {
        line.split(',')
            .enumerate()
            .filter(|(i, _)| *i != bad_at)
            .map(|(_, c)| c)
            .collect::<Vec<_>>()
            .join(",")
    };
    let fresh = dir.path().join("new_loans.csv");
    let first_two: Vec<String> = std::iter::once(header.join(","))
        .chain(lines.take(2).map(|l| l.to_string()))
        .map(|l| strip(&l))
        .collect();
    std::fs::write(&fresh, first_two.join("\n") + "\n").unwrap();
    let again = dir.path().join("again.csv");
    let scored = rapport_json(&[
        "model",
        "score",
        "--model",
        s(&model),
        "--data",
        s(&fresh),
        "--id",
        "loan_id",
        "--out",
        s(&again),
    ]);
    assert_eq!(scored["scored"], 2);
    let mut reader = csv::Reader::from_path(&again).unwrap();
    let fresh_rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(fresh_rows[0][0], rows[0][0]);
    assert_eq!(fresh_rows[0][1], rows[0][1], "same loan, same probability");
    // --json without --out would drop the rows: refused.
    let (code, _, stderr) = rapport(&[
        "--json",
        "model",
        "score",
        "--model",
        s(&model),
        "--data",
        s(&fresh),
    ]);
    assert_ne!(code, 0);
    assert!(stderr.contains("--out"), "{stderr}");
}

#[test]
fn train_reports_folds_and_bad_input_by_file_and_column() {
    let churn = repo("crates/models/tests/data/churn_sample.csv");
    let v = rapport_json(&[
        "model",
        "train",
        "--data",
        s(&churn),
        "--target",
        "Exited",
        "--exclude",
        "RowNumber,CustomerId,Surname",
        "--algorithm",
        "gbdt",
    ]);
    assert_eq!(v["best"], "gbdt");
    assert_eq!(v["folds"].as_array().unwrap().len(), 5);
    assert!(v["auc"].as_f64().unwrap() > 0.75);

    let (code, _, stderr) =
        rapport(&["model", "train", "--data", s(&churn), "--target", "Churned"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("churn_sample.csv: column Churned: not in the header"),
        "{stderr}"
    );
}
