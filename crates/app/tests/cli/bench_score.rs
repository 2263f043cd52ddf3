//! `rapport bench score` end to end on a small generated bank: DuckDB computes
//! the core features from the same store and both sides must agree; a second
//! run reuses the bank, the store, the columnar copy and the export. Needs a
//! Python with duckdb (`RAPPORT_PYTHON`, else python3): without it the test
//! says so and returns (CI installs no duckdb for tests).

use crate::BIN;
use rapport_testkit::cli::clean_command;
use serde_json::Value;
use std::error::Error;
use std::process::Command;

type TestResult = Result<(), Box<dyn Error>>;

/// The Python the bench runs DuckDB with: `RAPPORT_PYTHON`, else python3.
fn python() -> String {
    std::env::var("RAPPORT_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".into())
}

fn duckdb_available() -> bool {
    Command::new(python())
        .args(["-c", "import duckdb"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Runs `rapport --json bench score …` in `dir`; returns the exit code and the JSON object.
fn bench_score(dir: &std::path::Path, extra: &[&str]) -> Result<(i32, Value), Box<dyn Error>> {
    let out = clean_command(BIN.as_ref())
        .args([
            "--json",
            "bench",
            "score",
            "--customers",
            "150",
            "--seed",
            "20261123",
        ])
        .arg("--dir")
        .arg(dir)
        .args(extra)
        .env("RAPPORT_PYTHON", python())
        .output()?;
    let stdout = String::from_utf8(out.stdout)?;
    let value: Value = serde_json::from_str(stdout.trim()).map_err(|e| {
        format!(
            "stdout is not one JSON object ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    Ok((out.status.code().unwrap_or(-1), value))
}

fn number(v: &Value, path: &[&str]) -> Result<f64, Box<dyn Error>> {
    let mut at = v;
    for key in path {
        at = at.get(key).ok_or_else(|| format!("no {path:?} in {v}"))?;
    }
    Ok(at
        .as_f64()
        .ok_or_else(|| format!("{path:?} is not a number in {v}"))?)
}

#[test]
fn the_core_features_agree_with_duckdb_on_a_fresh_bank_and_a_second_run_reuses_it() -> TestResult {
    if !duckdb_available() {
        eprintln!("python3 with duckdb not available: bench score test skipped");
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let (code, first) = bench_score(dir.path(), &[])?;
    assert_eq!(code, 0, "bench score failed: {first}");
    assert_eq!(first["agrees"], Value::Bool(true), "{first}");
    let customers = number(&first, &["store_customers"])?;
    assert!(customers >= 150.0, "{first}");
    assert_eq!(
        number(&first, &["agreement", "customers_compared"])?,
        customers
    );
    assert_eq!(number(&first, &["duckdb", "customers"])?, customers);
    assert!(number(&first, &["feature_stage", "seconds"])? > 0.0);
    assert!(number(&first, &["duckdb", "query_seconds"])? > 0.0);
    assert!(number(&first, &["duckdb", "peak_rss_bytes"])? > 0.0);
    // DuckDB read every transaction the store holds (from the copy's files).
    assert_eq!(
        number(&first, &["duckdb", "rows", "txn"])?,
        number(&first, &["store_transactions"])?
    );

    // Mid-history, on the same bank and store, without generating or loading again.
    let (code, second) = bench_score(dir.path(), &["--as-of", "2024-07-15"])?;
    assert_eq!(code, 0, "second bench score failed: {second}");
    assert_eq!(second["agrees"], Value::Bool(true), "{second}");
    assert_eq!(second["as_of"], Value::String("2024-07-15".into()));
    let stages: Vec<(&str, &str)> = second["preparation"]
        .as_array()
        .ok_or("no preparation")?
        .iter()
        .filter_map(|stage| Some((stage["name"].as_str()?, stage["note"].as_str()?)))
        .collect();
    for name in ["generate", "load", "columnar copy", "export for DuckDB"] {
        assert!(
            stages
                .iter()
                .any(|(n, note)| *n == name && note.starts_with("reused")),
            "{name} must be reused: {stages:?}"
        );
    }
    assert_eq!(number(&second, &["store_customers"])?, customers);
    Ok(())
}
