//! Customers: search and list (filtered by segment, band, RM and branch),
//! the customer 360 (every section of C2, a health-history chart with its
//! factors, a slot for recommendations), the audited unmask action, and the
//! data-subject rights: export as JSON and erasure.
//!
//! Every query passes the viewer's scope; a customer outside it answers 404.
//! Every 360 view and every search is audited (queued); unmask, export and
//! erasure are audited before the answer.

use super::list::{csv_response, sort_href, ListQuery as ListParams};
use super::{check_csrf, enc, opt, render, require, Layout};
use crate::auth::{PageUser, Permission, Viewer};
use crate::charts::{self, Series};
use crate::error::PageError;
use crate::i18n::{Lang, Text, Tr};
use crate::present;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use rapport_engage::case::{CaseActionKind, CaseState, ComplaintCategory};
use rapport_services::customers::{self, Read360, Reading};
use rapport_services::saved_views::List as SavedList;
use rapport_store::Customer360;
use rapport_store::{CustomerFilter, CustomerListRow, CustomerSort};
use serde::Deserialize;
use serde_json::{Map, Value};

pub const TEXTS: &[Text] = &[
    ("cust.title", "客户", "Customers"),
    (
        "cust.search_placeholder",
        "姓名、手机、证件号、客户号",
        "Name, phone, ID number, customer key",
    ),
    ("cust.segment", "客群", "Segment"),
    ("cust.band", "健康等级", "Health band"),
    ("cust.rm", "客户经理", "RM"),
    ("cust.branch", "网点", "Branch"),
    ("cust.key", "客户号", "Customer key"),
    ("cust.name", "姓名", "Name"),
    ("cust.phone", "手机", "Phone"),
    ("cust.id_number", "证件号", "ID number"),
    ("cust.score", "健康分", "Health score"),
    ("cust.found", "位客户", "customers"),
    ("cust.erased", "已删除个人信息", "personal data erased"),
    ("c360.title", "客户全景", "Customer 360"),
    ("c360.profile", "基本信息", "Profile"),
    ("c360.gender", "性别", "Gender"),
    ("c360.birth_date", "出生日期", "Birth date"),
    ("c360.email", "电子邮件", "E-mail"),
    ("c360.city", "城市", "City"),
    ("c360.occupation", "职业", "Occupation"),
    ("c360.income", "年收入", "Annual income"),
    ("c360.risk_tolerance", "风险承受能力", "Risk tolerance"),
    ("c360.assessed_on", "评估日期", "assessed on"),
    ("c360.tier", "资产层级", "Asset tier"),
    ("c360.health", "健康历史", "Health history"),
    ("c360.factors", "主要影响因素", "Main factors"),
    ("c360.accounts", "账户与余额", "Accounts and balances"),
    ("c360.holdings", "持有产品", "Holdings"),
    ("c360.loans", "贷款", "Loans"),
    ("c360.cards", "银行卡", "Cards"),
    ("c360.transactions", "最近交易", "Recent transactions"),
    ("c360.interactions", "接触记录", "Interactions"),
    ("c360.cases", "服务工单", "Cases"),
    ("c360.surveys", "问卷反馈", "Survey answers"),
    ("c360.consents", "授权同意", "Consents"),
    ("c360.alerts", "预警", "Alerts"),
    ("c360.segments", "所属客群", "Segments"),
    ("c360.recommendations", "推荐", "Recommendations"),
    (
        "c360.no_recommendations",
        "暂无推荐：尚未运行推荐（rapport recommend --all）。",
        "None yet: recommendations have not been run (rapport recommend --all).",
    ),
    ("c360.rec_retention", "客户挽留", "Retention"),
    ("c360.rec_reassessment", "重新风险评估", "Risk reassessment"),
    ("c360.rec_sale", "产品推荐", "Product"),
    ("c360.rec_priority", "优先级", "Priority"),
    ("c360.rec_channel", "渠道", "Channel"),
    ("c360.rec_offered", "已推介", "Offered"),
    ("c360.rec_accepted", "已接受", "Accepted"),
    ("c360.rec_declined", "已拒绝", "Declined"),
    ("c360.rec_proposed", "待推介", "Proposed"),
    ("c360.rec_history", "近期结果", "Recent outcomes"),
    ("c360.models", "模型评分", "Model scores"),
    (
        "c360.rec_blocked",
        "适当性规则不允许该推介：",
        "Blocked by the suitability rule: ",
    ),
    (
        "c360.unmask",
        "查看完整信息（将记入审计）",
        "Show personal data (audited)",
    ),
    (
        "c360.unmask_reason",
        "查看原因（必填，记入审计）",
        "Reason (required, kept in the audit log)",
    ),
    (
        "c360.unmasked",
        "本页显示完整个人信息，此次查看已记入审计日志。",
        "Personal data shown in full on this page; this view is in the audit log.",
    ),
    (
        "c360.export",
        "导出客户数据（JSON）",
        "Export customer data (JSON)",
    ),
    ("c360.erase", "申请删除个人信息", "Request erasure of personal data"),
    (
        "c360.erase_confirm",
        "提出删除该客户个人信息的申请？须由另一位管理员批准后才会删除，删除后不可撤销。",
        "Request the erasure of this customer's personal data? Another administrator must approve it; once erased it cannot be undone.",
    ),
    (
        "c360.erased_report",
        "个人信息已删除；财务记录依法保留。",
        "Personal data erased; financial records kept as the law requires.",
    ),
    ("c360.none", "无记录", "No records"),
    (
        "c360.support_cases",
        "工单与投诉（本系统受理）",
        "Cases and complaints (opened in Rapport)",
    ),
    ("c360.case_events", "工单处理步骤", "Case steps"),
    (
        "c360.survey_answers",
        "问卷答复（本系统收集）",
        "Survey answers (collected in Rapport)",
    ),
    ("c360.survey_invitations", "问卷邀请", "Survey invitations"),
    ("c360.contact_log", "客户经理联系记录", "Contact log"),
    ("c360.tasks", "联系任务", "Contact tasks"),
    ("c360.rm_history", "客户经理分配记录", "RM assignments"),
    ("c360.rm_since", "分配于", "assigned"),
    ("c360.derived", "客户画像", "Derived profile"),
    ("c360.lifecycle", "生命周期阶段", "Lifecycle stage"),
    ("c360.channel_pref", "渠道偏好", "Channel preference"),
    (
        "c360.spending",
        "消费类别（近12个月）",
        "Spending categories (12 months)",
    ),
    ("c360.life_events", "人生事件", "Life events"),
    (
        "c360.no_life_events",
        "近12个月未发现人生事件",
        "No life event found in 12 months",
    ),
    ("c360.evidence", "依据", "Evidence"),
    ("c360.as_of", "数据截至", "as of"),
    (
        "c360.risk_history",
        "风险承受能力评估记录",
        "Risk-tolerance assessments",
    ),
    ("c360.risk_current", "当前有效", "current"),
    ("c360.risk_valid", "有效", "valid"),
    ("c360.risk_expired", "已过期", "expired"),
    ("c360.risk_source_rapport", "问卷", "questionnaire"),
    ("c360.risk_source_import", "导入", "imported"),
    ("c360.risk_expires", "有效期至", "valid until"),
    ("c360.risk_score", "得分", "score"),
    ("col.intake", "受理渠道", "Intake"),
    ("col.state", "状态", "State"),
    ("col.subject", "主题", "Subject"),
    ("col.assignee", "处理人", "Assignee"),
    ("col.opened_at", "受理时间", "Opened"),
    ("col.first_response_at", "首次响应", "First response"),
    ("col.resolved_at", "解决时间", "Resolved"),
    ("col.closed_at", "关闭时间", "Closed"),
    ("col.root_cause", "根因", "Root cause"),
    ("col.reopen_count", "重开次数", "Reopened"),
    ("col.created_by", "创建人", "Created by"),
    ("col.case_id", "工单号", "Case"),
    ("col.at", "时间", "At"),
    ("col.actor", "操作人", "By"),
    ("col.action", "操作", "Action"),
    ("col.from_state", "原状态", "From"),
    ("col.to_state", "新状态", "To"),
    ("col.invitation_id", "邀请号", "Invitation"),
    ("col.question_id", "题目", "Question"),
    ("col.functional", "具备时感受", "If present"),
    ("col.dysfunctional", "缺失时感受", "If absent"),
    ("col.answered_at", "答复时间", "Answered"),
    ("col.campaign_id", "活动", "Campaign"),
    ("col.created_at", "创建时间", "Created"),
    ("col.expires_at", "失效时间", "Expires"),
    ("col.used_at", "使用时间", "Used"),
    ("col.staff", "联系人", "Staff"),
    ("col.recorded_at", "记录时间", "Recorded"),
    ("col.due_at", "到期", "Due"),
    ("col.script", "话术", "Script"),
    ("col.done_at", "完成时间", "Done"),
    ("col.rm_id", "客户经理编号", "RM id"),
    ("col.rm_name", "客户经理", "RM"),
    ("c360.factor_impact", "扣分", "Points lost"),
    ("c360.factor_txns", "相关交易", "Transactions behind it"),
    ("c360.factor_window", "依据期间", "Window"),
    (
        "c360.no_factor_txns",
        "该期间内没有相关交易。",
        "No transaction in this window.",
    ),
    ("c360.see_txns", "查看相关交易", "See the transactions"),
    ("c360.alert_evidence", "查看依据", "Show the evidence"),
    ("c360.open_cases", "未结工单", "Open cases"),
    ("c360.model.churn", "流失概率", "Churn probability"),
    ("c360.model.default", "违约概率", "Default probability"),
    ("c360.model.propensity", "购买倾向", "Propensity"),
    ("c360.segment_desc", "说明", "About"),
    ("cust.export_csv", "导出 CSV", "Export CSV"),
    (
        "cust.more_than",
        "超过 {n} 位客户（只计数到这里）",
        "more than {n} customers (counted up to there)",
    ),
    ("cust.page", "第 {page} 页", "Page {page}"),
    (
        "cust.page_of",
        "第 {page} 页，共 {pages} 页",
        "Page {page} of {pages}",
    ),
    (
        "cust.empty",
        "没有符合条件的客户。请检查搜索内容或清除筛选条件。",
        "No customer matches. Check the search text or clear the filters.",
    ),
    ("cust.clear", "清除筛选", "Clear the filters"),
    ("col.balance_now", "余额", "Balance"),
    ("col.answered_on_at", "答复时间", "Answered"),
    ("col.source", "来源", "Source"),
    ("col.customer_rm", "客户经理", "RM"),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/customers", get(list))
        .route("/customers/{key}", get(show))
        .route("/customers/{key}/unmask", post(unmask))
        .route("/customers/{key}/export", get(export))
        .route("/customers/{key}/erase", post(erase))
        .route(
            "/customers/{key}/recommendations/{id}/outcome",
            post(recommendation_outcome),
        )
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    pub q: Option<String>,
    pub segment: Option<String>,
    pub band: Option<String>,
    pub rm: Option<String>,
    pub branch: Option<String>,
    pub page: Option<i64>,
}

/// A list row as shown (masked per role).
pub struct ShownRow {
    pub key: String,
    pub href: String,
    pub name: String,
    pub phone: String,
    pub branch: String,
    pub rm: String,
    pub score: String,
    pub band: String,
    pub band_label: String,
}

pub fn shown_row(t: &crate::i18n::Tr, r: &CustomerListRow) -> ShownRow {
    ShownRow {
        href: format!("/customers/{}", enc(&r.key)),
        key: r.key.clone(),
        name: if r.erased {
            t.s("cust.erased").to_string()
        } else {
            r.name.clone().unwrap_or_default()
        },
        phone: r.phone.clone().unwrap_or_default(),
        branch: r.branch_code.clone().unwrap_or_default(),
        rm: r.rm_name.clone().unwrap_or_default(),
        score: r.score.map(|s| format!("{s:.1}")).unwrap_or_default(),
        band: r.band.clone().unwrap_or_default(),
        band_label: r
            .band
            .as_deref()
            .map(|b| t.s(&format!("band.{b}")).to_string())
            .unwrap_or_default(),
    }
}

/// Parses the list query into the store's filter (ids from text; bad ids are 400).
pub fn filter_of(q: &ListQuery, per_page: i64) -> Result<CustomerFilter, String> {
    let id = |s: &Option<String>, name: &str| -> Result<Option<i64>, String> {
        match opt(s) {
            None => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .map(Some)
                .map_err(|_| format!("{name} must be a number")),
        }
    };
    let band = opt(&q.band);
    if let Some(b) = &band {
        if !matches!(b.as_str(), "healthy" | "watch" | "at_risk") {
            return Err("band must be healthy, watch or at_risk".into());
        }
    }
    Ok(CustomerFilter {
        q: opt(&q.q),
        segment: opt(&q.segment),
        band,
        rm_id: id(&q.rm, "rm")?,
        branch_id: id(&q.branch, "branch")?,
        page: q.page.unwrap_or(1).max(1),
        per_page,
        ..CustomerFilter::default()
    })
}

#[derive(Template)]
#[template(path = "customers.html")]
struct ListPage {
    layout: Layout,
    q: String,
    segment: String,
    band: String,
    rm: String,
    branch: String,
    rows: Vec<ShownRow>,
    total_text: String,
    heads: Vec<super::alerts::Heading>,
    prev_href: String,
    next_href: String,
    csv_href: String,
    page_text: String,
    filtered: bool,
    segments: Vec<(String, String)>,
    band_options: Vec<(String, String)>,
    rms: Vec<(String, String)>,
    branches: Vec<(String, String)>,
    masked: bool,
    saved: super::saved_views::SavedBar,
}

/// The list page's query: the filters of [`ListQuery`] read leniently (a bad
/// page number is page 1, an unknown band or id no filter), and `format=csv`.
#[derive(Deserialize, Default)]
struct PageQuery {
    q: Option<String>,
    segment: Option<String>,
    band: Option<String>,
    rm: Option<String>,
    branch: Option<String>,
    page: Option<String>,
    format: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
}

/// The columns the list sorts by (`sort=`), by customer id when none.
const SORTS: [&str; 5] = ["key", "name", "branch", "rm", "score"];

/// A page view counts the matches up to this many (then "more than").
const COUNT_LIMIT: i64 = 10_000;
const COUNT_LIMIT_TEXT: &str = "10,000";

async fn list(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    RawQuery(raw): RawQuery,
    Query(pq): Query<PageQuery>,
) -> Result<Response, PageError> {
    let lp = ListParams {
        page: pq.page.clone(),
        format: pq.format.clone(),
        sort: pq.sort.clone(),
        dir: pq.dir.clone(),
    };
    let sort = lp.sort_or(&SORTS, "");
    let desc = lp.descending(false);
    let num = |s: &Option<String>| opt(s).filter(|x| x.parse::<i64>().is_ok());
    let q = ListQuery {
        q: pq.q.clone(),
        segment: pq.segment.clone(),
        band: opt(&pq.band).filter(|b| matches!(b.as_str(), "healthy" | "watch" | "at_risk")),
        rm: num(&pq.rm),
        branch: num(&pq.branch),
        page: Some(i64::from(lp.page())),
    };
    if lp.wants_csv() {
        return customers_csv(&app, &v, &q, sort, desc).await;
    }
    let mut f = filter_of(&q, 50).map_err(PageError::BadRequest)?;
    f.sort = CustomerSort::parse(sort).unwrap_or_default();
    f.descending = desc;
    f.count_limit = COUNT_LIMIT;
    let scope = v.scope();
    let page = customers::search(&app.services, &v, "ui", f.clone()).await?;
    // The filters as a query string (without sort and page).
    let mut base = Vec::new();
    for (k, val) in [("q", &f.q), ("segment", &f.segment), ("band", &f.band)] {
        if let Some(val) = val {
            base.push(format!("{k}={}", enc(val)));
        }
    }
    if let Some(r) = f.rm_id {
        base.push(format!("rm={r}"));
    }
    if let Some(b) = f.branch_id {
        base.push(format!("branch={b}"));
    }
    let base = base.join("&");
    let qs = |p: i64| {
        let mut s = format!("/customers?page={p}");
        if !base.is_empty() {
            s.push('&');
            s.push_str(&base);
        }
        if !sort.is_empty() {
            s.push_str(&format!(
                "&sort={sort}&dir={}",
                if desc { "desc" } else { "asc" }
            ));
        }
        s
    };
    let here = qs(page.page);
    let layout = Layout::new(&app, &v, "/customers", &here);
    let t = layout.t;
    // The count stops above COUNT_LIMIT: then the pages are not counted
    // either, and a full page always has a next one.
    let capped = page.total > COUNT_LIMIT;
    let pages = ((page.total + page.per_page - 1) / page.per_page).max(1);
    let has_next = if capped {
        page.items.len() as i64 == page.per_page
    } else {
        page.page < pages
    };
    let heads = [
        ("key", "cust.key"),
        ("name", "cust.name"),
        ("", "cust.phone"),
        ("branch", "cust.branch"),
        ("rm", "cust.rm"),
        ("score", "cust.score"),
        ("score", "cust.band"),
    ]
    .iter()
    .map(|(col, key)| super::alerts::Heading {
        label: t.s(key).to_string(),
        href: if col.is_empty() {
            String::new()
        } else {
            sort_href("/customers", &base, col, sort, desc)
        },
        dir: match (*col == sort && !col.is_empty(), desc) {
            (false, _) => "",
            (true, true) => "desc",
            (true, false) => "asc",
        },
    })
    .collect();
    let all_segments = app.store.segments().await?;
    let segments = all_segments
        .iter()
        .map(|s| {
            let mut m = Map::new();
            m.insert("code".into(), Value::from(s.code.clone()));
            m.insert("name".into(), Value::from(s.name.clone()));
            (s.code.clone(), segment_words(&t, &m, &all_segments).0)
        })
        .collect();
    let rms = app
        .store
        .relationship_managers(&scope)
        .await?
        .into_iter()
        .map(|r| (r.id.to_string(), r.display_name))
        .collect();
    let branches = app
        .store
        .branches()
        .await?
        .into_iter()
        .filter(|b| match scope {
            rapport_store::Scope::Branch(id) => b.id == id,
            rapport_store::Scope::Nothing => false,
            _ => true,
        })
        .map(|b| (b.id.to_string(), format!("{} {}", b.code, b.name)))
        .collect();
    let p = ListPage {
        q: f.q.clone().unwrap_or_default(),
        segment: f.segment.clone().unwrap_or_default(),
        band: f.band.clone().unwrap_or_default(),
        rm: f.rm_id.map(|x| x.to_string()).unwrap_or_default(),
        branch: f.branch_id.map(|x| x.to_string()).unwrap_or_default(),
        rows: page.items.iter().map(|r| shown_row(&t, r)).collect(),
        total_text: if capped {
            t.s("cust.more_than").replace("{n}", COUNT_LIMIT_TEXT)
        } else {
            format!("{} {}", page.total, t.s("cust.found"))
        },
        heads,
        prev_href: if page.page > 1 {
            qs(page.page - 1)
        } else {
            String::new()
        },
        next_href: if has_next {
            qs(page.page + 1)
        } else {
            String::new()
        },
        csv_href: format!("{}&format=csv", qs(1)),
        page_text: if capped {
            t.s("cust.page").replace("{page}", &page.page.to_string())
        } else {
            t.s("cust.page_of")
                .replace("{page}", &page.page.to_string())
                .replace("{pages}", &pages.to_string())
        },
        filtered: f.q.is_some()
            || f.segment.is_some()
            || f.band.is_some()
            || f.rm_id.is_some()
            || f.branch_id.is_some(),
        segments,
        band_options: ["healthy", "watch", "at_risk"]
            .iter()
            .map(|b| (b.to_string(), t.s(&format!("band.{b}")).to_string()))
            .collect(),
        rms,
        branches,
        masked: !app.services.settings.masking.shows_everything(&v),
        saved: super::saved_views::bar(&app, &v, &t, SavedList::Customers, raw.as_deref()).await?,
        layout,
    };
    render(&p)
}

/// The whole filtered list as CSV (at most [`CSV_ROWS`] customers), masked
/// as on the page.
async fn customers_csv(
    app: &AppState,
    v: &Viewer,
    q: &ListQuery,
    sort: &str,
    desc: bool,
) -> Result<Response, PageError> {
    let t = Tr::new(app.lang_of(&v.user));
    let mut rows = Vec::new();
    let mut page = 1;
    loop {
        let mut f = filter_of(q, 200).map_err(PageError::BadRequest)?;
        f.page = page;
        f.sort = CustomerSort::parse(sort).unwrap_or_default();
        f.descending = desc;
        f.count_limit = CSV_ROWS as i64;
        let found = customers::search(&app.services, v, "ui", f).await?;
        let n = found.items.len();
        for r in &found.items {
            let s = shown_row(&t, r);
            rows.push(vec![
                s.key,
                s.name,
                s.phone,
                s.branch,
                s.rm,
                s.score,
                s.band_label,
            ]);
        }
        if n < 200 || rows.len() >= CSV_ROWS || page * 200 >= found.total {
            break;
        }
        page += 1;
    }
    rows.truncate(CSV_ROWS);
    let header = [
        "cust.key",
        "cust.name",
        "cust.phone",
        "cust.branch",
        "cust.rm",
        "cust.score",
        "cust.band",
    ]
    .map(|k| t.s(k).to_string());
    Ok(csv_response("customers.csv", &header, &rows))
}

/// The most customers one CSV export holds.
const CSV_ROWS: usize = 5000;

/// One cell of a 360 table: its text, a link when it leads somewhere, and
/// `num` for right-aligned figures.
pub struct Cell {
    pub text: String,
    pub href: String,
    pub num: bool,
}

/// A section of the 360: typed columns in a meaningful order, every value
/// shown as words, money in yuan and times in the configured zone.
pub struct Section {
    /// The element id (`sec-accounts`).
    pub id: &'static str,
    pub key: &'static str,
    pub cols: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// How a column's values are shown.
#[derive(Clone, Copy)]
enum Show {
    Text,
    /// Fen as yuan with separators.
    Money,
    /// A stored UTC time, in the configured zone.
    Time,
    Int,
    /// A code of the catalogue group (`code.<group>.<code>`).
    Word(&'static str),
    Severity,
    CaseState,
    CaseCategory,
    CaseKind,
    CaseAction,
    /// A link to the Rapport case `/cases/{id}`.
    CaseLink,
}

struct Ctx {
    t: Tr,
    offset: chrono::FixedOffset,
}

fn raw(r: &Map<String, Value>, col: &str) -> String {
    match r.get(col) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => if *b { "1" } else { "0" }.to_string(),
        Some(v) => v.to_string(),
    }
}

fn pick(t: &Tr, zh: &str, en: &str) -> String {
    if t.lang == Lang::ZhCn { zh } else { en }.to_string()
}

fn cell(c: &Ctx, r: &Map<String, Value>, col: &str, how: Show) -> Cell {
    let text = raw(r, col);
    let t = &c.t;
    let mut out = Cell {
        text: String::new(),
        href: String::new(),
        num: false,
    };
    if text.is_empty() {
        return out;
    }
    out.text = match how {
        Show::Text => text,
        Show::Money => {
            out.num = true;
            r.get(col)
                .and_then(Value::as_f64)
                .map(|x| present::money(x.round() as i64))
                .unwrap_or(text)
        }
        Show::Time => present::time_text(&text, c.offset),
        Show::Int => {
            out.num = true;
            r.get(col)
                .and_then(Value::as_f64)
                .map(|x| format!("{x:.0}"))
                .unwrap_or(text)
        }
        Show::Word(group) => present::word(t, group, &text),
        Show::Severity => t.s(&format!("sev.{text}")).to_string(),
        Show::CaseState => match CaseState::parse(&text) {
            Some(s) => pick(t, s.label_zh(), s.label_en()),
            None => present::word(t, "case_status", &text),
        },
        Show::CaseCategory => match ComplaintCategory::parse(&text) {
            _ if crate::i18n::has(&format!("code.case_category.{text}")) => {
                present::word(t, "case_category", &text)
            }
            Some(x) => pick(t, x.label_zh(), x.label_en()),
            None => text,
        },
        Show::CaseKind => {
            let key = format!("case.kind.{text}");
            if crate::i18n::has(&key) {
                t.s(&key).to_string()
            } else {
                text
            }
        }
        Show::CaseAction => match CaseActionKind::parse(&text) {
            Some(x) => pick(t, x.label_zh(), x.label_en()),
            None => present::word(t, "case_action", &text),
        },
        Show::CaseLink => {
            out.href = format!("/cases/{text}");
            format!("#{text}")
        }
    };
    out
}

fn section(
    c: &Ctx,
    id: &'static str,
    key: &'static str,
    rows: &[Map<String, Value>],
    cols: &[(&str, &str, Show)],
) -> Section {
    Section {
        id,
        key,
        cols: cols
            .iter()
            .map(|(_, label, _)| c.t.s(label).to_string())
            .collect(),
        rows: rows
            .iter()
            .map(|r| {
                cols.iter()
                    .map(|(col, _, how)| cell(c, r, col, *how))
                    .collect()
            })
            .collect(),
    }
}

/// The 360's tables, each with its own columns.
fn sections(c: &Ctx, x: &Customer360) -> Vec<Section> {
    use Show::*;
    vec![
        section(
            c,
            "sec-accounts",
            "c360.accounts",
            &x.accounts,
            &[
                ("key", "col.key", Text),
                ("account_type", "col.account_type", Word("account_type")),
                ("currency", "col.currency", Text),
                ("balance", "col.balance", Money),
                ("credit_limit", "col.credit_limit", Money),
                ("opened_on", "col.opened_on", Text),
                ("closed_on", "col.closed_on", Text),
            ],
        ),
        section(
            c,
            "sec-holdings",
            "c360.holdings",
            &x.holdings,
            &[
                ("product", "col.product", Text),
                ("product_code", "col.product_code", Text),
                ("category", "col.category", Word("product_category")),
                ("risk_level", "col.risk_level", Text),
                ("amount", "col.amount", Money),
                ("opened_on", "col.opened_on", Text),
                ("closed_on", "col.closed_on", Text),
            ],
        ),
        section(
            c,
            "sec-loans",
            "c360.loans",
            &x.loans,
            &[
                ("key", "col.key", Text),
                ("status", "col.status", Word("loan_status")),
                ("amount", "col.amount", Money),
                ("monthly_payment", "col.monthly_payment", Money),
                ("duration_months", "col.duration_months", Int),
                ("days_past_due", "col.days_past_due", Int),
                ("granted_on", "col.granted_on", Text),
            ],
        ),
        section(
            c,
            "sec-cards",
            "c360.cards",
            &x.cards,
            &[
                ("key", "col.key", Text),
                ("card_type", "col.card_type", Word("card_type")),
                ("credit_limit", "col.credit_limit", Money),
                ("issued_on", "col.issued_on", Text),
            ],
        ),
        section(
            c,
            "sec-transactions",
            "c360.transactions",
            &x.recent_transactions,
            &[
                ("booked_on", "col.booked_on", Text),
                ("amount", "col.amount", Money),
                ("balance_after", "col.balance_after", Money),
                ("category", "col.category", Word("txn_category")),
                ("channel", "col.channel", Word("channel")),
                ("counterparty", "col.counterparty", Text),
            ],
        ),
        section(
            c,
            "sec-support-cases",
            "c360.support_cases",
            &x.support_cases,
            &[
                ("id", "col.case_id", CaseLink),
                ("state", "col.state", CaseState),
                ("kind", "col.kind", CaseKind),
                ("category", "col.category", CaseCategory),
                ("severity", "col.severity", Severity),
                ("subject", "col.subject", Text),
                ("assignee", "col.assignee", Text),
                ("opened_at", "col.opened_at", Time),
                ("first_response_at", "col.first_response_at", Time),
                ("resolved_at", "col.resolved_at", Time),
                ("closed_at", "col.closed_at", Time),
            ],
        ),
        section(
            c,
            "sec-case-events",
            "c360.case_events",
            &x.case_events,
            &[
                ("at", "col.at", Time),
                ("case_id", "col.case_id", CaseLink),
                ("action", "col.action", CaseAction),
                ("from_state", "col.from_state", CaseState),
                ("to_state", "col.to_state", CaseState),
                ("actor", "col.actor", Text),
            ],
        ),
        section(
            c,
            "sec-cases",
            "c360.cases",
            &x.cases,
            &[
                ("opened_on", "col.opened_on", Text),
                ("kind", "col.kind", CaseKind),
                ("category", "col.category", CaseCategory),
                ("severity", "col.severity", Severity),
                ("status", "col.status", Word("case_status")),
                ("description", "col.description", Text),
                ("closed_on", "col.closed_on", Text),
            ],
        ),
        section(
            c,
            "sec-contact-log",
            "c360.contact_log",
            &x.contact_log,
            &[
                ("at", "col.at", Time),
                ("kind", "col.kind", Word("contact_kind")),
                ("outcome", "col.outcome", Word("contact_outcome")),
                ("staff", "col.staff", Text),
                ("note", "col.note", Text),
            ],
        ),
        section(
            c,
            "sec-tasks",
            "c360.tasks",
            &x.tasks,
            &[
                ("due_at", "col.due_at", Time),
                ("kind", "col.kind", Word("contact_kind")),
                ("status", "col.status", Word("task_status")),
                ("outcome", "col.outcome", Word("contact_outcome")),
                ("assignee", "col.assignee", Text),
                ("done_at", "col.done_at", Time),
            ],
        ),
        section(
            c,
            "sec-interactions",
            "c360.interactions",
            &x.interactions,
            &[
                ("occurred_on", "col.occurred_on", Text),
                ("channel", "col.channel", Word("channel")),
                ("kind", "col.kind", Word("contact_kind")),
                ("outcome", "col.outcome", Word("contact_outcome")),
                ("note", "col.note", Text),
            ],
        ),
        section(
            c,
            "sec-survey-answers",
            "c360.survey_answers",
            &x.survey_answers,
            &[
                ("answered_at", "col.answered_at", Time),
                ("survey", "col.survey", Text),
                ("kind", "col.kind", Word("survey_kind")),
                ("score", "col.score", Int),
                ("answer_text", "col.answer_text", Text),
            ],
        ),
        section(
            c,
            "sec-surveys",
            "c360.surveys",
            &x.surveys,
            &[
                ("answered_on", "col.answered_on", Text),
                ("survey", "col.survey", Text),
                ("kind", "col.kind", Word("survey_kind")),
                ("question", "col.question", Text),
                ("score", "col.score", Int),
                ("answer_text", "col.answer_text", Text),
            ],
        ),
        section(
            c,
            "sec-survey-invitations",
            "c360.survey_invitations",
            &x.survey_invitations,
            &[
                ("created_at", "col.created_at", Time),
                ("survey", "col.survey", Text),
                ("expires_at", "col.expires_at", Time),
                ("used_at", "col.used_at", Time),
            ],
        ),
        section(
            c,
            "sec-consents",
            "c360.consents",
            &x.consents,
            &[
                ("channel", "col.channel", Word("channel")),
                ("purpose", "col.purpose", Word("consent_purpose")),
                ("granted", "col.granted", Word("consent")),
                ("recorded_on", "col.recorded_on", Text),
                ("revoked_on", "col.revoked_on", Text),
                ("source", "col.source", Text),
            ],
        ),
        section(
            c,
            "sec-rm-history",
            "c360.rm_history",
            &x.rm_history,
            &[
                ("at", "col.at", Time),
                ("rm_name", "col.rm_name", Text),
                ("actor", "col.actor", Text),
            ],
        ),
    ]
}

/// One health factor of the latest score, in the viewer's language, with
/// the transactions behind it when it has an evidence window.
pub struct FactorView {
    pub label: String,
    pub impact: String,
    /// `factor-<feature>`, the anchor of its transactions.
    pub anchor: String,
    pub window: String,
    pub kind: String,
    pub has_evidence: bool,
    pub txns: Vec<Vec<Cell>>,
}

/// An alert of the customer as the 360 shows it, with its evidence.
pub struct AlertView {
    pub a: super::alerts::ShownAlert,
    pub evidence: super::alerts::EvidenceView,
    pub disposition: String,
    pub link: bool,
}

#[derive(Template)]
#[template(path = "customer.html")]
struct CustomerPage {
    layout: Layout,
    key: String,
    href: String,
    fields: Vec<(&'static str, String)>,
    band: String,
    band_label: String,
    score: String,
    factors: Vec<FactorView>,
    health_svg: String,
    sections: Vec<Section>,
    alerts: Vec<AlertView>,
    open_cases: Vec<(String, String, String)>,
    segments: Vec<(String, String)>,
    masked: bool,
    unmasked: bool,
    can_unmask: bool,
    /// Characters an unmask reason needs.
    reason_min: usize,
    can_export: bool,
    can_erase: bool,
    erased: bool,
    erased_now: bool,
    recs: Vec<RecView>,
    model_scores: Vec<(String, String)>,
    can_record: bool,
    /// May open a complaint for the customer.
    can_work_cases: bool,
    notice: String,
    derived: DerivedView,
    risk_history: Vec<RiskView>,
}

/// One risk-tolerance assessment as the 360 shows it.
pub struct RiskView {
    assessed_on: String,
    tolerance: String,
    score: String,
    source: String,
    validity: String,
    current: bool,
    recorded_by: String,
}

/// The derived profile in the viewer's language.
pub struct DerivedView {
    as_of: String,
    stage: String,
    stage_code: String,
    stage_why: String,
    channels: String,
    channel_shares: Vec<String>,
    spending: Vec<String>,
    events: Vec<EventView>,
}

/// One life event with its evidence.
pub struct EventView {
    kind: String,
    kind_code: String,
    on: String,
    text: String,
    evidence: Vec<String>,
}

/// A stored tolerance code (`c3`) as `C3 平衡型` / `C3 balanced`.
fn tolerance_words(code: &str, zh: bool) -> String {
    match rapport_domain::RiskTolerance::parse(code) {
        Ok(t) => {
            let (c, en, z) = rapport_matching::questionnaire::label(t);
            format!("{c} {}", if zh { z } else { en })
        }
        Err(_) => code.to_string(),
    }
}

/// The derived profile's sentences name amounts as analytics writes them
/// (`¥1234.56`, `¥-70.72`): each is shown through [`present::yuan`]
/// (`¥1,234.56`, `-¥70.72`), the one way money is shown.
fn amounts(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while let Some(i) = rest.find('¥') {
        out.push_str(&rest[..i]);
        let after = &rest[i + '¥'.len_utf8()..];
        let neg = after.starts_with('-');
        let num = after.strip_prefix('-').unwrap_or(after);
        let whole = num.bytes().take_while(u8::is_ascii_digit).count();
        let cents = num[whole..]
            .strip_prefix('.')
            .filter(|c| c.len() >= 2 && c.as_bytes()[..2].iter().all(u8::is_ascii_digit));
        let minor = cents.and_then(|c| {
            let major: i64 = num[..whole].parse().ok()?;
            major.checked_mul(100)?.checked_add(c[..2].parse().ok()?)
        });
        match (minor, cents) {
            (Some(m), Some(c)) if whole > 0 => {
                out.push_str(&present::yuan(if neg { -m } else { m }));
                rest = &c[2..];
            }
            _ => {
                out.push('¥');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn derived_view(d: &rapport_analytics::profile::DerivedProfile, zh: bool) -> DerivedView {
    let pick = |en: &str, z: &str| if zh { z.to_string() } else { en.to_string() };
    DerivedView {
        as_of: d.as_of.to_string(),
        stage: pick(d.lifecycle.stage_en, d.lifecycle.stage_zh),
        stage_code: d.lifecycle.stage_en.to_string(),
        stage_why: amounts(&pick(&d.lifecycle.en, &d.lifecycle.zh)),
        channels: pick(&d.channels.en, &d.channels.zh),
        channel_shares: d
            .channels
            .shares
            .iter()
            .map(|s| {
                format!(
                    "{} {:.0}%",
                    pick(s.channel_en, s.channel_zh),
                    s.share * 100.0
                )
            })
            .collect(),
        spending: d
            .spending
            .iter()
            .take(8)
            .map(|s| {
                format!(
                    "{} {} ({:.0}%)",
                    pick(s.category_en, s.category_zh),
                    present::yuan(s.amount),
                    s.share * 100.0
                )
            })
            .collect(),
        events: d
            .life_events
            .iter()
            .map(|e| EventView {
                kind: pick(e.kind_en, e.kind_zh),
                kind_code: serde_json::to_value(e.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                on: e.on.to_string(),
                text: amounts(&pick(&e.en, &e.zh)),
                evidence: e
                    .evidence
                    .iter()
                    .map(|x| {
                        let what = match (x.entity, zh) {
                            ("loan", true) => "贷款",
                            ("loan", false) => "loan",
                            (_, true) => "交易",
                            (_, false) => "transaction",
                        };
                        format!("{what} #{} {} {}", x.id, x.on, present::yuan(x.amount))
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// One next best action as the 360 shows it (texts in the viewer's language).
pub struct RecView {
    pub id: i64,
    pub label: String,
    pub product: String,
    /// The product in plain language and its fees, in the viewer's language.
    pub about: String,
    pub priority: String,
    pub channel: String,
    pub status: String,
    pub status_label: String,
    pub reasons: Vec<String>,
    pub open: bool,
}

/// The stored actions and active model scores of a customer, for the page.
async fn recommendation_views(
    app: &AppState,
    v: &Viewer,
    customer_id: i64,
) -> Result<(Vec<RecView>, Vec<(String, String)>), PageError> {
    let t = crate::i18n::Tr::new(app.lang_of(&v.user));
    let zh = t.lang == crate::i18n::Lang::ZhCn;
    let recs = app.store.customer_recommendations(customer_id, 5).await?;
    let views = recs
        .iter()
        .map(|r| {
            let detail: serde_json::Value =
                serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::Null);
            let product = detail["product"]
                .as_object()
                .map(|p| {
                    let name = p
                        .get(if zh { "name_zh" } else { "name_en" })
                        .and_then(|x| x.as_str())
                        .unwrap_or_default();
                    let risk = p.get("risk").and_then(|x| x.as_str()).unwrap_or_default();
                    format!(
                        "{} {name} ({risk})",
                        r.product_code.as_deref().unwrap_or_default()
                    )
                })
                .unwrap_or_default();
            let reasons = detail["reasons"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x[if zh { "zh" } else { "en" }].as_str())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            let text = |k: &str| {
                detail["product"][format!("{k}_{}", if zh { "zh" } else { "en" })]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            };
            let about = [text("description"), text("fees")]
                .into_iter()
                .filter(|x| !x.is_empty())
                .collect::<Vec<_>>()
                .join(if zh { "；" } else { "; " });
            RecView {
                id: r.id,
                label: t.s(&format!("c360.rec_{}", r.action)).to_string(),
                product,
                about,
                priority: format!("{:.3}", r.priority),
                channel: present::word(
                    &t,
                    "channel",
                    detail["channel"].as_str().unwrap_or_default(),
                ),
                status: r.status.clone(),
                status_label: t.s(&format!("c360.rec_{}", r.status)).to_string(),
                reasons,
                open: r.status == "proposed" || r.status == "offered",
            }
        })
        .collect();
    let scores = app
        .store
        .customer_model_scores(customer_id)
        .await?
        .into_iter()
        .map(|s| {
            let kind = match s.kind.split_once(':') {
                Some((_, cat)) => format!(
                    "{} · {}",
                    t.s("c360.model.propensity"),
                    rapport_matching::Category::parse(cat)
                        .map(|c| if zh {
                            c.label_zh().to_string()
                        } else {
                            c.as_str().replace('_', " ")
                        })
                        .unwrap_or_else(|| cat.to_string())
                ),
                None => {
                    let key = format!("c360.model.{}", s.kind);
                    if crate::i18n::has(&key) {
                        t.s(&key).to_string()
                    } else {
                        s.kind.clone()
                    }
                }
            };
            (
                format!("{kind} v{} ({})", s.version, s.as_of),
                present::percent(s.probability),
            )
        })
        .collect();
    Ok((views, scores))
}

/// A segment's name (and what it is) in the viewer's language, from the
/// one source of segment names ([`super::segments::words`]).
fn segment_words(
    t: &Tr,
    s: &Map<String, Value>,
    all: &[rapport_store::SegmentRow],
) -> (String, String) {
    let code = s.get("code").and_then(Value::as_str).unwrap_or_default();
    let name = s.get("name").and_then(Value::as_str).unwrap_or_default();
    let desc = all
        .iter()
        .find(|x| x.code == code)
        .map(|x| x.description.as_str())
        .unwrap_or_default();
    super::segments::words(t, code, name, desc)
}

async fn customer_page(
    app: &AppState,
    v: &Viewer,
    read: &Read360,
    unmasked: bool,
    erased_now: bool,
    notice: String,
) -> Result<Response, PageError> {
    let c = &read.customer;
    let (recs, model_scores) = recommendation_views(app, v, c.profile.id).await?;
    let href = format!("/customers/{}", enc(&c.profile.key));
    let layout = Layout::new(app, v, "/customers", &href);
    let t = layout.t;
    let p = &c.profile;
    let zh = t.lang == Lang::ZhCn;
    let ctx = Ctx {
        t,
        offset: app.offset(),
    };
    let text = |o: &Option<String>| o.clone().unwrap_or_default();
    let fields: Vec<(&'static str, String)> = vec![
        ("cust.key", p.key.clone()),
        (
            "cust.name",
            if p.erased_at.is_some() {
                t.s("cust.erased").to_string()
            } else {
                text(&p.name)
            },
        ),
        (
            "c360.gender",
            p.gender
                .as_deref()
                .map(|g| present::word(&t, "gender", g))
                .unwrap_or_default(),
        ),
        (
            "c360.birth_date",
            read.birth_date.clone().unwrap_or_default(),
        ),
        ("cust.id_number", text(&p.id_number)),
        ("cust.phone", text(&p.phone)),
        ("c360.email", text(&p.email)),
        ("c360.city", text(&p.city)),
        ("c360.occupation", text(&p.occupation)),
        (
            "c360.income",
            p.annual_income.map(present::money).unwrap_or_default(),
        ),
        (
            "c360.risk_tolerance",
            match (&p.risk_tolerance, p.risk_assessed_on) {
                (Some(r), Some(d)) => format!(
                    "{} ({} {d})",
                    tolerance_words(r, zh),
                    t.s("c360.assessed_on")
                ),
                (Some(r), None) => tolerance_words(r, zh),
                _ => String::new(),
            },
        ),
        (
            "c360.tier",
            p.tier
                .as_deref()
                .map(|x| present::word(&t, "segment", x))
                .unwrap_or_default(),
        ),
        (
            "cust.branch",
            format!("{} {}", text(&p.branch_code), text(&p.branch_name))
                .trim()
                .to_string(),
        ),
        (
            "cust.rm",
            match (&p.rm_name, p.rm_assigned_at) {
                (Some(n), Some(at)) => {
                    format!("{n} ({} {})", t.s("c360.rm_since"), at.format("%Y-%m-%d"))
                }
                _ => text(&p.rm_name),
            },
        ),
    ];
    let last = c.health_history.last();
    let factors = last
        .and_then(|h| h.factors.as_array())
        .map(|a| {
            a.iter()
                .map(|f| {
                    // The factor's words in the page's language (scores
                    // stored before issue 17 have English only).
                    let label = if zh { f.get("label_zh") } else { None }
                        .filter(|l| !l.is_null())
                        .or_else(|| f.get("label"))
                        .and_then(|l| l.as_str())
                        .map(str::to_string)
                        .unwrap_or_default();
                    let feature = f.get("feature").and_then(Value::as_str).unwrap_or_default();
                    let ev = read.factor_evidence.iter().find(|e| e.feature == feature);
                    FactorView {
                        label,
                        impact: f
                            .get("impact")
                            .and_then(Value::as_f64)
                            .map(|x| format!("{x:.1}"))
                            .unwrap_or_default(),
                        anchor: format!("factor-{feature}"),
                        window: ev
                            .map(|e| {
                                format!(
                                    "{} – {}",
                                    e.evidence.from,
                                    e.evidence.to.pred_opt().unwrap_or(e.evidence.to)
                                )
                            })
                            .unwrap_or_default(),
                        kind: ev
                            .map(|e| {
                                let k = serde_json::to_value(e.evidence.transactions)
                                    .ok()
                                    .and_then(|v| v.as_str().map(str::to_string))
                                    .unwrap_or_default();
                                present::word(&t, "evidence_kind", &k)
                            })
                            .unwrap_or_default(),
                        has_evidence: ev.is_some(),
                        txns: ev
                            .map(|e| {
                                e.transactions
                                    .iter()
                                    .map(|x| {
                                        vec![
                                            Cell {
                                                text: x.booked_on.to_string(),
                                                href: String::new(),
                                                num: false,
                                            },
                                            Cell {
                                                text: present::money(x.amount),
                                                href: String::new(),
                                                num: true,
                                            },
                                            Cell {
                                                text: present::word(
                                                    &t,
                                                    "txn_category",
                                                    &x.category,
                                                ),
                                                href: String::new(),
                                                num: false,
                                            },
                                            Cell {
                                                text: present::word(&t, "channel", &x.channel),
                                                href: String::new(),
                                                num: false,
                                            },
                                            Cell {
                                                text: x.source_key.clone(),
                                                href: String::new(),
                                                num: false,
                                            },
                                        ]
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let series = [Series {
        name: t.s("cust.score").to_string(),
        colour: "#1f5fbf",
        points: c
            .health_history
            .iter()
            .map(|h| (h.as_of.to_string(), h.score))
            .collect(),
    }];
    let health_svg = charts::lines(
        t.s("c360.health"),
        t.s("common.no_data"),
        &series,
        Some(100.0),
        &[(40.0, t.s("band.at_risk")), (70.0, t.s("band.healthy"))],
    );
    let masked = !read.masked.is_empty();
    let sections = sections(&ctx, c);
    // The alerts with their evidence (the 360's own section has no evidence column).
    let rows = app
        .store
        .alerts_in_scope(
            &v.scope(),
            &rapport_store::ScopedAlertFilter {
                customer_id: Some(c.profile.id),
                limit: 50,
                ..Default::default()
            },
        )
        .await?
        .0;
    let link = v.can(Permission::WorkAlerts);
    let alerts = rows
        .iter()
        .map(|a| {
            let mut shown = super::alerts::shown(&t, v, a);
            shown.rule_name = super::alerts::rule_name(&t, Some(app), &a.rule);
            shown.message =
                super::alerts::rule_message(&t, Some(app), &a.rule, &a.message, &a.evidence);
            shown.can_ack = false;
            AlertView {
                a: shown,
                evidence: super::alerts::evidence_view(&t, &a.evidence),
                disposition: a
                    .disposition
                    .as_deref()
                    .map(|d| t.s(&format!("disp.{d}")).to_string())
                    .unwrap_or_default(),
                link,
            }
        })
        .collect();
    let open_cases = c
        .support_cases
        .iter()
        .filter(|r| {
            let st = raw(r, "state");
            st != "closed" && st != "resolved"
        })
        .map(|r| {
            let state = cell(&ctx, r, "state", Show::CaseState).text;
            (raw(r, "id"), state, raw(r, "subject"))
        })
        .collect();
    let all_segments = app.store.segments().await?;
    let derived = derived_view(&read.derived, zh);
    let risk_history = read
        .risk_assessments
        .iter()
        .map(|a| RiskView {
            assessed_on: a.assessed_on.to_string(),
            tolerance: format!(
                "{} {}",
                a.tolerance,
                if zh { a.tolerance_zh } else { a.tolerance_en }
            ),
            score: a.score.map(|s| s.to_string()).unwrap_or_default(),
            source: t.s(&format!("c360.risk_source_{}", a.source)).to_string(),
            validity: format!(
                "{} ({} {})",
                t.s(if a.valid {
                    "c360.risk_valid"
                } else {
                    "c360.risk_expired"
                }),
                t.s("c360.risk_expires"),
                a.expires_on.pred_opt().unwrap_or(a.expires_on)
            ),
            current: a.current,
            recorded_by: a.recorded_by.clone(),
        })
        .collect();
    let page = CustomerPage {
        key: p.key.clone(),
        href,
        fields,
        band: last.map(|h| h.band.clone()).unwrap_or_default(),
        band_label: last
            .map(|h| t.s(&format!("band.{}", h.band)).to_string())
            .unwrap_or_default(),
        score: last.map(|h| format!("{:.1}", h.score)).unwrap_or_default(),
        factors,
        health_svg,
        sections,
        alerts,
        open_cases,
        segments: c
            .segments
            .iter()
            .map(|s| segment_words(&t, s, &all_segments))
            .collect(),
        masked,
        unmasked,
        can_unmask: masked && v.can(Permission::Unmask),
        reason_min: app.services.settings.masking.reason_min_chars,
        can_export: v.can(Permission::ExportCustomer),
        can_erase: v.can(Permission::EraseCustomer) && p.erased_at.is_none(),
        erased: p.erased_at.is_some(),
        erased_now,
        recs,
        model_scores,
        can_record: v.can(Permission::RecordOutcomes),
        can_work_cases: v.can(Permission::WorkCases) && p.erased_at.is_none(),
        notice,
        derived,
        risk_history,
        layout,
    };
    render(&page)
}

async fn show(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(key): Path<String>,
) -> Result<Response, PageError> {
    let read = customers::read_360(&app.services, &v, "ui", &key, Reading::View).await?;
    customer_page(&app, &v, &read, false, false, String::new()).await
}

#[derive(Deserialize)]
struct UnmaskForm {
    csrf: String,
    #[serde(default)]
    reason: String,
}

async fn unmask(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(key): Path<String>,
    Form(f): Form<UnmaskForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    let read = customers::read_360(
        &app.services,
        &v,
        "ui",
        &key,
        Reading::Unmask { reason: f.reason },
    )
    .await?;
    customer_page(&app, &v, &read, true, false, String::new()).await
}

async fn export(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(key): Path<String>,
) -> Result<Response, PageError> {
    let e = customers::export(&app.store, &v.actor(), "ui", &key).await?;
    let id = e.customer_id;
    let body = serde_json::to_vec_pretty(&e).map_err(|e| PageError::Internal(e.into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"customer-{id}.json\""),
            ),
        ],
        body,
    )
        .into_response())
}

#[derive(Deserialize)]
struct EraseForm {
    csrf: String,
    reason: String,
}

/// Files an erasure request with its reason; a second administrator
/// approves it on /admin before anything is erased.
async fn erase(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(key): Path<String>,
    Form(f): Form<EraseForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    rapport_services::privacy::request_erasure(&app.store, &v.actor(), "ui", &key, &f.reason)
        .await?;
    Ok(Redirect::to("/admin#erasures").into_response())
}

#[derive(Deserialize)]
struct OutcomeForm {
    csrf: String,
    outcome: String,
}

/// Records offered / accepted / declined from the 360 (suitability checked
/// again at offer and at sale; a blocked one is shown, not recorded).
async fn recommendation_outcome(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path((key, rec_id)): Path<(String, i64)>,
    Form(f): Form<OutcomeForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    require(&v, Permission::RecordOutcomes)?;
    let read = customers::read_360(&app.services, &v, "ui", &key, Reading::View).await?;
    let c = &read.customer;
    let rec = app
        .store
        .recommendation(rec_id)
        .await?
        .filter(|r| r.customer_id == c.profile.id)
        .ok_or(PageError::NotFound)?;
    let notice = match rapport_services::recommendations::record_outcome_as(
        &app.store,
        &app.services.settings.matching,
        &v.actor(),
        "ui",
        rec.id,
        &f.outcome,
        Some("ui"),
        None,
    )
    .await
    {
        Ok(_) => String::new(),
        Err(
            rapport_services::error::ServiceError::Invalid { message, .. }
            | rapport_services::error::ServiceError::Refused(message),
        ) => message,
        Err(e) => return Err(e.into()),
    };
    customer_page(&app, &v, &read, false, false, notice).await
}
