//! Opening the store and loading data into it: a directory of canonical
//! files (and a generated bank's second source system) through the
//! importers, with every rejected row kept with its reason.

use crate::config::redact_url;
use anyhow::{Context, Result};
use rapport_store::Store;

/// Opens (and migrates) the store at `url`; the error names the store with its password hidden.
pub async fn open(url: &str) -> Result<Store> {
    Store::connect(url)
        .await
        .with_context(|| format!("opening the store {}", redact_url(url)))
}

pub use rapport_ingest::load_generated;
