//! The model registry page (`/models`) for the risk officer and the analyst:
//! every version's validation (AUC, KS, Gini, calibration by decile), the
//! drift of its scored populations month by month (PSI against its training
//! population), the activation history, change requests that wait for a
//! second person's approval, and the health-band migration between the last
//! two scoring dates with the at-risk share by date. Figures come from
//! `rapport_services::model_registry` and `rapport_services::risk_monitor`.

use super::{check_csrf, render, require, Layout};
use crate::auth::{PageUser, Permission};
use crate::charts::{self, Series};
use crate::error::PageError;
use crate::i18n::{Text, Tr};
use crate::present::{percent, time};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use rapport_services::error::ServiceError;
use rapport_services::model_registry::{self, Change, VersionView};
use rapport_services::risk_monitor::{self, BandMigration};
use serde::Deserialize;

pub const TEXTS: &[Text] = &[
    ("nav.models", "模型", "Models"),
    ("models.title", "模型登记册", "Model registry"),
    ("models.intro", "各模型版本的验证指标、校准、评分人群的稳定性（PSI，相对训练人群）与启用记录。启用或回退须由另一位有权限的人员批准后生效。", "Each model version's validation, calibration, the stability of the populations it scored (PSI against its training population) and its activations. Activating or rolling back takes effect only once a second authorised person approves."),
    ("models.none", "尚未登记任何模型。", "No model is registered yet."),
    ("models.kind", "模型", "Model"),
    ("models.kind.churn", "客户流失", "Churn"),
    ("models.kind.default", "违约", "Default"),
    ("models.kind.propensity", "购买倾向", "Propensity"),
    ("models.version", "版本", "Version"),
    ("models.algorithm", "算法", "Algorithm"),
    ("models.trained", "训练时间", "Trained"),
    ("models.trained_by", "训练人", "Trained by"),
    ("models.status", "状态", "Status"),
    ("models.active", "生效中", "Active"),
    ("models.inactive", "未生效", "Inactive"),
    ("models.auc", "区分度 AUC", "AUC (ranking power)"),
    ("models.ks", "区分力 KS", "KS (separation)"),
    ("models.gini", "基尼系数 Gini", "Gini coefficient"),
    ("models.latest_psi", "最近人群稳定性 PSI", "Latest stability (PSI)"),
    ("models.population", "训练人群", "Training population"),
    ("models.events", "事件数", "Events"),
    ("models.observation", "观察日", "Observation date"),
    ("models.calibration", "校准（按预测概率十分位）", "Calibration (by decile of predicted probability)"),
    ("models.decile", "十分位", "Decile"),
    ("models.count", "客户数", "Customers"),
    ("models.mean_predicted", "平均预测概率", "Mean predicted"),
    ("models.observed", "实际发生率", "Observed rate"),
    ("models.drift", "人群稳定性（按月）", "Population stability by month"),
    ("models.month", "月份", "Month"),
    ("models.scored_on", "评分日", "Scored as of"),
    ("models.scored", "评分客户数", "Customers scored"),
    ("models.psi", "人群稳定性 PSI", "Stability (PSI)"),
    (
        "models.legend",
        "指标说明：AUC（区分度）为模型把会发生事件的客户排在不会发生的客户之前的概率，0.5 相当于随机，越接近 1 越好；KS（区分力）为两类客户累计分布的最大差距；基尼系数 Gini = 2 × AUC − 1；PSI（人群稳定性指数）衡量评分人群相对训练人群的变化。",
        "The measures: AUC (ranking power) is the chance that the model ranks a customer who has the event above one who does not (0.5 is chance, closer to 1 is better); KS (separation) is the largest gap between the two groups' cumulative distributions; the Gini coefficient is 2 × AUC − 1; PSI (population stability index) measures how far the scored population moved from the training population.",
    ),
    ("models.psi_level", "判断", "Reading"),
    ("models.psi_note", "PSI < 0.1 稳定；0.1–0.25 需关注；≥ 0.25 显著漂移。", "PSI below 0.1 is stable; 0.1–0.25 is a shift to watch; 0.25 or more is drift."),
    ("models.no_drift", "尚无评分记录。", "No scoring recorded yet."),
    ("models.no_data", "暂无数据", "no data"),
    ("models.request_activate", "申请启用", "Request activation"),
    ("models.request_rollback", "申请回退到上一版本", "Request roll-back to the previous version"),
    ("models.requests", "待批准与已处理的变更申请", "Change requests"),
    ("models.no_requests", "暂无变更申请。", "No change request yet."),
    ("models.requested_by", "申请人", "Requested by"),
    ("models.requested_at", "申请时间", "Requested"),
    ("models.action", "操作", "Action"),
    ("models.decided_by", "处理人", "Decided by"),
    ("models.decided_at", "处理时间", "Decided"),
    ("models.approve", "批准", "Approve"),
    ("models.reject", "驳回", "Reject"),
    ("models.history", "启用记录", "Activation history"),
    ("models.no_history", "暂无启用记录。", "No activation yet."),
    ("models.at", "时间", "When"),
    ("models.by", "操作人", "By"),
    ("models.notice.requested", "已提交申请，须由另一位有权限的人员批准后生效。", "Request recorded; it takes effect once a second authorised person approves it."),
    ("models.notice.approved", "已批准，生效版本已变更。", "Approved: the active version has changed."),
    ("models.notice.rejected", "申请已驳回。", "The request was rejected."),
    ("models.notice.self", "申请人不能批准自己的申请，须由另一位有权限的人员批准。", "The requester cannot approve their own request: a second authorised person must."),
    ("models.notice.refused", "该操作未执行：可能已有待批准的申请、申请已处理、该版本已生效或没有可回退的版本。", "Nothing was done: a request may already be waiting, the request was decided already, the version is active already or there is no earlier version to return to."),
    ("models.migration", "健康分层迁移", "Health band migration"),
    ("models.migration_intro", "两次评分均有结果的客户，从上次评分的分层（行）到最近一次评分的分层（列）：人数与占该行的比例。", "Customers scored on both dates, from their band at the earlier date (rows) to their band at the later one (columns): count and share of the row."),
    ("models.migration_none", "需要至少两个评分日才能比较。", "At least two scoring dates are needed to compare."),
    ("models.from_to", "从 → 到", "From → to"),
    ("models.both_dates", "两日均评分的客户", "Customers scored on both dates"),
    ("models.trend", "风险客户占比（按评分日）", "At-risk share by scoring date"),
    ("models.as_of", "评分日", "Scoring date"),
    ("models.customers", "客户数", "Customers"),
    ("models.at_risk", "风险客户", "At risk"),
    ("models.share", "占比", "Share"),
    ("code.model_action.activate", "启用", "Activation"),
    ("code.model_action.rollback", "回退", "Roll-back"),
    ("code.model_request.pending", "待批准", "Waiting for approval"),
    ("code.model_request.approved", "已批准", "Approved"),
    ("code.model_request.rejected", "已驳回", "Rejected"),
    ("code.psi.stable", "稳定", "Stable"),
    ("code.psi.watch", "需关注", "Watch"),
    ("code.psi.drift", "显著漂移", "Drift"),
    ("code.algorithm.scorecard", "评分卡（逻辑回归）", "Scorecard (logistic)"),
    ("code.algorithm.gbdt", "梯度提升树", "Gradient-boosted trees"),
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/models", get(page))
        .route("/models/{id}/activate", post(request_activate))
        .route("/models/rollback", post(request_rollback))
        .route("/models/requests/{id}/approve", post(approve))
        .route("/models/requests/{id}/reject", post(reject))
}

/// A model kind as words: `churn` → 客户流失, `propensity:wealth` → 购买倾向 · wealth.
pub fn kind_word(t: &Tr, kind: &str) -> String {
    match kind.split_once(':') {
        Some((k, category)) => format!(
            "{} · {}",
            t.s(&format!("models.kind.{k}")),
            crate::present::word(t, "category", category)
        ),
        None => t.s(&format!("models.kind.{kind}")).to_string(),
    }
}

fn figure(x: Option<f64>, none: &str) -> String {
    x.map_or_else(|| none.to_string(), |v| format!("{v:.3}"))
}

/// A PSI as shown: three decimals.
pub fn psi_text(psi: f64) -> String {
    format!("{psi:.3}")
}

pub struct DriftRow {
    pub month: String,
    pub as_of: String,
    pub population: i64,
    pub psi: String,
    pub level: &'static str,
    pub level_word: String,
}

pub struct CalRow {
    pub bin: usize,
    pub count: usize,
    pub mean_predicted: String,
    pub observed: String,
}

pub struct VersionRow {
    pub id: i64,
    pub kind: String,
    pub kind_word: String,
    pub version: i64,
    pub algorithm: String,
    pub trained: String,
    pub trained_by: String,
    pub active: bool,
    pub auc: String,
    pub ks: String,
    pub gini: String,
    pub latest_psi: String,
    pub latest_level: &'static str,
    pub latest_level_word: String,
    pub observation: String,
    pub population: String,
    pub events: String,
    pub calibration: Vec<CalRow>,
    pub drift: Vec<DriftRow>,
    pub drift_chart: String,
}

pub struct RequestRow {
    pub id: i64,
    pub kind_word: String,
    pub action_word: String,
    pub target: String,
    pub requested_by: String,
    pub requested_at: String,
    pub status: String,
    pub status_word: String,
    pub decided_by: String,
    pub decided_at: String,
}

pub struct HistoryRow {
    pub kind_word: String,
    pub version: String,
    pub action_word: String,
    pub at: String,
    pub by: String,
}

pub struct Cell {
    pub count: i64,
    pub share: String,
}

pub struct MatrixRow {
    pub band: String,
    pub band_word: String,
    pub cells: Vec<Cell>,
}

pub struct TrendRow {
    pub as_of: String,
    pub customers: i64,
    pub at_risk: i64,
    pub share: String,
}

#[derive(Template)]
#[template(path = "models.html")]
struct ModelsPage {
    layout: Layout,
    notice: Option<String>,
    manage: bool,
    versions: Vec<VersionRow>,
    /// Kinds with an active version (a roll-back may be requested).
    active_kinds: Vec<(String, String)>,
    requests: Vec<RequestRow>,
    history: Vec<HistoryRow>,
    from: String,
    to: String,
    both: i64,
    band_heads: Vec<String>,
    matrix: Vec<MatrixRow>,
    trend: Vec<TrendRow>,
    trend_chart: String,
}

#[derive(Deserialize)]
pub struct ModelsQuery {
    notice: Option<String>,
}

fn version_row(t: &Tr, app: &AppState, v: &VersionView) -> VersionRow {
    let none = t.s("models.no_data");
    let latest = v.latest_drift();
    let drift: Vec<DriftRow> = v
        .drift
        .iter()
        .map(|d| DriftRow {
            month: d.month.clone(),
            as_of: d.as_of.to_string(),
            population: d.population,
            psi: psi_text(d.psi),
            level: d.level.as_str(),
            level_word: crate::present::word(t, "psi", d.level.as_str()),
        })
        .collect();
    let points: Vec<(String, f64)> = v.drift.iter().map(|d| (d.month.clone(), d.psi)).collect();
    // The axis reaches past the drift line (0.25) in steps of 0.4, so its
    // four ticks are whole tenths.
    let highest = points.iter().map(|(_, p)| *p).fold(0.0, f64::max);
    let top = (highest / 0.4).ceil().max(1.0) * 0.4;
    let title = format!(
        "{} v{} · {}",
        kind_word(t, &v.kind),
        v.version,
        t.s("models.psi")
    );
    let drift_chart = charts::lines(
        &title,
        t.s("models.no_drift"),
        &[Series {
            name: t.s("models.psi").into(),
            colour: charts::colour("watch"),
            points,
        }],
        Some(top),
        &[(0.1, t.s("code.psi.watch")), (0.25, t.s("code.psi.drift"))],
    );
    VersionRow {
        id: v.id,
        kind: v.kind.clone(),
        kind_word: kind_word(t, &v.kind),
        version: v.version,
        algorithm: crate::present::word(t, "algorithm", &v.algorithm),
        trained: time(v.trained_at, app.offset()),
        trained_by: v.trained_by.clone(),
        active: v.active,
        auc: figure(v.auc, none),
        ks: figure(v.ks, none),
        gini: figure(v.gini, none),
        latest_psi: latest.map_or_else(|| none.to_string(), |d| psi_text(d.psi)),
        latest_level: latest.map_or("none", |d| d.level.as_str()),
        latest_level_word: latest
            .map(|d| crate::present::word(t, "psi", d.level.as_str()))
            .unwrap_or_default(),
        observation: v.observation_date.clone().unwrap_or_else(|| none.into()),
        population: v.population.map_or_else(|| none.into(), |x| x.to_string()),
        events: v.events.map_or_else(|| none.into(), |x| x.to_string()),
        calibration: v
            .calibration
            .iter()
            .map(|c| CalRow {
                bin: c.bin,
                count: c.count,
                mean_predicted: percent(c.mean_predicted),
                observed: percent(c.observed_rate),
            })
            .collect(),
        drift,
        drift_chart,
    }
}

/// The band migration section's rows and chart.
fn migration_view(
    t: &Tr,
    m: &BandMigration,
) -> (Vec<String>, Vec<MatrixRow>, Vec<TrendRow>, String) {
    let band_word = |b: &str| t.s(&format!("band.{b}")).to_string();
    let heads = m
        .rows
        .first()
        .map(|r| r.iter().map(|c| band_word(&c.to)).collect())
        .unwrap_or_default();
    let matrix = m
        .rows
        .iter()
        .filter_map(|r| {
            let first = r.first()?;
            Some(MatrixRow {
                band: first.from.clone(),
                band_word: band_word(&first.from),
                cells: r
                    .iter()
                    .map(|c| Cell {
                        count: c.customers,
                        share: c.share.map(percent).unwrap_or_default(),
                    })
                    .collect(),
            })
        })
        .collect();
    let trend: Vec<TrendRow> = m
        .trend
        .iter()
        .map(|p| TrendRow {
            as_of: p.as_of.to_string(),
            customers: p.customers,
            at_risk: p.at_risk,
            share: percent(p.share),
        })
        .collect();
    let chart = charts::lines(
        t.s("models.trend"),
        t.s("models.no_data"),
        &[Series {
            name: t.s("band.at_risk").to_string(),
            colour: charts::colour("at_risk"),
            points: m
                .trend
                .iter()
                .map(|p| (p.as_of.to_string(), 100.0 * p.share))
                .collect(),
        }],
        None,
        &[],
    );
    (heads, matrix, trend, chart)
}

async fn page(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Query(q): Query<ModelsQuery>,
) -> Result<Response, PageError> {
    require(&v, Permission::ViewModels)?;
    let actor = v.actor();
    let reg = model_registry::registry(&app.store, &actor).await?;
    let migration = risk_monitor::band_migration(&app.store, &actor).await?;
    let layout = Layout::new(&app, &v, "/models", "/models");
    let t = layout.t;
    let none = t.s("models.no_data");
    let versions: Vec<VersionRow> = reg
        .versions
        .iter()
        .map(|x| version_row(&t, &app, x))
        .collect();
    let mut active_kinds: Vec<(String, String)> = reg
        .versions
        .iter()
        .filter(|x| x.active)
        .map(|x| (x.kind.clone(), kind_word(&t, &x.kind)))
        .collect();
    active_kinds.dedup();
    let version_label = |id: Option<i64>| {
        id.and_then(|id| reg.version(id))
            .map(|x| format!("v{}", x.version))
            .unwrap_or_default()
    };
    let requests = reg
        .requests
        .iter()
        .map(|r| RequestRow {
            id: r.id,
            kind_word: kind_word(&t, &r.kind),
            action_word: crate::present::word(&t, "model_action", &r.action),
            target: version_label(r.model_id.or(r.result_model_id)),
            requested_by: r.requested_by.clone(),
            requested_at: time(r.requested_at, app.offset()),
            status: r.status.clone(),
            status_word: crate::present::word(&t, "model_request", &r.status),
            decided_by: r.decided_by.clone().unwrap_or_default(),
            decided_at: r
                .decided_at
                .map(|d| time(d, app.offset()))
                .unwrap_or_default(),
        })
        .collect();
    let history = reg
        .activations
        .iter()
        .map(|a| HistoryRow {
            kind_word: kind_word(&t, &a.kind),
            version: a.version.map_or_else(|| none.into(), |x| format!("v{x}")),
            action_word: crate::present::word(&t, "model_action", &a.action),
            at: time(a.at, app.offset()),
            by: a.by.clone(),
        })
        .collect();
    let (band_heads, matrix, trend, trend_chart) = migration_view(&t, &migration);
    let notice = q.notice.as_deref().and_then(|n| match n {
        "requested" | "approved" | "rejected" | "self" | "refused" => {
            Some(t.s(&format!("models.notice.{n}")).to_string())
        }
        _ => None,
    });
    render(&ModelsPage {
        notice,
        manage: v.can(Permission::ManageModels),
        versions,
        active_kinds,
        requests,
        history,
        from: migration.from.map(|d| d.to_string()).unwrap_or_default(),
        to: migration.to.map(|d| d.to_string()).unwrap_or_default(),
        both: migration.customers,
        band_heads,
        matrix,
        trend,
        trend_chart,
        layout,
    })
}

/// Where a decision sends the browser back to: the page with a notice; a
/// refusal of the rules (self-approval, a request already decided…) is
/// shown on the page, not as an error page.
fn back(result: Result<&'static str, ServiceError>) -> Result<Response, PageError> {
    match result {
        Ok(n) => Ok(Redirect::to(&format!("/models?notice={n}")).into_response()),
        Err(ServiceError::Refused(_)) => Ok(Redirect::to("/models?notice=self").into_response()),
        Err(
            ServiceError::Conflict(_)
            | ServiceError::InvalidTransition(_)
            | ServiceError::NotFound(_),
        ) => Ok(Redirect::to("/models?notice=refused").into_response()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

#[derive(Deserialize)]
struct RollbackForm {
    csrf: String,
    kind: String,
}

async fn request_activate(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    require(&v, Permission::ManageModels)?;
    let r = model_registry::request_change(&app.store, &v.actor(), "web", "", Change::Activate(id))
        .await
        .map(|_| "requested");
    back(r)
}

async fn request_rollback(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Form(f): Form<RollbackForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    require(&v, Permission::ManageModels)?;
    let r =
        model_registry::request_change(&app.store, &v.actor(), "web", &f.kind, Change::Rollback)
            .await
            .map(|_| "requested");
    back(r)
}

async fn approve(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    require(&v, Permission::ManageModels)?;
    let r = model_registry::approve_change(&app.store, &v.actor(), "web", id)
        .await
        .map(|_| "approved");
    back(r)
}

async fn reject(
    State(app): State<AppState>,
    PageUser(v): PageUser,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    require(&v, Permission::ManageModels)?;
    let r = model_registry::reject_change(&app.store, &v.actor(), "web", id)
        .await
        .map(|_| "rejected");
    back(r)
}
