//! Holiday demand: how much customers spend, withdraw and transfer around a
//! public holiday compared with ordinary days, per segment and category
//! group; a forecast for a coming holiday; and the customers likely to need
//! a service then (liquidity, card limit, travel), as need segments.
//!
//! The forecast of a window's value per day: the recent ordinary-day level,
//! carried to the forecast year by the yearly growth of the ordinary-day
//! level over every past year measured (when that trend is significant),
//! times the mean uplift of every past year measured. A backtest forecasts each past holiday from the years
//! before it and reports the error (docs/HOLIDAYS.md).
//!
//! Owns the definitions (windows, baselines, uplift, forecast interval, need
//! rules: the same text is in docs/HOLIDAYS.md and in each need segment's
//! `definition`). The accumulation is pure over scanned columns
//! ([`HolidayDemandAccumulator`]); [`analyse_holiday_demand`] only drives the
//! store's scans and reads. Must never write to the store: the caller saves
//! the need segments.

use super::calendar::{HolidayCalendar, HolidayCalendarError, HolidayCode, HolidayPeriod};
use chrono::{Days, NaiveDate};
use rapport_domain::{AccountType, TxnCategory};
use rapport_store::{
    date_of_epoch_day, epoch_day, AccountChunk, CardStatementChunk, DayRange, DictColumn, Store,
    TxnChunk, DEFAULT_SCAN_CHUNK_ROWS,
};
use serde::Serialize;
use std::collections::HashMap;

/// Days before the first day off counted in the holiday window by default.
pub const DEFAULT_PRE_HOLIDAY_DAYS: u32 = 3;
/// Ordinary days in a baseline by default.
pub const DEFAULT_BASELINE_DAYS: u32 = 28;
/// Card utilisation above which a customer needs a (temporary) limit increase.
pub const CARD_UTILISATION_LIMIT: f64 = 0.9;
/// Without card statements: the share of card spenders, largest past holiday
/// card spend first, put in the card-limit segment.
pub const CARD_TOP_SHARE: f64 = 0.1;

/// Days scanned before the earliest baseline, to tell whether data reaches it.
const COVERAGE_MARGIN_DAYS: u64 = 31;

/// The category groups demand is measured on (outflows only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoryGroup {
    /// card_purchase, shopping, dining, travel, groceries.
    Spending,
    /// cash_withdrawal.
    Cash,
    /// transfer_out.
    Transfers,
}

impl CategoryGroup {
    pub const ALL: [CategoryGroup; 3] = [
        CategoryGroup::Spending,
        CategoryGroup::Cash,
        CategoryGroup::Transfers,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CategoryGroup::Spending => "spending",
            CategoryGroup::Cash => "cash",
            CategoryGroup::Transfers => "transfers",
        }
    }

    fn index(self) -> usize {
        match self {
            CategoryGroup::Spending => 0,
            CategoryGroup::Cash => 1,
            CategoryGroup::Transfers => 2,
        }
    }

    /// The group of a transaction category, if it is one of the measured ones.
    pub fn of(category: TxnCategory) -> Option<Self> {
        match category {
            TxnCategory::CardPurchase
            | TxnCategory::Shopping
            | TxnCategory::Dining
            | TxnCategory::Travel
            | TxnCategory::Groceries => Some(CategoryGroup::Spending),
            TxnCategory::CashWithdrawal => Some(CategoryGroup::Cash),
            TxnCategory::TransferOut => Some(CategoryGroup::Transfers),
            _ => None,
        }
    }
}

const GROUPS: usize = 3;

/// What to analyse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayDemandOptions {
    pub holiday: HolidayCode,
    /// The year of the holiday to forecast.
    pub year: i32,
    /// Days before the first day off that belong to the window.
    pub pre_holiday_days: u32,
    /// Ordinary days (not public-holiday days off) in each baseline.
    pub baseline_days: u32,
    /// The day after the last transaction to use; `None`: the day after the
    /// latest transaction in the store.
    pub data_as_of: Option<NaiveDate>,
    pub chunk_rows: usize,
}

impl HolidayDemandOptions {
    pub fn new(holiday: HolidayCode, year: i32) -> Self {
        HolidayDemandOptions {
            holiday,
            year,
            pre_holiday_days: DEFAULT_PRE_HOLIDAY_DAYS,
            baseline_days: DEFAULT_BASELINE_DAYS,
            data_as_of: None,
            chunk_rows: DEFAULT_SCAN_CHUNK_ROWS,
        }
    }
}

/// A closed range of days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DaySpan {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

impl DaySpan {
    pub fn days(&self) -> i64 {
        (self.last - self.first).num_days() + 1
    }
}

/// A baseline: `days` ordinary days between `first` and `last` (days off of
/// any public holiday skipped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Baseline {
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub days: Vec<NaiveDate>,
}

/// The holiday window of one year and the baseline before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YearWindow {
    pub year: i32,
    /// Pre-holiday days plus the days off.
    pub window: DaySpan,
    #[serde(skip)]
    pub baseline: Baseline,
    pub baseline_first: NaiveDate,
    pub baseline_days: usize,
}

/// A group of customers the demand is measured on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentMembers {
    pub code: String,
    pub name: String,
    pub customer_ids: Vec<i64>,
}

/// One past year's measurement for a segment and group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct YearUplift {
    pub year: i32,
    /// Average value per baseline day (major units).
    pub baseline_per_day: f64,
    /// Average value per window day (major units).
    pub window_per_day: f64,
    /// window_per_day / baseline_per_day; `None` when the baseline is zero.
    pub uplift: Option<f64>,
}

/// How the forecast interval was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IntervalMethod {
    /// 95% Student-t interval of the mean uplift (three years or more).
    TMean95,
    /// Lowest and highest past uplift (one or two years).
    MinMax,
}

/// Expected value per day in the coming window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemandForecast {
    pub mean_uplift: f64,
    pub uplift_low: f64,
    pub uplift_high: f64,
    /// recent baseline per day × level factor × mean uplift.
    pub per_day: f64,
    pub low_per_day: f64,
    pub high_per_day: f64,
    pub method: IntervalMethod,
    /// Past years the forecast rests on.
    pub years: usize,
    /// The yearly growth of the ordinary-day level (1.05 = +5 % a year),
    /// from the past years' baselines (see [`level_growth`]; `None`: no
    /// significant trend, the recent level is kept).
    pub level_growth_per_year: Option<f64>,
    /// Years from the end of the recent baseline to the window's first day.
    pub years_ahead: f64,
    /// growth ^ years ahead: how the recent level is carried to the window.
    pub level_factor: f64,
}

impl DemandForecast {
    /// The forecast carried `years_ahead` years forward at `growth` a year
    /// (`None`: no trend, the recent level is kept).
    pub fn projected(mut self, growth: Option<f64>, years_ahead: f64) -> Self {
        let years_ahead = years_ahead.max(0.0);
        let factor = growth.map_or(1.0, |g| g.powf(years_ahead));
        let factor = if factor.is_finite() && factor > 0.0 {
            factor
        } else {
            1.0
        };
        self.per_day *= factor / self.level_factor;
        self.low_per_day *= factor / self.level_factor;
        self.high_per_day *= factor / self.level_factor;
        self.level_growth_per_year = growth;
        self.years_ahead = years_ahead;
        self.level_factor = factor;
        self
    }
}

/// The yearly growth factor of a level measured in several years: exp of
/// the least-squares slope of ln(level) on the year, over the years with a
/// positive level — when the slope is significant (its t statistic at least
/// the two-sided 95% quantile of Student's t with n − 2 degrees of freedom,
/// so three years at least). `None` otherwise: year-to-year noise is not a
/// trend, and carrying noise forward makes forecasts worse (the backtest
/// shows it).
pub fn level_growth(levels: &[(i32, f64)]) -> Option<f64> {
    let points: Vec<(f64, f64)> = levels
        .iter()
        .filter(|(_, v)| *v > 0.0 && v.is_finite())
        .map(|(y, v)| (f64::from(*y), v.ln()))
        .collect();
    if points.len() < 3 {
        return None;
    }
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let slope = sxy / sxx;
    let residual: f64 = points
        .iter()
        .map(|p| (p.1 - mean_y - slope * (p.0 - mean_x)).powi(2))
        .sum();
    let standard_error = (residual / (n - 2.0) / sxx).sqrt();
    let critical = T_975.get(points.len() - 3).copied().unwrap_or(1.96);
    let significant = if standard_error > 1e-12 {
        (slope / standard_error).abs() >= critical
    } else {
        slope.abs() > 1e-12
    };
    let growth = slope.exp();
    (significant && growth.is_finite()).then_some(growth)
}

/// Years between two days (365.25 days a year).
pub fn years_between(from: NaiveDate, to: NaiveDate) -> f64 {
    (to - from).num_days() as f64 / 365.25
}

/// One past holiday forecast from the years before it, as it would have
/// been made the year before: the level of the latest earlier year's
/// baseline, carried to the holiday by the growth of the earlier years'
/// baselines, times the mean uplift of the earlier years.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BacktestPoint {
    pub group: CategoryGroup,
    /// The holiday year forecast.
    pub year: i32,
    /// The years the forecast rests on.
    pub from_years: Vec<i32>,
    /// What happened: average value per window day (major units).
    pub actual_per_day: f64,
    pub forecast_per_day: f64,
    pub low_per_day: f64,
    pub high_per_day: f64,
    /// The same forecast without the level trend.
    pub flat_per_day: f64,
    /// (forecast − actual) / actual.
    pub error: f64,
    pub flat_error: f64,
    pub within_interval: bool,
}

/// The backtest of one category group (all customers).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BacktestSummary {
    pub group: CategoryGroup,
    pub points: usize,
    /// Mean absolute percentage error (0.12 = 12 %); `None` without points.
    pub mape: Option<f64>,
    /// The same without the level trend.
    pub flat_mape: Option<f64>,
    /// Share of the points inside the forecast interval.
    pub coverage: Option<f64>,
}

/// Backtests of the forecast method on the past years measured.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Backtest {
    pub points: Vec<BacktestPoint>,
    pub summary: Vec<BacktestSummary>,
}

/// Forecasts each past year of `past` (one segment and group, any order)
/// that has an earlier year from the years before it (see [`BacktestPoint`]).
pub fn backtest_points(group: CategoryGroup, past: &[YearUplift]) -> Vec<BacktestPoint> {
    let mut years: Vec<&YearUplift> = past.iter().collect();
    years.sort_by_key(|y| y.year);
    let mut points = Vec::new();
    for j in 1..years.len() {
        let target = years[j];
        let earlier = &years[..j];
        if target.window_per_day <= 0.0 {
            continue;
        }
        let uplifts: Vec<f64> = earlier.iter().filter_map(|y| y.uplift).collect();
        let Some(latest) = earlier.last() else {
            continue;
        };
        let Some(flat) = forecast(&uplifts, latest.baseline_per_day) else {
            continue;
        };
        let levels: Vec<(i32, f64)> = earlier
            .iter()
            .map(|y| (y.year, y.baseline_per_day))
            .collect();
        let ahead = f64::from(target.year - latest.year);
        let trended = flat.clone().projected(level_growth(&levels), ahead);
        let actual = target.window_per_day;
        points.push(BacktestPoint {
            group,
            year: target.year,
            from_years: earlier.iter().map(|y| y.year).collect(),
            actual_per_day: actual,
            forecast_per_day: trended.per_day,
            low_per_day: trended.low_per_day,
            high_per_day: trended.high_per_day,
            flat_per_day: flat.per_day,
            error: (trended.per_day - actual) / actual,
            flat_error: (flat.per_day - actual) / actual,
            within_interval: trended.low_per_day <= actual && actual <= trended.high_per_day,
        });
    }
    points
}

fn backtest_summary(points: &[BacktestPoint]) -> Vec<BacktestSummary> {
    CategoryGroup::ALL
        .iter()
        .map(|&group| {
            let of: Vec<&BacktestPoint> = points.iter().filter(|p| p.group == group).collect();
            let n = of.len();
            let mean = |f: &dyn Fn(&BacktestPoint) -> f64| {
                (n > 0).then(|| of.iter().map(|p| f(p)).sum::<f64>() / n as f64)
            };
            BacktestSummary {
                group,
                points: n,
                mape: mean(&|p| p.error.abs()),
                flat_mape: mean(&|p| p.flat_error.abs()),
                coverage: mean(&|p| if p.within_interval { 1.0 } else { 0.0 }),
            }
        })
        .collect()
}

/// One line of the report: a segment and a category group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemandRow {
    pub segment: String,
    pub segment_name: String,
    pub group: CategoryGroup,
    pub customers: usize,
    /// Average value per day in the recent baseline (major units).
    pub recent_baseline_per_day: f64,
    pub past: Vec<YearUplift>,
    /// `None` when no past year has a usable uplift.
    pub forecast: Option<DemandForecast>,
}

/// Customers likely to need a service over the holiday, to be saved as a
/// segment of kind [`NEED_SEGMENT_KIND`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NeedSegment {
    /// `holiday:<holiday>:<year>:<need>`.
    pub code: String,
    pub name: String,
    pub definition: String,
    pub description: String,
    #[serde(skip)]
    pub members: Vec<i64>,
    pub size: usize,
}

/// Why a holiday demand analysis could not run.
#[derive(Debug, thiserror::Error)]
pub enum HolidayDemandError {
    #[error(transparent)]
    Store(#[from] rapport_store::StoreError),
    #[error(transparent)]
    Calendar(#[from] HolidayCalendarError),
    #[error("the store holds no transactions")]
    NoTransactions,
}

/// The kind of the need segments in the store.
pub const NEED_SEGMENT_KIND: &str = "holiday";

/// The result of a holiday demand analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HolidayDemandReport {
    pub holiday: HolidayCode,
    pub holiday_name: &'static str,
    pub year: i32,
    /// The coming window (pre-holiday days plus the days off).
    pub window: DaySpan,
    pub days_off: DaySpan,
    pub provisional_calendar: bool,
    pub pre_holiday_days: u32,
    /// The day after the last transaction used.
    pub data_as_of: NaiveDate,
    /// The date of the stored segment memberships used (`None`: only `all`).
    pub membership_as_of: Option<NaiveDate>,
    pub recent_baseline: Baseline,
    /// The past years measured (data covering their baseline and window).
    pub past_years: Vec<YearWindow>,
    pub rows: Vec<DemandRow>,
    pub needs: Vec<NeedSegment>,
    /// How the card-limit need was decided: `statements` or `top_spenders`.
    pub card_limit_basis: &'static str,
    /// Each past year forecast from the years before it (all customers).
    pub backtest: Backtest,
}

/// The window of `period`: `pre_days` days before the first day off to the last.
pub fn holiday_window(period: &HolidayPeriod, pre_days: u32) -> DaySpan {
    DaySpan {
        first: period
            .first_off
            .checked_sub_days(Days::new(u64::from(pre_days)))
            .unwrap_or(period.first_off),
        last: period.last_off,
    }
}

/// The `days` ordinary days (not a public-holiday day off) right before `before`.
pub fn baseline_before(calendar: &HolidayCalendar, before: NaiveDate, days: u32) -> Baseline {
    let mut picked = Vec::with_capacity(days as usize);
    let mut d = before;
    // A year back at most, whatever the calendar says.
    for _ in 0..366 {
        if picked.len() >= days as usize {
            break;
        }
        match d.pred_opt() {
            Some(p) => d = p,
            None => break,
        }
        if !calendar.is_day_off(d) {
            picked.push(d);
        }
    }
    picked.reverse();
    Baseline {
        first: picked.first().copied().unwrap_or(before),
        last: picked.last().copied().unwrap_or(before),
        days: picked,
    }
}

/// Per customer: what the need rules look at.
#[derive(Debug, Clone, Default)]
struct CustomerTotals {
    /// Recent baseline outflow per group (major units).
    recent: [f64; GROUPS],
    /// Past windows' outflow (all groups) per candidate year.
    window_outflow: Vec<f64>,
    /// Past windows' spending per candidate year.
    window_spending: Vec<f64>,
    /// Past windows' travel spending, all candidate years.
    window_travel: f64,
}

/// Accumulates scanned transactions into per-slot, per-segment, per-group
/// sums (slot 0: the recent baseline; then per candidate year its window and
/// its baseline). Pure: no store access.
#[derive(Debug)]
pub struct HolidayDemandAccumulator {
    years: Vec<YearWindow>,
    /// Epoch day → the slots it belongs to.
    day_slots: HashMap<i32, Vec<u16>>,
    /// Segment codes and names; index 0 is `all`.
    segments: Vec<(String, String, usize)>,
    /// Customer id → indices of its stored segments (not `all`).
    customer_segments: HashMap<i64, Vec<u32>>,
    /// [slot][segment][group], minor units.
    sums: Vec<i64>,
    customers: HashMap<i64, CustomerTotals>,
    first_day: Option<i32>,
    last_day: Option<i32>,
    category_groups: Vec<Option<CategoryGroup>>,
    category_travel: Vec<bool>,
}

impl HolidayDemandAccumulator {
    /// `years`: the candidate past years; `segments`: the stored segments
    /// (an `all` segment is added first).
    pub fn new(recent: &Baseline, years: Vec<YearWindow>, segments: &[SegmentMembers]) -> Self {
        let mut day_slots: HashMap<i32, Vec<u16>> = HashMap::new();
        let mut add = |day: NaiveDate, slot: usize| {
            let slot = u16::try_from(slot).unwrap_or(u16::MAX);
            day_slots.entry(epoch_day(day)).or_default().push(slot);
        };
        for d in &recent.days {
            add(*d, 0);
        }
        for (i, y) in years.iter().enumerate() {
            for d in y
                .window
                .first
                .iter_days()
                .take_while(|d| *d <= y.window.last)
            {
                add(d, 1 + 2 * i);
            }
            for d in &y.baseline.days {
                add(*d, 2 + 2 * i);
            }
        }
        let mut listed = vec![("all".to_string(), "All customers".to_string(), 0usize)];
        let mut customer_segments: HashMap<i64, Vec<u32>> = HashMap::new();
        for (i, s) in segments.iter().enumerate() {
            let index = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let mut members: Vec<i64> = s.customer_ids.clone();
            members.sort_unstable();
            members.dedup();
            for c in &members {
                customer_segments.entry(*c).or_default().push(index);
            }
            listed.push((s.code.clone(), s.name.clone(), members.len()));
        }
        let slots = 1 + 2 * years.len();
        let sums = vec![0; slots * listed.len() * GROUPS];
        HolidayDemandAccumulator {
            years,
            day_slots,
            segments: listed,
            customer_segments,
            sums,
            customers: HashMap::new(),
            first_day: None,
            last_day: None,
            category_groups: Vec::new(),
            category_travel: Vec::new(),
        }
    }

    /// The first and last day (epoch days) of the transactions seen.
    pub fn days_seen(&self) -> Option<(i32, i32)> {
        self.first_day.zip(self.last_day)
    }

    fn learn_categories(&mut self, categories: &DictColumn) {
        for value in categories.values().iter().skip(self.category_groups.len()) {
            let category = TxnCategory::parse(value).ok();
            self.category_groups
                .push(category.and_then(CategoryGroup::of));
            self.category_travel
                .push(category == Some(TxnCategory::Travel));
        }
    }

    /// Adds one scanned chunk of transactions (any order, any chunking).
    pub fn add_transactions(&mut self, chunk: &TxnChunk) {
        self.learn_categories(&chunk.category);
        let segments = self.segments.len();
        let years = self.years.len();
        for row in 0..chunk.len() {
            let day = chunk.booked_on[row];
            self.first_day = Some(self.first_day.map_or(day, |f| f.min(day)));
            self.last_day = Some(self.last_day.map_or(day, |l| l.max(day)));
            let amount = chunk.amount[row];
            if amount >= 0 {
                continue;
            }
            let code = chunk.category.codes[row];
            let Some(group) = self.category_groups.get(code as usize).copied().flatten() else {
                continue;
            };
            let Some(slots) = self.day_slots.get(&day) else {
                continue;
            };
            let customer = chunk.customer_id[row];
            let outflow = -amount;
            let g = group.index();
            let stored = self.customer_segments.get(&customer);
            let totals = self
                .customers
                .entry(customer)
                .or_insert_with(|| CustomerTotals {
                    window_outflow: vec![0.0; years],
                    window_spending: vec![0.0; years],
                    ..CustomerTotals::default()
                });
            let major = outflow as f64 / 100.0;
            let travel = self
                .category_travel
                .get(code as usize)
                .copied()
                .unwrap_or(false);
            for &slot in slots {
                let slot = slot as usize;
                let base = slot * segments * GROUPS;
                if let Some(s) = self.sums.get_mut(base + g) {
                    *s += outflow;
                }
                for &seg in stored.map(Vec::as_slice).unwrap_or(&[]) {
                    if let Some(s) = self.sums.get_mut(base + seg as usize * GROUPS + g) {
                        *s += outflow;
                    }
                }
                if slot == 0 {
                    totals.recent[g] += major;
                } else if slot % 2 == 1 {
                    let y = (slot - 1) / 2;
                    if let Some(o) = totals.window_outflow.get_mut(y) {
                        *o += major;
                    }
                    if group == CategoryGroup::Spending {
                        if let Some(s) = totals.window_spending.get_mut(y) {
                            *s += major;
                        }
                        if travel {
                            totals.window_travel += major;
                        }
                    }
                }
            }
        }
    }

    fn sum(&self, slot: usize, segment: usize, group: usize) -> f64 {
        let segments = self.segments.len();
        self.sums
            .get(slot * segments * GROUPS + segment * GROUPS + group)
            .copied()
            .unwrap_or(0) as f64
            / 100.0
    }
}

/// The current position of the customers: deposits and credit cards.
#[derive(Debug, Clone, Default)]
pub struct CustomerPositions {
    /// Customer → sum of the balances of its open deposit accounts (major units).
    pub deposits: HashMap<i64, f64>,
    /// Customer → sum of the credit limits of its open credit-card accounts.
    pub card_limits: HashMap<i64, f64>,
    /// Customer → sum over its card accounts of the latest statement's bill.
    pub latest_bills: HashMap<i64, f64>,
}

impl CustomerPositions {
    /// Adds scanned accounts open at `as_of` (epoch day).
    pub fn add_accounts(&mut self, chunk: &AccountChunk, as_of: i32) {
        for row in 0..chunk.len() {
            if chunk.closed_on[row].is_some_and(|c| c <= as_of) {
                continue;
            }
            let Some(kind) = chunk
                .account_type
                .get(row)
                .and_then(|t| AccountType::parse(t).ok())
            else {
                continue;
            };
            let customer = chunk.customer_id[row];
            if kind.is_deposit() {
                let balance = chunk.balance[row].unwrap_or(0) as f64 / 100.0;
                *self.deposits.entry(customer).or_insert(0.0) += balance;
            } else if kind == AccountType::CreditCard {
                if let Some(limit) = chunk.credit_limit[row] {
                    *self.card_limits.entry(customer).or_insert(0.0) += limit as f64 / 100.0;
                }
            }
        }
    }
}

/// Per card account, the latest statement seen: (customer, month, bill).
#[derive(Debug, Clone, Default)]
pub struct LatestStatements {
    by_account: HashMap<i64, (i64, i32, i64)>,
}

impl LatestStatements {
    pub fn add(&mut self, chunk: &CardStatementChunk) {
        for row in 0..chunk.len() {
            let account = chunk.account_id[row];
            let entry = (
                chunk.customer_id[row],
                chunk.statement_month[row],
                chunk.bill_amount[row],
            );
            let slot = self.by_account.entry(account).or_insert(entry);
            if entry.1 > slot.1 {
                *slot = entry;
            }
        }
    }
    pub fn is_empty(&self) -> bool {
        self.by_account.is_empty()
    }
    fn into_bills(self) -> HashMap<i64, f64> {
        let mut bills = HashMap::new();
        for (customer, _, bill) in self.by_account.into_values() {
            *bills.entry(customer).or_insert(0.0) += bill as f64 / 100.0;
        }
        bills
    }
}

/// 97.5% quantiles of Student's t for 1..=30 degrees of freedom.
const T_975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// The forecast from past uplifts and the recent baseline: mean uplift with a
/// 95% t-interval (three years or more) or the min–max range (one or two).
pub fn forecast(uplifts: &[f64], recent_per_day: f64) -> Option<DemandForecast> {
    let n = uplifts.len();
    if n == 0 {
        return None;
    }
    let mean = uplifts.iter().sum::<f64>() / n as f64;
    let (low, high, method) = if n >= 3 {
        let variance = uplifts.iter().map(|u| (u - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let t = T_975.get(n - 2).copied().unwrap_or(1.96);
        let half = t * (variance / n as f64).sqrt();
        ((mean - half).max(0.0), mean + half, IntervalMethod::TMean95)
    } else {
        let low = uplifts.iter().copied().fold(f64::INFINITY, f64::min);
        let high = uplifts.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (low, high, IntervalMethod::MinMax)
    };
    Some(DemandForecast {
        mean_uplift: mean,
        uplift_low: low,
        uplift_high: high,
        per_day: recent_per_day * mean,
        low_per_day: recent_per_day * low,
        high_per_day: recent_per_day * high,
        method,
        years: n,
        level_growth_per_year: None,
        years_ahead: 0.0,
        level_factor: 1.0,
    })
}

/// The plan of an analysis: the coming window, the recent baseline and the
/// candidate past years.
#[derive(Debug, Clone)]
pub struct DemandPlan {
    pub period: HolidayPeriod,
    pub window: DaySpan,
    pub recent: Baseline,
    pub candidates: Vec<YearWindow>,
}

/// Plans the analysis of `options` with data up to (excluding) `data_as_of`.
pub fn plan(
    calendar: &HolidayCalendar,
    options: &HolidayDemandOptions,
    data_as_of: NaiveDate,
) -> Result<DemandPlan, HolidayCalendarError> {
    let period = calendar
        .period(options.holiday, options.year)
        .cloned()
        .ok_or_else(|| HolidayCalendarError::Invalid {
            code: options.holiday,
            year: options.year,
            message: "not in the holiday calendar".into(),
        })?;
    let window = holiday_window(&period, options.pre_holiday_days);
    let recent = baseline_before(
        calendar,
        window.first.min(data_as_of),
        options.baseline_days,
    );
    let candidates = calendar
        .years_of(options.holiday)
        .into_iter()
        .filter(|y| *y < options.year)
        .filter_map(|y| calendar.period(options.holiday, y))
        .map(|p| {
            let window = holiday_window(p, options.pre_holiday_days);
            let baseline = baseline_before(calendar, window.first, options.baseline_days);
            YearWindow {
                year: p.year,
                window,
                baseline_first: baseline.first,
                baseline_days: baseline.days.len(),
                baseline,
            }
        })
        .filter(|y| y.window.last < data_as_of)
        .collect();
    Ok(DemandPlan {
        period,
        window,
        recent,
        candidates,
    })
}

/// Everything the report is made from, gathered by the driver.
#[derive(Debug)]
pub struct DemandInputs {
    pub plan: DemandPlan,
    pub options: HolidayDemandOptions,
    pub data_as_of: NaiveDate,
    pub membership_as_of: Option<NaiveDate>,
    pub accumulator: HolidayDemandAccumulator,
    pub positions: CustomerPositions,
}

/// Builds the report from accumulated inputs (pure).
pub fn build_report(inputs: DemandInputs) -> HolidayDemandReport {
    let DemandInputs {
        plan,
        options,
        data_as_of,
        membership_as_of,
        accumulator: acc,
        positions,
    } = inputs;
    // Past years whose baseline and window the data covers.
    let first_seen = acc.first_day.and_then(date_of_epoch_day);
    let used: Vec<usize> = acc
        .years
        .iter()
        .enumerate()
        .filter(|(_, y)| {
            first_seen.is_some_and(|f| f <= y.baseline.first) && y.window.last < data_as_of
        })
        .map(|(i, _)| i)
        .collect();
    let recent_days = plan.recent.days.len().max(1) as f64;
    let window_days = plan.window.days() as f64;
    // From the end of the recent baseline to the window: how far the level
    // is carried by its trend.
    let years_ahead = years_between(plan.recent.last, plan.window.first);

    let mut rows = Vec::new();
    let mut all_uplift = [None::<f64>; GROUPS];
    // The level trend of each group, from all customers' past baselines.
    let mut all_growth = [None::<f64>; GROUPS];
    let mut backtest = Backtest::default();
    for (s, (code, name, members)) in acc.segments.iter().enumerate() {
        let customers = if s == 0 {
            acc.customers.len()
        } else {
            *members
        };
        for group in CategoryGroup::ALL {
            let g = group.index();
            let recent_per_day = acc.sum(0, s, g) / recent_days;
            let past: Vec<YearUplift> = used
                .iter()
                .filter_map(|&i| {
                    let y = acc.years.get(i)?;
                    let baseline_per_day =
                        acc.sum(2 + 2 * i, s, g) / y.baseline.days.len().max(1) as f64;
                    let window_per_day = acc.sum(1 + 2 * i, s, g) / y.window.days() as f64;
                    Some(YearUplift {
                        year: y.year,
                        baseline_per_day,
                        window_per_day,
                        uplift: (baseline_per_day > 0.0).then(|| window_per_day / baseline_per_day),
                    })
                })
                .collect();
            let uplifts: Vec<f64> = past.iter().filter_map(|p| p.uplift).collect();
            if s == 0 {
                let levels: Vec<(i32, f64)> =
                    past.iter().map(|p| (p.year, p.baseline_per_day)).collect();
                all_growth[g] = level_growth(&levels);
                backtest.points.extend(backtest_points(group, &past));
            }
            let forecast =
                forecast(&uplifts, recent_per_day).map(|f| f.projected(all_growth[g], years_ahead));
            if s == 0 {
                all_uplift[g] = forecast.as_ref().map(|f| f.mean_uplift);
            }
            rows.push(DemandRow {
                segment: code.clone(),
                segment_name: name.clone(),
                group,
                customers,
                recent_baseline_per_day: recent_per_day,
                past,
                forecast,
            });
        }
    }

    let statements = !positions.latest_bills.is_empty();
    let needs = need_segments(
        &plan,
        &options,
        &acc,
        &used,
        &positions,
        all_uplift,
        window_days,
    );
    HolidayDemandReport {
        holiday: plan.period.code,
        holiday_name: plan.period.code.display_name(),
        year: plan.period.year,
        window: plan.window,
        days_off: DaySpan {
            first: plan.period.first_off,
            last: plan.period.last_off,
        },
        provisional_calendar: plan.period.provisional,
        pre_holiday_days: options.pre_holiday_days,
        data_as_of,
        membership_as_of,
        recent_baseline: plan.recent.clone(),
        past_years: used
            .iter()
            .filter_map(|&i| acc.years.get(i).cloned())
            .collect(),
        rows,
        needs,
        card_limit_basis: if statements {
            "statements"
        } else {
            "top_spenders"
        },
        backtest: Backtest {
            summary: backtest_summary(&backtest.points),
            points: backtest.points,
        },
    }
}

/// The definition texts of the need segments (also in docs/HOLIDAYS.md).
pub const LIQUIDITY_DEFINITION: &str = "expected holiday outflow > current deposit balance, where \
expected holiday outflow = max(mean over past years of the customer's outflow (spending + cash + \
transfers) in the holiday window, sum over groups of the customer's recent baseline outflow per day \
x the forecast uplift of the group for all customers x the window days); deposit balance = balances \
of the open current, savings and term-deposit accounts";
pub const CARD_LIMIT_DEFINITION_STATEMENTS: &str =
    "customers with an open credit-card limit whose \
latest statement bill + expected holiday card spending > 90% of the limit, where expected holiday \
card spending = recent baseline spending per day x the forecast spending uplift for all customers \
x the window days";
pub const CARD_LIMIT_DEFINITION_TOP: &str =
    "no card statements in the store: the 10% of customers \
with spending in past holiday windows who spent the most there (mean per year), at least one";
pub const TRAVEL_DEFINITION: &str =
    "customers with travel spending (category travel) in the holiday window of any past year";

fn need_segments(
    plan: &DemandPlan,
    options: &HolidayDemandOptions,
    acc: &HolidayDemandAccumulator,
    used: &[usize],
    positions: &CustomerPositions,
    all_uplift: [Option<f64>; GROUPS],
    window_days: f64,
) -> Vec<NeedSegment> {
    let prefix = format!("holiday:{}:{}", options.holiday, options.year);
    let holiday = options.holiday.display_name();
    let used_years = used.len().max(1) as f64;
    let mean_past = |per_year: &[f64]| -> f64 {
        used.iter().filter_map(|&i| per_year.get(i)).sum::<f64>() / used_years
    };

    let mut liquidity = Vec::new();
    let mut travel = Vec::new();
    let mut card_scores: Vec<(i64, f64)> = Vec::new();
    let mut card_limit = Vec::new();
    let statements = !positions.latest_bills.is_empty();
    let spending_uplift = all_uplift[CategoryGroup::Spending.index()].unwrap_or(1.0);
    let recent_days = plan.recent.days.len().max(1) as f64;

    for (&customer, t) in &acc.customers {
        let past_outflow = mean_past(&t.window_outflow);
        let from_baseline: f64 = CategoryGroup::ALL
            .iter()
            .map(|g| {
                t.recent[g.index()] / recent_days
                    * all_uplift[g.index()].unwrap_or(1.0)
                    * window_days
            })
            .sum();
        let expected_outflow = past_outflow.max(from_baseline);
        let deposits = positions.deposits.get(&customer).copied().unwrap_or(0.0);
        if expected_outflow > 0.0 && expected_outflow > deposits {
            liquidity.push(customer);
        }
        if !used.is_empty() && t.window_travel > 0.0 {
            travel.push(customer);
        }
        if statements {
            if let Some(&limit) = positions.card_limits.get(&customer) {
                let bill = positions
                    .latest_bills
                    .get(&customer)
                    .copied()
                    .unwrap_or(0.0);
                let expected_card = t.recent[CategoryGroup::Spending.index()] / recent_days
                    * spending_uplift
                    * window_days;
                if limit > 0.0 && bill + expected_card > CARD_UTILISATION_LIMIT * limit {
                    card_limit.push(customer);
                }
            }
        } else {
            let past_spending = mean_past(&t.window_spending);
            if past_spending > 0.0 {
                card_scores.push((customer, past_spending));
            }
        }
    }
    if !statements {
        card_scores.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let take = ((card_scores.len() as f64 * CARD_TOP_SHARE).ceil() as usize).max(1);
        card_limit = card_scores.iter().take(take).map(|c| c.0).collect();
    }
    let window = format!("{} to {}", plan.window.first, plan.window.last);
    let make = |need: &str, name: String, definition: &str, mut members: Vec<i64>| {
        members.sort_unstable();
        NeedSegment {
            code: format!("{prefix}:{need}"),
            name,
            definition: definition.to_string(),
            description: format!(
                "{holiday} {}: window {window} ({} pre-holiday days); data up to {}",
                options.year, options.pre_holiday_days, plan.recent.last
            ),
            size: members.len(),
            members,
        }
    };
    vec![
        make(
            "liquidity",
            format!("{holiday} {}: may run short of cash", options.year),
            LIQUIDITY_DEFINITION,
            liquidity,
        ),
        make(
            "card_limit",
            format!("{holiday} {}: may need a card limit increase", options.year),
            if statements {
                CARD_LIMIT_DEFINITION_STATEMENTS
            } else {
                CARD_LIMIT_DEFINITION_TOP
            },
            card_limit,
        ),
        make(
            "travel",
            format!("{holiday} {}: holiday travellers", options.year),
            TRAVEL_DEFINITION,
            travel,
        ),
    ]
}

/// Runs the analysis on the store: the transactions of the windows and
/// baselines, the stored segment memberships at the latest date on or before
/// the holiday's first day off (need segments of kind `holiday` excluded),
/// accounts and card statements. Reads only.
pub async fn analyse_holiday_demand(
    store: &Store,
    calendar: &HolidayCalendar,
    options: &HolidayDemandOptions,
) -> Result<HolidayDemandReport, HolidayDemandError> {
    let data_as_of = match options.data_as_of {
        Some(d) => d,
        None => store
            .latest_transaction_date()
            .await?
            .and_then(|d| d.succ_opt())
            .ok_or(HolidayDemandError::NoTransactions)?,
    };
    let plan = plan(calendar, options, data_as_of)?;
    let (membership_as_of, segments) = stored_segments(store, plan.period.first_off).await?;

    let mut acc = HolidayDemandAccumulator::new(&plan.recent, plan.candidates.clone(), &segments);
    // A month more than the earliest baseline: the first transaction seen
    // then tells whether the data reaches back to each year's baseline.
    let first = plan
        .candidates
        .iter()
        .map(|y| y.baseline.first)
        .chain(std::iter::once(plan.recent.first))
        .min()
        .unwrap_or(plan.recent.first);
    let first = first
        .checked_sub_days(Days::new(COVERAGE_MARGIN_DAYS))
        .unwrap_or(first);
    store
        .scan_transactions(
            DayRange::between(first, data_as_of),
            options.chunk_rows,
            |c| acc.add_transactions(c),
        )
        .await?;

    let as_of_day = epoch_day(data_as_of);
    let mut positions = CustomerPositions::default();
    store
        .scan_accounts(options.chunk_rows, |c| positions.add_accounts(c, as_of_day))
        .await?;
    let mut statements = LatestStatements::default();
    store
        .scan_card_statements(DayRange::before(data_as_of), options.chunk_rows, |c| {
            statements.add(c)
        })
        .await?;
    positions.latest_bills = statements.into_bills();

    Ok(build_report(DemandInputs {
        plan,
        options: options.clone(),
        data_as_of,
        membership_as_of,
        accumulator: acc,
        positions,
    }))
}

/// The stored segments (not kind `holiday`) with their members at the latest
/// membership date on or before `on_or_before` that has any.
async fn stored_segments(
    store: &Store,
    on_or_before: NaiveDate,
) -> Result<(Option<NaiveDate>, Vec<SegmentMembers>), HolidayDemandError> {
    let definitions = store.segments().await?;
    let usable: HashMap<i64, (&str, &str)> = definitions
        .iter()
        .filter(|s| s.kind != NEED_SEGMENT_KIND)
        .map(|s| (s.id, (s.code.as_str(), s.name.as_str())))
        .collect();
    if usable.is_empty() {
        return Ok((None, Vec::new()));
    }
    let mut before = on_or_before;
    // Step back over dates that only hold need segments (a few at most).
    for _ in 0..64 {
        let Some(as_of) = store.latest_membership_as_of(before).await? else {
            return Ok((None, Vec::new()));
        };
        let mut members: HashMap<i64, Vec<i64>> = HashMap::new();
        for (segment, customer) in store.memberships_at(as_of).await? {
            if usable.contains_key(&segment) {
                members.entry(segment).or_default().push(customer);
            }
        }
        if !members.is_empty() {
            let mut segments: Vec<SegmentMembers> = members
                .into_iter()
                .filter_map(|(id, customer_ids)| {
                    let (code, name) = usable.get(&id)?;
                    Some(SegmentMembers {
                        code: (*code).to_string(),
                        name: (*name).to_string(),
                        customer_ids,
                    })
                })
                .collect();
            segments.sort_by(|a, b| a.code.cmp(&b.code));
            return Ok((Some(as_of), segments));
        }
        match as_of.pred_opt() {
            Some(d) => before = d,
            None => break,
        }
    }
    Ok((None, Vec::new()))
}
