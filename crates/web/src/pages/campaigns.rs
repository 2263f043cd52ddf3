//! Campaigns in the browser (the head-office campaign manager's journey):
//! the list with its states, the builder (audience from any saved segment,
//! the message in Chinese and English with personal fields, channels in
//! priority order, the send window, the control share, the product), and a
//! campaign's page: the preview's counts with every reason a customer is
//! not reached, a sample message for one real customer, maker-checker
//! (submit, approve or return, launch) and, once launched, the report with
//! the uplift over the control group and the follow-up survey's NPS/CSAT.
//!
//! Every rule lives in `rapport_services::campaign` (who may, the states,
//! the maker-checker, the plan, the figures); this module renders and
//! routes. Every POST answers 303 to the campaign's page.

use super::list::{csv_response, qv, sort_href, ListQuery};
use super::{check_csrf, enc, opt, render, Layout};
use crate::auth::{PageUser, Viewer};
use crate::error::PageError;
use crate::i18n::{Lang, Text, Tr};
use crate::present::{percent, time, word};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use rapport_engage::campaign::{Audience, CampaignSpec, TEMPLATE_FIELDS};
use rapport_services::campaign::{self as svc, Draft, STATES};
use rapport_services::error::ServiceError;
use rapport_services::saved_views::List as SavedList;
use serde::Deserialize;

pub const TEXTS: &[Text] = &[
    ("nav.campaigns", "营销活动", "Campaigns"),
    ("camp.title", "营销活动", "Campaigns"),
    ("camp.new", "新建活动", "New campaign"),
    ("camp.edit", "修改草稿", "Edit the draft"),
    ("camp.found", "个活动", "campaigns"),
    ("camp.none", "暂无活动。", "No campaigns."),
    ("camp.state", "状态", "State"),
    ("camp.all_states", "全部状态", "All states"),
    ("camp.filter", "筛选", "Filter"),
    ("camp.csv", "导出 CSV", "Export CSV"),
    ("camp.key", "编号", "Key"),
    ("camp.name", "名称", "Name"),
    ("camp.name_zh", "中文名称", "Chinese name"),
    ("camp.name_en", "英文名称", "English name"),
    ("camp.purpose", "用途", "Purpose"),
    ("camp.product", "推荐产品", "Product"),
    ("camp.no_product", "不推荐产品", "No product"),
    ("camp.survey", "回访问卷", "Follow-up survey"),
    ("camp.no_survey", "不附问卷", "No survey"),
    ("camp.created", "创建时间", "Created"),
    ("camp.created_by", "发起人", "Maker"),
    ("camp.launched", "发起时间", "Launched"),
    ("camp.audience", "目标客群", "Audience"),
    ("camp.choose_segment", "请选择客群", "Choose a segment"),
    ("camp.channels", "渠道（按优先顺序，前一个不可用时改用下一个）", "Channels in priority order (the next one when one is not allowed)"),
    ("camp.channel_n", "优先级", "Priority"),
    ("camp.window", "发送时段（当地时间）", "Send window (local time)"),
    ("camp.window_start", "开始", "From"),
    ("camp.window_end", "结束", "To"),
    ("camp.control", "对照组比例（%）", "Control group (%)"),
    ("camp.control_note", "对照组客户不会收到消息，用于衡量活动带来的提升。", "Control customers get no message; they measure the campaign's uplift."),
    ("camp.template", "消息模板", "Message template"),
    ("camp.subject_zh", "中文标题（电子邮件必填）", "Chinese subject (needed for e-mail)"),
    ("camp.subject_en", "英文标题（电子邮件必填）", "English subject (needed for e-mail)"),
    ("camp.body_zh", "中文正文", "Chinese text"),
    ("camp.body_en", "英文正文", "English text"),
    ("camp.fields", "可用字段", "Fields you can use"),
    ("camp.field.name", "客户姓名", "the customer's name"),
    ("camp.field.customer_key", "客户编号", "the customer's key"),
    ("camp.field.product", "推荐产品名称（按消息语言）", "the product's name in the message's language"),
    ("camp.field.rm", "客户经理姓名（无则为网点）", "the relationship manager, or the branch"),
    ("camp.field.branch", "所属网点", "the customer's branch"),
    ("camp.field.survey_link", "一次性问卷链接", "the one-time survey link"),
    ("camp.field.video_link", "视频会面链接", "the meeting's video link"),
    ("camp.field.opt_out", "退订方式（营销消息必须包含）", "how to opt out (a marketing message must have it)"),
    ("camp.suitability", "适当性检查", "Suitability check"),
    ("camp.suitability_note", "推荐产品时，只发送给风险承受能力评估有效且不低于产品风险等级的客户；信贷产品还须通过负责任放贷检查（逾期、预警、负债收入比）。被拦截的人数见预览。", "With a product, only customers with a current risk assessment that covers the product's risk level are sent to; a credit product must also pass the responsible-lending check (arrears, alerts, debt-service ratio). The preview counts who is blocked."),
    ("camp.risk_level", "风险等级", "risk level"),
    ("camp.credit", "信贷产品", "credit product"),
    ("camp.save", "保存草稿", "Save the draft"),
    ("camp.invalid", "无法保存，请检查：", "Not saved; check:"),
    ("camp.detail", "活动", "Campaign"),
    ("camp.preview", "发送预览", "Preview"),
    ("camp.preview_at", "按当前时间计划", "Planned as of"),
    ("camp.count.audience", "目标客户", "Audience"),
    ("camp.count.eligible", "可触达", "Reachable"),
    ("camp.count.to_send", "将发送", "To send"),
    ("camp.count.control", "对照组", "Control group"),
    ("camp.count.deferred", "因免打扰时段顺延", "Deferred past quiet hours"),
    ("camp.count.blocked", "未触达", "Not reached"),
    ("camp.by_channel", "各渠道发送数", "Messages by channel"),
    ("camp.preview_error", "无法计划此活动：", "The campaign cannot be planned:"),
    ("camp.sample", "消息示例（一位真实客户）", "Sample message (one real customer)"),
    ("camp.sample_none", "没有可触达的客户，无法生成示例。", "Nobody is reachable, so there is no sample."),
    ("camp.customer", "客户", "Customer"),
    ("camp.channel", "渠道", "Channel"),
    ("camp.approvals", "审批记录", "Approvals"),
    ("camp.submitted_by", "提交人", "Submitted by"),
    ("camp.submitted_at", "提交时间", "Submitted"),
    ("camp.decided_by", "审批人", "Decided by"),
    ("camp.decided_at", "审批时间", "Decided"),
    ("camp.note", "备注", "Note"),
    ("camp.actions", "下一步", "Next step"),
    ("camp.submit", "提交审批", "Submit for approval"),
    ("camp.approve", "批准", "Approve"),
    ("camp.return", "退回修改", "Return to the maker"),
    ("camp.launch", "发起活动", "Launch"),
    ("camp.maker_checker", "发起人提交后，须由另一位总行经理批准，批准后方可发起。", "After the maker submits, a second head-office manager must approve; only then can it be launched."),
    ("camp.report", "活动效果", "Results"),
    ("camp.sent", "已发送", "Sent"),
    ("camp.delivered", "已送达", "Delivered"),
    ("camp.responded", "已回复客户", "Customers who responded"),
    ("camp.response_rate", "回复率", "Response rate"),
    ("camp.treatment", "实验组", "Treated"),
    ("camp.blocked_members", "未触达", "Not reached"),
    ("camp.accepted", "接受产品", "Accepted the offer"),
    ("camp.uplift", "提升（百分点）", "Uplift (percentage points)"),
    ("camp.ci", "95% 置信区间", "95 % confidence interval"),
    ("camp.no_uplift", "没有对照组或实验组，无法计算提升。", "No control group or no treated customers: no uplift."),
    ("camp.survey_results", "回访问卷结果", "Follow-up survey"),
    ("camp.nps", "净推荐值 NPS", "NPS"),
    ("camp.csat", "满意度 CSAT", "CSAT"),
    ("camp.answers", "份回答", "answers"),
    ("camp.no_answers", "尚无回答", "no answers yet"),
    ("camp.done.saved", "草稿已保存。", "The draft is saved."),
    ("camp.done.submitted", "已提交审批。", "Submitted for approval."),
    ("camp.done.approved", "已批准，可以发起。", "Approved: it can be launched."),
    ("camp.done.returned", "已退回发起人修改。", "Returned to the maker."),
    ("camp.done.launched", "活动已发起。", "The campaign is launched."),
    ("camp.error.maker", "活动的发起人不能审批自己的活动，须由另一位总行经理审批。", "The maker of a campaign cannot approve it: a second head-office manager must."),
    ("camp.error.not_approved", "活动尚未获批准，不能发起。请先提交审批。", "The campaign is not approved and cannot be launched; submit it for approval first."),
    ("camp.error.transition", "当前状态不允许此操作。", "The campaign's state does not allow this."),
    ("camp.error.conflict", "活动已被他人修改或处理，请刷新后重试。", "Someone changed or decided the campaign meanwhile; look again."),
    ("camp.error.invalid", "活动无法计划，请检查活动设置。", "The campaign cannot be planned; check its settings."),
    ("code.campaign_state.draft", "草稿", "Draft"),
    ("code.campaign_state.awaiting_approval", "待审批", "Awaiting approval"),
    ("code.campaign_state.returned", "已退回", "Returned"),
    ("code.campaign_state.approved", "已批准", "Approved"),
    ("code.campaign_state.launched", "已发起", "Launched"),
    ("code.campaign_state.cancelled", "已取消", "Cancelled"),
    ("code.campaign_approval.submitted", "待审批", "Awaiting decision"),
    ("code.campaign_approval.approved", "批准", "Approved"),
    ("code.campaign_approval.rejected", "退回", "Returned"),
    ("code.campaign_approval.superseded", "草稿已修改，作废", "Superseded by an edit"),
    ("code.campaign_purpose.marketing", "营销", "Marketing"),
    ("code.campaign_purpose.service", "服务", "Service"),
    ("code.campaign_channel.sms", "短信", "SMS"),
    ("code.campaign_channel.email", "电子邮件", "E-mail"),
    ("code.campaign_channel.app_push", "手机银行推送", "App push"),
    ("code.campaign_channel.wechat", "微信", "WeChat"),
    ("code.campaign_channel.phone", "电话（客户经理外呼）", "Phone call (by the RM)"),
    ("code.campaign_channel.meeting", "视频会面", "Video meeting"),
    ("code.campaign_block.suitability", "产品适当性不匹配", "Unsuitable for the product"),
    ("code.campaign_block.lending", "未通过负责任放贷检查", "Refused by the responsible-lending rule"),
    ("code.campaign_block.no_address", "无该渠道联系方式", "No address for the channels"),
    ("code.campaign_block.consent", "未授权或已撤回授权", "No consent (or withdrawn)"),
    ("code.campaign_block.do_not_disturb", "客户要求勿扰", "Do not disturb"),
    ("code.campaign_block.quiet_hours", "免打扰时段且发送时段已结束", "Quiet hours until the window closed"),
    ("code.campaign_block.cap", "超过联系频次上限", "Contact frequency cap reached"),
];

/// The channels the builder offers (in a sensible default order).
const CHANNELS: [&str; 6] = ["app_push", "wechat", "sms", "email", "phone", "meeting"];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/campaigns", get(list))
        .route("/campaigns/new", get(new_form).post(create))
        .route("/campaigns/{key}", get(detail))
        // submit, approve, return, launch: one handler ([`step`]).
        .route("/campaigns/{key}/{step}", post(step))
}

fn pick(t: &Tr, zh: &str, en: &str) -> String {
    match t.lang {
        Lang::ZhCn => zh.to_string(),
        Lang::En => en.to_string(),
    }
}

/// A campaign row of the list.
pub struct Line {
    pub key: String,
    pub href: String,
    pub name: String,
    pub purpose: String,
    pub product: String,
    pub state: &'static str,
    pub state_label: String,
    pub created_by: String,
    pub created: String,
    pub launched: String,
}

#[derive(Deserialize, Default)]
struct ListFilter {
    state: Option<String>,
    #[serde(flatten)]
    list: ListQuery,
}

#[derive(Template)]
#[template(path = "campaigns.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Line>,
    states: Vec<(&'static str, String)>,
    state: String,
    heads: Vec<(String, String)>,
    csv_href: String,
    saved: super::saved_views::SavedBar,
}

const SORTS: [&str; 5] = ["name", "state", "created", "launched", "key"];

async fn list(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    RawQuery(raw): RawQuery,
    Query(q): Query<ListFilter>,
) -> Result<Response, PageError> {
    let lines = svc::list_as(&app.store, &v.actor()).await?;
    let state = opt(&q.state)
        .filter(|s| STATES.contains(&s.as_str()))
        .unwrap_or_default();
    let base = if state.is_empty() {
        String::new()
    } else {
        format!("state={}", qv(&state))
    };
    let here = if base.is_empty() {
        "/campaigns".to_string()
    } else {
        format!("/campaigns?{base}")
    };
    let layout = Layout::new(&app, &v, "/campaigns", &here);
    let t = layout.t;
    let off = app.offset();
    let mut rows: Vec<(Line, (i64, i64))> = lines
        .into_iter()
        .filter(|l| state.is_empty() || l.state.code == state)
        .map(|l| {
            let c = l.campaign;
            let line = Line {
                href: format!("/campaigns/{}", enc(&c.key)),
                name: pick(&t, &c.name_zh, &c.name_en),
                purpose: word(&t, "campaign_purpose", &c.purpose),
                product: c.product_code.clone().unwrap_or_default(),
                state: l.state.code,
                state_label: word(&t, "campaign_state", l.state.code),
                created_by: c.created_by.clone(),
                created: time(c.created_at, off),
                launched: c.launched_at.map(|x| time(x, off)).unwrap_or_default(),
                key: c.key,
            };
            let keys = (
                c.created_at.timestamp(),
                c.launched_at.map_or(0, |x| x.timestamp()),
            );
            (line, keys)
        })
        .collect();
    let sort = q.list.sort_or(&SORTS, "created");
    let desc = q.list.descending(sort == "created" || sort == "launched");
    rows.sort_by(|(a, ka), (b, kb)| {
        let o = match sort {
            "name" => a.name.cmp(&b.name),
            "state" => STATES
                .iter()
                .position(|s| *s == a.state)
                .cmp(&STATES.iter().position(|s| *s == b.state)),
            "launched" => ka.1.cmp(&kb.1),
            "key" => a.key.cmp(&b.key),
            _ => ka.0.cmp(&kb.0),
        }
        .then_with(|| a.key.cmp(&b.key));
        if desc {
            o.reverse()
        } else {
            o
        }
    });
    let rows: Vec<Line> = rows.into_iter().map(|(l, _)| l).collect();
    let cols: [(&str, &str); 8] = [
        ("name", "camp.name"),
        ("key", "camp.key"),
        ("", "camp.purpose"),
        ("", "camp.product"),
        ("state", "camp.state"),
        ("", "camp.created_by"),
        ("created", "camp.created"),
        ("launched", "camp.launched"),
    ];
    if q.list.wants_csv() {
        let header: Vec<String> = cols.iter().map(|(_, k)| t.s(k).to_string()).collect();
        let body: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                vec![
                    r.name.clone(),
                    r.key.clone(),
                    r.purpose.clone(),
                    r.product.clone(),
                    r.state_label.clone(),
                    r.created_by.clone(),
                    r.created.clone(),
                    r.launched.clone(),
                ]
            })
            .collect();
        return Ok(csv_response("campaigns.csv", &header, &body));
    }
    let heads = cols
        .iter()
        .map(|(col, k)| {
            let href = if col.is_empty() {
                String::new()
            } else {
                sort_href("/campaigns", &base, col, sort, desc)
            };
            (t.s(k).to_string(), href)
        })
        .collect();
    let csv_href = if base.is_empty() {
        "/campaigns?format=csv".to_string()
    } else {
        format!("/campaigns?{base}&format=csv")
    };
    let saved = super::saved_views::bar(&app, &v, &t, SavedList::Campaigns, raw.as_deref()).await?;
    render(&ListPage {
        saved,
        states: STATES
            .iter()
            .map(|s| (*s, word(&t, "campaign_state", s)))
            .collect(),
        layout,
        rows,
        state,
        heads,
        csv_href,
    })
}

// ---- The builder ----

/// The builder's form as posted (channels as four priority slots).
#[derive(Deserialize, Default)]
#[serde(default)]
struct BuilderForm {
    csrf: String,
    key: String,
    name_zh: String,
    name_en: String,
    purpose: String,
    segment: String,
    product: String,
    survey: String,
    channel1: String,
    channel2: String,
    channel3: String,
    channel4: String,
    window_start: String,
    window_end: String,
    control_percent: String,
    subject_zh: String,
    subject_en: String,
    body_zh: String,
    body_en: String,
}

impl BuilderForm {
    fn draft(&self) -> Draft {
        Draft {
            key: self.key.clone(),
            name_zh: self.name_zh.clone(),
            name_en: self.name_en.clone(),
            purpose: self.purpose.clone(),
            segment: self.segment.clone(),
            product: self.product.clone(),
            survey: self.survey.clone(),
            channels: [
                &self.channel1,
                &self.channel2,
                &self.channel3,
                &self.channel4,
            ]
            .into_iter()
            .filter(|c| !c.trim().is_empty())
            .cloned()
            .collect(),
            window_start: self.window_start.clone(),
            window_end: self.window_end.clone(),
            control_percent: self.control_percent.clone(),
            subject_zh: self.subject_zh.clone(),
            subject_en: self.subject_en.clone(),
            body_zh: self.body_zh.clone(),
            body_en: self.body_en.clone(),
        }
    }
}

/// One option of a select.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn choices(items: Vec<(String, String)>, current: &str) -> Vec<Choice> {
    items
        .into_iter()
        .map(|(value, label)| Choice {
            selected: value == current,
            value,
            label,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "campaign_new.html")]
struct BuilderPage {
    layout: Layout,
    d: Draft,
    segments: Vec<Choice>,
    products: Vec<Choice>,
    surveys: Vec<Choice>,
    purposes: Vec<Choice>,
    channel_slots: Vec<Vec<Choice>>,
    fields: Vec<(String, String)>,
    error: Option<(String, String)>,
}

async fn builder_page(
    app: &AppState,
    v: &Viewer,
    d: Draft,
    error: Option<ServiceError>,
) -> Result<Response, PageError> {
    let layout = Layout::new(app, v, "/campaigns", "/campaigns/new");
    let t = layout.t;
    let segments = app
        .store
        .segments()
        .await?
        .into_iter()
        .map(|s| {
            let (name, _) = super::segments::words(&t, &s.code, &s.name, &s.description);
            (s.code, name)
        })
        .collect();
    let settings = &app.services.settings.campaigns;
    let products = std::iter::once((String::new(), t.s("camp.no_product").to_string()))
        .chain(settings.matching.catalogue.iter().map(|p| {
            let mut label = format!(
                "{} · {} {}",
                pick(&t, &p.name_zh, &p.name_en),
                t.s("camp.risk_level"),
                p.risk.label()
            );
            if p.credit {
                label.push_str(&format!(" · {}", t.s("camp.credit")));
            }
            (p.code.clone(), label)
        }))
        .collect();
    let surveys = std::iter::once((String::new(), t.s("camp.no_survey").to_string()))
        .chain(
            rapport_services::surveys::shipped_surveys()
                .into_iter()
                .map(|s| (s.key.clone(), pick(&t, &s.title_zh, &s.title_en))),
        )
        .collect();
    let purposes = ["marketing", "service"]
        .iter()
        .map(|p| (p.to_string(), word(&t, "campaign_purpose", p)))
        .collect();
    let channel_slots = (0..4)
        .map(|i| {
            let current = d.channels.get(i).map(String::as_str).unwrap_or("");
            let items = std::iter::once((String::new(), "—".to_string()))
                .chain(
                    CHANNELS
                        .iter()
                        .map(|c| (c.to_string(), word(&t, "campaign_channel", c))),
                )
                .collect();
            choices(items, current)
        })
        .collect();
    let fields = TEMPLATE_FIELDS
        .iter()
        .map(|(f, _)| {
            (
                format!("{{{f}}}"),
                t.s(&format!("camp.field.{f}")).to_string(),
            )
        })
        .collect();
    let failed = error.is_some();
    let error = error.map(|e| match e {
        ServiceError::Invalid { field, message } => {
            // The field names the form's input; the detail is the engine's words.
            let detail = if t.lang == Lang::En {
                message
            } else {
                String::new()
            };
            (field, detail)
        }
        other => (
            String::new(),
            if t.lang == Lang::En {
                other.to_string()
            } else {
                String::new()
            },
        ),
    });
    let page = BuilderPage {
        segments: choices(segments, &d.segment),
        products: choices(products, &d.product),
        surveys: choices(surveys, &d.survey),
        purposes: choices(purposes, &d.purpose),
        channel_slots,
        fields,
        error,
        layout,
        d,
    };
    let mut res = render(&page)?;
    if failed {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

#[derive(Deserialize, Default)]
struct NewQuery {
    segment: Option<String>,
    from: Option<String>,
}

async fn new_form(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Query(q): Query<NewQuery>,
) -> Result<Response, PageError> {
    svc::require_bank_wide(&v.actor())?;
    let now = app.services.clock.local();
    let d = match opt(&q.from) {
        Some(key) => {
            let (line, _) = svc::get_as(&app.store, &v.actor(), &key).await?;
            CampaignSpec::parse(&line.campaign.spec)
                .ok()
                .and_then(|s| Draft::of(&s))
                .ok_or(PageError::NotFound)?
        }
        None => Draft::blank(opt(&q.segment).as_deref(), now),
    };
    builder_page(&app, &v, d, None).await
}

async fn create(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Form(f): Form<BuilderForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    let d = f.draft();
    let saved = svc::save_draft_as(
        &app.store,
        &app.services.settings.campaigns,
        &v.actor(),
        "web",
        &d,
        &app.services.clock,
    )
    .await;
    match saved {
        Ok(c) => {
            Ok(Redirect::to(&format!("/campaigns/{}?done=saved", enc(&c.key))).into_response())
        }
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::Conflict(_))) => {
            builder_page(&app, &v, d, Some(e)).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---- A campaign's page ----

/// A figure with its label.
pub struct Figure {
    pub id: String,
    pub label: String,
    pub value: String,
}

fn fig(id: &str, label: String, value: impl ToString) -> Figure {
    Figure {
        id: id.to_string(),
        label,
        value: value.to_string(),
    }
}

/// One submission of the approval history.
pub struct ApprovalLine {
    pub state_label: String,
    pub submitted_by: String,
    pub submitted_at: String,
    pub decided_by: String,
    pub decided_at: String,
    pub note: String,
}

/// The sample message in both languages.
pub struct SampleView {
    pub customer: String,
    pub channel: String,
    pub zh_subject: String,
    pub zh_body: String,
    pub en_subject: String,
    pub en_body: String,
}

/// One survey figure (NPS or CSAT of a question).
pub struct SurveyLine {
    pub label: String,
    pub value: String,
    pub n: usize,
}

#[derive(Template)]
#[template(path = "campaign.html")]
struct DetailPage {
    layout: Layout,
    key: String,
    href: String,
    name: String,
    state: &'static str,
    state_label: String,
    facts: Vec<Figure>,
    channels: Vec<String>,
    editable: bool,
    flash: Option<String>,
    error: Option<String>,
    approvals: Vec<ApprovalLine>,
    preview_at: String,
    preview: Vec<Figure>,
    blocked: Vec<Figure>,
    by_channel: Vec<Figure>,
    preview_error: Option<String>,
    sample: Option<SampleView>,
    report: Vec<Figure>,
    uplift: Vec<Figure>,
    no_uplift: bool,
    survey_title: String,
    survey: Vec<SurveyLine>,
}

#[derive(Deserialize, Default)]
struct DetailQuery {
    done: Option<String>,
    error: Option<String>,
}

const DONE: [&str; 5] = ["saved", "submitted", "approved", "returned", "launched"];
const ERRORS: [&str; 5] = ["maker", "not_approved", "transition", "conflict", "invalid"];

async fn detail(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(key): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Result<Response, PageError> {
    let (line, approvals) = svc::get_as(&app.store, &v.actor(), &key).await?;
    let layout = Layout::new(&app, &v, "/campaigns", &format!("/campaigns/{}", enc(&key)));
    let t = layout.t;
    let off = app.offset();
    let settings = &app.services.settings.campaigns;
    let c = &line.campaign;
    let spec = CampaignSpec::parse(&c.spec).ok();
    let mut facts = vec![
        fig("key", t.s("camp.key").into(), &c.key),
        fig(
            "purpose",
            t.s("camp.purpose").into(),
            word(&t, "campaign_purpose", &c.purpose),
        ),
        fig("maker", t.s("camp.created_by").into(), &c.created_by),
        fig(
            "created",
            t.s("camp.created").into(),
            time(c.created_at, off),
        ),
    ];
    let mut channels = Vec::new();
    if let Some(s) = &spec {
        let audience = match &s.audience {
            Audience::Segment { code } => {
                let stored = app.store.segments().await?;
                let seg = stored.iter().find(|x| &x.code == code);
                let (name, description) = seg.map_or(("", ""), |x| (&x.name, &x.description));
                super::segments::words(&t, code, name, description).0
            }
            Audience::HolidayNeed { holiday, need } => format!(
                "{} · {}",
                word(&t, "holiday", holiday),
                word(&t, "holiday_need", need)
            ),
            Audience::CampaignRecipients { campaign } => format!("→ {campaign}"),
            Audience::All => t.s("common.all").to_string(),
        };
        facts.push(fig("audience", t.s("camp.audience").into(), audience));
        if let Some(p) = &s.product {
            let label = match settings.matching.catalogue.get(p) {
                Some(p) => format!(
                    "{} ({}) · {} {}{}",
                    pick(&t, &p.name_zh, &p.name_en),
                    p.code,
                    t.s("camp.risk_level"),
                    p.risk.label(),
                    if p.credit {
                        format!(" · {}", t.s("camp.credit"))
                    } else {
                        String::new()
                    }
                ),
                None => p.clone(),
            };
            facts.push(fig("product", t.s("camp.product").into(), label));
        }
        if let Some(sv) = &s.survey {
            facts.push(fig("survey", t.s("camp.survey").into(), sv));
        }
        facts.push(fig(
            "window",
            t.s("camp.window").into(),
            format!(
                "{} – {} ({})",
                s.window.start.format("%Y-%m-%d %H:%M"),
                s.window.end.format("%Y-%m-%d %H:%M"),
                crate::present::zone_label(off)
            ),
        ));
        facts.push(fig(
            "control",
            t.s("camp.control").into(),
            format!("{}", s.control_percent),
        ));
        channels = s
            .channels
            .iter()
            .map(|ch| word(&t, "campaign_channel", ch.as_str()))
            .collect();
    }
    if let Some(at) = c.launched_at {
        facts.push(fig("launched", t.s("camp.launched").into(), time(at, off)));
    }
    let approvals = approvals
        .iter()
        .map(|a| ApprovalLine {
            state_label: word(&t, "campaign_approval", &a.state),
            submitted_by: a.submitted_by.clone(),
            submitted_at: time(a.submitted_at, off),
            decided_by: a.decided_by.clone().unwrap_or_default(),
            decided_at: a.decided_at.map(|x| time(x, off)).unwrap_or_default(),
            note: a.note.clone().unwrap_or_default(),
        })
        .collect();

    // The preview (not once launched: the report shows what happened).
    let mut preview = Vec::new();
    let mut blocked = Vec::new();
    let mut by_channel = Vec::new();
    let mut preview_error = None;
    let mut sample = None;
    let mut preview_at = String::new();
    if c.status == "draft" {
        match svc::plan_campaign(&app.store, settings, c.clone(), &app.services.clock).await {
            Ok(p) => {
                let n = &p.counts;
                preview_at = format!(
                    "{} ({})",
                    p.at.format("%Y-%m-%d %H:%M"),
                    crate::present::zone_label(off)
                );
                preview = vec![
                    fig("audience", t.s("camp.count.audience").into(), n.audience),
                    fig("eligible", t.s("camp.count.eligible").into(), n.eligible),
                    fig("to_send", t.s("camp.count.to_send").into(), n.to_send),
                    fig("control", t.s("camp.count.control").into(), n.control),
                    fig("deferred", t.s("camp.count.deferred").into(), n.deferred),
                ];
                let b = |code: &str, v: u64| fig(code, word(&t, "campaign_block", code), v);
                blocked = vec![
                    b("suitability", n.blocked_suitability - p.blocked_lending),
                    b("lending", p.blocked_lending),
                    b("consent", n.blocked_consent),
                    b("do_not_disturb", n.blocked_do_not_disturb),
                    b("quiet_hours", n.blocked_quiet_hours),
                    b("cap", n.blocked_cap),
                    b("no_address", n.blocked_no_address),
                ];
                by_channel = n
                    .by_channel
                    .iter()
                    .map(|(ch, v)| fig(ch, word(&t, "campaign_channel", ch), v))
                    .collect();
                sample = svc::sample(&p, settings)
                    .map_err(PageError::Internal)?
                    .map(|s| SampleView {
                        customer: s.customer_key,
                        channel: word(&t, "campaign_channel", &s.channel),
                        zh_subject: s.zh.subject.unwrap_or_default(),
                        zh_body: s.zh.body,
                        en_subject: s.en.subject.unwrap_or_default(),
                        en_body: s.en.body,
                    });
            }
            Err(e) => {
                preview_error = Some(if t.lang == Lang::En {
                    format!("{e:#}")
                } else {
                    t.s("camp.error.invalid").to_string()
                })
            }
        }
    }

    // The report, once launched.
    let mut report = Vec::new();
    let mut uplift = Vec::new();
    let mut no_uplift = false;
    let mut survey_title = String::new();
    let mut survey = Vec::new();
    if c.status == "launched" {
        let r = svc::report(&app.store, &c.key).await?;
        let f = &r.figures;
        report = vec![
            fig("sent", t.s("camp.sent").into(), r.sent),
            fig("delivered", t.s("camp.delivered").into(), r.delivered),
            fig("responded", t.s("camp.responded").into(), f.responded),
            fig(
                "response_rate",
                t.s("camp.response_rate").into(),
                r.response_rate.map(percent).unwrap_or_default(),
            ),
            fig("treatment", t.s("camp.treatment").into(), f.treatment),
            fig("control", t.s("camp.count.control").into(), f.control),
            fig("blocked", t.s("camp.blocked_members").into(), f.blocked),
        ];
        match &r.uplift {
            Some(u) => {
                uplift = vec![
                    fig(
                        "treated_accepted",
                        format!("{} · {}", t.s("camp.accepted"), t.s("camp.treatment")),
                        format!(
                            "{}/{} ({})",
                            u.treated_converted,
                            u.treated,
                            percent(u.treated_rate)
                        ),
                    ),
                    fig(
                        "control_accepted",
                        format!("{} · {}", t.s("camp.accepted"), t.s("camp.count.control")),
                        format!(
                            "{}/{} ({})",
                            u.control_converted,
                            u.control,
                            percent(u.control_rate)
                        ),
                    ),
                    fig(
                        "uplift",
                        t.s("camp.uplift").into(),
                        format!("{:+.2}", u.uplift_pp),
                    ),
                    fig(
                        "ci",
                        t.s("camp.ci").into(),
                        format!("{:+.2} … {:+.2}", u.ci95_low_pp, u.ci95_high_pp),
                    ),
                ];
            }
            None => no_uplift = true,
        }
        if let Some(s) = &r.follow_up_survey {
            survey_title = pick(&t, &s.title_zh, &s.title_en);
            for q in &s.nps {
                survey.push(SurveyLine {
                    label: format!("{} · {}", t.s("camp.nps"), q.question_id),
                    value: q
                        .result
                        .nps
                        .map(|x| format!("{x:.1}"))
                        .unwrap_or_else(|| t.s("camp.no_answers").into()),
                    n: q.result.n,
                });
            }
            for q in &s.csat {
                survey.push(SurveyLine {
                    label: format!("{} · {}", t.s("camp.csat"), q.question_id),
                    value: q
                        .result
                        .percent
                        .map(|x| format!("{x:.1}%"))
                        .unwrap_or_else(|| t.s("camp.no_answers").into()),
                    n: q.result.n,
                });
            }
        }
    }
    let editable = matches!(line.state.code, "draft" | "returned")
        && spec.as_ref().and_then(Draft::of).is_some();
    render(&DetailPage {
        href: format!("/campaigns/{}", enc(&c.key)),
        key: c.key.clone(),
        name: pick(&t, &c.name_zh, &c.name_en),
        state: line.state.code,
        state_label: word(&t, "campaign_state", line.state.code),
        facts,
        channels,
        editable,
        flash: opt(&q.done)
            .filter(|d| DONE.contains(&d.as_str()))
            .map(|d| t.s(&format!("camp.done.{d}")).to_string()),
        error: opt(&q.error)
            .filter(|e| ERRORS.contains(&e.as_str()))
            .map(|e| t.s(&format!("camp.error.{e}")).to_string()),
        approvals,
        preview_at,
        preview,
        blocked,
        by_channel,
        preview_error,
        sample,
        report,
        uplift,
        no_uplift,
        survey_title,
        survey,
        layout,
    })
}

#[derive(Deserialize, Default)]
struct StepForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
}

/// After a step: back to the campaign's page with what happened, or why not.
fn after(key: &str, r: Result<&'static str, ServiceError>) -> Result<Response, PageError> {
    let to = |q: &str| Redirect::to(&format!("/campaigns/{}?{q}", enc(key))).into_response();
    match r {
        Ok(done) => Ok(to(&format!("done={done}"))),
        Err(ServiceError::Refused(_)) => Ok(to("error=maker")),
        Err(ServiceError::InvalidTransition(m)) if m.contains("cannot be launched") => {
            Ok(to("error=not_approved"))
        }
        Err(ServiceError::InvalidTransition(_)) => Ok(to("error=transition")),
        Err(ServiceError::Conflict(_)) => Ok(to("error=conflict")),
        Err(ServiceError::Invalid { .. }) => Ok(to("error=invalid")),
        Err(e) => Err(e.into()),
    }
}

/// A step of the approval workflow, as named in its address.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Submit,
    Approve,
    Return,
    Launch,
}

impl Step {
    fn parse(s: &str) -> Option<Step> {
        Some(match s {
            "submit" => Step::Submit,
            "approve" => Step::Approve,
            "return" => Step::Return,
            "launch" => Step::Launch,
            _ => return None,
        })
    }
}

/// Takes `step` on campaign `key` as the viewer (the services check the
/// right, the bank-wide scope, the maker-checker rule and audit); what
/// happened, for the page's notice.
async fn take(
    app: &AppState,
    v: &Viewer,
    key: &str,
    step: Step,
    note: &str,
) -> Result<&'static str, ServiceError> {
    let actor = v.actor();
    let clock = &app.services.clock;
    match step {
        Step::Submit => svc::submit_as(&app.store, &actor, "web", key, clock)
            .await
            .map(|_| "submitted"),
        Step::Approve | Step::Return => {
            let approve = step == Step::Approve;
            svc::decide_as(&app.store, &actor, "web", key, approve, Some(note), clock)
                .await
                .map(|_| if approve { "approved" } else { "returned" })
        }
        Step::Launch => {
            let (line, _) = svc::get_as(&app.store, &actor, key).await?;
            let settings = &app.services.settings.campaigns;
            let Ok(planned) = svc::plan_campaign(&app.store, settings, line.campaign, clock).await
            else {
                return Err(ServiceError::invalid("campaign", "cannot be planned"));
            };
            svc::launch_as(&app.store, settings, &actor, "web", &planned, clock)
                .await
                .map(|_| "launched")
        }
    }
}

/// POST `/campaigns/{key}/{step}`: one step, then back to the campaign's
/// page (303) with what happened or why not; an unknown step is not found.
async fn step(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path((key, step)): Path<(String, String)>,
    Form(f): Form<StepForm>,
) -> Result<Response, PageError> {
    let step = Step::parse(&step).ok_or(PageError::NotFound)?;
    check_csrf(&v, &f.csrf)?;
    after(&key, take(&app, &v, &key, step, &f.note).await)
}
