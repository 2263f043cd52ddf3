//! The card-statement importer on the first 300 rows of the Taiwan file, and
//! on the whole file when shared/datasets is present.

use crate::common::{data, opts, stores};
use rapport_ingest::{import_card_statements, ImportOptions};
use std::collections::HashMap;
use std::path::Path;

async fn export(s: &rapport_store::Store, table: &str) -> Vec<HashMap<String, String>> {
    let mut buf = Vec::new();
    s.export_table_csv(table, &mut buf).await.unwrap();
    let mut r = csv::Reader::from_reader(buf.as_slice());
    let h: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records()
        .map(|rec| {
            h.iter()
                .cloned()
                .zip(rec.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn three_hundred_clients_become_customers_accounts_statements_and_labels() {
    for t in stores("taiwan_300").await {
        let (s, b) = (&t.store, t.backend());
        let path = data("taiwan/UCI_Credit_Card_first300.csv");
        let report = import_card_statements(s, &path, &opts()).await.unwrap();
        assert_eq!(
            (report.read, report.loaded, report.merged, report.rejected),
            (300, 300, 0, 0),
            "{b}"
        );
        assert_eq!(report.files[0].kind, "card-statements");
        let c = s.counts().await.unwrap();
        assert_eq!(
            (c.customers, c.accounts, c.card_statements, c.outcomes),
            (300, 300, 1_800, 300),
            "{b}"
        );

        // ID 1: LIMIT_BAL 20000, SEX 2, AGE 24, PAY_0 = 2 (Sep), PAY_6 = -2 (Apr),
        // BILL_AMT1 3913, PAY_AMT2 689, default = 1.
        let accounts = export(s, "account").await;
        let a1 = accounts
            .iter()
            .find(|r| r["source"] == "taiwan" && r["source_key"] == "1")
            .unwrap();
        assert_eq!(
            (a1["account_type"].as_str(), a1["credit_limit"].as_str()),
            ("credit_card", "2000000"),
            "{b}"
        );
        let st: HashMap<String, HashMap<String, String>> = export(s, "card_statement")
            .await
            .into_iter()
            .map(|r| (r["source_key"].clone(), r))
            .collect();
        let sep = &st["1-2005-09"];
        assert_eq!(sep["statement_month"], "2005-09-01", "{b}");
        assert_eq!(
            (
                sep["bill_amount"].as_str(),
                sep["repayment_status"].as_str()
            ),
            ("391300", "2"),
            "{b}"
        );
        assert_eq!(sep["days_past_due"], "60", "{b}");
        assert_eq!(st["1-2005-08"]["paid_amount"], "68900", "{b}");
        assert_eq!(
            (
                st["1-2005-04"]["repayment_status"].as_str(),
                st["1-2005-04"]["days_past_due"].as_str()
            ),
            ("-2", "0")
        );
        let outcomes = export(s, "outcome").await;
        let o1 = outcomes.iter().find(|r| r["customer_key"] == "1").unwrap();
        assert_eq!(
            (o1["label"].as_str(), o1["value"].as_str()),
            ("default_next_month", "1"),
            "{b}"
        );
        assert!(o1["observed_on"].starts_with("2005-10-01"), "{b}");
        let customers = export(s, "customer").await;
        let females = customers.iter().filter(|r| r["gender"] == "f").count();
        assert!(females > 150, "{b}: SEX 2 is female ({females})");
        assert!(
            customers.iter().all(|r| r["birth_date"].is_empty()),
            "{b}: AGE gives no birth date"
        );
        let attrs: serde_json::Value = serde_json::from_str(&customers[0]["attributes"]).unwrap();
        assert!(
            attrs["age"].is_number()
                && attrs["education"].is_string()
                && attrs["marriage"].is_string()
        );

        let again = import_card_statements(s, &path, &opts()).await.unwrap();
        assert!(again.files[0].already_imported, "{b}");
        let mut after = s.counts().await.unwrap();
        after.imports = c.imports;
        assert_eq!(after, c, "{b}");
    }
}

#[tokio::test]
async fn the_full_taiwan_file_loads_thirty_thousand_clients() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets/taiwan_credit_default/UCI_Credit_Card.csv.gz");
    if !path.is_file() {
        println!(
            "note: {} not found; full-size Taiwan test skipped",
            path.display()
        );
        return;
    }
    for t in stores("taiwan_full").await {
        let (s, b) = (&t.store, t.backend());
        let report = import_card_statements(s, &path, &ImportOptions::default())
            .await
            .unwrap();
        assert_eq!(
            (report.read, report.loaded, report.rejected),
            (30_000, 30_000, 0),
            "{b}"
        );
        let c = s.counts().await.unwrap();
        assert_eq!(
            (c.customers, c.accounts, c.card_statements, c.outcomes),
            (30_000, 30_000, 180_000, 30_000),
            "{b}"
        );
        let defaults = export(s, "outcome")
            .await
            .iter()
            .filter(|r| r["value"] == "1")
            .count();
        assert_eq!(defaults, 6_636, "{b}: the published count of defaults");
    }
}
