//! A throwaway PostgreSQL database for one test, when `RAPPORT_TEST_PG` names
//! a server (an admin URL); created empty, migrated by `Store::connect`, and
//! dropped by [`PgDb::drop`].
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use rapport_store::Store;

pub struct PgDb {
    pub store: Store,
    admin: sqlx::PgPool,
    name: String,
}

/// A fresh database named after `prefix`; None (with a note) without a server.
pub async fn pg_store(prefix: &str) -> Option<PgDb> {
    let Ok(admin_url) = std::env::var("RAPPORT_TEST_PG") else {
        eprintln!("RAPPORT_TEST_PG not set: PostgreSQL {prefix} test skipped");
        return None;
    };
    let name = format!(
        "rapport_{prefix}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    let store = Store::connect(&format!("{base}/{name}")).await.unwrap();
    Some(PgDb { store, admin, name })
}

impl PgDb {
    /// Closes the store and drops the database.
    pub async fn drop(self) {
        self.store.close().await;
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&self.admin)
        .await
        .unwrap();
        self.admin.close().await;
    }
}
