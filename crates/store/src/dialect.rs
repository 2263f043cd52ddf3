//! Dialect plumbing shared by the session and the report queries: the open
//! transaction of either backend, the macros that run one piece of SQL on
//! whichever backend is in hand, typed cell values, bulk inserts (multi-row
//! `INSERT … VALUES` on SQLite, `COPY` on PostgreSQL) and id allocation.
//!
//! SQL shared by both backends uses `$N` placeholders, which SQLite accepts
//! too; SQLite-only statements with many parameters use `?` (see
//! [`question_marks`]); statements whose text depends on their inputs are
//! built with `statement.rs`. Anything else that differs between the dialects
//! (timestamps, `COPY`, sequences) is spelled out per backend in a `match`.
//! Nothing here knows about entities or content.
//!
//! Lookups whose best plan changes as a table grows inside one long import
//! transaction (no ANALYZE runs meanwhile) are sent unprepared
//! (`persistent(false)`), so PostgreSQL plans them with the current sizes
//! instead of reusing a generic plan made while the table was empty.

use crate::keys::KeyState;
use crate::{FastMap, Result};
use chrono::{Datelike, NaiveDate};
use futures::TryStreamExt;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteArguments, SqliteConnection};
use sqlx::{Arguments as _, Postgres, Row, Sqlite, Transaction};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};

/// SQLite's limit on bound variables per statement (since 3.32).
const SQLITE_MAX_VARIABLES: usize = 32_766;
/// Rows per multi-row `INSERT` on SQLite.
const SQLITE_ROWS_PER_INSERT: usize = 500;
/// Bytes buffered before a `COPY` chunk is sent to PostgreSQL.
const COPY_CHUNK_BYTES: usize = 1 << 20;
/// Keys per `IN (…)` lookup on SQLite.
const LOOKUP_CHUNK: usize = 500;
/// Keys per `unnest` lookup on PostgreSQL.
const PG_LOOKUP_CHUNK: usize = 10_000;
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

/// The SQLite text of a date (`YYYY-MM-DD`), without chrono's format parser.
pub(crate) fn date_text(d: NaiveDate) -> String {
    let (y, m, day) = (d.year(), d.month(), d.day());
    if (0..=9999).contains(&y) {
        let y = y as u32;
        let digits = [
            y / 1000,
            y / 100 % 10,
            y / 10 % 10,
            y % 10,
            m / 10,
            m % 10,
            day / 10,
            day % 10,
        ];
        let mut out = String::with_capacity(10);
        for (i, dg) in digits.iter().enumerate() {
            if i == 4 || i == 6 {
                out.push('-');
            }
            out.push(char::from(b'0' + *dg as u8));
        }
        out
    } else {
        d.format("%Y-%m-%d").to_string()
    }
}

/// Owned arguments for one SQLite statement: built while the previous
/// statement runs on the connection's worker thread, and moved (not copied
/// again) when sent to it.
/// `bound` says, per column, whether the column is bound (else it is a literal).
fn sqlite_args(vals: &[Val<'_>], bound: &[bool]) -> Result<SqliteArguments<'static>> {
    let mut a = SqliteArguments::default();
    a.reserve(vals.len(), 0);
    for (v, _) in vals.iter().zip(bound.iter().cycle()).filter(|(_, b)| **b) {
        let added = match v {
            Val::Int(i) => a.add(*i),
            Val::Text(t) => a.add(t.as_deref().map(str::to_owned)),
            Val::Date(d) => a.add(d.map(date_text)),
            Val::Bool(b) => a.add(*b),
        };
        added.map_err(sqlx::Error::Encode)?;
    }
    Ok(a)
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
    /// `state` is what the session knows about the source's keys in `table`
    /// (used on PostgreSQL to skip lookups of keys that cannot be stored). On
    /// PostgreSQL new rows join `pending` and are copied in large COPYs (see
    /// [`PendingCopies`]).
    pub(crate) async fn insert_skipping_existing(
        &mut self,
        table: &'static str,
        cols: &[&str],
        vals: &[Val<'_>],
        source: &str,
        state: &mut KeyState,
        pending: &mut PendingCopies,
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
                // costs about as much again as the insert: look up the keys that may be
                // stored, then COPY only the new rows. Keys that may be stored are all of
                // them when the source had rows before this session, else only those the
                // session's key filter has seen (a key it has never inserted cannot be
                // there: nobody else can insert this source's keys meanwhile without
                // making this COPY fail on the unique key, which aborts the import).
                let keys: Vec<&str> = vals
                    .chunks(ncols)
                    .map(|row| match row.get(key_col) {
                        Some(Val::Text(Some(k))) => k.as_ref(),
                        _ => "",
                    })
                    .collect();
                // Rows of this session still waiting for their COPY are stored as far
                // as the outcome goes.
                for k in &keys {
                    if let Some(fp) = pending.fingerprint(table, source, k) {
                        stored.insert((*k).to_string(), fp);
                    }
                }
                let check: Vec<&str> = keys
                    .iter()
                    .copied()
                    .filter(|k| !stored.contains_key(*k))
                    .filter(|k| state.check_all() || state.might_hold(k))
                    .collect();
                for part in check.chunks(PG_LOOKUP_CHUNK) {
                    // One index probe per key (a join on the unique key), whatever the
                    // planner believes about a table that grew inside this transaction.
                    let sql = format!(
                        "SELECT k.key, t.fingerprint FROM unnest($2::text[]) AS k(key) \
                         JOIN {table} t ON t.source = $1 AND t.source_key = k.key"
                    );
                    let mut found = sqlx::query(&sql)
                        .persistent(false)
                        .bind(source)
                        .bind(part)
                        .fetch(&mut **t);
                    while let Some(r) = found.try_next().await? {
                        stored.insert(r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?);
                    }
                }
                let fp_col = cols.iter().position(|c| *c == "fingerprint");
                let pend = pending.table(table, cols);
                for (row, key) in vals.chunks(ncols).zip(&keys) {
                    if stored.contains_key(*key) {
                        continue;
                    }
                    let fp = match fp_col.and_then(|c| row.get(c)) {
                        Some(Val::Int(Some(fp))) => *fp,
                        _ => 0,
                    };
                    encode_binary_row(&mut pend.bytes, row);
                    pend.rows += 1;
                    pend.keys
                        .entry(source.to_string())
                        .or_default()
                        .insert((*key).to_string(), fp);
                    state.insert(key);
                }
                if pend.rows >= PG_COPY_ROWS || pend.bytes.len() >= PG_COPY_BYTES {
                    pending.flush_table(t, table).await?;
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

/// Columns whose value is the same in every row of a load (the source and the
/// import) are written into the SQL as literals instead of being bound once
/// per row: on SQLite every bound text is copied twice (by sqlx and by SQLite).
const INLINED_COLUMNS: &[&str] = &["source", "import_id"];

/// The SQL literal of `v`, when it can be written as one.
fn sql_literal(v: &Val<'_>) -> Option<String> {
    match v {
        Val::Int(Some(i)) => Some(i.to_string()),
        Val::Text(Some(t)) if !t.contains('\0') => Some(format!("'{}'", t.replace('\'', "''"))),
        _ => None,
    }
}

/// Per column, the literal that stands for it in every row of `vals`, if any.
fn inlined_literals(cols: &[&str], vals: &[Val<'_>]) -> Vec<Option<String>> {
    let ncols = cols.len();
    let same = |c: usize| {
        let first = vals.get(c);
        vals.chunks(ncols).all(|row| match (row.get(c), first) {
            (Some(Val::Int(a)), Some(Val::Int(b))) => a == b,
            (Some(Val::Text(a)), Some(Val::Text(b))) => a == b,
            _ => false,
        })
    };
    cols.iter()
        .enumerate()
        .map(|(c, name)| {
            if INLINED_COLUMNS.contains(name) && same(c) {
                vals.get(c).and_then(sql_literal)
            } else {
                None
            }
        })
        .collect()
}

/// A multi-row `INSERT` for SQLite; `literals` (one per column, or empty)
/// replaces a column's placeholder by a constant.
fn insert_sql(
    table: &str,
    cols: &[&str],
    rows: usize,
    conflict: OnConflict,
    literals: &[Option<String>],
) -> String {
    let ncols = cols.len();
    let mut sql = String::with_capacity(64 + rows * ncols * 7);
    sql.push_str("INSERT INTO ");
    sql.push_str(table);
    sql.push_str(" (");
    sql.push_str(&cols.join(", "));
    sql.push_str(") VALUES ");
    let mut row = String::from("(");
    for c in 0..ncols {
        if c > 0 {
            row.push(',');
        }
        match literals.get(c) {
            Some(Some(lit)) => row.push_str(lit),
            _ => row.push('?'),
        }
    }
    row.push(')');
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
    let literals = inlined_literals(cols, vals);
    let bound: Vec<bool> = (0..ncols)
        .map(|c| !matches!(literals.get(c), Some(Some(_))))
        .collect();
    let full_sql = insert_sql(table, cols, per, conflict, &literals);
    let chunks: Vec<&[Val<'_>]> = vals.chunks(per * ncols).collect();
    let mut out = Vec::with_capacity(chunks.len());
    let mut next = match chunks.first() {
        Some(c) => Some(sqlite_args(c, &bound)?),
        None => None,
    };
    for (i, chunk) in chunks.iter().enumerate() {
        let Some(args) = next.take() else {
            break;
        };
        let rows = chunk.len() / ncols;
        let tail_sql;
        let sql: &str = if rows == per {
            &full_sql
        } else {
            tail_sql = insert_sql(table, cols, rows, conflict, &literals);
            &tail_sql
        };
        // The statement runs on the connection's worker thread while this one
        // builds the next statement's arguments.
        let run = sqlx::query_with(sql, args).execute(&mut *conn);
        let following = chunks.get(i + 1);
        let build = async { following.map(|c| sqlite_args(c, &bound)).transpose() };
        let (done, built) = futures::join!(run, build);
        let done = done?;
        next = built?;
        let start = i * per * ncols;
        out.push(SqliteChunk {
            rows: start..start + chunk.len(),
            inserted: usize::try_from(done.rows_affected()).unwrap_or(usize::MAX),
            last_rowid: done.last_insert_rowid(),
        });
    }
    Ok(out)
}

/// Days from 2000-01-01, PostgreSQL's date epoch.
fn pg_days(d: NaiveDate) -> i32 {
    d.num_days_from_ce() - 730_120
}

async fn copy_in(
    conn: &mut PgConnection,
    table: &str,
    col_list: &str,
    ncols: usize,
    vals: &[Val<'_>],
) -> Result<()> {
    if vals.is_empty() {
        return Ok(());
    }
    // Binary format: the server parses no text (dates and numbers arrive as
    // their binary values), which is most of what a COPY costs it besides the
    // indexes.
    let mut copy = conn
        .copy_in_raw(&format!(
            "COPY {table} ({col_list}) FROM STDIN WITH (FORMAT binary)"
        ))
        .await?;
    let mut buf: Vec<u8> = Vec::with_capacity(COPY_CHUNK_BYTES + 4096);
    buf.extend_from_slice(PG_COPY_HEADER);
    for row in vals.chunks(ncols) {
        encode_binary_row(&mut buf, row);
        if buf.len() >= COPY_CHUNK_BYTES {
            copy.send(buf.as_slice()).await?;
            buf.clear();
        }
    }
    buf.extend_from_slice(&(-1i16).to_be_bytes());
    copy.send(buf.as_slice()).await?;
    copy.finish().await?;
    Ok(())
}

/// Rows gathered before one COPY on PostgreSQL: a COPY has a fixed cost (and
/// the server waits while the client prepares the next one), so the rows of
/// several batches go in one.
const PG_COPY_ROWS: usize = 50_000;
/// Or this many bytes, whichever comes first.
const PG_COPY_BYTES: usize = 32 << 20;

/// Rows of the `(source, source_key)` tables that this session has decided to
/// insert on PostgreSQL, encoded for a binary COPY but not yet sent. Their keys
/// are remembered with their fingerprints, so that later rows with the same
/// key are answered as if the rows were stored. Sent when large enough, and
/// always before the session commits; dropped with a session that does not.
#[derive(Default)]
pub(crate) struct PendingCopies {
    tables: HashMap<&'static str, PendingCopy>,
}

struct PendingCopy {
    col_list: String,
    rows: usize,
    bytes: Vec<u8>,
    /// source → key → fingerprint of the rows in `bytes`.
    keys: FastMap<String, FastMap<String, i64>>,
}

impl PendingCopies {
    fn table(&mut self, table: &'static str, cols: &[&str]) -> &mut PendingCopy {
        self.tables.entry(table).or_insert_with(|| PendingCopy {
            col_list: cols.join(", "),
            rows: 0,
            bytes: Vec::new(),
            keys: FastMap::default(),
        })
    }

    fn fingerprint(&self, table: &str, source: &str, key: &str) -> Option<i64> {
        self.tables.get(table)?.keys.get(source)?.get(key).copied()
    }

    async fn flush_table(&mut self, conn: &mut PgConnection, table: &str) -> Result<()> {
        let Some(p) = self.tables.get_mut(table) else {
            return Ok(());
        };
        if p.rows > 0 {
            copy_encoded(conn, table, &p.col_list, &p.bytes).await?;
        }
        p.rows = 0;
        p.bytes = Vec::new();
        p.keys.clear();
        Ok(())
    }

    /// Sends every pending row (before anything that must see them, e.g. commit).
    pub(crate) async fn flush_all(&mut self, tx: &mut Tx) -> Result<()> {
        let Tx::Postgres(t) = tx else {
            return Ok(());
        };
        let tables: Vec<&'static str> = self.tables.keys().copied().collect();
        for table in tables {
            self.flush_table(t, table).await?;
        }
        Ok(())
    }
}

/// Sends rows already encoded by [`encode_binary_row`] in one binary COPY.
async fn copy_encoded(
    conn: &mut PgConnection,
    table: &str,
    col_list: &str,
    rows: &[u8],
) -> Result<()> {
    let mut copy = conn
        .copy_in_raw(&format!(
            "COPY {table} ({col_list}) FROM STDIN WITH (FORMAT binary)"
        ))
        .await?;
    copy.send(PG_COPY_HEADER).await?;
    for chunk in rows.chunks(COPY_CHUNK_BYTES) {
        copy.send(chunk).await?;
    }
    copy.send(&(-1i16).to_be_bytes()[..]).await?;
    copy.finish().await?;
    Ok(())
}

/// Signature, flags and header extension length of a binary COPY stream.
const PG_COPY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// One row in PostgreSQL's binary COPY format: a field count, then per field
/// its length (-1 for NULL) and its bytes: `bigint` as 8 big-endian bytes,
/// `date` as 4 (days from 2000-01-01), `boolean` as 1, text as UTF-8. Every
/// integer column of the schema is `bigint`. PostgreSQL text cannot hold NUL,
/// so a NUL character is sent as U+FFFD.
fn encode_binary_row(buf: &mut Vec<u8>, row: &[Val<'_>]) {
    let n = i16::try_from(row.len()).unwrap_or(i16::MAX);
    buf.extend_from_slice(&n.to_be_bytes());
    for v in row {
        match v {
            Val::Int(None) | Val::Text(None) | Val::Date(None) => {
                buf.extend_from_slice(&(-1i32).to_be_bytes());
            }
            Val::Int(Some(i)) => {
                buf.extend_from_slice(&8i32.to_be_bytes());
                buf.extend_from_slice(&i.to_be_bytes());
            }
            Val::Date(Some(d)) => {
                buf.extend_from_slice(&4i32.to_be_bytes());
                buf.extend_from_slice(&pg_days(*d).to_be_bytes());
            }
            Val::Bool(b) => {
                buf.extend_from_slice(&1i32.to_be_bytes());
                buf.push(u8::from(*b));
            }
            Val::Text(Some(s)) => {
                let bytes: Cow<'_, str> = if s.contains('\0') {
                    Cow::Owned(s.replace('\0', "\u{FFFD}"))
                } else {
                    Cow::Borrowed(s.as_ref())
                };
                let len = i32::try_from(bytes.len()).unwrap_or(i32::MAX);
                buf.extend_from_slice(&len.to_be_bytes());
                buf.extend_from_slice(bytes.as_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_copy_rows_carry_lengths_and_big_endian_values() {
        let mut buf = Vec::new();
        let d = NaiveDate::from_ymd_opt(2000, 1, 2);
        encode_binary_row(
            &mut buf,
            &[
                Val::int(-7),
                Val::text("a\0b"),
                Val::opt_text(None),
                Val::opt_date(d),
                Val::Bool(true),
            ],
        );
        let mut want: Vec<u8> = vec![0, 5];
        want.extend_from_slice(&[0, 0, 0, 8]);
        want.extend_from_slice(&(-7i64).to_be_bytes());
        want.extend_from_slice(&[0, 0, 0, 5, b'a', 0xEF, 0xBF, 0xBD, b'b']);
        want.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
        want.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 1]);
        want.extend_from_slice(&[0, 0, 0, 1, 1]);
        assert_eq!(buf, want);
        assert_eq!(PG_COPY_HEADER.len(), 19);
    }

    #[test]
    fn dates_are_written_as_iso_text() {
        for (y, m, d) in [(2024, 3, 5), (1, 1, 1), (9999, 12, 31), (1987, 10, 20)] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
            assert_eq!(date_text(date), date.format("%Y-%m-%d").to_string());
        }
    }

    #[test]
    fn multi_row_inserts_use_anonymous_placeholders() {
        let sql = insert_sql("t", &["a", "b"], 2, OnConflict::Ignore("a"), &[]);
        assert_eq!(
            sql,
            "INSERT INTO t (a, b) VALUES (?,?),(?,?) ON CONFLICT (a) DO NOTHING"
        );
        let sql = insert_sql("t", &["a", "b"], 1, OnConflict::Fail, &[]);
        assert_eq!(sql, "INSERT INTO t (a, b) VALUES (?,?)");
    }

    #[test]
    fn the_source_and_import_are_inlined_when_constant() {
        let cols = ["source", "source_key", "import_id"];
        let vals = [
            Val::text("it's"),
            Val::text("k1"),
            Val::int(7),
            Val::text("it's"),
            Val::text("k2"),
            Val::int(7),
        ];
        let lits = inlined_literals(&cols, &vals);
        assert_eq!(
            lits,
            vec![Some("'it''s'".to_string()), None, Some("7".to_string())]
        );
        assert_eq!(
            insert_sql("t", &cols, 2, OnConflict::Fail, &lits),
            "INSERT INTO t (source, source_key, import_id) VALUES ('it''s',?,7),('it''s',?,7)"
        );
        let mixed = [
            Val::text("a"),
            Val::text("k1"),
            Val::int(7),
            Val::text("b"),
            Val::text("k2"),
            Val::int(7),
        ];
        assert_eq!(inlined_literals(&cols, &mixed)[0], None);
        let nul = [Val::text("a\0"), Val::text("k1"), Val::int(7)];
        assert_eq!(inlined_literals(&cols, &nul)[0], None);
    }
}
