//! How values are shown to people, in one place for every page, CSV export
//! and chart: money in yuan, times in the configured time zone with its
//! label, and codes as words of the catalogue.
//!
//! Money is stored in fen (minor units); [`money`] is the one function that
//! turns it into yuan with thousands separators and two decimals
//! (2515534 → `25,155.34`, −7072 → `-70.72`); [`yuan`] adds the ¥ sign.

use crate::i18n::Tr;
use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};

/// Money in fen as yuan with thousands separators and two decimals.
pub fn money(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    let major = (m / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in major.chars().enumerate() {
        if i > 0 && (major.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{:02}", m % 100)
}

/// Money in fen with the yuan sign: `¥25,155.34`, `-¥70.72`.
pub fn yuan(minor: i64) -> String {
    if minor < 0 {
        format!("-¥{}", money(-minor))
    } else {
        format!("¥{}", money(minor))
    }
}

/// Money already in yuan (a model's or a report's float) shown like [`money`].
pub fn money_f(yuan: f64) -> String {
    if !yuan.is_finite() {
        return String::new();
    }
    money((yuan * 100.0).round() as i64)
}

/// The label of a time zone offset: `UTC+08:00`.
pub fn zone_label(offset: FixedOffset) -> String {
    let secs = offset.local_minus_utc();
    let sign = if secs < 0 { '-' } else { '+' };
    let s = secs.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", s / 3600, (s % 3600) / 60)
}

/// An instant in the configured time zone, to the minute, labelled with
/// the zone: `2026-12-07 18:30 (UTC+08:00)`.
pub fn time(at: DateTime<Utc>, offset: FixedOffset) -> String {
    format!(
        "{} ({})",
        at.with_timezone(&offset).format("%Y-%m-%d %H:%M"),
        zone_label(offset)
    )
}

/// A stored UTC timestamp as text (RFC 3339 or `YYYY-MM-DD HH:MM:SS`)
/// shown like [`time`]; a plain date or anything unparseable is shown as is.
pub fn time_text(stored: &str, offset: FixedOffset) -> String {
    if let Ok(t) = DateTime::parse_from_rfc3339(stored) {
        return time(t.with_timezone(&Utc), offset);
    }
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(stored, f) {
            return time(n.and_utc(), offset);
        }
    }
    stored.to_string()
}

/// A code shown as words: the catalogue's `code.<group>.<code>` entry in the
/// viewer's language. A code the catalogue lacks is shown as itself (and
/// the language tests of the pages fail on it).
pub fn word(t: &Tr, group: &str, code: &str) -> String {
    let key = format!("code.{group}.{code}");
    if crate::i18n::has(&key) {
        t.s(&key).to_string()
    } else {
        code.to_string()
    }
}

/// A share (0.0–1.0) as a percentage with one decimal: `93.4%`.
pub fn percent(share: f64) -> String {
    if share.is_finite() {
        format!("{:.1}%", share * 100.0)
    } else {
        String::new()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn money_is_yuan_with_separators_and_two_decimals() {
        assert_eq!(money(2_515_534), "25,155.34");
        assert_eq!(money(3_600_000), "36,000.00");
        assert_eq!(money(-7072), "-70.72");
        assert_eq!(money(5), "0.05");
        assert_eq!(money(0), "0.00");
        assert_eq!(money(i64::MIN), "-92,233,720,368,547,758.08");
        assert_eq!(yuan(-7072), "-¥70.72");
        assert_eq!(yuan(123_456_789), "¥1,234,567.89");
        assert_eq!(money_f(1234.565), "1,234.57");
    }

    #[test]
    fn times_are_shown_in_the_configured_zone_and_labelled() {
        let off = FixedOffset::east_opt(8 * 3600).unwrap();
        assert_eq!(
            time_text("2026-12-07T22:30:00Z", off),
            "2026-12-08 06:30 (UTC+08:00)"
        );
        assert_eq!(
            time_text("2026-12-07 01:02:03", off),
            "2026-12-07 09:02 (UTC+08:00)"
        );
        assert_eq!(time_text("2026-12-07", off), "2026-12-07");
        let west = FixedOffset::west_opt(5 * 3600 + 1800).unwrap();
        assert_eq!(zone_label(west), "UTC-05:30");
    }
}
