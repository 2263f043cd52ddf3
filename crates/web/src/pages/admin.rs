//! Administration: users (create with a generated password shown once,
//! change role and branch, enable or disable, reset a password — the user
//! must change it at next sign-in), service accounts for machines, the
//! rights of each role, branches with their sizes, RM assignment, and API
//! tokens (create — for oneself or a service account, shown once —, list
//! with who created each, revoke). Who may hold whose tokens is the
//! services' rule (`staff::create_token`). Every change is audited.
//!
//! The user list is searched (user name or name) and paged, with each
//! user's last sign-in and failed sign-ins; one user is edited on their own
//! page (`/admin/users/{id}`), so the page stays small with thousands of
//! staff. A new user gets the role with the fewest rights
//! (`staff::least_privileged_role`). Erasing a customer's personal data
//! takes two administrators (`privacy::request_erasure` /
//! `approve_erasure`).

use super::list::{qv, sort_href, ListQuery};
use super::{check_csrf, opt, render, require, Layout};
use crate::auth::{PageUser, Permission, Role, Viewer};
use crate::error::PageError;
use crate::i18n::Text;
use crate::present::{time, word};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use rapport_services::{privacy, staff};
use rapport_store::{ApiTokenRow, BranchRow, StaffQuery, StaffUser};
use serde::Deserialize;

pub const TEXTS: &[Text] = &[
    ("admin.title", "系统管理", "Administration"),
    ("admin.users", "用户", "Users"),
    ("admin.roles", "角色权限", "Roles and rights"),
    ("admin.branches", "网点", "Branches"),
    ("admin.assign", "客户经理分配", "RM assignment"),
    ("admin.tokens", "API 令牌", "API tokens"),
    ("admin.username", "用户名", "User name"),
    ("admin.display_name", "姓名", "Name"),
    ("admin.role", "角色", "Role"),
    ("admin.branch", "网点", "Branch"),
    ("admin.active", "启用", "Active"),
    ("admin.create_user", "新建用户", "Create user"),
    ("admin.save", "保存", "Save"),
    (
        "admin.created",
        "已创建，初始密码（仅显示一次）：",
        "Created; initial password (shown once):",
    ),
    (
        "admin.token_created",
        "令牌（仅显示一次，请妥善保存）：",
        "Token (shown once, keep it secret):",
    ),
    ("admin.token_name", "用途", "Purpose"),
    ("admin.token_user", "所属用户", "User"),
    ("admin.create_token", "新建令牌", "Create token"),
    ("admin.revoke", "吊销", "Revoke"),
    ("admin.token_self", "本人", "Yourself"),
    (
        "admin.token_rule",
        "令牌只能为本人或服务账号创建；不能为其他人创建。",
        "A token is for yourself or a service account, never for another person.",
    ),
    ("admin.token_id", "编号", "Id"),
    ("admin.token_created_at", "创建时间", "Created"),
    ("admin.created_by", "创建人", "Created by"),
    ("admin.by_system", "系统（命令行）", "system (console)"),
    ("admin.service_accounts", "服务账号", "Service accounts"),
    (
        "admin.service_hint",
        "服务账号供系统对接使用：有自己的角色，没有密码，不能登录网页，只能持有管理员创建的 API 令牌。",
        "A service account is for a machine: it has its own role, no password, cannot sign in to the web, and holds the API tokens an administrator creates.",
    ),
    ("admin.create_service", "新建服务账号", "Create service account"),
    ("admin.service_created", "服务账号已创建。", "Service account created."),
    ("admin.kind_service", "服务账号", "service account"),
    ("admin.reset_password", "重置密码", "Reset password"),
    (
        "admin.temp_password",
        "临时密码（留空则自动生成）",
        "Temporary password (empty: generated)",
    ),
    (
        "admin.password_reset",
        "密码已重置，用户下次登录时必须修改。临时密码（仅显示一次）：",
        "Password reset; the user must change it at their next sign-in. Temporary password (shown once):",
    ),
    (
        "admin.password_reset_chosen",
        "密码已重置，用户下次登录时必须修改。",
        "Password reset; the user must change it at their next sign-in.",
    ),
    ("admin.revoked", "已吊销", "revoked"),
    ("admin.customer_key", "客户号", "Customer key"),
    ("admin.rm_username", "客户经理用户名", "RM user name"),
    ("admin.assigned", "已分配。", "Assigned."),
    ("admin.customers", "客户数", "Customers"),
    ("admin.rms", "客户经理数", "RMs"),
    ("admin.head_office", "总行", "Head office"),
    (
        "perm.ViewCustomers",
        "查询客户、查看全景",
        "Search customers, open a 360",
    ),
    (
        "perm.Unmask",
        "查看完整个人信息（审计）",
        "Unmask personal data (audited)",
    ),
    ("perm.WorkAlerts", "处理预警", "Work alerts"),
    ("perm.AssignAlerts", "分派预警", "Assign alerts"),
    ("perm.Workbench", "客户经理工作台", "RM workbench"),
    ("perm.ViewSegments", "客群", "Segments"),
    (
        "perm.ViewDataQuality",
        "数据质量与导入",
        "Data quality and imports",
    ),
    ("perm.ViewAudit", "审计日志", "Audit log"),
    ("perm.Administer", "系统管理", "Administration"),
    (
        "perm.ExportCustomer",
        "导出客户数据",
        "Export customer data",
    ),
    ("perm.EraseCustomer", "删除个人信息", "Erase personal data"),
    (
        "perm.FeedTransactions",
        "实时交易接入",
        "Feed live transactions",
    ),
    (
        "perm.RecordOutcomes",
        "记录推荐结果",
        "Record recommendation outcomes",
    ),
    ("perm.WorkCases", "处理工单与投诉", "Work cases and complaints"),
    ("perm.RunCampaigns", "营销活动", "Run campaigns"),
    ("perm.ViewKpis", "关键指标", "View KPIs"),
    ("perm.RecordConsent", "记录客户授权", "Record consents"),
    ("perm.ManageModels", "模型启用与回退", "Activate or roll back models"),
    ("perm.AssessRisk", "风险承受能力评估", "Record risk assessments"),
    (
        "perm.ApproveCaseExtensions",
        "审批投诉延期",
        "Approve complaint deadline extensions",
    ),
    (
        "perm.ApproveCaseClosure",
        "审批高/严重投诉结案",
        "Approve closing high and critical complaints",
    ),
    (
        "perm.ViewEngagement",
        "查看节日需求与问卷结果",
        "View holiday demand and survey results",
    ),
    (
        "perm.ViewModels",
        "查看模型与预警规则表现",
        "View models and warning-rule performance",
    ),
    ("perm.ApproveCampaigns", "审批营销活动", "Approve campaigns"),
    ("admin.search", "搜索用户名或姓名", "Search user name or name"),
    ("admin.any_role", "全部角色", "Any role"),
    ("admin.status", "状态", "Status"),
    ("admin.last_sign_in", "最近登录", "Last sign-in"),
    ("admin.never", "从未登录", "never"),
    ("admin.failures", "近 24 小时失败登录", "Failed sign-ins (24 h)"),
    ("admin.throttled", "已限制登录", "sign-in throttled"),
    ("admin.disabled", "已停用", "disabled"),
    ("admin.must_change", "须修改密码", "must change password"),
    ("admin.edit", "编辑", "Edit"),
    ("admin.user_title", "编辑用户", "Edit user"),
    ("admin.back", "返回用户列表", "Back to users"),
    ("admin.saved", "已保存。", "Saved."),
    ("admin.count", "名用户", "users"),
    (
        "admin.default_role",
        "新用户默认为权限最少的角色：",
        "A new user gets the role with the fewest rights unless you choose another:",
    ),
    (
        "admin.erasure",
        "删除个人信息（双人审批）",
        "Erasure of personal data (two administrators)",
    ),
    (
        "admin.erasure_hint",
        "一名管理员提出申请，另一名管理员审批后才会删除；申请人不能审批自己的申请。每一步均记入审计日志。",
        "One administrator requests it; nothing is erased until another administrator approves. The requester cannot approve. Every step is audited.",
    ),
    ("admin.erasure_reason", "原因", "Reason"),
    ("admin.erasure_request", "提出删除申请", "Request erasure"),
    (
        "admin.erasure_requested",
        "删除申请已提交，等待另一名管理员审批。",
        "Erasure requested; another administrator must approve it.",
    ),
    (
        "admin.erasure_approved",
        "已审批并删除个人信息。",
        "Approved; the personal data is erased.",
    ),
    ("admin.erasure_rejected", "已驳回删除申请。", "Erasure request rejected."),
    ("admin.approve", "审批并删除", "Approve and erase"),
    ("admin.reject", "驳回", "Reject"),
    ("admin.requested_by", "申请人", "Requested by"),
    ("admin.requested_at", "申请时间", "Requested"),
    ("admin.decided_by", "审批人", "Decided by"),
    (
        "admin.own_request",
        "本人申请，须他人审批",
        "your request: another administrator approves",
    ),
    ("code.erasure.pending", "待审批", "pending"),
    ("code.erasure.approved", "已批准", "approved"),
    ("code.erasure.rejected", "已驳回", "rejected"),
];

/// The permissions `GET /api/v1/me` lists, with their catalogue keys.
pub const PERMISSIONS: [(Permission, &str); 13] = [
    (Permission::ViewCustomers, "perm.ViewCustomers"),
    (Permission::Unmask, "perm.Unmask"),
    (Permission::WorkAlerts, "perm.WorkAlerts"),
    (Permission::AssignAlerts, "perm.AssignAlerts"),
    (Permission::Workbench, "perm.Workbench"),
    (Permission::ViewSegments, "perm.ViewSegments"),
    (Permission::ViewDataQuality, "perm.ViewDataQuality"),
    (Permission::ViewAudit, "perm.ViewAudit"),
    (Permission::Administer, "perm.Administer"),
    (Permission::ExportCustomer, "perm.ExportCustomer"),
    (Permission::EraseCustomer, "perm.EraseCustomer"),
    (Permission::FeedTransactions, "perm.FeedTransactions"),
    (Permission::RecordOutcomes, "perm.RecordOutcomes"),
];

/// The catalogue key of a permission (`perm.<Variant>`).
pub fn permission_key(p: Permission) -> String {
    format!("perm.{p:?}")
}

/// Users per page of the list.
const PER_PAGE: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(admin))
        .route("/admin/users", post(create_user))
        .route("/admin/users/{id}", get(user_page).post(update_user))
        .route("/admin/users/{id}/password", post(reset_password))
        .route("/admin/service-accounts", post(create_service_account))
        .route("/admin/assign", post(assign))
        .route("/admin/tokens", post(create_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
        .route("/admin/erasures", post(request_erasure))
        .route("/admin/erasures/{id}/approve", post(approve_erasure))
        .route("/admin/erasures/{id}/reject", post(reject_erasure))
}

/// One row of the user list.
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub branch: String,
    pub status: String,
    pub last_sign_in: String,
    pub failures: i64,
    pub throttled: bool,
}

/// One erasure request as listed.
pub struct ErasureView {
    pub id: i64,
    pub customer_key: String,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: String,
    pub status: String,
    pub decided_by: String,
    pub pending: bool,
    pub may_approve: bool,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    layout: Layout,
    q: String,
    role_filter: String,
    users: Vec<UserView>,
    total: i64,
    page: u32,
    prev_href: String,
    next_href: String,
    /// Sort links of the user name, name, role and last sign-in columns.
    sort_links: [String; 4],
    /// Active service accounts: who else an administrator may create tokens for.
    services: Vec<StaffUser>,
    roles: Vec<String>,
    /// The catalogue key of the default role's name.
    default_role: String,
    default_role_key: String,
    matrix: Vec<(String, Vec<bool>)>,
    branches: Vec<BranchRow>,
    /// Each token with its creation time as shown.
    tokens: Vec<(ApiTokenRow, String)>,
    erasures: Vec<ErasureView>,
    can_erase: bool,
    notice_key: Option<&'static str>,
    secret: Option<String>,
}

#[derive(Deserialize, Default)]
struct AdminQuery {
    q: Option<String>,
    role: Option<String>,
    notice: Option<String>,
    #[serde(flatten)]
    list: ListQuery,
}

/// The notices a redirect may name (anything else shows none).
const NOTICES: [&str; 6] = [
    "admin.assigned",
    "admin.service_created",
    "admin.erasure_requested",
    "admin.erasure_approved",
    "admin.erasure_rejected",
    "admin.saved",
];

fn notice_of(n: &Option<String>) -> Option<&'static str> {
    let n = n.as_deref()?;
    NOTICES.iter().find(|k| k.ends_with(n)).copied()
}

async fn page(
    app: &AppState,
    v: &Viewer,
    q: &AdminQuery,
    notice_key: Option<&'static str>,
    secret: Option<String>,
) -> Result<Response, PageError> {
    let layout = Layout::new(app, v, "/admin", "/admin");
    let t = layout.t;
    let actor = v.actor();
    let sort = q.list.sort_or(
        &["username", "display_name", "role", "last_sign_in"],
        "username",
    );
    let desc = q.list.descending(false);
    let page_no = q.list.page();
    let role_filter = opt(&q.role)
        .filter(|r| Role::parse(r).is_some())
        .unwrap_or_default();
    let (rows, total) = staff::list_users(
        &app.store,
        &actor,
        &StaffQuery {
            q: opt(&q.q),
            role: Some(role_filter.clone()).filter(|r| !r.is_empty()),
            sort: sort.to_string(),
            desc,
            limit: PER_PAGE,
            offset: (i64::from(page_no) - 1) * PER_PAGE,
            failures_since: None,
        },
    )
    .await?;
    let limit = app.cfg.web.max_failed_logins;
    let off = app.offset();
    let users = rows
        .into_iter()
        .map(|u| {
            let mut status = Vec::new();
            if !u.active {
                status.push(t.s("admin.disabled"));
            }
            if u.service {
                status.push(t.s("admin.kind_service"));
            }
            if u.must_change_password {
                status.push(t.s("admin.must_change"));
            }
            if u.active && status.is_empty() {
                status.push(t.s("admin.active"));
            }
            UserView {
                id: u.id,
                role: word(&t, "role", &u.role),
                branch: u
                    .branch_code
                    .unwrap_or_else(|| t.s("admin.head_office").to_string()),
                status: status.join(" · "),
                last_sign_in: u
                    .last_sign_in
                    .map(|at| time(at, off))
                    .unwrap_or_else(|| t.s("admin.never").to_string()),
                failures: u.recent_failures,
                throttled: u.recent_failures >= limit,
                username: u.username,
                display_name: u.display_name,
            }
        })
        .collect();
    let mut base = Vec::new();
    if let Some(x) = opt(&q.q) {
        base.push(format!("q={}", qv(&x)));
    }
    if !role_filter.is_empty() {
        base.push(format!("role={}", qv(&role_filter)));
    }
    let base = base.join("&");
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let href = |p: i64| {
        let sep = if base.is_empty() { "" } else { "&" };
        format!(
            "/admin?{base}{sep}sort={sort}&dir={}&page={p}",
            if desc { "desc" } else { "asc" }
        )
    };
    let cur = i64::from(page_no);
    let can_erase = v.can(Permission::EraseCustomer);
    let erasures = if can_erase {
        privacy::erasure_requests(&app.store, &actor)
            .await?
            .into_iter()
            .map(|r| ErasureView {
                may_approve: privacy::may_approve(&actor, &r),
                pending: r.status == "pending",
                id: r.id,
                customer_key: r.customer_key,
                reason: r.reason,
                requested_by: r.requested_by_name,
                requested_at: time(r.requested_at, off),
                status: word(&t, "erasure", &r.status),
                decided_by: r.decided_by_name.unwrap_or_default(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let all_users = app.store.staff_users().await?;
    render(&AdminPage {
        q: opt(&q.q).unwrap_or_default(),
        sort_links: ["username", "display_name", "role", "last_sign_in"]
            .map(|c| sort_href("/admin", &base, c, sort, desc)),
        role_filter,
        users,
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
        services: all_users
            .into_iter()
            .filter(|u| u.is_service() && u.active)
            .collect(),
        roles: Role::ALL.iter().map(|r| r.as_str().to_string()).collect(),
        default_role: staff::least_privileged_role().as_str().to_string(),
        default_role_key: format!("role.{}", staff::least_privileged_role().as_str()),
        matrix: staff::ALL_PERMISSIONS
            .iter()
            .map(|p| {
                (
                    permission_key(*p),
                    Role::ALL.iter().map(|r| p.allows(*r)).collect(),
                )
            })
            .collect(),
        branches: app.store.branches().await?,
        tokens: app
            .store
            .api_tokens()
            .await?
            .into_iter()
            .map(|tk| {
                let at = time(tk.created_at, off);
                (tk, at)
            })
            .collect(),
        erasures,
        can_erase,
        notice_key,
        secret,
        layout,
    })
}

async fn admin(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Query(q): Query<AdminQuery>,
) -> Result<Response, PageError> {
    require(&v, Permission::Administer)?;
    let notice = notice_of(&q.notice);
    page(&app, &v, &q, notice, None).await
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserPage {
    layout: Layout,
    user: StaffUser,
    last_sign_in: String,
    roles: Vec<String>,
    branches: Vec<BranchRow>,
    saved: bool,
}

#[derive(Deserialize, Default)]
struct UserQuery {
    saved: Option<String>,
}

async fn user_page(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(id): Path<i64>,
    Query(q): Query<UserQuery>,
) -> Result<Response, PageError> {
    require(&v, Permission::Administer)?;
    let here = format!("/admin/users/{id}");
    let layout = Layout::new(&app, &v, "/admin", &here);
    let user = app.store.staff_user(id).await?;
    let (rows, _) = staff::list_users(
        &app.store,
        &v.actor(),
        &StaffQuery {
            q: Some(user.username.clone()),
            limit: 500,
            ..Default::default()
        },
    )
    .await?;
    let last_sign_in = rows
        .iter()
        .find(|r| r.id == id)
        .and_then(|r| r.last_sign_in)
        .map(|at| time(at, app.offset()))
        .unwrap_or_else(|| layout.t.s("admin.never").to_string());
    render(&UserPage {
        user,
        last_sign_in,
        roles: Role::ALL.iter().map(|r| r.as_str().to_string()).collect(),
        branches: app.store.branches().await?,
        saved: q.saved.is_some(),
        layout,
    })
}

#[derive(Deserialize)]
struct NewUser {
    csrf: String,
    username: String,
    display_name: Option<String>,
    #[serde(default)]
    role: String,
    branch: Option<String>,
}

async fn create_user(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Form(f): Form<NewUser>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    let created = staff::create_user(
        &app.store,
        &v.actor(),
        "web",
        &f.username,
        opt(&f.display_name).as_deref(),
        &f.role,
        opt(&f.branch).as_deref(),
        None,
    )
    .await?;
    let username = f.username.trim().to_string();
    let password = created.generated_password.unwrap_or_default();
    // The password is shown once, in this answer (never in a redirect's address).
    page(
        &app,
        &v,
        &AdminQuery {
            q: Some(username.clone()),
            ..Default::default()
        },
        Some("admin.created"),
        Some(format!("{username}: {password}")),
    )
    .await
}

#[derive(Deserialize)]
struct UserUpdate {
    csrf: String,
    role: String,
    branch: Option<String>,
    active: Option<String>,
}

async fn update_user(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<UserUpdate>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    let active = f.active.as_deref() == Some("1");
    staff::update_user(
        &app.store,
        &v.actor(),
        "web",
        id,
        &f.role,
        opt(&f.branch).as_deref(),
        active,
    )
    .await?;
    app.forget_tokens();
    Ok(see_other(&format!("/admin/users/{id}?saved=1")))
}

#[derive(Deserialize)]
struct AssignForm {
    csrf: String,
    customer: String,
    rm: String,
}

async fn assign(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Form(f): Form<AssignForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    staff::assign_rm(&app.store, &v.actor(), "web", &f.customer, &f.rm).await?;
    page(
        &app,
        &v,
        &AdminQuery::default(),
        Some("admin.assigned"),
        None,
    )
    .await
}

#[derive(Deserialize)]
struct NewToken {
    csrf: String,
    /// The holder: a service account's user name, or empty for oneself.
    user: Option<String>,
    name: String,
}

async fn create_token(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Form(f): Form<NewToken>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    require(&v, Permission::Administer)?;
    let holder = opt(&f.user).unwrap_or_else(|| v.user.username.clone());
    let created = staff::create_token(&app.store, &v.actor(), "web", &holder, &f.name).await?;
    let token = created.token;
    page(
        &app,
        &v,
        &AdminQuery::default(),
        Some("admin.token_created"),
        Some(token),
    )
    .await
}

async fn create_service_account(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Form(f): Form<NewUser>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    staff::create_service_account(
        &app.store,
        &v.actor(),
        "web",
        &f.username,
        opt(&f.display_name).as_deref(),
        &f.role,
        opt(&f.branch).as_deref(),
    )
    .await?;
    page(
        &app,
        &v,
        &AdminQuery::default(),
        Some("admin.service_created"),
        None,
    )
    .await
}

#[derive(Deserialize)]
struct ResetForm {
    csrf: String,
    password: Option<String>,
}

async fn reset_password(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<ResetForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    let chosen = f.password.filter(|p| !p.is_empty());
    let shown = staff::reset_password(&app.store, &v.actor(), "web", id, chosen).await?;
    let q = AdminQuery::default();
    match shown {
        Some(p) => page(&app, &v, &q, Some("admin.password_reset"), Some(p)).await,
        None => page(&app, &v, &q, Some("admin.password_reset_chosen"), None).await,
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn revoke_token(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    staff::revoke_token(&app.store, &v.actor(), "web", id).await?;
    app.forget_tokens();
    Ok(see_other("/admin#tokens"))
}

#[derive(Deserialize)]
struct ErasureForm {
    csrf: String,
    customer: String,
    #[serde(default)]
    reason: String,
}

async fn request_erasure(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Form(f): Form<ErasureForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    privacy::request_erasure(&app.store, &v.actor(), "web", &f.customer, &f.reason).await?;
    Ok(see_other("/admin?notice=erasure_requested#erasures"))
}

async fn approve_erasure(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    privacy::approve_erasure(&app.store, &v.actor(), "web", id).await?;
    Ok(see_other("/admin?notice=erasure_approved#erasures"))
}

async fn reject_erasure(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    privacy::reject_erasure(&app.store, &v.actor(), "web", id).await?;
    Ok(see_other("/admin?notice=erasure_rejected#erasures"))
}
