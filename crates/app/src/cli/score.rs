//! `rapport score`, `rapport export features` and `rapport export scores`:
//! parse the dates, run the pipeline or read what it stored, print.

use crate::cli::ScoreArgs;
use crate::output::emit;
use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use rapport_services::config::Config;
use rapport_services::import::open;
use rapport_services::scoring::resolve_as_of;
use rapport_services::scoring::{features, run_scoring, ScoringOptions, ScoringReport};
use rapport_store::DEFAULT_SCAN_CHUNK_ROWS;
use serde_json::json;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

pub async fn score(cfg: &Config, json: bool, args: ScoreArgs) -> Result<()> {
    let store = open(&cfg.database.url).await?;
    let as_of = match (&args.features, &args.as_of) {
        (Some(dir), None) => rapport_services::scoring::precomputed_as_of(dir)?,
        _ => resolve_as_of(&store, args.as_of.as_deref()).await?,
    };
    let extract_date = match &args.extract_date {
        Some(s) => Some(
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .with_context(|| format!("--extract-date {s:?}: expected a date as YYYY-MM-DD"))?,
        ),
        None => None,
    };
    // The files given here win over the configuration's `[scoring]` files;
    // both are read by the one loader (errors name the file and the key).
    let mut files = cfg.scoring.clone();
    let given = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
    if let Some(p) = given(&args.scorecard) {
        files.scorecard = Some(p);
    }
    if let Some(p) = given(&args.rules) {
        files.rules = Some(p);
    }
    if let Some(p) = given(&args.segments) {
        files.segments = Some(p);
    }
    let opts = ScoringOptions {
        extract_date,
        chunk_rows: args.chunk_rows,
        analytics_dir: rapport_services::analytics_copy::default_dir(&cfg.database.url),
        precomputed: args.features.clone(),
        ..ScoringOptions::from_config(&files)?
    };
    let report = run_scoring(&store, as_of, &opts).await;
    store.close().await;
    let report = report?;
    emit(json, &report, || render_report(&report))
}

/// The portfolio distribution, the migration matrix and the stage timings as text.
pub(crate) fn render_report(r: &ScoringReport) -> String {
    let mut s = format!(
        "scored {} customers as of {} (run {}, scorecard {}) in {:.1}s\n\n",
        r.customers, r.as_of, r.run_id, r.scorecard, r.total_seconds
    );
    s.push_str(&format!(
        "transactions read from the {}\n\n",
        r.transactions_from
    ));
    let n = r.customers.max(1) as f64;
    s.push_str("band        customers   share\n");
    let order = |b: &str| ["healthy", "watch", "at_risk"].iter().position(|x| *x == b);
    let mut bands: Vec<(&String, &u64)> = r.bands.iter().collect();
    bands.sort_by_key(|(b, _)| (order(b).unwrap_or(usize::MAX), (*b).clone()));
    for (band, count) in bands {
        s.push_str(&format!(
            "{band:<10} {count:>10} {:>6.1}%\n",
            *count as f64 * 100.0 / n
        ));
    }
    s.push_str(&format!(
        "mean score {:.1}\n\nscore      customers\n",
        r.mean_score
    ));
    let widest = r.histogram.iter().copied().max().unwrap_or(0).max(1) as f64;
    for (i, count) in r.histogram.iter().enumerate() {
        let bar = "#".repeat(((*count as f64 / widest) * 40.0).round() as usize);
        s.push_str(&format!(
            "{:>3}-{:<3} {count:>10} {bar}\n",
            i * 10,
            i * 10 + 10
        ));
    }
    match r.previous_as_of {
        None => s.push_str("\nno earlier scoring run: no band migration yet\n"),
        Some(prev) => {
            s.push_str(&format!(
                "\nband migration from {prev} (rows) to {} (columns)\n",
                r.as_of
            ));
            let bands = ["healthy", "watch", "at_risk"];
            s.push_str(&format!("{:<10}", ""));
            for b in bands {
                s.push_str(&format!(" {b:>10}"));
            }
            s.push('\n');
            for from in bands {
                s.push_str(&format!("{from:<10}"));
                for to in bands {
                    let c = r
                        .migration
                        .iter()
                        .find(|m| m.from_band == from && m.to_band == to)
                        .map_or(0, |m| m.customers);
                    s.push_str(&format!(" {c:>10}"));
                }
                s.push('\n');
            }
        }
    }
    s.push_str("\nsegment                          customers  description\n");
    for seg in &r.segments {
        s.push_str(&format!(
            "{:<32} {:>9}  {}\n",
            seg.code, seg.customers, seg.description
        ));
    }
    if let Some(note) = &r.clustering_note {
        s.push_str(&format!("clustering skipped: {note}\n"));
    }
    s.push_str(&format!(
        "\nalerts raised: {} (customers newly assigned to an RM: {})\n",
        r.alerts.raised, r.rm_assigned
    ));
    for (rule, n) in &r.alerts.by_rule {
        s.push_str(&format!("  {rule:<30} {n:>8}\n"));
    }
    s.push_str("\nstage                 seconds        rows\n");
    for st in &r.stages {
        s.push_str(&format!(
            "{:<20} {:>8.2} {:>11}\n",
            st.name, st.seconds, st.rows
        ));
    }
    s
}

/// A file to write to, or stdout (refused with --json: stdout carries the summary).
fn output(out: &Option<PathBuf>, json: bool) -> Result<Box<dyn Write>> {
    match out {
        Some(path) => {
            // Mode 0600: features and scores are customer data.
            let f = rapport_store::create_private_file(path)
                .with_context(|| format!("creating {}", path.display()))?;
            Ok(Box::new(std::io::BufWriter::new(f)))
        }
        None if json => bail!("with --json, give --out FILE (stdout carries the JSON summary)"),
        None => Ok(Box::new(std::io::BufWriter::new(std::io::stdout()))),
    }
}

pub async fn export_features(
    cfg: &Config,
    json: bool,
    as_of: Option<String>,
    out: Option<PathBuf>,
) -> Result<()> {
    let store = open(&cfg.database.url).await?;
    let as_of = resolve_as_of(&store, as_of.as_deref()).await?;
    let table = features(&store, as_of, &ScoringOptions::default()).await;
    store.close().await;
    let table = table?;
    let mut w = output(&out, json)?;
    let rows = table.write_csv(&mut w)?;
    w.flush()?;
    drop(w);
    let file = out.map(|p| p.display().to_string());
    let columns = table.columns.len();
    match &file {
        Some(f) => emit(
            json,
            &json!({ "as_of": as_of, "rows": rows, "features": columns, "file": f }),
            || format!("wrote {rows} customers × {columns} features as of {as_of} to {f}"),
        ),
        None => {
            eprintln!("wrote {rows} customers × {columns} features as of {as_of}");
            Ok(())
        }
    }
}

/// The human label of a stored factor: its `label` when it has one.
fn factor_label(f: &serde_json::Value) -> String {
    match f.get("label").and_then(|l| l.as_str()) {
        Some(l) => l.to_string(),
        None => f.to_string(),
    }
}

pub async fn export_scores(
    cfg: &Config,
    json: bool,
    as_of: Option<String>,
    out: Option<PathBuf>,
) -> Result<()> {
    let store = open(&cfg.database.url).await?;
    let as_of = match as_of {
        Some(s) => NaiveDate::parse_from_str(&s, "%Y-%m-%d")
            .with_context(|| format!("--as-of {s:?}: expected a date as YYYY-MM-DD"))?,
        None => match store.score_runs().await?.first() {
            Some(run) => run.as_of,
            None => bail!("no scoring run in the store: run `rapport score` first"),
        },
    };
    let scores = store.health_scores(as_of).await?;
    let mut keys: HashMap<i64, String> = HashMap::new();
    store
        .scan_customers(DEFAULT_SCAN_CHUNK_ROWS, |c| {
            for i in 0..c.len() {
                let key = c.key.get(i);
                let id = c.id[i];
                keys.insert(
                    id,
                    if key.is_empty() {
                        format!("#{id}")
                    } else {
                        key.to_string()
                    },
                );
            }
        })
        .await?;
    store.close().await;
    if scores.is_empty() {
        bail!("no scores stored as of {as_of}: run `rapport score --as-of {as_of}` first");
    }
    let mut w = csv::Writer::from_writer(output(&out, json)?);
    w.write_record([
        "customer_key",
        "score",
        "band",
        "factor_1",
        "factor_2",
        "factor_3",
    ])?;
    for s in &scores {
        let factors: Vec<serde_json::Value> = serde_json::from_str(&s.factors).unwrap_or_default();
        let mut record = vec![
            keys.get(&s.customer_id)
                .cloned()
                .unwrap_or_else(|| format!("#{}", s.customer_id)),
            format!("{:.1}", s.score),
            s.band.clone(),
        ];
        for k in 0..3 {
            record.push(factors.get(k).map(factor_label).unwrap_or_default());
        }
        w.write_record(rapport_domain::text::spreadsheet_record(&record))?;
    }
    w.flush()?;
    drop(w);
    let rows = scores.len();
    match out {
        Some(f) => {
            let f = f.display().to_string();
            emit(
                json,
                &json!({ "as_of": as_of, "rows": rows, "file": f }),
                || format!("wrote {rows} scores as of {as_of} to {f}"),
            )
        }
        None => {
            eprintln!("wrote {rows} scores as of {as_of}");
            Ok(())
        }
    }
}
