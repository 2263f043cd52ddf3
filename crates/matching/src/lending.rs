//! The responsible-lending rule: no credit to a customer who cannot carry it.
//!
//! A hard rule beside suitability, applied whenever a **credit product** is
//! proposed (by the system), offered (by staff) or sold. A product is a
//! credit product when the catalogue says so ([`Product::credit`]: the
//! `credit` flag of the product, by default every `loan` and `card`
//! product — mortgages, consumer loans, credit cards, limit increases).
//! Other products are never blocked by this rule.
//!
//! A credit product is blocked when any of these holds (all that hold are
//! named in the reason; the first is the decision's code):
//!
//! 1. **days past due**: the customer was past due (> 0 days) on a loan or a
//!    card statement in the last 12 months (`max_days_past_due`);
//! 2. **distress alert**: an early-warning alert whose rule is in
//!    [`LendingPolicy::distress_rules`] is open (not closed) — by default
//!    income stopped, balance collapse, negative balance and every
//!    days-past-due rule;
//! 3. **debt-service ratio**: the monthly payments of the customer's active
//!    loans divided by the monthly income (the average monthly inflow over
//!    the 6 whole calendar months before the day, feature
//!    `debt_service_ratio`) is above [`LendingPolicy::max_debt_service_ratio`]
//!    (default 50 %); unknown when the customer has no inflow;
//! 4. **at-risk band**: the customer's health score is in the `at_risk` band;
//! 5. **salary stopped**: the customer's latest salary credit is more than
//!    [`LendingPolicy::max_days_without_salary`] days old (default 45) but
//!    within the last year (`days_since_salary`): an income that has just
//!    stopped, whether or not an alert was raised for it. A customer never
//!    paid a salary, or last paid more than a year ago (retired, self-employed),
//!    is judged on the other checks.
//!
//! Unknown facts do not block (a customer without loans has no arrears); the
//! other checks still apply. Every [`LendingDecision`] carries its reason in
//! English and Chinese naming the numbers, and is logged like a suitability
//! decision (same log, codes prefixed `lending_`).
//!
//! Must never read the clock, do IO, or be bypassed.

use crate::catalogue::Product;
use crate::nba::Signals;
use crate::suitability::Context;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The early-warning rules whose open alert blocks credit by default.
pub const DEFAULT_DISTRESS_RULES: &[&str] = &[
    "income_stopped",
    "balance_collapse",
    "negative_balance",
    "dpd_1_30",
    "dpd_31_60",
    "dpd_61_90",
    "dpd_90_plus",
];

/// The early-warning rules whose open alert signals a customer about to
/// leave (retention first, but credit is not blocked for it) by default.
pub const DEFAULT_ATTRITION_RULES: &[&str] = &[
    "large_outflow",
    "dormancy",
    "complaint_escalation",
    "cash_withdrawal_spike",
];

/// The limits of the rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LendingPolicy {
    /// Highest debt-service ratio (monthly loan payments ÷ monthly income)
    /// at which credit may still be offered; 0.5 = 50 %.
    pub max_debt_service_ratio: f64,
    /// Alert rule codes that block credit while an alert of theirs is open.
    pub distress_rules: Vec<String>,
    /// Alert rule codes that put retention first while open (they do not block credit).
    pub attrition_rules: Vec<String>,
    /// Days without the salary after which credit is blocked (see the module docs).
    #[serde(default = "default_days_without_salary")]
    pub max_days_without_salary: f64,
}

fn default_days_without_salary() -> f64 {
    45.0
}

/// A salary older than this is no longer "just stopped" (retired, changed trade).
const SALARY_MEMORY_DAYS: f64 = 365.0;

impl Default for LendingPolicy {
    fn default() -> Self {
        LendingPolicy {
            max_debt_service_ratio: 0.5,
            distress_rules: DEFAULT_DISTRESS_RULES
                .iter()
                .map(|s| s.to_string())
                .collect(),
            attrition_rules: DEFAULT_ATTRITION_RULES
                .iter()
                .map(|s| s.to_string())
                .collect(),
            max_days_without_salary: default_days_without_salary(),
        }
    }
}

impl LendingPolicy {
    /// Whether an open alert of `rule` is a distress signal.
    pub fn is_distress(&self, rule: &str) -> bool {
        self.distress_rules.iter().any(|r| r == rule)
    }

    /// Whether an open alert of `rule` is an attrition signal.
    pub fn is_attrition(&self, rule: &str) -> bool {
        self.attrition_rules.iter().any(|r| r == rule)
    }
}

/// What the rule reads about a customer; `None` when unknown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreditFacts {
    /// Most days past due on a loan or card statement in the last 12 months.
    pub max_days_past_due: Option<f64>,
    /// Monthly payments of active loans ÷ average monthly inflow (6 months).
    pub debt_service_ratio: Option<f64>,
    /// Rule codes of the customer's open (not closed) alerts.
    pub open_alerts: Vec<String>,
    /// The latest health band (`healthy`, `watch`, `at_risk`) and score.
    pub health_band: Option<String>,
    pub health_score: Option<f64>,
    /// Days since the latest salary credit (empty when never paid one).
    #[serde(default)]
    pub days_since_salary: Option<f64>,
}

impl CreditFacts {
    /// The facts as the next-best-action engine sees them.
    pub fn of(s: &Signals) -> CreditFacts {
        CreditFacts {
            max_days_past_due: s.max_days_past_due,
            debt_service_ratio: s.debt_service_ratio,
            open_alerts: s.open_alerts.clone(),
            health_band: s.health_band.clone(),
            health_score: s.health_score,
            days_since_salary: s.days_since_salary,
        }
    }
}

/// Why a credit product is allowed or blocked, as a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LendingCode {
    /// Not a credit product: the rule does not apply.
    NotCredit,
    /// A credit product and no block applies.
    Clear,
    /// Past due in the last 12 months.
    DaysPastDue,
    /// An open distress alert.
    DistressAlert,
    /// Debt-service ratio above the limit.
    DebtServiceRatio,
    /// Health score in the at-risk band.
    AtRiskBand,
    /// The salary stopped (missing for longer than the policy allows, within a year).
    SalaryStopped,
}

impl LendingCode {
    /// The stable code as logged, e.g. `"lending_days_past_due"`.
    pub fn as_str(self) -> &'static str {
        match self {
            LendingCode::NotCredit => "lending_not_credit",
            LendingCode::Clear => "lending_clear",
            LendingCode::DaysPastDue => "lending_days_past_due",
            LendingCode::DistressAlert => "lending_distress_alert",
            LendingCode::DebtServiceRatio => "lending_debt_service_ratio",
            LendingCode::AtRiskBand => "lending_at_risk_band",
            LendingCode::SalaryStopped => "lending_salary_stopped",
        }
    }
}

impl fmt::Display for LendingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of the rule for one product; store it as is for audit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LendingDecision {
    /// Whether the product may be proposed / offered / sold.
    pub allowed: bool,
    /// The first block that applies, or `clear` / `not_credit`.
    pub code: LendingCode,
    /// Every block that applies, in the order of the module docs.
    pub blocks: Vec<LendingCode>,
    /// Where in the sales process the check was made.
    pub context: Context,
    /// The product risk level (for the log).
    pub product_risk: u8,
    /// The reason, English, naming the numbers.
    pub reason_en: String,
    /// The reason, Chinese, naming the numbers.
    pub reason_zh: String,
}

fn verb(context: Context) -> (&'static str, &'static str) {
    match context {
        Context::Propose => ("proposed", "推荐"),
        Context::Offer => ("offered", "推介"),
        Context::Sell => ("sold", "发放"),
    }
}

/// The known alert rule codes in words, English and Chinese.
pub fn alert_rule_words(rule: &str) -> (String, String) {
    let (en, zh) = match rule {
        "income_stopped" => ("income stopped", "收入中断"),
        "balance_collapse" => ("balance collapse", "余额骤降"),
        "negative_balance" => ("negative balance", "账户透支"),
        "dpd_1_30" => ("1–30 days past due", "逾期1–30天"),
        "dpd_31_60" => ("31–60 days past due", "逾期31–60天"),
        "dpd_61_90" => ("61–90 days past due", "逾期61–90天"),
        "dpd_90_plus" => ("over 90 days past due", "逾期90天以上"),
        "large_outflow" => ("large outflow", "大额资金转出"),
        "dormancy" => ("dormant account", "账户休眠"),
        "complaint_escalation" => ("repeated complaints", "投诉升级"),
        "cash_withdrawal_spike" => ("cash withdrawal spike", "取现激增"),
        "utilisation_above_90" => ("credit limit over 90 % used", "信用额度使用超过90%"),
        other => (other, other),
    };
    (en.to_string(), zh.to_string())
}

/// Applies the rule (see the module docs) to `product` for a customer with `facts`.
pub fn check_lending(
    policy: &LendingPolicy,
    product: &Product,
    facts: &CreditFacts,
    context: Context,
) -> LendingDecision {
    let (v_en, v_zh) = verb(context);
    let risk = product.risk.get();
    if !product.credit {
        return LendingDecision {
            allowed: true,
            code: LendingCode::NotCredit,
            blocks: Vec::new(),
            context,
            product_risk: risk,
            reason_en: format!("{} is not a credit product", product.name_en),
            reason_zh: format!("{}不属于信贷产品", product.name_zh),
        };
    }
    let mut blocks = Vec::new();
    let mut en = Vec::new();
    let mut zh = Vec::new();
    if let Some(dpd) = facts.max_days_past_due.filter(|d| *d > 0.0) {
        blocks.push(LendingCode::DaysPastDue);
        en.push(format!(
            "{dpd:.0} days past due on a loan or card in the last 12 months"
        ));
        zh.push(format!("近12个月贷款或信用卡曾逾期{dpd:.0}天"));
    }
    let distress: Vec<&String> = facts
        .open_alerts
        .iter()
        .filter(|r| policy.is_distress(r))
        .collect();
    if !distress.is_empty() {
        blocks.push(LendingCode::DistressAlert);
        let words: Vec<(String, String)> = distress.iter().map(|r| alert_rule_words(r)).collect();
        en.push(format!(
            "open distress alert: {}",
            words
                .iter()
                .map(|w| w.0.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        zh.push(format!(
            "存在未关闭的困境预警：{}",
            words
                .iter()
                .map(|w| w.1.as_str())
                .collect::<Vec<_>>()
                .join("、")
        ));
    }
    if let Some(dsr) = facts
        .debt_service_ratio
        .filter(|r| r.is_finite() && *r > policy.max_debt_service_ratio)
    {
        blocks.push(LendingCode::DebtServiceRatio);
        let limit = policy.max_debt_service_ratio * 100.0;
        en.push(format!(
            "loan payments are {:.0}% of monthly income, above the {limit:.0}% limit",
            dsr * 100.0
        ));
        zh.push(format!(
            "月还款额占月收入{:.0}%，超过{limit:.0}%的上限",
            dsr * 100.0
        ));
    }
    if facts.health_band.as_deref() == Some("at_risk") {
        blocks.push(LendingCode::AtRiskBand);
        match facts.health_score {
            Some(s) => {
                en.push(format!("health score {s:.1} is in the at-risk band"));
                zh.push(format!("健康度评分{s:.1}，处于风险区间"));
            }
            None => {
                en.push("health score is in the at-risk band".into());
                zh.push("健康度评分处于风险区间".into());
            }
        }
    }
    if let Some(days) = facts
        .days_since_salary
        .filter(|d| *d > policy.max_days_without_salary && *d <= SALARY_MEMORY_DAYS)
    {
        blocks.push(LendingCode::SalaryStopped);
        en.push(format!(
            "no salary credited for {days:.0} days (limit {:.0})",
            policy.max_days_without_salary
        ));
        zh.push(format!(
            "已{days:.0}天未收到工资入账（上限{:.0}天）",
            policy.max_days_without_salary
        ));
    }
    let (allowed, code, reason_en, reason_zh) = match blocks.first() {
        None => (
            true,
            LendingCode::Clear,
            format!(
                "responsible lending: no arrears in 12 months, no open distress alert, debt service within {:.0}% of income, not at risk, salary not stopped",
                policy.max_debt_service_ratio * 100.0
            ),
            format!(
                "审慎放贷检查通过：近12个月无逾期、无未关闭的困境预警、月还款不超过收入的{:.0}%、不在风险区间、工资未中断",
                policy.max_debt_service_ratio * 100.0
            ),
        ),
        Some(first) => (
            false,
            *first,
            format!(
                "responsible lending: {} may not be {v_en}: {}",
                product.name_en,
                en.join("; ")
            ),
            format!(
                "审慎放贷规则：不得{v_zh}{}，原因：{}",
                product.name_zh,
                zh.join("；")
            ),
        ),
    };
    LendingDecision {
        allowed,
        code,
        blocks,
        context,
        product_risk: risk,
        reason_en,
        reason_zh,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::catalogue::Catalogue;

    fn cat() -> Catalogue {
        Catalogue::builtin().unwrap()
    }

    #[test]
    fn loans_and_cards_are_credit_deposits_are_not() {
        let c = cat();
        for code in ["LN-MORT", "LN-CONS", "CC-CLASSIC", "CC-GOLD"] {
            assert!(c.get(code).unwrap().credit, "{code}");
        }
        for code in ["TD-1Y", "WM-R2-01", "INS-01", "GOLD-01"] {
            assert!(!c.get(code).unwrap().credit, "{code}");
        }
    }

    #[test]
    fn arrears_block_credit_with_the_days_in_the_reason() {
        let c = cat();
        let p = c.get("LN-MORT").unwrap();
        let facts = CreditFacts {
            max_days_past_due: Some(313.0),
            debt_service_ratio: Some(5.94),
            open_alerts: vec!["dpd_90_plus".into(), "dormancy".into()],
            health_band: Some("at_risk".into()),
            health_score: Some(21.5),
            days_since_salary: None,
        };
        let d = check_lending(&LendingPolicy::default(), p, &facts, Context::Propose);
        assert!(!d.allowed);
        assert_eq!(d.code, LendingCode::DaysPastDue);
        assert_eq!(
            d.blocks,
            vec![
                LendingCode::DaysPastDue,
                LendingCode::DistressAlert,
                LendingCode::DebtServiceRatio,
                LendingCode::AtRiskBand
            ]
        );
        assert!(d.reason_en.contains("313 days past due"), "{}", d.reason_en);
        assert!(
            d.reason_en.contains("594% of monthly income"),
            "{}",
            d.reason_en
        );
        assert!(d.reason_en.contains("over 90 days past due"));
        assert!(!d.reason_en.contains("dormant"), "{}", d.reason_en);
        assert!(d.reason_zh.contains("逾期313天"), "{}", d.reason_zh);
        assert!(d.reason_zh.contains("594%"), "{}", d.reason_zh);
        assert!(d.reason_zh.contains("21.5"), "{}", d.reason_zh);
    }

    #[test]
    fn each_block_alone_blocks_and_a_clean_customer_passes() {
        let c = cat();
        let p = c.get("CC-CLASSIC").unwrap();
        let pol = LendingPolicy::default();
        let clean = CreditFacts {
            max_days_past_due: Some(0.0),
            debt_service_ratio: Some(0.5),
            open_alerts: vec!["dormancy".into()],
            health_band: Some("watch".into()),
            health_score: Some(55.0),
            days_since_salary: Some(30.0),
        };
        let d = check_lending(&pol, p, &clean, Context::Sell);
        assert!(d.allowed, "{}", d.reason_en);
        assert_eq!(d.code, LendingCode::Clear);
        let cases: Vec<(CreditFacts, LendingCode)> = vec![
            (
                CreditFacts {
                    max_days_past_due: Some(1.0),
                    ..clean.clone()
                },
                LendingCode::DaysPastDue,
            ),
            (
                CreditFacts {
                    open_alerts: vec!["income_stopped".into()],
                    ..clean.clone()
                },
                LendingCode::DistressAlert,
            ),
            (
                CreditFacts {
                    debt_service_ratio: Some(0.51),
                    ..clean.clone()
                },
                LendingCode::DebtServiceRatio,
            ),
            (
                CreditFacts {
                    health_band: Some("at_risk".into()),
                    ..clean.clone()
                },
                LendingCode::AtRiskBand,
            ),
            (
                CreditFacts {
                    days_since_salary: Some(46.0),
                    ..clean.clone()
                },
                LendingCode::SalaryStopped,
            ),
        ];
        for (f, code) in cases {
            let d = check_lending(&pol, p, &f, Context::Offer);
            assert!(!d.allowed);
            assert_eq!(d.code, code);
            assert_eq!(d.blocks, vec![code]);
            assert!(
                d.reason_en.contains("may not be offered"),
                "{}",
                d.reason_en
            );
        }
        // A deposit is never blocked by this rule.
        let td = c.get("TD-1Y").unwrap();
        let bad = CreditFacts {
            max_days_past_due: Some(120.0),
            health_band: Some("at_risk".into()),
            ..clean
        };
        let d = check_lending(&pol, td, &bad, Context::Sell);
        assert!(d.allowed);
        assert_eq!(d.code, LendingCode::NotCredit);
    }

    #[test]
    fn the_limit_and_the_distress_rules_are_configurable() {
        let c = cat();
        let p = c.get("LN-CONS").unwrap();
        let pol = LendingPolicy {
            max_debt_service_ratio: 0.3,
            distress_rules: vec!["dormancy".into()],
            attrition_rules: vec![],
            max_days_without_salary: 45.0,
        };
        let f = CreditFacts {
            debt_service_ratio: Some(0.35),
            ..CreditFacts::default()
        };
        let d = check_lending(&pol, p, &f, Context::Propose);
        assert_eq!(d.code, LendingCode::DebtServiceRatio);
        assert!(d
            .reason_en
            .contains("35% of monthly income, above the 30% limit"));
        let f = CreditFacts {
            open_alerts: vec!["income_stopped".into()],
            ..CreditFacts::default()
        };
        assert!(check_lending(&pol, p, &f, Context::Propose).allowed);
        let f = CreditFacts {
            open_alerts: vec!["dormancy".into()],
            ..CreditFacts::default()
        };
        assert_eq!(
            check_lending(&pol, p, &f, Context::Propose).code,
            LendingCode::DistressAlert
        );
        assert_eq!(LendingCode::AtRiskBand.as_str(), "lending_at_risk_band");
    }

    #[test]
    fn a_salary_that_just_stopped_blocks_credit_but_a_salary_long_gone_does_not() {
        let c = cat();
        let p = c.get("CC-CLASSIC").unwrap();
        let pol = LendingPolicy::default();
        let with = |days: Option<f64>| CreditFacts {
            days_since_salary: days,
            ..CreditFacts::default()
        };
        let d = check_lending(&pol, p, &with(Some(80.0)), Context::Offer);
        assert!(!d.allowed);
        assert_eq!(d.code, LendingCode::SalaryStopped);
        assert!(d.reason_en.contains("80 days"), "{}", d.reason_en);
        assert!(d.reason_zh.contains("80天"), "{}", d.reason_zh);
        // Paid this month, never paid, or last paid years ago (retired): not this block.
        for days in [Some(20.0), None, Some(900.0)] {
            assert!(
                check_lending(&pol, p, &with(days), Context::Offer).allowed,
                "{days:?}"
            );
        }
    }
}
