//! Part-of-name search from the name grams (migration 0023): on a generated
//! bank, for many parts of names — Chinese of one, two and three
//! characters, Latin in mixed case, wildcards — the customer search returns
//! exactly what the plain `LOWER(name) LIKE '%…%'` over the customer table
//! returns (same rows, same order, same count, the same capped count), under
//! the whole bank, a branch and one RM's book; and stays so after every
//! write of a name: customers imported, a name filled by a merge, a name
//! edited, a customer erased, a customer deleted. On SQLite always and on
//! PostgreSQL when `RAPPORT_TEST_PG` names a server URL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use rapport_domain::identity::MergeRule;
use rapport_domain::CustomerRecord;
use rapport_store::{
    CustomerFilter, FileSummary, ImportFile, ImportStart, Scope, SearchMatch, Store,
};
use rapport_testkit::{Backend, TestDb};

async fn exec(store: &Store, sql: &str) {
    match store {
        Store::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
        Store::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
    }
    .unwrap();
}

async fn ids(store: &Store, sql: &str) -> Vec<i64> {
    match store {
        Store::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await,
        Store::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await,
    }
    .unwrap()
}

async fn texts(store: &Store, sql: &str) -> Vec<String> {
    match store {
        Store::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await,
        Store::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await,
    }
    .unwrap()
}

/// A SQL string literal.
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The customers in `scope` whose name holds `q` by the plain LIKE, by id.
async fn by_like(store: &Store, scope: Scope, q: &str) -> Vec<i64> {
    let escaped = q
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let scope = match scope {
        Scope::All => "TRUE".to_string(),
        Scope::Branch(b) => format!("c.branch_id = {b}"),
        Scope::Rm(s) => format!(
            "EXISTS (SELECT 1 FROM rm_assignment a WHERE a.customer_id = c.id \
             AND a.staff_user_id = {s})"
        ),
        Scope::Nothing => "FALSE".to_string(),
    };
    ids(
        store,
        &format!(
            "SELECT c.id FROM customer c WHERE {scope} AND LOWER(c.name) LIKE {} ESCAPE '\\' \
             ORDER BY c.id",
            lit(&format!("%{escaped}%"))
        ),
    )
    .await
}

fn name_part(q: &str, page: i64, count_limit: i64) -> CustomerFilter {
    CustomerFilter {
        q: Some(q.into()),
        matching: SearchMatch {
            name_part: true,
            ..SearchMatch::default()
        },
        page,
        per_page: 200,
        count_limit,
        ..CustomerFilter::default()
    }
}

/// Every page of the search for `q` in `scope`, and its total.
async fn searched(store: &Store, scope: Scope, q: &str) -> (Vec<i64>, i64) {
    let mut found = Vec::new();
    let mut page = 1;
    loop {
        let p = store
            .search_customers(&scope, &name_part(q, page, 0))
            .await
            .unwrap_or_else(|e| panic!("searching {q:?}: {e}"));
        let n = p.items.len();
        found.extend(p.items.iter().map(|r| r.id));
        if n < 200 {
            return (found, p.total);
        }
        page += 1;
    }
}

/// The search for each of `queries` in `scope` equals the plain LIKE; returns
/// how many queries matched somebody.
async fn agree(store: &Store, scope: Scope, queries: &[String]) -> usize {
    let mut matched = 0;
    for q in queries {
        let want = by_like(store, scope, q).await;
        let (got, total) = searched(store, scope, q).await;
        // Source keys, ID numbers, phones and e-mails (matched whole) never
        // equal a part of a name here, so the LIKE is the whole answer.
        assert_eq!(got, want, "{scope:?} {q:?}");
        assert_eq!(total, want.len() as i64, "{scope:?} {q:?} total");
        // The count capped as a page view asks it: the matches up to the cap and one more.
        let capped = store
            .search_customers(&scope, &name_part(q, 1, 5))
            .await
            .unwrap()
            .total;
        assert_eq!(capped, want.len().min(6) as i64, "{scope:?} {q:?} capped");
        if !want.is_empty() {
            matched += 1;
        }
    }
    matched
}

/// Parts of the stored names: Chinese of one, two and three characters
/// (first, middle, last), whole names, Latin in mixed case, and texts no
/// name holds.
async fn parts(store: &Store) -> Vec<String> {
    let names = texts(
        store,
        "SELECT name FROM customer WHERE name IS NOT NULL ORDER BY id",
    )
    .await;
    assert!(names.len() >= 100, "the bank has named customers");
    let mut out: Vec<String> = Vec::new();
    for (i, n) in names.iter().enumerate().step_by(7) {
        let chars: Vec<char> = n.chars().collect();
        let take = |from: usize, len: usize| -> Option<String> {
            (from + len <= chars.len()).then(|| chars[from..from + len].iter().collect())
        };
        let picks = [
            take(0, 1),
            take(chars.len().saturating_sub(1), 1),
            take(0, 2),
            take(chars.len().saturating_sub(2), 2),
            take(0, 3),
            take(1, 2),
            Some(n.clone()),
        ];
        for p in picks.into_iter().flatten() {
            // Latin names in mixed case.
            let p = if i % 2 == 0 { p.to_uppercase() } else { p };
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    for q in [
        "li",
        "LI",
        "Li N",
        "na",
        "o'b",
        "zoë",
        "ZOË",
        "é",
        "macl",
        "  wang  ",
        "王伟",
        "王",
        "张三丰",
        "欧阳",
        "%",
        "_",
        "\\",
        "x%y",
        "不存在的名字",
        "q",
    ] {
        out.push(q.to_string());
    }
    out
}

fn customer(key: &str, name: Option<&str>, branch: Option<&str>) -> CustomerRecord {
    CustomerRecord {
        source: "names".into(),
        source_key: key.into(),
        name: name.map(str::to_string),
        gender: None,
        birth_date: None,
        id_number: None,
        phone: None,
        email: None,
        city: None,
        occupation: None,
        annual_income: None,
        risk_tolerance: None,
        risk_assessed_on: None,
        branch: branch.map(str::to_string),
        attributes: None,
        flags: Vec::new(),
    }
}

/// Imports `new` customers and merges `merged` (a record into a customer id)
/// through an import session, as the importers do.
async fn import(
    store: &Store,
    tag: &str,
    new: &[CustomerRecord],
    merged: &[(i64, CustomerRecord)],
) {
    let file = ImportFile {
        kind: "customers".into(),
        source: "names".into(),
        path: format!("{tag}.csv"),
        sha256: format!("{tag}-sha"),
    };
    let ImportStart::Started(mut s) = store.begin_import(&file).await.unwrap() else {
        panic!("{tag} was imported before");
    };
    for r in new {
        s.insert_customer(r).await.unwrap();
    }
    for (into, r) in merged {
        s.merge_customer(*into, r, MergeRule::SameIdNumber, "test merge")
            .await
            .unwrap();
    }
    s.commit(&FileSummary {
        file: file.path.clone(),
        kind: file.kind.clone(),
        read: (new.len() + merged.len()) as u64,
        loaded: new.len() as u64,
        merged: merged.len() as u64,
        rejected: 0,
    })
    .await
    .unwrap();
}

async fn story(db: &TestDb) {
    let store = &db.store;
    rapport_testkit::generated_bank(db, 400, 19).await;
    let branch = ids(store, "SELECT id FROM branch ORDER BY id LIMIT 1").await[0];
    let branch_code = texts(
        store,
        &format!("SELECT code FROM branch WHERE id = {branch}"),
    )
    .await;

    // Latin names of every case, Chinese names matching the fixed queries,
    // through the importer's bulk insert.
    let latin = [
        ("N1", "Li Na"),
        ("N2", "LIAM O'Brien"),
        ("N3", "Zoë MacLeod"),
        ("N4", "Émile Li"),
        ("N5", "王伟"),
        ("N6", "张三丰"),
        ("N7", "欧阳王伟"),
        ("N8", "Bo 100%_x\\y"),
        ("N9", "q"),
        ("N10", "王"),
    ];
    let recs: Vec<CustomerRecord> = latin
        .iter()
        .map(|(k, n)| customer(k, Some(n), branch_code.first().map(String::as_str)))
        .collect();
    import(store, "latin", &recs, &[]).await;
    let staff: Vec<i64> = ids(
        store,
        "SELECT staff_user_id FROM rm_assignment GROUP BY staff_user_id \
         ORDER BY COUNT(*) DESC, staff_user_id LIMIT 1",
    )
    .await;
    let rm = match staff.first() {
        Some(s) => *s,
        None => {
            // A book of every third customer for an RM of our own.
            exec(
                store,
                "INSERT INTO staff_user (id, username, display_name, role) \
                 VALUES (9001, 'names_rm', 'Names RM', 'rm'); \
                 INSERT INTO rm_assignment (customer_id, staff_user_id, assigned_at) \
                 SELECT id, 9001, '2025-01-01T00:00:00Z' FROM customer WHERE id % 3 = 0",
            )
            .await;
            9001
        }
    };
    let queries = parts(store).await;
    let scopes = [Scope::All, Scope::Branch(branch), Scope::Rm(rm)];
    for scope in scopes {
        let matched = agree(store, scope, &queries).await;
        assert!(
            matched >= 10,
            "{scope:?}: {matched} queries matched somebody"
        );
    }
    // The row scope still applies: an RM finds only their own customers.
    let (in_book, _) = searched(store, Scope::Rm(rm), "王").await;
    let (everywhere, _) = searched(store, Scope::All, "王").await;
    assert!(in_book.len() < everywhere.len(), "the RM's book is a part");
    let book = ids(
        store,
        &format!("SELECT customer_id FROM rm_assignment WHERE staff_user_id = {rm}"),
    )
    .await;
    assert!(in_book.iter().all(|id| book.contains(id)));

    // Every write of a name keeps the grams true.
    let id_of = |key: &'static str| async move {
        ids(
            store,
            &format!(
                "SELECT customer_id FROM customer_source_key WHERE source = 'names' \
                 AND source_key = '{key}'"
            ),
        )
        .await[0]
    };
    let wang_wei = id_of("N5").await;
    let zhang = id_of("N6").await;
    let liam = id_of("N2").await;
    // Erased: the name is blanked and no search finds it any more.
    assert!(searched(store, Scope::All, "王伟")
        .await
        .0
        .contains(&wang_wei));
    store.erase_customer(wang_wei, Utc::now()).await.unwrap();
    assert!(!searched(store, Scope::All, "王伟")
        .await
        .0
        .contains(&wang_wei));
    assert!(!searched(store, Scope::All, "伟")
        .await
        .0
        .contains(&wang_wei));
    let left = ids(
        store,
        &format!("SELECT customer_id FROM customer_name_gram WHERE customer_id = {wang_wei}"),
    )
    .await;
    assert!(left.is_empty(), "no gram of an erased name is kept");
    // Edited: the old name goes, the new one is found.
    exec(
        store,
        &format!("UPDATE customer SET name = 'liam ó briain' WHERE id = {liam}"),
    )
    .await;
    assert!(!searched(store, Scope::All, "o'b").await.0.contains(&liam));
    assert!(searched(store, Scope::All, "ó briain")
        .await
        .0
        .contains(&liam));
    // A name lost, then filled again by a record of another source merged
    // into the customer (the importer's merge fills what is missing).
    exec(
        store,
        &format!("UPDATE customer SET name = NULL WHERE id = {zhang}"),
    )
    .await;
    assert!(!searched(store, Scope::All, "张三").await.0.contains(&zhang));
    import(
        store,
        "merged",
        &[customer("N20", Some("Wang Xiaoming"), None)],
        &[(zhang, customer("M6", Some("张三丰改"), None))],
    )
    .await;
    assert!(searched(store, Scope::All, "三丰改")
        .await
        .0
        .contains(&zhang));
    assert!(!searched(store, Scope::All, "xiaoming").await.0.is_empty());
    // Deleted: its grams go with it.
    let q = id_of("N9").await;
    exec(
        store,
        &format!(
            "DELETE FROM rm_assignment WHERE customer_id = {q}; \
             DELETE FROM customer_source_key WHERE customer_id = {q}; \
             DELETE FROM customer WHERE id = {q}"
        ),
    )
    .await;
    let left = ids(
        store,
        &format!("SELECT customer_id FROM customer_name_gram WHERE customer_id = {q}"),
    )
    .await;
    assert!(left.is_empty(), "no gram of a deleted customer is kept");
    // And after all of it the search still equals the LIKE everywhere.
    let mut after = queries.clone();
    after.extend(["ó bri", "Ó BRIAIN", "三丰改", "xiaoming", "Wang X"].map(String::from));
    for scope in scopes {
        agree(store, scope, &after).await;
    }
    // The grams are exactly those of the stored names, recomputed.
    let stored = texts(
        store,
        "SELECT gram || '/' || CAST(customer_id AS TEXT) FROM customer_name_gram \
         ORDER BY customer_id, gram",
    )
    .await;
    let rows: Vec<(i64, String)> = match store {
        Store::Sqlite(p) => sqlx::query_as(
            "SELECT id, LOWER(name) FROM customer WHERE name IS NOT NULL ORDER BY id",
        )
        .fetch_all(p)
        .await
        .unwrap(),
        Store::Postgres(p) => sqlx::query_as(
            "SELECT id, LOWER(name) FROM customer WHERE name IS NOT NULL ORDER BY id",
        )
        .fetch_all(p)
        .await
        .unwrap(),
    };
    let mut want = Vec::new();
    for (id, name) in rows {
        let chars: Vec<char> = name.chars().collect();
        let mut grams: Vec<String> = (0..chars.len())
            .map(|i| chars[i..(i + 2).min(chars.len())].iter().collect())
            .collect();
        grams.sort_by(|a: &String, b: &String| a.as_bytes().cmp(b.as_bytes()));
        grams.dedup();
        want.extend(grams.into_iter().map(|g| format!("{g}/{id}")));
    }
    let mut stored_sorted = stored;
    stored_sorted.sort();
    want.sort();
    assert_eq!(stored_sorted, want, "the grams are the names' grams");
}

#[tokio::test]
async fn part_of_name_search_equals_the_like_on_every_store() {
    for backend in Backend::available() {
        let Some(db) = TestDb::on(backend, "name_search").await else {
            continue;
        };
        story(&db).await;
        db.drop().await;
    }
}
