//! Clustering of a feature table: the configured features standardised
//! (optional signed log1p of money, z-scores, missing = the mean, constant
//! columns dropped), k-means by [`super::kmeans::cluster`], clusters
//! numbered by size, and a profile of each (size, medians in the features'
//! own units, generated name and description). The number of clusters is
//! chosen by silhouette among those that keep every cluster within
//! `max_cluster_share` of the customers; when none does, the descriptions
//! say that the data have no clear structure.
//!
//! Owns the step from feature columns to a matrix and from labels back to
//! profiles. Must never change the k-means arithmetic (that is `kmeans`) nor
//! the wording (that is `describe`).

use super::config::{is_money_feature, ClusteringConfig};
use super::describe::{cluster_description, cluster_name, percent, DistinctiveFeature};
use super::kmeans::{self, ClusteringPlan, KChoice, Matrix};
use super::SegmentError;
use crate::FeatureTable;
use rayon::prelude::*;
use serde::Serialize;

/// How a feature was put on the common scale.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StandardisedFeature {
    pub name: String,
    /// Whether sign(x)·ln(1 + |x|) was taken first.
    pub log: bool,
    /// Mean and standard deviation (population) of the (logged) values present.
    pub mean: f64,
    pub std_dev: f64,
    /// Rows with no value (clustered as the mean).
    pub missing: usize,
}

/// A configured feature left out of the clustering, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DroppedFeature {
    pub name: String,
    pub reason: String,
}

/// One feature of a cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureProfile {
    pub feature: String,
    /// The cluster's centroid in standard deviations from the portfolio mean
    /// (of the logged values for a logged feature).
    pub centroid_z: f64,
    /// The median of the members' values, in the feature's own unit.
    pub median: Option<f64>,
    /// The median over every row.
    pub portfolio_median: Option<f64>,
}

/// One cluster: its size, centroid in original units and generated words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterProfile {
    /// 0-based; clusters are numbered by size, largest first.
    pub cluster: usize,
    pub size: usize,
    pub share: f64,
    pub name: String,
    pub name_zh: String,
    pub description: String,
    pub description_zh: String,
    /// Every clustered feature, in configuration order.
    pub features: Vec<FeatureProfile>,
    /// The features named in the description, most distinctive first.
    pub distinctive: Vec<String>,
}

/// A finished clustering of a table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusteringSummary {
    pub k: usize,
    pub chosen_by_silhouette: bool,
    /// Mean silhouette of each candidate k on the silhouette sample.
    pub silhouettes: Vec<(usize, f64)>,
    /// The largest cluster's share of the fitting sample, per candidate k.
    pub largest_shares: Vec<(usize, f64)>,
    /// The configured limit on one cluster's share of the customers.
    pub max_share: f64,
    /// Whether every cluster keeps within `max_share`. When not, no k in
    /// the range splits the customers into groups that small: the data have
    /// no clear structure, and every cluster's description says so.
    pub within_share: bool,
    pub inertia: f64,
    /// Lloyd passes of the final refinement over every row.
    pub iterations: u32,
    pub converged: bool,
    pub sample_rows: usize,
    pub features: Vec<StandardisedFeature>,
    pub dropped: Vec<DroppedFeature>,
    pub seed: u64,
    /// The cluster of each row.
    #[serde(skip)]
    pub cluster_of_row: Vec<usize>,
    pub clusters: Vec<ClusterProfile>,
}

/// Why no clustering came out (a configuration that is fine, data that is not).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ClusteringOutcome {
    Disabled,
    Skipped { reason: String },
    Done(Box<ClusteringSummary>),
}

/// The configured features as a standardised matrix.
struct Standardised {
    matrix: Matrix,
    features: Vec<StandardisedFeature>,
    /// Table columns of `features`, in the same order.
    columns: Vec<usize>,
    dropped: Vec<DroppedFeature>,
}

fn signed_log1p(x: f64) -> f64 {
    x.signum() * x.abs().ln_1p()
}

fn standardise(
    table: &FeatureTable,
    config: &ClusteringConfig,
) -> Result<Standardised, SegmentError> {
    let mut features = Vec::new();
    let mut columns = Vec::new();
    let mut dropped = Vec::new();
    for name in &config.features {
        let column = table
            .columns
            .iter()
            .position(|c| c.name == *name)
            .ok_or_else(|| SegmentError::MissingFeature(name.clone()))?;
        let log = config.log_money && is_money_feature(name);
        let values = &table.columns[column].values;
        let present: Vec<f64> = values
            .iter()
            .filter_map(|v| v.filter(|x| x.is_finite()))
            .map(|x| if log { signed_log1p(x) } else { x })
            .collect();
        if present.is_empty() {
            dropped.push(DroppedFeature {
                name: name.clone(),
                reason: "no customer has a value".to_string(),
            });
            continue;
        }
        let mean = present.iter().sum::<f64>() / present.len() as f64;
        let variance =
            present.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / present.len() as f64;
        let std_dev = variance.sqrt();
        if std_dev.is_nan() || std_dev <= 1e-12 * mean.abs().max(1.0) {
            dropped.push(DroppedFeature {
                name: name.clone(),
                reason: "the same value for every customer who has one".to_string(),
            });
            continue;
        }
        features.push(StandardisedFeature {
            name: name.clone(),
            log,
            mean,
            std_dev,
            missing: values.len() - present.len(),
        });
        columns.push(column);
    }
    let d = features.len();
    let mut data = vec![0.0; table.len() * d];
    if d > 0 {
        data.par_chunks_mut(d).enumerate().for_each(|(row, out)| {
            for ((slot, f), &column) in out.iter_mut().zip(&features).zip(&columns) {
                if let Some(x) = table.columns[column]
                    .values
                    .get(row)
                    .copied()
                    .flatten()
                    .filter(|x| x.is_finite())
                {
                    let x = if f.log { signed_log1p(x) } else { x };
                    *slot = (x - f.mean) / f.std_dev;
                }
            }
        });
    }
    let matrix = Matrix::from_row_major(table.len(), d, data)
        .map_err(|e| SegmentError::Clustering(e.to_string()))?;
    Ok(Standardised {
        matrix,
        features,
        columns,
        dropped,
    })
}

/// The median of some values (the mean of the middle two for an even count).
fn median(values: &mut [f64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let (_, &mut upper, _) = values.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        return Some(upper);
    }
    let lower = values[..n / 2]
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    Some((lower + upper) / 2.0)
}

/// Per feature column: the median of each cluster's members and of every row.
fn medians(
    values: &[Option<f64>],
    cluster_of_row: &[usize],
    k: usize,
) -> (Vec<Option<f64>>, Option<f64>) {
    let mut buckets: Vec<Vec<f64>> = vec![Vec::new(); k];
    let mut all = Vec::with_capacity(values.len());
    for (v, &c) in values.iter().zip(cluster_of_row) {
        if let Some(x) = v.filter(|x| x.is_finite()) {
            if let Some(b) = buckets.get_mut(c) {
                b.push(x);
            }
            all.push(x);
        }
    }
    (
        buckets.iter_mut().map(|b| median(b)).collect(),
        median(&mut all),
    )
}

/// The sentence every cluster's description ends with when one cluster
/// holds more than `max_share` of the customers, in English and Chinese.
fn no_structure_sentence(
    largest: f64,
    max_share: f64,
    silhouette: Option<f64>,
) -> (String, String) {
    let silhouette_en = silhouette.map_or_else(String::new, |s| format!(", silhouette {s:.2}"));
    let silhouette_zh = silhouette.map_or_else(String::new, |s| format!("，轮廓系数 {s:.2}"));
    (
        format!(
            ". No clear structure: no number of clusters tried keeps every cluster within {} \
             of the customers (the largest holds {}{silhouette_en}); read these clusters as a \
             rough split, not as distinct groups",
            percent(max_share),
            percent(largest)
        ),
        format!(
            "。数据无明显分群结构：所试的各聚类数下，最大簇均超过客户的{}（最大簇占{}{silhouette_zh}）；\
             这些簇只是粗略划分，并非界限分明的客群",
            percent(max_share),
            percent(largest)
        ),
    )
}

/// Clusters the table as configured. Data that cannot be clustered (too
/// few rows, every feature constant) gives `Skipped` with the reason.
pub(crate) fn cluster_table(
    table: &FeatureTable,
    config: &ClusteringConfig,
) -> Result<ClusteringOutcome, SegmentError> {
    if !config.enabled {
        return Ok(ClusteringOutcome::Disabled);
    }
    let standardised = standardise(table, config)?;
    if standardised.features.is_empty() {
        return Ok(ClusteringOutcome::Skipped {
            reason: "no clustering feature varies between customers".to_string(),
        });
    }
    let plan = ClusteringPlan {
        k: match config.k {
            Some(k) => KChoice::Fixed(k),
            None => KChoice::BySilhouette {
                min: config.k_min,
                max: config.k_max,
            },
        },
        seed: config.seed,
        restarts: config.restarts,
        max_iterations: config.max_iterations,
        fit_sample: config.fit_sample,
        silhouette_sample: config.silhouette_sample,
        max_share: config.max_share,
    };
    let clustering = match kmeans::cluster(&standardised.matrix, &plan) {
        Ok(c) => c,
        Err(e) => {
            return Ok(ClusteringOutcome::Skipped {
                reason: e.to_string(),
            })
        }
    };
    let k = clustering.k;
    let fit = &clustering.fit;

    // Number clusters by size, largest first (the lower label on ties).
    let mut sizes = vec![0usize; k];
    for &l in &fit.labels {
        sizes[l] += 1;
    }
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]).then(a.cmp(&b)));
    let mut new_label = vec![0; k];
    for (new, &old) in order.iter().enumerate() {
        new_label[old] = new;
    }
    let cluster_of_row: Vec<usize> = fit.labels.par_iter().map(|&l| new_label[l]).collect();

    let per_feature: Vec<(Vec<Option<f64>>, Option<f64>)> = standardised
        .columns
        .par_iter()
        .map(|&c| medians(&table.columns[c].values, &cluster_of_row, k))
        .collect();
    let rows = table.len().max(1) as f64;
    let mut clusters = Vec::with_capacity(k);
    for (new, &old) in order.iter().enumerate() {
        let centroid = fit.centroids.row(old);
        let features: Vec<FeatureProfile> = standardised
            .features
            .iter()
            .enumerate()
            .map(|(j, f)| FeatureProfile {
                feature: f.name.clone(),
                centroid_z: centroid.get(j).copied().unwrap_or(0.0),
                median: per_feature[j].0[new],
                portfolio_median: per_feature[j].1,
            })
            .collect();
        let mut by_distinctiveness: Vec<&FeatureProfile> = features.iter().collect();
        by_distinctiveness.sort_by(|a, b| b.centroid_z.abs().total_cmp(&a.centroid_z.abs()));
        let distinctive: Vec<DistinctiveFeature<'_>> = by_distinctiveness
            .iter()
            .take(config.describe_features)
            .map(|f| DistinctiveFeature {
                feature: &f.feature,
                z: f.centroid_z,
                median: f.median,
                portfolio_median: f.portfolio_median,
            })
            .collect();
        let size = sizes[old];
        let share = size as f64 / rows;
        let (mut name, mut name_zh) = cluster_name(&distinctive, 2);
        if clusters.iter().any(|c: &ClusterProfile| c.name == name) {
            (name, name_zh) = cluster_name(&distinctive, 3);
        }
        if clusters.iter().any(|c: &ClusterProfile| c.name == name) {
            name = format!("{name} ({})", new + 1);
            name_zh = format!("{name_zh}（{}）", new + 1);
        }
        let (mut description, mut description_zh) =
            cluster_description(&name, &name_zh, size, share, &distinctive);
        if !clustering.within_share {
            let (en, zh) = no_structure_sentence(
                clustering.largest_share,
                config.max_share,
                clustering
                    .silhouettes
                    .iter()
                    .find(|(c, _)| *c == k)
                    .map(|(_, s)| *s),
            );
            description.push_str(&en);
            description_zh.push_str(&zh);
        }
        clusters.push(ClusterProfile {
            cluster: new,
            size,
            share,
            distinctive: distinctive.iter().map(|f| f.feature.to_string()).collect(),
            name,
            name_zh,
            description,
            description_zh,
            features,
        });
    }
    tracing::info!(
        k,
        rows = table.len(),
        iterations = fit.iterations,
        converged = fit.converged,
        "customers clustered"
    );
    Ok(ClusteringOutcome::Done(Box::new(ClusteringSummary {
        k,
        chosen_by_silhouette: config.k.is_none(),
        silhouettes: clustering.silhouettes.clone(),
        largest_shares: clustering.largest_shares.clone(),
        max_share: config.max_share,
        within_share: clustering.within_share,
        inertia: fit.inertia,
        iterations: fit.iterations,
        converged: fit.converged,
        sample_rows: clustering.sample_rows,
        features: standardised.features,
        dropped: standardised.dropped,
        seed: config.seed,
        cluster_of_row,
        clusters,
    })))
}
