//! Asset tiers: mass, affluent and high net worth, cut on the `aum` feature
//! at configurable thresholds (docs/SEGMENTS.md explains the defaults).
//!
//! Owns the tier codes and the cut. Must never decide the thresholds (they
//! come from the configuration) nor treat a missing `aum` as anything but
//! mass (and counted as such, so the caller can report it).

use serde::Serialize;
use std::fmt;

/// A customer's asset tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Mass,
    Affluent,
    HighNetWorth,
}

impl Tier {
    /// Every tier, lowest first.
    pub const ALL: [Tier; 3] = [Tier::Mass, Tier::Affluent, Tier::HighNetWorth];

    /// The code used in rules and segment codes: `mass`, `affluent`, `high_net_worth`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Mass => "mass",
            Tier::Affluent => "affluent",
            Tier::HighNetWorth => "high_net_worth",
        }
    }

    /// The English name shown to people.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Mass => "Mass",
            Tier::Affluent => "Affluent",
            Tier::HighNetWorth => "High net worth",
        }
    }

    /// The Chinese name shown to people.
    pub fn name_zh(self) -> &'static str {
        match self {
            Tier::Mass => "大众客户",
            Tier::Affluent => "富裕客户",
            Tier::HighNetWorth => "高净值客户",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the tiers start, in major units of money: affluent from
/// `affluent_from` (inclusive), high net worth from `high_net_worth_from`
/// (inclusive). Validated by the configuration: both positive, increasing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TierThresholds {
    pub affluent_from: f64,
    pub high_net_worth_from: f64,
}

impl TierThresholds {
    /// The tier of an `aum` value; a missing (or not finite) value is mass.
    pub fn tier_of(&self, aum: Option<f64>) -> Tier {
        match aum {
            Some(a) if a.is_finite() && a >= self.high_net_worth_from => Tier::HighNetWorth,
            Some(a) if a.is_finite() && a >= self.affluent_from => Tier::Affluent,
            _ => Tier::Mass,
        }
    }

    /// The definition of `tier` as text, for the segment's `definition`.
    pub fn definition(&self, tier: Tier) -> String {
        let (a, h) = (self.affluent_from, self.high_net_worth_from);
        match tier {
            Tier::Mass => format!("aum < {a} or aum missing"),
            Tier::Affluent => format!("aum >= {a} and aum < {h}"),
            Tier::HighNetWorth => format!("aum >= {h}"),
        }
    }
}

/// Every row's tier, and how many rows had no `aum` (counted as mass).
#[derive(Debug, Clone, PartialEq)]
pub struct TierAssignment {
    pub tier_of_row: Vec<Tier>,
    pub missing_aum: usize,
}

/// Cuts every row of an `aum` column into tiers.
pub fn assign_tiers(thresholds: &TierThresholds, aum: &[Option<f64>]) -> TierAssignment {
    let tier_of_row = aum.iter().map(|&a| thresholds.tier_of(a)).collect();
    let missing_aum = aum
        .iter()
        .filter(|a| !a.is_some_and(f64::is_finite))
        .count();
    TierAssignment {
        tier_of_row,
        missing_aum,
    }
}
