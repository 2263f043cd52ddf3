//! Predictive models for Rapport (docs/PRODUCT.md C6): churn, default and
//! propensity.
//!
//! - [`extract`] reads a labelled extract (CSV or gzip, delimiter and
//!   quoting detected, rejected rows kept with their reason).
//! - [`scorecard`] is the explainable model: WoE binning ([`binning`]),
//!   logistic regression ([`logistic`]) and points-to-double-odds scaling.
//! - [`gbdt`] is gradient-boosted trees through `hessboost`.
//! - [`validate`] measures each algorithm honestly: stratified k-fold (with
//!   repeats) or a time holdout when the data has a time column, reporting
//!   AUC, KS, Gini, lift at 10 %, a calibration table and PSI ([`metrics`]).
//! - [`TrainedModel`] is the artefact the registry stores: the fitted model,
//!   what it was trained on and how it validated; it scores rows with
//!   per-row reasons.

pub mod binning;
pub mod error;
pub mod extract;
pub mod folds;
pub mod gbdt;
pub mod logistic;
pub mod metrics;
pub mod scorecard;

use std::time::Instant;

use serde::{Deserialize, Serialize};

pub use error::{ModelError, Result};
pub use extract::{read_extract, Dataset, ExtractSpec, LoadReport};
use gbdt::{Gbdt, GbdtConfig};
use metrics::CalibrationBin;
use scorecard::{Scorecard, ScorecardConfig};

/// The learning algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// WoE scorecard (logistic regression).
    Scorecard,
    /// Gradient-boosted trees.
    Gbdt,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scorecard => "scorecard",
            Self::Gbdt => "gbdt",
        }
    }
}

impl std::str::FromStr for Algorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "scorecard" => Ok(Self::Scorecard),
            "gbdt" => Ok(Self::Gbdt),
            other => Err(format!("unknown algorithm {other:?} (scorecard, gbdt)")),
        }
    }
}

/// How to train and validate.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    pub algorithms: Vec<Algorithm>,
    pub folds: usize,
    pub repeats: usize,
    /// Share held out by the time holdout.
    pub holdout_share: f64,
    pub seed: u64,
    pub scorecard: ScorecardConfig,
    pub gbdt: GbdtConfig,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            algorithms: vec![Algorithm::Scorecard, Algorithm::Gbdt],
            folds: 5,
            repeats: 1,
            holdout_share: 0.2,
            seed: 42,
            scorecard: ScorecardConfig::default(),
            gbdt: GbdtConfig::default(),
        }
    }
}

/// A fitted model of either kind.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "algorithm", rename_all = "snake_case")]
pub enum Model {
    Scorecard(Scorecard),
    Gbdt(Box<Gbdt>),
}

/// One reason behind a row's prediction.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Reason {
    pub feature: String,
    /// The row's value, or the scorecard bin it fell in.
    pub value: String,
    /// Scorecard: the points the feature gives (lower is riskier).
    /// Trees: the SHAP contribution to the log-odds (higher is riskier).
    pub effect: f64,
    /// "points" or "log_odds".
    pub unit: String,
}

impl Model {
    pub fn fit(
        algorithm: Algorithm,
        data: &Dataset,
        rows: &[usize],
        cfg: &TrainConfig,
    ) -> Result<Self> {
        Ok(match algorithm {
            Algorithm::Scorecard => Self::Scorecard(Scorecard::fit(data, rows, &cfg.scorecard)?),
            Algorithm::Gbdt => Self::Gbdt(Box::new(Gbdt::fit(data, rows, &cfg.gbdt)?)),
        })
    }

    pub fn algorithm(&self) -> Algorithm {
        match self {
            Self::Scorecard(_) => Algorithm::Scorecard,
            Self::Gbdt(_) => Algorithm::Gbdt,
        }
    }

    /// Rebuild what serialisation leaves out.
    pub fn prepare(&mut self) -> Result<()> {
        match self {
            Self::Scorecard(s) => {
                s.prepare();
                Ok(())
            }
            Self::Gbdt(g) => g.prepare(),
        }
    }

    /// Event probabilities of `rows`.
    pub fn predict(&self, data: &Dataset, rows: &[usize]) -> Result<Vec<f64>> {
        match self {
            Self::Scorecard(s) => s.predict(data, rows),
            Self::Gbdt(g) => g.predict(data, rows),
        }
    }

    /// The `top` reasons of each row: the costliest scorecard features, or
    /// the largest tree contributions.
    pub fn explain(&self, data: &Dataset, rows: &[usize], top: usize) -> Result<Vec<Vec<Reason>>> {
        match self {
            Self::Scorecard(s) => rows
                .iter()
                .map(|&r| {
                    Ok(s.explain(data, r)?
                        .into_iter()
                        .take(top)
                        .map(|p| Reason {
                            feature: p.feature,
                            value: p.bin,
                            effect: p.points,
                            unit: "points".into(),
                        })
                        .collect())
                })
                .collect(),
            Self::Gbdt(g) => Ok(g
                .explain(data, rows, top)?
                .into_iter()
                .map(|parts| {
                    parts
                        .into_iter()
                        .map(|c| Reason {
                            feature: c.feature,
                            value: c.value,
                            effect: c.contribution,
                            unit: "log_odds".into(),
                        })
                        .collect()
                })
                .collect()),
        }
    }
}

/// One fold's test figures.
#[derive(Debug, Clone, Serialize)]
pub struct FoldResult {
    pub repeat: usize,
    pub fold: usize,
    pub train_rows: usize,
    pub test_rows: usize,
    pub test_positives: usize,
    pub auc: f64,
    pub ks: f64,
    pub gini: f64,
    pub lift_at_10: f64,
    /// Stability of the score distribution, test against train.
    pub psi: f64,
}

/// One algorithm's validation.
#[derive(Debug, Clone, Serialize)]
pub struct AlgorithmReport {
    pub algorithm: Algorithm,
    /// Mean over folds.
    pub auc: f64,
    pub auc_sd: f64,
    pub ks: f64,
    pub gini: f64,
    pub lift_at_10: f64,
    pub psi: f64,
    /// AUC of all out-of-fold predictions of the first repeat together.
    pub pooled_auc: f64,
    /// Out-of-fold calibration (first repeat), ten equal-count bands.
    pub calibration: Vec<CalibrationBin>,
    pub folds: Vec<FoldResult>,
    pub seconds: f64,
}

/// The validation of every algorithm asked for.
#[derive(Debug, Clone, Serialize)]
pub struct ValidationReport {
    /// "stratified 5-fold × 1 repeat" or "time holdout: latest 20 %".
    pub scheme: String,
    pub rows: usize,
    pub positives: usize,
    pub algorithms: Vec<AlgorithmReport>,
    /// The algorithm with the best mean AUC.
    pub best: Algorithm,
}

impl ValidationReport {
    pub fn best_report(&self) -> Option<&AlgorithmReport> {
        self.algorithms.iter().find(|a| a.algorithm == self.best)
    }
}

fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = if values.len() > 1 {
        values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

/// Validate every algorithm of `cfg` on `data`: a time holdout when the
/// data has times, else stratified k-fold with repeats.
pub fn validate(data: &Dataset, cfg: &TrainConfig) -> Result<ValidationReport> {
    let all: Vec<usize> = (0..data.len()).collect();
    let mut splits: Vec<(usize, usize, Vec<usize>, Vec<usize>)> = Vec::new();
    let scheme = if let Some(times) = &data.times {
        let (train, test) = folds::time_holdout(times, cfg.holdout_share);
        splits.push((0, 0, train, test));
        format!("time holdout: latest {:.0} %", cfg.holdout_share * 100.0)
    } else {
        for repeat in 0..cfg.repeats.max(1) {
            let folds =
                folds::stratified_folds(&data.target, &all, cfg.folds, cfg.seed + repeat as u64);
            for (f, test) in folds.iter().enumerate() {
                let train: Vec<usize> = folds
                    .iter()
                    .enumerate()
                    .filter(|(g, _)| *g != f)
                    .flat_map(|(_, rows)| rows.iter().copied())
                    .collect();
                let mut train = train;
                train.sort_unstable();
                splits.push((repeat, f, train, test.clone()));
            }
        }
        format!(
            "stratified {}-fold × {} repeat{}",
            cfg.folds,
            cfg.repeats.max(1),
            if cfg.repeats > 1 { "s" } else { "" }
        )
    };
    let mut reports = Vec::new();
    for &algorithm in &cfg.algorithms {
        let started = Instant::now();
        let mut fold_results = Vec::new();
        let mut pooled_scores = Vec::new();
        let mut pooled_labels = Vec::new();
        for (repeat, fold, train, test) in &splits {
            let test_labels: Vec<u8> = test.iter().map(|&r| data.target[r]).collect();
            let train_labels: Vec<u8> = train.iter().map(|&r| data.target[r]).collect();
            if !test_labels.contains(&1) || !test_labels.contains(&0) || !train_labels.contains(&1)
            {
                return Err(ModelError::Training(format!(
                    "fold {fold} lacks one of the classes: too few events for {} folds",
                    cfg.folds
                )));
            }
            let mut fold_cfg = cfg.clone();
            fold_cfg.gbdt.seed = cfg.gbdt.seed + (*repeat * 100 + *fold) as u64;
            let model = Model::fit(algorithm, data, train, &fold_cfg)?;
            let p_test = model.predict(data, test)?;
            let p_train = model.predict(data, train)?;
            let auc = metrics::auc(&p_test, &test_labels).unwrap_or(f64::NAN);
            fold_results.push(FoldResult {
                repeat: *repeat,
                fold: *fold,
                train_rows: train.len(),
                test_rows: test.len(),
                test_positives: test_labels.iter().filter(|&&y| y == 1).count(),
                auc,
                ks: metrics::ks(&p_test, &test_labels).unwrap_or(f64::NAN),
                gini: 2.0 * auc - 1.0,
                lift_at_10: metrics::lift_at(&p_test, &test_labels, 0.1).unwrap_or(f64::NAN),
                psi: metrics::psi(&p_train, &p_test, 10).unwrap_or(f64::NAN),
            });
            if *repeat == 0 {
                pooled_scores.extend(p_test);
                pooled_labels.extend(test_labels);
            }
        }
        let pick =
            |f: fn(&FoldResult) -> f64| mean_sd(&fold_results.iter().map(f).collect::<Vec<_>>());
        let (auc, auc_sd) = pick(|f| f.auc);
        reports.push(AlgorithmReport {
            algorithm,
            auc,
            auc_sd,
            ks: pick(|f| f.ks).0,
            gini: pick(|f| f.gini).0,
            lift_at_10: pick(|f| f.lift_at_10).0,
            psi: pick(|f| f.psi).0,
            pooled_auc: metrics::auc(&pooled_scores, &pooled_labels).unwrap_or(f64::NAN),
            calibration: metrics::calibration(&pooled_scores, &pooled_labels, 10),
            folds: fold_results,
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    let best = reports
        .iter()
        .max_by(|a, b| a.auc.total_cmp(&b.auc))
        .map(|r| r.algorithm)
        .ok_or_else(|| ModelError::Training("no algorithm to validate".into()))?;
    Ok(ValidationReport {
        scheme,
        rows: data.len(),
        positives: data.positives(),
        algorithms: reports,
        best,
    })
}

/// Headline validation figures kept with a model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ValidationSummary {
    pub scheme: String,
    pub auc: f64,
    pub auc_sd: f64,
    pub ks: f64,
    pub gini: f64,
    pub lift_at_10: f64,
    pub psi: f64,
}

impl From<&AlgorithmReport> for ValidationSummary {
    fn from(r: &AlgorithmReport) -> Self {
        Self {
            scheme: String::new(),
            auc: r.auc,
            auc_sd: r.auc_sd,
            ks: r.ks,
            gini: r.gini,
            lift_at_10: r.lift_at_10,
            psi: r.psi,
        }
    }
}

/// The artefact a registry stores and batch scoring loads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainedModel {
    /// Artefact format version.
    pub format: u32,
    pub target: String,
    pub positive: String,
    pub rows: usize,
    pub positives: usize,
    pub features: Vec<String>,
    pub validation: ValidationSummary,
    pub model: Model,
}

impl TrainedModel {
    pub const FORMAT: u32 = 1;

    /// Fit `algorithm` on every row of `data`.
    pub fn fit(
        algorithm: Algorithm,
        data: &Dataset,
        report: &LoadReport,
        validation: &ValidationReport,
        cfg: &TrainConfig,
    ) -> Result<Self> {
        let rows: Vec<usize> = (0..data.len()).collect();
        let model = Model::fit(algorithm, data, &rows, cfg)?;
        let algo_report = validation
            .algorithms
            .iter()
            .find(|a| a.algorithm == algorithm)
            .ok_or_else(|| {
                ModelError::Training(format!("{} was not validated", algorithm.as_str()))
            })?;
        let mut summary = ValidationSummary::from(algo_report);
        summary.scheme = validation.scheme.clone();
        Ok(Self {
            format: Self::FORMAT,
            target: report.target.clone(),
            positive: report.positive.clone(),
            rows: data.len(),
            positives: data.positives(),
            features: data.features.iter().map(|f| f.name.clone()).collect(),
            validation: summary,
            model,
        })
    }

    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| ModelError::Artefact(e.to_string()))
    }

    pub fn from_json(text: &str) -> Result<Self> {
        let mut model: Self =
            serde_json::from_str(text).map_err(|e| ModelError::Artefact(e.to_string()))?;
        if model.format != Self::FORMAT {
            return Err(ModelError::Artefact(format!(
                "artefact format {} is not the supported {}",
                model.format,
                Self::FORMAT
            )));
        }
        model.model.prepare()?;
        Ok(model)
    }
}
