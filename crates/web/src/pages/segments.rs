//! Segments: every saved segment with its kind, definition and size at its
//! latest membership date, linking to the customer list filtered by it (the
//! list applies the viewer's scope; sizes are bank-wide counts).

use super::{enc, render, require, Layout};
use crate::auth::{PageUser, Permission};
use crate::error::PageError;
use crate::i18n::Text;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

pub const TEXTS: &[Text] = &[
    ("seg.title", "客群", "Segments"),
    ("seg.code", "代码", "Code"),
    ("seg.kind", "类型", "Kind"),
    ("seg.name", "名称", "Name"),
    ("seg.definition", "定义", "Definition"),
    ("seg.size", "客户数", "Customers"),
    ("seg.as_of", "日期", "As of"),
    (
        "seg.none",
        "尚无客群：运行 rapport score。",
        "No segments yet: run rapport score.",
    ),
];

pub fn routes() -> Router<AppState> {
    Router::new().route("/segments", get(segments))
}

pub struct SegmentView {
    pub code: String,
    pub href: String,
    pub kind: String,
    pub name: String,
    pub definition: String,
    pub description: String,
    pub size: i64,
}

#[derive(Template)]
#[template(path = "segments.html")]
struct SegmentsPage {
    layout: Layout,
    as_of: String,
    rows: Vec<SegmentView>,
}

async fn segments(
    State(app): State<AppState>,
    PageUser(v): PageUser,
) -> Result<Response, PageError> {
    require(&v, Permission::ViewSegments)?;
    let layout = Layout::new(&app, &v, "/segments", "/segments");
    let latest = app
        .store
        .latest_membership_as_of(chrono::NaiveDate::MAX)
        .await?;
    let sizes = match latest {
        Some(d) => app.store.segment_sizes(d).await?,
        None => Vec::new(),
    };
    let rows = app
        .store
        .segments()
        .await?
        .into_iter()
        .map(|s| SegmentView {
            href: format!("/customers?segment={}", enc(&s.code)),
            size: sizes
                .iter()
                .find(|x| x.0 == s.code)
                .map(|x| x.3)
                .unwrap_or(0),
            code: s.code,
            kind: s.kind,
            name: s.name,
            definition: s.definition,
            description: s.description,
        })
        .collect();
    render(&SegmentsPage {
        as_of: latest.map(|d| d.to_string()).unwrap_or_default(),
        rows,
        layout,
    })
}
