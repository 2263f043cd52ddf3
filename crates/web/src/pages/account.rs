//! The signed-in member of staff's own account: changing their password
//! (`/account/password`), at any time and necessarily after an
//! administrator's reset, when it is the only page open to them. The policy,
//! the check of the current password, the audit entry and ending the other
//! sessions are the services' (`rapport_services::password::change_own`).

use super::{check_csrf, render, Layout};
use crate::auth::{cookie, token_hash, PageUser, Viewer, SESSION_COOKIE};
use crate::error::PageError;
use crate::i18n::Text;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use rapport_services::error::ServiceError;
use rapport_services::password;
use serde::Deserialize;

pub const TEXTS: &[Text] = &[
    ("account.password", "修改密码", "Change password"),
    (
        "account.must_change",
        "管理员已重置您的密码。请先设置新密码，然后才能继续使用系统。",
        "An administrator has reset your password. Choose a new one before you go on.",
    ),
    ("account.current", "当前密码", "Current password"),
    ("account.new", "新密码", "New password"),
    ("account.confirm", "再次输入新密码", "New password again"),
    (
        "account.rules",
        "至少 12 个字符，不能包含用户名，不能是常见密码或简单的重复、顺序、键盘排列。建议使用由几个不相关词语组成的短语。",
        "At least 12 characters, not containing your user name, not a common password or a simple repeat, sequence or keyboard pattern. A phrase of a few unrelated words works well.",
    ),
    ("account.save", "修改密码", "Change password"),
    (
        "account.changed",
        "密码已修改，您的其他会话已结束。",
        "Your password is changed; your other sessions have ended.",
    ),
    ("account.continue", "继续", "Continue"),
    (
        "account.mismatch",
        "两次输入的新密码不一致。",
        "The two new passwords differ.",
    ),
];

pub fn routes() -> Router<AppState> {
    Router::new().route("/account/password", get(form).post(change))
}

#[derive(Template)]
#[template(path = "account_password.html")]
struct PasswordPage {
    layout: Layout,
    must_change: bool,
    changed: bool,
    /// A catalogue key for a refusal the page knows.
    error_key: Option<&'static str>,
    /// The policy's refusal (English / Chinese, from the services).
    error: Option<String>,
}

fn page(
    app: &AppState,
    v: &Viewer,
    changed: bool,
    error_key: Option<&'static str>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let failed = error_key.is_some() || error.is_some();
    let res = render(&PasswordPage {
        layout: Layout::new(app, v, "/account/password", "/account/password"),
        must_change: v.user.must_change_password && !changed,
        changed,
        error_key,
        error,
    })?;
    Ok(if failed {
        (StatusCode::BAD_REQUEST, res).into_response()
    } else {
        res
    })
}

async fn form(State(app): State<AppState>, PageUser(v): PageUser) -> Result<Response, PageError> {
    page(&app, &v, false, None, None)
}

#[derive(Deserialize)]
struct ChangeForm {
    csrf: String,
    current: String,
    new_password: String,
    confirm: String,
}

async fn change(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    headers: HeaderMap,
    Form(f): Form<ChangeForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    if f.new_password != f.confirm {
        return page(&app, &v, false, Some("account.mismatch"), None);
    }
    let keep = cookie(&headers, SESSION_COOKIE).map(|t| token_hash(&t));
    match password::change_own(
        &app.store,
        &v.staff,
        "web",
        &f.current,
        &f.new_password,
        keep.as_deref(),
    )
    .await
    {
        Ok(()) => page(&app, &v, true, None, None),
        Err(ServiceError::Invalid { field, message }) if field == "password" => {
            page(&app, &v, false, None, Some(message))
        }
        Err(e) => Err(e.into()),
    }
}
