//! Models trained on the store's own history, the model registry and batch
//! scoring into the store (docs/PRODUCT.md C6).
//!
//! Labels come from an **outcome window** `[D, E)` that follows the
//! **observation date** `D = E - horizon`; features are computed as of `D`
//! (windows `[D - W, D)`), so nothing the label reads is visible to them:
//!
//! * `churn`: customers with a transaction in the 30 days before `D`; event =
//!   no transaction at all in `[D, E)` (an active customer went silent);
//! * `default`: customers less than 30 days past due at `D`; event = a card
//!   statement in `[D, E)` at least 30 days past due;
//! * `propensity:<category>`: customers holding no product of the category
//!   at `D`; event = a product of the category opened in `[D, E)`.
//!
//! Training validates both algorithms (stratified k-fold), fits the better on
//! every row and registers it as the next version of its kind (activated with
//! `--activate`). Scoring applies the active version to the features as of a
//! date and stores probability and reasons per customer.

use crate::access::{Actor, Permission};
use crate::audit::entry_for;
use crate::error::{ServiceError, ServiceResult};
use anyhow::{bail, Context, Result};
use chrono::{Duration, NaiveDate, Utc};
use rapport_analytics::{FeatureEngine, FeatureTable};
use rapport_matching::Catalogue;
use rapport_models::extract::{Column, Feature};
/// The training settings (re-exported for the adapters and their tests).
pub use rapport_models::TrainConfig;
use rapport_models::{validate, Dataset, LoadReport, TrainedModel};
use rapport_store::governance_queries::{ModelChangeRequestRow, ModelDriftRow};
use rapport_store::{DayRange, ModelScoreRow, NewModelVersion, Store, DEFAULT_SCAN_CHUNK_ROWS};
use serde::Serialize;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

/// What a store model predicts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreKind {
    Churn,
    Default,
    /// A product category of the catalogue (deposit, wealth, fund, …).
    Propensity(String),
}

impl StoreKind {
    pub fn parse(kind: &str, category: Option<&str>) -> Result<StoreKind> {
        match (kind, category) {
            ("churn", _) => Ok(StoreKind::Churn),
            ("default", _) => Ok(StoreKind::Default),
            ("propensity", Some(c)) => {
                if rapport_matching::Category::parse(c).is_none() {
                    bail!(
                        "--category {c:?} is not a catalogue category ({})",
                        rapport_matching::Category::ALL
                            .iter()
                            .map(|c| c.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                Ok(StoreKind::Propensity(c.to_string()))
            }
            ("propensity", None) => bail!("--kind propensity needs --category (e.g. wealth)"),
            (other, _) => bail!("unknown --kind {other:?} (churn, default, propensity)"),
        }
    }

    /// The registry's kind.
    pub fn registry_kind(&self) -> String {
        match self {
            StoreKind::Churn => "churn".into(),
            StoreKind::Default => "default".into(),
            StoreKind::Propensity(c) => format!("propensity:{c}"),
        }
    }

    fn label(&self) -> String {
        match self {
            StoreKind::Churn => "no transaction in the outcome window, among customers \
                                 active in the 30 days before the observation date"
                .into(),
            StoreKind::Default => "a card statement 30+ days past due in the outcome window, \
                                   among customers under 30 days past due at the observation date"
                .into(),
            StoreKind::Propensity(c) => format!(
                "a {c} product opened in the outcome window, among customers holding none \
                 at the observation date"
            ),
        }
    }
}

/// The features of a table as model columns (every numeric feature; NaN when missing).
pub fn dataset_of(table: &FeatureTable, rows: &[usize], target: Vec<u8>) -> Dataset {
    let features = table
        .columns
        .iter()
        .map(|c| Feature {
            name: c.name.clone(),
            column: Column::Numeric(
                rows.iter()
                    .map(|&r| c.values[r].unwrap_or(f64::NAN))
                    .collect(),
            ),
        })
        .collect();
    Dataset {
        features,
        target,
        ids: Some(
            rows.iter()
                .map(|&r| table.customer_keys[r].clone())
                .collect(),
        ),
        times: None,
    }
}

/// The training outcome.
#[derive(Debug, Clone, Serialize)]
pub struct StoreTrainReport {
    pub kind: String,
    pub observation_date: NaiveDate,
    pub outcome_until: NaiveDate,
    pub population: usize,
    pub events: usize,
    pub label: String,
    pub best: String,
    pub auc: f64,
    pub auc_sd: f64,
    pub ks: f64,
    pub gini: f64,
    pub lift_at_10: f64,
    pub folds: usize,
    pub model_id: i64,
    pub version: i64,
    pub activated: bool,
}

/// Trains a model of `kind` on the outcome window ending at `until`
/// (exclusive) and registers it.
pub async fn train(
    store: &Store,
    kind: &StoreKind,
    until: NaiveDate,
    horizon_days: i64,
    cfg: &TrainConfig,
    by: &str,
    activate: bool,
) -> Result<StoreTrainReport> {
    anyhow::ensure!(horizon_days >= 7, "--horizon-days must be at least 7");
    let d = until - Duration::days(horizon_days);
    let table = FeatureEngine::new(store)
        .compute(d)
        .await
        .with_context(|| format!("features as of {d}"))?;
    let (rows, target) = labels(store, kind, &table, d, until).await?;
    let events = target.iter().filter(|&&y| y == 1).count();
    anyhow::ensure!(
        events >= 10 && rows.len() - events >= 10,
        "{} customers with {} events between {d} and {until}: too few to train \
         (need 10 of each class; try another --as-of or --horizon-days)",
        rows.len(),
        events
    );
    let data = dataset_of(&table, &rows, target);
    let validation = validate(&data, cfg)?;
    let best = validation
        .best_report()
        .context("validation kept no report of the best algorithm")?
        .clone();
    let report = LoadReport {
        file: PathBuf::from(format!("store:{}", kind.registry_kind())),
        delimiter: String::new(),
        rows_read: rows.len() as u64,
        rows_accepted: rows.len() as u64,
        rejected: Vec::new(),
        target: kind.registry_kind(),
        positive: "1".into(),
        positives: events as u64,
        numeric_features: table.columns.iter().map(|c| c.name.clone()).collect(),
        categorical_features: Vec::new(),
        constant_columns: Vec::new(),
        excluded: Vec::new(),
    };
    let trained = TrainedModel::fit(validation.best, &data, &report, &validation, cfg)?;
    // The training population's scores, cut at their deciles: the baseline
    // every later scored population is compared with (drift, PSI).
    let all: Vec<usize> = (0..rows.len()).collect();
    let baseline = Baseline::of(&trained.model.predict(&data, &all)?, DRIFT_BANDS);
    let source = json!({
        "source": "store",
        "observation_date": d,
        "outcome_until": until,
        "horizon_days": horizon_days,
        "label": kind.label(),
        "population": rows.len(),
        "events": events,
    });
    let metrics = json!({
        "scheme": validation.scheme, "auc": best.auc, "auc_sd": best.auc_sd, "ks": best.ks,
        "gini": best.gini, "lift_at_10": best.lift_at_10, "psi": best.psi,
        "folds": best.folds, "calibration": best.calibration, "baseline": baseline,
        "algorithms": validation.algorithms.iter().map(|a| json!({
            "algorithm": a.algorithm, "auc": a.auc, "auc_sd": a.auc_sd })).collect::<Vec<_>>(),
    });
    let kind_name = kind.registry_kind();
    let artefact = trained.to_json()?;
    let now = Utc::now();
    let row = store
        .register_model(
            &NewModelVersion {
                kind: &kind_name,
                algorithm: validation.best.as_str(),
                trained_by: by,
                source: &source.to_string(),
                metrics: &metrics.to_string(),
                artefact: &artefact,
            },
            now,
        )
        .await?;
    if activate {
        store.activate_model(row.id, by, now).await?;
    }
    Ok(StoreTrainReport {
        kind: kind_name,
        observation_date: d,
        outcome_until: until,
        population: rows.len(),
        events,
        label: kind.label(),
        best: validation.best.as_str().to_string(),
        auc: best.auc,
        auc_sd: best.auc_sd,
        ks: best.ks,
        gini: best.gini,
        lift_at_10: best.lift_at_10,
        folds: best.folds.len(),
        model_id: row.id,
        version: row.version,
        activated: activate,
    })
}

/// The population rows of `table` and their labels.
async fn labels(
    store: &Store,
    kind: &StoreKind,
    table: &FeatureTable,
    d: NaiveDate,
    until: NaiveDate,
) -> Result<(Vec<usize>, Vec<u8>)> {
    let mut rows = Vec::new();
    let mut target = Vec::new();
    match kind {
        StoreKind::Churn => {
            let active = table
                .column("txn_count_30")
                .context("the feature table has no txn_count_30")?;
            let mut seen: HashSet<i64> = HashSet::new();
            store
                .scan_transactions(DayRange::between(d, until), DEFAULT_SCAN_CHUNK_ROWS, |c| {
                    seen.extend(c.customer_id.iter().copied());
                })
                .await?;
            for (r, id) in table.customer_ids.iter().enumerate() {
                if active[r].unwrap_or(0.0) > 0.0 {
                    rows.push(r);
                    target.push(u8::from(!seen.contains(id)));
                }
            }
        }
        StoreKind::Default => {
            let dpd = table.column("max_days_past_due");
            let mut bad: HashSet<i64> = HashSet::new();
            store
                .scan_card_statements(DayRange::between(d, until), DEFAULT_SCAN_CHUNK_ROWS, |c| {
                    for i in 0..c.len() {
                        if c.days_past_due[i] >= 30 {
                            bad.insert(c.customer_id[i]);
                        }
                    }
                })
                .await?;
            for (r, id) in table.customer_ids.iter().enumerate() {
                if dpd.is_none_or(|x| x[r].unwrap_or(0.0) < 30.0) {
                    rows.push(r);
                    target.push(u8::from(bad.contains(id)));
                }
            }
        }
        StoreKind::Propensity(category) => {
            let catalogue = Catalogue::builtin()?;
            let in_category: HashSet<i64> = store
                .products()
                .await?
                .into_iter()
                .filter(|p| {
                    catalogue
                        .get(&p.code)
                        .map_or(p.category == *category, |c| c.category.as_str() == category)
                })
                .map(|p| p.id)
                .collect();
            let (dn, un) = (rapport_store::epoch_day(d), rapport_store::epoch_day(until));
            let mut holds: HashSet<i64> = HashSet::new();
            let mut opened: HashSet<i64> = HashSet::new();
            store
                .scan_holdings(DEFAULT_SCAN_CHUNK_ROWS, |h| {
                    for i in 0..h.len() {
                        if !in_category.contains(&h.product_id[i]) {
                            continue;
                        }
                        let o = h.opened_on[i];
                        let open_at_d =
                            o.is_none_or(|o| o < dn) && h.closed_on[i].is_none_or(|c| c >= dn);
                        if open_at_d {
                            holds.insert(h.customer_id[i]);
                        } else if o.is_some_and(|o| o >= dn && o < un) {
                            opened.insert(h.customer_id[i]);
                        }
                    }
                })
                .await?;
            for (r, id) in table.customer_ids.iter().enumerate() {
                if !holds.contains(id) {
                    rows.push(r);
                    target.push(u8::from(opened.contains(id)));
                }
            }
        }
    }
    Ok((rows, target))
}

/// What batch scoring did.
#[derive(Debug, Clone, Serialize)]
pub struct StoreScoreReport {
    pub kind: String,
    pub model_id: i64,
    pub version: i64,
    pub algorithm: String,
    pub as_of: NaiveDate,
    pub scored: usize,
    pub mean_probability: f64,
    /// Customers at or above 0.5.
    pub high: usize,
}

/// Scores every customer with the active model of `kind` as of `as_of` and
/// stores probability and reasons (top `top`).
pub async fn score(
    store: &Store,
    kind: &str,
    as_of: NaiveDate,
    top: usize,
) -> Result<StoreScoreReport> {
    let table = FeatureEngine::new(store).compute(as_of).await?;
    score_table(store, kind, &table, top).await
}

/// [`score`] on a feature table already computed (as of its `as_of`).
pub async fn score_table(
    store: &Store,
    kind: &str,
    table: &FeatureTable,
    top: usize,
) -> Result<StoreScoreReport> {
    let as_of = table.as_of;
    let active = store.active_model(kind).await?.with_context(|| {
        format!("no active {kind} model: train one and `rapport model activate ID`")
    })?;
    let (row, artefact) = store
        .model_with_artefact(active.id)
        .await?
        .context("the active model vanished")?;
    let trained = TrainedModel::from_json(&artefact).with_context(|| {
        format!(
            "model {} (version {}) has an unreadable artefact",
            row.id, row.version
        )
    })?;
    let by_name: HashMap<&str, &rapport_analytics::FeatureColumn> =
        table.columns.iter().map(|c| (c.name.as_str(), c)).collect();
    let all: Vec<usize> = (0..table.len()).collect();
    let mut features = Vec::with_capacity(trained.features.len());
    for name in &trained.features {
        let c = by_name.get(name.as_str()).with_context(|| {
            format!("the model needs feature {name:?}, which the engine no longer computes")
        })?;
        features.push(Feature {
            name: name.clone(),
            column: Column::Numeric(c.values.iter().map(|v| v.unwrap_or(f64::NAN)).collect()),
        });
    }
    let data = Dataset {
        features,
        target: vec![0; table.len()],
        ids: None,
        times: None,
    };
    let probs = trained.model.predict(&data, &all)?;
    let reasons = trained.model.explain(&data, &all, top)?;
    let points = match &trained.model {
        rapport_models::Model::Scorecard(_) => true,
        rapport_models::Model::Gbdt(_) => false,
    };
    let rows: Vec<ModelScoreRow> = table
        .customer_ids
        .iter()
        .zip(probs.iter().zip(&reasons))
        .map(|(&id, (&p, r))| ModelScoreRow {
            customer_id: id,
            probability: p,
            points: points.then(|| r.iter().map(|x| x.effect).sum()),
            reasons: serde_json::to_string(r).unwrap_or_else(|_| "[]".into()),
        })
        .collect();
    store.save_model_scores(row.id, as_of, &rows).await?;
    record_drift(store, &row, as_of, &probs).await?;
    let n = rows.len().max(1);
    Ok(StoreScoreReport {
        kind: kind.to_string(),
        model_id: row.id,
        version: row.version,
        algorithm: row.algorithm,
        as_of,
        scored: rows.len(),
        mean_probability: probs.iter().sum::<f64>() / n as f64,
        high: probs.iter().filter(|&&p| p >= 0.5).count(),
    })
}

/// Activates model version `id` as `actor` (who needs
/// [`Permission::ManageModels`]); audited.
pub async fn activate_as(
    store: &Store,
    actor: &Actor,
    via: &str,
    id: i64,
) -> ServiceResult<rapport_store::ModelVersionRow> {
    actor.require(Permission::ManageModels)?;
    let m = store.activate_model(id, actor.name(), Utc::now()).await?;
    audit_model(store, actor, via, "model.activate", &m).await?;
    Ok(m)
}

/// Rolls `kind` back to the version active before as `actor` (who needs
/// [`Permission::ManageModels`]); None when there is no earlier activation;
/// audited.
pub async fn rollback_as(
    store: &Store,
    actor: &Actor,
    via: &str,
    kind: &str,
) -> ServiceResult<Option<rapport_store::ModelVersionRow>> {
    actor.require(Permission::ManageModels)?;
    let m = store.rollback_model(kind, actor.name(), Utc::now()).await?;
    if let Some(m) = &m {
        audit_model(store, actor, via, "model.rollback", m).await?;
    }
    Ok(m)
}

async fn audit_model(
    store: &Store,
    actor: &Actor,
    via: &str,
    action: &str,
    m: &rapport_store::ModelVersionRow,
) -> ServiceResult<()> {
    store
        .append_audit(&[entry_for(
            actor,
            action,
            "model",
            Some(m.id.to_string()),
            None,
            json!({ "via": via, "kind": m.kind, "version": m.version }),
        )])
        .await?;
    Ok(())
}

// ---- Governance: drift, the registry as the risk officer reads it, and
// ---- activation with a second person's approval (issue 18).

/// Bands of the training scores a scored population is compared over.
pub const DRIFT_BANDS: usize = 10;

/// The training population's score distribution: the band edges (its
/// deciles) and its share in each band. Kept in the version's metrics.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Baseline {
    pub edges: Vec<f64>,
    pub shares: Vec<f64>,
}

impl Baseline {
    /// The baseline of `scores` over `bands` equal-count bands (edges deduplicated).
    pub fn of(scores: &[f64], bands: usize) -> Baseline {
        let mut sorted: Vec<f64> = scores.iter().copied().filter(|x| !x.is_nan()).collect();
        sorted.sort_by(f64::total_cmp);
        let mut edges: Vec<f64> = if sorted.is_empty() {
            Vec::new()
        } else {
            (1..bands)
                .map(|b| sorted[(b * sorted.len() / bands).min(sorted.len() - 1)])
                .collect()
        };
        edges.dedup();
        let shares = shares_over(&edges, scores);
        Baseline { edges, shares }
    }

    /// The population stability index of `scores` against this baseline:
    /// Σ (a − e) · ln(a / e) over the bands, each share floored at 0.0001
    /// (as `rapport_models::metrics::psi`). Returns the shares and the PSI.
    pub fn psi(&self, scores: &[f64]) -> (Vec<f64>, f64) {
        let actual = shares_over(&self.edges, scores);
        let floor = |x: f64| x.max(1e-4);
        let psi = self
            .shares
            .iter()
            .zip(&actual)
            .map(|(&e, &a)| (floor(a) - floor(e)) * (floor(a) / floor(e)).ln())
            .sum();
        (actual, psi)
    }
}

/// The share of `scores` (NaN left out) in each band cut at `edges`.
fn shares_over(edges: &[f64], scores: &[f64]) -> Vec<f64> {
    let mut counts = vec![0usize; edges.len() + 1];
    let mut n = 0usize;
    for &v in scores.iter().filter(|v| !v.is_nan()) {
        counts[edges.partition_point(|&e| e < v)] += 1;
        n += 1;
    }
    counts
        .into_iter()
        .map(|c| if n == 0 { 0.0 } else { c as f64 / n as f64 })
        .collect()
}

/// How stable a population is, by its PSI: stable below 0.1, a shift to
/// watch below 0.25, drift from 0.25 on (the thresholds of
/// `rapport_models::metrics::psi`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PsiLevel {
    Stable,
    Watch,
    Drift,
}

impl PsiLevel {
    pub fn of(psi: f64) -> PsiLevel {
        if psi < 0.1 {
            PsiLevel::Stable
        } else if psi < 0.25 {
            PsiLevel::Watch
        } else {
            PsiLevel::Drift
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            PsiLevel::Stable => "stable",
            PsiLevel::Watch => "watch",
            PsiLevel::Drift => "drift",
        }
    }
}

/// The baseline kept in a version's metrics JSON, if it has one (versions
/// trained before drift was recorded have none).
pub fn baseline_of(metrics: &str) -> Option<Baseline> {
    let v: serde_json::Value = serde_json::from_str(metrics).ok()?;
    serde_json::from_value(v.get("baseline")?.clone()).ok()
}

/// Records the drift of the population `row` just scored as of `as_of`.
async fn record_drift(
    store: &Store,
    row: &rapport_store::ModelVersionRow,
    as_of: NaiveDate,
    probs: &[f64],
) -> Result<()> {
    let Some(baseline) = baseline_of(&row.metrics) else {
        return Ok(());
    };
    let (shares, psi) = baseline.psi(probs);
    store
        .save_model_drift(&ModelDriftRow {
            model_id: row.id,
            as_of,
            population: probs.len() as i64,
            psi,
            shares: serde_json::to_string(&shares)?,
        })
        .await?;
    Ok(())
}

/// One band of a version's calibration (reliability) table.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct CalibrationPoint {
    pub bin: usize,
    pub count: usize,
    pub mean_predicted: f64,
    pub observed_rate: f64,
}

/// The drift of one month: the latest scoring of the month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftMonth {
    /// `YYYY-MM`.
    pub month: String,
    pub as_of: NaiveDate,
    pub population: i64,
    pub psi: f64,
    pub level: PsiLevel,
}

/// A registered version as the risk officer reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionView {
    pub id: i64,
    pub kind: String,
    pub version: i64,
    pub algorithm: String,
    pub trained_at: chrono::DateTime<Utc>,
    pub trained_by: String,
    pub active: bool,
    /// Validation (out of fold): AUC, KS, Gini; None when not recorded.
    pub auc: Option<f64>,
    pub ks: Option<f64>,
    pub gini: Option<f64>,
    pub calibration: Vec<CalibrationPoint>,
    /// The training population: observation date, size and events.
    pub observation_date: Option<String>,
    pub population: Option<i64>,
    pub events: Option<i64>,
    /// Month by month, oldest first.
    pub drift: Vec<DriftMonth>,
}

impl VersionView {
    /// The latest month's drift.
    pub fn latest_drift(&self) -> Option<&DriftMonth> {
        self.drift.last()
    }
}

/// One entry of the activation history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivationView {
    pub kind: String,
    pub model_id: i64,
    pub version: Option<i64>,
    /// `activate` or `rollback`.
    pub action: String,
    pub at: chrono::DateTime<Utc>,
    pub by: String,
}

/// The registry: every version, the activation history (newest first) and
/// the change requests (newest first).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Registry {
    pub versions: Vec<VersionView>,
    pub activations: Vec<ActivationView>,
    pub requests: Vec<ModelChangeRequestRow>,
}

impl Registry {
    pub fn version(&self, id: i64) -> Option<&VersionView> {
        self.versions.iter().find(|v| v.id == id)
    }
    /// The active version of `kind`.
    pub fn active(&self, kind: &str) -> Option<&VersionView> {
        self.versions.iter().find(|v| v.kind == kind && v.active)
    }
}

fn num(v: &serde_json::Value, key: &str) -> Option<f64> {
    v.get(key)
        .and_then(serde_json::Value::as_f64)
        .filter(|x| x.is_finite())
}

/// The model registry (who needs [`Permission::ViewModels`]).
pub async fn registry(store: &Store, actor: &Actor) -> ServiceResult<Registry> {
    actor.require(Permission::ViewModels)?;
    let rows = store.model_versions(None).await?;
    let drifts = store.model_drifts().await?;
    let versions = rows
        .iter()
        .map(|m| {
            let metrics: serde_json::Value =
                serde_json::from_str(&m.metrics).unwrap_or(serde_json::Value::Null);
            let source: serde_json::Value =
                serde_json::from_str(&m.source).unwrap_or(serde_json::Value::Null);
            let calibration = metrics
                .get("calibration")
                .and_then(|c| serde_json::from_value(c.clone()).ok())
                .unwrap_or_default();
            let mut drift: Vec<DriftMonth> = Vec::new();
            for d in drifts.iter().filter(|d| d.model_id == m.id) {
                let month = d.as_of.format("%Y-%m").to_string();
                let entry = DriftMonth {
                    month: month.clone(),
                    as_of: d.as_of,
                    population: d.population,
                    psi: d.psi,
                    level: PsiLevel::of(d.psi),
                };
                // Rows come by date: the month's latest scoring replaces earlier ones.
                match drift.last_mut() {
                    Some(last) if last.month == month => *last = entry,
                    _ => drift.push(entry),
                }
            }
            VersionView {
                id: m.id,
                kind: m.kind.clone(),
                version: m.version,
                algorithm: m.algorithm.clone(),
                trained_at: m.trained_at,
                trained_by: m.trained_by.clone(),
                active: m.active,
                auc: num(&metrics, "auc"),
                ks: num(&metrics, "ks"),
                gini: num(&metrics, "gini"),
                calibration,
                observation_date: source
                    .get("observation_date")
                    .and_then(|x| x.as_str())
                    .map(str::to_string),
                population: source.get("population").and_then(|x| x.as_i64()),
                events: source.get("events").and_then(|x| x.as_i64()),
                drift,
            }
        })
        .collect();
    let version_of: HashMap<i64, i64> = rows.iter().map(|m| (m.id, m.version)).collect();
    let mut activations: Vec<ActivationView> = store
        .model_activations()
        .await?
        .into_iter()
        .map(|a| ActivationView {
            version: version_of.get(&a.model_id).copied(),
            kind: a.kind,
            model_id: a.model_id,
            action: a.action,
            at: a.at,
            by: a.by_user,
        })
        .collect();
    activations.reverse();
    Ok(Registry {
        versions,
        activations,
        requests: store.model_change_requests().await?,
    })
}

/// What a change request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Make this version the active one of its kind.
    Activate(i64),
    /// Return the kind to the version active before.
    Rollback,
}

/// Asks for a change of the active version of `kind` (for `Activate`, the
/// version's own kind). Nothing changes until a different person with
/// [`Permission::ManageModels`] approves ([`approve_change`]). Audited.
pub async fn request_change(
    store: &Store,
    actor: &Actor,
    via: &str,
    kind: &str,
    change: Change,
) -> ServiceResult<ModelChangeRequestRow> {
    actor.require(Permission::ManageModels)?;
    let (kind, action, model_id) = match change {
        Change::Activate(id) => {
            let m = store
                .model_versions(None)
                .await?
                .into_iter()
                .find(|m| m.id == id)
                .ok_or_else(|| ServiceError::not_found(format!("model version {id}")))?;
            if m.active {
                return Err(ServiceError::Conflict(format!(
                    "{} version {} is already active / 该版本已是当前生效版本",
                    m.kind, m.version
                )));
            }
            (m.kind, "activate", Some(id))
        }
        Change::Rollback => {
            if store.active_model(kind).await?.is_none() {
                return Err(ServiceError::not_found(format!("an active {kind} model")));
            }
            (kind.to_string(), "rollback", None)
        }
    };
    let pending = store
        .model_change_requests()
        .await?
        .into_iter()
        .any(|r| r.kind == kind && r.status == "pending");
    if pending {
        return Err(ServiceError::Conflict(format!(
            "a change of the {kind} model is already waiting for approval / 该模型已有待批准的变更"
        )));
    }
    let r = store
        .insert_model_change_request(&kind, action, model_id, actor.name(), Utc::now())
        .await?;
    audit_request(store, actor, via, "model.change_requested", &r).await?;
    Ok(r)
}

/// Approves pending request `id` and makes the change (activate or roll
/// back). The approver needs [`Permission::ManageModels`] and must not be
/// the requester (the second pair of eyes). Audited, with the activation.
pub async fn approve_change(
    store: &Store,
    actor: &Actor,
    via: &str,
    id: i64,
) -> ServiceResult<rapport_store::ModelVersionRow> {
    actor.require(Permission::ManageModels)?;
    let r = pending_request(store, id).await?;
    if r.requested_by == actor.name() {
        return Err(ServiceError::Refused(
            "the requester cannot approve their own request: a second person must / \
             申请人不能批准自己的申请，须由另一位有权限的人员批准"
                .into(),
        ));
    }
    let now = Utc::now();
    let m = match (r.action.as_str(), r.model_id) {
        ("activate", Some(model)) => store.activate_model(model, actor.name(), now).await?,
        ("rollback", _) => store
            .rollback_model(&r.kind, actor.name(), now)
            .await?
            .ok_or_else(|| {
                ServiceError::InvalidTransition(format!(
                    "no earlier {} version to roll back to / 没有可回退的早期版本",
                    r.kind
                ))
            })?,
        _ => {
            return Err(ServiceError::Internal(anyhow::anyhow!(
                "change request {id} has an unknown action {:?}",
                r.action
            )))
        }
    };
    if !store
        .decide_model_change_request(id, "approved", actor.name(), now, Some(m.id))
        .await?
    {
        return Err(ServiceError::Conflict(format!(
            "change request {id} was decided meanwhile"
        )));
    }
    let decided = store.model_change_request(id).await?.unwrap_or(r);
    audit_request(store, actor, via, "model.change_approved", &decided).await?;
    let action = if decided.action == "rollback" {
        "model.rollback"
    } else {
        "model.activate"
    };
    audit_model(store, actor, via, action, &m).await?;
    Ok(m)
}

/// Rejects (or, by the requester, withdraws) pending request `id`; nothing
/// changes. Needs [`Permission::ManageModels`]. Audited.
pub async fn reject_change(
    store: &Store,
    actor: &Actor,
    via: &str,
    id: i64,
) -> ServiceResult<ModelChangeRequestRow> {
    actor.require(Permission::ManageModels)?;
    let r = pending_request(store, id).await?;
    if !store
        .decide_model_change_request(id, "rejected", actor.name(), Utc::now(), None)
        .await?
    {
        return Err(ServiceError::Conflict(format!(
            "change request {id} was decided meanwhile"
        )));
    }
    let decided = store.model_change_request(id).await?.unwrap_or(r);
    audit_request(store, actor, via, "model.change_rejected", &decided).await?;
    Ok(decided)
}

async fn pending_request(store: &Store, id: i64) -> ServiceResult<ModelChangeRequestRow> {
    let r = store
        .model_change_request(id)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("change request {id}")))?;
    if r.status != "pending" {
        return Err(ServiceError::InvalidTransition(format!(
            "change request {id} is {} already / 该申请已处理",
            r.status
        )));
    }
    Ok(r)
}

async fn audit_request(
    store: &Store,
    actor: &Actor,
    via: &str,
    action: &str,
    r: &ModelChangeRequestRow,
) -> ServiceResult<()> {
    store
        .append_audit(&[entry_for(
            actor,
            action,
            "model_change_request",
            Some(r.id.to_string()),
            None,
            json!({ "via": via, "kind": r.kind, "action": r.action, "model_id": r.model_id,
                    "requested_by": r.requested_by, "status": r.status }),
        )])
        .await?;
    Ok(())
}
