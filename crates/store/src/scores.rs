//! Health scores and scoring runs: one `score_run` row per run of the
//! scoring pipeline, one `health_score` row per customer and as-of date (a
//! re-run for the same date replaces the date's scores), the band migration
//! between two dates, and the RM assignment alerts are routed by.
//!
//! Bulk writes are multi-row inserts in one transaction (SQLite) or arrays
//! unnested server-side (PostgreSQL), so a million scores take seconds. Like
//! the rest of the store: no rules about content (bands are opaque text).

use crate::dialect::on_pool;
use crate::{Result, Store};
use chrono::{NaiveDate, Utc};
use serde::Serialize;

/// One customer's stored health score.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct HealthScoreRow {
    pub customer_id: i64,
    pub score: f64,
    pub band: String,
    /// JSON array, top factor first.
    pub factors: String,
}

/// Customers moving from one band to another between two dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct BandMove {
    pub from_band: String,
    pub to_band: String,
    pub customers: i64,
}

/// A recorded scoring run.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ScoreRunRow {
    pub id: i64,
    pub as_of: NaiveDate,
    pub scorecard: String,
    pub customers: i64,
    pub summary: String,
}

/// Rows per multi-row INSERT on SQLite (up to 6 parameters each, under its 32,766 limit).
const SQLITE_ROWS_PER_INSERT: usize = 4_000;

impl Store {
    /// Records the start of a scoring run; returns its id.
    pub async fn begin_score_run(&self, as_of: NaiveDate, scorecard: &str) -> Result<i64> {
        let now = Utc::now();
        let sql =
            "INSERT INTO score_run (as_of, started_at, scorecard) VALUES ($1, $2, $3) RETURNING id";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql)
            .bind(as_of)
            .bind(now)
            .bind(scorecard)
            .fetch_one(p)
            .await?))
    }

    /// Records the end of a scoring run with its summary (JSON).
    pub async fn finish_score_run(&self, run_id: i64, customers: i64, summary: &str) -> Result<()> {
        let now = Utc::now();
        let sql =
            "UPDATE score_run SET finished_at = $1, customers = $2, summary = $3 WHERE id = $4";
        on_pool!(self, p => sqlx::query(sql)
            .bind(now)
            .bind(customers)
            .bind(summary)
            .bind(run_id)
            .execute(p)
            .await?
            .rows_affected());
        Ok(())
    }

    /// The finished scoring runs, newest first.
    pub async fn score_runs(&self) -> Result<Vec<ScoreRunRow>> {
        let sql = "SELECT id, as_of, scorecard, customers, summary FROM score_run \
                   WHERE finished_at IS NOT NULL ORDER BY id DESC";
        Ok(on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await?))
    }

    /// Replaces the health scores of `as_of` with `rows` (one transaction).
    pub async fn save_health_scores(
        &self,
        run_id: i64,
        as_of: NaiveDate,
        rows: &[HealthScoreRow],
    ) -> Result<u64> {
        match self {
            Store::Sqlite(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("DELETE FROM health_score WHERE as_of = ?")
                    .bind(as_of)
                    .execute(&mut *tx)
                    .await?;
                for block in rows.chunks(SQLITE_ROWS_PER_INSERT) {
                    let mut sql = String::with_capacity(64 + block.len() * 20);
                    sql.push_str(
                        "INSERT INTO health_score (as_of, customer_id, run_id, score, band, factors) VALUES ",
                    );
                    for i in 0..block.len() {
                        sql.push_str(if i == 0 {
                            "(?, ?, ?, ?, ?, ?)"
                        } else {
                            ",(?, ?, ?, ?, ?, ?)"
                        });
                    }
                    let mut q = sqlx::query(&sql);
                    for r in block {
                        q = q
                            .bind(as_of)
                            .bind(r.customer_id)
                            .bind(run_id)
                            .bind(r.score)
                            .bind(r.band.as_str())
                            .bind(r.factors.as_str());
                    }
                    q.execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
            Store::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("DELETE FROM health_score WHERE as_of = $1")
                    .bind(as_of)
                    .execute(&mut *tx)
                    .await?;
                for block in rows.chunks(50_000) {
                    let ids: Vec<i64> = block.iter().map(|r| r.customer_id).collect();
                    let scores: Vec<f64> = block.iter().map(|r| r.score).collect();
                    let bands: Vec<&str> = block.iter().map(|r| r.band.as_str()).collect();
                    let factors: Vec<&str> = block.iter().map(|r| r.factors.as_str()).collect();
                    sqlx::query(
                        "INSERT INTO health_score (as_of, customer_id, run_id, score, band, factors) \
                         SELECT $1, u.id, $2, u.score, u.band, u.factors \
                         FROM UNNEST($3::BIGINT[], $4::DOUBLE PRECISION[], $5::TEXT[], $6::TEXT[]) \
                         AS u(id, score, band, factors)",
                    )
                    .bind(as_of)
                    .bind(run_id)
                    .bind(&ids)
                    .bind(&scores)
                    .bind(&bands)
                    .bind(&factors)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
            }
        }
        Ok(rows.len() as u64)
    }

    /// The health scores of `as_of`, in customer id order.
    pub async fn health_scores(&self, as_of: NaiveDate) -> Result<Vec<HealthScoreRow>> {
        let sql = "SELECT customer_id, score, band, factors FROM health_score \
                   WHERE as_of = $1 ORDER BY customer_id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(as_of).fetch_all(p).await?))
    }

    /// One customer's score history, oldest first: (as_of, score, band).
    pub async fn score_history(&self, customer_id: i64) -> Result<Vec<(NaiveDate, f64, String)>> {
        let sql =
            "SELECT as_of, score, band FROM health_score WHERE customer_id = $1 ORDER BY as_of";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(customer_id).fetch_all(p).await?))
    }

    /// The latest as-of date with stored scores strictly before `before`.
    pub async fn previous_score_date(&self, before: NaiveDate) -> Result<Option<NaiveDate>> {
        let sql = "SELECT MAX(as_of) FROM health_score WHERE as_of < $1";
        let row: Option<(Option<NaiveDate>,)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(before).fetch_optional(p).await?);
        Ok(row.and_then(|(d,)| d))
    }

    /// How many customers moved from each band at `from` to each band at `to`
    /// (customers scored on both dates).
    pub async fn band_migration(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<BandMove>> {
        let sql = "SELECT a.band AS from_band, b.band AS to_band, COUNT(*) AS customers \
                   FROM health_score a \
                   JOIN health_score b ON b.customer_id = a.customer_id AND b.as_of = $2 \
                   WHERE a.as_of = $1 GROUP BY a.band, b.band ORDER BY a.band, b.band";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(from).bind(to).fetch_all(p).await?))
    }

    /// The latest booking day of any transaction (`None` for an empty store):
    /// the day after it is the natural as-of date of a loaded extract.
    pub async fn latest_transaction_date(&self) -> Result<Option<NaiveDate>> {
        let sql = "SELECT MAX(booked_on) FROM txn";
        let row: Option<(Option<NaiveDate>,)> =
            on_pool!(self, p => sqlx::query_as(sql).fetch_optional(p).await?);
        Ok(row.and_then(|(d,)| d))
    }

    /// The outcomes labelled `label` (validation only, never a feature):
    /// (customer id, value).
    pub async fn outcomes(&self, label: &str) -> Result<Vec<(i64, i64)>> {
        let sql = "SELECT customer_id, value FROM outcome WHERE label = $1 ORDER BY id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(label).fetch_all(p).await?))
    }

    /// Every loan's owner, start and outcome (validation only):
    /// (customer id, granted_on, outcome `good` | `bad`).
    pub async fn loan_outcomes(&self) -> Result<Vec<(i64, NaiveDate, String)>> {
        let sql = "SELECT customer_id, granted_on, outcome FROM loan ORDER BY id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await?))
    }

    /// Every alert as (customer id, rule, raised_on), oldest first (validation).
    pub async fn alert_facts(&self) -> Result<Vec<(i64, String, NaiveDate)>> {
        let sql = "SELECT customer_id, rule, raised_on FROM alert ORDER BY raised_on, id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await?))
    }

    /// The customer id of every source key of `source`: (source_key, customer id).
    pub async fn customer_ids_of_source(&self, source: &str) -> Result<Vec<(String, i64)>> {
        let sql = "SELECT source_key, customer_id FROM customer_source_key WHERE source = $1";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(source).fetch_all(p).await?))
    }

    /// Assigns every customer without an RM to an RM of the customer's
    /// branch (staff role `rm`), round robin in customer id order; returns
    /// how many were assigned. Customers of a branch without RMs stay
    /// unassigned (their alerts go to the branch queue).
    pub async fn assign_unassigned_customers_to_branch_rms(&self) -> Result<u64> {
        let rms_sql = "SELECT branch_id, id FROM staff_user WHERE role = 'rm' \
                       AND branch_id IS NOT NULL ORDER BY branch_id, id";
        let open_sql = "SELECT c.id, c.branch_id FROM customer c \
                        LEFT JOIN rm_assignment r ON r.customer_id = c.id \
                        WHERE r.customer_id IS NULL AND c.branch_id IS NOT NULL ORDER BY c.id";
        type Pairs = Vec<(i64, i64)>;
        let (rms, open): (Pairs, Pairs) = on_pool!(self, p => (
            sqlx::query_as(rms_sql).fetch_all(p).await?,
            sqlx::query_as(open_sql).fetch_all(p).await?,
        ));
        let mut by_branch: std::collections::HashMap<i64, (Vec<i64>, usize)> =
            std::collections::HashMap::new();
        for (branch, rm) in rms {
            by_branch.entry(branch).or_default().0.push(rm);
        }
        let mut pairs: Vec<(i64, i64)> = Vec::new();
        for (customer, branch) in open {
            if let Some((rms, next)) = by_branch.get_mut(&branch) {
                if let Some(&rm) = rms.get(*next % rms.len().max(1)) {
                    pairs.push((customer, rm));
                    *next += 1;
                }
            }
        }
        let now = Utc::now();
        match self {
            Store::Sqlite(p) => {
                let mut tx = p.begin().await?;
                for block in pairs.chunks(SQLITE_ROWS_PER_INSERT) {
                    let mut sql = String::from(
                        "INSERT INTO rm_assignment (assigned_at, customer_id, staff_user_id) VALUES ",
                    );
                    for i in 0..block.len() {
                        sql.push_str(if i == 0 { "(?, ?, ?)" } else { ",(?, ?, ?)" });
                    }
                    let mut q = sqlx::query(&sql);
                    for (c, rm) in block {
                        q = q.bind(now).bind(c).bind(rm);
                    }
                    q.execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
            Store::Postgres(p) => {
                let cs: Vec<i64> = pairs.iter().map(|x| x.0).collect();
                let rms: Vec<i64> = pairs.iter().map(|x| x.1).collect();
                sqlx::query(
                    "INSERT INTO rm_assignment (assigned_at, customer_id, staff_user_id) \
                     SELECT $1, u.c, u.rm FROM UNNEST($2::BIGINT[], $3::BIGINT[]) AS u(c, rm)",
                )
                .bind(now)
                .bind(&cs)
                .bind(&rms)
                .execute(p)
                .await?;
            }
        }
        Ok(pairs.len() as u64)
    }
}
