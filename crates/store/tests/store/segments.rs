//! Saved segments and memberships (`Store::upsert_segment`,
//! `replace_segment_membership`, …): the same story on SQLite always and on
//! PostgreSQL when `RAPPORT_TEST_PG` names a server URL (a fresh database per
//! test, dropped afterwards).

use chrono::NaiveDate;
use rapport_store::{Store, StoreError};
use rapport_testkit::TestDb;
use std::time::Instant;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn day(y: i32, m: u32, d: u32) -> Result<NaiveDate, Box<dyn std::error::Error>> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| format!("bad date {y}-{m}-{d}").into())
}

/// Inserts customers with ids 1..=count (names only; memberships need the ids to exist).
async fn insert_customers(store: &Store, count: i64) -> TestResult {
    match store {
        Store::Sqlite(p) => {
            sqlx::query(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) \
                 INSERT INTO customer (id, name) SELECT i, 'customer' FROM n",
            )
            .bind(count)
            .execute(p)
            .await?;
        }
        Store::Postgres(p) => {
            sqlx::query(
                "INSERT INTO customer (id, name) OVERRIDING SYSTEM VALUE \
                 SELECT g, 'customer' FROM generate_series(1::BIGINT, $1) AS g",
            )
            .bind(count)
            .execute(p)
            .await?;
        }
    }
    Ok(())
}

async fn with_each_backend<F, Fut>(label: &str, run: F) -> TestResult
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = TestResult>,
{
    let db = TestDb::sqlite().await;
    run(db.url.clone()).await?;
    db.drop().await;
    if let Some(db) = TestDb::postgres(label).await {
        let outcome = run(db.url.clone()).await;
        db.drop().await;
        outcome?;
    }
    Ok(())
}

#[tokio::test]
async fn segments_and_memberships_round_trip_and_replace_by_date() -> TestResult {
    with_each_backend("segments story", |url| async move { story(&url).await }).await
}

#[tokio::test]
async fn a_large_membership_spanning_several_insert_blocks_is_written_and_replaced() -> TestResult {
    with_each_backend(
        "many members",
        |url| async move { many_members(&url).await },
    )
    .await
}

async fn story(url: &str) -> TestResult {
    let store = Store::connect(url).await?;
    insert_customers(&store, 10).await?;
    let january = day(2026, 1, 31)?;
    let february = day(2026, 2, 28)?;

    // Upsert by code: a second upsert keeps the id and updates the text.
    let travel = store
        .upsert_segment(
            "holiday:national_day:2026:travel",
            "holiday",
            "Travellers",
            "draft",
            "",
        )
        .await?;
    let same = store
        .upsert_segment(
            "holiday:national_day:2026:travel",
            "holiday",
            "Holiday travellers",
            "travel spending in a past National Day window",
            "Customers who travel over the holiday",
        )
        .await?;
    assert_eq!(travel, same);
    let affluent = store
        .upsert_segment("tier:affluent", "tier", "Affluent", "aum >= 50000", "")
        .await?;
    assert_ne!(travel, affluent);

    let segments = store.segments().await?;
    let codes: Vec<&str> = segments.iter().map(|s| s.code.as_str()).collect();
    assert_eq!(codes, ["holiday:national_day:2026:travel", "tier:affluent"]);
    let first = segments.first().ok_or("no segment")?;
    assert_eq!(first.id, travel);
    assert_eq!(first.kind, "holiday");
    assert_eq!(first.name, "Holiday travellers");
    assert_eq!(
        first.definition,
        "travel spending in a past National Day window"
    );
    assert_eq!(first.description, "Customers who travel over the holiday");

    // Memberships at two dates; duplicates are stored once.
    assert_eq!(
        store
            .replace_segment_membership(travel, january, &[3, 1, 2, 3])
            .await?,
        3
    );
    store
        .replace_segment_membership(affluent, january, &[5, 6])
        .await?;
    store
        .replace_segment_membership(travel, february, &[7])
        .await?;
    assert_eq!(
        store
            .segment_members("holiday:national_day:2026:travel", january)
            .await?,
        [1, 2, 3]
    );
    assert_eq!(
        store
            .segment_members("holiday:national_day:2026:travel", february)
            .await?,
        [7]
    );

    // Replacing one segment at one date leaves other segments and dates alone.
    store
        .replace_segment_membership(travel, january, &[4, 9])
        .await?;
    assert_eq!(
        store
            .segment_members("holiday:national_day:2026:travel", january)
            .await?,
        [4, 9]
    );
    assert_eq!(
        store.segment_members("tier:affluent", january).await?,
        [5, 6]
    );
    assert_eq!(
        store
            .segment_members("holiday:national_day:2026:travel", february)
            .await?,
        [7]
    );
    assert_eq!(
        store.segment_members("tier:affluent", february).await?,
        Vec::<i64>::new()
    );

    // An unknown code is NotFound, not an empty segment.
    match store.segment_members("no_such_segment", january).await {
        Err(StoreError::NotFound(what)) => assert!(what.contains("no_such_segment")),
        other => return Err(format!("expected NotFound, got {other:?}").into()),
    }

    let sizes = store.segment_sizes(january).await?;
    assert_eq!(
        sizes,
        [
            (
                "holiday:national_day:2026:travel".to_string(),
                "holiday".to_string(),
                "Holiday travellers".to_string(),
                2
            ),
            (
                "tier:affluent".to_string(),
                "tier".to_string(),
                "Affluent".to_string(),
                2
            ),
        ]
    );

    assert_eq!(
        store.memberships_at(january).await?,
        [(travel, 4), (travel, 9), (affluent, 5), (affluent, 6)]
    );

    // The latest membership date on or before a day.
    assert_eq!(
        store.latest_membership_as_of(day(2026, 1, 30)?).await?,
        None
    );
    assert_eq!(store.latest_membership_as_of(january).await?, Some(january));
    assert_eq!(
        store.latest_membership_as_of(day(2026, 2, 27)?).await?,
        Some(january)
    );
    assert_eq!(
        store.latest_membership_as_of(day(2027, 1, 1)?).await?,
        Some(february)
    );

    // Emptying a membership removes its rows.
    store
        .replace_segment_membership(travel, february, &[])
        .await?;
    assert_eq!(
        store.latest_membership_as_of(day(2027, 1, 1)?).await?,
        Some(january)
    );
    store.close().await;
    Ok(())
}

/// Enough members to span several insert blocks on both backends (the
/// write speed itself is measured by benchmarks, not asserted here).
async fn many_members(url: &str) -> TestResult {
    const MEMBERS: i64 = 120_000;
    let store = Store::connect(url).await?;
    insert_customers(&store, MEMBERS).await?;
    let everyone = store
        .upsert_segment("all_customers", "rule", "Everyone", "true", "")
        .await?;
    let as_of = day(2026, 6, 30)?;
    let ids: Vec<i64> = (1..=MEMBERS).rev().collect();

    let started = Instant::now();
    let stored = store
        .replace_segment_membership(everyone, as_of, &ids)
        .await?;
    let first_write = started.elapsed();
    let started = Instant::now();
    store
        .replace_segment_membership(everyone, as_of, &ids[..MEMBERS as usize / 2])
        .await?;
    let replace = started.elapsed();
    eprintln!(
        "{:?}: {MEMBERS} members written in {first_write:?}, half replaced in {replace:?}",
        store.backend()
    );

    assert_eq!(stored, MEMBERS as u64);
    let sizes = store.segment_sizes(as_of).await?;
    assert_eq!(sizes.first().map(|s| s.3), Some(MEMBERS / 2));
    let members = store.segment_members("all_customers", as_of).await?;
    assert_eq!(members.first(), Some(&(MEMBERS / 2 + 1)));
    assert_eq!(members.last(), Some(&MEMBERS));
    store.close().await;
    Ok(())
}
