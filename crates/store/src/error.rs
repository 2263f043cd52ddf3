//! Store errors (thiserror; callers at the edges wrap them with anyhow).

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL {0:?} is not sqlite://PATH or postgres://…")]
    InvalidUrl(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("io error on {path}: {source}")]
    Io { path: String, source: std::io::Error },
}
