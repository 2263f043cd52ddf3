//! Row-scoped figures for the dashboard, the KPI tiles and the alert queue:
//! band counts and score histogram at the latest scored date, band migration
//! from the previous one, alerts per day, open alerts, KPI numerators and
//! denominators, and the alert list of a scope.
//!
//! Every query takes a [`Scope`] and applies it in SQL through the customer
//! (`c`); no figure ever counts a customer the caller may not see. The
//! store computes counts only: targets and their evaluation are the app's.

use crate::customers::Scope;
use crate::dialect::on_pool;
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
    pub kpi: KpiCounts,
}

/// Raw counts behind the KPI tiles (C13), within the scope.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KpiCounts {
    /// Customers with an interaction in the 90 days before `as_of`.
    pub contacted_90d: i64,
    /// Service cases opened in the 90 days before `as_of`, and of those closed within one day.
    pub cases_opened_90d: i64,
    pub cases_closed_within_1d: i64,
    /// Survey answers with a 1–5 score in the 365 days before `as_of`, and of those ≥ 4.
    pub survey_answers: i64,
    pub survey_satisfied: i64,
    /// Open holdings, and customers holding at least one.
    pub holdings: i64,
    pub holders: i64,
    /// Customers whose accounts were all closed in the 365 days before `as_of`, and in the year before that.
    pub churned_last_year: i64,
    pub churned_year_before: i64,
    /// Alerts raised in the 90 days before `as_of`, and of those acknowledged within 24 hours.
    pub alerts_90d: i64,
    pub alerts_acknowledged_24h: i64,
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

/// The scope condition on customer `c` with its parameter bound as `$n`.
fn scope_sql(scope: &Scope, n: usize) -> (String, Option<i64>) {
    match *scope {
        Scope::All => ("TRUE".into(), None),
        Scope::Nothing => ("FALSE".into(), None),
        Scope::Branch(b) => (format!("c.branch_id = ${n}"), Some(b)),
        Scope::Rm(s) => (
            format!(
                "EXISTS (SELECT 1 FROM rm_assignment sa WHERE sa.customer_id = c.id \
                 AND sa.staff_user_id = ${n})"
            ),
            Some(s),
        ),
    }
}

/// Runs `$q` (a query builder expression using `$sql`) with the date binds,
/// then the scope's bind when it has one.
macro_rules! with_scope {
    ($q:expr, $sv:expr) => {{
        let q = $q;
        match $sv {
            Some(v) => q.bind(v),
            None => q,
        }
    }};
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
        let (sc, sv) = scope_sql(scope, 3);
        let customers_sql =
            format!("SELECT COUNT(*) FROM customer c WHERE $1 = $1 AND $2 = $2 AND {sc}");
        let bands_sql = format!(
            "SELECT h.band, COUNT(*) FROM health_score h JOIN customer c ON c.id = h.customer_id \
             WHERE h.as_of = $1 AND $2 = $2 AND {sc} GROUP BY h.band ORDER BY h.band"
        );
        let hist_sql = format!(
            "SELECT CAST(h.score AS BIGINT) / 10, COUNT(*) FROM health_score h \
             JOIN customer c ON c.id = h.customer_id WHERE h.as_of = $1 AND $2 = $2 AND {sc} \
             GROUP BY CAST(h.score AS BIGINT) / 10"
        );
        // PostgreSQL rounds a float cast to an integer; SQLite truncates.
        let hist_sql = match self {
            Store::Sqlite(_) => hist_sql,
            Store::Postgres(_) => {
                hist_sql.replace("CAST(h.score AS BIGINT)", "CAST(FLOOR(h.score) AS BIGINT)")
            }
        };
        let migration_sql = format!(
            "SELECT a.band, b.band, COUNT(*) FROM health_score a \
             JOIN health_score b ON b.customer_id = a.customer_id AND b.as_of = $2 \
             JOIN customer c ON c.id = a.customer_id \
             WHERE a.as_of = $1 AND {sc} GROUP BY a.band, b.band ORDER BY a.band, b.band"
        );
        let alerts_day_sql = format!(
            "SELECT a.raised_on, a.severity, COUNT(*) FROM alert a JOIN customer c ON c.id = a.customer_id \
             WHERE a.raised_on > $1 AND a.raised_on <= $2 AND {sc} \
             GROUP BY a.raised_on, a.severity ORDER BY a.raised_on, a.severity"
        );
        let open_sql = format!(
            "SELECT a.status, COUNT(*) FROM alert a JOIN customer c ON c.id = a.customer_id \
             WHERE a.status <> 'closed' AND $1 = $1 AND $2 = $2 AND {sc} GROUP BY a.status ORDER BY a.status"
        );
        let sla_sql = format!(
            "SELECT COUNT(*) FROM alert a JOIN customer c ON c.id = a.customer_id \
             WHERE a.status = 'new' AND a.raised_at < $1 AND $2 = $2 AND {sc}"
        );
        let latest_alert: Option<NaiveDate> = on_pool!(self, p => sqlx::query_scalar("SELECT raised_on FROM alert ORDER BY raised_on DESC LIMIT 1").fetch_optional(p).await?);
        let alert_end = latest_alert.unwrap_or(day);
        let alert_start = alert_end - Duration::days(90);
        let prev = previous_as_of.unwrap_or(day);
        let sla_cutoff = Utc::now() - Duration::hours(24);
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
            with_scope!(sqlx::query_scalar(&customers_sql).bind(1i64).bind(1i64), sv).fetch_one(p).await?,
            with_scope!(sqlx::query_as(&bands_sql).bind(day).bind(1i64), sv).fetch_all(p).await?,
            with_scope!(sqlx::query_as(&hist_sql).bind(day).bind(1i64), sv).fetch_all(p).await?,
            if previous_as_of.is_some() {
                with_scope!(sqlx::query_as(&migration_sql).bind(prev).bind(day), sv).fetch_all(p).await?
            } else {
                Vec::new()
            },
            with_scope!(sqlx::query_as(&alerts_day_sql).bind(alert_start).bind(alert_end), sv).fetch_all(p).await?,
            with_scope!(sqlx::query_as(&open_sql).bind(1i64).bind(1i64), sv).fetch_all(p).await?,
            with_scope!(sqlx::query_scalar(&sla_sql).bind(sla_cutoff).bind(1i64), sv).fetch_one(p).await?,
        ));
        let mut histogram = [0i64; 10];
        for (bin, n) in hist {
            histogram[bin.clamp(0, 9) as usize] += n;
        }
        let kpi = self.kpi_counts(scope, day).await?;
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
            kpi,
        })
    }

    /// The KPI counts of `scope` for the windows ending at `as_of`.
    pub async fn kpi_counts(&self, scope: &Scope, as_of: NaiveDate) -> Result<KpiCounts> {
        let (sc, sv) = scope_sql(scope, 3);
        let d90 = as_of - Duration::days(90);
        let d365 = as_of - Duration::days(365);
        let d730 = as_of - Duration::days(730);
        let contacted = format!(
            "SELECT COUNT(*) FROM customer c WHERE EXISTS (SELECT 1 FROM interaction i \
             WHERE i.customer_id = c.id AND i.occurred_on >= $1 AND i.occurred_on < $2) AND {sc}"
        );
        let cases = format!(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN s.closed_on IS NOT NULL AND s.closed_on <= s.opened_on + 1 \
             THEN 1 ELSE 0 END), 0) FROM service_case s JOIN customer c ON c.id = s.customer_id \
             WHERE s.opened_on >= $1 AND s.opened_on < $2 AND {sc}"
        );
        let surveys = format!(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN r.score >= 4 THEN 1 ELSE 0 END), 0) \
             FROM survey_response r JOIN customer c ON c.id = r.customer_id \
             WHERE r.answered_on >= $1 AND r.answered_on < $2 AND r.score BETWEEN 1 AND 5 AND {sc}"
        );
        let holdings = format!(
            "SELECT COUNT(*), COUNT(DISTINCT h.customer_id) FROM holding h JOIN customer c ON c.id = h.customer_id \
             WHERE (h.closed_on IS NULL OR h.closed_on >= $2) AND $1 = $1 AND {sc}"
        );
        let churned = format!(
            "SELECT COUNT(*) FROM customer c WHERE EXISTS (SELECT 1 FROM account a WHERE a.customer_id = c.id) \
             AND NOT EXISTS (SELECT 1 FROM account a WHERE a.customer_id = c.id AND (a.closed_on IS NULL OR a.closed_on >= $2)) \
             AND EXISTS (SELECT 1 FROM account a WHERE a.customer_id = c.id AND a.closed_on >= $1) AND {sc}"
        );
        let alerts = format!(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM alert_event e WHERE e.alert_id = a.id \
             AND e.to_status = 'acknowledged' AND e.at <= a.raised_at + INTERVAL_DAY) THEN 1 ELSE 0 END), 0) \
             FROM alert a JOIN customer c ON c.id = a.customer_id \
             WHERE a.raised_on >= $1 AND a.raised_on < $2 AND {sc}"
        );
        // Date arithmetic differs: SQLite compares ISO text, PostgreSQL adds intervals.
        let (cases, alerts) = match self {
            Store::Sqlite(_) => (
                cases.replace("s.opened_on + 1", "date(s.opened_on, '+1 day')"),
                alerts.replace(
                    "e.at <= a.raised_at + INTERVAL_DAY",
                    "julianday(e.at) <= julianday(a.raised_at) + 1",
                ),
            ),
            Store::Postgres(_) => (cases, alerts.replace("INTERVAL_DAY", "INTERVAL '1 day'")),
        };
        let k = on_pool!(self, p => {
            let contacted_90d: i64 = with_scope!(sqlx::query_scalar(&contacted).bind(d90).bind(as_of), sv).fetch_one(p).await?;
            let (cases_opened_90d, cases_closed_within_1d): (i64, i64) = with_scope!(sqlx::query_as(&cases).bind(d90).bind(as_of), sv).fetch_one(p).await?;
            let (survey_answers, survey_satisfied): (i64, i64) = with_scope!(sqlx::query_as(&surveys).bind(d365).bind(as_of), sv).fetch_one(p).await?;
            let (holdings, holders): (i64, i64) = with_scope!(sqlx::query_as(&holdings).bind(1i64).bind(as_of), sv).fetch_one(p).await?;
            let churned_last_year: i64 = with_scope!(sqlx::query_scalar(&churned).bind(d365).bind(as_of), sv).fetch_one(p).await?;
            let churned_year_before: i64 = with_scope!(sqlx::query_scalar(&churned).bind(d730).bind(d365), sv).fetch_one(p).await?;
            let (alerts_90d, alerts_acknowledged_24h): (i64, i64) = with_scope!(sqlx::query_as(&alerts).bind(d90).bind(as_of), sv).fetch_one(p).await?;
            KpiCounts {
                contacted_90d,
                cases_opened_90d,
                cases_closed_within_1d,
                survey_answers,
                survey_satisfied,
                holdings,
                holders,
                churned_last_year,
                churned_year_before,
                alerts_90d,
                alerts_acknowledged_24h,
            }
        });
        Ok(k)
    }

    /// Alerts of customers in `scope` matching `f`, newest first, and how many match.
    pub async fn alerts_in_scope(
        &self,
        scope: &Scope,
        f: &ScopedAlertFilter,
    ) -> Result<(Vec<AlertRow>, i64)> {
        let (status, severity, assignee_id, customer_id) = (
            f.status.as_deref(),
            f.severity.as_deref(),
            f.assignee_id,
            f.customer_id,
        );
        let (limit, offset) = (if f.limit <= 0 { 50 } else { f.limit }, f.offset);
        let (sc, sv) = scope_sql(scope, 1);
        let mut cond = vec![sc];
        let mut n = if sv.is_some() { 1 } else { 0 };
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if status.is_some() {
            cond.push(format!("a.status = {}", next()));
        }
        if severity.is_some() {
            cond.push(format!("a.severity = {}", next()));
        }
        if assignee_id.is_some() {
            cond.push(format!("a.assignee_id = {}", next()));
        }
        if customer_id.is_some() {
            cond.push(format!("a.customer_id = {}", next()));
        }
        let from = format!(
            "FROM alert a JOIN customer c ON c.id = a.customer_id WHERE {}",
            cond.join(" AND ")
        );
        let list = format!(
            "SELECT a.id, a.customer_id, a.rule, a.severity, a.raised_on, a.raised_at, a.origin, \
             a.message, a.evidence, a.assignee_id, a.queue, a.status, a.disposition, a.updated_at \
             {from} ORDER BY a.raised_on DESC, a.id DESC LIMIT {} OFFSET {}",
            limit.clamp(1, 500),
            offset.max(0)
        );
        let count = format!("SELECT COUNT(*) {from}");
        macro_rules! binds {
            ($q:expr) => {{
                let mut q = $q;
                if let Some(v) = sv {
                    q = q.bind(v);
                }
                if let Some(v) = status {
                    q = q.bind(v.to_string());
                }
                if let Some(v) = severity {
                    q = q.bind(v.to_string());
                }
                if let Some(v) = assignee_id {
                    q = q.bind(v);
                }
                if let Some(v) = customer_id {
                    q = q.bind(v);
                }
                q
            }};
        }
        type Raw = (
            i64,
            i64,
            String,
            String,
            NaiveDate,
            DateTime<Utc>,
            String,
            String,
            String,
            Option<i64>,
            Option<String>,
            String,
            Option<String>,
            DateTime<Utc>,
        );
        let (rows, total): (Vec<Raw>, i64) = on_pool!(self, p => (
            binds!(sqlx::query_as(&list)).fetch_all(p).await?,
            binds!(sqlx::query_scalar(&count)).fetch_one(p).await?,
        ));
        Ok((
            rows.into_iter()
                .map(|r| AlertRow {
                    id: r.0,
                    customer_id: r.1,
                    rule: r.2,
                    severity: r.3,
                    raised_on: r.4,
                    raised_at: r.5,
                    origin: r.6,
                    message: r.7,
                    evidence: r.8,
                    assignee_id: r.9,
                    queue: r.10,
                    status: r.11,
                    disposition: r.12,
                    updated_at: r.13,
                })
                .collect(),
            total,
        ))
    }

    /// Alert `id` when its customer is in `scope`; NotFound otherwise.
    pub async fn alert_in_scope(&self, scope: &Scope, id: i64) -> Result<AlertRow> {
        let (sc, sv) = scope_sql(scope, 2);
        let sql = format!(
            "SELECT COUNT(*) FROM alert a JOIN customer c ON c.id = a.customer_id WHERE a.id = $1 AND {sc}"
        );
        let n: i64 = on_pool!(self, p => with_scope!(sqlx::query_scalar(&sql).bind(id), sv).fetch_one(p).await?);
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
