//! The customer list sorted by its columns (issue 18): the column headings
//! link to the sort and flip its direction, the rows come in the column's
//! order in both directions and stay in it from one page to the next, the
//! CSV export holds the filtered list in the same order, and a bad sort or
//! page falls back instead of failing — on SQLite and on PostgreSQL
//! (`RAPPORT_TEST_PG`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use rapport_store::{CustomerFilter, CustomerSort, Scope};

/// The customer keys of a list page, in order.
fn keys(page: &str) -> Vec<String> {
    page.split("class=\"customer-link\" href=\"/customers/")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .collect()
}

/// The health scores of a list page, in order (a row without one is None).
fn scores(page: &str) -> Vec<Option<f64>> {
    let table = page.split("id=\"customer-results\"").nth(1).unwrap();
    table
        .split("<tr>")
        .skip(2)
        .map(|row| {
            row.split("<td class=\"num\">")
                .nth(1)
                .unwrap()
                .split('<')
                .next()
                .unwrap()
                .trim()
                .parse()
                .ok()
        })
        .collect()
}

async fn story(pg: bool) {
    let Some(b) = common::bank(pg, 300).await else {
        return;
    };
    // The store's order for a sort, as keys (the ground truth is the column).
    let store_keys = |sort: CustomerSort, desc: bool, page: i64| {
        let store = b.store.clone();
        async move {
            store
                .search_customers(
                    &Scope::All,
                    &CustomerFilter {
                        sort,
                        descending: desc,
                        page,
                        per_page: 50,
                        ..CustomerFilter::default()
                    },
                )
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|r| common::enc(&r.key))
                .collect::<Vec<_>>()
        }
    };

    // By score, highest first: the scores shown never rise, across two pages.
    let (s, p1) = b.get_as(&b.mgr_hq, "/customers?sort=score&dir=desc").await;
    assert_eq!(s, 200, "{p1}");
    let (s, p2) = b
        .get_as(&b.mgr_hq, "/customers?sort=score&dir=desc&page=2")
        .await;
    assert_eq!(s, 200);
    let shown: Vec<f64> = scores(&p1)
        .into_iter()
        .chain(scores(&p2))
        .map(|x| x.expect("every customer of the bank is scored"))
        .collect();
    assert_eq!(shown.len(), 100);
    assert!(
        shown.windows(2).all(|w| w[0] >= w[1]),
        "scores descending: {shown:?}"
    );
    let (k1, k2) = (keys(&p1), keys(&p2));
    assert_eq!(k1, store_keys(CustomerSort::Score, true, 1).await);
    assert!(
        k1.iter().all(|k| !k2.contains(k)),
        "no customer on both pages"
    );
    // The heading of the sorted column flips the direction; the next page keeps the sort.
    assert!(
        p1.contains("href=\"/customers?sort=score&#38;dir=asc\""),
        "{p1}"
    );
    assert!(p1.contains("href=\"/customers?page=2&#38;sort=score&#38;dir=desc\""));

    // Ascending: the lowest first.
    let (_, up) = b.get_as(&b.mgr_hq, "/customers?sort=score&dir=asc").await;
    let up: Vec<f64> = scores(&up).into_iter().map(Option::unwrap).collect();
    assert!(up.windows(2).all(|w| w[0] <= w[1]), "{up:?}");
    assert!(up[0] <= *shown.last().unwrap());

    // By key, by name, by branch, by RM, both ways: the store's order,
    // which the store tests check against the column itself.
    for sort in ["key", "name", "branch", "rm"] {
        for desc in [false, true] {
            let dir = if desc { "desc" } else { "asc" };
            let (s, page) = b
                .get_as(
                    &b.mgr_hq,
                    &format!("/customers?sort={sort}&dir={dir}&page=3"),
                )
                .await;
            assert_eq!(s, 200, "{sort} {dir}");
            assert_eq!(
                keys(&page),
                store_keys(CustomerSort::parse(sort).unwrap(), desc, 3).await,
                "{sort} {dir}"
            );
        }
    }
    // The keys shown when sorted by key ascending are in order.
    let (_, by_key) = b.get_as(&b.mgr_hq, "/customers?sort=key").await;
    let k = keys(&by_key);
    assert!(k.windows(2).all(|w| w[0] <= w[1]), "{k:?}");

    // The CSV export: the filtered list in the page's order.
    let (s, csv) = b
        .get_as(
            &b.mgr_hq,
            "/customers?band=watch&sort=score&dir=desc&format=csv",
        )
        .await;
    assert_eq!(s, 200);
    let rows: Vec<Vec<String>> =
        csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect();
    let watch = b
        .store
        .search_customers(
            &Scope::All,
            &CustomerFilter {
                band: Some("watch".into()),
                ..CustomerFilter::default()
            },
        )
        .await
        .unwrap()
        .total;
    assert!(watch > 0);
    assert_eq!(rows.len() as i64, watch, "every customer of the filter");
    let csv_scores: Vec<f64> = rows.iter().map(|r| r[5].parse().unwrap()).collect();
    assert!(
        csv_scores.windows(2).all(|w| w[0] >= w[1]),
        "{csv_scores:?}"
    );

    // The count of a list this small is exact.
    let (_, all) = b.get_as(&b.mgr_hq, "/customers").await;
    let total = b
        .store
        .search_customers(&Scope::All, &CustomerFilter::default())
        .await
        .unwrap()
        .total;
    assert!(
        all.contains(&format!("id=\"customers-total\">{total} ")),
        "{total}"
    );

    // A sort that is not a column, a bad direction or page: the default list.
    let (s, bad) = b
        .get_as(
            &b.mgr_hq,
            "/customers?sort=evil%3Bdrop&dir=sideways&page=abc",
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(keys(&bad), keys(&all));

    // In English too.
    b.store.set_user_language(b.mgr_hq.id, "en").await.unwrap();
    let (_, en) = b.get_as(&b.mgr_hq, "/customers?sort=name").await;
    assert!(en.contains(">Health score</a>"), "{en}");
    assert!(en.contains(&format!(">{total} customers")), "{en}");
    b.cleanup().await;
}

#[tokio::test]
async fn customer_list_sorts_on_sqlite() {
    story(false).await;
}

#[tokio::test]
async fn customer_list_sorts_on_postgres() {
    story(true).await;
}
