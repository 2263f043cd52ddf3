//! Writing and reading the transaction parts with the `parquet` crate's
//! column API (no Arrow: ADR 0004).

use super::{
    io_err, month_in_range, row_hash, ColumnarError, CustomerMap, Manifest, MonthOf, Part,
};
use parquet::basic::Compression;
use parquet::column::reader::get_typed_column_reader;
use parquet::data_type::{ByteArray, ByteArrayType, DataType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, RowGroupReader, SerializedFileReader};
use parquet::file::statistics::Statistics;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use rapport_store::{epoch_day, DayRange, StrColumn, TxnChunk};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// Rows per row group (and per chunk handed to readers).
const ROW_GROUP_ROWS: usize = 65_536;

/// The file schema; the column numbers below follow it.
const SCHEMA: &str = "message txn {
    required int64 account_id;
    required int32 customer_idx (INTEGER(32,false));
    required int32 booked_on (DATE);
    required int64 amount;
    optional int64 balance_after;
    optional binary category (STRING);
    optional binary channel (STRING);
    required binary source_key (STRING);
}";
const C_ACCOUNT: usize = 0;
const C_CUSTOMER: usize = 1;
const C_DAY: usize = 2;
const C_AMOUNT: usize = 3;
const C_BALANCE: usize = 4;
const C_CATEGORY: usize = 5;
const C_CHANNEL: usize = 6;
const C_KEY: usize = 7;

fn pq_err(path: &Path) -> impl FnOnce(parquet::errors::ParquetError) -> ColumnarError + '_ {
    move |source| ColumnarError::Parquet {
        path: path.to_path_buf(),
        source,
    }
}

/// The columns a reader wants decoded (projection). `booked_on` is also
/// decoded, whatever is asked, when the date range cuts into a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxnColumns {
    pub account_id: bool,
    pub customer_id: bool,
    pub booked_on: bool,
    pub amount: bool,
    pub balance_after: bool,
    pub category: bool,
    pub channel: bool,
    pub source_key: bool,
}

impl TxnColumns {
    /// Every column.
    pub fn all() -> TxnColumns {
        TxnColumns {
            account_id: true,
            customer_id: true,
            booked_on: true,
            amount: true,
            balance_after: true,
            category: true,
            channel: true,
            source_key: true,
        }
    }
    /// What the feature engine's transaction pass over the copy decodes.
    /// Not the source key: it orders only the rows of one account on one
    /// day, so the pass reads it back for such rows alone
    /// ([`FoldedGroups::source_keys`]).
    pub fn features() -> TxnColumns {
        TxnColumns {
            account_id: true,
            customer_id: false,
            booked_on: true,
            amount: true,
            balance_after: true,
            category: true,
            channel: true,
            source_key: false,
        }
    }
}

#[derive(Default)]
struct Buf {
    account_id: Vec<i64>,
    customer_idx: Vec<i32>,
    booked_on: Vec<i32>,
    amount: Vec<i64>,
    balance: Vec<i64>,
    balance_def: Vec<i16>,
    category: Vec<ByteArray>,
    category_def: Vec<i16>,
    channel: Vec<ByteArray>,
    channel_def: Vec<i16>,
    key: Vec<ByteArray>,
}

impl Buf {
    fn clear(&mut self) {
        self.account_id.clear();
        self.customer_idx.clear();
        self.booked_on.clear();
        self.amount.clear();
        self.balance.clear();
        self.balance_def.clear();
        self.category.clear();
        self.category_def.clear();
        self.channel.clear();
        self.channel_def.clear();
        self.key.clear();
    }
}

fn push_text(vals: &mut Vec<ByteArray>, defs: &mut Vec<i16>, v: Option<&str>) {
    match v {
        Some(s) => {
            vals.push(ByteArray::from(s));
            defs.push(1);
        }
        None => defs.push(0),
    }
}

struct MonthFile {
    tmp: PathBuf,
    path: PathBuf,
    file: String,
    writer: SerializedFileWriter<File>,
    buf: Buf,
    rows: u64,
    checksum: u64,
}

impl MonthFile {
    fn flush(&mut self) -> Result<(), ColumnarError> {
        if self.buf.account_id.is_empty() {
            return Ok(());
        }
        let err = pq_err(&self.tmp);
        let b = &self.buf;
        let written = (|| -> parquet::errors::Result<()> {
            let mut rg = self.writer.next_row_group()?;
            let mut i = 0;
            while let Some(mut col) = rg.next_column()? {
                match i {
                    C_ACCOUNT => col
                        .typed::<Int64Type>()
                        .write_batch(&b.account_id, None, None)?,
                    C_CUSTOMER => {
                        col.typed::<Int32Type>()
                            .write_batch(&b.customer_idx, None, None)?
                    }
                    C_DAY => col
                        .typed::<Int32Type>()
                        .write_batch(&b.booked_on, None, None)?,
                    C_AMOUNT => col
                        .typed::<Int64Type>()
                        .write_batch(&b.amount, None, None)?,
                    C_BALANCE => col.typed::<Int64Type>().write_batch(
                        &b.balance,
                        Some(&b.balance_def),
                        None,
                    )?,
                    C_CATEGORY => col.typed::<ByteArrayType>().write_batch(
                        &b.category,
                        Some(&b.category_def),
                        None,
                    )?,
                    C_KEY => col
                        .typed::<ByteArrayType>()
                        .write_batch(&b.key, None, None)?,
                    _ => col.typed::<ByteArrayType>().write_batch(
                        &b.channel,
                        Some(&b.channel_def),
                        None,
                    )?,
                };
                col.close()?;
                i += 1;
            }
            rg.close()?;
            Ok(())
        })();
        written.map_err(err)?;
        self.buf.clear();
        Ok(())
    }
}

/// Writes one file set (`part-<name>.parquet` in each month met) from
/// transaction chunks; nothing is visible until the caller lists the parts
/// in the manifest. Memory: one row group per open month.
pub struct PartWriter {
    root: PathBuf,
    name: String,
    customers: CustomerMap,
    month: MonthOf,
    files: BTreeMap<String, MonthFile>,
    props: Arc<WriterProperties>,
    schema: Arc<parquet::schema::types::Type>,
}

impl PartWriter {
    /// A writer of `part-<name>` files under `root` (the copy's directory),
    /// numbering customers with (and into) `customers`.
    pub fn new(root: &Path, name: &str, customers: CustomerMap) -> Result<Self, ColumnarError> {
        let schema = parse_message_type(SCHEMA).map_err(pq_err(root))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .build();
        Ok(PartWriter {
            root: root.to_path_buf(),
            name: name.to_string(),
            customers,
            month: MonthOf::default(),
            files: BTreeMap::new(),
            props: Arc::new(props),
            schema: Arc::new(schema),
        })
    }

    fn open(&mut self, month: &str) -> Result<&mut MonthFile, ColumnarError> {
        if !self.files.contains_key(month) {
            let rel = format!("transactions/month={month}/part-{}.parquet", self.name);
            let path = self.root.join(&rel);
            let dir = path.parent().unwrap_or(&self.root).to_path_buf();
            std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
            let tmp = path.with_extension("parquet.tmp");
            let file = File::create(&tmp).map_err(io_err(&tmp))?;
            let writer =
                SerializedFileWriter::new(file, Arc::clone(&self.schema), Arc::clone(&self.props))
                    .map_err(pq_err(&tmp))?;
            self.files.insert(
                month.to_string(),
                MonthFile {
                    tmp,
                    path,
                    file: rel,
                    writer,
                    buf: Buf::default(),
                    rows: 0,
                    checksum: 0,
                },
            );
        }
        self.files
            .get_mut(month)
            .ok_or_else(|| ColumnarError::Format {
                path: self.root.clone(),
                message: format!("month {month} not open"),
            })
    }

    /// Adds every row of `c` (a chunk with every column).
    pub fn add_chunk(&mut self, c: &TxnChunk) -> Result<(), ColumnarError> {
        for r in 0..c.len() {
            let day = c.booked_on[r];
            let customer = c.customer_id[r];
            let idx = self.customers.index_of(customer);
            let (category, channel) = (c.category.get(r), c.channel.get(r));
            let h = row_hash(
                c.account_id[r],
                customer,
                day,
                c.amount[r],
                c.balance_after[r],
                category,
                channel,
            );
            let month = self.month.key(day).to_string();
            let f = self.open(&month)?;
            let b = &mut f.buf;
            b.account_id.push(c.account_id[r]);
            b.customer_idx.push(idx as i32);
            b.booked_on.push(day);
            b.amount.push(c.amount[r]);
            match c.balance_after[r] {
                Some(v) => {
                    b.balance.push(v);
                    b.balance_def.push(1);
                }
                None => b.balance_def.push(0),
            }
            push_text(&mut b.category, &mut b.category_def, category);
            push_text(&mut b.channel, &mut b.channel_def, channel);
            b.key.push(ByteArray::from(c.source_key.get(r)));
            f.rows += 1;
            f.checksum = f.checksum.wrapping_add(h);
            if f.buf.account_id.len() >= ROW_GROUP_ROWS {
                f.flush()?;
            }
        }
        Ok(())
    }

    /// Closes the files (renamed to their final names) and gives the parts
    /// written and the customer map grown by them.
    pub fn finish(self) -> Result<(Vec<Part>, CustomerMap), ColumnarError> {
        let mut parts = Vec::new();
        for (month, mut f) in self.files {
            f.flush()?;
            f.writer.close().map_err(pq_err(&f.tmp))?;
            std::fs::rename(&f.tmp, &f.path).map_err(io_err(&f.path))?;
            parts.push(Part {
                month,
                file: f.file,
                rows: f.rows,
                checksum: format!("{:016x}", f.checksum),
            });
        }
        Ok((parts, self.customers))
    }
}

/// Reads column `i` of a row group: the non-null values and, when
/// `optional`, the definition levels (1 present, 0 null) of the `m` rows.
fn read_column<T: DataType>(
    rg: &dyn RowGroupReader,
    i: usize,
    m: usize,
    optional: bool,
    path: &Path,
) -> Result<(Vec<T::T>, Vec<i16>), ColumnarError> {
    let reader = rg.get_column_reader(i).map_err(pq_err(path))?;
    let mut cr = get_typed_column_reader::<T>(reader);
    let mut vals = Vec::with_capacity(m);
    let mut defs = Vec::with_capacity(if optional { m } else { 0 });
    let defs_arg = if optional { Some(&mut defs) } else { None };
    let (records, _, _) = cr
        .read_records(m, defs_arg, None, &mut vals)
        .map_err(pq_err(path))?;
    if records != m {
        return Err(ColumnarError::Format {
            path: path.to_path_buf(),
            message: format!("column {i}: {records} rows, expected {m}"),
        });
    }
    Ok((vals, defs))
}

/// Values of an optional column spread back onto its rows.
/// The values of the kept rows, in order (rows past `keep`'s end are not kept).
fn kept<'a, T: 'a>(
    values: impl IntoIterator<Item = T> + 'a,
    keep: &'a [bool],
) -> impl Iterator<Item = T> + 'a {
    values
        .into_iter()
        .zip(keep)
        .filter(|(_, k)| **k)
        .map(|(v, _)| v)
}

fn spread<T: Clone>(vals: Vec<T>, defs: &[i16]) -> Vec<Option<T>> {
    let mut it = vals.into_iter();
    defs.iter()
        .map(|&d| if d > 0 { it.next() } else { None })
        .collect()
}

/// Streams the copy's transactions booked in `range`, decoding only `cols`,
/// as [`TxnChunk`]s (one per row group; columns not asked for are empty).
/// Months outside `range` are never opened and row groups whose date
/// statistics fall outside it never decoded. Returns the rows handed over.
///
/// Decoding runs on its own thread, one row group ahead of `f` (two chunk
/// buffers passed back and forth), so the file work overlaps the caller's.
pub fn read_transactions(
    dir: &Path,
    manifest: &Manifest,
    customers: &CustomerMap,
    range: DayRange,
    cols: TxnColumns,
    mut f: impl FnMut(&TxnChunk),
) -> Result<u64, ColumnarError> {
    use std::sync::mpsc::{channel, sync_channel};
    let (full_tx, full_rx) = sync_channel::<Result<(TxnChunk, usize), ColumnarError>>(1);
    let (free_tx, free_rx) = channel::<TxnChunk>();
    for _ in 0..2 {
        // The receiver is alive here: these sends cannot fail.
        let _ = free_tx.send(TxnChunk::default());
    }
    std::thread::scope(|s| {
        s.spawn(move || {
            let mut next = || free_rx.recv().ok();
            let mut emit = |chunk: TxnChunk, rows: usize| full_tx.send(Ok((chunk, rows))).is_ok();
            if let Err(e) =
                decode_transactions(dir, manifest, customers, &range, cols, &mut next, &mut emit)
            {
                let _ = full_tx.send(Err(e));
            }
        });
        let mut total = 0u64;
        for msg in full_rx.iter() {
            let (chunk, rows) = msg?;
            total += rows as u64;
            f(&chunk);
            let _ = free_tx.send(chunk);
        }
        Ok(total)
    })
}

/// The day bounds of a date range as day numbers, and whether a day is inside.
#[derive(Debug, Clone, Copy)]
struct Days {
    from: Option<i32>,
    until: Option<i32>,
}

impl Days {
    fn of(range: &DayRange) -> Days {
        Days {
            from: range.from.map(epoch_day),
            until: range.until.map(epoch_day),
        }
    }
    fn inside(&self, d: i32) -> bool {
        self.from.is_none_or(|x| d >= x) && self.until.is_none_or(|x| d < x)
    }
    /// Whether row group `g` of `reader` is to be read: `None` when it is
    /// empty or its date statistics put every row outside; else whether
    /// they put every row inside (no row filter needed).
    fn group(&self, reader: &SerializedFileReader<File>, g: usize) -> Option<bool> {
        let meta = reader.metadata().row_group(g);
        let (lo, hi) = match meta.column(C_DAY).statistics() {
            Some(Statistics::Int32(s)) => (s.min_opt().copied(), s.max_opt().copied()),
            _ => (None, None),
        };
        let whole = matches!((lo, hi), (Some(a), Some(b)) if self.inside(a) && self.inside(b));
        let none = matches!((lo, hi), (Some(a), Some(b))
            if self.until.is_some_and(|u| a >= u) || self.from.is_some_and(|x| b < x));
        (!none && meta.num_rows() > 0).then_some(whole)
    }
}

/// Decodes the rows in range of row group `g` of `reader` (`whole`: every
/// row is, see [`Days::group`]) into `chunk`, cleared first, and the row
/// number within the group of each into `rows` (when given). Returns the
/// rows decoded.
#[allow(clippy::too_many_arguments)]
fn decode_group(
    reader: &SerializedFileReader<File>,
    g: usize,
    whole: bool,
    days: &Days,
    cols: TxnColumns,
    customers: &CustomerMap,
    path: &Path,
    chunk: &mut TxnChunk,
    rows: Option<&mut Vec<u32>>,
) -> Result<usize, ColumnarError> {
    chunk.clear();
    let m = reader.metadata().row_group(g).num_rows().max(0) as usize;
    let rg = reader.get_row_group(g).map_err(pq_err(path))?;
    let rg = rg.as_ref();
    let day_values = if cols.booked_on || !whole {
        Some(read_column::<Int32Type>(rg, C_DAY, m, false, path)?.0)
    } else {
        None
    };
    let keep: Vec<bool> = match (&day_values, whole) {
        (Some(d), false) => d.iter().map(|&d| days.inside(d)).collect(),
        _ => vec![true; m],
    };
    let kept_rows = keep.iter().filter(|&&k| k).count();
    if let Some(rows) = rows {
        rows.clear();
        rows.extend((0..m as u32).filter(|&r| keep[r as usize]));
    }
    if kept_rows == 0 {
        return Ok(0);
    }
    let pick = |r: usize| keep.get(r).copied().unwrap_or(false);

    if cols.account_id {
        let v = read_column::<Int64Type>(rg, C_ACCOUNT, m, false, path)?.0;
        chunk.account_id.extend(kept(v, &keep));
    }
    if cols.customer_id {
        let v = read_column::<Int32Type>(rg, C_CUSTOMER, m, false, path)?.0;
        for (r, idx) in v.into_iter().enumerate() {
            if pick(r) {
                let id = customers
                    .id_of(idx as u32)
                    .ok_or_else(|| ColumnarError::Format {
                        path: path.to_path_buf(),
                        message: format!("customer index {idx} not in the map"),
                    })?;
                chunk.customer_id.push(id);
            }
        }
    }
    if cols.booked_on {
        if let Some(d) = &day_values {
            chunk.booked_on.extend(kept(d.iter().copied(), &keep));
        }
    }
    if cols.amount {
        let v = read_column::<Int64Type>(rg, C_AMOUNT, m, false, path)?.0;
        chunk.amount.extend(kept(v, &keep));
    }
    if cols.balance_after {
        let (v, d) = read_column::<Int64Type>(rg, C_BALANCE, m, true, path)?;
        chunk.balance_after.extend(kept(spread(v, &d), &keep));
    }
    for (wanted, col, dict) in [
        (cols.category, C_CATEGORY, &mut chunk.category),
        (cols.channel, C_CHANNEL, &mut chunk.channel),
    ] {
        if !wanted {
            continue;
        }
        let (v, d) = read_column::<ByteArrayType>(rg, col, m, true, path)?;
        // Few distinct values: each is checked as UTF-8 and looked up
        // in the chunk's dictionary once, then matched by its bytes.
        let mut seen: Vec<(ByteArray, u32)> = Vec::new();
        let mut values = v.into_iter();
        for (r, &def) in d.iter().enumerate() {
            let value = if def > 0 { values.next() } else { None };
            if !pick(r) {
                continue;
            }
            let Some(b) = value else {
                dict.push(None);
                continue;
            };
            if let Some((_, code)) = seen.iter().find(|(x, _)| x.data() == b.data()) {
                dict.codes.push(*code);
                continue;
            }
            let s = std::str::from_utf8(b.data()).map_err(|e| ColumnarError::Format {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
            dict.push(Some(s));
            if let Some(&code) = dict.codes.last() {
                seen.push((b, code));
            }
        }
    }
    if cols.source_key {
        let v = read_column::<ByteArrayType>(rg, C_KEY, m, false, path)?.0;
        for (r, b) in v.iter().enumerate() {
            if pick(r) {
                chunk.source_key.push(utf8(b, path)?);
            }
        }
    }
    Ok(kept_rows)
}

fn utf8<'a>(b: &'a ByteArray, path: &Path) -> Result<&'a str, ColumnarError> {
    std::str::from_utf8(b.data()).map_err(|e| ColumnarError::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn open_reader(path: &Path) -> Result<SerializedFileReader<File>, ColumnarError> {
    let file = File::open(path).map_err(io_err(path))?;
    SerializedFileReader::new(file).map_err(pq_err(path))
}

/// The decoding side of [`read_transactions`]: takes an empty chunk from
/// `next` per row group with rows in range, hands it to `emit` filled; stops
/// when either says the reader is gone.
fn decode_transactions(
    dir: &Path,
    manifest: &Manifest,
    customers: &CustomerMap,
    range: &DayRange,
    cols: TxnColumns,
    next: &mut dyn FnMut() -> Option<TxnChunk>,
    emit: &mut dyn FnMut(TxnChunk, usize) -> bool,
) -> Result<(), ColumnarError> {
    let days = Days::of(range);
    let mut spare: Option<TxnChunk> = None;
    let mut files = OpenFile::default();
    for g in groups_in_range(dir, manifest, range, &days)? {
        let Some(mut chunk) = spare.take().or_else(&mut *next) else {
            return Ok(());
        };
        let (path, reader) = files.open(&g.path)?;
        let rows = decode_group(
            reader, g.group, g.whole, &days, cols, customers, path, &mut chunk, None,
        )?;
        if rows == 0 {
            spare = Some(chunk);
            continue;
        }
        if !emit(chunk, rows) {
            return Ok(());
        }
    }
    Ok(())
}

/// The row groups of the copy's parts with rows in `range`, in the copy's
/// order (parts as the manifest lists them, groups in file order): months
/// outside it are never opened, groups whose date statistics fall outside
/// it are left out. What both [`read_transactions`] and
/// [`fold_transactions`] read.
fn groups_in_range(
    dir: &Path,
    manifest: &Manifest,
    range: &DayRange,
    days: &Days,
) -> Result<Vec<GroupRef>, ColumnarError> {
    let mut groups = Vec::new();
    for part in manifest
        .parts
        .iter()
        .filter(|p| month_in_range(&p.month, range))
    {
        let path = dir.join(&part.file);
        let reader = open_reader(&path)?;
        for g in 0..reader.num_row_groups() {
            if let Some(whole) = days.group(&reader, g) {
                groups.push(GroupRef {
                    path: path.clone(),
                    group: g,
                    whole,
                });
            }
        }
    }
    Ok(groups)
}

/// The file a reader of row groups has open: consecutive groups of one
/// file share it, the next file replaces it.
#[derive(Default)]
struct OpenFile {
    open: Option<(PathBuf, SerializedFileReader<File>)>,
}

impl OpenFile {
    fn open(&mut self, path: &Path) -> Result<(&Path, &SerializedFileReader<File>), ColumnarError> {
        let file = match self.open.take() {
            Some((p, r)) if p == path => (p, r),
            _ => (path.to_path_buf(), open_reader(path)?),
        };
        let (p, r) = self.open.insert(file);
        Ok((p.as_path(), r))
    }
}

/// One row group a [`fold_transactions`] reads.
#[derive(Debug, Clone)]
struct GroupRef {
    path: PathBuf,
    group: usize,
    whole: bool,
}

/// Where the rows of a chunk handed to a fold come from: the row group's
/// number in [`FoldedGroups`] and, per chunk row, its row number in the group.
#[derive(Debug, Clone, Copy)]
pub struct ChunkOrigin<'a> {
    pub group: u32,
    pub rows: &'a [u32],
}

/// The row groups a [`fold_transactions`] read, numbered as in its
/// [`ChunkOrigin`]s (in the copy's order: parts as listed, groups in file order).
#[derive(Debug, Clone, Default)]
pub struct FoldedGroups {
    groups: Vec<GroupRef>,
}

impl FoldedGroups {
    /// The source keys of every row of group `group` (row number → key),
    /// read back from its file.
    pub fn source_keys(&self, group: u32) -> Result<StrColumn, ColumnarError> {
        let g = self
            .groups
            .get(group as usize)
            .ok_or_else(|| ColumnarError::Format {
                path: PathBuf::new(),
                message: format!("no row group numbered {group} in this read"),
            })?;
        let reader = open_reader(&g.path)?;
        let m = reader.metadata().row_group(g.group).num_rows().max(0) as usize;
        let rg = reader.get_row_group(g.group).map_err(pq_err(&g.path))?;
        let v = read_column::<ByteArrayType>(rg.as_ref(), C_KEY, m, false, &g.path)?.0;
        let mut keys = StrColumn::default();
        for b in &v {
            keys.push(utf8(b, &g.path)?);
        }
        Ok(keys)
    }
}

/// What [`fold_transactions`] gives back: one state per worker, the row
/// groups read and the rows folded.
#[derive(Debug)]
pub struct Folded<A> {
    pub states: Vec<A>,
    pub groups: FoldedGroups,
    pub rows: u64,
}

/// Folds the copy's transactions booked in `range`, decoding only `cols`,
/// row group by row group on rayon's pool: `workers` workers (at least one)
/// each start from `init()` and take the next row group not yet taken,
/// decode it into a [`TxnChunk`] and `fold` it into their own state, so
/// the decoding runs in parallel and no state is shared. Pruning as in
/// [`read_transactions`]. Stops early (an incomplete result) once `stop` is
/// set.
#[allow(clippy::too_many_arguments)]
pub fn fold_transactions<A: Send>(
    dir: &Path,
    manifest: &Manifest,
    customers: &CustomerMap,
    range: DayRange,
    cols: TxnColumns,
    workers: usize,
    stop: &AtomicBool,
    init: impl Fn() -> A + Sync,
    fold: impl Fn(&mut A, &TxnChunk, ChunkOrigin<'_>) + Sync,
) -> Result<Folded<A>, ColumnarError> {
    use rayon::prelude::*;
    let days = Days::of(&range);
    let groups = groups_in_range(dir, manifest, &range, &days)?;
    let next = AtomicUsize::new(0);
    let worker = |_| -> Result<(A, u64), ColumnarError> {
        let mut state = init();
        let mut chunk = TxnChunk::default();
        let mut rows = Vec::new();
        let mut total = 0u64;
        let mut files = OpenFile::default();
        while !stop.load(Ordering::Relaxed) {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(g) = groups.get(i) else { break };
            let (path, reader) = files.open(&g.path)?;
            let n = decode_group(
                reader,
                g.group,
                g.whole,
                &days,
                cols,
                customers,
                path,
                &mut chunk,
                Some(&mut rows),
            )?;
            if n > 0 {
                let origin = ChunkOrigin {
                    group: i as u32,
                    rows: &rows,
                };
                fold(&mut state, &chunk, origin);
                total += n as u64;
            }
        }
        Ok((state, total))
    };
    let done: Vec<(A, u64)> = (0..workers.max(1))
        .into_par_iter()
        .with_max_len(1)
        .map(worker)
        .collect::<Result<_, _>>()?;
    let rows = done.iter().map(|(_, n)| n).sum();
    Ok(Folded {
        states: done.into_iter().map(|(s, _)| s).collect(),
        groups: FoldedGroups { groups },
        rows,
    })
}

/// The schema of the owners file (`OWNERS`).
const OWNERS_SCHEMA: &str = "message owners {
    required int64 account_id;
    required int64 customer_id;
}";

/// Writes `pairs` (account id, customer id: every owner of every account)
/// as the copy's owners file in `dir`, atomically (a temporary file renamed
/// over the old one). Returns the rows written.
pub fn write_owners(dir: &Path, pairs: &[(i64, i64)]) -> Result<u64, ColumnarError> {
    let path = dir.join(super::OWNERS);
    let tmp = path.with_extension("parquet.tmp");
    let schema = Arc::new(parse_message_type(OWNERS_SCHEMA).map_err(pq_err(&path))?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    let file = File::create(&tmp).map_err(io_err(&tmp))?;
    let mut writer = SerializedFileWriter::new(file, schema, props).map_err(pq_err(&tmp))?;
    let written = (|| -> parquet::errors::Result<()> {
        for block in pairs.chunks(ROW_GROUP_ROWS * 4) {
            let accounts: Vec<i64> = block.iter().map(|p| p.0).collect();
            let customers: Vec<i64> = block.iter().map(|p| p.1).collect();
            let mut rg = writer.next_row_group()?;
            let mut i = 0;
            while let Some(mut col) = rg.next_column()? {
                let v = if i == 0 { &accounts } else { &customers };
                col.typed::<Int64Type>().write_batch(v, None, None)?;
                col.close()?;
                i += 1;
            }
            rg.close()?;
        }
        writer.close()?;
        Ok(())
    })();
    written.map_err(pq_err(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(io_err(&path))?;
    Ok(pairs.len() as u64)
}
