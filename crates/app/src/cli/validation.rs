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

use crate::output::emit;
use anyhow::{bail, Context, Result};
use chrono::{Datelike, NaiveDate};
use rapport_analytics::metrics::auc;
use rapport_services::config::Config;
use rapport_services::import::open;
use rapport_services::scoring::{features, score_health, ScoringOptions};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

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
    // Each scorecard feature on its own (higher value = riskier), for the record.
    let mut by_feature: Vec<(String, u64, f64)> = Vec::new();
    for name in rapport_analytics::Scorecard::default_card().features() {
        let Some(column) = table.column(name) else {
            continue;
        };
        let known: Vec<(f64, bool)> = table
            .customer_ids
            .iter()
            .zip(column)
            .filter_map(|(id, v)| Some(((*v)?, *label.get(id)?)))
            .collect();
        if let Some(f) = auc(&known) {
            by_feature.push((name.to_string(), known.len() as u64, f));
        }
    }
    let out = json!({ "check": "taiwan", "as_of": as_of, "scorecard": card, "customers": pairs.len(), "defaults": bands.iter().filter(|b| b.1).count(), "auc": a, "bands": rates, "feature_auc": by_feature });
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
        s.push_str("  each feature alone (higher = riskier): customers known, AUC\n");
        for (name, n, f) in &by_feature {
            s.push_str(&format!("    {name:<24} {n:>7} {f:.3}\n"));
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

/// Days from a planted event's start to the trouble it leads to, as the
/// generator plants it: distress (income falls, then stops 30–75 days in,
/// buffers run out) shows as missed payments about four months in;
/// attrition ends with every account closed 25–75 days in.
fn outcome_offset(event: &str) -> i64 {
    match event {
        "distress" => 120,
        _ => 75,
    }
}

/// Alerts earlier than this before an event's start are not about it.
const EARLY_TOLERANCE_DAYS: i64 = 30;

/// One planted event of the generator's ground truth.
struct Planted {
    event: String,
    start: NaiveDate,
}

fn read_ground_truth(path: &std::path::Path) -> Result<Vec<(String, Planted)>> {
    let mut r = csv::Reader::from_path(path)
        .with_context(|| format!("reading the ground truth {}", path.display()))?;
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: row {}", path.display(), i + 2))?;
        let (Some(key), Some(event), Some(start)) = (rec.get(0), rec.get(1), rec.get(2)) else {
            bail!(
                "{}: row {}: expected customer_key,event,start_date",
                path.display(),
                i + 2
            );
        };
        let start = NaiveDate::parse_from_str(start, "%Y-%m-%d").with_context(|| {
            format!(
                "{}: row {}, field start_date: {start:?} is not a date",
                path.display(),
                i + 2
            )
        })?;
        out.push((
            key.to_string(),
            Planted {
                event: event.to_string(),
                start,
            },
        ));
    }
    Ok(out)
}

/// Per-rule precision of the synthetic check.
#[derive(Debug, Clone, Serialize)]
pub struct RulePrecision {
    pub rule: String,
    pub alerts: u64,
    pub on_troubled: u64,
    pub precision: f64,
}

fn median(v: &mut [i64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2] as f64
    } else {
        (v[n / 2 - 1] + v[n / 2]) as f64 / 2.0
    })
}

/// Synthetic: scoring runs every `every` days over [from, to) on a store
/// loaded with a generated bank, then the stored alerts against the
/// planted ground truth.
pub async fn synthetic(cfg: &Config, json: bool, args: &crate::cli::SyntheticArgs) -> Result<()> {
    let date = |s: &str| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .with_context(|| format!("{s:?}: expected a date as YYYY-MM-DD"))
    };
    let (from, to, every) = (date(&args.from)?, date(&args.to)?, args.every);
    let (source, evaluate_only, exclude_rules) = (
        args.source.as_str(),
        args.evaluate_only,
        &args.exclude_rules,
    );
    let ground_truth = args.ground_truth.as_path();
    if from >= to || every == 0 {
        bail!("need --from before --to and --every of at least 1 day");
    }
    let planted = read_ground_truth(ground_truth)?;
    let store = open(&cfg.database.url).await?;
    let ids: HashMap<String, i64> = store
        .customer_ids_of_source(source)
        .await?
        .into_iter()
        .collect();
    if ids.is_empty() {
        bail!("no customers of source {source:?}: load the generated bank first (rapport import dir BANK --source {source})");
    }
    let mut events: HashMap<i64, Planted> = HashMap::new();
    let mut unknown = 0u64;
    for (key, p) in planted {
        match ids.get(&key) {
            Some(&id) => {
                events.insert(id, p);
            }
            None => unknown += 1,
        }
    }
    let started = std::time::Instant::now();
    let mut runs = 0u64;
    let mut day = from;
    while day < to && !evaluate_only {
        // Loan arrears in the extract describe its last day: not visible before it.
        let opts = ScoringOptions {
            extract_date: Some(to),
            ..ScoringOptions::default()
        };
        rapport_services::scoring::run_scoring(&store, day, &opts).await?;
        runs += 1;
        day = day
            .checked_add_days(chrono::Days::new(u64::from(every)))
            .context("date out of range")?;
    }
    let scoring_secs = started.elapsed().as_secs_f64();
    let facts = store.alert_facts().await?;
    store.close().await;

    // Customers whose trouble started before the window are neither counted nor held against the rules.
    let in_window = |p: &Planted| p.start >= from && p.start < to;
    let already = |c: i64| events.get(&c).is_some_and(|p| p.start < from);
    let related = |c: i64, on: NaiveDate| {
        events
            .get(&c)
            .is_some_and(|p| in_window(p) && (on - p.start).num_days() >= -EARLY_TOLERANCE_DAYS)
    };
    // Facts come oldest first, so the first counted alert of a customer is kept.
    let mut first_alert: HashMap<i64, (NaiveDate, String)> = HashMap::new();
    let mut alerted: HashMap<i64, bool> = HashMap::new();
    let mut by_rule: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (c, rule, on) in &facts {
        if *on < from || *on >= to || already(*c) || exclude_rules.contains(rule) {
            continue;
        }
        let ok = related(*c, *on);
        let e = by_rule.entry(rule.clone()).or_default();
        e.0 += 1;
        e.1 += u64::from(ok);
        let a = alerted.entry(*c).or_insert(false);
        *a |= ok;
        if ok {
            first_alert.entry(*c).or_insert((*on, rule.clone()));
        }
    }
    let alerted_customers = alerted.len() as u64;
    let true_customers = alerted.values().filter(|v| **v).count() as u64;
    let precision = if alerted_customers == 0 {
        0.0
    } else {
        true_customers as f64 / alerted_customers as f64
    };
    let mut report_events = Vec::new();
    for event in ["distress", "attrition"] {
        let positives: Vec<(&i64, &Planted)> = events
            .iter()
            .filter(|(_, p)| p.event == event && in_window(p))
            .collect();
        let mut leads = Vec::new();
        let mut delays = Vec::new();
        let mut in_time = 0u64;
        let mut detected = 0u64;
        let mut first_rules: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
        for (c, p) in &positives {
            if let Some((first, rule)) = first_alert.get(c) {
                detected += 1;
                first_rules
                    .entry(rule.as_str())
                    .or_default()
                    .push((*first - p.start).num_days());
                let outcome = p.start + chrono::Duration::days(outcome_offset(&p.event));
                let lead = (outcome - *first).num_days();
                if lead >= 0 {
                    in_time += 1;
                }
                leads.push(lead);
                delays.push((*first - p.start).num_days());
            }
        }
        let first_rules: Vec<serde_json::Value> = first_rules
            .into_iter()
            .map(|(rule, mut days)| {
                json!({ "rule": rule, "customers": days.len(), "median_days_after_start": median(&mut days) })
            })
            .collect();
        let n = positives.len() as f64;
        report_events.push(json!({
            "event": event,
            "planted": positives.len(),
            "detected": detected,
            "recall": if n > 0.0 { detected as f64 / n } else { 0.0 },
            "detected_before_outcome": in_time,
            "recall_before_outcome": if n > 0.0 { in_time as f64 / n } else { 0.0 },
            "median_lead_days": median(&mut leads),
            "median_days_after_start": median(&mut delays),
            "outcome_offset_days": outcome_offset(event),
            "first_alert_rules": first_rules,
        }));
    }
    let rules: Vec<RulePrecision> = by_rule
        .into_iter()
        .map(|(rule, (n, ok))| RulePrecision {
            rule,
            alerts: n,
            on_troubled: ok,
            precision: if n == 0 { 0.0 } else { ok as f64 / n as f64 },
        })
        .collect();
    let out = json!({
        "check": "synthetic", "from": from, "to": to, "every_days": every, "runs": runs,
        "scoring_seconds": scoring_secs, "customers": ids.len(), "ground_truth_unknown_keys": unknown,
        "alerted_customers": alerted_customers, "alerted_in_trouble": true_customers,
        "precision": precision, "excluded_rules": exclude_rules, "events": report_events, "rules": rules,
    });
    emit(json, &out, || {
        let mut s = format!(
            "synthetic bank: {runs} scoring runs every {every} day(s) over [{from}, {to}) in {scoring_secs:.0}s; rules left out: {exclude_rules:?}\n\
             customers alerted: {alerted_customers}, of whom in planted trouble: {true_customers} (precision {:.3})\n",
            precision
        );
        for e in &report_events {
            s.push_str(&format!(
                "  {:<9} planted {:>5}  detected {:>5} (recall {:.3})  before the outcome {:>5} (recall {:.3})  median lead {} days, median {} days after the start\n",
                e["event"].as_str().unwrap_or(""),
                e["planted"], e["detected"],
                e["recall"].as_f64().unwrap_or(0.0),
                e["detected_before_outcome"],
                e["recall_before_outcome"].as_f64().unwrap_or(0.0),
                e["median_lead_days"], e["median_days_after_start"],
            ));
            for f in e["first_alert_rules"].as_array().into_iter().flatten() {
                s.push_str(&format!(
                    "      first alert {:<24} {:>5} customers, median {} days after the start\n",
                    f["rule"].as_str().unwrap_or(""),
                    f["customers"],
                    f["median_days_after_start"]
                ));
            }
        }
        s.push_str("  rule                           alerts  on troubled  precision\n");
        for r in &rules {
            s.push_str(&format!(
                "  {:<30} {:>6} {:>12} {:>10.3}\n",
                r.rule, r.alerts, r.on_troubled, r.precision
            ));
        }
        s
    })
}
