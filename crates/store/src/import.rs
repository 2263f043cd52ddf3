//! Loading one file: an [`ImportSession`] is one database transaction.
//!
//! `Store::begin_import` records the file (kind + SHA-256 of its bytes) in
//! `import_file`. A file already imported to completion is not opened again
//! ([`ImportStart::AlreadyImported`]), which makes re-running an import a no-op.
//! A session that is dropped without `commit` rolls back entirely, so a process
//! killed mid-file leaves nothing half-loaded and a re-run completes the file.

use crate::{Result, Store};
use chrono::NaiveDate;
use rapport_domain::identity::MergeRule;
use rapport_domain::*;
use serde::{Deserialize, Serialize};

/// Internal id of a customer.
pub type CustomerId = i64;

/// One file about to be imported.
#[derive(Debug, Clone)]
pub struct ImportFile {
    /// Entity kind or importer name (`customers`, `transactions`, `berka:loan`, `card-statements` …).
    pub kind: String,
    /// Source system name (`core`, `berka`, `taiwan`, …).
    pub source: String,
    /// Path as given by the user (for reports).
    pub path: String,
    /// Hex SHA-256 of the file's bytes.
    pub sha256: String,
}

/// The reconciled counts of one file: read = loaded + merged + rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSummary {
    pub file: String,
    pub kind: String,
    pub read: u64,
    pub loaded: u64,
    pub merged: u64,
    pub rejected: u64,
}

pub enum ImportStart {
    /// This exact file (kind + hash) was imported before; nothing was done.
    AlreadyImported(FileSummary),
    /// A transaction is open; load rows, then `commit`.
    Started(ImportSession),
}

/// What happened to one row handed to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    /// A new row was inserted.
    Loaded,
    /// The same key with the same content (fingerprint) is already stored: nothing changed.
    Unchanged,
    /// The same key is stored with different content: the row must be quarantined.
    Conflict,
    /// A referenced key (e.g. `account_key`) does not exist in the store for this source.
    UnknownReference { field: &'static str, key: String },
}

/// A row that could not be loaded, kept with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineEntry {
    /// 1-based physical line number in the file (the header is line 1).
    pub line: u64,
    /// The offending field, when one can be named.
    pub field: Option<String>,
    /// Stable snake_case reason code: bad_date, bad_amount, unknown_reference,
    /// column_count, invalid_utf8, duplicate_conflict, missing_required, bad_code, …
    pub reason: String,
    /// Human-readable detail (never more personal data than the raw row holds).
    pub detail: String,
    /// The raw line, lossily decoded.
    pub raw: String,
}

/// A stored customer's identifying fields, as candidates for identity resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerIdentityRow {
    pub id: CustomerId,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub birth_date: Option<NaiveDate>,
}

/// An open import: one database transaction plus key caches.
pub struct ImportSession {
    pub(crate) inner: crate::schema::SessionInner,
}

impl Store {
    /// Starts importing `file`, or reports that it was already imported.
    pub async fn begin_import(&self, file: &ImportFile) -> Result<ImportStart> {
        crate::schema::begin_import(self, file).await
    }
}

impl ImportSession {
    /// The id of this import in `import_file`.
    pub fn import_id(&self) -> i64 {
        self.inner.import_id
    }

    /// Creates the branch if its code is new, else updates its name and attributes.
    pub async fn upsert_branch(&mut self, rec: &BranchRecord) -> Result<()> {
        self.inner.upsert_branch(rec).await
    }

    /// The customer stored under (source, source_key), with its fingerprint.
    pub async fn customer_by_key(
        &mut self,
        source: &str,
        key: &str,
    ) -> Result<Option<(CustomerId, i64)>> {
        self.inner.customer_by_key(source, key).await
    }

    /// Stored customers sharing the ID number or the phone (either may be None).
    pub async fn identity_candidates(
        &mut self,
        id_number: Option<&ResidentId>,
        phone: Option<&PhoneNumber>,
    ) -> Result<Vec<CustomerIdentityRow>> {
        self.inner.identity_candidates(id_number, phone).await
    }

    /// Inserts a new customer with its first source key and flags; returns its id.
    pub async fn insert_customer(&mut self, rec: &CustomerRecord) -> Result<CustomerId> {
        self.inner.insert_customer(rec).await
    }

    /// Attaches another source key to an existing customer (an identity merge),
    /// fills the customer's missing fields from `rec`, and records the merge
    /// with its rule and a plain-language explanation in `customer_merge`.
    pub async fn merge_customer(
        &mut self,
        into: CustomerId,
        rec: &CustomerRecord,
        rule: MergeRule,
        explanation: &str,
    ) -> Result<()> {
        self.inner
            .merge_customer(into, rec, rule, explanation)
            .await
    }

    pub async fn load_accounts(&mut self, recs: &[AccountRecord]) -> Result<Vec<RowOutcome>> {
        self.inner.load_accounts(recs).await
    }
    pub async fn load_account_roles(
        &mut self,
        recs: &[AccountRoleRecord],
    ) -> Result<Vec<RowOutcome>> {
        self.inner.load_rows(recs).await
    }
    /// Batched: multi-row prepared INSERTs on SQLite; on PostgreSQL one `= ANY` lookup of
    /// the batch's keys, then COPY of the new rows.
    pub async fn load_transactions(
        &mut self,
        recs: &[TransactionRecord],
    ) -> Result<Vec<RowOutcome>> {
        self.inner.load_rows(recs).await
    }
    pub async fn load_products(&mut self, recs: &[ProductRecord]) -> Result<Vec<RowOutcome>> {
        self.inner.load_products(recs).await
    }
    pub async fn load_holdings(&mut self, recs: &[HoldingRecord]) -> Result<Vec<RowOutcome>> {
        self.inner.load_rows(recs).await
    }
    pub async fn load_loans(&mut self, recs: &[LoanRecord]) -> Result<Vec<RowOutcome>> {
        self.inner.load_rows(recs).await
    }
    pub async fn load_cards(&mut self, recs: &[CardRecord]) -> Result<Vec<RowOutcome>> {
        self.inner.load_rows(recs).await
    }
    pub async fn load_standing_orders(
        &mut self,
        recs: &[StandingOrderRecord],
    ) -> Result<Vec<RowOutcome>> {
        self.inner.load_rows(recs).await
    }
    pub async fn load_card_statements(
        &mut self,
        recs: &[CardStatementRecord],
    ) -> Result<Vec<RowOutcome>> {
        self.inner.load_rows(recs).await
    }
    pub async fn load_outcomes(&mut self, recs: &[OutcomeRecord]) -> Result<Vec<RowOutcome>> {
        self.inner.load_rows(recs).await
    }
    pub async fn load_interactions(
        &mut self,
        recs: &[InteractionRecord],
    ) -> Result<Vec<RowOutcome>> {
        self.inner.load_rows(recs).await
    }
    pub async fn load_cases(&mut self, recs: &[CaseRecord]) -> Result<Vec<RowOutcome>> {
        self.inner.load_rows(recs).await
    }
    pub async fn load_survey_responses(
        &mut self,
        recs: &[SurveyResponseRecord],
    ) -> Result<Vec<RowOutcome>> {
        self.inner.load_rows(recs).await
    }
    pub async fn load_consents(&mut self, recs: &[ConsentRecord]) -> Result<Vec<RowOutcome>> {
        self.inner.load_rows(recs).await
    }
    pub async fn load_staff_users(&mut self, recs: &[StaffUserRecord]) -> Result<Vec<RowOutcome>> {
        self.inner.load_staff_users(recs).await
    }

    /// Keeps rejected rows with their reasons (deduplicated by import file + line).
    pub async fn quarantine(&mut self, rows: &[QuarantineEntry]) -> Result<()> {
        self.inner.quarantine(rows).await
    }

    /// Records the summary on the `import_file` row, marks it complete and commits.
    pub async fn commit(self, summary: &FileSummary) -> Result<()> {
        self.inner.commit(summary).await
    }
}
