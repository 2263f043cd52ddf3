//! Administration: users (create with a generated password shown once,
//! change role and branch, enable or disable, reset a password — the user
//! must change it at next sign-in), service accounts for machines, the
//! rights of each role, branches with their sizes, RM assignment, and API
//! tokens (create — for oneself or a service account, shown once —, list
//! with who created each, revoke). Who may hold whose tokens is the
//! services' rule (`staff::create_token`). Every change is audited.

use super::{check_csrf, opt, render, require, Layout};
use crate::auth::{PageUser, Permission, Role};
use crate::error::PageError;
use crate::i18n::Text;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use rapport_services::staff;
use rapport_store::{ApiTokenRow, BranchRow, StaffUser};
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
];

/// Every permission with its catalogue key, in display order.
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

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(admin))
        .route("/admin/users", post(create_user))
        .route("/admin/users/{id}", post(update_user))
        .route("/admin/users/{id}/password", post(reset_password))
        .route("/admin/service-accounts", post(create_service_account))
        .route("/admin/assign", post(assign))
        .route("/admin/tokens", post(create_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    layout: Layout,
    users: Vec<StaffUser>,
    /// Active service accounts: who else an administrator may create tokens for.
    services: Vec<StaffUser>,
    roles: Vec<String>,
    matrix: Vec<(&'static str, Vec<bool>)>,
    branches: Vec<BranchRow>,
    tokens: Vec<ApiTokenRow>,
    notice_key: Option<&'static str>,
    secret: Option<String>,
}

async fn page(
    app: &AppState,
    v: &crate::auth::Viewer,
    notice_key: Option<&'static str>,
    secret: Option<String>,
) -> Result<Response, PageError> {
    let layout = Layout::new(app, v, "/admin", "/admin");
    let users = app.store.staff_users().await?;
    render(&AdminPage {
        services: users
            .iter()
            .filter(|u| u.is_service() && u.active)
            .cloned()
            .collect(),
        users,
        roles: Role::ALL.iter().map(|r| r.as_str().to_string()).collect(),
        matrix: PERMISSIONS
            .iter()
            .map(|(p, k)| (*k, Role::ALL.iter().map(|r| p.allows(*r)).collect()))
            .collect(),
        branches: app.store.branches().await?,
        tokens: app.store.api_tokens().await?,
        notice_key,
        secret,
        layout,
    })
}

async fn admin(State(app): State<AppState>, PageUser(v): PageUser) -> Result<Response, PageError> {
    require(&v, Permission::Administer)?;
    page(&app, &v, None, None).await
}

#[derive(Deserialize)]
struct NewUser {
    csrf: String,
    username: String,
    display_name: Option<String>,
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
    page(
        &app,
        &v,
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
    Ok(Redirect::to("/admin").into_response())
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
    page(&app, &v, Some("admin.assigned"), None).await
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
    page(&app, &v, Some("admin.token_created"), Some(token)).await
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
    page(&app, &v, Some("admin.service_created"), None).await
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
    match shown {
        Some(p) => page(&app, &v, Some("admin.password_reset"), Some(p)).await,
        None => page(&app, &v, Some("admin.password_reset_chosen"), None).await,
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
    Ok(Redirect::to("/admin").into_response())
}
