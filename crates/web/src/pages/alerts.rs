//! The alert queue: list the alerts of the viewer's scope, open one with its
//! evidence and history, and move it through the workflow — acknowledge,
//! record an action, close with a disposition — or assign it. Every change
//! goes through the store's `transition_alert` (which keeps the history) and
//! is audited.

use super::{check_csrf, enc, opt, render, require, Layout};
use crate::audit::entry;
use crate::auth::{PageUser, Permission, Viewer};
use crate::error::PageError;
use crate::i18n::{Text, Tr};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::Utc;
use rapport_services::alerts::{self, DISPOSITIONS};
use rapport_services::error::ServiceError;
use rapport_store::{AlertRow, AlertStatus, ScopedAlertFilter};
use serde::Deserialize;
use serde_json::json;

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

/// An alert row as shown.
pub struct ShownAlert {
    pub id: i64,
    pub customer_href: String,
    pub customer: String,
    pub rule: String,
    pub severity: String,
    pub severity_label: String,
    pub raised_on: String,
    pub message: String,
    pub status: String,
    pub status_label: String,
    pub can_ack: bool,
}

pub fn shown(t: &Tr, v: &Viewer, a: &AlertRow) -> ShownAlert {
    let key = format!("#{}", a.customer_id);
    ShownAlert {
        id: a.id,
        customer_href: format!("/customers/{}", enc(&key)),
        customer: key,
        rule: a.rule.clone(),
        severity: a.severity.clone(),
        severity_label: t.s(&format!("sev.{}", a.severity)).to_string(),
        raised_on: a.raised_on.to_string(),
        message: a.message.clone(),
        status_label: t.s(&format!("status.{}", a.status)).to_string(),
        can_ack: a.status == "new" && v.can(Permission::WorkAlerts),
        status: a.status.clone(),
    }
}

#[derive(Deserialize, Default)]
struct QueueQuery {
    status: Option<String>,
    severity: Option<String>,
    mine: Option<String>,
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct QueuePage {
    layout: Layout,
    rows: Vec<ShownAlert>,
    total: i64,
    status: String,
    severity: String,
    mine: bool,
    statuses: Vec<(String, String)>,
    severities: Vec<(String, String)>,
    page: i64,
    prev_href: String,
    next_href: String,
}

const PER_PAGE: i64 = 50;

async fn queue(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Query(q): Query<QueueQuery>,
) -> Result<Response, PageError> {
    require(&v, Permission::WorkAlerts)?;
    let status = opt(&q.status);
    if let Some(s) = &status {
        if AlertStatus::parse(s).is_none() {
            return Err(PageError::BadRequest(format!("unknown status {s}")));
        }
    }
    let mine = q.mine.as_deref() == Some("1");
    let page = q.page.unwrap_or(1).max(1);
    let f = ScopedAlertFilter {
        status: status.clone(),
        severity: opt(&q.severity),
        assignee_id: mine.then_some(v.user.id),
        customer_id: None,
        limit: PER_PAGE,
        offset: (page - 1) * PER_PAGE,
    };
    let (rows, total) = app.store.alerts_in_scope(&v.scope(), &f).await?;
    let qs = |p: i64| {
        let mut s = format!("/alerts?page={p}");
        if let Some(x) = &f.status {
            s.push_str(&format!("&status={}", enc(x)));
        }
        if let Some(x) = &f.severity {
            s.push_str(&format!("&severity={}", enc(x)));
        }
        if mine {
            s.push_str("&mine=1");
        }
        s
    };
    let layout = Layout::new(&app, &v, "/alerts", &qs(page));
    let t = layout.t;
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let p = QueuePage {
        rows: rows.iter().map(|a| shown(&t, &v, a)).collect(),
        total,
        status: status.unwrap_or_default(),
        severity: f.severity.clone().unwrap_or_default(),
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
        severities: ["critical", "high", "medium", "low"]
            .iter()
            .map(|s| (s.to_string(), t.s(&format!("sev.{s}")).to_string()))
            .collect(),
        page,
        prev_href: if page > 1 {
            qs(page - 1)
        } else {
            String::new()
        },
        next_href: if page < pages {
            qs(page + 1)
        } else {
            String::new()
        },
        layout,
    };
    render(&p)
}

#[derive(Template)]
#[template(path = "alert.html")]
struct DetailPage {
    layout: Layout,
    a: ShownAlert,
    evidence: String,
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
    let evidence = serde_json::from_str::<serde_json::Value>(&a.evidence)
        .ok()
        .and_then(|e| serde_json::to_string_pretty(&e).ok())
        .unwrap_or_else(|| a.evidence.clone());
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
    let p = DetailPage {
        a: shown(&t, v, &a),
        evidence,
        history: events
            .iter()
            .map(|e| {
                (
                    e.at.format("%Y-%m-%d %H:%M").to_string(),
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
