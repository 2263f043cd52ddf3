//! The derived profile of the customer 360 (PRODUCT.md C2): lifecycle stage,
//! channel preference, spending categories and life events, each with the
//! evidence behind it (dates, amounts, transaction and loan ids) and its
//! words in English and Chinese.
//!
//! Pure: the facts (`rapport_store::ProfileFacts`, read by the store for one
//! customer and a window) and the as-of day in, a [`DerivedProfile`] out.
//! The thresholds are [`ProfileRules`] (defaults below, documented in
//! docs/FEATURES.md under "Derived profile").
//!
//! * **Lifecycle** (first match): *dormant* — no customer-initiated
//!   transaction in `dormant_days`; *new* — relationship (first account
//!   opened, else first transaction) younger than `new_days`; *declining* —
//!   the salary stopped, or activity or inflows in the last 90 days fell
//!   below half of the 90 days before; *growing* — relationship younger than
//!   `growing_days`, or activity up by a quarter; *mature* otherwise.
//! * **Channel preference**: customer-initiated transactions (not salary,
//!   pension, interest or fees; not the bank's batch channel) and imported
//!   interactions of the last 365 days, counted per channel.
//! * **Spending categories**: outflows of the last 365 days by category
//!   (transfers out, investments and loan repayments move money rather than
//!   spend it and are left out), largest first with their share.
//! * **Life events** of the last `event_days`: salary stopped, salary
//!   changed, new payroll employer, pension started, large inflow, new loan.

use chrono::NaiveDate;
use rapport_domain::Money;
use rapport_store::{ProfileFacts, ProfileTxn};
use serde::Serialize;
use std::collections::BTreeMap;

/// The thresholds of the derived profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProfileRules {
    /// Days of history read before the as-of day.
    pub history_days: i64,
    /// Life events older than this many days are not shown.
    pub event_days: i64,
    /// A salary is stopped when none came for this many days...
    pub salary_gap_days: i64,
    /// ...after salary in at least this many of the 6 months before the last one.
    pub salary_regular_months: usize,
    /// A salary change: the median of the last 3 credits differs from the
    /// median of the 3 before by at least this share.
    pub salary_change: f64,
    /// A large inflow is at least this much (minor units)...
    pub large_inflow_min: i64,
    /// ...and at least this multiple of the median monthly inflow.
    pub large_inflow_multiple: f64,
    pub new_days: i64,
    pub growing_days: i64,
    pub dormant_days: i64,
}

impl Default for ProfileRules {
    fn default() -> Self {
        ProfileRules {
            history_days: 730,
            event_days: 365,
            salary_gap_days: 45,
            salary_regular_months: 3,
            salary_change: 0.2,
            large_inflow_min: 5_000_000,
            large_inflow_multiple: 3.0,
            new_days: 180,
            growing_days: 730,
            dormant_days: 180,
        }
    }
}

/// Everything derived.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DerivedProfile {
    pub as_of: NaiveDate,
    pub lifecycle: Lifecycle,
    pub channels: ChannelPreference,
    pub spending: Vec<SpendingCategory>,
    /// Newest first.
    pub life_events: Vec<LifeEvent>,
}

/// A lifecycle stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    New,
    Growing,
    Mature,
    Declining,
    Dormant,
}

impl Stage {
    /// The stage in English and Chinese.
    pub fn words(self) -> (&'static str, &'static str) {
        match self {
            Stage::New => ("new", "新客户"),
            Stage::Growing => ("growing", "成长期"),
            Stage::Mature => ("mature", "成熟期"),
            Stage::Declining => ("declining", "衰退期"),
            Stage::Dormant => ("dormant", "沉睡"),
        }
    }
}

/// The lifecycle stage and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lifecycle {
    pub stage: Stage,
    pub stage_en: &'static str,
    pub stage_zh: &'static str,
    pub en: String,
    pub zh: String,
}

/// The channels the customer uses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelPreference {
    /// The most used channel (None without activity).
    pub preferred: Option<String>,
    /// Most used first.
    pub shares: Vec<ChannelShare>,
    pub en: String,
    pub zh: String,
}

/// One channel's use.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelShare {
    pub channel: String,
    pub channel_en: &'static str,
    pub channel_zh: &'static str,
    pub transactions: u64,
    pub interactions: u64,
    /// Of all counted uses, 0–1.
    pub share: f64,
}

/// One spending category.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpendingCategory {
    pub category: String,
    pub category_en: &'static str,
    pub category_zh: &'static str,
    /// Minor units, positive.
    pub amount: i64,
    pub transactions: u64,
    /// Of all spending, 0–1.
    pub share: f64,
}

/// A kind of life event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    SalaryStopped,
    SalaryChanged,
    NewEmployer,
    PensionStarted,
    LargeInflow,
    NewLoan,
}

impl EventKind {
    pub fn words(self) -> (&'static str, &'static str) {
        match self {
            EventKind::SalaryStopped => ("salary stopped", "工资停发"),
            EventKind::SalaryChanged => ("salary changed", "工资变动"),
            EventKind::NewEmployer => ("new payroll employer", "更换代发工资单位"),
            EventKind::PensionStarted => ("pension started", "开始领取养老金"),
            EventKind::LargeInflow => ("large inflow", "大额资金转入"),
            EventKind::NewLoan => ("new loan", "新增贷款"),
        }
    }
}

/// A life event detected from the data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LifeEvent {
    pub kind: EventKind,
    pub kind_en: &'static str,
    pub kind_zh: &'static str,
    /// The day it happened (for a stop: the last salary).
    pub on: NaiveDate,
    pub en: String,
    pub zh: String,
    pub evidence: Vec<Evidence>,
}

/// A record behind a derived fact.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// `txn` or `loan`.
    pub entity: &'static str,
    pub id: i64,
    pub on: NaiveDate,
    /// Minor units (signed as booked).
    pub amount: i64,
    pub counterparty: Option<String>,
}

fn yuan(minor: i64) -> String {
    format!("¥{}", Money::from_minor(minor))
}

fn txn_evidence(t: &ProfileTxn) -> Evidence {
    Evidence {
        entity: "txn",
        id: t.id,
        on: t.booked_on,
        amount: t.amount,
        counterparty: t.counterparty.clone(),
    }
}

/// Transactions the bank books by itself, which say nothing about how the
/// customer chooses to bank.
fn bank_initiated(t: &ProfileTxn) -> bool {
    matches!(
        t.category.as_str(),
        "salary" | "pension" | "interest" | "fee"
    ) || t.channel == "batch"
}

/// Outflows that move money rather than spend it.
fn not_spending(category: &str) -> bool {
    matches!(category, "transfer_out" | "investment" | "loan_repayment")
}

/// The channel code in English and Chinese.
pub fn channel_words(code: &str) -> (&'static str, &'static str) {
    match code {
        "branch" => ("branch", "网点柜面"),
        "atm" => ("ATM", "自助设备"),
        "pos" => ("card terminal", "刷卡消费"),
        "online" => ("online banking", "网上银行"),
        "mobile" => ("mobile app", "手机银行"),
        "phone" => ("phone", "电话银行"),
        "wechat" => ("WeChat", "微信银行"),
        "batch" => ("bank batch", "批量代理"),
        _ => ("other", "其他"),
    }
}

/// The transaction category in English and Chinese.
pub fn category_words(code: &str) -> (&'static str, &'static str) {
    match code {
        "salary" => ("salary", "工资"),
        "transfer_in" => ("transfers in", "转入"),
        "transfer_out" => ("transfers out", "转出"),
        "cash_withdrawal" => ("cash withdrawals", "取现"),
        "cash_deposit" => ("cash deposits", "存现"),
        "card_purchase" => ("card purchases", "刷卡消费"),
        "loan_repayment" => ("loan repayments", "还贷"),
        "interest" => ("interest", "利息"),
        "fee" => ("fees", "手续费"),
        "insurance" => ("insurance", "保险"),
        "utilities" => ("utilities and household", "生活缴费"),
        "pension" => ("pension", "养老金"),
        "travel" => ("travel", "旅行"),
        "dining" => ("dining", "餐饮"),
        "groceries" => ("groceries", "超市日用"),
        "shopping" => ("shopping", "购物"),
        "education" => ("education", "教育"),
        "healthcare" => ("healthcare", "医疗"),
        "investment" => ("investment", "投资"),
        _ => ("other", "其他"),
    }
}

fn days(a: NaiveDate, b: NaiveDate) -> i64 {
    (b - a).num_days()
}

fn median(mut v: Vec<i64>) -> i64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    }
}

/// Month number since year 0 (for counting calendar months).
fn month_index(d: NaiveDate) -> i64 {
    use chrono::Datelike;
    i64::from(d.year()) * 12 + i64::from(d.month0())
}

/// Derives the profile as of `as_of` from `facts` (only facts on or before
/// `as_of` count).
pub fn derive(facts: &ProfileFacts, as_of: NaiveDate, rules: &ProfileRules) -> DerivedProfile {
    let txns: Vec<&ProfileTxn> = facts.txns.iter().filter(|t| t.booked_on <= as_of).collect();
    let life_events = life_events(facts, &txns, as_of, rules);
    let lifecycle = lifecycle(facts, &txns, &life_events, as_of, rules);
    DerivedProfile {
        as_of,
        lifecycle,
        channels: channels(facts, &txns, as_of),
        spending: spending(&txns, as_of),
        life_events,
    }
}

fn within(d: NaiveDate, as_of: NaiveDate, n: i64) -> bool {
    d <= as_of && days(d, as_of) < n
}

fn lifecycle(
    facts: &ProfileFacts,
    txns: &[&ProfileTxn],
    events: &[LifeEvent],
    as_of: NaiveDate,
    rules: &ProfileRules,
) -> Lifecycle {
    let own: Vec<&&ProfileTxn> = txns.iter().filter(|t| !bank_initiated(t)).collect();
    let since = facts
        .first_account_opened
        .or_else(|| txns.first().map(|t| t.booked_on))
        .filter(|d| *d <= as_of);
    let last_own = own.last().map(|t| t.booked_on);
    let recent = own
        .iter()
        .filter(|t| within(t.booked_on, as_of, 90))
        .count();
    let before = own
        .iter()
        .filter(|t| !within(t.booked_on, as_of, 90) && within(t.booked_on, as_of, 180))
        .count();
    let inflow = |from: i64, to: i64| -> i64 {
        txns.iter()
            .filter(|t| {
                t.amount > 0 && within(t.booked_on, as_of, to) && !within(t.booked_on, as_of, from)
            })
            .map(|t| t.amount)
            .sum()
    };
    let (in_recent, in_before) = (inflow(0, 90), inflow(90, 180));
    let salary_stop = events.iter().find(|e| e.kind == EventKind::SalaryStopped);
    let (stage, en, zh) = if since.is_none() && last_own.is_none() {
        (
            Stage::Dormant,
            "no account and no transaction on record".to_string(),
            "无账户、无交易记录".to_string(),
        )
    } else if last_own.is_none_or(|d| days(d, as_of) >= rules.dormant_days) {
        match last_own {
            Some(d) => (
                Stage::Dormant,
                format!(
                    "no transaction of the customer's own since {d} ({} days)",
                    days(d, as_of)
                ),
                format!("自{d}起（{}天）无主动交易", days(d, as_of)),
            ),
            None => (
                Stage::Dormant,
                format!(
                    "no transaction of the customer's own in {} days",
                    rules.dormant_days
                ),
                format!("{}天内无主动交易", rules.dormant_days),
            ),
        }
    } else if let Some(d) = since.filter(|d| days(*d, as_of) < rules.new_days) {
        (
            Stage::New,
            format!("customer since {d} ({} days)", days(d, as_of)),
            format!("{d}开户（{}天）", days(d, as_of)),
        )
    } else if let Some(e) = salary_stop {
        (Stage::Declining, e.en.clone(), e.zh.clone())
    } else if before >= 4 && recent * 2 < before {
        (
            Stage::Declining,
            format!(
                "{recent} transactions in the last 90 days against {before} in the 90 days before"
            ),
            format!("近90天交易{recent}笔，此前90天{before}笔"),
        )
    } else if in_before > 0 && in_recent * 2 < in_before {
        (
            Stage::Declining,
            format!(
                "inflows of {} in the last 90 days against {} in the 90 days before",
                yuan(in_recent),
                yuan(in_before)
            ),
            format!(
                "近90天资金流入{}，此前90天{}",
                yuan(in_recent),
                yuan(in_before)
            ),
        )
    } else if let Some(d) = since.filter(|d| days(*d, as_of) < rules.growing_days) {
        (
            Stage::Growing,
            format!("customer since {d}, active ({recent} transactions in 90 days)"),
            format!("{d}开户，近90天交易{recent}笔，活跃"),
        )
    } else if before >= 4 && recent * 4 >= before * 5 {
        (
            Stage::Growing,
            format!(
                "{recent} transactions in the last 90 days against {before} in the 90 days before"
            ),
            format!("近90天交易{recent}笔，此前90天{before}笔"),
        )
    } else {
        let d = since.unwrap_or(as_of);
        (
            Stage::Mature,
            format!("customer since {d}, steady activity ({recent} transactions in 90 days)"),
            format!("{d}开户，交易稳定（近90天{recent}笔）"),
        )
    };
    let (stage_en, stage_zh) = stage.words();
    Lifecycle {
        stage,
        stage_en,
        stage_zh,
        en,
        zh,
    }
}

fn channels(facts: &ProfileFacts, txns: &[&ProfileTxn], as_of: NaiveDate) -> ChannelPreference {
    let mut counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for t in txns
        .iter()
        .filter(|t| !bank_initiated(t) && within(t.booked_on, as_of, 365))
    {
        counts.entry(t.channel.clone()).or_default().0 += 1;
    }
    for c in facts
        .contacts
        .iter()
        .filter(|c| c.source == "interaction" && within(c.on, as_of, 365))
    {
        counts.entry(c.channel.clone()).or_default().1 += 1;
    }
    let total: u64 = counts.values().map(|(a, b)| a + b).sum();
    let mut shares: Vec<ChannelShare> = counts
        .into_iter()
        .map(|(channel, (transactions, interactions))| {
            let (channel_en, channel_zh) = channel_words(&channel);
            ChannelShare {
                channel,
                channel_en,
                channel_zh,
                transactions,
                interactions,
                share: (transactions + interactions) as f64 / total.max(1) as f64,
            }
        })
        .collect();
    shares.sort_by(|a, b| {
        (b.transactions + b.interactions)
            .cmp(&(a.transactions + a.interactions))
            .then_with(|| a.channel.cmp(&b.channel))
    });
    let (en, zh) = match shares.first() {
        None => (
            "no transaction or interaction of the customer's own in 12 months".to_string(),
            "近12个月无主动交易或接触".to_string(),
        ),
        Some(s) => (
            format!(
                "mostly {}: {:.0}% of {total} transactions and interactions in 12 months",
                s.channel_en,
                s.share * 100.0
            ),
            format!(
                "主要使用{}：近12个月{total}次交易和接触中占{:.0}%",
                s.channel_zh,
                s.share * 100.0
            ),
        ),
    };
    ChannelPreference {
        preferred: shares.first().map(|s| s.channel.clone()),
        shares,
        en,
        zh,
    }
}

fn spending(txns: &[&ProfileTxn], as_of: NaiveDate) -> Vec<SpendingCategory> {
    let mut by: BTreeMap<String, (i64, u64)> = BTreeMap::new();
    for t in txns
        .iter()
        .filter(|t| t.amount < 0 && !not_spending(&t.category) && within(t.booked_on, as_of, 365))
    {
        let e = by.entry(t.category.clone()).or_default();
        e.0 += -t.amount;
        e.1 += 1;
    }
    let total: i64 = by.values().map(|(a, _)| a).sum();
    let mut out: Vec<SpendingCategory> = by
        .into_iter()
        .map(|(category, (amount, transactions))| {
            let (category_en, category_zh) = category_words(&category);
            SpendingCategory {
                category,
                category_en,
                category_zh,
                amount,
                transactions,
                share: amount as f64 / total.max(1) as f64,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.amount
            .cmp(&a.amount)
            .then_with(|| a.category.cmp(&b.category))
    });
    out
}

fn event(
    kind: EventKind,
    on: NaiveDate,
    en: String,
    zh: String,
    evidence: Vec<Evidence>,
) -> LifeEvent {
    let (kind_en, kind_zh) = kind.words();
    LifeEvent {
        kind,
        kind_en,
        kind_zh,
        on,
        en,
        zh,
        evidence,
    }
}

fn life_events(
    facts: &ProfileFacts,
    txns: &[&ProfileTxn],
    as_of: NaiveDate,
    rules: &ProfileRules,
) -> Vec<LifeEvent> {
    let mut out = Vec::new();
    let recent = |d: NaiveDate| within(d, as_of, rules.event_days);
    let salary: Vec<&ProfileTxn> = txns
        .iter()
        .copied()
        .filter(|t| t.category == "salary" && t.amount > 0)
        .collect();
    // Salary stopped: regular before, none for salary_gap_days since.
    if let Some(last) = salary.last() {
        let gap = days(last.booked_on, as_of);
        let months: std::collections::BTreeSet<i64> = salary
            .iter()
            .filter(|t| days(t.booked_on, last.booked_on) < 183)
            .map(|t| month_index(t.booked_on))
            .collect();
        if gap >= rules.salary_gap_days
            && months.len() >= rules.salary_regular_months
            && recent(last.booked_on)
        {
            let outflow: i64 = txns
                .iter()
                .filter(|t| t.booked_on > last.booked_on && t.amount < 0)
                .map(|t| -t.amount)
                .sum();
            let mut evidence: Vec<Evidence> = salary
                .iter()
                .rev()
                .take(3)
                .map(|t| txn_evidence(t))
                .collect();
            evidence.reverse();
            out.push(event(
                EventKind::SalaryStopped,
                last.booked_on,
                format!(
                    "no salary for {gap} days: the last, {}, was credited on {} after salary in {} months; {} has gone out since",
                    yuan(last.amount),
                    last.booked_on,
                    months.len(),
                    yuan(outflow)
                ),
                format!(
                    "已{gap}天无工资入账：最后一笔{}于{}入账（此前{}个月有工资）；此后流出{}",
                    yuan(last.amount),
                    last.booked_on,
                    months.len(),
                    yuan(outflow)
                ),
                evidence,
            ));
        }
    }
    // Salary changed: the latest step where the median of 3 credits differs
    // from the median of the 3 before by the threshold (3 credits at the new
    // level, so a one-off bonus is no change); dated at its first credit.
    let step = |i: usize| -> Option<f64> {
        let m0 = median(salary[i - 3..i].iter().map(|t| t.amount).collect());
        let m1 = median(salary[i..i + 3].iter().map(|t| t.amount).collect());
        let change = (m1 - m0) as f64 / m0.max(1) as f64;
        (m0 > 0 && change.abs() >= rules.salary_change).then_some(change)
    };
    if salary.len() >= 6 {
        let latest = (3..=salary.len() - 3).rev().find(|&i| step(i).is_some());
        if let Some(mut i) = latest {
            while i > 3 && step(i - 1).is_some() {
                i -= 1;
            }
            let first = salary[i];
            let m0 = median(salary[i - 3..i].iter().map(|t| t.amount).collect());
            let m1 = median(salary[i..i + 3].iter().map(|t| t.amount).collect());
            let change = step(i).unwrap_or_default();
            if recent(first.booked_on) {
                let pct = change * 100.0;
                out.push(event(
                    EventKind::SalaryChanged,
                    first.booked_on,
                    format!(
                        "salary {} by {:.0}%: {} a month from {}, against {} before",
                        if change > 0.0 { "rose" } else { "fell" },
                        pct.abs(),
                        yuan(m1),
                        first.booked_on,
                        yuan(m0)
                    ),
                    format!(
                        "工资{}{:.0}%：自{}起每月{}，此前{}",
                        if change > 0.0 { "上涨" } else { "下降" },
                        pct.abs(),
                        first.booked_on,
                        yuan(m1),
                        yuan(m0)
                    ),
                    salary[i - 3..i + 3]
                        .iter()
                        .map(|t| txn_evidence(t))
                        .collect(),
                ));
            }
        }
    }
    // New payroll employer: the salary's payer changed after at least two
    // credits from the previous one.
    let payer = |t: &ProfileTxn| {
        t.counterparty
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
    };
    let mut runs: Vec<(String, Vec<&ProfileTxn>)> = Vec::new();
    for t in &salary {
        let Some(p) = payer(t) else { continue };
        match runs.last_mut() {
            Some((q, v)) if *q == p => v.push(t),
            _ => runs.push((p, vec![t])),
        }
    }
    for w in runs.windows(2) {
        let ((old, old_txns), (new, new_txns)) = (&w[0], &w[1]);
        let first_new = new_txns[0];
        if old_txns.len() >= 2 && recent(first_new.booked_on) {
            let last_old = old_txns[old_txns.len() - 1];
            out.push(event(
                EventKind::NewEmployer,
                first_new.booked_on,
                format!(
                    "salary paid by {new} from {} ({}), after {} by {old} until {}",
                    first_new.booked_on,
                    yuan(first_new.amount),
                    old_txns.len(),
                    last_old.booked_on
                ),
                format!(
                    "自{}起由{new}代发工资（{}），此前{old}代发{}笔至{}",
                    first_new.booked_on,
                    yuan(first_new.amount),
                    old_txns.len(),
                    last_old.booked_on
                ),
                vec![txn_evidence(last_old), txn_evidence(first_new)],
            ));
        }
    }
    // Pension started: the first pension credit after at least 90 days of
    // history without one.
    let pensions: Vec<&ProfileTxn> = txns
        .iter()
        .copied()
        .filter(|t| t.category == "pension" && t.amount > 0)
        .collect();
    if let (Some(first), Some(start)) = (pensions.first(), txns.first()) {
        if days(start.booked_on, first.booked_on) >= 90 && recent(first.booked_on) {
            out.push(event(
                EventKind::PensionStarted,
                first.booked_on,
                format!(
                    "first pension credited on {} ({}); {} pension credits since",
                    first.booked_on,
                    yuan(first.amount),
                    pensions.len()
                ),
                format!(
                    "{}首次领取养老金（{}），至今共{}笔",
                    first.booked_on,
                    yuan(first.amount),
                    pensions.len()
                ),
                pensions.iter().take(3).map(|t| txn_evidence(t)).collect(),
            ));
        }
    }
    // Large inflows: against the median monthly inflow over the history.
    let mut monthly: BTreeMap<i64, i64> = BTreeMap::new();
    for t in txns.iter().filter(|t| t.amount > 0) {
        *monthly.entry(month_index(t.booked_on)).or_default() += t.amount;
    }
    let typical = median(monthly.values().copied().collect());
    let floor = rules
        .large_inflow_min
        .max((typical as f64 * rules.large_inflow_multiple) as i64);
    for t in txns
        .iter()
        .filter(|t| t.amount > 0 && t.amount >= floor && recent(t.booked_on))
        .filter(|t| !matches!(t.category.as_str(), "salary" | "pension"))
    {
        let (cat_en, cat_zh) = category_words(&t.category);
        out.push(event(
            EventKind::LargeInflow,
            t.booked_on,
            format!(
                "{} in on {} ({cat_en}{}), against a usual {} a month",
                yuan(t.amount),
                t.booked_on,
                t.counterparty
                    .as_deref()
                    .map(|c| format!(" from {c}"))
                    .unwrap_or_default(),
                yuan(typical)
            ),
            format!(
                "{}转入{}（{cat_zh}{}），平时每月约{}",
                t.booked_on,
                yuan(t.amount),
                t.counterparty
                    .as_deref()
                    .map(|c| format!("，来自{c}"))
                    .unwrap_or_default(),
                yuan(typical)
            ),
            vec![txn_evidence(t)],
        ));
    }
    // New loans.
    for l in facts
        .loans
        .iter()
        .filter(|l| l.granted_on <= as_of && recent(l.granted_on))
    {
        out.push(event(
            EventKind::NewLoan,
            l.granted_on,
            format!(
                "loan {} of {} granted on {}: {} a month for {} months",
                l.key,
                yuan(l.amount),
                l.granted_on,
                yuan(l.monthly_payment),
                l.duration_months
            ),
            format!(
                "{}新增贷款{}：{}，月供{}，期限{}个月",
                l.granted_on,
                l.key,
                yuan(l.amount),
                yuan(l.monthly_payment),
                l.duration_months
            ),
            vec![Evidence {
                entity: "loan",
                id: l.id,
                on: l.granted_on,
                amount: l.amount,
                counterparty: None,
            }],
        ));
    }
    out.sort_by_key(|e| std::cmp::Reverse(e.on));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_store::{ProfileContact, ProfileLoan};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    struct Book {
        facts: ProfileFacts,
        next: i64,
    }

    impl Book {
        fn new(opened: &str) -> Self {
            Book {
                facts: ProfileFacts {
                    first_account_opened: Some(d(opened)),
                    ..ProfileFacts::default()
                },
                next: 1,
            }
        }
        fn txn(
            &mut self,
            on: NaiveDate,
            yuan: i64,
            channel: &str,
            category: &str,
            cp: Option<&str>,
        ) {
            self.facts.txns.push(ProfileTxn {
                id: self.next,
                booked_on: on,
                amount: yuan * 100,
                channel: channel.into(),
                category: category.into(),
                counterparty: cp.map(str::to_string),
            });
            self.next += 1;
        }
        /// Monthly salary on the 10th from `from` for `months` months, plus
        /// weekly card purchases and a grocery run.
        fn salaried(&mut self, from: &str, months: u32, yuan: i64, employer: &str) {
            let start = d(from);
            for m in 0..months {
                let Some(pay) = start.checked_add_months(chrono::Months::new(m)) else {
                    continue;
                };
                self.txn(pay, yuan, "batch", "salary", Some(employer));
                for w in 0..4 {
                    let day = pay + chrono::Duration::days(7 * w);
                    self.txn(day, -300, "mobile", "card_purchase", None);
                    self.txn(day, -150, "pos", "groceries", None);
                }
            }
            self.facts.txns.sort_by_key(|t| (t.booked_on, t.id));
        }
        fn derive(&self, as_of: &str) -> DerivedProfile {
            derive(&self.facts, d(as_of), &ProfileRules::default())
        }
    }

    fn kinds(p: &DerivedProfile) -> Vec<EventKind> {
        p.life_events.iter().map(|e| e.kind).collect()
    }

    #[test]
    fn a_salaried_customer_is_mature_with_no_life_event() {
        let mut b = Book::new("2020-01-01");
        b.salaried("2024-01-10", 24, 12_000, "ACME");
        let p = b.derive("2025-12-20");
        assert_eq!(p.lifecycle.stage, Stage::Mature, "{:?}", p.lifecycle);
        assert!(p.life_events.is_empty(), "{:?}", p.life_events);
        assert_eq!(p.channels.preferred.as_deref(), Some("mobile"));
        assert!(p.channels.zh.contains("手机银行"), "{}", p.channels.zh);
        let cats: Vec<&str> = p.spending.iter().map(|s| s.category.as_str()).collect();
        assert_eq!(cats, vec!["card_purchase", "groceries"]);
        assert!((p.spending[0].share - 2.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn a_salary_that_stopped_is_an_event_with_its_credits_and_makes_the_customer_declining() {
        let mut b = Book::new("2020-01-01");
        b.salaried("2024-06-10", 18, 15_000, "ACME");
        // Last salary 2025-11-10; savings move out afterwards.
        b.txn(
            d("2025-11-20"),
            -180_000,
            "mobile",
            "transfer_out",
            Some("other bank"),
        );
        b.facts.txns.sort_by_key(|t| (t.booked_on, t.id));
        let p = b.derive("2025-12-28");
        let stop = p
            .life_events
            .iter()
            .find(|e| e.kind == EventKind::SalaryStopped);
        let Some(stop) = stop else {
            panic!("{:?}", p.life_events)
        };
        assert_eq!(stop.on, d("2025-11-10"));
        assert!(stop.en.contains("48 days"), "{}", stop.en);
        assert!(stop.en.contains("¥15000.00"), "{}", stop.en);
        assert!(stop.zh.contains("48天"), "{}", stop.zh);
        assert_eq!(stop.evidence.len(), 3);
        assert!(stop
            .evidence
            .iter()
            .all(|e| e.entity == "txn" && e.amount == 1_500_000));
        assert_eq!(stop.evidence[2].on, d("2025-11-10"));
        assert_eq!(p.lifecycle.stage, Stage::Declining);
        // 40 days after the last salary it is not yet a stop.
        let early = b.derive("2025-12-20");
        assert!(!kinds(&early).contains(&EventKind::SalaryStopped));
    }

    #[test]
    fn a_new_employer_and_a_raise_are_found_from_the_salary_credits() {
        let mut b = Book::new("2020-01-01");
        b.salaried("2024-01-10", 12, 10_000, "OLD CO");
        b.salaried("2025-01-10", 6, 14_000, "NEW CO");
        let p = b.derive("2025-07-01");
        let k = kinds(&p);
        assert!(k.contains(&EventKind::NewEmployer), "{k:?}");
        assert!(k.contains(&EventKind::SalaryChanged), "{k:?}");
        let e = p
            .life_events
            .iter()
            .find(|e| e.kind == EventKind::NewEmployer);
        let Some(e) = e else { panic!() };
        assert_eq!(e.on, d("2025-01-10"));
        assert!(
            e.en.contains("NEW CO") && e.en.contains("OLD CO"),
            "{}",
            e.en
        );
        let c = p
            .life_events
            .iter()
            .find(|e| e.kind == EventKind::SalaryChanged);
        let Some(c) = c else { panic!() };
        assert!(c.en.contains("rose by 40%"), "{}", c.en);
        assert!(c.zh.contains("上涨40%"), "{}", c.zh);
        // A steady salary from one payer raises neither.
        let mut steady = Book::new("2020-01-01");
        steady.salaried("2024-01-10", 18, 10_000, "OLD CO");
        let k = kinds(&steady.derive("2025-07-01"));
        assert!(!k.contains(&EventKind::NewEmployer) && !k.contains(&EventKind::SalaryChanged));
    }

    #[test]
    fn pension_start_large_inflow_and_new_loan_carry_their_evidence() {
        let mut b = Book::new("2015-01-01");
        b.salaried("2024-01-10", 12, 8_000, "ACME");
        for m in 0..5 {
            let on = d("2025-02-15") + chrono::Duration::days(30 * m);
            b.txn(on, 4_000, "batch", "pension", Some("social security"));
        }
        b.txn(
            d("2025-03-01"),
            300_000,
            "branch",
            "transfer_in",
            Some("property sale"),
        );
        b.facts.loans.push(ProfileLoan {
            id: 77,
            key: "L-77".into(),
            granted_on: d("2025-04-01"),
            amount: 20_000_000,
            monthly_payment: 350_000,
            duration_months: 60,
        });
        b.facts.txns.sort_by_key(|t| (t.booked_on, t.id));
        let p = b.derive("2025-07-01");
        let k = kinds(&p);
        assert!(k.contains(&EventKind::PensionStarted), "{k:?}");
        assert!(k.contains(&EventKind::NewLoan), "{k:?}");
        let big: Vec<&LifeEvent> = p
            .life_events
            .iter()
            .filter(|e| e.kind == EventKind::LargeInflow)
            .collect();
        assert_eq!(big.len(), 1, "{big:?}");
        assert_eq!(big[0].evidence[0].amount, 30_000_000);
        assert!(big[0].en.contains("property sale"), "{}", big[0].en);
        let loan = p.life_events.iter().find(|e| e.kind == EventKind::NewLoan);
        let Some(loan) = loan else { panic!() };
        assert_eq!((loan.evidence[0].entity, loan.evidence[0].id), ("loan", 77));
        let pension = p
            .life_events
            .iter()
            .find(|e| e.kind == EventKind::PensionStarted);
        let Some(pension) = pension else { panic!() };
        assert_eq!(pension.on, d("2025-02-15"));
        // Newest first.
        assert!(p.life_events.windows(2).all(|w| w[0].on >= w[1].on));
        // Ordinary monthly salary is no large inflow.
        assert!(big.iter().all(|e| e.evidence[0].amount != 800_000));
    }

    #[test]
    fn dormant_new_and_growing_stages() {
        let mut old = Book::new("2018-01-01");
        old.txn(d("2024-01-05"), -100, "atm", "cash_withdrawal", None);
        old.txn(d("2025-06-01"), 10, "batch", "interest", None);
        let p = old.derive("2025-07-01");
        assert_eq!(p.lifecycle.stage, Stage::Dormant, "{:?}", p.lifecycle);
        assert!(p.lifecycle.en.contains("2024-01-05"), "{}", p.lifecycle.en);
        let mut new = Book::new("2025-05-01");
        new.txn(d("2025-06-01"), -100, "mobile", "dining", None);
        assert_eq!(new.derive("2025-07-01").lifecycle.stage, Stage::New);
        let mut young = Book::new("2024-06-01");
        young.salaried("2024-06-10", 12, 9_000, "ACME");
        assert_eq!(young.derive("2025-06-20").lifecycle.stage, Stage::Growing);
    }

    #[test]
    fn channel_preference_counts_interactions_and_leaves_out_bank_bookings() {
        let mut b = Book::new("2020-01-01");
        for i in 0..3 {
            b.txn(
                d("2025-05-01") + chrono::Duration::days(i),
                -50,
                "online",
                "shopping",
                None,
            );
        }
        for i in 0..4 {
            b.facts.contacts.push(ProfileContact {
                on: d("2025-05-01") + chrono::Duration::days(i),
                channel: "wechat".into(),
                source: "interaction",
            });
        }
        for i in 0..9 {
            b.txn(
                d("2025-05-01") + chrono::Duration::days(i),
                5,
                "batch",
                "interest",
                None,
            );
        }
        let p = b.derive("2025-07-01");
        assert_eq!(p.channels.preferred.as_deref(), Some("wechat"));
        assert_eq!(p.channels.shares.len(), 2);
        assert_eq!(p.channels.shares[0].interactions, 4);
        assert!(p.channels.en.contains("57%"), "{}", p.channels.en);
        let nothing = Book::new("2020-01-01").derive("2025-07-01");
        assert_eq!(nothing.channels.preferred, None);
        assert!(nothing.spending.is_empty());
    }
}
