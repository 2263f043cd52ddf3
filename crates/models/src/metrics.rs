//! Discrimination and calibration measures for a binary target, computed
//! from scores (higher = more likely the event) and 0/1 labels.

use serde::Serialize;

/// Area under the ROC curve by the rank-sum (Mann–Whitney) formula, tied
/// scores sharing their average rank. `None` when one class is absent.
pub fn auc(scores: &[f64], labels: &[u8]) -> Option<f64> {
    let order = sorted_order(scores);
    let n1 = labels.iter().filter(|&&y| y == 1).count() as f64;
    let n0 = labels.len() as f64 - n1;
    if n1 == 0.0 || n0 == 0.0 {
        return None;
    }
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their mean.
        let mean_rank = (i + j + 2) as f64 / 2.0;
        let positives = order[i..=j].iter().filter(|&&k| labels[k] == 1).count();
        rank_sum += mean_rank * positives as f64;
        i = j + 1;
    }
    Some((rank_sum - n1 * (n1 + 1.0) / 2.0) / (n1 * n0))
}

/// Kolmogorov–Smirnov statistic: the largest gap between the cumulative
/// shares of positives and negatives over score thresholds.
pub fn ks(scores: &[f64], labels: &[u8]) -> Option<f64> {
    let order = sorted_order(scores);
    let n1 = labels.iter().filter(|&&y| y == 1).count() as f64;
    let n0 = labels.len() as f64 - n1;
    if n1 == 0.0 || n0 == 0.0 {
        return None;
    }
    let (mut c1, mut c0, mut best) = (0.0, 0.0, 0.0f64);
    let mut i = 0;
    // Walk from the highest score down, a tie group at a time.
    let desc: Vec<usize> = order.into_iter().rev().collect();
    while i < desc.len() {
        let mut j = i;
        while j < desc.len() && scores[desc[j]] == scores[desc[i]] {
            if labels[desc[j]] == 1 {
                c1 += 1.0;
            } else {
                c0 += 1.0;
            }
            j += 1;
        }
        best = best.max((c1 / n1 - c0 / n0).abs());
        i = j;
    }
    Some(best)
}

/// Gini coefficient (accuracy ratio) = 2·AUC − 1.
pub fn gini(scores: &[f64], labels: &[u8]) -> Option<f64> {
    auc(scores, labels).map(|a| 2.0 * a - 1.0)
}

/// Lift in the top `share` of scores: the event rate there over the overall
/// event rate.
pub fn lift_at(scores: &[f64], labels: &[u8], share: f64) -> Option<f64> {
    let n = labels.len();
    if n == 0 {
        return None;
    }
    let overall = labels.iter().filter(|&&y| y == 1).count() as f64 / n as f64;
    if overall == 0.0 {
        return None;
    }
    let top = ((n as f64 * share).ceil() as usize).clamp(1, n);
    let order = sorted_order(scores);
    let hits = order
        .iter()
        .rev()
        .take(top)
        .filter(|&&k| labels[k] == 1)
        .count();
    Some(hits as f64 / top as f64 / overall)
}

/// One band of a calibration table.
#[derive(Debug, Clone, Serialize)]
pub struct CalibrationBin {
    pub bin: usize,
    pub count: usize,
    pub mean_predicted: f64,
    pub observed_rate: f64,
}

/// Calibration table: rows sorted by predicted probability into `bins`
/// equal-count bands, each with its mean prediction and its observed rate.
pub fn calibration(probabilities: &[f64], labels: &[u8], bins: usize) -> Vec<CalibrationBin> {
    let order = sorted_order(probabilities);
    let n = order.len();
    if n == 0 || bins == 0 {
        return Vec::new();
    }
    (0..bins)
        .filter_map(|b| {
            let (lo, hi) = (b * n / bins, (b + 1) * n / bins);
            let band = &order[lo..hi];
            (!band.is_empty()).then(|| CalibrationBin {
                bin: b + 1,
                count: band.len(),
                mean_predicted: band.iter().map(|&k| probabilities[k]).sum::<f64>()
                    / band.len() as f64,
                observed_rate: band.iter().filter(|&&k| labels[k] == 1).count() as f64
                    / band.len() as f64,
            })
        })
        .collect()
}

/// Population stability index of `actual` against `expected`, over `bins`
/// bands cut at the quantiles of `expected`. Below 0.1 is stable, 0.1–0.25 a
/// shift to watch, above 0.25 a shift to act on.
pub fn psi(expected: &[f64], actual: &[f64], bins: usize) -> Option<f64> {
    if expected.is_empty() || actual.is_empty() || bins < 2 {
        return None;
    }
    let mut sorted: Vec<f64> = expected.iter().copied().filter(|x| !x.is_nan()).collect();
    sorted.sort_by(f64::total_cmp);
    let mut edges: Vec<f64> = (1..bins)
        .map(|b| sorted[(b * sorted.len() / bins).min(sorted.len() - 1)])
        .collect();
    edges.dedup();
    let shares = |values: &[f64]| {
        let mut counts = vec![0usize; edges.len() + 1];
        for &v in values {
            counts[edges.partition_point(|&e| e < v)] += 1;
        }
        counts
            .into_iter()
            .map(|c| (c as f64 / values.len() as f64).max(1e-4))
            .collect::<Vec<_>>()
    };
    let (e, a) = (shares(expected), shares(actual));
    Some(e.iter().zip(&a).map(|(e, a)| (a - e) * (a / e).ln()).sum())
}

/// Indices of `scores` in ascending order (NaN last, as the lowest risk is
/// not implied by a missing score).
fn sorted_order(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    order
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn auc_matches_pairwise_counting_with_ties() {
        let scores = [0.1, 0.4, 0.35, 0.8, 0.4, 0.4, 0.9, 0.2];
        let labels = [0, 0, 1, 1, 1, 0, 1, 0];
        let mut wins = 0.0;
        let mut pairs = 0.0;
        for i in 0..8 {
            for j in 0..8 {
                if labels[i] == 1 && labels[j] == 0 {
                    pairs += 1.0;
                    wins += if scores[i] > scores[j] {
                        1.0
                    } else if scores[i] == scores[j] {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        let a = auc(&scores, &labels).unwrap();
        assert!((a - wins / pairs).abs() < 1e-12, "{a} vs {}", wins / pairs);
        assert!((gini(&scores, &labels).unwrap() - (2.0 * a - 1.0)).abs() < 1e-12);
    }

    #[test]
    fn perfect_and_reversed_scores() {
        let labels = [0, 0, 1, 1];
        assert_eq!(auc(&[0.1, 0.2, 0.8, 0.9], &labels), Some(1.0));
        assert_eq!(auc(&[0.9, 0.8, 0.2, 0.1], &labels), Some(0.0));
        assert_eq!(ks(&[0.1, 0.2, 0.8, 0.9], &labels), Some(1.0));
        assert_eq!(auc(&[0.5; 4], &labels), Some(0.5));
        assert_eq!(ks(&[0.5; 4], &labels), Some(0.0));
        assert_eq!(auc(&[0.1, 0.2], &[1, 1]), None);
    }

    #[test]
    fn ks_is_the_largest_cumulative_gap() {
        // Descending: 0.9(1) 0.8(0) 0.7(1) 0.6(1) 0.5(0) 0.4(0)
        let scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
        let labels = [1, 0, 1, 1, 0, 0];
        // After 0.6: TPR 1, FPR 1/3 → 2/3.
        assert!((ks(&scores, &labels).unwrap() - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn lift_in_the_top_decile() {
        let scores: Vec<f64> = (0..100).map(f64::from).collect();
        // 10 positives, all in the top ten scores → lift 10.
        let labels: Vec<u8> = (0..100).map(|i| u8::from(i >= 90)).collect();
        assert_eq!(lift_at(&scores, &labels, 0.1), Some(10.0));
    }

    #[test]
    fn calibration_bins_partition_the_rows() {
        let p: Vec<f64> = (0..95).map(|i| f64::from(i) / 95.0).collect();
        let y: Vec<u8> = (0..95).map(|i| u8::from(i % 3 == 0)).collect();
        let table = calibration(&p, &y, 10);
        assert_eq!(table.len(), 10);
        assert_eq!(table.iter().map(|b| b.count).sum::<usize>(), 95);
        assert!(table
            .windows(2)
            .all(|w| w[0].mean_predicted < w[1].mean_predicted));
    }

    #[test]
    fn psi_is_zero_for_the_same_distribution_and_grows_with_a_shift() {
        let a: Vec<f64> = (0..1000).map(|i| f64::from(i) / 1000.0).collect();
        assert!(psi(&a, &a, 10).unwrap().abs() < 1e-12);
        let shifted: Vec<f64> = a.iter().map(|x| x * 0.5).collect();
        assert!(psi(&a, &shifted, 10).unwrap() > 0.25);
    }
}
