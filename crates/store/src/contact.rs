//! Contact policy data (migrations `0007_contact`, `0012_consent_change`):
//! a customer's consents as the policy reads them (imported and recorded
//! here, through the view `consent_all`), recording a consent, the do-not-disturb choice, the log of send
//! decisions, and the reachability figure (customers with at least one live
//! consent). The policy itself lives in `rapport-engage`.

use crate::dialect::on_pool;
use crate::{Result, Store};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;

/// One consent row of a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentRow {
    pub channel: String,
    pub purpose: String,
    pub granted: bool,
    pub recorded_on: NaiveDate,
    pub revoked_on: Option<NaiveDate>,
}

/// A send decision to log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactDecisionRow {
    pub customer_id: i64,
    pub channel: String,
    pub purpose: String,
    pub send_at: NaiveDateTime,
    pub allowed: bool,
    pub code: String,
    pub defer_until: Option<NaiveDateTime>,
    pub reason: String,
    pub context: String,
    pub decided_by: String,
}

/// A logged send decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoggedContactDecision {
    pub id: i64,
    pub decided_at: DateTime<Utc>,
    #[serde(flatten)]
    pub decision: ContactDecisionRow,
}

/// Customers reachable by at least one live consent on a day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Reachability {
    pub customers: i64,
    /// With a live consent for any purpose.
    pub reachable: i64,
    /// With a live marketing consent.
    pub reachable_marketing: i64,
}

impl Store {
    /// The customer's consent rows, oldest first.
    pub async fn customer_consents(&self, customer_id: i64) -> Result<Vec<ConsentRow>> {
        let sql = "SELECT channel, purpose, granted, recorded_on, revoked_on FROM consent_all \
                   WHERE customer_id = $1 ORDER BY recorded_on, seq, id";
        let rows: Vec<(String, String, bool, NaiveDate, Option<NaiveDate>)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(customer_id).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|r| ConsentRow {
                channel: r.0,
                purpose: r.1,
                granted: r.2,
                recorded_on: r.3,
                revoked_on: r.4,
            })
            .collect())
    }

    /// Records a consent given or refused in Rapport (`consent_change`);
    /// the latest record per channel and purpose decides. Returns its id.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_consent(
        &self,
        customer_id: i64,
        channel: &str,
        purpose: &str,
        granted: bool,
        on: NaiveDate,
        source: &str,
        by: &str,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let sql = "INSERT INTO consent_change (customer_id, channel, purpose, granted, \
                   recorded_on, source, recorded_by, recorded_at, note) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
        Ok(
            on_pool!(self, p => sqlx::query_scalar(sql).bind(customer_id).bind(channel)
            .bind(purpose).bind(granted).bind(on).bind(source).bind(by).bind(now).bind(note)
            .fetch_one(p).await?),
        )
    }

    /// Whether the customer chose not to be disturbed.
    pub async fn do_not_disturb(&self, customer_id: i64) -> Result<bool> {
        let sql = "SELECT do_not_disturb FROM contact_preference WHERE customer_id = $1";
        let v: Option<bool> =
            on_pool!(self, p => sqlx::query_scalar(sql).bind(customer_id).fetch_optional(p).await?);
        Ok(v.unwrap_or(false))
    }

    /// Records the customer's do-not-disturb choice.
    pub async fn set_do_not_disturb(
        &self,
        customer_id: i64,
        on: bool,
        reason: Option<&str>,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let sql = "INSERT INTO contact_preference (customer_id, do_not_disturb, reason, \
                   updated_at, updated_by) VALUES ($1, $2, $3, $4, $5) \
                   ON CONFLICT (customer_id) DO UPDATE SET do_not_disturb = excluded.do_not_disturb, \
                   reason = excluded.reason, updated_at = excluded.updated_at, \
                   updated_by = excluded.updated_by";
        on_pool!(self, p => {
            sqlx::query(sql).bind(customer_id).bind(on).bind(reason).bind(now).bind(by)
                .execute(p).await?;
        });
        Ok(())
    }

    /// Appends send decisions to the log (stamped `now`).
    pub async fn log_contact_decisions(
        &self,
        rows: &[ContactDecisionRow],
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let sql = "INSERT INTO contact_decision (customer_id, channel, purpose, send_at, \
                   decided_at, allowed, code, defer_until, reason, context, decided_by) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for r in rows {
                sqlx::query(sql)
                    .bind(r.customer_id).bind(&r.channel).bind(&r.purpose).bind(r.send_at)
                    .bind(now).bind(r.allowed).bind(&r.code).bind(r.defer_until)
                    .bind(&r.reason).bind(&r.context).bind(&r.decided_by)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(rows.len() as u64)
    }

    /// The customer's latest send decisions, newest first.
    pub async fn contact_decisions(
        &self,
        customer_id: i64,
        limit: i64,
    ) -> Result<Vec<LoggedContactDecision>> {
        let sql = format!(
            "SELECT id, decided_at, customer_id, channel, purpose, send_at, allowed, code, \
             defer_until, reason, context, decided_by FROM contact_decision \
             WHERE customer_id = $1 ORDER BY id DESC LIMIT {}",
            limit.clamp(1, 10_000)
        );
        type Raw = (
            i64,
            DateTime<Utc>,
            i64,
            String,
            String,
            NaiveDateTime,
            bool,
            String,
            Option<NaiveDateTime>,
            String,
            String,
            String,
        );
        let rows: Vec<Raw> =
            on_pool!(self, p => sqlx::query_as(&sql).bind(customer_id).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|r| LoggedContactDecision {
                id: r.0,
                decided_at: r.1,
                decision: ContactDecisionRow {
                    customer_id: r.2,
                    channel: r.3,
                    purpose: r.4,
                    send_at: r.5,
                    allowed: r.6,
                    code: r.7,
                    defer_until: r.8,
                    reason: r.9,
                    context: r.10,
                    decided_by: r.11,
                },
            })
            .collect())
    }

    /// Customers with at least one live consent on `day`: the latest record
    /// per customer, channel and purpose on or before the day grants it and
    /// is not revoked by then.
    pub async fn reachability(&self, day: NaiveDate) -> Result<Reachability> {
        let live = "SELECT c.customer_id, c.purpose FROM consent_all c \
                    WHERE c.recorded_on <= $1 AND c.granted \
                    AND (c.revoked_on IS NULL OR c.revoked_on > $1) \
                    AND NOT EXISTS (SELECT 1 FROM consent_all n WHERE n.customer_id = c.customer_id \
                      AND n.channel = c.channel AND n.purpose = c.purpose \
                      AND n.recorded_on <= $1 AND (n.recorded_on > c.recorded_on \
                        OR (n.recorded_on = c.recorded_on AND (n.seq > c.seq \
                          OR (n.seq = c.seq AND n.id > c.id)))))";
        let sql = format!(
            "SELECT (SELECT COUNT(*) FROM customer), \
             (SELECT COUNT(DISTINCT customer_id) FROM ({live}) a), \
             (SELECT COUNT(DISTINCT customer_id) FROM ({live}) b WHERE purpose = 'marketing')"
        );
        let (customers, reachable, reachable_marketing): (i64, i64, i64) =
            on_pool!(self, p => sqlx::query_as(&sql).bind(day).fetch_one(p).await?);
        Ok(Reachability {
            customers,
            reachable,
            reachable_marketing,
        })
    }
}
