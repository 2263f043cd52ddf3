//! Whole-file errors name the file, and a file that fails part-way leaves nothing behind.

use crate::common::{opts, sqlite, stores};
use rapport_ingest::{import_berka, import_csv, import_dir, CsvKind, ImportOptions, IngestError};
use std::io::Write;

#[tokio::test]
async fn a_missing_file_is_an_error_naming_it() {
    let t = sqlite().await;
    let e = import_csv(
        &t.store,
        CsvKind::Customers,
        "no/such/customers.csv".as_ref(),
        "core",
        &opts(),
    )
    .await;
    match e {
        Err(e @ IngestError::Open { .. }) => assert!(e
            .to_string()
            .starts_with("no/such/customers.csv: cannot open")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_missing_required_column_rejects_the_whole_file_before_anything_is_recorded() {
    let t = sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("accounts.csv");
    std::fs::write(&p, "source_key,type\nA1,current\n").unwrap();
    let e = import_csv(&t.store, CsvKind::Accounts, &p, "core", &opts())
        .await
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, IngestError::MissingColumn { .. }), "{e:?}");
    assert!(
        msg.contains("accounts.csv") && msg.contains("line 1") && msg.contains("\"customer_key\""),
        "{msg}"
    );
    assert!(t.store.imports().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_unreadable_gzip_is_an_error_naming_the_file() {
    let t = sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("customers.csv.gz");
    std::fs::write(&p, b"\x1f\x8b\x08\x00garbage that is not deflate").unwrap();
    let e = import_csv(&t.store, CsvKind::Customers, &p, "core", &opts())
        .await
        .unwrap_err();
    assert!(matches!(e, IngestError::Read { .. }), "{e:?}");
    assert!(e.to_string().contains("customers.csv.gz"), "{e}");
}

#[tokio::test]
async fn a_file_that_breaks_part_way_is_rolled_back_whole() {
    for t in stores("truncated_gzip").await {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("customers.csv.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        writeln!(gz, "source_key,name,gender").unwrap();
        for i in 0..20_000 {
            writeln!(
                gz,
                "C{i},Customer {i},{}",
                if i % 2 == 0 { "m" } else { "f" }
            )
            .unwrap();
        }
        let bytes = gz.finish().unwrap();
        std::fs::write(&p, &bytes[..bytes.len() * 3 / 4]).unwrap();
        let small = ImportOptions {
            batch_size: 500,
            ..Default::default()
        };
        let e = import_csv(&t.store, CsvKind::Customers, &p, "core", &small)
            .await
            .unwrap_err();
        assert!(
            matches!(e, IngestError::Read { .. }),
            "{}: {e:?}",
            t.backend()
        );
        let c = t.store.counts().await.unwrap();
        assert_eq!(
            (c.customers, c.quarantined),
            (0, 0),
            "{}: nothing of the broken file is kept",
            t.backend()
        );

        // The complete file then imports in full.
        std::fs::write(&p, &bytes).unwrap();
        let r = import_csv(&t.store, CsvKind::Customers, &p, "core", &small)
            .await
            .unwrap();
        assert_eq!((r.read, r.loaded), (20_000, 20_000), "{}", t.backend());
    }
}

#[tokio::test]
async fn a_directory_without_importable_files_is_an_error() {
    let t = sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    let e = import_dir(&t.store, dir.path(), "core", &opts())
        .await
        .unwrap_err();
    assert!(matches!(e, IngestError::NothingToImport { .. }), "{e:?}");
    assert!(e.to_string().contains("customers.csv"), "{e}");

    let e = import_berka(&t.store, dir.path(), &opts())
        .await
        .unwrap_err();
    assert!(
        matches!(e, IngestError::MissingFile { .. }) && e.to_string().contains("district.asc"),
        "{e}"
    );
}

#[test]
fn unknown_kinds_list_the_known_ones() {
    let e = "customer".parse::<CsvKind>().unwrap_err();
    assert!(e.to_string().contains("customers, accounts"), "{e}");
}
