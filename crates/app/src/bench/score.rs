//! `rapport bench score`: the scoring benchmark, side by side with DuckDB, and
//! the agreement check of the core features.
//!
//! Owns the run: a generated bank in a working directory (reused when it was
//! generated with the same size and seed), a store loaded from it (reused
//! likewise), Rapport's feature stage and whole scoring timed with their peak
//! memory, the store's small tables exported as CSV for DuckDB (reused under
//! `--dir` while the store is the same), the transactions handed to DuckDB as
//! the columnar copy's Parquet files, the DuckDB child process
//! (`bench/duckdb_features.py`, embedded in the binary) and the comparison of
//! the two outputs by customer key.
//!
//! Must never compute a feature itself (definitions live in the feature engine
//! and in the DuckDB SQL, nowhere here), never let DuckDB see anything but the
//! store's rows (its export, and the copy, which is current with the store and
//! whose features are checked equal to the store's), and never report
//! agreement it has not checked: a
//! mismatch, a missing customer or a missing peer makes the command fail
//! (exit code 1; with `--json` the report, with `agrees: false`, is still the
//! one object on stdout).

use crate::cli::BenchScoreArgs;
use crate::output::{emit, progress};
use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use rapport_analytics::{FeatureEngine, FeatureTable};
use rapport_ingest::synth::{generate, GenConfig};
use rapport_ingest::ImportOptions;
use rapport_services::config::{redact_url, Config, DEFAULT_DB_URL};
use rapport_store::{DayRange, Store, DEFAULT_SCAN_CHUNK_ROWS};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The DuckDB side: loads the exported tables and computes the core features with SQL.
const DUCKDB_SCRIPT: &str = include_str!("../../../../bench/duckdb_features.py");

/// The tables the core features read, exported from the store for DuckDB as
/// CSV. The transactions are not among them: DuckDB reads them from the
/// columnar copy's Parquet files (the parts its manifest lists), the same
/// rows the store holds (the copy is current, and the bench checks that the
/// features read from it equal those read from the store).
const EXPORTED_TABLES: [&str; 4] = ["customer", "customer_source_key", "account", "account_role"];
/// The list of the copy's Parquet files handed to DuckDB, one path per line.
const TXN_PARTS_LIST: &str = "txn_parts.txt";

/// Relative tolerance for money sums (the issue: "sums within 1e-6 relative").
const SUM_RELATIVE_TOLERANCE: f64 = 1e-6;

/// How a core feature is compared: counts exactly, sums within the tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Exact,
    RelativeSum,
}

/// The core features of issue 3 (docs/FEATURES.md, "Core features"), in the
/// column order of DuckDB's output.
const CORE_FEATURES: [(&str, Comparison); 8] = [
    ("txn_count_30", Comparison::Exact),
    ("txn_count_90", Comparison::Exact),
    ("inflow_90", Comparison::RelativeSum),
    ("outflow_90", Comparison::RelativeSum),
    ("max_outflow_90", Comparison::RelativeSum),
    ("days_since_last_txn", Comparison::Exact),
    ("balance_now", Comparison::RelativeSum),
    ("salary_months_6", Comparison::Exact),
];

/// Mismatches listed in full in the report (all are counted).
const FIRST_MISMATCHES_SHOWN: usize = 10;

/// Written next to a generated bank once generation has finished: what it is.
const BANK_MARKER: &str = "bank.json";
/// Written once the bank is fully loaded into a store: which bank, which store.
const STORE_MARKER: &str = "store.json";
/// Written once the tables DuckDB reads are fully exported: from which store,
/// and how many rows each table had.
const EXPORT_MARKER: &str = "export.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct BankMarker {
    generator: GenConfig,
    customers: u64,
    transactions: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoreMarker {
    generator: GenConfig,
    database: String,
}

/// What an export under `--dir` was taken from: the loaded store (its
/// marker) and the rows of each exported table. Scoring runs write scores
/// and alerts, never these tables, so the export stays valid across runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ExportMarker {
    store: StoreMarker,
    /// The store's customers, accounts and transactions when exported.
    counts: [i64; 3],
    rows: u64,
}

/// One timed step of the run.
#[derive(Debug, Serialize)]
pub struct StageFigure {
    pub name: String,
    pub seconds: f64,
    pub rows: u64,
    pub rows_per_sec: f64,
    pub note: String,
}

impl StageFigure {
    fn new(name: &str, seconds: f64, rows: u64, note: impl Into<String>) -> Self {
        StageFigure {
            name: name.to_string(),
            seconds,
            rows,
            rows_per_sec: per_sec(rows, seconds),
            note: note.into(),
        }
    }
}

fn per_sec(rows: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        rows as f64 / seconds
    } else {
        0.0
    }
}

/// Rapport's feature stage: `FeatureEngine::compute` over the whole store.
#[derive(Debug, Serialize)]
pub struct FeatureStage {
    /// Where the transactions were read from: the columnar copy or the store.
    pub source: String,
    pub seconds: f64,
    pub customers: u64,
    pub transactions: u64,
    pub transactions_per_sec: f64,
    pub chunk_rows: usize,
    /// Peak resident memory of this process during the stage (VmHWM after a reset), when known.
    pub peak_rss_bytes: Option<u64>,
}

/// What the DuckDB child process reports (`bench/duckdb_features.py`).
#[derive(Debug, Serialize, Deserialize)]
pub struct DuckdbSide {
    pub duckdb_version: String,
    pub threads: serde_json::Value,
    pub rows: HashMap<String, u64>,
    pub customers: u64,
    pub load_seconds: f64,
    pub query_seconds: f64,
    pub write_seconds: f64,
    /// The child's own `getrusage(RUSAGE_SELF).ru_maxrss`.
    pub peak_rss_bytes: u64,
    /// Wall time of the whole child process, Python start-up included.
    #[serde(default)]
    pub process_seconds: f64,
}

/// One disagreement between the two sides.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mismatch {
    pub customer_key: String,
    pub feature: String,
    pub rapport: Option<f64>,
    pub duckdb: Option<f64>,
}

/// The agreement check of the core features.
#[derive(Debug, Default, Serialize)]
pub struct Agreement {
    pub customers_compared: u64,
    /// Customers DuckDB has and Rapport has not, by key.
    pub only_in_duckdb: u64,
    /// Customers Rapport has and DuckDB has not, by key.
    pub only_in_rapport: u64,
    /// Keys that name more than one customer on either side (cannot be joined).
    pub duplicate_keys: u64,
    /// Per core feature, in order: (name, customers whose values disagree).
    pub mismatches_per_feature: Vec<(String, u64)>,
    pub first_mismatches: Vec<Mismatch>,
}

impl Agreement {
    pub fn total_mismatches(&self) -> u64 {
        self.mismatches_per_feature.iter().map(|(_, n)| n).sum()
    }

    /// Both sides hold the same customers and agree on every core feature.
    pub fn agrees(&self) -> bool {
        self.total_mismatches() == 0
            && self.only_in_duckdb == 0
            && self.only_in_rapport == 0
            && self.duplicate_keys == 0
            && self.customers_compared > 0
    }
}

/// Rapport's whole scoring (features → health → segments → rules → alerts).
#[derive(Debug, Serialize)]
pub struct WholeScoring {
    pub seconds: f64,
    pub note: String,
    pub stages: Vec<StageFigure>,
    pub peak_rss_bytes: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct ScoreBenchReport {
    pub customers_generated: u64,
    pub seed: u64,
    pub as_of: NaiveDate,
    pub database: String,
    pub machine: String,
    pub store_customers: i64,
    pub store_accounts: i64,
    pub store_transactions: i64,
    /// Generation, loading and export, each with "reused" in its note when skipped.
    pub preparation: Vec<StageFigure>,
    /// The product path: the transactions read from the columnar copy.
    pub feature_stage: FeatureStage,
    /// The same stage reading the transactions from the store (the row store's figure).
    pub feature_stage_store: FeatureStage,
    /// Every feature of every customer is the same (bitwise) from the copy and from the store.
    pub copy_agrees_with_store: bool,
    /// With `--scan-floor`: the store's scan of the transactions before D alone.
    pub scan_floor: Option<StageFigure>,
    pub whole_scoring: WholeScoring,
    pub duckdb: DuckdbSide,
    /// Rapport's feature stage / DuckDB's feature query (> 1: Rapport is slower).
    pub ratio_to_duckdb_query: f64,
    /// Rapport's feature stage / (DuckDB's load + feature query).
    pub ratio_to_duckdb_load_and_query: f64,
    /// Peak resident memory of this process over the whole run (VmHWM).
    pub rapport_process_peak_rss_bytes: Option<u64>,
    pub agreement: Agreement,
    pub agrees: bool,
    pub work_dir: String,
    pub kept: bool,
}

pub async fn bench_score(cfg: &Config, json: bool, args: BenchScoreArgs) -> Result<()> {
    let temp_dir = match &args.dir {
        Some(_) => None,
        None => Some(
            tempfile::Builder::new()
                .prefix("rapport-bench-score-")
                .tempdir()
                .context("creating a temporary directory")?,
        ),
    };
    let work_dir: PathBuf = match (&args.dir, &temp_dir) {
        (Some(d), _) => d.clone(),
        (None, Some(t)) => t.path().to_path_buf(),
        (None, None) => bail!("no working directory"),
    };
    std::fs::create_dir_all(&work_dir)
        .with_context(|| format!("creating {}", work_dir.display()))?;
    let generator = GenConfig {
        customers: args.customers,
        seed: args.seed,
        ..GenConfig::default()
    };
    if generator.customers == 0 {
        bail!("--customers must be at least 1");
    }
    let as_of = args.as_of.unwrap_or(generator.end);
    let say = |what: &str| {
        if !json {
            eprintln!("bench score: {what}");
        }
    };

    let mut preparation = Vec::new();
    let bank_dir = work_dir.join("bank");
    preparation.push(ensure_bank(&generator, &work_dir, &bank_dir, json, &say)?);

    let own_store = cfg.database.url == DEFAULT_DB_URL;
    let url = if own_store {
        format!("sqlite://{}", work_dir.join("rapport.db").display())
    } else {
        cfg.database.url.clone()
    };
    let marker = StoreMarker {
        generator: generator.clone(),
        database: redact_url(&url),
    };
    let store = ensure_store(
        cfg, json, &url, own_store, &marker, &work_dir, &bank_dir, &say,
    )
    .await?;
    preparation.push(store.1);
    let store = store.0;
    let counts = store.counts().await?;

    let copy_dir = work_dir.join("analytics");
    preparation.push(ensure_copy(&store, &copy_dir, &say).await?);
    let (source, source_note) =
        rapport_services::analytics_copy::feature_source(&store, Some(&copy_dir)).await?;
    let Some(copy) = source.clone() else {
        bail!("the columnar copy is not current after its rebuild: {source_note}");
    };

    let chunk_rows = args.chunk_rows.unwrap_or(DEFAULT_SCAN_CHUNK_ROWS);
    // Generation and loading have their own peak; the stages below are measured from a reset.
    let preparation_peak = peak_rss_bytes();
    let transactions = u64::try_from(counts.transactions).unwrap_or(0);
    say(&format!(
        "feature stage as of {as_of}, transactions from the columnar copy …"
    ));
    let (table, feature_stage) =
        time_feature_stage(&store, as_of, chunk_rows, transactions, source, source_note).await?;
    say(&format!(
        "feature stage as of {as_of}, transactions from the store …"
    ));
    let (store_table, feature_stage_store) = time_feature_stage(
        &store,
        as_of,
        chunk_rows,
        transactions,
        None,
        "store".into(),
    )
    .await?;
    let copy_agrees_with_store = table.differences(&store_table).is_empty();
    drop(store_table);

    let scan_floor = if args.scan_floor {
        Some(scan_floor(&store, as_of, chunk_rows).await?)
    } else {
        None
    };
    say("whole scoring (rapport score in its own process) …");
    let whole_scoring = whole_scoring(&url, as_of, chunk_rows, &copy_dir, &work_dir)?;

    let export_dir = work_dir.join("export");
    preparation.push(ensure_export(&store, &marker, &export_dir, args.dir.is_some(), &say).await?);
    store.close().await;

    say("DuckDB side …");
    let duckdb_out = export_dir.join("duckdb_features.csv");
    let parts_list = export_dir.join(TXN_PARTS_LIST);
    let parts: String = copy
        .manifest
        .parts
        .iter()
        .map(|p| format!("{}\n", copy.dir.join(&p.file).display()))
        .collect();
    std::fs::write(&parts_list, parts)
        .with_context(|| format!("writing {}", parts_list.display()))?;
    let duckdb = run_duckdb(as_of, &export_dir, &parts_list, &duckdb_out)?;

    let file = std::fs::File::open(&duckdb_out)
        .with_context(|| format!("opening DuckDB's output {}", duckdb_out.display()))?;
    let agreement = compare_core_features(&table, std::io::BufReader::new(file))?;
    let agrees = agreement.agrees() && copy_agrees_with_store;

    // Under --dir the export stays for the next run (its marker says from
    // what); in a temporary directory it goes with the directory.
    if !args.keep && args.dir.is_none() {
        std::fs::remove_dir_all(&export_dir)
            .with_context(|| format!("removing {}", export_dir.display()))?;
    }
    let kept = args.keep || args.dir.is_some();
    if let Some(t) = temp_dir {
        if args.keep {
            // Disowned: the directory outlives the run, as asked.
            let _ = t.keep();
        }
    }

    // VmHWM was reset before each measured stage: the run's peak is the largest of them.
    let process_peak = [
        preparation_peak,
        feature_stage.peak_rss_bytes,
        feature_stage_store.peak_rss_bytes,
        peak_rss_bytes(),
    ]
    .into_iter()
    .max()
    .flatten();
    let report = ScoreBenchReport {
        customers_generated: generator.customers,
        seed: generator.seed,
        as_of,
        database: redact_url(&url),
        machine: super::machine(),
        store_customers: counts.customers,
        store_accounts: counts.accounts,
        store_transactions: counts.transactions,
        preparation,
        ratio_to_duckdb_query: ratio(feature_stage.seconds, duckdb.query_seconds),
        ratio_to_duckdb_load_and_query: ratio(
            feature_stage.seconds,
            duckdb.load_seconds + duckdb.query_seconds,
        ),
        feature_stage,
        feature_stage_store,
        copy_agrees_with_store,
        scan_floor,
        whole_scoring,
        duckdb,
        rapport_process_peak_rss_bytes: process_peak,
        agreement,
        agrees,
        work_dir: work_dir.display().to_string(),
        kept,
    };
    emit(json, &report, || render(&report))?;
    if !agrees && json {
        // Exactly one JSON object on stdout (this report, `agrees: false`), and
        // still a failing exit code; every temporary file is already gone.
        std::io::stdout().flush()?;
        std::process::exit(1);
    }
    if !agrees {
        if !report.copy_agrees_with_store {
            bail!("the features read from the columnar copy differ from those read from the store");
        }
        bail!(
            "the core features disagree with DuckDB: {} mismatched values, {} customers only in DuckDB, {} only in Rapport, {} duplicate keys",
            report.agreement.total_mismatches(),
            report.agreement.only_in_duckdb,
            report.agreement.only_in_rapport,
            report.agreement.duplicate_keys
        );
    }
    Ok(())
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        f64::NAN
    }
}

/// Generates the bank into `bank_dir` unless the marker says it already holds this one.
fn ensure_bank(
    generator: &GenConfig,
    work_dir: &Path,
    bank_dir: &Path,
    json: bool,
    say: &dyn Fn(&str),
) -> Result<StageFigure> {
    let marker_path = work_dir.join(BANK_MARKER);
    if let Some(m) = read_marker::<BankMarker>(&marker_path)? {
        if m.generator == *generator && bank_dir.join("transactions.csv").is_file() {
            say(&format!("reusing the bank in {}", bank_dir.display()));
            return Ok(StageFigure::new(
                "generate",
                0.0,
                m.transactions,
                "reused: generated earlier with the same size and seed",
            ));
        }
    }
    // Anything loaded from an older bank is stale from here on.
    remove_if_exists(&marker_path)?;
    remove_if_exists(&work_dir.join(STORE_MARKER))?;
    if bank_dir.exists() {
        std::fs::remove_dir_all(bank_dir)
            .with_context(|| format!("removing the old bank {}", bank_dir.display()))?;
    }
    std::fs::create_dir_all(bank_dir)
        .with_context(|| format!("creating {}", bank_dir.display()))?;
    say(&format!(
        "generating {} customers (seed {}) into {} …",
        generator.customers,
        generator.seed,
        bank_dir.display()
    ));
    let pb = progress(json, Some(generator.customers), "generating");
    let pb2 = pb.clone();
    let started = Instant::now();
    let summary = generate(generator, bank_dir, &move |n| pb2.set_position(n))
        .with_context(|| format!("generating into {}", bank_dir.display()))?;
    pb.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let rows: u64 = summary.files.iter().map(|f| f.2).sum();
    write_marker(
        &marker_path,
        &BankMarker {
            generator: generator.clone(),
            customers: summary.customers,
            transactions: summary.transactions,
        },
    )?;
    Ok(StageFigure::new(
        "generate",
        seconds,
        rows,
        "synthetic bank to canonical CSV (all files)",
    ))
}

/// Opens the store and loads the bank into it unless the marker says it is already there.
#[allow(clippy::too_many_arguments)]
async fn ensure_store(
    cfg: &Config,
    json: bool,
    url: &str,
    own_store: bool,
    marker: &StoreMarker,
    work_dir: &Path,
    bank_dir: &Path,
    say: &dyn Fn(&str),
) -> Result<(Store, StageFigure)> {
    let marker_path = work_dir.join(STORE_MARKER);
    let loaded = read_marker::<StoreMarker>(&marker_path)?.as_ref() == Some(marker);
    if own_store && !loaded {
        // Only the bench's own file in its own directory is ever deleted.
        remove_if_exists(&marker_path)?;
        for suffix in ["", "-wal", "-shm"] {
            remove_if_exists(&work_dir.join(format!("rapport.db{suffix}")))?;
        }
    }
    let store = Store::connect(url)
        .await
        .with_context(|| format!("opening the store {}", redact_url(url)))?;
    if loaded {
        say(&format!("reusing the loaded store {}", redact_url(url)));
        let counts = store.counts().await?;
        return Ok((
            store,
            StageFigure::new(
                "load",
                0.0,
                u64::try_from(counts.transactions).unwrap_or(0),
                "reused: loaded earlier from the same bank",
            ),
        ));
    }
    let counts = store.counts().await?;
    if counts.customers > 0 {
        store.close().await;
        bail!(
            "the store {} already holds {} customers that this bench did not load; give an empty database with --db",
            redact_url(url),
            counts.customers
        );
    }
    say(&format!("loading the bank into {} …", redact_url(url)));
    let pb = progress(json, None, "loading");
    let pb2 = pb.clone();
    let opts = ImportOptions {
        default_country: cfg.import.default_country.clone(),
        batch_size: cfg.import.batch_size,
        progress: Some(std::sync::Arc::new(move |n| pb2.set_position(n))),
    };
    let started = Instant::now();
    let report =
        rapport_services::import::load_generated(&store, bank_dir, &marker.generator.source, &opts)
            .await;
    pb.finish_and_clear();
    let report = report.context("loading the generated bank")?;
    let seconds = started.elapsed().as_secs_f64();
    write_marker(&marker_path, marker)?;
    Ok((
        store,
        StageFigure::new(
            "load",
            seconds,
            report.read,
            "clean + validate + resolve identities + load (import dir, core then CRM)",
        ),
    ))
}

/// The columnar copy under the working directory: reused when it is current
/// (same rows and highest id as the store), else rebuilt from the store.
async fn ensure_copy(store: &Store, dir: &Path, say: &dyn Fn(&str)) -> Result<StageFigure> {
    let (source, _) = rapport_services::analytics_copy::feature_source(store, Some(dir)).await?;
    if let Some(src) = source {
        say(&format!("reusing the columnar copy in {}", dir.display()));
        return Ok(StageFigure::new(
            "columnar copy",
            0.0,
            src.manifest.rows,
            "reused: current with the store",
        ));
    }
    say(&format!(
        "writing the columnar copy into {} …",
        dir.display()
    ));
    let actor = rapport_services::access::Actor::system("bench");
    let w = rapport_services::analytics_copy::rebuild(store, &actor, dir).await?;
    Ok(StageFigure::new(
        "columnar copy",
        w.seconds,
        w.rows,
        format!(
            "analytics_copy::rebuild: {} month files, {} customers",
            w.parts, w.customers
        ),
    ))
}

/// One feature stage (`FeatureEngine::compute` as of D), timed with its own peak memory.
async fn time_feature_stage(
    store: &Store,
    as_of: NaiveDate,
    chunk_rows: usize,
    transactions: u64,
    source: Option<std::sync::Arc<rapport_analytics::ColumnarSource>>,
    source_note: String,
) -> Result<(FeatureTable, FeatureStage)> {
    let peak_reset = reset_peak_rss();
    let started = Instant::now();
    let table = FeatureEngine::new(store)
        .with_chunk_rows(chunk_rows)
        .with_columnar(source)
        .compute(as_of)
        .await
        .context("computing the features")?;
    let seconds = started.elapsed().as_secs_f64();
    let stage = FeatureStage {
        source: source_note,
        seconds,
        customers: table.len() as u64,
        transactions,
        transactions_per_sec: per_sec(transactions, seconds),
        chunk_rows,
        peak_rss_bytes: if peak_reset { peak_rss_bytes() } else { None },
    };
    Ok((table, stage))
}

/// The whole scoring as the nightly job runs it: `rapport score` in a child
/// process of this binary on the same store and copy (it stores its results
/// as a scoring run of `as_of`), timed, with the child's own peak memory
/// (VmHWM, read every 20 ms while it runs: this process's peak holds the
/// preparation's and the other stages' memory, and the store's memory-mapped
/// pages they touched).
fn whole_scoring(
    url: &str,
    as_of: NaiveDate,
    chunk_rows: usize,
    copy_dir: &Path,
    work_dir: &Path,
) -> Result<WholeScoring> {
    let exe = std::env::current_exe().context("finding this binary")?;
    let out_path = work_dir.join("score.json");
    let err_path = work_dir.join("score.log");
    let out = std::fs::File::create(&out_path)
        .with_context(|| format!("creating {}", out_path.display()))?;
    let err = std::fs::File::create(&err_path)
        .with_context(|| format!("creating {}", err_path.display()))?;
    let started = Instant::now();
    let mut child = Command::new(&exe)
        .arg("--db")
        .arg(url)
        .arg("--json")
        .arg("score")
        .arg("--as-of")
        .arg(as_of.format("%Y-%m-%d").to_string())
        .arg("--chunk-rows")
        .arg(chunk_rows.to_string())
        .env(rapport_services::analytics_copy::DIR_ENV, copy_dir)
        .stdout(out)
        .stderr(err)
        .spawn()
        .with_context(|| format!("starting {} score", exe.display()))?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak: Option<u64> = None;
    let status = loop {
        if let Some(kib) = std::fs::read_to_string(&status_path)
            .ok()
            .and_then(|st| vm_hwm_kib(&st))
        {
            peak = peak.max(Some(kib * 1024));
        }
        if let Some(status) = child.try_wait().context("waiting for rapport score")? {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let seconds = started.elapsed().as_secs_f64();
    if !status.success() {
        let log = std::fs::read_to_string(&err_path).unwrap_or_default();
        bail!(
            "rapport score failed ({status}): {} (log in {})",
            log.trim().lines().last().unwrap_or("no message"),
            err_path.display()
        );
    }
    let text = std::fs::read_to_string(&out_path)
        .with_context(|| format!("reading {}", out_path.display()))?;
    let report: serde_json::Value = serde_json::from_str(text.trim())
        .with_context(|| format!("reading rapport score's report in {}", out_path.display()))?;
    let stages = report["stages"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|st| {
                    StageFigure::new(
                        &format!("scoring: {}", st["name"].as_str().unwrap_or("?")),
                        st["seconds"].as_f64().unwrap_or(0.0),
                        st["rows"].as_u64().unwrap_or(0),
                        "",
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(WholeScoring {
        seconds,
        note: format!(
            "rapport score in its own process, scorecard {}, transactions from the {}, stored as run {}",
            report["scorecard"], report["transactions_from"].as_str().unwrap_or("?"), report["run_id"]
        ),
        stages,
        peak_rss_bytes: peak,
    })
}

fn vm_hwm_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The store's scan of the transactions before `as_of`, with nothing done per
/// chunk: what the feature stage cannot go below with this store.
async fn scan_floor(store: &Store, as_of: NaiveDate, chunk_rows: usize) -> Result<StageFigure> {
    let started = Instant::now();
    let rows = store
        .scan_transactions(DayRange::before(as_of), chunk_rows, |_| {})
        .await
        .context("scanning the transactions")?;
    Ok(StageFigure::new(
        "store scan of txn alone",
        started.elapsed().as_secs_f64(),
        rows,
        "Store::scan_transactions before D, no computation (the floor under the feature stage)",
    ))
}

/// The tables DuckDB reads, exported under `export_dir`: reused when `reuse`
/// (a `--dir` run) and its marker says it was taken from this loaded store
/// with every file present, else exported again (the marker written last).
async fn ensure_export(
    store: &Store,
    store_marker: &StoreMarker,
    export_dir: &Path,
    reuse: bool,
    say: &dyn Fn(&str),
) -> Result<StageFigure> {
    let marker_path = export_dir.join(EXPORT_MARKER);
    let c = store.counts().await?;
    let counts = [c.customers, c.accounts, c.transactions];
    if reuse {
        let complete = EXPORTED_TABLES
            .iter()
            .all(|t| export_dir.join(format!("{t}.csv")).is_file());
        if let Some(m) = read_marker::<ExportMarker>(&marker_path)? {
            if complete && m.store == *store_marker && m.counts == counts {
                say(&format!(
                    "reusing the tables exported for DuckDB in {}",
                    export_dir.display()
                ));
                return Ok(StageFigure::new(
                    "export for DuckDB",
                    0.0,
                    m.rows,
                    "reused: exported earlier from the same loaded store",
                ));
            }
        }
    }
    remove_if_exists(&marker_path)?;
    say("exporting the tables DuckDB reads …");
    let figure = export_tables(store, export_dir).await?;
    write_marker(
        &marker_path,
        &ExportMarker {
            store: store_marker.clone(),
            counts,
            rows: figure.rows,
        },
    )?;
    Ok(figure)
}

/// Exports the tables DuckDB reads with the store's own CSV export.
async fn export_tables(store: &Store, export_dir: &Path) -> Result<StageFigure> {
    std::fs::create_dir_all(export_dir)
        .with_context(|| format!("creating {}", export_dir.display()))?;
    let started = Instant::now();
    let mut rows = 0;
    let mut bytes = 0;
    for table in EXPORTED_TABLES {
        let path = export_dir.join(format!("{table}.csv"));
        let file =
            std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        rows += store
            .export_table_csv(table, &mut out)
            .await
            .with_context(|| format!("exporting {table}"))?;
        out.flush()
            .with_context(|| format!("writing {}", path.display()))?;
        bytes += std::fs::metadata(&path)
            .with_context(|| format!("{}", path.display()))?
            .len();
    }
    Ok(StageFigure::new(
        "export for DuckDB",
        started.elapsed().as_secs_f64(),
        rows,
        format!(
            "Store::export_table_csv of {}: {:.1} MB",
            EXPORTED_TABLES.join(", "),
            bytes as f64 / 1e6
        ),
    ))
}

/// Runs the DuckDB side as a python3 child process and reads its figures.
fn run_duckdb(
    as_of: NaiveDate,
    export_dir: &Path,
    txn_parts: &Path,
    out: &Path,
) -> Result<DuckdbSide> {
    let script = export_dir.join("duckdb_features.py");
    std::fs::write(&script, DUCKDB_SCRIPT)
        .with_context(|| format!("writing {}", script.display()))?;
    let started = Instant::now();
    // The Python with duckdb installed: RAPPORT_PYTHON (e.g. a virtual environment's), else python3.
    let python = std::env::var("RAPPORT_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".into());
    let output = Command::new(&python)
        .arg(&script)
        .arg(as_of.format("%Y-%m-%d").to_string())
        .arg(export_dir)
        .arg(txn_parts)
        .arg(out)
        .output()
        .with_context(|| format!("running {python} for the DuckDB side (is it installed?)"))?;
    let process_seconds = started.elapsed().as_secs_f64();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!(
            "the DuckDB side failed ({}): {} (needs python3 with duckdb: pip install duckdb)",
            output.status,
            stderr.trim().lines().last().unwrap_or("no message")
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut side: DuckdbSide = serde_json::from_str(stdout.trim())
        .with_context(|| format!("reading the DuckDB side's figures from {stdout:?}"))?;
    side.process_seconds = process_seconds;
    Ok(side)
}

/// Joins Rapport's feature table with DuckDB's CSV (`customer_key`, then the
/// core features in [`CORE_FEATURES`] order) by customer key and compares:
/// counts exactly, sums within [`SUM_RELATIVE_TOLERANCE`] relative; a missing
/// value agrees only with a missing value.
pub fn compare_core_features(rapport: &FeatureTable, duckdb_csv: impl Read) -> Result<Agreement> {
    let mut columns = Vec::with_capacity(CORE_FEATURES.len());
    for (name, _) in CORE_FEATURES {
        columns.push(
            rapport
                .column(name)
                .with_context(|| format!("Rapport's feature table has no column {name}"))?,
        );
    }
    let mut agreement = Agreement {
        mismatches_per_feature: CORE_FEATURES
            .iter()
            .map(|(name, _)| (name.to_string(), 0))
            .collect(),
        ..Agreement::default()
    };
    let mut row_of_key: HashMap<&str, usize> = HashMap::with_capacity(rapport.len());
    for (row, key) in rapport.customer_keys.iter().enumerate() {
        if row_of_key.insert(key.as_str(), row).is_some() {
            agreement.duplicate_keys += 1;
        }
    }
    let mut seen = vec![false; rapport.len()];

    let mut reader = csv::Reader::from_reader(duckdb_csv);
    let header = reader.headers().context("reading DuckDB's header")?;
    let expected: Vec<&str> = std::iter::once("customer_key")
        .chain(CORE_FEATURES.iter().map(|(n, _)| *n))
        .collect();
    if header.iter().collect::<Vec<_>>() != expected {
        bail!("DuckDB's output has columns {header:?}, expected {expected:?}");
    }
    let mut record = csv::StringRecord::new();
    while reader
        .read_record(&mut record)
        .context("reading DuckDB's output")?
    {
        let key = record.get(0).unwrap_or_default();
        let Some(&row) = row_of_key.get(key) else {
            agreement.only_in_duckdb += 1;
            continue;
        };
        if seen[row] {
            agreement.duplicate_keys += 1;
            continue;
        }
        seen[row] = true;
        agreement.customers_compared += 1;
        for (i, (name, comparison)) in CORE_FEATURES.iter().enumerate() {
            let cell = record.get(i + 1).unwrap_or_default();
            let duckdb = parse_cell(cell)
                .with_context(|| format!("DuckDB's {name} of {key}: {cell:?} is not a number"))?;
            let ours = columns[i].get(row).copied().flatten();
            if !values_agree(ours, duckdb, *comparison) {
                agreement.mismatches_per_feature[i].1 += 1;
                if agreement.first_mismatches.len() < FIRST_MISMATCHES_SHOWN {
                    agreement.first_mismatches.push(Mismatch {
                        customer_key: key.to_string(),
                        feature: name.to_string(),
                        rapport: ours,
                        duckdb,
                    });
                }
            }
        }
    }
    agreement.only_in_rapport = seen.iter().filter(|s| !**s).count() as u64;
    Ok(agreement)
}

fn parse_cell(cell: &str) -> Result<Option<f64>, std::num::ParseFloatError> {
    let cell = cell.trim();
    if cell.is_empty() {
        Ok(None)
    } else {
        cell.parse().map(Some)
    }
}

fn values_agree(a: Option<f64>, b: Option<f64>, comparison: Comparison) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => match comparison {
            Comparison::Exact => a == b,
            Comparison::RelativeSum => {
                (a - b).abs() <= SUM_RELATIVE_TOLERANCE * a.abs().max(b.abs())
            }
        },
        _ => false,
    }
}

fn read_marker<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>> {
    match std::fs::read_to_string(path) {
        // A marker that no longer parses describes nothing reusable.
        Ok(text) => Ok(serde_json::from_str(&text).ok()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn write_marker<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(value)?)
        .with_context(|| format!("writing {}", path.display()))
}

fn remove_if_exists(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("removing {}", path.display())),
    }
}

/// Resets this process's peak resident set (VmHWM) to its current size
/// (`/proc/self/clear_refs`, Linux); false when that is not possible.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// VmHWM of this process since start or the last reset.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    Some(vm_hwm_kib(&status)? * 1024)
}

fn mb(bytes: Option<u64>) -> String {
    match bytes {
        Some(b) => format!("{:.0} MB", b as f64 / 1e6),
        None => "unknown".to_string(),
    }
}

fn render(r: &ScoreBenchReport) -> String {
    let mut s = format!(
        "scoring bench: {} customers generated (seed {}), as of {}; store {}: {} customers, {} accounts, {} transactions; {}\n\n",
        r.customers_generated,
        r.seed,
        r.as_of,
        r.database,
        r.store_customers,
        r.store_accounts,
        r.store_transactions,
        r.machine
    );
    s.push_str("| stage | seconds | rows | rows/s | note |\n|---|---:|---:|---:|---|\n");
    let f = &r.feature_stage;
    let mut stage_rows: Vec<(&str, f64, u64, f64, String)> = r
        .preparation
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.seconds,
                p.rows,
                p.rows_per_sec,
                p.note.clone(),
            )
        })
        .collect();
    for (name, st) in [
        ("rapport features", f),
        ("rapport features (store read)", &r.feature_stage_store),
    ] {
        stage_rows.push((
            name,
            st.seconds,
            st.transactions,
            st.transactions_per_sec,
            format!(
                "FeatureEngine::compute, {} customers, transactions from {}, chunks of {} rows, peak {}",
                st.customers,
                st.source,
                st.chunk_rows,
                mb(st.peak_rss_bytes)
            ),
        ));
    }
    if let Some(st) = &r.scan_floor {
        stage_rows.push((
            st.name.as_str(),
            st.seconds,
            st.rows,
            st.rows_per_sec,
            st.note.clone(),
        ));
    }
    for st in &r.whole_scoring.stages {
        stage_rows.push((
            st.name.as_str(),
            st.seconds,
            st.rows,
            st.rows_per_sec,
            st.note.clone(),
        ));
    }
    for (name, seconds, rows, rate, note) in stage_rows {
        s.push_str(&format!(
            "| {name} | {seconds:.2} | {rows} | {rate:.0} | {note} |\n"
        ));
    }
    let d = &r.duckdb;
    s.push_str(&format!(
        "\n| | Rapport | DuckDB {} ({} threads) | Rapport / DuckDB |\n|---|---:|---:|---:|\n",
        d.duckdb_version, d.threads
    ));
    s.push_str(&format!(
        "| core features: feature stage vs SQL query | {:.2} s | {:.2} s | {:.2} |\n",
        f.seconds, d.query_seconds, r.ratio_to_duckdb_query
    ));
    s.push_str(&format!(
        "| feature stage reading the store instead vs SQL query | {:.2} s | {:.2} s | {:.2} |\n",
        r.feature_stage_store.seconds,
        d.query_seconds,
        ratio(r.feature_stage_store.seconds, d.query_seconds)
    ));
    s.push_str(&format!(
        "| feature stage vs load + query | {:.2} s | {:.2} s | {:.2} |\n",
        f.seconds,
        d.load_seconds + d.query_seconds,
        r.ratio_to_duckdb_load_and_query
    ));
    s.push_str(&format!(
        "| DuckDB load (CSV and the copy's Parquet → tables) | | {:.2} s | |\n| DuckDB child process, wall | | {:.2} s | |\n",
        d.load_seconds, d.process_seconds
    ));
    let w = &r.whole_scoring;
    s.push_str(&format!(
        "| whole scoring ({}) | {:.2} s, peak {} | | |\n",
        w.note,
        w.seconds,
        mb(w.peak_rss_bytes)
    ));
    s.push_str(&format!(
        "| peak memory | {} (whole scoring, its own process); {} (feature stage in the bench process), {} (bench process) | {} | |\n",
        mb(w.peak_rss_bytes),
        mb(f.peak_rss_bytes),
        mb(r.rapport_process_peak_rss_bytes),
        mb(Some(d.peak_rss_bytes))
    ));
    let a = &r.agreement;
    s.push_str(&format!(
        "\nagreement by customer key: {} customers compared, {} only in DuckDB, {} only in Rapport, {} duplicate keys\n",
        a.customers_compared, a.only_in_duckdb, a.only_in_rapport, a.duplicate_keys
    ));
    for (name, n) in &a.mismatches_per_feature {
        s.push_str(&format!("  {name}: {n} mismatches\n"));
    }
    for m in &a.first_mismatches {
        s.push_str(&format!(
            "  {} {}: rapport {:?}, duckdb {:?}\n",
            m.customer_key, m.feature, m.rapport, m.duckdb
        ));
    }
    s.push_str(if r.copy_agrees_with_store {
        "every feature of every customer is the same read from the columnar copy and from the store\n"
    } else {
        "THE FEATURES READ FROM THE COLUMNAR COPY DIFFER FROM THOSE READ FROM THE STORE\n"
    });
    s.push_str(if r.agreement.agrees() {
        "the core features agree (counts exactly, sums within 1e-6 relative)\n"
    } else {
        "THE CORE FEATURES DISAGREE\n"
    });
    if r.kept {
        s.push_str(&format!("working files in {}\n", r.work_dir));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_analytics::FeatureColumn;

    fn table(keys: &[&str], values: &[[Option<f64>; 8]]) -> FeatureTable {
        FeatureTable {
            as_of: GenConfig::default().end,
            customer_ids: (1..=keys.len() as i64).collect(),
            customer_keys: keys.iter().map(|k| k.to_string()).collect(),
            columns: CORE_FEATURES
                .iter()
                .enumerate()
                .map(|(i, (name, _))| FeatureColumn {
                    name: name.to_string(),
                    values: values.iter().map(|row| row[i]).collect(),
                })
                .collect(),
        }
    }

    const HEADER: &str = "customer_key,txn_count_30,txn_count_90,inflow_90,outflow_90,max_outflow_90,days_since_last_txn,balance_now,salary_months_6\n";

    fn two_customers() -> FeatureTable {
        table(
            &["C1", "C2"],
            &[
                [
                    Some(3.0),
                    Some(9.0),
                    Some(1234.56),
                    Some(100.0),
                    Some(60.0),
                    Some(2.0),
                    Some(5000.01),
                    Some(6.0),
                ],
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
            ],
        )
    }

    #[test]
    fn identical_outputs_in_another_row_order_agree() -> Result<()> {
        let csv =
            format!("{HEADER}C2,0,0,0.0,0.0,0.0,,,0\nC1,3,9,1234.56,100.0,60.0,2,5000.01,6\n");
        let a = compare_core_features(&two_customers(), csv.as_bytes())?;
        assert_eq!(a.customers_compared, 2);
        assert_eq!(a.total_mismatches(), 0);
        assert!(a.agrees());
        Ok(())
    }

    #[test]
    fn a_sum_off_by_less_than_one_in_a_million_agrees_but_a_count_off_by_one_does_not() -> Result<()>
    {
        let csv = format!(
            "{HEADER}C1,3,10,1234.5600001,100.0,60.0,2,5000.01,6\nC2,0,0,0.0,0.0,0.0,,,0\n"
        );
        let a = compare_core_features(&two_customers(), csv.as_bytes())?;
        assert_eq!(
            a.mismatches_per_feature,
            CORE_FEATURES
                .iter()
                .map(|(n, _)| (n.to_string(), u64::from(*n == "txn_count_90")))
                .collect::<Vec<_>>()
        );
        assert_eq!(
            a.first_mismatches,
            vec![Mismatch {
                customer_key: "C1".into(),
                feature: "txn_count_90".into(),
                rapport: Some(9.0),
                duckdb: Some(10.0),
            }]
        );
        assert!(!a.agrees());
        Ok(())
    }

    #[test]
    fn a_sum_off_by_more_than_one_in_a_million_is_a_mismatch() -> Result<()> {
        let csv =
            format!("{HEADER}C1,3,9,1234.56,100.0,60.0,2,5000.02,6\nC2,0,0,0.0,0.0,0.0,,,0\n");
        let a = compare_core_features(&two_customers(), csv.as_bytes())?;
        assert_eq!(a.total_mismatches(), 1);
        assert_eq!(a.first_mismatches[0].feature, "balance_now");
        Ok(())
    }

    #[test]
    fn a_missing_value_agrees_only_with_a_missing_value() -> Result<()> {
        let csv =
            format!("{HEADER}C1,3,9,1234.56,100.0,60.0,2,5000.01,6\nC2,0,0,0.0,0.0,0.0,0,0,0\n");
        let a = compare_core_features(&two_customers(), csv.as_bytes())?;
        let counts: HashMap<_, _> = a.mismatches_per_feature.iter().cloned().collect();
        assert_eq!(counts["days_since_last_txn"], 1);
        assert_eq!(counts["balance_now"], 1);
        assert_eq!(a.total_mismatches(), 2);
        Ok(())
    }

    #[test]
    fn customers_on_one_side_only_make_the_check_fail() -> Result<()> {
        let csv =
            format!("{HEADER}C1,3,9,1234.56,100.0,60.0,2,5000.01,6\nC9,0,0,0.0,0.0,0.0,,,0\n");
        let a = compare_core_features(&two_customers(), csv.as_bytes())?;
        assert_eq!(a.total_mismatches(), 0);
        assert_eq!((a.only_in_duckdb, a.only_in_rapport), (1, 1));
        assert!(!a.agrees());
        Ok(())
    }

    #[test]
    fn an_output_with_other_columns_is_rejected() {
        let csv = "customer_key,txn_count_30\nC1,3\n";
        assert!(compare_core_features(&two_customers(), csv.as_bytes()).is_err());
    }

    #[test]
    fn an_empty_comparison_is_not_agreement() -> Result<()> {
        let a = compare_core_features(&table(&[], &[]), HEADER.as_bytes())?;
        assert!(!a.agrees());
        Ok(())
    }

    #[test]
    fn a_bank_marker_survives_its_round_trip() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join(BANK_MARKER);
        let marker = BankMarker {
            generator: GenConfig {
                customers: 123,
                seed: 9,
                ..GenConfig::default()
            },
            customers: 123,
            transactions: 4567,
        };
        write_marker(&path, &marker)?;
        assert_eq!(read_marker::<BankMarker>(&path)?, Some(marker));
        assert_eq!(
            read_marker::<BankMarker>(&dir.path().join("absent.json"))?,
            None
        );
        Ok(())
    }
}
