//! Row-scoped figures for the dashboard's charts and the alert queue: band
//! counts and score histogram at the latest scored date, band migration from
//! the previous one, alerts per day, open alerts, and the alert list of a
//! scope. The KPI tiles are not here: they are `rapport_analytics::kpi`,
//! read through `rapport_services::kpi` (one definition per KPI).
//!
//! Every query takes a [`Scope`] and applies it in SQL through the customer
//! (`c`); no figure ever counts a customer the caller may not see. The
//! store computes counts only: targets and their evaluation are the app's.

use crate::customers::Scope;
use crate::dialect::on_pool;
use crate::statement::Stmt;
use crate::{AlertRow, Result, Store, StoreError};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

/// What the dashboard shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dashboard {
    pub as_of: Option<NaiveDate>,
    pub previous_as_of: Option<NaiveDate>,
    pub customers: i64,
    /// (band, customers) at `as_of`.
    pub bands: Vec<(String, i64)>,
    /// Customers per 10-point score bin at `as_of` (bin 9 holds 90–100).
    pub histogram: [i64; 10],
    /// (from band, to band, customers) from `previous_as_of` to `as_of`.
    pub migration: Vec<(String, String, i64)>,
    /// (raised_on, severity, alerts) over the 90 days up to the latest alert.
    pub alerts_per_day: Vec<(NaiveDate, String, i64)>,
    /// (status, alerts) of alerts not closed.
    pub open_alerts: Vec<(String, i64)>,
    /// Alerts still `new` more than 24 hours after they were raised.
    pub alerts_past_sla: i64,
}

/// Which alerts of a scope to list.
#[derive(Debug, Clone, Default)]
pub struct ScopedAlertFilter {
    pub status: Option<String>,
    pub severity: Option<String>,
    pub assignee_id: Option<i64>,
    pub customer_id: Option<i64>,
    /// Page size (50 when 0, at most 500).
    pub limit: i64,
    pub offset: i64,
}

/// A statement reading figures of `scope`: `sql` writes the text from the
/// scope's condition on the customer `c`, binding its own values in `st`.
fn scoped(store: &Store, scope: &Scope, sql: impl FnOnce(&mut Stmt, &str) -> String) -> Stmt {
    let mut st = Stmt::new(store);
    let sc = scope.condition(&mut st);
    let text = sql(&mut st, &sc);
    st.push(&text);
    st
}

/// The 10-point bin of a score: PostgreSQL rounds a float cast to an
/// integer, SQLite truncates.
fn score_bin(store: &Store) -> &'static str {
    match store {
        Store::Sqlite(_) => "CAST(h.score AS BIGINT) / 10",
        Store::Postgres(_) => "CAST(FLOOR(h.score) AS BIGINT) / 10",
    }
}

impl Store {
    /// The dashboard of `scope` at the latest scored date.
    pub async fn dashboard(&self, scope: &Scope) -> Result<Dashboard> {
        let dates: Vec<NaiveDate> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT DISTINCT as_of FROM score_run WHERE finished_at IS NOT NULL ORDER BY as_of DESC LIMIT 2")
            .fetch_all(p).await?);
        let as_of = dates.first().copied();
        let previous_as_of = dates.get(1).copied();
        let day = as_of.unwrap_or_else(|| Utc::now().date_naive());
        let latest_alert: Option<NaiveDate> = on_pool!(self, p => sqlx::query_scalar("SELECT raised_on FROM alert ORDER BY raised_on DESC LIMIT 1").fetch_optional(p).await?);
        let alert_end = latest_alert.unwrap_or(day);
        let alert_start = alert_end - Duration::days(90);
        let prev = previous_as_of.unwrap_or(day);
        let sla_cutoff = Utc::now() - Duration::hours(24);
        let customers = scoped(self, scope, |_, sc| {
            format!("SELECT COUNT(*) FROM customer c WHERE {sc}")
        });
        let bands = scoped(self, scope, |st, sc| {
            format!(
                "SELECT h.band, COUNT(*) FROM health_score h JOIN customer c ON c.id = h.customer_id \
                 WHERE h.as_of = {} AND {sc} GROUP BY h.band ORDER BY h.band",
                st.param(day)
            )
        });
        let bin = score_bin(self);
        let hist = scoped(self, scope, |st, sc| {
            format!(
                "SELECT {bin}, COUNT(*) FROM health_score h \
                 JOIN customer c ON c.id = h.customer_id WHERE h.as_of = {} AND {sc} \
                 GROUP BY {bin}",
                st.param(day)
            )
        });
        let migration = scoped(self, scope, |st, sc| {
            format!(
                "SELECT a.band, b.band, COUNT(*) FROM health_score a \
                 JOIN health_score b ON b.customer_id = a.customer_id AND b.as_of = {} \
                 JOIN customer c ON c.id = a.customer_id \
                 WHERE a.as_of = {} AND {sc} GROUP BY a.band, b.band ORDER BY a.band, b.band",
                st.param(day),
                st.param(prev)
            )
        });
        let alerts_per_day = scoped(self, scope, |st, sc| {
            format!(
                "SELECT a.raised_on, a.severity, COUNT(*) FROM alert a JOIN customer c ON c.id = a.customer_id \
                 WHERE a.raised_on > {} AND a.raised_on <= {} AND {sc} \
                 GROUP BY a.raised_on, a.severity ORDER BY a.raised_on, a.severity",
                st.param(alert_start),
                st.param(alert_end)
            )
        });
        let open = scoped(self, scope, |_, sc| {
            format!(
                "SELECT a.status, COUNT(*) FROM alert a JOIN customer c ON c.id = a.customer_id \
                 WHERE a.status <> 'closed' AND {sc} GROUP BY a.status ORDER BY a.status"
            )
        });
        let sla = scoped(self, scope, |st, sc| {
            format!(
                "SELECT COUNT(*) FROM alert a JOIN customer c ON c.id = a.customer_id \
                 WHERE a.status = 'new' AND a.raised_at < {} AND {sc}",
                st.param(sla_cutoff)
            )
        });
        type Pairs = Vec<(String, i64)>;
        type Figures = (
            i64,
            Pairs,
            Vec<(i64, i64)>,
            Vec<(String, String, i64)>,
            Vec<(NaiveDate, String, i64)>,
            Pairs,
            i64,
        );
        let (customers, bands, hist, migration, alerts_per_day, open_alerts, alerts_past_sla): Figures = on_pool!(self, p => (
            customers.query_scalar()?.fetch_one(p).await?,
            bands.query_as()?.fetch_all(p).await?,
            hist.query_as()?.fetch_all(p).await?,
            if previous_as_of.is_some() {
                migration.query_as()?.fetch_all(p).await?
            } else {
                Vec::new()
            },
            alerts_per_day.query_as()?.fetch_all(p).await?,
            open.query_as()?.fetch_all(p).await?,
            sla.query_scalar()?.fetch_one(p).await?,
        ));
        let mut histogram = [0i64; 10];
        for (bin, n) in hist {
            histogram[bin.clamp(0, 9) as usize] += n;
        }
        Ok(Dashboard {
            as_of,
            previous_as_of,
            customers,
            bands,
            histogram,
            migration,
            alerts_per_day,
            open_alerts,
            alerts_past_sla,
        })
    }

    /// Alerts of customers in `scope` matching `f`, newest first, and how many match.
    pub async fn alerts_in_scope(
        &self,
        scope: &Scope,
        f: &ScopedAlertFilter,
    ) -> Result<(Vec<AlertRow>, i64)> {
        let (limit, offset) = (if f.limit <= 0 { 50 } else { f.limit }, f.offset);
        let mut st = Stmt::new(self);
        let mut cond = vec![scope.condition(&mut st)];
        if let Some(v) = f.status.as_deref() {
            cond.push(format!("a.status = {}", st.param(v)));
        }
        if let Some(v) = f.severity.as_deref() {
            cond.push(format!("a.severity = {}", st.param(v)));
        }
        if let Some(v) = f.assignee_id {
            cond.push(format!("a.assignee_id = {}", st.param(v)));
        }
        if let Some(v) = f.customer_id {
            cond.push(format!("a.customer_id = {}", st.param(v)));
        }
        let from = format!(
            "FROM alert a JOIN customer c ON c.id = a.customer_id WHERE {}",
            cond.join(" AND ")
        );
        let mut count = st.clone();
        count.push(&format!("SELECT COUNT(*) {from}"));
        st.push(&format!(
            "SELECT a.id, a.customer_id, a.rule, a.severity, a.raised_on, a.raised_at, a.origin, \
             a.message, a.evidence, a.assignee_id, a.queue, a.status, a.disposition, a.updated_at \
             {from} ORDER BY a.raised_on DESC, a.id DESC LIMIT {} OFFSET {}",
            limit.clamp(1, 500),
            offset.max(0)
        ));
        Ok(on_pool!(self, p => (
            st.query_as()?.fetch_all(p).await?,
            count.query_scalar()?.fetch_one(p).await?,
        )))
    }

    /// Alert `id` when its customer is in `scope`; NotFound otherwise.
    pub async fn alert_in_scope(&self, scope: &Scope, id: i64) -> Result<AlertRow> {
        let found = scoped(self, scope, |st, sc| {
            format!(
                "SELECT COUNT(*) FROM alert a JOIN customer c ON c.id = a.customer_id \
                 WHERE a.id = {} AND {sc}",
                st.param(id)
            )
        });
        let n: i64 = on_pool!(self, p => found.query_scalar()?.fetch_one(p).await?);
        if n == 0 {
            return Err(StoreError::NotFound(format!("alert {id}")));
        }
        self.alert(id).await
    }

    /// Assigns alert `id` to member of staff `assignee_id` and records it in
    /// the alert's history (status unchanged).
    pub async fn assign_alert(
        &self,
        id: i64,
        assignee_id: i64,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let current = self.alert(id).await?;
        let note = format!("assigned to staff {assignee_id}");
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("UPDATE alert SET assignee_id = $1, updated_at = $2 WHERE id = $3")
                .bind(assignee_id).bind(at).bind(id).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO alert_event (alert_id, at, actor, from_status, to_status, note) \
                         VALUES ($1, $2, $3, $4, $4, $5)")
                .bind(id).bind(at).bind(actor).bind(&current.status).bind(&note)
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }
}
