//! Entity records: one cleaned, validated row on its way from an importer
//! into the store.
//!
//! Every record carries its `source` (the system it came from, e.g. `core`,
//! `berka`, `taiwan`) and `source_key` (its key in that system). References
//! to other entities are by the referenced entity's source key *within the
//! same source*; the store resolves them to internal ids and reports unknown
//! references so that the importer can quarantine the row.

use crate::codes::*;
use crate::values::{Email, Money, PhoneNumber, ResidentId};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A field that was invalid but loadable: stored as missing and flagged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldFlag {
    pub field: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerRecord {
    pub source: String,
    pub source_key: String,
    pub name: Option<String>,
    pub gender: Option<Gender>,
    pub birth_date: Option<NaiveDate>,
    pub id_number: Option<ResidentId>,
    pub phone: Option<PhoneNumber>,
    pub email: Option<Email>,
    pub city: Option<String>,
    pub occupation: Option<String>,
    pub annual_income: Option<Money>,
    pub risk_tolerance: Option<RiskTolerance>,
    pub risk_assessed_on: Option<NaiveDate>,
    /// Branch code; an unknown code creates the branch.
    pub branch: Option<String>,
    /// Free-form attributes kept as JSON (e.g. Berka district of residence).
    pub attributes: Option<serde_json::Value>,
    /// Fields that were present but invalid, stored as missing.
    pub flags: Vec<FieldFlag>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BranchRecord {
    pub code: String,
    pub name: String,
    pub city: Option<String>,
    pub region: Option<String>,
    /// Region attributes (population, average salary, unemployment …).
    pub attributes: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRecord {
    pub source: String,
    pub source_key: String,
    /// The owning customer's source key (same source).
    pub customer_key: String,
    pub account_type: AccountType,
    pub opened_on: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
    /// ISO 4217 code, upper case.
    pub currency: String,
    pub balance: Option<Money>,
    pub credit_limit: Option<Money>,
    pub branch: Option<String>,
    pub attributes: Option<serde_json::Value>,
}

/// A customer's role on an account other than through `AccountRecord::customer_key`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRoleRecord {
    pub source: String,
    pub source_key: String,
    pub account_key: String,
    pub customer_key: String,
    pub role: AccountRole,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransactionRecord {
    pub source: String,
    pub source_key: String,
    pub account_key: String,
    pub booked_on: NaiveDate,
    /// Signed: inflow > 0.
    pub amount: Money,
    pub balance_after: Option<Money>,
    pub channel: Channel,
    pub category: TxnCategory,
    pub counterparty: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductRecord {
    pub code: String,
    pub name: String,
    pub category: String,
    /// Product risk level 1..=5 (R1–R5).
    pub risk_level: u8,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldingRecord {
    pub source: String,
    pub source_key: String,
    pub customer_key: String,
    pub product_code: String,
    pub account_key: Option<String>,
    pub opened_on: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
    pub amount: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoanRecord {
    pub source: String,
    pub source_key: String,
    pub account_key: String,
    pub granted_on: NaiveDate,
    pub amount: Money,
    pub duration_months: u32,
    pub monthly_payment: Money,
    pub status: LoanStatus,
    pub days_past_due: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardRecord {
    pub source: String,
    pub source_key: String,
    pub account_key: String,
    /// The card holder when not the account owner (Berka cards hang off a disposition).
    pub customer_key: Option<String>,
    pub card_type: CardType,
    pub issued_on: Option<NaiveDate>,
    pub credit_limit: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StandingOrderRecord {
    pub source: String,
    pub source_key: String,
    pub account_key: String,
    pub bank_to: Option<String>,
    pub account_to: Option<String>,
    pub amount: Money,
    pub category: TxnCategory,
}

/// One monthly credit-card statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardStatementRecord {
    pub source: String,
    pub source_key: String,
    pub account_key: String,
    /// First day of the statement month.
    pub statement_month: NaiveDate,
    pub bill_amount: Money,
    pub paid_amount: Money,
    /// The source's raw repayment status code (Taiwan: -2..9).
    pub repayment_status: i32,
    pub days_past_due: u32,
}

/// A labelled outcome for validation and model training; never a feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeRecord {
    pub source: String,
    pub customer_key: String,
    /// e.g. `default_next_month`, `distress`, `attrition`.
    pub label: String,
    pub value: i32,
    pub observed_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InteractionRecord {
    pub source: String,
    pub source_key: String,
    pub customer_key: String,
    pub occurred_on: NaiveDate,
    pub channel: Channel,
    /// call, visit, video, message, email, …
    pub kind: String,
    pub outcome: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRecord {
    pub source: String,
    pub source_key: String,
    pub customer_key: String,
    pub opened_on: NaiveDate,
    pub kind: CaseKind,
    pub category: Option<String>,
    pub severity: Severity,
    /// open, in_progress, waiting_customer, resolved, closed
    pub status: String,
    pub description: Option<String>,
    pub closed_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurveyResponseRecord {
    pub source: String,
    pub source_key: String,
    pub customer_key: String,
    pub survey: String,
    pub kind: SurveyKind,
    pub answered_on: NaiveDate,
    pub question: String,
    pub score: Option<i32>,
    pub answer_text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentRecord {
    pub source: String,
    pub source_key: String,
    pub customer_key: String,
    pub channel: Channel,
    pub purpose: ConsentPurpose,
    pub granted: bool,
    pub recorded_on: NaiveDate,
    pub revoked_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffUserRecord {
    pub username: String,
    pub display_name: String,
    pub role: StaffRole,
    pub branch: Option<String>,
}

pub use crate::fingerprint::fingerprint;
