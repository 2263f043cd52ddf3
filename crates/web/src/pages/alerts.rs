//! The alert queue: list the alerts of the viewer's scope, open one with its
//! evidence and history, and move it through the workflow — acknowledge,
//! record an action, close with a disposition — or assign it. Every change
//! goes through the store's `transition_alert` (which keeps the history) and
//! is audited.

use super::list::{csv_response, qv, sort_href, ListQuery};
use super::{check_csrf, enc, opt, render, require, Layout};
use crate::audit::entry;
use crate::auth::{PageUser, Permission, Viewer};
use crate::error::PageError;
use crate::i18n::{Lang, Text, Tr};
use crate::present;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::Utc;
use rapport_analytics::alerts::{EarlyWarningRule, RuleSet};
use rapport_services::alerts::{self, DISPOSITIONS};
use rapport_services::customers;
use rapport_services::error::ServiceError;
use rapport_services::saved_views::List as SavedList;
use rapport_store::alert_queue::{QueueFilter, QueueSort, QueuedAlert};
use rapport_store::{AlertRow, AlertStatus};
use serde::Deserialize;
use serde_json::json;
use std::sync::LazyLock;

pub const TEXTS: &[Text] = &[
    ("alerts.title", "预警队列", "Alert queue"),
    ("alerts.detail", "预警详情", "Alert"),
    ("alerts.customer", "客户", "Customer"),
    ("alerts.rule", "规则", "Rule"),
    ("alerts.severity", "严重程度", "Severity"),
    ("alerts.raised_on", "触发日", "Raised"),
    ("alerts.message", "说明", "Message"),
    ("alerts.assignee", "处理人", "Assignee"),
    ("alerts.queue", "队列", "Queue"),
    ("alerts.ack", "确认", "Acknowledge"),
    ("alerts.action", "记录处理", "Record action"),
    ("alerts.close", "关闭", "Close"),
    ("alerts.assign", "分派", "Assign"),
    ("alerts.note", "备注", "Note"),
    ("alerts.disposition", "处置结论", "Disposition"),
    ("alerts.evidence", "证据", "Evidence"),
    ("alerts.history", "处理历史", "History"),
    ("alerts.mine", "只看分派给我的", "Assigned to me only"),
    ("alerts.found", "条预警", "alerts"),
    (
        "alerts.illegal",
        "当前状态不允许此操作。",
        "This step is not allowed from the alert's current status.",
    ),
    (
        "alerts.need_disposition",
        "关闭预警需要填写处置结论。",
        "Closing an alert needs a disposition.",
    ),
    ("status.new", "新建", "New"),
    ("status.acknowledged", "已确认", "Acknowledged"),
    ("status.actioned", "已处理", "Actioned"),
    ("status.closed", "已关闭", "Closed"),
    ("disp.resolved", "已解决", "Resolved"),
    (
        "disp.customer_contacted",
        "已联系客户",
        "Customer contacted",
    ),
    (
        "disp.contacted_retained",
        "已联系，客户已挽留",
        "Contacted – retained",
    ),
    ("disp.false_positive", "误报", "False positive"),
    ("disp.escalated", "已升级", "Escalated"),
    ("disp.no_action", "无需处理", "No action needed"),
    ("alerts.customer_key", "客户号", "Customer key"),
    ("alerts.rule_filter", "规则", "Rule"),
    ("alerts.export", "导出 CSV", "Export CSV"),
    ("alerts.page_of", "第 {page} 页，共 {pages} 页", "Page {page} of {pages}"),
    (
        "alerts.empty_filtered",
        "没有符合筛选条件的预警。请放宽或清除筛选条件。",
        "No alert matches these filters. Widen or clear the filters.",
    ),
    ("alerts.clear_filters", "清除筛选", "Clear the filters"),
    (
        "alerts.empty",
        "队列中暂无预警。每日评分或实时交易触发预警规则后，预警会出现在这里。",
        "The queue is empty. Alerts appear here when the daily scoring or a live transaction triggers a rule.",
    ),
    ("alerts.features", "触发指标", "Figures that triggered it"),
    ("alerts.feature", "指标", "Figure"),
    ("alerts.value", "数值", "Value"),
    ("alerts.txns", "相关交易", "Transactions behind it"),
    ("alerts.no_txns", "无相关交易。", "No transactions attached."),
    ("alerts.txn_key", "交易号", "Transaction"),
    ("alerts.origin", "来源", "Origin"),
    ("alerts.history_at", "时间", "At"),
    ("alerts.history_by", "操作人", "By"),
    ("alerts.history_to", "新状态", "New status"),
    ("code.feature.max_outflow_1", "最近一日最大单笔流出", "Largest outflow of the last day"),
    ("code.feature.balance_30_ago", "30 天前余额", "Balance 30 days ago"),
    ("code.feature.balance_now", "当前余额", "Balance now"),
    ("code.feature.cash_withdrawals_30", "30 天取现次数", "Cash withdrawals in 30 days"),
    ("code.feature.cash_withdrawal_trend", "取现次数相对 90 天月均", "Cash withdrawals against the 90-day monthly rate"),
    ("code.feature.salary_months_6", "近 6 个月发薪月数", "Months with salary of the last 6"),
    ("code.feature.days_since_salary", "距上次发薪天数", "Days since the last salary"),
    ("code.feature.max_days_past_due", "最长逾期天数", "Most days past due"),
    ("code.feature.credit_utilisation", "信用额度使用率", "Credit utilisation"),
    ("code.feature.days_since_last_txn", "距上次交易天数", "Days since the last transaction"),
    ("code.feature.complaints_90", "90 天投诉次数", "Complaints in 90 days"),
    ("code.feature.score", "健康分", "Health score"),
    ("code.feature.band", "健康等级", "Health band"),
    ("code.feature.tier", "资产层级", "Asset tier"),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/alerts", get(queue))
        .route("/alerts/{id}", get(detail))
        .route("/alerts/{id}/ack", post(ack))
        .route("/alerts/{id}/action", post(action))
        .route("/alerts/{id}/close", post(close))
        .route("/alerts/{id}/assign", post(assign))
}

/// The shipped rule pack, for the rules' words (name and message) in both
/// languages.
static BUILTIN_RULES: LazyLock<Option<RuleSet>> = LazyLock::new(|| RuleSet::builtin().ok());

/// The rule `code` of the configured pack, else of the shipped one.
fn rule_of<'a>(app: Option<&'a AppState>, code: &str) -> Option<&'a EarlyWarningRule> {
    app.and_then(|a| a.services.settings.scoring.rules.as_ref())
        .and_then(|r| r.get(code))
        .or_else(|| BUILTIN_RULES.as_ref().and_then(|r| r.get(code)))
}

/// A rule's name in the viewer's language (the code when the pack lacks it).
pub fn rule_name(t: &Tr, app: Option<&AppState>, code: &str) -> String {
    match rule_of(app, code) {
        Some(r) => match (t.lang, &r.name_zh) {
            (Lang::ZhCn, Some(zh)) => zh.clone(),
            _ => r.name.clone(),
        },
        None => code.to_string(),
    }
}

/// An alert's message in the viewer's language: the stored (English)
/// message, or the rule's Chinese message written from the stored evidence.
pub fn rule_message(
    t: &Tr,
    app: Option<&AppState>,
    code: &str,
    stored: &str,
    evidence: &str,
) -> String {
    if t.lang == Lang::ZhCn {
        let ev: serde_json::Value = serde_json::from_str(evidence).unwrap_or_default();
        if let Some(m) = rule_of(app, code).and_then(|r| r.message_zh_from(&ev)) {
            return m;
        }
    }
    stored.to_string()
}

/// One transaction of an alert's evidence as shown.
pub struct EvidenceTxnView {
    pub on: String,
    pub amount: String,
    pub category: String,
    pub channel: String,
    pub key: String,
}

/// An alert's evidence as tables: the figures that triggered it and the
/// transactions behind it.
pub struct EvidenceView {
    pub features: Vec<(String, String)>,
    pub txns: Vec<EvidenceTxnView>,
}

/// A decimal amount in yuan as stored in evidence (`"-123.45"`) in fen.
fn fen_of(text: &str) -> Option<i64> {
    let x: f64 = text.trim().parse().ok()?;
    x.is_finite().then(|| (x * 100.0).round() as i64)
}

/// Reads the stored evidence JSON (`{"features": …, "transactions": […]}`).
pub fn evidence_view(t: &Tr, evidence: &str) -> EvidenceView {
    let ev: serde_json::Value = serde_json::from_str(evidence).unwrap_or_default();
    let features = ev["features"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(name, v)| {
                    let value = match v {
                        serde_json::Value::Number(n) => n
                            .as_f64()
                            .map(|x| {
                                rapport_analytics::alerts::format_value(
                                    name,
                                    &rapport_analytics::expr::Value::Num(x),
                                )
                            })
                            .unwrap_or_default(),
                        serde_json::Value::String(s) if name == "band" => {
                            t.s(&format!("band.{s}")).to_string()
                        }
                        serde_json::Value::String(s) if name == "tier" => {
                            present::word(t, "segment", &format!("tier:{s}"))
                        }
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Null => "—".to_string(),
                        other => other.to_string(),
                    };
                    (present::word(t, "feature", name), value)
                })
                .collect()
        })
        .unwrap_or_default();
    let txns = ev["transactions"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| {
                    let s = |k: &str| x[k].as_str().unwrap_or_default().to_string();
                    let amount = match &x["amount"] {
                        serde_json::Value::String(v) => fen_of(v),
                        serde_json::Value::Number(n) => {
                            n.as_f64().map(|f| (f * 100.0).round() as i64)
                        }
                        _ => None,
                    };
                    EvidenceTxnView {
                        on: s("booked_on"),
                        amount: amount.map(present::money).unwrap_or_default(),
                        category: present::word(t, "txn_category", &s("category")),
                        channel: present::word(t, "channel", &s("channel")),
                        key: s("source_key"),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    EvidenceView { features, txns }
}

/// An alert row as shown.
pub struct ShownAlert {
    pub id: i64,
    pub customer_href: String,
    /// The customer's name as the masking policy shows it, else the key.
    pub customer: String,
    pub customer_key: String,
    pub rule: String,
    pub rule_name: String,
    pub severity: String,
    pub severity_label: String,
    pub raised_on: String,
    pub message: String,
    pub status: String,
    pub status_label: String,
    pub can_ack: bool,
}

/// An alert of the store shown without its customer's name (the key `#id`).
pub fn shown(t: &Tr, v: &Viewer, a: &AlertRow) -> ShownAlert {
    let key = format!("#{}", a.customer_id);
    ShownAlert {
        id: a.id,
        customer_href: format!("/customers/{}", enc(&key)),
        customer: key.clone(),
        customer_key: key,
        rule: a.rule.clone(),
        rule_name: rule_name(t, None, &a.rule),
        severity: a.severity.clone(),
        severity_label: t.s(&format!("sev.{}", a.severity)).to_string(),
        raised_on: a.raised_on.to_string(),
        message: rule_message(t, None, &a.rule, &a.message, &a.evidence),
        status_label: t.s(&format!("status.{}", a.status)).to_string(),
        can_ack: a.status == "new" && v.can(Permission::WorkAlerts),
        status: a.status.clone(),
    }
}

/// An alert of the queue shown with its customer's (masked) name.
pub fn shown_queued(app: &AppState, t: &Tr, v: &Viewer, a: &QueuedAlert) -> ShownAlert {
    ShownAlert {
        id: a.id,
        customer_href: format!("/customers/{}", enc(&a.customer_key)),
        customer: if a.erased {
            t.s("cust.erased").to_string()
        } else {
            a.customer_name
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| a.customer_key.clone())
        },
        customer_key: a.customer_key.clone(),
        rule: a.rule.clone(),
        rule_name: rule_name(t, Some(app), &a.rule),
        severity: a.severity.clone(),
        severity_label: t.s(&format!("sev.{}", a.severity)).to_string(),
        raised_on: a.raised_on.to_string(),
        message: rule_message(t, Some(app), &a.rule, &a.message, &a.evidence),
        status_label: t.s(&format!("status.{}", a.status)).to_string(),
        can_ack: a.status == "new" && v.can(Permission::WorkAlerts),
        status: a.status.clone(),
    }
}

#[derive(Deserialize, Default)]
struct QueueQuery {
    status: Option<String>,
    severity: Option<String>,
    rule: Option<String>,
    mine: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
    page: Option<String>,
    format: Option<String>,
}

/// A sortable column heading.
pub struct Heading {
    pub label: String,
    pub href: String,
    /// `asc`, `desc` or empty (not the sort column).
    pub dir: &'static str,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct QueuePage {
    layout: Layout,
    rows: Vec<ShownAlert>,
    total: i64,
    status: String,
    severity: String,
    rule: String,
    mine: bool,
    statuses: Vec<(String, String)>,
    severities: Vec<(String, String)>,
    rules: Vec<(String, String)>,
    heads: Vec<Heading>,
    filtered: bool,
    csv_href: String,
    page_text: String,
    prev_href: String,
    next_href: String,
    saved: super::saved_views::SavedBar,
}

const PER_PAGE: i64 = 50;
const SORTS: [&str; 4] = ["severity", "raised", "customer", "rule"];

async fn queue(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    RawQuery(raw): RawQuery,
    Query(q): Query<QueueQuery>,
) -> Result<Response, PageError> {
    require(&v, Permission::WorkAlerts)?;
    let lq = ListQuery {
        sort: q.sort.clone(),
        dir: q.dir.clone(),
        page: q.page.clone(),
        format: q.format.clone(),
    };
    // Unknown filter values are no filter (never an error page).
    let status = opt(&q.status).filter(|s| AlertStatus::parse(s).is_some());
    let severity = opt(&q.severity).filter(|s| SEVERITIES.contains(&s.as_str()));
    let rule = opt(&q.rule).filter(|r| r.len() <= 100);
    let mine = q.mine.as_deref() == Some("1");
    let sort = lq.sort_or(&SORTS, "severity");
    let desc = lq.descending(matches!(sort, "severity" | "raised"));
    let page = i64::from(lq.page());
    let csv = lq.wants_csv();
    let f = QueueFilter {
        id: None,
        status: status.clone(),
        severity: severity.clone(),
        rule: rule.clone(),
        assignee_id: mine.then_some(v.user.id),
        sort: match sort {
            "raised" => QueueSort::Raised,
            "customer" => QueueSort::Customer,
            "rule" => QueueSort::Rule,
            _ => QueueSort::Severity,
        },
        descending: desc,
        limit: if csv { 10_000 } else { PER_PAGE },
        offset: if csv { 0 } else { (page - 1) * PER_PAGE },
    };
    let (rows, total) = customers::alert_queue(&app.services, &v, &f).await?;
    let mut base = Vec::new();
    for (k, val) in [
        ("status", &status),
        ("severity", &severity),
        ("rule", &rule),
    ] {
        if let Some(val) = val {
            base.push(format!("{k}={}", qv(val)));
        }
    }
    if mine {
        base.push("mine=1".to_string());
    }
    let base = base.join("&");
    let with = |extra: &str| {
        let sep = if base.is_empty() { "" } else { "&" };
        format!("/alerts?{base}{sep}{extra}")
    };
    let here = with(&format!(
        "sort={sort}&dir={}&page={page}",
        if desc { "desc" } else { "asc" }
    ));
    let layout = Layout::new(&app, &v, "/alerts", &here);
    let t = layout.t;
    let shown_rows: Vec<ShownAlert> = rows.iter().map(|a| shown_queued(&app, &t, &v, a)).collect();
    if csv {
        let header = [
            "#",
            t.s("alerts.raised_on"),
            t.s("alerts.severity"),
            t.s("alerts.customer_key"),
            t.s("alerts.customer"),
            t.s("alerts.rule"),
            t.s("alerts.message"),
            t.s("common.status"),
        ]
        .map(str::to_string);
        let body: Vec<Vec<String>> = shown_rows
            .iter()
            .map(|a| {
                vec![
                    a.id.to_string(),
                    a.raised_on.clone(),
                    a.severity_label.clone(),
                    a.customer_key.clone(),
                    a.customer.clone(),
                    a.rule_name.clone(),
                    a.message.clone(),
                    a.status_label.clone(),
                ]
            })
            .collect();
        return Ok(csv_response("alerts.csv", &header, &body));
    }
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let heads = [
        ("severity", "alerts.severity"),
        ("raised", "alerts.raised_on"),
        ("customer", "alerts.customer"),
        ("rule", "alerts.rule"),
    ]
    .iter()
    .map(|(col, key)| Heading {
        label: t.s(key).to_string(),
        href: sort_href("/alerts", &base, col, sort, desc),
        dir: if *col == sort {
            if desc {
                "desc"
            } else {
                "asc"
            }
        } else {
            ""
        },
    })
    .collect();
    let paged = |p: i64| {
        with(&format!(
            "sort={sort}&dir={}&page={p}",
            if desc { "desc" } else { "asc" }
        ))
    };
    let rules = app
        .store
        .alert_rules_in_scope(&v.scope())
        .await?
        .into_iter()
        .map(|code| {
            let name = rule_name(&t, Some(&app), &code);
            (code, name)
        })
        .collect();
    let p = QueuePage {
        rows: shown_rows,
        total,
        status: status.unwrap_or_default(),
        severity: severity.unwrap_or_default(),
        rule: rule.unwrap_or_default(),
        filtered: !base.is_empty(),
        mine,
        statuses: AlertStatus::ALL
            .iter()
            .map(|s| {
                (
                    s.as_str().to_string(),
                    t.s(&format!("status.{}", s.as_str())).to_string(),
                )
            })
            .collect(),
        severities: SEVERITIES
            .iter()
            .map(|s| (s.to_string(), t.s(&format!("sev.{s}")).to_string()))
            .collect(),
        rules,
        heads,
        csv_href: with(&format!(
            "sort={sort}&dir={}&format=csv",
            if desc { "desc" } else { "asc" }
        )),
        page_text: t
            .s("alerts.page_of")
            .replace("{page}", &page.min(pages).to_string())
            .replace("{pages}", &pages.to_string()),
        prev_href: if page > 1 {
            paged((page - 1).min(pages))
        } else {
            String::new()
        },
        next_href: if page < pages {
            paged(page + 1)
        } else {
            String::new()
        },
        saved: super::saved_views::bar(&app, &v, &t, SavedList::Alerts, raw.as_deref()).await?,
        layout,
    };
    render(&p)
}

const SEVERITIES: [&str; 4] = ["critical", "high", "medium", "low"];

#[derive(Template)]
#[template(path = "alert.html")]
struct DetailPage {
    layout: Layout,
    a: ShownAlert,
    evidence: EvidenceView,
    origin: String,
    raised_at: String,
    history: Vec<(String, String, String, String)>,
    assignee: String,
    queue: String,
    disposition: String,
    can_work: bool,
    can_assign: bool,
    dispositions: Vec<(String, String)>,
    rms: Vec<(String, String)>,
    error: Option<&'static str>,
}

async fn detail_page(
    app: &AppState,
    v: &Viewer,
    id: i64,
    error: Option<&'static str>,
) -> Result<Response, PageError> {
    let a = app.store.alert_in_scope(&v.scope(), id).await?;
    let queued = customers::alert_queue(
        &app.services,
        v,
        &QueueFilter {
            id: Some(id),
            limit: 1,
            ..QueueFilter::default()
        },
    )
    .await?
    .0
    .into_iter()
    .next()
    .ok_or(PageError::NotFound)?;
    let events = app.store.alert_events(id).await?;
    let layout = Layout::new(app, v, "/alerts", &format!("/alerts/{id}"));
    let t = layout.t;
    let assignee = match a.assignee_id {
        Some(s) => app
            .store
            .staff_user(s)
            .await
            .map(|u| u.display_name)
            .unwrap_or_default(),
        None => String::new(),
    };
    app.audit
        .record(entry(
            v,
            "alert.view",
            "alert",
            Some(id.to_string()),
            Some(a.customer_id),
            json!({}),
        ))
        .await;
    let customer_scope = rapport_store::Scope::All;
    let rms = if v.can(Permission::AssignAlerts) {
        app.store
            .relationship_managers(&match v.scope() {
                rapport_store::Scope::Branch(b) => rapport_store::Scope::Branch(b),
                _ => customer_scope,
            })
            .await?
            .into_iter()
            .map(|r| {
                (
                    r.id.to_string(),
                    format!("{} ({})", r.display_name, r.username),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let off = app.offset();
    let p = DetailPage {
        a: shown_queued(app, &t, v, &queued),
        evidence: evidence_view(&t, &a.evidence),
        origin: present::word(&t, "alert_origin", &a.origin),
        raised_at: present::time(a.raised_at, off),
        history: events
            .iter()
            .map(|e| {
                (
                    present::time(e.at, off),
                    e.actor.clone(),
                    t.s(&format!("status.{}", e.to_status)).to_string(),
                    e.note.clone().unwrap_or_default(),
                )
            })
            .collect(),
        assignee,
        queue: a.queue.clone().unwrap_or_default(),
        disposition: a
            .disposition
            .as_deref()
            .map(|d| t.s(&format!("disp.{d}")).to_string())
            .unwrap_or_default(),
        can_work: v.can(Permission::WorkAlerts) && a.status != "closed",
        can_assign: v.can(Permission::AssignAlerts) && a.status != "closed",
        dispositions: DISPOSITIONS
            .iter()
            .map(|d| (d.to_string(), t.s(&format!("disp.{d}")).to_string()))
            .collect(),
        rms,
        error,
        layout,
    };
    render(&p)
}

async fn detail(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    require(&v, Permission::WorkAlerts)?;
    detail_page(&app, &v, id, None).await
}

#[derive(Deserialize)]
struct StepForm {
    csrf: String,
    note: Option<String>,
    disposition: Option<String>,
    back: Option<String>,
}

async fn step(
    app: AppState,
    v: Viewer,
    id: i64,
    to: AlertStatus,
    f: StepForm,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    let note = opt(&f.note);
    let disposition = opt(&f.disposition);
    match alerts::transition(
        &app.store,
        &app.services.clock,
        &v.actor(),
        id,
        to,
        note.as_deref(),
        disposition.as_deref(),
        "web",
    )
    .await
    {
        Ok(_) => {}
        Err(ServiceError::Invalid { field, .. }) if field == "disposition" => {
            return detail_page(&app, &v, id, Some("alerts.need_disposition")).await
        }
        Err(ServiceError::InvalidTransition(_)) => {
            return detail_page(&app, &v, id, Some("alerts.illegal")).await
        }
        Err(e) => return Err(e.into()),
    }
    let back = f
        .back
        .as_deref()
        .and_then(super::same_site_path)
        .filter(|b| b.starts_with("/alerts"))
        .unwrap_or_else(|| format!("/alerts/{id}"));
    Ok(Redirect::to(&back).into_response())
}

async fn ack(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<StepForm>,
) -> Result<Response, PageError> {
    step(app, v, id, AlertStatus::Acknowledged, f).await
}

async fn action(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<StepForm>,
) -> Result<Response, PageError> {
    step(app, v, id, AlertStatus::Actioned, f).await
}

async fn close(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<StepForm>,
) -> Result<Response, PageError> {
    step(app, v, id, AlertStatus::Closed, f).await
}

#[derive(Deserialize)]
struct AssignForm {
    csrf: String,
    assignee: i64,
}

async fn assign(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<AssignForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    alerts::assign(&app.store, &v.actor(), "web", id, f.assignee, Utc::now()).await?;
    Ok(Redirect::to(&format!("/alerts/{id}")).into_response())
}
