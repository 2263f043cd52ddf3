//! Online backup of a SQLite store and the checks a restore makes on a file
//! before it replaces a store. `VACUUM INTO` writes a consistent snapshot of
//! the live database (readers and the writer carry on meanwhile); a file is
//! a usable Rapport store when SQLite's integrity check passes and its
//! applied migrations are a prefix of this binary's.
//!
//! Backups are created with mode 0600 (`files.rs`). A restore takes the
//! store lock exclusively (`lock_exclusive`) and refuses while any other
//! process has the store open.
//!
//! PostgreSQL is backed up with its own tools (docs/OPERATIONS.md).

use crate::{Result, Store, StoreError, SQLITE_MIGRATIONS};
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use std::path::Path;
use std::str::FromStr;

/// What a store file holds, as checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoreFileCheck {
    /// SQLite's `PRAGMA integrity_check` answer (`ok` when sound).
    pub integrity: String,
    /// Migration versions applied in the file.
    pub migrations: Vec<i64>,
    pub customers: i64,
    pub transactions: i64,
    pub alerts: i64,
    pub audit_entries: i64,
}

impl StoreFileCheck {
    /// True when the file is sound and its migrations are a prefix of this binary's.
    pub fn usable(&self) -> bool {
        let known: Vec<i64> = SQLITE_MIGRATIONS.iter().map(|m| m.version).collect();
        self.integrity == "ok"
            && !self.migrations.is_empty()
            && self.migrations.len() <= known.len()
            && self.migrations.iter().zip(&known).all(|(a, b)| a == b)
    }
}

impl Store {
    /// Writes a consistent snapshot of a SQLite store to `target` (which must not exist).
    pub async fn backup_sqlite_into(&self, target: &Path) -> Result<()> {
        let Store::Sqlite(p) = self else {
            return Err(StoreError::InvalidUrl(
                "backup: a PostgreSQL store is backed up with pg_dump (docs/OPERATIONS.md)".into(),
            ));
        };
        let path = target.to_str().ok_or_else(|| StoreError::Io {
            path: target.display().to_string(),
            source: std::io::Error::other("the path is not UTF-8"),
        })?;
        // Created empty with mode 0600 first (VACUUM INTO fills an empty
        // file), so the snapshot is never readable by others, whatever the umask.
        crate::files::create_private_file(target).map_err(|source| StoreError::Io {
            path: target.display().to_string(),
            source,
        })?;
        sqlx::query("VACUUM INTO $1").bind(path).execute(p).await?;
        crate::files::restrict_path(target).map_err(|source| StoreError::Io {
            path: target.display().to_string(),
            source,
        })?;
        Ok(())
    }
}

/// Opens a SQLite file read-only and checks it.
pub async fn check_sqlite_file(path: &Path) -> Result<StoreFileCheck> {
    if !path.is_file() {
        return Err(StoreError::NotFound(format!("file {}", path.display())));
    }
    let opts =
        SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?.read_only(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await?;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await?;
    let has_migrations: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(&pool)
    .await?;
    let migrations: Vec<i64> = if has_migrations > 0 {
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&pool)
            .await?
    } else {
        Vec::new()
    };
    let count = |t: &'static str| {
        let pool = pool.clone();
        async move {
            let exists: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
            )
            .bind(t)
            .fetch_one(&pool)
            .await?;
            if exists == 0 {
                return Ok::<i64, StoreError>(0);
            }
            Ok(sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {t}"))
                .fetch_one(&pool)
                .await?)
        }
    };
    let check = StoreFileCheck {
        integrity,
        migrations,
        customers: count("customer").await?,
        transactions: count("txn").await?,
        alerts: count("alert").await?,
        audit_entries: count("audit_log").await?,
    };
    pool.close().await;
    Ok(check)
}
