//! Test support shared by the integration tests of every crate (a
//! dev-dependency only, never linked into the binary):
//!
//! - [`TestDb`]: a throwaway store, SQLite in a temporary directory or, when
//!   `RAPPORT_TEST_PG` names a PostgreSQL server (an admin URL ending in
//!   `/DATABASE`), a fresh database on it, dropped by [`TestDb::drop`];
//! - [`Backend`]: which of the two a test asks for, so one test body runs on
//!   both;
//! - [`cli::Rapport`]: the one runner for the `rapport` binary, with every
//!   `RAPPORT_*` variable cleared.
//!
//! Panics are the failure mode here: a test that cannot get its database
//! fails with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod cli;

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

    /// `sqlite` or `postgres`, for assertion messages.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
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
/// database does not outlive the test; one that is only dropped (a test that
/// panicked, or never called [`TestDb::drop`]) is dropped from a helper
/// thread as a fallback.
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
        TestDb::sqlite_at("test.db").await
    }

    /// A fresh SQLite store at `name`, a path relative to a new temporary
    /// directory (parent directories in `name` are left to `Store::connect`
    /// to create).
    pub async fn sqlite_at(name: &str) -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join(name).display());
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
        let mut prefix: String = prefix
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        // Short enough that the name stays within PostgreSQL's 63 bytes.
        prefix.truncate(24);
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
        let url = with_database(&admin, &name);
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

    /// The backend of this store.
    pub fn backend(&self) -> Backend {
        if self.is_postgres() {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    /// Closes the store and drops the PostgreSQL database, if any.
    pub async fn drop(mut self) {
        self.store.close().await;
        if let Some((admin, name)) = self.pg.take() {
            let pool = sqlx::PgPool::connect(&admin)
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

impl Drop for TestDb {
    /// The fallback for a PostgreSQL database not dropped by
    /// [`TestDb::drop`]: dropped on a runtime of its own on a helper thread
    /// (this may run inside or outside a runtime), errors ignored.
    fn drop(&mut self) {
        let Some((admin, name)) = self.pg.take() else {
            return;
        };
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut c)
                        .await;
                    let _ = c.close().await;
                }
            });
        })
        .join();
    }
}

/// `admin` (`scheme://user@host:port/DATABASE?options`) with its database
/// replaced by `name`, options kept.
fn with_database(admin: &str, name: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{root}/{name}{query}")
}

/// The generated-bank fixture: a synthetic bank of `customers` customers
/// (seeded, so every run is the same bank) written under the test's
/// directory and loaded into its store through the importers, as `rapport
/// demo` does. Returns the generator's settings (its `source`, its dates).
pub async fn generated_bank(
    db: &TestDb,
    customers: u64,
    seed: u64,
) -> rapport_ingest::synth::GenConfig {
    let g = rapport_ingest::synth::GenConfig {
        customers,
        seed,
        ..Default::default()
    };
    let dir = db.path("bank");
    std::fs::create_dir_all(&dir).expect("the bank's directory");
    rapport_ingest::synth::generate(&g, &dir, &|_| {})
        .unwrap_or_else(|e| panic!("generating a bank of {customers}: {e}"));
    rapport_ingest::load_generated(&db.store, &dir, &g.source, &Default::default())
        .await
        .unwrap_or_else(|e| panic!("loading the generated bank: {e}"));
    g
}
