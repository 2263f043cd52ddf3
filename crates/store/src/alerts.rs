//! Early-warning alerts and their history: bulk insert (multi-row inserts in
//! one transaction on SQLite, arrays unnested server-side on PostgreSQL), the
//! last raising day per customer and rule (for cool-downs), the triggering
//! transactions attached as evidence, routing (the customer's RM, else the
//! branch queue, else `central`), filtered listing, and the status workflow
//! `new → acknowledged → actioned → closed` with one `alert_event` row per
//! change.
//!
//! Like the rest of the store it has no rules about content: it never
//! decides which alerts to raise, what a severity means or what evidence
//! says. The one rule it enforces is the workflow's order, since the
//! `alert_event` history must never record an impossible change.

use crate::dialect::on_pool;
use crate::statement::{Arg, Stmt};
use crate::{Result, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;

/// Rows per multi-row INSERT on SQLite (10 parameters each, under its 32,766 limit).
const SQLITE_ALERTS_PER_INSERT: usize = 3_000;
/// Ids per `IN (…)` list.
const IDS_PER_QUERY: usize = 500;

/// An alert to store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewAlert {
    pub customer_id: i64,
    pub rule: String,
    pub severity: String,
    /// The as-of date whose state raised it.
    pub raised_on: NaiveDate,
    /// `batch` or `live`.
    pub origin: String,
    pub message: String,
    /// JSON: features and triggering transactions.
    pub evidence: String,
    pub assignee_id: Option<i64>,
    pub queue: Option<String>,
}

/// Where an alert goes: the customer's RM, or a queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertRoute {
    pub assignee_id: Option<i64>,
    pub queue: Option<String>,
}

impl AlertRoute {
    /// The route of a customer with neither an RM nor a branch.
    pub fn central() -> AlertRoute {
        AlertRoute {
            assignee_id: None,
            queue: Some("central".to_string()),
        }
    }
}

/// A transaction attached to an alert as evidence (amount in minor units).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceTxn {
    pub booked_on: NaiveDate,
    pub amount: i64,
    pub category: String,
    pub channel: String,
    pub source_key: String,
}

/// Where an alert is in its workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    New,
    Acknowledged,
    Actioned,
    Closed,
}

impl AlertStatus {
    pub const ALL: [AlertStatus; 4] = [
        AlertStatus::New,
        AlertStatus::Acknowledged,
        AlertStatus::Actioned,
        AlertStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::New => "new",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::Actioned => "actioned",
            AlertStatus::Closed => "closed",
        }
    }

    /// Parses the stored spelling (`ack` and `action` are accepted too).
    pub fn parse(s: &str) -> Option<AlertStatus> {
        match s.trim().to_ascii_lowercase().as_str() {
            "new" => Some(AlertStatus::New),
            "acknowledged" | "ack" => Some(AlertStatus::Acknowledged),
            "actioned" | "action" => Some(AlertStatus::Actioned),
            "closed" | "close" => Some(AlertStatus::Closed),
            _ => None,
        }
    }

    /// Whether the workflow allows moving from `self` to `to`: one step
    /// forward, or closing an acknowledged alert (dismissed without action).
    pub fn can_move_to(self, to: AlertStatus) -> bool {
        matches!(
            (self, to),
            (AlertStatus::New, AlertStatus::Acknowledged)
                | (AlertStatus::Acknowledged, AlertStatus::Actioned)
                | (AlertStatus::Acknowledged, AlertStatus::Closed)
                | (AlertStatus::Actioned, AlertStatus::Closed)
        )
    }
}

impl fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status change the workflow refuses, or a failure to record one.
#[derive(Debug, thiserror::Error)]
pub enum AlertTransitionError {
    #[error("no alert with id {0}")]
    NotFound(i64),
    #[error("alert {id} is {from}: it cannot become {to} (the workflow is new → acknowledged → actioned → closed; an acknowledged alert may also be closed)")]
    Illegal {
        id: i64,
        from: AlertStatus,
        to: AlertStatus,
    },
    #[error("closing alert {0} requires a disposition (what came of it)")]
    DispositionRequired(i64),
    #[error("alert {id} has an unknown stored status {status:?}")]
    CorruptStatus { id: i64, status: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AlertTransitionError {
    fn from(e: sqlx::Error) -> Self {
        AlertTransitionError::Store(StoreError::Database(e))
    }
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct AlertRow {
    pub id: i64,
    pub customer_id: i64,
    pub rule: String,
    pub severity: String,
    pub raised_on: NaiveDate,
    pub raised_at: DateTime<Utc>,
    pub origin: String,
    pub message: String,
    pub evidence: String,
    pub assignee_id: Option<i64>,
    pub queue: Option<String>,
    pub status: String,
    pub disposition: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// One recorded status change.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct AlertEventRow {
    pub alert_id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub note: Option<String>,
}

/// Which alerts to list (all conditions must hold), newest first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertFilter {
    pub status: Option<AlertStatus>,
    pub rule: Option<String>,
    pub severity: Option<String>,
    pub customer_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub queue: Option<String>,
    /// Page size (default 100 when 0).
    pub limit: i64,
    pub offset: i64,
}

const ALERT_COLUMNS: &str = "id, customer_id, rule, severity, raised_on, raised_at, origin, \
                             message, evidence, assignee_id, queue, status, disposition, updated_at";

impl Store {
    /// Stores alerts (status `new`) in one transaction; returns how many.
    pub async fn insert_alerts(&self, alerts: &[NewAlert]) -> Result<u64> {
        if alerts.is_empty() {
            return Ok(0);
        }
        let now = Utc::now();
        match self {
            Store::Sqlite(p) => {
                let mut tx = p.begin().await?;
                for block in alerts.chunks(SQLITE_ALERTS_PER_INSERT) {
                    let mut sql = String::with_capacity(200 + block.len() * 40);
                    sql.push_str(
                        "INSERT INTO alert (customer_id, rule, severity, raised_on, raised_at, origin, \
                         message, evidence, assignee_id, queue, updated_at) VALUES ",
                    );
                    for i in 0..block.len() {
                        if i > 0 {
                            sql.push(',');
                        }
                        sql.push_str("(?, ?, ?, ?, ?1, ?, ?, ?, ?, ?, ?1)");
                    }
                    // ?1 is the shared timestamp; the other ? continue numbering after it.
                    let sql = number_sqlite_placeholders(&sql);
                    let mut q = sqlx::query(&sql).bind(now);
                    for a in block {
                        q = q
                            .bind(a.customer_id)
                            .bind(a.rule.as_str())
                            .bind(a.severity.as_str())
                            .bind(a.raised_on)
                            .bind(a.origin.as_str())
                            .bind(a.message.as_str())
                            .bind(a.evidence.as_str())
                            .bind(a.assignee_id)
                            .bind(a.queue.as_deref());
                    }
                    q.execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
            Store::Postgres(p) => {
                let mut tx = p.begin().await?;
                for block in alerts.chunks(20_000) {
                    let col = |f: fn(&NewAlert) -> String| -> Vec<String> {
                        block.iter().map(f).collect()
                    };
                    let customers: Vec<i64> = block.iter().map(|a| a.customer_id).collect();
                    let days: Vec<NaiveDate> = block.iter().map(|a| a.raised_on).collect();
                    let assignees: Vec<Option<i64>> = block.iter().map(|a| a.assignee_id).collect();
                    let queues: Vec<Option<String>> =
                        block.iter().map(|a| a.queue.clone()).collect();
                    sqlx::query(
                        "INSERT INTO alert (customer_id, rule, severity, raised_on, raised_at, origin, \
                         message, evidence, assignee_id, queue, updated_at) \
                         SELECT u.c, u.r, u.s, u.d, $1, u.o, u.m, u.e, u.a, u.q, $1 \
                         FROM UNNEST($2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::DATE[], $6::TEXT[], \
                         $7::TEXT[], $8::TEXT[], $9::BIGINT[], $10::TEXT[]) \
                         AS u(c, r, s, d, o, m, e, a, q)",
                    )
                    .bind(now)
                    .bind(&customers)
                    .bind(col(|a| a.rule.clone()))
                    .bind(col(|a| a.severity.clone()))
                    .bind(&days)
                    .bind(col(|a| a.origin.clone()))
                    .bind(col(|a| a.message.clone()))
                    .bind(col(|a| a.evidence.clone()))
                    .bind(&assignees)
                    .bind(&queues)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
            }
        }
        Ok(alerts.len() as u64)
    }

    /// Stores one alert (status `new`); returns its id.
    pub async fn insert_alert(&self, a: &NewAlert) -> Result<i64> {
        let now = Utc::now();
        let sql = "INSERT INTO alert (customer_id, rule, severity, raised_on, raised_at, origin, \
                   message, evidence, assignee_id, queue, updated_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $5) RETURNING id";
        let id: i64 = on_pool!(self, p => sqlx::query_scalar(sql)
            .bind(a.customer_id)
            .bind(a.rule.as_str())
            .bind(a.severity.as_str())
            .bind(a.raised_on)
            .bind(now)
            .bind(a.origin.as_str())
            .bind(a.message.as_str())
            .bind(a.evidence.as_str())
            .bind(a.assignee_id)
            .bind(a.queue.as_deref())
            .fetch_one(p)
            .await?);
        Ok(id)
    }

    /// For each customer and rule with an alert raised on or before `day`,
    /// the latest such raised_on (the input of cool-downs).
    pub async fn last_alert_days(&self, day: NaiveDate) -> Result<Vec<(i64, String, NaiveDate)>> {
        let sql = "SELECT customer_id, rule, MAX(raised_on) FROM alert WHERE raised_on <= $1 \
                   GROUP BY customer_id, rule ORDER BY customer_id, rule";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(day).fetch_all(p).await?))
    }

    /// The transactions booked in `[from, to)` on the accounts customer
    /// `customer_id` owns (the account's customer, or an `owner` role), the
    /// `limit` largest by |amount| first (ties: later day, then larger key).
    pub async fn triggering_transactions(
        &self,
        customer_id: i64,
        from: NaiveDate,
        to: NaiveDate,
        limit: usize,
    ) -> Result<Vec<EvidenceTxn>> {
        let mut all = self
            .triggering_transactions_of(&[customer_id], from, to, limit)
            .await?;
        Ok(all.remove(&customer_id).unwrap_or_default())
    }

    /// [`Self::triggering_transactions`] for many customers at once.
    pub async fn triggering_transactions_of(
        &self,
        customer_ids: &[i64],
        from: NaiveDate,
        to: NaiveDate,
        limit: usize,
    ) -> Result<HashMap<i64, Vec<EvidenceTxn>>> {
        let mut out: HashMap<i64, Vec<EvidenceTxn>> = HashMap::new();
        let mut ids: Vec<i64> = customer_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        for block in ids.chunks(IDS_PER_QUERY) {
            let mut st = Stmt::new(self);
            // The ids are bound once and written in both lists.
            let ids = st.param_list(block.iter().copied());
            let (from, to) = (st.param(from), st.param(to));
            st.push(&format!(
                "SELECT o.owner, t.booked_on, t.amount, t.category, t.channel, t.source_key \
                 FROM (SELECT a.id AS account_id, a.customer_id AS holder, a.customer_id AS owner \
                       FROM account a WHERE a.customer_id IN ({ids}) \
                       UNION \
                       SELECT a.id, a.customer_id, r.customer_id FROM account_role r \
                       JOIN account a ON a.id = r.account_id \
                       WHERE r.role = 'owner' AND r.customer_id IN ({ids})) o \
                 JOIN txn t ON t.customer_id = o.holder AND t.account_id = o.account_id \
                 WHERE t.booked_on >= {from} AND t.booked_on < {to}"
            ));
            type Raw = (i64, NaiveDate, i64, String, String, String);
            let rows: Vec<Raw> = on_pool!(self, p => st.query_as()?.fetch_all(p).await?);
            for (owner, booked_on, amount, category, channel, source_key) in rows {
                out.entry(owner).or_default().push(EvidenceTxn {
                    booked_on,
                    amount,
                    category,
                    channel,
                    source_key,
                });
            }
        }
        for list in out.values_mut() {
            list.sort_by(|a, b| {
                b.amount
                    .unsigned_abs()
                    .cmp(&a.amount.unsigned_abs())
                    .then(b.booked_on.cmp(&a.booked_on))
                    .then(b.source_key.cmp(&a.source_key))
            });
            list.dedup();
            list.truncate(limit);
        }
        Ok(out)
    }

    /// Where each customer's alerts go: the RM assigned to the customer, else
    /// the queue `branch:<code>` of the customer's branch, else `central`.
    /// Unknown customers get `central`.
    pub async fn alert_routes(&self, customer_ids: &[i64]) -> Result<HashMap<i64, AlertRoute>> {
        let mut out: HashMap<i64, AlertRoute> = HashMap::new();
        let mut ids: Vec<i64> = customer_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        for block in ids.chunks(IDS_PER_QUERY) {
            let mut st = Stmt::new(self);
            st.push(
                "SELECT c.id, r.staff_user_id, b.code FROM customer c \
                 LEFT JOIN rm_assignment r ON r.customer_id = c.id \
                 LEFT JOIN branch b ON b.id = c.branch_id \
                 WHERE c.id IN (",
            )
            .bind_list(block.iter().copied())
            .push(")");
            type Raw = (i64, Option<i64>, Option<String>);
            let rows: Vec<Raw> = on_pool!(self, p => st.query_as()?.fetch_all(p).await?);
            for (id, rm, branch) in rows {
                let route = match (rm, branch) {
                    (Some(rm), _) => AlertRoute {
                        assignee_id: Some(rm),
                        queue: None,
                    },
                    (None, Some(code)) => AlertRoute {
                        assignee_id: None,
                        queue: Some(format!("branch:{code}")),
                    },
                    (None, None) => AlertRoute::central(),
                };
                out.insert(id, route);
            }
        }
        for id in ids {
            out.entry(id).or_insert_with(AlertRoute::central);
        }
        Ok(out)
    }

    /// The store id of the account `(source, source_key)`, if stored.
    pub async fn account_id_by_key(&self, source: &str, source_key: &str) -> Result<Option<i64>> {
        let sql = "SELECT id FROM account WHERE source = $1 AND source_key = $2";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql)
            .bind(source)
            .bind(source_key)
            .fetch_optional(p)
            .await?))
    }

    /// Alerts matching `filter`, newest first (by raised_on, then id).
    pub async fn list_alerts(&self, filter: &AlertFilter) -> Result<Vec<AlertRow>> {
        let mut st = Stmt::new(self);
        st.push(&format!("SELECT {ALERT_COLUMNS} FROM alert"));
        let mut conditions = 0;
        let mut add = |column: &str, value: Arg| {
            st.push(if conditions == 0 { " WHERE " } else { " AND " })
                .push(column)
                .push(" = ")
                .bind(value);
            conditions += 1;
        };
        if let Some(s) = filter.status {
            add("status", s.as_str().into());
        }
        if let Some(r) = &filter.rule {
            add("rule", r.as_str().into());
        }
        if let Some(s) = &filter.severity {
            add("severity", s.as_str().into());
        }
        if let Some(c) = filter.customer_id {
            add("customer_id", c.into());
        }
        if let Some(a) = filter.assignee_id {
            add("assignee_id", a.into());
        }
        if let Some(q) = &filter.queue {
            add("queue", q.as_str().into());
        }
        let limit = if filter.limit > 0 { filter.limit } else { 100 };
        st.push(" ORDER BY raised_on DESC, id DESC LIMIT ")
            .bind(limit)
            .push(" OFFSET ")
            .bind(filter.offset.max(0));
        Ok(on_pool!(self, p => st.query_as()?.fetch_all(p).await?))
    }

    /// One alert; `StoreError::NotFound` when there is none.
    pub async fn alert(&self, id: i64) -> Result<AlertRow> {
        let sql = format!("SELECT {ALERT_COLUMNS} FROM alert WHERE id = $1");
        let row: Option<AlertRow> =
            on_pool!(self, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await?);
        row.ok_or_else(|| StoreError::NotFound(format!("alert {id}")))
    }

    /// An alert's status changes, oldest first.
    pub async fn alert_events(&self, alert_id: i64) -> Result<Vec<AlertEventRow>> {
        let sql = "SELECT alert_id, at, actor, from_status, to_status, note FROM alert_event \
                   WHERE alert_id = $1 ORDER BY id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(alert_id).fetch_all(p).await?))
    }

    /// Moves alert `id` to `to`, recording who did it and why in
    /// `alert_event`, in one transaction. Closing requires a disposition.
    /// A concurrent change between reading and writing the status makes the
    /// write fail as an illegal transition from the status found then.
    pub async fn transition_alert(
        &self,
        id: i64,
        to: AlertStatus,
        actor: &str,
        note: Option<&str>,
        disposition: Option<&str>,
    ) -> std::result::Result<AlertRow, AlertTransitionError> {
        let disposition = disposition.map(str::trim).filter(|d| !d.is_empty());
        if to == AlertStatus::Closed && disposition.is_none() {
            return Err(AlertTransitionError::DispositionRequired(id));
        }
        let current = match self.alert(id).await {
            Ok(row) => row,
            Err(StoreError::NotFound(_)) => return Err(AlertTransitionError::NotFound(id)),
            Err(e) => return Err(e.into()),
        };
        let from = AlertStatus::parse(&current.status).ok_or_else(|| {
            AlertTransitionError::CorruptStatus {
                id,
                status: current.status.clone(),
            }
        })?;
        if !from.can_move_to(to) {
            return Err(AlertTransitionError::Illegal { id, from, to });
        }
        let now = Utc::now();
        let changed = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query(
                "UPDATE alert SET status = $1, disposition = COALESCE($2, disposition), \
                 updated_at = $3 WHERE id = $4 AND status = $5",
            )
            .bind(to.as_str())
            .bind(disposition)
            .bind(now)
            .bind(id)
            .bind(from.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                sqlx::query(
                    "INSERT INTO alert_event (alert_id, at, actor, from_status, to_status, note) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id)
                .bind(now)
                .bind(actor)
                .bind(from.as_str())
                .bind(to.as_str())
                .bind(note)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            n == 1
        });
        let after = self.alert(id).await?;
        if !changed {
            let found = AlertStatus::parse(&after.status).unwrap_or(from);
            return Err(AlertTransitionError::Illegal {
                id,
                from: found,
                to,
            });
        }
        Ok(after)
    }
}

/// Numbers the bare `?` of a SQLite statement from `?2` on, leaving the
/// explicit `?1` (shared by every row) alone.
fn number_sqlite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + sql.len() / 4);
    let mut next = 2;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '?' {
            if chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                continue;
            }
            out.push_str(&next.to_string());
            next += 1;
        }
    }
    out
}
