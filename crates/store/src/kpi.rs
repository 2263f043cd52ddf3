//! What the KPIs read (one query per table, every customer): who the
//! customer is grouped by (branch, RM, latest segments), consents, the
//! identifying and contact cells stored and flagged, the quarantined customer
//! rows, accounts, products, CSAT answers (imported and answered through
//! Rapport), cases handled here with their pauses, alerts with their first
//! step out of `new`, and health bands at the last scoring of each month.
//! The figures themselves are `rapport_analytics::kpi`.

use crate::dialect::on_pool;
use crate::{Result, Store};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// One customer's grouping facts (the join day is their first account).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct KpiCustomer {
    pub id: i64,
    pub branch_id: Option<i64>,
    pub branch: Option<String>,
    pub rm_id: Option<i64>,
    pub rm: Option<String>,
    /// `attributes.referred_by` is present.
    pub referred: bool,
    /// Identifying and contact cells stored ([`ACCURACY_COLUMNS`] not empty).
    pub cells_present: i64,
}

/// The customer columns information accuracy counts (text columns count
/// when not empty), as the data-quality report's field profiles do.
pub const ACCURACY_COLUMNS: &[(&str, bool)] = &[
    ("name", true),
    ("gender", true),
    ("birth_date", false),
    ("id_number", true),
    ("phone", true),
    ("email", true),
];

/// Import kinds whose rows are customers (a quarantined one counts against
/// information accuracy).
pub const CUSTOMER_IMPORT_KINDS: &[&str] = &["customers", "berka:client", "card-statements"];

/// A case handled in Rapport, with what its SLA clock reads.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct KpiCase {
    pub id: i64,
    pub customer_id: i64,
    pub severity: String,
    pub opened_at: NaiveDateTime,
    pub first_response_at: Option<NaiveDateTime>,
    pub resolved_at: Option<NaiveDateTime>,
}

/// An alert with its first step out of `new`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct KpiAlert {
    pub customer_id: i64,
    pub raised_on: NaiveDate,
    pub raised_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
}

/// Everything the KPIs read, row lists keyed by customer id.
#[derive(Debug, Clone, Default)]
pub struct KpiRows {
    pub customers: Vec<KpiCustomer>,
    /// (customer, segment code) at the latest membership date.
    pub segments: Vec<(i64, String)>,
    pub consents: Vec<(i64, crate::ConsentRow)>,
    /// (customer, identifying or contact fields flagged invalid).
    pub flagged_cells: Vec<(i64, i64)>,
    /// Customer rows quarantined at import.
    pub quarantined_customer_rows: i64,
    /// (customer, opened, closed).
    pub accounts: Vec<(i64, Option<NaiveDate>, Option<NaiveDate>)>,
    pub holdings: Vec<(i64, Option<NaiveDate>, Option<NaiveDate>)>,
    /// (customer, day, score, scale).
    pub csat: Vec<(i64, NaiveDate, i64, i64)>,
    pub cases: Vec<KpiCase>,
    /// (case, paused from, paused to) local times.
    pub case_pauses: Vec<(i64, NaiveDateTime, Option<NaiveDateTime>)>,
    pub alerts: Vec<KpiAlert>,
    /// (customer, scoring as-of date, band) at the latest finished scoring of
    /// each calendar month.
    pub health: Vec<(i64, NaiveDate, String)>,
}

impl Store {
    /// Reads every row the KPIs need.
    pub async fn kpi_rows(&self) -> Result<KpiRows> {
        let referred = match self {
            Store::Sqlite(_) => {
                "(c.attributes IS NOT NULL AND c.attributes <> '' \
                 AND json_extract(c.attributes, '$.referred_by') IS NOT NULL)"
            }
            Store::Postgres(_) => {
                "(c.attributes IS NOT NULL AND c.attributes <> '' \
                 AND (c.attributes::jsonb ? 'referred_by'))"
            }
        };
        let present = ACCURACY_COLUMNS
            .iter()
            .map(|(col, text)| {
                let v = if *text {
                    format!("NULLIF(c.{col}, '')")
                } else {
                    format!("c.{col}")
                };
                format!("(CASE WHEN {v} IS NOT NULL THEN 1 ELSE 0 END)")
            })
            .collect::<Vec<_>>()
            .join(" + ");
        let customers = format!(
            "SELECT c.id, c.branch_id, b.code AS branch, r.staff_user_id AS rm_id, u.username AS rm, \
             {referred} AS referred, CAST({present} AS BIGINT) AS cells_present \
             FROM customer c LEFT JOIN branch b ON b.id = c.branch_id \
             LEFT JOIN rm_assignment r ON r.customer_id = c.id \
             LEFT JOIN staff_user u ON u.id = r.staff_user_id ORDER BY c.id"
        );
        // The latest membership date per segment, joined (a correlated MAX per
        // row took 21 s at 20,000 customers on SQLite; this takes 15 ms).
        let segments = "SELECT m.customer_id, s.code FROM segment_membership m \
             JOIN segment s ON s.id = m.segment_id \
             JOIN (SELECT segment_id, MAX(as_of) AS latest FROM segment_membership \
                   GROUP BY segment_id) l ON l.segment_id = m.segment_id AND l.latest = m.as_of";
        let fields = ACCURACY_COLUMNS
            .iter()
            .map(|(c, _)| format!("'{c}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let flags = format!(
            "SELECT entity_id, COUNT(DISTINCT field) FROM field_flag \
             WHERE entity = 'customer' AND field IN ({fields}) GROUP BY entity_id"
        );
        let kinds = CUSTOMER_IMPORT_KINDS
            .iter()
            .map(|k| format!("'{k}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let quarantined = format!(
            "SELECT COUNT(*) FROM quarantine q JOIN import_file f ON f.id = q.import_id \
             WHERE f.kind IN ({kinds})"
        );
        let accounts = "SELECT customer_id, opened_on, closed_on FROM account";
        let holdings = "SELECT customer_id, opened_on, closed_on FROM holding";
        let csat_imported = "SELECT customer_id, answered_on, score FROM survey_response \
                             WHERE kind = 'csat' AND score IS NOT NULL";
        let csat_here = "SELECT customer_id, answered_at, score FROM survey_answer \
                         WHERE kind = 'csat' AND score IS NOT NULL";
        let cases = "SELECT id, customer_id, severity, opened_at, first_response_at, resolved_at \
                     FROM support_case";
        let pauses = "SELECT case_id, from_at, to_at FROM case_pause ORDER BY case_id, id";
        let alerts = "SELECT a.customer_id, a.raised_on, a.raised_at, \
             (SELECT MIN(e.at) FROM alert_event e WHERE e.alert_id = a.id \
              AND e.from_status = 'new' AND e.to_status <> 'new') AS acknowledged_at FROM alert a";
        let runs = "SELECT DISTINCT as_of FROM score_run WHERE finished_at IS NOT NULL";
        let (mut rows, runs) = on_pool!(self, p => {
            let customers: Vec<KpiCustomer> = sqlx::query_as(&customers).fetch_all(p).await?;
            let segments: Vec<(i64, String)> = sqlx::query_as(segments).fetch_all(p).await?;
            let flagged_cells: Vec<(i64, i64)> = sqlx::query_as(&flags).fetch_all(p).await?;
            let quarantined_customer_rows: i64 =
                sqlx::query_scalar(&quarantined).fetch_one(p).await?;
            let accounts = sqlx::query_as(accounts).fetch_all(p).await?;
            let holdings = sqlx::query_as(holdings).fetch_all(p).await?;
            let imported: Vec<(i64, NaiveDate, i64)> =
                sqlx::query_as(csat_imported).fetch_all(p).await?;
            let here: Vec<(i64, DateTime<Utc>, i64)> =
                sqlx::query_as(csat_here).fetch_all(p).await?;
            let cases = sqlx::query_as(cases).fetch_all(p).await?;
            let case_pauses = sqlx::query_as(pauses).fetch_all(p).await?;
            let alerts = sqlx::query_as(alerts).fetch_all(p).await?;
            let runs: Vec<NaiveDate> = sqlx::query_scalar(runs).fetch_all(p).await?;
            let mut csat: Vec<(i64, NaiveDate, i64, i64)> =
                imported.into_iter().map(|(c, d, s)| (c, d, s, 5)).collect();
            csat.extend(here.into_iter().map(|(c, t, s)| (c, t.date_naive(), s, 5)));
            (KpiRows {
                customers,
                segments,
                consents: Vec::new(),
                flagged_cells,
                quarantined_customer_rows,
                accounts,
                holdings,
                csat,
                cases,
                case_pauses,
                alerts,
                health: Vec::new(),
            }, runs)
        });
        rows.consents = self.all_consents().await?;
        rows.health = self.monthly_health(&runs).await?;
        Ok(rows)
    }

    /// (customer, as-of date, band) of the latest of `runs` in each calendar month.
    async fn monthly_health(&self, runs: &[NaiveDate]) -> Result<Vec<(i64, NaiveDate, String)>> {
        use chrono::Datelike;
        let mut latest: std::collections::BTreeMap<(i32, u32), NaiveDate> = Default::default();
        for d in runs {
            let e = latest.entry((d.year(), d.month())).or_insert(*d);
            *e = (*e).max(*d);
        }
        let mut out = Vec::new();
        for day in latest.values() {
            let sql = "SELECT customer_id, as_of, band FROM health_score WHERE as_of = $1";
            let rows: Vec<(i64, NaiveDate, String)> =
                on_pool!(self, p => sqlx::query_as(sql).bind(*day).fetch_all(p).await?);
            out.extend(rows);
        }
        Ok(out)
    }
}
