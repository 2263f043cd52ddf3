//! The card-statement importer: `import card-statements FILE`, the UCI
//! "default of credit card clients" (Taiwan, 2005) CSV.
//!
//! One row is one client and becomes, under source `taiwan` and the row's `ID`
//! as key: a customer (gender; age, education and marriage as attributes, no
//! birth date), a credit-card account (credit limit = `LIMIT_BAL`, TWD), six
//! monthly statements April–September 2005 and the label
//! `default.payment.next.month` as an outcome `default_next_month` observed on
//! 2005-10-01 — a label for validation, never a feature. docs/FORMATS.md,
//! section "Taiwan card statements", is the mapping's reference.
//!
//! A row is validated whole before anything of it is stored: a bad value
//! rejects the row, and none of its entities are loaded.

use crate::clean::{req_int, req_money_or_exponent as req_money, statement_days_past_due};
use crate::error::IngestError;
use crate::input::Row;
use crate::pipeline::{run_file, FileSpec, ImportOptions, ImportReport, LoadFuture, Progress};
use crate::quarantine::{Outcome, Rejection};
use chrono::NaiveDate;
use rapport_domain::*;
use rapport_store::{ImportSession, RowOutcome};
use serde_json::json;
use std::path::Path;

/// Source name of the Taiwan data set.
pub const TAIWAN_SOURCE: &str = "taiwan";
/// Import kind recorded for the file.
pub const CARD_STATEMENTS_KIND: &str = "card-statements";
/// Label of the target.
pub const DEFAULT_LABEL: &str = "default_next_month";

const COLUMNS: &[&str] = &[
    "id",
    "limit_bal",
    "sex",
    "education",
    "marriage",
    "age",
    "pay_0",
    "pay_2",
    "pay_3",
    "pay_4",
    "pay_5",
    "pay_6",
    "bill_amt1",
    "bill_amt2",
    "bill_amt3",
    "bill_amt4",
    "bill_amt5",
    "bill_amt6",
    "pay_amt1",
    "pay_amt2",
    "pay_amt3",
    "pay_amt4",
    "pay_amt5",
    "pay_amt6",
    "default.payment.next.month",
];

/// For each statement: (year, month, repayment-status column, bill column, paid column).
/// `PAY_0`/`BILL_AMT1`/`PAY_AMT1` are September 2005, … `PAY_6`/`BILL_AMT6`/`PAY_AMT6` April.
const MONTHS: [(i32, u32, &str, &str, &str); 6] = [
    (2005, 9, "pay_0", "bill_amt1", "pay_amt1"),
    (2005, 8, "pay_2", "bill_amt2", "pay_amt2"),
    (2005, 7, "pay_3", "bill_amt3", "pay_amt3"),
    (2005, 6, "pay_4", "bill_amt4", "pay_amt4"),
    (2005, 5, "pay_5", "bill_amt5", "pay_amt5"),
    (2005, 4, "pay_6", "bill_amt6", "pay_amt6"),
];

fn education(code: i64) -> &'static str {
    match code {
        1 => "graduate_school",
        2 => "university",
        3 => "high_school",
        4 => "other",
        _ => "unknown",
    }
}

fn marriage(code: i64) -> &'static str {
    match code {
        1 => "married",
        2 => "single",
        3 => "other",
        _ => "unknown",
    }
}

/// Everything one row becomes.
#[derive(Debug, Clone)]
pub(crate) struct ClientRow {
    customer: CustomerRecord,
    account: AccountRecord,
    statements: Vec<CardStatementRecord>,
    outcome: OutcomeRecord,
}

fn client_row(row: &Row<'_>) -> Result<ClientRow, Rejection> {
    let id = row.require("id")?.to_string();
    let age: i64 = req_int(row, "age")?;
    let edu: i64 = req_int(row, "education")?;
    let mar: i64 = req_int(row, "marriage")?;
    let limit = req_money(row, "limit_bal")?;
    let mut flags = Vec::new();
    let gender = match Gender::parse(row.require("sex")?) {
        Ok(g) => Some(g),
        Err(_) => {
            flags.push(FieldFlag {
                field: "gender".into(),
                reason: "bad_gender".into(),
            });
            None
        }
    };
    let mut statements = Vec::with_capacity(MONTHS.len());
    for (year, month, status_col, bill_col, paid_col) in MONTHS {
        let repayment_status: i32 = req_int(row, status_col)?;
        let statement_month = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default();
        statements.push(CardStatementRecord {
            source: TAIWAN_SOURCE.into(),
            source_key: format!("{id}-{year:04}-{month:02}"),
            account_key: id.clone(),
            statement_month,
            bill_amount: req_money(row, bill_col)?,
            paid_amount: req_money(row, paid_col)?,
            repayment_status,
            days_past_due: statement_days_past_due(repayment_status),
        });
    }
    let label: i32 = req_int(row, "default.payment.next.month")?;
    Ok(ClientRow {
        customer: CustomerRecord {
            source: TAIWAN_SOURCE.into(),
            source_key: id.clone(),
            name: None,
            gender,
            birth_date: None,
            id_number: None,
            phone: None,
            email: None,
            city: None,
            occupation: None,
            annual_income: None,
            risk_tolerance: None,
            risk_assessed_on: None,
            branch: None,
            attributes: Some(json!({
                "age": age,
                "education": education(edu),
                "education_code": edu,
                "marriage": marriage(mar),
                "marriage_code": mar,
            })),
            flags,
        },
        account: AccountRecord {
            source: TAIWAN_SOURCE.into(),
            source_key: id.clone(),
            customer_key: id.clone(),
            account_type: AccountType::CreditCard,
            opened_on: None,
            closed_on: None,
            currency: "TWD".into(),
            balance: None,
            credit_limit: Some(limit),
            branch: None,
            attributes: None,
        },
        statements,
        outcome: OutcomeRecord {
            source: TAIWAN_SOURCE.into(),
            customer_key: id,
            label: DEFAULT_LABEL.into(),
            value: label,
            observed_on: NaiveDate::from_ymd_opt(2005, 10, 1),
        },
    })
}

/// Folds the store's answers for one part of each still-accepted row into the
/// row outcomes: a rejected part rejects the row.
fn fold(
    rows: &mut [Outcome],
    accepted: &[usize],
    per_row: usize,
    answers: Vec<RowOutcome>,
    entity: &str,
) {
    for (k, chunk) in answers.chunks(per_row.max(1)).enumerate() {
        let Some(&i) = accepted.get(k) else { break };
        for a in chunk {
            if let Outcome::Rejected(r) = Outcome::from_store(a.clone(), entity) {
                if !rows[i].is_rejected() {
                    rows[i] = Outcome::Rejected(r);
                }
            }
        }
    }
}

fn still_accepted(rows: &[Outcome]) -> Vec<usize> {
    rows.iter()
        .enumerate()
        .filter(|(_, o)| !o.is_rejected())
        .map(|(i, _)| i)
        .collect()
}

/// Loads a batch: customers one by one, then accounts, statements and outcomes in batches.
/// A row counts as loaded when its customer is new, merged when it was stored before.
fn load_clients<'a>(s: &'a mut ImportSession, rows: &'a [ClientRow]) -> LoadFuture<'a> {
    Box::pin(async move {
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(crate::identity::resolve_customer(s, &r.customer).await?);
        }
        let ok = still_accepted(&out);
        let accounts: Vec<AccountRecord> = ok.iter().map(|&i| rows[i].account.clone()).collect();
        let answers = s.load_accounts(&accounts).await?;
        fold(&mut out, &ok, 1, answers, "account");

        let ok = still_accepted(&out);
        let statements: Vec<CardStatementRecord> = ok
            .iter()
            .flat_map(|&i| rows[i].statements.clone())
            .collect();
        let answers = s.load_card_statements(&statements).await?;
        fold(&mut out, &ok, MONTHS.len(), answers, "card statement");

        let ok = still_accepted(&out);
        let outcomes: Vec<OutcomeRecord> = ok.iter().map(|&i| rows[i].outcome.clone()).collect();
        let answers = s.load_outcomes(&outcomes).await?;
        fold(&mut out, &ok, 1, answers, "outcome");
        Ok(out)
    })
}

/// Imports the Taiwan credit-card file (plain or gzipped).
pub async fn import_card_statements(
    store: &rapport_store::Store,
    path: &Path,
    opts: &ImportOptions,
) -> Result<ImportReport, IngestError> {
    let mut progress = Progress::new(opts);
    let spec = FileSpec::new(CARD_STATEMENTS_KIND, TAIWAN_SOURCE, path, COLUMNS);
    let mut report = ImportReport::default();
    report.push(run_file(store, spec, client_row, load_clients, &mut progress).await?);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repayment_status_maps_to_days_past_due() {
        assert_eq!(statement_days_past_due(-2), 0);
        assert_eq!(statement_days_past_due(-1), 0);
        assert_eq!(statement_days_past_due(0), 0);
        assert_eq!(statement_days_past_due(1), 30);
        assert_eq!(statement_days_past_due(8), 240);
    }

    #[test]
    fn pay_0_is_september_and_pay_6_is_april() {
        assert_eq!(MONTHS[0].1, 9);
        assert_eq!(MONTHS[0].2, "pay_0");
        assert_eq!(MONTHS[5], (2005, 4, "pay_6", "bill_amt6", "pay_amt6"));
    }
}
