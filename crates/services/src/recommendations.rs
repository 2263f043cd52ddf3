//! Next best actions over the store: gathers each customer's view (facts,
//! risk assessment, holdings, features, health, active model scores,
//! marketing consents, the next holiday), fits the holding affinities, runs
//! the `rapport-matching` engine, and stores the ranked actions and every
//! suitability decision. Also the offline evaluation on held-out holdings.
//!
//! The rules (candidates, filters, ranking, reasons) live in
//! `rapport-matching`; this module only reads the store and writes results.

use crate::access::{Actor, Permission};
use crate::audit::entry_for;
use crate::error::{ServiceError, ServiceResult};
use anyhow::{bail, Context, Result};
use chrono::{Datelike, NaiveDate, Utc};
use rapport_analytics::holiday::HolidayCalendar;
use rapport_analytics::{FeatureEngine, FeatureTable, SegmentConfig};
use rapport_domain::RiskTolerance;
use rapport_matching::{
    check_lending, check_product, Affinity, Assessment, Catalogue, CreditFacts, CustomerFacts,
    CustomerView, Engine, LendingDecision, LendingPolicy, Levers, ProfileKey, RankingEval,
    RankingMetrics, Recommendations, SalesChannel, Signals, SuitabilityPolicy, Tier,
    UpcomingHoliday,
};
use rapport_store::{
    date_of_epoch_day, epoch_day, NewRecommendation, RecommendationScope, Store,
    SuitabilityDecisionRow, DEFAULT_SCAN_CHUNK_ROWS,
};
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;

/// The matching settings of a run: catalogue, suitability policy, levers
/// (from `[matching]` in the configuration).
#[derive(Debug, Clone)]
pub struct Settings {
    pub catalogue: Catalogue,
    pub policy: SuitabilityPolicy,
    pub levers: Levers,
    /// The responsible-lending rule's limits.
    pub lending: LendingPolicy,
}

impl Settings {
    /// The built-in catalogue and the default policy and levers.
    pub fn builtin() -> Result<Settings> {
        Settings::from_config(&crate::config::MatchingConfig::default())
    }

    /// Reads the catalogue file when one is configured.
    pub fn from_config(cfg: &crate::config::MatchingConfig) -> Result<Settings> {
        let catalogue = if cfg.catalogue.is_empty() {
            Catalogue::builtin()?
        } else {
            let text = std::fs::read_to_string(&cfg.catalogue)
                .with_context(|| format!("reading the catalogue {}", cfg.catalogue))?;
            Catalogue::parse(&text).with_context(|| format!("catalogue {}", cfg.catalogue))?
        };
        let mut levers = Levers {
            max_sales: cfg.max_sales,
            retention_churn: cfg.retention_churn,
            idle_cash_yuan: cfg.idle_cash_yuan,
            holiday_days: cfg.holiday_days,
            ..Levers::default()
        };
        for (c, v) in &cfg.levers {
            if let Some(cat) = rapport_matching::Category::parse(c) {
                levers.category.insert(cat, *v);
            }
        }
        let defaults = LendingPolicy::default();
        if !(cfg.max_debt_service_ratio.is_finite() && cfg.max_debt_service_ratio > 0.0) {
            bail!(
                "matching.max_debt_service_ratio must be a positive ratio (0.5 = 50 %), got {}",
                cfg.max_debt_service_ratio
            );
        }
        if !(cfg.max_days_without_salary.is_finite() && cfg.max_days_without_salary > 0.0) {
            bail!(
                "matching.max_days_without_salary must be a positive number of days, got {}",
                cfg.max_days_without_salary
            );
        }
        let lending = LendingPolicy {
            max_days_without_salary: cfg.max_days_without_salary,
            max_debt_service_ratio: cfg.max_debt_service_ratio,
            distress_rules: if cfg.distress_rules.is_empty() {
                defaults.distress_rules
            } else {
                cfg.distress_rules.clone()
            },
            attrition_rules: if cfg.attrition_rules.is_empty() {
                defaults.attrition_rules
            } else {
                cfg.attrition_rules.clone()
            },
        };
        Ok(Settings {
            catalogue,
            policy: SuitabilityPolicy {
                validity_days: cfg.assessment_validity_days,
            },
            levers,
            lending,
        })
    }
}

/// Holdings opened this many days before the as-of date count as recent
/// take-up (the "customers like you took it up" signal).
const TAKE_UP_DAYS: i32 = 365;

/// One holding as the matching reads it.
#[derive(Debug, Clone, Copy)]
struct HoldingFact {
    product: usize,
    opened: Option<i32>,
    closed: Option<i32>,
}

/// Per-customer raw facts from the customer table.
#[derive(Debug, Clone, Default)]
struct CustomerRow {
    birth: Option<i32>,
    income_minor: Option<i64>,
    tolerance: Option<RiskTolerance>,
    assessed: Option<i32>,
}

/// Everything loaded from the store for one as-of date.
pub struct RankingInputs {
    pub as_of: NaiveDate,
    pub engine: Engine,
    /// Row i is the customer of the feature table's row i.
    pub views: Vec<CustomerView>,
    pub keys: Vec<String>,
    /// Store products that are not in the catalogue (never proposed).
    pub unknown_products: Vec<String>,
}

fn age_on(birth: Option<i32>, on: NaiveDate) -> Option<u32> {
    let b = date_of_epoch_day(birth?)?;
    let mut years = on.year() - b.year();
    if (on.month(), on.day()) < (b.month(), b.day()) {
        years -= 1;
    }
    u32::try_from(years).ok()
}

/// The consent channel (store vocabulary) as a sales channel.
fn sales_channel(consent: &str) -> Option<SalesChannel> {
    match consent {
        "mobile" | "app" | "mobile_app" => Some(SalesChannel::MobileApp),
        "online" | "web" | "online_banking" => Some(SalesChannel::OnlineBanking),
        "phone" => Some(SalesChannel::Phone),
        "wechat" => Some(SalesChannel::Wechat),
        _ => None,
    }
}

/// The first holiday starting within `days` after `on`.
fn next_holiday(cal: &HolidayCalendar, on: NaiveDate, days: i64) -> Option<UpcomingHoliday> {
    let p = cal
        .periods()
        .iter()
        .filter(|p| p.first_off >= on && (p.first_off - on).num_days() <= days)
        .min_by_key(|p| p.first_off)?;
    let name = p.code.display_name();
    let (en, zh) = name.split_once(" (").unwrap_or((name, name));
    Some(UpcomingHoliday {
        name_en: en.to_string(),
        name_zh: zh.trim_end_matches(')').to_string(),
        days_away: (p.first_off - on).num_days(),
    })
}

struct Raw {
    table: FeatureTable,
    customers: HashMap<i64, CustomerRow>,
    holdings: HashMap<i64, Vec<HoldingFact>>,
    codes: Vec<Option<String>>,
    unknown: Vec<String>,
}

/// The customers, holdings and product codes next to a feature table.
async fn load_raw(store: &Store, table: FeatureTable, holdings: Holdings) -> Result<Raw> {
    let mut customers: HashMap<i64, CustomerRow> = HashMap::with_capacity(table.len());
    store
        .scan_customers(DEFAULT_SCAN_CHUNK_ROWS, |c| {
            for i in 0..c.len() {
                customers.insert(
                    c.id[i],
                    CustomerRow {
                        birth: c.birth_date[i],
                        income_minor: c.annual_income[i],
                        tolerance: c
                            .risk_tolerance
                            .get(i)
                            .and_then(|t| RiskTolerance::parse(t).ok()),
                        assessed: c.risk_assessed_on[i],
                    },
                );
            }
        })
        .await?;
    Ok(Raw {
        table,
        customers,
        holdings: holdings.by_customer,
        codes: holdings.codes,
        unknown: holdings.unknown,
    })
}

/// Every holding of a catalogue product, by customer, read once.
struct Holdings {
    by_customer: HashMap<i64, Vec<HoldingFact>>,
    /// The catalogue code of each store product id (None: not in the catalogue).
    codes: Vec<Option<String>>,
    unknown: Vec<String>,
}

async fn load_holdings(store: &Store, catalogue: &Catalogue) -> Result<Holdings> {
    let products = store.products().await?;
    let max_id = products.iter().map(|p| p.id).max().unwrap_or(0);
    let mut codes: Vec<Option<String>> = vec![None; usize::try_from(max_id).unwrap_or(0) + 1];
    let mut unknown = Vec::new();
    for p in &products {
        if catalogue.get(&p.code).is_some() {
            codes[p.id as usize] = Some(p.code.clone());
        } else {
            unknown.push(p.code.clone());
        }
    }
    let mut by_customer: HashMap<i64, Vec<HoldingFact>> = HashMap::new();
    store
        .scan_holdings(DEFAULT_SCAN_CHUNK_ROWS, |h| {
            for i in 0..h.len() {
                let pid = h.product_id[i] as usize;
                if codes.get(pid).is_some_and(Option::is_some) {
                    by_customer
                        .entry(h.customer_id[i])
                        .or_default()
                        .push(HoldingFact {
                            product: pid,
                            opened: h.opened_on[i],
                            closed: h.closed_on[i],
                        });
                }
            }
        })
        .await?;
    Ok(Holdings {
        by_customer,
        codes,
        unknown,
    })
}

async fn features(store: &Store, as_of: NaiveDate) -> Result<FeatureTable> {
    FeatureEngine::new(store)
        .compute(as_of)
        .await
        .with_context(|| format!("computing features as of {as_of}"))
}

/// How the risk assessment is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AssessmentMode {
    /// As stored.
    Stored,
    /// As if made on the given day (the offline evaluation: the store keeps
    /// only the latest assessment, so at a past cut date it is assumed held).
    AssumedOn(NaiveDate),
}

/// Builds the views as of `as_of`; a holding counts when opened on or before
/// `held_before` (exclusive) and not closed by then.
async fn build(
    store: &Store,
    settings: &Settings,
    raw: Raw,
    as_of: NaiveDate,
    held_before: NaiveDate,
    mode: AssessmentMode,
    with_scores: bool,
) -> Result<RankingInputs> {
    let catalogue = settings.catalogue.clone();
    let t = &raw.table;
    let n = t.len();
    let col = |name: &str| t.column(name).map(<[Option<f64>]>::to_vec);
    let aum = col("aum").unwrap_or_else(|| vec![None; n]);
    let tiers =
        rapport_analytics::segment::assign_tiers(&SegmentConfig::default_config().tiers, &aum);
    let balance = col("balance_now");
    let outflow = col("outflow_90");
    let salary = col("salary_months_6");
    let complaints = col("complaints_90");
    let since_salary = col("days_since_salary");
    let dpd = col("max_days_past_due");
    let dsr = col("debt_service_ratio");
    let at = |c: &Option<Vec<Option<f64>>>, row: usize| c.as_ref().and_then(|v| v[row]);

    let mut health: HashMap<i64, (f64, String)> = HashMap::new();
    let mut churn: HashMap<i64, f64> = HashMap::new();
    let mut propensity: HashMap<i64, Vec<(String, f64)>> = HashMap::new();
    let mut consent: HashMap<i64, Vec<SalesChannel>> = HashMap::new();
    let mut alerts: HashMap<i64, Vec<String>> = HashMap::new();
    if with_scores {
        // Open alerts are today's, so only a current book reads them (the
        // offline evaluation at a past cut date does not).
        for (id, rule) in store.open_alert_rules().await? {
            alerts.entry(id).or_default().push(rule);
        }
        for h in store.health_scores(as_of).await? {
            health.insert(h.customer_id, (h.score, h.band));
        }
        churn = store
            .active_model_scores("churn")
            .await?
            .into_iter()
            .collect();
        for m in store.model_versions(None).await? {
            if let (true, Some(target)) = (m.active, m.kind.strip_prefix("propensity:")) {
                for (id, p) in store.active_model_scores(&m.kind).await? {
                    propensity
                        .entry(id)
                        .or_default()
                        .push((target.to_string(), p));
                }
            }
        }
    }
    for (id, ch) in store.consented_channels("marketing", as_of).await? {
        if let Some(c) = sales_channel(&ch) {
            let v = consent.entry(id).or_default();
            if !v.contains(&c) {
                v.push(c);
            }
        }
    }
    let cal = HolidayCalendar::embedded().ok();
    let levers = settings.levers.clone();
    let holiday = cal
        .as_ref()
        .and_then(|c| next_holiday(c, as_of, levers.holiday_days));
    let cut = epoch_day(held_before);
    let recent_from = cut - TAKE_UP_DAYS;
    let mut recent: Vec<Vec<String>> = Vec::with_capacity(n);

    let mut views = Vec::with_capacity(n);
    for (row, &id) in t.customer_ids.iter().enumerate() {
        let c = raw.customers.get(&id).cloned().unwrap_or_default();
        let assessment = match (c.tolerance, c.assessed, mode) {
            (Some(tol), _, AssessmentMode::AssumedOn(d)) => Some(Assessment {
                tolerance: tol,
                assessed_on: d,
            }),
            (Some(tol), Some(a), AssessmentMode::Stored) => {
                date_of_epoch_day(a).map(|d| Assessment {
                    tolerance: tol,
                    assessed_on: d,
                })
            }
            _ => None,
        };
        let held: Vec<String> = raw
            .holdings
            .get(&id)
            .map(|hs| {
                hs.iter()
                    .filter(|h| {
                        h.opened.is_none_or(|o| o < cut) && h.closed.is_none_or(|x| x >= cut)
                    })
                    .filter_map(|h| raw.codes[h.product].clone())
                    .collect()
            })
            .unwrap_or_default();
        recent.push(
            raw.holdings
                .get(&id)
                .map(|hs| {
                    hs.iter()
                        .filter(|h| h.opened.is_some_and(|o| o >= recent_from && o < cut))
                        .filter_map(|h| raw.codes[h.product].clone())
                        .collect()
                })
                .unwrap_or_default(),
        );
        let tier = Tier::parse(tiers.tier_of_row[row].as_str());
        let bal = balance.as_ref().and_then(|b| b[row]);
        // Investable: everything the customer has with the bank (deposits and
        // investments), which a purchase can be funded from.
        let investable = aum[row].or(bal);
        let facts = CustomerFacts {
            age: age_on(c.birth, as_of),
            annual_income_yuan: c.income_minor.map(|m| m / 100),
            tier,
            investable_yuan: investable.map(|b| b.max(0.0) as i64),
        };
        let (hs, hb) = health
            .get(&id)
            .map_or((None, None), |(s, b)| (Some(*s), Some(b.clone())));
        views.push(CustomerView {
            customer_id: id,
            facts,
            assessment,
            held,
            signals: Signals {
                balance_yuan: bal,
                monthly_outflow_yuan: outflow.as_ref().and_then(|o| o[row]).map(|o| o / 3.0),
                salary_months_6: salary.as_ref().and_then(|s| s[row]),
                health_score: hs,
                health_band: hb,
                churn_probability: churn.get(&id).copied(),
                complaints_90: complaints.as_ref().and_then(|s| s[row]),
                holiday: holiday.clone(),
                propensity: propensity
                    .remove(&id)
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
                days_since_salary: at(&since_salary, row),
                max_days_past_due: at(&dpd, row),
                debt_service_ratio: at(&dsr, row),
                open_alerts: alerts.remove(&id).unwrap_or_default(),
            },
            marketing_channels: consent.remove(&id).unwrap_or_default(),
        });
    }
    let codes: Vec<String> = catalogue.iter().map(|p| p.code.clone()).collect();
    let affinity = Affinity::fit(
        &codes,
        views.iter().zip(&recent).map(|(v, r)| {
            (
                ProfileKey::of(&v.facts, v.assessment.as_ref()),
                v.held.as_slice(),
                r.as_slice(),
            )
        }),
    );
    let engine = Engine::new(catalogue, settings.policy, affinity, levers)
        .with_lending(settings.lending.clone());
    Ok(RankingInputs {
        as_of,
        engine,
        views,
        keys: raw.table.customer_keys.clone(),
        unknown_products: raw.unknown,
    })
}

/// Loads the book as of `as_of` (holdings open on that day, stored assessments, active models).
pub async fn load_ranking_inputs(
    store: &Store,
    settings: &Settings,
    as_of: NaiveDate,
) -> Result<RankingInputs> {
    ranking_inputs_from(store, settings, features(store, as_of).await?).await
}

/// The book on a feature table already computed (its `as_of`).
async fn ranking_inputs_from(
    store: &Store,
    settings: &Settings,
    table: FeatureTable,
) -> Result<RankingInputs> {
    let as_of = table.as_of;
    let holdings = load_holdings(store, &settings.catalogue).await?;
    let raw = load_raw(store, table, holdings).await?;
    let held_before = as_of.succ_opt().unwrap_or(as_of);
    build(
        store,
        settings,
        raw,
        as_of,
        held_before,
        AssessmentMode::Stored,
        true,
    )
    .await
}

/// The JSON kept with a stored action: reasons, sources, factors, channel.
pub fn action_detail(a: &rapport_matching::Action, engine: &Engine) -> serde_json::Value {
    action_detail_with(a, engine, None)
}

/// [`action_detail`] with the credit facts the responsible-lending rule read
/// (kept with credit products, so the offer and the sale re-check the
/// debt-service ratio the proposal saw).
pub fn action_detail_with(
    a: &rapport_matching::Action,
    engine: &Engine,
    credit: Option<&CreditFacts>,
) -> serde_json::Value {
    let product = a
        .product_code
        .as_deref()
        .and_then(|c| engine.catalogue.get(c));
    serde_json::json!({
        "reasons": a.reasons,
        "sources": a.sources,
        "propensity": a.propensity,
        "value_weight": a.value_weight,
        "context_weight": a.context_weight,
        "lever": a.lever,
        "channel": a.channel,
        // Kept with every action (not only credit products): an offer made
        // later, by staff or by a campaign, re-checks the rule with them.
        "credit_facts": credit,
        "product": product.map(|p| serde_json::json!({
            "name_en": p.name_en, "name_zh": p.name_zh, "risk": p.risk.label(),
            "category": p.category.as_str(),
            "description_en": p.description_en, "description_zh": p.description_zh,
            "fees_en": p.fees_en, "fees_zh": p.fees_zh,
        })),
    })
}

/// Which suitability decisions of a result are logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogDecisions {
    /// Every candidate's (one customer asked for interactively).
    All,
    /// Those that shaped the proposal (batch runs: the proposed products and
    /// the blocked ones that would have ranked among them), so a nightly run
    /// over every customer does not write every candidate of every customer.
    Decisive,
}

/// The rows to store for one customer's result.
pub fn to_rows(
    r: &Recommendations,
    engine: &Engine,
    by: &str,
    log: LogDecisions,
) -> (Vec<NewRecommendation>, Vec<SuitabilityDecisionRow>) {
    to_rows_with(r, engine, by, log, None)
}

/// [`to_rows`] keeping the credit facts the lending rule read with credit products.
pub fn to_rows_with(
    r: &Recommendations,
    engine: &Engine,
    by: &str,
    log: LogDecisions,
    credit: Option<&CreditFacts>,
) -> (Vec<NewRecommendation>, Vec<SuitabilityDecisionRow>) {
    let recs = r
        .actions
        .iter()
        .enumerate()
        .map(|(i, a)| NewRecommendation {
            customer_id: r.customer_id,
            rank: i as i64 + 1,
            action: a.kind.as_str().to_string(),
            product_code: a.product_code.clone(),
            priority: a.priority,
            detail: action_detail_with(a, engine, credit).to_string(),
        })
        .collect();
    let mut decisions: Vec<SuitabilityDecisionRow> = match log {
        LogDecisions::All => &r.decisions,
        LogDecisions::Decisive => &r.decisive,
    }
    .iter()
    .map(|(code, d)| decision_row(r.customer_id, code, d, by))
    .collect();
    decisions.extend(
        match log {
            LogDecisions::All => &r.lending,
            LogDecisions::Decisive => &r.lending_decisive,
        }
        .iter()
        .map(|(code, d)| lending_row(r.customer_id, code, d, by)),
    );
    (recs, decisions)
}

/// A suitability decision as logged.
pub fn decision_row(
    customer_id: i64,
    code: &str,
    d: &rapport_matching::Decision,
    by: &str,
) -> SuitabilityDecisionRow {
    SuitabilityDecisionRow {
        customer_id,
        product_code: code.to_string(),
        context: d.context.as_str().to_string(),
        allowed: d.allowed,
        code: d.code.as_str().to_string(),
        product_risk: i64::from(d.product_risk),
        tolerance: d.customer_tolerance.map(|t| t.as_str().to_string()),
        assessed_on: d.assessed_on,
        reason: format!("{} / {}", d.reason_en, d.reason_zh),
        decided_by: by.to_string(),
    }
}

/// A responsible-lending decision as logged, in the suitability log (its
/// code starts with `lending_`; no tolerance).
pub fn lending_row(
    customer_id: i64,
    code: &str,
    d: &LendingDecision,
    by: &str,
) -> SuitabilityDecisionRow {
    SuitabilityDecisionRow {
        customer_id,
        product_code: code.to_string(),
        context: d.context.as_str().to_string(),
        allowed: d.allowed,
        code: d.code.as_str().to_string(),
        product_risk: i64::from(d.product_risk),
        tolerance: None,
        assessed_on: None,
        reason: format!("{} / {}", d.reason_en, d.reason_zh),
        decided_by: by.to_string(),
    }
}

/// What a batch run did.
#[derive(Debug, Clone, Serialize)]
pub struct BatchReport {
    pub as_of: NaiveDate,
    pub customers: usize,
    pub actions: usize,
    pub retention: usize,
    pub reassessment: usize,
    pub sales: usize,
    pub decisions_logged: usize,
    pub blocked_by_suitability: usize,
    /// Logged responsible-lending decisions that blocked a credit product.
    pub blocked_by_lending: usize,
    /// Customers proposed a credit product (loan, card) …
    pub credit_proposed: usize,
    /// … of whom 90+ days past due in the last 12 months (0 under the rule).
    pub credit_proposed_dpd_90: usize,
    /// … of whom past due at all in the last 12 months (0 under the rule).
    pub credit_proposed_in_arrears: usize,
    /// … of whom in the at-risk health band (0 under the rule).
    pub credit_proposed_at_risk: usize,
    /// Customers needing care (open distress or attrition alert, or not
    /// healthy) whose first action is not retention (0 under the rule).
    pub care_not_first: usize,
    pub unknown_products: Vec<String>,
    pub elapsed_ms: u128,
}

/// Recommends for every customer as of `as_of` and stores the actions
/// (replacing open proposals) and the suitability decisions.
pub async fn recommend_all(
    store: &Store,
    settings: &Settings,
    as_of: NaiveDate,
    by: &str,
) -> Result<BatchReport> {
    recommend_all_from(store, settings, features(store, as_of).await?, by).await
}

/// [`recommend_all`] on a feature table already computed.
async fn recommend_all_from(
    store: &Store,
    settings: &Settings,
    table: FeatureTable,
    by: &str,
) -> Result<BatchReport> {
    let t0 = std::time::Instant::now();
    let as_of = table.as_of;
    let book = ranking_inputs_from(store, settings, table).await?;
    let mut recs = Vec::new();
    let mut decisions = Vec::new();
    let (mut retention, mut reassessment, mut sales) = (0, 0, 0);
    let mut q = QualityCounts::default();
    // A retention action already offered stays (first) until it is
    // concluded; the run does not propose a second one beside it.
    let offered_retention: std::collections::HashSet<i64> = store
        .customers_with_offered_retention()
        .await?
        .into_iter()
        .collect();
    for v in &book.views {
        let mut r = book.engine.recommend(v, as_of);
        q.add(&book.engine, v, &r);
        if offered_retention.contains(&v.customer_id) {
            r.actions
                .retain(|a| a.kind != rapport_matching::ActionKind::Retention);
        }
        for a in &r.actions {
            match a.kind {
                rapport_matching::ActionKind::Retention => retention += 1,
                rapport_matching::ActionKind::Reassessment => reassessment += 1,
                rapport_matching::ActionKind::Sale => sales += 1,
            }
        }
        let credit = CreditFacts::of(&v.signals);
        let (rr, dd) = to_rows_with(&r, &book.engine, by, LogDecisions::Decisive, Some(&credit));
        recs.extend(rr);
        decisions.extend(dd);
    }
    let now = Utc::now();
    store
        .replace_recommendations(RecommendationScope::All, as_of, &recs, now)
        .await?;
    store.log_suitability(&decisions, now).await?;
    Ok(BatchReport {
        as_of,
        customers: book.views.len(),
        actions: recs.len(),
        retention,
        reassessment,
        sales,
        decisions_logged: decisions.len(),
        blocked_by_suitability: decisions
            .iter()
            .filter(|d| !d.allowed && !d.code.starts_with("lending_"))
            .count(),
        blocked_by_lending: decisions
            .iter()
            .filter(|d| !d.allowed && d.code.starts_with("lending_"))
            .count(),
        credit_proposed: q.credit,
        credit_proposed_dpd_90: q.credit_dpd_90,
        credit_proposed_in_arrears: q.credit_arrears,
        credit_proposed_at_risk: q.credit_at_risk,
        care_not_first: q.care_not_first,
        unknown_products: book.unknown_products,
        elapsed_ms: t0.elapsed().as_millis(),
    })
}

/// Whether the proposals agree with the signals, counted per customer.
#[derive(Debug, Clone, Copy, Default)]
struct QualityCounts {
    credit: usize,
    credit_dpd_90: usize,
    credit_arrears: usize,
    credit_at_risk: usize,
    care_not_first: usize,
}

impl QualityCounts {
    fn add(&mut self, engine: &Engine, v: &CustomerView, r: &Recommendations) {
        let s = &v.signals;
        let credit = r.actions.iter().any(|a| {
            a.product_code
                .as_deref()
                .and_then(|c| engine.catalogue.get(c))
                .is_some_and(|p| p.credit)
        });
        if credit {
            self.credit += 1;
            let dpd = s.max_days_past_due.unwrap_or(0.0);
            self.credit_dpd_90 += usize::from(dpd > 90.0);
            self.credit_arrears += usize::from(dpd > 0.0);
            self.credit_at_risk += usize::from(s.health_band.as_deref() == Some("at_risk"));
        }
        let care = s
            .open_alerts
            .iter()
            .any(|a| engine.lending.is_distress(a) || engine.lending.is_attrition(a))
            || matches!(s.health_band.as_deref(), Some("watch" | "at_risk"));
        if care
            && r.actions.first().map(|a| a.kind) != Some(rapport_matching::ActionKind::Retention)
        {
            self.care_not_first += 1;
        }
    }
}

/// The offline evaluation's figures.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub holdings: usize,
    pub holdout: usize,
    pub cut_date: NaiveDate,
    pub k: usize,
    /// Sales ordered by priority (propensity × value × context × lever).
    pub engine: RankingMetrics,
    /// Sales ordered by propensity alone.
    pub engine_propensity: RankingMetrics,
    pub popularity: RankingMetrics,
    pub popularity_filtered: RankingMetrics,
    /// Most opened in the year before the cut, not held.
    pub take_up: RankingMetrics,
    /// Over every customer at the cut date (the engine by priority, top k):
    /// customers proposed a credit product, and of them those past due in
    /// the 12 months before the cut, those 90+ days past due and those over
    /// the debt-service limit (0, 0, 0 under the responsible-lending rule).
    pub credit_proposed: usize,
    pub credit_proposed_in_arrears: usize,
    pub credit_proposed_dpd_90: usize,
    pub credit_proposed_over_dsr: usize,
    pub elapsed_ms: u128,
}

/// Holds out the latest `share` of dated holdings (by opening date): the
/// engine sees the book as of the cut date (holdings opened before it,
/// features as of it) and ranks products; its top k are compared with the
/// products each customer actually opened from the cut date on, against
/// the most popular products not held (plain, and after the same
/// eligibility and suitability filters).
pub async fn evaluate(
    store: &Store,
    settings: &Settings,
    share: f64,
    k: usize,
) -> Result<EvalReport> {
    let t0 = std::time::Instant::now();
    let catalogue = &settings.catalogue;
    // The cut date from the dated holdings (read once), then the features as of it.
    let holdings = load_holdings(store, catalogue).await?;
    let mut opened: Vec<i32> = holdings
        .by_customer
        .values()
        .flatten()
        .filter_map(|h| h.opened)
        .collect();
    anyhow::ensure!(
        opened.len() >= 20,
        "the store has {} dated holdings of catalogue products: too few to hold any out",
        opened.len()
    );
    opened.sort_unstable();
    let share = share.clamp(0.01, 0.9);
    let cut_idx = ((opened.len() as f64) * (1.0 - share)).floor() as usize;
    let cut = opened[cut_idx.min(opened.len() - 1)];
    let cut_date = date_of_epoch_day(cut).context("holding date out of range")?;

    let raw = load_raw(store, features(store, cut_date).await?, holdings).await?;
    // Held-out truth: products opened on or after the cut date, per customer.
    let mut truth: HashMap<i64, Vec<String>> = HashMap::new();
    let mut holdout = 0usize;
    for (id, hs) in &raw.holdings {
        for h in hs {
            if h.opened.is_some_and(|o| o >= cut) {
                if let Some(code) = &raw.codes[h.product] {
                    holdout += 1;
                    truth.entry(*id).or_default().push(code.clone());
                }
            }
        }
    }
    let holdings_total = opened.len();
    let book = build(
        store,
        settings,
        raw,
        cut_date,
        cut_date,
        AssessmentMode::AssumedOn(cut_date),
        false,
    )
    .await?;
    let popular: Vec<String> = book
        .engine
        .affinity
        .by_popularity()
        .into_iter()
        .map(str::to_string)
        .collect();
    let mut by_priority = book.engine.clone();
    by_priority.levers.max_sales = k;
    let mut by_propensity = by_priority.clone();
    by_propensity.levers.rank_by = rapport_matching::RankBy::Propensity;
    let recent: Vec<String> = book
        .engine
        .affinity
        .by_take_up()
        .into_iter()
        .map(str::to_string)
        .collect();
    let (mut credit, mut credit_arrears, mut credit_90, mut credit_dsr) = (0, 0, 0, 0);
    for v in &book.views {
        let r = by_priority.recommend(v, cut_date);
        let any_credit = r.actions.iter().any(|a| {
            a.product_code
                .as_deref()
                .and_then(|c| by_priority.catalogue.get(c))
                .is_some_and(|p| p.credit)
        });
        if any_credit {
            let dpd = v.signals.max_days_past_due.unwrap_or(0.0);
            credit += 1;
            credit_arrears += usize::from(dpd > 0.0);
            credit_90 += usize::from(dpd > 90.0);
            credit_dsr += usize::from(
                v.signals
                    .debt_service_ratio
                    .is_some_and(|x| x > by_priority.lending.max_debt_service_ratio),
            );
        }
    }
    let mut take = RankingEval::new(k);
    let mut ours = RankingEval::new(k);
    let mut ours_p = RankingEval::new(k);
    let mut pop = RankingEval::new(k);
    let mut pop_f = RankingEval::new(k);
    for v in &book.views {
        let Some(t) = truth.get(&v.customer_id) else {
            continue;
        };
        let relevant: Vec<&str> = t
            .iter()
            .map(String::as_str)
            .filter(|c| !v.held.iter().any(|h| h == c))
            .collect();
        if relevant.is_empty() {
            continue;
        }
        let r = by_priority.recommend(v, cut_date);
        let ranked: Vec<&str> = r
            .actions
            .iter()
            .filter_map(|a| a.product_code.as_deref())
            .collect();
        ours.add(&ranked, &relevant);
        let r = by_propensity.recommend(v, cut_date);
        let ranked: Vec<&str> = r
            .actions
            .iter()
            .filter_map(|a| a.product_code.as_deref())
            .collect();
        ours_p.add(&ranked, &relevant);
        let not_held: Vec<&str> = popular
            .iter()
            .map(String::as_str)
            .filter(|c| !v.held.iter().any(|h| h == c))
            .collect();
        pop.add(&not_held, &relevant);
        let recent_not_held: Vec<&str> = recent
            .iter()
            .map(String::as_str)
            .filter(|c| !v.held.iter().any(|h| h == c))
            .collect();
        take.add(&recent_not_held, &relevant);
        let allowed: Vec<&str> = not_held
            .iter()
            .copied()
            .filter(|c| {
                book.engine.catalogue.get(c).is_some_and(|p| {
                    p.eligibility_check(&v.facts).is_ok()
                        && rapport_matching::check_product(
                            &book.engine.policy,
                            p,
                            v.assessment.as_ref(),
                            cut_date,
                            rapport_matching::Context::Propose,
                        )
                        .allowed
                })
            })
            .collect();
        pop_f.add(&allowed, &relevant);
    }
    Ok(EvalReport {
        holdings: holdings_total,
        holdout,
        cut_date,
        k,
        engine: ours.finish(),
        engine_propensity: ours_p.finish(),
        popularity: pop.finish(),
        popularity_filtered: pop_f.finish(),
        take_up: take.finish(),
        credit_proposed: credit,
        credit_proposed_in_arrears: credit_arrears,
        credit_proposed_dpd_90: credit_90,
        credit_proposed_over_dsr: credit_dsr,
        elapsed_ms: t0.elapsed().as_millis(),
    })
}

/// What a refresh did: models scored, then the actions ranked and stored.
#[derive(Debug, Clone, Serialize)]
pub struct RefreshReport {
    pub models: Vec<crate::model_registry::StoreScoreReport>,
    pub recommendations: BatchReport,
}

/// After a scoring run: every active model scores the customers as of
/// `as_of`, then every customer's next best actions are ranked and stored
/// (the nightly job and the demo).
pub async fn refresh(
    store: &Store,
    settings: &Settings,
    as_of: NaiveDate,
    by: &str,
) -> Result<RefreshReport> {
    // One feature pass serves every model and the ranking.
    let table = features(store, as_of).await?;
    let mut models = Vec::new();
    for m in store.model_versions(None).await? {
        if m.active && !m.kind.starts_with("extract:") {
            models.push(crate::model_registry::score_table(store, &m.kind, &table, 3).await?);
        }
    }
    let recommendations = recommend_all_from(store, settings, table, by).await?;
    Ok(RefreshReport {
        models,
        recommendations,
    })
}

/// The facts the responsible-lending rule reads at an offer or a sale, as
/// of `today`: the days past due of the last 12 months, the open alerts and
/// the latest health score from the store now; the debt-service ratio and
/// the days since the salary the proposal saw (kept with the action; the
/// features need a scoring run),
/// unless the store's arrears say more.
pub async fn credit_facts_now(
    store: &Store,
    customer_id: i64,
    detail: &str,
    today: NaiveDate,
) -> Result<CreditFacts> {
    let proposed: Option<CreditFacts> = serde_json::from_str::<serde_json::Value>(detail)
        .ok()
        .and_then(|v| serde_json::from_value(v.get("credit_facts")?.clone()).ok());
    let dpd = store
        .customer_max_days_past_due(customer_id, today)
        .await?
        .map(|d| d as f64);
    let health = store.customer_latest_health(customer_id, today).await?;
    let proposed = proposed.unwrap_or_default();
    Ok(CreditFacts {
        max_days_past_due: match (dpd, proposed.max_days_past_due) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        },
        debt_service_ratio: proposed.debt_service_ratio,
        open_alerts: store.customer_open_alert_rules(customer_id).await?,
        health_band: health.as_ref().map(|h| h.2.clone()),
        health_score: health.as_ref().map(|h| h.1),
        days_since_salary: proposed.days_since_salary,
    })
}

/// Records an outcome; offering and accepting a product re-check the
/// suitability rule and, for a credit product, the responsible-lending rule
/// (offer, sell) and log the decisions; a blocked one is refused.
pub async fn record_outcome(
    store: &Store,
    settings: &Settings,
    id: i64,
    outcome: &str,
    by: &str,
    channel: Option<&str>,
    note: Option<&str>,
) -> Result<rapport_store::RecommendationRow> {
    let context = match outcome {
        "offered" => Some(rapport_matching::Context::Offer),
        "accepted" => Some(rapport_matching::Context::Sell),
        "declined" => None,
        other => bail!("unknown outcome {other:?} (offered, accepted, declined)"),
    };
    let rec = store
        .recommendation(id)
        .await?
        .with_context(|| format!("no recommendation {id}"))?;
    if let (Some(ctx), Some(code)) = (context, rec.product_code.as_deref()) {
        let product = settings
            .catalogue
            .get(code)
            .with_context(|| format!("product {code} is not in the catalogue"))?;
        let (tol, assessed) = store
            .customer_risk(rec.customer_id)
            .await?
            .unwrap_or((None, None));
        let assessment = match (tol.as_deref().map(RiskTolerance::parse), assessed) {
            (Some(Ok(tolerance)), Some(assessed_on)) => Some(Assessment {
                tolerance,
                assessed_on,
            }),
            _ => None,
        };
        let today = Utc::now().date_naive();
        let d = check_product(&settings.policy, product, assessment.as_ref(), today, ctx);
        store
            .log_suitability(&[decision_row(rec.customer_id, code, &d, by)], Utc::now())
            .await?;
        if !d.allowed {
            bail!(
                "blocked by the suitability rule: {} / {}",
                d.reason_en,
                d.reason_zh
            );
        }
        if product.credit {
            let facts = credit_facts_now(store, rec.customer_id, &rec.detail, today).await?;
            let ld = check_lending(&settings.lending, product, &facts, ctx);
            store
                .log_suitability(&[lending_row(rec.customer_id, code, &ld, by)], Utc::now())
                .await?;
            if !ld.allowed {
                bail!(
                    "blocked by the responsible-lending rule: {} / {}",
                    ld.reason_en,
                    ld.reason_zh
                );
            }
        }
    }
    Ok(store
        .record_recommendation_outcome(id, outcome, by, channel, note, Utc::now())
        .await?)
}

/// Records what became of recommendation `id` as `actor` (who needs
/// [`Permission::RecordOutcomes`] and the customer in scope), through `via`:
/// offering and accepting re-check the suitability rule and, for a credit
/// product, the responsible-lending rule; a blocked product is refused
/// ([`ServiceError::Refused`] with the rule's reason in English and
/// Chinese); audited.
#[allow(clippy::too_many_arguments)]
pub async fn record_outcome_as(
    store: &Store,
    settings: &Settings,
    actor: &Actor,
    via: &str,
    id: i64,
    outcome: &str,
    channel: Option<&str>,
    note: Option<&str>,
) -> ServiceResult<rapport_store::RecommendationRow> {
    actor.require(Permission::RecordOutcomes)?;
    let not_found = || ServiceError::not_found(format!("recommendation {id}"));
    let rec = store.recommendation(id).await?.ok_or_else(not_found)?;
    if !store
        .customer_in_scope(&actor.scope(), rec.customer_id)
        .await?
    {
        return Err(not_found());
    }
    if !["offered", "accepted", "declined"].contains(&outcome) {
        return Err(ServiceError::invalid(
            "outcome",
            format!("unknown outcome {outcome:?} (offered, accepted, declined)"),
        ));
    }
    let updated = record_outcome(store, settings, id, outcome, actor.name(), channel, note)
        .await
        .map_err(|e| match e.downcast::<rapport_store::StoreError>() {
            Ok(s) => s.into(),
            Err(e) => ServiceError::Refused(format!("{e:#}")),
        })?;
    store
        .append_audit(&[entry_for(
            actor,
            "recommendation.outcome",
            "recommendation",
            Some(id.to_string()),
            Some(rec.customer_id),
            json!({ "via": via, "outcome": outcome, "product": rec.product_code }),
        )])
        .await?;
    Ok(updated)
}
