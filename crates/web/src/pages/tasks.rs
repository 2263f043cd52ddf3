//! The RM's day (`/tasks`): one ranked list of what to do today for the
//! viewer's customers (an RM's book, a manager's branch) from
//! `rapport_services::tasks::day`, each row with a form to log the call,
//! visit or meeting it asks for; and a customer panel
//! (`/tasks/customer/{key}`) to log a contact, record a consent or its
//! revocation, or record the risk-tolerance questionnaire. Every form is
//! CSRF-checked and answers 303 back to `/tasks?done=…`; a refused form is
//! shown again with the reason in the viewer's language.

use super::{check_csrf, enc, render, require, Layout};
use crate::auth::{PageUser, Permission, Viewer};
use crate::error::PageError;
use crate::i18n::{Lang, Text, Tr};
use crate::present::word;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use rapport_services::error::ServiceError;
use rapport_services::rm::{ContactKind, ContactOutcome};
use rapport_services::saved_views::List as SavedList;
use rapport_services::tasks::{self, ContactForm, DayRow};
use serde::Deserialize;
use std::collections::HashMap;

pub const TEXTS: &[Text] = &[
    ("nav.tasks", "今日任务", "Today's tasks"),
    ("tasks.title", "今日任务", "Today's tasks"),
    (
        "tasks.intro",
        "按紧急程度排序：逾期在前，其次按严重程度，再按到期日。",
        "Ranked by urgency: overdue first, then severity, then due date.",
    ),
    ("tasks.count", "项待办", "things to do"),
    ("tasks.empty", "今天没有待办事项。", "Nothing to do today."),
    ("tasks.kind", "类型", "Kind"),
    ("tasks.customer", "客户", "Customer"),
    ("tasks.due", "到期日", "Due"),
    ("tasks.overdue", "已逾期", "Overdue"),
    ("tasks.why", "原因", "Why"),
    ("tasks.record", "记录联系", "Log contact"),
    ("tasks.more", "更多操作", "More"),
    ("tasks.open_case", "查看工单", "Open case"),
    ("tasks.contact_kind", "联系方式", "Contact by"),
    ("tasks.outcome", "结果", "Outcome"),
    ("tasks.note", "备注", "Note"),
    ("tasks.save", "保存", "Save"),
    ("tasks.by_call", "电话联系", "By phone"),
    ("tasks.panel", "客户操作", "Customer actions"),
    ("tasks.back", "返回今日任务", "Back to today's tasks"),
    ("tasks.open_360", "客户360视图", "Customer 360"),
    (
        "tasks.consent",
        "记录授权或撤回授权",
        "Record a consent or its revocation",
    ),
    ("tasks.channel", "渠道", "Channel"),
    ("tasks.purpose", "用途", "Purpose"),
    ("tasks.consent.grant", "客户同意", "The customer agrees"),
    (
        "tasks.consent.revoke",
        "客户撤回同意",
        "The customer revokes it",
    ),
    (
        "tasks.risk",
        "风险承受能力评估问卷",
        "Risk-tolerance questionnaire",
    ),
    (
        "tasks.risk.hint",
        "请与客户逐题确认，每题选择一项。",
        "Go through every question with the customer and pick one answer each.",
    ),
    (
        "tasks.done.contact",
        "联系已记录。",
        "The contact is logged.",
    ),
    (
        "tasks.done.follow_up",
        "已建立跟进任务，到期日：",
        "A follow-up task was created, due",
    ),
    (
        "tasks.done.consent",
        "授权记录已保存。",
        "The consent is recorded.",
    ),
    (
        "tasks.done.risk",
        "风险承受能力评估已保存，结果：",
        "The risk-tolerance assessment is recorded:",
    ),
    (
        "tasks.err.invalid",
        "无法保存，请检查填写的内容。",
        "This could not be saved: check what was entered.",
    ),
    (
        "tasks.err.kind",
        "请选择有效的联系方式；预警只能通过电话联系记录。",
        "Choose a valid way of contact; an alert is answered by a call.",
    ),
    (
        "tasks.err.outcome",
        "请选择联系结果。",
        "Choose the outcome of the contact.",
    ),
    (
        "tasks.err.note",
        "备注过长（最多2000字）。",
        "The note is too long (2000 characters at most).",
    ),
    (
        "tasks.err.alert",
        "该预警已关闭或不属于此客户。",
        "The alert is closed already or is not about this customer.",
    ),
    (
        "tasks.err.answers",
        "请回答全部问题，每题选择一项。",
        "Answer every question, one choice each.",
    ),
    ("tasks.err.channel", "请选择渠道。", "Choose a channel."),
    ("tasks.err.purpose", "请选择用途。", "Choose a purpose."),
    ("code.day_kind.alert", "预警", "Alert"),
    ("code.day_kind.case", "工单时限", "Case SLA"),
    ("code.day_kind.follow_up", "跟进任务", "Follow-up"),
    ("code.day_kind.cadence", "定期联系", "Cadence contact"),
    ("code.day_kind.action", "建议行动", "Next best action"),
    ("code.day_contact.call", "电话", "Call"),
    ("code.day_contact.visit", "上门拜访", "Visit"),
    ("code.day_contact.video", "视频会面", "Video meeting"),
    ("code.day_contact.message", "消息", "Message"),
    ("code.day_outcome.reached", "已联系上", "Reached"),
    ("code.day_outcome.no_answer", "未接通", "No answer"),
    ("code.day_outcome.interested", "客户有兴趣", "Interested"),
    ("code.day_outcome.declined", "客户拒绝", "Declined"),
    (
        "code.day_outcome.follow_up",
        "需再跟进",
        "Needs a follow-up",
    ),
    ("code.day_outcome.completed", "已完成", "Completed"),
    (
        "code.day_outcome.contacted_retained",
        "已联系，客户已挽留",
        "Contacted – retained",
    ),
    ("code.day_outcome.other", "其他", "Other"),
    ("code.day_severity.critical", "严重", "Critical"),
    ("code.day_severity.high", "高", "High"),
    ("code.day_severity.medium", "中", "Medium"),
    ("code.day_severity.low", "低", "Low"),
    ("code.day_channel.phone", "电话", "Phone"),
    ("code.day_channel.mobile", "短信", "Text message"),
    (
        "code.day_channel.online",
        "网上银行与电子邮件",
        "Online and e-mail",
    ),
    ("code.day_channel.wechat", "微信", "WeChat"),
    ("code.day_purpose.service", "服务通知", "Service"),
    ("code.day_purpose.marketing", "营销推广", "Marketing"),
];

/// The consent channels the form offers (the consent vocabulary's).
const CHANNELS: [&str; 4] = ["phone", "mobile", "online", "wechat"];
const PURPOSES: [&str; 2] = ["service", "marketing"];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tasks", get(list))
        .route("/tasks/contact", post(contact))
        .route("/tasks/customer/{key}", get(panel))
        .route("/tasks/customer/{key}/contact", post(panel_contact))
        .route("/tasks/customer/{key}/consent", post(consent))
        .route("/tasks/customer/{key}/risk", post(risk))
}

/// A choice of a select: (code, words).
pub struct Choice {
    pub code: String,
    pub label: String,
}

fn choices(t: &Tr, group: &str, codes: &[&str]) -> Vec<Choice> {
    codes
        .iter()
        .map(|c| Choice {
            code: c.to_string(),
            label: word(t, group, c),
        })
        .collect()
}

fn outcomes(t: &Tr) -> Vec<Choice> {
    let codes: Vec<&str> = ContactOutcome::ALL.iter().map(|o| o.as_str()).collect();
    choices(t, "day_outcome", &codes)
}

fn kinds(t: &Tr) -> Vec<Choice> {
    let codes: Vec<&str> = ContactKind::ALL.iter().map(|k| k.as_str()).collect();
    choices(t, "day_contact", &codes)
}

/// A row of the day list as shown.
pub struct RowView {
    /// `alert-12`, `task-7`, …: the row's id in the page.
    pub dom_id: String,
    pub kind: String,
    pub kind_label: String,
    pub customer_key: String,
    pub customer_href: String,
    pub panel_href: String,
    pub name: String,
    pub phone: String,
    pub due: String,
    pub overdue: bool,
    pub severity: String,
    pub severity_label: String,
    pub why: String,
    /// The alert or task the contact form answers ("" for none).
    pub alert_id: String,
    pub task_id: String,
    pub is_alert: bool,
    /// The case's page, for case rows ("" otherwise).
    pub case_href: String,
    pub can_log: bool,
}

pub fn row_view(t: &Tr, r: &DayRow) -> RowView {
    let kind = r.kind.as_str();
    let id = r.id.to_string();
    RowView {
        dom_id: format!("{kind}-{id}"),
        kind: kind.to_string(),
        kind_label: word(t, "day_kind", kind),
        customer_href: format!("/customers/{}", enc(&r.customer_key)),
        panel_href: format!("/tasks/customer/{}", enc(&r.customer_key)),
        customer_key: r.customer_key.clone(),
        name: r.customer_name.clone().unwrap_or_default(),
        phone: r.customer_phone.clone().unwrap_or_default(),
        due: r.due.to_string(),
        overdue: r.overdue,
        severity: r.severity.clone().unwrap_or_default(),
        severity_label: r
            .severity
            .as_deref()
            .map(|s| word(t, "day_severity", s))
            .unwrap_or_default(),
        why: match t.lang {
            Lang::ZhCn => r.why_zh.clone(),
            Lang::En => r.why_en.clone(),
        },
        alert_id: if r.kind == tasks::DayKind::Alert {
            id.clone()
        } else {
            String::new()
        },
        task_id: if matches!(r.kind, tasks::DayKind::Cadence | tasks::DayKind::FollowUp) {
            id.clone()
        } else {
            String::new()
        },
        is_alert: r.kind == tasks::DayKind::Alert,
        case_href: if r.kind == tasks::DayKind::Case {
            format!("/cases/{id}")
        } else {
            String::new()
        },
        can_log: r.kind != tasks::DayKind::Case,
    }
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct TasksPage {
    layout: Layout,
    rows: Vec<RowView>,
    kinds: Vec<Choice>,
    outcomes: Vec<Choice>,
    done: String,
    error: String,
    saved: super::saved_views::SavedBar,
}

#[derive(Deserialize, Default)]
struct DoneQuery {
    done: Option<String>,
    follow_up: Option<String>,
    level: Option<String>,
}

/// The confirmation of a form sent (`?done=…`), in the viewer's language.
fn done_text(t: &Tr, q: &DoneQuery) -> String {
    match q.done.as_deref() {
        Some("contact") => {
            let mut s = t.s("tasks.done.contact").to_string();
            if let Some(d) = q
                .follow_up
                .as_deref()
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            {
                s.push(' ');
                s.push_str(t.s("tasks.done.follow_up"));
                s.push(' ');
                s.push_str(&d.to_string());
            }
            s
        }
        Some("consent") => t.s("tasks.done.consent").to_string(),
        Some("risk") => {
            let level = q
                .level
                .as_deref()
                .and_then(|l| rapport_domain::RiskTolerance::parse(l).ok())
                .map(|l| {
                    let (code, en, zh) = rapport_matching::questionnaire::label(l);
                    match t.lang {
                        Lang::ZhCn => format!("{code} {zh}"),
                        Lang::En => format!("{code} {en}"),
                    }
                })
                .unwrap_or_default();
            format!("{} {level}", t.s("tasks.done.risk"))
        }
        _ => String::new(),
    }
}

/// The catalogue key of a refused form's reason.
fn error_key(e: &ServiceError) -> Option<&'static str> {
    match e {
        ServiceError::Invalid { field, .. } => Some(match field.as_str() {
            "kind" => "tasks.err.kind",
            "outcome" => "tasks.err.outcome",
            "note" => "tasks.err.note",
            "alert" => "tasks.err.alert",
            "answers" => "tasks.err.answers",
            "channel" => "tasks.err.channel",
            "purpose" => "tasks.err.purpose",
            _ => "tasks.err.invalid",
        }),
        ServiceError::InvalidTransition(_) | ServiceError::Conflict(_) => Some("tasks.err.alert"),
        _ => None,
    }
}

async fn list_page(
    app: &AppState,
    v: &Viewer,
    done: String,
    error: String,
) -> Result<TasksPage, PageError> {
    let layout = Layout::new(app, v, "/tasks", "/tasks");
    let t = layout.t;
    let rows = tasks::day(&app.services, &v.actor()).await?;
    // The day list has no filters: its one view is the list itself.
    let saved = super::saved_views::bar(app, v, &t, SavedList::Tasks, None).await?;
    Ok(TasksPage {
        saved,
        rows: rows.iter().map(|r| row_view(&t, r)).collect(),
        kinds: kinds(&t),
        outcomes: outcomes(&t),
        done,
        error,
        layout,
    })
}

async fn list(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    require(&v, Permission::Workbench)?;
    let t = Tr::new(app.lang_of(&v.user));
    let p = list_page(&app, &v, done_text(&t, &q), String::new()).await?;
    render(&p)
}

#[derive(Deserialize, Default)]
struct ContactFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    customer: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    alert: String,
    #[serde(default)]
    task: String,
}

fn id_of(s: &str) -> Option<i64> {
    s.trim().parse().ok()
}

/// Logs the contact; 303 to `/tasks?done=contact` (with the follow-up's due day).
async fn record(app: &AppState, v: &Viewer, f: &ContactFields) -> Result<Response, ServiceError> {
    let form = ContactForm {
        customer_key: f.customer.clone(),
        kind: f.kind.clone(),
        outcome: f.outcome.clone(),
        note: Some(f.note.clone()),
        alert_id: id_of(&f.alert),
        task_id: id_of(&f.task),
    };
    let done = tasks::record_contact(&app.services, &v.actor(), "web", &form).await?;
    let to = match done.follow_up_due {
        Some(d) => format!("/tasks?done=contact&follow_up={}", d.date()),
        None => "/tasks?done=contact".to_string(),
    };
    Ok(Redirect::to(&to).into_response())
}

async fn contact(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Form(f): Form<ContactFields>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    require(&v, Permission::Workbench)?;
    match record(&app, &v, &f).await {
        Ok(r) => Ok(r),
        Err(e) => match error_key(&e) {
            Some(key) => {
                let t = Tr::new(app.lang_of(&v.user));
                let p = list_page(&app, &v, String::new(), t.s(key).to_string()).await?;
                Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)?).into_response())
            }
            None => Err(e.into()),
        },
    }
}

/// A question of the questionnaire as shown.
pub struct QuestionView {
    pub id: String,
    pub text: String,
    pub choices: Vec<Choice>,
    pub picked: String,
}

#[derive(Template)]
#[template(path = "tasks_customer.html")]
struct PanelPage {
    layout: Layout,
    key: String,
    name: String,
    customer_href: String,
    action_base: String,
    kinds: Vec<Choice>,
    outcomes: Vec<Choice>,
    channels: Vec<Choice>,
    purposes: Vec<Choice>,
    questions: Vec<QuestionView>,
    can_consent: bool,
    can_assess: bool,
    error: String,
}

async fn panel_page(
    app: &AppState,
    v: &Viewer,
    key: &str,
    error: String,
    picked: &HashMap<String, String>,
) -> Result<PanelPage, PageError> {
    let here = format!("/tasks/customer/{}", enc(key));
    let layout = Layout::new(app, v, "/tasks", &here);
    let t = layout.t;
    // The customer must be in scope; the name is masked as the list masks it.
    let name = tasks::customer_label(&app.services, &v.actor(), key)
        .await?
        .ok_or(PageError::NotFound)?;
    let questions = rapport_services::risk_profile::questions()
        .iter()
        .map(|q| QuestionView {
            id: q.id.to_string(),
            text: match t.lang {
                Lang::ZhCn => q.zh.to_string(),
                Lang::En => q.en.to_string(),
            },
            choices: q
                .choices
                .iter()
                .map(|c| Choice {
                    code: c.letter.to_string(),
                    label: match t.lang {
                        Lang::ZhCn => c.zh.to_string(),
                        Lang::En => c.en.to_string(),
                    },
                })
                .collect(),
            picked: picked.get(q.id).cloned().unwrap_or_default(),
        })
        .collect();
    Ok(PanelPage {
        key: key.to_string(),
        name,
        customer_href: format!("/customers/{}", enc(key)),
        action_base: here,
        kinds: kinds(&t),
        outcomes: outcomes(&t),
        channels: choices(&t, "day_channel", &CHANNELS),
        purposes: choices(&t, "day_purpose", &PURPOSES),
        questions,
        can_consent: v.can(Permission::RecordConsent),
        can_assess: v.can(Permission::AssessRisk),
        error,
        layout,
    })
}

async fn panel(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(key): Path<String>,
) -> Result<Response, PageError> {
    require(&v, Permission::Workbench)?;
    render(&panel_page(&app, &v, &key, String::new(), &HashMap::new()).await?)
}

/// A refused panel form shown again with its reason (422), or the error.
async fn panel_refused(
    app: &AppState,
    v: &Viewer,
    key: &str,
    e: ServiceError,
    picked: &HashMap<String, String>,
) -> Result<Response, PageError> {
    match error_key(&e) {
        Some(k) => {
            let t = Tr::new(app.lang_of(&v.user));
            let p = panel_page(app, v, key, t.s(k).to_string(), picked).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)?).into_response())
        }
        None => Err(e.into()),
    }
}

async fn panel_contact(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(key): Path<String>,
    Form(mut f): Form<ContactFields>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    require(&v, Permission::Workbench)?;
    f.customer = key.clone();
    match record(&app, &v, &f).await {
        Ok(r) => Ok(r),
        Err(e) => panel_refused(&app, &v, &key, e, &HashMap::new()).await,
    }
}

#[derive(Deserialize, Default)]
struct ConsentFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    granted: String,
    #[serde(default)]
    note: String,
}

async fn consent(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(key): Path<String>,
    Form(f): Form<ConsentFields>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    require(&v, Permission::RecordConsent)?;
    let note = Some(f.note.trim()).filter(|n| !n.is_empty());
    let today = app.services.clock.local().date();
    let r = rapport_services::consents::record_consent(
        &app.store,
        &v.actor(),
        "web",
        &key,
        &f.channel,
        &f.purpose,
        f.granted == "yes",
        today,
        note,
    )
    .await;
    match r {
        Ok(_) => Ok(Redirect::to("/tasks?done=consent").into_response()),
        Err(e) => panel_refused(&app, &v, &key, e, &HashMap::new()).await,
    }
}

async fn risk(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(key): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    check_csrf(&v, f.get("csrf").map(String::as_str).unwrap_or(""))?;
    require(&v, Permission::AssessRisk)?;
    // Every question answered as `id=letter`; a missing answer is named by the scoring.
    let answers = rapport_services::risk_profile::questions()
        .iter()
        .filter_map(|q| {
            f.get(q.id)
                .map(|l| l.trim())
                .filter(|l| !l.is_empty())
                .map(|l| format!("{}={l}", q.id))
        })
        .collect::<Vec<_>>()
        .join(",");
    match rapport_services::risk_profile::assess(&app.services, &v.actor(), "web", &key, &answers)
        .await
    {
        Ok(r) => Ok(Redirect::to(&format!(
            "/tasks?done=risk&level={}",
            r.assessment.tolerance
        ))
        .into_response()),
        Err(e) => panel_refused(&app, &v, &key, e, &f).await,
    }
}
