//! Analytics errors (thiserror; callers at the edges wrap them with anyhow).

#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    #[error(transparent)]
    Store(#[from] rapport_store::StoreError),
    #[error("the columnar copy: {0}")]
    Columnar(#[from] crate::columnar::ColumnarError),
    #[error("the Spark job's output: {0}")]
    Precomputed(#[from] crate::spark::PrecomputedError),
    #[error("as-of date {0} is outside the supported range")]
    AsOfOutOfRange(chrono::NaiveDate),
    #[error("no account with store id {0}")]
    UnknownAccount(i64),
    #[error("cannot write the feature table: {0}")]
    Write(#[from] csv::Error),
    #[error("cannot write the feature table: {0}")]
    Io(#[from] std::io::Error),
}
