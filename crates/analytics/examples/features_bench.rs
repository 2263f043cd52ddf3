//! Times the feature stage on an existing store, optionally reading the
//! transactions from a columnar copy.
//!
//! ```text
//! cargo run --release -p rapport-analytics --example features_bench -- \
//!     sqlite:///tmp/f.db 2025-01-01 [OUT.csv] [--copy DIR [--runs N] [--check]]
//! ```
//! `--copy DIR`: transactions from the columnar copy in DIR (which must be
//! current with the store: `rapport analytics rebuild`), timed `--runs`
//! times; `--check`: also from the store, and the two tables compared
//! bitwise. Phase timings are logged with `RUST_LOG=info`.

use chrono::NaiveDate;
use rapport_analytics::columnar::{CustomerMap, Manifest};
use rapport_analytics::{ColumnarSource, FeatureEngine};
use rapport_store::Store;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let mut positional = Vec::new();
    let (mut copy, mut runs, mut check) = (None, 1usize, false);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--copy" => copy = Some(PathBuf::from(args.next().ok_or("--copy needs a DIR")?)),
            "--runs" => runs = args.next().ok_or("--runs needs N")?.parse()?,
            "--check" => check = true,
            _ => positional.push(a),
        }
    }
    let mut positional = positional.into_iter();
    let (Some(url), Some(date)) = (positional.next(), positional.next()) else {
        return Err(
            "usage: features_bench DATABASE_URL AS_OF_DATE [OUT.csv] [--copy DIR [--runs N] [--check]]"
                .into(),
        );
    };
    let as_of = NaiveDate::parse_from_str(&date, "%Y-%m-%d")?;
    let store = Store::connect(&url).await?;
    let counts = store.counts().await?;
    let source = match &copy {
        Some(dir) => {
            let manifest = Manifest::load(dir)?.ok_or("no columnar copy there")?;
            Some(Arc::new(ColumnarSource {
                dir: dir.clone(),
                manifest,
                customers: CustomerMap::load(dir)?,
            }))
        }
        None => None,
    };
    let from = if copy.is_some() {
        "the columnar copy"
    } else {
        "the store"
    };
    let mut table = None;
    for _ in 0..runs.max(1) {
        let t0 = Instant::now();
        let t = FeatureEngine::new(&store)
            .with_columnar(source.clone())
            .compute(as_of)
            .await?;
        let secs = t0.elapsed().as_secs_f64();
        println!(
            "features as of {as_of} from {from}: {} customers, {} transactions in the store, {} features, {secs:.3} s ({:.0} transactions/s)",
            t.len(),
            counts.transactions,
            t.columns.len(),
            counts.transactions as f64 / secs
        );
        table = Some(t);
    }
    let table = table.ok_or("no run")?;
    if check && copy.is_some() {
        let t0 = Instant::now();
        let reference = FeatureEngine::new(&store).compute(as_of).await?;
        let differences = table.differences(&reference);
        println!(
            "from the store: {:.3} s; {} differences from the copy's",
            t0.elapsed().as_secs_f64(),
            differences.len()
        );
        for d in differences.iter().take(20) {
            println!("  {d}");
        }
        if !differences.is_empty() {
            return Err("the copy's features differ from the store's".into());
        }
    }
    if let Some(out) = positional.next() {
        let t1 = Instant::now();
        let rows = table.write_csv(std::io::BufWriter::new(std::fs::File::create(&out)?))?;
        println!(
            "wrote {rows} rows to {out} in {:.3} s",
            t1.elapsed().as_secs_f64()
        );
    }
    store.close().await;
    Ok(())
}
