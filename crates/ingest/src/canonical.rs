//! The canonical CSV importer: one kind of entity per file, the formats of
//! docs/FORMATS.md.
//!
//! Owns [`CsvKind`] (the kinds, their columns and their import order) and one
//! row parser per kind. Every `*_key` column refers to a key of the same
//! source; the store answers unknown keys, which are quarantined.

use crate::clean::*;
use crate::error::IngestError;
use crate::input::{Item, Row, Table};
use crate::pipeline::{loaders, run_file, FileSpec, ImportOptions, ImportReport, Progress};
use crate::quarantine::{Reason, Rejection};
use rapport_domain::*;
use rapport_store::{QuarantineEntry, Store};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// One kind of canonical CSV file (`--kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CsvKind {
    Branches,
    Products,
    Customers,
    Accounts,
    AccountRoles,
    Transactions,
    Holdings,
    Loans,
    Cards,
    StandingOrders,
    CardStatements,
    Interactions,
    Cases,
    SurveyResponses,
    Consents,
    StaffUsers,
    Outcomes,
}

impl CsvKind {
    /// Every kind, in import (dependency) order.
    pub const ALL: &'static [CsvKind] = &[
        CsvKind::Branches,
        CsvKind::Products,
        CsvKind::Customers,
        CsvKind::Accounts,
        CsvKind::AccountRoles,
        CsvKind::Transactions,
        CsvKind::Holdings,
        CsvKind::Loans,
        CsvKind::Cards,
        CsvKind::StandingOrders,
        CsvKind::CardStatements,
        CsvKind::Interactions,
        CsvKind::Cases,
        CsvKind::SurveyResponses,
        CsvKind::Consents,
        CsvKind::StaffUsers,
        CsvKind::Outcomes,
    ];

    /// The kind's name in FORMATS.md, `--kind` and the file name `<kind>.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            CsvKind::Branches => "branches",
            CsvKind::Products => "products",
            CsvKind::Customers => "customers",
            CsvKind::Accounts => "accounts",
            CsvKind::AccountRoles => "account_roles",
            CsvKind::Transactions => "transactions",
            CsvKind::Holdings => "holdings",
            CsvKind::Loans => "loans",
            CsvKind::Cards => "cards",
            CsvKind::StandingOrders => "standing_orders",
            CsvKind::CardStatements => "card_statements",
            CsvKind::Interactions => "interactions",
            CsvKind::Cases => "cases",
            CsvKind::SurveyResponses => "survey_responses",
            CsvKind::Consents => "consents",
            CsvKind::StaffUsers => "staff_users",
            CsvKind::Outcomes => "outcomes",
        }
    }

    /// Columns that must be in the header (and non-empty in every row).
    pub fn required_columns(self) -> &'static [&'static str] {
        match self {
            CsvKind::Branches => &["code", "name"],
            CsvKind::Products => &["code", "name", "category", "risk_level"],
            CsvKind::Customers => &["source_key"],
            CsvKind::Accounts => &["source_key", "customer_key", "type"],
            CsvKind::AccountRoles => &["source_key", "account_key", "customer_key", "role"],
            CsvKind::Transactions => &["source_key", "account_key", "booked_on", "amount"],
            CsvKind::Holdings => &["source_key", "customer_key", "product_code"],
            CsvKind::Loans => &[
                "source_key",
                "account_key",
                "granted_on",
                "amount",
                "duration_months",
                "monthly_payment",
                "status",
            ],
            CsvKind::Cards => &["source_key", "account_key", "type"],
            CsvKind::StandingOrders => &["source_key", "account_key", "amount"],
            CsvKind::CardStatements => &[
                "source_key",
                "account_key",
                "statement_month",
                "bill_amount",
                "paid_amount",
            ],
            CsvKind::Interactions => &[
                "source_key",
                "customer_key",
                "occurred_on",
                "channel",
                "kind",
            ],
            CsvKind::Cases => &[
                "source_key",
                "customer_key",
                "opened_on",
                "kind",
                "severity",
                "status",
            ],
            CsvKind::SurveyResponses => &[
                "source_key",
                "customer_key",
                "survey",
                "kind",
                "answered_on",
                "question",
            ],
            CsvKind::Consents => &[
                "source_key",
                "customer_key",
                "channel",
                "purpose",
                "granted",
                "recorded_on",
            ],
            CsvKind::StaffUsers => &["username", "display_name", "role"],
            CsvKind::Outcomes => &["customer_key", "label", "value"],
        }
    }

    /// Every column the kind reads, required ones first (other columns are ignored).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            CsvKind::Branches => &["code", "name", "city", "region"],
            CsvKind::Products => &["code", "name", "category", "risk_level"],
            CsvKind::Customers => &[
                "source_key",
                "name",
                "gender",
                "birth_date",
                "id_number",
                "phone",
                "email",
                "city",
                "occupation",
                "annual_income",
                "risk_tolerance",
                "risk_assessed_on",
                "branch",
            ],
            CsvKind::Accounts => &[
                "source_key",
                "customer_key",
                "type",
                "opened_on",
                "closed_on",
                "currency",
                "balance",
                "credit_limit",
                "branch",
            ],
            CsvKind::AccountRoles => &["source_key", "account_key", "customer_key", "role"],
            CsvKind::Transactions => &[
                "source_key",
                "account_key",
                "booked_on",
                "amount",
                "balance_after",
                "channel",
                "category",
                "counterparty",
            ],
            CsvKind::Holdings => &[
                "source_key",
                "customer_key",
                "product_code",
                "account_key",
                "opened_on",
                "closed_on",
                "amount",
            ],
            CsvKind::Loans => &[
                "source_key",
                "account_key",
                "granted_on",
                "amount",
                "duration_months",
                "monthly_payment",
                "status",
                "days_past_due",
            ],
            CsvKind::Cards => &[
                "source_key",
                "account_key",
                "type",
                "customer_key",
                "issued_on",
                "credit_limit",
            ],
            CsvKind::StandingOrders => &[
                "source_key",
                "account_key",
                "amount",
                "bank_to",
                "account_to",
                "category",
            ],
            CsvKind::CardStatements => &[
                "source_key",
                "account_key",
                "statement_month",
                "bill_amount",
                "paid_amount",
                "repayment_status",
                "days_past_due",
            ],
            CsvKind::Interactions => &[
                "source_key",
                "customer_key",
                "occurred_on",
                "channel",
                "kind",
                "outcome",
                "note",
            ],
            CsvKind::Cases => &[
                "source_key",
                "customer_key",
                "opened_on",
                "kind",
                "severity",
                "status",
                "category",
                "description",
                "closed_on",
            ],
            CsvKind::SurveyResponses => &[
                "source_key",
                "customer_key",
                "survey",
                "kind",
                "answered_on",
                "question",
                "score",
                "answer_text",
            ],
            CsvKind::Consents => &[
                "source_key",
                "customer_key",
                "channel",
                "purpose",
                "granted",
                "recorded_on",
                "revoked_on",
            ],
            CsvKind::StaffUsers => &["username", "display_name", "role", "branch"],
            CsvKind::Outcomes => &["customer_key", "label", "value", "observed_on"],
        }
    }

    fn names() -> String {
        CsvKind::ALL
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl FromStr for CsvKind {
    type Err = IngestError;

    /// Accepts the FORMATS.md name, case-insensitively, with `-` for `_`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_lowercase().replace('-', "_");
        CsvKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == t)
            .ok_or_else(|| IngestError::UnknownKind(s.to_string(), CsvKind::names()))
    }
}

impl std::fmt::Display for CsvKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What every row parser of one file needs to know.
#[derive(Debug, Clone)]
pub(crate) struct ParseContext {
    pub source: String,
    pub default_country: String,
}

const INTERACTION_KINDS: &[&str] = &[
    "call", "visit", "video", "message", "email", "meeting", "other",
];
const CASE_STATUSES: &[&str] = &[
    "open",
    "in_progress",
    "waiting_customer",
    "resolved",
    "closed",
];

fn branch(row: &Row<'_>, _: &ParseContext) -> Result<BranchRecord, Rejection> {
    Ok(BranchRecord {
        code: req_code_text(row, "code")?,
        name: req_text(row, "name")?,
        city: text(row, "city"),
        region: text(row, "region"),
        attributes: serde_json::json!({}),
    })
}

fn product(row: &Row<'_>, _: &ParseContext) -> Result<ProductRecord, Rejection> {
    let level = row.require("risk_level")?;
    let digits = level.trim_start_matches(['R', 'r']);
    let risk_level = match digits.parse::<u8>() {
        Ok(n @ 1..=5) => n,
        _ => {
            return Err(Rejection::new(
                Reason::BadCode,
                "risk_level",
                format!("risk level must be 1–5 or R1–R5: {level:?}"),
            ))
        }
    };
    Ok(ProductRecord {
        code: req_code_text(row, "code")?,
        name: req_text(row, "name")?,
        category: req_code_text(row, "category")?,
        risk_level,
    })
}

fn customer(row: &Row<'_>, ctx: &ParseContext) -> Result<CustomerRecord, Rejection> {
    crate::clean::customer(row, &ctx.source, &ctx.default_country)
}

fn account(row: &Row<'_>, ctx: &ParseContext) -> Result<AccountRecord, Rejection> {
    Ok(AccountRecord {
        source: ctx.source.clone(),
        source_key: req_text(row, "source_key")?,
        customer_key: req_text(row, "customer_key")?,
        account_type: req_code(row, "type", AccountType::parse)?,
        opened_on: date(row, "opened_on")?,
        closed_on: date(row, "closed_on")?,
        currency: currency(row, "currency")?,
        balance: money(row, "balance")?,
        credit_limit: money(row, "credit_limit")?,
        branch: code_text(row, "branch")?,
        attributes: None,
    })
}

fn account_role(row: &Row<'_>, ctx: &ParseContext) -> Result<AccountRoleRecord, Rejection> {
    Ok(AccountRoleRecord {
        source: ctx.source.clone(),
        source_key: req_text(row, "source_key")?,
        account_key: req_text(row, "account_key")?,
        customer_key: req_text(row, "customer_key")?,
        role: req_code(row, "role", AccountRole::parse)?,
    })
}

fn transaction(row: &Row<'_>, ctx: &ParseContext) -> Result<TransactionRecord, Rejection> {
    Ok(TransactionRecord {
        source: ctx.source.clone(),
        source_key: req_text(row, "source_key")?,
        account_key: req_text(row, "account_key")?,
        booked_on: req_date(row, "booked_on")?,
        amount: req_money(row, "amount")?,
        balance_after: money(row, "balance_after")?,
        channel: code(row, "channel", Channel::parse)?.unwrap_or(Channel::Other),
        category: code(row, "category", TxnCategory::parse)?.unwrap_or(TxnCategory::Other),
        counterparty: text(row, "counterparty"),
    })
}

fn holding(row: &Row<'_>, ctx: &ParseContext) -> Result<HoldingRecord, Rejection> {
    Ok(HoldingRecord {
        source: ctx.source.clone(),
        source_key: req_text(row, "source_key")?,
        customer_key: req_text(row, "customer_key")?,
        product_code: req_code_text(row, "product_code")?,
        account_key: text(row, "account_key"),
        opened_on: date(row, "opened_on")?,
        closed_on: date(row, "closed_on")?,
        amount: money(row, "amount")?,
    })
}

fn loan(row: &Row<'_>, ctx: &ParseContext) -> Result<LoanRecord, Rejection> {
    let status = req_code(row, "status", LoanStatus::parse)?;
    Ok(LoanRecord {
        source: ctx.source.clone(),
        source_key: req_text(row, "source_key")?,
        account_key: req_text(row, "account_key")?,
        granted_on: req_date(row, "granted_on")?,
        amount: req_money(row, "amount")?,
        duration_months: req_int(row, "duration_months")?,
        monthly_payment: req_money(row, "monthly_payment")?,
        status,
        days_past_due: int(row, "days_past_due")?.unwrap_or_else(|| loan_days_past_due(status)),
    })
}

fn card(row: &Row<'_>, ctx: &ParseContext) -> Result<CardRecord, Rejection> {
    Ok(CardRecord {
        source: ctx.source.clone(),
        source_key: req_text(row, "source_key")?,
        account_key: req_text(row, "account_key")?,
        customer_key: text(row, "customer_key"),
        card_type: req_code(row, "type", CardType::parse)?,
        issued_on: date(row, "issued_on")?,
        credit_limit: money(row, "credit_limit")?,
    })
}

fn standing_order(row: &Row<'_>, ctx: &ParseContext) -> Result<StandingOrderRecord, Rejection> {
    Ok(StandingOrderRecord {
        source: ctx.source.clone(),
        source_key: req_text(row, "source_key")?,
        account_key: req_text(row, "account_key")?,
        bank_to: text(row, "bank_to"),
        account_to: text(row, "account_to"),
        amount: req_money(row, "amount")?,
        category: code(row, "category", TxnCategory::parse)?.unwrap_or(TxnCategory::Other),
    })
}

fn card_statement(row: &Row<'_>, ctx: &ParseContext) -> Result<CardStatementRecord, Rejection> {
    let repayment_status: i32 = int(row, "repayment_status")?.unwrap_or(0);
    Ok(CardStatementRecord {
        source: ctx.source.clone(),
        source_key: req_text(row, "source_key")?,
        account_key: req_text(row, "account_key")?,
        statement_month: month_start(req_date(row, "statement_month")?),
        bill_amount: req_money(row, "bill_amount")?,
        paid_amount: req_money(row, "paid_amount")?,
        repayment_status,
        days_past_due: int(row, "days_past_due")?
            .unwrap_or_else(|| statement_days_past_due(repayment_status)),
    })
}

fn interaction(row: &Row<'_>, ctx: &ParseContext) -> Result<InteractionRecord, Rejection> {
    Ok(InteractionRecord {
        source: ctx.source.clone(),
        source_key: req_text(row, "source_key")?,
        customer_key: req_text(row, "customer_key")?,
        occurred_on: req_date(row, "occurred_on")?,
        channel: req_code(row, "channel", Channel::parse)?,
        kind: req_word(row, "kind", INTERACTION_KINDS)?,
        outcome: text(row, "outcome"),
        note: text(row, "note"),
    })
}

fn case(row: &Row<'_>, ctx: &ParseContext) -> Result<CaseRecord, Rejection> {
    Ok(CaseRecord {
        source: ctx.source.clone(),
        source_key: req_text(row, "source_key")?,
        customer_key: req_text(row, "customer_key")?,
        opened_on: req_date(row, "opened_on")?,
        kind: req_code(row, "kind", CaseKind::parse)?,
        category: code_text(row, "category")?,
        severity: req_code(row, "severity", Severity::parse)?,
        status: req_word(row, "status", CASE_STATUSES)?,
        description: text(row, "description"),
        closed_on: date(row, "closed_on")?,
    })
}

fn survey_response(row: &Row<'_>, ctx: &ParseContext) -> Result<SurveyResponseRecord, Rejection> {
    let kind = req_code(row, "kind", SurveyKind::parse)?;
    let score: Option<i32> = int(row, "score")?;
    let range = match kind {
        SurveyKind::Nps => Some(0..=10),
        SurveyKind::Csat => Some(1..=5),
        SurveyKind::Kano | SurveyKind::FreeText => None,
    };
    if let (Some(s), Some(r)) = (score, range) {
        if !r.contains(&s) {
            return Err(Rejection::new(
                Reason::BadNumber,
                "score",
                format!(
                    "a {} score must be {}–{}, got {s}",
                    kind.as_str(),
                    r.start(),
                    r.end()
                ),
            ));
        }
    }
    Ok(SurveyResponseRecord {
        source: ctx.source.clone(),
        source_key: req_text(row, "source_key")?,
        customer_key: req_text(row, "customer_key")?,
        survey: req_code_text(row, "survey")?,
        kind,
        answered_on: req_date(row, "answered_on")?,
        question: req_text(row, "question")?,
        score,
        answer_text: text(row, "answer_text"),
    })
}

fn consent(row: &Row<'_>, ctx: &ParseContext) -> Result<ConsentRecord, Rejection> {
    Ok(ConsentRecord {
        source: ctx.source.clone(),
        source_key: req_text(row, "source_key")?,
        customer_key: req_text(row, "customer_key")?,
        channel: req_code(row, "channel", Channel::parse)?,
        purpose: req_code(row, "purpose", ConsentPurpose::parse)?,
        granted: req_bool(row, "granted")?,
        recorded_on: req_date(row, "recorded_on")?,
        revoked_on: date(row, "revoked_on")?,
    })
}

fn staff_user(row: &Row<'_>, _: &ParseContext) -> Result<StaffUserRecord, Rejection> {
    Ok(StaffUserRecord {
        username: req_code_text(row, "username")?,
        display_name: req_text(row, "display_name")?,
        role: req_code(row, "role", StaffRole::parse)?,
        branch: code_text(row, "branch")?,
    })
}

fn outcome(row: &Row<'_>, ctx: &ParseContext) -> Result<OutcomeRecord, Rejection> {
    Ok(OutcomeRecord {
        source: ctx.source.clone(),
        customer_key: req_text(row, "customer_key")?,
        label: req_text(row, "label")?,
        value: req_int(row, "value")?,
        observed_on: date(row, "observed_on")?,
    })
}

/// Imports one canonical CSV file of one kind.
pub async fn import_csv(
    store: &Store,
    kind: CsvKind,
    path: &Path,
    source: &str,
    opts: &ImportOptions,
) -> Result<ImportReport, IngestError> {
    let mut progress = Progress::new(opts);
    let mut report = ImportReport::default();
    report.push(import_one(store, kind, path, source, opts, &mut progress).await?);
    Ok(report)
}

async fn import_one(
    store: &Store,
    kind: CsvKind,
    path: &Path,
    source: &str,
    opts: &ImportOptions,
    progress: &mut Progress<'_>,
) -> Result<crate::pipeline::FileReport, IngestError> {
    let ctx = ParseContext {
        source: source.to_string(),
        default_country: opts.country_digits(),
    };
    let spec = FileSpec::new(kind.as_str(), source, path, kind.required_columns());
    macro_rules! run {
        ($parse:ident, $load:path) => {
            run_file(
                store,
                spec,
                move |row: &Row<'_>| $parse(row, &ctx),
                $load,
                progress,
            )
            .await
        };
    }
    match kind {
        CsvKind::Branches => run!(branch, loaders::branches),
        CsvKind::Products => run!(product, loaders::products),
        CsvKind::Customers => run!(customer, loaders::customers),
        CsvKind::Accounts => run!(account, loaders::accounts),
        CsvKind::AccountRoles => run!(account_role, loaders::account_roles),
        CsvKind::Transactions => run!(transaction, loaders::transactions),
        CsvKind::Holdings => run!(holding, loaders::holdings),
        CsvKind::Loans => run!(loan, loaders::loans),
        CsvKind::Cards => run!(card, loaders::cards),
        CsvKind::StandingOrders => run!(standing_order, loaders::standing_orders),
        CsvKind::CardStatements => run!(card_statement, loaders::card_statements),
        CsvKind::Interactions => run!(interaction, loaders::interactions),
        CsvKind::Cases => run!(case, loaders::cases),
        CsvKind::SurveyResponses => run!(survey_response, loaders::survey_responses),
        CsvKind::Consents => run!(consent, loaders::consents),
        CsvKind::StaffUsers => run!(staff_user, loaders::staff_users),
        CsvKind::Outcomes => run!(outcome, loaders::outcomes),
    }
}

/// The file of `kind` in `dir`: `<kind>.csv`, else `<kind>.csv.gz`.
fn file_of_kind(dir: &Path, kind: CsvKind) -> Option<PathBuf> {
    [
        format!("{}.csv", kind.as_str()),
        format!("{}.csv.gz", kind.as_str()),
    ]
    .into_iter()
    .map(|n| dir.join(n))
    .find(|p| p.is_file())
}

/// Imports every `<kind>.csv` (or `.csv.gz`) found in `dir`, in the import order
/// of [`CsvKind::ALL`]. Stops at the first whole-file error; files already
/// committed stay committed (re-running skips them).
pub async fn import_dir(
    store: &Store,
    dir: &Path,
    source: &str,
    opts: &ImportOptions,
) -> Result<ImportReport, IngestError> {
    if !dir.is_dir() {
        return Err(IngestError::MissingFile {
            file: dir.display().to_string(),
            what: "directory".to_string(),
        });
    }
    let mut progress = Progress::new(opts);
    let mut report = ImportReport::default();
    for &kind in CsvKind::ALL {
        if let Some(path) = file_of_kind(dir, kind) {
            report.push(import_one(store, kind, &path, source, opts, &mut progress).await?);
        }
    }
    if report.files.is_empty() {
        return Err(IngestError::NothingToImport {
            dir: dir.display().to_string(),
            expected: CsvKind::ALL
                .iter()
                .map(|k| format!("{k}.csv"))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(report)
}

/// The result of checking a file without a store: how many rows would load
/// (before store-side checks such as unknown keys and duplicates) and why the
/// others would not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub read: u64,
    pub valid: u64,
    pub rejected: u64,
    /// Rejections by reason code.
    pub by_reason: BTreeMap<String, u64>,
    /// Cleaned rows that carry at least one flagged field (customers only).
    pub flagged_rows: u64,
    /// The first rejected rows (at most [`CheckReport::SAMPLE`]).
    pub samples: Vec<QuarantineEntry>,
}

impl CheckReport {
    pub const SAMPLE: usize = 100;
}

/// Parses and cleans a canonical CSV stream of `kind` without touching a store
/// (a dry run; also what the no-panic property test drives). Bounded memory.
pub fn check_csv(
    kind: CsvKind,
    input: impl Read + Send + 'static,
    display: &str,
    source: &str,
    default_country: &str,
) -> Result<CheckReport, IngestError> {
    let mut table = Table::from_reader(input, display, kind.required_columns())?;
    let ctx = ParseContext {
        source: source.to_string(),
        default_country: default_country.to_string(),
    };
    let mut report = CheckReport::default();
    macro_rules! check {
        ($parse:ident, $flagged:expr) => {{
            let parser = move |row: &Row<'_>| $parse(row, &ctx);
            let flagged: fn(&_) -> bool = $flagged;
            table.read_rows(&parser, |item| {
                match item {
                    Item::Parsed(p) => {
                        report.valid += 1;
                        if flagged(&p.value) {
                            report.flagged_rows += 1;
                        }
                    }
                    Item::Rejected(e) => {
                        report.rejected += 1;
                        *report.by_reason.entry(e.reason.clone()).or_default() += 1;
                        if report.samples.len() < CheckReport::SAMPLE {
                            report.samples.push(e);
                        }
                    }
                }
                true
            })?
        }};
        ($parse:ident) => {
            check!($parse, |_| false)
        };
    }
    report.read = match kind {
        CsvKind::Branches => check!(branch),
        CsvKind::Products => check!(product),
        CsvKind::Customers => check!(customer, |c: &CustomerRecord| !c.flags.is_empty()),
        CsvKind::Accounts => check!(account),
        CsvKind::AccountRoles => check!(account_role),
        CsvKind::Transactions => check!(transaction),
        CsvKind::Holdings => check!(holding),
        CsvKind::Loans => check!(loan),
        CsvKind::Cards => check!(card),
        CsvKind::StandingOrders => check!(standing_order),
        CsvKind::CardStatements => check!(card_statement),
        CsvKind::Interactions => check!(interaction),
        CsvKind::Cases => check!(case),
        CsvKind::SurveyResponses => check!(survey_response),
        CsvKind::Consents => check!(consent),
        CsvKind::StaffUsers => check!(staff_user),
        CsvKind::Outcomes => check!(outcome),
    };
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for k in CsvKind::ALL {
            assert_eq!(k.as_str().parse::<CsvKind>().ok(), Some(*k));
            for r in k.required_columns() {
                assert!(k.columns().contains(r), "{k}: {r}");
            }
        }
        assert_eq!(
            "Account-Roles".parse::<CsvKind>().ok(),
            Some(CsvKind::AccountRoles)
        );
        assert!("nonsense".parse::<CsvKind>().is_err());
    }

    fn check(kind: CsvKind, text: &str) -> CheckReport {
        check_csv(
            kind,
            std::io::Cursor::new(text.as_bytes().to_vec()),
            "t.csv",
            "core",
            "86",
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_transaction_row_with_a_bad_amount_is_rejected_with_its_line() {
        let r = check(
            CsvKind::Transactions,
            "source_key,account_key,booked_on,amount\nT1,A1,2024-01-02,\"1,000.50\"\nT2,A1,2024-01-02,12a\n",
        );
        assert_eq!((r.read, r.valid, r.rejected), (2, 1, 1));
        assert_eq!(r.samples[0].line, 3);
        assert_eq!(r.samples[0].reason, "bad_amount");
        assert_eq!(r.samples[0].field.as_deref(), Some("amount"));
    }

    #[test]
    fn an_invalid_id_number_is_flagged_not_rejected() {
        let r = check(
            CsvKind::Customers,
            "source_key,id_number,phone\nC1,110105194912310021,13812345678\n",
        );
        assert_eq!((r.valid, r.rejected, r.flagged_rows), (1, 0, 1));
    }

    #[test]
    fn wrong_column_counts_and_bad_utf8_are_rejected() {
        let mut bytes = b"source_key,name\nC1,a,b\nC2,\xff\xfe\nC3,ok\n".to_vec();
        bytes.extend_from_slice(b"C4\n");
        let r = check_csv(
            CsvKind::Customers,
            std::io::Cursor::new(bytes),
            "t",
            "core",
            "86",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let reasons: Vec<(u64, &str)> = r
            .samples
            .iter()
            .map(|e| (e.line, e.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            vec![
                (2, "column_count"),
                (3, "invalid_utf8"),
                (5, "column_count")
            ]
        );
        assert_eq!(r.valid, 1);
    }

    #[test]
    fn a_missing_required_column_names_the_file() {
        let e = check_csv(
            CsvKind::Accounts,
            std::io::Cursor::new(b"source_key,type\n".to_vec()),
            "acc.csv",
            "core",
            "86",
        );
        assert!(
            matches!(e, Err(IngestError::MissingColumn { ref file, ref column, .. }) if file == "acc.csv" && column == "customer_key")
        );
    }
}
