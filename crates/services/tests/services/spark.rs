//! Spark computes the same features as the native engine (issue 19, item
//! 4): on a generated bank with joint accounts, the PySpark job written by
//! `analytics_copy::spark_job` runs in local mode over the columnar copy,
//! and the features the engine makes from its output equal the native
//! engine's for every customer and feature, bit for bit; the scoring from
//! it equals the native scoring.
//!
//! Needs Java and pyspark: the python is `RAPPORT_PYTHON` (default
//! `python3`). Without pyspark the test says it skipped, unless
//! `RAPPORT_SPARK_TESTS=required` (CI), which makes that a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rapport_analytics::aggregates::{slot, N_AGGREGATES};
use rapport_analytics::spark::{read_precomputed, Precomputed};
use rapport_analytics::FeatureEngine;
use rapport_services::access::Actor;
use rapport_services::analytics_copy::{rebuild, spark_job};
use rapport_services::scoring::{run_scoring, ScoringOptions};
use rapport_testkit::{generated_bank, Backend, TestDb};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

fn python() -> String {
    std::env::var("RAPPORT_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".into())
}

/// Whether `python` can import pyspark; else skip (or fail when required).
fn spark_available(python: &str) -> bool {
    let ok = Command::new(python)
        .args(["-c", "import pyspark"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let required = std::env::var("RAPPORT_SPARK_TESTS").is_ok_and(|v| v == "required");
        assert!(
            !required,
            "RAPPORT_SPARK_TESTS=required but {python} cannot import pyspark (set RAPPORT_PYTHON)"
        );
        eprintln!("skipped: {python} cannot import pyspark (set RAPPORT_PYTHON, or RAPPORT_SPARK_TESTS=required to fail)");
    }
    ok
}

fn run_job(python: &str, job: &Path, copy: Option<&Path>, out: &Path) {
    let mut cmd = Command::new(python);
    cmd.arg(job);
    if let Some(copy) = copy {
        cmd.arg("--copy").arg(copy);
    }
    let o = cmd
        .arg("--out")
        .arg(out)
        .args(["--master", "local[2]", "--shuffle-partitions", "4"])
        .output()
        .expect("running the Spark job");
    assert!(
        o.status.success(),
        "the Spark job failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The generator makes no joint accounts: every third account gains a
/// second owner (the customer of the next account row), imported as
/// `owner` roles through the canonical importer.
async fn make_joint_accounts(store: &rapport_store::Store, bank: &Path, dir: &Path, source: &str) {
    let text = std::fs::read_to_string(bank.join("accounts.csv")).unwrap();
    let rows: Vec<(String, String)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let mut f = l.split(',');
            (f.next().unwrap().to_string(), f.next().unwrap().to_string())
        })
        .collect();
    let mut roles = String::from("source_key,account_key,customer_key,role\n");
    let mut n = 0;
    for (i, pair) in rows.windows(2).enumerate() {
        let ((account, owner), (_, other)) = (&pair[0], &pair[1]);
        if i % 3 == 0 && owner != other {
            n += 1;
            roles.push_str(&format!("J{n},{account},{other},owner\n"));
        }
    }
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("account_roles.csv"), roles).unwrap();
    let report = rapport_ingest::import_dir(store, dir, source, &Default::default())
        .await
        .unwrap();
    assert!(report.loaded > n / 2, "{report:?}");
}

#[tokio::test]
async fn spark_computes_the_native_engines_features_for_every_customer() {
    let python = python();
    if !spark_available(&python) {
        return;
    }
    let db = TestDb::on(Backend::Sqlite, "spark").await.unwrap();
    let g = generated_bank(&db, 300, 41).await;
    let store = &db.store;
    make_joint_accounts(store, &db.path("bank"), &db.path("joint"), &g.source).await;
    let copy = db.path("analytics");
    rebuild(store, &Actor::system("test"), &copy).await.unwrap();
    assert!(copy.join("owners.parquet").exists());

    // Mid-month: the month slots and the windows all cut into partitions.
    let as_of = g.end - chrono::Days::new(17);
    let job = db.path("job.py");
    std::fs::write(&job, spark_job(as_of, None).unwrap()).unwrap();
    let out = db.path("spark-out");
    run_job(&python, &job, Some(&copy), &out);
    let pre = read_precomputed(&out).unwrap();

    // Joint accounts are in the bank: some account has two owners.
    let owners = rapport_analytics::account_owners(store).await.unwrap();
    let mut per_account = std::collections::HashMap::new();
    for (a, _) in &owners {
        *per_account.entry(*a).or_insert(0) += 1;
    }
    assert!(per_account.values().any(|&n| n > 1), "no joint account");
    assert!(
        pre.customers.len() > 250,
        "{} customers",
        pre.customers.len()
    );

    let native = FeatureEngine::new(store).compute(as_of).await.unwrap();
    let engine = |p: Precomputed| FeatureEngine::new(store).with_precomputed(Some(Arc::new(p)));
    let spark = engine(pre.clone()).compute(as_of).await.unwrap();
    let diff = native.differences(&spark);
    assert!(
        diff.is_empty(),
        "{} differences:\n{}",
        diff.len(),
        diff.join("\n")
    );

    // The comparison sees a changed window: the 30-day count over 90 days.
    let mut wider = pre.clone();
    let (c30, c90) = (slot("count_30"), slot("count_90"));
    for (_, v, _) in &mut wider.customers {
        v[c30] = v[c90];
    }
    let changed = engine(wider).compute(as_of).await.unwrap();
    let diff = native.differences(&changed);
    assert!(
        diff.iter().any(|d| d.starts_with("txn_count_30 ")),
        "{diff:?}"
    );

    // A customer the store does not have is an error naming file and row.
    let mut stranger = pre.clone();
    stranger.customers[0].0 = 987_654_321;
    let e = engine(stranger)
        .compute(as_of)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("customer_id 987654321 is not in the store") && e.contains(".parquet: row "),
        "{e}"
    );
    // Another as-of date is refused.
    let e = engine(pre.clone())
        .compute(as_of - chrono::Days::new(1))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("job.json") && e.contains(&format!("computed as of {as_of}")),
        "{e}"
    );
    assert_eq!(pre.customers[0].1.len(), N_AGGREGATES);

    // Over the bank's own tables through a mapping (here the copy's own
    // files named as a bank would): the same aggregates.
    let mapping = db.path("mapping.toml");
    std::fs::write(
        &mapping,
        format!(
            "[transactions]\ntable = {:?}\naccount_id = \"account_id\"\nbooked_on = \"booked_on\"\n\
             amount = \"amount\"\nbalance_after = \"balance_after\"\ncategory = \"category\"\n\
             channel = \"channel\"\nsource_key = \"source_key\"\n\
             [owners]\ntable = {:?}\naccount_id = \"account_id\"\ncustomer_id = \"customer_id\"\n",
            copy.join("transactions").display().to_string(),
            copy.join("owners.parquet").display().to_string()
        ),
    )
    .unwrap();
    let mapped_job = db.path("mapped.py");
    std::fs::write(&mapped_job, spark_job(as_of, Some(&mapping)).unwrap()).unwrap();
    let mapped_out = db.path("mapped-out");
    run_job(&python, &mapped_job, None, &mapped_out);
    let mapped = read_precomputed(&mapped_out).unwrap();
    let rows = |p: &Precomputed| {
        let mut c: Vec<_> = p.customers.iter().map(|(id, v, _)| (*id, *v)).collect();
        c.sort();
        let mut a: Vec<_> = p.accounts.iter().map(|(id, l, _)| (*id, *l)).collect();
        a.sort_by_key(|x| x.0);
        (c, a)
    };
    assert!(
        rows(&mapped) == rows(&pre),
        "the mapped job's aggregates differ"
    );
    // A mapping naming a key the job does not know is refused, naming the file.
    std::fs::write(
        &mapping,
        std::fs::read_to_string(&mapping).unwrap() + "merchant = \"m\"\n",
    )
    .unwrap();
    let e = spark_job(as_of, Some(&mapping)).unwrap_err().to_string();
    assert!(e.contains("mapping.toml") && e.contains("merchant"), "{e}");

    // The whole scoring from Spark's output equals the native scoring.
    let native_run = run_scoring(store, as_of, &ScoringOptions::default())
        .await
        .unwrap();
    let opts = ScoringOptions {
        precomputed: Some(out.clone()),
        ..ScoringOptions::default()
    };
    let spark_run = run_scoring(store, as_of, &opts).await.unwrap();
    assert!(
        spark_run.transactions_from.contains("Spark job's output"),
        "{}",
        spark_run.transactions_from
    );
    assert_eq!(native_run.customers, spark_run.customers);
    assert_eq!(native_run.bands, spark_run.bands);
    assert_eq!(native_run.histogram, spark_run.histogram);
    assert_eq!(
        native_run.mean_score.to_bits(),
        spark_run.mean_score.to_bits()
    );
}
