//! The canonical CSV sample bank (tests/data/canonical): every kind, with
//! deliberately broken rows. See tests/data/README.md for what each bad row is.

use crate::common::{data, opts, stores};
use rapport_ingest::{import_csv, import_dir, quality_report, CsvKind, FileReport};
use std::collections::BTreeSet;

fn counts(f: &FileReport) -> (u64, u64, u64, u64) {
    (f.read, f.loaded, f.merged, f.rejected)
}

fn file<'a>(files: &'a [FileReport], kind: &str) -> &'a FileReport {
    files
        .iter()
        .find(|f| f.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} in report"))
}

/// (kind, line, reason, field) of every row the sample set must quarantine.
fn expected_quarantine() -> BTreeSet<(String, i64, String, Option<String>)> {
    let rows: &[(&str, i64, &str, Option<&str>)] = &[
        ("products", 4, "bad_code", Some("risk_level")),
        ("customers", 8, "column_count", None),
        ("customers", 9, "invalid_utf8", Some("name")),
        ("customers", 10, "bad_date", Some("risk_assessed_on")),
        ("customers", 11, "missing_required", Some("source_key")),
        ("customers", 12, "duplicate_conflict", Some("source_key")),
        ("accounts", 5, "bad_date", Some("opened_on")),
        ("accounts", 6, "unknown_reference", Some("customer_key")),
        ("accounts", 7, "bad_code", Some("type")),
        ("accounts", 8, "bad_amount", Some("balance")),
        ("account_roles", 4, "bad_code", Some("role")),
        ("transactions", 4, "bad_amount", Some("amount")),
        ("transactions", 5, "unknown_reference", Some("account_key")),
        ("transactions", 6, "bad_date", Some("booked_on")),
        ("transactions", 8, "bad_code", Some("channel")),
        ("transactions", 9, "column_count", None),
        ("transactions", 11, "duplicate_conflict", Some("source_key")),
        ("holdings", 3, "unknown_reference", Some("product_code")),
        ("loans", 4, "bad_number", Some("duration_months")),
        ("card_statements", 3, "bad_date", Some("statement_month")),
        // I001's quoted note spans lines 2–3, so I003 is on physical line 5.
        ("interactions", 5, "bad_code", Some("kind")),
        ("survey_responses", 3, "bad_number", Some("score")),
        ("outcomes", 3, "unknown_reference", Some("customer_key")),
    ];
    rows.iter()
        .map(|(k, l, r, f)| (k.to_string(), *l, r.to_string(), f.map(str::to_string)))
        .collect()
}

#[tokio::test]
async fn the_sample_bank_loads_good_rows_quarantines_bad_ones_and_reconciles() {
    for t in stores("canonical_sample").await {
        let s = &t.store;
        let report = import_dir(s, &data("canonical"), "core", &opts())
            .await
            .unwrap();
        let b = t.backend();
        assert!(report.reconciles(), "{b}: {report:?}");
        assert_eq!(
            report.files.len(),
            CsvKind::ALL.len(),
            "{b}: every kind has a sample file"
        );
        assert!(report.files.iter().all(|f| !f.already_imported));
        let kinds: Vec<&str> = report.files.iter().map(|f| f.kind.as_str()).collect();
        let order: Vec<&str> = CsvKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(kinds, order, "{b}: files load in dependency order");

        let f = &report.files;
        assert_eq!(
            counts(file(f, "customers")),
            (13, 6, 2, 5),
            "{b}: customers"
        );
        assert_eq!(counts(file(f, "accounts")), (8, 4, 0, 4), "{b}: accounts");
        assert_eq!(
            counts(file(f, "transactions")),
            (10, 3, 1, 6),
            "{b}: transactions"
        );
        assert_eq!(
            counts(file(f, "interactions")),
            (3, 2, 0, 1),
            "{b}: interactions"
        );
        assert_eq!(counts(file(f, "branches")), (2, 2, 0, 0), "{b}: branches");
        assert_eq!(counts(file(f, "staff_users")), (2, 2, 0, 0), "{b}: staff");

        let quarantined: BTreeSet<_> = s
            .quarantine_rows(1000)
            .await
            .unwrap()
            .into_iter()
            .map(|q| (q.kind, q.line, q.reason, q.field))
            .collect();
        assert_eq!(quarantined, expected_quarantine(), "{b}: quarantine");
        assert_eq!(
            report.rejected as usize,
            expected_quarantine().len(),
            "{b}: rejected = quarantined"
        );

        let rows = s.quarantine_rows(1000).await.unwrap();
        let utf8 = rows.iter().find(|q| q.reason == "invalid_utf8").unwrap();
        assert!(
            utf8.raw.starts_with("C008,") && utf8.raw.contains('\u{fffd}'),
            "{b}: raw kept lossily: {utf8:?}"
        );
        assert!(
            rows.iter().all(|q| q.file.ends_with(".csv")),
            "{b}: quarantine names the file"
        );

        let c = s.counts().await.unwrap();
        assert_eq!(
            c.customers, 6,
            "{b}: C010 joined C002, C001/C002 repeats did not add anyone"
        );
        assert_eq!(c.customer_source_keys, 7, "{b}");
        assert_eq!(
            (c.accounts, c.transactions, c.loans, c.cards),
            (4, 3, 2, 2),
            "{b}"
        );
        assert_eq!(
            (c.products, c.holdings, c.account_roles, c.standing_orders),
            (2, 1, 2, 2),
            "{b}"
        );
        assert_eq!(
            (
                c.card_statements,
                c.cases,
                c.survey_responses,
                c.consents,
                c.outcomes
            ),
            (1, 2, 1, 2, 1),
            "{b}"
        );
        assert_eq!(c.merges, 1, "{b}");
        assert_eq!(c.quarantined as usize, expected_quarantine().len(), "{b}");

        let merges = s.merges().await.unwrap();
        assert_eq!(merges[0].rule, "same_id_number");
        assert_eq!(
            merges[0].explanation,
            format!(
                "source core key C010 joined customer {}: same valid ID number 4403**********1236",
                merges[0].customer_id
            ),
            "{b}"
        );

        // Flagged, not quarantined: bad checksum (C003), ID/birth-date mismatch (C006),
        // bad phone (C004), bad e-mail (C005).
        let q = quality_report(s).await.unwrap();
        let field = |name: &str| {
            q.fields
                .iter()
                .find(|f| f.entity == "customer" && f.field == name)
                .unwrap()
                .clone()
        };
        assert_eq!(
            (field("id_number").present, field("id_number").flagged),
            (4, 2),
            "{b}"
        );
        assert_eq!(
            (field("phone").present, field("phone").flagged),
            (5, 1),
            "{b}"
        );
        assert_eq!(
            (field("email").present, field("email").flagged),
            (4, 1),
            "{b}"
        );
        let v = field("id_number").validity.unwrap();
        assert!((v - 4.0 / 6.0).abs() < 1e-9, "{b}: validity {v}");
        // Information accuracy is a KPI (rapport_services::kpi::data_quality),
        // checked against the KPI tile in crates/web/tests/web/kpi_agree.rs.
        assert_eq!(q.quarantined_rows as usize, expected_quarantine().len());
        let text = q.render_text();
        assert!(
            text.contains("Quarantine") && text.contains("invalid_utf8"),
            "{text}"
        );

        // Re-importing the same files changes nothing.
        let again = import_dir(s, &data("canonical"), "core", &opts())
            .await
            .unwrap();
        assert!(
            again.files.iter().all(|f| f.already_imported),
            "{b}: {again:?}"
        );
        assert_eq!(
            again.files.iter().map(counts).collect::<Vec<_>>(),
            report.files.iter().map(counts).collect::<Vec<_>>(),
            "{b}: the recorded summaries come back as they were"
        );
        assert_eq!(s.counts().await.unwrap().quarantined, c.quarantined, "{b}");
        let mut after = s.counts().await.unwrap();
        after.imports = c.imports;
        assert_eq!(after, c, "{b}: nothing changed");

        // The same rows in another file come back unchanged (and the conflict still conflicts).
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("transactions.csv");
        let mut bytes = std::fs::read(data("canonical/transactions.csv")).unwrap();
        bytes.extend_from_slice(b"\n");
        std::fs::write(&copy, bytes).unwrap();
        let other = import_csv(s, CsvKind::Transactions, &copy, "core", &opts())
            .await
            .unwrap();
        assert_eq!(counts(&other.files[0]), (10, 0, 4, 6), "{b}: {other:?}");
        let mut after = s.counts().await.unwrap();
        assert_eq!(after.transactions, c.transactions, "{b}");
        after.imports = c.imports;
        after.quarantined = c.quarantined;
        assert_eq!(
            after, c,
            "{b}: only the new file's quarantine rows were added"
        );
    }
}

#[tokio::test]
async fn progress_is_reported_in_rows_read() {
    let t = crate::common::sqlite().await;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    let opts = rapport_ingest::ImportOptions {
        batch_size: 2,
        progress: Some(std::sync::Arc::new(move |n| sink.lock().unwrap().push(n))),
        ..Default::default()
    };
    import_csv(
        &t.store,
        CsvKind::Branches,
        &data("canonical/branches.csv"),
        "core",
        &opts,
    )
    .await
    .unwrap();
    import_csv(
        &t.store,
        CsvKind::Customers,
        &data("canonical/customers.csv"),
        "core",
        &opts,
    )
    .await
    .unwrap();
    let seen = seen.lock().unwrap().clone();
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    assert_eq!(seen.last().copied(), Some(13));
}
