//! The scoring commands of the `rapport` binary end to end on SQLite: a
//! generated bank imported the way an operator would (`gen --out`, then
//! `import dir` for the core files and for the CRM extract), then `score`
//! twice (distribution, stages, band migration), `export scores` and
//! `export features` (their CSV contracts), the alert workflow
//! (`alert list|ack|action|close`, illegal moves refused) and `stream` (a good
//! line raises a stored live alert, a bad line is reported by number and skipped).
//!
//! All steps share one bank and one store, built once: the steps run in order
//! in a single test because each builds on what the previous one stored.
//! Never touches another test's files: everything lives in its own temporary
//! directory.

use crate::BIN;
use anyhow::{bail, ensure, Context, Result};
use rapport_testkit::cli::clean_command;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::process::Stdio;

/// What one run of the binary produced.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn rapport(db: &str, args: &[&str]) -> Result<Run> {
    rapport_with_stdin(db, args, None)
}

fn rapport_with_stdin(db: &str, args: &[&str], stdin: Option<&str>) -> Result<Run> {
    let mut child = clean_command(BIN.as_ref())
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting rapport {args:?}"))?;
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().context("the child's stdin")?;
        pipe.write_all(text.as_bytes())?;
        // Dropping the pipe closes stdin: the end of the stream.
    }
    let out = child.wait_with_output()?;
    Ok(Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Runs with `--json`, requires success and parses stdout as one JSON object.
fn rapport_json(db: &str, args: &[&str]) -> Result<Value> {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let run = rapport(db, &all)?;
    ensure!(
        run.code == 0,
        "rapport {args:?} failed ({}): {}\n{}",
        run.code,
        run.stderr,
        run.stdout
    );
    let v: Value = serde_json::from_str(run.stdout.trim())
        .with_context(|| format!("stdout of {args:?} is not one JSON value: {}", run.stdout))?;
    ensure!(
        v.is_object(),
        "stdout must be a JSON object: {}",
        run.stdout
    );
    Ok(v)
}

fn int(v: &Value, key: &str) -> Result<i64> {
    v[key]
        .as_i64()
        .with_context(|| format!("{key} missing or not an integer in {v}"))
}

fn text<'a>(v: &'a Value, key: &str) -> Result<&'a str> {
    v[key]
        .as_str()
        .with_context(|| format!("{key} missing or not a string in {v}"))
}

fn path_arg(p: &Path) -> String {
    p.display().to_string()
}

/// The first account of `customer_key` in the generated accounts.csv.
fn first_account_of(bank: &Path, customer_key: &str) -> Result<String> {
    let mut reader = csv::Reader::from_path(bank.join("accounts.csv"))?;
    let headers = reader.headers()?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("accounts.csv has no {name} column"))
    };
    let (key_at, owner_at, type_at) = (
        column("source_key")?,
        column("customer_key")?,
        column("type")?,
    );
    for record in reader.records() {
        let record = record?;
        if record.get(owner_at) == Some(customer_key) && record.get(type_at) == Some("current") {
            if let Some(key) = record.get(key_at) {
                return Ok(key.to_string());
            }
        }
    }
    bail!("no current account of {customer_key} in accounts.csv")
}

/// Builds the bank and the store: `gen --out`, `import dir`, `import dir crm --source crm`.
fn generate_and_import(dir: &Path, db: &str) -> Result<std::path::PathBuf> {
    let bank = dir.join("bank");
    let g = rapport_json(
        db,
        &[
            "gen",
            "--customers",
            "300",
            "--seed",
            "7",
            "--out",
            &path_arg(&bank),
        ],
    )?;
    ensure!(int(&g, "customers")? == 300, "{g}");
    ensure!(
        bank.join("crm").is_dir(),
        "gen writes the CRM extract in crm/"
    );
    let core = rapport_json(db, &["import", "dir", &path_arg(&bank)])?;
    ensure!(int(&core, "loaded")? > 0, "{core}");
    let crm = rapport_json(
        db,
        &[
            "import",
            "dir",
            &path_arg(&bank.join("crm")),
            "--source",
            "crm",
        ],
    )?;
    ensure!(
        int(&crm, "merged")? > 0,
        "CRM customers are joined to core ones: {crm}"
    );
    Ok(bank)
}

fn check_first_score(db: &str) -> Result<i64> {
    let s = rapport_json(db, &["score", "--as-of", "2024-12-01"])?;
    ensure!(text(&s, "as_of")? == "2024-12-01", "{s}");
    let customers = int(&s, "customers")?;
    ensure!(customers > 0, "{s}");
    let bands = s["bands"].as_object().context("bands is an object")?;
    let mut band_total = 0;
    for (band, count) in bands {
        ensure!(
            ["healthy", "watch", "at_risk"].contains(&band.as_str()),
            "unknown band {band}"
        );
        band_total += count.as_i64().context("a band count is an integer")?;
    }
    ensure!(
        band_total == customers,
        "bands sum to {band_total}, not {customers}: {s}"
    );
    let histogram_total: i64 = s["histogram"]
        .as_array()
        .context("histogram is an array")?
        .iter()
        .filter_map(Value::as_i64)
        .sum();
    ensure!(histogram_total == customers, "{s}");
    let stages: HashSet<&str> = s["stages"]
        .as_array()
        .context("stages is an array")?
        .iter()
        .filter_map(|st| st["name"].as_str())
        .collect();
    for stage in ["features", "health", "segments", "alerts"] {
        ensure!(stages.contains(stage), "no stage {stage} in {stages:?}");
    }
    ensure!(
        s["previous_as_of"].is_null(),
        "first run has no previous: {s}"
    );
    ensure!(
        s["migration"].as_array().is_some_and(Vec::is_empty),
        "first run has no migration: {s}"
    );
    Ok(customers)
}

fn check_second_score(db: &str) -> Result<i64> {
    let s = rapport_json(db, &["score", "--as-of", "2025-01-01"])?;
    let customers = int(&s, "customers")?;
    ensure!(text(&s, "previous_as_of")? == "2024-12-01", "{s}");
    let migration = s["migration"].as_array().context("migration is an array")?;
    ensure!(!migration.is_empty(), "the migration matrix is empty: {s}");
    let mut moved = 0;
    for m in migration {
        for band in [text(m, "from_band")?, text(m, "to_band")?] {
            ensure!(
                ["healthy", "watch", "at_risk"].contains(&band),
                "unknown band in {m}"
            );
        }
        let n = int(m, "customers")?;
        ensure!(n > 0, "a migration cell of 0 customers is listed: {m}");
        moved += n;
    }
    ensure!(
        moved <= customers,
        "the migration counts {moved} customers, more than the {customers} scored"
    );
    Ok(customers)
}

fn check_export_scores(db: &str, dir: &Path, customers: i64) -> Result<()> {
    let out = dir.join("scores.csv");
    let e = rapport_json(
        db,
        &[
            "export",
            "scores",
            "--as-of",
            "2025-01-01",
            "--out",
            &path_arg(&out),
        ],
    )?;
    ensure!(int(&e, "rows")? == customers, "{e}");
    let mut reader = csv::Reader::from_path(&out)?;
    let header: Vec<String> = reader.headers()?.iter().map(str::to_string).collect();
    ensure!(
        header.join(",") == "customer_key,score,band,factor_1,factor_2,factor_3",
        "header {header:?}"
    );
    let mut keys = HashSet::new();
    let mut bands: BTreeMap<String, i64> = BTreeMap::new();
    for record in reader.records() {
        let record = record?;
        ensure!(
            record.len() == 6,
            "a row of {} fields: {record:?}",
            record.len()
        );
        let key = record.get(0).context("customer_key")?;
        ensure!(!key.is_empty(), "an empty customer_key: {record:?}");
        ensure!(keys.insert(key.to_string()), "customer {key} twice");
        let score: f64 = record
            .get(1)
            .context("score")?
            .parse()
            .with_context(|| format!("score of {record:?}"))?;
        ensure!((0.0..=100.0).contains(&score), "score {score} of {key}");
        let band = record.get(2).context("band")?;
        ensure!(
            ["healthy", "watch", "at_risk"].contains(&band),
            "band {band:?} of {key}"
        );
        *bands.entry(band.to_string()).or_default() += 1;
        ensure!(
            !record.get(3).unwrap_or_default().is_empty(),
            "{key} has no first factor"
        );
    }
    ensure!(
        keys.len() as i64 == customers,
        "{} rows for {customers} customers",
        keys.len()
    );
    ensure!(
        bands.len() >= 2,
        "a generated bank spreads over bands: {bands:?}"
    );
    Ok(())
}

fn check_export_features(db: &str, dir: &Path, customers: i64) -> Result<()> {
    let out = dir.join("features.csv");
    let e = rapport_json(
        db,
        &[
            "export",
            "features",
            "--as-of",
            "2025-01-01",
            "--out",
            &path_arg(&out),
        ],
    )?;
    ensure!(int(&e, "rows")? == customers, "{e}");
    let mut reader = csv::Reader::from_path(&out)?;
    let header: Vec<String> = reader.headers()?.iter().map(str::to_string).collect();
    ensure!(
        header.starts_with(&["customer_key".to_string(), "txn_count_30".to_string()]),
        "header {header:?}"
    );
    ensure!(int(&e, "features")? as usize == header.len() - 1, "{e}");
    let rows = reader.records().count();
    ensure!(rows as i64 == customers, "{rows} rows for {customers}");
    Ok(())
}

/// Runs a transition that must succeed and returns the alert's new status.
fn transition(db: &str, args: &[&str]) -> Result<String> {
    let v = rapport_json(db, args)?;
    Ok(text(&v["alert"], "status")?.to_string())
}

/// Runs a transition that must be refused: non-zero exit and a message naming the alert.
fn refused(db: &str, args: &[&str], expected: &str) -> Result<()> {
    let run = rapport(db, args)?;
    ensure!(
        run.code != 0,
        "{args:?} should fail: {}{}",
        run.stdout,
        run.stderr
    );
    ensure!(
        run.stderr.contains(expected),
        "{args:?}: stderr should say {expected:?}: {}",
        run.stderr
    );
    Ok(())
}

fn check_alert_workflow(db: &str) -> Result<()> {
    let list = rapport_json(db, &["alert", "list", "--status", "new", "--limit", "500"])?;
    let alerts = list["alerts"].as_array().context("alerts is an array")?;
    ensure!(
        alerts.len() >= 2,
        "the two runs raise alerts on a generated bank: {list}"
    );
    ensure!(int(&list, "count")? == alerts.len() as i64, "{list}");
    for a in alerts {
        ensure!(text(a, "status")? == "new", "{a}");
        ensure!(text(a, "origin")? == "batch", "{a}");
        ensure!(
            ["low", "medium", "high", "critical"].contains(&text(a, "severity")?),
            "{a}"
        );
        ensure!(
            a["assignee_id"].is_i64() || a["queue"].is_string(),
            "every alert is routed to an RM or a queue: {a}"
        );
        ensure!(a["evidence"]["features"].is_object(), "{a}");
    }
    let first = int(&alerts[0], "id")?.to_string();
    let second = int(&alerts[1], "id")?.to_string();

    // new → closed skips the workflow.
    refused(
        db,
        &[
            "alert",
            "close",
            &first,
            "--actor",
            "agent01",
            "--disposition",
            "resolved",
        ],
        &format!("alert {first} is new: it cannot become closed"),
    )?;
    // new → actioned too.
    refused(
        db,
        &["alert", "action", &first, "--actor", "agent01"],
        &format!("alert {first} is new"),
    )?;
    ensure!(
        transition(db, &["alert", "ack", &first, "--actor", "agent01"])? == "acknowledged",
        "ack"
    );
    // Acknowledging twice is not a move of the workflow.
    refused(
        db,
        &["alert", "ack", &first, "--actor", "agent01"],
        &format!("alert {first} is acknowledged"),
    )?;
    ensure!(
        transition(
            db,
            &[
                "alert",
                "action",
                &first,
                "--actor",
                "agent01",
                "--note",
                "called the customer"
            ]
        )? == "actioned",
        "action"
    );
    // Closing needs a disposition.
    refused(
        db,
        &["alert", "close", &first, "--actor", "agent01"],
        "requires a disposition",
    )?;
    let closed = rapport_json(
        db,
        &[
            "alert",
            "close",
            &first,
            "--actor",
            "agent01",
            "--disposition",
            "customer_contacted",
        ],
    )?;
    ensure!(text(&closed["alert"], "status")? == "closed", "{closed}");
    ensure!(
        text(&closed["alert"], "disposition")? == "customer_contacted",
        "{closed}"
    );
    // Nothing leaves closed.
    refused(
        db,
        &["alert", "ack", &first, "--actor", "agent01"],
        &format!("alert {first} is closed"),
    )?;

    // An acknowledged alert may be closed directly (dismissed).
    ensure!(transition(db, &["alert", "ack", &second, "--actor", "agent01"])? == "acknowledged");
    ensure!(
        transition(
            db,
            &[
                "alert",
                "close",
                &second,
                "--actor",
                "agent01",
                "--disposition",
                "false_positive"
            ]
        )? == "closed"
    );

    // The history holds every accepted change, none of the refused ones.
    let shown = rapport_json(db, &["alert", "show", &first])?;
    let events = shown["events"].as_array().context("events is an array")?;
    let moves: Vec<(Option<&str>, &str)> = events
        .iter()
        .map(|e| {
            (
                e["from_status"].as_str(),
                e["to_status"].as_str().unwrap_or("?"),
            )
        })
        .filter(|(from, _)| from.is_some())
        .collect();
    ensure!(
        moves
            == vec![
                (Some("new"), "acknowledged"),
                (Some("acknowledged"), "actioned"),
                (Some("actioned"), "closed"),
            ],
        "history of alert {first}: {events:?}"
    );
    ensure!(
        events.iter().all(|e| e["actor"].as_str().is_some()),
        "{events:?}"
    );
    let closed_alerts = rapport_json(db, &["alert", "list", "--status", "closed"])?;
    ensure!(int(&closed_alerts, "count")? == 2, "{closed_alerts}");
    Ok(())
}

fn check_stream(db: &str, bank: &Path) -> Result<()> {
    let account = first_account_of(bank, "C0000001")?;
    // One outflow of 25,000 is at least 20,000 and at least half of any
    // balance a generated current account holds: `large_outflow` fires.
    let good = serde_json::json!({
        "account": account,
        "booked_on": "2025-01-01",
        "amount": "-25000.00",
        "balance_after": "-21000.00",
        "category": "transfer_out",
        "channel": "online",
        "source_key": "STREAM-1",
    });
    let bad = serde_json::json!({
        "account": account,
        "booked_on": "2025-01-01",
        "amount": "-1.234",
        "category": "shopping",
        "channel": "mobile",
        "source_key": "STREAM-2",
    });
    let input = format!("{good}\n{bad}\n");
    let run = rapport_with_stdin(db, &["stream", "--as-of", "2025-01-01"], Some(&input))?;
    ensure!(
        run.code == 0,
        "a bad line must not fail the stream: {}",
        run.stderr
    );
    ensure!(
        run.stderr.contains("line 2: amount:"),
        "the bad line is reported with its number and field: {}",
        run.stderr
    );
    ensure!(
        !run.stderr.contains("line 1:"),
        "the good line is taken: {}",
        run.stderr
    );
    ensure!(
        run.stderr.contains("1 transactions (1 lines skipped)"),
        "summary: {}",
        run.stderr
    );
    let raised: Vec<Value> = run
        .stdout
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .with_context(|| format!("stdout is NDJSON: {}", run.stdout))?;
    ensure!(raised.len() == 1, "one alert: {}", run.stdout);
    let alert = &raised[0];
    ensure!(text(alert, "rule")? == "large_outflow", "{alert}");
    ensure!(text(alert, "origin")? == "live", "{alert}");
    ensure!(
        text(alert, "raised_on")? == "2025-01-02",
        "judged as of the next day: {alert}"
    );
    ensure!(
        text(&alert["evidence"]["transactions"][0], "source_key")? == "STREAM-1",
        "{alert}"
    );

    // The live alert is stored, and the workflow sees it.
    let stored = rapport_json(db, &["alert", "list", "--rule", "large_outflow"])?;
    let id = int(alert, "id")?;
    let found = stored["alerts"]
        .as_array()
        .context("alerts is an array")?
        .iter()
        .find(|a| a["id"].as_i64() == Some(id))
        .with_context(|| format!("live alert {id} not stored: {stored}"))?;
    ensure!(text(found, "status")? == "new", "{found}");
    ensure!(text(found, "origin")? == "live", "{found}");

    // JSON summary on stderr under --json, still no crash on garbage.
    let run = rapport_with_stdin(
        db,
        &["--json", "stream", "--as-of", "2025-01-01"],
        Some("not json\n"),
    )?;
    ensure!(run.code == 0, "{}", run.stderr);
    ensure!(run.stderr.contains("line 1: json:"), "{}", run.stderr);
    let summary: Value = run
        .stderr
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .with_context(|| format!("a JSON summary on stderr: {}", run.stderr))?;
    ensure!(int(&summary, "skipped")? == 1, "{summary}");
    ensure!(int(&summary, "transactions")? == 0, "{summary}");
    ensure!(int(&summary, "alerts")? == 0, "{summary}");
    Ok(())
}

#[test]
fn a_generated_bank_is_scored_exported_alerted_and_streamed() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let db = format!("sqlite://{}/r.db", dir.path().display());
    let bank = generate_and_import(dir.path(), &db)?;
    let first = check_first_score(&db)?;
    let second = check_second_score(&db)?;
    ensure!(
        first == second,
        "the same customers are scored on both dates"
    );
    check_export_scores(&db, dir.path(), second)?;
    check_export_features(&db, dir.path(), second)?;
    check_alert_workflow(&db)?;
    check_stream(&db, &bank)?;
    Ok(())
}
