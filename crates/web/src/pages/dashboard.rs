//! The dashboard: KPI tiles against their targets, the health distribution,
//! band migration since the previous scoring, and alerts over time — all
//! drawn on the server, all within the viewer's scope.

use super::{render, Layout};
use crate::auth::PageUser;
use crate::charts::{self, Series};
use crate::error::PageError;
use crate::i18n::{Text, Tr};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use rapport_store::KpiCounts;

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
    (
        "kpi.coverage",
        "渠道覆盖率（90 天内有接触）",
        "Channel coverage (contact in 90 days)",
    ),
    (
        "kpi.response",
        "诉求 24 小时响应率",
        "Demand response within 24 h",
    ),
    (
        "kpi.satisfaction",
        "满意度（4–5 分占比）",
        "Satisfaction (share scoring 4–5)",
    ),
    (
        "kpi.depth",
        "产品深度（人均持有产品）",
        "Product depth (holdings per holder)",
    ),
    (
        "kpi.churn_reduction",
        "流失率较上年下降",
        "Churn reduction vs previous year",
    ),
    (
        "kpi.alert_ack",
        "预警 24 小时确认率",
        "Alerts acknowledged within 24 h",
    ),
    ("kpi.healthy_share", "健康客户占比", "Healthy customers"),
    ("kpi.no_data", "数据不足", "not enough data"),
    ("sev.low", "低", "Low"),
    ("sev.medium", "中", "Medium"),
    ("sev.high", "高", "High"),
    ("sev.critical", "严重", "Critical"),
];

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(dashboard))
}

/// One KPI tile.
pub struct Tile {
    pub key: &'static str,
    pub value: String,
    pub target: String,
    /// met | close | missed | none
    pub state: &'static str,
    pub bar: String,
}

fn ratio(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

fn pct_tile(t: &Tr, key: &'static str, v: Option<f64>, target: f64) -> Tile {
    match v {
        Some(v) => Tile {
            key,
            value: format!("{:.1}%", v * 100.0),
            target: format!("{:.0}%", target * 100.0),
            state: if v >= target {
                "met"
            } else if v >= target * 0.9 {
                "close"
            } else {
                "missed"
            },
            bar: charts::progress(t.s(key), v, target),
        },
        None => Tile {
            key,
            value: t.s("kpi.no_data").to_string(),
            target: format!("{:.0}%", target * 100.0),
            state: "none",
            bar: String::new(),
        },
    }
}

/// The tiles, with the product's targets (C13).
pub fn tiles(t: &Tr, k: &KpiCounts, healthy: i64, scored: i64) -> Vec<Tile> {
    let mut out = vec![
        pct_tile(
            t,
            "kpi.coverage",
            ratio(k.contacted_90d, scored.max(k.holders)),
            0.90,
        ),
        pct_tile(
            t,
            "kpi.response",
            ratio(k.cases_closed_within_1d, k.cases_opened_90d),
            0.95,
        ),
        pct_tile(
            t,
            "kpi.satisfaction",
            ratio(k.survey_satisfied, k.survey_answers),
            0.85,
        ),
        pct_tile(
            t,
            "kpi.alert_ack",
            ratio(k.alerts_acknowledged_24h, k.alerts_90d),
            0.90,
        ),
    ];
    let reduction = (k.churned_year_before > 0)
        .then(|| 1.0 - k.churned_last_year as f64 / k.churned_year_before as f64);
    out.push(pct_tile(t, "kpi.churn_reduction", reduction, 0.20));
    let depth = ratio(k.holdings, k.holders);
    out.push(Tile {
        key: "kpi.depth",
        value: depth
            .map(|d| format!("{d:.2}"))
            .unwrap_or_else(|| t.s("kpi.no_data").into()),
        target: "2.00".into(),
        state: match depth {
            Some(d) if d >= 2.0 => "met",
            Some(d) if d >= 1.8 => "close",
            Some(_) => "missed",
            None => "none",
        },
        bar: depth
            .map(|d| charts::progress(t.s("kpi.depth"), d / 4.0, 0.5))
            .unwrap_or_default(),
    });
    let hs = ratio(healthy, scored);
    out.push(Tile {
        key: "kpi.healthy_share",
        value: hs
            .map(|v| format!("{:.1}%", v * 100.0))
            .unwrap_or_else(|| t.s("kpi.no_data").into()),
        target: "—".into(),
        state: "none",
        bar: String::new(),
    });
    out
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Layout,
    as_of: String,
    previous: String,
    customers: i64,
    scored: bool,
    tiles: Vec<Tile>,
    bands_svg: String,
    histogram_svg: String,
    alerts_svg: String,
    bands: Vec<String>,
    /// rows: from band, then counts per `bands` column.
    migration: Vec<(String, Vec<i64>)>,
    open_alerts: Vec<(String, i64)>,
    past_sla: i64,
}

async fn dashboard(
    State(app): State<AppState>,
    PageUser(v): PageUser,
) -> Result<Response, PageError> {
    let layout = Layout::new(&app, &v, "/", "/");
    let t = layout.t;
    let d = app.store.dashboard(&v.scope()).await?;
    let order = ["healthy", "watch", "at_risk"];
    let count_of = |b: &str| {
        d.bands
            .iter()
            .find(|(x, _)| x == b)
            .map(|x| x.1)
            .unwrap_or(0)
    };
    let scored: i64 = d.bands.iter().map(|x| x.1).sum();
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
        tiles: tiles(&t, &d.kpi, count_of("healthy"), scored),
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
        open_alerts: d
            .open_alerts
            .iter()
            .map(|(s, n)| (t.s(&format!("status.{s}")).to_string(), *n))
            .collect(),
        past_sla: d.alerts_past_sla,
        layout,
    };
    render(&page)
}
