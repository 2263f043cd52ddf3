//! `rapport bench import`: bulk-load speed of the store, side by side with
//! DuckDB's `read_csv` and `sqlite3 .import` on the same transactions file in
//! the same run. The peers are external programs (python3 with duckdb, the
//! sqlite3 shell); a missing peer is reported as such, never guessed.
//! `rapport bench score` (the scoring benchmark against DuckDB and the
//! agreement check of the core features) lives in `score`.

pub mod api;
mod score;
pub mod stream;

pub use score::bench_score;

use crate::cli::BenchImportArgs;
use crate::output::{emit, progress};
use anyhow::{Context, Result};
use rapport_ingest::synth::{generate, GenConfig};
use rapport_ingest::ImportOptions;
use rapport_services::config::{redact_url, Config};
use serde::Serialize;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

#[derive(Debug, Serialize)]
pub struct Figure {
    pub engine: String,
    pub what: String,
    pub rows: u64,
    pub seconds: f64,
    pub rows_per_sec: f64,
    pub note: String,
}

impl Figure {
    fn new(engine: &str, what: &str, rows: u64, seconds: f64, note: &str) -> Self {
        let rows_per_sec = if seconds > 0.0 {
            rows as f64 / seconds
        } else {
            0.0
        };
        Figure {
            engine: engine.into(),
            what: what.into(),
            rows,
            seconds,
            rows_per_sec,
            note: note.into(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub customers: u64,
    pub transactions: u64,
    pub transactions_csv_bytes: u64,
    pub machine: String,
    pub figures: Vec<Figure>,
}

pub async fn bench_import(cfg: &Config, json: bool, args: BenchImportArgs) -> Result<()> {
    let tmp = tempfile::Builder::new()
        .prefix("rapport-bench-")
        .tempdir()
        .context("creating a temporary directory")?;
    let data_dir = match &args.dir {
        Some(d) => d.clone(),
        None => tmp.path().join("bank"),
    };
    let mut figures = Vec::new();
    let g = GenConfig {
        customers: args.customers,
        seed: args.seed,
        ..GenConfig::default()
    };
    if args.dir.is_none() {
        std::fs::create_dir_all(&data_dir)?;
        let pb = progress(json, Some(g.customers), "generating");
        let pb2 = pb.clone();
        let t = Instant::now();
        let s = generate(&g, &data_dir, &move |n| pb2.set_position(n))?;
        pb.finish_and_clear();
        let rows: u64 = s.files.iter().map(|f| f.2).sum();
        figures.push(Figure::new(
            "rapport gen",
            "all files (CSV)",
            rows,
            t.elapsed().as_secs_f64(),
            "synthetic bank to canonical CSV",
        ));
    }
    let txn_file = data_dir.join("transactions.csv");
    let txn_bytes = std::fs::metadata(&txn_file)
        .with_context(|| format!("{}", txn_file.display()))?
        .len();

    // Rapport into a fresh SQLite file (or the store named by --db when it is PostgreSQL).
    let mut targets = vec![(
        "rapport → SQLite".to_string(),
        format!("sqlite://{}/bench.db", tmp.path().display()),
    )];
    if let Some(pg) = &args.pg {
        targets.push(("rapport → PostgreSQL".to_string(), pg.clone()));
    }
    let mut transactions = 0;
    for (engine, url) in targets {
        let store = rapport_store::Store::connect(&url)
            .await
            .with_context(|| format!("opening {}", redact_url(&url)))?;
        let pb = progress(json, None, "loading");
        let pb2 = pb.clone();
        let opts = ImportOptions {
            default_country: cfg.import.default_country.clone(),
            batch_size: cfg.import.batch_size,
            progress: Some(std::sync::Arc::new(move |n| pb2.set_position(n))),
        };
        let t = Instant::now();
        let report =
            rapport_services::import::load_generated(&store, &data_dir, "synth", &opts).await?;
        let secs = t.elapsed().as_secs_f64();
        pb.finish_and_clear();
        let counts = store.counts().await?;
        store.close().await;
        transactions = counts.transactions as u64;
        figures.push(Figure::new(
            &engine,
            "all files (import dir)",
            report.read,
            secs,
            "clean + validate + resolve + load, one transaction per file",
        ));
    }
    let (rapport_txn, note) = time_rapport_transactions_only(cfg, &data_dir, tmp.path()).await?;
    figures.push(Figure::new(
        "rapport → SQLite",
        "transactions.csv",
        rapport_txn.0,
        rapport_txn.1,
        &note,
    ));
    figures.push(duckdb_read_csv(&txn_file));
    figures.push(sqlite3_import(&txn_file, tmp.path()));

    let report = BenchReport {
        customers: args.customers,
        transactions,
        transactions_csv_bytes: txn_bytes,
        machine: machine(),
        figures,
    };
    emit(json, &report, || render(&report))
}

/// Loads only transactions.csv into a store that already holds its accounts, timing that file alone.
async fn time_rapport_transactions_only(
    cfg: &Config,
    data_dir: &Path,
    tmp: &Path,
) -> Result<((u64, f64), String)> {
    let url = format!("sqlite://{}/txn-only.db", tmp.display());
    let store = rapport_store::Store::connect(&url).await?;
    let opts = ImportOptions {
        default_country: cfg.import.default_country.clone(),
        batch_size: cfg.import.batch_size,
        progress: None,
    };
    for kind in [
        rapport_ingest::CsvKind::Branches,
        rapport_ingest::CsvKind::Customers,
        rapport_ingest::CsvKind::Accounts,
    ] {
        let p = data_dir.join(format!("{}.csv", kind.as_str()));
        rapport_ingest::import_csv(&store, kind, &p, "synth", &opts).await?;
    }
    let t = Instant::now();
    let r = rapport_ingest::import_csv(
        &store,
        rapport_ingest::CsvKind::Transactions,
        &data_dir.join("transactions.csv"),
        "synth",
        &opts,
    )
    .await?;
    let secs = t.elapsed().as_secs_f64();
    store.close().await;
    Ok((
        (r.read, secs),
        "parse + clean + key lookup + dedupe + batched INSERT, indexes maintained".to_string(),
    ))
}

fn duckdb_read_csv(file: &Path) -> Figure {
    let script = "import duckdb,sys,time\n\
        con=duckdb.connect()\n\
        t=time.time()\n\
        con.execute(\"create table t as select * from read_csv(?, header=true, ignore_errors=true)\", [sys.argv[1]])\n\
        n=con.execute('select count(*) from t').fetchone()[0]\n\
        print(n, time.time()-t)\n";
    match Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(file)
        .output()
    {
        Ok(o) if o.status.success() => parse_peer(
            "DuckDB read_csv",
            &String::from_utf8_lossy(&o.stdout),
            "in-memory table, bad rows skipped (ignore_errors), no cleaning",
        ),
        Ok(o) => Figure::new(
            "DuckDB read_csv",
            "transactions.csv",
            0,
            0.0,
            &format!(
                "not run: {}",
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("error")
            ),
        ),
        Err(e) => Figure::new(
            "DuckDB read_csv",
            "transactions.csv",
            0,
            0.0,
            &format!("not run: {e}"),
        ),
    }
}

fn sqlite3_import(file: &Path, tmp: &Path) -> Figure {
    let db = tmp.join("sqlite3-import.db");
    let t = Instant::now();
    let out = Command::new("sqlite3")
        .arg(&db)
        .arg("-cmd")
        .arg("PRAGMA journal_mode=WAL")
        .arg(".mode csv")
        .arg(format!(".import {} txn", file.display()))
        .output();
    let secs = t.elapsed().as_secs_f64();
    match out {
        Ok(o) if o.status.success() => {
            let n = Command::new("sqlite3")
                .arg(&db)
                .arg("select count(*) from txn")
                .output()
                .ok()
                .and_then(|o| {
                    String::from_utf8_lossy(&o.stdout)
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
                .unwrap_or(0);
            Figure::new(
                "sqlite3 .import",
                "transactions.csv",
                n,
                secs,
                "text columns, no types, no indexes, no validation",
            )
        }
        Ok(o) => Figure::new(
            "sqlite3 .import",
            "transactions.csv",
            0,
            0.0,
            &format!("not run: {}", String::from_utf8_lossy(&o.stderr).trim()),
        ),
        Err(e) => Figure::new(
            "sqlite3 .import",
            "transactions.csv",
            0,
            0.0,
            &format!("not run: {e}"),
        ),
    }
}

fn parse_peer(engine: &str, stdout: &str, note: &str) -> Figure {
    let mut it = stdout.split_whitespace();
    let rows = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let secs = it.next().and_then(|s| s.parse().ok()).unwrap_or(0.0);
    Figure::new(engine, "transactions.csv", rows, secs, note)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!("{cores} cores, {cpu}")
}

fn render(r: &BenchReport) -> String {
    let mut s = format!(
        "bulk load: {} customers, {} transactions ({:.1} MB transactions.csv), {}\n\n| engine | input | rows | seconds | rows/s | note |\n|---|---|---:|---:|---:|---|\n",
        r.customers,
        r.transactions,
        r.transactions_csv_bytes as f64 / 1e6,
        r.machine
    );
    for f in &r.figures {
        s.push_str(&format!(
            "| {} | {} | {} | {:.2} | {:.0} | {} |\n",
            f.engine, f.what, f.rows, f.seconds, f.rows_per_sec, f.note
        ));
    }
    s
}
