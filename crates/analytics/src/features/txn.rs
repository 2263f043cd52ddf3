//! The transaction pass: every transaction before D, chunk by chunk, into
//! per-customer accumulators (windows of 30 and 90 days, the six whole
//! months before D's month, the latest day) and per-account "latest
//! balance" state for open deposit accounts.
//!
//! Parallel with rayon: each chunk is first mapped to dense account numbers,
//! then the customer accumulators are split into contiguous ranges, one per
//! thread, and every thread applies the rows whose owners fall in its range
//! (no locks, no per-thread copies to merge). The per-account balance state
//! is split the same way, in parallel with the customers.

use super::aggregates::{self, Measure, AGGREGATES, N_AGGREGATES};
use super::book::{CustomerIndex, NONE};
use crate::window::{AsOf, MONTHS_BACK};
use rapport_domain::{Channel, TxnCategory};
use rapport_store::TxnChunk;
use rayon::prelude::*;

// The category and channel flags of a row (`category_flags`, `channel_flags`):
// the aggregates' filter bits, shifted down (aggregates::FLAG_SHIFT).
pub(crate) const SALARY: u8 = (aggregates::B_SALARY >> aggregates::FLAG_SHIFT) as u8;
const CASH_WITHDRAWAL: u8 = (aggregates::B_CASH >> aggregates::FLAG_SHIFT) as u8;
const DIGITAL: u8 = (aggregates::B_DIGITAL >> aggregates::FLAG_SHIFT) as u8;

/// No day yet.
pub(crate) const NO_DAY: i32 = i32::MIN;
const _: () = assert!(NO_DAY as i64 == aggregates::NO_DAY_VALUE);

/// What one customer's transactions add up to: one slot per aggregate of
/// [`aggregates::AGGREGATES`], in table order. The two latest days are
/// named fields (the live path carries them past its horizon); their slots
/// stay unused.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TxnAcc {
    slots: [i64; N_AGGREGATES],
    /// The latest day with a transaction before D (`NO_DAY` when none).
    pub last_day: i32,
    /// The latest day with a salary transaction (`NO_DAY` when none).
    pub last_salary_day: i32,
}

// The only latest-day aggregates are the two named fields.
const _: () = {
    let mut i = 0;
    while i < N_AGGREGATES {
        if matches!(AGGREGATES[i].measure, Measure::LatestDay) {
            assert!(i == aggregates::LAST_DAY || i == aggregates::LAST_SALARY_DAY);
        }
        i += 1;
    }
};

impl Default for TxnAcc {
    fn default() -> Self {
        TxnAcc {
            slots: aggregates::INITIAL,
            last_day: NO_DAY,
            last_salary_day: NO_DAY,
        }
    }
}

/// The window and filter bits of one transaction booked on `day` (before D).
#[inline(always)]
fn row_bits(w: &AsOf, day: i32, amount: i64, flags: u8) -> u32 {
    let mut b = aggregates::B_ALL
        | (u32::from(amount > 0) * aggregates::B_INFLOW)
        | (u32::from(amount < 0) * aggregates::B_OUTFLOW)
        | (u32::from(flags) << aggregates::FLAG_SHIFT);
    for (i, n) in aggregates::DAY_WINDOWS.iter().enumerate() {
        b |= u32::from(day >= w.day - n) << (aggregates::B_DAYS0 + i as u32);
    }
    if let Some(k) = w.month_slot(day) {
        b |= 1 << (aggregates::B_MONTH0 + k as u32);
    }
    b
}

impl TxnAcc {
    /// Adds one transaction of the customer (ignored when on or after D):
    /// each aggregate is a mask test and its measure's operation.
    #[inline]
    pub(crate) fn add(&mut self, w: &AsOf, day: i32, amount: i64, flags: u8) {
        if day >= w.day {
            return;
        }
        let bits = row_bits(w, day, amount, flags);
        for (i, a) in AGGREGATES.iter().enumerate() {
            let m = aggregates::MASKS[i];
            let hit = bits & m == m;
            let slot = &mut self.slots[i];
            match a.measure {
                Measure::Count => *slot += i64::from(hit),
                Measure::Sum => *slot += if hit { amount } else { 0 },
                Measure::SumNegated => *slot -= if hit { amount } else { 0 },
                Measure::MaxNegated => *slot = (*slot).max(if hit { -amount } else { 0 }),
                Measure::Any => *slot |= i64::from(hit),
                Measure::LatestDay => {
                    let d = if i == aggregates::LAST_DAY {
                        &mut self.last_day
                    } else {
                        &mut self.last_salary_day
                    };
                    *d = (*d).max(if hit { day } else { NO_DAY });
                }
            }
        }
    }

    /// Adds what `other` holds, as if its transactions had been added here
    /// (every measure is a sum, a maximum or an "or": the order of the
    /// transactions never matters).
    pub(crate) fn merge(&mut self, other: &TxnAcc) {
        for (i, a) in AGGREGATES.iter().enumerate() {
            let (slot, v) = (&mut self.slots[i], other.slots[i]);
            match a.measure {
                Measure::Count | Measure::Sum | Measure::SumNegated => *slot += v,
                Measure::MaxNegated => *slot = (*slot).max(v),
                Measure::Any => *slot |= v,
                // The named fields below.
                Measure::LatestDay => {}
            }
        }
        self.last_day = self.last_day.max(other.last_day);
        self.last_salary_day = self.last_salary_day.max(other.last_salary_day);
    }

    /// The value of aggregate slot `i` (see [`aggregates`]).
    #[inline]
    pub(crate) fn get(&self, i: usize) -> i64 {
        if i == aggregates::LAST_DAY {
            i64::from(self.last_day)
        } else if i == aggregates::LAST_SALARY_DAY {
            i64::from(self.last_salary_day)
        } else {
            self.slots[i]
        }
    }

    /// An accumulator holding `values` (one per aggregate, in table order),
    /// computed elsewhere (the Spark job). A latest day out of range is none.
    pub(crate) fn from_values(values: &[i64; N_AGGREGATES]) -> TxnAcc {
        let day = |v: i64| i32::try_from(v).unwrap_or(NO_DAY);
        TxnAcc {
            slots: *values,
            last_day: day(values[aggregates::LAST_DAY]),
            last_salary_day: day(values[aggregates::LAST_SALARY_DAY]),
        }
    }

    /// Inflow (amount > 0) per whole month slot, oldest first.
    pub(crate) fn month_inflow(&self) -> [i64; MONTHS_BACK] {
        aggregates::MONTH_INFLOW.map(|i| self.slots[i])
    }

    /// Whole month slots with a salary transaction.
    pub(crate) fn salary_months(&self) -> u32 {
        aggregates::SALARY_MONTH
            .iter()
            .filter(|&&i| self.slots[i] != 0)
            .count() as u32
    }
}

/// The latest transaction (by day, then larger source key) of one tracked account.
#[derive(Debug, Clone)]
pub(crate) struct AccountLast {
    pub day: i32,
    pub balance_after: Option<i64>,
    pub key: String,
}

impl Default for AccountLast {
    fn default() -> Self {
        AccountLast {
            day: NO_DAY,
            balance_after: None,
            key: String::new(),
        }
    }
}

impl AccountLast {
    /// Keeps the transaction if it is later (by day, then larger source key).
    #[inline]
    pub(crate) fn offer(&mut self, day: i32, key: &str, balance_after: Option<i64>) {
        if day > self.day || (day == self.day && key > self.key.as_str()) {
            self.day = day;
            self.balance_after = balance_after;
            self.key.clear();
            self.key.push_str(key);
        }
    }
}

/// The state of the transaction pass.
pub(crate) struct TxnPass<'a> {
    book: &'a CustomerIndex,
    w: AsOf,
    pub customers: Vec<TxnAcc>,
    /// Account → its slot in `last`, or `NONE` when its balance is not tracked.
    pub tracked: Vec<u32>,
    /// Latest transaction before D of each tracked account.
    pub last: Vec<AccountLast>,
    /// Latest transaction before D-30 of each tracked account.
    pub last_30: Vec<AccountLast>,
    threads: usize,
    rows_account: Vec<u32>,
    rows_flags: Vec<u8>,
}

pub(crate) fn category_flags(v: &str) -> u8 {
    if v == TxnCategory::Salary.as_str() {
        SALARY
    } else if v == TxnCategory::CashWithdrawal.as_str() {
        CASH_WITHDRAWAL
    } else {
        0
    }
}

pub(crate) fn channel_flags(v: &str) -> u8 {
    let digital = [Channel::Online, Channel::Mobile, Channel::Wechat];
    if digital.iter().any(|c| c.as_str() == v) {
        DIGITAL
    } else {
        0
    }
}

/// Flags of every dictionary value of a column.
fn dictionary_flags(values: &[String], f: fn(&str) -> u8) -> Vec<u8> {
    values.iter().map(|v| f(v)).collect()
}

/// The category and channel flags of the rows of one chunk, by dictionary code.
pub(crate) struct ChunkFlags {
    category: Vec<u8>,
    channel: Vec<u8>,
}

impl ChunkFlags {
    pub(crate) fn of(chunk: &TxnChunk) -> ChunkFlags {
        ChunkFlags {
            category: dictionary_flags(chunk.category.values(), category_flags),
            channel: dictionary_flags(chunk.channel.values(), channel_flags),
        }
    }

    /// The flags of row `r` (none for a missing category or channel).
    #[inline]
    pub(crate) fn row(&self, chunk: &TxnChunk, r: usize) -> u8 {
        let flag = |codes: &[u32], table: &[u8]| -> u8 {
            codes
                .get(r)
                .and_then(|&c| table.get(c as usize))
                .copied()
                .unwrap_or(0)
        };
        flag(&chunk.category.codes, &self.category) | flag(&chunk.channel.codes, &self.channel)
    }
}

/// Length of each of `parts` contiguous ranges covering `n` items (at least 1).
fn shard_len(n: usize, parts: usize) -> usize {
    n.div_ceil(parts.max(1)).max(1)
}

impl<'a> TxnPass<'a> {
    /// Tracks the latest balance (before D and before D-30) of the deposit
    /// accounts not closed before D-30.
    pub fn new(book: &'a CustomerIndex, w: AsOf) -> Self {
        let mut tracked = vec![NONE; book.account_count()];
        let mut n = 0u32;
        for (a, slot) in tracked.iter_mut().enumerate() {
            if book.accounts.is_deposit(a) && book.accounts.not_closed_before(a, w.d30) {
                *slot = n;
                n += 1;
            }
        }
        TxnPass {
            book,
            w,
            customers: vec![TxnAcc::default(); book.customer_count()],
            tracked,
            last: vec![AccountLast::default(); n as usize],
            last_30: vec![AccountLast::default(); n as usize],
            threads: rayon::current_num_threads(),
            rows_account: Vec::new(),
            rows_flags: Vec::new(),
        }
    }

    pub fn add_chunk(&mut self, chunk: &TxnChunk) {
        let n = chunk.len();
        let flags = ChunkFlags::of(chunk);
        let index = &self.book.account_index;
        chunk
            .account_id
            .par_iter()
            .map(|&id| index.get(id).unwrap_or(NONE))
            .collect_into_vec(&mut self.rows_account);
        (0..n)
            .into_par_iter()
            .map(|r| flags.row(chunk, r))
            .collect_into_vec(&mut self.rows_flags);

        let w = &self.w;
        let owners = &self.book.owners;
        let rows_account = &self.rows_account;
        let rows_flags = &self.rows_flags;
        let tracked = &self.tracked;
        let customers = &mut self.customers;
        let last = &mut self.last;
        let last_30 = &mut self.last_30;
        let cust_shard = shard_len(customers.len(), self.threads);
        let last_shard = shard_len(last.len(), self.threads);
        rayon::join(
            || {
                customers
                    .par_chunks_mut(cust_shard)
                    .enumerate()
                    .for_each(|(k, accs)| {
                        let lo = (k * cust_shard) as u32;
                        let hi = lo + accs.len() as u32;
                        for (r, &a) in rows_account.iter().enumerate() {
                            if a == NONE {
                                continue;
                            }
                            for &c in owners.of(a) {
                                if c >= lo && c < hi {
                                    accs[(c - lo) as usize].add(
                                        w,
                                        chunk.booked_on[r],
                                        chunk.amount[r],
                                        rows_flags[r],
                                    );
                                }
                            }
                        }
                    });
            },
            || {
                let lasts = last.par_chunks_mut(last_shard);
                let lasts_30 = last_30.par_chunks_mut(last_shard);
                lasts
                    .zip(lasts_30)
                    .enumerate()
                    .for_each(|(k, (lasts, lasts_30))| {
                        let lo = (k * last_shard) as u32;
                        let hi = lo + lasts.len() as u32;
                        for (r, &a) in rows_account.iter().enumerate() {
                            let Some(&s) = tracked.get(a as usize) else {
                                continue;
                            };
                            if s == NONE || s < lo || s >= hi {
                                continue;
                            }
                            let day = chunk.booked_on[r];
                            if day >= w.day {
                                continue;
                            }
                            let key = chunk.source_key.get(r);
                            let i = (s - lo) as usize;
                            lasts[i].offer(day, key, chunk.balance_after[r]);
                            if day < w.d30 {
                                lasts_30[i].offer(day, key, chunk.balance_after[r]);
                            }
                        }
                    });
            },
        );
    }

    /// Fills the accumulators and the tracked accounts' latest transactions
    /// from the Spark job's output instead of transactions; returns the
    /// customers given. Errors name the file and row of a customer or
    /// account the store does not have, or another as-of date.
    pub fn load_precomputed(
        &mut self,
        pre: &crate::spark::Precomputed,
    ) -> Result<u64, crate::AnalyticsError> {
        let bad = |o: &crate::spark::RowOrigin, message: String| {
            crate::AnalyticsError::Precomputed(crate::spark::PrecomputedError {
                path: pre.dir.clone(),
                message: format!("{}: {message}", pre.origin(o)),
            })
        };
        if pre.as_of != self.w.date {
            return Err(crate::AnalyticsError::Precomputed(
                crate::spark::PrecomputedError {
                    path: pre.dir.join(crate::spark::OUT_META),
                    message: format!(
                        "computed as of {}, not {} (run the job written for {})",
                        pre.as_of, self.w.date, self.w.date
                    ),
                },
            ));
        }
        for (id, values, origin) in &pre.customers {
            let c = self
                .book
                .customer_index
                .get(*id)
                .ok_or_else(|| bad(origin, format!("customer_id {id} is not in the store")))?;
            self.customers[c as usize] = TxnAcc::from_values(values);
        }
        let latest = |day: Option<i32>, balance_after: Option<i64>| match day {
            Some(day) => AccountLast {
                day,
                balance_after,
                key: String::new(),
            },
            None => AccountLast::default(),
        };
        for (id, l, origin) in &pre.accounts {
            let a = self
                .book
                .account_index
                .get(*id)
                .ok_or_else(|| bad(origin, format!("account_id {id} is not in the store")))?;
            let s = self.tracked.get(a as usize).copied().unwrap_or(NONE);
            if s == NONE {
                continue;
            }
            self.last[s as usize] = latest(l.last_day, l.last_balance_after);
            self.last_30[s as usize] = latest(l.last_30_day, l.last_30_balance_after);
        }
        Ok(pre.customers.len() as u64)
    }

    /// Each account's contribution to balance_now (minor units): see
    /// [`account_balance`]; `None` for an untracked account.
    pub fn account_balances(&self) -> Vec<Option<i64>> {
        let accounts = &self.book.accounts;
        (0..self.tracked.len())
            .into_par_iter()
            .map(|a| {
                let s = *self.tracked.get(a)?;
                let (last, last_30) = (self.last.get(s as usize)?, self.last_30.get(s as usize)?);
                account_balance(accounts, a, self.w, last, last_30, false)
            })
            .collect()
    }

    /// Each account's contribution to balance_30_ago (minor units).
    pub fn account_balances_30(&self) -> Vec<Option<i64>> {
        let accounts = &self.book.accounts;
        (0..self.tracked.len())
            .into_par_iter()
            .map(|a| {
                let s = *self.tracked.get(a)?;
                let (last, last_30) = (self.last.get(s as usize)?, self.last_30.get(s as usize)?);
                account_balance(accounts, a, self.w, last, last_30, true)
            })
            .collect()
    }
}

/// The balance of deposit account `a` at D (`thirty_ago` false) or at D-30,
/// given its latest transactions before D (`last`) and before D-30
/// (`last_30`), in minor units.
///
/// At D (balance_now, the definition): accounts not closed before D;
/// the balance_after of the latest transaction before D, or the account's
/// `balance` column when it has none (or its balance_after is missing).
/// At D-30 (balance_30_ago): accounts not closed before D-30 and not opened
/// on or after D-30; the balance_after of the latest transaction before
/// D-30; when there is none, 0 if the account has transactions in
/// [D-30, D) (it was empty before), else its `balance` column.
pub(crate) fn account_balance(
    accounts: &super::book::Accounts,
    a: usize,
    w: AsOf,
    last: &AccountLast,
    last_30: &AccountLast,
    thirty_ago: bool,
) -> Option<i64> {
    if !accounts.is_deposit(a) {
        return None;
    }
    if !thirty_ago {
        if !accounts.not_closed_before(a, w.day) {
            return None;
        }
        let latest = (last.day != NO_DAY).then_some(last.balance_after).flatten();
        return latest.or(accounts.balance[a]);
    }
    let opened_later = accounts.opened_on[a].is_some_and(|o| o >= w.d30);
    if !accounts.not_closed_before(a, w.d30) || opened_later {
        return None;
    }
    if last_30.day != NO_DAY {
        return last_30.balance_after.or(accounts.balance[a]);
    }
    if last.day != NO_DAY {
        return Some(0);
    }
    accounts.balance[a]
}
