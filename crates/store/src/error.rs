//! Store errors (thiserror; callers at the edges wrap them with anyhow).

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL {0:?} is not sqlite://PATH or postgres://…")]
    InvalidUrl(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// A key handed to `insert_customer`/`merge_customer` is already stored
    /// (importers look keys up with `customer_by_key` first).
    #[error("{entity} key {key:?} of source {source_name:?} is already stored")]
    DuplicateKey {
        entity: &'static str,
        source_name: String,
        key: String,
    },
    /// A write that would break a uniqueness the caller must respect (e.g. a
    /// user name already taken).
    #[error("conflict: {0}")]
    Conflict(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("io error on {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}
