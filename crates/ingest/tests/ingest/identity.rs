//! Identity resolution across two sources.

use crate::common::{opts, stores};
use rapport_ingest::{import_csv, CsvKind};
use std::collections::HashMap;
use std::path::Path;

const CORE: &str = "\
source_key,name,birth_date,id_number,phone
K1,王伟,1980-01-01,110108198001012344,13800001111
K2,Li Na,,,13900002222
K3,张三,,440305198507091236,13700003333
K4,Chen Jing,1977-05-05,,13500004444
";

const CRM: &str = "\
source_key,name,birth_date,id_number,phone
M1,Wang Wei,,110108198001012344,
M2, li  na ,,,+86 139 0000 2222
M3,张三,,310115199003154579,13700003333
M4,Chen Jing,1978-05-05,,13500004444
M5,Chen Jing,1977-05-05,,135-0000-4444
M6,Nobody,,,
";

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// (source, source_key) → customer id, from the export of customer_source_key.
async fn customer_ids(s: &rapport_store::Store) -> HashMap<(String, String), i64> {
    let mut buf = Vec::new();
    s.export_table_csv("customer_source_key", &mut buf)
        .await
        .unwrap();
    let mut r = csv::Reader::from_reader(buf.as_slice());
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (src, key, cust) = (col("source"), col("source_key"), col("customer_id"));
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            (
                (rec[src].to_string(), rec[key].to_string()),
                rec[cust].parse().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn customers_from_two_sources_merge_by_id_number_or_phone_and_name_but_never_across_id_numbers(
) {
    for t in stores("identity").await {
        let (s, b) = (&t.store, t.backend());
        let dir = tempfile::tempdir().unwrap();
        let core = import_csv(
            s,
            CsvKind::Customers,
            &write(dir.path(), "core.csv", CORE),
            "core",
            &opts(),
        )
        .await
        .unwrap();
        assert_eq!(
            (core.read, core.loaded, core.merged, core.rejected),
            (4, 4, 0, 0),
            "{b}"
        );
        let crm = import_csv(
            s,
            CsvKind::Customers,
            &write(dir.path(), "crm.csv", CRM),
            "crm",
            &opts(),
        )
        .await
        .unwrap();
        assert_eq!(
            (crm.read, crm.loaded, crm.merged, crm.rejected),
            (6, 3, 3, 0),
            "{b}: {crm:?}"
        );

        let ids = customer_ids(s).await;
        let id = |src: &str, key: &str| ids[&(src.to_string(), key.to_string())];
        assert_eq!(
            id("core", "K1"),
            id("crm", "M1"),
            "{b}: same valid ID number"
        );
        assert_eq!(
            id("core", "K2"),
            id("crm", "M2"),
            "{b}: same phone and name"
        );
        assert_ne!(
            id("core", "K3"),
            id("crm", "M3"),
            "{b}: different valid ID numbers are never merged"
        );
        assert_ne!(
            id("core", "K4"),
            id("crm", "M4"),
            "{b}: birth dates disagree"
        );
        assert_eq!(
            id("core", "K4"),
            id("crm", "M5"),
            "{b}: same phone, name and birth date"
        );
        assert_eq!(s.counts().await.unwrap().customers, 7, "{b}");

        let mut merges: Vec<(String, String)> = s
            .merges()
            .await
            .unwrap()
            .into_iter()
            .map(|m| (m.source_key, m.rule))
            .collect();
        merges.sort();
        assert_eq!(
            merges,
            vec![
                ("M1".to_string(), "same_id_number".to_string()),
                ("M2".to_string(), "same_phone_and_name".to_string()),
                (
                    "M5".to_string(),
                    "same_phone_name_and_birth_date".to_string()
                ),
            ],
            "{b}"
        );
        for m in s.merges().await.unwrap() {
            assert!(
                !m.explanation.contains("110108198001012344"),
                "{b}: ID masked: {}",
                m.explanation
            );
            assert!(
                !m.explanation.contains("13900002222"),
                "{b}: phone masked: {}",
                m.explanation
            );
            assert!(m.explanation.starts_with(&format!(
                "source crm key {} joined customer {}",
                m.source_key, m.customer_id
            )));
        }

        // The same rows again in another file: nothing new.
        let again = import_csv(
            s,
            CsvKind::Customers,
            &write(dir.path(), "crm2.csv", &format!("{CRM}\n")),
            "crm",
            &opts(),
        )
        .await
        .unwrap();
        assert_eq!(
            (again.loaded, again.merged, again.rejected),
            (0, 6, 0),
            "{b}: seen rows come back unchanged"
        );
        assert_eq!(s.counts().await.unwrap().customers, 7, "{b}");
    }
}
