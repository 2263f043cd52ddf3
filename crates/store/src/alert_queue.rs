//! The alert queue as staff read it: the alerts of a scope with their
//! customer's key and name (masked by the services), filtered, sorted by a
//! column the page offers (severity first by default) and paged.

use crate::customers::Scope;
use crate::dialect::on_pool;
use crate::statement::Stmt;
use crate::{Result, Store};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// An alert of the queue with its customer.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct QueuedAlert {
    pub id: i64,
    pub customer_id: i64,
    pub rule: String,
    pub severity: String,
    pub raised_on: NaiveDate,
    pub raised_at: DateTime<Utc>,
    pub message: String,
    pub evidence: String,
    pub assignee_id: Option<i64>,
    pub queue: Option<String>,
    pub status: String,
    pub disposition: Option<String>,
    /// The customer's key (its first source key, else `#<id>`).
    pub customer_key: String,
    /// The customer's name as stored (the services mask it).
    pub customer_name: Option<String>,
    pub erased: bool,
}

/// The column the queue is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueSort {
    /// Critical first (then newest).
    #[default]
    Severity,
    Raised,
    Customer,
    Rule,
}

/// Which alerts of a scope to list, in which order.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// One alert only (its page).
    pub id: Option<i64>,
    pub status: Option<String>,
    pub severity: Option<String>,
    pub rule: Option<String>,
    pub assignee_id: Option<i64>,
    pub sort: QueueSort,
    pub descending: bool,
    /// Page size (1..=10_000).
    pub limit: i64,
    pub offset: i64,
}

const SEVERITY_RANK: &str = "CASE a.severity WHEN 'critical' THEN 4 WHEN 'high' THEN 3 \
                             WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END";

impl Store {
    /// The alerts of customers in `scope` matching `f` in `f`'s order, and how many match.
    pub async fn alert_queue(
        &self,
        scope: &Scope,
        f: &QueueFilter,
    ) -> Result<(Vec<QueuedAlert>, i64)> {
        let mut st = Stmt::new(self);
        let mut cond = vec![scope.condition(&mut st)];
        if let Some(v) = f.id {
            cond.push(format!("a.id = {}", st.param(v)));
        }
        if let Some(v) = f.status.as_deref() {
            cond.push(format!("a.status = {}", st.param(v)));
        }
        if let Some(v) = f.severity.as_deref() {
            cond.push(format!("a.severity = {}", st.param(v)));
        }
        if let Some(v) = f.rule.as_deref() {
            cond.push(format!("a.rule = {}", st.param(v)));
        }
        if let Some(v) = f.assignee_id {
            cond.push(format!("a.assignee_id = {}", st.param(v)));
        }
        let from = format!(
            "FROM alert a JOIN customer c ON c.id = a.customer_id WHERE {}",
            cond.join(" AND ")
        );
        let mut count = st.clone();
        count.push(&format!("SELECT COUNT(*) {from}"));
        let dir = if f.descending { "DESC" } else { "ASC" };
        let order = match f.sort {
            QueueSort::Severity => {
                format!("{SEVERITY_RANK} {dir}, a.raised_on DESC, a.id DESC")
            }
            QueueSort::Raised => format!("a.raised_on {dir}, a.id {dir}"),
            QueueSort::Customer => format!("c.name {dir}, a.customer_id {dir}, a.id DESC"),
            QueueSort::Rule => format!("a.rule {dir}, a.raised_on DESC, a.id DESC"),
        };
        st.push(&format!(
            "SELECT a.id, a.customer_id, a.rule, a.severity, a.raised_on, a.raised_at, \
             a.message, a.evidence, a.assignee_id, a.queue, a.status, a.disposition, \
             COALESCE((SELECT k.source_key FROM customer_source_key k \
             WHERE k.customer_id = c.id ORDER BY k.id LIMIT 1), '#' || c.id) AS customer_key, \
             c.name AS customer_name, c.erased_at IS NOT NULL AS erased \
             {from} ORDER BY {order} LIMIT {} OFFSET {}",
            f.limit.clamp(1, 10_000),
            f.offset.max(0)
        ));
        Ok(on_pool!(self, p => (
            st.query_as()?.fetch_all(p).await?,
            count.query_scalar()?.fetch_one(p).await?,
        )))
    }

    /// The distinct rule codes of the alerts in `scope` (for the queue's filter).
    pub async fn alert_rules_in_scope(&self, scope: &Scope) -> Result<Vec<String>> {
        let mut st = Stmt::new(self);
        let sc = scope.condition(&mut st);
        st.push(&format!(
            "SELECT DISTINCT a.rule FROM alert a JOIN customer c ON c.id = a.customer_id \
             WHERE {sc} ORDER BY a.rule"
        ));
        Ok(on_pool!(self, p => st.query_scalar()?.fetch_all(p).await?))
    }
}
