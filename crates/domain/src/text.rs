//! Text written for people to open in a spreadsheet, and the rule for codes
//! taken from files.
//!
//! # CSV cells (formula injection)
//!
//! A spreadsheet treats a cell starting with `=`, `+`, `-` or `@` as a
//! formula, and one starting with a tab or carriage return may be turned
//! into one; a value such as `=HYPERLINK("http://…")` imported from a file
//! would then run when a member of staff opens an export. Every CSV meant for
//! people passes each cell through [`spreadsheet_cell`], which prefixes such
//! a cell with a single quote `'` (the OWASP rule), except a plain number
//! such as `-12.5` or `+3`, which stays a number.
//!
//! Files meant for machines that are read back by Rapport's importer (the
//! canonical CSV `rapport gen --out` writes, model extracts) are exempt: the
//! quote would change their values.
//!
//! # Codes
//!
//! Codes taken from files (branch, product, segment, RM and channel codes)
//! must match [`is_code`]: an ASCII letter or digit, then up to 63 letters,
//! digits, `_`, `.` or `-` — no spaces, quotes, markup or formula characters.

use std::borrow::Cow;

/// Whether `s` is a plain decimal number: an optional sign, digits with at
/// most one decimal point (at least one digit), an optional exponent.
fn is_plain_number(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (s, None),
    };
    let mut digits = 0;
    let mut points = 0;
    for c in mantissa.chars() {
        match c {
            '0'..='9' => digits += 1,
            '.' => points += 1,
            _ => return false,
        }
    }
    if digits == 0 || points > 1 {
        return false;
    }
    match exponent {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
        }
    }
}

/// `cell` made safe for a spreadsheet: prefixed with `'` when it starts with
/// `=`, `@`, a tab or a carriage return, or with `+` or `-` and is not a
/// plain number; unchanged otherwise.
pub fn spreadsheet_cell(cell: &str) -> Cow<'_, str> {
    let risky = match cell.chars().next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => !is_plain_number(cell),
        _ => false,
    };
    if risky {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Every cell of a record through [`spreadsheet_cell`].
pub fn spreadsheet_record<I, S>(cells: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    cells
        .into_iter()
        .map(|c| spreadsheet_cell(c.as_ref()).into_owned())
        .collect()
}

/// The longest code [`is_code`] accepts.
pub const CODE_MAX_LEN: usize = 64;

/// Whether `s` is a code: `^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$`.
pub fn is_code(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && s.len() <= CODE_MAX_LEN
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_quoted_and_numbers_are_not() {
        for (cell, want) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-x", "'-x"),
            ("-", "'-"),
            ("+", "'+"),
            ("-1+2", "'-1+2"),
            ("-inf", "'-inf"),
            ("\tx", "'\tx"),
            ("\r=1", "'\r=1"),
            ("-12.5", "-12.5"),
            ("+3", "+3"),
            ("-1e5", "-1e5"),
            ("-.5", "-.5"),
            ("12.5", "12.5"),
            ("BJ01", "BJ01"),
            ("", ""),
            ("a=b", "a=b"),
        ] {
            assert_eq!(spreadsheet_cell(cell), want, "{cell:?}");
        }
        assert_eq!(spreadsheet_record(["=1", "2"]), vec!["'=1", "2"]);
    }

    #[test]
    fn codes_are_letters_digits_and_a_few_marks() {
        for ok in [
            "BJ01",
            "tier:gold".replace(':', "_").as_str(),
            "a",
            "P-1.2_x",
            &"a".repeat(64),
        ] {
            assert!(is_code(ok), "{ok}");
        }
        for bad in [
            "",
            "=HYPERLINK(\"http://x\")",
            "-BJ",
            "_x",
            "BJ 01",
            "<b>x</b>",
            "a\"b",
            "北京",
            &"a".repeat(65),
        ] {
            assert!(!is_code(bad), "{bad}");
        }
    }
}
