//! How well each early-warning rule works (issue 18): alerts raised, how
//! many were acted on, how many were followed by an adverse outcome, and how
//! early — overall and by month of raising.
//!
//! Definitions (the one place they are written):
//!
//! * **acted on**: the alert reached the status `actioned` (now, or at some
//!   step of its history); the **action rate** is acted on / raised.
//! * **outcome**: the first adverse event of the alert's customer *after* the
//!   day the alert was raised and at most [`Definition::horizon_days`] later:
//!   - *past due*: a card statement at least
//!     [`Definition::past_due_days`] days past due (dated by its statement
//!     month's first day);
//!   - *churn*: the customer stopped transacting — their last transaction
//!     before a gap of at least [`Definition::silence_days`] days without any
//!     (or before the end of the data, that many days away) was made on that
//!     day; the outcome day is the day after it.
//!     A customer silent already before the alert has no such day after it.
//! * an alert is **matured** when its whole follow-up has been observed:
//!   raised at least `horizon_days + silence_days` days before the end of
//!   the data (the day after the latest transaction). Only matured alerts
//!   enter the precision.
//! * **precision**: matured alerts followed by an outcome / matured alerts.
//! * **lead time**: days from raising to the outcome; the median is over the
//!   alerts followed by an outcome (matured or not: a lead seen is a lead).

use crate::access::{Actor, Permission};
use crate::error::ServiceResult;
use crate::Services;
use chrono::{Duration, NaiveDate};
use rapport_analytics::alerts::RuleSet;
use rapport_store::generation::Domain;
use rapport_store::{epoch_day, DayRange, DEFAULT_SCAN_CHUNK_ROWS};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// The windows of the definitions above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Definition {
    pub horizon_days: i64,
    pub silence_days: i64,
    pub past_due_days: i64,
}

impl Default for Definition {
    fn default() -> Self {
        Definition {
            horizon_days: 30,
            silence_days: 30,
            past_due_days: 30,
        }
    }
}

/// The figures of a set of alerts (one rule, one rule's month).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    pub alerts: u64,
    pub acted: u64,
    /// acted / alerts; None without alerts.
    pub action_rate: Option<f64>,
    pub matured: u64,
    /// Matured alerts followed by an outcome.
    pub hits: u64,
    /// hits / matured; None without matured alerts.
    pub precision: Option<f64>,
    /// Alerts followed by an outcome (matured or not).
    pub with_outcome: u64,
    /// Median days from raising to the outcome; None without outcomes.
    pub median_lead_days: Option<f64>,
}

/// One month of a rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthFigures {
    /// `YYYY-MM`, of the raising day.
    pub month: String,
    pub figures: Figures,
}

/// One rule's performance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RulePerformance {
    pub code: String,
    /// The rule's name in its file (English); pages show the catalogue word.
    pub name: String,
    pub severity: Option<String>,
    pub total: Figures,
    /// Oldest first.
    pub months: Vec<MonthFigures>,
}

/// Every rule's performance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleReport {
    pub definition: Definition,
    /// The day after the latest transaction (None for an empty store).
    pub data_end: Option<NaiveDate>,
    /// The shipped or configured rules first (in their file's order), then
    /// any other rule that raised alerts.
    pub rules: Vec<RulePerformance>,
}

impl RuleReport {
    pub fn rule(&self, code: &str) -> Option<&RulePerformance> {
        self.rules.iter().find(|r| r.code == code)
    }
}

/// The median of `xs` (mean of the two middle values for an even count).
pub fn median(xs: &mut [f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    Some(if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    })
}

struct Tally {
    alerts: u64,
    acted: u64,
    matured: u64,
    hits: u64,
    leads: Vec<f64>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            alerts: 0,
            acted: 0,
            matured: 0,
            hits: 0,
            leads: Vec::new(),
        }
    }
    fn figures(mut self) -> Figures {
        let ratio = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
        Figures {
            alerts: self.alerts,
            acted: self.acted,
            action_rate: ratio(self.acted, self.alerts),
            matured: self.matured,
            hits: self.hits,
            precision: ratio(self.hits, self.matured),
            with_outcome: self.leads.len() as u64,
            median_lead_days: median(&mut self.leads),
        }
    }
}

/// The adverse-outcome days of every customer, ascending (see the module doc).
async fn outcome_days(
    svc: &Services,
    def: &Definition,
    data_end: Option<NaiveDate>,
) -> anyhow::Result<HashMap<i64, Vec<i32>>> {
    let store = &svc.store;
    let mut out: HashMap<i64, Vec<i32>> = HashMap::new();
    for (customer, month) in store.past_due_statements(def.past_due_days).await? {
        out.entry(customer).or_default().push(epoch_day(month));
    }
    if let Some(end) = data_end {
        let mut days: HashMap<i64, Vec<i32>> = HashMap::new();
        store
            .scan_transactions(DayRange::all(), DEFAULT_SCAN_CHUNK_ROWS, |c| {
                for (i, &id) in c.customer_id.iter().enumerate() {
                    days.entry(id).or_default().push(c.booked_on[i]);
                }
            })
            .await?;
        let end = epoch_day(end);
        let gap = def.silence_days as i32;
        for (customer, mut d) in days {
            d.sort_unstable();
            d.dedup();
            for (k, &day) in d.iter().enumerate() {
                let next = d.get(k + 1).copied();
                let silent = match next {
                    Some(n) => n - (day + 1) >= gap,
                    None => end - (day + 1) >= gap,
                };
                if silent {
                    out.entry(customer).or_default().push(day + 1);
                }
            }
        }
    }
    for v in out.values_mut() {
        v.sort_unstable();
    }
    Ok(out)
}

/// Every early-warning rule's performance (who needs [`Permission::ViewModels`]).
pub async fn report(svc: &Services, actor: &Actor) -> ServiceResult<RuleReport> {
    actor.require(Permission::ViewModels)?;
    let def = Definition::default();
    let store = &svc.store;
    let data_end = store
        .latest_transaction_date()
        .await?
        .and_then(|d| d.succ_opt());
    // The outcomes read every transaction and statement: kept until the
    // next import or scoring run (the alerts' tally below is cheap and
    // follows every acknowledgement).
    let params = format!(
        "{}/{}/{}/{data_end:?}",
        def.horizon_days, def.silence_days, def.past_due_days
    );
    let outcomes = crate::memo::get(store, "rules.outcomes", &params, &[Domain::Data], || {
        outcome_days(svc, &def, data_end)
    })
    .await?;
    let rules = match &svc.settings.scoring.rules {
        Some(r) => r.clone(),
        None => RuleSet::builtin().map_err(anyhow::Error::from)?,
    };
    let mature_before = data_end.map(|e| e - Duration::days(def.horizon_days + def.silence_days));
    // rule → (total, month → tally)
    let mut by_rule: HashMap<String, (Tally, BTreeMap<String, Tally>)> = HashMap::new();
    for a in store.rule_alert_facts().await? {
        let (total, months) = by_rule
            .entry(a.rule.clone())
            .or_insert_with(|| (Tally::new(), BTreeMap::new()));
        let month = months
            .entry(a.raised_on.format("%Y-%m").to_string())
            .or_insert_with(Tally::new);
        let raised = epoch_day(a.raised_on);
        let lead = outcomes.get(&a.customer_id).and_then(|days| {
            days.iter()
                .find(|&&d| d > raised && i64::from(d - raised) <= def.horizon_days)
                .map(|&d| f64::from(d - raised))
        });
        let matured = mature_before.is_some_and(|m| a.raised_on <= m);
        for t in [&mut *total, &mut *month] {
            t.alerts += 1;
            t.acted += u64::from(a.acted);
            if matured {
                t.matured += 1;
                t.hits += u64::from(lead.is_some());
            }
            if let Some(l) = lead {
                t.leads.push(l);
            }
        }
    }
    let mut rest: Vec<String> = by_rule
        .keys()
        .filter(|k| rules.get(k).is_none())
        .cloned()
        .collect();
    rest.sort();
    let mut out: Vec<RulePerformance> = Vec::new();
    let mut take = |code: &str, name: &str, severity: Option<String>| {
        let (total, months) = by_rule
            .remove(code)
            .unwrap_or_else(|| (Tally::new(), BTreeMap::new()));
        out.push(RulePerformance {
            code: code.to_string(),
            name: name.to_string(),
            severity,
            total: total.figures(),
            months: months
                .into_iter()
                .map(|(month, t)| MonthFigures {
                    month,
                    figures: t.figures(),
                })
                .collect(),
        });
    };
    for r in &rules.rules {
        take(&r.code, &r.name, Some(r.severity.as_str().to_string()));
    }
    for code in rest {
        take(&code, &code, None);
    }
    Ok(RuleReport {
        definition: def,
        data_end,
        rules: out,
    })
}
