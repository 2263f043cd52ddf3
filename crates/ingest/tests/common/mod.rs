//! Test stores: every storage test runs on a fresh SQLite file, and also on a
//! fresh PostgreSQL database when `RAPPORT_TEST_PG` holds a server admin URL
//! (e.g. `postgres://rapport@127.0.0.1:5433/postgres`). Each PostgreSQL
//! database is created for one test and dropped when the test ends, passed or not.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use rapport_store::Store;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// One store for one test on one backend.
pub struct TestStore {
    pub store: Store,
    /// `sqlite` or `postgres`, for assertion messages.
    pub backend: &'static str,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<PgDatabase>,
}

/// The stores a storage test runs on: SQLite always, PostgreSQL when configured.
pub async fn stores(test: &str) -> Vec<TestStore> {
    let mut out = vec![sqlite().await];
    if let Some(pg) = postgres(test).await {
        out.push(pg);
    }
    out
}

pub async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/r.db", dir.path().display());
    let store = Store::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"));
    TestStore {
        store,
        backend: "sqlite",
        _dir: Some(dir),
        _pg: None,
    }
}

/// A database on the PostgreSQL server of `RAPPORT_TEST_PG`, dropped on drop.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin = self.admin_url.clone();
        let name = self.name.clone();
        // A fresh runtime on its own thread: drop may run inside or outside one.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&mut c)
                            .await;
                    let _ = c.close().await;
                }
            });
        })
        .join();
    }
}

fn with_database(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{root}/{name}{query}")
}

pub async fn postgres(test: &str) -> Option<TestStore> {
    let admin = std::env::var("RAPPORT_TEST_PG")
        .ok()
        .filter(|s| !s.trim().is_empty())?;
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let tag: String = test
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let name = format!(
        "rapport_ingest_{}_{}_{}",
        &tag[..tag.len().min(30)],
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst)
    );
    {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("RAPPORT_TEST_PG={admin}: cannot connect: {e}"));
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut c)
            .await
            .expect("create database");
        c.close().await.ok();
    }
    let guard = PgDatabase {
        admin_url: admin.clone(),
        name: name.clone(),
    };
    let url = with_database(&admin, &name);
    let store = Store::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"));
    Some(TestStore {
        store,
        backend: "postgres",
        _dir: None,
        _pg: Some(guard),
    })
}

/// `crates/ingest/tests/data/…`
pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

/// Options with small batches, so that batching is exercised by the samples.
pub fn opts() -> rapport_ingest::ImportOptions {
    rapport_ingest::ImportOptions {
        batch_size: 7,
        ..Default::default()
    }
}
