//! The customer list sorted by each of its columns (issue 18): every
//! customer exactly once across the pages whatever the ties, those with a
//! value in the column's order (ties by id), then those without one by id;
//! and the capped count of a page view. On SQLite always and on PostgreSQL
//! when `RAPPORT_TEST_PG` names a server URL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rapport_store::{CustomerFilter, CustomerSort, Scope, Store};
use rapport_testkit::TestDb;
use std::cmp::Ordering;

async fn exec(store: &Store, sql: &str) {
    match store {
        Store::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
        Store::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
    }
    .unwrap();
}

/// One customer of the fixture and the values the list sorts by.
#[derive(Debug, Clone)]
struct Fx {
    id: i64,
    key: Option<String>,
    name: Option<String>,
    branch: Option<String>,
    rm: Option<String>,
    score: Option<f64>,
}

const N: i64 = 41;

/// 41 customers with many ties: five names, two branches, two RMs, four
/// scores; every sixth without a name, every fifth without a branch, every
/// third without an RM, every seventh unscored, every eighth without a key.
/// A customer's first key (lowest id) sorts after its second.
fn fixture() -> (String, Vec<Fx>) {
    let mut sql = String::from(
        "INSERT INTO import_file (id, kind, source, path, sha256, status) VALUES \
         (1, 'customers', 'core', 'c.csv', 'x', 'complete');
         INSERT INTO branch (id, code, name) VALUES (1, 'B1', 'North'), (2, 'B2', 'South');
         INSERT INTO staff_user (id, username, display_name, role, branch_id) VALUES \
         (1, 'rm1', 'Rita', 'rm', 1), (2, 'rm2', 'Sam', 'rm', 2);
         INSERT INTO score_run (id, as_of, started_at, finished_at, scorecard) VALUES \
         (1, '2025-03-01', '2025-03-01T00:00:00Z', '2025-03-01T00:01:00Z', 'v1');\n",
    );
    let names = ["Dora", "Ann", "Cleo", "Bea", "Eve"];
    let scores = [55.5, 80.0, 20.25, 55.5];
    let mut fx = Vec::new();
    // Inserted out of id order, so that the table's order is not the answer.
    for i in (1..=N).rev() {
        let name = (i % 6 != 0).then(|| names[(i as usize * 7) % 5].to_string());
        let branch_id = (i % 5 != 0).then_some(1 + i % 2);
        let rm_id = (i % 3 != 0).then_some(1 + (i / 3) % 2);
        let score = (i % 7 != 0).then(|| scores[(i as usize) % 4]);
        let key = (i % 8 != 0).then(|| format!("K{:03}", (i * 17) % 100));
        sql.push_str(&format!(
            "INSERT INTO customer (id, name, branch_id) VALUES ({i}, {}, {});\n",
            name.as_ref()
                .map_or("NULL".to_string(), |n| format!("'{n}'")),
            branch_id.map_or("NULL".to_string(), |b| b.to_string()),
        ));
        if let Some(k) = &key {
            // The second key sorts first but is not the customer's key.
            sql.push_str(&format!(
                "INSERT INTO customer_source_key (source, source_key, customer_id, fingerprint, import_id) \
                 VALUES ('core', '{k}', {i}, 0, 1), ('core', 'A{i:03}', {i}, 0, 1);\n"
            ));
        }
        if let Some(r) = rm_id {
            sql.push_str(&format!(
                "INSERT INTO rm_assignment (customer_id, staff_user_id, assigned_at) \
                 VALUES ({i}, {r}, '2025-01-01T00:00:00Z');\n"
            ));
        }
        if let Some(s) = score {
            sql.push_str(&format!(
                "INSERT INTO health_score (as_of, customer_id, run_id, score, band, factors) \
                 VALUES ('2025-03-01', {i}, 1, {s}, 'watch', '[]');\n"
            ));
        }
        fx.push(Fx {
            id: i,
            key,
            name,
            branch: branch_id.map(|b| format!("B{b}")),
            rm: rm_id.map(|r| if r == 1 { "Rita" } else { "Sam" }.to_string()),
            score,
        });
    }
    (sql, fx)
}

/// The expected order: with a value by (value, id) in the direction, then
/// without one by id in the direction.
fn expected(fx: &[Fx], sort: CustomerSort, desc: bool) -> Vec<i64> {
    let value = |f: &Fx| -> Option<String> {
        match sort {
            CustomerSort::Id => Some(String::new()),
            CustomerSort::Key => f.key.clone(),
            CustomerSort::Name => f.name.clone(),
            CustomerSort::Branch => f.branch.clone(),
            CustomerSort::Rm => f.rm.clone(),
            CustomerSort::Score => f.score.map(|s| format!("{s:09.3}")),
        }
    };
    let mut with: Vec<(String, i64)> = fx
        .iter()
        .filter_map(|f| value(f).map(|v| (v, f.id)))
        .collect();
    let mut without: Vec<i64> = fx
        .iter()
        .filter(|f| value(f).is_none())
        .map(|f| f.id)
        .collect();
    let flip = |o: Ordering| if desc { o.reverse() } else { o };
    with.sort_by(|a, b| flip(a.cmp(b)));
    without.sort_by(|a, b| flip(a.cmp(b)));
    with.into_iter().map(|x| x.1).chain(without).collect()
}

async fn story(store: &Store) {
    let (sql, fx) = fixture();
    exec(store, &sql).await;
    for sort in [
        CustomerSort::Id,
        CustomerSort::Key,
        CustomerSort::Name,
        CustomerSort::Branch,
        CustomerSort::Rm,
        CustomerSort::Score,
    ] {
        for desc in [false, true] {
            // Pages of 4 (the pages straddle ties and the with/without
            // boundary), and one page past the end.
            let mut seen = Vec::new();
            for page in 1..=12 {
                let p = store
                    .search_customers(
                        &Scope::All,
                        &CustomerFilter {
                            sort,
                            descending: desc,
                            page,
                            per_page: 4,
                            ..CustomerFilter::default()
                        },
                    )
                    .await
                    .unwrap();
                assert_eq!(p.total, N, "{sort:?}");
                if page == 12 {
                    assert!(p.items.is_empty(), "{sort:?} {desc}: past the end");
                }
                seen.extend(p.items.iter().map(|r| r.id));
            }
            assert_eq!(
                seen,
                expected(&fx, sort, desc),
                "{sort:?} descending={desc}"
            );
            // The rows carry the sorted values (the key is the first key).
            if sort == CustomerSort::Key && !desc {
                let p = store
                    .search_customers(
                        &Scope::All,
                        &CustomerFilter {
                            sort,
                            per_page: 3,
                            ..CustomerFilter::default()
                        },
                    )
                    .await
                    .unwrap();
                let keys: Vec<&str> = p.items.iter().map(|r| r.key.as_str()).collect();
                let mut want: Vec<&str> = fx.iter().filter_map(|f| f.key.as_deref()).collect();
                want.sort();
                assert_eq!(keys, want[..3].to_vec());
            }
        }
    }
    // Sorted within a scope and a filter: one branch, by score descending.
    let p = store
        .search_customers(
            &Scope::Branch(2),
            &CustomerFilter {
                sort: CustomerSort::Score,
                descending: true,
                per_page: 100,
                ..CustomerFilter::default()
            },
        )
        .await
        .unwrap();
    let in_branch: Vec<Fx> = fx
        .iter()
        .filter(|f| f.branch.as_deref() == Some("B2"))
        .cloned()
        .collect();
    assert_eq!(
        p.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        expected(&in_branch, CustomerSort::Score, true)
    );
    assert_eq!(p.total, in_branch.len() as i64);

    // A page view counts up to its limit and one more ("more than 10").
    let capped = |count_limit: i64| CustomerFilter {
        count_limit,
        per_page: 4,
        ..CustomerFilter::default()
    };
    let p = store
        .search_customers(&Scope::All, &capped(10))
        .await
        .unwrap();
    assert_eq!((p.total, p.items.len()), (11, 4));
    let p = store
        .search_customers(&Scope::All, &capped(N))
        .await
        .unwrap();
    assert_eq!(p.total, N, "a limit at the size counts exactly");
    let p = store
        .search_customers(&Scope::All, &capped(0))
        .await
        .unwrap();
    assert_eq!(p.total, N, "no limit counts all");

    assert_eq!(CustomerSort::parse("band"), Some(CustomerSort::Score));
    assert_eq!(CustomerSort::parse("x; DROP TABLE customer"), None);
    for s in ["id", "key", "name", "branch", "rm", "score"] {
        assert_eq!(CustomerSort::parse(s).unwrap().name(), s);
    }
}

#[tokio::test]
async fn customer_sort_on_sqlite() {
    let db = TestDb::sqlite().await;
    story(&db.store).await;
    db.drop().await;
}

#[tokio::test]
async fn customer_sort_on_postgres() {
    let Some(db) = TestDb::postgres("customer_sort").await else {
        return;
    };
    story(&db.store).await;
    db.drop().await;
}
