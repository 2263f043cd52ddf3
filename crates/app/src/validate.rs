//! `rapport validate`: does the health score predict real trouble? Three
//! checks on labelled data, each printing its figures (docs/VALIDATION.md
//! records them with the commands):
//!
//! * `taiwan`: the untrained scorecard's ranking of next-month card defaults
//!   (AUC of 100 − score), scored as of 2005-10-01 on a store loaded with the
//!   Taiwan statements; default rate per band.
//! * `berka`: the score of each loan's owner at the loan's start (as of the
//!   first day of the month it was granted, the loan itself not yet visible)
//!   against bad loans (status B or D).
//! * `synthetic`: early-warning alerts of scheduled scoring runs over a
//!   generated bank against its planted ground truth: precision, recall and
//!   median lead time.
//!
//! Labels are read here and only here; they never reach a feature.

use crate::commands::open;
use crate::config::Config;
use crate::output::emit;
use crate::scoring::{features, score_health, ScoringOptions};
use anyhow::{bail, Context, Result};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

/// Area under the ROC curve of `risk` for `bad` (Mann–Whitney, ties count
/// half); `None` unless both classes are present.
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

/// Bad rate per band.
#[derive(Debug, Clone, Serialize)]
pub struct BandRate {
    pub band: String,
    pub customers: u64,
    pub bad: u64,
    pub bad_rate: f64,
}

fn band_rates(rows: &[(String, bool)]) -> Vec<BandRate> {
    let mut by: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (band, bad) in rows {
        let e = by.entry(band.clone()).or_default();
        e.0 += 1;
        e.1 += u64::from(*bad);
    }
    by.into_iter()
        .map(|(band, (n, b))| BandRate {
            band,
            customers: n,
            bad: b,
            bad_rate: if n == 0 { 0.0 } else { b as f64 / n as f64 },
        })
        .collect()
}

/// Taiwan: every labelled customer scored as of 2005-10-01.
pub async fn taiwan(cfg: &Config, json: bool) -> Result<()> {
    let store = open(&cfg.database.url).await?;
    let as_of = NaiveDate::from_ymd_opt(2005, 10, 1).context("date")?;
    let labels = store.outcomes("default_next_month").await?;
    if labels.is_empty() {
        bail!("no default_next_month outcomes: load the Taiwan file with `rapport import card-statements FILE` first");
    }
    let table = features(&store, as_of, &ScoringOptions::default()).await?;
    store.close().await;
    let (card, scores) = score_health(&table)?;
    let label: HashMap<i64, bool> = labels.into_iter().map(|(c, v)| (c, v != 0)).collect();
    let mut pairs = Vec::new();
    let mut bands = Vec::new();
    for (row, id) in table.customer_ids.iter().enumerate() {
        if let (Some(&bad), Some(s)) = (label.get(id), scores.get(row)) {
            pairs.push((100.0 - s.score, bad));
            bands.push((s.band.as_str().to_string(), bad));
        }
    }
    let a = auc(&pairs);
    let rates = band_rates(&bands);
    let out = json!({ "check": "taiwan", "as_of": as_of, "scorecard": card, "customers": pairs.len(), "defaults": bands.iter().filter(|b| b.1).count(), "auc": a, "bands": rates });
    emit(json, &out, || {
        let mut s = format!(
            "Taiwan card defaults, untrained scorecard {card}, as of {as_of}: {} customers, AUC {}\n",
            pairs.len(),
            a.map_or("n/a".into(), |v| format!("{v:.4}"))
        );
        for r in &rates {
            s.push_str(&format!(
                "  {:<8} {:>7} customers {:>6} defaults ({:.1}%)\n",
                r.band,
                r.customers,
                r.bad,
                r.bad_rate * 100.0
            ));
        }
        s
    })
}

/// Berka: each loan's owner scored as of the first day of the loan's month.
pub async fn berka(cfg: &Config, json: bool) -> Result<()> {
    let store = open(&cfg.database.url).await?;
    let loans = store.loan_outcomes().await?;
    if loans.is_empty() {
        bail!("no loans in the store: load Berka with `rapport import berka DIR` first");
    }
    let mut by_month: BTreeMap<NaiveDate, Vec<(i64, bool)>> = BTreeMap::new();
    for (c, granted, outcome) in &loans {
        let month = granted.with_day(1).context("date")?;
        by_month
            .entry(month)
            .or_default()
            .push((*c, outcome == "bad"));
    }
    let mut pairs = Vec::new();
    let mut bands = Vec::new();
    let mut card = String::new();
    for (as_of, month_loans) in &by_month {
        let table = features(&store, *as_of, &ScoringOptions::default()).await?;
        let (id, scores) = score_health(&table)?;
        card = id;
        for (c, bad) in month_loans {
            let Some(row) = table.row_of_id(*c) else {
                continue;
            };
            if let Some(s) = scores.get(row) {
                pairs.push((100.0 - s.score, *bad));
                bands.push((s.band.as_str().to_string(), *bad));
            }
        }
    }
    store.close().await;
    let a = auc(&pairs);
    let rates = band_rates(&bands);
    let out = json!({ "check": "berka", "scorecard": card, "loans": pairs.len(), "bad": bands.iter().filter(|b| b.1).count(), "as_of_dates": by_month.len(), "auc": a, "bands": rates });
    emit(json, &out, || {
        let mut s = format!(
            "Berka loans, score of the owner at the loan's start ({} monthly as-of dates), scorecard {card}: {} loans, AUC {}\n",
            by_month.len(),
            pairs.len(),
            a.map_or("n/a".into(), |v| format!("{v:.4}"))
        );
        for r in &rates {
            s.push_str(&format!(
                "  {:<8} {:>7} loans {:>6} bad ({:.1}%)\n",
                r.band,
                r.customers,
                r.bad,
                r.bad_rate * 100.0
            ));
        }
        s
    })
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
    }
}
