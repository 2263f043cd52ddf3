//! Cases and complaints handled in Rapport (migration `0010_case`): intake,
//! the workflow state with optimistic concurrency (a change names the state
//! it expects), one `case_event` per change, pauses of the SLA clock while
//! waiting on the customer, escalations raised once per target and level,
//! and improvement items that roll root causes up. The rules (which moves
//! are allowed, what the SLA clock says) are `rapport-engage`'s; the store
//! keeps what happened. Times of the workflow are the bank's local time.

use crate::dialect::on_pool;
use crate::{Result, Store, StoreError};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;

/// A case.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct CaseRow {
    pub id: i64,
    pub customer_id: i64,
    pub intake: String,
    pub kind: String,
    pub category: String,
    pub severity: String,
    pub state: String,
    pub subject: String,
    pub description: String,
    pub assignee: Option<String>,
    pub supervisor: Option<String>,
    pub opened_at: NaiveDateTime,
    pub first_response_at: Option<NaiveDateTime>,
    pub resolved_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub root_cause: Option<String>,
    pub resolution: Option<String>,
    pub reopen_count: i64,
    pub created_by: String,
    /// Extensions of the resolution deadline granted (migration 0015).
    pub sla_extensions: i64,
}

const CASE_COLS: &str = "id, customer_id, intake, kind, category, severity, state, subject, \
    description, assignee, supervisor, opened_at, first_response_at, resolved_at, closed_at, \
    root_cause, resolution, reopen_count, created_by, sla_extensions";

/// A case to open.
#[derive(Debug, Clone)]
pub struct NewCase<'a> {
    pub customer_id: i64,
    pub intake: &'a str,
    pub kind: &'a str,
    pub category: &'a str,
    pub severity: &'a str,
    pub subject: &'a str,
    pub description: &'a str,
    pub supervisor: Option<&'a str>,
    pub created_by: &'a str,
    /// How category or severity were decided when not given (kept on the opening event).
    pub note: Option<&'a str>,
}

/// What a workflow step changes (fields left `None` stay as they are).
#[derive(Debug, Clone, Default)]
pub struct CaseChange {
    pub to_state: String,
    pub assignee: Option<String>,
    pub first_response_at: Option<NaiveDateTime>,
    pub resolved_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub root_cause: Option<String>,
    pub resolution: Option<String>,
    /// A reopening: clears resolution and closing, counts the reopen.
    pub reopen: bool,
    /// Starts a pause of the SLA clock at the step's time.
    pub pause_start: bool,
    /// Ends the open pause at the step's time.
    pub pause_end: bool,
}

/// One change of a case.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct CaseEventRow {
    pub id: i64,
    pub case_id: i64,
    pub at: NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub detail: Option<String>,
}

/// A raised escalation.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct EscalationRow {
    pub case_id: i64,
    pub target: String,
    pub level: String,
    pub due: NaiveDateTime,
    pub escalated_to: String,
    pub reason: String,
}

/// A handler's correction of a case's category (migration 0015).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ReclassificationRow {
    pub id: i64,
    pub case_id: i64,
    pub from_category: String,
    pub to_category: String,
    pub reason: String,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// A case's text with the category a handler last gave it: one training
/// example of the next classifier.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CorrectionRow {
    pub case_id: i64,
    pub subject: String,
    pub description: String,
    pub category: String,
}

/// An improvement item with the number of cases of its root cause.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ImprovementRow {
    pub id: i64,
    pub root_cause: String,
    pub title: String,
    pub owner: String,
    pub status: String,
    pub note: Option<String>,
    pub cases: i64,
}

impl Store {
    /// Opens a case in state `new` at local time `at`.
    pub async fn open_case(
        &self,
        c: &NewCase<'_>,
        at: NaiveDateTime,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let sql =
            "INSERT INTO support_case (customer_id, intake, kind, category, severity, state, \
                   subject, description, supervisor, opened_at, created_by, created_at) \
                   VALUES ($1, $2, $3, $4, $5, 'new', $6, $7, $8, $9, $10, $11) RETURNING id";
        let event = "INSERT INTO case_event (case_id, at, actor, action, from_state, to_state, \
                     detail) VALUES ($1, $2, $3, 'open', NULL, 'new', $4)";
        let id = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let id: i64 = sqlx::query_scalar(sql).bind(c.customer_id).bind(c.intake)
                .bind(c.kind).bind(c.category).bind(c.severity).bind(c.subject)
                .bind(c.description).bind(c.supervisor).bind(at).bind(c.created_by).bind(now)
                .fetch_one(&mut *tx).await?;
            let mut detail = format!("{} {} via {}", c.severity, c.category, c.intake);
            if let Some(n) = c.note {
                detail.push_str("; ");
                detail.push_str(n);
            }
            sqlx::query(event).bind(id).bind(at).bind(c.created_by).bind(detail)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    /// A case by id.
    pub async fn case(&self, id: i64) -> Result<Option<CaseRow>> {
        let sql = format!("SELECT {CASE_COLS} FROM support_case WHERE id = $1");
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await?))
    }

    /// Cases, newest first: open ones only, or those opened in `[from, to)`.
    pub async fn cases(
        &self,
        open_only: bool,
        from: Option<NaiveDateTime>,
        to: Option<NaiveDateTime>,
    ) -> Result<Vec<CaseRow>> {
        let mut sql = format!("SELECT {CASE_COLS} FROM support_case WHERE 1 = 1");
        if open_only {
            sql.push_str(" AND state NOT IN ('resolved', 'closed')");
        }
        let mut n = 0;
        if from.is_some() {
            n += 1;
            sql.push_str(&format!(" AND opened_at >= ${n}"));
        }
        if to.is_some() {
            n += 1;
            sql.push_str(&format!(" AND opened_at < ${n}"));
        }
        sql.push_str(" ORDER BY id DESC");
        Ok(on_pool!(self, p => {
            let mut q = sqlx::query_as(&sql);
            if let Some(f) = from {
                q = q.bind(f);
            }
            if let Some(t) = to {
                q = q.bind(t);
            }
            q.fetch_all(p).await?
        }))
    }

    /// Applies a workflow step if the case is still in `expected` (else a
    /// conflict: someone moved it meanwhile), with its event and pause.
    #[allow(clippy::too_many_arguments)]
    pub async fn change_case(
        &self,
        id: i64,
        expected: &str,
        change: &CaseChange,
        actor: &str,
        action: &str,
        detail: Option<&str>,
        at: NaiveDateTime,
    ) -> Result<()> {
        let sql = "UPDATE support_case SET state = $1, assignee = COALESCE($2, assignee), \
             first_response_at = COALESCE(first_response_at, $3), \
             resolved_at = CASE WHEN $8 THEN NULL ELSE COALESCE($4, resolved_at) END, \
             closed_at = CASE WHEN $8 THEN NULL ELSE COALESCE($5, closed_at) END, \
             root_cause = COALESCE($6, root_cause), resolution = COALESCE($7, resolution), \
             reopen_count = reopen_count + CASE WHEN $8 THEN 1 ELSE 0 END \
             WHERE id = $9 AND state = $10";
        let event = "INSERT INTO case_event (case_id, at, actor, action, from_state, to_state, \
                     detail) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let pause_start = "INSERT INTO case_pause (case_id, from_at) VALUES ($1, $2)";
        let pause_end = "UPDATE case_pause SET to_at = $2 WHERE case_id = $1 AND to_at IS NULL";
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query(sql).bind(&change.to_state).bind(&change.assignee)
                .bind(change.first_response_at).bind(change.resolved_at).bind(change.closed_at)
                .bind(&change.root_cause).bind(&change.resolution).bind(change.reopen)
                .bind(id).bind(expected).execute(&mut *tx).await?.rows_affected();
            if n != 1 {
                return Err(StoreError::Conflict(format!(
                    "case {id} is no longer {expected}: reload and try again"
                )));
            }
            sqlx::query(event).bind(id).bind(at).bind(actor).bind(action).bind(expected)
                .bind(&change.to_state).bind(detail).execute(&mut *tx).await?;
            if change.pause_end {
                sqlx::query(pause_end).bind(id).bind(at).execute(&mut *tx).await?;
            }
            if change.pause_start {
                sqlx::query(pause_start).bind(id).bind(at).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Records an event that does not move the case (an escalation by hand, a note).
    pub async fn note_case(
        &self,
        id: i64,
        state: &str,
        actor: &str,
        action: &str,
        detail: Option<&str>,
        at: NaiveDateTime,
    ) -> Result<()> {
        let event = "INSERT INTO case_event (case_id, at, actor, action, from_state, to_state, \
                     detail) VALUES ($1, $2, $3, $4, $5, $5, $6)";
        on_pool!(self, p => {
            sqlx::query(event).bind(id).bind(at).bind(actor).bind(action).bind(state)
                .bind(detail).execute(p).await?;
        });
        Ok(())
    }

    /// Changes a case's category from `from` to `to` (a conflict if the case
    /// no longer has `from`), with its correction row and a `case_event`
    /// (`reclassify`, the state unchanged) at local time `at`.
    #[allow(clippy::too_many_arguments)]
    pub async fn reclassify_case(
        &self,
        id: i64,
        from: &str,
        to: &str,
        reason: &str,
        actor: &str,
        at: NaiveDateTime,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let update = "UPDATE support_case SET category = $1 WHERE id = $2 AND category = $3";
        let state = "SELECT state FROM support_case WHERE id = $1";
        let row = "INSERT INTO case_reclassification (case_id, from_category, to_category, \
                   reason, actor, at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
        let event = "INSERT INTO case_event (case_id, at, actor, action, from_state, to_state, \
                     detail) VALUES ($1, $2, $3, 'reclassify', $4, $4, $5)";
        let detail = format!("category {from} → {to}: {reason}");
        let rid = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query(update).bind(to).bind(id).bind(from)
                .execute(&mut *tx).await?.rows_affected();
            if n != 1 {
                return Err(StoreError::Conflict(format!(
                    "case {id} is no longer in category {from}: reload and try again"
                )));
            }
            let st: String = sqlx::query_scalar(state).bind(id).fetch_one(&mut *tx).await?;
            let rid: i64 = sqlx::query_scalar(row).bind(id).bind(from).bind(to).bind(reason)
                .bind(actor).bind(now).fetch_one(&mut *tx).await?;
            sqlx::query(event).bind(id).bind(at).bind(actor).bind(&st).bind(&detail)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            rid
        });
        Ok(rid)
    }

    /// The corrections of one case, oldest first.
    pub async fn case_reclassifications(&self, id: i64) -> Result<Vec<ReclassificationRow>> {
        let sql = "SELECT id, case_id, from_category, to_category, reason, actor, at \
                   FROM case_reclassification WHERE case_id = $1 ORDER BY id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(id).fetch_all(p).await?))
    }

    /// The newest correction's id (0 when there is none): a new correction
    /// changes it, so a cached classifier knows it is stale.
    pub async fn last_reclassification_id(&self) -> Result<i64> {
        let sql = "SELECT COALESCE(MAX(id), 0) FROM case_reclassification";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).fetch_one(p).await?))
    }

    /// Every reclassified case's text with the category of its latest
    /// correction, in case order. Cases whose text was erased are left out.
    pub async fn case_corrections(&self) -> Result<Vec<CorrectionRow>> {
        let sql = "SELECT c.id AS case_id, c.subject, c.description, r.to_category AS category \
                   FROM case_reclassification r JOIN support_case c ON c.id = r.case_id \
                   WHERE r.id = (SELECT MAX(r2.id) FROM case_reclassification r2 \
                                 WHERE r2.case_id = r.case_id) \
                   AND c.description <> '[erased]' ORDER BY c.id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await?))
    }

    /// Grants one more extension of the case's resolution deadline if it
    /// has `expected` extensions so far (else a conflict), with a
    /// `case_event` (`extend`, the state unchanged) at local time `at`.
    pub async fn extend_case_sla(
        &self,
        id: i64,
        expected: i64,
        actor: &str,
        detail: &str,
        at: NaiveDateTime,
    ) -> Result<()> {
        let update = "UPDATE support_case SET sla_extensions = sla_extensions + 1 \
                      WHERE id = $1 AND sla_extensions = $2";
        let state = "SELECT state FROM support_case WHERE id = $1";
        let event = "INSERT INTO case_event (case_id, at, actor, action, from_state, to_state, \
                     detail) VALUES ($1, $2, $3, 'extend', $4, $4, $5)";
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query(update).bind(id).bind(expected)
                .execute(&mut *tx).await?.rows_affected();
            if n != 1 {
                return Err(StoreError::Conflict(format!(
                    "case {id} no longer has {expected} extension(s): reload and try again"
                )));
            }
            let st: String = sqlx::query_scalar(state).bind(id).fetch_one(&mut *tx).await?;
            sqlx::query(event).bind(id).bind(at).bind(actor).bind(&st).bind(detail)
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The case's pauses (from, to; `to` is `None` while still paused).
    pub async fn case_pauses(
        &self,
        id: i64,
    ) -> Result<Vec<(NaiveDateTime, Option<NaiveDateTime>)>> {
        let sql = "SELECT from_at, to_at FROM case_pause WHERE case_id = $1 ORDER BY id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(id).fetch_all(p).await?))
    }

    /// The case's history, oldest first.
    pub async fn case_events(&self, id: i64) -> Result<Vec<CaseEventRow>> {
        let sql = "SELECT id, case_id, at, actor, action, from_state, to_state, detail \
                   FROM case_event WHERE case_id = $1 ORDER BY id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(id).fetch_all(p).await?))
    }

    /// The escalations raised for a case.
    pub async fn case_escalations(&self, id: i64) -> Result<Vec<EscalationRow>> {
        let sql = "SELECT case_id, target, level, due, escalated_to, reason FROM case_escalation \
                   WHERE case_id = $1 ORDER BY id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(id).fetch_all(p).await?))
    }

    /// Raises an escalation once (per case, target and level) with its
    /// event; returns whether it was new.
    #[allow(clippy::too_many_arguments)]
    pub async fn raise_escalation(
        &self,
        e: &EscalationRow,
        state: &str,
        at: NaiveDateTime,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let sql = "INSERT INTO case_escalation (case_id, target, level, due, raised_at, \
                   escalated_to, reason) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                   ON CONFLICT (case_id, target, level) DO NOTHING";
        let event = "INSERT INTO case_event (case_id, at, actor, action, from_state, to_state, \
                     detail) VALUES ($1, $2, 'sla', 'escalate', $3, $3, $4)";
        let new = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query(sql).bind(e.case_id).bind(&e.target).bind(&e.level).bind(e.due)
                .bind(now).bind(&e.escalated_to).bind(&e.reason)
                .execute(&mut *tx).await?.rows_affected();
            if n == 1 {
                sqlx::query(event).bind(e.case_id).bind(at).bind(state)
                    .bind(format!("{} {} → {}: {}", e.target, e.level, e.escalated_to, e.reason))
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            n == 1
        });
        Ok(new)
    }

    /// Adds an improvement item for a root cause.
    pub async fn add_improvement_item(
        &self,
        root_cause: &str,
        title: &str,
        owner: &str,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let sql = "INSERT INTO improvement_item (root_cause, title, owner, status, note, \
                   created_at, updated_at) VALUES ($1, $2, $3, 'open', $4, $5, $5) RETURNING id";
        Ok(
            on_pool!(self, p => sqlx::query_scalar(sql).bind(root_cause).bind(title).bind(owner)
            .bind(note).bind(now).fetch_one(p).await?),
        )
    }

    /// Moves an improvement item (open, in_progress, done).
    pub async fn set_improvement_status(
        &self,
        id: i64,
        status: &str,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if !matches!(status, "open" | "in_progress" | "done") {
            return Err(StoreError::Conflict(format!(
                "improvement status {status:?}: open, in_progress or done"
            )));
        }
        let sql = "UPDATE improvement_item SET status = $1, note = COALESCE($2, note), \
                   updated_at = $3 WHERE id = $4";
        let n = on_pool!(self, p => sqlx::query(sql).bind(status).bind(note).bind(now).bind(id)
            .execute(p).await?.rows_affected());
        if n == 0 {
            return Err(StoreError::NotFound(format!("improvement item {id}")));
        }
        Ok(())
    }

    /// Improvement items with the number of cases of their root cause.
    pub async fn improvement_items(&self) -> Result<Vec<ImprovementRow>> {
        let sql = "SELECT i.id, i.root_cause, i.title, i.owner, i.status, i.note, \
                   (SELECT COUNT(*) FROM support_case c WHERE c.root_cause = i.root_cause) AS cases \
                   FROM improvement_item i ORDER BY i.id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await?))
    }

    /// The cases an improvement item covers (those of its root cause), by id.
    pub async fn improvement_cases(&self, item_id: i64) -> Result<Vec<i64>> {
        let sql = "SELECT c.id FROM support_case c JOIN improvement_item i \
                   ON i.root_cause = c.root_cause WHERE i.id = $1 ORDER BY c.id";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).bind(item_id).fetch_all(p).await?))
    }

    /// Customers in the store (the denominator of complaints per 1,000).
    pub async fn customer_count(&self) -> Result<i64> {
        Ok(
            on_pool!(self, p => sqlx::query_scalar("SELECT COUNT(*) FROM customer")
            .fetch_one(p).await?),
        )
    }
}
