//! Transactions posted to the live feed (migration `0014_live_txn`): stored
//! once per (source, source_key) before the live engine sees them, so a
//! transaction posted twice is recognised as a duplicate, and replayed by
//! the live engine's warm-up after a restart.
//!
//! `source` is the source system of the account and its transactions (the
//! line's `source` field, `core` when absent); a pair already imported into
//! `txn` is a duplicate too, since the batch and the warm-up already count it.

use crate::dialect::on_pool;
use crate::{Result, Store};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// A posted transaction to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewLiveTxn {
    pub source: String,
    pub source_key: String,
    pub account_id: i64,
    pub booked_on: NaiveDate,
    pub amount: i64,
    pub balance_after: Option<i64>,
    pub category: String,
    pub channel: String,
    /// Who posted it (the API user, or `cli` for `rapport stream`).
    pub received_by: String,
    pub received_at: DateTime<Utc>,
}

/// A stored live transaction, as the warm-up replays it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct LiveTxnRow {
    pub id: i64,
    pub source: String,
    pub source_key: String,
    pub account_id: i64,
    pub booked_on: NaiveDate,
    pub amount: i64,
    pub balance_after: Option<i64>,
    pub category: String,
    pub channel: String,
}

impl Store {
    /// Stores a posted transaction unless one with its (source, source_key)
    /// is already stored, live or imported. True when stored now, false for
    /// a duplicate (nothing changed). An unknown account is an error.
    pub async fn insert_live_txn(&self, t: &NewLiveTxn) -> Result<bool> {
        let imported = "SELECT COUNT(*) FROM txn WHERE source = $1 AND source_key = $2";
        let n: i64 = on_pool!(self, p => sqlx::query_scalar(imported)
            .bind(&t.source).bind(&t.source_key).fetch_one(p).await?);
        if n > 0 {
            return Ok(false);
        }
        let sql = "INSERT INTO live_txn (source, source_key, account_id, customer_id, booked_on, \
                   amount, balance_after, category, channel, received_by, received_at) \
                   SELECT $1, $2, a.id, a.customer_id, $4, $5, $6, $7, $8, $9, $10 \
                   FROM account a WHERE a.id = $3 \
                   ON CONFLICT (source, source_key) DO NOTHING";
        let done = on_pool!(self, p => sqlx::query(sql)
            .bind(&t.source).bind(&t.source_key).bind(t.account_id).bind(t.booked_on)
            .bind(t.amount).bind(t.balance_after).bind(&t.category).bind(&t.channel)
            .bind(&t.received_by).bind(t.received_at)
            .execute(p).await?.rows_affected());
        if done == 1 {
            return Ok(true);
        }
        let known = "SELECT COUNT(*) FROM account WHERE id = $1";
        let n: i64 = on_pool!(self, p => sqlx::query_scalar(known)
            .bind(t.account_id).fetch_one(p).await?);
        if n == 0 {
            return Err(crate::StoreError::NotFound(format!(
                "account id {}",
                t.account_id
            )));
        }
        Ok(false)
    }

    /// Every stored live transaction not imported into `txn` since, in
    /// booking order (then arrival order): what the live engine replays on
    /// top of the imported history when it starts.
    pub async fn live_txns_not_imported(&self) -> Result<Vec<LiveTxnRow>> {
        let sql = "SELECT l.id, l.source, l.source_key, l.account_id, l.booked_on, l.amount, \
                   l.balance_after, l.category, l.channel FROM live_txn l \
                   WHERE NOT EXISTS (SELECT 1 FROM txn t \
                                     WHERE t.source = l.source AND t.source_key = l.source_key) \
                   ORDER BY l.booked_on, l.id";
        Ok(on_pool!(self, p => sqlx::query_as::<_, LiveTxnRow>(sql).fetch_all(p).await?))
    }

    /// How many live transactions are stored.
    pub async fn live_txn_count(&self) -> Result<i64> {
        let sql = "SELECT COUNT(*) FROM live_txn";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).fetch_one(p).await?))
    }
}
