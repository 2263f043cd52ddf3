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
use rapport_store::{AlertRoute, EvidenceTxn, NewLiveTxn, Store};
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
    state: Arc<tokio::sync::Mutex<Option<LiveState>>>,
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
            match warm_up(&store, rules.as_deref(), None).await {
                Ok((state, _)) => *guard = Some(state),
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

    /// Feeds an NDJSON body to the engine (see [`feed_body`]), building the
    /// engine first if it is not warm.
    pub async fn feed(&self, store: &Store, received_by: &str, body: &[u8]) -> Result<FeedReport> {
        let mut guard = self.state.lock().await;
        if guard.is_none() {
            let (state, _) = warm_up(store, self.rules.as_deref(), None).await?;
            *guard = Some(state);
        }
        let Some(state) = guard.as_mut() else {
            anyhow::bail!("the live engine is not ready");
        };
        feed_body(
            store,
            &mut state.engine,
            &mut state.accounts,
            received_by,
            body,
        )
        .await
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

pub fn parse_line(line: &str) -> Result<StreamTxn, BadLine> {
    let v: Value = serde_json::from_str(line).map_err(|e| bad("json", e.to_string()))?;
    let obj = v
        .as_object()
        .ok_or_else(|| bad("json", "expected an object"))?;
    let text = |field: &'static str| -> Result<String, BadLine> {
        match obj.get(field) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            Some(Value::Number(n)) if field == "account" || field == "source_key" => {
                Ok(n.to_string())
            }
            Some(_) => Err(bad(field, "expected a non-empty string")),
            None => Err(bad(field, "missing")),
        }
    };
    let account_source = match obj.get("source") {
        None | Some(Value::Null) => "core".to_string(),
        Some(_) => text("source")?,
    };
    let booked_on = text("booked_on")?;
    let booked_on = NaiveDate::parse_from_str(&booked_on, "%Y-%m-%d").map_err(|_| {
        bad(
            "booked_on",
            format!("{booked_on:?} is not a date YYYY-MM-DD"),
        )
    })?;
    let amount = match obj.get("amount") {
        None | Some(Value::Null) => return Err(bad("amount", "missing")),
        Some(v) => minor_units(v).map_err(|p| bad("amount", p))?,
    };
    let balance_after = match obj.get("balance_after") {
        None | Some(Value::Null) => None,
        Some(v) => Some(minor_units(v).map_err(|p| bad("balance_after", p))?),
    };
    Ok(StreamTxn {
        account_source,
        account_key: text("account")?,
        booked_on,
        amount,
        balance_after,
        category: text("category")?.to_ascii_lowercase(),
        channel: text("channel")?.to_ascii_lowercase(),
        source_key: text("source_key")?,
    })
}

/// Major units (a decimal string or a JSON number, at most 2 decimals) to
/// exact minor units.
fn minor_units(v: &Value) -> Result<i64, String> {
    let text = match v {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return Err("expected a decimal string or a number".to_string()),
    };
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(&text)),
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
    let cents: i64 = format!("{frac:0<2}")
        .parse()
        .map_err(|_| format!("{text:?} is not a decimal amount"))?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let ok = parse_line(
            r#"{"account":"A","booked_on":"2024-02-01","amount":-3.5,"balance_after":null,"category":"Fee","channel":"online","source_key":"k"}"#,
        );
        assert!(
            matches!(ok, Ok(StreamTxn { amount: -350, ref category, .. }) if category == "fee")
        );
    }
}
