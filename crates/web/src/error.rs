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

fn page(status: StatusCode, zh: &str, en: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{code} · Rapport</title>\
         <link rel=\"stylesheet\" href=\"/static/app.css\"></head><body class=\"error-page\"><main>\
         <h1>{code}</h1><p>{zh}</p><p lang=\"en\">{en}</p><p><a href=\"/\">Rapport</a></p></main></body></html>",
        code = status.as_u16(),
        zh = crate::html_escape(zh),
        en = crate::html_escape(en),
    );
    (status, Html(body)).into_response()
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
            PageError::BadRequest(m) => page(StatusCode::BAD_REQUEST, &m, &m),
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
