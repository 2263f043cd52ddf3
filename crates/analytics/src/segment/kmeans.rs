//! k-means on a dense matrix: k-means++ starts from a seeded ChaCha RNG,
//! Lloyd iterations with the assignment step split over rayon threads,
//! several restarts keeping the lowest inertia, the mean silhouette, and a
//! plan that scales to millions of rows (candidate k fitted on a sample,
//! the winner refined on every row).
//!
//! Owns the numbers only. Must never know about features, customers or
//! configuration files, and must stay deterministic: the same matrix, plan
//! and seed give the same labels bit for bit, whatever the thread count
//! (partial sums are made over fixed chunks and added in chunk order).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

/// Rows per parallel work unit (partial sums are per chunk, added in order).
const CHUNK_ROWS: usize = 4096;

/// A dense row-major matrix of finite numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

/// Why a clustering could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClusteringError {
    #[error("a matrix of {rows} rows and {cols} columns needs {expected} numbers, not {found}")]
    Shape {
        rows: usize,
        cols: usize,
        expected: usize,
        found: usize,
    },
    #[error("row {row}, column {col} is not a finite number")]
    NotFinite { row: usize, col: usize },
    #[error("there are no columns to cluster on")]
    NoColumns,
    #[error("{k} clusters need at least {k} rows, not {rows}")]
    TooFewRows { k: usize, rows: usize },
    #[error("{k} clusters need at least {k} distinct rows")]
    TooFewDistinctRows { k: usize },
    #[error("k must be at least 2, not {0}")]
    KTooSmall(usize),
}

impl Matrix {
    /// A matrix from its rows laid end to end; every number must be finite.
    pub fn from_row_major(
        rows: usize,
        cols: usize,
        data: Vec<f64>,
    ) -> Result<Matrix, ClusteringError> {
        let expected = rows.saturating_mul(cols);
        if data.len() != expected {
            return Err(ClusteringError::Shape {
                rows,
                cols,
                expected,
                found: data.len(),
            });
        }
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(ClusteringError::NotFinite {
                row: i / cols.max(1),
                col: i % cols.max(1),
            });
        }
        Ok(Matrix { rows, cols, data })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row `i` (empty when out of range).
    pub fn row(&self, i: usize) -> &[f64] {
        self.data
            .get(i * self.cols..(i + 1) * self.cols)
            .unwrap_or(&[])
    }

    fn select_rows(&self, rows: &[usize]) -> Matrix {
        let mut data = Vec::with_capacity(rows.len() * self.cols);
        for &r in rows {
            data.extend_from_slice(self.row(r));
        }
        Matrix {
            rows: rows.len(),
            cols: self.cols,
            data,
        }
    }
}

/// One k-means solution.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansFit {
    /// k rows, one centroid each.
    pub centroids: Matrix,
    /// The cluster of each row (0..k).
    pub labels: Vec<usize>,
    /// Sum of squared distances of rows to their centroid.
    pub inertia: f64,
    /// Lloyd iterations run (assignment passes).
    pub iterations: u32,
    /// Whether the last pass changed no assignment.
    pub converged: bool,
}

fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// The nearest centroid (lowest index on ties) and its squared distance.
fn nearest(x: &[f64], centroids: &Matrix) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (j, c) in centroids.data.chunks_exact(centroids.cols).enumerate() {
        let d = squared_distance(x, c);
        if d < best.1 {
            best = (j, d);
        }
    }
    best
}

/// Sums gathered by one assignment pass.
struct Pass {
    sums: Vec<f64>,
    counts: Vec<usize>,
    inertia: f64,
    changed: usize,
}

impl Pass {
    fn zero(k: usize, d: usize) -> Pass {
        Pass {
            sums: vec![0.0; k * d],
            counts: vec![0; k],
            inertia: 0.0,
            changed: 0,
        }
    }

    fn add(&mut self, other: &Pass) {
        for (s, o) in self.sums.iter_mut().zip(&other.sums) {
            *s += o;
        }
        for (c, o) in self.counts.iter_mut().zip(&other.counts) {
            *c += o;
        }
        self.inertia += other.inertia;
        self.changed += other.changed;
    }
}

/// Assigns every row to its nearest centroid (in parallel) and sums the
/// members of each cluster.
fn assignment_pass(data: &Matrix, centroids: &Matrix, labels: &mut [usize]) -> Pass {
    let (k, d) = (centroids.rows, data.cols);
    let partials: Vec<Pass> = data
        .data
        .par_chunks(d * CHUNK_ROWS)
        .zip(labels.par_chunks_mut(CHUNK_ROWS))
        .map(|(rows, chunk_labels)| {
            let mut pass = Pass::zero(k, d);
            for (x, label) in rows.chunks_exact(d).zip(chunk_labels.iter_mut()) {
                let (best, dist) = nearest(x, centroids);
                if *label != best {
                    pass.changed += 1;
                    *label = best;
                }
                pass.counts[best] += 1;
                for (s, v) in pass.sums[best * d..(best + 1) * d].iter_mut().zip(x) {
                    *s += v;
                }
                pass.inertia += dist;
            }
            pass
        })
        .collect();
    let mut total = Pass::zero(k, d);
    for p in &partials {
        total.add(p);
    }
    total
}

/// The row farthest from its nearest centroid (lowest index on ties).
fn farthest_row(data: &Matrix, centroids: &Matrix) -> (usize, f64) {
    let d = data.cols;
    data.data
        .par_chunks(d * CHUNK_ROWS)
        .enumerate()
        .map(|(chunk, rows)| {
            let mut best = (0, -1.0);
            for (i, x) in rows.chunks_exact(d).enumerate() {
                let dist = nearest(x, centroids).1;
                if dist > best.1 {
                    best = (chunk * CHUNK_ROWS + i, dist);
                }
            }
            best
        })
        .collect::<Vec<_>>()
        .into_iter()
        .fold((0, -1.0), |acc, x| if x.1 > acc.1 { x } else { acc })
}

/// Lloyd iterations from `init` until no assignment changes or
/// `max_iterations` passes. An emptied cluster is moved to the row farthest
/// from its centroid.
pub fn lloyd(
    data: &Matrix,
    init: Matrix,
    max_iterations: u32,
) -> Result<KMeansFit, ClusteringError> {
    let k = init.rows;
    check_shape(data, k)?;
    if init.cols != data.cols {
        return Err(ClusteringError::Shape {
            rows: k,
            cols: data.cols,
            expected: k * data.cols,
            found: init.data.len(),
        });
    }
    let d = data.cols;
    let mut centroids = init;
    let mut labels = vec![usize::MAX; data.rows];
    let mut iterations = 0;
    let mut converged = false;
    let mut pass = Pass::zero(k, d);
    while iterations < max_iterations.max(1) {
        pass = assignment_pass(data, &centroids, &mut labels);
        iterations += 1;
        if pass.changed == 0 {
            converged = true;
            break;
        }
        let mut emptied = Vec::new();
        for j in 0..k {
            let count = pass.counts[j];
            if count == 0 {
                emptied.push(j);
                continue;
            }
            for (c, s) in centroids.data[j * d..(j + 1) * d]
                .iter_mut()
                .zip(&pass.sums[j * d..(j + 1) * d])
            {
                *c = s / count as f64;
            }
        }
        for j in emptied {
            let (row, dist) = farthest_row(data, &centroids);
            if dist > 0.0 {
                centroids.data[j * d..(j + 1) * d].copy_from_slice(data.row(row));
            }
        }
    }
    if !converged {
        // The last step moved the centroids: label rows by where they are now.
        pass = assignment_pass(data, &centroids, &mut labels);
        converged = pass.changed == 0;
    }
    Ok(KMeansFit {
        centroids,
        labels,
        inertia: pass.inertia,
        iterations,
        converged,
    })
}

fn check_shape(data: &Matrix, k: usize) -> Result<(), ClusteringError> {
    if k < 2 {
        return Err(ClusteringError::KTooSmall(k));
    }
    if data.cols == 0 {
        return Err(ClusteringError::NoColumns);
    }
    if data.rows < k {
        return Err(ClusteringError::TooFewRows { k, rows: data.rows });
    }
    Ok(())
}

/// k-means++ seeding: the first centroid uniformly, each next one with
/// probability proportional to the squared distance to the nearest chosen.
pub fn kmeans_plus_plus(
    data: &Matrix,
    k: usize,
    rng: &mut ChaCha8Rng,
) -> Result<Matrix, ClusteringError> {
    check_shape(data, k)?;
    let d = data.cols;
    let first = rng.random_range(0..data.rows);
    let mut chosen = Vec::with_capacity(k * d);
    chosen.extend_from_slice(data.row(first));
    let mut nearest_sq: Vec<f64> = data
        .data
        .par_chunks(d)
        .map(|x| squared_distance(x, data.row(first)))
        .collect();
    for _ in 1..k {
        let total: f64 = nearest_sq.iter().sum();
        if total.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return Err(ClusteringError::TooFewDistinctRows { k });
        }
        let mut target = rng.random::<f64>() * total;
        let mut pick = None;
        for (i, &w) in nearest_sq.iter().enumerate() {
            if w > 0.0 {
                pick = Some(i);
                if target < w {
                    break;
                }
                target -= w;
            }
        }
        let Some(pick) = pick else {
            return Err(ClusteringError::TooFewDistinctRows { k });
        };
        let new_centre = data.row(pick).to_vec();
        chosen.extend_from_slice(&new_centre);
        nearest_sq
            .par_iter_mut()
            .zip(data.data.par_chunks(d))
            .for_each(|(n, x)| *n = n.min(squared_distance(x, &new_centre)));
    }
    Ok(Matrix {
        rows: k,
        cols: d,
        data: chosen,
    })
}

/// The random stream of restart `restart` for `k` clusters under `seed`.
fn restart_rng(seed: u64, k: usize, restart: u32) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(((k as u64) << 32) | u64::from(restart));
    rng
}

/// `restarts` runs of k-means++ then Lloyd; the lowest inertia wins (the
/// earliest run on ties).
pub fn fit(
    data: &Matrix,
    k: usize,
    seed: u64,
    restarts: u32,
    max_iterations: u32,
) -> Result<KMeansFit, ClusteringError> {
    let mut best: Option<KMeansFit> = None;
    for restart in 0..restarts.max(1) {
        let mut rng = restart_rng(seed, k, restart);
        let init = kmeans_plus_plus(data, k, &mut rng)?;
        let run = lloyd(data, init, max_iterations)?;
        if best.as_ref().is_none_or(|b| run.inertia < b.inertia) {
            best = Some(run);
        }
    }
    best.ok_or(ClusteringError::KTooSmall(k))
}

/// The mean silhouette of a labelled matrix (Euclidean distance): for each
/// row, (b − a) / max(a, b) with a the mean distance to the other members of
/// its cluster and b the lowest mean distance to another cluster; 0 for a row
/// alone in its cluster. `None` when fewer than two clusters have members.
/// Quadratic in the rows: give it a sample.
pub fn mean_silhouette(data: &Matrix, labels: &[usize], k: usize) -> Option<f64> {
    let n = data.rows.min(labels.len());
    let mut counts = vec![0usize; k];
    for &l in &labels[..n] {
        if let Some(c) = counts.get_mut(l) {
            *c += 1;
        }
    }
    if counts.iter().filter(|&&c| c > 0).count() < 2 {
        return None;
    }
    let total: f64 = (0..n)
        .into_par_iter()
        .map(|i| {
            let own = labels[i];
            let mut sums = vec![0.0; k];
            let x = data.row(i);
            for (j, &label) in labels[..n].iter().enumerate() {
                if j != i {
                    if let Some(s) = sums.get_mut(label) {
                        *s += squared_distance(x, data.row(j)).sqrt();
                    }
                }
            }
            let own_count = counts.get(own).copied().unwrap_or(0);
            if own_count <= 1 {
                return 0.0;
            }
            let a = sums[own] / (own_count - 1) as f64;
            let b = (0..k)
                .filter(|&c| c != own && counts[c] > 0)
                .map(|c| sums[c] / counts[c] as f64)
                .fold(f64::INFINITY, f64::min);
            let m = a.max(b);
            if m > 0.0 {
                (b - a) / m
            } else {
                0.0
            }
        })
        .collect::<Vec<f64>>()
        .iter()
        .sum();
    Some(total / n as f64)
}

/// How many clusters to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KChoice {
    Fixed(usize),
    /// The k in `min..=max` with the highest mean silhouette (the smaller on
    /// ties) among those whose largest cluster holds at most the plan's
    /// `max_share` of the rows; when no k keeps to it, the highest
    /// silhouette of all, and the clustering says the data have no
    /// structure ([`Clustering::within_share`] is false).
    BySilhouette {
        min: usize,
        max: usize,
    },
}

/// A clustering plan that scales: candidates are fitted on a sample of
/// `fit_sample` rows, the silhouette is computed on the first
/// `silhouette_sample` of those, and the chosen centroids are refined by
/// Lloyd iterations over every row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClusteringPlan {
    pub k: KChoice,
    pub seed: u64,
    pub restarts: u32,
    pub max_iterations: u32,
    pub fit_sample: usize,
    pub silhouette_sample: usize,
    /// The largest share of the rows one cluster may hold (0–1]; 1 = no limit.
    pub max_share: f64,
}

/// The result of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Clustering {
    pub k: usize,
    /// Mean silhouette of each candidate k fitted, on the silhouette sample.
    pub silhouettes: Vec<(usize, f64)>,
    /// The share of the fitting sample in the largest cluster, per candidate k.
    pub largest_shares: Vec<(usize, f64)>,
    /// Whether the refined clustering keeps every cluster within the plan's
    /// `max_share` of the rows (false: the data show no structure that k-means
    /// can split into groups of that size).
    pub within_share: bool,
    /// The share of all rows in the largest cluster of the refined fit.
    pub largest_share: f64,
    /// The refined fit over every row.
    pub fit: KMeansFit,
    /// Rows of the fitting sample.
    pub sample_rows: usize,
}

/// A deterministic random sample of `amount` of `0..n`, in random order
/// (partial Fisher–Yates).
fn sample_rows(n: usize, amount: usize, seed: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(u64::MAX);
    let mut all: Vec<usize> = (0..n).collect();
    let amount = amount.min(n);
    for i in 0..amount {
        let j = rng.random_range(i..n);
        all.swap(i, j);
    }
    all.truncate(amount);
    all
}

/// Runs a [`ClusteringPlan`] on `data`.
pub fn cluster(data: &Matrix, plan: &ClusteringPlan) -> Result<Clustering, ClusteringError> {
    if data.cols == 0 {
        return Err(ClusteringError::NoColumns);
    }
    let sample_idx = sample_rows(data.rows, plan.fit_sample.max(2), plan.seed);
    let sample = data.select_rows(&sample_idx);
    let silhouette_rows = plan.silhouette_sample.min(sample.rows);
    let silhouette_data = Matrix {
        rows: silhouette_rows,
        cols: sample.cols,
        data: sample.data[..silhouette_rows * sample.cols].to_vec(),
    };
    let candidates: Vec<usize> = match plan.k {
        KChoice::Fixed(k) => vec![k],
        KChoice::BySilhouette { min, max } => (min.max(2)..=max).collect(),
    };
    let mut silhouettes = Vec::new();
    let mut largest_shares = Vec::new();
    // The best candidate within the share limit, and the best of all.
    let mut best_within: Option<(usize, f64, KMeansFit)> = None;
    let mut best_any: Option<(usize, f64, KMeansFit)> = None;
    let mut first_error = None;
    for &k in &candidates {
        let fitted = match fit(&sample, k, plan.seed, plan.restarts, plan.max_iterations) {
            Ok(f) => f,
            Err(e) => {
                first_error.get_or_insert(e);
                continue;
            }
        };
        let s =
            mean_silhouette(&silhouette_data, &fitted.labels[..silhouette_rows], k).unwrap_or(-1.0);
        let share = largest_share(&fitted.labels, k);
        silhouettes.push((k, s));
        largest_shares.push((k, share));
        if share <= plan.max_share && best_within.as_ref().is_none_or(|(_, bs, _)| s > *bs) {
            best_within = Some((k, s, fitted.clone()));
        }
        if best_any.as_ref().is_none_or(|(_, bs, _)| s > *bs) {
            best_any = Some((k, s, fitted));
        }
    }
    let Some((k, _, sample_fit)) = best_within.or(best_any) else {
        return Err(first_error.unwrap_or(ClusteringError::KTooSmall(0)));
    };
    let fit = lloyd(data, sample_fit.centroids, plan.max_iterations)?;
    let largest = largest_share(&fit.labels, k);
    Ok(Clustering {
        k,
        silhouettes,
        largest_shares,
        within_share: largest <= plan.max_share,
        largest_share: largest,
        fit,
        sample_rows: sample.rows,
    })
}

/// The share of `labels` in the most frequent of `k` labels (0 when empty).
pub fn largest_share(labels: &[usize], k: usize) -> f64 {
    let mut counts = vec![0usize; k];
    for &l in labels {
        if let Some(c) = counts.get_mut(l) {
            *c += 1;
        }
    }
    let largest = counts.iter().copied().max().unwrap_or(0);
    if labels.is_empty() {
        0.0
    } else {
        largest as f64 / labels.len() as f64
    }
}
