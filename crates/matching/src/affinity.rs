//! "Customers like you hold": holding affinities learnt from the book.
//!
//! Two similarity signals, both estimated from who holds what:
//!
//! * **item–item** (co-holding): `P(j | i)`, the share of holders of product
//!   `i` who also hold `j`, shrunk towards the base rate `P(j)` with a prior
//!   of [`SHRINK`] customers so rare products do not shout;
//! * **profile–item**: `P(j | profile)`, the share of customers of the same
//!   age band, income band, tier and risk tolerance who hold `j`, shrunk the
//!   same way;
//! * **take-up**: the share of customers of the profile who *opened* `j`
//!   recently (the caller says which holdings are recent, e.g. the last
//!   year), shrunk to the overall take-up rate. Holding shares describe the
//!   stock, take-up the flow: products held for years by many (term
//!   deposits) may be rarely opened now, and the reverse. The engine uses
//!   the even blend of the profile's and the bank-wide take-up.
//!
//! Plain counting, no IO; fitted by the app from the store's holdings (or
//! from the holdings before a cut date in the offline evaluation).

use crate::catalogue::{CustomerFacts, Tier};
use crate::suitability::{tolerance_level, Assessment};
use std::collections::HashMap;

/// Pseudo-customers of prior (base rate) mixed into every conditional share.
pub const SHRINK: f64 = 20.0;

/// The coarse profile customers are compared on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProfileKey {
    /// 0 unknown, 1 under 30, 2 30–44, 3 45–59, 4 60 and over.
    pub age_band: u8,
    /// 0 unknown, 1 under 60k, 2 60k–150k, 3 150k–400k, 4 400k and over (yuan a year).
    pub income_band: u8,
    /// 0 unknown, 1 mass, 2 affluent, 3 high net worth.
    pub tier: u8,
    /// 0 none, else the tolerance level 1–5 (validity is not checked here).
    pub tolerance: u8,
}

impl ProfileKey {
    /// The profile of a customer.
    pub fn of(facts: &CustomerFacts, assessment: Option<&Assessment>) -> ProfileKey {
        let age_band = match facts.age {
            None => 0,
            Some(a) if a < 30 => 1,
            Some(a) if a < 45 => 2,
            Some(a) if a < 60 => 3,
            Some(_) => 4,
        };
        let income_band = match facts.annual_income_yuan {
            None => 0,
            Some(i) if i < 60_000 => 1,
            Some(i) if i < 150_000 => 2,
            Some(i) if i < 400_000 => 3,
            Some(_) => 4,
        };
        let tier = match facts.tier {
            None => 0,
            Some(Tier::Mass) => 1,
            Some(Tier::Affluent) => 2,
            Some(Tier::HighNetWorth) => 3,
        };
        ProfileKey {
            age_band,
            income_band,
            tier,
            tolerance: assessment.map_or(0, |a| tolerance_level(a.tolerance)),
        }
    }
}

/// Holding counts: per product, per product pair, per profile.
#[derive(Debug, Clone, Default)]
pub struct Affinity {
    codes: Vec<String>,
    index: HashMap<String, usize>,
    customers: f64,
    holders: Vec<f64>,
    /// `co[i][j]`: customers holding both i and j.
    co: Vec<Vec<f64>>,
    /// Customers who opened each product recently.
    recent: Vec<f64>,
    /// Per profile: customers, holders per product, recent openers per product.
    profiles: HashMap<ProfileKey, Profile>,
}

#[derive(Debug, Clone, Default)]
struct Profile {
    customers: f64,
    holders: Vec<f64>,
    recent: Vec<f64>,
}

impl Affinity {
    /// Counts over `products` (catalogue codes; others are ignored) from each
    /// customer's profile, held codes and recently opened codes.
    pub fn fit<'a, I>(products: &[String], customers: I) -> Affinity
    where
        I: IntoIterator<Item = (ProfileKey, &'a [String], &'a [String])>,
    {
        let n = products.len();
        let index: HashMap<String, usize> = products
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), i))
            .collect();
        let mut a = Affinity {
            codes: products.to_vec(),
            index,
            customers: 0.0,
            holders: vec![0.0; n],
            co: vec![vec![0.0; n]; n],
            recent: vec![0.0; n],
            profiles: HashMap::new(),
        };
        let mut held: Vec<usize> = Vec::new();
        let mut opened: Vec<usize> = Vec::new();
        for (profile, codes, recent) in customers {
            a.customers += 1.0;
            held.clear();
            held.extend(codes.iter().filter_map(|c| a.index.get(c).copied()));
            held.sort_unstable();
            held.dedup();
            opened.clear();
            opened.extend(recent.iter().filter_map(|c| a.index.get(c).copied()));
            opened.sort_unstable();
            opened.dedup();
            let entry = a.profiles.entry(profile).or_insert_with(|| Profile {
                customers: 0.0,
                holders: vec![0.0; n],
                recent: vec![0.0; n],
            });
            entry.customers += 1.0;
            for &i in &opened {
                a.recent[i] += 1.0;
                entry.recent[i] += 1.0;
            }
            for &i in &held {
                a.holders[i] += 1.0;
                entry.holders[i] += 1.0;
                for &j in &held {
                    if i != j {
                        a.co[i][j] += 1.0;
                    }
                }
            }
        }
        a
    }

    /// Customers counted.
    pub fn customers(&self) -> f64 {
        self.customers
    }

    /// The share of customers holding `code` (0 for unknown codes).
    pub fn popularity(&self, code: &str) -> f64 {
        match self.index.get(code) {
            Some(&j) if self.customers > 0.0 => self.holders[j] / self.customers,
            _ => 0.0,
        }
    }

    /// The codes by popularity, most held first (ties by code).
    pub fn by_popularity(&self) -> Vec<&str> {
        let mut order: Vec<usize> = (0..self.codes.len()).collect();
        order.sort_by(|&a, &b| {
            self.holders[b]
                .total_cmp(&self.holders[a])
                .then_with(|| self.codes[a].cmp(&self.codes[b]))
        });
        order.into_iter().map(|i| self.codes[i].as_str()).collect()
    }

    /// The codes by recent take-up, most opened first (ties by code).
    pub fn by_take_up(&self) -> Vec<&str> {
        let mut order: Vec<usize> = (0..self.codes.len()).collect();
        order.sort_by(|&a, &b| {
            self.recent[b]
                .total_cmp(&self.recent[a])
                .then_with(|| self.codes[a].cmp(&self.codes[b]))
        });
        order.into_iter().map(|i| self.codes[i].as_str()).collect()
    }

    /// Item–item: the strongest shrunk `P(code | i)` over the held products
    /// `i`, with the product it came from; None when nothing held is known.
    pub fn co_holding<'h>(&self, held: &'h [String], code: &str) -> Option<(f64, &'h str)> {
        let j = *self.index.get(code)?;
        let base = self.popularity(code);
        held.iter()
            .filter_map(|h| self.index.get(h).map(|&i| (i, h)))
            .filter(|&(i, _)| i != j)
            .map(|(i, h)| {
                let p = (self.co[i][j] + SHRINK * base) / (self.holders[i] + SHRINK);
                (p, h.as_str())
            })
            .max_by(|a, b| a.0.total_cmp(&b.0))
    }

    /// Profile–item: the shrunk share of customers like this one holding `code`.
    pub fn profile_share(&self, profile: &ProfileKey, code: &str) -> f64 {
        let Some(&j) = self.index.get(code) else {
            return 0.0;
        };
        let base = self.popularity(code);
        match self.profiles.get(profile) {
            Some(p) => (p.holders[j] + SHRINK * base) / (p.customers + SHRINK),
            None => base,
        }
    }

    /// The share of customers who opened `code` recently.
    pub fn take_up(&self, code: &str) -> f64 {
        match self.index.get(code) {
            Some(&j) if self.customers > 0.0 => self.recent[j] / self.customers,
            _ => 0.0,
        }
    }

    /// Take-up among customers like this one, shrunk to the overall rate.
    pub fn profile_take_up(&self, profile: &ProfileKey, code: &str) -> f64 {
        let Some(&j) = self.index.get(code) else {
            return 0.0;
        };
        let base = self.take_up(code);
        match self.profiles.get(profile) {
            Some(p) => (p.recent[j] + SHRINK * base) / (p.customers + SHRINK),
            None => base,
        }
    }

    /// The take-up the engine expects: half the profile's (customers like
    /// this one), half the bank-wide trend. Profiles are small cells (a few
    /// dozen customers at 20,000), so the profile share alone is noisy; on
    /// the synthetic bank the even blend ranked better than either alone
    /// and than stronger shrinkage (docs/VALIDATION.md).
    pub fn expected_take_up(&self, profile: &ProfileKey, code: &str) -> f64 {
        0.5 * (self.profile_take_up(profile, code) + self.take_up(code))
    }

    /// How much more often holders of the customer's products hold `code`
    /// than customers at large (the strongest over the held products),
    /// within 0.5–3; 1 when nothing held is known.
    pub fn co_holding_lift(&self, held: &[String], code: &str) -> f64 {
        let base = self.popularity(code);
        match self.co_holding(held, code) {
            Some((p, _)) if base > 0.0 => (p / base).clamp(0.5, 3.0),
            _ => 1.0,
        }
    }

    /// Lift of `P(code | profile)` over the base rate (1 = no different).
    pub fn profile_lift(&self, profile: &ProfileKey, code: &str) -> f64 {
        let base = self.popularity(code);
        if base <= 0.0 {
            return 1.0;
        }
        self.profile_share(profile, code) / base
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn key(age_band: u8) -> ProfileKey {
        ProfileKey {
            age_band,
            income_band: 0,
            tier: 0,
            tolerance: 0,
        }
    }

    #[test]
    fn counts_co_holding_and_profiles() {
        let products: Vec<String> = ["A", "B", "C"].iter().map(|s| s.to_string()).collect();
        let none: Vec<String> = Vec::new();
        let rows: Vec<(ProfileKey, Vec<String>)> = (0..100)
            .map(|i| {
                let held: Vec<String> = if i < 40 {
                    vec!["A".into(), "B".into()]
                } else if i < 50 {
                    vec!["A".into()]
                } else {
                    vec!["C".into(), "X".into()]
                };
                (key(if i < 50 { 1 } else { 2 }), held)
            })
            .collect();
        let recent = vec!["B".to_string()];
        let a = Affinity::fit(
            &products,
            rows.iter().enumerate().map(|(i, (k, h))| {
                let r = if i < 10 {
                    recent.as_slice()
                } else {
                    none.as_slice()
                };
                (*k, h.as_slice(), r)
            }),
        );
        // Ten of a hundred opened B recently, all in profile 1 (50 customers).
        assert!((a.take_up("B") - 0.1).abs() < 1e-12);
        assert!((a.profile_take_up(&key(1), "B") - (10.0 + 20.0 * 0.1) / 70.0).abs() < 1e-12);
        assert!((a.profile_take_up(&key(2), "B") - (20.0 * 0.1) / 70.0).abs() < 1e-12);
        assert!(a.co_holding_lift(&["A".to_string()], "B") > 1.5);
        assert_eq!(a.by_take_up()[0], "B");
        let blended = a.expected_take_up(&key(1), "B");
        assert!((blended - 0.5 * (a.profile_take_up(&key(1), "B") + 0.1)).abs() < 1e-12);
        assert_eq!(a.co_holding_lift(&[], "B"), 1.0);
        assert_eq!(a.customers(), 100.0);
        assert!((a.popularity("A") - 0.5).abs() < 1e-12);
        assert_eq!(a.by_popularity(), ["A", "C", "B"]); // A and C tie at 50: by code
                                                        // P(B | A) = 40/50 shrunk to 0.4 with 20 pseudo-customers.
        let held = ["A".to_string()];
        let (p, from) = a.co_holding(&held, "B").unwrap();
        assert_eq!(from, "A");
        assert!((p - (40.0 + 20.0 * 0.4) / (50.0 + 20.0)).abs() < 1e-12);
        assert!(a.co_holding(&["X".to_string()], "B").is_none());
        // Profile 2 never holds B: its share falls below the base rate.
        assert!(a.profile_lift(&key(2), "B") < 0.5);
        assert!(a.profile_lift(&key(1), "B") > 1.5);
        assert_eq!(a.profile_share(&key(3), "B"), a.popularity("B"));
    }
}
