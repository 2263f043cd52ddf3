//! Codes carry no formulas or markup (issue 16, finding 11): a branch,
//! product or other code taken from a file must match
//! `^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$`; a row whose code does not is
//! quarantined as `bad_code` naming the field, and the counts reconcile.
//! Before the fix, a customer with branch `=HYPERLINK(…)` created that
//! branch, which the KPI CSV then served as a live formula.

use crate::common::{opts, stores};
use rapport_ingest::{import_csv, CsvKind};

const CUSTOMERS: &str = "source_key,name,gender,birth_date,branch\n\
C1,Wang Fang,F,1980-01-01,BJ01\n\
C2,Li Lei,M,1981-02-02,\"=HYPERLINK(\"\"http://evil.example/\"\",\"\"x\"\")\"\n\
C3,Zhou Min,F,1982-03-03,<b>SH01</b>\n\
C4,Sun Li,F,1983-04-04,@SUM(A1)\n";

const BRANCHES: &str = "code,name\nGZ01,Guangzhou\n+cmd,Evil\n";

const PRODUCTS: &str = "code,name,category,risk_level\n\
FD-1,Fund,fund,3\n\
=1+1,Formula,fund,3\n\
FD-2,Fund two,fund;drop,3\n";

#[tokio::test]
async fn codes_with_formulas_or_markup_are_quarantined_with_the_field() {
    for t in stores("codes").await {
        let s = &t.store;
        let b = t.backend();
        let mut rejected = Vec::new();
        for (kind, name, text) in [
            (CsvKind::Branches, "branches.csv", BRANCHES),
            (CsvKind::Products, "products.csv", PRODUCTS),
            (CsvKind::Customers, "customers.csv", CUSTOMERS),
        ] {
            let path = t.path(name);
            std::fs::write(&path, text).unwrap();
            let report = import_csv(s, kind, &path, "core", &opts()).await.unwrap();
            assert!(report.reconciles(), "{b}: {report:?}");
            rejected.push(report.rejected);
        }
        assert_eq!(rejected, vec![1, 2, 3], "{b}");

        let mut quarantined: Vec<(String, i64, String, Option<String>)> = s
            .quarantine_rows(100)
            .await
            .unwrap()
            .into_iter()
            .map(|q| {
                assert!(
                    q.detail.contains("must be a code"),
                    "{b}: the reason says why: {q:?}"
                );
                (q.kind, q.line, q.reason, q.field)
            })
            .collect();
        quarantined.sort();
        let want = |k: &str, l: i64, f: &str| {
            (
                k.to_string(),
                l,
                "bad_code".to_string(),
                Some(f.to_string()),
            )
        };
        assert_eq!(
            quarantined,
            vec![
                want("branches", 3, "code"),
                want("customers", 3, "branch"),
                want("customers", 4, "branch"),
                want("customers", 5, "branch"),
                want("products", 3, "code"),
                want("products", 4, "category"),
            ],
            "{b}"
        );
        let branches: Vec<String> = s
            .branches()
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.code)
            .collect();
        assert_eq!(
            branches,
            vec!["BJ01", "GZ01"],
            "{b}: no formula became a branch"
        );
        t.drop().await;
    }
}
