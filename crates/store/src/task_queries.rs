//! The RM's day (`/tasks`): the open work of the customers in a scope —
//! alerts not closed, open call and meeting tasks, open cases, proposed next
//! best actions — each read with its customer's key and contact fields, and
//! closing one task. No rule here: what is due, how it ranks and who may
//! see a name unmasked are decided by `rapport_services::tasks`.

use crate::customers::{Scope, KEY_SQL};
use crate::dialect::on_pool;
use crate::statement::Stmt;
use crate::{Result, Store};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;

/// A customer of the day's list: key, name and phone as stored (unmasked).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct DayCustomer {
    pub id: i64,
    pub key: String,
    pub name: Option<String>,
    pub phone: Option<String>,
}

/// An alert not closed.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct DayAlert {
    pub id: i64,
    pub customer_id: i64,
    pub rule: String,
    pub severity: String,
    pub raised_on: NaiveDate,
    pub raised_at: DateTime<Utc>,
    pub status: String,
    pub assignee_id: Option<i64>,
}

/// An open call, meeting or cadence task.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct DayTask {
    pub id: i64,
    pub kind: String,
    pub customer_id: i64,
    pub campaign_id: Option<i64>,
    pub assignee: String,
    pub due_at: NaiveDateTime,
    pub script: String,
}

/// A proposed next best action (the customer's first by rank).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct DayRecommendation {
    pub id: i64,
    pub customer_id: i64,
    pub action: String,
    pub product_code: Option<String>,
    pub priority: f64,
    pub detail: String,
}

/// What is open for the customers of a scope.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DayItems {
    pub alerts: Vec<DayAlert>,
    pub tasks: Vec<DayTask>,
    /// Open cases (not resolved or closed), by id.
    pub case_ids: Vec<i64>,
    pub recommendations: Vec<DayRecommendation>,
}

impl Store {
    /// The open work of the customers in `scope`: alerts not closed, open
    /// tasks (of `assignee` only when given), open cases, and the first
    /// proposed action of at most `recommendations` customers (retention
    /// first, then by priority).
    pub async fn day_items(
        &self,
        scope: &Scope,
        assignee: Option<&str>,
        recommendations: i64,
    ) -> Result<DayItems> {
        let mut alerts = Stmt::new(self);
        let sc = scope.condition(&mut alerts);
        alerts.push(&format!(
            "SELECT a.id, a.customer_id, a.rule, a.severity, a.raised_on, a.raised_at, a.status, \
             a.assignee_id FROM alert a JOIN customer c ON c.id = a.customer_id \
             WHERE a.status <> 'closed' AND c.erased_at IS NULL AND {sc} ORDER BY a.id LIMIT 1000"
        ));
        let mut tasks = Stmt::new(self);
        let sc = scope.condition(&mut tasks);
        let mine = match assignee {
            Some(a) => format!(" AND t.assignee = {}", tasks.param(a)),
            None => String::new(),
        };
        tasks.push(&format!(
            "SELECT t.id, t.kind, t.customer_id, t.campaign_id, t.assignee, t.due_at, t.script \
             FROM contact_task t JOIN customer c ON c.id = t.customer_id \
             WHERE t.status = 'open' AND c.erased_at IS NULL AND {sc}{mine} \
             ORDER BY t.due_at, t.id LIMIT 1000"
        ));
        let mut cases = Stmt::new(self);
        let sc = scope.condition(&mut cases);
        cases.push(&format!(
            "SELECT k.id FROM support_case k JOIN customer c ON c.id = k.customer_id \
             WHERE k.state NOT IN ('resolved', 'closed') AND {sc} ORDER BY k.id LIMIT 500"
        ));
        let mut recs = Stmt::new(self);
        let sc = scope.condition(&mut recs);
        recs.push(&format!(
            "SELECT r.id, r.customer_id, r.action, r.product_code, r.priority, r.detail \
             FROM recommendation r JOIN customer c ON c.id = r.customer_id \
             WHERE r.status = 'proposed' AND c.erased_at IS NULL AND {sc} \
             AND NOT EXISTS (SELECT 1 FROM recommendation o WHERE o.customer_id = r.customer_id \
               AND o.status = 'proposed' AND (o.rank < r.rank OR (o.rank = r.rank AND o.id < r.id))) \
             ORDER BY CASE r.action WHEN 'retention' THEN 0 WHEN 'reassessment' THEN 1 ELSE 2 END, \
             r.priority DESC, r.id LIMIT {}",
            recommendations.clamp(0, 500)
        ));
        Ok(on_pool!(self, p => DayItems {
            alerts: alerts.query_as()?.fetch_all(p).await?,
            tasks: tasks.query_as()?.fetch_all(p).await?,
            case_ids: cases.query_scalar()?.fetch_all(p).await?,
            recommendations: recs.query_as()?.fetch_all(p).await?,
        }))
    }

    /// Key, name and phone of the customers `ids` that are in `scope`.
    pub async fn day_customers(&self, scope: &Scope, ids: &[i64]) -> Result<Vec<DayCustomer>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(ids.len());
        for block in ids.chunks(500) {
            let mut st = Stmt::new(self);
            let sc = scope.condition(&mut st);
            let list = st.param_list(block.iter().copied());
            st.push(&format!(
                "SELECT c.id, {KEY_SQL} AS key, c.name, c.phone FROM customer c \
                 WHERE c.id IN ({list}) AND {sc} ORDER BY c.id"
            ));
            let rows: Vec<DayCustomer> = on_pool!(self, p => st.query_as()?.fetch_all(p).await?);
            out.extend(rows);
        }
        Ok(out)
    }

    /// Marks open task `id` of customer `customer_id` done with `outcome`;
    /// false when there is no such open task.
    pub async fn close_contact_task(
        &self,
        id: i64,
        customer_id: i64,
        outcome: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let sql = "UPDATE contact_task SET status = 'done', outcome = $1, done_at = $2 \
                   WHERE id = $3 AND customer_id = $4 AND status = 'open'";
        let n = on_pool!(self, p => sqlx::query(sql).bind(outcome).bind(now).bind(id)
            .bind(customer_id).execute(p).await?.rows_affected());
        Ok(n == 1)
    }

    /// Open task `id` (None when unknown or not open).
    pub async fn open_day_task(&self, id: i64) -> Result<Option<DayTask>> {
        let sql = "SELECT id, kind, customer_id, campaign_id, assignee, due_at, script \
                   FROM contact_task WHERE id = $1 AND status = 'open'";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(id).fetch_optional(p).await?))
    }
}
