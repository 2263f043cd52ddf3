//! Operations: the table-backed scheduler (one winner per due job across
//! processes, lease takeover, failures recorded and rescheduled, clean
//! shutdown leaves a running job interrupted and due) on SQLite and
//! PostgreSQL; and `rapport backup` / `rapport restore` on a SQLite store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rapport_testkit::TestDb;

use crate::BIN;
use chrono::{DateTime, Duration, Utc};
use rapport::jobs::{run_due_once, Job, JobFuture};
use rapport_services::config::JobsConfig;
use rapport_store::Store;
use rapport_testkit::cli::clean_command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

struct Probe {
    name: &'static str,
    runs: Arc<AtomicUsize>,
    fail: bool,
    /// Waits this long (to be interrupted).
    hold: std::time::Duration,
}

impl Job for Probe {
    fn name(&self) -> &'static str {
        self.name
    }
    fn next_run(&self, after: DateTime<Utc>) -> DateTime<Utc> {
        after + Duration::hours(1)
    }
    fn run<'a>(&'a self, _store: &'a Store) -> JobFuture<'a> {
        Box::pin(async move {
            self.runs.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.hold).await;
            if self.fail {
                anyhow::bail!("the probe failed on purpose");
            }
            Ok(serde_json::json!({ "ok": true }))
        })
    }
}

fn probe(name: &'static str, runs: &Arc<AtomicUsize>, fail: bool, hold_ms: u64) -> Box<dyn Job> {
    Box::new(Probe {
        name,
        runs: runs.clone(),
        fail,
        hold: std::time::Duration::from_millis(hold_ms),
    })
}

async fn scheduler_story(store: &Store) {
    let cfg = JobsConfig {
        shutdown_grace_secs: 0,
        ..JobsConfig::default()
    };
    let now = Utc::now();
    let runs = Arc::new(AtomicUsize::new(0));
    let jobs = vec![probe("probe", &runs, false, 50)];
    store
        .ensure_job("probe", now - Duration::minutes(1))
        .await
        .unwrap();
    // Two processes race for the same due occurrence: exactly one runs it.
    let (_a, mut ra) = tokio::sync::watch::channel(false);
    let (_b, mut rb) = tokio::sync::watch::channel(false);
    let (x, y) = tokio::join!(
        run_due_once(store, &jobs, &cfg, "worker-a", &mut ra),
        run_due_once(store, &jobs, &cfg, "worker-b", &mut rb),
    );
    x.unwrap();
    y.unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let s = store.job_schedules().await.unwrap();
    let p = s.iter().find(|j| j.name == "probe").unwrap();
    assert_eq!(p.last_status.as_deref(), Some("succeeded"));
    assert!(
        p.next_run_at > now + Duration::minutes(50),
        "rescheduled an hour on"
    );
    assert!(p.locked_by.is_none());
    // Not due: nobody runs it.
    run_due_once(store, &jobs, &cfg, "worker-a", &mut ra)
        .await
        .unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // A lease held by a crashed process is taken over once it expires.
    store.make_job_due("probe", now).await.unwrap();
    let held = store
        .claim_due_job("probe", "crashed", now, now + Duration::seconds(1))
        .await
        .unwrap()
        .unwrap();
    assert!(store
        .claim_due_job("probe", "worker-a", now, now + Duration::seconds(60))
        .await
        .unwrap()
        .is_none());
    let later = now + Duration::seconds(5);
    let taken = store
        .claim_due_job("probe", "worker-a", later, later + Duration::seconds(60))
        .await
        .unwrap()
        .unwrap();
    assert_ne!(held.run_id, taken.run_id);
    // The crashed process's late finish no longer owns the lock.
    store
        .finish_job(&held, "succeeded", None, "{}", Some(later), later)
        .await
        .unwrap();
    assert_eq!(
        store.job_schedules().await.unwrap()[0].locked_by.as_deref(),
        Some("worker-a")
    );
    store
        .finish_job(
            &taken,
            "succeeded",
            None,
            "{}",
            Some(later + Duration::hours(1)),
            later,
        )
        .await
        .unwrap();

    // A failing job is recorded with its error and rescheduled.
    let fails = Arc::new(AtomicUsize::new(0));
    let failing = vec![probe("failing", &fails, true, 0)];
    store
        .ensure_job("failing", now - Duration::minutes(1))
        .await
        .unwrap();
    run_due_once(store, &failing, &cfg, "worker-a", &mut ra)
        .await
        .unwrap();
    let f = store
        .job_schedules()
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.name == "failing")
        .unwrap();
    assert_eq!(f.last_status.as_deref(), Some("failed"));
    assert!(f.last_error.unwrap().contains("on purpose"));
    assert!(f.next_run_at > now);
    let last = store.job_runs(Some("failing"), 1).await.unwrap();
    assert_eq!(last[0].status, "failed");

    // Shutdown while a job runs: it is interrupted, released and still due.
    let slow_runs = Arc::new(AtomicUsize::new(0));
    let slow = vec![probe("slow", &slow_runs, false, 60_000)];
    store
        .ensure_job("slow", now - Duration::minutes(1))
        .await
        .unwrap();
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let s2 = store.clone();
    let cfg2 = cfg.clone();
    let task =
        tokio::spawn(
            async move { run_due_once(&s2, &slow, &cfg2, "worker-s", &mut stopped).await },
        );
    while slow_runs.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
    let sl = store
        .job_schedules()
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.name == "slow")
        .unwrap();
    assert_eq!(sl.last_status.as_deref(), Some("interrupted"));
    assert!(
        sl.locked_by.is_none() && sl.next_run_at <= Utc::now(),
        "still due"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_on_sqlite() {
    let db = TestDb::sqlite().await;
    scheduler_story(&db.store).await;
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_on_postgres() {
    let Some(db) = TestDb::postgres("scheduler").await else {
        return;
    };
    scheduler_story(&db.store).await;
    db.drop().await;
}

fn rapport(db: &str, args: &[&str]) -> (bool, serde_json::Value, String) {
    let out = clean_command(BIN.as_ref())
        .args(["--db", db, "--json"])
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_str(stdout.trim()).unwrap_or(serde_json::Value::Null);
    (out.status.success(), v, stderr)
}

#[test]
fn a_backup_is_verified_and_restores_the_same_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("live.db").display());
    let (ok, _, err) = rapport(&db, &["gen", "--customers", "60", "--seed", "3"]);
    assert!(ok, "{err}");
    let (ok, counts, _) = rapport(&db, &["report", "counts"]);
    assert!(ok);
    let backup = dir.path().join("b.db");
    let (ok, b, err) = rapport(&db, &["backup", backup.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert_eq!(b["check"]["integrity"], "ok");
    assert_eq!(b["check"]["customers"], counts["customers"]);
    assert_eq!(b["sha256"].as_str().map(str::len), Some(64));
    // Never overwrites.
    let (ok, _, err) = rapport(&db, &["backup", backup.to_str().unwrap()]);
    assert!(!ok && err.contains("exists"), "{err}");

    // A damaged copy is refused.
    let bad = dir.path().join("bad.db");
    let mut bytes = std::fs::read(&backup).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 8192] {
        *b = 0x5a;
    }
    std::fs::write(&bad, bytes).unwrap();
    let target = format!("sqlite://{}", dir.path().join("restored.db").display());
    let (ok, _, err) = rapport(&target, &["restore", bad.to_str().unwrap()]);
    assert!(!ok, "a damaged file was restored");
    assert!(
        err.contains("not a usable") || err.contains("malformed") || err.contains("checking"),
        "{err}"
    );

    // The good one restores into a fresh store with the same content.
    let (ok, r, err) = rapport(&target, &["restore", backup.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert_eq!(r["counts"], counts);
    // An existing store is only replaced with --force.
    let (ok, _, err) = rapport(&target, &["restore", backup.to_str().unwrap()]);
    assert!(!ok && err.contains("--force"), "{err}");
    let (ok, _, err) = rapport(&target, &["restore", "--force", backup.to_str().unwrap()]);
    assert!(ok, "{err}");
    // PostgreSQL is refused with a pointer to the procedure.
    let (ok, _, err) = rapport(
        "postgres://nobody@127.0.0.1:1/x",
        &["backup", "/tmp/never.db"],
    );
    assert!(!ok && err.contains("pg_dump"), "{err}");
}

/// The nightly job scores with the bank's configured scorecard (`[scoring]`),
/// not the shipped one; a configured file that does not parse stops start-up
/// with the key named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nightly_job_scores_with_the_configured_scorecard() {
    let db = TestDb::sqlite().await;
    rapport_testkit::generated_bank(&db, 80, 7).await;
    let shipped = include_str!("../../../analytics/config/scorecard.toml");
    let own = shipped.replacen("name = \"rapport-default\"", "name = \"bank-own\"", 1);
    assert_ne!(
        own, shipped,
        "the shipped scorecard names itself rapport-default"
    );
    let path = db.path("bank-scorecard.toml");
    std::fs::write(&path, own).unwrap();
    let env = vec![(
        "RAPPORT__SCORING__SCORECARD".to_string(),
        path.display().to_string(),
    )];
    let cfg = rapport_services::config::Config::load(None, env.into_iter()).unwrap();
    let services = rapport_services::Services::build(db.store.clone(), cfg).unwrap();
    let jobs = rapport::jobs::jobs(&services).unwrap();
    let nightly = jobs
        .iter()
        .find(|j| j.name() == "nightly_scoring")
        .expect("the nightly scoring job");
    let detail = nightly.run(&db.store).await.unwrap();
    let used = detail["scorecard"]
        .as_str()
        .unwrap_or_else(|| panic!("the run names its scorecard: {detail}"));
    assert!(
        used.starts_with("bank-own"),
        "scored with {used}, not the configured scorecard"
    );

    let bad = db.path("bad-scorecard.toml");
    std::fs::write(&bad, "this is not a scorecard").unwrap();
    let env = vec![(
        "RAPPORT__SCORING__SCORECARD".to_string(),
        bad.display().to_string(),
    )];
    let e = rapport_services::config::Config::load(None, env.into_iter()).unwrap_err();
    assert!(format!("{e:#}").contains("scoring.scorecard"), "{e:#}");
    db.drop().await;
}
