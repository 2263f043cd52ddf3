//! The KPI dashboard page (`/kpis`): every KPI of the viewer's scope against
//! its configured target with a monthly trend, a view by segment, branch or
//! RM, and the view as CSV (`/kpis.csv`). Figures from `rapport_services::kpi`.

use super::{render, require, Layout};
use crate::auth::{PageUser, Permission};
use crate::charts::{self, Series};
use crate::error::PageError;
use crate::i18n::{Lang, Text};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rapport_services::kpi::{dashboard, default_end, load, view_csv, ViewBy};
use serde::Deserialize;

pub const TEXTS: &[Text] = &[
    ("nav.kpis", "指标", "KPIs"),
    ("kpis.title", "关键指标与目标", "KPIs and targets"),
    ("kpis.window", "统计区间", "Window"),
    ("kpis.customers", "客户数", "Customers"),
    ("kpis.target", "目标", "Target"),
    ("kpis.no_data", "暂无数据", "no data"),
    ("kpis.view", "分组查看", "View by"),
    ("kpis.view.none", "不分组", "no view"),
    ("kpis.view.segment", "客群", "segment"),
    ("kpis.view.branch", "网点", "branch"),
    ("kpis.view.rm", "客户经理", "RM"),
    ("kpis.show", "查看", "Show"),
    ("kpis.csv", "导出 CSV", "Export CSV"),
    ("kpis.group", "分组", "Group"),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/kpis", get(page))
        .route("/kpis.csv", get(csv))
}

#[derive(Deserialize)]
pub struct KpiQuery {
    view: Option<String>,
}

pub struct TileView {
    pub label: &'static str,
    pub value: String,
    pub target: String,
    pub state: &'static str,
    pub chart: String,
}

pub struct RowView {
    pub group: String,
    pub customers: usize,
    pub values: Vec<String>,
}

#[derive(Template)]
#[template(path = "kpis.html")]
struct KpisPage {
    layout: Layout,
    start: String,
    end: String,
    customers: usize,
    tiles: Vec<TileView>,
    view: String,
    heads: Vec<&'static str>,
    rows: Vec<RowView>,
}

fn show(v: Option<f64>, share: bool, none: &str) -> String {
    match v {
        None => none.to_string(),
        Some(x) if share => format!("{:.1}%", 100.0 * x),
        Some(x) => format!("{x:.2}"),
    }
}

async fn compute(
    app: &AppState,
    v: &crate::auth::Viewer,
    view: Option<&str>,
) -> Result<rapport_services::kpi::KpiDashboard, PageError> {
    let view = view.and_then(ViewBy::parse);
    let end = default_end(&app.store).await.map_err(PageError::from)?;
    let facts = load(&app.store).await.map_err(PageError::from)?;
    Ok(dashboard(
        &facts,
        &v.scope(),
        &app.cfg.kpi.targets,
        end,
        app.cfg.kpi.window_days,
        app.cfg.kpi.trend_months,
        view,
    ))
}

async fn page(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Query(q): Query<KpiQuery>,
) -> Result<Response, PageError> {
    require(&v, Permission::ViewKpis)?;
    let layout = Layout::new(&app, &v, "/kpis", "/kpis");
    let d = compute(&app, &v, q.view.as_deref()).await?;
    let zh = layout.t.lang == Lang::ZhCn;
    let none = layout.t.s("kpis.no_data");
    let tiles = d
        .tiles
        .iter()
        .map(|t| {
            let share = t.kpi.is_share();
            let label = if zh { t.label_zh } else { t.label_en };
            let points: Vec<(String, f64)> = t
                .trend
                .iter()
                .filter_map(|(m, v)| v.map(|x| (m.clone(), if share { 100.0 * x } else { x })))
                .collect();
            let target = if share { 100.0 * t.target } else { t.target };
            let chart = charts::lines(
                label,
                none,
                &[Series {
                    name: label.to_string(),
                    colour: charts::colour("healthy"),
                    points,
                }],
                None,
                &[(target, layout.t.s("kpis.target"))],
            );
            TileView {
                label,
                value: show(t.value, share, none),
                target: show(Some(t.target), share, none),
                state: match t.meets_target {
                    Some(true) => "met",
                    Some(false) => "missed",
                    None => "none",
                },
                chart,
            }
        })
        .collect();
    let heads = d
        .kpis
        .iter()
        .map(|k| if zh { k.label_zh() } else { k.label_en() })
        .collect();
    let rows = d
        .rows
        .iter()
        .map(|r| RowView {
            group: r.group.clone(),
            customers: r.customers,
            values: r
                .values
                .iter()
                .zip(&d.kpis)
                .map(|(v, k)| show(*v, k.is_share(), none))
                .collect(),
        })
        .collect();
    render(&KpisPage {
        start: d.start.to_string(),
        end: d.end.to_string(),
        customers: d.customers,
        tiles,
        view: d.view.map(|v| v.as_str().to_string()).unwrap_or_default(),
        heads,
        rows,
        layout,
    })
}

async fn csv(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Query(q): Query<KpiQuery>,
) -> Result<Response, PageError> {
    require(&v, Permission::ViewKpis)?;
    let view = q.view.as_deref().or(Some("branch"));
    let d = compute(&app, &v, view).await?;
    let body = view_csv(&d).map_err(PageError::from)?;
    let name = format!(
        "attachment; filename=\"kpis-{}-{}.csv\"",
        d.view.map_or("all", |v| v.as_str()),
        d.end
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        body,
    )
        .into_response())
}
