//! Typed queries of the case queue and the closure approvals (issue 18):
//! the cases of a scope filtered in SQL (state, severity, category,
//! assignee) with the key their customer is known by, the cases of one
//! customer, and the closure requests still waiting for a manager. A
//! closure request is a `case_event` (`close_request`); it is decided by a
//! later `close` (approved) or `close_reject` event, or made void by a
//! `reopen`. No table of its own: the history is the record.

use crate::cases::CaseRow;
use crate::dialect::on_pool;
use crate::statement::Stmt;
use crate::{Result, Scope, Store};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;

/// The columns of a case, read from `support_case s`.
const COLS: &str = "s.id, s.customer_id, s.intake, s.kind, s.category, s.severity, s.state, \
    s.subject, s.description, s.assignee, s.supervisor, s.opened_at, s.first_response_at, \
    s.resolved_at, s.closed_at, s.root_cause, s.resolution, s.reopen_count, s.created_by, \
    s.sla_extensions";

/// The key a customer is known by: the first source key, else `#id`.
const KEY: &str = "COALESCE((SELECT k.source_key FROM customer_source_key k \
    WHERE k.customer_id = c.id ORDER BY k.id LIMIT 1), '#' || c.id) AS customer_key";

/// The filters of the case queue the store applies (the SLA standing is the
/// services' to compute).
#[derive(Debug, Clone, Default)]
pub struct CaseQueueFilter {
    /// Leave out resolved and closed cases.
    pub open_only: bool,
    pub state: Option<String>,
    pub severity: Option<String>,
    pub category: Option<String>,
    /// A user name; `-` for cases nobody is assigned.
    pub assignee: Option<String>,
}

/// A case of the queue with the key its customer is known by.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct QueueCase {
    #[sqlx(flatten)]
    pub case: CaseRow,
    pub customer_key: String,
}

/// A closure request waiting for a manager's decision.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct PendingClosure {
    pub case_id: i64,
    pub requested_by: String,
    /// Local time.
    pub requested_at: NaiveDateTime,
    pub note: Option<String>,
}

/// A message of the outbox sent to a case's customer (the responses and the
/// CSAT survey of case `n` carry idempotency keys `case-n.…`).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct CaseMessage {
    pub id: i64,
    pub idempotency_key: String,
    pub channel: String,
    /// queued | sent | delivered | failed | responded | cancelled
    pub status: String,
    pub lang: String,
    pub body: String,
    /// Local time, not before.
    pub scheduled_at: NaiveDateTime,
    pub queued_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

/// A pause of a case's clock (local times; `None` while it lasts).
pub type CasePause = (NaiveDateTime, Option<NaiveDateTime>);

/// How many case ids one query of pauses binds at most.
const PAUSE_BATCH: usize = 2000;

impl Store {
    /// The outbox messages of case `case_id` (its responses and its CSAT
    /// survey), oldest first.
    pub async fn case_messages(&self, case_id: i64) -> Result<Vec<CaseMessage>> {
        let sql = "SELECT id, idempotency_key, channel, status, lang, body, scheduled_at, \
                   queued_at, last_error FROM outbox_message WHERE idempotency_key LIKE $1 \
                   ORDER BY id";
        let key = format!("case-{case_id}.%");
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(&key).fetch_all(p).await?))
    }

    /// The pauses of the cases `ids`, per case, oldest first: one query for
    /// a page of cases (one per 2,000 ids).
    pub async fn case_pauses_of(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<CasePause>>> {
        let mut out: HashMap<i64, Vec<CasePause>> = HashMap::new();
        for chunk in ids.chunks(PAUSE_BATCH) {
            let mut st = Stmt::new(self);
            st.push("SELECT case_id, from_at, to_at FROM case_pause WHERE case_id IN (")
                .bind_list(chunk.iter().copied())
                .push(") ORDER BY case_id, id");
            let rows: Vec<(i64, NaiveDateTime, Option<NaiveDateTime>)> =
                on_pool!(self, p => st.query_as()?.fetch_all(p).await?);
            for (id, from, to) in rows {
                out.entry(id).or_default().push((from, to));
            }
        }
        Ok(out)
    }

    /// The cases of customers in `scope` that pass `f`, newest first.
    pub async fn case_queue(&self, scope: &Scope, f: &CaseQueueFilter) -> Result<Vec<QueueCase>> {
        let mut st = Stmt::new(self);
        let sc = scope.condition(&mut st);
        st.push(&format!(
            "SELECT {COLS}, {KEY} FROM support_case s JOIN customer c ON c.id = s.customer_id \
             WHERE {sc}"
        ));
        if f.open_only {
            st.push(" AND s.state NOT IN ('resolved', 'closed')");
        }
        if let Some(v) = &f.state {
            st.push(" AND s.state = ").bind(v.as_str());
        }
        if let Some(v) = &f.severity {
            st.push(" AND s.severity = ").bind(v.as_str());
        }
        if let Some(v) = &f.category {
            st.push(" AND s.category = ").bind(v.as_str());
        }
        match f.assignee.as_deref() {
            Some("-") => {
                st.push(" AND s.assignee IS NULL");
            }
            Some(v) => {
                st.push(" AND s.assignee = ").bind(v);
            }
            None => {}
        }
        st.push(" ORDER BY s.id DESC");
        Ok(on_pool!(self, p => st.query_as()?.fetch_all(p).await?))
    }

    /// The people cases of `scope` are assigned to, by name.
    pub async fn case_assignees(&self, scope: &Scope) -> Result<Vec<String>> {
        let mut st = Stmt::new(self);
        let sc = scope.condition(&mut st);
        st.push(&format!(
            "SELECT DISTINCT s.assignee FROM support_case s JOIN customer c \
             ON c.id = s.customer_id WHERE s.assignee IS NOT NULL AND {sc} ORDER BY s.assignee"
        ));
        Ok(on_pool!(self, p => st.query_scalar()?.fetch_all(p).await?))
    }

    /// The cases of one customer, newest first (every state).
    pub async fn cases_of_customer(&self, customer_id: i64) -> Result<Vec<CaseRow>> {
        let sql = format!(
            "SELECT {COLS} FROM support_case s WHERE s.customer_id = $1 ORDER BY s.id DESC"
        );
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(customer_id).fetch_all(p).await?))
    }

    /// The closure requests not yet decided (nor made void by a reopening),
    /// oldest first; `case_id` narrows them to one case.
    pub async fn pending_closures(&self, case_id: Option<i64>) -> Result<Vec<PendingClosure>> {
        let mut st = Stmt::new(self);
        st.push(
            "SELECT e.case_id, e.actor AS requested_by, e.at AS requested_at, e.detail AS note \
             FROM case_event e WHERE e.action = 'close_request' AND NOT EXISTS \
             (SELECT 1 FROM case_event d WHERE d.case_id = e.case_id AND d.id > e.id \
              AND d.action IN ('close', 'close_reject', 'reopen'))",
        );
        if let Some(id) = case_id {
            st.push(" AND e.case_id = ").bind(id);
        }
        st.push(" ORDER BY e.id");
        Ok(on_pool!(self, p => st.query_as()?.fetch_all(p).await?))
    }
}
