//! Streaming column scans for analytics: whole tables (or a date range of
//! one) read in bounded memory and handed over in columnar chunks.
//!
//! Every scan streams rows into the columns of a chunk; when the chunk holds
//! `chunk_rows` rows the callback gets it, then it is cleared and refilled.
//! Memory is one chunk (plus, on SQLite, a few packed blocks of ~16k rows)
//! plus whatever the callback keeps. On PostgreSQL a scan is one runtime query
//! read as a stream (`fetch`, never `fetch_all`); on SQLite it is a series of
//! queries over blocks of consecutive ids, each block packed into one text
//! value by SQLite (see "running a scan" below for why). Dates are decoded in
//! Rust (ISO text on SQLite, `DATE` on PostgreSQL).
//!
//! Column conventions:
//! * dates are `i32` day numbers, days since 1970-01-01 ([`epoch_day`]);
//! * money is `i64` minor units, as stored (ADR 0001);
//! * low-cardinality text (types, categories, channels …) is a
//!   [`DictColumn`]: a `u32` code per row into a dictionary that only grows
//!   during one scan, so codes are stable across the chunks of a scan;
//! * other text (source keys) is a [`StrColumn`]: one buffer plus offsets,
//!   no allocation per row.
//!
//! Customers, accounts, roles, loans and cards come in id order; the event
//! tables (transactions, statements, cases, surveys, interactions) in id
//! order on SQLite and the table's natural order on PostgreSQL (a sort of the
//! largest table would buy nothing), so consumers must not depend on it.
//! Like the rest of the store, scans have no rules about content: they never
//! interpret a category, a role or a status.

use crate::{Result, Store};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use futures::{StreamExt, TryStreamExt};
use sqlx::postgres::PgRow;
use sqlx::Row;
use std::collections::HashMap;

/// Rows per chunk when the caller has no better idea.
pub const DEFAULT_SCAN_CHUNK_ROWS: usize = 65_536;

/// Days from 0001-01-01 (day 1 of the common era) to 1970-01-01.
const UNIX_EPOCH_FROM_CE: i32 = 719_163;

/// The day number of `date`: days since 1970-01-01 (negative before).
pub fn epoch_day(date: NaiveDate) -> i32 {
    date.num_days_from_ce() - UNIX_EPOCH_FROM_CE
}

/// The date of day number `day` (inverse of [`epoch_day`]); `None` when out of
/// chrono's range.
pub fn date_of_epoch_day(day: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(day.checked_add(UNIX_EPOCH_FROM_CE)?)
}

/// A half-open date range `[from, until)` on a table's date column; either
/// end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayRange {
    /// First day included (`None`: from the beginning).
    pub from: Option<NaiveDate>,
    /// First day excluded (`None`: to the end).
    pub until: Option<NaiveDate>,
}

impl DayRange {
    /// Every row.
    pub fn all() -> Self {
        DayRange::default()
    }
    /// Rows dated strictly before `until`.
    pub fn before(until: NaiveDate) -> Self {
        DayRange {
            from: None,
            until: Some(until),
        }
    }
    /// Rows dated in `[from, until)`.
    pub fn between(from: NaiveDate, until: NaiveDate) -> Self {
        DayRange {
            from: Some(from),
            until: Some(until),
        }
    }

    /// Conditions on `column`, with placeholders numbered from `$first`, and the dates to bind.
    fn conditions(&self, column: &str, first: usize) -> (Vec<String>, Vec<NaiveDate>) {
        let mut conds = Vec::new();
        let mut binds = Vec::new();
        if let Some(from) = self.from {
            conds.push(format!("{column} >= ${}", first + binds.len()));
            binds.push(from);
        }
        if let Some(until) = self.until {
            conds.push(format!("{column} < ${}", first + binds.len()));
            binds.push(until);
        }
        (conds, binds)
    }
}

// ----- column buffers ----------------------------------------------------------

/// A text column: all values in one buffer, with the end offset of each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StrColumn {
    data: String,
    ends: Vec<usize>,
}

impl StrColumn {
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    /// The value of row `i` (empty for a missing value, or when out of range).
    pub fn get(&self, i: usize) -> &str {
        let start = match i {
            0 => 0,
            _ => self.ends.get(i - 1).copied().unwrap_or(0),
        };
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.data.get(start..end).unwrap_or("")
    }
    pub fn push(&mut self, value: &str) {
        self.data.push_str(value);
        self.ends.push(self.data.len());
    }
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
    fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
    }
}

/// A low-cardinality text column: per row a code into [`DictColumn::values`]
/// ([`DictColumn::NULL`] for a missing value). The dictionary lives for the
/// whole scan, so a code means the same value in every chunk of one scan.
#[derive(Debug, Clone, Default)]
pub struct DictColumn {
    pub codes: Vec<u32>,
    values: Vec<String>,
    lookup: HashMap<String, u32>,
}

impl DictColumn {
    /// The code of a missing value.
    pub const NULL: u32 = u32::MAX;

    pub fn len(&self) -> usize {
        self.codes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }
    /// The distinct values seen so far in this scan; a code indexes this slice.
    pub fn values(&self) -> &[String] {
        &self.values
    }
    /// The value of row `i` (`None` when missing).
    pub fn get(&self, i: usize) -> Option<&str> {
        let code = *self.codes.get(i)?;
        self.values.get(code as usize).map(String::as_str)
    }
    /// Appends a value (`None` = missing).
    pub fn push(&mut self, value: Option<&str>) {
        let code = match value {
            None => Self::NULL,
            Some(v) => match self.lookup.get(v) {
                Some(&c) => c,
                None => {
                    let c = u32::try_from(self.values.len()).unwrap_or(Self::NULL - 1);
                    self.values.push(v.to_string());
                    self.lookup.insert(v.to_string(), c);
                    c
                }
            },
        };
        self.codes.push(code);
    }
    /// Clears the rows, keeping the dictionary.
    fn clear(&mut self) {
        self.codes.clear();
    }
}

/// A buffer a chunk is made of.
trait ColumnBuf {
    fn clear_rows(&mut self);
    fn rows(&self) -> usize;
}
impl<T> ColumnBuf for Vec<T> {
    fn clear_rows(&mut self) {
        self.clear();
    }
    fn rows(&self) -> usize {
        self.len()
    }
}
impl ColumnBuf for StrColumn {
    fn clear_rows(&mut self) {
        self.clear();
    }
    fn rows(&self) -> usize {
        self.len()
    }
}
impl ColumnBuf for DictColumn {
    fn clear_rows(&mut self) {
        self.clear();
    }
    fn rows(&self) -> usize {
        self.len()
    }
}

// ----- decoding a row -------------------------------------------------------------

fn decode_error(index: usize, message: String) -> crate::StoreError {
    crate::StoreError::Database(sqlx::Error::ColumnDecode {
        index: index.to_string(),
        source: message.into(),
    })
}

/// Parses an ISO date (`YYYY-MM-DD`, anything after the day ignored) to a day number.
fn parse_iso_day(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().map(epoch_day);
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r)?.iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, num(5..7)?, num(8..10)?).map(epoch_day)
}

/// What a scan reads from a row of either backend.
trait ScanRow {
    fn int(&self, i: usize) -> Result<i64>;
    fn opt_int(&self, i: usize) -> Result<Option<i64>>;
    fn text(&self, i: usize) -> Result<Option<&str>>;
    fn day(&self, i: usize) -> Result<Option<i32>>;
    fn timestamp_day(&self, i: usize) -> Result<Option<i32>>;
}

impl ScanRow for PgRow {
    fn int(&self, i: usize) -> Result<i64> {
        Ok(self.try_get(i)?)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        Ok(self.try_get(i)?)
    }
    fn text(&self, i: usize) -> Result<Option<&str>> {
        Ok(self.try_get(i)?)
    }
    fn day(&self, i: usize) -> Result<Option<i32>> {
        Ok(self.try_get::<Option<NaiveDate>, _>(i)?.map(epoch_day))
    }
    fn timestamp_day(&self, i: usize) -> Result<Option<i32>> {
        Ok(self
            .try_get::<Option<DateTime<Utc>>, _>(i)?
            .map(|t| epoch_day(t.date_naive())))
    }
}

// Appending one cell of a row to a column, by the column's kind.

fn int<R: ScanRow>(col: &mut Vec<i64>, r: &R, i: usize) -> Result<()> {
    col.push(r.int(i)?);
    Ok(())
}
fn opt_int<R: ScanRow>(col: &mut Vec<Option<i64>>, r: &R, i: usize) -> Result<()> {
    col.push(r.opt_int(i)?);
    Ok(())
}
fn day<R: ScanRow>(col: &mut Vec<i32>, r: &R, i: usize) -> Result<()> {
    col.push(
        r.day(i)?
            .ok_or_else(|| decode_error(i, "unexpected NULL date".into()))?,
    );
    Ok(())
}
fn opt_day<R: ScanRow>(col: &mut Vec<Option<i32>>, r: &R, i: usize) -> Result<()> {
    col.push(r.day(i)?);
    Ok(())
}
fn timestamp_day<R: ScanRow>(col: &mut Vec<Option<i32>>, r: &R, i: usize) -> Result<()> {
    col.push(r.timestamp_day(i)?);
    Ok(())
}
fn dict<R: ScanRow>(col: &mut DictColumn, r: &R, i: usize) -> Result<()> {
    col.push(r.text(i)?);
    Ok(())
}
fn text<R: ScanRow>(col: &mut StrColumn, r: &R, i: usize) -> Result<()> {
    col.push(r.text(i)?.unwrap_or(""));
    Ok(())
}

/// A chunk type: its columns, in the order of its SELECT list.
trait ScanChunk: Default {
    /// The SELECT list (SQL expressions, one per column).
    const SELECT: &'static [&'static str];
    /// Whether each column is text that may hold any character (else a
    /// number or a date, which never holds a comma).
    const TEXT: &'static [bool];
    fn push_row<R: ScanRow>(&mut self, r: &R) -> Result<()>;
    fn clear_rows(&mut self);
    fn row_count(&self) -> usize;
}

/// Whether a column kind is free text.
macro_rules! is_text {
    (dict) => {
        true
    };
    (text) => {
        true
    };
    ($other:ident) => {
        false
    };
}

/// Declares a chunk struct: each field with its type, its kind (the
/// function above that appends a cell) and its SQL expression.
macro_rules! scan_chunk {
    (
        $(#[$meta:meta])*
        $name:ident {
            $(#[$fm0:meta])* $f0:ident : $t0:ty = $k0:ident($e0:literal),
            $( $(#[$fm:meta])* $f:ident : $t:ty = $k:ident($e:literal) ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default)]
        pub struct $name {
            $(#[$fm0])* pub $f0: $t0,
            $( $(#[$fm])* pub $f: $t, )*
        }

        impl $name {
            /// Rows in the chunk.
            pub fn len(&self) -> usize {
                ColumnBuf::rows(&self.$f0)
            }
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }
            /// Empties every column (dictionaries keep their words, so codes
            /// stay stable across the chunks of one reader).
            pub fn clear(&mut self) {
                ScanChunk::clear_rows(self);
            }
        }

        impl ScanChunk for $name {
            const SELECT: &'static [&'static str] = &[$e0, $($e),*];
            const TEXT: &'static [bool] = &[is_text!($k0), $(is_text!($k)),*];
            fn push_row<R: ScanRow>(&mut self, r: &R) -> Result<()> {
                let mut _i = 0usize;
                $k0(&mut self.$f0, r, _i)?;
                $( _i += 1; $k(&mut self.$f, r, _i)?; )*
                Ok(())
            }
            fn clear_rows(&mut self) {
                ColumnBuf::clear_rows(&mut self.$f0);
                $( ColumnBuf::clear_rows(&mut self.$f); )*
            }
            fn row_count(&self) -> usize {
                self.len()
            }
        }
    };
}

scan_chunk!(
    /// Customers (`customer`), in id order, with their first source key.
    CustomerChunk {
        id: Vec<i64> = int("c.id"),
        birth_date: Vec<Option<i32>> = opt_day("c.birth_date"),
        gender: DictColumn = dict("c.gender"),
        branch_id: Vec<Option<i64>> = opt_int("c.branch_id"),
        annual_income: Vec<Option<i64>> = opt_int("c.annual_income"),
        risk_tolerance: DictColumn = dict("c.risk_tolerance"),
        risk_assessed_on: Vec<Option<i32>> = opt_day("c.risk_assessed_on"),
        /// The day the row was created in the store (not when the customer joined the bank).
        created_on: Vec<Option<i32>> = timestamp_day("c.created_at"),
        /// Source of the customer's first source key (lowest id); NULL when none.
        key_source: DictColumn = dict("k.source"),
        /// The customer's first source key; empty when none.
        key: StrColumn = text("k.source_key"),
    }
);

scan_chunk!(
    /// Accounts (`account`).
    AccountChunk {
        id: Vec<i64> = int("id"),
        customer_id: Vec<i64> = int("customer_id"),
        account_type: DictColumn = dict("account_type"),
        opened_on: Vec<Option<i32>> = opt_day("opened_on"),
        closed_on: Vec<Option<i32>> = opt_day("closed_on"),
        currency: DictColumn = dict("currency"),
        balance: Vec<Option<i64>> = opt_int("balance"),
        credit_limit: Vec<Option<i64>> = opt_int("credit_limit"),
        branch_id: Vec<Option<i64>> = opt_int("branch_id"),
    }
);

scan_chunk!(
    /// Roles of customers on accounts (`account_role`).
    AccountRoleChunk {
        account_id: Vec<i64> = int("account_id"),
        customer_id: Vec<i64> = int("customer_id"),
        role: DictColumn = dict("role"),
    }
);

scan_chunk!(
    /// Transactions (`txn`); `customer_id` is the account's owner as loaded.
    TxnChunk {
        account_id: Vec<i64> = int("account_id"),
        customer_id: Vec<i64> = int("customer_id"),
        booked_on: Vec<i32> = day("booked_on"),
        amount: Vec<i64> = int("amount"),
        balance_after: Vec<Option<i64>> = opt_int("balance_after"),
        category: DictColumn = dict("category"),
        channel: DictColumn = dict("channel"),
        source_key: StrColumn = text("source_key"),
    }
);

scan_chunk!(
    /// Loans (`loan`).
    LoanChunk {
        id: Vec<i64> = int("id"),
        account_id: Vec<i64> = int("account_id"),
        customer_id: Vec<i64> = int("customer_id"),
        granted_on: Vec<i32> = day("granted_on"),
        amount: Vec<i64> = int("amount"),
        duration_months: Vec<i64> = int("duration_months"),
        monthly_payment: Vec<i64> = int("monthly_payment"),
        status: DictColumn = dict("status"),
        days_past_due: Vec<i64> = int("days_past_due"),
    }
);

scan_chunk!(
    /// Cards (`card`); `customer_id` is the holder.
    CardChunk {
        id: Vec<i64> = int("id"),
        account_id: Vec<i64> = int("account_id"),
        customer_id: Vec<i64> = int("customer_id"),
        card_type: DictColumn = dict("card_type"),
        issued_on: Vec<Option<i32>> = opt_day("issued_on"),
        credit_limit: Vec<Option<i64>> = opt_int("credit_limit"),
    }
);

scan_chunk!(
    /// Product holdings (`holding`): wealth, funds, insurance … with their amount.
    HoldingChunk {
        customer_id: Vec<i64> = int("customer_id"),
        product_id: Vec<i64> = int("product_id"),
        opened_on: Vec<Option<i32>> = opt_day("opened_on"),
        closed_on: Vec<Option<i32>> = opt_day("closed_on"),
        amount: Vec<Option<i64>> = opt_int("amount"),
    }
);

scan_chunk!(
    /// Monthly card statements (`card_statement`); `statement_month` is the month's first day.
    CardStatementChunk {
        account_id: Vec<i64> = int("account_id"),
        customer_id: Vec<i64> = int("customer_id"),
        statement_month: Vec<i32> = day("statement_month"),
        bill_amount: Vec<i64> = int("bill_amount"),
        paid_amount: Vec<i64> = int("paid_amount"),
        repayment_status: Vec<i64> = int("repayment_status"),
        days_past_due: Vec<i64> = int("days_past_due"),
        source_key: StrColumn = text("source_key"),
    }
);

scan_chunk!(
    /// Service cases (`service_case`, then those opened in Rapport, `support_case`).
    CaseChunk {
        customer_id: Vec<i64> = int("customer_id"),
        opened_on: Vec<i32> = day("opened_on"),
        kind: DictColumn = dict("kind"),
        category: DictColumn = dict("category"),
        severity: DictColumn = dict("severity"),
        status: DictColumn = dict("status"),
        closed_on: Vec<Option<i32>> = opt_day("closed_on"),
    }
);

scan_chunk!(
    /// Survey answers (`survey_response`).
    SurveyResponseChunk {
        customer_id: Vec<i64> = int("customer_id"),
        answered_on: Vec<i32> = day("answered_on"),
        survey: DictColumn = dict("survey"),
        kind: DictColumn = dict("kind"),
        question: DictColumn = dict("question"),
        score: Vec<Option<i64>> = opt_int("score"),
        source_key: StrColumn = text("source_key"),
    }
);

scan_chunk!(
    /// Contacts with customers (`interaction`).
    InteractionChunk {
        customer_id: Vec<i64> = int("customer_id"),
        occurred_on: Vec<i32> = day("occurred_on"),
        channel: DictColumn = dict("channel"),
        kind: DictColumn = dict("kind"),
        outcome: DictColumn = dict("outcome"),
    }
);

// ----- running a scan ----------------------------------------------------------------
//
// PostgreSQL: one plain query, read as a stream.
//
// SQLite: sqlx hands every result row from the connection's worker thread to
// the caller separately, which costs about as much per row as SQLite's own
// scan of dozens of rows. So the table is read in blocks of consecutive ids,
// each block packed by SQLite into one row: per column, the count of rows and
// `group_concat` of its values (numbers and dates comma-separated, empty for
// NULL; text as `LENGTH:VALUE` back to back, `~` for NULL), parsed here. A
// few blocks are in flight at once on separate connections. Rows come out in
// id order within a block and blocks in id order.

/// Ids per packed SQLite block.
const PACK_BLOCK_IDS: i64 = 16_384;
/// Packed SQLite blocks queried at once (each on its own pooled connection).
const PACK_IN_FLIGHT: usize = 3;
/// Most columns a chunk type has.
const MAX_COLUMNS: usize = 16;

/// What a scan reads: the FROM clause, the integer primary key that orders
/// and blocks it, and an optional date range on a column.
struct Query<'a> {
    /// The table whose integer primary key `id` blocks the scan.
    table: &'a str,
    from: &'a str,
    id: &'a str,
    range: Option<(&'a str, DayRange)>,
    /// Sort by id on PostgreSQL too (not for the event tables: a sort of the
    /// whole table buys nothing there).
    ordered: bool,
}

impl Query<'_> {
    fn conditions(&self, first: usize) -> (Vec<String>, Vec<NaiveDate>) {
        match self.range {
            Some((column, range)) => range.conditions(column, first),
            None => (Vec::new(), Vec::new()),
        }
    }

    /// The plain query: every column (in id order when `ordered`).
    fn plain<C: ScanChunk>(&self) -> (String, Vec<NaiveDate>) {
        let (conds, binds) = self.conditions(1);
        let where_ = if conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conds.join(" AND "))
        };
        let order = if self.ordered {
            format!(" ORDER BY {}", self.id)
        } else {
            String::new()
        };
        let sql = format!(
            "SELECT {} FROM {}{where_}{order}",
            C::SELECT.join(", "),
            self.from,
        );
        (sql, binds)
    }

    /// The packed query of one block of ids `[$1, $2)`: the number of rows,
    /// then one aggregate per column.
    fn packed<C: ScanChunk>(&self) -> (String, Vec<NaiveDate>) {
        let (mut conds, binds) = self.conditions(3);
        conds.insert(0, format!("{} >= $1 AND {} < $2", self.id, self.id));
        let mut columns = vec!["COUNT(*)".to_string()];
        columns.extend(C::SELECT.iter().zip(C::TEXT).map(|(e, text)| {
            if *text {
                format!("group_concat(IFNULL(length(CAST({e} AS BLOB)) || ':' || {e}, '~'), '')")
            } else {
                format!("group_concat(IFNULL({e}, ''))")
            }
        }));
        let sql = format!(
            "SELECT {} FROM {} WHERE {}",
            columns.join(", "),
            self.from,
            conds.join(" AND ")
        );
        (sql, binds)
    }

    /// The smallest and largest id (each found through the primary key).
    fn id_bounds(&self) -> String {
        format!(
            "SELECT (SELECT MIN(id) FROM {t}), (SELECT MAX(id) FROM {t})",
            t = self.table
        )
    }
}

/// A cursor over one packed column of a block.
struct PackedColumn<'a> {
    text: &'a str,
    pos: usize,
    free_text: bool,
}

impl<'a> PackedColumn<'a> {
    fn corrupt(&self) -> crate::StoreError {
        decode_error(
            0,
            format!("packed scan column is malformed at byte {}", self.pos),
        )
    }

    /// The next value (`None` for NULL).
    fn next(&mut self) -> Result<Option<&'a str>> {
        if self.free_text {
            self.next_text()
        } else {
            self.next_number()
        }
    }

    fn next_number(&mut self) -> Result<Option<&'a str>> {
        let rest = self.text.get(self.pos..).ok_or_else(|| self.corrupt())?;
        let len = rest.find(',').unwrap_or(rest.len());
        self.pos += len + 1;
        Ok(Some(&rest[..len]).filter(|v| !v.is_empty()))
    }

    fn next_text(&mut self) -> Result<Option<&'a str>> {
        let bytes = self.text.as_bytes();
        if bytes.get(self.pos) == Some(&b'~') {
            self.pos += 1;
            return Ok(None);
        }
        let mut len = 0usize;
        loop {
            match bytes.get(self.pos) {
                Some(&c) if c.is_ascii_digit() => {
                    len = len
                        .checked_mul(10)
                        .and_then(|l| l.checked_add(usize::from(c - b'0')))
                        .ok_or_else(|| self.corrupt())?;
                    self.pos += 1;
                }
                Some(b':') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.corrupt()),
            }
        }
        let end = self.pos.checked_add(len).ok_or_else(|| self.corrupt())?;
        let value = self.text.get(self.pos..end).ok_or_else(|| self.corrupt())?;
        self.pos = end;
        Ok(Some(value))
    }
}

/// One row of a packed block.
struct PackedRow<'a> {
    fields: [Option<&'a str>; MAX_COLUMNS],
}

impl PackedRow<'_> {
    fn get(&self, i: usize) -> Option<&str> {
        self.fields.get(i).copied().flatten()
    }
}

/// Reads the rows of one packed block into `out`.
fn read_packed_block<C: ScanChunk>(
    row: &sqlx::sqlite::SqliteRow,
    out: &mut Filler<'_, C>,
) -> Result<()> {
    let rows: i64 = row.try_get(0)?;
    if rows == 0 {
        return Ok(());
    }
    let mut columns = Vec::with_capacity(C::SELECT.len());
    for (i, free_text) in C::TEXT.iter().enumerate() {
        let text: Option<&str> = row.try_get(i + 1)?;
        columns.push(PackedColumn {
            text: text.unwrap_or(""),
            pos: 0,
            free_text: *free_text,
        });
    }
    for _ in 0..rows {
        let mut fields = [None; MAX_COLUMNS];
        for (slot, column) in fields.iter_mut().zip(columns.iter_mut()) {
            *slot = column.next()?;
        }
        out.push(&PackedRow { fields })?;
    }
    Ok(())
}

impl ScanRow for PackedRow<'_> {
    fn int(&self, i: usize) -> Result<i64> {
        self.opt_int(i)?
            .ok_or_else(|| decode_error(i, "unexpected NULL integer".into()))
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        self.get(i)
            .map(|s| {
                s.parse::<i64>()
                    .map_err(|_| decode_error(i, format!("{s:?} is not an integer")))
            })
            .transpose()
    }
    fn text(&self, i: usize) -> Result<Option<&str>> {
        Ok(self.get(i))
    }
    fn day(&self, i: usize) -> Result<Option<i32>> {
        self.get(i)
            .map(|s| {
                parse_iso_day(s).ok_or_else(|| decode_error(i, format!("{s:?} is not an ISO date")))
            })
            .transpose()
    }
    fn timestamp_day(&self, i: usize) -> Result<Option<i32>> {
        // ISO-8601 text: the date is its first ten characters.
        self.day(i)
    }
}

/// Fills `chunk` and hands it to `f` whenever it holds `chunk_rows` rows.
struct Filler<'f, C> {
    chunk: C,
    chunk_rows: usize,
    total: u64,
    f: &'f mut (dyn FnMut(&C) + Send),
}

impl<C: ScanChunk> Filler<'_, C> {
    fn push<R: ScanRow>(&mut self, r: &R) -> Result<()> {
        self.chunk.push_row(r)?;
        if self.chunk.row_count() >= self.chunk_rows {
            self.flush();
        }
        Ok(())
    }
    fn flush(&mut self) {
        if self.chunk.row_count() > 0 {
            self.total += self.chunk.row_count() as u64;
            (self.f)(&self.chunk);
            self.chunk.clear_rows();
        }
    }
}

/// Streams `q` into chunks of `C`, calling `f` with every full chunk and the
/// last partial one. Returns the rows read.
async fn scan<C: ScanChunk>(
    store: &Store,
    q: &Query<'_>,
    chunk_rows: usize,
    f: &mut (dyn FnMut(&C) + Send),
) -> Result<u64> {
    debug_assert!(C::SELECT.len() <= MAX_COLUMNS);
    let mut out = Filler {
        chunk: C::default(),
        chunk_rows: chunk_rows.max(1),
        total: 0,
        f,
    };
    match store {
        Store::Postgres(pool) => {
            let (sql, binds) = q.plain::<C>();
            let mut query = sqlx::query(&sql);
            for b in &binds {
                query = query.bind(*b);
            }
            let mut rows = query.fetch(pool);
            while let Some(r) = rows.try_next().await? {
                out.push(&r)?;
            }
        }
        Store::Sqlite(pool) => {
            let (lo, hi): (Option<i64>, Option<i64>) =
                sqlx::query_as(&q.id_bounds()).fetch_one(pool).await?;
            if let (Some(lo), Some(hi)) = (lo, hi) {
                let (sql, binds) = q.packed::<C>();
                let (sql, binds) = (&sql, &binds);
                let starts = std::iter::successors(Some(lo), |s| {
                    s.checked_add(PACK_BLOCK_IDS).filter(|n| *n <= hi)
                });
                let mut blocks = futures::stream::iter(starts.map(|start| async move {
                    let mut query = sqlx::query(sql)
                        .bind(start)
                        .bind(start.saturating_add(PACK_BLOCK_IDS));
                    for b in binds {
                        query = query.bind(*b);
                    }
                    query.fetch_one(pool).await
                }))
                .buffered(PACK_IN_FLIGHT);
                while let Some(block) = blocks.try_next().await? {
                    read_packed_block(&block, &mut out)?;
                }
            }
        }
    }
    out.flush();
    Ok(out.total)
}

impl Store {
    /// Streams every customer, in id order, with the source and key of the
    /// customer's first source key (the one with the lowest id).
    pub async fn scan_customers(
        &self,
        chunk_rows: usize,
        mut f: impl FnMut(&CustomerChunk) + Send,
    ) -> Result<u64> {
        let q = Query {
            table: "customer",
            from: "customer c LEFT JOIN customer_source_key k ON k.id = \
                   (SELECT MIN(k2.id) FROM customer_source_key k2 WHERE k2.customer_id = c.id)",
            id: "c.id",
            range: None,
            ordered: true,
        };
        scan(self, &q, chunk_rows, &mut f).await
    }

    /// Streams every account, in id order.
    pub async fn scan_accounts(
        &self,
        chunk_rows: usize,
        mut f: impl FnMut(&AccountChunk) + Send,
    ) -> Result<u64> {
        scan(self, &table("account"), chunk_rows, &mut f).await
    }

    /// Streams every account role, in id order.
    pub async fn scan_account_roles(
        &self,
        chunk_rows: usize,
        mut f: impl FnMut(&AccountRoleChunk) + Send,
    ) -> Result<u64> {
        scan(self, &table("account_role"), chunk_rows, &mut f).await
    }

    /// Streams the transactions booked in `range` (on `booked_on`); in id
    /// order on SQLite, in the table's natural order on PostgreSQL.
    pub async fn scan_transactions(
        &self,
        range: DayRange,
        chunk_rows: usize,
        mut f: impl FnMut(&TxnChunk) + Send,
    ) -> Result<u64> {
        let q = events("txn", "booked_on", range);
        scan(self, &q, chunk_rows, &mut f).await
    }

    /// Streams the loans granted in `range` (on `granted_on`), in id order.
    pub async fn scan_loans(
        &self,
        range: DayRange,
        chunk_rows: usize,
        mut f: impl FnMut(&LoanChunk) + Send,
    ) -> Result<u64> {
        let q = Query {
            range: Some(("granted_on", range)),
            ..table("loan")
        };
        scan(self, &q, chunk_rows, &mut f).await
    }

    /// Streams every card, in id order (a card's `issued_on` may be missing,
    /// so there is no range).
    pub async fn scan_cards(
        &self,
        chunk_rows: usize,
        mut f: impl FnMut(&CardChunk) + Send,
    ) -> Result<u64> {
        scan(self, &table("card"), chunk_rows, &mut f).await
    }

    /// Streams every product holding, in id order.
    pub async fn scan_holdings(
        &self,
        chunk_rows: usize,
        mut f: impl FnMut(&HoldingChunk) + Send,
    ) -> Result<u64> {
        scan(self, &table("holding"), chunk_rows, &mut f).await
    }

    /// Streams the card statements whose `statement_month` is in `range` (order as for transactions).
    pub async fn scan_card_statements(
        &self,
        range: DayRange,
        chunk_rows: usize,
        mut f: impl FnMut(&CardStatementChunk) + Send,
    ) -> Result<u64> {
        let q = events("card_statement", "statement_month", range);
        scan(self, &q, chunk_rows, &mut f).await
    }

    /// Streams the service cases opened in `range` (on `opened_on`) (order as for transactions).
    pub async fn scan_cases(
        &self,
        range: DayRange,
        chunk_rows: usize,
        mut f: impl FnMut(&CaseChunk) + Send,
    ) -> Result<u64> {
        let q = events("service_case", "opened_on", range);
        let imported = scan(self, &q, chunk_rows, &mut f).await?;
        // Cases opened in Rapport (`support_case`) count as well, shaped
        // like imported ones (the opening day, the workflow state as status).
        let from = match self {
            Store::Sqlite(_) => {
                "(SELECT id, customer_id, date(opened_at) AS opened_on, kind, category, \
                 severity, state AS status, date(closed_at) AS closed_on FROM support_case) sc"
            }
            Store::Postgres(_) => {
                "(SELECT id, customer_id, opened_at::date AS opened_on, kind, category, \
                 severity, state AS status, closed_at::date AS closed_on FROM support_case) sc"
            }
        };
        let here = Query {
            table: "support_case",
            from,
            id: "id",
            range: Some(("opened_on", range)),
            ordered: false,
        };
        Ok(imported + scan(self, &here, chunk_rows, &mut f).await?)
    }

    /// Streams the survey answers given in `range` (on `answered_on`) (order as for transactions).
    pub async fn scan_survey_responses(
        &self,
        range: DayRange,
        chunk_rows: usize,
        mut f: impl FnMut(&SurveyResponseChunk) + Send,
    ) -> Result<u64> {
        let q = events("survey_response", "answered_on", range);
        scan(self, &q, chunk_rows, &mut f).await
    }

    /// Streams the interactions that occurred in `range` (on `occurred_on`) (order as for transactions).
    pub async fn scan_interactions(
        &self,
        range: DayRange,
        chunk_rows: usize,
        mut f: impl FnMut(&InteractionChunk) + Send,
    ) -> Result<u64> {
        let q = events("interaction", "occurred_on", range);
        scan(self, &q, chunk_rows, &mut f).await
    }
}

/// A table read in id order.
fn table(name: &str) -> Query<'_> {
    Query {
        table: name,
        from: name,
        id: "id",
        range: None,
        ordered: true,
    }
}

/// An event table: rows dated in `range` on `column`, in no particular order.
fn events<'a>(name: &'a str, column: &'a str, range: DayRange) -> Query<'a> {
    Query {
        table: name,
        from: name,
        id: "id",
        range: Some((column, range)),
        ordered: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn day_numbers_count_from_1970() {
        assert_eq!(epoch_day(d(1970, 1, 1)), 0);
        assert_eq!(epoch_day(d(1969, 12, 31)), -1);
        assert_eq!(epoch_day(d(2024, 1, 1)), 19_723);
        assert_eq!(date_of_epoch_day(19_723), Some(d(2024, 1, 1)));
    }

    #[test]
    fn iso_dates_parse_to_day_numbers_and_garbage_does_not() {
        assert_eq!(parse_iso_day("2024-01-01"), Some(19_723));
        assert_eq!(parse_iso_day("2024-01-01T10:00:00.000Z"), Some(19_723));
        assert_eq!(parse_iso_day("2024-02-30"), None);
        assert_eq!(parse_iso_day("2024-0a-01"), None);
        assert_eq!(parse_iso_day(""), None);
    }

    #[test]
    fn a_str_column_returns_each_value_and_empty_out_of_range() {
        let mut c = StrColumn::default();
        c.push("a");
        c.push("");
        c.push("ccc");
        assert_eq!(c.iter().collect::<Vec<_>>(), vec!["a", "", "ccc"]);
        assert_eq!(c.get(7), "");
        c.clear();
        assert!(c.is_empty());
    }

    #[test]
    fn a_dict_column_keeps_its_codes_across_clears() {
        let mut c = DictColumn::default();
        c.push(Some("x"));
        c.push(None);
        c.push(Some("y"));
        c.push(Some("x"));
        assert_eq!(c.codes, vec![0, DictColumn::NULL, 1, 0]);
        assert_eq!(c.get(1), None);
        c.clear();
        c.push(Some("y"));
        assert_eq!(c.codes, vec![1]);
        assert_eq!(c.values(), ["x".to_string(), "y".to_string()]);
    }

    #[test]
    fn a_day_range_binds_only_its_ends() {
        assert_eq!(DayRange::all().conditions("d", 1), (vec![], vec![]));
        let (c, b) = DayRange::before(d(2024, 1, 1)).conditions("d", 1);
        assert_eq!((c, b.len()), (vec!["d < $1".to_string()], 1));
        let (c, b) = DayRange::between(d(2023, 1, 1), d(2024, 1, 1)).conditions("d", 3);
        assert_eq!(
            (c, b.len()),
            (vec!["d >= $3".to_string(), "d < $4".to_string()], 2)
        );
    }

    #[test]
    fn packed_columns_split_into_values_with_nulls_and_separators_inside_text() {
        let mut numbers = PackedColumn {
            text: "12,,-500",
            pos: 0,
            free_text: false,
        };
        let got: Vec<_> = (0..3).map(|_| numbers.next().ok().flatten()).collect();
        assert_eq!(got, [Some("12"), None, Some("-500")]);
        let mut one_null = PackedColumn {
            text: "",
            pos: 0,
            free_text: false,
        };
        assert_eq!(one_null.next().ok(), Some(None));
        let mut text = PackedColumn {
            text: "3:a:b~0:5:x,~y;",
            pos: 0,
            free_text: true,
        };
        let got: Vec<_> = (0..4).map(|_| text.next().ok().flatten()).collect();
        assert_eq!(got, [Some("a:b"), None, Some(""), Some("x,~y;")]);
        let mut bad = PackedColumn {
            text: "5:abc",
            pos: 0,
            free_text: true,
        };
        assert!(bad.next().is_err());
    }
}
