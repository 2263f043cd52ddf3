//! Queries behind the columnar analytical copy (issue 19, ADR 0004): where
//! the transactions stand (rows and highest id), and the transactions added
//! since a copy was written, for the copy's appends.

use crate::dialect::on_pool;
use crate::{epoch_day, Result, Store, TxnChunk};
use chrono::NaiveDate;

/// How far the transaction table reaches: its rows and highest id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TxnWatermark {
    pub rows: i64,
    pub max_id: i64,
}

type NewTxn = (
    i64,
    i64,
    NaiveDate,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    String,
);

impl Store {
    /// The transaction table's row count and highest id (one query).
    ///
    /// The count walks a whole index of the largest table: on SQLite it runs
    /// with the connection's memory map off (`schema::set_sqlite_mmap`), so a
    /// scoring run that reads the columnar copy does not keep most of the
    /// database file resident for this one count.
    pub async fn txn_watermark(&self) -> Result<TxnWatermark> {
        let sql = "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM txn";
        let (rows, max_id): (i64, i64) = match self {
            Store::Sqlite(p) => {
                let mut conn = p.acquire().await?;
                crate::schema::set_sqlite_mmap(&mut conn, false).await?;
                let counted = sqlx::query_as(sql).fetch_one(&mut *conn).await;
                crate::schema::set_sqlite_mmap(&mut conn, true).await?;
                counted?
            }
            Store::Postgres(p) => sqlx::query_as(sql).fetch_one(p).await?,
        };
        Ok(TxnWatermark { rows, max_id })
    }

    /// Streams the transactions with `after < id <= up_to`, in id order,
    /// `block` ids per query, as [`TxnChunk`]s with every column. Returns the rows handed over.
    pub async fn scan_transactions_after(
        &self,
        after: i64,
        up_to: i64,
        block: i64,
        mut f: impl FnMut(&TxnChunk) + Send,
    ) -> Result<u64> {
        let sql =
            "SELECT account_id, customer_id, booked_on, amount, balance_after, category, channel, source_key \
                   FROM txn WHERE id > $1 AND id <= $2 ORDER BY id";
        let block = block.max(1);
        let mut lo = after;
        let mut total = 0u64;
        let mut chunk = TxnChunk::default();
        while lo < up_to {
            let hi = lo.saturating_add(block).min(up_to);
            let rows: Vec<NewTxn> =
                on_pool!(self, p => sqlx::query_as(sql).bind(lo).bind(hi).fetch_all(p).await?);
            chunk.clear();
            for (account, customer, day, amount, balance, category, channel, key) in rows {
                chunk.account_id.push(account);
                chunk.customer_id.push(customer);
                chunk.booked_on.push(epoch_day(day));
                chunk.amount.push(amount);
                chunk.balance_after.push(balance);
                chunk.category.push(category.as_deref());
                chunk.channel.push(channel.as_deref());
                chunk.source_key.push(&key);
            }
            if !chunk.is_empty() {
                total += chunk.len() as u64;
                f(&chunk);
            }
            lo = hi;
        }
        Ok(total)
    }
}

impl Store {
    /// The highest import id among the transactions with `id > after` (0 when none).
    pub async fn txn_latest_import_after(&self, after: i64) -> Result<i64> {
        let sql = "SELECT COALESCE(MAX(import_id), 0) FROM txn WHERE id > $1";
        let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(sql).bind(after).fetch_one(p).await?);
        Ok(n)
    }
}
