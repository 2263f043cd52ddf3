//! Model and rule governance (migration 0018): requests to change a
//! model's active version with their second-person decision, the drift of
//! each scored population, the activation log, health bands by scoring
//! date, and the facts rule performance is measured on (alerts with
//! whether they were acted on, past-due statements).
//!
//! Like the rest of the store: no rules here (who may approve, what PSI
//! means, what counts as an outcome live in the services).

use crate::dialect::on_pool;
use crate::{Result, Store};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// A request to activate a version or roll a kind back, and its decision.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ModelChangeRequestRow {
    pub id: i64,
    pub kind: String,
    /// `activate` or `rollback`.
    pub action: String,
    /// The version to activate (activate only).
    pub model_id: Option<i64>,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The version active after the approval.
    pub result_model_id: Option<i64>,
}

/// One entry of the activation log (`model_activation`).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ModelActivationRow {
    pub id: i64,
    pub kind: String,
    pub model_id: i64,
    /// `activate` or `rollback`.
    pub action: String,
    pub at: DateTime<Utc>,
    pub by_user: String,
}

/// The drift of the population a version scored as of one date.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ModelDriftRow {
    pub model_id: i64,
    pub as_of: NaiveDate,
    pub population: i64,
    pub psi: f64,
    /// JSON array: share of the population per band of the training scores.
    pub shares: String,
}

/// An alert as rule performance reads it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct RuleAlertFact {
    pub id: i64,
    pub customer_id: i64,
    pub rule: String,
    pub raised_on: NaiveDate,
    /// The alert reached the status `actioned` at some point.
    pub acted: bool,
}

const REQUEST_COLUMNS: &str = "id, kind, action, model_id, requested_by, requested_at, status, \
                               decided_by, decided_at, result_model_id";

impl Store {
    /// Records a pending request; returns it.
    pub async fn insert_model_change_request(
        &self,
        kind: &str,
        action: &str,
        model_id: Option<i64>,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<ModelChangeRequestRow> {
        let sql = format!(
            "INSERT INTO model_change_request (kind, action, model_id, requested_by, \
             requested_at, status) VALUES ($1, $2, $3, $4, $5, 'pending') \
             RETURNING {REQUEST_COLUMNS}"
        );
        Ok(on_pool!(self, p => sqlx::query_as(&sql)
            .bind(kind).bind(action).bind(model_id).bind(by).bind(now)
            .fetch_one(p).await?))
    }

    /// One request.
    pub async fn model_change_request(&self, id: i64) -> Result<Option<ModelChangeRequestRow>> {
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM model_change_request WHERE id = $1");
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await?))
    }

    /// Every request, newest first.
    pub async fn model_change_requests(&self) -> Result<Vec<ModelChangeRequestRow>> {
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM model_change_request ORDER BY id DESC");
        Ok(on_pool!(self, p => sqlx::query_as(&sql).fetch_all(p).await?))
    }

    /// Decides a pending request (`approved` or `rejected`); false when it
    /// was no longer pending (decided by someone else meanwhile).
    pub async fn decide_model_change_request(
        &self,
        id: i64,
        status: &str,
        by: &str,
        now: DateTime<Utc>,
        result_model_id: Option<i64>,
    ) -> Result<bool> {
        let sql = "UPDATE model_change_request SET status = $1, decided_by = $2, \
                   decided_at = $3, result_model_id = $4 WHERE id = $5 AND status = 'pending'";
        let done = on_pool!(self, p => sqlx::query(sql)
            .bind(status).bind(by).bind(now).bind(result_model_id).bind(id)
            .execute(p).await?.rows_affected());
        Ok(done == 1)
    }

    /// The activation log, oldest first.
    pub async fn model_activations(&self) -> Result<Vec<ModelActivationRow>> {
        let sql =
            "SELECT id, kind, model_id, action, at, by_user FROM model_activation ORDER BY id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await?))
    }

    /// Records (or replaces) the drift of `model_id`'s population as of `as_of`.
    pub async fn save_model_drift(&self, d: &ModelDriftRow) -> Result<()> {
        let del = "DELETE FROM model_drift WHERE model_id = $1 AND as_of = $2";
        let ins = "INSERT INTO model_drift (model_id, as_of, population, psi, shares) \
                   VALUES ($1, $2, $3, $4, $5)";
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(del).bind(d.model_id).bind(d.as_of).execute(&mut *tx).await?;
            sqlx::query(ins).bind(d.model_id).bind(d.as_of).bind(d.population).bind(d.psi)
                .bind(d.shares.as_str()).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Every recorded drift, by model then date.
    pub async fn model_drifts(&self) -> Result<Vec<ModelDriftRow>> {
        let sql = "SELECT model_id, as_of, population, psi, shares FROM model_drift \
                   ORDER BY model_id, as_of";
        Ok(on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await?))
    }

    /// Customers per health band on every scoring date: (as_of, band, customers), oldest first.
    pub async fn band_counts_by_date(&self) -> Result<Vec<(NaiveDate, String, i64)>> {
        let sql = "SELECT as_of, band, COUNT(*) FROM health_score GROUP BY as_of, band \
                   ORDER BY as_of, band";
        Ok(on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await?))
    }

    /// Every alert with whether it was ever actioned, oldest first.
    pub async fn rule_alert_facts(&self) -> Result<Vec<RuleAlertFact>> {
        let sql = "SELECT a.id, a.customer_id, a.rule, a.raised_on, \
                   (a.status = 'actioned' OR EXISTS (SELECT 1 FROM alert_event e \
                    WHERE e.alert_id = a.id AND e.to_status = 'actioned')) AS acted \
                   FROM alert a ORDER BY a.raised_on, a.id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await?))
    }

    /// Card statements at least `min_days` past due: (customer id, statement month's first day).
    pub async fn past_due_statements(&self, min_days: i64) -> Result<Vec<(i64, NaiveDate)>> {
        let sql = "SELECT customer_id, statement_month FROM card_statement \
                   WHERE days_past_due >= $1 ORDER BY customer_id, statement_month";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(min_days).fetch_all(p).await?))
    }
}
