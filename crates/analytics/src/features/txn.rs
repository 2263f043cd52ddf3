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

use super::book::{CustomerIndex, NONE};
use crate::window::{AsOf, MONTHS_BACK};
use rapport_domain::{Channel, TxnCategory};
use rapport_store::TxnChunk;
use rayon::prelude::*;

pub(crate) const SALARY: u8 = 1;
const CASH_WITHDRAWAL: u8 = 2;
const DIGITAL: u8 = 4;

/// No day yet.
pub(crate) const NO_DAY: i32 = i32::MIN;

/// What one customer's transactions add up to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TxnAcc {
    /// Transactions on the last day, [D-1, D).
    pub count_1: u32,
    pub outflow_1: i64,
    pub max_outflow_1: i64,
    pub count_30: u32,
    pub count_90: u32,
    pub digital_90: u32,
    pub cash_withdrawals_30: u32,
    pub cash_withdrawals_90: u32,
    pub last_day: i32,
    /// The latest day with a salary transaction (`NO_DAY` when none).
    pub last_salary_day: i32,
    /// Bit k: month slot k had a salary transaction.
    pub salary_months: u8,
    pub inflow_90: i64,
    pub outflow_90: i64,
    pub max_outflow_90: i64,
    /// Inflow (amount > 0) per month slot, oldest first.
    pub month_inflow: [i64; MONTHS_BACK],
}

impl Default for TxnAcc {
    fn default() -> Self {
        TxnAcc {
            count_1: 0,
            outflow_1: 0,
            max_outflow_1: 0,
            count_30: 0,
            count_90: 0,
            digital_90: 0,
            cash_withdrawals_30: 0,
            cash_withdrawals_90: 0,
            last_day: NO_DAY,
            last_salary_day: NO_DAY,
            salary_months: 0,
            inflow_90: 0,
            outflow_90: 0,
            max_outflow_90: 0,
            month_inflow: [0; MONTHS_BACK],
        }
    }
}

impl TxnAcc {
    #[inline]
    pub(crate) fn add(&mut self, w: &AsOf, day: i32, amount: i64, flags: u8) {
        if day >= w.day {
            return;
        }
        self.last_day = self.last_day.max(day);
        if flags & SALARY != 0 {
            self.last_salary_day = self.last_salary_day.max(day);
        }
        if day >= w.d90 {
            self.count_90 += 1;
            if amount > 0 {
                self.inflow_90 += amount;
            } else if amount < 0 {
                self.outflow_90 -= amount;
                self.max_outflow_90 = self.max_outflow_90.max(-amount);
            }
            if flags & DIGITAL != 0 {
                self.digital_90 += 1;
            }
            let cash = flags & CASH_WITHDRAWAL != 0;
            if cash {
                self.cash_withdrawals_90 += 1;
            }
            if day >= w.d30 {
                self.count_30 += 1;
                if cash {
                    self.cash_withdrawals_30 += 1;
                }
                if day >= w.day - 1 {
                    self.count_1 += 1;
                    if amount < 0 {
                        self.outflow_1 -= amount;
                        self.max_outflow_1 = self.max_outflow_1.max(-amount);
                    }
                }
            }
        }
        if let Some(k) = w.month_slot(day) {
            if flags & SALARY != 0 {
                self.salary_months |= 1 << k;
            }
            if amount > 0 {
                self.month_inflow[k] += amount;
            }
        }
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
        let cat = dictionary_flags(chunk.category.values(), category_flags);
        let chan = dictionary_flags(chunk.channel.values(), channel_flags);
        let flag = |codes: &[u32], table: &[u8], r: usize| -> u8 {
            codes
                .get(r)
                .and_then(|&c| table.get(c as usize))
                .copied()
                .unwrap_or(0)
        };
        let index = &self.book.account_index;
        chunk
            .account_id
            .par_iter()
            .map(|&id| index.get(id).unwrap_or(NONE))
            .collect_into_vec(&mut self.rows_account);
        (0..n)
            .into_par_iter()
            .map(|r| flag(&chunk.category.codes, &cat, r) | flag(&chunk.channel.codes, &chan, r))
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
