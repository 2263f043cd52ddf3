//! `rapport model train|score|list|activate|rollback|berka-loans`:
//! predictive models on labelled extracts and on the store's own history
//! (docs/PRODUCT.md C6). Store training, the registry and batch scoring into the
//! store are in `store_models.rs`.
//!
//! `train` reads an extract, validates each algorithm (stratified k-fold,
//! or a time holdout with `--time`), prints AUC, KS, Gini, lift at 10 %, PSI
//! and the calibration table, then fits the chosen algorithm on every row
//! and writes the model artefact (`--out`). `score` applies an artefact to
//! an extract and writes probabilities with each row's reasons.
//! `berka-loans` builds the Berka loan-default extract from the static
//! tables (no transactions), so the published target can be rerun.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use rapport_models::gbdt::GbdtConfig;
use rapport_models::{
    read_extract, validate, Algorithm, AlgorithmReport, ExtractSpec, LoadReport, Model,
    TrainConfig, TrainedModel, ValidationReport,
};
use serde_json::json;

use crate::output::emit;
use rapport_services::access::Actor;
use rapport_services::config::Config;
use rapport_services::import::open;
use rapport_services::model_registry::{activate_as, rollback_as};
use rapport_store::Store;

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Train and validate: on a labelled extract (--data, --target; CSV or
    /// .csv.gz, delimiter and quoting detected), or on the store's history
    /// (--kind churn|default|propensity) and register the version.
    Train(Box<TrainArgs>),
    /// Score: an extract with a model file (--model, --data), or every
    /// customer in the store with the active model of --kind.
    Score(ScoreArgs),
    /// Registered model versions.
    List {
        /// Only this kind (churn, default, propensity:wealth, extract:NAME).
        #[arg(long)]
        kind: Option<String>,
    },
    /// Make a registered version the active one of its kind.
    Activate {
        /// The version's id (see `model list`).
        id: i64,
    },
    /// Re-activate the version that was active before the current one.
    Rollback {
        /// The kind to roll back.
        kind: String,
    },
    /// Build the Berka loan-default extract (bad = status B or D) from the
    /// static tables.
    BerkaLoans(BerkaLoansArgs),
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The labelled extract.
    #[arg(
        long,
        conflicts_with = "kind",
        required_unless_present = "kind",
        requires = "target"
    )]
    pub data: Option<PathBuf>,
    /// The binary target column.
    #[arg(long)]
    pub target: Option<String>,
    /// Train on the store's history instead: churn, default or propensity.
    #[arg(long)]
    pub kind: Option<String>,
    /// With --kind propensity: the product category (deposit, wealth, fund, …).
    #[arg(long)]
    pub category: Option<String>,
    /// With --kind: the end of the outcome window (exclusive); default the
    /// day after the latest transaction.
    #[arg(long)]
    pub as_of: Option<String>,
    /// With --kind: the outcome window's length; features are computed as of
    /// its start.
    #[arg(long, default_value_t = 90)]
    pub horizon_days: i64,
    /// Register the trained model in the store under this kind (extracts:
    /// `extract:NAME`); store-trained models are always registered.
    #[arg(long)]
    pub register: Option<String>,
    /// Activate the registered version at once.
    #[arg(long)]
    pub activate: bool,
    /// The target value that is the event (detected for 0/1, no/yes, false/true, n/y, good/bad).
    #[arg(long)]
    pub positive: Option<String>,
    /// Columns to leave out (identifiers, columns that leak the outcome).
    #[arg(long, value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// A row identifier (kept for explanations, not a feature).
    #[arg(long)]
    pub id: Option<String>,
    /// A time column: validate on the latest rows (time holdout) instead of k-fold.
    #[arg(long)]
    pub time: Option<String>,
    /// scorecard, gbdt or both; with both the better by AUC is saved.
    #[arg(long, default_value = "both")]
    pub algorithm: String,
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Repeat the k-fold with other seeds (small data sets).
    #[arg(long, default_value_t = 1)]
    pub repeats: usize,
    /// Share held out by the time holdout.
    #[arg(long, default_value_t = 0.2)]
    pub holdout: f64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Trees: the depth of each tree.
    #[arg(long, default_value_t = 4)]
    pub max_depth: usize,
    /// Trees: the learning rate.
    #[arg(long, default_value_t = 0.05)]
    pub eta: f64,
    /// Trees: the smallest hessian sum in a leaf.
    #[arg(long, default_value_t = 2.0)]
    pub min_child_weight: f64,
    /// Write the fitted model (JSON artefact) here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write every rejected row with its reason here (CSV).
    #[arg(long)]
    pub rejects: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// A model artefact written by `model train --out`.
    #[arg(
        long,
        conflicts_with = "kind",
        required_unless_present = "kind",
        requires = "data"
    )]
    pub model: Option<PathBuf>,
    /// The extract to score (the target column may be absent).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Score every customer in the store with the active model of this kind.
    #[arg(long)]
    pub kind: Option<String>,
    /// With --kind: the as-of date of the features; default the day after
    /// the latest transaction.
    #[arg(long)]
    pub as_of: Option<String>,
    /// The row identifier column.
    #[arg(long)]
    pub id: Option<String>,
    /// Reasons per row.
    #[arg(long, default_value_t = 3)]
    pub top: usize,
    /// Output CSV (id, probability, reasons as JSON); default stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BerkaLoansArgs {
    /// The directory of the Berka .asc (or .asc.gz) files.
    #[arg(long)]
    pub dir: PathBuf,
    /// Output CSV.
    #[arg(long)]
    pub out: PathBuf,
}

pub async fn run(cfg: &Config, json: bool, actor: Option<&str>, cmd: ModelCommand) -> Result<()> {
    match cmd {
        ModelCommand::Train(args) if args.kind.is_some() => {
            train_store(cfg, json, actor, &args).await
        }
        ModelCommand::Train(args) => {
            let trained = train(json, &args)?;
            if let Some(kind) = &args.register {
                register_extract(cfg, json, actor, &args, kind, &trained).await?;
            }
            Ok(())
        }
        ModelCommand::Score(args) if args.kind.is_some() => score_store(cfg, json, &args).await,
        ModelCommand::Score(args) => score(json, &args),
        ModelCommand::List { kind } => {
            let store = open(&cfg.database.url).await?;
            let r = list(&store, json, kind.as_deref()).await;
            store.close().await;
            r
        }
        ModelCommand::Activate { id } => {
            let store = open(&cfg.database.url).await?;
            let r = async {
                let actor = crate::cli::acting(&store, actor).await?;
                anyhow::Ok(activate_as(&store, &actor, "cli", id).await?)
            }
            .await;
            store.close().await;
            let m = r?;
            emit(json, &json!({"activated": m}), || {
                format!(
                    "{} version {} (id {}) is now active",
                    m.kind, m.version, m.id
                )
            })
        }
        ModelCommand::Rollback { kind } => {
            let store = open(&cfg.database.url).await?;
            let r = async {
                let actor = crate::cli::acting(&store, actor).await?;
                anyhow::Ok(rollback_as(&store, &actor, "cli", &kind).await?)
            }
            .await;
            store.close().await;
            match r? {
                Some(m) => emit(json, &json!({"activated": m}), || {
                    format!(
                        "rolled back: {} version {} (id {}) is active again",
                        m.kind, m.version, m.id
                    )
                }),
                None => bail!("{kind}: no earlier activation to roll back to"),
            }
        }
        ModelCommand::BerkaLoans(args) => {
            let rows = berka_loans(&args.dir, &args.out)?;
            emit(
                json,
                &json!({ "out": args.out, "loans": rows.loans, "bad": rows.bad }),
                || {
                    format!(
                        "wrote {} loans ({} bad = B or D) to {}",
                        rows.loans,
                        rows.bad,
                        args.out.display()
                    )
                },
            )
        }
    }
}

fn algorithms(spec: &str) -> Result<Vec<Algorithm>> {
    match spec {
        "both" => Ok(vec![Algorithm::Scorecard, Algorithm::Gbdt]),
        one => Ok(vec![one
            .parse::<Algorithm>()
            .map_err(anyhow::Error::msg)?]),
    }
}

fn train_config(args: &TrainArgs) -> Result<TrainConfig> {
    Ok(TrainConfig {
        algorithms: algorithms(&args.algorithm)?,
        folds: args.folds,
        repeats: args.repeats,
        holdout_share: args.holdout,
        seed: args.seed,
        gbdt: GbdtConfig {
            max_depth: args.max_depth,
            eta: args.eta,
            min_child_weight: args.min_child_weight,
            ..GbdtConfig::default()
        },
        ..TrainConfig::default()
    })
}

/// Who a training run is recorded as: the named member of staff (who must
/// exist and be active), or the system for a run nobody names; activating
/// the result needs a named member of staff.
async fn trainer(store: &Store, actor: Option<&str>, activate: bool) -> Result<Option<Actor>> {
    if actor.is_none() && !activate {
        return Ok(None);
    }
    Ok(Some(crate::cli::acting(store, actor).await?))
}

async fn train_store(
    cfg: &Config,
    json: bool,
    actor: Option<&str>,
    args: &TrainArgs,
) -> Result<()> {
    let kind = rapport_services::model_registry::StoreKind::parse(
        args.kind.as_deref().unwrap_or_default(),
        args.category.as_deref(),
    )?;
    let store = open(&cfg.database.url).await?;
    let result = async {
        let actor = trainer(&store, actor, args.activate).await?;
        let by = actor.as_ref().map_or("system", |a| a.name());
        let until = rapport_services::scoring::resolve_as_of(&store, args.as_of.as_deref()).await?;
        let r = rapport_services::model_registry::train(
            &store,
            &kind,
            until,
            args.horizon_days,
            &train_config(args)?,
            by,
            false,
        )
        .await?;
        if let (true, Some(actor)) = (args.activate, &actor) {
            activate_as(&store, actor, "cli", r.model_id).await?;
        }
        anyhow::Ok(r)
    }
    .await;
    store.close().await;
    let r = result?;
    emit(json, &serde_json::to_value(&r)?, || {
        format!(
            "{} model: observation date {}, outcome window to {} ({} customers, {} events: {})\n\
             best {}: AUC {:.4} ± {:.4}, KS {:.3}, Gini {:.3}, lift@10% {:.2} over {} folds\n\
             registered as id {} version {}{}",
            r.kind,
            r.observation_date,
            r.outcome_until,
            r.population,
            r.events,
            r.label,
            r.best,
            r.auc,
            r.auc_sd,
            r.ks,
            r.gini,
            r.lift_at_10,
            r.folds,
            r.model_id,
            r.version,
            if r.activated {
                " (active)"
            } else {
                "; activate with `rapport model activate ID`"
            }
        )
    })
}

async fn register_extract(
    cfg: &Config,
    json: bool,
    actor: Option<&str>,
    args: &TrainArgs,
    kind: &str,
    trained: &TrainedModel,
) -> Result<()> {
    let store = open(&cfg.database.url).await?;
    let result = async {
        let actor = trainer(&store, actor, args.activate).await?;
        let by = actor.as_ref().map_or("system", |a| a.name());
        let source = json!({ "source": "extract", "file": args.data, "target": args.target });
        let metrics = serde_json::to_string(&trained.validation)?;
        let row = store
            .register_model(
                &rapport_store::NewModelVersion {
                    kind,
                    algorithm: trained.model.algorithm().as_str(),
                    trained_by: by,
                    source: &source.to_string(),
                    metrics: &metrics,
                    artefact: &trained.to_json()?,
                },
                chrono::Utc::now(),
            )
            .await?;
        if let (true, Some(actor)) = (args.activate, &actor) {
            activate_as(&store, actor, "cli", row.id).await?;
        }
        anyhow::Ok(row)
    }
    .await;
    store.close().await;
    let row = result?;
    if !json {
        println!(
            "registered as {kind} version {} (id {})",
            row.version, row.id
        );
    }
    Ok(())
}

async fn score_store(cfg: &Config, json: bool, args: &ScoreArgs) -> Result<()> {
    let kind = args.kind.as_deref().unwrap_or_default();
    let store = open(&cfg.database.url).await?;
    let result = async {
        let as_of = rapport_services::scoring::resolve_as_of(&store, args.as_of.as_deref()).await?;
        rapport_services::model_registry::score(&store, kind, as_of, args.top).await
    }
    .await;
    store.close().await;
    let r = result?;
    emit(json, &serde_json::to_value(&r)?, || {
        format!(
            "scored {} customers as of {} with {} version {} ({}): mean probability {:.3}, {} at 0.5 or above",
            r.scored, r.as_of, r.kind, r.version, r.algorithm, r.mean_probability, r.high
        )
    })
}

pub fn train(json: bool, args: &TrainArgs) -> Result<TrainedModel> {
    let (Some(data_path), Some(target)) = (&args.data, &args.target) else {
        bail!("give --data FILE --target COL, or --kind churn|default|propensity");
    };
    let spec = ExtractSpec {
        target: target.clone(),
        positive: args.positive.clone(),
        exclude: args.exclude.clone(),
        id: args.id.clone(),
        time: args.time.clone(),
        scoring: false,
    };
    let (data, report) = read_extract(data_path, &spec)?;
    if let Some(path) = &args.rejects {
        write_rejects(path, &report)?;
    }
    let cfg = train_config(args)?;
    let validation = validate(&data, &cfg)?;
    let trained = TrainedModel::fit(validation.best, &data, &report, &validation, &cfg)?;
    if let Some(out) = &args.out {
        std::fs::write(out, trained.to_json()?)
            .with_context(|| format!("cannot write the model to {}", out.display()))?;
    }
    let best = validation
        .best_report()
        .context("validation kept no report of the best algorithm")?;
    let value = json!({
        "file": report.file,
        "delimiter": report.delimiter,
        "rows_read": report.rows_read,
        "rows_accepted": report.rows_accepted,
        "rejected": report.rejected.len(),
        "rejected_rows": report.rejected.iter().take(20).collect::<Vec<_>>(),
        "target": report.target,
        "positive": report.positive,
        "positives": report.positives,
        "numeric_features": report.numeric_features,
        "categorical_features": report.categorical_features,
        "constant_columns": report.constant_columns,
        "excluded": report.excluded,
        "scheme": validation.scheme,
        "best": validation.best,
        "auc": best.auc,
        "auc_sd": best.auc_sd,
        "ks": best.ks,
        "gini": best.gini,
        "lift_at_10": best.lift_at_10,
        "psi": best.psi,
        "folds": best.folds,
        "calibration": best.calibration,
        "algorithms": validation.algorithms,
        "model": model_summary(&trained),
        "out": args.out,
    });
    emit(json, &value, || {
        human_train(&report, &validation, &trained, args.out.as_deref())
    })?;
    Ok(trained)
}

fn model_summary(trained: &TrainedModel) -> serde_json::Value {
    match &trained.model {
        Model::Scorecard(card) => json!({
            "algorithm": "scorecard",
            "base_score": card.base_score,
            "base_odds": card.base_odds,
            "pdo": card.pdo,
            "features": card.features.iter().map(|f| json!({
                "feature": f.binning.feature,
                "iv": f.binning.iv,
                "trend": f.binning.trend,
                "coefficient": f.coefficient,
                "bins": f.binning.bins.iter().zip(&f.points).map(|(b, p)| json!({
                    "bin": b.label, "count": b.count, "event_rate": b.event_rate,
                    "woe": b.woe, "points": (p * 10.0).round() / 10.0,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "dropped": card.dropped,
        }),
        Model::Gbdt(g) => json!({
            "algorithm": "gbdt",
            "rounds": g.rounds,
            "features": g.features.iter().map(|f| &f.name).collect::<Vec<_>>(),
        }),
    }
}

fn algorithm_line(r: &AlgorithmReport) -> String {
    format!(
        "  {:<10} AUC {:.4} ± {:.4}  KS {:.4}  Gini {:.4}  lift@10% {:.2}  PSI {:.4}  ({:.1} s)",
        r.algorithm.as_str(),
        r.auc,
        r.auc_sd,
        r.ks,
        r.gini,
        r.lift_at_10,
        r.psi,
        r.seconds
    )
}

fn human_train(
    report: &LoadReport,
    validation: &ValidationReport,
    trained: &TrainedModel,
    out: Option<&Path>,
) -> String {
    let mut s = format!(
        "{}: {} rows read, {} used, {} rejected; target {} = {:?} in {} rows ({:.1} %)\n\
         features: {} numeric, {} categorical; excluded {:?}; constant {:?}\n\
         validation: {}\n",
        report.file.display(),
        report.rows_read,
        report.rows_accepted,
        report.rejected.len(),
        report.target,
        report.positive,
        report.positives,
        100.0 * report.positives as f64 / report.rows_accepted.max(1) as f64,
        report.numeric_features.len(),
        report.categorical_features.len(),
        report.excluded,
        report.constant_columns,
        validation.scheme,
    );
    for r in &validation.algorithms {
        s.push_str(&algorithm_line(r));
        s.push('\n');
    }
    let Some(best) = validation.best_report() else {
        return s;
    };
    s.push_str(&format!(
        "best: {} (pooled out-of-fold AUC {:.4})\ncalibration (out of fold): band, rows, mean predicted, observed\n",
        best.algorithm.as_str(),
        best.pooled_auc
    ));
    for b in &best.calibration {
        s.push_str(&format!(
            "  {:>2} {:>7} {:.4} {:.4}\n",
            b.bin, b.count, b.mean_predicted, b.observed_rate
        ));
    }
    if let Model::Scorecard(card) = &trained.model {
        s.push_str(&format!(
            "scorecard: {} features, {} at odds {}:1, {} points to double the odds\n",
            card.features.len(),
            card.base_score,
            card.base_odds,
            card.pdo
        ));
        for f in &card.features {
            s.push_str(&format!(
                "  {} (IV {:.3}, {})\n",
                f.binning.feature, f.binning.iv, f.binning.trend
            ));
            for (b, p) in f.binning.bins.iter().zip(&f.points) {
                if b.count > 0 {
                    s.push_str(&format!(
                        "    {:<32} {:>6} rows  rate {:.3}  points {:>6.1}\n",
                        b.label, b.count, b.event_rate, p
                    ));
                }
            }
        }
    }
    if let Some(out) = out {
        s.push_str(&format!(
            "model ({}) fitted on all {} rows, written to {}",
            trained.model.algorithm().as_str(),
            trained.rows,
            out.display()
        ));
    }
    s.trim_end().to_string()
}

fn write_rejects(path: &Path, report: &LoadReport) -> Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    w.write_record(["row", "field", "reason", "raw"])?;
    for r in &report.rejected {
        w.write_record(rapport_domain::text::spreadsheet_record([
            r.row.to_string(),
            r.field.clone(),
            r.reason.clone(),
            r.raw.clone(),
        ]))?;
    }
    w.flush()?;
    Ok(())
}

pub fn score(json: bool, args: &ScoreArgs) -> Result<()> {
    let (Some(model_path), Some(data_path)) = (&args.model, &args.data) else {
        bail!("give --model FILE --data FILE, or --kind KIND to score the store");
    };
    if json && args.out.is_none() {
        bail!("--json prints the summary only: give --out FILE for the per-row scores");
    }
    let text = std::fs::read_to_string(model_path)
        .with_context(|| format!("cannot read the model {}", model_path.display()))?;
    let trained = TrainedModel::from_json(&text)
        .with_context(|| format!("{} is not a model artefact", model_path.display()))?;
    let (data, report) = read_scoring_extract(data_path, &trained, args.id.as_deref())?;
    let rows: Vec<usize> = (0..data.len()).collect();
    let probabilities = trained.model.predict(&data, &rows)?;
    let reasons = trained.model.explain(&data, &rows, args.top)?;
    let mut out: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(
            std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        ),
        None if json => Box::new(std::io::sink()),
        None => Box::new(std::io::stdout()),
    };
    let mut w = csv::Writer::from_writer(&mut out);
    w.write_record(["id", "probability", "reasons"])?;
    for (i, (p, r)) in probabilities.iter().zip(&reasons).enumerate() {
        let id = data
            .ids
            .as_ref()
            .map_or_else(|| (i + 1).to_string(), |ids| ids[i].clone());
        w.write_record(rapport_domain::text::spreadsheet_record([
            id,
            format!("{p:.6}"),
            serde_json::to_string(r)?,
        ]))?;
    }
    w.flush()?;
    drop(w);
    if json || args.out.is_some() {
        emit(
            json,
            &json!({
                "model": args.model, "algorithm": trained.model.algorithm(),
                "rows_read": report.rows_read, "scored": data.len(), "rejected": report.rejected.len(),
                "rejected_rows": report.rejected.iter().take(20).collect::<Vec<_>>(),
                "out": args.out,
            }),
            || {
                format!(
                    "scored {} rows ({} rejected) with the {} model",
                    data.len(),
                    report.rejected.len(),
                    trained.model.algorithm().as_str()
                )
            },
        )?;
    }
    Ok(())
}

/// Read an extract for scoring: the target column may be absent, and every
/// column the model uses is kept even when the scored rows hold one value.
fn read_scoring_extract(
    path: &Path,
    trained: &TrainedModel,
    id: Option<&str>,
) -> Result<(rapport_models::Dataset, LoadReport)> {
    let spec = ExtractSpec {
        target: trained.target.clone(),
        positive: Some(trained.positive.clone()),
        id: id.map(str::to_string),
        scoring: true,
        ..ExtractSpec::default()
    };
    Ok(read_extract(path, &spec)?)
}

/// Counts written by [`berka_loans`].
pub struct BerkaLoans {
    pub loans: usize,
    pub bad: usize,
}

/// One Berka table: header names and rows of text cells.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    path: PathBuf,
}

impl Table {
    fn read(dir: &Path, name: &str) -> Result<Self> {
        let plain = dir.join(format!("{name}.asc"));
        let gz = dir.join(format!("{name}.asc.gz"));
        let path = if plain.exists() { plain } else { gz };
        let bytes = rapport_models::extract::read_maybe_gzip(&path)?;
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(b';')
            .from_reader(bytes.as_slice());
        let header = reader
            .headers()?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        let mut rows = Vec::new();
        for (i, r) in reader.records().enumerate() {
            let r = r.with_context(|| format!("{}: row {}", path.display(), i + 2))?;
            rows.push(r.iter().map(|c| c.trim().to_string()).collect());
        }
        Ok(Self { header, rows, path })
    }

    fn col(&self, name: &str) -> Result<usize> {
        self.header
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("{}: no column {name}", self.path.display()))
    }

    fn parse<T: std::str::FromStr>(&self, row: usize, col: usize) -> Result<T> {
        let cell = &self.rows[row][col];
        cell.parse::<T>().map_err(|_| {
            anyhow::anyhow!(
                "{}: row {}: field {}: cannot read {cell:?}",
                self.path.display(),
                row + 2,
                self.header[col]
            )
        })
    }

    fn date(&self, row: usize, col: usize) -> Result<NaiveDate> {
        let cell = &self.rows[row][col];
        let digits = cell.get(..6).unwrap_or(cell);
        let n: u32 = digits
            .parse()
            .ok()
            .filter(|_| digits.len() == 6)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: row {}: field {}: not a YYMMDD date: {cell:?}",
                    self.path.display(),
                    row + 2,
                    self.header[col]
                )
            })?;
        NaiveDate::from_ymd_opt(1900 + (n / 10000) as i32, (n / 100) % 100, n % 100).ok_or_else(
            || {
                anyhow::anyhow!(
                    "{}: row {}: field {}: no such date {cell:?}",
                    self.path.display(),
                    row + 2,
                    self.header[col]
                )
            },
        )
    }
}

/// Build the loan-default extract: one row per loan with the loan's terms,
/// the account, its owner, its dispositions and cards (issued before the
/// loan), its standing orders, and the account district's demographics.
/// The target `bad` is 1 for status B (finished, not paid) or D (running,
/// in debt). Standing orders carry no dates in the data set: they are the
/// orders as of the end of the data, a mild look-ahead noted in
/// docs/VALIDATION.md; the loan's own instalment order (UVER) is left out.
pub fn berka_loans(dir: &Path, out: &Path) -> Result<BerkaLoans> {
    let loan = Table::read(dir, "loan")?;
    let account = Table::read(dir, "account")?;
    let disp = Table::read(dir, "disp")?;
    let client = Table::read(dir, "client")?;
    let card = Table::read(dir, "card")?;
    let district = Table::read(dir, "district")?;
    let order = Table::read(dir, "order")?;

    let mut accounts: HashMap<String, usize> = HashMap::new();
    let a_id = account.col("account_id")?;
    for r in 0..account.rows.len() {
        accounts.insert(account.rows[r][a_id].clone(), r);
    }
    let mut districts: HashMap<String, usize> = HashMap::new();
    let d_id = district.col("A1")?;
    for r in 0..district.rows.len() {
        districts.insert(district.rows[r][d_id].clone(), r);
    }
    let mut clients: HashMap<String, usize> = HashMap::new();
    let c_id = client.col("client_id")?;
    for r in 0..client.rows.len() {
        clients.insert(client.rows[r][c_id].clone(), r);
    }
    // Dispositions per account, and the disposition of each card.
    let (dp_id, dp_client, dp_account, dp_type) = (
        disp.col("disp_id")?,
        disp.col("client_id")?,
        disp.col("account_id")?,
        disp.col("type")?,
    );
    let mut disp_of_account: HashMap<String, Vec<usize>> = HashMap::new();
    let mut disp_rows: HashMap<String, usize> = HashMap::new();
    for r in 0..disp.rows.len() {
        disp_of_account
            .entry(disp.rows[r][dp_account].clone())
            .or_default()
            .push(r);
        disp_rows.insert(disp.rows[r][dp_id].clone(), r);
    }
    let (cd_disp, cd_type, cd_issued) =
        (card.col("disp_id")?, card.col("type")?, card.col("issued")?);
    let mut cards_of_account: HashMap<String, Vec<usize>> = HashMap::new();
    for r in 0..card.rows.len() {
        let Some(&d) = disp_rows.get(&card.rows[r][cd_disp]) else {
            bail!(
                "{}: row {}: field disp_id: unknown disposition {}",
                card.path.display(),
                r + 2,
                card.rows[r][cd_disp]
            );
        };
        cards_of_account
            .entry(disp.rows[d][dp_account].clone())
            .or_default()
            .push(r);
    }
    let (o_account, o_amount, o_symbol) = (
        order.col("account_id")?,
        order.col("amount")?,
        order.col("k_symbol")?,
    );
    let mut orders: HashMap<String, [f64; 5]> = HashMap::new(); // count, SIPO, POJISTNE, LEASING, other
    for r in 0..order.rows.len() {
        let amount: f64 = order.parse(r, o_amount)?;
        let slot = orders.entry(order.rows[r][o_account].clone()).or_default();
        match order.rows[r][o_symbol].as_str() {
            "UVER" => continue,
            "SIPO" => slot[1] += amount,
            "POJISTNE" => slot[2] += amount,
            "LEASING" => slot[3] += amount,
            _ => slot[4] += amount,
        }
        slot[0] += 1.0;
    }

    let (l_id, l_account, l_date, l_amount, l_duration, l_payments, l_status) = (
        loan.col("loan_id")?,
        loan.col("account_id")?,
        loan.col("date")?,
        loan.col("amount")?,
        loan.col("duration")?,
        loan.col("payments")?,
        loan.col("status")?,
    );
    let (acc_district, acc_frequency, acc_date) = (
        account.col("district_id")?,
        account.col("frequency")?,
        account.col("date")?,
    );
    let (cl_birth, cl_district) = (client.col("birth_number")?, client.col("district_id")?);
    let demo_cols: Vec<(&str, usize)> = [
        "A3", "A4", "A5", "A6", "A7", "A8", "A9", "A10", "A11", "A12", "A13", "A14", "A15", "A16",
    ]
    .iter()
    .map(|c| district.col(c).map(|i| (*c, i)))
    .collect::<Result<_>>()?;

    let mut w =
        csv::Writer::from_path(out).with_context(|| format!("cannot write {}", out.display()))?;
    let mut header: Vec<String> = [
        "loan_id",
        "loan_date",
        "loan_year",
        "amount",
        "duration",
        "payments",
        "payments_to_salary",
        "frequency",
        "account_age_days",
        "owner_gender",
        "owner_age",
        "owner_in_account_district",
        "dispositions",
        "cards_before_loan",
        "best_card",
        "orders",
        "order_household",
        "order_insurance",
        "order_leasing",
        "order_other",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(demo_cols.iter().map(|(c, _)| format!("district_{c}")));
    header.push("bad".into());
    w.write_record(&header)?;
    let mut counts = BerkaLoans { loans: 0, bad: 0 };
    for r in 0..loan.rows.len() {
        let where_ = |field: &str| format!("{}: row {}: field {field}", loan.path.display(), r + 2);
        let account_id = &loan.rows[r][l_account];
        let &a = accounts
            .get(account_id)
            .with_context(|| format!("{}: unknown account {account_id}", where_("account_id")))?;
        let loan_date = loan.date(r, l_date)?;
        let amount: f64 = loan.parse(r, l_amount)?;
        let payments: f64 = loan.parse(r, l_payments)?;
        let status = loan.rows[r][l_status].as_str();
        let bad = match status {
            "B" | "D" => 1,
            "A" | "C" => 0,
            other => bail!("{}: unknown status {other:?}", where_("status")),
        };
        let district_id = &account.rows[a][acc_district];
        let &d = districts.get(district_id).with_context(|| {
            format!(
                "{}: row {}: field district_id: unknown district {district_id}",
                account.path.display(),
                a + 2
            )
        })?;
        let salary: f64 = district.parse(d, district.col("A11")?)?;
        let opened = account.date(a, acc_date)?;
        let disps = disp_of_account
            .get(account_id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let owner = disps
            .iter()
            .find(|&&x| disp.rows[x][dp_type] == "OWNER")
            .with_context(|| {
                format!(
                    "{}: account {account_id} has no OWNER disposition",
                    where_("account_id")
                )
            })?;
        let client_id = &disp.rows[*owner][dp_client];
        let &c = clients.get(client_id).with_context(|| {
            format!(
                "{}: row {}: field client_id: unknown client {client_id}",
                disp.path.display(),
                owner + 2
            )
        })?;
        let (gender, birth) = rapport_ingest::parse_birth_number(&client.rows[c][cl_birth])
            .with_context(|| {
                format!(
                    "{}: row {}: field birth_number: cannot read {:?}",
                    client.path.display(),
                    c + 2,
                    client.rows[c][cl_birth]
                )
            })?;
        let age = loan_date.years_since(birth).unwrap_or(0);
        let mut cards_before = 0;
        let mut best = 0u8; // none, junior, classic, gold
        for &k in cards_of_account
            .get(account_id)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            if card.date(k, cd_issued)? < loan_date {
                cards_before += 1;
                best = best.max(match card.rows[k][cd_type].as_str() {
                    "junior" => 1,
                    "classic" => 2,
                    "gold" => 3,
                    _ => 0,
                });
            }
        }
        let o = orders.get(account_id).copied().unwrap_or_default();
        let mut record = vec![
            loan.rows[r][l_id].clone(),
            loan_date.format("%Y-%m-%d").to_string(),
            loan_date.format("%Y").to_string(),
            format!("{amount}"),
            loan.rows[r][l_duration].clone(),
            format!("{payments}"),
            format!("{:.4}", payments / salary.max(1.0)),
            match account.rows[a][acc_frequency].as_str() {
                "POPLATEK MESICNE" => "monthly".to_string(),
                "POPLATEK TYDNE" => "weekly".to_string(),
                "POPLATEK PO OBRATU" => "after_transaction".to_string(),
                other => other.to_string(),
            },
            (loan_date - opened).num_days().to_string(),
            format!("{gender:?}").to_lowercase(),
            age.to_string(),
            u8::from(client.rows[c][cl_district] == *district_id).to_string(),
            disps.len().to_string(),
            cards_before.to_string(),
            ["none", "junior", "classic", "gold"][best as usize].to_string(),
            format!("{}", o[0]),
            format!("{}", o[1]),
            format!("{}", o[2]),
            format!("{}", o[3]),
            format!("{}", o[4]),
        ];
        record.extend(demo_cols.iter().map(|(_, i)| district.rows[d][*i].clone()));
        record.push(bad.to_string());
        w.write_record(&record)?;
        counts.loans += 1;
        counts.bad += bad;
    }
    w.flush()?;
    Ok(counts)
}

/// `rapport model list`.
pub async fn list(store: &Store, json_out: bool, kind: Option<&str>) -> Result<()> {
    let rows = store.model_versions(kind).await?;
    let value = json!({ "models": rows.iter().map(|m| json!({
        "id": m.id, "kind": m.kind, "version": m.version, "algorithm": m.algorithm,
        "trained_at": m.trained_at, "trained_by": m.trained_by, "active": m.active,
        "metrics": serde_json::from_str::<serde_json::Value>(&m.metrics).ok()
            .map(|v| json!({"auc": v["auc"], "ks": v["ks"], "scheme": v["scheme"]})),
        "source": serde_json::from_str::<serde_json::Value>(&m.source).ok(),
    })).collect::<Vec<_>>() });
    emit(json_out, &value, || {
        if rows.is_empty() {
            return "no models registered".to_string();
        }
        let mut s = format!(
            "{:>4}  {:<24} {:>3}  {:<9} {:>6}  {:<20} active\n",
            "id", "kind", "ver", "algorithm", "AUC", "trained"
        );
        for m in &rows {
            let auc = serde_json::from_str::<serde_json::Value>(&m.metrics)
                .ok()
                .and_then(|v| v["auc"].as_f64())
                .map_or("-".to_string(), |a| format!("{a:.4}"));
            s.push_str(&format!(
                "{:>4}  {:<24} {:>3}  {:<9} {:>6}  {:<20} {}\n",
                m.id,
                m.kind,
                m.version,
                m.algorithm,
                auc,
                m.trained_at.format("%Y-%m-%d %H:%M"),
                if m.active { "yes" } else { "" }
            ));
        }
        s.trim_end().to_string()
    })
}
