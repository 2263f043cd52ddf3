//! Predictive models and matching results (migration `0006_matching`): the
//! model registry (versions per kind, one active, activation history with
//! roll back), batch model scores with their explanations, the suitability
//! decision log, the next best actions proposed per customer and their
//! outcomes.
//!
//! No rules about content: which model is good enough, which product suits a
//! customer or how actions rank is decided by `rapport-models`,
//! `rapport-matching` and the app. The one rule kept here is the order of the
//! registry: a roll back returns to the version active before the current one.

use crate::dialect::on_pool;
use crate::{Result, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// Rows per multi-row `INSERT` on SQLite (up to 12 columns each).
const SQLITE_ROWS: usize = 2_000;
/// Rows per `UNNEST` insert on PostgreSQL.
const PG_ROWS: usize = 50_000;

/// A model version to register.
#[derive(Debug, Clone)]
pub struct NewModelVersion<'a> {
    pub kind: &'a str,
    pub algorithm: &'a str,
    pub trained_by: &'a str,
    /// JSON: where the labels came from (windows, label definition, extract).
    pub source: &'a str,
    /// JSON: the validation summary.
    pub metrics: &'a str,
    /// JSON: the trained model artefact.
    pub artefact: &'a str,
}

/// A registered model version (without its artefact).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelVersionRow {
    pub id: i64,
    pub kind: String,
    pub version: i64,
    pub algorithm: String,
    pub trained_at: DateTime<Utc>,
    pub trained_by: String,
    pub source: String,
    pub metrics: String,
    pub active: bool,
}

/// One customer's batch score by one model version.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelScoreRow {
    pub customer_id: i64,
    pub probability: f64,
    pub points: Option<f64>,
    /// JSON array of reasons (points per feature or top tree features).
    pub reasons: String,
}

/// A customer's score by the active model of one kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerModelScore {
    pub kind: String,
    pub model_id: i64,
    pub version: i64,
    pub algorithm: String,
    pub as_of: NaiveDate,
    pub probability: f64,
    pub points: Option<f64>,
    pub reasons: String,
}

/// One suitability decision to log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuitabilityDecisionRow {
    pub customer_id: i64,
    pub product_code: String,
    /// propose | offer | sell
    pub context: String,
    pub allowed: bool,
    pub code: String,
    pub product_risk: i64,
    pub tolerance: Option<String>,
    pub assessed_on: Option<NaiveDate>,
    pub reason: String,
    pub decided_by: String,
}

/// A logged suitability decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoggedDecision {
    pub id: i64,
    pub decided_at: DateTime<Utc>,
    #[serde(flatten)]
    pub decision: SuitabilityDecisionRow,
}

/// A next best action to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRecommendation {
    pub customer_id: i64,
    pub rank: i64,
    /// retention | reassessment | sale
    pub action: String,
    pub product_code: Option<String>,
    pub priority: f64,
    /// JSON: sources, factors, reasons in zh and en, channels.
    pub detail: String,
}

/// A stored next best action.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecommendationRow {
    pub id: i64,
    pub customer_id: i64,
    pub as_of: NaiveDate,
    pub generated_at: DateTime<Utc>,
    pub rank: i64,
    pub action: String,
    pub product_code: Option<String>,
    pub priority: f64,
    pub detail: String,
    pub status: String,
    pub status_at: DateTime<Utc>,
}

/// A product of the store's shelf (`product`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub category: String,
    pub risk_level: i64,
}

/// Which proposals a recommendation run replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecommendationScope {
    /// Every customer's open proposals (a batch run).
    All,
    /// One customer's open proposals.
    Customer(i64),
}

/// Outcome counts per action kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutcomeCount {
    pub action: String,
    pub status: String,
    pub count: i64,
}

type ModelRaw = (
    i64,
    String,
    i64,
    String,
    DateTime<Utc>,
    String,
    String,
    String,
    bool,
);

const MODEL_COLUMNS: &str =
    "id, kind, version, algorithm, trained_at, trained_by, source, metrics, active";

fn model_row(r: ModelRaw) -> ModelVersionRow {
    ModelVersionRow {
        id: r.0,
        kind: r.1,
        version: r.2,
        algorithm: r.3,
        trained_at: r.4,
        trained_by: r.5,
        source: r.6,
        metrics: r.7,
        active: r.8,
    }
}

type RecRaw = (
    i64,
    i64,
    NaiveDate,
    DateTime<Utc>,
    i64,
    String,
    Option<String>,
    f64,
    String,
    String,
    DateTime<Utc>,
);

const REC_COLUMNS: &str = "id, customer_id, as_of, generated_at, rank, action, product_code, \
                           priority, detail, status, status_at";

fn rec_row(r: RecRaw) -> RecommendationRow {
    RecommendationRow {
        id: r.0,
        customer_id: r.1,
        as_of: r.2,
        generated_at: r.3,
        rank: r.4,
        action: r.5,
        product_code: r.6,
        priority: r.7,
        detail: r.8,
        status: r.9,
        status_at: r.10,
    }
}

/// `(?, ?, …)` rows for a multi-row SQLite insert.
fn sqlite_values(rows: usize, cols: usize) -> String {
    let one = format!("({})", vec!["?"; cols].join(", "));
    vec![one; rows].join(",")
}

impl Store {
    /// The product shelf, by id.
    pub async fn products(&self) -> Result<Vec<ProductRow>> {
        let sql =
            "SELECT id, code, name, category, CAST(risk_level AS BIGINT) FROM product ORDER BY id";
        let rows: Vec<(i64, String, String, String, i64)> =
            on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|r| ProductRow {
                id: r.0,
                code: r.1,
                name: r.2,
                category: r.3,
                risk_level: r.4,
            })
            .collect())
    }

    /// Customers and channels with a granted, unrevoked consent for `purpose`
    /// (`marketing` or `service`) on `day`.
    pub async fn consented_channels(
        &self,
        purpose: &str,
        day: NaiveDate,
    ) -> Result<Vec<(i64, String)>> {
        // Any granted, unrevoked record counts here (a later refusal does not
        // remove it, unlike the contact policy's latest-record rule; the
        // send itself is decided by the policy).
        let sql = "SELECT DISTINCT customer_id, channel FROM consent_all WHERE purpose = $1 \
                   AND granted AND recorded_on <= $2 AND (revoked_on IS NULL OR revoked_on > $2)";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(purpose).bind(day).fetch_all(p).await?))
    }

    /// Every open (not closed) alert's customer and rule code, by customer.
    pub async fn open_alert_rules(&self) -> Result<Vec<(i64, String)>> {
        let sql = "SELECT DISTINCT customer_id, rule FROM alert WHERE status <> 'closed' \
                   ORDER BY customer_id, rule";
        Ok(on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await?))
    }

    /// The detail (JSON) of one customer's latest stored next best action,
    /// whatever its product: it carries the facts the lending rule saw.
    pub async fn latest_recommendation_detail(&self, customer_id: i64) -> Result<Option<String>> {
        let sql = "SELECT detail FROM recommendation WHERE customer_id = $1 \
                   ORDER BY as_of DESC, id DESC LIMIT 1";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).bind(customer_id).fetch_optional(p).await?))
    }

    /// The rule codes of one customer's open (not closed) alerts.
    pub async fn customer_open_alert_rules(&self, customer_id: i64) -> Result<Vec<String>> {
        let sql = "SELECT DISTINCT rule FROM alert WHERE customer_id = $1 AND status <> 'closed' \
                   ORDER BY rule";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).bind(customer_id).fetch_all(p).await?))
    }

    /// One customer's most days past due as of `on`: over the loans granted
    /// before `on` and the card statements of the months in `[on - 365 days, on)`
    /// (the definition of the feature `max_days_past_due`); `None` when the
    /// customer has neither.
    pub async fn customer_max_days_past_due(
        &self,
        customer_id: i64,
        on: NaiveDate,
    ) -> Result<Option<i64>> {
        let from = on - chrono::Duration::days(365);
        let sql = "SELECT CAST(MAX(d) AS BIGINT) FROM (\
                   SELECT days_past_due AS d FROM loan WHERE customer_id = $1 AND granted_on < $2 \
                   UNION ALL SELECT days_past_due AS d FROM card_statement \
                   WHERE customer_id = $1 AND statement_month >= $3 AND statement_month < $2) x";
        let v: Option<i64> = on_pool!(self, p => sqlx::query_scalar(sql)
            .bind(customer_id).bind(on).bind(from).fetch_one(p).await?);
        Ok(v)
    }

    /// One customer's latest health score on or before `on`: (as_of, score, band).
    pub async fn customer_latest_health(
        &self,
        customer_id: i64,
        on: NaiveDate,
    ) -> Result<Option<(NaiveDate, f64, String)>> {
        let sql = "SELECT as_of, score, band FROM health_score WHERE customer_id = $1 \
                   AND as_of <= $2 ORDER BY as_of DESC LIMIT 1";
        Ok(
            on_pool!(self, p => sqlx::query_as(sql).bind(customer_id).bind(on)
            .fetch_optional(p).await?),
        )
    }

    /// Customers with a retention action offered and not yet concluded.
    pub async fn customers_with_offered_retention(&self) -> Result<Vec<i64>> {
        let sql = "SELECT DISTINCT customer_id FROM recommendation \
                   WHERE action = 'retention' AND status = 'offered' ORDER BY customer_id";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).fetch_all(p).await?))
    }

    /// A customer's open (proposed or offered) retention actions, oldest first.
    pub async fn open_retention_actions(&self, customer_id: i64) -> Result<Vec<i64>> {
        let sql = "SELECT id FROM recommendation WHERE customer_id = $1 \
                   AND action = 'retention' AND status IN ('proposed', 'offered') ORDER BY id";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).bind(customer_id).fetch_all(p).await?))
    }

    /// A customer's stored risk tolerance and the day it was assessed.
    pub async fn customer_risk(
        &self,
        customer_id: i64,
    ) -> Result<Option<(Option<String>, Option<NaiveDate>)>> {
        let sql = "SELECT risk_tolerance, risk_assessed_on FROM customer WHERE id = $1";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(customer_id).fetch_optional(p).await?))
    }

    /// Registers a model version as the next version of its kind (not active).
    pub async fn register_model(
        &self,
        m: &NewModelVersion<'_>,
        now: DateTime<Utc>,
    ) -> Result<ModelVersionRow> {
        let next = "SELECT COALESCE(MAX(version), 0) + 1 FROM model_version WHERE kind = $1";
        let insert = format!(
            "INSERT INTO model_version (kind, version, algorithm, trained_at, trained_by, source, \
             metrics, artefact, active) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, FALSE) \
             RETURNING {MODEL_COLUMNS}"
        );
        let raw: ModelRaw = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let version: i64 = sqlx::query_scalar(next).bind(m.kind).fetch_one(&mut *tx).await?;
            let raw = sqlx::query_as(&insert)
                .bind(m.kind).bind(version).bind(m.algorithm).bind(now).bind(m.trained_by)
                .bind(m.source).bind(m.metrics).bind(m.artefact)
                .fetch_one(&mut *tx).await?;
            tx.commit().await?;
            raw
        });
        Ok(model_row(raw))
    }

    /// Registered versions (of one kind, or all), by kind then version.
    pub async fn model_versions(&self, kind: Option<&str>) -> Result<Vec<ModelVersionRow>> {
        let filter = if kind.is_some() {
            "WHERE kind = $1"
        } else {
            ""
        };
        let sql =
            format!("SELECT {MODEL_COLUMNS} FROM model_version {filter} ORDER BY kind, version");
        let rows: Vec<ModelRaw> = on_pool!(self, p => {
            let mut q = sqlx::query_as(&sql);
            if let Some(k) = kind { q = q.bind(k); }
            q.fetch_all(p).await?
        });
        Ok(rows.into_iter().map(model_row).collect())
    }

    /// One version with its artefact JSON.
    pub async fn model_with_artefact(&self, id: i64) -> Result<Option<(ModelVersionRow, String)>> {
        let sql = format!("SELECT {MODEL_COLUMNS}, artefact FROM model_version WHERE id = $1");
        type Raw = (
            i64,
            String,
            i64,
            String,
            DateTime<Utc>,
            String,
            String,
            String,
            bool,
            String,
        );
        let raw: Option<Raw> =
            on_pool!(self, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await?);
        Ok(raw.map(|r| {
            let artefact = r.9.clone();
            (
                model_row((r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8)),
                artefact,
            )
        }))
    }

    /// The active version of a kind.
    pub async fn active_model(&self, kind: &str) -> Result<Option<ModelVersionRow>> {
        let sql = format!("SELECT {MODEL_COLUMNS} FROM model_version WHERE kind = $1 AND active");
        let raw: Option<ModelRaw> =
            on_pool!(self, p => sqlx::query_as(&sql).bind(kind).fetch_optional(p).await?);
        Ok(raw.map(model_row))
    }

    /// Makes version `id` the active one of its kind and records the activation.
    pub async fn activate_model(
        &self,
        id: i64,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<ModelVersionRow> {
        let kind: Option<String> = on_pool!(self, p =>
            sqlx::query_scalar("SELECT kind FROM model_version WHERE id = $1")
                .bind(id).fetch_optional(p).await?);
        let kind = kind.ok_or_else(|| StoreError::NotFound(format!("model version {id}")))?;
        self.set_active(&kind, id, "activate", by, now).await?;
        self.model_by_id(id).await
    }

    /// Re-activates the version that was active before the current one of
    /// `kind` (activations are a stack: activate pushes, roll back pops).
    /// None when there is nothing to return to.
    pub async fn rollback_model(
        &self,
        kind: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ModelVersionRow>> {
        let sql = "SELECT model_id, action FROM model_activation WHERE kind = $1 ORDER BY id";
        let log: Vec<(i64, String)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(kind).fetch_all(p).await?);
        let mut stack: Vec<i64> = Vec::new();
        for (model, action) in log {
            if action == "rollback" {
                stack.pop();
            } else {
                stack.push(model);
            }
        }
        stack.pop();
        let Some(&previous) = stack.last() else {
            return Ok(None);
        };
        self.set_active(kind, previous, "rollback", by, now).await?;
        Ok(Some(self.model_by_id(previous).await?))
    }

    async fn model_by_id(&self, id: i64) -> Result<ModelVersionRow> {
        let sql = format!("SELECT {MODEL_COLUMNS} FROM model_version WHERE id = $1");
        let raw: Option<ModelRaw> =
            on_pool!(self, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await?);
        raw.map(model_row)
            .ok_or_else(|| StoreError::NotFound(format!("model version {id}")))
    }

    async fn set_active(
        &self,
        kind: &str,
        id: i64,
        action: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let off = "UPDATE model_version SET active = FALSE WHERE kind = $1 AND active";
        let on = "UPDATE model_version SET active = TRUE WHERE id = $1";
        let log = "INSERT INTO model_activation (kind, model_id, action, at, by_user) \
                   VALUES ($1, $2, $3, $4, $5)";
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(off).bind(kind).execute(&mut *tx).await?;
            sqlx::query(on).bind(id).execute(&mut *tx).await?;
            sqlx::query(log).bind(kind).bind(id).bind(action).bind(now).bind(by)
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Replaces every score of model `model_id` with `rows` (as of `as_of`).
    pub async fn save_model_scores(
        &self,
        model_id: i64,
        as_of: NaiveDate,
        rows: &[ModelScoreRow],
    ) -> Result<u64> {
        match self {
            Store::Sqlite(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("DELETE FROM model_score WHERE model_id = ?")
                    .bind(model_id)
                    .execute(&mut *tx)
                    .await?;
                for block in rows.chunks(SQLITE_ROWS) {
                    let sql = format!(
                        "INSERT INTO model_score (model_id, customer_id, as_of, probability, \
                         points, reasons) VALUES {}",
                        sqlite_values(block.len(), 6)
                    );
                    let mut q = sqlx::query(&sql);
                    for r in block {
                        q = q
                            .bind(model_id)
                            .bind(r.customer_id)
                            .bind(as_of)
                            .bind(r.probability)
                            .bind(r.points)
                            .bind(r.reasons.as_str());
                    }
                    q.execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
            Store::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("DELETE FROM model_score WHERE model_id = $1")
                    .bind(model_id)
                    .execute(&mut *tx)
                    .await?;
                for block in rows.chunks(PG_ROWS) {
                    let ids: Vec<i64> = block.iter().map(|r| r.customer_id).collect();
                    let probs: Vec<f64> = block.iter().map(|r| r.probability).collect();
                    let points: Vec<Option<f64>> = block.iter().map(|r| r.points).collect();
                    let reasons: Vec<&str> = block.iter().map(|r| r.reasons.as_str()).collect();
                    sqlx::query(
                        "INSERT INTO model_score (model_id, customer_id, as_of, probability, \
                         points, reasons) SELECT $1, u.id, $2, u.p, u.pts, u.r \
                         FROM UNNEST($3::BIGINT[], $4::DOUBLE PRECISION[], \
                         $5::DOUBLE PRECISION[], $6::TEXT[]) AS u(id, p, pts, r)",
                    )
                    .bind(model_id)
                    .bind(as_of)
                    .bind(&ids)
                    .bind(&probs)
                    .bind(&points)
                    .bind(&reasons)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
            }
        }
        Ok(rows.len() as u64)
    }

    /// Every customer's probability by the active model of `kind` (empty when none is active).
    pub async fn active_model_scores(&self, kind: &str) -> Result<Vec<(i64, f64)>> {
        let sql = "SELECT s.customer_id, s.probability FROM model_score s \
                   JOIN model_version m ON m.id = s.model_id WHERE m.kind = $1 AND m.active";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(kind).fetch_all(p).await?))
    }

    /// The customer's scores by every active model, by kind.
    pub async fn customer_model_scores(&self, customer_id: i64) -> Result<Vec<CustomerModelScore>> {
        let sql = "SELECT m.kind, m.id, m.version, m.algorithm, s.as_of, s.probability, s.points, \
                   s.reasons FROM model_score s JOIN model_version m ON m.id = s.model_id \
                   WHERE s.customer_id = $1 AND m.active ORDER BY m.kind";
        type Raw = (
            String,
            i64,
            i64,
            String,
            NaiveDate,
            f64,
            Option<f64>,
            String,
        );
        let rows: Vec<Raw> =
            on_pool!(self, p => sqlx::query_as(sql).bind(customer_id).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|r| CustomerModelScore {
                kind: r.0,
                model_id: r.1,
                version: r.2,
                algorithm: r.3,
                as_of: r.4,
                probability: r.5,
                points: r.6,
                reasons: r.7,
            })
            .collect())
    }

    /// Appends suitability decisions to the log (all stamped `now`).
    pub async fn log_suitability(
        &self,
        rows: &[SuitabilityDecisionRow],
        now: DateTime<Utc>,
    ) -> Result<u64> {
        const COLS: &str = "customer_id, product_code, context, decided_at, allowed, code, \
                            product_risk, tolerance, assessed_on, reason, decided_by";
        match self {
            Store::Sqlite(p) => {
                let mut tx = p.begin().await?;
                for block in rows.chunks(SQLITE_ROWS) {
                    let sql = format!(
                        "INSERT INTO suitability_decision ({COLS}) VALUES {}",
                        sqlite_values(block.len(), 11)
                    );
                    let mut q = sqlx::query(&sql);
                    for r in block {
                        q = q
                            .bind(r.customer_id)
                            .bind(r.product_code.as_str())
                            .bind(r.context.as_str())
                            .bind(now)
                            .bind(r.allowed)
                            .bind(r.code.as_str())
                            .bind(r.product_risk)
                            .bind(r.tolerance.as_deref())
                            .bind(r.assessed_on)
                            .bind(r.reason.as_str())
                            .bind(r.decided_by.as_str());
                    }
                    q.execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
            Store::Postgres(p) => {
                let mut tx = p.begin().await?;
                for block in rows.chunks(PG_ROWS) {
                    let col = |f: fn(&SuitabilityDecisionRow) -> String| -> Vec<String> {
                        block.iter().map(f).collect()
                    };
                    let ids: Vec<i64> = block.iter().map(|r| r.customer_id).collect();
                    let allowed: Vec<bool> = block.iter().map(|r| r.allowed).collect();
                    let risk: Vec<i64> = block.iter().map(|r| r.product_risk).collect();
                    let tol: Vec<Option<String>> =
                        block.iter().map(|r| r.tolerance.clone()).collect();
                    let assessed: Vec<Option<NaiveDate>> =
                        block.iter().map(|r| r.assessed_on).collect();
                    sqlx::query(&format!(
                        "INSERT INTO suitability_decision ({COLS}) \
                         SELECT u.c, u.pc, u.ctx, $1, u.a, u.code, u.r, u.t, u.d, u.reason, u.by \
                         FROM UNNEST($2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::BOOLEAN[], \
                         $6::TEXT[], $7::BIGINT[], $8::TEXT[], $9::DATE[], $10::TEXT[], \
                         $11::TEXT[]) AS u(c, pc, ctx, a, code, r, t, d, reason, by)"
                    ))
                    .bind(now)
                    .bind(&ids)
                    .bind(col(|r| r.product_code.clone()))
                    .bind(col(|r| r.context.clone()))
                    .bind(&allowed)
                    .bind(col(|r| r.code.clone()))
                    .bind(&risk)
                    .bind(&tol)
                    .bind(&assessed)
                    .bind(col(|r| r.reason.clone()))
                    .bind(col(|r| r.decided_by.clone()))
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
            }
        }
        Ok(rows.len() as u64)
    }

    /// The customer's latest suitability decisions, newest first.
    pub async fn suitability_log(
        &self,
        customer_id: i64,
        limit: i64,
    ) -> Result<Vec<LoggedDecision>> {
        let sql = format!(
            "SELECT id, decided_at, customer_id, product_code, context, allowed, code, \
             product_risk, tolerance, assessed_on, reason, decided_by FROM suitability_decision \
             WHERE customer_id = $1 ORDER BY id DESC LIMIT {}",
            limit.clamp(1, 10_000)
        );
        type Raw = (
            i64,
            DateTime<Utc>,
            i64,
            String,
            String,
            bool,
            String,
            i64,
            Option<String>,
            Option<NaiveDate>,
            String,
            String,
        );
        let rows: Vec<Raw> =
            on_pool!(self, p => sqlx::query_as(&sql).bind(customer_id).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|r| LoggedDecision {
                id: r.0,
                decided_at: r.1,
                decision: SuitabilityDecisionRow {
                    customer_id: r.2,
                    product_code: r.3,
                    context: r.4,
                    allowed: r.5,
                    code: r.6,
                    product_risk: r.7,
                    tolerance: r.8,
                    assessed_on: r.9,
                    reason: r.10,
                    decided_by: r.11,
                },
            })
            .collect())
    }

    /// Replaces the open (`proposed`) recommendations in `scope` with `rows`.
    /// Offered, accepted and declined ones are kept as history.
    pub async fn replace_recommendations(
        &self,
        scope: RecommendationScope,
        as_of: NaiveDate,
        rows: &[NewRecommendation],
        now: DateTime<Utc>,
    ) -> Result<u64> {
        const COLS: &str = "customer_id, as_of, generated_at, rank, action, product_code, \
                            priority, detail, status, status_at";
        let (delete, customer) = match scope {
            RecommendationScope::All => (
                "DELETE FROM recommendation WHERE status = 'proposed' AND customer_id <> $1",
                -1,
            ),
            RecommendationScope::Customer(id) => (
                "DELETE FROM recommendation WHERE status = 'proposed' AND customer_id = $1",
                id,
            ),
        };
        match self {
            Store::Sqlite(p) => {
                let mut tx = p.begin().await?;
                sqlx::query(delete).bind(customer).execute(&mut *tx).await?;
                for block in rows.chunks(SQLITE_ROWS) {
                    let sql = format!(
                        "INSERT INTO recommendation ({COLS}) VALUES {}",
                        sqlite_values(block.len(), 10)
                    );
                    let mut q = sqlx::query(&sql);
                    for r in block {
                        q = q
                            .bind(r.customer_id)
                            .bind(as_of)
                            .bind(now)
                            .bind(r.rank)
                            .bind(r.action.as_str())
                            .bind(r.product_code.as_deref())
                            .bind(r.priority)
                            .bind(r.detail.as_str())
                            .bind("proposed")
                            .bind(now);
                    }
                    q.execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
            Store::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query(delete).bind(customer).execute(&mut *tx).await?;
                for block in rows.chunks(PG_ROWS) {
                    let ids: Vec<i64> = block.iter().map(|r| r.customer_id).collect();
                    let ranks: Vec<i64> = block.iter().map(|r| r.rank).collect();
                    let actions: Vec<&str> = block.iter().map(|r| r.action.as_str()).collect();
                    let products: Vec<Option<&str>> =
                        block.iter().map(|r| r.product_code.as_deref()).collect();
                    let prio: Vec<f64> = block.iter().map(|r| r.priority).collect();
                    let detail: Vec<&str> = block.iter().map(|r| r.detail.as_str()).collect();
                    sqlx::query(&format!(
                        "INSERT INTO recommendation ({COLS}) \
                         SELECT u.c, $1, $2, u.rk, u.a, u.pc, u.pr, u.d, 'proposed', $2 \
                         FROM UNNEST($3::BIGINT[], $4::BIGINT[], $5::TEXT[], $6::TEXT[], \
                         $7::DOUBLE PRECISION[], $8::TEXT[]) AS u(c, rk, a, pc, pr, d)"
                    ))
                    .bind(as_of)
                    .bind(now)
                    .bind(&ids)
                    .bind(&ranks)
                    .bind(&actions)
                    .bind(&products)
                    .bind(&prio)
                    .bind(&detail)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
            }
        }
        Ok(rows.len() as u64)
    }

    /// The customer's recommendations: open ones (proposed and offered) —
    /// retention first, then reassessment, then sales, proposed before
    /// offered and by rank — then the latest accepted and declined (at most
    /// `history` of those). An offered retention action thus stays first
    /// until it is concluded, whatever was proposed since.
    pub async fn customer_recommendations(
        &self,
        customer_id: i64,
        history: i64,
    ) -> Result<Vec<RecommendationRow>> {
        let open = format!(
            "SELECT {REC_COLUMNS} FROM recommendation WHERE customer_id = $1 \
             AND status IN ('proposed', 'offered') ORDER BY CASE action \
             WHEN 'retention' THEN 0 WHEN 'reassessment' THEN 1 ELSE 2 END, status DESC, rank, id"
        );
        let closed = format!(
            "SELECT {REC_COLUMNS} FROM recommendation WHERE customer_id = $1 \
             AND status IN ('accepted', 'declined') ORDER BY status_at DESC, id DESC LIMIT {}",
            history.clamp(0, 1000)
        );
        let (mut a, b): (Vec<RecRaw>, Vec<RecRaw>) = on_pool!(self, p => (
            sqlx::query_as(&open).bind(customer_id).fetch_all(p).await?,
            sqlx::query_as(&closed).bind(customer_id).fetch_all(p).await?,
        ));
        a.extend(b);
        Ok(a.into_iter().map(rec_row).collect())
    }

    /// One recommendation.
    pub async fn recommendation(&self, id: i64) -> Result<Option<RecommendationRow>> {
        let sql = format!("SELECT {REC_COLUMNS} FROM recommendation WHERE id = $1");
        let raw: Option<RecRaw> =
            on_pool!(self, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await?);
        Ok(raw.map(rec_row))
    }

    /// Records an outcome (`offered`, `accepted`, `declined`) of a
    /// recommendation and moves its status; returns the updated row.
    pub async fn record_recommendation_outcome(
        &self,
        id: i64,
        outcome: &str,
        by: &str,
        channel: Option<&str>,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<RecommendationRow> {
        let update = "UPDATE recommendation SET status = $1, status_at = $2 WHERE id = $3";
        let insert = "INSERT INTO recommendation_outcome (recommendation_id, outcome, \
                      recorded_at, recorded_by, channel, note) VALUES ($1, $2, $3, $4, $5, $6)";
        let n = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query(update).bind(outcome).bind(now).bind(id)
                .execute(&mut *tx).await?.rows_affected();
            if n > 0 {
                sqlx::query(insert).bind(id).bind(outcome).bind(now).bind(by).bind(channel)
                    .bind(note).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            n
        });
        if n == 0 {
            return Err(StoreError::NotFound(format!("recommendation {id}")));
        }
        self.recommendation(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("recommendation {id}")))
    }

    /// Recommendations by action kind and status (the outcome funnel).
    pub async fn recommendation_outcomes(&self) -> Result<Vec<OutcomeCount>> {
        let sql = "SELECT action, status, COUNT(*) FROM recommendation \
                   GROUP BY action, status ORDER BY action, status";
        let rows: Vec<(String, String, i64)> =
            on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|(action, status, count)| OutcomeCount {
                action,
                status,
                count,
            })
            .collect())
    }
}
