//! `rapport bench stream`: the live path (issue 19) measured in one run.
//! Generates a bank (the existing generator), loads it into a SQLite store,
//! bootstraps the live path (timed), then replays generated transactions on
//! the bank's accounts through the same code as `rapport stream` (stamped
//! lines on a channel, `cli::stream::feed_lines`, `LivePath`):
//! (a) at full speed → transactions/s, from the first line to the last
//!     batch committed;
//! (b) paced at `--rate` lines/s → alert latency p50/p95/p99/max, *decided*
//!     (line handed over → alert decided by the rules and queued for the
//!     writer) and *stored* (→ its batch committed).
//! Counts reconcile against the store (lines = stored + duplicates +
//! rejected; alerts raised = alerts stored), and the per-line path the live
//! path replaced (`live_feed::feed_line`: a lookup and two writes per line)
//! runs in the same run on its own lines as the peer figure.

use crate::cli::stream::{feed_lines, pct_ms, CHUNK_LINES};
use crate::output::emit;
use anyhow::{bail, Context, Result};
use chrono::{Duration as Days, NaiveDate};
use clap::Args;
use rapport_ingest::synth::{generate, GenConfig};
use rapport_ingest::ImportOptions;
use rapport_services::config::Config;
use rapport_services::live_feed::{feed_line, warm_up, LineOutcome, LivePath, PathOptions};
use rapport_services::scoring::resolve_as_of;
use rapport_store::Store;
use serde::Serialize;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct BenchStreamArgs {
    #[arg(long, default_value_t = 20_000)]
    pub customers: u64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Lines replayed at full speed.
    #[arg(long, default_value_t = 1_000_000)]
    pub transactions: u64,
    /// Lines replayed paced at --rate.
    #[arg(long, default_value_t = 50_000)]
    pub paced: u64,
    /// Lines per second of the paced replay.
    #[arg(long, default_value_t = 5_000)]
    pub rate: u64,
    /// Lines the per-line peer takes (at full speed, and the same count paced).
    #[arg(long, default_value_t = 50_000)]
    pub peer_lines: u64,
    /// Working directory (bank and store); default: a temporary one.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Default, Serialize)]
pub struct Replay {
    pub what: String,
    pub lines: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub stored: u64,
    pub alerts_raised: u64,
    pub alerts_stored: u64,
    pub seconds: f64,
    pub transactions_per_second: f64,
    pub decided_ms: [f64; 4],
    pub stored_ms: [f64; 4],
    pub batches: u64,
    /// Refused lines kept with their reason (`live_rejected_line`).
    pub rejected_stored: u64,
    /// Times the reader waited on a full queue, and for how long in all.
    pub backpressure_waits: u64,
    pub backpressure_seconds: f64,
    /// Time the writer spent writing batches.
    pub write_seconds: f64,
    /// Checkpoints the writer ran while idle, and their time.
    pub checkpoints: u64,
    pub checkpoint_seconds: f64,
    /// Time the reader spent deciding lines (parse, keys, rules) and
    /// queuing them, back-pressure waits excluded.
    pub reader_seconds: f64,
    pub reconciles: bool,
}

#[derive(Debug, Serialize)]
pub struct StreamBenchReport {
    pub customers: u64,
    pub machine: String,
    pub generate_seconds: f64,
    pub load_seconds: f64,
    pub bootstrap_seconds: f64,
    pub accounts: usize,
    pub runs: Vec<Replay>,
}

/// A small deterministic generator (xorshift): the bench's lines are the same every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// `n` NDJSON lines on the given accounts, booked over `days` days from
/// `from`, keys `prefix-i`: mostly card spending, some cash withdrawals,
/// salaries and large transfers out (what the transaction rules look at),
/// 0.1 % repeated lines (duplicates) and 0.1 % unknown accounts (rejected).
pub fn lines(
    accounts: &[(String, String)],
    from: NaiveDate,
    days: i64,
    n: u64,
    prefix: &str,
    seed: u64,
) -> Vec<Vec<u8>> {
    let mut rng = Rng(seed | 1);
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(n as usize);
    for i in 0..n {
        if i > 0 && rng.below(1000) == 0 {
            let again = out[rng.below(i) as usize].clone();
            out.push(again);
            continue;
        }
        let day = from + Days::days((i as i64 * days) / n.max(1) as i64);
        let (source, account) = if rng.below(1000) == 0 {
            ("core".to_string(), format!("NO-SUCH-ACCOUNT-{i}"))
        } else {
            accounts[rng.below(accounts.len() as u64) as usize].clone()
        };
        let roll = rng.below(100);
        let (category, channel, amount) = match roll {
            0..=69 => ("groceries", "pos", -(500 + rng.below(30_000) as i64)),
            70..=84 => ("shopping", "online", -(2_000 + rng.below(200_000) as i64)),
            85..=94 => (
                "cash_withdrawal",
                "atm",
                -(10_000 + rng.below(200_000) as i64),
            ),
            95..=98 => ("salary", "transfer", 300_000 + rng.below(2_000_000) as i64),
            _ => (
                "transfer_out",
                "online",
                -(2_500_000 + rng.below(8_000_000) as i64),
            ),
        };
        let line = format!(
            r#"{{"source":"{source}","account":"{account}","booked_on":"{day}","amount":"{}.{:02}","category":"{category}","channel":"{channel}","source_key":"{prefix}-{i}"}}"#,
            if amount < 0 {
                format!("-{}", amount.unsigned_abs() / 100)
            } else {
                (amount / 100).to_string()
            },
            amount.unsigned_abs() % 100
        );
        out.push(line.into_bytes());
    }
    out
}

async fn counts(store: &Store) -> Result<(i64, i64, i64)> {
    Ok((
        store.live_txn_count().await?,
        store.live_alert_count().await?,
        store.live_rejected_count().await?,
    ))
}

/// Hands `lines` to a channel as `rapport stream`'s stdin thread does, each
/// stamped when handed over; paced at `rate` lines/s when given (each line
/// then goes alone, when due), else in chunks of `CHUNK_LINES`.
fn hand_over(lines: Vec<Vec<u8>>, rate: Option<u64>) -> crate::cli::stream::StampedLines {
    let (send, receive) = tokio::sync::mpsc::channel(16);
    std::thread::spawn(move || {
        let start = Instant::now();
        let mut chunk = Vec::with_capacity(CHUNK_LINES);
        for (i, line) in lines.into_iter().enumerate() {
            if let Some(rate) = rate {
                let due = start + Duration::from_secs_f64(i as f64 / rate as f64);
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
            }
            chunk.push((line, Instant::now()));
            if (rate.is_some() || chunk.len() >= CHUNK_LINES)
                && send.blocking_send(Ok(std::mem::take(&mut chunk))).is_err()
            {
                return;
            }
        }
        if !chunk.is_empty() {
            let _ = send.blocking_send(Ok(chunk));
        }
    });
    receive
}

fn quartet(sorted: &[Duration]) -> [f64; 4] {
    [
        pct_ms(sorted, 0.5),
        pct_ms(sorted, 0.95),
        pct_ms(sorted, 0.99),
        pct_ms(sorted, 1.0),
    ]
}

async fn replay_path(
    store: &Store,
    what: &str,
    lines: Vec<Vec<u8>>,
    rate: Option<u64>,
) -> Result<(Replay, f64, usize)> {
    let (txns_before, alerts_before, rejected_before) = counts(store).await?;
    let stored_lat = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Duration>::new()));
    let sink_lat = stored_lat.clone();
    let sink = Box::new(move |a: rapport_services::live_feed::StoredAlert| {
        if let Ok(mut l) = sink_lat.lock() {
            l.push(a.stored.saturating_duration_since(a.arrived));
        }
    });
    let (mut path, boot) =
        LivePath::start(store, None, None, PathOptions::default(), Some(sink)).await?;
    let started = Instant::now();
    let fed = feed_lines(&mut path, "system:bench", hand_over(lines, rate), |_, _| {}).await?;
    let totals = path.finish().await?;
    let seconds = started.elapsed().as_secs_f64();
    let mut decided = fed.decided;
    decided.sort_unstable();
    let mut stored = stored_lat.lock().map(|l| l.clone()).unwrap_or_default();
    stored.sort_unstable();
    let c = totals.counts;
    let (txns_after, alerts_after, rejected_after) = counts(store).await?;
    let (stored_txns, stored_alerts) = (txns_after - txns_before, alerts_after - alerts_before);
    let kept_rejected = u64::try_from(rejected_after - rejected_before).unwrap_or(0);
    let reconciles = c.lines == c.accepted + c.duplicates + c.rejected
        && c.rejected == totals.writer.rejected_stored
        && kept_rejected == c.rejected
        && c.accepted == totals.writer.transactions_stored
        && u64::try_from(stored_txns).ok() == Some(totals.writer.transactions_stored)
        && c.alerts == totals.writer.alerts_stored
        && u64::try_from(stored_alerts).ok() == Some(c.alerts);
    Ok((
        Replay {
            what: what.to_string(),
            lines: c.lines,
            accepted: c.accepted,
            duplicates: c.duplicates,
            rejected: c.rejected,
            stored: u64::try_from(stored_txns).unwrap_or(0),
            alerts_raised: c.alerts,
            alerts_stored: u64::try_from(stored_alerts).unwrap_or(0),
            seconds,
            transactions_per_second: c.accepted as f64 / seconds.max(1e-9),
            decided_ms: quartet(&decided),
            stored_ms: quartet(&stored),
            batches: totals.writer.batches,
            rejected_stored: kept_rejected,
            backpressure_waits: c.backpressure_waits,
            backpressure_seconds: c.backpressure_micros as f64 / 1e6,
            write_seconds: totals.writer.write_micros as f64 / 1e6,
            checkpoints: totals.writer.checkpoints,
            checkpoint_seconds: totals.writer.checkpoint_micros as f64 / 1e6,
            reader_seconds: c.reader_nanos as f64 / 1e9,
            reconciles,
        },
        boot.warm.seconds,
        boot.accounts,
    ))
}

/// The per-line path (a lookup and two writes per line) on the same kind of lines.
async fn replay_per_line(
    store: &Store,
    what: &str,
    lines: Vec<Vec<u8>>,
    rate: Option<u64>,
) -> Result<Replay> {
    let (txns_before, alerts_before, _) = counts(store).await?;
    let (state, _) = warm_up(store, None, None).await?;
    let (mut engine, mut accounts) = (state.engine, state.accounts);
    let mut received = hand_over(lines, rate);
    let mut r = Replay {
        what: what.to_string(),
        ..Replay::default()
    };
    let mut latencies = Vec::new();
    let started = Instant::now();
    while let Some(next) = received.recv().await {
        for (line, read_at) in next? {
            r.lines += 1;
            match feed_line(store, &mut engine, &mut accounts, "system:bench", &line).await? {
                LineOutcome::Blank => r.lines -= 1,
                LineOutcome::Rejected { .. } => r.rejected += 1,
                LineOutcome::Duplicate { .. } => r.duplicates += 1,
                LineOutcome::Accepted { alerts } => {
                    r.accepted += 1;
                    r.alerts_raised += alerts.len() as u64;
                    // Decided and stored are one moment on this path.
                    latencies.extend(std::iter::repeat_n(read_at.elapsed(), alerts.len()));
                }
            }
        }
    }
    r.seconds = started.elapsed().as_secs_f64();
    r.transactions_per_second = r.accepted as f64 / r.seconds.max(1e-9);
    latencies.sort_unstable();
    r.decided_ms = quartet(&latencies);
    r.stored_ms = r.decided_ms;
    let (txns_after, alerts_after, _) = counts(store).await?;
    r.stored = u64::try_from(txns_after - txns_before).unwrap_or(0);
    r.alerts_stored = u64::try_from(alerts_after - alerts_before).unwrap_or(0);
    r.reconciles = r.lines == r.accepted + r.duplicates + r.rejected
        && r.stored == r.accepted
        && r.alerts_stored == r.alerts_raised;
    Ok(r)
}

pub async fn bench_stream(cfg: &Config, json: bool, args: BenchStreamArgs) -> Result<()> {
    let tmp = tempfile::Builder::new()
        .prefix("rapport-bench-stream-")
        .tempdir()
        .context("creating a temporary directory")?;
    let work = args.dir.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    let bank = work.join("bank");
    let db = work.join("rapport.db");
    if db.exists() {
        bail!(
            "{} already holds a store; give an empty --dir (the bench loads its own bank)",
            db.display()
        );
    }
    std::fs::create_dir_all(&bank).with_context(|| format!("creating {}", bank.display()))?;
    let say = |s: &str| {
        if !json {
            eprintln!("{s}");
        }
    };
    let g = GenConfig {
        customers: args.customers,
        seed: args.seed,
        ..GenConfig::default()
    };
    say(&format!("generating {} customers …", g.customers));
    let t = Instant::now();
    generate(&g, &bank, &|_| {}).context("generating the bank")?;
    let generate_seconds = t.elapsed().as_secs_f64();
    let url = format!("sqlite://{}", db.display());
    let store = Store::connect(&url)
        .await
        .context("opening the bench store")?;
    say("loading it …");
    let opts = ImportOptions {
        default_country: cfg.import.default_country.clone(),
        batch_size: cfg.import.batch_size,
        progress: None,
    };
    let t = Instant::now();
    rapport_services::import::load_generated(&store, &bank, &g.source, &opts)
        .await
        .context("loading the generated bank")?;
    let load_seconds = t.elapsed().as_secs_f64();
    let result = run(&store, json, &args, generate_seconds, load_seconds).await;
    store.close().await;
    let report = result?;
    emit(json, &report, || render(&report))?;
    if report.runs.iter().any(|r| !r.reconciles) {
        bail!("the counts do not reconcile (see the table)");
    }
    Ok(())
}

async fn run(
    store: &Store,
    json: bool,
    args: &BenchStreamArgs,
    generate_seconds: f64,
    load_seconds: f64,
) -> Result<StreamBenchReport> {
    let say = |s: &str| {
        if !json {
            eprintln!("{s}");
        }
    };
    let as_of = resolve_as_of(store, None).await?;
    let accounts: Vec<(String, String)> = store
        .live_account_keys()
        .await?
        .into_iter()
        .map(|k| (k.source, k.source_key))
        .collect();
    if accounts.is_empty() {
        bail!("the generated bank has no accounts");
    }
    let mut runs = Vec::new();
    say(&format!("full speed: {} lines …", args.transactions));
    let full = lines(&accounts, as_of, 7, args.transactions, "FULL", args.seed);
    let (r, bootstrap_seconds, n_accounts) =
        replay_path(store, "live path, full speed", full, None).await?;
    runs.push(r);
    say(&format!("paced: {} lines at {}/s …", args.paced, args.rate));
    let paced = lines(
        &accounts,
        as_of + Days::days(7),
        2,
        args.paced,
        "PACED",
        args.seed + 1,
    );
    let (r, _, _) = replay_path(
        store,
        &format!("live path, paced {}/s", args.rate),
        paced,
        Some(args.rate),
    )
    .await?;
    runs.push(r);
    if args.peer_lines > 0 {
        say(&format!(
            "peer: the per-line path, {} lines …",
            args.peer_lines
        ));
        let peer = lines(
            &accounts,
            as_of + Days::days(9),
            2,
            args.peer_lines,
            "PEER",
            args.seed + 2,
        );
        runs.push(replay_per_line(store, "per-line path (peer), full speed", peer, None).await?);
        let peer = lines(
            &accounts,
            as_of + Days::days(11),
            2,
            args.peer_lines.min(args.paced),
            "PEERPACED",
            args.seed + 3,
        );
        runs.push(
            replay_per_line(
                store,
                &format!("per-line path (peer), paced {}/s", args.rate),
                peer,
                Some(args.rate),
            )
            .await?,
        );
    }
    Ok(StreamBenchReport {
        customers: args.customers,
        machine: machine(),
        generate_seconds,
        load_seconds,
        bootstrap_seconds,
        accounts: n_accounts,
        runs,
    })
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or_else(String::new, |kb| {
            format!(", {:.0} GiB", kb as f64 / 1048576.0)
        });
    format!("{cpus} vCPU{mem}")
}

fn render(r: &StreamBenchReport) -> String {
    let mut s = format!(
        "live path bench — {} customers, {} accounts, machine {}\n\
         generate {:.1}s, load {:.1}s, bootstrap {:.2}s (history, account keys, stored live keys)\n\n\
         {:<40} {:>9} {:>8} {:>5} {:>5} {:>8} {:>6} {:>8} {:>10}  {:<34} {:<34} {}\n",
        r.customers,
        r.accounts,
        r.machine,
        r.generate_seconds,
        r.load_seconds,
        r.bootstrap_seconds,
        "run",
        "lines",
        "stored",
        "dup",
        "rej",
        "alerts",
        "a.stor",
        "seconds",
        "txn/s",
        "decided ms p50/p95/p99/max",
        "stored ms p50/p95/p99/max",
        "reconciles"
    );
    for x in &r.runs {
        let q = |v: &[f64; 4]| format!("{:.3}/{:.3}/{:.3}/{:.2}", v[0], v[1], v[2], v[3]);
        s.push_str(&format!(
            "{:<40} {:>9} {:>8} {:>5} {:>5} {:>8} {:>6} {:>8.2} {:>10.0}  {:<34} {:<34} {}\n",
            x.what,
            x.lines,
            x.stored,
            x.duplicates,
            x.rejected,
            x.alerts_raised,
            x.alerts_stored,
            x.seconds,
            x.transactions_per_second,
            q(&x.decided_ms),
            q(&x.stored_ms),
            if x.reconciles { "yes" } else { "NO" }
        ));
    }
    s.push_str(&format!(
        "\n{:<40} {:>9} {:>9} {:>12} {:>14} {:>9} {:>12}\n",
        "run", "batches", "rej.kept", "b.p. waits", "b.p./write s", "reader s", "ckpt n/s"
    ));
    for x in &r.runs {
        s.push_str(&format!(
            "{:<40} {:>9} {:>9} {:>12} {:>6.2}/{:<7.2} {:>9.2} {:>5}/{:<6.2}\n",
            x.what,
            x.batches,
            x.rejected_stored,
            x.backpressure_waits,
            x.backpressure_seconds,
            x.write_seconds,
            x.reader_seconds,
            x.checkpoints,
            x.checkpoint_seconds
        ));
    }
    s.push_str(
        "\ndecided = line handed over → its alerts decided by the rules and queued for the writer; \
         stored = → the batch holding them committed. On the per-line path both are one moment. \
         rej.kept = refused lines kept with their reason; b.p. = back-pressure (the reader waited on a full queue); \
         write s = the writer busy storing batches, reader s = the reader busy deciding and queuing lines (waits aside), \
         ckpt = WAL checkpoints the writer ran while idle.\n",
    );
    s
}
