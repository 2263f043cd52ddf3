//! Cases and complaints on the web: the queue of the viewer's scope with the
//! two SLA clocks, the intake form reached from the customer 360, and a
//! case's page with its history and one form per step the workflow allows.
//!
//! The rules live elsewhere: intake and steps go through `rapport_services::cases`
//! (which checks fields and transitions), the states and the taxonomy come
//! from `rapport_engage::case`. This module only renders and routes; it never
//! writes to the store itself. A case of a customer outside the viewer's
//! scope answers 404, like an unknown one; every intake and step is audited.

use super::{check_csrf, enc, opt, render, require, Layout};
use crate::auth::{PageUser, Permission, Viewer};
use crate::error::PageError;
use crate::i18n::{Lang, Text, Tr};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::NaiveDateTime;
use rapport_engage::case::{transition, CaseAction, CaseActionKind, CaseState, ComplaintCategory};
use rapport_engage::sla::{Severity, SlaStatus, Target};
use rapport_services::cases::{self, CaseSettings, Intake};
use rapport_services::clock::Clock;
use rapport_services::error::ServiceError;
use rapport_store::Scope;
use serde::Deserialize;
use std::collections::HashMap;

pub const TEXTS: &[Text] = &[
    ("nav.cases", "案件", "Cases"),
    ("case.list_title", "案件与投诉", "Cases and complaints"),
    ("case.detail", "案件", "Case"),
    (
        "case.show_all",
        "包括已解决和已关闭的案件",
        "Include resolved and closed cases",
    ),
    ("case.open_only", "只看未结案件", "Open cases only"),
    ("case.found", "件案件", "cases"),
    ("case.none", "暂无案件。", "No cases."),
    ("case.id", "编号", "Case"),
    ("case.customer", "客户", "Customer"),
    ("case.subject", "主题", "Subject"),
    ("case.description", "描述", "Description"),
    ("case.kind", "类型", "Kind"),
    ("case.category", "类别", "Category"),
    ("case.severity", "严重程度", "Severity"),
    ("case.state", "状态", "State"),
    ("case.opened_at", "受理时间", "Opened"),
    ("case.intake", "受理渠道", "Intake"),
    ("case.assignee", "处理人", "Assignee"),
    ("case.supervisor", "主管", "Supervisor"),
    ("case.root_cause", "根本原因", "Root cause"),
    ("case.resolution", "解决方案", "Resolution"),
    ("case.first_response", "首次响应", "First response"),
    ("case.resolution_sla", "解决时限", "Resolution"),
    ("case.sla", "服务时限", "Service levels"),
    ("case.target", "目标", "Target"),
    ("case.due", "到期", "Due"),
    (
        "case.minutes",
        "已用 / 目标（工作分钟）",
        "Elapsed / target (minutes)",
    ),
    ("case.escalations", "升级记录", "Escalations"),
    ("case.level", "级别", "Level"),
    ("case.escalated_to", "升级给", "Escalated to"),
    ("case.reason", "原因", "Reason"),
    ("case.history", "处理历史", "History"),
    ("case.time", "时间", "Time"),
    ("case.actor", "操作人", "Actor"),
    ("case.action", "操作", "Action"),
    ("case.transition", "状态变化", "From → to"),
    ("case.detail_col", "说明", "Detail"),
    ("case.actions", "下一步", "Next steps"),
    ("case.to", "交给（用户名）", "To (user name)"),
    (
        "case.no_actions",
        "当前状态没有可执行的操作。",
        "No step is possible in this state.",
    ),
    (
        "case.new_title",
        "登记投诉或服务请求",
        "Open a complaint or request",
    ),
    ("case.open_complaint", "登记投诉", "Open a complaint"),
    ("case.submit", "提交", "Open the case"),
    ("case.auto", "自动识别", "Detect from the text"),
    ("case.kind.complaint", "投诉", "Complaint"),
    ("case.kind.request", "服务请求", "Request"),
    ("case.kind.inquiry", "咨询", "Inquiry"),
    (
        "case.invalid",
        "无法登记该案件，请检查填写的内容：",
        "The case could not be opened; check what was entered:",
    ),
    ("case.choose", "请选择", "Choose"),
    ("case.sla_state.running", "计时中", "Running"),
    ("case.sla_state.warning", "即将超时", "Due soon"),
    ("case.sla_state.breached", "已超时", "Breached"),
    ("case.sla_state.met", "按时完成", "Met"),
    ("case.sla_state.met_late", "超时完成", "Met late"),
    ("case.sla_state.paused", "暂停计时", "Paused"),
    ("case.level.warning", "预警", "Warning"),
    ("case.level.breach", "超时", "Breach"),
    ("case.action.open", "受理", "open"),
    ("case.action.reclassify", "改类", "reclassify"),
    ("case.action.extend", "延期", "extend the deadline"),
    ("case.reclassify", "更正投诉类别", "Correct the category"),
    ("case.reclassify_to", "正确类别", "Right category"),
    (
        "case.reclassify_note",
        "更正会记录操作人、时间和原因，并用于下一次训练分类模型。",
        "The correction is kept with who, when and why, and trains the next classifier.",
    ),
    ("case.reclassify_submit", "更正类别", "Correct the category"),
    ("case.extend", "延长解决时限", "Extend the deadline"),
    (
        "case.extend_note",
        "按当前服务时限政策延到下一档；须告知客户延期原因。",
        "Extends to the policy's next step; the customer must be told why.",
    ),
    (
        "case.extend_senior",
        "此次延期须由主管（经理）批准。",
        "This extension needs a manager's approval.",
    ),
    ("case.extend_submit", "延期", "Extend"),
    ("case.policy", "时限政策", "Service-level policy"),
];

/// The kinds of case the intake form offers.
const KINDS: [&str; 3] = ["complaint", "request", "inquiry"];

/// The intake form's value that lets the case logic classify the text.
const AUTO: &str = "auto";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases", get(list))
        .route("/cases/{id}", get(detail))
        .route("/cases/{id}/actions", post(step))
        .route("/cases/{id}/reclassify", post(reclassify))
        .route("/cases/{id}/extend", post(extend))
        .route("/customers/{key}/cases/new", get(new_form))
        .route("/customers/{key}/cases", post(open))
}

/// The bank's clock, built once with the services.
fn clock(app: &AppState) -> Clock {
    app.services.clock.clone()
}

/// The case settings (taxonomy, SLA calendar), built once with the services.
fn settings(app: &AppState) -> &CaseSettings {
    &app.services.settings.cases
}

/// The Chinese or the English of a pair, by the viewer's language.
fn pick(t: &Tr, zh: &str, en: &str) -> String {
    match t.lang {
        Lang::ZhCn => zh.to_string(),
        Lang::En => en.to_string(),
    }
}

fn time(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

fn state_label(t: &Tr, state: &str) -> String {
    match CaseState::parse(state) {
        Some(s) => pick(t, s.label_zh(), s.label_en()),
        None => state.to_string(),
    }
}

fn category_label(t: &Tr, category: &str) -> String {
    match ComplaintCategory::parse(category) {
        Some(c) => pick(t, c.label_zh(), c.label_en()),
        None => category.to_string(),
    }
}

fn severity_label(t: &Tr, severity: &str) -> String {
    t.s(&format!("sev.{severity}")).to_string()
}

fn action_label(t: &Tr, action: &str) -> String {
    if matches!(action, "open" | "reclassify" | "extend") {
        return t.s(&format!("case.action.{action}")).to_string();
    }
    match CaseActionKind::parse(action) {
        Some(k) => pick(t, k.label_zh(), k.label_en()),
        None => action.to_string(),
    }
}

/// One SLA clock as shown.
pub struct SlaLine {
    pub target: String,
    pub state: &'static str,
    pub state_label: String,
    pub due: String,
    pub elapsed_minutes: i64,
    pub target_minutes: i64,
}

fn sla_line(t: &Tr, s: &SlaStatus) -> SlaLine {
    SlaLine {
        target: match s.target {
            Target::FirstResponse => t.s("case.first_response").to_string(),
            Target::Resolution => t.s("case.resolution_sla").to_string(),
        },
        state: s.state.as_str(),
        state_label: t
            .s(&format!("case.sla_state.{}", s.state.as_str()))
            .to_string(),
        due: time(s.due),
        elapsed_minutes: s.elapsed_minutes,
        target_minutes: s.target_minutes,
    }
}

/// The key a customer is known by (the first source key, else `#id`).
async fn customer_key(app: &AppState, customer_id: i64) -> Result<String, PageError> {
    Ok(app
        .store
        .contact_points_of(customer_id)
        .await?
        .map(|p| p.key)
        .unwrap_or_else(|| format!("#{customer_id}")))
}

/// A case row of the queue.
pub struct CaseLine {
    pub id: i64,
    pub customer: String,
    pub customer_href: String,
    pub subject: String,
    pub severity: String,
    pub severity_label: String,
    pub category_label: String,
    pub state: String,
    pub state_label: String,
    pub opened_at: String,
    pub first_response: SlaLine,
    pub resolution: SlaLine,
}

#[derive(Deserialize, Default)]
struct ListQuery {
    all: Option<String>,
}

/// The queue, or the intake form (one template for both).
#[derive(Template)]
#[template(path = "cases.html")]
struct CasesPage {
    layout: Layout,
    rows: Vec<CaseLine>,
    all: bool,
    intake: Option<IntakeForm>,
}

async fn list(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    require(&v, Permission::WorkCases)?;
    let all = q.all.as_deref() == Some("1");
    let settings = settings(&app);
    let now = clock(&app).local();
    let scope = v.scope();
    let layout = Layout::new(
        &app,
        &v,
        "/cases",
        if all { "/cases?all=1" } else { "/cases" },
    );
    let t = layout.t;
    let mut keys: HashMap<i64, String> = HashMap::new();
    let mut rows = Vec::new();
    for c in app.store.cases(!all, None, None).await? {
        if !matches!(scope, Scope::All)
            && !app.store.customer_in_scope(&scope, c.customer_id).await?
        {
            continue;
        }
        let key = match keys.get(&c.customer_id) {
            Some(k) => k.clone(),
            None => {
                let k = customer_key(&app, c.customer_id).await?;
                keys.insert(c.customer_id, k.clone());
                k
            }
        };
        let [fr, res] = rapport_services::cases::sla_of(&app.store, settings, &c, now)
            .await
            .map_err(PageError::Internal)?;
        rows.push(CaseLine {
            id: c.id,
            customer_href: format!("/customers/{}", enc(&key)),
            customer: key,
            subject: c.subject.clone(),
            severity_label: severity_label(&t, &c.severity),
            severity: c.severity.clone(),
            category_label: category_label(&t, &c.category),
            state_label: state_label(&t, &c.state),
            state: c.state.clone(),
            opened_at: time(c.opened_at),
            first_response: sla_line(&t, &fr),
            resolution: sla_line(&t, &res),
        });
    }
    render(&CasesPage {
        layout,
        rows,
        all,
        intake: None,
    })
}

/// The intake form's fields, kept to show them again after an error.
#[derive(Deserialize, Default)]
struct OpenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    description: String,
}

/// The intake form of one customer.
struct IntakeForm {
    key: String,
    href: String,
    kinds: Vec<(&'static str, String)>,
    categories: Vec<(&'static str, String)>,
    severities: Vec<(&'static str, String)>,
    form: OpenForm,
    error: Option<String>,
}

fn new_page(
    app: &AppState,
    v: &Viewer,
    key: &str,
    form: OpenForm,
    error: Option<String>,
) -> Result<Response, PageError> {
    let href = format!("/customers/{}", enc(key));
    let layout = Layout::new(app, v, "/cases", &format!("{href}/cases/new"));
    let t = layout.t;
    let auto = (AUTO, t.s("case.auto").to_string());
    let failed = error.is_some();
    let intake = IntakeForm {
        key: key.to_string(),
        kinds: KINDS
            .iter()
            .map(|k| (*k, t.s(&format!("case.kind.{k}")).to_string()))
            .collect(),
        categories: std::iter::once(auto.clone())
            .chain(
                ComplaintCategory::ALL
                    .iter()
                    .map(|c| (c.as_str(), pick(&t, c.label_zh(), c.label_en()))),
            )
            .collect(),
        severities: std::iter::once(auto)
            .chain(
                Severity::ALL
                    .iter()
                    .map(|s| (s.as_str(), severity_label(&t, s.as_str()))),
            )
            .collect(),
        href,
        form,
        error,
    };
    let mut res = render(&CasesPage {
        layout,
        rows: Vec::new(),
        all: false,
        intake: Some(intake),
    })?;
    if failed {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn new_form(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(key): Path<String>,
) -> Result<Response, PageError> {
    require(&v, Permission::WorkCases)?;
    // Out of scope answers like unknown.
    app.store.customer_id_by_key(&v.scope(), &key).await?;
    let form = OpenForm {
        kind: "complaint".into(),
        category: AUTO.into(),
        severity: AUTO.into(),
        ..OpenForm::default()
    };
    new_page(&app, &v, &key, form, None)
}

async fn open(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(key): Path<String>,
    Form(f): Form<OpenForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    let opened = cases::open_case(
        &app.store,
        &clock(&app),
        &v.actor(),
        "web",
        Intake {
            customer_key: key.clone(),
            intake: String::new(),
            kind: f.kind.trim().to_string(),
            category: f.category.trim().to_string(),
            severity: f.severity.trim().to_string(),
            subject: f.subject.clone(),
            description: f.description.clone(),
            supervisor: None,
            by: String::new(),
        },
    )
    .await;
    let c = match opened {
        Ok(c) => c,
        Err(ServiceError::Invalid { message, .. }) => {
            return new_page(&app, &v, &key, f, Some(message))
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Redirect::to(&format!("/cases/{}", c.id)).into_response())
}

/// A step the case page offers, with the fields its form needs.
pub struct Offer {
    pub action: &'static str,
    pub label: String,
}

/// A group of root causes for the resolve form.
pub struct CauseGroup {
    pub label: String,
    pub causes: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "case.html")]
struct DetailPage {
    layout: Layout,
    id: i64,
    customer: String,
    customer_href: String,
    subject: String,
    description: String,
    kind_label: String,
    intake: String,
    severity: String,
    severity_label: String,
    category_label: String,
    state: String,
    state_label: String,
    opened_at: String,
    assignee: String,
    supervisor: String,
    root_cause: String,
    resolution: String,
    slas: Vec<SlaLine>,
    escalations: Vec<[String; 5]>,
    history: Vec<[String; 5]>,
    offers: Vec<Offer>,
    causes: Vec<CauseGroup>,
    escalate_to: String,
    me: String,
    error: Option<String>,
    /// The category code and every category to correct it to.
    category: String,
    categories: Vec<(&'static str, String)>,
    /// The policy's name, and whether (and how) its next extension can be asked.
    policy_label: String,
    can_extend: bool,
    extend_needs_senior: bool,
}

/// The steps `transition` could accept in `state` (tried with placeholder
/// values for the fields).
fn offers(t: &Tr, s: &CaseSettings, state: CaseState) -> Vec<Offer> {
    let filler = "-".to_string();
    let cause = s
        .taxonomy
        .iter()
        .next()
        .map(|r| r.code.clone())
        .unwrap_or_default();
    CaseActionKind::ALL
        .iter()
        .filter(|k| {
            let a = match k {
                CaseActionKind::Assign => CaseAction::Assign { to: filler.clone() },
                CaseActionKind::Start => CaseAction::Start,
                CaseActionKind::Respond => CaseAction::Respond,
                CaseActionKind::WaitOnCustomer => CaseAction::WaitOnCustomer,
                CaseActionKind::CustomerReplied => CaseAction::CustomerReplied,
                CaseActionKind::Resolve => CaseAction::Resolve {
                    root_cause: cause.clone(),
                    resolution: filler.clone(),
                },
                CaseActionKind::Close => CaseAction::Close,
                CaseActionKind::Reopen => CaseAction::Reopen {
                    reason: filler.clone(),
                },
                CaseActionKind::Escalate => CaseAction::Escalate {
                    to: filler.clone(),
                    reason: filler.clone(),
                },
            };
            transition(state, &a, &s.taxonomy).is_ok()
        })
        .map(|k| Offer {
            action: k.as_str(),
            label: pick(t, k.label_zh(), k.label_en()),
        })
        .collect()
}

async fn detail_page(
    app: &AppState,
    v: &Viewer,
    id: i64,
    error: Option<String>,
) -> Result<Response, PageError> {
    let settings = settings(app);
    let view = cases::read_case(
        &app.store,
        &app.audit,
        settings,
        &clock(app),
        &v.actor(),
        "web",
        id,
    )
    .await?;
    let c = &view.case;
    let key = customer_key(app, c.customer_id).await?;
    let layout = Layout::new(app, v, "/cases", &format!("/cases/{id}"));
    let t = layout.t;
    let root_cause = match &c.root_cause {
        Some(code) => match settings.taxonomy.get(code) {
            Some(r) => format!("{} ({code})", pick(&t, &r.label_zh, &r.label_en)),
            None => code.clone(),
        },
        None => String::new(),
    };
    let causes = settings
        .taxonomy
        .categories()
        .iter()
        .map(|g| CauseGroup {
            label: pick(&t, &g.label_zh, &g.label_en),
            causes: settings
                .taxonomy
                .causes_in(&g.code)
                .map(|r| (r.code.clone(), pick(&t, &r.label_zh, &r.label_en)))
                .collect(),
        })
        .collect();
    let state = CaseState::parse(&c.state);
    let next = settings
        .sla
        .next_extension(usize::try_from(c.sla_extensions).unwrap_or(0));
    let p = DetailPage {
        id,
        customer_href: format!("/customers/{}", enc(&key)),
        customer: key,
        subject: c.subject.clone(),
        description: c.description.clone(),
        kind_label: t.s(&format!("case.kind.{}", c.kind)).to_string(),
        intake: c.intake.clone(),
        severity: c.severity.clone(),
        severity_label: severity_label(&t, &c.severity),
        category_label: category_label(&t, &c.category),
        state: c.state.clone(),
        state_label: state_label(&t, &c.state),
        opened_at: time(c.opened_at),
        assignee: c.assignee.clone().unwrap_or_default(),
        supervisor: c.supervisor.clone().unwrap_or_default(),
        root_cause,
        resolution: c.resolution.clone().unwrap_or_default(),
        slas: vec![
            sla_line(&t, &view.first_response),
            sla_line(&t, &view.resolution),
        ],
        escalations: view
            .escalations
            .iter()
            .map(|e| {
                [
                    Target::parse(&e.target)
                        .map(|x| pick(&t, x.label_zh(), x.label_en()))
                        .unwrap_or_else(|| e.target.clone()),
                    t.s(&format!("case.level.{}", e.level)).to_string(),
                    time(e.due),
                    e.escalated_to.clone(),
                    e.reason.clone(),
                ]
            })
            .collect(),
        history: view
            .events
            .iter()
            .map(|e| {
                let from = e
                    .from_state
                    .as_deref()
                    .map(|s| state_label(&t, s))
                    .unwrap_or_default();
                let to = state_label(&t, &e.to_state);
                [
                    time(e.at),
                    e.actor.clone(),
                    action_label(&t, &e.action),
                    if from.is_empty() {
                        to
                    } else {
                        format!("{from} → {to}")
                    },
                    e.detail.clone().unwrap_or_default(),
                ]
            })
            .collect(),
        offers: state.map(|s| offers(&t, settings, s)).unwrap_or_default(),
        causes,
        escalate_to: c
            .supervisor
            .clone()
            .unwrap_or_else(|| settings.escalate_to.clone()),
        me: v.user.username.clone(),
        error,
        category: c.category.clone(),
        categories: ComplaintCategory::ALL
            .iter()
            .map(|k| (k.as_str(), pick(&t, k.label_zh(), k.label_en())))
            .collect(),
        policy_label: pick(
            &t,
            settings.policy_kind.label_zh(),
            settings.policy_kind.label_en(),
        ),
        can_extend: c.resolved_at.is_none()
            && !matches!(c.state.as_str(), "resolved" | "closed")
            && next.is_some(),
        extend_needs_senior: next.is_some_and(|x| x.needs_senior_approval),
        layout,
    };
    let failed = p.error.is_some();
    let mut res = render(&p)?;
    if failed {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn detail(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    detail_page(&app, &v, id, None).await
}

#[derive(Deserialize)]
struct StepForm {
    csrf: String,
    action: String,
    to: Option<String>,
    root_cause: Option<String>,
    resolution: Option<String>,
    reason: Option<String>,
}

async fn step(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<StepForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    require(&v, Permission::WorkCases)?;
    let c = cases::case_in_scope(&app.store, &v.actor(), id).await?;
    // Empty fields go through so that the workflow names what is missing.
    let field = |s: &Option<String>| Some(opt(s).unwrap_or_default());
    let action = rapport_services::cases::action_of(
        f.action.trim(),
        field(&f.to),
        field(&f.root_cause),
        field(&f.resolution),
        field(&f.reason),
    )
    .map_err(|e| PageError::BadRequest(e.to_string()))?;
    let settings = settings(&app);
    let t = Tr::new(app.lang_of(&v.user));
    // Check the step first, to answer in the viewer's language.
    if let Some(state) = CaseState::parse(&c.state) {
        if let Err(e) = transition(state, &action, &settings.taxonomy) {
            let msg = pick(&t, &e.message_zh(), &e.message_en());
            return detail_page(&app, &v, id, Some(msg)).await;
        }
    }
    let done = cases::step_case(
        &app.store,
        settings,
        &clock(&app),
        &v.actor(),
        "web",
        id,
        &action,
    )
    .await;
    match done {
        Ok(_) => {}
        Err(ServiceError::Invalid { message, .. } | ServiceError::InvalidTransition(message)) => {
            return detail_page(&app, &v, id, Some(message)).await
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Redirect::to(&format!("/cases/{id}")).into_response())
}

#[derive(Deserialize)]
struct ReclassifyForm {
    csrf: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    reason: String,
}

/// A handler corrects the category (the services check the right, the
/// scope and the fields, keep who, when and why, and audit).
async fn reclassify(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<ReclassifyForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    let done = cases::reclassify_case(
        &app.store,
        &clock(&app),
        &v.actor(),
        "web",
        id,
        f.category.trim(),
        &f.reason,
    )
    .await;
    match done {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(ServiceError::Invalid { message, .. } | ServiceError::Conflict(message)) => {
            detail_page(&app, &v, id, Some(message)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct ExtendForm {
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// Extends the resolution deadline to the policy's next step.
async fn extend(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<ExtendForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    let done = cases::extend_case(
        &app.store,
        settings(&app),
        &clock(&app),
        &v.actor(),
        "web",
        id,
        &f.reason,
    )
    .await;
    match done {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(
            ServiceError::Invalid { message, .. }
            | ServiceError::Refused(message)
            | ServiceError::Conflict(message),
        ) => detail_page(&app, &v, id, Some(message)).await,
        Err(e) => Err(e.into()),
    }
}
