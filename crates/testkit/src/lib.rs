//! Test support shared by the integration tests of every crate (a
//! dev-dependency only, never linked into the binary):
//!
//! - [`TestDb`]: a throwaway store, SQLite in a temporary directory or, when
//!   `RAPPORT_TEST_PG` names a PostgreSQL server (an admin URL ending in
//!   `/DATABASE`), a fresh database on it, dropped by [`TestDb::drop`];
//! - [`Backend`]: which of the two a test asks for, so one test body runs on
//!   both.
//!
//! Panics are the failure mode here: a test that cannot get its database
//! fails with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rapport_store::Store;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// The store backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// SQLite always; PostgreSQL too when `RAPPORT_TEST_PG` is set.
    pub fn available() -> Vec<Backend> {
        let mut v = vec![Backend::Sqlite];
        if pg_admin_url().is_some() {
            v.push(Backend::Postgres);
        }
        v
    }
}

/// The PostgreSQL admin URL from `RAPPORT_TEST_PG`, if set and non-empty.
pub fn pg_admin_url() -> Option<String> {
    std::env::var("RAPPORT_TEST_PG")
        .ok()
        .filter(|s| !s.trim().is_empty())
}

/// A throwaway, migrated store and the temporary directory beside it (for
/// files a test writes). Drop it with [`TestDb::drop`] so a PostgreSQL
/// database does not outlive the test.
pub struct TestDb {
    pub store: Store,
    /// The store's URL (for a CLI run against the same store).
    pub url: String,
    dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl TestDb {
    /// A fresh SQLite store in a temporary directory.
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let store = Store::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
        TestDb {
            store,
            url,
            dir,
            pg: None,
        }
    }

    /// A fresh PostgreSQL database named after `prefix`; None (with a note on
    /// stderr) when `RAPPORT_TEST_PG` is not set.
    pub async fn postgres(prefix: &str) -> Option<TestDb> {
        let Some(admin) = pg_admin_url() else {
            eprintln!("RAPPORT_TEST_PG not set: the PostgreSQL {prefix} test is skipped");
            return None;
        };
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let prefix: String = prefix
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
            .collect();
        let name = format!(
            "rapport_{prefix}_{}_{nanos}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let pool = sqlx::PgPool::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("connecting to RAPPORT_TEST_PG: {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
        pool.close().await;
        let (base, _) = admin
            .rsplit_once('/')
            .expect("RAPPORT_TEST_PG must end in /DATABASE");
        let url = format!("{base}/{name}");
        let store = Store::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("opening {name}: {e}"));
        Some(TestDb {
            store,
            url,
            dir: tempfile::tempdir().expect("a temporary directory"),
            pg: Some((admin, name)),
        })
    }

    /// The store on `backend` (None: PostgreSQL asked for but not configured).
    pub async fn on(backend: Backend, prefix: &str) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => Some(TestDb::sqlite().await),
            Backend::Postgres => TestDb::postgres(prefix).await,
        }
    }

    /// The temporary directory beside the store.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A path inside the temporary directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Whether this is the PostgreSQL store.
    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    /// Closes the store and drops the PostgreSQL database, if any.
    pub async fn drop(self) {
        self.store.close().await;
        if let Some((admin, name)) = &self.pg {
            let pool = sqlx::PgPool::connect(admin)
                .await
                .unwrap_or_else(|e| panic!("connecting to RAPPORT_TEST_PG: {e}"));
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&pool)
                .await
                .unwrap_or_else(|e| panic!("dropping database {name}: {e}"));
            pool.close().await;
        }
    }
}
