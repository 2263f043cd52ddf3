//! Ingest: everything that brings data into the store.
//!
//! Owns the canonical CSV importer, the real-data importers (Berka, Taiwan
//! card statements), cleaning, identity resolution, quarantine, the
//! data-quality report and the synthetic bank generator.
//!
//! Never writes SQL: it hands cleaned `rapport_domain` records to a
//! `rapport_store::ImportSession` and quarantines what cannot be loaded.
//!
//! Layout: `input` reads bytes into rows (gzip, BOM, delimiter, header, column
//! count, UTF-8); `clean` turns fields into domain values; `canonical`,
//! `berka` and `taiwan` are the row parsers of each format; `pipeline` drives
//! one file through one import session; `identity` resolves customers;
//! `quality` builds the data-quality report. The formats and rules are
//! documented in docs/FORMATS.md.

mod berka;
mod canonical;
mod clean;
mod error;
mod identity;
mod input;
mod pipeline;
mod quality;
mod quarantine;
pub mod synth;
mod taiwan;

pub use berka::{
    district_branch_code, import_berka, parse_birth_number, BERKA_SOURCE, DISTRICT_ATTRIBUTES,
};
pub use canonical::{check_csv, import_csv, import_dir, CheckReport, CsvKind};
pub use clean::{statement_days_past_due, BAD_LOAN_DAYS_PAST_DUE};
pub use error::IngestError;
pub use identity::{mask_id_number, mask_phone, merge_explanation};
pub use pipeline::{FileReport, ImportOptions, ImportReport, ProgressFn};
pub use quality::{quality_report, FieldQuality, ImportTotals, QualityReport};
pub use quarantine::{Reason, Rejection};
pub use taiwan::{import_card_statements, CARD_STATEMENTS_KIND, DEFAULT_LABEL, TAIWAN_SOURCE};

/// Loads a generated bank: the core files under `source`, then the second
/// source system's extract in `crm/` (when present) under `crm`, whose
/// customers identity resolution joins to the core ones.
pub async fn load_generated(
    store: &rapport_store::Store,
    dir: &std::path::Path,
    source: &str,
    opts: &ImportOptions,
) -> Result<ImportReport, IngestError> {
    let mut report = import_dir(store, dir, source, opts).await?;
    let crm = dir.join("crm");
    if crm.is_dir() {
        let r = import_dir(store, &crm, "crm", opts).await?;
        report.read += r.read;
        report.loaded += r.loaded;
        report.merged += r.merged;
        report.rejected += r.rejected;
        report.files.extend(r.files);
    }
    Ok(report)
}
