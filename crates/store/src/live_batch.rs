//! The live path's store side at speed (issue 19): the account keys loaded
//! once at bootstrap (no per-line lookup), the keys of every stored live
//! transaction (so a replayed line is known as a duplicate in memory), and
//! one batch write — many live transactions and the alerts they raised, in
//! ONE database transaction — that stores each (source, source_key) at most
//! once (`ON CONFLICT DO NOTHING`) and an alert only with the transaction
//! that raised it. A crash loses at most the batch not yet committed, and
//! feeding it again stores it once.
//!
//! Like the rest of the store it decides nothing about content.

use crate::dialect::on_pool;
use crate::{NewAlert, Result, Store};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashSet;

/// Rows per multi-row INSERT on SQLite (11 parameters each); a batch is cut
/// into these fixed sizes so the prepared statements are reused.
const SQLITE_CHUNKS: [usize; 3] = [256, 16, 1];

/// Alerts per multi-row INSERT (10 parameters each: within both backends'
/// limits).
const ALERTS_PER_INSERT: usize = 500;

/// Inserts the alerts whose transaction was stored now (`stored[i]`), in
/// multi-row INSERTs (the same statement on both backends), and evaluates to
/// each alert's id (`None` when its transaction was not stored now). Ids
/// are handed out in the order of the VALUES rows on both backends, so the
/// ids read back, sorted, are the rows' ids in order.
macro_rules! insert_alerts_batch {
    ($conn:expr, $alerts:expr, $stored:expr, $now:expr) => {{
        let alerts: &[(usize, NewAlert)] = $alerts;
        let stored: &[bool] = $stored;
        let now: DateTime<Utc> = $now;
        let keep: Vec<&NewAlert> = alerts
            .iter()
            .filter(|(i, _)| stored.get(*i).copied().unwrap_or(false))
            .map(|(_, a)| a)
            .collect();
        let mut ids: Vec<i64> = Vec::with_capacity(keep.len());
        for block in keep.chunks(ALERTS_PER_INSERT) {
            let sql = alert_insert_sql(block.len());
            let mut q = sqlx::query_scalar::<_, i64>(&sql);
            for a in block {
                q = q
                    .bind(a.customer_id)
                    .bind(a.rule.as_str())
                    .bind(a.severity.as_str())
                    .bind(a.raised_on)
                    .bind(now)
                    .bind(a.origin.as_str())
                    .bind(a.message.as_str())
                    .bind(a.evidence.as_str())
                    .bind(a.assignee_id)
                    .bind(a.queue.as_deref());
            }
            let mut got = q.fetch_all($conn).await?;
            if got.len() != block.len() {
                return Err(crate::StoreError::NotFound(format!(
                    "{} alert ids for {} alerts",
                    got.len(),
                    block.len()
                )));
            }
            got.sort_unstable();
            ids.extend(got);
        }
        let mut ids = ids.into_iter();
        alerts
            .iter()
            .map(|(i, _)| {
                if stored.get(*i).copied().unwrap_or(false) {
                    ids.next()
                } else {
                    None
                }
            })
            .collect::<Vec<Option<i64>>>()
    }};
}

/// Inserts the refused lines in multi-row INSERTs.
macro_rules! insert_rejected_batch {
    ($conn:expr, $rejected:expr) => {{
        let rejected: &[LiveRejectedLine] = $rejected;
        for block in rejected.chunks(ALERTS_PER_INSERT) {
            let sql = numbered_insert_sql(
                "INSERT INTO live_rejected_line (received_at, received_by, line, raw, field, \
                 reason) VALUES ",
                6,
                block.len(),
                None,
            );
            let mut q = sqlx::query(&sql);
            for r in block {
                q = q
                    .bind(r.received_at)
                    .bind(r.received_by.as_str())
                    .bind(r.line)
                    .bind(r.raw.as_str())
                    .bind(r.field.as_str())
                    .bind(r.reason.as_str());
            }
            q.execute($conn).await?;
        }
    }};
}

/// `head` then `rows` rows of `width` numbered parameters (`$1`, `$2`, …),
/// then `tail`: valid on both backends.
fn numbered_insert_sql(head: &str, width: usize, rows: usize, tail: Option<&str>) -> String {
    use std::fmt::Write;
    let mut sql = String::with_capacity(head.len() + rows * width * 6 + 40);
    sql.push_str(head);
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ",(" });
        for c in 0..width {
            if c > 0 {
                sql.push(',');
            }
            let _ = write!(sql, "${}", r * width + c + 1);
        }
        sql.push(')');
    }
    if let Some(t) = tail {
        sql.push_str(t);
    }
    sql
}

/// The multi-row alert insert: `updated_at` is `raised_at` (`$5` of each row).
fn alert_insert_sql(rows: usize) -> String {
    use std::fmt::Write;
    let mut sql = String::with_capacity(160 + rows * 70);
    sql.push_str(
        "INSERT INTO alert (customer_id, rule, severity, raised_on, raised_at, origin, message, \
         evidence, assignee_id, queue, updated_at) VALUES ",
    );
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ",(" });
        let b = r * 10;
        for c in 1..=10 {
            let _ = write!(sql, "${},", b + c);
        }
        let _ = write!(sql, "${})", b + 5);
    }
    sql.push_str(" RETURNING id");
    sql
}

/// A refused live line to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveRejectedLine {
    pub received_at: DateTime<Utc>,
    pub received_by: String,
    /// The line's number in its stream or body.
    pub line: i64,
    /// The line as received, cut (see [`LiveRejectedLine::raw_text`]).
    pub raw: String,
    pub field: String,
    pub reason: String,
}

impl LiveRejectedLine {
    /// Bytes of a refused line kept, at most.
    pub const RAW_BYTES: usize = 2_000;

    /// The raw text kept of a line: at most [`Self::RAW_BYTES`] bytes of it,
    /// bytes that are not UTF-8 as U+FFFD (NUL too: PostgreSQL refuses it).
    pub fn raw_text(line: &[u8]) -> String {
        let cut = &line[..line.len().min(Self::RAW_BYTES)];
        let text = String::from_utf8_lossy(cut).replace('\0', "\u{FFFD}");
        if text.len() <= Self::RAW_BYTES {
            return text;
        }
        let mut end = Self::RAW_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text[..end].to_string()
    }
}

/// A kept refused line, as read back.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LiveRejectedRow {
    pub id: i64,
    pub received_at: DateTime<Utc>,
    pub received_by: String,
    pub line: i64,
    pub raw: String,
    pub field: String,
    pub reason: String,
}

/// A live transaction to store, with its account already resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveBatchTxn {
    pub source: String,
    pub source_key: String,
    pub account_id: i64,
    pub customer_id: i64,
    pub booked_on: NaiveDate,
    pub amount: i64,
    pub balance_after: Option<i64>,
    pub category: String,
    pub channel: String,
    pub received_by: String,
    pub received_at: DateTime<Utc>,
}

/// An account as the live path resolves it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LiveAccountKey {
    pub source: String,
    pub source_key: String,
    pub account_id: i64,
    pub customer_id: i64,
}

/// What one batch write stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveBatchStored {
    /// Per transaction of the batch (same order): stored now, or not (its
    /// (source, source_key) was already stored — nothing changed).
    pub stored: Vec<bool>,
    /// Per alert of the batch (same order): its id, or `None` when its
    /// transaction was not stored now (the alert is then not stored either).
    pub alert_ids: Vec<Option<i64>>,
}

impl Store {
    /// Every account's (source, key) with its id and customer: the map the
    /// live path loads once at bootstrap.
    pub async fn live_account_keys(&self) -> Result<Vec<LiveAccountKey>> {
        let sql = "SELECT source, source_key, id AS account_id, customer_id FROM account";
        Ok(on_pool!(self, p => sqlx::query_as::<_, LiveAccountKey>(sql).fetch_all(p).await?))
    }

    /// One account by (source, key): the live path's fallback for a key its
    /// map does not hold (an account imported after the bootstrap).
    pub async fn live_account_key(
        &self,
        source: &str,
        source_key: &str,
    ) -> Result<Option<LiveAccountKey>> {
        let sql = "SELECT source, source_key, id AS account_id, customer_id FROM account \
                   WHERE source = $1 AND source_key = $2";
        Ok(on_pool!(self, p => sqlx::query_as::<_, LiveAccountKey>(sql)
            .bind(source).bind(source_key).fetch_optional(p).await?))
    }

    /// The (source, source_key) of every stored live transaction.
    pub async fn live_txn_keys(&self) -> Result<Vec<(String, String)>> {
        let sql = "SELECT source, source_key FROM live_txn";
        Ok(on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await?))
    }

    /// Whether a transaction with this (source, source_key) was imported into `txn`.
    pub async fn txn_key_imported(&self, source: &str, source_key: &str) -> Result<bool> {
        let sql = "SELECT COUNT(*) FROM txn WHERE source = $1 AND source_key = $2";
        let n: i64 = on_pool!(self, p => sqlx::query_scalar(sql)
            .bind(source).bind(source_key).fetch_one(p).await?);
        Ok(n > 0)
    }

    /// How many alerts the live path stored (origin `live`).
    pub async fn live_alert_count(&self) -> Result<i64> {
        let sql = "SELECT COUNT(*) FROM alert WHERE origin = 'live'";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).fetch_one(p).await?))
    }

    /// Stores a batch in one database transaction: every transaction whose
    /// (source, source_key) is not stored yet, then each alert whose
    /// transaction (`alerts[i].0`, an index into `txns`) was stored now, then
    /// the refused lines (`live_rejected_line`). All or nothing: on an error
    /// nothing of the batch is stored.
    pub async fn store_live_batch(
        &self,
        txns: &[LiveBatchTxn],
        alerts: &[(usize, NewAlert)],
        rejected: &[LiveRejectedLine],
    ) -> Result<LiveBatchStored> {
        let mut out = LiveBatchStored::default();
        let now = Utc::now();
        match self {
            Store::Sqlite(p) => {
                let mut tx = p.begin().await?;
                // The fast way: every row inserted, counted, nothing read back.
                let mut inserted = 0u64;
                for block in sqlite_blocks(txns) {
                    let args = sqlite_txn_args(block)?;
                    inserted += sqlx::query_with(sqlite_txn_sql_cached(block.len(), false), args)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                if inserted == txns.len() as u64 {
                    out.stored = vec![true; txns.len()];
                } else {
                    // Some key was already stored (another writer, or twice in
                    // the batch): undo and insert again, reading back which.
                    tx.rollback().await?;
                    tx = p.begin().await?;
                    let mut new_keys: HashSet<(String, String)> = HashSet::new();
                    for block in sqlite_blocks(txns) {
                        let args = sqlite_txn_args(block)?;
                        let rows: Vec<(String, String)> =
                            sqlx::query_as_with(sqlite_txn_sql_cached(block.len(), true), args)
                                .fetch_all(&mut *tx)
                                .await?;
                        new_keys.extend(rows);
                    }
                    out.stored = stored_flags(txns, &new_keys);
                }
                out.alert_ids = insert_alerts_batch!(&mut *tx, alerts, &out.stored, now);
                insert_rejected_batch!(&mut *tx, rejected);
                tx.commit().await?;
            }
            Store::Postgres(p) => {
                let mut tx = p.begin().await?;
                let mut new_keys: HashSet<(String, String)> = HashSet::new();
                if !txns.is_empty() {
                    let col = |f: fn(&LiveBatchTxn) -> &str| -> Vec<&str> {
                        txns.iter().map(f).collect()
                    };
                    let rows: Vec<(String, String)> = sqlx::query_as(
                        "INSERT INTO live_txn (source, source_key, account_id, customer_id, \
                         booked_on, amount, balance_after, category, channel, received_by, \
                         received_at) \
                         SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[], $3::BIGINT[], $4::BIGINT[], \
                         $5::DATE[], $6::BIGINT[], $7::BIGINT[], $8::TEXT[], $9::TEXT[], \
                         $10::TEXT[], $11::TIMESTAMPTZ[]) \
                         ON CONFLICT (source, source_key) DO NOTHING RETURNING source, source_key",
                    )
                    .bind(col(|t| &t.source))
                    .bind(col(|t| &t.source_key))
                    .bind(txns.iter().map(|t| t.account_id).collect::<Vec<_>>())
                    .bind(txns.iter().map(|t| t.customer_id).collect::<Vec<_>>())
                    .bind(txns.iter().map(|t| t.booked_on).collect::<Vec<_>>())
                    .bind(txns.iter().map(|t| t.amount).collect::<Vec<_>>())
                    .bind(txns.iter().map(|t| t.balance_after).collect::<Vec<_>>())
                    .bind(col(|t| &t.category))
                    .bind(col(|t| &t.channel))
                    .bind(col(|t| &t.received_by))
                    .bind(txns.iter().map(|t| t.received_at).collect::<Vec<_>>())
                    .fetch_all(&mut *tx)
                    .await?;
                    new_keys.extend(rows);
                }
                out.stored = stored_flags(txns, &new_keys);
                out.alert_ids = insert_alerts_batch!(&mut *tx, alerts, &out.stored, now);
                insert_rejected_batch!(&mut *tx, rejected);
                tx.commit().await?;
            }
        }
        Ok(out)
    }

    /// How many refused live lines are kept.
    pub async fn live_rejected_count(&self) -> Result<i64> {
        let sql = "SELECT COUNT(*) FROM live_rejected_line";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).fetch_one(p).await?))
    }

    /// The refused live lines kept, oldest first (at most `limit`).
    pub async fn live_rejected_lines(&self, limit: i64) -> Result<Vec<LiveRejectedRow>> {
        let sql = "SELECT id, received_at, received_by, line, raw, field, reason \
                   FROM live_rejected_line ORDER BY id LIMIT $1";
        Ok(
            on_pool!(self, p => sqlx::query_as::<_, LiveRejectedRow>(sql)
            .bind(limit).fetch_all(p).await?),
        )
    }
}

/// A batch cut into the fixed block sizes of [`SQLITE_CHUNKS`].
fn sqlite_blocks(txns: &[LiveBatchTxn]) -> Vec<&[LiveBatchTxn]> {
    let mut out = Vec::new();
    let mut rest = txns;
    while !rest.is_empty() {
        let size = SQLITE_CHUNKS
            .iter()
            .copied()
            .find(|&n| n <= rest.len())
            .unwrap_or(1);
        let (block, tail) = rest.split_at(size);
        out.push(block);
        rest = tail;
    }
    out
}

/// The SQL of a multi-row live_txn insert of `rows` rows (the same text for
/// the same size, so SQLite's prepared statement is reused).
fn sqlite_txn_sql(rows: usize, returning: bool) -> String {
    let mut sql = String::with_capacity(240 + rows * 36);
    sql.push_str(
        "INSERT INTO live_txn (source, source_key, account_id, customer_id, booked_on, amount, \
         balance_after, category, channel, received_by, received_at) VALUES ",
    );
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?,?,?,?,?,?,?,?,?)");
    }
    sql.push_str(" ON CONFLICT (source, source_key) DO NOTHING");
    if returning {
        sql.push_str(" RETURNING source, source_key");
    }
    sql
}

/// The statements' texts, built once per block size.
fn sqlite_txn_sql_cached(rows: usize, returning: bool) -> &'static str {
    use std::sync::OnceLock;
    static PLAIN: OnceLock<Vec<String>> = OnceLock::new();
    static RETURNING: OnceLock<Vec<String>> = OnceLock::new();
    let cell = if returning { &RETURNING } else { &PLAIN };
    let all = cell.get_or_init(|| {
        SQLITE_CHUNKS
            .iter()
            .map(|&n| sqlite_txn_sql(n, returning))
            .collect()
    });
    match SQLITE_CHUNKS.iter().position(|&n| n == rows) {
        Some(i) => all[i].as_str(),
        // Not a block size (cannot happen: blocks are cut to these sizes).
        None => all[all.len() - 1].as_str(),
    }
}

/// The arguments of one block's insert, owned (they are moved to sqlx's
/// worker thread).
fn sqlite_txn_args(block: &[LiveBatchTxn]) -> Result<sqlx::sqlite::SqliteArguments<'static>> {
    use sqlx::Arguments;
    let mut a = sqlx::sqlite::SqliteArguments::default();
    a.reserve(block.len() * 11, 0);
    let add = |r: std::result::Result<(), sqlx::error::BoxDynError>| r.map_err(sqlx::Error::Encode);
    for t in block {
        add(a.add(t.source.clone()))?;
        add(a.add(t.source_key.clone()))?;
        add(a.add(t.account_id))?;
        add(a.add(t.customer_id))?;
        add(a.add(crate::dialect::date_text(t.booked_on)))?;
        add(a.add(t.amount))?;
        add(a.add(t.balance_after))?;
        add(a.add(t.category.clone()))?;
        add(a.add(t.channel.clone()))?;
        add(a.add(t.received_by.clone()))?;
        add(a.add(t.received_at))?;
    }
    Ok(a)
}

/// Which transactions of the batch were inserted now. A key twice in one
/// batch is stored once: only its first occurrence counts as stored.
fn stored_flags(txns: &[LiveBatchTxn], new_keys: &HashSet<(String, String)>) -> Vec<bool> {
    let mut taken: HashSet<(&str, &str)> = HashSet::new();
    txns.iter()
        .map(|t| {
            new_keys.contains(&(t.source.clone(), t.source_key.clone()))
                && taken.insert((t.source.as_str(), t.source_key.as_str()))
        })
        .collect()
}
