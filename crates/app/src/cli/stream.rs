//! `rapport stream`: the live early-warning path until the API takes
//! transactions. Reads NDJSON transactions on stdin, feeds each to the
//! `LiveEngine`, stores every alert it raises (origin `live`) and writes it
//! as one NDJSON line on stdout; at the end prints throughput and alert
//! latency (p50/p99) on stderr.
//!
//! Each transaction is stored once per (source, source_key) (`live_txn`)
//! before the engine sees it: a transaction fed again is reported on stderr
//! as a duplicate, counted, and changes nothing. A bad line (not UTF-8 among
//! them) is reported on stderr with its line number and field, counted and
//! skipped: never a crash. Never runs daily rules. At the end one audit
//! entry (`transactions.feed`, actor `--actor` or `system:stream`) records
//! the counts.

use anyhow::{Context, Result};
use clap::Args;
use rapport_analytics::alerts::RuleSet;
use rapport_services::access::{Actor, Permission};
use rapport_services::audit::entry_for;
use rapport_services::config::Config;
use rapport_services::error::ServiceError;
use rapport_services::import::open;
use rapport_services::live_feed::{feed_line, warm_up, LineOutcome, LiveState};
use rapport_services::scoring::{resolve_as_of, ScoringOptions};
use rapport_store::Store;
use serde_json::json;
use std::io::BufRead;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct StreamArgs {
    /// The state the stream starts from: every transaction booked before
    /// this date (default: the day after the latest stored transaction).
    #[arg(long)]
    pub as_of: Option<String>,
    /// A rules file (TOML) instead of the built-in pack; its transaction rules run.
    #[arg(long)]
    pub rules: Option<PathBuf>,
}

pub async fn run(cfg: &Config, json: bool, actor: Option<&str>, args: StreamArgs) -> Result<()> {
    let store = open(&cfg.database.url).await?;
    let result = async {
        let actor = match actor {
            Some(_) => crate::cli::acting(&store, actor).await?,
            None => Actor::system("stream"),
        };
        // The same right as `POST /api/v1/transactions`.
        actor
            .require(Permission::FeedTransactions)
            .map_err(ServiceError::from)?;
        stream(&store, cfg, json, &actor, args).await
    }
    .await;
    store.close().await;
    result
}

async fn stream(
    store: &Store,
    cfg: &Config,
    json: bool,
    actor: &Actor,
    args: StreamArgs,
) -> Result<()> {
    let as_of = resolve_as_of(store, args.as_of.as_deref()).await?;
    // --rules, else the configured [scoring] rules (the batch's), else the shipped pack.
    let rules = match &args.rules {
        None => ScoringOptions::from_config(&cfg.scoring)?.rules,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the rules file {}", path.display()))?;
            Some(RuleSet::from_toml(&text, &path.display().to_string())?)
        }
    };
    // Warm before the first line is read: the first transaction pays nothing.
    let (state, warm) = warm_up(store, rules.as_ref(), Some(as_of)).await?;
    let LiveState {
        mut engine,
        mut accounts,
    } = state;
    eprintln!(
        "live engine ready as of {} (warmed in {:.1}s, before the first line); transaction rules: {}",
        warm.as_of,
        warm.seconds,
        warm.rules.join(", ")
    );

    // stdin is read on its own thread (blocking reads), each line stamped
    // with the moment it was read: latency counts from there.
    // Lines are read as bytes: one that is not UTF-8 is rejected on its own.
    let (send, mut received) =
        tokio::sync::mpsc::channel::<std::io::Result<(Vec<u8>, Instant)>>(1024);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        loop {
            let mut line = Vec::new();
            let stamped = match stdin.read_until(b'\n', &mut line) {
                Ok(0) => break,
                Ok(_) => {
                    if line.last() == Some(&b'\n') {
                        line.pop();
                    }
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    Ok((line, Instant::now()))
                }
                Err(e) => Err(e),
            };
            if send.blocking_send(stamped).is_err() {
                break;
            }
        }
    });
    let mut stdout = std::io::stdout().lock();
    let (mut line_no, mut taken, mut skipped, mut raised) = (0u64, 0u64, 0u64, 0u64);
    let mut duplicates = 0u64;
    let received_by = actor.name().to_string();
    let mut latencies: Vec<Duration> = Vec::new();
    // From reading the first taken line to its alerts stored: the engine is
    // warm, so this is no slower than any other line.
    let mut first_transaction: Option<Duration> = None;
    let started = Instant::now();
    while let Some(next) = received.recv().await {
        let (line, read_at) = next.context("reading stdin")?;
        line_no += 1;
        match feed_line(store, &mut engine, &mut accounts, &received_by, &line).await? {
            LineOutcome::Blank => {}
            LineOutcome::Rejected { field, reason } => {
                eprintln!("line {line_no}: {field}: {reason}");
                skipped += 1;
            }
            LineOutcome::Duplicate { source, source_key } => {
                eprintln!(
                    "line {line_no}: duplicate: transaction {source_key:?} of source {source:?} is already stored; ignored"
                );
                duplicates += 1;
            }
            LineOutcome::Accepted { alerts } => {
                taken += 1;
                if first_transaction.is_none() {
                    first_transaction = Some(read_at.elapsed());
                }
                for line in alerts {
                    writeln!(stdout, "{line}")?;
                    stdout.flush()?;
                    latencies.push(read_at.elapsed());
                    raised += 1;
                }
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies
            .get(i.min(latencies.len() - 1))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let rate = if elapsed > 0.0 {
        taken as f64 / elapsed
    } else {
        0.0
    };
    let summary = json!({
        "lines": line_no,
        "transactions": taken,
        "duplicates": duplicates,
        "skipped": skipped,
        "alerts": raised,
        "seconds": elapsed,
        "transactions_per_second": rate,
        "alert_latency_ms_p50": pct(0.5),
        "alert_latency_ms_p99": pct(0.99),
        "first_transaction_ms": first_transaction.map(|d| d.as_secs_f64() * 1000.0),
        "warm_up_seconds": warm.seconds,
    });
    store
        .append_audit(&[entry_for(
            actor,
            "transactions.feed",
            "txn",
            None,
            None,
            json!({ "lines": line_no, "accepted": taken, "duplicates": duplicates, "rejected": skipped, "alerts": raised }),
        )])
        .await?;
    if json {
        eprintln!("{summary}");
    } else {
        eprintln!(
            "{taken} transactions ({skipped} lines skipped), {duplicates} duplicates, in {elapsed:.2}s: {rate:.0} transactions/s; \
             {raised} alerts, latency p50 {:.2} ms, p99 {:.2} ms; first transaction {:.2} ms (warm-up {:.1}s before it)",
            pct(0.5),
            pct(0.99),
            first_transaction.map_or(0.0, |d| d.as_secs_f64() * 1000.0),
            warm.seconds
        );
    }
    Ok(())
}
