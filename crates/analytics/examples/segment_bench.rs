//! Times the segmentation of a synthetic portfolio with the shipped
//! configuration (tiers, k chosen by silhouette in 2..=8 on the eight default
//! features, the shipped rule segments).
//!
//! `cargo run --release -p rapport-analytics --example segment_bench -- 1000000`

use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rapport_analytics::segment::{assign, ClusteringOutcome};
use rapport_analytics::{Band, FeatureColumn, FeatureTable, SegmentConfig, SegmentInput};
use std::time::Instant;

/// Five customer types, each a centre per feature (in the config's order:
/// balance, monthly inflow, txns in 90 days, digital share, age, products,
/// utilisation, tenure); values are drawn around them.
const TYPES: [[f64; 8]; 5] = [
    [3_000.0, 6_000.0, 120.0, 0.9, 27.0, 2.0, 0.6, 24.0],
    [80_000.0, 25_000.0, 60.0, 0.5, 45.0, 4.0, 0.2, 120.0],
    [20_000.0, 3_000.0, 15.0, 0.1, 68.0, 1.0, 0.05, 300.0],
    [500.0, 2_000.0, 40.0, 0.6, 35.0, 3.0, 0.95, 48.0],
    [2_000_000.0, 150_000.0, 30.0, 0.4, 55.0, 6.0, 0.1, 200.0],
];
const FEATURES: [&str; 8] = [
    "balance_now",
    "avg_monthly_inflow_6m",
    "txn_count_90",
    "digital_share_90",
    "age_years",
    "product_depth",
    "credit_utilisation",
    "tenure_months",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut columns: Vec<Vec<Option<f64>>> = (0..9).map(|_| Vec::with_capacity(rows)).collect();
    for _ in 0..rows {
        let centre = TYPES[rng.random_range(0..TYPES.len())];
        for (j, c) in centre.iter().enumerate() {
            let v = c * rng.random_range(0.6..1.4);
            let v = if j == 3 || j == 6 {
                v.min(1.0)
            } else {
                v.round()
            };
            columns[j].push((rng.random::<f64>() > 0.03).then_some(v));
        }
        let balance = columns[0].last().copied().flatten().unwrap_or(0.0);
        columns[8].push(Some(balance * rng.random_range(1.0..3.0)));
    }
    let names = FEATURES.iter().copied().chain([
        "aum",
        "salary_months_6",
        "liquidity_months",
        "max_days_past_due",
    ]);
    let mut columns: Vec<FeatureColumn> = names
        .zip(
            columns
                .into_iter()
                .chain(std::iter::repeat_with(|| vec![Some(0.0); rows])),
        )
        .map(|(name, values)| FeatureColumn {
            name: name.to_string(),
            values,
        })
        .collect();
    columns.truncate(12);
    let table = FeatureTable {
        as_of: NaiveDate::from_ymd_opt(2025, 6, 30).unwrap_or_default(),
        customer_ids: (1..=rows as i64).collect(),
        customer_keys: vec![String::new(); rows],
        columns,
    };
    let mut input = SegmentInput::without_health(&table);
    input.scores = (0..rows).map(|i| Some((i % 100) as f64)).collect();
    input.bands = (0..rows).map(|i| Some(Band::ALL[i % 3])).collect();

    let config = SegmentConfig::default_config();
    let started = Instant::now();
    let segmentation = assign(&config, &input)?;
    let elapsed = started.elapsed();
    println!(
        "{rows} rows x {} clustering features on {} threads: {:.2} s",
        config.clustering.features.len(),
        rayon::current_num_threads(),
        elapsed.as_secs_f64()
    );
    if let ClusteringOutcome::Done(summary) = &segmentation.clustering {
        println!(
            "k = {} (silhouettes {:?}), {} refinement passes, converged: {}",
            summary.k, summary.silhouettes, summary.iterations, summary.converged
        );
    }
    for s in &segmentation.segments {
        println!("{:<28} {:>9}  {}", s.code, s.kpis.count, s.description);
    }
    Ok(())
}
