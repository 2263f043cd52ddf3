//! `rapport analytics spark-sql|spark-job` and `rapport score --features`:
//! what the adapters print and write, and their refusals naming the file.
//! (The job itself runs on PySpark in `rapport-services`' spark test.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::BIN;
use rapport_testkit::cli::Rapport;

#[test]
fn the_spark_commands_print_write_and_refuse_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/r.db", dir.path().display());
    let cli = Rapport::new(BIN).db(&url);

    let r = cli.run(&["analytics", "spark-sql", "--as-of", "2024-07-15"]);
    assert!(r.ok(), "{}", r.stderr);
    assert!(
        r.stdout.contains("t.booked_on >= DATE '2024-06-15'"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("GROUP BY o.customer_id"), "{}", r.stdout);
    assert!(r.stdout.contains("PARTITION BY account_id"), "{}", r.stdout);
    let r = cli.run(&["analytics", "spark-sql", "--as-of", "15/07/2024"]);
    assert!(!r.ok() && r.stderr.contains("--as-of"), "{}", r.stderr);

    let job = dir.path().join("job.py");
    let job_s = job.to_str().unwrap();
    let r = cli.run(&[
        "analytics",
        "spark-job",
        "--as-of",
        "2024-07-15",
        "--out",
        job_s,
    ]);
    assert!(r.ok(), "{}", r.stderr);
    assert!(r.stdout.contains("--copy DIR --out OUT"), "{}", r.stdout);
    let text = std::fs::read_to_string(&job).unwrap();
    assert!(text.contains("AS_OF = \"2024-07-15\"") && text.contains("MAPPING = None"));

    let mapping = dir.path().join("bank.toml");
    std::fs::write(
        &mapping,
        "[transactions]\ntable = \"/lake/t\"\naccount_id = \"a\"\nbooked_on = \"d\"\namount = \"x\"\n\
         balance_after = \"b\"\ncategory = \"c\"\nchannel = \"ch\"\nsource_key = \"k\"\nmerchant = \"m\"\n\
         [owners]\ntable = \"/lake/o\"\naccount_id = \"a\"\ncustomer_id = \"c\"\n",
    )
    .unwrap();
    let m = mapping.to_str().unwrap();
    let args = [
        "analytics",
        "spark-job",
        "--as-of",
        "2024-07-15",
        "--out",
        job_s,
        "--mapping",
        m,
    ];
    let r = cli.run(&args);
    assert!(!r.ok(), "an unknown key was accepted");
    assert!(
        r.stderr.contains("bank.toml") && r.stderr.contains("merchant"),
        "{}",
        r.stderr
    );

    // Scoring from a directory the job did not write names the missing file.
    let r = cli.run(&["gen", "--customers", "40", "--seed", "5"]);
    assert!(r.ok(), "{}", r.stderr);
    let empty = dir.path().join("not-spark");
    std::fs::create_dir_all(&empty).unwrap();
    let r = cli.run(&["score", "--features", empty.to_str().unwrap()]);
    assert!(!r.ok(), "scored from nothing");
    assert!(r.stderr.contains("not-spark/job.json"), "{}", r.stderr);
}
