//! The feature catalogue: every feature's name, kind, unit and definition,
//! in output column order. docs/FEATURES.md documents the same list (a test
//! checks that every name is there).

/// What kind of number a feature is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    /// A whole number of things.
    Count,
    /// An amount in major units (minor units / 100) of the account currency.
    Money,
    /// A number of days.
    Days,
    /// A number of months (whole, or a fraction for ratios of money to monthly spending).
    Months,
    /// A whole number of years.
    Years,
    /// A dimensionless ratio or share.
    Ratio,
    /// A survey score.
    Score,
}

/// One feature of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FeatureSpec {
    pub name: &'static str,
    pub kind: FeatureKind,
    pub unit: &'static str,
    pub definition: &'static str,
}

/// Identifies a feature in the engine (same order as [`FEATURES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Feature {
    TxnCount30,
    TxnCount90,
    Inflow90,
    Outflow90,
    MaxOutflow90,
    DaysSinceLastTxn,
    BalanceNow,
    SalaryMonths6,
    AvgMonthlyInflow6m,
    LiquidityMonths,
    InflowCv6m,
    InflowTrend3m,
    DebtServiceRatio,
    CreditUtilisation,
    MaxDaysPastDue,
    ProductDepth,
    TenureMonths,
    AgeYears,
    DigitalShare90,
    CashWithdrawals30,
    CashWithdrawals90,
    CashWithdrawalTrend,
    Complaints90,
    Interactions90,
    LastNps,
    TxnCount1,
    Outflow1,
    MaxOutflow1,
    DaysSinceSalary,
    Balance30Ago,
    Aum,
    SalaryGapDays,
    NetOutflow90,
    DrainedShare90,
}

const fn spec(
    name: &'static str,
    kind: FeatureKind,
    unit: &'static str,
    definition: &'static str,
) -> FeatureSpec {
    FeatureSpec {
        name,
        kind,
        unit,
        definition,
    }
}

use FeatureKind::*;

/// Every feature, in output column order, with [`Feature`] in the same order.
pub(crate) const CATALOG: &[(Feature, FeatureSpec)] = &[
    (
        Feature::TxnCount30,
        spec(
            "txn_count_30",
            Count,
            "transactions",
            "transactions booked in [D-30, D) on the customer's accounts",
        ),
    ),
    (
        Feature::TxnCount90,
        spec(
            "txn_count_90",
            Count,
            "transactions",
            "transactions booked in [D-90, D) on the customer's accounts",
        ),
    ),
    (
        Feature::Inflow90,
        spec(
            "inflow_90",
            Money,
            "major currency units",
            "sum of amount over transactions in [D-90, D) with amount > 0",
        ),
    ),
    (
        Feature::Outflow90,
        spec(
            "outflow_90",
            Money,
            "major currency units",
            "sum of -amount over transactions in [D-90, D) with amount < 0",
        ),
    ),
    (
        Feature::MaxOutflow90,
        spec(
            "max_outflow_90",
            Money,
            "major currency units",
            "largest -amount over transactions in [D-90, D) with amount < 0; 0 when none",
        ),
    ),
    (
        Feature::DaysSinceLastTxn,
        spec(
            "days_since_last_txn",
            Days,
            "days",
            "D minus the latest booked_on before D; empty when none",
        ),
    ),
    (
        Feature::BalanceNow,
        spec(
            "balance_now",
            Money,
            "major currency units",
            "sum over open deposit accounts of the balance_after of the latest transaction before D, else the account's balance",
        ),
    ),
    (
        Feature::SalaryMonths6,
        spec(
            "salary_months_6",
            Count,
            "months (0-6)",
            "of the 6 whole calendar months before D's month, those with a salary transaction",
        ),
    ),
    (
        Feature::AvgMonthlyInflow6m,
        spec(
            "avg_monthly_inflow_6m",
            Money,
            "major currency units per month",
            "sum of amount > 0 over the 6 whole calendar months before D's month, divided by 6",
        ),
    ),
    (
        Feature::LiquidityMonths,
        spec(
            "liquidity_months",
            Months,
            "months",
            "balance_now / (outflow_90 / 3); empty when either is empty or outflow_90 = 0",
        ),
    ),
    (
        Feature::InflowCv6m,
        spec(
            "inflow_cv_6m",
            Ratio,
            "ratio",
            "population standard deviation / mean of the monthly inflows of the 6 whole months before D's month; empty when the mean is 0",
        ),
    ),
    (
        Feature::InflowTrend3m,
        spec(
            "inflow_trend_3m",
            Ratio,
            "ratio",
            "inflow of the last 3 whole months before D's month / inflow of the 3 months before those; empty when the latter is 0",
        ),
    ),
    (
        Feature::DebtServiceRatio,
        spec(
            "debt_service_ratio",
            Ratio,
            "ratio",
            "sum of monthly_payment of the loans active at D / avg_monthly_inflow_6m; empty when the income is 0",
        ),
    ),
    (
        Feature::CreditUtilisation,
        spec(
            "credit_utilisation",
            Ratio,
            "ratio",
            "over card accounts with a statement before D and a credit limit > 0: sum of the latest statement's bill_amount / sum of credit limits",
        ),
    ),
    (
        Feature::MaxDaysPastDue,
        spec(
            "max_days_past_due",
            Days,
            "days",
            "max of days_past_due over loans granted before D and card statements of months in [D-365, D); empty when none",
        ),
    ),
    (
        Feature::ProductDepth,
        spec(
            "product_depth",
            Count,
            "products",
            "distinct types of accounts open at D + cards held issued before D + loans active at D",
        ),
    ),
    (
        Feature::TenureMonths,
        spec(
            "tenure_months",
            Months,
            "whole months",
            "whole calendar months from the earliest opened_on (before D) of the customer's accounts to D; empty when none",
        ),
    ),
    (
        Feature::AgeYears,
        spec(
            "age_years",
            Years,
            "whole years",
            "whole years from birth_date to D; empty when unknown or not before D",
        ),
    ),
    (
        Feature::DigitalShare90,
        spec(
            "digital_share_90",
            Ratio,
            "share (0-1)",
            "share of the transactions in [D-90, D) whose channel is online, mobile or wechat; empty when none",
        ),
    ),
    (
        Feature::CashWithdrawals30,
        spec(
            "cash_withdrawals_30",
            Count,
            "transactions",
            "transactions of category cash_withdrawal in [D-30, D)",
        ),
    ),
    (
        Feature::CashWithdrawals90,
        spec(
            "cash_withdrawals_90",
            Count,
            "transactions",
            "transactions of category cash_withdrawal in [D-90, D)",
        ),
    ),
    (
        Feature::CashWithdrawalTrend,
        spec(
            "cash_withdrawal_trend",
            Ratio,
            "ratio",
            "cash_withdrawals_30 / (cash_withdrawals_90 / 3); empty when cash_withdrawals_90 = 0",
        ),
    ),
    (
        Feature::Complaints90,
        spec(
            "complaints_90",
            Count,
            "cases",
            "service cases of kind complaint opened in [D-90, D)",
        ),
    ),
    (
        Feature::Interactions90,
        spec(
            "interactions_90",
            Count,
            "contacts",
            "interactions with the customer that occurred in [D-90, D)",
        ),
    ),
    (
        Feature::LastNps,
        spec(
            "last_nps",
            Score,
            "score (0-10)",
            "score of the latest nps survey answer with a score before D; empty when none",
        ),
    ),
    (
        Feature::TxnCount1,
        spec(
            "txn_count_1",
            Count,
            "transactions",
            "transactions booked in [D-1, D) (the last day) on the customer's accounts",
        ),
    ),
    (
        Feature::Outflow1,
        spec(
            "outflow_1",
            Money,
            "major currency units",
            "sum of -amount over transactions in [D-1, D) with amount < 0",
        ),
    ),
    (
        Feature::MaxOutflow1,
        spec(
            "max_outflow_1",
            Money,
            "major currency units",
            "largest -amount over transactions in [D-1, D) with amount < 0; 0 when none",
        ),
    ),
    (
        Feature::DaysSinceSalary,
        spec(
            "days_since_salary",
            Days,
            "days",
            "D minus the latest booked_on before D of a salary transaction; empty when none",
        ),
    ),
    (
        Feature::Balance30Ago,
        spec(
            "balance_30_ago",
            Money,
            "major currency units",
            "balance_now as of D-30 over the deposit accounts opened before D-30 (or undated) \
             and not closed before it; an account with no transaction before D-30 counts 0 when \
             it has transactions in [D-30, D), else its balance column; empty when no account",
        ),
    ),
    (
        Feature::Aum,
        spec(
            "aum",
            Money,
            "major currency units",
            "assets under management: balance_now plus the amounts of the product holdings \
             open at D (opened before D or undated, not closed before D); empty when neither",
        ),
    ),
    (
        Feature::SalaryGapDays,
        spec(
            "salary_gap_days",
            Days,
            "days",
            "for a customer paid a salary in at least 2 of the 6 whole months before D's month: \
             D minus the latest salary day (how long the salary has been missing); empty otherwise",
        ),
    ),
    (
        Feature::NetOutflow90,
        spec(
            "net_outflow_90",
            Money,
            "major currency units",
            "outflow_90 - inflow_90: how much more left the customer's accounts than came in \
             over [D-90, D); negative when the customer saved",
        ),
    ),
    (
        Feature::DrainedShare90,
        spec(
            "drained_share_90",
            Ratio,
            "share (0-1)",
            "the share of the money of 90 days ago that left: net_outflow_90 / (max(balance_now, 0) \
             + net_outflow_90) when net_outflow_90 > 0 (balance_now empty counts 0); 0 otherwise",
        ),
    ),
];

/// Every feature, in output column order.
pub const FEATURES: &[FeatureSpec] = &{
    let mut out = [spec("", Count, "", ""); CATALOG.len()];
    let mut i = 0;
    while i < CATALOG.len() {
        out[i] = CATALOG[i].1;
        i += 1;
    }
    out
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_names_are_unique_snake_case() {
        let mut names: Vec<&str> = FEATURES.iter().map(|f| f.name).collect();
        assert!(names.iter().all(|n| !n.is_empty()
            && n.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FEATURES.len());
    }

    #[test]
    fn every_feature_is_documented_in_features_md() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/FEATURES.md");
        let doc = std::fs::read_to_string(&path).unwrap_or_default();
        for f in FEATURES {
            assert!(
                doc.contains(&format!("`{}`", f.name)),
                "{} is not documented in docs/FEATURES.md",
                f.name
            );
        }
    }
}
