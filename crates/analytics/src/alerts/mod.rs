//! Early-warning alerts (batch): evaluates a [`RuleSet`] over a feature
//! table plus each customer's score, band and tier, the active models'
//! scores and the segment memberships the rules read ([`Signals`]),
//! honours cool-downs, and
//! turns hits into stored alerts with their evidence (the rule's variables
//! and the triggering transactions) and route (RM, branch queue, central).
//!
//! Entry points: [`evaluate_batch`] (pure: table in, hits out) and
//! [`raise_batch_alerts`] (reads cool-downs, evaluates, attaches evidence,
//! routes and stores). The live path (`crate::live`) reuses
//! [`RuleSlots`], [`Cooldowns`] and [`alert_record`] so both paths decide
//! and record the same way.
//!
//! Must never compute features (it reads a [`FeatureTable`]) or decide what
//! a rule means beyond evaluating its expression (rules live in
//! config/rules.toml and docs/RULES.md).

mod rules;

pub use rules::{
    day_direction, feature_day_direction, format_value, model_kind, model_variables, variable_type,
    EarlyWarningRule, MessageTemplate, RuleError, RuleSet, Trigger, BUILTIN_RULES_TOML,
    MODEL_PREFIX, STANDING_VARIABLES,
};

use crate::expr::Value;
use crate::{AnalyticsError, FeatureTable, FEATURES};
use chrono::NaiveDate;
use rapport_domain::Severity;
use rapport_store::{AlertRoute, EvidenceTxn, NewAlert, Store};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;

/// Largest number of triggering transactions attached to an alert.
pub const EVIDENCE_TRANSACTIONS: usize = 5;

/// A customer's standing from the scorecard and tiers (`None` when unknown).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Standing {
    pub score: Option<f64>,
    pub band: Option<String>,
    pub tier: Option<String>,
}

/// What batch rules read: the feature table and, row for row, each
/// customer's standing (`standings` may be empty: score, band and tier are
/// then missing) and the model scores and segment memberships the rules
/// read (`None`: every `model.…` is `null` and every `in_segment` false).
#[derive(Debug, Clone, Copy)]
pub struct RuleInputs<'a> {
    pub table: &'a FeatureTable,
    pub standings: &'a [Standing],
    pub signals: Option<&'a Signals>,
}

/// Model scores and segment memberships, row for row of a feature table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signals {
    /// Variable name (`model.churn`) → the probability of each row (`None`:
    /// not scored by the active model).
    pub models: HashMap<String, Vec<Option<f64>>>,
    /// Stored segment code (`rule:senior_wealth`, `tier:affluent`,
    /// `cluster:2`) → whether each row is a member.
    pub segments: HashMap<String, Vec<bool>>,
}

impl Signals {
    /// The model variables and segment codes `rules` read (what to load).
    pub fn wanted(rules: &RuleSet) -> (Vec<String>, Vec<String>) {
        let mut models = Vec::new();
        let mut segments = Vec::new();
        for rule in &rules.rules {
            for v in rule
                .when
                .variables()
                .into_iter()
                .chain(rule.message.variables())
            {
                if model_kind(v).is_some() && !models.iter().any(|m| m == v) {
                    models.push(v.to_string());
                }
                if let Some(code) =
                    crate::expr::segment_of_variable(v).and_then(crate::segment::segment_reference)
                {
                    if !segments.contains(&code) {
                        segments.push(code);
                    }
                }
            }
        }
        (models, segments)
    }
}

/// The latest day each customer was alerted by each rule.
#[derive(Debug, Clone, Default)]
pub struct Cooldowns {
    /// Per rule, per customer: looked up by the rule's code without
    /// building a key (the live path asks for every transaction).
    last: HashMap<String, HashMap<i64, NaiveDate>>,
}

impl Cooldowns {
    pub fn new() -> Self {
        Cooldowns::default()
    }

    /// From `(customer_id, rule, raised_on)` rows (e.g. `Store::last_alert_days`).
    pub fn from_rows(rows: impl IntoIterator<Item = (i64, String, NaiveDate)>) -> Self {
        let mut c = Cooldowns::new();
        for (customer, rule, day) in rows {
            c.record(customer, &rule, day);
        }
        c
    }

    /// The cool-down state of the store as of `day`: alerts raised on or before it.
    pub async fn load(store: &Store, day: NaiveDate) -> Result<Self, AnalyticsError> {
        Ok(Cooldowns::from_rows(store.last_alert_days(day).await?))
    }

    /// Notes that `customer` was alerted by `rule` on `day`.
    pub fn record(&mut self, customer: i64, rule: &str, day: NaiveDate) {
        let per_rule = match self.last.get_mut(rule) {
            Some(m) => m,
            None => self.last.entry(rule.to_string()).or_default(),
        };
        let slot = per_rule.entry(customer).or_insert(day);
        if day > *slot {
            *slot = day;
        }
    }

    /// Whether `rule` may alert `customer` on `day`: not when it did within
    /// the `cooldown_days` before (`day − last < cooldown_days`), nor twice on
    /// the same day (so a re-run of a date raises nothing new).
    pub fn allows(&self, customer: i64, rule: &str, cooldown_days: u32, day: NaiveDate) -> bool {
        match self.last.get(rule).and_then(|m| m.get(&customer)) {
            None => true,
            Some(last) if *last > day => true,
            Some(last) => (day - *last).num_days() >= i64::from(cooldown_days.max(1)),
        }
    }

    /// How many (customer, rule) pairs were alerted.
    pub fn len(&self) -> usize {
        self.last.values().map(HashMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.last.values().all(HashMap::is_empty)
    }
}

/// A rule that matched a customer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertHit {
    pub customer_id: i64,
    /// The customer's row in the feature table (batch) or `usize::MAX` (live).
    #[serde(skip)]
    pub row: usize,
    pub rule: String,
    pub severity: Severity,
    /// The as-of date D whose state matched (features over `[D - W, D)`).
    pub raised_on: NaiveDate,
    pub message: String,
    /// The rule's variables with their values, in order of first use.
    pub evidence: Vec<(String, Value)>,
}

/// Where a rule's variables come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Index in the catalogue ([`FEATURES`]) order.
    Feature(usize),
    Score,
    Band,
    Tier,
    /// An active model's score (`model.churn`, …).
    Model,
    /// A segment membership (`in_segment("…")`).
    Segment,
}

/// One rule's variables (the expression's, then the message's extra
/// placeholders) resolved to slots once, for evaluation over many rows.
#[derive(Debug, Clone)]
pub struct RuleSlots {
    /// Variables of the expression, in `Expr::variables` order, then the
    /// message placeholders not already among them.
    pub names: Vec<String>,
    pub slots: Vec<Slot>,
    /// How many of `names` are the expression's (the evidence).
    pub expression_variables: usize,
}

impl RuleSlots {
    pub fn new(rule: &EarlyWarningRule) -> Self {
        let mut names: Vec<String> = rule
            .when
            .variables()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let expression_variables = names.len();
        for v in rule.message.variables() {
            if !names.iter().any(|n| n == v) {
                names.push(v.to_string());
            }
        }
        let slots = names.iter().map(|n| slot_of(n)).collect();
        RuleSlots {
            names,
            slots,
            expression_variables,
        }
    }

    /// Evaluates `rule` on values given per slot; a hit when it matches.
    pub fn evaluate(
        &self,
        rule: &EarlyWarningRule,
        values: &[Value],
        customer_id: i64,
        row: usize,
        raised_on: NaiveDate,
    ) -> Option<AlertHit> {
        let matched = rule
            .when
            .eval_slots(values.get(..self.expression_variables).unwrap_or(values))
            == Value::Bool(true);
        if !matched {
            return None;
        }
        let value_of = |name: &str| {
            self.names
                .iter()
                .position(|n| n == name)
                .and_then(|i| values.get(i))
                .map_or_else(|| "n/a".to_string(), |v| format_value(name, v))
        };
        Some(AlertHit {
            customer_id,
            row,
            rule: rule.code.clone(),
            severity: rule.severity,
            raised_on,
            message: rule.message.render(value_of),
            evidence: self
                .names
                .iter()
                .zip(values)
                .take(self.expression_variables)
                .map(|(n, v)| (n.clone(), v.clone()))
                .collect(),
        })
    }
}

fn slot_of(name: &str) -> Slot {
    match name {
        "score" => Slot::Score,
        "band" => Slot::Band,
        "tier" => Slot::Tier,
        _ if model_kind(name).is_some() => Slot::Model,
        _ if crate::expr::segment_of_variable(name).is_some() => Slot::Segment,
        _ => Slot::Feature(
            FEATURES
                .iter()
                .position(|f| f.name == name)
                .unwrap_or(usize::MAX),
        ),
    }
}

/// Evaluates every rule for every customer of `inputs.table` as of the
/// table's date D: daily rules for all, transaction rules for those with
/// transactions on `[D-1, D)` (`txn_count_1 > 0`). A customer+rule that
/// `cooldowns` says was alerted within the rule's cool-down is skipped.
/// Hits come in row order, then rule order.
pub fn evaluate_batch(
    rules: &RuleSet,
    inputs: &RuleInputs<'_>,
    cooldowns: &Cooldowns,
) -> Vec<AlertHit> {
    let table = inputs.table;
    let day = table.as_of;
    let columns: Vec<Option<&[Option<f64>]>> =
        FEATURES.iter().map(|f| table.column(f.name)).collect();
    let active_today = table.column("txn_count_1");
    // Per rule and variable, the model or membership column it reads.
    let signal_columns = |slots: &RuleSlots| -> Vec<SignalColumn<'_>> {
        slots
            .names
            .iter()
            .zip(&slots.slots)
            .map(|(name, slot)| match slot {
                Slot::Model => SignalColumn::Model(
                    inputs
                        .signals
                        .and_then(|s| s.models.get(name))
                        .map(Vec::as_slice),
                ),
                Slot::Segment => SignalColumn::Segment(
                    crate::expr::segment_of_variable(name)
                        .and_then(crate::segment::segment_reference)
                        .and_then(|code| inputs.signals.and_then(|s| s.segments.get(&code)))
                        .map(Vec::as_slice),
                ),
                _ => SignalColumn::None,
            })
            .collect()
    };
    let compiled: Vec<(&EarlyWarningRule, RuleSlots)> =
        rules.rules.iter().map(|r| (r, RuleSlots::new(r))).collect();
    let signals: Vec<Vec<SignalColumn<'_>>> =
        compiled.iter().map(|(_, s)| signal_columns(s)).collect();
    (0..table.len())
        .into_par_iter()
        .flat_map_iter(|row| {
            let customer_id = table.customer_ids.get(row).copied().unwrap_or_default();
            let standing = inputs.standings.get(row);
            let had_transactions = active_today
                .and_then(|c| c.get(row).copied().flatten())
                .is_some_and(|n| n > 0.0);
            let mut hits = Vec::new();
            let mut values: Vec<Value> = Vec::new();
            for ((rule, slots), signal) in compiled.iter().zip(&signals) {
                if rule.trigger == Trigger::Transaction && !had_transactions {
                    continue;
                }
                if !cooldowns.allows(customer_id, &rule.code, rule.cooldown_days, day) {
                    continue;
                }
                values.clear();
                values.extend(slots.slots.iter().zip(signal).map(|(s, column)| {
                    match s {
                        Slot::Feature(i) => Value::num(
                            columns
                                .get(*i)
                                .copied()
                                .flatten()
                                .and_then(|c| c.get(row).copied().flatten()),
                        ),
                        Slot::Score => Value::num(standing.and_then(|s| s.score)),
                        Slot::Band => standing
                            .and_then(|s| s.band.clone())
                            .map_or(Value::Null, Value::Str),
                        Slot::Tier => standing
                            .and_then(|s| s.tier.clone())
                            .map_or(Value::Null, Value::Str),
                        Slot::Model | Slot::Segment => column.value(row),
                    }
                }));
                if let Some(hit) = slots.evaluate(rule, &values, customer_id, row, day) {
                    hits.push(hit);
                }
            }
            hits
        })
        .collect()
}

/// Where a model or segment variable of a rule reads its rows.
#[derive(Debug, Clone, Copy)]
enum SignalColumn<'a> {
    None,
    Model(Option<&'a [Option<f64>]>),
    Segment(Option<&'a [bool]>),
}

impl SignalColumn<'_> {
    fn value(&self, row: usize) -> Value {
        match self {
            SignalColumn::None => Value::Null,
            SignalColumn::Model(values) => {
                Value::num(values.and_then(|v| v.get(row).copied().flatten()))
            }
            // A segment the run did not make has no members.
            SignalColumn::Segment(members) => {
                Value::Bool(members.and_then(|m| m.get(row).copied()).unwrap_or(false))
            }
        }
    }
}

/// The evidence JSON of an alert: `{"features": {name: value, …},
/// "transactions": [{booked_on, amount (major units), category, channel,
/// source_key}, …]}`.
pub fn evidence_json(hit: &AlertHit, transactions: &[EvidenceTxn]) -> String {
    let features: serde_json::Map<String, serde_json::Value> = hit
        .evidence
        .iter()
        .map(|(name, v)| {
            let json = match v {
                Value::Null => serde_json::Value::Null,
                Value::Num(x) => serde_json::Number::from_f64(*x)
                    .map_or(serde_json::Value::Null, serde_json::Value::Number),
                Value::Str(s) => serde_json::Value::String(s.clone()),
                Value::Bool(b) => serde_json::Value::Bool(*b),
            };
            (name.clone(), json)
        })
        .collect();
    let txns: Vec<serde_json::Value> = transactions
        .iter()
        .map(|t| {
            serde_json::json!({
                "booked_on": t.booked_on.to_string(),
                "amount": minor_to_major_text(t.amount),
                "category": t.category,
                "channel": t.channel,
                "source_key": t.source_key,
            })
        })
        .collect();
    serde_json::json!({ "features": features, "transactions": txns }).to_string()
}

/// Minor units as an exact decimal string in major units (`-12345` → `"-123.45"`).
pub fn minor_to_major_text(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// The stored form of a hit.
pub fn alert_record(
    hit: &AlertHit,
    origin: &str,
    transactions: &[EvidenceTxn],
    route: &AlertRoute,
) -> NewAlert {
    NewAlert {
        customer_id: hit.customer_id,
        rule: hit.rule.clone(),
        severity: hit.severity.as_str().to_string(),
        raised_on: hit.raised_on,
        origin: origin.to_string(),
        message: hit.message.clone(),
        evidence: evidence_json(hit, transactions),
        assignee_id: route.assignee_id,
        queue: route.queue.clone(),
    }
}

/// What a batch alert run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AlertRunSummary {
    pub as_of: Option<NaiveDate>,
    pub raised: u64,
    /// Alerts raised per rule code.
    pub by_rule: Vec<(String, u64)>,
    /// Alerts raised per severity.
    pub by_severity: Vec<(String, u64)>,
}

/// The batch alert stage of a scoring run: loads cool-downs from the store
/// as of the table's date, evaluates, attaches evidence (up to
/// [`EVIDENCE_TRANSACTIONS`] triggering transactions per alert from the
/// rule's evidence window), routes and stores the alerts (origin `batch`).
#[tracing::instrument(skip_all, fields(as_of = %inputs.table.as_of), err)]
pub async fn raise_batch_alerts(
    store: &Store,
    rules: &RuleSet,
    inputs: &RuleInputs<'_>,
) -> Result<AlertRunSummary, AnalyticsError> {
    let as_of = inputs.table.as_of;
    let cooldowns = Cooldowns::load(store, as_of).await?;
    let hits = evaluate_batch(rules, inputs, &cooldowns);
    let alerts = attach_evidence_and_routes(store, rules, &hits, "batch").await?;
    store.insert_alerts(&alerts).await?;
    Ok(summarise(as_of, &hits))
}

/// Evidence (per evidence window, one query per block of customers) and
/// routes for `hits`, as records ready to store.
pub async fn attach_evidence_and_routes(
    store: &Store,
    rules: &RuleSet,
    hits: &[AlertHit],
    origin: &str,
) -> Result<Vec<NewAlert>, AnalyticsError> {
    let customers: Vec<i64> = hits.iter().map(|h| h.customer_id).collect();
    let routes = store.alert_routes(&customers).await?;
    // Group customers by (evidence window start, as-of) so each window is one query.
    let mut windows: HashMap<(NaiveDate, NaiveDate), Vec<i64>> = HashMap::new();
    for h in hits {
        let days = rules.get(&h.rule).map_or(1, |r| r.evidence_days);
        let from = window_start(h.raised_on, days);
        windows
            .entry((from, h.raised_on))
            .or_default()
            .push(h.customer_id);
    }
    let mut evidence: HashMap<(NaiveDate, NaiveDate), HashMap<i64, Vec<EvidenceTxn>>> =
        HashMap::new();
    for ((from, to), ids) in windows {
        let found = store
            .triggering_transactions_of(&ids, from, to, EVIDENCE_TRANSACTIONS)
            .await?;
        evidence.insert((from, to), found);
    }
    let central = AlertRoute::central();
    Ok(hits
        .iter()
        .map(|h| {
            let days = rules.get(&h.rule).map_or(1, |r| r.evidence_days);
            let from = window_start(h.raised_on, days);
            let txns = evidence
                .get(&(from, h.raised_on))
                .and_then(|m| m.get(&h.customer_id))
                .map_or(&[][..], Vec::as_slice);
            let route = routes.get(&h.customer_id).unwrap_or(&central);
            alert_record(h, origin, txns, route)
        })
        .collect())
}

fn window_start(day: NaiveDate, days: u32) -> NaiveDate {
    day.checked_sub_days(chrono::Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MIN)
}

fn summarise(as_of: NaiveDate, hits: &[AlertHit]) -> AlertRunSummary {
    let mut by_rule: HashMap<&str, u64> = HashMap::new();
    let mut by_severity: HashMap<&str, u64> = HashMap::new();
    for h in hits {
        *by_rule.entry(&h.rule).or_default() += 1;
        *by_severity.entry(h.severity.as_str()).or_default() += 1;
    }
    let sorted = |m: HashMap<&str, u64>| {
        let mut v: Vec<(String, u64)> = m.into_iter().map(|(k, n)| (k.to_string(), n)).collect();
        v.sort();
        v
    };
    AlertRunSummary {
        as_of: Some(as_of),
        raised: hits.len() as u64,
        by_rule: sorted(by_rule),
        by_severity: sorted(by_severity),
    }
}
