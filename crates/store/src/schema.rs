//! Connection and schema: picks the backend once from the database URL,
//! configures it (SQLite: WAL, `synchronous=NORMAL`, foreign keys, busy
//! timeout; the files mode 0600 and the store lock held, `files.rs`) and applies the twin migrations embedded from
//! `migrations/sqlite` and `migrations/postgres`.
//!
//! Also the one place the public API (`lib.rs`, `import.rs`, `reports.rs`)
//! reaches into: it re-exports the session (`session.rs`, `loaders.rs`) and
//! the report queries (`report_queries.rs`). Never holds rules about content.

use crate::{files, Result, Store, StoreError};
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::time::Duration;

pub(crate) use crate::report_queries::{
    counts, export_table_csv, field_profiles, imports, merges, quarantine_by_reason,
    quarantine_rows,
};
pub(crate) use crate::session::{begin_import, SessionInner};

/// Migrations for SQLite, embedded at compile time.
pub static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
/// Migrations for PostgreSQL, embedded at compile time (same names as SQLite's).
pub static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a SQLite connection waits for another writer before giving up.
pub(crate) const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// SQLite page cache per connection (negative = KiB): index inserts stay in memory.
pub(crate) const SQLITE_CACHE_KIB: &str = "-65536";

/// Reads go through a memory map of the database file (up to SQLite's
/// compiled-in cap of about 2 GiB) instead of a read() call and a copy per
/// page: the customer 360 under load spent a tenth of its time in those.
pub(crate) const SQLITE_MMAP_BYTES: &str = "2147418112";

/// Turns a SQLite connection's memory map off or back on. Statements that
/// walk a whole table or index once (a count, ANALYZE) run with it off: their
/// pages then pass through SQLite's bounded page cache instead of staying
/// mapped, and resident, in the process for as long as the connection lives.
pub(crate) async fn set_sqlite_mmap(conn: &mut sqlx::SqliteConnection, on: bool) -> Result<()> {
    let bytes = if on { SQLITE_MMAP_BYTES } else { "0" };
    sqlx::query(&format!("PRAGMA mmap_size = {bytes}"))
        .execute(conn)
        .await?;
    Ok(())
}

/// Connections of a file-backed SQLite pool. Writers still serialise on
/// SQLite's lock; readers (the web server) run side by side under WAL.
const SQLITE_POOL_SIZE: u32 = 8;

pub(crate) async fn connect(url: &str) -> Result<Store> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        return connect_sqlite(url, path).await;
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let pool = PgPoolOptions::new().max_connections(8).connect(url).await?;
        POSTGRES_MIGRATIONS.run(&pool).await?;
        tracing::info!(backend = "postgres", "store connected and migrated");
        return Ok(Store::Postgres(pool));
    }
    Err(StoreError::InvalidUrl(url.to_string()))
}

async fn connect_sqlite(url: &str, path: &str) -> Result<Store> {
    if path.is_empty() {
        return Err(StoreError::InvalidUrl(url.to_string()));
    }
    let base = SqliteConnectOptions::new()
        .foreign_keys(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .pragma("cache_size", SQLITE_CACHE_KIB);
    let pool = if path == ":memory:" {
        // One connection that never closes, so the in-memory database lives as long as the pool.
        SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(base.in_memory(true))
            .await?
    } else {
        if let Some(parent) = Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Io {
                path: parent.display().to_string(),
                source,
            })?;
        }
        let db = Path::new(path);
        // Held while the store is open: `rapport restore` refuses meanwhile.
        files::hold_shared(db)?;
        let opened = async {
            // Created 0600 by us before SQLite opens it, whatever the umask.
            files::prepare_database_file(db)?;
            let opts = base
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .pragma("mmap_size", SQLITE_MMAP_BYTES);
            let pool = SqlitePoolOptions::new()
                .max_connections(SQLITE_POOL_SIZE)
                .connect_with(opts)
                .await?;
            SQLITE_MIGRATIONS.run(&pool).await?;
            files::restrict_wal_files(db)?;
            Ok::<_, StoreError>(pool)
        }
        .await;
        match opened {
            Ok(pool) => pool,
            Err(e) => {
                files::release_shared(db);
                return Err(e);
            }
        }
    };
    if path == ":memory:" {
        SQLITE_MIGRATIONS.run(&pool).await?;
    }
    tracing::info!(backend = "sqlite", "store connected and migrated");
    Ok(Store::Sqlite(pool))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &str) -> Vec<String> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(dir);
        let mut v: Vec<String> = std::fs::read_dir(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn the_two_migration_folders_have_identical_file_names() {
        let sqlite = names("sqlite");
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, names("postgres"));
    }

    #[test]
    fn the_embedded_migrators_agree_on_versions_and_names() {
        let a: Vec<_> = SQLITE_MIGRATIONS
            .iter()
            .map(|m| (m.version, m.description.clone()))
            .collect();
        let b: Vec<_> = POSTGRES_MIGRATIONS
            .iter()
            .map(|m| (m.version, m.description.clone()))
            .collect();
        assert_eq!(a, b);
    }

    #[tokio::test]
    async fn an_in_memory_sqlite_store_is_migrated_and_empty() {
        let store = Store::connect("sqlite::memory:").await;
        assert!(store.is_ok(), "{store:?}");
        if let Ok(store) = store {
            let counts = store.counts().await;
            assert!(matches!(counts, Ok(c) if c == crate::EntityCounts::default()));
        }
    }

    #[tokio::test]
    async fn an_unknown_url_scheme_is_refused() {
        assert!(matches!(
            Store::connect("mysql://x").await,
            Err(StoreError::InvalidUrl(_))
        ));
        assert!(matches!(
            Store::connect("sqlite://").await,
            Err(StoreError::InvalidUrl(_))
        ));
    }
}
