//! Opening the store and loading data into it: a directory of canonical
//! files (and a generated bank's second source system) through the
//! importers, with every rejected row kept with its reason.

use crate::config::redact_url;
use anyhow::{Context, Result};
use rapport_ingest::{ImportOptions, ImportReport};
use rapport_store::Store;
use std::path::Path;

pub async fn open(url: &str) -> Result<Store> {
    Store::connect(url)
        .await
        .with_context(|| format!("opening the store {}", redact_url(url)))
}

/// Loads a generated bank: the core files under `source`, then the second
/// source system's extract in `crm/` (when present) under `crm`, whose
/// customers identity resolution joins to the core ones.
pub async fn load_generated(
    store: &Store,
    dir: &Path,
    source: &str,
    opts: &ImportOptions,
) -> Result<ImportReport> {
    let mut report = rapport_ingest::import_dir(store, dir, source, opts).await?;
    let crm = dir.join("crm");
    if crm.is_dir() {
        let r = rapport_ingest::import_dir(store, &crm, "crm", opts).await?;
        report.read += r.read;
        report.loaded += r.loaded;
        report.merged += r.merged;
        report.rejected += r.rejected;
        report.files.extend(r.files);
    }
    Ok(report)
}
