//! Data quality and import history: information accuracy, completeness and
//! validity per field, quarantined rows by reason, and every imported file
//! with its reconciled counts (read = loaded + merged + rejected).

use super::{render, require, Layout};
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
    ("dq.title", "数据质量与导入记录", "Data quality and imports"),
    ("dq.accuracy", "信息准确率", "Information accuracy"),
    ("dq.acceptance", "导入接受率", "Import acceptance"),
    ("dq.quarantined", "隔离行数", "Rows in quarantine"),
    ("dq.fields", "字段质量", "Field quality"),
    ("dq.entity", "实体", "Entity"),
    ("dq.field", "字段", "Field"),
    ("dq.rows", "行数", "Rows"),
    ("dq.completeness", "完整率", "Completeness"),
    ("dq.validity", "有效率", "Validity"),
    ("dq.reasons", "隔离原因", "Quarantine reasons"),
    ("dq.reason", "原因", "Reason"),
    ("dq.count", "数量", "Count"),
    ("dq.imports", "导入记录", "Import history"),
    ("dq.file", "文件", "File"),
    ("dq.kind", "类型", "Kind"),
    ("dq.read", "读取", "Read"),
    ("dq.loaded", "载入", "Loaded"),
    ("dq.merged", "合并", "Merged"),
    ("dq.rejected", "拒绝", "Rejected"),
    ("dq.started", "开始时间", "Started"),
];

pub fn routes() -> Router<AppState> {
    Router::new().route("/quality", get(quality))
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1}%")).unwrap_or_else(|| "—".into())
}

#[derive(Template)]
#[template(path = "quality.html")]
struct QualityPage {
    layout: Layout,
    accuracy: String,
    acceptance: String,
    quarantined: i64,
    fields: Vec<(String, String, i64, String, String)>,
    reasons: Vec<(String, String, i64)>,
    imports: Vec<rapport_store::ImportRow>,
}

async fn quality(
    State(app): State<AppState>,
    PageUser(v): PageUser,
) -> Result<Response, PageError> {
    require(&v, Permission::ViewDataQuality)?;
    let layout = Layout::new(&app, &v, "/quality", "/quality");
    let dq = rapport_services::kpi::data_quality(&app.services, &v.actor()).await?;
    let q = &dq.report;
    let imports = app.store.imports().await?;
    render(&QualityPage {
        accuracy: pct(dq.information_accuracy.percent),
        acceptance: pct(q.imports.acceptance_percent),
        quarantined: q.quarantined_rows,
        fields: q
            .fields
            .iter()
            .map(|f| {
                (
                    f.entity.clone(),
                    f.field.clone(),
                    f.rows,
                    pct(f.completeness.map(|x| x * 100.0)),
                    pct(f.validity.map(|x| x * 100.0)),
                )
            })
            .collect(),
        reasons: q
            .quarantine
            .iter()
            .map(|r| (r.kind.clone(), r.reason.clone(), r.count))
            .collect(),
        imports,
        layout,
    })
}
