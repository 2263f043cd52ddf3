//! The scheduler's table: due jobs are claimed with a lease in one atomic
//! `UPDATE … RETURNING` (on SQLite and PostgreSQL alike only one process wins
//! a claim), leases are renewed while a job runs and taken over when they
//! expire (a crashed process), and every run is recorded in `job_run`.
//!
//! No rules about content: what a job does and when it runs next is decided
//! by the app; this module stores the schedule and the runs.

use crate::dialect::on_pool;
use crate::{Result, Store};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A won claim on a due job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobClaim {
    pub name: String,
    pub worker: String,
    pub run_id: i64,
    pub started_at: DateTime<Utc>,
}

/// A scheduled job as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobScheduleRow {
    pub name: String,
    pub next_run_at: DateTime<Utc>,
    pub locked_by: Option<String>,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_started_at: Option<DateTime<Utc>>,
    pub last_finished_at: Option<DateTime<Utc>>,
    pub last_status: Option<String>,
    pub last_error: Option<String>,
}

/// One run of a job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobRunRow {
    pub id: i64,
    pub name: String,
    pub worker: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: String,
    pub detail: String,
}

impl Store {
    /// Adds job `name` to the schedule (first due at `first_run_at`) unless it is there.
    pub async fn ensure_job(&self, name: &str, first_run_at: DateTime<Utc>) -> Result<()> {
        let sql = "INSERT INTO job_schedule (name, next_run_at) VALUES ($1, $2) \
                   ON CONFLICT (name) DO NOTHING";
        on_pool!(self, p => { sqlx::query(sql).bind(name).bind(first_run_at).execute(p).await?; });
        Ok(())
    }

    /// Makes job `name` due at once (e.g. `rapport jobs run`).
    pub async fn make_job_due(&self, name: &str, now: DateTime<Utc>) -> Result<bool> {
        let sql = "UPDATE job_schedule SET next_run_at = $1 WHERE name = $2";
        let n = on_pool!(self, p => sqlx::query(sql).bind(now).bind(name).execute(p).await?.rows_affected());
        Ok(n > 0)
    }

    /// Claims job `name` for `worker` when it is due and not leased by a live
    /// process; records a `running` run. None when someone else has it or it is not due.
    pub async fn claim_due_job(
        &self,
        name: &str,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<JobClaim>> {
        let claim =
            "UPDATE job_schedule SET locked_by = $1, locked_until = $2, last_started_at = $3 \
                     WHERE name = $4 AND next_run_at <= $3 \
                     AND (locked_until IS NULL OR locked_until < $3) RETURNING name";
        let run = "INSERT INTO job_run (name, worker, started_at, status) \
                   VALUES ($1, $2, $3, 'running') RETURNING id";
        let won: Option<String> = on_pool!(self, p => sqlx::query_scalar(claim)
            .bind(worker).bind(lease_until).bind(now).bind(name)
            .fetch_optional(p).await?);
        if won.is_none() {
            return Ok(None);
        }
        let run_id: i64 = on_pool!(self, p => sqlx::query_scalar(run)
            .bind(name).bind(worker).bind(now).fetch_one(p).await?);
        Ok(Some(JobClaim {
            name: name.to_string(),
            worker: worker.to_string(),
            run_id,
            started_at: now,
        }))
    }

    /// Renews the lease of a claim still held; false when it was lost.
    pub async fn extend_job_lease(&self, c: &JobClaim, until: DateTime<Utc>) -> Result<bool> {
        let sql = "UPDATE job_schedule SET locked_until = $1 WHERE name = $2 AND locked_by = $3";
        let n = on_pool!(self, p => sqlx::query(sql).bind(until).bind(&c.name).bind(&c.worker)
            .execute(p).await?.rows_affected());
        Ok(n > 0)
    }

    /// Ends a run: records its status and detail, releases the lease and, when
    /// `next_run_at` is given, schedules the next occurrence (an interrupted run
    /// passes None, so the job stays due).
    pub async fn finish_job(
        &self,
        c: &JobClaim,
        status: &str,
        error: Option<&str>,
        detail: &str,
        next_run_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let run = "UPDATE job_run SET finished_at = $1, status = $2, detail = $3 WHERE id = $4";
        let sched = "UPDATE job_schedule SET locked_by = NULL, locked_until = NULL, \
                     last_finished_at = $1, last_status = $2, last_error = $3, \
                     next_run_at = COALESCE($4, next_run_at) WHERE name = $5 AND locked_by = $6";
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(run).bind(now).bind(status).bind(detail).bind(c.run_id).execute(&mut *tx).await?;
            sqlx::query(sched).bind(now).bind(status).bind(error).bind(next_run_at)
                .bind(&c.name).bind(&c.worker).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The schedule, by name.
    pub async fn job_schedules(&self) -> Result<Vec<JobScheduleRow>> {
        let sql = "SELECT name, next_run_at, locked_by, locked_until, last_started_at, \
                   last_finished_at, last_status, last_error FROM job_schedule ORDER BY name";
        type Raw = (
            String,
            DateTime<Utc>,
            Option<String>,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Raw> = on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|r| JobScheduleRow {
                name: r.0,
                next_run_at: r.1,
                locked_by: r.2,
                locked_until: r.3,
                last_started_at: r.4,
                last_finished_at: r.5,
                last_status: r.6,
                last_error: r.7,
            })
            .collect())
    }

    /// The latest runs (of one job, or all), newest first.
    pub async fn job_runs(&self, name: Option<&str>, limit: i64) -> Result<Vec<JobRunRow>> {
        let filter = if name.is_some() {
            "WHERE name = $1"
        } else {
            ""
        };
        let sql = format!(
            "SELECT id, name, worker, started_at, finished_at, status, detail FROM job_run {filter} \
             ORDER BY id DESC LIMIT {}",
            limit.clamp(1, 1000)
        );
        type Raw = (
            i64,
            String,
            String,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
            String,
            String,
        );
        let rows: Vec<Raw> = on_pool!(self, p => {
            let mut q = sqlx::query_as(&sql);
            if let Some(n) = name { q = q.bind(n); }
            q.fetch_all(p).await?
        });
        Ok(rows
            .into_iter()
            .map(|r| JobRunRow {
                id: r.0,
                name: r.1,
                worker: r.2,
                started_at: r.3,
                finished_at: r.4,
                status: r.5,
                detail: r.6,
            })
            .collect())
    }

    /// Deletes expired sessions and sign-in attempts older than `attempts_before`;
    /// returns (sessions, attempts) deleted.
    pub async fn sweep_sessions(
        &self,
        now: DateTime<Utc>,
        attempts_before: DateTime<Utc>,
    ) -> Result<(u64, u64)> {
        on_pool!(self, p => {
            let s = sqlx::query("DELETE FROM web_session WHERE expires_at <= $1").bind(now)
                .execute(p).await?.rows_affected();
            let a = sqlx::query("DELETE FROM login_attempt WHERE at < $1").bind(attempts_before)
                .execute(p).await?.rows_affected();
            Ok((s, a))
        })
    }
}
