//! Relationship management (migration `0011_rm`): the RMs with their
//! capacity overrides, the members of a tier with their branch and RM,
//! assignments written in bulk, the contact log (which closes the customer's
//! open cadence tasks in the same transaction), cadence tasks (at most one
//! open per customer, enforced by a partial unique index), and the figures
//! the RM KPIs are made of (last contacts, contacts and mean health per RM).
//!
//! Like the rest of the store it has no rules: who is a key customer, which
//! RM takes whom, when a follow-up is due and what counts as covered are
//! decided by the application (`crates/app/src/rm.rs`). Contact times are the
//! bank's local time; `recorded_at` and `assigned_at` are UTC.

use crate::dialect::on_pool;
use crate::{Result, Store};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;

/// Rows per multi-row insert on SQLite (three parameters each).
const SQLITE_ROWS_PER_INSERT: usize = 500;

/// A relationship manager (staff role `rm`) with their capacity override and
/// number of assigned customers (all tiers).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct RmStaffRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub branch_id: Option<i64>,
    pub branch_code: Option<String>,
    pub active: bool,
    /// The `rm_capacity` override of key customers, if any.
    pub max_key_customers: Option<i64>,
    pub customers: i64,
}

/// A member of a tier segment with the customer's branch and current RM.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct TierMemberRow {
    pub customer_id: i64,
    pub branch_id: Option<i64>,
    /// The assigned staff user, if any (any role).
    pub staff_user_id: Option<i64>,
    pub staff_username: Option<String>,
}

/// One logged contact.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ContactLogRow {
    pub id: i64,
    pub customer_id: i64,
    pub staff: String,
    pub kind: String,
    pub outcome: String,
    pub note: Option<String>,
    pub at: NaiveDateTime,
    pub recorded_at: DateTime<Utc>,
}

/// A contact to log.
#[derive(Debug, Clone)]
pub struct NewContactLog<'a> {
    pub customer_id: i64,
    pub staff: &'a str,
    pub kind: &'a str,
    pub outcome: &'a str,
    pub note: Option<&'a str>,
    /// Local time of the contact.
    pub at: NaiveDateTime,
}

/// A cadence task to create.
#[derive(Debug, Clone)]
pub struct NewCadenceTask<'a> {
    pub customer_id: i64,
    pub assignee: &'a str,
    pub due_at: NaiveDateTime,
    pub script: &'a str,
}

impl Store {
    /// Every RM (role `rm`), by user name.
    pub async fn rm_staff(&self) -> Result<Vec<RmStaffRow>> {
        let sql = "SELECT u.id, u.username, u.display_name, u.branch_id, b.code AS branch_code, \
                   u.active, k.max_key_customers, \
                   (SELECT COUNT(*) FROM rm_assignment r WHERE r.staff_user_id = u.id) AS customers \
                   FROM staff_user u LEFT JOIN branch b ON b.id = u.branch_id \
                   LEFT JOIN rm_capacity k ON k.staff_user_id = u.id \
                   WHERE u.role = 'rm' ORDER BY u.username";
        Ok(on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await?))
    }

    /// Sets (`Some`) or removes (`None`) an RM's capacity override.
    pub async fn set_rm_capacity(&self, staff_user_id: i64, max: Option<i64>) -> Result<()> {
        match max {
            Some(m) => {
                let sql = "INSERT INTO rm_capacity (staff_user_id, max_key_customers) \
                           VALUES ($1, $2) ON CONFLICT (staff_user_id) \
                           DO UPDATE SET max_key_customers = excluded.max_key_customers";
                on_pool!(self, p => {
                    sqlx::query(sql).bind(staff_user_id).bind(m).execute(p).await?;
                });
            }
            None => {
                let sql = "DELETE FROM rm_capacity WHERE staff_user_id = $1";
                on_pool!(self, p => {
                    sqlx::query(sql).bind(staff_user_id).execute(p).await?;
                });
            }
        }
        Ok(())
    }

    /// The members of segment `code` at `as_of` that are not erased, with
    /// their branch and current RM, in customer id order.
    pub async fn tier_members_with_rm(
        &self,
        code: &str,
        as_of: NaiveDate,
    ) -> Result<Vec<TierMemberRow>> {
        let sql = "SELECT m.customer_id, c.branch_id, r.staff_user_id, \
                   u.username AS staff_username \
                   FROM segment_membership m JOIN segment s ON s.id = m.segment_id \
                   JOIN customer c ON c.id = m.customer_id \
                   LEFT JOIN rm_assignment r ON r.customer_id = m.customer_id \
                   LEFT JOIN staff_user u ON u.id = r.staff_user_id \
                   WHERE s.code = $1 AND m.as_of = $2 AND c.erased_at IS NULL \
                   ORDER BY m.customer_id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(code).bind(as_of).fetch_all(p).await?))
    }

    /// Assigns (or reassigns) customers to RMs: (customer id, staff user id)
    /// pairs, in one transaction.
    pub async fn set_rm_assignments(&self, pairs: &[(i64, i64)], at: DateTime<Utc>) -> Result<()> {
        if pairs.is_empty() {
            return Ok(());
        }
        let conflict = " ON CONFLICT (customer_id) DO UPDATE SET \
                        staff_user_id = excluded.staff_user_id, assigned_at = excluded.assigned_at";
        match self {
            Store::Sqlite(p) => {
                let mut tx = p.begin().await?;
                for block in pairs.chunks(SQLITE_ROWS_PER_INSERT) {
                    let mut sql = String::from(
                        "INSERT INTO rm_assignment (customer_id, staff_user_id, assigned_at) VALUES ",
                    );
                    for i in 0..block.len() {
                        sql.push_str(if i == 0 { "(?, ?, ?)" } else { ",(?, ?, ?)" });
                    }
                    sql.push_str(conflict);
                    let mut q = sqlx::query(&sql);
                    for (c, rm) in block {
                        q = q.bind(c).bind(rm).bind(at);
                    }
                    q.execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
            Store::Postgres(p) => {
                let cs: Vec<i64> = pairs.iter().map(|x| x.0).collect();
                let rms: Vec<i64> = pairs.iter().map(|x| x.1).collect();
                let sql = format!(
                    "INSERT INTO rm_assignment (customer_id, staff_user_id, assigned_at) \
                     SELECT u.c, u.rm, $1 FROM UNNEST($2::BIGINT[], $3::BIGINT[]) AS u(c, rm){conflict}"
                );
                sqlx::query(&sql)
                    .bind(at)
                    .bind(&cs)
                    .bind(&rms)
                    .execute(p)
                    .await?;
            }
        }
        Ok(())
    }

    /// Logs a contact and closes the customer's open cadence tasks (whoever
    /// they are assigned to) with the contact's outcome, in one transaction;
    /// returns the log row's id and how many tasks were closed.
    pub async fn log_contact(
        &self,
        c: &NewContactLog<'_>,
        now: DateTime<Utc>,
    ) -> Result<(i64, u64)> {
        let insert = "INSERT INTO contact_log (customer_id, staff, kind, outcome, note, at, \
                      recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
        let close = "UPDATE contact_task SET status = 'done', outcome = $2, done_at = $3 \
                     WHERE customer_id = $1 AND kind = 'cadence' AND status = 'open'";
        Ok(on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let id: i64 = sqlx::query_scalar(insert).bind(c.customer_id).bind(c.staff)
                .bind(c.kind).bind(c.outcome).bind(c.note).bind(c.at).bind(now)
                .fetch_one(&mut *tx).await?;
            let closed = sqlx::query(close).bind(c.customer_id).bind(c.outcome).bind(now)
                .execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            (id, closed)
        }))
    }

    /// A customer's logged contacts, newest first.
    pub async fn contact_log(&self, customer_id: i64) -> Result<Vec<ContactLogRow>> {
        let sql = "SELECT id, customer_id, staff, kind, outcome, note, at, recorded_at \
                   FROM contact_log WHERE customer_id = $1 ORDER BY at DESC, id DESC";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(customer_id).fetch_all(p).await?))
    }

    /// Per customer with an RM: the day of the latest contact on or before
    /// `through` (imported interactions and logged contacts alike).
    pub async fn last_contacts(&self, through: NaiveDate) -> Result<Vec<(i64, NaiveDate)>> {
        let imported = "SELECT i.customer_id, MAX(i.occurred_on) FROM interaction i \
                        JOIN rm_assignment r ON r.customer_id = i.customer_id \
                        WHERE i.occurred_on <= $1 GROUP BY i.customer_id";
        let logged = "SELECT l.customer_id, MAX(l.at) FROM contact_log l \
                      JOIN rm_assignment r ON r.customer_id = l.customer_id \
                      WHERE l.at < $1 GROUP BY l.customer_id";
        let end = next_midnight(through);
        type Imported = Vec<(i64, NaiveDate)>;
        type Logged = Vec<(i64, NaiveDateTime)>;
        let (a, b): (Imported, Logged) = on_pool!(self, p => (
            sqlx::query_as(imported).bind(through).fetch_all(p).await?,
            sqlx::query_as(logged).bind(end).fetch_all(p).await?,
        ));
        let mut last: std::collections::BTreeMap<i64, NaiveDate> = a.into_iter().collect();
        for (c, at) in b {
            let d = at.date();
            let e = last.entry(c).or_insert(d);
            if d > *e {
                *e = d;
            }
        }
        Ok(last.into_iter().collect())
    }

    /// Per staff user with assigned customers: the contacts with those
    /// customers on days `from..=to` (imported interactions and logged contacts).
    pub async fn rm_contact_counts(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(i64, i64)>> {
        let imported = "SELECT r.staff_user_id, COUNT(*) FROM interaction i \
                        JOIN rm_assignment r ON r.customer_id = i.customer_id \
                        WHERE i.occurred_on >= $1 AND i.occurred_on <= $2 GROUP BY r.staff_user_id";
        let logged = "SELECT r.staff_user_id, COUNT(*) FROM contact_log l \
                      JOIN rm_assignment r ON r.customer_id = l.customer_id \
                      WHERE l.at >= $1 AND l.at < $2 GROUP BY r.staff_user_id";
        let start = from.and_time(chrono::NaiveTime::MIN);
        let end = next_midnight(to);
        type Counts = Vec<(i64, i64)>;
        let (a, b): (Counts, Counts) = on_pool!(self, p => (
            sqlx::query_as(imported).bind(from).bind(to).fetch_all(p).await?,
            sqlx::query_as(logged).bind(start).bind(end).fetch_all(p).await?,
        ));
        let mut n: std::collections::BTreeMap<i64, i64> = a.into_iter().collect();
        for (s, k) in b {
            *n.entry(s).or_insert(0) += k;
        }
        Ok(n.into_iter().collect())
    }

    /// Per staff user: (staff user id, mean health score, customers scored)
    /// of their currently assigned customers scored at `as_of`.
    pub async fn rm_mean_health(&self, as_of: NaiveDate) -> Result<Vec<(i64, f64, i64)>> {
        let sql = "SELECT r.staff_user_id, AVG(h.score), COUNT(*) FROM health_score h \
                   JOIN rm_assignment r ON r.customer_id = h.customer_id \
                   WHERE h.as_of = $1 GROUP BY r.staff_user_id ORDER BY r.staff_user_id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(as_of).fetch_all(p).await?))
    }

    /// The customers with an open cadence task, ascending.
    pub async fn open_cadence_customers(&self) -> Result<Vec<i64>> {
        let sql = "SELECT DISTINCT customer_id FROM contact_task \
                   WHERE kind = 'cadence' AND status = 'open' ORDER BY customer_id";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).fetch_all(p).await?))
    }

    /// Creates an open `cadence` task unless the customer already has one;
    /// returns the new task's id, or `None` when one was open.
    pub async fn create_cadence_task(
        &self,
        t: &NewCadenceTask<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        let sql = "INSERT INTO contact_task (kind, customer_id, assignee, due_at, script, status, \
                   created_at) VALUES ('cadence', $1, $2, $3, $4, 'open', $5) \
                   ON CONFLICT (customer_id) WHERE kind = 'cadence' AND status = 'open' \
                   DO NOTHING RETURNING id";
        Ok(
            on_pool!(self, p => sqlx::query_scalar(sql).bind(t.customer_id).bind(t.assignee)
            .bind(t.due_at).bind(t.script).bind(now).fetch_optional(p).await?),
        )
    }
}

/// Midnight at the start of the day after `d` (an exclusive end of day `d`).
fn next_midnight(d: NaiveDate) -> NaiveDateTime {
    (d + Duration::days(1)).and_time(chrono::NaiveTime::MIN)
}
