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

/// Binds an alert's ten values to the alert insert (`$5`, the time, twice).
macro_rules! bind_alert {
    ($q:expr, $a:expr, $now:expr) => {
        $q.bind($a.customer_id)
            .bind($a.rule.as_str())
            .bind($a.severity.as_str())
            .bind($a.raised_on)
            .bind($now)
            .bind($a.origin.as_str())
            .bind($a.message.as_str())
            .bind($a.evidence.as_str())
            .bind($a.assignee_id)
            .bind($a.queue.as_deref())
    };
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
    /// transaction (`alerts[i].0`, an index into `txns`) was stored now.
    /// All or nothing: on an error nothing of the batch is stored.
    pub async fn store_live_batch(
        &self,
        txns: &[LiveBatchTxn],
        alerts: &[(usize, NewAlert)],
    ) -> Result<LiveBatchStored> {
        let mut new_keys: HashSet<(String, String)> = HashSet::new();
        let mut out = LiveBatchStored::default();
        let now = Utc::now();
        let alert_sql = "INSERT INTO alert (customer_id, rule, severity, raised_on, raised_at, \
                         origin, message, evidence, assignee_id, queue, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $5) RETURNING id";
        match self {
            Store::Sqlite(p) => {
                let mut tx = p.begin().await?;
                let mut rest = txns;
                while !rest.is_empty() {
                    let size = SQLITE_CHUNKS
                        .iter()
                        .copied()
                        .find(|&n| n <= rest.len())
                        .unwrap_or(1);
                    let (block, tail) = rest.split_at(size);
                    rest = tail;
                    let mut sql = String::with_capacity(200 + block.len() * 40);
                    sql.push_str(
                        "INSERT INTO live_txn (source, source_key, account_id, customer_id, \
                         booked_on, amount, balance_after, category, channel, received_by, \
                         received_at) VALUES ",
                    );
                    for i in 0..block.len() {
                        if i > 0 {
                            sql.push(',');
                        }
                        sql.push_str("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
                    }
                    sql.push_str(
                        " ON CONFLICT (source, source_key) DO NOTHING RETURNING source, source_key",
                    );
                    let mut q = sqlx::query_as::<_, (String, String)>(&sql);
                    for t in block {
                        q = q
                            .bind(t.source.as_str())
                            .bind(t.source_key.as_str())
                            .bind(t.account_id)
                            .bind(t.customer_id)
                            .bind(t.booked_on)
                            .bind(t.amount)
                            .bind(t.balance_after)
                            .bind(t.category.as_str())
                            .bind(t.channel.as_str())
                            .bind(t.received_by.as_str())
                            .bind(t.received_at);
                    }
                    new_keys.extend(q.fetch_all(&mut *tx).await?);
                }
                out.stored = stored_flags(txns, &new_keys);
                for (i, a) in alerts {
                    if !out.stored.get(*i).copied().unwrap_or(false) {
                        out.alert_ids.push(None);
                        continue;
                    }
                    let id: i64 = bind_alert!(sqlx::query_scalar(alert_sql), a, now)
                        .fetch_one(&mut *tx)
                        .await?;
                    out.alert_ids.push(Some(id));
                }
                tx.commit().await?;
            }
            Store::Postgres(p) => {
                let mut tx = p.begin().await?;
                if !txns.is_empty() {
                    let col = |f: fn(&LiveBatchTxn) -> String| -> Vec<String> {
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
                    .bind(col(|t| t.source.clone()))
                    .bind(col(|t| t.source_key.clone()))
                    .bind(txns.iter().map(|t| t.account_id).collect::<Vec<_>>())
                    .bind(txns.iter().map(|t| t.customer_id).collect::<Vec<_>>())
                    .bind(txns.iter().map(|t| t.booked_on).collect::<Vec<_>>())
                    .bind(txns.iter().map(|t| t.amount).collect::<Vec<_>>())
                    .bind(txns.iter().map(|t| t.balance_after).collect::<Vec<_>>())
                    .bind(col(|t| t.category.clone()))
                    .bind(col(|t| t.channel.clone()))
                    .bind(col(|t| t.received_by.clone()))
                    .bind(txns.iter().map(|t| t.received_at).collect::<Vec<_>>())
                    .fetch_all(&mut *tx)
                    .await?;
                    new_keys.extend(rows);
                }
                out.stored = stored_flags(txns, &new_keys);
                for (i, a) in alerts {
                    if !out.stored.get(*i).copied().unwrap_or(false) {
                        out.alert_ids.push(None);
                        continue;
                    }
                    let id: i64 = bind_alert!(sqlx::query_scalar(alert_sql), a, now)
                        .fetch_one(&mut *tx)
                        .await?;
                    out.alert_ids.push(Some(id));
                }
                tx.commit().await?;
            }
        }
        Ok(out)
    }
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
