//! `rapport stream`: the live early-warning path on stdin. Reads NDJSON
//! transactions, feeds each through the live path
//! (`rapport_services::live_feed::LivePath`: the same service as the API's
//! live feed), which stores transactions and the alerts they raise (origin
//! `live`) in batches; each stored alert is written as one NDJSON line on
//! stdout. At the end prints throughput and the two latencies on stderr:
//! *decided* (from the moment the line was read from stdin to its alerts
//! decided by the rules and queued for the writer) and *stored* (to the
//! commit of the batch holding them).
//!
//! Each transaction is stored once per (source, source_key) (`live_txn`): a
//! transaction fed again is reported on stderr as a duplicate, counted, and
//! changes nothing. A bad line (not UTF-8 among
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
use rapport_services::live_feed::{LivePath, PathOptions, StoredAlert, Taken};
use rapport_services::scoring::{resolve_as_of, ScoringOptions};
use rapport_store::Store;
use serde_json::json;
use std::io::BufRead;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
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

/// Lines as read, each stamped with the moment it was read (latency counts
/// from there), handed over in chunks: the lines already read when the next
/// read could wait, at most [`CHUNK_LINES`]. A line is never held back
/// waiting for the next one, and at full speed the reader takes a chunk per
/// wake-up rather than a line.
pub type StampedLines = tokio::sync::mpsc::Receiver<std::io::Result<Vec<(Vec<u8>, Instant)>>>;

/// Lines per chunk of [`StampedLines`], at most.
pub const CHUNK_LINES: usize = 256;

/// What feeding a stream of lines did on the reader side.
#[derive(Debug, Default)]
pub struct Fed {
    /// Lines read (blank ones included).
    pub read: u64,
    /// Per alert raised: from its line read to its alert decided and queued.
    pub decided: Vec<Duration>,
    /// From reading the first accepted line to its decision.
    pub first_transaction: Option<Duration>,
}

/// Feeds stamped lines through the path until the sender closes; `each`
/// sees every line's number and outcome (to report rejects and duplicates).
pub async fn feed_lines(
    path: &mut LivePath,
    received_by: &str,
    mut lines: StampedLines,
    mut each: impl FnMut(u64, &Taken),
) -> Result<Fed> {
    let mut fed = Fed::default();
    while let Some(next) = lines.recv().await {
        for (line, read_at) in next.context("reading stdin")? {
            fed.read += 1;
            let taken = path
                .take_numbered(received_by, fed.read, &line, read_at)
                .await?;
            if let Taken::Accepted { alerts, decided } = &taken {
                let latency = decided.saturating_duration_since(read_at);
                if fed.first_transaction.is_none() {
                    fed.first_transaction = Some(latency);
                }
                fed.decided.extend(std::iter::repeat_n(latency, *alerts));
            }
            each(fed.read, &taken);
        }
    }
    Ok(fed)
}

/// The `p` quantile of sorted durations, in milliseconds.
pub fn pct_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted
        .get(i.min(sorted.len() - 1))
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
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
    // Each stored alert goes to stdout as the writer commits it.
    let stored_latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let sink_latencies = stored_latencies.clone();
    let sink = Box::new(move |a: StoredAlert| {
        let mut out = std::io::stdout().lock();
        if let Err(e) = writeln!(out, "{}", a.line).and_then(|()| out.flush()) {
            tracing::error!(error = %e, "an alert could not be written to stdout (it is stored)");
        }
        if let Ok(mut l) = sink_latencies.lock() {
            l.push(a.stored.saturating_duration_since(a.arrived));
        }
    });
    // Warm before the first line is read: the first transaction pays nothing.
    let (mut path, boot) = LivePath::start(
        store,
        rules.as_ref(),
        Some(as_of),
        PathOptions::default(),
        Some(sink),
    )
    .await?;
    eprintln!(
        "live engine ready as of {} (bootstrap {:.1}s before the first line: {} accounts, {} live transactions stored); transaction rules: {}",
        boot.warm.as_of,
        boot.warm.seconds,
        boot.accounts,
        boot.stored_live,
        boot.warm.rules.join(", ")
    );

    // stdin is read on its own thread (blocking reads), each line stamped
    // with the moment it was read: latency counts from there.
    // Lines are read as bytes: one that is not UTF-8 is rejected on its own.
    // A chunk goes as soon as the lines read so far are all the buffer holds
    // complete (the next read could wait), or when it is full.
    let (send, received) = tokio::sync::mpsc::channel(16);
    std::thread::spawn(move || {
        let mut stdin = std::io::BufReader::with_capacity(1 << 16, std::io::stdin().lock());
        let mut chunk = Vec::with_capacity(CHUNK_LINES);
        loop {
            let mut line = Vec::new();
            match stdin.read_until(b'\n', &mut line) {
                Ok(0) => break,
                Ok(_) => {
                    if line.last() == Some(&b'\n') {
                        line.pop();
                    }
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    chunk.push((line, Instant::now()));
                }
                Err(e) => {
                    if !chunk.is_empty()
                        && send.blocking_send(Ok(std::mem::take(&mut chunk))).is_err()
                    {
                        break;
                    }
                    if send.blocking_send(Err(e)).is_err() {
                        break;
                    }
                    continue;
                }
            }
            if (chunk.len() >= CHUNK_LINES || !stdin.buffer().contains(&b'\n'))
                && send.blocking_send(Ok(std::mem::take(&mut chunk))).is_err()
            {
                break;
            }
        }
        if !chunk.is_empty() {
            let _ = send.blocking_send(Ok(chunk));
        }
    });
    let received_by = actor.name().to_string();
    let started = Instant::now();
    let fed = feed_lines(&mut path, &received_by, received, |line_no, taken| match taken {
        Taken::Rejected { field, reason } => eprintln!("line {line_no}: {field}: {reason}"),
        Taken::Duplicate { source, source_key } => eprintln!(
            "line {line_no}: duplicate: transaction {source_key:?} of source {source:?} is already stored; ignored"
        ),
        Taken::Blank | Taken::Accepted { .. } => {}
    })
    .await?;
    let totals = path.finish().await?;
    let elapsed = started.elapsed().as_secs_f64();
    let mut decided = fed.decided;
    decided.sort_unstable();
    let mut stored = stored_latencies
        .lock()
        .map(|l| l.clone())
        .unwrap_or_default();
    stored.sort_unstable();
    let c = totals.counts;
    let rate = if elapsed > 0.0 {
        c.accepted as f64 / elapsed
    } else {
        0.0
    };
    let summary = json!({
        "lines": c.lines,
        "transactions": c.accepted,
        "stored": totals.writer.transactions_stored,
        "duplicates": c.duplicates,
        "skipped": c.rejected,
        "alerts": c.alerts,
        "alerts_stored": totals.writer.alerts_stored,
        "batches": totals.writer.batches,
        "rejected_kept": totals.writer.rejected_stored,
        "backpressure_waits": c.backpressure_waits,
        "backpressure_seconds": c.backpressure_micros as f64 / 1e6,
        "seconds": elapsed,
        "transactions_per_second": rate,
        "alert_latency_ms_p50": pct_ms(&decided, 0.5),
        "alert_latency_ms_p99": pct_ms(&decided, 0.99),
        "alert_stored_latency_ms_p50": pct_ms(&stored, 0.5),
        "alert_stored_latency_ms_p99": pct_ms(&stored, 0.99),
        "first_transaction_ms": fed.first_transaction.map(|d| d.as_secs_f64() * 1000.0),
        "warm_up_seconds": boot.warm.seconds,
    });
    store
        .append_audit(&[entry_for(
            actor,
            "transactions.feed",
            "txn",
            None,
            None,
            json!({ "lines": c.lines, "accepted": c.accepted, "stored": totals.writer.transactions_stored,
                    "duplicates": c.duplicates, "rejected": c.rejected, "rejected_kept": totals.writer.rejected_stored,
                    "alerts": totals.writer.alerts_stored }),
        )])
        .await?;
    if json {
        eprintln!("{summary}");
    } else {
        eprintln!(
            "{} transactions ({} lines skipped), {} skipped lines kept with their reason, {} duplicates, {} lines in all; in {elapsed:.2}s: {rate:.0} transactions/s, stored in {} batches; \
             {} alerts, decided p50 {:.3} ms, p99 {:.3} ms (line read → alert decided and queued), stored p50 {:.2} ms, p99 {:.2} ms; \
             first transaction {:.2} ms (bootstrap {:.1}s before it)",
            c.accepted,
            c.rejected,
            totals.writer.rejected_stored,
            c.duplicates,
            c.lines,
            totals.writer.batches,
            totals.writer.alerts_stored,
            pct_ms(&decided, 0.5),
            pct_ms(&decided, 0.99),
            pct_ms(&stored, 0.5),
            pct_ms(&stored, 0.99),
            fed.first_transaction.map_or(0.0, |d| d.as_secs_f64() * 1000.0),
            boot.warm.seconds
        );
    }
    Ok(())
}
