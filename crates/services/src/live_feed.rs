//! The live early-warning feed: one NDJSON transaction per line (the format
//! of `rapport stream` and `POST /api/v1/transactions`) parsed with the field
//! named on error, stored once per (source, source_key) in `live_txn` — a
//! transaction posted again is a duplicate the live rules never see — fed to
//! the live engine, and every alert it raises stored (routed like batch
//! alerts, the transaction as evidence).
//!
//! "source" of a posted line is its `source` field: the source system of the
//! account and its transactions (`core` when absent), the same code an import
//! gives them; `source_key` is the transaction's key in that system. A pair
//! already imported into `txn` is a duplicate too.
//!
//! Both adapters (`rapport stream` and the API's [`LiveFeed`]) run the
//! [`LivePath`] (issue 19): account keys and stored live keys loaded at
//! bootstrap, no per-line round trip, the rules' state in memory, and one
//! writer task behind a bounded queue storing transactions and alerts in
//! batches (one database transaction each, exactly once), the reader waiting
//! when the writer falls behind. [`feed_line`]/[`feed_body`] are the
//! per-line path it replaced (a lookup and two writes per line), kept as the
//! reference the tests compare alerts with and the bench's peer figure.
//!
//! The engine is warm before its first transaction: [`warm_up`] builds it
//! (rules, history scan, cool-downs) and logs the time; a server starts it
//! at start-up through [`LiveFeed::start_warming`], `rapport stream` before
//! it reads stdin.

use anyhow::{Context, Result};
use chrono::NaiveDate;
use chrono::Utc;
use rapport_analytics::alerts::{alert_record, AlertHit, RuleSet};
use rapport_analytics::live::LiveEngine;
use rapport_analytics::LiveTxn;
use rapport_store::{
    AlertRoute, EvidenceTxn, LiveBatch, LiveBatchTxn, LiveRejectedLine, LiveWriter, NewLiveTxn,
    Store,
};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// A warmed live engine and the account ids it has looked up by (source, key).
#[derive(Debug)]
pub struct LiveState {
    pub engine: LiveEngine,
    pub accounts: HashMap<(String, String), Option<i64>>,
}

/// How long the warm-up took and what it built.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WarmUp {
    pub as_of: NaiveDate,
    pub seconds: f64,
    /// The transaction rules the engine runs.
    pub rules: Vec<String>,
}

/// Builds a live engine ready for its first transaction: the rules (the
/// given set or the shipped pack), every customer's transaction history
/// before `as_of` (default: the day after the latest stored transaction),
/// the live transactions not imported since and the cool-downs. This is the
/// slow part (a scan of the whole history); it is done once, at start, and
/// logged with its time.
pub async fn warm_up(
    store: &Store,
    rules: Option<&RuleSet>,
    as_of: Option<NaiveDate>,
) -> Result<(LiveState, WarmUp)> {
    let started = Instant::now();
    let rules = match rules {
        Some(r) => r.clone(),
        None => RuleSet::builtin().context("the shipped rule pack")?,
    };
    let as_of = match as_of {
        Some(d) => d,
        None => crate::scoring::resolve_as_of(store, None).await?,
    };
    let engine = LiveEngine::bootstrap(store, as_of, &rules).await?;
    let warm = WarmUp {
        as_of,
        seconds: started.elapsed().as_secs_f64(),
        rules: engine.rules().map(|r| r.code.clone()).collect(),
    };
    tracing::info!(
        as_of = %warm.as_of,
        seconds = warm.seconds,
        rules = warm.rules.len(),
        "live engine warm"
    );
    Ok((
        LiveState {
            engine,
            accounts: HashMap::new(),
        },
        warm,
    ))
}

/// The live engine a server shares between requests. [`LiveFeed::start_warming`]
/// builds it in the background as the server starts, so the first posted
/// transaction does not pay for the history scan; a request that comes
/// while it warms waits for it. When the warm-up failed (or was never
/// started) the first request builds it.
#[derive(Clone)]
pub struct LiveFeed {
    state: Arc<tokio::sync::Mutex<Option<LivePath>>>,
    /// The early-warning rules the engine runs (`None`: the shipped pack).
    rules: Option<Arc<RuleSet>>,
}

impl LiveFeed {
    /// A cold feed over `rules` (the configured `[scoring] rules`, or the
    /// shipped pack when `None`: the batch and the live path run the same rules).
    pub fn new(rules: Option<RuleSet>) -> LiveFeed {
        LiveFeed {
            state: Arc::new(tokio::sync::Mutex::new(None)),
            rules: rules.map(Arc::new),
        }
    }

    /// Starts the warm-up on a task of the current runtime. The engine's
    /// lock is taken before this returns, so any request waits for the
    /// warm-up rather than starting a second one.
    pub async fn start_warming(&self, store: Store) -> tokio::task::JoinHandle<()> {
        let mut guard = self.state.clone().lock_owned().await;
        let rules = self.rules.clone();
        tokio::spawn(async move {
            if guard.is_some() {
                return;
            }
            match LivePath::start(&store, rules.as_deref(), None, PathOptions::default(), None)
                .await
            {
                Ok((path, _)) => *guard = Some(path),
                Err(e) => tracing::error!(
                    error = format!("{e:#}"),
                    "the live engine could not warm up; the first posted transaction will try again"
                ),
            }
        })
    }

    /// Whether the engine is built.
    pub async fn is_warm(&self) -> bool {
        self.state.lock().await.is_some()
    }

    /// Feeds an NDJSON body through the live path (see [`feed_body_path`]),
    /// building it first if it is not warm; answers once the body is stored.
    pub async fn feed(&self, store: &Store, received_by: &str, body: &[u8]) -> Result<FeedReport> {
        let mut guard = self.state.lock().await;
        if guard.is_none() {
            let (path, _) = LivePath::start(
                store,
                self.rules.as_deref(),
                None,
                PathOptions::default(),
                None,
            )
            .await?;
            *guard = Some(path);
        }
        let Some(path) = guard.as_mut() else {
            anyhow::bail!("the live engine is not ready");
        };
        let report = feed_body_path(path, received_by, body).await;
        if report.is_err() {
            // A failed writer is not reused: the next body starts a new path
            // from the store (what was stored is then a duplicate).
            *guard = None;
        }
        report
    }
}

/// A line that cannot be used: which field and why.
#[derive(Debug)]
pub struct BadLine {
    pub field: &'static str,
    pub problem: String,
}

fn bad(field: &'static str, problem: impl Into<String>) -> BadLine {
    BadLine {
        field,
        problem: problem.into(),
    }
}

/// A transaction line, with its account still as (source, key).
#[derive(Debug)]
pub struct StreamTxn {
    pub account_source: String,
    pub account_key: String,
    pub booked_on: NaiveDate,
    pub amount: i64,
    pub balance_after: Option<i64>,
    pub category: String,
    pub channel: String,
    pub source_key: String,
}

/// Stores a live alert (routed like batch alerts, the transaction as
/// evidence) and returns its NDJSON line.
pub async fn store_and_describe(
    store: &Store,
    hit: &AlertHit,
    txn: &EvidenceTxn,
) -> Result<String> {
    let routes = store.alert_routes(&[hit.customer_id]).await?;
    let route = routes
        .get(&hit.customer_id)
        .cloned()
        .unwrap_or_else(AlertRoute::central);
    let record = alert_record(hit, "live", std::slice::from_ref(txn), &route);
    let id = store.insert_alert(&record).await?;
    let evidence: Value = serde_json::from_str(&record.evidence).unwrap_or(Value::Null);
    Ok(json!({
        "id": id,
        "customer_id": record.customer_id,
        "rule": record.rule,
        "severity": record.severity,
        "raised_on": record.raised_on.to_string(),
        "origin": record.origin,
        "message": record.message,
        "assignee_id": record.assignee_id,
        "queue": record.queue,
        "evidence": evidence,
    })
    .to_string())
}

/// One field of a line as the typed parse reads it: the text borrowed from
/// the line when it has no escapes, numbers as serde_json writes them.
#[derive(Debug, Default)]
pub enum Scalar<'a> {
    /// The field is absent.
    #[default]
    Missing,
    Null,
    Str(std::borrow::Cow<'a, str>),
    Num(serde_json::Number),
    /// A boolean, an array or an object.
    Other,
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Scalar<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Str(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Str(std::borrow::Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Str(std::borrow::Cow::Owned(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Num(v.into()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Num(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar<'a>, E> {
                Ok(serde_json::Number::from_f64(v).map_or(Scalar::Other, Scalar::Num))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Other)
            }
            fn visit_unit<E>(self) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Null)
            }
            fn visit_none<E>(self) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Null)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Scalar<'a>, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Scalar<'a>, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A line's fields, read in one pass without building a JSON tree (unknown
/// fields are skipped).
#[derive(serde::Deserialize)]
struct RawLine<'a> {
    #[serde(borrow, default)]
    source: Scalar<'a>,
    #[serde(borrow, default)]
    account: Scalar<'a>,
    #[serde(borrow, default)]
    booked_on: Scalar<'a>,
    #[serde(borrow, default)]
    amount: Scalar<'a>,
    #[serde(borrow, default)]
    balance_after: Scalar<'a>,
    #[serde(borrow, default)]
    category: Scalar<'a>,
    #[serde(borrow, default)]
    channel: Scalar<'a>,
    #[serde(borrow, default)]
    source_key: Scalar<'a>,
}

/// A field that must be a non-empty string (or, for the account and the
/// source key, a number), trimmed.
fn text_field<'s>(
    field: &'static str,
    v: &'s Scalar<'_>,
) -> Result<std::borrow::Cow<'s, str>, BadLine> {
    match v {
        Scalar::Str(s) if !s.trim().is_empty() => Ok(std::borrow::Cow::Borrowed(s.trim())),
        Scalar::Num(n) if field == "account" || field == "source_key" => {
            Ok(std::borrow::Cow::Owned(n.to_string()))
        }
        Scalar::Missing => Err(bad(field, "missing")),
        _ => Err(bad(field, "expected a non-empty string")),
    }
}

pub fn parse_line(line: &str) -> Result<StreamTxn, BadLine> {
    if !line.trim_start().starts_with('{') {
        // Checked first: a JSON array would otherwise fill the fields in order.
        return Err(match serde_json::from_str::<serde::de::IgnoredAny>(line) {
            Err(e) => bad("json", e.to_string()),
            Ok(_) => bad("json", "expected an object"),
        });
    }
    let raw: RawLine<'_> = serde_json::from_str(line).map_err(|e| bad("json", e.to_string()))?;
    let account_source = match &raw.source {
        Scalar::Missing | Scalar::Null => "core".to_string(),
        v => text_field("source", v)?.into_owned(),
    };
    let booked_on = text_field("booked_on", &raw.booked_on)?;
    let booked_on = parse_day(&booked_on).ok_or_else(|| {
        bad(
            "booked_on",
            format!("{booked_on:?} is not a date YYYY-MM-DD"),
        )
    })?;
    let amount = match &raw.amount {
        Scalar::Missing | Scalar::Null => return Err(bad("amount", "missing")),
        v => minor_units(v).map_err(|p| bad("amount", p))?,
    };
    let balance_after = match &raw.balance_after {
        Scalar::Missing | Scalar::Null => None,
        v => Some(minor_units(v).map_err(|p| bad("balance_after", p))?),
    };
    Ok(StreamTxn {
        account_source,
        account_key: text_field("account", &raw.account)?.into_owned(),
        booked_on,
        amount,
        balance_after,
        category: text_field("category", &raw.category)?.to_ascii_lowercase(),
        channel: text_field("channel", &raw.channel)?.to_ascii_lowercase(),
        source_key: text_field("source_key", &raw.source_key)?.into_owned(),
    })
}

/// A date `YYYY-MM-DD`: the canonical form read without chrono's format
/// parser, anything else (e.g. a one-digit month) as chrono reads it.
fn parse_day(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r.clone())?.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        if let (Some(y), Some(m), Some(d)) = (digits(0..4), digits(5..7), digits(8..10)) {
            return NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d);
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// Major units (a decimal string or a JSON number, at most 2 decimals) to
/// exact minor units.
fn minor_units(v: &Scalar<'_>) -> Result<i64, String> {
    let owned;
    let text: &str = match v {
        Scalar::Str(s) => s.trim(),
        Scalar::Num(n) => {
            owned = n.to_string();
            &owned
        }
        _ => return Err("expected a decimal string or a number".to_string()),
    };
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let frac = frac.trim_end_matches('0');
    if whole.is_empty() && frac.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!("{text:?} is not a decimal amount"));
    }
    if frac.len() > 2 {
        return Err(format!("{text:?} has more than 2 decimals"));
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole
            .parse()
            .map_err(|_| format!("{text:?} is too large"))?
    };
    let cents: i64 = frac
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(2)
        .fold(0, |n, c| n * 10 + i64::from(c - b'0'));
    let minor = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(cents))
        .ok_or_else(|| format!("{text:?} is too large"))?;
    Ok(if negative { -minor } else { minor })
}

/// What one batch fed to the live engine did.
#[derive(Debug, Default, serde::Serialize)]
pub struct FeedReport {
    /// Lines read (blank lines excluded): lines = accepted + duplicates + rejected.
    pub lines: u64,
    pub accepted: u64,
    /// Lines whose transaction (source, source_key) was already stored: not
    /// stored again, not seen by the live rules.
    pub duplicates: u64,
    /// Each refused line with the field and the reason.
    pub rejected: Vec<Value>,
    /// The alerts raised (as `rapport stream` prints them).
    pub alerts: Vec<Value>,
}

/// What one line fed to the live engine did.
#[derive(Debug, Clone, PartialEq)]
pub enum LineOutcome {
    /// A blank line: skipped, not counted.
    Blank,
    /// Refused, with the field and the reason.
    Rejected { field: &'static str, reason: String },
    /// A transaction already stored (same source and source_key): nothing
    /// changed, the live rules did not see it.
    Duplicate { source: String, source_key: String },
    /// Taken; the alerts it raised, stored, one NDJSON line each.
    Accepted { alerts: Vec<String> },
}

/// A line of a body as text; a line that is not UTF-8 is refused (field
/// `line`) naming the offset of its first bad byte within the line.
pub fn line_text(line: &[u8]) -> Result<&str, BadLine> {
    std::str::from_utf8(line).map_err(|e| {
        bad(
            "line",
            format!(
                "not UTF-8: invalid byte 0x{:02x} at byte offset {} of the line",
                line.get(e.valid_up_to()).copied().unwrap_or(0),
                e.valid_up_to()
            ),
        )
    })
}

/// Feeds one NDJSON line (raw bytes) to the live engine: checked to be
/// UTF-8, parsed with the field named on error, its account looked up once
/// per (source, key) in `accounts`, then stored in `live_txn` unless the
/// same (source, source_key) is already stored — a duplicate goes no
/// further. Only a newly stored transaction reaches the live rules; every
/// alert raised is stored and described. `received_by` names who posted it.
pub async fn feed_line(
    store: &Store,
    engine: &mut LiveEngine,
    accounts: &mut HashMap<(String, String), Option<i64>>,
    received_by: &str,
    line: &[u8],
) -> Result<LineOutcome> {
    let line = match line_text(line) {
        Ok(l) => l,
        Err(b) => {
            return Ok(LineOutcome::Rejected {
                field: b.field,
                reason: b.problem,
            })
        }
    };
    if line.trim().is_empty() {
        return Ok(LineOutcome::Blank);
    }
    let parsed = match parse_line(line) {
        Ok(t) => t,
        Err(b) => {
            return Ok(LineOutcome::Rejected {
                field: b.field,
                reason: b.problem,
            })
        }
    };
    let key = (parsed.account_source.clone(), parsed.account_key.clone());
    let account_id = match accounts.get(&key) {
        Some(id) => *id,
        None => {
            let id = store.account_id_by_key(&key.0, &key.1).await?;
            accounts.insert(key, id);
            id
        }
    };
    let Some(account_id) = account_id else {
        return Ok(LineOutcome::Rejected {
            field: "account",
            reason: format!(
                "no such account in the store: {:?} of source {:?}",
                parsed.account_key, parsed.account_source
            ),
        });
    };
    if !engine.knows_account(account_id) {
        return Ok(LineOutcome::Rejected {
            field: "account",
            reason: format!(
                "the account {:?} of source {:?} was added after the live engine started; restart it to take the account",
                parsed.account_key, parsed.account_source
            ),
        });
    }
    if parsed.booked_on.succ_opt().is_none() {
        return Ok(LineOutcome::Rejected {
            field: "booked_on",
            reason: format!("{} is out of range", parsed.booked_on),
        });
    }
    let stored = store
        .insert_live_txn(&NewLiveTxn {
            source: parsed.account_source.clone(),
            source_key: parsed.source_key.clone(),
            account_id,
            booked_on: parsed.booked_on,
            amount: parsed.amount,
            balance_after: parsed.balance_after,
            category: parsed.category.clone(),
            channel: parsed.channel.clone(),
            received_by: received_by.to_string(),
            received_at: Utc::now(),
        })
        .await?;
    if !stored {
        return Ok(LineOutcome::Duplicate {
            source: parsed.account_source,
            source_key: parsed.source_key,
        });
    }
    let evidence = EvidenceTxn {
        booked_on: parsed.booked_on,
        amount: parsed.amount,
        category: parsed.category.clone(),
        channel: parsed.channel.clone(),
        source_key: parsed.source_key.clone(),
    };
    let txn = LiveTxn {
        account_id,
        booked_on: parsed.booked_on,
        amount: parsed.amount,
        balance_after: parsed.balance_after,
        category: parsed.category,
        channel: parsed.channel,
        source_key: parsed.source_key,
    };
    // Checked above (known account, date in range): the engine cannot refuse it.
    let hits = engine.on_transaction(txn)?;
    let mut alerts = Vec::with_capacity(hits.len());
    for hit in hits {
        alerts.push(store_and_describe(store, &hit, &evidence).await?);
    }
    Ok(LineOutcome::Accepted { alerts })
}

/// Feeds an NDJSON body (the `rapport stream` format, as raw bytes) to a
/// live engine line by line, storing every new transaction and every alert
/// raised. A bad line — not UTF-8, not JSON, a bad field — is rejected with
/// its line number, field and reason, a repeated transaction is counted as a
/// duplicate; the other lines are taken: nothing is dropped silently.
pub async fn feed_body(
    store: &Store,
    engine: &mut LiveEngine,
    accounts: &mut HashMap<(String, String), Option<i64>>,
    received_by: &str,
    body: &[u8],
) -> Result<FeedReport> {
    let mut r = FeedReport::default();
    let mut offset = 0usize;
    for (i, raw) in body.split(|&b| b == b'\n').enumerate() {
        let start = offset;
        offset += raw.len() + 1;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        match feed_line(store, engine, accounts, received_by, line).await? {
            LineOutcome::Blank => continue,
            LineOutcome::Rejected { field, reason } => {
                r.lines += 1;
                let reason = if field == "line" {
                    format!("{reason} (line starts at byte offset {start} of the body)")
                } else {
                    reason
                };
                r.rejected
                    .push(json!({ "line": i + 1, "field": field, "reason": reason }));
            }
            LineOutcome::Duplicate { .. } => {
                r.lines += 1;
                r.duplicates += 1;
            }
            LineOutcome::Accepted { alerts } => {
                r.lines += 1;
                r.accepted += 1;
                for described in alerts {
                    r.alerts
                        .push(serde_json::from_str(&described).unwrap_or(Value::String(described)));
                }
            }
        }
    }
    Ok(r)
}

// ---------------------------------------------------------------------------
// The live path at speed (issue 19).
// ---------------------------------------------------------------------------

/// How the live path batches and how far the writer may fall behind.
#[derive(Clone)]
pub struct PathOptions {
    /// Lines the writer stores per database transaction, at most.
    pub batch_rows: usize,
    /// Lines decided but not yet taken by the writer, at most: when the queue
    /// is full the reader waits (back-pressure), so memory stays bounded by
    /// `queue_lines + batch_rows` lines in flight.
    pub queue_lines: usize,
    /// When set, the writer takes one permit before writing each batch: a
    /// pause switch (a maintenance window, or a test holding the writer back).
    pub writer_gate: Option<Arc<tokio::sync::Semaphore>>,
    /// How long the writer waits for more lines before it writes a batch
    /// that is not full: at a steady trickle, a few lines per commit instead
    /// of one (adds at most this to the stored latency, nothing to the
    /// decided one).
    pub linger: std::time::Duration,
}

impl Default for PathOptions {
    fn default() -> Self {
        PathOptions {
            // Large: on SQLite a commit writes every index page its rows
            // touched (the customer index is hit at random), so rows per
            // commit divide the page writes per row. The writer takes what
            // is queued, up to this: batches are this large only at full
            // speed (paced, a batch is the few lines of its linger).
            batch_rows: 65_536,
            queue_lines: 131_072,
            writer_gate: None,
            linger: std::time::Duration::from_millis(2),
        }
    }
}

impl std::fmt::Debug for PathOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PathOptions")
            .field("batch_rows", &self.batch_rows)
            .field("queue_lines", &self.queue_lines)
            .field("writer_gate", &self.writer_gate.is_some())
            .field("linger", &self.linger)
            .finish()
    }
}

/// An alert the writer has stored, as `rapport stream` prints it, with the
/// moments that measure it.
#[derive(Debug, Clone)]
pub struct StoredAlert {
    /// The NDJSON description (id, customer, rule, … evidence).
    pub line: Value,
    /// When its line arrived (read from stdin, or received by the API).
    pub arrived: Instant,
    /// When the engine had decided it and it was handed to the writer's queue.
    pub decided: Instant,
    /// When the batch holding it was committed.
    pub stored: Instant,
}

/// Where the writer hands each stored alert (`rapport stream` prints it);
/// without one, stored alerts are returned by [`LivePath::flush`].
pub type AlertSink = Box<dyn FnMut(StoredAlert) + Send>;

/// What one line did on the live path.
#[derive(Debug, Clone, PartialEq)]
pub enum Taken {
    /// A blank line: skipped, not counted.
    Blank,
    /// Refused, with the field and the reason; counted.
    Rejected { field: &'static str, reason: String },
    /// Its (source, source_key) was already taken or stored: not queued, the
    /// live rules did not see it.
    Duplicate { source: String, source_key: String },
    /// Decided and queued for the writer, with the alerts it raised.
    Accepted { alerts: usize, decided: Instant },
}

/// Counts of the reader side (lines = accepted + duplicates + rejected).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PathCounts {
    pub lines: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    /// Alerts the engine raised (each is stored with its transaction).
    pub alerts: u64,
    /// Account keys not in the bootstrap map, looked up once in the store.
    pub account_lookups: u64,
    /// Times the reader found the writer's queue full and waited
    /// (back-pressure), and for how long in all (microseconds).
    pub backpressure_waits: u64,
    pub backpressure_micros: u64,
    /// Time the reader spent deciding lines and queuing them, back-pressure
    /// waits excluded (nanoseconds): it is busy this long, waiting for lines
    /// the rest.
    pub reader_nanos: u64,
}

/// What the writer stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct WriterTotals {
    pub batches: u64,
    pub transactions_stored: u64,
    /// Transactions another writer had stored first (same source and
    /// source_key): not stored again, their alerts not stored either.
    pub transactions_already_stored: u64,
    pub alerts_stored: u64,
    /// Refused lines kept (`live_rejected_line`) with their reason.
    pub rejected_stored: u64,
    /// Time spent writing batches (microseconds): the writer is busy this
    /// long, idle or waiting for lines the rest.
    pub write_micros: u64,
    /// Checkpoints the writer ran while idle, and their time (microseconds).
    pub checkpoints: u64,
    pub checkpoint_micros: u64,
}

/// The whole run of a live path, once everything queued is stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PathTotals {
    pub counts: PathCounts,
    pub writer: WriterTotals,
}

/// The bootstrap of a live path, timed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Bootstrap {
    pub warm: WarmUp,
    /// Accounts in the key map.
    pub accounts: usize,
    /// Live transactions already stored (their keys: duplicates from the start).
    pub stored_live: usize,
}

/// The path's in-memory maps (account keys, stored keys), looked up for
/// every line: foldhash, seeded at random per map, a few times faster than
/// the default SipHash on short keys.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type FastSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;

struct Queued {
    txn: LiveBatchTxn,
    hits: Vec<AlertHit>,
    arrived: Instant,
    decided: Instant,
}

enum Msg {
    Line(Box<Queued>),
    Rejected(Box<LiveRejectedLine>),
    Flush(tokio::sync::oneshot::Sender<Vec<StoredAlert>>),
}

/// The live path: account keys loaded at bootstrap (a key the map does not
/// hold is looked up once and cached), the rules' state in memory, the keys
/// of every stored live transaction in memory (a line fed again is a
/// duplicate without a round trip), and one writer task fed through a
/// bounded queue that stores transactions and their alerts in batches, one
/// database transaction each, each (source, source_key) once.
///
/// [`LivePath::take`] decides a line (parse, resolve, rules) and queues it;
/// it waits when the queue is full. [`LivePath::flush`] waits until all
/// queued is stored; [`LivePath::finish`] flushes and stops the writer.
/// Dropping a path without finishing it stops the writer where it is: a
/// batch not committed is lost, and feeding its lines again stores them once.
pub struct LivePath {
    engine: LiveEngine,
    as_of: NaiveDate,
    accounts: FastMap<String, FastMap<String, (i64, i64)>>,
    seen: FastMap<String, FastSet<String>>,
    queue: Option<tokio::sync::mpsc::Sender<Msg>>,
    writer: Option<tokio::task::JoinHandle<Result<WriterTotals>>>,
    store: Store,
    counts: PathCounts,
    /// Lines handed to [`LivePath::take`] (blank ones too): their numbers.
    numbered: u64,
}

impl std::fmt::Debug for LivePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LivePath")
            .field("as_of", &self.as_of)
            .field("counts", &self.counts)
            .finish_non_exhaustive()
    }
}

impl Drop for LivePath {
    fn drop(&mut self) {
        if let Some(w) = self.writer.take() {
            w.abort();
        }
    }
}

impl LivePath {
    /// Bootstraps the path: the engine (rules, history before `as_of` —
    /// default the day after the latest stored transaction — live
    /// transactions, cool-downs), the account key map and the stored live
    /// keys; then starts the writer. Must run inside a Tokio runtime.
    pub async fn start(
        store: &Store,
        rules: Option<&RuleSet>,
        as_of: Option<NaiveDate>,
        options: PathOptions,
        sink: Option<AlertSink>,
    ) -> Result<(LivePath, Bootstrap)> {
        let started = Instant::now();
        let (state, mut warm) = warm_up(store, rules, as_of).await?;
        let mut accounts: FastMap<String, FastMap<String, (i64, i64)>> = FastMap::default();
        let keys = store.live_account_keys().await?;
        let n_accounts = keys.len();
        for k in keys {
            accounts
                .entry(k.source)
                .or_default()
                .insert(k.source_key, (k.account_id, k.customer_id));
        }
        let mut seen: FastMap<String, FastSet<String>> = FastMap::default();
        let stored = store.live_txn_keys().await?;
        let stored_live = stored.len();
        for (source, key) in stored {
            seen.entry(source).or_default().insert(key);
        }
        // Room for half a million more keys per source before the first rehash
        // (a rehash of a large set stalls the reader for milliseconds).
        for s in seen.values_mut() {
            s.reserve(1 << 19);
        }
        for k in accounts.keys() {
            seen.entry(k.clone()).or_default().reserve(1 << 19);
        }
        warm.seconds = started.elapsed().as_secs_f64();
        // The writer's own connection (SQLite file) is opened here: a store
        // it cannot write fails the start, not the first batch.
        let batch_writer = store
            .live_writer()
            .context("opening the live path's writer")?;
        let (send, receive) = tokio::sync::mpsc::channel(options.queue_lines.max(1));
        let writer = tokio::spawn(write_batches(
            store.clone(),
            batch_writer,
            receive,
            options,
            sink,
        ));
        let path = LivePath {
            engine: state.engine,
            as_of: warm.as_of,
            accounts,
            seen,
            queue: Some(send),
            writer: Some(writer),
            store: store.clone(),
            counts: PathCounts::default(),
            numbered: 0,
        };
        tracing::info!(
            seconds = warm.seconds,
            accounts = n_accounts,
            stored_live,
            "live path ready"
        );
        Ok((
            path,
            Bootstrap {
                warm,
                accounts: n_accounts,
                stored_live,
            },
        ))
    }

    /// The reader side's counts so far.
    pub fn counts(&self) -> PathCounts {
        self.counts
    }

    /// The state date the engine started from.
    pub fn as_of(&self) -> NaiveDate {
        self.as_of
    }

    /// Decides one NDJSON line (raw bytes) that arrived at `arrived`: checked
    /// to be UTF-8 and parsed (the field named on error), its account
    /// resolved from the map, a key already taken or stored is a duplicate,
    /// then the live rules run and the transaction with its alerts is queued
    /// for the writer — waiting while the queue is full. `received_by`
    /// names who sent it.
    /// The line is numbered in the order lines are handed to this path
    /// (see [`LivePath::take_numbered`]).
    pub async fn take(
        &mut self,
        received_by: &str,
        line: &[u8],
        arrived: Instant,
    ) -> Result<Taken> {
        let number = self.numbered + 1;
        self.take_numbered(received_by, number, line, arrived).await
    }

    /// [`LivePath::take`] for line number `number` of its stream or body: a
    /// refused line is queued for the writer, which keeps it with its
    /// number, raw text and reason (`live_rejected_line`).
    pub async fn take_numbered(
        &mut self,
        received_by: &str,
        number: u64,
        line: &[u8],
        arrived: Instant,
    ) -> Result<Taken> {
        self.numbered = self.numbered.max(number);
        let started = Instant::now();
        let waited_before = self.counts.backpressure_micros;
        let taken = self.decide(received_by, line, arrived).await?;
        let taken = self.count(received_by, number, line, taken).await?;
        // The reader's own time: this line's work, its back-pressure wait aside.
        let busy = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let waited = (self.counts.backpressure_micros - waited_before).saturating_mul(1000);
        self.counts.reader_nanos += busy.saturating_sub(waited);
        Ok(taken)
    }

    /// Counts what a line did; a refused line is queued to be kept.
    async fn count(
        &mut self,
        received_by: &str,
        number: u64,
        line: &[u8],
        taken: Taken,
    ) -> Result<Taken> {
        match &taken {
            Taken::Blank => {}
            Taken::Rejected { field, reason } => {
                self.counts.lines += 1;
                self.counts.rejected += 1;
                let kept = LiveRejectedLine {
                    received_at: Utc::now(),
                    received_by: received_by.to_string(),
                    line: i64::try_from(number).unwrap_or(i64::MAX),
                    raw: LiveRejectedLine::raw_text(line),
                    field: (*field).to_string(),
                    reason: reason.clone(),
                };
                self.send(Msg::Rejected(Box::new(kept))).await?;
            }
            Taken::Duplicate { .. } => {
                self.counts.lines += 1;
                self.counts.duplicates += 1;
            }
            Taken::Accepted { alerts, .. } => {
                self.counts.lines += 1;
                self.counts.accepted += 1;
                self.counts.alerts += *alerts as u64;
            }
        }
        Ok(taken)
    }

    async fn decide(&mut self, received_by: &str, line: &[u8], arrived: Instant) -> Result<Taken> {
        let rejected = |b: BadLine| Taken::Rejected {
            field: b.field,
            reason: b.problem,
        };
        let line = match line_text(line) {
            Ok(l) => l,
            Err(b) => return Ok(rejected(b)),
        };
        if line.trim().is_empty() {
            return Ok(Taken::Blank);
        }
        let parsed = match parse_line(line) {
            Ok(t) => t,
            Err(b) => return Ok(rejected(b)),
        };
        let known = self
            .accounts
            .get(&parsed.account_source)
            .and_then(|m| m.get(&parsed.account_key))
            .copied();
        let (account_id, customer_id) = match known {
            Some(ids) => ids,
            None => {
                // Imported after the bootstrap, or unknown: one lookup; a
                // found account is kept in the map, a miss is not (it may be
                // imported later).
                self.counts.account_lookups += 1;
                match self
                    .store
                    .live_account_key(&parsed.account_source, &parsed.account_key)
                    .await?
                {
                    Some(k) => {
                        self.accounts
                            .entry(k.source)
                            .or_default()
                            .insert(k.source_key, (k.account_id, k.customer_id));
                        (k.account_id, k.customer_id)
                    }
                    None => {
                        return Ok(Taken::Rejected {
                            field: "account",
                            reason: format!(
                                "no such account in the store: {:?} of source {:?}",
                                parsed.account_key, parsed.account_source
                            ),
                        })
                    }
                }
            }
        };
        if !self.engine.knows_account(account_id) {
            return Ok(Taken::Rejected {
                field: "account",
                reason: format!(
                    "the account {:?} of source {:?} was added after the live engine started; restart it to take the account",
                    parsed.account_key, parsed.account_source
                ),
            });
        }
        if parsed.booked_on.succ_opt().is_none() {
            return Ok(Taken::Rejected {
                field: "booked_on",
                reason: format!("{} is out of range", parsed.booked_on),
            });
        }
        let duplicate = |this: &Self| {
            this.seen
                .get(&parsed.account_source)
                .is_some_and(|s| s.contains(&parsed.source_key))
        };
        // Only a line booked inside the imported history can repeat an
        // imported transaction: only those pay a lookup.
        if duplicate(self)
            || (parsed.booked_on < self.as_of
                && self
                    .store
                    .txn_key_imported(&parsed.account_source, &parsed.source_key)
                    .await?)
        {
            return Ok(Taken::Duplicate {
                source: parsed.account_source,
                source_key: parsed.source_key,
            });
        }
        match self.seen.get_mut(&parsed.account_source) {
            Some(keys) => keys.insert(parsed.source_key.clone()),
            None => self
                .seen
                .entry(parsed.account_source.clone())
                .or_default()
                .insert(parsed.source_key.clone()),
        };
        let txn = LiveTxn {
            account_id,
            booked_on: parsed.booked_on,
            amount: parsed.amount,
            balance_after: parsed.balance_after,
            category: parsed.category,
            channel: parsed.channel,
            source_key: parsed.source_key,
        };
        // Checked above (known account, date in range): the engine cannot refuse it.
        let hits = self.engine.on_transaction_ref(&txn)?;
        let alerts = hits.len();
        let queued = Queued {
            txn: LiveBatchTxn {
                source: parsed.account_source,
                source_key: txn.source_key,
                account_id,
                customer_id,
                booked_on: txn.booked_on,
                amount: txn.amount,
                balance_after: txn.balance_after,
                category: txn.category,
                channel: txn.channel,
                received_by: received_by.to_string(),
                received_at: Utc::now(),
            },
            hits,
            arrived,
            decided: Instant::now(),
        };
        // Decided here, in memory; the write follows behind the queue.
        let decided = queued.decided;
        self.send(Msg::Line(Box::new(queued))).await?;
        Ok(Taken::Accepted { alerts, decided })
    }

    /// Queues a message for the writer; when the queue is full the reader
    /// waits (back-pressure), counted with the time waited.
    async fn send(&mut self, msg: Msg) -> Result<()> {
        let sent = match &self.queue {
            Some(q) => match q.try_send(msg) {
                Ok(()) => true,
                Err(tokio::sync::mpsc::error::TrySendError::Full(msg)) => {
                    let waited = Instant::now();
                    let ok = q.send(msg).await.is_ok();
                    self.counts.backpressure_waits += 1;
                    self.counts.backpressure_micros +=
                        u64::try_from(waited.elapsed().as_micros()).unwrap_or(u64::MAX);
                    ok
                }
                Err(tokio::sync::mpsc::error::TrySendError::Closed(_)) => false,
            },
            None => false,
        };
        if sent {
            return Ok(());
        }
        Err(self.writer_failure().await)
    }

    /// Why the writer stopped (it only stops early on an error).
    async fn writer_failure(&mut self) -> anyhow::Error {
        self.queue = None;
        match self.writer.take() {
            Some(w) => match w.await {
                Ok(Err(e)) => e.context("the live path's writer stopped"),
                Ok(Ok(_)) => anyhow::anyhow!("the live path's writer stopped"),
                Err(e) => anyhow::anyhow!("the live path's writer failed: {e}"),
            },
            None => anyhow::anyhow!("the live path's writer stopped earlier"),
        }
    }

    /// Waits until everything queued so far is stored; returns the alerts
    /// stored since the last flush (none when the path has a sink).
    pub async fn flush(&mut self) -> Result<Vec<StoredAlert>> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.send(Msg::Flush(reply)).await?;
        match answer.await {
            Ok(alerts) => Ok(alerts),
            Err(_) => Err(self.writer_failure().await),
        }
    }

    /// Stores everything queued, stops the writer and returns the totals.
    pub async fn finish(mut self) -> Result<PathTotals> {
        self.queue = None;
        let writer = match self.writer.take() {
            Some(w) => w
                .await
                .map_err(|e| anyhow::anyhow!("the live path's writer failed: {e}"))??,
            None => anyhow::bail!("the live path's writer stopped earlier"),
        };
        Ok(PathTotals {
            counts: self.counts,
            writer,
        })
    }
}

/// How long the writer waits with nothing queued before it checkpoints what
/// it committed.
const IDLE_CHECKPOINT_AFTER: std::time::Duration = std::time::Duration::from_millis(100);

/// The one writer: takes what is queued (up to `batch_rows` lines), routes
/// the batch's alerts (one query), stores the batch in one database
/// transaction, then hands the stored alerts on and answers the flushes
/// queued with the batch.
async fn write_batches(
    store: Store,
    mut writer: LiveWriter,
    mut queue: tokio::sync::mpsc::Receiver<Msg>,
    options: PathOptions,
    mut sink: Option<AlertSink>,
) -> Result<WriterTotals> {
    let batch_rows = options.batch_rows.max(1);
    let mut totals = WriterTotals::default();
    let mut batch: Vec<Queued> = Vec::with_capacity(batch_rows);
    let mut rejected: Vec<LiveRejectedLine> = Vec::new();
    let mut flushes = Vec::new();
    let mut unclaimed: Vec<StoredAlert> = Vec::new();
    loop {
        // Idle (nothing queued for a while) after a commit: the WAL is
        // checkpointed now, off the path of the batches (see
        // `rapport_store::LiveWriter`).
        let first = if writer.wants_checkpoint() {
            match tokio::time::timeout(IDLE_CHECKPOINT_AFTER, queue.recv()).await {
                Ok(m) => m,
                Err(_) => {
                    let started = Instant::now();
                    writer
                        .checkpoint()
                        .await
                        .context("checkpointing the live path's writes")?;
                    totals.checkpoints += 1;
                    totals.checkpoint_micros +=
                        u64::try_from(started.elapsed().as_micros()).unwrap_or(0);
                    continue;
                }
            }
        } else {
            queue.recv().await
        };
        let Some(first) = first else { break };
        let mut next = Some(first);
        let deadline = tokio::time::Instant::now() + options.linger;
        while let Some(msg) = next.take() {
            match msg {
                Msg::Line(q) => batch.push(*q),
                Msg::Rejected(r) => rejected.push(*r),
                Msg::Flush(reply) => {
                    flushes.push(reply);
                    break;
                }
            }
            if batch.len() + rejected.len() >= batch_rows {
                break;
            }
            next = match queue.try_recv() {
                Ok(m) => Some(m),
                Err(tokio::sync::mpsc::error::TryRecvError::Empty) if !options.linger.is_zero() => {
                    // Linger for more lines; a closed queue or the deadline ends the batch.
                    tokio::time::timeout_at(deadline, queue.recv())
                        .await
                        .ok()
                        .flatten()
                }
                Err(_) => None,
            };
        }
        if !batch.is_empty() || !rejected.is_empty() {
            if let Some(gate) = &options.writer_gate {
                gate.acquire()
                    .await
                    .context("the live path's writer gate closed")?
                    .forget();
            }
            let started = Instant::now();
            let stored =
                write_batch(&store, &mut writer, &mut batch, &mut rejected, &mut totals).await?;
            totals.write_micros += u64::try_from(started.elapsed().as_micros()).unwrap_or(0);
            for alert in stored {
                match sink.as_mut() {
                    Some(s) => s(alert),
                    None => unclaimed.push(alert),
                }
            }
        }
        for reply in flushes.drain(..) {
            // A flusher that went away needs no answer.
            let _ = reply.send(std::mem::take(&mut unclaimed));
        }
    }
    Ok(totals)
}

async fn write_batch(
    store: &Store,
    writer: &mut LiveWriter,
    batch: &mut Vec<Queued>,
    rejected: &mut Vec<LiveRejectedLine>,
    totals: &mut WriterTotals,
) -> Result<Vec<StoredAlert>> {
    let customers: Vec<i64> = batch
        .iter()
        .flat_map(|q| q.hits.iter().map(|h| h.customer_id))
        .collect();
    let routes = if customers.is_empty() {
        HashMap::new()
    } else {
        store.alert_routes(&customers).await?
    };
    let mut out = LiveBatch {
        txns: Vec::with_capacity(batch.len()),
        alerts: Vec::new(),
        rejected: std::mem::take(rejected),
    };
    // The transactions are stored in (customer, day) order, stable: each
    // insert then lands next to the previous one in `live_txn_customer_idx`
    // (the customers of a batch are otherwise hit at random, the writer's
    // largest cost on SQLite). Their ids within a batch follow that order,
    // not arrival: nothing reads arrival from them — the warm-up replays by
    // day and builds the same state in any order within a day (sums, and
    // the latest transaction by key), and a key never comes twice in a
    // batch (the path's key set). The alerts keep arrival order.
    let mut order: Vec<usize> = (0..batch.len()).collect();
    order.sort_by_key(|&i| (batch[i].txn.customer_id, batch[i].txn.booked_on));
    let mut position = vec![0usize; batch.len()];
    for (at, &i) in order.iter().enumerate() {
        position[i] = at;
    }
    let mut txns: Vec<Option<LiveBatchTxn>> = Vec::with_capacity(batch.len());
    let mut moments = Vec::new();
    for (i, q) in batch.drain(..).enumerate() {
        if !q.hits.is_empty() {
            let evidence = EvidenceTxn {
                booked_on: q.txn.booked_on,
                amount: q.txn.amount,
                category: q.txn.category.clone(),
                channel: q.txn.channel.clone(),
                source_key: q.txn.source_key.clone(),
            };
            for hit in &q.hits {
                let route = routes
                    .get(&hit.customer_id)
                    .cloned()
                    .unwrap_or_else(AlertRoute::central);
                out.alerts.push((
                    position[i],
                    alert_record(hit, "live", std::slice::from_ref(&evidence), &route),
                ));
                moments.push((q.arrived, q.decided));
            }
        }
        txns.push(Some(q.txn));
    }
    out.txns.extend(
        order
            .iter()
            .filter_map(|&i| txns.get_mut(i).and_then(Option::take)),
    );
    let (mut back, stored) = writer.write(out).await?;
    let now = Instant::now();
    totals.batches += 1;
    totals.rejected_stored += back.rejected.len() as u64;
    let n_stored = stored.stored.iter().filter(|s| **s).count() as u64;
    totals.transactions_stored += n_stored;
    totals.transactions_already_stored += back.txns.len() as u64 - n_stored;
    let mut described = Vec::new();
    for (((_, record), id), (arrived, decided)) in
        back.alerts.iter().zip(&stored.alert_ids).zip(moments)
    {
        let Some(id) = id else { continue };
        totals.alerts_stored += 1;
        described.push(StoredAlert {
            line: describe(*id, record),
            arrived,
            decided,
            stored: now,
        });
    }
    // The buffer of refused lines goes back to the caller, emptied.
    back.rejected.clear();
    *rejected = back.rejected;
    Ok(described)
}

/// An alert's NDJSON description (the shape `rapport stream` prints).
fn describe(id: i64, record: &rapport_store::NewAlert) -> Value {
    let evidence: Value = serde_json::from_str(&record.evidence).unwrap_or(Value::Null);
    json!({
        "id": id,
        "customer_id": record.customer_id,
        "rule": record.rule,
        "severity": record.severity,
        "raised_on": record.raised_on.to_string(),
        "origin": record.origin,
        "message": record.message,
        "assignee_id": record.assignee_id,
        "queue": record.queue,
        "evidence": evidence,
    })
}

/// Feeds an NDJSON body through a live path (the API's route): every line
/// taken, then flushed, so the answer is given once everything is stored;
/// rejected lines with their number, field and reason, the stored alerts described.
pub async fn feed_body_path(
    path: &mut LivePath,
    received_by: &str,
    body: &[u8],
) -> Result<FeedReport> {
    let mut r = FeedReport::default();
    let mut offset = 0usize;
    for (i, raw) in body.split(|&b| b == b'\n').enumerate() {
        let start = offset;
        offset += raw.len() + 1;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let number = u64::try_from(i + 1).unwrap_or(u64::MAX);
        match path
            .take_numbered(received_by, number, line, Instant::now())
            .await?
        {
            Taken::Blank => continue,
            Taken::Rejected { field, reason } => {
                r.lines += 1;
                let reason = if field == "line" {
                    format!("{reason} (line starts at byte offset {start} of the body)")
                } else {
                    reason
                };
                r.rejected
                    .push(json!({ "line": i + 1, "field": field, "reason": reason }));
            }
            Taken::Duplicate { .. } => {
                r.lines += 1;
                r.duplicates += 1;
            }
            Taken::Accepted { .. } => {
                r.lines += 1;
                r.accepted += 1;
            }
        }
    }
    r.alerts = path.flush().await?.into_iter().map(|a| a.line).collect();
    Ok(r)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn minor_units(v: &Value) -> Result<i64, String> {
        let text = v.to_string();
        let scalar: Scalar<'_> = serde_json::from_str(&text).unwrap_or_default();
        super::minor_units(&scalar)
    }

    #[test]
    fn amounts_in_major_units_become_exact_minor_units() {
        assert_eq!(minor_units(&json!("-5000.00")), Ok(-500_000));
        assert_eq!(minor_units(&json!("12.3")), Ok(1_230));
        assert_eq!(minor_units(&json!(0.07)), Ok(7));
        assert_eq!(minor_units(&json!(42)), Ok(4_200));
        assert_eq!(minor_units(&json!("1.230")), Ok(123));
        assert!(minor_units(&json!("1.234")).is_err());
        assert!(minor_units(&json!("1e3")).is_err());
        assert!(minor_units(&json!("abc")).is_err());
        assert!(minor_units(&json!(true)).is_err());
    }

    #[test]
    fn a_bad_line_names_the_field() {
        let field = |line: &str| parse_line(line).err().map(|b| b.field);
        assert_eq!(field("not json"), Some("json"));
        assert_eq!(
            field(
                r#"{"account":"A","booked_on":"2024-02-30","amount":"1","category":"fee","channel":"online","source_key":"k"}"#
            ),
            Some("booked_on")
        );
        assert_eq!(
            field(
                r#"{"account":"A","booked_on":"2024-02-01","amount":"1.001","category":"fee","channel":"online","source_key":"k"}"#
            ),
            Some("amount")
        );
        assert_eq!(
            field(
                r#"{"booked_on":"2024-02-01","amount":"1","category":"fee","channel":"online","source_key":"k"}"#
            ),
            Some("account")
        );
        assert_eq!(field("[1, 2, 3]"), Some("json"), "an array is not a line");
        assert_eq!(
            field(
                r#"{"account":null,"booked_on":"2024-02-01","amount":"1","category":"fee","channel":"online","source_key":"k"}"#
            ),
            Some("account")
        );
        assert_eq!(
            field(
                r#"{"account":{"x":[1]},"booked_on":"2024-02-01","amount":"1","category":"fee","channel":"online","source_key":"k"}"#
            ),
            Some("account")
        );
        // Escaped text, numeric keys and unknown fields.
        let escaped = parse_line(
            r#"{"source":"c\u006fre","account":12,"booked_on":"2024-02-01","amount":"+1.5","category":"F\u00e9e","channel":"atm","source_key":7,"extra":{"a":[1]}}"#,
        );
        assert!(
            matches!(&escaped, Ok(t) if t.account_source == "core" && t.account_key == "12"
                && t.source_key == "7" && t.amount == 150 && t.category == "f\u{e9}e"
                && t.booked_on == NaiveDate::from_ymd_opt(2024, 2, 1).unwrap()),
            "{escaped:?}"
        );
        let ok = parse_line(
            r#"{"account":"A","booked_on":"2024-02-01","amount":-3.5,"balance_after":null,"category":"Fee","channel":"online","source_key":"k"}"#,
        );
        assert!(
            matches!(ok, Ok(StreamTxn { amount: -350, ref category, .. }) if category == "fee")
        );
    }
}
