//! Holiday demand (`/holiday`): around one Chinese public holiday and year,
//! what customers spend, withdraw and transfer per segment and category
//! against past years, the forecast with its interval, a chart of past
//! years against the forecast, and the need segments the forecast produces,
//! each with a link to create a campaign for it. `POST /holiday/save` saves
//! the need segments (audited) so that a campaign can target them.
//!
//! Every figure comes from `rapport_services::holiday` (the analysis is
//! `rapport_analytics::holiday`); this module only shows it.

use super::{check_csrf, enc, render, require, Layout};
use crate::auth::{PageUser, Permission};
use crate::error::PageError;
use crate::html_escape as esc;
use crate::i18n::{Text, Tr};
use crate::present::{money_f, word};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use rapport_analytics::holiday::{HolidayCode, IntervalMethod};
use rapport_services::holiday::{demand_view, save_need_segments, DemandChart};
use serde::Deserialize;
use std::fmt::Write as _;

pub const TEXTS: &[Text] = &[
    ("nav.holiday", "节日需求", "Holiday demand"),
    ("holiday.title", "节日需求预测", "Holiday demand forecast"),
    ("holiday.holiday", "节日", "Holiday"),
    ("holiday.year", "年份", "Year"),
    ("holiday.show", "查看", "Show"),
    ("holiday.window", "节日窗口", "Holiday window"),
    ("holiday.days_off", "放假", "days off"),
    ("holiday.pre_days", "节前天数", "pre-holiday days"),
    (
        "holiday.provisional",
        "放假安排尚未正式公布，按规则推算。",
        "No official notice yet: the days off are computed from the rules.",
    ),
    ("holiday.data_to", "数据截至", "Data up to"),
    ("holiday.baseline", "近期基线", "Recent baseline"),
    ("holiday.ordinary_days", "个普通日", "ordinary days"),
    ("holiday.past_years", "历年对比", "Past years"),
    (
        "holiday.no_past",
        "没有覆盖节日窗口及其基线的往年数据，无法计算提升和预测。",
        "No past year with data covering its window and baseline: no uplift, no forecast.",
    ),
    ("holiday.chart", "往年与预测（全部客户，日均）", "Past years and forecast (all customers, per day)"),
    ("holiday.chart.past", "往年实际", "past years"),
    ("holiday.chart.forecast", "预测", "forecast"),
    ("holiday.chart.interval", "预测区间", "interval"),
    ("holiday.demand", "按客群和类别的需求", "Demand by segment and category"),
    ("holiday.segment", "客群", "Segment"),
    ("holiday.category", "类别", "Category"),
    ("holiday.customers", "客户数", "Customers"),
    ("holiday.baseline_day", "基线日均", "Baseline per day"),
    ("holiday.window_day", "窗口日均", "window per day"),
    ("holiday.uplift", "提升倍数", "uplift"),
    ("holiday.forecast_day", "预测日均", "Forecast per day"),
    ("holiday.interval", "区间", "Interval"),
    ("holiday.method", "区间方法", "Interval method"),
    ("holiday.trend", "年增长", "Trend per year"),
    (
        "holiday.explain",
        "窗口日均 = 节日窗口（节前几天加放假日）内每天的流出金额；提升倍数 = 窗口日均 ÷ 窗口前28个普通日的日均；预测 = 近期基线日均 × 趋势 × 历年平均提升倍数。",
        "Window per day = outflow per day in the holiday window (pre-holiday days and days off); uplift = window per day ÷ per day in the 28 ordinary days before the window; forecast = recent baseline per day × trend × mean uplift of the past years.",
    ),
    ("holiday.needs", "节日服务需求客群", "Customers likely to need a service"),
    ("holiday.need", "需求", "Need"),
    ("holiday.size", "客户数", "Customers"),
    ("holiday.saved", "已保存为客群", "Saved as a segment"),
    ("holiday.not_saved", "未保存", "Not saved"),
    ("holiday.create_campaign", "创建营销活动", "Create a campaign"),
    ("holiday.save", "保存需求客群", "Save the need segments"),
    (
        "holiday.save_note",
        "活动只能面向已保存的客群。",
        "A campaign can only target a saved segment.",
    ),
    ("holiday.cluster", "聚类客群", "Cluster"),
    ("code.holiday.new_year", "元旦", "New Year"),
    ("code.holiday.spring_festival", "春节", "Spring Festival"),
    ("code.holiday.qingming", "清明节", "Qingming"),
    ("code.holiday.labour_day", "劳动节", "Labour Day"),
    ("code.holiday.dragon_boat", "端午节", "Dragon Boat Festival"),
    ("code.holiday.mid_autumn", "中秋节", "Mid-Autumn Festival"),
    ("code.holiday.national_day", "国庆节", "National Day"),
    ("code.demand_group.spending", "消费", "Spending"),
    ("code.demand_group.cash", "取现", "Cash withdrawals"),
    ("code.demand_group.transfers", "转出", "Transfers out"),
    ("code.holiday_need.liquidity", "可能现金不足", "may run short of cash"),
    ("code.holiday_need.card_limit", "可能需要提升信用卡额度", "may need a card limit increase"),
    ("code.holiday_need.travel", "节日出行客户", "holiday travellers"),
    ("code.interval_method.t_mean95", "历年均值 95% t 区间", "95% t-interval over the years"),
    ("code.interval_method.min_max", "历年最小至最大", "lowest to highest year"),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/holiday", get(page))
        .route("/holiday/save", post(save))
}

#[derive(Deserialize)]
pub struct HolidayQuery {
    holiday: Option<String>,
    year: Option<String>,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct PastCell {
    pub window: String,
    pub uplift: String,
}

pub struct RowView {
    pub segment: String,
    pub group: String,
    pub group_code: &'static str,
    pub all: bool,
    pub customers: usize,
    pub baseline: String,
    pub past: Vec<PastCell>,
    pub forecast: String,
    pub low: String,
    pub high: String,
    pub method: String,
    pub trend: String,
}

/// A chart with its visible caption (the category group).
pub struct ChartView {
    pub caption: String,
    pub svg: String,
}

pub struct NeedView {
    pub code: String,
    pub name: String,
    pub size: usize,
    pub saved: bool,
    pub href: String,
}

#[derive(Template)]
#[template(path = "holiday.html")]
struct HolidayPage {
    layout: Layout,
    holidays: Vec<Choice>,
    years: Vec<Choice>,
    holiday_code: String,
    holiday: String,
    year: i32,
    window: String,
    days_off: String,
    pre_days: u32,
    provisional: bool,
    data_to: String,
    baseline: String,
    baseline_days: usize,
    past_years: Vec<i32>,
    charts: Vec<ChartView>,
    rows: Vec<RowView>,
    needs: Vec<NeedView>,
    can_save: bool,
}

/// A stored segment's code as words (the segments page's one source of
/// segment names).
fn segment_word(t: &Tr, code: &str, name: &str) -> String {
    super::segments::words(t, code, name, "").0
}

fn uplift(u: Option<f64>) -> String {
    u.map_or_else(|| "–".to_string(), |u| format!("×{u:.2}"))
}

async fn page(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Query(q): Query<HolidayQuery>,
) -> Result<Response, PageError> {
    require(&v, Permission::ViewEngagement)?;
    let holiday = q
        .holiday
        .as_deref()
        .map(str::trim)
        .filter(|h| HolidayCode::parse(h).is_ok());
    let year = q.year.as_deref().and_then(|y| y.trim().parse::<i32>().ok());
    let view = demand_view(&app.store, &v.actor(), holiday, year).await?;
    let r = &view.report;
    let here = format!("/holiday?holiday={}&year={}", r.holiday, r.year);
    let layout = Layout::new(&app, &v, "/holiday", &here);
    let t = layout.t;
    let holiday_word = word(&t, "holiday", r.holiday.as_str());
    let past_years: Vec<i32> = r.past_years.iter().map(|y| y.year).collect();
    let rows = r
        .rows
        .iter()
        .map(|row| RowView {
            segment: segment_word(&t, &row.segment, &row.segment_name),
            group: word(&t, "demand_group", row.group.as_str()),
            group_code: row.group.as_str(),
            all: row.segment == "all",
            customers: row.customers,
            baseline: money_f(row.recent_baseline_per_day),
            past: past_years
                .iter()
                .map(|y| match row.past.iter().find(|p| p.year == *y) {
                    Some(p) => PastCell {
                        window: money_f(p.window_per_day),
                        uplift: uplift(p.uplift),
                    },
                    None => PastCell {
                        window: "–".into(),
                        uplift: String::new(),
                    },
                })
                .collect(),
            forecast: row
                .forecast
                .as_ref()
                .map_or_else(|| "–".into(), |f| money_f(f.per_day)),
            low: row
                .forecast
                .as_ref()
                .map_or_else(String::new, |f| money_f(f.low_per_day)),
            high: row
                .forecast
                .as_ref()
                .map_or_else(String::new, |f| money_f(f.high_per_day)),
            method: row.forecast.as_ref().map_or_else(String::new, |f| {
                let m = match f.method {
                    IntervalMethod::TMean95 => "t_mean95",
                    IntervalMethod::MinMax => "min_max",
                };
                word(&t, "interval_method", m)
            }),
            trend: row
                .forecast
                .as_ref()
                .and_then(|f| f.level_growth_per_year)
                .map_or_else(|| "–".into(), |g| format!("{:+.1}%", (g - 1.0) * 100.0)),
        })
        .collect();
    let needs = r
        .needs
        .iter()
        .map(|n| {
            let need = n.code.rsplit(':').next().unwrap_or_default();
            NeedView {
                name: format!(
                    "{holiday_word} {}{}{}",
                    r.year,
                    if t.lang == crate::i18n::Lang::ZhCn {
                        "："
                    } else {
                        ": "
                    },
                    word(&t, "holiday_need", need)
                ),
                size: n.size,
                saved: view.saved_needs.contains(&n.code),
                href: format!("/campaigns/new?segment={}", enc(&n.code)),
                code: n.code.clone(),
            }
        })
        .collect();
    let charts = view
        .charts
        .iter()
        .map(|c| ChartView {
            caption: word(&t, "demand_group", c.group.as_str()),
            svg: demand_chart(&t, &holiday_word, c),
        })
        .collect();
    render(&HolidayPage {
        holidays: view
            .holidays
            .iter()
            .map(|h| Choice {
                value: h.as_str().to_string(),
                label: word(&t, "holiday", h.as_str()),
                selected: *h == r.holiday,
            })
            .collect(),
        years: view
            .years
            .iter()
            .map(|y| Choice {
                value: y.to_string(),
                label: y.to_string(),
                selected: *y == r.year,
            })
            .collect(),
        holiday_code: r.holiday.as_str().to_string(),
        holiday: holiday_word,
        year: r.year,
        window: format!("{} – {}", r.window.first, r.window.last),
        days_off: format!("{} – {}", r.days_off.first, r.days_off.last),
        pre_days: r.pre_holiday_days,
        provisional: r.provisional_calendar,
        data_to: r.data_as_of.pred_opt().unwrap_or(r.data_as_of).to_string(),
        baseline: format!("{} – {}", r.recent_baseline.first, r.recent_baseline.last),
        baseline_days: r.recent_baseline.days.len(),
        past_years,
        charts,
        rows,
        needs,
        can_save: v.can(Permission::RunCampaigns),
        layout,
    })
}

#[derive(Deserialize)]
struct SaveForm {
    csrf: String,
    holiday: String,
    year: i32,
}

async fn save(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Form(f): Form<SaveForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    require(&v, Permission::RunCampaigns)?;
    let holiday =
        HolidayCode::parse(f.holiday.trim()).map_err(|e| PageError::BadRequest(e.to_string()))?;
    save_need_segments(&app.store, &v.actor(), "web", holiday.as_str(), f.year).await?;
    Ok(Redirect::to(&format!(
        "/holiday?holiday={}&year={}#needs",
        holiday.as_str(),
        f.year
    ))
    .into_response())
}

const W: f64 = 640.0;
const H: f64 = 280.0;
const LEFT: f64 = 96.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 56.0;
const PAST: &str = "#1f5fbf";
const FORECAST: &str = "#e07000";

/// Bars of the past years and of the forecast with its interval as a
/// whisker, drawn as SVG (sized in CSS: 580 px wide, text 14 px in a 640-wide view box, so at least 12 px on screen); every
/// text escaped, amounts shown with [`money_f`].
fn demand_chart(t: &Tr, holiday: &str, c: &DemandChart) -> String {
    let title = format!(
        "{holiday}: {} — {}",
        word(t, "demand_group", c.group.as_str()),
        t.s("holiday.chart")
    );
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-label=\"{t_}\" data-group=\"{g}\"><title>{t_}</title>",
        t_ = esc(&title),
        g = c.group.as_str()
    );
    let top = c
        .bars
        .iter()
        .map(|b| b.interval.map_or(b.per_day, |(_, hi)| hi.max(b.per_day)))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    if c.bars.is_empty() || top <= 0.0 {
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text></svg>",
            W / 2.0,
            H / 2.0,
            esc(t.s("holiday.no_past"))
        );
        return s;
    }
    let max = nice_max(top);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let y_of = |v: f64| TOP + plot_h * (1.0 - v.clamp(0.0, max) / max);
    for i in 0..=4 {
        let v = max * f64::from(i) / 4.0;
        let y = y_of(v);
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#dde2ea\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            esc(&money_f(v))
        );
    }
    let slot = plot_w / c.bars.len() as f64;
    for (i, b) in c.bars.iter().enumerate() {
        let forecast = b.interval.is_some();
        let colour = if forecast { FORECAST } else { PAST };
        let v = if b.per_day.is_finite() {
            b.per_day.max(0.0)
        } else {
            0.0
        };
        let x = LEFT + slot * i as f64 + slot * 0.2;
        let w = slot * 0.6;
        let label = match b.interval {
            Some((lo, hi)) => format!(
                "{} {}: {} [{} – {}]",
                b.year,
                t.s("holiday.chart.forecast"),
                money_f(v),
                money_f(lo),
                money_f(hi)
            ),
            None => format!("{}: {}", b.year, money_f(v)),
        };
        let _ = write!(
            s,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{colour}\"><title>{}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            y_of(v),
            TOP + plot_h - y_of(v),
            esc(&label),
            x + w / 2.0,
            H - BOTTOM + 18.0,
            b.year
        );
        if let Some((lo, hi)) = b.interval {
            let cx = x + w / 2.0;
            let _ = write!(
                s,
                "<line x1=\"{cx:.1}\" x2=\"{cx:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#1d2433\" stroke-width=\"2\"/>\
                 <line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#1d2433\" stroke-width=\"2\"/>\
                 <line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#1d2433\" stroke-width=\"2\"/>",
                y_of(lo),
                y_of(hi),
                cx - 8.0,
                cx + 8.0,
                y_of(lo),
                y_of(lo),
                cx - 8.0,
                cx + 8.0,
                y_of(hi),
                y_of(hi),
            );
        }
    }
    // Legend.
    let ly = H - 14.0;
    let items = [
        (PAST, t.s("holiday.chart.past")),
        (FORECAST, t.s("holiday.chart.forecast")),
        ("#1d2433", t.s("holiday.chart.interval")),
    ];
    for (k, (colour, name)) in items.iter().enumerate() {
        let lx = LEFT + 170.0 * k as f64;
        let _ = write!(
            s,
            "<rect x=\"{lx:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{colour}\"/><text x=\"{:.1}\" y=\"{ly:.1}\">{}</text>",
            ly - 11.0,
            lx + 18.0,
            esc(name)
        );
    }
    s.push_str("</svg>");
    s
}

/// A rounder maximum for the axis (1, 2, 5 × 10^k).
fn nice_max(v: f64) -> f64 {
    if !v.is_finite() || v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if v <= m * p {
            return m * p;
        }
    }
    10.0 * p
}
