//! The early-warning rules page (`/rules`) for the risk officer and the
//! analyst: per rule, the alerts raised, the action rate, the precision
//! against later outcomes and the median lead time, overall and by month.
//! Figures and their definitions are `rapport_services::rule_performance`'s.

use super::{render, require, Layout};
use crate::auth::{PageUser, Permission};
use crate::error::PageError;
use crate::i18n::{Text, Tr};
use crate::present::{percent, word};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use rapport_services::rule_performance::{self, Figures};

pub const TEXTS: &[Text] = &[
    ("nav.rules", "预警规则", "Warning rules"),
    ("rules.title", "预警规则效果", "Early-warning rule performance"),
    ("rules.intro", "每条预警规则触发的预警数、处置率（已处置 ÷ 已触发）、相对后续结果的命中率，以及结果发生前的提前天数（中位数）。", "Each early-warning rule's alerts, action rate (acted on ÷ raised), precision against later outcomes and the median lead time in days before the outcome."),
    ("rules.definition", "口径：预警触发后 {h} 天内客户出现逾期（信用卡账单逾期 ≥ {d} 天）或流失（此后连续 {s} 天无交易）即为命中；仅计入观察期已满的预警（触发日不晚于数据截止日前 {m} 天）。数据截止日：", "Definition: an alert is a hit when, within {h} days after it was raised, the customer became past due (a card statement ≥ {d} days past due) or churned (then {s} days without any transaction); only alerts whose follow-up is complete (raised at least {m} days before the end of the data) count. Data end: "),
    ("rules.rule", "规则", "Rule"),
    ("rules.what", "触发条件", "What it checks"),
    ("rules.severity", "严重程度", "Severity"),
    ("rules.alerts", "预警数", "Alerts"),
    ("rules.acted", "已处置", "Acted on"),
    ("rules.action_rate", "处置率", "Action rate"),
    ("rules.matured", "观察期已满", "Follow-up complete"),
    ("rules.hits", "命中", "Hits"),
    ("rules.precision", "命中率", "Precision"),
    ("rules.lead", "提前天数中位数", "Median lead (days)"),
    ("rules.by_month", "按月", "By month"),
    ("rules.month", "月份", "Month"),
    ("rules.none", "—", "—"),
    ("rules.no_alerts", "该规则尚未触发预警。", "This rule has raised no alert yet."),
    ("rules.no_data", "暂无数据", "no data"),
    ("code.severity.low", "低", "Low"),
    ("code.severity.medium", "中", "Medium"),
    ("code.severity.high", "高", "High"),
    ("code.severity.critical", "严重", "Critical"),
    ("code.alert_rule.large_outflow", "大额资金流出", "Large outflow"),
    ("code.alert_rule.cash_withdrawal_spike", "取现激增", "Cash-withdrawal spike"),
    ("code.alert_rule.balance_collapse", "余额骤降", "Balance collapse"),
    ("code.alert_rule.negative_balance", "存款余额为负", "Negative balance"),
    ("code.alert_rule.income_stopped", "工资收入中断", "Income stopped"),
    ("code.alert_rule.dpd_1_30", "逾期 1–30 天", "Days past due 1–30"),
    ("code.alert_rule.dpd_31_60", "逾期 31–60 天", "Days past due 31–60"),
    ("code.alert_rule.dpd_61_90", "逾期 61–90 天", "Days past due 61–90"),
    ("code.alert_rule.dpd_90_plus", "逾期 90 天以上", "Days past due over 90"),
    ("code.alert_rule.utilisation_above_90", "信用卡额度使用率超 90%", "Credit utilisation above 90%"),
    ("code.alert_rule.dormancy", "客户休眠", "Dormant customer"),
    ("code.alert_rule.complaint_escalation", "投诉升级", "Complaint escalation"),
    ("rules.what.large_outflow", "前一日单笔流出 ≥ 2 万元且不少于 30 天前余额的一半", "A single outflow of at least 20,000 on the last day and at least half the balance 30 days ago"),
    ("rules.what.cash_withdrawal_spike", "30 天内取现 ≥ 8 次，且为 90 天月均的 2 倍以上", "At least 8 cash withdrawals in 30 days, twice the 90-day monthly rate or more"),
    ("rules.what.balance_collapse", "30 天内余额由 ≥ 5,000 元降至不足原来的 20%", "Balance fell from at least 5,000 to under 20% of it within 30 days"),
    ("rules.what.negative_balance", "存款余额低于零", "Deposit balance below zero"),
    ("rules.what.income_stopped", "近 6 个月至少 4 个月有工资，但已超过 45 天未入账", "Salary in at least 4 of the last 6 months, none for over 45 days"),
    ("rules.what.dpd_1_30", "贷款或信用卡逾期 1–30 天", "A loan or card 1–30 days past due"),
    ("rules.what.dpd_31_60", "贷款或信用卡逾期 31–60 天", "A loan or card 31–60 days past due"),
    ("rules.what.dpd_61_90", "贷款或信用卡逾期 61–90 天", "A loan or card 61–90 days past due"),
    ("rules.what.dpd_90_plus", "贷款或信用卡逾期超过 90 天（不良）", "A loan or card over 90 days past due (non-performing)"),
    ("rules.what.utilisation_above_90", "信用卡余额超过授信额度的 90%", "Card balances above 90% of the credit limits"),
    ("rules.what.dormancy", "90–179 天无任何交易", "No transaction for 90 to 179 days"),
    ("rules.what.complaint_escalation", "90 天内投诉 ≥ 2 次", "At least 2 complaints in 90 days"),
];

pub fn routes() -> Router<AppState> {
    Router::new().route("/rules", get(page))
}

/// A rule's name as words (the catalogue's, else the name in its file).
pub fn rule_word(t: &Tr, code: &str, name: &str) -> String {
    let key = format!("code.alert_rule.{code}");
    if crate::i18n::has(&key) {
        t.s(&key).to_string()
    } else {
        name.to_string()
    }
}

/// A share as shown, or the placeholder.
fn rate(x: Option<f64>, none: &str) -> String {
    x.map_or_else(|| none.to_string(), percent)
}

/// Days as shown: one decimal (a median of two may fall between days).
pub fn days(x: Option<f64>, none: &str) -> String {
    x.map_or_else(|| none.to_string(), |d| format!("{d:.1}"))
}

fn bar(x: Option<f64>) -> u32 {
    (100.0 * x.unwrap_or(0.0)).round().clamp(0.0, 100.0) as u32
}

pub struct FigView {
    pub alerts: u64,
    pub acted: u64,
    pub action_rate: String,
    pub matured: u64,
    pub hits: u64,
    pub precision: String,
    pub lead: String,
    /// Bar widths in per cent (0–100) of the action rate and the precision.
    pub action_bar: u32,
    pub precision_bar: u32,
}

fn fig(f: &Figures, none: &str) -> FigView {
    FigView {
        alerts: f.alerts,
        acted: f.acted,
        action_rate: rate(f.action_rate, none),
        matured: f.matured,
        hits: f.hits,
        precision: rate(f.precision, none),
        lead: days(f.median_lead_days, none),
        action_bar: bar(f.action_rate),
        precision_bar: bar(f.precision),
    }
}

pub struct MonthView {
    pub month: String,
    pub f: FigView,
}

pub struct RuleView {
    pub code: String,
    pub name: String,
    pub what: String,
    pub severity: String,
    pub total: FigView,
    pub months: Vec<MonthView>,
}

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesPage {
    layout: Layout,
    definition: String,
    rules: Vec<RuleView>,
}

async fn page(State(app): State<AppState>, PageUser(v): PageUser) -> Result<Response, PageError> {
    require(&v, Permission::ViewModels)?;
    let r = rule_performance::report(&app.services, &v.actor()).await?;
    let layout = Layout::new(&app, &v, "/rules", "/rules");
    let t = layout.t;
    let none = t.s("rules.none");
    let d = r.definition;
    let definition = format!(
        "{}{}",
        t.s("rules.definition")
            .replace("{h}", &d.horizon_days.to_string())
            .replace("{d}", &d.past_due_days.to_string())
            .replace("{s}", &d.silence_days.to_string())
            .replace("{m}", &(d.horizon_days + d.silence_days).to_string()),
        r.data_end
            .map(|e| e.to_string())
            .unwrap_or_else(|| none.to_string())
    );
    let rules: Vec<RuleView> = r
        .rules
        .iter()
        .map(|p| {
            let what_key = format!("rules.what.{}", p.code);
            RuleView {
                code: p.code.clone(),
                name: rule_word(&t, &p.code, &p.name),
                what: if crate::i18n::has(&what_key) {
                    t.s(&what_key).to_string()
                } else {
                    String::new()
                },
                severity: p
                    .severity
                    .as_deref()
                    .map(|s| word(&t, "severity", s))
                    .unwrap_or_default(),
                total: fig(&p.total, none),
                months: p
                    .months
                    .iter()
                    .map(|m| MonthView {
                        month: m.month.clone(),
                        f: fig(&m.figures, none),
                    })
                    .collect(),
            }
        })
        .collect();
    render(&RulesPage {
        definition,
        rules,
        layout,
    })
}
