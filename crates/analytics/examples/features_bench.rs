//! Times `compute_features` on an existing store.
//!
//! ```text
//! cargo run --release -p rapport-analytics --example features_bench -- \
//!     sqlite:///tmp/f.db 2025-01-01 [OUT.csv]
//! ```
//! Phase timings are logged with `RUST_LOG=info`.

use chrono::NaiveDate;
use rapport_analytics::compute_features;
use rapport_store::Store;
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(date)) = (args.next(), args.next()) else {
        return Err("usage: features_bench DATABASE_URL AS_OF_DATE [OUT.csv]".into());
    };
    let as_of = NaiveDate::parse_from_str(&date, "%Y-%m-%d")?;
    let store = Store::connect(&url).await?;
    let counts = store.counts().await?;
    let t0 = Instant::now();
    let table = compute_features(&store, as_of).await?;
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "compute_features as of {as_of}: {} customers, {} transactions in the store, {} features, {secs:.3} s ({:.0} transactions/s)",
        table.len(),
        counts.transactions,
        table.columns.len(),
        counts.transactions as f64 / secs
    );
    if let Some(out) = args.next() {
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
