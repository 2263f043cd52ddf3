//! The dashboard: the KPI tiles against their targets (the same tiles as
//! `/kpis` and `GET /api/v1/kpis`, from `rapport_services::kpi::report`), the
//! health distribution, band migration since the previous scoring, and
//! alerts over time — all drawn on the server, all within the viewer's scope.
//! Every figure links to the list behind it: a band to
//! `/customers?band=<band>`, alerts to `/alerts?status=<status>`, the case
//! tiles to `/cases?sla=breached` (see `kpis::drill_down`).

use super::kpis::{tile_views, TileChart, TileView};
use super::{render, Layout};
use crate::auth::{PageUser, Permission};
use crate::charts::{self, Series};
use crate::error::PageError;
use crate::i18n::Text;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

pub const TEXTS: &[Text] = &[
    ("dash.title", "总览", "Dashboard"),
    ("dash.as_of", "评分日期", "Scored as of"),
    ("dash.previous", "上次评分", "previous scoring"),
    ("dash.customers", "客户数", "Customers"),
    ("dash.kpis", "关键指标", "Key indicators"),
    ("dash.target", "目标", "Target"),
    ("dash.health", "健康分布", "Health distribution"),
    ("dash.histogram", "健康分直方图", "Health score histogram"),
    ("dash.migration", "健康等级迁移", "Band migration"),
    ("dash.migration_from", "上次 \\ 本次", "Previous \\ latest"),
    (
        "dash.alerts_over_time",
        "预警趋势（近 90 天）",
        "Alerts over time (90 days)",
    ),
    ("dash.open_alerts", "未关闭预警", "Open alerts"),
    (
        "dash.past_sla",
        "超过 24 小时未处理",
        "New for over 24 hours",
    ),
    (
        "dash.no_scores",
        "尚未评分：运行 rapport score。",
        "Not scored yet: run rapport score.",
    ),
    ("dash.kpi_window", "指标统计区间", "KPI window"),
    ("dash.all_kpis", "全部指标与趋势", "All KPIs and trends"),
    ("sev.low", "低", "Low"),
    ("sev.medium", "中", "Medium"),
    ("sev.high", "高", "High"),
    ("sev.critical", "严重", "Critical"),
];

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(dashboard))
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Layout,
    as_of: String,
    previous: String,
    customers: i64,
    scored: bool,
    /// The KPI window (empty when the viewer may not see KPIs).
    kpi_window: String,
    tiles: Vec<TileView>,
    bands_svg: String,
    histogram_svg: String,
    alerts_svg: String,
    bands: Vec<String>,
    /// rows: from band, then counts per `bands` column.
    migration: Vec<(String, Vec<i64>)>,
    /// (band as words, the customers of that band), in `bands` order.
    band_links: Vec<(String, String)>,
    /// (status as words, count, the alerts of that status).
    open_alerts: Vec<(String, i64, String)>,
    past_sla: i64,
}

async fn dashboard(
    State(app): State<AppState>,
    PageUser(v): PageUser,
) -> Result<Response, PageError> {
    let layout = Layout::new(&app, &v, "/", "/");
    let t = layout.t;
    let d = app.store.dashboard(&v.scope()).await?;
    let kpis = if v.can(Permission::ViewKpis) {
        Some(rapport_services::kpi::report(&app.services, &v.actor(), None, None).await?)
    } else {
        None
    };
    let order = ["healthy", "watch", "at_risk"];
    let count_of = |b: &str| {
        d.bands
            .iter()
            .find(|(x, _)| x == b)
            .map(|x| x.1)
            .unwrap_or(0)
    };
    let bands_svg = charts::bars(
        t.s("dash.health"),
        t.s("common.no_data"),
        &order
            .iter()
            .map(|b| {
                (
                    t.s(&format!("band.{b}")).to_string(),
                    count_of(b) as f64,
                    charts::colour(b),
                )
            })
            .collect::<Vec<_>>(),
    );
    let histogram_svg = charts::bars(
        t.s("dash.histogram"),
        t.s("common.no_data"),
        &d.histogram
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let c = if i < 4 {
                    "at_risk"
                } else if i < 7 {
                    "watch"
                } else {
                    "healthy"
                };
                (format!("{}", i * 10), *n as f64, charts::colour(c))
            })
            .collect::<Vec<_>>(),
    );
    let mut severities: Vec<String> = d.alerts_per_day.iter().map(|x| x.1.clone()).collect();
    severities.sort();
    severities.dedup();
    let series: Vec<Series> = severities
        .iter()
        .map(|s| Series {
            name: t.s(&format!("sev.{s}")).to_string(),
            colour: charts::colour(s),
            points: d
                .alerts_per_day
                .iter()
                .filter(|x| &x.1 == s)
                .map(|x| (x.0.format("%m-%d").to_string(), x.2 as f64))
                .collect(),
        })
        .collect();
    let alerts_svg = charts::lines(
        t.s("dash.alerts_over_time"),
        t.s("common.no_data"),
        &series,
        None,
        &[],
    );
    let migration = order
        .iter()
        .map(|from| {
            (
                t.s(&format!("band.{from}")).to_string(),
                order
                    .iter()
                    .map(|to| {
                        d.migration
                            .iter()
                            .find(|m| m.0 == *from && m.1 == *to)
                            .map(|m| m.2)
                            .unwrap_or(0)
                    })
                    .collect(),
            )
        })
        .collect();
    let page = DashboardPage {
        kpi_window: kpis
            .as_ref()
            .map(|k| format!("{} – {}", k.start, k.end))
            .unwrap_or_default(),
        tiles: kpis
            .as_ref()
            .map(|k| tile_views(k, &t, TileChart::Bar))
            .unwrap_or_default(),
        as_of: d.as_of.map(|x| x.to_string()).unwrap_or_default(),
        previous: d.previous_as_of.map(|x| x.to_string()).unwrap_or_default(),
        customers: d.customers,
        scored: d.as_of.is_some(),
        bands_svg,
        histogram_svg,
        alerts_svg,
        bands: order
            .iter()
            .map(|b| t.s(&format!("band.{b}")).to_string())
            .collect(),
        migration,
        band_links: order
            .iter()
            .map(|b| {
                (
                    t.s(&format!("band.{b}")).to_string(),
                    format!("/customers?band={b}"),
                )
            })
            .collect(),
        open_alerts: d
            .open_alerts
            .iter()
            .map(|(s, n)| {
                (
                    t.s(&format!("status.{s}")).to_string(),
                    *n,
                    format!("/alerts?status={}", super::enc(s)),
                )
            })
            .collect(),
        past_sla: d.alerts_past_sla,
        layout,
    };
    render(&page)
}
