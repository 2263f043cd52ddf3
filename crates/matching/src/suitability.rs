//! The suitability rule: no product above the customer's assessed risk tolerance.
//!
//! Owns the one hard rule of matching, applied whenever a product is proposed
//! (by the system), offered (by staff) or sold:
//!
//! * with a **valid** risk assessment (dated on or before today and less than
//!   `validity_days` old), a product of risk `Rn` is allowed iff
//!   `n <= tolerance` (C1 = 1 … C5 = 5);
//! * with **no** assessment, an **expired** one, or one **dated in the future**
//!   (a data error: it cannot be relied on), only R1 products are allowed and
//!   the customer needs reassessment;
//! * a product risk outside 1..=5 is never allowed.
//!
//! Every [`Decision`] carries its reason in English and Chinese naming the
//! numbers, so it can be shown to staff and stored for audit as is.
//!
//! Must never read the clock (today is a parameter), do IO, or be bypassed:
//! ranking and eligibility come after this check, never instead of it.

use crate::catalogue::Product;
use chrono::{NaiveDate, TimeDelta};
use rapport_domain::RiskTolerance;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A customer's risk-tolerance assessment (风险承受能力评估).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// The assessed tolerance, C1 (conservative) to C5 (aggressive).
    pub tolerance: RiskTolerance,
    /// The day the assessment was made.
    pub assessed_on: NaiveDate,
}

/// How long an assessment stays valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuitabilityPolicy {
    /// Days an assessment is valid: valid on `assessed_on .. assessed_on + validity_days`
    /// (end exclusive). Zero or negative means no assessment is ever valid.
    pub validity_days: i64,
}

impl Default for SuitabilityPolicy {
    /// One year (365 days), the usual rule for bank wealth products.
    fn default() -> Self {
        SuitabilityPolicy { validity_days: 365 }
    }
}

/// Where in the sales process the check is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Context {
    /// The system proposes the product (next best action).
    Propose,
    /// Staff offer the product to the customer.
    Offer,
    /// The product is sold.
    Sell,
}

impl Context {
    /// Every context.
    pub const ALL: &'static [Context] = &[Context::Propose, Context::Offer, Context::Sell];

    /// `"propose"`, `"offer"` or `"sell"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Context::Propose => "propose",
            Context::Offer => "offer",
            Context::Sell => "sell",
        }
    }

    /// Parses `"propose"`, `"offer"` or `"sell"` (trimmed, case-insensitive).
    pub fn parse(s: &str) -> Option<Context> {
        Context::ALL
            .iter()
            .copied()
            .find(|c| s.trim().eq_ignore_ascii_case(c.as_str()))
    }

    fn verb_en(self) -> &'static str {
        match self {
            Context::Propose => "proposed",
            Context::Offer => "offered",
            Context::Sell => "sold",
        }
    }

    fn verb_zh(self) -> &'static str {
        match self {
            Context::Propose => "推荐",
            Context::Offer => "推介",
            Context::Sell => "销售",
        }
    }
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of a check, as a stable code for storage and reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionCode {
    /// Valid assessment; product risk at or below tolerance. Allowed.
    WithinTolerance,
    /// Valid assessment; product risk above tolerance. Blocked.
    AboveTolerance,
    /// No assessment; R1 product. Allowed, reassessment needed.
    NoAssessmentLowRisk,
    /// No assessment; product above R1. Blocked.
    NoAssessmentBlocked,
    /// Expired assessment; R1 product. Allowed, reassessment needed.
    ExpiredLowRisk,
    /// Expired assessment; product above R1. Blocked.
    ExpiredBlocked,
    /// Assessment dated after today (cannot be relied on); R1 product. Allowed, reassessment needed.
    FutureDatedLowRisk,
    /// Assessment dated after today (cannot be relied on); product above R1. Blocked.
    FutureDatedBlocked,
    /// The product risk is not 1..=5. Blocked.
    UnknownProductRisk,
}

impl DecisionCode {
    /// The stable snake_case code, e.g. `"above_tolerance"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionCode::WithinTolerance => "within_tolerance",
            DecisionCode::AboveTolerance => "above_tolerance",
            DecisionCode::NoAssessmentLowRisk => "no_assessment_low_risk",
            DecisionCode::NoAssessmentBlocked => "no_assessment_blocked",
            DecisionCode::ExpiredLowRisk => "expired_low_risk",
            DecisionCode::ExpiredBlocked => "expired_blocked",
            DecisionCode::FutureDatedLowRisk => "future_dated_low_risk",
            DecisionCode::FutureDatedBlocked => "future_dated_blocked",
            DecisionCode::UnknownProductRisk => "unknown_product_risk",
        }
    }
}

impl fmt::Display for DecisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of a suitability check, with its reasons; store it as is for audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Whether the product may be proposed / offered / sold.
    pub allowed: bool,
    /// Why, as a stable code.
    pub code: DecisionCode,
    /// Where in the sales process the check was made.
    pub context: Context,
    /// The product risk level checked (1..=5 for a real product).
    pub product_risk: u8,
    /// The tolerance of the assessment given, valid or not (`None` without one).
    pub customer_tolerance: Option<RiskTolerance>,
    /// The date of the assessment given, valid or not.
    pub assessed_on: Option<NaiveDate>,
    /// The first day on which the given assessment is no longer valid.
    pub expires_on: Option<NaiveDate>,
    /// The assessment given is past its validity period.
    pub assessment_expired: bool,
    /// The customer has no assessment that can be relied on today
    /// (missing, expired or future-dated) and must be (re)assessed.
    pub needs_reassessment: bool,
    /// The reason, English, naming the numbers.
    pub reason_en: String,
    /// The reason, Chinese, naming the numbers.
    pub reason_zh: String,
}

/// The numeric level of a tolerance: C1 = 1 … C5 = 5.
pub fn tolerance_level(tolerance: RiskTolerance) -> u8 {
    match tolerance {
        RiskTolerance::C1 => 1,
        RiskTolerance::C2 => 2,
        RiskTolerance::C3 => 3,
        RiskTolerance::C4 => 4,
        RiskTolerance::C5 => 5,
    }
}

/// `"C1"` .. `"C5"`.
pub fn tolerance_label(tolerance: RiskTolerance) -> &'static str {
    match tolerance {
        RiskTolerance::C1 => "C1",
        RiskTolerance::C2 => "C2",
        RiskTolerance::C3 => "C3",
        RiskTolerance::C4 => "C4",
        RiskTolerance::C5 => "C5",
    }
}

/// The first day on which `assessment` is no longer valid:
/// `assessed_on + validity_days` (saturating at the calendar limits).
pub fn expires_on(policy: &SuitabilityPolicy, assessment: &Assessment) -> NaiveDate {
    TimeDelta::try_days(policy.validity_days)
        .and_then(|d| assessment.assessed_on.checked_add_signed(d))
        .unwrap_or(if policy.validity_days > 0 {
            NaiveDate::MAX
        } else {
            NaiveDate::MIN
        })
}

/// Whether `assessment` is past its validity period on `today`
/// (`today >= expires_on`). A future-dated assessment is not "expired" but
/// is not valid either; see [`is_valid_on`].
pub fn is_expired(policy: &SuitabilityPolicy, assessment: &Assessment, today: NaiveDate) -> bool {
    today >= expires_on(policy, assessment)
}

/// Whether `assessment` is dated after `today` (a data error).
pub fn is_future_dated(assessment: &Assessment, today: NaiveDate) -> bool {
    assessment.assessed_on > today
}

/// Whether `assessment` can be relied on today: `assessed_on <= today < expires_on`.
pub fn is_valid_on(policy: &SuitabilityPolicy, assessment: &Assessment, today: NaiveDate) -> bool {
    !is_future_dated(assessment, today) && !is_expired(policy, assessment, today)
}

/// Applies the suitability rule (see the module docs) to a product of risk
/// `product_risk` (1..=5) and the customer's latest `assessment`, if any.
pub fn check(
    policy: &SuitabilityPolicy,
    product_risk: u8,
    assessment: Option<&Assessment>,
    today: NaiveDate,
    context: Context,
) -> Decision {
    let verb = context.verb_en();
    let verb_zh = context.verb_zh();
    let risk = format!("R{product_risk}");
    let low_risk = product_risk == 1;

    let expires = assessment.map(|a| expires_on(policy, a));
    let expired = assessment.is_some_and(|a| is_expired(policy, a, today));
    let future = assessment.is_some_and(|a| is_future_dated(a, today));
    let needs_reassessment = assessment.is_none() || expired || future;

    let (allowed, code, reason_en, reason_zh) = if !(1..=5).contains(&product_risk) {
        (
            false,
            DecisionCode::UnknownProductRisk,
            format!(
                "product risk level {product_risk} is not a known level (R1–R5); the product may not be {verb} until the catalogue is corrected"
            ),
            format!("产品风险等级{product_risk}无效（应为R1–R5），在产品目录更正前不得{verb_zh}"),
        )
    } else {
        match assessment {
            None if low_risk => (
                true,
                DecisionCode::NoAssessmentLowRisk,
                format!(
                    "no risk assessment on file; R1 products may be {verb} without one, but the customer should be assessed"
                ),
                format!("客户尚无风险承受能力评估；R1产品可以{verb_zh}，但应尽快完成评估"),
            ),
            None => (
                false,
                DecisionCode::NoAssessmentBlocked,
                format!(
                    "product risk {risk} needs a valid risk assessment and the customer has none; it may not be {verb} (only R1 products are allowed until the customer is assessed)"
                ),
                format!(
                    "客户尚无风险承受能力评估，不得{verb_zh}{risk}产品；完成评估前仅可{verb_zh}R1产品"
                ),
            ),
            Some(a) => {
                let tol = tolerance_label(a.tolerance);
                let on = a.assessed_on;
                let exp = expires_on(policy, a);
                if future {
                    if low_risk {
                        (
                            true,
                            DecisionCode::FutureDatedLowRisk,
                            format!(
                                "the risk assessment ({tol}) is dated {on}, after today ({today}), so it cannot be relied on; R1 products may still be {verb}, but the customer must be reassessed"
                            ),
                            format!(
                                "客户风险承受能力评估（{tol}）的评估日期{on}晚于今天（{today}），不能作为依据；R1产品仍可{verb_zh}，但须核实并重新评估"
                            ),
                        )
                    } else {
                        (
                            false,
                            DecisionCode::FutureDatedBlocked,
                            format!(
                                "product risk {risk} may not be {verb}: the risk assessment ({tol}) is dated {on}, after today ({today}), so it cannot be relied on; reassess the customer first"
                            ),
                            format!(
                                "客户风险承受能力评估（{tol}）的评估日期{on}晚于今天（{today}），不能作为依据，不得{verb_zh}{risk}产品，须先重新评估"
                            ),
                        )
                    }
                } else if expired {
                    if low_risk {
                        (
                            true,
                            DecisionCode::ExpiredLowRisk,
                            format!(
                                "the risk assessment ({tol}, assessed {on}) expired on {exp}; R1 products may still be {verb}, but the customer must be reassessed"
                            ),
                            format!(
                                "客户风险承受能力评估（{tol}，评估日期{on}）已于{exp}失效；R1产品仍可{verb_zh}，但须重新评估"
                            ),
                        )
                    } else {
                        (
                            false,
                            DecisionCode::ExpiredBlocked,
                            format!(
                                "product risk {risk} may not be {verb}: the risk assessment ({tol}, assessed {on}) expired on {exp}; reassess the customer first"
                            ),
                            format!(
                                "客户风险承受能力评估（{tol}，评估日期{on}）已于{exp}失效，不得{verb_zh}{risk}产品，须先重新评估"
                            ),
                        )
                    }
                } else if product_risk <= tolerance_level(a.tolerance) {
                    (
                        true,
                        DecisionCode::WithinTolerance,
                        format!(
                            "product risk {risk} is within the customer's tolerance {tol} (assessed {on}, expires {exp})"
                        ),
                        format!(
                            "产品风险等级{risk}未超过客户风险承受能力{tol}（评估日期{on}，{exp}失效）"
                        ),
                    )
                } else {
                    (
                        false,
                        DecisionCode::AboveTolerance,
                        format!(
                            "product risk {risk} exceeds the customer's tolerance {tol} (assessed {on}); it may not be {verb}"
                        ),
                        format!(
                            "产品风险等级{risk}高于客户风险承受能力{tol}（评估日期{on}），不得{verb_zh}"
                        ),
                    )
                }
            }
        }
    };

    Decision {
        allowed,
        code,
        context,
        product_risk,
        customer_tolerance: assessment.map(|a| a.tolerance),
        assessed_on: assessment.map(|a| a.assessed_on),
        expires_on: expires,
        assessment_expired: expired,
        needs_reassessment,
        reason_en,
        reason_zh,
    }
}

/// [`check`] for a catalogue product.
pub fn check_product(
    policy: &SuitabilityPolicy,
    product: &Product,
    assessment: Option<&Assessment>,
    today: NaiveDate,
    context: Context,
) -> Decision {
    check(policy, product.risk.get(), assessment, today, context)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn assessed(t: RiskTolerance, on: &str) -> Assessment {
        Assessment {
            tolerance: t,
            assessed_on: d(on),
        }
    }

    const P: SuitabilityPolicy = SuitabilityPolicy { validity_days: 365 };

    #[test]
    fn a_product_above_tolerance_is_blocked_with_the_numbers_in_the_reason() {
        let a = assessed(RiskTolerance::C2, "2025-03-01");
        let dec = check(&P, 3, Some(&a), d("2025-06-01"), Context::Sell);
        assert!(!dec.allowed);
        assert_eq!(dec.code, DecisionCode::AboveTolerance);
        assert!(!dec.needs_reassessment);
        assert!(
            dec.reason_en.contains(
                "product risk R3 exceeds the customer's tolerance C2 (assessed 2025-03-01)"
            ),
            "{}",
            dec.reason_en
        );
        assert!(
            dec.reason_zh
                .contains("产品风险等级R3高于客户风险承受能力C2（评估日期2025-03-01）"),
            "{}",
            dec.reason_zh
        );
    }

    #[test]
    fn a_product_at_tolerance_is_allowed() {
        let a = assessed(RiskTolerance::C3, "2025-03-01");
        let dec = check(&P, 3, Some(&a), d("2025-03-01"), Context::Propose);
        assert!(dec.allowed);
        assert_eq!(dec.code, DecisionCode::WithinTolerance);
        assert_eq!(dec.customer_tolerance, Some(RiskTolerance::C3));
        assert_eq!(dec.expires_on, Some(d("2026-03-01")));
    }

    #[test]
    fn c5_may_buy_r5() {
        let a = assessed(RiskTolerance::C5, "2025-01-10");
        let dec = check(&P, 5, Some(&a), d("2025-12-31"), Context::Sell);
        assert!(dec.allowed);
        assert_eq!(dec.code, DecisionCode::WithinTolerance);
    }

    #[test]
    fn the_assessment_is_valid_on_its_last_day_and_expired_on_the_expiry_day() {
        let a = assessed(RiskTolerance::C4, "2024-03-01");
        // 2024 is a leap year: 2024-03-01 + 365 days = 2025-03-01.
        assert_eq!(expires_on(&P, &a), d("2025-03-01"));
        let last = check(&P, 4, Some(&a), d("2025-02-28"), Context::Offer);
        assert!(last.allowed && !last.assessment_expired && !last.needs_reassessment);
        let gone = check(&P, 4, Some(&a), d("2025-03-01"), Context::Offer);
        assert!(!gone.allowed);
        assert_eq!(gone.code, DecisionCode::ExpiredBlocked);
        assert!(gone.assessment_expired && gone.needs_reassessment);
        assert!(
            gone.reason_en.contains("expired on 2025-03-01"),
            "{}",
            gone.reason_en
        );
        assert!(
            gone.reason_zh.contains("已于2025-03-01失效"),
            "{}",
            gone.reason_zh
        );
        assert!(is_expired(&P, &a, d("2025-03-01")));
        assert!(!is_expired(&P, &a, d("2025-02-28")));
    }

    #[test]
    fn r1_stays_allowed_with_an_expired_or_missing_assessment_but_asks_for_reassessment() {
        let a = assessed(RiskTolerance::C3, "2020-01-01");
        let dec = check(&P, 1, Some(&a), d("2025-01-01"), Context::Sell);
        assert!(dec.allowed && dec.needs_reassessment && dec.assessment_expired);
        assert_eq!(dec.code, DecisionCode::ExpiredLowRisk);
        let none = check(&P, 1, None, d("2025-01-01"), Context::Propose);
        assert!(none.allowed && none.needs_reassessment && !none.assessment_expired);
        assert_eq!(none.code, DecisionCode::NoAssessmentLowRisk);
        let blocked = check(&P, 2, None, d("2025-01-01"), Context::Propose);
        assert!(!blocked.allowed);
        assert_eq!(blocked.code, DecisionCode::NoAssessmentBlocked);
        assert!(blocked.reason_en.contains("R2"));
    }

    #[test]
    fn a_future_dated_assessment_cannot_be_relied_on() {
        let a = assessed(RiskTolerance::C5, "2025-06-02");
        let today = d("2025-06-01");
        assert!(!is_valid_on(&P, &a, today));
        let dec = check(&P, 2, Some(&a), today, Context::Offer);
        assert!(!dec.allowed && dec.needs_reassessment && !dec.assessment_expired);
        assert_eq!(dec.code, DecisionCode::FutureDatedBlocked);
        assert!(dec.reason_en.contains("2025-06-02") && dec.reason_en.contains("2025-06-01"));
        let r1 = check(&P, 1, Some(&a), today, Context::Offer);
        assert!(r1.allowed && r1.needs_reassessment);
        assert_eq!(r1.code, DecisionCode::FutureDatedLowRisk);
        // The day itself is fine.
        assert!(check(&P, 5, Some(&a), d("2025-06-02"), Context::Offer).allowed);
    }

    #[test]
    fn an_unknown_product_risk_is_never_allowed() {
        let a = assessed(RiskTolerance::C5, "2025-01-01");
        for risk in [0, 6, 255] {
            let dec = check(&P, risk, Some(&a), d("2025-02-01"), Context::Sell);
            assert!(!dec.allowed);
            assert_eq!(dec.code, DecisionCode::UnknownProductRisk);
        }
    }

    #[test]
    fn extreme_validity_periods_do_not_panic() {
        let a = assessed(RiskTolerance::C3, "2025-01-01");
        let forever = SuitabilityPolicy {
            validity_days: i64::MAX,
        };
        assert_eq!(expires_on(&forever, &a), NaiveDate::MAX);
        let never = SuitabilityPolicy {
            validity_days: i64::MIN,
        };
        assert!(!check(&never, 2, Some(&a), d("2025-01-01"), Context::Sell).allowed);
        let zero = SuitabilityPolicy { validity_days: 0 };
        assert!(is_expired(&zero, &a, d("2025-01-01")));
    }

    #[test]
    fn contexts_and_codes_have_stable_spellings() {
        assert_eq!(Context::Propose.as_str(), "propose");
        assert_eq!(Context::parse(" SELL "), Some(Context::Sell));
        assert_eq!(DecisionCode::ExpiredBlocked.as_str(), "expired_blocked");
        let dec = check(&P, 1, None, d("2025-01-01"), Context::Offer);
        let json = serde_json::to_value(&dec).unwrap();
        assert_eq!(json["code"], "no_assessment_low_risk");
        assert_eq!(json["context"], "offer");
        assert_eq!(SuitabilityPolicy::default().validity_days, 365);
    }
}
