//! Segments (issue 18): the list shows each segment's size — the store's
//! member count at its latest membership date, not 0 — and that date; names
//! and descriptions in the viewer's language; a segment's member list is
//! paged by keyset (`?after=<last id>`) within the viewer's scope and
//! exported as CSV — on SQLite and on PostgreSQL (`RAPPORT_TEST_PG`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

fn cell<'a>(row: &'a str, class: &str) -> &'a str {
    row.split(&format!("class=\"{class}\">"))
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
}

async fn story(pg: bool) {
    let Some(b) = common::bank(pg, 300).await else {
        return;
    };
    let (s, page) = b.get_as(&b.mgr_hq, "/segments").await;
    assert_eq!(s, 200, "{page}");
    let segments = b.store.segments().await.unwrap();
    assert!(!segments.is_empty());
    let latest = b
        .store
        .latest_membership_as_of(chrono::NaiveDate::from_ymd_opt(9999, 12, 31).unwrap())
        .await
        .unwrap()
        .expect("scored segments");
    assert!(page.contains(&latest.to_string()), "the date is shown");
    let mut non_zero = 0;
    for seg in &segments {
        let at = page
            .find(&format!("<tr data-segment=\"{}\">", seg.code))
            .unwrap_or_else(|| panic!("{} listed", seg.code));
        let row = &page[at..];
        let row = &row[..row.find("</tr>").unwrap()];
        let as_of = cell(row, "as-of");
        let shown: i64 = cell(row, "num size").parse().unwrap();
        if as_of.is_empty() {
            // Never had members: 0, and none at the latest date either.
            assert_eq!(shown, 0, "{}", seg.code);
            assert!(b
                .store
                .segment_members(&seg.code, latest)
                .await
                .unwrap()
                .is_empty());
            continue;
        }
        let date = chrono::NaiveDate::parse_from_str(as_of, "%Y-%m-%d")
            .unwrap_or_else(|_| panic!("{}: a date, got {as_of:?}", seg.code));
        let members = b.store.segment_members(&seg.code, date).await.unwrap();
        assert_eq!(shown, members.len() as i64, "{}", seg.code);
        if shown > 0 {
            non_zero += 1;
        }
    }
    assert!(non_zero > 0, "segments have members");
    // Names in the viewer's language: the tiers in Chinese by default.
    if segments.iter().any(|s| s.code == "tier:mass") {
        assert!(page.contains("大众客户"));
    }

    // The member list of the biggest segment, by keyset, within scope.
    let (code, size) = segments
        .iter()
        .map(|s| {
            let at = page
                .find(&format!("<tr data-segment=\"{}\">", s.code))
                .unwrap();
            let row = &page[at..];
            let row = &row[..row.find("</tr>").unwrap()];
            (
                s.code.clone(),
                cell(row, "num size").parse::<i64>().unwrap(),
            )
        })
        .max_by_key(|x| x.1)
        .unwrap();
    let path = format!("/segments/{}", common::enc(&code));
    let (s, first) = b.get_as(&b.mgr_hq, &path).await;
    assert_eq!(s, 200, "{first}");
    let rows = first.matches("<tr><td><a href=\"/customers/").count() as i64;
    assert_eq!(rows, size.min(100));
    if size > 100 {
        let next = first
            .split("id=\"seg-next\"")
            .next()
            .unwrap()
            .rsplit("href=\"")
            .next()
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .replace("&amp;", "&");
        let (s, second) = b.get_as(&b.mgr_hq, &next).await;
        assert_eq!(s, 200);
        let rows2 = second.matches("<tr><td><a href=\"/customers/").count() as i64;
        assert_eq!(rows2, (size - 100).min(100));
    }
    // CSV: every member in the head office's scope, one line each.
    let (s, csv) = b.get_as(&b.mgr_hq, &format!("{path}?format=csv")).await;
    assert_eq!(s, 200);
    assert_eq!(csv.lines().count() as i64, size + 1);
    // An RM sees only their own customers among the members.
    let (s, own) = b.get_as(&b.rm_a, &format!("{path}?format=csv")).await;
    assert_eq!(s, 200);
    assert!((own.lines().count() as i64) < size + 1);
    // An unknown segment is 404; a bad cursor is the first page.
    let (s, _) = b.get_as(&b.mgr_hq, "/segments/no-such-segment").await;
    assert_eq!(s, 404);
    let (s, again) = b.get_as(&b.mgr_hq, &format!("{path}?after=abc")).await;
    assert_eq!(s, 200);
    assert_eq!(
        again.matches("<tr><td><a href=\"/customers/").count() as i64,
        rows
    );
    b.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segment_sizes_and_members_on_sqlite() {
    story(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segment_sizes_and_members_on_postgres() {
    story(true).await;
}
