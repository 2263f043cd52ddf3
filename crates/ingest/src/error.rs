//! Ingest errors: whole-file problems only.
//!
//! A bad *row* never becomes an error: it goes to the quarantine with its line,
//! field and reason. An `IngestError` means the file as a whole could not be
//! imported (missing, unreadable, wrong header) or the store failed; every
//! variant names the file it is about. When a file fails, its import session is
//! dropped and rolled back, so nothing of that file is left half-loaded.

use rapport_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file does not exist or cannot be opened.
    #[error("{file}: cannot open: {source}")]
    Open {
        file: String,
        source: std::io::Error,
    },

    /// Reading failed part-way (I/O error, corrupt or truncated gzip stream).
    #[error("{file}{}: cannot read: {source}", line.map(|l| format!(": line {l}")).unwrap_or_default())]
    Read {
        file: String,
        line: Option<u64>,
        source: std::io::Error,
    },

    /// The file has no header row.
    #[error("{file}: empty file, no header row")]
    NoHeader { file: String },

    /// A required column is absent from the header.
    #[error("{file}: line 1: missing required column {column:?} (header has: {found})")]
    MissingColumn {
        file: String,
        column: String,
        found: String,
    },

    /// A file an importer needs is not in the directory.
    #[error("{file}: not found ({what})")]
    MissingFile { file: String, what: String },

    /// A directory holds nothing this importer can load.
    #[error("{dir}: nothing to import (expected one of: {expected})")]
    NothingToImport { dir: String, expected: String },

    /// `--kind` names no known kind.
    #[error("unknown import kind {0:?}; known kinds: {1}")]
    UnknownKind(String, String),

    /// The store failed while importing a file (the file's session was rolled back).
    #[error("{file}: store error: {source}")]
    Store { file: String, source: StoreError },

    /// The store failed on a read-side query (reports).
    #[error("store error: {0}")]
    Report(#[source] StoreError),

    /// The store broke its contract (e.g. returned fewer outcomes than rows).
    #[error("{file}: {detail}")]
    Contract { file: String, detail: String },

    /// The background reader could not be joined (it panicked or was cancelled).
    #[error("{file}: reader task failed: {detail}")]
    Task { file: String, detail: String },
}

impl IngestError {
    pub(crate) fn store(file: &str, source: StoreError) -> Self {
        IngestError::Store {
            file: file.to_string(),
            source,
        }
    }

    /// The file this error is about, when it is about one.
    pub fn file(&self) -> Option<&str> {
        match self {
            IngestError::Open { file, .. }
            | IngestError::Read { file, .. }
            | IngestError::NoHeader { file }
            | IngestError::MissingColumn { file, .. }
            | IngestError::MissingFile { file, .. }
            | IngestError::Store { file, .. }
            | IngestError::Contract { file, .. }
            | IngestError::Task { file, .. } => Some(file),
            IngestError::NothingToImport { dir, .. } => Some(dir),
            IngestError::UnknownKind(..) | IngestError::Report(_) => None,
        }
    }
}
