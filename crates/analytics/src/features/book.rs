//! The customer and account book: dense numbers for customers and accounts,
//! the per-account columns the features need, and who owns which account
//! (both directions, as compressed adjacency lists).
//!
//! An account is owned by its `customer_id` and by every customer with an
//! `owner` role on it.

use crate::DenseIndex;
use rapport_domain::{AccountRole, AccountType};
use rapport_store::{AccountChunk, AccountRoleChunk, CustomerChunk};

/// Marks "no index" in `u32` index columns.
pub(crate) const NONE: u32 = u32::MAX;

/// Customers in id order.
#[derive(Debug, Default)]
pub(crate) struct Customers {
    pub ids: Vec<i64>,
    pub keys: Vec<String>,
    pub birth_date: Vec<Option<i32>>,
}

impl Customers {
    /// Puts the customers in id order (scans deliver them so; this makes sure).
    fn sort_by_id(&mut self) {
        if self.ids.windows(2).all(|w| w[0] < w[1]) {
            return;
        }
        let mut order: Vec<usize> = (0..self.ids.len()).collect();
        order.sort_by_key(|&i| self.ids[i]);
        self.ids = order.iter().map(|&i| self.ids[i]).collect();
        self.keys = order
            .iter()
            .map(|&i| std::mem::take(&mut self.keys[i]))
            .collect();
        self.birth_date = order.iter().map(|&i| self.birth_date[i]).collect();
    }

    pub fn add_chunk(&mut self, c: &CustomerChunk) {
        for i in 0..c.len() {
            let id = c.id[i];
            self.ids.push(id);
            let key = c.key.get(i);
            self.keys.push(if key.is_empty() {
                format!("#{id}")
            } else {
                key.to_string()
            });
            self.birth_date.push(c.birth_date.get(i).copied().flatten());
        }
    }
}

/// Accounts in scan order.
#[derive(Debug, Default)]
pub(crate) struct Accounts {
    pub ids: Vec<i64>,
    /// The account's own customer id (its owner as loaded).
    pub customer_id: Vec<i64>,
    /// `None` for a type outside the vocabulary.
    pub kind: Vec<Option<AccountType>>,
    pub opened_on: Vec<Option<i32>>,
    pub closed_on: Vec<Option<i32>>,
    pub balance: Vec<Option<i64>>,
    pub credit_limit: Vec<Option<i64>>,
}

/// The canonical account type spelled `s`, if any (the store keeps canonical spellings).
fn account_type(s: &str) -> Option<AccountType> {
    AccountType::ALL.iter().copied().find(|t| t.as_str() == s)
}

impl Accounts {
    pub fn add_chunk(&mut self, c: &AccountChunk) {
        let kinds: Vec<Option<AccountType>> = c
            .account_type
            .values()
            .iter()
            .map(|v| account_type(v))
            .collect();
        for i in 0..c.len() {
            self.ids.push(c.id[i]);
            self.customer_id.push(c.customer_id[i]);
            self.kind.push(
                c.account_type
                    .codes
                    .get(i)
                    .and_then(|&k| kinds.get(k as usize).copied().flatten()),
            );
            self.opened_on.push(c.opened_on[i]);
            self.closed_on.push(c.closed_on[i]);
            self.balance.push(c.balance[i]);
            self.credit_limit.push(c.credit_limit[i]);
        }
    }

    /// Whether account `a` is open at day `d`: opened before `d` (or unknown)
    /// and not closed before `d`.
    pub fn open_at(&self, a: usize, d: i32) -> bool {
        self.opened_on[a].is_none_or(|o| o < d) && self.not_closed_before(a, d)
    }

    /// Whether account `a` was not closed before day `d`.
    pub fn not_closed_before(&self, a: usize, d: i32) -> bool {
        self.closed_on[a].is_none_or(|c| c >= d)
    }

    pub fn is_deposit(&self, a: usize) -> bool {
        self.kind[a].is_some_and(AccountType::is_deposit)
    }
}

/// (account, customer) pairs of `owner` roles, collected from role chunks.
#[derive(Debug, Default)]
pub(crate) struct OwnerRoles {
    pub pairs: Vec<(i64, i64)>,
}

impl OwnerRoles {
    pub fn add_chunk(&mut self, c: &AccountRoleChunk) {
        let owner: Vec<bool> = c
            .role
            .values()
            .iter()
            .map(|v| v == AccountRole::Owner.as_str())
            .collect();
        for i in 0..c.len() {
            let is_owner = c
                .role
                .codes
                .get(i)
                .and_then(|&k| owner.get(k as usize).copied())
                .unwrap_or(false);
            if is_owner {
                self.pairs.push((c.account_id[i], c.customer_id[i]));
            }
        }
    }
}

/// Compressed adjacency lists: the targets of source `s` are
/// `targets[start[s]..start[s + 1]]`.
#[derive(Debug, Default)]
pub(crate) struct Adjacency {
    start: Vec<u32>,
    targets: Vec<u32>,
}

impl Adjacency {
    /// Builds from (source, target) pairs (sorted and deduplicated here).
    fn new(sources: usize, mut pairs: Vec<(u32, u32)>) -> Self {
        pairs.sort_unstable();
        pairs.dedup();
        let mut start = vec![0u32; sources + 1];
        for &(s, _) in &pairs {
            start[s as usize + 1] += 1;
        }
        for i in 0..sources {
            start[i + 1] += start[i];
        }
        Adjacency {
            start,
            targets: pairs.into_iter().map(|(_, t)| t).collect(),
        }
    }

    #[inline]
    pub fn of(&self, s: u32) -> &[u32] {
        let s = s as usize;
        match (self.start.get(s), self.start.get(s + 1)) {
            (Some(&a), Some(&b)) => &self.targets[a as usize..b as usize],
            _ => &[],
        }
    }
}

/// Customers, accounts and ownership, numbered densely.
#[derive(Debug)]
pub(crate) struct CustomerIndex {
    pub customers: Customers,
    pub customer_index: DenseIndex,
    pub accounts: Accounts,
    pub account_index: DenseIndex,
    /// Account → the customers owning it.
    pub owners: Adjacency,
    /// Customer → the accounts it owns.
    pub owned: Adjacency,
}

impl CustomerIndex {
    pub fn new(mut customers: Customers, accounts: Accounts, roles: OwnerRoles) -> Self {
        customers.sort_by_id();
        let customer_index = DenseIndex::new(&customers.ids);
        let account_index = DenseIndex::new(&accounts.ids);
        let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(accounts.ids.len() + roles.pairs.len());
        for (a, &cid) in accounts.customer_id.iter().enumerate() {
            if let Some(c) = customer_index.get(cid) {
                pairs.push((a as u32, c));
            }
        }
        for &(aid, cid) in &roles.pairs {
            if let (Some(a), Some(c)) = (account_index.get(aid), customer_index.get(cid)) {
                pairs.push((a, c));
            }
        }
        let reversed: Vec<(u32, u32)> = pairs.iter().map(|&(a, c)| (c, a)).collect();
        CustomerIndex {
            owners: Adjacency::new(accounts.ids.len(), pairs),
            owned: Adjacency::new(customers.ids.len(), reversed),
            customers,
            customer_index,
            accounts,
            account_index,
        }
    }

    pub fn customer_count(&self) -> usize {
        self.customers.ids.len()
    }
    pub fn account_count(&self) -> usize {
        self.accounts.ids.len()
    }

    /// The owners of the account with store id `account_id`; when the account
    /// is unknown, the customer with store id `fallback_customer` (if known).
    pub fn owners_or(&self, account_id: i64, fallback_customer: i64) -> Owners<'_> {
        match self.account_index.get(account_id) {
            Some(a) => Owners::Many(self.owners.of(a)),
            None => match self.customer_index.get(fallback_customer) {
                Some(c) => Owners::One(c),
                None => Owners::Many(&[]),
            },
        }
    }
}

/// The owners of one account.
pub(crate) enum Owners<'a> {
    Many(&'a [u32]),
    One(u32),
}

impl Owners<'_> {
    pub fn for_each(&self, mut f: impl FnMut(usize)) {
        match self {
            Owners::Many(cs) => cs.iter().for_each(|&c| f(c as usize)),
            Owners::One(c) => f(*c as usize),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customers_are_put_in_id_order() {
        let mut c = Customers {
            ids: vec![3, 1, 2],
            keys: vec!["c".into(), "a".into(), "b".into()],
            birth_date: vec![Some(3), None, Some(2)],
        };
        c.sort_by_id();
        assert_eq!(c.ids, [1, 2, 3]);
        assert_eq!(c.keys, ["a", "b", "c"]);
        assert_eq!(c.birth_date, [None, Some(2), Some(3)]);
    }

    #[test]
    fn adjacency_lists_are_sorted_and_deduplicated() {
        let adj = Adjacency::new(3, vec![(2, 5), (0, 1), (2, 4), (0, 1)]);
        assert_eq!(adj.of(0), &[1]);
        assert_eq!(adj.of(1), &[] as &[u32]);
        assert_eq!(adj.of(2), &[4, 5]);
        assert_eq!(adj.of(3), &[] as &[u32]);
    }
}
