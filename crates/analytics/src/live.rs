//! The live early-warning engine: a transaction arriving on its own updates
//! its owners' incremental state ([`TxnHistories`]) and raises the
//! transaction rules' alerts at once, without a batch run.
//!
//! Semantics (docs/RULES.md, "Live path"): a transaction booked on day d is
//! judged on its owners' state as of D = d + 1 (windows `[D − W, D)`, so it
//! and every earlier transaction of day d count), which is the state the
//! batch sees at D once the day is complete. Transaction rules are checked
//! at load time to be day-monotone (once true after a transaction of d, true
//! for the rest of d), so whether a customer+rule fires on day d does not
//! depend on whether it is decided after the first matching transaction
//! (live) or after the last transaction of the day (batch): both raise the
//! same alerts, with `raised_on` = D. Cool-downs are the batch's.
//!
//! Must never evaluate daily rules (the nightly batch does), read features
//! other than the transaction features, or write to the store (the caller
//! stores what it returns).

use crate::alerts::{AlertHit, Cooldowns, EarlyWarningRule, RuleSet, RuleSlots, Slot, Trigger};
use crate::expr::Value;
use crate::{AnalyticsError, LiveTxn, TxnHistories};
use chrono::NaiveDate;
use rapport_store::Store;

/// Evaluates transaction rules as transactions arrive.
#[derive(Debug)]
pub struct LiveEngine {
    histories: TxnHistories,
    rules: Vec<(EarlyWarningRule, RuleSlots)>,
    cooldowns: Cooldowns,
    /// The catalogue indices of the features the rules read (sorted, once
    /// each): only these are computed per transaction.
    wanted: Vec<usize>,
    /// Per rule, per slot: the position of its feature in `wanted`.
    positions: Vec<Vec<usize>>,
    /// Scratch: the wanted features of one customer, then one rule's values.
    features: Vec<Option<f64>>,
    values: Vec<Value>,
    taken: u64,
}

impl LiveEngine {
    /// An engine over `histories` running the transaction rules of `rules`.
    pub fn new(histories: TxnHistories, rules: &RuleSet, cooldowns: Cooldowns) -> Self {
        let rules = rules
            .with_trigger(Trigger::Transaction)
            .rules
            .into_iter()
            .map(|r| {
                let slots = RuleSlots::new(&r);
                (r, slots)
            })
            .collect::<Vec<(EarlyWarningRule, RuleSlots)>>();
        let mut wanted: Vec<usize> = rules
            .iter()
            .flat_map(|(_, slots)| slots.slots.iter())
            .filter_map(|s| match s {
                Slot::Feature(i) => Some(*i),
                _ => None,
            })
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let positions = rules
            .iter()
            .map(|(_, slots)| {
                slots
                    .slots
                    .iter()
                    .map(|s| match s {
                        Slot::Feature(i) => wanted.binary_search(i).unwrap_or(usize::MAX),
                        _ => usize::MAX,
                    })
                    .collect()
            })
            .collect();
        LiveEngine {
            histories,
            rules,
            cooldowns,
            wanted,
            positions,
            features: Vec::new(),
            values: Vec::new(),
            taken: 0,
        }
    }

    /// Bootstraps from the store: every transaction before `as_of`, then
    /// every transaction posted to the live feed earlier (`live_txn`, those
    /// not imported since), and the cool-down state of every alert stored so
    /// far — so a restarted engine neither forgets what it was fed nor
    /// counts it twice, and raises no alert again.
    pub async fn bootstrap(
        store: &Store,
        as_of: NaiveDate,
        rules: &RuleSet,
    ) -> Result<Self, AnalyticsError> {
        let mut histories = TxnHistories::load(store, as_of).await?;
        for t in store.live_txns_not_imported().await? {
            let (source, key) = (t.source, t.source_key);
            let pushed = histories.push(LiveTxn {
                account_id: t.account_id,
                booked_on: t.booked_on,
                amount: t.amount,
                balance_after: t.balance_after,
                category: t.category,
                channel: t.channel,
                source_key: key.clone(),
            });
            if let Err(e) = pushed {
                tracing::warn!(%source, source_key = %key, error = %e, "a stored live transaction was not replayed");
            }
        }
        // Every stored alert (a date any stored one is before, valid on both backends).
        let end_of_time = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(as_of);
        let cooldowns = Cooldowns::load(store, end_of_time).await?;
        Ok(LiveEngine::new(histories, rules, cooldowns))
    }

    /// Whether the engine knows the account with store id `account_id`
    /// (accounts added to the store after the bootstrap are unknown).
    pub fn knows_account(&self, account_id: i64) -> bool {
        self.histories.has_owners(account_id)
    }

    /// The transaction rules this engine runs.
    pub fn rules(&self) -> impl Iterator<Item = &EarlyWarningRule> {
        self.rules.iter().map(|(r, _)| r)
    }

    /// Takes one transaction: updates its owners' state and returns the
    /// alerts it raises (at most one per owner and rule; none within a
    /// cool-down). An account the bootstrap did not know is an error.
    pub fn on_transaction(&mut self, txn: LiveTxn) -> Result<Vec<AlertHit>, AnalyticsError> {
        self.on_transaction_ref(&txn)
    }

    /// [`Self::on_transaction`] of a borrowed transaction (the caller keeps
    /// it to store it).
    pub fn on_transaction_ref(&mut self, txn: &LiveTxn) -> Result<Vec<AlertHit>, AnalyticsError> {
        let as_of = txn
            .booked_on
            .succ_opt()
            .ok_or(AnalyticsError::AsOfOutOfRange(txn.booked_on))?;
        let owners = self.histories.push_ref(txn)?;
        self.taken += 1;
        let mut hits = Vec::new();
        for customer in owners {
            // The features only when a rule may fire (cool-downs first).
            let mut computed = None;
            for (r, (rule, slots)) in self.rules.iter().enumerate() {
                if !self
                    .cooldowns
                    .allows(customer, &rule.code, rule.cooldown_days, as_of)
                {
                    continue;
                }
                let known = *computed.get_or_insert_with(|| {
                    self.histories
                        .features_at(customer, as_of, &self.wanted, &mut self.features)
                });
                if !known {
                    break;
                }
                self.values.clear();
                self.values
                    .extend(
                        slots
                            .slots
                            .iter()
                            .zip(&self.positions[r])
                            .map(|(s, &at)| match s {
                                Slot::Feature(_) => {
                                    Value::num(self.features.get(at).copied().flatten())
                                }
                                // Daily rules only (checked when the rules are loaded).
                                Slot::Score
                                | Slot::Band
                                | Slot::Tier
                                | Slot::Model
                                | Slot::Segment => Value::Null,
                            }),
                    );
                if let Some(hit) = slots.evaluate(rule, &self.values, customer, usize::MAX, as_of) {
                    self.cooldowns.record(customer, &rule.code, as_of);
                    hits.push(hit);
                }
            }
        }
        Ok(hits)
    }

    /// Transactions taken since the bootstrap.
    pub fn transactions(&self) -> u64 {
        self.taken
    }
}
