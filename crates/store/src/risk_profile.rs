//! Risk-tolerance assessments (`risk_assessment`, migration 0016): the
//! history of a customer's questionnaires and the write that makes the
//! latest one the tolerance the suitability rule reads.
//!
//! Recording an assessment, in one transaction: the imported assessment on
//! the customer row is first copied into the history (source `import`) when
//! the history is still empty, the new row is inserted, and the customer's
//! `risk_tolerance` / `risk_assessed_on` are set to it unless the row holds
//! a later assessment. So `customer.risk_tolerance` always holds the latest
//! assessment, recorded or imported, and every reader of suitability (the
//! recommendation run, campaigns, the check at offer and sale) reads it.

use crate::dialect::on_pool;
use crate::{Result, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// An assessment to record.
#[derive(Debug, Clone)]
pub struct NewRiskAssessment<'a> {
    pub customer_id: i64,
    pub questionnaire: &'a str,
    /// JSON object: question id → option letter.
    pub answers: &'a str,
    pub score: i64,
    /// `c1` … `c5`.
    pub tolerance: &'a str,
    pub assessed_on: NaiveDate,
    pub recorded_by: &'a str,
}

/// One assessment of the history.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct RiskAssessmentRow {
    pub id: i64,
    pub customer_id: i64,
    /// `rapport` (answered through Rapport) or `import` (the imported value).
    pub source: String,
    pub questionnaire: Option<String>,
    /// JSON text: question id → option letter.
    pub answers: Option<String>,
    pub score: Option<i64>,
    pub tolerance: String,
    pub assessed_on: NaiveDate,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, customer_id, source, questionnaire, answers, score, tolerance, \
                       assessed_on, recorded_by, recorded_at";

impl Store {
    /// Records an assessment (see the module documentation); returns its row.
    pub async fn record_risk_assessment(
        &self,
        a: &NewRiskAssessment<'_>,
        now: DateTime<Utc>,
    ) -> Result<RiskAssessmentRow> {
        let keep_import = "INSERT INTO risk_assessment (customer_id, source, tolerance, \
             assessed_on, recorded_by, recorded_at) \
             SELECT c.id, 'import', c.risk_tolerance, c.risk_assessed_on, 'system:import', $2 \
             FROM customer c WHERE c.id = $1 AND c.risk_tolerance IS NOT NULL \
             AND c.risk_assessed_on IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM risk_assessment r WHERE r.customer_id = c.id)";
        let insert = format!(
            "INSERT INTO risk_assessment (customer_id, source, questionnaire, answers, score, \
             tolerance, assessed_on, recorded_by, recorded_at) \
             VALUES ($1, 'rapport', $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
        );
        let latest = "UPDATE customer SET risk_tolerance = $2, risk_assessed_on = $3 \
             WHERE id = $1 AND (risk_assessed_on IS NULL OR risk_assessed_on <= $3)";
        let exists = "SELECT COUNT(*) FROM customer WHERE id = $1";
        Ok(on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let n: i64 = sqlx::query_scalar(exists).bind(a.customer_id).fetch_one(&mut *tx).await?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("customer #{}", a.customer_id)));
            }
            sqlx::query(keep_import).bind(a.customer_id).bind(now).execute(&mut *tx).await?;
            let row: RiskAssessmentRow = sqlx::query_as(&insert)
                .bind(a.customer_id).bind(a.questionnaire).bind(a.answers).bind(a.score)
                .bind(a.tolerance).bind(a.assessed_on).bind(a.recorded_by).bind(now)
                .fetch_one(&mut *tx).await?;
            sqlx::query(latest).bind(a.customer_id).bind(a.tolerance).bind(a.assessed_on)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            row
        }))
    }

    /// A customer's assessments, newest first (by assessment date, then as
    /// recorded). Before the first recorded one, the imported value on the
    /// customer row is shown as the only entry (source `import`, id 0).
    pub async fn risk_assessments(&self, customer_id: i64) -> Result<Vec<RiskAssessmentRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM risk_assessment WHERE customer_id = $1 \
             ORDER BY assessed_on DESC, id DESC"
        );
        let imported = "SELECT risk_tolerance, risk_assessed_on FROM customer WHERE id = $1";
        type Imported = Option<(Option<String>, Option<NaiveDate>)>;
        let rows: Vec<RiskAssessmentRow> =
            on_pool!(self, p => sqlx::query_as(&sql).bind(customer_id).fetch_all(p).await?);
        let customer: Imported = on_pool!(self, p => sqlx::query_as(imported).bind(customer_id).fetch_optional(p).await?);
        if rows.is_empty() {
            if let Some((Some(tolerance), Some(assessed_on))) = customer {
                return Ok(vec![RiskAssessmentRow {
                    id: 0,
                    customer_id,
                    source: "import".into(),
                    questionnaire: None,
                    answers: None,
                    score: None,
                    tolerance,
                    assessed_on,
                    recorded_by: "system:import".into(),
                    recorded_at: assessed_on
                        .and_hms_opt(0, 0, 0)
                        .map(|t| t.and_utc())
                        .unwrap_or_default(),
                }]);
            }
        }
        Ok(rows)
    }
}
