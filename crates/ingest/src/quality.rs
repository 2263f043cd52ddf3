//! The data-quality report (`report quality`).
//!
//! Per entity and field, from `Store::field_profiles`:
//! completeness = present / rows; validity = 1 − flagged / (present + flagged);
//! uniqueness = distinct / present (identifying fields only). Plus the quarantine by import kind and
//! reason and the import totals. Read-only.
//!
//! The headline information accuracy is a KPI, so it is not computed here:
//! `rapport_services::kpi::data_quality` adds it from `rapport_analytics::kpi`
//! (docs/FORMATS.md, "Data-quality report"; docs/KPIS.md).

use crate::error::IngestError;
use rapport_store::{ReasonCount, Store};
use serde::Serialize;
use std::collections::BTreeMap;

/// Quality of one field of one entity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldQuality {
    pub entity: String,
    pub field: String,
    pub rows: i64,
    pub present: i64,
    pub flagged: i64,
    pub distinct: i64,
    /// present / rows; `None` when the entity has no rows.
    pub completeness: Option<f64>,
    /// 1 − flagged / (present + flagged); `None` when nothing was supplied.
    pub validity: Option<f64>,
    /// distinct / present; `None` when nothing is present or when distinct values
    /// are not counted (every field but customers' `id_number`, `phone`, `email`).
    pub uniqueness: Option<f64>,
}

/// Rows of every import and how many of them were kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportTotals {
    pub files: i64,
    pub read: i64,
    pub loaded: i64,
    pub merged: i64,
    pub rejected: i64,
    /// (loaded + merged) / read × 100.
    pub acceptance_percent: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualityReport {
    pub fields: Vec<FieldQuality>,
    /// Quarantined rows by import kind and reason.
    pub quarantine: Vec<ReasonCount>,
    /// Quarantined rows by reason (all kinds).
    pub quarantine_by_reason: BTreeMap<String, i64>,
    pub quarantined_rows: i64,
    pub imports: ImportTotals,
}

fn ratio(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Builds the report from the store.
pub async fn quality_report(store: &Store) -> Result<QualityReport, IngestError> {
    let profiles = store.field_profiles().await.map_err(IngestError::Report)?;
    let quarantine = store
        .quarantine_by_reason()
        .await
        .map_err(IngestError::Report)?;
    let imports = store.imports().await.map_err(IngestError::Report)?;

    let fields: Vec<FieldQuality> = profiles
        .into_iter()
        .map(|p| FieldQuality {
            completeness: ratio(p.present, p.rows),
            validity: ratio(p.flagged, p.present + p.flagged).map(|x| 1.0 - x),
            uniqueness: if p.distinct_counted {
                ratio(p.distinct, p.present)
            } else {
                None
            },
            entity: p.entity,
            field: p.field,
            rows: p.rows,
            present: p.present,
            flagged: p.flagged,
            distinct: p.distinct,
        })
        .collect();

    let mut by_reason = BTreeMap::new();
    for q in &quarantine {
        *by_reason.entry(q.reason.clone()).or_insert(0) += q.count;
    }
    let quarantined_rows = quarantine.iter().map(|q| q.count).sum();

    let mut totals = ImportTotals::default();
    for i in imports
        .iter()
        .filter(|i| i.status == "complete" || i.status == "completed" || i.finished_at.is_some())
    {
        totals.files += 1;
        totals.read += i.read;
        totals.loaded += i.loaded;
        totals.merged += i.merged;
        totals.rejected += i.rejected;
    }
    totals.acceptance_percent =
        ratio(totals.loaded + totals.merged, totals.read).map(|x| x * 100.0);

    Ok(QualityReport {
        fields,
        quarantine,
        quarantine_by_reason: by_reason,
        quarantined_rows,
        imports: totals,
    })
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_string(), |v| format!("{:.1}%", v * 100.0))
}

impl QualityReport {
    /// A plain-text rendering for the terminal (imports, fields, quarantine).
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let t = &self.imports;
        out.push_str(&format!(
            "Imports: {} files, {} rows read, {} loaded, {} merged, {} rejected (accepted {})\n\n",
            t.files,
            t.read,
            t.loaded,
            t.merged,
            t.rejected,
            t.acceptance_percent
                .map_or_else(|| "—".to_string(), |p| format!("{p:.2}%")),
        ));

        out.push_str(&format!(
            "{:<16} {:<20} {:>10} {:>13} {:>10} {:>11}\n",
            "entity", "field", "rows", "completeness", "validity", "uniqueness"
        ));
        for f in &self.fields {
            out.push_str(&format!(
                "{:<16} {:<20} {:>10} {:>13} {:>10} {:>11}\n",
                f.entity,
                f.field,
                f.rows,
                pct(f.completeness),
                pct(f.validity),
                pct(f.uniqueness)
            ));
        }

        out.push_str(&format!("\nQuarantine: {} rows\n", self.quarantined_rows));
        for (reason, n) in &self.quarantine_by_reason {
            out.push_str(&format!("  {reason:<20} {n:>10}\n"));
        }
        if !self.quarantine.is_empty() {
            out.push_str("  by import kind:\n");
            for q in &self.quarantine {
                out.push_str(&format!(
                    "    {:<18} {:<20} {:>10}\n",
                    q.kind, q.reason, q.count
                ));
            }
        }
        out
    }
}
