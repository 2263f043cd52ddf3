//! The audit log, for auditors: who read or changed what, when and from
//! where — filtered by actor, action (or a family of actions), customer
//! (key or id) and a date range in the configured zone; sorted by time,
//! actor or action; paged; exported as CSV. Actions are shown as words of
//! the catalogue (`code.audit.<action>`), times in the configured zone, and
//! the reason an unmasking (or an erasure request) gave is its own column.

use super::list::{csv_response, qv, sort_href, ListQuery};
use super::{opt, render, require, Layout};
use crate::auth::{PageUser, Permission};
use crate::error::PageError;
use crate::i18n::{Text, Tr};
use crate::present::{time, word};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use rapport_services::saved_views::List as SavedList;
use rapport_store::{AuditQuery, AuditRow, Scope};
use serde::Deserialize;

pub const TEXTS: &[Text] = &[
    ("code.denial.forbidden", "无权限", "Forbidden"),
    (
        "code.denial.not_found_or_out_of_scope",
        "未找到或不在权限范围内",
        "Not found or out of scope",
    ),
    (
        "code.denial.rate_limited",
        "超出频率限制",
        "Over the rate limit",
    ),
    ("code.denial.refused", "已拒绝", "Refused"),
    ("audit.title", "审计日志", "Audit log"),
    ("audit.at", "时间", "Time"),
    ("audit.actor", "操作人", "Actor"),
    ("audit.role", "角色", "Role"),
    ("audit.action", "操作", "Action"),
    ("audit.any_action", "全部操作", "Any action"),
    ("audit.entity", "对象", "Entity"),
    ("audit.customer", "客户", "Customer"),
    ("audit.client", "来源地址", "Client"),
    ("audit.detail", "详情", "Detail"),
    ("audit.reason", "原因", "Reason"),
    ("audit.from", "起始日期", "From"),
    ("audit.to", "截止日期", "To"),
    ("audit.entries", "条记录", "entries"),
    ("audit.csv", "导出 CSV", "Export CSV"),
    (
        "audit.bad_date",
        "日期格式应为 YYYY-MM-DD，已忽略。",
        "A date must be YYYY-MM-DD; it was ignored.",
    ),
    (
        "audit.unknown_customer",
        "找不到该客户。",
        "No customer has that key.",
    ),
    ("code.audit.access.denied", "拒绝访问", "access denied"),
    ("code.audit.session.login", "登录", "signed in"),
    ("code.audit.session.logout", "退出登录", "signed out"),
    (
        "code.audit.customer.view",
        "查看客户全景",
        "viewed a customer",
    ),
    (
        "code.audit.customer.unmask",
        "查看完整个人信息",
        "unmasked personal data",
    ),
    (
        "code.audit.customer.search",
        "搜索客户",
        "searched customers",
    ),
    (
        "code.audit.customer.search_identifier",
        "按证件/电话搜索客户",
        "searched by identifier",
    ),
    (
        "code.audit.customer.export",
        "导出客户数据",
        "exported a customer",
    ),
    (
        "code.audit.customer.erase",
        "删除个人信息",
        "erased personal data",
    ),
    (
        "code.audit.customer.erase_request",
        "申请删除个人信息",
        "requested an erasure",
    ),
    (
        "code.audit.customer.erase_approve",
        "批准删除个人信息",
        "approved an erasure",
    ),
    (
        "code.audit.customer.erase_reject",
        "驳回删除申请",
        "rejected an erasure",
    ),
    (
        "code.audit.customer.assign_rm",
        "分配客户经理",
        "assigned an RM",
    ),
    (
        "code.audit.customer.view_health",
        "查看健康评分",
        "viewed a health score",
    ),
    (
        "code.audit.customer.view_recommendations",
        "查看推荐",
        "viewed recommendations",
    ),
    ("code.audit.alert.view", "查看预警", "viewed an alert"),
    ("code.audit.alert.assign", "分派预警", "assigned an alert"),
    ("code.audit.alert.new", "预警重新打开", "reopened an alert"),
    (
        "code.audit.alert.acknowledged",
        "确认预警",
        "acknowledged an alert",
    ),
    ("code.audit.alert.actioned", "处置预警", "actioned an alert"),
    ("code.audit.alert.closed", "关闭预警", "closed an alert"),
    ("code.audit.case.open", "新建工单", "opened a case"),
    ("code.audit.case.view", "查看工单", "viewed a case"),
    ("code.audit.case.step", "推进工单", "moved a case on"),
    ("code.audit.case.extend", "延长工单期限", "extended a case"),
    (
        "code.audit.case.reclassify",
        "重新分类工单",
        "reclassified a case",
    ),
    ("code.audit.user.create", "新建用户", "created a user"),
    ("code.audit.user.update", "修改用户", "changed a user"),
    ("code.audit.user.enable", "启用用户", "enabled a user"),
    ("code.audit.user.disable", "停用用户", "disabled a user"),
    ("code.audit.user.password", "重置密码", "reset a password"),
    (
        "code.audit.user.password_change",
        "修改本人密码",
        "changed own password",
    ),
    (
        "code.audit.token.create",
        "新建 API 令牌",
        "created an API token",
    ),
    (
        "code.audit.token.revoke",
        "吊销 API 令牌",
        "revoked an API token",
    ),
    (
        "code.audit.campaign.save",
        "保存营销活动",
        "saved a campaign",
    ),
    (
        "code.audit.campaign.launch",
        "启动营销活动",
        "launched a campaign",
    ),
    (
        "code.audit.campaign.response",
        "记录活动反馈",
        "recorded a campaign response",
    ),
    (
        "code.audit.consent.record",
        "记录客户授权",
        "recorded a consent",
    ),
    (
        "code.audit.contact.do_not_disturb",
        "设置免打扰",
        "set do-not-disturb",
    ),
    ("code.audit.contact_log.add", "记录联系", "logged a contact"),
    (
        "code.audit.contact_task.add",
        "新建联系任务",
        "added a contact task",
    ),
    (
        "code.audit.recommendation.outcome",
        "记录推荐结果",
        "recorded a recommendation outcome",
    ),
    (
        "code.audit.risk_assessment.record",
        "记录风险评估",
        "recorded a risk assessment",
    ),
    (
        "code.audit.risk_assessment.view",
        "查看风险评估",
        "viewed a risk assessment",
    ),
    ("code.audit.rm.assign", "分配客户经理", "assigned an RM"),
    (
        "code.audit.rm.capacity",
        "设置客户经理容量",
        "set RM capacity",
    ),
    ("code.audit.survey.invite", "发送问卷", "sent a survey"),
    ("code.audit.model.activate", "启用模型", "activated a model"),
    (
        "code.audit.model.rollback",
        "回退模型",
        "rolled back a model",
    ),
    (
        "code.audit.improvement.add",
        "新增改进事项",
        "added an improvement",
    ),
    (
        "code.audit.improvement.status",
        "更新改进事项",
        "updated an improvement",
    ),
    (
        "code.audit.transactions.feed",
        "接入实时交易",
        "fed live transactions",
    ),
];

pub fn routes() -> Router<AppState> {
    Router::new().route("/audit", get(audit))
}

#[derive(Deserialize, Default)]
struct AuditParams {
    actor: Option<String>,
    action: Option<String>,
    customer: Option<String>,
    from: Option<String>,
    to: Option<String>,
    #[serde(flatten)]
    list: ListQuery,
}

/// One entry as shown.
pub struct EntryView {
    pub at: String,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub action_code: String,
    pub entity: String,
    pub customer: String,
    pub client: String,
    pub reason: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "audit_log.html")]
struct AuditPage {
    layout: Layout,
    actor: String,
    action: String,
    /// (code, word) of every action in the log.
    actions: Vec<(String, String)>,
    customer: String,
    from: String,
    to: String,
    rows: Vec<EntryView>,
    total: i64,
    page: u32,
    prev_href: String,
    next_href: String,
    csv_href: String,
    /// Sort links: time, actor, action.
    sort_links: [String; 3],
    warnings: Vec<&'static str>,
    saved: super::saved_views::SavedBar,
}

const PER_PAGE: i64 = 100;
/// Entries at most in one CSV export.
const CSV_MAX: i64 = 100_000;

/// The start of local day `d` in UTC.
fn local_midnight(d: NaiveDate, off: FixedOffset) -> DateTime<Utc> {
    let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    off.from_local_datetime(&naive)
        .single()
        .map(|x| x.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
}

/// The reason an entry's detail gives (an unmasking, an erasure request).
/// The reason an entry carries: a refusal's code as words
/// (`code.denial.<code>`), a person's own words (an unmasking) as written.
fn reason_of(detail: &str, t: &Tr) -> String {
    let reason = serde_json::from_str::<serde_json::Value>(detail)
        .ok()
        .and_then(|v| v.get("reason").and_then(|r| r.as_str()).map(str::to_string))
        .unwrap_or_default();
    crate::present::word(t, "denial", &reason)
}

fn view(r: &AuditRow, t: &Tr, off: FixedOffset, key_of: &dyn Fn(i64) -> String) -> EntryView {
    let e = &r.entry;
    EntryView {
        at: time(e.at, off),
        actor: e.actor.clone(),
        role: if crate::i18n::has(&format!("role.{}", e.role)) {
            t.s(&format!("role.{}", e.role)).to_string()
        } else {
            e.role.clone()
        },
        action: word(t, "audit", &e.action),
        action_code: e.action.clone(),
        entity: match &e.entity_id {
            Some(id) => format!("{} {id}", word(t, "audit_entity", &e.entity)),
            None => word(t, "audit_entity", &e.entity),
        },
        customer: e.customer_id.map(key_of).unwrap_or_default(),
        client: e.client.clone().unwrap_or_default(),
        reason: reason_of(&e.detail, t),
        detail: e.detail.clone(),
    }
}

async fn audit(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    RawQuery(raw): RawQuery,
    Query(q): Query<AuditParams>,
) -> Result<Response, PageError> {
    require(&v, Permission::ViewAudit)?;
    let off = app.offset();
    let mut warnings = Vec::new();
    let mut day = |s: &Option<String>| match opt(s) {
        None => None,
        Some(d) => match NaiveDate::parse_from_str(&d, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                warnings.push("audit.bad_date");
                None
            }
        },
    };
    let from = day(&q.from);
    let to = day(&q.to);
    // A customer by key (the bank's), `#id` or a bare id.
    let customer_id = match opt(&q.customer) {
        None => None,
        Some(c) => {
            let by_key = app.store.customer_id_by_key(&Scope::All, &c).await.ok();
            let by_id = c.trim_start_matches('#').parse::<i64>().ok();
            match by_key.or(by_id) {
                Some(id) => Some(id),
                None => {
                    warnings.push("audit.unknown_customer");
                    Some(-1)
                }
            }
        }
    };
    let sort = q.list.sort_or(&["at", "actor", "action"], "at");
    let desc = q.list.descending(true);
    let page_no = q.list.page();
    let csv = q.list.wants_csv();
    let f = AuditQuery {
        actor: opt(&q.actor),
        action: opt(&q.action),
        customer_id,
        since: from.map(|d| local_midnight(d, off)),
        until: to.map(|d| local_midnight(d + chrono::Duration::days(1), off)),
        sort: sort.to_string(),
        desc,
        limit: if csv { CSV_MAX } else { PER_PAGE },
        offset: if csv {
            0
        } else {
            (i64::from(page_no) - 1) * PER_PAGE
        },
    };
    let (rows, total) = app.store.audit_page(&f).await?;
    let layout_t = Tr::new(app.lang_of(&v.user));
    // Customers as their keys (the bank's own), one lookup each.
    let mut keys = std::collections::HashMap::new();
    for r in &rows {
        if let Some(c) = r.entry.customer_id {
            if let std::collections::hash_map::Entry::Vacant(e) = keys.entry(c) {
                let key = app
                    .store
                    .customer_key_of(c)
                    .await
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| format!("#{c}"));
                e.insert(key);
            }
        }
    }
    let key_of = |c: i64| keys.get(&c).cloned().unwrap_or_else(|| format!("#{c}"));
    let views: Vec<EntryView> = rows
        .iter()
        .map(|r| view(r, &layout_t, off, &key_of))
        .collect();
    if csv {
        let t = layout_t;
        let head: Vec<String> = [
            "audit.at",
            "audit.actor",
            "audit.role",
            "audit.action",
            "audit.entity",
            "audit.customer",
            "audit.client",
            "audit.reason",
            "audit.detail",
        ]
        .iter()
        .map(|k| t.s(k).to_string())
        .collect();
        let body: Vec<Vec<String>> = views
            .into_iter()
            .map(|e| {
                vec![
                    e.at, e.actor, e.role, e.action, e.entity, e.customer, e.client, e.reason,
                    e.detail,
                ]
            })
            .collect();
        return Ok(csv_response("audit-log.csv", &head, &body));
    }
    let mut base = Vec::new();
    for (k, val) in [
        ("actor", &q.actor),
        ("action", &q.action),
        ("customer", &q.customer),
        ("from", &q.from),
        ("to", &q.to),
    ] {
        if let Some(val) = opt(val) {
            base.push(format!("{k}={}", qv(&val)));
        }
    }
    let base = base.join("&");
    let sep = if base.is_empty() { "" } else { "&" };
    let dir = if desc { "desc" } else { "asc" };
    let href = |p: i64| format!("/audit?{base}{sep}sort={sort}&dir={dir}&page={p}");
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let cur = i64::from(page_no);
    let here = href(cur);
    let layout = Layout::new(&app, &v, "/audit", &here);
    let t = layout.t;
    let mut actions: Vec<(String, String)> = app
        .store
        .audit_actions()
        .await?
        .into_iter()
        .map(|a| {
            let w = word(&t, "audit", &a);
            (a, w)
        })
        .collect();
    actions.sort_by(|a, b| a.1.cmp(&b.1));
    let saved = super::saved_views::bar(&app, &v, &t, SavedList::Audit, raw.as_deref()).await?;
    render(&AuditPage {
        saved,
        actor: opt(&q.actor).unwrap_or_default(),
        action: opt(&q.action).unwrap_or_default(),
        actions,
        customer: opt(&q.customer).unwrap_or_default(),
        from: from.map(|d| d.to_string()).unwrap_or_default(),
        to: to.map(|d| d.to_string()).unwrap_or_default(),
        rows: views,
        total,
        page: page_no,
        prev_href: if cur > 1 {
            href(cur - 1)
        } else {
            String::new()
        },
        next_href: if cur < pages {
            href(cur + 1)
        } else {
            String::new()
        },
        csv_href: format!("/audit?{base}{sep}sort={sort}&dir={dir}&format=csv"),
        sort_links: ["at", "actor", "action"].map(|c| sort_href("/audit", &base, c, sort, desc)),
        warnings,
        layout,
    })
}
