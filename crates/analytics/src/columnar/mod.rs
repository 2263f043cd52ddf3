//! The columnar analytical copy of the transactions (issue 19): Apache
//! Parquet files next to the operational store, one file set per import,
//! partitioned by month, customers mapped to dense indices (ADR 0004).
//!
//! Layout under the copy's directory (`<data dir>/analytics`):
//!
//! ```text
//! manifest.json                      the parts, their rows and checksums; the commit point
//! customers.json                     dense customer index → store id (a list)
//! transactions/month=YYYY-MM/part-<import id>.parquet
//! ```
//!
//! The store stays the source of truth: a part not in the manifest is not
//! part of the copy, and the manifest is replaced (written aside, renamed)
//! only after its parts are complete. Readers go through [`read_transactions`],
//! which prunes month partitions and row groups outside the date range and
//! decodes only the projected columns, and hands over [`TxnChunk`]s like
//! `Store::scan_transactions`, so the feature code stays one; or through
//! [`fold_transactions`] (the same pruning, row groups decoded and folded in
//! parallel, each worker into its own state).
//!
//! Agreement is proved per month by a row count and an order-free checksum
//! (the wrapping sum of a 64-bit hash of each row's columns), computed the same
//! way from a store scan and from the files ([`MonthTally`]).

mod parquet_io;

pub use parquet_io::{
    fold_transactions, read_transactions, write_owners, ChunkOrigin, Folded, FoldedGroups,
    PartWriter, TxnColumns,
};

use chrono::{Datelike, NaiveDate};
use rapport_store::{date_of_epoch_day, epoch_day, DayRange, TxnChunk};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";
/// The dense customer map's file name.
pub const CUSTOMERS: &str = "customers.json";
/// Every owner of every account, (account_id, customer_id) store ids: what
/// the Spark job joins transactions through (`crate::spark`). Small; written
/// whole by a rebuild and again by every append.
pub const OWNERS: &str = "owners.parquet";
/// The version of the layout this code writes and reads.
pub const LAYOUT_VERSION: u32 = 1;

/// Errors of the columnar copy.
#[derive(Debug, thiserror::Error)]
pub enum ColumnarError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Parquet {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
    #[error("{}: {message}", path.display())]
    Format { path: PathBuf, message: String },
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ColumnarError + '_ {
    move |source| ColumnarError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One Parquet file of the copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// `YYYY-MM`.
    pub month: String,
    /// Path relative to the copy's directory.
    pub file: String,
    pub rows: u64,
    /// The order-free checksum of its rows, 16 hex digits.
    pub checksum: String,
}

/// What the copy holds: its parts and how far into the store it reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    /// Transactions in the copy (the sum of the parts' rows).
    pub rows: u64,
    /// The highest store transaction id copied (appends take the rows above it).
    pub max_txn_id: i64,
    pub parts: Vec<Part>,
}

impl Manifest {
    pub fn empty() -> Manifest {
        Manifest {
            version: LAYOUT_VERSION,
            rows: 0,
            max_txn_id: 0,
            parts: Vec::new(),
        }
    }

    /// Reads `<dir>/manifest.json`; `None` when there is no copy.
    pub fn load(dir: &Path) -> Result<Option<Manifest>, ColumnarError> {
        let path = dir.join(MANIFEST);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&path)(e)),
        };
        let m: Manifest = serde_json::from_str(&text).map_err(|e| ColumnarError::Format {
            path: path.clone(),
            message: e.to_string(),
        })?;
        if m.version != LAYOUT_VERSION {
            return Err(ColumnarError::Format {
                path,
                message: format!("layout version {} (expected {LAYOUT_VERSION})", m.version),
            });
        }
        Ok(Some(m))
    }

    /// Writes `<dir>/manifest.json` atomically (aside, then renamed).
    pub fn save(&self, dir: &Path) -> Result<(), ColumnarError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| ColumnarError::Format {
            path: dir.join(MANIFEST),
            message: e.to_string(),
        })?;
        write_atomically(&dir.join(MANIFEST), text.as_bytes())
    }

    /// Rows and checksum per month, summed over the parts.
    pub fn months(&self) -> BTreeMap<String, MonthFigure> {
        let mut out: BTreeMap<String, MonthFigure> = BTreeMap::new();
        for p in &self.parts {
            let f = out.entry(p.month.clone()).or_default();
            f.rows += p.rows;
            f.checksum = f
                .checksum
                .wrapping_add(u64::from_str_radix(&p.checksum, 16).unwrap_or(0));
        }
        out
    }
}

/// Writes `path` through a sibling temporary file and a rename.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ColumnarError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_err(path))
}

/// Customers in dense numbering: index `i` is store id `ids[i]`. Grows as
/// appends meet new customers; an index never changes meaning.
#[derive(Debug, Clone, Default)]
pub struct CustomerMap {
    ids: Vec<i64>,
    index: HashMap<i64, u32>,
}

impl CustomerMap {
    pub fn from_ids(ids: Vec<i64>) -> CustomerMap {
        let index = ids
            .iter()
            .enumerate()
            .map(|(i, &id)| (id, i as u32))
            .collect();
        CustomerMap { ids, index }
    }
    /// Reads `<dir>/customers.json` (empty when absent).
    pub fn load(dir: &Path) -> Result<CustomerMap, ColumnarError> {
        let path = dir.join(CUSTOMERS);
        match std::fs::read_to_string(&path) {
            Ok(t) => {
                let ids: Vec<i64> =
                    serde_json::from_str(&t).map_err(|e| ColumnarError::Format {
                        path: path.clone(),
                        message: e.to_string(),
                    })?;
                Ok(CustomerMap::from_ids(ids))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(CustomerMap::default()),
            Err(e) => Err(io_err(&path)(e)),
        }
    }
    pub fn save(&self, dir: &Path) -> Result<(), ColumnarError> {
        let text = serde_json::to_string(&self.ids).map_err(|e| ColumnarError::Format {
            path: dir.join(CUSTOMERS),
            message: e.to_string(),
        })?;
        write_atomically(&dir.join(CUSTOMERS), text.as_bytes())
    }
    /// The dense index of store id `id`, numbering it when new.
    pub fn index_of(&mut self, id: i64) -> u32 {
        if let Some(&i) = self.index.get(&id) {
            return i;
        }
        let i = self.ids.len() as u32;
        self.ids.push(id);
        self.index.insert(id, i);
        i
    }
    /// The store id of dense index `i`.
    pub fn id_of(&self, i: u32) -> Option<i64> {
        self.ids.get(i as usize).copied()
    }
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// `YYYY-MM` of a day number, with the month's day range cached (rows come
/// mostly in date order, so most rows hit the cache).
#[derive(Debug, Default)]
pub(crate) struct MonthOf {
    from: i32,
    until: i32,
    key: String,
}

impl MonthOf {
    pub(crate) fn key(&mut self, day: i32) -> &str {
        if self.key.is_empty() || day < self.from || day >= self.until {
            let (from, until) = month_bounds(day);
            self.from = from;
            self.until = until;
            self.key = date_of_epoch_day(day)
                .map(|d| format!("{:04}-{:02}", d.year(), d.month()))
                .unwrap_or_else(|| "0000-00".to_string());
        }
        &self.key
    }
}

/// `[first day, first day of next month)` of the month holding `day`.
fn month_bounds(day: i32) -> (i32, i32) {
    let Some(d) = date_of_epoch_day(day) else {
        return (day, day + 1);
    };
    let first = NaiveDate::from_ymd_opt(d.year(), d.month(), 1).unwrap_or(d);
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first);
    (epoch_day(first), epoch_day(next))
}

/// Whether the month `YYYY-MM` has days inside `range`.
pub fn month_in_range(month: &str, range: &DayRange) -> bool {
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d");
    let Ok(first) = first else {
        return true;
    };
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first);
    range.from.is_none_or(|f| next > f) && range.until.is_none_or(|u| first < u)
}

/// Rows and checksum of one month.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MonthFigure {
    pub rows: u64,
    pub checksum: u64,
}

/// Counts and checksums per month over transaction chunks that carry every
/// column (a store scan, or [`read_transactions`] with [`TxnColumns::all`]).
#[derive(Debug, Default)]
pub struct MonthTally {
    pub months: BTreeMap<String, MonthFigure>,
    month: MonthOf,
}

impl MonthTally {
    pub fn add_chunk(&mut self, c: &TxnChunk) {
        for r in 0..c.len() {
            let day = c.booked_on[r];
            let h = row_hash(
                c.account_id[r],
                c.customer_id[r],
                day,
                c.amount[r],
                c.balance_after[r],
                c.category.get(r),
                c.channel.get(r),
            );
            let key = self.month.key(day);
            if !self.months.contains_key(key) {
                self.months.insert(key.to_string(), MonthFigure::default());
            }
            if let Some(f) = self.months.get_mut(key) {
                f.rows += 1;
                f.checksum = f.checksum.wrapping_add(h);
            }
        }
    }
}

fn mix(h: u64, v: u64) -> u64 {
    // splitmix64's finaliser over the running state.
    let mut z = (h ^ v).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn mix_text(h: u64, s: Option<&str>) -> u64 {
    match s {
        None => mix(h, 0x6e75_6c6c),
        Some(s) => {
            // FNV-1a of the bytes, then mixed in with the length.
            let mut f: u64 = 0xcbf2_9ce4_8422_2325;
            for b in s.bytes() {
                f = (f ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
            mix(mix(h, s.len() as u64), f)
        }
    }
}

/// The hash of one transaction row (the unit of the order-free checksum).
#[allow(clippy::too_many_arguments)]
pub fn row_hash(
    account_id: i64,
    customer_id: i64,
    day: i32,
    amount: i64,
    balance_after: Option<i64>,
    category: Option<&str>,
    channel: Option<&str>,
) -> u64 {
    let mut h = mix(0, account_id as u64);
    h = mix(h, customer_id as u64);
    h = mix(h, day as i64 as u64);
    h = mix(h, amount as u64);
    h = match balance_after {
        None => mix(h, 0x6e6f_6e65),
        Some(b) => mix(mix(h, 1), b as u64),
    };
    h = mix_text(h, category);
    mix_text(h, channel)
}

/// One month's agreement line of a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthCheck {
    pub month: String,
    pub store_rows: u64,
    pub copy_rows: u64,
    pub store_checksum: String,
    pub copy_checksum: String,
    /// The manifest's figures agree with the files' own.
    pub manifest_agrees: bool,
    pub agrees: bool,
}

/// Compares per-month figures of the store, of the files and of the manifest.
pub fn compare_months(
    store: &BTreeMap<String, MonthFigure>,
    files: &BTreeMap<String, MonthFigure>,
    manifest: &BTreeMap<String, MonthFigure>,
) -> Vec<MonthCheck> {
    let mut months: Vec<&String> = store
        .keys()
        .chain(files.keys())
        .chain(manifest.keys())
        .collect();
    months.sort();
    months.dedup();
    months
        .into_iter()
        .map(|m| {
            let s = store.get(m).copied().unwrap_or_default();
            let f = files.get(m).copied().unwrap_or_default();
            let mf = manifest.get(m).copied().unwrap_or_default();
            let manifest_agrees = mf == f;
            MonthCheck {
                month: m.clone(),
                store_rows: s.rows,
                copy_rows: f.rows,
                store_checksum: format!("{:016x}", s.checksum),
                copy_checksum: format!("{:016x}", f.checksum),
                manifest_agrees,
                agrees: s == f && manifest_agrees,
            }
        })
        .collect()
}

/// Reads the whole copy under `dir` into per-month figures (every column
/// decoded: the proof that the files hold what the manifest says).
pub fn tally_files(dir: &Path, manifest: &Manifest) -> Result<MonthTally, ColumnarError> {
    let customers = CustomerMap::load(dir)?;
    let mut tally = MonthTally::default();
    read_transactions(
        dir,
        manifest,
        &customers,
        DayRange::all(),
        TxnColumns::all(),
        |c| tally.add_chunk(c),
    )?;
    Ok(tally)
}
