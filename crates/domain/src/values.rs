//! Validated values: the only way in is `parse`, which cleans and checks.
//!
//! Each type keeps its field private so that a value in hand is always valid:
//! a `ResidentId` has a correct GB 11643-1999 check digit, a `PhoneNumber` is
//! E.164, an `Email` is lower-case and well-formed, `Money` is an exact count
//! of minor units (see docs/adr/0001-money.md).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a resident ID number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResidentIdError {
    #[error("must be 18 characters (17 digits and a digit or X), got {0}")]
    Length(usize),
    #[error("contains a character that is not a digit (only the last may be X)")]
    NotDigits,
    #[error("check digit is {found}, expected {expected} (ISO 7064 MOD 11-2)")]
    CheckDigit { found: char, expected: char },
    #[error("embedded birth date {0} is not a real date")]
    BirthDate(String),
}

/// A mainland Chinese resident identity number (GB 11643-1999, 18 characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ResidentId(String);

/// Weights of positions 1..17 in the ISO 7064 MOD 11-2 checksum.
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each remainder 0..10.
const ID_CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

impl ResidentId {
    /// The check character for the first 17 digits (which must be ASCII digits).
    pub fn check_char(first17: &str) -> Option<char> {
        if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let sum: u32 = first17
            .bytes()
            .zip(ID_WEIGHTS)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        Some(ID_CHECK[(sum % 11) as usize])
    }

    /// Parses and checks an 18-character resident ID (spaces ignored, `x` accepted).
    pub fn parse(s: &str) -> Result<Self, ResidentIdError> {
        let t: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase();
        let n = t.chars().count();
        if n != 18 {
            return Err(ResidentIdError::Length(n));
        }
        if !t.is_ascii() {
            return Err(ResidentIdError::NotDigits);
        }
        let (body, last) = t.split_at(17);
        if !body.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ResidentIdError::NotDigits);
        }
        let found = last.chars().next().unwrap_or(' ');
        if !(found.is_ascii_digit() || found == 'X') {
            return Err(ResidentIdError::NotDigits);
        }
        let expected = Self::check_char(body).ok_or(ResidentIdError::NotDigits)?;
        if found != expected {
            return Err(ResidentIdError::CheckDigit { found, expected });
        }
        let date = &body[6..14];
        NaiveDate::parse_from_str(date, "%Y%m%d")
            .map_err(|_| ResidentIdError::BirthDate(date.to_string()))?;
        Ok(ResidentId(t))
    }

    /// Builds a valid ID from a 6-digit region code, a birth date and a 3-digit sequence.
    /// An odd sequence means male, an even one female.
    pub fn compose(region: u32, birth: NaiveDate, sequence: u32) -> Self {
        let body = format!(
            "{:06}{:04}{:02}{:02}{:03}",
            region % 1_000_000,
            birth.year(),
            birth.month(),
            birth.day(),
            sequence % 1000
        );
        let check = Self::check_char(&body).unwrap_or('0');
        ResidentId(format!("{body}{check}"))
    }

    /// The birth date encoded in positions 7–14.
    pub fn birth_date(&self) -> NaiveDate {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").unwrap_or_default()
    }

    /// The gender encoded by the parity of position 17 (odd = male).
    pub fn gender(&self) -> crate::Gender {
        let d = self.0.as_bytes()[16] - b'0';
        if d % 2 == 1 {
            crate::Gender::Male
        } else {
            crate::Gender::Female
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a phone number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("contains characters that are not digits or separators")]
    BadCharacters,
    #[error("has {0} digits; an E.164 number has 8 to 15")]
    Length(usize),
    #[error("a mainland mobile number is 11 digits starting with 1, got {0} digits")]
    ChinaMobile(usize),
}

/// A phone number in E.164 form (`+8613812345678`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Normalises to E.164. Separators (space, `-`, `.`, parentheses) are dropped;
    /// `+CC…` and `00CC…` keep their country; anything else gets `default_country`
    /// (digits only, e.g. "86") after dropping a national trunk `0`.
    pub fn parse(s: &str, default_country: &str) -> Result<Self, PhoneError> {
        let t = s.trim();
        let mut digits = String::with_capacity(t.len());
        let mut plus = false;
        for (i, c) in t.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 => plus = true,
                ' ' | '-' | '.' | '(' | ')' | '\u{3000}' => {}
                _ => return Err(PhoneError::BadCharacters),
            }
        }
        let full = if plus {
            digits
        } else if let Some(rest) = digits.strip_prefix("00") {
            rest.to_string()
        } else {
            let national = digits.strip_prefix('0').unwrap_or(&digits);
            format!("{default_country}{national}")
        };
        if let Some(national) = full.strip_prefix("86") {
            // Mainland mobiles are 11 digits starting with 1; landlines are area code + 7-8 digits.
            let mobile = national.starts_with('1')
                && national
                    .as_bytes()
                    .get(1)
                    .is_some_and(|b| (b'3'..=b'9').contains(b));
            if mobile && national.len() != 11 {
                return Err(PhoneError::ChinaMobile(national.len()));
            }
        }
        if !(8..=15).contains(&full.len()) {
            return Err(PhoneError::Length(full.len()));
        }
        Ok(PhoneNumber(format!("+{full}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why an e-mail address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid e-mail address: {0}")]
pub struct EmailError(pub &'static str);

/// A lower-cased, syntactically valid e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, EmailError> {
        let t = s.trim().to_lowercase();
        if t.len() > 254 {
            return Err(EmailError("longer than 254 characters"));
        }
        let (local, domain) = t.split_once('@').ok_or(EmailError("no @"))?;
        if local.is_empty() || local.len() > 64 {
            return Err(EmailError("local part empty or longer than 64"));
        }
        if domain.contains('@') {
            return Err(EmailError("more than one @"));
        }
        let local_ok = local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        if !local_ok || local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(EmailError("bad character or dot in local part"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 {
            return Err(EmailError("domain has no dot"));
        }
        for l in &labels {
            if l.is_empty()
                || l.len() > 63
                || l.starts_with('-')
                || l.ends_with('-')
                || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                return Err(EmailError("bad domain label"));
            }
        }
        if labels
            .last()
            .is_some_and(|tld| tld.len() < 2 || tld.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(EmailError("bad top-level domain"));
        }
        Ok(Email(t))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a date was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a date in a recognised format (YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD, DD.MM.YYYY, YYYY年M月D日): {0:?}")]
pub struct DateError(pub String);

/// Parses the common date formats. Ambiguous day/month orders with slashes
/// (`03/04/2024`) are refused rather than guessed, except when only one reading is valid.
pub fn parse_date(s: &str) -> Result<NaiveDate, DateError> {
    let t = s.trim();
    let err = || DateError(s.to_string());
    // Strip a time part ("2024-01-31 00:00:00", "2024-01-31T08:00").
    let d = t.split(['T', ' ']).next().unwrap_or(t);
    // Fast path for the canonical form YYYY-MM-DD (most rows of most files).
    if let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = *d.as_bytes() {
        let digits = [y0, y1, y2, y3, m0, m1, d0, d1];
        if digits.iter().all(u8::is_ascii_digit) {
            let n = |a: &[u8]| a.iter().fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
            let year = i32::try_from(n(&digits[..4])).unwrap_or(0);
            return NaiveDate::from_ymd_opt(year, n(&digits[4..6]), n(&digits[6..]))
                .ok_or_else(err);
        }
    }
    for fmt in ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%d.%m.%Y"] {
        if let Ok(v) = NaiveDate::parse_from_str(d, fmt) {
            return Ok(v);
        }
    }
    if d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(d, "%Y%m%d").map_err(|_| err());
    }
    if let Some(rest) = t.strip_suffix('日') {
        let rest = rest.replace(['年', '月'], "-");
        return NaiveDate::parse_from_str(&rest, "%Y-%m-%d").map_err(|_| err());
    }
    // dd/mm/yyyy or mm/dd/yyyy: accept only when unambiguous.
    let parts: Vec<&str> = d.split('/').collect();
    if parts.len() == 3 && parts[2].len() == 4 {
        let a = NaiveDate::parse_from_str(d, "%d/%m/%Y").ok();
        let b = NaiveDate::parse_from_str(d, "%m/%d/%Y").ok();
        return match (a, b) {
            (Some(x), Some(y)) if x == y => Ok(x),
            (Some(x), None) | (None, Some(x)) => Ok(x),
            _ => Err(err()),
        };
    }
    Err(err())
}

/// Why an amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a number with at most 2 decimals: {0:?}")]
pub struct AmountError(pub String);

/// Money as an exact signed count of minor units (fen, cents). See ADR 0001.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn from_minor(minor: i64) -> Self {
        Money(minor)
    }

    /// Whole major units (yuan, crowns) to money.
    pub fn from_major(major: i64) -> Self {
        Money(major.saturating_mul(100))
    }

    pub fn minor(self) -> i64 {
        self.0
    }

    /// For analytics only: the amount in major units as a float.
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// Parses `1234`, `-1,234.50`, `1 234.5`, `¥1,234.00`, `(12.00)` (negative), `+3`.
    /// Thousands separators are `,`, space, `'` and `_`; the decimal point is `.`;
    /// more than two decimals is refused rather than rounded.
    pub fn parse(s: &str) -> Result<Self, AmountError> {
        let err = || AmountError(s.to_string());
        let mut t = s.trim();
        let mut negative = false;
        if let Some(inner) = t.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
            negative = true;
            t = inner.trim();
        }
        if let Some(r) = t.strip_prefix('-') {
            negative = !negative;
            t = r;
        } else if let Some(r) = t.strip_prefix('+') {
            t = r;
        }
        let t = t.trim_start_matches(['¥', '￥', '$', '€']).trim();
        if t.is_empty() {
            return Err(err());
        }
        let (int_part, frac_part) = match t.split_once('.') {
            Some((i, f)) => (i, f),
            None => (t, ""),
        };
        if frac_part.len() > 2 || !frac_part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        // Digits accumulate directly (no intermediate string: this runs for
        // every amount of every row).
        let mut major: i64 = 0;
        let mut any_digit = false;
        for c in int_part.chars() {
            match c {
                '0'..='9' => {
                    let d = i64::from(c as u8 - b'0');
                    major = major
                        .checked_mul(10)
                        .and_then(|m| m.checked_add(d))
                        .ok_or_else(err)?;
                    any_digit = true;
                }
                ',' | ' ' | '\'' | '_' | '\u{a0}' => {}
                _ => return Err(err()),
            }
        }
        if !any_digit && frac_part.is_empty() {
            return Err(err());
        }
        let frac: i64 = match frac_part.len() {
            0 => 0,
            1 => frac_part.parse::<i64>().map_err(|_| err())? * 10,
            _ => frac_part.parse().map_err(|_| err())?,
        };
        let minor = major
            .checked_mul(100)
            .and_then(|m| m.checked_add(frac))
            .ok_or_else(err)?;
        Ok(Money(if negative { -minor } else { minor }))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", a / 100, a % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn a_published_example_id_number_is_accepted() {
        // The worked example of GB 11643-1999.
        let id = ResidentId::parse("11010519491231002X");
        assert!(id.is_ok(), "{id:?}");
        let id = id.unwrap_or_else(|_| ResidentId::compose(110105, d(1949, 12, 31), 2));
        assert_eq!(id.birth_date(), d(1949, 12, 31));
        assert_eq!(id.gender(), crate::Gender::Female);
    }

    #[test]
    fn an_id_number_with_a_bad_checksum_is_rejected() {
        assert_eq!(
            ResidentId::parse("110105194912310021"),
            Err(ResidentIdError::CheckDigit {
                found: '1',
                expected: 'X'
            })
        );
    }

    #[test]
    fn an_id_number_with_an_impossible_birth_date_is_rejected() {
        let body = "11010519490231002";
        let check = ResidentId::check_char(body).unwrap_or('0');
        assert!(matches!(
            ResidentId::parse(&format!("{body}{check}")),
            Err(ResidentIdError::BirthDate(_))
        ));
    }

    #[test]
    fn a_short_or_lettered_id_number_is_rejected() {
        assert_eq!(
            ResidentId::parse("1101051949"),
            Err(ResidentIdError::Length(10))
        );
        assert_eq!(
            ResidentId::parse("1101051949123100AX"),
            Err(ResidentIdError::NotDigits)
        );
    }

    #[test]
    fn composed_id_numbers_always_validate() {
        for seq in 0..200 {
            let id = ResidentId::compose(440305, d(1985, 7, 9), seq);
            assert_eq!(ResidentId::parse(id.as_str()), Ok(id.clone()));
            assert_eq!(id.gender() == crate::Gender::Male, seq % 2 == 1);
        }
    }

    #[test]
    fn mainland_mobiles_get_the_default_country() {
        assert_eq!(
            PhoneNumber::parse("138 1234 5678", "86").map(|p| p.0),
            Ok("+8613812345678".into())
        );
        assert_eq!(
            PhoneNumber::parse("+86-138-1234-5678", "86").map(|p| p.0),
            Ok("+8613812345678".into())
        );
        assert_eq!(
            PhoneNumber::parse("0086 13812345678", "86").map(|p| p.0),
            Ok("+8613812345678".into())
        );
        assert_eq!(
            PhoneNumber::parse("(010) 6552 9988", "86").map(|p| p.0),
            Ok("+861065529988".into())
        );
        assert_eq!(
            PhoneNumber::parse("+44 20 7946 0958", "86").map(|p| p.0),
            Ok("+442079460958".into())
        );
    }

    #[test]
    fn malformed_phones_are_rejected() {
        assert_eq!(
            PhoneNumber::parse("1381234567", "86"),
            Err(PhoneError::ChinaMobile(10))
        );
        assert_eq!(
            PhoneNumber::parse("call me", "86"),
            Err(PhoneError::BadCharacters)
        );
        assert!(PhoneNumber::parse("123", "86").is_err());
    }

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            Email::parse(" Wang.Wei@Example.COM ").map(|e| e.0),
            Ok("wang.wei@example.com".into())
        );
        for bad in [
            "wang",
            "wang@",
            "@x.cn",
            "a@b",
            "a..b@x.cn",
            "a@-x.cn",
            "a@x.c",
            "a b@x.cn",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn common_date_formats_parse() {
        let want = d(2024, 3, 15);
        for s in [
            "2024-03-15",
            "2024/03/15",
            "20240315",
            "15.03.2024",
            "2024年3月15日",
            "2024-03-15 00:00:00",
            "15/03/2024",
            "03/15/2024",
        ] {
            assert_eq!(parse_date(s), Ok(want), "{s}");
        }
        assert!(
            parse_date("03/04/2024").is_err(),
            "ambiguous day/month must not be guessed"
        );
        assert!(parse_date("2024-02-30").is_err());
        assert!(parse_date("yesterday").is_err());
    }

    #[test]
    fn amounts_with_separators_parse_exactly() {
        assert_eq!(Money::parse("1,234.56"), Ok(Money(123_456)));
        assert_eq!(Money::parse("-1 234.5"), Ok(Money(-123_450)));
        assert_eq!(Money::parse("¥12,000"), Ok(Money(1_200_000)));
        assert_eq!(Money::parse("(7.01)"), Ok(Money(-701)));
        assert_eq!(Money::parse("+0.5"), Ok(Money(50)));
        assert_eq!(Money::parse(".25"), Ok(Money(25)));
        for bad in ["", "abc", "1.234", "12a", "1.2.3", "--1", "-"] {
            assert!(Money::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Money(-123_450).to_string(), "-1234.50");
    }

    proptest::proptest! {
        #[test]
        fn money_parse_never_panics(s in "\\PC{0,40}") {
            let _ = Money::parse(&s);
            let _ = parse_date(&s);
            let _ = PhoneNumber::parse(&s, "86");
            let _ = Email::parse(&s);
            let _ = ResidentId::parse(&s);
        }

        #[test]
        fn money_display_parses_back(minor in -1_000_000_000_000i64..1_000_000_000_000i64) {
            let m = Money(minor);
            proptest::prop_assert_eq!(Money::parse(&m.to_string()), Ok(m));
        }
    }
}
