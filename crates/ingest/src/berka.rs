//! The Berka (PKDD'99 Czech bank) importer: `import berka DIR`.
//!
//! Reads the original `;`-separated `.asc` tables (gzipped or plain) and maps
//! them onto Rapport entities under source `berka`; docs/FORMATS.md, section
//! "Berka", is the mapping's reference. Every table is its own import file
//! (kind `berka:<table>`), so a re-run finds each file already imported and
//! changes nothing. Tables are loaded in dependency order: district, client,
//! account, disp, order, loan, card, then trans when present.
//!
//! Accounts need their owner and cards their disposition, so `disp` is read
//! once up front into two small maps (one entry per disposition).

use crate::clean::{loan_days_past_due, money, req_code, req_int, req_money, req_text, text};
use crate::error::IngestError;
use crate::input::{Item, Row, Table};
use crate::pipeline::{loaders, run_file, FileSpec, ImportOptions, ImportReport, Progress};
use crate::quarantine::{Reason, Rejection};
use chrono::NaiveDate;
use rapport_domain::*;
use rapport_store::Store;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Source name of everything Berka.
pub const BERKA_SOURCE: &str = "berka";

const DISTRICT_COLUMNS: &[&str] = &["a1", "a2"];
const CLIENT_COLUMNS: &[&str] = &["client_id", "birth_number", "district_id"];
const ACCOUNT_COLUMNS: &[&str] = &["account_id", "district_id", "date"];
const DISP_COLUMNS: &[&str] = &["disp_id", "client_id", "account_id", "type"];
const ORDER_COLUMNS: &[&str] = &["order_id", "account_id", "amount"];
const LOAN_COLUMNS: &[&str] = &[
    "loan_id",
    "account_id",
    "date",
    "amount",
    "duration",
    "payments",
    "status",
];
const CARD_COLUMNS: &[&str] = &["card_id", "disp_id", "type"];
const TRANS_COLUMNS: &[&str] = &["trans_id", "account_id", "date", "type", "amount"];

/// District columns A4…A16 and the attribute names they are stored under.
pub const DISTRICT_ATTRIBUTES: &[(&str, &str)] = &[
    ("a4", "inhabitants"),
    ("a5", "municipalities_under_500"),
    ("a6", "municipalities_500_1999"),
    ("a7", "municipalities_2000_9999"),
    ("a8", "municipalities_over_10000"),
    ("a9", "cities"),
    ("a10", "urban_ratio_pct"),
    ("a11", "average_salary"),
    ("a12", "unemployment_1995_pct"),
    ("a13", "unemployment_1996_pct"),
    ("a14", "entrepreneurs_per_1000"),
    ("a15", "crimes_1995"),
    ("a16", "crimes_1996"),
];

/// The branch code of a Berka district: `CZ` and the two-digit district number.
pub fn district_branch_code(district: u32) -> String {
    format!("CZ{district:02}")
}

/// A Berka date: `YYMMDD` (19YY), optionally followed by a time; other formats
/// fall back to the common date parser.
fn berka_date(row: &Row<'_>, col: &str) -> Result<NaiveDate, Rejection> {
    let v = row.require(col)?;
    let d = v.split_whitespace().next().unwrap_or(v);
    let bad = || Rejection::new(Reason::BadDate, col, format!("not a YYMMDD date: {v:?}"));
    if d.len() == 6 && d.bytes().all(|b| b.is_ascii_digit()) {
        let n =
            |r: std::ops::Range<usize>| d.get(r).and_then(|x| x.parse::<u32>().ok()).unwrap_or(0);
        let year = 1900 + i32::try_from(n(0..2)).unwrap_or(0);
        return NaiveDate::from_ymd_opt(year, n(2..4), n(4..6)).ok_or_else(bad);
    }
    parse_date(d).map_err(|_| bad())
}

/// Gender and birth date from a Berka birth number: `YYMMDD` for men,
/// `YY(MM+50)DD` for women, all 19YY.
pub fn parse_birth_number(s: &str) -> Option<(Gender, NaiveDate)> {
    let t = s.trim();
    if t.len() != 6 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| t.get(r).and_then(|x| x.parse::<u32>().ok());
    let (yy, mm, dd) = (n(0..2)?, n(2..4)?, n(4..6)?);
    let (gender, month) = if mm > 50 {
        (Gender::Female, mm - 50)
    } else {
        (Gender::Male, mm)
    };
    let date = NaiveDate::from_ymd_opt(1900 + i32::try_from(yy).ok()?, month, dd)?;
    Some((gender, date))
}

fn district_of(row: &Row<'_>, col: &str) -> Result<u32, Rejection> {
    req_int(row, col)
}

fn district(row: &Row<'_>) -> Result<BranchRecord, Rejection> {
    let id = district_of(row, "a1")?;
    let name = req_text(row, "a2")?;
    let mut attrs = Map::new();
    attrs.insert("district_id".into(), json!(id));
    for (col, key) in DISTRICT_ATTRIBUTES {
        let value = match row.get(col) {
            None | Some("?") => Value::Null,
            Some(v) => {
                let bad = || {
                    Rejection::new(
                        Reason::BadNumber,
                        *col,
                        format!("not a number or '?': {v:?}"),
                    )
                };
                if let Ok(i) = v.parse::<i64>() {
                    json!(i)
                } else {
                    let f: f64 = v.parse().map_err(|_| bad())?;
                    serde_json::Number::from_f64(f)
                        .map(Value::Number)
                        .ok_or_else(bad)?
                }
            }
        };
        attrs.insert((*key).into(), value);
    }
    Ok(BranchRecord {
        code: district_branch_code(id),
        name: name.clone(),
        city: Some(name),
        region: text(row, "a3"),
        attributes: Value::Object(attrs),
    })
}

fn client(row: &Row<'_>) -> Result<CustomerRecord, Rejection> {
    let source_key = req_text(row, "client_id")?;
    let district = district_of(row, "district_id")?;
    let mut flags = Vec::new();
    let (gender, birth_date) = match row.get("birth_number").map(parse_birth_number) {
        Some(Some((g, d))) => (Some(g), Some(d)),
        Some(None) => {
            for field in ["gender", "birth_date"] {
                flags.push(FieldFlag {
                    field: field.into(),
                    reason: "bad_birth_number".into(),
                });
            }
            (None, None)
        }
        None => (None, None),
    };
    Ok(CustomerRecord {
        source: BERKA_SOURCE.into(),
        source_key,
        name: None,
        gender,
        birth_date,
        id_number: None,
        phone: None,
        email: None,
        city: None,
        occupation: None,
        annual_income: None,
        risk_tolerance: None,
        risk_assessed_on: None,
        branch: Some(district_branch_code(district)),
        attributes: Some(json!({ "district_id": district })),
        flags,
    })
}

/// Statement frequency codes of `account.frequency`.
fn frequency(code: &str) -> Option<&'static str> {
    match code {
        "POPLATEK MESICNE" => Some("monthly"),
        "POPLATEK TYDNE" => Some("weekly"),
        "POPLATEK PO OBRATU" => Some("after_transaction"),
        _ => None,
    }
}

fn account(row: &Row<'_>, owners: &HashMap<String, String>) -> Result<AccountRecord, Rejection> {
    let source_key = req_text(row, "account_id")?;
    let district = district_of(row, "district_id")?;
    let opened_on = berka_date(row, "date")?;
    let customer_key = owners.get(&source_key).cloned().ok_or_else(|| {
        Rejection::new(
            Reason::UnknownReference,
            "customer_key",
            "no OWNER disposition names this account",
        )
    })?;
    let code = row.get("frequency");
    Ok(AccountRecord {
        source: BERKA_SOURCE.into(),
        source_key,
        customer_key,
        account_type: AccountType::Current,
        opened_on: Some(opened_on),
        closed_on: None,
        currency: "CZK".into(),
        balance: None,
        credit_limit: None,
        branch: Some(district_branch_code(district)),
        attributes: Some(json!({
            "statement_frequency": code.and_then(frequency),
            "frequency_code": code,
            "district_id": district,
        })),
    })
}

fn disposition(row: &Row<'_>) -> Result<AccountRoleRecord, Rejection> {
    Ok(AccountRoleRecord {
        source: BERKA_SOURCE.into(),
        source_key: req_text(row, "disp_id")?,
        account_key: req_text(row, "account_id")?,
        customer_key: req_text(row, "client_id")?,
        role: req_code(row, "type", AccountRole::parse)?,
    })
}

/// `k_symbol` of a standing order or transaction → category; `None` for a blank.
fn k_symbol(row: &Row<'_>) -> Result<Option<TxnCategory>, Rejection> {
    let Some(v) = row.get("k_symbol") else {
        return Ok(None);
    };
    Ok(Some(match v {
        "POJISTNE" => TxnCategory::Insurance,
        "SIPO" => TxnCategory::Utilities,
        "UVER" => TxnCategory::LoanRepayment,
        "LEASING" => TxnCategory::Other,
        "SLUZBY" => TxnCategory::Fee,
        "UROK" => TxnCategory::Interest,
        "SANKC. UROK" => TxnCategory::Fee,
        "DUCHOD" => TxnCategory::Pension,
        other => {
            return Err(Rejection::new(
                Reason::BadCode,
                "k_symbol",
                format!("unknown k_symbol {other:?}; known: POJISTNE SIPO UVER LEASING SLUZBY UROK \"SANKC. UROK\" DUCHOD"),
            ))
        }
    }))
}

fn order(row: &Row<'_>) -> Result<StandingOrderRecord, Rejection> {
    Ok(StandingOrderRecord {
        source: BERKA_SOURCE.into(),
        source_key: req_text(row, "order_id")?,
        account_key: req_text(row, "account_id")?,
        bank_to: text(row, "bank_to"),
        account_to: text(row, "account_to"),
        amount: req_money(row, "amount")?,
        category: k_symbol(row)?.unwrap_or(TxnCategory::Other),
    })
}

fn loan(row: &Row<'_>) -> Result<LoanRecord, Rejection> {
    let status = req_code(row, "status", LoanStatus::parse)?;
    Ok(LoanRecord {
        source: BERKA_SOURCE.into(),
        source_key: req_text(row, "loan_id")?,
        account_key: req_text(row, "account_id")?,
        granted_on: berka_date(row, "date")?,
        amount: req_money(row, "amount")?,
        duration_months: req_int(row, "duration")?,
        monthly_payment: req_money(row, "payments")?,
        status,
        days_past_due: loan_days_past_due(status),
    })
}

fn card(
    row: &Row<'_>,
    dispositions: &HashMap<String, (String, String)>,
) -> Result<CardRecord, Rejection> {
    let disp = req_text(row, "disp_id")?;
    let (account_key, client_key) = dispositions.get(&disp).cloned().ok_or_else(|| {
        Rejection::new(
            Reason::UnknownReference,
            "disp_id",
            format!("disposition {disp:?} is not in disp.asc"),
        )
    })?;
    Ok(CardRecord {
        source: BERKA_SOURCE.into(),
        source_key: req_text(row, "card_id")?,
        account_key,
        customer_key: Some(client_key),
        card_type: req_code(row, "type", CardType::parse)?,
        issued_on: row
            .get("issued")
            .map(|_| berka_date(row, "issued"))
            .transpose()?,
        credit_limit: None,
    })
}

/// Channel and category of a transaction from its `operation`, before `k_symbol`.
fn operation(row: &Row<'_>) -> Result<(Channel, TxnCategory), Rejection> {
    Ok(match row.get("operation") {
        None => (Channel::Batch, TxnCategory::Other),
        Some("VYBER KARTOU") => (Channel::Atm, TxnCategory::CashWithdrawal),
        Some("VKLAD") => (Channel::Branch, TxnCategory::CashDeposit),
        Some("PREVOD Z UCTU") => (Channel::Batch, TxnCategory::TransferIn),
        Some("VYBER") => (Channel::Branch, TxnCategory::CashWithdrawal),
        Some("PREVOD NA UCET") => (Channel::Batch, TxnCategory::TransferOut),
        Some(other) => {
            return Err(Rejection::new(
                Reason::BadCode,
                "operation",
                format!("unknown operation {other:?}; known: \"VYBER KARTOU\" VKLAD \"PREVOD Z UCTU\" VYBER \"PREVOD NA UCET\""),
            ))
        }
    })
}

fn transaction(row: &Row<'_>) -> Result<TransactionRecord, Rejection> {
    let sign = match row.require("type")? {
        "PRIJEM" => 1,
        "VYDAJ" | "VYBER" => -1,
        other => {
            return Err(Rejection::new(
                Reason::BadCode,
                "type",
                format!("unknown type {other:?}; known: PRIJEM VYDAJ VYBER"),
            ))
        }
    };
    let (channel, by_operation) = operation(row)?;
    let category = k_symbol(row)?.unwrap_or(by_operation);
    let amount = req_money(row, "amount")?;
    let counterparty = [row.get("bank"), row.get("account").filter(|a| *a != "0")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("/");
    Ok(TransactionRecord {
        source: BERKA_SOURCE.into(),
        source_key: req_text(row, "trans_id")?,
        account_key: req_text(row, "account_id")?,
        booked_on: berka_date(row, "date")?,
        amount: Money::from_minor(amount.minor().saturating_abs().saturating_mul(sign)),
        balance_after: money(row, "balance")?,
        channel,
        category,
        counterparty: (!counterparty.is_empty()).then_some(counterparty),
    })
}

/// The files of one Berka directory.
struct BerkaFiles {
    district: PathBuf,
    client: PathBuf,
    account: PathBuf,
    disp: PathBuf,
    order: PathBuf,
    loan: PathBuf,
    card: PathBuf,
    trans: Option<PathBuf>,
}

fn locate(dir: &Path, table: &str) -> Option<PathBuf> {
    [format!("{table}.asc.gz"), format!("{table}.asc")]
        .into_iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

impl BerkaFiles {
    fn find(dir: &Path) -> Result<Self, IngestError> {
        let need = |table: &str| {
            locate(dir, table).ok_or_else(|| IngestError::MissingFile {
                file: dir.join(format!("{table}.asc")).display().to_string(),
                what: format!("Berka table {table} (.asc or .asc.gz)"),
            })
        };
        Ok(BerkaFiles {
            district: need("district")?,
            client: need("client")?,
            account: need("account")?,
            disp: need("disp")?,
            order: need("order")?,
            loan: need("loan")?,
            card: need("card")?,
            trans: locate(dir, "trans"),
        })
    }
}

/// Account → owner client, and disposition → (account, client), from disp.asc.
/// Rows that do not parse are left out here; importing disp quarantines them.
type Dispositions = (HashMap<String, String>, HashMap<String, (String, String)>);

fn read_dispositions(path: &Path) -> Result<Dispositions, IngestError> {
    let display = path.display().to_string();
    let mut table = Table::open(path, &display, DISP_COLUMNS)?;
    let mut owners = HashMap::new();
    let mut disps = HashMap::new();
    table.read_rows(&disposition, |item| {
        if let Item::Parsed(p) = item {
            let d = p.value;
            if d.role == AccountRole::Owner {
                owners
                    .entry(d.account_key.clone())
                    .or_insert_with(|| d.customer_key.clone());
            }
            disps
                .entry(d.source_key)
                .or_insert((d.account_key, d.customer_key));
        }
        true
    })?;
    Ok((owners, disps))
}

/// Imports a Berka directory (see the module documentation).
pub async fn import_berka(
    store: &Store,
    dir: &Path,
    opts: &ImportOptions,
) -> Result<ImportReport, IngestError> {
    let files = BerkaFiles::find(dir)?;
    let disp_path = files.disp.clone();
    let (owners, dispositions) = tokio::task::spawn_blocking(move || read_dispositions(&disp_path))
        .await
        .map_err(|e| IngestError::Task {
            file: files.disp.display().to_string(),
            detail: e.to_string(),
        })??;

    let spec = |table: &str, path: &Path, required: &'static [&'static str]| {
        FileSpec::new(&format!("berka:{table}"), BERKA_SOURCE, path, required)
    };
    let mut progress = Progress::new(opts);
    let mut report = ImportReport::default();
    let p = &mut progress;
    report.push(
        run_file(
            store,
            spec("district", &files.district, DISTRICT_COLUMNS),
            district,
            loaders::branches,
            p,
        )
        .await?,
    );
    report.push(
        run_file(
            store,
            spec("client", &files.client, CLIENT_COLUMNS),
            client,
            loaders::customers,
            p,
        )
        .await?,
    );
    let by_owner = move |row: &Row<'_>| account(row, &owners);
    report.push(
        run_file(
            store,
            spec("account", &files.account, ACCOUNT_COLUMNS),
            by_owner,
            loaders::accounts,
            p,
        )
        .await?,
    );
    report.push(
        run_file(
            store,
            spec("disp", &files.disp, DISP_COLUMNS),
            disposition,
            loaders::account_roles,
            p,
        )
        .await?,
    );
    report.push(
        run_file(
            store,
            spec("order", &files.order, ORDER_COLUMNS),
            order,
            loaders::standing_orders,
            p,
        )
        .await?,
    );
    report.push(
        run_file(
            store,
            spec("loan", &files.loan, LOAN_COLUMNS),
            loan,
            loaders::loans,
            p,
        )
        .await?,
    );
    let by_disp = move |row: &Row<'_>| card(row, &dispositions);
    report.push(
        run_file(
            store,
            spec("card", &files.card, CARD_COLUMNS),
            by_disp,
            loaders::cards,
            p,
        )
        .await?,
    );
    if let Some(trans) = &files.trans {
        report.push(
            run_file(
                store,
                spec("trans", trans, TRANS_COLUMNS),
                transaction,
                loaders::transactions,
                p,
            )
            .await?,
        );
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birth_numbers_give_gender_and_birth_date() {
        assert_eq!(
            parse_birth_number("706213"),
            NaiveDate::from_ymd_opt(1970, 12, 13).map(|d| (Gender::Female, d))
        );
        assert_eq!(
            parse_birth_number("450204"),
            NaiveDate::from_ymd_opt(1945, 2, 4).map(|d| (Gender::Male, d))
        );
        assert_eq!(parse_birth_number("451304"), None);
        assert_eq!(parse_birth_number("45020"), None);
    }

    #[test]
    fn districts_become_cz_branch_codes() {
        assert_eq!(district_branch_code(1), "CZ01");
        assert_eq!(district_branch_code(77), "CZ77");
    }
}
