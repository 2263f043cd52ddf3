//! Read-side queries for reports: counts, quarantine, merges, import history,
//! field profiles for the data-quality report, and exports.

use crate::{Result, Store};
use serde::{Deserialize, Serialize};

/// Entity counts (`report counts`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityCounts {
    pub customers: i64,
    pub customer_source_keys: i64,
    pub branches: i64,
    pub accounts: i64,
    pub account_roles: i64,
    pub transactions: i64,
    pub products: i64,
    pub holdings: i64,
    pub loans: i64,
    pub cards: i64,
    pub standing_orders: i64,
    pub card_statements: i64,
    pub outcomes: i64,
    pub interactions: i64,
    pub cases: i64,
    pub survey_responses: i64,
    pub consents: i64,
    pub staff_users: i64,
    pub quarantined: i64,
    pub merges: i64,
    pub flagged_fields: i64,
    pub imports: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineRow {
    pub id: i64,
    pub file: String,
    pub kind: String,
    pub line: i64,
    pub field: Option<String>,
    pub reason: String,
    pub detail: String,
    pub raw: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonCount {
    pub kind: String,
    pub reason: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeRow {
    pub customer_id: i64,
    pub source: String,
    pub source_key: String,
    pub rule: String,
    pub explanation: String,
    pub merged_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRow {
    pub id: i64,
    pub kind: String,
    pub source: String,
    pub file: String,
    pub sha256: String,
    pub status: String,
    pub read: i64,
    pub loaded: i64,
    pub merged: i64,
    pub rejected: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
}

/// One field of one entity, profiled for the data-quality report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldProfile {
    pub entity: String,
    pub field: String,
    /// Rows of the entity.
    pub rows: i64,
    /// Rows where the field is present (not NULL / not empty).
    pub present: i64,
    /// Rows where the field was supplied but invalid (flagged and stored as missing).
    pub flagged: i64,
    /// Distinct present values, counted only for identifying fields
    /// (`distinct_counted`); 0 for the others.
    pub distinct: i64,
    /// Whether `distinct` was counted: only for the identifying fields of
    /// customers (`id_number`, `phone`, `email`), where uniqueness matters and
    /// the sort it needs is affordable; never for transactions.
    pub distinct_counted: bool,
}

impl Store {
    pub async fn counts(&self) -> Result<EntityCounts> {
        crate::schema::counts(self).await
    }
    /// Quarantined rows, newest first, at most `limit`.
    pub async fn quarantine_rows(&self, limit: i64) -> Result<Vec<QuarantineRow>> {
        crate::schema::quarantine_rows(self, limit).await
    }
    pub async fn quarantine_by_reason(&self) -> Result<Vec<ReasonCount>> {
        crate::schema::quarantine_by_reason(self).await
    }
    pub async fn merges(&self) -> Result<Vec<MergeRow>> {
        crate::schema::merges(self).await
    }
    pub async fn imports(&self) -> Result<Vec<ImportRow>> {
        crate::schema::imports(self).await
    }
    /// Profiles of the fields the quality report covers (customer, account, transaction, loan, card …).
    pub async fn field_profiles(&self) -> Result<Vec<FieldProfile>> {
        crate::schema::field_profiles(self).await
    }
    /// Streams a whole table as CSV (header row, then one row per record, in id
    /// order) into `out`; returns the number of data rows. Bounded memory.
    /// `table` must be one of [`exportable_tables`](crate::exportable_tables), else `StoreError::NotFound`.
    pub async fn export_table_csv(
        &self,
        table: &str,
        out: &mut (dyn std::io::Write + Send),
    ) -> Result<u64> {
        crate::schema::export_table_csv(self, table, out).await
    }
}
