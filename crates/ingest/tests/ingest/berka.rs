//! The Berka importer on the committed cut (tests/data/berka, ~200 accounts
//! with everything that refers to them) and on the full data set when present.

use crate::common::{data, opts, stores};
use rapport_ingest::{import_berka, FileReport};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

const TABLES: [&str; 7] = [
    "district", "client", "account", "disp", "order", "loan", "card",
];

fn counts(f: &FileReport) -> (u64, u64, u64, u64) {
    (f.read, f.loaded, f.merged, f.rejected)
}

fn by_kind(files: &[FileReport]) -> HashMap<String, (u64, u64, u64, u64)> {
    files.iter().map(|f| (f.kind.clone(), counts(f))).collect()
}

/// The cut, copied into a fresh directory: gzipped as committed, or decompressed to `.asc`.
fn cut_dir(gzipped: bool, with_trans: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for t in TABLES {
        let src = data(&format!("berka/{t}.asc.gz"));
        if gzipped {
            std::fs::copy(&src, dir.path().join(format!("{t}.asc.gz"))).unwrap();
        } else {
            let mut text = Vec::new();
            flate2::read::GzDecoder::new(std::fs::File::open(&src).unwrap())
                .read_to_end(&mut text)
                .unwrap();
            std::fs::write(dir.path().join(format!("{t}.asc")), text).unwrap();
        }
    }
    if with_trans {
        std::fs::copy(
            data("berka_trans_handmade.asc"),
            dir.path().join("trans.asc"),
        )
        .unwrap();
    }
    dir
}

/// Rows of an exported table as maps column → value.
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
async fn the_berka_cut_loads_every_table_and_a_rerun_changes_nothing() {
    for t in stores("berka_cut").await {
        let (s, b) = (&t.store, t.backend());
        let dir = cut_dir(true, true);
        let report = import_berka(s, dir.path(), &opts()).await.unwrap();
        assert!(report.reconciles(), "{b}: {report:?}");
        let k = by_kind(&report.files);
        assert_eq!(k["berka:district"], (72, 72, 0, 0), "{b}");
        assert_eq!(k["berka:client"], (248, 248, 0, 0), "{b}");
        assert_eq!(k["berka:account"], (200, 200, 0, 0), "{b}");
        assert_eq!(k["berka:disp"], (248, 248, 0, 0), "{b}");
        assert_eq!(k["berka:order"], (347, 347, 0, 0), "{b}");
        assert_eq!(k["berka:loan"], (83, 83, 0, 0), "{b}");
        assert_eq!(k["berka:card"], (59, 59, 0, 0), "{b}");
        assert_eq!(k["berka:trans"], (13, 11, 0, 2), "{b}");

        let c = s.counts().await.unwrap();
        assert_eq!(
            (c.customers, c.accounts, c.account_roles, c.loans, c.cards),
            (248, 200, 248, 83, 59),
            "{b}"
        );
        assert_eq!(
            (c.standing_orders, c.transactions, c.merges),
            (347, 11, 0),
            "{b}"
        );

        // The two hand-made bad transaction rows.
        let mut q: Vec<(i64, String, Option<String>)> = s
            .quarantine_rows(100)
            .await
            .unwrap()
            .into_iter()
            .map(|q| (q.line, q.reason, q.field))
            .collect();
        q.sort();
        assert_eq!(
            q,
            vec![
                (
                    13,
                    "unknown_reference".to_string(),
                    Some("account_key".to_string())
                ),
                (14, "bad_code".to_string(), Some("type".to_string())),
            ],
            "{b}"
        );

        // Gender and birth date come from every birth number.
        let quality = rapport_ingest::quality_report(s).await.unwrap();
        for field in ["gender", "birth_date", "branch"] {
            let f = quality
                .fields
                .iter()
                .find(|f| f.entity == "customer" && f.field == field)
                .unwrap();
            assert_eq!(
                (f.rows, f.present, f.flagged),
                (248, 248, 0),
                "{b}: {field}"
            );
        }

        // District 69's '?' values are null; the others are numbers.
        let branches = export(s, "branch").await;
        let cz69 = branches
            .iter()
            .find(|r| r["code"] == "CZ69")
            .expect("district 69 is in the cut");
        let attrs: serde_json::Value = serde_json::from_str(&cz69["attributes"]).unwrap();
        assert_eq!(
            attrs["unemployment_1995_pct"],
            serde_json::Value::Null,
            "{b}"
        );
        assert_eq!(attrs["crimes_1995"], serde_json::Value::Null, "{b}");
        assert!(
            attrs["unemployment_1996_pct"].is_number() && attrs["inhabitants"].is_number(),
            "{b}: {attrs}"
        );
        assert_eq!(cz69["region"], "north Moravia", "{b}");

        // Loans: B and D carry the documented days past due.
        for l in export(s, "loan").await {
            let bad = l["status"] == "finished_default" || l["status"] == "running_arrears";
            assert_eq!(
                l["days_past_due"],
                if bad { "90" } else { "0" },
                "{b}: {l:?}"
            );
        }

        // Transactions are signed by type and categorised by operation and k_symbol.
        let txns: HashMap<String, HashMap<String, String>> = export(s, "txn")
            .await
            .into_iter()
            .map(|r| (r["source_key"].clone(), r))
            .collect();
        let t = |key: &str| {
            let r = &txns[key];
            (
                r["amount"].clone(),
                r["channel"].clone(),
                r["category"].clone(),
            )
        };
        assert_eq!(
            t("695247"),
            ("70000".into(), "branch".into(), "cash_deposit".into()),
            "{b}"
        );
        assert_eq!(
            t("695250"),
            ("726800".into(), "batch".into(), "pension".into()),
            "{b}"
        );
        assert_eq!(
            t("695266"),
            ("1920".into(), "batch".into(), "interest".into()),
            "{b}"
        );
        assert_eq!(
            t("695262"),
            ("-100000".into(), "branch".into(), "cash_withdrawal".into()),
            "{b}"
        );
        assert_eq!(
            t("695270"),
            ("-30000".into(), "atm".into(), "cash_withdrawal".into()),
            "{b}"
        );
        assert_eq!(
            t("695271"),
            ("-245200".into(), "batch".into(), "utilities".into()),
            "{b}"
        );
        assert_eq!(
            t("695273"),
            ("-300000".into(), "batch".into(), "loan_repayment".into()),
            "{b}"
        );
        assert_eq!(
            t("695275"),
            ("-500".into(), "batch".into(), "fee".into()),
            "{b}"
        );
        assert_eq!(txns["695250"]["counterparty"], "ST/32525345", "{b}");

        let again = import_berka(s, dir.path(), &opts()).await.unwrap();
        assert!(
            again.files.iter().all(|f| f.already_imported),
            "{b}: {again:?}"
        );
        assert_eq!(by_kind(&again.files), k, "{b}");
        let mut after = s.counts().await.unwrap();
        after.imports = c.imports;
        assert_eq!(after, c, "{b}: a re-run changes nothing");
    }
}

#[tokio::test]
async fn plain_asc_files_load_like_gzipped_ones() {
    let t = crate::common::sqlite().await;
    let dir = cut_dir(false, false);
    let report = import_berka(&t.store, dir.path(), &opts()).await.unwrap();
    assert_eq!(report.files.len(), 7, "no trans.asc, no trans file");
    assert_eq!(
        (report.read, report.rejected),
        (72 + 248 + 200 + 248 + 347 + 83 + 59, 0)
    );
}

fn full_berka() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets/berka");
    if dir.join("client.asc.gz").is_file() {
        Some(dir)
    } else {
        println!(
            "note: {} not found; full-size Berka test skipped",
            dir.display()
        );
        None
    }
}

#[tokio::test]
async fn the_full_berka_data_set_reconciles_with_the_published_counts() {
    let Some(dir) = full_berka() else { return };
    for t in stores("berka_full").await {
        let (s, b) = (&t.store, t.backend());
        let report = import_berka(s, &dir, &rapport_ingest::ImportOptions::default())
            .await
            .unwrap();
        assert!(report.reconciles(), "{b}: {report:?}");
        assert_eq!(report.rejected, 0, "{b}: {report:?}");
        let c = s.counts().await.unwrap();
        assert_eq!(c.customers, 5_369, "{b}");
        assert_eq!(c.accounts, 4_500, "{b}");
        assert_eq!(c.loans, 682, "{b}");
        assert_eq!(c.cards, 892, "{b}");
        assert_eq!(c.standing_orders, 6_471, "{b}");
        assert_eq!(c.account_roles, 5_369, "{b}");
        assert_eq!(c.branches, 77, "{b}");
        assert_eq!(
            (c.merges, c.quarantined),
            (0, 0),
            "{b}: Berka clients carry no identifiers to merge on"
        );
        println!("{b}: {}", report.render_text());

        let again = import_berka(s, &dir, &rapport_ingest::ImportOptions::default())
            .await
            .unwrap();
        assert!(again.files.iter().all(|f| f.already_imported), "{b}");
        let mut after = s.counts().await.unwrap();
        after.imports = c.imports;
        assert_eq!(after, c, "{b}: a second run changes no count");
    }
}
