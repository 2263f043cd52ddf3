//! Checks the default health scorecard's score against the synthetic bank's
//! planted trouble, and times it. (Taiwan and Berka: `rapport validate`.)
//!
//! ```text
//! # Synthetic bank: the score of customers in distress / attrition against the rest
//! cargo run --release -p rapport-analytics --example health_check -- synth sqlite:///tmp/synth.db 2025-01-01 /tmp/bank/ground_truth.csv [CARD.toml]
//! # Calibration: band recall by days since the planted trouble began, precision,
//! # ordinary customers kept healthy, every STEP days from FROM to TO (optionally
//! # with another scorecard file, e.g. the previous version)
//! cargo run --release -p rapport-analytics --example health_check -- leads sqlite:///tmp/synth.db /tmp/bank/ground_truth.csv 2023-09-01 2025-01-01 15 [CARD.toml]
//! # Taiwan card statements (the same figure as `rapport validate taiwan`), importing the file first
//! cargo run --release -p rapport-analytics --example health_check -- taiwan sqlite:///tmp/tw.db $DATA/taiwan_credit_default/UCI_Credit_Card.csv.gz [CARD.toml]
//! # Speed: score a random table of N customers × every catalogued feature
//! cargo run --release -p rapport-analytics --example health_check -- speed 1000000
//! ```
//! Reads outcomes with plain SQL (SQLite or PostgreSQL); never writes.

use chrono::NaiveDate;
use rapport_analytics::metrics::auc;
use rapport_analytics::{
    compute_features, Band, FeatureColumn, FeatureTable, HealthScore, Scorecard, FEATURES,
};
use rapport_store::Store;
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

type AnyResult<T> = Result<T, Box<dyn std::error::Error>>;

#[tokio::main]
async fn main() -> AnyResult<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let card = match args.as_slice() {
        ["leads", _, _, _, _, _, file] | ["taiwan", _, _, file] | ["synth", _, _, _, file] => {
            Scorecard::from_toml(&std::fs::read_to_string(file)?)?
        }
        _ => Scorecard::default_card(),
    };
    println!("scorecard {}", card.id());
    match args.as_slice() {
        ["synth", url, date, truth, ..] => synth(&card, url, parse_date(date)?, truth).await,
        ["leads", url, truth, from, to, step, ..] => {
            leads(&card, url, truth, parse_date(from)?, parse_date(to)?, step.parse()?).await
        }
        ["taiwan", url, file, ..] => taiwan(&card, url, file).await,
        ["speed", n] => speed(&card, n.parse()?),
        _ => Err("usage: health_check synth URL AS_OF GROUND_TRUTH.csv [CARD.toml] | leads URL GROUND_TRUTH.csv FROM TO STEP_DAYS [CARD.toml] | taiwan URL FILE [CARD.toml] | speed N".into()),
    }
}

fn parse_date(s: &str) -> AnyResult<NaiveDate> {
    Ok(NaiveDate::parse_from_str(s, "%Y-%m-%d")?)
}

fn print_distribution(scores: &[HealthScore]) {
    let mut bands: BTreeMap<Band, usize> = BTreeMap::new();
    for s in scores {
        *bands.entry(s.band).or_default() += 1;
    }
    let mean = scores.iter().map(|s| s.score).sum::<f64>() / scores.len().max(1) as f64;
    println!(
        "{} scored, mean score {mean:.1}, bands {bands:?}",
        scores.len()
    );
}

/// Synthetic bank: customers planted in distress or attrition (starting
/// before the as-of date) against everyone else.
async fn synth(card: &Scorecard, url: &str, as_of: NaiveDate, truth: &str) -> AnyResult<()> {
    let store = Store::connect(url).await?;
    let table = compute_features(&store, as_of).await?;
    let scores = card.score_table(&table);
    print_distribution(&scores);
    let mut fate: HashMap<String, (String, NaiveDate)> = HashMap::new();
    for record in csv::Reader::from_path(truth)?.records() {
        let record = record?;
        let (Some(key), Some(event), Some(start)) = (record.get(0), record.get(1), record.get(2))
        else {
            continue;
        };
        fate.insert(key.to_string(), (event.to_string(), parse_date(start)?));
    }
    for event in ["distress", "attrition"] {
        let mut pairs: Vec<(f64, bool)> = Vec::new();
        let (mut sum_event, mut n_event, mut sum_rest, mut n_rest) = (0.0, 0, 0.0, 0);
        for (key, s) in table.customer_keys.iter().zip(&scores) {
            let hit = match fate.get(key) {
                Some((e, start)) if e == event && *start < as_of => true,
                Some(_) => continue, // the other event, or not started yet
                None => false,
            };
            if hit {
                sum_event += s.score;
                n_event += 1;
            } else {
                sum_rest += s.score;
                n_rest += 1;
            }
            pairs.push((100.0 - s.score, hit));
        }
        println!(
            "{event}: {n_event} customers, mean score {:.1} against {:.1} for {n_rest} others; AUC {}",
            sum_event / f64::from(n_event.max(1)),
            sum_rest / f64::from(n_rest.max(1)),
            auc(&pairs).map_or("undefined".to_string(), |a| format!("{a:.4}"))
        );
    }
    store.close().await;
    Ok(())
}

/// Taiwan: imports the card statements into an empty store, scores every
/// customer as of 2005-10-01 and prints the AUC of 100 − score against
/// `default_next_month`.
async fn taiwan(card: &Scorecard, url: &str, file: &str) -> AnyResult<()> {
    let store = Store::connect(url).await?;
    if store
        .outcomes(rapport_ingest::DEFAULT_LABEL)
        .await?
        .is_empty()
    {
        rapport_ingest::import_card_statements(
            &store,
            std::path::Path::new(file),
            &Default::default(),
        )
        .await?;
    }
    let label: HashMap<i64, bool> = store
        .outcomes(rapport_ingest::DEFAULT_LABEL)
        .await?
        .into_iter()
        .map(|(c, v)| (c, v != 0))
        .collect();
    let as_of = NaiveDate::from_ymd_opt(2005, 10, 1).ok_or("date")?;
    let table = compute_features(&store, as_of).await?;
    let scores = card.score_table(&table);
    let pairs: Vec<(f64, bool)> = table
        .customer_ids
        .iter()
        .zip(&scores)
        .filter_map(|(id, s)| Some((100.0 - s.score, *label.get(id)?)))
        .collect();
    print_distribution(&scores);
    println!(
        "Taiwan: {} labelled customers, AUC {}",
        pairs.len(),
        auc(&pairs).map_or("undefined".to_string(), |a| format!("{a:.4}"))
    );
    store.close().await;
    Ok(())
}

/// The planted fates: customer key → (event, start).
fn read_truth(truth: &str) -> AnyResult<HashMap<String, (String, NaiveDate)>> {
    let mut fate = HashMap::new();
    for record in csv::Reader::from_path(truth)?.records() {
        let record = record?;
        if let (Some(key), Some(event), Some(start)) = (record.get(0), record.get(1), record.get(2))
        {
            fate.insert(key.to_string(), (event.to_string(), parse_date(start)?));
        }
    }
    Ok(fate)
}

/// Lead-time buckets, in days since the planted trouble began.
const LEAD_BUCKETS: [u32; 6] = [0, 30, 60, 90, 120, 150];

/// Calibration on the synthetic bank: scores every `step` days from `from`
/// to `to`, then per planted event the share of customer-dates out of the
/// healthy band by days since the event began (recall), the share of
/// out-of-healthy customer-dates whose trouble had begun (precision), the
/// share of ordinary customer-dates healthy, and the customers whose salary
/// stopped (salary in 4 of 6 months, none for over 45 days: the rule
/// `income_stopped`) while half their money left in 90 days.
async fn leads(
    card: &Scorecard,
    url: &str,
    truth: &str,
    from: NaiveDate,
    to: NaiveDate,
    step: u64,
) -> AnyResult<()> {
    let store = Store::connect(url).await?;
    let fate = read_truth(truth)?;
    // (event, bucket) → (out of healthy, customer-dates)
    let mut recall: BTreeMap<(String, u32), (u64, u64)> = BTreeMap::new();
    let (mut out, mut out_planted) = (0u64, 0u64);
    let (mut ordinary, mut ordinary_healthy) = (0u64, 0u64);
    let (mut stopped, mut stopped_out) = (0u64, 0u64);
    let mut as_of = from;
    while as_of <= to {
        let table = compute_features(&store, as_of).await?;
        let scores = card.score_table(&table);
        let get = |name: &str, row: usize| table.value(row, name);
        for (row, s) in scores.iter().enumerate() {
            let healthy = s.band == Band::Healthy;
            let key = &table.customer_keys[row];
            let begun = fate.get(key).filter(|(_, start)| *start < as_of);
            if !healthy {
                out += 1;
                out_planted += u64::from(begun.is_some());
            }
            match (fate.get(key), begun) {
                (None, _) => {
                    ordinary += 1;
                    ordinary_healthy += u64::from(healthy);
                }
                (Some(_), Some((event, start))) => {
                    let days = (as_of - *start).num_days() as u32;
                    let bucket = LEAD_BUCKETS
                        .iter()
                        .rev()
                        .find(|&&b| days >= b)
                        .copied()
                        .unwrap_or(0);
                    let e = recall.entry((event.clone(), bucket)).or_default();
                    e.0 += u64::from(!healthy);
                    e.1 += 1;
                    let salary_stopped = get("salary_months_6", row).unwrap_or(0.0) >= 4.0
                        && get("days_since_salary", row).is_some_and(|v| v > 45.0);
                    let net = get("outflow_90", row).unwrap_or(0.0)
                        - get("inflow_90", row).unwrap_or(0.0);
                    let left = get("balance_now", row).unwrap_or(0.0).max(0.0);
                    if salary_stopped && net > 0.0 && net >= 0.5 * (left + net) {
                        stopped += 1;
                        stopped_out += u64::from(!healthy);
                    }
                }
                (Some(_), None) => {}
            }
        }
        as_of = as_of
            .checked_add_days(chrono::Days::new(step))
            .ok_or("date out of range")?;
    }
    let pct = |a: u64, b: u64| 100.0 * a as f64 / b.max(1) as f64;
    println!("out of the healthy band (recall), by days since the planted trouble began:");
    for ((event, bucket), (o, n)) in &recall {
        println!(
            "  {event:<9} {bucket:>3}+ days: {:>5.1}% of {n}",
            pct(*o, *n)
        );
    }
    println!(
        "precision: {:.1}% of {out} out-of-healthy customer-dates had planted trouble under way",
        pct(out_planted, out)
    );
    println!(
        "ordinary customers healthy: {:.1}% of {ordinary}",
        pct(ordinary_healthy, ordinary)
    );
    println!(
        "salary stopped while half the money left: {:.1}% of {stopped} out of healthy",
        pct(stopped_out, stopped)
    );
    store.close().await;
    Ok(())
}

/// Scores a table of `n` customers × every catalogued feature (pseudo-random
/// values, about a tenth missing).
fn speed(card: &Scorecard, n: usize) -> AnyResult<()> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let columns: Vec<FeatureColumn> = FEATURES
        .iter()
        .map(|f| FeatureColumn {
            name: f.name.to_string(),
            values: (0..n)
                .map(|_| {
                    let r = next();
                    (r % 10 != 0).then(|| (r >> 11) as f64 / (1u64 << 53) as f64 * 120.0)
                })
                .collect(),
        })
        .collect();
    let table = FeatureTable {
        as_of: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default(),
        customer_ids: (1..=n as i64).collect(),
        customer_keys: (1..=n).map(|i| format!("C{i}")).collect(),
        columns,
    };
    let cpu0 = process_cpu_seconds();
    let t0 = Instant::now();
    let first = card.score_table(&table);
    let cpu = process_cpu_seconds().zip(cpu0).map(|(b, a)| b - a);
    println!(
        "first run (fresh memory): {:.3} s wall, {} s CPU",
        t0.elapsed().as_secs_f64(),
        cpu.map_or("?".to_string(), |c| format!("{c:.2}")),
    );
    drop(first);
    let cpu0 = process_cpu_seconds();
    let t0 = Instant::now();
    let scores = card.score_table(&table);
    let wall = t0.elapsed().as_secs_f64();
    let cpu = process_cpu_seconds().zip(cpu0).map(|(b, a)| b - a);
    println!(
        "scored {} customers × {} features in {wall:.3} s wall, {} s CPU ({} threads)",
        scores.len(),
        table.columns.len(),
        cpu.map_or("?".to_string(), |c| format!("{c:.2}")),
        rayon::current_num_threads()
    );
    print_distribution(&scores);
    Ok(())
}

/// User + system CPU time of this process so far (Linux `/proc/self/stat`,
/// 10 ms resolution); `None` elsewhere.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses): utime and stime are 14 and 15.
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}
