//! Features where the data lives (issue 19, item 4): the transaction
//! aggregates of [`crate::features::aggregates`] compiled to Spark SQL, the
//! PySpark job that runs them over the columnar copy's Parquet layout (or
//! the bank's own tables through a [`Mapping`]), and the reader of what the
//! job writes ([`Precomputed`]), which the feature engine takes instead of
//! its own transaction pass (`FeatureEngine::with_precomputed`).
//!
//! The SQL is plain (`SUM(CASE WHEN …)`, `MAX(CASE WHEN …)`, `ROW_NUMBER()`,
//! date literals, casts to BIGINT): Spark SQL and DuckDB both run it. Its
//! inputs are two views, `transactions` (account_id, booked_on DATE, amount
//! in minor units, balance_after, category, channel, source_key) and
//! `owners` (account_id, customer_id: every owner of every account).

use crate::columnar::{ColumnarError, MANIFEST, OWNERS};
use crate::features::aggregates::{
    Aggregate, Filter, Measure, Window, AGGREGATES, LATEST_BALANCE_BACK_DAYS, NO_DAY_VALUE,
    N_AGGREGATES,
};
use crate::window::AsOf;
use chrono::NaiveDate;
use parquet::basic::{LogicalType, Type as PhysicalType};
use parquet::column::reader::get_typed_column_reader;
use parquet::data_type::{DataType, DoubleType, Int32Type, Int64Type};
use parquet::file::reader::{FileReader, RowGroupReader, SerializedFileReader};
use rapport_domain::{Channel, TxnCategory};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};

/// Sub-directories of the job's output.
pub const OUT_CUSTOMERS: &str = "customers";
pub const OUT_ACCOUNTS: &str = "accounts";
/// The job's description of its output (as-of date, aggregate names).
pub const OUT_META: &str = "job.json";
/// Version of the job's output layout.
pub const OUT_LAYOUT: u32 = 1;

/// Columns of the per-account output, after `account_id`.
pub const ACCOUNT_COLUMNS: [&str; 4] = [
    "last_day",
    "last_balance_after",
    "last_30_day",
    "last_30_balance_after",
];

fn date(day: i32) -> String {
    match rapport_store::date_of_epoch_day(day) {
        Some(d) => format!("DATE '{}'", d.format("%Y-%m-%d")),
        None => "NULL".into(),
    }
}

fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The SQL condition of an aggregate's window (rows are already before D).
fn window_sql(w: &AsOf, window: Window) -> Option<String> {
    match window {
        Window::Before => None,
        Window::Days(n) => Some(format!("t.booked_on >= {}", date(w.day - n))),
        Window::Month(k) => Some(format!(
            "t.booked_on >= {} AND t.booked_on < {}",
            date(w.month_starts[k]),
            date(w.month_starts[k + 1])
        )),
    }
}

fn filter_sql(filter: Filter) -> Option<String> {
    match filter {
        Filter::All => None,
        Filter::Inflow => Some("t.amount > 0".into()),
        Filter::Outflow => Some("t.amount < 0".into()),
        Filter::Salary => Some(format!(
            "t.category = {}",
            quoted(TxnCategory::Salary.as_str())
        )),
        Filter::CashWithdrawal => Some(format!(
            "t.category = {}",
            quoted(TxnCategory::CashWithdrawal.as_str())
        )),
        Filter::Digital => {
            let list: Vec<String> = [Channel::Online, Channel::Mobile, Channel::Wechat]
                .iter()
                .map(|c| quoted(c.as_str()))
                .collect();
            Some(format!("t.channel IN ({})", list.join(", ")))
        }
    }
}

/// One aggregate as a SQL expression over the joined rows `t`.
fn aggregate_sql(w: &AsOf, a: &Aggregate) -> String {
    let conds: Vec<String> = [window_sql(w, a.window), filter_sql(a.filter)]
        .into_iter()
        .flatten()
        .collect();
    let cond = if conds.is_empty() {
        "TRUE".to_string()
    } else {
        conds.join(" AND ")
    };
    let expr = match a.measure {
        Measure::Count => format!("CAST(SUM(CASE WHEN {cond} THEN 1 ELSE 0 END) AS BIGINT)"),
        Measure::Sum => {
            format!("CAST(SUM(CASE WHEN {cond} THEN t.amount ELSE 0 END) AS BIGINT)")
        }
        Measure::SumNegated => {
            format!("CAST(SUM(CASE WHEN {cond} THEN -t.amount ELSE 0 END) AS BIGINT)")
        }
        Measure::MaxNegated => {
            format!("CAST(MAX(CASE WHEN {cond} THEN -t.amount ELSE 0 END) AS BIGINT)")
        }
        Measure::LatestDay => format!("MAX(CASE WHEN {cond} THEN t.booked_on END)"),
        Measure::Any => format!("CAST(MAX(CASE WHEN {cond} THEN 1 ELSE 0 END) AS BIGINT)"),
    };
    format!("  {expr} AS {}", a.name)
}

/// The per-customer query: every aggregate of every customer with a
/// transaction before D (a transaction counts for each owner of its account).
pub fn customer_sql(w: &AsOf) -> String {
    let cols: Vec<String> = AGGREGATES.iter().map(|a| aggregate_sql(w, a)).collect();
    format!(
        "SELECT\n  o.customer_id,\n{}\nFROM transactions t\n\
         JOIN (SELECT DISTINCT account_id, customer_id FROM owners) o ON o.account_id = t.account_id\n\
         WHERE t.booked_on < {}\nGROUP BY o.customer_id",
        cols.join(",\n"),
        date(w.day)
    )
}

/// The per-account query: each account's latest transaction before D and
/// before D - 30 (by booked_on, then the larger source_key), day and balance.
pub fn account_sql(w: &AsOf) -> String {
    let order = "ORDER BY booked_on DESC, source_key DESC";
    let back = date(w.day - LATEST_BALANCE_BACK_DAYS);
    format!(
        "SELECT\n  account_id,\n\
         \x20 MAX(CASE WHEN r_all = 1 THEN booked_on END) AS last_day,\n\
         \x20 MAX(CASE WHEN r_all = 1 THEN balance_after END) AS last_balance_after,\n\
         \x20 MAX(CASE WHEN back AND r_back = 1 THEN booked_on END) AS last_30_day,\n\
         \x20 MAX(CASE WHEN back AND r_back = 1 THEN balance_after END) AS last_30_balance_after\n\
         FROM (\n\
         \x20 SELECT account_id, booked_on, CAST(balance_after AS BIGINT) AS balance_after,\n\
         \x20   booked_on < {back} AS back,\n\
         \x20   ROW_NUMBER() OVER (PARTITION BY account_id {order}) AS r_all,\n\
         \x20   ROW_NUMBER() OVER (PARTITION BY account_id, booked_on < {back} {order}) AS r_back\n\
         \x20 FROM transactions\n\
         \x20 WHERE booked_on < {}\n\
         ) x\nGROUP BY account_id",
        date(w.day)
    )
}

/// Both queries, as `rapport analytics spark-sql` prints them.
pub fn spark_sql(w: &AsOf) -> String {
    format!(
        "-- Rapport transaction aggregates as of {d}: one row per customer.\n\
         -- Inputs: views transactions(account_id, booked_on, amount, balance_after, category, channel, source_key)\n\
         -- and owners(account_id, customer_id). Amounts in minor units.\n\
         {};\n\n\
         -- Each account's latest balance before {d} and before {d} - {LATEST_BALANCE_BACK_DAYS} days.\n\
         {};\n",
        customer_sql(w),
        account_sql(w),
        d = w.date
    )
}

/// The bank's own tables for the job, with their column names (TOML; see docs/SCALE.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub transactions: TransactionsTable,
    pub owners: OwnersTable,
}

/// Where a table is: a Parquet path (file or directory) or a table of the
/// Spark catalogue (`format = "table"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransactionsTable {
    pub table: String,
    #[serde(default = "parquet_format")]
    pub format: String,
    pub account_id: String,
    /// A date column.
    pub booked_on: String,
    /// Signed, in minor units (an integer).
    pub amount: String,
    pub balance_after: String,
    pub category: String,
    pub channel: String,
    pub source_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnersTable {
    pub table: String,
    #[serde(default = "parquet_format")]
    pub format: String,
    pub account_id: String,
    pub customer_id: String,
}

fn parquet_format() -> String {
    "parquet".into()
}

impl Mapping {
    /// Parses and checks a mapping file's text; errors name the file.
    pub fn parse(path: &Path, text: &str) -> Result<Mapping, String> {
        let m: Mapping = toml::from_str(text).map_err(|e| format!("{}: {e}", path.display()))?;
        for (section, format) in [
            ("transactions", &m.transactions.format),
            ("owners", &m.owners.format),
        ] {
            if format != "parquet" && format != "table" {
                return Err(format!(
                    "{}: [{section}] format: \"{format}\" is neither \"parquet\" nor \"table\"",
                    path.display()
                ));
            }
        }
        let columns = m.columns();
        for (section, key, value) in columns.iter().chain(&[
            ("transactions", "table", m.transactions.table.as_str()),
            ("owners", "table", m.owners.table.as_str()),
        ]) {
            if value.trim().is_empty() {
                return Err(format!("{}: [{section}] {key} is empty", path.display()));
            }
        }
        Ok(m)
    }

    fn columns(&self) -> Vec<(&'static str, &'static str, &str)> {
        let t = &self.transactions;
        let o = &self.owners;
        vec![
            ("transactions", "account_id", t.account_id.as_str()),
            ("transactions", "booked_on", t.booked_on.as_str()),
            ("transactions", "amount", t.amount.as_str()),
            ("transactions", "balance_after", t.balance_after.as_str()),
            ("transactions", "category", t.category.as_str()),
            ("transactions", "channel", t.channel.as_str()),
            ("transactions", "source_key", t.source_key.as_str()),
            ("owners", "account_id", o.account_id.as_str()),
            ("owners", "customer_id", o.customer_id.as_str()),
        ]
    }
}

fn py_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

const JOB_TEMPLATE: &str = include_str!("spark_job.py");

/// The runnable PySpark job computing the aggregates as of `w` (see
/// docs/SCALE.md): `spark-submit job.py --copy DIR --out OUT`, or with
/// `mapping`, `spark-submit job.py --out OUT` over the bank's tables.
pub fn spark_job(w: &AsOf, mapping: Option<&Mapping>) -> String {
    let mapping_py = match mapping {
        None => "None".to_string(),
        Some(m) => {
            let mut tables: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();
            tables.entry("transactions").or_default().extend([
                ("table".into(), m.transactions.table.clone()),
                ("format".into(), m.transactions.format.clone()),
            ]);
            tables.entry("owners").or_default().extend([
                ("table".into(), m.owners.table.clone()),
                ("format".into(), m.owners.format.clone()),
            ]);
            let mut s = String::from("{\n");
            for (section, entries) in &tables {
                s.push_str(&format!("    {}: {{\n", py_str(section)));
                for (k, v) in entries {
                    s.push_str(&format!("        {}: {},\n", py_str(k), py_str(v)));
                }
                s.push_str("        \"columns\": {\n");
                for (sec, key, value) in m.columns() {
                    if sec == *section {
                        s.push_str(&format!(
                            "            {}: {},\n",
                            py_str(key),
                            py_str(value)
                        ));
                    }
                }
                s.push_str("        },\n    },\n");
            }
            s.push('}');
            s
        }
    };
    let names: Vec<String> = AGGREGATES.iter().map(|a| py_str(a.name)).collect();
    JOB_TEMPLATE
        .replace("@AS_OF@", &w.date.to_string())
        .replace("@LAYOUT@", &OUT_LAYOUT.to_string())
        .replace("@AGGREGATES@", &format!("[{}]", names.join(", ")))
        .replace("@MAPPING@", &mapping_py)
        .replace("@MANIFEST@", MANIFEST)
        .replace("@OWNERS@", OWNERS)
        .replace("@CUSTOMER_SQL@", &customer_sql(w))
        .replace("@ACCOUNT_SQL@", &account_sql(w))
}

/// An error in the job's output, naming the file (and row, column).
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct PrecomputedError {
    pub path: PathBuf,
    pub message: String,
}

fn perr(path: &Path, message: impl Into<String>) -> PrecomputedError {
    PrecomputedError {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

impl From<ColumnarError> for PrecomputedError {
    fn from(e: ColumnarError) -> Self {
        match e {
            ColumnarError::Io { path, source } => perr(&path, source.to_string()),
            ColumnarError::Parquet { path, source } => perr(&path, source.to_string()),
            ColumnarError::Format { path, message } => perr(&path, message),
        }
    }
}

/// The job's description of its output (`job.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobMeta {
    pub layout: u32,
    pub as_of: NaiveDate,
    pub aggregates: Vec<String>,
}

/// Where one row came from: a file of the output and the row in it (from 1).
#[derive(Debug, Clone)]
pub struct RowOrigin {
    pub file: usize,
    pub row: usize,
}

/// One account's latest transactions, as the job computed them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountLatest {
    /// Epoch day of the latest transaction before D (`None`: none).
    pub last_day: Option<i32>,
    pub last_balance_after: Option<i64>,
    /// Epoch day of the latest transaction before D - 30.
    pub last_30_day: Option<i32>,
    pub last_30_balance_after: Option<i64>,
}

/// What the Spark job wrote, read back: the aggregates per customer store
/// id and the latest balances per account store id.
#[derive(Debug, Clone)]
pub struct Precomputed {
    pub dir: PathBuf,
    pub as_of: NaiveDate,
    pub files: Vec<PathBuf>,
    pub customers: Vec<(i64, [i64; N_AGGREGATES], RowOrigin)>,
    pub accounts: Vec<(i64, AccountLatest, RowOrigin)>,
}

impl Precomputed {
    /// The file and row a customer's or account's row came from, for errors.
    pub fn origin(&self, o: &RowOrigin) -> String {
        let file = self
            .files
            .get(o.file)
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        format!("{file}: row {}", o.row)
    }
}

/// The Parquet files of one output table (a directory of part files, as
/// Spark writes, or a single file), in name order.
fn parquet_files(path: &Path) -> Result<Vec<PathBuf>, PrecomputedError> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let rd = std::fs::read_dir(path).map_err(|e| perr(path, e.to_string()))?;
    let mut files = Vec::new();
    for entry in rd {
        let p = entry.map_err(|e| perr(path, e.to_string()))?.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if p.is_file() && name.ends_with(".parquet") && !name.starts_with(['.', '_']) {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

/// One column of a file, as integers: `None` for a null.
fn int_column(
    rg: &dyn RowGroupReader,
    i: usize,
    m: usize,
    path: &Path,
    name: &str,
) -> Result<Vec<Option<i64>>, PrecomputedError> {
    let col = rg.metadata().column(i);
    let descr = col.column_descr();
    let optional = descr.max_def_level() > 0;
    let err = |e: parquet::errors::ParquetError| perr(path, format!("column {name}: {e}"));
    fn read<T: DataType>(
        rg: &dyn RowGroupReader,
        i: usize,
        m: usize,
        optional: bool,
    ) -> parquet::errors::Result<(Vec<T::T>, Vec<i16>)> {
        let mut cr = get_typed_column_reader::<T>(rg.get_column_reader(i)?);
        let mut vals = Vec::with_capacity(m);
        let mut defs = Vec::with_capacity(m);
        let (records, _, _) = cr.read_records(
            m,
            if optional { Some(&mut defs) } else { None },
            None,
            &mut vals,
        )?;
        if records != m {
            return Err(parquet::errors::ParquetError::General(format!(
                "{records} rows, expected {m}"
            )));
        }
        Ok((vals, defs))
    }
    let spread = |vals: Vec<i64>, defs: Vec<i16>| -> Vec<Option<i64>> {
        if !optional {
            return vals.into_iter().map(Some).collect();
        }
        let mut it = vals.into_iter();
        defs.iter()
            .map(|&d| if d > 0 { it.next() } else { None })
            .collect()
    };
    match descr.physical_type() {
        PhysicalType::INT64 => {
            let (v, d) = read::<Int64Type>(rg, i, m, optional).map_err(err)?;
            Ok(spread(v, d))
        }
        PhysicalType::INT32 => {
            let (v, d) = read::<Int32Type>(rg, i, m, optional).map_err(err)?;
            Ok(spread(v.into_iter().map(i64::from).collect(), d))
        }
        PhysicalType::DOUBLE => {
            let (v, d) = read::<DoubleType>(rg, i, m, optional).map_err(err)?;
            let mut ints = Vec::with_capacity(v.len());
            for x in v {
                if x.fract() != 0.0 || !x.is_finite() || x.abs() > 9.0e15 {
                    return Err(perr(
                        path,
                        format!("column {name}: {x} is not a whole number"),
                    ));
                }
                ints.push(x as i64);
            }
            Ok(spread(ints, d))
        }
        t => Err(perr(
            path,
            format!("column {name}: type {t} is not an integer, a date or a double"),
        )),
    }
}

/// Whether column `i` of the file is a DATE.
fn is_date(reader: &SerializedFileReader<File>, i: usize) -> bool {
    let descr = reader.metadata().file_metadata().schema_descr().column(i);
    matches!(descr.logical_type_ref(), Some(LogicalType::Date))
}

/// Reads the rows of every file of one output table: `key` column first,
/// then `columns`; `f` gets (file number, row number from 1, key, values).
fn read_table(
    files: &[PathBuf],
    first_file: usize,
    key: &str,
    columns: &[&str],
    dates: &[bool],
    mut f: impl FnMut(usize, usize, i64, &[Option<i64>]) -> Result<(), PrecomputedError>,
) -> Result<(), PrecomputedError> {
    for (n, path) in files.iter().enumerate() {
        let file = File::open(path).map_err(|e| perr(path, e.to_string()))?;
        let reader = SerializedFileReader::new(file).map_err(|e| perr(path, e.to_string()))?;
        let schema = reader.metadata().file_metadata().schema_descr();
        let find = |name: &str| -> Result<usize, PrecomputedError> {
            (0..schema.num_columns())
                .find(|&i| schema.column(i).name() == name)
                .ok_or_else(|| perr(path, format!("no column {name}")))
        };
        let key_col = find(key)?;
        let cols: Vec<usize> = columns.iter().map(|c| find(c)).collect::<Result<_, _>>()?;
        for (c, (&i, &want_date)) in cols.iter().zip(dates).enumerate() {
            if want_date != is_date(&reader, i) {
                let what = if want_date { "a DATE" } else { "a number" };
                return Err(perr(path, format!("column {} is not {what}", columns[c])));
            }
        }
        let mut row = 0usize;
        for g in 0..reader.num_row_groups() {
            let m = reader.metadata().row_group(g).num_rows().max(0) as usize;
            if m == 0 {
                continue;
            }
            let rg = reader
                .get_row_group(g)
                .map_err(|e| perr(path, e.to_string()))?;
            let keys = int_column(rg.as_ref(), key_col, m, path, key)?;
            let mut values = Vec::with_capacity(cols.len());
            for (c, &i) in cols.iter().enumerate() {
                values.push(int_column(rg.as_ref(), i, m, path, columns[c])?);
            }
            let mut one = vec![None; cols.len()];
            for r in 0..m {
                row += 1;
                let Some(k) = keys[r] else {
                    return Err(perr(path, format!("row {row}: column {key} is empty")));
                };
                for (slot, v) in one.iter_mut().zip(&values) {
                    *slot = v[r];
                }
                f(first_file + n, row, k, &one)?;
            }
        }
    }
    Ok(())
}

/// The description (`job.json`) of what the Spark job wrote in `dir`,
/// checked against this Rapport's aggregates.
pub fn read_job_meta(dir: &Path) -> Result<JobMeta, PrecomputedError> {
    let meta_path = dir.join(OUT_META);
    let text = std::fs::read_to_string(&meta_path).map_err(|e| {
        perr(
            &meta_path,
            format!(
                "{e} (is {} the output of a Rapport Spark job?)",
                dir.display()
            ),
        )
    })?;
    let meta: JobMeta = serde_json::from_str(&text).map_err(|e| perr(&meta_path, e.to_string()))?;
    if meta.layout != OUT_LAYOUT {
        return Err(perr(
            &meta_path,
            format!(
                "layout {} (this Rapport reads layout {OUT_LAYOUT}: write the job again with rapport analytics spark-job)",
                meta.layout
            ),
        ));
    }
    let ours: Vec<&str> = AGGREGATES.iter().map(|a| a.name).collect();
    if meta.aggregates != ours {
        return Err(perr(
            &meta_path,
            "the aggregates differ from this Rapport's (write the job again with rapport analytics spark-job)",
        ));
    }
    Ok(meta)
}

/// Refuses a second row of the same id (`column`) at `at` (file, row),
/// naming where the first one was.
fn first_time(
    seen: &mut HashMap<i64, (usize, usize)>,
    files: &[PathBuf],
    column: &str,
    id: i64,
    at: (usize, usize),
) -> Result<(), PrecomputedError> {
    match seen.insert(id, at) {
        None => Ok(()),
        Some((f0, r0)) => Err(perr(
            &files[at.0],
            format!(
                "row {}: {column} {id} again (first in {} row {r0})",
                at.1,
                files[f0].display()
            ),
        )),
    }
}

/// Reads what the Spark job wrote in `dir` (see [`spark_job`]).
pub fn read_precomputed(dir: &Path) -> Result<Precomputed, PrecomputedError> {
    let meta = read_job_meta(dir)?;
    let ours: Vec<&str> = AGGREGATES.iter().map(|a| a.name).collect();
    let customer_files = parquet_files(&dir.join(OUT_CUSTOMERS))?;
    let account_files = parquet_files(&dir.join(OUT_ACCOUNTS))?;
    let mut files = customer_files.clone();
    files.extend(account_files.iter().cloned());

    let mut customers = Vec::new();
    let mut seen: HashMap<i64, (usize, usize)> = HashMap::new();
    let dates: Vec<bool> = AGGREGATES
        .iter()
        .map(|a| a.measure == Measure::LatestDay)
        .collect();
    read_table(
        &customer_files,
        0,
        "customer_id",
        &ours,
        &dates,
        |file, row, id, vals| {
            let path = &files[file];
            first_time(&mut seen, &files, "customer_id", id, (file, row))?;
            let mut v = [0i64; N_AGGREGATES];
            for (i, (a, x)) in AGGREGATES.iter().zip(vals).enumerate() {
                v[i] = match (x, a.measure) {
                    (Some(x), _) => *x,
                    (None, Measure::LatestDay) => NO_DAY_VALUE,
                    (None, _) => {
                        return Err(perr(path, format!("row {row}: column {} is empty", a.name)))
                    }
                };
                if a.measure == Measure::LatestDay && i32::try_from(v[i]).is_err() {
                    return Err(perr(
                        path,
                        format!("row {row}: column {} out of range", a.name),
                    ));
                }
            }
            customers.push((id, v, RowOrigin { file, row }));
            Ok(())
        },
    )?;
    let mut accounts = Vec::new();
    let mut seen: HashMap<i64, (usize, usize)> = HashMap::new();
    read_table(
        &account_files,
        customer_files.len(),
        "account_id",
        &ACCOUNT_COLUMNS,
        &[true, false, true, false],
        |file, row, id, vals| {
            let path = &files[file];
            first_time(&mut seen, &files, "account_id", id, (file, row))?;
            let day = |v: Option<i64>, col: &str| -> Result<Option<i32>, PrecomputedError> {
                v.map(|d| {
                    i32::try_from(d)
                        .map_err(|_| perr(path, format!("row {row}: column {col} out of range")))
                })
                .transpose()
            };
            accounts.push((
                id,
                AccountLatest {
                    last_day: day(vals[0], ACCOUNT_COLUMNS[0])?,
                    last_balance_after: vals[1],
                    last_30_day: day(vals[2], ACCOUNT_COLUMNS[2])?,
                    last_30_balance_after: vals[3],
                },
                RowOrigin { file, row },
            ));
            Ok(())
        },
    )?;
    Ok(Precomputed {
        dir: dir.to_path_buf(),
        as_of: meta.as_of,
        files,
        customers,
        accounts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_aggregate_is_a_column_of_the_customer_query() -> Result<(), crate::AnalyticsError> {
        let w = AsOf::new(NaiveDate::from_ymd_opt(2024, 7, 15).unwrap_or_default())?;
        let sql = customer_sql(&w);
        for a in AGGREGATES {
            assert!(
                sql.contains(&format!(" AS {},", a.name))
                    || sql.contains(&format!(" AS {}\n", a.name)),
                "{}",
                a.name
            );
        }
        assert!(sql.contains("t.booked_on >= DATE '2024-06-15'"));
        assert!(sql.contains("WHERE t.booked_on < DATE '2024-07-15'"));
        Ok(())
    }

    #[test]
    fn a_mapping_with_an_unknown_key_or_an_empty_column_is_refused() {
        let good = "[transactions]\ntable = \"/lake/txn\"\naccount_id = \"acct\"\nbooked_on = \"d\"\namount = \"amt\"\nbalance_after = \"bal\"\ncategory = \"cat\"\nchannel = \"ch\"\nsource_key = \"k\"\n[owners]\ntable = \"/lake/own\"\naccount_id = \"acct\"\ncustomer_id = \"cust\"\n";
        let p = Path::new("map.toml");
        assert!(Mapping::parse(p, good).is_ok());
        let unknown = good.replace("source_key = \"k\"", "source_key = \"k\"\nmerchant = \"m\"");
        let e = Mapping::parse(p, &unknown).err().unwrap_or_default();
        assert!(e.contains("map.toml") && e.contains("merchant"), "{e}");
        let empty = good.replace("customer_id = \"cust\"", "customer_id = \" \"");
        let e = Mapping::parse(p, &empty).err().unwrap_or_default();
        assert!(e.contains("[owners] customer_id is empty"), "{e}");
        let missing = good.replace("channel = \"ch\"\n", "");
        let e = Mapping::parse(p, &missing).err().unwrap_or_default();
        assert!(e.contains("channel"), "{e}");
    }
}
