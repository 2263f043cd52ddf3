//! Saved views on the six list pages (customers, alerts, cases, tasks,
//! campaigns, audit): the bar every list shows (`templates/saved_views.html`,
//! its data built by [`bar`]) with the viewer's views and the shared ones as
//! links, a form that saves the current view (`POST /saved-views`, 303 back
//! to the list with the view applied) and a delete button per view
//! (`POST /saved-views/{id}/delete`). What a view keeps, who may share and
//! who may delete are `rapport_services::saved_views`' rules.
//!
//! A refused save goes back to the list, its filters kept, with
//! `sv_error=<problem>` (the bar shows the reason in the viewer's language;
//! no list reads that parameter and a view never keeps it).

use super::{check_csrf, same_site_path};
use crate::auth::{PageUser, Viewer};
use crate::error::PageError;
use crate::i18n::{Text, Tr};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use rapport_services::saved_views::{self as svc, List, Problem};
use serde::Deserialize;

pub const TEXTS: &[Text] = &[
    ("sv.title", "常用视图", "Saved views"),
    (
        "sv.none",
        "还没有保存的视图：设置好筛选和排序后，可将其保存为视图。",
        "No saved views yet: set the filters and the sort, then save them as a view.",
    ),
    ("sv.save", "保存当前视图", "Save this view"),
    ("sv.name", "视图名称", "Name of the view"),
    (
        "sv.share",
        "共享给所有可查看此列表的同事",
        "Share with everyone who may open this list",
    ),
    ("sv.save_button", "保存", "Save"),
    ("sv.delete", "删除", "Delete"),
    ("sv.shared_mine", "已共享", "shared"),
    ("sv.shared_by", "共享自", "shared by"),
    ("sv.current", "当前视图", "current view"),
    (
        "sv.err.unknown_list",
        "无法保存：未知的列表。",
        "Not saved: unknown list.",
    ),
    (
        "sv.err.name_empty",
        "未保存：请为视图填写名称。",
        "Not saved: give the view a name.",
    ),
    (
        "sv.err.name_too_long",
        "未保存：视图名称最多 60 个字符。",
        "Not saved: a view's name has at most 60 characters.",
    ),
    (
        "sv.err.name_taken",
        "未保存：您在此列表已有同名视图。",
        "Not saved: you already have a view of this list with that name.",
    ),
    (
        "sv.err.too_many",
        "未保存：每个列表最多保存 50 个视图，请先删除一个。",
        "Not saved: at most 50 saved views per list; delete one first.",
    ),
    (
        "sv.err.query_too_long",
        "未保存：筛选条件过长。",
        "Not saved: the view's filters are too long to keep.",
    ),
    (
        "code.audit.saved_view.save",
        "保存列表视图",
        "saved a list view",
    ),
    (
        "code.audit.saved_view.delete",
        "删除列表视图",
        "deleted a list view",
    ),
    ("code.audit_entity.saved_view", "列表视图", "Saved view"),
    ("perm.ShareViews", "共享列表视图", "Share saved views"),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/saved-views", post(save))
        .route("/saved-views/{id}/delete", post(delete))
}

/// One view in the bar.
pub struct BarView {
    pub id: i64,
    pub name: String,
    pub href: String,
    pub shared: bool,
    pub mine: bool,
    /// The owner's name (for a view another member of staff shares).
    pub owner: String,
    /// The list shows exactly this view now.
    pub current: bool,
    pub can_delete: bool,
}

/// What the bar of a list page shows.
pub struct SavedBar {
    /// The list's code (the save form's `list`).
    pub list: &'static str,
    /// The current filters and sort, normalised (the save form's `query`).
    pub query: String,
    /// The list as shown now (where a delete comes back to).
    pub back: String,
    pub views: Vec<BarView>,
    pub can_share: bool,
    /// Why the last save was refused, in words ("" for none).
    pub error: String,
}

/// The bar of `list` for the viewer, from the page's raw query string.
pub async fn bar(
    app: &AppState,
    v: &Viewer,
    t: &Tr,
    list: List,
    raw: Option<&str>,
) -> Result<SavedBar, PageError> {
    let raw = raw.unwrap_or_default();
    let actor = v.actor();
    let query = svc::normalise(list, raw);
    let error = raw
        .split('&')
        .find_map(|p| p.strip_prefix("sv_error="))
        .and_then(Problem::parse)
        .map(|p| t.s(&format!("sv.err.{}", p.code())).to_string())
        .unwrap_or_default();
    let views = svc::views(&app.store, &actor, list)
        .await?
        .into_iter()
        .map(|s| BarView {
            id: s.row.id,
            current: s.row.query == query,
            name: s.row.name,
            href: s.href,
            shared: s.row.shared,
            mine: s.mine,
            owner: s.row.owner_name,
            can_delete: s.can_delete,
        })
        .collect();
    Ok(SavedBar {
        list: list.code(),
        back: list.href(&query),
        query,
        views,
        can_share: svc::may_share(&actor, list),
        error,
    })
}

#[derive(Deserialize)]
struct SaveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    list: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    query: String,
    shared: Option<String>,
}

/// Saves the view; 303 to the list with it applied, or back to the list
/// with the reason it was refused.
async fn save(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Form(f): Form<SaveForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    let shared = f.shared.as_deref().is_some_and(|s| !s.is_empty());
    match svc::save(&app.store, &v.actor(), &f.list, &f.name, &f.query, shared).await {
        Ok(row) => {
            let list = List::parse(&row.list).ok_or(PageError::NotFound)?;
            Ok(Redirect::to(&list.href(&row.query)).into_response())
        }
        Err(e) => match (svc::problem_of(&e), List::parse(f.list.trim())) {
            (Some(p), Some(list)) if p != Problem::UnknownList => {
                let query = svc::normalise(list, &f.query);
                let sep = if query.is_empty() { "?" } else { "&" };
                let to = format!("{}{sep}sv_error={}", list.href(&query), p.code());
                Ok(Redirect::to(&to).into_response())
            }
            _ => Err(e.into()),
        },
    }
}

#[derive(Deserialize)]
struct DeleteForm {
    #[serde(default)]
    csrf: String,
    back: Option<String>,
}

/// Deletes the view; 303 back to the list it was of.
async fn delete(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(id): Path<String>,
    Form(f): Form<DeleteForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    let id: i64 = id
        .parse()
        .map_err(|_| PageError::BadRequest(format!("{id:?} is not a saved view's id")))?;
    let row = svc::delete(&app.store, &v.actor(), id).await?;
    let path = List::parse(&row.list).map_or("/", List::path);
    let to = f
        .back
        .as_deref()
        .and_then(same_site_path)
        .filter(|b| b == path || b.starts_with(&format!("{path}?")))
        .unwrap_or_else(|| path.to_string());
    Ok(Redirect::to(&to).into_response())
}
