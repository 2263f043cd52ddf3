//! The SQL behind the read-side API in `reports.rs`: entity counts, the
//! quarantine, merges, import history, field profiles and CSV exports.
//!
//! Read-only; runs on the pool, never inside an import session. Exports
//! stream rows (bounded memory) and never include password hashes.

use crate::dialect::on_pool;
use crate::reports::*;
use crate::tables::{exportable_tables, TABLES};
use crate::{Result, Store, StoreError};
use chrono::{DateTime, SecondsFormat, Utc};
use futures::TryStreamExt;
use rapport_domain::text::spreadsheet_cell;
use sqlx::Row;
use std::collections::HashMap;

/// Columns never exported.
const SECRET_COLUMNS: &[&str] = &["password_hash"];

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// One `SELECT` of every counted table's size, named by its [`EntityCounts`]
/// field in the table registry.
pub(crate) async fn counts(store: &Store) -> Result<EntityCounts> {
    let counted: Vec<(&str, &str)> = TABLES
        .iter()
        .filter_map(|t| Some((t.name, t.counted_as?)))
        .collect();
    let selects: Vec<String> = counted
        .iter()
        .map(|(t, _)| format!("(SELECT COUNT(*) FROM {t})"))
        .collect();
    let sql = format!("SELECT {}", selects.join(", "));
    let mut fields = serde_json::Map::new();
    on_pool!(store, p => {
        let r = sqlx::query(&sql).fetch_one(p).await?;
        for (i, (_, field)) in counted.iter().enumerate() {
            fields.insert((*field).to_string(), r.try_get::<i64, _>(i)?.into());
        }
    });
    serde_json::from_value(serde_json::Value::Object(fields))
        .map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))
}

pub(crate) async fn quarantine_rows(store: &Store, limit: i64) -> Result<Vec<QuarantineRow>> {
    const SQL: &str = "SELECT q.id, f.path, f.kind, q.line, q.field, q.reason, q.detail, q.raw \
                       FROM quarantine q JOIN import_file f ON f.id = q.import_id \
                       ORDER BY q.id DESC LIMIT $1";
    on_pool!(store, p => {
        let mut rows = sqlx::query(SQL).bind(limit.max(0)).fetch(p);
        let mut out = Vec::new();
        while let Some(r) = rows.try_next().await? {
            out.push(QuarantineRow {
                id: r.try_get(0)?,
                file: r.try_get(1)?,
                kind: r.try_get(2)?,
                line: r.try_get(3)?,
                field: r.try_get(4)?,
                reason: r.try_get(5)?,
                detail: r.try_get(6)?,
                raw: r.try_get(7)?,
            });
        }
        Ok(out)
    })
}

pub(crate) async fn quarantine_by_reason(store: &Store) -> Result<Vec<ReasonCount>> {
    const SQL: &str = "SELECT f.kind, q.reason, COUNT(*) AS n \
                       FROM quarantine q JOIN import_file f ON f.id = q.import_id \
                       GROUP BY f.kind, q.reason ORDER BY f.kind, n DESC, q.reason";
    on_pool!(store, p => {
        let mut rows = sqlx::query(SQL).fetch(p);
        let mut out = Vec::new();
        while let Some(r) = rows.try_next().await? {
            out.push(ReasonCount { kind: r.try_get(0)?, reason: r.try_get(1)?, count: r.try_get(2)? });
        }
        Ok(out)
    })
}

pub(crate) async fn merges(store: &Store) -> Result<Vec<MergeRow>> {
    const SQL: &str = "SELECT customer_id, source, source_key, rule, explanation, merged_at \
                       FROM customer_merge ORDER BY id";
    on_pool!(store, p => {
        let mut rows = sqlx::query(SQL).fetch(p);
        let mut out = Vec::new();
        while let Some(r) = rows.try_next().await? {
            out.push(MergeRow {
                customer_id: r.try_get(0)?,
                source: r.try_get(1)?,
                source_key: r.try_get(2)?,
                rule: r.try_get(3)?,
                explanation: r.try_get(4)?,
                merged_at: timestamp(r.try_get(5)?),
            });
        }
        Ok(out)
    })
}

pub(crate) async fn imports(store: &Store) -> Result<Vec<ImportRow>> {
    const SQL: &str =
        "SELECT id, kind, source, path, sha256, status, read, loaded, merged, rejected, \
                       started_at, finished_at FROM import_file ORDER BY id";
    on_pool!(store, p => {
        let mut rows = sqlx::query(SQL).fetch(p);
        let mut out = Vec::new();
        while let Some(r) = rows.try_next().await? {
            let finished: Option<DateTime<Utc>> = r.try_get(11)?;
            out.push(ImportRow {
                id: r.try_get(0)?,
                kind: r.try_get(1)?,
                source: r.try_get(2)?,
                file: r.try_get(3)?,
                sha256: r.try_get(4)?,
                status: r.try_get(5)?,
                read: r.try_get(6)?,
                loaded: r.try_get(7)?,
                merged: r.try_get(8)?,
                rejected: r.try_get(9)?,
                started_at: timestamp(r.try_get(10)?),
                finished_at: finished.map(timestamp),
            });
        }
        Ok(out)
    })
}

/// A profiled field: its name in reports, its column, and how it is counted.
struct ProfiledField {
    field: &'static str,
    column: &'static str,
    /// Text: an empty string counts as missing.
    text: bool,
    /// NOT NULL and never empty (a code, a required amount or date): present =
    /// rows, without reading the column.
    required: bool,
    /// Identifying: its distinct values are counted (the only fields where
    /// uniqueness means something, and the only ones that pay for a sort).
    distinct: bool,
}

const fn text(field: &'static str) -> ProfiledField {
    ProfiledField {
        field,
        column: field,
        text: true,
        required: false,
        distinct: false,
    }
}
const fn other(field: &'static str) -> ProfiledField {
    ProfiledField {
        field,
        column: field,
        text: false,
        required: false,
        distinct: false,
    }
}
const fn renamed(field: &'static str, column: &'static str, text: bool) -> ProfiledField {
    ProfiledField {
        field,
        column,
        text,
        required: false,
        distinct: false,
    }
}
const fn required(f: ProfiledField) -> ProfiledField {
    ProfiledField {
        required: true,
        ..f
    }
}
const fn identifying(f: ProfiledField) -> ProfiledField {
    ProfiledField {
        distinct: true,
        ..f
    }
}

/// The fields the data-quality report covers, per entity (table). Columns
/// marked `required` are NOT NULL in both schemas and only ever written from
/// codes, required amounts or dates.
const PROFILES: &[(&str, &[ProfiledField])] = &[
    (
        "customer",
        &[
            text("name"),
            text("gender"),
            other("birth_date"),
            identifying(text("id_number")),
            identifying(text("phone")),
            identifying(text("email")),
            text("city"),
            text("occupation"),
            other("annual_income"),
            text("risk_tolerance"),
            renamed("branch", "branch_id", false),
        ],
    ),
    (
        "account",
        &[
            required(renamed("type", "account_type", true)),
            other("opened_on"),
            required(text("currency")),
            other("balance"),
        ],
    ),
    (
        "txn",
        &[
            required(other("booked_on")),
            required(other("amount")),
            other("balance_after"),
            required(text("channel")),
            required(text("category")),
            text("counterparty"),
        ],
    ),
    (
        "loan",
        &[
            required(other("granted_on")),
            required(other("amount")),
            required(other("duration_months")),
            required(other("monthly_payment")),
            required(text("status")),
            required(other("days_past_due")),
        ],
    ),
    (
        "card",
        &[
            required(renamed("type", "card_type", true)),
            other("issued_on"),
            other("credit_limit"),
        ],
    ),
    (
        "standing_order",
        &[
            text("bank_to"),
            text("account_to"),
            required(other("amount")),
            required(text("category")),
        ],
    ),
];

/// Per table, one pass: `COUNT(*)`, `COUNT(column)` of the optional columns and
/// `COUNT(DISTINCT column)` of the identifying ones; no sort of anything else, so
/// that the report stays cheap on a hundred million transactions.
pub(crate) async fn field_profiles(store: &Store) -> Result<Vec<FieldProfile>> {
    let mut flagged: HashMap<(String, String), i64> = HashMap::new();
    on_pool!(store, p => {
        let mut rows = sqlx::query(
            "SELECT entity, field, COUNT(DISTINCT entity_id) FROM field_flag GROUP BY entity, field",
        )
        .fetch(p);
        while let Some(r) = rows.try_next().await? {
            flagged.insert((r.try_get(0)?, r.try_get(1)?), r.try_get(2)?);
        }
    });
    let mut out = Vec::new();
    for (entity, fields) in PROFILES {
        // Where each field's present and distinct counts are among the selected values.
        let mut exprs = vec!["COUNT(*)".to_string()];
        let mut at: Vec<(Option<usize>, Option<usize>)> = Vec::with_capacity(fields.len());
        for f in *fields {
            let value = if f.text {
                format!("NULLIF({}, '')", f.column)
            } else {
                f.column.to_string()
            };
            let present = (!f.required).then(|| {
                exprs.push(format!("COUNT({value})"));
                exprs.len() - 1
            });
            let distinct = f.distinct.then(|| {
                exprs.push(format!("COUNT(DISTINCT {value})"));
                exprs.len() - 1
            });
            at.push((present, distinct));
        }
        let sql = format!("SELECT {} FROM {entity}", exprs.join(", "));
        let values: Vec<i64> = on_pool!(store, p => {
            let r = sqlx::query(&sql).fetch_one(p).await?;
            let mut v = Vec::with_capacity(exprs.len());
            for i in 0..exprs.len() {
                v.push(r.try_get::<i64, _>(i)?);
            }
            v
        });
        let rows = values.first().copied().unwrap_or(0);
        for (f, (present, distinct)) in fields.iter().zip(at) {
            let get = |i: usize| values.get(i).copied().unwrap_or(0);
            out.push(FieldProfile {
                entity: (*entity).to_string(),
                field: f.field.to_string(),
                rows,
                present: present.map_or(rows, get),
                flagged: flagged
                    .get(&((*entity).to_string(), f.field.to_string()))
                    .copied()
                    .unwrap_or(0),
                distinct: distinct.map_or(0, get),
                distinct_counted: distinct.is_some(),
            });
        }
    }
    Ok(out)
}

fn io_error(table: &str, e: impl Into<std::io::Error>) -> StoreError {
    StoreError::Io {
        path: format!("export of {table}"),
        source: e.into(),
    }
}

pub(crate) async fn export_table_csv(
    store: &Store,
    table: &str,
    out: &mut (dyn std::io::Write + Send),
) -> Result<u64> {
    let Some(table) = exportable_tables().find(|t| *t == table) else {
        return Err(StoreError::NotFound(format!("exportable table {table:?}")));
    };
    let columns: Vec<String> = match store {
        Store::Sqlite(p) => {
            sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY cid")
                .bind(table)
                .fetch_all(p)
                .await?
        }
        Store::Postgres(p) => {
            sqlx::query_scalar(
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            )
            .bind(table)
            .fetch_all(p)
            .await?
        }
    };
    let columns: Vec<String> = columns
        .into_iter()
        .filter(|c| !SECRET_COLUMNS.contains(&c.as_str()))
        .collect();
    if columns.is_empty() {
        return Err(StoreError::NotFound(format!("columns of table {table:?}")));
    }
    let select: Vec<String> = columns
        .iter()
        .map(|c| format!("CAST(\"{c}\" AS TEXT)"))
        .collect();
    let sql = format!("SELECT {} FROM {table} ORDER BY id", select.join(", "));
    let mut w = csv::Writer::from_writer(out);
    w.write_record(&columns).map_err(|e| io_error(table, e))?;
    let ncols = columns.len();
    let mut n: u64 = 0;
    on_pool!(store, p => {
        let mut rows = sqlx::query(&sql).fetch(p);
        let mut record: Vec<String> = Vec::with_capacity(ncols);
        while let Some(r) = rows.try_next().await? {
            record.clear();
            for i in 0..ncols {
                let v: Option<String> = r.try_get(i)?;
                // For people's spreadsheets: no cell starts a formula.
                record.push(v.map_or_else(String::new, |v| spreadsheet_cell(&v).into_owned()));
            }
            w.write_record(&record).map_err(|e| io_error(table, e))?;
            n += 1;
        }
    });
    w.flush().map_err(|e| io_error(table, e))?;
    Ok(n)
}
