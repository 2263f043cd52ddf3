//! The live path's writer (issue 19): the one component that stores what the
//! live path decided — transactions, the alerts they raised, refused lines —
//! in batches, one database transaction each, each (source, source_key) at
//! most once (`ON CONFLICT DO NOTHING`, the UNIQUE key of `live_txn`) and an
//! alert only with the transaction that raised it.
//!
//! On a SQLite file the writer holds its own connection (rusqlite over the
//! same SQLite library as sqlx) with ONE prepared INSERT per table, reused
//! row after row inside `BEGIN IMMEDIATE … COMMIT`: sqlx binds and steps
//! each statement through its worker thread, which cannot reach 200,000
//! rows/s; a reused prepared statement can. The connection has the pool's
//! durability (the file is in WAL mode, `synchronous=NORMAL`: a committed
//! batch survives a process crash; an OS crash may lose the last commits,
//! as for every other write of the store) and the pool's busy timeout, so
//! it shares the file with the pool. A row's values are the text sqlx
//! writes (dates `YYYY-MM-DD`, instants RFC 3339), so the rest of the store
//! reads them as its own. The batch is written on a blocking thread: the
//! async caller is never blocked.
//!
//! Two settings of this connection only (measured: they were most of the
//! writer's time at full speed):
//! - The WAL is checkpointed every [`WRITER_AUTOCHECKPOINT_PAGES`] pages
//!   (the pool: every 1,000), and when the writer is idle
//!   ([`LiveWriter::checkpoint`]). A batch rewrites the same pages of
//!   `live_txn_customer_idx` (customers are hit at random), so with the
//!   default nearly every commit was followed by a checkpoint copying all of
//!   them back and syncing the file; now one checkpoint copies each page
//!   once for many commits. The WAL is cut back to
//!   [`WAL_SIZE_LIMIT_BYTES`] after a checkpoint. Durability is unchanged:
//!   a commit is in the WAL either way.
//! - Foreign keys are not checked on it (`foreign_keys = OFF`; the pool's
//!   connections check them), which saved two lookups per row. What it
//!   stores cannot break them: a transaction's `account_id` and
//!   `customer_id` are the `id` and `customer_id` of an `account` row the
//!   live path read from this store (its bootstrap key map,
//!   [`Store::live_account_keys`], or [`Store::live_account_key`] for an
//!   account imported later; `account.customer_id` is itself a checked
//!   foreign key); an alert's customer is an owner of that account and its
//!   assignee a staff user read by [`Store::alert_routes`]; and no code
//!   deletes an account, a customer or a staff user (an erasure blanks a
//!   customer's row and keeps its accounts and transactions, see `tables`;
//!   a restore replaces the whole file and takes the store lock
//!   exclusively, which every open store holds shared). A caller of
//!   [`LiveWriter::write`] must keep to that: ids read from this store.
//!
//! On PostgreSQL (and an in-memory SQLite store, which a second connection
//! cannot see) the writer is [`Store::store_live_batch`] on the pool.
//!
//! Like the rest of the store it decides nothing about content.

use crate::{LiveBatchStored, LiveBatchTxn, LiveRejectedLine, NewAlert, Result, Store, StoreError};
use chrono::{DateTime, SecondsFormat, Utc};
use std::path::PathBuf;

/// One batch to store: the transactions, the alerts (each with the index
/// of its transaction in `txns`) and the refused lines. Handed back after
/// the write.
#[derive(Debug, Default)]
pub struct LiveBatch {
    pub txns: Vec<LiveBatchTxn>,
    pub alerts: Vec<(usize, NewAlert)>,
    pub rejected: Vec<LiveRejectedLine>,
}

impl LiveBatch {
    pub fn is_empty(&self) -> bool {
        self.txns.is_empty() && self.rejected.is_empty()
    }

    pub fn clear(&mut self) {
        self.txns.clear();
        self.alerts.clear();
        self.rejected.clear();
    }
}

/// The live path's writer; see the module documentation.
pub struct LiveWriter {
    kind: Kind,
}

enum Kind {
    /// Its own connection to the SQLite file (`None` only while a batch is
    /// being written on the blocking thread, or after that thread failed).
    Sqlite {
        path: PathBuf,
        conn: Option<Box<rusqlite::Connection>>,
        /// A batch was committed since the last checkpoint of this writer.
        committed: bool,
    },
    /// The pool (PostgreSQL, in-memory SQLite).
    Pool(Store),
}

impl std::fmt::Debug for LiveWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            Kind::Sqlite { path, .. } => f
                .debug_struct("LiveWriter")
                .field("sqlite", &path.display().to_string())
                .finish(),
            Kind::Pool(s) => f
                .debug_struct("LiveWriter")
                .field("pool", &s.backend())
                .finish(),
        }
    }
}

const TXN_INSERT: &str = "INSERT INTO live_txn (source, source_key, account_id, customer_id, \
     booked_on, amount, balance_after, category, channel, received_by, received_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
     ON CONFLICT (source, source_key) DO NOTHING";

const ALERT_INSERT: &str = "INSERT INTO alert (customer_id, rule, severity, raised_on, raised_at, \
     origin, message, evidence, assignee_id, queue, updated_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?5) RETURNING id";

const REJECTED_INSERT: &str = "INSERT INTO live_rejected_line (received_at, received_by, line, \
     raw, field, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/// WAL pages after which a commit of the writer's connection checkpoints
/// (128 MiB at 4 KiB pages; SQLite's default, the pool's, is 1,000).
pub const WRITER_AUTOCHECKPOINT_PAGES: u32 = 32_768;

/// The size the WAL file is cut back to after a checkpoint (64 MiB).
pub const WAL_SIZE_LIMIT_BYTES: i64 = 64 << 20;

/// An instant as sqlx writes it on SQLite.
fn instant_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

impl Store {
    /// The live path's writer for this store: on a SQLite file its own
    /// connection (opened now, so a bad file fails here), else the pool.
    pub fn live_writer(&self) -> Result<LiveWriter> {
        let kind = match self {
            Store::Sqlite(p) => {
                let opts = p.connect_options();
                let path = opts.get_filename().to_path_buf();
                let memory = path.as_os_str().is_empty()
                    || path.as_os_str() == ":memory:"
                    || path.to_string_lossy().starts_with("file:");
                if memory {
                    Kind::Pool(self.clone())
                } else {
                    let conn = open(&path)?;
                    Kind::Sqlite {
                        path,
                        conn: Some(Box::new(conn)),
                        committed: false,
                    }
                }
            }
            Store::Postgres(_) => Kind::Pool(self.clone()),
        };
        Ok(LiveWriter { kind })
    }
}

fn failed(path: &std::path::Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Io {
        path: path.display().to_string(),
        source: std::io::Error::other(format!("the live writer: {e}")),
    }
}

fn open(path: &std::path::Path) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| failed(path, e))?;
    conn.busy_timeout(crate::schema::SQLITE_BUSY_TIMEOUT)
        .map_err(|e| failed(path, e))?;
    // The pool's settings (the file is already in WAL mode, set by the
    // pool): its page cache and memory map too, or every page the batch
    // touches is read again through a system call. Foreign keys off and the
    // checkpoint interval: see the module documentation.
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = OFF; PRAGMA synchronous = NORMAL; PRAGMA cache_size = {}; \
         PRAGMA mmap_size = {}; PRAGMA wal_autocheckpoint = {WRITER_AUTOCHECKPOINT_PAGES}; \
         PRAGMA journal_size_limit = {WAL_SIZE_LIMIT_BYTES};",
        crate::schema::SQLITE_CACHE_KIB,
        crate::schema::SQLITE_MMAP_BYTES
    ))
    .map_err(|e| failed(path, e))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .map_err(|e| failed(path, e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(failed(
            path,
            format!("the store file is in journal mode {mode:?}, not WAL"),
        ));
    }
    conn.set_prepared_statement_cache_capacity(8);
    Ok(conn)
}

impl LiveWriter {
    /// Stores a batch in one database transaction (see
    /// [`Store::store_live_batch`] for what is stored: the same on every
    /// backend) and hands the batch back as it was (the caller describes its
    /// alerts, then reuses its buffers). All or nothing: on an error nothing
    /// of the batch is stored and the writer is not to be used again.
    pub async fn write(&mut self, batch: LiveBatch) -> Result<(LiveBatch, LiveBatchStored)> {
        match &mut self.kind {
            Kind::Pool(store) => {
                let stored = store
                    .store_live_batch(&batch.txns, &batch.alerts, &batch.rejected)
                    .await?;
                Ok((batch, stored))
            }
            Kind::Sqlite {
                path,
                conn,
                committed,
            } => {
                let Some(mut c) = conn.take() else {
                    return Err(failed(path, "stopped by an earlier failure"));
                };
                let at = path.clone();
                let (c, batch, result) = tokio::task::spawn_blocking(move || {
                    let result = write_sqlite(&mut c, &batch);
                    (c, batch, result)
                })
                .await
                .map_err(|e| failed(path, e))?;
                let stored = result.map_err(|e| failed(&at, e))?;
                *conn = Some(c);
                *committed = true;
                Ok((batch, stored))
            }
        }
    }

    /// Whether [`LiveWriter::checkpoint`] has anything to do: a batch was
    /// committed on the writer's own connection since its last checkpoint
    /// (never on the pool, whose connections checkpoint as they commit).
    pub fn wants_checkpoint(&self) -> bool {
        matches!(
            self.kind,
            Kind::Sqlite {
                committed: true,
                ..
            }
        )
    }

    /// Copies the WAL's pages back into the database file (a PASSIVE
    /// checkpoint: it waits for no reader and no writer), on a blocking
    /// thread. The live path calls it when the writer is idle, so the
    /// copy is off the path of the batches (see the module documentation).
    /// Nothing to do on the pool.
    pub async fn checkpoint(&mut self) -> Result<()> {
        let Kind::Sqlite {
            path,
            conn,
            committed,
        } = &mut self.kind
        else {
            return Ok(());
        };
        let Some(c) = conn.take() else {
            return Err(failed(path, "stopped by an earlier failure"));
        };
        let (c, result) = tokio::task::spawn_blocking(move || {
            let result = c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            (c, result)
        })
        .await
        .map_err(|e| failed(path, e))?;
        result.map_err(|e| failed(path, e))?;
        *conn = Some(c);
        *committed = false;
        Ok(())
    }
}

/// The batch on the writer's connection: BEGIN IMMEDIATE (the write lock
/// taken up front, waiting up to the busy timeout), one reused prepared
/// INSERT per table, COMMIT; on an error, ROLLBACK.
fn write_sqlite(
    conn: &mut rusqlite::Connection,
    batch: &LiveBatch,
) -> rusqlite::Result<LiveBatchStored> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let now = instant_text(Utc::now());
    let mut out = LiveBatchStored {
        stored: Vec::with_capacity(batch.txns.len()),
        alert_ids: Vec::with_capacity(batch.alerts.len()),
    };
    {
        let mut ins = tx.prepare_cached(TXN_INSERT)?;
        // Consecutive rows mostly share the booking day and often the
        // instant received: each is formatted once per run of equal values.
        let mut received: Option<(DateTime<Utc>, String)> = None;
        let mut booked: Option<(chrono::NaiveDate, String)> = None;
        for t in &batch.txns {
            if received.as_ref().is_none_or(|(at, _)| *at != t.received_at) {
                received = Some((t.received_at, instant_text(t.received_at)));
            }
            if booked.as_ref().is_none_or(|(on, _)| *on != t.booked_on) {
                booked = Some((t.booked_on, crate::dialect::date_text(t.booked_on)));
            }
            let (received, booked) = (
                received.as_ref().map_or("", |(_, s)| s.as_str()),
                booked.as_ref().map_or("", |(_, s)| s.as_str()),
            );
            let n = ins.execute(rusqlite::params![
                t.source,
                t.source_key,
                t.account_id,
                t.customer_id,
                booked,
                t.amount,
                t.balance_after,
                t.category,
                t.channel,
                t.received_by,
                received,
            ])?;
            // 0: the key was stored before (or earlier in this batch).
            out.stored.push(n == 1);
        }
    }
    if !batch.alerts.is_empty() {
        let mut ins = tx.prepare_cached(ALERT_INSERT)?;
        for (i, a) in &batch.alerts {
            if !out.stored.get(*i).copied().unwrap_or(false) {
                out.alert_ids.push(None);
                continue;
            }
            let id: i64 = ins.query_row(
                rusqlite::params![
                    a.customer_id,
                    a.rule,
                    a.severity,
                    crate::dialect::date_text(a.raised_on),
                    now,
                    a.origin,
                    a.message,
                    a.evidence,
                    a.assignee_id,
                    a.queue,
                ],
                |r| r.get(0),
            )?;
            out.alert_ids.push(Some(id));
        }
    }
    if !batch.rejected.is_empty() {
        let mut ins = tx.prepare_cached(REJECTED_INSERT)?;
        for r in &batch.rejected {
            ins.execute(rusqlite::params![
                instant_text(r.received_at),
                r.received_by,
                r.line,
                r.raw,
                r.field,
                r.reason,
            ])?;
        }
    }
    tx.commit()?;
    Ok(out)
}
