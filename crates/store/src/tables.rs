//! The registry of tables: one entry per table of the schema saying what the
//! table is to the rest of the store — whether and how its rows belong to one
//! customer, whether the whole table may be exported as CSV, which
//! [`EntityCounts`] field counts it, and what erasing a customer does to it,
//! column by column, with the ground for what is kept.
//!
//! The data-subject export and erasure (`customers.rs`), the entity counts and
//! the table export (`report_queries.rs`) all read this one list, and tests
//! compare it with the schema of a freshly migrated store: a migration that
//! adds a table must add it here, and a table about a customer (a
//! `customer_id` column, or a foreign key to a table about a customer) cannot
//! be registered without an [`Erasure`] decision — [`Table::of_customer`] and
//! [`Table::child`] take one — and is always part of the data-subject export.
//!
//! [`EntityCounts`]: crate::EntityCounts

use crate::dialect::on_pool;
use crate::{Result, Store};

/// How the rows of a table belong to one customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// Not about one customer (reference data, bookkeeping, staff, sessions).
    Nobody,
    /// The customer table itself: one row per customer, keyed by `id`.
    Customer,
    /// The column holding the customer's id.
    Column(&'static str),
    /// Through a parent table: `fk` holds the `id` of a `parent` row, and the
    /// parent's [`Owner::Column`] names the customer.
    Parent {
        parent: &'static str,
        fk: &'static str,
    },
    /// Rows whose `kind_col` is `kind` and whose `id_col` holds the
    /// customer's id (field flags point at any entity).
    Entity {
        kind_col: &'static str,
        kind: &'static str,
        id_col: &'static str,
    },
    /// Rows found by what they say: quarantined import rows whose raw text
    /// carries one of the customer's identifiers ([`Store::mentioning_rows`]).
    Mentions,
}

/// The order of a table's rows in the data-subject export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubjectExport {
    /// Not included: the table is about no customer.
    No,
    /// The customer's rows, in the order the database returns them (tables
    /// without an `id`).
    Rows,
    /// The customer's rows in `id` order.
    RowsById,
}

/// What erasing a customer (`Store::erase_customer`) does to a table: the
/// updates blanking the columns that identify the person or hold free text
/// about them, and the ground on which every other column is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Erasure {
    /// The updates of the customer's rows, in order (none: nothing blanked).
    pub(crate) clears: &'static [Clear],
    /// Why the columns not blanked are kept (the legal ground, or why they
    /// identify no one). For the customer row, what `erase_customer_row_sql`
    /// blanks (it differs per dialect) and why the rest is kept.
    pub(crate) kept: &'static str,
}

/// One `UPDATE {table} SET {set} WHERE {the customer's rows} [AND {only}]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Clear {
    pub(crate) set: &'static str,
    /// Extra condition, so that erasing twice changes nothing the second time.
    pub(crate) only: Option<&'static str>,
    /// Which total of the `ErasureReport` the changed rows also add to (every
    /// change is counted per table too).
    pub(crate) tally: Option<Tally>,
}

/// The totals of an `ErasureReport` kept from before the per-table count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tally {
    /// `interaction_notes_cleared`.
    Notes,
    /// `case_descriptions_cleared`.
    CaseTexts,
    /// `survey_answers_cleared`.
    SurveyAnswers,
}

/// One table of the schema.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Table {
    pub(crate) name: &'static str,
    pub(crate) owner: Owner,
    pub(crate) subject_export: SubjectExport,
    /// `Store::export_table_csv` may dump the whole table.
    pub(crate) exportable: bool,
    /// The [`crate::EntityCounts`] field holding its number of rows.
    pub(crate) counted_as: Option<&'static str>,
    pub(crate) erasure: Erasure,
}

/// The ground of tables about no customer.
const NOT_ABOUT_A_CUSTOMER: &str = "not about one customer";

/// Grounds for keeping columns, quoted by the registry below.
const AML_RECORDS: &str = "statutory retention: the anti-money-laundering law requires \
     customer due-diligence, account and transaction records to be kept for at least five \
     years after the relationship or transaction ends; no free text, no contact data";
const SOURCE_KEYS: &str = "the bank's own record identifiers, kept under the same statutory \
     retention as the accounts and so that the erased record is recognised if imported again";
const CONSENT_PROOF: &str = "proof of consent and of its withdrawal (data-protection \
     accountability); channel, purpose, dates and codes only";
const CONTACT_PROOF: &str = "proof that the contact rules (consent, do-not-disturb, quiet \
     hours) were honoured; codes, dates and generated reasons only";
const DERIVED: &str = "scores and labels derived from the retained records; no identifier, \
     no free text; kept for model validation and to explain past decisions";
const CODES_ONLY: &str = "codes, dates, amounts and ids only: nothing identifies the person";
const COMPLAINT_RECORD: &str = "complaint-handling record (financial consumer-protection \
     rules require complaints and their handling to be kept): dates, states, codes and staff \
     names kept, the customer's and staff's free text blanked";

impl Table {
    /// A table about no customer, not exported, not counted: the default.
    const fn internal(name: &'static str) -> Self {
        Table {
            name,
            owner: Owner::Nobody,
            subject_export: SubjectExport::No,
            exportable: false,
            counted_as: None,
            erasure: Erasure {
                clears: &[],
                kept: NOT_ABOUT_A_CUSTOMER,
            },
        }
    }

    /// A table keyed by `customer_id`, part of the data-subject export (in
    /// `id` order), erased as `erasure` says.
    const fn of_customer(name: &'static str, erasure: Erasure) -> Self {
        Table {
            name,
            owner: Owner::Column("customer_id"),
            subject_export: SubjectExport::RowsById,
            exportable: false,
            counted_as: None,
            erasure,
        }
    }

    /// A table whose `fk` holds the id of a row of `parent` (a table keyed by
    /// `customer_id`), part of the data-subject export in `id` order.
    const fn child(
        name: &'static str,
        parent: &'static str,
        fk: &'static str,
        erasure: Erasure,
    ) -> Self {
        Table {
            owner: Owner::Parent { parent, fk },
            ..Table::of_customer(name, erasure)
        }
    }

    /// Also dumped whole by the table export and counted under `field`.
    const fn reported(self, field: &'static str) -> Self {
        Table {
            exportable: true,
            counted_as: Some(field),
            ..self
        }
    }

    /// Exported in the database's order (the table has no `id`).
    const fn unordered(self) -> Self {
        Table {
            subject_export: SubjectExport::Rows,
            ..self
        }
    }
}

/// Nothing blanked; every column kept on `ground`.
const fn keep(ground: &'static str) -> Erasure {
    Erasure {
        clears: &[],
        kept: ground,
    }
}

/// These updates blank columns; the others are kept on `ground`.
const fn blank(clears: &'static [Clear], ground: &'static str) -> Erasure {
    Erasure {
        clears,
        kept: ground,
    }
}

const fn clear(set: &'static str, only: Option<&'static str>, tally: Option<Tally>) -> Clear {
    Clear { set, only, tally }
}

/// Blanks a nullable free-text column.
macro_rules! null_text {
    ($col:literal) => {
        clear(
            concat!($col, " = NULL"),
            Some(concat!($col, " IS NOT NULL")),
            None,
        )
    };
    ($col:literal, $tally:expr) => {
        clear(
            concat!($col, " = NULL"),
            Some(concat!($col, " IS NOT NULL")),
            Some($tally),
        )
    };
}

/// Replaces a free-text column by `[erased]`.
macro_rules! erased_text {
    ($col:literal) => {
        clear(
            concat!($col, " = '[erased]'"),
            Some(concat!($col, " IS NOT NULL AND ", $col, " <> '[erased]'")),
            None,
        )
    };
}

/// Every table of the schema (views excluded). The data-subject export lists
/// the customer's tables in this order.
pub(crate) const TABLES: &[Table] = &[
    Table {
        owner: Owner::Customer,
        subject_export: SubjectExport::RowsById,
        erasure: keep(
            "name, ID number, phone, e-mail, occupation and attributes blanked and the birth \
             date cut to its year (erase_customer_row_sql, per dialect); gender, birth year, \
             city, income band, risk tolerance and branch kept: coarse, they identify no one \
             alone, and the retained credit and suitability records rest on them",
        ),
        ..Table::internal("customer")
    }
    .reported("customers"),
    Table::of_customer("customer_source_key", keep(SOURCE_KEYS)).reported("customer_source_keys"),
    // The grams of the name (migration 0023, the part-of-name search): its
    // triggers remove them when erasure blanks the name.
    Table::of_customer(
        "customer_name_gram",
        keep("none left once the name is blanked: triggers keep the grams equal to the name's"),
    )
    .unordered(),
    Table::of_customer("account", keep(AML_RECORDS)).reported("accounts"),
    Table::of_customer("account_role", keep(AML_RECORDS)).reported("account_roles"),
    // Counterparty and standing-order payees are the other party's data,
    // kept with the transaction under the same law.
    Table::of_customer("txn", keep(AML_RECORDS)).reported("transactions"),
    // Transactions posted to the live feed, kept like imported ones.
    Table::of_customer("live_txn", keep(AML_RECORDS)),
    Table::of_customer("holding", keep(AML_RECORDS)).reported("holdings"),
    Table::of_customer("loan", keep(AML_RECORDS)).reported("loans"),
    Table::of_customer("card", keep(AML_RECORDS)).reported("cards"),
    Table::of_customer("standing_order", keep(AML_RECORDS)).reported("standing_orders"),
    Table::of_customer("card_statement", keep(AML_RECORDS)).reported("card_statements"),
    Table::of_customer(
        "outcome",
        keep("labels for model training; customer_key is the bank's source key (see customer_source_key)"),
    )
    .reported("outcomes"),
    Table::of_customer(
        "interaction",
        blank(
            &[null_text!("note", Tally::Notes)],
            "date, channel, kind and outcome codes kept as the record of contact; no free text",
        ),
    )
    .reported("interactions"),
    Table::of_customer(
        "service_case",
        blank(&[null_text!("description", Tally::CaseTexts)], COMPLAINT_RECORD),
    )
    .reported("cases"),
    Table::of_customer(
        "survey_response",
        blank(
            &[null_text!("answer_text", Tally::SurveyAnswers)],
            "scores and question codes kept for the survey statistics; no free text",
        ),
    )
    .reported("survey_responses"),
    Table::of_customer("consent", keep(CONSENT_PROOF)).reported("consents"),
    Table::of_customer("health_score", keep(DERIVED)).unordered(),
    Table::of_customer("segment_membership", keep(DERIVED)).unordered(),
    Table::of_customer("rm_assignment", keep(CODES_ONLY)).unordered(),
    // The do-not-disturb flag stays so that it goes on being honoured.
    Table::of_customer(
        "contact_preference",
        blank(&[null_text!("reason")], CONTACT_PROOF),
    )
    .unordered(),
    Table::of_customer("contact_decision", keep(CONTACT_PROOF)),
    Table::of_customer("campaign_member", keep(CONTACT_PROOF)).unordered(),
    // Address, rendered text, provider errors (they quote addresses) and the
    // reply go; queued messages are not sent any more.
    Table::of_customer(
        "outbox_message",
        blank(
            &[
                clear(
                    "address = '', subject = NULL, body = '[erased]', response = NULL, \
                     last_error = NULL",
                    Some("body <> '[erased]'"),
                    None,
                ),
                clear(
                    "status = 'cancelled', last_error = 'customer erased'",
                    Some("status = 'queued'"),
                    None,
                ),
            ],
            "channel, purpose, status and times kept as the record of what was sent (contact \
             rules, complaint handling)",
        ),
    ),
    Table::child(
        "outbox_event",
        "outbox_message",
        "message_id",
        blank(
            &[null_text!("detail")],
            "status history kept with its message; provider text blanked",
        ),
    ),
    Table::of_customer(
        "contact_task",
        blank(
            &[
                erased_text!("script"),
                null_text!("video_link"),
            ],
            "kind, assignee, status, outcome code and times kept as the record of contact",
        ),
    ),
    Table::of_customer(
        "survey_invitation",
        keep("token hash, survey code and dates only"),
    ),
    Table::of_customer(
        "survey_answer",
        blank(
            &[null_text!("answer_text", Tally::SurveyAnswers)],
            "scores and question codes kept for the survey statistics; no free text",
        ),
    ),
    Table::of_customer(
        "support_case",
        blank(
            &[clear(
                "subject = '[erased]', description = '[erased]', \
                 resolution = CASE WHEN resolution IS NULL THEN NULL ELSE '[erased]' END",
                Some("description <> '[erased]'"),
                Some(Tally::CaseTexts),
            )],
            COMPLAINT_RECORD,
        ),
    ),
    Table::child(
        "case_event",
        "support_case",
        "case_id",
        blank(&[erased_text!("detail")], COMPLAINT_RECORD),
    ),
    Table::child("case_pause", "support_case", "case_id", keep(COMPLAINT_RECORD)),
    Table::child(
        "case_reclassification",
        "support_case",
        "case_id",
        blank(&[erased_text!("reason")], COMPLAINT_RECORD),
    ),
    Table::child(
        "case_escalation",
        "support_case",
        "case_id",
        keep(COMPLAINT_RECORD),
    ),
    Table::of_customer(
        "recommendation",
        keep("generated proposals (codes, priorities, reasons from templates); no free text"),
    ),
    Table::child(
        "recommendation_outcome",
        "recommendation",
        "recommendation_id",
        blank(
            &[null_text!("note")],
            "outcome code, channel, time and staff name kept for the sales record",
        ),
    ),
    Table::of_customer(
        "contact_log",
        blank(
            &[null_text!("note", Tally::Notes)],
            "staff, kind, outcome code and times kept as the record of contact",
        ),
    ),
    Table::of_customer(
        "consent_change",
        blank(&[null_text!("note")], CONSENT_PROOF),
    ),
    // Alerts are the anti-money-laundering monitoring record: message and
    // evidence are rendered from rules and figures; the staff's words go.
    Table::of_customer(
        "alert",
        blank(&[erased_text!("disposition")], AML_RECORDS),
    ),
    Table::child(
        "alert_event",
        "alert",
        "alert_id",
        blank(&[null_text!("note")], AML_RECORDS),
    ),
    Table::of_customer(
        "audit_log",
        keep(
            "the audit trail (who did what, when, to which record), kept as the bank's \
             security record; by design it holds no personal data: ids, codes and counts",
        ),
    ),
    // Merge explanations quote masked ID numbers and phones.
    Table::of_customer(
        "customer_merge",
        blank(&[erased_text!("explanation")], SOURCE_KEYS),
    )
    .reported("merges"),
    Table::of_customer("model_score", keep(DERIVED)).unordered(),
    Table::of_customer(
        "risk_assessment",
        keep(
            "suitability record: the risk-tolerance questionnaire behind a suitability decision \
             is kept with it; option letters, scores, codes and dates only",
        ),
    ),
    Table::of_customer(
        "suitability_decision",
        keep(
            "suitability record: investor-protection rules require the assessment behind an \
             offer or sale to be kept; codes, dates and generated reasons only",
        ),
    ),
    Table {
        owner: Owner::Entity {
            kind_col: "entity",
            kind: "customer",
            id_col: "entity_id",
        },
        counted_as: Some("flagged_fields"),
        ..Table::of_customer(
            "field_flag",
            keep("data-quality flags: the field's name and a reason code, never its value"),
        )
    },
    // Rejected import rows quoting the customer's identifiers lose their raw
    // text and detail; file, line, field and reason stay so that the counts
    // of the import still reconcile.
    Table {
        owner: Owner::Mentions,
        ..Table::of_customer(
            "quarantine",
            blank(
                &[clear(
                    "raw = '[erased]', detail = '[erased]'",
                    Some("raw <> '[erased]'"),
                    None,
                )],
                "import, line, field and reason code kept so that import counts reconcile",
            ),
        )
    }
    .reported("quarantined"),
    // Reference data and import bookkeeping, exported and counted.
    Table::internal("import_file").reported("imports"),
    Table::internal("branch").reported("branches"),
    Table::internal("product").reported("products"),
    Table::internal("staff_user").reported("staff_users"),
    // Internal to the application.
    Table::internal("score_run"),
    Table::internal("segment"),
    Table::internal("web_session"),
    Table::internal("api_token"),
    Table::internal("login_attempt"),
    // The approval record of an erasure (who asked, who approved, when, why),
    // naming the customer by key: kept as the proof that two people decided.
    Table::internal("erasure_request"),
    // Lines the live feed refused, kept with their reason so that its counts
    // reconcile; the raw text (cut to 2,000 bytes) may quote an account key and
    // is not yet searched by the erasure as quarantined import rows are.
    Table::internal("live_rejected_line"),
    Table::internal("job_schedule"),
    Table::internal("job_run"),
    Table::internal("model_version"),
    Table::internal("model_activation"),
    Table::internal("model_change_request"),
    Table::internal("model_drift"),
    Table::internal("campaign"),
    Table::internal("campaign_approval"),
    Table::internal("improvement_item"),
    Table::internal("rm_capacity"),
    // The data generations (migration 0020): counters, no data.
    Table::internal("data_generation"),
    // Saved views of the lists (migration 0024): staff's queries, no customer data.
    Table::internal("saved_view"),
];

/// The registry entry of `name`.
pub(crate) fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

/// Tables `Store::export_table_csv` may dump.
pub fn exportable_tables() -> impl Iterator<Item = &'static str> {
    TABLES.iter().filter(|t| t.exportable).map(|t| t.name)
}

/// The condition selecting the customer's rows of `t`, `$1` being the
/// customer's id — or, for [`Owner::Mentions`], one row's `id` (the rows are
/// found first by [`Store::mentioning_rows`]). `None` for tables about no
/// customer and for the customer table itself.
pub(crate) fn owner_condition(t: &Table) -> Option<String> {
    match t.owner {
        Owner::Nobody | Owner::Customer => None,
        Owner::Column(col) => Some(format!("{col} = $1")),
        Owner::Parent { parent, fk } => {
            let Some(Owner::Column(col)) = table(parent).map(|p| p.owner) else {
                return None;
            };
            Some(format!(
                "{fk} IN (SELECT id FROM {parent} WHERE {col} = $1)"
            ))
        }
        Owner::Entity {
            kind_col,
            kind,
            id_col,
        } => Some(format!("{kind_col} = '{kind}' AND {id_col} = $1")),
        Owner::Mentions => Some("id = $1".to_string()),
    }
}

/// The query reading the customer's rows of `t` for the data-subject export
/// (`$1` as in [`owner_condition`]), or `None` when the export leaves `t`
/// out (the customer row itself is read by the export first, on its own).
pub(crate) fn subject_export_sql(t: &Table) -> Option<String> {
    let order = match t.subject_export {
        SubjectExport::No => return None,
        SubjectExport::Rows => "",
        SubjectExport::RowsById => " ORDER BY id",
    };
    let cond = owner_condition(t)?;
    Some(format!("SELECT * FROM {} WHERE {cond}{order}", t.name))
}

/// The updates erasure runs on `t` (`$1` as in [`owner_condition`]), each
/// with the total it adds to.
pub(crate) fn erasure_sql(t: &Table) -> Vec<(String, Option<Tally>)> {
    let Some(cond) = owner_condition(t) else {
        return Vec::new();
    };
    t.erasure
        .clears
        .iter()
        .map(|c| {
            let only = c.only.map(|o| format!(" AND {o}")).unwrap_or_default();
            (
                format!("UPDATE {} SET {} WHERE {cond}{only}", t.name, c.set),
                c.tally,
            )
        })
        .collect()
}

/// What identifies a customer in text they did not write themselves: their
/// ID number, phone and e-mail anywhere in a field, and the bank's keys of
/// their records (customer, merged records, accounts) as a whole field of a
/// file of the same source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Identifiers {
    /// Upper-case letters and digits of the ID number.
    id_number: Option<String>,
    /// The phone's national number (its last eleven digits).
    phone: Option<String>,
    /// Lower case.
    email: Option<String>,
    /// (source, key) pairs.
    keys: Vec<(String, String)>,
}

fn alnum_upper(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

impl Identifiers {
    pub(crate) fn new(
        id_number: Option<&str>,
        phone: Option<&str>,
        email: Option<&str>,
        keys: Vec<(String, String)>,
    ) -> Self {
        let id_number = id_number.map(alnum_upper).filter(|s| s.len() >= 6);
        let phone = phone
            .map(digits)
            .map(|d| d[d.len().saturating_sub(11)..].to_string())
            .filter(|d| d.len() >= 7);
        let email = email
            .map(|e| e.trim().to_lowercase())
            .filter(|e| e.contains('@'));
        let keys = keys
            .into_iter()
            .filter(|(_, k)| !k.trim().is_empty())
            .collect();
        Identifiers {
            id_number,
            phone,
            email,
            keys,
        }
    }

    /// Whether a quarantined row's raw text, from a file of `source`, carries
    /// one of the identifiers. The raw text is the row's fields joined by the
    /// file's delimiter (comma, semicolon, tab or bar).
    pub(crate) fn found_in(&self, source: &str, raw: &str) -> bool {
        raw.split([',', ';', '\t', '|']).any(|field| {
            let f = field.trim().trim_matches('"').trim();
            if f.is_empty() {
                return false;
            }
            self.id_number
                .as_ref()
                .is_some_and(|id| alnum_upper(f).contains(id.as_str()))
                || self
                    .phone
                    .as_ref()
                    .is_some_and(|p| digits(f).contains(p.as_str()))
                || self
                    .email
                    .as_ref()
                    .is_some_and(|e| f.to_lowercase().contains(e.as_str()))
                || self.keys.iter().any(|(s, k)| s == source && k == f)
        })
    }
}

impl Store {
    /// The identifiers of customer `id` as they are now (before erasure).
    pub(crate) async fn identifiers(&self, id: i64) -> Result<Identifiers> {
        let contact = "SELECT id_number, phone, email FROM customer WHERE id = $1";
        let keys = "SELECT source, source_key FROM customer_source_key WHERE customer_id = $1 \
                    UNION SELECT source, source_key FROM customer_merge WHERE customer_id = $1 \
                    UNION SELECT source, source_key FROM account WHERE customer_id = $1";
        type Contact = (Option<String>, Option<String>, Option<String>);
        let (contact, keys): (Option<Contact>, Vec<(String, String)>) = on_pool!(self, p => (
            sqlx::query_as(contact).bind(id).fetch_optional(p).await?,
            sqlx::query_as(keys).bind(id).fetch_all(p).await?,
        ));
        let (id_number, phone, email) = contact.unwrap_or_default();
        Ok(Identifiers::new(
            id_number.as_deref(),
            phone.as_deref(),
            email.as_deref(),
            keys,
        ))
    }

    /// The ids of the quarantined rows whose raw text carries one of
    /// `who`'s identifiers (read a page at a time).
    pub(crate) async fn mentioning_rows(&self, who: &Identifiers) -> Result<Vec<i64>> {
        const PAGE: i64 = 5000;
        let sql = "SELECT q.id, f.source, q.raw FROM quarantine q \
                   JOIN import_file f ON f.id = q.import_id \
                   WHERE q.id > $1 ORDER BY q.id LIMIT $2";
        let mut found = Vec::new();
        let mut after = 0_i64;
        loop {
            let rows: Vec<(i64, String, String)> = on_pool!(self, p => {
                sqlx::query_as(sql).bind(after).bind(PAGE).fetch_all(p).await?
            });
            let Some(last) = rows.last().map(|r| r.0) else {
                break;
            };
            after = last;
            found.extend(
                rows.iter()
                    .filter(|(_, source, raw)| who.found_in(source, raw))
                    .map(|r| r.0),
            );
            if (rows.len() as i64) < PAGE {
                break;
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use std::collections::{BTreeMap, BTreeSet};

    /// Tables of a migrated database that are not the application's.
    const NOT_REGISTERED: &[&str] = &["_sqlx_migrations"];

    #[test]
    fn every_table_is_registered_once() {
        let mut seen = BTreeSet::new();
        for t in TABLES {
            assert!(seen.insert(t.name), "{} registered twice", t.name);
        }
    }

    #[test]
    fn the_counted_tables_fill_every_field_of_the_entity_counts_once() {
        let fields: BTreeSet<String> = match serde_json::to_value(crate::EntityCounts::default()) {
            Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
            other => panic!("EntityCounts serialises as {other:?}"),
        };
        let counted: Vec<String> = TABLES
            .iter()
            .filter_map(|t| t.counted_as.map(str::to_string))
            .collect();
        assert_eq!(counted.len(), fields.len(), "{counted:?}");
        assert_eq!(counted.into_iter().collect::<BTreeSet<_>>(), fields);
    }

    #[test]
    fn every_table_about_a_customer_is_exported_and_has_an_erasure_decision() {
        for t in TABLES {
            let exported = subject_export_sql(t).is_some();
            match t.owner {
                Owner::Nobody => {
                    assert_eq!(t.subject_export, SubjectExport::No, "{}", t.name);
                    assert!(t.erasure.clears.is_empty(), "{}", t.name);
                }
                Owner::Customer => assert!(!exported, "{}: read on its own", t.name),
                _ => {
                    assert!(exported, "{} is about a customer: export it", t.name);
                    assert_ne!(t.erasure.kept, NOT_ABOUT_A_CUSTOMER, "{}", t.name);
                    assert!(
                        t.erasure.kept.len() > 20,
                        "{}: say on what ground its columns are kept",
                        t.name
                    );
                    assert_eq!(erasure_sql(t).len(), t.erasure.clears.len(), "{}", t.name);
                }
            }
        }
    }

    #[test]
    fn the_subject_export_reads_children_through_their_parent() {
        let sql = table("alert_event").and_then(subject_export_sql);
        assert_eq!(
            sql.as_deref(),
            Some(
                "SELECT * FROM alert_event WHERE alert_id IN \
                 (SELECT id FROM alert WHERE customer_id = $1) ORDER BY id"
            )
        );
        let sql = table("txn").and_then(subject_export_sql);
        assert_eq!(
            sql.as_deref(),
            Some("SELECT * FROM txn WHERE customer_id = $1 ORDER BY id")
        );
        let sql = table("field_flag").and_then(subject_export_sql);
        assert_eq!(
            sql.as_deref(),
            Some(
                "SELECT * FROM field_flag WHERE entity = 'customer' AND entity_id = $1 ORDER BY id"
            )
        );
    }

    #[test]
    fn identifiers_are_found_in_raw_rows_as_the_files_write_them() {
        let who = Identifiers::new(
            Some("11010519491231002x"),
            Some("+8613812345678"),
            Some("Li.Na@Example.com"),
            vec![("crm".into(), "C17".into())],
        );
        assert!(who.found_in("x", "C9,Li Na,11010519491231002X,,"));
        assert!(who.found_in("x", "C9;Li Na;;138-1234-5678"));
        assert!(who.found_in("x", "C9\tnote: write to li.na@example.com"));
        assert!(who.found_in("crm", "I5,\"C17\",2025-13-01,call"));
        // A key is a whole field of a file of its own source.
        assert!(!who.found_in("crm", "I5,C170,2025-13-01,call"));
        assert!(!who.found_in("core", "I5,C17,2025-13-01,call"));
        assert!(!who.found_in("crm", "C18,Wang Wei,110105194912310038,13900000000"));
        assert!(!Identifiers::new(None, None, None, Vec::new()).found_in("crm", "a,b,,c"));
    }

    /// The tables of a migrated store (not views), each with its columns.
    async fn schema(store: &Store) -> BTreeMap<String, BTreeSet<String>> {
        let pairs: Vec<(String, String)> = match store {
            Store::Sqlite(p) => sqlx::query_as(
                "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(p)
            .await
            .unwrap_or_default(),
            Store::Postgres(p) => sqlx::query_as(
                "SELECT c.table_name::text, c.column_name::text FROM information_schema.columns c \
                 JOIN information_schema.tables t ON t.table_schema = c.table_schema \
                 AND t.table_name = c.table_name \
                 WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'",
            )
            .fetch_all(p)
            .await
            .unwrap_or_default(),
        };
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (table, column) in pairs {
            if !NOT_REGISTERED.contains(&table.as_str()) {
                out.entry(table).or_default().insert(column);
            }
        }
        out
    }

    /// (table, referenced table) for every foreign key of the schema.
    async fn foreign_keys(store: &Store) -> Vec<(String, String)> {
        let fks: std::result::Result<Vec<(String, String)>, sqlx::Error> = match store {
            Store::Sqlite(p) => {
                sqlx::query_as(
                    "SELECT m.name, f.\"table\" FROM sqlite_master m, \
                     pragma_foreign_key_list(m.name) f WHERE m.type = 'table'",
                )
                .fetch_all(p)
                .await
            }
            Store::Postgres(p) => {
                sqlx::query_as(
                    "SELECT tc.table_name::text, ccu.table_name::text \
                     FROM information_schema.table_constraints tc \
                     JOIN information_schema.constraint_column_usage ccu \
                     ON ccu.constraint_name = tc.constraint_name \
                     AND ccu.table_schema = tc.table_schema \
                     WHERE tc.constraint_type = 'FOREIGN KEY' \
                     AND tc.table_schema = current_schema()",
                )
                .fetch_all(p)
                .await
            }
        };
        let Ok(fks) = fks else {
            panic!("{fks:?}");
        };
        assert!(!fks.is_empty(), "no foreign key read from the schema");
        fks
    }

    /// A new migration cannot add a table, or a customer column, without the
    /// registry saying what it is.
    async fn the_registry_matches_the_schema_of(store: &Store) {
        let schema = schema(store).await;
        assert!(schema.contains_key("customer"), "{schema:?}");
        let tables: BTreeSet<&str> = schema.keys().map(String::as_str).collect();
        let registered: BTreeSet<&str> = TABLES.iter().map(|t| t.name).collect();
        assert_eq!(
            tables.difference(&registered).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "tables of the schema missing from the registry"
        );
        assert_eq!(
            registered.difference(&tables).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "registered tables missing from the schema"
        );
        for (child, parent) in foreign_keys(store).await {
            let (Some(c), Some(p)) = (table(&child), table(&parent)) else {
                continue;
            };
            assert!(
                p.owner == Owner::Nobody || c.owner != Owner::Nobody,
                "{child} refers to {parent}, a table about a customer: say how its rows \
                 belong to the customer and what erasure does to them"
            );
        }
        let none = BTreeSet::new();
        for t in TABLES {
            let cols = schema.get(t.name).unwrap_or(&none);
            match t.owner {
                Owner::Nobody => assert!(
                    !cols.contains("customer_id"),
                    "{} has a customer_id column: say how it belongs to the customer",
                    t.name
                ),
                Owner::Customer => assert!(cols.contains("id"), "{}", t.name),
                Owner::Column(c) => assert!(cols.contains(c), "{}.{c}", t.name),
                Owner::Entity {
                    kind_col, id_col, ..
                } => {
                    assert!(
                        cols.contains(kind_col) && cols.contains(id_col),
                        "{}",
                        t.name
                    )
                }
                Owner::Mentions => assert!(cols.contains("raw"), "{}", t.name),
                Owner::Parent { parent, fk } => {
                    assert!(cols.contains(fk), "{}.{fk}", t.name);
                    assert!(
                        matches!(table(parent).map(|p| p.owner), Some(Owner::Column(_))),
                        "{}: parent {parent}",
                        t.name
                    );
                }
            }
            if t.exportable || matches!(t.subject_export, SubjectExport::RowsById) {
                assert!(cols.contains("id"), "{} is read in id order", t.name);
            }
        }
    }

    async fn exec(store: &Store, sql: &str) {
        let done = match store {
            Store::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
            Store::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
        };
        assert!(done.is_ok(), "{done:?}");
    }

    /// Every statement the registry makes runs on the migrated schema, the
    /// export has the same sections as before the registry, and erasure
    /// clears and counts what it did before.
    async fn export_and_erasure_on(store: &Store) {
        exec(
            store,
            "INSERT INTO import_file (id, kind, source, path, sha256, status) VALUES \
               (1, 'interactions', 's', 'i.csv', 'x', 'complete'); \
             INSERT INTO customer (id, name) VALUES (1, 'A'), (2, 'B'); \
             INSERT INTO interaction (source, source_key, customer_id, occurred_on, channel, \
               kind, note, fingerprint, import_id) VALUES \
               ('s', 'i1', 1, '2025-01-01', 'phone', 'call', 'private', 0, 1), \
               ('s', 'i2', 1, '2025-01-02', 'phone', 'call', NULL, 0, 1), \
               ('s', 'i3', 2, '2025-01-02', 'phone', 'call', 'kept', 0, 1); \
             INSERT INTO service_case (source, source_key, customer_id, opened_on, kind, \
               severity, status, description, fingerprint, import_id) VALUES \
               ('s', 'c1', 1, '2025-01-01', 'complaint', 'low', 'open', 'text', 0, 1); \
             INSERT INTO survey_response (source, source_key, customer_id, survey, kind, \
               answered_on, question, answer_text, fingerprint, import_id) VALUES \
               ('s', 'r1', 1, 'nps', 'nps', '2025-01-01', 'q', 'free text', 0, 1); \
             INSERT INTO contact_log (customer_id, staff, kind, outcome, note, at, recorded_at) \
               VALUES (1, 'rm', 'call', 'reached', 'said things', '2025-01-01T00:00:00Z', \
               '2025-01-01T00:00:00Z');",
        )
        .await;
        let export = store.export_customer(1).await;
        let Ok(serde_json::Value::Object(export)) = export else {
            panic!("{export:?}");
        };
        for t in TABLES {
            let listed = export.contains_key(t.name);
            assert_eq!(
                listed,
                t.owner == Owner::Customer || subject_export_sql(t).is_some(),
                "{}",
                t.name
            );
        }
        let rows = |t: &str| export.get(t).and_then(|v| v.as_array()).map(Vec::len);
        assert_eq!(
            (
                rows("interaction"),
                rows("service_case"),
                rows("contact_log")
            ),
            (Some(2), Some(1), Some(1))
        );
        let sections: BTreeSet<&str> = export.keys().map(String::as_str).collect();
        let about_a_customer: BTreeSet<&str> = TABLES
            .iter()
            .filter(|t| t.owner != Owner::Nobody)
            .map(|t| t.name)
            .collect();
        assert_eq!(sections, about_a_customer);
        for t in [
            "model_score",
            "suitability_decision",
            "field_flag",
            "customer_merge",
            "quarantine",
            "recommendation_outcome",
        ] {
            assert!(sections.contains(t), "{t} missing from the export");
        }
        let erased = store.erase_customer(1, chrono::Utc::now()).await;
        let Ok(report) = erased else {
            panic!("{erased:?}");
        };
        assert!(report.erased_now);
        assert_eq!(
            (
                report.interaction_notes_cleared,
                report.case_descriptions_cleared,
                report.survey_answers_cleared
            ),
            (2, 1, 1)
        );
        let again = store.erase_customer(1, chrono::Utc::now()).await;
        let Ok(again) = again else {
            panic!("{again:?}");
        };
        assert!(!again.erased_now);
        assert_eq!(
            (
                again.interaction_notes_cleared,
                again.case_descriptions_cleared,
                again.survey_answers_cleared
            ),
            (0, 0, 0)
        );
        let kept = store.export_customer(2).await;
        let note = kept
            .ok()
            .and_then(|e| e.get("interaction")?.get(0)?.get("note").cloned());
        assert_eq!(note, Some(serde_json::Value::from("kept")));
    }

    #[tokio::test]
    async fn the_registry_matches_the_migrated_schema_on_sqlite() {
        let store = Store::connect("sqlite::memory:").await;
        let Ok(store) = store else {
            panic!("{store:?}");
        };
        the_registry_matches_the_schema_of(&store).await;
        store.close().await;
    }

    #[tokio::test]
    async fn export_and_erasure_follow_the_registry_on_sqlite() {
        let store = Store::connect("sqlite::memory:").await;
        let Ok(store) = store else {
            panic!("{store:?}");
        };
        export_and_erasure_on(&store).await;
        store.close().await;
    }

    /// Both checks on a fresh PostgreSQL database when `RAPPORT_TEST_PG`
    /// names a server (an admin URL), like the integration tests.
    #[tokio::test]
    async fn the_registry_and_its_statements_hold_on_postgres() {
        let Ok(admin_url) = std::env::var("RAPPORT_TEST_PG") else {
            eprintln!("RAPPORT_TEST_PG not set: PostgreSQL registry test skipped");
            return;
        };
        let name = format!("rapport_tables_{}", std::process::id());
        let admin = sqlx::PgPool::connect(&admin_url).await;
        let Ok(admin) = admin else {
            panic!("{admin:?}");
        };
        let created = sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await;
        assert!(created.is_ok(), "{created:?}");
        let base = admin_url.rsplit_once('/').map_or("", |(b, _)| b);
        let store = Store::connect(&format!("{base}/{name}")).await;
        let Ok(store) = store else {
            panic!("{store:?}");
        };
        the_registry_matches_the_schema_of(&store).await;
        export_and_erasure_on(&store).await;
        store.close().await;
        let dropped = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&admin)
            .await;
        assert!(dropped.is_ok(), "{dropped:?}");
        admin.close().await;
    }
}
