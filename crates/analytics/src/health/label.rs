//! A factor's words for people: "liquidity: 0.4 months of spending covered".
//!
//! Owns the label templates of a scorecard's terms (`{value}`, `{percent}`)
//! and how numbers are written in them. A [`FactorLabel`] keeps the template
//! and the value and writes the text only when it is displayed or
//! serialised: scoring a million customers then costs no string per factor.
//! Must never decide points or which factors are shown.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// A term's label templates (validated when the scorecard was loaded).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LabelTemplate {
    /// "liquidity: " — the component's name for people, then a colon.
    pub prefix: String,
    /// For a known value: `{value}` or `{percent}` stand for it.
    pub known: String,
    /// For a missing value.
    pub missing: String,
    /// The other features the label names (`{net_outflow_90}`), in the order
    /// of a factor's `extras`; `true` for money (written with thousands
    /// separators, whole units).
    pub refs: Vec<(String, bool)>,
    /// In Chinese, whole (no prefix): for a known value and for a missing one.
    pub known_zh: Option<String>,
    pub missing_zh: Option<String>,
}

impl LabelTemplate {
    /// Whether the template has Chinese words for this value.
    pub(crate) fn has_zh(&self, value: Option<f64>) -> bool {
        match value {
            Some(_) => self.known_zh.is_some(),
            None => self.missing_zh.is_some(),
        }
    }

    fn write(&self, value: Option<f64>, extras: &[Option<f64>], zh: bool, out: &mut String) {
        let (known, missing) = if zh {
            (
                self.known_zh.as_deref().unwrap_or(&self.known),
                self.missing_zh.as_deref().unwrap_or(&self.missing),
            )
        } else {
            out.push_str(&self.prefix);
            (self.known.as_str(), self.missing.as_str())
        };
        let Some(v) = value else {
            out.push_str(missing);
            return;
        };
        let mut rest = known;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open..];
            if let Some(tail) = after.strip_prefix("{value}") {
                push_short_number(out, v);
                rest = tail;
            } else if let Some(tail) = after.strip_prefix("{percent}") {
                push_short_number(out, (v * 100.0).round());
                rest = tail;
            } else if let Some((k, money, tail)) = self.reference(after) {
                match extras.get(k).copied().flatten() {
                    Some(x) if money => push_grouped(out, x),
                    Some(x) => push_short_number(out, x),
                    None => out.push('?'),
                }
                rest = tail;
            } else {
                out.push('{');
                rest = &after[1..];
            }
        }
        out.push_str(rest);
    }
}

impl LabelTemplate {
    /// `{name}` at the start of `text`, when `name` is one of the refs: its
    /// index, whether it is money, and the text after the closing brace.
    fn reference<'t>(&self, text: &'t str) -> Option<(usize, bool, &'t str)> {
        let inner = text.strip_prefix('{')?;
        let close = inner.find('}')?;
        let name = &inner[..close];
        let k = self.refs.iter().position(|(r, _)| r == name)?;
        Some((k, self.refs[k].1, &inner[close + 1..]))
    }

    /// The feature names written in braces other than `value` and `percent`.
    pub(crate) fn names_in(label: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut rest = label;
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else { break };
            let name = &after[..close];
            if name != "value" && name != "percent" && !out.iter().any(|n| n == name) {
                out.push(name.to_string());
            }
            rest = &after[close + 1..];
        }
        out
    }
}

/// The label of a [`crate::HealthFactor`]: displayed, compared and
/// serialised as its text (a JSON string); read back from JSON as that text.
#[derive(Clone)]
pub struct FactorLabel(Repr);

#[derive(Clone)]
enum Repr {
    Template {
        template: Arc<LabelTemplate>,
        value: Option<f64>,
        /// The values of the template's `refs` (empty for most labels).
        extras: Box<[Option<f64>]>,
        /// Written in Chinese.
        zh: bool,
    },
    Text(String),
}

impl FactorLabel {
    pub(crate) fn new(template: Arc<LabelTemplate>, value: Option<f64>) -> FactorLabel {
        FactorLabel::with_extras(template, value, Box::default())
    }

    pub(crate) fn with_extras(
        template: Arc<LabelTemplate>,
        value: Option<f64>,
        extras: Box<[Option<f64>]>,
    ) -> FactorLabel {
        FactorLabel(Repr::Template {
            template,
            value,
            extras,
            zh: false,
        })
    }

    /// The same label in Chinese, when its template has Chinese words.
    pub(crate) fn zh(&self) -> Option<FactorLabel> {
        match &self.0 {
            Repr::Template {
                template,
                value,
                extras,
                ..
            } if template.has_zh(*value) => Some(FactorLabel(Repr::Template {
                template: template.clone(),
                value: *value,
                extras: extras.clone(),
                zh: true,
            })),
            _ => None,
        }
    }

    /// The label's text.
    pub fn text(&self) -> Cow<'_, str> {
        match &self.0 {
            Repr::Text(t) => Cow::Borrowed(t),
            Repr::Template {
                template,
                value,
                extras,
                zh,
            } => {
                let mut out = String::with_capacity(template.prefix.len() + template.known.len());
                template.write(*value, extras, *zh, &mut out);
                Cow::Owned(out)
            }
        }
    }
}

impl From<String> for FactorLabel {
    fn from(text: String) -> Self {
        FactorLabel(Repr::Text(text))
    }
}

impl fmt::Display for FactorLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl fmt::Debug for FactorLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.text(), f)
    }
}

impl PartialEq for FactorLabel {
    fn eq(&self, other: &Self) -> bool {
        self.text() == other.text()
    }
}

impl PartialEq<str> for FactorLabel {
    fn eq(&self, other: &str) -> bool {
        self.text() == other
    }
}

impl PartialEq<&str> for FactorLabel {
    fn eq(&self, other: &&str) -> bool {
        self.text() == *other
    }
}

impl Serialize for FactorLabel {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text())
    }
}

impl<'de> Deserialize<'de> for FactorLabel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(FactorLabel::from)
    }
}

/// Appends a number for people: whole numbers as such, else 1 decimal from 1
/// up, 2 below and none from 100 up (trailing zeros dropped).
fn push_short_number(out: &mut String, v: f64) {
    use std::fmt::Write;
    let decimals: u32 = if v.fract() == 0.0 || v.abs() >= 100.0 {
        0
    } else if v.abs() >= 1.0 {
        1
    } else {
        2
    };
    let scale = 10u64.pow(decimals);
    let scaled = (v * scale as f64).round();
    if !scaled.is_finite() || scaled.abs() >= 1e15 {
        let _ = write!(out, "{v:.0}");
        return;
    }
    if scaled < 0.0 {
        out.push('-');
    }
    let magnitude = scaled.abs() as u64;
    let _ = write!(out, "{}", magnitude / scale);
    let (mut fraction, mut digits) = (magnitude % scale, decimals);
    while digits > 0 && fraction % 10 == 0 {
        fraction /= 10;
        digits -= 1;
    }
    if digits > 0 {
        let _ = write!(out, ".{fraction:0width$}", width = digits as usize);
    }
}

/// Appends money in whole units with thousands separators: `180,000`.
fn push_grouped(out: &mut String, v: f64) {
    let whole = v.round();
    if !whole.is_finite() || whole.abs() >= 1e15 {
        push_short_number(out, v);
        return;
    }
    if whole < 0.0 {
        out.push('-');
    }
    let digits = (whole.abs() as u64).to_string();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn short_number(v: f64) -> String {
        let mut out = String::new();
        push_short_number(&mut out, v);
        out
    }

    #[test]
    fn short_numbers_drop_needless_decimals() {
        assert_eq!(short_number(0.4), "0.4");
        assert_eq!(short_number(0.456), "0.46");
        assert_eq!(short_number(0.999), "1");
        assert_eq!(short_number(0.004), "0");
        assert_eq!(short_number(3.0), "3");
        assert_eq!(short_number(12.34), "12.3");
        assert_eq!(short_number(12.04), "12");
        assert_eq!(short_number(1234.5), "1235");
        assert_eq!(short_number(-0.25), "-0.25");
        assert_eq!(short_number(-7.0), "-7");
        assert_eq!(short_number(1e20), "100000000000000000000");
    }

    #[test]
    fn a_label_fills_value_and_percent_and_has_its_own_words_for_missing() {
        let template = Arc::new(LabelTemplate {
            prefix: "debt burden: ".into(),
            known: "{percent}% used, {value} as a ratio, {other} kept".into(),
            missing: "no card".into(),
            refs: Vec::new(),
            known_zh: None,
            missing_zh: None,
        });
        let known = FactorLabel::new(template.clone(), Some(0.953));
        assert_eq!(
            known.to_string(),
            "debt burden: 95% used, 0.95 as a ratio, {other} kept"
        );
        assert_eq!(FactorLabel::new(template, None), "debt burden: no card");
        assert_eq!(FactorLabel::from("x".to_string()), "x");
    }

    #[test]
    fn a_label_names_other_features_and_writes_money_with_separators() {
        let known = "{percent}% of the money moved out ({net_outflow_90} yuan), {days} days";
        assert_eq!(
            LabelTemplate::names_in(known),
            vec!["net_outflow_90".to_string(), "days".to_string()]
        );
        let template = Arc::new(LabelTemplate {
            prefix: "savings leaving: ".into(),
            known: known.into(),
            missing: "unknown".into(),
            refs: vec![("net_outflow_90".into(), true), ("days".into(), false)],
            known_zh: Some("90天内净流出 {net_outflow_90} 元（{percent}%）".into()),
            missing_zh: None,
        });
        let label = FactorLabel::with_extras(
            template.clone(),
            Some(0.9),
            vec![Some(180_000.4), Some(48.0)].into(),
        );
        assert_eq!(
            label,
            "savings leaving: 90% of the money moved out (180,000 yuan), 48 days"
        );
        assert_eq!(
            label.zh().map(|l| l.to_string()).as_deref(),
            Some("90天内净流出 180,000 元（90%）")
        );
        assert!(FactorLabel::new(template.clone(), None).zh().is_none());
        let unknown = FactorLabel::with_extras(template, Some(0.9), vec![None, None].into());
        assert_eq!(
            unknown,
            "savings leaving: 90% of the money moved out (? yuan), ? days"
        );
        let mut out = String::new();
        push_grouped(&mut out, -1_234_567.0);
        assert_eq!(out, "-1,234,567");
    }
}
