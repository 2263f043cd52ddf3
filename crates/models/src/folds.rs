//! How rows are split for honest evaluation: stratified k-fold (each fold
//! keeps the event rate of the whole) or a time-based holdout (train on the
//! earlier rows, test on the latest), seeded so that runs repeat.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Shuffle the positives and the negatives of `rows` separately and deal
/// them round-robin into `k` folds. Returns the test rows of each fold.
pub fn stratified_folds(target: &[u8], rows: &[usize], k: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let k = k.max(1);
    let mut folds = vec![Vec::new(); k];
    let mut next = 0;
    for class in [1u8, 0] {
        for r in shuffled_class(target, rows, class, &mut rng) {
            folds[next % k].push(r);
            next += 1;
        }
    }
    for f in &mut folds {
        f.sort_unstable();
    }
    folds
}

/// Split `rows` into (kept, held out) with about `share` of each class held
/// out.
pub fn stratified_split(
    target: &[u8],
    rows: &[usize],
    share: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let (mut kept, mut held) = (Vec::new(), Vec::new());
    for class in [1u8, 0] {
        let members = shuffled_class(target, rows, class, &mut rng);
        let cut = ((members.len() as f64 * share).round() as usize).min(members.len());
        held.extend_from_slice(&members[..cut]);
        kept.extend_from_slice(&members[cut..]);
    }
    kept.sort_unstable();
    held.sort_unstable();
    (kept, held)
}

/// The rows of `class`, in random order.
fn shuffled_class(target: &[u8], rows: &[usize], class: u8, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut members: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|&r| target[r] == class)
        .collect();
    members.shuffle(rng);
    members
}

/// Train on the earliest rows and hold out the latest `share` by `times`
/// (compared as numbers when they all are, else as text, which orders ISO
/// dates). Rows at the cut time all go to the same side.
pub fn time_holdout(times: &[String], share: f64) -> (Vec<usize>, Vec<usize>) {
    let numbers: Option<Vec<f64>> = times.iter().map(|t| t.parse::<f64>().ok()).collect();
    let mut order: Vec<usize> = (0..times.len()).collect();
    match &numbers {
        Some(n) => order.sort_by(|&a, &b| n[a].total_cmp(&n[b])),
        None => order.sort_by(|&a, &b| times[a].cmp(&times[b])),
    }
    let mut cut = ((times.len() as f64) * (1.0 - share)).round() as usize;
    cut = cut.min(order.len());
    while cut > 0 && cut < order.len() && times[order[cut]] == times[order[cut - 1]] {
        cut += 1;
    }
    let mut train = order[..cut].to_vec();
    let mut test = order[cut..].to_vec();
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn folds_partition_the_rows_and_keep_the_event_rate() {
        let target: Vec<u8> = (0..1000).map(|i| u8::from(i % 10 == 0)).collect();
        let rows: Vec<usize> = (0..1000).collect();
        let folds = stratified_folds(&target, &rows, 5, 1);
        let mut all: Vec<usize> = folds.concat();
        all.sort_unstable();
        assert_eq!(all, rows);
        for f in &folds {
            assert_eq!(f.len(), 200);
            assert_eq!(f.iter().filter(|&&r| target[r] == 1).count(), 20);
        }
        assert_ne!(stratified_folds(&target, &rows, 5, 2), folds);
        assert_eq!(stratified_folds(&target, &rows, 5, 1), folds);
    }

    #[test]
    fn the_holdout_is_the_latest_rows() {
        let times: Vec<String> = ["930105", "980101", "950301", "970101", "940101"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (train, test) = time_holdout(&times, 0.4);
        assert_eq!(test, vec![1, 3]);
        assert_eq!(train, vec![0, 2, 4]);
        let iso: Vec<String> = ["2024-02-01", "2023-12-31", "2024-01-15"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(time_holdout(&iso, 0.34).1, vec![0]);
    }

    #[test]
    fn a_split_holds_out_the_share_of_each_class() {
        let target: Vec<u8> = (0..200).map(|i| u8::from(i % 4 == 0)).collect();
        let rows: Vec<usize> = (0..200).collect();
        let (kept, held) = stratified_split(&target, &rows, 0.2, 3);
        assert_eq!(held.len(), 40);
        assert_eq!(held.iter().filter(|&&r| target[r] == 1).count(), 10);
        assert_eq!(kept.len() + held.len(), 200);
    }
}
