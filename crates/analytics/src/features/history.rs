//! Per-customer transaction histories for the live early-warning path: the
//! state a transaction arriving on its own updates, so that the customer's
//! transaction features can be recomputed at once without a batch run.
//!
//! Bootstrapped from the store as of a date D0 (one scan of every
//! transaction before D0, like the batch engine), it keeps, per customer, the
//! transactions of the last [`HORIZON_DAYS`] days (every window a feature
//! looks at: 90 days, the six whole months before the as-of month, the
//! balance 30 days ago) and folds what is older into a few carried values
//! (latest day, latest salary day, each deposit account's latest balance).
//! [`TxnHistories::features`] replays one customer's kept transactions
//! through the batch engine's own accumulator and value functions, so the
//! live values are the batch values by construction, not by a second
//! implementation.
//!
//! What is not a transaction (loans, cards, statements, cases, surveys,
//! holdings) stays as of D0: the live path refreshes transaction features
//! only; the nightly batch refreshes the rest.
//!
//! Must never write to the store or evaluate rules (the alert engine does).

use super::book::CustomerIndex;
use super::products::SmallTableFacts;
use super::txn::{account_balance, category_flags, channel_flags, AccountLast, TxnAcc, NO_DAY};
use super::{derive_one, load_customer_index, load_others, value, CATALOG};
use crate::window::AsOf;
use crate::AnalyticsError;
use chrono::NaiveDate;
use rapport_store::{epoch_day, DayRange, Store, DEFAULT_SCAN_CHUNK_ROWS};
use std::sync::Arc;

/// Days of transactions kept per customer: the six whole months before the
/// as-of month reach back at most 7 × 31 days; the rest of the windows less.
pub const HORIZON_DAYS: i32 = 250;

/// The features computed from transactions alone: the ones the live path
/// keeps current (the rest are as of the bootstrap date).
pub const TRANSACTION_FEATURES: &[&str] = &[
    "txn_count_1",
    "txn_count_30",
    "txn_count_90",
    "inflow_90",
    "outflow_90",
    "outflow_1",
    "max_outflow_1",
    "max_outflow_90",
    "days_since_last_txn",
    "days_since_salary",
    "balance_now",
    "balance_30_ago",
    "salary_months_6",
    "avg_monthly_inflow_6m",
    "liquidity_months",
    "inflow_cv_6m",
    "inflow_trend_3m",
    "digital_share_90",
    "cash_withdrawals_30",
    "cash_withdrawals_90",
    "cash_withdrawal_trend",
    "salary_gap_days",
    "net_outflow_90",
    "drained_share_90",
];

/// One transaction arriving on the live path (store ids, minor units).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveTxn {
    pub account_id: i64,
    pub booked_on: NaiveDate,
    /// Minor units; positive in, negative out.
    pub amount: i64,
    pub balance_after: Option<i64>,
    pub category: String,
    pub channel: String,
    pub source_key: String,
}

/// A kept transaction of one customer.
#[derive(Debug, Clone)]
struct Kept {
    day: i32,
    account: u32,
    amount: i64,
    balance_after: Option<i64>,
    flags: u8,
    key: Box<str>,
}

/// [`AccountLast`] over borrowed keys: the same choice (by day, then larger
/// source key) made without copying a key per transaction offered, as
/// [`TxnHistories::features_at`] does for every live transaction.
#[derive(Debug, Clone, Copy)]
struct Latest<'a> {
    day: i32,
    key: &'a str,
    balance_after: Option<i64>,
}

impl<'a> Latest<'a> {
    /// What [`AccountLast::default`] holds.
    const NONE: Latest<'static> = Latest {
        day: NO_DAY,
        key: "",
        balance_after: None,
    };

    fn of(l: &'a AccountLast) -> Self {
        Latest {
            day: l.day,
            key: &l.key,
            balance_after: l.balance_after,
        }
    }

    /// [`AccountLast::offer`].
    #[inline]
    fn offer(&mut self, day: i32, key: &'a str, balance_after: Option<i64>) {
        if day > self.day || (day == self.day && key > self.key) {
            *self = Latest {
                day,
                key,
                balance_after,
            };
        }
    }

    /// The day and balance the balance functions read (they never read the
    /// key, which only breaks ties while choosing).
    fn owned(self) -> AccountLast {
        AccountLast {
            day: self.day,
            balance_after: self.balance_after,
            key: String::new(),
        }
    }

    /// With its key, to go on choosing ([`Warm`]).
    fn with_key(self) -> AccountLast {
        AccountLast {
            day: self.day,
            balance_after: self.balance_after,
            key: self.key.to_string(),
        }
    }
}

/// What one customer's transactions older than the horizon left behind.
#[derive(Debug, Clone, Copy)]
struct Carried {
    last_day: i32,
    last_salary_day: i32,
}

impl Default for Carried {
    fn default() -> Self {
        Carried {
            last_day: NO_DAY,
            last_salary_day: NO_DAY,
        }
    }
}

impl Carried {
    /// Adds the carried latest days before D to `acc` (folded from the kept history).
    fn add_to(&self, acc: &mut TxnAcc, w: AsOf) {
        if self.last_day != NO_DAY && self.last_day < w.day {
            acc.last_day = acc.last_day.max(self.last_day);
        }
        if self.last_salary_day != NO_DAY && self.last_salary_day < w.day {
            acc.last_salary_day = acc.last_salary_day.max(self.last_salary_day);
        }
    }
}

/// Every customer's recent transactions and carried state.
pub struct TxnHistories {
    book: Arc<CustomerIndex>,
    /// Non-transaction inputs as of the bootstrap date.
    others: SmallTableFacts,
    kept: Vec<Vec<Kept>>,
    carried: Vec<Carried>,
    /// Per account: the latest transaction older than the horizon.
    account_carried: Vec<AccountLast>,
    /// The latest booking day seen (the horizon moves with it).
    newest_day: i32,
    pushed: u64,
    /// Per customer: what [`Self::features_at`] computed last, kept up to
    /// date by [`Self::push_ref`] (see [`Warm`]).
    warm: Vec<Option<Warm>>,
}

/// One customer's transaction accumulator and its accounts' latest
/// transactions as of one day D, over its kept transactions (the carried
/// values of the customer applied when read): what
/// [`TxnHistories::features_at`] would fold again from the whole kept
/// history. A transaction pushed for the customer is added to it as the
/// fold would add it — the accumulator only sums, counts, takes maxima and
/// ors (integers: the order does not matter) and the latest transaction is
/// the maximum by (day, key), the pushed one offered last as it is last of
/// its day in the kept list — so the values are the recomputed ones,
/// exactly. Dropped when the customer's kept list loses transactions to
/// the horizon (its carried values change); another owner's pruning of a
/// shared account only offers the account's carried latest transactions
/// this customer still keeps (or carried already), which changes no maximum.
#[derive(Debug, Clone)]
struct Warm {
    w: AsOf,
    acc: TxnAcc,
    /// Per owned account: its latest transaction before D and before D−30.
    lasts: Vec<(u32, AccountLast, AccountLast)>,
}

impl std::fmt::Debug for TxnHistories {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TxnHistories")
            .field("customers", &self.book.customer_count())
            .field("accounts", &self.book.account_count())
            .field("pushed", &self.pushed)
            .finish()
    }
}

impl TxnHistories {
    /// The state after every transaction booked before `as_of`.
    #[tracing::instrument(skip_all, fields(as_of = %as_of), err)]
    pub async fn load(store: &Store, as_of: NaiveDate) -> Result<Self, AnalyticsError> {
        let w = AsOf::new(as_of)?;
        let rows = DEFAULT_SCAN_CHUNK_ROWS;
        let book = Arc::new(load_customer_index(store, rows).await?);
        let others = load_others(store, &book, w, rows, true).await?;
        let mut h = TxnHistories {
            kept: vec![Vec::new(); book.customer_count()],
            carried: vec![Carried::default(); book.customer_count()],
            account_carried: vec![AccountLast::default(); book.account_count()],
            newest_day: NO_DAY,
            pushed: 0,
            warm: vec![None; book.customer_count()],
            book,
            others,
        };
        let mut failure = None;
        store
            .scan_transactions(DayRange::before(as_of), rows, |c| {
                let cat: Vec<u8> = c
                    .category
                    .values()
                    .iter()
                    .map(|v| category_flags(v))
                    .collect();
                let chan: Vec<u8> = c
                    .channel
                    .values()
                    .iter()
                    .map(|v| channel_flags(v))
                    .collect();
                for r in 0..c.len() {
                    let flag = |codes: &[u32], table: &[u8]| {
                        codes
                            .get(r)
                            .and_then(|&k| table.get(k as usize))
                            .copied()
                            .unwrap_or(0)
                    };
                    let Some(a) = h.book.account_index.get(c.account_id[r]) else {
                        continue;
                    };
                    let kept = Kept {
                        day: c.booked_on[r],
                        account: a,
                        amount: c.amount[r],
                        balance_after: c.balance_after[r],
                        flags: flag(&c.category.codes, &cat) | flag(&c.channel.codes, &chan),
                        key: c.source_key.get(r).into(),
                    };
                    if let Err(e) = h.insert(kept) {
                        failure.get_or_insert(e);
                    }
                }
            })
            .await?;
        if let Some(e) = failure {
            return Err(e);
        }
        h.newest_day = h.newest_day.max(w.day - 1);
        h.prune_all();
        Ok(h)
    }

    /// Adds one transaction; returns the store ids of the customers owning
    /// its account (whose features it changes).
    pub fn push(&mut self, txn: LiveTxn) -> Result<Vec<i64>, AnalyticsError> {
        self.push_ref(&txn)
    }

    /// [`Self::push`] of a borrowed transaction (the caller keeps it: the
    /// live path stores it next).
    pub fn push_ref(&mut self, txn: &LiveTxn) -> Result<Vec<i64>, AnalyticsError> {
        let a = self
            .book
            .account_index
            .get(txn.account_id)
            .ok_or(AnalyticsError::UnknownAccount(txn.account_id))?;
        let kept = Kept {
            day: epoch_day(txn.booked_on),
            account: a,
            amount: txn.amount,
            balance_after: txn.balance_after,
            flags: category_flags(&txn.category) | channel_flags(&txn.channel),
            key: txn.source_key.as_str().into(),
        };
        let (day, account) = (kept.day, kept.account);
        let (amount, flags, balance_after) = (kept.amount, kept.flags, kept.balance_after);
        let owners = self.insert(kept)?;
        self.pushed += 1;
        for &c in &owners {
            let pruned = self.prune(c as usize);
            let Some(slot) = self.warm.get_mut(c as usize) else {
                continue;
            };
            if pruned {
                *slot = None;
            } else if let Some(warm) = slot {
                let w = warm.w;
                warm.acc.add(&w, day, amount, flags);
                for (_, last, last_30) in warm.lasts.iter_mut().filter(|l| l.0 == account) {
                    if day < w.day {
                        last.offer(day, &txn.source_key, balance_after);
                    }
                    if day < w.d30 {
                        last_30.offer(day, &txn.source_key, balance_after);
                    }
                }
            }
        }
        let ids = &self.book.customers.ids;
        Ok(owners
            .iter()
            .filter_map(|&c| ids.get(c as usize).copied())
            .collect())
    }

    /// Transactions added by [`Self::push`] since the bootstrap.
    pub fn pushed(&self) -> u64 {
        self.pushed
    }

    /// Whether the account with store id `account_id` is known and owned
    /// (what [`Self::owners_of`] tells, without building the list).
    pub fn has_owners(&self, account_id: i64) -> bool {
        self.book
            .account_index
            .get(account_id)
            .is_some_and(|a| !self.book.owners.of(a).is_empty())
    }

    /// The store ids of the customers owning the account with store id `account_id`.
    pub fn owners_of(&self, account_id: i64) -> Vec<i64> {
        let Some(a) = self.book.account_index.get(account_id) else {
            return Vec::new();
        };
        let ids = &self.book.customers.ids;
        self.book
            .owners
            .of(a)
            .iter()
            .filter_map(|&c| ids.get(c as usize).copied())
            .collect()
    }

    /// Every feature of the catalogue for the customer with store id
    /// `customer_id` as of `as_of` (windows `[as_of − W, as_of)`), in catalogue
    /// order: the transaction features from the kept history, the others as
    /// of the bootstrap date. `None` for an unknown customer or an as-of date
    /// older than the kept horizon.
    pub fn features(
        &self,
        customer_id: i64,
        as_of: NaiveDate,
    ) -> Option<Vec<(&'static str, Option<f64>)>> {
        let (c, w, acc, derived) = self.inputs(customer_id, as_of)?;
        let book = &*self.book;
        Some(
            CATALOG
                .iter()
                .map(|(f, spec)| {
                    (
                        spec.name,
                        value(*f, c, book, w, &acc, &self.others, &derived),
                    )
                })
                .collect(),
        )
    }

    /// Only the features at catalogue indices `wanted` (as
    /// [`Self::features`] computes them; `None` for an index out of the
    /// catalogue), written to `out` in the order of `wanted`: what the live
    /// rules read, without computing the rest of the catalogue. False (and
    /// `out` empty) where [`Self::features`] gives `None`.
    ///
    /// The customer's accumulator and latest transactions are kept between
    /// calls for the same day and brought up to date by each transaction
    /// pushed ([`Warm`]): a customer's next transaction of the day costs the
    /// transaction, not the history. [`Self::features`] folds the history
    /// each time; the two agree exactly (tested).
    pub fn features_at(
        &mut self,
        customer_id: i64,
        as_of: NaiveDate,
        wanted: &[usize],
        out: &mut Vec<Option<f64>>,
    ) -> bool {
        out.clear();
        let Some((c, w, acc, derived)) = self.warm_inputs(customer_id, as_of) else {
            return false;
        };
        let book = &*self.book;
        out.extend(wanted.iter().map(|&i| {
            CATALOG
                .get(i)
                .and_then(|(f, _)| value(*f, c, book, w, &acc, &self.others, &derived))
        }));
        true
    }

    /// The customer's dense index and the windows of `as_of`; `None` for an
    /// unknown customer or a date whose windows reach before the kept history.
    fn window(&self, customer_id: i64, as_of: NaiveDate) -> Option<(usize, AsOf)> {
        let c = self.book.customer_index.get(customer_id)? as usize;
        let w = AsOf::new(as_of).ok()?;
        let cutoff = self.newest_day.saturating_sub(HORIZON_DAYS);
        if self.newest_day != NO_DAY && cutoff > w.month_starts[0].min(w.d90) {
            return None;
        }
        Some((c, w))
    }

    /// One customer's inputs to the value functions as of `as_of`: its
    /// index, the windows, the transaction accumulator over its kept
    /// history and the derived values (balances among them).
    fn inputs(
        &self,
        customer_id: i64,
        as_of: NaiveDate,
    ) -> Option<(usize, AsOf, TxnAcc, super::Derived)> {
        let (c, w) = self.window(customer_id, as_of)?;
        let kept = self.kept.get(c)?;
        let carried = self.carried.get(c)?;
        let mut acc = TxnAcc::default();
        for k in kept {
            acc.add(&w, k.day, k.amount, k.flags);
        }
        carried.add_to(&mut acc, w);
        let book = &*self.book;
        let balances = |a: usize| {
            let (last, last_30) = self.latest(kept, a, w);
            let (last, last_30) = (last.owned(), last_30.owned());
            (
                account_balance(&book.accounts, a, w, &last, &last_30, false),
                account_balance(&book.accounts, a, w, &last, &last_30, true),
            )
        };
        let derived = derive_one(book, w, c, &self.others, balances);
        Some((c, w, acc, derived))
    }

    /// [`Self::inputs`] from the customer's [`Warm`] state for `as_of`,
    /// folded from the kept history first when there is none for that day.
    fn warm_inputs(
        &mut self,
        customer_id: i64,
        as_of: NaiveDate,
    ) -> Option<(usize, AsOf, TxnAcc, super::Derived)> {
        let (c, w) = self.window(customer_id, as_of)?;
        let kept = self.kept.get(c)?;
        let carried = *self.carried.get(c)?;
        let fresh = !matches!(self.warm.get(c), Some(Some(warm)) if warm.w == w);
        if fresh {
            let mut acc = TxnAcc::default();
            for k in kept {
                acc.add(&w, k.day, k.amount, k.flags);
            }
            let lasts = self
                .book
                .owned
                .of(c as u32)
                .iter()
                .map(|&a| {
                    let (last, last_30) = self.latest(kept, a as usize, w);
                    (a, last.with_key(), last_30.with_key())
                })
                .collect();
            let slot = self.warm.get_mut(c)?;
            *slot = Some(Warm { w, acc, lasts });
        }
        let warm = self.warm.get(c)?.as_ref()?;
        let mut acc = warm.acc;
        carried.add_to(&mut acc, w);
        let book = &*self.book;
        let balances = |a: usize| {
            let none = (None, None);
            let Some((_, last, last_30)) = warm.lasts.iter().find(|l| l.0 as usize == a) else {
                return none;
            };
            (
                account_balance(&book.accounts, a, w, last, last_30, false),
                account_balance(&book.accounts, a, w, last, last_30, true),
            )
        };
        let derived = derive_one(book, w, c, &self.others, balances);
        Some((c, w, acc, derived))
    }

    /// Account `a`'s latest transaction before D and before D−30 among its
    /// carried one and the customer's `kept` ones.
    fn latest<'a>(&'a self, kept: &'a [Kept], a: usize, w: AsOf) -> (Latest<'a>, Latest<'a>) {
        let mut last = self.account_carried.get(a).map_or(Latest::NONE, Latest::of);
        let mut last_30 = last;
        if last.day >= w.day {
            last = Latest::NONE;
        }
        if last_30.day >= w.d30 {
            last_30 = Latest::NONE;
        }
        for k in kept.iter().filter(|k| k.account as usize == a) {
            if k.day < w.day {
                last.offer(k.day, &k.key, k.balance_after);
            }
            if k.day < w.d30 {
                last_30.offer(k.day, &k.key, k.balance_after);
            }
        }
        (last, last_30)
    }

    /// Files a transaction under every owner of its account, in day order.
    fn insert(&mut self, k: Kept) -> Result<Vec<u32>, AnalyticsError> {
        let owners: Vec<u32> = self.book.owners.of(k.account).to_vec();
        self.newest_day = self.newest_day.max(k.day);
        for &c in &owners {
            let list = self
                .kept
                .get_mut(c as usize)
                .ok_or(AnalyticsError::UnknownAccount(i64::from(k.account)))?;
            let at = list.partition_point(|x| x.day <= k.day);
            list.insert(at, k.clone());
        }
        if owners.is_empty() {
            // No owner: only the account's balance matters.
            if let Some(l) = self.account_carried.get_mut(k.account as usize) {
                l.offer(k.day, &k.key, k.balance_after);
            }
        }
        Ok(owners)
    }

    fn prune_all(&mut self) {
        for c in 0..self.kept.len() {
            self.prune(c);
        }
    }

    /// Folds customer `c`'s transactions older than the horizon into the
    /// carried values; whether there were any.
    fn prune(&mut self, c: usize) -> bool {
        let cutoff = self.newest_day.saturating_sub(HORIZON_DAYS);
        let Some(list) = self.kept.get_mut(c) else {
            return false;
        };
        let old = list.partition_point(|k| k.day < cutoff);
        if old == 0 {
            return false;
        }
        let carried = &mut self.carried[c];
        for k in list.drain(..old) {
            carried.last_day = carried.last_day.max(k.day);
            if k.flags & super::txn::SALARY != 0 {
                carried.last_salary_day = carried.last_salary_day.max(k.day);
            }
            if let Some(l) = self.account_carried.get_mut(k.account as usize) {
                l.offer(k.day, &k.key, k.balance_after);
            }
        }
        true
    }
}
