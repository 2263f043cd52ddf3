//! Customer health: a configurable scorecard (TOML) turns a customer's
//! features into a score from 0 to 100, a band and the top factors that pull
//! the score down. docs/SCORECARD.md documents the file and the arithmetic.
//!
//! Owns the scorecard definition and its validation (`definition`), the
//! shipped default (`crates/analytics/config/scorecard.toml`, embedded), the
//! scoring of a [`crate::FeatureTable`] (`scorecard`) and the factors' labels
//! (`label`). Must never touch
//! the store, read files or decide anything about persistence: the caller
//! reads a user's scorecard file and stores the results.

mod definition;
mod label;
mod scorecard;

pub use definition::{ScorecardError, ScorecardProblem};
pub use label::FactorLabel;
pub use scorecard::{Scorecard, DEFAULT_SCORECARD_TOML};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// The health band of a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Healthy,
    Watch,
    AtRisk,
}

impl Band {
    /// Every band, healthiest first.
    pub const ALL: [Band; 3] = [Band::Healthy, Band::Watch, Band::AtRisk];

    /// The stored code: `healthy`, `watch` or `at_risk`.
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Healthy => "healthy",
            Band::Watch => "watch",
            Band::AtRisk => "at_risk",
        }
    }
}

impl fmt::Display for Band {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A band code that is not `healthy`, `watch` or `at_risk`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown band {0:?} (expected healthy, watch or at_risk)")]
pub struct UnknownBand(pub String);

impl FromStr for Band {
    type Err = UnknownBand;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Band::ALL
            .into_iter()
            .find(|b| b.as_str() == s)
            .ok_or_else(|| UnknownBand(s.to_string()))
    }
}

/// One customer's health as of a date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthScore {
    /// 0–100, rounded to one decimal; higher is healthier.
    pub score: f64,
    /// The band of the rounded score.
    pub band: Band,
    /// The terms that cost the most points, largest first; at most three,
    /// only terms that cost something (a perfect score has none).
    pub factors: Vec<HealthFactor>,
}

/// The transactions behind a factor: those booked in `[from, to)` on the
/// customer's accounts that `transactions` admits (the salary credits, the
/// money going out, or all). Derived from the feature's definition
/// (docs/FEATURES.md) and its value as of the scoring date, so that the 360
/// can list them (`Store::triggering_transactions`, then [`Self::admits`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactorEvidence {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub transactions: EvidenceKind,
}

/// Which transactions of a factor's window are its evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// Credits of category `salary`.
    Salary,
    /// Money going out (amount < 0).
    Outflows,
    /// Every transaction.
    All,
}

impl FactorEvidence {
    /// The evidence of `feature` with `value` as of `as_of`, for the
    /// features whose value comes from identifiable transactions; `None`
    /// for the others (ratios of balances, counts of products …).
    pub fn of(feature: &str, as_of: NaiveDate, value: f64) -> Option<FactorEvidence> {
        let back = |days: f64| {
            (days.is_finite() && days >= 0.0)
                .then(|| as_of.checked_sub_days(chrono::Days::new(days as u64)))
                .flatten()
        };
        let on_day = |kind: EvidenceKind| {
            let day = back(value)?;
            Some(FactorEvidence {
                from: day,
                to: day.succ_opt()?,
                transactions: kind,
            })
        };
        let window = |days: f64, kind: EvidenceKind| {
            Some(FactorEvidence {
                from: back(days)?,
                to: as_of,
                transactions: kind,
            })
        };
        match feature {
            "days_since_salary" | "salary_gap_days" => on_day(EvidenceKind::Salary),
            "days_since_last_txn" => on_day(EvidenceKind::All),
            "net_outflow_90" | "drained_share_90" | "outflow_90" | "max_outflow_90" => {
                window(90.0, EvidenceKind::Outflows)
            }
            "outflow_1" | "max_outflow_1" => window(1.0, EvidenceKind::Outflows),
            _ => None,
        }
    }

    /// Whether a transaction of the window (amount in minor units, its
    /// category code) is evidence.
    pub fn admits(&self, amount: i64, category: &str) -> bool {
        match self.transactions {
            EvidenceKind::Salary => category == "salary",
            EvidenceKind::Outflows => amount < 0,
            EvidenceKind::All => true,
        }
    }
}

/// One term (or deduction) of the scorecard and what it did to a
/// customer's score. Serialised as JSON in `health_score.factors`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthFactor {
    /// Component name, e.g. `liquidity` (shared, not copied, per factor).
    pub component: Arc<str>,
    /// Feature name, e.g. `liquidity_months`.
    pub feature: Arc<str>,
    /// The feature's value; `None` when missing (the term's `missing` points applied).
    pub value: Option<f64>,
    /// The term's points, 0–100 (rounded to one decimal).
    pub points: f64,
    /// Score points this term costs: its share of the weight × (100 − points),
    /// rounded to two decimals. The score is 100 minus the sum over all terms.
    pub impact: f64,
    /// For people: "liquidity: 0.4 months of spending covered" (written out
    /// when displayed or serialised).
    pub label: FactorLabel,
    /// The same in Chinese ("流动性：存款可覆盖 0.4 个月支出"), when the
    /// scorecard gives the term Chinese words (the shipped one does for all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_zh: Option<FactorLabel>,
    /// The transactions behind the factor, when its feature comes from
    /// identifiable ones and the score has an as-of date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<FactorEvidence>,
}
