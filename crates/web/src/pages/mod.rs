//! The server-rendered pages: the layout every page shares (navigation by
//! role, the language switch, sign-out), sign-in and sign-out, the language
//! choice, and the static files. Each page lives in its own module with its
//! handlers, its askama template struct and its catalogue texts (`TEXTS`).
//!
//! Every form carries the session's CSRF token and every POST checks it;
//! sign-in uses a double-submit token of its own (no session yet).

use super::auth::{
    self, cookie, new_token, same_secret, token_hash, PageUser, Permission, Viewer, SESSION_COOKIE,
};
use super::error::PageError;
use super::i18n::{Lang, Text, Tr};
use super::AppState;
use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::Utc;
use rapport_services::signin::{self, SignInOutcome};
use serde::Deserialize;
use serde_json::json;

/// The pre-session cookie that carries the sign-in form's CSRF token.
const LOGIN_CSRF_COOKIE: &str = "rapport_login";

pub mod account;
pub mod admin;
pub mod alerts;
pub mod audit_log;
pub mod campaigns;
pub mod cases;
pub mod customers;
pub mod dashboard;
pub mod holiday;
pub mod kpis;
pub mod list;
pub mod models;
pub mod quality;
pub mod rules;
pub mod saved_views;
pub mod segments;
pub mod survey;
pub mod surveys;
pub mod tasks;
pub mod workbench;

/// Every catalogue slice of the UI (the layout's and each page's).
pub fn all_texts() -> Vec<&'static [Text]> {
    vec![
        super::i18n::TEXTS,
        super::i18n::CODE_TEXTS,
        super::error::TEXTS,
        COLUMN_TEXTS,
        dashboard::TEXTS,
        customers::TEXTS,
        alerts::TEXTS,
        workbench::TEXTS,
        segments::TEXTS,
        quality::TEXTS,
        audit_log::TEXTS,
        admin::TEXTS,
        account::TEXTS,
        survey::TEXTS,
        kpis::TEXTS,
        cases::TEXTS,
        tasks::TEXTS,
        holiday::TEXTS,
        surveys::TEXTS,
        models::TEXTS,
        rules::TEXTS,
        campaigns::TEXTS,
        saved_views::TEXTS,
    ]
}

/// The page routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/lang", post(set_language))
        .merge(dashboard::routes())
        .merge(customers::routes())
        .merge(alerts::routes())
        .merge(workbench::routes())
        .merge(segments::routes())
        .merge(quality::routes())
        .merge(audit_log::routes())
        .merge(admin::routes())
        .merge(account::routes())
        .merge(survey::routes())
        .merge(kpis::routes())
        .merge(cases::routes())
        .merge(tasks::routes())
        .merge(holiday::routes())
        .merge(surveys::routes())
        .merge(models::routes())
        .merge(rules::routes())
        .merge(campaigns::routes())
        .merge(saved_views::routes())
}

/// Column headings of the tables built from store rows.
pub const COLUMN_TEXTS: &[Text] = &[
    ("col.id", "编号", "Id"),
    ("col.key", "编号", "Key"),
    ("col.account_type", "账户类型", "Account type"),
    ("col.currency", "币种", "Currency"),
    ("col.opened_on", "开立日", "Opened"),
    ("col.closed_on", "关闭日", "Closed"),
    ("col.balance", "余额", "Balance"),
    ("col.credit_limit", "授信额度", "Credit limit"),
    ("col.product_code", "产品代码", "Product code"),
    ("col.product", "产品", "Product"),
    ("col.category", "类别", "Category"),
    ("col.risk_level", "风险等级", "Risk level"),
    ("col.amount", "金额", "Amount"),
    ("col.granted_on", "放款日", "Granted"),
    ("col.duration_months", "期限(月)", "Months"),
    ("col.monthly_payment", "月供", "Monthly payment"),
    ("col.status", "状态", "Status"),
    ("col.days_past_due", "逾期天数", "Days past due"),
    ("col.card_type", "卡种", "Card type"),
    ("col.issued_on", "发卡日", "Issued"),
    ("col.booked_on", "记账日", "Booked"),
    ("col.balance_after", "交易后余额", "Balance after"),
    ("col.channel", "渠道", "Channel"),
    ("col.counterparty", "交易对手", "Counterparty"),
    ("col.occurred_on", "日期", "Date"),
    ("col.kind", "类型", "Kind"),
    ("col.outcome", "结果", "Outcome"),
    ("col.note", "备注", "Note"),
    ("col.severity", "严重程度", "Severity"),
    ("col.description", "描述", "Description"),
    ("col.survey", "问卷", "Survey"),
    ("col.answered_on", "作答日", "Answered"),
    ("col.question", "问题", "Question"),
    ("col.score", "得分", "Score"),
    ("col.answer_text", "回答", "Answer"),
    ("col.purpose", "用途", "Purpose"),
    ("col.granted", "已授权", "Granted"),
    ("col.recorded_on", "记录日", "Recorded"),
    ("col.revoked_on", "撤回日", "Revoked"),
    ("col.rule", "规则", "Rule"),
    ("col.raised_on", "触发日", "Raised"),
    ("col.origin", "来源", "Origin"),
    ("col.message", "说明", "Message"),
    ("col.disposition", "处置结论", "Disposition"),
    ("col.assignee_id", "处理人", "Assignee"),
    ("col.queue", "队列", "Queue"),
];

/// A table of strings built from store rows (JSON objects).
pub struct Table {
    pub cols: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Builds a table from rows (already masked by the services' policy).
pub fn table(t: &Tr, rows: &[serde_json::Map<String, serde_json::Value>], skip: &[&str]) -> Table {
    let names: Vec<String> = rows
        .first()
        .map(|r| {
            r.keys()
                .filter(|k| !skip.contains(&k.as_str()))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let cols = names
        .iter()
        .map(|n| {
            let key = format!("col.{n}");
            if super::i18n::has(&key) {
                t.s(&key).to_string()
            } else {
                n.clone()
            }
        })
        .collect();
    let rows = rows
        .iter()
        .map(|r| {
            names
                .iter()
                .map(|n| match r.get(n) {
                    None | Some(serde_json::Value::Null) => String::new(),
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(v) => v.to_string(),
                })
                .collect()
        })
        .collect();
    Table { cols, rows }
}

/// Money in fen as yuan (the one formatting function, see [`crate::present`]).
pub use crate::present::money;

/// Percent-encodes a path segment (customer keys may hold any character).
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A query string value, or None when empty.
pub fn opt(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// One entry of the navigation bar.
pub struct NavItem {
    pub href: &'static str,
    pub key: &'static str,
    pub active: bool,
}

/// What the shared layout needs: texts, who is signed in, the CSRF token, the navigation.
pub struct Layout {
    pub t: Tr,
    pub user_name: String,
    pub role_key: String,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    /// The current path, for the language switch to come back to.
    pub here: String,
}

impl Layout {
    pub fn new(app: &AppState, v: &Viewer, active: &str, here: &str) -> Layout {
        let items: Vec<(&'static str, &'static str, Option<Permission>)> = vec![
            ("/", "nav.dashboard", None),
            (
                "/customers",
                "nav.customers",
                Some(Permission::ViewCustomers),
            ),
            ("/alerts", "nav.alerts", Some(Permission::WorkAlerts)),
            ("/cases", "nav.cases", Some(Permission::WorkCases)),
            ("/workbench", "nav.workbench", Some(Permission::Workbench)),
            ("/tasks", "nav.tasks", Some(Permission::Workbench)),
            ("/segments", "nav.segments", Some(Permission::ViewSegments)),
            ("/quality", "nav.quality", Some(Permission::ViewDataQuality)),
            ("/audit", "nav.audit", Some(Permission::ViewAudit)),
            ("/admin", "nav.admin", Some(Permission::Administer)),
            ("/kpis", "nav.kpis", Some(Permission::ViewKpis)),
            ("/holiday", "nav.holiday", Some(Permission::ViewEngagement)),
            ("/surveys", "nav.surveys", Some(Permission::ViewEngagement)),
            ("/models", "nav.models", Some(Permission::ViewModels)),
            ("/rules", "nav.rules", Some(Permission::ViewModels)),
            (
                "/campaigns",
                "nav.campaigns",
                Some(Permission::RunCampaigns),
            ),
        ];
        let nav = items
            .into_iter()
            .filter(|(href, _, p)| !href.is_empty() && p.is_none_or(|p| v.can(p)))
            // Campaigns are bank-wide: not for a branch manager.
            .filter(|(href, _, _)| {
                *href != "/campaigns"
                    || rapport_services::campaign::require_bank_wide(&v.actor()).is_ok()
            })
            .map(|(href, key, _)| NavItem {
                href,
                key,
                active: href == active,
            })
            .collect();
        Layout {
            t: Tr::new(app.lang_of(&v.user)),
            user_name: v.user.display_name.clone(),
            role_key: format!("role.{}", v.role.as_str()),
            csrf: v.csrf().to_string(),
            nav,
            here: here.to_string(),
        }
    }
}

/// Renders a template into a page.
pub fn render(t: &impl Template) -> Result<Response, PageError> {
    Ok(Html(t.render()?).into_response())
}

/// Checks a form's CSRF token against the session's.
pub fn check_csrf(v: &Viewer, sent: &str) -> Result<(), PageError> {
    if same_secret(sent, v.csrf()) {
        Ok(())
    } else {
        Err(PageError::Forbidden)
    }
}

/// Refuses unless the viewer's role has `p`.
pub fn require(v: &Viewer, p: Permission) -> Result<(), PageError> {
    if v.can(p) {
        Ok(())
    } else {
        Err(PageError::Forbidden)
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: Tr,
    csrf: String,
    error: Option<&'static str>,
    username: String,
}

#[derive(Deserialize)]
struct LoginQuery {
    lang: Option<String>,
}

fn login_page(
    app: &AppState,
    lang: Option<Lang>,
    error: Option<&'static str>,
    username: String,
    status: StatusCode,
) -> Result<Response, PageError> {
    let csrf = new_token();
    let page = LoginPage {
        t: Tr::new(lang.unwrap_or(app.default_lang)),
        csrf: csrf.clone(),
        error,
        username,
    };
    let mut res = (status, Html(page.render()?)).into_response();
    let secure = if app.cfg.web.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let c = format!(
        "{LOGIN_CSRF_COOKIE}={csrf}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{secure}"
    );
    if let Ok(v) = HeaderValue::from_str(&c) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

async fn login_form(
    State(app): State<AppState>,
    Query(q): Query<LoginQuery>,
) -> Result<Response, PageError> {
    let lang = q.lang.as_deref().and_then(Lang::parse);
    login_page(&app, lang, None, String::new(), StatusCode::OK)
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    csrf: String,
    lang: Option<String>,
}

async fn login(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, PageError> {
    let lang = f.lang.as_deref().and_then(Lang::parse);
    let pre = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if !same_secret(&pre, &f.csrf) {
        return Err(PageError::Forbidden);
    }
    let client = auth::client_address(Some(peer.ip()), &headers, &app.cfg.web.trusted_proxies);
    let username = f.username.trim().to_string();
    let session =
        match signin::sign_in(&app.services, &username, &f.password, &client, Utc::now()).await? {
            SignInOutcome::SignedIn(s) => s,
            SignInOutcome::Failed => {
                return login_page(
                    &app,
                    lang,
                    Some("login.failed"),
                    username,
                    StatusCode::UNAUTHORIZED,
                )
            }
            SignInOutcome::Throttled { retry_after_secs } => {
                let mut res = login_page(
                    &app,
                    lang,
                    Some("login.throttled"),
                    username,
                    StatusCode::TOO_MANY_REQUESTS,
                )?;
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    res.headers_mut().insert(header::RETRY_AFTER, v);
                }
                return Ok(res);
            }
        };
    let secure = if app.cfg.web.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let c = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        session.token,
        app.cfg.web.session_hours * 3600
    );
    let to = if session.must_change_password {
        "/account/password"
    } else {
        "/"
    };
    let mut res = Redirect::to(to).into_response();
    if let Ok(v) = HeaderValue::from_str(&c) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("{LOGIN_CSRF_COOKIE}=; Path=/login; Max-Age=0")) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        app.store.delete_session(&token_hash(&token)).await?;
    }
    app.audit
        .write(super::audit::entry(
            &v,
            "session.logout",
            "staff_user",
            Some(v.user.id.to_string()),
            None,
            json!({}),
        ))
        .await?;
    let mut res = Redirect::to("/login").into_response();
    if let Ok(c) = HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
    )) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(res)
}

#[derive(Deserialize)]
struct LangForm {
    csrf: String,
    lang: String,
    back: Option<String>,
}

async fn set_language(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Form(f): Form<LangForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    let lang = Lang::parse(&f.lang)
        .ok_or_else(|| PageError::BadRequest(format!("unknown language {:?}", f.lang)))?;
    app.store.set_user_language(v.user.id, lang.code()).await?;
    let back = f
        .back
        .as_deref()
        .and_then(same_site_path)
        .unwrap_or_else(|| "/".into());
    Ok(Redirect::to(&back).into_response())
}

/// A `back` address a form sends, made safe to redirect to: only a path on
/// this site (one leading `/`, not `//` or `/\`, no backslash, no control
/// character) is kept, with spaces and non-ASCII characters percent-encoded
/// as UTF-8 so that it is a valid `Location`; anything else is None (the
/// caller goes to its default page). Never an open redirect, never a 500.
pub fn same_site_path(back: &str) -> Option<String> {
    if !back.starts_with('/')
        || back.starts_with("//")
        || back.contains('\\')
        || back.chars().any(char::is_control)
    {
        return None;
    }
    let mut out = String::with_capacity(back.len());
    for c in back.chars() {
        if c.is_ascii_graphic() {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    Some(out)
}

/// The stylesheet and the one script, compiled into the binary.
pub async fn static_file(Path(file): Path<String>) -> Response {
    let (body, ty): (&'static str, &'static str) = match file.as_str() {
        "app.css" => (
            include_str!("../../static/app.css"),
            "text/css; charset=utf-8",
        ),
        "app.js" => (
            include_str!("../../static/app.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, ty),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}
