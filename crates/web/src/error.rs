//! Errors as the web answers them. API errors carry a stable snake_case
//! `code` and a human message; a 500 shows nothing of its cause and logs the
//! whole chain (never personal data: store errors name tables and ids, not
//! people). Page errors render a small bilingual page, or send the browser
//! to the sign-in page.

use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Json;
use rapport_services::access::AccessError;
use rapport_services::error::ServiceError;
use rapport_store::StoreError;
use serde_json::json;

/// An error answered by `/api/v1`: `{"error": {"code": …, "message": …}}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in or send Authorization: Bearer <token>",
        )
    }
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "your role may not do this",
        )
    }
    pub fn csrf() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "csrf_token_invalid",
            "a browser session must send its X-CSRF-Token header on writes",
        )
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn internal(e: anyhow::Error) -> Self {
        tracing::error!(error = format!("{e:#}"), "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the server could not answer; the cause is in its log",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::not_found(&what),
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            other => ApiError::internal(other.into()),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let code = e.code();
        match e {
            ServiceError::NotFound(what) => ApiError::not_found(&what),
            ServiceError::Access(AccessError::Store(s)) => s.into(),
            ServiceError::Access(a) => ApiError::new(StatusCode::FORBIDDEN, code, a.to_string()),
            ServiceError::Invalid { field, message } => {
                ApiError::new(StatusCode::BAD_REQUEST, code, format!("{field}: {message}"))
            }
            ServiceError::Refused(m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, m),
            ServiceError::InvalidTransition(m) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, m)
            }
            ServiceError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, code, m),
            e @ ServiceError::RateLimited { .. } => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, code, e.to_string())
            }
            ServiceError::Store(s) => s.into(),
            ServiceError::Internal(e) => ApiError::internal(e),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        match e.downcast::<StoreError>() {
            Ok(s) => s.into(),
            Err(e) => ApiError::internal(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": { "code": self.code, "message": self.message } }));
        (self.status, body).into_response()
    }
}

/// An error on a page.
#[derive(Debug)]
pub enum PageError {
    /// Not signed in: go to the sign-in page.
    SignIn,
    /// Signed in after an administrator's password reset: go and change it first.
    ChangePassword,
    Forbidden,
    NotFound,
    BadRequest(String),
    /// A limit of the masking policy was reached.
    TooMany,
    Internal(anyhow::Error),
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => PageError::NotFound,
            StoreError::Conflict(m) => PageError::BadRequest(m),
            other => PageError::Internal(other.into()),
        }
    }
}

impl From<ServiceError> for PageError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound(_) => PageError::NotFound,
            ServiceError::Access(AccessError::Store(s)) => s.into(),
            ServiceError::Access(_) => PageError::Forbidden,
            ServiceError::Invalid { field, message } => {
                PageError::BadRequest(format!("{field}: {message}"))
            }
            ServiceError::Refused(m)
            | ServiceError::InvalidTransition(m)
            | ServiceError::Conflict(m) => PageError::BadRequest(m),
            ServiceError::RateLimited { .. } => PageError::TooMany,
            ServiceError::Store(s) => s.into(),
            ServiceError::Internal(e) => PageError::Internal(e),
        }
    }
}

impl From<anyhow::Error> for PageError {
    fn from(e: anyhow::Error) -> Self {
        match e.downcast::<StoreError>() {
            Ok(s) => s.into(),
            Err(e) => PageError::Internal(e),
        }
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        PageError::Internal(anyhow::anyhow!("rendering a template: {e}"))
    }
}

/// What a page error said, kept with its bilingual answer so that
/// [`pages_in_layout`] can show it inside the layout in the viewer's language.
#[derive(Debug, Clone)]
pub struct ErrorDetail {
    /// The cause in words (a bad request's message), or empty.
    pub detail: String,
}

/// The error pages' texts.
pub const TEXTS: &[crate::i18n::Text] = &[
    ("err.title", "出错了", "Something went wrong"),
    (
        "err.400",
        "请求无法处理：请检查填写或链接中的内容。",
        "The request cannot be handled: check what was entered or the link.",
    ),
    (
        "err.403",
        "您的角色无权访问此页面或执行此操作。",
        "Your role may not open this page or do this.",
    ),
    (
        "err.404",
        "未找到，或不在您的权限范围内。",
        "Not found, or outside your scope.",
    ),
    (
        "err.422",
        "提交的内容不完整或格式不对，请返回后重新填写。",
        "What was sent is incomplete or malformed; go back and fill it in again.",
    ),
    (
        "err.429",
        "操作过于频繁，请稍后再试。",
        "Too many requests; try again later.",
    ),
    (
        "err.500",
        "服务器出错，原因已记入日志。",
        "The server failed; the cause is in its log.",
    ),
    (
        "err.other",
        "请求未能完成。",
        "The request could not be completed.",
    ),
    ("err.detail", "详情", "Detail"),
    ("err.home", "返回首页", "Back to the dashboard"),
];

/// The catalogue key of a status's explanation.
fn status_key(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "err.400",
        403 => "err.403",
        404 => "err.404",
        405 | 415 | 422 => "err.422",
        429 => "err.429",
        500..=599 => "err.500",
        _ => "err.other",
    }
}

#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorPageTemplate {
    layout: crate::pages::Layout,
    code: u16,
    message: String,
    detail: String,
}

/// Shows the error answers of pages inside the layout, in the signed-in
/// viewer's language: a page error ([`PageError`]) and the framework's own
/// rejections (a malformed query or form, an unknown path), which would
/// otherwise answer bare text. Without a session the bilingual page stays
/// (and replaces the framework's bare text). The API, static files and
/// operations endpoints answer as they do.
pub async fn pages_in_layout(
    axum::extract::State(app): axum::extract::State<crate::AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = req.uri().path();
    let page_path = !(path.starts_with("/api/")
        || path.starts_with("/static/")
        || matches!(path, "/healthz" | "/readyz" | "/metrics"));
    let keep = page_path.then(|| (req.uri().clone(), req.headers().clone()));
    let res = next.run(req).await;
    let status = res.status();
    let Some((uri, headers)) = keep else {
        return res;
    };
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let detail = res.extensions().get::<ErrorDetail>().cloned();
    if html && detail.is_none() {
        // A page that answers an error of its own (the sign-in form's 401).
        return res;
    }
    let mut probe = axum::http::Request::new(());
    *probe.uri_mut() = uri.clone();
    *probe.headers_mut() = headers;
    let (mut parts, ()) = probe.into_parts();
    use axum::extract::FromRequestParts as _;
    let viewer = crate::auth::PageUser::from_request_parts(&mut parts, &app).await;
    match viewer {
        Ok(crate::auth::PageUser(v)) => {
            let layout = crate::pages::Layout::new(&app, &v, "", &uri.to_string());
            let t = layout.t;
            let page = ErrorPageTemplate {
                code: status.as_u16(),
                message: t.s(status_key(status)).to_string(),
                detail: detail.map(|d| d.detail).unwrap_or_default(),
                layout,
            };
            match askama::Template::render(&page) {
                Ok(body) => {
                    let mut out = (status, Html(body)).into_response();
                    if let Some(r) = res.headers().get(header::RETRY_AFTER) {
                        out.headers_mut().insert(header::RETRY_AFTER, r.clone());
                    }
                    out
                }
                Err(_) => res,
            }
        }
        Err(_) if detail.is_some() => res,
        Err(_) => {
            let (zh, en) = TEXTS
                .iter()
                .find(|(k, _, _)| *k == status_key(status))
                .map(|(_, zh, en)| (*zh, *en))
                .unwrap_or(("请求未能完成。", "The request could not be completed."));
            page(status, zh, en)
        }
    }
}

fn page(status: StatusCode, zh: &str, en: &str) -> Response {
    page_with(status, zh, en, "")
}

fn page_with(status: StatusCode, zh: &str, en: &str, detail: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{code} · Rapport</title>\
         <link rel=\"stylesheet\" href=\"/static/app.css\"></head><body class=\"error-page\"><main>\
         <h1>{code}</h1><p>{zh}</p><p lang=\"en\">{en}</p><p><a href=\"/\">Rapport</a></p></main></body></html>",
        code = status.as_u16(),
        zh = crate::html_escape(zh),
        en = crate::html_escape(en),
    );
    let mut res = (status, Html(body)).into_response();
    res.extensions_mut().insert(ErrorDetail {
        detail: detail.to_string(),
    });
    res
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn | PageError::ChangePassword => {
                let to = if matches!(self, PageError::SignIn) {
                    "/login"
                } else {
                    "/account/password"
                };
                let mut r = Redirect::to(to).into_response();
                r.headers_mut().insert(
                    header::CACHE_CONTROL,
                    header::HeaderValue::from_static("no-store"),
                );
                r
            }
            PageError::Forbidden => page(
                StatusCode::FORBIDDEN,
                "您的角色无权访问此页面。",
                "Your role may not open this page.",
            ),
            PageError::NotFound => page(
                StatusCode::NOT_FOUND,
                "未找到，或不在您的权限范围内。",
                "Not found, or outside your scope.",
            ),
            PageError::BadRequest(m) => page_with(StatusCode::BAD_REQUEST, &m, &m, &m),
            PageError::TooMany => page(
                StatusCode::TOO_MANY_REQUESTS,
                "按证件号、电话或邮箱查找的次数已达每小时上限，请稍后再试。",
                "You have reached the hourly limit of searches by ID number, phone or e-mail; try again later.",
            ),
            PageError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "page failed");
                page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "服务器出错，原因已记入日志。",
                    "The server failed; the cause is in its log.",
                )
            }
        }
    }
}
