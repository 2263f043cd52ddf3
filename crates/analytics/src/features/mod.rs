//! The feature engine: streams what the features need from the store,
//! aggregates it into arrays indexed by dense customer number, and assembles
//! the [`FeatureTable`] (definitions in `catalog` and docs/FEATURES.md).
//!
//! Ownership: a customer's transactions, loans and card statements are those
//! of the accounts the customer owns (the account's `customer_id`, or an
//! `owner` account role), so a joint account counts fully for each owner.
//! Cards count for their holder; cases, interactions and survey answers for
//! their customer.

pub mod aggregates;
mod book;
mod catalog;
mod copy_pass;
mod history;
mod products;
mod txn;

pub use catalog::{FeatureKind, FeatureSpec, FEATURES};
pub use history::{LiveTxn, TxnHistories, HORIZON_DAYS, TRANSACTION_FEATURES};

use crate::table::{FeatureColumn, FeatureTable};
use crate::window::{AsOf, MONTHS_BACK};
use crate::AnalyticsError;
use book::{Accounts, CustomerIndex, Customers, OwnerRoles};
use catalog::{Feature, CATALOG};
use chrono::NaiveDate;
use copy_pass::CopyPass;
use products::SmallTableFacts;
use rapport_domain::AccountType;
use rapport_store::{DayRange, Store, DEFAULT_SCAN_CHUNK_ROWS};
use rayon::prelude::*;
use std::sync::Arc;
use std::time::Instant;
use txn::{TxnAcc, TxnPass, NO_DAY};

/// Computes the features of every customer as of `as_of` (see [`FEATURES`]).
pub async fn compute_features(
    store: &Store,
    as_of: NaiveDate,
) -> Result<FeatureTable, AnalyticsError> {
    FeatureEngine::new(store).compute(as_of).await
}

/// Computes per-customer features from a store in bounded memory: one scan
/// chunk plus per-customer and per-account arrays, whatever the number of
/// transactions. CPU work runs on rayon's pool inside the scan callbacks, so
/// call it from a batch job, not from a latency-sensitive task.
#[derive(Debug, Clone)]
pub struct FeatureEngine<'s> {
    store: &'s Store,
    chunk_rows: usize,
    extract_date: Option<NaiveDate>,
    columnar: Option<Arc<ColumnarSource>>,
    precomputed: Option<Arc<crate::spark::Precomputed>>,
}

/// The columnar copy the transaction pass reads instead of the store
/// (`crate::columnar`): the caller has checked that it is current.
#[derive(Debug, Clone)]
pub struct ColumnarSource {
    pub dir: std::path::PathBuf,
    pub manifest: crate::columnar::Manifest,
    pub customers: crate::columnar::CustomerMap,
}

impl<'s> FeatureEngine<'s> {
    pub fn new(store: &'s Store) -> Self {
        FeatureEngine {
            store,
            chunk_rows: DEFAULT_SCAN_CHUNK_ROWS,
            extract_date: None,
            columnar: None,
            precomputed: None,
        }
    }

    /// Takes the transaction aggregates and latest balances from what the
    /// Spark job wrote (`crate::spark`) instead of running the transaction
    /// pass; the rest (book, products, derived features) is computed as
    /// always. Its as-of date must be the one computed; every customer and
    /// account in it must be in the store.
    pub fn with_precomputed(mut self, pre: Option<Arc<crate::spark::Precomputed>>) -> Self {
        self.precomputed = pre;
        self
    }

    /// Reads the transactions from the columnar copy (only the columns the
    /// pass needs, only months before the as-of date) instead of the store;
    /// `None`: from the store. Results are the same either way.
    pub fn with_columnar(mut self, source: Option<Arc<ColumnarSource>>) -> Self {
        self.columnar = source;
        self
    }

    /// Rows per scan chunk (memory per chunk; results do not depend on it).
    pub fn with_chunk_rows(mut self, rows: usize) -> Self {
        self.chunk_rows = rows.max(1);
        self
    }

    /// The date the store's point-in-time columns describe (a loan's
    /// `days_past_due`): before it, they would leak the future into a
    /// back-dated as-of, so loans then add nothing to `max_days_past_due`
    /// (time-stamped card statements still do). `None` (the default): the
    /// columns are taken as current for every as-of date.
    pub fn with_extract_date(mut self, date: Option<NaiveDate>) -> Self {
        self.extract_date = date;
        self
    }

    /// Every customer's features as of `as_of` (D): windows are `[D - W, D)`.
    #[tracing::instrument(skip_all, fields(as_of = %as_of), err)]
    pub async fn compute(&self, as_of: NaiveDate) -> Result<FeatureTable, AnalyticsError> {
        let w = AsOf::new(as_of)?;
        let store = self.store;
        let rows = self.chunk_rows;
        let t0 = Instant::now();

        // The copy's pass needs no book: it starts first and runs while the
        // book and the other tables load.
        let copy = match (&self.precomputed, &self.columnar) {
            (None, Some(src)) => Some(CopyPass::start(Arc::clone(src), w, DayRange::before(as_of))),
            _ => None,
        };

        let book = Arc::new(load_customer_index(store, rows).await?);
        tracing::info!(
            customers = book.customer_count(),
            accounts = book.account_count(),
            elapsed_ms = t0.elapsed().as_millis() as u64,
            "feature book loaded"
        );

        let t2 = Instant::now();
        let visible = self.extract_date.is_none_or(|x| as_of >= x);
        let others = load_others(store, &book, w, rows, visible).await?;
        tracing::info!(
            elapsed_ms = t2.elapsed().as_millis() as u64,
            "product, service and survey passes done"
        );

        let t1 = Instant::now();
        let (pass, txns) = match (&self.precomputed, copy) {
            (Some(pre), _) => {
                let mut pass = TxnPass::new(&book, w);
                let txns = pass.load_precomputed(pre)?;
                (pass, txns)
            }
            (None, Some(copy)) => {
                let folded = copy.finish()?;
                let pass = TxnPass::from_folds(&book, w, &folded.states, &folded.groups)?;
                (pass, folded.rows)
            }
            (None, None) => {
                let mut pass = TxnPass::new(&book, w);
                let txns = store
                    .scan_transactions(DayRange::before(as_of), rows, |c| pass.add_chunk(c))
                    .await?;
                (pass, txns)
            }
        };
        tracing::info!(
            transactions = txns,
            elapsed_ms = t1.elapsed().as_millis() as u64,
            "transaction pass done (the copy's: what was left after the other passes)"
        );

        let table = assemble(&book, w, &pass, &others);
        tracing::info!(
            customers = table.len(),
            elapsed_ms = t0.elapsed().as_millis() as u64,
            "features computed"
        );
        Ok(table)
    }
}

/// Customers, accounts and ownership, in dense numbering.
pub(crate) async fn load_customer_index(
    store: &Store,
    rows: usize,
) -> Result<CustomerIndex, AnalyticsError> {
    let mut customers = Customers::default();
    store
        .scan_customers(rows, |c| customers.add_chunk(c))
        .await?;
    let mut accounts = Accounts::default();
    store.scan_accounts(rows, |c| accounts.add_chunk(c)).await?;
    let mut roles = OwnerRoles::default();
    store
        .scan_account_roles(rows, |c| roles.add_chunk(c))
        .await?;
    Ok(CustomerIndex::new(customers, accounts, roles))
}

/// Every owner of every account as (account id, customer id) store ids, by
/// the engine's own ownership rule (the account's customer and its `owner`
/// roles): the owners file of the columnar copy, for the Spark job.
pub async fn account_owners(store: &Store) -> Result<Vec<(i64, i64)>, AnalyticsError> {
    let book = load_customer_index(store, DEFAULT_SCAN_CHUNK_ROWS).await?;
    let mut pairs = Vec::new();
    for (a, &account) in book.accounts.ids.iter().enumerate() {
        for &c in book.owners.of(a as u32) {
            if let Some(&customer) = book.customers.ids.get(c as usize) {
                pairs.push((account, customer));
            }
        }
    }
    Ok(pairs)
}

/// Loans, cards, statements, cases, interactions, survey answers and holdings as of `w`.
pub(crate) async fn load_others(
    store: &Store,
    book: &Arc<CustomerIndex>,
    w: AsOf,
    rows: usize,
    loan_arrears_visible: bool,
) -> Result<SmallTableFacts, AnalyticsError> {
    let as_of = w.date;
    let mut others = SmallTableFacts::new(Arc::clone(book), w);
    others.loan_arrears_visible = loan_arrears_visible;
    let last90 = DayRange::between(date_of(w.d90, as_of)?, as_of);
    store
        .scan_loans(DayRange::before(as_of), rows, |c| others.add_loans(c))
        .await?;
    store.scan_cards(rows, |c| others.add_cards(c)).await?;
    store
        .scan_card_statements(DayRange::before(as_of), rows, |c| {
            others.add_card_statements(c)
        })
        .await?;
    store
        .scan_cases(last90, rows, |c| others.add_cases(c))
        .await?;
    store
        .scan_interactions(last90, rows, |c| others.add_interactions(c))
        .await?;
    store
        .scan_survey_responses(DayRange::before(as_of), rows, |c| {
            others.add_survey_responses(c)
        })
        .await?;
    store
        .scan_holdings(rows, |c| others.add_holdings(c))
        .await?;
    Ok(others)
}

fn date_of(day: i32, as_of: NaiveDate) -> Result<NaiveDate, AnalyticsError> {
    rapport_store::date_of_epoch_day(day).ok_or(AnalyticsError::AsOfOutOfRange(as_of))
}

/// Minor units to major units.
fn major(minor: i64) -> f64 {
    minor as f64 / 100.0
}

fn ratio(num: f64, den: f64) -> Option<f64> {
    (den != 0.0).then(|| num / den).filter(|v| v.is_finite())
}

/// Population standard deviation / mean of `xs`: `sqrt(n·Σx² − (Σx)²) / Σx`,
/// the radicand exact in integers (so a steady series gives exactly 0);
/// `None` when the sum is 0.
fn coefficient_of_variation(xs: &[i64]) -> Option<f64> {
    let n = xs.len() as i128;
    let s1: i128 = xs.iter().map(|&x| i128::from(x)).sum();
    let s2: i128 = xs.iter().map(|&x| i128::from(x) * i128::from(x)).sum();
    ratio(((n * s2 - s1 * s1).max(0) as f64).sqrt(), s1 as f64)
}

/// Per-customer values several features share, computed once.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Derived {
    balance_now: Option<i64>,
    balance_30_ago: Option<i64>,
    product_depth: u32,
    tenure_months: Option<i64>,
    credit_utilisation: Option<f64>,
}

fn derive(
    book: &CustomerIndex,
    w: AsOf,
    pass: &TxnPass<'_>,
    others: &SmallTableFacts,
) -> Vec<Derived> {
    let account_balance = pass.account_balances();
    let account_balance_30 = pass.account_balances_30();
    (0..book.customer_count())
        .into_par_iter()
        .map(|c| {
            derive_one(book, w, c, others, |a| {
                (account_balance[a], account_balance_30[a])
            })
        })
        .collect()
}

/// The derived values of customer `c`, given each owned account's
/// contribution to balance_now and balance_30_ago.
pub(crate) fn derive_one(
    book: &CustomerIndex,
    w: AsOf,
    c: usize,
    others: &SmallTableFacts,
    balances: impl Fn(usize) -> (Option<i64>, Option<i64>),
) -> Derived {
    let accounts = &book.accounts;
    let mut balance: Option<i64> = None;
    let mut balance_30: Option<i64> = None;
    let mut types = 0u32;
    let mut first_opened: Option<i32> = None;
    let (mut bills, mut limits, mut with_limit) = (0i64, 0i64, false);
    for &a in book.owned.of(c as u32) {
        let a = a as usize;
        let (now, ago) = balances(a);
        if let Some(b) = now {
            balance = Some(balance.unwrap_or(0) + b);
        }
        if let Some(b) = ago {
            balance_30 = Some(balance_30.unwrap_or(0) + b);
        }
        if accounts.open_at(a, w.day) {
            if let Some(t) = accounts.kind[a] {
                let bit = AccountType::ALL.iter().position(|x| *x == t).unwrap_or(0);
                types |= 1 << bit;
            }
        }
        if let Some(o) = accounts.opened_on[a].filter(|&o| o < w.day) {
            first_opened = Some(first_opened.map_or(o, |f| f.min(o)));
        }
        if let Some(bill) = others.latest_bill[a].get() {
            let limit = accounts.credit_limit[a].or(others.card_limit[a]);
            if let Some(limit) = limit.filter(|&l| l > 0) {
                bills += bill;
                limits += limit;
                with_limit = true;
            }
        }
    }
    Derived {
        balance_now: balance,
        balance_30_ago: balance_30,
        product_depth: types.count_ones() + others.cards_held[c] + others.active_loans[c],
        tenure_months: first_opened.and_then(|o| w.whole_months_since(o)),
        credit_utilisation: if with_limit {
            ratio(bills as f64, limits as f64)
        } else {
            None
        },
    }
}

/// The value of `feature` for customer `c`.
pub(crate) fn value(
    feature: Feature,
    c: usize,
    book: &CustomerIndex,
    w: AsOf,
    t: &TxnAcc,
    others: &SmallTableFacts,
    d: &Derived,
) -> Option<f64> {
    use aggregates as A;
    let count = |n: i64| Some(n as f64);
    let month_inflow = t.month_inflow();
    let months_inflow: i64 = month_inflow.iter().sum();
    let monthly_income = major(months_inflow) / MONTHS_BACK as f64;
    let (count_90, outflow_90, inflow_90) = (
        t.get(A::COUNT_90),
        t.get(A::OUTFLOW_90),
        t.get(A::INFLOW_90),
    );
    let (cash_30, cash_90) = (t.get(A::CASH_WITHDRAWALS_30), t.get(A::CASH_WITHDRAWALS_90));
    match feature {
        Feature::TxnCount30 => count(t.get(A::COUNT_30)),
        Feature::TxnCount90 => count(count_90),
        Feature::Inflow90 => Some(major(inflow_90)),
        Feature::Outflow90 => Some(major(outflow_90)),
        Feature::MaxOutflow90 => Some(major(t.get(A::MAX_OUTFLOW_90))),
        Feature::DaysSinceLastTxn => (t.last_day != NO_DAY).then(|| f64::from(w.day - t.last_day)),
        Feature::BalanceNow => d.balance_now.map(major),
        Feature::SalaryMonths6 => count(i64::from(t.salary_months())),
        Feature::AvgMonthlyInflow6m => Some(monthly_income),
        Feature::LiquidityMonths => {
            let balance = major(d.balance_now?);
            ratio(balance, major(outflow_90) / 3.0)
        }
        Feature::InflowCv6m => coefficient_of_variation(&month_inflow),
        Feature::InflowTrend3m => {
            let (older, recent) = month_inflow.split_at(MONTHS_BACK / 2);
            let sum = |s: &[i64]| major(s.iter().sum());
            ratio(sum(recent), sum(older))
        }
        Feature::DebtServiceRatio => ratio(major(others.active_loan_payment[c]), monthly_income),
        Feature::CreditUtilisation => d.credit_utilisation,
        Feature::MaxDaysPastDue => others.max_days_past_due[c].map(|v| v as f64),
        Feature::ProductDepth => count(i64::from(d.product_depth)),
        Feature::TenureMonths => d.tenure_months.map(|v| v as f64),
        Feature::AgeYears => book.customers.birth_date[c]
            .and_then(|b| w.whole_years_since(b))
            .map(|v| v as f64),
        Feature::DigitalShare90 => ratio(t.get(A::DIGITAL_90) as f64, count_90 as f64),
        Feature::CashWithdrawals30 => count(cash_30),
        Feature::CashWithdrawals90 => count(cash_90),
        Feature::CashWithdrawalTrend => ratio(cash_30 as f64, cash_90 as f64 / 3.0),
        Feature::Complaints90 => count(i64::from(others.complaints_90[c])),
        Feature::Interactions90 => count(i64::from(others.interactions_90[c])),
        Feature::LastNps => others.last_nps[c].get().map(|v| v as f64),
        Feature::TxnCount1 => count(t.get(A::COUNT_1)),
        Feature::Outflow1 => Some(major(t.get(A::OUTFLOW_1))),
        Feature::MaxOutflow1 => Some(major(t.get(A::MAX_OUTFLOW_1))),
        Feature::DaysSinceSalary => {
            (t.last_salary_day != NO_DAY).then(|| f64::from(w.day - t.last_salary_day))
        }
        Feature::Balance30Ago => d.balance_30_ago.map(major),
        Feature::Aum => {
            let holdings = others.holdings_open[c];
            match d.balance_now {
                Some(b) => Some(major(b + holdings)),
                None => (holdings != 0).then(|| major(holdings)),
            }
        }
        Feature::SalaryGapDays => (t.salary_months() >= REGULAR_SALARY_MONTHS
            && t.last_salary_day != NO_DAY)
            .then(|| f64::from(w.day - t.last_salary_day)),
        Feature::NetOutflow90 => Some(major(outflow_90 - inflow_90)),
        Feature::DrainedShare90 => Some(drained_share(outflow_90 - inflow_90, d.balance_now)),
    }
}

/// Salary months (of the 6 whole months before D's month) that make a
/// salary regular enough to be missed (`salary_gap_days`).
const REGULAR_SALARY_MONTHS: u32 = 2;

/// `drained_share_90`: the share of the money of 90 days ago that left,
/// `net / (max(balance, 0) + net)` when `net` (minor units out minus in) is
/// positive, else 0. A missing balance (every deposit account closed) is 0.
fn drained_share(net: i64, balance_now: Option<i64>) -> f64 {
    if net <= 0 {
        return 0.0;
    }
    let left = balance_now.unwrap_or(0).max(0);
    net as f64 / (left as f64 + net as f64)
}

fn assemble(
    book: &CustomerIndex,
    w: AsOf,
    pass: &TxnPass<'_>,
    others: &SmallTableFacts,
) -> FeatureTable {
    let d = derive(book, w, pass, others);
    let n = book.customer_count();
    let columns = CATALOG
        .iter()
        .map(|(feature, spec)| FeatureColumn {
            name: spec.name.to_string(),
            values: (0..n)
                .into_par_iter()
                .map(|c| value(*feature, c, book, w, &pass.customers[c], others, &d[c]))
                .collect(),
        })
        .collect();
    FeatureTable {
        as_of: w.date,
        customer_ids: book.customers.ids.clone(),
        customer_keys: book.customers.keys.clone(),
        columns,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_income_has_a_coefficient_of_variation_of_exactly_zero() {
        assert_eq!(coefficient_of_variation(&[1_234_567; 6]), Some(0.0));
        assert_eq!(coefficient_of_variation(&[0; 6]), None);
        // Population sd of (0, 2) is 1, mean 1.
        assert_eq!(coefficient_of_variation(&[0, 2]), Some(1.0));
    }

    #[test]
    fn drained_share_is_the_part_of_the_money_of_90_days_ago_that_left() {
        // 180,000 out net, 20,000 left: 90 % of the 200,000 of 90 days ago.
        assert_eq!(drained_share(18_000_000, Some(2_000_000)), 0.9);
        // Saving, or nothing moving: nothing drained.
        assert_eq!(drained_share(-500_000, Some(2_000_000)), 0.0);
        assert_eq!(drained_share(0, None), 0.0);
        // Every account closed (no balance) or overdrawn: all of it left.
        assert_eq!(drained_share(1_000, None), 1.0);
        assert_eq!(drained_share(1_000, Some(-50_000)), 1.0);
    }
}
