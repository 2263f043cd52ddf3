//! Dialect plumbing shared by the session and the report queries: the open
//! transaction of either backend, the macros that run one piece of SQL on
//! whichever backend is in hand, typed cell values, bulk inserts (multi-row
//! `INSERT … VALUES` on SQLite, `COPY` on PostgreSQL) and id allocation.
//!
//! SQL shared by both backends uses `$N` placeholders, which SQLite accepts
//! too; SQLite-only statements with many parameters use `?` (see
//! [`question_marks`]). Anything else that differs between the dialects
//! (timestamps, `COPY`, sequences) is spelled out per backend in a `match`.
//! Nothing here knows about entities or content.
//!
//! Lookups whose best plan changes as a table grows inside one long import
//! transaction (no ANALYZE runs meanwhile) are sent unprepared
//! (`persistent(false)`), so PostgreSQL plans them with the current sizes
//! instead of reusing a generic plan made while the table was empty.

use crate::Result;
use chrono::{Datelike, NaiveDate};
use futures::TryStreamExt;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteArguments, SqliteConnection};
use sqlx::{Postgres, Row, Sqlite, Transaction};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Write as _;

/// SQLite's limit on bound variables per statement (since 3.32).
const SQLITE_MAX_VARIABLES: usize = 32_766;
/// Rows per multi-row `INSERT` on SQLite.
const SQLITE_ROWS_PER_INSERT: usize = 500;
/// Bytes buffered before a `COPY` chunk is sent to PostgreSQL.
const COPY_CHUNK_BYTES: usize = 1 << 20;
/// Keys per `IN (…)` lookup.
const LOOKUP_CHUNK: usize = 500;
/// Ids fetched from a PostgreSQL sequence at a time.
const PG_ID_BLOCK: usize = 1_000;

/// The one open transaction of an import session.
pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$c` bound to the transaction's connection (`&mut
/// SqliteConnection` or `&mut PgConnection`); the body is compiled once per backend.
macro_rules! on_conn {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            $crate::dialect::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::dialect::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}
pub(crate) use on_conn;

/// Runs `$body` with `$p` bound to the store's pool; compiled once per backend.
macro_rules! on_pool {
    ($store:expr, $p:ident => $body:expr) => {
        match $store {
            $crate::Store::Sqlite($p) => $body,
            $crate::Store::Postgres($p) => $body,
        }
    };
}
pub(crate) use on_pool;

impl Tx {
    /// SQL for the current UTC time in the column type used for timestamps.
    pub(crate) fn now_sql(&self) -> &'static str {
        match self {
            Tx::Sqlite(_) => "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            Tx::Postgres(_) => "now()",
        }
    }
}

/// One typed cell of a row to insert. Text borrows from the record when it can.
#[derive(Debug, Clone)]
pub(crate) enum Val<'a> {
    Int(Option<i64>),
    Text(Option<Cow<'a, str>>),
    Date(Option<NaiveDate>),
    Bool(bool),
}

impl<'a> Val<'a> {
    pub(crate) fn int(v: i64) -> Self {
        Val::Int(Some(v))
    }
    pub(crate) fn opt_int(v: Option<i64>) -> Self {
        Val::Int(v)
    }
    pub(crate) fn text(v: &'a str) -> Self {
        Val::Text(Some(Cow::Borrowed(v)))
    }
    pub(crate) fn opt_text(v: Option<&'a str>) -> Self {
        Val::Text(v.map(Cow::Borrowed))
    }
    pub(crate) fn owned(v: String) -> Self {
        Val::Text(Some(Cow::Owned(v)))
    }
    pub(crate) fn opt_owned(v: Option<String>) -> Self {
        Val::Text(v.map(Cow::Owned))
    }
    pub(crate) fn date(v: NaiveDate) -> Self {
        Val::Date(Some(v))
    }
    pub(crate) fn opt_date(v: Option<NaiveDate>) -> Self {
        Val::Date(v)
    }
}

type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>;

fn bind_sqlite<'q>(q: SqliteQuery<'q>, v: &'q Val<'_>) -> SqliteQuery<'q> {
    match v {
        Val::Int(i) => q.bind(*i),
        Val::Text(s) => q.bind(s.as_deref()),
        Val::Date(d) => q.bind(*d),
        Val::Bool(b) => q.bind(*b),
    }
}

/// What to do when an inserted row hits a unique constraint.
#[derive(Debug, Clone, Copy)]
pub(crate) enum OnConflict {
    /// The caller has checked the keys; a conflict is an error.
    Fail,
    /// Skip rows that conflict on these columns (e.g. `"source, source_key"`).
    Ignore(&'static str),
}

/// Allocates ids for tables whose ids the session assigns itself (so that
/// rows can be referenced before they are flushed, and bulk-inserted by COPY).
/// SQLite: a counter from `MAX(id)`, safe because the session holds the write
/// lock (`BEGIN IMMEDIATE`). PostgreSQL: blocks from the table's id sequence.
#[derive(Debug, Default)]
pub(crate) struct IdAllocator {
    next: HashMap<&'static str, i64>,
    blocks: HashMap<&'static str, VecDeque<i64>>,
}

impl IdAllocator {
    pub(crate) async fn take(
        &mut self,
        tx: &mut Tx,
        table: &'static str,
        n: usize,
    ) -> Result<Vec<i64>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        match tx {
            Tx::Sqlite(t) => {
                let next = match self.next.get(table) {
                    Some(v) => *v,
                    None => {
                        let sql = format!("SELECT COALESCE(MAX(id), 0) FROM {table}");
                        let max: i64 = sqlx::query_scalar(&sql).fetch_one(&mut **t).await?;
                        max + 1
                    }
                };
                let count = i64::try_from(n).unwrap_or(i64::MAX);
                self.next.insert(table, next + count);
                Ok((next..next + count).collect())
            }
            Tx::Postgres(t) => {
                let block = self.blocks.entry(table).or_default();
                if block.len() < n {
                    let want = i64::try_from(n.max(PG_ID_BLOCK)).unwrap_or(i64::MAX);
                    let sql = format!(
                        "SELECT nextval('{table}_id_seq') FROM generate_series(1, $1::bigint)"
                    );
                    let mut rows = sqlx::query_scalar::<_, i64>(&sql)
                        .bind(want)
                        .fetch(&mut **t);
                    while let Some(id) = rows.try_next().await? {
                        block.push_back(id);
                    }
                }
                Ok(block.drain(..n.min(block.len())).collect())
            }
        }
    }
}

impl Tx {
    /// Inserts `vals` (row-major, `cols.len()` cells per row) into `table`.
    /// With `OnConflict::Ignore`, rows hitting that unique key are skipped.
    /// `staged` remembers which PostgreSQL staging tables this transaction made.
    pub(crate) async fn insert_rows(
        &mut self,
        table: &'static str,
        cols: &[&str],
        vals: &[Val<'_>],
        conflict: OnConflict,
        staged: &mut HashSet<&'static str>,
    ) -> Result<()> {
        if vals.is_empty() || cols.is_empty() {
            return Ok(());
        }
        match self {
            Tx::Sqlite(t) => {
                insert_sqlite(t, table, cols, vals, conflict).await?;
            }
            Tx::Postgres(t) => {
                let col_list = cols.join(", ");
                match conflict {
                    OnConflict::Fail => copy_in(t, table, &col_list, cols.len(), vals).await?,
                    OnConflict::Ignore(target) => {
                        // COPY cannot skip conflicts: copy into a transaction-local
                        // staging table, then INSERT … SELECT … ON CONFLICT DO NOTHING.
                        let stage = format!("stage_{table}");
                        let prepare = if staged.insert(table) {
                            format!(
                                "CREATE TEMP TABLE {stage} ON COMMIT DROP AS \
                                 SELECT {col_list} FROM {table} WITH NO DATA"
                            )
                        } else {
                            format!("TRUNCATE {stage}")
                        };
                        sqlx::query(&prepare).execute(&mut **t).await?;
                        copy_in(t, &stage, &col_list, cols.len(), vals).await?;
                        let sql = format!(
                            "INSERT INTO {table} ({col_list}) SELECT {col_list} FROM {stage} \
                             ON CONFLICT ({target}) DO NOTHING"
                        );
                        sqlx::query(&sql).execute(&mut **t).await?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Inserts rows keyed by `(source, source_key)` (both among `cols`) of one
    /// `source`, skipping keys that are already stored, and returns the skipped
    /// keys with the fingerprint stored under each. `vals` holds no key twice.
    pub(crate) async fn insert_skipping_existing(
        &mut self,
        table: &'static str,
        cols: &[&str],
        vals: &[Val<'_>],
        source: &str,
    ) -> Result<HashMap<String, i64>> {
        let ncols = cols.len();
        let mut stored = HashMap::new();
        let Some(key_col) = cols.iter().position(|c| *c == "source_key") else {
            return Ok(stored);
        };
        if vals.is_empty() {
            return Ok(stored);
        }
        let key_of = |row: &[Val<'_>]| -> Option<String> {
            match row.get(key_col) {
                Some(Val::Text(Some(k))) => Some(k.to_string()),
                _ => None,
            }
        };
        match self {
            Tx::Sqlite(t) => {
                // The unique index is probed by the insert itself (ON CONFLICT DO
                // NOTHING). A chunk that inserted fewer rows than it had holds keys
                // stored before; the rows it did insert are its last `inserted`
                // rowids (SQLite gives each new row max(rowid)+1), so anything older
                // under its keys was there before. RETURNING is avoided: sqlx's
                // SQLite worker sends each returned row as a separate message.
                let chunks = insert_sqlite(
                    t,
                    table,
                    cols,
                    vals,
                    OnConflict::Ignore("source, source_key"),
                )
                .await?;
                for chunk in chunks.iter().filter(|c| c.inserted < c.rows.len() / ncols) {
                    let first_new = match chunk.inserted {
                        0 => i64::MAX,
                        n => chunk.last_rowid - i64::try_from(n).unwrap_or(i64::MAX) + 1,
                    };
                    let keys: Vec<String> = vals[chunk.rows.clone()]
                        .chunks(ncols)
                        .filter_map(key_of)
                        .collect();
                    for part in keys.chunks(LOOKUP_CHUNK) {
                        let sql = format!(
                            "SELECT source_key, fingerprint, id FROM {table} \
                             WHERE source = ? AND source_key IN ({})",
                            question_marks(part.len())
                        );
                        let mut q = sqlx::query(&sql).persistent(false).bind(source);
                        for k in part {
                            q = q.bind(k.as_str());
                        }
                        let mut found = q.fetch(&mut **t);
                        while let Some(r) = found.try_next().await? {
                            if r.try_get::<i64, _>(2)? < first_new {
                                stored.insert(r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?);
                            }
                        }
                    }
                }
            }
            Tx::Postgres(t) => {
                // COPY cannot skip conflicts, and ON CONFLICT's speculative insertion
                // costs about as much again as the insert: look the keys up in one
                // indexed `= ANY($2)` query, then COPY only the new rows.
                let keys: Vec<String> = vals.chunks(ncols).filter_map(key_of).collect();
                let sql = format!(
                    "SELECT source_key, fingerprint FROM {table} \
                     WHERE source = $1 AND source_key = ANY($2)"
                );
                let mut found = sqlx::query(&sql)
                    .persistent(false)
                    .bind(source)
                    .bind(&keys)
                    .fetch(&mut **t);
                while let Some(r) = found.try_next().await? {
                    stored.insert(r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?);
                }
                drop(found);
                let col_list = cols.join(", ");
                if stored.is_empty() {
                    copy_in(t, table, &col_list, ncols, vals).await?;
                } else {
                    let mut fresh: Vec<Val<'_>> = Vec::with_capacity(vals.len());
                    for (row, key) in vals.chunks(ncols).zip(&keys) {
                        if !stored.contains_key(key) {
                            fresh.extend_from_slice(row);
                        }
                    }
                    copy_in(t, table, &col_list, ncols, &fresh).await?;
                }
            }
        }
        Ok(stored)
    }
}

/// `count` comma-separated anonymous placeholders. On SQLite, statements with
/// many parameters use `?`: SQLite finds a named parameter (`$N`, `?N`) by a
/// linear scan on every bind, which makes thousands of them quadratic.
fn question_marks(count: usize) -> String {
    let mut sql = String::with_capacity(count * 2);
    for i in 0..count {
        if i > 0 {
            sql.push(',');
        }
        sql.push('?');
    }
    sql
}

/// A multi-row `INSERT` for SQLite.
fn insert_sql(table: &str, cols: &[&str], rows: usize, conflict: OnConflict) -> String {
    let ncols = cols.len();
    let mut sql = String::with_capacity(64 + rows * ncols * 7);
    sql.push_str("INSERT INTO ");
    sql.push_str(table);
    sql.push_str(" (");
    sql.push_str(&cols.join(", "));
    sql.push_str(") VALUES ");
    let row = format!("({})", question_marks(ncols));
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push_str(&row);
    }
    if let OnConflict::Ignore(target) = conflict {
        sql.push_str(" ON CONFLICT (");
        sql.push_str(target);
        sql.push_str(") DO NOTHING");
    }
    sql
}

/// What one multi-row `INSERT` on SQLite did.
struct SqliteChunk {
    /// The chunk's cells in the `vals` handed to `insert_sqlite`.
    rows: std::ops::Range<usize>,
    /// Rows inserted (fewer than the chunk's when conflicts were skipped).
    inserted: usize,
    /// Rowid of the last row inserted.
    last_rowid: i64,
}

async fn insert_sqlite(
    conn: &mut SqliteConnection,
    table: &str,
    cols: &[&str],
    vals: &[Val<'_>],
    conflict: OnConflict,
) -> Result<Vec<SqliteChunk>> {
    let ncols = cols.len();
    let per = (SQLITE_MAX_VARIABLES / ncols).clamp(1, SQLITE_ROWS_PER_INSERT);
    let full_sql = insert_sql(table, cols, per, conflict);
    let mut out = Vec::new();
    for (i, chunk) in vals.chunks(per * ncols).enumerate() {
        let rows = chunk.len() / ncols;
        let tail_sql;
        let sql: &str = if rows == per {
            &full_sql
        } else {
            tail_sql = insert_sql(table, cols, rows, conflict);
            &tail_sql
        };
        let mut q = sqlx::query(sql);
        for v in chunk {
            q = bind_sqlite(q, v);
        }
        let done = q.execute(&mut *conn).await?;
        let start = i * per * ncols;
        out.push(SqliteChunk {
            rows: start..start + chunk.len(),
            inserted: usize::try_from(done.rows_affected()).unwrap_or(usize::MAX),
            last_rowid: done.last_insert_rowid(),
        });
    }
    Ok(out)
}

async fn copy_in(
    conn: &mut PgConnection,
    table: &str,
    col_list: &str,
    ncols: usize,
    vals: &[Val<'_>],
) -> Result<()> {
    let mut copy = conn
        .copy_in_raw(&format!("COPY {table} ({col_list}) FROM STDIN"))
        .await?;
    let mut buf: Vec<u8> = Vec::with_capacity(COPY_CHUNK_BYTES + 4096);
    for row in vals.chunks(ncols) {
        encode_copy_row(&mut buf, row);
        if buf.len() >= COPY_CHUNK_BYTES {
            copy.send(buf.as_slice()).await?;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        copy.send(buf.as_slice()).await?;
    }
    copy.finish().await?;
    Ok(())
}

/// One row in PostgreSQL's COPY text format. PostgreSQL text cannot hold NUL,
/// so a NUL character is sent as U+FFFD.
fn encode_copy_row(buf: &mut Vec<u8>, row: &[Val<'_>]) {
    for (i, v) in row.iter().enumerate() {
        if i > 0 {
            buf.push(b'\t');
        }
        match v {
            Val::Int(None) | Val::Text(None) | Val::Date(None) => buf.extend_from_slice(b"\\N"),
            Val::Int(Some(n)) => {
                let _ = write!(buf, "{n}");
            }
            Val::Date(Some(d)) => {
                let _ = write!(buf, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day());
            }
            Val::Bool(b) => buf.push(if *b { b't' } else { b'f' }),
            Val::Text(Some(s)) => {
                for &b in s.as_bytes() {
                    match b {
                        b'\\' => buf.extend_from_slice(b"\\\\"),
                        b'\t' => buf.extend_from_slice(b"\\t"),
                        b'\n' => buf.extend_from_slice(b"\\n"),
                        b'\r' => buf.extend_from_slice(b"\\r"),
                        0 => buf.extend_from_slice("\u{FFFD}".as_bytes()),
                        _ => buf.push(b),
                    }
                }
            }
        }
    }
    buf.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_rows_escape_separators_and_mark_nulls() {
        let mut buf = Vec::new();
        let d = NaiveDate::from_ymd_opt(2024, 3, 5);
        encode_copy_row(
            &mut buf,
            &[
                Val::int(-7),
                Val::text("a\tb\\c\nd"),
                Val::opt_text(None),
                Val::opt_date(d),
                Val::Bool(true),
            ],
        );
        assert_eq!(
            String::from_utf8_lossy(&buf),
            "-7\ta\\tb\\\\c\\nd\t\\N\t2024-03-05\tt\n"
        );
    }

    #[test]
    fn multi_row_inserts_use_anonymous_placeholders() {
        let sql = insert_sql("t", &["a", "b"], 2, OnConflict::Ignore("a"));
        assert_eq!(
            sql,
            "INSERT INTO t (a, b) VALUES (?,?),(?,?) ON CONFLICT (a) DO NOTHING"
        );
        let sql = insert_sql("t", &["a", "b"], 1, OnConflict::Fail);
        assert_eq!(sql, "INSERT INTO t (a, b) VALUES (?,?)");
    }
}
