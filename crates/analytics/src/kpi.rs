//! The bank's KPIs (docs/PRODUCT.md C13, docs/KPIS.md) over per-customer facts,
//! for any group of customers and any window. This is the only place a KPI
//! is computed: the dashboard's tiles, the `/kpis` page, `GET /api/v1/kpis`,
//! `GET /api/v1/dashboard`, `rapport kpi` and the quality report's
//! information accuracy all read [`figure`] through `rapport_services::kpi`.
//!
//! | KPI | definition over the window `[start, end]` | better |
//! |---|---|---|
//! | channel coverage | customers with a live consent on `end` (latest record per channel and purpose, not revoked) / customers on `end` | higher |
//! | demand response within 24 h | cases opened in the window first answered in time (the case SLA's first-response clock: 24 calendar hours unless the policy chooses working hours) / those answered or overdue | higher |
//! | information accuracy | valid identifying and contact cells of the customers on `end` / cells supplied (valid + flagged), plus, for the whole bank, one wrong cell per quarantined customer row | higher |
//! | satisfaction | CSAT answers in the window in the top two boxes / CSAT answers in the window | higher |
//! | churn rate | customers with an open account on `start` and none on `end` / customers with an open account on `start` | lower |
//! | churn reduction | (baseline churn rate − churn rate) / baseline churn rate, the baseline being the same window a year earlier | higher |
//! | repeat purchase rate | customers who opened a product in the window and had opened one before / customers who opened a product in the window | higher |
//! | referral rate | customers who joined in the window on a referral / customers who joined in the window (no data when no customer records a referral) | higher |
//! | product depth | products open on `end` per customer with an open account on `end` | higher |
//! | health distribution (healthy, watch, at risk) | customers in the band at their latest scoring describing `end` or earlier / customers scored by then | healthy higher, others lower |
//! | alerts acknowledged within 24 h | alerts raised in the window acknowledged within 24 calendar hours / those acknowledged or waiting 24 hours or more | higher |
//! | case SLA attainment | cases whose resolution fell due or was made in the window, resolved within their SLA / those cases | higher |
//!
//! A customer "is there" on a day when they have no known join date or
//! joined on or before it. A figure without a denominator is `None` — the
//! dashboard shows "no data" rather than a zero. Whether a case or an alert
//! was answered in time is decided by the SLA clock (`rapport_engage::sla`)
//! when the facts are read; this module counts the outcomes.

use chrono::{Datelike, Duration, NaiveDate};
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

/// Whether something was done in time, decided by its clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InTime {
    /// Done within its target.
    Met,
    /// Done late, or not done and past its target.
    Missed,
    /// Not done, still within its target: not counted yet.
    Pending,
}

/// One case handled in Rapport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseFact {
    /// The day the case was opened (local).
    pub opened_on: NaiveDate,
    /// The first response against the first-response target.
    pub response: InTime,
    /// The resolution: the day it was decided (resolved, or the target
    /// passed unresolved) and whether it met the target; `None` while the
    /// case is open and within its target.
    pub resolution: Option<(NaiveDate, bool)>,
}

/// One early-warning alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertFact {
    pub raised_on: NaiveDate,
    /// Acknowledged (moved out of `new`) within 24 hours of being raised.
    pub acknowledged: InTime,
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
    /// Identifying and contact cells (name, gender, birth date, ID number,
    /// phone, e-mail: `rapport_store::ACCURACY_COLUMNS`) stored valid.
    pub cells_valid: i64,
    /// Those cells supplied but flagged invalid (stored as missing).
    pub cells_flagged: i64,
    /// Accounts: (opened, closed).
    pub accounts: Vec<(Option<NaiveDate>, Option<NaiveDate>)>,
    /// Products held: (opened, closed).
    pub holdings: Vec<(Option<NaiveDate>, Option<NaiveDate>)>,
    /// CSAT answers: (day, score, scale).
    pub csat: Vec<(NaiveDate, i64, i64)>,
    /// Cases handled in Rapport.
    pub cases: Vec<CaseFact>,
    /// Alerts raised on the customer.
    pub alerts: Vec<AlertFact>,
    /// Health bands: (last day of data the scoring describes, band), oldest first.
    pub health: Vec<(NaiveDate, Band)>,
}

/// A health band (the scorecard's bands).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Healthy,
    Watch,
    AtRisk,
}

impl Band {
    pub fn parse(s: &str) -> Option<Band> {
        match s {
            "healthy" => Some(Band::Healthy),
            "watch" => Some(Band::Watch),
            "at_risk" => Some(Band::AtRisk),
            _ => None,
        }
    }
}

/// What lies outside every customer's record but counts for the whole bank.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BankFacts {
    /// Customer rows quarantined at import (each one wrong cell of information accuracy).
    pub quarantined_customer_rows: i64,
}

/// A KPI. Serialized as its key ([`Kpi::as_str`], the key of `kpi.targets`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    HealthyShare,
    WatchShare,
    AtRiskShare,
    AlertsAcknowledged24h,
    CaseSlaAttainment,
}

impl Serialize for Kpi {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Kpi {
    pub const ALL: [Kpi; 14] = [
        Kpi::ChannelCoverage,
        Kpi::DemandResponse24h,
        Kpi::InformationAccuracy,
        Kpi::Satisfaction,
        Kpi::ChurnRate,
        Kpi::ChurnReduction,
        Kpi::RepeatPurchaseRate,
        Kpi::ReferralRate,
        Kpi::ProductDepth,
        Kpi::HealthyShare,
        Kpi::WatchShare,
        Kpi::AtRiskShare,
        Kpi::AlertsAcknowledged24h,
        Kpi::CaseSlaAttainment,
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
            Kpi::HealthyShare => "health_healthy",
            Kpi::WatchShare => "health_watch",
            Kpi::AtRiskShare => "health_at_risk",
            Kpi::AlertsAcknowledged24h => "alerts_acknowledged_24h",
            Kpi::CaseSlaAttainment => "case_sla_attainment",
        }
    }

    pub fn parse(s: &str) -> Option<Kpi> {
        Kpi::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    /// The names [`Kpi::parse`] takes, comma-separated (for messages).
    pub fn names() -> String {
        Kpi::ALL
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Kpi::ChannelCoverage => "Channel coverage",
            Kpi::DemandResponse24h => "Demand answered within 24 h",
            Kpi::InformationAccuracy => "Information accuracy",
            Kpi::Satisfaction => "Satisfaction (CSAT)",
            Kpi::ChurnRate => "Churn rate",
            Kpi::ChurnReduction => "Churn reduction vs the year before",
            Kpi::RepeatPurchaseRate => "Repeat purchase rate",
            Kpi::ReferralRate => "Referral rate",
            Kpi::ProductDepth => "Products per customer",
            Kpi::HealthyShare => "Healthy customers",
            Kpi::WatchShare => "Customers on watch",
            Kpi::AtRiskShare => "Customers at risk",
            Kpi::AlertsAcknowledged24h => "Alerts acknowledged within 24 h",
            Kpi::CaseSlaAttainment => "Cases resolved within SLA",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Kpi::ChannelCoverage => "渠道覆盖率",
            Kpi::DemandResponse24h => "需求24小时响应率",
            Kpi::InformationAccuracy => "信息准确率",
            Kpi::Satisfaction => "客户满意度",
            Kpi::ChurnRate => "客户流失率",
            Kpi::ChurnReduction => "流失率较上年降幅",
            Kpi::RepeatPurchaseRate => "复购率",
            Kpi::ReferralRate => "转介绍率",
            Kpi::ProductDepth => "户均持有产品数",
            Kpi::HealthyShare => "健康客户占比",
            Kpi::WatchShare => "关注客户占比",
            Kpi::AtRiskShare => "风险客户占比",
            Kpi::AlertsAcknowledged24h => "预警24小时确认率",
            Kpi::CaseSlaAttainment => "工单按时办结率",
        }
    }

    /// Whether a higher value is better.
    pub fn higher_is_better(self) -> bool {
        !matches!(self, Kpi::ChurnRate | Kpi::WatchShare | Kpi::AtRiskShare)
    }

    /// Whether the value is a share (shown as a percentage).
    pub fn is_share(self) -> bool {
        self != Kpi::ProductDepth
    }
}

/// The label of the demand-response KPI for a first-response target of
/// `minutes` on working hours (`business`) or on the calendar: (English,
/// Chinese). The default, 1,440 calendar minutes, is "within 24 h".
pub fn response_label(minutes: i64, business: bool) -> (String, String) {
    let hours = minutes as f64 / 60.0;
    let h = if minutes % 60 == 0 {
        format!("{}", minutes / 60)
    } else {
        format!("{hours:.1}")
    };
    if business {
        (
            format!("Demand answered within {h} working hours"),
            format!("需求{h}个工作小时内响应率"),
        )
    } else {
        (
            format!("Demand answered within {h} h"),
            format!("需求{h}小时响应率"),
        )
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

    const NONE: Figure = Figure {
        value: None,
        numerator: 0.0,
        denominator: 0.0,
    };
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

/// The customer's band at their latest scoring describing `day` or earlier.
pub fn band_on(f: &CustomerFacts, day: NaiveDate) -> Option<Band> {
    f.health
        .iter()
        .filter(|(d, _)| *d <= day)
        .max_by_key(|(d, _)| *d)
        .map(|(_, b)| *b)
}

/// The value of one KPI for `group` over `[start, end]`, counting the
/// customers' own records only (a branch, an RM's portfolio, a segment).
pub fn figure(kpi: Kpi, group: &[&CustomerFacts], start: NaiveDate, end: NaiveDate) -> Figure {
    figure_of(kpi, group, &BankFacts::default(), start, end)
}

/// The value of one KPI for `group` over `[start, end]`, with `bank`: what
/// belongs to the whole bank and no customer (pass it for the whole bank only).
pub fn figure_of(
    kpi: Kpi,
    group: &[&CustomerFacts],
    bank: &BankFacts,
    start: NaiveDate,
    end: NaiveDate,
) -> Figure {
    let mut num = 0.0;
    let mut den = 0.0;
    let in_window = |d: NaiveDate| d >= start && d <= end;
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
            for c in group.iter().flat_map(|f| &f.cases) {
                if !in_window(c.opened_on) {
                    continue;
                }
                match c.response {
                    InTime::Met => {
                        num += 1.0;
                        den += 1.0;
                    }
                    InTime::Missed => den += 1.0,
                    InTime::Pending => {}
                }
            }
        }
        Kpi::InformationAccuracy => {
            for f in group.iter().filter(|f| there(f, end)) {
                num += f.cells_valid as f64;
                den += (f.cells_valid + f.cells_flagged) as f64;
            }
            den += bank.quarantined_customer_rows as f64;
        }
        Kpi::Satisfaction => {
            for f in group {
                for (d, score, scale) in &f.csat {
                    if in_window(*d) {
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
                _ => Figure::NONE,
            };
        }
        Kpi::RepeatPurchaseRate => {
            for f in group {
                let opened: Vec<NaiveDate> = f.holdings.iter().filter_map(|h| h.0).collect();
                let in_win: Vec<NaiveDate> =
                    opened.iter().copied().filter(|d| in_window(*d)).collect();
                if let Some(first_in) = in_win.iter().min() {
                    den += 1.0;
                    // Bought before, or more than once within the window.
                    if opened.iter().any(|d| d < first_in) || in_win.len() > 1 {
                        num += 1.0;
                    }
                }
            }
        }
        Kpi::ReferralRate => {
            if !group.iter().any(|f| f.referred) {
                return Figure::NONE;
            }
            for f in group {
                if f.joined_on.is_some_and(in_window) {
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
        Kpi::HealthyShare | Kpi::WatchShare | Kpi::AtRiskShare => {
            let want = match kpi {
                Kpi::HealthyShare => Band::Healthy,
                Kpi::WatchShare => Band::Watch,
                _ => Band::AtRisk,
            };
            for b in group.iter().filter_map(|f| band_on(f, end)) {
                den += 1.0;
                if b == want {
                    num += 1.0;
                }
            }
        }
        Kpi::AlertsAcknowledged24h => {
            for a in group.iter().flat_map(|f| &f.alerts) {
                if !in_window(a.raised_on) {
                    continue;
                }
                match a.acknowledged {
                    InTime::Met => {
                        num += 1.0;
                        den += 1.0;
                    }
                    InTime::Missed => den += 1.0,
                    InTime::Pending => {}
                }
            }
        }
        Kpi::CaseSlaAttainment => {
            for (day, met) in group
                .iter()
                .flat_map(|f| &f.cases)
                .filter_map(|c| c.resolution)
            {
                if in_window(day) {
                    den += 1.0;
                    if met {
                        num += 1.0;
                    }
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

    fn case(opened: &str, response: InTime, resolution: Option<(&str, bool)>) -> CaseFact {
        CaseFact {
            opened_on: d(opened),
            response,
            resolution: resolution.map(|(r, met)| (d(r), met)),
        }
    }

    #[test]
    fn demand_response_counts_answered_and_overdue_cases() {
        let a = CustomerFacts {
            cases: vec![
                case("2024-05-01", InTime::Met, None),     // in time
                case("2024-05-02", InTime::Missed, None),  // late
                case("2024-05-30", InTime::Missed, None),  // overdue
                case("2024-05-31", InTime::Pending, None), // still within its target
                case("2024-04-30", InTime::Met, None),     // before the window
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
    fn case_sla_attainment_counts_cases_decided_in_the_window() {
        let a = CustomerFacts {
            cases: vec![
                case("2024-04-20", InTime::Met, Some(("2024-05-03", true))), // resolved in time in May
                case("2024-05-02", InTime::Met, Some(("2024-05-10", false))), // breached in May
                case("2024-05-20", InTime::Met, None),                       // open, not yet due
                case("2024-04-01", InTime::Met, Some(("2024-04-05", true))), // decided in April
            ],
            ..Default::default()
        };
        let f = figure(
            Kpi::CaseSlaAttainment,
            &[&a],
            d("2024-05-01"),
            d("2024-05-31"),
        );
        assert_eq!((f.numerator, f.denominator), (1.0, 2.0));
    }

    #[test]
    fn alerts_acknowledged_within_a_day() {
        let alert = |on: &str, acknowledged| AlertFact {
            raised_on: d(on),
            acknowledged,
        };
        let a = CustomerFacts {
            alerts: vec![
                alert("2024-05-01", InTime::Met),
                alert("2024-05-02", InTime::Met),
                alert("2024-05-03", InTime::Missed),
                alert("2024-05-31", InTime::Pending),
                alert("2024-04-30", InTime::Missed),
            ],
            ..Default::default()
        };
        let f = figure(
            Kpi::AlertsAcknowledged24h,
            &[&a],
            d("2024-05-01"),
            d("2024-05-31"),
        );
        assert_eq!((f.numerator, f.denominator), (2.0, 3.0));
    }

    #[test]
    fn health_distribution_reads_the_latest_scoring_up_to_the_day() {
        let c = |id: i64, health: Vec<(&str, Band)>| CustomerFacts {
            customer_id: id,
            health: health.into_iter().map(|(x, b)| (d(x), b)).collect(),
            ..Default::default()
        };
        let a = c(
            1,
            vec![("2024-04-30", Band::Healthy), ("2024-05-31", Band::AtRisk)],
        );
        let b = c(2, vec![("2024-04-30", Band::Watch)]);
        let never = c(3, vec![]);
        let g = [&a, &b, &never];
        let (s, e) = (d("2024-05-01"), d("2024-05-31"));
        let share = |k, s, e| {
            let f = figure(k, &g, s, e);
            (f.numerator, f.denominator)
        };
        assert_eq!(share(Kpi::HealthyShare, s, e), (0.0, 2.0));
        assert_eq!(share(Kpi::WatchShare, s, e), (1.0, 2.0));
        assert_eq!(share(Kpi::AtRiskShare, s, e), (1.0, 2.0));
        // In April the first scoring applies.
        let (s, e) = (d("2024-04-01"), d("2024-04-30"));
        assert_eq!(share(Kpi::HealthyShare, s, e), (1.0, 2.0));
        // Before any scoring: no data.
        let f = figure(Kpi::HealthyShare, &g, d("2024-03-01"), d("2024-03-31"));
        assert_eq!(f.value, None);
    }

    #[test]
    fn information_accuracy_counts_cells_and_quarantined_rows_for_the_bank() {
        let a = CustomerFacts {
            customer_id: 1,
            cells_valid: 6,
            ..Default::default()
        };
        let b = CustomerFacts {
            customer_id: 2,
            cells_valid: 4,
            cells_flagged: 2,
            ..Default::default()
        };
        let later = CustomerFacts {
            customer_id: 3,
            joined_on: Some(d("2024-06-01")),
            cells_valid: 6,
            ..Default::default()
        };
        let g = [&a, &b, &later];
        let (s, e) = (d("2024-05-01"), d("2024-05-31"));
        let f = figure(Kpi::InformationAccuracy, &g, s, e);
        assert_eq!((f.numerator, f.denominator), (10.0, 12.0));
        let bank = BankFacts {
            quarantined_customer_rows: 3,
        };
        let f = figure_of(Kpi::InformationAccuracy, &g, &bank, s, e);
        assert_eq!((f.numerator, f.denominator), (10.0, 15.0));
        // Quarantined rows touch no other KPI.
        assert_eq!(
            figure_of(Kpi::ChannelCoverage, &g, &bank, s, e),
            figure(Kpi::ChannelCoverage, &g, s, e)
        );
    }

    #[test]
    fn labels_say_which_clock_the_response_runs_on() {
        assert_eq!(response_label(1440, false).0, "Demand answered within 24 h");
        assert_eq!(
            response_label(1440, true),
            (
                "Demand answered within 24 working hours".to_string(),
                "需求24个工作小时内响应率".to_string()
            )
        );
        assert_eq!(response_label(90, false).0, "Demand answered within 1.5 h");
        for k in Kpi::ALL {
            assert_eq!(Kpi::parse(k.as_str()), Some(k));
            assert!(!k.label_zh().is_empty() && !k.label_en().is_empty());
        }
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
