//! Row-scoped customer reads for the web application and the API: search
//! with filters and pagination, the customer 360, key lookup, and the
//! data-subject rights (export everything held about one customer; erase,
//! i.e. anonymise, their personal data).
//!
//! **Row scope is applied here, in SQL**: every query that can reach a
//! customer takes a [`Scope`] and adds its condition to the `WHERE` clause.
//! A customer outside the scope is indistinguishable from a missing one
//! (`StoreError::NotFound`). The store never masks: callers mask by role.
//!
//! A customer's key is its first source key (lowest id), or `#<id>` when it
//! has none — the same rule as `rapport export scores`.

use crate::dialect::on_pool;
use crate::statement::Stmt;
use crate::tables::{erasure_sql, subject_export_sql, Owner, Tally, TABLES};
use crate::{Result, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::{Column, Row, TypeInfo, ValueRef};
use std::sync::LazyLock;

/// Which customers a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Head office: every customer.
    All,
    /// A branch manager: the customers of one branch (`customer.branch_id`).
    Branch(i64),
    /// A relationship manager: the customers assigned to them (`rm_assignment`).
    Rm(i64),
    /// Nobody.
    Nothing,
}

impl Scope {
    /// The SQL condition on the customer aliased `c`, its parameter (if
    /// any) bound in `st`.
    pub(crate) fn condition(&self, st: &mut Stmt) -> String {
        match *self {
            Scope::All => "TRUE".into(),
            Scope::Nothing => "FALSE".into(),
            Scope::Branch(b) => format!("c.branch_id = {}", st.param(b)),
            Scope::Rm(s) => format!(
                "EXISTS (SELECT 1 FROM rm_assignment sa WHERE sa.customer_id = c.id \
                 AND sa.staff_user_id = {})",
                st.param(s)
            ),
        }
    }
}

/// Filters of the customer list.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    /// The key exactly, `#<id>`, or part of the name, phone, ID number or e-mail.
    pub q: Option<String>,
    /// A segment code; membership at the segment's latest date.
    pub segment: Option<String>,
    /// healthy | watch | at_risk at the latest scored date.
    pub band: Option<String>,
    pub rm_id: Option<i64>,
    pub branch_id: Option<i64>,
    /// 1-based.
    pub page: i64,
    /// 1..=200; 50 when 0.
    pub per_page: i64,
    /// Which fields `q` may match in part; the others match only whole
    /// (the services set it from the masking policy; none by default).
    pub matching: SearchMatch,
    /// The column the list is sorted by (by id when not said).
    pub sort: CustomerSort,
    pub descending: bool,
    /// When above 0, the matches are counted up to this many and one more
    /// (`total` is then `count_limit + 1` for "more than `count_limit`"),
    /// so that a page view never counts a million rows; 0 counts them all.
    pub count_limit: i64,
}

/// The column the customer list is sorted by. Every sort but `Id` lists the
/// customers that have a value first, in the column's order (ties by id),
/// then those without one by id, whatever the direction; each part is read
/// from an index in order (migration 0021), so a page costs the same at a
/// million customers as at a thousand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CustomerSort {
    #[default]
    Id,
    /// The customer's key (its first source key).
    Key,
    Name,
    /// The branch's code.
    Branch,
    /// The relationship manager's display name.
    Rm,
    /// The health score at the latest scored date (the band follows it).
    Score,
}

impl CustomerSort {
    /// The sort named `name` (as in a list's `sort=`), if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "id" => Self::Id,
            "key" => Self::Key,
            "name" => Self::Name,
            "branch" => Self::Branch,
            "rm" => Self::Rm,
            "score" | "band" => Self::Score,
            _ => return None,
        })
    }

    /// Its name in a list's `sort=`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Key => "key",
            Self::Name => "name",
            Self::Branch => "branch",
            Self::Rm => "rm",
            Self::Score => "score",
        }
    }
}

/// Which personal-data fields a search text may match in part. A field not
/// matched in part is matched only by its whole value, so a search cannot
/// reveal a value the searcher does not see one character at a time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SearchMatch {
    pub name_part: bool,
    pub phone_part: bool,
    pub email_part: bool,
    pub id_number_part: bool,
}

/// One page of results and how many match in all.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// A customer in a list.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct CustomerListRow {
    pub id: i64,
    pub key: String,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub branch_code: Option<String>,
    pub rm_id: Option<i64>,
    pub rm_name: Option<String>,
    pub score: Option<f64>,
    pub band: Option<String>,
    pub erased: bool,
}

/// Everything the customer 360 shows (C2). Sections are rows as JSON
/// objects, column name → value, newest first where time applies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Customer360 {
    pub profile: CustomerProfile,
    pub accounts: Vec<Map<String, Value>>,
    pub holdings: Vec<Map<String, Value>>,
    pub loans: Vec<Map<String, Value>>,
    pub cards: Vec<Map<String, Value>>,
    pub recent_transactions: Vec<Map<String, Value>>,
    pub interactions: Vec<Map<String, Value>>,
    pub cases: Vec<Map<String, Value>>,
    pub surveys: Vec<Map<String, Value>>,
    pub consents: Vec<Map<String, Value>>,
    /// Oldest first: as_of, score, band, factors (parsed JSON).
    pub health_history: Vec<HealthPoint>,
    pub alerts: Vec<Map<String, Value>>,
    /// Cases and complaints opened in Rapport (`support_case`), beside the
    /// imported `cases`.
    pub support_cases: Vec<Map<String, Value>>,
    /// The steps of those cases (`case_event`), newest first.
    pub case_events: Vec<Map<String, Value>>,
    /// Survey answers given through Rapport's one-time links
    /// (`survey_answer`), beside the imported `surveys`.
    pub survey_answers: Vec<Map<String, Value>>,
    /// The survey links sent to the customer (`survey_invitation`).
    pub survey_invitations: Vec<Map<String, Value>>,
    /// Contacts logged by staff in Rapport (`contact_log`), beside the
    /// imported `interactions`.
    pub contact_log: Vec<Map<String, Value>>,
    /// Call and meeting tasks about the customer (`contact_task`).
    pub tasks: Vec<Map<String, Value>>,
    /// RM assignments made by hand (the audit trail's `customer.assign_rm`
    /// entries: at, actor, rm_id, rm_name), newest first; the current RM
    /// and since when are in the profile.
    pub rm_history: Vec<Map<String, Value>>,
    /// code, name, kind of the segments at their latest membership date.
    pub segments: Vec<Map<String, Value>>,
}

/// The customer's own row, with branch and RM.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerProfile {
    pub id: i64,
    pub key: String,
    pub name: Option<String>,
    pub gender: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub city: Option<String>,
    pub occupation: Option<String>,
    /// Minor units.
    pub annual_income: Option<i64>,
    pub risk_tolerance: Option<String>,
    pub risk_assessed_on: Option<NaiveDate>,
    pub branch_code: Option<String>,
    pub branch_name: Option<String>,
    pub rm_id: Option<i64>,
    pub rm_name: Option<String>,
    /// When the current RM was assigned.
    pub rm_assigned_at: Option<DateTime<Utc>>,
    pub erased_at: Option<DateTime<Utc>>,
    pub attributes: Value,
    /// From the latest `tier:*` segment membership, e.g. `tier:affluent`.
    pub tier: Option<String>,
}

/// One scored date of a customer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthPoint {
    pub as_of: NaiveDate,
    pub score: f64,
    pub band: String,
    pub factors: Value,
}

/// The facts the derived profile (`rapport_analytics::profile`) is computed
/// from: one customer's transactions, loans, contacts and accounts within a
/// window of days.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileFacts {
    pub birth_date: Option<NaiveDate>,
    /// The earliest account opening (the start of the relationship).
    pub first_account_opened: Option<NaiveDate>,
    /// Oldest first.
    pub txns: Vec<ProfileTxn>,
    /// Oldest first.
    pub loans: Vec<ProfileLoan>,
    /// Imported interactions and contacts logged in Rapport, oldest first.
    pub contacts: Vec<ProfileContact>,
}

/// One transaction of [`ProfileFacts`].
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ProfileTxn {
    pub id: i64,
    pub booked_on: NaiveDate,
    /// Minor units; credits positive.
    pub amount: i64,
    pub channel: String,
    pub category: String,
    pub counterparty: Option<String>,
}

/// One loan of [`ProfileFacts`].
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ProfileLoan {
    pub id: i64,
    pub key: String,
    pub granted_on: NaiveDate,
    pub amount: i64,
    pub monthly_payment: i64,
    pub duration_months: i64,
}

/// One contact of [`ProfileFacts`]: an imported interaction (its channel) or
/// a contact logged in Rapport (its kind: call, visit, video, message).
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileContact {
    pub on: NaiveDate,
    pub channel: String,
    /// `interaction` or `contact_log`.
    pub source: &'static str,
}

/// What an erasure changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErasureReport {
    pub customer_id: i64,
    /// False when the customer had already been erased (nothing changed).
    pub erased_now: bool,
    pub interaction_notes_cleared: u64,
    pub case_descriptions_cleared: u64,
    pub survey_answers_cleared: u64,
    /// Rows changed per table (the customer row included); tables where
    /// nothing changed are left out. What each table blanks and keeps is the
    /// registry's (`tables.rs`).
    pub tables: std::collections::BTreeMap<String, u64>,
}

/// A branch with its size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BranchRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub city: Option<String>,
    pub customers: i64,
    pub rms: i64,
}

/// A relationship manager (for filters and assignment).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RmRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub branch_id: Option<i64>,
    pub customers: i64,
}

pub(crate) const KEY_SQL: &str = "COALESCE((SELECT k.source_key FROM customer_source_key k \
                       WHERE k.customer_id = c.id ORDER BY k.id LIMIT 1), '#' || c.id)";

/// One row as a JSON object: integers, reals, booleans, text; dates and
/// times as ISO text; JSON text columns named `attributes`, `evidence` or
/// `factors` parsed.
fn row_json<R: Row>(row: &R) -> Map<String, Value>
where
    usize: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> f64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> NaiveDate: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> DateTime<Utc>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let mut m = Map::new();
    for (i, col) in row.columns().iter().enumerate() {
        let name = col.name().to_string();
        let is_null = row.try_get_raw(i).map(|v| v.is_null()).unwrap_or(true);
        let v = if is_null {
            Value::Null
        } else {
            let ty = row
                .try_get_raw(i)
                .map(|v| v.type_info().name().to_ascii_uppercase())
                .unwrap_or_default();
            match ty.as_str() {
                "INT2" | "INT4" | "INT8" | "INTEGER" | "BIGINT" => row
                    .try_get::<i64, _>(i)
                    .map(Value::from)
                    .unwrap_or(Value::Null),
                "FLOAT4" | "FLOAT8" | "REAL" | "DOUBLE PRECISION" => row
                    .try_get::<f64, _>(i)
                    .map(Value::from)
                    .unwrap_or(Value::Null),
                "BOOL" | "BOOLEAN" => row
                    .try_get::<bool, _>(i)
                    .map(Value::from)
                    .unwrap_or(Value::Null),
                "DATE" => row
                    .try_get::<NaiveDate, _>(i)
                    .map(|d| Value::from(d.to_string()))
                    .unwrap_or(Value::Null),
                "TIMESTAMPTZ" | "DATETIME" => row
                    .try_get::<DateTime<Utc>, _>(i)
                    .map(|d| Value::from(d.to_rfc3339()))
                    .unwrap_or(Value::Null),
                _ => match row.try_get::<String, _>(i) {
                    Ok(s) if matches!(name.as_str(), "attributes" | "evidence" | "factors") => {
                        serde_json::from_str(&s).unwrap_or(Value::String(s))
                    }
                    Ok(s) => Value::String(s),
                    Err(_) => row
                        .try_get::<i64, _>(i)
                        .map(Value::from)
                        .or_else(|_| row.try_get::<f64, _>(i).map(Value::from))
                        .unwrap_or(Value::Null),
                },
            }
        };
        m.insert(name, v);
    }
    m
}

/// Per-customer sections of the 360: (name, SQL with `$1` = customer id).
const SECTIONS: [(&str, &str); 17] = [
    (
        "accounts",
        "SELECT a.id, a.source_key AS key, a.account_type, a.currency, a.opened_on, a.closed_on, \
         a.balance, a.credit_limit FROM account a WHERE a.customer_id = $1 ORDER BY a.id LIMIT 100",
    ),
    (
        "holdings",
        "SELECT h.id, p.code AS product_code, p.name AS product, p.category, p.risk_level, \
         h.opened_on, h.closed_on, h.amount FROM holding h JOIN product p ON p.id = h.product_id \
         WHERE h.customer_id = $1 ORDER BY h.opened_on DESC, h.id LIMIT 100",
    ),
    (
        "loans",
        "SELECT l.id, l.source_key AS key, l.granted_on, l.amount, l.duration_months, \
         l.monthly_payment, l.status, l.days_past_due FROM loan l WHERE l.customer_id = $1 \
         ORDER BY l.granted_on DESC LIMIT 50",
    ),
    (
        "cards",
        "SELECT d.id, d.source_key AS key, d.card_type, d.issued_on, d.credit_limit \
         FROM card d WHERE d.customer_id = $1 ORDER BY d.id LIMIT 50",
    ),
    (
        "recent_transactions",
        "SELECT t.booked_on, t.amount, t.balance_after, t.channel, t.category, t.counterparty \
         FROM txn t WHERE t.customer_id = $1 ORDER BY t.booked_on DESC, t.id DESC LIMIT 50",
    ),
    (
        "interactions",
        "SELECT i.occurred_on, i.channel, i.kind, i.outcome, i.note FROM interaction i \
         WHERE i.customer_id = $1 ORDER BY i.occurred_on DESC, i.id DESC LIMIT 50",
    ),
    (
        "cases",
        "SELECT s.id, s.source_key AS key, s.opened_on, s.kind, s.category, s.severity, s.status, \
         s.description, s.closed_on FROM service_case s WHERE s.customer_id = $1 \
         ORDER BY s.opened_on DESC, s.id DESC LIMIT 50",
    ),
    (
        "surveys",
        "SELECT r.survey, r.kind, r.answered_on, r.question, r.score, r.answer_text \
         FROM survey_response r WHERE r.customer_id = $1 ORDER BY r.answered_on DESC, r.id DESC LIMIT 50",
    ),
    (
        "consents",
        "SELECT n.channel, n.purpose, n.granted, n.recorded_on, n.revoked_on, n.source FROM consent_all n \
         WHERE n.customer_id = $1 ORDER BY n.channel, n.purpose, n.recorded_on DESC LIMIT 100",
    ),
    (
        "alerts",
        "SELECT a.id, a.rule, a.severity, a.raised_on, a.origin, a.message, a.status, \
         a.disposition, a.assignee_id, a.queue FROM alert a WHERE a.customer_id = $1 \
         ORDER BY a.raised_on DESC, a.id DESC LIMIT 50",
    ),
    (
        "support_cases",
        "SELECT s.id, s.intake, s.kind, s.category, s.severity, s.state, s.subject, s.description, \
         s.assignee, s.opened_at, s.first_response_at, s.resolved_at, s.closed_at, s.root_cause, \
         s.reopen_count, s.created_by FROM support_case s WHERE s.customer_id = $1 \
         ORDER BY s.opened_at DESC, s.id DESC LIMIT 50",
    ),
    (
        "case_events",
        "SELECT e.id, e.case_id, e.at, e.actor, e.action, e.from_state, e.to_state \
         FROM case_event e JOIN support_case s ON s.id = e.case_id WHERE s.customer_id = $1 \
         ORDER BY e.at DESC, e.id DESC LIMIT 100",
    ),
    (
        "survey_answers",
        "SELECT a.id, a.invitation_id, a.survey, a.question_id, a.kind, a.score, a.functional, \
         a.dysfunctional, a.answer_text, a.answered_at FROM survey_answer a \
         WHERE a.customer_id = $1 ORDER BY a.answered_at DESC, a.id DESC LIMIT 100",
    ),
    (
        "survey_invitations",
        "SELECT v.id, v.survey, v.campaign_id, v.created_at, v.expires_at, v.used_at \
         FROM survey_invitation v WHERE v.customer_id = $1 \
         ORDER BY v.created_at DESC, v.id DESC LIMIT 50",
    ),
    (
        "contact_log",
        "SELECT l.id, l.at, l.staff, l.kind, l.outcome, l.note, l.recorded_at FROM contact_log l \
         WHERE l.customer_id = $1 ORDER BY l.at DESC, l.id DESC LIMIT 50",
    ),
    (
        "tasks",
        "SELECT t.id, t.kind, t.assignee, t.due_at, t.status, t.outcome, t.campaign_id, t.script, \
         t.created_at, t.done_at FROM contact_task t WHERE t.customer_id = $1 \
         ORDER BY t.created_at DESC, t.id DESC LIMIT 50",
    ),
    (
        "rm_history",
        "SELECT g.id, g.at, g.actor, g.detail FROM audit_log g \
         WHERE g.customer_id = $1 AND g.action = 'customer.assign_rm' \
         ORDER BY g.at DESC, g.id DESC LIMIT 50",
    ),
];

/// The health history of the 360, newest first (reversed by the caller).
const HEALTH_360_SQL: &str = "SELECT h.as_of, h.score, h.band, h.factors FROM health_score h \
     WHERE h.customer_id = $1 ORDER BY h.as_of DESC LIMIT 400";

/// The customer's memberships at their latest membership date (both lookups
/// on the (customer_id, as_of) index).
const SEGMENTS_360_SQL: &str = "SELECT s.code, s.name, s.kind FROM segment_membership m \
     JOIN segment s ON s.id = m.segment_id WHERE m.customer_id = $1 \
     AND m.as_of = (SELECT MAX(m2.as_of) FROM segment_membership m2 \
     WHERE m2.customer_id = $1) ORDER BY s.kind, s.code";

/// The output column names of a section's SELECT list (`a.x AS y` → `y`,
/// `a.x` → `x`). The section lists are plain column references.
fn select_names(sql: &str) -> Vec<&str> {
    let list = sql
        .strip_prefix("SELECT ")
        .and_then(|rest| rest.split(" FROM ").next())
        .unwrap_or_default();
    list.split(',')
        .map(|c| {
            let c = c.trim();
            match c.rsplit_once(" AS ") {
                Some((_, alias)) => alias.trim(),
                None => c.rsplit_once('.').map_or(c, |(_, n)| n),
            }
        })
        .collect()
}

/// `, (subquery) , …` producing one JSON array text per 360 section, in
/// SECTIONS order followed by the health history and the segments.
fn json_360_columns(postgres: bool) -> String {
    let mut out = String::new();
    let all = SECTIONS
        .iter()
        .map(|(_, sql)| *sql)
        .chain([HEALTH_360_SQL, SEGMENTS_360_SQL]);
    for sql in all {
        if postgres {
            out.push_str(&format!(
                ", (SELECT COALESCE(json_agg(x), '[]'::json)::text FROM ({sql}) x)"
            ));
        } else {
            let pairs = select_names(sql)
                .iter()
                .map(|n| format!("'{n}', x.{n}"))
                .collect::<Vec<_>>()
                .join(", ");
            out.push_str(&format!(
                ", (SELECT json_group_array(json_object({pairs})) FROM ({sql}) x)"
            ));
        }
    }
    out
}

static SQLITE_360_COLUMNS: LazyLock<String> = LazyLock::new(|| json_360_columns(false));
static POSTGRES_360_COLUMNS: LazyLock<String> = LazyLock::new(|| json_360_columns(true));

/// One health-history element of the 360's JSON.
fn health_point(id: i64, mut h: Map<String, Value>) -> Result<HealthPoint> {
    let bad = |what: &str| -> StoreError {
        sqlx::Error::Decode(format!("health history of customer #{id}: {what}").into()).into()
    };
    let as_of = h
        .get("as_of")
        .and_then(Value::as_str)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| bad("as_of"))?;
    let score = h
        .get("score")
        .and_then(Value::as_f64)
        .ok_or_else(|| bad("score"))?;
    let band = match h.remove("band") {
        Some(Value::String(b)) => b,
        _ => return Err(bad("band")),
    };
    let factors = match h.remove("factors") {
        Some(Value::String(f)) => serde_json::from_str(&f).unwrap_or(Value::String(f)),
        Some(other) => other,
        None => Value::Null,
    };
    Ok(HealthPoint {
        as_of,
        score,
        band,
        factors,
    })
}

/// The update that erases the customer row `$1` at `$2`: personal fields
/// cleared, the birth date kept as its year (date arithmetic differs per
/// dialect).
fn erase_customer_row_sql(store: &Store) -> &'static str {
    match store {
        Store::Sqlite(_) => {
            "UPDATE customer SET name = NULL, id_number = NULL, phone = NULL, email = NULL, \
             occupation = NULL, attributes = '{}', birth_date = CASE WHEN birth_date IS NULL THEN NULL \
             ELSE substr(birth_date, 1, 4) || '-01-01' END, erased_at = $2 \
             WHERE id = $1 AND erased_at IS NULL"
        }
        Store::Postgres(_) => {
            "UPDATE customer SET name = NULL, id_number = NULL, phone = NULL, email = NULL, \
             occupation = NULL, attributes = '{}', birth_date = date_trunc('year', birth_date)::date, erased_at = $2 \
             WHERE id = $1 AND erased_at IS NULL"
        }
    }
}

impl Store {
    /// The latest date with a finished scoring run.
    async fn latest_scored(&self) -> Result<Option<NaiveDate>> {
        // ORDER BY … LIMIT 1 rather than MAX(): SQLite then returns the typed column.
        let sql = "SELECT as_of FROM score_run WHERE finished_at IS NOT NULL \
                   ORDER BY as_of DESC LIMIT 1";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).fetch_optional(p).await?))
    }

    /// One page of the customers in `scope` matching `f`.
    pub async fn search_customers(
        &self,
        scope: &Scope,
        f: &CustomerFilter,
    ) -> Result<Page<CustomerListRow>> {
        let per_page = match f.per_page {
            0 => 50,
            n => n.clamp(1, 200),
        };
        let page = f.page.max(1);
        let latest = self.latest_scored().await?;
        let mut st = Stmt::new(self);
        let scored_on = st.param(latest.unwrap_or_default());
        let mut cond = vec![scope.condition(&mut st)];
        if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            if let Some(id) = q.strip_prefix('#').and_then(|d| d.parse::<i64>().ok()) {
                cond.push(format!("c.id = {}", st.param(id)));
            } else {
                let m = f.matching;
                let exact = st.param(q);
                let lowered = q.to_lowercase();
                // Placeholders only for what the statement uses.
                let lower = (!m.name_part || !m.email_part).then(|| st.param(lowered.clone()));
                let long_name = m.name_part && lowered.chars().count() > 2;
                let like =
                    (long_name || m.phone_part || m.email_part || m.id_number_part).then(|| {
                        let escaped = lowered
                            .replace('\\', "\\\\")
                            .replace('%', "\\%")
                            .replace('_', "\\_");
                        st.param(format!("%{escaped}%"))
                    });
                let (lower, like) = (lower.unwrap_or_default(), like.unwrap_or_default());
                // The customers matching each field, each read from an index
                // (a part of the name from its grams, `name_index`) — but a
                // part of an ID number, phone or e-mail, matched only for
                // those who see it, reads every customer.
                let field = |part: bool, col: &str, lowered: bool| {
                    // A part is matched without regard to case (the pattern is lowered).
                    let col = if lowered || part {
                        format!("LOWER({col})")
                    } else {
                        col.to_string()
                    };
                    let test = if part {
                        format!("{col} LIKE {like} ESCAPE '\\'")
                    } else if lowered {
                        format!("{col} = {lower}")
                    } else {
                        format!("{col} = {exact}")
                    };
                    format!("SELECT id FROM customer WHERE {test}")
                };
                let digits: String = q.chars().filter(|c| c.is_ascii_digit()).collect();
                let phone_whole = if !m.phone_part && digits.len() >= 7 {
                    let national = digits
                        .strip_prefix("86")
                        .filter(|_| q.starts_with('+'))
                        .unwrap_or(&digits);
                    format!(
                        " UNION SELECT id FROM customer WHERE phone = {}",
                        st.param(format!("+86{national}"))
                    )
                } else {
                    String::new()
                };
                let name = if m.name_part {
                    crate::name_index::name_part_ids(&mut st, &lowered, &like)
                } else {
                    field(false, "name", true)
                };
                cond.push(format!(
                    "c.id IN (SELECT customer_id FROM customer_source_key WHERE source_key = {exact} \
                     UNION {} UNION {name} UNION {}{phone_whole} UNION {})",
                    field(m.id_number_part, "id_number", false),
                    field(m.phone_part, "phone", false),
                    field(m.email_part, "email", true),
                ));
            }
        }
        if let Some(seg) = &f.segment {
            cond.push(format!(
                "EXISTS (SELECT 1 FROM segment s JOIN segment_membership m ON m.segment_id = s.id \
                 WHERE s.code = {} AND m.customer_id = c.id AND m.as_of = \
                 (SELECT MAX(m2.as_of) FROM segment_membership m2 WHERE m2.segment_id = s.id))",
                st.param(seg.as_str())
            ));
        }
        if let Some(band) = &f.band {
            cond.push(format!("hs.band = {}", st.param(band.as_str())));
        }
        if let Some(rm) = f.rm_id {
            cond.push(format!("ra.staff_user_id = {}", st.param(rm)));
        }
        if let Some(b) = f.branch_id {
            cond.push(format!("c.branch_id = {}", st.param(b)));
        }
        // The customer's first key, joined when the list is sorted by it.
        // The tables joined; `inner`: the sorted column's tables joined
        // inner (the customers with a value), so that the planner may read
        // them first, from their index, in the column's order.
        let cond = cond.join(" AND ");
        let from_of = |inner: bool| {
            let join = |s: CustomerSort| {
                if inner && f.sort == s {
                    "JOIN"
                } else {
                    "LEFT JOIN"
                }
            };
            let key_join = if f.sort == CustomerSort::Key {
                format!(
                    "{} customer_source_key fk ON fk.customer_id = c.id AND fk.id = \
                     (SELECT MIN(k1.id) FROM customer_source_key k1 WHERE k1.customer_id = c.id) ",
                    join(CustomerSort::Key)
                )
            } else {
                String::new()
            };
            format!(
                "FROM customer c {b} branch b ON b.id = c.branch_id \
                 {r} rm_assignment ra ON ra.customer_id = c.id \
                 {r} staff_user su ON su.id = ra.staff_user_id \
                 {h} health_score hs ON hs.customer_id = c.id AND hs.as_of = {scored_on} \
                 {key_join}WHERE {cond}",
                b = join(CustomerSort::Branch),
                r = join(CustomerSort::Rm),
                // A band filter keeps only scored customers: joined inner, so
                // that a rare band is read from the band index first instead
                // of walking every customer.
                h = if f.band.is_some() {
                    "JOIN"
                } else {
                    join(CustomerSort::Score)
                },
            )
        };
        let from = from_of(false);
        let mut count = st.clone();
        if f.count_limit > 0 {
            count.push(&format!(
                "SELECT COUNT(*) FROM (SELECT 1 {from} LIMIT {}) n",
                f.count_limit + 1
            ));
        } else {
            count.push(&format!("SELECT COUNT(*) {from}"));
        }
        let dir = if f.descending { "DESC" } else { "ASC" };
        // The sorted column with its tie-breaks (in the order of the index
        // read), and the condition that a customer has a value in it.
        let sorted = match f.sort {
            CustomerSort::Id => None,
            CustomerSort::Key => Some((
                format!("fk.source_key {dir}, fk.id {dir}"),
                "fk.id IS NOT NULL",
            )),
            CustomerSort::Name => Some((format!("c.name {dir}, c.id {dir}"), "c.name IS NOT NULL")),
            CustomerSort::Branch => Some((format!("b.code {dir}, c.id {dir}"), "b.id IS NOT NULL")),
            CustomerSort::Rm => Some((
                format!("su.display_name {dir}, su.id {dir}, ra.customer_id {dir}"),
                "su.id IS NOT NULL",
            )),
            CustomerSort::Score => Some((
                format!("hs.score {dir}, hs.customer_id {dir}"),
                "hs.score IS NOT NULL",
            )),
        };
        let columns = format!(
            "SELECT c.id, {KEY_SQL} AS key, c.name, c.phone, c.id_number, b.code AS branch_code, \
             ra.staff_user_id AS rm_id, su.display_name AS rm_name, hs.score, hs.band, \
             c.erased_at IS NOT NULL AS erased"
        );
        let select = format!("{columns} {from}");
        let offset = (page - 1) * per_page;
        let (items, total): (Vec<CustomerListRow>, i64) = match sorted {
            None => {
                st.push(&format!(
                    "{select} ORDER BY c.id {dir} LIMIT {per_page} OFFSET {offset}"
                ));
                on_pool!(self, p => (
                    st.query_as()?.fetch_all(p).await?,
                    count.query_scalar()?.fetch_one(p).await?,
                ))
            }
            Some((order, has)) => {
                // First those with a value, in the column's order …
                let mut with = st.clone();
                with.push(&format!(
                    "{columns} {} AND {has} ORDER BY {order} LIMIT {per_page} OFFSET {offset}",
                    from_of(true)
                ));
                let (mut items, total): (Vec<CustomerListRow>, i64) = on_pool!(self, p => (
                    with.query_as()?.fetch_all(p).await?,
                    count.query_scalar()?.fetch_one(p).await?,
                ));
                // … then, once they are exhausted, those without one, by id.
                if (items.len() as i64) < per_page {
                    let before = if items.is_empty() && offset > 0 {
                        let mut n = st.clone();
                        n.push(&format!("SELECT COUNT(*) {} AND {has}", from_of(true)));
                        let c: i64 = on_pool!(self, p => n.query_scalar()?.fetch_one(p).await?);
                        c
                    } else {
                        offset + items.len() as i64
                    };
                    let mut without = st.clone();
                    without.push(&format!(
                        "{select} AND NOT ({has}) ORDER BY c.id {dir} LIMIT {} OFFSET {}",
                        per_page - items.len() as i64,
                        (offset - before).max(0)
                    ));
                    let rest: Vec<CustomerListRow> =
                        on_pool!(self, p => without.query_as()?.fetch_all(p).await?);
                    items.extend(rest);
                }
                (items, total)
            }
        };
        Ok(Page {
            items,
            total,
            page,
            per_page,
        })
    }

    /// The id of the customer with `key` (a source key or `#<id>`) within `scope`.
    pub async fn customer_id_by_key(&self, scope: &Scope, key: &str) -> Result<i64> {
        let mut st = Stmt::new(self);
        if let Some(id) = key.strip_prefix('#').and_then(|d| d.parse::<i64>().ok()) {
            let id = st.param(id);
            let sc = scope.condition(&mut st);
            st.push(&format!(
                "SELECT c.id FROM customer c WHERE c.id = {id} AND {sc}"
            ));
        } else {
            let key = st.param(key);
            let sc = scope.condition(&mut st);
            st.push(&format!(
                "SELECT c.id FROM customer_source_key k JOIN customer c ON c.id = k.customer_id \
                 WHERE k.source_key = {key} AND {sc} ORDER BY k.id LIMIT 1"
            ));
        }
        let id: Option<i64> = on_pool!(self, p => st.query_scalar()?.fetch_optional(p).await?);
        id.ok_or_else(|| StoreError::NotFound(format!("customer {key}")))
    }

    /// Whether customer `id` exists and is within `scope`.
    pub async fn customer_in_scope(&self, scope: &Scope, id: i64) -> Result<bool> {
        let mut st = Stmt::new(self);
        let id = st.param(id);
        let sc = scope.condition(&mut st);
        st.push(&format!(
            "SELECT COUNT(*) FROM customer c WHERE c.id = {id} AND {sc}"
        ));
        let n: i64 = on_pool!(self, p => st.query_scalar()?.fetch_one(p).await?);
        Ok(n > 0)
    }

    /// The customer 360 of `id`; NotFound when missing or outside `scope`.
    ///
    /// One statement answers the whole page: the profile row (with the scope
    /// condition) plus one JSON array column per section, so a 360 costs a
    /// single round trip to the database however many sections it has.
    pub async fn customer_360(&self, scope: &Scope, id: i64) -> Result<Customer360> {
        // The sections' SQL reads the customer id as `$1`: it is the first
        // value bound (on SQLite, sqlx binds `$1` and `?1` to the same value).
        let mut st = Stmt::new(self);
        let id_p = st.param(id);
        let sc = scope.condition(&mut st);
        let json_cols = match self {
            Store::Sqlite(_) => &*SQLITE_360_COLUMNS,
            Store::Postgres(_) => &*POSTGRES_360_COLUMNS,
        };
        let sql = format!(
            "SELECT c.id, {KEY_SQL} AS key, c.name, c.gender, c.birth_date, c.id_number, c.phone, \
             c.email, c.city, c.occupation, c.annual_income, c.risk_tolerance, c.risk_assessed_on, \
             b.code, b.name, ra.staff_user_id, su.display_name, ra.assigned_at, c.erased_at, \
             c.attributes{json_cols} \
             FROM customer c LEFT JOIN branch b ON b.id = c.branch_id \
             LEFT JOIN rm_assignment ra ON ra.customer_id = c.id \
             LEFT JOIN staff_user su ON su.id = ra.staff_user_id \
             WHERE c.id = {id_p} AND {sc}"
        );
        st.push(&sql);
        let (profile, arrays) = on_pool!(self, p => {
            let Some(r) = st.query()?.fetch_optional(p).await? else {
                return Err(StoreError::NotFound(format!("customer #{id}")));
            };
            let attributes: Option<String> = r.try_get(19)?;
            let profile = CustomerProfile {
                id: r.try_get(0)?,
                key: r.try_get(1)?,
                name: r.try_get(2)?,
                gender: r.try_get(3)?,
                birth_date: r.try_get(4)?,
                id_number: r.try_get(5)?,
                phone: r.try_get(6)?,
                email: r.try_get(7)?,
                city: r.try_get(8)?,
                occupation: r.try_get(9)?,
                annual_income: r.try_get(10)?,
                risk_tolerance: r.try_get(11)?,
                risk_assessed_on: r.try_get(12)?,
                branch_code: r.try_get(13)?,
                branch_name: r.try_get(14)?,
                rm_id: r.try_get(15)?,
                rm_name: r.try_get(16)?,
                rm_assigned_at: r.try_get(17)?,
                erased_at: r.try_get(18)?,
                attributes: attributes
                    .and_then(|a| serde_json::from_str(&a).ok())
                    .unwrap_or(Value::Object(Map::new())),
                tier: None,
            };
            let mut arrays = Vec::with_capacity(SECTIONS.len() + 2);
            for i in 0..SECTIONS.len() + 2 {
                let text: Option<String> = r.try_get(20 + i)?;
                arrays.push(text.unwrap_or_else(|| "[]".to_string()));
            }
            (profile, arrays)
        });
        let mut sections = Vec::with_capacity(arrays.len());
        for (i, text) in arrays.iter().enumerate() {
            let rows: Vec<Map<String, Value>> = serde_json::from_str(text).map_err(|e| {
                sqlx::Error::Decode(format!("360 section {i} of customer #{id}: {e}").into())
            })?;
            sections.push(rows);
        }
        let segments = sections.pop().unwrap_or_default();
        let health = sections.pop().unwrap_or_default();
        let mut profile = profile;
        profile.tier = segments
            .iter()
            .filter_map(|s| s.get("code").and_then(Value::as_str))
            .find(|c| c.starts_with("tier:"))
            .map(str::to_string);
        let mut health_history = Vec::with_capacity(health.len());
        for h in health {
            health_history.push(health_point(id, h)?);
        }
        health_history.reverse();
        let mut it = sections.into_iter();
        let mut next = || it.next().unwrap_or_default();
        let mut c = Customer360 {
            profile,
            accounts: next(),
            holdings: next(),
            loans: next(),
            cards: next(),
            recent_transactions: next(),
            interactions: next(),
            cases: next(),
            surveys: next(),
            consents: next(),
            alerts: next(),
            support_cases: next(),
            case_events: next(),
            survey_answers: next(),
            survey_invitations: next(),
            contact_log: next(),
            tasks: next(),
            rm_history: next(),
            health_history,
            segments,
        };
        self.name_rm_history(&mut c.rm_history).await?;
        Ok(c)
    }

    /// The RM of each hand assignment (its audit detail's `rm_id`) with
    /// their display name; the detail itself (via, ids) is dropped.
    async fn name_rm_history(&self, rows: &mut [Map<String, Value>]) -> Result<()> {
        let mut ids = Vec::new();
        for r in rows.iter_mut() {
            let detail = match r.remove("detail") {
                Some(Value::String(t)) => serde_json::from_str(&t).unwrap_or(Value::Null),
                Some(v) => v,
                None => Value::Null,
            };
            let rm = detail.get("rm_id").and_then(Value::as_i64);
            r.insert("rm_id".into(), rm.map_or(Value::Null, Value::from));
            ids.extend(rm);
        }
        if ids.is_empty() {
            return Ok(());
        }
        ids.sort_unstable();
        ids.dedup();
        let mut st = Stmt::new(self);
        let list = ids
            .iter()
            .map(|id| st.param(*id))
            .collect::<Vec<_>>()
            .join(", ");
        st.push(&format!(
            "SELECT id, display_name FROM staff_user WHERE id IN ({list})"
        ));
        let names: Vec<(i64, String)> = on_pool!(self, p => st.query_as()?.fetch_all(p).await?);
        for r in rows.iter_mut() {
            let name = r
                .get("rm_id")
                .and_then(Value::as_i64)
                .and_then(|id| names.iter().find(|(n, _)| *n == id))
                .map(|(_, name)| Value::from(name.clone()));
            r.insert("rm_name".into(), name.unwrap_or(Value::Null));
        }
        Ok(())
    }

    /// The facts of customer `id`'s derived profile from `from` through
    /// `through` (both inclusive); loans granted since `from`, and the
    /// earliest account opening whenever it was. The caller has checked the
    /// customer is in scope.
    pub async fn customer_profile_facts(
        &self,
        id: i64,
        from: NaiveDate,
        through: NaiveDate,
    ) -> Result<ProfileFacts> {
        let person = "SELECT c.birth_date, (SELECT MIN(a.opened_on) FROM account a \
                      WHERE a.customer_id = c.id) FROM customer c WHERE c.id = $1";
        let txns = "SELECT t.id, t.booked_on, t.amount, t.channel, t.category, t.counterparty \
                    FROM txn t WHERE t.customer_id = $1 AND t.booked_on >= $2 \
                    AND t.booked_on <= $3 ORDER BY t.booked_on, t.id";
        let loans = "SELECT l.id, l.source_key AS key, l.granted_on, l.amount, l.monthly_payment, \
                     l.duration_months FROM loan l WHERE l.customer_id = $1 \
                     AND l.granted_on >= $2 AND l.granted_on <= $3 ORDER BY l.granted_on, l.id";
        let interactions = "SELECT i.occurred_on, i.channel FROM interaction i \
                            WHERE i.customer_id = $1 AND i.occurred_on >= $2 \
                            AND i.occurred_on <= $3 ORDER BY i.occurred_on, i.id";
        let logged = "SELECT l.at, l.kind FROM contact_log l WHERE l.customer_id = $1 \
                      AND l.at >= $2 AND l.at < $3 ORDER BY l.at, l.id";
        let from_t = from.and_hms_opt(0, 0, 0).unwrap_or_default();
        let until_t = through
            .succ_opt()
            .unwrap_or(through)
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default();
        let (person, txns, loans, interactions, logged) = on_pool!(self, p => {
            let person: Option<(Option<NaiveDate>, Option<NaiveDate>)> =
                sqlx::query_as(person).bind(id).fetch_optional(p).await?;
            let txns: Vec<ProfileTxn> = sqlx::query_as(txns).bind(id).bind(from).bind(through).fetch_all(p).await?;
            let loans: Vec<ProfileLoan> = sqlx::query_as(loans).bind(id).bind(from).bind(through).fetch_all(p).await?;
            let interactions: Vec<(NaiveDate, String)> =
                sqlx::query_as(interactions).bind(id).bind(from).bind(through).fetch_all(p).await?;
            let logged: Vec<(chrono::NaiveDateTime, String)> =
                sqlx::query_as(logged).bind(id).bind(from_t).bind(until_t).fetch_all(p).await?;
            (person, txns, loans, interactions, logged)
        });
        let Some((birth_date, first_account_opened)) = person else {
            return Err(StoreError::NotFound(format!("customer #{id}")));
        };
        let mut contacts: Vec<ProfileContact> = interactions
            .into_iter()
            .map(|(on, channel)| ProfileContact {
                on,
                channel,
                source: "interaction",
            })
            .chain(logged.into_iter().map(|(at, kind)| ProfileContact {
                on: at.date(),
                channel: kind,
                source: "contact_log",
            }))
            .collect();
        contacts.sort_by_key(|c| c.on);
        Ok(ProfileFacts {
            birth_date,
            first_account_opened,
            txns,
            loans,
            contacts,
        })
    }

    /// Every row the store holds about customer `id` (data-subject access):
    /// the customer row, then every table the registry (`tables.rs`) says is
    /// about a customer — the customer-keyed tables, the children of those
    /// (alert and case events, message events, recommendation outcomes), the
    /// field flags and the quarantined import rows that carry the customer's
    /// identifiers.
    pub async fn export_customer(&self, id: i64) -> Result<Value> {
        let mut out = Map::new();
        let exists = on_pool!(self, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM customer WHERE id = $1").bind(id).fetch_one(p).await?);
        if exists == 0 {
            return Err(StoreError::NotFound(format!("customer #{id}")));
        }
        let mentioning = self.mentioning_rows(&self.identifiers(id).await?).await?;
        on_pool!(self, p => {
            let mut conn = p.acquire().await?;
            let rows = sqlx::query("SELECT * FROM customer WHERE id = $1").bind(id).fetch_all(&mut *conn).await?;
            let Some(customer) = rows.first().map(row_json) else {
                return Err(StoreError::NotFound(format!("customer #{id}")));
            };
            out.insert("customer".into(), Value::Object(customer));
            for t in TABLES {
                let Some(sql) = subject_export_sql(t) else { continue };
                let keys: &[i64] = if t.owner == Owner::Mentions { &mentioning } else { std::slice::from_ref(&id) };
                let mut rows = Vec::new();
                for key in keys {
                    for r in sqlx::query(&sql).bind(*key).fetch_all(&mut *conn).await? {
                        rows.push(Value::Object(row_json(&r)));
                    }
                }
                out.insert(t.name.into(), Value::Array(rows));
            }
        });
        Ok(Value::Object(out))
    }

    /// Erases (anonymises) customer `id`'s personal data, table by table as
    /// the registry (`tables.rs`) decides, and keeps what the law requires a
    /// bank to retain (each table's entry gives the ground): accounts,
    /// transactions, loans, cards, holdings, consents (proof of consent),
    /// alerts, scores, the audit trail and the source keys. Blanks name, ID
    /// number, phone, e-mail, occupation and attributes, keeps only the birth
    /// year, blanks free text everywhere (interaction, contact and consent
    /// notes, cases and their events, survey answers, alert dispositions and
    /// notes, recommendation outcome notes, merge explanations), cancels
    /// queued messages and blanks the address, text and provider replies of
    /// all messages and call tasks, blanks the raw text of quarantined
    /// import rows that carry the customer's identifiers (found before the
    /// customer row is blanked), and sets `erased_at`. Idempotent.
    pub async fn erase_customer(&self, id: i64, at: DateTime<Utc>) -> Result<ErasureReport> {
        let customer = erase_customer_row_sql(self);
        let exists = on_pool!(self, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM customer WHERE id = $1").bind(id).fetch_one(p).await?);
        if exists == 0 {
            return Err(StoreError::NotFound(format!("customer #{id}")));
        }
        let mentioning = self.mentioning_rows(&self.identifiers(id).await?).await?;
        let mut report = ErasureReport {
            customer_id: id,
            erased_now: false,
            interaction_notes_cleared: 0,
            case_descriptions_cleared: 0,
            survey_answers_cleared: 0,
            tables: Default::default(),
        };
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query(customer).bind(id).bind(at).execute(&mut *tx).await?.rows_affected();
            report.erased_now = n > 0;
            if n > 0 {
                report.tables.insert("customer".into(), n);
            }
            for t in TABLES {
                let keys: &[i64] = if t.owner == Owner::Mentions { &mentioning } else { std::slice::from_ref(&id) };
                for (sql, tally) in erasure_sql(t) {
                    let mut changed = 0;
                    for key in keys {
                        changed += sqlx::query(&sql).bind(*key).execute(&mut *tx).await?.rows_affected();
                    }
                    match tally {
                        Some(Tally::Notes) => report.interaction_notes_cleared += changed,
                        Some(Tally::CaseTexts) => report.case_descriptions_cleared += changed,
                        Some(Tally::SurveyAnswers) => report.survey_answers_cleared += changed,
                        None => {}
                    }
                    if changed > 0 {
                        *report.tables.entry(t.name.to_string()).or_default() += changed;
                    }
                }
            }
            tx.commit().await?;
        });
        Ok(report)
    }

    /// Every branch with its number of customers and RMs.
    pub async fn branches(&self) -> Result<Vec<BranchRow>> {
        let sql = "SELECT b.id, b.code, b.name, b.city, \
                   (SELECT COUNT(*) FROM customer c WHERE c.branch_id = b.id), \
                   (SELECT COUNT(*) FROM staff_user u WHERE u.branch_id = b.id AND u.role = 'rm') \
                   FROM branch b ORDER BY b.code";
        let rows: Vec<(i64, String, String, Option<String>, i64, i64)> =
            on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|(id, code, name, city, customers, rms)| BranchRow {
                id,
                code,
                name,
                city,
                customers,
                rms,
            })
            .collect())
    }

    /// The RMs whose customers `scope` can see (all RMs of a branch for a
    /// branch scope, oneself for an RM), with their number of customers.
    pub async fn relationship_managers(&self, scope: &Scope) -> Result<Vec<RmRow>> {
        let (cond, v) = match *scope {
            Scope::All => ("TRUE".to_string(), None),
            Scope::Nothing => ("FALSE".to_string(), None),
            Scope::Branch(b) => ("u.branch_id = $1".to_string(), Some(b)),
            Scope::Rm(s) => ("u.id = $1".to_string(), Some(s)),
        };
        let sql = format!(
            "SELECT u.id, u.username, u.display_name, u.branch_id, \
             (SELECT COUNT(*) FROM rm_assignment r WHERE r.staff_user_id = u.id) \
             FROM staff_user u WHERE u.role = 'rm' AND {cond} ORDER BY u.username"
        );
        let rows: Vec<(i64, String, String, Option<i64>, i64)> = on_pool!(self, p => {
            let mut q = sqlx::query_as(&sql);
            if let Some(v) = v { q = q.bind(v); }
            q.fetch_all(p).await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, username, display_name, branch_id, customers)| RmRow {
                id,
                username,
                display_name,
                branch_id,
                customers,
            })
            .collect())
    }

    /// Up to `n` customer keys (first source key of each customer), sampled
    /// deterministically by `seed` (for load benchmarks).
    pub async fn sample_customer_keys(&self, n: i64, seed: u64) -> Result<Vec<String>> {
        let sql = "SELECT k.source_key FROM customer_source_key k \
                   WHERE k.id IN (SELECT MIN(id) FROM customer_source_key GROUP BY customer_id)";
        let mut keys: Vec<String> =
            on_pool!(self, p => sqlx::query_scalar(sql).fetch_all(p).await?);
        let n = usize::try_from(n.max(0)).unwrap_or(0);
        if keys.len() > n {
            // A deterministic partial Fisher-Yates shuffle (xorshift; no rand dependency here).
            let mut x = seed | 1;
            for i in 0..n {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let j = i + (x % (keys.len() - i) as u64) as usize;
                keys.swap(i, j);
            }
            keys.truncate(n);
        }
        Ok(keys)
    }
}
