//! Early-warning rules: their TOML form (`[[rule]]`), loading with every
//! expression and message placeholder checked against the known variables,
//! and the built-in pack (`config/rules.toml`, documented in docs/RULES.md).
//!
//! A transaction rule (`trigger = "transaction"`) also runs on the live path,
//! so loading holds it to two more conditions that make the live path and the
//! batch raise exactly the same alerts: it may only read features computed
//! from transactions (`TRANSACTION_FEATURES`, the ones the live path keeps
//! current), and it must be *day-monotone*: once it is true after some
//! transaction of a day, no later transaction of that day can make it false
//! (checked by [`day_direction`] over the expression).
//!
//! Must never evaluate rules over customers (see `alerts::evaluate_batch`)
//! or touch the store.

use crate::expr::{segment_of_variable, Direction, Expr, ExprError, VarType};
use crate::{FeatureKind, FEATURES, TRANSACTION_FEATURES};
use rapport_domain::Severity;
use serde::Deserialize;
use std::fmt;

/// The built-in rule pack, embedded at build time.
pub const BUILTIN_RULES_TOML: &str = include_str!("../../config/rules.toml");

/// Variables a rule can read besides the features.
pub const STANDING_VARIABLES: &[(&str, VarType)] = &[
    ("score", VarType::Num),
    ("band", VarType::Str),
    ("tier", VarType::Str),
];

/// When a rule is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// Once per as-of date for every customer (the batch run).
    Daily,
    /// For customers with transactions on the last day `[D-1, D)`, in the
    /// batch run and on the live path after each arriving transaction.
    Transaction,
}

/// A message template: literal text with `{variable}` placeholders.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageTemplate {
    source: String,
    parts: Vec<MessagePart>,
}

#[derive(Debug, Clone, PartialEq)]
enum MessagePart {
    Text(String),
    Variable(String),
}

impl MessageTemplate {
    /// Parses `{name}` placeholders; `{{` and `}}` are literal braces.
    pub fn parse(src: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = src.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    text.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) if c.is_ascii_alphanumeric() || c == '_' || c == '.' => {
                                name.push(c)
                            }
                            Some(c) => {
                                return Err(format!(
                                    "placeholder `{{{name}` has `{c}`: only letters, digits, `_` \
                                     and `.`"
                                ))
                            }
                            None => return Err(format!("placeholder `{{{name}` is not closed")),
                        }
                    }
                    if name.is_empty() {
                        return Err("empty placeholder `{}`".to_string());
                    }
                    if !text.is_empty() {
                        parts.push(MessagePart::Text(std::mem::take(&mut text)));
                    }
                    parts.push(MessagePart::Variable(name));
                }
                '}' => return Err("a lone `}` (write `}}` for a brace)".to_string()),
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(MessagePart::Text(text));
        }
        Ok(MessageTemplate {
            source: src.to_string(),
            parts,
        })
    }

    /// The placeholders, in order.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            MessagePart::Variable(v) => Some(v.as_str()),
            MessagePart::Text(_) => None,
        })
    }

    /// Fills the placeholders with `value(name)`.
    pub fn render(&self, value: impl Fn(&str) -> String) -> String {
        let mut out = String::with_capacity(self.source.len() + 16);
        for p in &self.parts {
            match p {
                MessagePart::Text(t) => out.push_str(t),
                MessagePart::Variable(v) => out.push_str(&value(v)),
            }
        }
        out
    }

    pub fn source(&self) -> &str {
        &self.source
    }
}

/// One early-warning rule, loaded and checked.
#[derive(Debug, Clone)]
pub struct EarlyWarningRule {
    /// Stable snake_case identifier (stored with each alert).
    pub code: String,
    pub name: String,
    pub when: Expr,
    pub severity: Severity,
    /// A customer+rule alerted within this many days before D is not alerted again.
    pub cooldown_days: u32,
    pub message: MessageTemplate,
    /// The name in Chinese (`name_zh`), when the rule file gives one.
    pub name_zh: Option<String>,
    /// The message in Chinese (`message_zh`), when the rule file gives one.
    /// Its placeholders are variables of `when`, so that it can be written
    /// from a stored alert's evidence in the viewer's language.
    pub message_zh: Option<MessageTemplate>,
    pub trigger: Trigger,
    /// Days of triggering transactions `[D - evidence_days, D)` attached as evidence.
    pub evidence_days: u32,
    /// The file the rule was loaded from and the line of its `when`.
    pub origin: String,
    pub line: usize,
}

impl EarlyWarningRule {
    /// The Chinese message of an alert of this rule written from its stored
    /// evidence (`{"features": {name: value, …}}`), values formatted as in
    /// the English message; `None` when the rule has no Chinese message.
    pub fn message_zh_from(&self, evidence: &serde_json::Value) -> Option<String> {
        let m = self.message_zh.as_ref()?;
        let features = evidence.get("features");
        Some(m.render(|name| {
            let v = match features.and_then(|f| f.get(name)) {
                Some(serde_json::Value::Number(n)) => n
                    .as_f64()
                    .map_or(crate::expr::Value::Null, crate::expr::Value::Num),
                Some(serde_json::Value::String(s)) => crate::expr::Value::Str(s.clone()),
                Some(serde_json::Value::Bool(b)) => crate::expr::Value::Bool(*b),
                _ => crate::expr::Value::Null,
            };
            match v {
                crate::expr::Value::Null => "—".to_string(),
                v => format_value(name, &v),
            }
        }))
    }
}

/// A loaded, checked set of rules (codes unique).
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub rules: Vec<EarlyWarningRule>,
}

/// A rule file that cannot be used, with what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("{origin}: {message}")]
    Toml { origin: String, message: String },
    /// `line` is the line of the rule's `when` in the file.
    #[error("{origin}:{line}: rule {code:?}: {problem}")]
    Rule {
        origin: String,
        line: usize,
        code: String,
        problem: String,
    },
    #[error("{origin}:{line}: rule {code:?}: {error}")]
    Expression {
        origin: String,
        line: usize,
        code: String,
        error: ExprError,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<RuleToml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleToml {
    code: String,
    name: String,
    when: toml::Spanned<String>,
    severity: String,
    cooldown_days: u32,
    message: String,
    name_zh: Option<String>,
    message_zh: Option<String>,
    #[serde(default = "default_trigger")]
    trigger: Trigger,
    evidence_days: Option<u32>,
}

fn default_trigger() -> Trigger {
    Trigger::Daily
}

/// The prefix of the variables that read an active model's score.
pub const MODEL_PREFIX: &str = "model.";

/// The model registry kind a `model.…` variable reads (`None` when the name
/// is not one): `model.churn` → `churn`, `model.default` → `default`,
/// `model.propensity.wealth` → `propensity:wealth` (a catalogue category).
/// Its value is the probability (0–1) the active model of that kind gave the
/// customer at its latest scoring; `null` when no model of the kind is
/// active or the customer was not scored.
pub fn model_kind(name: &str) -> Option<String> {
    match name.strip_prefix(MODEL_PREFIX)? {
        "churn" => Some("churn".to_string()),
        "default" => Some("default".to_string()),
        other => {
            let category = other.strip_prefix("propensity.")?;
            let parsed = rapport_matching::Category::parse(category)?;
            (parsed.as_str() == category).then(|| format!("propensity:{category}"))
        }
    }
}

/// Every model variable a rule may read, for messages and docs.
pub fn model_variables() -> Vec<String> {
    let mut names = vec!["model.churn".to_string(), "model.default".to_string()];
    names.extend(
        rapport_matching::Category::ALL
            .iter()
            .map(|c| format!("model.propensity.{}", c.as_str())),
    );
    names
}

/// The type of a variable rules may read (`None` when unknown): a feature,
/// `score`, `band`, `tier`, a model score (`model.churn`, …; see
/// [`model_kind`]) or a segment membership (`in_segment("code")`, see
/// [`crate::segment::segment_reference`]).
pub fn variable_type(name: &str) -> Option<VarType> {
    if FEATURES.iter().any(|f| f.name == name) {
        return Some(VarType::Num);
    }
    if model_kind(name).is_some() {
        return Some(VarType::Num);
    }
    if let Some(code) = segment_of_variable(name) {
        return crate::segment::segment_reference(code).map(|_| VarType::Bool);
    }
    STANDING_VARIABLES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
}

impl RuleSet {
    /// The built-in pack (config/rules.toml).
    pub fn builtin() -> Result<RuleSet, RuleError> {
        RuleSet::from_toml(BUILTIN_RULES_TOML, "rules.toml")
    }

    /// Loads and checks rules from TOML text; `origin` names the file in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<RuleSet, RuleError> {
        let file: RuleFile = toml::from_str(text).map_err(|e| RuleError::Toml {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        let mut rules: Vec<EarlyWarningRule> = Vec::with_capacity(file.rule.len());
        for r in file.rule {
            let line = line_of(text, r.when.span().start);
            let rule = load_rule(r, origin, line)?;
            if rules.iter().any(|x| x.code == rule.code) {
                return Err(RuleError::Rule {
                    origin: origin.to_string(),
                    line,
                    code: rule.code,
                    problem: "the code is used by an earlier rule".to_string(),
                });
            }
            rules.push(rule);
        }
        Ok(RuleSet { rules })
    }

    /// Only the rules with `trigger`.
    pub fn with_trigger(&self, trigger: Trigger) -> RuleSet {
        RuleSet {
            rules: self
                .rules
                .iter()
                .filter(|r| r.trigger == trigger)
                .cloned()
                .collect(),
        }
    }

    pub fn get(&self, code: &str) -> Option<&EarlyWarningRule> {
        self.rules.iter().find(|r| r.code == code)
    }

    /// Checks that every segment the rules read (`in_segment("…")`) is one
    /// `segments` makes: a tier, a cluster it can make, a rule segment of the
    /// file. The rules and the segment file are chosen apart, so this is
    /// checked where both are known (the scoring options).
    pub fn check_segments(
        &self,
        segments: &crate::segment::SegmentConfig,
    ) -> Result<(), RuleError> {
        for rule in &self.rules {
            for v in rule.when.variables() {
                let Some(code) = segment_of_variable(v).and_then(crate::segment::segment_reference)
                else {
                    continue;
                };
                if !segments.makes(&code) {
                    return Err(RuleError::Rule {
                        origin: rule.origin.clone(),
                        line: rule.line,
                        code: rule.code.clone(),
                        problem: format!(
                            "in_segment({code:?}): the segment file in use makes no such segment \
                             (tiers, clusters up to its k or k_max, its rule segments)"
                        ),
                    });
                }
            }
        }
        Ok(())
    }
}

/// The 1-based line of a byte offset of `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |before| before.matches('\n').count() + 1)
}

fn load_rule(r: RuleToml, origin: &str, line: usize) -> Result<EarlyWarningRule, RuleError> {
    let problem = |p: String| RuleError::Rule {
        origin: origin.to_string(),
        line,
        code: r.code.clone(),
        problem: p,
    };
    if r.code.is_empty()
        || !r
            .code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(problem(
            "the code must be snake_case (a-z, 0-9, _)".to_string(),
        ));
    }
    let severity = Severity::parse(&r.severity).map_err(|e| problem(e.to_string()))?;
    let expression_error = |error: ExprError| RuleError::Expression {
        origin: origin.to_string(),
        line,
        code: r.code.clone(),
        error,
    };
    let when = Expr::parse(r.when.get_ref()).map_err(expression_error)?;
    when.check(&variable_type).map_err(expression_error)?;
    let message =
        MessageTemplate::parse(&r.message).map_err(|m| problem(format!("message: {m}")))?;
    for v in message.variables() {
        if variable_type(v).is_none() {
            return Err(problem(format!(
                "message: unknown placeholder `{{{v}}}` (a feature, score, band, tier or \
                 model.<kind>)"
            )));
        }
    }
    let message_zh = match &r.message_zh {
        None => None,
        Some(text) => {
            let m =
                MessageTemplate::parse(text).map_err(|m| problem(format!("message_zh: {m}")))?;
            let reads = when.variables();
            for v in m.variables() {
                if !reads.contains(&v) {
                    return Err(problem(format!(
                        "message_zh: placeholder `{{{v}}}` is not read by `when` (a stored \
                         alert keeps only those variables, from which the Chinese message is \
                         written)"
                    )));
                }
            }
            Some(m)
        }
    };
    if r.trigger == Trigger::Transaction {
        for v in when.variables() {
            if !TRANSACTION_FEATURES.contains(&v) {
                return Err(problem(format!(
                    "a transaction rule may only read features computed from transactions \
                     (the live path keeps no others current; model scores, segments, score, \
                     band and tier are for daily rules); `{v}` is not one"
                )));
            }
        }
        if !matches!(day_direction(&when), Direction::Up | Direction::Constant) {
            return Err(problem(
                "a transaction rule must only become true as the day's transactions arrive \
                 (never true, then false again later that day), so that the live path and the \
                 batch agree: compare features that only grow (txn_count_1, outflow_1, \
                 max_outflow_1, …) with `>`/`>=` against constants or features fixed within the \
                 day (balance_30_ago); see docs/RULES.md"
                    .to_string(),
            ));
        }
    }
    let evidence_days = r.evidence_days.unwrap_or(match r.trigger {
        Trigger::Transaction => 1,
        Trigger::Daily => 30,
    });
    Ok(EarlyWarningRule {
        code: r.code,
        name: r.name,
        when,
        severity,
        cooldown_days: r.cooldown_days,
        message,
        name_zh: r.name_zh,
        message_zh,
        trigger: r.trigger,
        evidence_days,
        origin: origin.to_string(),
        line,
    })
}

/// How each transaction feature moves when a transaction of the last day
/// `[D-1, D)` is added (a value that goes from missing to present counts as
/// moving in its direction; none of these goes from present to missing).
pub fn feature_day_direction(name: &str) -> Direction {
    match name {
        // Counts and sums over windows that contain the last day only grow;
        // the six-month inflow average grows when the last day ends a month.
        "txn_count_1"
        | "txn_count_30"
        | "txn_count_90"
        | "inflow_90"
        | "outflow_90"
        | "outflow_1"
        | "max_outflow_1"
        | "max_outflow_90"
        | "salary_months_6"
        | "avg_monthly_inflow_6m"
        | "cash_withdrawals_30"
        | "cash_withdrawals_90" => Direction::Up,
        // c30 / (c90 / 3) with c30 <= c90: adding a withdrawal to both never
        // lowers it, (c30 + 1) / (c90 + 1) >= c30 / c90.
        "cash_withdrawal_trend" => Direction::Up,
        // D minus the latest day: a transaction on the last day sets it to 1.
        "days_since_last_txn" | "days_since_salary" => Direction::Down,
        // As of D-30: transactions of the last day do not touch it.
        "balance_30_ago" => Direction::Constant,
        _ => Direction::Any,
    }
}

/// The day direction of a condition: `Up` or `Constant` means that once it
/// is true after some transaction of a day, it stays true that day.
pub fn day_direction(expr: &Expr) -> Direction {
    expr.direction(&feature_day_direction)
}

/// Formats a variable's value for a message: money with thousands
/// separators and two decimals, ratios and shares as percentages, counts,
/// days and months as whole numbers; `n/a` when missing.
pub fn format_value(name: &str, value: &crate::expr::Value) -> String {
    use crate::expr::Value;
    let x = match value {
        Value::Null => return "n/a".to_string(),
        Value::Str(s) => return s.clone(),
        Value::Bool(b) => return b.to_string(),
        Value::Num(x) => *x,
    };
    if model_kind(name).is_some() {
        // A probability.
        return format!("{:.0}%", x * 100.0);
    }
    let kind = FEATURES.iter().find(|f| f.name == name).map(|f| f.kind);
    match kind {
        Some(FeatureKind::Money) => money(x),
        Some(FeatureKind::Ratio) => format!("{:.0}%", x * 100.0),
        Some(FeatureKind::Months) if x.fract() != 0.0 => format!("{x:.1}"),
        Some(FeatureKind::Count | FeatureKind::Days | FeatureKind::Months | FeatureKind::Years) => {
            format!("{x:.0}")
        }
        Some(FeatureKind::Score) | None => {
            if x.fract() == 0.0 {
                format!("{x:.0}")
            } else {
                format!("{x:.1}")
            }
        }
    }
}

fn money(x: f64) -> String {
    let cents = (x * 100.0).round();
    let negative = cents < 0.0;
    let cents = cents.abs() as u128;
    let (whole, frac) = (cents / 100, cents % 100);
    let digits = whole.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(d);
    }
    format!("{}{grouped}.{frac:02}", if negative { "-" } else { "" })
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Trigger::Daily => "daily",
            Trigger::Transaction => "transaction",
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod zh_tests {
    use super::*;

    #[test]
    fn every_shipped_rule_has_chinese_words_written_from_its_evidence() {
        let set = RuleSet::builtin().unwrap();
        for r in &set.rules {
            assert!(r.name_zh.is_some(), "{} has a Chinese name", r.code);
            assert!(r.message_zh.is_some(), "{} has a Chinese message", r.code);
        }
        let r = set.get("income_stopped").unwrap();
        let ev =
            serde_json::json!({"features": {"days_since_salary": 78.0, "salary_months_6": 4.0}});
        assert_eq!(
            r.message_zh_from(&ev).unwrap(),
            "近 6 个月中有 4 个月发薪，但已 78 天未收到工资。"
        );
        let r = set.get("negative_balance").unwrap();
        let ev = serde_json::json!({"features": {"balance_now": -70.72}});
        assert_eq!(r.message_zh_from(&ev).unwrap(), "存款余额为负：-70.72。");
        // A missing value is a dash, never English.
        assert_eq!(
            r.message_zh_from(&serde_json::json!({})).unwrap(),
            "存款余额为负：—。"
        );
    }

    #[test]
    fn a_chinese_message_may_only_read_what_the_alert_keeps() {
        let text = "[[rule]]\ncode = \"x\"\nname = \"X\"\nwhen = \"balance_now < 0\"\nseverity = \"low\"\n\
                    cooldown_days = 1\nmessage = \"{balance_now} {band}\"\nmessage_zh = \"{band}\"\n";
        let e = RuleSet::from_toml(text, "t.toml").unwrap_err();
        assert!(e.to_string().contains("message_zh"), "{e}");
        let ok = text.replace(
            "message_zh = \"{band}\"",
            "message_zh = \"余额 {balance_now}\"",
        );
        assert!(RuleSet::from_toml(&ok, "t.toml").is_ok());
    }
}
