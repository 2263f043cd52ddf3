//! The per-file import driver shared by every importer.
//!
//! One file = one `ImportSession` (one database transaction): open and check
//! the header, hash the bytes, ask the store whether this exact file was
//! imported before, then stream the rows. A blocking reader thread parses rows
//! into batches of `batch_size` and hands them over a channel of capacity 2,
//! so memory stays bounded whatever the file's size; the async side loads each
//! batch, maps the store's per-row outcomes back to line numbers, quarantines
//! what was rejected, and commits with a summary that reconciles:
//! read = loaded + merged + rejected.
//!
//! Must never decide what a value means (row parsers do) or write SQL (the store does).

use crate::error::IngestError;
use crate::input::{raw_string, sha256_file, Item, RowParser, Table};
use crate::quarantine::Outcome;
use rapport_store::{FileSummary, ImportFile, ImportSession, ImportStart, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

/// Rows read so far in the current import call (all files together).
pub type ProgressFn = Arc<dyn Fn(u64) + Send + Sync>;

/// How to import.
#[derive(Clone)]
pub struct ImportOptions {
    /// Country code given to phone numbers written without one (digits, e.g. "86").
    pub default_country: String,
    /// Records per store call (and per reader batch).
    pub batch_size: usize,
    /// Called after every batch with the number of rows read so far.
    pub progress: Option<ProgressFn>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            default_country: "86".to_string(),
            batch_size: 5_000,
            progress: None,
        }
    }
}

impl std::fmt::Debug for ImportOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportOptions")
            .field("default_country", &self.default_country)
            .field("batch_size", &self.batch_size)
            .field("progress", &self.progress.as_ref().map(|_| "callback"))
            .finish()
    }
}

impl ImportOptions {
    /// The default country as digits only ("+86" → "86").
    pub(crate) fn country_digits(&self) -> String {
        let d: String = self
            .default_country
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        if d.is_empty() {
            "86".to_string()
        } else {
            d
        }
    }
}

/// The reconciled counts of one file (read = loaded + merged + rejected).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileReport {
    pub file: String,
    pub kind: String,
    pub read: u64,
    pub loaded: u64,
    pub merged: u64,
    pub rejected: u64,
    /// The same file (kind + SHA-256) was imported before: nothing was done and
    /// the counts are those recorded by that earlier import.
    pub already_imported: bool,
}

impl FileReport {
    pub(crate) fn from_summary(s: FileSummary, already_imported: bool) -> Self {
        FileReport {
            file: s.file,
            kind: s.kind,
            read: s.read,
            loaded: s.loaded,
            merged: s.merged,
            rejected: s.rejected,
            already_imported,
        }
    }

    /// Whether read = loaded + merged + rejected.
    pub fn reconciles(&self) -> bool {
        self.read == self.loaded + self.merged + self.rejected
    }
}

/// The files of one import call and their totals (already-imported files
/// included with their recorded counts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub files: Vec<FileReport>,
    pub read: u64,
    pub loaded: u64,
    pub merged: u64,
    pub rejected: u64,
}

impl ImportReport {
    pub(crate) fn push(&mut self, f: FileReport) {
        self.read += f.read;
        self.loaded += f.loaded;
        self.merged += f.merged;
        self.rejected += f.rejected;
        self.files.push(f);
    }

    /// Whether every file and the total reconcile.
    pub fn reconciles(&self) -> bool {
        self.files.iter().all(FileReport::reconciles)
            && self.read == self.loaded + self.merged + self.rejected
    }

    /// One line per file plus a total, for the terminal.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let w = self
            .files
            .iter()
            .map(|f| f.file.len())
            .max()
            .unwrap_or(4)
            .max(5);
        out.push_str(&format!(
            "{:<w$}  {:<16} {:>10} {:>10} {:>10} {:>10}\n",
            "file", "kind", "read", "loaded", "merged", "rejected"
        ));
        for f in &self.files {
            let note = if f.already_imported {
                "  (already imported, nothing done)"
            } else {
                ""
            };
            out.push_str(&format!(
                "{:<w$}  {:<16} {:>10} {:>10} {:>10} {:>10}{note}\n",
                f.file, f.kind, f.read, f.loaded, f.merged, f.rejected
            ));
        }
        out.push_str(&format!(
            "{:<w$}  {:<16} {:>10} {:>10} {:>10} {:>10}\n",
            "total", "", self.read, self.loaded, self.merged, self.rejected
        ));
        out
    }
}

/// A loaded batch on its way back to the reader thread: (line, raw row) pairs and records.
type Trash<R> = (Vec<(u64, csv::StringRecord)>, Vec<R>);

/// A boxed store call for one batch; one outcome per record, in order.
pub(crate) type LoadFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<Outcome>, StoreError>> + Send + 'a>>;
/// Loads one batch of records of type `R`.
pub(crate) type Loader<R> = for<'a> fn(&'a mut ImportSession, &'a [R]) -> LoadFuture<'a>;

/// What to import.
pub(crate) struct FileSpec {
    /// `ImportFile.kind`, e.g. `customers` or `berka:client`.
    pub kind: String,
    pub source: String,
    pub path: PathBuf,
    /// How the file is named in reports and errors (the path as given).
    pub display: String,
    pub required: &'static [&'static str],
}

impl FileSpec {
    pub(crate) fn new(
        kind: &str,
        source: &str,
        path: &Path,
        required: &'static [&'static str],
    ) -> Self {
        FileSpec {
            kind: kind.to_string(),
            source: source.to_string(),
            path: path.to_path_buf(),
            display: path.display().to_string(),
            required,
        }
    }
}

/// Progress across the files of one import call.
pub(crate) struct Progress<'o> {
    opts: &'o ImportOptions,
    done: u64,
}

impl<'o> Progress<'o> {
    pub(crate) fn new(opts: &'o ImportOptions) -> Self {
        Progress { opts, done: 0 }
    }

    fn report(&self, in_file: u64) {
        if let Some(cb) = &self.opts.progress {
            cb(self.done + in_file);
        }
    }

    fn finish_file(&mut self, read: u64) {
        self.done += read;
        self.report(0);
    }
}

/// Imports one file: see the module documentation.
pub(crate) async fn run_file<P: RowParser>(
    store: &Store,
    spec: FileSpec,
    parser: P,
    load: Loader<P::Record>,
    progress: &mut Progress<'_>,
) -> Result<FileReport, IngestError> {
    let file = spec.display.clone();
    let (path, display, required) = (spec.path.clone(), spec.display.clone(), spec.required);
    let (table, sha256) = tokio::task::spawn_blocking(move || {
        let table = Table::open(&path, &display, required)?;
        let sha = sha256_file(&path, &display)?;
        Ok::<_, IngestError>((table, sha))
    })
    .await
    .map_err(|e| IngestError::Task {
        file: file.clone(),
        detail: e.to_string(),
    })??;

    let import = ImportFile {
        kind: spec.kind.clone(),
        source: spec.source.clone(),
        path: file.clone(),
        sha256,
    };
    let mut session = match store
        .begin_import(&import)
        .await
        .map_err(|e| IngestError::store(&file, e))?
    {
        ImportStart::AlreadyImported(summary) => {
            tracing::info!(file = %file, kind = %spec.kind, "file already imported; nothing to do");
            let report = FileReport::from_summary(summary, true);
            progress.finish_file(0);
            return Ok(report);
        }
        ImportStart::Started(session) => session,
    };

    let batch_size = progress.opts.batch_size.max(1);
    let delimiter = table.delimiter;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Item<P::Record>>>(2);
    // Loaded batches go back to the reader thread to be freed there: memory is
    // cheapest to free on the thread that allocated it, and the loading side is
    // the busier one.
    let (trash_tx, trash_rx) = std::sync::mpsc::channel::<Trash<P::Record>>();
    // Row buffers go back to the reader for reuse (at most a few batches' worth).
    let pool = table.record_pool();
    let pool_cap = batch_size.saturating_mul(3);
    let reader = tokio::task::spawn_blocking(move || {
        let mut table = table;
        let mut batch = Vec::with_capacity(batch_size);
        let read = table.read_rows(&parser, |item| {
            batch.push(item);
            if batch.len() >= batch_size {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
                if tx.blocking_send(full).is_err() {
                    return false;
                }
                while let Ok(done) = trash_rx.try_recv() {
                    drop(done);
                }
            }
            true
        })?;
        if !batch.is_empty() {
            // A closed channel means the importer already failed; its error is reported.
            let _ = tx.blocking_send(batch);
        }
        Ok::<u64, IngestError>(read)
    });

    let mut summary = FileSummary {
        file: file.clone(),
        kind: spec.kind.clone(),
        ..FileSummary::default()
    };
    while let Some(batch) = rx.recv().await {
        let mut quarantine = Vec::new();
        let mut rows = Vec::with_capacity(batch.len());
        let mut values = Vec::with_capacity(batch.len());
        for item in batch {
            summary.read += 1;
            match item {
                Item::Rejected(entry) => quarantine.push(entry),
                Item::Parsed(p) => {
                    rows.push((p.line, p.record));
                    values.push(p.value);
                }
            }
        }
        if !values.is_empty() {
            let outcomes = load(&mut session, &values)
                .await
                .map_err(|e| IngestError::store(&file, e))?;
            if outcomes.len() != values.len() {
                return Err(IngestError::Contract {
                    file,
                    detail: format!(
                        "the store answered {} outcomes for {} rows",
                        outcomes.len(),
                        values.len()
                    ),
                });
            }
            for ((line, record), outcome) in rows.iter().zip(outcomes) {
                match outcome {
                    Outcome::Loaded => summary.loaded += 1,
                    Outcome::Merged => summary.merged += 1,
                    Outcome::Rejected(r) => {
                        quarantine.push(r.into_entry(*line, raw_string(record, delimiter)))
                    }
                }
            }
        }
        summary.rejected += quarantine.len() as u64;
        if !quarantine.is_empty() {
            session
                .quarantine(&quarantine)
                .await
                .map_err(|e| IngestError::store(&file, e))?;
        }
        progress.report(summary.read);
        {
            let mut spare = pool
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let room = pool_cap.saturating_sub(spare.len());
            spare.extend(
                rows.drain(..rows.len().min(room))
                    .map(|(_, r)| r.into_byte_record()),
            );
        }
        // A reader that has finished no longer takes the trash: then it is freed here.
        let _ = trash_tx.send((rows, values));
    }
    let read = reader.await.map_err(|e| IngestError::Task {
        file: file.clone(),
        detail: e.to_string(),
    })??;
    if read != summary.read || summary.read != summary.loaded + summary.merged + summary.rejected {
        return Err(IngestError::Contract {
            file,
            detail: format!(
                "counts do not reconcile: read {read} (handled {}), loaded {}, merged {}, rejected {}",
                summary.read, summary.loaded, summary.merged, summary.rejected
            ),
        });
    }
    session
        .commit(&summary)
        .await
        .map_err(|e| IngestError::store(&file, e))?;
    tracing::info!(
        file = %file, kind = %summary.kind, read = summary.read, loaded = summary.loaded,
        merged = summary.merged, rejected = summary.rejected, "file imported"
    );
    progress.finish_file(summary.read);
    Ok(FileReport::from_summary(summary, false))
}

/// Loaders for entities that the store loads in batches.
pub(crate) mod loaders {
    use super::LoadFuture;
    use crate::quarantine::Outcome;
    use rapport_domain::*;
    use rapport_store::ImportSession;

    macro_rules! batch_loader {
        ($name:ident, $rec:ty, $method:ident, $entity:literal) => {
            pub(crate) fn $name<'a>(s: &'a mut ImportSession, recs: &'a [$rec]) -> LoadFuture<'a> {
                Box::pin(async move {
                    let out = s.$method(recs).await?;
                    Ok(out
                        .into_iter()
                        .map(|o| Outcome::from_store(o, $entity))
                        .collect())
                })
            }
        };
    }

    batch_loader!(accounts, AccountRecord, load_accounts, "account");
    batch_loader!(
        account_roles,
        AccountRoleRecord,
        load_account_roles,
        "account role"
    );
    batch_loader!(
        transactions,
        TransactionRecord,
        load_transactions,
        "transaction"
    );
    batch_loader!(products, ProductRecord, load_products, "product");
    batch_loader!(holdings, HoldingRecord, load_holdings, "holding");
    batch_loader!(loans, LoanRecord, load_loans, "loan");
    batch_loader!(cards, CardRecord, load_cards, "card");
    batch_loader!(
        standing_orders,
        StandingOrderRecord,
        load_standing_orders,
        "standing order"
    );
    batch_loader!(
        card_statements,
        CardStatementRecord,
        load_card_statements,
        "card statement"
    );
    batch_loader!(outcomes, OutcomeRecord, load_outcomes, "outcome");
    batch_loader!(
        interactions,
        InteractionRecord,
        load_interactions,
        "interaction"
    );
    batch_loader!(cases, CaseRecord, load_cases, "case");
    batch_loader!(
        survey_responses,
        SurveyResponseRecord,
        load_survey_responses,
        "survey response"
    );
    batch_loader!(consents, ConsentRecord, load_consents, "consent");
    batch_loader!(staff_users, StaffUserRecord, load_staff_users, "staff user");

    /// Branches are upserted one by one; the store reports no per-row outcome,
    /// so every branch row counts as loaded.
    pub(crate) fn branches<'a>(
        s: &'a mut ImportSession,
        recs: &'a [BranchRecord],
    ) -> LoadFuture<'a> {
        Box::pin(async move {
            for r in recs {
                s.upsert_branch(r).await?;
            }
            Ok(vec![Outcome::Loaded; recs.len()])
        })
    }

    /// Customers go through identity resolution one by one.
    pub(crate) fn customers<'a>(
        s: &'a mut ImportSession,
        recs: &'a [CustomerRecord],
    ) -> LoadFuture<'a> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(recs.len());
            for r in recs {
                out.push(crate::identity::resolve_customer(s, r).await?);
            }
            Ok(out)
        })
    }
}
