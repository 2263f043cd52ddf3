//! Ranking metrics for validating scores against labels (never used to
//! compute a score).

/// Area under the ROC curve of `risk` for `bad` (Mann–Whitney: the chance a
/// random bad outranks a random good, ties counting half); non-finite risks
/// are ignored; `None` unless both classes are present.
pub fn auc(pairs: &[(f64, bool)]) -> Option<f64> {
    let mut v: Vec<(f64, bool)> = pairs.iter().copied().filter(|p| p.0.is_finite()).collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut rank_sum_bad, mut bad, mut i) = (0.0f64, 0u64, 0usize);
    while i < v.len() {
        let mut j = i;
        while j < v.len() && v[j].0 == v[i].0 {
            j += 1;
        }
        // Ranks i+1 ..= j share their average.
        let avg = (i + 1 + j) as f64 / 2.0;
        for p in &v[i..j] {
            if p.1 {
                rank_sum_bad += avg;
                bad += 1;
            }
        }
        i = j;
    }
    let good = v.len() as u64 - bad;
    if bad == 0 || good == 0 {
        return None;
    }
    let (b, g) = (bad as f64, good as f64);
    Some((rank_sum_bad - b * (b + 1.0) / 2.0) / (b * g))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_is_one_for_a_perfect_ranking_a_half_for_ties_and_none_for_one_class() {
        let perfect = [(0.9, true), (0.8, true), (0.2, false), (0.1, false)];
        assert_eq!(auc(&perfect), Some(1.0));
        let reversed = [(0.1, true), (0.9, false)];
        assert_eq!(auc(&reversed), Some(0.0));
        let tied = [(0.5, true), (0.5, false)];
        assert_eq!(auc(&tied), Some(0.5));
        // One of the two bads outranks the one good, the other ties it: (1 + 0.5) / 2.
        let mixed = [(0.9, true), (0.4, true), (0.4, false)];
        assert_eq!(auc(&mixed), Some(0.75));
        assert_eq!(auc(&[(0.3, true)]), None);
        assert_eq!(
            auc(&[(f64::NAN, true), (0.2, true), (0.1, false)]),
            Some(1.0)
        );
    }
}
