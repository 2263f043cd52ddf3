//! Weight-of-evidence binning, the first half of a scorecard.
//!
//! Numeric features start from about twenty equal-count bins. Two candidate
//! binnings are then built: one forced monotonic in the event rate (pool
//! adjacent violators in the direction of the rank correlation), and one
//! free. Both are reduced by chi-merge (adjacent bins whose event rates do
//! not differ significantly are merged, and no bin is left under the minimum
//! share). The monotonic one is kept when it holds at least 90 % of the free
//! one's information value: monotonic where sensible, but an inverted U such
//! as churn by age keeps its shape. Categorical levels are ordered by event
//! rate and chi-merged the same way, so a rare level joins the bin it differs
//! least from; levels never seen in training fall in an "other" bin scored
//! neutral (WoE 0). Missing values get their own
//! bin; a feature with no missing values in training scores a missing value
//! as neutral (WoE 0).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::extract::{Column, Feature, MISSING_LEVEL};

/// Settings of the binning.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BinningConfig {
    pub initial_bins: usize,
    pub max_bins: usize,
    /// Smallest share of the rows a bin may hold.
    pub min_bin_share: f64,
    /// Chi-square value under which two adjacent bins are merged (3.84 is
    /// the 95 % point with one degree of freedom).
    pub merge_chi2: f64,
    /// Keep the monotonic binning when its IV is at least this share of the
    /// free binning's.
    pub monotonic_keep: f64,
}

impl Default for BinningConfig {
    fn default() -> Self {
        Self {
            initial_bins: 20,
            max_bins: 8,
            min_bin_share: 0.02,
            merge_chi2: 3.84,
            monotonic_keep: 0.9,
        }
    }
}

/// Which values fall into a bin.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum BinRule {
    /// Numeric values `v` with `v <= upper`, above the previous bin's upper
    /// bound; `upper: None` is the open top bin.
    AtMost { upper: Option<f64> },
    /// These categories.
    Levels { levels: Vec<String> },
    /// Categories not listed in another bin: rare in training or unseen.
    Other,
    /// A missing value.
    Missing,
}

/// One bin with its training counts and weight of evidence.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bin {
    pub rule: BinRule,
    pub label: String,
    pub count: u64,
    pub events: u64,
    pub event_rate: f64,
    /// ln(share of events / share of non-events): positive is riskier.
    pub woe: f64,
}

/// The binning of one feature.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeatureBinning {
    pub feature: String,
    pub numeric: bool,
    pub bins: Vec<Bin>,
    /// Information value.
    pub iv: f64,
    /// "increasing" or "decreasing" when the event rate is monotonic across
    /// the numeric bins, else "none".
    pub trend: String,
    #[serde(skip)]
    lookup: HashMap<String, usize>,
}

#[derive(Debug, Clone)]
struct Group {
    count: f64,
    events: f64,
    /// Numeric: the largest value in the group.
    upper: f64,
    /// Categorical: the level codes in the group.
    levels: Vec<u32>,
}

impl Group {
    fn rate(&self) -> f64 {
        if self.count == 0.0 {
            0.0
        } else {
            self.events / self.count
        }
    }

    fn absorb(&mut self, other: Group) {
        self.count += other.count;
        self.events += other.events;
        self.upper = self.upper.max(other.upper);
        self.levels.extend(other.levels);
    }
}

/// Chi-square of the 2×2 table of two groups (events vs non-events).
fn chi2(a: &Group, b: &Group) -> f64 {
    let n = a.count + b.count;
    let events = a.events + b.events;
    let non = n - events;
    if n == 0.0 || events == 0.0 || non == 0.0 {
        return 0.0;
    }
    let mut sum = 0.0;
    for g in [a, b] {
        let expected_events = g.count * events / n;
        let expected_non = g.count * non / n;
        if expected_events > 0.0 {
            sum += (g.events - expected_events).powi(2) / expected_events;
        }
        if expected_non > 0.0 {
            sum += (g.count - g.events - expected_non).powi(2) / expected_non;
        }
    }
    sum
}

/// Merge adjacent groups: first any group under `min_count` (into the
/// neighbour it differs least from), then the least different pair while
/// that difference is under the threshold or there are too many groups.
fn chi_merge(groups: &mut Vec<Group>, cfg: &BinningConfig, min_count: f64) {
    loop {
        if groups.len() < 2 {
            return;
        }
        let small = groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.count < min_count)
            .min_by(|a, b| a.1.count.total_cmp(&b.1.count))
            .map(|(i, _)| i);
        let pair = if let Some(i) = small {
            if i == 0 {
                0
            } else if i == groups.len() - 1
                || chi2(&groups[i - 1], &groups[i]) <= chi2(&groups[i], &groups[i + 1])
            {
                i - 1
            } else {
                i
            }
        } else {
            let Some((i, value)) = (0..groups.len() - 1)
                .map(|i| (i, chi2(&groups[i], &groups[i + 1])))
                .min_by(|a, b| a.1.total_cmp(&b.1))
            else {
                return;
            };
            if value >= cfg.merge_chi2 && groups.len() <= cfg.max_bins {
                return;
            }
            i
        };
        let right = groups.remove(pair + 1);
        groups[pair].absorb(right);
    }
}

/// Pool adjacent violators so that event rates are monotonic.
fn pool_adjacent(groups: Vec<Group>, increasing: bool) -> Vec<Group> {
    let mut stack: Vec<Group> = Vec::with_capacity(groups.len());
    for g in groups {
        stack.push(g);
        while stack.len() >= 2 {
            let (a, b) = (&stack[stack.len() - 2], &stack[stack.len() - 1]);
            let violates = if increasing {
                a.rate() > b.rate()
            } else {
                a.rate() < b.rate()
            };
            if !violates {
                break;
            }
            if let Some(last) = stack.pop() {
                if let Some(previous) = stack.last_mut() {
                    previous.absorb(last);
                }
            }
        }
    }
    stack
}

fn woe(events: f64, non: f64, total_events: f64, total_non: f64) -> f64 {
    ((events + 0.5) / (total_events + 0.5)).ln() - ((non + 0.5) / (total_non + 0.5)).ln()
}

fn information_value(groups: &[Group], total_events: f64, total_non: f64) -> f64 {
    groups
        .iter()
        .map(|g| {
            let non = g.count - g.events;
            let w = woe(g.events, non, total_events, total_non);
            ((g.events + 0.5) / (total_events + 0.5) - (non + 0.5) / (total_non + 0.5)) * w
        })
        .sum()
}

fn is_monotonic(groups: &[Group]) -> Option<bool> {
    let up = groups.windows(2).all(|w| w[0].rate() <= w[1].rate());
    let down = groups.windows(2).all(|w| w[0].rate() >= w[1].rate());
    match (up, down) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    }
}

fn fmt_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

impl FeatureBinning {
    /// Bin `feature` on the training `rows`.
    pub fn fit(feature: &Feature, target: &[u8], rows: &[usize], cfg: &BinningConfig) -> Self {
        let total_events = rows.iter().filter(|&&r| target[r] == 1).count() as f64;
        let total_non = rows.len() as f64 - total_events;
        let min_count = (cfg.min_bin_share * rows.len() as f64).max(1.0);
        let mut missing = Group {
            count: 0.0,
            events: 0.0,
            upper: f64::NEG_INFINITY,
            levels: Vec::new(),
        };
        let (groups, numeric, trend) = match &feature.column {
            Column::Numeric(values) => {
                let mut present: Vec<(f64, u8)> = Vec::with_capacity(rows.len());
                for &r in rows {
                    if values[r].is_nan() {
                        missing.count += 1.0;
                        missing.events += f64::from(target[r]);
                    } else {
                        present.push((values[r], target[r]));
                    }
                }
                present.sort_by(|a, b| a.0.total_cmp(&b.0));
                let (groups, trend) =
                    numeric_groups(&present, cfg, min_count, total_events, total_non);
                (groups, true, trend)
            }
            Column::Categorical { levels, codes } => {
                let mut per_level = vec![(0.0f64, 0.0f64); levels.len()];
                for &r in rows {
                    let code = codes[r];
                    if code == MISSING_LEVEL {
                        missing.count += 1.0;
                        missing.events += f64::from(target[r]);
                    } else {
                        per_level[code as usize].0 += 1.0;
                        per_level[code as usize].1 += f64::from(target[r]);
                    }
                }
                let mut groups: Vec<Group> = per_level
                    .iter()
                    .enumerate()
                    .filter(|(_, (count, _))| *count > 0.0)
                    .map(|(code, &(count, events))| Group {
                        count,
                        events,
                        upper: 0.0,
                        levels: vec![code as u32],
                    })
                    .collect();
                groups.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
                chi_merge(&mut groups, cfg, min_count);
                (groups, false, "none".to_string())
            }
        };

        let mut bins: Vec<Bin> = Vec::new();
        let make_bin = |rule: BinRule, label: String, g: &Group| Bin {
            rule,
            label,
            count: g.count as u64,
            events: g.events as u64,
            event_rate: g.rate(),
            woe: woe(g.events, g.count - g.events, total_events, total_non),
        };
        let level_names = match &feature.column {
            Column::Categorical { levels, .. } => levels.as_slice(),
            Column::Numeric(_) => &[],
        };
        let mut lower = f64::NEG_INFINITY;
        for (i, g) in groups.iter().enumerate() {
            if numeric {
                let last = i + 1 == groups.len();
                let upper = (!last).then_some(g.upper);
                let label = match (lower.is_finite(), upper) {
                    (false, Some(u)) => format!("≤ {}", fmt_number(u)),
                    (true, Some(u)) => format!("({}, {}]", fmt_number(lower), fmt_number(u)),
                    (true, None) => format!("> {}", fmt_number(lower)),
                    (false, None) => "all values".to_string(),
                };
                bins.push(make_bin(BinRule::AtMost { upper }, label, g));
                lower = g.upper;
            } else {
                let mut names: Vec<String> = g
                    .levels
                    .iter()
                    .map(|&c| level_names[c as usize].clone())
                    .collect();
                names.sort();
                let label = names.join(", ");
                bins.push(make_bin(BinRule::Levels { levels: names }, label, g));
            }
        }
        if !numeric {
            // Levels never seen in training score neutral (WoE 0).
            bins.push(Bin {
                rule: BinRule::Other,
                label: "other".into(),
                count: 0,
                events: 0,
                event_rate: 0.0,
                woe: 0.0,
            });
        }
        if missing.count > 0.0 {
            bins.push(make_bin(BinRule::Missing, "missing".into(), &missing));
        }
        let mut all = groups.clone();
        if missing.count > 0.0 {
            all.push(missing);
        }
        let iv = information_value(&all, total_events, total_non);
        let mut out = Self {
            feature: feature.name.clone(),
            numeric,
            bins,
            iv,
            trend,
            lookup: HashMap::new(),
        };
        out.build_lookup();
        out
    }

    /// Rebuild the level index after deserialising.
    pub fn build_lookup(&mut self) {
        self.lookup.clear();
        for (i, bin) in self.bins.iter().enumerate() {
            if let BinRule::Levels { levels } = &bin.rule {
                for level in levels {
                    self.lookup.insert(level.clone(), i);
                }
            }
        }
    }

    /// The bin of row `row` of `feature`, `None` for a missing value with no
    /// missing bin.
    pub fn bin_of(&self, feature: &Feature, row: usize) -> Option<usize> {
        let missing = || self.bins.iter().position(|b| b.rule == BinRule::Missing);
        match &feature.column {
            Column::Numeric(values) => {
                let v = values[row];
                if v.is_nan() {
                    return missing();
                }
                self.bins.iter().position(|b| match b.rule {
                    BinRule::AtMost { upper: Some(u) } => v <= u,
                    BinRule::AtMost { upper: None } => true,
                    _ => false,
                })
            }
            Column::Categorical { .. } => match feature.level(row) {
                None => missing(),
                Some(level) => self
                    .lookup
                    .get(level)
                    .copied()
                    .or_else(|| self.bins.iter().position(|b| b.rule == BinRule::Other)),
            },
        }
    }

    /// The WoE of row `row`: its bin's, or 0 (neutral) without a bin.
    pub fn woe_of(&self, feature: &Feature, row: usize) -> f64 {
        self.bin_of(feature, row).map_or(0.0, |b| self.bins[b].woe)
    }
}

fn numeric_groups(
    present: &[(f64, u8)],
    cfg: &BinningConfig,
    min_count: f64,
    total_events: f64,
    total_non: f64,
) -> (Vec<Group>, String) {
    let mut initial: Vec<Group> = Vec::new();
    let target_size = (present.len() as f64 / cfg.initial_bins as f64).max(1.0);
    let mut current = Group {
        count: 0.0,
        events: 0.0,
        upper: f64::NEG_INFINITY,
        levels: Vec::new(),
    };
    for (i, &(v, y)) in present.iter().enumerate() {
        current.count += 1.0;
        current.events += f64::from(y);
        current.upper = v;
        let boundary = present.get(i + 1).is_none_or(|next| next.0 != v);
        if boundary && current.count >= target_size {
            initial.push(std::mem::replace(
                &mut current,
                Group {
                    count: 0.0,
                    events: 0.0,
                    upper: f64::NEG_INFINITY,
                    levels: Vec::new(),
                },
            ));
        }
    }
    if current.count > 0.0 {
        initial.push(current);
    }
    if initial.len() < 2 {
        return (initial, "none".into());
    }
    // Direction: the sign of the count-weighted covariance of bin position
    // and event rate.
    let n: f64 = initial.iter().map(|g| g.count).sum();
    let mean_pos: f64 = initial
        .iter()
        .enumerate()
        .map(|(i, g)| i as f64 * g.count)
        .sum::<f64>()
        / n;
    let mean_rate: f64 = initial.iter().map(|g| g.events).sum::<f64>() / n;
    let cov: f64 = initial
        .iter()
        .enumerate()
        .map(|(i, g)| (i as f64 - mean_pos) * (g.rate() - mean_rate) * g.count)
        .sum();
    let mut monotonic = pool_adjacent(initial.clone(), cov >= 0.0);
    chi_merge(&mut monotonic, cfg, min_count);
    let mut free = initial;
    chi_merge(&mut free, cfg, min_count);
    let iv_mono = information_value(&monotonic, total_events, total_non);
    let iv_free = information_value(&free, total_events, total_non);
    let chosen = if iv_mono >= cfg.monotonic_keep * iv_free {
        monotonic
    } else {
        free
    };
    let trend = match is_monotonic(&chosen) {
        Some(true) if chosen.len() > 1 => "increasing",
        Some(false) if chosen.len() > 1 => "decreasing",
        _ => "none",
    };
    (chosen, trend.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn numeric(values: Vec<f64>) -> Feature {
        Feature {
            name: "x".into(),
            column: Column::Numeric(values),
        }
    }

    #[test]
    fn a_rising_risk_gets_monotonic_bins_with_rising_woe() {
        // Event probability rises with x: every 10th row below 500, every
        // 2nd above 800.
        let n = 2000;
        let values: Vec<f64> = (0..n).map(|i| f64::from(i % 1000)).collect();
        let target: Vec<u8> = (0..n)
            .map(|i| {
                let x = i % 1000;
                u8::from(if x < 500 {
                    i % 10 == 0
                } else if x < 800 {
                    i % 4 == 0
                } else {
                    i % 2 == 0
                })
            })
            .collect();
        let rows: Vec<usize> = (0..n as usize).collect();
        let b = FeatureBinning::fit(
            &numeric(values.clone()),
            &target,
            &rows,
            &BinningConfig::default(),
        );
        assert_eq!(b.trend, "increasing");
        assert!(b.bins.len() >= 2 && b.bins.len() <= 8, "{:?}", b.bins);
        assert!(b.bins.windows(2).all(|w| w[0].woe <= w[1].woe));
        assert!(b.iv > 0.1);
        assert_eq!(b.bins.iter().map(|x| x.count).sum::<u64>(), n as u64);
        // Every value lands in the bin its rule names.
        let f = numeric(values);
        assert_eq!(b.bin_of(&f, 0), Some(0));
        assert_eq!(b.bin_of(&f, 999), Some(b.bins.len() - 1));
    }

    #[test]
    fn an_inverted_u_keeps_its_shape() {
        // Risk peaks in the middle, like churn by age.
        let n = 3000usize;
        let values: Vec<f64> = (0..n).map(|i| (i % 60) as f64 + 20.0).collect();
        let target: Vec<u8> = (0..n)
            .map(|i| {
                let age = i % 60 + 20;
                u8::from(if (40..60).contains(&age) {
                    i % 2 == 0
                } else {
                    i % 12 == 0
                })
            })
            .collect();
        let rows: Vec<usize> = (0..n).collect();
        let b = FeatureBinning::fit(&numeric(values), &target, &rows, &BinningConfig::default());
        assert_eq!(b.trend, "none");
        let woes: Vec<f64> = b.bins.iter().map(|x| x.woe).collect();
        let peak = woes.iter().cloned().fold(f64::MIN, f64::max);
        assert!(woes[0] < peak && *woes.last().unwrap() < peak, "{woes:?}");
    }

    #[test]
    fn missing_and_unseen_categories() {
        let levels = vec!["a".to_string(), "b".into(), "c".into()];
        let codes: Vec<u32> = (0..600u32)
            .map(|i| if i % 50 == 0 { MISSING_LEVEL } else { i % 3 })
            .collect();
        let target: Vec<u8> = (0..600u32)
            .map(|i| u8::from(i % 3 == 2 && i % 4 != 0))
            .collect();
        let f = Feature {
            name: "c".into(),
            column: Column::Categorical { levels, codes },
        };
        let rows: Vec<usize> = (0..600).collect();
        let b = FeatureBinning::fit(&f, &target, &rows, &BinningConfig::default());
        assert!(b.bins.iter().any(|x| x.rule == BinRule::Missing));
        assert_eq!(
            b.bin_of(&f, 0),
            b.bins.iter().position(|x| x.rule == BinRule::Missing)
        );
        // "c" is the risky level and has a bin of its own with positive WoE.
        let c_bin = b.bin_of(&f, 2).unwrap();
        assert!(b.bins[c_bin].woe > 0.0);
        let unseen = Feature {
            name: "c".into(),
            column: Column::Categorical {
                levels: vec!["zzz".into()],
                codes: vec![0],
            },
        };
        assert_eq!(b.woe_of(&unseen, 0), 0.0);
    }
}
