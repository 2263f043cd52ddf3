//! Gradient-boosted trees through the `hessboost` crate (chosen by measured
//! AUC, see docs/adr/0002-gradient-boosting-crate.md).
//!
//! Numeric features go in as they are (missing as NaN, which the trees
//! route on their own); categorical features as native categorical splits
//! over the level codes seen in training (unseen levels are missing). The
//! number of rounds is found by early stopping on a stratified 15 % of the
//! training rows (by inner 3-fold cross-validation when the training rows
//! hold fewer than 300 events). Explanations are the trees' SHAP contributions per row.

use std::num::NonZeroUsize;

use hessboost::data::FeatureType;
use hessboost::metric::EvalMetric;
use hessboost::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::extract::{Column, Dataset, MISSING_LEVEL};
use crate::folds;

/// Under this many events in the training rows, the number of rounds is
/// found by inner cross-validation rather than one early-stopping split.
pub const SMALL_DATA_POSITIVES: usize = 300;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GbdtConfig {
    pub max_depth: usize,
    pub eta: f64,
    pub subsample: f64,
    pub colsample_bytree: f64,
    pub min_child_weight: f64,
    pub lambda: f64,
    pub max_rounds: usize,
    pub early_stopping_rounds: usize,
    pub validation_share: f64,
    pub seed: u64,
    pub threads: usize,
}

impl Default for GbdtConfig {
    fn default() -> Self {
        Self {
            max_depth: 4,
            eta: 0.05,
            subsample: 0.8,
            colsample_bytree: 0.8,
            min_child_weight: 2.0,
            lambda: 1.0,
            max_rounds: 2000,
            early_stopping_rounds: 60,
            validation_share: 0.15,
            seed: 42,
            threads: 0,
        }
    }
}

/// How one input column is encoded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GbdtFeature {
    pub name: String,
    /// Levels of a categorical feature, by code; empty for numeric.
    pub levels: Vec<String>,
    pub numeric: bool,
}

/// A trained booster and its feature encoding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Gbdt {
    pub features: Vec<GbdtFeature>,
    pub rounds: usize,
    /// The model in hessboost's native binary format, hex-encoded.
    pub model_hex: String,
    #[serde(skip)]
    model: Option<BoostedModel>,
}

/// One feature's push on a row's log-odds.
#[derive(Debug, Clone, Serialize)]
pub struct Contribution {
    pub feature: String,
    pub value: String,
    /// SHAP value on the log-odds scale: positive raises the risk.
    pub contribution: f64,
}

fn boosting(e: impl std::fmt::Display) -> ModelError {
    ModelError::Boosting(e.to_string())
}

impl Gbdt {
    /// Fit on the training `rows` of `data`.
    pub fn fit(data: &Dataset, rows: &[usize], cfg: &GbdtConfig) -> Result<Self> {
        let features: Vec<GbdtFeature> = data
            .features
            .iter()
            .map(|f| match &f.column {
                Column::Numeric(_) => GbdtFeature {
                    name: f.name.clone(),
                    levels: Vec::new(),
                    numeric: true,
                },
                Column::Categorical { levels, .. } => GbdtFeature {
                    name: f.name.clone(),
                    levels: levels.clone(),
                    numeric: false,
                },
            })
            .collect();
        let mut this = Self {
            features,
            rounds: 0,
            model_hex: String::new(),
            model: None,
        };
        let params = Self::params(cfg)?;
        let positives = rows.iter().filter(|&&r| data.target[r] == 1).count();
        let model = if positives < SMALL_DATA_POSITIVES {
            // A 15 % early-stopping split of a small set holds a handful of
            // events and stops at random: find the rounds by inner 3-fold
            // cross-validation instead, then fit every row with them.
            let inner = folds::stratified_folds(&data.target, rows, 3, cfg.seed ^ 0x1234);
            let mut best = Vec::new();
            for (k, valid_rows) in inner.iter().enumerate() {
                let fit_rows: Vec<usize> = inner
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != k)
                    .flat_map(|(_, r)| r.iter().copied())
                    .collect();
                let m = this.early_stopped(data, &fit_rows, valid_rows, &params, cfg)?;
                best.push(m.best_iteration().map_or(m.num_boost_rounds(), |b| b + 1));
            }
            let rounds = (best.iter().sum::<usize>() as f64 / best.len() as f64).round() as usize;
            let all = this.matrix(data, rows)?;
            train(&params, &all, rounds.max(1)).map_err(boosting)?
        } else {
            let (fit_rows, valid_rows) =
                folds::stratified_split(&data.target, rows, cfg.validation_share, cfg.seed);
            this.early_stopped(data, &fit_rows, &valid_rows, &params, cfg)?
        };
        this.rounds = model
            .best_iteration()
            .map_or(model.num_boost_rounds(), |b| b + 1);
        this.model_hex = hex::encode(model.encode(ModelFormat::Binary).map_err(boosting)?);
        this.model = Some(model);
        Ok(this)
    }

    fn params(cfg: &GbdtConfig) -> Result<TrainingParams> {
        let mut builder = TrainingParams::builder()
            .objective(Objective::BinaryLogistic(RegLoss::default()))
            .eval_metric(EvalMetric::Auc)
            .tree_method(TreeMethod::Hist)
            .max_depth(cfg.max_depth)
            .eta(cfg.eta)
            .subsample(cfg.subsample)
            .colsample_bytree(cfg.colsample_bytree)
            .min_child_weight(cfg.min_child_weight)
            .lambda(cfg.lambda)
            .seed(cfg.seed);
        if cfg.threads > 0 {
            builder = builder.nthread(cfg.threads);
        }
        builder.build().map_err(boosting)
    }

    /// Boost on `fit_rows` until the AUC on `valid_rows` stops improving.
    fn early_stopped(
        &self,
        data: &Dataset,
        fit_rows: &[usize],
        valid_rows: &[usize],
        params: &TrainingParams,
        cfg: &GbdtConfig,
    ) -> Result<BoostedModel> {
        let dtrain = self.matrix(data, fit_rows)?;
        let dvalid = self.matrix(data, valid_rows)?;
        let stopping = NonZeroUsize::new(cfg.early_stopping_rounds).unwrap_or(NonZeroUsize::MIN);
        Ok(Trainer::new(params, &dtrain, cfg.max_rounds)
            .eval(&dvalid, "valid")
            .early_stopping_rounds(stopping)
            .train()
            .map_err(boosting)?
            .model)
    }

    /// Decode the model after deserialising.
    pub fn prepare(&mut self) -> Result<()> {
        let bytes = hex::decode(&self.model_hex)
            .map_err(|e| ModelError::Artefact(format!("the booster is not valid hex: {e}")))?;
        self.model = Some(BoostedModel::decode(bytes, ModelFormat::Binary).map_err(boosting)?);
        Ok(())
    }

    fn model(&self) -> Result<&BoostedModel> {
        self.model
            .as_ref()
            .ok_or_else(|| ModelError::Artefact("the booster is not loaded".into()))
    }

    /// The dense matrix of `rows`, in the model's feature order, with labels.
    fn matrix(&self, data: &Dataset, rows: &[usize]) -> Result<DMatrix> {
        let width = self.features.len();
        let mut x = vec![f32::NAN; rows.len() * width];
        for (j, spec) in self.features.iter().enumerate() {
            let column = data.feature(&spec.name).ok_or_else(|| {
                ModelError::Artefact(format!(
                    "the data has no column {} that the model uses",
                    spec.name
                ))
            })?;
            match &column.column {
                Column::Numeric(values) => {
                    for (i, &r) in rows.iter().enumerate() {
                        x[i * width + j] = values[r] as f32;
                    }
                }
                Column::Categorical { levels, codes } => {
                    // Map this data's codes onto the model's levels.
                    let map: Vec<f32> = levels
                        .iter()
                        .map(|l| {
                            spec.levels
                                .iter()
                                .position(|m| m == l)
                                .map_or(f32::NAN, |p| p as f32)
                        })
                        .collect();
                    for (i, &r) in rows.iter().enumerate() {
                        let code = codes[r];
                        x[i * width + j] = if code == MISSING_LEVEL {
                            f32::NAN
                        } else {
                            map[code as usize]
                        };
                    }
                }
            }
        }
        let labels: Vec<f32> = rows.iter().map(|&r| f32::from(data.target[r])).collect();
        let types: Vec<FeatureType> = self
            .features
            .iter()
            .map(|f| {
                if f.numeric {
                    FeatureType::Numerical
                } else {
                    FeatureType::Categorical
                }
            })
            .collect();
        DMatrix::from_dense(&x, rows.len(), width)
            .and_then(|m| m.with_labels(&labels))
            .and_then(|m| m.with_feature_types(&types))
            .map_err(boosting)
    }

    /// The event probability of each row.
    pub fn predict(&self, data: &Dataset, rows: &[usize]) -> Result<Vec<f64>> {
        let m = self.matrix(data, rows)?;
        let p = self
            .model()?
            .predict(&m, Iterations::Best)
            .map_err(boosting)?;
        Ok(p.as_slice().iter().map(|&v| f64::from(v)).collect())
    }

    /// The features that pushed each row's risk the most, largest first.
    pub fn explain(
        &self,
        data: &Dataset,
        rows: &[usize],
        top: usize,
    ) -> Result<Vec<Vec<Contribution>>> {
        let m = self.matrix(data, rows)?;
        let contribs = self
            .model()?
            .predict_contribs(&m, Iterations::Best)
            .map_err(boosting)?;
        let mut out = Vec::with_capacity(rows.len());
        for (i, &r) in rows.iter().enumerate() {
            let values = contribs.get(i, 0).unwrap_or_default();
            let mut parts: Vec<Contribution> = self
                .features
                .iter()
                .zip(values)
                .map(|(f, &c)| Contribution {
                    feature: f.name.clone(),
                    value: display_value(data, &f.name, r),
                    contribution: f64::from(c),
                })
                .collect();
            parts.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
            parts.truncate(top);
            out.push(parts);
        }
        Ok(out)
    }
}

fn display_value(data: &Dataset, name: &str, row: usize) -> String {
    match data.feature(name).map(|f| &f.column) {
        Some(Column::Numeric(v)) if !v[row].is_nan() => {
            let x = v[row];
            if x.fract() == 0.0 {
                format!("{x:.0}")
            } else {
                format!("{x:.4}")
            }
        }
        Some(Column::Categorical { levels, codes }) if codes[row] != MISSING_LEVEL => {
            levels[codes[row] as usize].clone()
        }
        _ => "missing".into(),
    }
}
