//! Next best actions for one customer.
//!
//! 1. **Candidates** from three sources: needs rules (life stage, events,
//!    holidays, idle cash), similarity ("customers like you hold": co-holding
//!    and profile shares from [`Affinity`]) and propensity scores from the
//!    active models.
//! 2. **Hard filters**, in this order: products already held, eligibility
//!    (age, income, tier), the suitability rule (product risk ≤ a valid
//!    tolerance, else R1 only; every decision is returned for the log), and
//!    the responsible-lending rule (no credit product to a customer in
//!    arrears, with an open distress alert, over the debt-service limit or
//!    at risk; see [`crate::lending`], every decision returned for the log),
//!    and the contact policy (a sale needs a marketing-consented remote channel
//!    the product is sold on; without one it waits for the customer's next
//!    branch visit at half weight).
//! 3. **Ranking**: priority = propensity × value weight × context weight ×
//!    business lever. A retention (care) action comes before any sale while
//!    the customer has an open distress or attrition alert, is not in the
//!    healthy band, is likely to leave or complained twice in 90 days (sales
//!    then count half); a reassessment comes next when the assessment blocked
//!    products the customer would otherwise be offered.
//! 4. **Reasons** in zh and en for every action.
//!
//! Pure: the caller gathers the customer's view from the store and logs the
//! decisions.

use crate::affinity::{Affinity, ProfileKey};
use crate::catalogue::{Catalogue, Category, CustomerFacts, Need, Product, SalesChannel};
use crate::lending::{
    alert_rule_words, check_lending, CreditFacts, LendingDecision, LendingPolicy,
};
use crate::suitability::{check_product, Assessment, Context, Decision, SuitabilityPolicy};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::HashMap;

/// A holiday coming up (from the holiday calendar).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpcomingHoliday {
    pub name_en: String,
    pub name_zh: String,
    pub days_away: i64,
}

/// Behaviour and scores the rules read; None when unknown.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Signals {
    /// Balance on deposit accounts now (yuan).
    pub balance_yuan: Option<f64>,
    /// Average monthly outflow over the last 90 days (yuan).
    pub monthly_outflow_yuan: Option<f64>,
    /// Months with a salary credit in the last six.
    pub salary_months_6: Option<f64>,
    /// Health score 0–100 and its band (`healthy`, `watch`, `at_risk`).
    pub health_score: Option<f64>,
    pub health_band: Option<String>,
    /// Probability of leaving by the active churn model.
    pub churn_probability: Option<f64>,
    /// Complaints in the last 90 days.
    pub complaints_90: Option<f64>,
    pub holiday: Option<UpcomingHoliday>,
    /// Propensity by product code or category (`propensity:<x>` models).
    pub propensity: HashMap<String, f64>,
    /// Days since the latest salary credit.
    pub days_since_salary: Option<f64>,
    /// Most days past due on a loan or card statement in the last 12 months.
    pub max_days_past_due: Option<f64>,
    /// Monthly payments of active loans ÷ average monthly inflow (6 months).
    pub debt_service_ratio: Option<f64>,
    /// Rule codes of the customer's open (not closed) early-warning alerts.
    pub open_alerts: Vec<String>,
}

/// Everything known about one customer for matching.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CustomerView {
    pub customer_id: i64,
    pub facts: CustomerFacts,
    pub assessment: Option<Assessment>,
    /// Catalogue codes of the products held now.
    pub held: Vec<String>,
    pub signals: Signals,
    /// Channels with a granted marketing consent.
    pub marketing_channels: Vec<SalesChannel>,
}

/// Business levers and thresholds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Levers {
    /// Multiplier per category (missing = 1).
    pub category: HashMap<Category, f64>,
    /// Churn probability from which a retention action is raised.
    pub retention_churn: f64,
    /// Sales actions kept per customer.
    pub max_sales: usize,
    /// Idle cash (yuan above three months of outflow) that triggers deposit and wealth rules.
    pub idle_cash_yuan: f64,
    /// Holidays at most this many days away put holiday products in context.
    pub holiday_days: i64,
    /// Order sales by priority (the default) or by propensity alone (the
    /// offline evaluation of how well the engine predicts take-up).
    pub rank_by: RankBy,
}

/// What orders the sales actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RankBy {
    /// propensity × value × context × lever.
    Priority,
    /// propensity alone.
    Propensity,
}

impl Default for Levers {
    fn default() -> Self {
        Levers {
            category: HashMap::new(),
            retention_churn: 0.5,
            max_sales: 3,
            idle_cash_yuan: 20_000.0,
            holiday_days: 30,
            rank_by: RankBy::Priority,
        }
    }
}

/// What an action is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Retention,
    Reassessment,
    Sale,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Retention => "retention",
            ActionKind::Reassessment => "reassessment",
            ActionKind::Sale => "sale",
        }
    }
}

/// Where a candidate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Needs,
    Similarity,
    Propensity,
    Risk,
}

/// One reason, in both languages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    pub code: &'static str,
    pub en: String,
    pub zh: String,
}

/// One next best action.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Action {
    pub kind: ActionKind,
    pub product_code: Option<String>,
    pub priority: f64,
    pub propensity: f64,
    pub value_weight: f64,
    pub context_weight: f64,
    pub lever: f64,
    pub sources: Vec<Source>,
    pub reasons: Vec<Reason>,
    /// The channel to use: a consented remote channel, `branch` (next visit) or `rm`.
    pub channel: String,
}

/// A candidate dropped by a hard filter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exclusion {
    pub product_code: String,
    pub filter: &'static str,
    pub en: String,
    pub zh: String,
}

/// The result for one customer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendations {
    pub customer_id: i64,
    /// Ranked: retention, reassessment, then sales by priority.
    pub actions: Vec<Action>,
    /// Every suitability decision taken (allowed or blocked), candidate by candidate.
    pub decisions: Vec<(String, Decision)>,
    /// Every responsible-lending decision taken on a credit product that
    /// passed suitability (allowed or blocked), candidate by candidate.
    pub lending: Vec<(String, LendingDecision)>,
    /// The lending decisions that shaped the proposal (proposed credit
    /// products, and blocked ones that would have ranked among them).
    pub lending_decisive: Vec<(String, LendingDecision)>,
    /// The decisions that shaped the proposal, for the log of batch runs:
    /// those of the proposed products and of blocked products that would
    /// otherwise have ranked among them.
    pub decisive: Vec<(String, Decision)>,
    pub excluded: Vec<Exclusion>,
}

/// The matching engine: catalogue, policy, affinities and levers.
#[derive(Debug, Clone)]
pub struct Engine {
    pub catalogue: Catalogue,
    pub policy: SuitabilityPolicy,
    /// The responsible-lending rule's limits (default: [`LendingPolicy::default`]).
    pub lending: LendingPolicy,
    pub affinity: Affinity,
    pub levers: Levers,
    median_value: f64,
}

/// Days without a salary credit after which the salary counts as stopped
/// (the threshold of the `income_stopped` early-warning rule).
pub const SALARY_GAP_DAYS: f64 = 45.0;

/// Propensity per unit of need strength for products without take-up data.
pub const COLD_START: f64 = 0.02;

/// Remote channels a marketing message can use, in preference order.
const REMOTE: &[SalesChannel] = &[
    SalesChannel::MobileApp,
    SalesChannel::Wechat,
    SalesChannel::Phone,
    SalesChannel::OnlineBanking,
];

struct Candidate {
    needs: f64,
    similarity: f64,
    propensity: f64,
    context: f64,
    reasons: Vec<Reason>,
}

impl Candidate {
    fn new() -> Candidate {
        Candidate {
            needs: 0.0,
            similarity: 0.0,
            propensity: 0.0,
            context: 1.0,
            reasons: Vec::new(),
        }
    }
}

fn reason(code: &'static str, en: String, zh: String) -> Reason {
    Reason { code, en, zh }
}

fn yuan(x: f64) -> String {
    crate::catalogue::format_yuan(x.round() as i64)
}

impl Engine {
    pub fn new(
        catalogue: Catalogue,
        policy: SuitabilityPolicy,
        affinity: Affinity,
        levers: Levers,
    ) -> Engine {
        let mut values: Vec<f64> = catalogue.iter().map(|p| p.value_yuan as f64).collect();
        values.sort_by(f64::total_cmp);
        let median_value = values
            .get(values.len() / 2)
            .copied()
            .unwrap_or(1.0)
            .max(1.0);
        Engine {
            catalogue,
            policy,
            lending: LendingPolicy::default(),
            affinity,
            levers,
            median_value,
        }
    }

    /// The engine with another responsible-lending policy.
    pub fn with_lending(mut self, lending: LendingPolicy) -> Engine {
        self.lending = lending;
        self
    }

    /// Whether the salary is still coming in: a salary in at least four of
    /// the last six months, no open `income_stopped` alert, and (when known)
    /// the latest salary at most [`SALARY_GAP_DAYS`] days ago. A reason
    /// never says "salary credited regularly" otherwise.
    pub fn salary_current(v: &CustomerView) -> bool {
        v.signals.salary_months_6.unwrap_or(0.0) >= 4.0
            && !v.signals.open_alerts.iter().any(|r| r == "income_stopped")
            && v.signals
                .days_since_salary
                .is_none_or(|d| d <= SALARY_GAP_DAYS)
    }

    /// The value weight of a product: √(value / median value), within 0.25–4.
    pub fn value_weight(&self, p: &Product) -> f64 {
        (p.value_yuan.max(1) as f64 / self.median_value)
            .sqrt()
            .clamp(0.25, 4.0)
    }

    /// Needs rules: the needs this customer shows, with their strength and reason.
    fn needs(&self, v: &CustomerView) -> Vec<(Need, f64, Reason)> {
        let mut out = Vec::new();
        let age = v.facts.age;
        let salaried = Engine::salary_current(v);
        if let (Some(bal), Some(out_m)) = (v.signals.balance_yuan, v.signals.monthly_outflow_yuan) {
            let idle = bal - 3.0 * out_m;
            if idle >= self.levers.idle_cash_yuan {
                let strength = (idle / (idle + 100_000.0)).clamp(0.1, 0.6);
                let r = reason(
                    "idle_cash",
                    format!(
                        "¥{} above three months of spending sits in current and savings accounts",
                        yuan(idle)
                    ),
                    format!("活期及储蓄账户中超出三个月支出的闲置资金约¥{}", yuan(idle)),
                );
                for need in [Need::IdleCash, Need::Savings, Need::WealthGrowth] {
                    out.push((need, strength, r.clone()));
                }
            }
        }
        if let Some(a) = age {
            if (25..=45).contains(&a) && salaried {
                out.push((
                    Need::Home,
                    0.12,
                    reason(
                        "life_stage_home",
                        format!("aged {a} with a regular salary: the home-buying years"),
                        format!("{a}岁，工资稳定入账，处于购房阶段"),
                    ),
                ));
            }
            if (28..=50).contains(&a) {
                out.push((
                    Need::Education,
                    0.08,
                    reason(
                        "life_stage_education",
                        format!("aged {a}: children's education costs lie ahead"),
                        format!("{a}岁，子女教育支出临近"),
                    ),
                ));
            }
            if a >= 40 {
                let s = if a >= 50 { 0.18 } else { 0.1 };
                out.push((
                    Need::Retirement,
                    s,
                    reason(
                        "life_stage_retirement",
                        format!("aged {a}: time to build retirement savings"),
                        format!("{a}岁，宜为养老储备资金"),
                    ),
                ));
                out.push((
                    Need::Protection,
                    s / 2.0,
                    reason(
                        "life_stage_protection",
                        format!("aged {a}: protection for the family matters more"),
                        format!("{a}岁，家庭保障需求上升"),
                    ),
                ));
            }
        }
        if salaried {
            out.push((
                Need::Consumption,
                0.08,
                reason(
                    "salary_consumption",
                    "salary credited regularly: everyday spending on a card earns rewards".into(),
                    "工资按月入账，日常消费用卡可享积分返现".into(),
                ),
            ));
        }
        if let Some(h) = &v.signals.holiday {
            if (0..=self.levers.holiday_days).contains(&h.days_away) {
                let r = reason(
                    "holiday",
                    format!(
                        "{} is {} days away: travel and holiday spending",
                        h.name_en, h.days_away
                    ),
                    format!("距{}还有{}天：出行与节日消费", h.name_zh, h.days_away),
                );
                out.push((Need::HolidaySpending, 0.12, r.clone()));
                out.push((Need::Travel, 0.1, r));
            }
        }
        out
    }

    /// The ranked next best actions of one customer as of `today`.
    pub fn recommend(&self, v: &CustomerView, today: NaiveDate) -> Recommendations {
        let mut cands: Vec<Option<Candidate>> = self.catalogue.iter().map(|_| None).collect();
        let profile = ProfileKey::of(&v.facts, v.assessment.as_ref());

        // Needs rules.
        let needs = self.needs(v);
        for (i, p) in self.catalogue.iter().enumerate() {
            for (need, strength, r) in &needs {
                if p.serves(*need) {
                    let c = cands[i].get_or_insert_with(Candidate::new);
                    if *strength > c.needs {
                        c.needs = *strength;
                    }
                    if !c.reasons.iter().any(|x| x.code == r.code) {
                        c.reasons.push(r.clone());
                    }
                    if matches!(need, Need::HolidaySpending | Need::Travel) {
                        c.context = c.context.max(1.5);
                    }
                    if matches!(need, Need::IdleCash) {
                        c.context = c.context.max(1.3);
                    }
                }
            }
        }

        // Similarity: expected take-up (customers like you blended with the
        // bank-wide trend), times the co-holding lift.
        for (i, p) in self.catalogue.iter().enumerate() {
            let take_up = self.affinity.profile_take_up(&profile, &p.code);
            let lift = self.affinity.co_holding_lift(&v.held, &p.code);
            let sim = (self.affinity.expected_take_up(&profile, &p.code) * lift).min(1.0);
            if sim <= 0.0 {
                continue;
            }
            let c = cands[i].get_or_insert_with(Candidate::new);
            c.similarity = sim;
            if lift >= 1.5 {
                if let Some((pc, from)) = self.affinity.co_holding(&v.held, &p.code) {
                    let (from_en, from_zh) = self
                        .catalogue
                        .get(from)
                        .map_or((from.to_string(), from.to_string()), |f| {
                            (f.name_en.clone(), f.name_zh.clone())
                        });
                    c.reasons.push(reason(
                        "co_holding",
                        format!(
                            "{:.0}% of customers holding {from_en} also hold it",
                            pc * 100.0
                        ),
                        format!("持有{from_zh}的客户中{:.0}%也持有该产品", pc * 100.0),
                    ));
                }
            }
            let overall = self.affinity.take_up(&p.code);
            if overall > 0.0 && take_up >= 1.5 * overall && take_up >= 0.01 {
                c.reasons.push(reason(
                    "customers_like_you",
                    format!(
                        "{:.1}% of customers of the same age, income and risk profile took it up in the last year ({:.1}× the average)",
                        take_up * 100.0,
                        take_up / overall
                    ),
                    format!(
                        "同年龄、收入与风险偏好的客户近一年有{:.1}%办理（为平均水平的{:.1}倍）",
                        take_up * 100.0,
                        take_up / overall
                    ),
                ));
            }
        }

        // Propensity models, by product code or category.
        for (i, p) in self.catalogue.iter().enumerate() {
            let by_code = v.signals.propensity.get(&p.code);
            let by_cat = v.signals.propensity.get(p.category.as_str());
            if let Some(&prob) = by_code.or(by_cat) {
                let c = cands[i].get_or_insert_with(Candidate::new);
                c.propensity = prob;
                if prob >= 0.2 {
                    c.reasons.push(reason(
                        "propensity",
                        format!("model propensity {:.0}%", prob * 100.0),
                        format!("模型预测购买倾向{:.0}%", prob * 100.0),
                    ));
                }
            }
        }

        let mut decisions: Vec<(String, Decision)> = Vec::new();
        let mut blocked: Vec<(f64, usize)> = Vec::new();
        let mut excluded = Vec::new();
        let mut sales = Vec::new();
        let mut blocked_by_assessment: Vec<&Product> = Vec::new();
        let at_risk = self.at_risk(v);
        let credit = CreditFacts::of(&v.signals);
        let mut lending: Vec<(String, LendingDecision)> = Vec::new();
        let mut lending_blocked: Vec<(f64, usize)> = Vec::new();
        for (i, p) in self.catalogue.iter().enumerate() {
            let Some(c) = cands[i].take() else { continue };
            let ex = |filter: &'static str, en: String, zh: String| Exclusion {
                product_code: p.code.clone(),
                filter,
                en,
                zh,
            };
            if v.held.iter().any(|h| h == &p.code) {
                excluded.push(ex("held", "already held".into(), "已持有".into()));
                continue;
            }
            if let Err(e) = p.eligibility_check(&v.facts) {
                excluded.push(ex("eligibility", e.reason_en, e.reason_zh));
                continue;
            }
            let d = check_product(
                &self.policy,
                p,
                v.assessment.as_ref(),
                today,
                Context::Propose,
            );
            // Propensity from data (similarity, models); needs rules raise
            // the context weight instead of pretending to be probabilities.
            // A product nobody has taken up yet (a new one) still reaches
            // customers whose needs it serves, at a small cold-start
            // propensity that data-backed candidates outrank unless a lever
            // pushes it.
            let prop =
                (1.0 - (1.0 - c.similarity) * (1.0 - c.propensity)).max(COLD_START * c.needs);
            let lever = self
                .levers
                .category
                .get(&p.category)
                .copied()
                .unwrap_or(1.0);
            let value = self.value_weight(p);
            let allowed = d.allowed;
            if !allowed {
                excluded.push(ex("suitability", d.reason_en.clone(), d.reason_zh.clone()));
                if d.needs_reassessment && c.similarity + c.needs + c.propensity > 0.1 {
                    blocked_by_assessment.push(p);
                }
                // What it would have scored, to tell whether the rule changed the proposal.
                let would = match self.levers.rank_by {
                    RankBy::Priority => prop * value * c.context * (1.0 + c.needs) * lever,
                    RankBy::Propensity => prop,
                };
                blocked.push((would, decisions.len()));
            }
            decisions.push((p.code.clone(), d));
            if !allowed {
                continue;
            }
            // Responsible lending: a hard rule on credit products, after suitability.
            if p.credit {
                let ld = check_lending(&self.lending, p, &credit, Context::Propose);
                if !ld.allowed {
                    excluded.push(ex(
                        "responsible_lending",
                        ld.reason_en.clone(),
                        ld.reason_zh.clone(),
                    ));
                    let would = match self.levers.rank_by {
                        RankBy::Priority => prop * value * c.context * (1.0 + c.needs) * lever,
                        RankBy::Propensity => prop,
                    };
                    lending_blocked.push((would, lending.len()));
                    lending.push((p.code.clone(), ld));
                    continue;
                }
                lending.push((p.code.clone(), ld));
            }
            if prop <= 0.0 {
                continue;
            }
            let mut sources = Vec::new();
            if c.needs > 0.0 {
                sources.push(Source::Needs);
            }
            if c.similarity > 0.0 {
                sources.push(Source::Similarity);
            }
            if c.propensity > 0.0 {
                sources.push(Source::Propensity);
            }
            let channel = REMOTE
                .iter()
                .find(|ch| p.sold_via(**ch) && v.marketing_channels.contains(ch));
            let (channel, contact) = match channel {
                Some(ch) => (ch.as_str().to_string(), 1.0),
                None => ("branch".to_string(), 0.5),
            };
            let mut reasons = c.reasons;
            if reasons.is_empty() {
                // Similarity or a weak propensity alone: say how strong it is.
                reasons.push(if c.similarity >= c.propensity {
                    reason(
                        "customers_like_you",
                        format!(
                            "expected take-up {:.1}% among customers with a similar profile and holdings",
                            c.similarity * 100.0
                        ),
                        format!("相似画像与持仓客户的预计办理率{:.1}%", c.similarity * 100.0),
                    )
                } else {
                    reason(
                        "propensity",
                        format!("model propensity {:.0}%", c.propensity * 100.0),
                        format!("模型预测购买倾向{:.0}%", c.propensity * 100.0),
                    )
                });
            }
            if contact < 1.0 {
                reasons.push(reason(
                    "no_marketing_consent",
                    "no marketing consent on a channel it is sold on: offer at the next branch visit".into(),
                    "无可用营销渠道授权：待客户下次到网点时推荐".into(),
                ));
            }
            let context =
                c.context * (1.0 + c.needs) * contact * if at_risk.is_some() { 0.5 } else { 1.0 };
            sales.push(Action {
                kind: ActionKind::Sale,
                product_code: Some(p.code.clone()),
                priority: prop * value * context * lever,
                propensity: prop,
                value_weight: value,
                context_weight: context,
                lever,
                sources,
                reasons,
                channel,
            });
        }
        let key = |a: &Action| match self.levers.rank_by {
            RankBy::Priority => a.priority,
            RankBy::Propensity => a.propensity,
        };
        sales.sort_by(|a, b| {
            key(b)
                .total_cmp(&key(a))
                .then_with(|| a.product_code.cmp(&b.product_code))
        });
        sales.truncate(self.levers.max_sales);
        // The decisions that shaped the proposal: the proposed products', and
        // those of blocked products that would have ranked among them.
        let floor = if sales.len() < self.levers.max_sales {
            f64::NEG_INFINITY
        } else {
            sales.last().map_or(f64::NEG_INFINITY, key)
        };
        let mut decisive: Vec<(String, Decision)> = sales
            .iter()
            .filter_map(|a| a.product_code.as_deref())
            .filter_map(|code| decisions.iter().find(|(c, _)| c == code).cloned())
            .collect();
        decisive.extend(
            blocked
                .iter()
                .filter(|(would, _)| *would >= floor)
                .map(|(_, i)| decisions[*i].clone()),
        );
        let mut lending_decisive: Vec<(String, LendingDecision)> = sales
            .iter()
            .filter_map(|a| a.product_code.as_deref())
            .filter_map(|code| lending.iter().find(|(c, _)| c == code).cloned())
            .collect();
        lending_decisive.extend(
            lending_blocked
                .iter()
                .filter(|(would, _)| *would >= floor)
                .map(|(_, i)| lending[*i].clone()),
        );

        let mut actions = Vec::new();
        if let Some(reasons) = at_risk {
            actions.push(Action {
                kind: ActionKind::Retention,
                product_code: None,
                priority: 1.0 + v.signals.churn_probability.unwrap_or(0.5),
                propensity: v.signals.churn_probability.unwrap_or(0.0),
                value_weight: 1.0,
                context_weight: 1.0,
                lever: 1.0,
                sources: vec![Source::Risk],
                reasons,
                channel: "rm".into(),
            });
        }
        if let Some(first) = blocked_by_assessment.first() {
            let (en, zh) = match &v.assessment {
                None => (
                    format!(
                        "no risk assessment on file: products above R1 such as {} cannot be proposed",
                        first.name_en
                    ),
                    format!("无风险承受能力评估：无法推荐{}等R1以上产品", first.name_zh),
                ),
                Some(a) => (
                    format!(
                        "risk assessment of {} is no longer valid: reassess before proposing {}",
                        a.assessed_on, first.name_en
                    ),
                    format!("{}的风险评估已失效：需重新评估后方可推荐{}", a.assessed_on, first.name_zh),
                ),
            };
            actions.push(Action {
                kind: ActionKind::Reassessment,
                product_code: None,
                priority: 1.0,
                propensity: 0.0,
                value_weight: 1.0,
                context_weight: 1.0,
                lever: 1.0,
                sources: vec![Source::Risk],
                reasons: vec![reason("reassessment", en, zh)],
                channel: "rm".into(),
            });
        }
        actions.extend(sales);
        Recommendations {
            customer_id: v.customer_id,
            actions,
            decisions,
            decisive,
            lending,
            lending_decisive,
            excluded,
        }
    }

    /// The retention reasons when the customer is at risk.
    ///
    /// Care comes before any sale while the customer has an open distress or
    /// attrition alert (the rule codes of [`LendingPolicy`]), is not in the
    /// healthy band (`watch` or `at_risk`), the churn model gives at least
    /// the retention threshold, or two or more complaints came in 90 days.
    fn at_risk(&self, v: &CustomerView) -> Option<Vec<Reason>> {
        let mut reasons = Vec::new();
        let s = &v.signals;
        let mut seen: Vec<&str> = Vec::new();
        for rule in &s.open_alerts {
            let distress = self.lending.is_distress(rule);
            if (!distress && !self.lending.is_attrition(rule)) || seen.contains(&rule.as_str()) {
                continue;
            }
            seen.push(rule);
            let (en, zh) = alert_rule_words(rule);
            let (code, en, zh) = if distress {
                (
                    "distress_alert",
                    format!("open distress alert: {en}"),
                    format!("存在未关闭的困境预警：{zh}"),
                )
            } else {
                (
                    "attrition_alert",
                    format!("open attrition alert: {en}"),
                    format!("存在未关闭的流失预警：{zh}"),
                )
            };
            reasons.push(reason(code, en, zh));
        }
        let stopped = s.salary_months_6.unwrap_or(0.0) >= 4.0 && !Engine::salary_current(v);
        if stopped {
            match s.days_since_salary {
                Some(d) => reasons.push(reason(
                    "salary_stopped",
                    format!("salary last credited {d:.0} days ago after being paid regularly"),
                    format!("此前工资按月入账，最近一次入账已是{d:.0}天前"),
                )),
                None => reasons.push(reason(
                    "salary_stopped",
                    "the regular salary has stopped".into(),
                    "按月入账的工资已中断".into(),
                )),
            }
        }
        if let Some(p) = v.signals.churn_probability {
            if p >= self.levers.retention_churn {
                reasons.push(reason(
                    "churn_risk",
                    format!(
                        "churn model gives a {:.0}% probability of leaving",
                        p * 100.0
                    ),
                    format!("流失模型预测流失概率{:.0}%", p * 100.0),
                ));
            }
        }
        match (s.health_band.as_deref(), s.health_score) {
            (Some("at_risk"), Some(h)) => reasons.push(reason(
                "health_at_risk",
                format!("health score {h:.1} is in the at-risk band"),
                format!("健康度评分{h:.1}，处于风险区间"),
            )),
            (Some("at_risk"), None) => reasons.push(reason(
                "health_at_risk",
                "health score is in the at-risk band".into(),
                "健康度评分处于风险区间".into(),
            )),
            (Some("watch"), Some(h)) => reasons.push(reason(
                "health_watch",
                format!("health score {h:.1} is in the watch band"),
                format!("健康度评分{h:.1}，处于关注区间"),
            )),
            (Some("watch"), None) => reasons.push(reason(
                "health_watch",
                "health score is in the watch band".into(),
                "健康度评分处于关注区间".into(),
            )),
            _ => {}
        }
        if v.signals.complaints_90.unwrap_or(0.0) >= 2.0 {
            reasons.push(reason(
                "complaints",
                "two or more complaints in the last 90 days".into(),
                "近90天投诉两次及以上".into(),
            ));
        }
        (!reasons.is_empty()).then_some(reasons)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use rapport_domain::RiskTolerance;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn engine() -> Engine {
        let cat = Catalogue::builtin().unwrap();
        let codes: Vec<String> = cat.iter().map(|p| p.code.clone()).collect();
        let recent = vec!["WM-R2-01".to_string()];
        let book: Vec<(ProfileKey, Vec<String>)> = (0..200)
            .map(|i| {
                let held = if i % 2 == 0 {
                    vec!["TD-1Y".to_string(), "WM-R2-01".to_string()]
                } else {
                    vec!["CC-CLASSIC".to_string()]
                };
                (ProfileKey::default(), held)
            })
            .collect();
        let aff = Affinity::fit(
            &codes,
            book.iter()
                .map(|(k, h)| (*k, h.as_slice(), recent.as_slice())),
        );
        Engine::new(cat, SuitabilityPolicy::default(), aff, Levers::default())
    }

    fn view() -> CustomerView {
        CustomerView {
            customer_id: 7,
            facts: CustomerFacts {
                age: Some(52),
                annual_income_yuan: Some(250_000),
                tier: Some(crate::Tier::Affluent),
                investable_yuan: Some(300_000),
            },
            assessment: Some(Assessment {
                tolerance: RiskTolerance::C2,
                assessed_on: d(2025, 1, 10),
            }),
            held: vec!["TD-1Y".into()],
            signals: Signals {
                balance_yuan: Some(180_000.0),
                monthly_outflow_yuan: Some(8_000.0),
                salary_months_6: Some(6.0),
                ..Signals::default()
            },
            marketing_channels: vec![SalesChannel::MobileApp],
        }
    }

    #[test]
    fn sales_are_suitable_unheld_and_explained() {
        let e = engine();
        let r = e.recommend(&view(), d(2025, 6, 1));
        assert!(!r.actions.is_empty());
        for a in &r.actions {
            assert_eq!(a.kind, ActionKind::Sale);
            let code = a.product_code.as_deref().unwrap();
            assert_ne!(code, "TD-1Y");
            assert!(e.catalogue.get(code).unwrap().risk.get() <= 2, "{code}");
            assert!(!a.reasons.is_empty(), "{code} has no reason");
            assert!(a
                .reasons
                .iter()
                .all(|x| !x.en.is_empty() && !x.zh.is_empty()));
        }
        // Idle cash brings deposits and wealth in; WM-R2-01 is co-held with TD-1Y.
        assert!(r
            .actions
            .iter()
            .any(|a| a.product_code.as_deref() == Some("WM-R2-01")));
        // R3+ products were blocked by suitability and logged.
        assert!(r
            .decisions
            .iter()
            .any(|(c, dec)| c == "FD-R4-01" && !dec.allowed));
        assert!(r.excluded.iter().any(|x| x.filter == "held"));
        // The batch log keeps the proposed products' decisions and only
        // those blocked ones that would have ranked among them.
        for a in &r.actions {
            let code = a.product_code.as_deref().unwrap();
            assert!(r.decisive.iter().any(|(c, d)| c == code && d.allowed));
        }
        assert!(r.decisive.len() < r.decisions.len());
    }

    #[test]
    fn a_business_lever_moves_a_category_up() {
        let mut e = engine();
        let base = e.recommend(&view(), d(2025, 6, 1));
        let cat_of = |e: &Engine, a: &Action| {
            e.catalogue
                .get(a.product_code.as_deref().unwrap())
                .unwrap()
                .category
        };
        assert_ne!(cat_of(&e, &base.actions[0]), crate::Category::Pension);
        // Nobody in the book holds a pension product; the customer (52) needs
        // one, so it is a cold-start candidate that a lever brings to the top.
        e.levers.category.insert(crate::Category::Pension, 1_000.0);
        let pushed = e.recommend(&view(), d(2025, 6, 1));
        assert_eq!(cat_of(&e, &pushed.actions[0]), crate::Category::Pension);
        assert_eq!(pushed.actions[0].lever, 1_000.0);
        assert!(pushed.actions[0]
            .reasons
            .iter()
            .any(|r| r.code == "life_stage_retirement"));
    }

    #[test]
    fn a_blocked_product_that_would_have_ranked_is_decisive() {
        let e = engine();
        let mut v = view();
        // Co-held WM-R2-01 would lead; a C1 customer may not have it.
        v.assessment = Some(Assessment {
            tolerance: RiskTolerance::C1,
            assessed_on: d(2025, 1, 10),
        });
        let r = e.recommend(&v, d(2025, 6, 1));
        assert!(r
            .actions
            .iter()
            .all(|a| a.product_code.as_deref() != Some("WM-R2-01")));
        assert!(r
            .decisive
            .iter()
            .any(|(c, dec)| c == "WM-R2-01" && !dec.allowed));
    }

    #[test]
    fn retention_ranks_first_and_expiry_asks_for_reassessment() {
        let e = engine();
        let mut v = view();
        v.signals.churn_probability = Some(0.8);
        v.assessment = Some(Assessment {
            tolerance: RiskTolerance::C4,
            assessed_on: d(2023, 1, 1),
        });
        let r = e.recommend(&v, d(2025, 6, 1));
        assert_eq!(r.actions[0].kind, ActionKind::Retention);
        assert_eq!(r.actions[1].kind, ActionKind::Reassessment);
        for a in r.actions.iter().filter(|a| a.kind == ActionKind::Sale) {
            let p = e.catalogue.get(a.product_code.as_deref().unwrap()).unwrap();
            assert_eq!(p.risk.get(), 1, "expired assessment allows R1 only");
        }
    }

    #[test]
    fn a_stopped_salary_puts_care_first_and_no_reason_claims_a_regular_salary() {
        let e = engine();
        let mut v = view();
        v.facts.age = Some(35);
        let before = e.recommend(&v, d(2025, 6, 1));
        assert!(before.actions.iter().all(|a| a.kind == ActionKind::Sale));
        v.signals.days_since_salary = Some(48.0);
        v.signals.open_alerts = vec!["income_stopped".into(), "large_outflow".into()];
        let r = e.recommend(&v, d(2025, 6, 1));
        let first = &r.actions[0];
        assert_eq!(first.kind, ActionKind::Retention);
        let codes: Vec<&str> = first.reasons.iter().map(|x| x.code).collect();
        assert!(codes.contains(&"distress_alert"), "{codes:?}");
        assert!(codes.contains(&"attrition_alert"), "{codes:?}");
        assert!(
            first
                .reasons
                .iter()
                .any(|x| x.en.contains("48 days ago") && x.zh.contains("48天前")),
            "{:?}",
            first.reasons
        );
        for a in &r.actions {
            assert!(a
                .reasons
                .iter()
                .all(|x| x.code != "salary_consumption" && x.code != "life_stage_home"));
            if let Some(code) = a.product_code.as_deref() {
                assert!(
                    !e.catalogue.get(code).unwrap().credit,
                    "credit {code} proposed"
                );
            }
        }
        assert!(r
            .excluded
            .iter()
            .any(|x| x.filter == "responsible_lending" && x.en.contains("income stopped")));
    }

    #[test]
    fn a_watch_band_puts_care_first_without_blocking_credit() {
        let e = engine();
        let mut v = view();
        v.signals.health_band = Some("watch".into());
        v.signals.health_score = Some(58.3);
        let r = e.recommend(&v, d(2025, 6, 1));
        assert_eq!(r.actions[0].kind, ActionKind::Retention);
        assert!(r.actions[0].reasons[0].en.contains("58.3"));
        assert!(r.lending.iter().all(|(_, d)| d.allowed));
    }

    #[test]
    fn no_consent_means_branch_at_half_weight() {
        let e = engine();
        let mut v = view();
        let with = e.recommend(&v, d(2025, 6, 1));
        v.marketing_channels.clear();
        let without = e.recommend(&v, d(2025, 6, 1));
        let top = &without.actions[0];
        assert_eq!(top.channel, "branch");
        let same = with
            .actions
            .iter()
            .find(|a| a.product_code == top.product_code)
            .unwrap();
        assert!((top.priority - same.priority * 0.5).abs() < 1e-9);
    }
}
