//! The scheduler inside the binary. Jobs are types ([`Job`]); their schedule
//! lives in the store's `job_schedule` table, so any number of processes
//! (`rapport serve`, `rapport worker`) can run the scheduler against one
//! store: a due job is claimed with a lease by exactly one of them, the lease
//! is renewed while it runs, and a crashed process's job is taken over when
//! its lease expires.
//!
//! Shutdown is clean: on the signal the scheduler stops claiming, gives a
//! running job `jobs.shutdown_grace_secs` to finish, then records it as
//! interrupted and releases it, still due, for the next process.

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, FixedOffset, NaiveTime, TimeZone, Utc};
use rapport_services::config::JobsConfig;
use rapport_services::Services;
use rapport_store::{JobClaim, Store};
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;

/// How long a claim is leased; renewed every third of it while the job runs.
const LEASE_SECS: i64 = 120;

mod case_sla_sweep;
mod nightly_scoring;
mod outbox_dispatch;
mod rm_cadence;
mod session_sweep;

pub use case_sla_sweep::CaseSlaSweep;
pub use nightly_scoring::NightlyScoring;
pub use outbox_dispatch::OutboxDispatch;
pub use rm_cadence::RmCadence;
pub use session_sweep::SessionSweep;

/// A job's future.
pub type JobFuture<'a> = Pin<Box<dyn Future<Output = Result<Value>> + Send + 'a>>;

/// A scheduled job.
pub trait Job: Send + Sync {
    /// Its name in the schedule table.
    fn name(&self) -> &'static str;
    /// The next occurrence strictly after `after`.
    fn next_run(&self, after: DateTime<Utc>) -> DateTime<Utc>;
    /// Does the work; the returned JSON is stored as the run's detail.
    fn run<'a>(&'a self, store: &'a Store) -> JobFuture<'a>;
}

/// The next time-of-day `at` in the zone `offset` strictly after `after`.
pub fn next_daily(after: DateTime<Utc>, at: NaiveTime, offset: FixedOffset) -> DateTime<Utc> {
    let local = after.with_timezone(&offset);
    let mut day = local.date_naive();
    loop {
        if let Some(t) = offset.from_local_datetime(&day.and_time(at)).single() {
            let t = t.with_timezone(&Utc);
            if t > after {
                return t;
            }
        }
        day = day.succ_opt().unwrap_or(day);
    }
}

/// The jobs of this binary, as configured, sharing the services built once.
pub fn jobs(services: &Services) -> Result<Vec<Box<dyn Job>>> {
    let cfg = &services.cfg.jobs;
    let at = NaiveTime::parse_from_str(&cfg.nightly_scoring_at, "%H:%M")
        .with_context(|| format!("jobs.nightly_scoring_at {:?}", cfg.nightly_scoring_at))?;
    let offset: FixedOffset = cfg
        .utc_offset
        .parse()
        .with_context(|| format!("jobs.utc_offset {:?}", cfg.utc_offset))?;
    Ok(vec![
        Box::new(NightlyScoring {
            at,
            offset,
            services: services.clone(),
        }),
        Box::new(SessionSweep),
        Box::new(OutboxDispatch {
            services: services.clone(),
        }),
        Box::new(CaseSlaSweep {
            services: services.clone(),
        }),
        Box::new(RmCadence {
            services: services.clone(),
            offset,
        }),
    ])
}

/// How a claimed run ended.
enum Outcome {
    Done(Result<Value>),
    Interrupted,
}

/// Runs one claimed job: renews its lease meanwhile, stops waiting when
/// `shutdown` fires and the grace period passes, records the outcome.
async fn run_claimed(
    store: &Store,
    job: &dyn Job,
    claim: JobClaim,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
    grace: std::time::Duration,
) -> Result<()> {
    tracing::info!(job = job.name(), run = claim.run_id, "job started");
    let work = job.run(store);
    tokio::pin!(work);
    let mut renew = tokio::time::interval(std::time::Duration::from_secs((LEASE_SECS / 3) as u64));
    renew.tick().await;
    let mut stopping: Option<tokio::time::Instant> = None;
    let outcome = loop {
        let deadline = async {
            match stopping {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            r = &mut work => break Outcome::Done(r),
            _ = renew.tick() => {
                store.extend_job_lease(&claim, Utc::now() + Duration::seconds(LEASE_SECS)).await?;
            }
            changed = shutdown.changed(), if stopping.is_none() => {
                if changed.is_err() || *shutdown.borrow() {
                    tracing::info!(job = job.name(), grace_secs = grace.as_secs(), "shutdown: waiting for the running job");
                    stopping = Some(tokio::time::Instant::now() + grace);
                }
            }
            _ = deadline => break Outcome::Interrupted,
        }
    };
    let now = Utc::now();
    match outcome {
        Outcome::Done(Ok(detail)) => {
            store
                .finish_job(
                    &claim,
                    "succeeded",
                    None,
                    &detail.to_string(),
                    Some(job.next_run(now)),
                    now,
                )
                .await?;
            tracing::info!(job = job.name(), run = claim.run_id, "job succeeded");
        }
        Outcome::Done(Err(e)) => {
            let msg = format!("{e:#}");
            store
                .finish_job(
                    &claim,
                    "failed",
                    Some(&msg),
                    &json!({ "error": msg }).to_string(),
                    Some(job.next_run(now)),
                    now,
                )
                .await?;
            tracing::error!(job = job.name(), run = claim.run_id, error = %msg, "job failed");
        }
        Outcome::Interrupted => {
            store
                .finish_job(
                    &claim,
                    "interrupted",
                    Some("shut down before it finished"),
                    "{}",
                    None,
                    now,
                )
                .await?;
            tracing::warn!(
                job = job.name(),
                run = claim.run_id,
                "job interrupted by shutdown; it stays due"
            );
        }
    }
    Ok(())
}

/// Claims and runs due jobs every `poll_secs` until `shutdown` turns true.
pub async fn run_scheduler(
    services: Services,
    worker_id: String,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<()> {
    let jobs = jobs(&services)?;
    let store = services.store.clone();
    run_jobs(&store, &jobs, &services.cfg.jobs, &worker_id, &mut shutdown).await
}

/// Claims and runs, once, every job that is due now (and not held elsewhere).
pub async fn run_due_once(
    store: &Store,
    jobs: &[Box<dyn Job>],
    cfg: &JobsConfig,
    worker_id: &str,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) -> Result<()> {
    let grace = std::time::Duration::from_secs(cfg.shutdown_grace_secs.max(0) as u64);
    for j in jobs {
        if *shutdown.borrow() {
            break;
        }
        let now = Utc::now();
        let claim = store
            .claim_due_job(
                j.name(),
                worker_id,
                now,
                now + Duration::seconds(LEASE_SECS),
            )
            .await;
        match claim {
            Ok(Some(c)) => {
                if let Err(e) = run_claimed(store, j.as_ref(), c, shutdown, grace).await {
                    tracing::error!(
                        job = j.name(),
                        error = format!("{e:#}"),
                        "recording a job run failed"
                    );
                }
            }
            Ok(None) => {}
            Err(e) => tracing::error!(job = j.name(), error = %e, "claiming a job failed"),
        }
    }
    Ok(())
}

/// The scheduler loop over an explicit job list (tests pass their own jobs).
pub async fn run_jobs(
    store: &Store,
    jobs: &[Box<dyn Job>],
    cfg: &JobsConfig,
    worker_id: &str,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) -> Result<()> {
    let now = Utc::now();
    for j in jobs {
        store.ensure_job(j.name(), j.next_run(now)).await?;
    }
    let poll = std::time::Duration::from_secs(cfg.poll_secs.max(1) as u64);
    tracing::info!(worker = worker_id, jobs = jobs.len(), "scheduler started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        run_due_once(store, jobs, cfg, worker_id, shutdown).await?;
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            r = shutdown.changed() => { if r.is_err() { break; } }
        }
    }
    tracing::info!(worker = worker_id, "scheduler stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn the_next_nightly_run_is_the_next_local_occurrence() {
        let at = NaiveTime::from_hms_opt(2, 0, 0).unwrap_or_default();
        let cst = FixedOffset::east_opt(8 * 3600).unwrap();
        // 02:00 at +08:00 is 18:00 UTC the day before.
        assert_eq!(
            next_daily(t("2026-11-23T10:00:00Z"), at, cst),
            t("2026-11-23T18:00:00Z")
        );
        assert_eq!(
            next_daily(t("2026-11-23T18:00:00Z"), at, cst),
            t("2026-11-24T18:00:00Z")
        );
        assert_eq!(
            next_daily(t("2026-11-23T17:59:59Z"), at, cst),
            t("2026-11-23T18:00:00Z")
        );
        let utc = FixedOffset::east_opt(0).unwrap();
        assert_eq!(
            next_daily(t("2026-12-31T23:00:00Z"), at, utc),
            t("2027-01-01T02:00:00Z")
        );
    }
}
