//! The transaction part of the feature catalogue, declared once: every
//! per-customer transaction aggregate the features are computed from, and
//! the per-account "latest balance" definition.
//!
//! The same table drives the native accumulator (`txn::TxnAcc`: one slot
//! per aggregate, each row's window and filter bits computed once, each
//! aggregate a mask test and an operation) and the Spark SQL compiler
//! (`crate::spark`: one `SUM(CASE WHEN …)` / `MAX(CASE WHEN …)` per
//! aggregate). The derived features (ratios, balances, the book features)
//! stay native (`features::value`): they read the aggregates by the
//! constants below.
//!
//! Values are integers: counts, sums in minor units, epoch days.

use crate::window::MONTHS_BACK;

/// Which transactions (booked before D) an aggregate looks at, by day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Every transaction before D.
    Before,
    /// The last `n` days, `[D - n, D)`; `n` is one of [`DAY_WINDOWS`].
    Days(i32),
    /// Whole calendar month slot `k` of the six before D's month (0 oldest).
    Month(usize),
}

/// Which transactions an aggregate counts, by their own fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    All,
    /// `amount > 0`.
    Inflow,
    /// `amount < 0`.
    Outflow,
    /// `category = 'salary'`.
    Salary,
    /// `category = 'cash_withdrawal'`.
    CashWithdrawal,
    /// `channel` one of online, mobile, wechat.
    Digital,
}

/// What an aggregate computes over the transactions it looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Count,
    /// Sum of `amount` (minor units).
    Sum,
    /// Sum of `-amount` (minor units).
    SumNegated,
    /// Largest `-amount`, 0 when none.
    MaxNegated,
    /// Latest day (epoch day), none when no transaction.
    LatestDay,
    /// 1 when at least one transaction, else 0.
    Any,
}

impl Measure {
    /// The value before any transaction.
    pub const fn initial(self) -> i64 {
        match self {
            Measure::LatestDay => NO_DAY_VALUE,
            _ => 0,
        }
    }
}

/// The value of a [`Measure::LatestDay`] aggregate with no transaction.
pub const NO_DAY_VALUE: i64 = i32::MIN as i64;

/// One transaction aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aggregate {
    /// Column name (Spark output, SQL), lowercase snake case.
    pub name: &'static str,
    pub window: Window,
    pub filter: Filter,
    pub measure: Measure,
}

const fn agg(name: &'static str, window: Window, filter: Filter, measure: Measure) -> Aggregate {
    Aggregate {
        name,
        window,
        filter,
        measure,
    }
}

use Filter as F;
use Measure as M;
use Window as W;

/// The day windows `[D - n, D)` aggregates may use.
pub const DAY_WINDOWS: [i32; 3] = [1, 30, 90];

/// Every per-customer transaction aggregate. A transaction counts for every
/// owner of its account (the account's customer and its `owner` roles).
pub const AGGREGATES: &[Aggregate] = &[
    agg("count_1", W::Days(1), F::All, M::Count),
    agg("outflow_1", W::Days(1), F::Outflow, M::SumNegated),
    agg("max_outflow_1", W::Days(1), F::Outflow, M::MaxNegated),
    agg("count_30", W::Days(30), F::All, M::Count),
    agg(
        "cash_withdrawals_30",
        W::Days(30),
        F::CashWithdrawal,
        M::Count,
    ),
    agg("count_90", W::Days(90), F::All, M::Count),
    agg("digital_90", W::Days(90), F::Digital, M::Count),
    agg(
        "cash_withdrawals_90",
        W::Days(90),
        F::CashWithdrawal,
        M::Count,
    ),
    agg("inflow_90", W::Days(90), F::Inflow, M::Sum),
    agg("outflow_90", W::Days(90), F::Outflow, M::SumNegated),
    agg("max_outflow_90", W::Days(90), F::Outflow, M::MaxNegated),
    agg("last_day", W::Before, F::All, M::LatestDay),
    agg("last_salary_day", W::Before, F::Salary, M::LatestDay),
    agg("month_inflow_0", W::Month(0), F::Inflow, M::Sum),
    agg("month_inflow_1", W::Month(1), F::Inflow, M::Sum),
    agg("month_inflow_2", W::Month(2), F::Inflow, M::Sum),
    agg("month_inflow_3", W::Month(3), F::Inflow, M::Sum),
    agg("month_inflow_4", W::Month(4), F::Inflow, M::Sum),
    agg("month_inflow_5", W::Month(5), F::Inflow, M::Sum),
    agg("salary_month_0", W::Month(0), F::Salary, M::Any),
    agg("salary_month_1", W::Month(1), F::Salary, M::Any),
    agg("salary_month_2", W::Month(2), F::Salary, M::Any),
    agg("salary_month_3", W::Month(3), F::Salary, M::Any),
    agg("salary_month_4", W::Month(4), F::Salary, M::Any),
    agg("salary_month_5", W::Month(5), F::Salary, M::Any),
];

/// Number of aggregates (slots of the native accumulator).
pub const N_AGGREGATES: usize = AGGREGATES.len();

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The slot of the aggregate named `name` (a compile error when absent).
pub const fn slot(name: &str) -> usize {
    let mut i = 0;
    while i < AGGREGATES.len() {
        if same(AGGREGATES[i].name, name) {
            return i;
        }
        i += 1;
    }
    panic!("no such transaction aggregate")
}

pub const COUNT_1: usize = slot("count_1");
pub const OUTFLOW_1: usize = slot("outflow_1");
pub const MAX_OUTFLOW_1: usize = slot("max_outflow_1");
pub const COUNT_30: usize = slot("count_30");
pub const CASH_WITHDRAWALS_30: usize = slot("cash_withdrawals_30");
pub const COUNT_90: usize = slot("count_90");
pub const DIGITAL_90: usize = slot("digital_90");
pub const CASH_WITHDRAWALS_90: usize = slot("cash_withdrawals_90");
pub const INFLOW_90: usize = slot("inflow_90");
pub const OUTFLOW_90: usize = slot("outflow_90");
pub const MAX_OUTFLOW_90: usize = slot("max_outflow_90");
pub const LAST_DAY: usize = slot("last_day");
pub const LAST_SALARY_DAY: usize = slot("last_salary_day");
/// Slots of the month inflows, oldest first.
pub const MONTH_INFLOW: [usize; MONTHS_BACK] = [
    slot("month_inflow_0"),
    slot("month_inflow_1"),
    slot("month_inflow_2"),
    slot("month_inflow_3"),
    slot("month_inflow_4"),
    slot("month_inflow_5"),
];
/// Slots of "a salary in month k", oldest first.
pub const SALARY_MONTH: [usize; MONTHS_BACK] = [
    slot("salary_month_0"),
    slot("salary_month_1"),
    slot("salary_month_2"),
    slot("salary_month_3"),
    slot("salary_month_4"),
    slot("salary_month_5"),
];

// Row bits: the filters (bits 0..6), then the windows.
pub(crate) const B_ALL: u32 = 1;
pub(crate) const B_INFLOW: u32 = 1 << 1;
pub(crate) const B_OUTFLOW: u32 = 1 << 2;
/// Category and channel bits: the flags `txn::category_flags` and
/// `txn::channel_flags` give, shifted by [`FLAG_SHIFT`].
pub(crate) const FLAG_SHIFT: u32 = 3;
pub(crate) const B_SALARY: u32 = 1 << 3;
pub(crate) const B_CASH: u32 = 1 << 4;
pub(crate) const B_DIGITAL: u32 = 1 << 5;
pub(crate) const B_DAYS0: u32 = 6;
pub(crate) const B_MONTH0: u32 = B_DAYS0 + DAY_WINDOWS.len() as u32;

const fn day_window_bit(n: i32) -> u32 {
    let mut i = 0;
    while i < DAY_WINDOWS.len() {
        if DAY_WINDOWS[i] == n {
            return 1 << (B_DAYS0 + i as u32);
        }
        i += 1;
    }
    panic!("a day window not in DAY_WINDOWS")
}

/// The row bits an aggregate needs, all of them.
pub(crate) const fn mask(a: &Aggregate) -> u32 {
    let f = match a.filter {
        F::All => B_ALL,
        F::Inflow => B_INFLOW,
        F::Outflow => B_OUTFLOW,
        F::Salary => B_SALARY,
        F::CashWithdrawal => B_CASH,
        F::Digital => B_DIGITAL,
    };
    let w = match a.window {
        W::Before => 0,
        W::Days(n) => day_window_bit(n),
        W::Month(k) => {
            assert!(k < MONTHS_BACK, "month slot out of range");
            1 << (B_MONTH0 + k as u32)
        }
    };
    f | w
}

/// Every aggregate's mask, in table order.
pub(crate) const MASKS: [u32; N_AGGREGATES] = {
    let mut m = [0u32; N_AGGREGATES];
    let mut i = 0;
    while i < N_AGGREGATES {
        m[i] = mask(&AGGREGATES[i]);
        i += 1;
    }
    m
};

/// The initial slots of an accumulator.
pub(crate) const INITIAL: [i64; N_AGGREGATES] = {
    let mut v = [0i64; N_AGGREGATES];
    let mut i = 0;
    while i < N_AGGREGATES {
        v[i] = AGGREGATES[i].measure.initial();
        i += 1;
    }
    v
};

/// The per-account latest-balance definition: for each account, its latest
/// transaction (by `booked_on`, then the larger `source_key` in byte order)
/// booked before D, and the latest booked before D - [`LATEST_BALANCE_BACK_DAYS`];
/// of each the day and `balance_after` (which may be missing).
pub const LATEST_BALANCE_BACK_DAYS: i32 = 30;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_masks_are_not_empty() {
        for (i, a) in AGGREGATES.iter().enumerate() {
            assert_eq!(slot(a.name), i, "{} is declared twice", a.name);
            assert_ne!(MASKS[i], 0);
        }
        assert_eq!(B_SALARY, 1 << FLAG_SHIFT);
    }
}
