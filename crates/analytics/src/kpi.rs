//! The bank's KPIs (docs/PRODUCT.md C13) over per-customer facts, for any group
//! of customers and any window, so the dashboard's tiles, trends and views
//! (by segment, branch, RM) are one computation.
//!
//! | KPI | definition over the window `[start, end]` | better |
//! |---|---|---|
//! | channel coverage | customers with a live consent on `end` (latest record per channel and purpose, not revoked) / customers on `end` | higher |
//! | demand response within 24 h | cases opened in the window first answered within 24 hours / cases opened in the window that were answered or have waited 24 hours by `end` | higher |
//! | information accuracy | customers on `end` without an open data-quality flag / customers on `end` (flags are the data's state now, so its trend moves only with the customers counted) | higher |
//! | satisfaction | CSAT answers in the window in the top two boxes / CSAT answers in the window | higher |
//! | churn rate | customers with an open account on `start` and none on `end` / customers with an open account on `start` | lower |
//! | churn reduction | (baseline churn rate − churn rate) / baseline churn rate, the baseline being the same window a year earlier | higher |
//! | repeat purchase rate | customers who opened a product in the window and had opened one before / customers who opened a product in the window | higher |
//! | referral rate | customers who joined in the window on a referral / customers who joined in the window (no data when no customer records a referral) | higher |
//! | product depth | products open on `end` per customer with an open account on `end` | higher |
//!
//! A customer "is there" on a day when they have no known join date or
//! joined on or before it. A figure without a denominator is `None` — the
//! dashboard shows "no data" rather than a zero.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use serde::Serialize;

/// One consent record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentFact {
    pub channel: String,
    pub purpose: String,
    pub granted: bool,
    pub recorded_on: NaiveDate,
    pub revoked_on: Option<NaiveDate>,
}

/// What the KPIs read of one customer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerFacts {
    pub customer_id: i64,
    /// First account opened (None: unknown, counted as always there).
    pub joined_on: Option<NaiveDate>,
    /// The customer joined on a referral.
    pub referred: bool,
    pub consents: Vec<ConsentFact>,
    /// A data-quality flag is open on the customer's record.
    pub flagged: bool,
    /// Accounts: (opened, closed).
    pub accounts: Vec<(Option<NaiveDate>, Option<NaiveDate>)>,
    /// Products held: (opened, closed).
    pub holdings: Vec<(Option<NaiveDate>, Option<NaiveDate>)>,
    /// CSAT answers: (day, score, scale).
    pub csat: Vec<(NaiveDate, i64, i64)>,
    /// Cases: (opened, first response), local times.
    pub cases: Vec<(NaiveDateTime, Option<NaiveDateTime>)>,
}

/// A KPI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kpi {
    ChannelCoverage,
    DemandResponse24h,
    InformationAccuracy,
    Satisfaction,
    ChurnRate,
    ChurnReduction,
    RepeatPurchaseRate,
    ReferralRate,
    ProductDepth,
}

impl Kpi {
    pub const ALL: [Kpi; 9] = [
        Kpi::ChannelCoverage,
        Kpi::DemandResponse24h,
        Kpi::InformationAccuracy,
        Kpi::Satisfaction,
        Kpi::ChurnRate,
        Kpi::ChurnReduction,
        Kpi::RepeatPurchaseRate,
        Kpi::ReferralRate,
        Kpi::ProductDepth,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kpi::ChannelCoverage => "channel_coverage",
            Kpi::DemandResponse24h => "demand_response_24h",
            Kpi::InformationAccuracy => "information_accuracy",
            Kpi::Satisfaction => "satisfaction",
            Kpi::ChurnRate => "churn_rate",
            Kpi::ChurnReduction => "churn_reduction",
            Kpi::RepeatPurchaseRate => "repeat_purchase_rate",
            Kpi::ReferralRate => "referral_rate",
            Kpi::ProductDepth => "product_depth",
        }
    }

    pub fn parse(s: &str) -> Option<Kpi> {
        Kpi::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Kpi::ChannelCoverage => "Channel coverage",
            Kpi::DemandResponse24h => "Demand answered within 24 h",
            Kpi::InformationAccuracy => "Information accuracy",
            Kpi::Satisfaction => "Satisfaction (CSAT)",
            Kpi::ChurnRate => "Churn rate",
            Kpi::ChurnReduction => "Churn reduction vs baseline",
            Kpi::RepeatPurchaseRate => "Repeat purchase rate",
            Kpi::ReferralRate => "Referral rate",
            Kpi::ProductDepth => "Products per customer",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Kpi::ChannelCoverage => "渠道覆盖率",
            Kpi::DemandResponse24h => "需求24小时响应率",
            Kpi::InformationAccuracy => "信息准确率",
            Kpi::Satisfaction => "客户满意度",
            Kpi::ChurnRate => "客户流失率",
            Kpi::ChurnReduction => "流失率较基期降幅",
            Kpi::RepeatPurchaseRate => "复购率",
            Kpi::ReferralRate => "转介绍率",
            Kpi::ProductDepth => "户均持有产品数",
        }
    }

    /// Whether a higher value is better.
    pub fn higher_is_better(self) -> bool {
        self != Kpi::ChurnRate
    }

    /// Whether the value is a share (shown as a percentage).
    pub fn is_share(self) -> bool {
        self != Kpi::ProductDepth
    }
}

/// A KPI's value with what it was computed from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Figure {
    pub value: Option<f64>,
    pub numerator: f64,
    pub denominator: f64,
}

impl Figure {
    fn ratio(num: f64, den: f64) -> Figure {
        Figure {
            value: (den > 0.0).then(|| num / den),
            numerator: num,
            denominator: den,
        }
    }
}

fn there(f: &CustomerFacts, day: NaiveDate) -> bool {
    f.joined_on.is_none_or(|j| j <= day)
}

fn open_on(span: &(Option<NaiveDate>, Option<NaiveDate>), day: NaiveDate) -> bool {
    span.0.is_none_or(|o| o <= day) && span.1.is_none_or(|c| c > day)
}

/// Whether any consent is live on `day`: per channel and purpose, the
/// latest record on or before the day grants it and is not revoked by then.
/// Records come in the store's order (day, then imported before recorded,
/// then as recorded), so of two records of one day the later one decides.
pub fn reachable_on(consents: &[ConsentFact], day: NaiveDate) -> bool {
    consents.iter().enumerate().any(|(i, c)| {
        c.granted
            && c.recorded_on <= day
            && c.revoked_on.is_none_or(|r| r > day)
            && !consents.iter().enumerate().any(|(j, n)| {
                n.channel == c.channel
                    && n.purpose == c.purpose
                    && n.recorded_on <= day
                    && (n.recorded_on > c.recorded_on || (n.recorded_on == c.recorded_on && j > i))
            })
    })
}

/// The value of one KPI for `group` over `[start, end]`.
pub fn figure(kpi: Kpi, group: &[&CustomerFacts], start: NaiveDate, end: NaiveDate) -> Figure {
    let mut num = 0.0;
    let mut den = 0.0;
    match kpi {
        Kpi::ChannelCoverage => {
            for f in group.iter().filter(|f| there(f, end)) {
                den += 1.0;
                if reachable_on(&f.consents, end) {
                    num += 1.0;
                }
            }
        }
        Kpi::DemandResponse24h => {
            let end_t = (end + Duration::days(1)).and_time(chrono::NaiveTime::MIN);
            for f in group {
                for (opened, answered) in &f.cases {
                    let d = opened.date();
                    if d < start || d > end {
                        continue;
                    }
                    let limit = *opened + Duration::hours(24);
                    match answered {
                        Some(a) if *a <= end_t => {
                            den += 1.0;
                            if *a <= limit {
                                num += 1.0;
                            }
                        }
                        _ if limit <= end_t => den += 1.0,
                        _ => {}
                    }
                }
            }
        }
        Kpi::InformationAccuracy => {
            for f in group.iter().filter(|f| there(f, end)) {
                den += 1.0;
                if !f.flagged {
                    num += 1.0;
                }
            }
        }
        Kpi::Satisfaction => {
            for f in group {
                for (d, score, scale) in &f.csat {
                    if *d >= start && *d <= end {
                        den += 1.0;
                        if *score >= scale - 1 {
                            num += 1.0;
                        }
                    }
                }
            }
        }
        Kpi::ChurnRate => {
            for f in group {
                if f.accounts.iter().any(|a| open_on(a, start)) {
                    den += 1.0;
                    if !f.accounts.iter().any(|a| open_on(a, end)) {
                        num += 1.0;
                    }
                }
            }
        }
        Kpi::ChurnReduction => {
            let now = figure(Kpi::ChurnRate, group, start, end);
            let base = figure(
                Kpi::ChurnRate,
                group,
                shift_year(start, -1),
                shift_year(end, -1),
            );
            return match (now.value, base.value) {
                (Some(n), Some(b)) if b > 0.0 => Figure {
                    value: Some((b - n) / b),
                    numerator: b - n,
                    denominator: b,
                },
                _ => Figure {
                    value: None,
                    numerator: 0.0,
                    denominator: 0.0,
                },
            };
        }
        Kpi::RepeatPurchaseRate => {
            for f in group {
                let opened: Vec<NaiveDate> = f.holdings.iter().filter_map(|h| h.0).collect();
                let in_window: Vec<NaiveDate> = opened
                    .iter()
                    .copied()
                    .filter(|d| *d >= start && *d <= end)
                    .collect();
                if let Some(first_in) = in_window.iter().min() {
                    den += 1.0;
                    // Bought before, or more than once within the window.
                    if opened.iter().any(|d| d < first_in) || in_window.len() > 1 {
                        num += 1.0;
                    }
                }
            }
        }
        Kpi::ReferralRate => {
            if !group.iter().any(|f| f.referred) {
                return Figure {
                    value: None,
                    numerator: 0.0,
                    denominator: 0.0,
                };
            }
            for f in group {
                if f.joined_on.is_some_and(|j| j >= start && j <= end) {
                    den += 1.0;
                    if f.referred {
                        num += 1.0;
                    }
                }
            }
        }
        Kpi::ProductDepth => {
            for f in group {
                if f.accounts.iter().any(|a| open_on(a, end)) {
                    den += 1.0;
                    num += f.holdings.iter().filter(|h| open_on(h, end)).count() as f64;
                }
            }
        }
    }
    Figure::ratio(num, den)
}

/// The same day a number of years later (29 February → 28 February).
pub fn shift_year(d: NaiveDate, years: i32) -> NaiveDate {
    let y = d.year() + years;
    NaiveDate::from_ymd_opt(y, d.month(), d.day())
        .or_else(|| NaiveDate::from_ymd_opt(y, d.month(), 28))
        .unwrap_or(d)
}

/// The calendar months ending with the month of `end`, oldest first, each
/// as (first day, last day — or `end` for the last month).
pub fn months(end: NaiveDate, n: usize) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out = Vec::with_capacity(n);
    let mut first = NaiveDate::from_ymd_opt(end.year(), end.month(), 1).unwrap_or(end);
    let mut last = end;
    for _ in 0..n {
        out.push((first, last));
        last = first - Duration::days(1);
        first = NaiveDate::from_ymd_opt(last.year(), last.month(), 1).unwrap_or(last);
    }
    out.reverse();
    out
}

/// Whether a value meets its target.
pub fn meets(kpi: Kpi, value: f64, target: f64) -> bool {
    if kpi.higher_is_better() {
        value >= target
    } else {
        value <= target
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn consent(ch: &str, granted: bool, on: &str, revoked: Option<&str>) -> ConsentFact {
        ConsentFact {
            channel: ch.into(),
            purpose: "marketing".into(),
            granted,
            recorded_on: d(on),
            revoked_on: revoked.map(d),
        }
    }

    #[test]
    fn coverage_follows_the_latest_record_and_revocations() {
        let a = CustomerFacts {
            customer_id: 1,
            consents: vec![consent("phone", true, "2024-01-01", None)],
            ..Default::default()
        };
        let b = CustomerFacts {
            customer_id: 2,
            consents: vec![
                consent("phone", true, "2024-01-01", None),
                consent("phone", false, "2024-03-01", None),
            ],
            ..Default::default()
        };
        let c = CustomerFacts {
            customer_id: 3,
            consents: vec![consent("wechat", true, "2024-01-01", Some("2024-02-01"))],
            ..Default::default()
        };
        let g = [&a, &b, &c];
        let f = figure(Kpi::ChannelCoverage, &g, d("2024-01-01"), d("2024-01-15"));
        assert_eq!((f.numerator, f.denominator), (3.0, 3.0));
        let f = figure(Kpi::ChannelCoverage, &g, d("2024-04-01"), d("2024-04-30"));
        assert_eq!(
            (f.numerator, f.denominator),
            (1.0, 3.0),
            "refused later, revoked"
        );
    }

    #[test]
    fn demand_response_counts_answered_and_overdue_cases() {
        let a = CustomerFacts {
            cases: vec![
                (t("2024-05-01 10:00"), Some(t("2024-05-01 15:00"))), // in time
                (t("2024-05-02 10:00"), Some(t("2024-05-04 09:00"))), // late
                (t("2024-05-30 10:00"), None),                        // overdue at end
                (t("2024-05-31 20:00"), None),                        // still within 24 h
                (t("2024-04-30 10:00"), Some(t("2024-04-30 11:00"))), // before the window
            ],
            ..Default::default()
        };
        let f = figure(
            Kpi::DemandResponse24h,
            &[&a],
            d("2024-05-01"),
            d("2024-05-31"),
        );
        assert_eq!((f.numerator, f.denominator), (1.0, 3.0));
    }

    #[test]
    fn churn_repeat_depth_satisfaction_and_referrals() {
        let stayed = CustomerFacts {
            customer_id: 1,
            joined_on: Some(d("2020-01-01")),
            accounts: vec![(Some(d("2020-01-01")), None)],
            holdings: vec![(Some(d("2020-01-01")), None), (Some(d("2024-05-10")), None)],
            csat: vec![(d("2024-05-03"), 5, 5), (d("2024-05-04"), 3, 5)],
            ..Default::default()
        };
        let left = CustomerFacts {
            customer_id: 2,
            joined_on: Some(d("2021-01-01")),
            accounts: vec![(Some(d("2021-01-01")), Some(d("2024-05-20")))],
            holdings: vec![(Some(d("2024-05-02")), Some(d("2024-05-20")))],
            csat: vec![(d("2024-05-05"), 4, 5)],
            ..Default::default()
        };
        let new = CustomerFacts {
            customer_id: 3,
            joined_on: Some(d("2024-05-15")),
            referred: true,
            accounts: vec![(Some(d("2024-05-15")), None)],
            holdings: vec![(Some(d("2024-05-15")), None)],
            ..Default::default()
        };
        let g = [&stayed, &left, &new];
        let (s, e) = (d("2024-05-01"), d("2024-05-31"));
        let churn = figure(Kpi::ChurnRate, &g, s, e);
        assert_eq!((churn.numerator, churn.denominator), (1.0, 2.0));
        let rep = figure(Kpi::RepeatPurchaseRate, &g, s, e);
        assert_eq!((rep.numerator, rep.denominator), (1.0, 3.0));
        let depth = figure(Kpi::ProductDepth, &g, s, e);
        assert_eq!((depth.numerator, depth.denominator), (3.0, 2.0));
        let sat = figure(Kpi::Satisfaction, &g, s, e);
        assert_eq!((sat.numerator, sat.denominator), (2.0, 3.0));
        let refs = figure(Kpi::ReferralRate, &g, s, e);
        assert_eq!((refs.numerator, refs.denominator), (1.0, 1.0));
        let none = figure(Kpi::ReferralRate, &[&stayed, &left], s, e);
        assert_eq!(none.value, None, "no referral data at all: no figure");
    }

    #[test]
    fn churn_reduction_against_the_same_window_a_year_before() {
        let mut group = Vec::new();
        // Last year 4 of 10 left in May; this year 2 of 10.
        for i in 0..10 {
            let closed = if i < 4 {
                Some(d("2023-05-15"))
            } else if i < 6 {
                Some(d("2024-05-15"))
            } else {
                None
            };
            group.push(CustomerFacts {
                customer_id: i,
                accounts: vec![(Some(d("2020-01-01")), closed)],
                ..Default::default()
            });
        }
        let g: Vec<&CustomerFacts> = group.iter().collect();
        let f = figure(Kpi::ChurnReduction, &g, d("2024-05-01"), d("2024-05-31"));
        // 2/6 now vs 4/10 then: (0.4 − 0.333) / 0.4.
        assert!((f.value.unwrap() - (0.4 - 2.0 / 6.0) / 0.4).abs() < 1e-12);
        assert!(meets(Kpi::ChurnRate, 0.1, 0.2));
        assert!(!meets(Kpi::ChannelCoverage, 0.8, 0.9));
    }

    #[test]
    fn months_end_with_the_given_day() {
        let m = months(d("2024-03-15"), 3);
        assert_eq!(
            m,
            vec![
                (d("2024-01-01"), d("2024-01-31")),
                (d("2024-02-01"), d("2024-02-29")),
                (d("2024-03-01"), d("2024-03-15")),
            ]
        );
        assert_eq!(shift_year(d("2024-02-29"), -1), d("2023-02-28"));
    }
}
