//! The transaction pass over the columnar copy: the same aggregates and
//! latest balances as [`TxnPass::add_chunk`] over a store scan, computed
//! another way so the copy's row groups are decoded in parallel and the
//! pass does not wait for the book.
//!
//! * Per account, not per customer: each worker of
//!   [`crate::columnar::fold_transactions`] folds the row groups it takes
//!   into its own per-account [`TxnAcc`]s, keyed by the store's account id
//!   (no book needed, so the pass runs while the book and the other tables
//!   load). Once the book is there, each customer's accumulator is the
//!   [`TxnAcc::merge`] of its owned accounts' over every worker: the same
//!   integers as adding the transactions to each owner directly.
//! * The latest balance without decoding every source key: the key only
//!   orders the rows of one account on its latest day. A worker keeps, per
//!   account, the latest day and every row on it (position and
//!   balance_after); when the rows on an account's final latest day carry
//!   different balances, their keys are read back from their row groups
//!   ([`FoldedGroups::source_keys`]) and the largest key wins, as in
//!   [`AccountLast::offer`] (equal keys: the first in the copy's order).

use super::book::{CustomerIndex, NONE};
use super::txn::{AccountLast, ChunkFlags, TxnAcc, TxnPass, NO_DAY};
use super::ColumnarSource;
use crate::columnar::{
    fold_transactions, ChunkOrigin, ColumnarError, Folded, FoldedGroups, TxnColumns,
};
use crate::window::AsOf;
use rapport_store::{DayRange, StrColumn, TxnChunk};
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Account ids below this are slotted through a table, others through a map.
const DIRECT_IDS: i64 = 1 << 24;

/// Store account id → a worker's slot.
#[derive(Debug, Default)]
struct IdSlots {
    direct: Vec<u32>,
    hashed: HashMap<i64, u32>,
}

impl IdSlots {
    #[inline]
    fn get(&self, id: i64) -> Option<u32> {
        if (0..DIRECT_IDS).contains(&id) {
            self.direct.get(id as usize).copied().filter(|&s| s != NONE)
        } else {
            self.hashed.get(&id).copied()
        }
    }

    /// The slot of `id`, given slot `next` when it has none yet.
    #[inline]
    fn get_or_insert(&mut self, id: i64, next: u32) -> u32 {
        if (0..DIRECT_IDS).contains(&id) {
            let i = id as usize;
            if i >= self.direct.len() {
                self.direct
                    .resize((i + 1).next_power_of_two().min(DIRECT_IDS as usize), NONE);
            }
            let s = &mut self.direct[i];
            if *s == NONE {
                *s = next;
            }
            *s
        } else {
            *self.hashed.entry(id).or_insert(next)
        }
    }
}

/// A row that may be an account's latest: its position in the read (row
/// group number << 32 | row number in the group) and its balance_after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Candidate {
    pos: u64,
    balance_after: Option<i64>,
}

/// The latest day seen of one account (`NO_DAY`: none) and the rows on it:
/// `first`, then the worker's tie list from `more` (`NONE`: no more).
#[derive(Debug, Clone, Copy)]
struct Latest {
    day: i32,
    first: Candidate,
    more: u32,
}

impl Default for Latest {
    fn default() -> Self {
        Latest {
            day: NO_DAY,
            first: Candidate {
                pos: 0,
                balance_after: None,
            },
            more: NONE,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Tie {
    c: Candidate,
    next: u32,
}

/// Tie lists are compacted (rows on superseded days dropped) when they grow
/// past this, or past twice what the last compaction kept.
const MIN_COMPACT: usize = 1 << 16;

/// One worker's state: per account (in the order met) its aggregates and
/// its latest rows before D and before D-30.
#[derive(Debug)]
pub(crate) struct AccountFold {
    w: AsOf,
    slots: IdSlots,
    accs: Vec<TxnAcc>,
    last: Vec<Latest>,
    last_30: Vec<Latest>,
    ties: Vec<Tie>,
    compact_at: usize,
}

#[inline]
fn offer(l: &mut Latest, ties: &mut Vec<Tie>, day: i32, c: Candidate) {
    if day > l.day {
        *l = Latest {
            day,
            first: c,
            more: NONE,
        };
    } else if day == l.day {
        ties.push(Tie { c, next: l.more });
        l.more = (ties.len() - 1) as u32;
    }
}

impl AccountFold {
    pub(crate) fn new(w: AsOf) -> Self {
        AccountFold {
            w,
            slots: IdSlots::default(),
            accs: Vec::new(),
            last: Vec::new(),
            last_30: Vec::new(),
            ties: Vec::new(),
            compact_at: MIN_COMPACT,
        }
    }

    /// Adds the transactions of `chunk` booked before D.
    pub(crate) fn add_chunk(&mut self, chunk: &TxnChunk, origin: ChunkOrigin<'_>) {
        let w = self.w;
        let flags = ChunkFlags::of(chunk);
        let group = u64::from(origin.group) << 32;
        for r in 0..chunk.len() {
            let day = chunk.booked_on[r];
            if day >= w.day {
                continue;
            }
            let next = self.accs.len() as u32;
            let s = self.slots.get_or_insert(chunk.account_id[r], next) as usize;
            if s == self.accs.len() {
                self.accs.push(TxnAcc::default());
                self.last.push(Latest::default());
                self.last_30.push(Latest::default());
            }
            self.accs[s].add(&w, day, chunk.amount[r], flags.row(chunk, r));
            let row = origin.rows.get(r).copied().unwrap_or(u32::MAX);
            let c = Candidate {
                pos: group | u64::from(row),
                balance_after: chunk.balance_after[r],
            };
            offer(&mut self.last[s], &mut self.ties, day, c);
            if day < w.d30 {
                offer(&mut self.last_30[s], &mut self.ties, day, c);
            }
        }
        if self.ties.len() > self.compact_at {
            self.compact();
        }
    }

    /// Drops the tie rows no account's latest day holds any more.
    fn compact(&mut self) {
        let mut kept = Vec::new();
        for l in self.last.iter_mut().chain(self.last_30.iter_mut()) {
            let (mut i, mut head) = (l.more, NONE);
            while let Some(t) = self.ties.get(i as usize) {
                kept.push(Tie { c: t.c, next: head });
                head = (kept.len() - 1) as u32;
                i = t.next;
            }
            l.more = head;
        }
        self.ties = kept;
        self.compact_at = (2 * self.ties.len()).max(MIN_COMPACT);
    }

    /// The rows on latest day `l.day`.
    fn candidates(&self, l: Latest) -> impl Iterator<Item = Candidate> + '_ {
        let mut i = l.more;
        std::iter::once(l.first).chain(std::iter::from_fn(move || {
            let t = self.ties.get(i as usize)?;
            i = t.next;
            Some(t.c)
        }))
    }
}

/// The latest row of one account over every worker: decided, or tied rows
/// with different balances whose keys decide.
enum Outcome {
    Decided(AccountLast),
    Tied(i32, Vec<Candidate>),
}

fn latest_of(folds: &[AccountFold], id: i64, thirty: bool) -> Outcome {
    let pick = |f: &AccountFold| -> Option<Latest> {
        let s = f.slots.get(id)? as usize;
        let l = if thirty { &f.last_30 } else { &f.last };
        l.get(s).copied()
    };
    let day = folds
        .iter()
        .filter_map(&pick)
        .map(|l| l.day)
        .max()
        .unwrap_or(NO_DAY);
    if day == NO_DAY {
        return Outcome::Decided(AccountLast::default());
    }
    let rows = || {
        folds
            .iter()
            .filter_map(|f| pick(f).filter(|l| l.day == day).map(|l| (f, l)))
            .flat_map(|(f, l)| f.candidates(l))
    };
    let Some(first) = rows().next() else {
        return Outcome::Decided(AccountLast::default());
    };
    if rows().all(|c| c.balance_after == first.balance_after) {
        return Outcome::Decided(AccountLast {
            day,
            balance_after: first.balance_after,
            key: String::new(),
        });
    }
    let mut all: Vec<Candidate> = rows().collect();
    all.sort_unstable_by_key(|c| c.pos);
    Outcome::Tied(day, all)
}

impl<'a> TxnPass<'a> {
    /// The pass from the workers' per-account states (see the module doc);
    /// reads back the source keys of tied rows from `groups`.
    pub(crate) fn from_folds(
        book: &'a CustomerIndex,
        w: AsOf,
        folds: &[AccountFold],
        groups: &FoldedGroups,
    ) -> Result<TxnPass<'a>, ColumnarError> {
        let mut pass = TxnPass::new(book, w);
        let ids = &book.accounts.ids;
        pass.customers
            .par_iter_mut()
            .enumerate()
            .for_each(|(c, acc)| {
                for &a in book.owned.of(c as u32) {
                    let id = ids[a as usize];
                    for f in folds {
                        if let Some(s) = f.slots.get(id) {
                            acc.merge(&f.accs[s as usize]);
                        }
                    }
                }
            });

        // (tracked slot, before D-30?, outcome) of every tracked account.
        let outcomes: Vec<(usize, bool, Outcome)> = pass
            .tracked
            .par_iter()
            .enumerate()
            .filter(|&(_, &s)| s != NONE)
            .flat_map_iter(|(a, &s)| {
                let id = ids[a];
                [false, true]
                    .into_iter()
                    .map(move |thirty| (s as usize, thirty, latest_of(folds, id, thirty)))
            })
            .collect();
        let needed: BTreeSet<u32> = outcomes
            .iter()
            .filter_map(|(_, _, o)| match o {
                Outcome::Tied(_, cs) => Some(cs),
                Outcome::Decided(_) => None,
            })
            .flatten()
            .map(|c| (c.pos >> 32) as u32)
            .collect();
        let keys: HashMap<u32, StrColumn> = needed
            .into_par_iter()
            .map(|g| groups.source_keys(g).map(|k| (g, k)))
            .collect::<Result<_, _>>()?;
        let key_of = |c: &Candidate| -> &str {
            keys.get(&((c.pos >> 32) as u32))
                .map_or("", |k| k.get((c.pos & 0xffff_ffff) as usize))
        };
        for (s, thirty, outcome) in outcomes {
            let last = match outcome {
                Outcome::Decided(l) => l,
                Outcome::Tied(day, cs) => {
                    // In the copy's order, the first of the largest keys.
                    let mut best = &cs[0];
                    for c in &cs[1..] {
                        if key_of(c) > key_of(best) {
                            best = c;
                        }
                    }
                    AccountLast {
                        day,
                        balance_after: best.balance_after,
                        key: String::new(),
                    }
                }
            };
            let slot = if thirty {
                &mut pass.last_30[s]
            } else {
                &mut pass.last[s]
            };
            *slot = last;
        }
        Ok(pass)
    }
}

/// The copy's transaction pass running on its own thread, started before
/// the book loads (it does not need it); stopped if dropped unfinished.
pub(crate) struct CopyPass {
    handle: Option<JoinHandle<Result<Folded<AccountFold>, ColumnarError>>>,
    stop: Arc<AtomicBool>,
}

impl CopyPass {
    pub(crate) fn start(src: Arc<ColumnarSource>, w: AsOf, range: DayRange) -> CopyPass {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let handle = std::thread::spawn(move || {
            fold_transactions(
                &src.dir,
                &src.manifest,
                &src.customers,
                range,
                TxnColumns::features(),
                rayon::current_num_threads(),
                &stopped,
                || AccountFold::new(w),
                |f, chunk, origin| f.add_chunk(chunk, origin),
            )
        });
        CopyPass {
            handle: Some(handle),
            stop,
        }
    }

    /// Waits for the workers' states.
    pub(crate) fn finish(mut self) -> Result<Folded<AccountFold>, ColumnarError> {
        match self.handle.take().map(JoinHandle::join) {
            Some(Ok(folded)) => folded,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => Err(ColumnarError::Format {
                path: std::path::PathBuf::new(),
                message: "the copy's transaction pass was already taken".into(),
            }),
        }
    }
}

impl Drop for CopyPass {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columnar::{CustomerMap, Manifest, PartWriter, LAYOUT_VERSION};
    use crate::features::aggregates::N_AGGREGATES;
    use crate::features::book::{Accounts, Customers, OwnerRoles};
    use chrono::NaiveDate;
    use rapport_domain::AccountType;
    use rapport_store::epoch_day;

    #[allow(clippy::unwrap_used)]
    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// Rows (account, day, amount, balance_after, category, source key).
    type Row<'a> = (i64, NaiveDate, i64, Option<i64>, Option<&'a str>, &'a str);

    fn chunk(rows: &[Row<'_>]) -> TxnChunk {
        let mut c = TxnChunk::default();
        for &(account, day, amount, balance, category, key) in rows {
            c.account_id.push(account);
            // The account's own customer (accounts 10, 11, 12 → customers 1, 2, 3).
            c.customer_id.push(account - 9);
            c.booked_on.push(epoch_day(day));
            c.amount.push(amount);
            c.balance_after.push(balance);
            c.category.push(category);
            c.channel.push(Some("mobile"));
            c.source_key.push(key);
        }
        c
    }

    fn book() -> CustomerIndex {
        let customers = Customers {
            ids: vec![1, 2, 3],
            keys: vec!["a".into(), "b".into(), "c".into()],
            birth_date: vec![None; 3],
        };
        let accounts = Accounts {
            ids: vec![10, 11, 12],
            customer_id: vec![1, 2, 3],
            kind: vec![
                Some(AccountType::Current),
                Some(AccountType::Savings),
                Some(AccountType::Current),
            ],
            opened_on: vec![None; 3],
            closed_on: vec![None; 3],
            balance: vec![Some(1), Some(2), Some(3)],
            credit_limit: vec![None; 3],
        };
        // Account 10 is joint: customer 2 owns it too.
        let roles = OwnerRoles {
            pairs: vec![(10, 2)],
        };
        CustomerIndex::new(customers, accounts, roles)
    }

    /// The pass over the copy (two parts of one month: two row groups,
    /// taken by two workers) gives exactly what the store's pass gives over
    /// the same rows, ties on an account's latest day (before D and before
    /// D-30) decided by the largest key wherever the tied rows lie.
    #[test]
    #[allow(clippy::unwrap_used)]
    fn the_copys_pass_equals_the_stores_on_tied_days() {
        let d = date(2025, 1, 31);
        let w = AsOf::new(d).unwrap();
        let (last, before_30) = (date(2025, 1, 30), date(2024, 12, 20));
        let first: Vec<Row<'_>> = vec![
            (10, last, -500, Some(100), None, "k5"),
            (10, last, 300, Some(900), Some("salary"), "k9"),
            (10, before_30, -20, Some(40), Some("cash_withdrawal"), "m1"),
            (11, last, -7, Some(50), None, "x1"),
            (11, date(2025, 1, 2), 70, Some(57), None, "x0"),
            (12, before_30, -1, None, None, "z"),
            // On D: not counted, not a latest.
            (10, d, -1_000, Some(-1), None, "zzz"),
            // An account the book does not have.
            (99, last, -3, Some(3), None, "q"),
        ];
        let second: Vec<Row<'_>> = vec![
            (10, last, -100, Some(200), None, "k7"),
            (10, before_30, -30, Some(10), None, "m3"),
            (10, before_30, -40, Some(25), None, "m2"),
            (11, last, -9, Some(50), None, "x2"),
            (12, before_30, -2, Some(8), None, "y"),
        ];
        let (first, second) = (chunk(&first), chunk(&second));

        let dir = tempfile::tempdir().unwrap();
        let mut customers = CustomerMap::default();
        let mut parts = Vec::new();
        for (name, c) in [("a", &first), ("b", &second)] {
            let mut writer = PartWriter::new(dir.path(), name, customers).unwrap();
            writer.add_chunk(c).unwrap();
            let (p, map) = writer.finish().unwrap();
            parts.extend(p);
            customers = map;
        }
        let manifest = Manifest {
            version: LAYOUT_VERSION,
            rows: parts.iter().map(|p| p.rows).sum(),
            max_txn_id: 0,
            parts,
        };

        let book = book();
        let mut reference = TxnPass::new(&book, w);
        reference.add_chunk(&first);
        reference.add_chunk(&second);

        let stop = AtomicBool::new(false);
        let folded = fold_transactions(
            dir.path(),
            &manifest,
            &customers,
            DayRange::before(d),
            TxnColumns::features(),
            2,
            &stop,
            || AccountFold::new(w),
            |f, c, o| f.add_chunk(c, o),
        )
        .unwrap();
        assert_eq!(folded.rows, 12);
        let pass = TxnPass::from_folds(&book, w, &folded.states, &folded.groups).unwrap();

        for c in 0..3 {
            for i in 0..N_AGGREGATES {
                assert_eq!(
                    pass.customers[c].get(i),
                    reference.customers[c].get(i),
                    "customer {c}, aggregate {i}"
                );
            }
        }
        let latest = |p: &TxnPass<'_>| -> Vec<(i32, Option<i64>, i32, Option<i64>)> {
            p.last
                .iter()
                .zip(&p.last_30)
                .map(|(l, l30)| (l.day, l.balance_after, l30.day, l30.balance_after))
                .collect()
        };
        assert_eq!(latest(&pass), latest(&reference));
        // The ties were decided by the keys: k9 (900) before D, m3 (10)
        // before D-30, z (no balance) over y (8).
        let (l, l30) = (epoch_day(last), epoch_day(before_30));
        assert_eq!(
            latest(&pass),
            [
                (l, Some(900), l30, Some(10)),
                (l, Some(50), NO_DAY, None),
                (l30, None, l30, None),
            ]
        );
        assert_eq!(pass.account_balances(), reference.account_balances());
        assert_eq!(pass.account_balances_30(), reference.account_balances_30());
    }
}
