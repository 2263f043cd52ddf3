//! Errors of the model layer. Every input error names the file, and where it
//! applies the row (1-based, the header is row 1) and the field.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: row {row}: {message}")]
    Csv {
        path: PathBuf,
        row: u64,
        message: String,
    },
    #[error("{path}: column {field}: {message}")]
    Column {
        path: PathBuf,
        field: String,
        message: String,
    },
    #[error("{path}: {message}")]
    Extract { path: PathBuf, message: String },
    #[error("cannot train: {0}")]
    Training(String),
    #[error("gradient-boosted trees: {0}")]
    Boosting(String),
    #[error("model artefact: {0}")]
    Artefact(String),
}

pub type Result<T, E = ModelError> = std::result::Result<T, E>;
