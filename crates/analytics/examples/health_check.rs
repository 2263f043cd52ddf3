//! Checks the default health scorecard against real outcomes, and times it.
//!
//! ```text
//! # Taiwan card statements: AUC of (100 - score) against default_next_month as of 2005-10-01
//! cargo run --release -p rapport-analytics --example health_check -- outcome sqlite:///tmp/tw.db 2005-10-01 default_next_month
//! # Berka: the score as of each loan's start (days past due left out: it is the label) against bad loans
//! cargo run --release -p rapport-analytics --example health_check -- berka sqlite:///tmp/berka.db
//! # Synthetic bank: the score of customers in distress / attrition against the rest
//! cargo run --release -p rapport-analytics --example health_check -- synth sqlite:///tmp/synth.db 2025-01-01 /tmp/bank/ground_truth.csv
//! # Speed: score a random table of N customers × every catalogued feature
//! cargo run --release -p rapport-analytics --example health_check -- speed 1000000
//! ```
//! Reads outcomes with plain SQL (SQLite or PostgreSQL); never writes.

use chrono::NaiveDate;
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
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["outcome", url, date, label] => outcome(&card, url, parse_date(date)?, label).await,
        ["berka", url] => berka(&card, url).await,
        ["synth", url, date, truth] => synth(&card, url, parse_date(date)?, truth).await,
        ["speed", n] => speed(&card, n.parse()?),
        _ => Err("usage: health_check outcome URL AS_OF LABEL | berka URL | synth URL AS_OF GROUND_TRUTH.csv | speed N".into()),
    }
}

fn parse_date(s: &str) -> AnyResult<NaiveDate> {
    Ok(NaiveDate::parse_from_str(s, "%Y-%m-%d")?)
}

/// Area under the ROC curve of `risk` (higher = riskier) against `bad`, ties counted half.
fn auc(pairs: &mut [(f64, bool)]) -> Option<f64> {
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let bad = pairs.iter().filter(|p| p.1).count() as f64;
    let good = pairs.len() as f64 - bad;
    if bad == 0.0 || good == 0.0 {
        return None;
    }
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < pairs.len() {
        let mut j = i;
        while j < pairs.len() && pairs[j].0 == pairs[i].0 {
            j += 1;
        }
        let mid_rank = (i + 1 + j) as f64 / 2.0;
        rank_sum += mid_rank * pairs[i..j].iter().filter(|p| p.1).count() as f64;
        i = j;
    }
    Some((rank_sum - bad * (bad + 1.0) / 2.0) / (bad * good))
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

async fn outcomes(store: &Store, label: &str) -> AnyResult<HashMap<i64, i64>> {
    let rows: Vec<(i64, i64)> = match store {
        Store::Sqlite(pool) => {
            sqlx::query_as("SELECT customer_id, value FROM outcome WHERE label = ?")
                .bind(label)
                .fetch_all(pool)
                .await?
        }
        Store::Postgres(pool) => {
            sqlx::query_as("SELECT customer_id, value::BIGINT FROM outcome WHERE label = $1")
                .bind(label)
                .fetch_all(pool)
                .await?
        }
    };
    Ok(rows.into_iter().collect())
}

async fn outcome(card: &Scorecard, url: &str, as_of: NaiveDate, label: &str) -> AnyResult<()> {
    let store = Store::connect(url).await?;
    let t0 = Instant::now();
    let table = compute_features(&store, as_of).await?;
    let t1 = Instant::now();
    let scores = card.score_table(&table);
    println!(
        "features {:.2} s, scoring {:.3} s",
        (t1 - t0).as_secs_f64(),
        t1.elapsed().as_secs_f64()
    );
    print_distribution(&scores);
    let labels = outcomes(&store, label).await?;
    let mut pairs: Vec<(f64, bool)> = table
        .customer_ids
        .iter()
        .zip(&scores)
        .filter_map(|(id, s)| labels.get(id).map(|&v| (100.0 - s.score, v != 0)))
        .collect();
    let bad = pairs.iter().filter(|p| p.1).count();
    println!(
        "{label}: {} customers with the label, {bad} positive",
        pairs.len()
    );
    match auc(&mut pairs) {
        Some(a) => println!("AUC of (100 - score) against {label}: {a:.4}"),
        None => println!("AUC undefined: one class only"),
    }
    // Each feature on its own, for the record (higher value = riskier, or the reverse).
    for name in card.features() {
        let Some(column) = table.column(name) else {
            continue;
        };
        let mut by_feature: Vec<(f64, bool)> = table
            .customer_ids
            .iter()
            .zip(column)
            .filter_map(|(id, v)| Some(((*v)?, *labels.get(id)? != 0)))
            .collect();
        if let Some(a) = auc(&mut by_feature) {
            println!(
                "  {name}: known for {}, AUC as risk {a:.3}",
                by_feature.len()
            );
        }
    }
    let mut factor_counts: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &scores {
        if let Some(f) = s.factors.first() {
            *factor_counts.entry(&*f.component).or_default() += 1;
        }
    }
    println!("top factor by component: {factor_counts:?}");
    if let Some(s) = scores.iter().find(|s| s.band == Band::AtRisk) {
        println!("an at-risk example: {}", serde_json::to_string(s)?);
    }
    store.close().await;
    Ok(())
}

/// Berka: as of each loan's grant date, the borrower's score (without
/// `max_days_past_due`, which holds the loan's own recorded status) against
/// the loan's outcome.
async fn berka(card: &Scorecard, url: &str) -> AnyResult<()> {
    let store = Store::connect(url).await?;
    let loans: Vec<(i64, String, String)> = match &store {
        Store::Sqlite(pool) => {
            sqlx::query_as("SELECT customer_id, granted_on, outcome FROM loan")
                .fetch_all(pool)
                .await?
        }
        Store::Postgres(pool) => {
            sqlx::query_as("SELECT customer_id, granted_on::TEXT, outcome FROM loan")
                .fetch_all(pool)
                .await?
        }
    };
    let mut by_date: BTreeMap<NaiveDate, Vec<(i64, bool)>> = BTreeMap::new();
    for (customer, granted, outcome) in loans {
        by_date
            .entry(parse_date(&granted)?)
            .or_default()
            .push((customer, outcome == "bad"));
    }
    let t0 = Instant::now();
    let mut pairs = Vec::new();
    let mut scores = Vec::new();
    for (date, borrowers) in &by_date {
        let mut table = compute_features(&store, *date).await?;
        table.columns.retain(|c| c.name != "max_days_past_due");
        for (customer, bad) in borrowers {
            if let Some(row) = table.row_of_id(*customer) {
                let s = card.score_row(&table, row);
                pairs.push((100.0 - s.score, *bad));
                scores.push(s);
            }
        }
    }
    println!(
        "{} loans on {} grant dates in {:.1} s",
        pairs.len(),
        by_date.len(),
        t0.elapsed().as_secs_f64()
    );
    print_distribution(&scores);
    let bad = pairs.iter().filter(|p| p.1).count();
    match auc(&mut pairs) {
        Some(a) => {
            println!("AUC of (100 - score at loan start) against bad loans ({bad} bad): {a:.4}")
        }
        None => println!("AUC undefined: one class only"),
    }
    store.close().await;
    Ok(())
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
            auc(&mut pairs).map_or("undefined".to_string(), |a| format!("{a:.4}"))
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
