//! Cases and complaints on the web: the queue of the viewer's scope with the
//! two SLA clocks, the intake form reached from the customer 360, and a
//! case's page with its history and one form per step the workflow allows.
//!
//! The rules live elsewhere: intake and steps go through `rapport_services::cases`
//! (which checks fields and transitions), the states and the taxonomy come
//! from `rapport_engage::case`. This module only renders and routes; it never
//! writes to the store itself. A case of a customer outside the viewer's
//! scope answers 404, like an unknown one; every intake and step is audited.

use super::list::{csv_response, qv, sort_href, ListQuery};
use super::{check_csrf, enc, opt, render, require, Layout};
use crate::auth::{PageUser, Permission, Viewer};
use crate::error::PageError;
use crate::i18n::{Lang, Text, Tr};
use crate::present::word;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{FixedOffset, NaiveDateTime};
use rapport_engage::case::{transition, CaseAction, CaseActionKind, CaseState, ComplaintCategory};
use rapport_engage::sla::{Severity, SlaStatus, Target};
use rapport_services::cases::{self, CaseSettings, Intake, SlaStanding};
use rapport_services::clock::Clock;
use rapport_services::error::ServiceError;
use rapport_services::saved_views::List as SavedList;
use rapport_store::case_queries::CaseQueueFilter;
use serde::Deserialize;

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
    ("case.unassigned", "未分派", "Unassigned"),
    ("case.sla_standing", "时限状况", "Service level"),
    ("case.awaiting_approval", "待审批结案", "Closure awaiting approval"),
    ("case.clear_filters", "清除筛选", "Clear the filters"),
    ("case.breaches_view", "已超时的案件", "Cases past their deadline"),
    ("case.approvals_view", "待审批结案", "Closures awaiting approval"),
    ("case.export_csv", "导出 CSV", "Export CSV"),
    ("case.times_in", "时间均为", "Times in"),
    (
        "case.none_filtered",
        "没有符合这些筛选条件的案件。请清除或放宽筛选条件。",
        "No case matches these filters. Clear or widen them.",
    ),
    (
        "case.none_open",
        "没有未结案件。客户投诉时，请在客户360页面点击“登记投诉”。",
        "No open case. When a customer complains, open it from their 360 page (Open a complaint).",
    ),
    (
        "case.none_breached",
        "没有超时的案件。请在“即将超时”的案件到期前先行答复客户。",
        "No case is past its deadline. Answer the cases due soon before they are.",
    ),
    (
        "case.none_approval",
        "没有待审批的结案申请。",
        "No closure is waiting for approval.",
    ),
    ("case.respond_message", "答复客户的内容", "What the customer was told"),
    (
        "case.request_closure",
        "申请结案（须经理审批）",
        "Ask a manager to approve closure",
    ),
    (
        "case.approval_note",
        "高、紧急级别的投诉须由经理审批后方可结案；申请人不能审批自己的申请。",
        "High and critical complaints close only with a manager's approval; nobody approves their own request.",
    ),
    ("case.closure_title", "结案审批", "Closure approval"),
    ("case.closure_requested", "申请结案", "Closure asked by"),
    ("case.closure_at", "申请时间", "Asked at"),
    ("case.closure_note", "备注", "Note"),
    (
        "case.closure_own",
        "这是您提出的结案申请，须由其他经理审批。",
        "You asked for this closure; another manager must approve it.",
    ),
    (
        "case.closure_wait",
        "结案申请等待经理审批。",
        "The closure is waiting for a manager's approval.",
    ),
    ("case.approve", "批准结案", "Approve the closure"),
    ("case.reject", "不予结案", "Reject the closure"),
    ("case.reject_reason", "不予结案的原因", "Why it cannot close yet"),
    ("case.yes", "是", "yes"),
    ("case.messages", "发给客户的消息", "Messages to the customer"),
    ("case.message_kind", "内容", "Message"),
    ("case.channel", "渠道", "Channel"),
    ("case.delivery", "发送状态", "Delivery"),
    ("case.queued_at", "提交发送时间", "Queued at"),
    ("case.message_text", "发送内容", "Text sent"),
    (
        "case.no_messages",
        "尚未给客户发送消息。",
        "Nothing has been sent to the customer yet.",
    ),
    (
        "case.response_unsent",
        "答复已记录，但没有发送给客户：",
        "The response was recorded but NOT sent to the customer:",
    ),
    (
        "case.response_unsent_hint",
        "请通过电话等其他方式告知客户，并在客户授权后再答复。",
        "Tell the customer another way (by phone, say), and answer again once they consent.",
    ),
    (
        "case.respond_sends",
        "答复将以客户的语言，通过客户同意接收服务信息的渠道发送。客户语言：",
        "The response is sent in the customer's language on a channel they consent to for service messages. Customer's language:",
    ),
    ("case.lang.zh", "汉语", "Chinese language"),
    ("case.lang.en", "英语", "English language"),
    ("code.case_message.response", "答复", "Response"),
    ("code.case_message.csat", "满意度调查", "Satisfaction survey"),
    ("code.case_channel.sms", "短信", "Text message"),
    ("code.case_channel.email", "电子邮件", "E-mail"),
    ("code.case_delivery.queued", "等待发送", "Queued"),
    ("code.case_delivery.sent", "已发送", "Sent"),
    ("code.case_delivery.delivered", "已送达", "Delivered"),
    ("code.case_delivery.failed", "发送失败", "Failed"),
    ("code.case_delivery.responded", "客户已回复", "Answered"),
    ("code.case_delivery.cancelled", "已取消（发送前授权变化）", "Cancelled (consent changed before sending)"),
    ("code.case_unsent.no_contact_point", "客户没有联系方式", "the customer has no contact details"),
    ("code.case_unsent.no_address", "没有手机号码或电子邮箱", "no phone number or e-mail address on file"),
    ("code.case_unsent.no_consent", "客户未授权接收服务信息", "the customer has not consented to service messages"),
    ("code.case_unsent.consent_refused", "客户拒绝接收服务信息", "the customer refused service messages"),
    ("code.case_unsent.consent_revoked", "客户已撤回服务信息授权", "the customer withdrew consent to service messages"),
    ("code.case_unsent.do_not_disturb", "客户要求勿扰", "the customer asked not to be disturbed"),
    ("code.case_unsent.channel_cap", "超过联系频次上限", "the contact frequency cap is reached"),
    ("code.case_unsent.overall_cap", "超过联系频次上限", "the contact frequency cap is reached"),
    ("code.case_action.response_unsent", "答复未发送", "Response not sent"),
    ("code.case_action.csat_unsent", "满意度调查未发送", "Survey not sent"),
    ("code.case_intake.web", "网页", "Web"),
    ("code.case_intake.api", "接口", "API"),
    ("code.case_intake.cli", "命令行", "Command line"),
    ("code.case_intake.demo", "演示数据", "Demo"),
    ("case.detected", "由文本自动识别类别，置信度", "category detected from the text, confidence"),
    ("case.severity_by_rule", "严重程度按规则判定", "severity set by rule"),
    ("case.to_user", "交给", "to"),
    ("case.approved_for", "批准结案，申请人", "closure approved; asked by"),
    ("case.extended", "解决时限已延长", "deadline extended"),
    ("code.case_state.new", "新建", "New"),
    ("code.case_state.assigned", "已分派", "Assigned"),
    ("code.case_state.in_progress", "处理中", "In progress"),
    ("code.case_state.waiting_customer", "等待客户", "Waiting on the customer"),
    ("code.case_state.resolved", "已解决", "Resolved"),
    ("code.case_state.closed", "已关闭", "Closed"),
    ("code.case_severity.low", "低", "Low"),
    ("code.case_severity.medium", "中", "Medium"),
    ("code.case_severity.high", "高", "High"),
    ("code.case_severity.critical", "紧急", "Critical"),
    ("code.case_category.fees", "收费", "Fees and charges"),
    ("code.case_category.cards_payments", "银行卡与支付", "Cards and payments"),
    ("code.case_category.loans_mortgages", "贷款与按揭", "Loans and mortgages"),
    ("code.case_category.accounts_deposits", "账户与存款", "Accounts and deposits"),
    (
        "code.case_category.wealth_insurance",
        "理财与保险",
        "Wealth management and insurance",
    ),
    ("code.case_category.service_attitude", "服务态度", "Service attitude"),
    ("code.case_category.digital_channels", "电子渠道", "Digital channels"),
    ("code.case_category.fraud_security", "欺诈与安全", "Fraud and security"),
    ("code.case_category.credit_reporting", "征信", "Credit reporting"),
    ("code.case_category.debt_collection", "催收", "Debt collection"),
    ("code.case_category.other", "其他", "Other"),
    ("code.case_sla.on_time", "按时", "On time"),
    ("code.case_sla.due_soon", "即将超时", "Due soon"),
    ("code.case_sla.breached", "已超时", "Breached"),
    ("code.case_kind.complaint", "投诉", "Complaint"),
    ("code.case_kind.request", "服务请求", "Request"),
    ("code.case_kind.inquiry", "咨询", "Inquiry"),
    ("code.case_action.open", "受理", "Opened"),
    ("code.case_action.assign", "分派", "Assigned"),
    ("code.case_action.start", "开始处理", "Started"),
    ("code.case_action.respond", "答复客户", "Responded"),
    ("code.case_action.wait_on_customer", "等待客户", "Waiting on the customer"),
    ("code.case_action.customer_replied", "客户已回复", "Customer replied"),
    ("code.case_action.resolve", "解决", "Resolved"),
    ("code.case_action.close", "关闭", "Closed"),
    ("code.case_action.reopen", "重新打开", "Reopened"),
    ("code.case_action.escalate", "升级", "Escalated"),
    ("code.case_action.reclassify", "改类", "Reclassified"),
    ("code.case_action.extend", "延期", "Deadline extended"),
    ("code.case_action.close_request", "申请结案", "Closure asked"),
    ("code.case_action.close_reject", "不予结案", "Closure rejected"),
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
        .route("/cases/{id}/closure", post(closure))
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

/// A local time of the case workflow (the bank's zone) shown like every
/// time: `2026-12-07 18:30 (UTC+08:00)`.
fn time(off: FixedOffset, at: NaiveDateTime) -> String {
    crate::present::time((at - off).and_utc(), off)
}

fn state_label(t: &Tr, state: &str) -> String {
    word(t, "case_state", state)
}

fn category_label(t: &Tr, category: &str) -> String {
    word(t, "case_category", category)
}

fn severity_label(t: &Tr, severity: &str) -> String {
    word(t, "case_severity", severity)
}

fn action_label(t: &Tr, action: &str) -> String {
    word(t, "case_action", action)
}

/// The part of a service's "English / 中文" message in the viewer's language.
fn in_lang(t: &Tr, message: &str) -> String {
    match message.split_once(" / ") {
        Some((en, zh)) => pick(t, zh.trim(), en.trim()),
        None => message.to_string(),
    }
}

/// A history event's detail in the viewer's words: the codes the workflow
/// writes (severity, category, root cause) as words, the texts people
/// typed (a response, a reason, a note) as typed.
fn history_detail(t: &Tr, s: &CaseSettings, action: &str, detail: &str) -> String {
    let cause = |code: &str| match s.taxonomy.get(code.trim()) {
        Some(r) => pick(t, &r.label_zh, &r.label_en),
        None => code.to_string(),
    };
    match action {
        // "{severity} {category} via {intake}[; notes]"
        "open" => {
            let (head, notes) = detail.split_once("; ").unwrap_or((detail, ""));
            let mut parts = head.split_whitespace();
            let (sev, cat) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let mut out = format!("{} · {}", severity_label(t, sev), category_label(t, cat));
            for n in notes.split("; ") {
                if let Some(c) = n
                    .split("(confidence ")
                    .nth(1)
                    .and_then(|x| x.strip_suffix(')'))
                {
                    out.push_str(&format!(" · {} {c}", t.s("case.detected")));
                } else if n.starts_with("severity ") {
                    out.push_str(&format!(" · {}", t.s("case.severity_by_rule")));
                }
            }
            out
        }
        // "category {from} → {to}: {reason}"
        "reclassify" => {
            let rest = detail.strip_prefix("category ").unwrap_or(detail);
            match rest.split_once(" → ").and_then(|(from, r)| {
                let (to, reason) = r.split_once(": ")?;
                Some((from, to, reason))
            }) {
                Some((from, to, reason)) => format!(
                    "{} → {}: {reason}",
                    category_label(t, from),
                    category_label(t, to)
                ),
                None => detail.to_string(),
            }
        }
        // "to {user}"
        "assign" => detail
            .strip_prefix("to ")
            .map(|u| format!("{} {u}", t.s("case.to_user")))
            .unwrap_or_else(|| detail.to_string()),
        // "root cause {code}"
        "resolve" => detail
            .strip_prefix("root cause ")
            .map(|c| format!("{}: {}", t.s("case.root_cause"), cause(c)))
            .unwrap_or_else(|| detail.to_string()),
        // "closure approved; asked by {user}[: note]"
        "close" => match detail.strip_prefix("closure approved; asked by ") {
            Some(rest) => {
                let (who, note) = rest.split_once(": ").unwrap_or((rest, ""));
                let mut out = format!("{} {who}", t.s("case.approved_for"));
                if !note.is_empty() {
                    out.push_str(&format!(": {note}"));
                }
                out
            }
            None => detail.to_string(),
        },
        // "resolution extended to N days (policy)…: reason"
        "extend" => match detail.split_once(": ") {
            Some((_, reason)) => format!("{}: {reason}", t.s("case.extended")),
            None => t.s("case.extended").to_string(),
        },
        // Why a message did not go: a code.
        "response_unsent" | "csat_unsent" => word(t, "case_unsent", detail.trim()),
        // The sweep's "to {user}: {en} / {zh}" or a person's "to {user}: reason".
        "escalate" => {
            let d = detail.strip_prefix("to ").unwrap_or(detail);
            match d.split_once(": ") {
                Some((who, why)) => format!("{} {who}: {}", t.s("case.to_user"), in_lang(t, why)),
                None => in_lang(t, d),
            }
        }
        _ => in_lang(t, detail),
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

fn sla_line(t: &Tr, off: FixedOffset, s: &SlaStatus) -> SlaLine {
    SlaLine {
        target: match s.target {
            Target::FirstResponse => t.s("case.first_response").to_string(),
            Target::Resolution => t.s("case.resolution_sla").to_string(),
        },
        state: s.state.as_str(),
        state_label: t
            .s(&format!("case.sla_state.{}", s.state.as_str()))
            .to_string(),
        due: time(off, s.due),
        elapsed_minutes: s.elapsed_minutes,
        target_minutes: s.target_minutes,
    }
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
    pub assignee: String,
    pub opened_at: String,
    pub first_response: SlaLine,
    pub resolution: SlaLine,
    pub standing: &'static str,
    pub standing_label: String,
    pub awaiting_approval: bool,
}

/// The queue's query: its filters and the list's sort, page and format.
#[derive(Deserialize, Default)]
struct QueueQuery {
    all: Option<String>,
    state: Option<String>,
    severity: Option<String>,
    category: Option<String>,
    sla: Option<String>,
    assignee: Option<String>,
    approval: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
    page: Option<String>,
    format: Option<String>,
}

/// One choice of a filter's drop-down.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn choices<'a>(
    current: Option<&str>,
    all: impl IntoIterator<Item = (&'a str, String)>,
) -> Vec<Choice> {
    all.into_iter()
        .map(|(v, label)| Choice {
            selected: current == Some(v),
            value: v.to_string(),
            label,
        })
        .collect()
}

/// A sortable column heading.
pub struct Heading {
    pub label: String,
    pub href: Option<String>,
    pub mark: &'static str,
}

/// The queue's page size.
const PER_PAGE: usize = 50;

/// The columns the queue sorts by.
const SORTS: [&str; 5] = ["id", "severity", "state", "due", "customer"];

/// The queue, or the intake form (one template for both).
#[derive(Template)]
#[template(path = "cases.html")]
struct CasesPage {
    layout: Layout,
    rows: Vec<CaseLine>,
    all: bool,
    intake: Option<IntakeForm>,
    total: usize,
    filtered: bool,
    breaches: bool,
    approval: bool,
    states: Vec<Choice>,
    severities: Vec<Choice>,
    categories: Vec<Choice>,
    slas: Vec<Choice>,
    assignees: Vec<Choice>,
    headings: Vec<Heading>,
    csv_href: String,
    prev_href: Option<String>,
    next_href: Option<String>,
    page: usize,
    pages: usize,
    zone: String,
    /// The saved views bar (the queue, not the intake form).
    saved: Option<super::saved_views::SavedBar>,
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        "low" => 3,
        _ => 4,
    }
}

async fn list(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    RawQuery(raw): RawQuery,
    Query(q): Query<QueueQuery>,
) -> Result<Response, PageError> {
    require(&v, Permission::WorkCases)?;
    let settings = settings(&app);
    let off = app.offset();
    // Unknown filter values are ignored, like an unknown sort column.
    let known = |v: &Option<String>, ok: &dyn Fn(&str) -> bool| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty() && ok(s))
            .map(str::to_string)
    };
    let state = known(&q.state, &|s| {
        CaseState::parse(s).is_some_and(|x| x.as_str() == s)
    });
    let severity = known(&q.severity, &|s| {
        Severity::parse(s).is_some_and(|x| x.as_str() == s)
    });
    let category = known(&q.category, &|s| {
        ComplaintCategory::parse(s).is_some_and(|x| x.as_str() == s)
    });
    let sla = q.sla.as_deref().and_then(SlaStanding::parse);
    let assignee = known(&q.assignee, &|_| true);
    let approval = q.approval.as_deref() == Some("1");
    // A state filter, the breach view and the approvals look at every case;
    // otherwise the queue is the open cases unless asked for all.
    let all = q.all.as_deref() == Some("1") || state.is_some() || approval;
    let filter = cases::QueueFilter {
        store: CaseQueueFilter {
            open_only: !all,
            state: state.clone(),
            severity: severity.clone(),
            category: category.clone(),
            assignee: assignee.clone(),
        },
        sla,
        awaiting_approval: approval,
    };
    let actor = v.actor();
    let mut lines = cases::queue(&app.store, settings, &clock(&app), &actor, &filter).await?;
    let lq = ListQuery {
        sort: q.sort.clone(),
        dir: q.dir.clone(),
        page: q.page.clone(),
        format: q.format.clone(),
    };
    let sort = lq.sort_or(&SORTS, "id");
    let desc = lq.descending(sort == "id");
    lines.sort_by(|a, b| {
        let o = match sort {
            "severity" => severity_rank(&a.case.severity).cmp(&severity_rank(&b.case.severity)),
            "state" => a.case.state.cmp(&b.case.state),
            "due" => a.resolution.due.cmp(&b.resolution.due),
            "customer" => a.customer_key.cmp(&b.customer_key),
            _ => a.case.id.cmp(&b.case.id),
        }
        .then(a.case.id.cmp(&b.case.id));
        if desc {
            o.reverse()
        } else {
            o
        }
    });
    // The filters as a query string, for the sort links, pages and export.
    let mut base: Vec<String> = Vec::new();
    for (k, val) in [
        (
            "all",
            (q.all.as_deref() == Some("1")).then(|| "1".to_string()),
        ),
        ("state", state.clone()),
        ("severity", severity.clone()),
        ("category", category.clone()),
        ("sla", sla.map(|s| s.as_str().to_string())),
        ("assignee", assignee.clone()),
        ("approval", approval.then(|| "1".to_string())),
    ] {
        if let Some(val) = val {
            base.push(format!("{k}={}", qv(&val)));
        }
    }
    let base = base.join("&");
    let here = if base.is_empty() {
        "/cases".to_string()
    } else {
        format!("/cases?{base}")
    };
    let layout = Layout::new(&app, &v, "/cases", &here);
    let t = layout.t;
    let line = |c: &cases::QueueLine| CaseLine {
        id: c.case.id,
        customer_href: format!("/customers/{}", enc(&c.customer_key)),
        customer: c.customer_key.clone(),
        subject: c.case.subject.clone(),
        severity_label: severity_label(&t, &c.case.severity),
        severity: c.case.severity.clone(),
        category_label: category_label(&t, &c.case.category),
        state_label: state_label(&t, &c.case.state),
        state: c.case.state.clone(),
        assignee: c.case.assignee.clone().unwrap_or_default(),
        opened_at: time(off, c.case.opened_at),
        first_response: sla_line(&t, off, &c.first_response),
        resolution: sla_line(&t, off, &c.resolution),
        standing: c.standing.as_str(),
        standing_label: word(&t, "case_sla", c.standing.as_str()),
        awaiting_approval: c.closure.is_some(),
    };
    if lq.wants_csv() {
        let header: Vec<String> = [
            "case.id",
            "case.customer",
            "case.subject",
            "case.kind",
            "case.category",
            "case.severity",
            "case.state",
            "case.assignee",
            "case.opened_at",
            "case.first_response",
            "case.resolution_sla",
            "case.sla_standing",
            "case.awaiting_approval",
        ]
        .iter()
        .map(|k| t.s(k).to_string())
        .collect();
        let rows: Vec<Vec<String>> = lines
            .iter()
            .map(|c| {
                let l = line(c);
                vec![
                    l.id.to_string(),
                    l.customer,
                    l.subject,
                    word(&t, "case_kind", &c.case.kind),
                    l.category_label,
                    l.severity_label,
                    l.state_label,
                    l.assignee,
                    l.opened_at,
                    format!(
                        "{} · {}",
                        l.first_response.state_label, l.first_response.due
                    ),
                    format!("{} · {}", l.resolution.state_label, l.resolution.due),
                    l.standing_label,
                    if l.awaiting_approval {
                        t.s("case.yes").to_string()
                    } else {
                        String::new()
                    },
                ]
            })
            .collect();
        return Ok(csv_response("cases.csv", &header, &rows));
    }
    let total = lines.len();
    let pages = total.div_ceil(PER_PAGE).max(1);
    let page = (lq.page() as usize).min(pages);
    let page_href = |p: usize| {
        let sep = if base.is_empty() { "" } else { "&" };
        format!(
            "/cases?{base}{sep}sort={sort}&dir={}&page={p}",
            if desc { "desc" } else { "asc" }
        )
    };
    let rows = lines
        .iter()
        .skip((page - 1) * PER_PAGE)
        .take(PER_PAGE)
        .map(line)
        .collect();
    let headings = [
        ("case.id", Some("id")),
        ("case.customer", Some("customer")),
        ("case.subject", None),
        ("case.severity", Some("severity")),
        ("case.category", None),
        ("case.state", Some("state")),
        ("case.assignee", None),
        ("case.opened_at", None),
        ("case.first_response", None),
        ("case.resolution_sla", Some("due")),
    ]
    .iter()
    .map(|(k, col)| Heading {
        label: t.s(k).to_string(),
        href: col.map(|c| sort_href("/cases", &base, c, sort, desc)),
        mark: match col {
            Some(c) if *c == sort && desc => " ▼",
            Some(c) if *c == sort => " ▲",
            _ => "",
        },
    })
    .collect();
    let assignee_names = cases::assignees(&app.store, &actor).await?;
    let csv_sep = if base.is_empty() { "" } else { "&" };
    let saved = super::saved_views::bar(&app, &v, &t, SavedList::Cases, raw.as_deref()).await?;
    render(&CasesPage {
        saved: Some(saved),
        states: choices(
            state.as_deref(),
            CaseState::ALL
                .iter()
                .map(|s| (s.as_str(), state_label(&t, s.as_str()))),
        ),
        severities: choices(
            severity.as_deref(),
            Severity::ALL
                .iter()
                .map(|s| (s.as_str(), severity_label(&t, s.as_str()))),
        ),
        categories: choices(
            category.as_deref(),
            ComplaintCategory::ALL
                .iter()
                .map(|c| (c.as_str(), category_label(&t, c.as_str()))),
        ),
        slas: choices(
            sla.map(|s| s.as_str()),
            SlaStanding::ALL
                .iter()
                .map(|s| (s.as_str(), word(&t, "case_sla", s.as_str()))),
        ),
        assignees: choices(
            assignee.as_deref(),
            std::iter::once(("-", t.s("case.unassigned").to_string()))
                .chain(assignee_names.iter().map(|a| (a.as_str(), a.clone()))),
        ),
        headings,
        csv_href: format!("/cases?{base}{csv_sep}format=csv"),
        prev_href: (page > 1).then(|| page_href(page - 1)),
        next_href: (page < pages).then(|| page_href(page + 1)),
        page,
        pages,
        total,
        filtered: state.is_some()
            || severity.is_some()
            || category.is_some()
            || sla.is_some()
            || assignee.is_some()
            || approval,
        breaches: sla == Some(SlaStanding::Breached),
        approval,
        zone: crate::present::zone_label(off),
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
        zone: crate::present::zone_label(app.offset()),
        layout,
        rows: Vec::new(),
        all: false,
        intake: Some(intake),
        saved: None,
        total: 0,
        filtered: false,
        breaches: false,
        approval: false,
        states: Vec::new(),
        severities: Vec::new(),
        categories: Vec::new(),
        slas: Vec::new(),
        assignees: Vec::new(),
        headings: Vec::new(),
        csv_href: String::new(),
        prev_href: None,
        next_href: None,
        page: 1,
        pages: 1,
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
    root_code: String,
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
    /// Closing needs a manager's approval (a high or critical complaint).
    needs_approval: bool,
    /// The closure request waiting for a manager, if any.
    closure: Option<ClosureLine>,
    /// What was sent to the customer, with its delivery state.
    messages: Vec<MessageLine>,
    /// The last response was recorded but not sent: why, in words.
    unsent: Option<String>,
    /// The customer's language, in words (the response goes in it).
    customer_lang: String,
}

/// A message sent to the customer as the case page shows it.
pub struct MessageLine {
    pub kind: String,
    pub channel: String,
    pub status: String,
    pub status_label: String,
    pub queued_at: String,
    pub body: String,
}

/// A closure request as the case page shows it.
pub struct ClosureLine {
    pub requested_by: String,
    pub requested_at: String,
    pub note: String,
    /// The viewer asked for it (and so cannot approve it).
    pub own: bool,
    /// The viewer may approve or reject it.
    pub can_decide: bool,
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
    let point = app.store.contact_points_of(c.customer_id).await?;
    let key = point
        .as_ref()
        .map(|p| p.key.clone())
        .unwrap_or_else(|| format!("#{}", c.customer_id));
    let layout = Layout::new(app, v, "/cases", &format!("/cases/{id}"));
    let t = layout.t;
    let off = app.offset();
    let pending = cases::pending_closure(&app.store, id)
        .await
        .map_err(PageError::Internal)?;
    let needs_approval = cases::needs_closure_approval(c);
    // Why the last response did not go (its `response_unsent` follows it).
    let mut unsent = None;
    for e in &view.events {
        match e.action.as_str() {
            "respond" => unsent = None,
            "response_unsent" => {
                unsent = Some(word(&t, "case_unsent", e.detail.as_deref().unwrap_or("")))
            }
            _ => {}
        }
    }
    let messages = view
        .messages
        .iter()
        .map(|m| MessageLine {
            kind: word(
                &t,
                "case_message",
                if m.idempotency_key.contains(".csat.") {
                    "csat"
                } else {
                    "response"
                },
            ),
            channel: word(&t, "case_channel", &m.channel),
            status: m.status.clone(),
            status_label: word(&t, "case_delivery", &m.status),
            queued_at: crate::present::time(m.queued_at, off),
            body: m.body.clone(),
        })
        .collect();
    let customer_lang = t
        .s(&format!(
            "case.lang.{}",
            cases::customer_lang(point.as_ref())
        ))
        .to_string();
    let root_cause = match &c.root_cause {
        Some(code) => match settings.taxonomy.get(code) {
            Some(r) => pick(&t, &r.label_zh, &r.label_en),
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
        intake: word(&t, "case_intake", &c.intake),
        severity: c.severity.clone(),
        severity_label: severity_label(&t, &c.severity),
        category_label: category_label(&t, &c.category),
        state: c.state.clone(),
        state_label: state_label(&t, &c.state),
        opened_at: time(off, c.opened_at),
        assignee: c.assignee.clone().unwrap_or_default(),
        supervisor: c.supervisor.clone().unwrap_or_default(),
        root_cause,
        root_code: c.root_cause.clone().unwrap_or_default(),
        resolution: c.resolution.clone().unwrap_or_default(),
        slas: vec![
            sla_line(&t, off, &view.first_response),
            sla_line(&t, off, &view.resolution),
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
                    time(off, e.due),
                    e.escalated_to.clone(),
                    in_lang(&t, &e.reason),
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
                    time(off, e.at),
                    e.actor.clone(),
                    action_label(&t, &e.action),
                    if from.is_empty() {
                        to
                    } else {
                        format!("{from} → {to}")
                    },
                    e.detail
                        .as_deref()
                        .map(|d| history_detail(&t, settings, &e.action, d))
                        .unwrap_or_default(),
                ]
            })
            .collect(),
        offers: state
            .map(|s| offers(&t, settings, s))
            .unwrap_or_default()
            .into_iter()
            // While a closure waits for a manager, nobody closes it again.
            .filter(|o| !(o.action == "close" && pending.is_some()))
            .map(|mut o| {
                if o.action == "close" && needs_approval {
                    o.label = t.s("case.request_closure").to_string();
                }
                o
            })
            .collect(),
        needs_approval,
        closure: pending.as_ref().map(|p| ClosureLine {
            requested_by: p.requested_by.clone(),
            requested_at: time(off, p.requested_at),
            note: p.note.clone().unwrap_or_default(),
            own: p.requested_by == v.user.username,
            can_decide: v.can(Permission::ApproveCaseClosure) && p.requested_by != v.user.username,
        }),
        causes,
        escalate_to: c
            .supervisor
            .clone()
            .unwrap_or_else(|| settings.escalate_to.clone()),
        me: v.user.username.clone(),
        messages,
        unsent,
        customer_lang,
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
    /// The response given to the customer (the `respond` step).
    message: Option<String>,
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
    // Check the step first, to answer in the viewer's language.
    if let Some(state) = CaseState::parse(&c.state) {
        if let Err(e) = transition(state, &action, &settings.taxonomy) {
            let t = Tr::new(app.lang_of(&v.user));
            let msg = pick(&t, &e.message_zh(), &e.message_en());
            return detail_page(&app, &v, id, Some(msg)).await;
        }
    }
    let (store, clock, actor) = (&app.store, clock(&app), v.actor());
    let done = match action {
        // A response is kept and sent to the customer.
        CaseAction::Respond => {
            let message = f.message.as_deref().unwrap_or_default();
            cases::respond_case(store, settings, &clock, &actor, "web", id, message).await
        }
        // A high or critical complaint asks a manager; others close.
        CaseAction::Close => {
            let note = f.reason.as_deref().unwrap_or_default();
            cases::request_closure(store, settings, &clock, &actor, "web", id, note).await
        }
        action => cases::step_case(store, settings, &clock, &actor, "web", id, &action).await,
    };
    after_form(&app, &v, id, done).await
}

/// How every form of the case page ends: done, back to the case (303, so
/// a refresh does not post again); refused for a reason the viewer can
/// mend (a field, a step the workflow or the rules refuse, a conflict),
/// the case again with the message in their language (422); anything else
/// is an error page.
async fn after_form<T>(
    app: &AppState,
    v: &Viewer,
    id: i64,
    done: Result<T, ServiceError>,
) -> Result<Response, PageError> {
    match done {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(
            ServiceError::Invalid { message, .. }
            | ServiceError::Refused(message)
            | ServiceError::InvalidTransition(message)
            | ServiceError::Conflict(message),
        ) => {
            let t = Tr::new(app.lang_of(&v.user));
            detail_page(app, v, id, Some(in_lang(&t, &message))).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct ClosureForm {
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
}

/// A manager approves or rejects a closure request (the services check the
/// right, that it is not their own request, and audit).
async fn closure(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<ClosureForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    let approve = match f.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(PageError::BadRequest("decision: approve or reject".into())),
    };
    let done = cases::decide_closure(
        &app.store,
        settings(&app),
        &clock(&app),
        &v.actor(),
        "web",
        id,
        approve,
        &f.note,
    )
    .await;
    after_form(&app, &v, id, done).await
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
    after_form(&app, &v, id, done).await
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
    after_form(&app, &v, id, done).await
}
