//! The explainable model: WoE binning, a logistic regression on the WoE
//! values, and points-to-double-odds scaling into a points table.
//!
//! Scaling: `score = offset − factor · logit(p)`, with
//! `factor = PDO / ln 2` and `offset = base_score − factor · ln(base_odds)`,
//! so that a customer at `base_odds` (good:bad) scores `base_score` and
//! every `PDO` points double the odds of staying good. Each feature's bin
//! carries `−factor · β · WoE − factor · α / m` points (m features), and a
//! customer's score is the sum of their bins' points. A lower score is
//! riskier.

use serde::{Deserialize, Serialize};

use crate::binning::{BinningConfig, FeatureBinning};
use crate::error::{ModelError, Result};
use crate::extract::Dataset;
use crate::logistic;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScorecardConfig {
    pub binning: BinningConfig,
    /// Features under this information value are left out.
    pub min_iv: f64,
    /// Ridge penalty of the regression.
    pub ridge: f64,
    pub base_score: f64,
    /// Good:bad odds at the base score.
    pub base_odds: f64,
    /// Points to double the odds.
    pub pdo: f64,
}

impl Default for ScorecardConfig {
    fn default() -> Self {
        Self {
            binning: BinningConfig::default(),
            min_iv: 0.02,
            ridge: 1.0,
            base_score: 600.0,
            base_odds: 50.0,
            pdo: 20.0,
        }
    }
}

/// One feature of the card: its bins and their points.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CardFeature {
    pub binning: FeatureBinning,
    pub coefficient: f64,
    /// Points per bin, in the order of `binning.bins`.
    pub points: Vec<f64>,
    /// Points of a value with no bin (missing, never seen in training).
    pub neutral_points: f64,
}

/// A feature the fit left out, and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DroppedFeature {
    pub feature: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scorecard {
    pub features: Vec<CardFeature>,
    pub intercept: f64,
    pub base_score: f64,
    pub base_odds: f64,
    pub pdo: f64,
    pub factor: f64,
    pub offset: f64,
    pub dropped: Vec<DroppedFeature>,
}

/// One feature's share of a customer's score.
#[derive(Debug, Clone, Serialize)]
pub struct Points {
    pub feature: String,
    pub bin: String,
    pub points: f64,
    /// Points below the best bin of the feature: how much this feature
    /// costs the customer. The largest are the reasons for a low score.
    pub shortfall: f64,
}

impl Scorecard {
    /// Fit on the training `rows` of `data`.
    pub fn fit(data: &Dataset, rows: &[usize], cfg: &ScorecardConfig) -> Result<Self> {
        let mut dropped = Vec::new();
        let mut binned: Vec<(usize, FeatureBinning)> = Vec::new();
        for (i, feature) in data.features.iter().enumerate() {
            let b = FeatureBinning::fit(feature, &data.target, rows, &cfg.binning);
            if b.iv < cfg.min_iv || b.bins.len() < 2 {
                dropped.push(DroppedFeature {
                    feature: feature.name.clone(),
                    reason: format!("information value {:.4} under {}", b.iv, cfg.min_iv),
                });
            } else {
                binned.push((i, b));
            }
        }
        if binned.is_empty() {
            return Err(ModelError::Training(
                "no feature reaches the minimum information value".into(),
            ));
        }
        let labels: Vec<u8> = rows.iter().map(|&r| data.target[r]).collect();
        loop {
            let columns: Vec<Vec<f64>> = binned
                .iter()
                .map(|(i, b)| {
                    rows.iter()
                        .map(|&r| b.woe_of(&data.features[*i], r))
                        .collect()
                })
                .collect();
            let fit = logistic::fit(&columns, &labels, cfg.ridge);
            // WoE is signed so that a positive coefficient is expected; a
            // reversed sign means the feature only corrects a collinear one
            // and would make the points table read backwards.
            let reversed = fit
                .coefficients
                .iter()
                .enumerate()
                .filter(|(_, c)| **c <= 0.0)
                .min_by(|a, b| binned[a.0].1.iv.total_cmp(&binned[b.0].1.iv))
                .map(|(j, _)| j);
            if let Some(j) = reversed.filter(|_| binned.len() > 1) {
                let (_, b) = binned.remove(j);
                dropped.push(DroppedFeature {
                    feature: b.feature.clone(),
                    reason: format!(
                        "coefficient {:.4} has the wrong sign next to collinear features",
                        fit.coefficients[j]
                    ),
                });
                continue;
            }
            let factor = cfg.pdo / std::f64::consts::LN_2;
            let offset = cfg.base_score - factor * cfg.base_odds.ln();
            let m = binned.len() as f64;
            let features = binned
                .into_iter()
                .zip(&fit.coefficients)
                .map(|((_, binning), &coefficient)| {
                    let share = -factor * fit.intercept / m + offset / m;
                    CardFeature {
                        points: binning
                            .bins
                            .iter()
                            .map(|bin| share - factor * coefficient * bin.woe)
                            .collect(),
                        neutral_points: share,
                        binning,
                        coefficient,
                    }
                })
                .collect();
            return Ok(Self {
                features,
                intercept: fit.intercept,
                base_score: cfg.base_score,
                base_odds: cfg.base_odds,
                pdo: cfg.pdo,
                factor,
                offset,
                dropped,
            });
        }
    }

    /// Rebuild the lookups after deserialising.
    pub fn prepare(&mut self) {
        for f in &mut self.features {
            f.binning.build_lookup();
        }
    }

    /// Match the card's features to `data`'s columns.
    fn columns(&self, data: &Dataset) -> Result<Vec<usize>> {
        self.features
            .iter()
            .map(|f| {
                data.features
                    .iter()
                    .position(|c| c.name == f.binning.feature)
                    .ok_or_else(|| {
                        ModelError::Artefact(format!(
                            "the data has no column {} that the scorecard uses",
                            f.binning.feature
                        ))
                    })
            })
            .collect()
    }

    /// The score of each row: the sum of its bins' points.
    pub fn scores(&self, data: &Dataset, rows: &[usize]) -> Result<Vec<f64>> {
        let columns = self.columns(data)?;
        Ok(rows
            .iter()
            .map(|&r| {
                self.features
                    .iter()
                    .zip(&columns)
                    .map(|(f, &c)| {
                        f.binning
                            .bin_of(&data.features[c], r)
                            .map_or(f.neutral_points, |b| f.points[b])
                    })
                    .sum()
            })
            .collect())
    }

    /// The probability of the event implied by a score.
    pub fn probability(&self, score: f64) -> f64 {
        logistic::sigmoid((self.offset - score) / self.factor)
    }

    /// The event probability of each row.
    pub fn predict(&self, data: &Dataset, rows: &[usize]) -> Result<Vec<f64>> {
        Ok(self
            .scores(data, rows)?
            .into_iter()
            .map(|s| self.probability(s))
            .collect())
    }

    /// A row's points feature by feature, the costliest first.
    pub fn explain(&self, data: &Dataset, row: usize) -> Result<Vec<Points>> {
        let columns = self.columns(data)?;
        let mut out: Vec<Points> = self
            .features
            .iter()
            .zip(&columns)
            .map(|(f, &c)| {
                let best = f.points.iter().copied().fold(f64::MIN, f64::max);
                let bin = f.binning.bin_of(&data.features[c], row);
                let points = bin.map_or(f.neutral_points, |b| f.points[b]);
                Points {
                    feature: f.binning.feature.clone(),
                    bin: bin.map_or_else(|| "no bin".into(), |b| f.binning.bins[b].label.clone()),
                    points,
                    shortfall: best - points,
                }
            })
            .collect();
        out.sort_by(|a, b| b.shortfall.total_cmp(&a.shortfall));
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::extract::{Column, Feature};

    fn toy() -> Dataset {
        // Risk rises with x; y is pure noise with respect to the target.
        let n = 4000usize;
        let x: Vec<f64> = (0..n).map(|i| (i % 100) as f64).collect();
        let noise: Vec<f64> = (0..n).map(|i| ((i * 7919) % 13) as f64).collect();
        let target: Vec<u8> = (0..n)
            .map(|i| {
                let x = i % 100;
                let period = if x < 30 {
                    20
                } else if x < 70 {
                    6
                } else {
                    2
                };
                u8::from((i / 100) % period == 0)
            })
            .collect();
        Dataset {
            features: vec![
                Feature {
                    name: "x".into(),
                    column: Column::Numeric(x),
                },
                Feature {
                    name: "noise".into(),
                    column: Column::Numeric(noise),
                },
            ],
            target,
            ids: None,
            times: None,
        }
    }

    #[test]
    fn points_add_up_to_the_score_and_scale_by_pdo() {
        let data = toy();
        let rows: Vec<usize> = (0..data.len()).collect();
        let card = Scorecard::fit(&data, &rows, &ScorecardConfig::default()).unwrap();
        assert_eq!(
            card.features.len(),
            1,
            "noise is dropped: {:?}",
            card.dropped
        );
        assert_eq!(card.dropped[0].feature, "noise");
        let scores = card.scores(&data, &rows).unwrap();
        for &r in &[0usize, 50, 99] {
            let parts = card.explain(&data, r).unwrap();
            let total: f64 = parts.iter().map(|p| p.points).sum();
            assert!((total - scores[r]).abs() < 1e-9);
        }
        // Riskier x, lower score.
        assert!(scores[99] < scores[0]);
        // At the base score the odds are the base odds; PDO points more
        // doubles them.
        let p = card.probability(600.0);
        assert!(((1.0 - p) / p - 50.0).abs() < 1e-9);
        let p2 = card.probability(620.0);
        assert!(((1.0 - p2) / p2 - 100.0).abs() < 1e-9);
        // Probabilities track the observed rates of the three risk levels.
        let probs = card.predict(&data, &rows).unwrap();
        let mean = |lo: usize, hi: usize| {
            let sel: Vec<usize> = rows
                .iter()
                .copied()
                .filter(|r| (lo..hi).contains(&(r % 100)))
                .collect();
            sel.iter().map(|&r| probs[r]).sum::<f64>() / sel.len() as f64
        };
        assert!(mean(0, 30) < mean(30, 70) && mean(30, 70) < mean(70, 100));
    }
}
