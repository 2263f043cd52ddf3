//! The columnar analytical copy of the transactions (issue 19, ADR 0004):
//! rebuild it from the store, append an import to it, check that it agrees
//! with the store, and tell scoring whether it may read it.
//!
//! The store stays the source of truth. The copy lives in `<data dir>/analytics`:
//! next to the SQLite file by default, or the directory in
//! `RAPPORT_ANALYTICS_DIR` (the only way to have one with PostgreSQL).
//! Rebuilds and appends are writes: they need `Administer` and leave an
//! audit entry.

use crate::access::{Actor, Permission};
use crate::audit::entry_for;
use anyhow::{Context, Result};
use rapport_analytics::columnar::{
    compare_months, tally_files, write_owners, CustomerMap, Manifest, MonthCheck, MonthTally,
    PartWriter,
};
use rapport_analytics::ColumnarSource;
use rapport_store::{DayRange, Store, DEFAULT_SCAN_CHUNK_ROWS};
use serde::Serialize;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The environment variable naming the copy's directory.
pub const DIR_ENV: &str = "RAPPORT_ANALYTICS_DIR";

/// Ids per query when reading transactions for the copy.
const ID_BLOCK: i64 = 200_000;

/// The copy's directory for the store at `db_url`: `RAPPORT_ANALYTICS_DIR`
/// when set, else `analytics` next to a SQLite file; `None` for PostgreSQL
/// without the variable (no copy).
pub fn default_dir(db_url: &str) -> Option<PathBuf> {
    if let Some(d) = std::env::var_os(DIR_ENV).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    let path = db_url
        .strip_prefix("sqlite://")
        .or_else(|| db_url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    let parent = Path::new(path).parent().unwrap_or(Path::new("."));
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    Some(parent.join("analytics"))
}

/// What a rebuild or an append wrote.
#[derive(Debug, Clone, Serialize)]
pub struct CopyWritten {
    pub dir: String,
    /// Transactions written by this call.
    pub rows: u64,
    /// Month files written by this call.
    pub parts: usize,
    /// Transactions in the whole copy afterwards.
    pub total_rows: u64,
    pub customers: usize,
    pub seconds: f64,
}

/// Writes the whole copy from the store, atomically: into a sibling
/// temporary directory, then renamed over the old copy. Audited.
pub async fn rebuild(store: &Store, actor: &Actor, dir: &Path) -> Result<CopyWritten> {
    actor
        .require(Permission::Administer)
        .map_err(crate::error::ServiceError::from)?;
    let started = std::time::Instant::now();
    let mark = store.txn_watermark().await?;
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "analytics".into());
    let tmp = parent.join(format!(".{name}.rebuild-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).with_context(|| format!("removing {}", tmp.display()))?;
    }
    std::fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let import = store.txn_latest_import_after(0).await?;
    let mut writer = PartWriter::new(&tmp, &import.to_string(), CustomerMap::default())?;
    let mut failed = None;
    store
        .scan_transactions_after(0, mark.max_id, ID_BLOCK, |c| {
            if failed.is_none() {
                failed = writer.add_chunk(c).err();
            }
        })
        .await?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    let (parts, customers) = writer.finish()?;
    let rows: u64 = parts.iter().map(|p| p.rows).sum();
    let manifest = Manifest {
        rows,
        max_txn_id: mark.max_id,
        parts,
        ..Manifest::empty()
    };
    write_owners(&tmp, &rapport_analytics::account_owners(store).await?)?;
    customers.save(&tmp)?;
    manifest.save(&tmp)?;
    // Swap: the old copy aside, the new one in, the old one removed.
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    if dir.exists() {
        std::fs::rename(dir, &old).with_context(|| format!("moving {} aside", dir.display()))?;
    }
    std::fs::rename(&tmp, dir).with_context(|| format!("renaming into {}", dir.display()))?;
    if old.exists() {
        std::fs::remove_dir_all(&old).with_context(|| format!("removing {}", old.display()))?;
    }
    let written = CopyWritten {
        dir: dir.display().to_string(),
        rows,
        parts: manifest.parts.len(),
        total_rows: rows,
        customers: customers.len(),
        seconds: started.elapsed().as_secs_f64(),
    };
    audit(store, actor, "analytics_copy.rebuild", &written).await?;
    Ok(written)
}

/// Appends the transactions the store gained since the copy was written
/// (ids above the manifest's) as one file set named after their import.
/// `None` when there is no copy to append to (nothing is written). Audited.
pub async fn append(store: &Store, actor: &Actor, dir: &Path) -> Result<Option<CopyWritten>> {
    actor
        .require(Permission::Administer)
        .map_err(crate::error::ServiceError::from)?;
    let Some(mut manifest) = Manifest::load(dir)? else {
        return Ok(None);
    };
    let started = std::time::Instant::now();
    // The import may have added accounts or owners, with or without transactions.
    write_owners(dir, &rapport_analytics::account_owners(store).await?)?;
    let mark = store.txn_watermark().await?;
    if mark.max_id <= manifest.max_txn_id {
        return Ok(Some(CopyWritten {
            dir: dir.display().to_string(),
            rows: 0,
            parts: 0,
            total_rows: manifest.rows,
            customers: CustomerMap::load(dir)?.len(),
            seconds: started.elapsed().as_secs_f64(),
        }));
    }
    let import = store.txn_latest_import_after(manifest.max_txn_id).await?;
    let mut writer = PartWriter::new(dir, &import.to_string(), CustomerMap::load(dir)?)?;
    let mut failed = None;
    store
        .scan_transactions_after(manifest.max_txn_id, mark.max_id, ID_BLOCK, |c| {
            if failed.is_none() {
                failed = writer.add_chunk(c).err();
            }
        })
        .await?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    let (parts, customers) = writer.finish()?;
    let rows: u64 = parts.iter().map(|p| p.rows).sum();
    let written_parts = parts.len();
    // A second append of the same import replaces its own files.
    manifest
        .parts
        .retain(|p| !parts.iter().any(|n| n.file == p.file));
    manifest.parts.extend(parts);
    manifest.rows = manifest.parts.iter().map(|p| p.rows).sum();
    manifest.max_txn_id = mark.max_id;
    customers.save(dir)?;
    manifest.save(dir)?;
    let written = CopyWritten {
        dir: dir.display().to_string(),
        rows,
        parts: written_parts,
        total_rows: manifest.rows,
        customers: customers.len(),
        seconds: started.elapsed().as_secs_f64(),
    };
    audit(store, actor, "analytics_copy.append", &written).await?;
    Ok(Some(written))
}

async fn audit(store: &Store, actor: &Actor, action: &str, w: &CopyWritten) -> Result<()> {
    let entry = entry_for(
        actor,
        action,
        "analytics_copy",
        Some(w.dir.clone()),
        None,
        json!({ "rows": w.rows, "parts": w.parts, "total_rows": w.total_rows }),
    );
    store.append_audit(&[entry]).await?;
    Ok(())
}

/// The result of a check: one line per month, and whether all agree.
#[derive(Debug, Clone, Serialize)]
pub struct CopyCheck {
    pub dir: String,
    /// `false` when there is no copy at all.
    pub exists: bool,
    pub months: Vec<MonthCheck>,
    pub agrees: bool,
}

/// Counts and checksums per month from a store scan and from the files
/// (and the manifest's own figures); read-only.
pub async fn check(store: &Store, dir: &Path) -> Result<CopyCheck> {
    let Some(manifest) = Manifest::load(dir)? else {
        return Ok(CopyCheck {
            dir: dir.display().to_string(),
            exists: false,
            months: Vec::new(),
            agrees: false,
        });
    };
    let mut from_store = MonthTally::default();
    store
        .scan_transactions(DayRange::all(), DEFAULT_SCAN_CHUNK_ROWS, |c| {
            from_store.add_chunk(c)
        })
        .await?;
    let from_files = tally_files(dir, &manifest)?;
    let months = compare_months(&from_store.months, &from_files.months, &manifest.months());
    let agrees = months.iter().all(|m| m.agrees);
    Ok(CopyCheck {
        dir: dir.display().to_string(),
        exists: true,
        months,
        agrees,
    })
}

/// The copy scoring may read instead of the store, or why not: it must
/// exist and reach exactly as far as the store (the same number of
/// transactions and the same highest id: one cheap query, the quick form of
/// [`check`]).
pub async fn feature_source(
    store: &Store,
    dir: Option<&Path>,
) -> Result<(Option<Arc<ColumnarSource>>, String)> {
    let Some(dir) = dir else {
        return Ok((None, "store (no columnar copy configured)".into()));
    };
    let Some(manifest) = Manifest::load(dir)? else {
        return Ok((
            None,
            format!("store (no columnar copy in {})", dir.display()),
        ));
    };
    let mark = store.txn_watermark().await?;
    if mark.rows != manifest.rows as i64 || mark.max_id != manifest.max_txn_id {
        return Ok((
            None,
            format!(
                "store (the columnar copy in {} is not current: {} transactions up to id {}, the store {} up to id {}; run rapport analytics rebuild)",
                dir.display(),
                manifest.rows,
                manifest.max_txn_id,
                mark.rows,
                mark.max_id
            ),
        ));
    }
    let customers = CustomerMap::load(dir)?;
    Ok((
        Some(Arc::new(ColumnarSource {
            dir: dir.to_path_buf(),
            manifest,
            customers,
        })),
        format!("columnar copy {}", dir.display()),
    ))
}

/// The Spark SQL computing the transaction aggregates as of `as_of`
/// (`rapport analytics spark-sql`): one query per customer, one per account.
pub fn spark_sql(as_of: chrono::NaiveDate) -> Result<String> {
    let w = rapport_analytics::AsOf::new(as_of)?;
    Ok(rapport_analytics::spark::spark_sql(&w))
}

/// The PySpark job computing the transaction aggregates as of `as_of`
/// (`rapport analytics spark-job`): over the columnar copy, or over the
/// bank's own tables named by the mapping file (checked here: an unknown
/// key, a missing or empty column is an error naming the file).
pub fn spark_job(as_of: chrono::NaiveDate, mapping: Option<&Path>) -> Result<String> {
    let w = rapport_analytics::AsOf::new(as_of)?;
    let mapping = match mapping {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the mapping {}", path.display()))?;
            Some(
                rapport_analytics::spark::Mapping::parse(path, &text)
                    .map_err(anyhow::Error::msg)?,
            )
        }
        None => None,
    };
    Ok(rapport_analytics::spark::spark_job(&w, mapping.as_ref()))
}
