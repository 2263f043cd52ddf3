//! Measures the synthetic bank generator.
//!
//! `cargo run --release -p rapport-ingest --example gen_bench -- CUSTOMERS [OUT_DIR] [SEED]`
//!
//! Prints customers, transactions, seconds, rows per second and peak RSS
//! (VmHWM from /proc/self/status). OUT_DIR defaults to a fresh directory
//! under the system temp directory, which is removed afterwards unless
//! `KEEP=1` is set.
//!
//! Measured (release, 2 vCPU AMD EPYC, ext4 disk writing ~200 MB/s, default
//! window 2023-01-01..2025-01-01, seed 42):
//!
//! | customers | transactions | all rows | seconds | txn rows/s | peak RSS | bytes |
//! |---|---|---|---|---|---|---|
//! | 100,000 | 10,246,177 | 11,926,021 | 3.9 | 2.66 M | 94 MiB | 0.97 GB |
//! | 1,000,000 | 102,535,868 | 119,355,047 | 61.8 | 1.66 M | 143 MiB | 9.75 GB |
//!
//! At a million customers the run is bound by the disk (≈160 MB/s sustained,
//! 125 % CPU of 200 %); memory stays flat apart from the ID-number register
//! (≈16 bytes per customer).
//!
//! The table predates the planted dirt and the CRM extract (`crm/`). They add
//! rows and bytes (100,000 customers: 12,019,752 rows, 0.98 GB; transactions
//! unchanged) and about 6 % more CPU: 881 M → 931 M instructions for 3,000
//! customers under valgrind, the same cache misses. On a shared 2-vCPU machine
//! (load ≈ 4 from other jobs) 100,000 customers took 7.1 s before and 7.8 s
//! after at best, 9.0 s and 10.5 s median over 8 alternating runs each.

use rapport_ingest::synth::{generate, GenConfig};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let customers: u64 = args.next().as_deref().unwrap_or("100000").parse()?;
    let given_dir = args.next().map(PathBuf::from);
    let seed: u64 = args.next().as_deref().unwrap_or("42").parse()?;
    let dir = given_dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("rapport-gen-bench-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir)?;

    let cfg = GenConfig {
        customers,
        seed,
        ..GenConfig::default()
    };
    let last = AtomicU64::new(0);
    let step = (customers / 10).max(1);
    let summary = generate(&cfg, &dir, &|done| {
        if done / step > last.load(Ordering::Relaxed) / step || done == customers {
            eprintln!("  {done} customers");
        }
        last.store(done, Ordering::Relaxed);
    })?;

    let rows: u64 = summary.files.iter().map(|f| f.2).sum();
    let bytes: u64 = summary
        .files
        .iter()
        .filter_map(|f| std::fs::metadata(&f.1).ok())
        .map(|m| m.len())
        .sum();
    let secs = summary.elapsed_secs;
    println!("customers      {}", summary.customers);
    println!("transactions   {}", summary.transactions);
    println!("all rows       {rows}");
    println!("distressed     {}", summary.distressed);
    println!("churned        {}", summary.churned);
    println!("flagged fields {}", summary.flagged_fields);
    println!("quarantine     {} rows planted", summary.quarantine_rows);
    println!("reformatted    {} rows", summary.reformatted_rows);
    println!(
        "crm customers  {} ({} expected merges)",
        summary.crm_customers, summary.expected_merges
    );
    println!("seconds        {secs:.2}");
    println!("txn rows/s     {:.0}", summary.transactions as f64 / secs);
    println!("all rows/s     {:.0}", rows as f64 / secs);
    println!("bytes written  {bytes} ({:.2} GB)", bytes as f64 / 1e9);
    println!(
        "threads        {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    match peak_rss_kib() {
        Some(k) => println!("peak RSS       {:.1} MiB", k as f64 / 1024.0),
        None => println!("peak RSS       unknown"),
    }
    for (kind, path, n) in &summary.files {
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        println!("  {kind:<18} {n:>12} rows {:>10.1} MB", size as f64 / 1e6);
    }
    if given_dir.is_none() && std::env::var_os("KEEP").is_none() {
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(())
}
