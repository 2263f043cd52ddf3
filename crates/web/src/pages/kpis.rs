//! The KPI dashboard page (`/kpis`): every KPI of the viewer's scope against
//! its configured target with a monthly trend, a view by segment, branch or
//! RM, and the view as CSV (`/kpis.csv`). Figures from `rapport_services::kpi`.

use super::{render, Layout};
use crate::auth::PageUser;
use crate::charts::{self, Series};
use crate::error::PageError;
use crate::i18n::{Lang, Text, Tr};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rapport_analytics::kpi::Kpi;
use rapport_services::kpi::{report, report_with_trends, view_csv, KpiDashboard, Tile, ViewBy};
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
    ("kpis.no_target", "未设目标", "no target"),
    ("kpis.trend_of", "各组月度趋势", "Monthly trend per group"),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/kpis", get(page))
        .route("/kpis.csv", get(csv))
}

#[derive(Deserialize)]
pub struct KpiQuery {
    view: Option<String>,
    /// The KPI whose monthly trend each group of the view shows.
    trend: Option<String>,
}

/// A KPI tile as shown: label in the page's language, value, target and
/// state (met, missed or none), and a chart.
pub struct TileView {
    pub kpi: &'static str,
    /// The list behind the figure (drill-down).
    pub href: &'static str,
    pub label: String,
    pub value: String,
    pub target: String,
    pub state: &'static str,
    pub chart: String,
}

/// How a tile is drawn: its monthly trend (the `/kpis` page) or a bar
/// against the target (the home dashboard).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TileChart {
    Trend,
    Bar,
}

/// The tiles of `d` as shown in `t`'s language: the one rendering of a KPI
/// tile, used by the `/kpis` page and the home dashboard.
pub fn tile_views(d: &KpiDashboard, t: &Tr, chart: TileChart) -> Vec<TileView> {
    d.tiles
        .iter()
        .map(|tile| tile_view(tile, t, chart))
        .collect()
}

fn tile_view(tile: &Tile, t: &Tr, chart: TileChart) -> TileView {
    let zh = t.lang == Lang::ZhCn;
    let none = t.s("kpis.no_data");
    let share = tile.is_share;
    let label = if zh { &tile.label_zh } else { &tile.label_en }.clone();
    let chart = match chart {
        TileChart::Trend => {
            let points: Vec<(String, f64)> = tile
                .trend
                .iter()
                .filter_map(|(m, v)| v.map(|x| (m.clone(), if share { 100.0 * x } else { x })))
                .collect();
            let guide: Vec<(f64, &str)> = tile
                .target
                .map(|x| (if share { 100.0 * x } else { x }, t.s("kpis.target")))
                .into_iter()
                .collect();
            charts::lines(
                &label,
                none,
                &[Series {
                    name: label.clone(),
                    colour: charts::colour("healthy"),
                    points,
                }],
                None,
                &guide,
            )
        }
        TileChart::Bar => match (tile.value, share) {
            (Some(v), true) => charts::progress(&label, v, tile.target.unwrap_or(0.0)),
            _ => String::new(),
        },
    };
    TileView {
        kpi: tile.kpi.as_str(),
        href: drill_down(tile.kpi),
        value: show(tile.value, share, none),
        target: match tile.target {
            Some(x) => show(Some(x), share, none),
            None => t.s("kpis.no_target").to_string(),
        },
        state: match tile.meets_target {
            Some(true) => "met",
            Some(false) => "missed",
            None => "none",
        },
        chart,
        label,
    }
}

/// The list behind a KPI's figure: the customers of a band, the new
/// alerts, the cases past their SLA; the breakdown by RM for the rest.
pub fn drill_down(k: Kpi) -> &'static str {
    match k {
        Kpi::HealthyShare => "/customers?band=healthy",
        Kpi::WatchShare => "/customers?band=watch",
        Kpi::AtRiskShare => "/customers?band=at_risk",
        Kpi::AlertsAcknowledged24h => "/alerts?status=new",
        Kpi::CaseSlaAttainment | Kpi::DemandResponse24h => "/cases?sla=breached",
        _ => "/kpis?view=rm",
    }
}

pub struct RowView {
    pub group: String,
    pub customers: usize,
    /// (KPI key, value as shown), in the tiles' order.
    pub values: Vec<(&'static str, String)>,
    /// The group's monthly trend of the chosen KPI.
    pub trend: String,
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
    heads: Vec<String>,
    rows: Vec<RowView>,
    /// The KPI whose trend the rows show: (key, label) of every KPI and the chosen key.
    trend_choices: Vec<(&'static str, String)>,
    trend: &'static str,
    trend_label: String,
}

/// A value as shown: a share in per cent with one decimal, otherwise two decimals.
pub fn show(v: Option<f64>, share: bool, none: &str) -> String {
    match v {
        None => none.to_string(),
        Some(x) if share => format!("{:.1}%", 100.0 * x),
        Some(x) => format!("{x:.2}"),
    }
}

async fn page(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Query(q): Query<KpiQuery>,
) -> Result<Response, PageError> {
    let view = q.view.as_deref().and_then(ViewBy::parse);
    let (d, trends) = report_with_trends(&app.services, &v.actor(), view, None).await?;
    let trend_kpi = q
        .trend
        .as_deref()
        .and_then(Kpi::parse)
        .unwrap_or(Kpi::DemandResponse24h);
    let trend_at = d.kpis.iter().position(|k| *k == trend_kpi).unwrap_or(0);
    // The language switch comes back to the same view.
    let here = match d.view {
        Some(by) => format!("/kpis?view={}&trend={}", by.as_str(), trend_kpi.as_str()),
        None => "/kpis".to_string(),
    };
    let layout = Layout::new(&app, &v, "/kpis", &here);
    let t = layout.t;
    let none = t.s("kpis.no_data");
    let tiles = tile_views(&d, &t, TileChart::Trend);
    let heads = tiles.iter().map(|x| x.label.clone()).collect();
    let segments = if d.view == Some(ViewBy::Segment) {
        app.store.segments().await?
    } else {
        Vec::new()
    };
    let group_name = |g: &str| match segments.iter().find(|s| s.code == g) {
        Some(s) => super::segments::words(&t, &s.code, &s.name, &s.description).0,
        None => g.to_string(),
    };
    let rows = d
        .rows
        .iter()
        .map(|r| RowView {
            trend: trends
                .iter()
                .find(|g| g.group == r.group)
                .map(|g| {
                    let title = format!(
                        "{} · {} – {}",
                        group_name(&r.group),
                        g.months.first().cloned().unwrap_or_default(),
                        g.months.last().cloned().unwrap_or_default()
                    );
                    charts::sparkline(&title, &g.values[trend_at])
                })
                .unwrap_or_default(),
            group: group_name(&r.group),
            customers: r.customers,
            values: r
                .values
                .iter()
                .zip(&d.kpis)
                .map(|(v, k)| (k.as_str(), show(*v, k.is_share(), none)))
                .collect(),
        })
        .collect();
    let trend_choices: Vec<(&'static str, String)> =
        tiles.iter().map(|x| (x.kpi, x.label.clone())).collect();
    let trend_label = trend_choices
        .iter()
        .find(|c| c.0 == trend_kpi.as_str())
        .map(|c| c.1.clone())
        .unwrap_or_default();
    render(&KpisPage {
        trend_choices,
        trend: trend_kpi.as_str(),
        trend_label,
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
    let view = q
        .view
        .as_deref()
        .and_then(ViewBy::parse)
        .unwrap_or(ViewBy::Branch);
    let d = report(&app.services, &v.actor(), Some(view), None).await?;
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
