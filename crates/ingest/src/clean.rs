//! Cleaning one field at a time: a row's text to domain values, or a rejection.
//!
//! Thin adapters from `rapport_domain::values` / `codes` parsers to the
//! quarantine's reason codes, plus the customer cleaner, where invalid but
//! loadable fields are stored as missing and flagged instead of rejecting the
//! row (docs/FORMATS.md, "Value formats").

use crate::input::Row;
use crate::quarantine::{Reason, Rejection};
use chrono::{Datelike, NaiveDate};
use rapport_domain::*;
use std::str::FromStr;

pub(crate) fn text(row: &Row<'_>, col: &str) -> Option<String> {
    row.get(col).map(str::to_string)
}

pub(crate) fn req_text(row: &Row<'_>, col: &str) -> Result<String, Rejection> {
    row.require(col).map(str::to_string)
}

/// A code taken from a file (branch, product, category, survey and staff
/// codes): it must match `^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$`
/// ([`rapport_domain::text::is_code`]), else the row is rejected as
/// `bad_code` naming the field — a formula or markup never becomes a code.
pub(crate) fn code_text(row: &Row<'_>, col: &str) -> Result<Option<String>, Rejection> {
    match row.get(col) {
        None => Ok(None),
        Some(v) if rapport_domain::text::is_code(v) => Ok(Some(v.to_string())),
        Some(v) => Err(Rejection::new(
            Reason::BadCode,
            col,
            format!(
                "{col} must be a code: a letter or digit, then up to {} letters, digits, \
                 '_', '.' or '-'; got {v:?}",
                rapport_domain::text::CODE_MAX_LEN - 1
            ),
        )),
    }
}

/// A required code (see [`code_text`]).
pub(crate) fn req_code_text(row: &Row<'_>, col: &str) -> Result<String, Rejection> {
    row.require(col)?;
    code_text(row, col)?
        .ok_or_else(|| Rejection::new(Reason::MissingRequired, col, format!("{col} is required")))
}

fn date_value(col: &str, v: &str) -> Result<NaiveDate, Rejection> {
    parse_date(v).map_err(|e| Rejection::new(Reason::BadDate, col, e.to_string()))
}

pub(crate) fn date(row: &Row<'_>, col: &str) -> Result<Option<NaiveDate>, Rejection> {
    row.get(col).map(|v| date_value(col, v)).transpose()
}

pub(crate) fn req_date(row: &Row<'_>, col: &str) -> Result<NaiveDate, Rejection> {
    date_value(col, row.require(col)?)
}

fn money_value(col: &str, v: &str) -> Result<Money, Rejection> {
    Money::parse(v).map_err(|e| Rejection::new(Reason::BadAmount, col, e.to_string()))
}

pub(crate) fn money(row: &Row<'_>, col: &str) -> Result<Option<Money>, Rejection> {
    row.get(col).map(|v| money_value(col, v)).transpose()
}

pub(crate) fn req_money(row: &Row<'_>, col: &str) -> Result<Money, Rejection> {
    money_value(col, row.require(col)?)
}

fn int_value<T: FromStr>(col: &str, v: &str) -> Result<T, Rejection> {
    v.parse::<T>().map_err(|_| {
        Rejection::new(
            Reason::BadNumber,
            col,
            format!("not a whole number in range: {v:?}"),
        )
    })
}

pub(crate) fn int<T: FromStr>(row: &Row<'_>, col: &str) -> Result<Option<T>, Rejection> {
    row.get(col).map(|v| int_value(col, v)).transpose()
}

pub(crate) fn req_int<T: FromStr>(row: &Row<'_>, col: &str) -> Result<T, Rejection> {
    int_value(col, row.require(col)?)
}

pub(crate) fn code<T>(
    row: &Row<'_>,
    col: &str,
    parse: fn(&str) -> Result<T, UnknownCode>,
) -> Result<Option<T>, Rejection> {
    row.get(col)
        .map(|v| parse(v).map_err(|e| Rejection::new(Reason::BadCode, col, e.to_string())))
        .transpose()
}

pub(crate) fn req_code<T>(
    row: &Row<'_>,
    col: &str,
    parse: fn(&str) -> Result<T, UnknownCode>,
) -> Result<T, Rejection> {
    let v = row.require(col)?;
    parse(v).map_err(|e| Rejection::new(Reason::BadCode, col, e.to_string()))
}

/// A value from a fixed list of lower-case words (kinds and statuses that have no enum).
pub(crate) fn word(
    row: &Row<'_>,
    col: &str,
    allowed: &[&str],
) -> Result<Option<String>, Rejection> {
    let Some(v) = row.get(col) else {
        return Ok(None);
    };
    let t = v.to_lowercase();
    if allowed.contains(&t.as_str()) {
        Ok(Some(t))
    } else {
        Err(Rejection::new(
            Reason::BadCode,
            col,
            format!("unknown {col} {v:?}; allowed: {}", allowed.join(" ")),
        ))
    }
}

pub(crate) fn req_word(row: &Row<'_>, col: &str, allowed: &[&str]) -> Result<String, Rejection> {
    row.require(col)?;
    word(row, col, allowed)?
        .ok_or_else(|| Rejection::new(Reason::MissingRequired, col, format!("{col} is required")))
}

pub(crate) fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_lowercase().as_str() {
        "true" | "yes" | "1" | "y" | "t" => Some(true),
        "false" | "no" | "0" | "n" | "f" => Some(false),
        _ => None,
    }
}

pub(crate) fn req_bool(row: &Row<'_>, col: &str) -> Result<bool, Rejection> {
    let v = row.require(col)?;
    parse_bool(v).ok_or_else(|| {
        Rejection::new(
            Reason::BadCode,
            col,
            format!("not a boolean (true/false, yes/no, 1/0, y/n): {v:?}"),
        )
    })
}

/// ISO 4217 code, upper case; `CNY` when missing.
pub(crate) fn currency(row: &Row<'_>, col: &str) -> Result<String, Rejection> {
    match row.get(col) {
        None => Ok("CNY".to_string()),
        Some(v) if v.len() == 3 && v.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Ok(v.to_ascii_uppercase())
        }
        Some(v) => Err(Rejection::new(
            Reason::BadCode,
            col,
            format!("not an ISO 4217 currency code: {v:?}"),
        )),
    }
}

/// The first day of the month of a date.
pub(crate) fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// The flag reason for a resident ID that fails its checks.
pub(crate) fn id_flag_reason(e: &ResidentIdError) -> &'static str {
    match e {
        ResidentIdError::Length(_) => "id_length",
        ResidentIdError::NotDigits => "id_characters",
        ResidentIdError::CheckDigit { .. } => "id_check_digit",
        ResidentIdError::BirthDate(_) => "id_birth_date_invalid",
    }
}

fn flag(flags: &mut Vec<FieldFlag>, field: &str, reason: &str) {
    flags.push(FieldFlag {
        field: field.to_string(),
        reason: reason.to_string(),
    });
}

/// Cleans a canonical `customers` row. Invalid identifying, contact and profile
/// fields are stored as missing and flagged; only a missing key or a bad
/// `risk_assessed_on` rejects the row.
pub(crate) fn customer(
    row: &Row<'_>,
    source: &str,
    default_country: &str,
) -> Result<CustomerRecord, Rejection> {
    let source_key = req_text(row, "source_key")?;
    let risk_assessed_on = date(row, "risk_assessed_on")?;
    let mut flags = Vec::new();

    let gender = row.get("gender").and_then(|v| match Gender::parse(v) {
        Ok(g) => Some(g),
        Err(_) => {
            flag(&mut flags, "gender", "bad_gender");
            None
        }
    });
    let birth_date = row.get("birth_date").and_then(|v| match parse_date(v) {
        Ok(d) => Some(d),
        Err(_) => {
            flag(&mut flags, "birth_date", "bad_date");
            None
        }
    });
    let id_number = row
        .get("id_number")
        .and_then(|v| match ResidentId::parse(v) {
            Ok(id) if birth_date.is_some_and(|b| b != id.birth_date()) => {
                flag(&mut flags, "id_number", "id_birth_date_mismatch");
                None
            }
            Ok(id) => Some(id),
            Err(e) => {
                flag(&mut flags, "id_number", id_flag_reason(&e));
                None
            }
        });
    let phone = row
        .get("phone")
        .and_then(|v| match PhoneNumber::parse(v, default_country) {
            Ok(p) => Some(p),
            Err(_) => {
                flag(&mut flags, "phone", "bad_phone");
                None
            }
        });
    let email = row.get("email").and_then(|v| match Email::parse(v) {
        Ok(e) => Some(e),
        Err(_) => {
            flag(&mut flags, "email", "bad_email");
            None
        }
    });
    let annual_income = row
        .get("annual_income")
        .and_then(|v| match Money::parse(v) {
            Ok(m) if m.minor() >= 0 => Some(m),
            _ => {
                flag(&mut flags, "annual_income", "bad_amount");
                None
            }
        });
    let risk_tolerance = row
        .get("risk_tolerance")
        .and_then(|v| match RiskTolerance::parse(v) {
            Ok(r) => Some(r),
            Err(_) => {
                flag(&mut flags, "risk_tolerance", "bad_code");
                None
            }
        });

    Ok(CustomerRecord {
        source: source.to_string(),
        source_key,
        name: row
            .get("name")
            .map(|n| n.split_whitespace().collect::<Vec<_>>().join(" ")),
        gender,
        birth_date,
        id_number,
        phone,
        email,
        city: text(row, "city"),
        occupation: text(row, "occupation"),
        annual_income,
        risk_tolerance,
        risk_assessed_on,
        branch: code_text(row, "branch")?,
        attributes: None,
        flags,
    })
}

/// Days past due assumed for a loan whose row gives none: 0 for loans in good
/// standing, [`BAD_LOAN_DAYS_PAST_DUE`] for finished-in-default and running-in-arrears
/// loans (Berka's B and D carry no day count).
pub(crate) fn loan_days_past_due(status: LoanStatus) -> u32 {
    match status.outcome() {
        LoanOutcome::Good => 0,
        LoanOutcome::Bad => BAD_LOAN_DAYS_PAST_DUE,
    }
}

/// The convention for loans known to be bad without a day count: 90 days,
/// the usual threshold of a non-performing loan.
pub const BAD_LOAN_DAYS_PAST_DUE: u32 = 90;

/// Days past due of a card statement from its repayment status (Taiwan
/// `PAY_x`): a delay of k ≥ 1 months is 30·k days; 0, −1, −2 (paid, revolving,
/// no balance) are 0 days.
pub fn statement_days_past_due(repayment_status: i32) -> u32 {
    if repayment_status >= 1 {
        u32::try_from(repayment_status)
            .unwrap_or(0)
            .saturating_mul(30)
    } else {
        0
    }
}

/// An amount in scientific notation (`3e+05`, `1.5E4`, `-2.5e-1`), converted
/// exactly; `None` when it is not one or is not a whole number of minor units.
/// Some CSV exports (R's `write.csv`) write round numbers this way.
pub(crate) fn parse_exponent_amount(s: &str) -> Option<Money> {
    let (mantissa, exponent) = s.trim().split_once(['e', 'E'])?;
    let exponent: i32 = exponent.parse().ok()?;
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_ok = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty())
        || !digits_ok(int)
        || !digits_ok(frac)
        || int.len() + frac.len() > 30
    {
        return None;
    }
    let digits: i128 = format!("{int}{frac}").parse().ok()?;
    let shift = exponent
        .checked_sub(i32::try_from(frac.len()).ok()?)?
        .checked_add(2)?;
    let minor = if shift >= 0 {
        digits.checked_mul(10i128.checked_pow(u32::try_from(shift).ok()?)?)?
    } else {
        let d = 10i128.checked_pow(u32::try_from(-shift).ok()?)?;
        if digits % d != 0 {
            return None;
        }
        digits / d
    };
    let minor = i64::try_from(minor).ok()?;
    Some(Money::from_minor(if negative { -minor } else { minor }))
}

/// A required amount that may also be written in scientific notation.
pub(crate) fn req_money_or_exponent(row: &Row<'_>, col: &str) -> Result<Money, Rejection> {
    let v = row.require(col)?;
    Money::parse(v).or_else(|e| {
        parse_exponent_amount(v)
            .ok_or_else(|| Rejection::new(Reason::BadAmount, col, e.to_string()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_scientific_notation_convert_exactly() {
        assert_eq!(
            parse_exponent_amount("3e+05"),
            Some(Money::from_major(300_000))
        );
        assert_eq!(
            parse_exponent_amount("1.5E4"),
            Some(Money::from_major(15_000))
        );
        assert_eq!(
            parse_exponent_amount("-2.5e-1"),
            Some(Money::from_minor(-25))
        );
        assert_eq!(
            parse_exponent_amount("1e-3"),
            None,
            "a tenth of a cent is not money"
        );
        assert_eq!(parse_exponent_amount("1e+99"), None);
        assert_eq!(parse_exponent_amount("e5"), None);
        assert_eq!(parse_exponent_amount("12"), None);
    }
}
