//! Checks the default health scorecard's score against the synthetic bank's
//! planted trouble, and times it. (Taiwan and Berka: `rapport validate`.)
//!
//! ```text
//! # Synthetic bank: the score of customers in distress / attrition against the rest
//! cargo run --release -p rapport-analytics --example health_check -- synth sqlite:///tmp/synth.db 2025-01-01 /tmp/bank/ground_truth.csv
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
    let card = Scorecard::default_card();
    println!("scorecard {}", card.id());
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["synth", url, date, truth] => synth(&card, url, parse_date(date)?, truth).await,
        ["speed", n] => speed(&card, n.parse()?),
        _ => Err("usage: health_check synth URL AS_OF GROUND_TRUTH.csv | speed N".into()),
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
