//! Queries of the administration pages (issue 18): the staff list searched
//! and paged with each user's last sign-in and recent failures, the audit
//! log sorted, filtered and paged, erasure requests (one administrator
//! requests, another decides), segment sizes at each segment's latest
//! membership date and a segment's members paged by keyset
//! (`customer_id > last`, on the primary key `(as_of, segment_id,
//! customer_id)` of `segment_membership`).

use crate::access::{AuditEntry, AuditRow};
use crate::dialect::on_pool;
use crate::statement::Stmt;
use crate::{Result, Scope, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// Which members of staff to list.
#[derive(Debug, Clone, Default)]
pub struct StaffQuery {
    /// Part of the user name or the display name (case-insensitive).
    pub q: Option<String>,
    /// Only this role.
    pub role: Option<String>,
    /// `username` (default), `display_name`, `role`, `last_sign_in`.
    pub sort: String,
    pub desc: bool,
    /// Page size (1..=500; 50 when 0).
    pub limit: i64,
    pub offset: i64,
    /// Failed sign-ins are counted since this time (and since the last success).
    pub failures_since: Option<DateTime<Utc>>,
}

/// One member of staff as the admin list shows them.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct StaffListRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub branch_code: Option<String>,
    pub active: bool,
    pub service: bool,
    pub must_change_password: bool,
    /// The latest successful sign-in.
    pub last_sign_in: Option<DateTime<Utc>>,
    /// Failed sign-ins since the last success (within the query's window).
    pub recent_failures: i64,
}

/// Which audit entries to read, and in which order.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// The actor's user name exactly.
    pub actor: Option<String>,
    /// The action exactly (`customer.unmask`), or a family ending in `.`
    /// (`customer.` for every customer action).
    pub action: Option<String>,
    pub customer_id: Option<i64>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// `at` (default), `actor`, `action`, `id` (the order of writing).
    pub sort: String,
    pub desc: bool,
    /// 1..=100 000 (the CSV export reads up to that many).
    pub limit: i64,
    pub offset: i64,
}

/// A request to erase a customer's personal data and its decision.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ErasureRequestRow {
    pub id: i64,
    pub customer_key: String,
    pub reason: String,
    pub requested_by: Option<i64>,
    pub requested_by_name: String,
    pub requested_at: DateTime<Utc>,
    /// pending | approved | rejected
    pub status: String,
    pub decided_by: Option<i64>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// A segment with its size at its latest membership date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentOverview {
    pub id: i64,
    pub code: String,
    pub kind: String,
    pub name: String,
    pub definition: String,
    pub description: String,
    /// The segment's latest membership date (None: never had members).
    pub as_of: Option<NaiveDate>,
    pub members: i64,
}

/// One member of a segment as its member list shows it (no personal data).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct SegmentMemberRow {
    pub id: i64,
    pub key: String,
    pub branch_code: Option<String>,
    pub rm_name: Option<String>,
    pub score: Option<f64>,
    pub band: Option<String>,
}

const ERASURE_COLUMNS: &str = "id, customer_key, reason, requested_by, \
     requested_by_name, requested_at, status, decided_by, decided_by_name, decided_at";

fn like_pattern(q: &str) -> String {
    let escaped = q
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

impl Store {
    /// A page of members of staff matching `f`, and how many match in all.
    pub async fn staff_page(&self, f: &StaffQuery) -> Result<(Vec<StaffListRow>, i64)> {
        let mut st = Stmt::new(self);
        let since = f
            .failures_since
            .unwrap_or_else(|| Utc::now() - chrono::Duration::hours(24));
        let since_p = st.param(since);
        let mut cond = vec!["TRUE".to_string()];
        if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let like = st.param(like_pattern(q));
            cond.push(format!(
                "(LOWER(u.username) LIKE {like} ESCAPE '\\' OR LOWER(u.display_name) LIKE {like} ESCAPE '\\')"
            ));
        }
        if let Some(r) = f.role.as_deref().filter(|r| !r.is_empty()) {
            cond.push(format!("u.role = {}", st.param(r)));
        }
        let filter = cond.join(" AND ");
        let mut count = st.clone();
        count.push(&format!("SELECT COUNT(*) FROM staff_user u WHERE {filter}"));
        let dir = if f.desc { "DESC" } else { "ASC" };
        let order = match f.sort.as_str() {
            "display_name" => format!("u.display_name {dir}, u.id"),
            "role" => format!("u.role {dir}, u.username"),
            "last_sign_in" => format!("last_sign_in {dir}, u.username"),
            _ => format!("u.username {dir}"),
        };
        let limit = match f.limit {
            0 => 50,
            n => n.clamp(1, 500),
        };
        let last_ok = "(SELECT a.at FROM login_attempt a WHERE a.username = u.username \
                       AND a.succeeded ORDER BY a.at DESC LIMIT 1)";
        st.push(&format!(
            "SELECT u.id, u.username, u.display_name, u.role, b.code AS branch_code, u.active, \
             u.kind = 'service' AS service, u.must_change_password, \
             {last_ok} AS last_sign_in, \
             (SELECT COUNT(*) FROM login_attempt a WHERE a.username = u.username \
              AND NOT a.succeeded AND a.at >= {since_p} \
              AND a.at > COALESCE({last_ok}, {since_p})) AS recent_failures \
             FROM staff_user u LEFT JOIN branch b ON b.id = u.branch_id \
             WHERE {filter} ORDER BY {order} LIMIT {limit} OFFSET {}",
            f.offset.max(0)
        ));
        let (rows, total): (Vec<StaffListRow>, i64) = on_pool!(self, p => (
            st.query_as()?.fetch_all(p).await?,
            count.query_scalar()?.fetch_one(p).await?,
        ));
        Ok((rows, total))
    }

    /// Audit entries matching `f` in its order, and how many match in all.
    pub async fn audit_page(&self, f: &AuditQuery) -> Result<(Vec<AuditRow>, i64)> {
        let mut st = Stmt::new(self);
        let mut cond = vec!["TRUE".to_string()];
        if let Some(a) = f.actor.as_deref().filter(|a| !a.is_empty()) {
            cond.push(format!("actor = {}", st.param(a)));
        }
        if let Some(a) = f.action.as_deref().filter(|a| !a.is_empty()) {
            if a.ends_with('.') {
                let escaped = a
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                cond.push(format!(
                    "action LIKE {} ESCAPE '\\'",
                    st.param(format!("{escaped}%"))
                ));
            } else {
                cond.push(format!("action = {}", st.param(a)));
            }
        }
        if let Some(c) = f.customer_id {
            cond.push(format!("customer_id = {}", st.param(c)));
        }
        if let Some(s) = f.since {
            cond.push(format!("at >= {}", st.param(s)));
        }
        if let Some(u) = f.until {
            cond.push(format!("at < {}", st.param(u)));
        }
        let filter = cond.join(" AND ");
        let mut count = st.clone();
        count.push(&format!("SELECT COUNT(*) FROM audit_log WHERE {filter}"));
        let dir = if f.desc { "DESC" } else { "ASC" };
        let order = match f.sort.as_str() {
            "actor" => format!("actor {dir}, id {dir}"),
            "action" => format!("action {dir}, id {dir}"),
            "id" => format!("id {dir}"),
            _ => format!("at {dir}, id {dir}"),
        };
        let limit = match f.limit {
            0 => 100,
            n => n.clamp(1, 100_000),
        };
        st.push(&format!(
            "SELECT id, at, actor_id, actor, role, action, entity, entity_id, customer_id, client, detail \
             FROM audit_log WHERE {filter} ORDER BY {order} LIMIT {limit} OFFSET {}",
            f.offset.max(0)
        ));
        type Raw = (
            i64,
            DateTime<Utc>,
            Option<i64>,
            String,
            String,
            String,
            String,
            Option<String>,
            Option<i64>,
            Option<String>,
            String,
        );
        let (rows, total): (Vec<Raw>, i64) = on_pool!(self, p => (
            st.query_as()?.fetch_all(p).await?,
            count.query_scalar()?.fetch_one(p).await?,
        ));
        let rows = rows
            .into_iter()
            .map(|r| AuditRow {
                id: r.0,
                entry: AuditEntry {
                    at: r.1,
                    actor_id: r.2,
                    actor: r.3,
                    role: r.4,
                    action: r.5,
                    entity: r.6,
                    entity_id: r.7,
                    customer_id: r.8,
                    client: r.9,
                    detail: r.10,
                },
            })
            .collect();
        Ok((rows, total))
    }

    /// The bank's key of customer `id` (its first source key), if it has one.
    pub async fn customer_key_of(&self, id: i64) -> Result<Option<String>> {
        let sql = "SELECT source_key FROM customer_source_key WHERE customer_id = $1 \
                   ORDER BY id LIMIT 1";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).bind(id).fetch_optional(p).await?))
    }

    /// Every action code in the audit log, in order (for the filter).
    pub async fn audit_actions(&self) -> Result<Vec<String>> {
        let sql = "SELECT DISTINCT action FROM audit_log ORDER BY action";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).fetch_all(p).await?))
    }

    /// Records a pending request to erase customer `customer_key`; returns its id.
    pub async fn create_erasure_request(
        &self,
        customer_key: &str,
        reason: &str,
        requested_by: Option<i64>,
        requested_by_name: &str,
        at: DateTime<Utc>,
    ) -> Result<i64> {
        let sql = "INSERT INTO erasure_request (customer_key, reason, requested_by, \
                   requested_by_name, requested_at, status) \
                   VALUES ($1, $2, $3, $4, $5, 'pending') RETURNING id";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql)
            .bind(customer_key)
            .bind(reason)
            .bind(requested_by)
            .bind(requested_by_name)
            .bind(at)
            .fetch_one(p)
            .await?))
    }

    /// One erasure request.
    pub async fn erasure_request(&self, id: i64) -> Result<ErasureRequestRow> {
        let sql = format!("SELECT {ERASURE_COLUMNS} FROM erasure_request WHERE id = $1");
        let row: Option<ErasureRequestRow> =
            on_pool!(self, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await?);
        row.ok_or_else(|| StoreError::NotFound(format!("erasure request {id}")))
    }

    /// The pending erasure request of customer `customer_key`, if any.
    pub async fn pending_erasure_of(
        &self,
        customer_key: &str,
    ) -> Result<Option<ErasureRequestRow>> {
        let sql = format!(
            "SELECT {ERASURE_COLUMNS} FROM erasure_request WHERE customer_key = $1 \
             AND status = 'pending' ORDER BY id LIMIT 1"
        );
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(customer_key).fetch_optional(p).await?))
    }

    /// Erasure requests, pending first then the latest decided (at most `limit`).
    pub async fn erasure_requests(&self, limit: i64) -> Result<Vec<ErasureRequestRow>> {
        let sql = format!(
            "SELECT {ERASURE_COLUMNS} FROM erasure_request \
             ORDER BY CASE WHEN status = 'pending' THEN 0 ELSE 1 END, id DESC LIMIT {}",
            limit.clamp(1, 1000)
        );
        Ok(on_pool!(self, p => sqlx::query_as(&sql).fetch_all(p).await?))
    }

    /// Decides a pending request (`approved` or `rejected`); false when it
    /// was no longer pending (someone decided first).
    pub async fn decide_erasure_request(
        &self,
        id: i64,
        status: &str,
        decided_by: Option<i64>,
        decided_by_name: &str,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let sql = "UPDATE erasure_request SET status = $2, decided_by = $3, decided_by_name = $4, \
                   decided_at = $5 WHERE id = $1 AND status = 'pending'";
        let n = on_pool!(self, p => sqlx::query(sql)
            .bind(id)
            .bind(status)
            .bind(decided_by)
            .bind(decided_by_name)
            .bind(at)
            .execute(p)
            .await?
            .rows_affected());
        Ok(n == 1)
    }

    /// Every segment with its size at its own latest membership date, in
    /// code order. The sizes are read at the bank's latest membership date
    /// (one range of the primary key); a segment without members that day
    /// is counted at its own latest date.
    pub async fn segment_overview(&self) -> Result<Vec<SegmentOverview>> {
        let segments = self.segments().await?;
        let latest_sql = "SELECT as_of FROM segment_membership ORDER BY as_of DESC LIMIT 1";
        let latest: Option<NaiveDate> =
            on_pool!(self, p => sqlx::query_scalar(latest_sql).fetch_optional(p).await?);
        let mut sizes: Vec<(i64, i64)> = Vec::new();
        if let Some(d) = latest {
            let sql = "SELECT segment_id, COUNT(*) FROM segment_membership WHERE as_of = $1 \
                       GROUP BY segment_id";
            sizes = on_pool!(self, p => sqlx::query_as(sql).bind(d).fetch_all(p).await?);
        }
        let mut out = Vec::with_capacity(segments.len());
        for s in segments {
            let (as_of, members) = match sizes.iter().find(|x| x.0 == s.id) {
                Some(x) => (latest, x.1),
                None => {
                    let as_of = self.segment_latest_as_of(s.id).await?;
                    let members = match as_of {
                        Some(d) => self.segment_member_count(s.id, d).await?,
                        None => 0,
                    };
                    (as_of, members)
                }
            };
            out.push(SegmentOverview {
                id: s.id,
                code: s.code,
                kind: s.kind,
                name: s.name,
                definition: s.definition,
                description: s.description,
                as_of,
                members,
            });
        }
        Ok(out)
    }

    /// The latest membership date of segment `segment_id`.
    pub async fn segment_latest_as_of(&self, segment_id: i64) -> Result<Option<NaiveDate>> {
        let sql = "SELECT as_of FROM segment_membership WHERE segment_id = $1 \
                   ORDER BY as_of DESC LIMIT 1";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).bind(segment_id).fetch_optional(p).await?))
    }

    /// How many members segment `segment_id` has at `as_of`.
    pub async fn segment_member_count(&self, segment_id: i64, as_of: NaiveDate) -> Result<i64> {
        let sql = "SELECT COUNT(*) FROM segment_membership WHERE as_of = $1 AND segment_id = $2";
        Ok(
            on_pool!(self, p => sqlx::query_scalar(sql).bind(as_of).bind(segment_id).fetch_one(p).await?),
        )
    }

    /// Up to `limit` members of segment `segment_id` at `as_of` within
    /// `scope` whose id is greater than `after`, by id: a keyset page read
    /// as one range of the primary key `(as_of, segment_id, customer_id)`,
    /// as fast on the last page of a million members as on the first.
    pub async fn segment_members_after(
        &self,
        scope: &Scope,
        segment_id: i64,
        as_of: NaiveDate,
        after: i64,
        limit: i64,
    ) -> Result<Vec<SegmentMemberRow>> {
        let scored_sql = "SELECT as_of FROM score_run WHERE finished_at IS NOT NULL \
                          ORDER BY as_of DESC LIMIT 1";
        let scored: Option<NaiveDate> =
            on_pool!(self, p => sqlx::query_scalar(scored_sql).fetch_optional(p).await?);
        let mut st = Stmt::new(self);
        let scored_p = st.param(scored.unwrap_or_default());
        let as_of_p = st.param(as_of);
        let seg_p = st.param(segment_id);
        let after_p = st.param(after);
        let scope_cond = scope.condition(&mut st);
        st.push(&format!(
            "SELECT c.id, COALESCE((SELECT k.source_key FROM customer_source_key k \
             WHERE k.customer_id = c.id ORDER BY k.id LIMIT 1), '#' || c.id) AS key, \
             b.code AS branch_code, su.display_name AS rm_name, hs.score, hs.band \
             FROM segment_membership m JOIN customer c ON c.id = m.customer_id \
             LEFT JOIN branch b ON b.id = c.branch_id \
             LEFT JOIN rm_assignment ra ON ra.customer_id = c.id \
             LEFT JOIN staff_user su ON su.id = ra.staff_user_id \
             LEFT JOIN health_score hs ON hs.customer_id = c.id AND hs.as_of = {scored_p} \
             WHERE m.as_of = {as_of_p} AND m.segment_id = {seg_p} AND m.customer_id > {after_p} \
             AND {scope_cond} ORDER BY m.customer_id LIMIT {}",
            limit.clamp(1, 10_000)
        ));
        Ok(on_pool!(self, p => st.query_as()?.fetch_all(p).await?))
    }
}
