//! Test stores: every storage test runs on a fresh SQLite file, and also on a
//! fresh PostgreSQL database when `RAPPORT_TEST_PG` holds a server admin URL
//! (e.g. `postgres://rapport@127.0.0.1:5433/postgres`), both from
//! `rapport_testkit::TestDb`. Each PostgreSQL database is created for one
//! test and dropped when the test ends, passed or not.

#![allow(dead_code)]

use rapport_testkit::{Backend, TestDb};
use std::path::PathBuf;

/// The stores a storage test runs on: SQLite always, PostgreSQL when configured.
pub async fn stores(test: &str) -> Vec<TestDb> {
    let mut out = Vec::new();
    for backend in Backend::available() {
        if let Some(db) = TestDb::on(backend, test).await {
            out.push(db);
        }
    }
    out
}

/// A fresh SQLite store.
pub async fn sqlite() -> TestDb {
    TestDb::sqlite().await
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
