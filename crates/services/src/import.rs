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

/// After a successful import: appends the new transactions to the columnar
/// copy in `dir` when there is one (acting as the system's `import` job;
/// audited); `None` when there is no copy. The import's own report is not touched.
pub async fn append_to_copy(
    store: &Store,
    dir: Option<&std::path::Path>,
) -> Result<Option<crate::analytics_copy::CopyWritten>> {
    let Some(dir) = dir else {
        return Ok(None);
    };
    let actor = crate::access::Actor::system("import");
    crate::analytics_copy::append(store, &actor, dir).await
}
