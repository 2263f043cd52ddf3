//! The columnar analytical copy (issue 19, ADR 0004) on a generated bank, on
//! SQLite and (with `RAPPORT_TEST_PG`) PostgreSQL: rebuilt from the store it
//! agrees with it month by month; the features read from it equal the
//! features read from the store for every customer; appends carry an
//! import's transactions; a store that moved makes the check fail and
//! scoring fall back to the store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use rapport_analytics::columnar::Manifest;
use rapport_analytics::{FeatureEngine, FeatureTable};
use rapport_services::access::Actor;
use rapport_services::analytics_copy::{append, check, feature_source, rebuild};
use rapport_store::Store;
use rapport_testkit::{generated_bank, Backend, TestDb};

fn same_features(a: &FeatureTable, b: &FeatureTable, what: &str) {
    assert_eq!(a.customer_ids, b.customer_ids, "{what}: customers");
    assert_eq!(a.columns.len(), b.columns.len(), "{what}: columns");
    for (ca, cb) in a.columns.iter().zip(&b.columns) {
        assert_eq!(ca.name, cb.name);
        for (row, (va, vb)) in ca.values.iter().zip(&cb.values).enumerate() {
            assert_eq!(
                va, vb,
                "{what}: {} of customer {}",
                ca.name, a.customer_ids[row]
            );
        }
    }
}

async fn delete_last_transaction(store: &Store) {
    let sql = "DELETE FROM txn WHERE id = (SELECT MAX(id) FROM txn)";
    match store {
        Store::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        Store::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
    }
    .unwrap();
}

#[tokio::test]
async fn the_copy_agrees_with_the_store_and_gives_the_same_features() {
    for backend in Backend::available() {
        let Some(db) = TestDb::on(backend, "analytics_copy").await else {
            continue;
        };
        let g = generated_bank(&db, 250, 19).await;
        let store = &db.store;
        let dir = db.path("analytics");
        let system = Actor::system("test");

        // Rebuilt: every month agrees, and there are many months.
        let w = rebuild(store, &system, &dir).await.unwrap();
        let mark = store.txn_watermark().await.unwrap();
        assert!(w.rows > 1000, "{backend}: {w:?}");
        assert_eq!(w.rows as i64, mark.rows, "{backend}");
        let c = check(store, &dir).await.unwrap();
        assert!(c.agrees, "{backend}: {c:?}");
        assert!(c.months.len() > 6, "{backend}: {} months", c.months.len());
        assert!(dir.join("manifest.json").exists() && dir.join("customers.json").exists());
        let first = &c.months[0].month;
        assert!(dir.join(format!("transactions/month={first}")).is_dir());

        // Features from the copy == features from the store, at a month's
        // end, mid-month (pruning cuts into a partition) and the last day.
        let (source, from) = feature_source(store, Some(&dir)).await.unwrap();
        assert!(source.is_some(), "{backend}: {from}");
        let mid = g.start + (g.end - g.start) / 2;
        let dates = [
            NaiveDate::from_ymd_opt(2024, 7, 1).unwrap().max(g.start),
            mid,
            g.end,
        ];
        for as_of in dates {
            let from_store = FeatureEngine::new(store).compute(as_of).await.unwrap();
            let from_copy = FeatureEngine::new(store)
                .with_columnar(source.clone())
                .with_chunk_rows(997)
                .compute(as_of)
                .await
                .unwrap();
            assert!(from_store.len() > 200);
            same_features(&from_store, &from_copy, &format!("{backend} as of {as_of}"));
        }

        // Appending everything to an empty copy gives the same copy; a
        // second append adds nothing.
        let dir2 = db.path("appended");
        std::fs::create_dir_all(&dir2).unwrap();
        Manifest::empty().save(&dir2).unwrap();
        let a = append(store, &system, &dir2).await.unwrap().unwrap();
        assert_eq!(a.rows, w.rows, "{backend}");
        let again = append(store, &system, &dir2).await.unwrap().unwrap();
        assert_eq!((again.rows, again.total_rows), (0, w.rows), "{backend}");
        assert!(check(store, &dir2).await.unwrap().agrees, "{backend}");
        // No copy: append writes nothing.
        assert!(append(store, &system, &db.path("none"))
            .await
            .unwrap()
            .is_none());

        // The store moves: the check fails on the month that changed and
        // scoring reads the store, saying why.
        delete_last_transaction(store).await;
        let c = check(store, &dir).await.unwrap();
        assert!(!c.agrees, "{backend}");
        let bad: Vec<_> = c.months.iter().filter(|m| !m.agrees).collect();
        assert_eq!(bad.len(), 1, "{backend}: {bad:?}");
        assert_eq!(bad[0].store_rows + 1, bad[0].copy_rows);
        let (source, from) = feature_source(store, Some(&dir)).await.unwrap();
        assert!(source.is_none() && from.contains("not current"), "{from}");
        // Rebuilt, it agrees again.
        rebuild(store, &system, &dir).await.unwrap();
        assert!(check(store, &dir).await.unwrap().agrees, "{backend}");
        db.drop().await;
    }
}
