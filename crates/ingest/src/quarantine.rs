//! Why a row was not loaded: the stable reason codes of docs/FORMATS.md.
//!
//! A [`Rejection`] is what a row parser or the store's answer says about one
//! row; the pipeline turns it into a `rapport_store::QuarantineEntry` with the
//! file's line number and the raw row. Reason codes are part of the public
//! contract (reports group by them): never rename one.

use rapport_store::{QuarantineEntry, RowOutcome};
use serde::Serialize;

/// The stable reason codes of the quarantine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The row has more or fewer fields than the header.
    ColumnCount,
    /// A field is not valid UTF-8.
    InvalidUtf8,
    /// A required value is empty.
    MissingRequired,
    /// A date is not in a recognised format or not a real date.
    BadDate,
    /// An amount is not a number with at most two decimals.
    BadAmount,
    /// A count, score or code number is not an integer in range.
    BadNumber,
    /// A coded value is not in its vocabulary.
    BadCode,
    /// A referenced key (account, customer, product, disposition) is unknown in this source.
    UnknownReference,
    /// The same key is already stored with different content.
    DuplicateConflict,
    /// A malformed quoted field swallowed following lines (unbalanced quote).
    CsvSyntax,
}

impl Reason {
    pub const ALL: &'static [Reason] = &[
        Reason::ColumnCount,
        Reason::InvalidUtf8,
        Reason::MissingRequired,
        Reason::BadDate,
        Reason::BadAmount,
        Reason::BadNumber,
        Reason::BadCode,
        Reason::UnknownReference,
        Reason::DuplicateConflict,
        Reason::CsvSyntax,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::ColumnCount => "column_count",
            Reason::InvalidUtf8 => "invalid_utf8",
            Reason::MissingRequired => "missing_required",
            Reason::BadDate => "bad_date",
            Reason::BadAmount => "bad_amount",
            Reason::BadNumber => "bad_number",
            Reason::BadCode => "bad_code",
            Reason::UnknownReference => "unknown_reference",
            Reason::DuplicateConflict => "duplicate_conflict",
            Reason::CsvSyntax => "csv_syntax",
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why one row cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub reason: Reason,
    /// The offending column, when one can be named.
    pub field: Option<String>,
    pub detail: String,
}

impl Rejection {
    pub fn new(reason: Reason, field: impl Into<String>, detail: impl Into<String>) -> Self {
        Rejection {
            reason,
            field: Some(field.into()),
            detail: detail.into(),
        }
    }

    pub fn whole_row(reason: Reason, detail: impl Into<String>) -> Self {
        Rejection {
            reason,
            field: None,
            detail: detail.into(),
        }
    }

    pub(crate) fn into_entry(self, line: u64, raw: String) -> QuarantineEntry {
        QuarantineEntry {
            line,
            field: self.field,
            reason: self.reason.as_str().to_string(),
            detail: self.detail,
            raw,
        }
    }
}

/// What became of one row, in the terms of the file summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A new row was stored.
    Loaded,
    /// The row was already there (same key, same content) or joined an existing customer.
    Merged,
    /// The row goes to the quarantine.
    Rejected(Rejection),
}

impl Outcome {
    /// Translates the store's answer for a row of `entity` (e.g. "account").
    pub(crate) fn from_store(outcome: RowOutcome, entity: &str) -> Self {
        match outcome {
            RowOutcome::Loaded => Outcome::Loaded,
            RowOutcome::Unchanged => Outcome::Merged,
            RowOutcome::Conflict => Outcome::Rejected(Rejection::new(
                Reason::DuplicateConflict,
                "source_key",
                format!("this {entity} key is already stored with different content"),
            )),
            RowOutcome::UnknownReference { field, key } => Outcome::Rejected(Rejection::new(
                Reason::UnknownReference,
                field,
                format!("{field} {key:?} is not a known key of this source"),
            )),
        }
    }

    pub(crate) fn is_rejected(&self) -> bool {
        matches!(self, Outcome::Rejected(_))
    }
}
