//! Offline evaluation of ranked recommendations against held-out holdings:
//! precision@k, recall@k and mean average precision (MAP@k).

use serde::Serialize;

/// Ranking quality over the customers evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RankingMetrics {
    /// Customers with at least one held-out product (the ones scored).
    pub customers: usize,
    pub k: usize,
    pub precision_at_k: f64,
    pub recall_at_k: f64,
    pub map_at_k: f64,
    /// Share of customers with at least one hit in the top k.
    pub hit_rate: f64,
}

/// Average precision at k of one ranked list against the relevant set:
/// the mean of precision@i over the ranks i ≤ k that hit, divided by
/// min(k, |relevant|). 0 when nothing is relevant.
pub fn average_precision(ranked: &[&str], relevant: &[&str], k: usize) -> f64 {
    if relevant.is_empty() || k == 0 {
        return 0.0;
    }
    let mut hits = 0usize;
    let mut sum = 0.0;
    for (i, item) in ranked.iter().take(k).enumerate() {
        if relevant.contains(item) && !ranked[..i].contains(item) {
            hits += 1;
            sum += hits as f64 / (i + 1) as f64;
        }
    }
    sum / relevant.len().min(k) as f64
}

/// Accumulates precision@k, recall@k and MAP@k over customers.
#[derive(Debug, Clone)]
pub struct RankingEval {
    k: usize,
    n: usize,
    precision: f64,
    recall: f64,
    ap: f64,
    hit: usize,
}

impl RankingEval {
    pub fn new(k: usize) -> RankingEval {
        RankingEval {
            k: k.max(1),
            n: 0,
            precision: 0.0,
            recall: 0.0,
            ap: 0.0,
            hit: 0,
        }
    }

    /// Adds one customer; customers with nothing relevant are skipped.
    pub fn add(&mut self, ranked: &[&str], relevant: &[&str]) {
        if relevant.is_empty() {
            return;
        }
        let top = &ranked[..ranked.len().min(self.k)];
        let hits = relevant.iter().filter(|r| top.contains(r)).count();
        self.n += 1;
        self.precision += hits as f64 / self.k as f64;
        self.recall += hits as f64 / relevant.len() as f64;
        self.ap += average_precision(ranked, relevant, self.k);
        if hits > 0 {
            self.hit += 1;
        }
    }

    pub fn finish(&self) -> RankingMetrics {
        let n = self.n.max(1) as f64;
        RankingMetrics {
            customers: self.n,
            k: self.k,
            precision_at_k: self.precision / n,
            recall_at_k: self.recall / n,
            map_at_k: self.ap / n,
            hit_rate: self.hit as f64 / n,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn textbook_values() {
        // Hits at ranks 1 and 3 of 3, two relevant: AP = (1/1 + 2/3) / 2.
        let ap = average_precision(&["a", "b", "c"], &["a", "c"], 3);
        assert!((ap - (1.0 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        assert_eq!(average_precision(&["x"], &[], 3), 0.0);
        let mut e = RankingEval::new(3);
        e.add(&["a", "b", "c"], &["a", "c"]);
        e.add(&["x", "y", "z"], &["q"]);
        e.add(&["a"], &[]);
        let m = e.finish();
        assert_eq!(m.customers, 2);
        assert!((m.precision_at_k - (2.0 / 3.0) / 2.0).abs() < 1e-12);
        assert!((m.recall_at_k - 0.5).abs() < 1e-12);
        assert!((m.hit_rate - 0.5).abs() < 1e-12);
    }
}
